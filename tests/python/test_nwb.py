"""NWB export of results (python/neuroxide/nwb.py, Results.to_nwb): spikes in the Units table,
rates and states as TimeSeries, read back with pynwb; the ImportError without pynwb.

Needs the package installed in the running interpreter (`maturin develop` from python/, as
scripts/test.sh does); the read-back tests need pynwb (installed by scripts/test.sh).
"""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import neuroxide

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "examples" / "lif_two_populations.yaml"  # E 80 and I 20 LIF neurons, dt 1 ms
DT = 1e-3
SIZES = {"E": 80, "I": 20}
WINDOW = 0.01  # the rate monitors' window, 10 ms


@pytest.fixture(scope="module")
def sweep():
    """Two lanes with different drives onto E (100 steps)."""
    results = neuroxide.load(
        MODEL, duration="100 ms", overrides={"sweep": {"inputs.step.constant": [25.0, 40.0]}}
    ).run()
    assert results.complete
    return results


def expected_spike_times(results, population, lane):
    """Per neuron, the spike times of `results[<population>.spikes]` in `lane`: recorded step s
    ends at (s + 1) dt after the transient."""
    rows = results[f"{population}.spikes"]
    rows = rows[rows[:, 0] == lane]
    return [np.sort((rows[rows[:, 2] == n, 1] + 1) * DT) for n in range(SIZES[population])]


def read(path):
    pynwb = pytest.importorskip("pynwb")
    io = pynwb.NWBHDF5IO(str(path), "r")
    return io, io.read()


@pytest.mark.parametrize("lane", [0, 1])
def test_units_hold_the_spikes_of_every_neuron(sweep, tmp_path, lane):
    pytest.importorskip("pynwb")
    path = sweep.to_nwb(tmp_path / "run.nwb", lane=lane, identifier="test-run",
                        session_description="two LIF populations")
    assert path == tmp_path / "run.nwb" and path.is_file()
    io, nwbfile = read(path)
    with io:
        assert nwbfile.identifier == "test-run"
        assert nwbfile.session_description == "two LIF populations"
        units = nwbfile.units
        assert len(units) == sum(SIZES.values())
        assert units.resolution == pytest.approx(DT)
        populations = list(units["population"][:])
        indices = np.asarray(units["index"][:])
        assert populations == ["E"] * 80 + ["I"] * 20
        np.testing.assert_array_equal(indices, np.r_[np.arange(80), np.arange(20)])
        total = 0
        for row in range(len(units)):
            population, neuron = populations[row], int(indices[row])
            expected = expected_spike_times(sweep, population, lane)[neuron]
            got = np.asarray(units["spike_times"][row])
            assert len(got) == len(expected), (population, neuron)
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12,
                                       err_msg=f"{population} neuron {neuron}")
            total += len(got)
        rows = np.concatenate([sweep[f"{p}.spikes"] for p in SIZES])
        assert total == np.count_nonzero(rows[:, 0] == lane) > 0
        # The `mean_rate` monitors' summaries, per neuron.
        np.testing.assert_array_equal(
            np.asarray(units["mean_rate"][:]),
            np.concatenate([sweep[f"{p}.mean_rate"][lane] for p in SIZES]),
        )


def test_spike_times_are_on_the_clock_of_t(sweep, tmp_path):
    """The spikes counted in each rate window (t − 10 ms, t] of the exported file give the
    recorded population rate of that frame: spike times and `t` agree."""
    pytest.importorskip("pynwb")
    lane = 1
    io, nwbfile = read(sweep.to_nwb(tmp_path / "clock.nwb", lane=lane))
    with io:
        df = nwbfile.units.to_dataframe()
        for population, size in SIZES.items():
            times = np.concatenate(list(df[df["population"] == population]["spike_times"]))
            t = sweep.t
            counts = [np.count_nonzero((times > end - WINDOW + DT / 2) & (times <= end + DT / 2))
                      for end in t]
            rates = np.asarray(counts) / (size * WINDOW)
            np.testing.assert_allclose(rates, sweep[f"{population}.rate_mean"][lane], rtol=1e-9,
                                       err_msg=population)
            assert times.max() <= t[-1] + 1e-12 and times.min() >= DT - 1e-12


def test_recordings_are_time_series(sweep, tmp_path):
    pytest.importorskip("pynwb")
    lane = 1
    io, nwbfile = read(sweep.to_nwb(tmp_path / "series.nwb", lane=lane))
    with io:
        acquisition = nwbfile.acquisition
        # The model also records E's spike trace; its mean-rate summaries go to Units.
        assert sorted(acquisition) == ["E.rate_mean", "E.trace", "E.v", "I.rate_mean"]
        np.testing.assert_array_equal(acquisition["E.trace"].data[:], sweep["E.trace"][lane])
        for name in ("E.rate_mean", "I.rate_mean"):
            series = acquisition[name]
            assert series.unit == "Hz"
            np.testing.assert_array_equal(series.data[:], sweep[name][lane])
            np.testing.assert_array_equal(series.timestamps[:], sweep.t)
        # E.v is recorded every step (its own time axis E.v_t) for neurons 0, 1, 2.
        v = acquisition["E.v"]
        assert v.unit == "mV" and v.data.shape == (100, 3)
        np.testing.assert_array_equal(v.data[:], sweep["E.v"][lane])
        np.testing.assert_array_equal(v.timestamps[:], sweep["E.v_t"])
        assert "neurons 0 to 2" in v.description
        # The lane's swept value and the model travel in the notes.
        notes = json.loads(nwbfile.notes)
        assert notes["lane"] == lane and notes["values"]["lane.inputs.step.constant"] == 40.0
        assert notes["spec"] == sweep.spec


def test_module_function_and_lane_checks(sweep, tmp_path):
    pytest.importorskip("pynwb")
    from neuroxide import nwb

    path = nwb.write(sweep, tmp_path / "f.nwb", lane=0)
    io, nwbfile = read(path)
    with io:
        assert len(nwbfile.units) == 100
        assert "lane 0 of 2" in nwbfile.session_description
    with pytest.raises(ValueError, match=r"lane: expected an integer in 0\.\.1"):
        sweep.to_nwb(tmp_path / "g.nwb", lane=2)
    assert not (tmp_path / "g.nwb").exists()


def test_without_pynwb_the_error_says_how_to_install_it(sweep, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)  # `import pynwb` raises ImportError
    with pytest.raises(ImportError, match="pip install pynwb"):
        sweep.to_nwb(tmp_path / "missing.nwb")
    assert not (tmp_path / "missing.nwb").exists()
