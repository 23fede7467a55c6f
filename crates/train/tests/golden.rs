//! The BPTT adjoint against PyTorch autograd: gradients of small networks stored by
//! `tests/golden/make_golden.py` (an independent implementation of the recurrence), so this test
//! needs no PyTorch.

use neuroxide::NamedArray;
use neuroxide_train::{
    Layer, Loss, LossKind, LowRank, NetworkType, PassOptions, RateModel, RateModelSpec, Recurrent,
    Transfer,
};
use std::path::Path;

fn get<'a>(arrays: &'a [NamedArray], name: &str) -> &'a NamedArray {
    arrays
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

fn golden(
    name: &str,
    network_type: NetworkType,
    transfer: Transfer,
    low_rank: Option<(bool, f64)>,
    truncate: Option<usize>,
) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.npz"));
    let arrays = neuroxide_io::read_npz(&path).unwrap();
    let eta = get(&arrays, "param.eta");
    let n = eta.shape[0];
    let readin = get(&arrays, "param.readin");
    let readout = get(&arrays, "param.readout");
    let (n_in, n_out) = (readin.shape[1], readout.shape[0]);
    let mut spec = RateModelSpec::new(n, n_in, n_out);
    spec.network_type = network_type;
    spec.transfer = transfer;
    spec.eta = eta.data.to_f64();
    spec.recurrent = match low_rank {
        Some((normalize, scale)) => Recurrent::LowRank(LowRank {
            rank: 2,
            u_eq_v: false,
            normalize,
            clamp: None,
            scale: Some(scale),
            init_std: 1.0,
            base: None,
        }),
        None => Recurrent::Random,
    };
    spec.readin = Layer::Size(n_in);
    spec.mask = arrays
        .iter()
        .find(|a| a.name == "weight_mask")
        .map(|a| a.data.to_f64());
    spec.dale = arrays
        .iter()
        .find(|a| a.name == "dale")
        .map(|a| a.data.to_f64());
    let mut probe = spec.clone();
    probe.trainable.clear();
    spec.trainable = RateModel::<f64>::new(probe).unwrap().parameter_names();
    let mut model = RateModel::<f64>::new(spec).unwrap();
    model.params.load_arrays(&arrays, "param.").unwrap();

    let x = get(&arrays, "x");
    let (steps, lanes) = (x.shape[0], x.shape[1]);
    let x = x.data.to_f64();
    let target = get(&arrays, "target").data.to_f64();
    let mask = get(&arrays, "mask").data.to_f64();
    let opts = PassOptions {
        checkpoint_every: Some(5),
        truncate,
        rate_l2: 0.0,
        ..Default::default()
    };
    let fwd = model.forward(&x, steps, lanes, None, &opts).unwrap();
    let (loss, d_out) = Loss::new(LossKind::Mse)
        .eval(&fwd.outputs, n_out, &target, &mask)
        .unwrap();
    let want = get(&arrays, "loss").data.to_f64()[0];
    assert!(
        (loss - want).abs() < 1e-12 * want.abs(),
        "{name}: loss {loss} vs {want}"
    );
    let grad = model.backward(&fwd, &x, &d_out, &opts).unwrap();
    for slot in &model.params.slots {
        let want = get(&arrays, &format!("grad.{}", slot.name)).data.to_f64();
        let got = &grad[slot.offset..slot.offset + slot.len];
        let err: f64 = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = want.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(
            err <= 1e-10 * norm.max(1e-300),
            "{name}: `{}` differs from PyTorch by {err:e} (norm {norm:e})",
            slot.name
        );
        assert!(
            norm > 0.0,
            "{name}: `{}` has a zero golden gradient",
            slot.name
        );
    }
}

#[test]
fn r_type_tanh_dense_matches_pytorch() {
    golden("r_tanh_dense", NetworkType::R, Transfer::Tanh, None, None);
}

#[test]
fn z_type_relu_masked_dale_matches_pytorch() {
    golden(
        "z_relu_mask_dale",
        NetworkType::Z,
        Transfer::Relu,
        None,
        None,
    );
}

#[test]
fn normalised_low_rank_matches_pytorch() {
    golden(
        "r_tanh_low_rank_norm",
        NetworkType::R,
        Transfer::Tanh,
        Some((true, 2.5)),
        None,
    );
}

#[test]
fn truncated_bptt_matches_pytorch_detach() {
    golden(
        "z_tanh_truncated4",
        NetworkType::Z,
        Transfer::Tanh,
        None,
        Some(4),
    );
}
