"""Building a model in Python, key by key as in a model file (README, "Model files").

::

    import neuroxide
    model = (neuroxide.Model(dt="0.1 ms", duration="200 ms", seed=1)
             .population("E", 800, tau="20 ms", threshold=0.0)
             .population("I", 200, tau="10 ms")
             .projection("EE", "E", "E", rule={"bernoulli": {"k": 50}}, weight=1.0)
             .input("drive", "E", constant=1.0)
             .monitor("E", "rate", window="10 ms"))
    results = model.build().run()

Every method takes the keys of the matching YAML section as keywords (checked by the same
validation, with the key path in the message); ``model.spec`` is the dict, ``model.to_yaml()``
its text.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class Model:
    """A model file under construction. Top-level keys (``dt``, ``duration``, ``transient``,
    ``seed``, ``precision``, ``method``, ``lanes``, ``sweep``, ``name``, …) as keywords."""

    def __init__(self, **settings: Any):
        self._spec: dict[str, Any] = {k: v for k, v in settings.items() if v is not None}
        self._spec.setdefault("populations", {})

    def population(self, name: str, size: int, model: str = "rate", **keys: Any) -> Model:
        """``populations.<name>``: ``size``, ``model`` (rate, lif_psc_exp, eif, qif, …) and its
        keys (``tau``, ``transfer``, ``neuron={...}``, ``synapse={...}``, ``initial={...}``)."""
        if name in self._spec["populations"]:
            raise ValueError(f"population `{name}` is already defined")
        self._spec["populations"][name] = {"size": int(size), "model": model, **keys}
        return self

    def projection(
        self, name: str, pre: str, post: str, rule: Any = "all_to_all", weight: float = 1.0,
        **keys: Any,
    ) -> Model:
        """``projections.<name>``: ``pre``, ``post``, ``rule``, ``weight`` and ``profile``,
        ``scaling``, ``autapses``, ``tau_syn``, ``delay``, …"""
        projections = self._spec.setdefault("projections", {})
        if name in projections:
            raise ValueError(f"projection `{name}` is already defined")
        projections[name] = {"pre": pre, "post": post, "rule": rule, "weight": weight, **keys}
        return self

    def input(self, name: str, target: str, **kind: Any) -> Model:
        """``inputs.<name>``: ``target`` and one kind (``constant=``, ``balanced={...}``,
        ``noise={...}``, ``stimulus={...}``, ``poisson={...}``, ``sine={...}``, ``file=``, …),
        with ``start``/``stop``."""
        inputs = self._spec.setdefault("inputs", {})
        if name in inputs:
            raise ValueError(f"input `{name}` is already defined")
        inputs[name] = {"target": target, **kind}
        return self

    def monitor(self, population: str, variable: str = "rate", **keys: Any) -> Model:
        """One entry of ``monitors``: ``population``, ``variable`` and ``window``/``every``,
        ``neurons``, ``mean``, ``start``, ``stop``."""
        self._spec.setdefault("monitors", []).append(
            {"population": population, "variable": variable, **keys}
        )
        return self

    def set(self, **settings: Any) -> Model:
        """Set or change top-level keys."""
        self._spec.update(settings)
        return self

    @property
    def spec(self) -> dict[str, Any]:
        """The model as a dict (a copy)."""
        return json.loads(json.dumps(self._spec, default=_default))

    def to_yaml(self, path: str | os.PathLike[str] | None = None) -> str:
        """The model file's text (JSON, which is YAML); written to ``path`` if given."""
        text = json.dumps(self._spec, indent=2, default=_default) + "\n"
        if path is not None:
            Path(path).write_text(text)
        return text

    def build(self, overrides: dict[str, Any] | None = None, **keywords: Any):
        """Validate and build: a :class:`neuroxide.Network`."""
        from . import Network

        return Network(self.spec, overrides, **keywords)

    def __repr__(self) -> str:
        pops = ", ".join(f"{k} ({v['size']})" for k, v in self._spec["populations"].items())
        return f"<neuroxide.Model: populations {pops or 'none'}>"


def _default(value: Any) -> Any:
    from . import _json_default

    return _json_default(value)
