//! Quadratic integrate-and-fire neuron (`qif`), in RectiPy's form.
//!
//! # Equations
//!
//! ```text
//! τ dv/dt = v² + η + I
//! v ≥ v_peak  →  spike;  v ← v_r
//! ```
//!
//! `v` is dimensionless, as in RectiPy (and in the Montbrió–Pazó–Roxin mean-field theory); only
//! time has a unit (ms). `I = I_syn + i_e` is the drive's `current` taken as a plain number in
//! the same units as η (a current-synapse weight of `x` adds `x` to `I`), delta synapses add
//! their weight to `v`. Conductance input, if any, enters as `g_exc (E_exc − v) + g_inh
//! (E_inh − v)` in the same units. There is no refractory period: the time the neuron spends
//! between `v_peak` and `+∞` and back from `−∞` to `v_r` is the QIF's own (vanishing for
//! `v_peak = −v_r → ∞`).
//!
//! With `c = η + I > 0` the neuron fires periodically with period
//! `(τ/√c)[atan(v_peak/√c) − atan(v_r/√c)]`, which tends to `π τ/√c` as `v_peak = −v_r → ∞`;
//! with `c < 0` it rests at `−√(−c)`.
//!
//! # Parameters
//!
//! | key | meaning | unit | default |
//! |---|---|---|---|
//! | `tau` | time constant τ | ms | 10 |
//! | `eta` | excitability η | – | −5 |
//! | `v_peak` | spike peak v_peak | – | 100 |
//! | `v_r` | reset v_r | – | −100 |
//! | `i_e` | constant input (model units) | – | 0 |
//! | `integration` | `exact` or `euler` | | `exact` |
//!
//! RectiPy's own defaults are τ = 1, η = −5, `spike_threshold` = 100, `spike_reset` = −100 in
//! its time unit; ours give the same dynamics with τ = 10 ms. Checked: τ > dt, v_r < v_peak,
//! v_peak > 0.
//!
//! # Integration
//!
//! `exact` (default): with the input held over the step the equation is a Riccati equation with
//! constant coefficients, solved in closed form (in f64, whatever the simulation precision):
//! after completing the square (conductances shift `v` by `(g_exc + g_inh)/2`), `x = v − shift`
//! obeys `τ x' = x² + c` and
//!
//! * `c > 0`, `s = √c`: `x(t) = s tan(atan(x₀/s) + s t/τ)`; a spike if the phase reaches
//!   `atan(x_peak/s)` within the step;
//! * `c = 0`: `x(t) = x₀/(1 − x₀ t/τ)`;
//! * `c < 0`, `s = √(−c)`: `x(t) = −s tanh(s t/τ − atanh(x₀/s))` for `|x₀| < s`, and
//!   `x(t) = −s coth(s t/τ + atanh(−s/x₀))` otherwise (blowing up, hence spiking, for `x₀ > s`).
//!
//! Spike times are therefore exact up to the time grid (the reset happens at the end of the
//! step). `euler`: RectiPy's forward Euler `v ← v + dt (v² + η + I)/τ`.
//!
//! # References
//!
//! * Ermentrout & Kopell (1986), *Parabolic bursting in an excitable system coupled with a slow
//!   oscillation*, SIAM J. Appl. Math. 46:233.
//! * Montbrió, Pazó & Roxin (2015), *Macroscopic description for networks of spiking neurons*,
//!   Phys. Rev. X 5:021028.
//! * Gast et al., RectiPy (`neuron_model_templates.spiking_neurons.qif.qif`).

use super::{Drive, ParamError, require, require_finite, require_time_constant};
use crate::real::Real;
use neuroxide_model::{NeuronParams, SpikeIntegration};

/// QIF parameters, defaults applied.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct QifParams {
    /// Time constant τ (ms).
    pub tau: f64,
    /// Excitability η.
    pub eta: f64,
    /// Spike peak v_peak.
    pub v_peak: f64,
    /// Reset v_r.
    pub v_r: f64,
    /// Constant input.
    pub i_e: f64,
    /// Integration rule.
    pub integration: SpikeIntegration,
}

impl Default for QifParams {
    fn default() -> Self {
        QifParams {
            tau: 10.0,
            eta: -5.0,
            v_peak: 100.0,
            v_r: -100.0,
            i_e: 0.0,
            integration: SpikeIntegration::Exact,
        }
    }
}

impl QifParams {
    /// The keys a QIF model takes.
    pub const KEYS: &'static [&'static str] =
        &["tau", "eta", "v_peak", "v_r", "i_e", "integration"];

    /// The parameters of a `neuron:` block, defaults filled in.
    pub fn from_spec(p: &NeuronParams) -> Self {
        let d = QifParams::default();
        QifParams {
            tau: p.tau.map_or(d.tau, |q| q.value()),
            eta: p.eta.unwrap_or(d.eta),
            v_peak: p.v_peak.unwrap_or(d.v_peak),
            v_r: p.v_r.unwrap_or(d.v_r),
            i_e: p.i_e.map_or(d.i_e, |q| q.value()),
            integration: p.integration.unwrap_or(d.integration),
        }
    }
}

/// A QIF model ready to step.
#[derive(Clone, Debug)]
pub struct Qif<T> {
    /// The parameters it was built from.
    pub params: QifParams,
    exact: bool,
    /// dt/τ.
    h: f64,
    dt_over_tau: T,
    eta: T,
    i_e: T,
    v_peak: T,
    v_r: T,
    e_exc: T,
    e_inh: T,
}

/// `|c|` below which `τ x' = x² + c` is solved as `τ x' = x²` (relative to `1 + x₀²`).
const NEGLIGIBLE: f64 = 1e-12;

/// One step of `τ x' = x² + c` over `h = dt/τ` from `x0 < x_peak`, in closed form: `None` if
/// `x` reaches `x_peak` within the step, else `Some(x(h))`.
pub fn riccati_step(x0: f64, c: f64, h: f64, x_peak: f64) -> Option<f64> {
    if c.abs() <= NEGLIGIBLE * (1.0 + x0 * x0) {
        // x(t) = x0/(1 − x0 t); reaches x_peak at t = 1/x0 − 1/x_peak (x0 > 0).
        if x0 > 0.0 && h >= 1.0 / x0 - 1.0 / x_peak {
            return None;
        }
        return Some(x0 / (1.0 - x0 * h));
    }
    if c > 0.0 {
        let s = c.sqrt();
        let phase = (x0 / s).atan() + s * h;
        if phase >= (x_peak / s).atan() {
            None
        } else {
            Some(s * phase.tan())
        }
    } else {
        let s = (-c).sqrt();
        if x0.abs() < s {
            // Between the fixed points: relaxes to −s, never reaches x_peak > x0.
            Some(-s * (s * h - (x0 / s).atanh()).tanh())
        } else {
            // x = −s coth φ with φ0 = atanh(−s/x0), φ increasing; x0 > s blows up at φ = 0⁻.
            let phase = (-s / x0).atanh() + s * h;
            if x0 > s && (x_peak <= s || phase >= (-s / x_peak).atanh()) {
                None
            } else {
                Some(-s / phase.tanh())
            }
        }
    }
}

impl<T: Real> Qif<T> {
    /// Check the parameters for time step `dt` (ms); `reversal` = (E_exc, E_inh) for
    /// conductance input, in the model's units.
    pub fn new(params: QifParams, reversal: (f64, f64), dt: f64) -> Result<Self, ParamError> {
        let p = params;
        require_finite(&[
            ("eta", p.eta, ""),
            ("v_peak", p.v_peak, ""),
            ("v_r", p.v_r, ""),
            ("i_e", p.i_e, ""),
        ])?;
        require_time_constant("tau", p.tau, "time constant", dt)?;
        require(
            p.v_peak > 0.0,
            "v_peak",
            p.v_peak,
            "",
            "a positive spike peak",
        )?;
        require(
            p.v_r < p.v_peak,
            "v_r",
            p.v_r,
            "",
            format!("a reset below the spike peak v_peak = {}", p.v_peak),
        )?;
        Ok(Qif {
            params,
            exact: p.integration == SpikeIntegration::Exact,
            h: dt / p.tau,
            dt_over_tau: T::from_f64(dt / p.tau),
            eta: T::from_f64(p.eta),
            i_e: T::from_f64(p.i_e),
            v_peak: T::from_f64(p.v_peak),
            v_r: T::from_f64(p.v_r),
            e_exc: T::from_f64(reversal.0),
            e_inh: T::from_f64(reversal.1),
        })
    }

    /// `(−√(−η − i_e), 0)`, the stable fixed point, if `η + i_e < 0`; else `(v_r, 0)`.
    pub fn resting(&self) -> (f64, f64) {
        let c = self.params.eta + self.params.i_e;
        if c < 0.0 {
            (-(-c).sqrt(), 0.0)
        } else {
            (self.params.v_r, 0.0)
        }
    }

    /// `(v_r, v_peak)`.
    pub fn random_range(&self) -> (f64, f64) {
        (self.params.v_r, self.params.v_peak)
    }

    /// One step of `dt`. Returns whether the neuron spiked.
    #[inline]
    pub fn step(&self, v: &mut T, drive: Drive<T>) -> bool {
        let input = self.eta + self.i_e + drive.current;
        let advanced = if *v >= self.v_peak {
            None
        } else if self.exact {
            // τ v' = v² − g v + (input + g_e E_e + g_i E_i) = x² + c with x = v − g/2.
            let g = (drive.g_exc + drive.g_inh).to_f64();
            let shift = 0.5 * g;
            let c = (input + drive.g_exc * self.e_exc + drive.g_inh * self.e_inh).to_f64()
                - shift * shift;
            riccati_step(v.to_f64() - shift, c, self.h, self.v_peak.to_f64() - shift)
                .map(|x| T::from_f64(x + shift))
        } else {
            let mut rhs = *v * *v + input;
            if drive.g_exc != T::ZERO || drive.g_inh != T::ZERO {
                rhs += drive.g_exc * (self.e_exc - *v) + drive.g_inh * (self.e_inh - *v);
            }
            Some(*v + self.dt_over_tau * rhs)
        };
        match advanced {
            Some(x) if x + drive.jump < self.v_peak => {
                *v = x + drive.jump;
                false
            }
            _ => {
                *v = self.v_r;
                true
            }
        }
    }
}
