//! The hand-written BPTT adjoint against central finite differences (f64), for every trainable
//! kind: dense, masked, Dale's-law and low-rank (U·Vᵀ, U = V, normalised, clamped) recurrent
//! weights, readin, readout, both biases and η, in R- and Z-type networks with each transfer
//! function, with the rate penalty, and through checkpoint-and-recompute.

use neuroxide_train::{
    Layer, Loss, LossKind, LowRank, NetworkType, PassOptions, RateModel, RateModelSpec, Recurrent,
    Transfer,
};

const ALL: &[&str] = &[
    "recurrent",
    "u",
    "v",
    "readin",
    "readout",
    "bias",
    "bias_out",
    "eta",
];

fn trainable_all(spec: &mut RateModelSpec, model_names: &[String]) {
    spec.trainable = ALL
        .iter()
        .filter(|n| model_names.iter().any(|m| m == *n))
        .map(|s| s.to_string())
        .collect();
}

struct Case {
    x: Vec<f64>,
    target: Vec<f64>,
    mask: Vec<f64>,
    steps: usize,
    lanes: usize,
}

fn case(n_in: usize, n_out: usize, lanes: usize) -> Case {
    let steps = 9;
    let f = |i: usize, a: f64| ((i as f64 * a).sin() * 1.3).tanh();
    Case {
        x: (0..steps * lanes * n_in).map(|i| f(i, 0.77)).collect(),
        target: (0..steps * lanes * n_out).map(|i| f(i, 1.91)).collect(),
        mask: (0..steps * lanes * n_out)
            .map(|i| if (i / (lanes * n_out)) < 2 { 0.0 } else { 1.0 })
            .collect(),
        steps,
        lanes,
    }
}

fn loss_of(model: &RateModel<f64>, c: &Case, opts: &PassOptions) -> f64 {
    let fwd = model.forward(&c.x, c.steps, c.lanes, None, opts).unwrap();
    let (l, _) = Loss::new(LossKind::Mse)
        .eval(&fwd.outputs, model.n_out, &c.target, &c.mask)
        .unwrap();
    l + opts.rate_l2 * fwd.mean_rate_sq
}

/// Relative error ‖g − fd‖/max(‖g‖, ‖fd‖) per parameter; panics above 1e-4.
fn check(label: &str, spec: RateModelSpec, opts: PassOptions) {
    check_lanes(label, spec, opts, 3)
}

/// [`check`] on a batch of `lanes` trials.
fn check_lanes(label: &str, spec: RateModelSpec, opts: PassOptions, lanes: usize) {
    let mut spec = spec;
    spec.trainable.clear();
    let probe = RateModel::<f64>::new(spec.clone()).unwrap();
    trainable_all(&mut spec, &probe.parameter_names());
    let mut model = RateModel::<f64>::new(spec).unwrap();
    // η away from 1 so that every term matters.
    for v in model.params.get_mut("eta").unwrap() {
        *v *= 0.6;
    }
    let c = case(model.n_in, model.n_out, lanes);
    let fwd = model.forward(&c.x, c.steps, c.lanes, None, &opts).unwrap();
    let (_, d_out) = Loss::new(LossKind::Mse)
        .eval(&fwd.outputs, model.n_out, &c.target, &c.mask)
        .unwrap();
    let grad = model.backward(&fwd, &c.x, &d_out, &opts).unwrap();
    let h = 1e-6;
    for slot in model.params.slots.clone() {
        let mut num = 0.0;
        let mut den_g = 0.0;
        let mut den_f = 0.0;
        for i in slot.offset..slot.offset + slot.len {
            let v = model.params.values[i];
            model.params.values[i] = v + h;
            let lp = loss_of(&model, &c, &opts);
            model.params.values[i] = v - h;
            let lm = loss_of(&model, &c, &opts);
            model.params.values[i] = v;
            let fd = (lp - lm) / (2.0 * h);
            num += (grad[i] - fd).powi(2);
            den_g += grad[i].powi(2);
            den_f += fd.powi(2);
        }
        let rel = num.sqrt() / den_g.sqrt().max(den_f.sqrt()).max(1e-12);
        assert!(
            rel < 1e-4,
            "{label}: `{}` relative error {rel:e} (|g| = {}, |fd| = {})",
            slot.name,
            den_g.sqrt(),
            den_f.sqrt()
        );
        assert!(
            den_f > 0.0,
            "{label}: `{}` has no gradient at all",
            slot.name
        );
    }
}

fn base(n: usize, network_type: NetworkType, transfer: Transfer) -> RateModelSpec {
    let mut s = RateModelSpec::new(n, 2, 2);
    s.network_type = network_type;
    s.transfer = transfer;
    s.eta = (0..n).map(|i| 0.3 + 0.6 * i as f64 / n as f64).collect();
    s.rho_recurrent = 1.2;
    s.seed = 11;
    s
}

#[test]
fn dense_r_and_z_types_with_every_transfer_function() {
    for nt in [NetworkType::R, NetworkType::Z] {
        for f in [Transfer::Tanh, Transfer::Relu, Transfer::Id] {
            let mut s = base(6, nt, f);
            if f == Transfer::Relu {
                // Keep the drive off the kink at 0 on average.
                s.rho_input = 2.0;
            }
            check(&format!("{nt:?}/{f:?}"), s, PassOptions::default());
        }
    }
}

#[test]
fn masked_and_dale_recurrent_weights() {
    let n = 6;
    for nt in [NetworkType::R, NetworkType::Z] {
        let mut s = base(n, nt, Transfer::Tanh);
        s.mask = Some(
            (0..n * n)
                .map(|i| ((i * 5) % 3 != 0) as u8 as f64)
                .collect(),
        );
        check(&format!("{nt:?}/mask"), s.clone(), PassOptions::default());
        s.dale = Some((0..n).map(|j| if j < 4 { 1.0 } else { -1.0 }).collect());
        check(&format!("{nt:?}/mask+dale"), s, PassOptions::default());
    }
}

#[test]
fn low_rank_factors_in_every_variant() {
    let n = 7;
    for (u_eq_v, normalize, clamp, base_w) in [
        (false, false, None, false),
        (true, false, None, false),
        (false, true, None, true),
        (true, true, None, false),
        (false, false, Some(-0.05), false),
    ] {
        for nt in [NetworkType::R, NetworkType::Z] {
            let mut s = base(n, nt, Transfer::Tanh);
            s.recurrent = Recurrent::LowRank(LowRank {
                rank: 2,
                u_eq_v,
                normalize,
                clamp,
                scale: Some(if normalize { 3.0 } else { 1.5 }),
                init_std: 0.8,
                base: base_w.then(|| {
                    (0..n * n)
                        .map(|i| 0.1 * ((i as f64) * 0.37).sin())
                        .collect()
                }),
            });
            check(
                &format!("{nt:?}/low rank u=v {u_eq_v} norm {normalize} clamp {clamp:?}"),
                s,
                PassOptions::default(),
            );
        }
    }
}

#[test]
fn identity_readin_readout_given_matrices_and_no_recurrence() {
    let n = 5;
    let mut s = base(n, NetworkType::R, Transfer::Tanh);
    s.readin = Layer::Identity;
    s.readout = Layer::Identity;
    check("identity layers", s, PassOptions::default());
    let mut s = base(n, NetworkType::Z, Transfer::Tanh);
    s.readin = Layer::Matrix {
        rows: n,
        cols: 2,
        data: (0..2 * n).map(|i| (i as f64 * 0.3).cos()).collect(),
    };
    s.recurrent = Recurrent::None;
    s.bias_recurrent = false;
    check("given readin, no recurrence", s, PassOptions::default());
}

#[test]
fn rate_penalty_and_checkpoint_intervals() {
    for nt in [NetworkType::R, NetworkType::Z] {
        let s = base(6, nt, Transfer::Tanh);
        for k in [1, 2, 4, 9, 20] {
            check(
                &format!("{nt:?}/checkpoint every {k}, rate L2"),
                s.clone(),
                PassOptions {
                    checkpoint_every: Some(k),
                    truncate: None,
                    rate_l2: 0.3,
                    ..Default::default()
                },
            );
        }
    }
}

/// The gradient does not depend on the checkpoint interval (to rounding), and truncation at
/// k ≥ T changes nothing while a short truncation changes the gradient.
#[test]
fn checkpointing_is_exact_and_truncation_cuts() {
    let mut s = base(6, NetworkType::R, Transfer::Tanh);
    s.trainable = vec!["recurrent".into(), "readin".into()];
    let model = RateModel::<f64>::new(s).unwrap();
    let c = case(2, 2, 3);
    let grad = |opts: PassOptions| {
        let fwd = model.forward(&c.x, c.steps, c.lanes, None, &opts).unwrap();
        let (_, d) = Loss::new(LossKind::Mse)
            .eval(&fwd.outputs, 2, &c.target, &c.mask)
            .unwrap();
        model.backward(&fwd, &c.x, &d, &opts).unwrap()
    };
    let full = grad(PassOptions {
        checkpoint_every: Some(c.steps),
        ..Default::default()
    });
    for k in [None, Some(1), Some(3), Some(4)] {
        // None: every state kept, no recomputation.
        let g = grad(PassOptions {
            checkpoint_every: k,
            ..Default::default()
        });
        for (a, b) in full.iter().zip(&g) {
            assert!((a - b).abs() <= 1e-13 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }
    let same = grad(PassOptions {
        checkpoint_every: Some(c.steps),
        truncate: Some(c.steps),
        ..Default::default()
    });
    assert_eq!(same, full);
    let cut = grad(PassOptions {
        truncate: Some(2),
        ..Default::default()
    });
    assert!(cut.iter().zip(&full).any(|(a, b)| (a - b).abs() > 1e-6));
}

/// f32 gradients agree with f64 ones to single precision.
#[test]
fn f32_gradients_agree_with_f64() {
    let mut s = base(6, NetworkType::Z, Transfer::Tanh);
    s.trainable = vec!["recurrent".into(), "readout".into(), "eta".into()];
    let m64 = RateModel::<f64>::new(s.clone()).unwrap();
    let m32 = RateModel::<f32>::new(s).unwrap();
    let c = case(2, 2, 3);
    let x32: Vec<f32> = c.x.iter().map(|&v| v as f32).collect();
    let o = PassOptions::default();
    let f64_ = m64.forward(&c.x, c.steps, c.lanes, None, &o).unwrap();
    let f32_ = m32.forward(&x32, c.steps, c.lanes, None, &o).unwrap();
    let loss = Loss::new(LossKind::Mse);
    let (_, d64) = loss.eval(&f64_.outputs, 2, &c.target, &c.mask).unwrap();
    let (_, d32) = loss.eval(&f32_.outputs, 2, &c.target, &c.mask).unwrap();
    let g64 = m64.backward(&f64_, &c.x, &d64, &o).unwrap();
    let g32 = m32.backward(&f32_, &x32, &d32, &o).unwrap();
    let norm: f64 = g64.iter().map(|v| v * v).sum::<f64>().sqrt();
    let diff: f64 = g64
        .iter()
        .zip(&g32)
        .map(|(a, &b)| (a - b as f64).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(diff / norm < 1e-4, "{}", diff / norm);
}

/// With checkpoints the forward pass keeps (T/K)·B·N state values, not T·B·N; past the
/// store-everything limit the default is K = ⌈√T⌉.
#[test]
fn checkpointed_memory_grows_with_the_square_root_of_t() {
    let mut s = base(8, NetworkType::R, Transfer::Tanh);
    s.trainable.clear();
    let model = RateModel::<f32>::new(s).unwrap();
    let (lanes, n) = (4, 8);
    let steps = neuroxide_train::model::STORE_ALL_LIMIT / (lanes * n) + 100;
    let x = vec![0.1f32; steps * lanes * 2];
    let fwd = model
        .forward(&x, steps, lanes, None, &PassOptions::default())
        .unwrap();
    let k = (steps as f64).sqrt().ceil() as usize;
    assert_eq!(fwd.kept_values(), steps.div_ceil(k) * lanes * n);
    let small = model
        .forward(
            &x[..100 * lanes * 2],
            100,
            lanes,
            None,
            &PassOptions::default(),
        )
        .unwrap();
    // Every state and drive, plus the checkpoint at step 0.
    assert_eq!(small.kept_values(), (1 + 101 + 100) * lanes * n);
}

/// A batch larger than one block of lanes (37 = 16 + 16 + 5): the per-block passes and the
/// block-ordered sum of their gradients, with and without recomputation, on 1 and 3 threads.
#[test]
fn several_lane_blocks_on_several_threads() {
    assert_eq!(neuroxide_train::kernels::LANE_BLOCK, 16);
    for nt in [NetworkType::R, NetworkType::Z] {
        for (k, threads) in [(None, 1), (Some(4), 3)] {
            check_lanes(
                &format!("{nt:?}/37 lanes, checkpoint {k:?}, {threads} threads"),
                base(5, nt, Transfer::Tanh),
                PassOptions {
                    checkpoint_every: k,
                    threads,
                    rate_l2: 0.2,
                    ..Default::default()
                },
                37,
            );
        }
    }
}

/// Same inputs → the same bits of outputs and gradient for any thread count (f32, 37 lanes).
#[test]
fn gradient_is_bitwise_identical_for_any_thread_count() {
    for nt in [NetworkType::R, NetworkType::Z] {
        let mut s = base(12, nt, Transfer::Tanh);
        s.trainable = vec!["recurrent".into(), "readin".into(), "readout".into()];
        let model = RateModel::<f32>::new(s).unwrap();
        let c = case(model.n_in, model.n_out, 37);
        let x: Vec<f32> = c.x.iter().map(|&v| v as f32).collect();
        let run = |threads: usize| {
            let opts = PassOptions {
                threads,
                ..Default::default()
            };
            let fwd = model.forward(&x, c.steps, c.lanes, None, &opts).unwrap();
            let (_, d) = Loss::new(LossKind::Mse)
                .eval(&fwd.outputs, model.n_out, &c.target, &c.mask)
                .unwrap();
            let g = model.backward(&fwd, &x, &d, &opts).unwrap();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            (bits(&fwd.outputs), bits(&fwd.final_state), bits(&g))
        };
        let one = run(1);
        for threads in [2, 3, 8] {
            assert_eq!(one, run(threads), "{nt:?}: {threads} threads");
        }
    }
}
