//! Losses on the outputs `y` (`T × B × C`), each returning its value and ∂L/∂y.
//!
//! Targets have the shape of the loss's channels and a mask of the same shape (0 where a step
//! does not count; weights are allowed). Every loss is a masked mean: Σ m·ℓ / Σ m.
//! * `mse`: ℓ = (y − target)²;
//! * `bce`: binary cross-entropy with logits, ℓ = max(y,0) − y·target + log(1 + e^{−|y|});
//! * `cross_entropy`: over the C channels as class logits, target one-hot (or probabilities),
//!   counted once per (step, lane) with the mask of channel 0;
//! * `angular` (NeuroFlame's `AngularErrorLoss`, its first-Fourier-mode term): the phase φ of the
//!   output — `atan2(y₁, y₀)` for two channels, or of the first Fourier mode
//!   `Σ_j y_j e^{iθ_j}` with θ_j = 2πj/C for a ring of C channels — against the target angle given
//!   as `(cos θ, sin θ)` in two target channels: ℓ = ½[(cos φ − cos θ)² + (sin φ − sin θ)²].

use crate::TrainError;
use neuroxide::Real;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    Mse,
    Bce,
    CrossEntropy,
    Angular,
}

impl LossKind {
    pub fn parse(name: &str) -> Option<LossKind> {
        Some(match name {
            "mse" => LossKind::Mse,
            "bce" => LossKind::Bce,
            "cross_entropy" => LossKind::CrossEntropy,
            "angular" => LossKind::Angular,
            _ => return None,
        })
    }
    /// Target channels this loss needs for `outputs` output channels.
    pub fn target_channels(self, outputs: usize) -> usize {
        match self {
            LossKind::Angular => 2,
            _ => outputs,
        }
    }
}

/// A loss of a kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Loss {
    pub kind: LossKind,
}

const ANGULAR_EPS: f64 = 1e-12;

impl Loss {
    pub fn new(kind: LossKind) -> Self {
        Loss { kind }
    }

    /// The loss value and ∂L/∂y for outputs `y` (`rows × c` with rows = T·B), targets and mask
    /// (`rows × target_channels`).
    pub fn eval<T: Real>(
        &self,
        y: &[T],
        c: usize,
        target: &[f64],
        mask: &[f64],
    ) -> Result<(f64, Vec<T>), TrainError> {
        let rows = y.len() / c.max(1);
        let tc = self.kind.target_channels(c);
        if target.len() != rows * tc || mask.len() != rows * tc {
            return Err(TrainError::Shape(format!(
                "the targets have {} values (mask {}), expected {rows} × {tc} for {c} outputs",
                target.len(),
                mask.len()
            )));
        }
        if self.kind == LossKind::Angular && c < 2 {
            return Err(TrainError::Shape(format!(
                "the angular loss needs at least 2 output channels, the readout has {c}"
            )));
        }
        let mut grad = vec![T::ZERO; y.len()];
        let mut total = 0.0;
        let mut weight = 0.0;
        match self.kind {
            LossKind::Mse | LossKind::Bce => {
                for i in 0..y.len() {
                    let m = mask[i];
                    if m == 0.0 {
                        continue;
                    }
                    let (v, t) = (y[i].to_f64(), target[i]);
                    let (l, d) = if self.kind == LossKind::Mse {
                        ((v - t) * (v - t), 2.0 * (v - t))
                    } else {
                        let sig = 1.0 / (1.0 + (-v).exp());
                        (v.max(0.0) - v * t + (-v.abs()).exp().ln_1p(), sig - t)
                    };
                    total += m * l;
                    weight += m;
                    grad[i] = T::from_f64(m * d);
                }
            }
            LossKind::CrossEntropy => {
                for r in 0..rows {
                    let m = mask[r * tc];
                    if m == 0.0 {
                        continue;
                    }
                    let row: Vec<f64> = y[r * c..(r + 1) * c].iter().map(|v| v.to_f64()).collect();
                    let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let z: f64 = row.iter().map(|v| (v - max).exp()).sum();
                    let log_z = max + z.ln();
                    let t = &target[r * tc..(r + 1) * tc];
                    let t_sum: f64 = t.iter().sum();
                    let mut l = 0.0;
                    for k in 0..c {
                        l -= t[k] * (row[k] - log_z);
                        let p = (row[k] - log_z).exp();
                        grad[r * c + k] = T::from_f64(m * (t_sum * p - t[k]));
                    }
                    total += m * l;
                    weight += m;
                }
            }
            LossKind::Angular => {
                for r in 0..rows {
                    let m = mask[r * tc];
                    if m == 0.0 {
                        continue;
                    }
                    let row = &y[r * c..(r + 1) * c];
                    let (cs, sn) = fourier(row);
                    let m2 = cs * cs + sn * sn + ANGULAR_EPS;
                    let mag = m2.sqrt();
                    let (cp, sp) = (cs / mag, sn / mag);
                    let (ct, st) = (target[r * tc], target[r * tc + 1]);
                    total += m * 0.5 * ((cp - ct).powi(2) + (sp - st).powi(2));
                    weight += m;
                    // ∂/∂(cp, sp), then through the normalisation.
                    let (gc, gs) = (cp - ct, sp - st);
                    let m3 = m2 * mag;
                    let d_cs = gc * (sn * sn + ANGULAR_EPS) / m3 - gs * cs * sn / m3;
                    let d_sn = -gc * cs * sn / m3 + gs * (cs * cs + ANGULAR_EPS) / m3;
                    if c == 2 {
                        grad[r * c] = T::from_f64(m * d_cs);
                        grad[r * c + 1] = T::from_f64(m * d_sn);
                    } else {
                        for j in 0..c {
                            let th = 2.0 * std::f64::consts::PI * j as f64 / c as f64;
                            grad[r * c + j] =
                                T::from_f64(m * (d_cs * th.cos() + d_sn * th.sin()) / c as f64);
                        }
                    }
                }
            }
        }
        if weight == 0.0 {
            return Ok((0.0, grad));
        }
        let inv = 1.0 / weight;
        for g in &mut grad {
            *g *= T::from_f64(inv);
        }
        let value = total * inv;
        if !value.is_finite() {
            return Err(TrainError::NotFinite(format!(
                "the {:?} loss is {value}: the network diverged (lower the learning rate, clip gradients or shrink the initial weights)",
                self.kind
            )));
        }
        Ok((value, grad))
    }
}

/// (cos, sin) components of an output row: the two channels, or the first Fourier mode of a ring.
pub fn fourier<T: Real>(row: &[T]) -> (f64, f64) {
    let c = row.len();
    if c == 2 {
        return (row[0].to_f64(), row[1].to_f64());
    }
    let mut cs = 0.0;
    let mut sn = 0.0;
    for (j, v) in row.iter().enumerate() {
        let th = 2.0 * std::f64::consts::PI * j as f64 / c as f64;
        cs += v.to_f64() * th.cos();
        sn += v.to_f64() * th.sin();
    }
    (cs / c as f64, sn / c as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: LossKind, c: usize) {
        let rows = 4;
        let tc = kind.target_channels(c);
        let y: Vec<f64> = (0..rows * c)
            .map(|i| ((i * 7 % 11) as f64 - 5.0) / 4.0)
            .collect();
        let target: Vec<f64> = (0..rows * tc)
            .map(|i| match kind {
                LossKind::CrossEntropy => ((i % c) == (i / c) % c) as u8 as f64,
                LossKind::Angular => {
                    let a = (i / 2) as f64;
                    if i % 2 == 0 { a.cos() } else { a.sin() }
                }
                _ => (i % 2) as f64,
            })
            .collect();
        let mask: Vec<f64> = (0..rows * tc)
            .map(|i| if i / tc == 1 { 0.0 } else { 1.0 })
            .collect();
        let loss = Loss::new(kind);
        let (_, g) = loss.eval(&y, c, &target, &mask).unwrap();
        for i in 0..y.len() {
            let h = 1e-6;
            let mut a = y.clone();
            a[i] += h;
            let mut b = y.clone();
            b[i] -= h;
            let fd = (loss.eval(&a, c, &target, &mask).unwrap().0
                - loss.eval(&b, c, &target, &mask).unwrap().0)
                / (2.0 * h);
            assert!((fd - g[i]).abs() < 1e-7, "{kind:?} {i}: {fd} vs {}", g[i]);
        }
    }

    #[test]
    fn loss_gradients_match_finite_differences() {
        check(LossKind::Mse, 3);
        check(LossKind::Bce, 2);
        check(LossKind::CrossEntropy, 3);
        check(LossKind::Angular, 2);
        check(LossKind::Angular, 6);
    }

    #[test]
    fn nan_output_is_a_clear_error() {
        let e = Loss::new(LossKind::Mse)
            .eval(&[f64::NAN], 1, &[0.0], &[1.0])
            .unwrap_err();
        assert!(e.to_string().contains("diverged"), "{e}");
    }
}
