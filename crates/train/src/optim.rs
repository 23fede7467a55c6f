//! Optimisers over a flat parameter vector, as PyTorch defines them: SGD with momentum, Adam and
//! AdamW; global-norm gradient clipping; exponential learning-rate decay. State is kept in f64.

use neuroxide::Real;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerKind {
    /// `buf ← μ·buf + g` (buf = g at the first step), `p ← p − lr·buf`.
    Sgd { momentum: f64 },
    /// Kingma & Ba with bias correction: `p ← p − lr·m̂/(√v̂ + ε)`.
    Adam { beta1: f64, beta2: f64, eps: f64 },
    /// Adam with decoupled weight decay: `p ← p·(1 − lr·λ)` before the Adam step.
    AdamW {
        beta1: f64,
        beta2: f64,
        eps: f64,
        weight_decay: f64,
    },
}

/// An optimiser with its state.
#[derive(Clone, Debug)]
pub struct Optimizer {
    pub kind: OptimizerKind,
    /// The initial learning rate.
    pub lr: f64,
    /// Exponential decay: the rate is `lr·γ^⌊step/decay_every⌋`.
    pub gamma: f64,
    pub decay_every: usize,
    /// Clip the global gradient norm to this value (PyTorch's `clip_grad_norm_`).
    pub clip: Option<f64>,
    /// Steps taken.
    pub steps: u64,
    pub m: Vec<f64>,
    pub v: Vec<f64>,
}

impl Optimizer {
    pub fn new(kind: OptimizerKind, lr: f64, n_params: usize) -> Self {
        Optimizer {
            kind,
            lr,
            gamma: 1.0,
            decay_every: 1,
            clip: None,
            steps: 0,
            m: vec![0.0; n_params],
            v: vec![0.0; n_params],
        }
    }

    pub fn adam(lr: f64, n_params: usize) -> Self {
        Optimizer::new(
            OptimizerKind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            lr,
            n_params,
        )
    }

    /// The learning rate of the next step.
    pub fn current_lr(&self) -> f64 {
        self.lr
            * self
                .gamma
                .powi((self.steps / self.decay_every.max(1) as u64) as i32)
    }

    /// One update of `params` where `mask` is true. Returns the gradient norm before clipping.
    pub fn step<T: Real>(&mut self, params: &mut [T], grad: &[T], mask: &[bool]) -> f64 {
        let norm = grad
            .iter()
            .zip(mask)
            .filter(|(_, m)| **m)
            .map(|(g, _)| g.to_f64() * g.to_f64())
            .sum::<f64>()
            .sqrt();
        let scale = match self.clip {
            Some(c) if norm > c => c / (norm + 1e-6),
            _ => 1.0,
        };
        let lr = self.current_lr();
        self.steps += 1;
        let t = self.steps as i32;
        for i in 0..params.len() {
            if !mask[i] {
                continue;
            }
            let g = grad[i].to_f64() * scale;
            let mut p = params[i].to_f64();
            match self.kind {
                OptimizerKind::Sgd { momentum } => {
                    let d = if momentum != 0.0 {
                        self.m[i] = if t == 1 { g } else { momentum * self.m[i] + g };
                        self.m[i]
                    } else {
                        g
                    };
                    p -= lr * d;
                }
                OptimizerKind::Adam { beta1, beta2, eps }
                | OptimizerKind::AdamW {
                    beta1, beta2, eps, ..
                } => {
                    if let OptimizerKind::AdamW { weight_decay, .. } = self.kind {
                        p *= 1.0 - lr * weight_decay;
                    }
                    self.m[i] = beta1 * self.m[i] + (1.0 - beta1) * g;
                    self.v[i] = beta2 * self.v[i] + (1.0 - beta2) * g * g;
                    let m_hat = self.m[i] / (1.0 - beta1.powi(t));
                    let v_hat = self.v[i] / (1.0 - beta2.powi(t));
                    p -= lr * m_hat / (v_hat.sqrt() + eps);
                }
            }
            params[i] = T::from_f64(p);
        }
        norm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimise f(p) = Σ (p − c)² from p = 0: every optimiser gets close to c.
    #[test]
    fn optimisers_minimise_a_quadratic() {
        let c = [1.0, -2.0, 0.5];
        for kind in [
            OptimizerKind::Sgd { momentum: 0.9 },
            OptimizerKind::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            OptimizerKind::AdamW {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 1e-4,
            },
        ] {
            let mut opt = Optimizer::new(kind, 0.05, 3);
            let mut p = [0.0f64; 3];
            for _ in 0..2000 {
                let g: Vec<f64> = p.iter().zip(&c).map(|(a, b)| 2.0 * (a - b)).collect();
                opt.step(&mut p, &g, &[true; 3]);
            }
            for (a, b) in p.iter().zip(&c) {
                assert!((a - b).abs() < 1e-2, "{kind:?}: {p:?}");
            }
        }
    }

    /// Adam's first step moves every coordinate by lr (the bias-corrected m̂/√v̂ is sign(g)).
    #[test]
    fn adam_first_step_is_lr_times_the_sign() {
        let mut opt = Optimizer::adam(0.1, 2);
        let mut p = [0.0f64, 0.0];
        opt.step(&mut p, &[3.0, -0.01], &[true, true]);
        assert!(
            (p[0] + 0.1).abs() < 1e-6 && (p[1] - 0.1).abs() < 1e-5,
            "{p:?}"
        );
    }

    #[test]
    fn clipping_and_decay() {
        let mut opt = Optimizer::new(OptimizerKind::Sgd { momentum: 0.0 }, 1.0, 2);
        opt.clip = Some(1.0);
        opt.gamma = 0.5;
        opt.decay_every = 1;
        let mut p = [0.0f64, 0.0];
        let norm = opt.step(&mut p, &[3.0, 4.0], &[true, true]);
        assert_eq!(norm, 5.0);
        assert!(
            (p[0] + 0.6).abs() < 1e-6 && (p[1] + 0.8).abs() < 1e-6,
            "{p:?}"
        );
        assert_eq!(opt.current_lr(), 0.5);
        // Masked entries do not move.
        opt.step(&mut p, &[1.0, 1.0], &[false, true]);
        assert!((p[0] + 0.6).abs() < 1e-6);
    }
}
