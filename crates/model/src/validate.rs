//! Checks of a spec that the types alone cannot express: positive time constants, `dt` below
//! every time constant, references to existing populations, probabilities in [0, 1], files that
//! exist. Every problem is reported, each with its key path.

use crate::error::{SpecError, SpecErrors};
use crate::paths;
use crate::spec::*;
use crate::units::Time;
use std::path::Path;

mod stimulus;
mod stp;

/// Validate `spec`; `base_dir` anchors relative file paths (absent: the working directory).
pub fn validate(spec: &NetworkSpec, base_dir: Option<&Path>) -> Result<(), SpecErrors> {
    let mut v = Validator {
        errors: Vec::new(),
        base_dir,
    };
    v.network(spec);
    if v.errors.is_empty() {
        // Lane expansion checks the sweep keys and lists; validate every lane's values too.
        match paths::lane_specs(spec) {
            Ok(lanes) => {
                // Poisson counters hold the lane in 16 bits.
                let end = spec.lane_offset + lanes.len() as u64;
                if spec.lane_offset > 0 && end > 1 << 16 {
                    v.errors.push(SpecError::invalid(
                        "lane_offset",
                        spec.lane_offset.to_string(),
                        format!(
                            "lane_offset + lanes ≤ 65536 (the random streams index lanes in 16 \
                             bits); got lane_offset + {} lanes = {end}",
                            lanes.len()
                        ),
                    ));
                }
                if !spec.sweep.is_empty() {
                    for lane in &lanes {
                        v.network(lane);
                        if !v.errors.is_empty() {
                            break;
                        }
                    }
                }
            }
            Err(errors) => v.errors.extend(errors.0),
        }
    }
    if v.errors.is_empty() {
        Ok(())
    } else {
        Err(SpecErrors(v.errors))
    }
}

struct Validator<'a> {
    errors: Vec<SpecError>,
    base_dir: Option<&'a Path>,
}

/// Edit distance between two names, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// What a reference to a population should have been, with the closest name as a hint.
fn suggestion<'a>(name: &str, names: impl Iterator<Item = &'a String>) -> String {
    let known: Vec<&String> = names.collect();
    let list = known
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let closest = known
        .iter()
        .map(|n| (edit_distance(name, n), n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 3))
        .min_by_key(|(d, _)| *d);
    match closest {
        Some((_, n)) => format!("the name of a population ({list}); did you mean `{n}`?"),
        None => format!("the name of a population ({list})"),
    }
}

impl Validator<'_> {
    fn push(&mut self, error: SpecError) {
        self.errors.push(error);
    }

    fn check(
        &mut self,
        ok: bool,
        path: impl Into<String>,
        value: impl std::fmt::Display,
        expected: &str,
    ) {
        if !ok {
            self.push(SpecError::invalid(path, value, expected));
        }
    }

    fn finite(&mut self, path: String, value: f64) {
        self.check(value.is_finite(), path, value, "a finite number");
    }

    fn file(&mut self, path: String, file: &str) {
        let full = match self.base_dir {
            Some(dir) if Path::new(file).is_relative() => dir.join(file),
            _ => Path::new(file).to_path_buf(),
        };
        if !full.is_file() {
            self.push(SpecError::invalid(
                path,
                file,
                format!("an existing file (looked for {})", full.display()),
            ));
        }
    }

    fn time_constant(&mut self, path: String, tau: Time, dt: Time) {
        if !(tau.ms() > 0.0 && tau.ms().is_finite()) {
            self.push(SpecError::invalid(path, tau, "a positive time constant"));
        } else if dt.ms() >= tau.ms() {
            self.push(SpecError::invalid(
                path,
                tau,
                format!("a time constant above dt = {dt}: dt must be below every time constant"),
            ));
        }
    }

    fn population(&mut self, spec: &NetworkSpec, path: String, name: &str) -> Option<usize> {
        match spec.populations.get_index_of(name) {
            Some(i) => Some(i),
            None => {
                self.push(SpecError::invalid(
                    path,
                    name,
                    suggestion(name, spec.populations.keys()),
                ));
                None
            }
        }
    }

    fn network(&mut self, spec: &NetworkSpec) {
        let dt = spec.dt;
        self.check(
            dt.ms() > 0.0 && dt.ms().is_finite(),
            "dt",
            dt,
            "a positive time step",
        );
        self.check(
            spec.duration.ms() > 0.0 && spec.duration.ms().is_finite(),
            "duration",
            spec.duration,
            "a positive duration",
        );
        self.check(
            spec.transient.ms() >= 0.0 && spec.transient.ms().is_finite(),
            "transient",
            spec.transient,
            "a duration ≥ 0",
        );
        if let Some(threads) = spec.threads {
            self.check(threads >= 1, "threads", threads, "at least 1 thread");
        }
        if let Some(lanes) = spec.lanes {
            self.check(lanes >= 1, "lanes", lanes, "at least 1 lane");
        }
        if spec.populations.is_empty() {
            self.push(SpecError::new(
                "populations",
                "a model needs at least one population",
            ));
        }
        for (name, pop) in &spec.populations {
            let at = |key: &str| format!("populations.{name}.{key}");
            self.rate_noise(name, pop);
            self.check(pop.size >= 1, at("size"), pop.size, "at least 1 neuron");
            self.finite(at("threshold"), pop.threshold);
            self.finite(at("gain"), pop.gain);
            if pop.model.is_spiking() {
                self.spiking_population(name, pop, dt);
            } else {
                if pop.neuron.is_some() {
                    self.push(SpecError::new(at("neuron"), "`neuron` parameters belong to spiking models; this population is `model: rate`"));
                }
                if pop.synapse.is_some() {
                    self.push(SpecError::new(
                        at("synapse"),
                        "`synapse` belongs to spiking models; rate populations use `tau_syn`",
                    ));
                }
                if pop.trace.is_some() {
                    self.push(SpecError::new(
                        at("trace"),
                        "spike traces belong to spiking models; this population is `model: rate`",
                    ));
                }
                let i = &pop.initial;
                if i.v.is_some() || i.w.is_some() || i.g_exc.is_some() || i.g_inh.is_some() {
                    self.push(SpecError::new(
                        at("initial"),
                        "`v`, `w`, `g_exc` and `g_inh` are states of spiking models; rate populations start from `rate` and `current`",
                    ));
                }
            }
            if let Some(tau) = pop.tau {
                self.time_constant(at("tau"), tau, dt);
            }
            if let Some(tau) = pop.tau_syn {
                self.time_constant(at("tau_syn"), tau, dt);
            }
            for (which, value) in [
                ("rate", &pop.initial.rate),
                ("current", &pop.initial.current),
            ] {
                let path = at(&format!("initial.{which}"));
                match value {
                    InitialValue::Gaussian { mean, std } => {
                        self.finite(format!("{path}.gaussian.mean"), *mean);
                        self.check(
                            *std >= 0.0,
                            format!("{path}.gaussian.std"),
                            std,
                            "a standard deviation ≥ 0",
                        );
                    }
                    InitialValue::Constant(c) => self.finite(format!("{path}.constant"), *c),
                    InitialValue::File(file) => self.file(format!("{path}.file"), file),
                    InitialValue::Transfer if which == "current" => self.push(SpecError::invalid(
                        path,
                        "transfer",
                        "zero, constant, gaussian or file (`transfer` applies to rates only)",
                    )),
                    _ => {}
                }
            }
        }
        for (name, proj) in &spec.projections {
            self.projection(spec, name, proj);
            self.stp(spec, name, proj);
        }
        for (name, input) in &spec.inputs {
            self.input(spec, name, input);
            self.random_delay(spec, name, input);
        }
        let mut recorded: std::collections::HashMap<(&str, &str, Option<&str>), usize> =
            std::collections::HashMap::new();
        for (i, monitor) in spec.monitors.iter().enumerate() {
            self.monitor(spec, i, monitor);
            self.stp_monitor(spec, i, monitor);
            let key = (
                monitor.population.as_str(),
                monitor.variable.name(),
                monitor.projection.as_deref(),
            );
            if let Some(&first) = recorded.get(&key) {
                self.push(SpecError::new(
                    format!("monitors.{i}"),
                    format!(
                        "records `{}.{}` again (monitors.{first} already does): the results of both \
                         would have that one name and one would overwrite the other; record it in one monitor",
                        monitor.population,
                        monitor.variable.name()
                    ),
                ));
            } else {
                recorded.insert(key, i);
            }
        }
    }

    fn spiking_population(&mut self, name: &str, pop: &PopulationSpec, dt: Time) {
        let at = |key: &str| format!("populations.{name}.{key}");
        if pop.tau.is_some() {
            self.push(SpecError::new(
                at("tau"),
                "spiking models take their membrane time constant as `neuron: {tau_m: ...}`",
            ));
        }
        if pop.tau_syn.is_some() {
            self.push(SpecError::new(at("tau_syn"), "spiking models take synaptic time constants as `synapse: {tau_exc: ..., tau_inh: ...}`"));
        }
        if !matches!(pop.initial.rate, InitialValue::Zero)
            || !matches!(pop.initial.current, InitialValue::Zero)
        {
            self.push(SpecError::new(at("initial"), "spiking populations start at rest; initial rates and currents apply to rate models"));
        }
        for (key, value) in [
            ("v", &pop.initial.v),
            ("w", &pop.initial.w),
            ("g_exc", &pop.initial.g_exc),
            ("g_inh", &pop.initial.g_inh),
        ] {
            let path = at(&format!("initial.{key}"));
            match value {
                Some(SpikingInitial::Constant(c)) => self.finite(format!("{path}.constant"), *c),
                Some(SpikingInitial::Gaussian { mean, std }) => {
                    self.finite(format!("{path}.gaussian.mean"), *mean);
                    self.check(
                        *std >= 0.0 && std.is_finite(),
                        format!("{path}.gaussian.std"),
                        std,
                        "a standard deviation ≥ 0",
                    );
                }
                Some(SpikingInitial::Uniform { low, high }) => self.check(
                    low.is_finite() && high.is_finite() && low < high,
                    format!("{path}.uniform"),
                    format!("[{low}, {high}]"),
                    "finite bounds with low < high",
                ),
                Some(SpikingInitial::Random) if key != "v" => self.push(SpecError::invalid(
                    path,
                    "random",
                    "constant, gaussian, uniform or file (`random` applies to `v` only)",
                )),
                Some(SpikingInitial::File(file)) => self.file(format!("{path}.file"), file),
                _ => {}
            }
        }
        if let Some(trace) = &pop.trace {
            self.time_constant(at("trace.tau"), trace.tau, dt);
            self.finite(at("trace.scale"), trace.scale);
        }
        if pop.model == NeuronModel::Poisson {
            self.poisson_source(name, pop);
            return;
        }
        if let Some(neuron) = &pop.neuron {
            if let Some(t_ref) = neuron.t_ref {
                self.check(
                    t_ref.ms() >= 0.0 && t_ref.ms().is_finite(),
                    at("neuron.t_ref"),
                    t_ref,
                    "a refractory period ≥ 0 ms",
                );
            }
            if let (Some(reset), Some(threshold)) = (neuron.v_reset, neuron.v_th) {
                self.check(
                    reset.value() < threshold.value(),
                    at("neuron.v_reset"),
                    reset,
                    &format!("a reset below the threshold v_th = {threshold}"),
                );
            }
            if let Some(tau_m) = neuron.tau_m {
                self.time_constant(at("neuron.tau_m"), tau_m, dt);
            }
        }
        let Some(synapse) = &pop.synapse else { return };
        // `lif_psc_exp` may take NeuroSimTools' forward-Euler form of its exponential current.
        if let (Some(kind), Some(implied)) = (synapse.kind, pop.model.implied_synapse())
            && kind != implied
            && !(implied == SynapseKind::CurrentExp && kind == SynapseKind::Filtered)
        {
            self.push(SpecError::invalid(
                at("synapse.kind"),
                format!("{kind:?}"),
                format!("{implied:?} (the model name fixes the synapse kind) or no `kind`"),
            ));
        }
        for (key, tau) in [("tau_exc", synapse.tau_exc), ("tau_inh", synapse.tau_inh)] {
            if let Some(tau) = tau {
                self.time_constant(at(&format!("synapse.{key}")), tau, dt);
            }
        }
        let kind = pop
            .model
            .implied_synapse()
            .or(synapse.kind)
            .unwrap_or_default();
        if kind != SynapseKind::ConductanceExp
            && (synapse.e_exc.is_some() || synapse.e_inh.is_some())
        {
            self.push(SpecError::new(
                at("synapse"),
                "reversal potentials `e_exc`/`e_inh` apply to conductance synapses only",
            ));
        }
    }

    /// A population of Poisson spike sources: `neuron: {rate}` and nothing that needs a membrane.
    fn poisson_source(&mut self, name: &str, pop: &PopulationSpec) {
        let at = |key: &str| format!("populations.{name}.{key}");
        match pop.neuron.as_ref().and_then(|n| n.rate) {
            Some(rate) => self.check(
                rate.value() >= 0.0 && rate.value().is_finite(),
                at("neuron.rate"),
                rate,
                "a rate ≥ 0",
            ),
            None => self.push(SpecError::new(
                at("neuron"),
                "Poisson sources need their rate: `neuron: {rate: 10 Hz}`",
            )),
        }
        if let Some(neuron) = &pop.neuron {
            let other = NeuronParams {
                rate: None,
                ..neuron.clone()
            };
            if other != NeuronParams::default() {
                self.push(SpecError::new(
                    at("neuron"),
                    "Poisson sources take only `rate` (they have no membrane)",
                ));
            }
        }
        if pop.synapse.is_some() {
            self.push(SpecError::new(
                at("synapse"),
                "Poisson sources receive no spikes, so they have no synapses",
            ));
        }
        let i = &pop.initial;
        if i.v.is_some() || i.w.is_some() || i.g_exc.is_some() || i.g_inh.is_some() {
            self.push(SpecError::new(
                at("initial"),
                "Poisson sources have no state to start from",
            ));
        }
    }

    /// A coupling between a rate and a spiking population (see the README's "Rate and spiking
    /// populations together"): spikes → rate through the rate population's synaptic filter,
    /// rate → spiking as an input current without a filter of its own.
    fn mixed_projection(&mut self, name: &str, proj: &ProjectionSpec, pre_spiking: bool) {
        let at = |key: &str| format!("projections.{name}.{key}");
        if !pre_spiking && proj.tau_syn.is_some() {
            self.push(SpecError::new(
                at("tau_syn"),
                "a rate → spiking coupling is an input current (weight × presynaptic rate) without \
                 a synaptic filter; remove `tau_syn`",
            ));
        }
    }

    fn projection(&mut self, spec: &NetworkSpec, name: &str, proj: &ProjectionSpec) {
        let at = |key: &str| format!("projections.{name}.{key}");
        let pre = self
            .population(spec, at("pre"), &proj.pre)
            .map(|i| spec.populations[i].size);
        let post = self
            .population(spec, at("post"), &proj.post)
            .map(|i| spec.populations[i].size);
        self.finite(at("weight"), proj.weight);
        if let Some(tau) = proj.tau_syn {
            self.time_constant(at("tau_syn"), tau, spec.dt);
        }
        let (Some(n_pre), Some(n_post)) = (pre, post) else {
            return;
        };
        if let Some(plasticity) = &proj.plasticity {
            crate::plasticity::validate_plasticity(spec, name, proj, plasticity, &mut self.errors);
        }
        let pre_spiking = spec.populations[&proj.pre].model.is_spiking();
        let post_spiking = spec.populations[&proj.post].model.is_spiking();
        if pre_spiking != post_spiking {
            self.mixed_projection(name, proj, pre_spiking);
        }
        if spec.populations[&proj.post].model == NeuronModel::Poisson {
            self.push(SpecError::invalid(
                at("post"),
                &proj.post,
                format!(
                    "a population that receives spikes (`{}` is a Poisson source)",
                    proj.post
                ),
            ));
        }
        if pre_spiking && post_spiking {
            if proj.tau_syn.is_some() {
                self.push(SpecError::new(
                    at("tau_syn"),
                    "spiking projections use the post population's `synapse` time constants",
                ));
            }
            let dt = spec.dt.ms();
            if let Some(delay) = proj.delay
                && delay.ms() < dt * (1.0 - 1e-9)
            {
                self.push(SpecError::invalid(
                    at("delay"),
                    delay,
                    format!("a delay of at least one time step (dt = {})", spec.dt),
                ));
            }
            for (key, delay) in [("delay", proj.delay), ("delay_max", proj.delay_max)] {
                if let Some(delay) = delay {
                    let steps = delay.ms() / dt;
                    self.check(
                        delay.ms().is_finite()
                            && (steps - steps.round()).abs() < 1e-6 * steps.max(1.0),
                        at(key),
                        delay,
                        &format!("a whole number of time steps dt = {}", spec.dt),
                    );
                }
            }
            if let Some(max) = proj.delay_max {
                let min = proj.delay.map_or(dt, Time::ms);
                self.check(
                    max.ms() >= min,
                    at("delay_max"),
                    max,
                    &format!("a maximum delay ≥ delay ({min} ms)"),
                );
            }
        } else if proj.delay.is_some() || proj.delay_max.is_some() {
            self.push(SpecError::new(
                at("delay"),
                "delays apply to projections between spiking populations (a coupling between a \
                 rate and a spiking population acts from the next step on)",
            ));
        }
        let self_projection = proj.pre == proj.post;
        let available = if self_projection && !proj.autapses {
            n_pre - 1
        } else {
            n_pre
        };
        match &proj.rule {
            Rule::Bernoulli { p, k } => match (p, k) {
                (Some(p), None) => {
                    self.check((0.0..=1.0).contains(p), at("rule.bernoulli.p"), p, "a probability in [0, 1]")
                }
                (None, Some(k)) => self.check(
                    *k >= 0.0 && *k <= available as f64,
                    at("rule.bernoulli.k"),
                    k,
                    &format!("a mean in-degree between 0 and {available} (the presynaptic population's size)"),
                ),
                _ => self.push(SpecError::new(
                    at("rule.bernoulli"),
                    "give exactly one of `p` (connection probability) or `k` (mean in-degree, p = k/N_pre)",
                )),
            },
            Rule::FixedInDegree { k } => self.check(
                *k <= available,
                at("rule.fixed_in_degree.k"),
                k,
                &format!("an in-degree ≤ {available} (distinct presynaptic neurons available)"),
            ),
            Rule::FixedOutDegree { k } => {
                let available = if self_projection && !proj.autapses { n_post - 1 } else { n_post };
                self.check(
                    *k <= available,
                    at("rule.fixed_out_degree.k"),
                    k,
                    &format!("an out-degree ≤ {available} (distinct postsynaptic neurons available)"),
                )
            }
            Rule::OneToOne => self.check(
                n_pre == n_post,
                at("rule"),
                format!("one_to_one between {n_pre} and {n_post} neurons"),
                "populations of equal size",
            ),
            Rule::Explicit { file } => self.file(at("rule.explicit.file"), file),
            Rule::AllToAll => {}
        }
        let sparse = matches!(
            proj.rule,
            Rule::Bernoulli { .. } | Rule::FixedInDegree { .. } | Rule::FixedOutDegree { .. }
        );
        match &proj.profile {
            Profile::Cosine { kappa, phase } => {
                self.finite(at("profile.cosine.kappa"), *kappa);
                self.finite(at("profile.cosine.phase"), phase.value());
            }
            Profile::CosineWeak { kappa } => self.finite(at("profile.cosine_weak.kappa"), *kappa),
            Profile::VonMises { kappa } => self.check(
                *kappa >= 0.0,
                at("profile.von_mises.kappa"),
                kappa,
                "a concentration ≥ 0",
            ),
            Profile::LowRank(lr) => {
                self.check(
                    lr.rank >= 1,
                    at("profile.low_rank.rank"),
                    lr.rank,
                    "a rank ≥ 1",
                );
                match &lr.vectors {
                    LowRankVectors::Gaussian { mean, covariance } => {
                        let dim = 2 * lr.rank;
                        if let Some(mean) = mean {
                            self.check(
                                mean.len() == dim,
                                at("profile.low_rank.vectors.gaussian.mean"),
                                format!("{} values", mean.len()),
                                &format!(
                                    "{dim} values (m_1, n_1, …, m_R, n_R for rank {})",
                                    lr.rank
                                ),
                            );
                        }
                        if let Some(cov) = covariance {
                            let square = cov.len() == dim && cov.iter().all(|row| row.len() == dim);
                            self.check(
                                square,
                                at("profile.low_rank.vectors.gaussian.covariance"),
                                format!("{} rows", cov.len()),
                                &format!("a {dim}×{dim} matrix"),
                            );
                        }
                    }
                    LowRankVectors::File(file) => {
                        self.file(at("profile.low_rank.vectors.file"), file)
                    }
                }
            }
            Profile::Uniform | Profile::Gaussian => {}
        }
        let profile_ok = match proj.rule {
            Rule::FixedInDegree { .. } | Rule::FixedOutDegree { .. } => {
                matches!(proj.profile, Profile::Uniform | Profile::Gaussian)
            }
            Rule::OneToOne | Rule::Explicit { .. } => matches!(proj.profile, Profile::Uniform),
            _ => true,
        };
        if !profile_ok {
            self.push(SpecError::new(
                at("profile"),
                "this rule takes only the `uniform` profile (and `gaussian` weights for fixed degrees); \
                 use `bernoulli` or `all_to_all` for structured profiles",
            ));
        }
        if matches!(proj.profile, Profile::CosineWeak { .. }) && !sparse {
            self.push(SpecError::new(
                at("profile"),
                "`cosine_weak` scales κ by 1/√K and needs a sparse rule (bernoulli, fixed_in_degree); \
                 with all_to_all use `cosine` with κ/√K",
            ));
        }
        if matches!(proj.scaling, Some(Scaling::SqrtK | Scaling::K)) && !sparse {
            self.push(SpecError::invalid(
                at("scaling"),
                format!("{:?}", proj.scaling.unwrap()).to_lowercase(),
                "`raw`, `n` or `sqrt_n`: the in-degree scalings need a sparse rule",
            ));
        }
    }

    fn input(&mut self, spec: &NetworkSpec, name: &str, input: &InputSpec) {
        let at = |key: &str| format!("inputs.{name}.{key}");
        self.population(spec, at("target"), &input.target);
        let spiking = spec
            .populations
            .get(&input.target)
            .is_some_and(|p| p.model.is_spiking());
        if let Some(encoder) = &input.encoder {
            crate::plasticity::validate_encoder(
                spec,
                name,
                &input.target,
                encoder,
                &mut self.errors,
            );
        } else if spec
            .populations
            .get(&input.target)
            .is_some_and(|p| p.model == NeuronModel::Poisson)
        {
            self.push(SpecError::invalid(
                at("target"),
                &input.target,
                "a population with a membrane (Poisson sources take no input; set their `neuron.rate`)",
            ));
        }
        if let Some(poisson) = &input.poisson {
            if !spiking {
                self.push(SpecError::new(at("poisson"), "Poisson spike trains drive spiking populations; rate populations take `constant` or `noise`"));
            }
            self.check(
                poisson.rate.value() >= 0.0 && poisson.rate.value().is_finite(),
                at("poisson.rate"),
                poisson.rate,
                "a rate ≥ 0",
            );
            self.check(
                poisson.count >= 1,
                at("poisson.count"),
                poisson.count,
                "at least one train per neuron",
            );
            self.finite(at("poisson.weight"), poisson.weight);
        }
        if let Some(sine) = &input.sine {
            self.finite(at("sine.amplitude"), sine.amplitude);
            self.finite(at("sine.offset"), sine.offset);
            self.finite(at("sine.phase"), sine.phase.value());
            self.check(
                sine.frequency.value() >= 0.0 && sine.frequency.value().is_finite(),
                at("sine.frequency"),
                sine.frequency,
                "a frequency ≥ 0",
            );
        }
        if let Some(step) = &input.two_way_step {
            self.finite(at("two_way_step.amplitude"), step.amplitude);
            self.check(
                step.on.ms() >= 0.0 && step.on.ms().is_finite(),
                at("two_way_step.on"),
                step.on,
                "an onset ≥ 0 (relative to the end of the transient)",
            );
            self.check(
                step.off.ms() > step.on.ms() && step.off.ms().is_finite(),
                at("two_way_step.off"),
                step.off,
                &format!("a time after on ({})", step.on),
            );
            if input.start.is_some() || input.stop.is_some() {
                self.push(SpecError::new(
                    format!("inputs.{name}"),
                    "a two-way step has its own `on` and `off`; give no `start`/`stop`",
                ));
            }
        }
        if let Some(random) = &input.random_step {
            self.finite(at("random_step.amplitude"), random.amplitude);
            self.check(
                random.pulses >= 1,
                at("random_step.pulses"),
                random.pulses,
                "at least 1 pulse",
            );
            self.check(
                random.width.ms() > 0.0 && random.width.ms().is_finite(),
                at("random_step.width"),
                random.width,
                "a pulse width > 0",
            );
        }
        let kinds = [
            input.two_way_step.is_some(),
            input.random_step.is_some(),
            input.sine.is_some(),
            input.poisson.is_some(),
            input.constant.is_some(),
            input.balanced.is_some(),
            input.noise.is_some(),
            input.stimulus.is_some(),
            input.file.is_some(),
            input.encoder.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            self.push(SpecError::new(
                format!("inputs.{name}"),
                "give exactly one of `constant`, `balanced`, `noise`, `stimulus`, `sine`, `two_way_step`, `random_step`, `poisson`, `file`, `encoder`",
            ));
        }
        if let Some(c) = input.constant {
            self.finite(at("constant"), c);
        }
        if let Some(b) = &input.balanced {
            self.check(b.k > 0.0, at("balanced.k"), b.k, "an in-degree K > 0");
            self.finite(at("balanced.m0"), b.m0);
            self.finite(at("balanced.j0"), b.j0);
        }
        if let Some(noise) = &input.noise {
            self.finite(at("noise.mean"), noise.mean);
            self.check(
                noise.std >= 0.0,
                at("noise.std"),
                noise.std,
                "a standard deviation ≥ 0",
            );
        }
        if let Some(stimulus) = &input.stimulus {
            self.finite(at("stimulus.amplitude"), stimulus.amplitude);
            match &stimulus.shape {
                StimulusShape::Gaussian { width } => self.check(
                    width.value() > 0.0,
                    at("stimulus.shape.gaussian.width"),
                    width,
                    "a width > 0",
                ),
                StimulusShape::Cosine { sigma } => self.check(
                    *sigma >= 0.0,
                    at("stimulus.shape.cosine.sigma"),
                    sigma,
                    "a depth σ ≥ 0",
                ),
                StimulusShape::Vector(v) => {
                    self.finite(at("stimulus.shape.vector.scale"), v.scale);
                    if let Some(file) = &v.file {
                        self.file(at("stimulus.shape.vector.file"), file);
                    }
                }
                StimulusShape::Uniform | StimulusShape::Cos => {}
            }
        }
        if let Some(file) = &input.file {
            self.file(at("file"), file);
        }
        if let (Some(start), Some(stop)) = (input.start, input.stop) {
            self.check(
                stop.ms() > start.ms(),
                at("stop"),
                stop,
                &format!("a time after start ({start})"),
            );
        }
        if let Some(start) = input.start {
            self.check(
                start.ms() >= -spec.transient.ms(),
                at("start"),
                start,
                &format!("a time ≥ −transient (−{})", spec.transient),
            );
        }
    }

    fn monitor(&mut self, spec: &NetworkSpec, i: usize, monitor: &MonitorSpec) {
        let at = |key: &str| format!("monitors.{i}.{key}");
        let size = self
            .population(spec, at("population"), &monitor.population)
            .map(|p| spec.populations[p].size);
        let spiking = spec
            .populations
            .get(&monitor.population)
            .is_some_and(|p| p.model.is_spiking());
        if !spiking
            && matches!(
                monitor.variable,
                Variable::Spikes
                    | Variable::V
                    | Variable::W
                    | Variable::GExc
                    | Variable::GInh
                    | Variable::Trace
                    | Variable::MeanRate
            )
        {
            self.push(SpecError::invalid(
                at("variable"),
                monitor.variable.name(),
                "rate, current or input (the variables of a rate population)",
            ));
        }
        if spiking && matches!(monitor.variable, Variable::Current | Variable::Input) {
            self.push(SpecError::invalid(
                at("variable"),
                monitor.variable.name(),
                "spikes, rate, v, w, g_exc, g_inh, trace or mean_rate (the variables of a spiking population)",
            ));
        }
        let population = spec.populations.get(&monitor.population);
        if spiking
            && population.is_some_and(|p| p.model == NeuronModel::Poisson)
            && matches!(
                monitor.variable,
                Variable::V | Variable::W | Variable::GExc | Variable::GInh
            )
        {
            self.push(SpecError::invalid(
                at("variable"),
                monitor.variable.name(),
                format!(
                    "spikes, rate, mean_rate or trace (`{}` is a Poisson source, without a membrane)",
                    monitor.population
                ),
            ));
        }
        if monitor.variable == Variable::Trace && population.is_some_and(|p| p.trace.is_none()) {
            self.push(SpecError::invalid(
                at("variable"),
                "trace",
                format!(
                    "a variable `{}` has; give it `trace: {{tau: 15 ms}}` to keep a spike trace",
                    monitor.population
                ),
            ));
        }
        if monitor.variable == Variable::MeanRate
            && (monitor.window.is_some() || monitor.every.is_some())
        {
            self.push(SpecError::new(
                format!("monitors.{i}"),
                "`mean_rate` is one rate per neuron over [start, stop) (start = the burn-in); \
                 `window` and `every` apply to `rate`",
            ));
        }
        let dt = spec.dt.ms();
        for (key, interval) in [("window", monitor.window), ("every", monitor.every)] {
            if let Some(interval) = interval {
                let steps = interval.ms() / dt;
                let whole = (steps - steps.round()).abs() < 1e-6 * steps.max(1.0);
                self.check(
                    steps.round() >= 1.0 && whole,
                    at(key),
                    interval,
                    &format!("a whole number (≥ 1) of time steps dt = {}", spec.dt),
                );
            }
        }
        if monitor.window.is_some() && monitor.every.is_some() {
            self.push(SpecError::new(
                format!("monitors.{i}"),
                "give `window` (averages) or `every` (snapshots), not both",
            ));
        }
        if let (Some(start), Some(stop)) = (monitor.start, monitor.stop) {
            self.check(
                stop.ms() > start.ms(),
                at("stop"),
                stop,
                &format!("a time after start ({start})"),
            );
        }
        for (key, time) in [("start", monitor.start), ("stop", monitor.stop)] {
            if let Some(time) = time {
                self.check(
                    time.ms() >= 0.0 && time.ms() <= spec.duration.ms() + 1e-9,
                    at(key),
                    time,
                    &format!("a time within the recorded duration [0, {}]", spec.duration),
                );
            }
        }
        if let Some(size) = size {
            let bad = match &monitor.neurons {
                NeuronSelection::List(list) => {
                    list.iter().find(|&&n| n >= size).map(|n| n.to_string())
                }
                NeuronSelection::Range(a, b) => {
                    (a >= b || *b > size).then(|| format!("[{a}, {b}]"))
                }
                _ => None,
            };
            if let Some(bad) = bad {
                self.push(SpecError::invalid(
                    at("neurons"),
                    bad,
                    format!(
                        "neuron indices in [0, {size}) (population `{}`)",
                        monitor.population
                    ),
                ));
            }
        }
    }
}
