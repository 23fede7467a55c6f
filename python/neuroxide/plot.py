"""Plots of results with matplotlib (``pip install matplotlib``), and bump decoding.

Each function draws into ``ax`` (a new figure's axes when None) and returns the axes:
:func:`raster` (spikes), :func:`heatmap` (a per-neuron recording, neuron × time),
:func:`means` (population means over time, every lane), :func:`bump_phase` (the phase of the
first Fourier mode over time). :func:`decode_bump` is NeuroFlame's ``decode_bump`` in NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "neuroxide.plot needs matplotlib, which is not installed: `pip install matplotlib`"
        ) from error
    return plt.figure().add_subplot()


def _seconds(results: Any, name: str) -> np.ndarray:
    return results[results._time_of(name)]


def decode_bump(rates: Any, axis: int = -1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(m0, m1, phase)`` of rates over a ring along ``axis``: the mean, the amplitude
    ``2|F1|/N`` and the phase ``arg F1`` in [0, 2π) of ``F1 = Σ_n r_n e^{i 2π n/N}``."""
    r = np.moveaxis(np.asarray(rates, dtype=np.float64), axis, -1)
    n = r.shape[-1]
    f1 = r @ np.exp(1j * 2 * np.pi * np.arange(n) / n)
    return r.mean(axis=-1), 2 * np.abs(f1) / n, np.mod(np.angle(f1), 2 * np.pi)


def raster(results: Any, population: str, lane: int = 0, ax: Any = None, **style: Any) -> Any:
    """Spikes of ``population`` (a ``spikes`` monitor) in lane ``lane``: neuron against time."""
    ax = _axes(ax)
    name = f"{population}.spikes"
    if name not in results:
        raise KeyError(f"no {name!r} in the results: add a monitor {{population: {population}, variable: spikes}}")
    rows = results[name]
    rows = rows[rows[:, 0] == lane]
    dt = _dt_seconds(results)
    ax.scatter((rows[:, 1] + 1) * dt, rows[:, 2], s=style.pop("s", 1), marker="|", **style)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"{population} neuron")
    return ax


def _dt_seconds(results: Any) -> float:
    import re

    text = str(results.spec["dt"]).strip()
    match = re.fullmatch(r"([0-9.eE+-]+)\s*(ms|s|us)?", text)
    if match is None:
        raise ValueError(f"cannot read dt = {text!r}")
    scale = {"ms": 1e-3, "s": 1.0, "us": 1e-6, None: 1e-3}[match.group(2)]
    return float(match.group(1)) * scale


def heatmap(results: Any, name: str = "E.rate", lane: int = 0, ax: Any = None, **style: Any) -> Any:
    """A per-neuron recording ``name`` (lanes, frames, neurons) of lane ``lane``: neuron × time."""
    ax = _axes(ax)
    data = np.asarray(results[name][lane], dtype=np.float64)
    t = _seconds(results, name)
    image = ax.imshow(data.T, aspect="auto", origin="lower",
                      extent=(t[0], t[-1], 0, data.shape[1]), **style)
    ax.figure.colorbar(image, ax=ax, label=name)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    return ax


def means(results: Any, populations: list[str] | None = None, ax: Any = None) -> Any:
    """Population means ``<pop>.rate_mean`` over time, every lane."""
    ax = _axes(ax)
    names = [k for k in results if k.endswith(".rate_mean")]
    if populations is not None:
        names = [f"{p}.rate_mean" for p in populations]
    for name in names:
        t = _seconds(results, name)
        for lane, row in enumerate(results[name]):
            ax.plot(t, row, label=name if results[name].shape[0] == 1 else f"{name} lane {lane}")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mean rate")
    ax.legend()
    return ax


def bump_phase(results: Any, population: str = "E", lane: int | None = None, ax: Any = None) -> Any:
    """The bump's phase (degrees) of ``<population>.rate`` over time, each lane (or ``lane``)."""
    ax = _axes(ax)
    name = f"{population}.rate"
    _, _, phase = decode_bump(results[name])
    t = _seconds(results, name)
    lanes = range(phase.shape[0]) if lane is None else [lane]
    for k in lanes:
        ax.plot(t, np.degrees(phase[k]), label=f"lane {k}")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("bump phase (deg)")
    ax.set_ylim(0, 360)
    return ax
