//! `summary.csv`: one row per lane (grid point) with its swept values and, per population, the
//! mean rate, and when recorded: for spiking populations the ISI CV and a synchrony measure, for
//! ring populations the stability of the bump.
//!
//! Columns (`nan` where a figure is undefined, e.g. no neuron fired three times):
//! - `point`: the grid point (global lane index); then one column per grid key;
//! - `<pop>.rate`: time average of `<pop>.rate_mean`, else spikes / (neurons × recorded time) (Hz);
//! - `<pop>.isi_cv`: mean over neurons with ≥ 3 spikes of std/mean of their inter-spike intervals;
//! - `<pop>.synchrony`: variance over mean of the population's spike count in 1 ms bins (1 for
//!   independent Poisson neurons, large for synchronous firing);
//! - `<pop>.bump_amplitude`, `<pop>.bump_drift`: for a population recorded in full (`<pop>.rate`
//!   of every neuron) on a ring (a cosine/von Mises projection or a stimulus onto it): the mean
//!   amplitude of the first Fourier mode over the second half of the frames, and how far its phase
//!   moved over that half (degrees, |wrapped difference| of the last and the middle frame).

use neuroxide::{ArrayData, NamedArray};
use neuroxide_model::{NetworkSpec, Profile, Variable};
use std::fmt::Write;

fn get<'a>(arrays: &'a [NamedArray], name: &str) -> Option<&'a NamedArray> {
    arrays.iter().find(|a| a.name == name)
}

fn is_ring(spec: &NetworkSpec, pop: &str) -> bool {
    spec.projections.values().any(|p| {
        p.post == pop
            && matches!(
                p.profile,
                Profile::Cosine { .. } | Profile::CosineWeak { .. } | Profile::VonMises { .. }
            )
    }) || spec
        .inputs
        .values()
        .any(|i| i.target == pop && i.stimulus.is_some())
}

/// The recorded range `[start, stop)` of the spike monitor of `pop`, in steps.
fn spike_range(spec: &NetworkSpec, pop: &str) -> (i64, i64) {
    let dt = spec.dt.ms();
    let steps = |ms: f64| (ms / dt).round() as i64;
    let monitor = spec
        .monitors
        .iter()
        .find(|m| m.population == pop && m.variable == Variable::Spikes);
    let start = monitor.and_then(|m| m.start).map_or(0, |t| steps(t.ms()));
    let stop = monitor
        .and_then(|m| m.stop)
        .map_or(steps(spec.duration.ms()), |t| steps(t.ms()));
    (start, stop)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Per-lane figures of one population; column names and one value per lane each.
fn population_columns(
    spec: &NetworkSpec,
    arrays: &[NamedArray],
    pop: &str,
    lanes: usize,
) -> Vec<(String, Vec<f64>)> {
    let mut columns = Vec::new();
    let size = spec.populations[pop].size;
    let spiking = spec.populations[pop].model.is_spiking();
    let spikes = get(arrays, &format!("{pop}.spikes")).and_then(|a| match &a.data {
        ArrayData::I64(v) => Some(v),
        _ => None,
    });
    let (start, stop) = spike_range(spec, pop);
    if let Some(a) = get(arrays, &format!("{pop}.rate_mean")) {
        let values = a.data.to_f64();
        let frames = a.shape[1];
        columns.push((
            format!("{pop}.rate"),
            (0..lanes)
                .map(|l| mean(&values[l * frames..(l + 1) * frames]))
                .collect(),
        ));
    } else if let Some(rows) = spikes {
        let seconds = (stop - start) as f64 * spec.dt.ms() * 1e-3;
        let mut counts = vec![0usize; lanes];
        for r in rows.chunks_exact(3) {
            if let Some(c) = counts.get_mut(r[0] as usize) {
                *c += 1;
            }
        }
        columns.push((
            format!("{pop}.rate"),
            counts
                .iter()
                .map(|&c| c as f64 / (size as f64 * seconds))
                .collect(),
        ));
    }
    if spiking && let Some(rows) = spikes {
        // Spike steps per lane and neuron, in time order (rows are in step order).
        let mut trains = vec![vec![Vec::new(); size]; lanes];
        for r in rows.chunks_exact(3) {
            if let Some(train) = trains
                .get_mut(r[0] as usize)
                .and_then(|t| t.get_mut(r[2] as usize))
            {
                train.push(r[1]);
            }
        }
        let cv = trains
            .iter()
            .map(|lane| {
                let cvs: Vec<f64> = lane
                    .iter()
                    .filter(|t| t.len() >= 3)
                    .map(|t| {
                        let isi: Vec<f64> = t.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
                        let m = mean(&isi);
                        let var =
                            isi.iter().map(|x| (x - m).powi(2)).sum::<f64>() / isi.len() as f64;
                        var.sqrt() / m
                    })
                    .collect();
                if cvs.is_empty() { f64::NAN } else { mean(&cvs) }
            })
            .collect();
        columns.push((format!("{pop}.isi_cv"), cv));
        let bin = ((1.0 / spec.dt.ms()).round() as i64).max(1);
        let bins = ((stop - start) / bin).max(1) as usize;
        let mut counts = vec![vec![0.0f64; bins]; lanes];
        for r in rows.chunks_exact(3) {
            let b = ((r[1] - start) / bin) as usize;
            if r[1] >= start && b < bins && (r[0] as usize) < lanes {
                counts[r[0] as usize][b] += 1.0;
            }
        }
        let synchrony = counts
            .iter()
            .map(|c| {
                let m = mean(c);
                let var = c.iter().map(|x| (x - m).powi(2)).sum::<f64>() / c.len() as f64;
                if m > 0.0 { var / m } else { f64::NAN }
            })
            .collect();
        columns.push((format!("{pop}.synchrony"), synchrony));
    }
    if is_ring(spec, pop)
        && let Some(a) = get(arrays, &format!("{pop}.rate"))
        && a.shape.len() == 3
        && a.shape[2] == size
        && a.shape[1] >= 2
    {
        let values = a.data.to_f64();
        let frames = a.shape[1];
        let half = frames / 2;
        let (mut amplitude, mut drift) = (Vec::new(), Vec::new());
        for l in 0..lanes {
            let frame = |f: usize| {
                let o = (l * frames + f) * size;
                neuroxide_plot::ring_mode(&values[o..o + size])
            };
            let modes: Vec<(f64, f64)> = (half..frames).map(frame).collect();
            amplitude.push(mean(&modes.iter().map(|m| m.1).collect::<Vec<_>>()));
            let d = (modes[modes.len() - 1].0 - modes[0].0).to_degrees();
            drift.push(((d + 180.0).rem_euclid(360.0) - 180.0).abs());
        }
        columns.push((format!("{pop}.bump_amplitude"), amplitude));
        columns.push((format!("{pop}.bump_drift"), drift));
    }
    columns
}

/// The table for the lanes of `arrays` (grid points `first..`), with the swept keys `keys`
/// (whose `lane.<key>` arrays hold the values).
pub fn summary_csv(
    spec: &NetworkSpec,
    arrays: &[NamedArray],
    first: usize,
    keys: &[String],
) -> String {
    let lanes = keys
        .first()
        .and_then(|k| get(arrays, &format!("lane.{k}")))
        .map_or(spec.lanes.unwrap_or(1), |a| a.shape[0]);
    let mut columns: Vec<(String, Vec<f64>)> = keys
        .iter()
        .map(|k| {
            let values = get(arrays, &format!("lane.{k}"))
                .map_or(vec![f64::NAN; lanes], |a| a.data.to_f64());
            (k.clone(), values)
        })
        .collect();
    for pop in spec.populations.keys() {
        columns.extend(population_columns(spec, arrays, pop, lanes));
    }
    let mut out = String::from("point");
    for (name, _) in &columns {
        let _ = write!(out, ",{name}");
    }
    out.push('\n');
    for l in 0..lanes {
        let _ = write!(out, "{}", first + l);
        for (_, values) in &columns {
            let v = values[l];
            if v.is_nan() {
                out.push_str(",nan");
            } else {
                let _ = write!(out, ",{v}");
            }
        }
        out.push('\n');
    }
    out
}
