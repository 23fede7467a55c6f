//! Bindings of the training crate's `Conv2dRateModel` (NeuroSimTools), and the mini-batch plan
//! shared with `rate_model_fit`. Arrays arrive flat and time-major (`T × B × ·`, each image in
//! channel, row, column order); neuroxide.compat.neurosimtools does the reshaping.

use neuroxide_train::conv2d::{Conv2dModel, Conv2dSpec, ConvGeometry, ConvReadout};
use neuroxide_train::model::{NetworkType, Transfer};
use neuroxide_train::{Loss, LossKind, Optimizer, OptimizerKind, TrainError};
use numpy::PyReadonlyArrayDyn;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn err(e: TrainError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn flat(a: &PyReadonlyArrayDyn<'_, f64>) -> Vec<f64> {
    a.as_array().iter().copied().collect()
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

/// A convolution from `(c_in, c_out, kh, kw, sh, sw, top, bottom, left, right)`.
type Geometry = (
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
    usize,
);

fn geometry(g: Geometry) -> ConvGeometry {
    let (c_in, c_out, kh, kw, sh, sw, top, bottom, left, right) = g;
    ConvGeometry {
        c_in,
        c_out,
        kernel: [kh, kw],
        stride: [sh, sw],
        padding: [top, bottom, left, right],
    }
}

type Params = Vec<(String, Vec<f64>)>;
/// Outputs `T × B × N_out`, history `T × B × C·H·W`, final state, losses, parameters, the state
/// shape (C, H, W) and the output image shape of a convolutional readout.
type Fitted = (
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Params,
    (usize, usize, usize),
    Option<(usize, usize, usize)>,
);

/// Build a Conv2dRateModel from its structure and parameter arrays, run `epochs` gradient steps
/// (mini-batches of `batch_size` lanes in `order` when given; none: a forward pass only), and
/// return the outputs after training, the history, final state, losses and parameters.
#[pyfunction]
#[pyo3(signature = (z_type, transfer, channels, kernel, input, readin, readout, out_channels,
    readout_geometry, bias_recurrent, bias_output, eta, params, x, steps, lanes, initial,
    target=None, mask=None, loss="mse", optimizer="adam", lr=1e-3, epochs=0,
    trainable=Vec::new(), batch_size=0, order=None))]
#[allow(clippy::too_many_arguments)]
pub fn conv2d_model_fit(
    z_type: bool,
    transfer: &str,
    channels: usize,
    kernel: (usize, usize),
    input: (usize, usize, usize),
    readin: Option<Geometry>,
    readout: &str,
    out_channels: usize,
    readout_geometry: Option<Geometry>,
    bias_recurrent: bool,
    bias_output: bool,
    eta: PyReadonlyArrayDyn<'_, f64>,
    params: Vec<(String, PyReadonlyArrayDyn<'_, f64>)>,
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
    let transfer = match transfer {
        "tanh" => Transfer::Tanh,
        "relu" => Transfer::Relu,
        "id" => Transfer::Id,
        other => {
            return Err(PyValueError::new_err(format!(
                "f: got `{other}`, expected tanh, relu or id"
            )));
        }
    };
    let readout = match (readout, readout_geometry) {
        ("id", _) => ConvReadout::Identity,
        ("conv", Some(g)) => ConvReadout::Conv {
            geometry: geometry(g),
            bias: bias_output,
        },
        ("full", _) => ConvReadout::Linear {
            outputs: out_channels,
            bias: bias_output,
        },
        (other, _) => {
            return Err(PyValueError::new_err(format!(
                "readout: got `{other}`, expected id, conv (with its geometry) or full"
            )));
        }
    };
    let spec = Conv2dSpec {
        network_type: if z_type {
            NetworkType::Z
        } else {
            NetworkType::R
        },
        transfer,
        channels,
        kernel: [kernel.0, kernel.1],
        input: [input.0, input.1, input.2],
        readin: readin.map(geometry),
        readout,
        bias_recurrent,
        eta: flat(&eta),
        trainable,
        seed: 0,
    };
    let mut model = Conv2dModel::new(spec).map_err(err)?;
    for (name, values) in &params {
        let values = flat(values);
        let slot = model
            .params
            .get_mut(name)
            .ok_or_else(|| PyValueError::new_err(format!("no parameter `{name}` in this model")))?;
        if slot.len() != values.len() {
            return Err(PyValueError::new_err(format!(
                "{name}: {} values, expected {}",
                values.len(),
                slot.len()
            )));
        }
        slot.copy_from_slice(&values);
    }
    let x = flat(&x);
    let initial = flat(&initial);
    let mut losses = Vec::new();
    if epochs > 0 {
        let kind = LossKind::parse(loss).ok_or_else(|| {
            PyValueError::new_err(format!(
                "loss: got `{loss}`, expected mse, bce, cross_entropy or angular"
            ))
        })?;
        let target = target
            .as_ref()
            .map(flat)
            .ok_or_else(|| PyValueError::new_err("fit needs a target"))?;
        let mask = mask.as_ref().map_or_else(|| vec![1.0; target.len()], flat);
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
        for idx in batch_plan(order.as_deref(), epochs, lanes, batch_size)? {
            let gathered;
            let (xb, tb, mb, ib, nb) = match &idx {
                None => (&x, &target, &mask, &initial, lanes),
                Some(idx) => {
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
                .forward(xb, steps, nb, Some(ib.as_slice()))
                .map_err(err)?;
            let (value, dy) = loss.eval(&fwd.outputs, model.n_out, tb, mb).map_err(err)?;
            if !value.is_finite() {
                return Err(err(TrainError::NotFinite(format!(
                    "the loss is {value} at step {}",
                    losses.len()
                ))));
            }
            losses.push(value);
            let grad = model.backward(&fwd, xb, &dy).map_err(err)?;
            opt.step(&mut model.params.values, &grad, &train_mask);
        }
    }
    let fwd = model
        .forward(&x, steps, lanes, Some(&initial))
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
    let [c, h, w] = model.state_shape;
    let history = fwd.history().to_vec();
    Ok((
        fwd.outputs,
        history,
        fwd.final_state,
        losses,
        params,
        (c, h, w),
        model.output_shape.map(|[a, b, c]| (a, b, c)),
    ))
}
