# The rank-one network of examples/low_rank.yaml: with overlap σ_mn = 2 > 1 the silent state is
# unstable and the activity settles on one of two mirror states along m, r_i = tanh(±m_i κ).
import numpy as np
import neuroxide

results = neuroxide.load("examples/low_rank.yaml").run()
rates = results["R.rate"][0]                 # (frames, neurons)
spread = rates.std(axis=1)                   # grows from the initial state's small values
print(f"std of the rates: start {spread[0]:.3f}, end {spread[-1]:.3f}")

# Four lanes: the same network (vectors and couplings), four random initial states. Each lane
# ends in one of the two states, so the final rate vectors are equal or opposite.
final = neuroxide.load("examples/low_rank.yaml", lanes=4).run()["R.rate"][:, -1, :]
correlation = np.corrcoef(final)
print("correlations of the final states between lanes:")
print(correlation.round(2))
