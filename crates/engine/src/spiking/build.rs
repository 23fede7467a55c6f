//! Lowering of spiking populations, projections between them, Poisson drives and spike monitors.

use super::poisson::PoissonMean;
use super::{
    PoissonDrive, PoissonSource, PopulationParams, PopulationState, RateSummary, SpikeMonitor,
    SpikingNetwork, SpikingPopulation, SpikingProjection, TARGET_BLOCK, TargetBlock, TraceParams,
};
use crate::connectivity::{self, BlockSpec, EdgeWeights};
use crate::lower::{read_array_file, resolve_file};
use crate::neurons::Neuron;
use crate::real::Real;
use crate::rng::{CounterRng, Philox4x32, stream_id};
use neuroxide_model::*;
use std::path::Path;

fn err(path: impl Into<String>, message: impl Into<String>) -> SpecErrors {
    SpecErrors::one(SpecError::new(path, message))
}

fn steps_of(time_ms: f64, dt_ms: f64) -> u64 {
    (time_ms / dt_ms).round().max(0.0) as u64
}

/// Synapse kind of a spiking population.
pub(crate) fn synapse_kind(pop: &PopulationSpec) -> SynapseKind {
    let given = pop.synapse.as_ref().and_then(|s| s.kind);
    match (pop.model.implied_synapse(), given) {
        // `lif_psc_exp` with `kind: filtered`: NeuroSimTools' LIF (validated).
        (Some(SynapseKind::CurrentExp), Some(SynapseKind::Filtered)) => SynapseKind::Filtered,
        (implied, given) => implied.or(given).unwrap_or_default(),
    }
}

/// Build the spiking part of a network. `index[p]` is the spiking index of spec population `p`;
/// `current_inputs` lists (spiking population, input index) of the current inputs already lowered
/// with the rate inputs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lower_spiking<T: Real>(
    spec: &NetworkSpec,
    lane_specs: &[NetworkSpec],
    base_dir: Option<&Path>,
    pool: &rayon::ThreadPool,
    index: &[Option<usize>],
    current_inputs: &[(usize, usize)],
    record_steps: u64,
) -> Result<SpikingNetwork<T>, SpecErrors> {
    let lanes = lane_specs.len();
    let dt = spec.dt.ms();
    let mut net = SpikingNetwork {
        lanes,
        lane_offset: spec.lane_offset,
        dt_ms: dt,
        seed: spec.seed,
        ..Default::default()
    };
    // Populations.
    for (name, pop) in &spec.populations {
        if !pop.model.is_spiking() {
            continue;
        }
        let at = |key: &str| format!("populations.{name}.{key}");
        let kind = synapse_kind(pop);
        let mut neurons = Vec::with_capacity(lanes);
        let (mut decay_exc, mut decay_inh, mut kick_exc, mut kick_inh) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut initial = Vec::new();
        let source = pop.model == NeuronModel::Poisson;
        let mut source_means = Vec::new();
        for lane_spec in lane_specs {
            let p = &lane_spec.populations[name];
            let synapse = p.synapse.clone().unwrap_or_default();
            let reversal = (
                synapse.e_exc.map_or(0.0, |v| v.value()),
                synapse.e_inh.map_or(-80.0, |v| v.value()),
            );
            let params = p.neuron.clone().unwrap_or_default();
            if source {
                // Validated: `rate` is the only parameter, finite and ≥ 0.
                let rate = params.rate.map_or(0.0, |r| r.value());
                source_means.push(PoissonMean::new(rate * dt * 1e-3));
                let i = &p.initial;
                initial.push([i.v.clone(), i.w.clone(), i.g_exc.clone(), i.g_inh.clone()]);
                continue;
            }
            let neuron = Neuron::<T>::new(p.model, &params, reversal, dt).map_err(|(key, m)| {
                let path = match key.as_str() {
                    "E_exc" => at("synapse.e_exc"),
                    "E_inh" => at("synapse.e_inh"),
                    "dt" => "dt".to_string(),
                    "model" => at("model"),
                    _ => at(&format!("neuron.{key}")),
                };
                err(path, m)
            })?;
            neurons.push(neuron);
            for (tau, decay, kick) in [
                (synapse.tau_exc, &mut decay_exc, &mut kick_exc),
                (synapse.tau_inh, &mut decay_inh, &mut kick_inh),
            ] {
                let tau = tau.map_or(2.0, |t| t.ms());
                if kind == SynapseKind::Filtered {
                    // Forward Euler of τ dY/dt = −Y + S (NeuroSimTools): Y ← (1 − dt/τ) Y + w/τ.
                    decay.push(T::from_f64(1.0 - dt / tau));
                    kick.push(T::from_f64(1.0 / tau));
                } else {
                    decay.push(T::from_f64((-dt / tau).exp()));
                    kick.push(T::from_f64(std::f64::consts::E / tau));
                }
            }
            let i = &p.initial;
            initial.push([i.v.clone(), i.w.clone(), i.g_exc.clone(), i.g_inh.clone()]);
        }
        let params = PopulationParams {
            name: name.clone(),
            size: pop.size,
            synapse: kind,
            neurons,
            decay_exc,
            decay_inh,
            kick_exc,
            kick_inh,
            dt: T::from_f64(dt),
            slots: 2,
            inputs: Vec::new(),
            poisson: Vec::new(),
            incoming: Vec::new(),
            initial,
            source: source.then(|| PoissonSource {
                key: Philox4x32::new(spec.seed, stream_id(&format!("poisson source {name}"), 0)),
                mean: source_means,
            }),
            trace: pop.trace.as_ref().map(|t| TraceParams {
                decay: T::from_f64((-dt / t.tau.ms()).exp()),
                scale: T::from_f64(t.scale),
                additive: t.additive,
            }),
        };
        net.populations.push(SpikingPopulation {
            params,
            state: empty_state(),
        });
    }
    for &(p, i) in current_inputs {
        net.populations[p].params.inputs.push(i);
    }

    // Projections.
    for (name, proj) in &spec.projections {
        let pre = spec.populations.get_index_of(&proj.pre).expect("validated");
        let post = spec
            .populations
            .get_index_of(&proj.post)
            .expect("validated");
        let (Some(pre_s), Some(post_s)) = (index[pre], index[post]) else {
            continue;
        };
        let mut parts =
            spiking_projection::<T>(spec, lane_specs, name, proj, pre_s, post_s, pool, base_dir)?;
        if let Some(plasticity) = &proj.plasticity {
            let conductance =
                synapse_kind(&spec.populations[&proj.post]) == SynapseKind::ConductanceExp;
            crate::plasticity::spiking::attach(
                spec,
                name,
                plasticity,
                &mut parts,
                lanes,
                conductance,
            )?;
        }
        for part in parts {
            let population = &mut net.populations[post_s].params;
            population.slots = population.slots.max(part.1 as usize + 1);
            population.incoming.push(net.projections.len());
            net.projections.push(part.0);
        }
    }

    // Poisson drives.
    for (name, input) in &spec.inputs {
        if input.poisson.is_none() {
            continue;
        }
        let at = |key: &str| format!("inputs.{name}.{key}");
        let target = spec
            .populations
            .get_index_of(&input.target)
            .expect("validated");
        let p = index[target].expect("validated: Poisson onto spiking populations");
        let conductance = synapse_kind(&spec.populations[target]) == SynapseKind::ConductanceExp;
        let weights: Vec<f64> = lane_specs
            .iter()
            .map(|s| s.inputs[name].poisson.as_ref().unwrap().weight)
            .collect();
        let inhibitory = weights.iter().any(|w| *w < 0.0);
        if inhibitory && weights.iter().any(|w| *w > 0.0) {
            return Err(err(
                at("poisson.weight"),
                "weights of one sign in every lane (the sign chooses the excitatory or inhibitory synapse)",
            ));
        }
        let first_step = input
            .start
            .map_or(0, |t| steps_of(t.ms() + spec.transient.ms(), dt));
        let last_step = input
            .stop
            .map_or(u64::MAX, |t| steps_of(t.ms() + spec.transient.ms(), dt));
        net.populations[p].params.poisson.push(net.poisson.len());
        net.poisson.push(PoissonDrive {
            name: name.clone(),
            key: Philox4x32::new(spec.seed, stream_id(&format!("poisson {name}"), 0)),
            lane_offset: spec.lane_offset as u32,
            mean: lane_specs
                .iter()
                .map(|s| {
                    let q = s.inputs[name].poisson.as_ref().unwrap();
                    PoissonMean::new(q.count as f64 * q.rate.value() * dt * 1e-3)
                })
                .collect(),
            weight: weights
                .iter()
                .map(|&w| T::from_f64(if conductance { w.abs() } else { w }))
                .collect(),
            inhibitory,
            first_step,
            last_step,
        });
    }

    net.encoders = crate::plasticity::spiking::lower_encoders(spec, index)?;

    // Summaries: spike counts per neuron over the monitor's range.
    for monitor in &spec.monitors {
        if monitor.variable != Variable::MeanRate {
            continue;
        }
        let population = spec
            .populations
            .get_index_of(&monitor.population)
            .expect("validated");
        let p = index[population].expect("validated: summaries of spiking populations");
        let start = monitor.start.map_or(0, |t| steps_of(t.ms(), dt)) as usize;
        let stop = monitor.stop.map_or(record_steps, |t| steps_of(t.ms(), dt)) as usize;
        let size = spec.populations[population].size;
        net.rate_summaries.push(RateSummary {
            population: p,
            name: monitor.population.clone(),
            start,
            stop: stop.max(start),
            size,
            mean: monitor.mean,
            counts: vec![0; size * lanes],
        });
    }

    // Spike monitors.
    for (i, monitor) in spec.monitors.iter().enumerate() {
        if monitor.variable != Variable::Spikes {
            continue;
        }
        let population = spec
            .populations
            .get_index_of(&monitor.population)
            .expect("validated");
        let p = index[population].expect("validated: spikes of spiking populations");
        let start = monitor.start.map_or(0, |t| steps_of(t.ms(), dt)) as usize;
        let stop = monitor.stop.map_or(record_steps, |t| steps_of(t.ms(), dt)) as usize;
        if monitor.window.is_some() || monitor.every.is_some() {
            return Err(err(
                format!("monitors.{i}"),
                "spikes are recorded as they happen; `window` and `every` apply to rates and states",
            ));
        }
        net.spike_monitors.push(SpikeMonitor {
            population: p,
            name: monitor.population.clone(),
            start,
            stop: stop.max(start),
            rows: Vec::new(),
        });
    }

    for population in &mut net.populations {
        let lanes = net.lanes;
        let n = population.params.size * lanes;
        let slots = population.params.slots;
        population.state = PopulationState {
            v: vec![T::ZERO; n],
            w: vec![T::ZERO; n],
            refractory: vec![0; n],
            g_exc: vec![T::ZERO; n],
            g_inh: vec![T::ZERO; n],
            x_exc: vec![T::ZERO; n],
            x_inh: vec![T::ZERO; n],
            ring_exc: vec![T::ZERO; n * slots],
            ring_inh: vec![T::ZERO; n * slots],
            external: vec![T::ZERO; n],
            density: vec![T::ZERO; n],
            coupled: Vec::new(),
            trace: if population.params.trace.is_some() {
                vec![T::ZERO; n]
            } else {
                Vec::new()
            },
        };
    }
    net.spikes = net
        .populations
        .iter()
        .map(|_| vec![Vec::new(); lanes])
        .collect();
    Ok(net)
}

fn empty_state<T: Real>() -> PopulationState<T> {
    PopulationState {
        v: Vec::new(),
        w: Vec::new(),
        refractory: Vec::new(),
        g_exc: Vec::new(),
        g_inh: Vec::new(),
        x_exc: Vec::new(),
        x_inh: Vec::new(),
        ring_exc: Vec::new(),
        ring_inh: Vec::new(),
        external: Vec::new(),
        density: Vec::new(),
        coupled: Vec::new(),
        trace: Vec::new(),
    }
}

/// Edges of a projection, post-major: `(row_ptr, pre, weight per edge or None)`.
type Edges = (Vec<u64>, Vec<u32>, Option<Vec<f64>>);

fn sample_edges(
    spec: &NetworkSpec,
    name: &str,
    proj: &ProjectionSpec,
    n_pre: usize,
    n_post: usize,
    pool: &rayon::ThreadPool,
    base_dir: Option<&Path>,
) -> Result<Edges, SpecErrors> {
    let at = |key: &str| format!("projections.{name}.{key}");
    if let Rule::Explicit { file } = &proj.rule {
        let path = resolve_file(base_dir, file);
        let arrays = read_array_file(&path).map_err(|e| err(at("rule.explicit.file"), e))?;
        let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n_post];
        if let [(key, matrix)] = arrays.as_slice()
            && key.is_empty()
        {
            if matrix.shape != [n_post, n_pre] {
                return Err(err(
                    at("rule.explicit.file"),
                    format!(
                        "{} has shape {:?}, expected ({n_post}, {n_pre}) (postsynaptic × presynaptic neurons)",
                        path.display(),
                        matrix.shape
                    ),
                ));
            }
            for (i, row) in rows.iter_mut().enumerate() {
                for j in 0..n_pre {
                    let w = matrix.values[i * n_pre + j];
                    if w != 0.0 {
                        row.push((j as u32, w));
                    }
                }
            }
        } else {
            let get = |key: &str| arrays.iter().find(|(k, _)| k == key).map(|(_, a)| a);
            let (Some(posts), Some(pres)) = (get("post"), get("pre")) else {
                return Err(err(
                    at("rule.explicit.file"),
                    format!(
                        "{} must hold integer arrays `post` and `pre` (and optionally `weight`)",
                        path.display()
                    ),
                ));
            };
            let weights = get("weight");
            if pres.values.len() != posts.values.len()
                || weights.is_some_and(|w| w.values.len() != posts.values.len())
            {
                return Err(err(
                    at("rule.explicit.file"),
                    format!(
                        "`post`, `pre` and `weight` in {} differ in length",
                        path.display()
                    ),
                ));
            }
            for e in 0..posts.values.len() {
                let (i, j) = (posts.values[e], pres.values[e]);
                let ok = |v: f64, n: usize| v >= 0.0 && v.fract() == 0.0 && (v as usize) < n;
                if !ok(i, n_post) || !ok(j, n_pre) {
                    return Err(err(
                        at("rule.explicit.file"),
                        format!(
                            "edge {e} ({j} → {i}) in {} is outside ({n_pre} presynaptic, {n_post} postsynaptic) neurons",
                            path.display()
                        ),
                    ));
                }
                rows[i as usize].push((j as u32, weights.map_or(1.0, |w| w.values[e])));
            }
            for row in &mut rows {
                row.sort_by_key(|&(j, _)| j);
            }
        }
        let mut row_ptr = vec![0u64];
        let mut pre = Vec::new();
        let mut weights = Vec::new();
        for row in rows {
            for (j, w) in row {
                pre.push(j);
                weights.push(w);
            }
            row_ptr.push(pre.len() as u64);
        }
        return Ok((row_ptr, pre, Some(weights)));
    }
    let self_projection = proj.pre == proj.post;
    let available = if self_projection && !proj.autapses {
        n_pre - 1
    } else {
        n_pre
    };
    let k = mean_in_degree(&proj.rule, n_pre, n_post);
    let rule = match &proj.rule {
        Rule::AllToAll => connectivity::Rule::AllToAll,
        Rule::Bernoulli { p: Some(p), .. } => connectivity::Rule::Bernoulli { p: *p },
        Rule::Bernoulli { k: Some(k), .. } => connectivity::Rule::Bernoulli {
            p: (k / available.max(1) as f64).min(1.0),
        },
        Rule::Bernoulli { .. } => unreachable!("validated"),
        Rule::FixedInDegree { k } => connectivity::Rule::FixedInDegree { k: *k },
        Rule::FixedOutDegree { k } => connectivity::Rule::FixedOutDegree { k: *k },
        Rule::OneToOne => connectivity::Rule::OneToOne,
        Rule::Explicit { .. } => unreachable!(),
    };
    let profile = match &proj.profile {
        Profile::Uniform => connectivity::Profile::Uniform,
        Profile::Cosine { kappa, phase } => connectivity::Profile::Cosine {
            kappa: *kappa,
            phase: phase.radians(),
        },
        Profile::CosineWeak { kappa } => connectivity::Profile::Cosine {
            kappa: kappa / k.sqrt(),
            phase: 0.0,
        },
        Profile::VonMises { kappa } => connectivity::Profile::VonMises { kappa: *kappa },
        Profile::Gaussian => connectivity::Profile::Gaussian,
        Profile::LowRank(_) => {
            return Err(err(
                at("profile"),
                "low-rank profiles are not available for spiking projections yet; use uniform, \
                 cosine, cosine_weak, von_mises or gaussian",
            ));
        }
    };
    let block = BlockSpec {
        n_post,
        n_pre,
        rule: rule.clone(),
        profile: profile.clone(),
        weight: 1.0,
        autapses: proj.autapses || !self_projection,
        seed: spec.seed,
        stream: stream_id(&format!("projection {name}"), 0),
    };
    if matches!(rule, connectivity::Rule::AllToAll)
        && !matches!(profile, connectivity::Profile::Uniform)
    {
        let dense = connectivity::dense_weights(&block, pool)
            .map_err(|e| err(at("rule"), e.to_string()))?;
        let mut row_ptr = vec![0u64];
        let mut pre = Vec::new();
        let mut weights = Vec::new();
        for i in 0..n_post {
            for j in 0..n_pre {
                let w = dense[i * n_pre + j];
                if w != 0.0 {
                    pre.push(j as u32);
                    weights.push(w);
                }
            }
            row_ptr.push(pre.len() as u64);
        }
        return Ok((row_ptr, pre, Some(weights)));
    }
    let sampled =
        connectivity::sample_sparse(&block, pool).map_err(|e| err(at("rule"), e.to_string()))?;
    let weights = match sampled.weights {
        EdgeWeights::Homogeneous(1.0) => None,
        EdgeWeights::Homogeneous(w) => Some(vec![w; sampled.pre.len()]),
        EdgeWeights::PerEdge(w) => Some(w),
    };
    Ok((sampled.row_ptr, sampled.pre, weights))
}

/// The mean in-degree `K` of a sparse rule.
fn mean_in_degree(rule: &Rule, n_pre: usize, n_post: usize) -> f64 {
    match rule {
        Rule::Bernoulli { k: Some(k), .. } => *k,
        Rule::Bernoulli { p: Some(p), .. } => p * n_pre as f64,
        Rule::FixedInDegree { k } => *k as f64,
        Rule::FixedOutDegree { k } => *k as f64 * n_post as f64 / n_pre as f64,
        _ => 1.0,
    }
}

/// A projection's excitatory and inhibitory parts, each with its longest delay in steps.
#[allow(clippy::too_many_arguments)]
fn spiking_projection<T: Real>(
    spec: &NetworkSpec,
    lane_specs: &[NetworkSpec],
    name: &str,
    proj: &ProjectionSpec,
    pre: usize,
    post: usize,
    pool: &rayon::ThreadPool,
    base_dir: Option<&Path>,
) -> Result<Vec<(SpikingProjection<T>, u32)>, SpecErrors> {
    let at = |key: &str| format!("projections.{name}.{key}");
    let dt = spec.dt.ms();
    let n_pre = spec.populations[&proj.pre].size;
    let n_post = spec.populations[&proj.post].size;
    let conductance = synapse_kind(&spec.populations[&proj.post]) == SynapseKind::ConductanceExp;
    let scaling = proj.scaling.unwrap_or(Scaling::Raw);
    let k = mean_in_degree(&proj.rule, n_pre, n_post);
    let sparse = matches!(
        proj.rule,
        Rule::Bernoulli { .. } | Rule::FixedInDegree { .. } | Rule::FixedOutDegree { .. }
    );
    let factor = match scaling {
        Scaling::Raw => 1.0,
        Scaling::SqrtK if sparse => 1.0 / k.sqrt(),
        Scaling::K if sparse => 1.0 / k,
        Scaling::SqrtK | Scaling::K => 1.0,
        Scaling::N => 1.0 / n_pre as f64,
        Scaling::SqrtN => 1.0 / (n_pre as f64).sqrt(),
    };
    let scales: Vec<f64> = lane_specs
        .iter()
        .map(|s| s.projections[name].weight * factor)
        .collect();
    let negative = scales.iter().any(|s| *s < 0.0);
    if negative && scales.iter().any(|s| *s > 0.0) {
        return Err(err(
            at("weight"),
            "weights of one sign in every lane (the sign chooses the excitatory or inhibitory synapse)",
        ));
    }
    let (row_ptr, pres, weights) = sample_edges(spec, name, proj, n_pre, n_post, pool, base_dir)?;
    // Delays in steps.
    let min_delay = proj.delay.map_or(1, |d| steps_of(d.ms(), dt).max(1)) as u32;
    let max_delay = proj
        .delay_max
        .map_or(min_delay, |d| steps_of(d.ms(), dt) as u32)
        .max(min_delay);
    if max_delay > u16::MAX as u32 {
        return Err(err(
            at(if proj.delay_max.is_some() {
                "delay_max"
            } else {
                "delay"
            }),
            format!(
                "a delay of at most {} steps ({} ms)",
                u16::MAX,
                u16::MAX as f64 * dt
            ),
        ));
    }
    let heterogeneous = max_delay > min_delay;
    let delays: Vec<u16> = if heterogeneous {
        let stream = stream_id(&format!("delays {name}"), 0);
        let span = max_delay - min_delay + 1;
        let mut delays = Vec::with_capacity(pres.len());
        for i in 0..n_post {
            let mut rng = CounterRng::new(spec.seed, stream, i as u64);
            for _ in row_ptr[i]..row_ptr[i + 1] {
                delays.push((min_delay + rng.next_below(span)) as u16);
            }
        }
        delays
    } else {
        Vec::new()
    };
    // Split by sign: an edge is inhibitory when its weight times the scale is negative.
    let mut parts = Vec::new();
    for inhibitory in [false, true] {
        let keep = |e: usize| {
            let w = weights.as_ref().map_or(1.0, |w| w[e]);
            if w == 0.0 {
                return false;
            }
            ((w < 0.0) != negative) == inhibitory
        };
        let blocks_count = n_post.div_ceil(TARGET_BLOCK);
        let mut blocks = Vec::with_capacity(blocks_count);
        let mut synapses = 0u64;
        for b in 0..blocks_count {
            let rows = b * TARGET_BLOCK..((b + 1) * TARGET_BLOCK).min(n_post);
            let mut counts = vec![0u32; n_pre + 1];
            for i in rows.clone() {
                for e in row_ptr[i] as usize..row_ptr[i + 1] as usize {
                    if keep(e) {
                        counts[pres[e] as usize + 1] += 1;
                    }
                }
            }
            for j in 0..n_pre {
                counts[j + 1] += counts[j];
            }
            let total = counts[n_pre] as usize;
            let mut fill = counts.clone();
            let mut targets = vec![0u16; total];
            let mut block_weights = if weights.is_some() {
                vec![T::ZERO; total]
            } else {
                Vec::new()
            };
            let mut block_delays = if heterogeneous {
                vec![0u16; total]
            } else {
                Vec::new()
            };
            for i in rows.clone() {
                for e in row_ptr[i] as usize..row_ptr[i + 1] as usize {
                    if !keep(e) {
                        continue;
                    }
                    let slot = &mut fill[pres[e] as usize];
                    let s = *slot as usize;
                    *slot += 1;
                    targets[s] = (i - rows.start) as u16;
                    if let Some(w) = &weights {
                        block_weights[s] = T::from_f64(if conductance { w[e].abs() } else { w[e] });
                    }
                    if heterogeneous {
                        block_delays[s] = delays[e];
                    }
                }
            }
            synapses += total as u64;
            blocks.push(TargetBlock {
                offsets: counts,
                targets,
                weights: block_weights,
                delays: block_delays,
            });
        }
        if synapses == 0 {
            continue;
        }
        parts.push((
            SpikingProjection {
                name: if inhibitory && !negative || !inhibitory && negative {
                    format!("{name} (sign-split)")
                } else {
                    name.to_string()
                },
                pre,
                post,
                inhibitory,
                scale: scales
                    .iter()
                    .map(|&s| T::from_f64(if conductance { s.abs() } else { s }))
                    .collect(),
                delay: min_delay,
                blocks,
                synapses,
                plastic: None,
            },
            max_delay,
        ));
    }
    Ok(parts)
}

/// Draw or set the initial state of a population (and clear its rings).
pub(crate) fn initial_state<T: Real>(
    population: &mut SpikingPopulation<T>,
    lanes: usize,
    lane_offset: u64,
    seed: u64,
    base_dir: Option<&Path>,
) -> Result<(), (String, String)> {
    let params = &population.params;
    let state = &mut population.state;
    let size = params.size;
    let name = &params.name;
    state.refractory.iter_mut().for_each(|x| *x = 0);
    for buffer in [
        &mut state.x_exc,
        &mut state.x_inh,
        &mut state.ring_exc,
        &mut state.ring_inh,
        &mut state.external,
        &mut state.density,
        &mut state.trace,
    ] {
        buffer.iter_mut().for_each(|x| *x = T::ZERO);
    }
    if params.source.is_some() {
        // Spike sources have no membrane state.
        for buffer in [
            &mut state.v,
            &mut state.w,
            &mut state.g_exc,
            &mut state.g_inh,
        ] {
            buffer.iter_mut().for_each(|x| *x = T::ZERO);
        }
        return Ok(());
    }
    for (which, key) in ["v", "w", "g_exc", "g_inh"].iter().enumerate() {
        let values = match which {
            0 => &mut state.v,
            1 => &mut state.w,
            2 => &mut state.g_exc,
            _ => &mut state.g_inh,
        };
        let stream = stream_id(&format!("initial {key} {name}"), 0);
        let path = format!("populations.{name}.initial.{key}");
        for l in 0..lanes {
            let neuron = &params.neurons[l];
            let rest = match which {
                0 => neuron.resting().0,
                1 => neuron.resting().1,
                _ => 0.0,
            };
            let setting = &params.initial[l][which];
            let lane = lane_offset + l as u64;
            let draw = |n: usize| CounterRng::new(seed, stream, (lane << 32) | n as u64);
            match setting {
                None => (0..size).for_each(|n| values[n * lanes + l] = T::from_f64(rest)),
                Some(SpikingInitial::Constant(c)) => {
                    (0..size).for_each(|n| values[n * lanes + l] = T::from_f64(*c))
                }
                Some(SpikingInitial::Gaussian { mean, std }) => (0..size).for_each(|n| {
                    values[n * lanes + l] = T::from_f64(mean + std * draw(n).next_normal())
                }),
                Some(SpikingInitial::Uniform { low, high }) => (0..size).for_each(|n| {
                    values[n * lanes + l] = T::from_f64(low + (high - low) * draw(n).next_f64())
                }),
                Some(SpikingInitial::Random) => {
                    let (low, high) = neuron.random_range();
                    (0..size).for_each(|n| {
                        values[n * lanes + l] = T::from_f64(low + (high - low) * draw(n).next_f64())
                    })
                }
                Some(SpikingInitial::File(file)) => {
                    let file_path = resolve_file(base_dir, file);
                    let arrays =
                        read_array_file(&file_path).map_err(|e| (format!("{path}.file"), e))?;
                    let array = &arrays[0].1;
                    match array.shape.as_slice() {
                        [n] if *n == size => (0..size)
                            .for_each(|i| values[i * lanes + l] = T::from_f64(array.values[i])),
                        [b, n] if *n == size && *b == lanes => (0..size).for_each(|i| {
                            values[i * lanes + l] = T::from_f64(array.values[l * size + i])
                        }),
                        shape => {
                            return Err((
                                format!("{path}.file"),
                                format!(
                                    "{} has shape {shape:?}, expected ({size},) or ({lanes}, {size})",
                                    file_path.display()
                                ),
                            ));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
