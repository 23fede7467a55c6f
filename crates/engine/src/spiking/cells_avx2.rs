//! The AVX2 kernel of the LIF cell update for `f32`: eight cells per instruction.
//!
//! It performs exactly the operations of the reference loop (`cells::update` with
//! [`crate::neurons::Lif::step`], `Membrane::advance` and [`crate::real::exp_f32`]), lane by lane
//! and in the same order, without FMA, so its results are bitwise identical to the reference:
//! both branches of every `if` are computed and the lane's one is selected. Selections follow
//! the scalar semantics where they differ from the instructions': `max(V, V_min)` takes `V_min`
//! when `V` is NaN (as `f32::max`), and `g ≠ 0` is true for NaN (unordered comparison).
//! Arrival slots, Poisson effects, external currents and traces are read and written in the
//! reference's order too.

use super::PopulationParams;
use super::cells::Cells;
use crate::neurons::Lif;
use crate::real::Real;
use neuroxide_model::SynapseKind;
use std::arch::x86_64::*;

/// Synapse kinds as const-generic parameters.
const DELTA: u8 = 0;
const CURRENT_EXP: u8 = 1;
const CURRENT_ALPHA: u8 = 2;
const CONDUCTANCE_EXP: u8 = 3;
const FILTERED: u8 = 4;

/// The constants of the kernel, each broadcast to eight lanes.
struct Consts {
    e_l: __m256,
    g_l: __m256,
    g_l_e_l: __m256,
    minus_dt_over_c: __m256,
    dt_over_c: __m256,
    decay: __m256,
    gain: __m256,
    e_exc: __m256,
    e_inh: __m256,
    v_th: __m256,
    v_reset: __m256,
    v_min: __m256,
    i_e: __m256,
    refractory_steps: __m256i,
    decay_exc: __m256,
    decay_inh: __m256,
    kick_exc: __m256,
    kick_inh: __m256,
    dt: __m256,
    trace_decay: __m256,
    trace_scale: __m256,
}

/// A `T` that is `f32`, as `f32`.
fn f<T: Real>(x: T) -> f32 {
    x.to_f64() as f32
}

/// Update cells `0..n` (`n` a multiple of 8, at most the block's cells) of a block whose lanes
/// all run `lif`.
///
/// # Safety
/// The CPU must support AVX2 and `T` must be `f32`.
pub(super) unsafe fn update_lif<T: Real>(
    params: &PopulationParams<T>,
    lif: &Lif<T>,
    c: &mut Cells<'_, '_, T>,
    n: usize,
    spikes: &mut [Vec<u32>],
    bad: &mut Option<(usize, usize)>,
) {
    debug_assert_eq!(std::any::TypeId::of::<T>(), std::any::TypeId::of::<f32>());
    debug_assert!(n.is_multiple_of(8) && n <= c.v.len());
    let (m, [v_th, v_reset, v_min, i_e]) = lif.derived();
    let trace = params.trace.as_ref();
    // SAFETY (all `_mm256_set1_*`): AVX2 is present (caller contract).
    let k = unsafe {
        Consts {
            e_l: _mm256_set1_ps(f(m.e_l)),
            g_l: _mm256_set1_ps(f(m.g_l)),
            g_l_e_l: _mm256_set1_ps(f(m.g_l) * f(m.e_l)),
            minus_dt_over_c: _mm256_set1_ps(f(m.minus_dt_over_c)),
            dt_over_c: _mm256_set1_ps(f(m.dt_over_c)),
            decay: _mm256_set1_ps(f(m.decay)),
            gain: _mm256_set1_ps(f(m.gain)),
            e_exc: _mm256_set1_ps(f(m.e_exc)),
            e_inh: _mm256_set1_ps(f(m.e_inh)),
            v_th: _mm256_set1_ps(f(v_th)),
            v_reset: _mm256_set1_ps(f(v_reset)),
            v_min: _mm256_set1_ps(f(v_min)),
            i_e: _mm256_set1_ps(f(i_e)),
            refractory_steps: _mm256_set1_epi32(lif.refractory_steps() as i32),
            decay_exc: _mm256_set1_ps(f(params.decay_exc[0])),
            decay_inh: _mm256_set1_ps(f(params.decay_inh[0])),
            kick_exc: _mm256_set1_ps(f(params.kick_exc[0])),
            kick_inh: _mm256_set1_ps(f(params.kick_inh[0])),
            dt: _mm256_set1_ps(f(params.dt)),
            trace_decay: _mm256_set1_ps(trace.map_or(0.0, |t| f(t.decay))),
            trace_scale: _mm256_set1_ps(trace.map_or(0.0, |t| f(t.scale))),
        }
    };
    let cast = |x: &[T]| -> &[f32] {
        // SAFETY: T is f32 (caller contract).
        unsafe { std::slice::from_raw_parts(x.as_ptr().cast::<f32>(), x.len()) }
    };
    let cast_mut = |x: &mut [T]| -> &mut [f32] {
        // SAFETY: T is f32 (caller contract).
        unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<f32>(), x.len()) }
    };
    let effects: Vec<(bool, &[f32])> = c.effects.iter().map(|&(i, e)| (i, cast(e))).collect();
    let mut s = Slices {
        v: cast_mut(c.v),
        refractory: c.refractory,
        g_exc: cast_mut(c.g_exc),
        g_inh: cast_mut(c.g_inh),
        x_exc: cast_mut(c.x_exc),
        x_inh: cast_mut(c.x_inh),
        arrival_exc: cast_mut(c.arrival_exc),
        arrival_inh: cast_mut(c.arrival_inh),
        external: c.external.map(cast),
        trace: cast_mut(c.trace),
        effects: &effects,
    };
    let trace_mode = match trace {
        None => 0,
        Some(t) if t.additive => 1,
        Some(_) => 2,
    };
    let (first, lanes) = (c.first, c.lanes);
    let exact = m.exact;
    macro_rules! run {
        ($($kind:ident => $id:ident),*) => {
            match (params.synapse, exact) {
                $(
                    // SAFETY: AVX2 is present (caller contract); n ≤ the slices' lengths.
                    (SynapseKind::$kind, true) => unsafe { cells::<$id, true>(&k, &mut s, n, trace_mode, first, lanes, spikes, bad) },
                    (SynapseKind::$kind, false) => unsafe { cells::<$id, false>(&k, &mut s, n, trace_mode, first, lanes, spikes, bad) },
                )*
            }
        };
    }
    run!(Delta => DELTA, CurrentExp => CURRENT_EXP, CurrentAlpha => CURRENT_ALPHA,
         ConductanceExp => CONDUCTANCE_EXP, Filtered => FILTERED);
}

/// The block's slices as `f32`.
struct Slices<'a> {
    v: &'a mut [f32],
    refractory: &'a mut [u32],
    g_exc: &'a mut [f32],
    g_inh: &'a mut [f32],
    x_exc: &'a mut [f32],
    x_inh: &'a mut [f32],
    arrival_exc: &'a mut [f32],
    arrival_inh: &'a mut [f32],
    external: Option<&'a [f32]>,
    trace: &'a mut [f32],
    effects: &'a [(bool, &'a [f32])],
}

/// [`crate::real::exp_f32`] on eight lanes, operation for operation.
#[inline]
#[target_feature(enable = "avx2")]
fn exp8(x: __m256) -> __m256 {
    const MAGIC: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let s = _mm256_set1_ps;
    // `clamp`: the second operand is returned when one is NaN, so NaN stays NaN.
    let x = _mm256_min_ps(s(88.0), _mm256_max_ps(s(-87.0), x));
    let n = _mm256_sub_ps(
        _mm256_add_ps(_mm256_mul_ps(x, s(std::f32::consts::LOG2_E)), s(MAGIC)),
        s(MAGIC),
    );
    let r = _mm256_sub_ps(
        _mm256_sub_ps(x, _mm256_mul_ps(n, s(LN2_HI))),
        _mm256_mul_ps(n, s(LN2_LO)),
    );
    let r2 = _mm256_mul_ps(r, r);
    let r4 = _mm256_mul_ps(r2, r2);
    let p01 = _mm256_add_ps(s(1.0), r);
    let p23 = _mm256_add_ps(s(0.5), _mm256_mul_ps(r, s(1.0 / 6.0)));
    let p45 = _mm256_add_ps(s(1.0 / 24.0), _mm256_mul_ps(r, s(1.0 / 120.0)));
    let p67 = _mm256_add_ps(s(1.0 / 720.0), _mm256_mul_ps(r, s(1.0 / 5040.0)));
    let p = _mm256_add_ps(
        _mm256_add_ps(p01, _mm256_mul_ps(r2, p23)),
        _mm256_mul_ps(r4, _mm256_add_ps(p45, _mm256_mul_ps(r2, p67))),
    );
    let scale = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
        _mm256_cvttps_epi32(n),
        _mm256_set1_epi32(127),
    )));
    _mm256_mul_ps(p, scale)
}

/// The cell loop for one synapse kind and integration rule. `trace_mode`: 0 none, 1 additive,
/// 2 reset.
///
/// # Safety
/// The CPU must support AVX2; `n` is a multiple of 8 no larger than any state slice (the trace
/// slice too when `trace_mode > 0`, every effect and the external current).
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn cells<const KIND: u8, const EXACT: bool>(
    k: &Consts,
    s: &mut Slices<'_>,
    n: usize,
    trace_mode: u8,
    first: usize,
    lanes: usize,
    spikes: &mut [Vec<u32>],
    bad: &mut Option<(usize, usize)>,
) {
    assert!(n.is_multiple_of(8) && n <= s.v.len());
    assert!(s.refractory.len() >= n && s.g_exc.len() >= n && s.g_inh.len() >= n);
    assert!(s.arrival_exc.len() >= n && s.arrival_inh.len() >= n);
    assert!(KIND != CURRENT_ALPHA || (s.x_exc.len() >= n && s.x_inh.len() >= n));
    assert!(trace_mode == 0 || s.trace.len() >= n);
    assert!(s.external.is_none_or(|e| e.len() >= n));
    assert!(s.effects.iter().all(|(_, e)| e.len() >= n));
    let zero = _mm256_setzero_ps();
    let inf = _mm256_set1_ps(f32::INFINITY);
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    // SAFETY (loads and stores below): `i + 8 ≤ n` and every slice holds at least `n` values
    // (asserted above).
    let load = |x: &[f32], i: usize| unsafe { _mm256_loadu_ps(x.as_ptr().add(i)) };
    let store =
        |x: &mut [f32], i: usize, y: __m256| unsafe { _mm256_storeu_ps(x.as_mut_ptr().add(i), y) };
    for i in (0..n).step_by(8) {
        // Arrivals of the step, then the Poisson effects in the drives' order.
        let mut a_exc = load(s.arrival_exc, i);
        let mut a_inh = load(s.arrival_inh, i);
        store(s.arrival_exc, i, zero);
        store(s.arrival_inh, i, zero);
        for &(inhibitory, effect) in s.effects {
            if inhibitory {
                a_inh = _mm256_add_ps(a_inh, load(effect, i));
            } else {
                a_exc = _mm256_add_ps(a_exc, load(effect, i));
            }
        }
        let current = s.external.map_or(zero, |e| load(e, i));
        let mut g_exc = load(s.g_exc, i);
        let mut g_inh = load(s.g_inh, i);
        // The drive: (current, jump, g_exc, g_inh).
        let (current, jump, cond_exc, cond_inh) = match KIND {
            DELTA => (current, _mm256_add_ps(a_exc, a_inh), zero, zero),
            CONDUCTANCE_EXP => {
                g_exc = _mm256_add_ps(g_exc, a_exc);
                g_inh = _mm256_add_ps(g_inh, a_inh);
                (current, zero, g_exc, g_inh)
            }
            CURRENT_ALPHA => {
                let x_exc = _mm256_add_ps(load(s.x_exc, i), _mm256_mul_ps(a_exc, k.kick_exc));
                let x_inh = _mm256_add_ps(load(s.x_inh, i), _mm256_mul_ps(a_inh, k.kick_inh));
                store(s.x_exc, i, x_exc);
                store(s.x_inh, i, x_inh);
                (
                    _mm256_add_ps(_mm256_add_ps(current, g_exc), g_inh),
                    zero,
                    zero,
                    zero,
                )
            }
            _ => {
                if KIND == FILTERED {
                    g_exc = _mm256_add_ps(g_exc, _mm256_mul_ps(a_exc, k.kick_exc));
                    g_inh = _mm256_add_ps(g_inh, _mm256_mul_ps(a_inh, k.kick_inh));
                } else {
                    g_exc = _mm256_add_ps(g_exc, a_exc);
                    g_inh = _mm256_add_ps(g_inh, a_inh);
                }
                (
                    _mm256_add_ps(_mm256_add_ps(current, g_exc), g_inh),
                    zero,
                    zero,
                    zero,
                )
            }
        };

        // `Lif::step`.
        let v = load(s.v, i);
        // SAFETY: `i + 8 ≤ n ≤ refractory.len()`.
        let refractory =
            unsafe { _mm256_loadu_si256(s.refractory.as_ptr().add(i).cast::<__m256i>()) };
        let idle = _mm256_cmpeq_epi32(refractory, _mm256_setzero_si256());
        let current = _mm256_add_ps(current, k.i_e);
        let advanced = if KIND != CONDUCTANCE_EXP {
            membrane_current::<EXACT>(k, v, current)
        } else {
            let conductances = _mm256_or_ps(
                _mm256_cmp_ps::<_CMP_NEQ_UQ>(cond_exc, zero),
                _mm256_cmp_ps::<_CMP_NEQ_UQ>(cond_inh, zero),
            );
            let with = membrane_conductance::<EXACT>(k, v, current, cond_exc, cond_inh);
            let without = membrane_current::<EXACT>(k, v, current);
            _mm256_blendv_ps(without, with, conductances)
        };
        let advanced = _mm256_add_ps(advanced, jump);
        // `advanced.max(v_min)`: V_min where advanced < V_min or advanced is NaN.
        let below = _mm256_cmp_ps::<_CMP_NGE_UQ>(advanced, k.v_min);
        let advanced = _mm256_blendv_ps(advanced, k.v_min, below);
        let crossed = _mm256_cmp_ps::<_CMP_GE_OQ>(advanced, k.v_th);
        let spiked = _mm256_and_ps(crossed, _mm256_castsi256_ps(idle));
        // Refractory cells and spiking ones are at V_reset.
        let busy = _mm256_castsi256_ps(_mm256_xor_si256(idle, _mm256_set1_epi32(-1)));
        let at_reset = _mm256_or_ps(spiked, busy);
        let v = _mm256_blendv_ps(advanced, k.v_reset, at_reset);
        store(s.v, i, v);
        // Refractory cells count down (adding −1 where not idle), spiking ones start over.
        let counted =
            _mm256_add_epi32(refractory, _mm256_andnot_si256(idle, _mm256_set1_epi32(-1)));
        let refractory =
            _mm256_blendv_epi8(counted, k.refractory_steps, _mm256_castps_si256(spiked));
        // SAFETY: as the load.
        unsafe {
            _mm256_storeu_si256(
                s.refractory.as_mut_ptr().add(i).cast::<__m256i>(),
                refractory,
            )
        };

        // Synapses decay.
        match KIND {
            DELTA => {}
            CURRENT_ALPHA => {
                let x_exc = load(s.x_exc, i);
                let x_inh = load(s.x_inh, i);
                g_exc = _mm256_mul_ps(
                    k.decay_exc,
                    _mm256_add_ps(g_exc, _mm256_mul_ps(k.dt, x_exc)),
                );
                store(s.x_exc, i, _mm256_mul_ps(x_exc, k.decay_exc));
                g_inh = _mm256_mul_ps(
                    k.decay_inh,
                    _mm256_add_ps(g_inh, _mm256_mul_ps(k.dt, x_inh)),
                );
                store(s.x_inh, i, _mm256_mul_ps(x_inh, k.decay_inh));
            }
            _ => {
                g_exc = _mm256_mul_ps(g_exc, k.decay_exc);
                g_inh = _mm256_mul_ps(g_inh, k.decay_inh);
            }
        }
        if KIND != DELTA {
            store(s.g_exc, i, g_exc);
            store(s.g_inh, i, g_inh);
        }

        let mut bits = _mm256_movemask_ps(spiked) as u32;
        while bits != 0 {
            let cell = i + bits.trailing_zeros() as usize;
            spikes[cell % lanes].push((first + cell / lanes) as u32);
            bits &= bits - 1;
        }
        if trace_mode > 0 {
            let x = _mm256_mul_ps(load(s.trace, i), k.trace_decay);
            let at_spike = if trace_mode == 1 {
                _mm256_add_ps(x, k.trace_scale)
            } else {
                k.trace_scale
            };
            store(s.trace, i, _mm256_blendv_ps(x, at_spike, spiked));
        }
        if bad.is_none() {
            let finite = _mm256_cmp_ps::<_CMP_LT_OQ>(_mm256_and_ps(v, abs_mask), inf);
            let not_finite = !(_mm256_movemask_ps(finite) as u32) & 0xff;
            if not_finite != 0 {
                let cell = i + not_finite.trailing_zeros() as usize;
                *bad = Some((first + cell / lanes, cell % lanes));
            }
        }
    }
}

/// `Membrane::advance` without conductances.
#[inline]
#[target_feature(enable = "avx2")]
fn membrane_current<const EXACT: bool>(k: &Consts, v: __m256, current: __m256) -> __m256 {
    if EXACT {
        // e_l + (v − e_l)·decay + current·gain
        _mm256_add_ps(
            _mm256_add_ps(k.e_l, _mm256_mul_ps(_mm256_sub_ps(v, k.e_l), k.decay)),
            _mm256_mul_ps(current, k.gain),
        )
    } else {
        // v + (dt/C)·(current − g_l (v − e_l))
        let rhs = _mm256_sub_ps(current, _mm256_mul_ps(k.g_l, _mm256_sub_ps(v, k.e_l)));
        _mm256_add_ps(v, _mm256_mul_ps(k.dt_over_c, rhs))
    }
}

/// `Membrane::advance` with conductances.
#[inline]
#[target_feature(enable = "avx2")]
fn membrane_conductance<const EXACT: bool>(
    k: &Consts,
    v: __m256,
    current: __m256,
    g_exc: __m256,
    g_inh: __m256,
) -> __m256 {
    if EXACT {
        let g = _mm256_add_ps(_mm256_add_ps(k.g_l, g_exc), g_inh);
        let numerator = _mm256_add_ps(
            _mm256_add_ps(
                _mm256_add_ps(k.g_l_e_l, _mm256_mul_ps(g_exc, k.e_exc)),
                _mm256_mul_ps(g_inh, k.e_inh),
            ),
            current,
        );
        let v_inf = _mm256_div_ps(numerator, g);
        let decay = exp8(_mm256_mul_ps(k.minus_dt_over_c, g));
        _mm256_add_ps(v_inf, _mm256_mul_ps(_mm256_sub_ps(v, v_inf), decay))
    } else {
        let rhs = _mm256_sub_ps(current, _mm256_mul_ps(k.g_l, _mm256_sub_ps(v, k.e_l)));
        let synaptic = _mm256_add_ps(
            _mm256_mul_ps(g_exc, _mm256_sub_ps(k.e_exc, v)),
            _mm256_mul_ps(g_inh, _mm256_sub_ps(k.e_inh, v)),
        );
        _mm256_add_ps(v, _mm256_mul_ps(k.dt_over_c, _mm256_add_ps(rhs, synaptic)))
    }
}
