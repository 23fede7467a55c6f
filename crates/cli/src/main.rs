//! The `neuroxide` command line: run, validate, plot and benchmark model files.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use neuroxide::{AnySimulation, BuildOptions, Results};
use neuroxide_model::ModelFile;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;
mod decode;
mod neuroflame;
mod progress;
mod summary;
mod sweep;
mod train;

#[derive(Parser)]
#[command(
    name = "neuroxide",
    version,
    about = "Fast, reproducible simulation of rate and spiking networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a model file and write results.npz, spec.yaml and run.json into the output folder.
    Run {
        /// The model file (YAML).
        file: PathBuf,
        /// Override a setting: `--set populations.E.tau=10ms` (repeatable).
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        set: Vec<String>,
        /// Output folder (default: `out/<model name>`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (results do not depend on it).
        #[arg(long)]
        threads: Option<usize>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Also write every applicable plot (PNG) into `DIR/plots`, as `neuroxide plot DIR` does.
        #[arg(long)]
        plot: bool,
        /// Memory the recordings may take (`500MB`, `2GB`; default: 80 % of MemAvailable); a run
        /// that would need more is refused before it starts.
        #[arg(long, value_name = "BYTES")]
        max_memory: Option<String>,
        /// Stream the per-neuron recordings to `DIR/<population>.<variable>.npy` while the run
        /// goes (memory stays flat; the files are valid even if the run is killed).
        #[arg(long)]
        stream: bool,
        /// Structured log lines on stderr.
        #[arg(long, short)]
        verbose: bool,
        /// Save the whole state into `DIR/checkpoint.npz` every T of simulated time (`10s`,
        /// `500ms`) and when stopped by Ctrl-C; `neuroxide resume DIR` continues from it.
        #[arg(long, value_name = "T")]
        checkpoint_every: Option<String>,
        /// Start from the dynamical state (rates, currents, STP, spiking states) that a previous
        /// run of the same model saved with `--save-state`: its `state.npz` or its folder
        /// (trial sequences, serial bias).
        #[arg(long, value_name = "PATH")]
        initial_state: Option<PathBuf>,
        /// Write the final dynamical state into `DIR/state.npz` (for `--initial-state`).
        #[arg(long)]
        save_state: bool,
        #[command(flatten)]
        neuroflame: neuroflame::ImportArgs,
    },
    /// Translate a model from another tool's format into a neuroxide model file:
    /// `neuroxide convert --from-neuroflame conf.yml -o model.yaml` (warnings name every key not
    /// honoured).
    Convert {
        /// The file to translate.
        file: PathBuf,
        /// Output model file (default: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
        #[command(flatten)]
        neuroflame: neuroflame::ImportArgs,
    },
    /// Continue a run from its last checkpoint (`run --checkpoint-every`), to the same results
    /// as the uninterrupted run.
    Resume {
        /// The output folder of the checkpointed run.
        dir: PathBuf,
        /// Worker threads (results do not depend on it).
        #[arg(long)]
        threads: Option<usize>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Structured log lines on stderr.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Check a model file without running it: every problem, with file, line and key.
    Validate {
        file: PathBuf,
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        set: Vec<String>,
    },
    /// Plot the results in a folder written by `neuroxide run`: one image per applicable kind.
    Plot {
        /// The result folder (with results.npz, spec.yaml).
        dir: PathBuf,
        /// Image format.
        #[arg(long, default_value = "png", value_name = "png|svg")]
        format: neuroxide_plot::Format,
        /// Output folder (default: `DIR/plots`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Lane of the raster and heatmap plots (default 0); line plots then show this lane only.
        #[arg(long)]
        lane: Option<usize>,
        /// Kinds to plot, comma-separated (default: every applicable one): raster, heatmap, means,
        /// currents, connectivity, bump, sweep.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<neuroxide_plot::Kind>,
    },
    /// Run a parameter grid as lanes of few builds and write one result folder with `summary.csv`.
    Sweep {
        /// The model file (YAML), without its own `sweep:` or `lanes`.
        file: PathBuf,
        /// A grid axis: `key.path=start:stop:count` (endpoints included) or `key.path=[a, b, c]`;
        /// several axes make the Cartesian grid (the last one varies fastest).
        #[arg(long, value_name = "KEY.PATH=START:STOP:COUNT", required = true)]
        grid: Vec<String>,
        /// Override a setting of the model, as for `run`.
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        set: Vec<String>,
        /// Output folder (default: `out/<model name>-sweep`, with `-task<I>of<N>` for a shard).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (results do not depend on it).
        #[arg(long)]
        threads: Option<usize>,
        /// Run shard I (0-based) of `--num-tasks` contiguous shards of the grid (job arrays:
        /// `--task-id $SLURM_ARRAY_TASK_ID`).
        #[arg(long, default_value_t = 0)]
        task_id: usize,
        /// Number of shards.
        #[arg(long, default_value_t = 1)]
        num_tasks: usize,
        /// Memory the recordings may take (`500MB`, `2GB`; default: 80 % of MemAvailable).
        #[arg(long, value_name = "BYTES")]
        max_memory: Option<String>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Join the result folders of sweep shards into one, equal to the unsharded sweep's.
    Merge {
        /// The shard folders (any order).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Benchmark the standard workloads (steps/s, synapse updates/s, memory bandwidth).
    Bench(bench::BenchArgs),
    /// Decode the per-neuron recordings of a result folder (bump phase, amplitude, mean;
    /// overlaps): every monitor with `decode:` in its spec.yaml, and `--population`; writes
    /// `DIR/decoded.npz`.
    Decode(decode::DecodeArgs),
    /// Train a rate or spiking RNN on a task (BPTT): model + task + optimiser in a YAML file.
    Train(train::TrainArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run {
            file,
            set,
            out,
            threads,
            quiet,
            plot,
            max_memory,
            stream,
            verbose,
            checkpoint_every,
            initial_state,
            save_state,
            neuroflame,
        } => parse_memory(max_memory.as_deref()).and_then(|max_memory| {
            run(&RunArgs {
                file,
                set,
                out,
                threads,
                quiet,
                plot,
                max_memory,
                stream,
                verbose,
                checkpoint_every,
                initial_state,
                save_state,
                neuroflame,
            })
        }),
        Command::Convert {
            file,
            out,
            neuroflame,
        } => neuroflame::convert(&file, out.as_ref(), &neuroflame),
        Command::Resume {
            dir,
            threads,
            quiet,
            verbose,
        } => resume(&dir, threads, quiet, verbose),
        Command::Validate { file, set } => validate(&file, &set),
        Command::Plot {
            dir,
            format,
            out,
            lane,
            kinds,
        } => {
            let options = neuroxide_plot::PlotOptions {
                format,
                out,
                lane,
                kinds,
            };
            plot(&dir, &options).map(|()| ExitCode::SUCCESS)
        }
        Command::Sweep {
            file,
            grid,
            set,
            out,
            threads,
            task_id,
            num_tasks,
            max_memory,
            quiet,
        } => parse_memory(max_memory.as_deref()).and_then(|limit| {
            let args = SweepArgs {
                file,
                grid,
                set,
                out,
                threads,
                task_id,
                num_tasks,
                max_memory: limit,
                quiet,
            };
            run_sweep(&args)
        }),
        Command::Merge { dirs, out } => merge(&dirs, &out),
        Command::Bench(args) => bench::bench(&args).map(|()| ExitCode::SUCCESS),
        Command::Decode(args) => decode::decode(&args).map(|()| ExitCode::SUCCESS),
        Command::Train(args) => train::train(&args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Load a model file; on failure print every problem and return the exit code.
fn load(file: &Path, set: &[String]) -> Result<ModelFile, ExitCode> {
    ModelFile::load(file, set).map_err(|errors| {
        for e in errors.iter() {
            eprintln!("error: {e}");
        }
        ExitCode::from(2)
    })
}

fn validate(file: &Path, set: &[String]) -> Result<ExitCode> {
    let model = match load(file, set) {
        Ok(m) => m,
        Err(code) => return Ok(code),
    };
    let options = BuildOptions {
        threads: None,
        base_dir: model.base_dir(),
    };
    // Lowering checks what needs the files and sizes (matrix shapes, covariances).
    match AnySimulation::build(&model.spec, &options) {
        Ok(sim) => {
            println!(
                "{}: valid ({} lanes, {} steps, {} synapses)",
                file.display(),
                sim.lanes(),
                sim.total_steps(),
                sim.synapses()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            for e in model.locate_all(errors).iter() {
                eprintln!("error: {e}");
            }
            Ok(ExitCode::from(2))
        }
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The peak resident memory of this process so far (VmHWM of /proc/self/status, Linux).
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Memory the system can still give, from /proc/meminfo (Linux).
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

struct RunArgs {
    file: PathBuf,
    set: Vec<String>,
    out: Option<PathBuf>,
    threads: Option<usize>,
    quiet: bool,
    plot: bool,
    max_memory: Option<u64>,
    stream: bool,
    verbose: bool,
    checkpoint_every: Option<String>,
    initial_state: Option<PathBuf>,
    save_state: bool,
    neuroflame: neuroflame::ImportArgs,
}

fn run(args: &RunArgs) -> Result<ExitCode> {
    let file = args.file.as_path();
    let loaded = if args.neuroflame.from_neuroflame {
        neuroflame::load(file, &args.set, &args.neuroflame, args.quiet)
    } else {
        load(file, &args.set)
    };
    let model = match loaded {
        Ok(m) => m,
        Err(code) => return Ok(code),
    };
    let options = BuildOptions {
        threads: args.threads,
        base_dir: model.base_dir(),
    };
    let mut sim = match AnySimulation::build(&model.spec, &options) {
        Ok(sim) => sim,
        Err(errors) => {
            for e in model.locate_all(errors).iter() {
                eprintln!("error: {e}");
            }
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(path) = &args.initial_state {
        let path = if path.is_dir() {
            path.join("state.npz")
        } else {
            path.clone()
        };
        let state = neuroxide_io::read_npz(&path)
            .with_context(|| format!("--initial-state: reading {}", path.display()))?;
        sim.set_state(&state)
            .map_err(|e| anyhow::anyhow!("--initial-state {}: {e}", path.display()))?;
    }
    let name = model.spec.name.clone().unwrap_or_else(|| {
        file.file_stem()
            .map_or("run".into(), |s| s.to_string_lossy().into_owned())
    });
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&name));
    let recordings = sim.recordings();
    let in_memory = sim.recording_bytes();
    let streamed_bytes: u64 = recordings.iter().map(|r| r.bytes).sum();
    if !args.stream {
        check_memory(in_memory, args.max_memory, !recordings.is_empty())?;
    } else {
        check_memory(in_memory - streamed_bytes, args.max_memory, false)?;
    }
    log(
        args.verbose,
        "build",
        &[
            ("lanes", sim.lanes().to_string()),
            ("steps", sim.total_steps().to_string()),
            ("threads", sim.threads().to_string()),
            ("seconds", format!("{:.3}", sim.build_seconds())),
            ("recording_bytes", in_memory.to_string()),
        ],
    );
    // Streamed recordings: one `.npy` file per per-neuron array, valid at any moment.
    let mut streams = Vec::new();
    if args.stream {
        std::fs::create_dir_all(&out)
            .with_context(|| format!("creating the output folder {}", out.display()))?;
        for r in &recordings {
            let path = out.join(format!("{}.npy", r.name));
            let stream = neuroxide_io::NpyStream::create(&path, r.shape, r.f32)?;
            let shared = std::sync::Arc::new(std::sync::Mutex::new(stream));
            sim.stream(&r.name, Box::new(neuroxide_io::StreamSink(shared.clone())));
            streams.push((r.name.clone(), path, shared));
        }
        // Until the run ends, run.json says it has not (a crash leaves it so).
        let running = serde_json::json!({
            "neuroxide": neuroxide_model::VERSION,
            "complete": false,
            "error": "the run has not finished: it is running, or it was killed or crashed; the \
                      streamed .npy files hold the frames written so far (zeros after them)",
            "streamed": streams.iter().map(|(n, _, _)| format!("{n}.npy")).collect::<Vec<_>>(),
        });
        write_json(&out.join("run.json"), &running)?;
    }
    if !args.quiet {
        println!(
            "{name}: {} lanes, {} steps, {} threads, built in {:.2} s",
            sim.lanes(),
            sim.total_steps(),
            sim.threads(),
            sim.build_seconds()
        );
        for line in sim.describe_operators() {
            println!("  projection {line}");
        }
        let limit = memory_limit(args.max_memory).map_or(String::new(), |(l, source)| {
            format!(" (limit {}, {source})", megabytes(l))
        });
        let streamed = if args.stream {
            format!(
                " in memory, {} streamed to {}",
                megabytes(streamed_bytes),
                out.display()
            )
        } else {
            String::new()
        };
        println!(
            "  memory: couplings {}, recordings {}{streamed}{limit}",
            megabytes(sim.operator_bytes()),
            megabytes(sim.recording_bytes()),
        );
    }
    let every = match &args.checkpoint_every {
        Some(text) => Some(checkpoint_steps(text, model.spec.dt.ms())?),
        None => None,
    };
    if let Some(every) = every {
        std::fs::create_dir_all(&out)
            .with_context(|| format!("creating the output folder {}", out.display()))?;
        let meta = serde_json::json!({
            "every_steps": every,
            // Absolute, so that `resume` finds the model's files from any folder.
            "base_dir": model
                .base_dir()
                .map(|d| if d.as_os_str().is_empty() { PathBuf::from(".") } else { d })
                .map(|d| std::fs::canonicalize(&d).unwrap_or(d).to_string_lossy().into_owned()),
            "name": name,
            "stream": args.stream,
        });
        write_json(&out.join("checkpoint.json"), &meta)?;
        let spec_path = out.join("spec.yaml");
        std::fs::write(&spec_path, neuroxide_model::paths::to_yaml(sim.spec()))
            .with_context(|| format!("writing {}", spec_path.display()))?;
    }
    sim.begin_run();
    execute(&mut sim, &out, &name, args, &recordings, &streams, every)
}

fn resume(dir: &Path, threads: Option<usize>, quiet: bool, verbose: bool) -> Result<ExitCode> {
    let meta_path = dir.join("checkpoint.json");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).with_context(|| {
            format!(
                "{}: cannot read it (was the run started with --checkpoint-every?)",
                meta_path.display()
            )
        })?)
        .with_context(|| format!("{}: not JSON", meta_path.display()))?;
    let every = meta
        .get("every_steps")
        .and_then(|v| v.as_u64())
        .with_context(|| format!("{}: no `every_steps`", meta_path.display()))?;
    let name = meta
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or("run")
        .to_string();
    let spec_path = dir.join("spec.yaml");
    let text = std::fs::read_to_string(&spec_path)
        .with_context(|| format!("reading {}", spec_path.display()))?;
    let spec = neuroxide_plot::results::parse_spec(&text)
        .with_context(|| format!("{}: not a model", spec_path.display()))?;
    let options = BuildOptions {
        threads,
        base_dir: meta
            .get("base_dir")
            .and_then(|v| v.as_str())
            .map(PathBuf::from),
    };
    let mut sim = match AnySimulation::build(&spec, &options) {
        Ok(sim) => sim,
        Err(errors) => {
            for e in errors.iter() {
                eprintln!("error: {}: {e}", spec_path.display());
            }
            return Ok(ExitCode::from(2));
        }
    };
    // Streamed recordings continue in their files (grown back to the full layout).
    let stream = meta.get("stream").and_then(|v| v.as_bool()) == Some(true);
    let recordings = sim.recordings();
    let mut streams: Streams = Vec::new();
    if stream {
        for r in &recordings {
            let path = dir.join(format!("{}.npy", r.name));
            let file = neuroxide_io::NpyStream::reopen(&path, r.shape, r.f32)?;
            let shared = std::sync::Arc::new(std::sync::Mutex::new(file));
            sim.stream(&r.name, Box::new(neuroxide_io::StreamSink(shared.clone())));
            streams.push((r.name.clone(), path, shared));
        }
    }
    let checkpoint_path = dir.join("checkpoint.npz");
    let state = neuroxide_io::read_npz(&checkpoint_path)?;
    sim.begin_run();
    sim.restore(&state)
        .map_err(|e| anyhow::anyhow!("{}: {e}", checkpoint_path.display()))?;
    for r in sim.recordings() {
        if let Some((_, _, file)) = streams.iter().find(|(n, _, _)| *n == r.name) {
            file.lock()
                .map_err(|_| anyhow::anyhow!("the stream of `{}` was poisoned", r.name))?
                .set_written(r.recorded);
        }
    }
    if !quiet {
        println!(
            "{name}: resuming at step {} of {} ({} lanes, {} threads)",
            sim.run_steps_done(),
            sim.total_steps(),
            sim.lanes(),
            sim.threads()
        );
    }
    let args = RunArgs {
        file: spec_path,
        set: Vec::new(),
        out: Some(dir.to_path_buf()),
        threads,
        quiet,
        plot: false,
        max_memory: None,
        stream,
        verbose,
        checkpoint_every: None,
        initial_state: None,
        save_state: false,
        neuroflame: Default::default(),
    };
    execute(
        &mut sim,
        dir,
        &name,
        &args,
        &recordings,
        &streams,
        Some(every),
    )
}

/// `--checkpoint-every T` in steps of `dt` (a whole number ≥ 1).
fn checkpoint_steps(text: &str, dt: f64) -> Result<u64> {
    let t = neuroxide_model::Time::parse(text)
        .map_err(|e| anyhow::anyhow!("--checkpoint-every {text}: {e}"))?;
    let steps = (t.ms() / dt).round();
    if steps.is_nan() || steps < 1.0 {
        bail!(
            "--checkpoint-every {text}: expected a time of at least one step (dt = {dt} ms), e.g. \
             `--checkpoint-every 10s`"
        );
    }
    Ok(steps as u64)
}

/// Write the checkpoint of `sim` into `out/checkpoint.npz` (through a temporary file, so a crash
/// while writing leaves the previous one).
fn save_checkpoint(sim: &mut AnySimulation, out: &Path) -> Result<()> {
    let temporary = out.join("checkpoint.npz.partial");
    neuroxide_io::write_npz(&temporary, &sim.checkpoint())?;
    std::fs::rename(&temporary, out.join("checkpoint.npz"))
        .with_context(|| format!("replacing {}", out.join("checkpoint.npz").display()))?;
    Ok(())
}

type Streams = Vec<(
    String,
    PathBuf,
    std::sync::Arc<std::sync::Mutex<neuroxide_io::NpyStream>>,
)>;

/// Step a begun run to its end (checkpointing every `every` steps), then write its results.
fn execute(
    sim: &mut AnySimulation,
    out: &Path,
    name: &str,
    args: &RunArgs,
    recordings: &[neuroxide::Recording],
    streams: &Streams,
    every: Option<u64>,
) -> Result<ExitCode> {
    let interrupted = interrupt::install();
    let mut bar = progress::Progress::new(!args.quiet, name);
    let mut outcome;
    loop {
        let until = match every {
            Some(k) => (sim.run_steps_done() / k + 1) * k,
            None => u64::MAX,
        };
        outcome = sim.continue_run(until, &mut |done, total| {
            bar.update(done, total);
            interrupt::check(interrupted)
        });
        let interrupted_now = interrupt::check(interrupted).is_break();
        if every.is_some() && (outcome == Ok(false) || (outcome.is_err() && interrupted_now)) {
            save_checkpoint(sim, out)?;
            log(
                args.verbose,
                "checkpoint",
                &[("step", sim.run_steps_done().to_string())],
            );
        }
        if outcome != Ok(false) {
            break;
        }
    }
    let (results, stopped) = match sim.end_run(outcome) {
        Ok(results) => (results, None),
        Err(d) => (*d.results, Some(d.message)),
    };
    bar.finish();
    log(
        args.verbose,
        "run",
        &[
            ("steps", results.summary.steps.to_string()),
            ("seconds", format!("{:.3}", results.summary.run_seconds)),
            ("complete", results.complete.to_string()),
        ],
    );
    let mut streamed = serde_json::Map::new();
    for (name, path, stream) in streams {
        let mut stream = stream
            .lock()
            .map_err(|_| anyhow::anyhow!("the stream of `{name}` was poisoned"))?;
        let frames = stream.finish()?;
        let shape = recordings
            .iter()
            .find(|r| &r.name == name)
            .map(|r| r.shape)
            .expect("streamed recordings are recordings");
        streamed.insert(
            name.clone(),
            serde_json::json!({
                "file": path.file_name().map(|f| f.to_string_lossy().into_owned()),
                "shape": [shape[0], frames, shape[2]],
            }),
        );
    }
    neuroxide_io::write_results(out, &results)
        .with_context(|| format!("writing results to {}", out.display()))?;
    if args.save_state {
        let path = out.join("state.npz");
        neuroxide_io::write_npz(&path, &sim.state())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let peak = peak_memory();
    {
        let path = out.join("run.json");
        let text = std::fs::read_to_string(&path)?;
        let mut run: serde_json::Value = serde_json::from_str(&text)?;
        if !streamed.is_empty() {
            run["streamed"] = serde_json::Value::Object(streamed);
        }
        if let Some(peak) = peak {
            run["peak_memory_bytes"] = peak.into();
        }
        write_json(&path, &run)?;
    }
    if !args.quiet {
        print_summary(&results);
        if let Some(peak) = peak {
            println!("  peak memory: {}", megabytes(peak));
        }
        println!("results: {}", out.join("results.npz").display());
        for (_, path, _) in streams {
            println!("streamed: {}", path.display());
        }
    }
    if args.plot {
        let options = neuroxide_plot::PlotOptions::default();
        if args.quiet {
            neuroxide_plot::plot_results(out, &options)
                .with_context(|| format!("plotting the results in {}", out.display()))?;
        } else {
            plot(out, &options)?;
        }
    }
    Ok(finished(stopped, out, interrupted))
}

/// The exit status of a run or sweep that wrote its results to `out`: 0, or, after printing why
/// it stopped early, 130 when Ctrl-C stopped it and 1 otherwise (a divergence).
fn finished(
    stopped: Option<String>,
    out: &Path,
    interrupted: &std::sync::atomic::AtomicBool,
) -> ExitCode {
    let Some(message) = stopped else {
        return ExitCode::SUCCESS;
    };
    eprintln!("error: {message}");
    eprintln!("the results recorded up to then are in {}", out.display());
    if interrupt::check(interrupted).is_break() {
        ExitCode::from(130)
    } else {
        ExitCode::from(1)
    }
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).expect("json") + "\n";
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// `-v`: one structured line per event on stderr (`neuroxide event=run steps=… seconds=…`).
fn log(verbose: bool, event: &str, fields: &[(&str, String)]) {
    if verbose {
        let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        eprintln!("neuroxide event={event} {}", fields.join(" "));
    }
}

/// Write the plots of the result folder `dir` and print their paths.
fn plot(dir: &Path, options: &neuroxide_plot::PlotOptions) -> Result<()> {
    let files = neuroxide_plot::plot_results(dir, options)
        .with_context(|| format!("plotting the results in {}", dir.display()))?;
    if files.is_empty() {
        println!("nothing to plot in {}", dir.display());
    }
    for file in files {
        println!("plot: {}", file.display());
    }
    Ok(())
}

/// Mean rate per population (time average of the recorded population means), with the range
/// across lanes.
fn print_summary(results: &Results) {
    println!(
        "  simulated {} steps in {:.2} s ({:.0} steps/s)",
        results.summary.steps,
        results.summary.run_seconds,
        results.summary.steps as f64 / results.summary.run_seconds.max(1e-9)
    );
    for array in &results.arrays {
        let Some(population) = array.name.strip_suffix(".rate_mean") else {
            continue;
        };
        let (lanes, frames) = (array.shape[0], array.shape[1]);
        if frames == 0 {
            continue;
        }
        let values = array.data.to_f64();
        let per_lane: Vec<f64> = (0..lanes)
            .map(|l| values[l * frames..(l + 1) * frames].iter().sum::<f64>() / frames as f64)
            .collect();
        let mean = per_lane.iter().sum::<f64>() / lanes as f64;
        let (lo, hi) = per_lane
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        if lanes > 1 {
            println!("  {population}: mean rate {mean:.4} (lanes {lo:.4} … {hi:.4})");
        } else {
            println!("  {population}: mean rate {mean:.4}");
        }
    }
}

/// Parse a byte count: `123456`, `500MB`, `2GB`, `1.5 GiB`, `800M`.
fn parse_memory(text: Option<&str>) -> Result<Option<u64>> {
    let Some(text) = text else {
        return Ok(None);
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .with_context(|| {
            format!("--max-memory {text}: expected a size such as `500MB`, `2GB` or a byte count")
        })?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => bail!(
            "--max-memory {text}: unknown unit `{other}`, expected B, kB, MB, GB, TB, KiB, MiB or GiB"
        ),
    };
    Ok(Some((value * scale) as u64))
}

/// The memory recordings may take: `--max-memory`, else 80 % of MemAvailable (None: unknown).
fn memory_limit(max_memory: Option<u64>) -> Option<(u64, &'static str)> {
    match max_memory {
        Some(m) => Some((m, "--max-memory")),
        None => available_memory().map(|a| (a / 10 * 8, "80 % of MemAvailable")),
    }
}

/// Refuse a run whose recordings would not fit, before it starts, with the figure and what to do.
fn check_memory(recording: u64, max_memory: Option<u64>, streamable: bool) -> Result<()> {
    if let Some((limit, source)) = memory_limit(max_memory)
        && recording > limit
    {
        let stream = if streamable {
            ", or stream the per-neuron recordings to disk with `--stream`"
        } else {
            ""
        };
        bail!(
            "the recordings would need {} of memory but the limit is {} ({source}); record a \
             coarser `window`/`every`, fewer `neurons` (`neurons: none` keeps the population \
             means), a shorter `start`..`stop`{stream}",
            megabytes(recording),
            megabytes(limit)
        );
    }
    Ok(())
}

struct SweepArgs {
    file: PathBuf,
    grid: Vec<String>,
    set: Vec<String>,
    out: Option<PathBuf>,
    threads: Option<usize>,
    task_id: usize,
    num_tasks: usize,
    max_memory: Option<u64>,
    quiet: bool,
}

fn run_sweep(args: &SweepArgs) -> Result<ExitCode> {
    let model = match load(&args.file, &args.set) {
        Ok(m) => m,
        Err(code) => return Ok(code),
    };
    if !model.spec.sweep.is_empty() || model.spec.lanes.unwrap_or(1) != 1 {
        bail!(
            "{}: the model has its own `sweep:` or `lanes`; `neuroxide sweep` makes the lanes from \
             the grid: remove them and give every axis as `--grid key=...`",
            args.file.display()
        );
    }
    if model.spec.lane_offset != 0 {
        bail!(
            "{}: `lane_offset` is set by `neuroxide sweep` itself (grid point i runs as lane i); remove it",
            args.file.display()
        );
    }
    let axes = args
        .grid
        .iter()
        .map(|g| sweep::parse_axis(g))
        .collect::<Result<Vec<_>>>()?;
    let grid = sweep::Grid::new(axes)?;
    let points = grid.points();
    let range = sweep::shard(points, args.task_id, args.num_tasks)?;
    let builds = grid.builds(range.clone());
    // Every build's spec is checked before anything runs.
    let mut specs = Vec::new();
    for b in &builds {
        let spec = grid.build_spec(&model.spec, b.clone())?;
        if let Err(errors) = neuroxide_model::validate::validate(&spec, model.base_dir().as_deref())
        {
            for e in model.locate_all(errors).iter() {
                eprintln!("error: {e}");
            }
            return Ok(ExitCode::from(2));
        }
        specs.push(spec);
    }
    let name = model.spec.name.clone().unwrap_or_else(|| {
        args.file
            .file_stem()
            .map_or("run".into(), |s| s.to_string_lossy().into_owned())
    });
    let out = args.out.clone().unwrap_or_else(|| {
        let folder = if args.num_tasks > 1 {
            format!("{name}-sweep-task{}of{}", args.task_id, args.num_tasks)
        } else {
            format!("{name}-sweep")
        };
        PathBuf::from("out").join(folder)
    });
    if !args.quiet {
        let axes: Vec<String> = grid
            .axes
            .iter()
            .map(|a| {
                format!(
                    "{} ({} values{})",
                    a.key,
                    a.values.len(),
                    if a.per_lane { "" } else { ", one build each" }
                )
            })
            .collect();
        println!("{name}: grid of {points} points: {}", axes.join(" × "));
        if args.num_tasks > 1 {
            println!(
                "  task {} of {}: points {}..{}",
                args.task_id, args.num_tasks, range.start, range.end
            );
        }
        println!("  {} lanes in {} build(s)", range.len(), builds.len());
    }
    let options = BuildOptions {
        threads: args.threads,
        base_dir: model.base_dir(),
    };
    let interrupted = interrupt::install();
    let keys: Vec<String> = grid.axes.iter().map(|a| a.key.clone()).collect();
    let mut parts = Vec::new();
    let mut summaries = Vec::new();
    let mut csv = String::new();
    let mut failure: Option<String> = None;
    let mut first_spec = None;
    for (b, spec) in builds.iter().zip(&specs) {
        let mut sim = match AnySimulation::build(spec, &options) {
            Ok(sim) => sim,
            Err(errors) => {
                for e in model.locate_all(errors).iter() {
                    eprintln!("error: {e}");
                }
                return Ok(ExitCode::from(2));
            }
        };
        // The recordings of earlier builds are kept until the end.
        let kept: u64 = summaries
            .iter()
            .map(|s: &neuroxide::RunSummary| s.recording_bytes)
            .sum();
        check_memory(kept + sim.recording_bytes(), args.max_memory, false).with_context(|| {
            format!(
                "grid points {}..{} (with the recordings of the points before them); run the \
                 grid in shards (--task-id/--num-tasks)",
                b.start, b.end
            )
        })?;
        if first_spec.is_none() {
            first_spec = Some(sim.spec().clone());
        }
        let mut bar = progress::Progress::new(
            !args.quiet,
            &format!("points {}..{} of {points}", b.start, b.end),
        );
        let (results, stopped) = match sim.run_with(&mut |done, total| {
            bar.update(done, total);
            interrupt::check(interrupted)
        }) {
            Ok(results) => (results, None),
            Err(d) => (*d.results, Some(d.message)),
        };
        bar.finish();
        if !args.quiet {
            println!(
                "  points {}..{}: {} lanes, {} steps in {:.2} s",
                b.start,
                b.end,
                b.len(),
                results.summary.steps,
                results.summary.run_seconds
            );
        }
        let mut arrays = results.arrays;
        arrays.retain(|a| !a.name.starts_with("lane."));
        arrays.extend(grid.lane_arrays(b.clone()));
        let table = summary::summary_csv(&results.spec, &arrays, b.start, &keys);
        if csv.is_empty() {
            csv = table;
        } else {
            csv.extend(table.lines().skip(1).map(|l| format!("{l}\n")));
        }
        parts.push(sweep::Part {
            first: b.start,
            lanes: b.len(),
            arrays,
        });
        summaries.push(results.summary);
        if let Some(message) = stopped {
            failure = Some(format!("grid points {}..{}: {message}", b.start, b.end));
            break;
        }
    }
    let mut arrays = sweep::join(&parts)?;
    let done = parts.last().map_or(range.start, |p| p.first + p.lanes);
    arrays.extend(grid.lane_arrays(range.start..done));
    let spec = first_spec.expect("at least one build");
    let results = Results {
        arrays,
        spec,
        complete: failure.is_none(),
        error: failure.clone(),
        summary: sweep::combine_summaries(&summaries),
    };
    write_sweep_folder(
        &out,
        &results,
        &grid,
        &(range.start..done),
        args,
        &model.spec,
        &csv,
    )?;
    if !args.quiet {
        print!("{csv}");
        println!("results: {}", out.join("results.npz").display());
        println!("summary: {}", out.join("summary.csv").display());
    }
    Ok(finished(failure, &out, interrupted))
}

fn write_sweep_folder(
    out: &Path,
    results: &Results,
    grid: &sweep::Grid,
    range: &std::ops::Range<usize>,
    args: &SweepArgs,
    base: &neuroxide_model::NetworkSpec,
    csv: &str,
) -> Result<()> {
    neuroxide_io::write_results(out, results)
        .with_context(|| format!("writing results to {}", out.display()))?;
    let write = |name: &str, text: &str| {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write(
        "sweep.json",
        &sweep::sweep_json(grid, range, args.task_id, args.num_tasks),
    )?;
    write("model.yaml", &neuroxide_model::paths::to_yaml(base))?;
    write("summary.csv", csv)?;
    Ok(())
}

fn merge(dirs: &[PathBuf], out: &Path) -> Result<ExitCode> {
    let mut shards = Vec::new();
    for dir in dirs {
        let info = sweep::read_sweep_json(dir)?;
        shards.push((dir.clone(), info));
    }
    shards.sort_by_key(|(_, info)| info.range.start);
    let (first_dir, first) = &shards[0];
    let model_text = |dir: &Path| {
        let path = dir.join("model.yaml");
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let model = model_text(first_dir)?;
    let mut expected = 0;
    for (dir, info) in &shards {
        if info.grid != first.grid || model_text(dir)? != model {
            bail!(
                "{} and {} are shards of different sweeps (their grids or models differ)",
                first_dir.display(),
                dir.display()
            );
        }
        if info.range.start != expected {
            bail!(
                "{}: holds grid points {}..{} but the next point to join is {expected} ({})",
                dir.display(),
                info.range.start,
                info.range.end,
                if info.range.start > expected {
                    "a shard is missing"
                } else {
                    "shards overlap"
                }
            );
        }
        expected = info.range.end;
    }
    let points = first.grid.points();
    if expected != points {
        bail!(
            "the shards hold grid points 0..{expected} of {points}: a shard is missing or stopped early"
        );
    }
    let mut parts = Vec::new();
    let mut csv = String::new();
    let mut complete = true;
    let mut errors = Vec::new();
    let mut summaries = Vec::new();
    let mut specs = Vec::new();
    for (dir, info) in &shards {
        let arrays = neuroxide_io::read_npz(&dir.join("results.npz"))?;
        parts.push(sweep::Part {
            first: info.range.start,
            lanes: info.range.len(),
            arrays,
        });
        let table_path = dir.join("summary.csv");
        let table = std::fs::read_to_string(&table_path)
            .with_context(|| format!("reading {}", table_path.display()))?;
        if csv.is_empty() {
            csv = table;
        } else {
            csv.extend(table.lines().skip(1).map(|l| format!("{l}\n")));
        }
        let run_path = dir.join("run.json");
        let run: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&run_path)
                .with_context(|| format!("reading {}", run_path.display()))?,
        )
        .with_context(|| format!("{}: not JSON", run_path.display()))?;
        if run.get("complete").and_then(|c| c.as_bool()) != Some(true) {
            complete = false;
            errors.push(format!(
                "{}: {}",
                dir.display(),
                run.get("error")
                    .and_then(|e| e.as_str())
                    .unwrap_or("incomplete")
            ));
        }
        let number = |key: &str| run.get(key).and_then(|v| v.as_f64()).unwrap_or(0.0);
        summaries.push(neuroxide::RunSummary {
            steps: number("steps") as u64,
            lanes: number("lanes") as usize,
            threads: number("threads") as usize,
            synapses: number("synapses") as u64,
            build_seconds: number("build_seconds"),
            run_seconds: number("run_seconds"),
            operator_bytes: number("operator_bytes") as u64,
            recording_bytes: number("recording_bytes") as u64,
        });
        let spec_path = dir.join("spec.yaml");
        let text = std::fs::read_to_string(&spec_path)
            .with_context(|| format!("reading {}", spec_path.display()))?;
        specs.push(
            neuroxide_plot::results::parse_spec(&text)
                .with_context(|| format!("{}: not a model", spec_path.display()))?,
        );
    }
    let mut arrays = sweep::join(&parts)?;
    arrays.extend(first.grid.lane_arrays(0..points));
    let base = neuroxide_plot::results::parse_spec(&model).context("model.yaml of the shards")?;
    // The spec of the first build over the whole grid, as the unsharded sweep writes it.
    let first_build = first.grid.builds(0..points)[0].clone();
    let mut spec = neuroxide_model::paths::resolve(&first.grid.build_spec(&base, first_build)?)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    spec.precision = specs[0].precision;
    let results = Results {
        arrays,
        spec,
        complete,
        error: (!errors.is_empty()).then(|| errors.join("; ")),
        summary: sweep::combine_summaries(&summaries),
    };
    let args = SweepArgs {
        file: PathBuf::new(),
        grid: Vec::new(),
        set: Vec::new(),
        out: None,
        threads: None,
        task_id: 0,
        num_tasks: 1,
        max_memory: None,
        quiet: true,
    };
    write_sweep_folder(out, &results, &first.grid, &(0..points), &args, &base, &csv)?;
    // The model file exactly as the shards have it.
    std::fs::write(out.join("model.yaml"), &model)
        .with_context(|| format!("writing {}", out.join("model.yaml").display()))?;
    println!(
        "merged {} shards ({points} grid points) into {}",
        shards.len(),
        out.display()
    );
    Ok(if complete {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: some shards are incomplete: {}", errors.join("; "));
        ExitCode::from(1)
    })
}

/// Ctrl-C: the first SIGINT asks the run to stop (what was recorded is written, marked
/// incomplete); a second one ends the process at once.
mod interrupt {
    use std::sync::atomic::{AtomicBool, Ordering};

    static INTERRUPTED: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_sigint(_: libc::c_int) {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            // SAFETY: `_exit` is async-signal-safe.
            unsafe { libc::_exit(130) };
        }
    }

    /// Install the handler; returns the flag it sets.
    pub fn install() -> &'static AtomicBool {
        let handler: extern "C" fn(libc::c_int) = on_sigint;
        // SAFETY: the handler only touches an atomic and calls `_exit`, both async-signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        }
        &INTERRUPTED
    }

    /// `Break` once Ctrl-C was pressed.
    pub fn check(flag: &AtomicBool) -> std::ops::ControlFlow<()> {
        if flag.load(Ordering::Relaxed) {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    }
}
