//! `lane_offset`: a run of lanes `a..b` with `lane_offset: a` equals lanes `a..b` of the wider run,
//! bitwise (initial states, noise, random stimulus phases, Poisson counts): what sweep shards rely
//! on.

use neuroxide::{ArrayData, BuildOptions, NamedArray, Results, simulate};
use neuroxide_model::ModelFile;

fn run(yaml: &str, overrides: &[&str]) -> Results {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let spec = ModelFile::from_yaml(yaml, None, &overrides)
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
    let options = BuildOptions {
        threads: Some(2),
        base_dir: None,
    };
    simulate(&spec, &options).unwrap_or_else(|e| panic!("{e}"))
}

/// Lanes `first..first + count` of every per-lane array (spike rows renumbered from 0).
fn lanes_of(results: &Results, lanes: usize, first: usize, count: usize) -> Vec<NamedArray> {
    let mut out = Vec::new();
    for a in &results.arrays {
        if a.name.ends_with(".spikes") {
            let ArrayData::I64(rows) = &a.data else {
                panic!("{} is not int64", a.name)
            };
            let kept: Vec<i64> = rows
                .chunks_exact(3)
                .filter(|r| (first as i64..(first + count) as i64).contains(&r[0]))
                .flat_map(|r| [r[0] - first as i64, r[1], r[2]])
                .collect();
            out.push(NamedArray {
                name: a.name.clone(),
                shape: vec![kept.len() / 3, 3],
                data: ArrayData::I64(kept),
            });
        } else if a.shape.first() == Some(&lanes) && a.name != "t" && !a.name.ends_with("_t") {
            let per_lane = a.data.len() / lanes;
            let range = first * per_lane..(first + count) * per_lane;
            let data = match &a.data {
                ArrayData::F32(v) => ArrayData::F32(v[range].to_vec()),
                ArrayData::F64(v) => ArrayData::F64(v[range].to_vec()),
                ArrayData::I64(v) => ArrayData::I64(v[range].to_vec()),
            };
            let mut shape = a.shape.clone();
            shape[0] = count;
            out.push(NamedArray {
                name: a.name.clone(),
                shape,
                data,
            });
        } else {
            out.push(a.clone());
        }
    }
    out
}

const RATE: &str = "
dt: 0.5 ms
duration: 30 ms
transient: 5 ms
seed: 11
lanes: 5
populations:
  E: {size: 300, tau: 20 ms, tau_syn: 3 ms, initial: {rate: {gaussian: {mean: 1, std: 0.5}}, current: {gaussian: {mean: 0, std: 0.2}}}}
projections:
  EE: {pre: E, post: E, rule: {bernoulli: {k: 30}}, weight: 0.5}
inputs:
  noise: {target: E, noise: {std: 0.3}}
  cue: {target: E, stimulus: {amplitude: 1.0, random_phase: true, shape: {cosine: {sigma: 1.0}}}}
monitors:
  - {population: E, variable: rate, every: 1 ms}
";

#[test]
fn rate_lanes_with_an_offset_equal_the_same_lanes_of_a_wider_run() {
    let full = run(RATE, &[]);
    for (first, count) in [(1, 2), (2, 3), (3, 1)] {
        let part = run(
            RATE,
            &[&format!("lanes={count}"), &format!("lane_offset={first}")],
        );
        let expected = lanes_of(&full, 5, first, count);
        assert_eq!(
            part.arrays,
            expected,
            "lanes {first}..{} with lane_offset {first}",
            first + count
        );
    }
    // Without the offset the lanes differ (the test can fail).
    let unshifted = run(RATE, &["lanes=2"]);
    assert_ne!(unshifted.arrays, lanes_of(&full, 5, 1, 2));
}

const SPIKING: &str = "
dt: 0.1 ms
duration: 40 ms
seed: 3
lanes: 3
populations:
  E:
    size: 200
    model: lif_psc_exp
    initial: {v: random}
projections:
  EE: {pre: E, post: E, rule: {fixed_in_degree: {k: 20}}, weight: 20.0, delay: 1 ms}
inputs:
  ext: {target: E, poisson: {rate: 10 Hz, count: 200, weight: 100.0}}
monitors:
  - {population: E, variable: spikes}
  - {population: E, variable: v, every: 1 ms, neurons: {list: [0, 7]}}
";

#[test]
fn spiking_lanes_with_an_offset_equal_the_same_lanes_of_a_wider_run() {
    let full = run(SPIKING, &[]);
    let spikes = full.get("E.spikes").expect("spikes").shape[0];
    assert!(spikes > 50, "the network fires ({spikes} spikes)");
    let part = run(SPIKING, &["lanes=2", "lane_offset=1"]);
    assert_eq!(part.arrays, lanes_of(&full, 3, 1, 2));
    let unshifted = run(SPIKING, &["lanes=2"]);
    assert_ne!(unshifted.arrays, lanes_of(&full, 3, 1, 2));
}

#[test]
fn a_lane_offset_beyond_the_counters_is_refused() {
    let overrides: Vec<String> = vec!["lane_offset=65535".into()];
    let Err(errors) = ModelFile::from_yaml(SPIKING, None, &overrides) else {
        panic!("lane_offset + lanes above 65536 was accepted");
    };
    let error = errors.to_string();
    assert!(error.contains("lane_offset"), "{error}");
    assert!(error.contains("65536"), "{error}");
}
