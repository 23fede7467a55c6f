//! The YAML file of `neuroxide train`: model, task and optimiser, read with the model files'
//! machinery (every key checked; errors name the file, line, key path, value and expectation).
//!
//! ```yaml
//! name: decision
//! seed: 1
//! precision: f32             # f32 | f64
//! model:
//!   kind: rate               # rate (NeuroSimTools' RateModel) | spiking (LIF, surrogate gradients)
//!   type: R                  # R: r ← r + η(−r + f(Wr + b + W_in x)) | Z: z ← z + η(−z + W f(z) + b + W_in x)
//!   size: 200                # N
//!   transfer: tanh           # relu | tanh | id
//!   eta: 0.1                 # η = dt/τ: a number, a list of N, or {file: eta.npy}
//!   recurrent: random        # random (N(0, ρ²/N)) | none | {file: W.npy} | {low_rank: {rank, u_eq_v, normalize, clamp, scale, init_std, base}}
//!   readin: task             # task (the task's input count) | none (identity) | a size | {file: W_in.npy}
//!   readout: task            # likewise
//!   bias_recurrent: true
//!   bias_output: true
//!   rho_recurrent: 1.0       # ρ scalings of the initial draws
//!   rho_input: 1.0
//!   rho_output: 1.0
//!   mask: {file: mask.npy}   # fixed 0/1 mask on W
//!   dale: {excitatory: 0.8}  # or {file: signs.npy}: Dale's law, W_ij = s_j |raw_ij|
//! task:
//!   kind: decision           # decision | dms | odr | dual | go_no_go | flip_flop | sine
//!   steps: 200
//! train:
//!   parameters: [recurrent, readin, readout, bias, bias_out]
//!   iterations: 200
//!   batch_size: 64
//!   loss: mse                # mse | bce | cross_entropy | angular; default: the task's
//!   optimizer: adam          # adam | adamw | sgd
//!   lr: 1.0e-3
//! ```

use crate::TrainError;
use crate::fit::Method;
use crate::loss::LossKind;
use crate::model::{Layer, LowRank, NetworkType, PassOptions, RateModelSpec, Recurrent, Transfer};
use crate::optim::{Optimizer, OptimizerKind};
use crate::spiking::{SpikingSpec, Surrogate};
use crate::tasks::{Task, TaskKind};
use crate::trainer::TrainerOptions;
use neuroxide_model::yaml_index::YamlIndex;
use neuroxide_model::{SpecError, SpecErrors};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainFile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_precision")]
    pub precision: String,
    pub model: ModelSection,
    pub task: TaskSection,
    #[serde(default)]
    pub train: TrainSection,
}

fn default_precision() -> String {
    "f32".into()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    pub file: PathBuf,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum LayerSection {
    Size(usize),
    Name(String),
    File(FileRef),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum RecurrentSection {
    Name(String),
    File(FileRef),
    LowRank(LowRankWrapper),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LowRankWrapper {
    pub low_rank: LowRankSection,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LowRankSection {
    pub rank: usize,
    #[serde(default)]
    pub u_eq_v: bool,
    #[serde(default)]
    pub normalize: bool,
    #[serde(default)]
    pub clamp: Option<f64>,
    #[serde(default)]
    pub scale: Option<f64>,
    #[serde(default = "one")]
    pub init_std: f64,
    #[serde(default)]
    pub base: Option<PathBuf>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum EtaSection {
    Value(f64),
    List(Vec<f64>),
    File(FileRef),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum DaleSection {
    Fraction { excitatory: f64 },
    File(FileRef),
}

fn one() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    #[serde(default = "rate_kind")]
    pub kind: String,
    #[serde(rename = "type", default = "r_type")]
    pub network_type: String,
    pub size: usize,
    #[serde(default = "tanh")]
    pub transfer: String,
    #[serde(default)]
    pub eta: Option<EtaSection>,
    #[serde(default)]
    pub recurrent: Option<RecurrentSection>,
    #[serde(default)]
    pub readin: Option<LayerSection>,
    #[serde(default)]
    pub readout: Option<LayerSection>,
    #[serde(default = "yes")]
    pub bias_recurrent: bool,
    #[serde(default = "yes")]
    pub bias_output: bool,
    #[serde(default = "one")]
    pub rho_recurrent: f64,
    #[serde(default = "one")]
    pub rho_input: f64,
    #[serde(default = "one")]
    pub rho_output: f64,
    #[serde(default)]
    pub mask: Option<FileRef>,
    #[serde(default)]
    pub dale: Option<DaleSection>,
    /// Spiking only: β = e^{−dt/τ_m}, κ of the output filter, threshold, surrogate slope and gain.
    #[serde(default)]
    pub beta: Option<f64>,
    #[serde(default)]
    pub kappa: Option<f64>,
    #[serde(default)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub surrogate_slope: Option<f64>,
    #[serde(default)]
    pub surrogate_gain: Option<f64>,
}

fn rate_kind() -> String {
    "rate".into()
}
fn r_type() -> String {
    "R".into()
}
fn tanh() -> String {
    "tanh".into()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSection {
    pub kind: String,
    pub steps: usize,
    #[serde(default)]
    pub noise: Option<f64>,
    #[serde(default)]
    pub channels: Option<usize>,
    #[serde(default)]
    pub frequencies: Option<usize>,
    #[serde(default)]
    pub outputs: Option<usize>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSection {
    #[serde(default)]
    pub parameters: Option<Vec<String>>,
    #[serde(default = "default_iterations")]
    pub iterations: u64,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    #[serde(default)]
    pub loss: Option<String>,
    #[serde(default = "default_optimizer")]
    pub optimizer: String,
    #[serde(default = "default_lr")]
    pub lr: f64,
    #[serde(default)]
    pub momentum: f64,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default = "default_betas")]
    pub betas: Vec<f64>,
    #[serde(default = "default_eps")]
    pub eps: f64,
    /// Exponential decay γ of the learning rate, applied every `lr_decay_every` iterations.
    #[serde(default = "one")]
    pub lr_decay: f64,
    #[serde(default = "default_one_u")]
    pub lr_decay_every: usize,
    #[serde(default)]
    pub clip: Option<f64>,
    #[serde(default)]
    pub weight_l2: f64,
    #[serde(default)]
    pub rate_l2: f64,
    #[serde(default)]
    pub truncate: Option<usize>,
    #[serde(default)]
    pub recompute_every: Option<usize>,
    #[serde(default = "default_validate")]
    pub validate_every: u64,
    #[serde(default = "default_val_batches")]
    pub validation_batches: u64,
    #[serde(default)]
    pub patience: u64,
    #[serde(default)]
    pub target_score: Option<f64>,
    /// Write `checkpoint.npz` every this many iterations (0: only at the end).
    #[serde(default = "default_save")]
    pub save_every: u64,
    /// `bptt` (default), or fit the readout only: `ridge` or `rls` (see [`crate::fit`]); then
    /// `iterations` is the number of training batches the fit sees.
    #[serde(default = "default_method")]
    pub method: String,
    /// The ridge penalty (default 1e-4, RectiPy's) or RLS's initial P = I/α (default 1).
    #[serde(default)]
    pub alpha: Option<f64>,
}

fn default_method() -> String {
    "bptt".into()
}

impl Default for TrainSection {
    fn default() -> Self {
        serde_saphyr::from_str("{}").expect("defaults")
    }
}

fn default_iterations() -> u64 {
    100
}
fn default_batch() -> usize {
    32
}
fn default_optimizer() -> String {
    "adam".into()
}
fn default_lr() -> f64 {
    1e-3
}
fn default_betas() -> Vec<f64> {
    vec![0.9, 0.999]
}
fn default_eps() -> f64 {
    1e-8
}
fn default_one_u() -> usize {
    1
}
fn default_validate() -> u64 {
    25
}
fn default_val_batches() -> u64 {
    2
}
fn default_save() -> u64 {
    50
}

/// The network a training file describes.
#[derive(Clone, Debug)]
pub enum NetworkChoice {
    Rate(RateModelSpec),
    Spiking(SpikingSpec),
}

/// A training file, read and checked.
#[derive(Clone, Debug)]
pub struct TrainSetup {
    pub file: TrainFile,
    pub path: Option<PathBuf>,
    pub network: NetworkChoice,
    pub task: Task,
    pub optimizer_kind: OptimizerKind,
    pub options: TrainerOptions,
    pub f64: bool,
    /// How the model is fitted (`train.method`).
    pub method: Method,
    index: YamlIndex,
}

/// `train.method` and `train.alpha`, checked against the network.
fn method(t: &TrainSection, network: &NetworkChoice) -> Result<Method, TrainError> {
    let method = match t.method.as_str() {
        "bptt" => Method::Bptt,
        "ridge" => Method::Ridge {
            alpha: t.alpha.unwrap_or(1e-4),
        },
        "rls" => Method::Rls {
            alpha: t.alpha.unwrap_or(1.0),
        },
        other => {
            return Err(TrainError::invalid(
                "train.method",
                other,
                "bptt, ridge or rls",
            ));
        }
    };
    match method {
        Method::Bptt => {
            if let Some(alpha) = t.alpha {
                return Err(TrainError::invalid(
                    "train.alpha",
                    alpha,
                    "no alpha with method bptt (it is the ridge or RLS regulariser)",
                ));
            }
        }
        Method::Ridge { alpha } | Method::Rls { alpha } => {
            if !(alpha > 0.0 && alpha.is_finite()) {
                return Err(TrainError::invalid("train.alpha", alpha, "a positive α"));
            }
            if matches!(network, NetworkChoice::Spiking(_)) {
                return Err(TrainError::invalid(
                    "train.method",
                    &t.method,
                    "bptt for a spiking network (ridge and rls fit a rate model's readout)",
                ));
            }
        }
    }
    Ok(method)
}

impl TrainSetup {
    pub fn load(path: &Path) -> Result<TrainSetup, SpecErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SpecErrors::one(SpecError {
                file: Some(path.to_path_buf()),
                ..SpecError::new("", format!("cannot read the training file: {e}"))
            })
        })?;
        TrainSetup::from_yaml(&text, Some(path))
    }

    pub fn from_yaml(text: &str, path: Option<&Path>) -> Result<TrainSetup, SpecErrors> {
        let (file, index): (TrainFile, YamlIndex) =
            neuroxide_model::load::parse_located(text, path)?;
        let base = path
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let locate = |e: SpecError| -> SpecErrors {
            let mut e = e;
            e.file = path.map(Path::to_path_buf);
            if let Some((line, column)) = index.locate(&e.path).filter(|_| !e.path.is_empty()) {
                e.line = Some(line);
                e.column = Some(column);
            }
            SpecErrors::one(e)
        };
        let (network, task, optimizer_kind, options, f64) =
            build(&file, &base).map_err(|e| locate(to_spec_error(e)))?;
        let method = method(&file.train, &network).map_err(|e| locate(to_spec_error(e)))?;
        Ok(TrainSetup {
            file,
            path: path.map(Path::to_path_buf),
            network,
            task,
            optimizer_kind,
            options,
            f64,
            method,
            index,
        })
    }

    /// A later error (from building the model) with this file's position.
    pub fn locate(&self, e: TrainError) -> SpecErrors {
        let mut e = to_spec_error(e);
        e.file = self.path.clone();
        if let Some((line, column)) = self.index.locate(&e.path).filter(|_| !e.path.is_empty()) {
            e.line = Some(line);
            e.column = Some(column);
        }
        SpecErrors::one(e)
    }

    /// The optimiser for `n_params` parameters.
    pub fn optimizer(&self, n_params: usize) -> Optimizer {
        let t = &self.file.train;
        let mut opt = Optimizer::new(self.optimizer_kind, t.lr, n_params);
        opt.gamma = t.lr_decay;
        opt.decay_every = t.lr_decay_every;
        opt.clip = t.clip;
        opt
    }
}

pub fn to_spec_error(e: TrainError) -> SpecError {
    match e {
        TrainError::Invalid { path, message } => SpecError::new(path, message),
        other => SpecError::new("", other.to_string()),
    }
}

fn read_matrix(base: &Path, file: &Path, key: &str) -> Result<(Vec<usize>, Vec<f64>), TrainError> {
    let full = base.join(file);
    let a = neuroxide_io::read_npy(&full).map_err(|e| TrainError::Invalid {
        path: key.into(),
        message: format!("cannot read `{}`: {e}", full.display()),
    })?;
    Ok((a.shape.clone(), a.data.to_f64()))
}

type Built = (NetworkChoice, Task, OptimizerKind, TrainerOptions, bool);

fn build(file: &TrainFile, base: &Path) -> Result<Built, TrainError> {
    let f64 = match file.precision.as_str() {
        "f32" => false,
        "f64" => true,
        other => return Err(TrainError::invalid("precision", other, "f32 or f64")),
    };
    // Task.
    let ts = &file.task;
    let kind = TaskKind::parse(&ts.kind).ok_or_else(|| {
        TrainError::invalid(
            "task.kind",
            &ts.kind,
            format!("one of {}", TaskKind::NAMES.join(", ")),
        )
    })?;
    let mut task = Task::new(kind, ts.steps, file.seed);
    if let Some(v) = ts.noise {
        task.noise = v;
    }
    if let Some(v) = ts.channels {
        task.channels = v;
    }
    if let Some(v) = ts.frequencies {
        task.frequencies = v;
    }
    if let Some(v) = ts.outputs {
        if kind != TaskKind::Odr || v < 2 {
            return Err(TrainError::invalid(
                "task.outputs",
                v,
                "a ring size ≥ 2, for task `odr` only",
            ));
        }
        task.odr_outputs = v;
    }
    if task.steps < 20 {
        return Err(TrainError::invalid(
            "task.steps",
            task.steps,
            "at least 20 steps",
        ));
    }
    // Train.
    let t = &file.train;
    let loss = match &t.loss {
        Some(name) => LossKind::parse(name).ok_or_else(|| {
            TrainError::invalid(
                "train.loss",
                name,
                "one of mse, bce, cross_entropy, angular",
            )
        })?,
        None => task.default_loss(),
    };
    if t.betas.len() != 2 || t.betas.iter().any(|b| !(0.0..1.0).contains(b)) {
        return Err(TrainError::invalid(
            "train.betas",
            format!("{:?}", t.betas),
            "two values in [0, 1)",
        ));
    }
    let optimizer_kind = match t.optimizer.as_str() {
        "adam" => OptimizerKind::Adam {
            beta1: t.betas[0],
            beta2: t.betas[1],
            eps: t.eps,
        },
        "adamw" => OptimizerKind::AdamW {
            beta1: t.betas[0],
            beta2: t.betas[1],
            eps: t.eps,
            weight_decay: t.weight_decay,
        },
        "sgd" => OptimizerKind::Sgd {
            momentum: t.momentum,
        },
        other => {
            return Err(TrainError::invalid(
                "train.optimizer",
                other,
                "adam, adamw or sgd",
            ));
        }
    };
    if !(t.lr > 0.0 && t.lr.is_finite()) {
        return Err(TrainError::invalid(
            "train.lr",
            t.lr,
            "a positive learning rate",
        ));
    }
    if !(t.lr_decay > 0.0 && t.lr_decay <= 1.0) {
        return Err(TrainError::invalid(
            "train.lr_decay",
            t.lr_decay,
            "γ in (0, 1]",
        ));
    }
    if let Some(c) = t.clip
        && c <= 0.0
    {
        return Err(TrainError::invalid(
            "train.clip",
            c,
            "a positive gradient norm",
        ));
    }
    let options = TrainerOptions {
        batch_size: t.batch_size,
        iterations: t.iterations,
        loss,
        weight_l2: t.weight_l2,
        pass: PassOptions {
            checkpoint_every: t.recompute_every,
            truncate: t.truncate,
            rate_l2: t.rate_l2,
            threads: 0,
        },
        validate_every: t.validate_every,
        validation_batches: t.validation_batches,
        patience: t.patience,
        target_score: t.target_score,
    };
    // Model.
    let m = &file.model;
    let n = m.size;
    let layer =
        |section: &Option<LayerSection>, key: &str, task_size: usize, readin: bool| match section {
            None => Ok(Layer::Size(task_size)),
            Some(LayerSection::Size(k)) => Ok(Layer::Size(*k)),
            Some(LayerSection::Name(s)) if s == "task" => Ok(Layer::Size(task_size)),
            Some(LayerSection::Name(s)) if s == "none" => Ok(Layer::Identity),
            Some(LayerSection::Name(s)) => Err(TrainError::invalid(
                key,
                s,
                "task, none, a size or {file: matrix.npy}",
            )),
            Some(LayerSection::File(f)) => {
                let (shape, data) = read_matrix(base, &f.file, key)?;
                if shape.len() != 2 {
                    return Err(TrainError::invalid(
                        key,
                        format!("an array of shape {shape:?}"),
                        if readin {
                            "an N × N_in matrix"
                        } else {
                            "an N_out × N matrix"
                        },
                    ));
                }
                Ok(Layer::Matrix {
                    rows: shape[0],
                    cols: shape[1],
                    data,
                })
            }
        };
    let readin = layer(&m.readin, "model.readin", task.inputs(), true)?;
    let readout = layer(&m.readout, "model.readout", task.outputs(), false)?;
    let dale = match &m.dale {
        None => None,
        Some(DaleSection::Fraction { excitatory }) => {
            if !(0.0..=1.0).contains(excitatory) {
                return Err(TrainError::invalid(
                    "model.dale.excitatory",
                    excitatory,
                    "a fraction in [0, 1]",
                ));
            }
            let n_e = (excitatory * n as f64).round() as usize;
            Some((0..n).map(|j| if j < n_e { 1.0 } else { -1.0 }).collect())
        }
        Some(DaleSection::File(f)) => Some(read_matrix(base, &f.file, "model.dale")?.1),
    };
    let network = match m.kind.as_str() {
        "rate" => {
            let network_type = match m.network_type.as_str() {
                "R" => NetworkType::R,
                "Z" => NetworkType::Z,
                other => return Err(TrainError::invalid("model.type", other, "R or Z")),
            };
            let transfer = match m.transfer.as_str() {
                "relu" => Transfer::Relu,
                "tanh" => Transfer::Tanh,
                "id" => Transfer::Id,
                other => {
                    return Err(TrainError::invalid(
                        "model.transfer",
                        other,
                        "relu, tanh or id",
                    ));
                }
            };
            let eta = match &m.eta {
                None => vec![1.0],
                Some(EtaSection::Value(v)) => vec![*v],
                Some(EtaSection::List(v)) => v.clone(),
                Some(EtaSection::File(f)) => read_matrix(base, &f.file, "model.eta")?.1,
            };
            let recurrent = match &m.recurrent {
                None => Recurrent::Random,
                Some(RecurrentSection::Name(s)) if s == "random" => Recurrent::Random,
                Some(RecurrentSection::Name(s)) if s == "none" => Recurrent::None,
                Some(RecurrentSection::Name(s)) => {
                    return Err(TrainError::invalid(
                        "model.recurrent",
                        s,
                        "random, none, {file: W.npy} or {low_rank: {rank: …}}",
                    ));
                }
                Some(RecurrentSection::File(f)) => {
                    let (shape, data) = read_matrix(base, &f.file, "model.recurrent")?;
                    if shape != [n, n] {
                        return Err(TrainError::invalid(
                            "model.recurrent",
                            format!("an array of shape {shape:?}"),
                            format!("an N × N matrix with N = model.size = {n}"),
                        ));
                    }
                    Recurrent::Matrix(data)
                }
                Some(RecurrentSection::LowRank(w)) => {
                    let l = &w.low_rank;
                    let base_w = match &l.base {
                        Some(p) => Some(read_matrix(base, p, "model.recurrent.low_rank.base")?.1),
                        None => None,
                    };
                    Recurrent::LowRank(LowRank {
                        rank: l.rank,
                        u_eq_v: l.u_eq_v,
                        normalize: l.normalize,
                        clamp: l.clamp,
                        scale: l.scale,
                        init_std: l.init_std,
                        base: base_w,
                    })
                }
            };
            let mask = match &m.mask {
                Some(f) => Some(read_matrix(base, &f.file, "model.mask")?.1),
                None => None,
            };
            let mut spec = RateModelSpec::new(n, 1, 1);
            spec.network_type = network_type;
            spec.transfer = transfer;
            spec.eta = eta;
            spec.recurrent = recurrent;
            spec.readin = readin;
            spec.readout = readout;
            spec.bias_recurrent = m.bias_recurrent;
            spec.bias_output = m.bias_output;
            spec.rho_recurrent = m.rho_recurrent;
            spec.rho_input = m.rho_input;
            spec.rho_output = m.rho_output;
            spec.mask = mask;
            spec.dale = dale;
            spec.seed = file.seed;
            spec.trainable = t
                .parameters
                .clone()
                .unwrap_or_else(|| default_trainable(&spec));
            NetworkChoice::Rate(spec)
        }
        "spiking" => {
            let size = |l: &Layer, key: &str| match l {
                Layer::Size(k) => Ok(*k),
                _ => Err(TrainError::invalid(
                    key,
                    "a matrix or none",
                    "a size (spiking networks draw their readin and readout)",
                )),
            };
            let mut spec = SpikingSpec::new(
                n,
                size(&readin, "model.readin")?,
                size(&readout, "model.readout")?,
            );
            if let Some(v) = m.beta {
                spec.beta = v;
            }
            if let Some(v) = m.kappa {
                spec.kappa = v;
            }
            if let Some(v) = m.threshold {
                spec.threshold = v;
            }
            spec.surrogate = Surrogate {
                gain: m.surrogate_gain.unwrap_or(1.0),
                slope: m.surrogate_slope.unwrap_or(5.0),
                smooth_forward: false,
            };
            spec.rho_recurrent = m.rho_recurrent;
            spec.rho_input = m.rho_input;
            spec.rho_output = m.rho_output;
            spec.seed = file.seed;
            if let Some(p) = &t.parameters {
                spec.trainable = p.clone();
            }
            NetworkChoice::Spiking(spec)
        }
        other => return Err(TrainError::invalid("model.kind", other, "rate or spiking")),
    };
    Ok((network, task, optimizer_kind, options, f64))
}

/// Every weight and bias the model has (η stays fixed unless named).
fn default_trainable(spec: &RateModelSpec) -> Vec<String> {
    let mut names = Vec::new();
    match spec.recurrent {
        Recurrent::None => {}
        Recurrent::Random | Recurrent::Matrix(_) => names.push("recurrent"),
        Recurrent::LowRank(ref l) => {
            names.push("u");
            if !l.u_eq_v {
                names.push("v");
            }
        }
    }
    if spec.readin != Layer::Identity {
        names.push("readin");
    }
    if spec.readout != Layer::Identity {
        names.push("readout");
        if spec.bias_output {
            names.push("bias_out");
        }
    }
    if spec.bias_recurrent {
        names.push("bias");
    }
    names.into_iter().map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_file_takes_the_defaults() {
        let s = TrainSetup::from_yaml("model: {size: 10}\ntask: {kind: sine, steps: 40}\n", None)
            .unwrap();
        let NetworkChoice::Rate(spec) = &s.network else {
            panic!("a rate model")
        };
        assert_eq!(spec.readin, Layer::Size(1));
        assert_eq!(spec.readout, Layer::Size(1));
        assert_eq!(s.options.loss, LossKind::Mse);
        assert_eq!(s.options.batch_size, 32);
        assert!(spec.trainable.contains(&"recurrent".to_string()));
        assert!(!spec.trainable.contains(&"eta".to_string()));
    }

    #[test]
    fn readout_methods_and_their_alpha() {
        let file = |train: &str| {
            format!("model: {{size: 10}}\ntask: {{kind: sine, steps: 40}}\ntrain: {train}\n")
        };
        let s = TrainSetup::from_yaml(&file("{method: ridge}"), None).unwrap();
        assert_eq!(s.method, Method::Ridge { alpha: 1e-4 });
        let s = TrainSetup::from_yaml(&file("{method: rls, alpha: 2.0}"), None).unwrap();
        assert_eq!(s.method, Method::Rls { alpha: 2.0 });
        let e = TrainSetup::from_yaml(&file("{method: ridge, alpha: -1.0}"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("train.alpha") && e.contains("positive"), "{e}");
        let e = TrainSetup::from_yaml(
            "model: {kind: spiking, size: 10}\ntask: {kind: go_no_go, steps: 40}\ntrain: {method: ridge}\n",
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("train.method") && e.contains("spiking"), "{e}");
    }

    #[test]
    fn low_rank_dale_and_spiking_sections() {
        let s = TrainSetup::from_yaml(
            "model:\n  size: 10\n  recurrent: {low_rank: {rank: 2, u_eq_v: true, clamp: -1.0}}\ntask: {kind: odr, steps: 40}\n",
            None,
        )
        .unwrap();
        let NetworkChoice::Rate(spec) = &s.network else {
            panic!("a rate model")
        };
        assert!(
            matches!(&spec.recurrent, Recurrent::LowRank(l) if l.rank == 2 && l.u_eq_v && l.clamp == Some(-1.0))
        );
        assert_eq!(
            spec.trainable,
            ["u", "readin", "readout", "bias_out", "bias"]
        );
        assert_eq!(s.options.loss, LossKind::Angular);
        let s = TrainSetup::from_yaml(
            "model: {size: 10, dale: {excitatory: 0.8}}\ntask: {kind: decision, steps: 40}\n",
            None,
        )
        .unwrap();
        let NetworkChoice::Rate(spec) = &s.network else {
            panic!("a rate model")
        };
        assert_eq!(
            spec.dale
                .as_ref()
                .unwrap()
                .iter()
                .filter(|&&v| v > 0.0)
                .count(),
            8
        );
        let s = TrainSetup::from_yaml(
            "model: {kind: spiking, size: 10, beta: 0.8}\ntask: {kind: go_no_go, steps: 40}\n",
            None,
        )
        .unwrap();
        assert!(matches!(&s.network, NetworkChoice::Spiking(sp) if sp.beta == 0.8 && sp.n_in == 2));
    }

    #[test]
    fn bad_values_name_their_key_and_line() {
        let e = TrainSetup::from_yaml(
            "model: {size: 10}\ntask: {kind: sine, steps: 40}\ntrain:\n  optimizer: adagrad\n",
            None,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("line 4")
                && text.contains("`train.optimizer`")
                && text.contains("got `adagrad`"),
            "{text}"
        );
    }
}
