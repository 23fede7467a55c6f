//! Conv2dRateModel (NeuroSimTools): the exact BPTT adjoint against central finite differences
//! in f64, for R- and Z-type models with every readout kind, strided and padded readins; the
//! forward pass against a direct evaluation of the convolution sums; and bad shapes.

use neuroxide_train::model::{NetworkType, Transfer};
use neuroxide_train::{Conv2dModel, Conv2dSpec, ConvGeometry, ConvReadout, TrainError};

/// A small deterministic stream (no dependence on the model's own generator).
fn values(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            scale * (((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0)
        })
        .collect()
}

fn spec(network_type: NetworkType, transfer: Transfer, readout: ConvReadout) -> Conv2dSpec {
    Conv2dSpec {
        network_type,
        transfer,
        channels: 2,
        kernel: [3, 2],
        input: [3, 6, 9],
        // 3 → 2 channels, a 3×3 kernel, stride (1, 2), one zero above/below, none left, one right:
        // a 6 × 4 state.
        readin: Some(ConvGeometry {
            c_in: 3,
            c_out: 2,
            kernel: [3, 3],
            stride: [1, 2],
            padding: [1, 1, 0, 1],
        }),
        readout,
        bias_recurrent: true,
        eta: values(2 * 6 * 4, 9, 0.3).iter().map(|e| 0.5 + e).collect(),
        trainable: vec![],
        seed: 3,
    }
}

fn readouts() -> Vec<ConvReadout> {
    vec![
        ConvReadout::Identity,
        ConvReadout::Conv {
            geometry: ConvGeometry {
                c_in: 2,
                c_out: 3,
                kernel: [2, 3],
                stride: [2, 1],
                padding: [0, 0, 1, 1],
            },
            bias: true,
        },
        ConvReadout::Linear {
            outputs: 3,
            bias: true,
        },
    ]
}

/// L = Σ w ⊙ y, with fixed random weights w.
fn loss(model: &Conv2dModel, x: &[f64], steps: usize, lanes: usize, h0: &[f64], w: &[f64]) -> f64 {
    let fwd = model.forward(x, steps, lanes, Some(h0)).unwrap();
    fwd.outputs.iter().zip(w).map(|(a, b)| a * b).sum()
}

fn gradient_check(network_type: NetworkType, transfer: Transfer) {
    let (steps, lanes) = (5, 2);
    for (r, readout) in readouts().into_iter().enumerate() {
        let mut model = Conv2dModel::new(spec(network_type, transfer, readout)).unwrap();
        // Larger weights than the default draws, so that the tanh works off its linear part.
        let n = model.params.values.len();
        model.params.values = values(n, 11 + r as u64, 0.6);
        let x = values(steps * lanes * model.input_len, 5, 1.0);
        let h0 = values(lanes * model.state_len, 7, 0.5);
        let fwd = model.forward(&x, steps, lanes, Some(&h0)).unwrap();
        let w = values(fwd.outputs.len(), 13, 1.0);
        let grad = model.backward(&fwd, &x, &w).unwrap();
        let eps = 1e-6;
        let mut worst = 0.0f64;
        for i in 0..n {
            let mut plus = model.clone();
            plus.params.values[i] += eps;
            let mut minus = model.clone();
            minus.params.values[i] -= eps;
            let numeric = (loss(&plus, &x, steps, lanes, &h0, &w)
                - loss(&minus, &x, steps, lanes, &h0, &w))
                / (2.0 * eps);
            let err = (grad[i] - numeric).abs() / numeric.abs().max(grad[i].abs()).max(1e-3);
            worst = worst.max(err);
            assert!(
                err < 1e-4,
                "{network_type:?} {readout:?}: parameter {i}: adjoint {} vs finite differences {numeric}",
                grad[i]
            );
        }
        assert!(worst < 1e-4);
        // Every slot gets a gradient (no parameter is silently left out).
        for slot in &model.params.slots {
            let g = &grad[slot.offset..slot.offset + slot.len];
            assert!(
                g.iter().any(|v| v.abs() > 1e-8),
                "{}: zero gradient",
                slot.name
            );
        }
    }
}

#[test]
fn r_type_gradients_match_finite_differences() {
    gradient_check(NetworkType::R, Transfer::Tanh);
}

#[test]
fn z_type_gradients_match_finite_differences() {
    gradient_check(NetworkType::Z, Transfer::Tanh);
}

#[test]
fn identity_transfer_gradients_match_finite_differences() {
    gradient_check(NetworkType::R, Transfer::Id);
}

/// The forward pass of an R-type model against the convolution sums written out.
#[test]
fn forward_equals_the_convolution_sums() {
    let readout = ConvReadout::Identity;
    let mut model = Conv2dModel::new(spec(NetworkType::R, Transfer::Tanh, readout)).unwrap();
    assert_eq!(model.state_shape, [2, 6, 4]);
    let n = model.params.values.len();
    model.params.values = values(n, 21, 0.5);
    let (steps, lanes) = (3, 2);
    let x = values(steps * lanes * model.input_len, 23, 1.0);
    let fwd = model.forward(&x, steps, lanes, None).unwrap();
    let k = model.params.get("recurrent").unwrap().to_vec(); // [2, 2, 3, 2]
    let b = model.params.get("bias").unwrap().to_vec();
    let kin = model.params.get("readin").unwrap().to_vec(); // [2, 3, 3, 3]
    let eta = &spec(NetworkType::R, Transfer::Tanh, readout).eta;
    let (c, h, w) = (2usize, 6usize, 4usize);
    let mut r = vec![0.0; lanes * c * h * w];
    for t in 0..steps {
        let mut next = r.clone();
        for lane in 0..lanes {
            let xt = &x[(t * lanes + lane) * 3 * 6 * 9..][..3 * 6 * 9];
            let rl = &r[lane * c * h * w..][..c * h * w];
            for co in 0..c {
                for i in 0..h {
                    for j in 0..w {
                        let mut a = b[co];
                        // recurrent: 3×2 kernel, "same": one row above and below, none left, one right
                        for ci in 0..c {
                            for ki in 0..3 {
                                for kj in 0..2 {
                                    let (ii, jj) =
                                        (i as isize + ki as isize - 1, (j + kj) as isize);
                                    if ii >= 0 && ii < h as isize && jj < w as isize {
                                        a += k[((co * c + ci) * 3 + ki) * 2 + kj]
                                            * rl[(ci * h + ii as usize) * w + jj as usize];
                                    }
                                }
                            }
                        }
                        // readin: stride (1, 2), padding (1, 1, 0, 1) on a 6 × 9 input
                        for ci in 0..3 {
                            for ki in 0..3 {
                                for kj in 0..3 {
                                    let (ii, jj) =
                                        (i as isize + ki as isize - 1, (2 * j + kj) as isize);
                                    if (0..6).contains(&ii) && jj < 9 {
                                        a += kin[((co * 3 + ci) * 3 + ki) * 3 + kj]
                                            * xt[(ci * 6 + ii as usize) * 9 + jj as usize];
                                    }
                                }
                            }
                        }
                        let idx = (co * h + i) * w + j;
                        let e = eta[idx];
                        next[lane * c * h * w + idx] = rl[idx] + e * (-rl[idx] + a.tanh());
                    }
                }
            }
        }
        r = next;
        let y = &fwd.outputs[t * lanes * c * h * w..][..lanes * c * h * w];
        for (a, b) in y.iter().zip(&r) {
            assert!((a - b).abs() < 1e-13, "step {t}: {a} vs {b}");
        }
    }
    for (a, b) in fwd.final_state.iter().zip(&r) {
        assert!((a - b).abs() < 1e-13);
    }
}

#[test]
fn bad_shapes_are_errors() {
    let mut s = spec(NetworkType::R, Transfer::Relu, ConvReadout::Identity);
    s.readin = None; // 3 input channels but 2 recurrent ones
    let e = Conv2dModel::new(s).unwrap_err().to_string();
    assert!(e.contains("in_channels"), "{e}");
    let mut s = spec(NetworkType::R, Transfer::Relu, ConvReadout::Identity);
    s.eta = vec![0.5; 7];
    let e = Conv2dModel::new(s).unwrap_err().to_string();
    assert!(e.contains("eta") && e.contains("48"), "{e}");
    let mut s = spec(NetworkType::R, Transfer::Relu, ConvReadout::Identity);
    s.readin.as_mut().unwrap().kernel = [9, 3];
    let e = Conv2dModel::new(s).unwrap_err().to_string();
    assert!(e.contains("readin") && e.contains("kernel"), "{e}");
    let mut s = spec(NetworkType::R, Transfer::Relu, ConvReadout::Identity);
    s.trainable = vec!["readout".into()];
    let e = Conv2dModel::new(s).unwrap_err().to_string();
    assert!(e.contains("trainable") && e.contains("readin"), "{e}");
    let model =
        Conv2dModel::new(spec(NetworkType::R, Transfer::Relu, ConvReadout::Identity)).unwrap();
    match model.forward(&[0.0; 5], 1, 1, None) {
        Err(TrainError::Shape(m)) => assert!(m.contains("162"), "{m}"),
        other => panic!("{other:?}"),
    }
}
