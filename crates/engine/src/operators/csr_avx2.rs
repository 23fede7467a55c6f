//! AVX2 kernels of the CSR operator for `f32` (x86-64 only).
//!
//! They perform exactly the operations of the portable kernel in `csr.rs`, lane by lane and in
//! the same order (edge `e` of a row into partial sum `e mod 4`, `(s0 + s1) + (s2 + s3)`, times
//! the homogeneous weight, times `scale`, added to `y`), only eight lanes at a time, and without
//! FMA, so the results are bitwise identical to the portable kernel. `x` may be a padded copy
//! with a row stride larger than the lane count (see `x_stride` in `csr.rs`).

#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;

use super::csr::Index;

/// The rows of one task. `L = 8·NV + REM` lanes; the last `REM` lanes use masked loads/stores,
/// except with `FULL`, where `x`'s rows are padded to a stride `xs ≥ 8·(NV + 1)` and the last
/// vector of a row is loaded whole (its extra lanes are summed but never stored).
///
/// # Safety
/// The CPU must support AVX2; `xs ≥ L` (with `FULL`, `xs ≥ 8·(NV + 1)`); for every index `j`,
/// `j · xs + xs ≤ x.len()` (or `+ L` without `FULL`); `y.len()` must be
/// `(row_ptr.len() - 1) · L`; `scale.len() >= L`; with `PER_EDGE`, `w` covers the edges.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn rows_f32<
    I: Index,
    const NV: usize,
    const REM: usize,
    const PER_EDGE: bool,
    const FULL: bool,
>(
    row_ptr: &[u64],
    idx: &[I],
    w: &[f32],
    hw: Option<f32>,
    x: &[f32],
    xs: usize,
    scale: &[f32],
    y: &mut [f32],
) {
    let l_total = 8 * NV + REM;
    let mask = {
        let m: [i32; 8] = std::array::from_fn(|k| if k < REM { -1 } else { 0 });
        // SAFETY: reading 8 i32 from an array of 8.
        unsafe { _mm256_loadu_si256(m.as_ptr() as *const __m256i) }
    };
    let xp = x.as_ptr();
    let load = |j: usize, v: usize| -> __m256 {
        // SAFETY: j < n_pre and x holds n_pre rows of stride xs (caller contract); v < NV + 1,
        // the masked load reads only the REM valid lanes, a full last load stays in the padding.
        unsafe {
            let p = xp.add(j * xs + 8 * v);
            if v < NV || FULL {
                _mm256_loadu_ps(p)
            } else {
                _mm256_maskload_ps(p, mask)
            }
        }
    };
    let n_rows = row_ptr.len() - 1;
    for r in 0..n_rows {
        let (e0, e1) = (row_ptr[r] as usize, row_ptr[r + 1] as usize);
        let ids = &idx[e0..e1];
        let zero = _mm256_setzero_ps();
        let mut acc = [[zero; 4]; 5];
        let nvec = NV + usize::from(REM > 0);
        debug_assert!(nvec <= 5);
        let full = ids.len() / 4 * 4;
        let ws = if PER_EDGE { &w[e0..e1] } else { &[][..] };
        for (c, base) in ids.chunks_exact(4).zip((0..).step_by(4)) {
            for s in 0..4 {
                let j = c[s].idx();
                if PER_EDGE {
                    let wv = _mm256_set1_ps(ws[base + s]);
                    for v in 0..nvec {
                        acc[v][s] = _mm256_add_ps(acc[v][s], _mm256_mul_ps(wv, load(j, v)));
                    }
                } else {
                    for v in 0..nvec {
                        acc[v][s] = _mm256_add_ps(acc[v][s], load(j, v));
                    }
                }
            }
        }
        for s in 0..ids.len() - full {
            let j = ids[full + s].idx();
            for v in 0..nvec {
                let t = if PER_EDGE {
                    _mm256_mul_ps(_mm256_set1_ps(ws[full + s]), load(j, v))
                } else {
                    load(j, v)
                };
                acc[v][s] = _mm256_add_ps(acc[v][s], t);
            }
        }
        for v in 0..nvec {
            let a = &acc[v];
            let mut sum = _mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3]));
            if let Some(h) = hw {
                sum = _mm256_mul_ps(_mm256_set1_ps(h), sum);
            }
            // SAFETY: row r of y and scale hold L lanes; the masked forms touch only REM lanes.
            unsafe {
                let yp = y.as_mut_ptr().add(r * l_total + 8 * v);
                let sp = scale.as_ptr().add(8 * v);
                if v < NV {
                    let out =
                        _mm256_add_ps(_mm256_loadu_ps(yp), _mm256_mul_ps(_mm256_loadu_ps(sp), sum));
                    _mm256_storeu_ps(yp, out);
                } else {
                    let out = _mm256_add_ps(
                        _mm256_maskload_ps(yp, mask),
                        _mm256_mul_ps(_mm256_maskload_ps(sp, mask), sum),
                    );
                    _mm256_maskstore_ps(yp, mask, out);
                }
            }
        }
    }
}
