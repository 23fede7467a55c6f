//! Bindings of the training crate's `Conv2dRateModel` (NeuroSimTools). Arrays arrive flat and time-major (`T × B × ·`, each image in
//! channel, row, column order); neuroxide.compat.neurosimtools does the reshaping.

use crate::fit_loop::{Fit, Fittable, err, fit};
use neuroxide_train::Loss;
use neuroxide_train::conv2d::{Conv2dModel, Conv2dSpec, ConvGeometry, ConvReadout};
use neuroxide_train::model::{NetworkType, Transfer};
use numpy::PyReadonlyArrayDyn;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn flat(a: &PyReadonlyArrayDyn<'_, f64>) -> Vec<f64> {
    a.as_array().iter().copied().collect()
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
    let losses = fit(
        &mut model,
        Fit {
            x: &x,
            initial: &initial,
            steps,
            lanes,
            target: target.as_ref().map(flat),
            mask: mask.as_ref().map(flat),
            loss,
            optimizer,
            lr,
            epochs,
            batch_size,
            order,
        },
    )?;
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

impl Fittable for Conv2dModel {
    fn values(&mut self) -> &mut [f64] {
        &mut self.params.values
    }
    fn trainable_mask(&self) -> Vec<bool> {
        self.params.trainable_mask()
    }
    fn loss_and_grad(
        &self,
        loss: &Loss,
        x: &[f64],
        target: &[f64],
        mask: &[f64],
        initial: &[f64],
        steps: usize,
        lanes: usize,
    ) -> PyResult<(f64, Vec<f64>)> {
        let fwd = self.forward(x, steps, lanes, Some(initial)).map_err(err)?;
        let (value, dy) = loss
            .eval(&fwd.outputs, self.n_out, target, mask)
            .map_err(err)?;
        Ok((value, self.backward(&fwd, x, &dy).map_err(err)?))
    }
}
