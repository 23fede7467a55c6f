//! Bindings of the training crate's RectiPy network (`neuroxide_train::rectipy`): the graph of
//! `neuroxide.compat.rectipy.Network`, its surrogate-gradient forward and backward passes and an
//! optimiser over the trained parameters. Arrays arrive flat and row-major; the Python side
//! (neuroxide.compat.rectipy) builds the graph, applies output activations and losses, and
//! drives the windows and epochs of `fit_bptt`.

use neuroxide_train::rectipy::{
    EdgeSpec, GraphCache, GraphSpec, NodeKind, NodeSpec, RectipyNet, Var,
};
use neuroxide_train::spiking::Surrogate;
use neuroxide_train::{Optimizer, OptimizerKind, TrainError};
use numpy::PyReadonlyArrayDyn;
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn err(e: TrainError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn item<'py, T: for<'a> FromPyObject<'a, 'py, Error = PyErr>>(
    d: &Bound<'py, PyDict>,
    key: &str,
) -> PyResult<T> {
    match d.get_item(key)? {
        Some(v) => v.extract(),
        None => Err(PyKeyError::new_err(format!(
            "node or edge description lacks `{key}`"
        ))),
    }
}

fn var(name: &str) -> PyResult<Var> {
    match name {
        "v" => Ok(Var::V),
        "s" => Ok(Var::S),
        "r" => Ok(Var::R),
        other => Err(PyValueError::new_err(format!(
            "variable: got `{other}`, expected v, s or r"
        ))),
    }
}

/// A RectiPy network being trained: `forward` (advances the state), `backward` (the gradient of
/// the last forward pass for ∂L/∂z), `step` (one optimiser update of the trained parameters).
#[pyclass(module = "neuroxide._neuroxide")]
pub struct RectipyBptt {
    net: RectipyNet,
    optimizer: Optimizer,
    cache: Option<GraphCache>,
}

#[pymethods]
impl RectipyBptt {
    /// `nodes`: dicts with label, kind (lif, qif, li_tanh, li_sigmoid), n, tau, k, eta, v0 (per
    /// neuron), decay, threshold, reset, weights (N×N flat or None), source, output, optionally
    /// adaptation ((decay, α) of qif_sfa's x, or None), and for
    /// li_sigmoid r_max, slope, v0_sigmoid. `edges`: dicts with label, src, tgt, weights
    /// (target × source flat), delays (per source neuron, may be empty).
    #[new]
    #[pyo3(signature = (dt, nodes, edges, input, output, readin=None, readout=None, gain=1.0,
        slope=1.0, smooth=false, detach_reset=true, trainable=Vec::new(), optimizer="sgd",
        lr=1e-3, momentum=0.0, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        dt: f64,
        nodes: Vec<Bound<'_, PyDict>>,
        edges: Vec<Bound<'_, PyDict>>,
        input: usize,
        output: usize,
        readin: Option<(usize, Vec<f64>)>,
        readout: Option<(usize, Vec<f64>)>,
        gain: f64,
        slope: f64,
        smooth: bool,
        detach_reset: bool,
        trainable: Vec<String>,
        optimizer: &str,
        lr: f64,
        momentum: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        weight_decay: f64,
    ) -> PyResult<Self> {
        let mut node_specs = Vec::new();
        for d in &nodes {
            let kind: String = item(d, "kind")?;
            let kind = match kind.as_str() {
                "lif" => NodeKind::Lif,
                "qif" => NodeKind::Qif,
                "li_tanh" => NodeKind::LeakyTanh,
                "li_sigmoid" => NodeKind::LeakySigmoid {
                    r_max: item(d, "r_max")?,
                    slope: item(d, "slope")?,
                    v0: item(d, "v0_sigmoid")?,
                },
                other => {
                    return Err(PyValueError::new_err(format!(
                        "kind: got `{other}`, expected lif, qif, li_tanh or li_sigmoid"
                    )));
                }
            };
            let source: String = item(d, "source")?;
            let out: String = item(d, "output")?;
            node_specs.push(NodeSpec {
                label: item(d, "label")?,
                kind,
                n: item(d, "n")?,
                tau: item(d, "tau")?,
                k: item(d, "k")?,
                eta: item(d, "eta")?,
                v0: item(d, "v0")?,
                decay: item(d, "decay")?,
                threshold: item(d, "threshold")?,
                reset: item(d, "reset")?,
                recurrent: item(d, "weights")?,
                adaptation: match d.get_item("adaptation")? {
                    Some(v) => v.extract()?,
                    None => None,
                },
                source: var(&source)?,
                output: var(&out)?,
            });
        }
        let mut edge_specs = Vec::new();
        for d in &edges {
            edge_specs.push(EdgeSpec {
                label: item(d, "label")?,
                src: item(d, "src")?,
                tgt: item(d, "tgt")?,
                weights: item(d, "weights")?,
                delays: item(d, "delays")?,
            });
        }
        let spec = GraphSpec {
            dt,
            nodes: node_specs,
            edges: edge_specs,
            input,
            readin,
            output,
            readout,
            surrogate: Surrogate {
                gain,
                slope,
                smooth_forward: smooth,
            },
            detach_reset,
            trainable,
        };
        let net = RectipyNet::new(spec).map_err(err)?;
        let count = net.params.values.len();
        let kind = match optimizer {
            "sgd" => OptimizerKind::Sgd { momentum },
            "adam" => OptimizerKind::Adam { beta1, beta2, eps },
            "adamw" => OptimizerKind::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            },
            other => {
                return Err(PyValueError::new_err(format!(
                    "optimizer: got `{other}`, expected sgd, adam or adamw"
                )));
            }
        };
        Ok(RectipyBptt {
            net,
            optimizer: Optimizer::new(kind, lr, count),
            cache: None,
        })
    }

    /// Run `steps` steps on `x` (steps × n_in) from the current state; the readout z
    /// (steps × n_out, flat). The state moves to the end of the window.
    fn forward(&mut self, x: PyReadonlyArrayDyn<'_, f64>, steps: usize) -> PyResult<Vec<f64>> {
        let x: Vec<f64> = x.as_array().iter().copied().collect();
        let (y, cache) = self.net.forward(&x, steps).map_err(err)?;
        self.cache = Some(cache);
        Ok(y)
    }

    /// The gradient (flat, in the order of `params`) of the last forward pass for ∂L/∂z.
    fn backward(&self, d_out: PyReadonlyArrayDyn<'_, f64>) -> PyResult<Vec<f64>> {
        let cache = self
            .cache
            .as_ref()
            .ok_or_else(|| PyValueError::new_err("backward needs a forward pass first"))?;
        let d: Vec<f64> = d_out.as_array().iter().copied().collect();
        self.net.backward(cache, &d).map_err(err)
    }

    /// One optimiser update of the trained parameters with `grad`; returns the gradient norm.
    fn step(&mut self, grad: Vec<f64>) -> PyResult<f64> {
        if grad.len() != self.net.params.values.len() {
            return Err(PyValueError::new_err("grad: one value per parameter"));
        }
        let mask = self.net.params.trainable_mask();
        Ok(self
            .optimizer
            .step(&mut self.net.params.values, &grad, &mask))
    }

    /// Back to the initial state.
    fn reset(&mut self) {
        self.net.reset();
        self.cache = None;
    }

    /// The parameters by name (flat values), in the order of the gradient.
    fn params(&self) -> Vec<(String, Vec<f64>)> {
        let p = &self.net.params;
        p.slots
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    p.values[s.offset..s.offset + s.len].to_vec(),
                )
            })
            .collect()
    }

    fn set_param(&mut self, name: &str, values: Vec<f64>) -> PyResult<()> {
        let slot = self
            .net
            .params
            .get_mut(name)
            .ok_or_else(|| PyKeyError::new_err(format!("no parameter `{name}`")))?;
        if slot.len() != values.len() {
            return Err(PyValueError::new_err(format!(
                "{name}: got {} values, expected {}",
                values.len(),
                slot.len()
            )));
        }
        slot.copy_from_slice(&values);
        Ok(())
    }
}
