//! neuroxide: simulation engine for recurrent networks of rate neurons (spiking populations
//! follow).
//!
//! A validated [`neuroxide_model::NetworkSpec`] is *lowered* once ([`lower`]): units become plain
//! numbers, connectivity is sampled into the cheapest exact coupling operator ([`operators`]),
//! propagators are precomputed per lane. The resulting [`Simulation`] runs, resets and runs
//! again; [`Results`] hold named arrays in the layout NumPy users get from `results.npz`.
//!
//! ```
//! use neuroxide::{simulate, BuildOptions};
//! let yaml = "dt: 0.1 ms\nduration: 10 ms\npopulations:\n  E: {size: 4, tau: 10 ms, initial: {rate: {constant: 1.0}}}\n\
//!             monitors:\n  - {population: E, variable: rate}\n";
//! let model = neuroxide_model::ModelFile::from_yaml(yaml, None, &[]).unwrap();
//! let results = simulate(&model.spec, &BuildOptions::default()).unwrap();
//! let rate = results.values("E.rate_mean");
//! // Exponential decay from 1 with τ = 10 ms: after 10 ms, e^{-1}.
//! assert!((rate.last().unwrap() - (-1.0f64).exp()).abs() < 1e-6);
//! ```

pub mod connectivity;
pub mod decode;
pub mod encoders;
pub mod input;
pub mod lower;
pub mod mixed;
pub mod monitor;
pub mod neurons;
pub mod operators;
pub mod plasticity;
pub mod rate;
mod rate_step;
pub mod real;
pub mod results;
pub mod rng;
pub mod siegert;
pub mod simulation;
pub mod spiking;
pub mod stimulus;
pub mod stp;
pub mod theory;

pub use monitor::FrameSink;
pub use real::Real;
pub use results::{ArrayData, NamedArray, Results, RunSummary};
pub use simulation::{
    AnySimulation, BuildOptions, Diverged, Recording, SimulateError, Simulation, simulate,
    thread_count,
};
