"""neuroxide: fast, reproducible simulation of recurrent networks (rate networks today).

A model is a YAML file (see the repository's README for every key); a run returns NumPy arrays
laid out as in ``results.npz``::

    import neuroxide
    net = neuroxide.load("examples/ring.yaml", duration="500 ms", populations__E__tau="10 ms")
    results = net.run()            # the GIL is released; Ctrl-C stops the run
    results["E.rate"]              # (lanes, frames, neurons) float32
    results.t                      # (frames,) seconds after the transient

The package is a thin layer over the Rust engine: the same file, overrides and seed give results
bitwise identical to ``neuroxide run``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import _neuroxide
from ._neuroxide import ModelError

__version__ = _neuroxide.version()

__all__ = [
    "DivergenceError", "Model", "ModelError", "Network", "Results", "from_neuroflame", "load",
    "plot", "__version__",
]


class DivergenceError(RuntimeError):
    """The simulation produced a non-finite value; ``.results`` holds what was recorded until then.

    The message names the step, time, population, variable, neuron and lane.
    """

    def __init__(self, message: str, results: Results):
        super().__init__(message)
        self.results = results


# --- models -----------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot write a {type(value).__name__} into a model: {value!r}")


def _value_text(value: Any) -> str:
    """An override's value as the YAML text `--set` takes: strings as written (``"10 ms"``,
    ``"{bernoulli: {k: 50}}"``), everything else as JSON (numbers, lists, dicts, None → null)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=_json_default)


def _assignments(overrides: Mapping[str, Any] | None, keywords: Mapping[str, Any]) -> list[str]:
    """``key.path=value`` strings from a dict of dotted paths and from keywords (``__`` for ``.``)."""
    if overrides is not None and not isinstance(overrides, Mapping):
        raise TypeError(
            "overrides: expected a dict of key paths to values, "
            f"e.g. {{'populations.E.tau': '10 ms'}}, got {type(overrides).__name__}"
        )
    merged = dict(overrides or {})
    merged.update({key.replace("__", "."): value for key, value in keywords.items()})
    return [f"{key}={_value_text(value)}" for key, value in merged.items()]


def load(
    path: str | os.PathLike[str], overrides: Mapping[str, Any] | None = None, **keywords: Any
) -> Network:
    """Read, validate and build a model file.

    Overrides change settings as ``neuroxide run --set`` does: keywords name key paths with
    ``__`` for ``.`` (``populations__E__tau="10 ms"``, ``seed=3``), and ``overrides`` takes
    dotted paths (``{"projections.EE.weight": 1.5}``). Strings are read as YAML, as on the
    command line; other values are converted (numbers, lists, dicts; None removes a setting).

    Raises ``FileNotFoundError`` if the file does not exist and :class:`ModelError` (a
    ``ValueError``) if the model is invalid, with the message ``neuroxide run`` prints.

    Example (from the repository's root folder)::

        >>> net = neuroxide.load("examples/ring.yaml", duration="100 ms", populations__E__tau="15 ms")
        >>> net.spec["populations"]["E"]["tau"]
        '15 ms'
        >>> net.lanes, net.steps
        (1, 200)
        >>> neuroxide.load("examples/ring.yaml", populations__E__tua="15 ms")
        Traceback (most recent call last):
        ...
        neuroxide.ModelError: ... unknown field `tua`, expected one of `size`, ...
    """
    simulation = _neuroxide.Simulation.load(os.fspath(path), _assignments(overrides, keywords))
    network = Network._wrap(simulation)
    network._base_dir = os.fspath(Path(path).resolve().parent)
    return network


def from_neuroflame(
    conf_file: str | os.PathLike[str],
    version: str = "2024",
    allow_unsupported: bool = False,
    neuroflame_frames: bool = False,
    **keys: Any,
) -> tuple[dict[str, Any], list[str]]:
    """Translate a NeuroFlame config (as ``neuroxide convert --from-neuroflame``): returns the
    model as a dict (``neuroxide.Network(model)`` builds it) and the keys not honoured.
    Keywords override NeuroFlame keys (``N_BATCH=10``), as NeuroFlame's keyword arguments."""
    text, warnings, _ = _neuroxide.neuroflame_translate(
        os.fspath(conf_file), [f"{k}={_value_text(v)}" for k, v in keys.items()], version,
        allow_unsupported, neuroflame_frames,
    )
    return json.loads(text), list(warnings)


class Network:
    """A built network: connectivity sampled, ready to :meth:`run`, :meth:`reset` and run again.

    ``Network(spec)`` builds from a dict with the structure of a model file, or from YAML text;
    :func:`load` reads a file. Relative data files (``{file: w.npy}``) are resolved against
    ``base_dir`` (default: the working directory).

    Example::

        >>> net = neuroxide.Network({
        ...     "dt": "0.1 ms", "duration": "10 ms",
        ...     "populations": {"E": {"size": 4, "tau": "10 ms",
        ...                           "initial": {"rate": {"constant": 1.0}}}},
        ...     "monitors": [{"population": "E", "variable": "rate"}],
        ... })
        >>> results = net.run()
        >>> round(float(results["E.rate_mean"][0, -1]), 4)   # e^{-1}: exponential decay over τ
        0.3679
    """

    _simulation: Any

    def __init__(
        self,
        spec: Mapping[str, Any] | str,
        overrides: Mapping[str, Any] | None = None,
        *,
        base_dir: str | os.PathLike[str] | None = None,
        **keywords: Any,
    ):
        if isinstance(spec, Mapping):
            # JSON is YAML: the dict goes through the same parser, validation and messages as a
            # file (without line numbers, which would point into generated text).
            text, positions = json.dumps(spec, indent=1, default=_json_default), False
        elif isinstance(spec, str):
            if "\n" not in spec and spec.strip().endswith((".yaml", ".yml")):
                raise TypeError(f"Network({spec!r}): to read a model file, use neuroxide.load(path)")
            text, positions = spec, True
        elif isinstance(spec, os.PathLike):
            raise TypeError(f"Network({spec!r}): to read a model file, use neuroxide.load(path)")
        else:
            raise TypeError(
                f"Network(spec): expected a dict or YAML text, got {type(spec).__name__}"
            )
        self._base_dir = None if base_dir is None else os.fspath(base_dir)
        self._simulation = _neuroxide.Simulation.from_text(
            text, _assignments(overrides, keywords), positions, self._base_dir
        )

    @classmethod
    def _wrap(cls, simulation: Any) -> Network:
        network = cls.__new__(cls)
        network._simulation = simulation
        return network

    def run(
        self,
        duration: str | float | None = None,
        inputs: Mapping[str, Any] | None = None,
        threads: int | None = None,
        progress: bool | Callable[[int, int], Any] | None = None,
    ) -> Results:
        """Run the transient and the recorded duration from the current state.

        ``duration`` (``"500 ms"``, or a number in ms) and ``inputs`` (``{population: array}``,
        an external current of shape (steps, neurons) or (lanes, steps, neurons), one row per
        integration step from the start of the transient, added to that population's input)
        rebuild the network from its spec with the same seed first, so they are only allowed
        before the first run or after :meth:`reset`.

        The GIL is released while the engine runs, so other Python threads keep working; Ctrl-C
        raises ``KeyboardInterrupt`` within about 0.1 s, with what was recorded until then in its
        ``.results`` (then call :meth:`reset` before running again). ``threads`` sets the worker
        threads (results do not depend on it; changing it rebuilds the network, which is only
        allowed before the first run or after a reset). ``progress``: a callable
        ``(steps_done, steps_total)`` called about ten times a second, or True for a tqdm bar (a
        plain text line if tqdm is not installed).

        A run that diverges raises :class:`DivergenceError`; its ``.results`` hold the frames
        recorded before the divergence. A second ``run()`` continues from the state the first
        left; ``reset()`` starts again from the initial state.

        Example::

            >>> net = neuroxide.load("examples/ring.yaml", duration="100 ms")
            >>> results = net.run()
            >>> results["E.rate"].shape               # (lanes, frames, neurons): 10 ms windows
            (1, 10, 1000)
            >>> net.reset()
            >>> bool((net.run()["E.rate"] == results["E.rate"]).all())   # same seed, same bits
            True
        """
        if duration is not None or inputs:
            self._rebuild(duration, inputs, threads)
        callback, close = _progress(progress, self.name)
        self._ran = True
        try:
            raw, diverged = self._simulation.run(threads, callback)
        except KeyboardInterrupt as interrupt:
            partial = getattr(interrupt, "partial", None)
            interrupt.results = None if partial is None else Results(partial)
            raise
        finally:
            close()
        results = Results(raw)
        if diverged is not None:
            raise DivergenceError(diverged, results)
        return results

    def _rebuild(self, duration: Any, inputs: Mapping[str, Any] | None, threads: int | None) -> None:
        if getattr(self, "_ran", False):
            raise ValueError(
                "run(duration=..., inputs=...) rebuilds the network, so it needs the initial state: "
                "call reset() first"
            )
        spec = self.spec
        if duration is not None:
            spec["duration"] = duration if isinstance(duration, str) else f"{float(duration)} ms"
        if inputs:
            import tempfile

            if not isinstance(inputs, Mapping):
                raise TypeError("inputs: expected a dict {population: array (steps, neurons)}")
            self._files = tempfile.TemporaryDirectory(prefix="neuroxide-inputs-")
            spec_inputs = dict(spec.get("inputs") or {})
            for population, array in inputs.items():
                if population not in spec["populations"]:
                    raise ValueError(
                        f"inputs: `{population}` is not a population "
                        f"({', '.join(spec['populations'])})"
                    )
                path = Path(self._files.name) / f"{population}.npy"
                np.save(path, np.ascontiguousarray(array, dtype=np.float64))
                spec_inputs[f"python_{population}"] = {"target": population, "file": str(path)}
            spec["inputs"] = spec_inputs
        text = json.dumps(spec, default=_json_default)
        base = getattr(self, "_base_dir", None)
        self._simulation = _neuroxide.Simulation.from_text(text, [], False, base, threads)

    def reset(self) -> None:
        """Restore the initial state (rates, currents, step counter); connectivity is kept.

        Example: ``net.run(); net.reset(); net.run()`` runs the same trial twice (the same
        numbers), where ``net.run(); net.run()`` continues the first run for a second duration.
        """
        self._simulation.reset()
        self._ran = False

    @property
    def spec(self) -> dict[str, Any]:
        """The resolved model as a dict: every default filled in, seed and version included.
        ``Network(net.spec)`` rebuilds the same network."""
        return json.loads(self._simulation.spec_json)

    @property
    def name(self) -> str:
        return self.spec.get("name") or "network"

    @property
    def lanes(self) -> int:
        """Independent trials simulated together (the first axis of every result array)."""
        return self._simulation.lanes

    @property
    def synapses(self) -> int:
        """Synapses represented by all projections."""
        return self._simulation.synapses

    @property
    def threads(self) -> int:
        return self._simulation.threads

    @property
    def steps(self) -> int:
        """Integration steps of one run (transient included)."""
        return self._simulation.total_steps

    @property
    def operators(self) -> list[str]:
        """How each projection is computed: name, operator and synapse count."""
        return self._simulation.operators

    @property
    def memory(self) -> dict[str, int]:
        """Bytes held by the coupling operators and by the recordings of a full run."""
        return {
            "operators": self._simulation.operator_bytes,
            "recordings": self._simulation.recording_bytes,
        }

    def __repr__(self) -> str:
        spec = self.spec
        populations = ", ".join(
            f"{name} ({population['size']:,})" for name, population in spec["populations"].items()
        )
        lanes = self.lanes
        return (
            f"<neuroxide.Network {self.name!r}: populations {populations}; "
            f"{len(spec.get('projections') or {})} projections, {self.synapses:,} synapses; "
            f"{lanes} lane{'s' if lanes != 1 else ''}; dt {spec.get('dt')}, "
            f"duration {spec.get('duration')}; {self.steps:,} steps>"
        )


def _progress(
    progress: bool | Callable[[int, int], Any] | None, name: str
) -> tuple[Callable[[int, int], Any] | None, Callable[[], None]]:
    """A progress callback for the engine and a function that closes what it opened."""
    if progress is None or progress is False:
        return None, lambda: None
    if callable(progress):
        return progress, lambda: None
    if progress is not True:
        raise TypeError(f"progress: expected True, False, None or a callable, got {progress!r}")
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        bar = tqdm(desc=name, unit="step", unit_scale=True)

        def update(done: int, total: int) -> None:
            if bar.total != total:
                bar.total = total
            bar.update(done - bar.n)

        return update, bar.close

    # Without tqdm: one line on stderr, rewritten in place.
    def report(done: int, total: int) -> None:
        print(f"\r{name}: {done:,}/{total:,} steps ({100 * done / max(total, 1):.0f} %)",
              end="", file=sys.stderr, flush=True)

    return report, lambda: print(file=sys.stderr, flush=True)


# --- results ----------------------------------------------------------------------------------


class Results(Mapping):
    """The arrays a run recorded, by name, as in ``results.npz`` (README, "Results"):

    - ``t`` (frames,): seconds after the transient;
    - ``<population>.<variable>`` (lanes, frames, neurons): per-neuron recordings (float32 in
      f32 runs) and ``<population>.<variable>_mean`` (lanes, frames), float64;
    - ``<population>.<variable>_t``: the frames of a monitor whose frames differ from ``t``;
    - ``lane.<key>`` (lanes,): swept values; ``<input>.phase`` (lanes,): random stimulus phases.

    The arrays were handed over by the engine without a copy.

    Example::

        >>> results = neuroxide.load("examples/ring.yaml", duration="100 ms").run()
        >>> sorted(results)
        ['E.rate', 'E.rate_mean', 'I.rate_mean', 't']
        >>> results.t[:3]                           # the end of each 10 ms window, in seconds
        array([0.01, 0.02, 0.03])
        >>> results.complete, results.spec["seed"]
        (True, 7)
    """

    def __init__(self, raw: Any):
        self._raw = raw
        self._arrays: dict[str, np.ndarray] = raw.arrays

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self._arrays[name]
        except KeyError:
            raise KeyError(f"no array {name!r}; arrays: {', '.join(self._arrays)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    @property
    def t(self) -> np.ndarray:
        """Time of each frame of the first monitor, in seconds after the transient."""
        return self._arrays["t"]

    @property
    def spec(self) -> dict[str, Any]:
        """The resolved model that reruns to these numbers (seed and version included)."""
        return json.loads(self._raw.spec_json)

    @property
    def complete(self) -> bool:
        """False when the run stopped early (a divergence); the arrays hold what was recorded."""
        return self._raw.complete

    @property
    def error(self) -> str | None:
        """Why the run stopped early, or None."""
        return self._raw.error

    @property
    def summary(self) -> dict[str, Any]:
        """The fields of ``run.json``: version, complete, error, seed, steps, lanes, threads,
        synapses, build and run seconds, operator and recording bytes."""
        return json.loads(self._raw.run_json)

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``results.npz``, ``spec.yaml`` and ``run.json`` into ``directory`` (created if
        needed), the files ``neuroxide run --out directory`` writes. Returns the folder.

        Example::

            >>> import tempfile, numpy as np
            >>> results = neuroxide.load("examples/ring.yaml", duration="100 ms").run()
            >>> folder = results.save(tempfile.mkdtemp())
            >>> np.load(folder / "results.npz")["E.rate"].shape
            (1, 10, 1000)
        """
        self._raw.save(os.fspath(directory), self._arrays)
        return Path(directory)

    def _time_of(self, name: str) -> str:
        """The name of the time axis of array ``name`` (``t`` or ``<monitor>_t``)."""
        monitor = name[: -len("_mean")] if name.endswith("_mean") else name
        return monitor + "_t" if monitor + "_t" in self._arrays else "t"

    def _is_time(self, name: str) -> bool:
        return name == "t" or (
            name.endswith("_t") and (name[:-2] in self._arrays or name[:-2] + "_mean" in self._arrays)
        )

    def _neuron_ids(self) -> dict[str, np.ndarray]:
        """Indices of the recorded neurons of each per-neuron array, from the monitors."""
        ids = {}
        spec = self.spec
        for monitor in spec.get("monitors") or []:
            population, variable = monitor["population"], monitor.get("variable", "rate")
            size = spec["populations"][population]["size"]
            selection = monitor.get("neurons", "all")
            if selection == "all" or selection is None:
                neurons = np.arange(size)
            elif isinstance(selection, list):
                neurons = np.asarray(selection, dtype=np.int64)
            elif isinstance(selection, dict) and "list" in selection:
                neurons = np.asarray(selection["list"], dtype=np.int64)
            elif isinstance(selection, dict) and "range" in selection:
                neurons = np.arange(*selection["range"])
            else:
                continue
            ids[f"{population}.{variable}"] = neurons
        return ids

    def to_xarray(self) -> Any:
        """An ``xarray.Dataset``: dims ``lane``, ``t`` (or a monitor's own time axis) and
        ``<population>.<variable>.neuron`` (coordinates: the recorded neurons' indices); swept
        values are coordinates on ``lane``. Needs xarray (``pip install xarray``).

        Example::

            >>> results = neuroxide.load("examples/ring.yaml", duration="100 ms").run()
            >>> dict(results.to_xarray()["E.rate"].sizes)
            {'lane': 1, 't': 10, 'E.rate.neuron': 1000}
        """
        try:
            import xarray as xr
        except ImportError as error:
            raise ImportError(
                "Results.to_xarray() needs xarray, which is not installed: `pip install xarray` "
                "(or `pip install 'neuroxide[xarray]'`). Without it, the arrays are NumPy "
                "arrays: results['E.rate'], results.t"
            ) from error
        ids = self._neuron_ids()
        coords: dict[str, Any] = {"lane": np.arange(self.summary["lanes"])}
        data: dict[str, Any] = {}
        for name, array in self._arrays.items():
            if self._is_time(name):
                coords[name] = (name, array, {"units": "s"})
            elif name.startswith("lane."):
                coords[name] = ("lane", array)
            elif array.ndim == 1:
                data[name] = ("lane", array)
            elif array.ndim == 2:
                data[name] = (("lane", self._time_of(name)), array)
            else:
                neuron = f"{name}.neuron"
                data[name] = (("lane", self._time_of(name), neuron), array)
                if name in ids and len(ids[name]) == array.shape[2]:
                    coords[neuron] = (neuron, ids[name])
        return xr.Dataset(data, coords=coords, attrs={"spec": json.dumps(self.spec)})

    def to_dataframe(self, name: str | None = None) -> Any:
        """A ``pandas.DataFrame`` in long form. Without ``name``: every population mean on the
        frames of ``t``, indexed by (lane, t), one column per array, swept values as columns.
        With ``name``: that array, indexed by (lane, t) or (lane, t, neuron). Needs pandas.

        Example::

            >>> results = neuroxide.load("examples/ring.yaml", duration="100 ms").run()
            >>> frame = results.to_dataframe()
            >>> list(frame.index.names), list(frame.columns)
            (['lane', 't'], ['E.rate_mean', 'I.rate_mean'])
        """
        try:
            import pandas as pd
        except ImportError as error:
            raise ImportError(
                "Results.to_dataframe() needs pandas, which is not installed: `pip install pandas` "
                "(or `pip install 'neuroxide[pandas]'`). Without it, the arrays are NumPy "
                "arrays: results['E.rate_mean'], results.t"
            ) from error
        lanes = np.arange(self.summary["lanes"])
        if name is not None:
            array = self[name]
            if array.ndim < 2:
                return pd.DataFrame({name: array}, index=pd.Index(lanes, name="lane"))
            axes = [lanes, self._arrays[self._time_of(name)]]
            names = ["lane", "t"]
            if array.ndim == 3:
                axes.append(self._neuron_ids().get(name, np.arange(array.shape[2])))
                names.append("neuron")
            index = pd.MultiIndex.from_product(axes, names=names)
            return pd.DataFrame({name: array.reshape(-1)}, index=index)
        index = pd.MultiIndex.from_product([lanes, self.t], names=["lane", "t"])
        columns = {
            key: array.reshape(-1)
            for key, array in self._arrays.items()
            if array.ndim == 2 and self._time_of(key) == "t"
        }
        frames = len(self.t)
        for key, array in self._arrays.items():
            if key.startswith("lane.") or (array.ndim == 1 and not self._is_time(key)):
                columns[key] = np.repeat(array, frames)
        return pd.DataFrame(columns, index=index)

    def to_nwb(
        self,
        path: str | os.PathLike[str],
        lane: int = 0,
        session_description: str | None = None,
        identifier: str | None = None,
        session_start_time: Any = None,
    ) -> Path:
        """Write lane ``lane`` as an NWB file (:func:`neuroxide.nwb.write`): spikes in the
        ``units`` table (one row per neuron of each spiking population with recorded spikes,
        ``spike_times`` in seconds on the clock of ``t``, ``population`` and ``index`` columns),
        rates and states as ``TimeSeries`` in ``acquisition`` named ``<population>.<variable>``.
        Needs pynwb (``pip install pynwb``). Returns the path::

            results = neuroxide.load("examples/brunel.yaml", duration="200 ms").run()
            results.to_nwb("brunel.nwb")
            from pynwb import NWBHDF5IO
            units = NWBHDF5IO("brunel.nwb", "r").read().units.to_dataframe()
        """
        from .nwb import write

        return write(self, path, lane=lane, session_description=session_description,
                     identifier=identifier, session_start_time=session_start_time)

    def __repr__(self) -> str:
        s = self.summary
        state = "complete" if self.complete else f"incomplete: {self.error}"
        width = max((len(name) for name in self._arrays), default=0)
        lines = [
            f"<neuroxide.Results {self.spec.get('name') or 'network'!r}: {state}; "
            f"{s['lanes']} lane{'s' if s['lanes'] != 1 else ''}, {s['steps']:,} steps in "
            f"{s['run_seconds']:.3g} s"
        ]
        for name, array in self._arrays.items():
            lines.append(f"  {name:<{width}}  {array.shape} {array.dtype}")
        return "\n".join(lines) + ">"


from . import plot  # noqa: E402
from .builder import Model  # noqa: E402
