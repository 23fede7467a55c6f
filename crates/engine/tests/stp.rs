//! Short-term plasticity (Tsodyks–Markram): rate projections against NeuroFlame's update
//! equations written out here, spiking projections against the closed-form response to a
//! regular spike train, and bad settings.

use neuroxide::{BuildOptions, Results, simulate};
use neuroxide_model::{ModelFile, NetworkSpec};

mod support;
use support::build_error as error_of;

fn load(yaml: &str) -> NetworkSpec {
    ModelFile::from_yaml(yaml, None, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .spec
}

fn run(yaml: &str) -> Results {
    let options = BuildOptions {
        threads: Some(2),
        base_dir: None,
    };
    simulate(&load(yaml), &options).unwrap_or_else(|e| panic!("{e}"))
}

/// A rate neuron P driven by a sine (rates 10–50 Hz) projecting with STP onto Q, which follows
/// its input instantly.
fn rate_model(model: &str) -> String {
    format!(
        "
dt: 1 ms
duration: 2000 ms
precision: f64
populations:
  P: {{size: 1}}
  Q: {{size: 1}}
projections:
  PQ:
    pre: P
    post: Q
    rule: all_to_all
    weight: 2.0
    stp: {{model: {model}, U: 0.05, tau_rec: 200 ms, tau_fac: 1500 ms}}
inputs:
  drive:
    target: P
    sine: {{amplitude: 20, frequency: 2 Hz, offset: 30}}
monitors:
  - {{population: P, variable: rate}}
  - {{population: P, variable: stp_u}}
  - {{population: P, variable: stp_x}}
  - {{population: Q, variable: rate}}
"
    )
}

#[test]
fn rate_stp_follows_neuroflame_equations() {
    for (model, exponential) in [("markram", false), ("markram_exp", true)] {
        let results = run(&rate_model(model));
        let r = results.values("P.rate");
        let u = results.values("P.stp_u");
        let x = results.values("P.stp_x");
        let q = results.values("Q.rate");
        assert_eq!(u.len(), 2000);
        // NeuroFlame's update, with dt and τ in seconds and r in Hz; the rate of the step's start.
        let (dt, tau_d, tau_f, big_u): (f64, f64, f64, f64) = (1e-3, 0.2, 1.5, 0.05);
        let (mut uu, mut xx) = (big_u, 1.0);
        let mut max_err: f64 = 0.0;
        for k in 0..u.len() {
            let rate = if k == 0 { 0.0 } else { r[k - 1] };
            let (x_new, u_new) = if exponential {
                (
                    1.0 + (xx - 1.0) * (-dt / tau_d).exp() - dt * uu * xx * rate,
                    big_u + (uu - big_u) * (-dt / tau_f).exp() + dt * big_u * (1.0 - uu) * rate,
                )
            } else {
                (
                    xx + (1.0 - xx) * dt / tau_d - dt * uu * xx * rate,
                    uu + (big_u - uu) * dt / tau_f + dt * big_u * (1.0 - uu) * rate,
                )
            };
            xx = x_new;
            uu = u_new;
            max_err = max_err.max((u[k] - uu).abs()).max((x[k] - xx).abs());
            // Q = relu(w · u x r).
            let expected_q = 2.0 * uu * xx * rate;
            max_err = max_err.max((q[k] - expected_q).abs());
        }
        assert!(max_err < 1e-12, "{model}: max deviation {max_err}");
        // Facilitation builds up and resources are used: u well above U, x below 1.
        assert!(
            u[1999] > 0.3 && x[1999] < 0.5,
            "{model}: u {} x {}",
            u[1999],
            x[1999]
        );
    }
}

#[test]
fn rate_stp_is_carried_by_low_rank_and_sparse_operators_alike() {
    // A ring (factored operator, low-rank state) with STP on EE gives the same rates as the same
    // couplings read from a dense explicit operator.
    let yaml = "
dt: 1 ms
duration: 300 ms
precision: f64
populations:
  E: {size: 64, tau: 20 ms, initial: {rate: {constant: 5}}}
projections:
  EE:
    pre: E
    post: E
    rule: all_to_all
    profile: {cosine: {kappa: 1.5}}
    weight: 0.9
    stp: {U: 0.1, tau_rec: 100 ms, tau_fac: 500 ms}
inputs:
  cue:
    target: E
    stimulus: {amplitude: 2, phase: 90 deg, shape: {cosine: {sigma: 1}}}
    stop: 100 ms
  drive: {target: E, constant: 1.0}
monitors:
  - {population: E, variable: rate, every: 10 ms}
";
    let with_stp = run(yaml).values("E.rate");
    let without = run(&yaml.replace("    stp: {U: 0.1, tau_rec: 100 ms, tau_fac: 500 ms}\n", ""))
        .values("E.rate");
    let differs = with_stp
        .iter()
        .zip(&without)
        .any(|(a, b)| (a - b).abs() > 1e-3);
    assert!(differs, "STP changed nothing");
    // Same network with `tau_fac: 0`, `tau_rec: 0` and U = 1: u x r = r exactly.
    let neutral = run(&yaml.replace(
        "stp: {U: 0.1, tau_rec: 100 ms, tau_fac: 500 ms}",
        "stp: {U: 1, tau_rec: 0 ms, tau_fac: 0 ms}",
    ))
    .values("E.rate");
    for (a, b) in neutral.iter().zip(&without) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

/// Spike steps of neuron 0, lane 0.
fn spike_steps(results: &Results, population: &str) -> Vec<usize> {
    let rows = results.values(&format!("{population}.spikes"));
    rows.chunks_exact(3)
        .filter(|r| r[0] == 0.0 && r[2] == 0.0)
        .map(|r| r[1] as usize)
        .collect()
}

#[test]
fn spiking_stp_matches_the_closed_form_for_a_regular_train() {
    let (big_u, tau_f, tau_d, w, dt) = (0.1, 500.0, 150.0, 50.0, 0.1);
    let yaml = format!(
        "
dt: {dt} ms
duration: 600 ms
precision: f64
populations:
  P:
    size: 1
    model: lif_psc_exp
    neuron: {{tau_m: 10 ms, c_m: 250 pF, e_l: -70 mV, v_th: -55 mV, v_reset: -70 mV, t_ref: 0 ms, i_e: 600 pA}}
    initial: {{v: {{constant: -70}}}}
  Q:
    size: 1
    model: lif_psc_exp
    neuron: {{tau_m: 10 ms, c_m: 250 pF, e_l: -70 mV, v_th: 1000 mV, v_reset: -70 mV}}
    synapse: {{tau_exc: 5 ms}}
projections:
  PQ:
    pre: P
    post: Q
    rule: all_to_all
    weight: {w}
    stp: {{model: mato, U: {big_u}, tau_rec: {tau_d} ms, tau_fac: {tau_f} ms}}
monitors:
  - {{population: P, variable: spikes}}
  - {{population: P, variable: stp_u}}
  - {{population: P, variable: stp_x}}
  - {{population: Q, variable: g_exc}}
"
    );
    let results = run(&yaml);
    let steps = spike_steps(&results, "P");
    assert!(steps.len() > 20, "{} spikes", steps.len());
    let period = steps[1] - steps[0];
    assert!(
        steps.windows(2).all(|p| p[1] - p[0] == period),
        "irregular train {steps:?}"
    );
    // The first spike comes one period after the start (v starts at the reset value).
    let t = period as f64 * dt;
    let u_rec = results.values("P.stp_u");
    let x_rec = results.values("P.stp_x");
    let g = results.values("Q.g_exc");
    let q = (1.0 - big_u) * (-t / tau_f).exp();
    let u_inf = big_u / (1.0 - q);
    let ed = (-t / tau_d).exp();
    let x_inf = (1.0 - ed) / (1.0 - (1.0 - u_inf) * ed);
    let decay = (-dt / 5.0f64).exp();
    let mut x_minus = 1.0;
    for (n, &s) in steps.iter().enumerate() {
        let n1 = (n + 1) as i32;
        // u⁺ of spike n + 1 in closed form: u∞ (1 − qⁿ).
        let u_plus = u_inf * (1.0 - q.powi(n1));
        assert!(
            (u_rec[s] - u_plus).abs() < 1e-12,
            "spike {n}: u {} vs {u_plus}",
            u_rec[s]
        );
        let x_plus = x_minus * (1.0 - u_plus);
        assert!(
            (x_rec[s] - x_plus).abs() < 1e-12,
            "spike {n}: x {} vs {x_plus}",
            x_rec[s]
        );
        // Between spikes: exact decay of u to 0 and recovery of x to 1.
        let mid = s + period / 2;
        if mid < u_rec.len() {
            let elapsed = (period / 2) as f64 * dt;
            let u_mid = u_plus * (-elapsed / tau_f).exp();
            let x_mid = 1.0 - (1.0 - x_plus) * (-elapsed / tau_d).exp();
            assert!((u_rec[mid] - u_mid).abs() < 1e-12);
            assert!((x_rec[mid] - x_mid).abs() < 1e-12);
        }
        // The spike arrives one step later with weight w · u⁺ x⁻: the post current jumps by it
        // (the current after the step is (I + jump) e^{−dt/τ}).
        let arrival = s + 1;
        if arrival < g.len() {
            let jump = g[arrival] / decay - g[arrival - 1];
            let expected = w * u_plus * x_minus;
            assert!(
                (jump - expected).abs() < 1e-9,
                "spike {n}: jump {jump} vs {expected}"
            );
        }
        x_minus = 1.0 - (1.0 - x_plus) * ed;
    }
    // Steady state: the last spike's u⁺ and x⁻ are at their closed-form limits.
    let last = *steps.last().unwrap();
    assert!(
        (u_rec[last] - u_inf).abs() < 1e-3,
        "u {} vs u∞ {u_inf}",
        u_rec[last]
    );
    let x_before_last = x_rec[last] / (1.0 - u_rec[last]);
    assert!(
        (x_before_last - x_inf).abs() < 1e-3,
        "x⁻ {x_before_last} vs x∞ {x_inf}"
    );
}

const SPIKING_BASE: &str = "
dt: 0.1 ms
duration: 10 ms
populations:
  P: {size: 2, model: poisson, neuron: {rate: 10 Hz}}
  Q: {size: 2, model: lif_psc_exp}
projections:
  PQ:
    pre: P
    post: Q
    rule: all_to_all
    weight: 10
    stp: STP
";

#[test]
fn bad_stp_settings_are_named() {
    let rate = rate_model("markram");
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            rate.replace("U: 0.05", "U: 1.5"),
            vec!["projections.PQ.stp.U", "1.5", "(0, 1]"],
        ),
        (
            rate.replace("U: 0.05", "U: 0"),
            vec!["projections.PQ.stp.U", "(0, 1]"],
        ),
        (
            rate.replace("tau_rec: 200 ms", "tau_rec: -5 ms"),
            vec!["projections.PQ.stp.tau_rec", "-5", "≥ 0"],
        ),
        (
            rate.replace("tau_fac: 1500 ms", "tau_fac: 0.5 ms"),
            vec!["projections.PQ.stp.tau_fac", "above dt", "markram_exp"],
        ),
        (
            rate.replace("model: markram", "model: mato"),
            vec!["projections.PQ.stp.model", "mato", "rate population"],
        ),
        (
            rate.replace("model: markram", "model: hansel"),
            vec!["stp.model", "hansel"],
        ),
        (
            SPIKING_BASE.replace("STP", "{model: markram}"),
            vec![
                "projections.PQ.stp.model",
                "markram",
                "spiking population",
                "mato",
            ],
        ),
        (
            rate.replace(
                "population: P, variable: stp_u",
                "population: Q, variable: stp_u",
            ),
            vec![
                "monitors.1.variable",
                "stp_u",
                "no projection with `stp` leaves it",
            ],
        ),
        (
            rate.replace(
                "population: P, variable: stp_u",
                "population: P, variable: stp_u, projection: QQ",
            ),
            vec!["monitors.1.projection", "QQ", "PQ"],
        ),
        (
            rate.replace(
                "population: P, variable: rate",
                "population: P, variable: rate, projection: PQ",
            ),
            vec!["monitors.0.projection", "stp_u"],
        ),
    ];
    for (yaml, parts) in cases {
        let message = error_of(&yaml);
        for part in parts {
            assert!(message.contains(part), "`{part}` missing from: {message}");
        }
    }
}

#[test]
fn spiking_stp_defaults_to_mato_and_runs_from_poisson_sources() {
    let yaml = SPIKING_BASE.replace("STP", "{U: 0.2}")
        + "monitors:\n  - {population: P, variable: stp_u}\n  - {population: P, variable: stp_x}\n";
    let results = run(&yaml);
    let u = results.values("P.stp_u");
    let x = results.values("P.stp_x");
    assert!(u.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert!(x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    // Deterministic: the same seed gives the same bits for any thread count.
    let options = BuildOptions {
        threads: Some(1),
        base_dir: None,
    };
    let again = simulate(&load(&yaml), &options).unwrap();
    assert_eq!(again.values("P.stp_u"), u);
}

#[test]
fn state_carried_to_a_new_build_continues_the_dynamics() {
    // A ring with STP and a spiking pair with STP, no time-dependent input: one run of 400 ms
    // ends where two runs of 200 ms end when the second starts from the first one's state.
    let yaml = |duration: &str| {
        format!(
            "
dt: 1 ms
duration: {duration}
precision: f64
populations:
  E: {{size: 32, tau: 20 ms, initial: {{rate: {{gaussian: {{mean: 5, std: 2}}}}}}}}
  P: {{size: 1, model: lif_psc_exp, neuron: {{i_e: 600 pA, t_ref: 0 ms}}}}
  Q: {{size: 1, model: lif_psc_exp, neuron: {{v_th: 1000 mV}}}}
projections:
  EE:
    pre: E
    post: E
    rule: all_to_all
    profile: {{cosine: {{kappa: 1.5}}}}
    weight: 12.0
    stp: {{U: 0.05, tau_rec: 200 ms, tau_fac: 1500 ms}}
  EI: {{pre: E, post: E, rule: all_to_all, weight: -1.0}}
  PQ: {{pre: P, post: Q, rule: all_to_all, weight: 50, stp: {{U: 0.2}}}}
inputs:
  drive: {{target: E, constant: 1.0}}
monitors:
  - {{population: E, variable: rate, every: 200 ms}}
  - {{population: E, variable: stp_u, every: 200 ms}}
  - {{population: P, variable: stp_x, every: 200 ms}}
  - {{population: Q, variable: g_exc, every: 200 ms}}
"
        )
    };
    let options = BuildOptions::default();
    let whole = simulate(&load(&yaml("400 ms")), &options).unwrap();
    let mut first = neuroxide::AnySimulation::build(&load(&yaml("200 ms")), &options).unwrap();
    first.run().unwrap();
    let state = first.state();
    assert!(state.iter().any(|a| a.name.starts_with("stp.EE")));
    assert!(!state.iter().any(|a| a.name.starts_with("recorder.")));
    let mut second = neuroxide::AnySimulation::build(&load(&yaml("200 ms")), &options).unwrap();
    second.set_state(&state).unwrap();
    let continued = second.run().unwrap();
    for name in ["E.rate", "E.stp_u", "P.stp_x", "Q.g_exc"] {
        let w = whole.values(name);
        let c = continued.values(name);
        let per_frame = c.len();
        assert_eq!(&w[w.len() - per_frame..], &c[..], "{name}");
    }
    // A state of another model is refused, naming the array.
    let other = load(&yaml("200 ms").replace("size: 32", "size: 16"));
    let mut wrong = neuroxide::AnySimulation::build(&other, &options).unwrap();
    let message = wrong.set_state(&state).unwrap_err();
    assert!(message.contains("rate.E.rate"), "{message}");
}

/// Combinations refused since rate<->spiking couplings and long-term plasticity exist: STP or
/// plasticity on a coupling between a rate and a spiking population, STP with plasticity.
#[test]
fn stp_and_plasticity_on_unsupported_projections_are_named() {
    let mixed = "
dt: 0.1 ms
duration: 10 ms
populations:
  P: {size: 2, model: poisson, neuron: {rate: 10 Hz}}
  R: {size: 2, model: rate, transfer: id, tau: 10 ms}
projections:
  PR: {pre: P, post: R, rule: all_to_all, weight: 0.1, EXTRA}
";
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            mixed.replace("EXTRA", "stp: {model: mato}"),
            vec!["projections.PR.stp", "rate<->spiking"],
        ),
        (
            mixed.replace("EXTRA", "plasticity: {rule: hebbian}"),
            vec!["projections.PR.plasticity.rule", "hebbian", "rate<->spiking"],
        ),
        (
            SPIKING_BASE.replace(
                "stp: STP",
                "stp: {model: mato}\n    plasticity: {rule: stdp, a_plus: 1, a_minus: 1, w_max: 20}",
            ),
            vec!["projections.PQ.stp", "`stp` or `plasticity`"],
        ),
    ];
    for (yaml, parts) in cases {
        let message = error_of(&yaml);
        for part in parts {
            assert!(message.contains(part), "`{part}` missing from: {message}");
        }
    }
}
