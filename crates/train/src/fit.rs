//! Readout fitting inside `neuroxide train` (`train.method: ridge | rls`): the network is run on
//! training batches of the task with its recurrent and input weights as they are (a reservoir),
//! and the readout `y = W_out ρ + b_out` is fitted to the targets at the time steps the task's
//! mask selects, in closed form (ridge regression) or sample by sample (recursive least squares,
//! FORCE's rule; Sussillo & Abbott 2009), as RectiPy's `fit_ridge` and `fit_rls` do.

use crate::model::{PassOptions, RateModel};
use crate::readout::{Rls, ridge};
use crate::tasks::Task;
use crate::{TrainError, model::Layer};
use neuroxide::Real;

/// How `neuroxide train` fits a model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Backpropagation through time with the optimiser (the default).
    Bptt,
    /// Ridge regression of the readout with penalty α (the bias is a feature, penalised too).
    Ridge { alpha: f64 },
    /// Recursive least squares on the readout from P = I/α, one sample at a time.
    Rls { alpha: f64 },
}

/// The samples of a batch: rates (rows × N) and targets (rows × C) at every (step, lane) whose
/// mask is set for every output channel.
fn samples<T: Real>(
    model: &RateModel<T>,
    task: &Task,
    batch_size: usize,
    index: u64,
    options: &PassOptions,
) -> Result<(Vec<f64>, Vec<f64>), TrainError> {
    let batch = task.batch(batch_size, 0, index);
    let x: Vec<T> = batch.x.iter().map(|&v| T::from_f64(v)).collect();
    let rates = model.rates(&x, batch.steps, batch.lanes, options)?;
    let (n, c) = (model.n(), batch.n_target);
    let mut r = Vec::new();
    let mut y = Vec::new();
    for row in 0..batch.steps * batch.lanes {
        if batch.mask[row * c..(row + 1) * c].iter().all(|&m| m > 0.0) {
            r.extend(rates[row * n..(row + 1) * n].iter().map(|v| v.to_f64()));
            y.extend_from_slice(&batch.target[row * c..(row + 1) * c]);
        }
    }
    Ok((r, y))
}

/// Fit the readout and output bias of `model` on `batches` training batches of `batch_size`
/// trials; returns the mean squared error of the fitted readout on those samples (for RLS, of its
/// a-priori predictions).
pub fn fit_readout<T: Real>(
    model: &mut RateModel<T>,
    task: &Task,
    batch_size: usize,
    batches: u64,
    method: Method,
    options: &PassOptions,
) -> Result<f64, TrainError> {
    let n = model.n();
    let c = model.n_out;
    if matches!(model.spec.readout, Layer::Identity) || model.params.get("bias_out").is_none() {
        return Err(TrainError::invalid(
            "train.method",
            "a readout fit",
            "a model with a readout layer and an output bias (model.readout a size or matrix, model.bias_output: true)",
        ));
    }
    let batches = batches.max(1);
    let (w, b, mse) = match method {
        Method::Bptt => unreachable!("fit_readout is for ridge and rls"),
        Method::Ridge { alpha } => {
            let (mut r, mut y) = (Vec::new(), Vec::new());
            for i in 0..batches {
                let (ri, yi) = samples(model, task, batch_size, i, options)?;
                r.extend(ri);
                y.extend(yi);
            }
            if r.is_empty() {
                return Err(TrainError::invalid(
                    "task",
                    "no masked samples",
                    "a task whose mask selects some time steps",
                ));
            }
            let (w, b) = ridge(&r, n, &y, c, alpha).ok_or_else(|| {
                TrainError::invalid("train.alpha", alpha, "α > 0 (the system is singular)")
            })?;
            let rows = r.len() / n;
            let mut sq = 0.0;
            for row in 0..rows {
                for k in 0..c {
                    let p: f64 = (0..n).map(|i| w[k * n + i] * r[row * n + i]).sum::<f64>() + b[k];
                    sq += (p - y[row * c + k]).powi(2);
                }
            }
            (w, b, sq / (rows * c) as f64)
        }
        Method::Rls { alpha } => {
            let mut rls = Rls::new(n, c, alpha);
            let (mut sq, mut count) = (0.0, 0usize);
            for i in 0..batches {
                let (r, y) = samples(model, task, batch_size, i, options)?;
                for row in 0..r.len() / n {
                    sq += rls.update(&r[row * n..(row + 1) * n], &y[row * c..(row + 1) * c]);
                    count += c;
                }
            }
            let (w, b) = rls.weights();
            (w, b, sq / count.max(1) as f64)
        }
    };
    if !(mse.is_finite() && w.iter().chain(&b).all(|v| v.is_finite())) {
        return Err(TrainError::NotFinite(format!(
            "the readout fit is not finite (mean squared error {mse}): raise train.alpha"
        )));
    }
    for (dst, src) in model
        .params
        .get_mut("readout")
        .expect("a readout layer")
        .iter_mut()
        .zip(&w)
    {
        *dst = T::from_f64(*src);
    }
    for (dst, src) in model
        .params
        .get_mut("bias_out")
        .expect("checked above")
        .iter_mut()
        .zip(&b)
    {
        *dst = T::from_f64(*src);
    }
    Ok(mse)
}
