//! Compressed sparse row operator.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use rayon::prelude::*;

use super::rows_per_task;
use crate::Real;
use crate::connectivity::{EdgeWeights, SparseBlock};

/// Column indices of a [`CsrOp`]: `u16` when `n_pre ≤ 65536` (half the bytes to stream), else
/// `u32`.
#[derive(Clone, Debug, PartialEq)]
pub enum CsrIndices {
    /// 16-bit indices.
    U16(Vec<u16>),
    /// 32-bit indices.
    U32(Vec<u32>),
}

impl CsrIndices {
    fn len(&self) -> usize {
        match self {
            CsrIndices::U16(v) => v.len(),
            CsrIndices::U32(v) => v.len(),
        }
    }

    fn get(&self, e: usize) -> usize {
        match self {
            CsrIndices::U16(v) => v[e] as usize,
            CsrIndices::U32(v) => v[e] as usize,
        }
    }

    fn bytes_per_index(&self) -> u64 {
        match self {
            CsrIndices::U16(_) => 2,
            CsrIndices::U32(_) => 4,
        }
    }
}

/// Weights of a [`CsrOp`].
#[derive(Clone, Debug, PartialEq)]
pub enum CsrWeights<T> {
    /// Every edge has this weight (balanced networks: `J/√K`); no weight array is streamed.
    Homogeneous(T),
    /// One weight per edge, in edge order.
    PerEdge(Vec<T>),
}

/// `W` in compressed sparse row form: row `i`'s edges are `row_ptr[i]..row_ptr[i+1]`, with
/// presynaptic indices `indices[e]` (ascending within a row) and weights `weights`.
///
/// Apply: `y[i·L + l] += scale[l] · Σ_e w_e x[index_e · L + l]`, rows split into tasks of a few
/// hundred rows; each row is summed by one thread with four interleaved partial sums (edge `e` of
/// the row goes to sum `e mod 4`, combined as `(s0 + s1) + (s2 + s3)`), which breaks the
/// add-latency chain while keeping a fixed order. For a homogeneous weight `w` the row sum is
/// `w · Σ_e x`. Lane counts 1, 2, 4, 8, 10 and 16 have unrolled portable kernels, others a
/// generic one. On x86-64 with AVX2 (detected at run time), `f32` with 2 to 16, 20, 24, 32 or 40
/// lanes uses explicit AVX2 kernels (`csr_avx2.rs`), and the portable kernels are compiled a
/// second time with AVX2 enabled; all are bitwise identical (same operations in the same order,
/// no FMA; a test checks it).
///
/// The transpose is applied through a CSR copy of `Wᵀ` built on first use.
#[derive(Debug)]
pub struct CsrOp<T: Real> {
    n_post: usize,
    n_pre: usize,
    row_ptr: Vec<u64>,
    indices: CsrIndices,
    weights: CsrWeights<T>,
    transposed: OnceLock<Box<CsrOp<T>>>,
    /// Reused buffer for the padded copy of `x` (see [`x_stride`]).
    scratch: Mutex<Vec<T>>,
}

impl<T: Real> CsrOp<T> {
    /// Builds the operator from sampled (or explicit) edges; per-edge weights that are all equal
    /// are stored once. Indices are `u16` when `n_pre ≤ 65536`.
    ///
    /// # Panics
    /// If the structure is inconsistent (row pointers, lengths, an index ≥ `n_pre`).
    pub fn from_sparse(block: &SparseBlock) -> Self {
        let weights = match &block.weights {
            EdgeWeights::Homogeneous(w) => CsrWeights::Homogeneous(T::from_f64(*w)),
            EdgeWeights::PerEdge(ws) => match ws.first() {
                Some(&w0) if ws.iter().all(|&w| w == w0) => {
                    CsrWeights::Homogeneous(T::from_f64(w0))
                }
                None => CsrWeights::Homogeneous(T::ZERO),
                _ => CsrWeights::PerEdge(ws.iter().map(|&w| T::from_f64(w)).collect()),
            },
        };
        Self::from_parts(
            block.n_post,
            block.n_pre,
            block.row_ptr.clone(),
            &block.pre,
            weights,
        )
    }

    /// Builds the operator from raw parts (indices given as `u32`, narrowed to `u16` when
    /// `n_pre ≤ 65536`).
    ///
    /// # Panics
    /// If `row_ptr` is not a non-decreasing list of `n_post + 1` offsets from 0 to `pre.len()`,
    /// an index is ≥ `n_pre`, or per-edge weights differ in length from `pre`.
    pub fn from_parts(
        n_post: usize,
        n_pre: usize,
        row_ptr: Vec<u64>,
        pre: &[u32],
        weights: CsrWeights<T>,
    ) -> Self {
        assert_eq!(
            row_ptr.len(),
            n_post + 1,
            "row_ptr must have n_post + 1 entries"
        );
        assert_eq!(row_ptr[0], 0, "row_ptr must start at 0");
        assert_eq!(
            row_ptr[n_post] as usize,
            pre.len(),
            "row_ptr must end at the number of edges"
        );
        assert!(
            row_ptr.windows(2).all(|w| w[0] <= w[1]),
            "row_ptr must be non-decreasing"
        );
        assert!(
            pre.iter().all(|&j| (j as usize) < n_pre),
            "presynaptic index out of range"
        );
        if let CsrWeights::PerEdge(w) = &weights {
            assert_eq!(w.len(), pre.len(), "one weight per edge");
        }
        let indices = if n_pre <= 1 << 16 {
            CsrIndices::U16(pre.iter().map(|&j| j as u16).collect())
        } else {
            CsrIndices::U32(pre.to_vec())
        };
        Self {
            n_post,
            n_pre,
            row_ptr,
            indices,
            weights,
            transposed: OnceLock::new(),
            scratch: Mutex::new(Vec::new()),
        }
    }

    /// Rows (postsynaptic neurons).
    pub fn n_post(&self) -> usize {
        self.n_post
    }

    /// Columns (presynaptic neurons).
    pub fn n_pre(&self) -> usize {
        self.n_pre
    }

    /// Number of stored edges.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row offsets (`n_post + 1`).
    pub fn row_ptr(&self) -> &[u64] {
        &self.row_ptr
    }

    /// Column indices.
    pub fn indices(&self) -> &CsrIndices {
        &self.indices
    }

    /// Edge weights.
    pub fn weights(&self) -> &CsrWeights<T> {
        &self.weights
    }

    /// `y[i·L + l] += scale[l] · Σ_j W_ij x[j·L + l]` (lengths checked by [`super::Operator`]).
    pub fn apply_add_scaled(
        &self,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        assert!(
            x.len() >= self.n_pre * lanes && y.len() >= self.n_post * lanes && scale.len() >= lanes
        );
        if lanes == 0 || self.n_post == 0 {
            return;
        }
        // Gathering x rows that straddle cache lines costs up to twice the L2 traffic: copy `x`
        // into a 64-byte aligned buffer with a power-of-two (or whole-line) row stride, so that
        // every row lies in the fewest lines. The arithmetic is unchanged.
        let xs = x_stride::<T>(lanes);
        let x_bytes = self.n_pre * lanes * std::mem::size_of::<T>();
        let row_align = (xs * std::mem::size_of::<T>()).min(64);
        let copy = x_bytes > PAD_MIN_BYTES
            && (xs != lanes || !(x.as_ptr() as usize).is_multiple_of(row_align));
        let mut guard = None;
        let mut own = Vec::new();
        let xv: &[T] = if copy {
            let buf: &mut Vec<T> = match self.scratch.try_lock() {
                Ok(g) => &mut *guard.insert(g),
                Err(_) => &mut own,
            };
            let per_line = 64 / std::mem::size_of::<T>();
            let len = self.n_pre * xs;
            if buf.len() < len + per_line {
                buf.resize(len + per_line, T::ZERO);
            }
            let off = buf.as_ptr().align_offset(64).min(per_line);
            let dst = &mut buf[off..off + len];
            let rows = 2048;
            let copy_rows = |(d, s): (&mut [T], &[T])| {
                for (dr, sr) in d.chunks_exact_mut(xs).zip(s.chunks_exact(lanes)) {
                    dr[..lanes].copy_from_slice(sr);
                }
            };
            if self.n_pre <= rows {
                copy_rows((dst, &x[..self.n_pre * lanes]));
            } else {
                pool.install(|| {
                    dst.par_chunks_mut(rows * xs)
                        .zip(x[..self.n_pre * lanes].par_chunks(rows * lanes))
                        .for_each(copy_rows)
                });
            }
            &buf[off..off + len]
        } else {
            x
        };
        let xs = if copy { xs } else { lanes };
        let avg = self.nnz() / self.n_post.max(1) + 1;
        let rows = rows_per_task(self.n_post, avg * lanes);
        let run = |(t, yc): (usize, &mut [T])| {
            let r0 = t * rows;
            self.rows_dispatch(r0, r0 + yc.len() / lanes, xv, xs, yc, lanes, scale);
        };
        if self.n_post <= rows {
            run((0, &mut y[..self.n_post * lanes]));
        } else {
            pool.install(|| {
                y[..self.n_post * lanes]
                    .par_chunks_mut(rows * lanes)
                    .enumerate()
                    .for_each(run)
            });
        }
    }

    /// `y[j·L + l] += scale[l] · Σ_i W_ij x[i·L + l]`, through a CSR copy of `Wᵀ` built once.
    pub fn apply_transpose_add_scaled(
        &self,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        self.transpose().apply_add_scaled(x, y, lanes, scale, pool);
    }

    /// `Wᵀ` as a CSR operator (built on first call, then cached).
    pub fn transpose(&self) -> &CsrOp<T> {
        self.transposed.get_or_init(|| {
            let mut row_ptr = vec![0u64; self.n_pre + 1];
            for e in 0..self.nnz() {
                row_ptr[self.indices.get(e) + 1] += 1;
            }
            for j in 0..self.n_pre {
                row_ptr[j + 1] += row_ptr[j];
            }
            let mut fill = row_ptr[..self.n_pre].to_vec();
            let mut post = vec![0u32; self.nnz()];
            let mut w = Vec::new();
            if let CsrWeights::PerEdge(_) = self.weights {
                w = vec![T::ZERO; self.nnz()];
            }
            for i in 0..self.n_post {
                for e in self.row_ptr[i] as usize..self.row_ptr[i + 1] as usize {
                    let j = self.indices.get(e);
                    let at = fill[j] as usize;
                    post[at] = i as u32;
                    if let CsrWeights::PerEdge(ws) = &self.weights {
                        w[at] = ws[e];
                    }
                    fill[j] += 1;
                }
            }
            let weights = match self.weights {
                CsrWeights::Homogeneous(v) => CsrWeights::Homogeneous(v),
                CsrWeights::PerEdge(_) => CsrWeights::PerEdge(w),
            };
            Box::new(CsrOp::from_parts(
                self.n_pre,
                self.n_post,
                row_ptr,
                &post,
                weights,
            ))
        })
    }

    /// Number of edges.
    pub fn synapses(&self) -> u64 {
        self.nnz() as u64
    }

    /// Bytes held: row pointers, indices, weights.
    pub fn memory_bytes(&self) -> u64 {
        self.streamed_bytes(0)
    }

    pub(super) fn streamed_bytes(&self, _lanes: usize) -> u64 {
        let w = match &self.weights {
            CsrWeights::Homogeneous(_) => 0,
            CsrWeights::PerEdge(ws) => (ws.len() * std::mem::size_of::<T>()) as u64,
        };
        self.row_ptr.len() as u64 * 8 + self.nnz() as u64 * self.indices.bytes_per_index() + w
    }

    /// E.g. `"csr(u16, homogeneous)"` or `"csr(u32, per-edge weights)"`.
    pub fn describe(&self) -> String {
        let idx = match self.indices {
            CsrIndices::U16(_) => "u16",
            CsrIndices::U32(_) => "u32",
        };
        let w = match self.weights {
            CsrWeights::Homogeneous(_) => "homogeneous",
            CsrWeights::PerEdge(_) => "per-edge weights",
        };
        format!("csr({idx}, {w})")
    }

    /// Dense copy (duplicated edges summed).
    pub fn to_dense(&self) -> Vec<f64> {
        let mut d = vec![0.0; self.n_post * self.n_pre];
        for i in 0..self.n_post {
            for e in self.row_ptr[i] as usize..self.row_ptr[i + 1] as usize {
                let w = match &self.weights {
                    CsrWeights::Homogeneous(w) => *w,
                    CsrWeights::PerEdge(ws) => ws[e],
                };
                d[i * self.n_pre + self.indices.get(e)] += w.to_f64();
            }
        }
        d
    }

    /// Edges per row.
    pub fn in_degrees(&self) -> Vec<u32> {
        self.row_ptr
            .windows(2)
            .map(|w| (w[1] - w[0]) as u32)
            .collect()
    }

    /// Edges per column.
    pub fn out_degrees(&self) -> Vec<u32> {
        let mut d = vec![0u32; self.n_pre];
        for e in 0..self.nnz() {
            d[self.indices.get(e)] += 1;
        }
        d
    }

    /// Rows `r0..r1` into `y` (which holds exactly those rows): picks the index type, weights,
    /// lane kernel and instruction set.
    fn rows_dispatch(
        &self,
        r0: usize,
        r1: usize,
        x: &[T],
        xs: usize,
        y: &mut [T],
        lanes: usize,
        scale: &[T],
    ) {
        let w: &[T] = match &self.weights {
            CsrWeights::Homogeneous(_) => &[],
            CsrWeights::PerEdge(ws) => ws,
        };
        let hw = match self.weights {
            CsrWeights::Homogeneous(w) => Some(w),
            CsrWeights::PerEdge(_) => None,
        };
        let job = RowJob {
            row_ptr: &self.row_ptr[r0..=r1],
            w,
            hw,
            x,
            xs,
            scale,
            lanes,
        };
        match &self.indices {
            CsrIndices::U16(idx) => job.run(idx, y),
            CsrIndices::U32(idx) => job.run(idx, y),
        }
    }
}

static FORCE_PORTABLE: AtomicBool = AtomicBool::new(false);

/// Testing aid: `true` makes the CSR operator use its portable kernels instead of the AVX2 ones
/// (process-wide). Results are bitwise identical either way; tests use this to check it.
#[doc(hidden)]
pub fn force_portable_kernels(on: bool) {
    FORCE_PORTABLE.store(on, Ordering::Relaxed);
}

/// Whether kernels may use their AVX2 versions (x86-64 CPU with AVX2, not forced portable).
#[inline]
pub(crate) fn use_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        !FORCE_PORTABLE.load(Ordering::Relaxed) && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// An index type that widens to `usize`.
pub(super) trait Index: Copy + Send + Sync {
    fn idx(self) -> usize;

    /// The four indices of `c` (of length 4).
    #[inline(always)]
    fn quad(c: &[Self]) -> [usize; 4] {
        [c[0].idx(), c[1].idx(), c[2].idx(), c[3].idx()]
    }
}

impl Index for u16 {
    #[inline(always)]
    fn idx(self) -> usize {
        self as usize
    }

    /// One 64-bit load instead of four 16-bit ones: with one lane, loads are the bottleneck.
    #[inline(always)]
    fn quad(c: &[Self]) -> [usize; 4] {
        let c: &[u16; 4] = c.try_into().expect("four indices");
        if cfg!(target_endian = "big") {
            return [c[0].idx(), c[1].idx(), c[2].idx(), c[3].idx()];
        }
        // SAFETY: `[u16; 4]` and `[u8; 8]` have the same size and every bit pattern is valid.
        let bytes: [u8; 8] = unsafe { std::mem::transmute_copy(c) };
        let w = u64::from_ne_bytes(bytes);
        [
            (w & 0xffff) as usize,
            ((w >> 16) & 0xffff) as usize,
            ((w >> 32) & 0xffff) as usize,
            (w >> 48) as usize,
        ]
    }
}

impl Index for u32 {
    #[inline(always)]
    fn idx(self) -> usize {
        self as usize
    }
}

/// One task: a run of consecutive rows.
struct RowJob<'a, T> {
    /// Offsets of the task's rows (`rows + 1` entries, absolute edge positions).
    row_ptr: &'a [u64],
    /// Per-edge weights (empty when homogeneous).
    w: &'a [T],
    /// Homogeneous weight.
    hw: Option<T>,
    /// Input rows: row `j` is `x[j·xs..j·xs + lanes]`.
    x: &'a [T],
    /// Row stride of `x` (`≥ lanes`; when `> lanes`, a 64-byte aligned padded copy).
    xs: usize,
    scale: &'a [T],
    lanes: usize,
}

/// `x` smaller than this (bytes) is used in place: it stays in the L1 cache anyway.
const PAD_MIN_BYTES: usize = 32 << 10;

/// Row stride (elements) of the padded copy of `x`: rows of up to 64 bytes are padded to a power
/// of two (so that, 64-byte aligned, none straddles two cache lines), longer ones to whole
/// 64-byte lines.
fn x_stride<T>(lanes: usize) -> usize {
    let size = std::mem::size_of::<T>();
    let bytes = lanes * size;
    let padded = if bytes <= 64 {
        bytes.next_power_of_two()
    } else {
        bytes.next_multiple_of(64)
    };
    padded / size
}

/// Number of interleaved partial sums per row (part of the summation order: do not change).
const SPLIT: usize = 4;

impl<T: Real> RowJob<'_, T> {
    fn run<I: Index>(&self, idx: &[I], y: &mut [T]) {
        #[cfg(target_arch = "x86_64")]
        {
            if use_avx2() {
                if self.run_f32_avx2(idx, y) {
                    return;
                }
                // SAFETY: the CPU supports AVX2 (checked just above).
                unsafe { self.run_avx2(idx, y) };
                return;
            }
        }
        self.run_lanes(idx, y);
    }

    /// The explicit AVX2 kernels for `f32` and 2 to 40 lanes; `false` if not applicable.
    /// The caller has checked that the CPU supports AVX2.
    #[cfg(target_arch = "x86_64")]
    fn run_f32_avx2<I: Index>(&self, idx: &[I], y: &mut [T]) -> bool {
        use super::csr_avx2::rows_f32;
        if std::any::TypeId::of::<T>() != std::any::TypeId::of::<f32>() {
            return false;
        }
        let cast = |v: &[T]| -> &[f32] {
            // SAFETY: T is f32 (checked above), so the slice is a slice of f32.
            unsafe { std::slice::from_raw_parts(v.as_ptr() as *const f32, v.len()) }
        };
        let (w, x, scale) = (cast(self.w), cast(self.x), cast(self.scale));
        let hw = self.hw.map(|v| v.to_f64() as f32);
        // SAFETY: as above.
        let y = unsafe { std::slice::from_raw_parts_mut(y.as_mut_ptr() as *mut f32, y.len()) };
        let rp = self.row_ptr;
        let xs = self.xs;
        // The last, partial vector of a row may be loaded whole when the row stride covers it
        // (a padded copy): the extra lanes are summed but never stored.
        let full = !self.lanes.is_multiple_of(8) && xs >= self.lanes.next_multiple_of(8);
        macro_rules! lanes {
            ($($l:literal),*) => {
                match (self.lanes, hw.is_some(), full) {
                    // SAFETY: AVX2 is present (checked by the caller); indices < n_pre
                    // (`from_parts`), slice lengths checked in `apply_add_scaled`.
                    $(
                        ($l, true, false) => unsafe { rows_f32::<I, { $l / 8 }, { $l % 8 }, false, false>(rp, idx, w, hw, x, xs, scale, y) },
                        ($l, false, false) => unsafe { rows_f32::<I, { $l / 8 }, { $l % 8 }, true, false>(rp, idx, w, hw, x, xs, scale, y) },
                        ($l, true, true) => unsafe { rows_f32::<I, { $l / 8 }, { $l % 8 }, false, true>(rp, idx, w, hw, x, xs, scale, y) },
                        ($l, false, true) => unsafe { rows_f32::<I, { $l / 8 }, { $l % 8 }, true, true>(rp, idx, w, hw, x, xs, scale, y) },
                    )*
                    _ => return false,
                }
            };
        }
        lanes!(
            2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 20, 24, 32, 40
        );
        true
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2<I: Index>(&self, idx: &[I], y: &mut [T]) {
        self.run_lanes(idx, y);
    }

    #[inline(always)]
    fn run_lanes<I: Index>(&self, idx: &[I], y: &mut [T]) {
        match (self.lanes, self.hw.is_some()) {
            (1, true) => self.rows::<I, 1, false>(idx, y),
            (1, false) => self.rows::<I, 1, true>(idx, y),
            (2, true) => self.rows::<I, 2, false>(idx, y),
            (2, false) => self.rows::<I, 2, true>(idx, y),
            (4, true) => self.rows::<I, 4, false>(idx, y),
            (4, false) => self.rows::<I, 4, true>(idx, y),
            (8, true) => self.rows::<I, 8, false>(idx, y),
            (8, false) => self.rows::<I, 8, true>(idx, y),
            (10, true) => self.rows::<I, 10, false>(idx, y),
            (10, false) => self.rows::<I, 10, true>(idx, y),
            (16, true) => self.rows::<I, 16, false>(idx, y),
            (16, false) => self.rows::<I, 16, true>(idx, y),
            (_, true) => self.rows_generic::<I, false>(idx, y),
            (_, false) => self.rows_generic::<I, true>(idx, y),
        }
    }

    /// Fixed lane count `L`; `PER_EDGE`: multiply each term by its edge weight.
    #[inline(always)]
    fn rows<I: Index, const L: usize, const PER_EDGE: bool>(&self, idx: &[I], y: &mut [T]) {
        let x = self.x;
        // One lane is never padded (`x_stride(1) == 1`): a constant stride.
        let xs = if L == 1 { 1 } else { self.xs };
        debug_assert!(xs >= L);
        let row = |j: usize| -> &[T; L] {
            debug_assert!(j * xs + L <= x.len());
            // SAFETY: every index is < n_pre (checked in `from_parts`) and x holds n_pre rows of
            // stride xs >= L (checked in `apply_add_scaled`, or the padded copy), so the L values
            // at j * xs are in bounds; `[T; L]` has the alignment of `T`.
            unsafe { &*(x.as_ptr().add(j * xs) as *const [T; L]) }
        };
        let scale: &[T; L] = self.scale[..L].try_into().expect("scale has L lanes");
        for (r, yr) in y.chunks_exact_mut(L).enumerate() {
            let (e0, e1) = (self.row_ptr[r] as usize, self.row_ptr[r + 1] as usize);
            let ids = &idx[e0..e1];
            let mut acc = [[T::ZERO; L]; SPLIT];
            let full = ids.len() / SPLIT * SPLIT;
            if PER_EDGE {
                let ws = &self.w[e0..e1];
                for (c, wc) in ids.chunks_exact(SPLIT).zip(ws.chunks_exact(SPLIT)) {
                    for s in 0..SPLIT {
                        let (xr, wv) = (row(c[s].idx()), wc[s]);
                        for l in 0..L {
                            acc[s][l] += wv * xr[l];
                        }
                    }
                }
                for s in 0..ids.len() - full {
                    let (xr, wv) = (row(ids[full + s].idx()), ws[full + s]);
                    for l in 0..L {
                        acc[s][l] += wv * xr[l];
                    }
                }
            } else {
                for c in ids.chunks_exact(SPLIT) {
                    let j = I::quad(c);
                    for s in 0..SPLIT {
                        let xr = row(j[s]);
                        for l in 0..L {
                            acc[s][l] += xr[l];
                        }
                    }
                }
                for s in 0..ids.len() - full {
                    let xr = row(ids[full + s].idx());
                    for l in 0..L {
                        acc[s][l] += xr[l];
                    }
                }
            }
            for l in 0..L {
                let mut sum = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]);
                if let Some(w) = self.hw {
                    sum = w * sum;
                }
                yr[l] += scale[l] * sum;
            }
        }
    }

    /// Any lane count: the same summation order as [`Self::rows`], accumulators in a buffer.
    #[inline(always)]
    fn rows_generic<I: Index, const PER_EDGE: bool>(&self, idx: &[I], y: &mut [T]) {
        let (x, lanes) = (self.x, self.lanes);
        let n_rows = self.row_ptr.len() - 1;
        let mut acc = vec![T::ZERO; SPLIT * lanes];
        for r in 0..n_rows {
            let (e0, e1) = (self.row_ptr[r] as usize, self.row_ptr[r + 1] as usize);
            acc.fill(T::ZERO);
            for (k, e) in (e0..e1).enumerate() {
                let j = idx[e].idx();
                let xr = &x[j * self.xs..j * self.xs + lanes];
                let a = &mut acc[(k % SPLIT) * lanes..(k % SPLIT + 1) * lanes];
                if PER_EDGE {
                    let wv = self.w[e];
                    for (a, &xv) in a.iter_mut().zip(xr) {
                        *a += wv * xv;
                    }
                } else {
                    for (a, &xv) in a.iter_mut().zip(xr) {
                        *a += xv;
                    }
                }
            }
            let yr = &mut y[r * lanes..(r + 1) * lanes];
            for l in 0..lanes {
                let mut sum = (acc[l] + acc[lanes + l]) + (acc[2 * lanes + l] + acc[3 * lanes + l]);
                if let Some(w) = self.hw {
                    sum = w * sum;
                }
                yr[l] += self.scale[l] * sum;
            }
        }
    }
}
