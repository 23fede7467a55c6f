"""The command line's result files, read the way users read them: with NumPy."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("NEUROXIDE_BIN", str(ROOT / "target" / "debug" / "neuroxide"))
EXAMPLES = ROOT / "examples"


def neuroxide(*args, check=True):
    proc = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"neuroxide {' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


# Small versions of the examples, so each test takes about a second.
SMALL = {
    "ei_balanced.yaml": ["populations.E.size=800", "populations.I.size=200", "duration=100 ms", "transient=20 ms",
                         "projections.EE.rule.bernoulli.k=50", "projections.EI.rule.bernoulli.k=50",
                         "projections.IE.rule.bernoulli.k=50", "projections.II.rule.bernoulli.k=50",
                         "inputs.drive_E.balanced.k=50", "inputs.drive_I.balanced.k=50"],
    "ring.yaml": ["duration=300 ms"],
    "low_rank.yaml": ["duration=200 ms"],
    "random_rnn.yaml": ["duration=200 ms"],
}


def sets(example):
    return [arg for value in SMALL[example] for arg in ("--set", value)]


@pytest.mark.parametrize("example", sorted(SMALL))
def test_examples_run_and_numpy_reads_the_results(tmp_path, example):
    out = tmp_path / "out"
    neuroxide("run", EXAMPLES / example, "--out", out, *sets(example))
    with np.load(out / "results.npz") as data:
        t = data["t"]
        assert t.ndim == 1 and t.size > 0 and np.all(np.diff(t) > 0)
        rate_arrays = [name for name in data.files if name.endswith(".rate")]
        assert rate_arrays, data.files
        for name in rate_arrays:
            rates = data[name]
            assert rates.ndim == 3 and rates.shape[1] == t.size, (name, rates.shape)
            assert rates.dtype == np.float32
            assert np.all(np.isfinite(rates))
            means = data[name + "_mean"]
            assert means.shape == rates.shape[:2]
    spec = (out / "spec.yaml").read_text()
    assert "seed:" in spec and "version:" in spec
    assert '"complete": true' in (out / "run.json").read_text()


def test_resolved_spec_reruns_to_the_same_numbers(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    neuroxide("run", EXAMPLES / "ei_balanced.yaml", "--out", first, *sets("ei_balanced.yaml"))
    neuroxide("run", first / "spec.yaml", "--out", second, "--threads", "1")
    with np.load(first / "results.npz") as a, np.load(second / "results.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_sweep_lanes_are_a_lane_axis(tmp_path):
    out = tmp_path / "sweep"
    neuroxide("run", EXAMPLES / "ei_balanced.yaml", "--out", out, *sets("ei_balanced.yaml"),
              "--set", "sweep={inputs.drive_E.balanced.m0: [2, 4, 6], inputs.drive_I.balanced.m0: [2, 4, 6]}")
    with np.load(out / "results.npz") as data:
        assert data["E.rate"].shape[0] == 3
        np.testing.assert_array_equal(data["lane.inputs.drive_E.balanced.m0"], [2, 4, 6])
        late = data["E.rate_mean"][:, data["t"] > 0.05].mean(axis=1)
        # Balanced rates grow linearly with the drive.
        assert late[0] < late[1] < late[2]
        ratios = late / np.array([2, 4, 6])
        assert np.ptp(ratios) < 0.1 * ratios.mean()


def test_bad_model_exits_2_and_names_file_line_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES / "ring.yaml").read_text().replace("tau: 20 ms", "tau: -20 ms", 1))
    proc = neuroxide("run", bad, "--out", tmp_path / "x", check=False)
    assert proc.returncode == 2
    assert "bad.yaml:" in proc.stderr and "populations.E.tau" in proc.stderr and "-20 ms" in proc.stderr
    assert "panicked" not in proc.stderr
    proc = neuroxide("validate", tmp_path / "missing.yaml", check=False)
    assert proc.returncode == 2 and "missing.yaml" in proc.stderr and "cannot read" in proc.stderr


def test_divergence_keeps_the_recorded_results(tmp_path):
    out = tmp_path / "blowup"
    proc = neuroxide("run", EXAMPLES / "random_rnn.yaml", "--out", out, "--set", "populations.R.transfer=id",
                     "--set", "projections.RR.weight=40", "--set", "duration=5 s", check=False)
    assert proc.returncode == 1, proc.stderr
    assert "diverged at step" in proc.stderr and "`R." in proc.stderr
    with np.load(out / "results.npz") as data:
        assert data["t"].size > 0 and np.all(np.isfinite(data["R.rate_mean"]))
    assert '"complete": false' in (out / "run.json").read_text()
