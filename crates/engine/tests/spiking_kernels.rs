//! The vectorised (AVX2) neuron kernel against the reference loop: every LIF model, synapse kind
//! and integration rule, with recurrent spikes, Poisson drive, external and noise currents,
//! traces, several lanes and a block size that is not a multiple of 8, gives bitwise the same
//! results (spikes and every recorded state) with and without it, for 1 and 2 threads.

use neuroxide::operators::force_portable_kernels;
use neuroxide::{BuildOptions, Results, simulate};
use neuroxide_model::ModelFile;
use std::sync::Mutex;

/// `force_portable_kernels` is process-wide: the tests of this file take turns.
static PORTABLE: Mutex<()> = Mutex::new(());

fn run(yaml: &str, threads: usize, portable: bool) -> Results {
    let _guard = PORTABLE.lock().unwrap_or_else(|e| e.into_inner());
    let spec = ModelFile::from_yaml(yaml, None, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
    force_portable_kernels(portable);
    let options = BuildOptions {
        threads: Some(threads),
        base_dir: None,
    };
    let results = simulate(&spec, &options);
    force_portable_kernels(false);
    results.unwrap_or_else(|e| panic!("{e}"))
}

/// A recurrent E population of `model` with `synapse`, driven by Poisson trains, a constant
/// current and noise, 3 lanes with different random initial states.
fn network(model: &str, synapse: &str, integration: &str) -> String {
    format!(
        "
dt: 0.1 ms
duration: 150 ms
seed: 11
lanes: 3
populations:
  E:
    size: 203
    model: {model}
    neuron: {{tau_m: 20 ms, c_m: 200 pF, e_l: -60 mV, v_th: -50 mV, v_reset: -60 mV, t_ref: 2 ms, integration: {integration}}}
    synapse: {synapse}
    trace: {{tau: 10 ms, scale: 0.5}}
    initial:
      v: {{uniform: {{low: -60.0, high: -50.0}}}}
  R:
    size: 21
    model: {model}
    neuron: {{tau_m: 20 ms, c_m: 200 pF, e_l: -60 mV, v_th: -50 mV, v_reset: -60 mV, t_ref: 2 ms, v_min: -62 mV, integration: {integration}}}
    synapse: {synapse}
    trace: {{tau: 5 ms, additive: false}}
projections:
  EE: {{pre: E, post: E, rule: {{bernoulli: {{p: 0.1}}}}, weight: WE}}
  EI: {{pre: E, post: R, rule: {{bernoulli: {{p: 0.1}}}}, weight: WE}}
  RE: {{pre: R, post: E, rule: {{bernoulli: {{p: 0.3}}}}, weight: WI, delay: 0.5 ms}}
inputs:
  ext: {{target: E, poisson: {{rate: 10 Hz, count: 100, weight: WP}}}}
  ext_inh: {{target: E, poisson: {{rate: 5 Hz, count: 10, weight: WI}}}}
  ext_R: {{target: R, poisson: {{rate: 10 Hz, count: 200, weight: WP}}}}
  bias: {{target: E, constant: 150.0, start: 20 ms, stop: 120 ms}}
  noise: {{target: E, noise: {{std: 20.0}}}}
monitors:
  - {{population: E, variable: spikes}}
  - {{population: R, variable: spikes}}
  - {{population: E, variable: v, mean: false}}
  - {{population: E, variable: g_exc, mean: false}}
  - {{population: E, variable: g_inh, mean: false}}
  - {{population: E, variable: trace, mean: false}}
  - {{population: R, variable: v, mean: false}}
  - {{population: R, variable: trace, mean: false}}
"
    )
}

fn check(model: &str, synapse: &str, weights: (f64, f64, f64)) {
    for integration in ["exact", "euler"] {
        let yaml = network(model, synapse, integration)
            .replace("WE", &weights.0.to_string())
            .replace("WI", &weights.1.to_string())
            .replace("WP", &weights.2.to_string());
        let reference = run(&yaml, 1, true);
        let spikes = reference.get("E.spikes").expect("E.spikes").shape[0];
        assert!(spikes > 300, "{model} {integration}: {spikes} spikes");
        for threads in [1, 2] {
            let fast = run(&yaml, threads, false);
            assert!(
                fast.arrays == reference.arrays,
                "{model} ({synapse}, {integration}, {threads} threads): the AVX2 kernel differs \
                 from the reference loop"
            );
        }
    }
}

#[test]
fn lif_cond_exp_kernel_equals_the_reference_loop() {
    check(
        "lif_cond_exp",
        "{tau_exc: 5 ms, tau_inh: 10 ms, e_exc: 0 mV, e_inh: -80 mV}",
        (3.0, -20.0, 3.0),
    );
}

#[test]
fn lif_psc_exp_kernel_equals_the_reference_loop() {
    check(
        "lif_psc_exp",
        "{tau_exc: 2 ms, tau_inh: 5 ms}",
        (40.0, -40.0, 40.0),
    );
}

#[test]
fn lif_psc_alpha_kernel_equals_the_reference_loop() {
    check(
        "lif_psc_alpha",
        "{tau_exc: 1 ms, tau_inh: 2 ms}",
        (40.0, -40.0, 40.0),
    );
}

#[test]
fn lif_psc_delta_kernel_equals_the_reference_loop() {
    check("lif_psc_delta", "{}", (0.4, -1.5, 0.4));
}
