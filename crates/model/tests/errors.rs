//! Bad model files: each error names the file, line, key path, value and what was expected.

use neuroxide_model::{ModelFile, SpecErrors};
use std::path::Path;

const GOOD: &str = "\
dt: 0.1 ms
duration: 100 ms
populations:
  E:
    size: 100
    tau: 20 ms
    tau_syn: 3 ms
  I:
    size: 25
    tau: 10 ms
projections:
  EE:
    pre: E
    post: E
    rule: {bernoulli: {k: 10}}
    weight: 1.0
inputs:
  drive:
    target: E
    constant: 2.0
monitors:
  - {population: E, variable: rate, window: 10 ms}
";

fn load(text: &str) -> Result<ModelFile, SpecErrors> {
    ModelFile::from_yaml(text, Some(Path::new("model.yaml")), &[])
}

/// Replace `from` by `to` in the good model and return the (single) error message.
fn error_after(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    let text = GOOD.replacen(from, to, 1);
    match load(&text) {
        Ok(_) => panic!("`{to}` was accepted"),
        Err(e) => e.to_string(),
    }
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
}

#[test]
fn the_good_model_loads() {
    let model = load(GOOD).unwrap();
    assert_eq!(model.spec.populations["E"].tau.unwrap().ms(), 20.0);
    assert_eq!(model.spec.dt.ms(), 0.1);
}

#[test]
fn unknown_key_names_line_and_key() {
    let m = error_after("    tau: 10 ms", "    tua: 10 ms");
    assert_mentions(&m, &["model.yaml:10", "tua", "tau_syn"]);
}

#[test]
fn wrong_type_names_line_and_key() {
    let m = error_after("size: 100", "size: hundred");
    assert_mentions(&m, &["model.yaml:5", "populations.E.size", "hundred"]);
}

#[test]
fn bad_unit_lists_the_accepted_units() {
    let m = error_after("tau: 20 ms", "tau: 20 Hz");
    assert_mentions(&m, &["model.yaml:6", "populations.E.tau", "Hz", "ms, s"]);
}

#[test]
fn negative_time_constant() {
    let m = error_after("tau: 20 ms", "tau: -20 ms");
    assert_mentions(
        &m,
        &[
            "model.yaml:6",
            "populations.E.tau",
            "-20 ms",
            "positive time constant",
        ],
    );
}

#[test]
fn dt_not_below_a_time_constant() {
    let m = error_after("dt: 0.1 ms", "dt: 5 ms");
    assert_mentions(
        &m,
        &[
            "model.yaml:7",
            "populations.E.tau_syn",
            "3 ms",
            "dt must be below every time constant",
        ],
    );
}

#[test]
fn projection_to_a_missing_population() {
    let m = error_after("    post: E", "    post: EE");
    assert_mentions(
        &m,
        &[
            "model.yaml:14",
            "projections.EE.post",
            "`EE`",
            "did you mean `E`",
        ],
    );
}

#[test]
fn missing_file() {
    let m = error_after(
        "rule: {bernoulli: {k: 10}}",
        "rule: {explicit: {file: nowhere.npy}}",
    );
    assert_mentions(
        &m,
        &[
            "model.yaml:15",
            "projections.EE.rule.explicit.file",
            "nowhere.npy",
            "an existing file",
        ],
    );
}

#[test]
fn probability_out_of_range() {
    let m = error_after("{bernoulli: {k: 10}}", "{bernoulli: {p: 1.5}}");
    assert_mentions(
        &m,
        &[
            "model.yaml:15",
            "projections.EE.rule.bernoulli.p",
            "1.5",
            "[0, 1]",
        ],
    );
}

#[test]
fn monitor_window_not_a_whole_number_of_steps() {
    let m = error_after("window: 10 ms", "window: 0.25 ms");
    assert_mentions(&m, &["model.yaml:22", "monitors.0.window", "whole number"]);
}

#[test]
fn every_problem_is_reported() {
    let text = GOOD
        .replacen("tau: 20 ms", "tau: -1 ms", 1)
        .replacen("post: E", "post: X", 1);
    let errors = load(&text).unwrap_err();
    assert_eq!(errors.0.len(), 2, "{errors}");
}

#[test]
fn overrides_apply_and_bad_overrides_are_named() {
    let model = ModelFile::from_yaml(
        GOOD,
        None,
        &["populations.E.tau=5 ms".into(), "seed=7".into()],
    )
    .unwrap();
    assert_eq!(model.spec.populations["E"].tau.unwrap().ms(), 5.0);
    assert_eq!(model.spec.seed, 7);
    let e = ModelFile::from_yaml(GOOD, None, &["populations.X.tau=5 ms".into()])
        .unwrap_err()
        .to_string();
    assert_mentions(&e, &["--set populations.X.tau=5 ms", "`X` does not exist"]);
    let e = ModelFile::from_yaml(GOOD, None, &["populations.E.tau".into()])
        .unwrap_err()
        .to_string();
    assert_mentions(&e, &["key.path=value"]);
}

#[test]
fn sweeps_give_one_spec_per_lane_and_refuse_structural_keys() {
    let text = format!("{GOOD}sweep:\n  inputs.drive.constant: {{linspace: [1, 4, 4]}}\n");
    let model = load(&text).unwrap();
    let lanes = neuroxide_model::paths::lane_specs(&model.spec).unwrap();
    let values: Vec<f64> = lanes
        .iter()
        .map(|s| s.inputs["drive"].constant.unwrap())
        .collect();
    assert_eq!(values, vec![1.0, 2.0, 3.0, 4.0]);
    let text = format!("{GOOD}sweep:\n  populations.E.size: [10, 20]\n");
    let m = load(&text).unwrap_err().to_string();
    assert_mentions(
        &m,
        &[
            "sweep.populations.E.size",
            "cannot differ between the lanes",
        ],
    );
    let text = format!("{GOOD}lanes: 3\nsweep:\n  inputs.drive.constant: [1, 2]\n");
    let m = load(&text).unwrap_err().to_string();
    assert_mentions(&m, &["sweep.inputs.drive.constant", "2 values", "3 values"]);
}

#[test]
fn resolved_spec_round_trips() {
    let model = load(GOOD).unwrap();
    let resolved = neuroxide_model::paths::resolve(&model.spec).unwrap();
    let yaml = neuroxide_model::paths::to_yaml(&resolved);
    let again = ModelFile::from_yaml(&yaml, None, &[]).unwrap();
    assert_eq!(again.spec, resolved, "{yaml}");
}

const SPIKING: &str = "\
dt: 0.1 ms
duration: 100 ms
populations:
  E:
    size: 100
    model: lif_psc_delta
    neuron: {tau_m: 20 ms, v_th: 20 mV, v_reset: 10 mV, t_ref: 2 ms}
    initial: {v: {uniform: {low: 0.0, high: 20.0}}}
projections:
  EE:
    pre: E
    post: E
    rule: {fixed_in_degree: {k: 10}}
    weight: 0.1
    delay: 1.5 ms
inputs:
  ext: {target: E, poisson: {rate: 20 Hz, count: 100, weight: 0.1}}
monitors:
  - {population: E, variable: spikes}
";

/// Replace `from` by `to` in the good spiking model and return the error message.
fn spiking_error_after(from: &str, to: &str) -> String {
    assert!(SPIKING.contains(from), "{from}");
    match load(&SPIKING.replacen(from, to, 1)) {
        Ok(_) => panic!("`{to}` was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_good_spiking_model_loads() {
    let model = load(SPIKING).unwrap();
    assert_eq!(model.spec.projections["EE"].delay.unwrap().ms(), 1.5);
}

#[test]
fn negative_delay() {
    let m = spiking_error_after("delay: 1.5 ms", "delay: -1 ms");
    assert_mentions(
        &m,
        &[
            "model.yaml:15",
            "projections.EE.delay",
            "-1 ms",
            "at least one time step",
        ],
    );
}

#[test]
fn delay_not_a_multiple_of_dt() {
    let m = spiking_error_after("delay: 1.5 ms", "delay: 1.55 ms");
    assert_mentions(
        &m,
        &[
            "model.yaml:15",
            "projections.EE.delay",
            "1.55 ms",
            "whole number of time steps",
        ],
    );
}

#[test]
fn maximum_delay_below_the_delay() {
    let m = spiking_error_after("delay: 1.5 ms", "delay: 1.5 ms\n    delay_max: 1 ms");
    assert_mentions(
        &m,
        &["model.yaml:16", "projections.EE.delay_max", "≥ delay"],
    );
}

#[test]
fn negative_refractory_period() {
    let m = spiking_error_after("t_ref: 2 ms", "t_ref: -2 ms");
    assert_mentions(
        &m,
        &[
            "model.yaml:7",
            "populations.E.neuron.t_ref",
            "-2 ms",
            "refractory period ≥ 0",
        ],
    );
}

#[test]
fn threshold_below_reset() {
    let m = spiking_error_after("v_th: 20 mV", "v_th: 5 mV");
    assert_mentions(
        &m,
        &[
            "model.yaml:7",
            "populations.E.neuron.v_reset",
            "10 mV",
            "below the threshold v_th = 5 mV",
        ],
    );
}

#[test]
fn unknown_neuron_parameter() {
    let m = spiking_error_after("tau_m: 20 ms", "tau_mem: 20 ms");
    assert_mentions(&m, &["model.yaml:7", "tau_mem", "tau_m"]);
}

#[test]
fn spiking_state_on_a_rate_population() {
    let m = error_after(
        "    tau: 10 ms",
        "    tau: 10 ms\n    initial: {v: {constant: 1.0}}",
    );
    assert_mentions(&m, &["populations.I.initial", "spiking models"]);
}

#[test]
fn poisson_input_onto_a_rate_population() {
    let m = error_after(
        "    constant: 2.0",
        "    poisson: {rate: 10 Hz, weight: 1.0}",
    );
    assert_mentions(
        &m,
        &[
            "model.yaml:20",
            "inputs.drive.poisson",
            "spiking populations",
        ],
    );
}

#[test]
fn bad_spiking_monitor_variable() {
    let m = spiking_error_after("variable: spikes", "variable: current");
    assert_mentions(
        &m,
        &["model.yaml:19", "monitors.0.variable", "spikes, rate, v"],
    );
}

#[test]
fn poisson_source_without_a_rate() {
    let m = spiking_error_after(
        "projections:",
        "  S: {size: 10, model: poisson}\nprojections:",
    );
    assert_mentions(&m, &["model.yaml:9", "populations.S", "`neuron: {rate"]);
}

#[test]
fn poisson_source_with_membrane_parameters() {
    let m = spiking_error_after(
        "projections:",
        "  S: {size: 10, model: poisson, neuron: {rate: 5 Hz, tau_m: 10 ms}}\nprojections:",
    );
    assert_mentions(&m, &["populations.S.neuron", "only `rate`"]);
}

#[test]
fn projection_onto_a_poisson_source() {
    let text = SPIKING
        .replacen(
            "projections:",
            "  S: {size: 10, model: poisson, neuron: {rate: 5 Hz}}\nprojections:",
            1,
        )
        .replacen("post: E", "post: S", 1);
    let m = load(&text).unwrap_err().to_string();
    assert_mentions(
        &m,
        &[
            "model.yaml:13",
            "projections.EE.post",
            "is a Poisson source",
        ],
    );
}

#[test]
fn two_way_step_that_ends_before_it_starts() {
    let m = spiking_error_after(
        "ext: {target: E, poisson: {rate: 20 Hz, count: 100, weight: 0.1}}",
        "ext: {target: E, two_way_step: {amplitude: 100.0, on: 50 ms, off: 20 ms}}",
    );
    assert_mentions(
        &m,
        &[
            "model.yaml:17",
            "inputs.ext.two_way_step.off",
            "20 ms",
            "after on (50 ms)",
        ],
    );
}

#[test]
fn random_step_without_pulses() {
    let m = spiking_error_after(
        "ext: {target: E, poisson: {rate: 20 Hz, count: 100, weight: 0.1}}",
        "ext: {target: E, random_step: {amplitude: 100.0, pulses: 0}}",
    );
    assert_mentions(
        &m,
        &[
            "model.yaml:17",
            "inputs.ext.random_step.pulses",
            "at least 1 pulse",
        ],
    );
}

#[test]
fn trace_monitor_without_a_trace() {
    let m = spiking_error_after("variable: spikes", "variable: trace");
    assert_mentions(&m, &["model.yaml:19", "monitors.0.variable", "trace: {tau"]);
}

#[test]
fn trace_time_constant_below_dt() {
    let m = spiking_error_after(
        "    initial: {v:",
        "    trace: {tau: 0.05 ms}\n    initial: {v:",
    );
    assert_mentions(&m, &["model.yaml:8", "populations.E.trace.tau", "0.05 ms"]);
}

#[test]
fn mean_rate_over_windows() {
    let m = spiking_error_after("variable: spikes", "variable: mean_rate, window: 10 ms");
    assert_mentions(&m, &["monitors.0", "burn-in"]);
}

/// Two monitors of one population and variable would write results of the same name: refused
/// instead of one silently overwriting the other.
#[test]
fn a_variable_recorded_twice_is_refused() {
    let m = error_after(
        "  - {population: E, variable: rate, window: 10 ms}",
        "  - {population: E, variable: rate, window: 10 ms}\n  - {population: E, variable: rate, every: 1 ms}",
    );
    assert_mentions(
        &m,
        &["model.yaml:23", "monitors.1", "`E.rate`", "monitors.0"],
    );
}
