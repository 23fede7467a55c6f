//! Dense matrix products on row-major slices (faer, sequential: the same bits for any thread count),
//! and a small symmetric positive-definite solver for ridge regression.

use faer::{Accum, MatMut, MatRef, Par};
use neuroxide::Real;

/// A row-major `rows × cols` view of `data`.
pub(crate) fn mat<T: Real>(data: &[T], rows: usize, cols: usize) -> MatRef<'_, T> {
    MatRef::from_row_major_slice(&data[..rows * cols], rows, cols)
}

/// `dst (m × n) (+)= alpha · a · b`, with `a` and `b` any views of matching shapes.
pub(crate) fn gemm<T: Real>(
    dst: &mut [T],
    m: usize,
    n: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accumulate: bool,
    alpha: T,
) {
    if m == 0 || n == 0 {
        return;
    }
    debug_assert_eq!(a.nrows(), m);
    debug_assert_eq!(b.ncols(), n);
    let dst = MatMut::from_row_major_slice_mut(&mut dst[..m * n], m, n);
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    if a.ncols() == 0 {
        if !accumulate {
            let mut dst = dst;
            for i in 0..m {
                for j in 0..n {
                    dst[(i, j)] = T::ZERO;
                }
            }
        }
        return;
    }
    faer::linalg::matmul::matmul(dst, accum, a, b, alpha, Par::Seq);
}

/// Column sums of a row-major `rows × cols` block added into `out` (length `cols`).
pub(crate) fn add_column_sums<T: Real>(out: &mut [T], data: &[T], cols: usize) {
    for row in data.chunks_exact(cols) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
}

/// Solve `A X = B` for symmetric positive-definite `A` (`n × n`) and `B` (`n × m`), both
/// row-major f64, by faer's Cholesky (LLᵀ) factorisation. `None` when `A` is not positive
/// definite.
pub fn solve_spd(a: &[f64], n: usize, b: &[f64], m: usize) -> Option<Vec<f64>> {
    use faer::linalg::solvers::Solve;
    let a = faer::MatRef::from_row_major_slice(a, n, n);
    let llt = a.llt(faer::Side::Lower).ok()?;
    let mut x = faer::Mat::from_fn(n, m, |i, j| b[i * m + j]);
    llt.solve_in_place(x.as_mut());
    let out: Vec<f64> = (0..n * m).map(|k| x[(k / m, k % m)]).collect();
    out.iter().all(|v| v.is_finite()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_matches_a_hand_product() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2×3
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]; // 3×2
        let mut c = [0.0; 4];
        gemm(&mut c, 2, 2, mat(&a, 2, 3), mat(&b, 3, 2), false, 1.0f64);
        assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
        // aᵀ·a (3×3) through a transposed view
        let mut d = [0.0; 9];
        gemm(
            &mut d,
            3,
            3,
            mat(&a, 2, 3).transpose(),
            mat(&a, 2, 3),
            false,
            1.0f64,
        );
        assert_eq!(d[0], 17.0);
        assert_eq!(d[4], 29.0);
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        let a = [4.0, 1.0, 1.0, 3.0];
        let x = solve_spd(&a, 2, &[1.0, 2.0], 1).unwrap();
        assert!((4.0 * x[0] + x[1] - 1.0).abs() < 1e-12);
        assert!((x[0] + 3.0 * x[1] - 2.0).abs() < 1e-12);
        assert!(solve_spd(&[1.0, 2.0, 2.0, 1.0], 2, &[1.0, 1.0], 1).is_none());
    }
}
