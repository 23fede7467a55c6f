//! Recorders: window averages or snapshots of one variable of one population.
//!
//! Steps are counted from the end of the transient; the state after recorded step `s` (0-based)
//! is the state at time `(s + 1) dt`. A window monitor of `W` steps over `[start, stop)` emits
//! frame `k` = the mean over steps `start + kW … start + (k+1)W − 1`, stamped at the end of its
//! window; a snapshot monitor every `E` steps emits the state after steps `start + E − 1`,
//! `start + 2E − 1`, …. Sums are accumulated in f64 in neuron order, so means do not depend on
//! the thread count.

use crate::real::Real;
use crate::results::{ArrayData, NamedArray};
use neuroxide_model::Variable;

/// Where the per-neuron frames of a streamed recorder go instead of memory (a file on disk).
pub trait FrameSink: Send + Sync {
    /// Frame `frame` of lane `lane`: the values of the recorded neurons, in the run's precision
    /// (already rounded to it when the run is f32).
    fn write(&mut self, lane: usize, frame: usize, values: &[f64]) -> std::io::Result<()>;
}

/// A recorder's sink, with the first error it returned.
pub struct Sink {
    pub sink: Box<dyn FrameSink>,
    pub error: Option<String>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sink")
    }
}

/// How a recorder samples.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Schedule {
    Window(usize),
    Every(usize),
}

/// A lowered monitor with its buffers.
#[derive(Debug)]
pub struct Recorder<T: Real> {
    /// Index among the rate populations, or among the spiking ones when `spiking`.
    pub population: usize,
    pub spiking: bool,
    pub population_name: String,
    pub variable: Variable,
    pub schedule: Schedule,
    /// Recorded steps `[start, stop)`, counted from the end of the transient.
    pub start: usize,
    pub stop: usize,
    /// Neurons stored individually.
    pub neurons: Vec<usize>,
    pub record_mean: bool,
    pub lanes: usize,
    pub population_size: usize,
    pub frames: usize,
    dt_seconds: f64,
    frame: usize,
    in_window: usize,
    sums: Vec<f64>,
    mean_sums: Vec<f64>,
    /// `[lane][frame][neuron]`
    data: Vec<T>,
    /// `[lane][frame]`
    means: Vec<f64>,
    /// Streamed: per-neuron frames go to the sink, not into `data`.
    pub sink: Option<Sink>,
    row: Vec<f64>,
    /// `stp_u`/`stp_x`: index of the STP state (among the rate or the spiking ones).
    pub stp: Option<usize>,
}

impl<T: Real> Recorder<T> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        population: usize,
        population_name: String,
        variable: Variable,
        schedule: Schedule,
        start: usize,
        stop: usize,
        neurons: Vec<usize>,
        record_mean: bool,
        lanes: usize,
        population_size: usize,
        dt_seconds: f64,
    ) -> Self {
        let period = match schedule {
            Schedule::Window(w) | Schedule::Every(w) => w,
        };
        let frames = (stop - start) / period;
        Recorder {
            population,
            spiking: false,
            population_name,
            variable,
            schedule,
            start,
            stop,
            lanes,
            population_size,
            frames,
            dt_seconds,
            frame: 0,
            in_window: 0,
            sums: vec![0.0; neurons.len() * lanes],
            mean_sums: vec![0.0; lanes],
            data: Vec::new(),
            means: Vec::new(),
            sink: None,
            row: Vec::new(),
            stp: None,
            record_mean,
            neurons,
        }
    }

    /// Bytes the recording will hold when complete.
    pub fn bytes(&self) -> u64 {
        let streamed = self.sink.is_some();
        let per_neuron = if streamed { 0 } else { self.data_bytes() };
        let means = if self.record_mean {
            (self.lanes * self.frames) as u64 * 8
        } else {
            0
        };
        per_neuron + means
    }

    /// Bytes of the per-neuron recording (in memory, or on disk when streamed).
    pub fn data_bytes(&self) -> u64 {
        (self.lanes * self.frames * self.neurons.len()) as u64 * std::mem::size_of::<T>() as u64
    }

    /// Frames recorded so far in the current run.
    pub fn frames_recorded(&self) -> usize {
        self.frame
    }

    /// The first error of the sink, if any.
    pub fn sink_error(&self) -> Option<&str> {
        self.sink.as_ref().and_then(|s| s.error.as_deref())
    }

    /// Clear the recording and allocate its buffers (done before each run, so a run that cannot
    /// fit fails at once).
    pub fn allocate(&mut self) {
        self.frame = 0;
        self.in_window = 0;
        self.sums.iter_mut().for_each(|x| *x = 0.0);
        self.mean_sums.iter_mut().for_each(|x| *x = 0.0);
        self.data = if self.sink.is_some() {
            Vec::new()
        } else {
            vec![T::ZERO; self.lanes * self.frames * self.neurons.len()]
        };
        self.means = vec![0.0; self.lanes * self.frames];
    }

    /// The recording's state for checkpoints: (frame, in_window) and the buffers sums,
    /// mean_sums, data, means.
    pub(crate) fn state_mut(
        &mut self,
    ) -> (
        &mut usize,
        &mut usize,
        [&mut Vec<f64>; 2],
        &mut Vec<T>,
        &mut Vec<f64>,
    ) {
        (
            &mut self.frame,
            &mut self.in_window,
            [&mut self.sums, &mut self.mean_sums],
            &mut self.data,
            &mut self.means,
        )
    }

    /// Frame times in seconds from the end of the transient.
    pub fn times(&self) -> Vec<f64> {
        let period = match self.schedule {
            Schedule::Window(w) | Schedule::Every(w) => w,
        };
        (0..self.frames)
            .map(|k| (self.start + (k + 1) * period) as f64 * self.dt_seconds)
            .collect()
    }

    /// Whether this recorder needs the variable after recorded step `step`.
    #[inline]
    pub fn wants(&self, step: usize) -> bool {
        if step < self.start || step >= self.stop || self.frame >= self.frames {
            return false;
        }
        match self.schedule {
            Schedule::Window(_) => true,
            Schedule::Every(e) => (step + 1 - self.start).is_multiple_of(e),
        }
    }

    /// Observe the variable `values` (`[neuron][lane]`) after recorded step `step`.
    pub fn observe(&mut self, step: usize, values: &[T]) {
        if !self.wants(step) {
            return;
        }
        let lanes = self.lanes;
        let (scale, emit) = match self.schedule {
            Schedule::Every(_) => (1.0, true),
            Schedule::Window(w) => {
                self.in_window += 1;
                (1.0 / w as f64, self.in_window == w)
            }
        };
        let accumulate = matches!(self.schedule, Schedule::Window(_));
        for (s, &neuron) in self.neurons.iter().enumerate() {
            let row = &values[neuron * lanes..(neuron + 1) * lanes];
            for l in 0..lanes {
                let v = row[l].to_f64();
                if accumulate {
                    self.sums[s * lanes + l] += v;
                } else {
                    self.sums[s * lanes + l] = v;
                }
            }
        }
        if self.record_mean {
            let mut totals = vec![0.0; lanes];
            for row in values.chunks_exact(lanes) {
                for (t, v) in totals.iter_mut().zip(row) {
                    *t += v.to_f64();
                }
            }
            let n = self.population_size as f64;
            for (m, t) in self.mean_sums.iter_mut().zip(totals) {
                if accumulate {
                    *m += t / n;
                } else {
                    *m = t / n;
                }
            }
        }
        if emit {
            let frame = self.frame;
            let count = self.neurons.len();
            for l in 0..lanes {
                if let Some(sink) = &mut self.sink {
                    self.row.clear();
                    self.row.extend(
                        (0..count).map(|s| T::from_f64(self.sums[s * lanes + l] * scale).to_f64()),
                    );
                    if sink.error.is_none()
                        && let Err(e) = sink.sink.write(l, frame, &self.row)
                    {
                        sink.error = Some(e.to_string());
                    }
                } else {
                    for s in 0..count {
                        self.data[(l * self.frames + frame) * count + s] =
                            T::from_f64(self.sums[s * lanes + l] * scale);
                    }
                }
                self.means[l * self.frames + frame] = self.mean_sums[l] * scale;
            }
            self.sums.iter_mut().for_each(|x| *x = 0.0);
            self.mean_sums.iter_mut().for_each(|x| *x = 0.0);
            self.in_window = 0;
            self.frame += 1;
        }
    }

    /// The recorded arrays (frames recorded so far, when a run stopped early).
    pub fn arrays(&self, time_name: Option<String>) -> Vec<NamedArray> {
        let name = format!("{}.{}", self.population_name, self.variable.name());
        let recorded = self.frame;
        let count = self.neurons.len();
        let mut arrays = Vec::new();
        if count > 0 && self.sink.is_none() {
            let mut values = Vec::with_capacity(self.lanes * recorded * count);
            for l in 0..self.lanes {
                let start = l * self.frames * count;
                values.extend_from_slice(&self.data[start..start + recorded * count]);
            }
            arrays.push(NamedArray {
                name: name.clone(),
                shape: vec![self.lanes, recorded, count],
                data: to_array_data(values),
            });
        }
        if self.record_mean {
            let mut values = Vec::with_capacity(self.lanes * recorded);
            for l in 0..self.lanes {
                values.extend_from_slice(&self.means[l * self.frames..l * self.frames + recorded]);
            }
            arrays.push(NamedArray {
                name: format!("{name}_mean"),
                shape: vec![self.lanes, recorded],
                data: ArrayData::F64(values),
            });
        }
        if let Some(time_name) = time_name {
            arrays.push(NamedArray {
                name: time_name,
                shape: vec![recorded],
                data: ArrayData::F64(self.times()[..recorded].to_vec()),
            });
        }
        arrays
    }
}

/// Store values in the precision they were computed in.
pub fn to_array_data<T: Real>(values: Vec<T>) -> ArrayData {
    if T::NAME == "f32" {
        ArrayData::F32(values.into_iter().map(|v| v.to_f64() as f32).collect())
    } else {
        ArrayData::F64(values.into_iter().map(Real::to_f64).collect())
    }
}
