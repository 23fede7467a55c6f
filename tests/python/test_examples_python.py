"""The Python examples (examples/python) run as they are, in their quick versions
(NEUROXIDE_QUICK=1), and show their headline results."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "python").glob("*.py"))


def run(path):
    env = {**os.environ, "NEUROXIDE_QUICK": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def numbers(pattern, text):
    found = re.findall(pattern, text)
    return [float(x) for group in found for x in (group if isinstance(group, tuple) else (group,))]


def test_every_example_is_tested():
    assert {p.stem for p in EXAMPLES} == {
        "neuroflame_single_trial", "neuroflame_drive_sweep", "neurosimtools_ei_eif",
        "rectipy_qif", "cnsproject_ei_populations", "neurosimtools_rate_training"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_and_shows_its_result(path):
    out = run(path)
    if path.stem == "neuroflame_single_trial":
        assert "rates (1, 6, 500)" in out and "not honoured: DEVICE" in out
    elif path.stem == "neuroflame_drive_sweep":
        rates = numbers(r"mean E rate (-?[\d.]+)", out)
        assert len(rates) == 10 and all(b > a for a, b in zip(rates[1:], rates[2:]))
    elif path.stem == "neurosimtools_ei_eif":
        e, i = numbers(r"E ([\d.]+) Hz, I ([\d.]+) Hz", out)
        assert 2 < e < 10 and 6 < i < 25 and i > e  # asynchronous, I faster than E
    elif path.stem == "rectipy_qif":
        before, during = numbers(r"before the step ([\d.]+), during it ([\d.]+)", out)
        assert during > 2 * before
    elif path.stem == "neurosimtools_rate_training":
        first, last = numbers(r"loss ([\d.]+) -> ([\d.]+)", out)
        (accuracy,) = numbers(r"held-out accuracy ([\d.]+)", out)
        assert last < 0.5 * first and accuracy > 0.75  # chance is 0.5
    elif path.stem == "cnsproject_ei_populations":
        assert len(numbers(r"(\d+) spikes", out)) == 2
