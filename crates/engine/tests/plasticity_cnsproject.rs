//! `scheme: cnsproject`, `weight_decay` and `weight_dependence: soft_bound`: the weights of
//! controlled spike pairs against a step-by-step reference of cnsproject's learning rules written
//! here, reproducibility for any thread count, errors.

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

fn ints(results: &Results, name: &str) -> Vec<i64> {
    match &results.get(name).expect(name).data {
        ArrayData::I64(v) => v.clone(),
        _ => panic!("{name} is not int64"),
    }
}

const STEPS: usize = 60;

/// 39 sources spiking once each at steps 1…39 (TTFS over one 40 ms window) onto one LIF neuron
/// made to spike at step 20; traces τ 10 ms, scale 2 (pre) and τ 20 ms, scale 0.5 (post); f64.
fn pairs_model(plasticity: &str) -> String {
    let values: Vec<String> = (1..40)
        .map(|s| format!("{}", 255.0 * (40 - s) as f64 / 39.0))
        .collect();
    format!(
        "dt: 1 ms
duration: {STEPS} ms
precision: f64
populations:
  pre: {{size: 39, model: poisson, neuron: {{rate: 0 Hz}}, trace: {{tau: 10 ms, scale: 2.0}}}}
  post: {{size: 1, model: lif_psc_delta, trace: {{tau: 20 ms, scale: 0.5}}}}
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

/// The parameters of the reference.
struct Rule {
    a_plus: f64,
    a_minus: f64,
    w_max: f64,
    w_min: f64,
    /// λ dt per step.
    decay: f64,
    /// `(γ, β)` of the soft bound.
    soft: Option<(f64, f64)>,
    /// Flat window in steps (0: the population traces).
    window: usize,
    /// `(τ_c, τ_d, reward per step)` of R-STDP (dt = 1 ms).
    reward: Option<(f64, f64, Vec<f64>)>,
}

/// cnsproject's update, step by step, for one synapse with one pre spike at `t_pre` and one post
/// spike at `t_post`, from `w0`.
fn reference(rule: &Rule, t_pre: usize, t_post: usize, w0: f64) -> f64 {
    let trace = |t: usize, m: usize, tau: f64, scale: f64| {
        if rule.window > 0 {
            f64::from(u8::from(t <= m && m < t + rule.window))
        } else if t <= m {
            scale * (-((m - t) as f64) / tau).exp()
        } else {
            0.0
        }
    };
    let (mut w, mut c, mut d) = (w0, 0.0, 0.0);
    for m in 0..STEPS {
        let (sp, sq) = (
            f64::from(u8::from(m == t_pre)),
            f64::from(u8::from(m == t_post)),
        );
        let f = rule.soft.map_or(1.0, |(gamma, beta)| {
            gamma * ((rule.w_max - w) * (w - rule.w_min)).max(0.0).powf(beta)
        });
        let delta = f * rule.a_plus * trace(t_pre, m, 10.0, 2.0) * sq
            - f * rule.a_minus * trace(t_post, m, 20.0, 0.5) * sp
            - rule.decay * w;
        match &rule.reward {
            None => w += delta,
            Some((tau_c, tau_d, r)) => {
                c = c * (1.0 - 1.0 / tau_c) + if sp + sq > 0.0 { delta } else { 0.0 };
                d = d * (1.0 - 1.0 / tau_d) + r[m];
                w += d * c;
            }
        }
        w = w.clamp(rule.w_min, rule.w_max);
    }
    w
}

/// Every synapse's weight against the reference; returns how many changed.
fn check(results: &Results, rule: &Rule) -> usize {
    let post = spikes(results, "post");
    assert_eq!(post.len(), 1, "the post neuron spikes once: {post:?}");
    let t_post = post[0][1] as usize;
    assert_eq!(t_post, 20);
    let pre = spikes(results, "pre");
    assert_eq!(pre.len(), 39, "every source spikes once");
    let mut t_pre = [0usize; 39];
    for r in &pre {
        t_pre[r[2] as usize] = r[1] as usize;
    }
    let order = ints(results, "pp.synapse_pre");
    let mut changed = 0;
    for (&j, &w) in order.iter().zip(&results.values("pp.weights")) {
        let t = t_pre[j as usize];
        let expected = reference(rule, t, t_post, 0.5);
        assert!(
            (w - expected).abs() < 1e-12,
            "pre at {t}, post at {t_post}: w = {w}, expected {expected}"
        );
        changed += usize::from((w - 0.5).abs() > 1e-9);
    }
    changed
}

fn plain(a_plus: f64, a_minus: f64) -> Rule {
    Rule {
        a_plus,
        a_minus,
        w_max: 1.0,
        w_min: 0.0,
        decay: 0.0,
        soft: None,
        window: 0,
        reward: None,
    }
}

#[test]
fn cnsproject_stdp_reads_the_population_traces_and_counts_same_step_pairs() {
    let results = run_with(
        &pairs_model("{rule: stdp, scheme: cnsproject, a_plus: 0.01, a_minus: 0.03, w_max: 1}"),
        2,
    );
    assert_eq!(check(&results, &plain(0.01, 0.03)), 39);
    // The pair in the same step (pre at 20) counts both terms: 0.01·2 − 0.03·0.5.
    let order = ints(&results, "pp.synapse_pre");
    let w = results.values("pp.weights");
    let same = order
        .iter()
        .position(|&j| j == 19)
        .expect("source 19 spikes at 20");
    assert!(
        (w[same] - (0.5 + 0.02 - 0.015)).abs() < 1e-12,
        "{}",
        w[same]
    );
}

#[test]
fn weight_decay_and_soft_bound_follow_cnsproject() {
    let yaml = pairs_model(
        "{rule: stdp, scheme: cnsproject, a_plus: 0.4, a_minus: 0.2, w_min: 0.1, w_max: 1.2, \
          weight_decay: 5 Hz, weight_dependence: soft_bound, gamma: 0.8, beta: 1.5}",
    );
    let rule = Rule {
        w_min: 0.1,
        w_max: 1.2,
        decay: 0.005,
        soft: Some((0.8, 1.5)),
        ..plain(0.4, 0.2)
    };
    assert_eq!(check(&run_with(&yaml, 1), &rule), 39);
    // In the event scheme the soft bound scales each spike's change and the decay acts first.
    let event = run_with(
        &pairs_model(
            "{rule: stdp, a_plus: 0.1, a_minus: 0.1, w_max: 2, weight_dependence: soft_bound}",
        ),
        1,
    );
    let f = (2.0 - 0.5) * 0.5;
    for (dt, dw) in event_window(&event) {
        let expected = if dt > 0.0 {
            0.1 * f * (-dt / 20.0).exp()
        } else if dt < 0.0 {
            -0.1 * f * (dt / 20.0).exp()
        } else {
            0.0
        };
        assert!(
            (dw - expected).abs() < 1e-12,
            "Δt = {dt}: {dw} vs {expected}"
        );
    }
    let decayed = run_with(
        &pairs_model("{rule: stdp, a_plus: 0, a_minus: 0, w_max: 2, weight_decay: 10 Hz}"),
        1,
    );
    for w in decayed.values("pp.weights") {
        assert!((w - 0.5 * 0.99f64.powi(STEPS as i32)).abs() < 1e-12, "{w}");
    }
}

/// (Δt = t_post − t_pre, Δw) of every synapse.
fn event_window(results: &Results) -> Vec<(f64, f64)> {
    let t_post = spikes(results, "post")[0][1];
    let mut t_pre = [0i64; 39];
    for r in spikes(results, "pre") {
        t_pre[r[2] as usize] = r[1];
    }
    let order = ints(results, "pp.synapse_pre");
    order
        .iter()
        .zip(&results.values("pp.weights"))
        .map(|(&j, &w)| ((t_post - t_pre[j as usize]) as f64, w - 0.5))
        .collect()
}

#[test]
fn cnsproject_flat_stdp_counts_the_window_with_the_current_step() {
    let results = run_with(
        &pairs_model(
            "{rule: flat_stdp, scheme: cnsproject, a_plus: 0.02, a_minus: 0.03, window: 5 ms, \
              w_max: 1, weight_decay: 1 Hz}",
        ),
        2,
    );
    let rule = Rule {
        window: 5,
        decay: 0.001,
        ..plain(0.02, 0.03)
    };
    check(&results, &rule);
    let w = results.values("pp.weights");
    let order = ints(&results, "pp.synapse_pre");
    // Pre at 16…20 potentiated, pre at 20…24 depressed (20: both), the rest only decayed.
    let moved = order
        .iter()
        .zip(&w)
        .filter(|&(_, &w)| (w - 0.5 * 0.999f64.powi(STEPS as i32)).abs() > 1e-6)
        .count();
    assert_eq!(moved, 9);
}

#[test]
fn cnsproject_rstdp_integrates_eligibility_and_dopamine_by_euler() {
    let mut r = vec![0.0; STEPS];
    r[25..35].iter_mut().for_each(|x| *x = 1.5);
    r[45..50].iter_mut().for_each(|x| *x = -0.5);
    let yaml = pairs_model(
        "{rule: rstdp, scheme: cnsproject, a_plus: 0.01, a_minus: 0.03, w_max: 1, tau_c: 8 ms, \
          weight_decay: 20 Hz, reward: {tau_d: 4 ms, schedule: [{start: 25 ms, stop: 35 ms, \
          value: 1.5}, {start: 45 ms, stop: 50 ms, value: -0.5}]}}",
    );
    let rule = Rule {
        decay: 0.02,
        reward: Some((8.0, 4.0, r)),
        ..plain(0.01, 0.03)
    };
    assert!(check(&run_with(&yaml, 2), &rule) > 30);
    // τ_c = dt (cnsproject's default): the eligibility is this step's change only.
    let yaml = pairs_model(
        "{rule: rstdp, scheme: cnsproject, a_plus: 0.01, a_minus: 0.03, w_max: 1, tau_c: 1 ms, \
          reward: {tau_d: 1 ms, schedule: [{start: 0 ms, stop: 60 ms, value: 1}]}}",
    );
    let rule = Rule {
        reward: Some((1.0, 1.0, vec![1.0; STEPS])),
        ..plain(0.01, 0.03)
    };
    assert_eq!(check(&run_with(&yaml, 1), &rule), 39);
}

#[test]
fn cnsproject_scheme_does_not_depend_on_the_thread_count() {
    // 2,100 targets: two blocks of target neurons.
    let yaml = "dt: 1 ms
duration: 80 ms
populations:
  X: {size: 40, model: poisson, neuron: {rate: 60 Hz}, trace: {tau: 10 ms, scale: 1.0}}
  E: {size: 2100, model: lif_psc_exp, trace: {tau: 10 ms, additive: false},
      initial: {v: random}}
projections:
  XE:
    pre: X
    post: E
    rule: {bernoulli: {p: 0.5}}
    weight: 300.0
    plasticity: {rule: rstdp, scheme: cnsproject, a_plus: 0.5, a_minus: 0.6, w_max: 600,
                 tau_c: 5 ms, weight_decay: 2 Hz, weight_dependence: soft_bound, gamma: 0.01,
                 reward: {tau_d: 2 ms, schedule: [{start: 20 ms, stop: 70 ms, value: 1}]}}
";
    let one = run_with(yaml, 1);
    let three = run_with(yaml, 3);
    assert_eq!(one.get("XE.weights"), three.get("XE.weights"));
    let w = one.values("XE.weights");
    assert!(
        w.iter().any(|&x| (x - 300.0).abs() > 1.0),
        "the weights learned"
    );
}

#[test]
fn what_the_cnsproject_scheme_needs_is_checked() {
    let base = "dt: 1 ms
duration: 10 ms
populations:
  A: {size: 2, model: lif_psc_exp, trace: {tau: 10 ms}}
  B: {size: 2, model: lif_psc_exp}
projections:
  AB: {pre: A, post: B, rule: all_to_all, weight: 1.0, plasticity: PLASTICITY}
";
    let error = |p: &str| build_error(&base.replace("PLASTICITY", p));
    let e = error("{rule: stdp, scheme: cnsproject, a_plus: 1, a_minus: 1, w_max: 2}");
    assert!(
        e.contains("projections.AB.plasticity.scheme") && e.contains("population `B` has no"),
        "{e}"
    );
    let e = error("{rule: stdp, a_plus: 1, a_minus: 1, w_max: 2, gamma: 0.2}");
    assert!(
        e.contains("plasticity.gamma") && e.contains("weight_dependence: soft_bound"),
        "{e}"
    );
    let e = error("{rule: stdp, a_plus: 1, a_minus: 1, w_max: 2, weight_decay: -1 Hz}");
    assert!(
        e.contains("plasticity.weight_decay") && e.contains("≥ 0"),
        "{e}"
    );
    let e = error("{rule: vogels_istdp, eta: 1, scheme: cnsproject}");
    assert!(
        e.contains("`scheme` is not a parameter of the `vogels_istdp`"),
        "{e}"
    );
    let e = error(
        "{rule: flat_rstdp, scheme: cnsproject, a_plus: 1, a_minus: 1, w_max: 2, tau_c: 0.5 ms, \
          reward: {schedule: []}}",
    );
    assert!(
        e.contains("plasticity.tau_c") && e.contains("forward Euler"),
        "{e}"
    );
    let e = error(
        "{rule: flat_stdp, scheme: cnsproject, a_plus: 1, a_minus: 1, w_max: 2, window: 3 ms, \
          weight_dependence: soft_bound, beta: -1}",
    );
    assert!(e.contains("plasticity.beta"), "{e}");
}
