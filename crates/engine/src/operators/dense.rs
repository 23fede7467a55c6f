//! Dense operator (faer GEMM over fixed row blocks).

use std::sync::Mutex;

use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::Real;

/// Rows (of the output) per GEMM call; fixed so that results do not depend on the thread count.
const BLOCK_ROWS: usize = 64;

/// `W` stored dense, row-major (`w[i · n_pre + j]`).
///
/// Apply: `X_s = x ⊙ scale` (each lane column scaled) is formed once in a reused scratch buffer,
/// then `Y[rows] += W[rows, :] · X_s` for fixed blocks of 64 output rows, each block one sequential
/// faer GEMM (`Par::Seq`), blocks spread over the rayon pool. Block boundaries and the GEMM of each
/// block do not depend on the pool, so results are bitwise identical for any thread count.
#[derive(Debug)]
pub struct DenseOp<T: Real> {
    n_post: usize,
    n_pre: usize,
    w: Vec<T>,
    scratch: Mutex<Vec<T>>,
}

impl<T: Real> DenseOp<T> {
    /// The operator of a row-major `n_post × n_pre` matrix.
    ///
    /// # Panics
    /// If `w.len() != n_post * n_pre`.
    pub fn new(n_post: usize, n_pre: usize, w: Vec<T>) -> Self {
        assert_eq!(
            w.len(),
            n_post * n_pre,
            "dense matrix must have n_post x n_pre entries"
        );
        Self {
            n_post,
            n_pre,
            w,
            scratch: Mutex::new(Vec::new()),
        }
    }

    /// Rows.
    pub fn n_post(&self) -> usize {
        self.n_post
    }

    /// Columns.
    pub fn n_pre(&self) -> usize {
        self.n_pre
    }

    /// The row-major entries.
    pub fn weights(&self) -> &[T] {
        &self.w
    }

    /// `y += W (x ⊙ scale)` in `[neuron][lane]` layout.
    pub fn apply_add_scaled(
        &self,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        self.apply(false, x, y, lanes, scale, pool);
    }

    /// `y += Wᵀ (x ⊙ scale)` in `[neuron][lane]` layout.
    pub fn apply_transpose_add_scaled(
        &self,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        self.apply(true, x, y, lanes, scale, pool);
    }

    fn apply(
        &self,
        transpose: bool,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        let (n_out, n_in) = if transpose {
            (self.n_pre, self.n_post)
        } else {
            (self.n_post, self.n_pre)
        };
        if lanes == 0 || n_out == 0 || n_in == 0 {
            return;
        }
        let mut guard = self.scratch.try_lock().ok();
        let mut local = Vec::new();
        let xs: &mut Vec<T> = match guard.as_deref_mut() {
            Some(v) => v,
            None => &mut local,
        };
        xs.clear();
        xs.extend(
            x[..n_in * lanes]
                .chunks_exact(lanes)
                .flat_map(|xr| xr.iter().zip(scale).map(|(&a, &s)| a * s)),
        );
        let xs = MatRef::from_row_major_slice(&xs[..], n_in, lanes);
        let w = MatRef::from_row_major_slice(&self.w[..], self.n_post, self.n_pre);
        let lhs = if transpose { w.transpose() } else { w };
        let block = |(b, yb): (usize, &mut [T])| {
            let r0 = b * BLOCK_ROWS;
            let rows = yb.len() / lanes;
            let dst = MatMut::from_row_major_slice_mut(yb, rows, lanes);
            faer::linalg::matmul::matmul(
                dst,
                Accum::Add,
                lhs.subrows(r0, rows),
                xs,
                T::ONE,
                Par::Seq,
            );
        };
        let y = &mut y[..n_out * lanes];
        if n_out <= BLOCK_ROWS || (n_out * n_in * lanes) < 1 << 15 {
            y.chunks_mut(BLOCK_ROWS * lanes).enumerate().for_each(block);
        } else {
            pool.install(|| {
                y.par_chunks_mut(BLOCK_ROWS * lanes)
                    .enumerate()
                    .for_each(block)
            });
        }
    }

    /// `n_post · n_pre`.
    pub fn synapses(&self) -> u64 {
        (self.n_post * self.n_pre) as u64
    }

    /// The matrix bytes.
    pub fn memory_bytes(&self) -> u64 {
        (self.w.len() * std::mem::size_of::<T>()) as u64
    }

    pub(super) fn streamed_bytes(&self, _lanes: usize) -> u64 {
        self.memory_bytes()
    }

    /// `"dense"`.
    pub fn describe(&self) -> String {
        "dense".to_string()
    }

    /// The matrix as f64.
    pub fn to_dense(&self) -> Vec<f64> {
        self.w.iter().map(|v| v.to_f64()).collect()
    }

    /// Non-zero entries per row.
    pub fn in_degrees(&self) -> Vec<u32> {
        if self.n_pre == 0 {
            return vec![0; self.n_post];
        }
        self.w
            .chunks_exact(self.n_pre)
            .map(|r| r.iter().filter(|v| **v != T::ZERO).count() as u32)
            .collect()
    }

    /// Non-zero entries per column.
    pub fn out_degrees(&self) -> Vec<u32> {
        let mut d = vec![0u32; self.n_pre];
        if self.n_pre == 0 {
            return d;
        }
        for r in self.w.chunks_exact(self.n_pre) {
            for (dj, v) in d.iter_mut().zip(r) {
                *dj += u32::from(*v != T::ZERO);
            }
        }
        d
    }
}
