//! Exponential integrate-and-fire neuron (`eif`).
//!
//! # Equations
//!
//! ```text
//! C_m dV/dt = −g_L (V − E_L) + g_L Δ_T e^{(V − V_T)/Δ_T} + I        g_L = C_m/τ_m
//! V ≥ V_th  →  spike;  V ← V_reset, held there for t_ref
//! V ← max(V, V_min)
//! ```
//!
//! with `I = I_syn + I_e + g_exc (E_exc − V) + g_inh (E_inh − V)` (pA). `V_T` is the soft
//! threshold where the exponential takes over, `V_th` only the numerical level at which the
//! upswing is cut and counted as a spike.
//!
//! NeuroSimTools (Rosenbaum's `SpikingModel`, its default model) writes the same equation
//! without capacitance, `τ_m dV/dt = −(V − E_L) + Δ_T e^{(V−V_T)/Δ_T} + I'`, with its input `I'`
//! in mV: its `I'` is our `I·τ_m/C_m = I/g_L`. With `c_m` numerically equal to `tau_m`
//! (g_L = 1 nS), a current of `x` pA is NeuroSimTools' input `x`.
//!
//! # Parameters
//!
//! | key | meaning | unit | default |
//! |---|---|---|---|
//! | `tau_m` | membrane time constant τ_m | ms | 10 |
//! | `c_m` | membrane capacitance C_m | pF | 250 |
//! | `e_l` | resting potential E_L | mV | −72 |
//! | `v_t` | soft threshold V_T | mV | −55 |
//! | `delta_t` | slope factor Δ_T | mV | 1 |
//! | `v_th` | spike-detection level V_th | mV | 0 |
//! | `v_reset` | reset potential V_reset | mV | −72 |
//! | `v_min` | lower bound of V (NeuroSimTools' `V_lb`) | mV | −85 |
//! | `t_ref` | refractory period | ms | 0 |
//! | `i_e` | constant external current I_e | pA | 0 |
//! | `integration` | `exact` or `euler` | | `exact` |
//!
//! Defaults are NeuroSimTools' (`taum=10, EL=−72, Vth=0, Vre=−72, VT=−55, DT=1, Vlb=−85`, no
//! refractory period); C_m = 250 pF is ours (NeuroSimTools has none). Checked: τ_m > dt,
//! C_m > 0, Δ_T > 0, V_T < V_th, V_reset < V_th, V_min < V_reset, t_ref ≥ 0.
//!
//! # Integration
//!
//! `exact` (default): exponential Euler — the linear part (leak, conductances) is propagated
//! exactly ([`Membrane`]) with the exponential current evaluated at the start of the step and
//! held constant; first order in dt like Euler, but exact below threshold and stable at any dt.
//! `euler`: forward Euler, then the lower bound, then the threshold — NeuroSimTools' update
//! `V ← max(V + dt f(V, I), V_lb)` exactly.
//!
//! Both are first order in dt: in the upswing the explicit exponential term lags behind the
//! true trajectory and each spike comes a few steps late. Against a fine RK4 solution of the
//! same equation the rate is 1–6 % low at dt = 0.1 ms (40–240 Hz) and within 1 % at
//! dt = 0.01 ms (`tests/neurons.rs`); use a small dt for high rates.
//!
//! The exponent `(V − V_T)/Δ_T` is capped at [`EXPONENT_CAP`] so that the upswing cannot
//! overflow before it is detected (beyond the cap the exponential current exceeds any synaptic
//! current by over twenty orders of magnitude and `V` passes `V_th` within the step either way).
//!
//! # References
//!
//! * Fourcaud-Trocmé, Hansel, van Vreeswijk & Brunel (2003), *How spike generation mechanisms
//!   determine the neuronal response to fluctuating inputs*, J. Neurosci. 23:11628.
//! * Gerstner, Kistler, Naud & Paninski (2014), *Neuronal Dynamics*, ch. 5.2.
//! * Rosenbaum, NeuroSimTools `SpikingModel` (defaults, forward-Euler update, `V_lb`).

use super::{
    Drive, Membrane, ParamError, refractory_steps, require, require_finite, require_reset_below,
    require_time_constant,
};
use crate::real::Real;
use neuroxide_model::{NeuronParams, SpikeIntegration};

/// Largest exponent `(V − V_T)/Δ_T` evaluated (e^60 ≈ 1.1·10²⁶, finite in f32 even after
/// multiplication by `g_L Δ_T`).
pub const EXPONENT_CAP: f64 = 60.0;

/// The spike-generating current `g_L Δ_T e^{(V − V_T)/Δ_T}` (pA) of EIF and AdEx.
#[derive(Copy, Clone, Debug)]
pub struct ExponentialCurrent<T> {
    /// g_L Δ_T (pA).
    scale: T,
    /// V_T (mV).
    v_t: T,
    /// 1/Δ_T (1/mV).
    inverse_slope: T,
    /// [`EXPONENT_CAP`].
    cap: T,
}

impl<T: Real> ExponentialCurrent<T> {
    /// For leak conductance `g_l` (nS), soft threshold `v_t` and slope factor `delta_t` (mV).
    pub fn new(g_l: f64, v_t: f64, delta_t: f64) -> Self {
        ExponentialCurrent {
            scale: T::from_f64(g_l * delta_t),
            v_t: T::from_f64(v_t),
            inverse_slope: T::from_f64(1.0 / delta_t),
            cap: T::from_f64(EXPONENT_CAP),
        }
    }

    /// The current at voltage `v`.
    #[inline(always)]
    pub fn at(&self, v: T) -> T {
        let exponent = (v - self.v_t) * self.inverse_slope;
        let exponent = if exponent > self.cap {
            self.cap
        } else {
            exponent
        };
        self.scale * exponent.exp()
    }
}

/// EIF parameters in physical units, defaults applied.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct EifParams {
    /// Membrane time constant τ_m (ms).
    pub tau_m: f64,
    /// Membrane capacitance C_m (pF).
    pub c_m: f64,
    /// Resting potential E_L (mV).
    pub e_l: f64,
    /// Soft threshold V_T (mV).
    pub v_t: f64,
    /// Slope factor Δ_T (mV).
    pub delta_t: f64,
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

impl Default for EifParams {
    fn default() -> Self {
        EifParams {
            tau_m: 10.0,
            c_m: 250.0,
            e_l: -72.0,
            v_t: -55.0,
            delta_t: 1.0,
            v_th: 0.0,
            v_reset: -72.0,
            v_min: -85.0,
            t_ref: 0.0,
            i_e: 0.0,
            integration: SpikeIntegration::Exact,
        }
    }
}

impl EifParams {
    /// The keys an EIF model takes.
    pub const KEYS: &'static [&'static str] = &[
        "tau_m",
        "c_m",
        "e_l",
        "v_t",
        "delta_t",
        "v_th",
        "v_reset",
        "v_min",
        "t_ref",
        "i_e",
        "integration",
    ];

    /// The parameters of a `neuron:` block, defaults filled in.
    pub fn from_spec(p: &NeuronParams) -> Self {
        let d = EifParams::default();
        EifParams {
            tau_m: p.tau_m.map_or(d.tau_m, |q| q.value()),
            c_m: p.c_m.map_or(d.c_m, |q| q.value()),
            e_l: p.e_l.map_or(d.e_l, |q| q.value()),
            v_t: p.v_t.map_or(d.v_t, |q| q.value()),
            delta_t: p.delta_t.map_or(d.delta_t, |q| q.value()),
            v_th: p.v_th.map_or(d.v_th, |q| q.value()),
            v_reset: p.v_reset.map_or(d.v_reset, |q| q.value()),
            v_min: p.v_min.map_or(d.v_min, |q| q.value()),
            t_ref: p.t_ref.map_or(d.t_ref, |q| q.value()),
            i_e: p.i_e.map_or(d.i_e, |q| q.value()),
            integration: p.integration.unwrap_or(d.integration),
        }
    }
}

/// Checks shared by EIF and AdEx: Δ_T > 0, V_T < V_th, V_reset < V_th, V_min < V_reset.
pub(crate) fn check_exponential(
    delta_t: f64,
    v_t: f64,
    v_th: f64,
    v_reset: f64,
    v_min: f64,
) -> Result<(), ParamError> {
    require_finite(&[
        ("delta_t", delta_t, "mV"),
        ("v_t", v_t, "mV"),
        ("v_th", v_th, "mV"),
        ("v_reset", v_reset, "mV"),
    ])?;
    require(
        delta_t > 0.0,
        "delta_t",
        delta_t,
        "mV",
        "a positive slope factor",
    )?;
    require(
        v_t < v_th,
        "v_th",
        v_th,
        "mV",
        format!("a spike-detection level above the soft threshold v_t = {v_t} mV"),
    )?;
    require_reset_below("v_reset", v_reset, "v_th", v_th, "mV")?;
    require(
        v_min < v_reset,
        "v_min",
        v_min,
        "mV",
        format!("a lower bound below the reset v_reset = {v_reset} mV"),
    )
}

/// An EIF model ready to step: derived quantities in precision `T`.
#[derive(Clone, Debug)]
pub struct Eif<T> {
    /// The parameters it was built from.
    pub params: EifParams,
    membrane: Membrane<T>,
    exponential: ExponentialCurrent<T>,
    v_th: T,
    v_reset: T,
    v_min: T,
    i_e: T,
    refractory_steps: u32,
}

impl<T: Real> Eif<T> {
    /// Check the parameters and precompute the propagators for time step `dt` (ms).
    pub fn new(params: EifParams, reversal: (f64, f64), dt: f64) -> Result<Self, ParamError> {
        let p = params;
        require_finite(&[
            ("c_m", p.c_m, "pF"),
            ("e_l", p.e_l, "mV"),
            ("i_e", p.i_e, "pA"),
        ])?;
        require_time_constant("tau_m", p.tau_m, "membrane time constant", dt)?;
        require(p.c_m > 0.0, "c_m", p.c_m, "pF", "a positive capacitance")?;
        check_exponential(p.delta_t, p.v_t, p.v_th, p.v_reset, p.v_min)?;
        let refractory_steps = refractory_steps(p.t_ref, dt)?;
        Ok(Eif {
            params,
            membrane: Membrane::new(
                p.integration == SpikeIntegration::Exact,
                p.tau_m,
                p.c_m,
                p.e_l,
                reversal,
                dt,
            ),
            exponential: ExponentialCurrent::new(p.c_m / p.tau_m, p.v_t, p.delta_t),
            v_th: T::from_f64(p.v_th),
            v_reset: T::from_f64(p.v_reset),
            v_min: T::from_f64(p.v_min),
            i_e: T::from_f64(p.i_e),
            refractory_steps,
        })
    }

    /// `(E_L, 0)` (the stable fixed point lies `≈ Δ_T e^{(E_L − V_T)/Δ_T}` above E_L: 4·10⁻⁸ mV
    /// with the defaults).
    pub fn resting(&self) -> (f64, f64) {
        (self.params.e_l, 0.0)
    }

    /// `(V_reset, V_T)`, NeuroSimTools' `initial_V='random'` range.
    pub fn random_range(&self) -> (f64, f64) {
        (self.params.v_reset, self.params.v_t)
    }

    /// One step of `dt` (see the module documentation). Returns whether the neuron spiked.
    #[inline(always)]
    pub fn step(&self, v: &mut T, refractory: &mut u32, drive: Drive<T>) -> bool {
        if *refractory > 0 {
            *refractory -= 1;
            *v = self.v_reset;
            return false;
        }
        let current = drive.current + self.i_e + self.exponential.at(*v);
        let advanced = self.membrane.advance(*v, current, drive.g_exc, drive.g_inh) + drive.jump;
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
