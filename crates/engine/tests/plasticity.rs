//! Long-term plasticity: the STDP windows against their analytic forms with controlled spike
//! pairs, Vogels' rate target, Hebbian and BCM against their closed forms, encoders, errors,
//! reproducibility for any thread count.

use neuroxide::{ArrayData, BuildOptions, Results, simulate};
use neuroxide_model::{ModelFile, NetworkSpec};

fn load(yaml: &str) -> NetworkSpec {
    ModelFile::from_yaml(yaml, None, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .spec
}

fn run_with(yaml: &str, threads: usize) -> Results {
    let options = BuildOptions {
        threads: Some(threads),
        base_dir: None,
    };
    simulate(&load(yaml), &options).unwrap_or_else(|e| panic!("{e}"))
}

fn run(yaml: &str) -> Results {
    run_with(yaml, 2)
}

fn build_error(yaml: &str) -> String {
    let spec = match ModelFile::from_yaml(yaml, None, &[]) {
        Ok(model) => model.spec,
        Err(e) => return e.to_string(),
    };
    match simulate(&spec, &BuildOptions::default()) {
        Ok(_) => panic!("accepted:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

/// Spike rows (lane, step, neuron).
fn spikes(results: &Results, population: &str) -> Vec<[i64; 3]> {
    let array = results.get(&format!("{population}.spikes")).unwrap();
    let ArrayData::I64(values) = &array.data else {
        panic!("spikes are not int64")
    };
    values.chunks_exact(3).map(|r| [r[0], r[1], r[2]]).collect()
}

fn ints(results: &Results, name: &str) -> Vec<i64> {
    match &results.get(name).unwrap_or_else(|| panic!("no {name}")).data {
        ArrayData::I64(v) => v.clone(),
        _ => panic!("{name} is not int64"),
    }
}

/// 39 presynaptic sources, each spiking once at step 1…39 (a TTFS encoder over one 40 ms window),
/// onto one LIF neuron made to spike once at step 20 by a current pulse; the pre → post weights
/// (0.01 mV) barely move the membrane.
fn pairs_model(plasticity: &str) -> String {
    // Latency s needs k = 40 − s, v = 255 k / 39.
    let values: Vec<String> = (1..40)
        .map(|s| format!("{}", 255.0 * (40 - s) as f64 / 39.0))
        .collect();
    format!(
        "dt: 1 ms
duration: 60 ms
populations:
  pre: {{size: 39, model: poisson, neuron: {{rate: 0 Hz}}}}
  post: {{size: 1, model: lif_psc_delta}}
projections:
  pp:
    pre: pre
    post: post
    rule: all_to_all
    weight: 0.5
    plasticity: {plasticity}
inputs:
  code: {{target: pre, stop: 40 ms, encoder: {{kind: ttfs, window: 40 ms, patterns: [[{}]]}}}}
  kick: {{target: post, two_way_step: {{amplitude: 100000, on: 20 ms, off: 21 ms}}}}
monitors:
  - {{population: pre, variable: spikes}}
  - {{population: post, variable: spikes}}
",
        values.join(", ")
    )
}

/// (Δt = t_post − t_pre in ms, weight change) of every synapse.
fn window(results: &Results) -> Vec<(f64, f64)> {
    let post = spikes(results, "post");
    assert_eq!(post.len(), 1, "the post neuron spikes once: {post:?}");
    let t_post = post[0][1];
    let pre = spikes(results, "pre");
    assert_eq!(pre.len(), 39, "every source spikes once");
    let mut t_pre = [0i64; 39];
    for r in &pre {
        t_pre[r[2] as usize] = r[1];
    }
    let order = ints(results, "pp.synapse_pre");
    let weights = results.values("pp.weights");
    order
        .iter()
        .zip(&weights)
        .map(|(&j, &w)| ((t_post - t_pre[j as usize]) as f64, w - 0.5))
        .collect()
}

#[test]
fn stdp_window_is_the_rule_exponential() {
    let results = run(&pairs_model(
        "{rule: stdp, a_plus: 0.01, a_minus: 0.012, tau_plus: 10 ms, tau_minus: 20 ms, w_max: 1}",
    ));
    let pairs = window(&results);
    let (mut causal, mut anti) = (0, 0);
    for (dt, dw) in pairs {
        let expected = if dt > 0.0 {
            causal += 1;
            0.01 * (-dt / 10.0).exp()
        } else if dt < 0.0 {
            anti += 1;
            -0.012 * (dt / 20.0).exp()
        } else {
            0.0
        };
        assert!(
            (dw - expected).abs() < 1e-6,
            "Δt = {dt} ms: Δw = {dw}, expected {expected}"
        );
    }
    assert!(causal >= 15 && anti >= 15, "{causal} causal, {anti} anti-causal pairs");
}

#[test]
fn multiplicative_stdp_scales_with_the_distance_to_the_bound() {
    let results = run(&pairs_model(
        "{rule: stdp, a_plus: 0.1, a_minus: 0.1, weight_dependence: multiplicative, w_min: 0.2, w_max: 2}",
    ));
    for (dt, dw) in window(&results) {
        let expected = if dt > 0.0 {
            0.1 * (2.0 - 0.5) * (-dt / 20.0).exp()
        } else if dt < 0.0 {
            -0.1 * (0.5 - 0.2) * (dt / 20.0).exp()
        } else {
            0.0
        };
        assert!((dw - expected).abs() < 1e-6, "Δt = {dt}: {dw} vs {expected}");
    }
}

#[test]
fn flat_stdp_window_is_a_box() {
    let results = run(&pairs_model(
        "{rule: flat_stdp, a_plus: 0.02, a_minus: 0.03, window: 10 ms, w_max: 1}",
    ));
    for (dt, dw) in window(&results) {
        let expected = if dt > 0.0 && dt <= 10.0 {
            0.02
        } else if dt < 0.0 && dt >= -10.0 {
            -0.03
        } else {
            0.0
        };
        assert!((dw - expected).abs() < 1e-6, "Δt = {dt}: {dw} vs {expected}");
    }
}

#[test]
fn weights_stay_within_bounds() {
    let results = run(&pairs_model(
        "{rule: stdp, a_plus: 1, a_minus: 1, w_min: 0.3, w_max: 0.6}",
    ));
    for (dt, dw) in window(&results) {
        let w = 0.5 + dw;
        // f32 weights.
        assert!((0.3 - 1e-7..=0.6 + 1e-7).contains(&w), "Δt = {dt}: w = {w}");
        if dt.abs() == 1.0 {
            let bound = if dt > 0.0 { 0.6 } else { 0.3 };
            assert!((w - bound).abs() < 1e-7, "Δt = {dt}: w = {w}");
        }
    }
}

/// R-STDP: the same STDP changes enter an eligibility `c` (decay τ_c), and a reward rate on
/// [45, 50) ms (after every spike) turns it into weight, `Δw = Σ_m dt d_m c_m`, with the
/// dopamine `d` and `c` in closed form.
#[test]
fn rstdp_converts_eligibility_with_dopamine() {
    let results = run(&pairs_model(
        "{rule: rstdp, a_plus: 0.01, a_minus: 0.012, tau_plus: 10 ms, tau_minus: 20 ms, w_max: 1, \
          tau_c: 50 ms, reward: {tau_d: 5 ms, schedule: [{start: 45 ms, stop: 50 ms, value: 2}]}}",
    ));
    let (a, b) = ((-1.0f64 / 50.0).exp(), (-1.0f64 / 5.0).exp());
    // Dopamine and eligibility decay after both spikes (the last spike is at step 39): the weight
    // change is c₀ Σ_{m ≥ 45} dt d_m e^{−(m − 39)·dt/τ_c}, d_m = d_{m−1} b + dt r_m.
    let mut factor = 0.0;
    let mut d = 0.0;
    for m in 0..60 {
        let r = if (45..50).contains(&m) { 2.0 } else { 0.0 };
        d = d * b + r;
        if m >= 45 {
            factor += d * a.powi(m - 39);
        }
    }
    let mut checked = 0;
    for (dt, dw) in window(&results) {
        // c at step 39: the STDP change, decayed from the later spike of the pair to step 39.
        let last = if dt > 0.0 { 20.0 } else { 20.0 - dt };
        let stdp = if dt > 0.0 {
            0.01 * (-dt / 10.0).exp()
        } else if dt < 0.0 {
            -0.012 * (dt / 20.0).exp()
        } else {
            0.0
        };
        let c39 = stdp * a.powf(39.0 - last);
        let expected = c39 * factor;
        assert!(
            (dw - expected).abs() < 1e-6 * (1.0 + expected.abs() * 1e3),
            "Δt = {dt}: {dw} vs {expected}"
        );
        checked += usize::from(stdp != 0.0);
    }
    assert!(checked > 30);
    // Without reward nothing changes.
    let results = run(&pairs_model(
        "{rule: rstdp, a_plus: 0.01, a_minus: 0.012, w_max: 1, reward: {schedule: []}}",
    ));
    assert!(window(&results).iter().all(|(_, dw)| *dw == 0.0));
}
