//! Low-rank (factored) operator: `W = U Vᵀ − diag(d)`.

use std::sync::Mutex;

use rayon::prelude::*;

use super::rows_per_task;
use crate::Real;

/// Presynaptic neurons per partial sum of `z = Vᵀ x`; fixed so that the reduction order does not
/// depend on the thread count.
const CHUNK: usize = 1024;

/// `W = U Vᵀ − diag(d)`: `U` is `n_post × R`, `V` is `n_pre × R` (both row-major,
/// `u[i · R + r]`), and the optional `d` (length `min(n_post, n_pre)`) removes autapses.
///
/// Apply, O((n_post + n_pre) · R · lanes):
/// 1. `z[r][l] = Σ_j V_jr x[j][l]` as partial sums over fixed chunks of 1024 presynaptic
///    neurons (in parallel), added in chunk order;
/// 2. `y[i][l] += scale[l] · (Σ_r U_ir z[r][l] − d_i x[i][l])`, rows in parallel.
///
/// The transpose swaps the roles of `U` and `V`.
#[derive(Debug)]
pub struct FactoredOp<T: Real> {
    n_post: usize,
    n_pre: usize,
    rank: usize,
    u: Vec<T>,
    v: Vec<T>,
    diag: Option<Vec<T>>,
    scratch: Mutex<Vec<T>>,
}

impl<T: Real> FactoredOp<T> {
    /// From row-major factors `u` (`n_post × rank`), `v` (`n_pre × rank`) and an optional
    /// diagonal to subtract (length `min(n_post, n_pre)`).
    ///
    /// # Panics
    /// If a length does not match.
    pub fn new(
        n_post: usize,
        n_pre: usize,
        rank: usize,
        u: Vec<T>,
        v: Vec<T>,
        diag: Option<Vec<T>>,
    ) -> Self {
        assert_eq!(u.len(), n_post * rank, "U must be n_post x rank");
        assert_eq!(v.len(), n_pre * rank, "V must be n_pre x rank");
        if let Some(d) = &diag {
            assert_eq!(
                d.len(),
                n_post.min(n_pre),
                "diagonal must have min(n_post, n_pre) entries"
            );
        }
        Self {
            n_post,
            n_pre,
            rank,
            u,
            v,
            diag,
            scratch: Mutex::new(Vec::new()),
        }
    }

    /// From factor columns (`u_cols[r]` of length `n_post`, `v_cols[r]` of length `n_pre`) in f64.
    ///
    /// # Panics
    /// If the column counts or lengths do not match.
    pub fn from_columns(
        n_post: usize,
        n_pre: usize,
        u_cols: &[Vec<f64>],
        v_cols: &[Vec<f64>],
        diag: Option<Vec<f64>>,
    ) -> Self {
        assert_eq!(
            u_cols.len(),
            v_cols.len(),
            "U and V must have the same rank"
        );
        let rank = u_cols.len();
        let interleave = |cols: &[Vec<f64>], n: usize| -> Vec<T> {
            (0..n)
                .flat_map(|i| cols.iter().map(move |c| T::from_f64(c[i])))
                .collect()
        };
        assert!(
            u_cols.iter().all(|c| c.len() == n_post) && v_cols.iter().all(|c| c.len() == n_pre)
        );
        Self::new(
            n_post,
            n_pre,
            rank,
            interleave(u_cols, n_post),
            interleave(v_cols, n_pre),
            diag.map(|d| d.into_iter().map(T::from_f64).collect()),
        )
    }

    /// Rows.
    pub fn n_post(&self) -> usize {
        self.n_post
    }

    /// Columns.
    pub fn n_pre(&self) -> usize {
        self.n_pre
    }

    /// Rank `R`.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// `y += scale ⊙ (U Vᵀ − D) x`.
    pub fn apply_add_scaled(
        &self,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        self.apply(
            &self.u,
            &self.v,
            self.n_post,
            self.n_pre,
            x,
            y,
            lanes,
            scale,
            pool,
        );
    }

    /// `y += scale ⊙ (V Uᵀ − D) x`.
    pub fn apply_transpose_add_scaled(
        &self,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        self.apply(
            &self.v,
            &self.u,
            self.n_pre,
            self.n_post,
            x,
            y,
            lanes,
            scale,
            pool,
        );
    }

    /// `y += scale ⊙ (left rightᵀ − D) x` with `left`: n_out × R, `right`: n_in × R.
    fn apply(
        &self,
        left: &[T],
        right: &[T],
        n_out: usize,
        n_in: usize,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        let rank = self.rank;
        let width = rank * lanes;
        if lanes == 0 || n_out == 0 {
            return;
        }
        let mut guard = self.scratch.try_lock().ok();
        let mut local = Vec::new();
        let z: &mut Vec<T> = match guard.as_deref_mut() {
            Some(v) => v,
            None => &mut local,
        };
        z.clear();
        z.resize(width, T::ZERO);
        project_into(right, rank, n_in, x, lanes, z, pool);
        // 2. y += scale ⊙ (left z − d x), rows in parallel.
        let z: &[T] = z;
        let diag = self.diag.as_deref().unwrap_or(&[]);
        let rows = rows_per_task(n_out, width + lanes);
        let run = |(t, yc): (usize, &mut [T])| {
            for (k, yr) in yc.chunks_exact_mut(lanes).enumerate() {
                let i = t * rows + k;
                let ur = &left[i * rank..(i + 1) * rank];
                for l in 0..lanes {
                    let mut s = T::ZERO;
                    for r in 0..rank {
                        s += ur[r] * z[r * lanes + l];
                    }
                    if i < diag.len() {
                        s -= diag[i] * x[i * lanes + l];
                    }
                    yr[l] += scale[l] * s;
                }
            }
        };
        let y = &mut y[..n_out * lanes];
        if n_out <= rows {
            run((0, y));
        } else {
            pool.install(|| y.par_chunks_mut(rows * lanes).enumerate().for_each(run));
        }
    }

    /// `z = Vᵀ x` (`rank × lanes`, `z[r · lanes + l]`), written into `z`, with the fixed-chunk
    /// reduction of [`FactoredOp::apply_add_scaled`] (bitwise identical for any pool size).
    pub fn project(&self, x: &[T], lanes: usize, z: &mut [T], pool: &rayon::ThreadPool) {
        assert_eq!(x.len(), self.n_pre * lanes, "x must be n_pre x lanes");
        assert_eq!(z.len(), self.rank * lanes, "z must be rank x lanes");
        z.iter_mut().for_each(|v| *v = T::ZERO);
        project_into(&self.v, self.rank, self.n_pre, x, lanes, z, pool);
    }

    /// The left factor `U`, row-major `n_post × rank`.
    pub fn left(&self) -> &[T] {
        &self.u
    }

    /// The right factor `V`, row-major `n_pre × rank`.
    pub fn right(&self) -> &[T] {
        &self.v
    }

    /// Whether a diagonal (the autapses) is subtracted.
    pub fn has_diagonal(&self) -> bool {
        self.diag.is_some()
    }

    /// `n_post · n_pre` less the removed diagonal.
    pub fn synapses(&self) -> u64 {
        (self.n_post * self.n_pre - self.diag.as_ref().map_or(0, |d| d.len())) as u64
    }

    /// Bytes of the factors and diagonal.
    pub fn memory_bytes(&self) -> u64 {
        let n = self.u.len() + self.v.len() + self.diag.as_ref().map_or(0, |d| d.len());
        (n * std::mem::size_of::<T>()) as u64
    }

    pub(super) fn streamed_bytes(&self, _lanes: usize) -> u64 {
        self.memory_bytes()
    }

    /// E.g. `"factored(rank 3)"` or `"factored(rank 1, no autapses)"`.
    pub fn describe(&self) -> String {
        match self.diag {
            Some(_) => format!("factored(rank {}, no autapses)", self.rank),
            None => format!("factored(rank {})", self.rank),
        }
    }

    /// `U Vᵀ − diag(d)` as f64.
    pub fn to_dense(&self) -> Vec<f64> {
        let r = self.rank;
        let mut w = vec![0.0; self.n_post * self.n_pre];
        for i in 0..self.n_post {
            for j in 0..self.n_pre {
                w[i * self.n_pre + j] = (0..r)
                    .map(|k| self.u[i * r + k].to_f64() * self.v[j * r + k].to_f64())
                    .sum();
            }
        }
        if let Some(d) = &self.diag {
            for (i, di) in d.iter().enumerate() {
                w[i * self.n_pre + i] -= di.to_f64();
            }
        }
        w
    }

    /// `n_pre` per row (one less on the removed diagonal).
    pub fn in_degrees(&self) -> Vec<u32> {
        let nd = self.diag.as_ref().map_or(0, |d| d.len());
        (0..self.n_post)
            .map(|i| (self.n_pre - usize::from(i < nd)) as u32)
            .collect()
    }

    /// `n_post` per column (one less on the removed diagonal).
    pub fn out_degrees(&self) -> Vec<u32> {
        let nd = self.diag.as_ref().map_or(0, |d| d.len());
        (0..self.n_pre)
            .map(|j| (self.n_post - usize::from(j < nd)) as u32)
            .collect()
    }
}

/// `z = rightᵀ x` for `right`: `n_in × rank` row-major and `x`: `[n_in][lanes]`, as partial sums
/// over fixed chunks of [`CHUNK`] inputs added in chunk order. `z` must be zero on entry.
///
/// With many lanes the work is split over tiles of lanes (each summing all chunks itself, with its
/// partial sums in registers); otherwise over chunks. Either way every `z[r][l]` is
/// `((0 + p_0) + p_1) + …` with `p_c` summed in input order, so the result does not depend on
/// the lane count or the thread count.
fn project_into<T: Real>(
    right: &[T],
    rank: usize,
    n_in: usize,
    x: &[T],
    lanes: usize,
    z: &mut [T],
    pool: &rayon::ThreadPool,
) {
    let width = rank * lanes;
    if width == 0 {
        return;
    }
    if lanes >= 2 * LANE_TILE {
        return project_tiled(right, rank, n_in, x, lanes, z, pool);
    }
    let partial = |c: usize, p: &mut [T]| {
        for j in c * CHUNK..((c + 1) * CHUNK).min(n_in) {
            let vr = &right[j * rank..(j + 1) * rank];
            let xr = &x[j * lanes..(j + 1) * lanes];
            for (r, &vjr) in vr.iter().enumerate() {
                for (pl, &xl) in p[r * lanes..(r + 1) * lanes].iter_mut().zip(xr) {
                    *pl += vjr * xl;
                }
            }
        }
    };
    let n_chunks = n_in.div_ceil(CHUNK);
    if n_chunks <= 1 {
        partial(0, z);
        return;
    }
    let mut partials = vec![T::ZERO; n_chunks * width];
    pool.install(|| {
        partials
            .par_chunks_mut(width)
            .enumerate()
            .for_each(|(c, p)| partial(c, p))
    });
    for p in partials.chunks(width) {
        for (zk, &pk) in z.iter_mut().zip(p) {
            *zk += pk;
        }
    }
}

/// Lanes per tile of [`project_tiled`].
const LANE_TILE: usize = 64;

/// [`project_into`] split over tiles of lanes.
fn project_tiled<T: Real>(
    right: &[T],
    rank: usize,
    n_in: usize,
    x: &[T],
    lanes: usize,
    z: &mut [T],
    pool: &rayon::ThreadPool,
) {
    // Each tile's result, `[r][k]`, at offset `rank · first lane`.
    let mut out = vec![T::ZERO; rank * lanes];
    let avx2 = super::csr::use_avx2();
    let run = |(t, p): (usize, &mut [T])| {
        let l0 = t * LANE_TILE;
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: the CPU supports AVX2 (checked by `use_avx2`).
            return unsafe { segment_avx2(right, rank, n_in, x, lanes, l0, p) };
        }
        segment(right, rank, n_in, x, lanes, l0, p)
    };
    pool.install(|| {
        out.par_chunks_mut(rank * LANE_TILE)
            .enumerate()
            .for_each(run)
    });
    for (t, p) in out.chunks(rank * LANE_TILE).enumerate() {
        let (l0, w) = (t * LANE_TILE, p.len() / rank);
        for r in 0..rank {
            z[r * lanes + l0..r * lanes + l0 + w].copy_from_slice(&p[r * w..(r + 1) * w]);
        }
    }
}

/// Lanes `l0 .. l0 + w` of `z` (`w = out.len() / rank`) into `out`, `[r][k]`.
#[inline(always)]
fn segment<T: Real>(
    right: &[T],
    rank: usize,
    n_in: usize,
    x: &[T],
    lanes: usize,
    l0: usize,
    out: &mut [T],
) {
    let w = out.len() / rank;
    let mut p = vec![T::ZERO; rank * w];
    for c in 0..n_in.div_ceil(CHUNK) {
        p.iter_mut().for_each(|v| *v = T::ZERO);
        for j in c * CHUNK..((c + 1) * CHUNK).min(n_in) {
            let xr = &x[j * lanes + l0..j * lanes + l0 + w];
            for r in 0..rank {
                let v = right[j * rank + r];
                for (pk, &xk) in p[r * w..(r + 1) * w].iter_mut().zip(xr) {
                    *pk += v * xk;
                }
            }
        }
        for (o, &pk) in out.iter_mut().zip(&p) {
            *o += pk;
        }
    }
}

/// [`segment`] compiled for AVX2 (same operations, same bits).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn segment_avx2<T: Real>(
    right: &[T],
    rank: usize,
    n_in: usize,
    x: &[T],
    lanes: usize,
    l0: usize,
    out: &mut [T],
) {
    segment(right, rank, n_in, x, lanes, l0, out)
}
