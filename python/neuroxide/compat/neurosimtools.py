"""Rosenbaum's NeuroSimTools models (``neurosimtools/NeuroRNN.py``) over the neuroxide engine.

- :class:`SpikingModel` (``NeuronModel='EIF'`` or ``'LIF'``): ``forward(x0, dt, x, T, initial_V,
  initial_Y, dtRecord, Tburn, VIRecord)`` → the ``SimResults`` dict (``r``, ``S``, ``Y``, ``V``).
  The network runs as EIF (``eif``) or LIF (``lif_psc_exp``) populations (forward Euler, no
  refractory period, voltage floor ``Vlb``) with NeuroSimTools' filtered synapses
  ``Y ← Y + (dt/τ)(−Y + S)``, the recurrent matrix as explicit couplings and ``x0 + J_x x`` as a
  per-step input; neurons are grouped into populations by the time constants of their inputs.
- :class:`RateModel`: ``forward(x, Nt, initial_state, return_time_series,
  store_hidden_history)``. R-type ``r ← r + η(−r + f(J r + b + J_x x))`` runs as a rate network
  stepped by forward Euler with ``dt/τ = η``; Z-type ``z ← z + η(−z + J f(z) + b + J_x x)`` runs
  through the training crate's model (``rate_history`` holds f(z); ``hidden_state`` the final z).
  The readout ``J_out r + b_out`` is applied to the rates. ``fit(x, target, mask, loss,
  optimizer, lr, epochs, batch_size, seed)`` replaces the user's PyTorch loop: BPTT steps on
  (batch, time, features) data, full-batch or on shuffled mini-batches, updating ``J``, ``Jx``,
  ``Jout``, ``bias``, ``bout`` in place; ``parameters()`` returns those arrays themselves.
- :class:`Conv2dRateModel`: the same updates with 2-D convolutions, through the training crate
  (``crates/train/src/conv2d.rs``), with ``forward`` and ``fit``.

Callable neuron models and transfer functions raise ``TypeError`` (neuroxide takes the name of a
built-in model here: Python code cannot run in the Rust kernels), naming the alternatives. Inputs and outputs are NumPy arrays
(torch tensors are accepted as inputs); time is in ms as in NeuroSimTools' examples.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import Network, _neuroxide
from ._files import Files, numpy, spike_counts

def _own(a: Any) -> np.ndarray:
    """A given weight matrix as a writeable float64 array: the array itself when it is one (as
    PyTorch's Parameter shares a given tensor's storage), else a copy."""
    if isinstance(a, np.ndarray) and a.dtype == np.float64 and a.flags.writeable:
        return a
    return np.array(numpy(a), dtype=np.float64)


EIF_DEFAULTS = {"taum": 10.0, "EL": -72.0, "Vth": 0.0, "Vre": -72.0, "VT": -55.0, "DT": 1.0,
                "Vlb": -85.0}
LIF_DEFAULTS = {"taum": 10.0, "EL": -72.0, "Vth": -55.0, "Vre": -72.0, "Vlb": -85.0}


class SpikingModel:
    """``SpikingModel(recurrent, tausyn, readin=None, NeuronModel='EIF', NeuronParams={})``.

    ``NeuronModel='EIF'`` runs as neuroxide's ``eif``, ``'LIF'`` as ``lif_psc_exp``, both with
    forward Euler, no refractory period, the floor ``Vlb`` and NeuroSimTools' filtered synapses
    (``synapse: {kind: filtered}``). ``tausyn`` may differ per neuron wherever each neuron's
    excitatory (inhibitory) presynaptic partners share one value: the neurons are then grouped
    into populations by the (τ_exc, τ_inh) of their inputs.
    """

    def __init__(self, recurrent: Any, tausyn: Any, readin: Any = None, NeuronModel: Any = "EIF",
                 NeuronParams: dict[str, float] | None = None, seed: int = 0):
        if callable(NeuronModel):
            raise TypeError(
                "SpikingModel(NeuronModel=<callable>): a Python f(V, I) cannot run in neuroxide's "
                "Rust kernels; use NeuronModel='EIF' or 'LIF', or write a model file with one of "
                "the built-in models (eif, adex, qif, izhikevich, lif_*; README 'Spiking networks')")
        if NeuronModel not in ("EIF", "LIF"):
            raise ValueError(f"NeuronModel: got {NeuronModel!r}, expected 'EIF', 'LIF' or a callable")
        self.recurrent = _own(recurrent)
        n = self.recurrent.shape[0]
        if self.recurrent.shape != (n, n):
            raise ValueError(f"recurrent: expected an N×N matrix, got shape {self.recurrent.shape}")
        self.N_recurrent = n
        self.readin = None if readin is None or readin is False else _own(readin)
        self.N_input = n if self.readin is None else self.readin.shape[1]
        self.NeuronModel = NeuronModel
        defaults = EIF_DEFAULTS if NeuronModel == "EIF" else LIF_DEFAULTS
        self.NeuronParams = {**defaults, **(NeuronParams or {})}
        unknown = set(self.NeuronParams) - set(defaults)
        if unknown:
            raise ValueError(f"NeuronParams: unknown keys {sorted(unknown)} for {NeuronModel}, "
                             f"expected {sorted(defaults)}")
        self.tausyn = np.broadcast_to(numpy(tausyn), (n,)).copy()
        self._groups()  # refuse an unsupported τ structure now, not at the first forward
        self.seed = seed
        self._V = self._Y = None

    def parameters(self) -> list[np.ndarray]:
        """The weight arrays (``recurrent``, and ``readin`` when given): the model's own, which
        the next forward reads (a simulation model: there is no gradient through spikes)."""
        return [p for p in (self.recurrent, self.readin) if p is not None]

    def _groups(self) -> list[tuple[np.ndarray, float, float]]:
        """Neurons grouped by the time constants of their inputs: (indices, τ_exc, τ_inh).
        NeuroSimTools filters each presynaptic neuron's train with its own τ; neuroxide's
        synapses pick τ by the postsynaptic population and the weight's sign, which is the same
        when every neuron's excitatory (inhibitory) presynaptic partners share one τ."""
        J, tau = self.recurrent, self.tausyn
        values = np.unique(tau)
        taus = []
        for sign, mask in (("excitatory", J > 0), ("inhibitory", J < 0)):
            # has[i, k]: neuron i has inputs of this sign from neurons with τ = values[k].
            has = np.stack([mask[:, tau == v].any(axis=1) for v in values], axis=1)
            count = has.sum(axis=1)
            bad = np.flatnonzero(count > 1)
            if len(bad):
                i = int(bad[0])
                low, high = values[has[i]][:2]
                raise NotImplementedError(
                    f"tausyn: neuron {i} has {sign} inputs with time constants {low:g} and "
                    f"{high:g} ms; neuroxide's synapses have one time constant per postsynaptic "
                    f"population and sign (tau_exc, tau_inh), so the {sign} presynaptic partners "
                    "of each neuron must share one tausyn (Dale's law with one τ per E/I group "
                    "always does)")
            taus.append(np.where(count == 1, values[has.argmax(axis=1)], np.nan))
        # Without inputs of a sign the time constant is free: join a group that fits the other
        # one (else take the most common value), so that no population is made for nothing.
        known = list(dict.fromkeys((e, i) for e, i in zip(taus[0].tolist(), taus[1].tolist())
                                   if np.isfinite(e) and np.isfinite(i)))
        common = []
        for t in taus:
            finite = t[np.isfinite(t)]
            vals, counts = np.unique(finite if len(finite) else tau, return_counts=True)
            common.append(float(vals[np.argmax(counts)]))
        keys = []
        for e, i in zip(taus[0].tolist(), taus[1].tolist()):
            if not np.isfinite(e):
                e = next((ke for ke, ki in known if ki == i or not np.isfinite(i)), common[0])
            if not np.isfinite(i):
                i = next((ki for ke, ki in known if ke == e), common[1])
            keys.append((float(e), float(i)))
        order = list(dict.fromkeys(keys))
        groups = []
        for key in order:
            idx = np.array([i for i, k in enumerate(keys) if k == key], dtype=np.int64)
            groups.append((idx, float(key[0]), float(key[1])))
        return groups

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
        if isinstance(initial_V, str) and initial_V == "keep" and (
                self._V is None or self._V.shape[0] != batch):
            # As NeuroSimTools without a stored V; here the final voltages are never kept.
            warnings.warn("initial_V='keep': the final voltages of a run are not kept; starting "
                          "from 'random' (pass the voltages as an array to continue)", stacklevel=2)
            initial_V = "random"
        elif isinstance(initial_V, str) and initial_V == "keep":
            initial_V = self._V
        if isinstance(initial_V, str) and initial_V not in ("random", "zero"):
            raise ValueError(f"initial_V: got {initial_V!r}, expected 'zero', 'random', 'keep' or "
                             "an array")
        v0 = None if isinstance(initial_V, str) else np.broadcast_to(numpy(initial_V), (batch, n))
        if isinstance(initial_Y, str):
            if initial_Y not in ("zero", "keep"):
                raise ValueError(f"initial_Y: got {initial_Y!r}, expected 'zero', 'keep' or an "
                                 "array")
            keep = initial_Y == "keep" and self._Y is not None and self._Y.shape == (batch, n)
            y0 = self._Y if keep else np.zeros((batch, n))
        else:
            y0 = np.broadcast_to(numpy(initial_Y), (batch, n)).astype(np.float64)
        record = [int(i) for i in VIRecord]
        groups = self._groups()
        names = ["N"] if len(groups) == 1 else [f"N{k}" for k in range(len(groups))]
        if self.NeuronModel == "EIF":
            model = "eif"
            neuron = {"v_t": f"{p['VT']} mV", "delta_t": f"{p['DT']} mV"}
        else:
            model, neuron = "lif_psc_exp", {}
        neuron.update({"tau_m": f"{p['taum']} ms", "c_m": f"{p['taum']} pF",
                       "e_l": f"{p['EL']} mV", "v_th": f"{p['Vth']} mV",
                       "v_reset": f"{p['Vre']} mV", "v_min": f"{p['Vlb']} mV", "t_ref": "0 ms",
                       "integration": "euler"})
        J = self.recurrent
        populations, projections, inputs, monitors, recorded = {}, {}, {}, [], {}
        for name, (idx, tau_e, tau_i) in zip(names, groups):
            initial: dict[str, Any] = {}
            if v0 is not None:
                initial["v"] = {"file": files.save(f"v0_{name}", v0[:, idx])}
            elif initial_V == "zero":
                initial["v"] = {"constant": p["Vre"]}
            else:
                initial["v"] = "random"
            if np.any(y0):
                # The synaptic states of neuron i: Σ_j J_ij Y_j over positive and negative J_ij.
                rows = J[idx]
                initial["g_exc"] = {"file": files.save(f"ge_{name}", y0 @ np.maximum(rows, 0).T)}
                initial["g_inh"] = {"file": files.save(f"gi_{name}", y0 @ np.minimum(rows, 0).T)}
            populations[name] = {
                "size": len(idx), "model": model, "neuron": dict(neuron),
                "synapse": {"kind": "filtered", "tau_exc": f"{tau_e} ms", "tau_inh": f"{tau_i} ms"},
                "initial": initial}
            inputs[f"x_{name}"] = {"target": name, "file": files.save(f"x_{name}", drive[:, :, idx])}
            monitors.append({"population": name, "variable": "spikes"})
            local = [int(np.flatnonzero(idx == i)[0]) for i in record if i in set(idx.tolist())]
            if local:
                recorded[name] = local
                monitors.append({"population": name, "variable": "v", "every": f"{dt} ms",
                                 "neurons": {"list": local}, "mean": False})
        for post, (idx_b, _, _) in zip(names, groups):
            for pre, (idx_a, _, _) in zip(names, groups):
                block = J[np.ix_(idx_b, idx_a)]
                if np.any(block != 0):
                    projections[f"{pre}_{post}"] = {
                        "pre": pre, "post": post, "weight": 1.0, "scaling": "raw",
                        "rule": {"explicit": {"file": files.save(f"J_{pre}_{post}", block)}}}
        spec = {
            "name": "neurosimtools_spiking",
            "dt": f"{dt} ms", "duration": f"{steps * dt} ms", "seed": self.seed,
            "precision": "f64", "lanes": batch, "populations": populations,
            "projections": projections, "inputs": inputs, "monitors": monitors,
        }
        # The data files live as long as the results' spec may be rerun.
        self._files = files
        results = Network(spec).run()
        counts = np.zeros((batch, steps, n))
        for name, (idx, _, _) in zip(names, groups):
            counts[:, :, idx] = spike_counts(results[f"{name}.spikes"], batch, steps, len(idx))
        t = np.arange(steps) * dt
        burn = t >= Tburn
        out: dict[str, Any] = {"r": counts[:, burn].sum(axis=1) / (T - Tburn)}
        tau = self.tausyn
        if dtRecord is not None:
            per_bin = int(round(dtRecord / dt))
            bins = steps // per_bin
            binned = counts[:, : bins * per_bin].reshape(batch, bins, per_bin, n)
            out["S"] = binned.sum(axis=2) / dtRecord
            y = y0.copy()
            ys = np.empty((batch, steps, n))
            for i in range(steps):
                y = y + dt / tau * (-y + counts[:, i] / dt)
                ys[:, i] = y
            out["Y"] = ys[:, : bins * per_bin].reshape(batch, bins, per_bin, n).mean(axis=2)
        else:
            out["S"] = out["Y"] = None
        # The final Y (for initial_Y='keep'): Y_T = d^T Y_0 + Σ_m d^(T−1−m) s_m/τ, d = 1 − dt/τ.
        decay = 1 - dt / tau
        lane, step, neuron = np.nonzero(counts)
        final_y = y0 * decay ** steps
        np.add.at(final_y, (lane, neuron),
                  counts[lane, step, neuron] * decay[neuron] ** (steps - 1 - step) / tau[neuron])
        self._Y = final_y
        if record:
            v = np.empty((batch, steps, len(record)))
            for name, (idx, _, _) in zip(names, groups):
                if name in recorded:
                    cols = np.asarray(results[f"{name}.v"], dtype=np.float64)
                    for col, local in enumerate(recorded[name]):
                        for k, i in enumerate(record):
                            if i == idx[local]:
                                v[:, :, k] = cols[:, :, col]
            v[counts[:, :, record] > 0] = p["Vth"]
            out["V"] = v
        else:
            out["V"] = None
        self.results = results
        return out

    __call__ = forward


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
            self.J = _own(recurrent)
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
            self.Jx = _own(readin)
            self.N_input = self.Jx.shape[1]
        self.bias = rng.uniform(-1, 1, n) / np.sqrt(n) if bias_recurrent else np.zeros(n)
        if readout is None or readout is False:
            self.Jout, self.bout, self.N_output = None, None, n
        else:
            if isinstance(readout, (int, np.integer)):
                self.Jout = rng.normal(0, rho_output / np.sqrt(readout), (int(readout), n))
            else:
                self.Jout = _own(readout)
            self.N_output = self.Jout.shape[0]
            self.bout = (rng.uniform(-1, 1, self.N_output) / np.sqrt(n) if bias_output
                         else np.zeros(self.N_output))
        if callable(f):
            raise TypeError(
                f"RateModel(f={f!r}): a Python callable cannot run in neuroxide's Rust kernels; "
                "use f='tanh', 'relu' or 'id' (or a rate population with `transfer:` sigmoid, "
                "erf, gauss_cdf, ... in a model file, see the README's model keys)")
        if f not in ("tanh", "relu", "id"):
            raise ValueError(f"RateModel: f={f!r}, expected 'tanh', 'relu' or 'id'")
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
                    optimizer="adam", lr=1e-3, trainable=None, batch_size=0, order=None):
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
            list(trainable), int(batch_size), order)
        n_out = len(out) // (steps * batch)
        outputs = np.asarray(out).reshape(steps, batch, n_out).transpose(1, 0, 2)
        final = np.asarray(final).reshape(batch, self.N_recurrent)
        if epochs:
            return outputs, final, np.asarray(losses), dict(params)
        return outputs, final

    def fit(self, x: Any, target: Any, mask: Any = None, loss: str = "mse",
            optimizer: str = "adam", lr: float = 1e-3, epochs: int = 100,
            initial_state: Any = "zero", trainable: Any = None, batch_size: int | None = None,
            seed: int = 0) -> np.ndarray:
        """Train by backpropagation through time: ``epochs`` passes of ``optimizer``
        (``'adam'`` or ``'sgd'``) on inputs ``x`` (B, Nt, Nx) against ``target`` (B, Nt, N_out)
        (``mask`` of the same shape weighs the entries; ``loss``: ``'mse'`` (mean over the
        masked entries), ``'bce'``, ``'cross_entropy'``, ``'angular'``). ``batch_size``: one
        step per mini-batch of that many trials, the trials shuffled every epoch by
        ``numpy.random.default_rng(seed)``; ``None``: one full-batch step per epoch. Trains
        ``J``, ``Jx``, ``Jout`` and the biases in place (``trainable``: a list of
        ``'recurrent'``, ``'readin'``, ``'readout'``, ``'bias'``, ``'bias_out'``, ``'eta'``);
        returns the loss before each step.
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
        order = _batch_order(x.shape[0], batch_size, epochs, seed)
        _, _, losses, params = self._train_call(x, r0, True, epochs, target, mask, loss,
                                                optimizer, lr, trainable, batch_size or 0, order)
        # In place: the arrays of parameters() (and a user's matrix given as `recurrent`) follow.
        n = self.N_recurrent
        np.copyto(self.J, np.asarray(params["recurrent"]).reshape(n, n))
        if self.Jx is not None:
            np.copyto(self.Jx, np.asarray(params["readin"]).reshape(self.Jx.shape))
        if self.Jout is not None:
            np.copyto(self.Jout, np.asarray(params["readout"]).reshape(self.Jout.shape))
        np.copyto(self.bias, np.asarray(params["bias"]))
        if "bias_out" in params:
            np.copyto(self.bout, np.asarray(params["bias_out"]))
        np.copyto(self.eta, np.asarray(params["eta"]))
        return losses

    def parameters(self) -> list[np.ndarray]:
        """The trainable arrays ``J``, ``Jx``, ``Jout``, ``bias``, ``bout`` (those present): the
        model's own arrays, not copies, so an optimiser loop of your own may update them in
        place (``p -= lr * grad``) and the next forward uses them."""
        return [p for p in (self.J, self.Jx, self.Jout, self.bias, self.bout) if p is not None]


def _pair(v: Any, what: str) -> tuple[int, int]:
    """An int or a pair of ints (PyTorch's kernel size and stride arguments)."""
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(pair) != 2 or not all(isinstance(k, (int, np.integer)) and k > 0 for k in pair):
        raise ValueError(f"{what}: got {v!r}, expected a positive int or a pair of them")
    return int(pair[0]), int(pair[1])


def _geometry(c_in: int, c_out: int, kernel: Any, padding: Any, stride: Any,
              what: str) -> tuple[int, ...]:
    """(c_in, c_out, kh, kw, sh, sw, top, bottom, left, right) of a ``torch.nn.Conv2d``."""
    kh, kw = _pair(kernel, f"{what}_kernel_size")
    sh, sw = _pair(stride, f"{what}_stride")
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError(f"{what}_padding='same' needs {what}_stride=1 (as in PyTorch)")
            pads = ((kh - 1) // 2, kh - 1 - (kh - 1) // 2, (kw - 1) // 2, kw - 1 - (kw - 1) // 2)
        else:
            raise ValueError(f"{what}_padding: got {padding!r}, expected 'same', 'valid', an int "
                             "or a pair")
    else:
        ph, pw = (padding, padding) if isinstance(padding, (int, np.integer)) else tuple(padding)
        if min(ph, pw) < 0:
            raise ValueError(f"{what}_padding: got {padding!r}, expected non-negative sizes")
        pads = (int(ph), int(ph), int(pw), int(pw))
    return (int(c_in), int(c_out), kh, kw, sh, sw, *pads)


class Conv2dRateModel:
    """``Conv2dRateModel(rec_channels, rec_kernel_size, in_channels=None, readin_kernel_size=None,
    readout_type='id', out_channels=None, readout_kernel_size=None, f='tanh', eta=1,
    bias_recurrent=False, bias_output=False, readin_padding='same', readin_stride=1,
    readout_padding='same', readout_stride=1, Network_Type='R')``.

    RateModel's R- and Z-type updates with convolutions (cross-correlations, as
    ``torch.nn.Conv2d``) for J (``rec_channels`` → ``rec_channels``, padding 'same', stride 1,
    bias ``bias``), J_x (``in_channels`` → ``rec_channels``, no bias) and J_out; the state of a
    lane is a (C, H, W) image. Inputs are (B, C_in, Nt, H, W) (time in dimension 2) or
    (B, C_in, H, W) with ``Nt``; the history is (B, C, Nt, H', W'). Parameters: ``J``
    (C, C, kh, kw), ``bias`` (C), ``Jx`` (C, C_in, kh, kw), ``Jout`` (C_out, C, kh, kw) for
    'conv'/'conv_flatten' or (out_channels, C·H'·W') for 'full' (drawn at the first forward, as
    PyTorch's LazyLinear), ``bout``; drawn as PyTorch's defaults, uniform in ±1/√fan_in.
    """

    READOUTS = ("id", "flatten", "conv", "conv_flatten", "full")

    def __init__(self, rec_channels: int, rec_kernel_size: Any, in_channels: int | None = None,
                 readin_kernel_size: Any = None, readout_type: str = "id",
                 out_channels: int | None = None, readout_kernel_size: Any = None,
                 f: Any = "tanh", eta: Any = 1, bias_recurrent: bool = False,
                 bias_output: bool = False, readin_padding: Any = "same", readin_stride: Any = 1,
                 readout_padding: Any = "same", readout_stride: Any = 1,
                 Network_Type: str = "R", seed: int = 0):
        if Network_Type not in ("R", "Z"):
            raise ValueError(f"Network_Type: got {Network_Type!r}, expected 'R' or 'Z'")
        if readout_type not in self.READOUTS:
            raise ValueError(f"readout_type: got {readout_type!r}, expected one of {self.READOUTS}")
        if callable(f):
            raise TypeError(
                f"Conv2dRateModel(f={f!r}): a Python callable cannot run in neuroxide's Rust "
                "kernels; use f='tanh', 'relu' or 'id'")
        if f not in ("tanh", "relu", "id"):
            raise ValueError(f"Conv2dRateModel: f={f!r}, expected 'tanh', 'relu' or 'id'")
        self._rng = np.random.default_rng(seed)
        c = self.rec_channels = int(rec_channels)
        self.rec_kernel_size = _pair(rec_kernel_size, "rec_kernel_size")
        self.Network_Type, self.f, self.readout = Network_Type, f, readout_type
        self.bias_recurrent, self.bias_output = bias_recurrent, bias_output
        self.eta = np.asarray(numpy(eta), dtype=np.float64)
        kh, kw = self.rec_kernel_size
        self.J = self._uniform((c, c, kh, kw), c * kh * kw)
        self.bias = self._uniform((c,), c * kh * kw) if bias_recurrent else None
        if in_channels is None:
            self.readin, self.in_channels, self.Jx, self._readin = False, c, None, None
        else:
            if readin_kernel_size is None:
                raise ValueError("in_channels given: give readin_kernel_size too")
            self.readin, self.in_channels = True, int(in_channels)
            self._readin = _geometry(in_channels, c, readin_kernel_size, readin_padding,
                                     readin_stride, "readin")
            self.Jx = self._uniform((c, int(in_channels), *self._readin[2:4]),
                                    int(in_channels) * self._readin[2] * self._readin[3])
        self._readout, self.Jout, self.bout = None, None, None
        if readout_type in ("conv", "conv_flatten", "full") and out_channels is None:
            raise ValueError(f"readout_type={readout_type!r} needs out_channels")
        if readout_type in ("id", "flatten"):
            self.out_channels = c
        else:
            self.out_channels = int(out_channels)
        if readout_type in ("conv", "conv_flatten"):
            if readout_kernel_size is None:
                raise ValueError(f"readout_type={readout_type!r} needs readout_kernel_size")
            self._readout = _geometry(c, out_channels, readout_kernel_size, readout_padding,
                                      readout_stride, "readout")
            fan = c * self._readout[2] * self._readout[3]
            self.Jout = self._uniform((int(out_channels), c, *self._readout[2:4]), fan)
            self.bout = self._uniform((int(out_channels),), fan) if bias_output else None
        self.hidden_state = None
        self.hidden_state_history = None

    def _uniform(self, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        bound = 1 / np.sqrt(fan_in)
        return self._rng.uniform(-bound, bound, shape)

    def parameters(self) -> list[np.ndarray]:
        """The trainable arrays (``J``, ``bias``, ``Jx``, ``Jout``, ``bout``, those present):
        the model's own arrays, so an optimiser loop may update them in place."""
        return [p for p in (self.J, self.bias, self.Jx, self.Jout, self.bout) if p is not None]

    def _eta(self, state_shape: tuple[int, int, int]) -> np.ndarray:
        try:
            return np.ascontiguousarray(np.broadcast_to(self.eta, state_shape)).ravel()
        except ValueError:
            raise ValueError(f"eta: shape {self.eta.shape} does not broadcast to the state's "
                             f"(C, H, W) = {state_shape}") from None

    def _state_shape(self, h: int, w: int) -> tuple[int, int, int]:
        if self._readin is None:
            return self.rec_channels, h, w
        _, _, kh, kw, sh, sw, top, bottom, left, right = self._readin
        ho, wo = (h + top + bottom - kh) // sh + 1, (w + left + right - kw) // sw + 1
        if ho < 1 or wo < 1:
            raise ValueError(f"x: a {h}×{w} input is smaller than the readin kernel {kh}×{kw}")
        return self.rec_channels, ho, wo

    def _call(self, x5, initial, epochs=0, target=None, mask=None, loss="mse",
              optimizer="adam", lr=1e-3, trainable=None, batch_size=0, order=None):
        """One call of the training crate on (B, C_in, Nt, H, W) inputs: outputs (T, B, ·),
        history (T, B, C, H', W'), final state, losses."""
        batch, c_in, steps, h, w = x5.shape
        shape = self._state_shape(h, w)
        if self.readout == "full" and self.Jout is None:
            n = int(np.prod(shape))
            self.Jout = self._uniform((self.out_channels, n), n)
            self.bout = self._uniform((self.out_channels,), n) if self.bias_output else None
        names = [("recurrent", self.J), ("bias", self.bias), ("readin", self.Jx),
                 ("readout", self.Jout), ("bias_out", self.bout)]
        params = [(k, np.ascontiguousarray(v, dtype=np.float64)) for k, v in names if v is not None]
        if trainable is None:
            trainable = [k for k, _ in params] if epochs else []
        kind = {"id": "id", "flatten": "id", "conv": "conv", "conv_flatten": "conv",
                "full": "full"}[self.readout]
        xt = np.ascontiguousarray(np.transpose(x5, (2, 0, 1, 3, 4)), dtype=np.float64).ravel()
        out, history, final, losses, new, state, out_shape = _neuroxide.conv2d_model_fit(
            self.Network_Type == "Z", self.f, self.rec_channels, self.rec_kernel_size,
            (c_in, h, w), self._readin, kind, self.out_channels, self._readout,
            self.bias is not None, self.bout is not None, self._eta(shape), params, xt, steps,
            batch, np.ascontiguousarray(np.broadcast_to(initial, (batch, *shape))).ravel(),
            target, mask, loss, optimizer, float(lr), int(epochs), list(trainable),
            int(batch_size), order)
        for name, values in new:
            np.copyto(dict(names)[name], np.asarray(values).reshape(dict(names)[name].shape))
        per_step = out_shape if kind == "conv" else (shape if kind == "id" else (self.out_channels,))
        outputs = np.asarray(out).reshape(steps, batch, *per_step)
        history = np.asarray(history).reshape(steps, batch, *shape)
        return outputs, history, np.asarray(final).reshape(batch, *shape), np.asarray(losses)

    def _input5(self, x: Any, Nt: int | None) -> np.ndarray:
        x = numpy(x)
        if x.ndim == 5 and (Nt is None or Nt == x.shape[2]):
            pass
        elif x.ndim == 4 and Nt is not None:
            x = np.broadcast_to(x[:, :, None], (x.shape[0], x.shape[1], int(Nt), *x.shape[2:]))
        else:
            raise ValueError(f"x: expected (B, C_in, Nt, H, W), or (B, C_in, H, W) with Nt; got "
                             f"shape {x.shape}")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x: expected {self.in_channels} channels in dimension 1, got "
                             f"{x.shape[1]}")
        return x

    def _initial(self, initial_state: Any, batch: int, shape: tuple[int, int, int]) -> np.ndarray:
        if isinstance(initial_state, str):
            if initial_state == "keep" and self.hidden_state is not None and \
                    self.hidden_state.shape == (batch, *shape):
                return self.hidden_state
            if initial_state not in ("zero", "keep"):
                raise ValueError(f"initial_state: got {initial_state!r}, expected 'zero', 'keep' "
                                 "or an array")
            return np.zeros((batch, *shape))
        return np.broadcast_to(numpy(initial_state), (batch, *shape))

    def _shape_output(self, y: np.ndarray, time_series: bool) -> np.ndarray:
        """Per-step outputs (T, B, ·) → NeuroSimTools' layout."""
        if self.readout == "full":
            return np.transpose(y, (1, 0, 2)) if time_series else y[-1]
        y = np.transpose(y, (1, 2, 0, 3, 4)) if time_series else y[-1]
        if self.readout in ("flatten", "conv_flatten"):
            return y.reshape(y.shape[0], -1)
        return y

    def _target(self, target: np.ndarray, y: np.ndarray) -> np.ndarray:
        """A target in the forward's time-series layout → time-major (T, B, ·), flat."""
        steps, batch = y.shape[:2]
        if self.readout == "full":
            t = target
            expect = (batch, steps, y.shape[2])
        else:
            expect = (batch, y.shape[2], steps, *y.shape[3:])
            t = target.reshape(expect) if self.readout in ("flatten", "conv_flatten") and \
                target.size == np.prod(expect) else target
        if t.shape != expect:
            raise ValueError(f"target: expected the forward's output shape {self._shape_output(y, True).shape}, "
                             f"got {target.shape}")
        axes = (1, 0, 2) if self.readout == "full" else (2, 0, 1, 3, 4)
        return np.ascontiguousarray(np.transpose(t, axes), dtype=np.float64).ravel()

    def forward(self, x: Any, Nt: int | None = None, initial_state: Any = "zero",
                return_time_series: bool = True, store_hidden_history: bool = True) -> np.ndarray:
        x5 = self._input5(x, Nt)
        shape = self._state_shape(*x5.shape[3:])
        r0 = self._initial(initial_state, x5.shape[0], shape)
        y, history, final, _ = self._call(x5, r0)
        self.hidden_state = final
        self.hidden_state_history = np.transpose(history, (1, 2, 0, 3, 4)) \
            if store_hidden_history else None
        return self._shape_output(y, return_time_series)

    __call__ = forward

    def fit(self, x: Any, target: Any, mask: Any = None, loss: str = "mse",
            optimizer: str = "adam", lr: float = 1e-3, epochs: int = 100,
            initial_state: Any = "zero", trainable: Any = None, batch_size: int | None = None,
            seed: int = 0) -> np.ndarray:
        """Train by backpropagation through time (the exact adjoint of the convolutional
        update): as :meth:`RateModel.fit`, with ``target`` (and ``mask``) in the shape
        ``forward(x)`` returns. ``trainable``: a list of ``'recurrent'``, ``'bias'``,
        ``'readin'``, ``'readout'``, ``'bias_out'`` (default: all present). Updates the arrays
        of :meth:`parameters` in place; returns the loss before each step."""
        x5 = self._input5(x, None)
        batch = x5.shape[0]
        shape = self._state_shape(*x5.shape[3:])
        r0 = self._initial(initial_state, batch, shape)
        y, _, _, _ = self._call(x5, r0)
        target = self._target(numpy(target), y)
        if mask is not None:
            mask = self._target(np.broadcast_to(numpy(mask), self._shape_output(y, True).shape), y)
        order = _batch_order(batch, batch_size, epochs, seed)
        _, _, _, losses = self._call(x5, r0, epochs, target, mask, loss, optimizer, lr,
                                     trainable, batch_size or 0, order)
        return losses


def _batch_order(batch: int, batch_size: int | None, epochs: int, seed: int) -> list[int] | None:
    """Mini-batches: each epoch's lanes, shuffled by ``numpy.random.default_rng(seed)`` (one
    permutation per epoch, in order); ``None`` for full-batch steps."""
    if batch_size is None:
        return None
    if int(batch_size) < 1:
        raise ValueError(f"batch_size: got {batch_size!r}, expected a positive int")
    rng = np.random.default_rng(seed)
    return [int(i) for _ in range(int(epochs)) for i in rng.permutation(batch)]
