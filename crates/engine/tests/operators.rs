//! Coupling operators against dense references; determinism across thread counts; selection.

use neuroxide::connectivity::{BlockSpec, Profile, Rule, dense_weights};
use neuroxide::operators::{Operator, build_operator, csr_from_edges, dense_operator};
use neuroxide::rng::CounterRng;

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
        weight: 0.7,
        autapses: true,
        seed: 99,
        stream: 3,
    }
}

fn random_vec(n: usize, row: u64) -> Vec<f64> {
    let mut r = CounterRng::new(5, 6, row);
    (0..n).map(|_| r.next_normal()).collect()
}

/// `y0 + scale ⊙ (W x)` (or `Wᵀ x`) in f64, straightforwardly.
fn reference(
    w: &[f64],
    n_post: usize,
    n_pre: usize,
    transpose: bool,
    x: &[f64],
    y0: &[f64],
    lanes: usize,
    scale: &[f64],
) -> Vec<f64> {
    let (n_out, n_in) = if transpose {
        (n_pre, n_post)
    } else {
        (n_post, n_pre)
    };
    let mut y = y0.to_vec();
    for o in 0..n_out {
        for l in 0..lanes {
            let mut s = 0.0;
            for k in 0..n_in {
                let wv = if transpose {
                    w[k * n_pre + o]
                } else {
                    w[o * n_pre + k]
                };
                s += wv * x[k * lanes + l];
            }
            y[o * lanes + l] += scale[l] * s;
        }
    }
    y
}

/// Checks an f64 operator against its dense copy for several lane counts, both directions, and
/// bitwise equality of 1- and 2-thread pools.
fn check_operator(op: &Operator<f64>) {
    let (n_post, n_pre) = (op.n_post(), op.n_pre());
    let w = op.to_dense();
    assert_eq!(w.len(), n_post * n_pre);
    let norm = w.iter().fold(0.0f64, |a, v| a.max(v.abs())).max(1e-300);
    let (p1, p2) = (pool(1), pool(2));
    for lanes in [1, 2, 3, 4, 8, 10, 16, 17] {
        let scale: Vec<f64> = (0..lanes).map(|l| 0.5 + l as f64 * 0.25).collect();
        for transpose in [false, true] {
            let (n_out, n_in) = if transpose {
                (n_pre, n_post)
            } else {
                (n_post, n_pre)
            };
            let x = random_vec(n_in * lanes, lanes as u64);
            let y0 = random_vec(n_out * lanes, 100 + lanes as u64);
            let want = reference(&w, n_post, n_pre, transpose, &x, &y0, lanes, &scale);
            let run = |p: &rayon::ThreadPool| {
                let mut y = y0.clone();
                if transpose {
                    op.apply_transpose_add_scaled(&x, &mut y, lanes, &scale, p);
                } else {
                    op.apply_add_scaled(&x, &mut y, lanes, &scale, p);
                }
                y
            };
            let (got1, got2) = (run(&p1), run(&p2));
            let tol = 1e-12 * norm * (n_in as f64).max(1.0);
            for (k, (g, r)) in got1.iter().zip(&want).enumerate() {
                assert!(
                    (g - r).abs() <= tol,
                    "{} lanes {lanes} transpose {transpose}: y[{k}] = {g} vs {r}",
                    op.describe()
                );
            }
            let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&got1),
                bits(&got2),
                "{}: 1 vs 2 threads differ",
                op.describe()
            );
            // Repeated calls give the same bits (scratch reuse).
            assert_eq!(bits(&run(&p2)), bits(&got2));
        }
    }
    // Degrees agree with the dense copy's non-zero pattern for structurally exact operators.
    let in_deg = op.in_degrees();
    let out_deg = op.out_degrees();
    assert_eq!(in_deg.len(), n_post);
    assert_eq!(out_deg.len(), n_pre);
    assert_eq!(
        in_deg.iter().map(|&d| u64::from(d)).sum::<u64>(),
        op.synapses()
    );
    assert_eq!(
        out_deg.iter().map(|&d| u64::from(d)).sum::<u64>(),
        op.synapses()
    );
    assert!(op.memory_bytes() > 0 || op.synapses() == 0);
    assert!(op.bytes_per_apply(4) > op.bytes_per_apply(1));
}

#[test]
fn dense_matches_reference() {
    let (n_post, n_pre) = (150, 130);
    let op = dense_operator::<f64>(n_post, n_pre, random_vec(n_post * n_pre, 0));
    assert_eq!(op.describe(), "dense");
    assert_eq!(op.synapses(), (n_post * n_pre) as u64);
    check_operator(&op);
    let vm = build_operator::<f64>(
        &spec(90, 90, Rule::AllToAll, Profile::VonMises { kappa: 1.5 }),
        &pool(2),
    )
    .unwrap();
    assert_eq!(vm.describe(), "dense");
    check_operator(&vm);
}

#[test]
fn csr_matches_reference() {
    // Homogeneous Bernoulli, enough rows for several parallel tasks.
    let b = spec(3000, 700, Rule::Bernoulli { p: 0.07 }, Profile::Uniform);
    let op = build_operator::<f64>(&b, &pool(2)).unwrap();
    assert_eq!(op.describe(), "csr(u16, homogeneous)");
    check_operator(&op);
    // Gaussian weights on a fixed in-degree.
    let op = build_operator::<f64>(
        &spec(400, 300, Rule::FixedInDegree { k: 25 }, Profile::Gaussian),
        &pool(2),
    )
    .unwrap();
    assert_eq!(op.describe(), "csr(u16, per-edge weights)");
    assert_eq!(op.synapses(), 400 * 25);
    assert!(op.in_degrees().iter().all(|&d| d == 25));
    check_operator(&op);
    // Fixed out-degree with a cosine... (not allowed) -> uniform.
    let op = build_operator::<f64>(
        &spec(200, 250, Rule::FixedOutDegree { k: 9 }, Profile::Uniform),
        &pool(2),
    )
    .unwrap();
    assert!(op.out_degrees().iter().all(|&d| d == 9));
    check_operator(&op);
    // u32 indices when n_pre > 65536; explicit edges in arbitrary order with duplicates.
    let n_pre = 70_000u32;
    let post: Vec<u32> = (0..500).map(|e| (e * 7919) % 40).collect();
    let pre: Vec<u32> = (0..500).map(|e| (e * 104_729) % n_pre).collect();
    let mut post_dup = post.clone();
    let mut pre_dup = pre.clone();
    post_dup.push(post[0]);
    pre_dup.push(pre[0]);
    let wts: Vec<f64> = (0..501).map(|e| 0.1 * e as f64 - 3.0).collect();
    let op = csr_from_edges::<f64>(40, n_pre as usize, &post_dup, &pre_dup, Some(&wts));
    assert_eq!(op.describe(), "csr(u32, per-edge weights)");
    assert_eq!(op.synapses(), 501);
    let d = op.to_dense();
    assert!(
        (d[post[0] as usize * n_pre as usize + pre[0] as usize] - (wts[0] + wts[500])).abs()
            < 1e-12
    );
    check_operator(&op);
    let op = csr_from_edges::<f64>(3, 4, &[2, 0, 2], &[1, 3, 0], None);
    assert_eq!(
        op.to_dense(),
        vec![0., 0., 0., 1., 0., 0., 0., 0., 1., 1., 0., 0.]
    );
    assert_eq!(op.describe(), "csr(u16, homogeneous)");
}

#[test]
fn factored_matches_reference() {
    // Ring, non-square, several presynaptic chunks.
    let b = spec(
        1200,
        2500,
        Rule::AllToAll,
        Profile::Cosine {
            kappa: 1.3,
            phase: 0.4,
        },
    );
    let op = build_operator::<f64>(&b, &pool(2)).unwrap();
    assert_eq!(op.describe(), "factored(rank 3)");
    assert_eq!(op.synapses(), 1200 * 2500);
    // The factored ring equals the dense cosine matrix.
    let want = dense_weights(&b, &pool(2)).unwrap();
    for (g, w) in op.to_dense().iter().zip(&want) {
        assert!((g - w).abs() < 1e-13, "{g} vs {w}");
    }
    check_operator(&op);
    // Uniform all-to-all without autapses: rank 1 minus the diagonal.
    let mut b = spec(300, 300, Rule::AllToAll, Profile::Uniform);
    b.autapses = false;
    let op = build_operator::<f64>(&b, &pool(2)).unwrap();
    assert_eq!(op.describe(), "factored(rank 1, no autapses)");
    assert_eq!(op.synapses(), 300 * 299);
    let d = op.to_dense();
    for i in 0..300 {
        assert!(d[i * 300 + i].abs() < 1e-15);
        assert!((d[i * 300 + (i + 1) % 300] - 0.7).abs() < 1e-15);
    }
    check_operator(&op);
    // Low rank with and without a base.
    let m = vec![random_vec(500, 1), random_vec(500, 2)];
    let n = vec![random_vec(400, 3), random_vec(400, 4)];
    for base in [0.0, 0.3] {
        let b = spec(
            500,
            400,
            Rule::AllToAll,
            Profile::LowRank {
                base,
                kappa: 0.01,
                m: m.clone(),
                n: n.clone(),
            },
        );
        let op = build_operator::<f64>(&b, &pool(1)).unwrap();
        assert_eq!(
            op.describe(),
            if base == 0.0 {
                "factored(rank 2)"
            } else {
                "factored(rank 3)"
            }
        );
        let want = dense_weights(&b, &pool(1)).unwrap();
        for (g, w) in op.to_dense().iter().zip(&want) {
            assert!((g - w).abs() < 1e-14);
        }
        check_operator(&op);
    }
}

#[test]
fn diagonal_matches_reference() {
    let op = build_operator::<f64>(
        &spec(9000, 9000, Rule::OneToOne, Profile::Gaussian),
        &pool(2),
    )
    .unwrap();
    assert_eq!(op.describe(), "diagonal");
    assert_eq!(op.synapses(), 9000);
    // Reference on a small one (the dense copy of 9000^2 is too big for a quick test).
    let small = build_operator::<f64>(
        &spec(
            50,
            50,
            Rule::OneToOne,
            Profile::Cosine {
                kappa: 0.5,
                phase: 0.1,
            },
        ),
        &pool(2),
    )
    .unwrap();
    check_operator(&small);
    let (p1, p2) = (pool(1), pool(2));
    let x = random_vec(9000 * 10, 1);
    let scale = vec![1.5; 10];
    let mut y1 = vec![0.0; 9000 * 10];
    let mut y2 = y1.clone();
    op.apply_add_scaled(&x, &mut y1, 10, &scale, &p1);
    op.apply_add_scaled(&x, &mut y2, 10, &scale, &p2);
    assert_eq!(y1, y2);
    let Operator::Diagonal(d) = &op else { panic!() };
    for i in 0..9000 {
        assert_eq!(y1[i * 10 + 3], 1.5 * (d.diagonal()[i] * x[i * 10 + 3]));
    }
}

#[test]
fn f32_operators_are_close_and_deterministic() {
    let b = spec(2000, 1500, Rule::Bernoulli { p: 0.05 }, Profile::Uniform);
    let op32 = build_operator::<f32>(&b, &pool(2)).unwrap();
    let op64 = build_operator::<f64>(&b, &pool(2)).unwrap();
    assert_eq!(
        op32.to_dense().iter().filter(|v| **v != 0.0).count(),
        op64.synapses() as usize
    );
    for lanes in [1, 10, 5] {
        let x: Vec<f64> = random_vec(1500 * lanes, 9);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let scale = vec![1.0f32; lanes];
        let mut y32 = vec![0.0f32; 2000 * lanes];
        let mut y32b = y32.clone();
        let mut y64 = vec![0.0f64; 2000 * lanes];
        op32.apply_add_scaled(&x32, &mut y32, lanes, &scale, &pool(1));
        op32.apply_add_scaled(&x32, &mut y32b, lanes, &scale, &pool(2));
        op64.apply_add_scaled(&x, &mut y64, lanes, &vec![1.0; lanes], &pool(2));
        assert_eq!(y32, y32b);
        for (a, b) in y32.iter().zip(&y64) {
            assert!((f64::from(*a) - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}

#[test]
fn operator_byte_counts() {
    let b = spec(1000, 800, Rule::FixedInDegree { k: 50 }, Profile::Uniform);
    let op = build_operator::<f32>(&b, &pool(1)).unwrap();
    // Row pointers (u64) + u16 indices; no weight array.
    assert_eq!(op.memory_bytes(), 1001 * 8 + 50_000 * 2);
    assert_eq!(
        op.bytes_per_apply(2),
        1001 * 8 + 50_000 * 2 + (800 + 2 * 1000) * 2 * 4
    );
    let ring = build_operator::<f32>(
        &spec(
            1000,
            1000,
            Rule::AllToAll,
            Profile::Cosine {
                kappa: 1.0,
                phase: 0.0,
            },
        ),
        &pool(1),
    )
    .unwrap();
    assert_eq!(ring.memory_bytes(), 2 * 1000 * 3 * 4);
}

#[test]
fn csr_simd_kernels_match_portable_bitwise() {
    use neuroxide::operators::force_portable_kernels;
    let p = pool(2);
    let hom = build_operator::<f32>(
        &spec(300, 200, Rule::Bernoulli { p: 0.1 }, Profile::Uniform),
        &p,
    )
    .unwrap();
    let per = build_operator::<f32>(
        &spec(300, 200, Rule::Bernoulli { p: 0.1 }, Profile::Gaussian),
        &p,
    )
    .unwrap();
    for op in [&hom, &per] {
        for lanes in [1, 2, 3, 5, 8, 10, 13, 16, 17, 20, 33, 40] {
            let x: Vec<f32> = random_vec(200 * lanes, 1)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let y0: Vec<f32> = random_vec(300 * lanes, 2)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let scale: Vec<f32> = (0..lanes).map(|l| 1.0 + 0.1 * l as f32).collect();
            let run = |portable: bool| {
                force_portable_kernels(portable);
                let mut y = y0.clone();
                op.apply_add_scaled(&x, &mut y, lanes, &scale, &p);
                force_portable_kernels(false);
                y.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            assert_eq!(run(true), run(false), "{} lanes {lanes}", op.describe());
        }
    }
}

/// Inputs large enough for the padded, cache-line aligned copy of `x`: every lane count gives the
/// same bits with portable and AVX2 kernels, 1 and 2 threads, an aligned or a misaligned input,
/// and each lane equals a one-lane apply of that lane alone.
#[test]
fn csr_padded_input_is_bitwise_stable() {
    use neuroxide::operators::force_portable_kernels;
    let (p1, p2) = (pool(1), pool(2));
    let (n_post, n_pre) = (400, 3000);
    let hom = build_operator::<f32>(
        &spec(n_post, n_pre, Rule::Bernoulli { p: 0.03 }, Profile::Uniform),
        &p2,
    )
    .unwrap();
    let per = build_operator::<f32>(
        &spec(
            n_post,
            n_pre,
            Rule::Bernoulli { p: 0.03 },
            Profile::Gaussian,
        ),
        &p2,
    )
    .unwrap();
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    for op in [&hom, &per] {
        for lanes in [1, 2, 3, 4, 5, 8, 10, 12, 16, 17, 20, 24, 33, 40] {
            let x: Vec<f32> = random_vec(n_pre * lanes, 3)
                .iter()
                .map(|&v| v as f32)
                .collect();
            // The same input at an odd offset (misaligned rows).
            let mut shifted = vec![0.0f32; x.len() + 1];
            shifted[1..].copy_from_slice(&x);
            let y0: Vec<f32> = random_vec(n_post * lanes, 4)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let scale: Vec<f32> = (0..lanes).map(|l| 0.5 + 0.1 * l as f32).collect();
            let run = |x: &[f32], p: &rayon::ThreadPool, portable: bool| {
                force_portable_kernels(portable);
                let mut y = y0.clone();
                op.apply_add_scaled(x, &mut y, lanes, &scale, p);
                force_portable_kernels(false);
                bits(&y)
            };
            let want = run(&x, &p1, true);
            let ctx = format!("{} lanes {lanes}", op.describe());
            assert_eq!(run(&x, &p2, false), want, "{ctx}: simd vs portable");
            assert_eq!(run(&shifted[1..], &p2, false), want, "{ctx}: misaligned");
            assert_eq!(
                run(&shifted[1..], &p1, true),
                want,
                "{ctx}: misaligned portable"
            );
            assert_eq!(run(&x, &p2, false), want, "{ctx}: repeated");
            // Lanes are independent: lane l equals a one-lane apply of lane l.
            for l in [0, lanes - 1] {
                let xl: Vec<f32> = (0..n_pre).map(|j| x[j * lanes + l]).collect();
                let mut yl: Vec<f32> = (0..n_post).map(|i| y0[i * lanes + l]).collect();
                op.apply_add_scaled(&xl, &mut yl, 1, &scale[l..=l], &p2);
                for i in 0..n_post {
                    assert_eq!(
                        yl[i].to_bits(),
                        want[i * lanes + l],
                        "{ctx}: lane {l} row {i}"
                    );
                }
            }
        }
    }
}

/// `Vᵀ x` of a factored operator: split over chunks of inputs (few lanes) or over tiles of lanes
/// (many lanes), every lane's value is the same bits, for any lane count and thread count, and
/// matches the f64 sum.
#[test]
fn factored_projection_is_the_same_for_any_lane_count_and_thread_count() {
    use neuroxide::operators::FactoredOp;
    for (n_in, rank) in [(3000usize, 3usize), (700, 1), (2100, 5)] {
        let v: Vec<f64> = random_vec(n_in * rank, 1);
        let cols: Vec<Vec<f64>> = (0..rank)
            .map(|r| (0..n_in).map(|j| v[j * rank + r]).collect())
            .collect();
        let op = FactoredOp::<f32>::from_columns(4, n_in, &vec![vec![1.0; 4]; rank], &cols, None);
        let lanes_many = 37; // two tiles of 16 and 5 single lanes
        let x: Vec<f32> = random_vec(n_in * lanes_many, 2)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let mut many = vec![0.0f32; rank * lanes_many];
        op.project(&x, lanes_many, &mut many, &pool(2));
        let mut many_1 = vec![0.0f32; rank * lanes_many];
        op.project(&x, lanes_many, &mut many_1, &pool(1));
        assert_eq!(many, many_1, "thread count changed Vᵀx");
        for lane in [0, 15, 16, 33, 36] {
            let xl: Vec<f32> = (0..n_in).map(|j| x[j * lanes_many + lane]).collect();
            let mut one = vec![0.0f32; rank];
            op.project(&xl, 1, &mut one, &pool(2));
            for r in 0..rank {
                let got = many[r * lanes_many + lane];
                assert_eq!(
                    got.to_bits(),
                    one[r].to_bits(),
                    "n_in {n_in}, rank {rank}, lane {lane}, r {r}"
                );
                let exact: f64 = (0..n_in)
                    .map(|j| v[j * rank + r] as f32 as f64 * xl[j] as f64)
                    .sum();
                assert!((got as f64 - exact).abs() < 1e-3 * (1.0 + exact.abs()));
            }
        }
    }
}
