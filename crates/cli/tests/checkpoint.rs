//! `run --checkpoint-every` and `resume`: a run resumed from its checkpoint ends with the results
//! of the uninterrupted run, bitwise (rate and spiking; also after Ctrl-C).

use neuroxide::NamedArray;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neuroxide"))
}

fn ok(args: &[&str]) -> String {
    let output = bin().args(args).output().expect("run neuroxide");
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert_eq!(output.status.code(), Some(0), "{args:?}\n{out}\n{err}");
    out
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neuroxide-ckpt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn arrays(dir: &Path) -> Vec<NamedArray> {
    neuroxide_io::read_npz(&dir.join("results.npz")).unwrap()
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

const RATE: &str = "
dt: 0.5 ms
duration: 40 ms
transient: 5 ms
seed: 9
lanes: 2
populations:
  E: {size: 200, tau: 20 ms, tau_syn: 3 ms, initial: {rate: {gaussian: {mean: 1, std: 0.5}}}}
projections:
  EE: {pre: E, post: E, rule: all_to_all, profile: {cosine: {kappa: 1.5}}, weight: 1.0}
inputs:
  noise: {target: E, noise: {std: 0.3}}
monitors:
  - {population: E, variable: rate, window: 3 ms, neurons: {range: [0, 20]}}
";

const SPIKING: &str = "
dt: 0.1 ms
duration: 30 ms
seed: 5
populations:
  E: {size: 300, model: lif_psc_alpha, initial: {v: random}}
projections:
  EE: {pre: E, post: E, rule: {fixed_in_degree: {k: 30}}, weight: 30.0, delay: 1 ms, delay_max: 2 ms}
inputs:
  ext: {target: E, poisson: {rate: 10 Hz, count: 200, weight: 120.0}}
monitors:
  - {population: E, variable: spikes}
  - {population: E, variable: v, every: 0.5 ms, neurons: {list: [0, 5]}}
";

fn resumed_equals_uninterrupted(yaml: &str, every: &str, name: &str) {
    let dir = scratch(name);
    let model = dir.join("model.yaml");
    std::fs::write(&model, yaml).unwrap();
    let model = model.to_str().unwrap();
    let plain = dir.join("plain");
    ok(&["run", model, "-q", "--out", plain.to_str().unwrap()]);
    let checkpointed = dir.join("checkpointed");
    ok(&[
        "run",
        model,
        "-q",
        "--checkpoint-every",
        every,
        "--out",
        checkpointed.to_str().unwrap(),
    ]);
    assert_eq!(
        arrays(&checkpointed),
        arrays(&plain),
        "checkpoints change nothing"
    );
    assert!(checkpointed.join("checkpoint.npz").exists());
    // Resume from the last checkpoint in a copy whose results are removed.
    let copy = dir.join("copy");
    copy_folder(&checkpointed, &copy);
    std::fs::remove_file(copy.join("results.npz")).unwrap();
    let printed = ok(&["resume", copy.to_str().unwrap(), "--threads", "1"]);
    assert!(printed.contains("resuming at step"), "{printed}");
    assert_eq!(arrays(&copy), arrays(&plain));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_resumed_rate_run_equals_the_uninterrupted_one() {
    resumed_equals_uninterrupted(RATE, "13ms", "rate");
}

#[test]
fn a_resumed_spiking_run_equals_the_uninterrupted_one() {
    resumed_equals_uninterrupted(SPIKING, "7.3ms", "spiking");
}

/// About three seconds of stepping.
const LONG: &str = "
dt: 0.1 ms
duration: 40 s
seed: 4
lanes: 2
populations:
  E: {size: 50, tau: 10 ms}
inputs:
  noise: {target: E, noise: {std: 1.0}}
monitors:
  - {population: E, variable: rate, every: 1 ms, neurons: {range: [0, 10]}}
";

#[test]
fn a_run_stopped_by_ctrl_c_resumes_to_the_uninterrupted_results() {
    let dir = scratch("sigint");
    let model = dir.join("model.yaml");
    std::fs::write(&model, LONG).unwrap();
    let model = model.to_str().unwrap();
    let out = dir.join("out");
    let mut child = bin()
        .args([
            "run",
            model,
            "--checkpoint-every",
            "10s",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !out.join("checkpoint.json").exists() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended too early"
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["complete"], false);
    ok(&["resume", out.to_str().unwrap(), "-q"]);
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["complete"], true);
    let plain = dir.join("plain");
    ok(&["run", model, "-q", "--out", plain.to_str().unwrap()]);
    assert_eq!(arrays(&out), arrays(&plain));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_checkpoint_settings_are_refused() {
    let dir = scratch("bad");
    let model = dir.join("model.yaml");
    std::fs::write(&model, RATE).unwrap();
    let model = model.to_str().unwrap();
    for (extra, expected) in [
        (&["--checkpoint-every", "0.1ms"][..], "at least one step"),
        (&["--checkpoint-every", "ten"][..], "--checkpoint-every ten"),
    ] {
        let mut args = vec!["run", model, "-q"];
        args.extend(extra);
        let output = bin().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "`{expected}` in {err}");
    }
    let output = bin()
        .args(["resume", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(err.contains("checkpoint.json"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_streamed_run_stopped_by_ctrl_c_resumes_into_its_files() {
    let dir = scratch("sigint-stream");
    let model = dir.join("model.yaml");
    std::fs::write(&model, LONG).unwrap();
    let model = model.to_str().unwrap();
    let out = dir.join("out");
    let mut child = bin()
        .args([
            "run",
            model,
            "--stream",
            "--checkpoint-every",
            "10s",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !out.join("checkpoint.json").exists() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended too early"
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let cut = neuroxide_io::read_npy(&out.join("E.rate.npy")).unwrap();
    assert!(
        cut.shape[1] < 40_000,
        "cut to the frames written: {:?}",
        cut.shape
    );
    ok(&["resume", out.to_str().unwrap(), "-q"]);
    let plain = dir.join("plain");
    ok(&["run", model, "-q", "--out", plain.to_str().unwrap()]);
    let file = neuroxide_io::read_npy(&out.join("E.rate.npy")).unwrap();
    let reference = arrays(&plain)
        .into_iter()
        .find(|a| a.name == "E.rate")
        .unwrap();
    assert_eq!(file.shape, reference.shape);
    assert_eq!(file.data, reference.data);
    let means = |d: &Path| {
        arrays(d)
            .into_iter()
            .find(|a| a.name == "E.rate_mean")
            .unwrap()
    };
    assert_eq!(means(&out), means(&plain));
    std::fs::remove_dir_all(&dir).unwrap();
}
