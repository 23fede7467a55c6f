//! Checkpoints: the whole mutable state of a simulation in the middle of a run, as named arrays
//! (written as `checkpoint.npz` by the command line).
//!
//! What is saved: the step counter and the step the run began at, every rate population's rates,
//! currents and inputs, every channel's current, the low-rank synaptic states, every spiking
//! population's state (membrane, adaptation, refractory counters, synapses, delay rings, spike
//! traces) and the spikes of the last step, the spike rows recorded so far, the spike counts of
//! mean-rate summaries and the spike/event counters, and every recorder's window sums,
//! frame counter and frames. Nothing else changes during a run: every random number is drawn
//! from a counter-based generator keyed by the step, neuron and lane, so restoring the step
//! counter restores the random streams. Values are stored as float64 (exact for f32 states)
//! and restored bit for bit: a restored run continues exactly as the uninterrupted one.

use super::Simulation;
use crate::real::Real;
use crate::results::{ArrayData, NamedArray};

enum Slot<'a, T> {
    Real(&'a mut Vec<T>),
    U32(&'a mut Vec<u32>),
    F64(&'a mut Vec<f64>),
    /// Variable length (recorded spike rows).
    Rows(&'a mut Vec<i64>),
    Count(&'a mut u64),
    Index(&'a mut usize),
    /// Counters (spike counts of summaries, spikes emitted).
    U64(&'a mut Vec<u64>),
}

impl<T: Real> Simulation<T> {
    fn slots(&mut self) -> Vec<(String, Slot<'_, T>)> {
        let mut slots: Vec<(String, Slot<'_, T>)> = vec![
            ("step".into(), Slot::Count(&mut self.step)),
            ("run_first".into(), Slot::Count(&mut self.run_first)),
        ];
        let net = &mut self.net;
        for p in &mut net.populations {
            let n = &p.name;
            slots.push((format!("rate.{n}.rate"), Slot::Real(&mut p.rate)));
            slots.push((format!("rate.{n}.rate_next"), Slot::Real(&mut p.rate_next)));
            slots.push((format!("rate.{n}.current"), Slot::Real(&mut p.current)));
            slots.push((format!("rate.{n}.input"), Slot::Real(&mut p.input)));
            slots.push((format!("rate.{n}.external"), Slot::Real(&mut p.external)));
        }
        for (i, c) in net.channels.iter_mut().enumerate() {
            slots.push((format!("channel.{i}.state"), Slot::Real(&mut c.state)));
            slots.push((format!("channel.{i}.drive"), Slot::Real(&mut c.drive)));
        }
        for (i, z) in self.rate_step.states_mut().enumerate() {
            slots.push((format!("low_rank.{i}"), Slot::Real(z)));
        }
        for (i, p) in net.spiking.populations.iter_mut().enumerate() {
            let s = &mut p.state;
            for (key, buffer) in [
                ("v", &mut s.v),
                ("w", &mut s.w),
                ("g_exc", &mut s.g_exc),
                ("g_inh", &mut s.g_inh),
                ("x_exc", &mut s.x_exc),
                ("x_inh", &mut s.x_inh),
                ("ring_exc", &mut s.ring_exc),
                ("ring_inh", &mut s.ring_inh),
                ("external", &mut s.external),
                ("density", &mut s.density),
                ("trace", &mut s.trace),
            ] {
                slots.push((format!("spiking.{i}.{key}"), Slot::Real(buffer)));
            }
            slots.push((
                format!("spiking.{i}.refractory"),
                Slot::U32(&mut s.refractory),
            ));
        }
        for s in &mut net.stp {
            slots.push((format!("stp.{}.u", s.name), Slot::Real(&mut s.u)));
            slots.push((format!("stp.{}.x", s.name), Slot::Real(&mut s.x)));
        }
        for s in &mut net.spiking.stp {
            slots.push((format!("stp.{}.u", s.name), Slot::F64(&mut s.u)));
            slots.push((format!("stp.{}.x", s.name), Slot::F64(&mut s.x)));
            slots.push((format!("stp.{}.last", s.name), Slot::F64(&mut s.last)));
            slots.push((
                format!("stp.{}.efficacy", s.name),
                Slot::Real(&mut s.efficacy),
            ));
        }
        for (i, m) in net.spiking.spike_monitors.iter_mut().enumerate() {
            slots.push((format!("spike_monitor.{i}.rows"), Slot::Rows(&mut m.rows)));
        }
        for (i, m) in net.spiking.rate_summaries.iter_mut().enumerate() {
            slots.push((format!("rate_summary.{i}.counts"), Slot::U64(&mut m.counts)));
        }
        slots.push((
            "spiking.emitted".into(),
            Slot::U64(&mut net.spiking.emitted),
        ));
        slots.push((
            "spiking.events".into(),
            Slot::Count(&mut net.spiking.events),
        ));
        for (i, r) in net.recorders.iter_mut().enumerate() {
            let (frame, in_window, [sums, mean_sums], data, means) = r.state_mut();
            slots.push((format!("recorder.{i}.frame"), Slot::Index(frame)));
            slots.push((format!("recorder.{i}.in_window"), Slot::Index(in_window)));
            slots.push((format!("recorder.{i}.sums"), Slot::F64(sums)));
            slots.push((format!("recorder.{i}.mean_sums"), Slot::F64(mean_sums)));
            slots.push((format!("recorder.{i}.data"), Slot::Real(data)));
            slots.push((format!("recorder.{i}.means"), Slot::F64(means)));
        }
        slots
    }

    /// The state of the current run, as named arrays (see the module documentation).
    pub fn checkpoint(&mut self) -> Vec<NamedArray> {
        let mut arrays: Vec<NamedArray> = self
            .slots()
            .into_iter()
            .map(|(name, slot)| {
                let data = match slot {
                    Slot::Real(v) => ArrayData::F64(v.iter().map(|x| x.to_f64()).collect()),
                    Slot::U32(v) => ArrayData::I64(v.iter().map(|&x| x as i64).collect()),
                    Slot::F64(v) => ArrayData::F64(v.clone()),
                    Slot::Rows(v) => ArrayData::I64(v.clone()),
                    Slot::Count(c) => ArrayData::I64(vec![*c as i64]),
                    Slot::Index(c) => ArrayData::I64(vec![*c as i64]),
                    Slot::U64(v) => ArrayData::I64(v.iter().map(|&x| x as i64).collect()),
                };
                NamedArray {
                    name,
                    shape: vec![data.len()],
                    data,
                }
            })
            .collect();
        // The spikes of the last step, which arrive at their targets in later steps.
        let mut rows = Vec::new();
        for (p, lanes) in self.net.spiking.spikes.iter().enumerate() {
            for (l, neurons) in lanes.iter().enumerate() {
                for &n in neurons {
                    rows.extend_from_slice(&[p as i64, l as i64, n as i64]);
                }
            }
        }
        arrays.push(NamedArray {
            name: "spiking.last_spikes".into(),
            shape: vec![rows.len() / 3, 3],
            data: ArrayData::I64(rows),
        });
        arrays.extend(crate::plasticity::checkpoint::save(&self.net));
        arrays
    }

    /// Restore a [`Simulation::checkpoint`] taken from a build of the same model (after
    /// [`Simulation::begin_run`]); then [`Simulation::continue_run`] goes on from it. An error
    /// names the array that is missing or does not fit this model.
    pub fn restore(&mut self, arrays: &[NamedArray]) -> Result<(), String> {
        self.restore_matching(arrays, |_| true)
    }

    /// The dynamical state alone: rates, currents, low-rank and STP states, spiking states and
    /// the spikes in flight; not the step counter, recordings or counters. A run started after
    /// [`Simulation::set_state`] with it continues the dynamics of the run it came from (trial
    /// sequences), with its own recordings, step counter and random streams.
    pub fn state(&mut self) -> Vec<NamedArray> {
        // Spike times of STP, relative to the end of the run (the next run's step counter
        // starts again).
        let now = self.step as f64 * self.net.dt_ms;
        self.checkpoint()
            .into_iter()
            .filter(|a| is_state(&a.name) || a.name == "spiking.last_spikes")
            .map(|mut a| {
                if a.name.starts_with("stp.")
                    && a.name.ends_with(".last")
                    && let ArrayData::F64(times) = &mut a.data
                {
                    times.iter_mut().for_each(|t| *t -= now);
                }
                a
            })
            .collect()
    }

    /// Set the dynamical state from [`Simulation::state`] of a build of the same model.
    pub fn set_state(&mut self, arrays: &[NamedArray]) -> Result<(), String> {
        self.restore_matching(arrays, is_state)?;
        let now = self.step as f64 * self.net.dt_ms;
        for s in &mut self.net.spiking.stp {
            s.last.iter_mut().for_each(|t| *t += now);
        }
        Ok(())
    }

    fn restore_matching(
        &mut self,
        arrays: &[NamedArray],
        wanted: fn(&str) -> bool,
    ) -> Result<(), String> {
        let find = |name: &str| {
            arrays.iter().find(|a| a.name == name).ok_or_else(|| {
                format!("the checkpoint has no array `{name}` (is it from another model?)")
            })
        };
        let mismatch = |name: &str, got: usize, want: usize| {
            format!(
                "the checkpoint's `{name}` has {got} values, this model needs {want} (is it from \
                 another model?)"
            )
        };
        let last_spikes = find("spiking.last_spikes")?.data.to_f64();
        let mut slots = self.slots();
        for (name, slot) in &mut slots {
            if !wanted(name) {
                continue;
            }
            let array = find(name)?;
            match (slot, &array.data) {
                (Slot::Real(v), ArrayData::F64(x)) if x.len() == v.len() => {
                    v.iter_mut().zip(x).for_each(|(v, &x)| *v = T::from_f64(x))
                }
                (Slot::U32(v), ArrayData::I64(x)) if x.len() == v.len() => {
                    v.iter_mut().zip(x).for_each(|(v, &x)| *v = x as u32)
                }
                (Slot::F64(v), ArrayData::F64(x)) if x.len() == v.len() => v.copy_from_slice(x),
                (Slot::Rows(v), ArrayData::I64(x)) => **v = x.clone(),
                (Slot::Count(c), ArrayData::I64(x)) if x.len() == 1 => **c = x[0] as u64,
                (Slot::Index(c), ArrayData::I64(x)) if x.len() == 1 => **c = x[0] as usize,
                (Slot::U64(v), ArrayData::I64(x)) if x.len() == v.len() => {
                    v.iter_mut().zip(x).for_each(|(v, &x)| *v = x as u64)
                }
                (slot, data) => {
                    let want = match slot {
                        Slot::Real(v) => v.len(),
                        Slot::U32(v) => v.len(),
                        Slot::F64(v) => v.len(),
                        Slot::U64(v) => v.len(),
                        _ => 1,
                    };
                    return Err(mismatch(name, data.len(), want));
                }
            }
        }
        drop(slots);
        let spiking = &mut self.net.spiking;
        for lanes in &mut spiking.spikes {
            lanes.iter_mut().for_each(Vec::clear);
        }
        for row in last_spikes.chunks_exact(3) {
            let (p, l, n) = (row[0] as usize, row[1] as usize, row[2] as u32);
            match spiking.spikes.get_mut(p).and_then(|lanes| lanes.get_mut(l)) {
                Some(list) => list.push(n),
                None => {
                    return Err(format!(
                        "the checkpoint's `spiking.last_spikes` names population {p}, lane {l}, \
                         which this model lacks"
                    ));
                }
            }
        }
        crate::plasticity::checkpoint::restore(&mut self.net, arrays)
    }
}

/// Whether a checkpoint slot is part of the dynamical state (see [`Simulation::state`]).
fn is_state(name: &str) -> bool {
    let counter = name == "spiking.emitted" || name == "spiking.events";
    !counter
        && ["rate.", "channel.", "low_rank.", "spiking.", "stp."]
            .iter()
            .any(|p| name.starts_with(p))
}
