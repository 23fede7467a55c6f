# RectiPy's QIF example (examples/qif.yaml): 5 coupled quadratic integrate-and-fire neurons
# driven by a 5 Hz sine. Spikes come as (lane, step, neuron) rows.
import numpy as np
import neuroxide

results = neuroxide.load("examples/qif.yaml").run()
spikes = results["Q.spikes"]
counts = np.bincount(spikes[:, 2], minlength=5)
print("spikes per neuron:", counts)

# An uncoupled QIF neuron with constant drive c = η + I > 0 fires with period ≈ π τ/√c.
single = neuroxide.Network({
    "dt": "0.01 ms", "duration": "200 ms",
    "populations": {"Q": {"size": 1, "model": "qif",
                          "neuron": {"tau": "10 ms", "eta": 4.0, "v_peak": 1000.0, "v_r": -1000.0}}},
    "monitors": [{"population": "Q", "variable": "spikes"}],
}).run()
steps = single["Q.spikes"][:, 1]
print(f"period {np.diff(steps).mean() * 0.01:.2f} ms, π τ/√η = {np.pi * 10 / 2:.2f} ms")
