# The COBA network of examples/coba.yaml (Vogels & Abbott 2005): self-sustained activity of
# conductance-based LIF neurons. Brian2's seed mean is E 19.1 ± 1.2 Hz; the rate depends on the
# random graph (seed), this file's seed draws a low one.
import neuroxide

results = neuroxide.load("examples/coba.yaml").run()
for population in "EI":
    rate = results[f"{population}.rate_mean"][0]
    print(f"{population}: {rate.mean():.1f} Hz over {len(rate)} ms")

# Other graphs: the seed sets the connectivity and the initial state.
for seed in (1, 2):
    r = neuroxide.load("examples/coba.yaml", seed=seed, duration="500 ms").run()["E.rate_mean"]
    print(f"seed {seed}: E {r.mean():.1f} Hz")
