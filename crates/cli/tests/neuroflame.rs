//! `neuroxide run --from-neuroflame` and `neuroxide convert --from-neuroflame`: NeuroFlame
//! configs (tests/data/neuroflame, written from the spec's table) import and run, the keys not
//! honoured are listed, unknown keys and enabled unsupported features are clear errors.

mod common;
use common::neuroxide;
use neuroxide::{ArrayData, NamedArray};
use std::path::{Path, PathBuf};

fn data(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/neuroflame");
    root.join(name).to_string_lossy().into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neuroxide-nf-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn arrays(dir: &Path) -> Vec<NamedArray> {
    neuroxide_io::read_npz(&dir.join("results.npz")).unwrap()
}

fn get<'a>(arrays: &'a [NamedArray], name: &str) -> &'a NamedArray {
    arrays.iter().find(|a| a.name == name).unwrap()
}

/// config_2pop at a size for a debug build.
const SMALL_2POP: &[&str] = &[
    "--nf-set",
    "N_NEURON=1000",
    "--nf-set",
    "K=100",
    "--nf-set",
    "DURATION=0.2",
    "--nf-set",
    "T_STEADY=0.1",
];

#[test]
fn config_2pop_imports_runs_and_equals_its_converted_model() {
    let dir = scratch("2pop");
    let out = dir.join("run");
    let config = data("config_2pop.yml");
    let mut args = vec!["run", "--from-neuroflame", &config, "-q", "--out"];
    let out_s = out.to_string_lossy().into_owned();
    args.push(&out_s);
    args.extend_from_slice(SMALL_2POP);
    let (code, _, err) = neuroxide(&args);
    assert_eq!(code, 0, "{err}");
    let a = arrays(&out);
    let rate = get(&a, "E.rate");
    // NeuroFlame's E rates: (N_BATCH, frames, N_E), one frame per T_WINDOW.
    assert_eq!(rate.shape, vec![1, 2, 500]);
    let ArrayData::F64(mean) = &get(&a, "I.rate_mean").data else {
        panic!()
    };
    assert!(mean.iter().all(|r| r.is_finite() && *r > 0.0), "{mean:?}");

    // The warnings name every key not honoured.
    let model = dir.join("model.yaml");
    let model_s = model.to_string_lossy().into_owned();
    let mut args = vec!["convert", "--from-neuroflame", &config, "-o", &model_s];
    args.extend_from_slice(SMALL_2POP);
    let (code, _, err) = neuroxide(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("not honoured: DEVICE"), "{err}");
    let text = std::fs::read_to_string(&model).unwrap();
    assert!(text.contains("# not honoured: DEVICE"), "{text}");
    // The converted file runs to the same numbers.
    let out2 = dir.join("converted");
    let out2_s = out2.to_string_lossy().into_owned();
    let (code, _, err) = neuroxide(&["run", &model_s, "-q", "--out", &out2_s]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(arrays(&out2), a);
}

#[test]
fn neuroflame_frames_give_duration_over_window_plus_one_frames() {
    let dir = scratch("frames");
    let out = dir.to_string_lossy().into_owned();
    let config = data("config_2pop.yml");
    let mut args = vec![
        "run",
        "--from-neuroflame",
        &config,
        "--neuroflame-frames",
        "-q",
        "--out",
        &out,
    ];
    args.extend_from_slice(SMALL_2POP);
    let (code, _, err) = neuroxide(&args);
    assert_eq!(code, 0, "{err}");
    let a = arrays(&dir);
    assert_eq!(get(&a, "E.rate").shape, vec![1, 3, 500]);
}

#[test]
fn unknown_keys_and_enabled_unsupported_features_are_errors() {
    let dir = scratch("errors");
    let bad = dir.join("bad.yml");
    std::fs::write(&bad, "N_NEURON: 100\nIF_NMDA: 0\nTASK: None\nJ_EEE: 2\n").unwrap();
    let bad_s = bad.to_string_lossy().into_owned();
    let (code, _, err) = neuroxide(&["convert", "--from-neuroflame", &bad_s]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.yml:4:1: `J_EEE`: unknown NeuroFlame key `J_EEE`"),
        "{err}"
    );

    // NMDA is on by NeuroFlame's defaults: ignoring it would change the science.
    let nmda = dir.join("nmda.yml");
    std::fs::write(&nmda, "N_NEURON: 100\nK: 10\nTASK: None\nDURATION: 0.05\n").unwrap();
    let nmda_s = nmda.to_string_lossy().into_owned();
    let (code, _, err) = neuroxide(&["convert", "--from-neuroflame", &nmda_s]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`IF_NMDA`") && err.contains("not simulated"),
        "{err}"
    );
    let (code, _, err) = neuroxide(&[
        "convert",
        "--from-neuroflame",
        &nmda_s,
        "--allow-unsupported",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("not honoured: IF_NMDA"), "{err}");
    let (code, _, err) = neuroxide(&[
        "convert",
        "--from-neuroflame",
        &nmda_s,
        "--nf-set",
        "IF_NMDA=0",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn config_bal_ring_without_stp_imports_and_runs() {
    let dir = scratch("ring");
    let out = dir.to_string_lossy().into_owned();
    let config = data("config_bal_ring.yml");
    let (code, _, err) = neuroxide(&[
        "run",
        "--from-neuroflame",
        &config,
        "--nf-set",
        "IF_STP=0",
        "--nf-set",
        "DURATION=0.3",
        "--nf-set",
        "T_STEADY=0.1",
        "--nf-set",
        "N_NEURON=1000",
        "--out",
        &out,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("not honoured: RET_STP"), "{err}");
    assert_eq!(get(&arrays(&dir), "E.rate").shape, vec![1, 3, 800]);
}

/// Short-term plasticity: NeuroFlame 2024's `markram` (u⁺ = u + U(1 − u), u decaying to 0) is
/// neither of neuroxide's rules, so the default (2024) reading refuses it naming STP_TYPE; read as
/// HEAD's it imports as `markram` and runs, and STP changes the rates.
#[test]
fn config_bal_ring_with_stp_imports_and_runs() {
    let dir = scratch("ring-stp");
    let out = dir.to_string_lossy().into_owned();
    let config = data("config_bal_ring.yml");
    let (code, _, err) = neuroxide(&[
        "run",
        "--from-neuroflame",
        &config,
        "--nf-set",
        "DURATION=0.3",
        "--nf-set",
        "T_STEADY=0.1",
        "--nf-set",
        "N_NEURON=1000",
        "-q",
        "--out",
        &out,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("STP_TYPE")
            && err.contains("2024")
            && err.contains("--neuroflame-version head"),
        "{err}"
    );
    let small = [
        "--nf-set",
        "DURATION=0.3",
        "--nf-set",
        "T_STEADY=0.1",
        "--nf-set",
        "N_NEURON=1000",
        "--neuroflame-version",
        "head",
    ];
    let (code, model, err) =
        neuroxide(&[&["convert", "--from-neuroflame", &config], &small[..]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(model.contains("markram"), "{model}");
    let (code, _, err) = neuroxide(
        &[
            &["run", "--from-neuroflame", &config, "--out", &out],
            &small[..],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let with_stp = get(&arrays(&dir), "E.rate").clone();
    assert_eq!(with_stp.shape, vec![1, 3, 800]);
    let plain_dir = scratch("ring-stp-off");
    let plain_out = plain_dir.to_string_lossy().into_owned();
    let args = [
        &[
            "run",
            "--from-neuroflame",
            &config,
            "--nf-set",
            "IF_STP=0",
            "--out",
            &plain_out,
        ],
        &small[..],
    ]
    .concat();
    let (code, _, err) = neuroxide(&args);
    assert_eq!(code, 0, "{err}");
    let without = get(&arrays(&plain_dir), "E.rate").clone();
    assert_ne!(
        format!("{:?}", with_stp.data),
        format!("{:?}", without.data)
    );
}
