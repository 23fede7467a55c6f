"""The Python package `neuroxide` (python/, crates/py): load, run, results, errors, GIL, Ctrl-C.

Needs the package installed in the running interpreter (`maturin develop` from python/, as
scripts/test.sh does) and the CLI binary in NEUROXIDE_BIN, for comparisons with `neuroxide run`.
"""
import _thread
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import neuroxide

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("NEUROXIDE_BIN", str(ROOT / "target" / "debug" / "neuroxide"))
EXAMPLES = ROOT / "examples"

# Small versions of the examples (as in test_cli_results.py), as key paths → values.
SMALL_EI = {
    "populations.E.size": 800,
    "populations.I.size": 200,
    "duration": "100 ms",
    "transient": "20 ms",
    **{f"projections.{p}.rule.bernoulli.k": 50 for p in ("EE", "EI", "IE", "II")},
    "inputs.drive_E.balanced.k": 50,
    "inputs.drive_I.balanced.k": 50,
}
SMALL = {
    "ei_balanced.yaml": SMALL_EI,
    "ring.yaml": {"duration": "300 ms"},
    "low_rank.yaml": {"duration": "200 ms"},
    "random_rnn.yaml": {"duration": "200 ms"},
}


def cli(*args, check=True):
    proc = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"neuroxide {' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def sets(overrides):
    return [arg for key, value in overrides.items() for arg in ("--set", f"{key}={value}")]


def assert_same_arrays(a, b):
    assert list(a.keys()) == list(b.keys())
    for name in a.keys():
        assert a[name].dtype == b[name].dtype, name
        assert a[name].shape == b[name].shape, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_load_with_overrides_and_run():
    net = neuroxide.load(EXAMPLES / "ring.yaml", {"populations.I.size": 200}, duration="300 ms",
                         populations__E__tau="10 ms", populations__E__size=500)
    spec = net.spec
    assert spec["duration"] == "300 ms" and spec["populations"]["E"]["tau"] == "10 ms"
    assert spec["populations"]["E"]["size"] == 500 and spec["populations"]["I"]["size"] == 200
    assert net.lanes == 1 and net.steps == 600 and net.synapses == 500 * 500 + 2 * 500 * 200 + 200 * 200
    results = net.run()
    assert results.complete and results.error is None
    assert list(results) == ["t", "E.rate", "E.rate_mean", "I.rate_mean"]
    assert "E.rate" in results and "I.rate" not in results and len(results) == 4
    t = results.t
    assert t.dtype == np.float64 and t.shape == (30,)
    np.testing.assert_allclose(t, np.arange(1, 31) * 0.01)
    assert results["E.rate"].shape == (1, 30, 500) and results["E.rate"].dtype == np.float32
    assert results["E.rate_mean"].shape == (1, 30) and results["E.rate_mean"].dtype == np.float64
    assert results["I.rate_mean"].shape == (1, 30)
    np.testing.assert_allclose(results["E.rate"].mean(axis=2), results["E.rate_mean"], rtol=1e-5)
    # Handed over without a copy: NumPy does not own the buffer.
    assert not results["E.rate"].flags.owndata and results["E.rate"].flags.c_contiguous
    assert results.summary["steps"] == 600 and results.summary["complete"] is True
    assert results.spec["version"] == neuroxide.__version__
    with pytest.raises(KeyError, match="E.rate_mean"):
        results["E.rat"]


def test_f64_runs_give_float64_arrays():
    results = neuroxide.load(EXAMPLES / "low_rank.yaml", precision="f64", duration="50 ms").run()
    for name, array in results.items():
        assert array.dtype == np.float64, name


@pytest.mark.parametrize("example", sorted(SMALL))
def test_results_equal_the_command_line_bitwise(tmp_path, example):
    out = tmp_path / "cli"
    cli("run", EXAMPLES / example, "--out", out, "-q", *sets(SMALL[example]))
    results = neuroxide.load(EXAMPLES / example, SMALL[example]).run()
    with np.load(out / "results.npz") as data:
        assert_same_arrays(data, results)
    # save() writes the files `neuroxide run` writes.
    saved = results.save(tmp_path / "py")
    with np.load(out / "results.npz") as a, np.load(saved / "results.npz") as b:
        assert_same_arrays(a, b)
    body = lambda path: path.read_text().split("\n", 1)[1]  # after the "# Resolved by" line
    assert body(saved / "spec.yaml") == body(out / "spec.yaml")
    run = (saved / "run.json").read_text()
    assert '"complete": true' in run and f'"seed": {results.spec["seed"]}' in run


def test_sweeps_are_a_lane_axis():
    net = neuroxide.load(EXAMPLES / "ei_balanced.yaml", SMALL_EI,
                         sweep={"inputs.drive_E.balanced.m0": [2, 4, 6], "inputs.drive_I.balanced.m0": [2, 4, 6]})
    assert net.lanes == 3 and "3 lanes" in repr(net)
    results = net.run()
    assert results["E.rate"].shape == (3, 10, 200)
    np.testing.assert_array_equal(results["lane.inputs.drive_E.balanced.m0"], [2, 4, 6])


def test_network_from_a_dict_or_yaml_text_equals_the_file():
    from_file = neuroxide.load(EXAMPLES / "ring.yaml", duration="200 ms")
    expected = from_file.run()
    # The resolved spec rebuilds the same network.
    assert_same_arrays(neuroxide.Network(from_file.spec).run(), expected)
    text = (EXAMPLES / "ring.yaml").read_text()
    assert_same_arrays(neuroxide.Network(text, duration="200 ms").run(), expected)
    spec = {
        "dt": "0.1 ms", "duration": "10 ms",
        "populations": {"E": {"size": 4, "tau": "10 ms", "initial": {"rate": {"constant": 1.0}}}},
        "monitors": [{"population": "E", "variable": "rate"}],
    }
    results = neuroxide.Network(spec).run()
    # Exponential decay from 1 with τ = 10 ms (as in the engine's doc test).
    assert abs(results["E.rate_mean"][0, -1] - np.exp(-1.0)) < 1e-6
    with pytest.raises(TypeError, match="neuroxide.load"):
        neuroxide.Network("examples/ring.yaml")


def test_reset_reruns_identically_and_threads_do_not_change_results():
    net = neuroxide.load(EXAMPLES / "ei_balanced.yaml", SMALL_EI)
    first = net.run()
    second = net.run()  # continues from where the first run ended
    assert not np.array_equal(first["E.rate"][:, 0], second["E.rate"][:, 0])
    with pytest.raises(ValueError, match="reset"):
        net.run(threads=3 - net.threads)
    net.reset()
    assert_same_arrays(net.run(threads=1), first)
    net.reset()
    assert_same_arrays(net.run(threads=2), first)


def test_repr_names_populations_sizes_and_lanes():
    net = neuroxide.load(EXAMPLES / "ring.yaml", duration="100 ms")
    text = repr(net)
    assert "'ring'" in text and "E (1,000)" in text and "I (250)" in text and "1 lane" in text
    results = net.run()
    text = repr(results)
    assert "complete" in text and "E.rate" in text and "(1, 10, 1000) float32" in text
    assert len(net.operators) == 4 and net.memory["operators"] > 0


def test_the_gil_is_released_during_a_run():
    net = neuroxide.load(EXAMPLES / "ring.yaml", duration="8 s")
    counter = [0]
    running = threading.Event()
    stop = threading.Event()

    def count():
        running.set()
        while not stop.is_set():
            counter[0] += 1

    # The counting rate with the GIL free.
    thread = threading.Thread(target=count)
    thread.start()
    running.wait()
    time.sleep(0.3)
    start = counter[0]
    time.sleep(0.5)
    baseline = (counter[0] - start) / 0.5
    # The same, while a run of about a second holds the main thread.
    began, counted = time.perf_counter(), counter[0]
    net.run(threads=1)
    elapsed, progressed = time.perf_counter() - began, counter[0] - counted
    stop.set()
    thread.join()
    assert elapsed > 0.3, f"run too short to measure ({elapsed:.2f} s)"
    # Holding the GIL would leave the counter still (two cores: one runs the engine).
    assert progressed > 0.2 * baseline * elapsed, (progressed, baseline, elapsed)


def test_ctrl_c_interrupts_a_run():
    net = neuroxide.load(EXAMPLES / "ring.yaml", duration="1000 s")
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    began = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        net.run()
    timer.join()
    assert time.perf_counter() - began < 5
    net.reset()  # the network is usable again
    assert net.steps == 2_000_000


def test_progress_callbacks():
    calls = []
    net = neuroxide.load(EXAMPLES / "ring.yaml", duration="4 s")
    net.run(progress=lambda done, total: calls.append((done, total)))
    total = net.steps
    assert calls and calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

    def failing(done, total):
        raise RuntimeError("stop here")

    net.reset()
    with pytest.raises(RuntimeError, match="stop here"):
        net.run(progress=failing)


def test_progress_true_without_tqdm_prints_a_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    neuroxide.load(EXAMPLES / "ring.yaml", duration="200 ms").run(progress=True)
    assert "ring: 400/400 steps (100 %)" in capsys.readouterr().err


def test_bad_models_raise_value_error_with_the_command_lines_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES / "ring.yaml").read_text().replace("tau: 20 ms", "tau: -20 ms", 1))
    with pytest.raises(ValueError) as caught:
        neuroxide.load(bad)
    message = str(caught.value)
    assert "bad.yaml:" in message and "`populations.E.tau`" in message and "-20 ms" in message
    assert isinstance(caught.value, neuroxide.ModelError)
    assert caught.value.errors[0]["path"] == "populations.E.tau" and caught.value.errors[0]["line"] > 1
    proc = cli("validate", bad, check=False)
    assert proc.returncode == 2
    assert message == "\n".join(re.sub("^error: ", "", line) for line in proc.stderr.splitlines())

    with pytest.raises(ValueError, match=r"`populations\.E\.tua`"):
        neuroxide.load(EXAMPLES / "ring.yaml", populations__E__tua="10 ms")
    with pytest.raises(ValueError, match=r"`populations\.I\.tau`.*expected a positive time constant"):
        neuroxide.load(EXAMPLES / "ring.yaml", {"populations.I.tau": "-1 ms"})

    spec = {"dt": "0.1 ms", "duration": "10 ms", "populations": {"E": {"size": 4, "tua": "10 ms"}}}
    with pytest.raises(ValueError, match=r"`populations\.E\.tua`: unknown field `tua`") as caught:
        neuroxide.Network(spec)
    assert "line" not in str(caught.value)  # a dict has no lines to point at
    with pytest.raises(ValueError, match=r"line 3.*`populations\.E\.tau`"):
        neuroxide.Network("dt: 0.1 ms\npopulations:\n  E: {size: 4, tau: fast}\n")


def test_missing_files_raise_file_not_found_error(tmp_path):
    missing = tmp_path / "missing.yaml"
    with pytest.raises(FileNotFoundError, match="missing.yaml.*cannot read the model file"):
        neuroxide.load(missing)
    model = tmp_path / "model.yaml"
    model.write_text("dt: 0.1 ms\nduration: 10 ms\npopulations:\n  E: {size: 4, initial: {rate: {file: r0.npy}}}\n")
    # A data file the model names is part of the model: a ValueError naming its key.
    with pytest.raises(ValueError, match=r"model.yaml:4:\d+: `populations\.E\.initial\.rate\.file`: got `r0.npy`"):
        neuroxide.load(model)


def test_divergence_raises_with_the_partial_results():
    net = neuroxide.load(EXAMPLES / "random_rnn.yaml", populations__R__transfer="id",
                         projections__RR__weight=40, duration="5 s")
    with pytest.raises(neuroxide.DivergenceError, match=r"diverged at step \d+.*`R\.") as caught:
        net.run()
    assert isinstance(caught.value, RuntimeError)
    results = caught.value.results
    assert not results.complete and "diverged" in results.error
    assert results.t.size > 0 and results["R.rate"].shape[1] == results.t.size
    assert np.all(np.isfinite(results["R.rate_mean"]))
    assert "incomplete" in repr(results)


def test_xarray_and_pandas_views():
    import pandas as pd
    import xarray as xr

    results = neuroxide.load(EXAMPLES / "ei_balanced.yaml", SMALL_EI,
                             sweep={"inputs.drive_E.balanced.m0": [2, 4]}).run()
    data = results.to_xarray()
    assert isinstance(data, xr.Dataset)
    assert data["E.rate"].dims == ("lane", "t", "E.rate.neuron")
    np.testing.assert_array_equal(data["E.rate.neuron"], np.arange(200))
    np.testing.assert_array_equal(data["lane.inputs.drive_E.balanced.m0"], [2, 4])
    np.testing.assert_array_equal(data["E.rate"].values, results["E.rate"])
    frame = results.to_dataframe()
    assert isinstance(frame, pd.DataFrame) and frame.index.names == ["lane", "t"]
    assert {"E.rate_mean", "I.rate_mean", "lane.inputs.drive_E.balanced.m0"} <= set(frame.columns)
    assert len(frame) == 2 * results.t.size
    long = results.to_dataframe("E.rate")
    assert long.index.names == ["lane", "t", "neuron"] and len(long) == results["E.rate"].size


def test_missing_xarray_or_pandas_raise_import_error(monkeypatch):
    results = neuroxide.load(EXAMPLES / "ring.yaml", duration="50 ms").run()
    monkeypatch.setitem(sys.modules, "xarray", None)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install xarray"):
        results.to_xarray()
    with pytest.raises(ImportError, match="pip install pandas"):
        results.to_dataframe()


def test_readme_python_quick_start_runs_as_written(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "no ```python block in the README's Python section"
    (tmp_path / "examples").symlink_to(EXAMPLES)
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    assert (tmp_path / "out" / "ring" / "results.npz").exists()
