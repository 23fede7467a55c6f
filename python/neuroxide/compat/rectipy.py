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

Templates: ``qif.qif`` (``τ v' = v² + η + I_ext + τ k s_in``, ``s' = −s/τ_s + spike``) and
``lif.lif`` (``v' = −v/τ + k s_in + I_ext + η``, ``s' = −s/τ_s + spike``), in RectiPy's units
with its time unit taken as ms. A spike (``v ≥ spike_threshold``) resets ``v`` to
``spike_reset`` and adds 1 to ``s``; ``s_in = Σ_j J_ij s_j``. QIF runs with forward Euler and
NeuroSimTools-style Euler-filtered synapses (``s`` exactly as RectiPy's); LIF's synapses decay
exactly (``s ← s e^{−dt/τ_s} + spikes``, the recorded ``s`` too), a difference of O(dt/τ_s)²
per step from RectiPy's Euler step.

Decided differently from RectiPy (its quirks, spec A.7): a spike is detected at the end of the
step in which ``v`` crosses the threshold (RectiPy: at the start of the next one) and ``v`` is
reset then; node outputs are the state after the step (RectiPy returns the state before it).
Not available (``NotImplementedError``): rate templates (leaky integrators), QIF with spike
frequency adaptation, the Izhikevich templates (``ik``), function nodes, delays and filters on
edges, the readout node of ``fit_ridge``/``fit_rls``, and ``fit_bptt``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import Network as _Network
from ._files import Files, numpy, spike_counts

_TEMPLATES = {
    "qif": {"tau": 1.0, "eta": -5.0, "k": 1.0, "tau_s": 1.0, "v": -2.0},
    "lif": {"tau": 10.0, "eta": 0.0, "k": 1.0, "tau_s": 0.5, "v": 0.0},
}


def _template(node: Any) -> str:
    name = str(node).split(".")[-2:]
    if name == ["qif", "qif"]:
        return "qif"
    if name == ["lif", "lif"]:
        return "lif"
    raise NotImplementedError(
        f"template {node!r}: neuroxide.compat.rectipy runs qif.qif and lif.lif; leaky integrators, "
        "qif_sfa and the Izhikevich (ik) templates are not in the engine yet"
    )


class _Node:
    def __init__(self, label: str, kind: str, n: int, weights: np.ndarray | None,
                 params: dict[str, Any], output_var: str, threshold: float, reset: float):
        self.label, self.kind, self.n = label, kind, n
        self.weights, self.params = weights, params
        self.output_var, self.threshold, self.reset = output_var, threshold, reset


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
        self._edges: list[tuple[str, str, np.ndarray]] = []

    def add_diffeq_node(self, label: str, node: Any, input_var: str, output_var: str,
                        weights: Any = None, source_var: str | None = None,
                        target_var: str | None = None, spike_var: str | None = None,
                        reset_var: str | None = None, reset: bool = True, op: str | None = None,
                        train_params: Any = None, **kwargs: Any) -> _Node:
        kind = _template(node)
        if spike_var is None:
            raise NotImplementedError(f"{label}: {kind} as a rate node (spike_var=None)")
        if reset_var is None:
            raise ValueError(f"{label}: a spiking node (spike_var={spike_var!r}) needs reset_var")
        if not reset:
            raise NotImplementedError(f"{label}: reset=False (the template's own reset)")
        if train_params:
            raise NotImplementedError("train_params: training comes from neuroxide's training crate")
        params = dict(_TEMPLATES[kind])
        for key, value in (kwargs.pop("node_vars", None) or {}).items():
            name = key.split("/")[-1]
            if name not in params:
                raise ValueError(f"node_vars: {key!r} is not a variable of {kind} "
                                 f"({', '.join(params)})")
            params[name] = numpy(value)
        for name in ("tau", "k", "tau_s"):
            value = np.asarray(params[name])
            if value.ndim and not np.all(value == value.flat[0]):
                raise NotImplementedError(f"{label}: per-neuron {name}")
            params[name] = float(value.flat[0]) if value.ndim else float(value)
        w = None if weights is None else numpy(weights)
        n = kwargs.pop("N", None) if w is None else w.shape[0]
        if n is None:
            raise ValueError(f"{label}: give weights (N×N) or N")
        threshold = float(kwargs.pop("spike_threshold", 1e2))
        spike_reset = float(kwargs.pop("spike_reset", -1e2))
        for key in ("spike_center", "spike_slope", "record_vars", "dtype", "float_precision",
                    "clear", "edge_attr", "file_name"):
            kwargs.pop(key, None)
        if kwargs:
            raise TypeError(f"add_diffeq_node: unexpected arguments {sorted(kwargs)}")
        if output_var.split("/")[-1] not in ("s", "v"):
            raise NotImplementedError(f"{label}: output_var {output_var!r} (s or v)")
        node_ = _Node(label, kind, int(n), w, params, output_var.split("/")[-1], threshold,
                      spike_reset)
        self._nodes[label] = node_
        return node_

    def add_edge(self, source: str, target: str, weights: Any = None, train: Any = None,
                 edge_attrs: Any = None, **kwargs: Any) -> None:
        """Source output ``s`` → target input, through ``weights`` (target × source; a
        source × target matrix is transposed as RectiPy does)."""
        if train is not None or kwargs:
            raise NotImplementedError("add_edge: trained, masked, delayed or filtered edges")
        src, tgt = self._nodes[source], self._nodes[target]
        w = np.random.default_rng(self.seed).normal(size=(tgt.n, src.n)) if weights is None \
            else numpy(weights)
        if w.shape == (src.n, tgt.n) and src.n != tgt.n:
            w = w.T
        if w.shape != (tgt.n, src.n):
            raise ValueError(f"add_edge: weights of shape {w.shape}, expected ({tgt.n}, {src.n})")
        if src.output_var != "s":
            raise NotImplementedError("add_edge: from a node whose output is v")
        self._edges.append((source, target, w))

    def compile(self) -> None:
        targets = {t for _, t, _ in self._edges}
        inputs = [n for n in self._nodes if n not in targets]
        if len(inputs) != 1:
            raise ValueError(f"expected one input node (no incoming edges), got {inputs}")
        self._input = inputs[0]
        sources = {s for s, _, _ in self._edges}
        outputs = [n for n in self._nodes if n not in sources]
        if len(outputs) != 1:
            raise ValueError(f"expected one output node (no outgoing edges), got {outputs}")
        self._output = outputs[0]

    def _synapse_weight(self, post: _Node, pre: _Node) -> float:
        """Scale of J so that the synaptic current equals RectiPy's term in ``τ v'``."""
        if post.params["tau_s"] != pre.params["tau_s"]:
            raise NotImplementedError("edges between nodes with different tau_s")
        tau = post.params["tau"]
        if post.kind == "qif":  # filtered synapse: a spike adds w/τ_s
            return tau * pre.params["tau_s"]
        return tau  # lif: exponential current, a spike adds w

    def run(self, inputs: Any, sampling_steps: int = 1, cutoff: int = 0, verbose: bool = True,
            enable_grad: bool = True, **kwargs: Any) -> Observer:
        self.compile()
        record_output = kwargs.pop("record_output", True)
        record_vars = kwargs.pop("record_vars", None) or []
        x = numpy(inputs)
        if x.ndim == 1:
            x = x[:, None]
        steps = x.shape[0]
        first = self._nodes[self._input]
        if x.shape[1] not in (1, first.n):
            raise ValueError(f"inputs: expected (T, {first.n}), got {x.shape}")
        files = Files()
        populations, projections, inputs_spec, monitors = {}, {}, {}, []
        for label, node in self._nodes.items():
            p = node.params
            tau, tau_s = p["tau"], p["tau_s"]
            ext = np.broadcast_to(p["eta"], (node.n,)).astype(np.float64)
            drive = np.zeros((steps, node.n)) + ext
            if label == self._input:
                drive = drive + x
            v0 = np.broadcast_to(p["v"], (node.n,))
            if node.kind == "qif":
                population = {
                    "size": node.n, "model": "qif",
                    "neuron": {"tau": f"{tau} ms", "eta": 0.0, "v_peak": node.threshold,
                               "v_r": node.reset, "integration": "euler"},
                    "synapse": {"kind": "filtered", "tau_exc": f"{tau_s} ms",
                                "tau_inh": f"{tau_s} ms"},
                }
                scale = 1.0
            else:
                population = {
                    "size": node.n, "model": "lif_psc_exp",
                    "neuron": {"tau_m": f"{tau} ms", "c_m": f"{tau} pF", "e_l": "0 mV",
                               "v_th": f"{node.threshold} mV", "v_reset": f"{node.reset} mV",
                               "t_ref": "0 ms", "integration": "euler"},
                    "synapse": {"tau_exc": f"{tau_s} ms", "tau_inh": f"{tau_s} ms"},
                }
                scale = tau
            population["initial"] = {"v": {"file": files.save(f"v0_{label}", v0)}}
            populations[label] = population
            inputs_spec[f"x_{label}"] = {"target": label,
                                         "file": files.save(f"x_{label}", drive * scale)}
            if node.weights is not None and np.any(node.weights != 0):
                w = node.weights * p["k"] * self._synapse_weight(node, node)
                projections[f"{label}_{label}"] = {
                    "pre": label, "post": label, "weight": 1.0, "scaling": "raw",
                    "rule": {"explicit": {"file": files.save(f"J_{label}", w)}}}
            monitors.append({"population": label, "variable": "spikes"})
            monitors.append({"population": label, "variable": "v", "every": f"{self.dt} ms",
                             "mean": False})
        for source, target, w in self._edges:
            post, pre = self._nodes[target], self._nodes[source]
            scaled = w * self._synapse_weight(post, pre)
            projections[f"{source}_{target}"] = {
                "pre": source, "post": target, "weight": 1.0, "scaling": "raw",
                "rule": {"explicit": {"file": files.save(f"E_{source}_{target}", scaled)}}}
        spec = {"name": "rectipy", "dt": f"{self.dt} ms", "duration": f"{steps * self.dt} ms",
                "seed": self.seed, "precision": "f64", "populations": populations,
                "projections": projections, "inputs": inputs_spec, "monitors": monitors}
        # The data files live as long as the results' spec may be rerun.
        self._files = files
        results = _Network(spec).run(progress=True if verbose else None)
        self.results = results

        def variable(label: str, var: str) -> np.ndarray:
            node = self._nodes[label]
            if var == "v":
                return np.asarray(results[f"{label}.v"][0], dtype=np.float64)
            spikes = spike_counts(results[f"{label}.spikes"], 1, steps, node.n)[0]
            if var == "spike":
                return spikes / self.dt
            if var == "s":
                s, out = np.zeros(node.n), np.empty((steps, node.n))
                # As the synapses: Euler for QIF (RectiPy's), exact for LIF.
                decay = (1 - self.dt / node.params["tau_s"] if node.kind == "qif"
                         else np.exp(-self.dt / node.params["tau_s"]))
                for i in range(steps):
                    s = s * decay + spikes[i]
                    out[i] = s
                return out
            raise KeyError(f"{label}: no variable {var!r} (v, s, spike)")

        kept = np.arange(cutoff, steps)
        samples = len(kept) // sampling_steps
        ends = kept[: samples * sampling_steps].reshape(samples, sampling_steps)[:, -1]
        data: dict[Any, np.ndarray] = {}
        if record_output:
            out = variable(self._output, self._nodes[self._output].output_var)[kept]
            data["out"] = out[: samples * sampling_steps].reshape(
                samples, sampling_steps, -1).mean(axis=1)
        for entry in record_vars:
            label, var = entry[0], entry[1].split("/")[-1]
            values = variable(label, var)[ends]
            if len(entry) > 2 and entry[2]:
                values = values.mean(axis=1)
            data[(label, entry[1])] = values
        return Observer(self.dt, ends, data)

    def fit_bptt(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("fit_bptt: surrogate-gradient training of spiking nodes is not "
                                  "in neuroxide's RectiPy layer yet (fit_ridge is)")

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

    @staticmethod
    def _warn_no_readout_node(method: str, add_readout_node: bool) -> None:
        if add_readout_node:
            import warnings

            warnings.warn(f"{method}: the readout node is not added (no rate nodes in neuroxide's "
                          "RectiPy layer); apply obs.to_numpy('w_out') to the outputs", stacklevel=3)

    def fit_ridge(self, inputs: Any, targets: Any, sampling_steps: int = 100, alpha: float = 1e-4,
                  verbose: bool = True, add_readout_node: bool = True, **kwargs: Any) -> Observer:
        """RectiPy's closed-form readout: runs the network on ``inputs``, stacks the (window-
        averaged) outputs into X (samples × N) and solves ``W = (XᵀX + αI)⁻¹ XᵀY`` (no bias, as
        RectiPy). ``targets``: one row per sample, or per step (then averaged over the same
        windows). The observer gets ``"y"`` (X W) and ``"w_out"`` (Wᵀ, C × N, the readout edge's
        weights). The readout node is not added (neuroxide's RectiPy layer has no rate nodes
        yet): a warning says so when ``add_readout_node`` is true."""
        obs, x, y = self._readout_data(inputs, targets, sampling_steps, verbose, kwargs)
        w = np.linalg.solve(x.T @ x + alpha * np.eye(x.shape[1]), x.T @ y)
        obs._data["y"] = x @ w
        obs._data["w_out"] = w.T
        self._warn_no_readout_node("fit_ridge", add_readout_node)
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
        self._warn_no_readout_node("fit_rls", add_readout_node)
        return obs
