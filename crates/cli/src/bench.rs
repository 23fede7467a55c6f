//! `neuroxide bench`: time model files step by step and put the speed next to the machine's
//! memory bandwidth.
//!
//! For each workload (a model file, or the standard suite in `bench/`): load and build it (timed),
//! take one warm-up step, then time `advance(steps)` — integration steps without recording. The
//! report gives steps/s, ms/step, synapse updates/s (`synapses × lanes × steps/s`), an estimate of
//! the bytes one step moves to and from memory, the bandwidth this achieves, and that bandwidth as
//! a fraction of what a STREAM-style triad reaches in the same process on the same number of
//! threads. Peak resident memory is read from `/proc/self/status` (`VmHWM`).
//!
//! # Spiking workloads
//!
//! A model with spiking populations is timed differently: after the build it runs its whole
//! duration (transient included) with [`AnySimulation::run`], recording its monitors as the
//! peers' spike recorders do (the bench files record spikes only), with no warm-up step; the
//! `--steps` option does not apply (shorten the run with `--set duration=100ms`). The report
//! gives, besides build and simulation time, the spikes and mean rate of every spiking
//! population (spikes ÷ (neurons × lanes × simulated seconds), transient included) and the
//! *synaptic events*: for every spike delivered through a spiking projection, the number of
//! synapses it reaches there — summed over projections, a spike of a neuron with out-degree `k`
//! counts `k` events (external Poisson inputs are not counted: they are drawn per target, not
//! delivered through synapses). Events per second = events ÷ simulation wall time.
//!
//! # Bytes moved per step
//!
//! The estimate is the sum of
//! * the coupling operators' own figure ([`neuroxide::AnySimulation::operator_bytes_per_step`]):
//!   the matrix data each projection streams (values, indices, row pointers, or nothing for
//!   factored/procedural operators), plus one read of the presynaptic rates and one read and one
//!   write of the postsynaptic drive, per lane;
//! * the state vectors the step touches outside the operators, `neurons × lanes × sizeof(real)`
//!   each: per synaptic channel (a post population and one `tau_syn`) 5 passes (zero the drive;
//!   read and write the current state, read the drive, write the population current), and per
//!   population 4 passes (read the rates and the current, write the input and the new rates).
//!
//! Inputs that vary across neurons (stimuli, noise, files) and recordings are not counted, so the
//! figure is a slight underestimate for models that use them, and caches may serve part of it for
//! small models (the ring's state fits in L2): a fraction of bandwidth above 1 means the working
//! set is cache-resident rather than a mistake.
//!
//! # Peak memory
//!
//! The triad's arrays (3 × `--stream-mb`) are measured first and freed; the kernel's high-water
//! mark is then reset (`/proc/self/clear_refs`) before each workload, so each workload's `VmHWM`
//! is its own peak (plus the process's small baseline), and so is the peak an outside observer
//! such as `/usr/bin/time -v` sees for a one-workload run.

use anyhow::{Context, Result, anyhow, bail};
use neuroxide::{AnySimulation, BuildOptions};
use neuroxide_model::{ModelFile, NetworkSpec, Precision};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `neuroxide bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Model files to benchmark; none: the standard suite (`bench/w3_balanced.yaml` at 1 lane,
    /// `bench/w3_balanced_10.yaml` at 10 lanes, `bench/w3_ring.yaml` at 400 lanes,
    /// `bench/w1_brunel.yaml` and `bench/w2_coba.yaml`, 1 s each).
    pub files: Vec<PathBuf>,
    /// Worker threads (default: the model's `threads`, then `RAYON_NUM_THREADS`, then all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Steps timed per rate workload (after one warm-up step; default 1000). Spiking workloads
    /// run their whole duration instead (`--set duration=...` to change it).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Override the number of lanes of every workload (as `--set lanes=N`).
    #[arg(long)]
    pub lanes: Option<usize>,
    /// Override a setting of every workload: `--set populations.E.tau=10ms` (repeatable).
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub set: Vec<String>,
    /// Also write the results as JSON (an array, one object per workload).
    #[arg(long, value_name = "OUT.json")]
    pub json: Option<PathBuf>,
    /// Size of each of the triad's three arrays, in MB (10^6 bytes).
    #[arg(long, default_value_t = 128)]
    pub stream_mb: usize,
    /// Skip the memory-bandwidth measurement (no bandwidth fraction is reported).
    #[arg(long)]
    pub no_stream: bool,
}

/// The standard suite, relative to the `bench/` folder.
const SUITE: [&str; 5] = [
    "w3_balanced.yaml",
    "w3_balanced_10.yaml",
    "w3_ring.yaml",
    "w1_brunel.yaml",
    "w2_coba.yaml",
];

/// Default timed steps of a rate workload.
const DEFAULT_STEPS: u64 = 1000;

/// Best-of runs of the triad.
const TRIAD_REPEATS: usize = 5;

/// The measurements of one workload.
struct Measurement {
    label: String,
    file: PathBuf,
    lanes: usize,
    threads: usize,
    precision: &'static str,
    steps: u64,
    build_seconds: f64,
    warmup_seconds: f64,
    run_seconds: f64,
    synapses: u64,
    operator_bytes: u64,
    operator_bytes_per_step: u64,
    state_bytes_per_step: u64,
    triad_bytes_per_second: Option<f64>,
    peak_rss_bytes: Option<u64>,
    operators: Vec<String>,
    /// Spiking workloads only.
    spiking: Option<SpikingFigures>,
}

/// What a spiking workload reports besides its timings.
struct SpikingFigures {
    /// Simulated time, seconds (transient included).
    simulated_seconds: f64,
    /// (population, neurons, spikes) over all lanes.
    spikes: Vec<(String, usize, u64)>,
    /// Synaptic events (see the module docs).
    events: u64,
}

impl SpikingFigures {
    /// Mean rate of each population in Hz.
    fn rates(&self, lanes: usize) -> Vec<(String, f64)> {
        self.spikes
            .iter()
            .map(|(name, size, count)| {
                let neuron_seconds = (*size * lanes) as f64 * self.simulated_seconds;
                (name.clone(), *count as f64 / neuron_seconds.max(1e-300))
            })
            .collect()
    }
}

impl Measurement {
    fn steps_per_second(&self) -> f64 {
        self.steps as f64 / self.run_seconds.max(1e-12)
    }

    fn ms_per_step(&self) -> f64 {
        1e3 * self.run_seconds / self.steps.max(1) as f64
    }

    fn synapse_updates_per_second(&self) -> f64 {
        self.synapses as f64 * self.lanes as f64 * self.steps_per_second()
    }

    fn bytes_per_step(&self) -> u64 {
        self.operator_bytes_per_step + self.state_bytes_per_step
    }

    fn achieved_bytes_per_second(&self) -> f64 {
        self.bytes_per_step() as f64 * self.steps_per_second()
    }

    fn bandwidth_fraction(&self) -> Option<f64> {
        self.triad_bytes_per_second
            .map(|triad| self.achieved_bytes_per_second() / triad)
    }

    fn events_per_second(&self) -> Option<f64> {
        self.spiking
            .as_ref()
            .map(|s| s.events as f64 / self.run_seconds.max(1e-12))
    }

    fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::json!({
            "workload": self.label,
            "file": self.file.display().to_string(),
            "version": neuroxide_model::VERSION,
            "lanes": self.lanes,
            "threads": self.threads,
            "precision": self.precision,
            "steps": self.steps,
            "build_s": self.build_seconds,
            "warmup_s": self.warmup_seconds,
            "sim_s": self.run_seconds,
            "steps_per_s": self.steps_per_second(),
            "ms_per_step": self.ms_per_step(),
            "synapses": self.synapses,
            "synapse_updates_per_s": self.synapse_updates_per_second(),
            "operator_bytes": self.operator_bytes,
            "operator_bytes_per_step": self.operator_bytes_per_step,
            "state_bytes_per_step": self.state_bytes_per_step,
            "bytes_per_step": self.bytes_per_step(),
            "achieved_gb_per_s": self.achieved_bytes_per_second() / 1e9,
            "triad_gb_per_s": self.triad_bytes_per_second.map(|b| b / 1e9),
            "bandwidth_fraction": self.bandwidth_fraction(),
            "peak_rss_bytes": self.peak_rss_bytes,
            "peak_rss_mb": self.peak_rss_bytes.map(|b| b as f64 / 1e6),
            "operators": self.operators,
            "spiking": self.spiking.is_some(),
        });
        if let Some(spiking) = &self.spiking {
            let object = value.as_object_mut().expect("an object");
            object.insert(
                "simulated_s".into(),
                serde_json::json!(spiking.simulated_seconds),
            );
            object.insert(
                "realtime_factor".into(),
                serde_json::json!(self.run_seconds / spiking.simulated_seconds.max(1e-12)),
            );
            object.insert(
                "spikes".into(),
                serde_json::Value::Object(
                    spiking
                        .spikes
                        .iter()
                        .map(|(name, _, count)| (name.clone(), serde_json::json!(count)))
                        .collect(),
                ),
            );
            object.insert(
                "rates_hz".into(),
                serde_json::Value::Object(
                    spiking
                        .rates(self.lanes)
                        .into_iter()
                        .map(|(name, rate)| (name, serde_json::json!(rate)))
                        .collect(),
                ),
            );
            object.insert("synaptic_events".into(), serde_json::json!(spiking.events));
            object.insert(
                "synaptic_events_per_s".into(),
                serde_json::json!(self.events_per_second()),
            );
        }
        value
    }
}

/// Run `neuroxide bench`.
pub fn bench(args: &BenchArgs) -> Result<()> {
    if args.steps == Some(0) {
        bail!("--steps must be at least 1");
    }
    let files = if args.files.is_empty() {
        let dir = suite_dir()?;
        SUITE.iter().map(|f| dir.join(f)).collect()
    } else {
        args.files.clone()
    };
    let mut overrides = args.set.clone();
    if let Some(lanes) = args.lanes {
        overrides.push(format!("lanes={lanes}"));
    }
    // Load every file first: a typo in the last one should not cost the time of the others.
    let mut models = Vec::new();
    for file in &files {
        let model = ModelFile::load(file, &overrides).map_err(|errors| anyhow!("{errors}"))?;
        let threads = neuroxide::thread_count(args.threads, &model.spec);
        models.push((file.clone(), model, threads));
    }

    // Memory bandwidth per thread count, before the workloads (see the module docs on peak memory).
    // The pools stay alive to the end: a thread that exits records the high-water mark of its time.
    let mut triads: BTreeMap<usize, f64> = BTreeMap::new();
    let mut pools = Vec::new();
    if !args.no_stream {
        for &(_, _, threads) in &models {
            if triads.contains_key(&threads) {
                continue;
            }
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .with_context(|| format!("starting {threads} threads"))?;
            let rate = triad_bandwidth(&pool, args.stream_mb * 1_000_000 / 4);
            eprintln!(
                "memory bandwidth (triad, 3 × {} MB f32, best of {TRIAD_REPEATS}, {threads} threads): {:.2} GB/s",
                args.stream_mb,
                rate / 1e9
            );
            triads.insert(threads, rate);
            pools.push(pool);
        }
    }
    // Reset the high-water mark before each workload (not after the last one, so that an outside
    // observer such as `/usr/bin/time` sees the last workload's peak).
    let mut resets = true;
    let mut measurements = Vec::new();
    for (index, (file, model, threads)) in models.iter().enumerate() {
        if index > 0 || !args.no_stream {
            resets &= reset_peak_rss();
        }
        let m = measure(
            file,
            model,
            *threads,
            args.steps.unwrap_or(DEFAULT_STEPS),
            triads.get(threads).copied(),
        )?;
        if let Some(spiking) = &m.spiking {
            if args.steps.is_some() {
                eprintln!(
                    "note: {} is a spiking model: it runs its duration ({} steps), not --steps",
                    file.display(),
                    m.steps
                );
            }
            let rates: Vec<String> = spiking
                .rates(m.lanes)
                .iter()
                .map(|(name, rate)| format!("{name} {rate:.2} Hz"))
                .collect();
            eprintln!(
                "{}: build {:.2} s, {:.3} s for {:.3} s simulated, {:.3e} synaptic events/s, {} ({} lane{}, {} thread{})",
                m.label,
                m.build_seconds,
                m.run_seconds,
                spiking.simulated_seconds,
                m.events_per_second().unwrap_or(0.0),
                rates.join(", "),
                m.lanes,
                plural(m.lanes),
                m.threads,
                plural(m.threads)
            );
        } else {
            eprintln!(
                "{}: {:.3} ms/step, {:.0} steps/s ({} lane{}, {} thread{})",
                m.label,
                m.ms_per_step(),
                m.steps_per_second(),
                m.lanes,
                plural(m.lanes),
                m.threads,
                plural(m.threads)
            );
        }
        measurements.push(m);
    }
    drop(pools);

    print_table(&measurements);
    if !resets {
        println!(
            "note: the peak-memory high-water mark could not be reset, so peak RSS includes earlier workloads"
        );
    }
    if let Some(path) = &args.json {
        let json =
            serde_json::Value::Array(measurements.iter().map(Measurement::to_json).collect());
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The folder of the standard suite: `bench/` in the working directory, else in the source tree
/// this binary was built from.
fn suite_dir() -> Result<PathBuf> {
    let local = PathBuf::from("bench");
    if local.join(SUITE[0]).is_file() {
        return Ok(local);
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench");
    if source.join(SUITE[0]).is_file() {
        return Ok(source);
    }
    bail!(
        "cannot find the benchmark suite (bench/{}); run from the repository root or name model files",
        SUITE[0]
    )
}

/// Build, warm up and time one workload.
fn measure(
    file: &Path,
    model: &ModelFile,
    threads: usize,
    steps: u64,
    triad: Option<f64>,
) -> Result<Measurement> {
    let spec = &model.spec;
    let options = BuildOptions {
        threads: Some(threads),
        base_dir: model.base_dir(),
    };
    let started = Instant::now();
    let mut sim = AnySimulation::build(spec, &options)
        .map_err(|errors| anyhow!("{}", model.locate_all(errors)))?;
    let build_seconds = started.elapsed().as_secs_f64();
    let spiking_model = sim.has_spiking();
    let (steps, warmup_seconds, run_seconds) = if spiking_model {
        // The whole duration, recording the model's monitors (see the module docs).
        let steps = sim.total_steps();
        let started = Instant::now();
        let results = sim
            .run()
            .map_err(|e| anyhow!("{}: {}", file.display(), e.message))?;
        let run_seconds = started.elapsed().as_secs_f64();
        drop(results);
        (steps, 0.0, run_seconds)
    } else {
        let started = Instant::now();
        sim.advance(1)
            .map_err(|e| anyhow!("{}: warm-up step: {e}", file.display()))?;
        let warmup_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        sim.advance(steps)
            .map_err(|e| anyhow!("{}: {e}", file.display()))?;
        (steps, warmup_seconds, started.elapsed().as_secs_f64())
    };
    let spiking = spiking_model.then(|| SpikingFigures {
        simulated_seconds: steps as f64 * spec.dt.ms() * 1e-3,
        spikes: sim.spike_counts(),
        events: sim.synaptic_events(),
    });
    let name = spec.name.clone().unwrap_or_else(|| {
        file.file_stem()
            .map_or("model".into(), |s| s.to_string_lossy().into_owned())
    });
    let lanes = sim.lanes();
    Ok(Measurement {
        label: format!("{name} ×{lanes}"),
        file: file.to_path_buf(),
        lanes,
        threads: sim.threads(),
        precision: match spec.precision {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        },
        steps,
        build_seconds,
        warmup_seconds,
        run_seconds,
        synapses: sim.synapses(),
        operator_bytes: sim.operator_bytes(),
        operator_bytes_per_step: sim.operator_bytes_per_step(),
        state_bytes_per_step: state_bytes_per_step(spec, lanes),
        triad_bytes_per_second: triad,
        peak_rss_bytes: peak_rss(),
        operators: sim.describe_operators(),
        spiking,
    })
}

/// Bytes of state vectors one step reads and writes outside the coupling operators (see the
/// module docs): 5 passes per synaptic channel, 4 per population.
fn state_bytes_per_step(spec: &NetworkSpec, lanes: usize) -> u64 {
    let real = match spec.precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    // Channels: projections onto the same population with the same synaptic time constant.
    let mut channels: Vec<(&str, Option<u64>)> = Vec::new();
    for projection in spec.projections.values() {
        let tau = projection
            .tau_syn
            .or_else(|| {
                spec.populations
                    .get(&projection.post)
                    .and_then(|p| p.tau_syn)
            })
            .map(|t| t.ms().to_bits());
        let key = (projection.post.as_str(), tau);
        if !channels.contains(&key) {
            channels.push(key);
        }
    }
    let size = |name: &str| spec.populations.get(name).map_or(0, |p| p.size) as u64;
    let channel_elements: u64 = channels.iter().map(|(post, _)| size(post)).sum();
    let population_elements: u64 = spec.populations.values().map(|p| p.size as u64).sum();
    (5 * channel_elements + 4 * population_elements) * lanes as u64 * real
}

/// Best-of-5 STREAM triad `a[i] = b[i] + s·c[i]` over three f32 arrays of `len` elements, split
/// into one contiguous block per thread of `pool`. Counts 3 × 4 bytes per element (two reads, one
/// write; write-allocate traffic not counted, as in STREAM). Returns bytes per second.
fn triad_bandwidth(pool: &rayon::ThreadPool, len: usize) -> f64 {
    let len = len.max(1024);
    let threads = pool.current_num_threads().max(1);
    let block = len.div_ceil(threads);
    pool.install(|| {
        // First touch by the threads that will use each block.
        let mut a = vec![0f32; len];
        let mut b = vec![0f32; len];
        let mut c = vec![0f32; len];
        a.par_chunks_mut(block)
            .zip(b.par_chunks_mut(block))
            .zip(c.par_chunks_mut(block))
            .for_each(|((a, b), c)| {
                a.fill(0.0);
                b.fill(1.0);
                c.fill(2.0);
            });
        let scalar = std::hint::black_box(3.0f32);
        let mut best = f64::INFINITY;
        for _ in 0..TRIAD_REPEATS {
            let started = Instant::now();
            a.par_chunks_mut(block)
                .zip(b.par_chunks(block))
                .zip(c.par_chunks(block))
                .for_each(|((a, b), c)| {
                    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                        *a = *b + scalar * *c;
                    }
                });
            std::hint::black_box(&mut a);
            best = best.min(started.elapsed().as_secs_f64());
        }
        (3 * 4 * len) as f64 / best.max(1e-12)
    })
}

/// "s" unless `n` is 1.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Peak resident set size of this process (`VmHWM` in `/proc/self/status`, Linux), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Reset the peak-RSS high-water mark to the current RSS (Linux ≥ 4.0); false if not possible.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn print_table(measurements: &[Measurement]) {
    let (spiking, rate): (Vec<&Measurement>, Vec<&Measurement>) =
        measurements.iter().partition(|m| m.spiking.is_some());
    if !rate.is_empty() {
        print_rate_table(&rate);
    }
    if !spiking.is_empty() {
        if !rate.is_empty() {
            println!();
        }
        print_spiking_table(&spiking);
    }
}

/// Print rows under a header, the first column left-aligned and the others right-aligned.
fn print_aligned(header: &[&str], rows: Vec<Vec<String>>) {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(c, s)| {
                let pad = widths[c].saturating_sub(s.chars().count());
                if c == 0 {
                    format!("{s}{}", " ".repeat(pad))
                } else {
                    format!("{}{s}", " ".repeat(pad))
                }
            })
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|s| s.to_string()).collect());
    for row in rows {
        line(row);
    }
}

fn print_rate_table(measurements: &[&Measurement]) {
    let header = [
        "workload",
        "lanes",
        "thr",
        "build s",
        "ms/step",
        "steps/s",
        "syn upd/s",
        "MB/step",
        "GB/s",
        "of BW",
        "peak MB",
    ];
    let rows: Vec<Vec<String>> = measurements
        .iter()
        .map(|m| {
            vec![
                m.label.clone(),
                m.lanes.to_string(),
                m.threads.to_string(),
                format!("{:.2}", m.build_seconds),
                format!("{:.3}", m.ms_per_step()),
                format!("{:.0}", m.steps_per_second()),
                format!("{:.3e}", m.synapse_updates_per_second()),
                format!("{:.2}", m.bytes_per_step() as f64 / 1e6),
                format!("{:.2}", m.achieved_bytes_per_second() / 1e9),
                m.bandwidth_fraction()
                    .map_or("-".into(), |f| format!("{:.0}%", 100.0 * f)),
                m.peak_rss_bytes
                    .map_or("-".into(), |b| format!("{:.0}", b as f64 / 1e6)),
            ]
        })
        .collect();
    print_aligned(&header, rows);
    if let Some(m) = measurements
        .iter()
        .find(|m| m.triad_bytes_per_second.is_some())
    {
        println!(
            "GB/s: estimated bytes moved per step × steps/s; of BW: that over the triad's {:.2} GB/s ({} threads)",
            m.triad_bytes_per_second.unwrap_or(0.0) / 1e9,
            m.threads
        );
    }
}

fn print_spiking_table(measurements: &[&Measurement]) {
    let header = [
        "workload",
        "lanes",
        "thr",
        "synapses",
        "build s",
        "sim s",
        "simulated s",
        "× realtime",
        "spikes",
        "rates Hz",
        "syn events/s",
        "peak MB",
    ];
    let rows: Vec<Vec<String>> = measurements
        .iter()
        .filter_map(|m| m.spiking.as_ref().map(|s| (m, s)))
        .map(|(m, s)| {
            let rates: Vec<String> = s
                .rates(m.lanes)
                .iter()
                .map(|(name, rate)| format!("{name} {rate:.2}"))
                .collect();
            vec![
                m.label.clone(),
                m.lanes.to_string(),
                m.threads.to_string(),
                m.synapses.to_string(),
                format!("{:.2}", m.build_seconds),
                format!("{:.3}", m.run_seconds),
                format!("{:.3}", s.simulated_seconds),
                format!("{:.2}", m.run_seconds / s.simulated_seconds.max(1e-12)),
                s.spikes.iter().map(|(_, _, c)| c).sum::<u64>().to_string(),
                rates.join(", "),
                format!("{:.3e}", m.events_per_second().unwrap_or(0.0)),
                m.peak_rss_bytes
                    .map_or("-".into(), |b| format!("{:.0}", b as f64 / 1e6)),
            ]
        })
        .collect();
    print_aligned(&header, rows);
    println!(
        "sim s: wall clock of the run (recording its monitors); × realtime: sim s per simulated s; \
         syn events/s: synapses reached by delivered spikes per wall-clock second"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_bytes_count_channels_and_populations() {
        let yaml = "dt: 0.1 ms\nduration: 1 ms\npopulations:\n  E: {size: 10, tau: 20 ms}\n  I: {size: 5, tau: 10 ms}\n\
                    projections:\n  EE: {pre: E, post: E, rule: all_to_all, weight: 1.0, tau_syn: 3 ms}\n\
                    \x20 EI: {pre: I, post: E, rule: all_to_all, weight: -1.0, tau_syn: 2 ms}\n\
                    \x20 IE: {pre: E, post: I, rule: all_to_all, weight: 1.0, tau_syn: 3 ms}\n\
                    \x20 IE2: {pre: E, post: I, rule: all_to_all, weight: 1.0, tau_syn: 3 ms}\n";
        let model = ModelFile::from_yaml(yaml, None, &[]).unwrap();
        // Channels: E (3 ms), E (2 ms), I (3 ms) = 25 neurons × 5; populations 15 × 4; 2 lanes, f32.
        assert_eq!(
            state_bytes_per_step(&model.spec, 2),
            (25 * 5 + 15 * 4) * 2 * 4
        );
    }

    #[test]
    fn triad_reports_a_positive_rate() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        assert!(triad_bandwidth(&pool, 4096) > 0.0);
    }

    #[test]
    fn the_suite_files_load_and_build() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench");
        for (file, lanes) in SUITE.iter().zip([1, 10, 400, 1, 1]) {
            let model =
                ModelFile::load(&dir.join(file), &[]).unwrap_or_else(|e| panic!("{file}: {e}"));
            let options = BuildOptions {
                threads: Some(1),
                base_dir: model.base_dir(),
            };
            let mut sim = AnySimulation::build(&model.spec, &options)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(sim.lanes(), lanes, "{file}");
            sim.advance(2).unwrap();
        }
    }
}
