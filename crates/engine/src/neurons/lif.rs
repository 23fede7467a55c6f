//! Leaky integrate-and-fire neuron (`lif_psc_delta`, `lif_psc_exp`, `lif_psc_alpha`,
//! `lif_cond_exp`).
//!
//! The four model names share this membrane; they differ in their synapses (delta jumps,
//! exponential or alpha currents, exponential conductances), which the engine turns into the
//! [`Drive`] of each step.
//!
//! # Equations
//!
//! ```text
//! C_m dV/dt = −(C_m/τ_m)(V − E_L) + I_syn + I_e + g_exc (E_exc − V) + g_inh (E_inh − V)
//! V ≥ V_th  →  spike;  V ← V_reset, held there for t_ref
//! V ← max(V, V_min)
//! ```
//!
//! Delta synapses make `V` jump by their weight (mV) at the step their spike arrives.
//!
//! # Parameters
//!
//! | key | meaning | unit | default |
//! |---|---|---|---|
//! | `tau_m` | membrane time constant τ_m | ms | 10 |
//! | `c_m` | membrane capacitance C_m | pF | 250 |
//! | `e_l` | resting potential E_L | mV | −70 |
//! | `v_th` | threshold V_th | mV | −55 |
//! | `v_reset` | reset potential V_reset | mV | −70 |
//! | `t_ref` | refractory period | ms | 2 |
//! | `v_min` | lower bound of V (NeuroSimTools' `V_lb`) | mV | none |
//! | `i_e` | constant external current I_e | pA | 0 |
//! | `integration` | `exact` or `euler` | | `exact` |
//!
//! The defaults are NEST's `iaf_psc_delta`/`iaf_psc_exp`. Checked: τ_m > dt, C_m > 0,
//! V_reset < V_th, t_ref ≥ 0, V_min < V_reset.
//!
//! # Integration
//!
//! `exact` (default): the membrane is linear, so with the drive held constant over a step
//! `V ← E_L + (V − E_L) e^{−dt/τ_m} + R I (1 − e^{−dt/τ_m})`, `R = τ_m/C_m` — exact for current
//! synapses whose current is constant over the step, and exponential Euler with the
//! start-of-step conductances for `lif_cond_exp` ([`Membrane`]). Then the delta jump is added and
//! the threshold checked (NEST `iaf_psc_delta`). `euler`: forward Euler (NeuroSimTools,
//! cnsproject). During the refractory period V stays at V_reset and arriving jumps are discarded.
//! The interspike interval under a constant suprathreshold current is
//! `t_ref + τ_m ln((R I + E_L − V_reset)/(R I + E_L − V_th))`, rounded up to the time grid.
//!
//! # References
//!
//! * Lapicque (1907); Tuckwell, *Introduction to theoretical neurobiology* (1988), ch. 3.
//! * Rotter & Diesmann (1999), *Exact digital simulation of time-invariant linear systems with
//!   applications to neuronal modeling*, Biol. Cybern. 81:381 (the exact propagator).
//! * Brunel (2000), J. Comput. Neurosci. 8:183 (`lif_psc_delta` networks).
//! * NEST `iaf_psc_delta`, `iaf_psc_exp`, `iaf_psc_alpha`, `iaf_cond_exp` (parameter names and
//!   defaults).

use super::{
    Drive, Membrane, ParamError, refractory_steps, require, require_finite, require_reset_below,
    require_time_constant,
};
use crate::real::Real;
use neuroxide_model::{NeuronParams, SpikeIntegration};

/// LIF parameters in physical units, defaults applied.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct LifParams {
    /// Membrane time constant τ_m (ms).
    pub tau_m: f64,
    /// Membrane capacitance C_m (pF).
    pub c_m: f64,
    /// Resting potential E_L (mV).
    pub e_l: f64,
    /// Threshold V_th (mV).
    pub v_th: f64,
    /// Reset potential V_reset (mV).
    pub v_reset: f64,
    /// Refractory period t_ref (ms).
    pub t_ref: f64,
    /// Lower bound of V (mV); −∞ for none.
    pub v_min: f64,
    /// Constant external current I_e (pA).
    pub i_e: f64,
    /// Integration rule.
    pub integration: SpikeIntegration,
}

impl Default for LifParams {
    fn default() -> Self {
        LifParams {
            tau_m: 10.0,
            c_m: 250.0,
            e_l: -70.0,
            v_th: -55.0,
            v_reset: -70.0,
            t_ref: 2.0,
            v_min: f64::NEG_INFINITY,
            i_e: 0.0,
            integration: SpikeIntegration::Exact,
        }
    }
}

impl LifParams {
    /// The keys a LIF model takes.
    pub const KEYS: &'static [&'static str] = &[
        "tau_m",
        "c_m",
        "e_l",
        "v_th",
        "v_reset",
        "t_ref",
        "v_min",
        "i_e",
        "integration",
    ];

    /// The parameters of a `neuron:` block, defaults filled in (other keys are ignored here;
    /// [`super::Neuron::new`] rejects them).
    pub fn from_spec(p: &NeuronParams) -> Self {
        let d = LifParams::default();
        LifParams {
            tau_m: p.tau_m.map_or(d.tau_m, |q| q.value()),
            c_m: p.c_m.map_or(d.c_m, |q| q.value()),
            e_l: p.e_l.map_or(d.e_l, |q| q.value()),
            v_th: p.v_th.map_or(d.v_th, |q| q.value()),
            v_reset: p.v_reset.map_or(d.v_reset, |q| q.value()),
            t_ref: p.t_ref.map_or(d.t_ref, |q| q.value()),
            v_min: p.v_min.map_or(d.v_min, |q| q.value()),
            i_e: p.i_e.map_or(d.i_e, |q| q.value()),
            integration: p.integration.unwrap_or(d.integration),
        }
    }

    /// Membrane resistance R = τ_m/C_m (GΩ, i.e. mV/pA).
    pub fn resistance(&self) -> f64 {
        self.tau_m / self.c_m
    }
}

/// A LIF model ready to step: derived quantities in precision `T`.
#[derive(Clone, Debug)]
pub struct Lif<T> {
    /// The parameters it was built from.
    pub params: LifParams,
    membrane: Membrane<T>,
    v_th: T,
    v_reset: T,
    v_min: T,
    i_e: T,
    refractory_steps: u32,
}

impl<T: Real> Lif<T> {
    /// Check the parameters and precompute the propagators for time step `dt` (ms);
    /// `reversal` = (E_exc, E_inh) (mV) for conductance input.
    pub fn new(params: LifParams, reversal: (f64, f64), dt: f64) -> Result<Self, ParamError> {
        let p = params;
        require_finite(&[
            ("c_m", p.c_m, "pF"),
            ("e_l", p.e_l, "mV"),
            ("v_th", p.v_th, "mV"),
            ("v_reset", p.v_reset, "mV"),
            ("i_e", p.i_e, "pA"),
        ])?;
        require_time_constant("tau_m", p.tau_m, "membrane time constant", dt)?;
        require(p.c_m > 0.0, "c_m", p.c_m, "pF", "a positive capacitance")?;
        require_reset_below("v_reset", p.v_reset, "v_th", p.v_th, "mV")?;
        let refractory_steps = refractory_steps(p.t_ref, dt)?;
        require(
            p.v_min < p.v_reset,
            "v_min",
            p.v_min,
            "mV",
            format!("a lower bound below the reset v_reset = {} mV", p.v_reset),
        )?;
        Ok(Lif {
            params,
            membrane: Membrane::new(
                p.integration == SpikeIntegration::Exact,
                p.tau_m,
                p.c_m,
                p.e_l,
                reversal,
                dt,
            ),
            v_th: T::from_f64(p.v_th),
            v_reset: T::from_f64(p.v_reset),
            v_min: T::from_f64(p.v_min),
            i_e: T::from_f64(p.i_e),
            refractory_steps,
        })
    }

    /// `(E_L, 0)`.
    pub fn resting(&self) -> (f64, f64) {
        (self.params.e_l, 0.0)
    }

    /// `(V_reset, V_th)`.
    pub fn random_range(&self) -> (f64, f64) {
        (self.params.v_reset, self.params.v_th)
    }

    /// The number of steps a spike makes the neuron refractory, `round(t_ref/dt)`.
    pub fn refractory_steps(&self) -> u32 {
        self.refractory_steps
    }

    /// The derived quantities, for the vectorised kernel of `crate::spiking`: the membrane and
    /// `[V_th, V_reset, V_min, I_e]`.
    pub(crate) fn derived(&self) -> (&Membrane<T>, [T; 4]) {
        (
            &self.membrane,
            [self.v_th, self.v_reset, self.v_min, self.i_e],
        )
    }

    /// One step of `dt` (see the module documentation). Returns whether the neuron spiked.
    #[inline(always)]
    pub fn step(&self, v: &mut T, refractory: &mut u32, drive: Drive<T>) -> bool {
        if *refractory > 0 {
            *refractory -= 1;
            *v = self.v_reset;
            return false;
        }
        let advanced =
            self.membrane
                .advance(*v, drive.current + self.i_e, drive.g_exc, drive.g_inh)
                + drive.jump;
        let advanced = advanced.max(self.v_min);
        if advanced >= self.v_th {
            *v = self.v_reset;
            *refractory = self.refractory_steps;
            true
        } else {
            *v = advanced;
            false
        }
    }
}
