# The translated config_2pop from Python: NeuroFlame's `model = Network('config_2pop.yml', ...)`
# and `rates = model(RET_STP=0)` become `neuroxide.load(...)` and `.run()`.
import numpy as np
import neuroxide

net = neuroxide.load("docs/snippets/neuroflame_config_2pop.yaml")
results = net.run()
rates = results["E.rate"]            # (N_BATCH, frames, N_E): NeuroFlame's output layout
print("E rates:", rates.shape, "mean", rates[0, -5:].mean().round(3))
print("I mean:", results["I.rate_mean"][0, -5:].mean().round(3))

# Balance (K → ∞): GAIN·Jab m + Ja0 M0 = 0, here m_E = 2 M0 = 0.3 and m_I = 4 M0 = 0.6.
J = 0.5 * np.array([[1.0, -1.5], [1.0, -1.0]])
print("balance limit:", np.linalg.solve(J, -np.array([2.0, 1.0]) * 0.15))

# N_BATCH with per-batch Ja0 (NeuroFlame's J_E0 sweeps): lanes with a swept j0.
sweep = neuroxide.load(
    "docs/snippets/neuroflame_config_2pop.yaml",
    overrides={"sweep": {"inputs.ff_E.balanced.j0": [1.5, 2.0, 2.5]}},
).run()
print("E rate per Ja0[0]:", sweep["E.rate_mean"][:, -5:].mean(axis=1).round(3))
