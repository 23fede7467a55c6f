//! `neuroxide train`: a training run, its rerun by `neuroxide run`, resuming from a checkpoint,
//! and clear errors for bad training files.

mod common;
use common::neuroxide;
use std::path::{Path, PathBuf};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("neuroxide-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SMALL: &str = "name: small
seed: 3
model:
  type: R
  size: 24
  eta: 0.2
  rho_recurrent: 1.2
  rho_output: 0.1
task:
  kind: decision
  steps: 30
  noise: 0.1
train:
  iterations: 40
  batch_size: 8
  lr: 1.0e-2
  validate_every: 10
  save_every: 20
";

fn write(d: &Path, name: &str, text: &str) -> String {
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn params(d: &Path) -> Vec<neuroxide::NamedArray> {
    neuroxide_io::read_npz(&d.join("params.npz")).unwrap()
}

#[test]
fn trains_writes_parameters_and_a_model_that_run_reruns() {
    let d = dir("rerun");
    let file = write(&d, "small.yaml", SMALL);
    let out = d.join("out");
    let (code, stdout, stderr) = neuroxide(&["train", &file, "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("iteration 10/40: loss"), "{stdout}");
    assert!(stdout.contains("accuracy"), "{stdout}");
    let names: Vec<String> = params(&out).into_iter().map(|a| a.name).collect();
    for n in ["recurrent", "readin", "readout", "bias", "bias_out", "eta"] {
        assert!(names.iter().any(|m| m == n), "{names:?}");
    }
    let run = d.join("run");
    let (code, _, stderr) = neuroxide(&[
        "run",
        out.join("model.yaml").to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let results = neuroxide_io::read_npz(&run.join("results.npz")).unwrap();
    let rates = results.iter().find(|a| a.name == "net.rate").unwrap();
    let expected = neuroxide_io::read_npy(&out.join("expected_rates.npy")).unwrap();
    assert_eq!(rates.shape, expected.shape);
    let (a, b) = (rates.data.to_f64(), expected.data.to_f64());
    let err = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-5, "rerun differs from the trainer by {err}");
    assert!(b.iter().any(|v| v.abs() > 0.1));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_resumed_run_ends_where_the_uninterrupted_one_does() {
    let d = dir("resume");
    let full = d.join("full");
    let file = write(&d, "small.yaml", SMALL);
    assert_eq!(
        neuroxide(&["train", &file, "--out", full.to_str().unwrap(), "-q"]).0,
        0
    );
    // Stop after the first checkpoint (20 iterations), then resume to 40.
    let half = write(
        &d,
        "half.yaml",
        &SMALL.replace("iterations: 40", "iterations: 20"),
    );
    let part = d.join("part");
    assert_eq!(
        neuroxide(&["train", &half, "--out", part.to_str().unwrap(), "-q"]).0,
        0
    );
    let (code, _, stderr) = neuroxide(&[
        "train",
        &file,
        "--out",
        part.to_str().unwrap(),
        "--resume",
        "-q",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(params(&full), params(&part));
    std::fs::remove_dir_all(&d).unwrap();
}

/// The batch is split into blocks of 16 lanes whatever the thread count, so the trained
/// parameters are the same bits on 1 and 3 threads (batch 40: three blocks).
#[test]
fn trained_parameters_do_not_depend_on_the_thread_count() {
    let d = dir("threads");
    let file = write(
        &d,
        "small.yaml",
        &SMALL
            .replace("batch_size: 8", "batch_size: 40")
            .replace("iterations: 40", "iterations: 6"),
    );
    let mut results = Vec::new();
    for threads in ["1", "3"] {
        let out = d.join(format!("t{threads}"));
        let (code, _, stderr) = neuroxide(&[
            "train",
            &file,
            "--out",
            out.to_str().unwrap(),
            "--threads",
            threads,
            "-q",
        ]);
        assert_eq!(code, 0, "{stderr}");
        results.push(params(&out));
    }
    assert_eq!(results[0], results[1]);
    std::fs::remove_dir_all(&d).unwrap();
}

fn error_of(name: &str, text: &str) -> String {
    let d = dir(name);
    let file = write(&d, "bad.yaml", text);
    let (code, _, stderr) = neuroxide(&["train", &file, "--out", d.join("o").to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    std::fs::remove_dir_all(&d).unwrap();
    stderr
}

#[test]
fn bad_training_files_give_clear_errors() {
    let e = error_of(
        "param",
        &SMALL.replace(
            "iterations: 40",
            "iterations: 40\n  parameters: [recurrent, tau]",
        ),
    );
    assert!(
        e.contains("bad.yaml:") && e.contains("`train.parameters`") && e.contains("got `tau`"),
        "{e}"
    );
    assert!(
        e.contains("recurrent, readin, readout, bias, bias_out, eta"),
        "{e}"
    );

    let e = error_of(
        "outputs",
        &SMALL.replace("  eta: 0.2", "  eta: 0.2\n  readout: 3"),
    );
    assert!(
        e.contains("bad.yaml:") && e.contains("`model.readout`") && e.contains("got `3 outputs`"),
        "{e}"
    );
    assert!(e.contains("the 1 outputs of task `decision`"), "{e}");

    let e = error_of("key", &SMALL.replace("  eta: 0.2", "  etta: 0.2"));
    assert!(
        e.contains("bad.yaml:6") && e.contains("unknown field `etta`"),
        "{e}"
    );

    let e = error_of("task", &SMALL.replace("kind: decision", "kind: decisions"));
    assert!(
        e.contains("`task.kind`") && e.contains("got `decisions`"),
        "{e}"
    );

    // An exploding identity network: the loss is not finite.
    let nan = SMALL
        .replace("  eta: 0.2", "  eta: 1.0\n  transfer: id")
        .replace("rho_recurrent: 1.2", "rho_recurrent: 40.0");
    let e = error_of("nan", &nan);
    assert!(e.contains("not finite") || e.contains("diverged"), "{e}");

    let e = error_of(
        "method",
        &SMALL.replace("  save_every: 20", "  save_every: 20\n  method: lasso"),
    );
    assert!(
        e.contains("bad.yaml:") && e.contains("`train.method`") && e.contains("bptt, ridge or rls"),
        "{e}"
    );
    let e = error_of(
        "alpha",
        &SMALL.replace("  save_every: 20", "  save_every: 20\n  alpha: 0.1"),
    );
    assert!(
        e.contains("`train.alpha`") && e.contains("method bptt"),
        "{e}"
    );
}

/// `train.method: ridge` fits the readout of the random network in closed form: the held-out
/// accuracy is far above chance, and the outputs are written as for BPTT.
#[test]
fn ridge_method_fits_the_readout() {
    let d = dir("ridge");
    let file = write(
        &d,
        "ridge.yaml",
        &SMALL
            .replace("iterations: 40", "iterations: 6")
            .replace("  save_every: 20", "  method: ridge\n  alpha: 1.0e-4"),
    );
    let out = d.join("out");
    let (code, stdout, stderr) = neuroxide(&["train", &file, "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("fitted the readout by ridge on 6 batches"),
        "{stdout}"
    );
    let json = std::fs::read_to_string(out.join("train.json")).unwrap();
    let score: f64 = json
        .lines()
        .find(|l| l.contains("held_out_score"))
        .and_then(|l| l.split(':').nth(1))
        .map(|v| v.trim().trim_end_matches(',').parse().unwrap())
        .unwrap();
    assert!(score > 0.8, "{json}");
    assert!(out.join("model.yaml").exists() && out.join("params.npz").exists());
    std::fs::remove_dir_all(&d).unwrap();
}
