# The balanced E/I rate network of examples/ei_balanced.yaml: run it, compare the population
# rates with the large-K balance solution, then sweep the external rate m0 in three lanes.
import numpy as np
import neuroxide

net = neuroxide.load("examples/ei_balanced.yaml")
print(net)                                  # populations, synapses, operators, lanes, steps
results = net.run()

# Balance (K → ∞): the O(√K) recurrent and external inputs cancel, J m + J0 m0 = 0.
J = np.array([[1.0, -1.5], [1.0, -1.0]])    # [post][pre]: EE, EI / IE, II (weights of the file)
J0, m0 = np.array([2.0, 1.0]), 5.0
balance = np.linalg.solve(J, -J0 * m0)      # m_E = m0, m_I = 2 m0
for population, predicted in zip("EI", balance):
    simulated = results[f"{population}.rate_mean"][0, -10:].mean()   # last 100 ms, lane 0
    print(f"{population}: {simulated:.2f} (balance limit {predicted:.1f}; finite K sits O(1/√K) above)")

# Three external rates in one build: each lane gets its own m0 (connectivity is shared).
sweep = neuroxide.load(
    "examples/ei_balanced.yaml",
    overrides={"sweep": {"inputs.drive_E.balanced.m0": [4.0, 5.0, 6.0],
                         "inputs.drive_I.balanced.m0": [4.0, 5.0, 6.0]}},
).run()
print("m0 per lane:", sweep["lane.inputs.drive_E.balanced.m0"])
print("E rate per lane:", sweep["E.rate_mean"][:, -10:].mean(axis=1).round(2))
assert sweep["E.rate_mean"].shape[0] == 3
