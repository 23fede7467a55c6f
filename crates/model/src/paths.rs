//! Key paths into a spec (`populations.E.tau`, `inputs.drive.constant`): command-line overrides,
//! per-lane sweeps and the resolved spec written next to results.

use crate::error::{SpecError, SpecErrors};
use crate::spec::{NetworkSpec, Rule, Scaling, SweepValues};
use serde_json::Value;

/// Apply one `key.path=value` assignment (the value is read as YAML: `20 ms`, `0.5`, `[1, 2]`).
pub fn apply_override(spec: &NetworkSpec, assignment: &str) -> Result<NetworkSpec, SpecError> {
    let Some((path, text)) = assignment.split_once('=') else {
        return Err(SpecError::invalid(
            "--set",
            assignment,
            "`key.path=value`, e.g. `--set populations.E.tau=10ms`",
        ));
    };
    let path = path.trim();
    let value: Value = serde_saphyr::from_str(text.trim()).map_err(|e| {
        SpecError::new(
            path,
            format!("`--set {assignment}`: the value is not valid YAML: {e}"),
        )
    })?;
    set_path(spec, path, value, true).map_err(|mut e| {
        e.message = format!("`--set {assignment}`: {}", e.message);
        e
    })
}

/// A copy of `spec` with the value at `path` replaced. With `create`, a missing final key is
/// added (an optional setting that was left out of the file).
pub fn set_path(
    spec: &NetworkSpec,
    path: &str,
    value: Value,
    create: bool,
) -> Result<NetworkSpec, SpecError> {
    let mut tree = serde_json::to_value(spec).expect("a spec always serialises");
    let mut node = &mut tree;
    let keys: Vec<&str> = path.split('.').collect();
    for (depth, key) in keys.iter().enumerate() {
        let last = depth + 1 == keys.len();
        let here = keys[..depth].join(".");
        node = match node {
            Value::Object(map) => {
                if !map.contains_key(*key) {
                    if !(create && last) {
                        let known: Vec<&str> = map.keys().map(String::as_str).collect();
                        return Err(SpecError::new(
                            path,
                            format!(
                                "`{key}` does not exist{}; present here: {}",
                                if here.is_empty() {
                                    String::new()
                                } else {
                                    format!(" under `{here}`")
                                },
                                known.join(", ")
                            ),
                        ));
                    }
                    map.insert(key.to_string(), Value::Null);
                }
                map.get_mut(*key).expect("inserted above")
            }
            Value::Array(items) => {
                let len = items.len();
                match key.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    Some(item) => item,
                    None => {
                        return Err(SpecError::invalid(
                            path,
                            key,
                            format!("an index below {len} into the list `{here}`"),
                        ));
                    }
                }
            }
            _ => {
                return Err(SpecError::new(
                    path,
                    format!("`{here}` is a single value, it has no key `{key}`"),
                ));
            }
        };
    }
    *node = value;
    serde_json::from_value(tree).map_err(|e| SpecError::new(path, e.to_string()))
}

/// Number of lanes of a spec: `lanes`, or the length of the sweep lists.
pub fn lane_count(spec: &NetworkSpec) -> Result<usize, SpecErrors> {
    let mut errors = Vec::new();
    let mut lanes = spec.lanes;
    for (key, values) in &spec.sweep {
        let count = match values {
            SweepValues::List(v) => Some(v.len()),
            SweepValues::Range(r) => (r.linspace.len() == 3).then(|| r.linspace[2] as usize),
        };
        if let Some(count) = count {
            match lanes {
                None => lanes = Some(count),
                Some(l) if l != count => errors.push(SpecError::invalid(
                    format!("sweep.{key}"),
                    format!("{count} values"),
                    format!("{l} values, one per lane (`lanes` and every sweep list must agree)"),
                )),
                _ => {}
            }
        }
    }
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    Ok(lanes.unwrap_or(1))
}

/// The values a swept key takes in each of `lanes` lanes.
pub fn sweep_values(key: &str, values: &SweepValues, lanes: usize) -> Result<Vec<f64>, SpecError> {
    match values {
        SweepValues::List(v) => Ok(v.clone()),
        SweepValues::Range(range) => {
            let (start, stop, count) = match range.linspace.as_slice() {
                [a, b] => (*a, *b, lanes),
                [a, b, c] if *c >= 1.0 && c.fract() == 0.0 => (*a, *b, *c as usize),
                other => {
                    return Err(SpecError::invalid(
                        format!("sweep.{key}.linspace"),
                        format!("{other:?}"),
                        "[start, stop] or [start, stop, count] with an integer count ≥ 1",
                    ));
                }
            };
            Ok((0..count)
                .map(|i| {
                    if count == 1 {
                        start
                    } else {
                        start + (stop - start) * i as f64 / (count - 1) as f64
                    }
                })
                .collect())
        }
    }
}

/// Key patterns that may take a different value in each lane of one build (`*` is any name).
/// Everything else changes the network's structure (sizes, rules, which inputs exist) and needs a
/// separate build.
pub const SWEEPABLE: &[&str] = &[
    "populations.*.threshold",
    "populations.*.gain",
    "populations.*.tau",
    "populations.*.tau_syn",
    "populations.*.initial.rate.constant",
    "populations.*.initial.rate.gaussian.mean",
    "populations.*.initial.rate.gaussian.std",
    "populations.*.initial.current.constant",
    "populations.*.initial.current.gaussian.mean",
    "populations.*.initial.current.gaussian.std",
    "projections.*.weight",
    "projections.*.tau_syn",
    "inputs.*.constant",
    "inputs.*.balanced.k",
    "inputs.*.balanced.m0",
    "inputs.*.balanced.j0",
    "inputs.*.noise.mean",
    "inputs.*.noise.std",
    "inputs.*.stimulus.amplitude",
    "inputs.*.stimulus.phase",
    "inputs.*.poisson.rate",
    "inputs.*.poisson.weight",
    "inputs.*.sine.amplitude",
    "inputs.*.sine.offset",
    "populations.*.neuron.i_e",
    "populations.*.neuron.eta",
    "populations.*.neuron.v_th",
    "populations.*.neuron.tau_m",
    "populations.*.neuron.rate",
    "inputs.*.two_way_step.amplitude",
    "inputs.*.random_step.amplitude",
];

fn matches_pattern(pattern: &str, key: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    p.len() == k.len() && p.iter().zip(&k).all(|(p, k)| *p == "*" || p == k)
}

/// Whether `key` may vary across the lanes of one build.
pub fn is_sweepable(key: &str) -> bool {
    SWEEPABLE.iter().any(|p| matches_pattern(p, key))
}

/// One spec per lane, with that lane's swept values set (and `sweep`/`lanes` cleared).
pub fn lane_specs(spec: &NetworkSpec) -> Result<Vec<NetworkSpec>, SpecErrors> {
    let lanes = lane_count(spec)?;
    let mut base = spec.clone();
    base.sweep.clear();
    base.lanes = None;
    let mut per_lane = vec![base; lanes];
    let mut errors = Vec::new();
    for (key, values) in &spec.sweep {
        let path = format!("sweep.{key}");
        if !is_sweepable(key) {
            errors.push(SpecError::new(
                path,
                format!(
                    "`{key}` cannot differ between the lanes of one build; keys that can: {}",
                    SWEEPABLE.join(", ")
                ),
            ));
            continue;
        }
        let values = match sweep_values(key, values, lanes) {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for (lane, value) in values.iter().enumerate() {
            match set_path(&per_lane[lane], key, Value::from(*value), true) {
                Ok(s) => per_lane[lane] = s,
                Err(e) => {
                    errors.push(SpecError {
                        path: path.clone(),
                        ..e
                    });
                    break;
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(per_lane)
    } else {
        Err(SpecErrors(errors))
    }
}

/// Default scaling of a projection's weight for its rule.
pub fn default_scaling(rule: &Rule) -> Scaling {
    match rule {
        Rule::Bernoulli { .. } | Rule::FixedInDegree { .. } | Rule::FixedOutDegree { .. } => {
            Scaling::SqrtK
        }
        Rule::AllToAll => Scaling::N,
        Rule::OneToOne | Rule::Explicit { .. } => Scaling::Raw,
    }
}

/// The spec with every default that depends on other settings written out, and the version
/// stamped: what `spec.yaml` holds next to results, which reruns to the same numbers.
pub fn resolve(spec: &NetworkSpec) -> Result<NetworkSpec, SpecErrors> {
    let mut resolved = spec.clone();
    for projection in resolved.projections.values_mut() {
        if projection.scaling.is_none() {
            let spiking = spec
                .populations
                .get(&projection.pre)
                .is_some_and(|p| p.model.is_spiking());
            projection.scaling = Some(if spiking {
                Scaling::Raw
            } else {
                default_scaling(&projection.rule)
            });
        }
    }
    resolved.lanes = Some(lane_count(spec)?);
    resolved.version = Some(crate::VERSION.to_string());
    Ok(resolved)
}

/// Write a spec as YAML.
pub fn to_yaml(spec: &NetworkSpec) -> String {
    serde_saphyr::to_string(spec).expect("a spec always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweepable_patterns_match_names() {
        assert!(is_sweepable("projections.EE.weight"));
        assert!(is_sweepable("inputs.drive_E.constant"));
        assert!(!is_sweepable("populations.E.size"));
        assert!(!is_sweepable("projections.EE.rule.bernoulli.k"));
    }
}
