//! Readout fitting (`train.method: ridge | rls`) on a fixed random reservoir.

use neuroxide_train::fit::{Method, fit_readout};
use neuroxide_train::{
    LossKind, Optimizer, PassOptions, RateModel, RateModelSpec, Task, TaskKind, Trainer,
    TrainerOptions,
};

fn reservoir() -> (RateModel<f64>, Task) {
    let mut task = Task::new(TaskKind::Decision, 30, 4);
    task.noise = 0.1;
    let mut spec = RateModelSpec::new(60, task.inputs(), task.outputs());
    spec.eta = vec![0.2];
    spec.rho_recurrent = 0.9;
    spec.seed = 2;
    (RateModel::<f64>::new(spec).unwrap(), task)
}

fn held_out(model: RateModel<f64>, task: Task) -> (f64, f64) {
    let opt = Optimizer::adam(1e-3, model.params.values.len());
    let options = TrainerOptions {
        batch_size: 32,
        loss: LossKind::Mse,
        ..Default::default()
    };
    let e = Trainer::new(model, task, opt, options)
        .unwrap()
        .evaluate(4)
        .unwrap();
    (e.loss, e.score.unwrap())
}

/// RLS from P = I/α over the same samples ends at the ridge solution of penalty α.
#[test]
fn rls_and_ridge_fits_agree() {
    let (mut a, task) = reservoir();
    let mut b = a.clone();
    let opts = PassOptions::default();
    fit_readout(&mut a, &task, 16, 3, Method::Ridge { alpha: 0.5 }, &opts).unwrap();
    fit_readout(&mut b, &task, 16, 3, Method::Rls { alpha: 0.5 }, &opts).unwrap();
    for name in ["readout", "bias_out"] {
        let (x, y) = (a.params.get(name).unwrap(), b.params.get(name).unwrap());
        let err = x
            .iter()
            .zip(y)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-8, "{name}: {err}");
    }
}

/// The ridge readout of a random reservoir decides the task well above chance, and no nearby
/// readout fits its samples better.
#[test]
fn ridge_readout_learns_the_decision_and_is_a_minimum() {
    let (mut model, task) = reservoir();
    let (loss0, _) = held_out(model.clone(), task.clone());
    let opts = PassOptions::default();
    let mse = fit_readout(
        &mut model,
        &task,
        32,
        8,
        Method::Ridge { alpha: 1e-6 },
        &opts,
    )
    .unwrap();
    let (loss, score) = held_out(model.clone(), task.clone());
    assert!(loss < 0.5 * loss0, "held-out loss {loss0} → {loss}");
    assert!(score > 0.85, "held-out accuracy {score}");
    // The squared error on the fitted samples, computed here from the model's rates: the fit's
    // own figure, and larger for any nudged readout.
    let sq_error = |m: &RateModel<f64>| {
        let (w, b) = (
            m.params.get("readout").unwrap(),
            m.params.get("bias_out").unwrap(),
        );
        let (mut sq, mut count) = (0.0, 0);
        for i in 0..8 {
            let batch = task.batch(32, 0, i);
            let r = m.rates(&batch.x, batch.steps, batch.lanes, &opts).unwrap();
            for row in 0..batch.steps * batch.lanes {
                if batch.mask[row] > 0.0 {
                    let y: f64 = (0..60).map(|k| w[k] * r[row * 60 + k]).sum::<f64>() + b[0];
                    sq += (y - batch.target[row]).powi(2);
                    count += 1;
                }
            }
        }
        sq / count as f64
    };
    let fitted = sq_error(&model);
    assert!((fitted - mse).abs() < 1e-9 * mse, "{fitted} vs {mse}");
    for (i, s) in [(0usize, 1e-2), (7, -1e-2), (31, 1e-2)] {
        let mut p = model.clone();
        p.params.get_mut("readout").unwrap()[i] += s;
        assert!(
            sq_error(&p) > fitted,
            "nudging readout[{i}] lowers the error"
        );
    }
    let mut p = model.clone();
    p.params.get_mut("bias_out").unwrap()[0] += 1e-2;
    assert!(sq_error(&p) > fitted);
}

#[test]
fn a_model_without_readout_bias_is_refused() {
    let (model, task) = reservoir();
    let mut spec = model.spec.clone();
    spec.bias_output = false;
    spec.trainable.retain(|p| p != "bias_out");
    let mut m = RateModel::<f64>::new(spec).unwrap();
    let e = fit_readout(
        &mut m,
        &task,
        8,
        1,
        Method::Ridge { alpha: 1.0 },
        &PassOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("train.method") && e.contains("bias_output"),
        "{e}"
    );
}
