# Brunel's (2000) four regimes of examples/brunel.yaml, set by the relative inhibition g (the
# weights of I → E and I → I are −g·J, J = 0.1 mV) and the external rate η = ν_ext/ν_θ
# (ν_θ = 10 Hz, so the Poisson rate is 10 η Hz).
import numpy as np
import neuroxide

REGIMES = {                    # (g, η), Brunel (2000) fig. 8
    "AI (asynchronous irregular)": (5.0, 2.0),
    "SR (synchronous regular)": (3.0, 2.0),
    "SI fast": (6.0, 4.0),
    "SI slow": (4.5, 0.9),
}

print(f"{'regime':30s} {'E rate Hz':>10s} {'synchrony':>10s} {'CV of ISI':>10s}")
for name, (g, eta) in REGIMES.items():
    net = neuroxide.load(
        "examples/brunel.yaml",
        duration="500 ms",
        overrides={
            "projections.IE.weight": -0.1 * g,
            "projections.II.weight": -0.1 * g,
            "inputs.ext_E.poisson.rate": f"{10 * eta} Hz",
            "inputs.ext_I.poisson.rate": f"{10 * eta} Hz",
        },
    )
    results = net.run()
    population = results["E.rate_mean"][0]           # Hz, 1 ms windows
    skip = len(population) // 5                      # leave out the onset
    synchrony = population[skip:].std() / max(population[skip:].mean(), 1e-9)
    spikes = results["E.spikes"]                     # (n, 3) rows: lane, step, neuron
    cvs = []
    for neuron in range(0, 200):
        steps = np.sort(spikes[spikes[:, 2] == neuron, 1])
        isi = np.diff(steps)
        if len(isi) > 2:
            cvs.append(isi.std() / isi.mean())
    cv = np.mean(cvs) if cvs else float("nan")
    print(f"{name:30s} {population[skip:].mean():10.1f} {synchrony:10.2f} {cv:10.2f}")
