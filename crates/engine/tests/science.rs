//! The rate engine against the science: analytic solutions, mean-field theory, balance theory.

use neuroxide::theory::{
    MeanFieldBlock, ThresholdLinearNetwork, balance_rates, threshold_linear_mean_field,
};
use neuroxide::{BuildOptions, Results, simulate};
use neuroxide_model::ModelFile;

fn run(yaml: &str, overrides: &[&str]) -> Results {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let model = ModelFile::from_yaml(yaml, None, &overrides).unwrap_or_else(|e| panic!("{e}"));
    simulate(&model.spec, &BuildOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

const DECAY: &str = "
dt: 0.1 ms
duration: 50 ms
precision: f64
method: exponential_euler
populations:
  A: {size: 3, transfer: id, tau: 10 ms, initial: {rate: {constant: 2.0}}}
monitors:
  - {population: A, variable: rate}
";

#[test]
fn uncoupled_population_decays_exponentially() {
    // Exponential Euler is exact for linear decay: r(t) = r0 e^{−t/τ} at every step.
    let results = run(DECAY, &[]);
    let t = results.values("t");
    let r = results.get("A.rate").unwrap();
    assert_eq!(r.shape, vec![1, 500, 3]);
    for (k, &time) in t.iter().enumerate() {
        let exact = 2.0 * (-time * 1e3 / 10.0).exp();
        for n in 0..3 {
            let v = r.at(&[0, k, n]);
            assert!(
                (v - exact).abs() <= 1e-12 * exact,
                "t={time}: {v} vs {exact}"
            );
        }
    }
    // Forward Euler gives the geometric sequence (1 − dt/τ)^n.
    let results = run(DECAY, &["method=euler"]);
    let r = results.values("A.rate_mean");
    for (k, v) in r.iter().enumerate() {
        let exact = 2.0 * (1.0f64 - 0.01).powi(k as i32 + 1);
        assert!(
            (v - exact).abs() <= 1e-12 * exact,
            "step {k}: {v} vs {exact}"
        );
    }
}

const TWO_POPULATIONS: &str = "
dt: 0.1 ms
duration: 200 ms
precision: f64
method: exponential_euler
seed: 3
populations:
  E: {size: 400, transfer: relu, threshold: 0.5, tau: 20 ms, tau_syn: 4 ms,
      initial: {rate: {gaussian: {mean: 2.0, std: 0.5}}, current: {constant: 1.0}}}
  I: {size: 100, transfer: relu, threshold: 0.2, gain: 1.5, tau: 10 ms, tau_syn: 2 ms,
      initial: {rate: {gaussian: {mean: 3.0, std: 1.0}}, current: {constant: 0.5}}}
projections:
  EE: {pre: E, post: E, rule: all_to_all, weight: 1.2}
  EI: {pre: I, post: E, rule: all_to_all, weight: -1.0}
  IE: {pre: E, post: I, rule: all_to_all, weight: 1.5}
  II: {pre: I, post: I, rule: all_to_all, weight: -0.8}
inputs:
  drive_E: {target: E, constant: 2.0}
  drive_I: {target: I, constant: 1.0}
monitors:
  - {population: E, variable: rate, neurons: none}
  - {population: I, variable: rate, neurons: none}
";

#[test]
fn all_to_all_network_equals_its_mean_field_equations() {
    // With uniform all-to-all couplings J/N every neuron of a population receives the same
    // input, so the population means obey the two-population equations exactly, whatever the
    // spread of initial rates (relu stays in its linear part here).
    let results = run(TWO_POPULATIONS, &[]);
    let (sim_e, sim_i) = (results.values("E.rate_mean"), results.values("I.rate_mean"));
    let dt: f64 = 0.1;
    let (ae, be) = ((-dt / 20.0).exp(), -(-dt / 20.0f64).exp_m1());
    let (ai, bi) = ((-dt / 10.0).exp(), -(-dt / 10.0f64).exp_m1());
    let (se, ce) = ((-dt / 4.0).exp(), -(-dt / 4.0f64).exp_m1());
    let (si, ci) = ((-dt / 2.0).exp(), -(-dt / 2.0f64).exp_m1());
    // Initial means of the sampled rates, as the network starts from them.
    let model = ModelFile::from_yaml(TWO_POPULATIONS, None, &[]).unwrap();
    let sim = neuroxide::Simulation::<f64>::build(&model.spec, &BuildOptions::default()).unwrap();
    let mut me = sim.rates("E").unwrap().iter().sum::<f64>() / 400.0;
    let mut mi = sim.rates("I").unwrap().iter().sum::<f64>() / 100.0;
    // One synaptic current per population (its projections share τ_syn), starting at its
    // initial total.
    let (mut current_e, mut current_i) = (1.0, 0.5);
    for k in 0..sim_e.len() {
        current_e = se * current_e + ce * (1.2 * me - 1.0 * mi);
        current_i = si * current_i + ci * (1.5 * me - 0.8 * mi);
        let phi_e = (current_e + 2.0 - 0.5f64).max(0.0);
        let phi_i = 1.5 * (current_i + 1.0 - 0.2f64).max(0.0);
        me = ae * me + be * phi_e;
        mi = ai * mi + bi * phi_i;
        assert!(
            (sim_e[k] - me).abs() < 1e-5 * me.abs().max(1.0),
            "step {k}: E {} vs {me}",
            sim_e[k]
        );
        assert!(
            (sim_i[k] - mi).abs() < 1e-5 * mi.abs().max(1.0),
            "step {k}: I {} vs {mi}",
            sim_i[k]
        );
    }
    assert!(
        me > 0.1 && mi > 0.1,
        "the test must stay in the active regime: {me} {mi}"
    );
}

/// The balanced network of examples/ei_balanced.yaml with `N_b = K/p`.
fn balanced(k: usize, p: f64, dt: f64, duration_ms: f64) -> String {
    let ne = (k as f64 / p).round() as usize;
    format!(
        "
dt: {dt} ms
duration: {duration_ms} ms
seed: 11
method: exponential_euler
populations:
  E: {{size: {ne}, tau: 20 ms, initial: {{rate: {{constant: 5.0}}}}}}
  I: {{size: {ne}, tau: 10 ms, initial: {{rate: {{constant: 10.0}}}}}}
projections:
  EE: {{pre: E, post: E, rule: {{bernoulli: {{k: {k}}}}}, weight: 1.0, tau_syn: 3 ms}}
  EI: {{pre: I, post: E, rule: {{bernoulli: {{k: {k}}}}}, weight: -1.5, tau_syn: 2 ms}}
  IE: {{pre: E, post: I, rule: {{bernoulli: {{k: {k}}}}}, weight: 1.0, tau_syn: 3 ms}}
  II: {{pre: I, post: I, rule: {{bernoulli: {{k: {k}}}}}, weight: -1.0, tau_syn: 2 ms}}
inputs:
  drive_E: {{target: E, balanced: {{k: {k}, m0: 5.0, j0: 2.0}}}}
  drive_I: {{target: I, balanced: {{k: {k}, m0: 5.0, j0: 1.0}}}}
monitors:
  - {{population: E, variable: rate, neurons: none, start: {start} ms}}
  - {{population: I, variable: rate, neurons: none, start: {start} ms}}
",
        start = duration_ms / 2.0
    )
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn theory(k: f64, p: f64) -> [f64; 2] {
    let j = [[1.0, -1.5], [1.0, -1.0]];
    let sk = k.sqrt();
    let net = ThresholdLinearNetwork {
        blocks: (0..2)
            .map(|a| {
                (0..2)
                    .map(|b| MeanFieldBlock {
                        weight: j[a][b] / sk,
                        in_degree: k,
                        probability: p,
                    })
                    .collect()
            })
            .collect(),
        external: vec![sk * 5.0 * 2.0, sk * 5.0],
        threshold: vec![0.0; 2],
        gain: vec![1.0; 2],
    };
    let s = threshold_linear_mean_field(&net, &[5.0, 10.0]).expect("mean-field solution");
    [s.rate[0], s.rate[1]]
}

#[test]
fn balanced_network_matches_mean_field_theory() {
    let (k, p) = (500, 0.125);
    let results = run(&balanced(k, p, 0.5, 300.0), &[]);
    let (e, i) = (
        mean(&results.values("E.rate_mean")),
        mean(&results.values("I.rate_mean")),
    );
    let [te, ti] = theory(k as f64, p);
    eprintln!("K={k}: simulated E {e:.4} I {i:.4}; theory E {te:.4} I {ti:.4}");
    assert!((e - te).abs() < 0.05 * te, "E: {e} vs theory {te}");
    assert!((i - ti).abs() < 0.05 * ti, "I: {i} vs theory {ti}");
}

#[test]
fn balanced_rates_approach_balance_like_one_over_sqrt_k() {
    let balance = balance_rates(&[vec![1.0, -1.5], vec![1.0, -1.0]], &[10.0, 5.0]).unwrap();
    let p = 0.5;
    let mut points = Vec::new();
    for k in [125, 500, 2000] {
        let results = run(&balanced(k, p, 1.0, 200.0), &[]);
        let (e, i) = (
            mean(&results.values("E.rate_mean")),
            mean(&results.values("I.rate_mean")),
        );
        let deviation = ((e - balance[0]).powi(2) + (i - balance[1]).powi(2)).sqrt();
        let [te, ti] = theory(k as f64, p);
        eprintln!(
            "K={k}: E {e:.4} I {i:.4} (theory {te:.4} {ti:.4}); distance to balance {deviation:.4}"
        );
        assert!(
            (e - te).abs() < 0.05 * te && (i - ti).abs() < 0.05 * ti,
            "K={k}: not at the mean-field rates"
        );
        points.push(((k as f64).ln(), deviation.ln()));
    }
    // Slope of log(deviation) against log(K): −1/2 for an O(1/√K) deviation.
    let n = points.len() as f64;
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let slope = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
        / points.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    eprintln!("slope {slope:.3}");
    assert!(
        (slope + 0.5).abs() < 0.12,
        "deviation from balance scales as K^{slope}, expected K^-0.5"
    );
}

fn example(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn low_rank_network_settles_on_its_mean_field_state() {
    // Vectors from a file, so the test knows them: m ~ N(0, 1), n = 2m + noise (σ_mn = 2).
    let n_neurons = 2000;
    let dir = std::env::temp_dir().join(format!("neuroxide-lowrank-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = neuroxide::rng::CounterRng::new(9, 1, 0);
    let m: Vec<f64> = (0..n_neurons).map(|_| rng.next_normal()).collect();
    let n: Vec<f64> = m
        .iter()
        .map(|x| 2.0 * x + 0.7 * rng.next_normal())
        .collect();
    let mut npz = ndarray_npy::NpzWriter::new(std::fs::File::create(dir.join("lr.npz")).unwrap());
    npz.add_array(
        "m",
        &ndarray::Array2::from_shape_vec((n_neurons, 1), m.clone()).unwrap(),
    )
    .unwrap();
    npz.add_array(
        "n",
        &ndarray::Array2::from_shape_vec((n_neurons, 1), n.clone()).unwrap(),
    )
    .unwrap();
    npz.finish().unwrap();
    let yaml = example("low_rank.yaml").replace(
        "vectors: {gaussian: {mean: [0.0, 0.0], covariance: [[1.0, 2.0], [2.0, 4.5]]}}",
        "vectors: {file: lr.npz}",
    );
    let model = ModelFile::from_yaml(
        &yaml,
        Some(&dir.join("model.yaml")),
        &["precision=f64".into()],
    )
    .unwrap();
    let options = BuildOptions {
        threads: None,
        base_dir: model.base_dir(),
    };
    let results = simulate(&model.spec, &options).unwrap();
    let rates = results.get("R.rate").unwrap();
    let last = rates.shape[1] - 1;
    let kappa_sim: f64 = (0..n_neurons)
        .map(|i| n[i] * rates.at(&[0, last, i]))
        .sum::<f64>()
        / n_neurons as f64;
    // The fixed point of the sampled network: κ = (1/N) Σ n_i tanh(m_i κ), κ ≠ 0 (bisection).
    let g = |k: f64| {
        (0..n_neurons)
            .map(|i| n[i] * (m[i] * k).tanh())
            .sum::<f64>()
            / n_neurons as f64
            - k
    };
    let (mut lo, mut hi) = (0.05, 10.0);
    assert!(g(lo) > 0.0 && g(hi) < 0.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if g(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let kappa = lo;
    eprintln!("κ simulated {kappa_sim:.6}, fixed point ±{kappa:.6}");
    assert!(
        (kappa_sim.abs() - kappa).abs() < 1e-4 * kappa,
        "{kappa_sim} vs ±{kappa}"
    );
    // Every neuron sits on the state tanh(m_i κ).
    for i in (0..n_neurons).step_by(97) {
        let expected = (m[i] * kappa_sim).tanh();
        assert!(
            (rates.at(&[0, last, i]) - expected).abs() < 1e-4,
            "neuron {i}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn random_network_is_chaotic_above_g_1_and_decays_below() {
    let yaml = example("random_rnn.yaml");
    // Distance between two runs whose initial rates differ by 1e-9 (same seed: same draws).
    let separation = |g: &str| {
        let run_from = |offset: &str| {
            let offset = format!("populations.R.initial.rate.gaussian.mean={offset}");
            run(
                &yaml,
                &[
                    "duration=3 s",
                    "dt=1 ms",
                    "populations.R.size=500",
                    "precision=f64",
                    g,
                    &offset,
                ],
            )
        };
        let (a, b) = (run_from("0.0"), run_from("1e-9"));
        let (ra, rb) = (a.values("R.rate"), b.values("R.rate"));
        let frame = 100; // neurons per frame
        let last = ra.len() - frame;
        let distance = (0..frame)
            .map(|i| (ra[last + i] - rb[last + i]).powi(2))
            .sum::<f64>()
            .sqrt();
        let activity = (0..frame).map(|i| ra[last + i].powi(2)).sum::<f64>().sqrt();
        (distance, activity)
    };
    let (distance, activity) = separation("projections.RR.weight=1.5");
    eprintln!("g = 1.5: separation {distance:.3e}, activity {activity:.3}");
    assert!(activity > 1.0, "g = 1.5 keeps fluctuating");
    // The initial distance is 1e-9·√100 = 1e-8; chaos amplifies it exponentially.
    assert!(distance > 1e-6, "nearby states separate (chaos)");
    let (distance, activity) = separation("projections.RR.weight=0.5");
    eprintln!("g = 0.5: separation {distance:.3e}, activity {activity:.3}");
    assert!(activity < 1e-3 && distance < 1e-9, "g = 0.5 decays to rest");
}
