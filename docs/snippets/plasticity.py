# The four long-term plasticity examples, each run and summarised by the quantity it is about.
import numpy as np
import neuroxide

stdp = neuroxide.load("examples/stdp_poisson.yaml").run()
print(f"STDP: volley synapses {stdp['volley_out.weights'].mean():.0f} pA, "
      f"Poisson synapses {stdp['noise_out.weights'].mean():.0f} pA (all started at 100, bound 300)")

vogels = neuroxide.load("examples/vogels_istdp.yaml").run()
print("iSTDP: drive", vogels["lane.inputs.drive.poisson.rate"], "Hz, first 500 ms",
      vogels["E.mean_rate_mean"].round(1), "Hz, last 500 ms", vogels["E.rate_mean"][:, -1].round(1), "Hz")

decision = neuroxide.load("examples/decision_making.yaml").run()
e1, e2 = decision["E1.mean_rate_mean"], decision["E2.mean_rate_mean"]
print(f"decision: E1 (stronger input) wins {(e1 > e2).sum()} of {len(e1)} trials; "
      f"winner {np.maximum(e1, e2).mean():.1f} Hz, loser {np.minimum(e1, e2).mean():.1f} Hz")

bcm = neuroxide.load("examples/bcm.yaml").run()
print(f"BCM: w_a {bcm['a.weights'][0, 0]:.3f}, w_b {bcm['b.weights'][0, 0]:.3f} "
      f"(started 0.55, 0.45; fixed point 10/9 = 1.111)")
