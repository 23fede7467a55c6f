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

use crate::linalg::{add_column_sums, gemm, mat};
use crate::params::{ParamSet, ParamSlot};
use crate::{TrainError, seeded_rng};
use neuroxide::Real;

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
    /// States at steps 0, K, 2K, ... (`B × N` each).
    checkpoints: Vec<Vec<T>>,
    /// Every state (T+1) and drive (T), when kept whole.
    stored: Option<(Vec<T>, Vec<T>)>,
}

impl<T> Forward<T> {
    /// State values kept for the backward pass (checkpoints, or every state and drive).
    pub fn kept_values(&self) -> usize {
        self.checkpoints.iter().map(Vec::len).sum::<usize>()
            + self.stored.as_ref().map_or(0, |(s, d)| s.len() + d.len())
    }
}

/// Up to this many values of T·B·N the forward pass keeps every state (see [`PassOptions`]).
pub const STORE_ALL_LIMIT: usize = 1 << 22;

/// Effective matrices built from the parameters for one pass.
struct Effective<T> {
    /// W, N × N (post × pre), or empty.
    w: Vec<T>,
    /// Intermediates of the low-rank parametrisation: Ũ, Ṽ (N × R) and P = ŨṼᵀ.
    lr: Option<(Vec<T>, Vec<T>, Vec<T>)>,
    w_in: Option<Vec<T>>,
    w_out: Option<Vec<T>>,
    b: Vec<T>,
    b_out: Vec<T>,
    eta: Vec<T>,
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
        Effective {
            w,
            lr: lr_parts,
            w_in: p.get("readin").map(<[T]>::to_vec),
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

    /// One Euler step from `h` (B × N) into `h_next`, writing the drive into `drive` and, when
    /// given, the output into `y` (B × N_out).
    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        e: &Effective<T>,
        x_t: &[T],
        lanes: usize,
        h: &[T],
        h_next: &mut [T],
        drive: &mut [T],
        phi: &mut [T],
        y: Option<&mut [T]>,
    ) {
        let n = self.spec.n;
        let f = self.spec.transfer;
        // drive = x W_inᵀ + b (+ s Wᵀ)
        match &e.w_in {
            Some(w_in) => gemm(
                drive,
                lanes,
                n,
                mat(x_t, lanes, self.n_in),
                mat(w_in, n, self.n_in).transpose(),
                false,
                T::ONE,
            ),
            None => drive.copy_from_slice(&x_t[..lanes * n]),
        }
        for row in drive.chunks_exact_mut(n) {
            for (d, &b) in row.iter_mut().zip(&e.b) {
                *d += b;
            }
        }
        let z_type = self.spec.network_type == NetworkType::Z;
        if !e.w.is_empty() {
            let source: &[T] = if z_type {
                for (p, &v) in phi.iter_mut().zip(h) {
                    *p = f.f(v);
                }
                phi
            } else {
                h
            };
            gemm(
                drive,
                lanes,
                n,
                mat(source, lanes, n),
                mat(&e.w, n, n).transpose(),
                true,
                T::ONE,
            );
        }
        // The target f(drive) (R-type) or the drive (Z-type) first, in a loop of its own with
        // the transfer function fixed, so that it vectorises; then the Euler update.
        let h_next = &mut h_next[..lanes * n];
        if z_type {
            h_next.copy_from_slice(&drive[..lanes * n]);
        } else {
            f.apply(&drive[..lanes * n], h_next);
        }
        for (hn_row, h_row) in h_next.chunks_exact_mut(n).zip(h.chunks_exact(n)) {
            for ((hn, &hv), &eta) in hn_row.iter_mut().zip(h_row).zip(&e.eta) {
                *hn = hv + eta * (*hn - hv);
            }
        }
        if let Some(y) = y {
            let rate: &[T] = if z_type {
                for (p, &v) in phi.iter_mut().zip(h_next.iter()) {
                    *p = f.f(v);
                }
                phi
            } else {
                h_next
            };
            self.readout(e, rate, lanes, y);
        }
    }

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
        self.check_input(x, steps, lanes)?;
        let n = self.spec.n;
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
        let mut h = match initial {
            Some(s) if s.len() == lanes * n => s.to_vec(),
            Some(s) => {
                return Err(TrainError::Shape(format!(
                    "the initial state has {} values, expected lanes × N = {lanes} × {n}",
                    s.len()
                )));
            }
            None => vec![T::ZERO; lanes * n],
        };
        let mut h_next = vec![T::ZERO; lanes * n];
        let mut drive = vec![T::ZERO; lanes * n];
        let mut phi = vec![T::ZERO; lanes * n];
        let mut outputs = vec![T::ZERO; steps * lanes * self.n_out];
        let mut checkpoints = Vec::with_capacity(steps.div_ceil(k));
        let mut rate_sq = 0.0;
        let z_type = self.spec.network_type == NetworkType::Z;
        let bn_in = lanes * self.n_in;
        let bn_out = lanes * self.n_out;
        let bn = lanes * n;
        let mut stored = store_all.then(|| {
            let mut states = vec![T::ZERO; (steps + 1) * bn];
            states[..bn].copy_from_slice(&h);
            (states, vec![T::ZERO; steps * bn])
        });
        for t in 0..steps {
            if t % k == 0 {
                checkpoints.push(h.clone());
            }
            self.step(
                &e,
                &x[t * bn_in..(t + 1) * bn_in],
                lanes,
                &h,
                &mut h_next,
                &mut drive,
                &mut phi,
                Some(&mut outputs[t * bn_out..(t + 1) * bn_out]),
            );
            if options.rate_l2 != 0.0 {
                let rate: &[T] = if z_type { &phi } else { &h_next };
                rate_sq += rate.iter().map(|v| v.to_f64() * v.to_f64()).sum::<f64>();
            }
            if let Some((states, drives)) = &mut stored {
                states[(t + 1) * bn..(t + 2) * bn].copy_from_slice(&h_next);
                drives[t * bn..(t + 1) * bn].copy_from_slice(&drive);
            }
            std::mem::swap(&mut h, &mut h_next);
        }
        Ok(Forward {
            steps,
            lanes,
            outputs,
            final_state: h,
            mean_rate_sq: rate_sq / (steps * lanes * n).max(1) as f64,
            checkpoint_every: k,
            checkpoints,
            stored,
        })
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
        let bn = lanes * n;
        let (n_in, n_out) = (self.n_in, self.n_out);
        let f = self.spec.transfer;
        let z_type = self.spec.network_type == NetworkType::Z;
        let e = self.effective();
        let k = fwd.checkpoint_every;
        let rate_c = T::from_f64(2.0 * options.rate_l2 / (steps * lanes * n).max(1) as f64);

        // Gradients of the effective quantities.
        let mut d_w = vec![T::ZERO; if e.w.is_empty() { 0 } else { n * n }];
        let mut d_w_in = vec![T::ZERO; if e.w_in.is_some() { n * n_in } else { 0 }];
        let mut d_w_out = vec![T::ZERO; if e.w_out.is_some() { n_out * n } else { 0 }];
        let mut d_b = vec![T::ZERO; n];
        let mut d_b_out = vec![T::ZERO; n_out];
        let mut d_eta = vec![T::ZERO; n];

        // Segment buffers: states (len+1), drives, deltas.
        let recompute = fwd.stored.is_none();
        let mut states_buf = vec![T::ZERO; if recompute { (k + 1) * bn } else { 0 }];
        let mut drives_buf = vec![T::ZERO; if recompute { k * bn } else { 0 }];
        let mut deltas = vec![T::ZERO; k * bn];
        let mut phi = vec![T::ZERO; bn];
        let mut g = vec![T::ZERO; bn];
        let mut d_rate = vec![T::ZERO; bn];
        let mut g_prev = vec![T::ZERO; bn];
        let mut tmp = vec![T::ZERO; bn];

        for (s, checkpoint) in fwd.checkpoints.iter().enumerate().rev() {
            let t0 = s * k;
            let t1 = (t0 + k).min(steps);
            let len = t1 - t0;
            // Recompute the segment (or use the states kept whole).
            let (states, drives): (&[T], &[T]) = match &fwd.stored {
                Some((st, dr)) => (st, dr),
                None => {
                    states_buf[..bn].copy_from_slice(checkpoint);
                    for i in 0..len {
                        let t = t0 + i;
                        let (head, tail) = states_buf.split_at_mut((i + 1) * bn);
                        self.step(
                            &e,
                            &x[t * lanes * n_in..(t + 1) * lanes * n_in],
                            lanes,
                            &head[i * bn..],
                            &mut tail[..bn],
                            &mut drives_buf[i * bn..(i + 1) * bn],
                            &mut phi,
                            None,
                        );
                    }
                    (&states_buf, &drives_buf)
                }
            };
            // Backward through the segment.
            for i in (0..len).rev() {
                let t = t0 + i;
                let h = &states[i * bn..(i + 1) * bn];
                let h_next = &states[(i + 1) * bn..(i + 2) * bn];
                let dy = &d_outputs[t * lanes * n_out..(t + 1) * lanes * n_out];
                // ∂L/∂rate_{t+1}
                match &e.w_out {
                    Some(w_out) => gemm(
                        &mut d_rate,
                        lanes,
                        n,
                        mat(dy, lanes, n_out),
                        mat(w_out, n_out, n),
                        false,
                        T::ONE,
                    ),
                    None => d_rate.copy_from_slice(&dy[..bn]),
                }
                for j in 0..bn {
                    let hv = h_next[j];
                    if z_type {
                        let r = f.f(hv);
                        let fp = f.df(hv, r);
                        g[j] += fp * (d_rate[j] + rate_c * r);
                    } else {
                        g[j] += d_rate[j] + rate_c * hv;
                    }
                }
                let drive = &drives[i * bn..(i + 1) * bn];
                let delta = &mut deltas[i * bn..(i + 1) * bn];
                for b in 0..lanes {
                    for j in 0..n {
                        let idx = b * n + j;
                        let eta = e.eta[j];
                        let d = drive[idx];
                        if z_type {
                            delta[idx] = g[idx] * eta;
                            d_eta[j] += g[idx] * (d - h[idx]);
                        } else {
                            let fd = f.f(d);
                            delta[idx] = g[idx] * eta * f.df(d, fd);
                            d_eta[j] += g[idx] * (fd - h[idx]);
                        }
                        g_prev[idx] = g[idx] * (T::ONE - eta);
                    }
                }
                if !e.w.is_empty() {
                    gemm(
                        &mut tmp,
                        lanes,
                        n,
                        mat(delta, lanes, n),
                        mat(&e.w, n, n),
                        false,
                        T::ONE,
                    );
                    for j in 0..bn {
                        if z_type {
                            let r = f.f(h[j]);
                            g_prev[j] += f.df(h[j], r) * tmp[j];
                        } else {
                            g_prev[j] += tmp[j];
                        }
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
            // Weight gradients of the segment, one GEMM each over len·B rows.
            let rows = len * lanes;
            let delta_seg = mat(&deltas[..rows * n], rows, n);
            if !d_w.is_empty() {
                let src: Vec<T> = if z_type {
                    states[..rows * n].iter().map(|&v| f.f(v)).collect()
                } else {
                    states[..rows * n].to_vec()
                };
                gemm(
                    &mut d_w,
                    n,
                    n,
                    delta_seg.transpose(),
                    mat(&src, rows, n),
                    true,
                    T::ONE,
                );
            }
            if !d_w_in.is_empty() {
                let x_seg = &x[t0 * lanes * n_in..t1 * lanes * n_in];
                gemm(
                    &mut d_w_in,
                    n,
                    n_in,
                    delta_seg.transpose(),
                    mat(x_seg, rows, n_in),
                    true,
                    T::ONE,
                );
            }
            add_column_sums(&mut d_b, &deltas[..rows * n], n);
            let dy_seg = &d_outputs[t0 * lanes * n_out..t1 * lanes * n_out];
            if !d_w_out.is_empty() {
                let rate: Vec<T> = if z_type {
                    states[bn..(len + 1) * bn].iter().map(|&v| f.f(v)).collect()
                } else {
                    states[bn..(len + 1) * bn].to_vec()
                };
                gemm(
                    &mut d_w_out,
                    n_out,
                    n,
                    mat(dy_seg, rows, n_out).transpose(),
                    mat(&rate, rows, n),
                    true,
                    T::ONE,
                );
            }
            add_column_sums(&mut d_b_out, dy_seg, n_out);
        }

        // Effective gradients → parameter gradients.
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
        Ok(grad)
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
