//! neuroxide-model: the description of a network model, apart from how it runs.
//!
//! A model file (YAML) is read into a [`NetworkSpec`]: populations, projections between them,
//! external inputs, monitors, lanes and sweeps. Values carry units ([`units`]); every struct
//! rejects unknown keys; [`validate`] checks what types cannot; every [`SpecError`] names the
//! file, line, key path, the value found and what was expected.
//!
//! ```
//! let yaml = "dt: 0.1 ms\nduration: 100 ms\npopulations:\n  E: {size: 10, tau: 20 ms}\n";
//! let model = neuroxide_model::ModelFile::from_yaml(yaml, None, &[]).unwrap();
//! assert_eq!(model.spec.populations["E"].tau.unwrap().ms(), 20.0);
//! ```

pub mod error;
pub mod load;
pub mod neuroflame;
pub mod paths;
pub mod plasticity;
pub mod spec;
pub mod units;
pub mod validate;
pub mod yaml_index;

pub use error::{SpecError, SpecErrors};
pub use load::ModelFile;
pub use plasticity::*;
pub use spec::*;
pub use units::{Angle, Quantity, Time};

/// The version written into resolved specs and result files.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
