//! Sampling connectivity from rules and profiles.
//!
//! A [`BlockSpec`] describes one block of a coupling matrix `W` (`n_post × n_pre`, row `i` =
//! postsynaptic neuron, column `j` = presynaptic neuron) by a [`Rule`] (which pairs are connected)
//! and a [`Profile`] (how connection probability or weight depends on the pair). All numbers are
//! plain: the model-file layer has already converted units and folded the `J`, `J/√K`, `J/N`
//! scalings into [`BlockSpec::weight`].
//!
//! Semantics:
//! * [`Rule::AllToAll`]: `W_ij = weight · P_ij` (for [`Profile::Gaussian`], `weight · ξ_ij`);
//! * [`Rule::Bernoulli`], [`Rule::FixedInDegree`], [`Rule::FixedOutDegree`]: the profile modulates
//!   the connection probability, `p_ij = clamp(p · P_ij, 0, 1)` (NeuroFlame semantics), and every
//!   edge has weight `weight`, except [`Profile::Gaussian`], which keeps `p` and multiplies each
//!   edge's weight by `ξ_ij ~ N(0, 1)`. The fixed-degree rules accept only the `Uniform` and
//!   `Gaussian` profiles;
//! * [`Rule::OneToOne`]: `W_ii = weight · P_ii` (`n_post == n_pre`).
//!
//! Randomness: postsynaptic row `i` (for [`Rule::FixedOutDegree`], presynaptic column `j`) draws
//! from its own [`CounterRng`]`(seed, stream, row = i)`, so rows are sampled in parallel on the
//! given rayon pool and the result is bitwise identical for any thread count.

use rayon::prelude::*;
use std::f64::consts::TAU;

use crate::rng::CounterRng;

/// Which pairs `(i, j)` are connected.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// Every pair is connected.
    AllToAll,
    /// Each pair independently with probability `p` (modulated by the profile).
    Bernoulli {
        /// Connection probability, in `[0, 1]`.
        p: f64,
    },
    /// Each postsynaptic neuron receives exactly `k` distinct presynaptic partners.
    FixedInDegree {
        /// In-degree of every row.
        k: usize,
    },
    /// Each presynaptic neuron projects to exactly `k` distinct postsynaptic partners.
    FixedOutDegree {
        /// Out-degree of every column.
        k: usize,
    },
    /// Neuron `i` connects to neuron `i` only (requires `n_post == n_pre`).
    OneToOne,
}

/// How the probability (sparse rules) or weight (all-to-all, one-to-one) depends on the pair.
///
/// Angles: `θ_i = 2π i / n_post`, `φ_j = 2π j / n_pre`.
#[derive(Clone, Debug, PartialEq)]
pub enum Profile {
    /// `P_ij = 1`.
    Uniform,
    /// `P_ij = 1 + κ cos(θ_i − φ_j − phase)` (a ring).
    Cosine {
        /// Modulation depth κ.
        kappa: f64,
        /// Phase shift, radians.
        phase: f64,
    },
    /// `P_ij = exp(κ cos(θ_i − φ_j)) / I₀(κ)` (mean 1 over the angle).
    VonMises {
        /// Concentration κ.
        kappa: f64,
    },
    /// `P_ij = base + κ Σ_k m[k][i] n[k][j]` (`m`: rank × n_post, `n`: rank × n_pre).
    LowRank {
        /// Constant part.
        base: f64,
        /// Strength of the low-rank part.
        kappa: f64,
        /// Left vectors, one per rank, each of length `n_post`.
        m: Vec<Vec<f64>>,
        /// Right vectors, one per rank, each of length `n_pre`.
        n: Vec<Vec<f64>>,
    },
    /// Weight multiplier `ξ_ij ~ N(0, 1)` i.i.d. (a random RNN); with sparse rules it multiplies
    /// the weights of the sampled edges.
    Gaussian,
}

/// One block of a coupling matrix to sample.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockSpec {
    /// Number of postsynaptic neurons (rows).
    pub n_post: usize,
    /// Number of presynaptic neurons (columns).
    pub n_pre: usize,
    /// Which pairs are connected.
    pub rule: Rule,
    /// How the pair modulates probability or weight.
    pub profile: Profile,
    /// Final weight scale already including `J` and the `J/√K`, `J/N`, ... scaling.
    pub weight: f64,
    /// `false`: no `i == j` edge (set it only when the block is a population onto itself; it is
    /// ignored by [`Rule::OneToOne`]).
    pub autapses: bool,
    /// Run seed.
    pub seed: u64,
    /// Stream of this projection (see [`crate::rng::stream_id`]).
    pub stream: u64,
}

/// Why a block cannot be sampled.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ConnectivityError {
    /// Probability outside `[0, 1]` or not finite.
    #[error("connection probability p = {0} is not in [0, 1]")]
    BadProbability(f64),
    /// Degree larger than the number of candidates.
    #[error("{rule} degree k = {k} exceeds the {available} available partners")]
    DegreeTooLarge {
        /// `"fixed in-degree"` or `"fixed out-degree"`.
        rule: &'static str,
        /// The requested degree.
        k: usize,
        /// The number of candidate partners (one less than the population without autapses).
        available: usize,
    },
    /// A fixed-degree rule with a profile that would change the degree.
    #[error("{rule} supports only the uniform and gaussian profiles, not {profile}")]
    UnsupportedProfile {
        /// The rule name.
        rule: &'static str,
        /// The profile name.
        profile: &'static str,
    },
    /// One-to-one between populations of different sizes.
    #[error(
        "one-to-one connectivity needs equal sizes, got {n_post} postsynaptic and {n_pre} presynaptic neurons"
    )]
    OneToOneSize {
        /// Postsynaptic size.
        n_post: usize,
        /// Presynaptic size.
        n_pre: usize,
    },
    /// Low-rank vectors of the wrong number or length.
    #[error("low-rank profile: {0}")]
    LowRankShape(String),
    /// A non-finite parameter.
    #[error("{what} = {value} is not finite")]
    NotFinite {
        /// Parameter name.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// Too many neurons for 32-bit indices.
    #[error("population of {0} neurons is too large (at most 2^32 - 1)")]
    TooLarge(usize),
}

impl Profile {
    /// Short name for messages (`"cosine"`, `"von_mises"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Profile::Uniform => "uniform",
            Profile::Cosine { .. } => "cosine",
            Profile::VonMises { .. } => "von_mises",
            Profile::LowRank { .. } => "low_rank",
            Profile::Gaussian => "gaussian",
        }
    }

    /// The deterministic profile value `P_ij` (1 for `Uniform` and `Gaussian`, whose randomness is
    /// drawn separately). `n_post`, `n_pre` set the angles `θ_i = 2π i/n_post`, `φ_j = 2π j/n_pre`.
    pub fn value(&self, i: usize, j: usize, n_post: usize, n_pre: usize) -> f64 {
        match self {
            Profile::Uniform | Profile::Gaussian => 1.0,
            Profile::Cosine { kappa, phase } => {
                1.0 + kappa * (angle(i, n_post) - angle(j, n_pre) - phase).cos()
            }
            Profile::VonMises { kappa } => {
                (kappa * (angle(i, n_post) - angle(j, n_pre)).cos()).exp() / bessel_i0(*kappa)
            }
            Profile::LowRank { base, kappa, m, n } => {
                base + kappa * m.iter().zip(n).map(|(mk, nk)| mk[i] * nk[j]).sum::<f64>()
            }
        }
    }

    /// An upper bound of `P_ij` over row `i` (used for thinning).
    fn row_max(&self, i: usize) -> f64 {
        match self {
            Profile::Uniform | Profile::Gaussian => 1.0,
            Profile::Cosine { kappa, .. } => 1.0 + kappa.abs(),
            Profile::VonMises { kappa } => kappa.abs().exp() / bessel_i0(*kappa),
            Profile::LowRank { base, kappa, m, n } => {
                base + kappa.abs()
                    * m.iter()
                        .zip(n)
                        .map(|(mk, nk)| mk[i].abs() * nk.iter().fold(0.0f64, |a, v| a.max(v.abs())))
                        .sum::<f64>()
            }
        }
    }
}

/// The angle `2π k / n` of neuron `k` of `n` on a ring.
#[inline]
pub fn angle(k: usize, n: usize) -> f64 {
    TAU * k as f64 / n as f64
}

/// Modified Bessel function of the first kind of order 0, `I₀(x) = Σ_k (x²/4)^k / (k!)²`.
///
/// Power series for `|x| ≤ 30` (relative error ~1e-16); the asymptotic expansion
/// `eˣ/√(2πx) · (1 + 1/(8x) + 9/(128x²) + ...)` beyond.
pub fn bessel_i0(x: f64) -> f64 {
    let ax = x.abs();
    if ax <= 30.0 {
        let q = 0.25 * ax * ax;
        let (mut term, mut sum, mut k) = (1.0f64, 1.0f64, 1.0f64);
        while term > sum * 1e-17 {
            term *= q / (k * k);
            sum += term;
            k += 1.0;
        }
        sum
    } else {
        let (mut term, mut sum) = (1.0f64, 1.0f64);
        for k in 1..12 {
            let c = (2 * k - 1) as f64;
            term *= c * c / (8.0 * k as f64 * ax);
            sum += term;
        }
        ax.exp() / (TAU * ax).sqrt() * sum
    }
}

/// Weights of the edges of a sampled sparse block.
#[derive(Clone, Debug, PartialEq)]
pub enum EdgeWeights {
    /// Every edge has this weight.
    Homogeneous(f64),
    /// One weight per edge, in edge (CSR) order.
    PerEdge(Vec<f64>),
}

/// A sampled sparse block in compressed sparse row form (post-major).
///
/// Row `i`'s presynaptic indices are `pre[row_ptr[i]..row_ptr[i+1]]`, ascending and distinct.
#[derive(Clone, Debug, PartialEq)]
pub struct SparseBlock {
    /// Number of rows (postsynaptic neurons).
    pub n_post: usize,
    /// Number of columns (presynaptic neurons).
    pub n_pre: usize,
    /// Row offsets, length `n_post + 1`.
    pub row_ptr: Vec<u64>,
    /// Presynaptic index of each edge.
    pub pre: Vec<u32>,
    /// Edge weights.
    pub weights: EdgeWeights,
}

impl SparseBlock {
    /// Number of edges.
    pub fn nnz(&self) -> usize {
        self.pre.len()
    }

    /// In-degree of each postsynaptic neuron.
    pub fn in_degrees(&self) -> Vec<u32> {
        self.row_ptr
            .windows(2)
            .map(|w| (w[1] - w[0]) as u32)
            .collect()
    }

    /// Out-degree of each presynaptic neuron.
    pub fn out_degrees(&self) -> Vec<u32> {
        let mut d = vec![0u32; self.n_pre];
        for &j in &self.pre {
            d[j as usize] += 1;
        }
        d
    }
}

/// Checks the parameters of a block that every rule needs.
pub fn validate(block: &BlockSpec) -> Result<(), ConnectivityError> {
    for n in [block.n_post, block.n_pre] {
        if n > u32::MAX as usize {
            return Err(ConnectivityError::TooLarge(n));
        }
    }
    if !block.weight.is_finite() {
        return Err(ConnectivityError::NotFinite {
            what: "weight",
            value: block.weight,
        });
    }
    match &block.profile {
        Profile::Cosine { kappa, phase } => {
            finite("kappa", *kappa)?;
            finite("phase", *phase)?;
        }
        Profile::VonMises { kappa } => finite("kappa", *kappa)?,
        Profile::LowRank { base, kappa, m, n } => {
            finite("base", *base)?;
            finite("kappa", *kappa)?;
            if m.len() != n.len() {
                return Err(ConnectivityError::LowRankShape(format!(
                    "{} left vectors but {} right vectors",
                    m.len(),
                    n.len()
                )));
            }
            for (k, (mk, nk)) in m.iter().zip(n).enumerate() {
                if mk.len() != block.n_post || nk.len() != block.n_pre {
                    return Err(ConnectivityError::LowRankShape(format!(
                        "rank {k}: m has length {} (expected n_post = {}), n has length {} (expected n_pre = {})",
                        mk.len(),
                        block.n_post,
                        nk.len(),
                        block.n_pre
                    )));
                }
                if let Some(v) = mk.iter().chain(nk).find(|v| !v.is_finite()) {
                    return Err(ConnectivityError::NotFinite {
                        what: "low-rank vector entry",
                        value: *v,
                    });
                }
            }
        }
        Profile::Uniform | Profile::Gaussian => {}
    }
    match block.rule {
        Rule::Bernoulli { p } if !(0.0..=1.0).contains(&p) => {
            Err(ConnectivityError::BadProbability(p))
        }
        Rule::FixedInDegree { .. } | Rule::FixedOutDegree { .. }
            if !matches!(block.profile, Profile::Uniform | Profile::Gaussian) =>
        {
            Err(ConnectivityError::UnsupportedProfile {
                rule: if matches!(block.rule, Rule::FixedInDegree { .. }) {
                    "fixed in-degree"
                } else {
                    "fixed out-degree"
                },
                profile: block.profile.name(),
            })
        }
        Rule::FixedInDegree { k } => {
            let available = candidates(block.n_pre, block.autapses);
            if block.n_post > 0 && k > available {
                return Err(ConnectivityError::DegreeTooLarge {
                    rule: "fixed in-degree",
                    k,
                    available,
                });
            }
            Ok(())
        }
        Rule::FixedOutDegree { k } => {
            let available = candidates(block.n_post, block.autapses);
            if block.n_pre > 0 && k > available {
                return Err(ConnectivityError::DegreeTooLarge {
                    rule: "fixed out-degree",
                    k,
                    available,
                });
            }
            Ok(())
        }
        Rule::OneToOne if block.n_post != block.n_pre => Err(ConnectivityError::OneToOneSize {
            n_post: block.n_post,
            n_pre: block.n_pre,
        }),
        _ => Ok(()),
    }
}

fn finite(what: &'static str, value: f64) -> Result<(), ConnectivityError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(ConnectivityError::NotFinite { what, value })
    }
}

/// Number of candidate partners out of `n` (one less without autapses; the caller only sets
/// `autapses = false` for a population onto itself).
fn candidates(n: usize, autapses: bool) -> usize {
    if autapses { n } else { n.saturating_sub(1) }
}

/// Samples a sparse rule ([`Rule::Bernoulli`], [`Rule::FixedInDegree`], [`Rule::FixedOutDegree`])
/// or materialises [`Rule::OneToOne`] as edges, on `pool`.
///
/// * Bernoulli: geometric skipping at `p_max = clamp(p · max_j P_ij, 0, 1)` (gap
///   `⌊ln U / ln(1 − p_max)⌋`), each candidate accepted with probability `p_ij / p_max`
///   (thinning, exact); cost O(edges / acceptance) instead of O(n_post · n_pre).
/// * Fixed in-degree: `k` distinct presynaptic indices per row (Floyd's algorithm), sorted.
/// * Fixed out-degree: `k` distinct postsynaptic indices per column, then transposed to rows.
///
/// With [`Profile::Gaussian`], edge weights are `weight · ξ` with `ξ` drawn after the indices of
/// the row (column for fixed out-degree), in edge order.
///
/// # Errors
/// See [`validate`]; [`Rule::AllToAll`] is accepted too (every pair, in row order).
pub fn sample_sparse(
    block: &BlockSpec,
    pool: &rayon::ThreadPool,
) -> Result<SparseBlock, ConnectivityError> {
    validate(block)?;
    let gaussian = matches!(block.profile, Profile::Gaussian);
    let rows: Vec<(Vec<u32>, Vec<f64>)> = match block.rule {
        Rule::FixedOutDegree { k } => {
            let cols: Vec<(Vec<u32>, Vec<f64>)> = pool.install(|| {
                (0..block.n_pre)
                    .into_par_iter()
                    .map(|j| {
                        let mut rng = CounterRng::new(block.seed, block.stream, j as u64);
                        let skip = (!block.autapses && j < block.n_post).then_some(j);
                        let posts = choose_distinct(&mut rng, block.n_post, k, skip);
                        let w = edge_weights(&mut rng, posts.len(), block.weight, gaussian);
                        (posts, w)
                    })
                    .collect()
            });
            return Ok(transpose_columns(
                block.n_post,
                block.n_pre,
                cols,
                gaussian,
                block.weight,
            ));
        }
        Rule::OneToOne => {
            let d = one_to_one_weights(block)?;
            let weights = if matches!(block.profile, Profile::Uniform) {
                EdgeWeights::Homogeneous(block.weight)
            } else {
                EdgeWeights::PerEdge(d)
            };
            return Ok(SparseBlock {
                n_post: block.n_post,
                n_pre: block.n_pre,
                row_ptr: (0..=block.n_post as u64).collect(),
                pre: (0..block.n_post as u32).collect(),
                weights,
            });
        }
        _ => pool.install(|| {
            (0..block.n_post)
                .into_par_iter()
                .map(|i| sample_row(block, i, gaussian))
                .collect()
        }),
    };
    let mut row_ptr = Vec::with_capacity(block.n_post + 1);
    row_ptr.push(0u64);
    let nnz: usize = rows.iter().map(|r| r.0.len()).sum();
    let mut pre = Vec::with_capacity(nnz);
    let mut w = Vec::with_capacity(if gaussian { nnz } else { 0 });
    for (idx, ws) in rows {
        pre.extend_from_slice(&idx);
        w.extend_from_slice(&ws);
        row_ptr.push(pre.len() as u64);
    }
    let weights = if gaussian {
        EdgeWeights::PerEdge(w)
    } else {
        EdgeWeights::Homogeneous(block.weight)
    };
    Ok(SparseBlock {
        n_post: block.n_post,
        n_pre: block.n_pre,
        row_ptr,
        pre,
        weights,
    })
}

/// Samples the presynaptic indices (and Gaussian weights) of row `i`.
fn sample_row(block: &BlockSpec, i: usize, gaussian: bool) -> (Vec<u32>, Vec<f64>) {
    let mut rng = CounterRng::new(block.seed, block.stream, i as u64);
    let skip = (!block.autapses && i < block.n_pre).then_some(i);
    let n_pre = block.n_pre;
    let idx: Vec<u32> = match block.rule {
        Rule::AllToAll => (0..n_pre)
            .filter(|&j| Some(j) != skip)
            .map(|j| j as u32)
            .collect(),
        Rule::OneToOne => unreachable!("built from one_to_one_weights"),
        Rule::FixedInDegree { k } => choose_distinct(&mut rng, n_pre, k, skip),
        Rule::Bernoulli { p } => bernoulli_row(&mut rng, block, i, p, skip),
        Rule::FixedOutDegree { .. } => unreachable!("sampled column-wise"),
    };
    let w = edge_weights(&mut rng, idx.len(), block.weight, gaussian);
    (idx, w)
}

/// `weight · ξ` for `n` edges when `gaussian`, else nothing.
fn edge_weights(rng: &mut CounterRng, n: usize, weight: f64, gaussian: bool) -> Vec<f64> {
    if gaussian {
        (0..n).map(|_| weight * rng.next_normal()).collect()
    } else {
        Vec::new()
    }
}

/// One Bernoulli row by geometric skipping at `p_max` plus thinning.
fn bernoulli_row(
    rng: &mut CounterRng,
    block: &BlockSpec,
    i: usize,
    p: f64,
    skip: Option<usize>,
) -> Vec<u32> {
    let n_pre = block.n_pre;
    let uniform = matches!(block.profile, Profile::Uniform | Profile::Gaussian);
    let p_max = (p * block.profile.row_max(i)).clamp(0.0, 1.0);
    let mut out = Vec::with_capacity(((p_max * n_pre as f64) * 1.1) as usize + 4);
    if p_max <= 0.0 || n_pre == 0 {
        return out;
    }
    let accept = |rng: &mut CounterRng, j: usize, out: &mut Vec<u32>| {
        if Some(j) == skip {
            return;
        }
        if !uniform {
            let pij = (p * block.profile.value(i, j, block.n_post, n_pre)).clamp(0.0, 1.0);
            if rng.next_f64() * p_max >= pij {
                return;
            }
        }
        out.push(j as u32);
    };
    if p_max >= 1.0 {
        for j in 0..n_pre {
            accept(rng, j, &mut out);
        }
        return out;
    }
    let log_q = (-p_max).ln_1p();
    let mut j = 0usize;
    loop {
        let gap = (rng.next_f64().ln() / log_q).floor();
        if gap >= (n_pre - j) as f64 {
            break;
        }
        j += gap as usize;
        accept(rng, j, &mut out);
        j += 1;
        if j >= n_pre {
            break;
        }
    }
    out
}

/// `k` distinct indices out of `0..n` without `skip`, ascending (Floyd's algorithm).
///
/// Floyd's algorithm draws one integer per selected index: for `t` in `m−k..m`, draw
/// `r ∈ 0..=t`; select `r` unless already selected, else select `t`. Candidates are `0..m` with
/// `m = n − [skip present]`, mapped around the skipped index.
fn choose_distinct(rng: &mut CounterRng, n: usize, k: usize, skip: Option<usize>) -> Vec<u32> {
    let m = if skip.is_some() { n - 1 } else { n };
    debug_assert!(k <= m);
    let map = |c: usize| match skip {
        Some(s) if c >= s => (c + 1) as u32,
        _ => c as u32,
    };
    if k == m {
        return (0..m).map(map).collect();
    }
    let words = m.div_ceil(64);
    let mut out = Vec::with_capacity(k);
    if words <= 64 * k.max(16) {
        // Bitset: membership tests in O(1), sorted extraction by a scan.
        let mut bits = vec![0u64; words];
        for t in (m - k)..m {
            let r = rng.next_below((t + 1) as u32) as usize;
            let c = if bits[r / 64] >> (r % 64) & 1 == 1 {
                t
            } else {
                r
            };
            bits[c / 64] |= 1 << (c % 64);
        }
        for (w, &word) in bits.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                let b = word.trailing_zeros() as usize;
                out.push(map(w * 64 + b));
                word &= word - 1;
            }
        }
    } else {
        // Hash set when a bitset would be much larger than the sample.
        let mut set = std::collections::HashSet::with_capacity(2 * k);
        for t in (m - k)..m {
            let r = rng.next_below((t + 1) as u32) as usize;
            let c = if set.contains(&r) { t } else { r };
            set.insert(c);
        }
        let mut chosen: Vec<usize> = set.into_iter().collect();
        chosen.sort_unstable();
        out.extend(chosen.into_iter().map(map));
    }
    out
}

/// Turns per-column target lists into post-major CSR (rows ascending in presynaptic index).
fn transpose_columns(
    n_post: usize,
    n_pre: usize,
    cols: Vec<(Vec<u32>, Vec<f64>)>,
    gaussian: bool,
    weight: f64,
) -> SparseBlock {
    let mut row_ptr = vec![0u64; n_post + 1];
    for (posts, _) in &cols {
        for &i in posts {
            row_ptr[i as usize + 1] += 1;
        }
    }
    for i in 0..n_post {
        row_ptr[i + 1] += row_ptr[i];
    }
    let nnz = row_ptr[n_post] as usize;
    let mut fill: Vec<u64> = row_ptr[..n_post].to_vec();
    let mut pre = vec![0u32; nnz];
    let mut w = vec![0.0f64; if gaussian { nnz } else { 0 }];
    for (j, (posts, ws)) in cols.iter().enumerate() {
        for (e, &i) in posts.iter().enumerate() {
            let at = fill[i as usize] as usize;
            pre[at] = j as u32;
            if gaussian {
                w[at] = ws[e];
            }
            fill[i as usize] += 1;
        }
    }
    let weights = if gaussian {
        EdgeWeights::PerEdge(w)
    } else {
        EdgeWeights::Homogeneous(weight)
    };
    SparseBlock {
        n_post,
        n_pre,
        row_ptr,
        pre,
        weights,
    }
}

/// The diagonal `d_i = W_ii` of a [`Rule::OneToOne`] block: `weight · P_ii` (Gaussian:
/// `weight · ξ_i`, `ξ_i` the first normal of `CounterRng(seed, stream, i)`). Autapses are ignored.
pub fn one_to_one_weights(block: &BlockSpec) -> Result<Vec<f64>, ConnectivityError> {
    validate(block)?;
    if block.n_post != block.n_pre {
        return Err(ConnectivityError::OneToOneSize {
            n_post: block.n_post,
            n_pre: block.n_pre,
        });
    }
    let n = block.n_post;
    Ok((0..n)
        .map(|i| match block.profile {
            Profile::Gaussian => {
                block.weight * CounterRng::new(block.seed, block.stream, i as u64).next_normal()
            }
            _ => block.weight * block.profile.value(i, i, n, n),
        })
        .collect())
}

/// The full weight matrix of an all-to-all (or any) block as dense row-major `n_post × n_pre`
/// numbers: `W_ij = weight · P_ij` (Gaussian: `weight · ξ_ij`, row `i` drawing `ξ_i·` in column
/// order from `CounterRng(seed, stream, i)`), `W_ii = 0` without autapses.
///
/// Sparse rules are sampled with [`sample_sparse`] and scattered into the matrix.
pub fn dense_weights(
    block: &BlockSpec,
    pool: &rayon::ThreadPool,
) -> Result<Vec<f64>, ConnectivityError> {
    validate(block)?;
    let (n_post, n_pre) = (block.n_post, block.n_pre);
    let mut w = vec![0.0f64; n_post * n_pre];
    if !matches!(block.rule, Rule::AllToAll) {
        let s = sample_sparse(block, pool)?;
        for i in 0..n_post {
            for e in s.row_ptr[i] as usize..s.row_ptr[i + 1] as usize {
                let v = match &s.weights {
                    EdgeWeights::Homogeneous(v) => *v,
                    EdgeWeights::PerEdge(ws) => ws[e],
                };
                w[i * n_pre + s.pre[e] as usize] += v;
            }
        }
        return Ok(w);
    }
    if n_pre == 0 {
        return Ok(w);
    }
    pool.install(|| {
        w.par_chunks_mut(n_pre).enumerate().for_each(|(i, row)| {
            if matches!(block.profile, Profile::Gaussian) {
                let mut rng = CounterRng::new(block.seed, block.stream, i as u64);
                for v in row.iter_mut() {
                    *v = block.weight * rng.next_normal();
                }
            } else {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = block.weight * block.profile.value(i, j, n_post, n_pre);
                }
            }
            if !block.autapses && i < n_pre {
                row[i] = 0.0;
            }
        })
    });
    Ok(w)
}
