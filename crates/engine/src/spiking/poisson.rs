//! Poisson spike counts per neuron, lane and step, from the counter-based generator.
//!
//! An input of `count` independent Poisson trains of rate `ν` onto a neuron delivers, in a step
//! of length `dt`, a Poisson-distributed number of spikes with mean `λ = count · ν · dt` (NEST's
//! `poisson_generator`, which draws one Poisson count per target and step). The count is drawn
//! by inversion of the cumulative distribution from one uniform number; means above
//! [`MAX_PART`] are split into equal parts whose counts are summed (a sum of independent Poisson
//! counts is Poisson), so the cost stays O(λ) and `e^{−λ}` never underflows.
//!
//! The uniforms of neuron `n`, lane `l`, step `s`, part `k` come from the Philox block at counter
//! `[s_lo, s_hi, n, (l << 16) | k/2]`, two uniforms per block: a pure function of these numbers,
//! so counts do not depend on threads, blocks or the number of lanes.

use crate::rng::{Philox4x32, unit_open};

/// Largest mean drawn by a single inversion.
pub const MAX_PART: f64 = 40.0;

/// How the counts of one input are drawn (per lane).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct PoissonMean {
    /// Mean of one part.
    pub part_mean: f64,
    /// `e^{−part_mean}`.
    pub exp_neg: f64,
    /// Number of parts (≥ 1; 0 when the mean is 0).
    pub parts: u32,
}

impl PoissonMean {
    pub fn new(mean: f64) -> Self {
        if mean <= 0.0 {
            return PoissonMean {
                part_mean: 0.0,
                exp_neg: 1.0,
                parts: 0,
            };
        }
        let parts = (mean / MAX_PART).ceil().max(1.0) as u32;
        let part_mean = mean / parts as f64;
        PoissonMean {
            part_mean,
            exp_neg: (-part_mean).exp(),
            parts,
        }
    }
}

/// `1/k`, from a table for small `k` (a division costs more than the rest of an iteration).
#[inline]
fn inverse(k: u32) -> f64 {
    const TABLE: [f64; 64] = {
        let mut t = [0.0; 64];
        let mut i = 1;
        while i < 64 {
            t[i] = 1.0 / i as f64;
            i += 1;
        }
        t
    };
    if k < 64 {
        TABLE[k as usize]
    } else {
        1.0 / k as f64
    }
}

/// Poisson count by inversion from the uniform `u`.
#[inline]
fn invert(u: f64, mean: f64, exp_neg: f64) -> u32 {
    let mut k = 0u32;
    let mut p = exp_neg;
    let mut cumulative = p;
    // The tail beyond 1000 has probability below 1e-300 for means ≤ MAX_PART.
    while u > cumulative && k < 1000 {
        k += 1;
        p *= mean * inverse(k);
        cumulative += p;
    }
    k
}

/// The Poisson count of `neuron` in `lane` at `step`.
#[inline]
pub fn count(key: &Philox4x32, mean: &PoissonMean, step: u64, neuron: u32, lane: u32) -> u32 {
    let mut total = 0;
    let mut part = 0;
    while part < mean.parts {
        let block = key.block([
            step as u32,
            (step >> 32) as u32,
            neuron,
            (lane << 16) | (part / 2),
        ]);
        total += invert(unit_open(block[0], block[1]), mean.part_mean, mean.exp_neg);
        if part + 1 < mean.parts {
            total += invert(unit_open(block[2], block[3]), mean.part_mean, mean.exp_neg);
        }
        part += 2;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_variance() {
        let key = Philox4x32::new(7, 11);
        for lambda in [0.05, 2.0, 35.0, 130.0] {
            let mean = PoissonMean::new(lambda);
            let n = 200_000;
            let (mut s, mut s2) = (0.0, 0.0);
            for i in 0..n {
                let c = count(&key, &mean, i as u64, 3, 0) as f64;
                s += c;
                s2 += c * c;
            }
            let m = s / n as f64;
            let var = s2 / n as f64 - m * m;
            let tolerance = 5.0 * (lambda / n as f64).sqrt();
            assert!((m - lambda).abs() < tolerance, "λ = {lambda}: mean {m}");
            assert!(
                (var - lambda).abs() < 0.03 * lambda + 0.01,
                "λ = {lambda}: var {var}"
            );
        }
    }
}
