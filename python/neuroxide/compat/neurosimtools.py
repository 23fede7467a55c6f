"""Rosenbaum's NeuroSimTools models (``neurosimtools/NeuroRNN.py``) over the neuroxide engine.

- :class:`SpikingModel` (``NeuronModel='EIF'``): ``forward(x0, dt, x, T, initial_V, initial_Y,
  dtRecord, Tburn, VIRecord)`` → the ``SimResults`` dict (``r``, ``S``, ``Y``, ``V``). The
  network runs as one EIF population (forward Euler, no refractory period, voltage floor
  ``Vlb``) with NeuroSimTools' filtered synapses ``Y ← Y + (dt/τ)(−Y + S)``, the recurrent
  matrix as explicit couplings and ``x0 + J_x x`` as a per-step input.
- :class:`RateModel`: ``forward(x, Nt, initial_state, return_time_series,
  store_hidden_history)``. R-type ``r ← r + η(−r + f(J r + b + J_x x))`` runs as a rate network
  stepped by forward Euler with ``dt/τ = η``; Z-type ``z ← z + η(−z + J f(z) + b + J_x x)`` runs
  through the training crate's model (``rate_history`` holds f(z); ``hidden_state`` the final z).
  The readout ``J_out r + b_out`` is applied to the rates. ``fit(x, target, mask, loss,
  optimizer, lr, epochs)`` replaces the user's PyTorch loop: full-batch BPTT steps on
  (batch, time, features) data, updating ``J``, ``Jx``, ``Jout``, ``bias``, ``bout`` in place.

Not available yet (``NotImplementedError``): the LIF and callable neuron models (neuroxide's
LIF models fix their own synapses), ``Conv2dRateModel``, and ``parameters()`` for a torch
optimiser (use ``fit``). Inputs and outputs are NumPy
arrays (torch tensors are accepted as inputs); time is in ms as in NeuroSimTools' examples.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import Network, _neuroxide
from ._files import Files, numpy, spike_counts

EIF_DEFAULTS = {"taum": 10.0, "EL": -72.0, "Vth": 0.0, "Vre": -72.0, "VT": -55.0, "DT": 1.0,
                "Vlb": -85.0}


class SpikingModel:
    """``SpikingModel(recurrent, tausyn, readin=None, NeuronModel='EIF', NeuronParams={})``."""

    def __init__(self, recurrent: Any, tausyn: Any, readin: Any = None, NeuronModel: Any = "EIF",
                 NeuronParams: dict[str, float] | None = None, seed: int = 0):
        if NeuronModel != "EIF":
            raise NotImplementedError(
                f"SpikingModel(NeuronModel={NeuronModel!r}): only 'EIF' is available (neuroxide's "
                "LIF models come with their own synapses, not NeuroSimTools' filtered ones)"
            )
        self.recurrent = numpy(recurrent)
        n = self.recurrent.shape[0]
        if self.recurrent.shape != (n, n):
            raise ValueError(f"recurrent: expected an N×N matrix, got shape {self.recurrent.shape}")
        self.N_recurrent = n
        self.readin = None if readin is None or readin is False else numpy(readin)
        self.N_input = n if self.readin is None else self.readin.shape[1]
        self.NeuronModel = NeuronModel
        self.NeuronParams = {**EIF_DEFAULTS, **(NeuronParams or {})}
        unknown = set(self.NeuronParams) - set(EIF_DEFAULTS)
        if unknown:
            raise ValueError(f"NeuronParams: unknown keys {sorted(unknown)}, expected {sorted(EIF_DEFAULTS)}")
        self.tausyn = self._synaptic_taus(np.broadcast_to(numpy(tausyn), (n,)))
        self.seed = seed
        self._V = self._Y = None

    def _synaptic_taus(self, tau: np.ndarray) -> tuple[float, float]:
        """(τ_exc, τ_inh): NeuroSimTools filters each presynaptic neuron's train with its own τ;
        neuroxide's synapses pick τ by the sign of the weight, which is the same when every
        neuron with excitatory (inhibitory) outputs has the same τ."""
        if np.all(tau == tau[0]):
            return float(tau[0]), float(tau[0])
        exc = np.any(self.recurrent > 0, axis=0)
        inh = np.any(self.recurrent < 0, axis=0)
        if np.any(exc & inh) or len(set(tau[exc])) > 1 or len(set(tau[inh])) > 1:
            raise NotImplementedError(
                "tausyn: per-neuron time constants must be one value for the neurons with "
                "excitatory outputs and one for those with inhibitory outputs (Dale's law)"
            )
        return (float(tau[exc][0]) if exc.any() else float(tau[0]),
                float(tau[inh][0]) if inh.any() else float(tau[0]))

    def forward(self, x0: Any, dt: float, x: Any = None, T: float | None = None,
                initial_V: Any = "random", initial_Y: Any = "zero", dtRecord: float | None = None,
                Tburn: float = 0, VIRecord: Any = ()) -> dict[str, Any]:
        x0 = numpy(x0)
        if x0.ndim == 1:
            x0 = x0[None]
        batch, n = x0.shape
        if n != self.N_recurrent:
            raise ValueError(f"x0: expected shape (B, {self.N_recurrent}), got {x0.shape}")
        if x is not None:
            x = numpy(x)
            if x.ndim == 3:
                steps = x.shape[1]
                T = steps * dt
            elif T is None:
                raise ValueError("x of shape (B, Nx) is constant: give T")
        elif T is None:
            raise ValueError("give x (B, Nt, Nx) or T")
        steps = int(round(T / dt))
        drive = np.broadcast_to(x0[:, None, :], (batch, steps, n)).copy()
        if x is not None:
            extra = x if self.readin is None else x @ self.readin.T
            drive += extra if extra.ndim == 3 else extra[:, None, :]
        p = self.NeuronParams
        files = Files()
        initial: dict[str, Any] = {}
        if isinstance(initial_V, str) and initial_V == "random":
            initial["v"] = "random"
        elif isinstance(initial_V, str) and initial_V == "zero":
            initial["v"] = {"constant": p["Vre"]}
        elif isinstance(initial_V, str) and initial_V == "keep":
            if self._V is None or self._V.shape[0] != batch:
                initial["v"] = "random"
            else:
                initial["v"] = {"file": files.save("v0", self._V)}
        else:
            initial["v"] = {"file": files.save("v0", np.broadcast_to(numpy(initial_V), (batch, n)))}
        if not (isinstance(initial_Y, str) and initial_Y == "zero"):
            raise NotImplementedError("initial_Y: only 'zero' (synapses start empty)")
        record = [int(i) for i in VIRecord]
        tau_e, tau_i = self.tausyn
        spec = {
            "name": "neurosimtools_spiking",
            "dt": f"{dt} ms", "duration": f"{steps * dt} ms", "seed": self.seed,
            "precision": "f64", "lanes": batch,
            "populations": {"N": {
                "size": n, "model": "eif",
                "neuron": {"tau_m": f"{p['taum']} ms", "c_m": f"{p['taum']} pF",
                           "e_l": f"{p['EL']} mV", "v_t": f"{p['VT']} mV",
                           "delta_t": f"{p['DT']} mV", "v_th": f"{p['Vth']} mV",
                           "v_reset": f"{p['Vre']} mV", "v_min": f"{p['Vlb']} mV",
                           "t_ref": "0 ms", "integration": "euler"},
                "synapse": {"kind": "filtered", "tau_exc": f"{tau_e} ms", "tau_inh": f"{tau_i} ms"},
                "initial": initial,
            }},
            "projections": {"NN": {"pre": "N", "post": "N",
                                   "rule": {"explicit": {"file": files.save("J", self.recurrent)}},
                                   "weight": 1.0, "scaling": "raw"}},
            "inputs": {"x": {"target": "N", "file": files.save("x", drive)}},
            "monitors": [{"population": "N", "variable": "spikes"}],
        }
        if record:
            spec["monitors"].append({"population": "N", "variable": "v", "every": f"{dt} ms",
                                     "neurons": {"list": record}, "mean": False})
        # The data files live as long as the results' spec may be rerun.
        self._files = files
        results = Network(spec).run()
        counts = spike_counts(results["N.spikes"], batch, steps, n)
        t = np.arange(steps) * dt
        burn = t >= Tburn
        out: dict[str, Any] = {"r": counts[:, burn].sum(axis=1) / (T - Tburn)}
        if dtRecord is not None:
            per_bin = int(round(dtRecord / dt))
            bins = steps // per_bin
            binned = counts[:, : bins * per_bin].reshape(batch, bins, per_bin, n)
            out["S"] = binned.sum(axis=2) / dtRecord
            y = np.zeros((batch, n))
            tau = np.where(np.any(self.recurrent < 0, axis=0), tau_i, tau_e)
            ys = np.empty((batch, steps, n))
            for i in range(steps):
                y = y + dt / tau * (-y + counts[:, i] / dt)
                ys[:, i] = y
            out["Y"] = ys[:, : bins * per_bin].reshape(batch, bins, per_bin, n).mean(axis=2)
        else:
            out["S"] = out["Y"] = None
        if record:
            v = np.array(results["N.v"], dtype=np.float64)
            v[counts[:, :, record] > 0] = p["Vth"]
            out["V"] = v
        else:
            out["V"] = None
        self.results = results
        return out

    __call__ = forward

    def parameters(self):
        raise NotImplementedError(
            "training SpikingModel from Python: train a spiking RNN with `neuroxide train` (model.kind: spiking)"
        )


class RateModel:
    """``RateModel(recurrent, readin=None, readout=None, f='tanh', eta=1, rho_recurrent=1,
    rho_input=1, rho_output=1, bias_recurrent=True, bias_output=True, Network_Type='R')``."""

    def __init__(self, recurrent: Any, readin: Any = None, readout: Any = None, f: Any = "tanh",
                 eta: Any = 1, rho_recurrent: float = 1, rho_input: float = 1,
                 rho_output: float = 1, bias_recurrent: bool = True, bias_output: bool = True,
                 Network_Type: str = "R", seed: int = 0):
        rng = np.random.default_rng(seed)
        if Network_Type not in ("R", "Z"):
            raise ValueError(f"Network_Type: got {Network_Type!r}, expected 'R' or 'Z'")
        if isinstance(recurrent, (int, np.integer)):
            n = int(recurrent)
            self.J = rng.normal(0, rho_recurrent / np.sqrt(n), (n, n))
        elif np.ndim(numpy(recurrent)) == 2:
            self.J = numpy(recurrent)
            n = self.J.shape[0]
        else:
            raise TypeError("recurrent: expected an int N or an N×N matrix")
        self.N_recurrent = n
        if readin is None or readin is False:
            self.Jx, self.N_input = None, n
        elif isinstance(readin, (int, np.integer)):
            self.Jx = rng.normal(0, rho_input / np.sqrt(readin), (n, int(readin)))
            self.N_input = int(readin)
        else:
            self.Jx = numpy(readin)
            self.N_input = self.Jx.shape[1]
        self.bias = rng.uniform(-1, 1, n) / np.sqrt(n) if bias_recurrent else np.zeros(n)
        if readout is None or readout is False:
            self.Jout, self.bout, self.N_output = None, None, n
        else:
            if isinstance(readout, (int, np.integer)):
                self.Jout = rng.normal(0, rho_output / np.sqrt(readout), (int(readout), n))
            else:
                self.Jout = numpy(readout)
            self.N_output = self.Jout.shape[0]
            self.bout = (rng.uniform(-1, 1, self.N_output) / np.sqrt(n) if bias_output
                         else np.zeros(self.N_output))
        if callable(f) or f not in ("tanh", "relu", "id"):
            raise NotImplementedError(f"RateModel(f={f!r}): 'tanh', 'relu' and 'id' run on the engine")
        self.f = f
        self.eta = np.broadcast_to(numpy(eta), (n,)).copy()
        if np.any(self.eta <= 0) or np.any(self.eta > 1):
            raise ValueError("eta: expected values in (0, 1]")
        self.Network_Type = Network_Type
        self._trained_biases = [name for name, on in (("bias", bias_recurrent),
                                                      ("bias_out", bias_output)) if on]
        self.seed = seed
        self.hidden_state = None
        self.hidden_state_history = None

    def _output(self, r: np.ndarray) -> np.ndarray:
        return r if self.Jout is None else r @ self.Jout.T + self.bout

    def forward(self, x: Any, Nt: int | None = None, initial_state: Any = "zero",
                return_time_series: bool = True, store_hidden_history: bool = True) -> np.ndarray:
        x = numpy(x)
        n = self.N_recurrent
        if x.ndim == 3:
            batch, Nt = x.shape[0], x.shape[1]
        elif x.ndim == 2:
            if Nt is None:
                raise ValueError("x of shape (B, Nx) is constant: give Nt")
            batch = x.shape[0]
        else:
            raise ValueError(f"x: expected (B, Nt, Nx) or (B, Nx), got shape {x.shape}")
        drive = x if self.Jx is None else x @ self.Jx.T
        drive = drive + self.bias
        drive = np.broadcast_to(drive if drive.ndim == 3 else drive[:, None], (batch, Nt, n))
        if isinstance(initial_state, str) and initial_state == "keep" and (
                self.hidden_state is not None and self.hidden_state.shape[0] == batch):
            r0 = self.hidden_state
        elif isinstance(initial_state, str):
            r0 = np.zeros((batch, n))
        else:
            r0 = np.broadcast_to(numpy(initial_state), (batch, n))
        if self.Network_Type == "Z":
            x3 = np.broadcast_to(x if x.ndim == 3 else x[:, None], (batch, Nt, x.shape[-1]))
            history, z = self._train_call(x3, r0, readout=False)
            self.hidden_state = z
            self.rate = history[:, -1].copy()
            self.rate_history = history
            self.hidden_state_history = history if store_hidden_history else None
            return self._output(history if return_time_series else history[:, -1])
        files = Files()
        # Contiguous neurons with the same η share a population (τ = dt/η).
        edges = [0] + [i for i in range(1, n) if self.eta[i] != self.eta[i - 1]] + [n]
        blocks = list(zip(edges[:-1], edges[1:]))
        names = [f"P{k}" for k in range(len(blocks))]
        populations, projections, inputs, monitors = {}, {}, {}, []
        for name, (a, b) in zip(names, blocks):
            eta = float(self.eta[a])
            population = {"size": b - a, "model": "rate", "transfer": self.f,
                          "initial": {"rate": {"file": files.save(f"r0_{name}", r0[:, a:b])}}}
            if eta < 1:
                population["tau"] = f"{1 / eta} ms"
            populations[name] = population
            inputs[f"x_{name}"] = {"target": name, "file": files.save(f"x_{name}", drive[:, :, a:b])}
            monitors.append({"population": name, "variable": "rate", "every": "1 ms", "mean": False})
        for post, (a, b) in zip(names, blocks):
            for pre, (c, d) in zip(names, blocks):
                block = self.J[a:b, c:d]
                if np.any(block != 0):
                    projections[f"{pre}_{post}"] = {
                        "pre": pre, "post": post, "weight": 1.0, "scaling": "raw",
                        "rule": {"explicit": {"file": files.save(f"J_{pre}_{post}", block)}}}
        spec = {"name": "neurosimtools_rate", "dt": "1 ms", "duration": f"{Nt} ms",
                "method": "euler", "precision": "f64", "lanes": batch, "seed": self.seed,
                "populations": populations, "projections": projections, "inputs": inputs,
                "monitors": monitors}
        # The data files live as long as the results' spec may be rerun.
        self._files = files
        results = Network(spec).run()
        history = np.concatenate([np.asarray(results[f"{name}.rate"]) for name in names], axis=2)
        self.hidden_state = history[:, -1].copy()
        self.rate = self.hidden_state
        self.hidden_state_history = history if store_hidden_history else None
        self.rate_history = self.hidden_state_history
        if return_time_series:
            return self._output(history)
        return self._output(history[:, -1])

    __call__ = forward

    def _train_call(self, x, r0, readout=True, epochs=0, target=None, mask=None, loss="mse",
                    optimizer="adam", lr=1e-3, trainable=None):
        """One call of the training crate: outputs (B, T, ·) after training and the final state."""
        batch, steps = x.shape[0], x.shape[1]

        def arr(a):
            return None if a is None else np.ascontiguousarray(a, dtype=np.float64)

        def time_major(a):
            return None if a is None else arr(np.transpose(a, (1, 0, 2))).ravel()

        if not epochs:
            trainable = []
        elif trainable is None:
            trainable = ["recurrent"] + [k for k, v in (("readin", self.Jx),
                                                        ("readout", self.Jout)) if v is not None]
            trainable += [b for b in self._trained_biases if b == "bias" or self.Jout is not None]
        out, final, losses, params = _neuroxide.rate_model_fit(
            arr(self.J), arr(self.Jx), arr(self.Jout) if readout else None, arr(self.bias),
            arr(self.bout) if readout else None, arr(self.eta), self.f, self.Network_Type == "Z",
            time_major(x), steps, batch, arr(np.broadcast_to(r0, (batch, self.N_recurrent))).ravel(),
            time_major(target), time_major(mask), loss, optimizer, float(lr), int(epochs),
            list(trainable))
        n_out = len(out) // (steps * batch)
        outputs = np.asarray(out).reshape(steps, batch, n_out).transpose(1, 0, 2)
        final = np.asarray(final).reshape(batch, self.N_recurrent)
        if epochs:
            return outputs, final, np.asarray(losses), dict(params)
        return outputs, final

    def fit(self, x: Any, target: Any, mask: Any = None, loss: str = "mse",
            optimizer: str = "adam", lr: float = 1e-3, epochs: int = 100,
            initial_state: Any = "zero", trainable: Any = None) -> np.ndarray:
        """Train by backpropagation through time: ``epochs`` full-batch steps of ``optimizer``
        (``'adam'`` or ``'sgd'``) on inputs ``x`` (B, Nt, Nx) against ``target`` (B, Nt, N_out)
        (``mask`` of the same shape weighs the entries; ``loss``: ``'mse'`` (mean over the
        masked entries), ``'bce'``, ``'cross_entropy'``, ``'angular'``). Trains ``J``, ``Jx``,
        ``Jout`` and the biases in place (``trainable``: a list of ``'recurrent'``, ``'readin'``,
        ``'readout'``, ``'bias'``, ``'bias_out'``, ``'eta'``); returns the loss before each step.
        """
        x, target = numpy(x), numpy(target)
        if x.ndim != 3:
            raise ValueError(f"x: expected (B, Nt, Nx), got shape {x.shape}")
        if target.ndim != 3 or target.shape[:2] != x.shape[:2]:
            raise ValueError(f"target: expected (B, Nt, N_out) with x's (B, Nt), got {target.shape}")
        if mask is not None:
            mask = np.broadcast_to(numpy(mask), target.shape)
        r0 = (np.zeros((x.shape[0], self.N_recurrent)) if isinstance(initial_state, str)
              else numpy(initial_state))
        _, _, losses, params = self._train_call(x, r0, True, epochs, target, mask, loss,
                                                optimizer, lr, trainable)
        n = self.N_recurrent
        self.J = np.asarray(params["recurrent"]).reshape(n, n)
        if self.Jx is not None:
            self.Jx = np.asarray(params["readin"]).reshape(self.Jx.shape)
        if self.Jout is not None:
            self.Jout = np.asarray(params["readout"]).reshape(self.Jout.shape)
        self.bias = np.asarray(params["bias"])
        if "bias_out" in params:
            self.bout = np.asarray(params["bias_out"])
        self.eta = np.asarray(params["eta"])
        return losses

    def parameters(self):
        raise NotImplementedError(
            "RateModel.parameters(): neuroxide has no torch tensors to optimise; train with "
            "RateModel.fit(x, target, ...) (backpropagation through time in neuroxide)"
        )


class Conv2dRateModel:
    def __init__(self, *args: Any, **kwargs: Any):
        raise NotImplementedError("Conv2dRateModel: convolutional couplings are not in the engine yet")
