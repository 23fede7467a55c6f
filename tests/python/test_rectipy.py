"""neuroxide.compat.rectipy beyond QIF/LIF runs: fit_bptt (surrogate-gradient BPTT in the training
crate), rate and QIF-SFA templates, edges between nodes (delays, trained weights, function nodes),
each against NumPy written from RectiPy's equations."""

import numpy as np
import pytest

from neuroxide.compat import rectipy

T = "neuron_model_templates"
LIF, QIF = f"{T}.spiking_neurons.lif.lif", f"{T}.spiking_neurons.qif.qif"
SFA, TANH = f"{T}.spiking_neurons.qif.qif_sfa", f"{T}.rate_neurons.leaky_integrator.tanh"
SIGMOID = f"{T}.rate_neurons.leaky_integrator.sigmoid"


def spiking(net, label, template, n=None, **kw):
    kw.setdefault("spike_var", "spike")
    kw.setdefault("reset_var", "v")
    return net.add_diffeq_node(label, template, "I_ext", kw.pop("output_var", "s"),
                               source_var="s", target_var="s_in", N=n, **kw)


# --- fit_bptt ------------------------------------------------------------------------------------


def small_graph(smooth_threshold=1.0):
    """input func (2) → LIF (3, recurrent) → QIF (2, delayed edge) → leaky integrator (2) →
    readout func (2); every weight trained."""
    rng = np.random.default_rng(1)
    net = rectipy.Network(dt=0.1)
    net.add_func_node("inp", 2, "identity")
    spiking(net, "a", LIF, weights=rng.normal(0, 0.5, (3, 3)), train_params=["weights", "eta", "k"],
            node_vars={"tau": 5.0, "tau_s": 2.0, "eta": rng.normal(0, 0.2, 3),
                       "k": [1.0, 0.5, 2.0]},
            spike_threshold=smooth_threshold, spike_reset=-0.5, spike_slope=2.0)
    spiking(net, "b", QIF, n=2, train_params=["eta"],
            node_vars={"tau": 2.0, "tau_s": 3.0, "eta": [-0.3, 0.1], "v": [-0.4, 0.2]},
            spike_threshold=2.0, spike_reset=-2.0, spike_slope=2.0)
    net.add_diffeq_node("c", TANH, "I_ext", "tanh_op/r", weights=rng.normal(0, 0.8, (2, 2)),
                        source_var="tanh_op/r", target_var="li_op/r_in",
                        node_vars={"tau": 3.0, "v": [0.1, -0.2]}, train_params=["weights", "k"])
    net.add_func_node("out", 2, "tanh")
    net.add_edge("inp", "a", rng.normal(0, 1, (3, 2)), train="gd")
    net.add_edge("a", "b", rng.normal(0, 1, (2, 3)), train="gd", delays=[0, 1, 2])
    net.add_edge("b", "c", rng.normal(0, 1, (2, 2)), train="gd", delays=1)
    net.add_edge("c", "out", rng.normal(0, 1, (2, 2)), train="gd")
    return net, rng


def reference_forward(P, net, x, smooth, frozen=None):
    """The graph's equations in NumPy (smooth spikes ½ + x/(1 + slope|x|)); the masks used for the
    resets are returned, or taken from `frozen` (the detached reset)."""
    dt, nodes = net.dt, net._nodes
    a, b, c = nodes["a"], nodes["b"], nodes["c"]
    spike = (lambda u, nd: 0.5 + (u - nd.threshold) / (1 + nd.slope * abs_(u - nd.threshold))) \
        if smooth else (lambda u, nd: (u >= nd.threshold).astype(float))
    state = {"a": [a.params["v"].copy(), np.zeros(3)], "b": [b.params["v"].copy(), np.zeros(2)],
             "c": [c.params["v"].copy()]}
    hist = {"a": [np.zeros(3)], "b": [np.zeros(2)]}   # outputs s, index 0 = initial
    masks, z = [], []

    def delayed(label, t, d):
        idx = t - np.asarray(d)
        return np.array([hist[label][i][j] if i >= 0 else 0.0 for j, i in enumerate(idx)])

    da, db = np.exp(-dt / a.params["tau_s"]), 1 - dt / b.params["tau_s"]
    for t in range(len(x)):
        va, sa = state["a"]
        vb, sb = state["b"]
        (vc,) = state["c"]
        ia = P["a.eta"] + P["readin"] @ x[t]
        ua = va + dt * (-va / a.params["tau"] + P["a.k"] * (P["a.weights"] @ sa) + ia)
        ib = P["b.eta"] + P["a->b"] @ delayed("a", t, [0, 1, 2])
        ub = vb + dt * ((vb ** 2 + ib) / b.params["tau"])
        ic = P["c.eta"] + P["b->c"] @ delayed("b", t, [1, 1])
        vc = vc + dt * (-vc / c.params["tau"] + P["c.k"] * (P["c.weights"] @ np.tanh(vc)) + ic)
        pa, pb = spike(ua, a), spike(ub, b)
        ma, mb = (pa, pb) if frozen is None else frozen[t]
        masks.append((pa, pb))
        state["a"] = [ua * (1 - ma) + a.reset * ma, da * sa + pa]
        state["b"] = [ub * (1 - mb) + b.reset * mb, db * sb + pb]
        state["c"] = [vc]
        hist["a"].append(state["a"][1])
        hist["b"].append(state["b"][1])
        z.append(P["readout"] @ np.tanh(vc))
    return np.array(z), masks


def abs_(x):
    return np.abs(x)


@pytest.mark.parametrize("detach", [False, True])
def test_rectipy_bptt_gradient_equals_finite_differences(detach):
    net, rng = small_graph()
    trainer = net._trainer(smooth=True, detach_reset=detach)
    params = {name: np.array(v) for name, v in trainer.params()}
    shapes = {"a.weights": (3, 3), "c.weights": (2, 2), "readin": (3, 2), "a->b": (2, 3),
              "b->c": (2, 2), "readout": (2, 2)}
    P = {k: v.reshape(shapes.get(k, v.shape)) for k, v in params.items()}
    steps = 25
    x = rng.normal(0, 2.0, (steps, 2))
    weight = rng.normal(0, 1, (steps, 2))          # L = Σ weight ⊙ z
    z = np.asarray(trainer.forward(np.ascontiguousarray(x), steps)).reshape(steps, 2)
    ref, masks = reference_forward(P, net, x, smooth=True)
    np.testing.assert_allclose(z, ref, rtol=1e-12, atol=1e-12)
    grad = np.asarray(trainer.backward(np.ascontiguousarray(weight)))
    frozen = masks if detach else None
    eps, offset, checked = 1e-6, 0, 0
    for name, values in params.items():
        for i in range(values.size):
            numeric = 0.0
            for sign in (1, -1):
                Q = {k: v.copy() for k, v in P.items()}
                Q[name].reshape(-1)[i] += sign * eps
                numeric += sign * np.sum(weight * reference_forward(Q, net, x, True, frozen)[0])
            numeric /= 2 * eps
            trained = name not in ("b.k", "c.eta")   # b trains η only, c its weights and k
            expected = numeric if trained else 0.0
            assert grad[offset + i] == pytest.approx(expected, rel=1e-5, abs=1e-7), (name, i)
            checked += 1
        offset += values.size
    assert checked == grad.size and np.abs(grad).max() > 1e-2


def classification_case():
    """10 LIF neurons driven through an identity input node, read out by a trained identity node;
    the targets are a fixed random readout of another network's traces."""
    rng = np.random.default_rng(7)
    n, dt, steps = 10, 0.1, 300
    t = np.arange(steps) * dt

    def network(J, w_out):
        net = rectipy.Network(dt)
        net.add_func_node("inp", 2)
        spiking(net, "lif", LIF, weights=J, train_params=["weights"],
                node_vars={"tau": 5.0, "tau_s": 2.0}, spike_threshold=1.0, spike_reset=0.0)
        net.add_func_node("out", 3)
        net.add_edge("inp", "lif", w_in)
        net.add_edge("lif", "out", w_out, train="gd")
        return net

    w_in = rng.normal(0.6, 0.3, (n, 2))
    J = rng.normal(0, 0.3, (n, n))
    x = np.stack([1 + np.sin(2 * np.pi * t / 10), 1 + np.cos(2 * np.pi * t / 7)], axis=1)
    teacher = network(J, rng.normal(0, 1, (3, n)))
    y = teacher.run(x, verbose=False).to_numpy("out")
    return network(J, np.zeros((3, n))), x, y, w_in


def test_rectipy_fit_bptt_loss_falls_and_only_train_params_move():
    net, x, y, w_in = classification_case()
    J0 = net._nodes["lif"].weights.copy()
    eta0 = net._nodes["lif"].params["eta"].copy()
    obs = net.fit_bptt([x] * 40, [y] * 40, optimizer="adam", lr=0.05, verbose=False)
    loss = obs.to_numpy("epoch_loss")
    assert loss.shape == (40,) and loss[-1] < 0.1 * loss[0], loss[[0, -1]]
    assert obs.to_numpy("out").shape == (300, 3)
    # The untrained input edge and η are bitwise unchanged; the trained weights moved.
    np.testing.assert_array_equal(net._in_func.weights, w_in)
    np.testing.assert_array_equal(net._nodes["lif"].params["eta"], eta0)
    assert np.abs(net._nodes["lif"].weights - J0).max() > 1e-4
    assert np.abs(net._out_func.weights).max() > 0.1
    # The trained network runs on the engine and reproduces its last epoch's outputs.
    out = net.run(x, verbose=False).to_numpy("out")
    _, last = net.test(x, y, verbose=False)
    assert last < 0.2 * loss[0] and out.shape == y.shape


def test_rectipy_fit_bptt_keeps_masked_edge_entries_at_zero():
    net, x, y, w_in = classification_case()
    mask = np.ones((3, 10))
    mask[:, ::3] = 0
    net._edges.pop()
    net.add_edge("lif", "out", np.full((3, 10), 0.1), train="gd", mask=mask)
    obs = net.fit_bptt([x] * 20, [y] * 20, optimizer="adam", lr=0.05, verbose=False)
    w = net._out_func.weights
    assert np.all(w[:, ::3] == 0) and np.abs(w[mask == 1] - 0.1).max() > 0.1
    loss = obs.to_numpy("epoch_loss")
    assert loss[-1] < 0.5 * loss[0]
    out = net.run(x, verbose=False).to_numpy("out")
    still = net.fit_bptt(x, y, lr=0.0, update_steps=300, verbose=False).to_numpy("out")
    np.testing.assert_allclose(still, out, atol=1e-9)
    with pytest.raises(ValueError, match="mask"):
        net.add_edge("lif", "out", np.ones((3, 10)), mask=np.ones((2, 2)))


def test_rectipy_fit_bptt_online_updates_and_equals_the_engine_forward():
    net, x, y, _ = classification_case()
    before = net.run(x, sampling_steps=5, verbose=False).to_numpy("out")
    # lr = 0: the trainer's forward pass (hard spikes) is the engine's run.
    obs = net.fit_bptt(x, y, lr=0.0, sampling_steps=5, update_steps=50, verbose=False)
    np.testing.assert_allclose(obs.to_numpy("out"), before, atol=1e-9)
    assert obs.to_numpy("loss").shape == (6,)
    long_x, long_y = np.tile(x, (12, 1)), np.tile(y, (12, 1))
    obs = net.fit_bptt(long_x, long_y, optimizer="sgd", optimizer_kwargs={"momentum": 0.5},
                       lr=5e-4, update_steps=100, verbose=False)
    loss = obs.to_numpy("loss")   # one per window of 100 steps; windows differ in content
    assert loss.shape == (36,) and loss[-6:].mean() < 0.3 * loss[:6].mean(), loss
    with pytest.raises(NotImplementedError, match="rmsprop"):
        net.fit_bptt(x, y, optimizer="rmsprop", verbose=False)
    with pytest.raises(ValueError, match="loss"):
        net.fit_bptt(x, y, loss="cosine", verbose=False)
    with pytest.raises(TypeError, match="unexpected"):
        net.fit_bptt(x, y, epochs=3, verbose=False)


def test_rectipy_losses_and_activations_have_their_gradients():
    rng = np.random.default_rng(3)
    z = rng.normal(0, 1, (4, 3))
    targets = {"mse": rng.normal(0, 1, (4, 3)), "l1": rng.normal(0, 1, (4, 3)),
               "ce": np.array([0, 2, 1, 2]), "nll": np.array([1, 0, 0, 2]),
               "kld": rng.dirichlet(np.ones(3), 4), "hinge": rng.choice([-1.0, 1.0], (4, 3))}
    for loss, y in targets.items():
        for act in rectipy._ACTIVATIONS:
            def value(zz):
                return rectipy._loss(loss, rectipy._activate(act, zz), y, {})[0]
            p = rectipy._activate(act, z)
            _, dp = rectipy._loss(loss, p, y, {})
            grad = rectipy._activate_back(act, z, p, dp)
            for i in np.ndindex(z.shape):
                e = np.zeros_like(z)
                e[i] = 1e-6
                numeric = (value(z + e) - value(z - e)) / 2e-6
                assert grad[i] == pytest.approx(numeric, rel=1e-4, abs=1e-7), (loss, act, i)
    # PyTorch's numbers: MSE mean, CE of logits with class indices.
    assert rectipy._loss("mse", np.ones((2, 2)), np.zeros((2, 2)), {})[0] == 1.0
    logits = np.array([[2.0, 0.0]])
    assert rectipy._loss("ce", logits, np.array([0]), {})[0] == pytest.approx(
        np.log(1 + np.exp(-2.0)))


# --- templates and edges ---------------------------------------------------------------------


def test_rectipy_leaky_integrators_and_edges_equal_their_equations():
    """tanh and sigmoid leaky integrators (time-varying input, per-neuron η and k) feeding a QIF
    node (τ = 2) that also hears a LIF node with another τ_s through a delayed edge."""
    rng = np.random.default_rng(5)
    dt, steps = 0.05, 4000
    t = np.arange(steps) * dt
    J1, J2 = rng.normal(0, 1.5, (4, 4)), rng.normal(0, 1.0, (3, 3))
    eta1, k2 = rng.normal(0, 0.3, 4), np.array([0.5, 1.0, 2.0])
    x = np.stack([np.sin(2 * np.pi * t / 50 + i) for i in range(4)], axis=1)
    E12, E2q = rng.normal(0, 1, (3, 4)), rng.normal(0, 3, (2, 3))
    Jl, Elq = 5 * np.abs(rng.normal(0, 1, (3, 3))), 20 * np.abs(rng.normal(0, 1, (2, 3)))
    net = rectipy.Network(dt)
    net.add_diffeq_node("li1", TANH, "I_ext", "r", weights=J1, source_var="r", target_var="r_in",
                        node_vars={"tau": 10.0, "eta": eta1})
    net.add_diffeq_node("li2", SIGMOID, "I_ext", "r", weights=J2, source_var="r",
                        target_var="r_in", node_vars={"tau": 4.0, "k": k2, "r_max": 2.0,
                                                      "s": 1.5, "v0": 0.5})
    spiking(net, "lif", LIF, n=3, weights=Jl, node_vars={"tau": 10.0, "tau_s": 4.0, "eta": 1.5},
            spike_threshold=1.0, spike_reset=0.0)
    spiking(net, "q", QIF, n=2, node_vars={"tau": 2.0, "eta": -1.0}, spike_threshold=50.0,
            spike_reset=-50.0)
    net.add_edge("li1", "li2", E12)
    net.add_edge("li2", "q", E2q)
    net.add_edge("lif", "q", Elq, delays=3)
    # lif has no incoming edge: it is a second input node, so it is fed by a constant η only and
    # the graph gets one input by adding it as the source of a zero edge from li1.
    net.add_edge("li1", "lif", np.zeros((3, 4)))
    obs = net.run(x, record_vars=[("li1", "v"), ("li2", "r"), ("q", "v"), ("lif", "s")],
                  verbose=False)
    # NumPy: every node reads the others' outputs after the previous step.
    v1, v2, vl, sl, vq, sq = np.zeros(4), np.zeros(3), np.zeros(3), np.zeros(3), np.full(2, -2.0), \
        np.zeros(2)
    sig = lambda v: 2.0 / (1 + np.exp(1.5 * (0.5 - v)))  # noqa: E731
    hist, V1, R2, VQ, SL, SQ = [np.zeros(3)] * 4, [], [], [], [], []
    for i in range(steps):
        n1 = v1 + dt * (-v1 / 10 + J1 @ np.tanh(v1) + x[i] + eta1)
        n2 = v2 + dt * (-v2 / 4 + k2 * (J2 @ sig(v2)) + E12 @ np.tanh(v1))
        nl = vl + dt * (-vl / 10 + Jl @ sl + 1.5)
        nq = vq + dt * ((vq ** 2 - 1.0 + E2q @ sig(v2) + Elq @ hist[-4]) / 2.0)
        spk_l, spk_q = nl >= 1.0, nq >= 50.0
        nl[spk_l], nq[spk_q] = 0.0, -50.0
        sl = sl * np.exp(-dt / 4.0) + spk_l
        sq = sq * (1 - dt) + spk_q
        v1, v2, vl, vq = n1, n2, nl, nq
        hist.append(sl.copy())
        V1.append(v1), R2.append(sig(v2)), VQ.append(vq.copy()), SL.append(sl.copy())
        SQ.append(sq.copy())
    SQ = np.array(SQ)
    assert (np.diff(SQ, axis=0) > 0.5).sum() > 20 and (np.diff(np.array(SL), axis=0) > 0.5).sum() > 20
    np.testing.assert_allclose(obs.to_numpy(("li1", "v")), np.array(V1), atol=1e-9)
    np.testing.assert_allclose(obs.to_numpy(("li2", "r")), np.array(R2), atol=1e-9)
    np.testing.assert_allclose(obs.to_numpy(("lif", "s")), np.array(SL), atol=1e-9)
    np.testing.assert_allclose(obs.to_numpy(("q", "v")), np.array(VQ), atol=1e-6)
    np.testing.assert_allclose(obs.to_numpy("out"), SQ, atol=1e-9)


def test_rectipy_qif_sfa_equals_its_equations():
    rng = np.random.default_rng(6)
    n, dt, steps = 5, 1e-3, 20000
    J = rng.normal(0, 2, (n, n))
    np.fill_diagonal(J, 0)
    eta = -5 + rng.normal(0, 1, n)
    inputs = np.full((steps, n), 12.0)
    net = rectipy.Network(dt)
    spiking(net, "sfa", SFA, weights=J, spike_threshold=100.0, spike_reset=-100.0,
            node_vars={"eta": eta, "tau": 1.0, "k": 2.0, "tau_s": 5.0, "alpha": 0.7,
                       "tau_x": 8.0})
    obs = net.run(inputs, record_vars=[("sfa", "v"), ("sfa", "x")], verbose=False)
    v, x, s, V, X, S = np.full(n, -2.0), np.zeros(n), np.zeros(n), [], [], []
    for i in range(steps):
        v = v + dt * ((v ** 2 + eta - x + inputs[i]) / 1.0 + 2.0 * J @ s)
        spiked = v >= 100.0
        v[spiked] = -100.0
        x = x * (1 - dt / 8.0) + 0.7 * spiked
        s = s * (1 - dt / 5.0) + spiked
        V.append(v.copy()), X.append(x.copy()), S.append(s.copy())
    S = np.array(S)
    assert (np.diff(S, axis=0) > 0.5).sum() > 50 and np.array(X).max() > 1.0
    np.testing.assert_allclose(obs.to_numpy("out"), S, atol=1e-9)
    np.testing.assert_allclose(obs.to_numpy(("sfa", "x")), np.array(X), atol=1e-9)
    np.testing.assert_allclose(obs.to_numpy(("sfa", "v")), np.array(V), atol=1e-6)
    # The trainer's forward pass (lr = 0, hard spikes) is the same network.
    trained = net.fit_bptt(inputs, S, lr=0.0, update_steps=5000, verbose=False)
    np.testing.assert_allclose(trained.to_numpy("out"), S, atol=1e-9)


def test_rectipy_what_does_not_map_says_why():
    net = rectipy.Network(1e-3)
    with pytest.raises(NotImplementedError, match="population means"):
        net.add_diffeq_node("ik", f"{T}.spiking_neurons.ik.iku", "I_ext", "s", N=3,
                            spike_var="spike", reset_var="v")
    with pytest.raises(NotImplementedError, match="reset term"):
        spiking(net, "q", QIF, n=3, reset=False)
    with pytest.raises(NotImplementedError, match="per-neuron tau"):
        spiking(net, "q", QIF, n=3, node_vars={"tau": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="does not spike"):
        net.add_diffeq_node("li", TANH, "I_ext", "r", N=2, spike_var="spike")
    net = rectipy.Network(1e-3)
    spiking(net, "a", QIF, n=2, output_var="v")
    spiking(net, "b", QIF, n=2)
    net.add_edge("a", "b", np.ones((2, 2)))
    with pytest.raises(NotImplementedError, match="voltage"):
        net.run(np.zeros((10, 2)), verbose=False)
    with pytest.raises(NotImplementedError, match="RLS"):
        net.add_edge("a", "b", np.ones((2, 2)), train="rls")
    net = rectipy.Network(1e-3)
    spiking(net, "a", QIF, n=2)
    spiking(net, "b", QIF, n=2)
    net.add_edge("a", "b", np.ones((2, 2)), delays=[1, 2])
    with pytest.raises(NotImplementedError, match="per-neuron delays"):
        net.run(np.zeros((10, 2)), verbose=False)


def test_rectipy_izhikevich_equals_its_equations():
    """ik.ik (Izhikevich 2007 form) driven through an edge from a QIF node, on the engine's
    izhikevich model by the change of variables."""
    rng = np.random.default_rng(8)
    n, dt, steps = 4, 0.05, 8000
    eta = rng.normal(60.0, 10.0, n)
    E = np.abs(rng.normal(0, 40.0, (n, 3)))
    net = rectipy.Network(dt)
    spiking(net, "q", QIF, n=3, node_vars={"tau": 2.0, "eta": [-1.0, 0.5, 1.0], "tau_s": 6.0},
            spike_threshold=50.0, spike_reset=-50.0)
    spiking(net, "ik", f"{T}.spiking_neurons.ik.ik", n=n, node_vars={"eta": eta, "v": -65.0},
            spike_threshold=40.0, spike_reset=-55.0)
    net.add_edge("q", "ik", E)
    x = np.full((steps, 3), 2.0)
    obs = net.run(x, record_vars=[("ik", "v"), ("ik", "u")], verbose=False)
    C, k, vr, vt, b, tau_u, kappa = 100.0, 0.7, -60.0, -40.0, -2.0, 33.33, 10.0
    vq, sq, v, u, s, V, U, S = np.full(3, -2.0), np.zeros(3), np.full(n, -65.0), np.zeros(n), \
        np.zeros(n), [], [], []
    for i in range(steps):
        nq = vq + dt * (vq ** 2 + np.array([-1.0, 0.5, 1.0]) + x[i]) / 2.0
        dv = (k * (v - vr) * (v - vt) - u + eta + E @ sq) / C
        du = (b * (v - vr) - u) / tau_u
        v, u = v + dt * dv, u + dt * du
        spk_q, spk = nq >= 50.0, v >= 40.0
        nq[spk_q], v[spk] = -50.0, -55.0
        u = u + kappa * spk
        sq = sq * (1 - dt / 6.0) + spk_q
        s = s * (1 - dt / 6.0) + spk
        vq = nq
        V.append(v.copy()), U.append(u.copy()), S.append(s.copy())
    S = np.array(S)
    assert (np.diff(S, axis=0) > 0.5).sum() > 20
    np.testing.assert_allclose(obs.to_numpy("out"), S, atol=1e-9)
    np.testing.assert_allclose(obs.to_numpy(("ik", "v")), np.array(V), atol=1e-6)
    np.testing.assert_allclose(obs.to_numpy(("ik", "u")), np.array(U), atol=1e-6)
    with pytest.raises(NotImplementedError, match="conductance"):
        spiking(net, "ik2", f"{T}.spiking_neurons.ik.ik", weights=np.ones((2, 2)))


def test_rectipy_edges_and_recurrence_from_a_leaky_integrators_v():
    """A leaky integrator whose recurrence and edge read v runs as a linear rate population; its
    r = tanh(v) is still recorded."""
    rng = np.random.default_rng(9)
    dt, steps = 0.1, 500
    J, E = rng.normal(0, 0.05, (3, 3)), rng.normal(0, 1, (2, 3))
    x = np.sin(np.arange(steps)[:, None] * dt / 3 + np.arange(3))
    net = rectipy.Network(dt)
    net.add_diffeq_node("li", TANH, "I_ext", "v", weights=J, source_var="v", target_var="r_in",
                        node_vars={"tau": 5.0, "v": [0.2, -0.1, 0.3]})
    net.add_diffeq_node("out", TANH, "I_ext", "r", N=2, node_vars={"tau": 2.0})
    net.add_edge("li", "out", E)
    obs = net.run(x, record_vars=[("li", "r")], verbose=False)
    v, w, R, OUT = np.array([0.2, -0.1, 0.3]), np.zeros(2), [], []
    for i in range(steps):
        v, w = v + dt * (-v / 5 + J @ v + x[i]), w + dt * (-w / 2 + E @ v)
        R.append(np.tanh(v)), OUT.append(np.tanh(w))
    np.testing.assert_allclose(obs.to_numpy("out"), np.array(OUT), atol=1e-9)
    np.testing.assert_allclose(obs.to_numpy(("li", "r")), np.array(R), atol=1e-9)
    # The trainer agrees (lr = 0).
    np.testing.assert_allclose(net.fit_bptt(x, np.array(OUT), lr=0.0, verbose=False)
                               .to_numpy("out"), np.array(OUT), atol=1e-9)
    net.add_diffeq_node("li2", TANH, "I_ext", "v", weights=J, source_var="r", target_var="r_in")
    net.add_edge("li", "li2", np.eye(3))
    net._edges.pop(0)
    net.add_edge("li2", "out", E)
    with pytest.raises(NotImplementedError, match="different variables"):
        net.run(x, verbose=False)
