# examples/stp_working_memory.yaml: a cue at a random phase per lane (500-1000 ms) leaves a bump
# that facilitated E→E synapses hold after the cue; without facilitation (τ_F = τ_D = 0: u ≡ U,
# x ≡ 1) the same couplings are too weak and the bump dies.
import numpy as np
import neuroxide

def report(results, label):
    error = (results["E.phase"][:, -1] - results["cue.phase"] + 180) % 360 - 180
    m1 = results["E.m1"][:, -1].mean()
    phase = f"{np.abs(error).max():.1f} deg (largest of {len(error)} lanes)" if m1 > 1 else "none (no bump)"
    print(f"{label}: t = {results.t[-1]:.2f} s, bump amplitude m1 {m1:.2f}, phase error {phase}, "
          f"u {results['E.stp_u_mean'][:, -1].mean():.2f}")

report(neuroxide.load("examples/stp_working_memory.yaml").run(), "facilitation   ")
report(neuroxide.load("examples/stp_working_memory.yaml",
                      projections__EE__stp__tau_fac="0 ms",
                      projections__EE__stp__tau_rec="0 ms").run(), "no facilitation")
