//! Full-size training runs of the built-in tasks, with their held-out result.
//!
//! `cargo run --release -p neuroxide-train --example train_tasks -- TASK [N] [STEPS] [ITERATIONS]
//! [LR] [ETA] [BATCH] [NOISE] [THREADS]` (0: every core) prints the held-out loss and score every 25 iterations, then the
//! final ones. Without arguments it runs the decision-making task at the peer benchmark's size
//! (N = 200, 200 steps, batch 64, Adam 1e-3) and reports the seconds per iteration.

use neuroxide_train::{
    Layer, LowRank, Optimizer, RateModel, RateModelSpec, Recurrent, Task, TaskKind, Trainer,
    TrainerOptions,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let name = arg(0, "decision");
    let kind = TaskKind::parse(&name).expect("a task name");
    let n: usize = arg(1, "200").parse().unwrap();
    let steps: usize = arg(2, "200").parse().unwrap();
    let iterations: u64 = arg(3, "200").parse().unwrap();
    let lr: f64 = arg(4, "1e-3").parse().unwrap();
    let eta: f64 = arg(5, "0.1").parse().unwrap();
    let batch: usize = arg(6, "64").parse().unwrap();
    let noise: f64 = arg(7, "0.5").parse().unwrap();
    let threads: usize = arg(8, "0").parse().unwrap();
    let mut task = Task::new(kind, steps, 1);
    task.noise = noise;
    let mut spec = RateModelSpec::new(n, task.inputs(), task.outputs());
    spec.eta = vec![eta];
    spec.rho_recurrent = 1.5;
    // The peer script's initialisation: W ~ N(0, 1.5²/N), V ~ N(0, 1/N²).
    spec.rho_output = 1.0 / n as f64;
    spec.bias_recurrent = true;
    if kind == TaskKind::Odr {
        spec.recurrent = Recurrent::LowRank(LowRank {
            rank: 2,
            u_eq_v: false,
            normalize: false,
            clamp: None,
            scale: None,
            init_std: 1.0,
            base: None,
        });
        spec.readout = Layer::Size(2);
        spec.trainable = ["u", "v", "readin", "readout", "bias", "bias_out"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    }
    let model = RateModel::<f32>::new(spec).unwrap();
    let opt = Optimizer::adam(lr, model.params.values.len());
    let mut options = TrainerOptions {
        batch_size: batch,
        iterations,
        loss: task.default_loss(),
        validate_every: 25,
        validation_batches: 2,
        ..Default::default()
    };
    options.pass.threads = threads;
    let mut trainer = Trainer::new(model, task, opt, options).unwrap();
    let start = std::time::Instant::now();
    let mut first = None;
    let mut last = f64::NAN;
    trainer
        .train(|r, e| {
            first.get_or_insert(r.loss);
            last = r.loss;
            if let Some(e) = e {
                println!(
                    "iteration {:5}  train loss {:.5}  held-out loss {:.5}  score {:?}",
                    r.iteration, r.loss, e.loss, e.score
                );
            }
        })
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let e = trainer.evaluate(8).unwrap();
    println!(
        "{name}: N = {n}, {steps} steps, batch {batch}: first loss {:.5}, last loss {last:.5}, held-out loss {:.5}, score {:?}; {:.4} s per iteration",
        first.unwrap_or(f64::NAN),
        e.loss,
        e.score,
        seconds / trainer.iteration.max(1) as f64
    );
}
