//! Long-term plasticity: the STDP windows against their analytic forms with controlled spike
//! pairs, Vogels' rate target, Hebbian and BCM against their closed forms, encoders, errors,
//! reproducibility for any thread count.

use neuroxide::{ArrayData, BuildOptions, Results, simulate};
use neuroxide_model::{ModelFile, NetworkSpec};

mod support;
use support::{build_error, spikes};

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

fn ints(results: &Results, name: &str) -> Vec<i64> {
    match &results
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .data
    {
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
    assert!(
        causal >= 15 && anti >= 15,
        "{causal} causal, {anti} anti-causal pairs"
    );
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
        assert!(
            (dw - expected).abs() < 1e-6,
            "Δt = {dt}: {dw} vs {expected}"
        );
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
        } else if (-10.0..0.0).contains(&dt) {
            -0.03
        } else {
            0.0
        };
        assert!(
            (dw - expected).abs() < 1e-6,
            "Δt = {dt}: {dw} vs {expected}"
        );
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

fn example(name: &str) -> String {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn run_overrides(yaml: &str, overrides: &[&str], threads: usize) -> Results {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let spec = ModelFile::from_yaml(yaml, None, &overrides)
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
    let options = BuildOptions {
        threads: Some(threads),
        base_dir: None,
    };
    simulate(&spec, &options).unwrap_or_else(|e| panic!("{e}"))
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// examples/stdp_poisson.yaml: synchronous (causal) inputs potentiate to the bound, Poisson
/// (uncorrelated) inputs depress.
#[test]
fn stdp_example_potentiates_causal_inputs_and_depresses_uncorrelated_ones() {
    let results = run(&example("stdp_poisson.yaml"));
    let volley = mean(&results.values("volley_out.weights"));
    let noise = mean(&results.values("noise_out.weights"));
    assert!(volley > 250.0, "volley weights {volley} (start 100)");
    assert!(noise < 95.0, "Poisson weights {noise} (start 100)");
    // Same mean input rate in both groups (40 Hz), so the difference is timing alone.
    let rv = results.values("volley.mean_rate_mean")[0];
    let rn = results.values("noise.mean_rate_mean")[0];
    assert!(
        (rv - 40.0).abs() < 1e-9 && (rn - 40.0).abs() < 3.0,
        "{rv} {rn}"
    );
    // The recorded trace ends at the final weights and grows monotonically for the volleys.
    let trace = results.get("volley_out.weights_trace").unwrap();
    assert_eq!(trace.shape, vec![1, 12, 20]);
    let frames = results.values("volley_out.weights_trace");
    let first = mean(&frames[..20]);
    let last = mean(&frames[11 * 20..]);
    assert!(first < last && (last - volley).abs() < 1e-9);
}

/// examples/vogels_istdp.yaml: inhibitory plasticity brings both lanes (different drives) to the
/// 5 Hz target; without it they fire at 20 and 30 Hz.
#[test]
fn vogels_example_balances_to_the_target_rate() {
    let yaml = example("vogels_istdp.yaml");
    let results = run(&yaml);
    let rates = results.values("E.rate_mean"); // (2 lanes, 8 windows of 500 ms)
    for lane in 0..2 {
        let late = mean(&rates[lane * 8 + 4..lane * 8 + 8]);
        assert!(
            (4.0..7.0).contains(&late),
            "lane {lane}: {late} Hz over the last 2 s"
        );
    }
    // The stronger drive needs more inhibition.
    let w = results.values("IE.weights");
    assert!(mean(&w[5000..]) > 1.3 * mean(&w[..5000]));
    let still = run_overrides(&yaml, &["projections.IE.plasticity.eta=0"], 2);
    let rates = still.values("E.rate_mean");
    assert!(mean(&rates[4..8]) > 18.0 && mean(&rates[12..16]) > 28.0);
}

/// examples/decision_making.yaml: the population with the stronger input wins (and suppresses
/// the other) in ≥ 90 % of the lanes; swapping the inputs swaps the winner.
#[test]
fn decision_network_picks_the_stronger_input() {
    let yaml = example("decision_making.yaml");
    for (overrides, winner) in [
        (vec![], "E1"),
        (
            vec![
                "inputs.strong.poisson.rate=5000Hz",
                "inputs.weak.poisson.rate=5500Hz",
            ],
            "E2",
        ),
    ] {
        let results = run_overrides(&yaml, &overrides, 2);
        let e1 = results.values("E1.mean_rate_mean");
        let e2 = results.values("E2.mean_rate_mean");
        let lanes = e1.len();
        assert_eq!(lanes, 20);
        let (w, l) = if winner == "E1" {
            (&e1, &e2)
        } else {
            (&e2, &e1)
        };
        let wins = (0..lanes).filter(|&k| w[k] > l[k]).count();
        let decided = (0..lanes).filter(|&k| w[k] > 2.0 * l[k] + 1.0).count();
        assert!(
            wins * 10 >= lanes * 9,
            "{winner} wins {wins}/{lanes}: {w:?} vs {l:?}"
        );
        assert!(
            decided * 10 >= lanes * 9,
            "winner-take-all in {decided}/{lanes}"
        );
    }
}

/// examples/bcm.yaml: the neuron becomes selective to the input that starts stronger, and the
/// preferred weight settles at BCM's fixed point `w = y₀ ⟨x³⟩/⟨x²⟩²` (x = 1 + sin: 10/9).
#[test]
fn bcm_example_becomes_selective_at_the_fixed_point() {
    let yaml = example("bcm.yaml");
    for (overrides, winner) in [
        (vec![], "a"),
        (
            vec!["projections.a.weight=0.45", "projections.b.weight=0.55"],
            "b",
        ),
    ] {
        let results = run_overrides(&yaml, &overrides, 1);
        let loser = if winner == "a" { "b" } else { "a" };
        let w = results.values(&format!("{winner}.weights"))[0];
        let other = results.values(&format!("{loser}.weights"))[0];
        assert_eq!(other, 0.0, "the other weight decays to the bound");
        let fixed = 2.5 / (1.5 * 1.5);
        assert!(
            (w - fixed).abs() < 0.02 * fixed,
            "w = {w}, fixed point {fixed}"
        );
    }
}

/// Plain Hebb with constant rates: `dw/dt = η x (w x + I)`, so
/// `w(t) = (w₀ + I/x) e^{η x² t} − I/x`.
#[test]
fn hebbian_growth_matches_the_closed_form() {
    let yaml = "dt: 0.1 ms
duration: 400 ms
populations:
  x: {size: 1, initial: {rate: {constant: 0.5}}}
  y: {size: 1}
projections:
  xy: {pre: x, post: y, rule: all_to_all, weight: 0.1, plasticity: {rule: hebbian, eta: 0.01}}
inputs:
  drive: {target: x, constant: 0.5}
  bias: {target: y, constant: 0.2}
";
    let results = run(yaml);
    let w = results.values("xy.weights")[0];
    let (x, i, w0, eta, t) = (0.5f64, 0.2, 0.1, 0.01, 400.0);
    let expected = (w0 + i / x) * (eta * x * x * t).exp() - i / x;
    assert!(
        (w - expected).abs() < 2e-3 * expected,
        "w = {w}, closed form {expected}"
    );
    // With a bound the growth stops there.
    let bounded = run(&yaml.replace("eta: 0.01}", "eta: 0.01, w_max: 0.3}"));
    assert!((bounded.values("xy.weights")[0] - 0.3).abs() < 1e-7);
}

/// The covariance rule learns from co-fluctuations only: constant rates leave the weight alone;
/// in-phase fluctuations of pre and post strengthen it, anti-phase ones weaken it.
#[test]
fn covariance_rule_follows_the_sign_of_the_covariance() {
    let model = |phase: &str| {
        format!(
            "dt: 1 ms
duration: 2000 ms
populations:
  x: {{size: 1}}
  y: {{size: 1}}
projections:
  xy: {{pre: x, post: y, rule: all_to_all, weight: 0.1, plasticity: {{rule: covariance, eta: 0.01, tau_avg: 1000 ms}}}}
inputs:
  drive: {{target: x, sine: {{amplitude: 0.5, frequency: 5 Hz, offset: 1.0}}}}
  post: {{target: y, sine: {{amplitude: 1.0, frequency: 5 Hz, phase: {phase}, offset: 1.0}}}}
"
        )
    };
    let up = run(&model("0 deg")).values("xy.weights")[0];
    let down = run(&model("180 deg")).values("xy.weights")[0];
    assert!(up > 0.2 && down < 0.0, "in phase {up}, anti-phase {down}");
    let flat = run(&model("0 deg")
        .replace("amplitude: 0.5", "amplitude: 0.0")
        .replace("amplitude: 1.0", "amplitude: 0.0"));
    assert_eq!(flat.values("xy.weights")[0], 0.1f32 as f64);
}

/// Encoders: TTFS latencies `T − round(v̂ (T − 1))`, Gaussian receptive fields, and the Poisson
/// encoder's mean count `v̂ · spikes` per window.
#[test]
fn encoders_follow_cnsproject() {
    let yaml = "dt: 1 ms
duration: 200 ms
lanes: 4
populations:
  t: {size: 4, model: poisson, neuron: {rate: 0 Hz}}
  g: {size: 8, model: poisson, neuron: {rate: 0 Hz}}
  p: {size: 100, model: poisson, neuron: {rate: 0 Hz}}
inputs:
  ttfs: {target: t, encoder: {kind: ttfs, window: 20 ms, patterns: [[0, 100, 200, 255], [255, 0, 0, 0]]}}
  rf: {target: g, stop: 20 ms, encoder: {kind: position, window: 20 ms, neurons: 8, min: 0, max: 1, patterns: [[0.5]]}}
  poisson: {target: p, encoder: {kind: poisson, window: 100 ms, spikes: 10, patterns: [[127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5, 127.5]]}}
monitors:
  - {population: t, variable: spikes}
  - {population: g, variable: spikes}
  - {population: p, variable: spikes}
";
    let results = run(yaml);
    // TTFS: window k shows pattern k mod 2; lane 0.
    let t: Vec<[i64; 3]> = spikes(&results, "t")
        .into_iter()
        .filter(|r| r[0] == 0)
        .collect();
    let latency = |v: f64| {
        let k = (v / 255.0 * 19.0).round() as i64;
        (k > 0).then_some(20 - k)
    };
    let mut expected = Vec::new();
    for window in 0..10i64 {
        let pattern: [f64; 4] = if window % 2 == 0 {
            [0.0, 100.0, 200.0, 255.0]
        } else {
            [255.0, 0.0, 0.0, 0.0]
        };
        for (n, &v) in pattern.iter().enumerate() {
            if let Some(s) = latency(v) {
                expected.push((window * 20 + s, n as i64));
            }
        }
    }
    expected.sort();
    let mut got: Vec<(i64, i64)> = t.iter().map(|r| (r[1], r[2])).collect();
    got.sort();
    assert_eq!(got, expected);
    // Position: x = 4 on fields μ = 1..8, σ = 1; silent below a = 0.1.
    let g: Vec<[i64; 3]> = spikes(&results, "g")
        .into_iter()
        .filter(|r| r[0] == 0)
        .collect();
    let mut expected = Vec::new();
    for k in 0..8 {
        let a = (-(4.0 - (k + 1) as f64).powi(2) / 2.0).exp();
        if a >= 0.1 {
            expected.push((((1.0 - a) * 19.0).round() as i64, k as i64));
        }
    }
    expected.sort();
    let mut got: Vec<(i64, i64)> = g.iter().map(|r| (r[1], r[2])).collect();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(
        got.iter().find(|x| x.1 == 3).unwrap().0,
        0,
        "the centred field fires first"
    );
    // Poisson: v̂ = 0.5, 10 spikes per 100 ms window at the maximum: 5 per neuron and window;
    // 4 lanes × 100 neurons × 2 windows = 800 windows, 4000 expected spikes (sd ≈ 62).
    let count = spikes(&results, "p").len() as f64;
    assert!((count - 4000.0).abs() < 250.0, "{count} spikes");
    // Lanes draw independently.
    let lane = |l: i64| -> Vec<(i64, i64)> {
        spikes(&results, "p")
            .iter()
            .filter(|r| r[0] == l)
            .map(|r| (r[1], r[2]))
            .collect()
    };
    assert_ne!(lane(0), lane(1));
}

/// Plastic weights are bitwise identical for any thread count (blocks of target neurons learn in
/// parallel: 2,100 targets make two blocks).
#[test]
fn plastic_weights_do_not_depend_on_the_thread_count() {
    let yaml = example("vogels_istdp.yaml");
    let overrides = ["populations.E.size=2100", "duration=600ms"];
    let one = run_overrides(&yaml, &overrides, 1);
    let three = run_overrides(&yaml, &overrides, 3);
    assert_eq!(one.get("IE.weights"), three.get("IE.weights"));
    assert_eq!(one.get("IE.weights_trace"), three.get("IE.weights_trace"));
    let w = one.values("IE.weights");
    assert!(w.iter().any(|&x| x > 1e-3), "the weights learned");
    let stdp = example("stdp_poisson.yaml");
    let a = run_overrides(&stdp, &["duration=500ms"], 1);
    let b = run_overrides(&stdp, &["duration=500ms"], 2);
    assert_eq!(a.get("noise_out.weights"), b.get("noise_out.weights"));
}

#[test]
fn plasticity_that_the_projection_cannot_carry_is_an_error() {
    let rate = "dt: 1 ms
duration: 10 ms
populations:
  x: {size: 4}
  y: {size: 4}
projections:
  xy: {pre: x, post: y, rule: all_to_all, weight: 1.0, PROFILE plasticity: PLASTICITY}
";
    let with = |profile: &str, plasticity: &str| {
        build_error(
            &rate
                .replace("PROFILE", profile)
                .replace("PLASTICITY", plasticity),
        )
    };
    let e = with("", "{rule: stdp, a_plus: 1, a_minus: 1, w_max: 1}");
    assert!(
        e.contains("projections.xy.plasticity.rule") && e.contains("learns from spikes"),
        "{e}"
    );
    let e = with(
        "profile: {low_rank: {rank: 1, vectors: {gaussian: {}}}},",
        "{rule: hebbian}",
    );
    assert!(
        e.contains("projections.xy.plasticity") && e.contains("low_rank"),
        "{e}"
    );
    let e = with("", "{rule: bcm}");
    assert!(
        e.contains("plasticity.tau_avg") && e.contains("needs"),
        "{e}"
    );
    let e = with("", "{rule: hebbian, window: 5 ms}");
    assert!(
        e.contains("plasticity.window") && e.contains("not a parameter"),
        "{e}"
    );
    let e = with("", "{rule: hebb}");
    assert!(e.contains("hebb"), "{e}");

    let spiking = pairs_model("PLASTICITY");
    let e = build_error(&spiking.replace("PLASTICITY", "{rule: bcm, tau_avg: 10 ms}"));
    assert!(e.contains("learns from rates"), "{e}");
    let e = build_error(&spiking.replace("PLASTICITY", "{rule: stdp, a_plus: 0.1, w_max: 1}"));
    assert!(e.contains("plasticity.a_minus"), "{e}");
    let e = build_error(&spiking.replace("PLASTICITY", "{rule: stdp, a_plus: 0.1, a_minus: 0.1}"));
    assert!(e.contains("plasticity.w_max"), "{e}");
    let e = build_error(&spiking.replace(
        "PLASTICITY",
        "{rule: stdp, a_plus: 0.1, a_minus: 0.1, w_min: -1, w_max: 1}",
    ));
    assert!(
        e.contains("plasticity.w_min") && e.contains("magnitude"),
        "{e}"
    );
    let e = build_error(&spiking.replace(
        "PLASTICITY",
        "{rule: rstdp, a_plus: 0.1, a_minus: 0.1, w_max: 1}",
    ));
    assert!(e.contains("plasticity.reward"), "{e}");
    // Weights of both signs (a Gaussian profile) cannot learn as one projection.
    let e = build_error(
        &spiking
            .replace(
                "rule: all_to_all\n",
                "rule: all_to_all\n    profile: gaussian\n",
            )
            .replace(
                "PLASTICITY",
                "{rule: stdp, a_plus: 0.1, a_minus: 0.1, w_max: 1}",
            ),
    );
    assert!(
        e.contains("projections.pp.plasticity") && e.contains("one sign"),
        "{e}"
    );
}

#[test]
fn bad_encoders_are_errors() {
    let model = |target: &str, encoder: &str| {
        format!(
            "dt: 1 ms
duration: 10 ms
populations:
  s: {{size: 3, model: poisson, neuron: {{rate: 0 Hz}}}}
  n: {{size: 3, model: lif_psc_exp}}
inputs:
  code: {{target: {target}, encoder: {encoder}}}
"
        )
    };
    let e = build_error(&model(
        "n",
        "{kind: ttfs, window: 5 ms, patterns: [[1, 2, 3]]}",
    ));
    assert!(
        e.contains("inputs.code.target") && e.contains("model: poisson"),
        "{e}"
    );
    let e = build_error(&model(
        "s",
        "{kind: ttfs, window: 5 ms, patterns: [[1, 2]]}",
    ));
    assert!(
        e.contains("inputs.code.encoder.patterns.0") && e.contains("3 values"),
        "{e}"
    );
    let e = build_error(&model(
        "s",
        "{kind: position, neurons: 2, window: 5 ms, patterns: [[1]]}",
    ));
    assert!(
        e.contains("patterns.0") && e.contains("fields per value"),
        "{e}"
    );
    let e = build_error(&model(
        "s",
        "{kind: poisson, spikes: 9, window: 5 ms, patterns: [[1, 2, 3]]}",
    ));
    assert!(e.contains("encoder.spikes"), "{e}");
    let e = build_error(&model(
        "s",
        "{kind: ttfs, window: 5 ms, patterns: [[1, 2, 3]], sequence: [0, 1]}",
    ));
    assert!(e.contains("encoder.sequence"), "{e}");
    let e = build_error(&model(
        "s",
        "{kind: ttfs, window: 0.5 ms, patterns: [[1, 2, 3]]}",
    ));
    assert!(e.contains("encoder.window"), "{e}");
}

#[test]
fn sweeping_a_plasticity_parameter_is_refused() {
    let yaml = example("vogels_istdp.yaml").replace(
        "sweep:\n",
        "sweep:\n  projections.IE.plasticity.eta: [1.0, 2.0]\n",
    );
    let e = build_error(&yaml);
    assert!(
        e.contains("sweep.projections.IE.plasticity.eta") && e.contains("cannot differ"),
        "{e}"
    );
}

/// A run checkpointed mid-way and restored into a fresh build learns on exactly as the
/// uninterrupted one (weights, traces, eligibilities, flat histories, running averages).
#[test]
fn plastic_state_survives_a_checkpoint() {
    use neuroxide::AnySimulation;
    use std::ops::ControlFlow;
    let build = |yaml: &str, overrides: &[&str], threads: usize| {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        let spec = ModelFile::from_yaml(yaml, None, &overrides).unwrap().spec;
        let options = BuildOptions {
            threads: Some(threads),
            base_dir: None,
        };
        AnySimulation::build(&spec, &options).unwrap()
    };
    let mut go = |_: u64, _: u64| ControlFlow::Continue(());
    let cases: Vec<(String, Vec<&str>, u64, &str)> = vec![
        (
            example("stdp_poisson.yaml"),
            vec!["duration=400ms"],
            1733,
            "noise_out",
        ),
        (
            pairs_model(
                "{rule: flat_rstdp, a_plus: 0.01, a_minus: 0.02, window: 10 ms, w_max: 1, \
                         reward: {schedule: [{start: 30 ms, stop: 60 ms, value: 1}]}}",
            ),
            vec![],
            25,
            "pp",
        ),
        (
            example("bcm.yaml"),
            vec![
                "duration=3000ms",
                "monitors.0.start=0ms",
                "monitors.1.start=0ms",
            ],
            1234,
            "a",
        ),
    ];
    for (yaml, overrides, stop, projection) in cases {
        let mut whole = build(&yaml, &overrides, 1);
        let reference = whole.run().unwrap();
        let mut first = build(&yaml, &overrides, 1);
        first.begin_run();
        assert_eq!(first.continue_run(stop, &mut go), Ok(false));
        let state = first.checkpoint();
        drop(first);
        let mut second = build(&yaml, &overrides, 2);
        second.begin_run();
        second.restore(&state).unwrap();
        let outcome = second.continue_run(u64::MAX, &mut go);
        let resumed = second.end_run(outcome).unwrap();
        let name = format!("{projection}.weights");
        assert_eq!(reference.get(&name), resumed.get(&name), "{projection}");
        let initial = build(&yaml, &overrides, 1).run().unwrap();
        assert_eq!(reference.get(&name), initial.get(&name), "reproducible");
    }
}
