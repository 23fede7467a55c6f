//! Surrogate-gradient training of a spiking RNN: the adjoint against finite differences (with the
//! smooth forward function whose derivative is the surrogate), and training on a two-class task.

use neuroxide_train::spiking::{SpikingRnn, SpikingSpec};
use neuroxide_train::{Loss, LossKind, Optimizer, Task, TaskKind, Trainer, TrainerOptions};

#[test]
fn surrogate_adjoint_matches_finite_differences_of_the_smooth_network() {
    let mut spec = SpikingSpec::new(6, 2, 2);
    spec.surrogate.smooth_forward = true;
    // Finite differences see the reset's dependence on the weights; so must the adjoint here.
    spec.detach_reset = false;
    spec.surrogate.slope = 2.0;
    spec.surrogate.gain = 0.4;
    spec.seed = 3;
    let mut net = SpikingRnn::<f64>::new(spec).unwrap();
    for (i, b) in net.params.get_mut("bias").unwrap().iter_mut().enumerate() {
        *b = 0.3 * (i as f64).sin();
    }
    let (steps, lanes) = (8, 3);
    let x: Vec<f64> = (0..steps * lanes * 2)
        .map(|i| ((i as f64) * 0.7).sin())
        .collect();
    let target: Vec<f64> = (0..steps * lanes * 2)
        .map(|i| ((i as f64) * 1.3).cos())
        .collect();
    let mask = vec![1.0; target.len()];
    let loss = Loss::new(LossKind::Mse);
    let value = |n: &SpikingRnn<f64>| {
        let (y, _) = n.forward(&x, steps, lanes).unwrap();
        loss.eval(&y, 2, &target, &mask).unwrap().0
    };
    let (y, cache) = net.forward(&x, steps, lanes).unwrap();
    let (_, d) = loss.eval(&y, 2, &target, &mask).unwrap();
    let grad = net.backward(&cache, &x, &d).unwrap();
    for slot in net.params.slots.clone() {
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for i in slot.offset..slot.offset + slot.len {
            let v = net.params.values[i];
            net.params.values[i] = v + 1e-6;
            let lp = value(&net);
            net.params.values[i] = v - 1e-6;
            let lm = value(&net);
            net.params.values[i] = v;
            let fd = (lp - lm) / 2e-6;
            num += (grad[i] - fd).powi(2);
            den += fd.powi(2);
        }
        let rel = num.sqrt() / den.sqrt();
        assert!(rel < 1e-4, "`{}`: relative error {rel:e}", slot.name);
    }
}

#[test]
fn spiking_rnn_learns_go_no_go_well_above_chance() {
    let task = Task::new(TaskKind::GoNoGo, 40, 9);
    let mut spec = SpikingSpec::new(64, task.inputs(), task.outputs());
    spec.seed = 4;
    let net = SpikingRnn::<f32>::new(spec).unwrap();
    let opt = Optimizer::adam(1e-2, net.params.values.len());
    let mut trainer = Trainer::new(
        net,
        task,
        opt,
        TrainerOptions {
            batch_size: 32,
            iterations: 150,
            loss: LossKind::Bce,
            ..Default::default()
        },
    )
    .unwrap();
    let before = trainer.evaluate(4).unwrap();
    trainer.train(|_, _| {}).unwrap();
    let after = trainer.evaluate(4).unwrap();
    let (x, _) = (trainer.task.batch(32, 1, 0), ());
    let xs: Vec<f32> = x.x.iter().map(|&v| v as f32).collect();
    let (_, cache) = trainer.model.forward(&xs, x.steps, x.lanes).unwrap();
    let rate = SpikingRnn::mean_rate(&cache);
    assert!(
        rate > 0.005 && rate < 0.9,
        "spike probability per step {rate}"
    );
    assert!(
        after.score.unwrap() >= 0.9,
        "accuracy {:?} (before training {:?})",
        after.score,
        before.score
    );
    assert!(after.loss < before.loss);
}
