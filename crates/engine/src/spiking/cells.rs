//! The neuron update of one block and step: synapses, membrane, spikes, traces.
//!
//! [`update`] is the reference loop, one cell (neuron and lane, index `k = neuron · lanes + lane`
//! within the block) at a time through [`Neuron::step`]. [`update_fast`] runs the AVX2 kernel of
//! `cells_avx2.rs` where it applies (LIF models in `f32`, every lane with the same parameters,
//! an x86-64 CPU with AVX2): it updates eight cells per instruction with the same operations in
//! the same order, lane by lane, so its results are bitwise those of [`update`]; it handles the
//! largest multiple of 8 cells and [`update`] does the rest.

use super::PopulationParams;
use crate::neurons::{Drive, Lif, Neuron};
use crate::real::Real;
use neuroxide_model::SynapseKind;
use std::ops::Range;

/// The state of one block's cells, `[neuron][lane]`, and the input of the step.
pub(super) struct Cells<'a, 'b, T: Real> {
    pub v: &'a mut [T],
    pub w: &'a mut [T],
    pub refractory: &'a mut [u32],
    pub g_exc: &'a mut [T],
    pub g_inh: &'a mut [T],
    pub x_exc: &'a mut [T],
    pub x_inh: &'a mut [T],
    /// The arrival-ring slot of this step (zeroed as it is read).
    pub arrival_exc: &'a mut [T],
    pub arrival_inh: &'a mut [T],
    /// External current of the step, if any input is active.
    pub external: Option<&'a [T]>,
    /// Spike traces (empty without `trace`).
    pub trace: &'a mut [T],
    /// Poisson effects of the step, per drive: (inhibitory, `[neuron][lane]`).
    pub effects: &'b [(bool, &'b [T])],
    /// Index of the block's first neuron in the population.
    pub first: usize,
    pub lanes: usize,
}

/// The reference update of cells `ks`: spikes are appended to `spikes[lane]` in ascending neuron
/// order, the first non-finite `v` is stored in `bad` (neuron, lane) unless one is there.
pub(super) fn update<T: Real>(
    params: &PopulationParams<T>,
    c: &mut Cells<'_, '_, T>,
    ks: Range<usize>,
    spikes: &mut [Vec<u32>],
    bad: &mut Option<(usize, usize)>,
) {
    let kind = params.synapse;
    let lanes = c.lanes;
    for k in ks {
        let l = k % lanes;
        let neuron = c.first + k / lanes;
        let mut a_exc = c.arrival_exc[k];
        let mut a_inh = c.arrival_inh[k];
        c.arrival_exc[k] = T::ZERO;
        c.arrival_inh[k] = T::ZERO;
        for &(inhibitory, effect) in c.effects {
            if inhibitory {
                a_inh += effect[k];
            } else {
                a_exc += effect[k];
            }
        }
        let current = c.external.map_or(T::ZERO, |e| e[k]);
        let (g_exc, g_inh) = (&mut c.g_exc[k], &mut c.g_inh[k]);
        let drive = match kind {
            SynapseKind::Delta => Drive {
                current,
                jump: a_exc + a_inh,
                g_exc: T::ZERO,
                g_inh: T::ZERO,
            },
            SynapseKind::CurrentExp => {
                *g_exc += a_exc;
                *g_inh += a_inh;
                Drive {
                    current: current + *g_exc + *g_inh,
                    ..Drive::default()
                }
            }
            SynapseKind::Filtered => {
                *g_exc += a_exc * params.kick_exc[l];
                *g_inh += a_inh * params.kick_inh[l];
                Drive {
                    current: current + *g_exc + *g_inh,
                    ..Drive::default()
                }
            }
            SynapseKind::CurrentAlpha => {
                c.x_exc[k] += a_exc * params.kick_exc[l];
                c.x_inh[k] += a_inh * params.kick_inh[l];
                Drive {
                    current: current + *g_exc + *g_inh,
                    ..Drive::default()
                }
            }
            SynapseKind::ConductanceExp => {
                *g_exc += a_exc;
                *g_inh += a_inh;
                Drive {
                    current,
                    jump: T::ZERO,
                    g_exc: *g_exc,
                    g_inh: *g_inh,
                }
            }
        };
        let spiked = params.neurons[l].step(&mut c.v[k], &mut c.w[k], &mut c.refractory[k], drive);
        match kind {
            SynapseKind::Delta => {}
            SynapseKind::CurrentExp | SynapseKind::ConductanceExp | SynapseKind::Filtered => {
                *g_exc *= params.decay_exc[l];
                *g_inh *= params.decay_inh[l];
            }
            SynapseKind::CurrentAlpha => {
                *g_exc = params.decay_exc[l] * (*g_exc + params.dt * c.x_exc[k]);
                c.x_exc[k] *= params.decay_exc[l];
                *g_inh = params.decay_inh[l] * (*g_inh + params.dt * c.x_inh[k]);
                c.x_inh[k] *= params.decay_inh[l];
            }
        }
        if spiked {
            spikes[l].push(neuron as u32);
        }
        if let Some(tp) = &params.trace {
            let x = c.trace[k] * tp.decay;
            c.trace[k] = match (spiked, tp.additive) {
                (false, _) => x,
                (true, true) => x + tp.scale,
                (true, false) => tp.scale,
            };
        }
        if bad.is_none() && !c.v[k].is_finite() {
            *bad = Some((neuron, l));
        }
    }
}

/// The LIF model shared by every lane, with the synaptic constants equal across lanes too; `None`
/// if the population is not LIF or its lanes differ (a sweep over a neuron or synapse parameter).
fn uniform_lif<T: Real>(params: &PopulationParams<T>) -> Option<&Lif<T>> {
    let Some(Neuron::Lif(lif)) = params.neurons.first() else {
        return None;
    };
    let same = |x: &[T]| x.iter().all(|&y| y == x[0]);
    let lanes_equal = params
        .neurons
        .iter()
        .all(|n| matches!(n, Neuron::Lif(m) if m.params == lif.params))
        && same(&params.decay_exc)
        && same(&params.decay_inh)
        && same(&params.kick_exc)
        && same(&params.kick_inh);
    lanes_equal.then_some(lif)
}

/// Run the vectorised kernel on the first cells where it applies; returns how many cells it
/// updated (0 if it does not apply), the rest is left to [`update`].
pub(super) fn update_fast<T: Real>(
    params: &PopulationParams<T>,
    c: &mut Cells<'_, '_, T>,
    spikes: &mut [Vec<u32>],
    bad: &mut Option<(usize, usize)>,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if std::any::TypeId::of::<T>() != std::any::TypeId::of::<f32>()
            || !crate::operators::use_avx2()
        {
            return 0;
        }
        let Some(lif) = uniform_lif(params) else {
            return 0;
        };
        let n = c.v.len() / 8 * 8;
        if n == 0 {
            return 0;
        }
        // SAFETY: the CPU supports AVX2 (`use_avx2`), T is f32 (checked above).
        unsafe { super::cells_avx2::update_lif(params, lif, c, n, spikes, bad) };
        n
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (params, c, spikes, bad);
        0
    }
}
