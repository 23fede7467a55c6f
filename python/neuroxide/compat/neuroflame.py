"""NeuroFlame's ``Network`` (``src/network.py``) over the neuroxide engine.

::

    from neuroxide.compat.neuroflame import Network
    model = Network("config_2pop.yml", REPO_ROOT, N_BATCH=10, LIVE_FF_UPDATE=1)
    model.Ja0 = np.stack([[j, 1.0] for j in np.linspace(1, 3, 10)])[:, :, None]  # per batch
    rates = model()          # numpy (N_BATCH, DURATION/T_WINDOW + 1, N_E)

The config is read as NeuroFlame does (defaults, then the file, then keyword arguments) and
translated by ``neuroxide convert --from-neuroflame`` (2024 semantics; ``version="head"`` for
HEAD's exponential Euler). Upper-case attributes are the config keys: reading gives the merged
value, assigning overrides it for the next call (``N_BATCH``, ``Ja0`` — a list per population
or a (N_BATCH, N_POP[, 1]) array of per-batch drives, as the tutorials' sweeps do —,
``LIVE_FF_UPDATE``, ``DURATION``, ``I0``, ``PHI0``, …). Differences from NeuroFlame: every
random draw (connectivity, initial conditions, noise) derives from ``SEED``, so runs are
reproducible (NeuroFlame reseeds its dynamics from the clock); the model runs on the CPU
(``DEVICE`` is ignored) and returns NumPy arrays; keys not honoured are in ``.warnings``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .. import Network as _Network
from .. import _neuroxide, _value_text
from ._files import Files


class Network:
    """``Network(conf_file, repo_root=None, **kwargs)``: ``conf_file`` is a path, or a name in
    ``repo_root/conf`` as in NeuroFlame."""

    def __init__(self, conf_file: str | os.PathLike[str], repo_root: Any = None,
                 version: str = "2024", allow_unsupported: bool = False, **kwargs: Any):
        path = Path(conf_file)
        if not path.is_file() and repo_root is not None:
            path = Path(repo_root) / "conf" / conf_file
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_overrides", dict(kwargs))
        object.__setattr__(self, "_version", version)
        object.__setattr__(self, "_allow", allow_unsupported)
        object.__setattr__(self, "_ja0_batch", None)
        object.__setattr__(self, "warnings", [])
        self._translate()  # errors now, as NeuroFlame's constructor

    def _translate(self, frames: bool = True) -> dict[str, Any]:
        overrides = [f"{k}={_value_text(_plain(v))}" for k, v in self._overrides.items()]
        text, warnings, keys = _neuroxide.neuroflame_translate(
            os.fspath(self._path), overrides, self._version, self._allow, frames
        )
        object.__setattr__(self, "warnings", list(warnings))
        object.__setattr__(self, "_keys", json.loads(keys))
        return json.loads(text)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        if key == "Ja0" and self._ja0_batch is not None:
            return self._ja0_batch
        keys = self.__dict__.get("_keys", {})
        if key in keys:
            return keys[key]
        raise AttributeError(f"NeuroFlame network has no attribute {key!r}")

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "Ja0" and np.ndim(value) >= 2:
            # Per-batch drives (N_BATCH, N_POP[, 1]).
            ja0 = np.asarray(value, dtype=np.float64)
            object.__setattr__(self, "_ja0_batch", ja0.reshape(ja0.shape[0], -1))
            return
        if key == "Ja0":
            object.__setattr__(self, "_ja0_batch", None)
        self._overrides[key] = value
        self._translate()

    def build(self) -> _Network:
        """The neuroxide network of the current keys (connectivity sampled from ``SEED``)."""
        model = self._translate()
        batch = self._ja0_batch
        if batch is not None:
            lanes = model.get("lanes", 1)
            if batch.shape[0] != lanes:
                raise ValueError(
                    f"Ja0: {batch.shape[0]} per-batch drives for N_BATCH = {lanes}; "
                    "expected one row per batch entry"
                )
            populations = list(model["populations"])
            if batch.shape[1] != len(populations):
                raise ValueError(f"Ja0: expected {len(populations)} drives per batch entry, "
                                 f"got {batch.shape[1]}")
            k0 = float(model["inputs"][f"drive_{populations[0]}"]["balanced"]["k"])
            sweep = {}
            for a, name in enumerate(populations):
                sweep[f"inputs.drive_{name}.balanced.j0"] = batch[:, a].tolist()
                if f"drive_{name}_switch" in model["inputs"]:
                    sweep[f"inputs.drive_{name}_switch.balanced.j0"] = (
                        batch[:, a] / np.sqrt(k0)).tolist()
            model["sweep"] = sweep
        return _Network(model, base_dir=self._path.parent)

    def forward(self, ff_input: Any = None, REC_LAST_ONLY: int = 0) -> np.ndarray:
        """Run one trial per batch entry: window-averaged E rates (N_BATCH, frames, N_E), one
        frame per ``T_WINDOW`` from t = 0 to ``DURATION`` (``DURATION/T_WINDOW + 1`` frames).

        ``ff_input``: the feed-forward input of every neuron and step, (N_BATCH, N_STEPS, N) as
        NeuroFlame's (N the neurons of all populations in order, steps from the start of
        ``T_STEADY``); it replaces the drive, FF noise and stimuli of the config, and N_BATCH is
        taken from it. NeuroFlame's ``N_STEPS`` holds one window more than the run uses (the
        trailing steps are ignored)."""
        if ff_input is None:
            network = self.build()
        else:
            network = self._with_ff_input(ff_input)
        results = network.run()
        rates = results[f"{next(iter(results.spec['populations']))}.rate"]
        object.__setattr__(self, "results", results)
        if REC_LAST_ONLY:
            return rates[:, -1:]
        return rates

    def _with_ff_input(self, ff_input: Any) -> _Network:
        if hasattr(ff_input, "detach"):
            ff_input = ff_input.detach().cpu().numpy()
        ff = np.asarray(ff_input, dtype=np.float64)
        model = self._translate()
        sizes = {name: int(p["size"]) for name, p in model["populations"].items()}
        n = sum(sizes.values())
        dt = self.DT
        steps = int(round((self.T_STEADY + self.DURATION) / dt))
        window = int(round(self.T_WINDOW / dt))
        if ff.ndim != 3 or ff.shape[2] != n or ff.shape[1] not in (steps, steps + window):
            raise ValueError(
                f"ff_input: got shape {ff.shape}, expected (N_BATCH, N_STEPS, N) with N = {n} "
                f"neurons and N_STEPS = {steps + window} (NeuroFlame's, or {steps} without the "
                "trailing window)")
        if not np.all(np.isfinite(ff)):
            raise ValueError("ff_input: values must be finite")
        files = Files()
        object.__setattr__(self, "_ff_files", files)  # alive as long as the results' spec
        inputs, start = {}, 0
        for name, size in sizes.items():
            part = ff[:, :steps, start:start + size]
            inputs[f"ff_{name}"] = {"target": name, "file": files.save(f"ff_{name}", part)}
            start += size
        model["inputs"] = inputs
        model["lanes"] = int(ff.shape[0])
        model.pop("sweep", None)
        return _Network(model, base_dir=self._path.parent)

    __call__ = forward

    def __repr__(self) -> str:
        return f"<neuroxide.compat.neuroflame.Network {self._path.name}: {self._overrides}>"


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
