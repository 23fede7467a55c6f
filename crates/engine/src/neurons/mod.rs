//! Spiking neuron models, one file each, around a pure step function.
//!
//! | model name | file | state | integration (`exact` / `euler`) |
//! |---|---|---|---|
//! | `lif_psc_delta`, `lif_psc_exp`, `lif_psc_alpha`, `lif_cond_exp` | [`lif`] | V | exact propagator / forward Euler |
//! | `eif` | [`eif`] | V | exponential Euler / forward Euler (NeuroSimTools) |
//! | `adex` | [`adex`] | V, w | exponential Euler / forward Euler |
//! | `qif` | [`qif`] | v | closed-form solution / forward Euler (RectiPy) |
//! | `izhikevich` | [`izhikevich`] | v, u (as `w`) | two half steps for v (the paper's scheme) / forward Euler |
//!
//! Each file holds the model's equations, parameter table (units, defaults) and references; its
//! *parameters* (`…Params`, `f64`, physical units) are checked once and turned into a *ready*
//! model (`Lif<T>`, …) holding the derived quantities (propagators) in the simulation's precision.
//! The *state* (`v`, `w`, remaining refractory steps) belongs to the caller, which lays it out as
//! it likes; the *input* of one step is a [`Drive`]. `step` allocates nothing and touches nothing
//! but its arguments.
//!
//! # Units
//!
//! Time ms, voltage mV, current pA, capacitance pF, conductance nS, so that pA/pF = mV/ms and
//! nS·mV = pA. QIF and Izhikevich are written in their authors' units (dimensionless `v` for
//! QIF, the paper's mV-like numbers for Izhikevich; see their files).
//!
//! # Within a step
//!
//! 1. If the neuron is refractory, its voltage stays at the reset value, the counter goes down by
//!    one and voltage jumps arriving now are discarded (NEST's default); adaptation keeps evolving.
//! 2. Otherwise the membrane equation is advanced over `dt` with the drive of the step held
//!    constant (conductances as at the start of the step), then the jump of the delta synapses is
//!    added, then the lower bound `v_min` applies.
//! 3. If `v` reached the threshold, the neuron spikes: `v` is reset (and `w` incremented), and the
//!    refractory counter is set to `round(t_ref/dt)`.
//!
//! Spikes are therefore on the time grid: an interspike interval is the continuous one rounded up
//! to the next step.

pub mod adex;
pub mod eif;
pub mod izhikevich;
pub mod lif;
pub mod membrane;
pub mod qif;

pub use adex::{Adex, AdexParams};
pub use eif::{Eif, EifParams};
pub use izhikevich::{Izhikevich, IzhikevichParams};
pub use lif::{Lif, LifParams};
pub use membrane::Membrane;
pub use qif::{Qif, QifParams};

use crate::real::Real;
use neuroxide_model::{NeuronModel, NeuronParams};
use std::fmt::Display;

/// A parameter error: the key (e.g. `"v_reset"`) and a message naming the value given and what
/// was expected.
pub type ParamError = (String, String);

/// What drives one neuron (one lane) during one step.
#[derive(Copy, Clone, Debug, Default)]
pub struct Drive<T> {
    /// Current into the membrane (pA): current-based synapses + external currents, constant over
    /// the step.
    pub current: T,
    /// Voltage jump (mV) of delta synapses whose spikes arrive at this step.
    pub jump: T,
    /// Excitatory conductance (nS) at the start of the step.
    pub g_exc: T,
    /// Inhibitory conductance (nS) at the start of the step.
    pub g_inh: T,
}

/// A spiking neuron model, ready to step (parameters checked, propagators precomputed).
#[derive(Clone, Debug)]
pub enum Neuron<T: Real> {
    Lif(Lif<T>),
    Eif(Eif<T>),
    Adex(Adex<T>),
    Qif(Qif<T>),
    Izhikevich(Izhikevich<T>),
}

impl<T: Real> Neuron<T> {
    /// Build from the model name and its parameters (defaults applied, checked). `reversal` =
    /// (E_exc, E_inh) in mV for conductance synapses; `dt_ms` is the time step.
    ///
    /// Errors name the parameter key and say what was given and expected; a parameter the model
    /// does not have is an error too.
    pub fn new(
        model: NeuronModel,
        params: &NeuronParams,
        reversal: (f64, f64),
        dt_ms: f64,
    ) -> Result<Self, ParamError> {
        if !(dt_ms.is_finite() && dt_ms > 0.0) {
            return Err(problem("dt", dt_ms, "ms", "a positive, finite time step"));
        }
        for (key, value, unit) in [("E_exc", reversal.0, "mV"), ("E_inh", reversal.1, "mV")] {
            if !value.is_finite() {
                return Err(problem(key, value, unit, "a finite reversal potential"));
            }
        }
        let name = model_name(model);
        let keys: &[&str] = match model {
            NeuronModel::Rate => {
                return Err((
                    "model".into(),
                    "`rate` is not a spiking model; expected one of lif_psc_delta, lif_psc_exp, \
                     lif_psc_alpha, lif_cond_exp, eif, adex, qif, izhikevich"
                        .into(),
                ));
            }
            NeuronModel::Poisson => {
                return Err((
                    "model".into(),
                    "`poisson` sources have no membrane; they are lowered as spike sources".into(),
                ));
            }
            NeuronModel::LifPscDelta
            | NeuronModel::LifPscExp
            | NeuronModel::LifPscAlpha
            | NeuronModel::LifCondExp => LifParams::KEYS,
            NeuronModel::Eif => EifParams::KEYS,
            NeuronModel::Adex => AdexParams::KEYS,
            NeuronModel::Qif => QifParams::KEYS,
            NeuronModel::Izhikevich => IzhikevichParams::KEYS,
        };
        if let Some(key) = given_keys(params).into_iter().find(|k| !keys.contains(k)) {
            return Err((
                key.to_string(),
                format!(
                    "`{key}` is not a parameter of {name}; it takes {}",
                    keys.join(", ")
                ),
            ));
        }
        Ok(match model {
            NeuronModel::Eif => {
                Neuron::Eif(Eif::new(EifParams::from_spec(params), reversal, dt_ms)?)
            }
            NeuronModel::Adex => {
                Neuron::Adex(Adex::new(AdexParams::from_spec(params), reversal, dt_ms)?)
            }
            NeuronModel::Qif => {
                Neuron::Qif(Qif::new(QifParams::from_spec(params), reversal, dt_ms)?)
            }
            NeuronModel::Izhikevich => Neuron::Izhikevich(Izhikevich::new(
                IzhikevichParams::from_spec(params),
                reversal,
                dt_ms,
            )?),
            _ => Neuron::Lif(Lif::new(LifParams::from_spec(params), reversal, dt_ms)?),
        })
    }

    /// Initial `(v, w)`: the resting state of the model without input (see each model).
    pub fn resting(&self) -> (f64, f64) {
        match self {
            Neuron::Lif(m) => m.resting(),
            Neuron::Eif(m) => m.resting(),
            Neuron::Adex(m) => m.resting(),
            Neuron::Qif(m) => m.resting(),
            Neuron::Izhikevich(m) => m.resting(),
        }
    }

    /// `(low, high)` range for NeuroSimTools' `initial_V: random`: uniform in `[v_reset, v_th]`,
    /// or `[v_reset, v_t]` for EIF and AdEx (`[v_r, v_peak]` for QIF, `[c, v_th]` for
    /// Izhikevich).
    pub fn random_range(&self) -> (f64, f64) {
        match self {
            Neuron::Lif(m) => m.random_range(),
            Neuron::Eif(m) => m.random_range(),
            Neuron::Adex(m) => m.random_range(),
            Neuron::Qif(m) => m.random_range(),
            Neuron::Izhikevich(m) => m.random_range(),
        }
    }

    /// Advance one neuron in one lane by one step of dt; `refractory` counts remaining
    /// refractory steps. Returns true if the neuron spiked during this step (then it has been
    /// reset). `w` is the adaptation (AdEx) or recovery (Izhikevich) variable, untouched by the
    /// other models.
    #[inline]
    pub fn step(&self, v: &mut T, w: &mut T, refractory: &mut u32, drive: Drive<T>) -> bool {
        match self {
            Neuron::Lif(m) => m.step(v, refractory, drive),
            Neuron::Eif(m) => m.step(v, refractory, drive),
            Neuron::Adex(m) => m.step(v, w, refractory, drive),
            Neuron::Qif(m) => m.step(v, drive),
            Neuron::Izhikevich(m) => m.step(v, w, drive),
        }
    }

    /// Whether the model has a second state variable `w` (AdEx adaptation, Izhikevich recovery
    /// `u`); every model has `v`.
    pub fn has_w(&self) -> bool {
        matches!(self, Neuron::Adex(_) | Neuron::Izhikevich(_))
    }
}

/// The name of a model as written in model files.
pub fn model_name(model: NeuronModel) -> &'static str {
    match model {
        NeuronModel::Rate => "rate",
        NeuronModel::LifPscDelta => "lif_psc_delta",
        NeuronModel::LifPscExp => "lif_psc_exp",
        NeuronModel::LifPscAlpha => "lif_psc_alpha",
        NeuronModel::LifCondExp => "lif_cond_exp",
        NeuronModel::Eif => "eif",
        NeuronModel::Adex => "adex",
        NeuronModel::Qif => "qif",
        NeuronModel::Izhikevich => "izhikevich",
        NeuronModel::Poisson => "poisson",
    }
}

/// The keys given in a `neuron:` block.
pub fn given_keys(p: &NeuronParams) -> Vec<&'static str> {
    let present = [
        ("tau_m", p.tau_m.is_some()),
        ("c_m", p.c_m.is_some()),
        ("e_l", p.e_l.is_some()),
        ("v_th", p.v_th.is_some()),
        ("v_reset", p.v_reset.is_some()),
        ("t_ref", p.t_ref.is_some()),
        ("v_min", p.v_min.is_some()),
        ("i_e", p.i_e.is_some()),
        ("v_t", p.v_t.is_some()),
        ("delta_t", p.delta_t.is_some()),
        ("a", p.a.is_some()),
        ("b", p.b.is_some()),
        ("c", p.c.is_some()),
        ("d", p.d.is_some()),
        ("tau_w", p.tau_w.is_some()),
        ("eta", p.eta.is_some()),
        ("tau", p.tau.is_some()),
        ("v_peak", p.v_peak.is_some()),
        ("v_r", p.v_r.is_some()),
        ("integration", p.integration.is_some()),
        ("rate", p.rate.is_some()),
    ];
    present
        .into_iter()
        .filter(|&(_, given)| given)
        .map(|(key, _)| key)
        .collect()
}

/// `value unit` as a user would write it (`-40 mV`, or `0.5` without a unit).
fn with_unit(value: f64, unit: &str) -> String {
    if unit.is_empty() {
        format!("{value}")
    } else {
        format!("{value} {unit}")
    }
}

/// The error "`key`: got `value unit`, expected …".
pub(crate) fn problem(key: &str, value: f64, unit: &str, expected: impl Display) -> ParamError {
    (
        key.to_string(),
        format!("got `{}`, expected {expected}", with_unit(value, unit)),
    )
}

/// `Err(problem(…))` unless `ok`.
pub(crate) fn require(
    ok: bool,
    key: &str,
    value: f64,
    unit: &str,
    expected: impl Display,
) -> Result<(), ParamError> {
    if ok {
        Ok(())
    } else {
        Err(problem(key, value, unit, expected))
    }
}

/// Every value finite (`v_min` may be −∞: no bound).
pub(crate) fn require_finite(values: &[(&str, f64, &str)]) -> Result<(), ParamError> {
    for &(key, value, unit) in values {
        require(value.is_finite(), key, value, unit, "a finite number")?;
    }
    Ok(())
}

/// A time constant: positive and longer than the time step.
pub(crate) fn require_time_constant(
    key: &str,
    value: f64,
    what: &str,
    dt: f64,
) -> Result<(), ParamError> {
    require(
        value.is_finite() && value > 0.0,
        key,
        value,
        "ms",
        format!("a positive {what}"),
    )?;
    require(
        value > dt,
        key,
        value,
        "ms",
        format!("a {what} longer than the time step dt = {dt} ms"),
    )
}

/// A refractory period: finite, ≥ 0. Returns it in steps, `round(t_ref/dt)` (as NEST).
pub(crate) fn refractory_steps(t_ref: f64, dt: f64) -> Result<u32, ParamError> {
    require(
        t_ref.is_finite() && t_ref >= 0.0,
        "t_ref",
        t_ref,
        "ms",
        "a refractory period ≥ 0 ms",
    )?;
    let steps = (t_ref / dt).round();
    require(
        steps <= f64::from(u32::MAX),
        "t_ref",
        t_ref,
        "ms",
        format!(
            "at most {} ms (2^32 steps of dt = {dt} ms)",
            f64::from(u32::MAX) * dt
        ),
    )?;
    Ok(steps as u32)
}

/// A reset below the threshold.
pub(crate) fn require_reset_below(
    reset_key: &str,
    reset: f64,
    threshold_key: &str,
    threshold: f64,
    unit: &str,
) -> Result<(), ParamError> {
    require(
        reset < threshold,
        reset_key,
        reset,
        unit,
        format!(
            "a reset below the threshold {threshold_key} = {}",
            with_unit(threshold, unit)
        ),
    )
}
