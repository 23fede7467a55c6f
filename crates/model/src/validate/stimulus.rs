//! Checks of task timing: `inputs.<name>.random_delay`.

use super::Validator;
use crate::error::SpecError;
use crate::spec::*;
use crate::units::Time;

impl Validator<'_> {
    pub(super) fn random_delay(&mut self, spec: &NetworkSpec, name: &str, input: &InputSpec) {
        let Some(delay) = &input.random_delay else {
            return;
        };
        let at = |key: &str| format!("inputs.{name}.random_delay.{key}");
        if input.poisson.is_some() {
            self.push(SpecError::new(
                format!("inputs.{name}.random_delay"),
                "`random_delay` shifts current inputs; a `poisson` input has none (delay its \
                 `start` instead)",
            ));
        }
        let ranged = delay.min.is_some() || delay.max.is_some();
        if ranged != delay.choices.is_empty() {
            self.push(SpecError::new(
                format!("inputs.{name}.random_delay"),
                "give `min` and `max` (uniform delays) or `choices` (a list), not both and not \
                 neither",
            ));
            return;
        }
        let dt = spec.dt;
        let time = |v: &mut Self, key: String, t: Time| {
            v.check(
                t.ms().is_finite() && t.ms() >= 0.0,
                key,
                t,
                &format!("a delay ≥ 0 (whole steps of dt = {dt})"),
            );
        };
        if ranged {
            match (delay.min, delay.max) {
                (Some(min), Some(max)) => {
                    time(self, at("min"), min);
                    time(self, at("max"), max);
                    self.check(
                        max.ms() >= min.ms(),
                        at("max"),
                        max,
                        &format!("a delay ≥ min ({min})"),
                    );
                }
                _ => self.push(SpecError::new(
                    format!("inputs.{name}.random_delay"),
                    "uniform delays need both `min` and `max`",
                )),
            }
        }
        for (k, t) in delay.choices.iter().enumerate() {
            time(self, at(&format!("choices.{k}")), *t);
        }
    }
}

impl Validator<'_> {
    pub(super) fn rate_noise(&mut self, name: &str, pop: &PopulationSpec) {
        let Some(noise) = &pop.rate_noise else {
            return;
        };
        let at = format!("populations.{name}.rate_noise");
        if pop.model.is_spiking() {
            self.push(SpecError::new(
                at.clone(),
                "`rate_noise` adds noise to the rates of rate populations; give a spiking \
                 population a `noise` input instead",
            ));
        }
        self.check(
            noise.std.is_finite() && noise.std >= 0.0,
            format!("{at}.std"),
            noise.std,
            "a standard deviation ≥ 0",
        );
    }
}
