//! neuroxide-train: training rate and spiking RNNs by backpropagation through time.
//!
//! The gradients are exact, hand-written adjoints of the Euler recurrences (no autodiff
//! framework): [`RateModel::forward`] / [`RateModel::backward`] for NeuroSimTools' RateModel
//! (R- and Z-type; dense, masked, Dale's-law and NeuroFlame low-rank recurrent weights), and
//! [`spiking::SpikingRnn`] with surrogate gradients. Around them: [`loss`] (MSE with masks,
//! cross-entropy, BCE, NeuroFlame's angular loss, L2 penalties), [`optim`] (Adam, AdamW, SGD with
//! momentum, exponential decay, clipping), [`tasks`] (batches of the field's standard tasks from a
//! seed), [`readout`] (ridge regression and recursive least squares) and [`trainer`] (the loop
//! with held-out early stopping and checkpoints), and [`config`] (the YAML file of
//! `neuroxide train`).
//!
//! ```
//! use neuroxide_train::{PassOptions, RateModel, RateModelSpec};
//! let model = RateModel::<f64>::new(RateModelSpec::new(8, 2, 1)).unwrap();
//! let (steps, lanes) = (5, 3);
//! let x = vec![0.5; steps * lanes * 2];
//! let fwd = model.forward(&x, steps, lanes, None, &PassOptions::default()).unwrap();
//! let d_out = vec![1.0; fwd.outputs.len()]; // ∂L/∂y for L = Σ y
//! let grad = model.backward(&fwd, &x, &d_out, &PassOptions::default()).unwrap();
//! assert_eq!(grad.len(), model.params.values.len());
//! ```

pub mod config;
pub mod conv2d;
pub mod fit;
pub mod kernels;
pub mod linalg;
pub mod loss;
pub mod model;
pub mod optim;
mod packed;
pub mod params;
pub mod readout;
pub mod rectipy;
pub mod spiking;
pub mod tasks;
pub mod trainer;

pub use conv2d::{Conv2dModel, Conv2dSpec, ConvGeometry, ConvReadout};
pub use loss::{Loss, LossKind};
pub use model::{
    Forward, Layer, LowRank, NetworkType, PassOptions, RateModel, RateModelSpec, Recurrent,
    Transfer,
};
pub use optim::{Optimizer, OptimizerKind};
pub use params::{ParamSet, ParamSlot};
pub use tasks::{Task, TaskBatch, TaskKind};
pub use trainer::{Network, Trainer, TrainerOptions};

/// What can go wrong while building or training a model.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A setting with a bad value: the key path and the message (`got …, expected …`).
    #[error("`{path}`: {message}")]
    Invalid { path: String, message: String },
    /// Arrays of the wrong size handed to the API.
    #[error("{0}")]
    Shape(String),
    /// The loss or a gradient stopped being finite.
    #[error("{0}")]
    NotFinite(String),
    #[error("{0}")]
    Io(String),
}

impl TrainError {
    pub fn invalid(
        path: impl Into<String>,
        value: impl std::fmt::Display,
        expected: impl std::fmt::Display,
    ) -> Self {
        TrainError::Invalid {
            path: path.into(),
            message: format!("got `{value}`, expected {expected}"),
        }
    }
}

/// The random stream of one purpose under a seed (Philox, as the engine's construction draws).
pub(crate) fn seeded_rng(seed: u64, purpose: &str) -> neuroxide::rng::CounterRng {
    neuroxide::rng::CounterRng::new(seed, neuroxide::rng::stream_id(purpose, 0), 0)
}
