"""NeuroFlame's batched drive sweep (org/doc/neurotorch.org, "FF sweep, live"): ten values of the
excitatory feed-forward drive J_E0 as ten batch entries of one build, LIVE_FF_UPDATE = 1; the
mean E rate grows linearly with the drive, as balance predicts.

    NEUROXIDE_QUICK=1 python examples/python/neuroflame_drive_sweep.py
"""
import os
from pathlib import Path

import numpy as np

from neuroxide.compat.neuroflame import Network

HERE = Path(__file__).resolve().parent
quick = os.environ.get("NEUROXIDE_QUICK") == "1"
small = dict(N_NEURON=1000, K=100, DURATION=0.5, T_STEADY=0.2) if quick else {}

model = Network(HERE / "conf" / "config_2pop.yml", N_BATCH=10, LIVE_FF_UPDATE=1, **small)
drives = np.linspace(1.0, 3.0, 10)
model.Ja0 = np.stack([[j, 1.0] for j in drives])[:, :, None]   # (N_BATCH, N_POP, 1)
rates = model()                                                 # (10, frames, N_E)
means = rates[:, rates.shape[1] // 2:].mean(axis=(1, 2))
for j, m in zip(drives, means):
    print(f"J_E0 = {j:.2f}: mean E rate {m:.3f}")
slope, intercept = np.polyfit(drives, means, 1)
print(f"linear fit: rate = {slope:.3f} J_E0 + {intercept:.3f}")
