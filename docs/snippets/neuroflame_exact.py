# NeuroFlame's rate-network step (HEAD: exponential Euler for currents and rates, relu with
# threshold, balanced feed-forward drive, random initial currents with r_0 = Φ(ff + I_0)) written
# out in NumPy, against the translated model on the same coupling matrix: the rates agree to
# rounding (f64). The matrix and the initial currents go through .npy files, since the two tools
# draw different random numbers.
import tempfile
from pathlib import Path

import numpy as np
import neuroxide

N_NEURON, frac, K = 400, (0.5, 0.5), 40
DT, TAU, TAU_SYN = 0.25, (40.0, 20.0), (4.0, 2.0)        # ms (NeuroFlame: seconds)
GAIN, Jab, Ja0, M0, THRESH = 0.5, np.array([[1.0, -1.5], [1.0, -1.0]]), (2.0, 1.0), 0.15, 1.0
steps = 400
sizes = [int(N_NEURON * f) for f in frac]
rng = np.random.default_rng(2)

# NeuroFlame's sparse pattern: C_ab = Bernoulli(K_b/N_b), J_eff = GAIN Jab / √K_b.
C = [[(rng.random((sizes[a], sizes[b])) < K / sizes[b]).astype(float) for b in range(2)]
     for a in range(2)]
W = np.block([[GAIN * Jab[a, b] / np.sqrt(K) * C[a][b] for b in range(2)] for a in range(2)])
ff = np.concatenate([np.full(n, Ja0[a] * M0 * np.sqrt(K)) for a, n in enumerate(sizes)])
I0 = rng.normal(0.0, 1.0, N_NEURON)                       # rec_input ~ N(0, 1)

folder = Path(tempfile.mkdtemp())
names = "EI"
for a in range(2):
    np.save(folder / f"I0_{names[a]}.npy", I0[sum(sizes[:a]):sum(sizes[:a + 1])])
    for b in range(2):
        np.save(folder / f"C_{names[a]}{names[b]}.npy", C[a][b])
model = {
    "dt": f"{DT} ms", "duration": f"{steps * DT} ms", "precision": "f64",
    "method": "exponential_euler",
    "populations": {names[a]: {
        "size": sizes[a], "transfer": "relu", "threshold": THRESH,
        "tau": f"{TAU[a]} ms", "tau_syn": f"{TAU_SYN[a]} ms",
        "initial": {"current": {"file": f"I0_{names[a]}.npy"}, "rate": "transfer"},
    } for a in range(2)},
    "projections": {f"{names[a]}{names[b]}": {
        "pre": names[b], "post": names[a], "rule": {"explicit": {"file": f"C_{names[a]}{names[b]}.npy"}},
        "weight": GAIN * Jab[a, b] / np.sqrt(K), "scaling": "raw",
    } for a in range(2) for b in range(2)},
    "inputs": {f"ff_{names[a]}": {"target": names[a],
                                  "balanced": {"k": K, "m0": M0, "j0": Ja0[a]}} for a in range(2)},
    "monitors": [{"population": p, "variable": "rate", "every": f"{DT} ms", "mean": False}
                 for p in names],
}
net = neuroxide.Network(model, base_dir=folder)
results = net.run()
ours = np.concatenate([results["E.rate"][0], results["I.rate"][0]], axis=1)   # (steps, N)

tau = np.concatenate([np.full(n, TAU[a]) for a, n in enumerate(sizes)])
tau_syn = np.concatenate([np.full(n, TAU_SYN[a]) for a, n in enumerate(sizes)])
relu = lambda x: np.maximum(0.0, x - THRESH)
I, r = I0.copy(), relu(ff + I0)                           # r_0 = Φ(ff + rec_input)
reference = []
for step in range(len(ours)):                             # update_dynamics, HEAD
    h = W @ r
    I = I * np.exp(-DT / tau_syn) + h * (1 - np.exp(-DT / tau_syn))
    r = r * np.exp(-DT / tau) + relu(ff + I) * (1 - np.exp(-DT / tau))
    reference.append(r)
difference = np.abs(ours - np.array(reference)).max()
print(f"{len(ours)} steps, largest difference {difference:.1e}")
assert difference < 1e-9
