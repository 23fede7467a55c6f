//! Checks of short-term plasticity (`projections.<name>.stp`) and of `stp_u`/`stp_x` monitors.

use super::Validator;
use crate::error::SpecError;
use crate::spec::*;

impl Validator<'_> {
    pub(super) fn stp(&mut self, spec: &NetworkSpec, name: &str, proj: &ProjectionSpec) {
        let Some(stp) = &proj.stp else {
            return;
        };
        let at = |key: &str| format!("projections.{name}.stp.{key}");
        self.check(
            stp.u > 0.0 && stp.u <= 1.0,
            at("U"),
            stp.u,
            "a utilisation U in (0, 1]",
        );
        let Some(pre) = spec.populations.get(&proj.pre) else {
            return; // reported with the projection
        };
        let spiking = pre.model.is_spiking();
        if let Some(post) = spec.populations.get(&proj.post)
            && post.model.is_spiking() != spiking
        {
            self.push(SpecError::new(
                format!("projections.{name}.stp"),
                "short-term plasticity on a projection between two rate or two spiking \
                 populations: it is not supported on rate<->spiking couplings",
            ));
            return;
        }
        if proj.plasticity.is_some() {
            self.push(SpecError::new(
                format!("projections.{name}.stp"),
                "either `stp` or `plasticity` on one projection: long-term plasticity keeps \
                 its own per-synapse weights, which short-term efficacy does not scale",
            ));
            return;
        }
        let model = stp.model.unwrap_or(if spiking {
            StpModel::Mato
        } else {
            StpModel::Markram
        });
        for (key, tau) in [("tau_rec", stp.tau_rec), ("tau_fac", stp.tau_fac)] {
            let ms = tau.ms();
            if !(ms.is_finite() && ms >= 0.0) {
                self.push(SpecError::invalid(
                    at(key),
                    tau,
                    "a time constant ≥ 0 (0 switches the process off)",
                ));
            } else if model == StpModel::Markram && ms > 0.0 && ms <= spec.dt.ms() {
                self.push(SpecError::invalid(
                    at(key),
                    tau,
                    format!(
                        "a time constant above dt = {} for the forward-Euler `markram` rule \
                         (or 0 to switch it off; `markram_exp` takes any τ)",
                        spec.dt
                    ),
                ));
            }
        }
        match (spiking, model) {
            (false, StpModel::Mato) => self.push(SpecError::invalid(
                at("model"),
                "mato",
                format!(
                    "`markram` or `markram_exp`: `{}` is a rate population, and `mato` is the \
                     event-based rule of spiking presynaptic populations",
                    proj.pre
                ),
            )),
            (true, StpModel::Markram | StpModel::MarkramExp) => self.push(SpecError::invalid(
                at("model"),
                model.name(),
                format!(
                    "`mato` (event-based): `{}` is a spiking population; `markram` and \
                     `markram_exp` integrate presynaptic rates",
                    proj.pre
                ),
            )),
            _ => {}
        }
    }

    pub(super) fn stp_monitor(&mut self, spec: &NetworkSpec, i: usize, monitor: &MonitorSpec) {
        let at = |key: &str| format!("monitors.{i}.{key}");
        let is_stp = matches!(monitor.variable, Variable::StpU | Variable::StpX);
        if !is_stp {
            if let Some(projection) = &monitor.projection {
                self.push(SpecError::invalid(
                    at("projection"),
                    projection,
                    "no `projection` key: it names the STP projection of `stp_u`/`stp_x` monitors",
                ));
            }
            return;
        }
        if !spec.populations.contains_key(&monitor.population) {
            return; // reported by the monitor checks
        }
        let from_here: Vec<&String> = spec
            .projections
            .iter()
            .filter(|(_, p)| p.stp.is_some() && p.pre == monitor.population)
            .map(|(n, _)| n)
            .collect();
        match &monitor.projection {
            Some(projection) => {
                if !from_here.contains(&projection) {
                    self.push(SpecError::invalid(
                        at("projection"),
                        projection,
                        format!(
                            "a projection with `stp` from `{}`: one of [{}]",
                            monitor.population,
                            from_here
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
            None => match from_here.len() {
                0 => self.push(SpecError::invalid(
                    at("variable"),
                    monitor.variable.name(),
                    format!(
                        "a variable of `{}`: no projection with `stp` leaves it (`stp_u`/`stp_x` \
                         record the presynaptic STP state)",
                        monitor.population
                    ),
                )),
                1 => {}
                _ => self.push(SpecError::new(
                    format!("monitors.{i}"),
                    format!(
                        "several projections with `stp` leave `{}` ({}); name one with \
                         `projection:`",
                        monitor.population,
                        from_here
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            },
        }
    }
}
