//! Hebbian rate rules on projections between rate populations: `hebbian`, `covariance`, `bcm`.
//!
//! A plastic rate projection keeps its own couplings `W_ij` per lane (the sampled matrix times the
//! lane's scale; only the sampled synapses learn, as NeuroFlame and NeuroSimTools keep the
//! sparsity) and drives its channel with `Σ_j W_ij r_j` instead of the shared operator. After
//! each step, with the new rates `r_i` (post) and `r_j` (pre):
//!
//! | rule | `ΔW_ij` |
//! |---|---|
//! | `hebbian` | `η dt r_i r_j` |
//! | `covariance` | `η dt (r_i − ⟨r_i⟩)(r_j − ⟨r_j⟩)` |
//! | `bcm` | `η dt r_j r_i (r_i − θ_i)`, `θ_i = ⟨r_i²⟩ / y₀` |
//!
//! then `W_ij ← clip(W_ij + ΔW_ij, w_min, w_max)`, then the running averages
//! `⟨x⟩ ← a ⟨x⟩ + (1 − a) x`, `a = e^{−dt/τ_avg}`, which start at the first step's values.
//! (NeuroFlame's running average never updates, a bug; its `bcm` is a different product.)
//! For BCM with one constant input the fixed point is `r_i = y₀`.

use crate::real::Real;
use neuroxide_model::{PlasticityRule, PlasticitySpec};

/// A rate rule with its per-lane couplings.
#[derive(Debug)]
pub struct RatePlasticity<T: Real> {
    pub name: String,
    /// Index of the projection in the lowered network.
    pub projection: usize,
    /// Rate-population indices.
    pub pre: usize,
    pub post: usize,
    pub rule: PlasticityRule,
    pub eta_dt: T,
    pub w_min: T,
    pub w_max: T,
    pub avg_decay: T,
    pub target: T,
    pub lanes: usize,
    /// Synapses of post neuron `i`: `row_ptr[i]..row_ptr[i + 1]`, presynaptic `cols`.
    pub row_ptr: Vec<u32>,
    pub cols: Vec<u32>,
    /// `[synapse][lane]`.
    pub weights: Vec<T>,
    initial: Vec<T>,
    /// Running averages `[neuron][lane]`: `⟨r_pre⟩` and `⟨r_post⟩` (covariance) or `⟨r_post²⟩`
    /// (BCM).
    pub avg_pre: Vec<T>,
    pub avg_post: Vec<T>,
    started: bool,
    pub record_every: usize,
    pub frames: Vec<T>,
    pub frame_steps: Vec<usize>,
}

impl<T: Real> RatePlasticity<T> {
    /// From the dense matrix (`n_post × n_pre`, unscaled) and the per-lane scales.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        spec: &PlasticitySpec,
        projection: usize,
        pre: usize,
        post: usize,
        dense: &[f64],
        n_post: usize,
        n_pre: usize,
        scale: &[T],
        dt: f64,
    ) -> Self {
        let lanes = scale.len();
        let mut row_ptr = vec![0u32];
        let mut cols = Vec::new();
        let mut weights = Vec::new();
        for i in 0..n_post {
            for j in 0..n_pre {
                let w = dense[i * n_pre + j];
                if w != 0.0 {
                    cols.push(j as u32);
                    for s in scale {
                        weights.push(T::from_f64(w * s.to_f64()));
                    }
                }
            }
            row_ptr.push(cols.len() as u32);
        }
        RatePlasticity {
            name: name.to_string(),
            projection,
            pre,
            post,
            rule: spec.rule,
            eta_dt: T::from_f64(spec.eta * dt),
            w_min: T::from_f64(spec.w_min.unwrap_or(f64::NEG_INFINITY)),
            w_max: T::from_f64(spec.w_max.unwrap_or(f64::INFINITY)),
            avg_decay: T::from_f64((-dt / spec.tau_avg.map_or(1.0, |t| t.ms())).exp()),
            target: T::from_f64(spec.target.unwrap_or(1.0)),
            lanes,
            initial: weights.clone(),
            weights,
            row_ptr,
            cols,
            avg_pre: vec![T::ZERO; n_pre * lanes],
            avg_post: vec![T::ZERO; n_post * lanes],
            started: false,
            record_every: 0,
            frames: Vec::new(),
            frame_steps: Vec::new(),
        }
    }

    pub(crate) fn started(&self) -> bool {
        self.started
    }

    pub(crate) fn set_started(&mut self, started: bool) {
        self.started = started;
    }

    pub fn reset(&mut self) {
        self.weights.copy_from_slice(&self.initial);
        self.started = false;
        self.frames.clear();
        self.frame_steps.clear();
    }

    /// `drive[i][l] += Σ_j W_ij(l) r[j][l]`, summed in ascending `j`.
    pub fn add_drive(&self, rate: &[T], drive: &mut [T]) {
        let lanes = self.lanes;
        for (i, row) in drive.chunks_exact_mut(lanes).enumerate() {
            for s in self.row_ptr[i] as usize..self.row_ptr[i + 1] as usize {
                let j = self.cols[s] as usize;
                let w = &self.weights[s * lanes..(s + 1) * lanes];
                let r = &rate[j * lanes..(j + 1) * lanes];
                for l in 0..lanes {
                    row[l] += w[l] * r[l];
                }
            }
        }
    }

    /// Apply the rule with the rates after a step.
    pub fn update(&mut self, pre: &[T], post: &[T]) {
        let lanes = self.lanes;
        let bcm = self.rule == PlasticityRule::Bcm;
        if !self.started {
            self.started = true;
            self.avg_pre.copy_from_slice(pre);
            if bcm {
                for (a, r) in self.avg_post.iter_mut().zip(post) {
                    *a = *r * *r;
                }
            } else {
                self.avg_post.copy_from_slice(post);
            }
        }
        let n_post = self.row_ptr.len() - 1;
        for i in 0..n_post {
            for s in self.row_ptr[i] as usize..self.row_ptr[i + 1] as usize {
                let j = self.cols[s] as usize;
                for l in 0..lanes {
                    let (ri, rj) = (post[i * lanes + l], pre[j * lanes + l]);
                    let change = match self.rule {
                        PlasticityRule::Hebbian => ri * rj,
                        PlasticityRule::Covariance => {
                            (ri - self.avg_post[i * lanes + l]) * (rj - self.avg_pre[j * lanes + l])
                        }
                        _ => {
                            let theta = self.avg_post[i * lanes + l] / self.target;
                            rj * ri * (ri - theta)
                        }
                    };
                    let w = &mut self.weights[s * lanes + l];
                    *w = super::clip(*w + self.eta_dt * change, self.w_min, self.w_max);
                }
            }
        }
        let a = self.avg_decay;
        let b = T::ONE - a;
        for (m, r) in self.avg_pre.iter_mut().zip(pre) {
            *m = a * *m + b * *r;
        }
        for (m, r) in self.avg_post.iter_mut().zip(post) {
            let x = if bcm { *r * *r } else { *r };
            *m = a * *m + b * x;
        }
    }

    /// `[synapse][lane]` as f64 (synapses in (post, pre) order).
    pub fn weights_f64(&self) -> Vec<f64> {
        self.weights.iter().map(|w| w.to_f64()).collect()
    }

    /// The (post, pre) of each synapse.
    pub fn pairs(&self) -> (Vec<i64>, Vec<i64>) {
        let mut post = Vec::with_capacity(self.cols.len());
        for i in 0..self.row_ptr.len() - 1 {
            for _ in self.row_ptr[i]..self.row_ptr[i + 1] {
                post.push(i as i64);
            }
        }
        (post, self.cols.iter().map(|&j| j as i64).collect())
    }

    pub fn observe(&mut self, step: usize) {
        if self.record_every > 0 && (step + 1).is_multiple_of(self.record_every) {
            self.frames.extend_from_slice(&self.weights);
            self.frame_steps.push(step);
        }
    }
}

/// The rules of the plastic rate projections of `spec`, given the lowered `projections`.
pub(crate) fn lower<T: Real>(
    spec: &neuroxide_model::NetworkSpec,
    projections: &[crate::lower::Projection<T>],
    dt: f64,
) -> Vec<RatePlasticity<T>> {
    let mut out = Vec::new();
    for (name, proj) in &spec.projections {
        let Some(plasticity) = &proj.plasticity else {
            continue;
        };
        let Some(q) = projections.iter().position(|p| &p.name == name) else {
            continue; // a spiking projection
        };
        let p = &projections[q];
        let (n_post, n_pre) = (p.operator.n_post(), p.operator.n_pre());
        let mut rule = RatePlasticity::new(
            name,
            plasticity,
            q,
            p.pre,
            p.post,
            &p.operator.to_dense(),
            n_post,
            n_pre,
            &p.scale,
            dt,
        );
        if let Some(every) = plasticity.record_every {
            rule.record_every = ((every.ms() / dt).round() as usize).max(1);
        }
        out.push(rule);
    }
    out
}

/// Learn from the rates after a step.
pub(crate) fn after_step<T: Real>(net: &mut crate::lower::Lowered<T>) {
    for rule in &mut net.plastic_rates {
        let (pre, post) = (rule.pre, rule.post);
        rule.update(&net.populations[pre].rate, &net.populations[post].rate);
    }
}
