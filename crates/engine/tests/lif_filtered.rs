//! `lif_psc_exp` with `synapse: {kind: filtered}`: NeuroSimTools' LIF (forward Euler, voltage
//! floor, no refractory period, filtered spike trains), step by step against its update written
//! out; other LIF names still refuse a synapse kind of their own.

use neuroxide::{BuildOptions, simulate};
use neuroxide_model::ModelFile;

mod support;
use support::{build_error, spikes};

#[test]
fn lif_psc_exp_with_a_filtered_synapse_is_neurosimtools_lif() {
    // S fires once at step 0 (from above threshold); T integrates τ_m V' = −(V − E_L) + I with
    // I = 16 pA (g_L = 1 nS) plus S's filtered train of weight 200 (τ = 4 ms), by forward Euler.
    let yaml = "
dt: 0.1 ms
duration: 30 ms
precision: f64
populations:
  S:
    size: 1
    model: lif_psc_delta
    neuron: {e_l: 0 mV, v_th: 20 mV, v_reset: 10 mV, t_ref: 100 ms}
    initial: {v: {constant: 50.0}}
  T:
    size: 1
    model: lif_psc_exp
    neuron: {tau_m: 10 ms, c_m: 10 pF, e_l: -72 mV, v_th: -55 mV, v_reset: -72 mV, v_min: -85 mV,
             t_ref: 0 ms, integration: euler}
    synapse: {kind: filtered, tau_exc: 4 ms}
    initial: {v: {constant: -70.0}}
projections:
  ST: {pre: S, post: T, rule: all_to_all, weight: 200.0, delay: 0.1 ms}
inputs:
  drive: {target: T, constant: 16.0}
monitors:
  - {population: S, variable: spikes}
  - {population: T, variable: spikes}
  - {population: T, variable: v, mean: false}
";
    let spec = ModelFile::from_yaml(yaml, None, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
    let options = BuildOptions {
        threads: Some(1),
        base_dir: None,
    };
    let results = simulate(&spec, &options).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spikes(&results, "S"), vec![[0, 0, 0]]);
    let (dt, tau_m, tau) = (0.1, 10.0, 4.0);
    let (mut v, mut y) = (-70.0f64, 0.0f64);
    let mut expected_spikes = Vec::new();
    let recorded = results.get("T.v").expect("T.v");
    for step in 0..300 {
        // S's spike of step 0 arrives at step 1: Y jumps by w/τ before the membrane update.
        if step == 1 {
            y += 200.0 / tau;
        }
        v = (v + dt * (-(v + 72.0) + 16.0 + y) / tau_m).max(-85.0);
        if v >= -55.0 {
            v = -72.0;
            expected_spikes.push([0, step, 0]);
        }
        y *= 1.0 - dt / tau;
        let got = recorded.at(&[0, step as usize, 0]);
        assert!((got - v).abs() < 1e-10, "step {step}: {got} vs {v}");
    }
    assert!(!expected_spikes.is_empty());
    assert_eq!(spikes(&results, "T"), expected_spikes);
}

#[test]
fn other_lif_names_keep_their_own_synapse_kind() {
    let e = build_error(
        "
dt: 0.1 ms
duration: 1 ms
populations:
  A: {size: 1, model: lif_psc_delta, synapse: {kind: filtered}}
",
    );
    assert!(e.contains("populations.A.synapse.kind"), "{e}");
    assert!(e.contains("Delta"), "{e}");
}
