//! The element-wise passes of the RateModel's forward and backward steps, and the deterministic
//! split of a batch over threads.
//!
//! Each pass is written once as a plain loop over a block of `lanes × N` values and compiled
//! twice: for the baseline target and, chosen at run time, for AVX2 (eight f32 lanes per
//! instruction instead of four). Both compilations perform the same IEEE operations in the same
//! order on every element (no reductions across elements, no fused multiply–adds), so they give
//! the same bits; `tests::avx2_and_baseline_agree_bitwise` checks this.
//!
//! **Threads.** A batch is cut into blocks of [`LANE_BLOCK`] lanes, a split that depends on the
//! batch size only; each block runs its whole time loop on one thread, and per-block gradients
//! are summed in block order. The result is therefore the same bits for any thread count.

use crate::model::Transfer;
use neuroxide::Real;

/// Lanes (trials) per block of the batch split. Small enough that a block's state
/// (`LANE_BLOCK × N`) stays in the L1/L2 cache, large enough that the per-step GEMMs stay
/// efficient.
pub const LANE_BLOCK: usize = 16;

/// Compile `body` for the baseline target and for AVX2, and call the AVX2 copy when the CPU has
/// it.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$t:ident: Real>($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        $vis fn $name<$t: Real>($($arg: $ty),*) {
            #[inline(always)]
            fn body<$t: Real>($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2<$t: Real>($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

/// f'(x) from y = f(x) alone (true for relu, tanh and the identity).
#[inline(always)]
fn df_from_y<T: Real>(f: Transfer, y: T) -> T {
    match f {
        Transfer::Relu => {
            if y > T::ZERO {
                T::ONE
            } else {
                T::ZERO
            }
        }
        Transfer::Tanh => T::ONE - y * y,
        Transfer::Id => T::ONE,
    }
}

multiversion! {
/// `out = f(x)`.
pub(crate) fn apply<T: Real>(f: Transfer, x: &[T], out: &mut [T]) {
    match f {
        Transfer::Relu => out.iter_mut().zip(x).for_each(|(o, &v)| *o = v.max(T::ZERO)),
        Transfer::Tanh => out.iter_mut().zip(x).for_each(|(o, &v)| *o = v.tanh_inline()),
        Transfer::Id => out.copy_from_slice(&x[..out.len()]),
    }
}
}

multiversion! {
/// The drive's input part, row by row: `drive[b, j] = bias[j] + Σ_k x[b, k] w_in_t[k, j]`
/// (`w_in_t` is `W_in` transposed, `N_in × N`; `None`: the identity readin, `x` is `lanes × N`).
pub(crate) fn input_drive<T: Real>(
    drive: &mut [T],
    n: usize,
    x: &[T],
    n_in: usize,
    w_in_t: Option<&[T]>,
    bias: &[T],
) {
    for (b, row) in drive.chunks_exact_mut(n).enumerate() {
        match w_in_t {
            Some(w) => {
                row.copy_from_slice(bias);
                for k in 0..n_in {
                    let xv = x[b * n_in + k];
                    for (d, &wv) in row.iter_mut().zip(&w[k * n..(k + 1) * n]) {
                        *d += xv * wv;
                    }
                }
            }
            None => {
                for ((d, &xv), &bv) in row.iter_mut().zip(&x[b * n..(b + 1) * n]).zip(bias) {
                    *d = xv + bv;
                }
            }
        }
    }
}
}

multiversion! {
/// R-type Euler update: `pre ← f(pre)` in place (the target), `h_next = h + η (pre − h)`.
pub(crate) fn euler_r<T: Real>(f: Transfer, n: usize, pre: &mut [T], h: &[T], h_next: &mut [T], eta: &[T]) {
    match f {
        Transfer::Relu => pre.iter_mut().for_each(|v| *v = v.max(T::ZERO)),
        Transfer::Tanh => pre.iter_mut().for_each(|v| *v = v.tanh_inline()),
        Transfer::Id => {}
    }
    for ((hn_row, h_row), p_row) in h_next
        .chunks_exact_mut(n)
        .zip(h.chunks_exact(n))
        .zip(pre.chunks_exact(n))
    {
        for (((hn, &hv), &pv), &e) in hn_row.iter_mut().zip(h_row).zip(p_row).zip(eta) {
            *hn = hv + e * (pv - hv);
        }
    }
}
}

multiversion! {
/// Z-type Euler update: `h_next = h + η (u − h)` with `u = pre`, the drive.
pub(crate) fn euler_z<T: Real>(n: usize, pre: &[T], h: &[T], h_next: &mut [T], eta: &[T]) {
    for ((hn_row, h_row), p_row) in h_next
        .chunks_exact_mut(n)
        .zip(h.chunks_exact(n))
        .zip(pre.chunks_exact(n))
    {
        for (((hn, &hv), &pv), &e) in hn_row.iter_mut().zip(h_row).zip(p_row).zip(eta) {
            *hn = hv + e * (pv - hv);
        }
    }
}
}

multiversion! {
/// One R-type backward step for a block. On entry `g` holds ∂L/∂r_{t+1} from later steps and
/// `d_rate` the readout's ∂L/∂r_{t+1}; `target = f(a_t)`. Writes
/// `g += d_rate + c·r_{t+1}`, `δ = g η f'(a_t)`, `∂η += g (f(a_t) − r_t)` (row by row, in lane
/// order), and `g_prev = (1 − η) g`.
pub(crate) fn backward_r<T: Real>(
    f: Transfer,
    n: usize,
    g: &mut [T],
    d_rate: &[T],
    rate_c: T,
    h: &[T],
    h_next: &[T],
    target: &[T],
    eta: &[T],
    delta: &mut [T],
    d_eta: &mut [T],
    g_prev: &mut [T],
) {
    match f {
        Transfer::Relu => backward_r_rows(
            |y: T| if y > T::ZERO { T::ONE } else { T::ZERO },
            n, g, d_rate, rate_c, h, h_next, target, eta, delta, d_eta, g_prev,
        ),
        Transfer::Tanh => backward_r_rows(
            |y: T| T::ONE - y * y,
            n, g, d_rate, rate_c, h, h_next, target, eta, delta, d_eta, g_prev,
        ),
        Transfer::Id => backward_r_rows(
            |_: T| T::ONE,
            n, g, d_rate, rate_c, h, h_next, target, eta, delta, d_eta, g_prev,
        ),
    }
}
}

/// The loops of [`backward_r`] with f' fixed, as zipped row iterators (no bounds checks, so
/// they vectorise).
#[inline(always)]
fn backward_r_rows<T: Real>(
    df: impl Fn(T) -> T + Copy,
    n: usize,
    g: &mut [T],
    d_rate: &[T],
    rate_c: T,
    h: &[T],
    h_next: &[T],
    target: &[T],
    eta: &[T],
    delta: &mut [T],
    d_eta: &mut [T],
    g_prev: &mut [T],
) {
    let rows = g
        .chunks_exact_mut(n)
        .zip(d_rate.chunks_exact(n))
        .zip(h.chunks_exact(n))
        .zip(h_next.chunks_exact(n))
        .zip(target.chunks_exact(n))
        .zip(delta.chunks_exact_mut(n))
        .zip(g_prev.chunks_exact_mut(n));
    for ((((((g_r, dr_r), h_r), hn_r), t_r), de_r), gp_r) in rows {
        let cols = g_r
            .iter_mut()
            .zip(dr_r)
            .zip(h_r)
            .zip(hn_r)
            .zip(t_r)
            .zip(de_r.iter_mut())
            .zip(gp_r.iter_mut())
            .zip(eta.iter().zip(d_eta.iter_mut()));
        for (((((((gv, &dr), &hv), &hn), &y), dv), gp), (&e, de)) in cols {
            let gn = *gv + (dr + rate_c * hn);
            *gv = gn;
            *dv = gn * e * df(y);
            *de += gn * (y - hv);
            *gp = gn * (T::ONE - e);
        }
    }
}

multiversion! {
/// One Z-type backward step for a block (`u_t` = `pre`, states `z`, `rho_next` = ρ_{t+1} =
/// f(z_{t+1})): `g += f'(z_{t+1}) (d_rate + c·ρ_{t+1})`, `δ = g η`, `∂η += g (u_t − z_t)`,
/// `g_prev = (1 − η) g`; the recurrent term f'(z_t) ⊙ (δ W) follows with [`add_df_product`].
pub(crate) fn backward_z<T: Real>(
    f: Transfer,
    n: usize,
    g: &mut [T],
    d_rate: &[T],
    rate_c: T,
    h: &[T],
    rho_next: &[T],
    pre: &[T],
    eta: &[T],
    delta: &mut [T],
    d_eta: &mut [T],
    g_prev: &mut [T],
) {
    let rows = g
        .chunks_exact_mut(n)
        .zip(d_rate.chunks_exact(n))
        .zip(h.chunks_exact(n))
        .zip(rho_next.chunks_exact(n))
        .zip(pre.chunks_exact(n))
        .zip(delta.chunks_exact_mut(n))
        .zip(g_prev.chunks_exact_mut(n));
    for ((((((g_r, dr_r), h_r), rn_r), p_r), de_r), gp_r) in rows {
        let cols = g_r
            .iter_mut()
            .zip(dr_r)
            .zip(h_r)
            .zip(rn_r)
            .zip(p_r)
            .zip(de_r.iter_mut())
            .zip(gp_r.iter_mut())
            .zip(eta.iter().zip(d_eta.iter_mut()));
        for (((((((gv, &dr), &hv), &rho), &u), dv), gp), (&e, de)) in cols {
            let gn = *gv + df_from_y(f, rho) * (dr + rate_c * rho);
            *gv = gn;
            *dv = gn * e;
            *de += gn * (u - hv);
            *gp = gn * (T::ONE - e);
        }
    }
}
}

multiversion! {
/// `out += f'(z) ⊙ b`, given ρ = f(z).
pub(crate) fn add_df_product<T: Real>(f: Transfer, out: &mut [T], rho: &[T], b: &[T]) {
    for ((o, &r), &y) in out.iter_mut().zip(rho).zip(b) {
        *o += df_from_y(f, r) * y;
    }
}
}

/// The number of worker threads for `threads` (0: every available core).
pub fn resolve_threads(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// `items.map(f)` in order, on up to `threads` scoped threads (0: every core), each taking a
/// contiguous run of items. The result does not depend on the thread count as long as `f` is a
/// function of its item only.
pub(crate) fn par_map<I: Send, R: Send>(
    threads: usize,
    items: Vec<I>,
    f: impl Fn(I) -> R + Sync,
) -> Vec<R> {
    let count = items.len();
    let threads = resolve_threads(threads).min(count).max(1);
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let mut chunks: Vec<Vec<I>> = Vec::with_capacity(threads);
    let mut rest = items.into_iter();
    for k in 0..threads {
        let size = (k + 1) * count / threads - k * count / threads;
        chunks.push(rest.by_ref().take(size).collect());
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| s.spawn(move || chunk.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_order_for_any_thread_count() {
        let items: Vec<usize> = (0..11).collect();
        for threads in [1, 2, 3, 16] {
            let out = par_map(threads, items.clone(), |i| i * i);
            assert_eq!(out, items.iter().map(|i| i * i).collect::<Vec<_>>());
        }
    }

    /// The AVX2 and baseline compilations of a pass give the same bits.
    #[test]
    fn avx2_and_baseline_agree_bitwise() {
        let n = 37;
        let lanes = 3;
        let h: Vec<f32> = (0..lanes * n)
            .map(|i| ((i * 7919) % 97) as f32 / 40.0 - 1.2)
            .collect();
        let eta: Vec<f32> = (0..n).map(|j| 0.05 + j as f32 / 100.0).collect();
        for f in [Transfer::Tanh, Transfer::Relu, Transfer::Id] {
            let run = |use_body: bool| {
                let mut pre: Vec<f32> = h.iter().map(|v| v * 2.5 + 0.1).collect();
                let mut next = vec![0.0f32; lanes * n];
                if use_body {
                    // The baseline loop, written out.
                    for v in pre.iter_mut() {
                        *v = f.f(*v);
                    }
                    for i in 0..lanes * n {
                        next[i] = h[i] + eta[i % n] * (pre[i] - h[i]);
                    }
                } else {
                    euler_r(f, n, &mut pre, &h, &mut next, &eta);
                }
                (pre, next)
            };
            let (a, b) = (run(true), run(false));
            assert!(
                a.0.iter()
                    .zip(&b.0)
                    .all(|(x, y)| x.to_bits() == y.to_bits())
            );
            assert!(
                a.1.iter()
                    .zip(&b.1)
                    .all(|(x, y)| x.to_bits() == y.to_bits())
            );
        }
    }
    /// The backward step against its equations written out element by element.
    #[test]
    fn backward_step_matches_its_equations_bitwise() {
        let (n, lanes) = (29, 3);
        let v = |s: f32| -> Vec<f32> { (0..lanes * n).map(|i| (i as f32 * s).sin()).collect() };
        let eta: Vec<f32> = (0..n).map(|j| 0.05 + j as f32 / 100.0).collect();
        let (d_rate, h, h_next, target, c) = (v(1.3), v(0.3), v(0.7), v(2.1), 0.01f32);
        for f in [Transfer::Tanh, Transfer::Relu, Transfer::Id] {
            let df = |y: f32| match f {
                Transfer::Tanh => 1.0 - y * y,
                Transfer::Relu => (y > 0.0) as u8 as f32,
                Transfer::Id => 1.0,
            };
            let mut want = (
                v(0.4),
                vec![0.0; lanes * n],
                vec![0.0; n],
                vec![0.0; lanes * n],
            );
            for i in 0..lanes * n {
                let j = i % n;
                want.0[i] += d_rate[i] + c * h_next[i];
                want.1[i] = want.0[i] * eta[j] * df(target[i]);
                want.2[j] += want.0[i] * (target[i] - h[i]);
                want.3[i] = want.0[i] * (1.0 - eta[j]);
            }
            let mut got = (
                v(0.4),
                vec![0.0; lanes * n],
                vec![0.0; n],
                vec![0.0; lanes * n],
            );
            backward_r(
                f, n, &mut got.0, &d_rate, c, &h, &h_next, &target, &eta, &mut got.1, &mut got.2,
                &mut got.3,
            );
            let bits = |a: &[f32]| a.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&want.0), bits(&got.0), "{f:?}");
            assert_eq!(bits(&want.1), bits(&got.1), "{f:?}");
            assert_eq!(bits(&want.2), bits(&got.2), "{f:?}");
            assert_eq!(bits(&want.3), bits(&got.3), "{f:?}");
        }
    }
}
