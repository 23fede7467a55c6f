"""NeuroSimTools' drop-in API beyond the basic RateModel/EIF cases (tests/python/test_compat.py):
Conv2dRateModel (forward and fit), parameters() for a user's own optimiser loop, mini-batches in
RateModel.fit, the LIF neuron model, per-neuron tausyn mixes, and initial_Y — each against a
NumPy reference of NeuroSimTools' equations written here."""
import numpy as np
import pytest

from neuroxide.compat import neurosimtools as nst

F = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0), "id": lambda v: v}


def conv2d(x, k, stride=(1, 1), pad=(0, 0, 0, 0), bias=None):
    """torch.nn.Conv2d's cross-correlation: x (B, Ci, H, W), k (Co, Ci, kh, kw), pad (top,
    bottom, left, right)."""
    co, _, kh, kw = k.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[1]), (pad[2], pad[3])))
    ho = (xp.shape[2] - kh) // stride[0] + 1
    wo = (xp.shape[3] - kw) // stride[1] + 1
    out = np.zeros((x.shape[0], co, ho, wo))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride[0] * (ho - 1) + 1:stride[0],
                       j:j + stride[1] * (wo - 1) + 1:stride[1]]
            out += np.einsum("bchw,oc->bohw", patch, k[:, :, i, j])
    if bias is not None:
        out += bias[None, :, None, None]
    return out


def same(k):
    return ((k[0] - 1) // 2, k[0] - 1 - (k[0] - 1) // 2, (k[1] - 1) // 2, k[1] - 1 - (k[1] - 1) // 2)


def conv_reference(m, x, h0, readin_pad=(0, 0, 0, 0), readin_stride=(1, 1),
                   readout_pad=(0, 0, 0, 0), readout_stride=(1, 1)):
    """NeuroSimTools' Conv2dRateModel update on x (B, C_in, Nt, H, W): the history of the
    state (B, C, Nt, H', W') and the per-step outputs of the readout (list over time)."""
    f = F[m.f]
    h, hist, outs = h0.copy(), [], []
    for t in range(x.shape[2]):
        xt = x[:, :, t]
        u = xt if m.Jx is None else conv2d(xt, m.Jx, readin_stride, readin_pad)
        if m.Network_Type == "R":
            h = h + m.eta * (-h + f(conv2d(h, m.J, pad=same(m.J.shape[2:]), bias=m.bias) + u))
            rate = h
        else:
            h = h + m.eta * (-h + conv2d(f(h), m.J, pad=same(m.J.shape[2:]), bias=m.bias) + u)
            rate = f(h)
        hist.append(h)
        if m.readout in ("conv", "conv_flatten"):
            outs.append(conv2d(rate, m.Jout, readout_stride, readout_pad, m.bout))
        elif m.readout == "full":
            outs.append(rate.reshape(len(rate), -1) @ m.Jout.T + (0 if m.bout is None else m.bout))
        else:
            outs.append(rate)
    return np.stack(hist, 2), outs


# --- Conv2dRateModel ----------------------------------------------------------------------------


def test_conv2d_rate_model_equals_its_update_r_type_conv_readout():
    rng = np.random.default_rng(0)
    # 2 input channels on 7 × 8 images; readin 3×3, padding 1, stride 2 → a 4 × 4 state of 3
    # channels; recurrent kernel (3, 2) ('same' pads one row above and below, one column right);
    # readout 2×2 'valid' with bias → 2 × 3 × 3; per-channel η.
    m = nst.Conv2dRateModel(3, (3, 2), in_channels=2, readin_kernel_size=3, readin_padding=1,
                            readin_stride=2, readout_type="conv", out_channels=2,
                            readout_kernel_size=2, readout_padding="valid", f="tanh",
                            eta=np.array([0.2, 0.5, 1.0])[:, None, None], bias_recurrent=True,
                            bias_output=True)
    assert m.J.shape == (3, 3, 3, 2) and m.Jx.shape == (3, 2, 3, 3) and m.Jout.shape == (2, 3, 2, 2)
    bound = 1 / np.sqrt(3 * 3 * 2)  # PyTorch's default init: uniform in ±1/√fan_in
    assert np.abs(m.J).max() <= bound and np.abs(m.J).max() > 0.5 * bound
    m.J *= 3  # beyond tanh's linear range
    x = rng.normal(0, 1, (2, 2, 6, 7, 8))
    h0 = rng.normal(0, 0.5, (2, 3, 4, 4))
    y = m(x, initial_state=h0)
    hist, outs = conv_reference(m, x, h0, readin_pad=(1, 1, 1, 1), readin_stride=(2, 2))
    assert y.shape == (2, 2, 6, 3, 3) and m.hidden_state_history.shape == (2, 3, 6, 4, 4)
    np.testing.assert_allclose(m.hidden_state_history, hist, atol=1e-12)
    np.testing.assert_allclose(m.hidden_state, hist[:, :, -1], atol=1e-12)
    np.testing.assert_allclose(y, np.stack(outs, 2), atol=1e-12)
    last = m(x, initial_state=h0, return_time_series=False, store_hidden_history=False)
    np.testing.assert_allclose(last, outs[-1], atol=1e-12)
    assert m.hidden_state_history is None


@pytest.mark.parametrize("readout", ["id", "flatten", "full", "conv_flatten"])
def test_conv2d_rate_model_z_type_readouts_and_constant_input(readout):
    rng = np.random.default_rng(1)
    m = nst.Conv2dRateModel(2, 3, readout_type=readout, out_channels=4, readout_kernel_size=3,
                            f="relu", eta=0.3, bias_recurrent=True, bias_output=True,
                            Network_Type="Z", seed=2)
    m.J *= 4
    x = rng.normal(0, 1, (3, 2, 5, 5))  # constant input with Nt (no readin: C_in = C)
    y = m(x, Nt=7)
    # The readout convolution's default padding is 'same': one zero around a 3×3 kernel.
    hist, outs = conv_reference(m, np.repeat(x[:, :, None], 7, axis=2), np.zeros((3, 2, 5, 5)),
                                readout_pad=(1, 1, 1, 1))
    np.testing.assert_allclose(m.hidden_state_history, hist, atol=1e-12)
    if readout == "id":
        ref = np.stack(outs, 2)
    elif readout == "flatten":  # torch's Flatten of the (B, C, Nt, H, W) history
        ref = np.stack(outs, 2).reshape(3, -1)
    elif readout == "conv_flatten":
        ref = np.stack(outs, 2).reshape(3, -1)
        assert m.Jout.shape == (4, 2, 3, 3) and y.shape == (3, 4 * 7 * 5 * 5)
    else:  # 'full': a dense layer on each step's flattened image, (B, Nt, out_channels)
        assert m.Jout.shape == (4, 50)
        ref = np.stack(outs, 1)
    np.testing.assert_allclose(y, ref, atol=1e-12)
    final = m(x, Nt=7, return_time_series=False)
    expected = outs[-1].reshape(3, -1) if readout in ("flatten", "conv_flatten") else outs[-1]
    np.testing.assert_allclose(final, expected, atol=1e-12)
    # 'keep' continues from the last state.
    again = m(x, Nt=3, initial_state="keep")
    hist2, _ = conv_reference(m, np.repeat(x[:, :, None], 3, axis=2), hist[:, :, -1])
    np.testing.assert_allclose(m.hidden_state_history, hist2, atol=1e-12)
    assert again.shape[0] == 3


def test_conv2d_rate_model_bad_arguments():
    with pytest.raises(ValueError, match="readout_type"):
        nst.Conv2dRateModel(2, 3, readout_type="dense")
    with pytest.raises(ValueError, match="out_channels"):
        nst.Conv2dRateModel(2, 3, readout_type="conv", readout_kernel_size=3)
    with pytest.raises(ValueError, match="stride"):
        nst.Conv2dRateModel(2, 3, in_channels=1, readin_kernel_size=3, readin_stride=2)
    with pytest.raises(TypeError, match="'tanh', 'relu' or 'id'"):
        nst.Conv2dRateModel(2, 3, f=np.sin)
    with pytest.raises(ValueError, match="expected 'tanh', 'relu' or 'id'"):
        nst.Conv2dRateModel(2, 3, f="sigmoid")
    with pytest.raises(ValueError, match="expected 'tanh', 'relu' or 'id'"):
        nst.RateModel(4, 1, 1, f="softplus")
    with pytest.raises(TypeError, match="Python callable"):
        nst.RateModel(4, 1, 1, f=np.tanh)
    m = nst.Conv2dRateModel(2, 3)
    with pytest.raises(ValueError, match="channels"):
        m(np.zeros((1, 3, 4, 5, 5)))
    with pytest.raises(ValueError, match="Nt"):
        m(np.zeros((1, 2, 5, 5)))


@pytest.mark.parametrize("network_type", ["R", "Z"])
def test_conv2d_fit_gradient_matches_finite_differences(network_type):
    rng = np.random.default_rng(3)
    m = nst.Conv2dRateModel(2, 3, in_channels=1, readin_kernel_size=(2, 3), readin_padding=0,
                            readout_type="conv", out_channels=1, readout_kernel_size=2,
                            readout_padding="valid", bias_recurrent=True, bias_output=True,
                            eta=0.4, Network_Type=network_type)
    x = rng.normal(0, 1, (2, 1, 4, 5, 6))  # state 4 × 4, outputs 1 × 3 × 3
    target = rng.normal(0, 0.5, (2, 1, 4, 3, 3))
    h0 = np.zeros((2, 2, 4, 4))

    def loss_of(params):
        saved = [p.copy() for p in m.parameters()]
        for p, v in zip(m.parameters(), params):
            p[...] = v
        y = np.stack(conv_reference(m, x, h0)[1], 2)
        for p, v in zip(m.parameters(), saved):
            p[...] = v
        return np.mean((y - target) ** 2)

    before = [p.copy() for p in m.parameters()]
    assert len(before) == 5  # J, bias, Jx, Jout, bout
    lr = 1e-3
    losses = m.fit(x, target, optimizer="sgd", lr=lr, epochs=1)
    np.testing.assert_allclose(losses[0], loss_of(before), rtol=1e-12)
    eps = 1e-6
    for k, (b, a) in enumerate(zip(before, m.parameters())):
        grad = (b - a) / lr
        for idx in [tuple(rng.integers(0, s) for s in b.shape) for _ in range(3)]:
            plus = [p.copy() for p in before]
            minus = [p.copy() for p in before]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            numeric = (loss_of(plus) - loss_of(minus)) / (2 * eps)
            np.testing.assert_allclose(grad[idx], numeric, rtol=1e-5, atol=1e-9)


def test_conv2d_fit_with_adam_learns_and_masks():
    rng = np.random.default_rng(4)
    m = nst.Conv2dRateModel(2, 3, readout_type="full", out_channels=1, f="tanh", eta=0.5,
                            bias_recurrent=True, bias_output=True, seed=1)
    x = rng.normal(0, 1, (8, 2, 6, 4, 4))
    target = x[:, :1].mean(axis=(3, 4)).transpose(0, 2, 1)  # (B, Nt, 1): the mean of channel 0
    losses = m.fit(x, target, lr=2e-2, epochs=80, batch_size=4, seed=3)
    assert losses.shape == (160,)
    assert losses[-2:].mean() < 0.3 * losses[:2].mean(), (losses[:2], losses[-2:])
    y = m(x)
    np.testing.assert_allclose(y, np.stack(conv_reference(m, x, np.zeros((8, 2, 4, 4)))[1], 1),
                               atol=1e-12)
    # A mask of zeros on the second half of the trials: their targets do not matter.
    mask = np.ones_like(target)
    mask[4:] = 0
    a = nst.Conv2dRateModel(2, 3, readout_type="full", out_channels=1, seed=1)
    b = nst.Conv2dRateModel(2, 3, readout_type="full", out_channels=1, seed=1)
    other = target.copy()
    other[4:] = 5.0
    la = a.fit(x, target, mask=mask, lr=1e-2, epochs=3)
    lb = b.fit(x, other, mask=mask, lr=1e-2, epochs=3)
    np.testing.assert_allclose(la, lb, rtol=1e-12)
    with pytest.raises(ValueError, match="target"):
        m.fit(x, target[:, :3], epochs=1)


# --- parameters() and mini-batches --------------------------------------------------------------


def rate_reference(model, x, r0):
    f = F[model.f]
    r, out = r0.copy(), []
    for t in range(x.shape[1]):
        r = r + model.eta * (-r + f(r @ model.J.T + model.bias + x[:, t] @ model.Jx.T))
        out.append(r @ model.Jout.T + model.bout)
    return np.stack(out, 1)


def test_rate_model_parameters_are_the_models_arrays():
    rng = np.random.default_rng(5)
    model = nst.RateModel(10, readin=3, readout=2, eta=0.3)
    params = model.parameters()
    assert [p.shape for p in params] == [(10, 10), (10, 3), (2, 10), (10,), (2,)]
    x = rng.normal(0, 1, (2, 8, 3))
    before = model(x)
    for p in params:  # a user's optimiser step, in place
        p -= 0.1 * rng.normal(0, 1, p.shape)
    after = model(x)
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, rate_reference(model, x, np.zeros((2, 10))), atol=1e-12)
    # fit updates the same arrays in place.
    model.fit(x, rng.normal(0, 1, (2, 8, 2)), epochs=2)
    assert all(a is b for a, b in zip(params, model.parameters()))
    np.testing.assert_allclose(model(x), rate_reference(model, x, np.zeros((2, 10))), atol=1e-10)
    conv = nst.Conv2dRateModel(2, 3, in_channels=1, readin_kernel_size=3)
    xc = rng.normal(0, 1, (1, 1, 4, 5, 5))
    y0 = conv(xc)
    conv.parameters()[0][...] *= -1
    assert not np.allclose(conv(xc), y0)
    spiking = nst.SpikingModel(np.zeros((4, 4)), 5.0)
    assert spiking.parameters()[0] is spiking.recurrent


def test_rate_model_fit_mini_batches_are_seeded_shuffled_steps():
    rng = np.random.default_rng(6)
    x = rng.normal(0, 1, (7, 10, 3))
    target = rng.normal(0, 0.5, (7, 10, 2))

    def fresh():
        return nst.RateModel(9, readin=3, readout=2, eta=0.5, seed=4)

    batched = fresh()
    losses = batched.fit(x, target, optimizer="sgd", lr=0.05, epochs=2, batch_size=3, seed=11)
    assert losses.shape == (6,)  # ⌈7/3⌉ = 3 steps per epoch
    # The same steps by hand: SGD has no state, so a step on each mini-batch of the seeded
    # permutations in turn is the batched fit.
    by_hand, expected = fresh(), []
    perm = np.random.default_rng(11)
    for _ in range(2):
        order = perm.permutation(7)
        for k in range(0, 7, 3):
            idx = order[k:k + 3]
            expected.append(by_hand.fit(x[idx], target[idx], optimizer="sgd", lr=0.05,
                                        epochs=1)[0])
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    for a, b in zip(batched.parameters(), by_hand.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    # One mini-batch of all trials is the full-batch step (the order does not change the mean).
    whole, full = fresh(), fresh()
    l1 = whole.fit(x, target, lr=1e-2, epochs=3, batch_size=7, seed=1)
    l2 = full.fit(x, target, lr=1e-2, epochs=3)
    np.testing.assert_allclose(l1, l2, rtol=1e-10)
    # Another seed, other batches.
    other = fresh().fit(x, target, optimizer="sgd", lr=0.05, epochs=2, batch_size=3, seed=12)
    assert not np.allclose(other, losses)
    with pytest.raises(ValueError, match="batch_size"):
        fresh().fit(x, target, epochs=1, batch_size=0)


# --- SpikingModel: LIF, tausyn mixes, initial_Y -------------------------------------------------


def spiking_reference(J, tau, x0, v0, y0, dt, steps, params, model="EIF"):
    p = params
    V, Y = v0.copy(), y0.copy()
    spikes, vs, ys = [], [], []
    for _ in range(steps):
        Z = Y @ J.T + x0
        if model == "EIF":
            dv = (-(V - p["EL"]) + p["DT"] * np.exp((V - p["VT"]) / p["DT"]) + Z) / p["taum"]
        else:
            dv = (-(V - p["EL"]) + Z) / p["taum"]
        V = np.maximum(V + dt * dv, p["Vlb"])
        s = V >= p["Vth"]
        V[s] = p["Vre"]
        Y = Y + dt / tau * (-Y + s / dt)
        spikes.append(s)
        vs.append(np.where(s, p["Vth"], V))
        ys.append(Y)
    return np.stack(spikes, 1), np.stack(vs, 1), np.stack(ys, 1), V


def ei_matrix(rng, n, ne, p=0.3):
    J = np.abs(rng.normal(0, 1, (n, n))) * (rng.random((n, n)) < p)
    J[:, ne:] *= -3
    return J


def test_lif_neuron_model_equals_its_euler_update():
    rng = np.random.default_rng(7)
    n, ne, batch = 30, 20, 2
    J = 0.5 * ei_matrix(rng, n, ne)
    tau = np.r_[np.full(ne, 8.0), np.full(n - ne, 4.0)]
    model = nst.SpikingModel(J, tau, NeuronModel="LIF")
    p = model.NeuronParams
    assert p == {"taum": 10.0, "EL": -72.0, "Vth": -55.0, "Vre": -72.0, "Vlb": -85.0}
    dt, steps = 0.1, 1000
    x0 = 22.0 + rng.normal(0, 3, (batch, n))
    v0 = rng.uniform(-72, -55, (batch, n))
    out = model(x0, dt, T=steps * dt, initial_V=v0, dtRecord=1.0, VIRecord=[0, 25])
    spikes, vs, ys, _ = spiking_reference(J, tau, x0, v0, np.zeros((batch, n)), dt, steps, p, "LIF")
    assert spikes.sum() > 100
    np.testing.assert_array_equal(out["S"], spikes.reshape(batch, 100, 10, n).sum(2))
    np.testing.assert_allclose(out["V"], vs[:, :, [0, 25]], atol=1e-9)
    np.testing.assert_allclose(out["r"], spikes.sum(1) / (steps * dt))
    # 'random': uniform in [Vre, Vth] for LIF (no spikes in one short step at rest).
    out = model(np.zeros((1, n)), dt, T=dt, initial_V="random", VIRecord=list(range(n)))
    assert out["V"].min() >= -72.01 and out["V"].max() <= -55 and out["V"].std() > 2
    with pytest.raises(TypeError, match="'EIF' or 'LIF'"):
        nst.SpikingModel(J, tau, NeuronModel=lambda V, I: -V + I)
    with pytest.raises(ValueError, match="VT"):
        nst.SpikingModel(J, tau, NeuronModel="LIF", NeuronParams={"VT": -50})


def test_per_neuron_tausyn_mixes_map_onto_populations():
    rng = np.random.default_rng(8)
    # Two E/I modules with their own time constants (A: 8/4 ms, B: 12/6 ms); A's excitatory
    # neurons drive B's, which have no recurrent excitation of their own.
    sizes = [("AE", 12, 8.0), ("AI", 4, 4.0), ("BE", 10, 12.0), ("BI", 4, 6.0)]
    n = sum(s for _, s, _ in sizes)
    start = np.cumsum([0] + [s for _, s, _ in sizes])
    block = {name: slice(start[k], start[k + 1]) for k, (name, _, _) in enumerate(sizes)}
    tau = np.concatenate([np.full(s, t) for _, s, t in sizes])
    J = np.zeros((n, n))
    for post, pre, w in [("AE", "AE", 1), ("AI", "AE", 1), ("AE", "AI", -3), ("AI", "AI", -3),
                         ("BE", "AE", 1), ("BI", "BE", 1), ("BE", "BI", -3), ("BI", "BI", -3)]:
        shape = (block[post].stop - block[post].start, block[pre].stop - block[pre].start)
        J[block[post], block[pre]] = w * np.abs(rng.normal(0, 1, shape)) * (rng.random(shape) < 0.4)
    perm = rng.permutation(n)  # the groups need not be contiguous
    J, tau = J[np.ix_(perm, perm)], tau[perm]
    model = nst.SpikingModel(J, tau)
    assert len(model._groups()) == 3  # (8, 4) for A, (8, 6) for BE, (12, 6) for BI
    batch, dt, steps = 2, 0.1, 800
    x0 = 20.0 + rng.normal(0, 2, (batch, n))
    v0 = rng.uniform(-72, -55, (batch, n))
    y0 = rng.uniform(0, 0.05, (batch, n))
    record = [int(np.flatnonzero(perm == i)[0]) for i in (0, 13, 20, 28)]
    out = model(x0, dt, T=steps * dt, initial_V=v0, initial_Y=y0, dtRecord=0.5, VIRecord=record)
    spikes, vs, ys, v_end = spiking_reference(J, tau, x0, v0, y0, dt, steps, model.NeuronParams)
    assert spikes.sum() > 100
    np.testing.assert_array_equal(out["S"], spikes.reshape(batch, 160, 5, n).sum(2) / 0.5)
    np.testing.assert_allclose(out["V"], vs[:, :, record], atol=1e-8)
    np.testing.assert_allclose(out["Y"], ys.reshape(batch, 160, 5, n).mean(2), atol=1e-12)
    # initial_Y='keep' continues the synapses (with the voltages carried over by hand).
    out2 = model(x0, dt, T=300 * dt, initial_V=v_end, initial_Y="keep", dtRecord=0.5)
    spikes2, _, ys2, _ = spiking_reference(J, tau, x0, v_end, ys[:, -1], dt, 300,
                                           model.NeuronParams)
    np.testing.assert_array_equal(out2["S"], spikes2.reshape(batch, 60, 5, n).sum(2) / 0.5)
    np.testing.assert_allclose(out2["Y"], ys2.reshape(batch, 60, 5, n).mean(2), atol=1e-10)
    # A neuron whose excitatory inputs have two time constants cannot map: a clear error.
    bad = np.zeros((3, 3))
    bad[0, 1] = bad[0, 2] = 1.0
    with pytest.raises(NotImplementedError, match="neuron 0 has excitatory inputs"):
        nst.SpikingModel(bad, np.array([5.0, 5.0, 9.0]))
