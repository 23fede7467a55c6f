//! Stationary firing rate of a leaky integrate-and-fire neuron driven by white noise (the
//! Siegert formula).
//!
//! # Model
//!
//! Voltages relative to the resting potential E_L:
//!
//! ```text
//! τ_m dV/dt = −V + μ + σ √τ_m ξ(t)        ⟨ξ(t) ξ(t')⟩ = δ(t − t')
//! V ≥ θ  →  spike;  V ← V_r, held for t_ref
//! ```
//!
//! so that the free membrane has mean μ and standard deviation σ/√2. (For a LIF neuron with
//! capacitance C_m, a current `I(t)` with mean `I₀` and white-noise part of intensity `D`
//! (`⟨δI(t) δI(t')⟩ = D δ(t − t')`) gives `μ = R I₀` and `σ = R √(D/τ_m)`, `R = τ_m/C_m`.)
//!
//! # Formula
//!
//! The mean first-passage time from V_r to θ (Siegert 1951; Ricciardi 1977; Brunel 2000, eq. 21):
//!
//! ```text
//! 1/ν = t_ref + τ_m √π ∫_{(V_r − μ)/σ}^{(θ − μ)/σ} e^{u²} (1 + erf u) du
//! ```
//!
//! The integrand is written `e^{u²}(1 + erf u) = erfcx(−u)` with the scaled complementary
//! error function `erfcx(x) = e^{x²} erfc(x)`: for `u < 0` that is `erfcx(|u|) ≈ 1/(|u|√π)`,
//! bounded and free of the overflow and cancellation of the naive form; for `u ≥ 0` it is
//! `2 e^{u²} − erfcx(u)`. The integral is computed by adaptive Simpson quadrature, split at
//! u = 0, ±1, ±3, to a relative accuracy of 1e-12.

use crate::rate::erf;
use std::f64::consts::PI;

/// Rate (Hz) of the LIF neuron `τ_m dV/dt = −V + μ + σ√τ_m ξ` (see the module documentation):
/// `mu`, `sigma`, `v_th` (θ), `v_reset` (V_r) in mV relative to E_L, `tau_m` and `t_ref` in ms.
///
/// `sigma = 0` gives the deterministic rate `1/(t_ref + τ_m ln((μ − V_r)/(μ − θ)))` (0 below
/// threshold). Returns 0 when the passage time overflows (θ − μ ≫ σ).
///
/// # Panics
/// If `tau_m ≤ 0`, `t_ref < 0`, `sigma < 0` or `v_reset ≥ v_th`.
pub fn lif_rate_white_noise(
    mu: f64,
    sigma: f64,
    tau_m: f64,
    t_ref: f64,
    v_th: f64,
    v_reset: f64,
) -> f64 {
    assert!(tau_m > 0.0, "tau_m must be positive, got {tau_m}");
    assert!(t_ref >= 0.0, "t_ref must be ≥ 0, got {t_ref}");
    assert!(sigma >= 0.0, "sigma must be ≥ 0, got {sigma}");
    assert!(
        v_reset < v_th,
        "v_reset ({v_reset}) must be below v_th ({v_th})"
    );
    if sigma == 0.0 {
        if mu <= v_th {
            return 0.0;
        }
        return 1e3 / (t_ref + tau_m * ((mu - v_reset) / (mu - v_th)).ln());
    }
    let lower = (v_reset - mu) / sigma;
    let upper = (v_th - mu) / sigma;
    let passage = tau_m * PI.sqrt() * integral_erfcx_minus(lower, upper);
    let period = t_ref + passage;
    if period.is_finite() {
        1e3 / period
    } else {
        0.0
    }
}

/// `∫_a^b erfcx(−u) du = ∫_a^b e^{u²}(1 + erf u) du` (a < b).
pub fn integral_erfcx_minus(a: f64, b: f64) -> f64 {
    let f = |u: f64| erfcx(-u);
    // Split at 0 and at ±1, ±3 so that each piece is smooth on its own scale; the integrand
    // grows like e^{u²} on the right and decays like 1/|u| on the left.
    let mut points = vec![a];
    for p in [-3.0, -1.0, 0.0, 1.0, 3.0] {
        if p > a && p < b {
            points.push(p);
        }
    }
    points.push(b);
    points
        .windows(2)
        .map(|w| adaptive_simpson(&f, w[0], w[1], 1e-13))
        .sum()
}

/// Adaptive Simpson quadrature of `f` on `[a, b]` to relative accuracy about `tolerance`.
fn adaptive_simpson(f: &impl Fn(f64) -> f64, a: f64, b: f64, tolerance: f64) -> f64 {
    let (fa, fm, fb) = (f(a), f(0.5 * (a + b)), f(b));
    let whole = (b - a) / 6.0 * (fa + 4.0 * fm + fb);
    simpson_refine(
        f,
        a,
        b,
        fa,
        fm,
        fb,
        whole,
        tolerance * whole.abs().max(1e-300),
        60,
    )
}

fn simpson_refine(
    f: &impl Fn(f64) -> f64,
    a: f64,
    b: f64,
    fa: f64,
    fm: f64,
    fb: f64,
    whole: f64,
    tolerance: f64,
    depth: u32,
) -> f64 {
    let m = 0.5 * (a + b);
    let (lm, rm) = (0.5 * (a + m), 0.5 * (m + b));
    let (flm, frm) = (f(lm), f(rm));
    let left = (m - a) / 6.0 * (fa + 4.0 * flm + fm);
    let right = (b - m) / 6.0 * (fm + 4.0 * frm + fb);
    let delta = left + right - whole;
    if depth == 0 || delta.abs() <= 15.0 * tolerance || !delta.is_finite() {
        return left + right + delta / 15.0;
    }
    simpson_refine(f, a, m, fa, flm, fm, left, 0.5 * tolerance, depth - 1)
        + simpson_refine(f, m, b, fm, frm, fb, right, 0.5 * tolerance, depth - 1)
}

/// The scaled complementary error function `erfcx(x) = e^{x²} erfc(x)`, to about 1e-15
/// relative accuracy.
///
/// `x < 0`: `2 e^{x²} − erfcx(−x)` (overflows to +∞ beyond x ≈ −26.6). `0 ≤ x < 2`:
/// `e^{x²}(1 − erf x)` (erfc ≥ 0.0047 there, so the subtraction loses at most 3 digits of
/// `erf`'s 1e-17). `x ≥ 2`: the continued fraction
/// `erfcx(x) = (1/√π) · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))`,
/// evaluated with the modified Lentz method.
pub fn erfcx(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < 0.0 {
        return 2.0 * (x * x).exp() - erfcx(-x);
    }
    if x < 2.0 {
        return (x * x).exp() * (1.0 - erf(x));
    }
    if x > 1e8 {
        return 1.0 / (x * PI.sqrt());
    }
    // f = x + a1/(x + a2/(x + …)), a_k = k/2 (modified Lentz).
    let tiny = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for k in 1..500 {
        let a = 0.5 * f64::from(k);
        d = x + a * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = x + a / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    1.0 / (PI.sqrt() * f)
}
