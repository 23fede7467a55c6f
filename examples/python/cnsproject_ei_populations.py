"""cnsproject's E/I populations (phase 3, example/02_connections): 80 excitatory and 20
inhibitory LIF neurons (R = 1, C = 20, threshold −55 mV, u_rest −70 mV, dt = 1 ms), all-to-all
dense connections with J/N weights and exponential traces (τ_s = 10 ms), noisy input currents;
the spike counts and population activity of both populations.

    NEUROXIDE_QUICK=1 python examples/python/cnsproject_ei_populations.py
"""
import os

import numpy as np

from neuroxide.compat.cnsproject import DenseConnection, LIFPopulation, Monitor, Network

quick = os.environ.get("NEUROXIDE_QUICK") == "1"
T = 200 if quick else 1000
rng = np.random.default_rng(1)
net = Network(dt=1.0)
net.add_layer(LIFPopulation((80,), R=1, C=20, threshold=-55, tau_s=10), "E")
net.add_layer(LIFPopulation((20,), R=1, C=20, threshold=-55, tau_s=10, is_inhibitory=True), "I")
E, I = net.layers["E"], net.layers["I"]
net.add_connection(DenseConnection(E, E, J=40, tau_s=10), "E", "E")
net.add_connection(DenseConnection(E, I, J=120, tau_s=10), "E", "I")
net.add_connection(DenseConnection(I, E, J=60, tau_s=10), "I", "E")
net.add_monitor(Monitor(E, ["s", "u"]), "E")
net.add_monitor(Monitor(I, ["s"]), "I")
currents = {"E": 18 + rng.normal(0, 5, (T, 80)), "I": 10 + rng.normal(0, 5, (T, 20))}
net.run(T, inputs=currents)
for name in ("E", "I"):
    spikes = net.monitors[name].get("s")
    rate = spikes.sum() / spikes.shape[1] / (T / 1000)
    print(f"{name}: {int(spikes.sum())} spikes, {rate:.1f} Hz per neuron")
