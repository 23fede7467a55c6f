//! Firing-rate populations: `τ dr/dt = −r + φ(μ)`, with synaptic currents `τ_s dI/dt = −I + W r`.
//!
//! # Equations
//!
//! For a neuron `i` of a rate population, in each lane:
//!
//! ```text
//! τ_s,c dI_c/dt = −I_c + Σ_{p ∈ c} s_p (W_p r_pre)_i     one current per channel c
//! μ             = Σ_c I_c + input_i(t)
//! τ dr/dt       = −r + φ(μ; θ, g)
//! ```
//!
//! A channel groups the projections onto a population that share a synaptic time constant. With
//! no `tau_syn` a current follows its input instantly (`I_c = Σ s_p W_p r`), and with no `tau`
//! the rate does (`r = φ(μ)`).
//!
//! # Discretisation
//!
//! Every relaxation `τ dx/dt = −x + u` is stepped as `x ← a x + b u` with a [`Propagator`]
//! `(a, b)` precomputed per lane at lowering:
//!
//! | method | a | b |
//! |---|---|---|
//! | `euler` | 1 − dt/τ | dt/τ |
//! | `exponential_euler` | e^{−dt/τ} | 1 − e^{−dt/τ} |
//! | `neuroflame_2024` | e^{−dt/τ} | dt/τ |
//! | instantaneous (no τ) | 0 | 1 |
//!
//! Within a step the currents are updated from the rates at the start of the step, then the rates
//! from the new currents (the order of NeuroFlame and of the PyTorch loops it replaces).
//!
//! # Transfer functions
//!
//! See [`neuroxide_model::Transfer`]; `erf` is evaluated in f64 to full precision ([`erf`]).

use crate::real::Real;
use neuroxide_model::{Method, Transfer};

/// The update `x ← a x + b u` of one relaxation over one step.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Propagator {
    pub a: f64,
    pub b: f64,
}

impl Propagator {
    /// The propagator of `τ dx/dt = −x + u` over `dt` (both in ms); `None` means instantaneous.
    pub fn new(method: Method, dt: f64, tau: Option<f64>) -> Propagator {
        let Some(tau) = tau else {
            return Propagator { a: 0.0, b: 1.0 };
        };
        let ratio = dt / tau;
        match method {
            Method::Euler => Propagator {
                a: 1.0 - ratio,
                b: ratio,
            },
            Method::ExponentialEuler => Propagator {
                a: (-ratio).exp(),
                b: -(-ratio).exp_m1(),
            },
            Method::Neuroflame2024 => Propagator {
                a: (-ratio).exp(),
                b: ratio,
            },
        }
    }
}

/// `φ(μ)` for a transfer function with threshold `θ` and gain `g`.
#[inline(always)]
pub fn transfer<T: Real>(kind: Transfer, mu: T, threshold: T, gain: T) -> T {
    let x = mu - threshold;
    match kind {
        Transfer::Relu => gain * x.max(T::ZERO),
        Transfer::Tanh => (gain * x).tanh(),
        Transfer::Sigmoid => T::ONE / (T::ONE + (-(gain * x)).exp()),
        Transfer::Id => x,
        Transfer::Erf => T::from_f64(erf(x.to_f64() * std::f64::consts::FRAC_1_SQRT_2)),
        Transfer::GaussCdf => {
            gain * T::from_f64(0.5 * (1.0 + erf(x.to_f64() * std::f64::consts::FRAC_1_SQRT_2)))
        }
        Transfer::BrunelSqrt => {
            if x < T::ZERO {
                T::ZERO
            } else if x < T::ONE {
                x * x
            } else {
                (T::from_f64(4.0) * x - T::from_f64(3.0)).sqrt()
            }
        }
    }
}

/// The error function, to about 1e-15 relative accuracy.
///
/// `|x| < 2.5`: the series `erf x = (2/√π) e^{−x²} Σ_n 2ⁿ x^{2n+1} / (1·3·…·(2n+1))`, whose terms
/// are all positive (no cancellation); beyond, `1 − erfc x` with erfc's continued fraction.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let ax = x.abs();
    let value = if ax < 2.5 {
        let x2 = ax * ax;
        let mut term = ax;
        let mut sum = ax;
        let mut n = 0.0;
        while term > sum * 1e-17 {
            n += 1.0;
            term *= 2.0 * x2 / (2.0 * n + 1.0);
            sum += term;
        }
        std::f64::consts::FRAC_2_SQRT_PI * (-x2).exp() * sum
    } else if ax > 6.0 {
        1.0
    } else {
        1.0 - erfc_continued_fraction(ax)
    };
    value.copysign(x)
}

/// erfc(x) for x ≥ 2.5 from its continued fraction (modified Lentz).
fn erfc_continued_fraction(x: f64) -> f64 {
    // erfc x = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
    let tiny = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for k in 1..200 {
        let a = k as f64 * 0.5;
        d = x + a * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = x + a / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_reference_values() {
        // Values from Abramowitz & Stegun table 7.1 and high-precision references.
        let cases = [
            (0.0, 0.0),
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (2.4, 0.999_311_486_103_354_9),
            (2.6, 0.999_763_965_583_470_1),
            (3.0, 0.999_977_909_503_001_4),
            (4.0, 0.999_999_984_582_742_1),
        ];
        for (x, expected) in cases {
            assert!(
                (erf(x) - expected).abs() < 2e-15,
                "erf({x}) = {} vs {expected}",
                erf(x)
            );
            assert!((erf(-x) + expected).abs() < 2e-15);
        }
    }

    #[test]
    fn brunel_sqrt_is_continuous_at_one() {
        let below = transfer::<f64>(Transfer::BrunelSqrt, 1.0 - 1e-9, 0.0, 1.0);
        let above = transfer::<f64>(Transfer::BrunelSqrt, 1.0 + 1e-9, 0.0, 1.0);
        assert!((below - above).abs() < 1e-8);
    }

    #[test]
    fn propagators() {
        let p = Propagator::new(Method::Euler, 0.1, Some(10.0));
        assert_eq!((p.a, p.b), (0.99, 0.01));
        let p = Propagator::new(Method::ExponentialEuler, 0.1, Some(10.0));
        assert!((p.a + p.b - 1.0).abs() < 1e-15);
        let p = Propagator::new(Method::Euler, 0.1, None);
        assert_eq!((p.a, p.b), (0.0, 1.0));
    }
}
