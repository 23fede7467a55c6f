//! The floating-point types a simulation runs in.
//!
//! Every kernel is generic over [`Real`], implemented for `f32` (the default precision of a model
//! file) and `f64` (`precision: f64`). The trait holds just the operations the kernels need, so a
//! kernel reads like the equation it implements.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point scalar the engine can compute in (`f32` or `f64`).
pub trait Real:
    Copy
    + Send
    + Sync
    + Debug
    + Display
    + Default
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Sum
    + faer::traits::RealField
    + 'static
{
    /// Name used in result files and messages (`"f32"` or `"f64"`).
    const NAME: &'static str;
    const ZERO: Self;
    const ONE: Self;
    fn from_f64(value: f64) -> Self;
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    /// `e^x` computed inline, without a libm call (see [`exp_f32`], [`exp_f64`]): for hot loops
    /// where the call and the registers it clobbers cost more than the exponential itself.
    fn exp_inline(self) -> Self;
    fn tanh(self) -> Self;
    /// `tanh x` computed inline (see [`tanh_f32`]; f64 calls libm): for hot loops over many
    /// neurons, where a libm call per element dominates.
    fn tanh_inline(self) -> Self;
    fn sqrt(self) -> Self;
    fn max(self, other: Self) -> Self;
    fn is_finite(self) -> bool;
    fn mul_add(self, a: Self, b: Self) -> Self;
}

/// 1.5·2²³: adding and subtracting it rounds an f32 to an integer.
const MAGIC_F32: f32 = 12_582_912.0;
/// 1.5·2⁵²: adding and subtracting it rounds an f64 to an integer.
const MAGIC_F64: f64 = 6_755_399_441_055_744.0;

/// 2ⁿ for `shifted = n + 1.5·2²³` (n an integer in [−126, 127]), built from the bits: `shifted`
/// lies in [2²³, 2²⁴), where one unit of the last place is 1, so its bits minus those of the
/// constant are n. (Not `n as i32`: that saturating conversion does not vectorise. For NaN the
/// result is garbage, but the exponentials multiply it by a NaN.)
#[inline(always)]
fn pow2_f32(shifted: f32) -> f32 {
    let n_bits = shifted.to_bits().wrapping_sub(MAGIC_F32.to_bits());
    f32::from_bits(n_bits.wrapping_add(127) << 23)
}

/// 2ⁿ for `shifted = n + 1.5·2⁵²` (n in [−1022, 1023]), as [`pow2_f32`].
#[inline(always)]
fn pow2_f64(shifted: f64) -> f64 {
    let n_bits = shifted.to_bits().wrapping_sub(MAGIC_F64.to_bits());
    f64::from_bits(n_bits.wrapping_add(1023) << 52)
}

/// `e^x` in f32 without a libm call: `x = n ln 2 + r` with `n` the nearest integer of `x/ln 2`
/// (rounded by adding and subtracting 1.5·2²³) and `|r| ≤ ln 2 / 2` (Cody–Waite split of ln 2),
/// `e^r` by its Taylor polynomial of degree 7 (truncation below 5·10⁻⁹ relative; Estrin's scheme), times `2^n` built
/// from its bits. Within a few ulp of `f32::exp` for `x` in [−87, 88]; arguments outside are
/// clamped to that range (so `e^x` is never 0 or ∞), NaN stays NaN.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const MAGIC: f32 = MAGIC_F32;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + MAGIC;
    let n = shifted - MAGIC;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Estrin's scheme: the same polynomial as Horner's rule with a dependency chain of four
    // multiply–adds instead of seven (the neuron loops that call this are latency-bound).
    let r2 = r * r;
    let r4 = r2 * r2;
    let p01 = 1.0 + r;
    let p23 = 0.5 + r * (1.0 / 6.0);
    let p45 = 1.0 / 24.0 + r * (1.0 / 120.0);
    let p67 = 1.0 / 720.0 + r * (1.0 / 5040.0);
    let p = (p01 + r2 * p23) + r4 * (p45 + r2 * p67);
    p * pow2_f32(shifted)
}

/// `e^x` in f64 without a libm call, as [`exp_f32`] with the Taylor polynomial of degree 13
/// (truncation below 10⁻¹⁷ relative) and 1.5·2⁵² for the rounding; arguments clamped to
/// [−708, 709].
#[inline(always)]
pub fn exp_f64(x: f64) -> f64 {
    const MAGIC: f64 = MAGIC_F64;
    const LN2_HI: f64 = 6.931_457_519_531_25e-1;
    const LN2_LO: f64 = 1.428_606_820_309_417_2e-6;
    let x = x.clamp(-708.0, 709.0);
    let shifted = x * std::f64::consts::LOG2_E + MAGIC;
    let n = shifted - MAGIC;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0;
    for c in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    p * pow2_f64(shifted)
}

/// `tanh x` in f32 without a libm call: the odd Taylor polynomial of degree 11 for `|x| < 0.3`
/// (truncation below 10⁻⁹ relative) and `1 − 2/(e^{2|x|} + 1)` with [`exp_f32`] above, with the
/// sign of `x`; within a few ulp of `f32::tanh` (below 4·10⁻⁷ relative, tested), exactly ±1 for
/// large `|x|`, NaN for NaN. Both branches are computed and one selected, so loops over it
/// vectorise.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    let e = exp_f32(2.0 * a);
    let large = (1.0 - 2.0 / (e + 1.0)).copysign(x);
    let x2 = x * x;
    let p = -1382.0 / 155_925.0;
    let p = 62.0 / 2835.0 + x2 * p;
    let p = -17.0 / 315.0 + x2 * p;
    let p = 2.0 / 15.0 + x2 * p;
    let p = -1.0 / 3.0 + x2 * p;
    let small = x + x * (x2 * p);
    if a < 0.3 { small } else { large }
}

fn tanh_f64(x: f64) -> f64 {
    x.tanh()
}

macro_rules! impl_real {
    ($t:ty, $name:literal, $exp_inline:path, $tanh_inline:path) => {
        impl Real for $t {
            const NAME: &'static str = $name;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn from_f64(value: f64) -> Self {
                value as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn exp_inline(self) -> Self {
                $exp_inline(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn tanh_inline(self) -> Self {
                $tanh_inline(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                // Plain multiply-add: `f32::mul_add` is a slow libm call without FMA hardware, and
                // results must not depend on which CPU features are present.
                self * a + b
            }
        }
    };
}

impl_real!(f32, "f32", exp_f32, tanh_f32);
impl_real!(f64, "f64", exp_f64, tanh_f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_exponentials_match_libm() {
        for i in 0..=200_000 {
            let x = -87.0 + 175.0 * i as f64 / 200_000.0;
            let (ours, libm) = (exp_f32(x as f32) as f64, (x as f32).exp() as f64);
            assert!(
                (ours - libm).abs() <= 4.0 * f32::EPSILON as f64 * libm,
                "f32 e^{x}: {ours} vs {libm}"
            );
            let x = -708.0 + 1417.0 * i as f64 / 200_000.0;
            let (ours, libm) = (exp_f64(x), x.exp());
            assert!(
                (ours - libm).abs() <= 4.0 * f64::EPSILON * libm,
                "f64 e^{x}: {ours} vs {libm}"
            );
        }
        for x in [0.0, 1e-8, -1e-8, 0.5, -0.5, 1.0] {
            assert!((exp_f64(x) - x.exp()).abs() <= 2.0 * f64::EPSILON * x.exp());
        }
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f32(0.0), 1.0);
        assert!(exp_f32(f32::NAN).is_nan() && exp_f64(f64::NAN).is_nan());
        assert!(exp_f32(-1e4) > 0.0 && exp_f32(1e4).is_finite());
        assert!(exp_f64(-1e6) > 0.0 && exp_f64(1e6).is_finite());
    }

    /// 2ⁿ built from the bits of the shifted argument equals 2ⁿ from `n as i32` (the form that
    /// does not vectorise) for every n the clamped arguments give.
    #[test]
    fn exponent_from_bits_equals_the_integer_conversion() {
        for i in 0..=200_000 {
            let x = (-87.0 + 175.0 * i as f32 / 200_000.0) * std::f32::consts::LOG2_E;
            let shifted = x + MAGIC_F32;
            let n = shifted - MAGIC_F32;
            let old = f32::from_bits(((n as i32 + 127) as u32) << 23);
            assert_eq!(pow2_f32(shifted).to_bits(), old.to_bits(), "{x}");
            let x = (-708.0 + 1417.0 * i as f64 / 200_000.0) * std::f64::consts::LOG2_E;
            let shifted = x + MAGIC_F64;
            let n = shifted - MAGIC_F64;
            let old = f64::from_bits(((n as i64 + 1023) as u64) << 52);
            assert_eq!(pow2_f64(shifted).to_bits(), old.to_bits(), "{x}");
        }
    }

    #[test]
    fn inline_tanh_matches_libm() {
        for i in 0..=400_000 {
            let x = -20.0 + 40.0 * i as f32 / 400_000.0;
            let (ours, libm) = (tanh_f32(x) as f64, x.tanh() as f64);
            assert!(
                (ours - libm).abs() <= 4e-7 * libm.abs().max(1e-30) + 1e-45,
                "f32 tanh {x}: {ours} vs {libm}"
            );
        }
        for x in [0.0f32, 1e-30, -1e-30, 0.3, -0.3, 0.299_999_98] {
            assert!((tanh_f32(x) - x.tanh()).abs() <= 4e-7 * x.tanh().abs());
        }
        assert_eq!(tanh_f32(100.0), 1.0);
        assert_eq!(tanh_f32(-100.0), -1.0);
        assert!(tanh_f32(f32::NAN).is_nan());
        assert_eq!(2.5f64.tanh_inline(), 2.5f64.tanh());
    }
}
