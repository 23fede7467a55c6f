//! NeuroFlame's dynamics options: rate noise, and the adaptive threshold as a self-coupling with
//! its own time constant (checked against NeuroFlame's update written out here).

use neuroxide::{BuildOptions, Results, simulate};
use neuroxide_model::ModelFile;

fn run(yaml: &str, overrides: &[&str]) -> Results {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let spec = ModelFile::from_yaml(yaml, None, &overrides)
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
    simulate(&spec, &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

const NOISY: &str = "
dt: 1 ms
duration: 200 ms
precision: f64
lanes: 4
populations:
  P: {size: 2000, transfer: id, tau: 20 ms, rate_noise: {std: 0.1}}
monitors:
  - {population: P, variable: rate, every: 200 ms}
";

#[test]
fn rate_noise_has_the_stationary_variance_of_its_recurrence() {
    // r ← a (r + σ ξ): stationary variance a² σ² / (1 − a²), a = e^{−dt/τ}.
    let results = run(NOISY, &[]);
    let r = results.values("P.rate");
    let a = (-1.0f64 / 20.0).exp();
    let expected = a * a * 0.01 / (1.0 - a * a);
    for lane in r.chunks(2000) {
        let mean = lane.iter().sum::<f64>() / 2000.0;
        let var = lane.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 1999.0;
        assert!((var / expected - 1.0).abs() < 0.15, "{var} vs {expected}");
        assert!(mean.abs() < 0.05);
    }
    // Lanes draw their own noise, and a shard's lanes draw what the same lanes of the whole run
    // draw.
    assert_ne!(r[..2000], r[2000..4000]);
    let shard = run(NOISY, &["lanes=2", "lane_offset=2"]).values("P.rate");
    assert_eq!(shard[..], r[4000..]);
    // Spiking populations refuse it.
    let bad = NOISY.replace("transfer: id, tau: 20 ms,", "model: lif_psc_exp,");
    let message = match ModelFile::from_yaml(&bad, None, &[]) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    };
    assert!(message.contains("populations.P.rate_noise"), "{message}");
}

#[test]
fn adaptive_threshold_is_a_slow_negative_self_coupling() {
    // NeuroFlame's IF_ADAPT (HEAD, exponential Euler, THRESH = 0): after the rate update
    // θ ← θ e^{−dt/τ_a} + A r (1 − e^{−dt/τ_a}), and φ = relu(μ − θ). In neuroxide: a
    // one-to-one projection of E onto itself with weight −A and tau_syn τ_a.
    let yaml = "
dt: 1 ms
duration: 1 s
precision: f64
populations:
  E: {size: 3, tau: 20 ms}
projections:
  adapt: {pre: E, post: E, rule: one_to_one, weight: -0.25, scaling: raw, tau_syn: 150 ms}
inputs:
  drive: {target: E, stimulus: {amplitude: 2.0, shape: {cos: {}}}}
monitors:
  - {population: E, variable: rate}
";
    let yaml = yaml.replace("shape: {cos: {}}", "shape: cos");
    let results = run(&yaml, &[]);
    let r = results.values("E.rate");
    let (ea, e) = ((-1.0f64 / 150.0).exp(), (-1.0f64 / 20.0).exp());
    let drive: Vec<f64> = (0..3)
        .map(|i| 2.0 * (std::f64::consts::TAU * i as f64 / 3.0).cos())
        .collect();
    let (mut rate, mut theta) = (vec![0.0; 3], vec![0.0; 3]);
    let mut max_err: f64 = 0.0;
    for k in 0..1000 {
        for i in 0..3 {
            rate[i] = rate[i] * e + (drive[i] - theta[i]).max(0.0) * (1.0 - e);
            theta[i] = theta[i] * ea + 0.25 * rate[i] * (1.0 - ea);
            max_err = max_err.max((r[k * 3 + i] - rate[i]).abs());
        }
    }
    assert!(max_err < 1e-12, "{max_err}");
    // Adaptation lowers the rate of the driven neuron from its peak.
    let peak = (0..1000).map(|k| r[k * 3]).fold(0.0, f64::max);
    assert!(r[999 * 3] < 0.95 * peak);
}
