# NeuroSimTools' SpikingModel (EIF, forward Euler, filtered spike trains), translated and checked
# against its update written out in NumPy: same coupling matrix (a `.npy` file), f64 — the spike
# trains are identical.
import tempfile
from pathlib import Path

import numpy as np
import neuroxide

NE, NI, dt, steps = 80, 20, 0.1, 3000
N = NE + NI
taum, EL, Vth, Vre, VT, DT, Vlb = 10.0, -72.0, 0.0, -72.0, -55.0, 1.0, -85.0
tausyn = np.r_[np.full(NE, 8.0), np.full(NI, 4.0)]   # per presynaptic neuron, E 8 ms, I 4 ms
rng = np.random.default_rng(1)
Jm = np.array([[35.0, -200.0], [120.0, -300.0]]) * 15 / np.sqrt(N) / 10
blocks = [[Jm[a, b] * (rng.random((n_post, n_pre)) < 0.2)
           for b, n_pre in enumerate((NE, NI))] for a, n_post in enumerate((NE, NI))]
J = np.block(blocks)                         # GetBlockErdosRenyi(Ns, Jm, P): (N_post, N_pre)
x0 = np.r_[np.full(NE, 18.0), np.full(NI, 14.0)]     # constant baseline input (mV)
V0 = rng.uniform(Vre, VT, N)                 # initial_V='random'

folder = Path(tempfile.mkdtemp())
for a, name in enumerate("EI"):
    for b, pre in enumerate("EI"):
        np.save(folder / f"J{name}{pre}.npy", blocks[a][b])
    np.save(folder / f"V0{name}.npy", V0[:NE] if name == "E" else V0[NE:])
cell = {"model": "eif", "synapse": {"kind": "filtered", "tau_exc": "8 ms", "tau_inh": "4 ms"},
        "neuron": {"tau_m": f"{taum} ms", "c_m": f"{taum} pF", "e_l": EL, "v_th": Vth,
                   "v_reset": Vre, "v_t": VT, "delta_t": DT, "v_min": Vlb, "t_ref": 0,
                   "integration": "euler"}}
model = {
    "dt": f"{dt} ms", "duration": f"{steps * dt} ms", "precision": "f64",
    "populations": {name: {**cell, "size": size, "initial": {"v": {"file": f"V0{name}.npy"}}}
                    for name, size in (("E", NE), ("I", NI))},
    "projections": {f"{post}{pre}": {"pre": pre, "post": post, "weight": 1.0,
                                     "rule": {"explicit": {"file": f"J{post}{pre}.npy"}}}
                    for post in "EI" for pre in "EI"},
    "inputs": {"x0_E": {"target": "E", "constant": 18.0}, "x0_I": {"target": "I", "constant": 14.0}},
    "monitors": [{"population": "E", "variable": "spikes"}, {"population": "I", "variable": "spikes"}],
}
net = neuroxide.Network(model, base_dir=folder)
results = net.run()
steps = net.steps                            # (the test suite runs a shorter version)
ours = sorted((int(s), int(n)) for s, n in results["E.spikes"][:, 1:]) + \
       sorted((int(s), int(n) + NE) for s, n in results["I.spikes"][:, 1:])

V, Y, theirs = V0.copy(), np.zeros(N), []    # NeuroSimTools' loop, step by step
for i in range(steps):
    Z = J @ Y + x0
    V = np.maximum(V + dt * (-(V - EL) + DT * np.exp((V - VT) / DT) + Z) / taum, Vlb)
    spiking = V >= Vth
    V[spiking] = Vre
    Y = Y + (dt / tausyn) * (-Y + spiking / dt)
    theirs += [(i, n) for n in np.flatnonzero(spiking)]
ours, theirs = sorted(ours), sorted(theirs)
print(f"{len(theirs)} spikes in NeuroSimTools' loop, {len(ours)} in neuroxide; identical: {ours == theirs}")
assert ours == theirs
