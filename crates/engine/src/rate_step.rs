//! One step of the rate populations: projections, synaptic currents and rates, fused into one
//! pass over each population's state.
//!
//! The equations are those of [`crate::rate`]. Two choices keep a step close to the memory
//! roofline:
//!
//! * **One pass per population.** Relaxing every channel, summing the currents, adding the inputs,
//!   applying `φ` and relaxing the rates happen row by row (one neuron, all lanes) in a single pass,
//!   so each state value is read and written once per step. The summed current and the total input
//!   `μ` are written out only when a monitor records them (or to name the culprit of a divergence).
//! * **Low-rank synaptic state.** When every projection of a channel is a factored operator
//!   `W_p = U_p V_pᵀ` (all-to-all uniform, cosine and low-rank profiles, autapses kept) and the
//!   population starts with zero current, the channel's current stays in the span of the `U_p`
//!   for ever: `I = Σ_p U_p ζ_p` with `ζ_p ← a ζ_p + b s_p (V_pᵀ r_pre)` (`rank × lanes` numbers per
//!   projection instead of `neurons × lanes`). This is the same recurrence, reassociated; it turns
//!   an E/I ring of 1,000 neurons × 400 lanes from a pass over four `N × lanes` current arrays per
//!   step into a few hundred numbers. Rounding differs from the per-neuron form by a few ulps.
//!
//! Work is split into blocks of rows whose boundaries depend only on the lane count, and nothing
//! is reduced across blocks, so results are bitwise identical for any thread count.

use crate::input::Input;
use crate::lower::{Channel, Lowered, RatePopulation};
use crate::operators::Operator;
use crate::operators::use_avx2;
use crate::rate::transfer;
use crate::real::Real;
use neuroxide_model::{InitialValue, Transfer, Variable};
use rayon::prelude::*;

/// Rows per parallel block for `lanes` lanes: fixed, independent of the thread count.
pub(crate) fn block_rows(lanes: usize) -> usize {
    (8192 / lanes.max(1)).max(16)
}

/// One projection whose contribution is kept as `rank × lanes` numbers.
#[derive(Debug)]
struct LowRankPart {
    projection: usize,
    channel: usize,
    /// First row of this part in the population's `ζ`.
    offset: usize,
    rank: usize,
    /// Which of [`RateStep::sources`] gives this part's `Vᵀ r_pre`.
    source: usize,
}

/// One distinct `Vᵀ r_pre` of a step: projections from the same population with the same right
/// factor (an E/I ring's EE and IE, all-to-all uniform couplings) share it, computed once.
#[derive(Debug)]
struct Source {
    /// A projection whose operator computes it.
    projection: usize,
    rank: usize,
    /// Offset of its `rank × lanes` values in [`RateStep::z`].
    offset: usize,
}

/// How one population's currents are kept.
#[derive(Debug)]
struct PopulationPlan<T: Real> {
    /// Channels with a state per neuron and lane, in ascending order.
    dense: Vec<usize>,
    parts: Vec<LowRankPart>,
    /// Total rank of the low-rank parts.
    rank: usize,
    /// The parts' left factors side by side, `[neuron][rank]`.
    u: Vec<T>,
    /// Low-rank states, `[rank][lane]`.
    zeta: Vec<T>,
    store_current: bool,
    store_input: bool,
}

/// The plan of the rate step for a lowered network.
#[derive(Debug)]
pub(crate) struct RateStep<T: Real> {
    populations: Vec<PopulationPlan<T>>,
    sources: Vec<Source>,
    /// The sources' `Vᵀ r`, side by side.
    z: Vec<T>,
}

impl<T: Real> RateStep<T> {
    /// Choose, per channel, a per-neuron or a low-rank state; free the per-neuron buffers of the
    /// low-rank ones.
    pub(crate) fn new(net: &mut Lowered<T>) -> Self {
        let lanes = net.lanes;
        let mut populations = Vec::with_capacity(net.populations.len());
        let mut sources: Vec<Source> = Vec::new();
        let mut z_len = 0;
        for (p, pop) in net.populations.iter().enumerate() {
            let zero_start = net.initial_per_lane[p]
                .iter()
                .all(|(_, current)| matches!(current, InitialValue::Zero));
            let mut channels = pop.channels.clone();
            channels.sort_unstable();
            let mut dense = Vec::new();
            let mut parts = Vec::new();
            let mut rank = 0;
            for c in channels {
                let factored = |q: &usize| match &net.projections[*q].operator {
                    // Plastic projections drive their channel with their own weights.
                    Operator::Factored(op) => {
                        !op.has_diagonal() && !net.plastic_rates.iter().any(|h| h.projection == *q)
                    }
                    _ => false,
                };
                if zero_start && net.channels[c].projections.iter().all(factored) {
                    for &q in &net.channels[c].projections {
                        let Operator::Factored(op) = &net.projections[q].operator else {
                            unreachable!()
                        };
                        let same = |s: &Source| {
                            let Operator::Factored(other) = &net.projections[s.projection].operator
                            else {
                                unreachable!()
                            };
                            let (a, b) = (&net.projections[s.projection], &net.projections[q]);
                            (a.pre, a.pre_spiking) == (b.pre, b.pre_spiking)
                                && other.right() == op.right()
                                // STP: the projection carries its own `u x r`.
                                && !crate::stp::has_stp(&net.stp, s.projection)
                                && !crate::stp::has_stp(&net.stp, q)
                        };
                        let source = match sources.iter().position(same) {
                            Some(k) => k,
                            None => {
                                sources.push(Source {
                                    projection: q,
                                    rank: op.rank(),
                                    offset: z_len,
                                });
                                z_len += op.rank() * lanes;
                                sources.len() - 1
                            }
                        };
                        parts.push(LowRankPart {
                            projection: q,
                            channel: c,
                            offset: rank,
                            rank: op.rank(),
                            source,
                        });
                        rank += op.rank();
                    }
                } else {
                    dense.push(c);
                }
            }
            let mut u = Vec::with_capacity(pop.size * rank);
            for n in 0..pop.size {
                for part in &parts {
                    let Operator::Factored(op) = &net.projections[part.projection].operator else {
                        unreachable!()
                    };
                    u.extend_from_slice(&op.left()[n * part.rank..(n + 1) * part.rank]);
                }
            }
            let wants = |variable: Variable| {
                net.recorders
                    .iter()
                    .any(|r| r.population == p && r.variable == variable)
            };
            populations.push(PopulationPlan {
                dense,
                rank,
                u,
                zeta: vec![T::ZERO; rank * lanes],
                store_current: wants(Variable::Current),
                store_input: wants(Variable::Input),
                parts,
            });
        }
        for plan in &populations {
            for part in &plan.parts {
                let channel = &mut net.channels[part.channel];
                channel.state = Vec::new();
                channel.drive = Vec::new();
            }
        }
        RateStep {
            populations,
            sources,
            z: vec![T::ZERO; z_len],
        }
    }

    /// The low-rank states, one buffer per population plan (for checkpoints).
    pub(crate) fn states_mut(&mut self) -> impl Iterator<Item = &mut Vec<T>> {
        self.populations.iter_mut().map(|plan| &mut plan.zeta)
    }

    /// Zero the low-rank states (their per-neuron counterparts are reset by the caller).
    pub(crate) fn reset(&mut self) {
        for plan in &mut self.populations {
            plan.zeta.iter_mut().for_each(|x| *x = T::ZERO);
        }
    }

    /// Advance every rate population by one step. On a non-finite value, returns the index of the
    /// first population that has one, with its `current` and `input` filled in.
    pub(crate) fn step(
        &mut self,
        net: &mut Lowered<T>,
        step: u64,
        pool: &rayon::ThreadPool,
    ) -> Result<(), usize> {
        let lanes = net.lanes;
        // 0. Rate noise, then short-term plasticity: `u`, `x` and `u x r` from the rates of the
        //    step's start.
        for noise in &net.rate_noise {
            noise.add(&mut net.populations[noise.population].rate, step, lanes);
        }
        for stp in &mut net.stp {
            stp.update(&net.populations[stp.pre].rate);
        }
        // 1. Projections: per-neuron channels get their drive, low-rank parts their `ζ`.
        for plan in &self.populations {
            for &c in &plan.dense {
                let channel = &mut net.channels[c];
                channel.drive.iter_mut().for_each(|x| *x = T::ZERO);
                for &q in &channel.projections {
                    let projection = &net.projections[q];
                    let pre = crate::stp::signal(&net.stp, q).unwrap_or_else(|| {
                        crate::mixed::presynaptic(&net.populations, &net.spiking, projection)
                    });
                    if let Some(h) = net.plastic_rates.iter().find(|h| h.projection == q) {
                        h.add_drive(pre, &mut channel.drive);
                        continue;
                    }
                    projection.operator.apply_add_scaled(
                        pre,
                        &mut channel.drive,
                        lanes,
                        &projection.scale,
                        pool,
                    );
                }
            }
        }
        for source in &self.sources {
            let projection = &net.projections[source.projection];
            let Operator::Factored(op) = &projection.operator else {
                unreachable!()
            };
            let z = &mut self.z[source.offset..source.offset + source.rank * lanes];
            let pre = crate::stp::signal(&net.stp, source.projection).unwrap_or_else(|| {
                crate::mixed::presynaptic(&net.populations, &net.spiking, projection)
            });
            op.project(pre, lanes, z, pool);
        }
        for plan in &mut self.populations {
            for part in &plan.parts {
                let projection = &net.projections[part.projection];
                let offset = self.sources[part.source].offset;
                let z = &self.z[offset..offset + part.rank * lanes];
                let channel = &net.channels[part.channel];
                let zeta = &mut plan.zeta[part.offset * lanes..(part.offset + part.rank) * lanes];
                for (zeta_r, z_r) in zeta.chunks_exact_mut(lanes).zip(z.chunks_exact(lanes)) {
                    for l in 0..lanes {
                        zeta_r[l] = channel.a[l] * zeta_r[l]
                            + channel.b[l] * (projection.scale[l] * z_r[l]);
                    }
                }
            }
        }
        // 2. Populations, one fused pass each.
        let mut diverged = None;
        for (p, plan) in self.populations.iter().enumerate() {
            let finite = update_population(net, p, plan, step, pool);
            let pop = &mut net.populations[p];
            std::mem::swap(&mut pop.rate, &mut pop.rate_next);
            if !finite && diverged.is_none() {
                diverged = Some(p);
            }
        }
        match diverged {
            None => Ok(()),
            Some(p) => {
                self.materialise(net, p, step);
                Err(p)
            }
        }
    }

    /// Fill population `p`'s `current` and `input` from the states after `step`.
    fn materialise(&self, net: &mut Lowered<T>, p: usize, step: u64) {
        let lanes = net.lanes;
        let plan = &self.populations[p];
        let (constant, varying) = split_inputs(&net.inputs, &net.populations[p], lanes, step);
        let pop = &net.populations[p];
        let mut current = vec![T::ZERO; pop.size * lanes];
        for &c in &plan.dense {
            for (i, s) in current.iter_mut().zip(&net.channels[c].state) {
                *i += *s;
            }
        }
        for (n, row) in current.chunks_exact_mut(lanes).enumerate() {
            add_low_rank(row, &plan.u[n * plan.rank..(n + 1) * plan.rank], &plan.zeta);
        }
        let mut input = vec![T::ZERO; pop.size * lanes];
        for source in &varying {
            source.add_rows(step, 0, &mut input, lanes);
        }
        for (k, (x, i)) in input.iter_mut().zip(&current).enumerate() {
            *x += *i + constant[k % lanes];
        }
        let pop = &mut net.populations[p];
        pop.current = current;
        pop.input = input;
    }
}

/// The summed per-lane value of the constant inputs active at `step`, and the other active inputs.
fn split_inputs<'a, T: Real>(
    inputs: &'a [Input<T>],
    pop: &RatePopulation<T>,
    lanes: usize,
    step: u64,
) -> (Vec<T>, Vec<&'a Input<T>>) {
    let mut constant = vec![T::ZERO; lanes];
    let mut varying = Vec::new();
    for &i in &pop.inputs {
        let input = &inputs[i];
        if input.active(step) && !input.add_constant(&mut constant) {
            varying.push(input);
        }
    }
    (constant, varying)
}

/// `row[l] += Σ_r u[r] ζ[r][l]`.
#[inline(always)]
fn add_low_rank<T: Real>(row: &mut [T], u: &[T], zeta: &[T]) {
    let lanes = row.len();
    for (&ur, zr) in u.iter().zip(zeta.chunks_exact(lanes)) {
        for (x, &z) in row.iter_mut().zip(zr) {
            *x += ur * z;
        }
    }
}

/// One per-neuron channel's slices in a block: (state, drive, a, b).
type ChannelRows<'a, T> = (&'a mut [T], &'a [T], &'a [T], &'a [T]);

/// One block of rows of a population: its slices of every per-neuron array.
struct Block<'a, T> {
    first_row: usize,
    channels: Vec<ChannelRows<'a, T>>,
    next: &'a mut [T],
    rate: &'a [T],
    current: &'a mut [T],
    input: &'a mut [T],
    external: &'a mut [T],
}

/// The fused pass over population `p`; returns whether every new value is finite.
fn update_population<T: Real>(
    net: &mut Lowered<T>,
    p: usize,
    plan: &PopulationPlan<T>,
    step: u64,
    pool: &rayon::ThreadPool,
) -> bool {
    let lanes = net.lanes;
    let rows = block_rows(lanes);
    let chunk = rows * lanes;
    let (constant, varying) = split_inputs(&net.inputs, &net.populations[p], lanes, step);
    let pop = &mut net.populations[p];
    if pop.size == 0 || lanes == 0 {
        return true;
    }
    let blocks = pop.size.div_ceil(rows);
    let RatePopulation {
        transfer: kind,
        threshold,
        gain,
        rate_a,
        rate_b,
        rate,
        rate_next,
        current,
        input,
        external,
        ..
    } = pop;
    // Per-block slices; arrays not written this step are split into empty slices.
    let mut channel_chunks: Vec<_> = net
        .channels
        .iter_mut()
        .enumerate()
        .filter(|(c, _)| plan.dense.contains(c))
        .map(|(_, ch)| {
            let Channel {
                a, b, state, drive, ..
            } = ch;
            let (a, b, drive) = (&a[..], &b[..], &drive[..]);
            state
                .chunks_mut(chunk)
                .zip(drive.chunks(chunk))
                .map(move |(s, d)| (s, d, a, b))
                .collect::<Vec<_>>()
                .into_iter()
        })
        .collect();
    let has_external = !varying.is_empty();
    let jobs: Vec<Block<T>> = rate_next
        .chunks_mut(chunk)
        .zip(rate.chunks(chunk))
        .zip(optional(current, plan.store_current, chunk, blocks))
        .zip(optional(input, plan.store_input, chunk, blocks))
        .zip(optional(external, has_external, chunk, blocks))
        .enumerate()
        .map(|(b, ((((next, rate), current), input), external))| Block {
            first_row: b * rows,
            channels: channel_chunks
                .iter_mut()
                .map(|it| it.next().expect("one chunk per block"))
                .collect(),
            next,
            rate,
            current,
            input,
            external,
        })
        .collect();
    let params = Params {
        threshold,
        gain,
        rate_a,
        rate_b,
        constant: &constant,
        varying: &varying,
        plan,
        step,
        lanes,
    };
    let kind = *kind;
    macro_rules! run {
        ($kind:path) => {{
            let phi = |mu: T, th: T, g: T| transfer::<T>($kind, mu, th, g);
            let avx2 = use_avx2();
            let run = |job| {
                #[cfg(target_arch = "x86_64")]
                if avx2 {
                    // SAFETY: the CPU supports AVX2 (checked by `use_avx2`).
                    return unsafe { update_block_avx2(job, &params, phi) };
                }
                update_block(job, &params, phi)
            };
            if jobs.len() == 1 {
                jobs.into_iter().all(run)
            } else {
                pool.install(|| jobs.into_par_iter().map(run).reduce(|| true, |a, b| a && b))
            }
        }};
    }
    match kind {
        Transfer::Relu => run!(Transfer::Relu),
        Transfer::Tanh => run!(Transfer::Tanh),
        Transfer::Sigmoid => run!(Transfer::Sigmoid),
        Transfer::Erf => run!(Transfer::Erf),
        Transfer::GaussCdf => run!(Transfer::GaussCdf),
        Transfer::BrunelSqrt => run!(Transfer::BrunelSqrt),
        Transfer::Id => run!(Transfer::Id),
    }
}

/// `values` in chunks, or (when it is not written this step) one empty slice per block.
fn optional<T>(values: &mut [T], keep: bool, chunk: usize, blocks: usize) -> Vec<&mut [T]> {
    if keep {
        values.chunks_mut(chunk).collect()
    } else {
        (0..blocks).map(|_| <&mut [T]>::default()).collect()
    }
}

/// What every block of a population shares.
struct Params<'a, T: Real> {
    threshold: &'a [T],
    gain: &'a [T],
    rate_a: &'a [T],
    rate_b: &'a [T],
    constant: &'a [T],
    varying: &'a [&'a Input<T>],
    plan: &'a PopulationPlan<T>,
    step: u64,
    lanes: usize,
}

/// [`update_block`] compiled for AVX2 (wider vectors, the register tiles in eight-lane registers;
/// the same operations, so the same bits: no FMA contraction happens without fast-math).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_block_avx2<T: Real>(
    job: Block<'_, T>,
    params: &Params<'_, T>,
    phi: impl Fn(T, T, T) -> T + Copy,
) -> bool {
    update_block(job, params, phi)
}

/// Update the rows of one block; returns whether every new value is finite.
///
/// Row by row (one neuron, all lanes), in simple loops over the lanes that vectorise; the row's
/// running sum stays in L1.
#[inline(always)]
fn update_block<T: Real>(
    mut job: Block<'_, T>,
    params: &Params<'_, T>,
    phi: impl Fn(T, T, T) -> T + Copy,
) -> bool {
    let lanes = params.lanes;
    let plan = params.plan;
    let has_external = !job.external.is_empty();
    if has_external {
        job.external.iter_mut().for_each(|x| *x = T::ZERO);
        for source in params.varying {
            source.add_rows(params.step, job.first_row, job.external, lanes);
        }
    }
    let (th, gain) = (&params.threshold[..lanes], &params.gain[..lanes]);
    let (ra, rb) = (&params.rate_a[..lanes], &params.rate_b[..lanes]);
    let constant = &params.constant[..lanes];
    let mut acc = vec![T::ZERO; lanes];
    let mut finite = true;
    for (row, next) in job.next.chunks_exact_mut(lanes).enumerate() {
        let o = row * lanes;
        // Per-neuron channels relax; their sum starts the current.
        for (i, (state, drive, a, b)) in job.channels.iter_mut().enumerate() {
            let s = &mut state[o..o + lanes];
            let d = &drive[o..o + lanes];
            if i == 0 {
                for l in 0..lanes {
                    s[l] = a[l] * s[l] + b[l] * d[l];
                    acc[l] = s[l];
                }
            } else {
                for l in 0..lanes {
                    s[l] = a[l] * s[l] + b[l] * d[l];
                    acc[l] += s[l];
                }
            }
        }
        if job.channels.is_empty() {
            acc.iter_mut().for_each(|x| *x = T::ZERO);
        }
        if plan.rank > 0 {
            let n = job.first_row + row;
            add_low_rank(
                &mut acc,
                &plan.u[n * plan.rank..(n + 1) * plan.rank],
                &plan.zeta,
            );
        }
        if !job.current.is_empty() {
            job.current[o..o + lanes].copy_from_slice(&acc);
        }
        // Inputs, transfer, rates.
        for (x, &c) in acc.iter_mut().zip(constant) {
            *x += c;
        }
        if has_external {
            for (x, e) in acc.iter_mut().zip(&job.external[o..o + lanes]) {
                *x += *e;
            }
        }
        if !job.input.is_empty() {
            job.input[o..o + lanes].copy_from_slice(&acc);
        }
        let rate = &job.rate[o..o + lanes];
        let mut ok = true;
        for l in 0..lanes {
            let mu = acc[l];
            let r = ra[l] * rate[l] + rb[l] * phi(mu, th[l], gain[l]);
            next[l] = r;
            // `x − x` is 0 exactly when x is finite: one subtraction tests for NaN and ±∞.
            #[allow(clippy::eq_op)]
            let finite = (r - r) == T::ZERO && (mu - mu) == T::ZERO;
            ok &= finite;
        }
        finite &= ok;
    }
    finite
}
