//! The `neuroxide` command line: run, validate, plot and benchmark model files.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use neuroxide::{AnySimulation, BuildOptions, Results};
use neuroxide_model::ModelFile;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;

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
    /// Benchmark the standard workloads (steps/s, synapse updates/s, memory bandwidth).
    Bench(bench::BenchArgs),
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
        } => run(&file, &set, out, threads, quiet, plot),
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
        Command::Bench(args) => bench::bench(&args).map(|()| ExitCode::SUCCESS),
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

/// Memory the system can still give, from /proc/meminfo (Linux).
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn run(
    file: &Path,
    set: &[String],
    out: Option<PathBuf>,
    threads: Option<usize>,
    quiet: bool,
    plot_results: bool,
) -> Result<ExitCode> {
    let model = match load(file, set) {
        Ok(m) => m,
        Err(code) => return Ok(code),
    };
    let options = BuildOptions {
        threads,
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
    let recording = sim.recording_bytes();
    if let Some(available) = available_memory()
        && recording > available / 10 * 8
    {
        bail!(
            "the recordings would need {} but only {} of memory is available; record a coarser \
             `window`/`every`, fewer `neurons`, or a shorter `start`..`stop`",
            megabytes(recording),
            megabytes(available)
        );
    }
    let name = model.spec.name.clone().unwrap_or_else(|| {
        file.file_stem()
            .map_or("run".into(), |s| s.to_string_lossy().into_owned())
    });
    let out = out.unwrap_or_else(|| PathBuf::from("out").join(&name));
    if !quiet {
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
        println!(
            "  memory: couplings {}, recordings {}",
            megabytes(sim.operator_bytes()),
            megabytes(recording)
        );
    }
    let (results, diverged) = match sim.run() {
        Ok(results) => (results, None),
        Err(d) => (*d.results, Some(d.message)),
    };
    neuroxide_io::write_results(&out, &results)
        .with_context(|| format!("writing results to {}", out.display()))?;
    if !quiet {
        print_summary(&results);
        println!("results: {}", out.join("results.npz").display());
    }
    if plot_results {
        let options = neuroxide_plot::PlotOptions::default();
        if quiet {
            neuroxide_plot::plot_results(&out, &options)
                .with_context(|| format!("plotting the results in {}", out.display()))?;
        } else {
            plot(&out, &options)?;
        }
    }
    match diverged {
        Some(message) => {
            eprintln!("error: {message}");
            eprintln!("the results recorded up to then are in {}", out.display());
            Ok(ExitCode::from(1))
        }
        None => Ok(ExitCode::SUCCESS),
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
