"""Every tutorial and migration example of the user guide runs.

Each page of docs/tutorials and docs/migration is read in order: fenced code blocks, with
`--8<-- "path"` lines replaced by the files they include (as MkDocs' snippets extension does).
`python` blocks run in one namespace per page; `yaml` blocks holding a whole model are loaded and
run; lines of `bash` blocks that start with `neuroxide ` are run with the CLI. Everything runs in
a temporary folder that links examples/, docs/ and bench/, with durations shortened: `transient`
to at most 10 ms and `duration` to what the monitors and inputs need (at least 20 ms). The rules
are in docs/contributing/documentation.md.

Needs the package installed (`maturin develop`) and the CLI in NEUROXIDE_BIN, as scripts/test.sh
provides.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

import neuroxide

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("NEUROXIDE_BIN", str(ROOT / "target" / "debug" / "neuroxide"))
DOCS = ROOT / "docs"
PAGES = sorted((DOCS / "tutorials").glob("*.md")) + sorted((DOCS / "migration").glob("*.md"))
SNIPPET = re.compile(r'^\s*--8<--\s+"([^"]+)"\s*$')
FENCE = re.compile(r"^```(\w*)\s*$")

MIN_DURATION_MS = 20.0
MAX_TRANSIENT_MS = 10.0
UNITS_MS = {"ms": 1.0, "s": 1e3, "us": 1e-3, "µs": 1e-3, "min": 6e4}

REAL_LOAD = neuroxide.load
REAL_NETWORK = neuroxide.Network


def blocks(page: Path) -> list[tuple[str, str, Path | None]]:
    """(language, text, included file or None) of every fenced block, snippets expanded."""
    out, lines, lang = [], [], None
    for line in page.read_text().splitlines():
        match = FENCE.match(line.strip())
        if lang is None:
            if match:
                lang, lines = match.group(1) or "text", []
            continue
        if line.strip() == "```":
            included = [SNIPPET.match(x) for x in lines]
            if lines and all(included):
                for m in included:
                    path = ROOT / m.group(1)
                    out.append((lang, path.read_text(), path))
            else:
                out.append((lang, "\n".join(lines), None))
            lang = None
            continue
        lines.append(line)
    return out


def ms(value) -> float:
    """A time of a resolved spec ("200 ms", "1 s", or a number in ms) in ms."""
    if isinstance(value, (int, float)):
        return float(value)
    number, _, unit = str(value).strip().partition(" ")
    return float(number) * UNITS_MS[unit.strip() or "ms"]


def short(spec: dict) -> dict:
    """Overrides that shorten a resolved model, keeping every monitor and input range valid."""
    needed = MIN_DURATION_MS
    for monitor in spec.get("monitors", []):
        start = ms(monitor.get("start", 0))
        span = max(ms(monitor[key]) for key in ("window", "every") if key in monitor) if (
            "window" in monitor or "every" in monitor
        ) else 0.0
        needed = max(needed, start + span, ms(monitor.get("stop", 0)))
    for source in spec.get("inputs", {}).values():
        for key in ("start", "stop"):
            if key in source:
                needed = max(needed, ms(source[key]))
        for kind in ("two_way_step",):
            if kind in source:
                needed = max(needed, ms(source[kind]["off"]))
    duration = min(ms(spec["duration"]), needed + 10.0)
    transient = min(ms(spec.get("transient", 0)), MAX_TRANSIENT_MS)
    return {"duration": f"{duration} ms", "transient": f"{transient} ms"}


def merged(overrides, keywords, extra) -> dict:
    out = dict(overrides or {})
    out.update({key.replace("__", "."): value for key, value in keywords.items()})
    out.update(extra)
    return out


def written_spec(model, overrides: dict) -> dict | None:
    """The model as written (a path, YAML text or a dict) with top-level overrides applied, read
    without building it; None if YAML cannot be read here (then the model is built twice)."""
    if isinstance(model, dict):
        spec = dict(model)
    else:
        try:
            from ruamel.yaml import YAML  # installed with pynwb (scripts/test.sh)
        except ImportError:
            return None
        text = Path(model).read_text() if not isinstance(model, str) or "\n" not in model else model
        spec = dict(YAML(typ="safe").load(text))
    for key in ("duration", "transient"):
        if key in overrides:
            spec[key] = overrides[key]
    return spec


def short_load(path, overrides=None, **keywords):
    given = merged(overrides, keywords, {})
    spec = written_spec(path, given) or REAL_LOAD(path, given).spec
    return REAL_LOAD(path, merged(overrides, keywords, short(spec)))


class ShortNetwork(REAL_NETWORK):
    def __init__(self, spec, overrides=None, *, base_dir=None, **keywords):
        given = merged(overrides, keywords, {})
        written = written_spec(spec, given)
        if written is None:
            super().__init__(spec, given, base_dir=base_dir)
            written = self.spec
        super().__init__(spec, merged(overrides, keywords, short(written)), base_dir=base_dir)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for name in ("examples", "docs", "bench"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(neuroxide, "load", short_load)
    monkeypatch.setattr(neuroxide, "Network", ShortNetwork)
    return tmp_path


def run_command(line: str, cwd: Path) -> None:
    argv = shlex.split(line)
    argv[0] = BIN
    if len(argv) > 2 and argv[1] == "run":
        sets = [argv[i + 1] for i, a in enumerate(argv) if a == "--set"]
        overrides = dict(s.split("=", 1) for s in sets)
        spec = written_spec(cwd / argv[2], overrides) or REAL_LOAD(cwd / argv[2], overrides).spec
        for key, value in short(spec).items():
            argv += ["--set", f"{key}={value.replace(' ', '')}"]
        argv.append("-q")
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"`{line}` failed ({done.returncode}):\n{done.stderr}"


@pytest.mark.parametrize("page", PAGES, ids=[f"{p.parent.name}/{p.stem}" for p in PAGES])
def test_page_runs(page: Path, workdir: Path):
    namespace: dict = {"__name__": "__docs__"}
    ran = 0
    page_blocks = blocks(page)
    # Model files the page runs with `neuroxide run` are not run a second time as yaml blocks.
    run_by_cli = {
        (ROOT / shlex.split(line)[2]).resolve()
        for lang, text, _ in page_blocks
        if lang == "bash"
        for line in text.splitlines()
        if line.strip().startswith("neuroxide run ")
    }
    for lang, text, source in page_blocks:
        where = f"{page.relative_to(ROOT)} ({source.relative_to(ROOT) if source else 'inline'})"
        if lang == "python":
            exec(compile(text, where, "exec"), namespace)
            ran += 1
        elif lang == "yaml" and re.search(r"^dt:", text, re.M) and "populations:" in text:
            if source is not None and source.resolve() in run_by_cli:
                continue
            base = source.parent if source else workdir
            results = neuroxide.Network(text, base_dir=base).run()
            assert results.complete, f"{where}: {results.error}"
            ran += 1
        elif lang == "bash":
            for line in text.splitlines():
                if line.strip().startswith("neuroxide "):
                    run_command(line.split("#")[0].strip(), workdir)
                    ran += 1
    assert ran > 0, f"{page.relative_to(ROOT)} has no code that runs"


def test_every_snippet_is_shown_and_run():
    """A file in docs/snippets that no page includes would be untested and unseen."""
    included = {
        source
        for page in DOCS.rglob("*.md")
        for _, _, source in blocks(page)
        if source is not None
    }
    orphans = [p for p in sorted((DOCS / "snippets").iterdir()) if p not in included]
    assert not orphans, f"snippets no page includes: {orphans}"


def test_durations_are_shortened_but_valid():
    spec = {
        "duration": "1000 ms",
        "transient": "250 ms",
        "monitors": [{"window": "100 ms"}, {"start": "120 ms"}],
        "inputs": {"cue": {"start": "200 ms", "stop": "300 ms"}},
    }
    assert short(spec) == {"duration": "310.0 ms", "transient": "10.0 ms"}
    assert short({"duration": "10 ms"}) == {"duration": "10.0 ms", "transient": "0.0 ms"}
    assert short({"duration": "1 s"}) == {"duration": "30.0 ms", "transient": "0.0 ms"}


def test_docstring_examples(monkeypatch):
    """The examples in the docstrings of the package run and print what they show."""
    import doctest

    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testmod(
        neuroxide,
        extraglobs={"neuroxide": neuroxide},
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        report=True,
    )
    assert tried > 10, "the docstrings lost their examples"
    assert failures == 0
