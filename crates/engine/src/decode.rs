//! Decoding of recorded frames (NeuroFlame's `decode.py`): bump phase and amplitude from the
//! first Fourier mode over the ring, circular smoothing, overlaps with vectors.
//!
//! For a frame `r_0 … r_{N−1}` (neuron `n` at angle `θ_n = 2πn/N`):
//! `m0 = mean_n r_n`, `F1 = Σ_n r_n e^{iθ_n}`, `m1 = 2|F1|/N`, `phase = arg F1` (degrees, on
//! [0, 360)); a profile `a + b cos(θ − φ)` decodes to `m0 = a`, `m1 = b`, `phase = φ`.
//! Overlaps are `Σ_n r_n ξ_n / N`. Decoders run on the per-neuron arrays of a monitor with
//! `decode:`, at the end of a run (or afterwards from a result folder: `neuroxide decode DIR`).

use crate::lower::{low_rank_vectors, read_array_file, resolve_file};
use crate::results::{ArrayData, NamedArray};
use neuroxide_model::{
    DecodeSpec, MonitorSpec, NetworkSpec, NeuronSelection, OverlapSource, Profile, SpecError,
    SpecErrors, Variable,
};
use std::path::Path;

/// `(m0, m1, phase in degrees)` of one frame.
pub fn bump(frame: &[f64]) -> (f64, f64, f64) {
    let n = frame.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let (mut re, mut im, mut sum) = (0.0, 0.0, 0.0);
    for (i, &r) in frame.iter().enumerate() {
        let theta = std::f64::consts::TAU * i as f64 / n as f64;
        re += r * theta.cos();
        im += r * theta.sin();
        sum += r;
    }
    let m1 = 2.0 * (re * re + im * im).sqrt() / n as f64;
    let phase = im.atan2(re).to_degrees().rem_euclid(360.0);
    (sum / n as f64, m1, phase)
}

/// Circular box-car mean over `width` neurons, centred on each neuron (for an even width, the
/// window reaches one neuron further back than forward); `width` ≤ 1 returns the frame.
pub fn smooth_circular(frame: &[f64], width: usize) -> Vec<f64> {
    let n = frame.len();
    if width <= 1 || n == 0 {
        return frame.to_vec();
    }
    let back = width / 2;
    (0..n)
        .map(|i| {
            (0..width)
                .map(|k| frame[(i + n * width - back + k) % n])
                .sum::<f64>()
                / width as f64
        })
        .collect()
}

/// `Σ_n r_n ξ_n / N`.
pub fn overlap(frame: &[f64], vector: &[f64]) -> f64 {
    frame.iter().zip(vector).map(|(r, x)| r * x).sum::<f64>() / frame.len().max(1) as f64
}

/// One monitor's decoding.
#[derive(Clone, Debug)]
pub struct Decoder {
    /// The array decoded, `<population>.<variable>`.
    pub array: String,
    /// Prefix of the arrays written: `<population>.` or `<population>.<variable>_`.
    pub prefix: String,
    pub bump: bool,
    pub smooth: usize,
    /// (name, vectors) of each overlap source.
    pub overlaps: Vec<(String, Vec<Vec<f64>>)>,
}

/// The decoder of one monitor; errors name `monitors.<i>.decode…`.
pub fn decoder(
    spec: &NetworkSpec,
    i: usize,
    monitor: &MonitorSpec,
    decode: &DecodeSpec,
    base_dir: Option<&Path>,
) -> Result<Decoder, SpecErrors> {
    let at = format!("monitors.{i}.decode");
    let err = |path: String, message: String| SpecErrors::one(SpecError::new(path, message));
    let pop = &monitor.population;
    let size = spec.populations[pop].size;
    if monitor.neurons != NeuronSelection::All {
        return Err(err(
            format!("monitors.{i}.neurons"),
            "decoding needs every neuron recorded: leave `neurons` out (all)".into(),
        ));
    }
    let mut overlaps = Vec::new();
    for (k, source) in decode.overlap.iter().enumerate() {
        let here = format!("{at}.overlap.{k}");
        match source {
            OverlapSource::Projection(name) => {
                let Some(proj) = spec.projections.get(name) else {
                    return Err(err(
                        format!("{here}.projection"),
                        format!("got `{name}`, expected a projection of the model"),
                    ));
                };
                let Profile::LowRank(lr) = &proj.profile else {
                    return Err(err(
                        format!("{here}.projection"),
                        format!("`{name}` has no `low_rank` profile, so no vectors"),
                    ));
                };
                if proj.pre != *pop && proj.post != *pop {
                    return Err(err(
                        format!("{here}.projection"),
                        format!("`{name}` neither starts nor ends at `{pop}`"),
                    ));
                }
                let (n_post, n_pre) = (
                    spec.populations[&proj.post].size,
                    spec.populations[&proj.pre].size,
                );
                let (m, n) = low_rank_vectors(lr, n_post, n_pre, spec.seed, name, base_dir)?;
                let mut vectors = Vec::new();
                if proj.post == *pop {
                    vectors.extend(m);
                }
                if proj.pre == *pop {
                    vectors.extend(n);
                }
                overlaps.push((name.clone(), vectors));
            }
            OverlapSource::File(file) => {
                let path = resolve_file(base_dir, file);
                let arrays = read_array_file(&path).map_err(|e| err(format!("{here}.file"), e))?;
                let array = &arrays[0].1;
                let vectors: Vec<Vec<f64>> = match array.shape.as_slice() {
                    [n] if *n == size => vec![array.values.clone()],
                    [k, n] if *n == size => (0..*k)
                        .map(|j| array.values[j * n..(j + 1) * n].to_vec())
                        .collect(),
                    shape => {
                        return Err(err(
                            format!("{here}.file"),
                            format!(
                                "{} has shape {shape:?}, expected (vectors, {size}) (neurons of `{pop}`)",
                                path.display()
                            ),
                        ));
                    }
                };
                let stem = Path::new(file)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("file")
                    .to_string();
                overlaps.push((stem, vectors));
            }
        }
    }
    let variable = monitor.variable.name();
    Ok(Decoder {
        array: format!("{pop}.{variable}"),
        prefix: if monitor.variable == Variable::Rate {
            format!("{pop}.")
        } else {
            format!("{pop}.{variable}_")
        },
        bump: decode.bump,
        smooth: decode.smooth,
        overlaps,
    })
}

/// The decoders of every monitor with `decode:`.
pub fn decoders(spec: &NetworkSpec, base_dir: Option<&Path>) -> Result<Vec<Decoder>, SpecErrors> {
    spec.monitors
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.decode.as_ref().map(|d| decoder(spec, i, m, d, base_dir)))
        .collect()
}

/// The decoded arrays of `decoder` from its (lanes, frames, neurons) array.
pub fn decode(decoder: &Decoder, array: &NamedArray) -> Vec<NamedArray> {
    let [lanes, frames, neurons] = match array.shape.as_slice() {
        [a, b, c] => [*a, *b, *c],
        _ => return Vec::new(),
    };
    let values = array.data.to_f64();
    let mut m0 = Vec::with_capacity(lanes * frames);
    let mut m1 = Vec::with_capacity(lanes * frames);
    let mut phase = Vec::with_capacity(lanes * frames);
    let mut overlaps: Vec<Vec<f64>> = decoder.overlaps.iter().map(|_| Vec::new()).collect();
    for frame in values.chunks_exact(neurons.max(1)) {
        if decoder.bump {
            let smoothed = smooth_circular(frame, decoder.smooth);
            let (a, b, c) = bump(&smoothed);
            m0.push(a);
            m1.push(b);
            phase.push(c);
        }
        for ((_, vectors), out) in decoder.overlaps.iter().zip(&mut overlaps) {
            out.extend(vectors.iter().map(|v| overlap(frame, v)));
        }
    }
    let mut out = Vec::new();
    if decoder.bump {
        for (key, data) in [("m0", m0), ("m1", m1), ("phase", phase)] {
            out.push(NamedArray {
                name: format!("{}{key}", decoder.prefix),
                shape: vec![lanes, frames],
                data: ArrayData::F64(data),
            });
        }
    }
    for ((name, vectors), data) in decoder.overlaps.iter().zip(overlaps) {
        out.push(NamedArray {
            name: format!("{}overlap.{name}", decoder.prefix),
            shape: vec![lanes, frames, vectors.len()],
            data: ArrayData::F64(data),
        });
    }
    out
}

/// Append the decoded arrays of every decoder whose array is among `arrays` (a streamed
/// recording is not: decode its folder afterwards).
pub fn append(decoders: &[Decoder], arrays: &mut Vec<NamedArray>) {
    let mut decoded = Vec::new();
    for decoder in decoders {
        if let Some(array) = arrays.iter().find(|a| a.name == decoder.array) {
            decoded.extend(decode(decoder, array));
        }
    }
    arrays.extend(decoded);
}
