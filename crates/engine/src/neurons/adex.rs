//! Adaptive exponential integrate-and-fire neuron (`adex`).
//!
//! # Equations
//!
//! ```text
//! C_m dV/dt = −g_L (V − E_L) + g_L Δ_T e^{(V − V_T)/Δ_T} − w + I        g_L = C_m/τ_m
//! τ_w dw/dt = a (V − E_L) − w
//! V ≥ V_th  →  spike;  V ← V_reset,  w ← w + b;  V held at V_reset for t_ref
//! ```
//!
//! with `I = I_syn + I_e + g_exc (E_exc − V) + g_inh (E_inh − V)` (pA). `w` (pA) is the
//! adaptation current: `a` couples it to the subthreshold voltage, `b` increments it at every
//! spike (spike-frequency adaptation). During the refractory period `w` keeps evolving with
//! `V = V_reset` (as in NEST).
//!
//! # Parameters
//!
//! | key | meaning | unit | default |
//! |---|---|---|---|
//! | `c_m` | membrane capacitance C_m | pF | 281 |
//! | `tau_m` | membrane time constant τ_m = C_m/g_L | ms | 9.3667 (281/30: g_L = 30 nS) |
//! | `e_l` | leak reversal E_L | mV | −70.6 |
//! | `v_t` | soft threshold V_T | mV | −50.4 |
//! | `delta_t` | slope factor Δ_T | mV | 2 |
//! | `a` | subthreshold adaptation | nS | 4 |
//! | `b` | spike-triggered adaptation | pA | 80.5 |
//! | `tau_w` | adaptation time constant τ_w | ms | 144 |
//! | `v_th` | spike-detection level V_th (NEST's `V_peak`) | mV | 0 |
//! | `v_reset` | reset potential V_reset | mV | −70.6 |
//! | `v_min` | lower bound of V | mV | none |
//! | `t_ref` | refractory period | ms | 0 |
//! | `i_e` | constant external current I_e | pA | 0 |
//! | `integration` | `exact` or `euler` | | `exact` |
//!
//! Defaults are Brette & Gerstner's (2005) cortical pyramidal cell, NEST's `aeif_cond_exp`.
//! Checked: τ_m > dt, τ_w > dt, C_m > 0, Δ_T > 0, V_T < V_th, V_reset < V_th, V_min < V_reset,
//! t_ref ≥ 0; `a` and `b` may have either sign.
//!
//! # Integration
//!
//! Both variables are advanced from their start-of-step values. `exact` (default): exponential
//! Euler — `V` as in EIF with the exponential current and `−w` held over the step
//! ([`Membrane`]), `w ← a(V − E_L) + (w − a(V − E_L)) e^{−dt/τ_w}`. `euler`: forward Euler for
//! both. Both are first order in dt (NEST integrates with adaptive RKF45): against a fine RK4
//! solution the rate is 0.5–2 % low at dt = 0.1 ms (10–100 Hz) and within 1 % at dt = 0.01 ms
//! (`tests/neurons.rs`). The exponent is capped as in [`super::eif`].
//!
//! # References
//!
//! * Brette & Gerstner (2005), *Adaptive exponential integrate-and-fire model as an effective
//!   description of neuronal activity*, J. Neurophysiol. 94:3637.
//! * Naud, Marcille, Clopath & Gerstner (2008), *Firing patterns in the adaptive exponential
//!   integrate-and-fire model*, Biol. Cybern. 99:335.
//! * NEST `aeif_cond_exp`, `aeif_psc_exp` (parameter names and defaults).

use super::eif::{ExponentialCurrent, check_exponential};
use super::{
    Drive, Membrane, ParamError, refractory_steps, require, require_finite, require_time_constant,
};
use crate::real::Real;
use neuroxide_model::{NeuronParams, SpikeIntegration};

/// AdEx parameters in physical units, defaults applied.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct AdexParams {
    /// Membrane capacitance C_m (pF).
    pub c_m: f64,
    /// Membrane time constant τ_m (ms).
    pub tau_m: f64,
    /// Leak reversal E_L (mV).
    pub e_l: f64,
    /// Soft threshold V_T (mV).
    pub v_t: f64,
    /// Slope factor Δ_T (mV).
    pub delta_t: f64,
    /// Subthreshold adaptation a (nS).
    pub a: f64,
    /// Spike-triggered adaptation b (pA).
    pub b: f64,
    /// Adaptation time constant τ_w (ms).
    pub tau_w: f64,
    /// Spike-detection level V_th (mV).
    pub v_th: f64,
    /// Reset potential V_reset (mV).
    pub v_reset: f64,
    /// Lower bound of V (mV); −∞ for none.
    pub v_min: f64,
    /// Refractory period t_ref (ms).
    pub t_ref: f64,
    /// Constant external current I_e (pA).
    pub i_e: f64,
    /// Integration rule.
    pub integration: SpikeIntegration,
}

impl Default for AdexParams {
    fn default() -> Self {
        AdexParams {
            c_m: 281.0,
            tau_m: 281.0 / 30.0,
            e_l: -70.6,
            v_t: -50.4,
            delta_t: 2.0,
            a: 4.0,
            b: 80.5,
            tau_w: 144.0,
            v_th: 0.0,
            v_reset: -70.6,
            v_min: f64::NEG_INFINITY,
            t_ref: 0.0,
            i_e: 0.0,
            integration: SpikeIntegration::Exact,
        }
    }
}

impl AdexParams {
    /// The keys an AdEx model takes.
    pub const KEYS: &'static [&'static str] = &[
        "c_m",
        "tau_m",
        "e_l",
        "v_t",
        "delta_t",
        "a",
        "b",
        "tau_w",
        "v_th",
        "v_reset",
        "v_min",
        "t_ref",
        "i_e",
        "integration",
    ];

    /// The parameters of a `neuron:` block, defaults filled in.
    pub fn from_spec(p: &NeuronParams) -> Self {
        let d = AdexParams::default();
        AdexParams {
            c_m: p.c_m.map_or(d.c_m, |q| q.value()),
            tau_m: p.tau_m.map_or(d.tau_m, |q| q.value()),
            e_l: p.e_l.map_or(d.e_l, |q| q.value()),
            v_t: p.v_t.map_or(d.v_t, |q| q.value()),
            delta_t: p.delta_t.map_or(d.delta_t, |q| q.value()),
            a: p.a.unwrap_or(d.a),
            b: p.b.unwrap_or(d.b),
            tau_w: p.tau_w.map_or(d.tau_w, |q| q.value()),
            v_th: p.v_th.map_or(d.v_th, |q| q.value()),
            v_reset: p.v_reset.map_or(d.v_reset, |q| q.value()),
            v_min: p.v_min.map_or(d.v_min, |q| q.value()),
            t_ref: p.t_ref.map_or(d.t_ref, |q| q.value()),
            i_e: p.i_e.map_or(d.i_e, |q| q.value()),
            integration: p.integration.unwrap_or(d.integration),
        }
    }
}

/// An AdEx model ready to step: derived quantities in precision `T`.
#[derive(Clone, Debug)]
pub struct Adex<T> {
    /// The parameters it was built from.
    pub params: AdexParams,
    membrane: Membrane<T>,
    exponential: ExponentialCurrent<T>,
    /// a (nS).
    a: T,
    /// b (pA).
    b: T,
    /// Fraction of the way to `a(V − E_L)` that `w` goes in one step: `1 − e^{−dt/τ_w}`
    /// (exact) or `dt/τ_w` (Euler).
    w_rate: T,
    v_th: T,
    v_reset: T,
    v_min: T,
    i_e: T,
    refractory_steps: u32,
}

impl<T: Real> Adex<T> {
    /// Check the parameters and precompute the propagators for time step `dt` (ms).
    pub fn new(params: AdexParams, reversal: (f64, f64), dt: f64) -> Result<Self, ParamError> {
        let p = params;
        require_finite(&[
            ("c_m", p.c_m, "pF"),
            ("e_l", p.e_l, "mV"),
            ("a", p.a, "nS"),
            ("b", p.b, "pA"),
            ("i_e", p.i_e, "pA"),
        ])?;
        require_time_constant("tau_m", p.tau_m, "membrane time constant", dt)?;
        require_time_constant("tau_w", p.tau_w, "adaptation time constant", dt)?;
        require(p.c_m > 0.0, "c_m", p.c_m, "pF", "a positive capacitance")?;
        check_exponential(p.delta_t, p.v_t, p.v_th, p.v_reset, p.v_min)?;
        let refractory_steps = refractory_steps(p.t_ref, dt)?;
        let exact = p.integration == SpikeIntegration::Exact;
        let w_rate = if exact {
            -(-dt / p.tau_w).exp_m1()
        } else {
            dt / p.tau_w
        };
        Ok(Adex {
            params,
            membrane: Membrane::new(exact, p.tau_m, p.c_m, p.e_l, reversal, dt),
            exponential: ExponentialCurrent::new(p.c_m / p.tau_m, p.v_t, p.delta_t),
            a: T::from_f64(p.a),
            b: T::from_f64(p.b),
            w_rate: T::from_f64(w_rate),
            v_th: T::from_f64(p.v_th),
            v_reset: T::from_f64(p.v_reset),
            v_min: T::from_f64(p.v_min),
            i_e: T::from_f64(p.i_e),
            refractory_steps,
        })
    }

    /// `(E_L, 0)`, NEST's initial state.
    pub fn resting(&self) -> (f64, f64) {
        (self.params.e_l, 0.0)
    }

    /// `(V_reset, V_T)`.
    pub fn random_range(&self) -> (f64, f64) {
        (self.params.v_reset, self.params.v_t)
    }

    /// `w` after one step from `w` with the voltage `v` held.
    #[inline(always)]
    fn adapt(&self, v: T, w: T) -> T {
        w + self.w_rate * (self.a * (v - self.membrane.e_l) - w)
    }

    /// One step of `dt` (see the module documentation). Returns whether the neuron spiked.
    #[inline(always)]
    pub fn step(&self, v: &mut T, w: &mut T, refractory: &mut u32, drive: Drive<T>) -> bool {
        if *refractory > 0 {
            *refractory -= 1;
            *v = self.v_reset;
            *w = self.adapt(self.v_reset, *w);
            return false;
        }
        let (v0, w0) = (*v, *w);
        let current = drive.current + self.i_e + self.exponential.at(v0) - w0;
        let advanced = self.membrane.advance(v0, current, drive.g_exc, drive.g_inh) + drive.jump;
        let advanced = advanced.max(self.v_min);
        let w1 = self.adapt(v0, w0);
        if advanced >= self.v_th {
            *v = self.v_reset;
            *w = w1 + self.b;
            *refractory = self.refractory_steps;
            true
        } else {
            *v = advanced;
            *w = w1;
            false
        }
    }
}
