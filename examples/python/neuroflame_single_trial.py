"""NeuroFlame's single trial (org/doc/neurotorch.org): the balanced two-population network of
config_2pop (N = 10,000, K = 500), one trial of DURATION = 10 s, window-averaged E rates of shape
(N_BATCH, frames, N_E) = (1, 101, 5000).

    python examples/python/neuroflame_single_trial.py          # the full size
    NEUROXIDE_QUICK=1 python examples/python/neuroflame_single_trial.py   # a small, short version
"""
import os
import time
from pathlib import Path

from neuroxide.compat.neuroflame import Network

HERE = Path(__file__).resolve().parent
quick = os.environ.get("NEUROXIDE_QUICK") == "1"
small = dict(N_NEURON=1000, K=100, DURATION=0.5, T_STEADY=0.2) if quick else {}

began = time.perf_counter()
model = Network(HERE / "conf" / "config_2pop.yml", **small)
rates = model()
print(f"rates {rates.shape} in {time.perf_counter() - began:.1f} s (construction included)")
print(f"mean E rate over the last second: {rates[0, -10:].mean():.3f}")
for warning in model.warnings:
    print("not honoured:", warning)
