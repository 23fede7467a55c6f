//! Short-term plasticity (Tsodyks–Markram) of projections: presynaptic utilisation `u` and
//! resources `x` per neuron and lane.
//!
//! * **Rate presynaptic populations** (NeuroFlame's `plasticity.py`): every step, before the
//!   projections, `u` and `x` advance with the presynaptic rate `r` of the step's start (read in
//!   Hz: the `dt` multiplying `r` is in seconds), and the projection carries `u·x·r` instead of
//!   `r`:
//!   * `markram` (forward Euler; `x` first, with the old `u`):
//!     `x ← x + (1 − x) dt/τ_D − dt u x r`, `u ← u + (U − u) dt/τ_F + dt U (1 − u) r`;
//!   * `markram_exp` (exact decay): `x ← 1 + (x − 1) e^{−dt/τ_D} − dt u x r`,
//!     `u ← U + (u − U) e^{−dt/τ_F} + dt U (1 − u) r`.
//!
//!   They start at `u = U`, `x = 1`.
//! * **Spiking presynaptic populations** (`mato`, event-based): between spikes `u` decays to 0
//!   with `τ_F` and `x` recovers to 1 with `τ_D`, exactly; a spike of step `k` (at the end of
//!   the step) first decays them over the time since the neuron's last spike, then
//!   `u ← u + U (1 − u)`, its efficacy is `u x`, and `x ← x − u x`. The spike reaches its
//!   targets (one delay later) with its weight times that efficacy. They start at `u = 0`,
//!   `x = 1`, so a first spike acts with `U`.
//!
//! A time constant of 0 switches its process off: `u ≡ U` (no facilitation) or `x ≡ 1` (no
//! depression). Recorded `stp_u`/`stp_x` are the values after the step (for spiking
//! populations, decayed to the end of the step).

use crate::real::Real;
use neuroxide_model::{NetworkSpec, StpModel, StpSpec};

/// Per-lane parameters.
#[derive(Clone, Debug)]
struct LaneParams {
    big_u: f64,
    tau_rec: f64,
    tau_fac: f64,
}

fn lane_params(lane_specs: &[NetworkSpec], name: &str) -> Vec<LaneParams> {
    lane_specs
        .iter()
        .map(|s| {
            let stp: &StpSpec = s.projections[name].stp.as_ref().expect("stp");
            LaneParams {
                big_u: stp.u,
                tau_rec: stp.tau_rec.ms(),
                tau_fac: stp.tau_fac.ms(),
            }
        })
        .collect()
}

/// The rule of a projection's `stp`, with the default for its presynaptic population.
pub fn model_of(stp: &StpSpec, pre_spiking: bool) -> StpModel {
    stp.model.unwrap_or(if pre_spiking {
        StpModel::Mato
    } else {
        StpModel::Markram
    })
}

/// STP of a projection from a rate population.
#[derive(Debug)]
pub struct RateStp<T: Real> {
    /// The projection's name.
    pub name: String,
    /// Index of the projection among the rate projections.
    pub projection: usize,
    /// Index of the presynaptic rate population.
    pub pre: usize,
    exponential: bool,
    lanes: usize,
    big_u: Vec<T>,
    /// Per lane: `dt/τ` (Euler) or `e^{−dt/τ}` (exact), and whether the process is on.
    rec: Vec<T>,
    fac: Vec<T>,
    rec_on: Vec<bool>,
    fac_on: Vec<bool>,
    /// dt in seconds.
    dt_s: T,
    pub u: Vec<T>,
    pub x: Vec<T>,
    /// `u x r` of the step, `[neuron][lane]`.
    pub signal: Vec<T>,
}

impl<T: Real> RateStp<T> {
    /// Lower the `stp` of rate projection `name` (index `projection`, presynaptic population
    /// `pre` of `size` neurons).
    pub fn new(
        name: &str,
        lane_specs: &[NetworkSpec],
        dt_ms: f64,
        projection: usize,
        pre: usize,
        size: usize,
    ) -> Self {
        let lanes = lane_specs.len();
        let stp = lane_specs[0].projections[name].stp.as_ref().expect("stp");
        let exponential = model_of(stp, false) == StpModel::MarkramExp;
        let params = lane_params(lane_specs, name);
        let factor = |tau: f64| {
            if tau <= 0.0 {
                T::ZERO
            } else if exponential {
                T::from_f64((-dt_ms / tau).exp())
            } else {
                T::from_f64(dt_ms / tau)
            }
        };
        let mut stp = RateStp {
            name: name.to_string(),
            projection,
            pre,
            exponential,
            lanes,
            big_u: params.iter().map(|p| T::from_f64(p.big_u)).collect(),
            rec: params.iter().map(|p| factor(p.tau_rec)).collect(),
            fac: params.iter().map(|p| factor(p.tau_fac)).collect(),
            rec_on: params.iter().map(|p| p.tau_rec > 0.0).collect(),
            fac_on: params.iter().map(|p| p.tau_fac > 0.0).collect(),
            dt_s: T::from_f64(dt_ms * 1e-3),
            u: vec![T::ZERO; size * lanes],
            x: vec![T::ZERO; size * lanes],
            signal: vec![T::ZERO; size * lanes],
        };
        stp.reset();
        stp
    }

    /// `u = U`, `x = 1`.
    pub fn reset(&mut self) {
        let lanes = self.lanes;
        for (k, (u, x)) in self.u.iter_mut().zip(&mut self.x).enumerate() {
            *u = self.big_u[k % lanes];
            *x = T::ONE;
        }
        self.signal.iter_mut().for_each(|s| *s = T::ZERO);
    }

    /// Advance `u`, `x` with the presynaptic rates `rate` (`[neuron][lane]`) and set the signal
    /// `u x r`.
    pub fn update(&mut self, rate: &[T]) {
        let lanes = self.lanes;
        let dt = self.dt_s;
        for (((u, x), s), (k, &r)) in self
            .u
            .iter_mut()
            .zip(&mut self.x)
            .zip(&mut self.signal)
            .zip(rate.iter().enumerate())
        {
            let l = k % lanes;
            let big_u = self.big_u[l];
            let (u0, x0) = (*u, *x);
            let x1 = if !self.rec_on[l] {
                T::ONE
            } else if self.exponential {
                T::ONE + (x0 - T::ONE) * self.rec[l] - dt * u0 * x0 * r
            } else {
                x0 + (T::ONE - x0) * self.rec[l] - dt * u0 * x0 * r
            };
            let u1 = if !self.fac_on[l] {
                big_u
            } else if self.exponential {
                big_u + (u0 - big_u) * self.fac[l] + dt * big_u * (T::ONE - u0) * r
            } else {
                u0 + (big_u - u0) * self.fac[l] + dt * big_u * (T::ONE - u0) * r
            };
            *u = u1;
            *x = x1;
            *s = u1 * x1 * r;
        }
    }
}

/// The signal a rate projection carries, if it has STP.
pub fn signal<T: Real>(stp: &[RateStp<T>], projection: usize) -> Option<&[T]> {
    stp.iter()
        .find(|s| s.projection == projection)
        .map(|s| s.signal.as_slice())
}

/// Whether a rate projection has STP.
pub fn has_stp<T: Real>(stp: &[RateStp<T>], projection: usize) -> bool {
    stp.iter().any(|s| s.projection == projection)
}

/// Event-based STP of a projection from a spiking population.
#[derive(Debug, Default)]
pub struct SpikeStp<T: Real> {
    pub name: String,
    /// Index of the presynaptic spiking population.
    pub pre: usize,
    /// The spiking projections (one per sign) it acts on.
    pub projections: Vec<usize>,
    lanes: usize,
    dt_ms: f64,
    params: Vec<LaneParams>,
    /// `u` and `x` just after each neuron's last spike, `[neuron][lane]`.
    pub u: Vec<f64>,
    pub x: Vec<f64>,
    /// Time (ms, step × dt) of each neuron's last spike; −∞: none yet.
    pub last: Vec<f64>,
    /// Efficacy of each neuron's spikes of the last step (their mean, for several), `[neuron][lane]`.
    pub efficacy: Vec<T>,
    /// Scratch for recordings.
    view: Vec<T>,
}

impl<T: Real> SpikeStp<T> {
    pub fn new(
        name: &str,
        lane_specs: &[NetworkSpec],
        dt_ms: f64,
        pre: usize,
        size: usize,
        projections: Vec<usize>,
    ) -> Self {
        let lanes = lane_specs.len();
        let n = size * lanes;
        let mut stp = SpikeStp {
            name: name.to_string(),
            pre,
            projections,
            lanes,
            dt_ms,
            params: lane_params(lane_specs, name),
            u: vec![0.0; n],
            x: vec![1.0; n],
            last: vec![f64::NEG_INFINITY; n],
            efficacy: vec![T::ZERO; n],
            view: vec![T::ZERO; n],
        };
        stp.reset();
        stp
    }

    /// No spike yet: `u = 0` (`U` without facilitation), `x = 1`.
    pub fn reset(&mut self) {
        let lanes = self.lanes;
        for (k, u) in self.u.iter_mut().enumerate() {
            let p = &self.params[k % lanes];
            *u = if p.tau_fac > 0.0 { 0.0 } else { p.big_u };
        }
        self.x.iter_mut().for_each(|x| *x = 1.0);
        self.last.iter_mut().for_each(|s| *s = f64::NEG_INFINITY);
        self.efficacy.iter_mut().for_each(|e| *e = T::ZERO);
    }

    /// `(u, x)` of entry `k` decayed from its last spike to the end of step `step`.
    fn decayed(&self, k: usize, step: u64) -> (f64, f64) {
        let p = &self.params[k % self.lanes];
        let last = self.last[k];
        if last == f64::NEG_INFINITY {
            return (self.u[k], self.x[k]);
        }
        let elapsed = step as f64 * self.dt_ms - last;
        let u = if p.tau_fac > 0.0 {
            self.u[k] * (-elapsed / p.tau_fac).exp()
        } else {
            p.big_u
        };
        let x = if p.tau_rec > 0.0 {
            1.0 - (1.0 - self.x[k]) * (-elapsed / p.tau_rec).exp()
        } else {
            1.0
        };
        (u, x)
    }

    /// Process the spikes of step `step` (per lane, ascending neuron indices; a neuron may repeat)
    /// and set their efficacies for delivery.
    pub fn update(&mut self, spikes: &[Vec<u32>], step: u64) {
        let lanes = self.lanes;
        for (l, list) in spikes.iter().enumerate() {
            let mut i = 0;
            while i < list.len() {
                let j = list[i] as usize;
                let k = j * lanes + l;
                let big_u = self.params[l].big_u;
                let mut sum = 0.0;
                let mut count = 0;
                while i < list.len() && list[i] as usize == j {
                    let (u, x) = self.decayed(k, step);
                    let u = u + big_u * (1.0 - u);
                    let efficacy = u * x;
                    sum += efficacy;
                    count += 1;
                    self.u[k] = u;
                    self.x[k] = if self.params[l].tau_rec > 0.0 {
                        x - efficacy
                    } else {
                        1.0
                    };
                    self.last[k] = step as f64 * self.dt_ms;
                    i += 1;
                }
                self.efficacy[k] = T::from_f64(sum / count as f64);
            }
        }
    }

    /// `u` or `x` of every neuron at the end of step `step`, `[neuron][lane]`.
    pub fn view(&mut self, step: u64, want_u: bool) -> &[T] {
        for k in 0..self.u.len() {
            let (u, x) = self.decayed(k, step);
            self.view[k] = T::from_f64(if want_u { u } else { x });
        }
        &self.view
    }
}

/// The STP acting on spiking projection `q`, if any.
pub fn for_spiking<T: Real>(stp: &[SpikeStp<T>], q: usize) -> Option<&SpikeStp<T>> {
    stp.iter().find(|s| s.projections.contains(&q))
}

/// Names of the projections with STP whose presynaptic population is spiking (`spiking`) or
/// not, in model order: the order of [`RateStp`]s and [`SpikeStp`]s.
fn stp_projections(spec: &NetworkSpec, spiking: bool) -> Vec<&String> {
    spec.projections
        .iter()
        .filter(|(_, p)| p.stp.is_some() && spec.populations[&p.pre].model.is_spiking() == spiking)
        .map(|(name, _)| name)
        .collect()
}

/// The STP state a validated `stp_u`/`stp_x` monitor records: its index (among the rate or the
/// spiking ones, by the monitor population's kind) and the name of its results
/// (`<population>.stp_u`, or `<projection>.stp_u` when the monitor names the projection).
pub fn monitor_target(
    spec: &NetworkSpec,
    monitor: &neuroxide_model::MonitorSpec,
) -> (usize, String) {
    let spiking = spec.populations[&monitor.population].model.is_spiking();
    let names = stp_projections(spec, spiking);
    let index = match &monitor.projection {
        Some(projection) => names.iter().position(|n| *n == projection),
        None => names
            .iter()
            .position(|n| spec.projections[*n].pre == monitor.population),
    }
    .expect("validated: an STP projection from the monitored population");
    let name = monitor
        .projection
        .clone()
        .unwrap_or_else(|| monitor.population.clone());
    (index, name)
}

/// The event-based STP of the projections from spiking populations.
pub fn lower_spiking_stp<T: Real>(
    spec: &NetworkSpec,
    lane_specs: &[NetworkSpec],
    spiking: &crate::spiking::SpikingNetwork<T>,
    spiking_index: &[Option<usize>],
) -> Vec<SpikeStp<T>> {
    stp_projections(spec, true)
        .into_iter()
        .map(|name| {
            let proj = &spec.projections[name];
            let pre_index = spec.populations.get_index_of(&proj.pre).expect("validated");
            let pre = spiking_index[pre_index].expect("spiking");
            let split = format!("{name} (sign-split)");
            let projections = spiking
                .projections
                .iter()
                .enumerate()
                .filter(|(_, p)| p.name == *name || p.name == split)
                .map(|(q, _)| q)
                .collect();
            SpikeStp::new(
                name,
                lane_specs,
                spec.dt.ms(),
                pre,
                spec.populations[pre_index].size,
                projections,
            )
        })
        .collect()
}
