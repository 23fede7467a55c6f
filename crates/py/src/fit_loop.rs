//! The gradient loop shared by the RateModel and Conv2dRateModel bindings: the loss and the
//! optimiser by name, the mini-batch plan, one optimiser step per batch.

use neuroxide_train::{Loss, LossKind, Optimizer, OptimizerKind, TrainError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

pub(crate) fn err(e: TrainError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A model the loop can train.
pub(crate) trait Fittable {
    /// The parameter values the optimiser updates, and which of them train.
    fn values(&mut self) -> &mut [f64];
    fn trainable_mask(&self) -> Vec<bool>;
    /// The loss of a pass on `lanes` trials of `x` (`steps × lanes × ·`) from `initial`, and its
    /// gradient.
    fn loss_and_grad(
        &self,
        loss: &Loss,
        x: &[f64],
        target: &[f64],
        mask: &[f64],
        initial: &[f64],
        steps: usize,
        lanes: usize,
    ) -> PyResult<(f64, Vec<f64>)>;
    /// Put parameters back into their allowed range after a step.
    fn project(&mut self) {}
}

/// The batch a fit sees: inputs `steps × lanes × ·`, initial states `lanes × ·`, and the training
/// settings as the Python side passes them.
pub(crate) struct Fit<'a> {
    pub x: &'a [f64],
    pub initial: &'a [f64],
    pub steps: usize,
    pub lanes: usize,
    pub target: Option<Vec<f64>>,
    pub mask: Option<Vec<f64>>,
    pub loss: &'a str,
    pub optimizer: &'a str,
    pub lr: f64,
    pub epochs: usize,
    pub batch_size: usize,
    pub order: Option<Vec<usize>>,
}

/// Run the fit's optimiser steps on `model`; the loss before each step.
pub(crate) fn fit<M: Fittable>(model: &mut M, f: Fit<'_>) -> PyResult<Vec<f64>> {
    let mut losses = Vec::new();
    if f.epochs == 0 {
        return Ok(losses);
    }
    let kind = LossKind::parse(f.loss).ok_or_else(|| {
        PyValueError::new_err(format!(
            "loss: got `{}`, expected mse, bce, cross_entropy or angular",
            f.loss
        ))
    })?;
    let target = f
        .target
        .ok_or_else(|| PyValueError::new_err("fit needs a target"))?;
    let mask = f.mask.unwrap_or_else(|| vec![1.0; target.len()]);
    let count = model.values().len();
    let mut opt = match f.optimizer {
        "adam" => Optimizer::adam(f.lr, count),
        "sgd" => Optimizer::new(OptimizerKind::Sgd { momentum: 0.0 }, f.lr, count),
        other => {
            return Err(PyValueError::new_err(format!(
                "optimizer: got `{other}`, expected adam or sgd"
            )));
        }
    };
    let loss = Loss::new(kind);
    let train_mask = model.trainable_mask();
    let (steps, lanes) = (f.steps, f.lanes);
    for idx in batch_plan(f.order.as_deref(), f.epochs, lanes, f.batch_size)? {
        // Mini-batches: the lanes of this step (none: the whole batch).
        let gathered;
        let (xb, tb, mb, ib, nb) = match &idx {
            None => (f.x, &target[..], &mask[..], f.initial, lanes),
            Some(idx) => {
                gathered = (
                    gather(f.x, steps, lanes, idx),
                    gather(&target, steps, lanes, idx),
                    gather(&mask, steps, lanes, idx),
                    gather(f.initial, 1, lanes, idx),
                );
                (
                    &gathered.0[..],
                    &gathered.1[..],
                    &gathered.2[..],
                    &gathered.3[..],
                    idx.len(),
                )
            }
        };
        let (value, grad) = model.loss_and_grad(&loss, xb, tb, mb, ib, steps, nb)?;
        if !value.is_finite() {
            return Err(err(TrainError::NotFinite(format!(
                "the loss is {value} at step {}",
                losses.len()
            ))));
        }
        losses.push(value);
        opt.step(model.values(), &grad, &train_mask);
        model.project();
    }
    Ok(losses)
}

/// The lanes of each optimiser step: `None` for the whole batch (every epoch, when
/// `batch_size` is 0), else the epoch's permutation in `order` (`epochs × lanes`) cut into
/// batches of `batch_size` lanes (the last one smaller).
pub(crate) fn batch_plan(
    order: Option<&[usize]>,
    epochs: usize,
    lanes: usize,
    batch_size: usize,
) -> PyResult<Vec<Option<Vec<usize>>>> {
    if batch_size == 0 {
        return Ok(vec![None; epochs]);
    }
    let order = order.ok_or_else(|| PyValueError::new_err("batch_size needs a lane order"))?;
    if order.len() != epochs * lanes {
        return Err(PyValueError::new_err(format!(
            "order: {} lane indices, expected epochs × lanes = {epochs} × {lanes}",
            order.len()
        )));
    }
    let mut plan = Vec::new();
    for epoch in order.chunks(lanes.max(1)) {
        let mut seen = vec![false; lanes];
        for &l in epoch {
            if l >= lanes || std::mem::replace(&mut seen[l], true) {
                return Err(PyValueError::new_err(
                    "order: each epoch must be a permutation of the lanes",
                ));
            }
        }
        plan.extend(epoch.chunks(batch_size).map(|c| Some(c.to_vec())));
    }
    Ok(plan)
}

/// The rows of lanes `idx` of a time-major `steps × lanes × width` array.
pub(crate) fn gather(data: &[f64], steps: usize, lanes: usize, idx: &[usize]) -> Vec<f64> {
    let width = data.len() / (steps * lanes).max(1);
    let mut out = Vec::with_capacity(steps * idx.len() * width);
    for t in 0..steps {
        for &l in idx {
            let row = (t * lanes + l) * width;
            out.extend_from_slice(&data[row..row + width]);
        }
    }
    out
}
