"""RectiPy's QIF network (documentation/qif_example.py, without spike-frequency adaptation,
which neuroxide's QIF does not have yet): 1000 all-to-all coupled QIF neurons with
Lorentzian-distributed excitabilities η_i = η̄ + Δ tan(π/2 (2i − N − 1)/(N + 1)), coupling
k = 15, a step input on [3, 6) time units; the population's firing rate jumps with the step, as
the Montbrió–Pazó–Roxin mean field predicts.

    NEUROXIDE_QUICK=1 python examples/python/rectipy_qif.py
"""
import os

import numpy as np

from neuroxide.compat.rectipy import Network

quick = os.environ.get("NEUROXIDE_QUICK") == "1"
N, dt, T = (200, 1e-3, 8.0) if quick else (1000, 1e-4, 10.0)
steps = int(T / dt)
i = np.arange(1, N + 1)
eta = -5.0 + 1.0 * np.tan(0.5 * np.pi * (2 * i - N - 1) / (N + 1))
J = np.ones((N, N)) / N
inputs = np.zeros((steps, N))
inputs[int(3 / dt):int(6 / dt)] = 3.0

net = Network(dt=dt)
net.add_diffeq_node("qif", "neuron_model_templates.spiking_neurons.qif.qif", weights=J,
                    source_var="s", target_var="s_in", input_var="I_ext", output_var="s",
                    spike_var="spike", reset_var="v", op="qif_op",
                    node_vars={"all/qif_op/eta": eta, "all/qif_op/k": 15.0, "all/qif_op/tau": 1.0,
                               "all/qif_op/tau_s": 1.0},
                    spike_threshold=1e3, spike_reset=-1e3)
obs = net.run(inputs, sampling_steps=int(0.1 / dt), verbose=False)
rate = obs.to_numpy("out").mean(axis=1)      # mean synaptic activation s over the population
t = obs.times
before, during = rate[(t > 2) & (t < 3)].mean(), rate[(t > 5) & (t < 6)].mean()
print(f"mean s before the step {before:.3f}, during it {during:.3f}")
