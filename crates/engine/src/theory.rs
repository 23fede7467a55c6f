//! Analytic predictions to validate simulations against.
//!
//! # Balanced threshold-linear networks
//!
//! Population `a` receives, on average, `K_ab` synapses of weight `w_ab` from population `b`
//! (Bernoulli connectivity with probability `p_ab = K_ab / N_b`) and a constant external input
//! `μ_ext,a`. In the stationary state the input to a neuron is static but differs between neurons
//! (quenched disorder from the random in-degrees). For large in-degrees it is Gaussian across
//! neurons with
//!
//! ```text
//! μ_a  = μ_ext,a + Σ_b w_ab K_ab m_b
//! σ²_a = Σ_b w_ab² K_ab (1 − p_ab) q_b
//! ```
//!
//! where `m_b` and `q_b` are the mean and mean square of the rates. Self-consistency with the
//! transfer `r = g·max(0, μ − θ)` closes the equations:
//!
//! ```text
//! m_a = g · E[max(0, μ_a − θ_a + σ_a z)]      z ~ N(0, 1)
//! q_a = g² · E[max(0, μ_a − θ_a + σ_a z)²]
//! ```
//!
//! ([`threshold_linear_mean_field`], solved by Newton's method.) As `K → ∞` with `w ∝ 1/√K` and
//! `μ_ext ∝ √K`, the mean input must stay finite, which fixes the rates by the linear *balance
//! equations* `Σ_b J_ab m_b + J_a0 m0 = 0` ([`balance_rates`]); finite-K rates deviate from them
//! by O(1/√K).

use crate::rate::erf;

/// Coupling from population `b` onto population `a` in the mean-field equations.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct MeanFieldBlock {
    /// Weight of one synapse (`J/√K` in a balanced network).
    pub weight: f64,
    /// Mean in-degree `K_ab`.
    pub in_degree: f64,
    /// Connection probability `p_ab = K_ab / N_b`.
    pub probability: f64,
}

/// A threshold-linear network for [`threshold_linear_mean_field`].
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdLinearNetwork {
    /// `blocks[a][b]`: from `b` onto `a`.
    pub blocks: Vec<Vec<MeanFieldBlock>>,
    /// Constant external input per population.
    pub external: Vec<f64>,
    pub threshold: Vec<f64>,
    pub gain: Vec<f64>,
}

/// The stationary state of a [`ThresholdLinearNetwork`].
#[derive(Clone, Debug, PartialEq)]
pub struct MeanFieldState {
    /// Mean rate per population.
    pub rate: Vec<f64>,
    /// Mean squared rate per population.
    pub rate_square: Vec<f64>,
    /// Mean and standard deviation of the input across neurons.
    pub input_mean: Vec<f64>,
    pub input_std: Vec<f64>,
}

fn gaussian_cdf(x: f64) -> f64 {
    0.5 * (1.0 + erf(x * std::f64::consts::FRAC_1_SQRT_2))
}

fn gaussian_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// `E[max(0, μ + σz)]` and `E[max(0, μ + σz)²]` for `z ~ N(0, 1)`.
pub fn relu_gaussian_moments(mu: f64, sigma: f64) -> (f64, f64) {
    if sigma <= 0.0 {
        let r = mu.max(0.0);
        return (r, r * r);
    }
    let x = mu / sigma;
    let (cdf, pdf) = (gaussian_cdf(x), gaussian_pdf(x));
    (
        mu * cdf + sigma * pdf,
        (mu * mu + sigma * sigma) * cdf + mu * sigma * pdf,
    )
}

fn moments(net: &ThresholdLinearNetwork, rate: &[f64], square: &[f64]) -> MeanFieldState {
    let p = net.external.len();
    let mut state = MeanFieldState {
        rate: vec![0.0; p],
        rate_square: vec![0.0; p],
        input_mean: vec![0.0; p],
        input_std: vec![0.0; p],
    };
    for a in 0..p {
        let mut mu = net.external[a];
        let mut var = 0.0;
        for b in 0..p {
            let block = net.blocks[a][b];
            mu += block.weight * block.in_degree * rate[b];
            var += block.weight
                * block.weight
                * block.in_degree
                * (1.0 - block.probability)
                * square[b];
        }
        let sigma = var.max(0.0).sqrt();
        let (m, q) = relu_gaussian_moments(mu - net.threshold[a], sigma);
        state.rate[a] = net.gain[a] * m;
        state.rate_square[a] = net.gain[a] * net.gain[a] * q;
        state.input_mean[a] = mu;
        state.input_std[a] = sigma;
    }
    state
}

/// Solve the mean-field equations of a balanced threshold-linear network from `initial_rates`
/// (e.g. [`balance_rates`]). Returns `None` if Newton's method does not converge.
pub fn threshold_linear_mean_field(
    net: &ThresholdLinearNetwork,
    initial_rates: &[f64],
) -> Option<MeanFieldState> {
    let p = net.external.len();
    // Unknowns x = (m_1..m_P, q_1..q_P); residual x − F(x).
    let mut x: Vec<f64> = initial_rates
        .iter()
        .map(|m| m.max(1e-3))
        .chain(initial_rates.iter().map(|m| m.max(1e-3).powi(2) * 1.5))
        .collect();
    let residual = |x: &[f64]| -> Vec<f64> {
        let s = moments(net, &x[..p], &x[p..]);
        (0..p)
            .map(|a| x[a] - s.rate[a])
            .chain((0..p).map(|a| x[p + a] - s.rate_square[a]))
            .collect()
    };
    let norm = |v: &[f64]| v.iter().map(|e| e * e).sum::<f64>().sqrt();
    let n = 2 * p;
    for _ in 0..200 {
        let r = residual(&x);
        if norm(&r) < 1e-12 * (1.0 + norm(&x)) {
            return Some(moments(net, &x[..p], &x[p..]));
        }
        // Numerical Jacobian.
        let mut jac = vec![vec![0.0; n]; n];
        for j in 0..n {
            let h = 1e-7 * x[j].abs().max(1e-3);
            let mut xh = x.clone();
            xh[j] += h;
            let rh = residual(&xh);
            for i in 0..n {
                jac[i][j] = (rh[i] - r[i]) / h;
            }
        }
        let step = solve(jac, r.iter().map(|v| -v).collect())?;
        // Backtracking keeps rates and squares positive and the residual decreasing.
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = x.iter().zip(&step).map(|(a, d)| a + t * d).collect();
            if trial.iter().all(|v| *v > 0.0) && norm(&residual(&trial)) < norm(&r) {
                x = trial;
                break;
            }
            t *= 0.5;
            if t < 1e-8 {
                return None;
            }
        }
    }
    None
}

/// Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let f = a[row][col] / a[col][col];
            for k in col..n {
                a[row][k] -= f * a[col][k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// The large-K balance solution `Σ_b J_ab m_b = −J_a0 m0`: `coupling[a][b] = J_ab`,
/// `drive[a] = J_a0 m0`.
pub fn balance_rates(coupling: &[Vec<f64>], drive: &[f64]) -> Option<Vec<f64>> {
    solve(coupling.to_vec(), drive.iter().map(|d| -d).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_of_the_classic_two_population_network() {
        // J = [[1, -1.5], [1, -1]], J0 = [2, 1], m0 = 5 → m_E = 5, m_I = 10.
        let m = balance_rates(&[vec![1.0, -1.5], vec![1.0, -1.0]], &[10.0, 5.0]).unwrap();
        assert!((m[0] - 5.0).abs() < 1e-12 && (m[1] - 10.0).abs() < 1e-12);
    }

    #[test]
    fn relu_moments_match_quadrature() {
        let (mu, sigma) = (0.3, 1.7);
        let (mut m, mut q) = (0.0, 0.0);
        let n = 200_000;
        let h = 20.0 / n as f64;
        for i in 0..n {
            let z = -10.0 + (i as f64 + 0.5) * h;
            let r = (mu + sigma * z).max(0.0);
            m += r * gaussian_pdf(z) * h;
            q += r * r * gaussian_pdf(z) * h;
        }
        let (em, eq) = relu_gaussian_moments(mu, sigma);
        assert!((em - m).abs() < 1e-8 && (eq - q).abs() < 1e-8);
    }

    #[test]
    fn mean_field_approaches_balance_as_k_grows() {
        let j = [[1.0, -1.5], [1.0, -1.0]];
        let deviation = |k: f64| {
            let sk = k.sqrt();
            let blocks = (0..2)
                .map(|a| {
                    (0..2)
                        .map(|b| MeanFieldBlock {
                            weight: j[a][b] / sk,
                            in_degree: k,
                            probability: 0.05,
                        })
                        .collect()
                })
                .collect();
            let net = ThresholdLinearNetwork {
                blocks,
                external: vec![sk * 2.0 * 5.0, sk * 5.0],
                threshold: vec![0.0; 2],
                gain: vec![1.0; 2],
            };
            let s = threshold_linear_mean_field(&net, &[5.0, 10.0]).unwrap();
            (s.rate[0] - 5.0).abs()
        };
        let (d1, d2) = (deviation(100.0), deviation(10_000.0));
        // O(1/√K): a 100× larger K shrinks the deviation about 10×.
        assert!(d2 < d1 / 5.0 && d2 > d1 / 20.0, "{d1} {d2}");
    }
}
