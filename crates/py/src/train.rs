//! Bindings of the training crate: NeuroSimTools' RateModel (R- and Z-type) forward and a
//! full-batch gradient loop. Arrays arrive flat and time-major (`T × B × ·`); the Python side
//! (neuroxide.compat.neurosimtools) does the reshaping.

use neuroxide_train::model::{Layer, NetworkType, PassOptions, RateModel, Recurrent, Transfer};
use neuroxide_train::{Loss, LossKind, Optimizer, OptimizerKind, TrainError};
use numpy::PyReadonlyArrayDyn;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn err(e: TrainError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The values in C order (`what` names the argument in errors of the callers).
fn flat(a: &PyReadonlyArrayDyn<'_, f64>, _what: &str) -> PyResult<Vec<f64>> {
    Ok(a.as_array().iter().copied().collect())
}

type Params = Vec<(String, Vec<f64>)>;
/// Outputs, final state, losses, parameters.
type Fitted = (Vec<f64>, Vec<f64>, Vec<f64>, Params);

/// Build the model from its arrays, run `epochs` gradient steps on the whole batch (none: a
/// forward pass only), and return (outputs after training `T × B × N_out`, final state `B × N`,
/// the loss before each step, the parameters by name).
#[pyfunction]
#[pyo3(signature = (w, w_in, w_out, bias, bias_out, eta, transfer, z_type, x, steps, lanes,
    initial, target=None, mask=None, loss="mse", optimizer="adam", lr=1e-3, epochs=0,
    trainable=Vec::new(), batch_size=0, order=None))]
#[allow(clippy::too_many_arguments)]
pub fn rate_model_fit(
    w: PyReadonlyArrayDyn<'_, f64>,
    w_in: Option<PyReadonlyArrayDyn<'_, f64>>,
    w_out: Option<PyReadonlyArrayDyn<'_, f64>>,
    bias: PyReadonlyArrayDyn<'_, f64>,
    bias_out: Option<PyReadonlyArrayDyn<'_, f64>>,
    eta: PyReadonlyArrayDyn<'_, f64>,
    transfer: &str,
    z_type: bool,
    x: PyReadonlyArrayDyn<'_, f64>,
    steps: usize,
    lanes: usize,
    initial: PyReadonlyArrayDyn<'_, f64>,
    target: Option<PyReadonlyArrayDyn<'_, f64>>,
    mask: Option<PyReadonlyArrayDyn<'_, f64>>,
    loss: &str,
    optimizer: &str,
    lr: f64,
    epochs: usize,
    trainable: Vec<String>,
    batch_size: usize,
    order: Option<Vec<usize>>,
) -> PyResult<Fitted> {
    let n = bias.as_array().len();
    let layer = |a: &Option<PyReadonlyArrayDyn<'_, f64>>, what: &str| -> PyResult<Layer> {
        Ok(match a {
            None => Layer::Identity,
            Some(a) => Layer::Matrix {
                rows: a.as_array().shape()[0],
                cols: a.as_array().shape().get(1).copied().unwrap_or(1),
                data: flat(a, what)?,
            },
        })
    };
    let mut spec = neuroxide_train::model::RateModelSpec::new(n, n, n);
    spec.network_type = if z_type {
        NetworkType::Z
    } else {
        NetworkType::R
    };
    spec.transfer = match transfer {
        "tanh" => Transfer::Tanh,
        "relu" => Transfer::Relu,
        "id" => Transfer::Id,
        other => {
            return Err(PyValueError::new_err(format!(
                "f: got `{other}`, expected tanh, relu or id"
            )));
        }
    };
    spec.eta = flat(&eta, "eta")?;
    spec.recurrent = Recurrent::Matrix(flat(&w, "recurrent")?);
    spec.readin = layer(&w_in, "readin")?;
    spec.readout = layer(&w_out, "readout")?;
    spec.bias_output = bias_out.is_some();
    spec.trainable = trainable;
    let mut model = RateModel::<f64>::new(spec).map_err(err)?;
    model
        .params
        .get_mut("bias")
        .expect("bias")
        .copy_from_slice(&flat(&bias, "bias")?);
    if let Some(b) = &bias_out {
        let b = flat(b, "bias_out")?;
        let slot = model.params.get_mut("bias_out").expect("bias_out");
        if slot.len() != b.len() {
            return Err(PyValueError::new_err("bias_out: one value per output"));
        }
        slot.copy_from_slice(&b);
    }
    let x = flat(&x, "x")?;
    let initial = flat(&initial, "initial_state")?;
    let options = PassOptions::default();
    let mut losses = Vec::with_capacity(epochs);
    if epochs > 0 {
        let kind = LossKind::parse(loss).ok_or_else(|| {
            PyValueError::new_err(format!(
                "loss: got `{loss}`, expected mse, bce, cross_entropy or angular"
            ))
        })?;
        let target = target
            .as_ref()
            .ok_or_else(|| PyValueError::new_err("fit needs a target"))?;
        let target = flat(target, "target")?;
        let mask = match &mask {
            Some(m) => flat(m, "mask")?,
            None => vec![1.0; target.len()],
        };
        let count = model.params.values.len();
        let mut opt = match optimizer {
            "adam" => Optimizer::adam(lr, count),
            "sgd" => Optimizer::new(OptimizerKind::Sgd { momentum: 0.0 }, lr, count),
            other => {
                return Err(PyValueError::new_err(format!(
                    "optimizer: got `{other}`, expected adam or sgd"
                )));
            }
        };
        let loss = Loss::new(kind);
        let train_mask = model.params.trainable_mask();
        let plan = crate::train_conv::batch_plan(order.as_deref(), epochs, lanes, batch_size)?;
        for idx in plan {
            // Mini-batches: the lanes of this step (none: the whole batch).
            let gathered;
            let (x, target, mask, initial, lanes) = match &idx {
                None => (&x, &target, &mask, &initial, lanes),
                Some(idx) => {
                    use crate::train_conv::gather;
                    gathered = (
                        gather(&x, steps, lanes, idx),
                        gather(&target, steps, lanes, idx),
                        gather(&mask, steps, lanes, idx),
                        gather(&initial, 1, lanes, idx),
                    );
                    (
                        &gathered.0,
                        &gathered.1,
                        &gathered.2,
                        &gathered.3,
                        idx.len(),
                    )
                }
            };
            let fwd = model
                .forward(x, steps, lanes, Some(initial.as_slice()), &options)
                .map_err(err)?;
            let (value, dy) = loss
                .eval(&fwd.outputs, model.n_out, target, mask)
                .map_err(err)?;
            losses.push(value);
            let grad = model.backward(&fwd, x, &dy, &options).map_err(err)?;
            opt.step(&mut model.params.values, &grad, &train_mask);
            model.project();
        }
    }
    let fwd = model
        .forward(&x, steps, lanes, Some(&initial), &options)
        .map_err(err)?;
    let params = model
        .params
        .slots
        .iter()
        .map(|s| {
            let v = model.params.values[s.offset..s.offset + s.len].to_vec();
            (s.name.clone(), v)
        })
        .collect();
    Ok((fwd.outputs, fwd.final_state, losses, params))
}
