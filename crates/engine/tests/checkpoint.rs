//! Checkpoints: a run stopped at any step, checkpointed, and restored into a fresh build of the
//! same model ends with results bitwise identical to the uninterrupted run (rate and spiking).

use neuroxide::{AnySimulation, BuildOptions, Results};
use neuroxide_model::ModelFile;
use std::ops::ControlFlow;

fn build(yaml: &str, overrides: &[&str], threads: usize) -> AnySimulation {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let spec = ModelFile::from_yaml(yaml, None, &overrides)
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
    let options = BuildOptions {
        threads: Some(threads),
        base_dir: None,
    };
    AnySimulation::build(&spec, &options).unwrap_or_else(|e| panic!("{e}"))
}

fn go(_: u64, _: u64) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Run `yaml` stopping after `stop` steps, checkpoint, restore into a new build (with another
/// thread count), finish.
fn resumed(yaml: &str, stop: u64) -> Results {
    let mut first = build(yaml, &[], 1);
    first.begin_run();
    assert_eq!(first.continue_run(stop, &mut go), Ok(false));
    assert_eq!(first.run_steps_done(), stop);
    let state = first.checkpoint();
    drop(first);
    let mut second = build(yaml, &[], 2);
    second.begin_run();
    second.restore(&state).unwrap();
    let outcome = second.continue_run(u64::MAX, &mut go);
    assert_eq!(outcome, Ok(true));
    second.end_run(outcome).unwrap()
}

const RATE: &str = "
dt: 0.5 ms
duration: 40 ms
transient: 5 ms
seed: 9
lanes: 3
populations:
  E: {size: 256, tau: 20 ms, tau_syn: 3 ms, initial: {rate: {gaussian: {mean: 1, std: 0.5}}}}
  I: {size: 64, transfer: tanh, tau: 10 ms}
projections:
  EE: {pre: E, post: E, rule: all_to_all, profile: {cosine: {kappa: 1.5}}, weight: 1.0}
  EI: {pre: I, post: E, rule: {fixed_in_degree: {k: 20}}, weight: -1.0}
  IE: {pre: E, post: I, rule: {bernoulli: {k: 30}}, weight: 1.0}
inputs:
  noise: {target: E, noise: {std: 0.3}}
  cue: {target: E, stimulus: {amplitude: 1.0, random_phase: true, shape: {cosine: {sigma: 1.0}}}, stop: 10 ms}
monitors:
  - {population: E, variable: rate, window: 3 ms, neurons: {range: [0, 20]}}
  - {population: I, variable: current, every: 1 ms}
";

#[test]
fn a_rate_run_restored_from_a_checkpoint_equals_the_uninterrupted_run() {
    let full = build(RATE, &[], 2).run().unwrap();
    // In the transient, mid-window, at the end of the cue.
    for stop in [4, 37, 50] {
        let again = resumed(RATE, stop);
        assert_eq!(again.arrays, full.arrays, "stopped after {stop} steps");
        assert!(again.complete);
    }
}

const SPIKING: &str = "
dt: 0.1 ms
duration: 30 ms
seed: 5
lanes: 2
populations:
  E:
    size: 300
    model: lif_psc_alpha
    initial: {v: random}
  I:
    size: 100
    model: adex
    initial: {v: random}
projections:
  EE: {pre: E, post: E, rule: {fixed_in_degree: {k: 30}}, weight: 30.0, delay: 1 ms, delay_max: 2 ms}
  EI: {pre: E, post: I, rule: {fixed_in_degree: {k: 30}}, weight: 30.0, delay: 0.5 ms}
  IE: {pre: I, post: E, rule: {fixed_in_degree: {k: 10}}, weight: -40.0, delay: 0.3 ms}
inputs:
  ext: {target: E, poisson: {rate: 10 Hz, count: 200, weight: 120.0}}
  ext_i: {target: I, poisson: {rate: 10 Hz, count: 200, weight: 120.0}}
monitors:
  - {population: E, variable: spikes}
  - {population: I, variable: spikes}
  - {population: E, variable: v, every: 0.5 ms, neurons: {list: [0, 5]}}
  - {population: I, variable: rate, window: 1 ms, neurons: none}
";

#[test]
fn a_spiking_run_restored_from_a_checkpoint_equals_the_uninterrupted_run() {
    let full = build(SPIKING, &[], 2).run().unwrap();
    let spikes = full.get("E.spikes").unwrap().shape[0];
    assert!(spikes > 100, "the network fires ({spikes} spikes)");
    for stop in [13, 151] {
        let again = resumed(SPIKING, stop);
        assert_eq!(again.arrays, full.arrays, "stopped after {stop} steps");
    }
}

#[test]
fn a_checkpoint_of_another_model_is_refused_naming_the_array() {
    let mut small = build(RATE, &["populations.E.size=128"], 1);
    small.begin_run();
    small.continue_run(10, &mut go).unwrap();
    let state = small.checkpoint();
    let mut other = build(RATE, &[], 1);
    other.begin_run();
    let error = other.restore(&state).unwrap_err();
    assert!(
        error.contains("`rate.E.rate` has 384 values, this model needs 768"),
        "{error}"
    );
}

/// Spike traces, mean-rate summaries and a shared Poisson source population are state too.
const SPIKING_EXTRAS: &str = "
dt: 0.1 ms
duration: 30 ms
seed: 8
populations:
  P: {size: 200, model: poisson, neuron: {rate: 20 Hz}}
  E:
    size: 100
    model: lif_psc_exp
    trace: {tau: 5 ms, scale: 1.0, additive: true}
    initial: {v: random}
projections:
  PE: {pre: P, post: E, rule: {fixed_in_degree: {k: 50}}, weight: 300.0}
  EE: {pre: E, post: E, rule: {fixed_in_degree: {k: 10}}, weight: 20.0, delay: 1 ms}
monitors:
  - {population: E, variable: spikes}
  - {population: E, variable: trace, every: 1 ms, neurons: {list: [0, 1, 2]}}
  - {population: E, variable: mean_rate, start: 5 ms}
";

#[test]
fn traces_summaries_and_poisson_sources_survive_a_checkpoint() {
    let full = build(SPIKING_EXTRAS, &[], 2).run().unwrap();
    let spikes = full.get("E.spikes").unwrap().shape[0];
    assert!(spikes > 50, "the network fires ({spikes} spikes)");
    for stop in [7, 120] {
        let again = resumed(SPIKING_EXTRAS, stop);
        assert_eq!(again.arrays, full.arrays, "stopped after {stop} steps");
    }
}
