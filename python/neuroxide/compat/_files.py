"""Temporary data files (weights, inputs, initial states) for the models the compat layers build."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np


class Files:
    """A temporary folder of ``.npy`` files; kept alive as long as the object."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="neuroxide-compat-")
        self.path = Path(self._dir.name)

    def save(self, name: str, array: Any) -> str:
        path = self.path / f"{name}.npy"
        np.save(path, np.ascontiguousarray(np.asarray(array, dtype=np.float64)))
        return str(path)


def numpy(x: Any) -> np.ndarray:
    """A NumPy float64 array from an array-like or a torch tensor."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def spike_counts(rows: np.ndarray, lanes: int, steps: int, n: int, offset: int = 0) -> np.ndarray:
    """Spike rows (lane, step, neuron) → a dense (lanes, steps, n) count array."""
    counts = np.zeros((lanes, steps, n))
    if len(rows):
        np.add.at(counts, (rows[:, 0], rows[:, 1], rows[:, 2] - offset), 1.0)
    return counts
