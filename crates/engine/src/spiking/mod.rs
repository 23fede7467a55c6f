//! Spiking populations in networks: synapses, delays, event-driven propagation, Poisson drive.
//!
//! # One step `m`
//!
//! Every spiking population is cut into fixed blocks of [`TARGET_BLOCK`] neurons (independent of
//! the thread count); all blocks of all populations run in one parallel pass. A block
//!
//! 1. **delivers** the spikes emitted at step `m − 1` by the presynaptic populations of its
//!    incoming projections: for each spike, the block's own slice of the projection's pre→post
//!    structure lists the targets inside the block, and each target's *arrival ring* gets the
//!    weight in slot `(m − 1 + d) mod S` (`d` ≥ 1 the delay in steps, homogeneous per projection
//!    or per synapse; `S` = longest delay + 1). A block writes only its own targets, in a fixed
//!    order (projection, lane, spike in ascending neuron order, synapse), so sums are bitwise
//!    identical for any thread count;
//! 2. **updates** each neuron and lane: the arrivals of slot `m mod S` (plus Poisson input drawn
//!    for this neuron, lane and step) enter the synapses, the membrane advances one step with the
//!    synaptic state and the external currents of the step ([`crate::neurons`]), then the
//!    synapses decay. A spike at step `m` therefore acts on its targets at step `m + d`. The
//!    update runs in `cells.rs`: an AVX2 kernel for LIF models in `f32` (8 cells per
//!    instruction, bitwise equal to the reference loop) and the reference loop otherwise. Currents
//!    from rate populations ([`crate::mixed`]) are added to the external currents of the step.
//!
//! Spikes of step `m` are collected per lane in ascending neuron order and replace those of step
//! `m − 1` once all blocks are done.
//!
//! # Synapses
//!
//! Excitatory and inhibitory synapses are told apart by the sign of the weight (a projection whose
//! weights have both signs is split in two). Per neuron and lane (`g_exc`, `g_inh`):
//!
//! | kind | arrival `a` at step `m` | drive of the step | after the step |
//! |---|---|---|---|
//! | `delta` (`lif_psc_delta`) | — | voltage jump `a_exc + a_inh` (mV; dropped while refractory) | — |
//! | `current_exp` | `I += a` (pA, signed) | current `I_exc + I_inh` | `I ← I e^{−dt/τ}` |
//! | `current_alpha` | `x += a e/τ` | current `I_exc + I_inh` | `I ← e^{−dt/τ}(I + dt x)`, `x ← x e^{−dt/τ}` (exact; a single spike gives `a (t/τ) e^{1−t/τ}`, peak `a` at `t = τ`) |
//! | `conductance_exp` | `g += abs(a)` (nS) | conductances `g_exc`, `g_inh` with `e_exc`, `e_inh` | `g ← g e^{−dt/τ}` |
//! | `filtered` (NeuroSimTools) | `Y += a/τ` | current `Y_exc + Y_inh` | `Y ← (1 − dt/τ) Y` (forward Euler of `τ dY/dt = −Y + S`, `S` the weighted spikes over dt) |
//!
//! # Sources and traces
//!
//! A `poisson` population has no membrane: each of its neurons emits, per lane and step, a
//! Poisson number of spikes with mean `rate · dt` (counters as for the Poisson drive, on the
//! population's own key), all delivered through its projections like any other spikes, so that
//! the targets of one source share its train (NEST's parrot neurons). A population with a
//! `trace` keeps cnsproject's spike trace per neuron and lane, updated after the membrane:
//! `x ← x e^{−dt/τ_s}`, then at a spike `x ← x + scale` (additive) or `x ← scale`.
//!
//! # State layout
//!
//! States are `[neuron][lane]` like the rate engine's; arrival rings are `[block][slot][neuron
//! of the block][lane]`, so that one block owns one contiguous piece of every buffer and one
//! spike's targets land in one slot's contiguous row. Synapses are stored per projection
//! and target block as a CSR over presynaptic neurons with `u16` local target indices (blocks
//! hold at most 65,536 neurons), without weights when all are equal and without delays when the
//! projection's delay is homogeneous: Brunel's network A (15.6 M synapses) holds 31 MB of indices.

mod build;
mod cells;
#[cfg(target_arch = "x86_64")]
mod cells_avx2;
pub mod poisson;

pub(crate) use build::lower_spiking;

use crate::input::Input;
use crate::neurons::Neuron;
use crate::real::Real;
use crate::rng::{PHILOX_BATCH, Philox4x32};
use neuroxide_model::{SpikingInitial, SynapseKind, Variable};
use poisson::PoissonMean;
use rayon::prelude::*;

/// Neurons per parallel block: fixed, so the split does not depend on the thread count (even, so
/// that the neuron pairs sharing a Poisson draw never straddle two blocks).
pub const TARGET_BLOCK: usize = 2048;

/// All spiking populations of a network with their projections, inputs and spike monitors.
#[derive(Debug, Default)]
pub struct SpikingNetwork<T: Real> {
    pub lanes: usize,
    /// Index of lane 0 in the random streams (the spec's `lane_offset`).
    pub lane_offset: u64,
    pub dt_ms: f64,
    pub seed: u64,
    pub populations: Vec<SpikingPopulation<T>>,
    pub projections: Vec<SpikingProjection<T>>,
    pub poisson: Vec<PoissonDrive<T>>,
    /// Spikes of the last step: `[population][lane]`, ascending neuron indices.
    pub spikes: Vec<Vec<Vec<u32>>>,
    pub spike_monitors: Vec<SpikeMonitor>,
    /// NeuroSimTools-style summaries: spike counts per neuron over a recorded range.
    pub rate_summaries: Vec<RateSummary>,
    /// Spikes emitted per population since the last reset, all lanes together.
    pub emitted: Vec<u64>,
    /// Synaptic events since the last reset: for every spike delivered to a projection, the
    /// number of synapses it reaches (its out-degree in that projection), all lanes together.
    pub events: u64,
    /// cnsproject's encoders: spikes added to Poisson-source populations.
    pub encoders: Vec<crate::encoders::Encoder>,
    /// Short-term plasticity of projections ([`crate::stp`]): each spike's efficacy.
    pub stp: Vec<crate::stp::SpikeStp<T>>,
}

/// Fixed parameters of a spiking population.
#[derive(Debug)]
pub struct PopulationParams<T: Real> {
    pub name: String,
    pub size: usize,
    pub synapse: SynapseKind,
    /// The neuron model of each lane (parameters may be swept).
    pub neurons: Vec<Neuron<T>>,
    /// `e^{−dt/τ}` of the excitatory and inhibitory synapses, per lane.
    pub decay_exc: Vec<T>,
    pub decay_inh: Vec<T>,
    /// Alpha synapses: `e/τ` per lane.
    pub kick_exc: Vec<T>,
    pub kick_inh: Vec<T>,
    pub dt: T,
    /// Slots of the arrival rings (longest incoming delay + 1).
    pub slots: usize,
    /// Current inputs (indices into the network's inputs).
    pub inputs: Vec<usize>,
    /// Poisson drives (indices into [`SpikingNetwork::poisson`]).
    pub poisson: Vec<usize>,
    /// Incoming projections (indices into [`SpikingNetwork::projections`]).
    pub incoming: Vec<usize>,
    /// Initial settings per lane: v, w, g_exc, g_inh.
    pub initial: Vec<[Option<SpikingInitial>; 4]>,
    /// A population of Poisson spike sources (then `neurons` is empty and nothing is integrated).
    pub source: Option<PoissonSource>,
    /// The spike trace, if the population keeps one.
    pub trace: Option<TraceParams<T>>,
}

/// Poisson spike sources: neuron `n` of lane `l` emits a Poisson number of spikes per step with
/// mean `rate · dt` ([`poisson::count_pair`] on the population's own key), each delivered to all
/// its targets (NEST's parrot neurons).
#[derive(Debug)]
pub struct PoissonSource {
    pub key: Philox4x32,
    /// Per lane.
    pub mean: Vec<PoissonMean>,
}

/// cnsproject's spike trace: `x ← x · decay`, then `x ← x + scale` (additive) or `x ← scale`
/// (reset) at a spike.
#[derive(Debug, Clone)]
pub struct TraceParams<T: Real> {
    /// `e^{−dt/τ_s}`.
    pub decay: T,
    pub scale: T,
    pub additive: bool,
}

/// State of a spiking population, `[neuron][lane]` (rings `[block][slot][neuron][lane]`).
#[derive(Debug)]
pub struct PopulationState<T: Real> {
    pub v: Vec<T>,
    pub w: Vec<T>,
    pub refractory: Vec<u32>,
    pub g_exc: Vec<T>,
    pub g_inh: Vec<T>,
    /// Alpha synapses: the second state of each synapse.
    pub x_exc: Vec<T>,
    pub x_inh: Vec<T>,
    pub ring_exc: Vec<T>,
    pub ring_inh: Vec<T>,
    /// External current of the step.
    pub external: Vec<T>,
    /// Scratch: spike density (1/dt at spiking neurons) for rate monitors.
    pub density: Vec<T>,
    /// Spike traces (empty without `trace`).
    pub trace: Vec<T>,
    /// Current of the step from rate populations ([`crate::mixed`]; empty without such
    /// couplings).
    pub coupled: Vec<T>,
}

/// A spiking population at run time.
#[derive(Debug)]
pub struct SpikingPopulation<T: Real> {
    pub params: PopulationParams<T>,
    pub state: PopulationState<T>,
}

/// The synapses of one projection (or of its excitatory or inhibitory part) inside one block of
/// target neurons: a CSR over presynaptic neurons.
#[derive(Debug, Default)]
pub struct TargetBlock<T: Real> {
    /// `targets[offsets[j]..offsets[j + 1]]` are the targets of presynaptic neuron `j`.
    pub offsets: Vec<u32>,
    /// Target index within the block.
    pub targets: Vec<u16>,
    /// Per-synapse weights (empty: all 1, the projection's scale alone).
    pub weights: Vec<T>,
    /// Per-synapse delays in steps (empty: the projection's homogeneous delay).
    pub delays: Vec<u16>,
}

/// A projection between spiking populations with one sign.
#[derive(Debug)]
pub struct SpikingProjection<T: Real> {
    pub name: String,
    pub pre: usize,
    pub post: usize,
    pub inhibitory: bool,
    /// Per-lane factor of the synaptic weights (signed for delta and current synapses, a
    /// magnitude for conductances).
    pub scale: Vec<T>,
    /// Homogeneous delay in steps.
    pub delay: u32,
    /// One per target block of the post population.
    pub blocks: Vec<TargetBlock<T>>,
    pub synapses: u64,
    /// Long-term plasticity: per-lane weights that replace `scale` and the block weights.
    pub plastic: Option<Box<crate::plasticity::SpikingPlasticity<T>>>,
}

/// Independent Poisson trains onto every neuron of a population.
#[derive(Debug)]
pub struct PoissonDrive<T: Real> {
    pub name: String,
    pub key: Philox4x32,
    /// Index of lane 0 in the counters (the spec's `lane_offset`).
    pub lane_offset: u32,
    /// Per lane.
    pub mean: Vec<PoissonMean>,
    /// Per lane: the effect of one spike (signed, or a magnitude for conductances).
    pub weight: Vec<T>,
    pub inhibitory: bool,
    pub first_step: u64,
    pub last_step: u64,
}

/// Spike times of one population: rows (lane, step, neuron).
#[derive(Debug, Clone)]
pub struct SpikeMonitor {
    pub population: usize,
    pub name: String,
    /// Recorded steps `[start, stop)` counted from the end of the transient.
    pub start: usize,
    pub stop: usize,
    pub rows: Vec<i64>,
}

/// Spike counts of every neuron and lane over recorded steps `[start, stop)`, for
/// `<population>.mean_rate` (lanes, neurons) in Hz.
#[derive(Debug, Clone)]
pub struct RateSummary {
    pub population: usize,
    pub name: String,
    pub start: usize,
    pub stop: usize,
    pub size: usize,
    /// Also store the population mean `<population>.mean_rate_mean` (lanes,).
    pub mean: bool,
    /// `[lane][neuron]`.
    pub counts: Vec<u64>,
}

impl RateSummary {
    /// Mean rates in Hz, `[lane][neuron]`, over the steps recorded so far within the range
    /// (`recorded` steps taken after the transient).
    pub fn rates(&self, recorded: usize, dt_ms: f64) -> Vec<f64> {
        let steps = recorded.min(self.stop).saturating_sub(self.start);
        let seconds = steps as f64 * dt_ms * 1e-3;
        self.counts
            .iter()
            .map(|&c| if steps == 0 { 0.0 } else { c as f64 / seconds })
            .collect()
    }
}

/// One block's mutable state.
struct Block<'a, T: Real> {
    population: usize,
    index: usize,
    params: &'a PopulationParams<T>,
    v: &'a mut [T],
    w: &'a mut [T],
    refractory: &'a mut [u32],
    g_exc: &'a mut [T],
    g_inh: &'a mut [T],
    x_exc: &'a mut [T],
    x_inh: &'a mut [T],
    ring_exc: &'a mut [T],
    ring_inh: &'a mut [T],
    external: &'a mut [T],
    trace: &'a mut [T],
    coupled: &'a [T],
}

/// What a block returns: spikes per lane, and the first non-finite (neuron, lane).
struct BlockOutcome {
    population: usize,
    spikes: Vec<Vec<u32>>,
    bad: Option<(usize, usize)>,
    /// Synapses reached by the spikes delivered into this block.
    events: u64,
}

impl<T: Real> SpikingNetwork<T> {
    /// Whether there is anything to step.
    pub fn is_empty(&self) -> bool {
        self.populations.is_empty()
    }

    /// Synapses of all spiking projections.
    pub fn synapses(&self) -> u64 {
        self.projections.iter().map(|p| p.synapses).sum()
    }

    /// Bytes the synapse structures hold.
    pub fn synapse_bytes(&self) -> u64 {
        self.projections
            .iter()
            .flat_map(|p| &p.blocks)
            .map(|b| {
                (b.offsets.len() * 4
                    + b.targets.len() * 2
                    + b.weights.len() * std::mem::size_of::<T>()
                    + b.delays.len() * 2) as u64
            })
            .sum()
    }

    /// Index of a population by name.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.populations.iter().position(|p| p.params.name == name)
    }

    /// Advance every spiking population by one step (`step` counted from the start of the run).
    pub fn step(&mut self, inputs: &[Input<T>], step: u64) -> Result<(), String> {
        if self.populations.is_empty() {
            return Ok(());
        }
        let lanes = self.lanes;
        let SpikingNetwork {
            populations,
            projections,
            poisson,
            spikes,
            emitted,
            events,
            stp,
            ..
        } = self;
        let mut blocks: Vec<Block<'_, T>> = Vec::new();
        for (p, population) in populations.iter_mut().enumerate() {
            let params = &population.params;
            let s = &mut population.state;
            let rows = TARGET_BLOCK * lanes;
            let ring = TARGET_BLOCK * params.slots * lanes;
            let pieces =
                s.v.chunks_mut(rows)
                    .zip(s.w.chunks_mut(rows))
                    .zip(s.refractory.chunks_mut(rows))
                    .zip(s.g_exc.chunks_mut(rows))
                    .zip(s.g_inh.chunks_mut(rows))
                    .zip(s.x_exc.chunks_mut(rows))
                    .zip(s.x_inh.chunks_mut(rows))
                    .zip(s.ring_exc.chunks_mut(ring))
                    .zip(s.ring_inh.chunks_mut(ring))
                    .zip(s.external.chunks_mut(rows));
            // Populations without a trace get empty slices.
            let trace_rows = if s.trace.is_empty() { 0 } else { rows };
            let mut traces = s.trace.chunks_mut(trace_rows.max(1));
            let mut coupled = s.coupled.chunks(rows);
            for (
                index,
                (
                    (
                        (((((((v, w), refractory), g_exc), g_inh), x_exc), x_inh), ring_exc),
                        ring_inh,
                    ),
                    external,
                ),
            ) in pieces.enumerate()
            {
                let trace: &mut [T] = if trace_rows == 0 {
                    &mut []
                } else {
                    traces.next().expect("one trace chunk per block")
                };
                let coupled: &[T] = coupled.next().unwrap_or(&[]);
                blocks.push(Block {
                    coupled,
                    population: p,
                    index,
                    params,
                    v,
                    w,
                    refractory,
                    g_exc,
                    g_inh,
                    x_exc,
                    x_inh,
                    ring_exc,
                    ring_inh,
                    external,
                    trace,
                });
            }
        }
        let projections = &*projections;
        let poisson = &*poisson;
        let previous = &*spikes;
        let plastic = &*stp;
        let outcomes: Vec<BlockOutcome> = blocks
            .into_par_iter()
            .map(|block| {
                update_block(
                    block,
                    projections,
                    poisson,
                    previous,
                    plastic,
                    inputs,
                    step,
                    lanes,
                )
            })
            .collect();
        let mut next: Vec<Vec<Vec<u32>>> = populations
            .iter()
            .map(|_| vec![Vec::new(); lanes])
            .collect();
        let mut bad = None;
        emitted.resize(populations.len(), 0);
        for outcome in outcomes {
            *events += outcome.events;
            for (l, list) in outcome.spikes.into_iter().enumerate() {
                emitted[outcome.population] += list.len() as u64;
                next[outcome.population][l].extend(list);
            }
            if bad.is_none()
                && let Some((neuron, lane)) = outcome.bad
            {
                bad = Some((outcome.population, neuron, lane));
            }
        }
        *spikes = next;
        // Encoders add their spikes first, so that short-term plasticity sees them too.
        crate::plasticity::spiking::after_step(self, step);
        for s in self.stp.iter_mut() {
            s.update(&self.spikes[s.pre], step);
        }
        let populations = &self.populations;
        if let Some((p, neuron, lane)) = bad {
            let pop = &populations[p];
            let value = pop.state.v[neuron * lanes + lane];
            return Err(format!(
                "the simulation diverged at step {}: `{}.v` of neuron {neuron} in lane {lane} is {value}; \
                 reduce dt, the weights or the drive (results up to the previous step are kept)",
                step + 1,
                pop.params.name
            ));
        }
        Ok(())
    }

    /// Reset every state to its initial value; errors name the key of a bad initial setting.
    pub fn reset(&mut self, base_dir: Option<&std::path::Path>) -> Result<(), (String, String)> {
        let lanes = self.lanes;
        for population in &mut self.populations {
            build::initial_state(population, lanes, self.lane_offset, self.seed, base_dir)?;
        }
        self.spikes = self
            .populations
            .iter()
            .map(|_| vec![Vec::new(); lanes])
            .collect();
        for monitor in &mut self.spike_monitors {
            monitor.rows.clear();
        }
        for summary in &mut self.rate_summaries {
            summary.counts.iter_mut().for_each(|c| *c = 0);
        }
        self.emitted = vec![0; self.populations.len()];
        self.events = 0;
        for projection in &mut self.projections {
            if let Some(plastic) = &mut projection.plastic {
                plastic.reset();
            }
        }
        self.stp.iter_mut().for_each(crate::stp::SpikeStp::reset);
        Ok(())
    }

    /// Record the spikes of the last step, which is recorded step `step`.
    pub fn observe_spikes(&mut self, step: usize) {
        for projection in &mut self.projections {
            if let Some(plastic) = &mut projection.plastic {
                plastic.observe(step);
            }
        }
        for monitor in &mut self.spike_monitors {
            if step < monitor.start || step >= monitor.stop {
                continue;
            }
            for (l, list) in self.spikes[monitor.population].iter().enumerate() {
                for &n in list {
                    monitor
                        .rows
                        .extend_from_slice(&[l as i64, step as i64, n as i64]);
                }
            }
        }
        for summary in &mut self.rate_summaries {
            if step < summary.start || step >= summary.stop {
                continue;
            }
            for (l, list) in self.spikes[summary.population].iter().enumerate() {
                for &n in list {
                    summary.counts[l * summary.size + n as usize] += 1;
                }
            }
        }
    }

    /// The `[neuron][lane]` values of a recorded variable of population `p` (the spike density
    /// 1/dt of the last step for `rate`).
    pub fn variable(&mut self, p: usize, variable: Variable) -> &[T] {
        let lanes = self.lanes;
        let population = &mut self.populations[p];
        let state = &mut population.state;
        match variable {
            Variable::V => &state.v,
            Variable::W => &state.w,
            Variable::GExc => &state.g_exc,
            Variable::GInh => &state.g_inh,
            Variable::Trace => &state.trace,
            _ => {
                state.density.iter_mut().for_each(|x| *x = T::ZERO);
                let density = T::from_f64(1e3 / self.dt_ms);
                for (l, list) in self.spikes[p].iter().enumerate() {
                    // A Poisson source may emit several spikes in one step.
                    for &n in list {
                        state.density[n as usize * lanes + l] += density;
                    }
                }
                &state.density
            }
        }
    }
}

/// Hint the processor to fetch the target list of presynaptic neuron `j` (a no-op where the
/// architecture has no prefetch instruction); it changes no result.
#[inline(always)]
fn prefetch_targets<T: Real>(synapses: &TargetBlock<T>, j: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let (Some(&start), Some(&end)) = (synapses.offsets.get(j), synapses.offsets.get(j + 1))
        else {
            return;
        };
        let targets = &synapses.targets[start as usize..end as usize];
        // One hint per 64-byte line (32 u16 targets).
        for chunk in targets.chunks(32) {
            // SAFETY: prefetching is a hint with no effect on memory; the pointer is in bounds.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(chunk.as_ptr().cast::<i8>()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (synapses, j);
    }
}

/// Deliver the previous step's spikes into a block's rings, then update its neurons.
#[allow(clippy::too_many_arguments)]
fn update_block<T: Real>(
    block: Block<'_, T>,
    projections: &[SpikingProjection<T>],
    poisson: &[PoissonDrive<T>],
    previous: &[Vec<Vec<u32>>],
    stp: &[crate::stp::SpikeStp<T>],
    inputs: &[Input<T>],
    step: u64,
    lanes: usize,
) -> BlockOutcome {
    let Block {
        population,
        index,
        params,
        v,
        w,
        refractory,
        g_exc,
        g_inh,
        x_exc,
        x_inh,
        ring_exc,
        ring_inh,
        external,
        trace,
        coupled,
    } = block;
    let slots = params.slots;
    let first = index * TARGET_BLOCK;
    let rows = v.len() / lanes;
    // The block's rings are `[slot][neuron][lane]`.
    let slot_len = rows * lanes;

    // 1. Delivery of the spikes of step − 1.
    let mut events = 0u64;
    if step > 0 {
        let base = ((step - 1) % slots as u64) as usize;
        for &q in &params.incoming {
            let projection = &projections[q];
            let synapses = &projection.blocks[index];
            let ring: &mut [T] = if projection.inhibitory {
                &mut *ring_inh
            } else {
                &mut *ring_exc
            };
            let plastic = crate::stp::for_spiking(stp, q);
            for l in 0..lanes {
                let lane_scale = projection.scale[l];
                let sources = &previous[projection.pre][l];
                for (i, &j) in sources.iter().enumerate() {
                    // The targets of the next spike are a cache miss away: ask for them now.
                    if let Some(&next) = sources.get(i + 1) {
                        prefetch_targets(synapses, next as usize);
                    }
                    let j = j as usize;
                    // Short-term plasticity scales the spike by its efficacy.
                    let scale = match plastic {
                        Some(s) => lane_scale * s.efficacy[j * lanes + l],
                        None => lane_scale,
                    };
                    let range = synapses.offsets[j] as usize..synapses.offsets[j + 1] as usize;
                    if range.is_empty() {
                        continue;
                    }
                    events += range.len() as u64;
                    let targets = &synapses.targets[range.clone()];
                    if let Some(plastic) = &projection.plastic {
                        crate::plasticity::spiking::deliver(
                            plastic,
                            index,
                            range,
                            targets,
                            &synapses.delays,
                            projection.delay as usize,
                            ring,
                            base,
                            slots,
                            slot_len,
                            l,
                        );
                        continue;
                    }
                    if synapses.delays.is_empty() {
                        let mut slot = base + projection.delay as usize;
                        if slot >= slots {
                            slot -= slots;
                        }
                        let ring = &mut ring[slot * slot_len..(slot + 1) * slot_len];
                        match (synapses.weights.is_empty(), lanes) {
                            (true, 1) => {
                                for &t in targets {
                                    ring[t as usize] += scale;
                                }
                            }
                            (true, _) => {
                                for &t in targets {
                                    ring[t as usize * lanes + l] += scale;
                                }
                            }
                            (false, _) => {
                                for (&t, &weight) in targets.iter().zip(&synapses.weights[range]) {
                                    ring[t as usize * lanes + l] += scale * weight;
                                }
                            }
                        }
                    } else {
                        let homogeneous_weight = synapses.weights.is_empty();
                        for (e, (&t, &d)) in targets
                            .iter()
                            .zip(&synapses.delays[range.clone()])
                            .enumerate()
                        {
                            let mut slot = base + d as usize;
                            if slot >= slots {
                                slot -= slots;
                            }
                            let weight = if homogeneous_weight {
                                scale
                            } else {
                                scale * synapses.weights[range.start + e]
                            };
                            ring[slot * slot_len + t as usize * lanes + l] += weight;
                        }
                    }
                }
            }
        }
    }

    // Poisson sources: counts of the step, then the traces.
    if let Some(source) = &params.source {
        let mut spikes = vec![Vec::new(); lanes];
        for (l, list) in spikes.iter_mut().enumerate() {
            let mean = &source.mean[l];
            if mean.parts == 0 {
                continue;
            }
            for r in (0..rows).step_by(2) {
                let neuron = first + r;
                let (even, odd) =
                    poisson::count_pair(&source.key, mean, step, (neuron / 2) as u32, l as u32);
                for _ in 0..even {
                    list.push(neuron as u32);
                }
                if r + 1 < rows {
                    for _ in 0..odd {
                        list.push(neuron as u32 + 1);
                    }
                }
            }
        }
        if let Some(tp) = &params.trace {
            for x in trace.iter_mut() {
                *x *= tp.decay;
            }
            for (l, list) in spikes.iter().enumerate() {
                for &n in list {
                    let x = &mut trace[(n as usize - first) * lanes + l];
                    *x = if tp.additive { *x + tp.scale } else { tp.scale };
                }
            }
        }
        return BlockOutcome {
            population,
            spikes,
            bad: None,
            events,
        };
    }

    // 2. External currents of the step.
    let has_external = params.inputs.iter().any(|&i| inputs[i].active(step)) || !coupled.is_empty();
    if has_external {
        external.iter_mut().for_each(|x| *x = T::ZERO);
        for &i in &params.inputs {
            let input = &inputs[i];
            if input.active(step) {
                input.add_rows(step, first, external, lanes);
            }
        }
        // Currents from rate populations, after the inputs.
        for (x, &c) in external.iter_mut().zip(coupled) {
            *x += c;
        }
    }
    let drives: Vec<&PoissonDrive<T>> = params
        .poisson
        .iter()
        .map(|&d| &poisson[d])
        .filter(|d| d.first_step <= step && step < d.last_step)
        .collect();

    // Poisson counts of the step, times their weights, `[neuron][lane]` per drive (neurons in
    // pairs: one Philox block serves two neurons).
    let mut poisson_effect: Vec<Vec<T>> = Vec::with_capacity(drives.len());
    for drive in &drives {
        let mut effect = vec![T::ZERO; rows * lanes];
        for l in 0..lanes {
            let weight = drive.weight[l];
            let mean = &drive.mean[l];
            // Lane `l` draws the numbers of lane `lane_offset + l` (sweep shards).
            let lane = drive.lane_offset + l as u32;
            // Pairs in batches whose Philox blocks are computed together, then the rest.
            let pairs = rows.div_ceil(2);
            let batched = pairs - pairs % PHILOX_BATCH;
            let mut put = |pair: usize, (even, odd): (u32, u32)| {
                let r = 2 * pair;
                effect[r * lanes + l] = T::from_f64(even as f64) * weight;
                if r + 1 < rows {
                    effect[(r + 1) * lanes + l] = T::from_f64(odd as f64) * weight;
                }
            };
            for start in (0..batched).step_by(PHILOX_BATCH) {
                let counts = poisson::count_pairs(
                    &drive.key,
                    mean,
                    step,
                    ((first / 2) + start) as u32,
                    lane,
                );
                for (i, c) in counts.into_iter().enumerate() {
                    put(start + i, c);
                }
            }
            for pair in batched..pairs {
                let c =
                    poisson::count_pair(&drive.key, mean, step, ((first / 2) + pair) as u32, lane);
                put(pair, c);
            }
        }
        poisson_effect.push(effect);
    }

    // 3. Neurons: the AVX2 kernel where it applies (it handles a multiple of 8 cells), the
    // reference loop for the rest; both give bitwise the same results.
    let slot = (step % slots as u64) as usize;
    let effects: Vec<(bool, &[T])> = drives
        .iter()
        .zip(&poisson_effect)
        .map(|(d, e)| (d.inhibitory, e.as_slice()))
        .collect();
    let mut cells = cells::Cells {
        v,
        w,
        refractory,
        g_exc,
        g_inh,
        x_exc,
        x_inh,
        arrival_exc: &mut ring_exc[slot * slot_len..(slot + 1) * slot_len],
        arrival_inh: &mut ring_inh[slot * slot_len..(slot + 1) * slot_len],
        external: if has_external { Some(&*external) } else { None },
        trace,
        effects: &effects,
        first,
        lanes,
    };
    let mut spikes = vec![Vec::new(); lanes];
    let mut bad = None;
    let done = cells::update_fast(params, &mut cells, &mut spikes, &mut bad);
    cells::update(
        params,
        &mut cells,
        done..rows * lanes,
        &mut spikes,
        &mut bad,
    );
    BlockOutcome {
        population,
        spikes,
        bad,
        events,
    }
}
