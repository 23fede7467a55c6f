//! Runtime coupling operators (DESIGN §4).
//!
//! Each projection block becomes the cheapest operator that is exactly equivalent to its weight
//! matrix `W` (`n_post × n_pre`):
//!
//! | operator | storage | cost per apply |
//! |---|---|---|
//! | [`DenseOp`] | `W` row-major | O(n_post · n_pre · lanes) (faer GEMM) |
//! | [`CsrOp`] | row pointers, u16/u32 indices, one weight or one per edge | O(nnz · lanes) |
//! | [`FactoredOp`] | `W = U Vᵀ − diag(d)`, rank R | O((n_post + n_pre) · R · lanes) |
//! | [`DiagonalOp`] | `d` | O(n · lanes) |
//!
//! State layout is `[neuron][lane]`, lane fastest: `x[j * lanes + l]`. The operators compute
//! `y[i·lanes + l] += scale[l] · Σ_j W_ij x[j·lanes + l]` ([`Operator::apply_add_scaled`]) and the
//! transpose ([`Operator::apply_transpose_add_scaled`]).
//!
//! **Determinism.** Work is split into blocks whose boundaries do not depend on the thread count,
//! and every output element is summed by one thread in a fixed order, so results are bitwise
//! identical for any rayon pool size (and with or without AVX2: no FMA contraction is used).

mod csr;
#[cfg(target_arch = "x86_64")]
mod csr_avx2;
mod dense;
mod diagonal;
mod factored;

pub(crate) use csr::use_avx2;
pub use csr::{CsrIndices, CsrOp, CsrWeights, force_portable_kernels};
pub use dense::DenseOp;
pub use diagonal::DiagonalOp;
pub use factored::FactoredOp;

use crate::Real;
use crate::connectivity::{
    BlockSpec, ConnectivityError, EdgeWeights, Profile, Rule, SparseBlock, angle, dense_weights,
    one_to_one_weights, sample_sparse, validate,
};

/// A coupling operator: one block `W` (`n_post × n_pre`) of a network's coupling matrix.
#[derive(Debug)]
pub enum Operator<T: Real> {
    /// Dense row-major matrix.
    Dense(DenseOp<T>),
    /// Compressed sparse rows.
    Csr(CsrOp<T>),
    /// Low-rank product `U Vᵀ` (minus an optional diagonal).
    Factored(FactoredOp<T>),
    /// Diagonal (one-to-one).
    Diagonal(DiagonalOp<T>),
}

macro_rules! dispatch {
    ($self:expr, $op:ident => $body:expr) => {
        match $self {
            Operator::Dense($op) => $body,
            Operator::Csr($op) => $body,
            Operator::Factored($op) => $body,
            Operator::Diagonal($op) => $body,
        }
    };
}

impl<T: Real> Operator<T> {
    /// Number of postsynaptic neurons (rows of `W`).
    pub fn n_post(&self) -> usize {
        dispatch!(self, op => op.n_post())
    }

    /// Number of presynaptic neurons (columns of `W`).
    pub fn n_pre(&self) -> usize {
        dispatch!(self, op => op.n_pre())
    }

    /// `y[i·lanes + l] += scale[l] · Σ_j W_ij x[j·lanes + l]`.
    ///
    /// `x` has length `n_pre · lanes`, `y` has length `n_post · lanes`, `scale` has length `lanes`.
    /// Runs on `pool`; the result is bitwise identical for any pool size.
    ///
    /// # Panics
    /// If a slice length does not match.
    pub fn apply_add_scaled(
        &self,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        check_lengths(self.n_pre(), self.n_post(), x, y, lanes, scale);
        dispatch!(self, op => op.apply_add_scaled(x, y, lanes, scale, pool))
    }

    /// `y[j·lanes + l] += scale[l] · Σ_i W_ij x[i·lanes + l]` (the transpose, for training).
    ///
    /// `x` has length `n_post · lanes`, `y` has length `n_pre · lanes`.
    ///
    /// # Panics
    /// If a slice length does not match.
    pub fn apply_transpose_add_scaled(
        &self,
        x: &[T],
        y: &mut [T],
        lanes: usize,
        scale: &[T],
        pool: &rayon::ThreadPool,
    ) {
        check_lengths(self.n_post(), self.n_pre(), x, y, lanes, scale);
        dispatch!(self, op => op.apply_transpose_add_scaled(x, y, lanes, scale, pool))
    }

    /// Number of synapses represented: `n_post · n_pre` for dense and factored all-to-all (less
    /// the removed diagonal), nnz for CSR, `n` for diagonal.
    pub fn synapses(&self) -> u64 {
        dispatch!(self, op => op.synapses())
    }

    /// Bytes of memory the operator holds (weights, indices, factors; not scratch buffers).
    pub fn memory_bytes(&self) -> u64 {
        dispatch!(self, op => op.memory_bytes())
    }

    /// Bytes one apply must stream from memory with `lanes` lanes: the operator's data, `x` read
    /// once, and `y` read and written (a lower bound for a roofline figure).
    pub fn bytes_per_apply(&self, lanes: usize) -> u64 {
        let t = std::mem::size_of::<T>() as u64;
        let vectors = (self.n_pre() as u64 + 2 * self.n_post() as u64) * lanes as u64 * t;
        dispatch!(self, op => op.streamed_bytes(lanes)) + vectors
    }

    /// Short description, e.g. `"csr(u16, homogeneous)"`, `"factored(rank 3)"`, `"dense"`.
    pub fn describe(&self) -> String {
        dispatch!(self, op => op.describe())
    }

    /// Dense copy of `W` (`n_post × n_pre`, row-major, f64), for tests and small plots.
    pub fn to_dense(&self) -> Vec<f64> {
        dispatch!(self, op => op.to_dense())
    }

    /// Number of synapses onto each postsynaptic neuron (dense: non-zero entries of the row).
    pub fn in_degrees(&self) -> Vec<u32> {
        dispatch!(self, op => op.in_degrees())
    }

    /// Number of synapses from each presynaptic neuron (dense: non-zero entries of the column).
    pub fn out_degrees(&self) -> Vec<u32> {
        dispatch!(self, op => op.out_degrees())
    }
}

fn check_lengths<T>(n_in: usize, n_out: usize, x: &[T], y: &[T], lanes: usize, scale: &[T]) {
    assert_eq!(
        x.len(),
        n_in * lanes,
        "input has length {}, expected {n_in} neurons x {lanes} lanes",
        x.len()
    );
    assert_eq!(
        y.len(),
        n_out * lanes,
        "output has length {}, expected {n_out} neurons x {lanes} lanes",
        y.len()
    );
    assert_eq!(
        scale.len(),
        lanes,
        "scale has length {}, expected {lanes} lanes",
        scale.len()
    );
}

/// Builds the cheapest exactly equivalent operator for a block, sampling it on `pool`.
///
/// * all-to-all + uniform → [`FactoredOp`] rank 1 (`U = weight·1`, `V = 1`);
/// * all-to-all + cosine → [`FactoredOp`] rank 3, from
///   `cos(θ_i − φ_j − ph) = cos θ_i cos(φ_j + ph) + sin θ_i sin(φ_j + ph)`;
/// * all-to-all + low rank → [`FactoredOp`] rank `[base ≠ 0] + R`;
/// * all-to-all + von Mises / Gaussian → [`DenseOp`];
/// * Bernoulli, fixed in-/out-degree → [`CsrOp`] (no weight array when all weights are equal);
/// * one-to-one → [`DiagonalOp`].
///
/// All-to-all without autapses subtracts the diagonal (`FactoredOp` keeps it as `d`).
pub fn build_operator<T: Real>(
    block: &BlockSpec,
    pool: &rayon::ThreadPool,
) -> Result<Operator<T>, ConnectivityError> {
    validate(block)?;
    let (n_post, n_pre, w) = (block.n_post, block.n_pre, block.weight);
    match (&block.rule, &block.profile) {
        (Rule::OneToOne, _) => Ok(Operator::Diagonal(DiagonalOp::new(one_to_one_weights(
            block,
        )?))),
        (Rule::AllToAll, Profile::VonMises { .. } | Profile::Gaussian) => {
            Ok(dense_operator(n_post, n_pre, dense_weights(block, pool)?))
        }
        (Rule::AllToAll, profile) => {
            let mut u_cols: Vec<Vec<f64>> = Vec::new();
            let mut v_cols: Vec<Vec<f64>> = Vec::new();
            match profile {
                Profile::Uniform => {
                    u_cols.push(vec![w; n_post]);
                    v_cols.push(vec![1.0; n_pre]);
                }
                Profile::Cosine { kappa, phase } => {
                    u_cols.push(vec![w; n_post]);
                    v_cols.push(vec![1.0; n_pre]);
                    u_cols.push(
                        (0..n_post)
                            .map(|i| w * kappa * angle(i, n_post).cos())
                            .collect(),
                    );
                    v_cols.push(
                        (0..n_pre)
                            .map(|j| (angle(j, n_pre) + phase).cos())
                            .collect(),
                    );
                    u_cols.push(
                        (0..n_post)
                            .map(|i| w * kappa * angle(i, n_post).sin())
                            .collect(),
                    );
                    v_cols.push(
                        (0..n_pre)
                            .map(|j| (angle(j, n_pre) + phase).sin())
                            .collect(),
                    );
                }
                Profile::LowRank { base, kappa, m, n } => {
                    if *base != 0.0 {
                        u_cols.push(vec![w * base; n_post]);
                        v_cols.push(vec![1.0; n_pre]);
                    }
                    for (mk, nk) in m.iter().zip(n) {
                        u_cols.push(mk.iter().map(|v| w * kappa * v).collect());
                        v_cols.push(nk.clone());
                    }
                }
                Profile::VonMises { .. } | Profile::Gaussian => unreachable!("dense above"),
            }
            let diag = (!block.autapses).then(|| {
                let n = n_post.min(n_pre);
                (0..n)
                    .map(|i| w * profile.value(i, i, n_post, n_pre))
                    .collect()
            });
            Ok(Operator::Factored(FactoredOp::from_columns(
                n_post, n_pre, &u_cols, &v_cols, diag,
            )))
        }
        _ => Ok(Operator::Csr(CsrOp::from_sparse(&sample_sparse(
            block, pool,
        )?))),
    }
}

/// A [`DenseOp`] from an explicit row-major `n_post × n_pre` matrix.
///
/// # Panics
/// If `w_row_major.len() != n_post * n_pre`.
pub fn dense_operator<T: Real>(n_post: usize, n_pre: usize, w_row_major: Vec<f64>) -> Operator<T> {
    Operator::Dense(DenseOp::new(
        n_post,
        n_pre,
        w_row_major.into_iter().map(T::from_f64).collect(),
    ))
}

/// A [`CsrOp`] from explicit edge lists `post[e] ← pre[e]` (any order; sorted by post, then pre,
/// duplicates kept and summed) with weights `weight[e]` (`None`: all 1). Equal weights are stored
/// once.
///
/// # Panics
/// If the lists differ in length or an index is out of range.
pub fn csr_from_edges<T: Real>(
    n_post: usize,
    n_pre: usize,
    post: &[u32],
    pre: &[u32],
    weight: Option<&[f64]>,
) -> Operator<T> {
    assert_eq!(post.len(), pre.len(), "edge lists differ in length");
    if let Some(w) = weight {
        assert_eq!(
            w.len(),
            post.len(),
            "weight list differs in length from the edge lists"
        );
    }
    let mut order: Vec<usize> = (0..post.len()).collect();
    order.sort_by_key(|&e| (post[e], pre[e]));
    let mut row_ptr = vec![0u64; n_post + 1];
    for &i in post {
        assert!(
            (i as usize) < n_post,
            "postsynaptic index {i} out of range (n_post = {n_post})"
        );
        row_ptr[i as usize + 1] += 1;
    }
    for i in 0..n_post {
        row_ptr[i + 1] += row_ptr[i];
    }
    let pre_sorted: Vec<u32> = order
        .iter()
        .map(|&e| {
            assert!(
                (pre[e] as usize) < n_pre,
                "presynaptic index {} out of range (n_pre = {n_pre})",
                pre[e]
            );
            pre[e]
        })
        .collect();
    let weights = match weight {
        None => EdgeWeights::Homogeneous(1.0),
        Some(w) => EdgeWeights::PerEdge(order.iter().map(|&e| w[e]).collect()),
    };
    Operator::Csr(CsrOp::from_sparse(&SparseBlock {
        n_post,
        n_pre,
        row_ptr,
        pre: pre_sorted,
        weights,
    }))
}

/// Number of rows per parallel task for an operator with `work_per_row` operations per row:
/// about 32k operations per task, at least one row. Results never depend on it (each row is
/// computed by one thread), only load balance does.
pub(crate) fn rows_per_task(n_rows: usize, work_per_row: usize) -> usize {
    (32_768 / work_per_row.max(1)).clamp(1, n_rows.max(1))
}
