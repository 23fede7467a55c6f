//! NeuroSimTools' `RateModel` with its exact backpropagation-through-time adjoint.
//!
//! **R-type** (`r` is the state and the rate):
//! `r_{t+1} = r_t + η ⊙ (−r_t + f(W r_t + b + W_in x_t))`, output `y_t = W_out r_{t+1} + b_out`.
//!
//! **Z-type** (`z` is the state, `f(z)` the rate):
//! `z_{t+1} = z_t + η ⊙ (−z_t + W f(z_t) + b + W_in x_t)`, output `y_t = W_out f(z_{t+1}) + b_out`.
//!
//! Output `t` is read from the state *after* update `t` (NeuroSimTools' history convention; the
//! initial state is not an output). `f` is relu, tanh or the identity; η is a scalar or one value
//! per neuron (η = dt/τ). `W_in` and `W_out` may be absent (identity, as NeuroSimTools' `None`).
//!
//! **Recurrent weights.** `W` is built from the trainable parameters each pass:
//! * dense: `W = M ⊙ D(raw)`, with `M` an optional fixed 0/1 mask (the trainable values of a sparse
//!   mask) and `D` Dale's law, `D(raw)_{ij} = s_j |raw_{ij}|` with `s_j = ±1` the sign of
//!   presynaptic neuron `j` (Song, Yang & Wang 2016);
//! * low rank (NeuroFlame's `LowRankWeights`): `W = W₀ + κ · M ⊙ clamp(Ũ Ṽᵀ)`, `Ũ = U/‖U‖_F` when
//!   normalised (else `U`), `Ṽ` likewise, `Ṽ = Ũ` when `U = V`, clamp `max(·, c)` optional, `W₀`
//!   a fixed base matrix (default 0), κ a scale (default 1/N);
//! * none: no recurrence.
//!
//! **Adjoint.** With `g_{t+1} = ∂L/∂h_{t+1}` (h the state) and `d_t` the drive inside the update
//! (R: `a_t = W r_t + b + W_in x_t`; Z: `u_t = W f(z_t) + b + W_in x_t`):
//! * readout: `g_{t+1} += W_outᵀ ∂L/∂y_t` (times `f'(z_{t+1})` for Z), `∂W_out += ∂y_t ρ_{t+1}ᵀ`;
//! * R: `δ_t = g_{t+1} ⊙ η ⊙ f'(a_t)`, `g_t = (1−η) ⊙ g_{t+1} + Wᵀ δ_t`, `∂η += g_{t+1} ⊙ (f(a_t) − r_t)`;
//! * Z: `δ_t = g_{t+1} ⊙ η`, `g_t = (1−η) ⊙ g_{t+1} + f'(z_t) ⊙ Wᵀ δ_t`, `∂η += g_{t+1} ⊙ (u_t − z_t)`;
//! * `∂W += Σ_t δ_t s_tᵀ` (s = r, or f(z)), `∂W_in += Σ_t δ_t x_tᵀ`, `∂b += Σ_t δ_t`.
//!
//! The weight gradients are accumulated per segment as one GEMM over (steps × lanes), not per
//! step. **Checkpoint and recompute:** the forward pass keeps the state only every K steps
//! (default ⌈√T⌉); the backward pass recomputes each segment from its checkpoint, so memory is
//! O((T/K + K)·B·N) instead of O(T·B·N). **Truncated BPTT:** with `truncate = k`, `g_t` is cut to
//! zero at every `t` that is a multiple of k (the state is detached there, RectiPy's
//! `truncate_steps`); the loss terms after the cut still reach every parameter.
//!
//! Lanes (the batch) are rows: states are `B × N` row-major, inputs `T × B × N_in`, outputs
//! `T × B × N_out`.

use crate::kernels::{self, LANE_BLOCK};
use crate::linalg::{add_column_sums, gemm, mat};
use crate::packed::Packed;
use crate::params::{ParamSet, ParamSlot};
use crate::{TrainError, seeded_rng};
use neuroxide::Real;
use std::sync::Mutex;

/// R-type (the rate is the state) or Z-type (the rate is f(state)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkType {
    R,
    Z,
}

/// The transfer function f.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    Relu,
    Tanh,
    Id,
}

impl Transfer {
    #[inline]
    pub fn f<T: Real>(self, x: T) -> T {
        match self {
            Transfer::Relu => x.max(T::ZERO),
            Transfer::Tanh => x.tanh_inline(),
            Transfer::Id => x,
        }
    }
    /// `out[i] = f(x[i])`, with the match outside the loop.
    pub fn apply<T: Real>(self, x: &[T], out: &mut [T]) {
        match self {
            Transfer::Relu => out
                .iter_mut()
                .zip(x)
                .for_each(|(o, &v)| *o = v.max(T::ZERO)),
            Transfer::Tanh => out
                .iter_mut()
                .zip(x)
                .for_each(|(o, &v)| *o = v.tanh_inline()),
            Transfer::Id => out.copy_from_slice(x),
        }
    }
    /// f'(x) given x and y = f(x).
    #[inline]
    pub fn df<T: Real>(self, x: T, y: T) -> T {
        match self {
            Transfer::Relu => {
                if x > T::ZERO {
                    T::ONE
                } else {
                    T::ZERO
                }
            }
            Transfer::Tanh => T::ONE - y * y,
            Transfer::Id => T::ONE,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Transfer::Relu => "relu",
            Transfer::Tanh => "tanh",
            Transfer::Id => "id",
        }
    }
}

/// A readin or readout layer.
#[derive(Clone, Debug, PartialEq)]
pub enum Layer {
    /// No layer: the identity (NeuroSimTools' `None`); the size is N.
    Identity,
    /// A random dense layer of this many inputs (readin) or outputs (readout).
    Size(usize),
    /// A given matrix, row-major (readin N × N_in, readout N_out × N).
    Matrix {
        rows: usize,
        cols: usize,
        data: Vec<f64>,
    },
}

/// How the recurrent weights are parametrised.
#[derive(Clone, Debug, PartialEq)]
pub enum Recurrent {
    /// No recurrent coupling.
    None,
    /// Dense N × N weights drawn from N(0, ρ²/N) (NeuroSimTools' int `recurrent`).
    Random,
    /// Dense weights given as a row-major N × N matrix (post × pre).
    Matrix(Vec<f64>),
    /// `W = W₀ + κ · clamp(Ũ Ṽᵀ)`; see the module documentation.
    LowRank(LowRank),
}

/// NeuroFlame's low-rank parametrisation.
#[derive(Clone, Debug, PartialEq)]
pub struct LowRank {
    pub rank: usize,
    /// U = V (NeuroFlame's LR_UeqV): a symmetric W.
    pub u_eq_v: bool,
    /// Divide U and V by their Frobenius norms (LR_NORM).
    pub normalize: bool,
    /// Clamp the entries of Ũ Ṽᵀ from below (NeuroFlame clamps at −1).
    pub clamp: Option<f64>,
    /// κ; `None`: 1/N (NeuroFlame's division by N_E).
    pub scale: Option<f64>,
    /// Standard deviation of the initial U and V entries (LR_INI).
    pub init_std: f64,
    /// Fixed base matrix W₀, row-major N × N.
    pub base: Option<Vec<f64>>,
}

/// The structure of a RateModel (everything but the parameter values).
#[derive(Clone, Debug, PartialEq)]
pub struct RateModelSpec {
    pub n: usize,
    pub network_type: NetworkType,
    pub transfer: Transfer,
    /// η: one value, or one per neuron.
    pub eta: Vec<f64>,
    pub recurrent: Recurrent,
    pub readin: Layer,
    pub readout: Layer,
    pub bias_recurrent: bool,
    pub bias_output: bool,
    pub rho_recurrent: f64,
    pub rho_input: f64,
    pub rho_output: f64,
    /// Fixed 0/1 mask on W (row-major N × N), e.g. a sparsity pattern.
    pub mask: Option<Vec<f64>>,
    /// Dale's law: the sign (+1 or −1) of each presynaptic neuron.
    pub dale: Option<Vec<f64>>,
    /// Names of the trainable parameters (see [`RateModel::parameter_names`]).
    pub trainable: Vec<String>,
    /// Seed of the initial parameter draws.
    pub seed: u64,
}

impl RateModelSpec {
    /// A dense R-type tanh network with random readin and readout (NeuroSimTools' defaults).
    pub fn new(n: usize, n_in: usize, n_out: usize) -> Self {
        RateModelSpec {
            n,
            network_type: NetworkType::R,
            transfer: Transfer::Tanh,
            eta: vec![1.0],
            recurrent: Recurrent::Random,
            readin: Layer::Size(n_in),
            readout: Layer::Size(n_out),
            bias_recurrent: true,
            bias_output: true,
            rho_recurrent: 1.0,
            rho_input: 1.0,
            rho_output: 1.0,
            mask: None,
            dale: None,
            trainable: vec![
                "recurrent".into(),
                "readin".into(),
                "readout".into(),
                "bias".into(),
                "bias_out".into(),
            ],
            seed: 0,
        }
    }
}

/// Options of one forward/backward pass.
#[derive(Clone, Debug, Default)]
pub struct PassOptions {
    /// Keep the state every K steps and recompute in between. Default: keep every step when
    /// T·B·N ≤ 2²² values (no recomputation; 16 MB of states at f32), else K = ⌈√T⌉.
    pub checkpoint_every: Option<usize>,
    /// Truncated BPTT: detach the state every k steps.
    pub truncate: Option<usize>,
    /// λ of the rate penalty λ·mean(ρ²) over steps, lanes and neurons.
    pub rate_l2: f64,
    /// Worker threads (0: every available core). The batch is split into blocks of
    /// [`LANE_BLOCK`] lanes whatever this is, so the results are the same bits for any value.
    pub threads: usize,
}

/// What the forward pass keeps of one block of lanes (see [`LANE_BLOCK`]).
#[derive(Debug)]
struct Block<T> {
    /// First lane of the block and its number of lanes.
    first: usize,
    lanes: usize,
    /// States at steps 0, K, 2K, ... (`lanes × N` each).
    checkpoints: Vec<Vec<T>>,
    /// Every state (T+1) and pre-activation (T: f(a_t) R-type, u_t Z-type), when kept whole.
    stored: Option<(Vec<T>, Vec<T>)>,
    /// The backward pass's δ buffer, kept for the next pass (see [`RateModel::forward_reusing`]).
    scratch: Mutex<Vec<T>>,
}

impl<T: Clone> Clone for Block<T> {
    fn clone(&self) -> Self {
        Block {
            first: self.first,
            lanes: self.lanes,
            checkpoints: self.checkpoints.clone(),
            stored: self.stored.clone(),
            scratch: Mutex::new(Vec::new()),
        }
    }
}

/// What the forward pass keeps for the backward pass.
#[derive(Clone, Debug)]
pub struct Forward<T> {
    pub steps: usize,
    pub lanes: usize,
    /// Outputs `T × B × N_out`.
    pub outputs: Vec<T>,
    /// The state after the last step, `B × N`.
    pub final_state: Vec<T>,
    /// mean(ρ²) over steps, lanes and neurons (for the rate penalty).
    pub mean_rate_sq: f64,
    checkpoint_every: usize,
    blocks: Vec<Block<T>>,
}

impl<T> Forward<T> {
    /// State values kept for the backward pass (checkpoints, or every state and pre-activation).
    pub fn kept_values(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| {
                b.checkpoints.iter().map(Vec::len).sum::<usize>()
                    + b.stored.as_ref().map_or(0, |(s, d)| s.len() + d.len())
            })
            .sum()
    }
}

/// Up to this many values of T·B·N the forward pass keeps every state (see [`PassOptions`]).
pub const STORE_ALL_LIMIT: usize = 1 << 22;

/// Up to this many inputs (readin) or outputs (readout) the thin products run as element-wise
/// passes instead of GEMMs.
const THIN: usize = 16;

/// Effective matrices built from the parameters for one pass.
struct Effective<T> {
    /// W, N × N (post × pre), or empty.
    w: Vec<T>,
    /// Wᵀ and W packed for the per-step products `s Wᵀ` (forward) and `δ W` (backward).
    w_fwd: Option<Packed<T>>,
    w_bwd: Option<Packed<T>>,
    /// Intermediates of the low-rank parametrisation: Ũ, Ṽ (N × R) and P = ŨṼᵀ.
    lr: Option<(Vec<T>, Vec<T>, Vec<T>)>,
    w_in: Option<Vec<T>>,
    /// W_in transposed (N_in × N), for the element-wise input pass.
    w_in_t: Option<Vec<T>>,
    w_out: Option<Vec<T>>,
    b: Vec<T>,
    b_out: Vec<T>,
    eta: Vec<T>,
}

/// The gradients of the effective quantities from one block of lanes.
struct BlockGrad<T> {
    d_w: Vec<T>,
    d_w_in: Vec<T>,
    d_w_out: Vec<T>,
    d_b: Vec<T>,
    d_b_out: Vec<T>,
    d_eta: Vec<T>,
}

/// The blocks (first lane, lanes) of a batch of `lanes` trials; one (empty) block for none.
fn lane_blocks(lanes: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..lanes.div_ceil(LANE_BLOCK).max(1)).map(move |i| {
        let first = i * LANE_BLOCK;
        (first, LANE_BLOCK.min(lanes - first.min(lanes)))
    })
}

/// `v` resized to `len` (contents unspecified), reusing its allocation.
fn sized<T: Real>(mut v: Vec<T>, len: usize) -> Vec<T> {
    v.resize(len, T::ZERO);
    v
}
/// A RateModel: structure plus parameter values in precision `T`.
#[derive(Clone, Debug)]
pub struct RateModel<T: Real> {
    pub spec: RateModelSpec,
    pub params: ParamSet<T>,
    pub n_in: usize,
    pub n_out: usize,
}

impl<T: Real> RateModel<T> {
    /// Build and initialise a model; every structural problem is an error naming the key.
    pub fn new(spec: RateModelSpec) -> Result<Self, TrainError> {
        let n = spec.n;
        if n == 0 {
            return Err(TrainError::invalid("model.size", 0, "at least one neuron"));
        }
        if spec.eta.len() != 1 && spec.eta.len() != n {
            return Err(TrainError::invalid(
                "model.eta",
                format!("{} values", spec.eta.len()),
                format!("one value or one per neuron ({n})"),
            ));
        }
        if let Some(bad) = spec.eta.iter().find(|e| !(**e > 0.0 && **e <= 1.0)) {
            return Err(TrainError::invalid("model.eta", bad, "η = dt/τ in (0, 1]"));
        }
        let n_in = match &spec.readin {
            Layer::Identity => n,
            Layer::Size(k) => *k,
            Layer::Matrix { rows, cols, .. } => {
                if *rows != n {
                    return Err(TrainError::invalid(
                        "model.readin",
                        format!("a {rows} × {cols} matrix"),
                        format!("N × N_in with N = {n}"),
                    ));
                }
                *cols
            }
        };
        let n_out = match &spec.readout {
            Layer::Identity => n,
            Layer::Size(k) => *k,
            Layer::Matrix { rows, cols, .. } => {
                if *cols != n {
                    return Err(TrainError::invalid(
                        "model.readout",
                        format!("a {rows} × {cols} matrix"),
                        format!("N_out × N with N = {n}"),
                    ));
                }
                *rows
            }
        };
        if n_in == 0 || n_out == 0 {
            return Err(TrainError::invalid(
                if n_in == 0 {
                    "model.readin"
                } else {
                    "model.readout"
                },
                0,
                "a positive size",
            ));
        }
        for (key, m) in [("model.mask", &spec.mask)] {
            if let Some(m) = m
                && m.len() != n * n
            {
                return Err(TrainError::invalid(
                    key,
                    format!("{} values", m.len()),
                    format!("an N × N matrix (N = {n})"),
                ));
            }
        }
        if let Some(d) = &spec.dale {
            if d.len() != n {
                return Err(TrainError::invalid(
                    "model.dale",
                    format!("{} signs", d.len()),
                    format!("one sign per neuron ({n})"),
                ));
            }
            if let Some(bad) = d.iter().find(|s| **s != 1.0 && **s != -1.0) {
                return Err(TrainError::invalid("model.dale", bad, "signs +1 or −1"));
            }
            if matches!(spec.recurrent, Recurrent::LowRank(_) | Recurrent::None) {
                return Err(TrainError::invalid(
                    "model.dale",
                    "a sign per neuron",
                    "dense recurrent weights (Dale's law is not defined for low-rank or absent ones)",
                ));
            }
        }
        let mut rng = seeded_rng(spec.seed, "train.init");
        let mut slots: Vec<(ParamSlot, Vec<f64>)> = Vec::new();
        let normal = |rng: &mut neuroxide::rng::CounterRng, len: usize, std: f64| -> Vec<f64> {
            (0..len).map(|_| rng.next_normal() * std).collect()
        };
        match &spec.recurrent {
            Recurrent::None => {}
            Recurrent::Random => {
                let mut w = normal(&mut rng, n * n, spec.rho_recurrent / (n as f64).sqrt());
                if spec.dale.is_some() {
                    // Under Dale's law the magnitude is |raw|; start from positive raw values.
                    for v in w.iter_mut() {
                        *v = v.abs();
                    }
                }
                slots.push((ParamSlot::new("recurrent", &[n, n]), w));
            }
            Recurrent::Matrix(w) => {
                if w.len() != n * n {
                    return Err(TrainError::invalid(
                        "model.recurrent",
                        format!("{} values", w.len()),
                        format!("an N × N matrix (N = {n})"),
                    ));
                }
                slots.push((ParamSlot::new("recurrent", &[n, n]), w.clone()));
            }
            Recurrent::LowRank(lr) => {
                if lr.rank == 0 || lr.rank > n {
                    return Err(TrainError::invalid(
                        "model.recurrent.low_rank.rank",
                        lr.rank,
                        format!("a rank in 1..={n}"),
                    ));
                }
                if let Some(b) = &lr.base
                    && b.len() != n * n
                {
                    return Err(TrainError::invalid(
                        "model.recurrent.low_rank.base",
                        format!("{} values", b.len()),
                        format!("an N × N matrix (N = {n})"),
                    ));
                }
                slots.push((
                    ParamSlot::new("u", &[n, lr.rank]),
                    normal(&mut rng, n * lr.rank, lr.init_std),
                ));
                if !lr.u_eq_v {
                    slots.push((
                        ParamSlot::new("v", &[n, lr.rank]),
                        normal(&mut rng, n * lr.rank, lr.init_std),
                    ));
                }
            }
        }
        match &spec.readin {
            Layer::Identity => {}
            Layer::Size(k) => slots.push((
                ParamSlot::new("readin", &[n, *k]),
                normal(&mut rng, n * k, spec.rho_input / (*k as f64).sqrt()),
            )),
            Layer::Matrix { rows, cols, data } => {
                slots.push((ParamSlot::new("readin", &[*rows, *cols]), data.clone()))
            }
        }
        match &spec.readout {
            Layer::Identity => {}
            // NeuroSimTools' code divides by √N_out (its README says √N).
            Layer::Size(k) => slots.push((
                ParamSlot::new("readout", &[*k, n]),
                normal(&mut rng, n * k, spec.rho_output / (*k as f64).sqrt()),
            )),
            Layer::Matrix { rows, cols, data } => {
                slots.push((ParamSlot::new("readout", &[*rows, *cols]), data.clone()))
            }
        }
        // torch.nn.Linear's default bias: U(−1/√fan_in, 1/√fan_in), fan_in = N.
        let bound = 1.0 / (n as f64).sqrt();
        if spec.bias_recurrent {
            let b = (0..n)
                .map(|_| (2.0 * rng.next_f64() - 1.0) * bound)
                .collect();
            slots.push((ParamSlot::new("bias", &[n]), b));
        }
        if spec.bias_output && spec.readout != Layer::Identity {
            let b = (0..n_out)
                .map(|_| (2.0 * rng.next_f64() - 1.0) * bound)
                .collect();
            slots.push((ParamSlot::new("bias_out", &[n_out]), b));
        }
        let eta: Vec<f64> = (0..n)
            .map(|i| spec.eta[if spec.eta.len() == 1 { 0 } else { i }])
            .collect();
        slots.push((ParamSlot::new("eta", &[n]), eta));
        let names: Vec<&str> = slots.iter().map(|(s, _)| s.name.as_str()).collect();
        for t in &spec.trainable {
            if !names.contains(&t.as_str()) {
                return Err(TrainError::invalid(
                    "train.parameters",
                    t,
                    format!(
                        "the name of a parameter of this model ({})",
                        names.join(", ")
                    ),
                ));
            }
        }
        for (slot, _) in slots.iter_mut() {
            slot.trainable = spec.trainable.contains(&slot.name);
        }
        let params = ParamSet::from_slots(slots);
        Ok(RateModel {
            spec,
            params,
            n_in,
            n_out,
        })
    }

    /// The parameter names of this model, in storage order.
    pub fn parameter_names(&self) -> Vec<String> {
        self.params.slots.iter().map(|s| s.name.clone()).collect()
    }

    pub fn n(&self) -> usize {
        self.spec.n
    }

    fn effective(&self) -> Effective<T> {
        let n = self.spec.n;
        let p = &self.params;
        let mut w = Vec::new();
        let mut lr_parts = None;
        match &self.spec.recurrent {
            Recurrent::None => {}
            Recurrent::Random | Recurrent::Matrix(_) => {
                w = p.get("recurrent").unwrap().to_vec();
                if let Some(d) = &self.spec.dale {
                    for (i, v) in w.iter_mut().enumerate() {
                        let a = if *v < T::ZERO { -*v } else { *v };
                        *v = a * T::from_f64(d[i % n]);
                    }
                }
                if let Some(m) = &self.spec.mask {
                    for (v, &mk) in w.iter_mut().zip(m) {
                        *v *= T::from_f64(mk);
                    }
                }
            }
            Recurrent::LowRank(lr) => {
                let r = lr.rank;
                let norm = |x: &[T]| -> Vec<T> {
                    if lr.normalize {
                        let s = x.iter().map(|&v| v * v).sum::<T>().sqrt();
                        x.iter().map(|&v| v / s).collect()
                    } else {
                        x.to_vec()
                    }
                };
                let u = norm(p.get("u").unwrap());
                let v = if lr.u_eq_v {
                    u.clone()
                } else {
                    norm(p.get("v").unwrap())
                };
                let mut pm = vec![T::ZERO; n * n];
                gemm(
                    &mut pm,
                    n,
                    n,
                    mat(&u, n, r),
                    mat(&v, n, r).transpose(),
                    false,
                    T::ONE,
                );
                let kappa = T::from_f64(lr.scale.unwrap_or(1.0 / n as f64));
                w = vec![T::ZERO; n * n];
                for i in 0..n * n {
                    let mut x = pm[i];
                    if let Some(c) = lr.clamp {
                        x = x.max(T::from_f64(c));
                    }
                    x *= kappa;
                    if let Some(m) = &self.spec.mask {
                        x *= T::from_f64(m[i]);
                    }
                    if let Some(b) = &lr.base {
                        x += T::from_f64(b[i]);
                    }
                    w[i] = x;
                }
                lr_parts = Some((u, v, pm));
            }
        }
        let packs = (!w.is_empty()).then(|| (Packed::transposed(&w, n, n), Packed::new(&w, n, n)));
        let (w_fwd, w_bwd) = packs.unzip();
        Effective {
            w,
            w_fwd,
            w_bwd,
            lr: lr_parts,
            w_in: p.get("readin").map(<[T]>::to_vec),
            w_in_t: p.get("readin").filter(|_| self.n_in <= THIN).map(|w| {
                let mut t = vec![T::ZERO; w.len()];
                for j in 0..n {
                    for k in 0..self.n_in {
                        t[k * n + j] = w[j * self.n_in + k];
                    }
                }
                t
            }),
            w_out: p.get("readout").map(<[T]>::to_vec),
            b: p.get("bias")
                .map_or_else(|| vec![T::ZERO; n], <[T]>::to_vec),
            b_out: p
                .get("bias_out")
                .map_or_else(|| vec![T::ZERO; self.n_out], <[T]>::to_vec),
            eta: p.get("eta").unwrap().to_vec(),
        }
    }

    /// Check the input shape of a pass.
    fn check_input(&self, x: &[T], steps: usize, lanes: usize) -> Result<(), TrainError> {
        if x.len() != steps * lanes * self.n_in {
            return Err(TrainError::Shape(format!(
                "the input has {} values, expected steps × lanes × inputs = {steps} × {lanes} × {}",
                x.len(),
                self.n_in
            )));
        }
        Ok(())
    }

    /// One Euler step of a block of `lanes` rows from `h` into `h_next`; `pre` receives what
    /// the backward pass needs of the step (f(a_t) R-type, the drive u_t Z-type).
    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        e: &Effective<T>,
        x_t: &[T],
        lanes: usize,
        h: &[T],
        h_next: &mut [T],
        pre: &mut [T],
        phi: &mut [T],
    ) {
        let n = self.spec.n;
        let n_in = self.n_in;
        let f = self.spec.transfer;
        // pre = x W_inᵀ + b (+ s Wᵀ)
        match (&e.w_in, &e.w_in_t) {
            (Some(_), Some(w_t)) => kernels::input_drive(pre, n, x_t, n_in, Some(w_t), &e.b),
            (Some(w_in), None) => {
                gemm(
                    pre,
                    lanes,
                    n,
                    mat(x_t, lanes, n_in),
                    mat(w_in, n, n_in).transpose(),
                    false,
                    T::ONE,
                );
                kernels::input_drive(pre, n, &[], 0, Some(&[]), &e.b);
            }
            (None, _) => kernels::input_drive(pre, n, x_t, n, None, &e.b),
        }
        let z_type = self.spec.network_type == NetworkType::Z;
        if let Some(w_fwd) = &e.w_fwd {
            let source: &[T] = if z_type {
                kernels::apply(f, h, phi);
                phi
            } else {
                h
            };
            w_fwd.product(pre, lanes, source, true);
        }
        if z_type {
            kernels::euler_z(n, pre, h, h_next, &e.eta);
        } else {
            kernels::euler_r(f, n, pre, h, h_next, &e.eta);
        }
    }

    /// `y = W_out ρ + b_out` for a block of `lanes` rows.
    fn readout(&self, e: &Effective<T>, rate: &[T], lanes: usize, y: &mut [T]) {
        let n = self.spec.n;
        match &e.w_out {
            Some(w_out) => gemm(
                y,
                lanes,
                self.n_out,
                mat(rate, lanes, n),
                mat(w_out, self.n_out, n).transpose(),
                false,
                T::ONE,
            ),
            None => y.copy_from_slice(&rate[..lanes * n]),
        }
        for row in y.chunks_exact_mut(self.n_out) {
            for (v, &b) in row.iter_mut().zip(&e.b_out) {
                *v += b;
            }
        }
    }

    /// Run `steps` steps on `lanes` trials of input `x` (`T × B × N_in`) from `initial` (B × N,
    /// default zero), keeping checkpoints for [`RateModel::backward`].
    pub fn forward(
        &self,
        x: &[T],
        steps: usize,
        lanes: usize,
        initial: Option<&[T]>,
        options: &PassOptions,
    ) -> Result<Forward<T>, TrainError> {
        self.forward_reusing(x, steps, lanes, initial, options, None)
    }

    /// [`RateModel::forward`], reusing the buffers of an earlier pass (`spare`) where their sizes
    /// fit; the numbers are the same.
    pub fn forward_reusing(
        &self,
        x: &[T],
        steps: usize,
        lanes: usize,
        initial: Option<&[T]>,
        options: &PassOptions,
        spare: Option<Forward<T>>,
    ) -> Result<Forward<T>, TrainError> {
        self.check_input(x, steps, lanes)?;
        let n = self.spec.n;
        if let Some(s) = initial
            && s.len() != lanes * n
        {
            return Err(TrainError::Shape(format!(
                "the initial state has {} values, expected lanes × N = {lanes} × {n}",
                s.len()
            )));
        }
        let e = self.effective();
        let store_all = options.checkpoint_every.is_none() && steps * lanes * n <= STORE_ALL_LIMIT;
        let k = if store_all {
            steps.max(1)
        } else {
            options
                .checkpoint_every
                .unwrap_or_else(|| (steps as f64).sqrt().ceil() as usize)
                .max(1)
        };
        let mut spares = spare.map(|f| f.blocks).unwrap_or_default().into_iter();
        let jobs: Vec<(usize, usize, Option<Block<T>>)> = lane_blocks(lanes)
            .map(|(first, blk)| (first, blk, spares.next()))
            .collect();
        let want_sq = options.rate_l2 != 0.0;
        let results = kernels::par_map(options.threads, jobs, |(first, blk, spare)| {
            self.forward_block(
                &e, x, steps, lanes, first, blk, initial, k, store_all, want_sq, spare,
            )
        });
        let n_out = self.n_out;
        let mut outputs = vec![T::ZERO; steps * lanes * n_out];
        let mut final_state = vec![T::ZERO; lanes * n];
        let mut rate_sq = 0.0;
        let mut blocks = Vec::with_capacity(results.len());
        for (block, out, last, sq) in results {
            let (first, blk) = (block.first, block.lanes);
            for t in 0..steps {
                let dst = (t * lanes + first) * n_out;
                outputs[dst..dst + blk * n_out]
                    .copy_from_slice(&out[t * blk * n_out..(t + 1) * blk * n_out]);
            }
            final_state[first * n..(first + blk) * n].copy_from_slice(&last);
            rate_sq += sq;
            blocks.push(block);
        }
        Ok(Forward {
            steps,
            lanes,
            outputs,
            final_state,
            mean_rate_sq: rate_sq / (steps * lanes * n).max(1) as f64,
            checkpoint_every: k,
            blocks,
        })
    }

    /// The rate ρ after every step (`T × B × N`: the state R-type, f(state) Z-type) of a pass on
    /// `x` (`T × B × N_in`) from zero.
    pub fn rates(
        &self,
        x: &[T],
        steps: usize,
        lanes: usize,
        options: &PassOptions,
    ) -> Result<Vec<T>, TrainError> {
        self.check_input(x, steps, lanes)?;
        let n = self.spec.n;
        let e = self.effective();
        let jobs: Vec<(usize, usize)> = lane_blocks(lanes).collect();
        let k = steps.max(1);
        let results = kernels::par_map(options.threads, jobs, |(first, blk)| {
            self.forward_block(&e, x, steps, lanes, first, blk, None, k, true, false, None)
        });
        let mut rates = vec![T::ZERO; steps * lanes * n];
        for (block, ..) in results {
            let (first, bn) = (block.first, block.lanes * n);
            let (states, _) = block.stored.expect("every state is kept");
            for t in 0..steps {
                let dst = (t * lanes + first) * n;
                rates[dst..dst + bn].copy_from_slice(&states[(t + 1) * bn..(t + 2) * bn]);
            }
        }
        if self.spec.network_type == NetworkType::Z {
            let z = rates.clone();
            kernels::apply(self.spec.transfer, &z, &mut rates);
        }
        Ok(rates)
    }

    /// The forward pass of lanes `first .. first + blk`: the block's cache, its outputs
    /// (`T × blk × N_out`), its final state and Σρ² (when `want_sq`).
    #[allow(clippy::too_many_arguments)]
    fn forward_block(
        &self,
        e: &Effective<T>,
        x: &[T],
        steps: usize,
        lanes: usize,
        first: usize,
        blk: usize,
        initial: Option<&[T]>,
        k: usize,
        store_all: bool,
        want_sq: bool,
        spare: Option<Block<T>>,
    ) -> (Block<T>, Vec<T>, Vec<T>, f64) {
        let n = self.spec.n;
        let (n_in, n_out) = (self.n_in, self.n_out);
        let f = self.spec.transfer;
        let z_type = self.spec.network_type == NetworkType::Z;
        let bn = blk * n;
        let (mut old_checkpoints, old_stored, scratch) = match spare {
            Some(b) => (b.checkpoints, b.stored, b.scratch),
            None => (Vec::new(), None, Mutex::new(Vec::new())),
        };
        let mut h = vec![T::ZERO; bn];
        if let Some(s) = initial {
            h.copy_from_slice(&s[first * n..(first + blk) * n]);
        }
        let mut h_next = vec![T::ZERO; bn];
        let mut pre = vec![T::ZERO; bn];
        let mut phi = vec![T::ZERO; bn];
        let mut out = vec![T::ZERO; steps * blk * n_out];
        let mut checkpoints = Vec::with_capacity(steps.div_ceil(k));
        let mut stored = store_all.then(|| {
            let (s, p) = old_stored.unwrap_or_default();
            (sized(s, (steps + 1) * bn), sized(p, steps * bn))
        });
        if let Some((states, _)) = &mut stored {
            states[..bn].copy_from_slice(&h);
        }
        let mut rate_sq = 0.0;
        for t in 0..steps {
            let x_t = &x[(t * lanes + first) * n_in..(t * lanes + first + blk) * n_in];
            if t % k == 0 {
                let mut c = old_checkpoints.pop().unwrap_or_default();
                c.clear();
                c.extend_from_slice(match &stored {
                    Some((states, _)) => &states[t * bn..(t + 1) * bn],
                    None => &h,
                });
                checkpoints.push(c);
            }
            let next: &[T] = match &mut stored {
                Some((states, pres)) => {
                    let (head, tail) = states.split_at_mut((t + 1) * bn);
                    let pre_t = &mut pres[t * bn..(t + 1) * bn];
                    self.step(
                        e,
                        x_t,
                        blk,
                        &head[t * bn..],
                        &mut tail[..bn],
                        pre_t,
                        &mut phi,
                    );
                    &tail[..bn]
                }
                None => {
                    self.step(e, x_t, blk, &h, &mut h_next, &mut pre, &mut phi);
                    std::mem::swap(&mut h, &mut h_next);
                    &h
                }
            };
            let rate: &[T] = if z_type {
                kernels::apply(f, next, &mut phi);
                &phi
            } else {
                next
            };
            self.readout(
                e,
                rate,
                blk,
                &mut out[t * blk * n_out..(t + 1) * blk * n_out],
            );
            if want_sq {
                rate_sq += rate.iter().map(|v| v.to_f64() * v.to_f64()).sum::<f64>();
            }
        }
        let last = match &stored {
            Some((states, _)) => states[steps * bn..(steps + 1) * bn].to_vec(),
            None => h,
        };
        let block = Block {
            first,
            lanes: blk,
            checkpoints,
            stored,
            scratch,
        };
        (block, out, last, rate_sq)
    }

    /// The gradient of the loss with respect to every parameter (same layout as
    /// [`RateModel::params`]; untrainable parameters get zeros), given ∂L/∂outputs
    /// (`T × B × N_out`). Adds the rate penalty of `options.rate_l2`.
    pub fn backward(
        &self,
        fwd: &Forward<T>,
        x: &[T],
        d_outputs: &[T],
        options: &PassOptions,
    ) -> Result<Vec<T>, TrainError> {
        let (steps, lanes) = (fwd.steps, fwd.lanes);
        self.check_input(x, steps, lanes)?;
        if d_outputs.len() != fwd.outputs.len() {
            return Err(TrainError::Shape(format!(
                "the output gradient has {} values, expected {}",
                d_outputs.len(),
                fwd.outputs.len()
            )));
        }
        let n = self.spec.n;
        let e = self.effective();
        let rate_c = T::from_f64(2.0 * options.rate_l2 / (steps * lanes * n).max(1) as f64);
        let jobs: Vec<&Block<T>> = fwd.blocks.iter().collect();
        let grads = kernels::par_map(options.threads, jobs, |block| {
            self.backward_block(&e, fwd, block, x, d_outputs, options, rate_c)
        });
        // Sum the blocks' gradients in block order (the same bits for any thread count).
        let mut grads = grads.into_iter();
        let mut total = grads.next().expect("a forward pass has at least one block");
        for g in grads {
            for (a, b) in [
                (&mut total.d_w, &g.d_w),
                (&mut total.d_w_in, &g.d_w_in),
                (&mut total.d_w_out, &g.d_w_out),
                (&mut total.d_b, &g.d_b),
                (&mut total.d_b_out, &g.d_b_out),
                (&mut total.d_eta, &g.d_eta),
            ] {
                for (x, &y) in a.iter_mut().zip(b) {
                    *x += y;
                }
            }
        }
        Ok(self.parameter_gradient(&e, total))
    }

    /// The backward pass of one block of lanes.
    #[allow(clippy::too_many_arguments)]
    fn backward_block(
        &self,
        e: &Effective<T>,
        fwd: &Forward<T>,
        block: &Block<T>,
        x: &[T],
        d_outputs: &[T],
        options: &PassOptions,
        rate_c: T,
    ) -> BlockGrad<T> {
        let (steps, lanes) = (fwd.steps, fwd.lanes);
        let n = self.spec.n;
        let (first, blk) = (block.first, block.lanes);
        let bn = blk * n;
        let (n_in, n_out) = (self.n_in, self.n_out);
        let f = self.spec.transfer;
        let z_type = self.spec.network_type == NetworkType::Z;
        let k = fwd.checkpoint_every;

        let mut gr = BlockGrad {
            d_w: vec![T::ZERO; if e.w.is_empty() { 0 } else { n * n }],
            d_w_in: vec![T::ZERO; if e.w_in.is_some() { n * n_in } else { 0 }],
            d_w_out: vec![T::ZERO; if e.w_out.is_some() { n_out * n } else { 0 }],
            d_b: vec![T::ZERO; n],
            d_b_out: vec![T::ZERO; n_out],
            d_eta: vec![T::ZERO; n],
        };
        let zeros = vec![T::ZERO; n];

        // Segment buffers: states (len+1), pre-activations, deltas; the segment's inputs and
        // output gradients gathered for this block.
        let recompute = block.stored.is_none();
        let mut states_buf = vec![T::ZERO; if recompute { (k + 1) * bn } else { 0 }];
        let mut pres_buf = vec![T::ZERO; if recompute { k * bn } else { 0 }];
        let mut deltas = {
            let mut kept = block.scratch.lock().unwrap_or_else(|e| e.into_inner());
            sized(std::mem::take(&mut *kept), k * bn)
        };
        let mut xs = vec![T::ZERO; k * blk * n_in];
        let mut dys = vec![T::ZERO; k * blk * n_out];
        let mut rates = vec![T::ZERO; if z_type { (k + 1) * bn } else { 0 }];
        let mut phi = vec![T::ZERO; bn];
        let mut g = vec![T::ZERO; bn];
        let mut d_rate = vec![T::ZERO; bn];
        let mut g_prev = vec![T::ZERO; bn];
        let mut tmp = vec![T::ZERO; if z_type { bn } else { 0 }];

        for (s, checkpoint) in block.checkpoints.iter().enumerate().rev() {
            let t0 = s * k;
            let t1 = (t0 + k).min(steps);
            let len = t1 - t0;
            for i in 0..len {
                let t = t0 + i;
                let (src, dst) = ((t * lanes + first) * n_in, i * blk * n_in);
                xs[dst..dst + blk * n_in].copy_from_slice(&x[src..src + blk * n_in]);
                let (src, dst) = ((t * lanes + first) * n_out, i * blk * n_out);
                dys[dst..dst + blk * n_out].copy_from_slice(&d_outputs[src..src + blk * n_out]);
            }
            // Recompute the segment (or use the states kept whole).
            let (states, pres): (&[T], &[T]) = match &block.stored {
                Some((st, pr)) => (st, pr),
                None => {
                    states_buf[..bn].copy_from_slice(checkpoint);
                    for i in 0..len {
                        let (head, tail) = states_buf.split_at_mut((i + 1) * bn);
                        self.step(
                            e,
                            &xs[i * blk * n_in..(i + 1) * blk * n_in],
                            blk,
                            &head[i * bn..],
                            &mut tail[..bn],
                            &mut pres_buf[i * bn..(i + 1) * bn],
                            &mut phi,
                        );
                    }
                    (&states_buf, &pres_buf)
                }
            };
            // ρ at steps t0 ..= t1: the state (R), or f of it (Z), once per segment.
            let rate: &[T] = if z_type {
                kernels::apply(f, &states[..(len + 1) * bn], &mut rates[..(len + 1) * bn]);
                &rates
            } else {
                states
            };
            // Backward through the segment.
            for i in (0..len).rev() {
                let t = t0 + i;
                let h = &states[i * bn..(i + 1) * bn];
                let h_next = &states[(i + 1) * bn..(i + 2) * bn];
                let dy = &dys[i * blk * n_out..(i + 1) * blk * n_out];
                // ∂L/∂rate_{t+1}
                match &e.w_out {
                    Some(w_out) if n_out <= THIN => {
                        kernels::input_drive(&mut d_rate, n, dy, n_out, Some(w_out), &zeros)
                    }
                    Some(w_out) => gemm(
                        &mut d_rate,
                        blk,
                        n,
                        mat(dy, blk, n_out),
                        mat(w_out, n_out, n),
                        false,
                        T::ONE,
                    ),
                    None => d_rate.copy_from_slice(&dy[..bn]),
                }
                let pre = &pres[i * bn..(i + 1) * bn];
                let delta = &mut deltas[i * bn..(i + 1) * bn];
                if z_type {
                    kernels::backward_z(
                        f,
                        n,
                        &mut g,
                        &d_rate,
                        rate_c,
                        h,
                        &rate[(i + 1) * bn..(i + 2) * bn],
                        pre,
                        &e.eta,
                        delta,
                        &mut gr.d_eta,
                        &mut g_prev,
                    );
                    if let Some(w_bwd) = &e.w_bwd {
                        w_bwd.product(&mut tmp, blk, delta, false);
                        kernels::add_df_product(f, &mut g_prev, &rate[i * bn..(i + 1) * bn], &tmp);
                    }
                } else {
                    kernels::backward_r(
                        f,
                        n,
                        &mut g,
                        &d_rate,
                        rate_c,
                        h,
                        h_next,
                        pre,
                        &e.eta,
                        delta,
                        &mut gr.d_eta,
                        &mut g_prev,
                    );
                    if let Some(w_bwd) = &e.w_bwd {
                        w_bwd.product(&mut g_prev, blk, delta, true);
                    }
                }
                if let Some(tr) = options.truncate
                    && tr > 0
                    && t.is_multiple_of(tr)
                {
                    g_prev.iter_mut().for_each(|v| *v = T::ZERO);
                }
                std::mem::swap(&mut g, &mut g_prev);
            }
            // Weight gradients of the segment, one GEMM each over len·blk rows.
            let rows = len * blk;
            let delta_seg = mat(&deltas[..rows * n], rows, n);
            if !gr.d_w.is_empty() {
                gemm(
                    &mut gr.d_w,
                    n,
                    n,
                    delta_seg.transpose(),
                    mat(rate, rows, n),
                    true,
                    T::ONE,
                );
            }
            if !gr.d_w_in.is_empty() {
                gemm(
                    &mut gr.d_w_in,
                    n,
                    n_in,
                    delta_seg.transpose(),
                    mat(&xs, rows, n_in),
                    true,
                    T::ONE,
                );
            }
            add_column_sums(&mut gr.d_b, &deltas[..rows * n], n);
            if !gr.d_w_out.is_empty() {
                gemm(
                    &mut gr.d_w_out,
                    n_out,
                    n,
                    mat(&dys, rows, n_out).transpose(),
                    mat(&rate[bn..(len + 1) * bn], rows, n),
                    true,
                    T::ONE,
                );
            }
            add_column_sums(&mut gr.d_b_out, &dys[..rows * n_out], n_out);
        }
        *block.scratch.lock().unwrap_or_else(|e| e.into_inner()) = deltas;
        gr
    }

    /// Gradients of the effective quantities → gradients of the parameters.
    fn parameter_gradient(&self, e: &Effective<T>, gr: BlockGrad<T>) -> Vec<T> {
        let n = self.spec.n;
        let BlockGrad {
            d_w,
            d_w_in,
            d_w_out,
            d_b,
            d_b_out,
            d_eta,
        } = gr;
        let mut grad = vec![T::ZERO; self.params.values.len()];
        let p = &self.params;
        let mut put = |name: &str, values: &[T]| {
            if let Some(slot) = p.slot(name)
                && slot.trainable
            {
                grad[slot.offset..slot.offset + slot.len].copy_from_slice(values);
            }
        };
        match &self.spec.recurrent {
            Recurrent::None => {}
            Recurrent::Random | Recurrent::Matrix(_) => {
                let raw = p.get("recurrent").unwrap();
                let mut d_raw = d_w.clone();
                for i in 0..n * n {
                    if let Some(m) = &self.spec.mask {
                        d_raw[i] *= T::from_f64(m[i]);
                    }
                    if let Some(d) = &self.spec.dale {
                        let sgn = if raw[i] > T::ZERO {
                            T::ONE
                        } else if raw[i] < T::ZERO {
                            -T::ONE
                        } else {
                            T::ZERO
                        };
                        d_raw[i] *= sgn * T::from_f64(d[i % n]);
                    }
                }
                put("recurrent", &d_raw);
            }
            Recurrent::LowRank(lr) => {
                let r = lr.rank;
                let (u, v, pm) = e.lr.as_ref().unwrap();
                let kappa = T::from_f64(lr.scale.unwrap_or(1.0 / n as f64));
                let mut d_p = vec![T::ZERO; n * n];
                for i in 0..n * n {
                    let mut d = d_w[i] * kappa;
                    if let Some(m) = &self.spec.mask {
                        d *= T::from_f64(m[i]);
                    }
                    if let Some(c) = lr.clamp
                        && pm[i] < T::from_f64(c)
                    {
                        d = T::ZERO;
                    }
                    d_p[i] = d;
                }
                // P = Ũ Ṽᵀ: ∂Ũ = ∂P Ṽ, ∂Ṽ = ∂Pᵀ Ũ.
                let mut d_u = vec![T::ZERO; n * r];
                let mut d_v = vec![T::ZERO; n * r];
                gemm(&mut d_u, n, r, mat(&d_p, n, n), mat(v, n, r), false, T::ONE);
                gemm(
                    &mut d_v,
                    n,
                    r,
                    mat(&d_p, n, n).transpose(),
                    mat(u, n, r),
                    false,
                    T::ONE,
                );
                if lr.u_eq_v {
                    for (a, &b) in d_u.iter_mut().zip(&d_v) {
                        *a += b;
                    }
                }
                // x̃ = x/‖x‖: ∂x = (∂x̃ − x̃ (x̃·∂x̃)) / ‖x‖.
                let unnorm = |raw: &[T], tilde: &[T], d: &mut [T]| {
                    if lr.normalize {
                        let s = raw.iter().map(|&v| v * v).sum::<T>().sqrt();
                        let dot: T = tilde.iter().zip(d.iter()).map(|(&a, &b)| a * b).sum();
                        for (dv, &tv) in d.iter_mut().zip(tilde) {
                            *dv = (*dv - tv * dot) / s;
                        }
                    }
                };
                unnorm(p.get("u").unwrap(), u, &mut d_u);
                put("u", &d_u);
                if !lr.u_eq_v {
                    unnorm(p.get("v").unwrap(), v, &mut d_v);
                    put("v", &d_v);
                }
            }
        }
        put("readin", &d_w_in);
        put("readout", &d_w_out);
        put("bias", &d_b);
        put("bias_out", &d_b_out);
        put("eta", &d_eta);
        grad
    }

    /// The effective recurrent matrix W (N × N, post × pre), row-major; empty without recurrence.
    pub fn recurrent_matrix(&self) -> Vec<T> {
        self.effective().w
    }

    /// Clamp η into (0, 1] after an optimiser step (a larger η makes Euler unstable).
    pub fn project(&mut self) {
        if let Some(slot) = self.params.slot("eta").cloned()
            && slot.trainable
        {
            for v in &mut self.params.values[slot.offset..slot.offset + slot.len] {
                *v = v.max(T::from_f64(1e-4));
                if *v > T::ONE {
                    *v = T::ONE;
                }
            }
        }
    }
}
