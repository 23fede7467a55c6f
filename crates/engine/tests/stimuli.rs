//! Task stimuli: per-lane random delays (uniform, from a list, shared by a group), vector
//! stimuli (low-rank vectors, vectors from a file), and their errors.

use neuroxide::{BuildOptions, Results, simulate};
use neuroxide_model::ModelFile;
use std::path::Path;

mod support;
use support::build_error as error_of;

fn run_in(yaml: &str, dir: Option<&Path>) -> Results {
    let file = dir.map(|d| d.join("model.yaml"));
    let model = ModelFile::from_yaml(yaml, file.as_deref(), &[]).unwrap_or_else(|e| panic!("{e}"));
    let options = BuildOptions {
        threads: Some(2),
        base_dir: model.base_dir(),
    };
    let spec = model.spec;
    simulate(&spec, &options).unwrap_or_else(|e| panic!("{e}"))
}

const DELAYS: &str = "
dt: 1 ms
duration: 100 ms
lanes: 6
seed: 5
precision: f64
populations:
  E: {size: 2}
inputs:
  cue:
    target: E
    stimulus: {amplitude: 1.0}
    start: 10 ms
    stop: 20 ms
    random_delay: {min: 0 ms, max: 30 ms, group: trial}
  test:
    target: E
    stimulus: {amplitude: 100.0}
    start: 50 ms
    stop: 55 ms
    random_delay: {min: 0 ms, max: 30 ms, group: trial}
  wave:
    target: E
    sine: {amplitude: 0.001, frequency: 10 Hz}
    start: 0 ms
    random_delay: {choices: [0 ms, 7 ms, 13 ms]}
monitors:
  - {population: E, variable: rate}
";

#[test]
fn random_delays_shift_each_lane_and_groups_share_them() {
    let results = run_in(DELAYS, None);
    let delay = results.values("cue.delay");
    assert_eq!(
        delay,
        results.values("test.delay"),
        "the group shares its draws"
    );
    let wave = results.values("wave.delay");
    assert!(
        wave.iter().all(|d| [0.0, 7.0, 13.0].contains(d)),
        "{wave:?}"
    );
    assert!(
        delay
            .iter()
            .all(|d| (0.0..30.0).contains(d) && d.fract() == 0.0)
    );
    // Different lanes draw different delays.
    assert!(delay.iter().any(|d| *d != delay[0]));
    let rate = results.values("E.rate");
    let (lanes, steps) = (6, 100);
    for l in 0..lanes {
        let d = delay[l] as usize;
        let w = wave[l] as usize;
        for s in 0..steps {
            // Recorded frame s is the state after step s, rates follow the input at once.
            let value = rate[(l * steps + s) * 2];
            let cue = if (10 + d..20 + d).contains(&s) {
                1.0
            } else {
                0.0
            };
            let test = if (50 + d..55 + d).contains(&s) {
                100.0
            } else {
                0.0
            };
            // The sine starts at its own delay with phase 0.
            let sine = if s >= w {
                0.001 * (std::f64::consts::TAU * 10.0 * (s - w) as f64 * 1e-3).sin()
            } else {
                0.0
            };
            let expected = (cue + test + sine).max(0.0);
            assert!(
                (value - expected).abs() < 1e-12,
                "lane {l}, step {s}: {value} vs {expected}"
            );
        }
    }
}

#[test]
fn vector_stimuli_are_low_rank_vectors_or_rows_of_a_file() {
    let dir = std::env::temp_dir().join(format!("neuroxide-vec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let odors = ndarray::Array2::from_shape_fn((3, 4), |(k, i)| (k * 10 + i) as f64);
    ndarray_npy::write_npy(dir.join("odors.npy"), &odors).unwrap();
    let yaml = "
dt: 1 ms
duration: 3 ms
precision: f64
populations:
  E: {size: 400}
  O: {size: 4, transfer: id}
projections:
  EE:
    pre: E
    post: E
    rule: all_to_all
    profile: {low_rank: {rank: 2, kappa: 0, base: 0, vectors: {gaussian: {}}}}
    weight: 1.0
inputs:
  sample:
    target: E
    stimulus: {amplitude: 2.0, shape: {vector: {low_rank: EE, side: n, index: 1, scale: 0.5}}}
  odor:
    target: O
    stimulus: {amplitude: -1.0, shape: {vector: {file: odors.npy, index: 2}}}
monitors:
  - {population: E, variable: input, every: 3 ms, decode: {bump: false, overlap: [{projection: EE}]}}
  - {population: O, variable: rate, every: 3 ms}
";
    let results = run_in(yaml, Some(&dir));
    assert_eq!(results.values("O.rate"), vec![-20.0, -21.0, -22.0, -23.0]);
    // Overlaps of the input (amplitude 2 · scale 0.5 · n_2) with (m_1, m_2, n_1, n_2): about
    // (0, 0, 0, 1) for independent unit-variance vectors of 400 neurons.
    let overlaps = results.values("E.input_overlap.EE");
    assert_eq!(overlaps.len(), 4);
    assert!((overlaps[3] - 1.0).abs() < 0.2, "{overlaps:?}");
    for &o in &overlaps[..3] {
        assert!(o.abs() < 0.2, "{overlaps:?}");
    }
}

#[test]
fn bad_delays_and_vectors_are_named() {
    let vector = "
dt: 1 ms
duration: 3 ms
populations:
  E: {size: 4}
projections:
  EE: {pre: E, post: E, rule: all_to_all, weight: 1.0}
inputs:
  s:
    target: E
    stimulus: {amplitude: 1.0, shape: {vector: VECTOR}}
";
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            DELAYS.replace(
                "{choices: [0 ms, 7 ms, 13 ms]}",
                "{min: 1 ms, choices: [0 ms]}",
            ),
            vec!["inputs.wave.random_delay", "not both"],
        ),
        (
            DELAYS.replacen(
                "{min: 0 ms, max: 30 ms, group: trial}",
                "{min: 10 ms, max: 5 ms}",
                1,
            ),
            vec!["inputs.cue.random_delay.max", "≥ min"],
        ),
        (
            DELAYS.replacen("{min: 0 ms, max: 30 ms, group: trial}", "{min: 10 ms}", 1),
            vec!["inputs.cue.random_delay", "both `min` and `max`"],
        ),
        (
            DELAYS.replace("{choices: [0 ms, 7 ms, 13 ms]}", "{choices: [-2 ms]}"),
            vec!["inputs.wave.random_delay.choices.0", "≥ 0"],
        ),
        (
            vector.replace("VECTOR", "{low_rank: EE}"),
            vec![
                "inputs.s.stimulus.shape.vector.low_rank",
                "no `low_rank` profile",
            ],
        ),
        (
            vector.replace("VECTOR", "{index: 0}"),
            vec!["inputs.s.stimulus.shape.vector", "one of them"],
        ),
        (
            vector.replace("VECTOR", "{file: nowhere.npy}"),
            vec!["inputs.s.stimulus.shape.vector.file", "nowhere.npy"],
        ),
    ];
    for (yaml, parts) in cases {
        let message = error_of(&yaml);
        for part in parts {
            assert!(message.contains(part), "`{part}` missing from: {message}");
        }
    }
}
