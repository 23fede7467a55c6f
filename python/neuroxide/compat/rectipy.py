"""RectiPy's ``Network`` (Richard Gast's ``rectipy``) over the neuroxide engine.

::

    from neuroxide.compat.rectipy import Network
    net = Network(dt=1e-3)
    net.add_diffeq_node("qif", "neuron_model_templates.spiking_neurons.qif.qif", weights=J,
                        source_var="s", target_var="s_in", input_var="I_ext", output_var="s",
                        spike_var="spike", reset_var="v", op="qif_op",
                        node_vars={"eta": eta, "tau": 1.0, "k": 2.0, "tau_s": 5.0},
                        spike_threshold=100.0, spike_reset=-100.0)
    obs = net.run(inputs, sampling_steps=10, record_vars=[("qif", "v", False)], verbose=False)
    obs.to_numpy("out"), obs.to_dataframe(("qif", "v")), obs.plot("out")

Templates, in RectiPy's units with its time unit taken as ms (``s_in = Σ_j J_ij o_j``, ``o`` the
``source_var``):

* ``qif.qif``: ``τ v' = v² + η + I_ext + τ k s_in``, ``s' = −s/τ_s + spike``;
* ``qif.qif_sfa``: the same with ``η − x`` and ``x' = −x/τ_x + α spike`` (run on the engine's
  Izhikevich model through the exact change of variables ``v_iz = (25/τ) v − 62.5``);
* ``lif.lif``: ``v' = −v/τ + k s_in + I_ext + η``, ``s' = −s/τ_s + spike``;
* ``ik.ik`` (Izhikevich 2007): ``C v' = k(v − v_r)(v − v_t) − u + I_ext + η``,
  ``u' = (b(v − v_r) − u)/τ_u + κ spike`` (on the engine's Izhikevich model with
  ``v_iz = (25k/C) v + μ``); without recurrent weights, whose conductance ``g s_in (E_r − v)``
  has no exact engine counterpart;
* ``leaky_integrator.tanh`` / ``.sigmoid`` (rate nodes, ``spike_var=None``):
  ``v' = −v/τ + k s_in + I_ext + η``, ``r = tanh(v)`` or ``r_max/(1 + e^{s(v₀ − v)})``.

A spike (``v ≥ spike_threshold``) resets ``v`` to ``spike_reset`` and adds 1 to ``s``. Everything
steps with forward Euler except the synaptic trace of LIF nodes, which decays exactly
(``s ← s e^{−dt/τ_s} + spikes``, the recorded ``s`` too), a difference of O(dt/τ_s)² per step
from RectiPy's Euler step. ``k`` and ``η`` may be per neuron.

Edges (``add_edge``) deliver the source's ``output_var`` into the target's ``input_var`` one step
later (RectiPy's pre-update output), optionally delayed by whole steps (``delays``, one per
source neuron); a leaky integrator whose weights and edges read ``v`` runs as a linear
rate population. Function nodes (``add_func_node``) are memoryless and can be the input node
(applied to the inputs) or the output node (a readout). ``fit_bptt`` trains the network by
backpropagation through time with RectiPy's surrogate gradient (neuroxide's training crate);
``fit_ridge`` and ``fit_rls`` fit a readout of the sampled outputs and add it as the node
``"readout"``.

Decided differently from RectiPy (its quirks, spec A.7): a spike is detected at the end of the
step in which ``v`` crosses the threshold (RectiPy: at the start of the next one) and ``v`` is
reset then; node outputs are the state after the step (RectiPy returns the state before it).
Not available (``NotImplementedError`` with the reason): ``ik.iku``, ``ik.ik_biexp`` and ik's
recurrent conductance, ``reset=False``, per-neuron τ and τ_s, function nodes inside the graph,
filtered and RLS edges (``fit_rls`` fits a readout of the sampled outputs instead).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import Network as _Network
from .. import _neuroxide
from ._files import Files, numpy, spike_counts

_TEMPLATES = {
    "qif": {"tau": 1.0, "eta": -5.0, "k": 1.0, "tau_s": 1.0, "v": -2.0},
    "qif_sfa": {"tau": 1.0, "eta": -5.0, "k": 1.0, "tau_s": 1.0, "v": -2.0, "alpha": 1.0,
                "tau_x": 10.0, "x": 0.0},
    "lif": {"tau": 10.0, "eta": 0.0, "k": 1.0, "tau_s": 0.5, "v": 0.0},
    "ik": {"C": 100.0, "k": 0.7, "v_r": -60.0, "v_t": -40.0, "eta": 0.0, "g": 1.0, "E_r": 0.0,
           "b": -2.0, "tau_u": 33.33, "kappa": 10.0, "tau_s": 6.0, "v": -60.0, "u": 0.0},
    "li_tanh": {"tau": 10.0, "eta": 0.0, "k": 1.0, "v": 0.0},
    "li_sigmoid": {"tau": 10.0, "eta": 0.0, "k": 1.0, "v": 0.0, "r_max": 1.0, "s": 1.0,
                   "v0": 0.0},
}
_SPIKING = ("qif", "qif_sfa", "lif", "ik")
# Per-neuron values are allowed for these; the rest are per population in the engine.
_PER_NEURON = ("eta", "k", "v", "x", "u")
_TRAINABLE = ("weights", "eta", "k")
# The engine's Izhikevich model, dv/dt = 0.04 v² + 5 v + 140 − u + I: QIF-SFA maps onto it with
# v_iz = λ v + μ, λ = 25/τ, μ = −62.5 (0.04 (v_iz − μ)² = 0.04 v_iz² + 5 v_iz + 156.25).
_IZ_MU, _IZ_CONST = -62.5, 156.25 - 140.0


def _template(node: Any) -> str:
    name = str(node).split(".")[-2:]
    if name in (["qif", "qif"], ["lif", "lif"], ["qif", "qif_sfa"]):
        return name[1]
    if name == ["leaky_integrator", "tanh"]:
        return "li_tanh"
    if name == ["leaky_integrator", "sigmoid"]:
        return "li_sigmoid"
    if name == ["ik", "ik"]:
        return "ik"
    if name[0] == "ik":
        raise NotImplementedError(
            f"template {node!r}: RectiPy's iku and ik_biexp drive the recovery variable by "
            "population means (and ik_biexp has bi-exponential synapses); neuroxide's izhikevich "
            "model recovers per neuron, so the equations do not match (ik.ik is supported)")
    raise NotImplementedError(
        f"template {node!r}: neuroxide.compat.rectipy runs qif.qif, qif.qif_sfa, lif.lif, "
        "leaky_integrator.tanh and leaky_integrator.sigmoid")


_ACTIVATIONS = ("identity", "tanh", "sigmoid", "softmax", "softmin", "log_softmax")


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    """A function node's activation per step (rows); softmax-like ones over the units (RectiPy's
    dim 0 of one step's vector)."""
    if name == "identity":
        return z
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    sign = -1.0 if name == "softmin" else 1.0
    a = sign * z
    a = a - a.max(axis=-1, keepdims=True)
    if name == "log_softmax":
        return a - np.log(np.exp(a).sum(axis=-1, keepdims=True))
    e = np.exp(a)
    return e / e.sum(axis=-1, keepdims=True)


def _activate_back(name: str, z: np.ndarray, p: np.ndarray, g: np.ndarray) -> np.ndarray:
    """∂L/∂z from ∂L/∂p for p = activation(z)."""
    if name == "identity":
        return g
    if name == "tanh":
        return g * (1.0 - p * p)
    if name == "sigmoid":
        return g * p * (1.0 - p)
    if name == "log_softmax":
        return g - np.exp(p) * g.sum(axis=-1, keepdims=True)
    back = p * (g - (p * g).sum(axis=-1, keepdims=True))
    return -back if name == "softmin" else back


_LOSSES = ("mse", "l1", "ce", "nll", "kld", "hinge")


def _loss(name: str, p: np.ndarray, y: np.ndarray, kwargs: dict) -> tuple[float, np.ndarray]:
    """PyTorch's losses (mean reduction) on predictions p (steps × C): value and ∂L/∂p. ce and
    nll take class indices (steps,) or, for ce, probabilities (steps × C)."""
    if name == "mse":
        d = p - y
        return float(np.mean(d * d)), 2.0 * d / d.size
    if name == "l1":
        d = p - y
        return float(np.mean(np.abs(d))), np.sign(d) / d.size
    if name in ("ce", "nll"):
        if y.ndim == 1 or y.shape[-1] == 1 and p.shape[-1] > 1:
            onehot = np.zeros_like(p)
            onehot[np.arange(len(p)), y.reshape(-1).astype(int)] = 1.0
        else:
            onehot = y
        if name == "nll":
            return float(-np.sum(onehot * p) / len(p)), -onehot / len(p)
        logp = _activate("log_softmax", p)
        return float(-np.sum(onehot * logp) / len(p)), \
            (np.exp(logp) * onehot.sum(axis=-1, keepdims=True) - onehot) / len(p)
    if name == "kld":  # input log-probabilities, target probabilities
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(y > 0, y * (np.log(np.where(y > 0, y, 1.0)) - p), 0.0)
        return float(np.mean(term)), -y / y.size
    if name == "hinge":  # HingeEmbeddingLoss, targets ±1
        margin = float(kwargs.get("margin", 1.0))
        active = (y < 0) & (margin - p > 0)
        value = np.where(y > 0, p, np.maximum(0.0, margin - p))
        return float(np.mean(value)), (np.where(y > 0, 1.0, 0.0) - active) / y.size
    raise ValueError(f"loss: got {name!r}, expected one of {', '.join(_LOSSES)}")


class _Node:
    def __init__(self, label: str, kind: str, n: int, weights: np.ndarray | None,
                 params: dict[str, Any], output_var: str, source_var: str, threshold: float,
                 reset: float, slope: float, train_params: list[str], func: str | None = None):
        self.label, self.kind, self.n = label, kind, n
        self.weights, self.params = weights, params
        self.output_var, self.source_var = output_var, source_var
        self.threshold, self.reset, self.slope = threshold, reset, slope
        self.train_params, self.func = train_params, func

    @property
    def spiking(self) -> bool:
        return self.kind in _SPIKING


class _Edge:
    def __init__(self, source: str, target: str, weights: np.ndarray, train: bool,
                 delays: np.ndarray | None, mask: np.ndarray | None = None):
        self.source, self.target, self.weights = source, target, weights
        self.train, self.delays, self.mask = train, delays, mask

    @property
    def label(self) -> str:
        return f"{self.source}->{self.target}"


class Observer:
    """Recordings of a run: ``obs["out"]``, ``obs[(node, var)]`` (lists of arrays, one per
    sample), ``to_numpy``, ``to_dataframe``, ``plot``, ``steps``."""

    def __init__(self, dt: float, steps: np.ndarray, data: dict[Any, np.ndarray]):
        self.dt = dt
        self.steps = list(steps)
        self._data = data

    def __getitem__(self, item: Any) -> list[np.ndarray]:
        return list(self.to_numpy(item))

    @property
    def times(self) -> np.ndarray:
        """Time after each sampled step: ``(step + 1)·dt``."""
        return (np.asarray(self.steps) + 1) * self.dt

    @property
    def recorded_variables(self) -> list[Any]:
        return list(self._data)

    def to_numpy(self, item: Any) -> np.ndarray:
        """(samples, neurons) (or (samples,) for a population mean)."""
        key = tuple(item) if isinstance(item, list) else item
        if key not in self._data:
            raise KeyError(f"{item!r} was not recorded; recorded: {self.recorded_variables}")
        return self._data[key]

    def to_dataframe(self, item: Any) -> Any:
        import pandas as pd

        values = self.to_numpy(item)
        index = pd.Index(self.times, name="time")
        return pd.DataFrame(values.reshape(len(index), -1), index=index)

    def plot(self, y: Any, x: Any = None, ax: Any = None, **kwargs: Any) -> Any:
        if ax is None:
            import matplotlib.pyplot as plt

            ax = plt.figure().add_subplot()
        values = self.to_numpy(y)
        xs = self.times if x is None else self.to_numpy(x)
        ax.plot(xs, values, **kwargs)
        ax.set_xlabel("time" if x is None else str(x))
        ax.set_ylabel(str(y))
        return ax


class Network:
    """``Network(dt, device="cpu", dtype=None)``; ``seed`` picks neuroxide's random streams."""

    def __init__(self, dt: float, device: str = "cpu", dtype: Any = None, seed: int = 0):
        self.dt = float(dt)
        self.device = device
        self.seed = seed
        self._nodes: dict[str, _Node] = {}
        self._edges: list[_Edge] = []

    # --- graph --------------------------------------------------------------------------------

    def add_diffeq_node(self, label: str, node: Any, input_var: str, output_var: str,
                        weights: Any = None, source_var: str | None = None,
                        target_var: str | None = None, spike_var: str | None = None,
                        reset_var: str | None = None, reset: bool = True, op: str | None = None,
                        train_params: Any = None, **kwargs: Any) -> _Node:
        kind = _template(node)
        spiking = kind in _SPIKING
        if spiking and spike_var is None:
            raise NotImplementedError(
                f"{label}: {kind} as a rate node (spike_var=None) has no reset and blows up; "
                "give spike_var and reset_var")
        if not spiking and spike_var is not None:
            raise ValueError(f"{label}: a leaky integrator does not spike; leave spike_var=None")
        if spiking and reset_var is None:
            raise ValueError(f"{label}: a spiking node (spike_var={spike_var!r}) needs reset_var")
        if not reset:
            raise NotImplementedError(
                f"{label}: reset=False leaves the reset to the template (RectiPy's SpikeNet), but "
                "qif, qif_sfa and lif have no reset term (only qif_reset_op, which no template "
                "uses, has one) and RectiPy's own SpikeNet path is broken at HEAD; use reset=True")
        train = [str(p).split("/")[-1] for p in (train_params or [])]
        for p in train:
            if p not in _TRAINABLE:
                raise NotImplementedError(
                    f"{label}: train_params {p!r}; fit_bptt trains {', '.join(_TRAINABLE)} of "
                    "nodes (τ and τ_s are per population in the engine)")
        if "weights" in train and weights is None:
            raise ValueError(f"{label}: train_params has 'weights' but the node has none")
        params = dict(_TEMPLATES[kind])
        w = None if weights is None else numpy(weights)
        n_given = kwargs.pop("N", None)
        n = n_given if w is None else w.shape[0]
        if n is None:
            raise ValueError(f"{label}: give weights (N×N) or N")
        n = int(n)
        for key, value in (kwargs.pop("node_vars", None) or {}).items():
            name = key.split("/")[-1]
            if name not in params:
                raise ValueError(f"node_vars: {key!r} is not a variable of {kind} "
                                 f"({', '.join(params)})")
            params[name] = numpy(value)
        for name, value in params.items():
            value = np.asarray(value, dtype=np.float64)
            if name in _PER_NEURON and not (kind == "ik" and name == "k"):
                if value.ndim and value.size not in (1, n):
                    raise ValueError(f"{label}: {name} has {value.size} values, expected 1 or {n}")
                params[name] = np.broadcast_to(value.reshape(-1) if value.ndim else value,
                                               (n,)).copy()
                continue
            if value.ndim and not np.all(value == value.flat[0]):
                raise NotImplementedError(
                    f"{label}: per-neuron {name} (the engine's {name} is one value per "
                    "population); per-neuron k and η are supported")
            params[name] = float(value.flat[0]) if value.ndim else float(value)
        threshold = float(kwargs.pop("spike_threshold", 1e2))
        spike_reset = float(kwargs.pop("spike_reset", -1e2))
        slope = float(kwargs.pop("spike_slope", 100.0 / abs(threshold - spike_reset)))
        for key in ("spike_center", "record_vars", "dtype", "float_precision", "clear",
                    "edge_attr", "file_name"):
            kwargs.pop(key, None)
        if kwargs:
            raise TypeError(f"add_diffeq_node: unexpected arguments {sorted(kwargs)}")
        out = output_var.split("/")[-1]
        allowed = ("s", "v") if spiking else ("v", "r")
        if out not in allowed:
            raise NotImplementedError(f"{label}: output_var {output_var!r} ({' or '.join(allowed)})")
        src = (source_var or ("s" if spiking else "r")).split("/")[-1]
        if w is not None and src not in (("s",) if spiking else ("r", "v")):
            raise NotImplementedError(
                f"{label}: source_var {source_var!r}; recurrent weights of spiking nodes read the "
                "trace s (the engine's projections carry spikes)")
        if kind == "ik" and w is not None and np.any(w != 0):
            raise NotImplementedError(
                f"{label}: recurrent weights of ik enter as a conductance g·s_in·(E_r − v) of an "
                "Euler-decaying trace; the engine's conductance synapses decay exactly and take one "
                "sign per synapse, so the equations would not match (edges into I_ext are "
                "supported)")
        if w is not None and w.shape != (n, n):
            raise ValueError(f"{label}: weights of shape {w.shape}, expected a square matrix")
        node_ = _Node(label, kind, n, w, params, out, src, threshold, spike_reset, slope, train)
        self._nodes[label] = node_
        return node_

    def add_func_node(self, label: str, n: int, activation_function: str = "identity",
                      **kwargs: Any) -> _Node:
        """A memoryless node ``y = f(x)`` (RectiPy's ``InstantNode``): ``identity``, ``tanh``,
        ``sigmoid``, ``softmax``, ``softmin``, ``log_softmax`` (the last three over the units).
        It can be the input node (f applied to the inputs) or the output node (a readout)."""
        if activation_function not in _ACTIVATIONS:
            raise ValueError(f"activation_function: got {activation_function!r}, expected one "
                             f"of {', '.join(_ACTIVATIONS)}")
        if kwargs.pop("dim", 0) not in (0, -1):
            raise NotImplementedError("add_func_node: dim other than the units of one step")
        if kwargs:
            raise TypeError(f"add_func_node: unexpected arguments {sorted(kwargs)}")
        node_ = _Node(label, "func", int(n), None, {}, "y", "y", 0.0, 0.0, 1.0, [],
                      func=activation_function)
        self._nodes[label] = node_
        return node_

    def add_edge(self, source: str, target: str, weights: Any = None, train: Any = None,
                 edge_attrs: Any = None, **kwargs: Any) -> _Edge:
        """Source output → target input through ``weights`` (target × source; a source × target
        matrix is transposed as RectiPy does; none: standard normal). ``train="gd"`` makes the
        weights trainable by :meth:`fit_bptt`; ``mask`` (0/1, RectiPy's ``W ⊙ M``) keeps entries
        at 0, in training too; ``delays`` (whole steps, one per source neuron or
        one for all) delay what each source neuron sends."""
        if train not in (None, "gd"):
            raise NotImplementedError(
                f"add_edge: train={train!r}; fit_rls fits a readout of the sampled outputs "
                "instead of an RLS edge (train='gd' and None are supported)")
        delays = kwargs.pop("delays", None)
        mask = kwargs.pop("mask", None)
        if "filter_weights" in kwargs:
            raise NotImplementedError("add_edge: filter_weights (IIR-filtered edges)")
        if kwargs.pop("train_params", None) not in (None, ["weights"], ("weights",)):
            raise NotImplementedError("add_edge: train_params other than the weights")
        if kwargs:
            raise TypeError(f"add_edge: unexpected arguments {sorted(kwargs)}")
        if source not in self._nodes or target not in self._nodes:
            raise KeyError(f"add_edge: unknown node {source if source not in self._nodes else target!r}"
                           f" (nodes: {', '.join(self._nodes)})")
        src, tgt = self._nodes[source], self._nodes[target]
        w = np.random.default_rng(self.seed).normal(size=(tgt.n, src.n)) if weights is None \
            else numpy(weights)
        if w.shape == (src.n, tgt.n) and src.n != tgt.n:
            w = w.T
        if w.shape != (tgt.n, src.n):
            raise ValueError(f"add_edge: weights of shape {w.shape}, expected ({tgt.n}, {src.n})")
        if mask is not None:
            mask = np.asarray(numpy(mask) != 0, dtype=np.float64)
            if mask.shape == (src.n, tgt.n) and src.n != tgt.n:
                mask = mask.T
            if mask.shape != w.shape:
                raise ValueError(f"add_edge: mask of shape {mask.shape}, expected {w.shape}")
            w = w * mask  # RectiPy's W ⊙ M; fit_bptt keeps the masked entries at 0
        d = None
        if delays is not None:
            d = np.broadcast_to(np.asarray(delays), (src.n,))
            if np.any(d < 0) or np.any(d != np.round(d)):
                raise ValueError(f"add_edge: delays must be whole numbers of steps ≥ 0, got {delays}")
            d = d.astype(np.int64)
        edge = _Edge(source, target, w, train == "gd", d, mask)
        self._edges.append(edge)
        return edge

    def compile(self) -> None:
        targets = {e.target for e in self._edges}
        inputs = [n for n in self._nodes if n not in targets]
        if len(inputs) != 1:
            raise ValueError(f"expected one input node (no incoming edges), got {inputs}")
        sources = {e.source for e in self._edges}
        outputs = [n for n in self._nodes if n not in sources]
        if len(outputs) != 1:
            raise ValueError(f"expected one output node (no outgoing edges), got {outputs}")
        self._input, self._output = inputs[0], outputs[0]
        self._in_func = self._out_func = None
        for label, node in self._nodes.items():
            if node.kind != "func":
                continue
            edges = [e for e in self._edges if label in (e.source, e.target)]
            if label == self._input and len(edges) == 1:
                self._in_func, self._input = edges[0], edges[0].target
            elif label == self._output and len(edges) == 1:
                self._out_func, self._output = edges[0], edges[0].source
            else:
                raise NotImplementedError(
                    f"{label}: a function node inside the graph; neuroxide's RectiPy layer takes "
                    "one as the input node or as the output node (one edge each)")
        for label in (self._input, self._output):
            if self._nodes[label].kind == "func":
                raise ValueError(f"{label}: function nodes need a diffeq node next to them")
        self._diffeq = [n for n, node in self._nodes.items() if node.kind != "func"]
        self._graph_edges = [e for e in self._edges
                             if e is not self._in_func and e is not self._out_func]

    # --- the engine model ---------------------------------------------------------------------

    @staticmethod
    def _scales(node: _Node) -> tuple[float, float]:
        """(gain, external): the engine's current (or rate-projection weight) equals gain × a
        term added to RectiPy's v'; an input I_ext adds external × I_ext to v'."""
        if node.kind == "ik":
            return Network._ik(node)["lam"], 1.0 / node.params["C"]
        tau = node.params["tau"]
        if node.kind == "qif":
            return tau, 1.0 / tau
        if node.kind == "qif_sfa":
            return 25.0 / tau, 1.0 / tau
        return tau, 1.0  # lif, leaky integrators

    @staticmethod
    def _ik(node: _Node) -> dict[str, float]:
        """RectiPy's ik (C v' = k(v − v_r)(v − v_t) − u + I, u' = (b(v − v_r) − u)/τ_u) as the
        engine's izhikevich model: v_iz = λ v + μ with λ = 25k/C and μ chosen so that
        0.04 v_iz² + 5 v_iz matches the quadratic, u_iz = (λ/C) u + ū, the constants in the input."""
        p = node.params
        lam = 25.0 * p["k"] / p["C"]
        mu = (-125.0 - lam * (p["v_r"] + p["v_t"])) / 2.0
        ubar = p["b"] / p["C"] * (mu + lam * p["v_r"])
        const = 0.04 * (mu + lam * p["v_r"]) * (mu + lam * p["v_t"]) - 140.0 + ubar
        return {"lam": lam, "mu": mu, "ubar": ubar, "const": const}

    def _synapse(self, label: str) -> tuple[str, float] | None:
        """The synapse kind and τ of a spiking node: those of the spiking nodes it hears (its
        own trace for the recurrence, the sources' for edges)."""
        node = self._nodes[label]
        heard = [self._nodes[e.source] for e in self._graph_edges
                 if e.target == label and self._nodes[e.source].spiking]
        if node.weights is not None and np.any(node.weights != 0):
            heard.append(node)
        if not heard:
            return None
        taus = {h.params["tau_s"] for h in heard}
        kinds = {"current_exp" if h.kind == "lif" else "filtered" for h in heard}
        if len(taus) > 1 or len(kinds) > 1:
            raise NotImplementedError(
                f"{label}: it hears spiking nodes with different tau_s or trace rules "
                f"({sorted(taus)}); the engine filters the spikes a population receives with the "
                "post population's synapse")
        kind = kinds.pop()
        if node.kind == "lif" and kind != "current_exp":
            raise NotImplementedError(
                f"{label}: a LIF node hearing QIF traces (Euler-decaying); the engine's "
                "lif_psc_exp synapse decays exactly")
        return kind, taus.pop()

    def _lowpass(self, node: _Node, drive: np.ndarray) -> np.ndarray:
        """c_{t+1} = c_t (1 − dt/τ) + dt x_t: the input a rate population needs for its μ to
        follow a leaky integrator's v (μ = I_syn + c, I_syn Euler-filtered with τ)."""
        c, out, a = np.zeros(node.n), np.empty_like(drive), 1.0 - self.dt / node.params["tau"]
        for i in range(len(drive)):
            c = c * a + self.dt * drive[i]
            out[i] = c
        return out

    def run(self, inputs: Any, sampling_steps: int = 1, cutoff: int = 0, verbose: bool = True,
            enable_grad: bool = True, **kwargs: Any) -> Observer:
        self.compile()
        record_output = kwargs.pop("record_output", True)
        record_vars = kwargs.pop("record_vars", None) or []
        x = self._input_drive(numpy(inputs))
        steps = x.shape[0]
        files = Files()
        populations, projections, inputs_spec, monitors = {}, {}, {}, []
        for label in self._diffeq:
            node = self._nodes[label]
            p = node.params
            gain, external = self._scales(node)
            drive = np.zeros((steps, node.n)) + p["eta"]
            if label == self._input:
                drive = drive + x
            if node.spiking:
                population, current = self._spiking_population(label, node, gain)
                initial = {"v": {"file": files.save(f"v0_{label}", current["v"])}}
                if "w" in current:
                    initial["w"] = {"file": files.save(f"w0_{label}", current["w"])}
                population["initial"] = initial
                series = gain * external * drive + current["offset"]
                monitors.append({"population": label, "variable": "spikes"})
                monitors.append({"population": label, "variable": "v", "every": f"{self.dt} ms",
                                 "mean": False})
                if node.kind in ("qif_sfa", "ik"):
                    monitors.append({"population": label, "variable": "w",
                                     "every": f"{self.dt} ms", "mean": False})
            else:
                lowpass = self._lowpass(node, drive)
                linear = self._carries_v(label)
                transfer = "id" if linear else "tanh" if node.kind == "li_tanh" else "sigmoid"
                r0 = p["v"] if linear else self._rate(node, p["v"])
                population = {
                    "size": node.n, "tau_syn": f"{p['tau']} ms", "transfer": transfer,
                    "initial": {"current": {"file": files.save(f"v0_{label}", p["v"])},
                                "rate": {"file": files.save(f"r0_{label}", r0)}}}
                if node.kind == "li_sigmoid" and not linear:
                    population.update(gain=p["s"], threshold=p["v0"])
                series = lowpass
                for variable in ("input", "rate"):
                    monitors.append({"population": label, "variable": variable,
                                     "every": f"{self.dt} ms", "mean": False})
            populations[label] = population
            inputs_spec[f"x_{label}"] = {"target": label, "file": files.save(f"x_{label}", series)}
            if node.weights is not None and np.any(node.weights != 0):
                w = node.weights * p["k"][:, None] * gain * self._output_scale(node, node)
                projections[f"{label}_{label}"] = {
                    "pre": label, "post": label, "weight": 1.0, "scaling": "raw",
                    "rule": {"explicit": {"file": files.save(f"J_{label}", w)}}}
        for edge in self._graph_edges:
            post, pre = self._nodes[edge.target], self._nodes[edge.source]
            gain, external = self._scales(post)
            scaled = edge.weights * gain * external * self._output_scale(post, pre, edge=True)
            projection = {"pre": edge.source, "post": edge.target, "weight": 1.0,
                          "scaling": "raw",
                          "rule": {"explicit": {"file": files.save(
                              f"E_{edge.source}_{edge.target}", scaled)}}}
            if edge.delays is not None and np.any(edge.delays):
                if not (pre.spiking and post.spiking):
                    raise NotImplementedError(
                        f"add_edge {edge.label}: delays on a rate coupling (the engine couples "
                        "rate and spiking populations at the next step only)")
                if np.any(edge.delays != edge.delays[0]):
                    raise NotImplementedError(
                        f"add_edge {edge.label}: per-neuron delays (the engine's projection "
                        "delay is one value, or uniform random ones); fit_bptt trains them")
                projection["delay"] = f"{(1 + int(edge.delays[0])) * self.dt} ms"
            projections[f"{edge.source}_{edge.target}"] = projection
        spec = {"name": "rectipy", "dt": f"{self.dt} ms", "duration": f"{steps * self.dt} ms",
                "seed": self.seed, "precision": "f64", "method": "euler",
                "populations": populations, "projections": projections, "inputs": inputs_spec,
                "monitors": monitors}
        # The data files live as long as the results' spec may be rerun.
        self._files = files
        results = _Network(spec).run(progress=True if verbose else None)
        self.results = results

        def variable(label: str, var: str) -> np.ndarray:
            node = self._nodes[label]
            if node.kind == "func":
                edge = self._out_func
                src = self._nodes[edge.source]
                return _activate(node.func, variable(edge.source, src.output_var) @ edge.weights.T)
            if not node.spiking:
                if var == "v":
                    return np.asarray(results[f"{label}.input"][0], dtype=np.float64)
                if var == "r" and self._carries_v(label):
                    r = self._rate(node, np.asarray(results[f"{label}.input"][0]))
                    return r * node.params["r_max"] if node.kind == "li_sigmoid" else r
                if var == "r":
                    r = np.asarray(results[f"{label}.rate"][0], dtype=np.float64)
                    return r * node.params["r_max"] if node.kind == "li_sigmoid" else r
                raise KeyError(f"{label}: no variable {var!r} (v, r)")
            if node.kind == "qif_sfa" and var in ("v", "x"):
                lam = 25.0 / node.params["tau"]
                if var == "v":
                    return (np.asarray(results[f"{label}.v"][0]) - _IZ_MU) / lam
                return np.asarray(results[f"{label}.w"][0]) / (lam / node.params["tau"])
            if node.kind == "ik" and var in ("v", "u"):
                m = self._ik(node)
                if var == "v":
                    return (np.asarray(results[f"{label}.v"][0]) - m["mu"]) / m["lam"]
                return (np.asarray(results[f"{label}.w"][0]) - m["ubar"]) * node.params["C"] / m["lam"]
            if var == "v":
                return np.asarray(results[f"{label}.v"][0], dtype=np.float64)
            spikes = spike_counts(results[f"{label}.spikes"], 1, steps, node.n)[0]
            if var == "spike":
                return spikes / self.dt
            if var == "s":
                s, out = np.zeros(node.n), np.empty((steps, node.n))
                decay = self._decay(node)
                for i in range(steps):
                    s = s * decay + spikes[i]
                    out[i] = s
                return out
            extra = {"qif_sfa": ", x", "ik": ", u"}.get(node.kind, "")
            raise KeyError(f"{label}: no variable {var!r} (v, s, spike{extra})")

        out_label = self._output if self._out_func is None else self._out_func.target
        out_var = self._nodes[out_label].output_var
        self._variable = variable
        return self._observe(lambda: variable(out_label, out_var), variable, steps,
                             sampling_steps, cutoff, record_output, record_vars)

    def _observe(self, output, variable, steps, sampling_steps, cutoff, record_output,
                 record_vars) -> Observer:
        kept = np.arange(cutoff, steps)
        samples = len(kept) // sampling_steps
        ends = kept[: samples * sampling_steps].reshape(samples, sampling_steps)[:, -1]
        data: dict[Any, np.ndarray] = {}
        if record_output:
            out = output()[kept]
            data["out"] = out[: samples * sampling_steps].reshape(
                samples, sampling_steps, -1).mean(axis=1)
        for entry in record_vars:
            label, var = entry[0], entry[1].split("/")[-1]
            values = variable(label, var)[ends]
            if len(entry) > 2 and entry[2]:
                values = values.mean(axis=1)
            data[(label, entry[1])] = values
        return Observer(self.dt, ends, data)

    @staticmethod
    def _rate(node: _Node, v: np.ndarray) -> np.ndarray:
        """The engine's transfer of a leaky integrator (the sigmoid without r_max)."""
        if node.kind == "li_tanh":
            return np.tanh(v)
        return 1.0 / (1.0 + np.exp(node.params["s"] * (node.params["v0"] - v)))

    def _decay(self, node: _Node) -> float:
        """The trace's factor per step: Euler for QIF (RectiPy's), exact for LIF."""
        tau_s = node.params["tau_s"]
        return np.exp(-self.dt / tau_s) if node.kind == "lif" else 1.0 - self.dt / tau_s

    def _input_drive(self, x: np.ndarray) -> np.ndarray:
        """The inputs as the input node's drive (steps × N): through an input function node and
        its edge, or as they are (one column: the same for every neuron)."""
        if x.ndim == 1:
            x = x[:, None]
        if self._in_func is not None:
            func = self._nodes[self._in_func.source]
            if x.shape[1] != func.n:
                raise ValueError(f"inputs: expected (T, {func.n}), got {x.shape}")
            return _activate(func.func, x) @ self._in_func.weights.T
        first = self._nodes[self._input]
        if x.shape[1] not in (1, first.n):
            raise ValueError(f"inputs: expected (T, {first.n}), got {x.shape}")
        return np.broadcast_to(x, (x.shape[0], first.n))

    def _output_scale(self, post: _Node, pre: _Node, edge: bool = False) -> float:
        """What a unit of the presynaptic output is worth in the engine's projection weight: a
        spike of weight w adds w/τ_s to a filtered synapse and w to an exponential one, so
        w = τ_s or 1 per unit of trace; a rate unit is a rate (sigmoid: r_max per unit)."""
        if pre.spiking:
            if pre.output_var != "s" and edge:
                raise NotImplementedError(
                    f"add_edge {pre.label} → {post.label}: from a spiking node's v (a continuous "
                    "voltage; the engine's projections from spiking populations carry spikes)")
            if not post.spiking:
                raise NotImplementedError(
                    f"add_edge {pre.label} → {post.label}: spikes into a leaky integrator (the "
                    "engine delivers S/dt through the rate population's filter, not the trace s)")
            kind, tau_s = self._synapse(post.label)
            return tau_s if kind == "filtered" else 1.0
        if self._carries_v(pre.label):
            return 1.0  # an `id` rate population: r = μ = v
        return pre.params["r_max"] if pre.kind == "li_sigmoid" else 1.0

    def _carries_v(self, label: str) -> bool:
        """Whether a leaky integrator's projections (recurrent weights, edges) read v rather than
        r: then it runs as a linear (`id`) rate population, r = μ = v, and r is computed from the
        recorded v. Both at once cannot map (a rate population projects one variable)."""
        node = self._nodes[label]
        reads = set()
        if node.weights is not None and np.any(node.weights != 0):
            reads.add(node.source_var)
        if any(e.source == label for e in self._graph_edges):
            reads.add(node.output_var)
        if len(reads) > 1:
            raise NotImplementedError(
                f"{label}: its recurrent weights and its edges read different variables (v and r); "
                "the engine's rate population projects one of them")
        return reads == {"v"}

    def _spiking_population(self, label: str, node: _Node, gain: float) -> tuple[dict, dict]:
        p = node.params
        synapse = self._synapse(label)
        kind, tau_s = synapse if synapse else ("current_exp", p["tau_s"])
        if node.kind == "lif":
            population = {
                "size": node.n, "model": "lif_psc_exp",
                "neuron": {"tau_m": f"{p['tau']} ms", "c_m": f"{p['tau']} pF", "e_l": "0 mV",
                           "v_th": f"{node.threshold} mV", "v_reset": f"{node.reset} mV",
                           "t_ref": "0 ms", "integration": "euler"},
                "synapse": {"tau_exc": f"{tau_s} ms", "tau_inh": f"{tau_s} ms"}}
            return population, {"v": p["v"], "offset": 0.0}
        synapse = {"kind": kind, "tau_exc": f"{tau_s} ms", "tau_inh": f"{tau_s} ms"}
        if node.kind == "qif":
            population = {
                "size": node.n, "model": "qif", "synapse": synapse,
                "neuron": {"tau": f"{p['tau']} ms", "eta": 0.0, "v_peak": node.threshold,
                           "v_r": node.reset, "integration": "euler"}}
            return population, {"v": p["v"], "offset": 0.0}
        if node.kind == "ik":
            m = self._ik(node)
            lam, mu = m["lam"], m["mu"]
            population = {
                "size": node.n, "model": "izhikevich", "synapse": synapse,
                "neuron": {"a": 1.0 / p["tau_u"], "b": p["b"] / p["C"],
                           "c": lam * node.reset + mu, "d": lam / p["C"] * p["kappa"],
                           "v_th": lam * node.threshold + mu, "integration": "euler"}}
            return population, {"v": lam * p["v"] + mu, "w": lam / p["C"] * p["u"] + m["ubar"],
                                "offset": m["const"]}
        lam = gain  # qif_sfa on the Izhikevich model: v_iz = λ v + μ, u = (λ/τ) x
        population = {
            "size": node.n, "model": "izhikevich", "synapse": synapse,
            "neuron": {"a": 1.0 / p["tau_x"], "b": 0.0, "c": lam * node.reset + _IZ_MU,
                       "d": lam / p["tau"] * p["alpha"], "v_th": lam * node.threshold + _IZ_MU,
                       "integration": "euler"}}
        return population, {"v": lam * p["v"] + _IZ_MU, "w": lam / p["tau"] * p["x"],
                            "offset": _IZ_CONST}

    # --- training -----------------------------------------------------------------------------

    def _trainer(self, optimizer: str = "sgd", optimizer_kwargs: dict | None = None,
                 lr: float = 1e-3, smooth: bool = False, detach_reset: bool = True) -> Any:
        """The network in neuroxide's training crate (``_neuroxide.RectipyBptt``); its
        ``_grad_mask`` zeroes the gradient of masked edge entries."""
        if optimizer not in ("sgd", "adam", "adamw"):
            raise NotImplementedError(
                f"optimizer {optimizer!r}: neuroxide's optimisers are sgd, adam and adamw "
                "(RectiPy's adagrad, adadelta, adamax, rmsprop and rprop are not)")
        self.compile()
        index = {label: i for i, label in enumerate(self._diffeq)}
        nodes, trainable, slopes = [], [], []
        for label in self._diffeq:
            node = self._nodes[label]
            p = node.params
            if node.kind == "ik":
                raise NotImplementedError(
                    f"{label}: fit_bptt of ik nodes (their recovery variable is not in the "
                    "training crate's graph; run supports them)")
            if node.kind == "qif_sfa" and np.any(p["x"] != 0):
                raise NotImplementedError(f"{label}: fit_bptt of qif_sfa from x(0) ≠ 0")
            d = {"label": label, "n": node.n, "tau": [p["tau"]] * node.n,
                 "k": list(p["k"]), "eta": list(p["eta"]), "v0": list(p["v"]),
                 "threshold": node.threshold, "reset": node.reset,
                 "weights": None if node.weights is None else list(node.weights.reshape(-1)),
                 "source": node.source_var, "output": node.output_var}
            if node.spiking:
                d.update(kind="qif" if node.kind == "qif_sfa" else node.kind,
                         decay=float(self._decay(node)))
                if node.kind == "qif_sfa":
                    d["adaptation"] = (1.0 - self.dt / p["tau_x"], p["alpha"])
                slopes.append(node.slope)
            else:
                d.update(kind=node.kind, decay=0.0)
                if node.kind == "li_sigmoid":
                    d.update(r_max=p["r_max"], slope=p["s"], v0_sigmoid=p["v0"])
            nodes.append(d)
            trainable += [f"{label}.{name}" for name in node.train_params]
        edges = []
        for e in self._graph_edges:
            delays = [] if e.delays is None else [int(v) for v in e.delays]
            edges.append({"label": e.label, "src": index[e.source], "tgt": index[e.target],
                          "weights": list(e.weights.reshape(-1)), "delays": delays})
            if e.train:
                trainable.append(e.label)
        readin = readout = None
        if self._in_func is not None:
            readin = (self._in_func.weights.shape[1], list(self._in_func.weights.reshape(-1)))
            if self._in_func.train:
                trainable.append("readin")
        if self._out_func is not None:
            readout = (self._out_func.weights.shape[0], list(self._out_func.weights.reshape(-1)))
            if self._out_func.train:
                trainable.append("readout")
        kw = dict(optimizer_kwargs or {})
        options = {}
        if "momentum" in kw:
            options["momentum"] = float(kw.pop("momentum"))
        if "betas" in kw:
            options["beta1"], options["beta2"] = map(float, kw.pop("betas"))
        for key in ("eps", "weight_decay"):
            if key in kw:
                options[key] = float(kw.pop(key))
        if kw:
            raise NotImplementedError(f"optimizer_kwargs {sorted(kw)} (momentum, betas, eps, "
                                      "weight_decay are supported)")
        # RectiPy's surrogate slope is a class attribute: the last spiking node's wins.
        slope = slopes[-1] if slopes else 1.0
        trainer = _neuroxide.RectipyBptt(
            self.dt, nodes, edges, index[self._input], index[self._output], readin=readin,
            readout=readout, gain=1.0, slope=slope, smooth=smooth, detach_reset=detach_reset,
            trainable=trainable, optimizer=optimizer, lr=float(lr), **options)
        masks = {e.label: e.mask for e in self._graph_edges}
        for name, e in (("readin", self._in_func), ("readout", self._out_func)):
            if e is not None:
                masks[name] = e.mask
        self._grad_mask = np.concatenate([
            np.ones(len(v)) if masks.get(name) is None else masks[name].reshape(-1)
            for name, v in trainer.params()])
        return trainer

    def _store(self, trainer: Any) -> None:
        """Write the trained parameters back into the nodes and edges."""
        values = dict(trainer.params())
        for label in self._diffeq:
            node = self._nodes[label]
            if node.weights is not None:
                node.weights = np.asarray(values[f"{label}.weights"]).reshape(node.n, node.n)
            node.params["eta"] = np.asarray(values[f"{label}.eta"])
            node.params["k"] = np.asarray(values[f"{label}.k"])
        for e in self._graph_edges:
            e.weights = np.asarray(values[e.label]).reshape(e.weights.shape)
        for name, e in (("readin", self._in_func), ("readout", self._out_func)):
            if e is not None:
                e.weights = np.asarray(values[name]).reshape(e.weights.shape)

    def _trainer_inputs(self, x: np.ndarray) -> np.ndarray:
        """The inputs as the trainer takes them: after the input function's activation (its edge
        is the trainer's readin), else the input node's drive."""
        if x.ndim == 1:
            x = x[:, None]
        if self._in_func is not None:
            func = self._nodes[self._in_func.source]
            if x.shape[1] != func.n:
                raise ValueError(f"inputs: expected (T, {func.n}), got {x.shape}")
            return np.ascontiguousarray(_activate(func.func, x))
        return np.ascontiguousarray(self._input_drive(x))

    def _window(self, trainer: Any, x: np.ndarray, y: np.ndarray | None, loss: str,
                loss_kwargs: dict) -> tuple[np.ndarray, float, np.ndarray | None]:
        """Forward over x; with targets y the loss and its gradient (None without)."""
        z = np.asarray(trainer.forward(x, len(x))).reshape(len(x), -1)
        func = None if self._out_func is None else self._nodes[self._out_func.target].func
        p = z if func is None else _activate(func, z)
        if y is None:
            return p, float("nan"), None
        value, dp = _loss(loss, p, y, loss_kwargs)
        dz = dp if func is None else _activate_back(func, z, p, dp)
        return p, value, np.asarray(trainer.backward(np.ascontiguousarray(dz)))

    def fit_bptt(self, inputs: Any, targets: Any, optimizer: str = "sgd",
                 optimizer_kwargs: dict | None = None, loss: str = "mse",
                 loss_kwargs: dict | None = None, lr: float = 1e-3, sampling_steps: int = 1,
                 update_steps: int = 100, verbose: bool = True, **kwargs: Any) -> Observer:
        """RectiPy's surrogate-gradient BPTT (LIF, QIF, QIF-SFA and leaky-integrator nodes; not
        ik). ``inputs`` (T × m) with ``targets`` (T × C, or
        class indices (T,) for ce/nll): online truncated BPTT, one loss over the outputs of every
        ``update_steps`` steps, a gradient step, the state carried on without its gradient. A
        list (or E × T × m array) of input sequences: one epoch per sequence, each from the
        pre-training state, one loss over the sequence and one step (``targets`` one per epoch
        or one for all). Spikes are H(v − θ) forward and ``1/(1 + slope·|v − θ|)²`` backward
        (``spike_slope``, default 100/|threshold − reset|, the last spiking node's as RectiPy's
        class attribute), the reset mask detached. Trains the nodes' ``train_params``
        (``weights``, ``eta``, ``k``) and edges added with ``train="gd"``, in place.
        ``optimizer``: sgd, adam, adamw (``optimizer_kwargs``: momentum, betas, eps,
        weight_decay); ``loss``: mse, l1, ce, nll, kld, hinge (PyTorch's, mean reduction).
        The observer holds ``"out"`` (window means of the outputs over ``sampling_steps``),
        ``"loss"`` (one value per update) and, for epochs, ``"epoch_loss"``."""
        record_output = kwargs.pop("record_output", True)
        for key in ("record_loss", "retain_graph"):  # the loss is always recorded; no graph
            kwargs.pop(key, None)
        if kwargs.get("record_vars") or "closure" in kwargs:
            raise NotImplementedError("fit_bptt: record_vars and closure (run records variables)")
        kwargs.pop("record_vars", None)
        if kwargs:
            raise TypeError(f"fit_bptt: unexpected arguments {sorted(kwargs)}")
        trainer = self._trainer(optimizer, optimizer_kwargs, lr)
        loss_kwargs = dict(loss_kwargs or {})
        if loss not in _LOSSES:
            raise ValueError(f"loss: got {loss!r}, expected one of {', '.join(_LOSSES)}")
        if update_steps < 1:
            raise ValueError(f"update_steps: got {update_steps}, expected an integer ≥ 1")
        epochs = isinstance(inputs, (list, tuple)) or numpy(inputs).ndim == 3
        losses = []
        if epochs:
            xs = [self._trainer_inputs(numpy(x)) for x in inputs]
            ys = numpy(targets) if not isinstance(targets, (list, tuple)) else None
            targets_list = [numpy(y) for y in targets] if ys is None or ys.ndim == 3 else \
                [ys] * len(xs)
            if len(targets_list) != len(xs):
                raise ValueError(f"targets: {len(targets_list)} sequences for {len(xs)} epochs")
            for i, (x, y) in enumerate(zip(xs, targets_list)):
                trainer.reset()
                p, value, grad = self._window(trainer, x, self._targets(y, len(x)), loss,
                                              loss_kwargs)
                trainer.step(list(grad * self._grad_mask))
                losses.append(value)
                if verbose:
                    print(f"epoch {i + 1}/{len(xs)}: loss {value:.6g}")
            outputs = p
        else:
            x = self._trainer_inputs(numpy(inputs))
            y = self._targets(numpy(targets), len(x))
            pieces = []
            for start in range(0, len(x), update_steps):
                w = slice(start, start + update_steps)
                p, value, grad = self._window(trainer, x[w], y[w], loss, loss_kwargs)
                trainer.step(list(grad * self._grad_mask))
                losses.append(value)
                pieces.append(p)
                if verbose:
                    print(f"steps {w.start}–{min(w.stop, len(x))}: loss {value:.6g}")
            outputs = np.concatenate(pieces)
        self._store(trainer)
        obs = self._observe(lambda: outputs, None, len(outputs), sampling_steps, 0,
                            record_output, [])
        obs._data["loss"] = np.asarray(losses)
        if epochs:
            obs._data["epoch_loss"] = np.asarray(losses)
            obs._data["epochs"] = np.arange(len(losses))
        return obs

    @staticmethod
    def _targets(y: np.ndarray, steps: int) -> np.ndarray:
        if y.ndim == 1:
            y = y[:, None]
        if y.shape[0] != steps:
            raise ValueError(f"targets: {y.shape[0]} rows for {steps} input steps")
        return y

    def test(self, inputs: Any, targets: Any, loss: str = "mse", loss_kwargs: dict | None = None,
             sampling_steps: int = 1, verbose: bool = True, **kwargs: Any) -> tuple[Observer, float]:
        """RectiPy's ``test``: run on ``inputs`` and the loss of the sampled outputs against
        ``targets`` (one row per sample)."""
        obs = self.run(inputs, sampling_steps=sampling_steps, verbose=verbose, **kwargs)
        out = obs.to_numpy("out")
        y = numpy(targets)
        value, _ = _loss(loss, out, y if y.ndim > 1 or loss in ("ce", "nll") else y[:, None],
                         dict(loss_kwargs or {}))
        return obs, value

    def _readout_data(self, inputs: Any, targets: Any, sampling_steps: int, verbose: bool,
                      kwargs: dict) -> tuple[Observer, np.ndarray, np.ndarray]:
        """Run on ``inputs``; return the observer, the window-averaged outputs X (samples × N)
        and the targets Y aligned with them (one row per sample, or per step averaged over the
        same windows)."""
        obs = self.run(inputs, sampling_steps=sampling_steps, verbose=verbose, **kwargs)
        x = obs.to_numpy("out")
        y = numpy(targets)
        if y.ndim == 1:
            y = y[:, None]
        cutoff = kwargs.get("cutoff", 0)
        if y.shape[0] != x.shape[0]:
            kept = y[cutoff:][: x.shape[0] * sampling_steps]
            if kept.shape[0] != x.shape[0] * sampling_steps:
                raise ValueError(f"targets: expected {x.shape[0]} rows (samples) or one per input "
                                 f"step, got shape {y.shape}")
            y = kept.reshape(x.shape[0], sampling_steps, -1).mean(axis=1)
        return obs, x, y

    def _add_readout_node(self, method: str, add_readout_node: bool, w_out: np.ndarray) -> None:
        """RectiPy's readout: an identity node ``"readout"`` fed by the output node through
        ``w_out`` (C × N), which becomes the network's output. Not possible after an output
        function node (function nodes inside the graph): a warning says so."""
        if not add_readout_node:
            return
        if self._out_func is not None or "readout" in self._nodes:
            import warnings

            warnings.warn(f"{method}: the readout node is not added (the output node is a "
                          "function node or 'readout' exists); apply obs.to_numpy('w_out') to "
                          "the outputs", stacklevel=3)
            return
        output = self._output
        self.add_func_node("readout", w_out.shape[0], "identity")
        self.add_edge(output, "readout", w_out)

    def fit_ridge(self, inputs: Any, targets: Any, sampling_steps: int = 100, alpha: float = 1e-4,
                  verbose: bool = True, add_readout_node: bool = True, **kwargs: Any) -> Observer:
        """RectiPy's closed-form readout: runs the network on ``inputs``, stacks the (window-
        averaged) outputs into X (samples × N) and solves ``W = (XᵀX + αI)⁻¹ XᵀY`` (no bias, as
        RectiPy). ``targets``: one row per sample, or per step (then averaged over the same
        windows). The observer gets ``"y"`` (X W) and ``"w_out"`` (Wᵀ, C × N, the readout edge's
        weights). With ``add_readout_node`` the identity node ``"readout"`` is added, fed through
        Wᵀ: later runs output ``X W``."""
        obs, x, y = self._readout_data(inputs, targets, sampling_steps, verbose, kwargs)
        w = np.linalg.solve(x.T @ x + alpha * np.eye(x.shape[1]), x.T @ y)
        obs._data["y"] = x @ w
        obs._data["w_out"] = w.T
        self._add_readout_node("fit_ridge", add_readout_node, w.T)
        return obs

    def fit_rls(self, inputs: Any, targets: Any, update_steps: int = 1, sampling_steps: int = 100,
                alpha: float = 1.0, beta: float = 1.0, verbose: bool = True,
                add_readout_node: bool = True, **kwargs: Any) -> Observer:
        """RectiPy's recursive least squares on the readout (its ``RLS(beta, alpha)``): from
        ``W = 0`` and ``P = α I``, at every ``update_steps``-th sample x with target y,
        ``k = P x / (β + xᵀ P x)``, ``W ← W + k (y − Wᵀ x)ᵀ``, ``P ← (P − k xᵀ P) / β`` (β the
        forgetting factor, 1: none). With β = 1 the final W is the ridge solution of penalty
        1/α over the updated samples. Samples and targets are aligned as in :meth:`fit_ridge`.
        The observer gets ``"y"`` (each sample's prediction before its update), ``"loss"``
        (‖y − ŷ‖² per sample) and ``"w_out"`` (Wᵀ, C × N)."""
        if update_steps < 1:
            raise ValueError(f"update_steps: got {update_steps}, expected an integer ≥ 1")
        if not (alpha > 0 and 0 < beta <= 1):
            raise ValueError(f"alpha, beta: got {alpha}, {beta}, expected alpha > 0 and "
                             "0 < beta ≤ 1")
        obs, x, y = self._readout_data(inputs, targets, sampling_steps, verbose, kwargs)
        n, c = x.shape[1], y.shape[1]
        w, p = np.zeros((n, c)), alpha * np.eye(n)
        predictions, losses = np.empty_like(y), np.empty(x.shape[0])
        for i, (xi, yi) in enumerate(zip(x, y)):
            predictions[i] = xi @ w
            losses[i] = np.sum((yi - predictions[i]) ** 2)
            if i % update_steps == 0:
                px = p @ xi
                k = px / (beta + xi @ px)
                w += np.outer(k, yi - predictions[i])
                p = (p - np.outer(k, px)) / beta
        obs._data["y"] = predictions
        obs._data["loss"] = losses
        obs._data["w_out"] = w.T
        self._add_readout_node("fit_rls", add_readout_node, w.T)
        return obs
