//! Spike-timing rules on spiking projections: `stdp`, `flat_stdp`, `rstdp`, `flat_rstdp`,
//! `vogels_istdp`.
//!
//! # One step `m`
//!
//! After the neurons of step `m` have spiked (spikes `s_pre`, `s_post`, counted per neuron and
//! lane), every plastic projection
//!
//! 1. decays its traces: `x_pre ← x_pre e^{−dt/τ₊}`, `x_post ← x_post e^{−dt/τ₋}` (`vogels_istdp`:
//!    τ for both; flat rules: the traces are the spike counts of the last `W` steps,
//!    `W = window/dt`, steps `m − W … m − 1`), and the eligibilities `c ← c e^{−dt/τ_c}`;
//! 2. for every presynaptic spike, changes each synapse `j → i` of the spiking neuron by
//!    `−a₋ f₋(w) x_post,i` (`vogels_istdp`: `+(x_post,i − α)`, `α = 2ρ₀τ`), and for every
//!    postsynaptic spike each synapse `j → i` onto it by `+a₊ f₊(w) x_pre,j` (`vogels_istdp`:
//!    `+x_pre,j`); the traces used do not yet hold the spikes of step `m`, so a pair of spikes in
//!    the same step changes nothing and a pair with lag `Δt = t_post − t_pre = k dt` changes the
//!    weight by `a₊ e^{−Δt/τ₊}` (`Δt > 0`) or `−a₋ e^{Δt/τ₋}` (`Δt < 0`) — the rule's window,
//!    exactly; for the flat rules `a₊` for `0 < Δt ≤ W dt`, `−a₋` for `−W dt ≤ Δt < 0`;
//! 3. plain rules: `w ← clip(w + η Δ, w_min, w_max)`. Reward-modulated rules: `c ← c + Δ`, the
//!    dopamine `d ← d e^{−dt/τ_d} + dt r(t)`, then `w ← clip(w + η dt d c, w_min, w_max)`;
//! 4. adds the step's spikes to the traces (one per spike).
//!
//! Weight dependence: additive `f₊ = f₋ = 1`; multiplicative `f₊ = w_max − w`, `f₋ = w − w_min`;
//! soft bound `f₊ = f₋ = γ ((w_max − w)(w − w_min))^β`. With `weight_decay` λ every weight first
//! becomes `clip(w (1 − λ dt))` in step 1. `scheme: cnsproject` replaces steps 1–4 by the update
//! of `super::cnsproject`.
//!
//! Spike times are the emission steps of the neurons (the rule sees no transmission delay). The
//! weight a spike delivers is the one after the updates of its own step. Each lane has its own
//! weights, traces and eligibilities; blocks of target neurons update in parallel, each writing
//! only its own synapses in a fixed order, so results are bitwise identical for any thread count.

use crate::real::Real;
use crate::spiking::{SpikingNetwork, SpikingProjection, TARGET_BLOCK};
use neuroxide_model::{
    NetworkSpec, PlasticityRule, PlasticityScheme, PlasticitySpec, SpecError, SpecErrors,
    WeightDependence,
};
use rayon::prelude::*;
use std::collections::VecDeque;

/// The plastic weights of one target block: per synapse (in the block's CSR order) and lane.
#[derive(Debug, Clone)]
pub struct PlasticBlock<T: Real> {
    /// `[synapse][lane]`: the magnitude of each weight.
    pub weights: Vec<T>,
    /// `[synapse][lane]` eligibilities (reward-modulated rules; else empty).
    pub eligibility: Vec<T>,
    /// Presynaptic neuron of each synapse.
    pub pre_of: Vec<u32>,
    /// The block's CSR over presynaptic neurons and the local target of each synapse (copies of
    /// the projection's).
    pub offsets: Vec<u32>,
    pub targets: Vec<u16>,
    /// Synapses onto local target `t`: `post_synapses[post_offsets[t]..post_offsets[t + 1]]`.
    pub post_offsets: Vec<u32>,
    pub post_synapses: Vec<u32>,
}

/// A rule with its parameters and state on one spiking projection.
#[derive(Debug)]
pub struct SpikingPlasticity<T: Real> {
    pub rule: PlasticityRule,
    pub eta: T,
    pub a_plus: T,
    pub a_minus: T,
    pub multiplicative: bool,
    /// cnsproject's soft bound `γ ((w_max − w)(w − w_min))^β` (`weight_dependence: soft_bound`).
    pub soft_bound: Option<(T, f64)>,
    /// `weight_decay` per step, `λ dt`.
    pub decay_w: T,
    /// `scheme: cnsproject` (see `super::cnsproject`).
    pub cnsproject: bool,
    /// `scheme: cnsproject`: this step's spikes as 0/1 flags `[neuron][lane]` (zero between
    /// steps).
    pub(crate) flags_pre: Vec<T>,
    pub(crate) flags_post: Vec<T>,
    pub w_min: T,
    pub w_max: T,
    /// Vogels' `α = 2 ρ₀ τ`.
    pub alpha: T,
    pub decay_pre: T,
    pub decay_post: T,
    /// Flat rules: window in steps (0: exponential traces).
    pub window: usize,
    pub decay_c: T,
    pub decay_d: T,
    pub dt: T,
    /// Reward rate per step `[first, last)` (steps from the start of the run), summed.
    pub reward: Vec<(u64, u64, T)>,
    /// Dopamine per lane.
    pub dopamine: Vec<T>,
    /// `+1`, or `−1` for inhibitory current and delta synapses (the delivered weight is
    /// `sign · w`).
    pub sign: T,
    pub lanes: usize,
    /// Traces (or window counts) `[neuron][lane]`.
    pub x_pre: Vec<T>,
    pub x_post: Vec<T>,
    /// Flat rules: the spikes of the last `window` steps, `[lane]` lists per step.
    pub(crate) history_pre: VecDeque<Vec<Vec<u32>>>,
    pub(crate) history_post: VecDeque<Vec<Vec<u32>>>,
    pub blocks: Vec<PlasticBlock<T>>,
    /// The initial weights (for a reset).
    initial: Vec<Vec<T>>,
    /// Synapses in (post, pre) order: (block, synapse in the block, post, pre).
    pub order: Vec<(u32, u32, u32, u32)>,
    /// Record the weights every this many recorded steps (0: never).
    pub record_every: usize,
    /// Recorded frames `[frame][synapse (order)][lane]` and their recorded steps.
    pub frames: Vec<T>,
    pub frame_steps: Vec<usize>,
}

impl<T: Real> SpikingPlasticity<T> {
    /// Build the rule's state for `projection` (whose blocks and per-lane scales are final).
    /// `record_steps` sizes nothing; `dt` in ms; `transient` in steps (reward times are
    /// relative to its end).
    pub fn new(
        spec: &PlasticitySpec,
        projection: &SpikingProjection<T>,
        n_pre: usize,
        n_post: usize,
        lanes: usize,
        dt: f64,
        transient: u64,
        sign: f64,
    ) -> Self {
        let rule = spec.rule;
        let vogels = rule == PlasticityRule::VogelsIstdp;
        let (tau_pre, tau_post) = if vogels {
            let tau = spec.tau.map_or(250.0, |t| t.ms());
            (tau, tau)
        } else {
            (
                spec.tau_plus.map_or(20.0, |t| t.ms()),
                spec.tau_minus.map_or(20.0, |t| t.ms()),
            )
        };
        let tau = spec.tau.map_or(250.0, |t| t.ms());
        let rho0 = spec.target_rate.map_or(5.0, |r| r.value()) * 1e-3; // per ms
        let window = if rule.is_flat() {
            (spec.window.map_or(50.0, |w| w.ms()) / dt).round() as usize
        } else {
            0
        };
        let reward = spec.reward.as_ref();
        let tau_d = reward.and_then(|r| r.tau_d).map_or(10.0, |t| t.ms());
        let steps = |t: f64| ((t / dt).round().max(0.0) as u64) + transient;
        let schedule = reward
            .map(|r| {
                r.schedule
                    .iter()
                    .map(|s| {
                        (
                            steps(s.start.ms()),
                            steps(s.stop.ms()),
                            T::from_f64(s.value),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let rewarded = rule.is_rewarded();
        let cnsproject = spec.scheme == Some(PlasticityScheme::Cnsproject);
        // cnsproject integrates the eligibility and dopamine by forward Euler.
        let decay = |tau: f64| {
            if cnsproject {
                1.0 - dt / tau
            } else {
                (-dt / tau).exp()
            }
        };
        let mut blocks = Vec::with_capacity(projection.blocks.len());
        let mut order = Vec::new();
        for (b, block) in projection.blocks.iter().enumerate() {
            let total = block.targets.len();
            let rows = TARGET_BLOCK.min(n_post - b * TARGET_BLOCK);
            let mut weights = Vec::with_capacity(total * lanes);
            let mut pre_of = vec![0u32; total];
            for j in 0..n_pre {
                for s in block.offsets[j] as usize..block.offsets[j + 1] as usize {
                    pre_of[s] = j as u32;
                }
            }
            for s in 0..total {
                let w = block.weights.get(s).map_or(1.0, |w| w.to_f64());
                for l in 0..lanes {
                    weights.push(T::from_f64((w * projection.scale[l].to_f64()).abs()));
                }
            }
            let mut post_offsets = vec![0u32; rows + 1];
            for &t in &block.targets {
                post_offsets[t as usize + 1] += 1;
            }
            for t in 0..rows {
                post_offsets[t + 1] += post_offsets[t];
            }
            let mut fill = post_offsets.clone();
            let mut post_synapses = vec![0u32; total];
            // Synapses in ascending synapse (hence presynaptic) order per target.
            for (s, &t) in block.targets.iter().enumerate() {
                post_synapses[fill[t as usize] as usize] = s as u32;
                fill[t as usize] += 1;
            }
            for t in 0..rows {
                for &s in &post_synapses[post_offsets[t] as usize..post_offsets[t + 1] as usize] {
                    order.push((
                        b as u32,
                        s,
                        (b * TARGET_BLOCK + t) as u32,
                        pre_of[s as usize],
                    ));
                }
            }
            blocks.push(PlasticBlock {
                eligibility: if rewarded {
                    vec![T::ZERO; total * lanes]
                } else {
                    Vec::new()
                },
                weights,
                pre_of,
                offsets: block.offsets.clone(),
                targets: block.targets.clone(),
                post_offsets,
                post_synapses,
            });
        }
        let initial = blocks.iter().map(|b| b.weights.clone()).collect();
        SpikingPlasticity {
            rule,
            eta: T::from_f64(spec.eta),
            a_plus: T::from_f64(spec.a_plus.unwrap_or(0.0)),
            a_minus: T::from_f64(spec.a_minus.unwrap_or(0.0)),
            multiplicative: spec.weight_dependence == Some(WeightDependence::Multiplicative),
            soft_bound: (spec.weight_dependence == Some(WeightDependence::SoftBound)).then(|| {
                (
                    T::from_f64(spec.gamma.unwrap_or(1.0)),
                    spec.beta.unwrap_or(1.0),
                )
            }),
            decay_w: T::from_f64(spec.weight_decay.map_or(0.0, |r| r.value() * 1e-3) * dt),
            cnsproject,
            flags_pre: if cnsproject {
                vec![T::ZERO; n_pre * lanes]
            } else {
                Vec::new()
            },
            flags_post: if cnsproject {
                vec![T::ZERO; n_post * lanes]
            } else {
                Vec::new()
            },
            w_min: T::from_f64(spec.w_min.unwrap_or(0.0)),
            w_max: T::from_f64(spec.w_max.unwrap_or(f64::INFINITY)),
            alpha: T::from_f64(2.0 * rho0 * tau),
            decay_pre: T::from_f64((-dt / tau_pre).exp()),
            decay_post: T::from_f64((-dt / tau_post).exp()),
            window,
            decay_c: T::from_f64(decay(spec.tau_c.map_or(1000.0, |t| t.ms()))),
            decay_d: T::from_f64(decay(tau_d)),
            dt: T::from_f64(dt),
            reward: schedule,
            dopamine: vec![T::ZERO; lanes],
            sign: T::from_f64(sign),
            lanes,
            x_pre: vec![T::ZERO; n_pre * lanes],
            x_post: vec![T::ZERO; n_post * lanes],
            history_pre: VecDeque::new(),
            history_post: VecDeque::new(),
            blocks,
            initial,
            order,
            record_every: 0,
            frames: Vec::new(),
            frame_steps: Vec::new(),
        }
    }

    /// The flat rules' presynaptic spike history (oldest first).
    pub(crate) fn history(&self) -> &std::collections::VecDeque<Vec<Vec<u32>>> {
        &self.history_pre
    }

    pub(crate) fn history_post(&self) -> &std::collections::VecDeque<Vec<Vec<u32>>> {
        &self.history_post
    }

    pub(crate) fn set_history(&mut self, post: bool, history: Vec<Vec<Vec<u32>>>) {
        let target = if post {
            &mut self.history_post
        } else {
            &mut self.history_pre
        };
        *target = history.into();
    }

    /// Back to the initial weights, with empty traces.
    pub fn reset(&mut self) {
        for (block, initial) in self.blocks.iter_mut().zip(&self.initial) {
            block.weights.copy_from_slice(initial);
            block.eligibility.iter_mut().for_each(|c| *c = T::ZERO);
        }
        self.x_pre.iter_mut().for_each(|x| *x = T::ZERO);
        self.x_post.iter_mut().for_each(|x| *x = T::ZERO);
        self.dopamine.iter_mut().for_each(|d| *d = T::ZERO);
        self.history_pre.clear();
        self.history_post.clear();
        self.frames.clear();
        self.frame_steps.clear();
    }

    /// The dopamine's step: `d ← d · decay_d + dt r(step)`.
    pub(crate) fn reward_step(&mut self, step: u64) {
        let r = self
            .reward
            .iter()
            .filter(|(a, b, _)| *a <= step && step < *b)
            .fold(T::ZERO, |acc, (_, _, v)| acc + *v);
        for d in &mut self.dopamine {
            *d = *d * self.decay_d + self.dt * r;
        }
    }

    /// Apply the rule for the spikes of `step` (`pre`, `post`: per lane, ascending neurons).
    pub fn update(&mut self, pre: &[Vec<u32>], post: &[Vec<u32>], step: u64) {
        let lanes = self.lanes;
        // 1. Decay.
        if self.window == 0 {
            let (dp, dq) = (self.decay_pre, self.decay_post);
            self.x_pre.iter_mut().for_each(|x| *x *= dp);
            self.x_post.iter_mut().for_each(|x| *x *= dq);
        }
        let rewarded = self.rule.is_rewarded();
        if rewarded {
            self.reward_step(step);
        }
        let any_spike = pre.iter().chain(post).any(|l| !l.is_empty());
        let mut blocks = std::mem::take(&mut self.blocks);
        let rule = &*self;
        let (x_pre, x_post) = (&rule.x_pre, &rule.x_post);
        let work = |(b, block): (usize, &mut PlasticBlock<T>)| {
            let first = b * TARGET_BLOCK;
            let rows = block.post_offsets.len() - 1;
            if rule.decay_w > T::ZERO {
                let keep = T::ONE - rule.decay_w;
                block
                    .weights
                    .iter_mut()
                    .for_each(|w| *w = rule.clip(*w * keep));
            }
            if rewarded {
                let decay = rule.decay_c;
                block.eligibility.iter_mut().for_each(|c| *c *= decay);
            }
            if any_spike {
                for l in 0..lanes {
                    // Presynaptic spikes: depression (Vogels: the rate-target term).
                    for &j in &pre[l] {
                        let j = j as usize;
                        let range = block.offsets[j] as usize..block.offsets[j + 1] as usize;
                        for s in range {
                            let t = first + block.targets[s] as usize;
                            let delta = rule
                                .pre_change(block.weights[s * lanes + l], x_post[t * lanes + l]);
                            rule.apply(block, s * lanes + l, delta, rewarded);
                        }
                    }
                    // Postsynaptic spikes inside this block: potentiation.
                    let lo = post[l].partition_point(|&i| (i as usize) < first);
                    for &i in &post[l][lo..] {
                        let t = i as usize - first;
                        if t >= rows {
                            break;
                        }
                        for k in block.post_offsets[t] as usize..block.post_offsets[t + 1] as usize
                        {
                            let s = block.post_synapses[k] as usize;
                            let j = block.pre_of[s] as usize;
                            let delta = rule
                                .post_change(block.weights[s * lanes + l], x_pre[j * lanes + l]);
                            rule.apply(block, s * lanes + l, delta, rewarded);
                        }
                    }
                }
            }
            if rewarded {
                for (k, (w, c)) in block.weights.iter_mut().zip(&block.eligibility).enumerate() {
                    let d = rule.dopamine[k % lanes];
                    *w = rule.clip(*w + rule.eta * rule.dt * d * *c);
                }
            }
        };
        if blocks.len() > 1 {
            blocks.par_iter_mut().enumerate().for_each(work);
        } else {
            blocks.iter_mut().enumerate().for_each(work);
        }
        self.blocks = blocks;
        // 4. The step's spikes enter the traces.
        for (x, spikes) in [(&mut self.x_pre, pre), (&mut self.x_post, post)] {
            for (l, list) in spikes.iter().enumerate() {
                for &n in list {
                    x[n as usize * lanes + l] += T::ONE;
                }
            }
        }
        if self.window > 0 {
            let window = self.window;
            for (x, history, spikes) in [
                (&mut self.x_pre, &mut self.history_pre, pre),
                (&mut self.x_post, &mut self.history_post, post),
            ] {
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
    }

    #[inline]
    pub(crate) fn clip(&self, w: T) -> T {
        super::clip(w, self.w_min, self.w_max)
    }

    /// The weight dependences `(f₊, f₋)` at `w`.
    #[inline]
    pub(crate) fn dependence(&self, w: T) -> (T, T) {
        if let Some((gamma, beta)) = self.soft_bound {
            let p = ((self.w_max - w) * (w - self.w_min)).max(T::ZERO);
            let f = if beta == 1.0 {
                gamma * p
            } else {
                gamma * T::from_f64(p.to_f64().powf(beta))
            };
            (f, f)
        } else if self.multiplicative {
            (self.w_max - w, w - self.w_min)
        } else {
            (T::ONE, T::ONE)
        }
    }

    /// The change at a presynaptic spike, given the weight and the postsynaptic trace.
    #[inline]
    fn pre_change(&self, w: T, x_post: T) -> T {
        if self.rule == PlasticityRule::VogelsIstdp {
            return x_post - self.alpha;
        }
        let f = self.dependence(w).1;
        T::ZERO - self.a_minus * f * x_post
    }

    /// The change at a postsynaptic spike, given the weight and the presynaptic trace.
    #[inline]
    fn post_change(&self, w: T, x_pre: T) -> T {
        if self.rule == PlasticityRule::VogelsIstdp {
            return x_pre;
        }
        let f = self.dependence(w).0;
        self.a_plus * f * x_pre
    }

    #[inline]
    fn apply(&self, block: &mut PlasticBlock<T>, k: usize, delta: T, rewarded: bool) {
        if rewarded {
            block.eligibility[k] += delta;
        } else {
            block.weights[k] = self.clip(block.weights[k] + self.eta * delta);
        }
    }

    /// The weights `[synapse (order)][lane]`, as f64.
    pub fn weights(&self) -> Vec<f64> {
        let lanes = self.lanes;
        let mut out = Vec::with_capacity(self.order.len() * lanes);
        for &(b, s, _, _) in &self.order {
            let w = &self.blocks[b as usize].weights[s as usize * lanes..(s as usize + 1) * lanes];
            out.extend(w.iter().map(|x| x.to_f64()));
        }
        out
    }

    /// Record a frame at recorded step `step` when due.
    pub fn observe(&mut self, step: usize) {
        if self.record_every > 0 && (step + 1).is_multiple_of(self.record_every) {
            let w = self.weights();
            self.frames.extend(w.into_iter().map(T::from_f64));
            self.frame_steps.push(step);
        }
    }
}

/// Deliver one spike of presynaptic neuron `j` in lane `l` through a plastic projection's
/// synapses `range` of block `index`: each target's ring slot gets `sign · w` (the weight of this
/// lane) after its delay (`delays` empty: the homogeneous `delay`).
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn deliver<T: Real>(
    plastic: &SpikingPlasticity<T>,
    index: usize,
    range: std::ops::Range<usize>,
    targets: &[u16],
    delays: &[u16],
    delay: usize,
    ring: &mut [T],
    base: usize,
    slots: usize,
    slot_len: usize,
    lane: usize,
) {
    let lanes = plastic.lanes;
    let weights = &plastic.blocks[index].weights;
    for (e, &t) in targets.iter().enumerate() {
        let s = range.start + e;
        let d = if delays.is_empty() {
            delay
        } else {
            delays[s] as usize
        };
        let mut slot = base + d;
        if slot >= slots {
            slot -= slots;
        }
        ring[slot * slot_len + t as usize * lanes + lane] +=
            plastic.sign * weights[s * lanes + lane];
    }
}

/// After the neurons of `step`: add the encoders' spikes to their populations (with their
/// traces), then let every plastic projection learn from the step's spikes.
pub(crate) fn after_step<T: Real>(net: &mut SpikingNetwork<T>, step: u64) {
    let lanes = net.lanes;
    for encoder in &net.encoders {
        let p = encoder.population;
        for l in 0..lanes {
            let list = &mut net.spikes[p][l];
            let before = list.len();
            encoder.spikes(step, l, list);
            let added = list.len() - before;
            if added == 0 {
                continue;
            }
            net.emitted[p] += added as u64;
            let population = &mut net.populations[p];
            if let Some(tp) = &population.params.trace {
                for &n in &list[before..] {
                    let x = &mut population.state.trace[n as usize * lanes + l];
                    *x = if tp.additive { *x + tp.scale } else { tp.scale };
                }
            }
            list.sort_unstable();
        }
    }
    for projection in &mut net.projections {
        if let Some(plastic) = &mut projection.plastic {
            let (pre, post) = (&net.spikes[projection.pre], &net.spikes[projection.post]);
            if plastic.cnsproject {
                let trace = |p: usize| net.populations[p].state.trace.as_slice();
                plastic.update_cnsproject(
                    pre,
                    post,
                    trace(projection.pre),
                    trace(projection.post),
                    step,
                );
            } else {
                plastic.update(pre, post, step);
            }
        }
    }
}

/// Give the (sign-split) parts of a spiking projection their plasticity. A plastic projection
/// must have weights of one sign (one part).
pub(crate) fn attach<T: Real>(
    spec: &NetworkSpec,
    name: &str,
    plasticity: &PlasticitySpec,
    parts: &mut [(SpikingProjection<T>, u32)],
    lanes: usize,
    conductance: bool,
) -> Result<(), SpecErrors> {
    let at = format!("projections.{name}.plasticity");
    if parts.len() > 1 {
        return Err(SpecErrors::one(SpecError::new(
            at,
            "a plastic spiking projection needs weights of one sign (this one has excitatory and \
             inhibitory synapses; split it into two projections)",
        )));
    }
    let Some((projection, _)) = parts.first_mut() else {
        return Ok(()); // no synapses: nothing learns
    };
    let proj = &spec.projections[name];
    let n_pre = spec.populations[&proj.pre].size;
    let n_post = spec.populations[&proj.post].size;
    let dt = spec.dt.ms();
    let sign = if projection.inhibitory && !conductance {
        -1.0
    } else {
        1.0
    };
    let transient = (spec.transient.ms() / dt).round() as u64;
    let mut plastic = SpikingPlasticity::new(
        plasticity, projection, n_pre, n_post, lanes, dt, transient, sign,
    );
    if let Some(every) = plasticity.record_every {
        plastic.record_every = ((every.ms() / dt).round() as usize).max(1);
    }
    projection.plastic = Some(Box::new(plastic));
    Ok(())
}

/// The encoders of the inputs with `encoder`, onto spiking-population indices `index`.
pub(crate) fn lower_encoders(
    spec: &NetworkSpec,
    index: &[Option<usize>],
) -> Result<Vec<crate::encoders::Encoder>, SpecErrors> {
    let dt = spec.dt.ms();
    let steps = |t: f64| ((t + spec.transient.ms()) / dt).round().max(0.0) as u64;
    let mut out = Vec::new();
    for (name, input) in &spec.inputs {
        let Some(encoder) = &input.encoder else {
            continue;
        };
        let target = spec
            .populations
            .get_index_of(&input.target)
            .expect("validated");
        let population = index[target].expect("validated: encoders drive Poisson sources");
        let first = input.start.map_or(0, |t| steps(t.ms()));
        let last = input.stop.map_or(u64::MAX, |t| steps(t.ms()));
        out.push(crate::encoders::Encoder::new(
            name,
            encoder,
            population,
            spec.populations[target].size,
            first,
            last,
            dt,
            spec.seed,
            spec.lane_offset,
        ));
    }
    Ok(out)
}
