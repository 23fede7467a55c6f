//! `scheme: cnsproject`: the STDP rules as cnsproject's learning rules update, once per step and
//! synapse.
//!
//! After the neurons of step `m` have spiked (their population traces already hold the step's
//! spikes), each synapse `j → i` and lane with `s_pre,j`, `s_post,i` ∈ {0, 1} the step's spikes
//! gets
//!
//! ```text
//! Δ = f₊(w) a₊ x_pre,j s_post,i − f₋(w) a₋ x_post,i s_pre,j − λ dt w
//! ```
//!
//! with `x` the pre- and postsynaptic populations' `trace` (flat rules: the spike counts of steps
//! `m − W + 1 … m`), `f±` the weight dependence at the weight before the step and `λ` the
//! `weight_decay`. Plain rules: `w ← clip(w + η Δ)`. Reward-modulated rules:
//! `c ← c (1 − dt/τ_c) + [s_pre ∨ s_post] Δ`, `d ← d (1 − dt/τ_d) + dt r(t)`,
//! `w ← clip(w + η dt d c)`. cnsproject's `STDP`, `FlatSTDP` and `RSTDP` are these with
//! `a± = lr± dt` (a pair in the same step counts both terms, as there).
//!
//! Blocks of target neurons update in parallel, each writing only its own synapses, so results
//! are bitwise identical for any thread count.

use super::spiking::{PlasticBlock, SpikingPlasticity};
use crate::real::Real;
use crate::spiking::TARGET_BLOCK;
use rayon::prelude::*;

impl<T: Real> SpikingPlasticity<T> {
    /// One step of the `cnsproject` scheme for the spikes of `step` (`pre`, `post`: per lane,
    /// ascending neurons); `trace_pre`, `trace_post`: the populations' traces `[neuron][lane]`
    /// (unused by the flat rules).
    pub(crate) fn update_cnsproject(
        &mut self,
        pre: &[Vec<u32>],
        post: &[Vec<u32>],
        trace_pre: &[T],
        trace_post: &[T],
        step: u64,
    ) {
        let lanes = self.lanes;
        let flat = self.window > 0;
        if flat {
            // Counts of the last `window` steps, this one included.
            let window = self.window;
            for (x, history, spikes) in [
                (&mut self.x_pre, &mut self.history_pre, pre),
                (&mut self.x_post, &mut self.history_post, post),
            ] {
                for (l, list) in spikes.iter().enumerate() {
                    for &n in list {
                        x[n as usize * lanes + l] += T::ONE;
                    }
                }
                history.push_back(spikes.to_vec());
                if history.len() > window {
                    let old = history.pop_front().expect("longer than the window");
                    for (l, list) in old.iter().enumerate() {
                        for &n in list {
                            x[n as usize * lanes + l] -= T::ONE;
                        }
                    }
                }
            }
        }
        let rewarded = self.rule.is_rewarded();
        if rewarded {
            self.reward_step(step);
        }
        set_flags(&mut self.flags_pre, pre, lanes, T::ONE);
        set_flags(&mut self.flags_post, post, lanes, T::ONE);
        let any_spike = pre.iter().chain(post).any(|l| !l.is_empty());
        let mut blocks = std::mem::take(&mut self.blocks);
        let rule = &*self;
        let (x_pre, x_post) = if flat {
            (rule.x_pre.as_slice(), rule.x_post.as_slice())
        } else {
            (trace_pre, trace_post)
        };
        let (s_pre, s_post) = (&rule.flags_pre, &rule.flags_post);
        let work = |(b, block): (usize, &mut PlasticBlock<T>)| {
            // Without spikes, decay, eligibility or dopamine nothing changes.
            if !any_spike && rule.decay_w == T::ZERO && !rewarded {
                return;
            }
            let first = b * TARGET_BLOCK;
            let n_pre = block.offsets.len() - 1;
            for j in 0..n_pre {
                let range = block.offsets[j] as usize..block.offsets[j + 1] as usize;
                for s in range {
                    let i = first + block.targets[s] as usize;
                    for l in 0..lanes {
                        let k = s * lanes + l;
                        let (sp, sq) = (s_pre[j * lanes + l], s_post[i * lanes + l]);
                        let w = block.weights[k];
                        let spiked = sp > T::ZERO || sq > T::ZERO;
                        let delta = if spiked || rule.decay_w > T::ZERO {
                            let (fp, fm) = rule.dependence(w);
                            fp * rule.a_plus * x_pre[j * lanes + l] * sq
                                - fm * rule.a_minus * x_post[i * lanes + l] * sp
                                - rule.decay_w * w
                        } else {
                            T::ZERO
                        };
                        if rewarded {
                            let c = &mut block.eligibility[k];
                            *c *= rule.decay_c;
                            if spiked {
                                *c += delta;
                            }
                            let d = rule.dopamine[l];
                            block.weights[k] = rule.clip(w + rule.eta * rule.dt * d * *c);
                        } else {
                            block.weights[k] = rule.clip(w + rule.eta * delta);
                        }
                    }
                }
            }
        };
        if blocks.len() > 1 {
            blocks.par_iter_mut().enumerate().for_each(work);
        } else {
            blocks.iter_mut().enumerate().for_each(work);
        }
        self.blocks = blocks;
        set_flags(&mut self.flags_pre, pre, lanes, T::ZERO);
        set_flags(&mut self.flags_post, post, lanes, T::ZERO);
    }
}

/// Set the flags of the listed spikes to `value`.
fn set_flags<T: Real>(flags: &mut [T], spikes: &[Vec<u32>], lanes: usize, value: T) {
    for (l, list) in spikes.iter().enumerate() {
        for &n in list {
            flags[n as usize * lanes + l] = value;
        }
    }
}
