//! Training reaches the task (small enough for CI in a debug build; the full-size runs are in
//! `examples/train_tasks.rs`).

use neuroxide_train::{
    Layer, LossKind, LowRank, Optimizer, RateModel, RateModelSpec, Recurrent, Task, TaskKind,
    Trainer, TrainerOptions,
};

fn spec(n: usize, task: &Task, eta: f64) -> RateModelSpec {
    let mut s = RateModelSpec::new(n, task.inputs(), task.outputs());
    s.eta = vec![eta];
    s.rho_recurrent = 0.9;
    s.rho_output = 0.1;
    s.seed = 5;
    s
}

fn train(spec: RateModelSpec, task: Task, lr: f64, options: TrainerOptions) -> Trainer<f32> {
    let model = RateModel::<f32>::new(spec).unwrap();
    let opt = Optimizer::adam(lr, model.params.values.len());
    let mut trainer = Trainer::new(model, task, opt, options).unwrap();
    trainer.train(|_, _| {}).unwrap();
    trainer
}

/// With evidence noise 0.1 over 20 steps the ideal observer is right in 99.6 % of trials (the
/// weakest level, μ = 0.05, gives d' = 0.05·√20/0.1 = 2.2); at the peer script's noise 0.5 over 100
/// steps it is right in only 95.4 %, so 95 % is not a fair target there.
#[test]
fn decision_making_n200_above_95_percent() {
    let mut task = Task::new(TaskKind::Decision, 40, 1);
    task.noise = 0.1;
    let t = train(
        spec(200, &task, 0.2),
        task,
        3e-3,
        TrainerOptions {
            batch_size: 32,
            iterations: 400,
            loss: LossKind::Mse,
            validate_every: 25,
            validation_batches: 4,
            target_score: Some(0.97),
            ..Default::default()
        },
    );
    let e = t.evaluate(8).unwrap();
    assert!(
        e.score.unwrap() > 0.95,
        "accuracy {:?} after {} iterations",
        e.score,
        t.iteration
    );
}

#[test]
fn flip_flop_below_mse_0_05() {
    let mut task = Task::new(TaskKind::FlipFlop, 60, 2);
    task.channels = 2;
    let t = train(
        spec(64, &task, 0.5),
        task,
        1e-2,
        TrainerOptions {
            batch_size: 32,
            iterations: 400,
            loss: LossKind::Mse,
            ..Default::default()
        },
    );
    let e = t.evaluate(4).unwrap();
    assert!(e.loss < 0.05, "flip-flop MSE {}", e.loss);
}

#[test]
fn sine_generation_below_mse_0_01() {
    let task = Task::new(TaskKind::Sine, 60, 3);
    let mut s = spec(64, &task, 0.2);
    s.rho_recurrent = 1.5;
    let t = train(
        s,
        task,
        1e-2,
        TrainerOptions {
            batch_size: 16,
            iterations: 250,
            loss: LossKind::Mse,
            ..Default::default()
        },
    );
    let e = t.evaluate(2).unwrap();
    assert!(e.loss < 0.01, "sine MSE {}", e.loss);
}

#[test]
fn rank_two_network_learns_odr_below_15_degrees() {
    let task = Task::new(TaskKind::Odr, 50, 4);
    let mut s = spec(128, &task, 0.2);
    s.recurrent = Recurrent::LowRank(LowRank {
        rank: 2,
        u_eq_v: false,
        normalize: false,
        clamp: None,
        scale: None,
        init_std: 1.0,
        base: None,
    });
    s.readout = Layer::Size(2);
    s.trainable = ["u", "v", "readin", "readout", "bias", "bias_out"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let t = train(
        s,
        task,
        1e-2,
        TrainerOptions {
            batch_size: 32,
            iterations: 400,
            loss: LossKind::Angular,
            validate_every: 25,
            validation_batches: 2,
            target_score: Some(8.0),
            ..Default::default()
        },
    );
    let e = t.evaluate(4).unwrap();
    assert!(e.score.unwrap() < 15.0, "phase error {:?} deg", e.score);
}
