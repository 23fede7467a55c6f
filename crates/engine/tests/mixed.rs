//! Networks with rate and spiking populations side by side: spikes drive a rate population
//! through its synaptic filter as `S/dt` (Hz), rates drive a spiking population as an input
//! current `w r`; both act from the next step on and are bitwise identical for any thread count.

use neuroxide::{BuildOptions, Results, simulate};
use neuroxide_model::ModelFile;

mod support;
use support::{build_error, spikes};

fn run_with(yaml: &str, threads: usize) -> Results {
    let spec = ModelFile::from_yaml(yaml, None, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
    let options = BuildOptions {
        threads: Some(threads),
        base_dir: None,
    };
    simulate(&spec, &options).unwrap_or_else(|e| panic!("{e}"))
}

/// Values of `name` (lanes, frames, neurons) for one lane and neuron.
fn series(results: &Results, name: &str, lane: usize, neuron: usize) -> Vec<f64> {
    let array = results.get(name).unwrap_or_else(|| panic!("no {name}"));
    let (frames, neurons) = (array.shape[1], array.shape[2]);
    let values = results.values(name);
    (0..frames)
        .map(|f| values[(lane * frames + f) * neurons + neuron])
        .collect()
}

#[test]
fn rate_population_driven_by_poisson_spikes_converges_to_weight_times_their_rate() {
    // h = (w/N) Σ_j S_j/dt: the mean of the filtered input is w × the sources' mean rate (Hz),
    // and with `transfer: id` the rate follows it.
    let yaml = "
dt: 0.1 ms
duration: 2 s
seed: 5
lanes: 2
populations:
  P: {size: 200, model: poisson, neuron: {rate: 20 Hz}}
  R: {size: 3, model: rate, transfer: id, tau: 10 ms, tau_syn: 20 ms}
projections:
  PR: {pre: P, post: R, rule: all_to_all, weight: 0.05, scaling: n}
monitors:
  - {population: P, variable: spikes}
  - {population: R, variable: rate, mean: false}
";
    let results = run_with(yaml, 2);
    assert_eq!(results.arrays, run_with(yaml, 1).arrays, "1 and 2 threads");
    let rows = spikes(&results, "P");
    for lane in 0..2 {
        // Over the last 1.5 s (after the filters have settled).
        let from = 5000;
        let count = rows
            .iter()
            .filter(|r| r[0] == lane as i64 && r[1] >= from)
            .count() as f64;
        let source_rate = count / 200.0 / 1.5;
        assert!(
            (source_rate - 20.0).abs() < 1.0,
            "sources at {source_rate} Hz"
        );
        for neuron in 0..3 {
            let r = series(&results, "R.rate", lane, neuron);
            let mean = r[from as usize..].iter().sum::<f64>() / (r.len() - from as usize) as f64;
            let expected = 0.05 * source_rate;
            println!("lane {lane}, neuron {neuron}: rate {mean:.4}, w·ν = {expected:.4}");
            assert!(
                (mean / expected - 1.0).abs() < 0.02,
                "lane {lane}, neuron {neuron}: rate {mean}, expected w·ν = {expected}"
            );
        }
    }
}

#[test]
fn one_spike_enters_the_rate_filter_as_area_weight_one_step_later() {
    // A spike at step m is S/dt = 10⁴ Hz for one step; the channel I ← a I + (1 − a) h gives a
    // current whose area Σ I dt (s) is the weight, starting at step m + 1.
    let yaml = "
dt: 0.1 ms
duration: 300 ms
precision: f64
populations:
  S:
    size: 1
    model: lif_psc_delta
    neuron: {e_l: 0 mV, v_th: 20 mV, v_reset: 10 mV, t_ref: 1000 ms}
    initial: {v: {constant: 50.0}}
  R: {size: 1, model: rate, transfer: id, tau_syn: 10 ms}
projections:
  SR: {pre: S, post: R, rule: all_to_all, weight: 3.0, scaling: raw}
monitors:
  - {population: S, variable: spikes}
  - {population: R, variable: current, mean: false}
";
    let results = run_with(yaml, 1);
    assert_eq!(spikes(&results, "S"), vec![[0, 0, 0]]);
    let current = series(&results, "R.current", 0, 0);
    assert_eq!(current[0], 0.0, "no effect within the step of the spike");
    assert!(current[1] > 0.0, "the spike acts from the next step on");
    let area: f64 = current.iter().sum::<f64>() * 1e-4;
    assert!((area - 3.0).abs() < 3.0 * 1e-5, "area {area}, weight 3");
}

#[test]
fn spiking_population_driven_by_a_constant_rate_fires_as_with_the_equal_current() {
    // r = 2 (instant rate population with a constant input), weight 200 pA per unit rate:
    // 400 pA, as the `constant: 400` current onto B; ISI = t_ref + τ ln(RI/(RI − 15 mV)).
    let yaml = "
dt: 0.01 ms
duration: 300 ms
precision: f64
populations:
  C: {size: 1, model: rate, transfer: id, initial: {rate: {constant: 2.0}}}
  A: &cell
    size: 3
    model: lif_psc_exp
    neuron: {tau_m: 10 ms, c_m: 250 pF, e_l: -70 mV, v_th: -55 mV, v_reset: -70 mV, t_ref: 2 ms}
  B:
    <<: *cell
projections:
  CA: {pre: C, post: A, rule: all_to_all, weight: 200.0, scaling: raw}
inputs:
  drive_C: {target: C, constant: 2.0}
  drive_B: {target: B, constant: 400.0}
monitors:
  - {population: A, variable: spikes}
  - {population: B, variable: spikes}
";
    let results = run_with(yaml, 2);
    assert_eq!(results.arrays, run_with(yaml, 1).arrays, "1 and 2 threads");
    let a = spikes(&results, "A");
    assert!(a.len() >= 3 * 9, "{} spikes", a.len());
    assert_eq!(
        a,
        spikes(&results, "B"),
        "rate drive = the equal constant current"
    );
    let train: Vec<i64> = a.iter().filter(|r| r[2] == 0).map(|r| r[1]).collect();
    let ri = 10.0 / 250.0 * 400.0;
    let expected = 2.0 + 10.0 * (ri / (ri - 15.0f64)).ln();
    let measured = (train[train.len() - 1] - train[0]) as f64 * 0.01 / (train.len() - 1) as f64;
    assert!(
        measured >= expected - 1e-9 && measured <= expected + 0.01 + 1e-9,
        "ISI {measured} ms, analytic {expected} ms (rounded up to the grid)"
    );
}

#[test]
fn rate_drive_of_a_spiking_population_follows_the_rate_with_one_step_delay() {
    // Two rate neurons ramping up (τ = 5 ms towards 1) drive a conductance-based LIF with a
    // threshold out of reach and no synaptic input: C_m dV/dt = −g_L(V − E_L) + I with
    // I = Σ w r, so V follows the exact propagator of the current of the rates at the start of
    // each step (those recorded after the step before).
    let yaml = "
dt: 0.1 ms
duration: 50 ms
precision: f64
populations:
  C: {size: 2, model: rate, transfer: id, tau: 5 ms}
  N:
    size: 1
    model: lif_cond_exp
    neuron: {tau_m: 20 ms, c_m: 200 pF, e_l: -60 mV, v_th: 1000 mV, v_reset: -60 mV}
    synapse: {tau_exc: 5 ms, tau_inh: 10 ms, e_exc: 0 mV, e_inh: -80 mV}
projections:
  CN: {pre: C, post: N, rule: all_to_all, weight: 50.0, scaling: raw}
inputs:
  drive_C: {target: C, constant: 1.0}
monitors:
  - {population: C, variable: rate, mean: false}
  - {population: N, variable: v, mean: false}
";
    let results = run_with(yaml, 1);
    let r = series(&results, "C.rate", 0, 0);
    let v = series(&results, "N.v", 0, 0);
    let (tau, c) = (20.0, 200.0);
    let decay = (-0.1f64 / tau).exp();
    let gain = (1.0 - decay) * tau / c;
    let mut expected = -60.0;
    for step in 0..v.len() {
        // Step `step` reads the rates at its start: those after step − 1 (zero at step 0).
        let rate = if step == 0 { 0.0 } else { r[step - 1] };
        let current = 2.0 * 50.0 * rate;
        expected = -60.0 + (expected + 60.0) * decay + current * gain;
        assert!(
            (v[step] - expected).abs() < 1e-9,
            "step {step}: v {} vs {expected}",
            v[step]
        );
    }
    assert!(
        v[v.len() - 1] > -58.0,
        "the drive acts: v = {}",
        v[v.len() - 1]
    );
}

#[test]
fn unsupported_mixed_couplings_are_refused_with_the_key_path() {
    let base = "
dt: 0.1 ms
duration: 10 ms
populations:
  R: {size: 2, model: rate, transfer: id}
  N: {size: 2, model: lif_psc_exp}
projections:
";
    let tau = build_error(&format!(
        "{base}  RN: {{pre: R, post: N, rule: all_to_all, weight: 1.0, tau_syn: 5 ms}}\n"
    ));
    assert!(
        tau.contains("projections.RN.tau_syn") && tau.contains("without a synaptic filter"),
        "{tau}"
    );
    let delay = build_error(&format!(
        "{base}  NR: {{pre: N, post: R, rule: all_to_all, weight: 1.0, delay: 2 ms}}\n"
    ));
    assert!(
        delay.contains("projections.NR.delay") && delay.contains("next step"),
        "{delay}"
    );
}

#[test]
fn recurrent_rate_spiking_loop_is_bitwise_identical_for_any_thread_count() {
    // Sparse (CSR) and dense-profile couplings both ways, 3 lanes, f32 (the AVX2 cell kernel).
    let yaml = "
dt: 0.1 ms
duration: 200 ms
seed: 3
lanes: 3
populations:
  N:
    size: 3000
    model: lif_cond_exp
    neuron: {tau_m: 20 ms, c_m: 200 pF, e_l: -60 mV, v_th: -50 mV, v_reset: -60 mV, t_ref: 2 ms}
    synapse: {tau_exc: 5 ms, tau_inh: 10 ms, e_exc: 0 mV, e_inh: -80 mV}
    initial: {v: {uniform: {low: -60.0, high: -50.0}}}
  R: {size: 50, model: rate, transfer: relu, tau: 10 ms, tau_syn: 5 ms}
projections:
  NN: {pre: N, post: N, rule: {bernoulli: {p: 0.02}}, weight: 2.0}
  NR: {pre: N, post: R, rule: {bernoulli: {p: 0.1}}, weight: 0.01, scaling: raw}
  RN: {pre: R, post: N, rule: {bernoulli: {p: 0.2}}, profile: gaussian, weight: 15.0, scaling: raw}
inputs:
  ext: {target: N, poisson: {rate: 10 Hz, count: 100, weight: 3.0}}
monitors:
  - {population: N, variable: spikes}
  - {population: R, variable: rate, mean: false}
";
    let one = run_with(yaml, 1);
    let two = run_with(yaml, 2);
    assert!(one.arrays == two.arrays, "1 and 2 threads differ");
    assert!(
        spikes(&one, "N").len() > 1000,
        "{} spikes",
        spikes(&one, "N").len()
    );
    let r = one.values("R.rate");
    assert!(r.iter().any(|&x| x > 0.0), "the spikes drive R");
}
