//! Task timing of inputs: per-lane random delays (NeuroFlame's `RANDOM_DELAY`, `DELAY_LIST`,
//! `RANDOM_ITI`).
//!
//! An input with `random_delay` is shifted, in lane `l`, by `d_l` whole steps: it acts on
//! `[start + d_l, stop + d_l)` and reads its time course (a sine's phase, a series' row) at
//! `step − d_l`. `d_l` is uniform on `[min, max)` (in steps) or one of `choices`, drawn from the
//! seed with the lane's global index (so a shard's lanes draw what the same lanes of the whole
//! run draw); inputs of one `group` share the draws.

use crate::input::{Input, InputKind};
use crate::real::Real;
use crate::rng::{CounterRng, stream_id};
use neuroxide_model::{NetworkSpec, RandomDelay};

/// Add the rows of a delayed input: lane `l` only inside its window, at its own step.
pub(crate) fn add_delayed_rows<T: Real>(
    inner: &Input<T>,
    windows: &[(u64, u64)],
    shifts: &[u64],
    step: u64,
    first_neuron: usize,
    out: &mut [T],
    lanes: usize,
) {
    let rows = out.len() / lanes;
    let mut scratch = vec![T::ZERO; out.len()];
    // Lanes that share a shift are evaluated together.
    let mut done = vec![false; lanes];
    for l in 0..lanes {
        if done[l] {
            continue;
        }
        let (first, last) = windows[l];
        if !(first <= step && step < last) {
            done[l] = true;
            continue;
        }
        scratch.iter_mut().for_each(|x| *x = T::ZERO);
        inner.add_rows(step - shifts[l], first_neuron, &mut scratch, lanes);
        for m in l..lanes {
            if !done[m] && shifts[m] == shifts[l] && windows[m].0 <= step && step < windows[m].1 {
                for r in 0..rows {
                    out[r * lanes + m] += scratch[r * lanes + m];
                }
                done[m] = true;
            }
        }
    }
}

/// The per-lane delays (steps) of a validated `random_delay`.
pub fn delay_steps(spec: &NetworkSpec, input: &str, delay: &RandomDelay, lanes: usize) -> Vec<u64> {
    let dt = spec.dt.ms();
    let group = delay.group.clone().unwrap_or_else(|| input.to_string());
    let stream = stream_id(&format!("random delay {group}"), 0);
    (0..lanes)
        .map(|l| {
            let mut rng = CounterRng::new(spec.seed, stream, spec.lane_offset + l as u64);
            if delay.choices.is_empty() {
                let lo = (delay.min.expect("validated").ms() / dt).round() as u64;
                let hi = (delay.max.expect("validated").ms() / dt).round() as u64;
                let span = (hi - lo).min(u32::MAX as u64) as u32;
                lo + if span == 0 {
                    0
                } else {
                    rng.next_below(span) as u64
                }
            } else {
                let k = rng.next_below(delay.choices.len() as u32) as usize;
                (delay.choices[k].ms() / dt).round() as u64
            }
        })
        .collect()
}

/// Apply `random_delay` to a lowered input; returns the delays in ms (for `<input>.delay`).
pub(crate) fn delay_input<T: Real>(
    input: &mut Input<T>,
    spec: &NetworkSpec,
    delay: &RandomDelay,
    lanes: usize,
) -> Vec<f64> {
    let shifts = delay_steps(spec, &input.name, delay, lanes);
    let windows: Vec<(u64, u64)> = shifts
        .iter()
        .map(|&d| (input.first_step + d, input.last_step.saturating_add(d)))
        .collect();
    input.first_step = windows
        .iter()
        .map(|w| w.0)
        .min()
        .unwrap_or(input.first_step);
    input.last_step = windows.iter().map(|w| w.1).max().unwrap_or(input.last_step);
    let kind = std::mem::replace(&mut input.kind, InputKind::Constant(Vec::new()));
    let inner = Input {
        name: input.name.clone(),
        population: input.population,
        first_step: 0,
        last_step: u64::MAX,
        kind,
    };
    input.kind = InputKind::Delayed {
        inner: Box::new(inner),
        windows,
        shifts: shifts.clone(),
    };
    shifts.iter().map(|&d| d as f64 * spec.dt.ms()).collect()
}

/// The values of a `vector` stimulus shape (times its `scale`), or `None` for ring shapes.
pub(crate) fn vector_shape(
    spec: &NetworkSpec,
    input: &str,
    shape: &neuroxide_model::StimulusShape,
    size: usize,
    base_dir: Option<&std::path::Path>,
) -> Result<Option<Vec<f64>>, neuroxide_model::SpecErrors> {
    use neuroxide_model::{LowRankSide, Profile, SpecError, SpecErrors, StimulusShape};
    let StimulusShape::Vector(v) = shape else {
        return Ok(None);
    };
    let at = format!("inputs.{input}.stimulus.shape.vector");
    let err = |key: &str, message: String| {
        SpecErrors::one(SpecError::new(format!("{at}.{key}"), message))
    };
    let target = &spec.inputs[input].target;
    let vectors: Vec<Vec<f64>> = match (&v.low_rank, &v.file) {
        (Some(projection), None) => {
            let Some(proj) = spec.projections.get(projection) else {
                return Err(err(
                    "low_rank",
                    format!("got `{projection}`, expected a projection of the model"),
                ));
            };
            let Profile::LowRank(lr) = &proj.profile else {
                return Err(err(
                    "low_rank",
                    format!("`{projection}` has no `low_rank` profile"),
                ));
            };
            let side = v.side.unwrap_or(LowRankSide::N);
            let population = match side {
                LowRankSide::M => &proj.post,
                LowRankSide::N => &proj.pre,
            };
            if population != target {
                return Err(err(
                    "side",
                    format!(
                        "the {} vectors of `{projection}` are over `{population}`, but the input \
                         targets `{target}`",
                        if side == LowRankSide::M { "m" } else { "n" }
                    ),
                ));
            }
            let (n_post, n_pre) = (
                spec.populations[&proj.post].size,
                spec.populations[&proj.pre].size,
            );
            let (m, n) =
                crate::lower::low_rank_vectors(lr, n_post, n_pre, spec.seed, projection, base_dir)?;
            if side == LowRankSide::M { m } else { n }
        }
        (None, Some(file)) => {
            let path = crate::lower::resolve_file(base_dir, file);
            let arrays = crate::lower::read_array_file(&path).map_err(|e| err("file", e))?;
            let a = &arrays[0].1;
            match a.shape.as_slice() {
                [n] if *n == size => vec![a.values.clone()],
                [k, n] if *n == size => (0..*k)
                    .map(|j| a.values[j * n..(j + 1) * n].to_vec())
                    .collect(),
                shape => {
                    return Err(err(
                        "file",
                        format!(
                            "{} has shape {shape:?}, expected (vectors, {size}) (neurons of `{target}`)",
                            path.display()
                        ),
                    ));
                }
            }
        }
        _ => {
            return Err(SpecErrors::one(SpecError::new(
                at,
                "give `low_rank: <projection>` or `file: <vectors.npy>`, one of them",
            )));
        }
    };
    let Some(vector) = vectors.get(v.index) else {
        return Err(err(
            "index",
            format!(
                "got `{}`, expected an index below {} (the number of vectors)",
                v.index,
                vectors.len()
            ),
        ));
    };
    Ok(Some(vector.iter().map(|x| x * v.scale).collect()))
}

/// NeuroFlame's rate noise of one rate population: before every step `r ← r + std · ξ`, ξ
/// standard normal per neuron, lane and step (Philox, counter = step, neuron, lane pair, as for
/// noise inputs; lane `l` reads global lane `lane_offset + l`).
#[derive(Debug)]
pub struct RateNoise<T: Real> {
    /// Index among the rate populations.
    pub population: usize,
    std: Vec<T>,
    key: crate::rng::Philox4x32,
    lane_offset: u64,
}

impl<T: Real> RateNoise<T> {
    /// Add the noise of `step` to the rates `[neuron][lane]`.
    pub fn add(&self, rate: &mut [T], step: u64, lanes: usize) {
        let first_pair = self.lane_offset / 2;
        let pairs = (self.lane_offset + lanes as u64).div_ceil(2) - first_pair;
        for (n, row) in rate.chunks_exact_mut(lanes).enumerate() {
            for pair in first_pair..first_pair + pairs {
                let (z0, z1) = crate::rng::normals_for(&self.key, step, n as u32, pair as u32);
                for (g, z) in [(2 * pair, z0), (2 * pair + 1, z1)] {
                    if g >= self.lane_offset && g < self.lane_offset + lanes as u64 {
                        let l = (g - self.lane_offset) as usize;
                        row[l] += self.std[l] * T::from_f64(z);
                    }
                }
            }
        }
    }
}

/// The rate noise of every rate population that has `rate_noise`.
pub(crate) fn rate_noise<T: Real>(
    spec: &NetworkSpec,
    lane_specs: &[NetworkSpec],
) -> Vec<RateNoise<T>> {
    spec.populations
        .iter()
        .filter(|(_, p)| !p.model.is_spiking())
        .enumerate()
        .filter(|(_, (_, p))| p.rate_noise.is_some())
        .map(|(index, (name, _))| RateNoise {
            population: index,
            std: lane_specs
                .iter()
                .map(|s| T::from_f64(s.populations[name].rate_noise.as_ref().expect("noise").std))
                .collect(),
            key: crate::rng::Philox4x32::new(
                spec.seed,
                stream_id(&format!("rate noise {name}"), 0),
            ),
            lane_offset: spec.lane_offset,
        })
        .collect()
}
