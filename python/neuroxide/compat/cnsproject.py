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

Learning (``learning_rule=STDP``, ``FlatSTDP``, ``RSTDP``, ``FlatRSTDP``) runs in the engine as
``plasticity: {scheme: cnsproject}``: once per step, from the populations' traces after the
step's spikes, ``Δw = dt (lr₊ x_pre s_post − lr₋ x_post s_pre) − weight_decay · w``, clipped to
``[wmin, wmax]``; R-STDP's eligibility ``c ← c + dt (−c/τ_c + [s_pre ∨ s_post] Δ)`` and
``w ← w + dt c d`` with the dopamine of :class:`Reward` from the rewards given to
:meth:`Network.run`. A learning connection's current is the sum of the weights its spikes had
when delivered (cnsproject multiplies the traces by the current weights). ELIF/AELIF
populations, decision objects, ``one_step``, ``clamp``/``unclamp`` and ``norm`` are not
available.
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

    def spec(self, tau_exc: float, tau_inh: float) -> dict[str, Any]:
        population = {
            "size": self.n, "model": "lif_psc_exp",
            "neuron": {"tau_m": f"{self.R * self.C} ms", "c_m": f"{self.C} pF",
                       "e_l": f"{self.u_rest} mV", "v_th": f"{self.threshold} mV",
                       "v_reset": f"{self.u_rest} mV", "t_ref": "0 ms", "integration": "euler"},
            "synapse": {"tau_exc": f"{tau_exc} ms", "tau_inh": f"{tau_inh} ms"},
        }
        if self.spike_trace:
            population["trace"] = {"tau": f"{self.tau_s} ms", "scale": self.trace_scale,
                                   "additive": self.additive_spike_trace}
        return population


class LearningRule:
    """A cnsproject learning rule, passed as ``DenseConnection(..., learning_rule=STDP)``; the
    rule runs in the engine (``plasticity: {scheme: cnsproject}``)."""

    engine_rule: str | None = None


class NoOp(LearningRule):
    """No learning: with ``weight_decay``, only the decay and the clamp to ``[wmin, wmax]``."""


class STDP(LearningRule):
    """``Δw = dt (lr₊ x_pre s_post − lr₋ x_post s_pre) − weight_decay · w`` from the populations'
    traces (which hold the step's spikes)."""

    engine_rule = "stdp"


class FlatSTDP(LearningRule):
    """STDP with each trace replaced by the spike count of the last ``trace_periode`` steps."""

    engine_rule = "flat_stdp"


class RSTDP(LearningRule):
    """``c ← c + dt (−c/τ_c + [s_pre ∨ s_post] STDP)``, ``w ← w + dt · c · d`` with the dopamine
    ``d`` of the network's :class:`Reward`."""

    engine_rule = "rstdp"


class FlatRSTDP(LearningRule):
    """RSTDP with the spike counts of :class:`FlatSTDP`."""

    engine_rule = "flat_rstdp"


class DenseConnection:
    """``DenseConnection(pre, post, lr=None, weight_decay=0.0, J=0.0, tau_s=15, trace_scale=1,
    dt=1, learning_rule=NoOp, wmin=0, wmax=1, gamma=None, beta=None, trace_periode=50,
    tau_c=1.0)``: all-to-all ``w = J/N_pre``, a per-synapse exponential trace, and a learning
    rule. ``lr`` is a float or a (potentiation, depression) pair (``None``: 0.1, the rules'
    default); ``gamma``/``beta`` give the soft-bound learning rate
    ``lr · γ ((wmax − w)(w − wmin))^β`` (with them, ``lr=None`` means 1)."""

    def __init__(self, pre: LIFPopulation, post: LIFPopulation, lr: Any = None,
                 weight_decay: float = 0.0, J: float = 0.0, tau_s: float = 15.0,
                 trace_scale: float = 1.0, dt: float = 1.0, **kwargs: Any):
        rule = kwargs.pop("learning_rule", NoOp)
        if isinstance(rule, LearningRule):
            rule = type(rule)
        if not (isinstance(rule, type) and issubclass(rule, LearningRule)):
            raise ValueError(f"DenseConnection: learning_rule={rule!r}; expected NoOp, STDP, "
                             "FlatSTDP, RSTDP or FlatRSTDP (neuroxide.compat.cnsproject)")
        if kwargs.get("norm") is not None:
            raise NotImplementedError("DenseConnection: norm (input normalisation) is not "
                                      "available")
        known = {"wmin", "wmax", "gamma", "beta", "trace_periode", "tau_c", "norm"}
        unknown = set(kwargs) - known
        if unknown:
            raise ValueError(f"DenseConnection: unknown arguments {sorted(unknown)} "
                             f"(known: {sorted(known | {'learning_rule'})})")
        soft = kwargs.get("gamma") is not None or kwargs.get("beta") is not None
        if lr is None:
            lr = 1.0 if soft else 0.1
        lr_plus, lr_minus = (lr, lr) if np.ndim(lr) == 0 else tuple(lr)
        self.pre, self.post = pre, post
        self.J, self.tau_s, self.trace_scale, self.dt = float(J), float(tau_s), trace_scale, dt
        self.learning_rule, self.weight_decay = rule, float(weight_decay)
        self.lr = (float(lr_plus), float(lr_minus))
        self.wmin, self.wmax = float(kwargs.get("wmin", 0.0)), float(kwargs.get("wmax", 1.0))
        self.gamma = None if not soft else float(kwargs.get("gamma") or 1.0)
        self.beta = None if not soft else float(kwargs.get("beta") or 1.0)
        self.trace_periode = int(kwargs.get("trace_periode", 50))
        self.tau_c = float(kwargs.get("tau_c", 1.0))
        self._w: np.ndarray | None = None

    @property
    def learns(self) -> bool:
        return self.learning_rule.engine_rule is not None or self.weight_decay != 0.0

    @property
    def w(self) -> np.ndarray:
        """(pre, post) weights: ``J/N_pre`` as cnsproject stores them, or those learned by the
        last run."""
        if self._w is not None:
            return self._w.copy()
        return np.full((self.pre.n, self.post.n), self.J / self.pre.n)

    def plasticity(self, dt: float, reward: "Reward", rewards: list[dict[str, Any]]
                   ) -> dict[str, Any]:
        """The engine's ``plasticity:`` block (engine weights are ``trace_scale · w``)."""
        ts = float(self.trace_scale)
        rule = self.learning_rule.engine_rule or "stdp"
        a_plus, a_minus = self.lr if self.learning_rule.engine_rule else (0.0, 0.0)
        block: dict[str, Any] = {
            "rule": rule, "scheme": "cnsproject", "a_plus": a_plus * dt * ts,
            "a_minus": a_minus * dt * ts, "w_min": self.wmin * ts, "w_max": self.wmax * ts,
        }
        if self.weight_decay:
            # STDP: −weight_decay·w per step; RSTDP: dt·weight_decay·w into the eligibility.
            per_step = self.weight_decay * (dt if rule.endswith("rstdp") else 1.0)
            block["weight_decay"] = f"{per_step / dt * 1e3!r} Hz"
        if self.gamma is not None:
            block["weight_dependence"] = "soft_bound"
            block["gamma"] = self.gamma / ts ** (2 * self.beta)
            block["beta"] = self.beta
        if rule.startswith("flat"):
            block["window"] = f"{self.trace_periode * dt} ms"
        if rule.endswith("rstdp"):
            block["tau_c"] = f"{self.tau_c} ms"
            block["reward"] = {"tau_d": f"{reward.tau_d} ms", "schedule": rewards}
        return block


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


class Reward:
    """cnsproject's ``Reward(tau_d=1, dt=1)``: the dopamine ``d ← d + dt (−d/τ_d + r)``.
    ``compute(reward=r)`` advances it one step and returns ``d`` (for loops written by hand);
    given to :class:`Network`, the engine integrates the same equation from the rewards passed
    to :meth:`Network.run`."""

    def __init__(self, tau_d: float = 1.0, dt: float = 1.0, **kwargs: Any):
        if not tau_d > 0:
            raise ValueError(f"Reward: tau_d = {tau_d}; expected a time constant > 0 (ms)")
        self.tau_d, self.dt, self.d = float(tau_d), float(dt), 0.0

    def compute(self, reward: float = 0.0, **kwargs: Any) -> float:
        self.d += self.dt * (-self.d / self.tau_d + float(reward))
        return self.d

    def update(self, **kwargs: Any) -> None:
        pass

    def reset_state_variables(self) -> None:
        self.d = 0.0


class Network:
    """``Network(dt=1.0, learning=True, reward=None, decision=None)``. ``reward``: a
    :class:`Reward` (class or instance) whose ``tau_d`` the reward-modulated rules use; the
    rewards themselves are given to :meth:`run`. ``decision`` objects (rewards computed from the
    network's own spikes at each step) are refused."""

    def __init__(self, dt: float = 1.0, learning: bool = True, reward: Any = None,
                 decision: Any = None, seed: int = 0, **kwargs: Any):
        if decision is not None:
            raise NotImplementedError(
                "Network(decision=...): a decision computed from the network's own spikes at "
                "every step (closed-loop reward) is not available; the engine takes rewards "
                "given in advance: run(time, inputs, reward=array (steps,) or callable(step))")
        if isinstance(reward, type):
            reward = reward(dt=dt, **kwargs)
        if reward is not None and not isinstance(reward, Reward):
            raise ValueError(f"Network: reward={reward!r}; expected cnsproject.Reward")
        self.dt, self.learning, self.seed = float(dt), learning, seed
        self.reward = reward
        self.layers: dict[str, LIFPopulation] = {}
        self.connections: dict[str, DenseConnection] = {}
        self.monitors: dict[str, Monitor] = {}

    def add_layer(self, layer: LIFPopulation, name: str) -> None:
        self.layers[name] = layer

    def add_connection(self, connection: DenseConnection, pre: str, post: str) -> None:
        self.connections[f"{pre}_to_{post}"] = connection

    def add_monitor(self, monitor: Monitor, name: str) -> None:
        self.monitors[name] = monitor

    def train(self, mode: bool = True) -> None:
        """Learning on (``True``) or off for the next runs."""
        self.learning = bool(mode)

    def _rewards(self, steps: int, reward: Any) -> list[dict[str, Any]]:
        """Reward segments (one per run of equal values) of ``reward``: (steps,) values or a
        callable of the step index."""
        if reward is None:
            return []
        if callable(reward):
            values = np.array([float(reward(i)) for i in range(steps)])
        else:
            values = numpy(reward).reshape(-1)
            if values.shape != (steps,):
                raise ValueError(f"run: reward has {values.size} values; expected one per step "
                                 f"({steps})")
        if not np.all(np.isfinite(values)):
            raise ValueError("run: reward values must be finite")
        segments, start = [], 0
        for i in range(1, steps + 1):
            if i == steps or values[i] != values[start]:
                if values[start] != 0.0:
                    segments.append({"start": f"{start * self.dt!r} ms",
                                     "stop": f"{i * self.dt!r} ms",
                                     "value": float(values[start])})
                start = i
        return segments

    def spec(self, time: float, inputs: dict[str, Any] | None, files: Files,
             reward: Any = None, masks: dict[str, Any] | None = None) -> dict[str, Any]:
        steps = int(round(time / self.dt))
        names = {id(layer): name for name, layer in self.layers.items()}
        # One synaptic time constant per sign of the connections onto a layer.
        tau_syn: dict[tuple[str, bool], float] = {}
        projections = {}
        rewards = self._rewards(steps, reward)
        rewarded = False
        unknown = set(masks or {}) - set(self.connections)
        if unknown:
            raise ValueError(f"run: masks for unknown connections {sorted(unknown)} "
                             f"(connections: {sorted(self.connections)})")
        for key, c in self.connections.items():
            pre, post = names[id(c.pre)], names[id(c.post)]
            inhibitory = bool(c.pre.is_inhibitory)
            if tau_syn.setdefault((post, inhibitory), c.tau_s) != c.tau_s:
                kind = "inhibitory" if inhibitory else "excitatory"
                raise NotImplementedError(
                    f"{key}: {kind} connections onto {post} with different tau_s "
                    f"({tau_syn[(post, inhibitory)]} and {c.tau_s}); the engine keeps one "
                    "synaptic time constant per sign (tau_exc, tau_inh) of each population")
            sign = -1.0 if inhibitory else 1.0
            projection = {"pre": pre, "post": post, "rule": "all_to_all",
                          "weight": sign * c.J * c.trace_scale, "scaling": "n"}
            mask = masks.get(key) if masks else None
            if c._w is not None or mask is not None:
                projection.update(self._edges(key, c, mask, files))
            if self.learning and c.learns:
                projection["plasticity"] = c.plasticity(self.dt, self.reward or Reward(dt=self.dt),
                                                        rewards)
                rewarded |= c.learning_rule.engine_rule in ("rstdp", "flat_rstdp")
            projections[key] = projection
        if reward is not None and not rewarded:
            raise ValueError("run: reward given, but no connection learns with RSTDP or "
                             "FlatRSTDP (or learning is off)")
        populations = {name: layer.spec(tau_syn.get((name, False), 10.0),
                                        tau_syn.get((name, True), 10.0))
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

    @staticmethod
    def _edges(key: str, c: DenseConnection, mask: Any, files: Files) -> dict[str, Any]:
        """The connection as explicit edges: its (learned) weights without the masked ones."""
        w = c.w
        keep = np.ones(w.shape, dtype=bool)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != w.shape:
                mask = mask.reshape(w.shape) if mask.size == w.size else None
            if mask is None:
                raise ValueError(f"run: the mask of {key} needs shape (pre, post) = {w.shape}")
            keep &= ~mask
        if np.any(keep & (w == 0.0)):
            raise NotImplementedError(
                f"{key}: some weights are exactly 0 (learned down to wmin = 0); the engine drops "
                "zero-weight synapses, so they could not learn again in this run: give wmin > 0")
        pre, post = np.nonzero(keep)
        path = files.path / f"{key}_edges.npz"
        np.savez(path, post=post.astype(np.int64), pre=pre.astype(np.int64),
                 weight=w[pre, post].astype(np.float64))
        sign = -1.0 if c.pre.is_inhibitory else 1.0
        return {"rule": {"explicit": {"file": str(path)}}, "weight": sign * c.trace_scale,
                "scaling": "raw"}

    def run(self, time: float, inputs: dict[str, Any] | None = None, one_step: bool = False,
            reward: Any = None, masks: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Simulate ``time`` (ms); ``inputs`` maps layer names to currents (T, *shape);
        ``reward``: the reward of each step for the RSTDP connections, (T,) values or a
        callable of the step index; ``masks``: {connection key: bool (pre, post)}, synapses
        removed. Learned weights carry over to the next run (``connection.w``)."""
        if one_step:
            raise NotImplementedError(
                "run(one_step=True): propagating spikes through every layer within one step is "
                "not available; a spike acts on its targets one step later (the engine's "
                "minimum delay)")
        for key in ("clamp", "unclamp"):
            if kwargs.pop(key, None):
                raise NotImplementedError(
                    f"run({key}=...): forcing neurons to spike or not is not available; drive "
                    "them with inputs instead")
        if kwargs:
            raise ValueError(f"run: unknown arguments {sorted(kwargs)}")
        files = Files()
        # The data files live as long as the results' spec may be rerun.
        self._files = files
        results = _Network(self.spec(time, inputs, files, reward, masks)).run()
        steps = int(round(time / self.dt))
        self.results = results
        for key, c in self.connections.items():
            if f"{key}.weights" in results:
                w = np.zeros((c.pre.n, c.post.n))
                w[results[f"{key}.synapse_pre"], results[f"{key}.synapse_post"]] = (
                    np.abs(results[f"{key}.weights"][0]) / c.trace_scale)
                c._w = w
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
