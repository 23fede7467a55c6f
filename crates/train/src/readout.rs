//! Readout fitting without gradients: ridge regression (RectiPy's `fit_ridge`) and recursive
//! least squares (RectiPy's `fit_rls`, FORCE learning; Sussillo & Abbott 2009).
//!
//! Both fit `y = W r + b` from rates `r` (rows × N) to targets (rows × C), with the bias as a
//! constant feature that ridge penalises like the weights, so that RLS started from P = I/α
//! reaches exactly the ridge solution on the same samples.

use crate::linalg::solve_spd;

/// Ridge regression: `[W b] = Yᵀ X̃ (X̃ᵀ X̃ + α I)⁻¹` with `X̃ = [X 1]`. Returns W (C × N)
/// and b (C), or `None` if the system is singular (α = 0 with too few rows).
pub fn ridge(x: &[f64], n: usize, y: &[f64], c: usize, alpha: f64) -> Option<(Vec<f64>, Vec<f64>)> {
    let rows = x.len() / n;
    let m = n + 1;
    let mut a = vec![0.0; m * m];
    let mut b = vec![0.0; m * c];
    for r in 0..rows {
        let xr = &x[r * n..(r + 1) * n];
        let feat = |i: usize| if i < n { xr[i] } else { 1.0 };
        for i in 0..m {
            let fi = feat(i);
            for j in 0..=i {
                a[i * m + j] += fi * feat(j);
            }
            for k in 0..c {
                b[i * c + k] += fi * y[r * c + k];
            }
        }
    }
    for i in 0..m {
        for j in 0..i {
            a[j * m + i] = a[i * m + j];
        }
        a[i * m + i] += alpha;
    }
    let sol = solve_spd(&a, m, &b, c)?; // m × c
    let mut w = vec![0.0; c * n];
    let mut bias = vec![0.0; c];
    for k in 0..c {
        for i in 0..n {
            w[k * n + i] = sol[i * c + k];
        }
        bias[k] = sol[n * c + k];
    }
    Some((w, bias))
}

/// Recursive least squares on `y = W r + b`, one sample at a time.
#[derive(Clone, Debug)]
pub struct Rls {
    pub n: usize,
    pub c: usize,
    /// W and b as one C × (N+1) matrix.
    pub w: Vec<f64>,
    /// The inverse correlation estimate P, (N+1) × (N+1), initially I/α.
    pub p: Vec<f64>,
}

impl Rls {
    pub fn new(n: usize, c: usize, alpha: f64) -> Self {
        let m = n + 1;
        let mut p = vec![0.0; m * m];
        for i in 0..m {
            p[i * m + i] = 1.0 / alpha;
        }
        Rls {
            n,
            c,
            w: vec![0.0; c * m],
            p,
        }
    }

    /// The current prediction for rates `r`.
    pub fn predict(&self, r: &[f64]) -> Vec<f64> {
        let m = self.n + 1;
        (0..self.c)
            .map(|k| {
                let row = &self.w[k * m..(k + 1) * m];
                row[..self.n].iter().zip(r).map(|(a, b)| a * b).sum::<f64>() + row[self.n]
            })
            .collect()
    }

    /// One update towards `target` at rates `r`: `k = P r̃/(1 + r̃ᵀ P r̃)`, `W ← W − e kᵀ` with
    /// the a-priori error `e = W r̃ − y`, `P ← P − k r̃ᵀ P`. Returns the squared a-priori error.
    pub fn update(&mut self, r: &[f64], target: &[f64]) -> f64 {
        let m = self.n + 1;
        let feat: Vec<f64> = r.iter().copied().chain(std::iter::once(1.0)).collect();
        let pr: Vec<f64> = (0..m)
            .map(|i| (0..m).map(|j| self.p[i * m + j] * feat[j]).sum())
            .collect();
        let denom = 1.0 + feat.iter().zip(&pr).map(|(a, b)| a * b).sum::<f64>();
        let k: Vec<f64> = pr.iter().map(|v| v / denom).collect();
        let y = self.predict(r);
        let mut err = 0.0;
        for c in 0..self.c {
            let e = y[c] - target[c];
            err += e * e;
            for i in 0..m {
                self.w[c * m + i] -= e * k[i];
            }
        }
        // P symmetric: P r̃ = (r̃ᵀ P)ᵀ.
        for i in 0..m {
            for j in 0..m {
                self.p[i * m + j] -= k[i] * pr[j];
            }
        }
        err
    }

    /// Split into W (C × N) and b (C).
    pub fn weights(&self) -> (Vec<f64>, Vec<f64>) {
        let m = self.n + 1;
        let mut w = Vec::with_capacity(self.c * self.n);
        let mut b = Vec::with_capacity(self.c);
        for k in 0..self.c {
            w.extend_from_slice(&self.w[k * m..k * m + self.n]);
            b.push(self.w[k * m + self.n]);
        }
        (w, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (Vec<f64>, Vec<f64>) {
        let mut rng = crate::seeded_rng(3, "test.readout");
        let (rows, n) = (200, 5);
        let x: Vec<f64> = (0..rows * n).map(|_| rng.next_normal()).collect();
        let y: Vec<f64> = (0..rows)
            .flat_map(|r| {
                let xr = &x[r * n..(r + 1) * n];
                [
                    1.5 * xr[0] - 2.0 * xr[3] + 0.5,
                    xr[1] + xr[2] - 1.0 + 0.01 * (r as f64).sin(),
                ]
            })
            .collect();
        (x, y)
    }

    #[test]
    fn ridge_recovers_a_linear_map() {
        let (x, y) = data();
        let (w, b) = ridge(&x, 5, &y, 2, 1e-8).unwrap();
        assert!(
            (w[0] - 1.5).abs() < 1e-3 && (w[3] + 2.0).abs() < 1e-3,
            "{w:?}"
        );
        assert!(
            (b[0] - 0.5).abs() < 1e-3 && (b[1] + 1.0).abs() < 1e-2,
            "{b:?}"
        );
    }

    /// RLS from P = I/α over the same samples is exactly ridge with penalty α.
    #[test]
    fn rls_reaches_the_ridge_solution() {
        let (x, y) = data();
        let alpha = 0.5;
        let (w, b) = ridge(&x, 5, &y, 2, alpha).unwrap();
        let mut rls = Rls::new(5, 2, alpha);
        for r in 0..200 {
            rls.update(&x[r * 5..(r + 1) * 5], &y[r * 2..(r + 1) * 2]);
        }
        let (w2, b2) = rls.weights();
        for (a, c) in w.iter().chain(&b).zip(w2.iter().chain(&b2)) {
            assert!((a - c).abs() < 1e-9, "{a} vs {c}");
        }
    }
}
