//! `neuroxide sweep` and `merge`: a grid equals separate runs of its points with the same seed,
//! shards merged equal the unsharded sweep, errors are clear.

mod common;
use common::neuroxide;
use neuroxide::{ArrayData, NamedArray};
use std::path::{Path, PathBuf};

fn ok(args: &[&str]) -> String {
    let (code, out, err) = neuroxide(args);
    assert_eq!(code, 0, "neuroxide {args:?}\nstdout: {out}\nstderr: {err}");
    out
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neuroxide-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_model(dir: &Path, yaml: &str) -> String {
    let path = dir.join("model.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.to_string_lossy().into_owned()
}

fn arrays(dir: &Path) -> Vec<NamedArray> {
    neuroxide_io::read_npz(&dir.join("results.npz")).unwrap()
}

fn get<'a>(arrays: &'a [NamedArray], name: &str) -> &'a NamedArray {
    arrays
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no `{name}`"))
}

/// Lane `lane` of a per-lane array, as a one-lane array.
fn lane(a: &NamedArray, lane: usize) -> NamedArray {
    let per_lane = a.data.len() / a.shape[0];
    let range = lane * per_lane..(lane + 1) * per_lane;
    let data = match &a.data {
        ArrayData::F32(v) => ArrayData::F32(v[range].to_vec()),
        ArrayData::F64(v) => ArrayData::F64(v[range].to_vec()),
        ArrayData::I64(v) => ArrayData::I64(v[range].to_vec()),
    };
    let mut shape = a.shape.clone();
    shape[0] = 1;
    NamedArray {
        name: a.name.clone(),
        shape,
        data,
    }
}

/// A noisy E/I rate network: initial states and noise depend on the lane.
const RATE: &str = "
name: grid
dt: 0.5 ms
duration: 20 ms
transient: 5 ms
seed: 7
populations:
  E: {size: 200, tau: 20 ms, tau_syn: 3 ms, initial: {rate: {gaussian: {mean: 1, std: 0.5}}}}
  I: {size: 60, tau: 10 ms}
projections:
  EE: {pre: E, post: E, rule: {bernoulli: {k: 20}}, weight: 1.0}
  IE: {pre: E, post: I, rule: all_to_all, weight: 1.0}
  EI: {pre: I, post: E, rule: all_to_all, weight: -1.5}
inputs:
  drive: {target: E, constant: 1.0}
  noise: {target: E, noise: {std: 0.4}}
monitors:
  - {population: E, variable: rate, every: 1 ms, neurons: {range: [0, 10]}}
  - {population: I, variable: rate, window: 2 ms, neurons: none}
";

#[test]
fn a_two_key_grid_equals_separate_runs_with_the_same_seed() {
    let dir = scratch("grid");
    let model = write_model(&dir, RATE);
    let out = dir.join("sweep");
    ok(&[
        "sweep",
        &model,
        "--grid",
        "inputs.drive.constant=0.5:1.5:3",
        "--grid",
        "projections.EE.weight=[0.5, 2.0]",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let swept = arrays(&out);
    assert_eq!(get(&swept, "E.rate").shape, vec![6, 20, 10]);
    assert_eq!(
        get(&swept, "lane.inputs.drive.constant").data,
        ArrayData::F64(vec![0.5, 0.5, 1.0, 1.0, 1.5, 1.5])
    );
    assert_eq!(
        get(&swept, "lane.projections.EE.weight").data,
        ArrayData::F64(vec![0.5, 2.0, 0.5, 2.0, 0.5, 2.0])
    );
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "point",
            "inputs.drive.constant",
            "projections.EE.weight",
            "E.rate",
            "I.rate"
        ]
    );
    assert_eq!(rows.len(), 7);
    for point in 0..6 {
        let (drive, weight) = (["0.5", "1", "1.5"][point / 2], ["0.5", "2"][point % 2]);
        let single = dir.join(format!("point{point}"));
        ok(&[
            "run",
            &model,
            "--set",
            &format!("inputs.drive.constant={drive}"),
            "--set",
            &format!("projections.EE.weight={weight}"),
            "--set",
            &format!("lane_offset={point}"),
            "--out",
            single.to_str().unwrap(),
            "-q",
        ]);
        let alone = arrays(&single);
        for name in ["E.rate", "E.rate_mean", "I.rate_mean"] {
            assert_eq!(
                lane(get(&swept, name), point),
                *get(&alone, name),
                "{name} of point {point}"
            );
        }
        assert_eq!(get(&swept, "t"), get(&alone, "t"));
        assert_eq!(get(&swept, "I.rate_t"), get(&alone, "I.rate_t"));
        // The summary's mean rate is the time average of the population mean.
        let means = get(&alone, "E.rate_mean").data.to_f64();
        let expected = means.iter().sum::<f64>() / means.len() as f64;
        assert_eq!(rows[point + 1][0], point.to_string());
        assert_eq!(
            rows[point + 1][1].parse::<f64>().unwrap(),
            drive.parse::<f64>().unwrap()
        );
        assert_eq!(rows[point + 1][3].parse::<f64>().unwrap(), expected);
    }
    // The lanes differ from each other (the comparison above can fail).
    assert_ne!(
        lane(get(&swept, "E.rate"), 0).data,
        lane(get(&swept, "E.rate"), 1).data
    );
    // spec.yaml reruns the whole grid as one build.
    let rerun = dir.join("rerun");
    ok(&[
        "run",
        out.join("spec.yaml").to_str().unwrap(),
        "--out",
        rerun.to_str().unwrap(),
        "-q",
    ]);
    let again = arrays(&rerun);
    assert_eq!(get(&again, "E.rate"), get(&swept, "E.rate"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn keys_that_cannot_vary_per_lane_get_one_build_per_value() {
    let dir = scratch("structural");
    let model = write_model(&dir, RATE);
    let out = dir.join("sweep");
    let printed = ok(&[
        "sweep",
        &model,
        "--grid",
        "inputs.drive.constant=[1, 2]",
        "--grid",
        "populations.I.size=[40, 80]",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(printed.contains("2 build(s)"), "{printed}");
    let swept = arrays(&out);
    // The structural key is moved first: points (size, drive) = (40,1) (40,2) (80,1) (80,2).
    assert_eq!(
        get(&swept, "lane.populations.I.size").data,
        ArrayData::F64(vec![40.0, 40.0, 80.0, 80.0])
    );
    for (point, (size, drive)) in [(40, 1), (40, 2), (80, 1), (80, 2)].iter().enumerate() {
        let single = dir.join(format!("point{point}"));
        ok(&[
            "run",
            &model,
            "--set",
            &format!("populations.I.size={size}"),
            "--set",
            &format!("inputs.drive.constant={drive}"),
            "--set",
            &format!("lane_offset={point}"),
            "--out",
            single.to_str().unwrap(),
            "-q",
        ]);
        let alone = arrays(&single);
        for name in ["E.rate", "I.rate_mean"] {
            assert_eq!(
                lane(get(&swept, name), point),
                *get(&alone, name),
                "{name} {point}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn shards_equal_one_run(yaml: &str, grid: &[&str], tasks: usize, name: &str) {
    let dir = scratch(name);
    let model = write_model(&dir, yaml);
    let mut base = vec!["sweep", model.as_str()];
    for g in grid {
        base.extend(["--grid", g]);
    }
    let whole = dir.join("whole");
    let mut args = base.clone();
    args.extend(["--out", whole.to_str().unwrap(), "-q"]);
    ok(&args);
    let mut shard_dirs = Vec::new();
    // Shards run in reverse order: merge sorts them.
    for task in (0..tasks).rev() {
        let shard = dir.join(format!("shard{task}"));
        let (task, tasks) = (task.to_string(), tasks.to_string());
        let mut args = base.clone();
        args.extend([
            "--task-id",
            &task,
            "--num-tasks",
            &tasks,
            "--out",
            shard.to_str().unwrap(),
            "-q",
        ]);
        ok(&args);
        shard_dirs.push(shard.to_string_lossy().into_owned());
    }
    let merged = dir.join("merged");
    let mut args = vec!["merge"];
    args.extend(shard_dirs.iter().map(String::as_str));
    args.extend(["--out", merged.to_str().unwrap()]);
    ok(&args);
    assert_eq!(arrays(&merged), arrays(&whole));
    // spec.yaml's first line is a comment naming its own path.
    let text = |dir: &Path, file: &str| {
        let t = std::fs::read_to_string(dir.join(file)).unwrap();
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for file in ["summary.csv", "spec.yaml", "sweep.json", "model.yaml"] {
        assert_eq!(text(&merged, file), text(&whole, file), "{file}");
    }
    // A missing shard is refused.
    let (code, _, err) = neuroxide(&["merge", &shard_dirs[0], "--out", merged.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("missing"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rate_shards_merged_equal_the_unsharded_sweep() {
    shards_equal_one_run(
        RATE,
        &[
            "inputs.drive.constant=0.5:1.5:3",
            "projections.EE.weight=[0.5, 2.0]",
        ],
        4,
        "rate-shards",
    );
}

const SPIKING: &str = "
name: spiking
dt: 0.1 ms
duration: 50 ms
seed: 3
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
  - {population: E, variable: rate, window: 1 ms, neurons: none}
";

#[test]
fn spiking_shards_merged_equal_the_unsharded_sweep_and_the_summary_has_spike_statistics() {
    shards_equal_one_run(
        SPIKING,
        &["inputs.ext.poisson.rate=[8, 12, 16]"],
        2,
        "spiking-shards",
    );
    let dir = scratch("spiking-summary");
    let model = write_model(&dir, SPIKING);
    let out = dir.join("sweep");
    ok(&[
        "sweep",
        &model,
        "--grid",
        "inputs.ext.poisson.rate=[8, 16]",
        "--set",
        "duration=400ms",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "point",
            "inputs.ext.poisson.rate",
            "E.rate",
            "E.isi_cv",
            "E.synchrony"
        ]
    );
    let value = |r: usize, c: usize| rows[r][c].parse::<f64>().unwrap();
    assert!(value(2, 2) > value(1, 2), "more drive, more spikes: {csv}");
    for r in 1..3 {
        assert!(value(r, 3) > 0.0 && value(r, 3) < 2.0, "ISI CV: {csv}");
        assert!(value(r, 4) > 0.0, "synchrony: {csv}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_grids_and_shards_are_refused_with_clear_messages() {
    let dir = scratch("errors");
    let model = write_model(&dir, RATE);
    let out = dir.join("x");
    let out = out.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--grid", "inputs.drive.constant=1:2"], "start:stop:count"),
        (&["--grid", "inputs.drive.constant=1:2:x"], "whole number"),
        (
            &["--grid", "inputs.drive.constant=[1, a]"],
            "`a` is not a number",
        ),
        (
            &["--grid", "inputs.drive.constant"],
            "key.path=start:stop:count",
        ),
        (
            &[
                "--grid",
                "inputs.drive.constant=[1,2]",
                "--task-id",
                "2",
                "--num-tasks",
                "2",
            ],
            "below --num-tasks 2",
        ),
        (
            &["--grid", "inputs.drive.constant=[1,2]", "--num-tasks", "3"],
            "only 2 points",
        ),
        (&["--grid", "populations.X.tau=[1,2]"], "populations.X"),
        (
            &[
                "--grid",
                "inputs.drive.constant=0:1:1000",
                "--grid",
                "seed=0:99:100",
            ],
            "more than 65,536 points",
        ),
        (
            &[
                "--grid",
                "inputs.drive.constant=[1,2]",
                "--max-memory",
                "1kB",
            ],
            "would need",
        ),
        (
            &["--grid", "populations.E.tau=[-1, 2]"],
            "populations.E.tau",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["sweep", model.as_str(), "--out", out, "-q"];
        args.extend(extra.iter());
        let (code, _, err) = neuroxide(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(expected),
            "{args:?}: expected `{expected}` in: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_summary_measures_the_bump_of_a_ring_population() {
    let dir = scratch("ring");
    let ring = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/ring.yaml");
    let out = dir.join("sweep");
    ok(&[
        "sweep",
        ring,
        "--set",
        "duration=1s",
        "--set",
        "populations.E.size=200",
        "--grid",
        "inputs.cue.stimulus.phase=[0, 90, 180]",
        "--grid",
        "projections.EE.weight=[0, 1]",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "point",
            "inputs.cue.stimulus.phase",
            "projections.EE.weight",
            "E.rate",
            "E.bump_amplitude",
            "E.bump_drift",
            "I.rate"
        ]
    );
    let value = |r: usize, c: usize| rows[r][c].parse::<f64>().unwrap();
    for cue in 0..3 {
        let (without, with) = (1 + 2 * cue, 2 + 2 * cue);
        // Without recurrent excitation the bump fades after the cue; with it, it persists.
        assert!(
            value(with, 4) > 10.0 * value(without, 4).max(1e-9),
            "bump amplitude: {csv}"
        );
        assert!(
            value(with, 5) < 5.0,
            "a persistent bump barely drifts: {csv}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
