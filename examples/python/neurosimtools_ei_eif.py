"""NeuroSimTools' E/I network of EIF neurons (EISpikingModelExample.ipynb) with its own API:
N = 5000 (4000 E, 1000 I), p = 0.1, weights 15·[[35, −200], [120, −300]]/√N, τ_syn 8/4 ms,
external Poisson input (1000 neurons at 10 Hz, filtered with τ_x = 10 ms), T = 1250 ms at
dt = 0.1 ms, 250 ms burn-in. NeuroSimTools reports E 5.7 Hz, I 13.9 Hz.

    NEUROXIDE_QUICK=1 python examples/python/neurosimtools_ei_eif.py   # N = 1000, T = 300 ms
"""
import os
import time

import numpy as np

from neuroxide.compat.neurosimtools import SpikingModel

quick = os.environ.get("NEUROXIDE_QUICK") == "1"
rng = np.random.default_rng(0)
N, T, Tburn, dt = (1000, 300.0, 100.0, 0.1) if quick else (5000, 1250.0, 250.0, 0.1)
Ne, Nx, p = int(0.8 * N), N // 5, 0.1
J = 15 * np.array([[35.0, -200.0], [120.0, -300.0]]) / np.sqrt(N)
Jx = 15 * np.array([200.0, 150.0]) / np.sqrt(N)
sizes = [Ne, N - Ne]
W = np.block([[J[a, b] * (rng.random((sizes[a], sizes[b])) < p) for b in range(2)]
              for a in range(2)])
Wx = np.concatenate([Jx[a] * (rng.random((sizes[a], Nx)) < p) for a in range(2)])
tausyn = np.r_[np.full(Ne, 8.0), np.full(N - Ne, 4.0)]

# External Poisson spikes (density 1/dt per spike), filtered with τ_x = 10 ms.
steps = int(T / dt)
spikes = (rng.random((1, steps, Nx)) < 0.01 * dt) / dt
x = np.zeros_like(spikes)
filtered = np.zeros((1, Nx))
for i in range(steps):
    filtered += dt / 10.0 * (-filtered + spikes[:, i])
    x[:, i] = filtered

model = SpikingModel(W, tausyn, readin=Wx, NeuronModel="EIF",
                     NeuronParams=dict(taum=15, EL=-72, Vth=10, Vre=-75, VT=-55, DT=1, Vlb=-85))
began = time.perf_counter()
result = model(np.zeros((1, N)), dt, x=x, initial_V="random", Tburn=Tburn, dtRecord=1.0,
               VIRecord=[0, 1])
print(f"simulated {T:.0f} ms of {N} neurons in {time.perf_counter() - began:.1f} s")
r = result["r"][0] * 1000  # spikes/ms → Hz
print(f"mean rates: E {r[:Ne].mean():.2f} Hz, I {r[Ne:].mean():.2f} Hz "
      "(NeuroSimTools at N = 5000: E 5.73, I 13.90)")
