//! The training loop: batches from a task, BPTT gradients, an optimiser step, held-out
//! evaluation with early stopping, and a state that saves to and resumes from named arrays.

use crate::TrainError;
use crate::loss::{Loss, LossKind};
use crate::model::{PassOptions, RateModel};
use crate::optim::Optimizer;
use crate::params::ParamSet;
use crate::tasks::{Task, TaskBatch};
use neuroxide::{ArrayData, NamedArray, Real};
use std::cell::RefCell;

/// Settings of a training run.
#[derive(Clone, Debug)]
pub struct TrainerOptions {
    pub batch_size: usize,
    pub iterations: u64,
    pub loss: LossKind,
    /// λ·Σ p² over the trainable weight matrices (recurrent, u, v, readin, readout).
    pub weight_l2: f64,
    pub pass: PassOptions,
    /// Evaluate on the held-out split every this many iterations (0: never).
    pub validate_every: u64,
    pub validation_batches: u64,
    /// Stop after this many evaluations without a better held-out loss (0: never), and keep the
    /// best parameters.
    pub patience: u64,
    /// Stop once the held-out score reaches this (accuracy ≥, or phase error ≤ for `odr`).
    pub target_score: Option<f64>,
}

impl Default for TrainerOptions {
    fn default() -> Self {
        TrainerOptions {
            batch_size: 32,
            iterations: 100,
            loss: LossKind::Mse,
            weight_l2: 0.0,
            pass: PassOptions::default(),
            validate_every: 0,
            validation_batches: 2,
            patience: 0,
            target_score: None,
        }
    }
}

/// One iteration's numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRecord {
    pub iteration: u64,
    pub loss: f64,
    pub score: Option<f64>,
    pub grad_norm: f64,
    pub lr: f64,
}

/// A held-out evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub iteration: u64,
    pub loss: f64,
    pub score: Option<f64>,
}

/// Why training stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    Iterations,
    EarlyStopping,
    TargetReached,
}

/// What the trainer needs of a network: sizes, parameters, a forward pass that keeps what its
/// backward pass needs, and the backward pass.
pub trait Network<T: Real>: Clone {
    type Cache;
    /// (inputs, outputs).
    fn sizes(&self) -> (usize, usize);
    fn params(&self) -> &ParamSet<T>;
    fn params_mut(&mut self) -> &mut ParamSet<T>;
    /// Outputs (`T × B × N_out`), the value of the network's own penalty terms, and the cache.
    fn run(
        &self,
        x: &[T],
        steps: usize,
        lanes: usize,
        options: &PassOptions,
    ) -> Result<(Vec<T>, f64, Self::Cache), TrainError>;
    /// [`Network::run`], reusing the buffers of an earlier pass's cache (`spare`) where it can;
    /// the numbers are the same.
    fn run_reusing(
        &self,
        x: &[T],
        steps: usize,
        lanes: usize,
        options: &PassOptions,
        spare: Option<Self::Cache>,
    ) -> Result<(Vec<T>, f64, Self::Cache), TrainError> {
        let _ = spare;
        self.run(x, steps, lanes, options)
    }
    /// ∂(loss + penalties)/∂parameters given ∂loss/∂outputs.
    fn gradient(
        &self,
        cache: &Self::Cache,
        x: &[T],
        d_out: &[T],
        options: &PassOptions,
    ) -> Result<Vec<T>, TrainError>;
    /// Put parameters back into their allowed range after an optimiser step.
    fn project(&mut self) {}
}

impl<T: Real> Network<T> for RateModel<T> {
    type Cache = crate::model::Forward<T>;
    fn sizes(&self) -> (usize, usize) {
        (self.n_in, self.n_out)
    }
    fn params(&self) -> &ParamSet<T> {
        &self.params
    }
    fn params_mut(&mut self) -> &mut ParamSet<T> {
        &mut self.params
    }
    fn run(
        &self,
        x: &[T],
        steps: usize,
        lanes: usize,
        options: &PassOptions,
    ) -> Result<(Vec<T>, f64, Self::Cache), TrainError> {
        self.run_reusing(x, steps, lanes, options, None)
    }
    fn run_reusing(
        &self,
        x: &[T],
        steps: usize,
        lanes: usize,
        options: &PassOptions,
        spare: Option<Self::Cache>,
    ) -> Result<(Vec<T>, f64, Self::Cache), TrainError> {
        let fwd = self.forward_reusing(x, steps, lanes, None, options, spare)?;
        let penalty = options.rate_l2 * fwd.mean_rate_sq;
        Ok((fwd.outputs.clone(), penalty, fwd))
    }
    fn gradient(
        &self,
        cache: &Self::Cache,
        x: &[T],
        d_out: &[T],
        options: &PassOptions,
    ) -> Result<Vec<T>, TrainError> {
        self.backward(cache, x, d_out, options)
    }
    fn project(&mut self) {
        RateModel::project(self)
    }
}

/// A model, a task and an optimiser, trained together.
#[derive(Clone, Debug)]
pub struct Trainer<T: Real, M: Network<T> = RateModel<T>> {
    pub model: M,
    pub task: Task,
    pub optimizer: Optimizer,
    pub options: TrainerOptions,
    /// Iterations done.
    pub iteration: u64,
    pub best_loss: f64,
    pub best_params: Option<Vec<T>>,
    pub bad_evaluations: u64,
    mask: Vec<bool>,
    /// The last pass's cache, whose buffers the next pass reuses.
    spare: Spare<M::Cache>,
}

/// A cache kept between passes (a clone of the trainer starts without one).
struct Spare<C>(RefCell<Option<C>>);

impl<C> Clone for Spare<C> {
    fn clone(&self) -> Self {
        Spare(RefCell::new(None))
    }
}

impl<C> std::fmt::Debug for Spare<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spare")
    }
}

const WEIGHT_NAMES: &[&str] = &["recurrent", "u", "v", "readin", "readout"];

impl<T: Real, M: Network<T>> Trainer<T, M> {
    pub fn new(
        model: M,
        task: Task,
        optimizer: Optimizer,
        options: TrainerOptions,
    ) -> Result<Self, TrainError> {
        let (n_in, n_out) = model.sizes();
        task.check(n_in, n_out, options.loss)?;
        if options.batch_size == 0 {
            return Err(TrainError::invalid(
                "train.batch_size",
                0,
                "a positive batch size",
            ));
        }
        if !model.params().slots.iter().any(|s| s.trainable) {
            return Err(TrainError::invalid(
                "train.parameters",
                "[]",
                format!(
                    "at least one parameter to train (this model has {})",
                    model
                        .params()
                        .slots
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let mask = model.params().trainable_mask();
        Ok(Trainer {
            model,
            task,
            optimizer,
            options,
            iteration: 0,
            best_loss: f64::INFINITY,
            best_params: None,
            bad_evaluations: 0,
            mask,
            spare: Spare(RefCell::new(None)),
        })
    }

    fn inputs(batch: &TaskBatch) -> Vec<T> {
        batch.x.iter().map(|&v| T::from_f64(v)).collect()
    }

    /// Loss (task loss + penalties), its gradient, and the outputs for a batch.
    pub fn loss_and_grad(&self, batch: &TaskBatch) -> Result<(f64, Vec<T>, Vec<f64>), TrainError> {
        let x = Self::inputs(batch);
        let opts = &self.options.pass;
        let n_out = self.model.sizes().1;
        let spare = self.spare.0.borrow_mut().take();
        let (outputs, penalty, cache) =
            self.model
                .run_reusing(&x, batch.steps, batch.lanes, opts, spare)?;
        let (mut loss, d_out) = Loss::new(self.options.loss)
            .eval(&outputs, n_out, &batch.target, &batch.mask)
            .map_err(|e| match e {
                TrainError::NotFinite(m) => {
                    TrainError::NotFinite(format!("iteration {}: {m}", self.iteration + 1))
                }
                other => other,
            })?;
        loss += penalty;
        let mut grad = self.model.gradient(&cache, &x, &d_out, opts)?;
        *self.spare.0.borrow_mut() = Some(cache);
        if self.options.weight_l2 != 0.0 {
            let lam = self.options.weight_l2;
            let params = self.model.params();
            for s in &params.slots {
                if !(s.trainable && WEIGHT_NAMES.contains(&s.name.as_str())) {
                    continue;
                }
                for i in s.offset..s.offset + s.len {
                    let p = params.values[i].to_f64();
                    loss += lam * p * p;
                    grad[i] += T::from_f64(2.0 * lam * p);
                }
            }
        }
        if !loss.is_finite() || grad.iter().any(|g| !g.is_finite()) {
            return Err(TrainError::NotFinite(format!(
                "the loss or its gradient is not finite at iteration {} (loss {loss}): the network diverged; lower the learning rate, set `clip`, or shrink the initial weights",
                self.iteration
            )));
        }
        let outputs = outputs.iter().map(|v| v.to_f64()).collect();
        Ok((loss, grad, outputs))
    }

    /// One optimiser step on training batch `iteration`.
    pub fn step(&mut self) -> Result<StepRecord, TrainError> {
        let batch = self.task.batch(self.options.batch_size, 0, self.iteration);
        let (loss, grad, outputs) = self.loss_and_grad(&batch)?;
        let lr = self.optimizer.current_lr();
        let grad_norm = self
            .optimizer
            .step(&mut self.model.params_mut().values, &grad, &self.mask);
        self.model.project();
        self.iteration += 1;
        Ok(StepRecord {
            iteration: self.iteration,
            loss,
            score: batch.score(&outputs, self.model.sizes().1),
            grad_norm,
            lr,
        })
    }

    /// Loss and score on `batches` held-out batches.
    pub fn evaluate(&self, batches: u64) -> Result<Evaluation, TrainError> {
        let mut loss = 0.0;
        let mut score = None::<f64>;
        for i in 0..batches.max(1) {
            let batch = self.task.batch(self.options.batch_size, 1, i);
            let x = Self::inputs(&batch);
            let n_out = self.model.sizes().1;
            let spare = self.spare.0.borrow_mut().take();
            let (outputs, _, cache) =
                self.model
                    .run_reusing(&x, batch.steps, batch.lanes, &self.options.pass, spare)?;
            *self.spare.0.borrow_mut() = Some(cache);
            let (l, _) =
                Loss::new(self.options.loss).eval(&outputs, n_out, &batch.target, &batch.mask)?;
            loss += l;
            let y: Vec<f64> = outputs.iter().map(|v| v.to_f64()).collect();
            if let Some(s) = batch.score(&y, n_out) {
                *score.get_or_insert(0.0) += s;
            }
        }
        let k = batches.max(1) as f64;
        Ok(Evaluation {
            iteration: self.iteration,
            loss: loss / k,
            score: score.map(|s| s / k),
        })
    }

    fn reached(&self, score: Option<f64>) -> bool {
        match (self.options.target_score, score) {
            (Some(target), Some(s)) => {
                if self.task.kind == crate::tasks::TaskKind::Odr {
                    s <= target
                } else {
                    s >= target
                }
            }
            _ => false,
        }
    }

    /// Train until the iterations are done, early stopping, or the target score; `report` sees
    /// every step and every evaluation.
    pub fn train(
        &mut self,
        mut report: impl FnMut(&StepRecord, Option<&Evaluation>),
    ) -> Result<Stop, TrainError> {
        while self.iteration < self.options.iterations {
            let record = self.step()?;
            let every = self.options.validate_every;
            let evaluation = if every > 0 && self.iteration.is_multiple_of(every) {
                Some(self.evaluate(self.options.validation_batches)?)
            } else {
                None
            };
            report(&record, evaluation.as_ref());
            if let Some(e) = evaluation {
                if e.loss < self.best_loss {
                    self.best_loss = e.loss;
                    self.best_params = Some(self.model.params().values.clone());
                    self.bad_evaluations = 0;
                } else {
                    self.bad_evaluations += 1;
                }
                if self.reached(e.score) {
                    return Ok(Stop::TargetReached);
                }
                if self.options.patience > 0 && self.bad_evaluations >= self.options.patience {
                    if let Some(best) = &self.best_params {
                        self.model.params_mut().values = best.clone();
                    }
                    return Ok(Stop::EarlyStopping);
                }
            }
        }
        Ok(Stop::Iterations)
    }

    /// The whole training state as named arrays: `param.*`, `best.*`, `optimizer.m`,
    /// `optimizer.v`, `trainer.state` = [iteration, optimiser steps, best loss, bad evaluations].
    pub fn state_arrays(&self) -> Vec<NamedArray> {
        let mut arrays = self.model.params().to_arrays("param.");
        if let Some(best) = &self.best_params {
            let mut p = self.model.params().clone();
            p.values = best.clone();
            arrays.extend(p.to_arrays("best."));
        }
        let n = self.optimizer.m.len();
        for (name, v) in [
            ("optimizer.m", &self.optimizer.m),
            ("optimizer.v", &self.optimizer.v),
        ] {
            arrays.push(NamedArray {
                name: name.into(),
                shape: vec![n],
                data: ArrayData::F64(v.clone()),
            });
        }
        arrays.push(NamedArray {
            name: "trainer.state".into(),
            shape: vec![4],
            data: ArrayData::F64(vec![
                self.iteration as f64,
                self.optimizer.steps as f64,
                self.best_loss,
                self.bad_evaluations as f64,
            ]),
        });
        arrays
    }

    /// Restore a state written by [`Trainer::state_arrays`].
    pub fn load_state(&mut self, arrays: &[NamedArray]) -> Result<(), TrainError> {
        self.model
            .params_mut()
            .load_arrays(arrays, "param.")
            .map_err(TrainError::Io)?;
        if arrays.iter().any(|a| a.name.starts_with("best.")) {
            let mut p = self.model.params().clone();
            p.load_arrays(arrays, "best.").map_err(TrainError::Io)?;
            self.best_params = Some(p.values);
        }
        let get = |name: &str| {
            arrays
                .iter()
                .find(|a| a.name == name)
                .map(|a| a.data.to_f64())
                .ok_or_else(|| TrainError::Io(format!("the checkpoint has no array `{name}`")))
        };
        let m = get("optimizer.m")?;
        let v = get("optimizer.v")?;
        if m.len() != self.optimizer.m.len() || v.len() != self.optimizer.v.len() {
            return Err(TrainError::Io(format!(
                "the checkpoint's optimiser state has {} values, the model {}",
                m.len(),
                self.optimizer.m.len()
            )));
        }
        self.optimizer.m = m;
        self.optimizer.v = v;
        let s = get("trainer.state")?;
        self.iteration = s[0] as u64;
        self.optimizer.steps = s[1] as u64;
        self.best_loss = s[2];
        self.bad_evaluations = s[3] as u64;
        Ok(())
    }
}
