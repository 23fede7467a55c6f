//! Every applicable plot of a result folder written by `neuroxide run` (`results.npz`, with
//! `spec.yaml` for the time step, the population models and the ring structure).
//!
//! | kind | file | what |
//! |---|---|---|
//! | `raster` | `<pop>.raster.<ext>` | spikes of `<pop>.spikes` (lane, step, neuron) in one lane |
//! | `heatmap` | `<pop>.heatmap.<ext>` (`<pop>.<var>.heatmap` for other variables) | neuron × time of one lane |
//! | `means` | `means.<ext>` | population mean rates, every population and lane overlaid |
//! | `currents` | `currents.<ext>` | population mean `current` / `input`, populations and lanes overlaid |
//! | `connectivity` | `<name>.connectivity.<ext>` | 2-D arrays `<name>.weights` / `<name>.matrix` (post × pre) |
//! | `bump` | `<pop>.bump.<ext>` | phase and amplitude of the first Fourier mode over a ring population |
//! | `sweep` | `sweep.<key>.<ext>` | time-averaged mean rate of each population against a swept value |
//!
//! Arrays are read one at a time, when a plot needs them.

use crate::colour::{self, Rgb};
use crate::draw::{self, Series};
use crate::{Format, PlotError};
use ndarray::IxDyn;
use ndarray_npy::NpzReader;
use neuroxide_model::{NetworkSpec, NeuronModel, Profile};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Kinds of plot.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Raster,
    Heatmap,
    Means,
    Currents,
    Connectivity,
    Bump,
    Sweep,
}

impl Kind {
    /// Every kind, in the order plots are made.
    pub const ALL: [Kind; 7] = [
        Kind::Raster,
        Kind::Heatmap,
        Kind::Means,
        Kind::Currents,
        Kind::Connectivity,
        Kind::Bump,
        Kind::Sweep,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Raster => "raster",
            Kind::Heatmap => "heatmap",
            Kind::Means => "means",
            Kind::Currents => "currents",
            Kind::Connectivity => "connectivity",
            Kind::Bump => "bump",
            Kind::Sweep => "sweep",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown plot kind `{s}`, expected one of {}",
                    Kind::ALL.map(Kind::name).join(", ")
                )
            })
    }
}

/// What to plot and where.
#[derive(Clone, Debug, Default)]
pub struct PlotOptions {
    pub format: Format,
    /// Output folder (default: `<results folder>/plots`).
    pub out: Option<PathBuf>,
    /// The lane of per-neuron plots (raster, heatmap; default 0); when given, line plots show
    /// this lane alone instead of every lane overlaid.
    pub lane: Option<usize>,
    /// Kinds to make; empty: every applicable kind. A kind named here is made whenever the data
    /// allow it (e.g. `bump` for any population recorded in full, ring or not).
    pub kinds: Vec<Kind>,
}

/// One result array, its values as f64 (integers converted exactly up to 2^53).
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

impl Array {
    pub fn new(name: impl Into<String>, shape: Vec<usize>, values: Vec<f64>) -> Array {
        Array {
            name: name.into(),
            shape,
            values,
        }
    }
}

/// A line figure: times, series, and the units of its y axis.
type Figure = (Vec<f64>, Vec<Series>, Vec<&'static str>);

enum Source {
    Npz(PathBuf, RefCell<NpzReader<File>>),
    Memory(Vec<Array>),
}

/// A set of results: arrays by name (read lazily from `results.npz`, or held in memory) and the
/// resolved model when known.
pub struct ResultsSet {
    source: Source,
    names: Vec<String>,
    /// The resolved model (`spec.yaml`), if it could be read.
    pub spec: Option<NetworkSpec>,
    /// Name used in titles: the model's name, else the folder's.
    pub name: String,
}

fn file_error(path: &Path, message: impl ToString) -> PlotError {
    PlotError::File {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Parse a resolved `spec.yaml` (as `neuroxide run` writes it; no validation, so relative input
/// files need not exist).
pub fn parse_spec(text: &str) -> Option<NetworkSpec> {
    serde_saphyr::from_str(text).ok()
}

impl ResultsSet {
    /// Open the result folder `dir` (`results.npz`, and `spec.yaml` if present).
    pub fn open(dir: &Path) -> Result<ResultsSet, PlotError> {
        let path = dir.join("results.npz");
        let file = File::open(&path).map_err(|e| file_error(&path, e))?;
        let mut npz = NpzReader::new(file).map_err(|e| file_error(&path, e))?;
        let names = npz.names().map_err(|e| file_error(&path, e))?;
        let spec = std::fs::read_to_string(dir.join("spec.yaml"))
            .ok()
            .and_then(|text| parse_spec(&text));
        let folder = dir
            .canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "results".into());
        let name = spec.as_ref().and_then(|s| s.name.clone()).unwrap_or(folder);
        Ok(ResultsSet {
            names: names
                .iter()
                .map(|n| n.trim_end_matches(".npy").to_string())
                .collect(),
            source: Source::Npz(path, RefCell::new(npz)),
            spec,
            name,
        })
    }

    /// Results held in memory (e.g. straight from a run, or made up in a test).
    pub fn from_arrays(arrays: Vec<Array>, spec: Option<NetworkSpec>) -> ResultsSet {
        let name = spec
            .as_ref()
            .and_then(|s| s.name.clone())
            .unwrap_or_else(|| "results".into());
        ResultsSet {
            names: arrays.iter().map(|a| a.name.clone()).collect(),
            source: Source::Memory(arrays),
            spec,
            name,
        }
    }

    /// Names of the arrays.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The array `name`, if present (read from disk each time for a folder).
    pub fn array(&self, name: &str) -> Result<Option<Array>, PlotError> {
        if !self.names.iter().any(|n| n == name) {
            return Ok(None);
        }
        match &self.source {
            Source::Memory(arrays) => Ok(arrays.iter().find(|a| a.name == name).cloned()),
            Source::Npz(path, npz) => {
                let mut npz = npz.borrow_mut();
                let stored = format!("{name}.npy");
                let key = if npz.names().map(|n| n.contains(&stored)).unwrap_or(false) {
                    stored
                } else {
                    name.to_string()
                };
                read_any(&mut npz, &key)
                    .map(|(shape, values)| Some(Array::new(name, shape, values)))
                    .map_err(|e| file_error(path, format!("array `{name}`: {e}")))
            }
        }
    }

    fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// Number of lanes: the first axis of the first population mean or per-neuron recording.
    pub fn lanes(&self) -> Result<Option<usize>, PlotError> {
        let candidate = self
            .names
            .iter()
            .find(|n| n.ends_with("_mean"))
            .or_else(|| self.names.iter().find(|n| n.starts_with("lane.")));
        match candidate {
            Some(name) => Ok(self.array(name)?.and_then(|a| a.shape.first().copied())),
            None => Ok(None),
        }
    }

    /// Time step in ms, from the spec.
    pub fn dt_ms(&self) -> Option<f64> {
        self.spec.as_ref().map(|s| s.dt.value())
    }

    /// Whether population `pop` is spiking (rates in Hz) rather than a rate population (a.u.).
    pub fn is_spiking(&self, pop: &str) -> bool {
        let from_spec = self
            .spec
            .as_ref()
            .and_then(|s| s.populations.get(pop))
            .map(|p| p.model != NeuronModel::Rate);
        from_spec.unwrap_or_else(|| self.has(&format!("{pop}.spikes")))
    }

    /// Number of neurons of `pop`, from the spec.
    fn population_size(&self, pop: &str) -> Option<usize> {
        self.spec
            .as_ref()
            .and_then(|s| s.populations.get(pop))
            .map(|p| p.size)
    }

    /// Whether `pop` is arranged on a ring: a ring-profile projection onto it or a ring stimulus.
    fn is_ring(&self, pop: &str) -> bool {
        let Some(spec) = &self.spec else {
            return false;
        };
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

    /// Populations in spec order, else in order of appearance in the array names.
    fn populations(&self) -> Vec<String> {
        if let Some(spec) = &self.spec {
            return spec.populations.keys().cloned().collect();
        }
        let mut pops: Vec<String> = Vec::new();
        for name in &self.names {
            if name == "t" || name.starts_with("lane.") {
                continue;
            }
            if let Some((pop, _)) = name.rsplit_once('.')
                && !pops.iter().any(|p| p == pop)
            {
                pops.push(pop.to_string());
            }
        }
        pops
    }

    /// Swept keys and their per-lane values (`lane.<key>`).
    fn sweeps(&self) -> Result<Vec<(String, Vec<f64>)>, PlotError> {
        let mut out = Vec::new();
        for name in &self.names {
            if let Some(key) = name.strip_prefix("lane.")
                && let Some(a) = self.array(name)?
            {
                out.push((key.to_string(), a.values));
            }
        }
        Ok(out)
    }

    /// Legend label of lane `l`: `lane l` and its swept values.
    fn lane_label(&self, l: usize, sweeps: &[(String, Vec<f64>)]) -> String {
        let mut label = format!("lane {l}");
        for (key, values) in sweeps {
            if let Some(v) = values.get(l) {
                label.push_str(&format!(", {} = {}", short_key(key), number(*v)));
            }
        }
        label
    }

    /// The frame times (seconds) of the monitor `<pop>.<var>`.
    fn times(&self, pop: &str, var: &str) -> Result<Option<Vec<f64>>, PlotError> {
        let own = format!("{pop}.{var}_t");
        let name = if self.has(&own) { own.as_str() } else { "t" };
        Ok(self.array(name)?.map(|a| a.values))
    }

    /// Per-lane population means of `<pop>.<var>`: the `_mean` array, else the mean over the
    /// recorded neurons. Returns (lanes × frames, lanes, frames).
    fn means_of(
        &self,
        pop: &str,
        var: &str,
    ) -> Result<Option<(Vec<f64>, usize, usize)>, PlotError> {
        if let Some(a) = self.array(&format!("{pop}.{var}_mean"))?
            && a.shape.len() == 2
        {
            return Ok(Some((a.values, a.shape[0], a.shape[1])));
        }
        if let Some(a) = self.array(&format!("{pop}.{var}"))?
            && a.shape.len() == 3
            && a.shape[2] > 0
        {
            let (lanes, frames, n) = (a.shape[0], a.shape[1], a.shape[2]);
            let means = a
                .values
                .chunks(n)
                .map(|row| row.iter().sum::<f64>() / n as f64)
                .collect();
            return Ok(Some((means, lanes, frames)));
        }
        Ok(None)
    }

    fn unit(&self, pop: &str, var: &str) -> &'static str {
        let spiking = self.is_spiking(pop);
        match var {
            "rate" if spiking => "Hz",
            "current" | "input" if spiking => "pA",
            "v" => "mV",
            "w" => "pA",
            "g_exc" | "g_inh" => "nS",
            _ => "a.u.",
        }
    }

    /// Make the plots `options` ask for into `out`; returns the files written.
    pub fn plot(&self, out: &Path, options: &PlotOptions) -> Result<Vec<PathBuf>, PlotError> {
        let explicit = !options.kinds.is_empty();
        let kinds: Vec<Kind> = if explicit {
            options.kinds.clone()
        } else {
            Kind::ALL.to_vec()
        };
        if let Some(lane) = options.lane
            && let Some(lanes) = self.lanes()?
            && lane >= lanes
        {
            return Err(PlotError::Data(format!(
                "lane {lane} is out of range: the results have {lanes} lane{}",
                if lanes == 1 { "" } else { "s" }
            )));
        }
        let mut written = Vec::new();
        for kind in kinds {
            match kind {
                Kind::Raster => self.rasters(out, options, &mut written)?,
                Kind::Heatmap => self.heatmaps(out, options, &mut written)?,
                Kind::Means => self.means(out, options, &mut written)?,
                Kind::Currents => self.currents(out, options, &mut written)?,
                Kind::Connectivity => self.connectivity(out, options, &mut written)?,
                Kind::Bump => self.bumps(out, options, explicit, &mut written)?,
                Kind::Sweep => self.sweep_summaries(out, options, &mut written)?,
            }
        }
        Ok(written)
    }

    fn file(&self, out: &Path, stem: &str, options: &PlotOptions) -> PathBuf {
        out.join(format!("{stem}.{}", options.format.extension()))
    }

    fn rasters(
        &self,
        out: &Path,
        options: &PlotOptions,
        written: &mut Vec<PathBuf>,
    ) -> Result<(), PlotError> {
        let lane = options.lane.unwrap_or(0);
        for pop in self.populations() {
            let Some(spikes) = self.array(&format!("{pop}.spikes"))? else {
                continue;
            };
            if spikes.shape.len() != 2 || spikes.shape[1] != 3 {
                continue;
            }
            // Recorded step s ends at (s + 1) dt after the transient.
            let Some(dt) = self.dt_ms() else {
                continue;
            };
            let (mut times, mut neurons) = (Vec::new(), Vec::new());
            for row in spikes.values.chunks(3) {
                if row[0] as usize == lane {
                    times.push((row[1] + 1.0) * dt * 1e-3);
                    neurons.push(row[2] as u32);
                }
            }
            let n_neurons = self
                .population_size(&pop)
                .unwrap_or_else(|| neurons.iter().max().map_or(1, |&m| m as usize + 1));
            let t_end = self
                .spec
                .as_ref()
                .map(|s| s.duration.value() * 1e-3)
                .or_else(|| times.iter().copied().reduce(f64::max))
                .unwrap_or(1.0)
                .max(dt * 1e-3);
            let rate = times.len() as f64 / (n_neurons as f64 * t_end);
            let title = format!(
                "{}: {pop} spikes, lane {lane} ({} spikes, {} Hz per neuron)",
                self.name,
                times.len(),
                number(rate)
            );
            let path = self.file(out, &format!("{pop}.raster"), options);
            draw::raster(&path, &title, &times, &neurons, n_neurons, (0.0, t_end))?;
            written.push(path);
        }
        Ok(())
    }

    fn heatmaps(
        &self,
        out: &Path,
        options: &PlotOptions,
        written: &mut Vec<PathBuf>,
    ) -> Result<(), PlotError> {
        let lane = options.lane.unwrap_or(0);
        for pop in self.populations() {
            let prefix = format!("{pop}.");
            let vars: Vec<String> = self
                .names
                .iter()
                .filter_map(|n| n.strip_prefix(&prefix))
                .filter(|v| !v.contains('.') && !v.ends_with("_mean") && !v.ends_with("_t"))
                .filter(|v| *v != "spikes" && *v != "phase")
                .map(str::to_string)
                .collect();
            for var in vars {
                let Some(a) = self.array(&format!("{pop}.{var}"))? else {
                    continue;
                };
                if a.shape.len() != 3 || a.shape[1] == 0 || a.shape[2] < 2 || lane >= a.shape[0] {
                    continue;
                }
                let Some(t) = self.times(&pop, &var)? else {
                    continue;
                };
                let (frames, neurons) = (a.shape[1], a.shape[2]);
                if t.len() != frames {
                    continue;
                }
                let values = &a.values[lane * frames * neurons..(lane + 1) * frames * neurons];
                let full = self.population_size(&pop) == Some(neurons);
                let y_label = if full { "neuron" } else { "recorded neuron" };
                let title = format!("{}: {pop} {var}, lane {lane}", self.name);
                let colour_label = format!("{var} ({})", self.unit(&pop, &var));
                let stem = if var == "rate" {
                    format!("{pop}.heatmap")
                } else {
                    format!("{pop}.{var}.heatmap")
                };
                let path = self.file(out, &stem, options);
                draw::heatmap(
                    &path,
                    &title,
                    values,
                    (frames, neurons),
                    &t,
                    y_label,
                    &colour_label,
                )?;
                written.push(path);
            }
        }
        Ok(())
    }

    /// Series of population means of `vars`, every population (and lane) overlaid; one figure per
    /// time base.
    fn mean_figures(
        &self,
        vars: &[&str],
        options: &PlotOptions,
    ) -> Result<BTreeMap<String, Figure>, PlotError> {
        let sweeps = self.sweeps()?;
        let pops = self.populations();
        let mut figures: BTreeMap<String, Figure> = BTreeMap::new();
        let mut colour_index = 0;
        for pop in &pops {
            for var in vars {
                let Some((means, lanes, frames)) = self.means_of(pop, var)? else {
                    continue;
                };
                let Some(t) = self.times(pop, var)? else {
                    continue;
                };
                if frames == 0 || t.len() != frames {
                    continue;
                }
                let base = if self.has(&format!("{pop}.{var}_t")) {
                    format!("{pop}.")
                } else {
                    String::new()
                };
                let figure = figures
                    .entry(base)
                    .or_insert_with(|| (t.clone(), Vec::new(), Vec::new()));
                let unit = self.unit(pop, var);
                if !figure.2.contains(&unit) {
                    figure.2.push(unit);
                }
                let shown: Vec<usize> = match options.lane {
                    Some(l) if l < lanes => vec![l],
                    _ => (0..lanes).collect(),
                };
                let base_colour = colour::line(colour_index);
                colour_index += 1;
                let what = if vars.len() > 1 {
                    format!("{pop} {var}")
                } else {
                    pop.clone()
                };
                for (k, &l) in shown.iter().enumerate() {
                    let values = means[l * frames..(l + 1) * frames].to_vec();
                    let (label, colour) = if shown.len() == 1 {
                        (what.clone(), base_colour)
                    } else if pops.len() * vars.len() == 1 {
                        (self.lane_label(l, &sweeps), colour::line(k))
                    } else {
                        let shade: Rgb = colour::lighten(
                            base_colour,
                            0.55 * k as f64 / (shown.len() - 1) as f64,
                        );
                        let label = if shown.len() <= 4 {
                            format!("{what}, {}", self.lane_label(l, &sweeps))
                        } else if k == 0 {
                            format!(
                                "{what} (lanes {}–{}: dark → light)",
                                shown[0],
                                shown[shown.len() - 1]
                            )
                        } else {
                            String::new()
                        };
                        (label, shade)
                    };
                    figure.1.push(Series::new(label, values, colour));
                }
            }
        }
        Ok(figures)
    }

    fn means(
        &self,
        out: &Path,
        options: &PlotOptions,
        written: &mut Vec<PathBuf>,
    ) -> Result<(), PlotError> {
        for (prefix, (t, series, units)) in self.mean_figures(&["rate"], options)? {
            let title = format!("{}: population mean rates", self.name);
            let y_label = format!("mean rate ({})", units.join(" / "));
            let path = self.file(out, &format!("{prefix}means"), options);
            draw::lines(&path, &title, &t, &series, &y_label)?;
            written.push(path);
        }
        Ok(())
    }

    fn currents(
        &self,
        out: &Path,
        options: &PlotOptions,
        written: &mut Vec<PathBuf>,
    ) -> Result<(), PlotError> {
        for (prefix, (t, series, units)) in self.mean_figures(&["current", "input"], options)? {
            let title = format!("{}: population mean input currents", self.name);
            let y_label = format!("mean current ({})", units.join(" / "));
            let path = self.file(out, &format!("{prefix}currents"), options);
            draw::lines(&path, &title, &t, &series, &y_label)?;
            written.push(path);
        }
        Ok(())
    }

    fn connectivity(
        &self,
        out: &Path,
        options: &PlotOptions,
        written: &mut Vec<PathBuf>,
    ) -> Result<(), PlotError> {
        let lane = options.lane.unwrap_or(0);
        for name in &self.names {
            let Some(stem) = name
                .strip_suffix(".weights")
                .or_else(|| name.strip_suffix(".matrix"))
            else {
                continue;
            };
            let Some(a) = self.array(name)? else {
                continue;
            };
            let (rows, cols, values) = match a.shape.as_slice() {
                [r, c] => (*r, *c, &a.values[..]),
                [l, r, c] if lane < *l => (*r, *c, &a.values[lane * r * c..(lane + 1) * r * c]),
                _ => continue,
            };
            if rows == 0 || cols == 0 {
                continue;
            }
            let projection = self.spec.as_ref().and_then(|s| s.projections.get(stem));
            let (x_label, y_label) = match projection {
                Some(p) => (
                    format!("presynaptic neuron ({})", p.pre),
                    format!("postsynaptic neuron ({})", p.post),
                ),
                None => ("presynaptic neuron".into(), "postsynaptic neuron".into()),
            };
            let title = format!("{}: {stem} couplings ({rows} × {cols})", self.name);
            let path = self.file(out, &format!("{stem}.connectivity"), options);
            draw::matrix(
                &path,
                &title,
                values,
                (rows, cols),
                (&x_label, &y_label),
                "weight",
            )?;
            written.push(path);
        }
        Ok(())
    }

    fn bumps(
        &self,
        out: &Path,
        options: &PlotOptions,
        explicit: bool,
        written: &mut Vec<PathBuf>,
    ) -> Result<(), PlotError> {
        let sweeps = self.sweeps()?;
        for pop in self.populations() {
            let Some(a) = self.array(&format!("{pop}.rate"))? else {
                continue;
            };
            if a.shape.len() != 3 || a.shape[1] == 0 || a.shape[2] < 3 {
                continue;
            }
            let (lanes, frames, neurons) = (a.shape[0], a.shape[1], a.shape[2]);
            let full = self.population_size(&pop).is_none_or(|n| n == neurons);
            if !full || !(explicit || self.is_ring(&pop)) {
                continue;
            }
            let Some(t) = self.times(&pop, "rate")? else {
                continue;
            };
            if t.len() != frames {
                continue;
            }
            let shown: Vec<usize> = match options.lane {
                Some(l) if l < lanes => vec![l],
                _ => (0..lanes).collect(),
            };
            let (mut phases, mut amplitudes) = (Vec::new(), Vec::new());
            for (k, &l) in shown.iter().enumerate() {
                let (mut phase, mut amplitude) = (Vec::new(), Vec::new());
                for f in 0..frames {
                    let start = (l * frames + f) * neurons;
                    let (p, amp) = draw::ring_mode(&a.values[start..start + neurons]);
                    phase.push(p.to_degrees());
                    amplitude.push(amp);
                }
                // Without a bump the phase is noise: leave it out where the amplitude is below 5%
                // of the lane's largest.
                let largest = amplitude.iter().copied().fold(0.0, f64::max);
                for (p, &amp) in phase.iter_mut().zip(&amplitude) {
                    if amp <= 0.05 * largest || largest == 0.0 {
                        *p = f64::NAN;
                    }
                }
                let label = if shown.len() > 1 && shown.len() <= 10 {
                    self.lane_label(l, &sweeps)
                } else {
                    String::new()
                };
                phases.push(Series::new(label.clone(), phase, colour::line(k)));
                amplitudes.push(Series::new(label, amplitude, colour::line(k)));
            }
            let title = format!(
                "{}: {pop} bump (first Fourier mode over the ring)",
                self.name
            );
            let amplitude_label = format!("amplitude ({})", self.unit(&pop, "rate"));
            let path = self.file(out, &format!("{pop}.bump"), options);
            draw::bump(&path, &title, &t, &phases, &amplitudes, &amplitude_label)?;
            written.push(path);
        }
        Ok(())
    }

    fn sweep_summaries(
        &self,
        out: &Path,
        options: &PlotOptions,
        written: &mut Vec<PathBuf>,
    ) -> Result<(), PlotError> {
        let sweeps = self.sweeps()?;
        if sweeps.iter().all(|(_, v)| v.len() < 2) {
            return Ok(());
        }
        let mut series = Vec::new();
        let mut units = Vec::new();
        for (i, pop) in self.populations().iter().enumerate() {
            let Some((means, lanes, frames)) = self.means_of(pop, "rate")? else {
                continue;
            };
            if frames == 0 {
                continue;
            }
            let averages: Vec<f64> = (0..lanes)
                .map(|l| means[l * frames..(l + 1) * frames].iter().sum::<f64>() / frames as f64)
                .collect();
            let unit = self.unit(pop, "rate");
            if !units.contains(&unit) {
                units.push(unit);
            }
            series.push(Series::new(pop.clone(), averages, colour::line(i)));
        }
        if series.is_empty() {
            return Ok(());
        }
        for (key, x) in &sweeps {
            if x.len() < 2 || series.iter().any(|s| s.values.len() != x.len()) {
                continue;
            }
            let title = format!("{}: time-averaged mean rate against {key}", self.name);
            let y_label = format!("time-averaged rate ({})", units.join(" / "));
            let path = self.file(out, &format!("sweep.{key}"), options);
            draw::sweep(&path, &title, x, &series, (key, &y_label))?;
            written.push(path);
        }
        Ok(())
    }
}

/// Every applicable plot of the result folder `dir` (see the module documentation), into
/// `options.out` (default `dir/plots`); returns the files written.
pub fn plot_results(dir: &Path, options: &PlotOptions) -> Result<Vec<PathBuf>, PlotError> {
    let set = ResultsSet::open(dir)?;
    let out = options.out.clone().unwrap_or_else(|| dir.join("plots"));
    set.plot(&out, options)
}

/// Read an array of any numeric type as f64.
fn read_any(npz: &mut NpzReader<File>, name: &str) -> Result<(Vec<usize>, Vec<f64>), String> {
    use ndarray::OwnedRepr;
    macro_rules! attempt {
        ($($t:ty),*) => {$(
            if let Ok(a) = npz.by_name::<OwnedRepr<$t>, IxDyn>(name) {
                return Ok((a.shape().to_vec(), a.iter().map(|&v| v as f64).collect()));
            }
        )*};
    }
    attempt!(f64, f32, i64, i32, u64, u32, i16, u16, i8, u8);
    if let Ok(a) = npz.by_name::<OwnedRepr<bool>, IxDyn>(name) {
        return Ok((
            a.shape().to_vec(),
            a.iter().map(|&v| if v { 1.0 } else { 0.0 }).collect(),
        ));
    }
    Err("not a numeric array".into())
}

/// The last two components of a key path (`inputs.drive_E.constant` → `drive_E.constant`).
fn short_key(key: &str) -> &str {
    match key.rmatch_indices('.').nth(1) {
        Some((i, _)) => &key[i + 1..],
        None => key,
    }
}

/// A number with up to 4 significant digits, without trailing zeros.
fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(short_key("inputs.drive_E.constant"), "drive_E.constant");
        assert_eq!(short_key("seed"), "seed");
        assert_eq!(number(1.5), "1.5");
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(1234.6), "1235");
        assert_eq!(number(90.0), "90");
        assert_eq!("heatmap".parse::<Kind>(), Ok(Kind::Heatmap));
        assert!("heat".parse::<Kind>().is_err());
    }
}
