//! Memory-safe recording: the estimate refuses a run that would not fit; `--stream` writes the
//! per-neuron recordings to `.npy` files that stay valid when the run is interrupted (Ctrl-C) or
//! killed.

use neuroxide::{ArrayData, NamedArray};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neuroxide"))
}

fn neuroxide(args: &[&str]) -> (i32, String, String) {
    let output = bin().args(args).output().expect("run neuroxide");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neuroxide-rec-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_model(dir: &Path, yaml: &str) -> String {
    let path = dir.join("model.yaml");
    std::fs::write(&path, yaml).unwrap();
    path.to_string_lossy().into_owned()
}

fn array(dir: &Path, name: &str) -> NamedArray {
    neuroxide_io::read_npz(&dir.join("results.npz"))
        .unwrap()
        .into_iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no `{name}` in {}", dir.display()))
}

fn run_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

/// 40 neurons with noise, 200 ms, every neuron every 0.5 ms: 400 frames × 40 × 4 B = 64 kB.
const SMALL: &str = "
dt: 0.5 ms
duration: 200 ms
seed: 2
populations:
  E: {size: 40, tau: 10 ms}
inputs:
  noise: {target: E, noise: {std: 1.0}}
monitors:
  - {population: E, variable: rate, every: 0.5 ms}
";

#[test]
fn a_run_whose_recordings_do_not_fit_is_refused_before_it_starts() {
    let dir = scratch("refuse");
    let model = write_model(&dir, SMALL);
    let out = dir.join("out");
    let (code, _, err) = neuroxide(&[
        "run",
        &model,
        "--max-memory",
        "20kB",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    for expected in [
        "would need 0.1 MB",
        "limit is 0.0 MB (--max-memory)",
        "`window`",
        "--stream",
    ] {
        assert!(err.contains(expected), "`{expected}` in: {err}");
    }
    assert!(!out.exists(), "refused before anything was written");
    // A generous limit runs.
    let (code, printed, err) = neuroxide(&[
        "run",
        &model,
        "--max-memory",
        "1MB",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        printed.contains("recordings 0.1 MB (limit 1.0 MB"),
        "{printed}"
    );
    let (code, _, err) = neuroxide(&["run", &model, "--max-memory", "lots"]);
    assert_eq!(code, 2);
    assert!(err.contains("--max-memory lots"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn streamed_recordings_equal_the_in_memory_ones_and_fit_a_small_limit() {
    let dir = scratch("stream");
    let model = write_model(&dir, SMALL);
    let memory = dir.join("memory");
    let streamed = dir.join("streamed");
    let (code, _, err) = neuroxide(&["run", &model, "-q", "--out", memory.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = neuroxide(&[
        "run",
        &model,
        "-q",
        "--stream",
        "--max-memory",
        "20kB",
        "--out",
        streamed.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let in_memory = array(&memory, "E.rate");
    let file = neuroxide_io::read_npy(&streamed.join("E.rate.npy")).unwrap();
    assert_eq!(file.shape, vec![1, 400, 40]);
    assert_eq!(file.data, in_memory.data);
    assert_eq!(
        array(&streamed, "E.rate_mean"),
        array(&memory, "E.rate_mean")
    );
    let run = run_json(&streamed);
    assert_eq!(run["complete"], true);
    assert_eq!(
        run["streamed"]["E.rate"]["shape"],
        serde_json::json!([1, 400, 40])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Long enough to be stopped half-way: 10 neurons recorded every 1 ms for 500 s.
const LONG: &str = "
dt: 0.1 ms
duration: 500 s
seed: 4
lanes: 2
populations:
  E: {size: 50, tau: 10 ms}
inputs:
  noise: {target: E, noise: {std: 1.0}}
monitors:
  - {population: E, variable: rate, every: 1 ms, neurons: {range: [0, 10]}}
";

/// Start a run, wait until it records, send `signal`, return its exit code.
fn stop_half_way(args: &[&str], out: &Path, signal: i32) -> i32 {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // The build is quick; give the run a second of recording.
    while !out.join("run.json").exists() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended too early"
    );
    unsafe { libc::kill(child.id() as i32, signal) };
    let status = child.wait().unwrap();
    status.code().unwrap_or(-1)
}

/// The first `frames` frames of the same run, uninterrupted, in memory.
fn reference(model: &str, dir: &Path, frames: usize) -> NamedArray {
    let out = dir.join(format!("reference{frames}"));
    let (code, _, err) = neuroxide(&[
        "run",
        model,
        "-q",
        "--set",
        &format!("duration={frames}ms"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    array(&out, "E.rate")
}

#[test]
fn a_streamed_run_interrupted_half_way_keeps_its_data_readable() {
    let dir = scratch("interrupt-stream");
    let model = write_model(&dir, LONG);
    let out = dir.join("out");
    // The streamed run writes run.json before it starts.
    let args = ["run", &model, "--stream", "--out", out.to_str().unwrap()];
    let code = stop_half_way(&args, &out, libc::SIGINT);
    assert_eq!(code, 130, "Ctrl-C: exit status 130");
    let run = run_json(&out);
    assert_eq!(run["complete"], false);
    assert!(
        run["error"].as_str().unwrap().contains("interrupted"),
        "{run}"
    );
    let file = neuroxide_io::read_npy(&out.join("E.rate.npy")).unwrap();
    let frames = file.shape[1];
    assert!(frames > 10 && frames < 500_000, "{frames} frames");
    assert_eq!(file.shape, vec![2, frames, 10]);
    assert_eq!(
        run["streamed"]["E.rate"]["shape"],
        serde_json::json!([2, frames, 10])
    );
    // results.npz holds the same frames of the time axis and the means.
    assert_eq!(array(&out, "t").shape, vec![frames]);
    assert_eq!(array(&out, "E.rate_mean").shape, vec![2, frames]);
    // The frames are those of an uninterrupted run.
    assert_eq!(file.data, reference(&model, &dir, frames).data);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_in_memory_run_interrupted_half_way_writes_what_it_recorded() {
    let dir = scratch("interrupt-memory");
    let model = write_model(&dir, LONG);
    let out = dir.join("out");
    let mut child = bin()
        .args(["run", &model, "--out", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended too early"
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let run = run_json(&out);
    assert_eq!(run["complete"], false);
    let rates = array(&out, "E.rate");
    let frames = rates.shape[1];
    assert!(frames > 0, "frames recorded before the interruption");
    let ArrayData::F32(_) = &rates.data else {
        panic!("float32")
    };
    assert_eq!(rates.data, reference(&model, &dir, frames).data);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_streamed_run_that_is_killed_leaves_valid_files_marked_incomplete() {
    let dir = scratch("kill");
    let model = write_model(&dir, LONG);
    let out = dir.join("out");
    let args = ["run", &model, "--stream", "--out", out.to_str().unwrap()];
    let code = stop_half_way(&args, &out, libc::SIGKILL);
    assert_eq!(code, -1, "killed by a signal");
    let run = run_json(&out);
    assert_eq!(run["complete"], false);
    assert!(
        run["error"].as_str().unwrap().contains("not finished"),
        "{run}"
    );
    // Full shape; the frames written are there, the rest zeros.
    let file = neuroxide_io::read_npy(&out.join("E.rate.npy")).unwrap();
    assert_eq!(file.shape, vec![2, 500_000, 10]);
    let values = file.data.to_f64();
    assert!(
        values[..10].iter().any(|&v| v != 0.0),
        "the first frame was written"
    );
    assert!(
        values[values.len() / 2 - 10..values.len() / 2]
            .iter()
            .all(|&v| v == 0.0)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_streamed_recording_keeps_the_peak_memory_far_below_its_size() {
    // 1,000 neurons every step for 20,000 steps: 80 MB of float32 frames.
    let dir = scratch("peak");
    let model = write_model(
        &dir,
        "
dt: 0.1 ms
duration: 2 s
populations:
  E: {size: 1000, tau: 10 ms}
inputs:
  drive: {target: E, sine: {amplitude: 1.0, frequency: 5 Hz}}
monitors:
  - {population: E, variable: rate, every: 0.1 ms}
",
    );
    let out = dir.join("out");
    let (code, printed, err) =
        neuroxide(&["run", &model, "--stream", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(printed.contains("80.0 MB streamed"), "{printed}");
    let run = run_json(&out);
    let peak = run["peak_memory_bytes"]
        .as_u64()
        .expect("peak memory in run.json");
    assert!(
        peak < 40_000_000,
        "peak memory {peak} bytes for an 80 MB recording"
    );
    let size = std::fs::metadata(out.join("E.rate.npy")).unwrap().len();
    assert_eq!(size, 128 + 80_000_000);
    std::fs::remove_dir_all(&dir).unwrap();
}
