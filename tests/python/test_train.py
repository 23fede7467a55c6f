"""Training from Python (neuroxide.compat.neurosimtools.RateModel.fit and the Z-type forward
through the training crate) against NumPy references of NeuroSimTools' equations."""
import numpy as np
import pytest

from neuroxide.compat import neurosimtools


def numpy_forward(model, x, r0):
    """NeuroSimTools' update, R- or Z-type; returns the outputs (B, T, N_out) and rates."""
    f = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0), "id": lambda v: v}[model.f]
    h, rates = r0.copy(), []
    for t in range(x.shape[1]):
        drive = x[:, t] @ model.Jx.T + model.bias
        if model.Network_Type == "R":
            h = h + model.eta * (-h + f(h @ model.J.T + drive))
            rates.append(h)
        else:
            h = h + model.eta * (-h + f(h) @ model.J.T + drive)
            rates.append(f(h))
    rates = np.stack(rates, 1)
    return rates @ model.Jout.T + model.bout, rates, h


def small(network_type, seed=0, f="tanh"):
    rng = np.random.default_rng(seed)
    model = neurosimtools.RateModel(12, readin=3, readout=2, f=f, eta=0.2,
                                    Network_Type=network_type, seed=seed)
    x = rng.normal(0, 1, (4, 15, 3))
    return model, x, rng


def test_z_type_forward_equals_its_euler_update():
    model, x, rng = small("Z", f="relu")
    r0 = rng.normal(0, 0.5, (4, 12))
    y = model(x, initial_state=r0)
    ref, rates, z = numpy_forward(model, x, r0)
    assert y.shape == (4, 15, 2)
    np.testing.assert_allclose(y, ref, atol=1e-12)
    np.testing.assert_allclose(model.rate_history, rates, atol=1e-12)
    np.testing.assert_allclose(model.hidden_state, z, atol=1e-12)


@pytest.mark.parametrize("network_type", ["R", "Z"])
def test_fit_gradient_matches_finite_differences(network_type):
    model, x, rng = small(network_type)
    target = rng.normal(0, 0.5, (4, 15, 2))
    mask = (rng.uniform(size=target.shape) < 0.7).astype(float)
    r0 = np.zeros((4, 12))

    def loss_of(J, Jx, Jout, bias, bout):
        saved = model.J, model.Jx, model.Jout, model.bias, model.bout
        model.J, model.Jx, model.Jout, model.bias, model.bout = J, Jx, Jout, bias, bout
        y = numpy_forward(model, x, r0)[0]
        model.J, model.Jx, model.Jout, model.bias, model.bout = saved
        return np.sum(mask * (y - target) ** 2) / mask.sum()

    before = [a.copy() for a in (model.J, model.Jx, model.Jout, model.bias, model.bout)]
    lr = 1e-3
    losses = model.fit(x, target, mask=mask, optimizer="sgd", lr=lr, epochs=1)
    np.testing.assert_allclose(losses[0], loss_of(*before), rtol=1e-12)
    after = (model.J, model.Jx, model.Jout, model.bias, model.bout)
    eps = 1e-6
    for k, (b, a) in enumerate(zip(before, after)):
        grad = (b - a) / lr  # SGD: p ← p − lr·∂L/∂p
        for idx in [tuple(rng.integers(0, s) for s in b.shape) for _ in range(3)]:
            plus = [p.copy() for p in before]
            minus = [p.copy() for p in before]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            numeric = (loss_of(*plus) - loss_of(*minus)) / (2 * eps)
            np.testing.assert_allclose(grad[idx], numeric, rtol=1e-5, atol=1e-8)


def test_fit_with_adam_learns_a_small_task_and_its_forward_agrees():
    model, x, rng = small("R")
    # Target: a delayed, scaled copy of the first two input channels.
    target = 0.5 * np.roll(x[:, :, :2], 2, axis=1)
    target[:, :2] = 0
    losses = model.fit(x, target, lr=1e-2, epochs=150)
    assert losses.shape == (150,)
    assert losses[-1] < 0.5 * losses[0], (losses[0], losses[-1])
    # The trained parameters are the model's: its engine forward gives the final loss's outputs.
    y = model(x)
    ref = numpy_forward(model, x, np.zeros((4, 12)))[0]
    np.testing.assert_allclose(y, ref, atol=1e-10)
    assert np.mean((y - target) ** 2) < losses[0]
    with pytest.raises(ValueError, match="loss"):
        model.fit(x, target, loss="hinge", epochs=1)
    with pytest.raises(ValueError, match="target"):
        model.fit(x, target[:, :3], epochs=1)


def lif_readout_case():
    """A small recurrent LIF network (RectiPy's template) under a slow sine drive: its input
    array, a factory of fresh networks, and the random generator that made them."""
    from neuroxide.compat import rectipy

    rng = np.random.default_rng(4)
    n, dt, steps = 5, 1e-3, 3000
    J = 40 * rng.normal(0, 1, (n, n))
    np.fill_diagonal(J, 0)
    t = np.arange(steps) * dt
    inputs = np.tile((120 + 200 * np.sin(2 * np.pi * 2 * t))[:, None], (1, n))
    inputs = inputs + rng.normal(0, 20, (1, n))

    def network():
        net = rectipy.Network(dt)
        net.add_diffeq_node("n", "neuron_model_templates.spiking_neurons.lif.lif", weights=J,
                            source_var="s", target_var="s_in", input_var="I_ext",
                            output_var="s", spike_var="spike", reset_var="v", op="lif_op",
                            node_vars={"tau": 10.0}, spike_threshold=10.0, spike_reset=-10.0)
        return net

    return inputs, network, rng


def test_rectipy_fit_ridge_recovers_a_readout_of_the_outputs():
    inputs, network, rng = lif_readout_case()
    n = 5
    x = network().run(inputs, sampling_steps=10, verbose=False).to_numpy("out")
    assert x.shape == (300, n) and np.linalg.matrix_rank(x) == n
    w_true = rng.normal(0, 1, (n, 3))
    net = network()
    obs = net.fit_ridge(inputs, x @ w_true, sampling_steps=10, alpha=1e-12, verbose=False)
    np.testing.assert_allclose(obs.to_numpy("w_out"), w_true.T, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(obs.to_numpy("y"), x @ w_true, atol=1e-8)
    # The readout node was added (RectiPy's add_readout_node): the network now outputs X W.
    out = net.run(inputs, sampling_steps=10, verbose=False).to_numpy("out")
    np.testing.assert_allclose(out, obs.to_numpy("y"), atol=1e-8)
    with pytest.warns(UserWarning, match="readout node"):
        net.fit_ridge(inputs, out, sampling_steps=10, verbose=False)
    # Per-step targets are averaged over the sampling windows; α shrinks as (XᵀX + αI)⁻¹XᵀY.
    per_step = np.repeat(x @ w_true, 10, axis=0)
    obs = network().fit_ridge(inputs, per_step, sampling_steps=10, alpha=1.0, verbose=False,
                              add_readout_node=False)
    expected = np.linalg.solve(x.T @ x + np.eye(n), x.T @ (x @ w_true))
    np.testing.assert_allclose(obs.to_numpy("w_out"), expected.T, rtol=1e-10)
    with pytest.raises(ValueError, match="targets"):
        network().fit_ridge(inputs, per_step[:7], verbose=False, add_readout_node=False)


def test_rectipy_fit_rls_converges_to_the_ridge_solution():
    inputs, network, rng = lif_readout_case()
    x = network().run(inputs, sampling_steps=10, verbose=False).to_numpy("out")
    w_true = rng.normal(0, 1, (x.shape[1], 3))
    y = x @ w_true
    # Without forgetting, RLS from P = αI ends exactly at the ridge solution of penalty 1/α.
    net = network()
    obs = net.fit_rls(inputs, y, sampling_steps=10, alpha=10.0, verbose=False)
    assert net._nodes["readout"].n == 3
    ridge = np.linalg.solve(x.T @ x + 0.1 * np.eye(x.shape[1]), x.T @ y)
    np.testing.assert_allclose(obs.to_numpy("w_out"), ridge.T, rtol=1e-6, atol=1e-9)
    # Each prediction is made before its own update: the first is 0, the loss falls to ~0.
    loss = obs.to_numpy("loss")
    np.testing.assert_allclose(obs.to_numpy("y")[0], 0.0)
    assert loss[0] == pytest.approx(np.sum(y[0] ** 2)) and loss[-20:].max() < 1e-3 * loss.max()
    # A NumPy reference of the recursion, with forgetting and sparse updates.
    obs = network().fit_rls(inputs, y, update_steps=3, sampling_steps=10, alpha=2.0, beta=0.99,
                            verbose=False, add_readout_node=False)
    w, p = np.zeros((x.shape[1], 3)), 2.0 * np.eye(x.shape[1])
    for i, (xi, yi) in enumerate(zip(x, y)):
        if i % 3 == 0:
            k = p @ xi / (0.99 + xi @ p @ xi)
            w = w + np.outer(k, yi - xi @ w)
            p = (p - np.outer(k, xi @ p)) / 0.99
    np.testing.assert_allclose(obs.to_numpy("w_out"), w.T, rtol=1e-8, atol=1e-10)
    for bad in [dict(update_steps=0), dict(alpha=0.0), dict(beta=1.5)]:
        with pytest.raises(ValueError):
            network().fit_rls(inputs, y, sampling_steps=10, verbose=False, **bad)
