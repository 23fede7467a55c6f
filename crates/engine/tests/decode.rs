//! Bump decoding (first Fourier mode), circular smoothing and overlaps against analytic values,
//! and as monitor options of a run.

use neuroxide::decode::{bump, overlap, smooth_circular};
use neuroxide::{BuildOptions, Simulation, simulate};
use neuroxide_model::ModelFile;

fn ring(n: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
    (0..n)
        .map(|i| f(std::f64::consts::TAU * i as f64 / n as f64))
        .collect()
}

#[test]
fn cosine_profiles_decode_to_their_mean_amplitude_and_phase() {
    for (a, b, phi) in [(2.0, 1.5, 90.0f64), (0.3, 0.1, 300.0), (5.0, 4.0, 12.5)] {
        let frame = ring(128, |t| a + b * (t - phi.to_radians()).cos());
        let (m0, m1, phase) = bump(&frame);
        assert!((m0 - a).abs() < 1e-12, "{m0}");
        assert!((m1 - b).abs() < 1e-12, "{m1}");
        assert!((phase - phi).abs() < 1e-9, "{phase}");
    }
    // A uniform frame has no bump.
    let (_, m1, _) = bump(&[3.0; 50]);
    assert!(m1 < 1e-12);
}

#[test]
fn circular_smoothing_is_a_centred_box_car() {
    let frame: Vec<f64> = (0..10).map(|i| i as f64).collect();
    let smoothed = smooth_circular(&frame, 3);
    // Neuron 0 averages neurons 9, 0, 1; neuron 5 averages 4, 5, 6.
    assert!((smoothed[0] - 10.0 / 3.0).abs() < 1e-12);
    assert!((smoothed[5] - 5.0).abs() < 1e-12);
    assert_eq!(smooth_circular(&frame, 1), frame);
    // Smoothing a symmetric bump keeps its phase and shrinks the first mode by the box-car's
    // transfer sin(πw/N)/(w sin(π/N)).
    let n = 90;
    let bumpy = ring(n, |t| 1.0 + (t - 1.0).cos());
    let (_, m1, phase) = bump(&smooth_circular(&bumpy, 5));
    let pi = std::f64::consts::PI;
    let gain = (pi * 5.0 / n as f64).sin() / (5.0 * (pi / n as f64).sin());
    assert!((m1 - gain).abs() < 1e-12, "{m1} vs {gain}");
    assert!((phase - 1.0f64.to_degrees()).abs() < 1e-9);
}

#[test]
fn overlaps_are_dot_products_over_n() {
    let r = [1.0, 2.0, 3.0, 4.0];
    let v = [1.0, -1.0, 0.5, 0.0];
    assert!((overlap(&r, &v) - (1.0 - 2.0 + 1.5) / 4.0).abs() < 1e-15);
}

#[test]
fn monitors_decode_bumps_and_low_rank_overlaps() {
    // A rank-1 network r = relu(κ m (nᵀ r)/N + input): the overlap with n is nᵀr/N, the input of
    // the structure; its m overlap is mᵀr/N. Both are checked against the recorded rates.
    let yaml = "
dt: 1 ms
duration: 50 ms
precision: f64
populations:
  E: {size: 300}
projections:
  EE:
    pre: E
    post: E
    rule: all_to_all
    profile: {low_rank: {rank: 1, kappa: 0.5, base: 0, vectors: {gaussian: {}}}}
    weight: 1.0
inputs:
  cue:
    target: E
    stimulus: {amplitude: 3.0, phase: 200 deg, shape: {cosine: {sigma: 1.0}}}
monitors:
  - {population: E, variable: rate, every: 10 ms, decode: {smooth: 3, overlap: [{projection: EE}]}}
";
    let spec = ModelFile::from_yaml(yaml, None, &[]).unwrap().spec;
    let mut simulation = Simulation::<f64>::build(&spec, &BuildOptions::default()).unwrap();
    // The operator κ m nᵀ, without the 1/N scaling.
    let w_dense = simulation.projection_matrix("EE").unwrap();
    let results = simulation.run().unwrap();
    let rates = results.values("E.rate");
    let overlaps = results.get("E.overlap.EE").expect("overlap");
    assert_eq!(overlaps.shape, vec![1, 5, 2]);
    let ov = overlaps.data.to_f64();
    let phase = results.values("E.phase");
    let m1 = results.values("E.m1");
    let w = results.values("E.m0");
    assert_eq!(phase.len(), 5);
    for f in 0..5 {
        let frame = &rates[f * 300..(f + 1) * 300];
        let (m0, m1_ref, phase_ref) = bump(&smooth_circular(frame, 3));
        assert!((w[f] - m0).abs() < 1e-12 && (m1[f] - m1_ref).abs() < 1e-12);
        assert!((phase[f] - phase_ref).abs() < 1e-9);
        assert!((phase[f] - 200.0).abs() < 20.0, "phase {}", phase[f]);
        // E.overlap.EE holds (mᵀr/N, nᵀr/N), whose product is rᵀ W r / (κ N²) for the operator
        // W = κ m nᵀ (the 1/N scaling is applied apart).
        let rwr: f64 = (0..300)
            .map(|i| {
                frame[i]
                    * (0..300)
                        .map(|j| w_dense[i * 300 + j] * frame[j])
                        .sum::<f64>()
            })
            .sum();
        let product = ov[f * 2] * ov[f * 2 + 1];
        let expected = rwr / (0.5 * 300.0 * 300.0);
        assert!(
            (product - expected).abs() < 1e-9 * expected.abs().max(1e-3),
            "{product} vs {expected}"
        );
        assert!(product.abs() > 1e-3);
    }
}

#[test]
fn decoding_needs_every_neuron_and_low_rank_vectors() {
    let base = "
dt: 1 ms
duration: 10 ms
populations:
  E: {size: 30}
projections:
  EE: {pre: E, post: E, rule: all_to_all, weight: 0.1}
monitors:
  - MONITOR
";
    for (monitor, parts) in [
        (
            "{population: E, variable: rate, neurons: none, decode: {}}",
            vec!["monitors.0.neurons", "every neuron"],
        ),
        (
            "{population: E, variable: rate, decode: {overlap: [{projection: EE}]}}",
            vec!["monitors.0.decode.overlap.0.projection", "low_rank"],
        ),
        (
            "{population: E, variable: rate, decode: {overlap: [{projection: XX}]}}",
            vec!["monitors.0.decode.overlap.0.projection", "XX"],
        ),
        (
            "{population: E, variable: rate, decode: {overlap: [{file: missing.npy}]}}",
            vec!["monitors.0.decode.overlap.0.file", "missing.npy"],
        ),
    ] {
        let yaml = base.replace("MONITOR", monitor);
        let spec = ModelFile::from_yaml(&yaml, None, &[]).unwrap().spec;
        let message = match simulate(&spec, &BuildOptions::default()) {
            Ok(_) => panic!("accepted {monitor}"),
            Err(e) => e.to_string(),
        };
        for part in parts {
            assert!(message.contains(part), "`{part}` missing from: {message}");
        }
    }
}
