//! `neuroxide decode DIR`: the decoded arrays of a result folder, equal to those decoded during
//! the run, also for streamed recordings.

mod common;
use common::neuroxide;
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neuroxide-dec-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn array(path: &std::path::Path, name: &str) -> Vec<f64> {
    neuroxide_io::read_npz(path)
        .unwrap()
        .into_iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no {name} in {}", path.display()))
        .data
        .to_f64()
}

#[test]
fn decode_command_matches_the_decoding_of_the_run() {
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/odr_erase.yaml");
    let model = model.to_string_lossy();
    for stream in [false, true] {
        let out = scratch(if stream { "stream" } else { "memory" });
        let out_s = out.to_string_lossy();
        let mut args = vec![
            "run",
            &model,
            "--set",
            "populations.E.size=100",
            "--set",
            "lanes=2",
            "--set",
            "duration=2s",
            "--out",
            &out_s,
            "-q",
        ];
        if stream {
            args.push("--stream");
        }
        let (code, _, stderr) = neuroxide(&args);
        assert_eq!(code, 0, "{stderr}");
        let (code, stdout, stderr) = neuroxide(&["decode", &out_s]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("E.phase [2, 40]"), "{stdout}");
        let decoded = out.join("decoded.npz");
        let phase = array(&decoded, "E.phase");
        let cue = array(&out.join("results.npz"), "cue.phase");
        // The last frame (2 s, in the delay) holds each lane's cue.
        for (lane, c) in cue.iter().enumerate() {
            let p = phase[lane * 40 + 39];
            let d = (p - c).rem_euclid(360.0);
            assert!(d.min(360.0 - d) < 10.0, "lane {lane}: {p} vs cue {c}");
        }
        if !stream {
            // The run decoded the same frames.
            assert_eq!(phase, array(&out.join("results.npz"), "E.phase"));
        }
    }
    let (code, _, stderr) = neuroxide(&["decode", "/nonexistent-folder"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("nonexistent-folder"), "{stderr}");
}
