"""cnsproject-style objects (the Univ. of Tehran CNS course's ``cnsproject`` package) as a thin
layer over a neuroxide model: :class:`LIFPopulation`, :class:`DenseConnection`,
:class:`Monitor` and :class:`Network` (inputs are currents given to :meth:`Network.run`).

::

    net = Network(dt=1.0)
    net.add_layer(LIFPopulation((80,), R=1, C=20, threshold=-55), "E")
    net.add_layer(LIFPopulation((20,), R=1, C=20, threshold=-55, is_inhibitory=True), "I")
    net.add_connection(DenseConnection(net.layers["E"], net.layers["I"], J=120, tau_s=10), "E", "I")
    net.add_connection(DenseConnection(net.layers["I"], net.layers["E"], J=60, tau_s=10), "I", "E")
    net.add_monitor(Monitor(net.layers["E"], ["s", "u", "traces"]), "E")
    net.run(300, inputs={"E": currents})      # (steps, 80) currents
    net.monitors["E"].get("s")                # (steps, 80) bool spikes

Equations (the student implementation, spec C.3): ``u ← u − (dt/τ)(u − u_rest − R·I)``,
``τ = R·C``, spike at ``u ≥ threshold``, then ``u ← u_rest`` (no refractory period); spike
traces ``x ← x e^{−dt/τ_s}`` then ``+ trace_scale`` (additive) or ``= trace_scale``; a dense
connection gives ``I_post = Σ_j (J/N_pre) tr_j`` with a per-synapse trace
``tr ← tr e^{−dt/τ_s} + trace_scale·s_pre`` — a spike acts on the next step. Connections from
an ``is_inhibitory`` population are subtracted (what cnsproject's scripts do by hand).
Learning rules and the ELIF/AELIF populations are not available here yet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import Network as _Network
from ._files import Files, numpy, spike_counts


class LIFPopulation:
    def __init__(self, shape: Any, spike_trace: bool = True, additive_spike_trace: bool = True,
                 tau_s: float = 10.0, trace_scale: float = 1.0, is_inhibitory: bool = False,
                 learning: bool = True, R: float = float("inf"), C: float = 0.0,
                 threshold: float = -55.0, dt: float = 1.0, u_rest: float = -70.0):
        if not (np.isfinite(R) and R > 0 and C > 0):
            raise ValueError(f"LIFPopulation: τ = R·C is undefined for R={R}, C={C}; pass R > 0 "
                             "and C > 0 (the course's examples use R=10, C=10 or R=1, C=20)")
        self.shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self.n = int(np.prod(self.shape))
        self.spike_trace, self.additive_spike_trace = spike_trace, additive_spike_trace
        self.tau_s, self.trace_scale = float(tau_s), float(trace_scale)
        self.is_inhibitory, self.learning = is_inhibitory, learning
        self.R, self.C, self.threshold, self.dt, self.u_rest = R, C, threshold, dt, u_rest

    def spec(self, tau_syn: float) -> dict[str, Any]:
        population = {
            "size": self.n, "model": "lif_psc_exp",
            "neuron": {"tau_m": f"{self.R * self.C} ms", "c_m": f"{self.C} pF",
                       "e_l": f"{self.u_rest} mV", "v_th": f"{self.threshold} mV",
                       "v_reset": f"{self.u_rest} mV", "t_ref": "0 ms", "integration": "euler"},
            "synapse": {"tau_exc": f"{tau_syn} ms", "tau_inh": f"{tau_syn} ms"},
        }
        if self.spike_trace:
            population["trace"] = {"tau": f"{self.tau_s} ms", "scale": self.trace_scale,
                                   "additive": self.additive_spike_trace}
        return population


class DenseConnection:
    def __init__(self, pre: LIFPopulation, post: LIFPopulation, lr: Any = None,
                 weight_decay: float = 0.0, J: float = 0.0, tau_s: float = 15.0,
                 trace_scale: float = 1.0, dt: float = 1.0, **kwargs: Any):
        if lr is not None or weight_decay or kwargs.get("learning_rule") is not None:
            raise NotImplementedError("DenseConnection: learning rules are not available here yet")
        self.pre, self.post = pre, post
        self.J, self.tau_s, self.trace_scale, self.dt = float(J), float(tau_s), trace_scale, dt

    @property
    def w(self) -> np.ndarray:
        """(pre, post) weights J/N_pre, as cnsproject stores them."""
        return np.full((self.pre.n, self.post.n), self.J / self.pre.n)


class Monitor:
    def __init__(self, obj: LIFPopulation, state_variables: list[str], device: str = "cpu"):
        unknown = set(state_variables) - {"s", "u", "traces"}
        if unknown:
            raise ValueError(f"Monitor: unknown variables {sorted(unknown)} (s, u, traces)")
        self.obj, self.state_variables = obj, list(state_variables)
        self._data: dict[str, np.ndarray] = {}

    def get(self, variable: str) -> np.ndarray:
        """(T, *shape): spikes as bool, potentials and traces as float."""
        if variable not in self._data:
            raise KeyError(f"{variable!r} not recorded (monitor of {self.state_variables})")
        return self._data[variable]

    def reset_state_variables(self) -> None:
        self._data = {}


class Network:
    def __init__(self, dt: float = 1.0, learning: bool = True, reward: Any = None,
                 decision: Any = None, seed: int = 0, **kwargs: Any):
        if reward is not None or decision is not None:
            raise NotImplementedError("Network: reward and decision objects are not available yet")
        self.dt, self.learning, self.seed = float(dt), learning, seed
        self.layers: dict[str, LIFPopulation] = {}
        self.connections: dict[str, DenseConnection] = {}
        self.monitors: dict[str, Monitor] = {}

    def add_layer(self, layer: LIFPopulation, name: str) -> None:
        self.layers[name] = layer

    def add_connection(self, connection: DenseConnection, pre: str, post: str) -> None:
        self.connections[f"{pre}_to_{post}"] = connection

    def add_monitor(self, monitor: Monitor, name: str) -> None:
        self.monitors[name] = monitor

    def spec(self, time: float, inputs: dict[str, Any] | None, files: Files) -> dict[str, Any]:
        steps = int(round(time / self.dt))
        names = {id(layer): name for name, layer in self.layers.items()}
        tau_syn: dict[str, float] = {}
        projections = {}
        for key, c in self.connections.items():
            pre, post = names[id(c.pre)], names[id(c.post)]
            if tau_syn.setdefault(post, c.tau_s) != c.tau_s:
                raise NotImplementedError(f"connections onto {post} with different tau_s")
            sign = -1.0 if c.pre.is_inhibitory else 1.0
            projections[key] = {"pre": pre, "post": post, "rule": "all_to_all",
                                "weight": sign * c.J * c.trace_scale, "scaling": "n"}
        populations = {name: layer.spec(tau_syn.get(name, 10.0))
                       for name, layer in self.layers.items()}
        spec_inputs = {}
        for name, current in (inputs or {}).items():
            current = numpy(current).reshape(steps, -1)
            spec_inputs[f"I_{name}"] = {"target": name, "file": files.save(f"I_{name}", current)}
        monitors = []
        for name, layer in self.layers.items():
            monitors.append({"population": name, "variable": "spikes"})
            monitors.append({"population": name, "variable": "v", "every": f"{self.dt} ms",
                             "mean": False})
            if layer.spike_trace:
                monitors.append({"population": name, "variable": "trace",
                                 "every": f"{self.dt} ms", "mean": False})
        return {"name": "cnsproject", "dt": f"{self.dt} ms", "duration": f"{steps * self.dt} ms",
                "seed": self.seed, "precision": "f64", "populations": populations,
                "projections": projections, "inputs": spec_inputs, "monitors": monitors}

    def run(self, time: float, inputs: dict[str, Any] | None = None, one_step: bool = False,
            **kwargs: Any) -> None:
        """Simulate ``time`` (ms); ``inputs`` maps layer names to currents (T, *shape)."""
        if one_step or kwargs:
            raise NotImplementedError("run: one_step, clamp, unclamp and masks")
        files = Files()
        # The data files live as long as the results' spec may be rerun.
        self._files = files
        results = _Network(self.spec(time, inputs, files)).run()
        steps = int(round(time / self.dt))
        self.results = results
        names = {id(layer): name for name, layer in self.layers.items()}
        for monitor in self.monitors.values():
            name = names[id(monitor.obj)]
            shape = (steps, *monitor.obj.shape)
            for var in monitor.state_variables:
                if var == "s":
                    counts = spike_counts(results[f"{name}.spikes"], 1, steps, monitor.obj.n)[0]
                    monitor._data["s"] = (counts > 0).reshape(shape)
                elif var == "u":
                    monitor._data["u"] = np.asarray(results[f"{name}.v"][0]).reshape(shape)
                else:
                    monitor._data["traces"] = np.asarray(results[f"{name}.trace"][0]).reshape(shape)

    def reset_state_variables(self) -> None:
        for monitor in self.monitors.values():
            monitor.reset_state_variables()
