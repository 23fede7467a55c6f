//! NeuroFlame config import: a NeuroFlame YAML config (`conf/*.yml`) → a neuroxide model.
//!
//! NeuroFlame (`kiriclope/NeuroFlame`) reads `defaults.yml`, then the config, then keyword
//! overrides, and derives its constants from upper-case keys (spec: `shared/spec/neuroflame.md`
//! §3). [`translate`] does the same merge (built-in defaults from the spec's tables, then a
//! `defaults.yml` next to the config if there is one, then the config, then `KEY=value`
//! overrides) and writes the model those keys describe:
//!
//! - populations `E`, `I` (`P0`, `P1`, … for other `N_POP`) of `int(N_NEURON·frac)` rate
//!   neurons, transfer `TF_TYPE` with threshold `THRESH`, `TAU` if `RATE_DYN`, `TAU_SYN` if
//!   `SYN_DYN`, initial currents `N(0, 1)` and rates `Φ(ff + current)`;
//! - one projection per non-zero `Jab` block ([post][pre] order) with weight `GAIN·Jab`,
//!   Bernoulli in-degree `K_b` (`K·frac_b` with `FRAC_K`) and `J/√K_b` scaling, or all-to-all
//!   `J/N_b` (`J/√N_b` for `…dense` profiles); profiles from `PROBA_TYPE`/`KAPPA`/`PHASE`;
//! - short-term plasticity (`IF_STP`) on the flagged blocks as `stp: {model, U, tau_rec, tau_fac}`
//!   with weight `GAIN·J_STP` for E→E and `GAIN·J_STP·W_STP` for the others (2024's `markram`,
//!   with u⁺ = u + U(1 − u) and u decaying to 0, is neither neuroxide rule: unsupported);
//! - the feed-forward drive `Ja0·M0·√K_0` (balanced inputs; `BUMP_SWITCH` as a weak drive until
//!   the first stimulus), its noise per step (`√VAR_FF·M0²·√K_0`, `M0` with `LIVE_FF_UPDATE`),
//!   and the `odr`/`gauss` stimuli of `TASK` onto population 0 (and 1 with `STIM_EI`);
//! - `method: neuroflame_2024` (`x e^{−dt/τ} + u dt/τ`; `head`: exponential Euler), and monitors
//!   of window-averaged rates over `T_WINDOW`.
//!
//! Keys that do not change the numbers (device, verbosity, training bookkeeping, legacy keys)
//! are reported in [`Translation::warnings`]. Keys that would change the science if ignored —
//! an enabled feature neuroxide does not simulate yet (NMDA, adaptive threshold, FF dynamics,
//! rate noise, Hebbian plasticity, random delays, training, dual tasks, low-rank profiles, …) —
//! are errors, unless [`Options::allow_unsupported`] turns them into warnings. An unknown key is
//! always an error naming its line.

use crate::error::{SpecError, SpecErrors};
use crate::yaml_index::YamlIndex;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// Which NeuroFlame code the config is read as (spec §2: the two differ in their integrator).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Version {
    /// The README-era code of 2024: `x ← x e^{−dt/τ} + u dt/τ`.
    #[default]
    V2024,
    /// The code at HEAD (2026): exponential Euler `x ← x e^{−dt/τ} + u (1 − e^{−dt/τ})`.
    Head,
}

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "2024" => Ok(Version::V2024),
            "head" | "HEAD" => Ok(Version::Head),
            _ => Err(format!("got `{s}`, expected 2024 or head")),
        }
    }
}

/// How to translate.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub version: Version,
    /// Report enabled features neuroxide cannot simulate as warnings instead of errors.
    pub allow_unsupported: bool,
    /// Record NeuroFlame's frames: `DURATION/T_WINDOW + 1` windows, the first ending at t = 0
    /// (the transient is shortened and the recorded duration lengthened by one window, and every
    /// input time shifted by it, so the dynamics are unchanged).
    pub neuroflame_frames: bool,
}

/// A translated config.
#[derive(Clone, Debug)]
pub struct Translation {
    /// The neuroxide model (a model file's structure) as JSON.
    pub model: Value,
    /// Every key that was not honoured, with the reason.
    pub warnings: Vec<String>,
    /// The merged NeuroFlame keys (defaults, config, overrides).
    pub keys: Map<String, Value>,
}

impl Translation {
    /// The model as YAML text (JSON is YAML), headed by comments listing the warnings.
    pub fn to_yaml(&self, source: &str) -> String {
        let mut text = format!("# Translated from the NeuroFlame config {source} by neuroxide\n");
        for w in &self.warnings {
            text.push_str(&format!("# not honoured: {w}\n"));
        }
        text.push_str(&serde_json::to_string_pretty(&self.model).expect("JSON serialises"));
        text.push('\n');
        text
    }
}

/// What neuroxide does with a key.
#[derive(Copy, Clone, PartialEq)]
enum Kind {
    /// Translated.
    Used,
    /// No effect on the simulated numbers; a warning when set by the user.
    Ignored(&'static str),
    /// A feature switch: an error (or warning) when enabled.
    Feature(&'static str),
    /// A parameter of a feature (only read when the feature is on).
    Param,
}

use Kind::*;

const DEVICE: &str = "neuroxide runs on the CPU (threads: --threads)";
const LEGACY: &str = "a 2023 key NeuroFlame ignores";
const TRAIN: &str = "training is not simulated by a run";
const RECORD: &str = "extra NeuroFlame outputs; add monitors instead (current, input)";

/// Every key of NeuroFlame's configs (spec §3), with its default and what is done with it.
fn keys() -> Vec<(&'static str, Value, Kind)> {
    vec![
        // 3.2 General and time
        ("VERBOSE", json!(0), Ignored("printing only")),
        ("DEVICE", json!("cuda:1"), Ignored(DEVICE)),
        ("FLOAT_PRECISION", json!(32), Used),
        ("SEED", json!(1), Used),
        ("N_BATCH", json!(1), Used),
        ("DT", json!(0.01), Used),
        ("DURATION", json!(6), Used),
        ("T_STEADY", json!(1.0), Used),
        ("T_WINDOW", json!(0.1), Used),
        // 3.3 Stimuli and task
        ("TASK", json!("dual"), Used),
        ("T_STIM_ON", json!([1, 3, 5]), Used),
        ("T_STIM_OFF", json!([2, 4, 6]), Used),
        ("I0", json!([0.2, 0, 0]), Used),
        ("PHI0", json!([180, 90, 0]), Used),
        ("PHI1", Value::Null, Ignored("unused by NeuroFlame")),
        ("SIGMA0", json!([1, 1, 1]), Used),
        ("STIM_EI", json!(0), Used),
        ("BUMP_SWITCH", json!([0, 0]), Used),
        (
            "RANDOM_DELAY",
            json!(0),
            Feature("per-trial random stimulus delays"),
        ),
        ("DELAY_LIST", json!("rand"), Param),
        ("MIN_DELAY", json!(1), Param),
        ("MAX_DELAY", json!(2), Param),
        (
            "RANDOM_ITI",
            json!(0),
            Feature("random inter-trial intervals"),
        ),
        ("ITI_LIST", json!("rand"), Param),
        ("MIN_ITI", json!(1), Param),
        ("MAX_ITI", json!(2), Param),
        ("REP_BIAS", json!(0), Feature("the repulsive phase bias")),
        ("REP_VAR", json!(1), Param),
        ("GRID_SIZE", json!(30), Param),
        ("GRID_RANGE", json!(5), Param),
        ("GRID_TEST", json!(0), Param),
        (
            "GRID_INPUT",
            json!(0),
            Feature("flow-field grid inputs (dual_flow)"),
        ),
        // 3.4 Network and transfer function
        ("N_POP", json!(2), Used),
        ("N_NEURON", json!(2000), Used),
        ("K", json!(200), Used),
        ("FRAC_K", json!(0), Used),
        ("frac", json!([0.8, 0.2]), Used),
        (
            "V_THRESH",
            json!(-50),
            Ignored("used by NeuroFlame's LIF variant only"),
        ),
        (
            "V_REST",
            json!(-70),
            Ignored("used by NeuroFlame's LIF variant only"),
        ),
        ("TF_TYPE", json!("relu"), Used),
        ("THRESH", json!([1, 1]), Used),
        // 3.5 Dynamics, adaptation and plasticity
        ("RATE_DYN", json!(0), Used),
        ("TAU", json!([0.04, 0.04]), Used),
        ("RATE_NOISE", json!(0), Feature("rate noise (RATE_NOISE)")),
        ("VAR_RATE", json!(1), Param),
        ("SYN_DYN", json!(1), Used),
        ("TAU_SYN", json!([0.2, 0.1]), Used),
        (
            "IF_NMDA",
            json!(1),
            Feature("the slow NMDA current (IF_NMDA)"),
        ),
        ("R_NMDA", json!(1.0), Param),
        ("TAU_NMDA", json!([0.4, 0.4]), Param),
        (
            "IF_ADAPT",
            json!(0),
            Feature("the adaptive threshold (IF_ADAPT)"),
        ),
        ("A_ADAPT", json!(0.01), Param),
        ("TAU_ADAPT", json!(50), Param),
        ("IF_STP", json!(0), Used),
        ("IS_STP", json!([1, 0, 0, 0]), Used),
        ("USE", json!(0.03), Used),
        ("TAU_FAC", json!(1.0), Used),
        ("TAU_REC", json!(0.2), Used),
        ("J_STP", json!(10), Used),
        ("STP_TYPE", json!("markram"), Used),
        ("W_STP", Value::Null, Used),
        (
            "IF_FF_STP",
            json!(0),
            Feature("short-term plasticity of the FF input (IF_FF_STP)"),
        ),
        ("FF_USE", json!(0.3), Param),
        ("TAU_FF_FAC", json!(0.2), Param),
        ("TAU_FF_REC", json!(1), Param),
        ("TEST_I_STP", json!(0), Ignored("unused by NeuroFlame")),
        // 3.6 Feed-forward input and coupling
        ("LIVE_FF_UPDATE", json!(0), Used),
        ("Ja0", json!([2, 1]), Used),
        ("M0", json!(2.0), Used),
        ("VAR_FF", json!([0, 0]), Used),
        (
            "IF_FF_ADAPT",
            json!(0),
            Feature("FF adaptation (IF_FF_ADAPT)"),
        ),
        ("A_FF_ADAPT", json!(0.1), Param),
        ("TAU_FF_ADAPT", json!(150), Param),
        (
            "IF_FF_DYN",
            json!(0),
            Feature("the FF low-pass filter (IF_FF_DYN)"),
        ),
        ("TAU_FF", json!(0.2), Param),
        ("GAIN", json!(0.5), Used),
        ("Jab", json!([1, -1.5, 1, -1]), Used),
        (
            "IF_BATCH_J",
            json!(0),
            Feature("the batched J_EE sweep (IF_BATCH_J; use a sweep of projections.EE.weight)"),
        ),
        // 3.7 Connectivity and low rank
        (
            "SPARSE",
            Value::Null,
            Ignored("a storage format; neuroxide picks its own operators"),
        ),
        ("CON_TYPE", json!("sparse"), Used),
        ("PROBA_TYPE", json!(["", "", "", ""]), Used),
        ("KAPPA", json!(0), Used),
        ("PHASE", json!(0), Used),
        (
            "SIGMA",
            json!(0),
            Ignored("unused by NeuroFlame (commented out)"),
        ),
        ("RANK", json!(2), Param),
        ("LR_MEAN", Value::Null, Param),
        ("LR_COV", Value::Null, Param),
        // 3.8 Training and Hebbian plasticity
        (
            "LR_TRAIN",
            json!(0),
            Feature("trainable low-rank weights (LR_TRAIN)"),
        ),
        ("LR_MN", json!(1), Param),
        ("LR_INI", json!(0.001), Param),
        ("LR_UeqV", json!(1), Param),
        ("LR_NORM", json!(0), Param),
        ("LR_CLAMP", json!(0), Param),
        ("LR_READOUT", json!(0), Param),
        ("LR_CLASS", json!(1), Param),
        ("LR_BIAS", json!(1), Param),
        ("LR_FIX_READ", json!(0), Param),
        ("LR_KAPPA", json!(0), Param),
        ("LR_MASK", json!(0), Ignored(LEGACY)),
        ("LR_GAUSS", json!(0), Ignored(LEGACY)),
        ("LR_TYPE", Value::Null, Ignored(LEGACY)),
        ("TRAIN_SCALE", Value::Null, Ignored(LEGACY)),
        ("DROP_RATE", json!(0), Ignored(TRAIN)),
        (
            "ODR_TRAIN",
            json!(0),
            Feature("the trainable E–E perturbation (ODR_TRAIN)"),
        ),
        (
            "TRAIN_EI",
            json!(0),
            Feature("the trainable masked perturbation (TRAIN_EI)"),
        ),
        ("IS_TRAIN", Value::Null, Param),
        ("CLAMP", json!(0), Param),
        (
            "IF_OPTO",
            json!(0),
            Feature("optogenetic silencing (IF_OPTO)"),
        ),
        ("N_OPTO", json!(25), Param),
        ("IF_RL", json!(0), Feature("the reward input (IF_RL)")),
        ("RWD", json!(-1), Param),
        ("TRAINING", json!(0), Ignored(TRAIN)),
        ("SAVE_PATH", Value::Null, Ignored("results go to --out")),
        ("LR_EVAL_WIN", Value::Null, Ignored(TRAIN)),
        ("IF_HEBB", json!(0), Feature("Hebbian plasticity (IF_HEBB)")),
        ("IS_HEBB", json!([1, 1, 1, 1]), Param),
        ("HEBB_TYPE", json!("bcm"), Param),
        ("ETA", json!(0.1), Param),
        ("TAU_HEBB", json!(1), Param),
        ("T_HEBB", json!(0), Param),
        ("HEBB_FRAC", json!(0.3), Param),
        // Recording
        ("RET_REC", json!(0), Ignored(RECORD)),
        ("RET_STP", json!(0), Ignored(RECORD)),
        ("RET_FF", json!(0), Ignored(RECORD)),
        ("REC_LAST_ONLY", json!(0), Ignored(RECORD)),
        // 3.9 Legacy keys
        ("SAVE_DATA", Value::Null, Ignored(LEGACY)),
        ("T_STIM", Value::Null, Ignored(LEGACY)),
        ("T_DIST", Value::Null, Ignored(LEGACY)),
        ("T_CUE", Value::Null, Ignored(LEGACY)),
        ("T_TEST", Value::Null, Ignored(LEGACY)),
        ("I1", Value::Null, Ignored(LEGACY)),
        ("SIGMA1", Value::Null, Ignored(LEGACY)),
        ("FF_DYN", Value::Null, Ignored(LEGACY)),
        ("THRESH_DYN", Value::Null, Ignored(LEGACY)),
        ("TAU_THRESH", Value::Null, Ignored(LEGACY)),
        ("CONNECTIVITY", Value::Null, Ignored(LEGACY)),
        ("STRUCTURE", Value::Null, Ignored(LEGACY)),
        ("WELLS", Value::Null, Ignored(LEGACY)),
        ("DPHI", Value::Null, Ignored(LEGACY)),
        ("IF_LEARNING", Value::Null, Ignored(LEGACY)),
        ("IF_LOAD_MAT", Value::Null, Ignored(LEGACY)),
        ("IF_SAVE_MAT", Value::Null, Ignored(LEGACY)),
        ("IF_W_BLOCKS", Value::Null, Ignored(LEGACY)),
    ]
}

/// Where a key's value came from, for error positions.
#[derive(Clone)]
enum Origin {
    Default,
    File(PathBuf, YamlIndex),
    Override,
}

struct Merged {
    values: Map<String, Value>,
    origin: Vec<(String, usize)>,
    sources: Vec<Origin>,
    errors: Vec<SpecError>,
}

impl Merged {
    fn error(&self, key: &str, message: String) -> SpecError {
        let mut e = SpecError::new(key, message);
        let source = self
            .origin
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, s)| &self.sources[*s]);
        match source {
            Some(Origin::File(path, index)) => {
                e.file = Some(path.clone());
                if let Some((line, column)) = index.locate(key) {
                    e.line = Some(line);
                    e.column = Some(column);
                }
            }
            Some(Origin::Override) => e.message.push_str(" (set by an override)"),
            _ => {}
        }
        e
    }

    /// Whether the user (a file or an override) set the key.
    fn set_by_user(&self, key: &str) -> bool {
        self.origin
            .iter()
            .any(|(k, s)| k == key && !matches!(self.sources[*s], Origin::Default))
    }

    fn add(&mut self, map: Map<String, Value>, origin: Origin, known: &[&str]) {
        let source = self.sources.len();
        self.sources.push(origin);
        for (key, value) in map {
            if !known.contains(&key.as_str()) {
                let near = known
                    .iter()
                    .filter(|k| k.eq_ignore_ascii_case(&key) || edit_distance(k, &key) <= 2)
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>();
                let hint = if near.is_empty() {
                    String::new()
                } else {
                    format!("; did you mean {}?", near.join(" or "))
                };
                self.origin.push((key.clone(), source));
                let e = self.error(&key, format!("unknown NeuroFlame key `{key}`{hint}"));
                self.errors.push(e);
                continue;
            }
            self.origin.push((key.clone(), source));
            self.values.insert(key, value);
        }
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut prev = row[0];
        row[0] = i;
        for j in 1..=b.len() {
            let cur = row[j];
            row[j] = (row[j] + 1)
                .min(row[j - 1] + 1)
                .min(prev + usize::from(a[i - 1] != b[j - 1]));
            prev = cur;
        }
    }
    row[b.len()]
}

fn parse_map(text: &str, file: Option<&Path>) -> Result<Map<String, Value>, SpecErrors> {
    let located = |message: String| {
        SpecErrors::one(SpecError {
            file: file.map(Path::to_path_buf),
            ..SpecError::new("", message)
        })
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_saphyr::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(other) => Err(located(format!(
            "expected a NeuroFlame config (a mapping of upper-case keys), got `{other}`"
        ))),
        Err(e) => Err(located(format!("not a YAML mapping: {e}"))),
    }
}

/// Read a NeuroFlame config file and translate it (see the module docs). `overrides` are
/// `KEY=value` (value in YAML), applied last like NeuroFlame's keyword arguments.
pub fn translate_file(
    path: &Path,
    overrides: &[String],
    options: &Options,
) -> Result<Translation, SpecErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        SpecErrors::one(SpecError {
            file: Some(path.to_path_buf()),
            ..SpecError::new("", format!("cannot read the NeuroFlame config: {e}"))
        })
    })?;
    let defaults = path.parent().map(|d| d.join("defaults.yml"));
    let defaults = defaults.filter(|d| d.is_file() && d.as_path() != path);
    let mut t = translate(&text, Some(path), defaults.as_deref(), overrides, options)?;
    if let Some(stem) = path.file_stem() {
        t.model["name"] = Value::String(stem.to_string_lossy().into_owned());
    }
    Ok(t)
}

/// Translate config `text` (from `file`, if any), merged over NeuroFlame's defaults (and over
/// the file `defaults`, NeuroFlame's `conf/defaults.yml`, if given).
pub fn translate(
    text: &str,
    file: Option<&Path>,
    defaults: Option<&Path>,
    overrides: &[String],
    options: &Options,
) -> Result<Translation, SpecErrors> {
    let table = keys();
    let known: Vec<&str> = table.iter().map(|(k, _, _)| *k).collect();
    let mut merged = Merged {
        values: Map::new(),
        origin: Vec::new(),
        sources: Vec::new(),
        errors: Vec::new(),
    };
    let builtin: Map<String, Value> = table
        .iter()
        .map(|(k, v, _)| (k.to_string(), v.clone()))
        .collect();
    merged.add(builtin, Origin::Default, &known);
    if let Some(path) = defaults {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SpecErrors::one(SpecError {
                file: Some(path.to_path_buf()),
                ..SpecError::new("", format!("cannot read NeuroFlame's defaults: {e}"))
            })
        })?;
        let map = parse_map(&text, Some(path))?;
        merged.add(
            map,
            Origin::File(path.to_path_buf(), YamlIndex::new(&text)),
            &known,
        );
    }
    let map = parse_map(text, file)?;
    let index = YamlIndex::new(text);
    let file_origin = Origin::File(file.map(Path::to_path_buf).unwrap_or_default(), index);
    merged.add(map, file_origin, &known);
    let mut extra = Map::new();
    for o in overrides {
        let Some((key, value)) = o.split_once('=') else {
            merged.errors.push(SpecError::invalid(
                "",
                o,
                "a NeuroFlame override KEY=value, e.g. N_BATCH=10",
            ));
            continue;
        };
        let value = serde_saphyr::from_str::<Value>(value).unwrap_or(Value::String(value.into()));
        extra.insert(key.trim().to_string(), value);
    }
    merged.add(extra, Origin::Override, &known);
    let mut t = Translator {
        m: &merged,
        options,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let model = t.model(&table);
    let mut errors = merged.errors.clone();
    errors.extend(t.errors);
    let warnings = t.warnings;
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    Ok(Translation {
        model,
        warnings,
        keys: merged.values.clone(),
    })
}

struct Translator<'a> {
    m: &'a Merged,
    options: &'a Options,
    errors: Vec<SpecError>,
    warnings: Vec<String>,
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty() && s != "0" && s != "None" && s != "False",
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Seconds as a neuroxide time.
fn secs(x: f64) -> Value {
    Value::String(format!("{x} s"))
}

impl Translator<'_> {
    fn get(&self, key: &str) -> &Value {
        self.m.values.get(key).unwrap_or(&Value::Null)
    }

    fn fail(&mut self, key: &str, message: String) {
        let e = self.m.error(key, message);
        self.errors.push(e);
    }

    /// A feature neuroxide cannot simulate: an error, or a warning when allowed.
    fn unsupported(&mut self, key: &str, what: &str) {
        let value = self.get(key).to_string();
        let fix = match key {
            "TASK" => {
                "use TASK: odr, odr_rand, a `gauss` task or None (--nf-set TASK=odr)".to_string()
            }
            "PROBA_TYPE" => "use another profile".to_string(),
            "STP_TYPE" => "use STP_TYPE: markram_exp (--nf-set STP_TYPE=markram_exp), read the \
                           config as HEAD's (--neuroflame-version head), or set IF_STP: 0"
                .to_string(),
            _ => format!("set {key}: 0 (--nf-set {key}=0)"),
        };
        if self.options.allow_unsupported {
            self.warnings.push(format!(
                "{key} = {value}: {what} is not simulated by neuroxide yet (ignored: results differ from NeuroFlame's)"
            ));
        } else {
            self.fail(
                key,
                format!(
                    "got `{value}`: {what} is not simulated by neuroxide yet, and ignoring it \
                     would change the results; {fix} or pass --allow-unsupported to run without it"
                ),
            );
        }
    }

    fn num(&mut self, key: &str) -> f64 {
        match self.get(key) {
            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => s.trim().parse().unwrap(),
            other => {
                let other = other.to_string();
                self.fail(key, format!("got `{other}`, expected a number"));
                f64::NAN
            }
        }
    }

    fn flag(&self, key: &str) -> bool {
        truthy(self.get(key))
    }

    fn text(&self, key: &str) -> String {
        match self.get(key) {
            Value::String(s) => s.clone(),
            Value::Null => "None".into(),
            other => other.to_string(),
        }
    }

    /// A list of `n` numbers (a scalar is repeated).
    fn list(&mut self, key: &str, n: usize) -> Vec<f64> {
        let value = self.get(key).clone();
        let items: Option<Vec<f64>> = match &value {
            Value::Number(x) => Some(vec![x.as_f64().unwrap_or(f64::NAN); n]),
            Value::Array(a) => a.iter().map(Value::as_f64).collect(),
            _ => None,
        };
        match items {
            Some(v) if v.len() >= n => v[..n].to_vec(),
            Some(v) if v.len() == 1 => vec![v[0]; n],
            _ => {
                self.fail(
                    key,
                    format!("got `{value}`, expected a number or a list of {n} numbers"),
                );
                vec![f64::NAN; n]
            }
        }
    }

    /// A list of strings of length `n` (a scalar is repeated).
    fn strings(&mut self, key: &str, n: usize) -> Vec<String> {
        let value = self.get(key).clone();
        let as_text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        match &value {
            Value::Array(a) if a.len() >= n => a[..n].iter().map(as_text).collect(),
            Value::Array(a) if a.len() == 1 => vec![as_text(&a[0]); n],
            Value::Array(_) => {
                self.fail(
                    key,
                    format!("got `{value}`, expected a list of {n} entries"),
                );
                vec![String::new(); n]
            }
            other => vec![as_text(other); n],
        }
    }

    fn model(&mut self, table: &[(&'static str, Value, Kind)]) -> Value {
        // Keys that do not change the numbers: a warning when the user set them.
        for (key, default, kind) in table {
            match kind {
                Ignored(why) => {
                    let value = self.get(key);
                    if self.m.set_by_user(key) && value != default && truthy(value) {
                        self.warnings
                            .push(format!("{key} = {value}: ignored ({why})"));
                    }
                }
                Feature(what) if self.flag(key) => self.unsupported(key, what),
                _ => {}
            }
        }
        let task = self.text("TASK");
        let lower = task.to_lowercase();
        if lower.contains("dual") {
            self.unsupported(
                "TASK",
                "the dual task (low-rank and odour vector inputs, sign masks)",
            );
        }
        if self.options.version == Version::Head && self.flag("IF_STP") {
            self.warnings.push(
                "IF_STP with --neuroflame-version head: HEAD's all-to-all E→E STP matrix with \
                 trainable heterogeneity is translated as the sparse 2024 wiring"
                    .into(),
            );
        }

        let n_pop = self.num("N_POP");
        if !(n_pop >= 1.0 && n_pop.fract() == 0.0) {
            self.fail(
                "N_POP",
                format!("got `{n_pop}`, expected a positive integer"),
            );
            return Value::Null;
        }
        let n_pop = n_pop as usize;
        let names: Vec<String> = match n_pop {
            1 => vec!["E".into()],
            2 => vec!["E".into(), "I".into()],
            _ => (0..n_pop).map(|a| format!("P{a}")).collect(),
        };
        let n_neuron = self.num("N_NEURON");
        let frac = self.list("frac", n_pop);
        let sizes: Vec<usize> = frac
            .iter()
            .map(|f| (n_neuron * f + 1e-9).floor().max(0.0) as usize)
            .collect();
        for (a, size) in sizes.iter().enumerate() {
            if *size == 0 {
                self.fail(
                    "frac",
                    format!(
                        "population {a} gets int(N_NEURON·frac) = 0 neurons; expected at least one"
                    ),
                );
            }
        }
        let con_type = self.text("CON_TYPE");
        let all2all = con_type.contains("all2all");
        if !all2all && !con_type.contains("sparse") {
            self.fail(
                "CON_TYPE",
                format!("got `{con_type}`, expected sparse or all2all"),
            );
        }
        let k = if all2all { 1.0 } else { self.num("K") };
        let frac_k = self.flag("FRAC_K");
        let k_pop: Vec<f64> = frac
            .iter()
            .map(|f| if frac_k && !all2all { k * f } else { k })
            .collect();
        let k0 = k_pop[0];

        let dt = self.num("DT");
        let duration = self.num("DURATION");
        let mut transient = self.num("T_STEADY");
        let window = self.num("T_WINDOW");
        let mut recorded = duration;
        let mut shift = 0.0;
        if self.options.neuroflame_frames {
            if transient + 1e-12 < window {
                self.fail(
                    "T_STEADY",
                    format!(
                        "got `{transient}`: NeuroFlame's frames need T_STEADY ≥ T_WINDOW = {window} \
                         (the first frame averages the last window before t = 0)"
                    ),
                );
            }
            transient -= window;
            recorded += window;
            shift = window;
        }

        let mut model = Map::new();
        model.insert("name".into(), json!("neuroflame"));
        model.insert("dt".into(), secs(dt));
        model.insert("duration".into(), secs(recorded));
        if transient > 0.0 {
            model.insert("transient".into(), secs(transient));
        }
        let seed = self.num("SEED");
        if seed >= 0.0 && seed.fract() == 0.0 {
            model.insert("seed".into(), json!(seed as u64));
        } else {
            self.fail("SEED", format!("got `{seed}`, expected an integer ≥ 0"));
        }
        let precision = self.get("FLOAT_PRECISION").clone();
        let precision = match precision.as_f64() {
            Some(32.0) => "f32",
            Some(16.0) => {
                self.warnings
                    .push("FLOAT_PRECISION = 16: fp16 is run in f32".into());
                "f32"
            }
            None if precision == json!("16b") => {
                self.warnings
                    .push("FLOAT_PRECISION = '16b': bf16 is run in f32".into());
                "f32"
            }
            _ => "f64",
        };
        model.insert("precision".into(), json!(precision));
        model.insert(
            "method".into(),
            json!(match self.options.version {
                Version::V2024 => "neuroflame_2024",
                Version::Head => "exponential_euler",
            }),
        );
        let batch = self.num("N_BATCH");
        if batch >= 1.0 && batch.fract() == 0.0 {
            model.insert("lanes".into(), json!(batch as u64));
        } else {
            self.fail(
                "N_BATCH",
                format!("got `{batch}`, expected a positive integer"),
            );
        }

        // Populations.
        let tf = self.text("TF_TYPE");
        let thresh = self.list("THRESH", n_pop);
        let rate_dyn = self.flag("RATE_DYN");
        let syn_dyn = self.flag("SYN_DYN");
        let tau = self.list("TAU", n_pop);
        let tau_syn = self.list("TAU_SYN", n_pop);
        let mut populations = Map::new();
        for a in 0..n_pop {
            let mut p = Map::new();
            p.insert("size".into(), json!(sizes[a]));
            p.insert("model".into(), json!("rate"));
            match tf.as_str() {
                "relu" => {
                    p.insert("transfer".into(), json!("relu"));
                    p.insert("threshold".into(), json!(thresh[a]));
                }
                "erf" => {
                    p.insert("transfer".into(), json!("erf"));
                    p.insert("threshold".into(), json!(thresh[a]));
                }
                "sqrt" => {
                    p.insert("transfer".into(), json!("brunel_sqrt"));
                }
                _ => {
                    p.insert("transfer".into(), json!("gauss_cdf"));
                    p.insert("gain".into(), json!(thresh[a]));
                }
            }
            if rate_dyn {
                p.insert("tau".into(), secs(tau[a]));
            }
            if syn_dyn {
                p.insert("tau_syn".into(), secs(tau_syn[a]));
            }
            p.insert(
                "initial".into(),
                json!({"rate": "transfer", "current": {"gaussian": {"mean": 0.0, "std": 1.0}}}),
            );
            populations.insert(names[a].clone(), Value::Object(p));
        }
        model.insert("populations".into(), Value::Object(populations));

        // Projections, [post][pre] blocks.
        let blocks = n_pop * n_pop;
        let gain = self.num("GAIN");
        let jab = self.list("Jab", blocks);
        let proba = self.strings("PROBA_TYPE", blocks);
        let kappa = self.list("KAPPA", blocks);
        let phase = self.num("PHASE");
        let if_stp = self.flag("IF_STP");
        let is_stp = if if_stp {
            self.list("IS_STP", blocks)
        } else {
            vec![0.0; blocks]
        };
        let stp_blocks: Vec<usize> = (0..blocks).filter(|&b| is_stp[b] != 0.0).collect();
        let stp_type = self.text("STP_TYPE");
        if if_stp && !["markram", "markram_exp", "mato"].contains(&stp_type.as_str()) {
            self.fail(
                "STP_TYPE",
                format!(
                    "got `{stp_type}`, expected markram, markram_exp or mato (NeuroFlame 2024's \
                     `hansel` returns u·x without the rate, a bug)"
                ),
            );
        }
        if if_stp && stp_type == "markram" && self.options.version == Version::V2024 {
            // 2024's markram: u⁺ = u + U(1 − u) drives x and the output, and u decays to 0, not to
            // U; neuroxide's `markram` is HEAD's, with `allow_unsupported` it stands in for it.
            self.unsupported(
                "STP_TYPE",
                "NeuroFlame 2024's `markram` STP (u⁺ = u + U(1 − u) in x's update and the output \
                 u⁺·x·r, u decaying to 0; neuroxide's `markram` is HEAD's, u relaxing to U)",
            );
        }
        let stp_param = |t: &mut Self, key: &str| -> Vec<f64> {
            if !if_stp {
                return Vec::new();
            }
            match t.get(key).clone() {
                Value::Array(a) => a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect(),
                _ => vec![t.num(key)],
            }
        };
        let use_ = stp_param(self, "USE");
        let tau_fac = stp_param(self, "TAU_FAC");
        let tau_rec = stp_param(self, "TAU_REC");
        let j_stp = if if_stp { self.num("J_STP") } else { 0.0 };
        let w_stp = if if_stp && truthy(self.get("W_STP")) {
            self.list("W_STP", blocks)
        } else {
            vec![1.0; blocks]
        };
        let mut projections = Map::new();
        for post in 0..n_pop {
            for pre in 0..n_pop {
                let b = post * n_pop + pre;
                let stp = is_stp[b] != 0.0;
                let mut weight = if stp {
                    // 2024: the E→E STP block replaces the static one with strength J_STP.
                    gain * j_stp * if b == 0 { 1.0 } else { w_stp[b] }
                } else {
                    gain * jab[b]
                };
                if !stp && jab[b] == 0.0 {
                    continue;
                }
                if stp && jab[b] < 0.0 {
                    weight = -weight.abs();
                }
                let profile_name = proba[b].to_lowercase();
                let mut p = Map::new();
                p.insert("pre".into(), json!(names[pre]));
                p.insert("post".into(), json!(names[post]));
                let dense = profile_name.contains("dense");
                if all2all {
                    p.insert("rule".into(), json!("all_to_all"));
                    p.insert("scaling".into(), json!(if dense { "sqrt_n" } else { "n" }));
                } else if k_pop[pre] >= sizes[pre] as f64
                    && matches!(profile_name.as_str(), "" | "none")
                {
                    // NeuroFlame clamps the probability K_b/N_b to 1: every pair is connected,
                    // still with J/√K_b.
                    p.insert("rule".into(), json!("all_to_all"));
                    p.insert("scaling".into(), json!("raw"));
                    weight /= k_pop[pre].sqrt();
                } else {
                    p.insert("rule".into(), json!({"bernoulli": {"k": k_pop[pre]}}));
                    p.insert("scaling".into(), json!("sqrt_k"));
                }
                let kb = kappa[b];
                let profile = if profile_name.contains("cos") && profile_name.contains("spec") {
                    json!({"cosine_weak": {"kappa": kb}})
                } else if profile_name.contains("cos") {
                    json!({"cosine": {"kappa": kb, "phase": format!("{phase} deg")}})
                } else if profile_name == "lr" {
                    let what = "the low-rank connectivity profile `lr` (vectors from MVN(LR_MEAN, LR_COV))";
                    self.unsupported("PROBA_TYPE", what);
                    json!("uniform")
                } else if profile_name.contains("von") || profile_name.contains("mises") {
                    // NeuroFlame's profile is the von Mises density exp(κ cos)/(2π I₀(κ));
                    // neuroxide's has mean 1, so the weight takes the 1/(2π).
                    weight /= 2.0 * std::f64::consts::PI;
                    json!({"von_mises": {"kappa": kb}})
                } else if profile_name.contains("gauss") {
                    json!("gaussian")
                } else {
                    json!("uniform")
                };
                p.insert("profile".into(), profile);
                p.insert("weight".into(), json!(weight));
                if stp {
                    let pick = |v: &[f64], k: usize| -> f64 {
                        if v.len() == blocks {
                            v[b]
                        } else {
                            v.get(k).or(v.last()).copied().unwrap_or(f64::NAN)
                        }
                    };
                    let k = stp_blocks.iter().position(|&x| x == b).unwrap_or(0);
                    p.insert(
                        "stp".into(),
                        json!({
                            "model": stp_type,
                            "U": pick(&use_, k),
                            "tau_rec": secs(pick(&tau_rec, k)),
                            "tau_fac": secs(pick(&tau_fac, k)),
                        }),
                    );
                }
                projections.insert(format!("{}{}", names[post], names[pre]), Value::Object(p));
            }
        }
        model.insert("projections".into(), Value::Object(projections));

        // Feed-forward input.
        let m0 = self.num("M0");
        let ja0 = self.list("Ja0", n_pop);
        let var_ff = self.list("VAR_FF", n_pop);
        let bump_switch = self.list("BUMP_SWITCH", n_pop);
        let live = self.flag("LIVE_FF_UPDATE");
        let stim_on = self.list_any("T_STIM_ON");
        let stim_off = self.list_any("T_STIM_OFF");
        let mut inputs = Map::new();
        for a in 0..n_pop {
            let name = &names[a];
            let drive = |j0: f64| json!({"k": k0, "m0": m0, "j0": j0});
            if bump_switch[a] != 0.0 && !stim_on.is_empty() {
                let on = stim_on[0] + shift;
                inputs.insert(
                    format!("drive_{name}_switch"),
                    json!({"target": name, "balanced": drive(ja0[a] / k0.sqrt()), "stop": secs(on)}),
                );
                inputs.insert(
                    format!("drive_{name}"),
                    json!({"target": name, "balanced": drive(ja0[a]), "start": secs(on)}),
                );
            } else {
                inputs.insert(
                    format!("drive_{name}"),
                    json!({"target": name, "balanced": drive(ja0[a])}),
                );
            }
            if var_ff[a] > 0.0 {
                let m = if live { m0 } else { m0 * m0 };
                let std = var_ff[a].sqrt() * m * k0.sqrt();
                inputs.insert(
                    format!("noise_{name}"),
                    json!({"target": name, "noise": {"std": std, "per_step": true}}),
                );
            }
        }
        let odr = lower.contains("odr") || lower.contains("gauss");
        if odr {
            let n = stim_on.len();
            if stim_off.len() != n {
                self.fail(
                    "T_STIM_OFF",
                    format!(
                        "got {} offsets for {n} onsets (T_STIM_ON); expected one per stimulus",
                        stim_off.len()
                    ),
                );
            }
            let i0 = self.list_any("I0");
            let phi0 = self.list_any("PHI0");
            let sigma0 = self.list_any("SIGMA0");
            let degrees = phi0.iter().any(|p| *p > 2.0 * std::f64::consts::PI);
            let random = lower.contains("rand");
            let mut targets = vec![names[0].clone()];
            if self.flag("STIM_EI") && n_pop > 1 {
                targets.push(names[1].clone());
            }
            for i in 0..n.min(stim_off.len()) {
                let amp = i0.get(i).copied().unwrap_or(0.0);
                if amp == 0.0 {
                    continue;
                }
                let sigma = sigma0.get(i).copied().unwrap_or(1.0);
                let phi = phi0.get(i).copied().unwrap_or(0.0);
                let phase = if degrees { phi } else { phi.to_degrees() };
                let shape = if lower.contains("gauss") {
                    json!({"gaussian": {"width": format!("{} deg", sigma.to_degrees())}})
                } else if sigma == 0.0 {
                    json!("uniform")
                } else {
                    json!({"cosine": {"sigma": sigma}})
                };
                let mut stimulus = json!({
                    "amplitude": amp * m0 * k0.sqrt(),
                    "phase": format!("{phase} deg"),
                    "shape": shape,
                });
                if random && sigma != 0.0 {
                    stimulus["random_phase"] = json!(true);
                    stimulus.as_object_mut().unwrap().remove("phase");
                }
                for (j, target) in targets.iter().enumerate() {
                    let suffix = if j == 0 {
                        String::new()
                    } else {
                        format!("_{target}")
                    };
                    inputs.insert(
                        format!("stim{i}{suffix}"),
                        json!({
                            "target": target,
                            "stimulus": stimulus,
                            "start": secs(stim_on[i] + shift),
                            "stop": secs(stim_off[i] + shift),
                        }),
                    );
                }
            }
        } else if lower != "none" && !lower.contains("dual") {
            let i0 = self.list_any("I0");
            if i0.iter().any(|x| *x != 0.0) && self.m.set_by_user("I0") {
                self.warnings.push(format!(
                    "I0: TASK = '{task}' defines no stimulus profile, so NeuroFlame adds none"
                ));
            }
        }
        model.insert("inputs".into(), Value::Object(inputs));

        // Monitors: NeuroFlame returns the window-averaged E rates.
        let mut monitors = vec![json!({
            "population": names[0], "variable": "rate", "window": secs(window), "mean": true
        })];
        for name in &names[1..] {
            monitors.push(json!({
                "population": name, "variable": "rate", "window": secs(window), "neurons": "none"
            }));
        }
        model.insert("monitors".into(), Value::Array(monitors));
        Value::Object(model)
    }

    /// A list of any length (a scalar is one element); nested per-batch lists are refused.
    fn list_any(&mut self, key: &str) -> Vec<f64> {
        let value = self.get(key).clone();
        match &value {
            Value::Null => Vec::new(),
            Value::Number(x) => vec![x.as_f64().unwrap_or(f64::NAN)],
            Value::Array(a) => {
                let items: Option<Vec<f64>> = a.iter().map(Value::as_f64).collect();
                items.unwrap_or_else(|| {
                    self.fail(
                        key,
                        format!(
                            "got `{value}`, expected a list of numbers (per-batch values: use \
                             a sweep over lanes)"
                        ),
                    );
                    Vec::new()
                })
            }
            _ => {
                self.fail(key, format!("got `{value}`, expected a list of numbers"));
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Options {
        Options::default()
    }

    #[test]
    fn unknown_keys_are_errors_with_their_line() {
        let text = "N_NEURON: 100\nIF_NMDA: 0\nTAU_SYNN: [0.1, 0.1]\n";
        let e = translate(text, Some(Path::new("c.yml")), None, &[], &options()).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("c.yml:3:1: `TAU_SYNN`: unknown NeuroFlame key"),
            "{e}"
        );
        assert!(e.contains("did you mean `TAU_SYN`"), "{e}");
    }

    #[test]
    fn enabled_unsupported_features_are_errors_or_warnings() {
        let text = "N_NEURON: 100\nTASK: None\n";
        // NeuroFlame's default IF_NMDA is 1.
        let e = translate(text, None, None, &[], &options()).unwrap_err();
        assert!(e.to_string().contains("`IF_NMDA`"), "{e}");
        let allow = Options {
            allow_unsupported: true,
            ..Options::default()
        };
        let t = translate(text, None, None, &[], &allow).unwrap();
        assert!(t.warnings.iter().any(|w| w.starts_with("IF_NMDA")));
        let t = translate(text, None, None, &["IF_NMDA=0".into()], &options()).unwrap();
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    }

    #[test]
    fn couplings_drives_and_stimuli_follow_the_scalings() {
        let text = "N_NEURON: 1000\nK: 100\nIF_NMDA: 0\nTASK: odr\nM0: 2\nGAIN: 0.5\n\
                    T_STIM_ON: [1]\nT_STIM_OFF: [2]\nI0: [0.5]\nPHI0: [90]\nSIGMA0: [1]\n\
                    DEVICE: cuda\n";
        let t = translate(text, None, None, &[], &options()).unwrap();
        let m = &t.model;
        assert_eq!(m["populations"]["E"]["size"], json!(800));
        assert_eq!(m["populations"]["I"]["size"], json!(200));
        assert_eq!(m["projections"]["EI"]["weight"], json!(-0.75));
        assert_eq!(m["projections"]["EI"]["pre"], json!("I"));
        assert_eq!(
            m["projections"]["IE"]["rule"]["bernoulli"]["k"],
            json!(100.0)
        );
        assert_eq!(
            m["inputs"]["drive_E"]["balanced"],
            json!({"k": 100.0, "m0": 2.0, "j0": 2.0})
        );
        let stim = &m["inputs"]["stim0"];
        assert_eq!(stim["stimulus"]["amplitude"], json!(10.0));
        assert_eq!(stim["stimulus"]["shape"], json!({"cosine": {"sigma": 1.0}}));
        assert_eq!(stim["start"], json!("1 s"));
        assert!(t.warnings.iter().any(|w| w.starts_with("DEVICE")));
        assert_eq!(m["method"], json!("neuroflame_2024"));
    }

    #[test]
    fn stp_blocks_carry_the_stp_schema() {
        let text = "N_NEURON: 100\nK: 20\nIF_NMDA: 0\nTASK: None\nIF_STP: 1\nIS_STP: [1, 0, 0, 0]\nUSE: 0.03\n\
                    TAU_FAC: 1.0\nTAU_REC: 0.2\nJ_STP: 10\nSTP_TYPE: markram_exp\n";
        let t = translate(text, None, None, &[], &options()).unwrap();
        let ee = &t.model["projections"]["EE"];
        assert_eq!(ee["weight"], json!(5.0));
        assert_eq!(
            ee["stp"],
            json!({"model": "markram_exp", "U": 0.03, "tau_rec": "0.2 s", "tau_fac": "1 s"})
        );
        assert!(t.model["projections"]["IE"].get("stp").is_none());
    }

    #[test]
    fn the_2024_markram_stp_is_refused_unless_allowed_and_heads_is_kept() {
        let text = "N_NEURON: 100\nK: 20\nIF_NMDA: 0\nTASK: None\nIF_STP: 1\nSTP_TYPE: markram\n";
        let err = translate(text, None, None, &[], &options())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("STP_TYPE") && err.contains("2024") && err.contains("markram_exp"),
            "{err}"
        );
        let allow = Options {
            allow_unsupported: true,
            ..Options::default()
        };
        let t = translate(text, None, None, &[], &allow).unwrap();
        assert!(t.warnings.iter().any(|w| w.starts_with("STP_TYPE")));
        assert_eq!(
            t.model["projections"]["EE"]["stp"]["model"],
            json!("markram")
        );
        let head = Options {
            version: Version::Head,
            ..Options::default()
        };
        let t = translate(text, None, None, &[], &head).unwrap();
        assert!(!t.warnings.iter().any(|w| w.starts_with("STP_TYPE")));
        assert_eq!(
            t.model["projections"]["EE"]["stp"]["model"],
            json!("markram")
        );
    }

    #[test]
    fn an_in_degree_above_the_population_connects_every_pair_with_j_over_sqrt_k() {
        // NeuroFlame clamps the probability K/N_b to 1 but keeps J/√K.
        let text = "N_NEURON: 100\nK: 400\nIF_NMDA: 0\nTASK: None\nGAIN: 1\n";
        let t = translate(text, None, None, &[], &options()).unwrap();
        let ee = &t.model["projections"]["EE"];
        assert_eq!(ee["rule"], json!("all_to_all"));
        assert_eq!(ee["scaling"], json!("raw"));
        assert_eq!(ee["weight"], json!(1.0 / 20.0));
    }

    #[test]
    fn neuroflame_frames_shift_the_clock_by_one_window() {
        let text = "N_NEURON: 100\nIF_NMDA: 0\nTASK: odr\nT_STEADY: 1\nT_WINDOW: 0.1\n\
                    DURATION: 2\nT_STIM_ON: [0.5]\nT_STIM_OFF: [1]\nI0: [1]\n";
        let frames = Options {
            neuroflame_frames: true,
            ..Options::default()
        };
        let t = translate(text, None, None, &[], &frames).unwrap();
        assert_eq!(t.model["transient"], json!("0.9 s"));
        assert_eq!(t.model["duration"], json!("2.1 s"));
        assert_eq!(t.model["inputs"]["stim0"]["start"], json!("0.6 s"));
    }
}
