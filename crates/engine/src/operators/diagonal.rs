//! Diagonal (one-to-one) operator.

use rayon::prelude::*;

use crate::Real;

/// Neurons per parallel task (fixed; each element is computed independently anyway).
const BLOCK: usize = 4096;

/// `W = diag(d)` (`n × n`): `y[i][l] += scale[l] · d_i x[i][l]`. It is its own transpose.
#[derive(Debug)]
pub struct DiagonalOp<T: Real> {
    d: Vec<T>,
}

impl<T: Real> DiagonalOp<T> {
    /// The operator `diag(d)`.
    pub fn new(d: Vec<f64>) -> Self {
        Self {
            d: d.into_iter().map(T::from_f64).collect(),
        }
    }

    /// `n`.
    pub fn n_post(&self) -> usize {
        self.d.len()
    }

    /// `n`.
    pub fn n_pre(&self) -> usize {
        self.d.len()
    }

    /// The diagonal.
    pub fn diagonal(&self) -> &[T] {
        &self.d
    }

    /// `y[i][l] += scale[l] · d_i x[i][l]`.
    pub fn apply_add_scaled(
        &self,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        if lanes == 0 {
            return;
        }
        let run = |(b, yc): (usize, &mut [T])| {
            for (k, yr) in yc.chunks_exact_mut(lanes).enumerate() {
                let i = b * BLOCK + k;
                let xr = &x[i * lanes..(i + 1) * lanes];
                for l in 0..lanes {
                    yr[l] += scale[l] * (self.d[i] * xr[l]);
                }
            }
        };
        let y = &mut y[..self.d.len() * lanes];
        if self.d.len() * lanes <= 8 * BLOCK {
            y.chunks_mut(BLOCK * lanes).enumerate().for_each(run);
        } else {
            pool.install(|| y.par_chunks_mut(BLOCK * lanes).enumerate().for_each(run));
        }
    }

    /// Same as [`Self::apply_add_scaled`] (a diagonal is symmetric).
    pub fn apply_transpose_add_scaled(
        &self,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        self.apply_add_scaled(x, y, lanes, scale, pool);
    }

    /// `n`.
    pub fn synapses(&self) -> u64 {
        self.d.len() as u64
    }

    /// Bytes of the diagonal.
    pub fn memory_bytes(&self) -> u64 {
        (self.d.len() * std::mem::size_of::<T>()) as u64
    }

    pub(super) fn streamed_bytes(&self, _lanes: usize) -> u64 {
        self.memory_bytes()
    }

    /// `"diagonal"`.
    pub fn describe(&self) -> String {
        "diagonal".to_string()
    }

    /// `diag(d)` as f64.
    pub fn to_dense(&self) -> Vec<f64> {
        let n = self.d.len();
        let mut w = vec![0.0; n * n];
        for (i, di) in self.d.iter().enumerate() {
            w[i * n + i] = di.to_f64();
        }
        w
    }

    /// One synapse per neuron.
    pub fn in_degrees(&self) -> Vec<u32> {
        vec![1; self.d.len()]
    }

    /// One synapse per neuron.
    pub fn out_degrees(&self) -> Vec<u32> {
        vec![1; self.d.len()]
    }
}
