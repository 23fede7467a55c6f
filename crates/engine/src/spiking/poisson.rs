//! Poisson spike counts per neuron, lane and step, from the counter-based generator.
//!
//! An input of `count` independent Poisson trains of rate `ν` onto a neuron delivers, in a step
//! of length `dt`, a Poisson-distributed number of spikes with mean `λ = count · ν · dt` (NEST's
//! `poisson_generator`, which draws one Poisson count per target and step). The count is drawn
//! by inversion of the cumulative distribution from one uniform number; means above
//! [`MAX_PART`] are split into equal parts whose counts are summed (a sum of independent Poisson
//! counts is Poisson), so the cost stays O(λ) and `e^{−λ}` never underflows.
//!
//! The uniform of neuron `n`, lane `l`, step `s`, part `k` comes from the Philox block at counter
//! `[s_lo, s_hi, n/2, (l << 16) | k]` (words 0–1 for even `n`, 2–3 for odd `n`): a pure function
//! of these numbers, so counts do not depend on threads, blocks or the number of lanes. The
//! inversion searches a table of the cumulative distribution, built once per input and lane.

use crate::rng::{PHILOX_BATCH, Philox4x32, unit_open};

/// Largest mean drawn by a single inversion.
pub const MAX_PART: f64 = 40.0;

/// Entries of the cumulative distribution compared without branches by the inversion.
const BRANCHLESS: usize = 8;

/// How the counts of one input are drawn (per lane): the cumulative distribution of one part's
/// count, tabulated up to where it reaches 1 in double precision.
#[derive(Clone, Debug, PartialEq)]
pub struct PoissonMean {
    /// `cdf[k] = P(count ≤ k)` of one part.
    pub cdf: Vec<f64>,
    /// Number of parts (0 when the mean is 0).
    pub parts: u32,
}

impl PoissonMean {
    pub fn new(mean: f64) -> Self {
        if mean <= 0.0 {
            return PoissonMean {
                cdf: vec![1.0],
                parts: 0,
            };
        }
        let parts = (mean / MAX_PART).ceil().max(1.0) as u32;
        let part_mean = mean / parts as f64;
        let mut cdf = Vec::new();
        let mut p = (-part_mean).exp();
        let mut cumulative = p;
        let mut k = 0.0;
        while cumulative < 1.0 && cdf.len() < 1000 {
            cdf.push(cumulative);
            k += 1.0;
            p *= part_mean / k;
            if p < 1e-300 {
                break;
            }
            cumulative += p;
        }
        cdf.push(1.0);
        PoissonMean { cdf, parts }
    }

    /// The count of one part whose uniform is `u` (inversion: the first `k` with `u ≤ cdf[k]`).
    ///
    /// The first [`BRANCHLESS`] entries are compared without branches (the number of entries
    /// below `u` is that first `k` when it lies among them, as `cdf` never decreases), which
    /// spares the mispredicted branches of a search over random uniforms; larger counts continue
    /// with the linear search. The result is the same as the plain search's.
    #[inline]
    fn invert(&self, u: f64) -> u32 {
        let head = self.cdf.len().min(BRANCHLESS);
        let below: usize = self.cdf[..head].iter().map(|&c| usize::from(u > c)).sum();
        if below < head {
            return below as u32;
        }
        let mut k = head;
        while u > self.cdf[k] {
            k += 1;
        }
        k as u32
    }
}

/// The Poisson counts of neurons `2·pair` and `2·pair + 1` in `lane` at `step`: part `k` of the
/// even neuron reads the first two words of the Philox block at counter `[step_lo, step_hi,
/// pair, (lane << 16) | k]`, the odd neuron the last two.
#[inline]
pub fn count_pair(
    key: &Philox4x32,
    mean: &PoissonMean,
    step: u64,
    pair: u32,
    lane: u32,
) -> (u32, u32) {
    let (mut even, mut odd) = (0, 0);
    for part in 0..mean.parts {
        let block = key.block([step as u32, (step >> 32) as u32, pair, (lane << 16) | part]);
        even += mean.invert(unit_open(block[0], block[1]));
        odd += mean.invert(unit_open(block[2], block[3]));
    }
    (even, odd)
}

/// [`count_pair`] of the [`PHILOX_BATCH`] pairs `first_pair..first_pair + PHILOX_BATCH`, with
/// their Philox blocks computed together (the same counts as pair by pair).
#[inline]
pub fn count_pairs(
    key: &Philox4x32,
    mean: &PoissonMean,
    step: u64,
    first_pair: u32,
    lane: u32,
) -> [(u32, u32); PHILOX_BATCH] {
    let mut counts = [(0, 0); PHILOX_BATCH];
    for part in 0..mean.parts {
        let counters: [[u32; 4]; PHILOX_BATCH] = std::array::from_fn(|i| {
            [
                step as u32,
                (step >> 32) as u32,
                first_pair + i as u32,
                (lane << 16) | part,
            ]
        });
        let blocks = key.blocks(&counters);
        for (count, block) in counts.iter_mut().zip(&blocks) {
            count.0 += mean.invert(unit_open(block[0], block[1]));
            count.1 += mean.invert(unit_open(block[2], block[3]));
        }
    }
    counts
}

/// The Poisson count of `neuron` in `lane` at `step` (one half of [`count_pair`]).
pub fn count(key: &Philox4x32, mean: &PoissonMean, step: u64, neuron: u32, lane: u32) -> u32 {
    let (even, odd) = count_pair(key, mean, step, neuron / 2, lane);
    if neuron.is_multiple_of(2) { even } else { odd }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_counts_equal_pair_by_pair_counts() {
        let key = Philox4x32::new(3, 5);
        for lambda in [0.0, 0.3, 2.0, 9.0, 35.0, 90.0] {
            let mean = PoissonMean::new(lambda);
            for step in [0u64, 7, 1 << 33] {
                for lane in [0u32, 3] {
                    let batch = count_pairs(&key, &mean, step, 40, lane);
                    for (i, counts) in batch.iter().enumerate() {
                        assert_eq!(
                            *counts,
                            count_pair(&key, &mean, step, 40 + i as u32, lane),
                            "λ {lambda}, step {step}, lane {lane}, pair {i}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn inversion_equals_the_plain_search() {
        for lambda in [0.01, 1.0, 2.0, 7.5, 39.0] {
            let mean = PoissonMean::new(lambda);
            for i in 0..20_000 {
                let u = (i as f64 + 0.5) / 20_000.0;
                let plain = mean.cdf.iter().position(|&c| u <= c).unwrap() as u32;
                assert_eq!(mean.invert(u), plain, "λ {lambda}, u {u}");
            }
        }
    }

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
