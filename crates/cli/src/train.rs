//! `neuroxide train FILE`: train a rate (or spiking) RNN on a task by BPTT, with a progress line,
//! held-out evaluation, checkpoints (resumable with `--resume`), the trained parameters
//! (`params.npz`) and, where the trained network maps onto the run engine, a model file
//! (`model.yaml`) that `neuroxide run` reruns.

use anyhow::{Context, Result};
use clap::Args;
use neuroxide::Real;
use neuroxide_train::config::{NetworkChoice, TrainSetup};
use neuroxide_train::fit::Method;
use neuroxide_train::spiking::SpikingRnn;
use neuroxide_train::trainer::{Network, Stop};
use neuroxide_train::{
    Layer, NetworkType, PassOptions, RateModel, TaskKind, Trainer, TrainerOptions, Transfer,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct TrainArgs {
    /// The training file (YAML: model, task, train).
    file: PathBuf,
    /// Output folder (default: `out/<name>`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue from `OUT/checkpoint.npz` to the same result as an uninterrupted run.
    #[arg(long)]
    resume: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// Worker threads (default: every core; the results do not depend on it).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn train(args: &TrainArgs) -> Result<ExitCode> {
    let setup = match TrainSetup::load(&args.file) {
        Ok(s) => s,
        Err(errors) => {
            for e in errors.iter() {
                eprintln!("error: {e}");
            }
            return Ok(ExitCode::from(2));
        }
    };
    let name = setup.file.name.clone().unwrap_or_else(|| {
        args.file
            .file_stem()
            .map_or("train".into(), |s| s.to_string_lossy().into_owned())
    });
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&name));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    match (&setup.network, setup.f64) {
        (NetworkChoice::Rate(spec), false) => run_with(
            &setup,
            args,
            &out,
            &name,
            RateModel::<f32>::new(spec.clone()),
        ),
        (NetworkChoice::Rate(spec), true) => run_with(
            &setup,
            args,
            &out,
            &name,
            RateModel::<f64>::new(spec.clone()),
        ),
        (NetworkChoice::Spiking(spec), false) => run_with(
            &setup,
            args,
            &out,
            &name,
            SpikingRnn::<f32>::new(spec.clone()),
        ),
        (NetworkChoice::Spiking(spec), true) => run_with(
            &setup,
            args,
            &out,
            &name,
            SpikingRnn::<f64>::new(spec.clone()),
        ),
    }
}

/// What `neuroxide train` writes besides the parameters: the run-engine model, where one exists.
trait Export<T: Real>: Network<T> {
    /// Write `model.yaml` (+ its arrays) into `out`; `Err(reason)` when the network has no
    /// equivalent in the run engine.
    fn export(&self, setup: &TrainSetup, name: &str, out: &Path)
    -> std::result::Result<(), String>;
    /// Fit the readout only (`train.method: ridge | rls`); the mean squared error on the fitted
    /// samples.
    fn fit_readout(
        &mut self,
        setup: &TrainSetup,
        options: &TrainerOptions,
    ) -> std::result::Result<f64, neuroxide_train::TrainError>;
}

impl<T: Real> Export<T> for SpikingRnn<T> {
    fn export(&self, _: &TrainSetup, _: &str, _: &Path) -> std::result::Result<(), String> {
        Err("the surrogate-gradient LIF network (reset to 0, discrete-time filter) has no model-file equivalent".into())
    }
    fn fit_readout(
        &mut self,
        setup: &TrainSetup,
        _: &TrainerOptions,
    ) -> std::result::Result<f64, neuroxide_train::TrainError> {
        Err(neuroxide_train::TrainError::invalid(
            "train.method",
            &setup.file.train.method,
            "bptt for a spiking network",
        ))
    }
}

impl<T: Real> Export<T> for RateModel<T> {
    fn fit_readout(
        &mut self,
        setup: &TrainSetup,
        options: &TrainerOptions,
    ) -> std::result::Result<f64, neuroxide_train::TrainError> {
        neuroxide_train::fit::fit_readout(
            self,
            &setup.task,
            options.batch_size,
            options.iterations,
            setup.method,
            &options.pass,
        )
    }
    fn export(
        &self,
        setup: &TrainSetup,
        name: &str,
        out: &Path,
    ) -> std::result::Result<(), String> {
        let spec = &self.spec;
        if spec.network_type != NetworkType::R {
            return Err("Z-type networks (z ← z + η(−z + W f(z) + …)) have no model-file equivalent; the run engine's rate model is R-type".into());
        }
        let eta = self.params.get("eta").unwrap();
        if eta.iter().any(|&e| e != eta[0]) {
            return Err("per-neuron η has no model-file equivalent (one τ per population)".into());
        }
        let eta = eta[0].to_f64();
        if eta >= 1.0 {
            return Err("η = 1 (τ = dt) is refused by the run engine, which needs dt < τ".into());
        }
        let n = spec.n;
        let transfer = match spec.transfer {
            Transfer::Tanh => "tanh",
            Transfer::Relu => "relu",
            Transfer::Id => "id",
        };
        // One held-out batch as the drive W_in x_t + b, (lanes, steps, N).
        let lanes = setup.options.batch_size;
        let batch = setup.task.batch(lanes, 1, 0);
        let steps = batch.steps;
        let w_in = self.params.get("readin");
        let b = self.params.get("bias");
        let mut drive = vec![0.0f64; lanes * steps * n];
        for t in 0..steps {
            for l in 0..lanes {
                let x = &batch.x[(t * lanes + l) * batch.n_in..(t * lanes + l + 1) * batch.n_in];
                for i in 0..n {
                    let mut v = b.map_or(0.0, |b| b[i].to_f64());
                    match w_in {
                        Some(w) => {
                            for (k, &xk) in x.iter().enumerate() {
                                v += w[i * batch.n_in + k].to_f64() * xk;
                            }
                        }
                        None => v += x[i],
                    }
                    drive[(l * steps + t) * n + i] = v;
                }
            }
        }
        let write = |file: &str, shape: Vec<usize>, data: Vec<f64>| {
            write_npy(&out.join(file), &shape, &data)
        };
        write("drive.npy", vec![lanes, steps, n], drive)?;
        let w: Vec<f64> = self.recurrent_matrix().iter().map(|v| v.to_f64()).collect();
        let has_w = !w.is_empty();
        if has_w {
            write("recurrent.npy", vec![n, n], w)?;
        }
        // The trainer's own rates of that batch, to compare the rerun with.
        let x: Vec<T> = batch.x.iter().map(|&v| T::from_f64(v)).collect();
        let mut rates = vec![0.0f64; lanes * steps * n];
        let mut probe = self.clone();
        probe.spec.readout = Layer::Identity;
        probe.spec.trainable.clear();
        let probe = RateModel::<T>::new(probe.spec.clone()).map(|mut p| {
            for s in &self.params.slots {
                if let (Some(dst), Some(src)) =
                    (p.params.get_mut(&s.name), self.params.get(&s.name))
                {
                    dst.copy_from_slice(src);
                }
            }
            p
        });
        if let Ok(p) = probe {
            let fwd = p
                .forward(&x, steps, lanes, None, &PassOptions::default())
                .map_err(|e| e.to_string())?;
            for t in 0..steps {
                for l in 0..lanes {
                    for i in 0..n {
                        rates[(l * steps + t) * n + i] =
                            fwd.outputs[(t * lanes + l) * n + i].to_f64();
                    }
                }
            }
            write("expected_rates.npy", vec![lanes, steps, n], rates)?;
        }
        let tau = 1.0 / eta; // in units of dt = 1 ms
        let projection = if has_w {
            "projections:\n  rec: {pre: net, post: net, rule: {explicit: {file: recurrent.npy}}, scaling: raw, weight: 1.0}\n"
        } else {
            ""
        };
        let yaml = format!(
            "# Written by `neuroxide train` from {}: the trained R-type RateModel on one held-out\n\
             # batch of task `{}` ({lanes} lanes). Time in units of the training step (dt = 1 ms,\n\
             # τ = dt/η); the input is the trained readin applied to the batch plus the bias\n\
             # (drive.npy). The readout W_out r + b_out is in params.npz (`readout`, `bias_out`).\n\
             name: {name}_trained\ndt: 1 ms\nduration: {steps} ms\nseed: {}\nprecision: {}\nmethod: euler\nlanes: {lanes}\n\
             populations:\n  net: {{size: {n}, transfer: {transfer}, tau: {tau} ms}}\n{projection}\
             inputs:\n  drive: {{target: net, file: drive.npy}}\n\
             monitors:\n  - {{population: net, variable: rate, every: 1 ms, neurons: all}}\n",
            setup
                .path
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string()),
            TaskKind::NAMES[setup.task.kind as usize],
            setup.file.seed,
            T::NAME,
        );
        std::fs::write(out.join("model.yaml"), yaml).map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// A float64 little-endian `.npy` file (format 1.0, C order).
fn write_npy(path: &Path, shape: &[usize], data: &[f64]) -> std::result::Result<(), String> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = Vec::with_capacity(10 + header.len() + 8 * data.len());
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn run_with<T: Real, M: Export<T>>(
    setup: &TrainSetup,
    args: &TrainArgs,
    out: &Path,
    name: &str,
    model: std::result::Result<M, neuroxide_train::TrainError>,
) -> Result<ExitCode> {
    let fail = |e: neuroxide_train::TrainError| {
        for e in setup.locate(e).iter() {
            eprintln!("error: {e}");
        }
        Ok(ExitCode::from(2))
    };
    let model = match model {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    let optimizer = setup.optimizer(model.params().values.len());
    let mut options = setup.options.clone();
    options.pass.threads = args.threads.unwrap_or(0);
    let mut trainer = match Trainer::new(model, setup.task.clone(), optimizer, options) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let checkpoint = out.join("checkpoint.npz");
    if args.resume {
        let arrays = neuroxide_io::read_npz(&checkpoint)
            .with_context(|| format!("--resume needs {}", checkpoint.display()))?;
        trainer
            .load_state(&arrays)
            .map_err(|e| anyhow::anyhow!("{}: {e}", checkpoint.display()))?;
        if !args.quiet {
            println!("resumed at iteration {}", trainer.iteration);
        }
    }
    let total = trainer.options.iterations;
    let save_every = setup.file.train.save_every;
    let started = std::time::Instant::now();
    let start_iteration = trainer.iteration;
    let quiet = args.quiet;
    let mut last_line = String::new();
    if setup.method != Method::Bptt {
        let options = trainer.options.clone();
        let mse = match trainer.model.fit_readout(setup, &options) {
            Ok(v) => v,
            Err(e) => return fail(e),
        };
        trainer.iteration = options.iterations;
        if !quiet {
            println!(
                "fitted the readout by {} on {} batches: mean squared error {mse:.5}",
                setup.file.train.method, options.iterations
            );
        }
    }
    // Training runs in chunks between checkpoints.
    let stop = if setup.method != Method::Bptt {
        Stop::Iterations
    } else {
        loop {
            let chunk_end = trainer
                .iteration
                .checked_div(save_every)
                .map_or(total, |c| (c + 1) * save_every)
                .min(total);
            let target = trainer.options.iterations;
            trainer.options.iterations = chunk_end;
            let result = trainer.train(|r, e| {
                let rate = (r.iteration - start_iteration) as f64 / started.elapsed().as_secs_f64();
                let score = |s: Option<f64>| match (s, setup.task.kind) {
                    (Some(s), TaskKind::Odr) => format!(", phase error {s:.1}°"),
                    (Some(s), _) => format!(", accuracy {:.1} %", 100.0 * s),
                    (None, _) => String::new(),
                };
                if let Some(e) = e {
                    last_line = format!(
                        "iteration {}/{total}: loss {:.5}{}; held-out loss {:.5}{}; {rate:.1} it/s",
                        r.iteration,
                        r.loss,
                        score(r.score),
                        e.loss,
                        score(e.score)
                    );
                    if !quiet {
                        println!("{last_line}");
                    }
                }
            });
            trainer.options.iterations = target;
            let stop = match result {
                Ok(s) => s,
                Err(e) => {
                    // Keep what was learnt up to the failure.
                    let _ = neuroxide_io::write_npz(&checkpoint, &trainer.state_arrays());
                    return fail(e);
                }
            };
            neuroxide_io::write_npz(&checkpoint, &trainer.state_arrays())?;
            if stop != Stop::Iterations || trainer.iteration >= total {
                break stop;
            }
        }
    };
    let evaluation = trainer
        .evaluate(trainer.options.validation_batches)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    neuroxide_io::write_npz(
        &out.join("params.npz"),
        &trainer.model.params().to_arrays(""),
    )?;
    let export = trainer.model.export(setup, name, out);
    let json = format!(
        "{{\n  \"neuroxide\": \"{}\",\n  \"iterations\": {},\n  \"stop\": \"{:?}\",\n  \"held_out_loss\": {},\n  \"held_out_score\": {},\n  \"seconds\": {:.3},\n  \"model_file\": {}\n}}\n",
        neuroxide_model::VERSION,
        trainer.iteration,
        stop,
        evaluation.loss,
        evaluation
            .score
            .map_or("null".to_string(), |s| s.to_string()),
        started.elapsed().as_secs_f64(),
        match &export {
            Ok(()) => "\"model.yaml\"".to_string(),
            Err(why) => format!("null, \"model_file_missing\": {:?}", why),
        }
    );
    std::fs::write(out.join("train.json"), json)?;
    if !quiet {
        let score = match (evaluation.score, setup.task.kind) {
            (Some(s), TaskKind::Odr) => format!(", phase error {s:.1}°"),
            (Some(s), _) => format!(", accuracy {:.1} %", 100.0 * s),
            (None, _) => String::new(),
        };
        println!(
            "{name}: {} iterations ({stop:?}), held-out loss {:.5}{score}; wrote {}/params.npz{}",
            trainer.iteration,
            evaluation.loss,
            out.display(),
            match &export {
                Ok(()) => format!(" and {}/model.yaml", out.display()),
                Err(why) => format!(" (no model.yaml: {why})"),
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
