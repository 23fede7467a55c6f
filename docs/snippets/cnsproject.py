# cnsproject's E/I populations (examples/lif_two_populations.yaml): LIF neurons with forward
# Euler at dt = 1 ms, all-to-all J/N couplings through exponential traces, a step current onto E
# and noisy drives; spike traces and NeuroSimTools-style mean rates are recorded too.
import neuroxide

results = neuroxide.load("examples/lif_two_populations.yaml").run()
print("E mean rate after 100 ms:", results["E.mean_rate_mean"][0].round(1), "Hz")
print("I mean rate after 100 ms:", results["I.mean_rate_mean"][0].round(1), "Hz")
trace = results["E.trace"][0]                # (frames, 3) spike traces of neurons 0, 1, 2
print("largest trace value of neuron 0:", trace[:, 0].max().round(2))
