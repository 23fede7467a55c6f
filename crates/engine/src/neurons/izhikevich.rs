//! Izhikevich (2003) simple model (`izhikevich`).
//!
//! # Equations
//!
//! ```text
//! dv/dt = 0.04 v² + 5 v + 140 − u + I
//! du/dt = a (b v − u)
//! v ≥ v_th  →  spike;  v ← c,  u ← u + d
//! ```
//!
//! Time in ms, `v` in mV; `u` and `I` in the paper's units (mV/ms, with the pA-like numbers of
//! its figures: `I = 10` makes a regular-spiking cell fire tonically). `I = I_syn + i_e` is the
//! drive's `current` taken as a plain number; delta synapses add their weight to `v`;
//! conductance input, if any, adds `g_exc (E_exc − v) + g_inh (E_inh − v)` to `I`. The engine's
//! second state variable `w` holds `u`.
//!
//! # Parameters
//!
//! | key | meaning | unit | default (regular spiking) |
//! |---|---|---|---|
//! | `a` | recovery rate | 1/ms | 0.02 |
//! | `b` | sensitivity of `u` to `v` | – | 0.2 |
//! | `c` | reset of `v` | mV | −65 |
//! | `d` | increment of `u` at a spike | mV/ms | 8 |
//! | `v_th` | spike cut-off | mV | 30 |
//! | `i_e` | constant input (model units) | – | 0 |
//! | `integration` | `exact` or `euler` | | `exact` |
//!
//! Other cell classes of the paper: intrinsically bursting (c = −55, d = 4), chattering
//! (c = −50, d = 2), fast spiking (a = 0.1, d = 2), low-threshold spiking (b = 0.25, d = 2).
//! Checked: a ≥ 0 with a·dt < 1, c < v_th.
//!
//! # Integration
//!
//! `exact` (default; the name only says "the model's reference scheme" — the model has no exact
//! solution): the paper's scheme, `v` advanced by two forward-Euler half steps of dt/2, then `u`
//! by a forward-Euler step with the new `v` (the paper uses dt = 1 ms). `euler`: forward Euler
//! for both from their start-of-step values. Both are meant for dt ≲ 0.5 ms.
//!
//! # References
//!
//! * Izhikevich (2003), *Simple model of spiking neurons*, IEEE Trans. Neural Netw. 14:1569
//!   (equations, parameters, the MATLAB loop with two half steps).
//! * Izhikevich (2004), *Which model to use for cortical spiking neurons?*, IEEE Trans. Neural
//!   Netw. 15:1063.

use super::{Drive, ParamError, require, require_finite, require_reset_below};
use crate::real::Real;
use neuroxide_model::{NeuronParams, SpikeIntegration};

/// Izhikevich parameters, defaults applied (regular spiking).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct IzhikevichParams {
    /// Recovery rate a (1/ms).
    pub a: f64,
    /// Sensitivity b.
    pub b: f64,
    /// Reset c (mV).
    pub c: f64,
    /// Recovery increment d.
    pub d: f64,
    /// Spike cut-off v_th (mV).
    pub v_th: f64,
    /// Constant input.
    pub i_e: f64,
    /// Integration rule.
    pub integration: SpikeIntegration,
}

impl Default for IzhikevichParams {
    fn default() -> Self {
        IzhikevichParams {
            a: 0.02,
            b: 0.2,
            c: -65.0,
            d: 8.0,
            v_th: 30.0,
            i_e: 0.0,
            integration: SpikeIntegration::Exact,
        }
    }
}

impl IzhikevichParams {
    /// The keys an Izhikevich model takes.
    pub const KEYS: &'static [&'static str] = &["a", "b", "c", "d", "v_th", "i_e", "integration"];

    /// The parameters of a `neuron:` block, defaults filled in.
    pub fn from_spec(p: &NeuronParams) -> Self {
        let d = IzhikevichParams::default();
        IzhikevichParams {
            a: p.a.unwrap_or(d.a),
            b: p.b.unwrap_or(d.b),
            c: p.c.unwrap_or(d.c),
            d: p.d.unwrap_or(d.d),
            v_th: p.v_th.map_or(d.v_th, |q| q.value()),
            i_e: p.i_e.map_or(d.i_e, |q| q.value()),
            integration: p.integration.unwrap_or(d.integration),
        }
    }
}

/// An Izhikevich model ready to step.
#[derive(Clone, Debug)]
pub struct Izhikevich<T> {
    /// The parameters it was built from.
    pub params: IzhikevichParams,
    exact: bool,
    dt: T,
    half_dt: T,
    a: T,
    b: T,
    c: T,
    d: T,
    v_th: T,
    i_e: T,
    e_exc: T,
    e_inh: T,
}

impl<T: Real> Izhikevich<T> {
    /// Check the parameters for time step `dt` (ms); `reversal` = (E_exc, E_inh) (mV) for
    /// conductance input.
    pub fn new(
        params: IzhikevichParams,
        reversal: (f64, f64),
        dt: f64,
    ) -> Result<Self, ParamError> {
        let p = params;
        require_finite(&[
            ("a", p.a, "1/ms"),
            ("b", p.b, ""),
            ("c", p.c, "mV"),
            ("d", p.d, ""),
            ("v_th", p.v_th, "mV"),
            ("i_e", p.i_e, ""),
        ])?;
        require(
            p.a >= 0.0 && p.a * dt < 1.0,
            "a",
            p.a,
            "1/ms",
            format!("a recovery rate ≥ 0 and below 1/dt = {} /ms", 1.0 / dt),
        )?;
        require_reset_below("c", p.c, "v_th", p.v_th, "mV")?;
        Ok(Izhikevich {
            params,
            exact: p.integration == SpikeIntegration::Exact,
            dt: T::from_f64(dt),
            half_dt: T::from_f64(0.5 * dt),
            a: T::from_f64(p.a),
            b: T::from_f64(p.b),
            c: T::from_f64(p.c),
            d: T::from_f64(p.d),
            v_th: T::from_f64(p.v_th),
            i_e: T::from_f64(p.i_e),
            e_exc: T::from_f64(reversal.0),
            e_inh: T::from_f64(reversal.1),
        })
    }

    /// The stable fixed point without input: the lower root of `0.04 v² + (5 − b) v + 140 = 0`
    /// with `u = b v` (`(−70, −14)` for regular spiking); `(c, b c)` if there is none.
    pub fn resting(&self) -> (f64, f64) {
        let p = &self.params;
        let (qa, qb, qc) = (0.04, 5.0 - p.b, 140.0);
        let discriminant = qb * qb - 4.0 * qa * qc;
        let v = if discriminant >= 0.0 {
            (-qb - discriminant.sqrt()) / (2.0 * qa)
        } else {
            p.c
        };
        (v, p.b * v)
    }

    /// `(c, v_th)`.
    pub fn random_range(&self) -> (f64, f64) {
        (self.params.c, self.params.v_th)
    }

    /// dv/dt at `(v, u)` with input `input`.
    #[inline(always)]
    fn dv(v: T, u: T, input: T) -> T {
        let k2 = T::from_f64(0.04);
        let k1 = T::from_f64(5.0);
        let k0 = T::from_f64(140.0);
        (k2 * v + k1) * v + k0 - u + input
    }

    /// One step of `dt` (`u` is the engine's `w`). Returns whether the neuron spiked.
    #[inline]
    pub fn step(&self, v: &mut T, u: &mut T, drive: Drive<T>) -> bool {
        let conductance_input = |v: T| {
            if drive.g_exc != T::ZERO || drive.g_inh != T::ZERO {
                drive.g_exc * (self.e_exc - v) + drive.g_inh * (self.e_inh - v)
            } else {
                T::ZERO
            }
        };
        let input = drive.current + self.i_e;
        let (v0, u0) = (*v, *u);
        let (v1, u1) = if self.exact {
            let half = v0 + self.half_dt * Self::dv(v0, u0, input + conductance_input(v0));
            let v1 = half + self.half_dt * Self::dv(half, u0, input + conductance_input(half));
            (v1, u0 + self.dt * self.a * (self.b * v1 - u0))
        } else {
            (
                v0 + self.dt * Self::dv(v0, u0, input + conductance_input(v0)),
                u0 + self.dt * self.a * (self.b * v0 - u0),
            )
        };
        let v1 = v1 + drive.jump;
        if v1 >= self.v_th {
            *v = self.c;
            *u = u1 + self.d;
            true
        } else {
            *v = v1;
            *u = u1;
            false
        }
    }
}
