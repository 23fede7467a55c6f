//! Long-term plasticity of projections (`plasticity:`) and spike encoders of inputs (`encoder:`):
//! the spec types and their validation.
//!
//! The rules and their equations are documented on [`PlasticityRule`]; the engine implements them
//! in `neuroxide::plasticity`.

use crate::error::SpecError;
use crate::spec::{NetworkSpec, NeuronModel, ProjectionSpec};
use crate::units::{Rate, Time};
use serde::{Deserialize, Serialize};

/// Long-term plasticity of a projection's weights. Every lane learns its own weights.
///
/// Spiking rules act on the magnitude `w ≥ 0` of each synapse's weight (mV, pA or nS, the
/// projection's `weight` times its scaling and profile); the sign stays that of the projection.
/// Rate rules act on the signed coupling `W_ij` (the projection's weight after scaling).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlasticitySpec {
    /// The learning rule.
    pub rule: PlasticityRule,
    /// Learning rate multiplying every change (default 1).
    #[serde(default = "one")]
    pub eta: f64,
    /// STDP rules: potentiation amplitude (per post spike, times the pre trace or window count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a_plus: Option<f64>,
    /// STDP rules: depression amplitude (per pre spike, times the post trace or window count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a_minus: Option<f64>,
    /// `stdp`/`rstdp`: time constant of the presynaptic trace (default 20 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_plus: Option<Time>,
    /// `stdp`/`rstdp`: time constant of the postsynaptic trace (default 20 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_minus: Option<Time>,
    /// `stdp`/`rstdp`: additive (default) or multiplicative (soft-bounded) weight dependence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_dependence: Option<WeightDependence>,
    /// `flat_stdp`/`flat_rstdp`: the window within which pairs count (cnsproject's
    /// `trace_periode`, default 50 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Time>,
    /// `rstdp`/`flat_rstdp`: eligibility time constant τ_c (default 1000 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_c: Option<Time>,
    /// `rstdp`/`flat_rstdp`: the dopamine signal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<RewardSpec>,
    /// `vogels_istdp`: trace time constant (NeuroSimTools' tauSTDP, default 250 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau: Option<Time>,
    /// `vogels_istdp`: target rate ρ₀ of the postsynaptic neurons (NeuroSimTools' r0, default
    /// 5 Hz).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_rate: Option<Rate>,
    /// `covariance`/`bcm`: time constant of the running averages (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_avg: Option<Time>,
    /// `bcm`: target activity y₀ of the sliding threshold `θ = ⟨y²⟩/y₀` (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// Lower weight bound (spiking rules: default 0; rate rules: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_min: Option<f64>,
    /// Upper weight bound (required by the STDP rules; otherwise default none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w_max: Option<f64>,
    /// Also record the weights at this interval as `<projection>.weights_trace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_every: Option<Time>,
    /// STDP rules: how they update, `event` (default) or `cnsproject` ([`PlasticityScheme`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<PlasticityScheme>,
    /// STDP rules: weight decay rate λ, `−λ dt w` every step (default 0; cnsproject's
    /// `weight_decay` per step is λ dt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<Rate>,
    /// `soft_bound` weight dependence: its scale γ (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    /// `soft_bound` weight dependence: its exponent β (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
}

/// How the STDP rules update.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlasticityScheme {
    /// At each spike, from the rule's own traces, which do not yet hold the step's spikes.
    #[default]
    Event,
    /// cnsproject's learning rules: once per step and synapse, from the populations' `trace`
    /// (flat rules: spike counts of the last `window` steps) after the step's spikes entered them,
    /// `Δ = f₊ a₊ x_pre s_post − f₋ a₋ x_post s_pre − λ dt w`; eligibility and dopamine by forward
    /// Euler.
    Cnsproject,
}

fn one() -> f64 {
    1.0
}

/// Learning rules.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlasticityRule {
    /// Pair-based STDP with exponential traces (cnsproject's `STDP`; Song, Miller & Abbott 2000):
    /// at a post spike `w += η a₊ f₊(w) x_pre`, at a pre spike `w −= η a₋ f₋(w) x_post`; traces
    /// decay with τ₊, τ₋ and grow by 1 per spike.
    Stdp,
    /// cnsproject's `FlatSTDP`: as `stdp` with each trace replaced by the number of spikes in the
    /// last `window`.
    FlatStdp,
    /// cnsproject's `RSTDP`: the STDP change feeds an eligibility `c` (decay τ_c) and
    /// `w += dt · d · c` with the dopamine `d`.
    Rstdp,
    /// `rstdp` with the flat window of `flat_stdp` (cnsproject's `FlatRSTDP`).
    FlatRstdp,
    /// Inhibitory plasticity (Vogels et al. 2011; NeuroSimTools' `SpikingModelISP`): at a pre
    /// spike `w += η (x_post − 2ρ₀τ)`, at a post spike `w += η x_pre`.
    VogelsIstdp,
    /// Plain Hebbian rate rule `dW_ij/dt = η r_i r_j`.
    Hebbian,
    /// Covariance rule `dW_ij/dt = η (r_i − ⟨r_i⟩)(r_j − ⟨r_j⟩)`.
    Covariance,
    /// BCM `dW_ij/dt = η r_j r_i (r_i − θ_i)`, `θ_i = ⟨r_i²⟩/y₀`.
    Bcm,
}

impl PlasticityRule {
    pub fn name(self) -> &'static str {
        match self {
            PlasticityRule::Stdp => "stdp",
            PlasticityRule::FlatStdp => "flat_stdp",
            PlasticityRule::Rstdp => "rstdp",
            PlasticityRule::FlatRstdp => "flat_rstdp",
            PlasticityRule::VogelsIstdp => "vogels_istdp",
            PlasticityRule::Hebbian => "hebbian",
            PlasticityRule::Covariance => "covariance",
            PlasticityRule::Bcm => "bcm",
        }
    }

    /// Whether the rule learns from spikes (else from rates).
    pub fn is_spiking(self) -> bool {
        !matches!(
            self,
            PlasticityRule::Hebbian | PlasticityRule::Covariance | PlasticityRule::Bcm
        )
    }

    /// Whether the rule has the flat window.
    pub fn is_flat(self) -> bool {
        matches!(self, PlasticityRule::FlatStdp | PlasticityRule::FlatRstdp)
    }

    /// Whether the rule is reward-modulated.
    pub fn is_rewarded(self) -> bool {
        matches!(self, PlasticityRule::Rstdp | PlasticityRule::FlatRstdp)
    }
}

/// How STDP changes scale with the weight.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightDependence {
    /// `f₊ = f₋ = 1`, then clipping to `[w_min, w_max]`.
    #[default]
    Additive,
    /// `f₊ = w_max − w`, `f₋ = w − w_min` (soft bounds).
    Multiplicative,
    /// cnsproject's soft-bound learning rate `f₊ = f₋ = γ ((w_max − w)(w − w_min))^β`.
    SoftBound,
}

/// The dopamine `d` of reward-modulated rules: `d ← d e^{−dt/τ_d} + dt · r(t)`, with the reward
/// rate `r(t)` (per ms) the sum of the schedule's segments active at `t`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardSpec {
    /// Dopamine time constant τ_d (default 10 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_d: Option<Time>,
    /// Reward segments (times relative to the end of the transient).
    #[serde(default)]
    pub schedule: Vec<RewardSegment>,
}

/// A reward rate `value` on `[start, stop)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardSegment {
    pub start: Time,
    pub stop: Time,
    pub value: f64,
}

/// cnsproject's encoders: patterns of values turned into spikes of the target population (a
/// `poisson` source population, whose neurons then emit these spikes besides their own rate).
/// Pattern `sequence[k]` (default: the patterns in turn, cycled) is shown during the `k`-th
/// `window` from the input's start; values are normalised as `(v − min)/(max − min)`, clipped to
/// [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderSpec {
    pub kind: EncoderKind,
    /// Value vectors: one value per target neuron (`position`: per group of `neurons`).
    pub patterns: Vec<Vec<f64>>,
    /// Order in which the patterns are shown, one per window; absent: 0, 1, …, cycled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<Vec<usize>>,
    /// Presentation time of one pattern (cnsproject's `time`).
    pub window: Time,
    /// Range of the values (cnsproject's `min_range`, `max_range`; default 0 and 255).
    #[serde(default)]
    pub min: f64,
    #[serde(default = "max_value")]
    pub max: f64,
    /// `poisson`: expected spikes per window of a maximal value (cnsproject's `r`, default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spikes: Option<f64>,
    /// `position`: receptive fields per value (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neurons: Option<usize>,
    /// `position`: field centres on the scaled axis [0, neurons] (default 1, 2, …, neurons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub means: Option<Vec<f64>>,
    /// `position`: field widths (default 1 each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stds: Option<Vec<f64>>,
    /// `position`: fields responding below this (peak 1) stay silent (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

fn max_value() -> f64 {
    255.0
}

/// Encoders.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncoderKind {
    /// Time to first spike: `k = round(v̂ (T − 1))`, one spike at step `T − k` of the window
    /// (`T` steps; a minimal value never spikes).
    Ttfs,
    /// Gaussian receptive fields: value `x = v̂ · n`, field `k` responds
    /// `a = exp(−(x − μ_k)²/(2σ_k²))` and spikes once at step `round((1 − a)(T − 1))`.
    Position,
    /// One Bernoulli draw per step with `p = v̂ · spikes / T`.
    Poisson,
}

/// Check a projection's `plasticity`.
pub(crate) fn validate_plasticity(
    spec: &NetworkSpec,
    name: &str,
    proj: &ProjectionSpec,
    plasticity: &PlasticitySpec,
    errors: &mut Vec<SpecError>,
) {
    let at = |key: &str| format!("projections.{name}.plasticity.{key}");
    let rule = plasticity.rule;
    let (Some(pre), Some(post)) = (
        spec.populations.get(&proj.pre),
        spec.populations.get(&proj.post),
    ) else {
        return;
    };
    if pre.model.is_spiking() != post.model.is_spiking() {
        errors.push(SpecError::invalid(
            at("rule"),
            rule.name(),
            "a projection between two spiking or two rate populations: plasticity is not \
             supported on rate<->spiking couplings",
        ));
        return;
    }
    let spiking = pre.model.is_spiking() && post.model.is_spiking();
    if rule.is_spiking() && !spiking {
        errors.push(SpecError::invalid(
            at("rule"),
            rule.name(),
            format!(
                "a rate rule (`hebbian`, `covariance`, `bcm`): `{}` learns from spikes, and this \
                 projection connects rate populations",
                rule.name()
            ),
        ));
        return;
    }
    if !rule.is_spiking() && spiking {
        errors.push(SpecError::invalid(
            at("rule"),
            rule.name(),
            format!(
                "a spike rule (`stdp`, `flat_stdp`, `rstdp`, `flat_rstdp`, `vogels_istdp`): \
                 `{}` learns from rates, and this projection connects spiking populations",
                rule.name()
            ),
        ));
        return;
    }
    if !rule.is_spiking() && matches!(proj.profile, crate::spec::Profile::LowRank(_)) {
        errors.push(SpecError::new(
            format!("projections.{name}.plasticity"),
            "plasticity needs a weight per synapse, and a `low_rank` profile is kept as its \
             factors (never as a matrix); use an explicit or sampled matrix for plastic couplings",
        ));
    }
    if post.model == NeuronModel::Poisson {
        return; // reported by the projection check
    }
    let dt = spec.dt.ms();
    let finite = |errors: &mut Vec<SpecError>, key: &str, value: f64| {
        if !value.is_finite() {
            errors.push(SpecError::invalid(at(key), value, "a finite number"));
        }
    };
    finite(errors, "eta", plasticity.eta);
    let time = |errors: &mut Vec<SpecError>, key: &str, value: Option<Time>| {
        if let Some(t) = value
            && !(t.ms() > 0.0 && t.ms().is_finite())
        {
            errors.push(SpecError::invalid(at(key), t, "a positive time"));
        }
    };
    time(errors, "tau_plus", plasticity.tau_plus);
    time(errors, "tau_minus", plasticity.tau_minus);
    time(errors, "tau_c", plasticity.tau_c);
    time(errors, "tau", plasticity.tau);
    time(errors, "tau_avg", plasticity.tau_avg);
    time(errors, "record_every", plasticity.record_every);
    if let Some(w) = plasticity.window {
        let steps = w.ms() / dt;
        if !(steps >= 1.0 - 1e-9 && steps.is_finite()) {
            errors.push(SpecError::invalid(
                at("window"),
                w,
                format!("a window of at least one time step (dt = {})", spec.dt),
            ));
        }
    }
    // Keys that belong to other rules.
    let stdp = matches!(rule, PlasticityRule::Stdp | PlasticityRule::Rstdp);
    let pairs = stdp || rule.is_flat();
    let soft = plasticity.weight_dependence == Some(WeightDependence::SoftBound);
    let allowed: [(&str, bool, bool); 16] = [
        ("scheme", plasticity.scheme.is_some(), pairs),
        ("weight_decay", plasticity.weight_decay.is_some(), pairs),
        ("gamma", plasticity.gamma.is_some(), soft),
        ("beta", plasticity.beta.is_some(), soft),
        ("a_plus", plasticity.a_plus.is_some(), pairs),
        ("a_minus", plasticity.a_minus.is_some(), pairs),
        ("tau_plus", plasticity.tau_plus.is_some(), stdp),
        ("tau_minus", plasticity.tau_minus.is_some(), stdp),
        (
            "weight_dependence",
            plasticity.weight_dependence.is_some(),
            pairs,
        ),
        ("window", plasticity.window.is_some(), rule.is_flat()),
        ("tau_c", plasticity.tau_c.is_some(), rule.is_rewarded()),
        ("reward", plasticity.reward.is_some(), rule.is_rewarded()),
        (
            "tau",
            plasticity.tau.is_some(),
            rule == PlasticityRule::VogelsIstdp,
        ),
        (
            "target_rate",
            plasticity.target_rate.is_some(),
            rule == PlasticityRule::VogelsIstdp,
        ),
        (
            "tau_avg",
            plasticity.tau_avg.is_some(),
            matches!(rule, PlasticityRule::Covariance | PlasticityRule::Bcm),
        ),
        (
            "target",
            plasticity.target.is_some(),
            rule == PlasticityRule::Bcm,
        ),
    ];
    for (key, given, belongs) in allowed {
        if given && !belongs {
            let whose = if matches!(key, "gamma" | "beta") {
                "of `weight_dependence: soft_bound`".to_string()
            } else {
                format!("of the `{}` rule", rule.name())
            };
            errors.push(SpecError::new(
                at(key),
                format!("`{key}` is not a parameter {whose}"),
            ));
        }
    }
    validate_scheme(spec, proj, plasticity, &at, errors);
    if pairs {
        for (key, value) in [
            ("a_plus", plasticity.a_plus),
            ("a_minus", plasticity.a_minus),
        ] {
            match value {
                None => errors.push(SpecError::new(
                    at(key),
                    format!(
                        "the `{}` rule needs `{key}` (an amplitude ≥ 0)",
                        rule.name()
                    ),
                )),
                Some(a) if !(a >= 0.0 && a.is_finite()) => {
                    errors.push(SpecError::invalid(at(key), a, "an amplitude ≥ 0"))
                }
                _ => {}
            }
        }
        if plasticity.w_max.is_none() {
            errors.push(SpecError::new(
                at("w_max"),
                format!(
                    "the `{}` rule needs an upper weight bound `w_max`",
                    rule.name()
                ),
            ));
        }
    }
    if matches!(rule, PlasticityRule::Covariance | PlasticityRule::Bcm)
        && plasticity.tau_avg.is_none()
    {
        errors.push(SpecError::new(
            at("tau_avg"),
            format!(
                "the `{}` rule needs `tau_avg`, the time constant of its running averages",
                rule.name()
            ),
        ));
    }
    if let Some(target) = plasticity.target
        && !(target > 0.0 && target.is_finite())
    {
        errors.push(SpecError::invalid(at("target"), target, "a target > 0"));
    }
    if let Some(rate) = plasticity.target_rate
        && !(rate.value() >= 0.0 && rate.value().is_finite())
    {
        errors.push(SpecError::invalid(at("target_rate"), rate, "a rate ≥ 0"));
    }
    if let Some(w) = plasticity.w_min {
        finite(errors, "w_min", w);
        if rule.is_spiking() && w < 0.0 {
            errors.push(SpecError::invalid(
                at("w_min"),
                w,
                "a bound ≥ 0 (spike rules act on the weight's magnitude; the sign is the projection's)",
            ));
        }
    }
    if let Some(w) = plasticity.w_max {
        finite(errors, "w_max", w);
        let low = plasticity
            .w_min
            .unwrap_or(if rule.is_spiking() { 0.0 } else { f64::MIN });
        if w < low {
            errors.push(SpecError::invalid(
                at("w_max"),
                w,
                format!("a bound ≥ w_min ({low})"),
            ));
        }
    }
    if rule.is_rewarded() {
        match &plasticity.reward {
            None => errors.push(SpecError::new(
                at("reward"),
                "a reward-modulated rule needs `reward: {schedule: [{start, stop, value}, ...]}`",
            )),
            Some(reward) => {
                time(errors, "reward.tau_d", reward.tau_d);
                for (i, segment) in reward.schedule.iter().enumerate() {
                    let key = format!("reward.schedule.{i}");
                    finite(errors, &format!("{key}.value"), segment.value);
                    if !(segment.stop.ms() > segment.start.ms() && segment.stop.ms().is_finite()) {
                        errors.push(SpecError::invalid(
                            at(&format!("{key}.stop")),
                            segment.stop,
                            format!("a time after start ({})", segment.start),
                        ));
                    }
                }
            }
        }
    }
}

/// Check `weight_decay`, `gamma`, `beta` and what the `cnsproject` scheme needs.
fn validate_scheme(
    spec: &NetworkSpec,
    proj: &ProjectionSpec,
    plasticity: &PlasticitySpec,
    at: &dyn Fn(&str) -> String,
    errors: &mut Vec<SpecError>,
) {
    if let Some(rate) = plasticity.weight_decay
        && !(rate.value() >= 0.0 && rate.value().is_finite())
    {
        errors.push(SpecError::invalid(
            at("weight_decay"),
            rate,
            "a decay rate ≥ 0 (e.g. `5 Hz`: 0.005 of the weight per ms)",
        ));
    }
    for (key, value) in [("gamma", plasticity.gamma), ("beta", plasticity.beta)] {
        if let Some(x) = value
            && !(x >= 0.0 && x.is_finite())
        {
            errors.push(SpecError::invalid(at(key), x, "a number ≥ 0"));
        }
    }
    if plasticity.scheme != Some(PlasticityScheme::Cnsproject) {
        return;
    }
    let rule = plasticity.rule;
    let dt = spec.dt.ms();
    if !rule.is_flat() {
        for key in ["tau_plus", "tau_minus"] {
            let given = if key == "tau_plus" {
                plasticity.tau_plus.is_some()
            } else {
                plasticity.tau_minus.is_some()
            };
            if given {
                errors.push(SpecError::new(
                    at(key),
                    "`scheme: cnsproject` uses the populations' `trace` (its `tau`), not `tau_plus` \
                     or `tau_minus`",
                ));
            }
        }
        for side in [&proj.pre, &proj.post] {
            if spec
                .populations
                .get(side)
                .is_some_and(|p| p.trace.is_none())
            {
                errors.push(SpecError::new(
                    at("scheme"),
                    format!(
                        "`scheme: cnsproject` with `{}` learns from the populations' spike traces, \
                         and population `{side}` has no `trace: {{tau, scale, additive}}`",
                        rule.name()
                    ),
                ));
            }
        }
    }
    if rule.is_rewarded() {
        // Forward Euler: a time constant below dt would flip the sign of the decay.
        let tau_c = plasticity.tau_c.map_or(1000.0, |t| t.ms());
        let tau_d = plasticity
            .reward
            .as_ref()
            .and_then(|r| r.tau_d)
            .map_or(10.0, |t| t.ms());
        for (key, tau) in [("tau_c", tau_c), ("reward.tau_d", tau_d)] {
            if tau < dt * (1.0 - 1e-12) {
                errors.push(SpecError::invalid(
                    at(key),
                    format!("{tau} ms"),
                    format!(
                        "a time constant ≥ dt = {} with `scheme: cnsproject` (its forward Euler \
                         decay is 1 − dt/τ)",
                        spec.dt
                    ),
                ));
            }
        }
    }
}

/// Check an input's `encoder`.
pub(crate) fn validate_encoder(
    spec: &NetworkSpec,
    name: &str,
    target: &str,
    encoder: &EncoderSpec,
    errors: &mut Vec<SpecError>,
) {
    let at = |key: &str| format!("inputs.{name}.encoder.{key}");
    let Some(pop) = spec.populations.get(target) else {
        return;
    };
    if pop.model != NeuronModel::Poisson {
        errors.push(SpecError::invalid(
            format!("inputs.{name}.target"),
            target,
            "a spike-source population (`model: poisson`, e.g. with `neuron: {rate: 0 Hz}`): \
             encoders emit the spikes of its neurons",
        ));
        return;
    }
    let steps = encoder.window.ms() / spec.dt.ms();
    if !(steps >= 1.0 - 1e-9 && steps.is_finite()) {
        errors.push(SpecError::invalid(
            at("window"),
            encoder.window,
            format!("a window of at least one time step (dt = {})", spec.dt),
        ));
    }
    if !(encoder.max > encoder.min && encoder.min.is_finite() && encoder.max.is_finite()) {
        errors.push(SpecError::invalid(
            at("max"),
            encoder.max,
            format!("a finite maximum above min ({})", encoder.min),
        ));
    }
    let neurons = encoder.neurons.unwrap_or(8);
    let per_value = if encoder.kind == EncoderKind::Position {
        neurons
    } else {
        1
    };
    if encoder.kind == EncoderKind::Position {
        if neurons == 0 {
            errors.push(SpecError::invalid(
                at("neurons"),
                0,
                "at least one field per value",
            ));
            return;
        }
        for (key, list) in [("means", &encoder.means), ("stds", &encoder.stds)] {
            if let Some(list) = list {
                if list.len() != neurons {
                    errors.push(SpecError::invalid(
                        at(key),
                        format!("{} values", list.len()),
                        format!("one per field ({neurons})"),
                    ));
                }
                if list
                    .iter()
                    .any(|x| !x.is_finite() || (key == "stds" && *x <= 0.0))
                {
                    errors.push(SpecError::new(
                        at(key),
                        "finite values (widths > 0)".to_string(),
                    ));
                }
            }
        }
    } else {
        for (key, given) in [
            ("neurons", encoder.neurons.is_some()),
            ("means", encoder.means.is_some()),
            ("stds", encoder.stds.is_some()),
            ("threshold", encoder.threshold.is_some()),
        ] {
            if given {
                errors.push(SpecError::new(
                    at(key),
                    format!("`{key}` belongs to the `position` encoder"),
                ));
            }
        }
    }
    if encoder.spikes.is_some() && encoder.kind != EncoderKind::Poisson {
        errors.push(SpecError::new(
            at("spikes"),
            "`spikes` belongs to the `poisson` encoder",
        ));
    }
    if let Some(s) = encoder.spikes
        && !(s >= 0.0 && s <= steps.max(1.0))
    {
        errors.push(SpecError::invalid(
            at("spikes"),
            s,
            format!(
                "an expected count in [0, {}] (at most one spike per step of the window)",
                steps.floor()
            ),
        ));
    }
    if encoder.patterns.is_empty() {
        errors.push(SpecError::new(at("patterns"), "at least one pattern"));
    }
    for (i, pattern) in encoder.patterns.iter().enumerate() {
        if pattern.len() * per_value != pop.size {
            errors.push(SpecError::invalid(
                at(&format!("patterns.{i}")),
                format!("{} values", pattern.len()),
                format!(
                    "{} values ({} neurons in `{target}`{})",
                    pop.size / per_value.max(1),
                    pop.size,
                    if per_value > 1 {
                        format!(", {per_value} fields per value")
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        if pattern.iter().any(|x| !x.is_finite()) {
            errors.push(SpecError::new(
                at(&format!("patterns.{i}")),
                "finite values",
            ));
        }
    }
    if let Some(sequence) = &encoder.sequence
        && let Some(bad) = sequence.iter().find(|&&k| k >= encoder.patterns.len())
    {
        errors.push(SpecError::invalid(
            at("sequence"),
            bad,
            format!(
                "indices of patterns (0..{})",
                encoder.patterns.len().saturating_sub(1)
            ),
        ));
    }
}
