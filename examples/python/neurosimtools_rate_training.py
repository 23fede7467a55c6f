"""NeuroSimTools' RateModel trained on a perceptual decision (its RateModel training example, with
neuroxide's BPTT in place of the PyTorch loop): an R-type tanh network of N = 200 units with
η = 0.1 sees a noisy stimulus of sign ±1 and strength in {0.05, 0.1, 0.2, 0.4} for the first half
of the trial and must report its sign during the last quarter (MSE on that window, Adam).

    NEUROXIDE_QUICK=1 python examples/python/neurosimtools_rate_training.py   # N = 50, 60 steps
"""
import os
import time

import numpy as np

from neuroxide.compat.neurosimtools import RateModel

quick = os.environ.get("NEUROXIDE_QUICK") == "1"
N, steps, batch, epochs = (50, 60, 32, 150) if quick else (200, 200, 64, 300)
rng = np.random.default_rng(1)


def trials(n):
    """Inputs (n, steps, 2): stimulus + noise in the first half, a go cue in the last quarter;
    targets (n, steps, 1) = sign of the stimulus during the cue; the loss mask is the cue."""
    mu = rng.choice([0.05, 0.1, 0.2, 0.4], n) * rng.choice([-1.0, 1.0], n)
    x = np.zeros((n, steps, 2))
    x[:, : steps // 2, 0] = mu[:, None] + 0.5 * rng.normal(size=(n, steps // 2))
    cue = slice(3 * steps // 4, steps)
    x[:, cue, 1] = 1.0
    target = np.zeros((n, steps, 1))
    target[:, cue, 0] = np.sign(mu)[:, None]
    mask = np.zeros((n, steps, 1))
    mask[:, cue] = 1.0
    return x, target, mask, np.sign(mu)


model = RateModel(N, readin=2, readout=1, f="tanh", eta=0.1, rho_recurrent=1.5, seed=0)
x, target, mask, _ = trials(batch)
began = time.perf_counter()
losses = model.fit(x, target, mask=mask, lr=3e-3, epochs=epochs)
seconds = time.perf_counter() - began
x_test, _, _, sign = trials(256)
y = model(x_test)
choice = np.sign(y[:, 3 * steps // 4 :, 0].mean(axis=1))
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f} in {epochs} epochs ({seconds:.1f} s)")
print(f"held-out accuracy {np.mean(choice == sign):.3f}")
