//! The model description: plain data read from a model file, validated, and written back.
//!
//! Nothing here knows how a model runs. A [`NetworkSpec`] is produced by the YAML loader
//! ([`crate::load`]), by the Python package, or by Rust code, and is turned into a runnable
//! simulation by the engine's lowering step. Every struct rejects unknown keys, so a typo such as
//! `tua: 20 ms` is an error naming the key and the file line, not a silently ignored setting.

use crate::units::{Angle, Capacitance, Current, Rate, Time, Voltage};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A whole model: time axis, populations, projections between them, inputs, monitors, lanes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Free-form name, used in summaries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Integration time step (ms).
    pub dt: Time,
    /// Recorded duration (ms), after the transient.
    pub duration: Time,
    /// Unrecorded transient before `t = 0` (NeuroFlame's `T_STEADY`); stimulus times are relative
    /// to its end.
    #[serde(default)]
    pub transient: Time,
    /// Seed of every random draw (connectivity, initial conditions, noise).
    #[serde(default)]
    pub seed: u64,
    /// Floating-point precision of the state and kernels.
    #[serde(default)]
    pub precision: Precision,
    /// Worker threads; absent: `--threads`, then `RAYON_NUM_THREADS`, then all cores. Results do not
    /// depend on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// Integration rule of the rate and current equations.
    #[serde(default)]
    pub method: Method,
    /// Independent trials run side by side (batch lanes); with `sweep`, inferred from its lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lanes: Option<usize>,
    /// Parameters that take a different value in each lane: key path → values (one per lane).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub sweep: IndexMap<String, SweepValues>,
    /// Index of the first lane in the random streams (initial states, noise, Poisson counts, random
    /// phases): lane `l` draws what lane `lane_offset + l` of a wider run draws. Set by sweep
    /// shards, so that a shard's lanes equal the same lanes of the unsharded run.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lane_offset: u64,
    /// Populations, in the order their neurons are laid out.
    pub populations: IndexMap<String, PopulationSpec>,
    /// Projections (couplings) between populations, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub projections: IndexMap<String, ProjectionSpec>,
    /// External inputs, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub inputs: IndexMap<String, InputSpec>,
    /// What to record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monitors: Vec<MonitorSpec>,
    /// The neuroxide version that resolved this spec (written into `spec.yaml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

/// Floating-point precision of a run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    #[default]
    F32,
    F64,
}

/// How the linear relaxation `τ dx/dt = −x + input` is stepped.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Forward Euler: `x ← x + dt/τ (input − x)` (NeuroSimTools, RectiPy, most PyTorch loops).
    Euler,
    /// Exponential Euler: `x ← x e^{−dt/τ} + input (1 − e^{−dt/τ})`; exact for a constant input,
    /// stable for any dt (NeuroFlame at HEAD).
    #[default]
    ExponentialEuler,
    /// NeuroFlame 2024's hybrid rule `x ← x e^{−dt/τ} + input dt/τ` (parity option: its fixed
    /// point differs from the ODE's by O(dt/τ)). Written `neuroflame_2024`, as documented
    /// (serde's snake case alone would make it `neuroflame2024`).
    #[serde(rename = "neuroflame_2024")]
    Neuroflame2024,
}

/// Values a swept parameter takes, one per lane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SweepValues {
    /// Explicit values, one per lane.
    List(Vec<f64>),
    /// `{linspace: [start, stop, count]}` (count optional: defaults to `lanes`).
    Range(SweepRange),
}

/// An evenly spaced range of swept values, endpoints included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepRange {
    pub linspace: Vec<f64>,
}

/// A population of neurons of one model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    /// Number of neurons.
    pub size: usize,
    /// Neuron model.
    #[serde(default)]
    pub model: NeuronModel,
    /// Transfer function `φ` from input to rate.
    #[serde(default)]
    pub transfer: Transfer,
    /// Threshold `θ` of the transfer function (model units).
    #[serde(default)]
    pub threshold: f64,
    /// Gain of the transfer function (for `gauss_cdf`, its maximum rate).
    #[serde(default = "one")]
    pub gain: f64,
    /// Rate time constant; absent: rates follow their input instantly (`r = φ(μ)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau: Option<Time>,
    /// Synaptic-current time constant of the projections onto this population that do not give
    /// their own; absent: currents follow their input instantly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_syn: Option<Time>,
    /// Initial state.
    #[serde(default)]
    pub initial: InitialState,
    /// Parameters of a spiking model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neuron: Option<NeuronParams>,
    /// Synapses onto a spiking population.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synapse: Option<SynapseSpec>,
    /// A spike trace per neuron (cnsproject's `NeuralPopulation` traces), recordable as `trace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceSpec>,
    /// Rate populations: Gaussian noise added to the rates before every step (NeuroFlame's
    /// `RATE_NOISE`: `r ← r + std · ξ`, per neuron, lane and step, not scaled with dt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_noise: Option<RateNoiseSpec>,
}

/// NeuroFlame's rate noise; `std` is its `sqrt(VAR_RATE)/sqrt(K_0)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateNoiseSpec {
    pub std: f64,
}

/// cnsproject's spike trace: every step `x ← x e^{−dt/τ_s}`, then on a spike `x ← x + scale`
/// (additive) or `x ← scale` (reset; cnsproject sets 1, the default scale).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSpec {
    /// Decay time constant τ_s (cnsproject's default 15 ms).
    #[serde(default = "trace_tau")]
    pub tau: Time,
    /// Added (additive) or set (reset) on a spike.
    #[serde(default = "one")]
    pub scale: f64,
    /// Additive (default) or reset-to-`scale` traces.
    #[serde(default = "yes")]
    pub additive: bool,
}

fn trace_tau() -> Time {
    Time::new(15.0)
}

fn one() -> f64 {
    1.0
}

/// Neuron models. Spiking models arrive with the spiking engine.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeuronModel {
    /// Firing-rate unit: `τ dr/dt = −r + φ(μ)`.
    #[default]
    Rate,
    /// Leaky integrate-and-fire with delta synapses: each spike makes the voltage jump by the
    /// weight (mV) (NEST `iaf_psc_delta`, Brunel 2000).
    LifPscDelta,
    /// Leaky integrate-and-fire with exponential current synapses (weights in pA).
    LifPscExp,
    /// Leaky integrate-and-fire with alpha-shaped current synapses (weights in pA).
    LifPscAlpha,
    /// Leaky integrate-and-fire with exponential conductances and reversal potentials (weights in
    /// nS; Vogels–Abbott COBA).
    LifCondExp,
    /// Exponential integrate-and-fire (Fourcaud-Trocmé et al. 2003; NeuroSimTools' default).
    Eif,
    /// Adaptive exponential integrate-and-fire (Brette & Gerstner 2005).
    Adex,
    /// Quadratic integrate-and-fire in RectiPy's form `τ dv/dt = v² + η + I`.
    Qif,
    /// Izhikevich (2003) `dv/dt = 0.04v² + 5v + 140 − u + I`, `du/dt = a(bv − u)`.
    Izhikevich,
    /// Poisson spike sources (NEST's `poisson_generator` feeding `parrot_neuron`s, Brian2's
    /// `PoissonGroup`): each neuron emits a Poisson number of spikes per step with mean
    /// `rate · dt`, shared by all its targets. Takes `neuron: {rate: ...}` only.
    Poisson,
}

impl NeuronModel {
    /// Whether the model emits spikes.
    pub fn is_spiking(self) -> bool {
        !matches!(self, NeuronModel::Rate)
    }

    /// The synapse kind a model name fixes (`lif_psc_*`, `lif_cond_exp`), if any.
    pub fn implied_synapse(self) -> Option<SynapseKind> {
        match self {
            NeuronModel::LifPscDelta => Some(SynapseKind::Delta),
            NeuronModel::LifPscExp => Some(SynapseKind::CurrentExp),
            NeuronModel::LifPscAlpha => Some(SynapseKind::CurrentAlpha),
            NeuronModel::LifCondExp => Some(SynapseKind::ConductanceExp),
            _ => None,
        }
    }
}

/// Parameters of spiking neuron models. Each model reads the ones it has (listed in its
/// documentation, with NEST-like defaults); giving one it does not have is an error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronParams {
    /// Membrane time constant τ_m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_m: Option<Time>,
    /// Membrane capacitance C_m (pF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_m: Option<Capacitance>,
    /// Resting (leak reversal) potential E_L.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_l: Option<Voltage>,
    /// Spike threshold V_th (for EIF/AdEx: the numerical spike-detection level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_th: Option<Voltage>,
    /// Reset potential V_reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_reset: Option<Voltage>,
    /// Refractory period (voltage clamped at V_reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_ref: Option<Time>,
    /// Lower bound of the voltage (NeuroSimTools' V_lb).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_min: Option<Voltage>,
    /// Constant external current I_e.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub i_e: Option<Current>,
    /// EIF/AdEx: soft threshold V_T.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_t: Option<Voltage>,
    /// EIF/AdEx: slope factor Δ_T.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_t: Option<Voltage>,
    /// AdEx: subthreshold adaptation a (nS); Izhikevich: recovery rate a (1/ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<f64>,
    /// AdEx: spike-triggered adaptation b (pA); Izhikevich: sensitivity b.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<f64>,
    /// Izhikevich: reset voltage c (mV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<f64>,
    /// Izhikevich: recovery jump d.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<f64>,
    /// AdEx: adaptation time constant τ_w.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_w: Option<Time>,
    /// QIF: excitability η (RectiPy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<f64>,
    /// QIF: time constant τ (RectiPy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau: Option<Time>,
    /// QIF: spike peak and reset (RectiPy's v_p and v_r, dimensionless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_peak: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_r: Option<f64>,
    /// Integration: `euler` for the seed tools' forward Euler (parity), `exact` (default) for
    /// exact/exponential integration where the model is linear between spikes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<SpikeIntegration>,
    /// Poisson sources: the rate of each neuron.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
}

/// Integration rule of spiking membranes.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpikeIntegration {
    /// Exact propagation of the linear part (LIF), exponential Euler otherwise.
    #[default]
    Exact,
    /// Forward Euler (NeuroSimTools, RectiPy, cnsproject).
    Euler,
}

/// How incoming spikes act on a spiking population.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SynapseKind {
    /// The voltage jumps by the weight (mV).
    Delta,
    /// A current (pA) that jumps by the weight and decays with τ.
    #[default]
    CurrentExp,
    /// An alpha-shaped current peaking at the weight (pA) τ after the spike.
    CurrentAlpha,
    /// A conductance (nS) that jumps by the weight and decays with τ, driving towards a reversal
    /// potential.
    ConductanceExp,
    /// NeuroSimTools' filtered spike train: `Y ← Y + (dt/τ)(−Y + S)` with `S` the weighted spikes
    /// of the step divided by dt (forward Euler), so a spike of weight `w` adds `w/τ` (pA) and
    /// the current's area is `w` (pA·ms).
    Filtered,
}

/// Synapses onto a spiking population: excitatory (positive weights) and inhibitory (negative).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynapseSpec {
    /// Kind; the `lif_psc_*`/`lif_cond_exp` model names fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SynapseKind>,
    /// Time constants of excitatory and inhibitory synapses (default 2 ms each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_exc: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_inh: Option<Time>,
    /// Reversal potentials of conductance synapses (default 0 mV and −80 mV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_exc: Option<Voltage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_inh: Option<Voltage>,
}

/// Transfer functions `φ(μ)` with threshold `θ` and gain `g`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transfer {
    /// Threshold-linear: `g · max(0, μ − θ)`.
    #[default]
    Relu,
    /// `tanh(g (μ − θ))`.
    Tanh,
    /// Logistic: `1 / (1 + e^{−g (μ − θ)})`.
    Sigmoid,
    /// NeuroFlame's `erf`: `erf((μ − θ)/√2)`, range (−1, 1).
    Erf,
    /// Gaussian-CDF sigmoid with maximum rate `g`: `g · ½ (1 + erf((μ − θ)/√2))` (NeuroFlame's
    /// fallback transfer with `THRESH` as `g`).
    GaussCdf,
    /// Brunel 2003 / NeuroFlame `sqrt`: 0 below 0, `x²` on [0, 1), `√(4x − 3)` above, `x = μ − θ`.
    BrunelSqrt,
    /// Identity: `μ − θ`.
    Id,
}

/// Initial rates and currents.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialState {
    /// Initial rates.
    #[serde(default)]
    pub rate: InitialValue,
    /// Initial total synaptic current (shared evenly by the population's currents when
    /// projections with different `tau_syn` give it several).
    #[serde(default)]
    pub current: InitialValue,
    /// Spiking populations: initial membrane potential (default: the model's resting state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<SpikingInitial>,
    /// Spiking populations: initial adaptation / recovery variable (default: resting state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w: Option<SpikingInitial>,
    /// Spiking populations: initial excitatory and inhibitory synaptic states (nS for
    /// conductances, pA for currents; default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub g_exc: Option<SpikingInitial>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub g_inh: Option<SpikingInitial>,
}

/// How a state variable of a spiking population starts (drawn per neuron and lane).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SpikingInitial {
    /// One value everywhere.
    Constant(f64),
    /// Normal draws.
    Gaussian { mean: f64, std: f64 },
    /// Uniform draws on `[low, high)`.
    Uniform { low: f64, high: f64 },
    /// `v` only: uniform between the reset and the threshold (NeuroSimTools' `initial_V:
    /// random`: `[V_reset, V_T]` for EIF/AdEx, `[V_reset, V_th]` for LIF).
    Random,
    /// From a `.npy` file of shape (neurons,) or (lanes, neurons).
    File(String),
}

/// How a state variable starts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum InitialValue {
    /// All zero.
    #[default]
    Zero,
    /// One value everywhere.
    Constant(f64),
    /// Independent normal draws per neuron and lane.
    Gaussian { mean: f64, std: f64 },
    /// From a `.npy` file of shape (neurons,) or (lanes, neurons); relative paths are relative to
    /// the model file.
    File(String),
    /// Rates only: `φ` of the initial input (constant inputs plus initial currents), NeuroFlame's
    /// initial condition.
    Transfer,
}

/// A projection: couplings from every neuron of `pre` to neurons of `post`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionSpec {
    /// Presynaptic population.
    pub pre: String,
    /// Postsynaptic population.
    pub post: String,
    /// Which pairs are connected.
    pub rule: Rule,
    /// Structure of the couplings over the ring / low-rank space.
    #[serde(default)]
    pub profile: Profile,
    /// Coupling strength `J` before scaling.
    pub weight: f64,
    /// How `J` is scaled with the network size; absent: `sqrt_k` for sparse rules, `n` for
    /// `all_to_all`, `raw` otherwise — and `raw` for every projection from a spiking population
    /// (weights in mV, pA or nS as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
    /// Whether a neuron may connect to itself when `pre == post` (default true).
    #[serde(default = "yes")]
    pub autapses: bool,
    /// Time constant of the synaptic current this projection drives; absent: the post
    /// population's `tau_syn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_syn: Option<Time>,
    /// Spiking projections: transmission delay (at least one step; default one step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Time>,
    /// Spiking projections: heterogeneous delays, uniform on [delay, delay_max] per synapse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_max: Option<Time>,
    /// Long-term plasticity of the weights (see [`crate::plasticity`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plasticity: Option<crate::plasticity::PlasticitySpec>,
    /// Short-term plasticity (Tsodyks–Markram) of the presynaptic side of this projection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stp: Option<StpSpec>,
}

/// Tsodyks–Markram short-term plasticity: presynaptic utilisation `u` and resources `x` per
/// neuron and lane; the projection carries `u·x·r` (rate populations) or a spike's efficacy
/// `u⁺·x⁻` (spiking populations) instead of `r` or 1. Defaults are NeuroFlame's (`USE`,
/// `TAU_REC`, `TAU_FAC`). A time constant of 0 switches its process off (`u ≡ U`, `x ≡ 1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StpSpec {
    /// Update rule; absent: `markram` for a rate presynaptic population, `mato` for a spiking one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<StpModel>,
    /// Baseline utilisation `U` (NeuroFlame's `USE`), in (0, 1].
    #[serde(rename = "U", default = "stp_u")]
    pub u: f64,
    /// Recovery (depression) time constant `τ_D` (NeuroFlame's `TAU_REC`).
    #[serde(default = "stp_tau_rec")]
    pub tau_rec: Time,
    /// Facilitation time constant `τ_F` (NeuroFlame's `TAU_FAC`).
    #[serde(default = "stp_tau_fac")]
    pub tau_fac: Time,
}

fn stp_u() -> f64 {
    0.03
}

fn stp_tau_rec() -> Time {
    Time::new(200.0)
}

fn stp_tau_fac() -> Time {
    Time::new(1000.0)
}

/// Tsodyks–Markram update rules (NeuroFlame's `STP_TYPE`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StpModel {
    /// Rate populations, forward Euler (NeuroFlame at HEAD):
    /// `x ← x + (1 − x) dt/τ_D − dt u x r`, then `u ← u + (U − u) dt/τ_F + dt U (1 − u) r`.
    Markram,
    /// Rate populations, exact decay: `x ← 1 + (x − 1) e^{−dt/τ_D} − dt u x r`,
    /// `u ← U + (u − U) e^{−dt/τ_F} + dt U (1 − u) r`.
    MarkramExp,
    /// Spiking populations, event-based (Mato; Mongillo et al. 2008): between spikes `u` decays
    /// to 0 and `x` recovers to 1 exactly; at a spike `u ← u + U (1 − u)`, the spike acts with
    /// `u x`, then `x ← x − u x`.
    Mato,
}

impl StpModel {
    pub fn name(self) -> &'static str {
        match self {
            StpModel::Markram => "markram",
            StpModel::MarkramExp => "markram_exp",
            StpModel::Mato => "mato",
        }
    }
}

fn yes() -> bool {
    true
}

/// Connection rules (NEST's connection builders as data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Every pre to every post.
    AllToAll,
    /// Each pair independently with probability `p`, or `k / N_pre` (NeuroFlame's sparse `K/N`).
    Bernoulli {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        k: Option<f64>,
    },
    /// Each post neuron receives exactly `k` distinct pre neurons.
    FixedInDegree { k: usize },
    /// Each pre neuron projects to exactly `k` distinct post neurons.
    FixedOutDegree { k: usize },
    /// Neuron `i` to neuron `i` (equal sizes).
    OneToOne,
    /// Couplings from a file: a `.npy` matrix (N_post, N_pre), or a `.npz` with integer arrays
    /// `post`, `pre` and optional `weight`.
    Explicit { file: String },
}

/// Structure of couplings over neuron angles `θ_i = 2πi/N_post`, `φ_j = 2πj/N_pre`.
///
/// With `all_to_all` the profile multiplies the weights; with sparse rules it multiplies the
/// connection probability (clipped to [0, 1]), except `gaussian`, which multiplies the weights.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Profile {
    /// 1.
    #[default]
    Uniform,
    /// `1 + κ cos(θ_i − φ_j − phase)` (ring attractor).
    Cosine {
        kappa: f64,
        #[serde(default)]
        phase: Angle,
    },
    /// `1 + (κ/√K) cos(θ_i − φ_j)` (NeuroFlame's weak `cosine_spec` tuning).
    CosineWeak { kappa: f64 },
    /// `exp(κ cos(θ_i − φ_j)) / I₀(κ)`, mean 1 over the ring.
    VonMises { kappa: f64 },
    /// `base + κ Σ_k m_k(i) n_k(j)`: a low-rank structure.
    LowRank(LowRankSpec),
    /// Independent `N(0, 1)` weight multipliers: with `all_to_all` and `scaling: sqrt_n`, a random
    /// network with couplings `N(0, J²/N)`.
    Gaussian,
}

/// Low-rank structure vectors `m_k` (over post neurons) and `n_k` (over pre neurons).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LowRankSpec {
    /// Rank R.
    pub rank: usize,
    /// Strength κ of the structure.
    #[serde(default = "one")]
    pub kappa: f64,
    /// Uniform part added to the structure (1: NeuroFlame's `1 + κ L`; 0: pure low rank).
    #[serde(default = "one")]
    pub base: f64,
    /// Where the vectors come from.
    pub vectors: LowRankVectors,
}

/// Source of low-rank vectors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LowRankVectors {
    /// Per neuron, `(m_1, n_1, …, m_R, n_R)` drawn from a multivariate normal of dimension 2R.
    Gaussian {
        /// Means (length 2R); absent: zeros.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mean: Option<Vec<f64>>,
        /// Covariance (2R × 2R); absent: identity.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        covariance: Option<Vec<Vec<f64>>>,
    },
    /// A `.npz` file with arrays `m` (N_post, R) and `n` (N_pre, R).
    File(String),
}

/// How the coupling strength scales with network size.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// `J` as given.
    Raw,
    /// `J / √K`, K the mean in-degree (balanced networks).
    SqrtK,
    /// `J / K`.
    K,
    /// `J / N_pre` (mean-field scaling of all-to-all networks).
    N,
    /// `J / √N_pre` (random networks).
    SqrtN,
}

/// An external input to one population. Exactly one of `constant`, `balanced`, `noise`,
/// `stimulus`, `sine`, `poisson` and `file` is given. Onto spiking populations every kind but
/// `poisson` is a current (pA; model units for QIF and Izhikevich).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Target population.
    pub target: String,
    /// Constant drive to every neuron.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constant: Option<f64>,
    /// NeuroFlame's balanced drive `√K · m0 · J0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balanced: Option<BalancedDrive>,
    /// Gaussian white noise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<NoiseSpec>,
    /// A stimulus shaped over the ring (cue, erase pulse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stimulus: Option<StimulusSpec>,
    /// Independent Poisson spike trains onto every neuron of a spiking population.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poisson: Option<PoissonInput>,
    /// A sinusoidal drive `offset + amplitude · sin(2π f t + phase)`, t from the start of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sine: Option<SineInput>,
    /// A time series from a `.npy` file: (lanes, steps, neurons) or (steps, neurons), one row per
    /// integration step from the start of the transient (NeuroFlame's `ff_input`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// cnsproject's two-way step: `amplitude` on `[on, off)`, zero before and after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_way_step: Option<TwoWayStep>,
    /// cnsproject's random step current: pulses of random amplitude at random onsets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_step: Option<RandomStep>,
    /// cnsproject's encoders: value patterns as spikes of a `poisson` source population (see
    /// [`crate::plasticity::EncoderSpec`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<crate::plasticity::EncoderSpec>,
    /// Onset, relative to the end of the transient; absent: from the start of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Time>,
    /// Offset, relative to the end of the transient; absent: to the end of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Time>,
    /// A random delay per lane, added to `start` and `stop` (NeuroFlame's `RANDOM_DELAY`,
    /// `RANDOM_ITI`); recorded as `<input>.delay` (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_delay: Option<RandomDelay>,
}

/// A per-lane delay: uniform on `[min, max)` in whole steps, or one of `choices` (NeuroFlame's
/// `DELAY_LIST`), drawn per lane from the seed. Inputs with the same `group` share the draws
/// (a trial's later stimuli, shifted together); absent: the input's own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomDelay {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Time>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// `count` independent Poisson trains of rate `rate` onto each neuron, each spike acting with
/// `weight` (mV for delta synapses, pA for current synapses, nS for conductances; its sign picks
/// the excitatory or inhibitory synapse).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoissonInput {
    pub rate: Rate,
    #[serde(default = "one_usize")]
    pub count: usize,
    pub weight: f64,
}

fn one_usize() -> usize {
    1
}

/// cnsproject's `two_way_step_function`: `amplitude` on `[on, off)` (times relative to the end of
/// the transient), zero elsewhere; the same for every neuron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoWayStep {
    pub amplitude: f64,
    pub on: Time,
    pub off: Time,
}

/// cnsproject's `random_step_function`: `pulses` onsets drawn uniformly (per lane) among the
/// steps of the input's active range that leave room for a pulse, each starting a pulse of
/// length `width` whose amplitude is uniform in `[0, amplitude)`; a later onset overwrites an
/// earlier pulse where they overlap; zero elsewhere. The same for every neuron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomStep {
    pub amplitude: f64,
    #[serde(default = "ten")]
    pub pulses: usize,
    #[serde(default = "twenty_ms")]
    pub width: Time,
}

fn ten() -> usize {
    10
}

fn twenty_ms() -> Time {
    Time::new(20.0)
}

/// `offset + amplitude · sin(2π · frequency · t + phase)`, the same for every neuron (`t` in
/// seconds from the start of the run, transient included).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SineInput {
    pub amplitude: f64,
    pub frequency: Rate,
    #[serde(default)]
    pub phase: Angle,
    #[serde(default)]
    pub offset: f64,
}

/// `√K · m0 · J0`: NeuroFlame's feed-forward drive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalancedDrive {
    /// In-degree K of the scaling.
    pub k: f64,
    /// External rate `m0`.
    pub m0: f64,
    /// Coupling `J0` of the target population.
    pub j0: f64,
}

/// Gaussian noise added to the input of each neuron at each step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseSpec {
    /// Mean added to the input.
    #[serde(default)]
    pub mean: f64,
    /// White-noise intensity σ (input units · √ms): the per-step value is `σ ξ / √dt`, so
    /// results converge as dt shrinks. With `per_step: true`, σ is the per-step standard
    /// deviation (NeuroFlame's convention, which depends on dt).
    pub std: f64,
    #[serde(default)]
    pub per_step: bool,
}

/// A stimulus over the ring: `amplitude · shape(θ_i − phase)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StimulusSpec {
    /// Peak amplitude (negative for an erase pulse).
    pub amplitude: f64,
    /// Centre of the stimulus.
    #[serde(default)]
    pub phase: Angle,
    /// Draw the phase uniformly on [0, 360) independently for each lane (NeuroFlame's
    /// `odr_rand`); recorded in the results as `<input>.phase`.
    #[serde(default)]
    pub random_phase: bool,
    /// Shape over the ring.
    #[serde(default)]
    pub shape: StimulusShape,
}

/// Shapes of a ring stimulus, as functions of `Δ = θ_i − phase`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StimulusShape {
    /// 1 everywhere (e.g. an erase pulse).
    #[default]
    Uniform,
    /// `max(0, 1 + σ cos Δ) / (1 + σ)` (NeuroFlame's `odr`, peak 1).
    Cosine { sigma: f64 },
    /// `cos Δ`: the first Fourier mode alone (negative away from the phase).
    Cos,
    /// `exp(−½ (wrap(Δ)/width)²)`.
    Gaussian { width: Angle },
    /// A vector over the neurons, not a ring shape (NeuroFlame's dual task: `I0 · σ · v` with
    /// `v` a low-rank vector or an odour); `phase` is ignored.
    Vector(VectorShape),
}

/// Where a vector stimulus comes from: one low-rank vector of a projection, or one row of a
/// `.npy` file (vectors, neurons).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorShape {
    /// A projection with a `low_rank` profile whose vector is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_rank: Option<String>,
    /// Its `m` (over post neurons) or `n` (over pre neurons; the default) vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<LowRankSide>,
    /// A `.npy` file of shape (vectors, neurons) or (neurons,).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Which vector (0-based: `n_1` is 0).
    #[serde(default)]
    pub index: usize,
    /// Multiplies the vector (NeuroFlame's `SIGMA0`).
    #[serde(default = "one")]
    pub scale: f64,
}

/// The two factors of a low-rank structure.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LowRankSide {
    M,
    N,
}

/// A recording of one variable of one population.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSpec {
    /// Population recorded.
    pub population: String,
    /// Variable: `rate`, `current` (total synaptic current) or `input` (current plus external input).
    pub variable: Variable,
    /// Average over windows of this length (NeuroFlame's `T_WINDOW`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Time>,
    /// Snapshot at this interval (default: every step when no window is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<Time>,
    /// `stp_u`/`stp_x`: the projection whose STP state is recorded (the monitor's `population`
    /// is its presynaptic population); needed only when several STP projections leave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<String>,
    /// Decode the recorded frames: bump phase and amplitude, overlaps (see [`DecodeSpec`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode: Option<DecodeSpec>,
    /// Which neurons are stored per neuron.
    #[serde(default)]
    pub neurons: NeuronSelection,
    /// Also store the population mean as `<population>.<variable>_mean`.
    #[serde(default = "yes")]
    pub mean: bool,
    /// Start of the recording (relative to the end of the transient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Time>,
    /// End of the recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Time>,
}

/// Decoding of a monitor's frames (NeuroFlame's `decode.py`), written into the results as
/// `<population>.m0`, `.m1`, `.phase` (lanes, frames) and `<population>.overlap.<source>`
/// (lanes, frames, vectors); for a variable other than `rate` the names are
/// `<population>.<variable>_m0` etc.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeSpec {
    /// The first Fourier mode over the ring: `m0 = mean r`, `F1 = Σ_n r_n e^{2πin/N}`,
    /// `m1 = 2|F1|/N`, phase `arg F1` in degrees on [0, 360).
    #[serde(default = "yes")]
    pub bump: bool,
    /// Circular box-car smoothing over this many neurons before the bump is decoded (NeuroFlame's
    /// `circcvl`; centred, so it does not shift the phase); 0 or 1: none.
    #[serde(default)]
    pub smooth: usize,
    /// Overlaps `Σ_n r_n ξ_n / N` with vectors ξ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overlap: Vec<OverlapSource>,
}

/// Vectors for overlaps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum OverlapSource {
    /// The low-rank vectors of a projection with a `low_rank` profile: `m_1 … m_R` when the
    /// monitored population is its post, then `n_1 … n_R` when it is its pre.
    Projection(String),
    /// A `.npy` array (vectors, neurons), e.g. odour vectors.
    File(String),
}

/// Recordable variables of a rate population.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variable {
    /// Rate populations: the rate; spiking populations: the firing rate in Hz (spikes per
    /// neuron averaged over the window, or the spike density 1/dt of a snapshot).
    Rate,
    /// Total synaptic current (pA for spiking populations).
    Current,
    /// Total input: current plus external input.
    Input,
    /// Spike times: `<population>.spikes`, an integer array (n_spikes, 3) of (lane, step, neuron).
    Spikes,
    /// Membrane potential (mV).
    V,
    /// Adaptation / recovery variable (AdEx, Izhikevich).
    W,
    /// Excitatory and inhibitory synaptic conductances (nS) or currents (pA).
    GExc,
    GInh,
    /// Spike trace (populations with `trace`).
    Trace,
    /// NeuroSimTools' summary: the mean rate of each neuron (Hz) over the monitor's
    /// `[start, stop)` (`start` = the burn-in), `<population>.mean_rate` (lanes, neurons).
    MeanRate,
    /// Short-term plasticity: utilisation `u` and resources `x` of the presynaptic neurons of a
    /// projection with `stp` (the monitor's population is the presynaptic one).
    StpU,
    StpX,
}

impl Variable {
    pub fn name(self) -> &'static str {
        match self {
            Variable::Rate => "rate",
            Variable::Current => "current",
            Variable::Input => "input",
            Variable::Spikes => "spikes",
            Variable::V => "v",
            Variable::W => "w",
            Variable::GExc => "g_exc",
            Variable::GInh => "g_inh",
            Variable::Trace => "trace",
            Variable::MeanRate => "mean_rate",
            Variable::StpU => "stp_u",
            Variable::StpX => "stp_x",
        }
    }
}

/// Neurons stored individually by a monitor.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum NeuronSelection {
    /// Every neuron.
    #[default]
    All,
    /// None (population mean only).
    None,
    /// The listed indices.
    List(Vec<usize>),
    /// Indices `start..stop`.
    Range(usize, usize),
}
