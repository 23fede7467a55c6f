//! Bindings of the training crate: NeuroSimTools' RateModel (R- and Z-type) forward and a
//! full-batch gradient loop. Arrays arrive flat and time-major (`T × B × ·`); the Python side
//! (neuroxide.compat.neurosimtools) does the reshaping.

use crate::fit_loop::{Fit, Fittable, err, fit};
use neuroxide_train::Loss;
use neuroxide_train::model::{Layer, NetworkType, PassOptions, RateModel, Recurrent, Transfer};
use numpy::PyReadonlyArrayDyn;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

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
    let losses = fit(
        &mut model,
        Fit {
            x: &x,
            initial: &initial,
            steps,
            lanes,
            target: target.as_ref().map(|t| flat(t, "target")).transpose()?,
            mask: mask.as_ref().map(|m| flat(m, "mask")).transpose()?,
            loss,
            optimizer,
            lr,
            epochs,
            batch_size,
            order,
        },
    )?;
    let options = PassOptions::default();
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

impl Fittable for RateModel<f64> {
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
        let options = PassOptions::default();
        let fwd = self
            .forward(x, steps, lanes, Some(initial), &options)
            .map_err(err)?;
        let (value, dy) = loss
            .eval(&fwd.outputs, self.n_out, target, mask)
            .map_err(err)?;
        Ok((value, self.backward(&fwd, x, &dy, &options).map_err(err)?))
    }
    fn project(&mut self) {
        RateModel::project(self)
    }
}
