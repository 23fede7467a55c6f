//! Long-term plasticity of projections (the `plasticity:` key): spike-timing rules on spiking
//! projections ([`spiking`]) and Hebbian rate rules on rate projections ([`rate`]).
//!
//! Every lane learns its own weights. The results hold, per plastic projection,
//!
//! | name | shape | meaning |
//! |---|---|---|
//! | `<projection>.weights` | (lanes, synapses) | the weights at the end of the run (spike rules: magnitudes) |
//! | `<projection>.synapse_post`, `.synapse_pre` | (synapses,) int64 | the neurons of each synapse, sorted by (post, pre) |
//! | `<projection>.weights_trace` | (lanes, frames, synapses) | with `record_every`: the weights every `record_every` |
//! | `<projection>.weights_trace_t` | (frames,) | their times in seconds from the end of the transient |

pub(crate) mod checkpoint;
mod cnsproject;
pub mod rate;
pub mod spiking;

pub use rate::RatePlasticity;
pub use spiking::SpikingPlasticity;

use crate::real::Real;
use crate::results::{ArrayData, NamedArray};

/// Result arrays of one plastic projection. `weights`: `[synapse][lane]`; `frames`:
/// `[frame][synapse][lane]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn arrays<T: Real>(
    name: &str,
    lanes: usize,
    weights: Vec<f64>,
    post: Vec<i64>,
    pre: Vec<i64>,
    frames: &[T],
    frame_steps: &[usize],
    dt_ms: f64,
) -> Vec<NamedArray> {
    let synapses = post.len();
    let transpose = |w: &[f64]| {
        let mut out = vec![0.0; w.len()];
        for s in 0..synapses {
            for l in 0..lanes {
                out[l * synapses + s] = w[s * lanes + l];
            }
        }
        out
    };
    let mut out = vec![
        NamedArray {
            name: format!("{name}.weights"),
            shape: vec![lanes, synapses],
            data: ArrayData::F64(transpose(&weights)),
        },
        NamedArray {
            name: format!("{name}.synapse_post"),
            shape: vec![synapses],
            data: ArrayData::I64(post),
        },
        NamedArray {
            name: format!("{name}.synapse_pre"),
            shape: vec![synapses],
            data: ArrayData::I64(pre),
        },
    ];
    if !frame_steps.is_empty() {
        let n = frame_steps.len();
        let mut trace = vec![0.0; lanes * n * synapses];
        for f in 0..n {
            for s in 0..synapses {
                for l in 0..lanes {
                    trace[(l * n + f) * synapses + s] =
                        frames[(f * synapses + s) * lanes + l].to_f64();
                }
            }
        }
        out.push(NamedArray {
            name: format!("{name}.weights_trace"),
            shape: vec![lanes, n, synapses],
            data: ArrayData::F64(trace),
        });
        out.push(NamedArray {
            name: format!("{name}.weights_trace_t"),
            shape: vec![n],
            data: ArrayData::F64(
                frame_steps
                    .iter()
                    .map(|&s| (s + 1) as f64 * dt_ms * 1e-3)
                    .collect(),
            ),
        });
    }
    out
}

/// `w` clipped to `[lo, hi]`.
#[inline]
pub(crate) fn clip<T: Real>(w: T, lo: T, hi: T) -> T {
    let w = w.max(lo);
    if w > hi { hi } else { w }
}

/// The result arrays of every plastic projection of a lowered network.
pub(crate) fn result_arrays<T: Real>(net: &crate::lower::Lowered<T>) -> Vec<NamedArray> {
    let mut out = Vec::new();
    let lanes = net.lanes;
    for projection in &net.spiking.projections {
        let Some(plastic) = &projection.plastic else {
            continue;
        };
        let post = plastic.order.iter().map(|o| o.2 as i64).collect();
        let pre = plastic.order.iter().map(|o| o.3 as i64).collect();
        out.extend(arrays(
            &projection.name,
            lanes,
            plastic.weights(),
            post,
            pre,
            &plastic.frames,
            &plastic.frame_steps,
            net.dt_ms,
        ));
    }
    for rule in &net.plastic_rates {
        let (post, pre) = rule.pairs();
        out.extend(arrays(
            &rule.name,
            lanes,
            rule.weights_f64(),
            post,
            pre,
            &rule.frames,
            &rule.frame_steps,
            net.dt_ms,
        ));
    }
    out
}
