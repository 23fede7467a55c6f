//! Lowering: a validated [`NetworkSpec`] → plain numbers and buffers, once, before a run.
//!
//! Units are converted to plain floats (time in ms), propagators precomputed per lane,
//! connectivity sampled and turned into the cheapest exact operator, projections onto a
//! population grouped into channels by synaptic time constant, stimuli precomputed, recordings
//! sized. Every error names the key path of the setting at fault, so the caller can point at the
//! line of the model file.

use crate::connectivity::{self, BlockSpec};
use crate::input::{Input, InputKind};
use crate::mixed::RateToSpiking;
use crate::monitor::{Recorder, Schedule};
use crate::operators::{Operator, build_operator, csr_from_edges, dense_operator};
use crate::rate::Propagator;
use crate::real::Real;
use crate::rng::{CounterRng, Philox4x32, stream_id};
use crate::spiking::{SpikingNetwork, lower_spiking};
use neuroxide_model::paths::default_scaling;
use neuroxide_model::*;
use std::path::{Path, PathBuf};

/// A rate population at run time. State vectors are `[neuron][lane]`.
#[derive(Debug)]
pub struct RatePopulation<T: Real> {
    pub name: String,
    pub size: usize,
    pub transfer: Transfer,
    pub threshold: Vec<T>,
    pub gain: Vec<T>,
    /// Rate propagator per lane: `r ← a r + b φ(μ)`.
    pub rate_a: Vec<T>,
    pub rate_b: Vec<T>,
    /// Channels (synaptic currents) onto this population.
    pub channels: Vec<usize>,
    /// Inputs onto this population.
    pub inputs: Vec<usize>,
    pub rate: Vec<T>,
    pub rate_next: Vec<T>,
    /// Σ of the synaptic currents.
    pub current: Vec<T>,
    /// Total input μ = current + external input.
    pub input: Vec<T>,
    /// External input of the current step (non-constant inputs).
    pub external: Vec<T>,
}

/// The synaptic current driven by the projections onto one population that share a time constant.
#[derive(Debug)]
pub struct Channel<T: Real> {
    pub post: usize,
    pub projections: Vec<usize>,
    /// `I ← a I + b h` per lane.
    pub a: Vec<T>,
    pub b: Vec<T>,
    pub state: Vec<T>,
    /// Summed projection output of the current step.
    pub drive: Vec<T>,
}

/// A projection at run time: `h_post += scale[lane] · W r_pre`.
#[derive(Debug)]
pub struct Projection<T: Real> {
    pub name: String,
    /// Index of the presynaptic rate population, or of the spiking one with `pre_spiking`.
    pub pre: usize,
    /// The presynaptic population is spiking: the projection reads its spike density `S/dt`
    /// ([`crate::mixed`]).
    pub pre_spiking: bool,
    pub post: usize,
    pub operator: Operator<T>,
    pub scale: Vec<T>,
}

/// Everything a simulation is built from.
#[derive(Debug)]
pub struct Lowered<T: Real> {
    pub lanes: usize,
    pub dt_ms: f64,
    pub transient_steps: u64,
    pub record_steps: u64,
    pub populations: Vec<RatePopulation<T>>,
    pub channels: Vec<Channel<T>>,
    pub projections: Vec<Projection<T>>,
    pub inputs: Vec<Input<T>>,
    pub recorders: Vec<Recorder<T>>,
    /// Initial values, per population: (rate, current).
    pub initial: Vec<(InitialValue, InitialValue)>,
    /// Per-lane initial settings (lane specs' values), per population.
    pub initial_per_lane: Vec<Vec<(InitialValue, InitialValue)>>,
    /// Swept keys and their per-lane values.
    pub lane_values: Vec<(String, Vec<f64>)>,
    /// Phases (degrees) of stimuli with random phases.
    pub phases: Vec<(String, Vec<f64>)>,
    pub seed: u64,
    /// Index of lane 0 in the random streams (`lane_offset` of the spec).
    pub lane_offset: u64,
    pub base_dir: Option<PathBuf>,
    /// Spiking populations, their projections, Poisson drives and spike monitors
    /// ([`crate::spiking`]). `populations`, `channels` and `projections` above hold the rate part.
    pub spiking: SpikingNetwork<T>,
    /// Rate → spiking couplings ([`crate::mixed`]); spiking → rate ones are in `projections`.
    pub rate_to_spiking: Vec<RateToSpiking<T>>,
    /// Hebbian rules of plastic rate projections ([`crate::plasticity::rate`]).
    pub plastic_rates: Vec<crate::plasticity::RatePlasticity<T>>,
    /// Short-term plasticity of rate projections ([`crate::stp`]).
    pub stp: Vec<crate::stp::RateStp<T>>,
    /// Decodings of recorded frames ([`crate::decode`]).
    pub decoders: Vec<crate::decode::Decoder>,
    /// Rate noise of rate populations ([`crate::stimulus::RateNoise`]).
    pub rate_noise: Vec<crate::stimulus::RateNoise<T>>,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> SpecErrors {
    SpecErrors::one(SpecError::new(path, message))
}

/// Resolve a file path relative to the model's folder.
pub fn resolve_file(base_dir: Option<&Path>, file: &str) -> PathBuf {
    match base_dir {
        Some(dir) if Path::new(file).is_relative() => dir.join(file),
        _ => PathBuf::from(file),
    }
}

/// A numeric array read from `.npy`, as f64 with its shape.
pub struct FileArray {
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

fn read_npy(path: &Path) -> Result<FileArray, String> {
    use ndarray_npy::ReadNpyExt;
    let open =
        || std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()));
    if let Ok(a) = ndarray::ArrayD::<f64>::read_npy(open()?) {
        return Ok(FileArray {
            shape: a.shape().to_vec(),
            values: a.iter().copied().collect(),
        });
    }
    if let Ok(a) = ndarray::ArrayD::<f32>::read_npy(open()?) {
        return Ok(FileArray {
            shape: a.shape().to_vec(),
            values: a.iter().map(|&x| x as f64).collect(),
        });
    }
    ndarray::ArrayD::<f64>::read_npy(open()?)
        .map(|_| unreachable!())
        .map_err(|e| {
            format!(
                "{} is not a float64/float32 .npy array: {e}",
                path.display()
            )
        })
}

fn read_npz(path: &Path) -> Result<Vec<(String, FileArray)>, String> {
    use ndarray_npy::NpzReader;
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut npz = NpzReader::new(file)
        .map_err(|e| format!("{} is not an .npz archive: {e}", path.display()))?;
    let names = npz.names().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for name in names {
        let key = name.trim_end_matches(".npy").to_string();
        let array = if let Ok(a) = npz.by_name::<ndarray::OwnedRepr<f64>, ndarray::IxDyn>(&name) {
            FileArray {
                shape: a.shape().to_vec(),
                values: a.iter().copied().collect(),
            }
        } else if let Ok(a) = npz.by_name::<ndarray::OwnedRepr<f32>, ndarray::IxDyn>(&name) {
            FileArray {
                shape: a.shape().to_vec(),
                values: a.iter().map(|&x| x as f64).collect(),
            }
        } else if let Ok(a) = npz.by_name::<ndarray::OwnedRepr<i64>, ndarray::IxDyn>(&name) {
            FileArray {
                shape: a.shape().to_vec(),
                values: a.iter().map(|&x| x as f64).collect(),
            }
        } else if let Ok(a) = npz.by_name::<ndarray::OwnedRepr<i32>, ndarray::IxDyn>(&name) {
            FileArray {
                shape: a.shape().to_vec(),
                values: a.iter().map(|&x| x as f64).collect(),
            }
        } else {
            return Err(format!(
                "array `{key}` in {} is not float64/float32/int64/int32",
                path.display()
            ));
        };
        out.push((key, array));
    }
    Ok(out)
}

/// Read a matrix or edge-list file for a projection.
pub fn read_array_file(path: &Path) -> Result<Vec<(String, FileArray)>, String> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("npz") => read_npz(path),
        _ => read_npy(path).map(|a| vec![(String::new(), a)]),
    }
}

fn steps_of(time_ms: f64, dt_ms: f64) -> u64 {
    (time_ms / dt_ms).round().max(0.0) as u64
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

/// Cholesky factor of a small symmetric positive-definite matrix.
fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d <= 0.0 {
                    return None;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    Some(l)
}

/// The vectors `m_k` (over post neurons) and `n_k` (over pre neurons) of a low-rank profile.
pub(crate) type LowRankPair = (Vec<Vec<f64>>, Vec<Vec<f64>>);

/// Low-rank vectors (m over post, n over pre) of a projection.
pub(crate) fn low_rank_vectors(
    lr: &LowRankSpec,
    n_post: usize,
    n_pre: usize,
    seed: u64,
    name: &str,
    base_dir: Option<&Path>,
) -> Result<LowRankPair, SpecErrors> {
    let at = format!("projections.{name}.profile.low_rank.vectors");
    let rank = lr.rank;
    match &lr.vectors {
        LowRankVectors::Gaussian { mean, covariance } => {
            let dim = 2 * rank;
            let mean = mean.clone().unwrap_or_else(|| vec![0.0; dim]);
            let cov = covariance.clone().unwrap_or_else(|| {
                (0..dim)
                    .map(|i| (0..dim).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
                    .collect()
            });
            let l = cholesky(&cov).ok_or_else(|| {
                err(
                    format!("{at}.gaussian.covariance"),
                    "the covariance is not symmetric positive definite",
                )
            })?;
            let stream = stream_id(&format!("low-rank vectors {name}"), 0);
            let mut m = vec![vec![0.0; n_post]; rank];
            let mut n = vec![vec![0.0; n_pre]; rank];
            for i in 0..n_post.max(n_pre) {
                let mut rng = CounterRng::new(seed, stream, i as u64);
                let z: Vec<f64> = (0..dim).map(|_| rng.next_normal()).collect();
                let x: Vec<f64> = (0..dim)
                    .map(|r| mean[r] + (0..=r).map(|c| l[r][c] * z[c]).sum::<f64>())
                    .collect();
                for k in 0..rank {
                    if i < n_post {
                        m[k][i] = x[2 * k];
                    }
                    if i < n_pre {
                        n[k][i] = x[2 * k + 1];
                    }
                }
            }
            Ok((m, n))
        }
        LowRankVectors::File(file) => {
            let path = resolve_file(base_dir, file);
            let arrays = read_array_file(&path).map_err(|e| err(format!("{at}.file"), e))?;
            let get = |key: &str, rows: usize| -> Result<Vec<Vec<f64>>, SpecErrors> {
                let (_, a) = arrays.iter().find(|(k, _)| k == key).ok_or_else(|| {
                    err(
                        format!("{at}.file"),
                        format!(
                            "{} has no array `{key}` (expected `m` and `n`)",
                            path.display()
                        ),
                    )
                })?;
                if a.shape != [rows, rank] {
                    return Err(err(
                        format!("{at}.file"),
                        format!(
                            "array `{key}` in {} has shape {:?}, expected ({rows}, {rank})",
                            path.display(),
                            a.shape
                        ),
                    ));
                }
                Ok((0..rank)
                    .map(|k| (0..rows).map(|i| a.values[i * rank + k]).collect())
                    .collect())
            };
            Ok((get("m", n_post)?, get("n", n_pre)?))
        }
    }
}

/// Lower `spec` (validated, not yet lane-expanded) into runtime structures.
pub fn lower<T: Real>(
    spec: &NetworkSpec,
    base_dir: Option<&Path>,
    pool: &rayon::ThreadPool,
) -> Result<Lowered<T>, SpecErrors> {
    let lane_specs = paths::lane_specs(spec)?;
    let lanes = lane_specs.len();
    let dt = spec.dt.ms();
    let per_lane = |f: &dyn Fn(&NetworkSpec) -> f64| -> Vec<T> {
        lane_specs.iter().map(|s| T::from_f64(f(s))).collect()
    };

    // Rate populations are numbered among themselves, spiking ones too.
    let mut rate_index = vec![None; spec.populations.len()];
    let mut spiking_index = vec![None; spec.populations.len()];
    for (p, pop) in spec.populations.values().enumerate() {
        if pop.model.is_spiking() {
            spiking_index[p] = Some(spiking_index.iter().flatten().count());
        } else {
            rate_index[p] = Some(rate_index.iter().flatten().count());
        }
    }

    // Populations.
    let mut populations = Vec::new();
    for (name, pop) in &spec.populations {
        if pop.model.is_spiking() {
            continue;
        }
        let props: Vec<Propagator> = lane_specs
            .iter()
            .map(|s| Propagator::new(spec.method, dt, s.populations[name].tau.map(Time::ms)))
            .collect();
        let n = pop.size * lanes;
        populations.push(RatePopulation {
            name: name.clone(),
            size: pop.size,
            transfer: pop.transfer,
            threshold: per_lane(&|s| s.populations[name].threshold),
            gain: per_lane(&|s| s.populations[name].gain),
            rate_a: props.iter().map(|p| T::from_f64(p.a)).collect(),
            rate_b: props.iter().map(|p| T::from_f64(p.b)).collect(),
            channels: Vec::new(),
            inputs: Vec::new(),
            rate: vec![T::ZERO; n],
            rate_next: vec![T::ZERO; n],
            current: vec![T::ZERO; n],
            input: vec![T::ZERO; n],
            external: vec![T::ZERO; n],
        });
    }

    // Projections and their operators.
    let mut projections = Vec::new();
    let mut rate_to_spiking = Vec::new();
    let mut channel_keys: Vec<(usize, Vec<Option<u64>>)> = Vec::new();
    let mut channels: Vec<Channel<T>> = Vec::new();
    let mut rate_stp = Vec::new();
    for (name, proj) in &spec.projections {
        let at = |key: &str| format!("projections.{name}.{key}");
        let pre = spec.populations.get_index_of(&proj.pre).expect("validated");
        let post = spec
            .populations
            .get_index_of(&proj.post)
            .expect("validated");
        // Spiking → spiking projections are lowered with the spiking populations; couplings
        // between a rate and a spiking population here, through the same operators
        // ([`crate::mixed`]).
        let (pre_rate, post_rate) = (rate_index[pre], rate_index[post]);
        if pre_rate.is_none() && post_rate.is_none() {
            continue;
        }
        let (n_pre, n_post) = (spec.populations[pre].size, spec.populations[post].size);
        let scaling = proj.scaling.unwrap_or_else(|| default_scaling(&proj.rule));
        let k = mean_in_degree(&proj.rule, n_pre, n_post);
        let factor = match scaling {
            Scaling::Raw => 1.0,
            Scaling::SqrtK => 1.0 / k.sqrt(),
            Scaling::K => 1.0 / k,
            Scaling::N => 1.0 / n_pre as f64,
            Scaling::SqrtN => 1.0 / (n_pre as f64).sqrt(),
        };
        let self_projection = proj.pre == proj.post;
        let available = if self_projection && !proj.autapses {
            n_pre - 1
        } else {
            n_pre
        };
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
            Rule::Explicit { .. } => connectivity::Rule::AllToAll,
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
            Profile::LowRank(lr) => {
                let (m, n) = low_rank_vectors(lr, n_post, n_pre, spec.seed, name, base_dir)?;
                connectivity::Profile::LowRank {
                    base: lr.base,
                    kappa: lr.kappa,
                    m,
                    n,
                }
            }
            Profile::Gaussian => connectivity::Profile::Gaussian,
        };
        let operator: Operator<T> = if let Rule::Explicit { file } = &proj.rule {
            explicit_operator(
                &resolve_file(base_dir, file),
                n_post,
                n_pre,
                &at("rule.explicit.file"),
            )?
        } else {
            let block = BlockSpec {
                n_post,
                n_pre,
                rule,
                profile,
                weight: 1.0,
                autapses: proj.autapses || !self_projection,
                seed: spec.seed,
                stream: stream_id(&format!("projection {name}"), 0),
            };
            build_operator(&block, pool).map_err(|e| err(at("rule"), e.to_string()))?
        };
        let scale = per_lane(&|s| s.projections[name].weight * factor);
        let Some(post_rate) = post_rate else {
            rate_to_spiking.push(RateToSpiking {
                name: name.clone(),
                pre: pre_rate.expect("a rate population on one side"),
                post: spiking_index[post].expect("a spiking post population"),
                operator,
                scale,
            });
            continue;
        };
        // Channel: the post population and the per-lane synaptic time constant.
        let taus: Vec<Option<u64>> = lane_specs
            .iter()
            .map(|s| {
                let p = &s.projections[name];
                p.tau_syn
                    .or(s.populations[post].tau_syn)
                    .map(|t| t.ms().to_bits())
            })
            .collect();
        let key = (post_rate, taus.clone());
        let channel = match channel_keys.iter().position(|k| *k == key) {
            Some(c) => c,
            None => {
                channel_keys.push(key);
                let props: Vec<Propagator> = taus
                    .iter()
                    .map(|t| Propagator::new(spec.method, dt, t.map(f64::from_bits)))
                    .collect();
                let n = n_post * lanes;
                channels.push(Channel {
                    post: post_rate,
                    projections: Vec::new(),
                    a: props.iter().map(|p| T::from_f64(p.a)).collect(),
                    b: props.iter().map(|p| T::from_f64(p.b)).collect(),
                    state: vec![T::ZERO; n],
                    drive: vec![T::ZERO; n],
                });
                populations[post_rate].channels.push(channels.len() - 1);
                channels.len() - 1
            }
        };
        channels[channel].projections.push(projections.len());
        // Validation refuses STP on spiking -> rate couplings.
        if let (Some(_), Some(pre_rate)) = (&proj.stp, pre_rate) {
            let stp =
                crate::stp::RateStp::new(name, &lane_specs, dt, projections.len(), pre_rate, n_pre);
            rate_stp.push(stp);
        }
        projections.push(Projection {
            name: name.clone(),
            pre: pre_rate.unwrap_or_else(|| spiking_index[pre].expect("spiking")),
            pre_spiking: pre_rate.is_none(),
            post: post_rate,
            operator,
            scale,
        });
    }

    let transient_steps = steps_of(spec.transient.ms(), dt);
    let record_steps = steps_of(spec.duration.ms(), dt);
    let total_steps = transient_steps + record_steps;

    // Inputs.
    let mut inputs = Vec::new();
    let mut phases = Vec::new();
    let mut spiking_inputs = Vec::new();
    for (name, input) in &spec.inputs {
        let at = |key: &str| format!("inputs.{name}.{key}");
        let target = spec
            .populations
            .get_index_of(&input.target)
            .expect("validated");
        if input.poisson.is_some() || input.encoder.is_some() {
            continue; // lowered with the spiking populations
        }
        let size = spec.populations[target].size;
        let mut first_step = input
            .start
            .map_or(0, |t| steps_of(t.ms() + spec.transient.ms(), dt));
        let mut last_step = input
            .stop
            .map_or(u64::MAX, |t| steps_of(t.ms() + spec.transient.ms(), dt));
        if let Some(step) = &input.two_way_step {
            // Validated: no start/stop besides on/off.
            first_step = steps_of(step.on.ms() + spec.transient.ms(), dt);
            last_step = steps_of(step.off.ms() + spec.transient.ms(), dt);
        }
        let lane_input = |s: &NetworkSpec| s.inputs[name].clone();
        let kind = if input.constant.is_some() {
            InputKind::Constant(per_lane(&|s| lane_input(s).constant.unwrap()))
        } else if input.two_way_step.is_some() {
            InputKind::Constant(per_lane(&|s| lane_input(s).two_way_step.unwrap().amplitude))
        } else if let Some(random) = &input.random_step {
            let end = last_step.min(total_steps);
            let width = steps_of(random.width.ms(), dt).max(1);
            if first_step + width > end {
                return Err(err(
                    at("random_step.width"),
                    format!(
                        "a pulse width of {} fits in no window of {} steps (the input's active range at dt = {})",
                        random.width,
                        end.saturating_sub(first_step),
                        spec.dt
                    ),
                ));
            }
            // cnsproject: onsets drawn among the steps that leave room for a whole pulse, sorted
            // and deduplicated, each pulse with an amplitude uniform in [0, amplitude), later
            // pulses overwriting earlier ones.
            let span = (end - width - first_step + 1).min(u32::MAX as u64) as u32;
            let steps = (end - first_step) as usize;
            let stream = stream_id(&format!("random step {name}"), 0);
            let mut values = vec![T::ZERO; lanes * steps];
            for (l, lane_spec) in lane_specs.iter().enumerate() {
                let r = lane_input(lane_spec).random_step.unwrap();
                let mut rng = CounterRng::new(spec.seed, stream, l as u64);
                let mut onsets: Vec<u32> = (0..r.pulses).map(|_| rng.next_below(span)).collect();
                onsets.sort_unstable();
                onsets.dedup();
                for onset in onsets {
                    let amplitude = T::from_f64(r.amplitude * rng.next_f64());
                    let onset = onset as usize;
                    values[l * steps + onset..l * steps + onset + width as usize].fill(amplitude);
                }
            }
            InputKind::PerStep {
                values,
                first: first_step,
                steps,
            }
        } else if input.balanced.is_some() {
            InputKind::Constant(per_lane(&|s| {
                let b = lane_input(s).balanced.unwrap();
                b.k.sqrt() * b.m0 * b.j0
            }))
        } else if let Some(noise) = &input.noise {
            let scale = if noise.per_step { 1.0 } else { 1.0 / dt.sqrt() };
            InputKind::Noise {
                mean: per_lane(&|s| lane_input(s).noise.unwrap().mean),
                std: per_lane(&|s| lane_input(s).noise.unwrap().std * scale),
                key: Philox4x32::new(spec.seed, stream_id(&format!("noise {name}"), 0)),
                lane_offset: spec.lane_offset,
            }
        } else if let Some(sine) = &input.sine {
            InputKind::Sine {
                amplitude: per_lane(&|s| lane_input(s).sine.unwrap().amplitude),
                offset: per_lane(&|s| lane_input(s).sine.unwrap().offset),
                omega: std::f64::consts::TAU * sine.frequency.value() * dt * 1e-3,
                phase: sine.phase.radians(),
            }
        } else if let Some(stimulus) = &input.stimulus {
            let lane_phases: Vec<f64> = if stimulus.random_phase {
                let stream = stream_id(&format!("stimulus phase {name}"), 0);
                (0..lanes)
                    .map(|l| {
                        let lane = spec.lane_offset + l as u64;
                        360.0 * CounterRng::new(spec.seed, stream, lane).next_f64()
                    })
                    .collect()
            } else {
                lane_specs
                    .iter()
                    .map(|s| lane_input(s).stimulus.unwrap().phase.value())
                    .collect()
            };
            if stimulus.random_phase {
                phases.push((format!("{name}.phase"), lane_phases.clone()));
            }
            let vector =
                crate::stimulus::vector_shape(spec, name, &stimulus.shape, size, base_dir)?;
            let mut pattern = vec![T::ZERO; size * lanes];
            for (l, lane_spec) in lane_specs.iter().enumerate() {
                let amplitude = lane_input(lane_spec).stimulus.unwrap().amplitude;
                let phase = lane_phases[l].to_radians();
                for i in 0..size {
                    let delta = connectivity::angle(i, size) - phase;
                    let shape = match &stimulus.shape {
                        StimulusShape::Uniform => 1.0,
                        StimulusShape::Cos => delta.cos(),
                        StimulusShape::Cosine { sigma } => {
                            (1.0 + sigma * delta.cos()).max(0.0) / (1.0 + sigma)
                        }
                        StimulusShape::Gaussian { width } => {
                            let wrapped = (delta + std::f64::consts::PI)
                                .rem_euclid(std::f64::consts::TAU)
                                - std::f64::consts::PI;
                            (-0.5 * (wrapped / width.radians()).powi(2)).exp()
                        }
                        StimulusShape::Vector(_) => vector.as_ref().expect("a vector")[i],
                    };
                    pattern[i * lanes + l] = T::from_f64(amplitude * shape);
                }
            }
            InputKind::Pattern(pattern)
        } else if let Some(file) = &input.file {
            let path = resolve_file(base_dir, file);
            let array = read_npy(&path).map_err(|e| err(at("file"), e))?;
            let (lanes_in_file, steps) = match array.shape.as_slice() {
                [s, n] if *n == size => (1, *s),
                [b, s, n] if *n == size && (*b == lanes || *b == 1) => (*b, *s),
                shape => {
                    return Err(err(
                        at("file"),
                        format!(
                            "{} has shape {shape:?}, expected (steps, {size}) or ({lanes}, steps, {size}) \
                             (lanes, integration steps, neurons of `{}`)",
                            path.display(),
                            input.target
                        ),
                    ));
                }
            };
            if (steps as u64) < total_steps.min(last_step) - first_step.min(total_steps) {
                return Err(err(
                    at("file"),
                    format!(
                        "{} has {steps} steps but the run needs {} (transient + duration at dt = {})",
                        path.display(),
                        total_steps,
                        spec.dt
                    ),
                ));
            }
            InputKind::Series {
                values: array.values.into_iter().map(T::from_f64).collect(),
                lanes_in_file,
                steps,
            }
        } else {
            unreachable!("validated: one input kind");
        };
        let population = match (rate_index[target], spiking_index[target]) {
            (Some(r), _) => {
                populations[r].inputs.push(inputs.len());
                r
            }
            (None, Some(s)) => {
                spiking_inputs.push((s, inputs.len()));
                s
            }
            (None, None) => unreachable!(),
        };
        inputs.push(Input {
            name: name.clone(),
            population,
            first_step,
            last_step: if input.file.is_some() {
                last_step.min(
                    first_step
                        + match &kind {
                            InputKind::Series { steps, .. } => *steps as u64,
                            _ => u64::MAX,
                        },
                )
            } else {
                last_step
            },
            kind,
        });
        if let Some(delay) = &input.random_delay {
            let input = inputs.last_mut().expect("just pushed");
            let delays = crate::stimulus::delay_input(input, spec, delay, lanes);
            phases.push((format!("{name}.delay"), delays));
        }
    }

    // Monitors; without any, the population mean rates at every step.
    let default_monitors: Vec<MonitorSpec>;
    let monitors = if spec.monitors.is_empty() {
        default_monitors = spec
            .populations
            .iter()
            .map(|(name, pop)| MonitorSpec {
                population: name.clone(),
                variable: Variable::Rate,
                // Spiking populations: the population rate in 1 ms bins (every step if dt does
                // not divide 1 ms).
                window: (pop.model.is_spiking()
                    && ((1.0 / dt) - (1.0 / dt).round()).abs() < 1e-9
                    && dt <= 1.0)
                    .then(|| Time::new(1.0)),
                every: None,
                projection: None,
                decode: None,
                neurons: NeuronSelection::None,
                mean: true,
                start: None,
                stop: None,
            })
            .collect();
        &default_monitors
    } else {
        &spec.monitors
    };
    let mut recorders = Vec::new();
    for (i, monitor) in monitors.iter().enumerate() {
        if matches!(monitor.variable, Variable::Spikes | Variable::MeanRate) {
            continue; // spike monitors and summaries of the spiking part
        }
        let spec_index = spec
            .populations
            .get_index_of(&monitor.population)
            .expect("validated");
        let size = spec.populations[spec_index].size;
        let spiking = spec.populations[spec_index].model.is_spiking();
        let population = if spiking {
            spiking_index[spec_index].expect("spiking")
        } else {
            rate_index[spec_index].expect("rate")
        };
        if monitor.variable == Variable::W
            && !matches!(
                spec.populations[spec_index].model,
                NeuronModel::Adex | NeuronModel::Izhikevich
            )
        {
            return Err(err(
                format!("monitors.{i}.variable"),
                format!(
                    "`w` exists in adex and izhikevich populations only; `{}` is `{}`",
                    monitor.population,
                    crate::neurons::model_name(spec.populations[spec_index].model)
                ),
            ));
        }
        let schedule = match (monitor.window, monitor.every) {
            (Some(w), _) => Schedule::Window(steps_of(w.ms(), dt) as usize),
            (None, Some(e)) => Schedule::Every(steps_of(e.ms(), dt) as usize),
            (None, None) => Schedule::Every(1),
        };
        let start = monitor.start.map_or(0, |t| steps_of(t.ms(), dt)) as usize;
        let stop = monitor.stop.map_or(record_steps, |t| steps_of(t.ms(), dt)) as usize;
        let neurons = match &monitor.neurons {
            NeuronSelection::All => (0..size).collect(),
            NeuronSelection::None => Vec::new(),
            NeuronSelection::List(list) => list.clone(),
            NeuronSelection::Range(a, b) => (*a..*b).collect(),
        };
        let mut recorder = Recorder::new(
            population,
            monitor.population.clone(),
            monitor.variable,
            schedule,
            start,
            stop.max(start),
            neurons,
            monitor.mean,
            lanes,
            size,
            dt * 1e-3,
        );
        recorder.spiking = spiking;
        if matches!(monitor.variable, Variable::StpU | Variable::StpX) {
            let (index, name) = crate::stp::monitor_target(spec, monitor);
            recorder.stp = Some(index);
            recorder.population_name = name;
        }
        recorders.push(recorder);
    }
    let mut spiking = lower_spiking::<T>(
        spec,
        &lane_specs,
        base_dir,
        pool,
        &spiking_index,
        &spiking_inputs,
        record_steps,
    )?;
    for coupling in &rate_to_spiking {
        let population = &mut spiking.populations[coupling.post];
        population.state.coupled = vec![T::ZERO; population.params.size * lanes];
    }
    spiking.stp = crate::stp::lower_spiking_stp(spec, &lane_specs, &spiking, &spiking_index);
    let decoders = crate::decode::decoders(spec, base_dir)?;

    let lane_values = spec
        .sweep
        .iter()
        .map(|(key, values)| {
            let values = paths::sweep_values(key, values, lanes).expect("validated");
            (key.clone(), values)
        })
        .collect();
    let initial = spec
        .populations
        .values()
        .filter(|p| !p.model.is_spiking())
        .map(|p| (p.initial.rate.clone(), p.initial.current.clone()))
        .collect();
    let initial_per_lane = spec
        .populations
        .iter()
        .filter(|(_, p)| !p.model.is_spiking())
        .map(|(name, _)| {
            lane_specs
                .iter()
                .map(|s| {
                    let p = &s.populations[name];
                    (p.initial.rate.clone(), p.initial.current.clone())
                })
                .collect()
        })
        .collect();

    let plastic_rates = crate::plasticity::rate::lower(spec, &projections, dt);
    Ok(Lowered {
        lanes,
        dt_ms: dt,
        transient_steps,
        record_steps,
        populations,
        channels,
        projections,
        inputs,
        recorders,
        initial,
        initial_per_lane,
        lane_values,
        phases,
        seed: spec.seed,
        lane_offset: spec.lane_offset,
        base_dir: base_dir.map(Path::to_path_buf),
        spiking,
        rate_to_spiking,
        plastic_rates,
        stp: rate_stp,
        decoders,
        rate_noise: crate::stimulus::rate_noise(spec, &lane_specs),
    })
}

/// An operator from an explicit file: a dense `.npy` matrix or an `.npz` edge list.
fn explicit_operator<T: Real>(
    path: &Path,
    n_post: usize,
    n_pre: usize,
    at: &str,
) -> Result<Operator<T>, SpecErrors> {
    let arrays = read_array_file(path).map_err(|e| err(at, e))?;
    if let [(key, matrix)] = arrays.as_slice()
        && key.is_empty()
    {
        if matrix.shape != [n_post, n_pre] {
            return Err(err(
                at,
                format!(
                    "{} has shape {:?}, expected ({n_post}, {n_pre}) (postsynaptic × presynaptic neurons)",
                    path.display(),
                    matrix.shape
                ),
            ));
        }
        return Ok(dense_operator(n_post, n_pre, matrix.values.clone()));
    }
    let get = |name: &str| arrays.iter().find(|(k, _)| k == name).map(|(_, a)| a);
    let (Some(post), Some(pre)) = (get("post"), get("pre")) else {
        return Err(err(
            at,
            format!(
                "{} must hold integer arrays `post` and `pre` (and optionally `weight`)",
                path.display()
            ),
        ));
    };
    let weight = get("weight");
    let n = post.values.len();
    if pre.values.len() != n || weight.is_some_and(|w| w.values.len() != n) {
        return Err(err(
            at,
            format!(
                "`post`, `pre` and `weight` in {} differ in length",
                path.display()
            ),
        ));
    }
    let to_index = |values: &[f64], bound: usize, what: &str| -> Result<Vec<u32>, SpecErrors> {
        values
            .iter()
            .map(|&v| {
                if v >= 0.0 && v.fract() == 0.0 && (v as usize) < bound {
                    Ok(v as u32)
                } else {
                    Err(err(
                        at,
                        format!(
                            "{what} index {v} in {} is outside [0, {bound})",
                            path.display()
                        ),
                    ))
                }
            })
            .collect()
    };
    let post = to_index(&post.values, n_post, "post")?;
    let pre = to_index(&pre.values, n_pre, "pre")?;
    Ok(csr_from_edges(
        n_post,
        n_pre,
        &post,
        &pre,
        weight.map(|w| w.values.as_slice()),
    ))
}
