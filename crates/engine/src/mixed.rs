//! Couplings between rate and spiking populations of one network.
//!
//! * **Spiking → rate.** The rate population sees the presynaptic spike train as a rate,
//!   `S/dt` in Hz (1000/dt_ms per spike of the last step, several for a Poisson source's
//!   multiple spikes), through the projection's weights and its own synaptic filter:
//!   `h_post += scale · W (S/dt)` enters the channel of the projection's `tau_syn` (or the
//!   population's) exactly as a rate projection's `W r` does, so a presynaptic population firing
//!   at ν Hz drives it, on average, as a rate population at rate ν would.
//! * **Rate → spiking.** The spiking population receives the current `scale · W r_pre` (pA,
//!   or the model's current unit), added to its external currents; it has no filter of its own
//!   (the rate population's dynamics are the filter). A constant rate r therefore acts as the
//!   constant current `w r` per synapse.
//!
//! Both read the other side's state at the start of the step (the spikes of the previous step,
//! the rates before this step's update), so a coupling acts from the next step on, and the order
//! in which rate and spiking populations are updated does not matter. The operators are the rate
//! engine's ([`crate::operators`]): their results are bitwise identical for any thread count.

use crate::lower::{Lowered, Projection, RatePopulation};
use crate::operators::Operator;
use crate::real::Real;
use crate::spiking::SpikingNetwork;
use neuroxide_model::Variable;

/// A rate → spiking coupling: `coupled_post += scale[lane] · W r_pre`.
#[derive(Debug)]
pub struct RateToSpiking<T: Real> {
    pub name: String,
    /// Rate population (index among the rate populations).
    pub pre: usize,
    /// Spiking population (index among the spiking populations).
    pub post: usize,
    pub operator: Operator<T>,
    pub scale: Vec<T>,
}

/// The presynaptic values a rate-engine projection reads: the rates of a rate population, or the
/// spike density `S/dt` (Hz) of the last step of a spiking one (filled by [`couple`]).
pub(crate) fn presynaptic<'a, T: Real>(
    populations: &'a [RatePopulation<T>],
    spiking: &'a SpikingNetwork<T>,
    projection: &Projection<T>,
) -> &'a [T] {
    if projection.pre_spiking {
        &spiking.populations[projection.pre].state.density
    } else {
        &populations[projection.pre].rate
    }
}

/// Before a step: the spike densities of the spiking populations that drive rate populations,
/// and the currents of the rate → spiking couplings, both from the state at the start of the
/// step.
pub(crate) fn couple<T: Real>(net: &mut Lowered<T>, pool: &rayon::ThreadPool) {
    for q in 0..net.projections.len() {
        if net.projections[q].pre_spiking {
            let p = net.projections[q].pre;
            net.spiking.variable(p, Variable::Rate);
        }
    }
    let lanes = net.lanes;
    for population in &mut net.spiking.populations {
        population
            .state
            .coupled
            .iter_mut()
            .for_each(|x| *x = T::ZERO);
    }
    for coupling in &net.rate_to_spiking {
        let pre = &net.populations[coupling.pre].rate;
        let post = &mut net.spiking.populations[coupling.post].state.coupled;
        coupling
            .operator
            .apply_add_scaled(pre, post, lanes, &coupling.scale, pool);
    }
}
