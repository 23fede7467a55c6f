"""Export of :class:`neuroxide.Results` to NWB (Neurodata Without Borders), the format of the DANDI
archive and of most analysis tools of electrophysiology. Needs pynwb (``pip install pynwb``), which
is imported only when a file is written.

One lane of the results becomes one NWB file:

- ``units``: one row per neuron of every spiking population with recorded spikes (a
  ``<population>.spikes`` array), silent neurons included, in population order then neuron order;
  ``spike_times`` in seconds after the transient (recorded step ``s`` ends at ``(s + 1) dt``, the
  clock of ``results.t``), a ``population`` column with the population's name and an ``index``
  column with the neuron's index within it, and a ``mean_rate`` column (Hz) with the
  NeuroSimTools-style summaries of ``mean_rate`` monitors where the model has them (NaN for
  populations without); ``resolution`` is ``dt``.
- ``acquisition``: every other recording as a ``TimeSeries`` named as its array
  (``E.rate_mean``, ``E.v``), data (frames,) or (frames, neurons) of the chosen lane, timestamps
  from ``t`` (or the monitor's own ``<population>.<variable>_t``), with its unit.
- ``notes``: JSON with the neuroxide version, the lane, its swept values (``lane.<key>``) and
  other per-lane values, and the resolved model (``results.spec``), which reruns to these numbers.

Example::

    import neuroxide
    from pynwb import NWBHDF5IO

    results = neuroxide.load("examples/brunel.yaml", duration="200 ms").run()
    results.to_nwb("brunel.nwb", session_description="Brunel 2000, AI regime")
    with NWBHDF5IO("brunel.nwb", "r") as io:
        units = io.read().units.to_dataframe()
    e = units[units.population == "E"]          # one row per neuron of E
    e.spike_times.iloc[0]                       # seconds, as results["E.spikes"] of lane 0
"""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from . import Results

__all__ = ["write"]

# Accepted spellings of time units in model files (crates/model/src/units.rs), in ms.
_TIME_UNITS_MS = {"ms": 1.0, "s": 1e3, "us": 1e-3, "µs": 1e-3, "min": 6e4}
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*)\s*$")


def _seconds(value: Any) -> float:
    """A time of the spec (``"0.1 ms"``, ``"1 s"``, or a bare number of milliseconds) in seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) * 1e-3
    match = _QUANTITY.match(str(value))
    if match is None or match.group(2) not in ("", *_TIME_UNITS_MS):
        raise ValueError(f"cannot read the time {value!r} of the results' spec")
    return float(match.group(1)) * _TIME_UNITS_MS.get(match.group(2) or "ms", 1.0) * 1e-3


def _unit(population: dict[str, Any], variable: str) -> str:
    """The unit of recorded variable ``variable`` of a population of the resolved spec (README,
    "Spiking networks": time ms, voltage mV, current pA, conductance nS; QIF and Izhikevich in their
    authors' units; rate populations are dimensionless)."""
    model = population.get("model") or "rate"
    if model == "rate":
        return "a.u."
    if variable == "rate":
        return "Hz"
    if variable in ("current", "input"):
        return "pA"
    if variable == "v":
        return "a.u." if model == "qif" else "mV"
    if variable == "w":
        return "pA" if model == "adex" else "a.u."
    if variable in ("g_exc", "g_inh"):
        kind = (population.get("synapse") or {}).get("kind")
        if model == "lif_cond_exp" or kind == "conductance_exp":
            return "nS"
        if model == "lif_psc_delta" or kind == "delta":
            return "mV"
        return "pA"
    return "a.u."


def _neuron_text(ids: np.ndarray | None, count: int) -> str:
    if ids is None or len(ids) != count:
        return f"{count} recorded neurons"
    if count > 0 and np.array_equal(ids, np.arange(ids[0], ids[0] + count)):
        return f"neurons {ids[0]} to {ids[0] + count - 1}"
    return "neurons " + ", ".join(str(int(i)) for i in ids)


def write(
    results: Results,
    path: str | os.PathLike[str],
    lane: int = 0,
    session_description: str | None = None,
    identifier: str | None = None,
    session_start_time: datetime | None = None,
) -> Path:
    """Write lane ``lane`` of ``results`` as an NWB file at ``path`` (overwritten); returns the path.

    Spikes go into the ``units`` table (one row per neuron of each spiking population with
    recorded spikes: ``spike_times`` in seconds on the clock of ``results.t``, ``population`` and
    ``index`` columns), rates and states into ``acquisition`` as ``TimeSeries`` named
    ``<population>.<variable>`` (see the module's documentation). ``session_description``
    defaults to a line naming the model and lane, ``identifier`` to a random UUID,
    ``session_start_time`` to now (UTC). Needs pynwb::

        results = neuroxide.load("examples/lif_two_populations.yaml", duration="100 ms").run()
        neuroxide.nwb.write(results, "lif.nwb")       # or results.to_nwb("lif.nwb")
    """
    try:
        import pynwb
        from hdmf.common import VectorData, VectorIndex
        from pynwb.misc import Units
    except ImportError as error:
        raise ImportError(
            "writing NWB files needs pynwb, which is not installed: `pip install pynwb`. "
            "Without it, the spikes are NumPy arrays: results['E.spikes'] rows (lane, step, "
            "neuron); results.save(dir) writes results.npz"
        ) from error
    from . import __version__

    spec = results.spec
    lanes = int(results.summary["lanes"])
    if isinstance(lane, bool) or not isinstance(lane, (int, np.integer)) or not 0 <= lane < lanes:
        raise ValueError(f"lane: expected an integer in 0..{lanes - 1} (the results have {lanes} "
                         f"lane{'s' if lanes != 1 else ''}), got {lane!r}")
    lane = int(lane)
    dt = _seconds(spec["dt"])
    name = spec.get("name") or "network"
    populations = spec["populations"]
    arrays = {key: results[key] for key in results}

    per_lane = {key: array[lane].item() for key, array in arrays.items()
                if array.ndim == 1 and not results._is_time(key)}
    notes = {"neuroxide": __version__, "lane": lane, "lanes": lanes, "values": per_lane,
             "complete": results.complete, "error": results.error, "spec": spec}
    nwbfile = pynwb.NWBFile(
        session_description=session_description
        or f"neuroxide simulation of {name!r}, lane {lane} of {lanes}",
        identifier=identifier or str(uuid.uuid4()),
        session_start_time=session_start_time or datetime.now(timezone.utc),
        notes=json.dumps(notes),
    )

    # Units: spike times, one row per neuron, as flat data + end offsets (a ragged column).
    times: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    population_column: list[str] = []
    index_column: list[np.ndarray] = []
    mean_rate_column: list[np.ndarray] = []
    offset = 0
    for population, spec_population in populations.items():
        key = f"{population}.spikes"
        if key not in arrays:
            continue
        rows = np.asarray(arrays[key]).reshape(-1, 3)
        rows = rows[rows[:, 0] == lane]
        size = int(spec_population["size"])
        order = np.lexsort((rows[:, 1], rows[:, 2]))  # by neuron, then step
        steps, neurons = rows[order, 1], rows[order, 2]
        times.append((steps + 1) * dt)
        counts = np.bincount(neurons, minlength=size)[:size]
        ends.append(offset + np.cumsum(counts))
        offset += len(steps)
        population_column.extend([population] * size)
        index_column.append(np.arange(size, dtype=np.int64))
        # A NeuroSimTools-style summary (`mean_rate` monitor), NaN where there is none.
        summary = arrays.get(f"{population}.mean_rate")
        mean_rate_column.append(
            np.asarray(summary[lane], dtype=np.float64)
            if summary is not None
            else np.full(size, np.nan)
        )
    if population_column:
        spike_times = VectorData(
            name="spike_times",
            description="spike times in seconds after the transient (step s at (s + 1) dt)",
            data=np.concatenate(times).astype(np.float64),
        )
        spike_index = VectorIndex(
            name="spike_times_index", data=np.concatenate(ends).astype(np.int64), target=spike_times
        )
        nwbfile.units = Units(
            name="units",
            description=f"neurons of the spiking populations of {name!r}, lane {lane}",
            resolution=dt,
            columns=[
                spike_times,
                spike_index,
                VectorData(name="population", description="the neuron's population",
                           data=population_column),
                VectorData(name="index", description="the neuron's index within its population",
                           data=np.concatenate(index_column)),
            ]
            + (
                [VectorData(name="mean_rate",
                            description="mean rate in Hz over the `mean_rate` monitor's range "
                            "(NaN: no such monitor)",
                            data=np.concatenate(mean_rate_column))]
                if any(f"{p}.mean_rate" in arrays for p in populations)
                else []
            ),
        )

    # Time series: population means and per-neuron recordings.
    ids = results._neuron_ids()
    for key, array in arrays.items():
        population, _, variable = key.partition(".")
        if (array.ndim not in (2, 3) or key.endswith(".spikes") or results._is_time(key)
                or variable in ("mean_rate", "mean_rate_mean")):
            # Spikes are in Units, and so are the mean-rate summaries (no time axis).
            continue
        base = variable[: -len("_mean")] if variable.endswith("_mean") else variable
        spec_population = populations.get(population, {})
        data = np.asarray(array[lane])
        timestamps = np.asarray(arrays[results._time_of(key)], dtype=np.float64)
        if array.ndim == 2:
            description = f"{base} of population {population}, mean over its recorded neurons"
        else:
            neurons = _neuron_text(ids.get(key), data.shape[1])
            description = f"{base} of population {population}, {neurons} (columns)"
        nwbfile.add_acquisition(
            pynwb.TimeSeries(
                name=key,
                data=data,
                unit=_unit(spec_population, base),
                timestamps=timestamps,
                description=f"{description}; lane {lane}; timestamps in seconds after the transient",
            )
        )

    path = Path(path)
    with pynwb.NWBHDF5IO(os.fspath(path), "w") as io:
        io.write(nwbfile)
    return path
