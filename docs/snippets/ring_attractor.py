# The ring attractor of examples/ring.yaml: a cue at 90° (200–500 ms) moves the bump there and
# the bump persists after the cue. Decode its phase from the first Fourier mode of the E rates.
import numpy as np
import neuroxide

results = neuroxide.load("examples/ring.yaml").run()
rates = results["E.rate"]                    # (lanes, frames, neurons)
theta = np.linspace(0, 2 * np.pi, rates.shape[2], endpoint=False)
mode = rates[0] @ np.exp(1j * theta)         # (frames,) first Fourier mode over time
phase = np.degrees(np.angle(mode)) % 360
amplitude = 2 * np.abs(mode) / rates.shape[2]
t = results.t
print(f"after the cue (t = {t[-1]:.2f} s): bump at {phase[-1]:.0f} deg, amplitude {amplitude[-1]:.2f}")

# Three cue positions as three lanes of one build.
sweep = neuroxide.load("examples/ring.yaml",
                       overrides={"sweep": {"inputs.cue.stimulus.phase": [0, 90, 180]}}).run()
last = sweep["E.rate"][:, -1, :] @ np.exp(1j * theta)
print("cue phases:", sweep["lane.inputs.cue.stimulus.phase"],
      "bump phases:", (np.degrees(np.angle(last)) % 360).round())
