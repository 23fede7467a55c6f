//! The per-step products of the recurrence, `C (M × N) (+)= A (M × K) · B`, with few rows M (one
//! block of lanes) and a B that stays the same for a whole pass (the recurrent weights W, or
//! Wᵀ). A general GEMM repacks B on every call, which at M = 16 costs about as much as a fifth of
//! the arithmetic; here B is packed once per pass into column panels and every step runs a
//! register-tiled AVX2/FMA kernel over them (f32 on CPUs with AVX2 and FMA; faer's GEMM
//! otherwise).
//!
//! The kernel sums over k in order for every output element, so its result depends on the
//! inputs only, not on how lanes are split over threads.

use crate::linalg::{gemm, mat};
use neuroxide::Real;
use std::any::TypeId;

/// Columns per panel: two 8-wide f32 registers. With tiles of up to six rows the kernel keeps
/// 12 accumulators, 2 panel values and a broadcast in the 16 AVX registers (BLIS's 6 × 16).
const NR: usize = 16;
/// Rows per tile.
const MR: usize = 6;

/// A `K × N` matrix prepared for [`Packed::product`].
#[derive(Clone, Debug)]
pub(crate) struct Packed<T> {
    k: usize,
    n: usize,
    /// B row-major, for the general path (empty when the panels are used).
    plain: Vec<T>,
    /// The f32 panels (empty when the kernel does not apply): panel p holds columns
    /// `NR·p .. NR·p + NR` of B as K rows of NR values, zero-padded past N.
    panels: Vec<f32>,
}

/// Whether the packed f32 kernel runs on this CPU.
fn kernel_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl<T: Real> Packed<T> {
    /// B = `rows × cols` row-major `b` (K = rows, N = cols).
    pub(crate) fn new(b: &[T], rows: usize, cols: usize) -> Self {
        Self::build(rows, cols, |i, j| b[i * cols + j])
    }

    /// B = wᵀ for `w` row-major `rows × cols` (K = cols, N = rows).
    pub(crate) fn transposed(w: &[T], rows: usize, cols: usize) -> Self {
        Self::build(cols, rows, |i, j| w[j * cols + i])
    }

    fn build(k: usize, n: usize, at: impl Fn(usize, usize) -> T) -> Self {
        let mut plain = Vec::with_capacity(k * n);
        for i in 0..k {
            for j in 0..n {
                plain.push(at(i, j));
            }
        }
        let mut panels = Vec::new();
        if TypeId::of::<T>() == TypeId::of::<f32>() && kernel_available() {
            let np = n.div_ceil(NR);
            panels = vec![0.0f32; np * k * NR];
            for p in 0..np {
                for i in 0..k {
                    for jj in 0..NR.min(n - p * NR) {
                        panels[(p * k + i) * NR + jj] = plain[i * n + p * NR + jj].to_f64() as f32;
                    }
                }
            }
            plain = Vec::new();
        }
        Packed {
            k,
            n,
            plain,
            panels,
        }
    }

    /// `c (m × N) = a (m × K) · B`, or `c += a · B` when `accumulate`; all row-major.
    pub(crate) fn product(&self, c: &mut [T], m: usize, a: &[T], accumulate: bool) {
        let (k, n) = (self.k, self.n);
        assert!(c.len() >= m * n && a.len() >= m * k);
        if m == 0 || n == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if !self.panels.is_empty() && k > 0 {
            // SAFETY: panels are only built for T = f32 (checked by TypeId in `build`), so the
            // slices are f32 slices of the same lengths; the CPU has AVX2 and FMA (checked in
            // `build` too); the lengths are checked by the assert above.
            unsafe {
                let c32 = std::slice::from_raw_parts_mut(c.as_mut_ptr().cast::<f32>(), m * n);
                let a32 = std::slice::from_raw_parts(a.as_ptr().cast::<f32>(), m * k);
                avx2::product(c32, m, n, k, a32, &self.panels, accumulate);
            }
            return;
        }
        gemm(
            c,
            m,
            n,
            mat(a, m, k),
            mat(&self.plain, k, n),
            accumulate,
            T::ONE,
        );
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{MR, NR};
    use std::arch::x86_64::*;

    /// See [`super::Packed::product`]; `c` is `m × n`, `a` is `m × k`, `panels` as packed.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; `c`, `a` and `panels` must have the sizes given.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn product(
        c: &mut [f32],
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        panels: &[f32],
        accumulate: bool,
    ) {
        debug_assert!(c.len() >= m * n && a.len() >= m * k);
        debug_assert!(panels.len() >= n.div_ceil(NR) * k * NR);
        for p in 0..n.div_ceil(NR) {
            let panel = &panels[p * k * NR..(p + 1) * k * NR];
            let col0 = p * NR;
            let cols = NR.min(n - col0);
            let mut row0 = 0;
            // Every row tile of this panel while the panel is in the L1 cache.
            while row0 < m {
                let rows = (m - row0).min(MR);
                // SAFETY: as for this function; the tile lies inside c and a.
                unsafe {
                    match rows {
                        6 => tile::<6>(c, n, col0, cols, a, row0, k, panel, accumulate),
                        5 => tile::<5>(c, n, col0, cols, a, row0, k, panel, accumulate),
                        4 => tile::<4>(c, n, col0, cols, a, row0, k, panel, accumulate),
                        3 => tile::<3>(c, n, col0, cols, a, row0, k, panel, accumulate),
                        2 => tile::<2>(c, n, col0, cols, a, row0, k, panel, accumulate),
                        _ => tile::<1>(c, n, col0, cols, a, row0, k, panel, accumulate),
                    }
                }
                row0 += rows;
            }
        }
    }

    /// Rows `row0 .. row0 + R`, columns `col0 .. col0 + cols` (cols ≤ NR) of `c`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile<const R: usize>(
        c: &mut [f32],
        n: usize,
        col0: usize,
        cols: usize,
        a: &[f32],
        row0: usize,
        k: usize,
        panel: &[f32],
        accumulate: bool,
    ) {
        // SAFETY: the caller guarantees AVX2/FMA and that rows row0 + R ≤ m of `a` (length k
        // each) and the panel (k × NR) exist; every pointer below stays inside them.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); 2]; R];
            let pb = panel.as_ptr();
            let pa = a.as_ptr().add(row0 * k);
            for kk in 0..k {
                let b0 = _mm256_loadu_ps(pb.add(kk * NR));
                let b1 = _mm256_loadu_ps(pb.add(kk * NR + 8));
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let av = _mm256_set1_ps(*pa.add(r * k + kk));
                    acc_r[0] = _mm256_fmadd_ps(av, b0, acc_r[0]);
                    acc_r[1] = _mm256_fmadd_ps(av, b1, acc_r[1]);
                }
            }
            for (r, acc_r) in acc.iter().enumerate() {
                let dst = &mut c[(row0 + r) * n + col0..(row0 + r) * n + col0 + cols];
                if cols == NR {
                    let pd = dst.as_mut_ptr();
                    for (q, &v) in acc_r.iter().enumerate() {
                        let v = if accumulate {
                            _mm256_add_ps(_mm256_loadu_ps(pd.add(8 * q)), v)
                        } else {
                            v
                        };
                        _mm256_storeu_ps(pd.add(8 * q), v);
                    }
                } else {
                    let mut tmp = [0.0f32; NR];
                    for (q, &v) in acc_r.iter().enumerate() {
                        _mm256_storeu_ps(tmp.as_mut_ptr().add(8 * q), v);
                    }
                    for (d, &v) in dst.iter_mut().zip(&tmp) {
                        *d = if accumulate { *d + v } else { v };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        c
    }

    /// Every tile shape (rows 1–4, full and partial panels) against a plain triple loop, for
    /// B given and B = wᵀ, replacing and accumulating.
    #[test]
    fn packed_product_matches_a_triple_loop() {
        for (m, k, n) in [
            (16, 200, 200),
            (5, 7, 3),
            (1, 1, 1),
            (13, 30, 49),
            (3, 16, 32),
        ] {
            let a: Vec<f64> = (0..m * k)
                .map(|i| ((i * 37) % 11) as f64 / 7.0 - 0.6)
                .collect();
            let b: Vec<f64> = (0..k * n)
                .map(|i| ((i * 13) % 17) as f64 / 9.0 - 0.9)
                .collect();
            let want = reference(&a, &b, m, k, n);
            let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
            let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
            // wᵀ = b: w is n × k.
            let w32: Vec<f32> = (0..n * k).map(|i| b32[(i % k) * n + i / k]).collect();
            for packed in [Packed::new(&b32, k, n), Packed::transposed(&w32, n, k)] {
                let mut c = vec![1.0f32; m * n];
                packed.product(&mut c, m, &a32, false);
                for (x, y) in c.iter().zip(&want) {
                    assert!(
                        (*x as f64 - y).abs() < 1e-4 * (1.0 + y.abs()),
                        "{m}×{k}×{n}"
                    );
                }
                packed.product(&mut c, m, &a32, true);
                for (x, y) in c.iter().zip(&want) {
                    assert!((*x as f64 - 2.0 * y).abs() < 2e-4 * (1.0 + y.abs()));
                }
            }
            let p64 = Packed::new(&b, k, n);
            let mut c = vec![0.0; m * n];
            p64.product(&mut c, m, &a, false);
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-12 * (1.0 + y.abs()));
            }
        }
    }
}
