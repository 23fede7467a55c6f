//! `run --save-state` / `run --initial-state`: a trial sequence as consecutive runs.

use std::path::PathBuf;
use std::process::Command;

fn neuroxide(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_neuroxide"))
        .args(args)
        .output()
        .expect("run neuroxide");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn last_frame(dir: &std::path::Path) -> Vec<f64> {
    let arrays = neuroxide_io::read_npz(&dir.join("results.npz")).unwrap();
    let rate = arrays.iter().find(|a| a.name == "E.rate").unwrap();
    let values = rate.data.to_f64();
    let n = rate.shape[2];
    values[values.len() - n..].to_vec()
}

#[test]
fn a_run_continues_from_the_saved_state_of_the_previous_one() {
    let tmp = std::env::temp_dir().join(format!("neuroxide-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let model =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/stp_working_memory.yaml");
    let model = model.to_string_lossy().into_owned();
    let small = ["--set", "populations.E.size=100", "--set", "lanes=1", "-q"];
    // Trial 1 with the cue; trial 2 without it, from trial 1's state: the bump is still there
    // (a fresh start without the cue has none).
    let one = tmp.join("one").to_string_lossy().into_owned();
    let mut args = vec!["run", &model, "--out", &one, "--save-state"];
    args.extend(small);
    assert_eq!(neuroxide(&args).0, 0);
    assert!(tmp.join("one/state.npz").is_file());
    let two = tmp.join("two").to_string_lossy().into_owned();
    let no_cue = ["--set", "inputs.cue.stimulus.amplitude=0"];
    let mut args = vec!["run", &model, "--out", &two, "--initial-state", &one];
    args.extend(small);
    args.extend(no_cue);
    let (code, stderr) = neuroxide(&args);
    assert_eq!(code, 0, "{stderr}");
    let fresh = tmp.join("fresh").to_string_lossy().into_owned();
    let mut args = vec!["run", &model, "--out", &fresh];
    args.extend(small);
    args.extend(no_cue);
    assert_eq!(neuroxide(&args).0, 0);
    let spread = |v: &[f64]| {
        v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min)
    };
    let carried = last_frame(&tmp.join("two"));
    assert!(spread(&carried) > 10.0, "no bump carried: {carried:?}");
    assert!(spread(&last_frame(&tmp.join("fresh"))) < 1e-3);
    // A state of another model is refused.
    let mut args = vec!["run", &model, "--out", &two, "--initial-state", &one];
    args.extend(["--set", "populations.E.size=50", "-q"]);
    let (code, stderr) = neuroxide(&args);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("--initial-state") && stderr.contains("rate.E.rate"),
        "{stderr}"
    );
}
