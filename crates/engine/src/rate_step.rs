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
    /// Scratch for `Vᵀ r`.
    z: Vec<T>,
}

impl<T: Real> RateStep<T> {
    /// Choose, per channel, a per-neuron or a low-rank state; free the per-neuron buffers of the
    /// low-rank ones.
    pub(crate) fn new(net: &mut Lowered<T>) -> Self {
        let lanes = net.lanes;
        let mut populations = Vec::with_capacity(net.populations.len());
        let mut max_rank = 0;
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
                    Operator::Factored(op) => !op.has_diagonal(),
                    _ => false,
                };
                if zero_start && net.channels[c].projections.iter().all(factored) {
                    for &q in &net.channels[c].projections {
                        let Operator::Factored(op) = &net.projections[q].operator else {
                            unreachable!()
                        };
                        max_rank = max_rank.max(op.rank());
                        parts.push(LowRankPart {
                            projection: q,
                            channel: c,
                            offset: rank,
                            rank: op.rank(),
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
            z: vec![T::ZERO; max_rank * lanes],
        }
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
        // 1. Projections: per-neuron channels get their drive, low-rank parts their `ζ`.
        for plan in &self.populations {
            for &c in &plan.dense {
                let channel = &mut net.channels[c];
                channel.drive.iter_mut().for_each(|x| *x = T::ZERO);
                for &q in &channel.projections {
                    let projection = &net.projections[q];
                    let pre = &net.populations[projection.pre].rate;
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
        for plan in &mut self.populations {
            for part in &plan.parts {
                let projection = &net.projections[part.projection];
                let Operator::Factored(op) = &projection.operator else {
                    unreachable!()
                };
                let z = &mut self.z[..part.rank * lanes];
                op.project(&net.populations[projection.pre].rate, lanes, z, pool);
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

/// One block of rows of a population: its slices of every per-neuron array.
struct Block<'a, T> {
    first_row: usize,
    /// (state, drive, a, b) of each per-neuron channel.
    channels: Vec<(&'a mut [T], &'a [T], &'a [T], &'a [T])>,
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
            if jobs.len() == 1 {
                jobs.into_iter().all(|job| update_block(job, &params, phi))
            } else {
                pool.install(|| {
                    jobs.into_par_iter()
                        .map(|job| update_block(job, &params, phi))
                        .reduce(|| true, |a, b| a && b)
                })
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

/// Lanes per register tile of the fused pass.
const TILE: usize = 16;

/// Update the rows of one block; returns whether every new value is finite.
#[inline(always)]
fn update_block<T: Real>(
    mut job: Block<'_, T>,
    params: &Params<'_, T>,
    phi: impl Fn(T, T, T) -> T + Copy,
) -> bool {
    let lanes = params.lanes;
    if !job.external.is_empty() {
        job.external.iter_mut().for_each(|x| *x = T::ZERO);
        for source in params.varying {
            source.add_rows(params.step, job.first_row, job.external, lanes);
        }
    }
    let rows = job.next.len() / lanes;
    let mut finite = true;
    for row in 0..rows {
        // Whole tiles of lanes in registers, then the remaining lanes one by one; every lane
        // sees the same operations in the same order either way.
        let mut l0 = 0;
        while l0 + TILE <= lanes {
            finite &= update_tile::<T, TILE>(&mut job, params, row, l0, phi);
            l0 += TILE;
        }
        while l0 < lanes {
            finite &= update_tile::<T, 1>(&mut job, params, row, l0, phi);
            l0 += 1;
        }
    }
    finite
}

/// Lanes `l0 .. l0 + W` of one row: relax the per-neuron channels and sum them, add the low-rank
/// currents and the inputs, apply `φ`, relax the rate.
#[inline(always)]
fn update_tile<T: Real, const W: usize>(
    job: &mut Block<'_, T>,
    params: &Params<'_, T>,
    row: usize,
    l0: usize,
    phi: impl Fn(T, T, T) -> T,
) -> bool {
    let lanes = params.lanes;
    let plan = params.plan;
    let o = row * lanes + l0;
    let lane = |v: &[T]| -> [T; W] { v[l0..l0 + W].try_into().unwrap() };
    let mut acc = [T::ZERO; W];
    for (i, (state, drive, a, b)) in job.channels.iter_mut().enumerate() {
        let s: &mut [T; W] = (&mut state[o..o + W]).try_into().unwrap();
        let d: &[T; W] = drive[o..o + W].try_into().unwrap();
        let (a, b) = (lane(a), lane(b));
        for k in 0..W {
            s[k] = a[k] * s[k] + b[k] * d[k];
            acc[k] = if i == 0 { s[k] } else { acc[k] + s[k] };
        }
    }
    if plan.rank > 0 {
        let n = job.first_row + row;
        let u = &plan.u[n * plan.rank..(n + 1) * plan.rank];
        for (r, &ur) in u.iter().enumerate() {
            let z: &[T; W] = plan.zeta[r * lanes + l0..r * lanes + l0 + W]
                .try_into()
                .unwrap();
            for k in 0..W {
                acc[k] += ur * z[k];
            }
        }
    }
    if !job.current.is_empty() {
        job.current[o..o + W].copy_from_slice(&acc);
    }
    let constant = lane(params.constant);
    for k in 0..W {
        acc[k] += constant[k];
    }
    if !job.external.is_empty() {
        let e: &[T; W] = job.external[o..o + W].try_into().unwrap();
        for k in 0..W {
            acc[k] += e[k];
        }
    }
    if !job.input.is_empty() {
        job.input[o..o + W].copy_from_slice(&acc);
    }
    let (th, gain) = (lane(params.threshold), lane(params.gain));
    let (ra, rb) = (lane(params.rate_a), lane(params.rate_b));
    let rate: &[T; W] = job.rate[o..o + W].try_into().unwrap();
    let next: &mut [T; W] = (&mut job.next[o..o + W]).try_into().unwrap();
    let mut ok = true;
    for k in 0..W {
        let mu = acc[k];
        let r = ra[k] * rate[k] + rb[k] * phi(mu, th[k], gain[k]);
        next[k] = r;
        // x − x is 0 for finite x and NaN otherwise: a branch-free finiteness test.
        #[allow(clippy::eq_op)]
        {
            ok &= (r - r) == T::ZERO && (mu - mu) == T::ZERO;
        }
    }
    ok
}
