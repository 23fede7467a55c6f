# RectiPy's leaky-integrator network (`leaky_integrator.tanh`: v' = −v/τ + k Σ_j J_ij tanh(v_j)
# + I_ext, forward Euler), translated to neuroxide and checked against those equations written
# out in NumPy: with the same coupling matrix (an `explicit` rule from a .npy file) and f64, the
# two agree to rounding. RectiPy's time unit is taken as 1 ms.
import tempfile
from pathlib import Path

import numpy as np
import neuroxide

N, tau, k, I_ext, dt, steps = 5, 10.0, 1.0, 0.5, 1e-3, 10_000
rng = np.random.default_rng(0)
J = rng.normal(0.0, 1.5, size=(N, N))        # RectiPy's example: J ~ N(0, 1.5²)

folder = Path(tempfile.mkdtemp())
np.save(folder / "J.npy", J)                 # (N_post, N_pre)
model = {
    "dt": f"{dt} ms", "duration": f"{steps * dt} ms", "precision": "f64", "method": "euler",
    "populations": {"V": {
        "size": N, "transfer": "tanh", "tau_syn": f"{tau} ms",   # no `tau`: r = tanh(μ) at once
        # μ = I + τ I_ext; starting I at −τ I_ext starts μ at RectiPy's v(0) = 0.
        "initial": {"current": {"constant": -tau * I_ext}},
    }},
    "projections": {"VV": {"pre": "V", "post": "V", "rule": {"explicit": {"file": "J.npy"}},
                           "weight": tau * k, "scaling": "raw"}},
    "inputs": {"ext": {"target": "V", "constant": tau * I_ext}},
    "monitors": [{"population": "V", "variable": "input", "mean": False}],   # μ = RectiPy's v
}
ours = neuroxide.Network(model, base_dir=folder).run()["V.input"][0]   # (steps, N)

v = np.zeros(N)                              # RectiPy: v(0) = 0, y ← y + dt F(y)
reference = np.empty((steps, N))
for step in range(steps):
    v = v + dt * (-v / tau + k * J @ np.tanh(v) + I_ext)
    reference[step] = v
n = min(len(ours), steps)
print("largest difference:", np.abs(ours[:n] - reference[:n]).max())
assert np.allclose(ours[:n], reference[:n], rtol=1e-9, atol=1e-9)
