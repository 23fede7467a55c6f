//! cnsproject's encoders (`inputs.<name>.encoder`): value patterns turned into the spikes of a
//! Poisson-source population.
//!
//! Pattern `sequence[k]` is shown during window `k` (`T = window/dt` steps) from the input's
//! start to its stop; values are normalised to `v̂ = clip((v − min)/(max − min), 0, 1)`. In a window
//! (step `s = 0 … T − 1` of it):
//!
//! * `ttfs`: `k = round(v̂ (T − 1))`; one spike at `s = T − k` (none when `k = 0`, i.e. at the
//!   minimum), so larger values spike earlier;
//! * `position`: value `i` drives fields `i·n … i·n + n − 1`; with `x = v̂ n`, field `k` responds
//!   `a_k = exp(−(x − μ_k)²/(2σ_k²))` (peak 1) and spikes once at `s = round((1 − a_k)(T − 1))`
//!   when `a_k ≥ threshold`;
//! * `poisson`: at each step, a spike with probability `p = v̂ · spikes / T` (a maximal value
//!   gives `spikes` expected spikes per window), drawn from a counter-based stream keyed by
//!   (seed, input) with counter (step, neuron, lane): the same in any thread split.

use crate::rng::{Philox4x32, stream_id, unit_open};
use neuroxide_model::{EncoderKind, EncoderSpec};

/// An encoder at run time.
#[derive(Debug)]
pub struct Encoder {
    pub name: String,
    /// Index of the target among the spiking populations.
    pub population: usize,
    pub kind: EncoderKind,
    /// Steps `[first, last)` from the start of the run in which the encoder is active.
    pub first: u64,
    pub last: u64,
    pub window: u64,
    pub sequence: Vec<usize>,
    /// `ttfs`/`position`: per pattern, the step of the window at which each neuron spikes
    /// (`u64::MAX`: never).
    pub latency: Vec<Vec<u64>>,
    /// `poisson`: per pattern, each neuron's spike probability per step.
    pub probability: Vec<Vec<f64>>,
    pub key: Philox4x32,
    pub lane_offset: u64,
}

impl Encoder {
    /// Lower `spec` for a target of `size` neurons.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        spec: &EncoderSpec,
        population: usize,
        size: usize,
        first: u64,
        last: u64,
        dt: f64,
        seed: u64,
        lane_offset: u64,
    ) -> Self {
        let window = ((spec.window.ms() / dt).round() as u64).max(1);
        let t = window as f64;
        let norm = |v: f64| ((v - spec.min) / (spec.max - spec.min)).clamp(0.0, 1.0);
        let mut latency = Vec::new();
        let mut probability = Vec::new();
        for pattern in &spec.patterns {
            match spec.kind {
                EncoderKind::Ttfs => latency.push(
                    pattern
                        .iter()
                        .map(|&v| {
                            let k = (norm(v) * (t - 1.0)).round() as u64;
                            if k == 0 { u64::MAX } else { window - k }
                        })
                        .collect(),
                ),
                EncoderKind::Position => {
                    let n = spec.neurons.unwrap_or(8);
                    let means: Vec<f64> = spec
                        .means
                        .clone()
                        .unwrap_or_else(|| (1..=n).map(|k| k as f64).collect());
                    let stds = spec.stds.clone().unwrap_or_else(|| vec![1.0; n]);
                    let threshold = spec.threshold.unwrap_or(0.1);
                    let mut row = Vec::with_capacity(size);
                    for &v in pattern {
                        let x = norm(v) * n as f64;
                        for k in 0..n {
                            let a = (-(x - means[k]).powi(2) / (2.0 * stds[k] * stds[k])).exp();
                            row.push(if a >= threshold {
                                ((1.0 - a) * (t - 1.0)).round() as u64
                            } else {
                                u64::MAX
                            });
                        }
                    }
                    latency.push(row);
                }
                EncoderKind::Poisson => {
                    let spikes = spec.spikes.unwrap_or(1.0);
                    probability.push(pattern.iter().map(|&v| norm(v) * spikes / t).collect());
                }
            }
        }
        let count = spec.patterns.len();
        Encoder {
            name: name.to_string(),
            population,
            kind: spec.kind,
            first,
            last,
            window,
            sequence: spec
                .sequence
                .clone()
                .unwrap_or_else(|| (0..count).collect()),
            latency,
            probability,
            key: Philox4x32::new(seed, stream_id(&format!("encoder {name}"), 0)),
            lane_offset,
        }
    }

    /// The pattern shown at `step` and the step within its window, if active.
    pub fn shown(&self, step: u64) -> Option<(usize, u64)> {
        if step < self.first || step >= self.last || self.sequence.is_empty() {
            return None;
        }
        let k = (step - self.first) / self.window;
        let pattern = self.sequence[(k % self.sequence.len() as u64) as usize];
        Some((pattern, (step - self.first) % self.window))
    }

    /// Append the spikes of `step` in `lane` (ascending neurons) to `out`.
    pub fn spikes(&self, step: u64, lane: usize, out: &mut Vec<u32>) {
        let Some((pattern, s)) = self.shown(step) else {
            return;
        };
        match self.kind {
            EncoderKind::Ttfs | EncoderKind::Position => {
                for (n, &at) in self.latency[pattern].iter().enumerate() {
                    if at == s {
                        out.push(n as u32);
                    }
                }
            }
            EncoderKind::Poisson => {
                let lane = (self.lane_offset + lane as u64) as u32;
                for (n, &p) in self.probability[pattern].iter().enumerate() {
                    if p <= 0.0 {
                        continue;
                    }
                    let r = self
                        .key
                        .block([step as u32, (step >> 32) as u32, n as u32, lane]);
                    if unit_open(r[0], r[1]) < p {
                        out.push(n as u32);
                    }
                }
            }
        }
    }
}
