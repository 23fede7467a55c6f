//! A built network: `build` once, then `run`, `reset`, and run again.
//!
//! One step (see [`crate::rate`] for the equations):
//! 1. every projection adds `scale · W r_pre` to its channel's drive (rates at the start of the step);
//! 2. every channel relaxes its current towards its drive;
//! 3. every population sums its currents and external inputs into `μ` and relaxes its rates
//!    towards `φ(μ)`, writing the new rates into a second buffer; the buffers are then swapped;
//! 4. monitors observe the new state (after the transient).
//!
//! All parallel work is split into blocks of neurons whose boundaries do not depend on the thread
//! count and no reduction crosses blocks, so results are bitwise identical for any thread count.

mod checkpoint;

use crate::lower::{Lowered, lower, read_array_file, resolve_file};
use crate::monitor::{FrameSink, Sink};
use crate::rate::transfer;
use crate::rate_step::RateStep;
use crate::real::Real;
use crate::results::{ArrayData, NamedArray, Results, RunSummary};
use crate::rng::{CounterRng, stream_id};
use neuroxide_model::{
    InitialValue, NetworkSpec, Precision, SpecError, SpecErrors, Variable, paths,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of a build that are not part of the model.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Worker threads (overrides the model's `threads`); absent: the model's, then
    /// `RAYON_NUM_THREADS`, then all cores.
    pub threads: Option<usize>,
    /// Folder relative file paths in the model are resolved against.
    pub base_dir: Option<PathBuf>,
}

/// A per-neuron recording of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    /// `<population>.<variable>`, its name in the results.
    pub name: String,
    /// (lanes, frames, neurons).
    pub shape: [usize; 3],
    /// float32 (f32 runs) or float64.
    pub f32: bool,
    /// Bytes of the whole recording.
    pub bytes: u64,
    /// Frames recorded so far in the current run.
    pub recorded: usize,
}

/// Why a run stopped before its end (a divergence, or an interruption by the caller).
#[derive(Clone, Debug)]
pub struct Diverged {
    /// What diverged, where and when.
    pub message: String,
    /// Everything recorded up to the step before.
    pub results: Box<Results>,
}

impl std::fmt::Display for Diverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diverged {}

/// The thread count: explicit, then the model's, then `RAYON_NUM_THREADS`, then all cores.
pub fn thread_count(explicit: Option<usize>, spec: &NetworkSpec) -> usize {
    explicit
        .or(spec.threads)
        .or_else(|| {
            std::env::var("RAYON_NUM_THREADS")
                .ok()
                .and_then(|v| v.parse().ok())
        })
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A network ready to run in precision `T`.
///
/// [`Simulation::build`] lowers a validated spec once (connectivity sampled, operators chosen,
/// initial state drawn); [`Simulation::run`] runs the transient and the duration from the current
/// state and returns the recordings; [`Simulation::reset`] restores the initial state, keeping the
/// connectivity, so a second run repeats the first:
///
/// ```
/// use neuroxide::{BuildOptions, Simulation};
/// use neuroxide_model::ModelFile;
///
/// let yaml = "dt: 0.1 ms\nduration: 20 ms\nseed: 3\npopulations:\n  E: {size: 100, tau: 10 ms}\n\
///             projections:\n  EE: {pre: E, post: E, rule: {bernoulli: {k: 10}}, weight: 0.5}\n\
///             inputs:\n  drive: {target: E, constant: 1.0}\n\
///             monitors:\n  - {population: E, variable: rate, window: 1 ms}\n";
/// let model = ModelFile::from_yaml(yaml, None, &[]).unwrap();
/// let mut simulation = Simulation::<f64>::build(&model.spec, &BuildOptions::default()).unwrap();
/// println!("{}", simulation.describe_operators().join("\n"));
/// let first = simulation.run().unwrap();
/// let rates = first.get("E.rate").unwrap();
/// assert_eq!(rates.shape, [1, 20, 100]); // (lanes, frames, neurons)
/// simulation.reset().unwrap();
/// let again = simulation.run().unwrap();
/// assert_eq!(first.values("E.rate_mean"), again.values("E.rate_mean")); // bitwise
/// ```
pub struct Simulation<T: Real> {
    spec: NetworkSpec,
    net: Lowered<T>,
    /// The rate populations' step (fused passes, low-rank currents).
    rate_step: RateStep<T>,
    pool: rayon::ThreadPool,
    threads: usize,
    /// Steps taken since the last reset.
    step: u64,
    /// The step at which the current run began.
    run_first: u64,
    /// Seconds the current run has stepped.
    run_seconds: f64,
    build_seconds: f64,
}

impl<T: Real> Simulation<T> {
    /// Lower a validated spec: sample connectivity, precompute propagators, size recordings, and
    /// set the initial state.
    pub fn build(spec: &NetworkSpec, options: &BuildOptions) -> Result<Self, SpecErrors> {
        let started = Instant::now();
        let threads = thread_count(options.threads, spec);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| {
                SpecErrors::one(SpecError::new(
                    "threads",
                    format!("cannot start {threads} threads: {e}"),
                ))
            })?;
        let mut net = lower::<T>(spec, options.base_dir.as_deref(), &pool)?;
        let rate_step = RateStep::new(&mut net);
        let mut resolved = paths::resolve(spec)?;
        resolved.precision = if T::NAME == "f32" {
            Precision::F32
        } else {
            Precision::F64
        };
        let mut simulation = Simulation {
            spec: resolved,
            net,
            rate_step,
            pool,
            threads,
            step: 0,
            run_first: 0,
            run_seconds: 0.0,
            build_seconds: 0.0,
        };
        simulation.reset()?;
        simulation.build_seconds = started.elapsed().as_secs_f64();
        Ok(simulation)
    }

    /// The resolved spec (defaults filled in, version stamped).
    pub fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    /// Number of lanes.
    pub fn lanes(&self) -> usize {
        self.net.lanes
    }

    /// Worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Seconds the build took.
    pub fn build_seconds(&self) -> f64 {
        self.build_seconds
    }

    /// Steps of one full run (transient + duration).
    pub fn total_steps(&self) -> u64 {
        self.net.transient_steps + self.net.record_steps
    }

    /// Synapses represented by all projections.
    pub fn synapses(&self) -> u64 {
        self.net
            .projections
            .iter()
            .map(|p| p.operator.synapses())
            .sum::<u64>()
            + self.net.spiking.synapses()
    }

    /// Bytes the coupling operators (and spiking synapse structures) hold.
    pub fn operator_bytes(&self) -> u64 {
        self.net
            .projections
            .iter()
            .map(|p| p.operator.memory_bytes())
            .sum::<u64>()
            + self.net.spiking.synapse_bytes()
    }

    /// Bytes streamed from memory by one step's coupling operators (for a roofline figure).
    pub fn operator_bytes_per_step(&self) -> u64 {
        self.net
            .projections
            .iter()
            .map(|p| p.operator.bytes_per_apply(self.net.lanes))
            .sum()
    }

    /// Bytes the recordings will hold after a full run.
    pub fn recording_bytes(&self) -> u64 {
        self.net.recorders.iter().map(|r| r.bytes()).sum()
    }

    /// The per-neuron recordings of a run: array name, shape (lanes, frames, neurons), bytes.
    pub fn recordings(&self) -> Vec<Recording> {
        self.net
            .recorders
            .iter()
            .filter(|r| !r.neurons.is_empty())
            .map(|r| Recording {
                name: format!("{}.{}", r.population_name, r.variable.name()),
                shape: [r.lanes, r.frames, r.neurons.len()],
                f32: T::NAME == "f32",
                bytes: r.data_bytes(),
                recorded: r.frames_recorded(),
            })
            .collect()
    }

    /// Spikes emitted by each spiking population since the last reset, all lanes together:
    /// (population, size, spikes), in layout order.
    pub fn spike_counts(&self) -> Vec<(String, usize, u64)> {
        let spiking = &self.net.spiking;
        spiking
            .populations
            .iter()
            .enumerate()
            .map(|(p, pop)| {
                (
                    pop.params.name.clone(),
                    pop.params.size,
                    spiking.emitted.get(p).copied().unwrap_or(0),
                )
            })
            .collect()
    }

    /// Send the per-neuron frames of recording `name` (see [`Simulation::recordings`]) to
    /// `sink` instead of memory, from the next run on: the results then lack that array, and
    /// [`Simulation::recording_bytes`] no longer counts it. False if there is no such recording.
    pub fn stream(&mut self, name: &str, sink: Box<dyn FrameSink>) -> bool {
        let recorder = self.net.recorders.iter_mut().find(|r| {
            !r.neurons.is_empty() && format!("{}.{}", r.population_name, r.variable.name()) == name
        });
        match recorder {
            Some(r) => {
                r.sink = Some(Sink { sink, error: None });
                true
            }
            None => false,
        }
    }

    /// Synaptic events since the last reset, all lanes together: for every spike delivered
    /// through a spiking projection, the number of synapses it reaches there (so a spike of a
    /// neuron with out-degree `k` summed over projections counts `k` events). External Poisson
    /// inputs are not counted.
    pub fn synaptic_events(&self) -> u64 {
        self.net.spiking.events
    }

    /// Whether the network has spiking populations.
    pub fn has_spiking(&self) -> bool {
        !self.net.spiking.is_empty()
    }

    /// One line per projection: name, operator and synapse count.
    pub fn describe_operators(&self) -> Vec<String> {
        self.net
            .projections
            .iter()
            .map(|p| {
                format!(
                    "{}: {} ({} synapses)",
                    p.name,
                    p.operator.describe(),
                    p.operator.synapses()
                )
            })
            .collect()
    }

    /// The dense coupling matrix of a projection (for tests and plots of small networks).
    pub fn projection_matrix(&self, name: &str) -> Option<Vec<f64>> {
        self.net
            .projections
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.operator.to_dense())
    }

    /// Current rates of a population, `[neuron][lane]`.
    pub fn rates(&self, population: &str) -> Option<&[T]> {
        self.net
            .populations
            .iter()
            .find(|p| p.name == population)
            .map(|p| p.rate.as_slice())
    }

    /// Restore the initial state (rates, currents) and the step counter; recordings are cleared
    /// by the next run.
    pub fn reset(&mut self) -> Result<(), SpecErrors> {
        self.step = 0;
        self.rate_step.reset();
        self.net.stp.iter_mut().for_each(crate::stp::RateStp::reset);
        let lanes = self.net.lanes;
        let seed = self.net.seed;
        let lane_offset = self.net.lane_offset;
        let base_dir = self.net.base_dir.clone();
        for p in 0..self.net.populations.len() {
            let name = self.net.populations[p].name.clone();
            let size = self.net.populations[p].size;
            let per_lane = self.net.initial_per_lane[p].clone();
            let currents: Vec<InitialValue> = per_lane.iter().map(|(_, c)| c.clone()).collect();
            let current0 = initial_values::<T>(
                &currents,
                size,
                lanes,
                seed,
                lane_offset,
                &format!("initial current {name}"),
                base_dir.as_deref(),
            )
            .map_err(|e| {
                SpecErrors::one(SpecError::new(
                    format!("populations.{name}.initial.current"),
                    e,
                ))
            })?;
            // The initial current is the population's total, shared evenly by its channels.
            let channels = self.net.populations[p].channels.len().max(1);
            let share = T::ONE / T::from_f64(channels as f64);
            for &c in &self.net.populations[p].channels {
                let state = &mut self.net.channels[c].state;
                for (s, c0) in state.iter_mut().zip(&current0) {
                    *s = *c0 * share;
                }
            }
            let pop = &mut self.net.populations[p];
            if pop.channels.is_empty() {
                pop.current.iter_mut().for_each(|x| *x = T::ZERO);
            } else {
                pop.current.copy_from_slice(&current0);
            }
            let rates: Vec<InitialValue> = per_lane.iter().map(|(r, _)| r.clone()).collect();
            if matches!(rates[0], InitialValue::Transfer) {
                // r0 = φ(μ0): currents plus the inputs active at step 0.
                pop.external.iter_mut().for_each(|x| *x = T::ZERO);
                for &i in &pop.inputs {
                    let input = &self.net.inputs[i];
                    if input.active(0) {
                        input.add_rows(0, 0, &mut pop.external, lanes);
                    }
                }
                for n in 0..size {
                    for l in 0..lanes {
                        let k = n * lanes + l;
                        pop.input[k] = pop.current[k] + pop.external[k];
                        pop.rate[k] =
                            transfer(pop.transfer, pop.input[k], pop.threshold[l], pop.gain[l]);
                    }
                }
            } else {
                pop.rate = initial_values::<T>(
                    &rates,
                    size,
                    lanes,
                    seed,
                    lane_offset,
                    &format!("initial rate {name}"),
                    base_dir.as_deref(),
                )
                .map_err(|e| {
                    SpecErrors::one(SpecError::new(
                        format!("populations.{name}.initial.rate"),
                        e,
                    ))
                })?;
            }
        }
        for rule in &mut self.net.plastic_rates {
            rule.reset();
        }
        self.net
            .spiking
            .reset(base_dir.as_deref())
            .map_err(|(path, message)| SpecErrors::one(SpecError::new(path, message)))?;
        Ok(())
    }

    /// Advance `steps` steps without recording (benchmarks). Returns an error message if the state
    /// became non-finite.
    pub fn advance(&mut self, steps: u64) -> Result<(), String> {
        let pool = std::mem::replace(
            &mut self.pool,
            rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap(),
        );
        let result = pool.install(|| {
            for _ in 0..steps {
                self.step_once(&pool)?;
            }
            Ok(())
        });
        self.pool = pool;
        result
    }

    /// Run the transient and the recorded duration from the current state and return the
    /// recordings. A run that diverges stops at the first non-finite value and returns what was
    /// recorded up to then, with the step, population and variable named.
    pub fn run(&mut self) -> Result<Results, Box<Diverged>> {
        self.run_with(&mut |_, _| std::ops::ControlFlow::Continue(()))
    }

    /// [`Simulation::run`], calling `on_step(done, total)` after every step: a progress bar, or a
    /// check for Ctrl-C. Returning `Break` stops the run; the results then hold what was recorded,
    /// marked incomplete, with the error "interrupted".
    pub fn run_with(
        &mut self,
        on_step: &mut (dyn FnMut(u64, u64) -> std::ops::ControlFlow<()> + Send),
    ) -> Result<Results, Box<Diverged>> {
        self.begin_run();
        let outcome = self.continue_run(u64::MAX, on_step);
        self.end_run(outcome)
    }

    /// Start a run from the current state: clear and allocate the recordings. Then
    /// [`Simulation::continue_run`] steps it (in pieces, e.g. between checkpoints) and
    /// [`Simulation::end_run`] returns its results; [`Simulation::run_with`] is the three in one.
    pub fn begin_run(&mut self) {
        for recorder in &mut self.net.recorders {
            recorder.allocate();
        }
        self.run_first = self.step;
        self.run_seconds = 0.0;
    }

    /// Steps of the current run done so far.
    pub fn run_steps_done(&self) -> u64 {
        self.step - self.run_first
    }

    /// Step the current run until `until` of its steps are done (or its end). `Ok(true)` once the
    /// run is complete; an error names a divergence, a failed stream, or an interruption by
    /// `on_step`.
    pub fn continue_run(
        &mut self,
        until: u64,
        on_step: &mut (dyn FnMut(u64, u64) -> std::ops::ControlFlow<()> + Send),
    ) -> Result<bool, String> {
        let started = Instant::now();
        let total = self.total_steps();
        let first = self.run_first;
        let end = first + total.min(until);
        let transient = self.net.transient_steps;
        let pool = std::mem::replace(
            &mut self.pool,
            rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap(),
        );
        let outcome = pool.install(|| -> Result<(), String> {
            while self.step < end {
                self.step_once(&pool)?;
                let done = self.step - first;
                if done > transient {
                    self.observe((done - transient - 1) as usize);
                    if let Some(message) = self.sink_error() {
                        return Err(message);
                    }
                }
                if on_step(done, total).is_break() {
                    return Err(format!("interrupted at step {done} of {total}"));
                }
            }
            Ok(())
        });
        self.pool = pool;
        self.run_seconds += started.elapsed().as_secs_f64();
        outcome.map(|()| self.step - first >= total)
    }

    /// The results of the current run, complete or not (`outcome` of the last
    /// [`Simulation::continue_run`]).
    pub fn end_run(&mut self, outcome: Result<bool, String>) -> Result<Results, Box<Diverged>> {
        let outcome = match outcome {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!(
                "stopped at step {} of {}",
                self.run_steps_done(),
                self.total_steps()
            )),
            Err(message) => Err(message),
        };
        let results = self.results(
            outcome.is_ok(),
            outcome.as_ref().err().cloned(),
            self.run_seconds,
        );
        match outcome {
            Ok(()) => Ok(results),
            Err(message) => Err(Box::new(Diverged {
                message,
                results: Box::new(results),
            })),
        }
    }

    /// The first error of a streamed recording's sink, as a message.
    fn sink_error(&self) -> Option<String> {
        self.net.recorders.iter().find_map(|r| {
            r.sink_error().map(|e| {
                format!(
                    "writing the streamed recording `{}.{}`: {e}",
                    r.population_name,
                    r.variable.name()
                )
            })
        })
    }

    fn observe(&mut self, step: usize) {
        let net = &mut self.net;
        net.spiking.observe_spikes(step);
        for rule in &mut net.plastic_rates {
            rule.observe(step);
        }
        for recorder in &mut net.recorders {
            if let Some(k) = recorder.stp {
                if recorder.wants(step) {
                    let want_u = recorder.variable == Variable::StpU;
                    let values = if recorder.spiking {
                        net.spiking.stp[k].view(self.step - 1, want_u)
                    } else if want_u {
                        &net.stp[k].u
                    } else {
                        &net.stp[k].x
                    };
                    recorder.observe(step, values);
                }
                continue;
            }
            if recorder.spiking {
                if recorder.wants(step) {
                    let values = net.spiking.variable(recorder.population, recorder.variable);
                    recorder.observe(step, values);
                }
                continue;
            }
            if recorder.wants(step) {
                let pop = &net.populations[recorder.population];
                // Lowering admits rate populations only, and validation admits only their
                // variables for them.
                let values = match recorder.variable {
                    Variable::Current => &pop.current,
                    Variable::Input => &pop.input,
                    _ => &pop.rate,
                };
                recorder.observe(step, values);
            }
        }
    }

    /// One integration step on `pool` (already installed).
    fn step_once(&mut self, pool: &rayon::ThreadPool) -> Result<(), String> {
        crate::mixed::couple(&mut self.net, pool);
        if let Err(p) = self.rate_step.step(&mut self.net, self.step, pool) {
            return Err(self.divergence(p));
        }
        crate::plasticity::rate::after_step(&mut self.net);
        self.net.spiking.step(&self.net.inputs, self.step)?;
        self.step += 1;
        Ok(())
    }

    /// Name the first non-finite value of population `p` after the current step.
    fn divergence(&self, p: usize) -> String {
        let pop = &self.net.populations[p];
        let lanes = self.net.lanes;
        let dt = self.net.dt_ms;
        let time = (self.step as f64 + 1.0) * dt - self.net.transient_steps as f64 * dt;
        let find = |values: &[T]| values.iter().position(|v| !v.is_finite());
        let (variable, k) = if let Some(k) = find(&pop.current) {
            ("current", k)
        } else if let Some(k) = find(&pop.input) {
            ("input", k)
        } else {
            ("rate", find(&pop.rate).unwrap_or(0))
        };
        let value = match variable {
            "current" => pop.current[k],
            "input" => pop.input[k],
            _ => pop.rate[k],
        };
        format!(
            "the simulation diverged at step {} (t = {time} ms after the transient): `{}.{variable}` of neuron {} in lane {} is {value}; \
             reduce dt, the couplings or the drive (results up to the previous step are kept)",
            self.step + 1,
            pop.name,
            k / lanes,
            k % lanes
        )
    }

    fn results(&self, complete: bool, error: Option<String>, run_seconds: f64) -> Results {
        let mut arrays = Vec::new();
        let first_times = self.net.recorders.first().map(|r| r.times());
        for (i, recorder) in self.net.recorders.iter().enumerate() {
            let name = format!("{}.{}", recorder.population_name, recorder.variable.name());
            let time_name = if i == 0 {
                Some("t".to_string())
            } else if Some(recorder.times()) != first_times {
                Some(format!("{name}_t"))
            } else {
                None
            };
            let mut recorded = recorder.arrays(time_name);
            // `t` first, as users look for it first.
            if i == 0 {
                let t = recorded.pop().expect("time array");
                arrays.insert(0, t);
            }
            arrays.extend(recorded);
        }
        crate::decode::append(&self.net.decoders, &mut arrays);
        for (key, values) in &self.net.lane_values {
            arrays.push(NamedArray {
                name: format!("lane.{key}"),
                shape: vec![values.len()],
                data: ArrayData::F64(values.clone()),
            });
        }
        for (name, values) in &self.net.phases {
            arrays.push(NamedArray {
                name: name.clone(),
                shape: vec![values.len()],
                data: ArrayData::F64(values.clone()),
            });
        }
        for monitor in &self.net.spiking.spike_monitors {
            arrays.push(NamedArray {
                name: format!("{}.spikes", monitor.name),
                shape: vec![monitor.rows.len() / 3, 3],
                data: ArrayData::I64(monitor.rows.clone()),
            });
        }
        let recorded = self.step.saturating_sub(self.net.transient_steps) as usize;
        for summary in &self.net.spiking.rate_summaries {
            let lanes = self.net.lanes;
            let rates = summary.rates(recorded, self.net.dt_ms);
            if summary.mean {
                let means = rates
                    .chunks(summary.size.max(1))
                    .map(|lane| lane.iter().sum::<f64>() / summary.size.max(1) as f64)
                    .collect();
                arrays.push(NamedArray {
                    name: format!("{}.mean_rate_mean", summary.name),
                    shape: vec![lanes],
                    data: ArrayData::F64(means),
                });
            }
            arrays.push(NamedArray {
                name: format!("{}.mean_rate", summary.name),
                shape: vec![lanes, summary.size],
                data: ArrayData::F64(rates),
            });
        }
        arrays.extend(crate::plasticity::result_arrays(&self.net));
        Results {
            arrays,
            spec: self.spec.clone(),
            complete,
            error,
            summary: RunSummary {
                steps: self.step,
                lanes: self.net.lanes,
                threads: self.threads,
                synapses: self.synapses(),
                build_seconds: self.build_seconds,
                run_seconds,
                operator_bytes: self.operator_bytes(),
                recording_bytes: self.recording_bytes(),
            },
        }
    }
}

/// Initial values `[neuron][lane]` from per-lane settings.
fn initial_values<T: Real>(
    settings: &[InitialValue],
    size: usize,
    lanes: usize,
    seed: u64,
    lane_offset: u64,
    purpose: &str,
    base_dir: Option<&Path>,
) -> Result<Vec<T>, String> {
    let mut values = vec![T::ZERO; size * lanes];
    let stream = stream_id(purpose, 0);
    for (l, setting) in settings.iter().enumerate() {
        match setting {
            InitialValue::Zero | InitialValue::Transfer => {}
            InitialValue::Constant(c) => {
                (0..size).for_each(|n| values[n * lanes + l] = T::from_f64(*c))
            }
            InitialValue::Gaussian { mean, std } => {
                for n in 0..size {
                    // One counter row per (lane, neuron), independent of the lane count: lane 0
                    // starts as a single-lane run with the same seed does (and lane `l` of a
                    // run with `lane_offset` as lane `lane_offset + l` of a wider one).
                    let lane = lane_offset + l as u64;
                    let mut rng = CounterRng::new(seed, stream, (lane << 32) | n as u64);
                    values[n * lanes + l] = T::from_f64(mean + std * rng.next_normal());
                }
            }
            InitialValue::File(file) => {
                let path = resolve_file(base_dir, file);
                let arrays = read_array_file(&path)?;
                let array = &arrays[0].1;
                match array.shape.as_slice() {
                    [n] if *n == size => {
                        (0..size).for_each(|i| values[i * lanes + l] = T::from_f64(array.values[i]))
                    }
                    [b, n] if *n == size && *b == lanes => (0..size).for_each(|i| {
                        values[i * lanes + l] = T::from_f64(array.values[l * size + i])
                    }),
                    shape => {
                        return Err(format!(
                            "{} has shape {shape:?}, expected ({size},) or ({lanes}, {size})",
                            path.display()
                        ));
                    }
                }
            }
        }
    }
    Ok(values)
}

/// A simulation in the precision its spec asks for (`precision: f32` or `f64`), with the
/// methods of [`Simulation`]:
///
/// ```
/// use neuroxide::{AnySimulation, BuildOptions};
/// use neuroxide_model::ModelFile;
///
/// let yaml = "dt: 1 ms\nduration: 50 ms\nprecision: f32\nlanes: 2\n\
///             populations:\n  E: {size: 8, tau: 10 ms, initial: {rate: {gaussian: {mean: 0, std: 1}}}}\n";
/// let model = ModelFile::from_yaml(yaml, None, &[]).unwrap();
/// let mut simulation = AnySimulation::build(&model.spec, &BuildOptions::default()).unwrap();
/// assert!(matches!(simulation, AnySimulation::F32(_)));
/// assert_eq!(simulation.lanes(), 2);
/// let results = simulation.run().unwrap();
/// assert!(results.complete);
/// ```
pub enum AnySimulation {
    F32(Simulation<f32>),
    F64(Simulation<f64>),
}

macro_rules! any {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            AnySimulation::F32($s) => $body,
            AnySimulation::F64($s) => $body,
        }
    };
}

impl AnySimulation {
    /// Build in the spec's precision.
    pub fn build(spec: &NetworkSpec, options: &BuildOptions) -> Result<Self, SpecErrors> {
        Ok(match spec.precision {
            Precision::F32 => AnySimulation::F32(Simulation::build(spec, options)?),
            Precision::F64 => AnySimulation::F64(Simulation::build(spec, options)?),
        })
    }
    pub fn run(&mut self) -> Result<Results, Box<Diverged>> {
        any!(self, s => s.run())
    }
    pub fn run_with(
        &mut self,
        on_step: &mut (dyn FnMut(u64, u64) -> std::ops::ControlFlow<()> + Send),
    ) -> Result<Results, Box<Diverged>> {
        any!(self, s => s.run_with(on_step))
    }
    pub fn begin_run(&mut self) {
        any!(self, s => s.begin_run())
    }
    pub fn continue_run(
        &mut self,
        until: u64,
        on_step: &mut (dyn FnMut(u64, u64) -> std::ops::ControlFlow<()> + Send),
    ) -> Result<bool, String> {
        any!(self, s => s.continue_run(until, on_step))
    }
    pub fn end_run(&mut self, outcome: Result<bool, String>) -> Result<Results, Box<Diverged>> {
        any!(self, s => s.end_run(outcome))
    }
    pub fn run_steps_done(&self) -> u64 {
        any!(self, s => s.run_steps_done())
    }
    pub fn checkpoint(&mut self) -> Vec<NamedArray> {
        any!(self, s => s.checkpoint())
    }
    pub fn restore(&mut self, arrays: &[NamedArray]) -> Result<(), String> {
        any!(self, s => s.restore(arrays))
    }
    pub fn state(&mut self) -> Vec<NamedArray> {
        any!(self, s => s.state())
    }
    pub fn set_state(&mut self, arrays: &[NamedArray]) -> Result<(), String> {
        any!(self, s => s.set_state(arrays))
    }
    pub fn advance(&mut self, steps: u64) -> Result<(), String> {
        any!(self, s => s.advance(steps))
    }
    pub fn reset(&mut self) -> Result<(), SpecErrors> {
        any!(self, s => s.reset())
    }
    pub fn spec(&self) -> &NetworkSpec {
        any!(self, s => s.spec())
    }
    pub fn lanes(&self) -> usize {
        any!(self, s => s.lanes())
    }
    pub fn threads(&self) -> usize {
        any!(self, s => s.threads())
    }
    pub fn build_seconds(&self) -> f64 {
        any!(self, s => s.build_seconds())
    }
    pub fn total_steps(&self) -> u64 {
        any!(self, s => s.total_steps())
    }
    pub fn synapses(&self) -> u64 {
        any!(self, s => s.synapses())
    }
    pub fn operator_bytes(&self) -> u64 {
        any!(self, s => s.operator_bytes())
    }
    pub fn operator_bytes_per_step(&self) -> u64 {
        any!(self, s => s.operator_bytes_per_step())
    }
    pub fn recording_bytes(&self) -> u64 {
        any!(self, s => s.recording_bytes())
    }
    pub fn describe_operators(&self) -> Vec<String> {
        any!(self, s => s.describe_operators())
    }
    pub fn recordings(&self) -> Vec<Recording> {
        any!(self, s => s.recordings())
    }
    pub fn stream(&mut self, name: &str, sink: Box<dyn FrameSink>) -> bool {
        any!(self, s => s.stream(name, sink))
    }
    pub fn spike_counts(&self) -> Vec<(String, usize, u64)> {
        any!(self, s => s.spike_counts())
    }
    pub fn synaptic_events(&self) -> u64 {
        any!(self, s => s.synaptic_events())
    }
    pub fn has_spiking(&self) -> bool {
        any!(self, s => s.has_spiking())
    }
}

/// Build and run a spec in one call.
pub fn simulate(spec: &NetworkSpec, options: &BuildOptions) -> Result<Results, SimulateError> {
    let mut simulation = AnySimulation::build(spec, options).map_err(SimulateError::Spec)?;
    simulation.run().map_err(SimulateError::Diverged)
}

/// An error of [`simulate`]: a bad model, or a run that diverged.
#[derive(Debug)]
pub enum SimulateError {
    Spec(SpecErrors),
    Diverged(Box<Diverged>),
}

impl std::fmt::Display for SimulateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimulateError::Spec(e) => write!(f, "{e}"),
            SimulateError::Diverged(d) => write!(f, "{d}"),
        }
    }
}

impl std::error::Error for SimulateError {}
