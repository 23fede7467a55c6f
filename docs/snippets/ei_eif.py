# NeuroSimTools' balanced E/I network of EIF neurons (examples/ei_eif.yaml; Rosenbaum's
# EISpikingModelExample): NeuroSimTools reports E 5.7 Hz and I 13.9 Hz after a 250 ms burn-in.
import numpy as np
import neuroxide

net = neuroxide.load("examples/ei_eif.yaml")
results = net.run()
duration_s = net.spec["duration"]            # the resolved model: "1000 ms"
seconds = float(duration_s.split()[0]) / 1000
for population, size in (("E", 4000), ("I", 1000)):
    spikes = results[f"{population}.spikes"]
    print(f"{population}: {len(spikes) / (size * seconds):.1f} Hz")

v = results["E.v"][0]                        # (frames, 2): two neurons every 0.1 ms
print("voltage range of neuron 0:", v[:, 0].min().round(1), "to", v[:, 0].max().round(1), "mV")
