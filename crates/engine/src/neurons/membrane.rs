//! The leaky membrane shared by LIF, EIF and AdEx.
//!
//! # Equation
//!
//! ```text
//! C_m dV/dt = −g_L (V − E_L) + g_exc (E_exc − V) + g_inh (E_inh − V) + I        g_L = C_m / τ_m
//! ```
//!
//! `I` (pA) holds everything that is not the leak or a conductance: synaptic and external
//! currents, and for EIF/AdEx the spike-generating current `g_L Δ_T e^{(V−V_T)/Δ_T}` and the
//! adaptation `−w`, evaluated at the start of the step.
//!
//! # One step of `dt`, with `I`, `g_exc`, `g_inh` held at their start-of-step values
//!
//! * `exact` — the equation is linear in `V`, so it is solved exactly (exponential Euler, exact
//!   for LIF with current input, NEST's `iaf_psc_*` propagator): with
//!   `g = g_L + g_exc + g_inh` and `V_∞ = (g_L E_L + g_exc E_exc + g_inh E_inh + I)/g`,
//!   `V ← V_∞ + (V − V_∞) e^{−g dt/C_m}`. Without conductances the factors `e^{−dt/τ_m}` and
//!   `(1 − e^{−dt/τ_m})/g_L` are precomputed; with them one `exp` per step is needed.
//! * `euler` — `V ← V + (dt/C_m)·(right-hand side)` (the seed tools' forward Euler).
//!
//! Conductances are assumed non-negative (they are sums of non-negative synaptic traces).

use crate::real::Real;

/// Derived quantities of the membrane equation in the simulation's precision.
#[derive(Copy, Clone, Debug)]
pub struct Membrane<T> {
    /// Exact (exponential) propagation, else forward Euler.
    pub exact: bool,
    /// Leak reversal potential E_L (mV).
    pub e_l: T,
    /// Leak conductance g_L = C_m/τ_m (nS).
    pub g_l: T,
    /// −dt/C_m (ms/pF), the exponent factor of the conductance-based propagator.
    pub minus_dt_over_c: T,
    /// dt/C_m (ms/pF), the Euler factor.
    pub dt_over_c: T,
    /// e^{−dt/τ_m}.
    pub decay: T,
    /// (1 − e^{−dt/τ_m})/g_L (mV/pA): the voltage a constant current adds over one step.
    pub gain: T,
    /// Excitatory reversal potential E_exc (mV).
    pub e_exc: T,
    /// Inhibitory reversal potential E_inh (mV).
    pub e_inh: T,
}

impl<T: Real> Membrane<T> {
    /// Membrane with time constant `tau_m` (ms), capacitance `c_m` (pF), leak reversal `e_l`
    /// (mV), synaptic reversal potentials `reversal = (E_exc, E_inh)` (mV), time step `dt` (ms).
    pub fn new(exact: bool, tau_m: f64, c_m: f64, e_l: f64, reversal: (f64, f64), dt: f64) -> Self {
        let g_l = c_m / tau_m;
        let decay = (-dt / tau_m).exp();
        let one_minus_decay = -(-dt / tau_m).exp_m1();
        Membrane {
            exact,
            e_l: T::from_f64(e_l),
            g_l: T::from_f64(g_l),
            minus_dt_over_c: T::from_f64(-dt / c_m),
            dt_over_c: T::from_f64(dt / c_m),
            decay: T::from_f64(decay),
            gain: T::from_f64(one_minus_decay / g_l),
            e_exc: T::from_f64(reversal.0),
            e_inh: T::from_f64(reversal.1),
        }
    }

    /// `V` after one step of `dt` from `v`, with current `current` (pA) and conductances
    /// `g_exc`, `g_inh` (nS) held constant over the step.
    #[inline(always)]
    pub fn advance(&self, v: T, current: T, g_exc: T, g_inh: T) -> T {
        let conductances = g_exc != T::ZERO || g_inh != T::ZERO;
        if self.exact {
            if conductances {
                let g = self.g_l + g_exc + g_inh;
                let v_inf =
                    (self.g_l * self.e_l + g_exc * self.e_exc + g_inh * self.e_inh + current) / g;
                // Inline: a libm call here spills every register of the neuron loop.
                let decay = (self.minus_dt_over_c * g).exp_inline();
                v_inf + (v - v_inf) * decay
            } else {
                self.e_l + (v - self.e_l) * self.decay + current * self.gain
            }
        } else {
            let mut rhs = current - self.g_l * (v - self.e_l);
            if conductances {
                rhs += g_exc * (self.e_exc - v) + g_inh * (self.e_inh - v);
            }
            v + self.dt_over_c * rhs
        }
    }
}
