//! Statistical and determinism tests of connectivity sampling.

use neuroxide::connectivity::{
    BlockSpec, ConnectivityError, EdgeWeights, Profile, Rule, SparseBlock, angle, bessel_i0,
    dense_weights, one_to_one_weights, sample_sparse,
};

fn pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
}

fn spec(n_post: usize, n_pre: usize, rule: Rule, profile: Profile) -> BlockSpec {
    BlockSpec {
        n_post,
        n_pre,
        rule,
        profile,
        weight: 0.5,
        autapses: true,
        seed: 12345,
        stream: 7,
    }
}

fn rows(s: &SparseBlock) -> impl Iterator<Item = &[u32]> {
    s.row_ptr
        .windows(2)
        .map(|w| &s.pre[w[0] as usize..w[1] as usize])
}

fn mean_var(v: &[u32]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().map(|&d| f64::from(d)).sum::<f64>() / n;
    let var = v.iter().map(|&d| (f64::from(d) - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, var)
}

fn assert_sorted_distinct(s: &SparseBlock) {
    for r in rows(s) {
        assert!(
            r.windows(2).all(|w| w[0] < w[1]),
            "row not strictly ascending"
        );
        assert!(r.iter().all(|&j| (j as usize) < s.n_pre));
    }
}

#[test]
fn bernoulli_degree_statistics() {
    let (n, p) = (2000, 0.1);
    let s = sample_sparse(
        &spec(n, n, Rule::Bernoulli { p }, Profile::Uniform),
        &pool(2),
    )
    .unwrap();
    assert_sorted_distinct(&s);
    let deg = s.in_degrees();
    let (m, var) = mean_var(&deg);
    let (m0, v0) = (p * n as f64, n as f64 * p * (1.0 - p));
    // Standard error of the mean of n rows, and of the sample variance (~ v0 sqrt(2/n)).
    assert!(
        (m - m0).abs() < 5.0 * (v0 / n as f64).sqrt(),
        "mean in-degree {m} vs {m0}"
    );
    assert!(
        (var - v0).abs() < 5.0 * v0 * (2.0 / n as f64).sqrt(),
        "in-degree variance {var} vs {v0}"
    );
    assert_eq!(s.weights, EdgeWeights::Homogeneous(0.5));
    let (mo, _) = mean_var(&s.out_degrees());
    assert!((mo - m0).abs() < 1e-9 + (m - m0).abs() * 1.0001);
    // Column occupation is uniform too: the first and second halves get equal shares.
    let first = s.pre.iter().filter(|&&j| (j as usize) < n / 2).count() as f64;
    let total = s.pre.len() as f64;
    assert!((first / total - 0.5).abs() < 5.0 * (0.25 / total).sqrt());
}

#[test]
fn bernoulli_extremes_and_errors() {
    let s = sample_sparse(
        &spec(50, 40, Rule::Bernoulli { p: 1.0 }, Profile::Uniform),
        &pool(1),
    )
    .unwrap();
    assert_eq!(s.nnz(), 2000);
    let s = sample_sparse(
        &spec(50, 40, Rule::Bernoulli { p: 0.0 }, Profile::Uniform),
        &pool(1),
    )
    .unwrap();
    assert_eq!(s.nnz(), 0);
    let err = sample_sparse(
        &spec(5, 5, Rule::Bernoulli { p: 1.5 }, Profile::Uniform),
        &pool(1),
    )
    .unwrap_err();
    assert_eq!(err, ConnectivityError::BadProbability(1.5));
    assert!(err.to_string().contains("not in [0, 1]"));
}

#[test]
fn fixed_in_degree_exact() {
    for (n_pre, k) in [(1000, 50), (300, 290), (100_000, 20)] {
        let mut b = spec(400, n_pre, Rule::FixedInDegree { k }, Profile::Uniform);
        b.autapses = false;
        let s = sample_sparse(&b, &pool(2)).unwrap();
        assert_sorted_distinct(&s);
        assert!(s.in_degrees().iter().all(|&d| d as usize == k));
        for (i, r) in rows(&s).enumerate() {
            assert!(!r.contains(&(i as u32)), "autapse in row {i}");
        }
        // Presynaptic partners are spread evenly: mean out-degree n_post k / n_pre.
        if n_pre == 1000 {
            let (mo, vo) = mean_var(&s.out_degrees());
            assert!((mo - 400.0 * 50.0 / 1000.0).abs() < 1e-9);
            assert!(vo > 5.0 && vo < 40.0, "out-degree variance {vo}");
        }
    }
    let b = spec(10, 10, Rule::FixedInDegree { k: 10 }, Profile::Uniform);
    assert_eq!(sample_sparse(&b, &pool(1)).unwrap().nnz(), 100);
    let mut b = spec(10, 10, Rule::FixedInDegree { k: 10 }, Profile::Uniform);
    b.autapses = false;
    assert!(matches!(
        sample_sparse(&b, &pool(1)),
        Err(ConnectivityError::DegreeTooLarge { available: 9, .. })
    ));
    let b = spec(
        10,
        10,
        Rule::FixedInDegree { k: 3 },
        Profile::Cosine {
            kappa: 1.0,
            phase: 0.0,
        },
    );
    let err = sample_sparse(&b, &pool(1)).unwrap_err();
    assert!(matches!(err, ConnectivityError::UnsupportedProfile { .. }));
    assert!(err.to_string().contains("cosine"));
}

#[test]
fn fixed_out_degree_exact() {
    let mut b = spec(500, 300, Rule::FixedOutDegree { k: 40 }, Profile::Uniform);
    b.autapses = false;
    let s = sample_sparse(&b, &pool(2)).unwrap();
    assert_sorted_distinct(&s);
    assert!(s.out_degrees().iter().all(|&d| d == 40));
    for (i, r) in rows(&s).enumerate() {
        assert!(!r.contains(&(i as u32)));
    }
    let (mi, _) = mean_var(&s.in_degrees());
    assert!((mi - 300.0 * 40.0 / 500.0).abs() < 1e-9);
}

#[test]
fn one_to_one_identity() {
    let b = spec(20, 20, Rule::OneToOne, Profile::Uniform);
    let s = sample_sparse(&b, &pool(1)).unwrap();
    assert_eq!(s.pre, (0..20).collect::<Vec<u32>>());
    assert!(s.in_degrees().iter().all(|&d| d == 1));
    let w = dense_weights(&b, &pool(1)).unwrap();
    for i in 0..20 {
        for j in 0..20 {
            assert_eq!(w[i * 20 + j], if i == j { 0.5 } else { 0.0 });
        }
    }
    let g = one_to_one_weights(&spec(20, 20, Rule::OneToOne, Profile::Gaussian)).unwrap();
    assert!(g.iter().all(|v| v.is_finite()) && g.iter().any(|&v| v != g[0]));
    let err = sample_sparse(&spec(20, 21, Rule::OneToOne, Profile::Uniform), &pool(1)).unwrap_err();
    assert_eq!(
        err,
        ConnectivityError::OneToOneSize {
            n_post: 20,
            n_pre: 21
        }
    );
}

#[test]
fn cosine_profile_modulates_probability() {
    let (n, kappa) = (1500, 0.8);
    let b = spec(
        n,
        n,
        Rule::Bernoulli { p: 0.1 },
        Profile::Cosine { kappa, phase: 0.0 },
    );
    let s = sample_sparse(&b, &pool(2)).unwrap();
    assert_sorted_distinct(&s);
    let mut sum = 0.0;
    for (i, r) in rows(&s).enumerate() {
        for &j in r {
            sum += (angle(i, n) - angle(j as usize, n)).cos();
        }
    }
    let m = sum / s.nnz() as f64;
    // E[cos | edge] = kappa / 2; the per-edge standard deviation is about 1/sqrt(2).
    assert!(
        (m - kappa / 2.0).abs() < 5.0 * (0.5 / s.nnz() as f64).sqrt(),
        "mean cos {m}"
    );
    // The mean probability is still p.
    let mean_deg = s.nnz() as f64 / n as f64;
    assert!(
        (mean_deg - 150.0).abs() < 5.0 * (150.0 / n as f64).sqrt(),
        "mean degree {mean_deg}"
    );
    // A phase shifts the preferred partner.
    let b = spec(
        n,
        n,
        Rule::Bernoulli { p: 0.1 },
        Profile::Cosine {
            kappa,
            phase: std::f64::consts::PI,
        },
    );
    let s = sample_sparse(&b, &pool(2)).unwrap();
    let sum: f64 = rows(&s)
        .enumerate()
        .flat_map(|(i, r)| {
            r.iter()
                .map(move |&j| (angle(i, n) - angle(j as usize, n)).cos())
        })
        .sum();
    assert!(sum / (s.nnz() as f64) < -0.3);
}

#[test]
fn von_mises_and_low_rank_profiles() {
    // Von Mises: mean 1 over angle, so the mean degree is p n.
    assert!((bessel_i0(0.0) - 1.0).abs() < 1e-15);
    assert!((bessel_i0(1.0) - 1.266_065_877_752_008_4).abs() < 1e-14);
    assert!((bessel_i0(40.0) / 1.489_477_479_6e16 - 1.0).abs() < 1e-9);
    let n = 1000;
    let b = spec(
        n,
        n,
        Rule::Bernoulli { p: 0.05 },
        Profile::VonMises { kappa: 2.0 },
    );
    let s = sample_sparse(&b, &pool(2)).unwrap();
    let mean_deg = s.nnz() as f64 / n as f64;
    assert!((mean_deg - 50.0).abs() < 1.5, "mean degree {mean_deg}");
    // Low rank: p_ij = p (1 + m_i n_j) with m, n = +-1: edges only where m_i n_j = 1.
    let m: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let b = spec(
        n,
        n,
        Rule::Bernoulli { p: 0.1 },
        Profile::LowRank {
            base: 1.0,
            kappa: 1.0,
            m: vec![m.clone()],
            n: vec![m],
        },
    );
    let s = sample_sparse(&b, &pool(2)).unwrap();
    for (i, r) in rows(&s).enumerate() {
        assert!(r.iter().all(|&j| (i + j as usize).is_multiple_of(2)));
    }
    let mean_deg = s.nnz() as f64 / n as f64;
    assert!((mean_deg - 100.0).abs() < 2.0, "mean degree {mean_deg}");
    let bad = spec(
        10,
        10,
        Rule::AllToAll,
        Profile::LowRank {
            base: 0.0,
            kappa: 1.0,
            m: vec![vec![0.0; 10]],
            n: vec![vec![0.0; 9]],
        },
    );
    assert!(matches!(
        dense_weights(&bad, &pool(1)),
        Err(ConnectivityError::LowRankShape(_))
    ));
}

#[test]
fn gaussian_weights() {
    let n = 1000;
    let b = spec(n, n, Rule::AllToAll, Profile::Gaussian);
    let w = dense_weights(&b, &pool(2)).unwrap();
    let m = w.iter().sum::<f64>() / w.len() as f64;
    let v = w.iter().map(|x| (x - m).powi(2)).sum::<f64>() / w.len() as f64;
    assert!(m.abs() < 5.0 * 0.5 / (w.len() as f64).sqrt(), "mean {m}");
    assert!(
        (v - 0.25).abs() < 5.0 * 0.25 * (2.0 / w.len() as f64).sqrt(),
        "variance {v}"
    );
    let mut b = spec(n, n, Rule::Bernoulli { p: 0.2 }, Profile::Gaussian);
    b.weight = 2.0;
    let s = sample_sparse(&b, &pool(2)).unwrap();
    let EdgeWeights::PerEdge(ws) = &s.weights else {
        panic!("expected per-edge weights")
    };
    assert_eq!(ws.len(), s.nnz());
    let m = ws.iter().sum::<f64>() / ws.len() as f64;
    let v = ws.iter().map(|x| (x - m).powi(2)).sum::<f64>() / ws.len() as f64;
    assert!(m.abs() < 5.0 * 2.0 / (ws.len() as f64).sqrt(), "mean {m}");
    assert!(
        (v - 4.0).abs() < 5.0 * 4.0 * (2.0 / ws.len() as f64).sqrt(),
        "variance {v}"
    );
    let (md, _) = mean_var(&s.in_degrees());
    assert!((md - 200.0).abs() < 2.0);
}

#[test]
fn autapses_removed_from_all_to_all() {
    let mut b = spec(30, 30, Rule::AllToAll, Profile::Gaussian);
    b.autapses = false;
    let w = dense_weights(&b, &pool(1)).unwrap();
    for i in 0..30 {
        assert_eq!(w[i * 30 + i], 0.0);
    }
    let mut b = spec(300, 300, Rule::Bernoulli { p: 0.5 }, Profile::Uniform);
    b.autapses = false;
    let s = sample_sparse(&b, &pool(1)).unwrap();
    for (i, r) in rows(&s).enumerate() {
        assert!(!r.contains(&(i as u32)));
    }
}

#[test]
fn sampling_is_deterministic() {
    let rules = [
        (Rule::Bernoulli { p: 0.05 }, Profile::Uniform),
        (
            Rule::Bernoulli { p: 0.05 },
            Profile::Cosine {
                kappa: 1.0,
                phase: 0.3,
            },
        ),
        (Rule::Bernoulli { p: 0.05 }, Profile::Gaussian),
        (Rule::FixedInDegree { k: 30 }, Profile::Gaussian),
        (Rule::FixedOutDegree { k: 30 }, Profile::Uniform),
    ];
    for (rule, profile) in rules {
        let b = spec(700, 900, rule.clone(), profile.clone());
        let one = sample_sparse(&b, &pool(1)).unwrap();
        let two = sample_sparse(&b, &pool(2)).unwrap();
        let three = sample_sparse(&b, &pool(3)).unwrap();
        assert_eq!(one, two, "{rule:?} {profile:?}");
        assert_eq!(one, three);
        let mut other = b.clone();
        other.seed += 1;
        assert_ne!(one, sample_sparse(&other, &pool(2)).unwrap());
        let mut other = b.clone();
        other.stream += 1;
        assert_ne!(one, sample_sparse(&other, &pool(2)).unwrap());
    }
    let b = spec(200, 150, Rule::AllToAll, Profile::Gaussian);
    assert_eq!(
        dense_weights(&b, &pool(1)).unwrap(),
        dense_weights(&b, &pool(2)).unwrap()
    );
}
