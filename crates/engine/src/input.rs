//! External inputs at run time: constant drives, Gaussian noise, ring stimuli, time series.
//!
//! Each input is active on a half-open range of steps `[first, last)` counted from the start of the
//! run (transient included). Constant drives are summed into one value per lane and step; the
//! others are written into the population's input buffer, `[neuron][lane]`.

use crate::real::Real;
use crate::rng::{Philox4x32, normals_for};

/// What an input adds to `μ` of each neuron and lane.
#[derive(Clone, Debug)]
pub enum InputKind<T: Real> {
    /// The same value for every neuron, one per lane.
    Constant(Vec<T>),
    /// `mean + std · ξ`, ξ standard normal per neuron, lane and step (Philox, counter = step,
    /// neuron, lane pair); `std` already includes the `1/√dt` of white noise.
    Noise {
        mean: Vec<T>,
        std: Vec<T>,
        key: Philox4x32,
        /// Index of lane 0 in the streams: lane `l` reads the normal of lane `lane_offset + l`.
        lane_offset: u64,
    },
    /// A fixed pattern `[neuron][lane]` (a ring stimulus with its per-lane amplitude and phase).
    Pattern(Vec<T>),
    /// `offset + amplitude · sin(ω · step + phase)`, the same for every neuron (per-lane
    /// amplitude and offset; ω in radians per step).
    Sine {
        amplitude: Vec<T>,
        offset: Vec<T>,
        omega: f64,
        phase: f64,
    },
    /// The same value for every neuron, per lane and step: `values[lane * steps + (step −
    /// first)]` for steps `first..first + steps` (cnsproject's random step current).
    PerStep {
        values: Vec<T>,
        first: u64,
        steps: usize,
    },
    /// A time series: `values[(lane_or_0 * steps + step) * neurons + neuron]`.
    Series {
        values: Vec<T>,
        lanes_in_file: usize,
        steps: usize,
    },
    /// Another input whose active range differs per lane (a random delay): lane `l` gets it on
    /// steps `[windows[l].0, windows[l].1)`, read at step `step − shifts[l]` (so a time series or
    /// a sine starts where it would have without the delay); see [`crate::stimulus`].
    Delayed {
        inner: Box<Input<T>>,
        windows: Vec<(u64, u64)>,
        shifts: Vec<u64>,
    },
}

/// One lowered input.
#[derive(Clone, Debug)]
pub struct Input<T: Real> {
    pub name: String,
    pub population: usize,
    pub first_step: u64,
    pub last_step: u64,
    pub kind: InputKind<T>,
}

impl<T: Real> Input<T> {
    /// Whether the input acts at `step`.
    #[inline]
    pub fn active(&self, step: u64) -> bool {
        self.first_step <= step && step < self.last_step
    }

    /// Add a constant input's per-lane values to `drive`; returns false for other kinds.
    pub fn add_constant(&self, drive: &mut [T]) -> bool {
        if let InputKind::Constant(values) = &self.kind {
            for (d, v) in drive.iter_mut().zip(values) {
                *d += *v;
            }
            true
        } else {
            false
        }
    }

    /// Add this input at `step` to the rows `[first_neuron, first_neuron + rows)` of a
    /// `[neuron][lane]` buffer `out` (which holds exactly those rows).
    pub fn add_rows(&self, step: u64, first_neuron: usize, out: &mut [T], lanes: usize) {
        let rows = out.len() / lanes;
        match &self.kind {
            InputKind::Delayed {
                inner,
                windows,
                shifts,
            } => crate::stimulus::add_delayed_rows(
                inner,
                windows,
                shifts,
                step,
                first_neuron,
                out,
                lanes,
            ),
            InputKind::Constant(values) => {
                for row in out.chunks_exact_mut(lanes) {
                    for (o, v) in row.iter_mut().zip(values) {
                        *o += *v;
                    }
                }
            }
            InputKind::Noise {
                mean,
                std,
                key,
                lane_offset,
            } => {
                // Lane `l` is global lane `g = lane_offset + l`, which takes normal `g % 2` of
                // the Philox block of lane pair `g / 2`.
                let first_pair = lane_offset / 2;
                let pairs = (lane_offset + lanes as u64).div_ceil(2) - first_pair;
                for r in 0..rows {
                    let neuron = (first_neuron + r) as u32;
                    let row = &mut out[r * lanes..(r + 1) * lanes];
                    for pair in first_pair..first_pair + pairs {
                        let (z0, z1) = normals_for(key, step, neuron, pair as u32);
                        for (g, z) in [(2 * pair, z0), (2 * pair + 1, z1)] {
                            if g >= *lane_offset && g < lane_offset + lanes as u64 {
                                let l = (g - lane_offset) as usize;
                                row[l] += mean[l] + std[l] * T::from_f64(z);
                            }
                        }
                    }
                }
            }
            InputKind::Sine {
                amplitude,
                offset,
                omega,
                phase,
            } => {
                let sine = T::from_f64((omega * step as f64 + phase).sin());
                for row in out.chunks_exact_mut(lanes) {
                    for l in 0..lanes {
                        row[l] += offset[l] + amplitude[l] * sine;
                    }
                }
            }
            InputKind::PerStep {
                values,
                first,
                steps,
            } => {
                let Some(at) = step.checked_sub(*first).map(|s| s as usize) else {
                    return;
                };
                if at >= *steps {
                    return;
                }
                for row in out.chunks_exact_mut(lanes) {
                    for (l, o) in row.iter_mut().enumerate() {
                        *o += values[l * steps + at];
                    }
                }
            }
            InputKind::Pattern(pattern) => {
                let start = first_neuron * lanes;
                for (o, p) in out.iter_mut().zip(&pattern[start..start + rows * lanes]) {
                    *o += *p;
                }
            }
            InputKind::Series {
                values,
                lanes_in_file,
                steps,
            } => {
                let neurons = values.len() / (lanes_in_file * steps);
                let step = step as usize;
                for r in 0..rows {
                    let neuron = first_neuron + r;
                    for l in 0..lanes {
                        let source = if *lanes_in_file == 1 { 0 } else { l };
                        out[r * lanes + l] += values[(source * steps + step) * neurons + neuron];
                    }
                }
            }
        }
    }
}
