"""The drop-in APIs (neuroxide.compat) and the Python additions of issue 6: each compat API
against a NumPy reference of the same equations written here, shapes and defaults, results equal
to the command line's, builders, run(duration, inputs), Ctrl-C with partial results, plots.
"""
import _thread
import os
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import neuroxide
from neuroxide.compat import cnsproject, neurosimtools, rectipy
from neuroxide.compat import neuroflame as nf

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("NEUROXIDE_BIN", str(ROOT / "target" / "debug" / "neuroxide"))
DATA = ROOT / "tests" / "data" / "neuroflame"
SMALL_2POP = {"N_NEURON": 1000, "K": 100, "DURATION": 0.2, "T_STEADY": 0.1}


# --- NeuroFlame ---------------------------------------------------------------------------------


def test_neuroflame_network_shapes_and_sweep_attributes():
    model = nf.Network(DATA / "config_2pop.yml", **SMALL_2POP, N_BATCH=3)
    assert model.N_BATCH == 3 and model.Ja0 == [2.0, 1.0] and model.DT == 0.00025
    assert any(w.startswith("DEVICE") for w in model.warnings)
    rates = model()
    # (N_BATCH, DURATION/T_WINDOW + 1, N_E)
    assert rates.shape == (3, 3, 500) and rates.dtype == np.float32
    # Per-batch drives (N_BATCH, N_POP, 1), as the tutorials' sweeps; the mean E rate grows with Ja0.
    model.Ja0 = np.array([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])[:, :, None]
    means = model().mean(axis=(1, 2))
    assert np.all(np.diff(means) > 0), means
    # Lane 0 of the sweep equals a one-batch run with lane 0's drive.
    single = nf.Network(DATA / "config_2pop.yml", **SMALL_2POP, N_BATCH=1, Ja0=[1.0, 1.0])()
    np.testing.assert_array_equal(single[0], model.results["E.rate"][0])
    model.LIVE_FF_UPDATE = 1
    assert model.LIVE_FF_UPDATE == 1 and model().shape == (3, 3, 500)
    with pytest.raises(ValueError, match="per-batch"):
        model.N_BATCH = 2
        model()


def test_neuroflame_equals_the_command_line(tmp_path):
    args = [f"--nf-set={k}={v}" for k, v in SMALL_2POP.items()]
    out = tmp_path / "cli"
    subprocess.run([BIN, "run", "--from-neuroflame", DATA / "config_2pop.yml", "--neuroflame-frames",
                    "-q", "--out", out, *args], check=True, capture_output=True)
    rates = nf.Network(DATA / "config_2pop.yml", **SMALL_2POP)()
    with np.load(out / "results.npz") as data:
        np.testing.assert_array_equal(data["E.rate"], rates)


def test_neuroflame_mean_field_of_an_all_to_all_network(tmp_path):
    """All-to-all uniform couplings: every neuron sees the population means, so the means follow
    NeuroFlame's 2024 update (x e^{-dt/τ} + u dt/τ) of the two-population mean field."""
    conf = tmp_path / "a2a.yml"
    conf.write_text("N_NEURON: 400\nfrac: [0.5, 0.5]\nCON_TYPE: all2all\nIF_NMDA: 0\nTASK: None\n"
                    "DT: 0.001\nDURATION: 1.0\nT_STEADY: 1.0\nT_WINDOW: 0.1\nRATE_DYN: 1\n"
                    "TAU: [0.02, 0.01]\nSYN_DYN: 1\nTAU_SYN: [0.004, 0.002]\nTHRESH: [0.0, 0.0]\n"
                    "Ja0: [2.0, 1.0]\nM0: 1.0\nGAIN: 0.5\nJab: [1.0, -1.5, 1.0, -1.0]\n"
                    "FLOAT_PRECISION: 64\n")
    rates = nf.Network(conf)()
    dt, tau, tau_syn = 0.001, np.array([0.02, 0.01]), np.array([0.004, 0.002])
    J = 0.5 * np.array([[1.0, -1.5], [1.0, -1.0]])
    ff = np.array([2.0, 1.0])
    m, current = np.zeros(2), np.zeros(2)
    for _ in range(2000):
        current = current * np.exp(-dt / tau_syn) + (J @ m) * dt / tau_syn
        m = m * np.exp(-dt / tau) + np.maximum(ff + current, 0) * dt / tau
    assert abs(rates[0, -1].mean() - m[0]) < 1e-6 * m[0], (rates[0, -1].mean(), m)


def test_neuroflame_ff_input_replaces_the_drive(tmp_path):
    """model(ff_input=...) (N_BATCH, N_STEPS, N): every neuron gets its own drive per step; with
    all-to-all couplings each neuron relaxes to relu(ff_i + I_pop) around the population means."""
    conf = tmp_path / "a2a.yml"
    conf.write_text("N_NEURON: 40\nfrac: [0.5, 0.5]\nCON_TYPE: all2all\nIF_NMDA: 0\nTASK: None\n"
                    "DT: 0.001\nDURATION: 1.0\nT_STEADY: 1.0\nT_WINDOW: 0.1\nRATE_DYN: 1\n"
                    "TAU: [0.02, 0.01]\nSYN_DYN: 1\nTAU_SYN: [0.004, 0.002]\nTHRESH: [0.0, 0.0]\n"
                    "Ja0: [2.0, 1.0]\nM0: 1.0\nGAIN: 0.5\nJab: [1.0, -1.5, 1.0, -1.0]\n"
                    "FLOAT_PRECISION: 64\n")
    rng = np.random.default_rng(8)
    steps, window = 2000, 100
    ff = np.repeat(rng.uniform(0.5, 3.0, (3, 1, 40)), steps + window, axis=1)
    ff[:, steps // 2 + 300:] *= 1.5  # a change late in the run: the steps are read in order
    model = nf.Network(conf)
    rates = model(ff_input=ff)
    assert rates.shape == (3, 11, 20) and model.results.spec["lanes"] == 3
    dt, tau, tau_syn = 0.001, np.repeat([0.02, 0.01], 20), np.array([0.004, 0.002])
    J = 0.5 * np.array([[1.0, -1.5], [1.0, -1.0]])
    r, current = np.zeros((3, 40)), np.zeros((3, 2))
    for k in range(steps):
        m = np.stack([r[:, :20].mean(axis=1), r[:, 20:].mean(axis=1)], axis=1)
        current = current * np.exp(-dt / tau_syn) + (m @ J.T) * dt / tau_syn
        r = r * np.exp(-dt / tau) + np.maximum(ff[:, k] + np.repeat(current, 20, axis=1), 0) * dt / tau
    np.testing.assert_allclose(rates[:, -1], r[:, :20], rtol=1e-6, atol=1e-12)
    # NeuroFlame's N_STEPS or the run's own steps; any other shape is an error naming it.
    np.testing.assert_array_equal(model(ff_input=ff[:, :steps]), rates)
    with pytest.raises(ValueError, match="N_STEPS"):
        model(ff_input=ff[:, :10])
    # Without ff_input the config's drive is back.
    assert not np.allclose(model(), rates[:1])


def test_neuroflame_errors():
    with pytest.raises(FileNotFoundError):
        nf.Network("no_such_config.yml")
    with pytest.raises(ValueError, match=r"`IF_NMDA`.*not simulated"):
        nf.Network(DATA / "config_2pop.yml", IF_NMDA=1)
    with pytest.raises(ValueError, match=r"unknown NeuroFlame key `J_EEE`"):
        nf.Network(DATA / "config_2pop.yml", J_EEE=1)
    model, warnings = neuroxide.from_neuroflame(DATA / "config_2pop.yml", IF_NMDA=1,
                                                allow_unsupported=True)
    assert any(w.startswith("IF_NMDA") for w in warnings) and "E" in model["populations"]


def test_neuroflame_bal_ring_without_stp_runs():
    rates = nf.Network(DATA / "config_bal_ring.yml", IF_STP=0, N_NEURON=1000, DURATION=0.3,
                       T_STEADY=0.1)()
    assert rates.shape == (1, 4, 800)


def test_neuroflame_bal_ring_with_stp_runs():
    small = dict(N_NEURON=1000, DURATION=0.3, T_STEADY=0.1)
    # NeuroFlame 2024's `markram` (u decaying to 0, u⁺ = u + U(1 − u)) is neither neuroxide rule.
    with pytest.raises(ValueError, match="STP_TYPE"):
        nf.Network(DATA / "config_bal_ring.yml", **small)()
    model = nf.Network(DATA / "config_bal_ring.yml", version="head", **small)
    rates = model()
    assert rates.shape == (1, 4, 800)
    plain = nf.Network(DATA / "config_bal_ring.yml", version="head", IF_STP=0, **small)()
    assert not np.array_equal(rates, plain)
    stp = neuroxide.from_neuroflame(DATA / "config_bal_ring.yml", version="head")[0][
        "projections"]["EE"]["stp"]
    assert stp == {"model": "markram", "U": 0.03, "tau_rec": "0.2 s", "tau_fac": "1 s"}, stp
    allowed = neuroxide.from_neuroflame(DATA / "config_bal_ring.yml", allow_unsupported=True)
    assert any(w.startswith("STP_TYPE") for w in allowed[1])


# --- NeuroSimTools ------------------------------------------------------------------------------


def test_neurosimtools_rate_model_equals_its_euler_update():
    rng = np.random.default_rng(0)
    n, batch, steps = 20, 2, 30
    J = rng.normal(0, 1, (n, n)) / np.sqrt(n)
    eta = np.r_[np.full(12, 0.1), np.full(8, 0.2)]  # per-neuron η = dt/τ (E and I)
    model = neurosimtools.RateModel(J, readin=3, readout=2, f="tanh", eta=eta)
    x = rng.normal(0, 1, (batch, steps, 3))
    r0 = rng.normal(0, 0.5, (batch, n))
    y = model(x, initial_state=r0)
    r, history = r0.copy(), []
    for i in range(steps):
        r = r + eta * (-r + np.tanh(r @ J.T + model.bias + x[:, i] @ model.Jx.T))
        history.append(r)
    history = np.stack(history, 1)
    assert y.shape == (batch, steps, 2) and model.hidden_state_history.shape == (batch, steps, n)
    np.testing.assert_allclose(model.hidden_state_history, history, atol=1e-12)
    np.testing.assert_allclose(y, history @ model.Jout.T + model.bout, atol=1e-12)
    # Defaults: identity readin/readout; constant input with Nt; final state only; 'keep'.
    plain = neurosimtools.RateModel(10, f="relu", eta=0.5)
    last = plain(np.ones((3, 10)), Nt=5, return_time_series=False, store_hidden_history=False)
    assert last.shape == (3, 10) and plain.hidden_state_history is None
    again = plain(np.ones((3, 10)), Nt=5, initial_state="keep")
    assert again.shape == (3, 5, 10) and not np.allclose(again[:, 0], last)
    assert plain.parameters()[0] is plain.J  # the model's arrays (tests/python/test_neurosimtools.py)
    with pytest.raises(ValueError, match="Network_Type"):
        neurosimtools.RateModel(10, Network_Type="Q")


def test_neurosimtools_spiking_model_equals_its_euler_update():
    rng = np.random.default_rng(1)
    n, batch, ne = 30, 2, 20
    J = np.abs(rng.normal(0, 1, (n, n))) * (rng.random((n, n)) < 0.3)
    J[:, ne:] *= -3
    tau = np.r_[np.full(ne, 8.0), np.full(n - ne, 4.0)]
    params = dict(taum=15, EL=-72, Vth=10, Vre=-75, VT=-55, DT=1, Vlb=-85)
    model = neurosimtools.SpikingModel(J, tau, NeuronParams=params)
    dt, T = 0.1, 100.0
    x0 = 20.0 + rng.normal(0, 2, (batch, n))
    v0 = rng.uniform(-75, -55, (batch, n))
    out = model(x0, dt, T=T, initial_V=v0, dtRecord=1.0, Tburn=20, VIRecord=[0, 1])
    steps = int(T / dt)
    V, Y = v0.copy(), np.zeros((batch, n))
    spikes, v_rec, y_rec = np.zeros((batch, steps, n)), np.zeros((batch, steps, 2)), []
    for i in range(steps):
        Z = Y @ J.T + x0
        V = np.maximum(V + dt * (-(V + 72) + np.exp(V + 55) + Z) / 15, -85)
        s = V >= 10
        V[s] = -75
        v_rec[:, i] = V[:, :2]
        v_rec[:, i][s[:, :2]] = 10
        spikes[:, i] = s
        Y = Y + dt / tau * (-Y + s / dt)
        y_rec.append(Y)
    assert spikes.sum() > 50
    assert set(out) == {"r", "S", "Y", "V"}
    assert out["r"].shape == (batch, n) and out["S"].shape == (batch, 100, n)
    assert out["V"].shape == (batch, steps, 2)
    np.testing.assert_allclose(out["V"], v_rec, atol=1e-8)
    np.testing.assert_array_equal(out["S"], spikes.reshape(batch, 100, 10, n).sum(2) / 1.0)
    np.testing.assert_allclose(out["Y"], np.stack(y_rec, 1).reshape(batch, 100, 10, n).mean(2),
                               atol=1e-12)
    burn = np.arange(steps) * dt >= 20
    np.testing.assert_allclose(out["r"], spikes[:, burn].sum(1) / 80.0)
    with pytest.raises(TypeError, match="'EIF' or 'LIF'"):
        neurosimtools.SpikingModel(J, 8.0, NeuronModel=lambda V, I: I - V)


# --- RectiPy ------------------------------------------------------------------------------------


def _rectipy_reference(kind, J, inputs, p, dt, threshold, reset):
    n = J.shape[0]
    v, s, S, V = np.full(n, p["v"], float), np.zeros(n), [], []
    decay = 1 - dt / p["tau_s"] if kind == "qif" else np.exp(-dt / p["tau_s"])
    for i in range(len(inputs)):
        if kind == "qif":
            v = v + dt * ((v ** 2 + p["eta"] + inputs[i]) / p["tau"] + p["k"] * J @ s)
        else:
            v = v + dt * (-v / p["tau"] + p["k"] * J @ s + inputs[i] + p["eta"])
        spiked = v >= threshold
        v[spiked] = reset
        s = s * decay + spiked
        S.append(s.copy())
        V.append(v.copy())
    return np.array(S), np.array(V)


@pytest.mark.parametrize("kind", ["qif", "lif"])
def test_rectipy_network_equals_its_equations(kind):
    rng = np.random.default_rng(2)
    n, dt, steps = 5, 1e-3, 20000
    J = rng.normal(0, 2, (n, n))
    np.fill_diagonal(J, 0)
    t = np.arange(steps) * dt
    inputs = np.tile((6 + 10 * np.sin(2 * np.pi * 0.2 * t))[:, None], (1, n))
    if kind == "qif":
        node_vars = {"all/qif_op/eta": -5 + rng.normal(0, 1, n), "tau": 1.0, "k": 2.0, "tau_s": 5.0}
        threshold, reset = 100.0, -100.0
    else:
        J, inputs = 20 * J, 20 * inputs
        node_vars, threshold, reset = {"tau": 10.0}, 10.0, -10.0
    net = rectipy.Network(dt)
    net.add_diffeq_node("n", f"neuron_model_templates.spiking_neurons.{kind}.{kind}", weights=J,
                        source_var="s", target_var="s_in", input_var="I_ext", output_var="s",
                        spike_var="spike", reset_var="v", op=f"{kind}_op", node_vars=node_vars,
                        spike_threshold=threshold, spike_reset=reset)
    obs = net.run(inputs, sampling_steps=10, record_vars=[("n", "v", False)],
                  verbose=False)
    S, V = _rectipy_reference(kind, J, inputs, net._nodes["n"].params, dt, threshold, reset)
    assert (np.diff(S, axis=0) > 0.5).sum() > 50
    out = obs.to_numpy("out")
    assert out.shape == (2000, n) and len(obs["out"]) == 2000 and obs.steps[0] == 9
    np.testing.assert_allclose(out, S.reshape(-1, 10, n).mean(1), atol=1e-9)
    np.testing.assert_allclose(obs.to_numpy(("n", "v")), V[9::10], atol=1e-7)
    mean = net.run(inputs, sampling_steps=10, record_vars=[("n", "v", True)], verbose=False)
    np.testing.assert_allclose(mean.to_numpy(("n", "v")), V[9::10].mean(1), atol=1e-7)
    frame = obs.to_dataframe("out")
    assert frame.shape == (2000, n) and abs(frame.index[0] - 0.01) < 1e-12
    import matplotlib
    matplotlib.use("Agg")
    assert obs.plot("out") is not None


def test_rectipy_unsupported_templates_and_training_are_clear():
    net = rectipy.Network(1e-3)
    with pytest.raises(NotImplementedError, match="izhikevich"):
        net.add_diffeq_node("ik", "neuron_model_templates.spiking_neurons.ik.iku", "I_ext", "s",
                            N=3, spike_var="spike", reset_var="v")
    with pytest.raises(ValueError, match="reset_var"):
        net.add_diffeq_node("q", "neuron_model_templates.spiking_neurons.qif.qif", "I_ext", "s",
                            N=3, spike_var="spike")
    with pytest.raises(NotImplementedError, match="rmsprop"):
        net.fit_bptt(np.zeros((5, 3)), np.zeros((5, 3)), optimizer="rmsprop")


# --- cnsproject ---------------------------------------------------------------------------------


def test_cnsproject_e_i_populations_equal_their_equations():
    rng = np.random.default_rng(3)
    steps, ne, ni = 300, 8, 2
    net = cnsproject.Network(dt=1.0)
    net.add_layer(cnsproject.LIFPopulation((ne,), R=1, C=20, threshold=-55, tau_s=10), "E")
    net.add_layer(cnsproject.LIFPopulation((ni,), R=1, C=20, threshold=-55, is_inhibitory=True), "I")
    E, I = net.layers["E"], net.layers["I"]
    net.add_connection(cnsproject.DenseConnection(E, I, J=120, tau_s=10), "E", "I")
    net.add_connection(cnsproject.DenseConnection(I, E, J=60, tau_s=10), "I", "E")
    net.add_connection(cnsproject.DenseConnection(E, E, J=40, tau_s=10), "E", "E")
    net.add_monitor(cnsproject.Monitor(E, ["s", "u", "traces"]), "E")
    net.add_monitor(cnsproject.Monitor(I, ["s"]), "I")
    current_e, current_i = 20 + 10 * rng.random((steps, ne)), 5 * rng.random((steps, ni))
    net.run(steps, inputs={"E": current_e, "I": current_i})
    decay = np.exp(-1 / 10)
    uE, uI = np.full(ne, -70.0), np.full(ni, -70.0)
    gE, gI, sE, sI, xE = np.zeros(ne), np.zeros(ni), np.zeros(ne), np.zeros(ni), np.zeros(ne)
    SE, UE, XE, SI = [], [], [], []
    for k in range(steps):
        gE = gE * decay + 40 * sE.sum() / ne - 60 * sI.sum() / ni
        gI = gI * decay + 120 * sE.sum() / ne
        uE = uE - (uE + 70 - (current_e[k] + gE)) / 20
        uI = uI - (uI + 70 - (current_i[k] + gI)) / 20
        sE, sI = (uE >= -55).astype(float), (uI >= -55).astype(float)
        uE[sE > 0], uI[sI > 0] = -70, -70
        xE = xE * decay + sE
        SE.append(sE), UE.append(uE.copy()), XE.append(xE.copy()), SI.append(sI)
    monitor = net.monitors["E"]
    assert monitor.get("s").shape == (steps, ne) and monitor.get("s").dtype == bool
    assert np.sum(SE) > 10 and np.sum(SI) > 5
    np.testing.assert_array_equal(monitor.get("s"), np.array(SE) > 0)
    np.testing.assert_array_equal(net.monitors["I"].get("s"), np.array(SI) > 0)
    np.testing.assert_allclose(monitor.get("u"), UE, atol=1e-9)
    np.testing.assert_allclose(monitor.get("traces"), XE, atol=1e-12)
    with pytest.raises(ValueError, match="R·C"):
        cnsproject.LIFPopulation(10)


def _cns_reference(steps, cur_a, cur_b, w0, ts, lr, wd=0.0, soft=None, bounds=(0.0, 1.0),
                   rule="stdp", tau_c=1.0, tau_d=1.0, reward=None, window=50):
    """Two LIF layers A → B (R=1, C=20, −55 mV) with a learning A→B connection, as the engine
    orders a step: B's synaptic current gets ts·w·s_A of the previous step (w after that step's
    update), the membranes move, spikes reset, the population traces (A: τ 8, scale 1.5; B: τ 12,
    scale 1) take the spikes, then cnsproject's rule changes w."""
    na, nb = w0.shape
    u_a, u_b, g = np.full(na, -70.0), np.full(nb, -70.0), np.zeros(nb)
    x_a, x_b, s_a, s_b = np.zeros(na), np.zeros(nb), np.zeros(na), np.zeros(nb)
    w, c, d = w0.copy(), np.zeros_like(w0), 0.0
    hist_a, hist_b = [], []
    spikes_b = []
    lo, hi = bounds
    for k in range(steps):
        g = g * np.exp(-1 / 10) + (ts * w * s_a[:, None]).sum(axis=0)
        u_a = u_a - (u_a + 70 - cur_a[k]) / 20
        u_b = u_b - (u_b + 70 - (cur_b[k] + g)) / 20
        s_a, s_b = (u_a >= -55).astype(float), (u_b >= -55).astype(float)
        u_a[s_a > 0], u_b[s_b > 0] = -70, -70
        x_a, x_b = x_a * np.exp(-1 / 8) + 1.5 * s_a, x_b * np.exp(-1 / 12) + s_b
        hist_a, hist_b = (hist_a + [s_a])[-window:], (hist_b + [s_b])[-window:]
        pa, pb = (x_a, x_b) if not rule.startswith("flat") else (sum(hist_a), sum(hist_b))
        f = 1.0 if soft is None else soft[0] * np.maximum((hi - w) * (w - lo), 0) ** soft[1]
        stdp = f * (lr[0] * pa[:, None] * s_b[None, :] - lr[1] * pb[None, :] * s_a[:, None])
        if rule.endswith("rstdp"):
            spiked = np.logical_or(s_a[:, None] > 0, s_b[None, :] > 0)
            c = c + (-c / tau_c + spiked * (stdp - wd * w))
            d = d + (-d / tau_d + reward[k])
            w = w + c * d
        else:
            w = w + stdp - wd * w
        w = np.clip(w, lo, hi)
        spikes_b.append(s_b)
    return w, np.array(spikes_b)


def _cns_network(rule, steps, cur_a, cur_b, J, ts, **kwargs):
    net = cnsproject.Network(dt=1.0, reward=kwargs.pop("reward_object", None))
    net.add_layer(cnsproject.LIFPopulation(6, R=1, C=20, tau_s=8, trace_scale=1.5), "A")
    net.add_layer(cnsproject.LIFPopulation(3, R=1, C=20, tau_s=12), "B")
    A, B = net.layers["A"], net.layers["B"]
    net.add_connection(cnsproject.DenseConnection(A, B, J=J, tau_s=10, trace_scale=ts,
                                                  learning_rule=rule, **kwargs), "A", "B")
    net.add_monitor(cnsproject.Monitor(B, ["s"]), "B")
    return net


@pytest.mark.parametrize("rule,kwargs,ref", [
    (cnsproject.STDP, {"lr": (0.05, 0.04)}, {"lr": (0.05, 0.04)}),
    (cnsproject.STDP, {"lr": 0.5, "weight_decay": 0.01, "gamma": 0.8, "beta": 1.5, "wmin": 0.05},
     {"lr": (0.5, 0.5), "wd": 0.01, "soft": (0.8, 1.5), "bounds": (0.05, 1.0)}),
    (cnsproject.FlatSTDP, {"lr": (0.004, 0.005), "trace_periode": 7, "weight_decay": 0.002},
     {"lr": (0.004, 0.005), "wd": 0.002, "rule": "flat_stdp", "window": 7}),
])
def test_cnsproject_learning_rules_equal_their_equations(rule, kwargs, ref):
    rng = np.random.default_rng(5)
    steps = 200
    cur_a, cur_b = 14 + 6 * rng.random((steps, 6)), 12 + 4 * rng.random((steps, 3))
    net = _cns_network(rule, steps, cur_a, cur_b, J=3.0, ts=10.0, **kwargs)
    conn = net.connections["A_to_B"]
    np.testing.assert_allclose(conn.w, 0.5)
    net.run(steps, inputs={"A": cur_a, "B": cur_b})
    w, spikes_b = _cns_reference(steps, cur_a, cur_b, np.full((6, 3), 0.5), 10.0, **ref)
    assert spikes_b.sum() > 10
    np.testing.assert_array_equal(net.monitors["B"].get("s"), spikes_b > 0)
    assert np.abs(w - 0.5).max() > 0.02, "the weights learned"
    np.testing.assert_allclose(conn.w, w, atol=1e-10)


def test_cnsproject_rstdp_with_a_reward_schedule_equals_its_equations():
    rng = np.random.default_rng(6)
    steps = 200
    cur_a, cur_b = 14 + 6 * rng.random((steps, 6)), 12 + 4 * rng.random((steps, 3))
    reward = np.where((np.arange(steps) // 50) % 2 == 0, 1.0, -1.0)
    net = _cns_network(cnsproject.RSTDP, steps, cur_a, cur_b, J=3.0, ts=10.0, lr=0.05,
                       tau_c=5.0, weight_decay=0.01, wmin=0.01,
                       reward_object=cnsproject.Reward(tau_d=3.0))
    net.run(steps, inputs={"A": cur_a, "B": cur_b}, reward=reward)
    w, spikes_b = _cns_reference(steps, cur_a, cur_b, np.full((6, 3), 0.5), 10.0,
                                 lr=(0.05, 0.05), wd=0.01, rule="rstdp", tau_c=5.0, tau_d=3.0,
                                 reward=reward, bounds=(0.01, 1.0))
    np.testing.assert_array_equal(net.monitors["B"].get("s"), spikes_b > 0)
    assert np.abs(w - 0.5).max() > 0.02, "the weights learned"
    np.testing.assert_allclose(net.connections["A_to_B"].w, w, atol=1e-10)
    # A callable of the step gives the same schedule; Reward.compute is the same dopamine.
    again = _cns_network(cnsproject.RSTDP, steps, cur_a, cur_b, J=3.0, ts=10.0, lr=0.05,
                         tau_c=5.0, weight_decay=0.01, wmin=0.01,
                         reward_object=cnsproject.Reward(tau_d=3.0))
    again.run(steps, inputs={"A": cur_a, "B": cur_b}, reward=lambda i: reward[i])
    np.testing.assert_array_equal(again.connections["A_to_B"].w, net.connections["A_to_B"].w)
    dopamine = cnsproject.Reward(tau_d=3.0)
    assert [dopamine.compute(reward=1.0) for _ in range(2)] == [1.0, 1.0 + (1.0 - 1.0 / 3.0)]
    # Learned weights carry over to the next run (as explicit synapses); learning off keeps them.
    learned = net.connections["A_to_B"].w
    net.train(False)
    net.run(steps, inputs={"A": cur_a, "B": cur_b})
    np.testing.assert_array_equal(net.connections["A_to_B"].w, learned)
    _, fixed = _cns_reference(steps, cur_a, cur_b, learned, 10.0, lr=(0.0, 0.0),
                              bounds=(0.01, 1.0))
    np.testing.assert_array_equal(net.monitors["B"].get("s"), fixed > 0)


def test_cnsproject_noop_with_weight_decay_only_decays():
    net = _cns_network(cnsproject.NoOp, 50, None, None, J=3.0, ts=2.0, weight_decay=0.02)
    net.run(50, inputs={"A": np.full((50, 6), 20.0)})
    np.testing.assert_allclose(net.connections["A_to_B"].w, 0.5 * 0.98 ** 50, rtol=1e-12)
    plain = _cns_network(cnsproject.NoOp, 50, None, None, J=3.0, ts=2.0)
    plain.run(50)
    assert "A_to_B.weights" not in plain.results
    np.testing.assert_array_equal(plain.connections["A_to_B"].w, 0.5)


def test_cnsproject_refuses_what_it_cannot_run():
    with pytest.raises(NotImplementedError, match="closed-loop"):
        cnsproject.Network(decision=object())
    net = _cns_network(cnsproject.STDP, 10, None, None, J=3.0, ts=1.0)
    with pytest.raises(NotImplementedError, match="one_step"):
        net.run(10, one_step=True)
    with pytest.raises(NotImplementedError, match="clamp"):
        net.run(10, clamp={"A": np.ones(6, bool)})
    with pytest.raises(ValueError, match="no connection learns with RSTDP"):
        net.run(10, reward=np.ones(10))
    with pytest.raises(ValueError, match="learning_rule"):
        cnsproject.DenseConnection(net.layers["A"], net.layers["B"], learning_rule="stdp")
    with pytest.raises(ValueError, match="unknown arguments"):
        cnsproject.DenseConnection(net.layers["A"], net.layers["B"], w_max=2)


def test_cnsproject_masks_and_time_constants_per_sign():
    """Masked synapses are absent; excitatory and inhibitory connections onto one layer keep
    their own tau_s (tau_exc, tau_inh)."""
    rng = np.random.default_rng(7)
    steps, cur = 150, 16 + 8 * rng.random((150, 4))
    net = cnsproject.Network(dt=1.0)
    net.add_layer(cnsproject.LIFPopulation(4, R=1, C=20), "E")
    net.add_layer(cnsproject.LIFPopulation(4, R=1, C=20, is_inhibitory=True), "I")
    net.add_layer(cnsproject.LIFPopulation(2, R=1, C=20), "O")
    E, I, O = net.layers["E"], net.layers["I"], net.layers["O"]
    net.add_connection(cnsproject.DenseConnection(E, O, J=40, tau_s=5), "E", "O")
    net.add_connection(cnsproject.DenseConnection(I, O, J=30, tau_s=20), "I", "O")
    net.add_monitor(cnsproject.Monitor(O, ["u"]), "O")
    mask = np.zeros((4, 2), bool)
    mask[:2, 0] = True
    net.run(steps, inputs={"E": cur, "I": cur[:, ::-1], "O": np.full((steps, 2), 10.0)},
            masks={"E_to_O": mask})
    uE, uI, uO = np.full(4, -70.0), np.full(4, -70.0), np.full(2, -70.0)
    sE, sI, ge, gi, U = np.zeros(4), np.zeros(4), np.zeros(2), np.zeros(2), []
    keep = (~mask).astype(float)
    for k in range(steps):
        ge = ge * np.exp(-1 / 5) + 10 * (sE[:, None] * keep).sum(axis=0)
        gi = gi * np.exp(-1 / 20) - 30 / 4 * sI.sum()
        uE = uE - (uE + 70 - cur[k]) / 20
        uI = uI - (uI + 70 - cur[k, ::-1]) / 20
        uO = uO - (uO + 70 - (10 + ge + gi)) / 20
        sE, sI = (uE >= -55).astype(float), (uI >= -55).astype(float)
        uE[sE > 0], uI[sI > 0], uO[uO >= -55] = -70, -70, -70
        U.append(uO.copy())
    np.testing.assert_allclose(net.monitors["O"].get("u"), U, atol=1e-9)
    net.add_connection(cnsproject.DenseConnection(E, O, J=1, tau_s=7), "E", "O2")
    with pytest.raises(NotImplementedError, match="one synaptic time constant per sign"):
        net.run(steps, inputs={"E": cur})


# --- core additions -----------------------------------------------------------------------------


def test_model_builder_equals_the_dict():
    model = (neuroxide.Model(dt="0.1 ms", duration="20 ms", seed=1)
             .population("E", 40, tau="10 ms")
             .population("I", 10, tau="5 ms")
             .projection("EE", "E", "E", rule={"bernoulli": {"k": 10}}, weight=0.5)
             .projection("IE", "I", "E", weight=-1.0)
             .input("drive", "E", constant=1.0)
             .monitor("E", "rate", window="1 ms"))
    assert model.spec["projections"]["IE"] == {"pre": "I", "post": "E", "rule": "all_to_all",
                                               "weight": -1.0}
    a = model.build().run()
    b = neuroxide.Network(model.spec).run()
    np.testing.assert_array_equal(a["E.rate"], b["E.rate"])
    assert a["E.rate"].shape == (1, 20, 40)
    with pytest.raises(ValueError, match=r"`populations\.E\.tua`"):
        neuroxide.Model(dt="1 ms", duration="2 ms").population("E", 3, tua="1 ms").build()
    with pytest.raises(ValueError, match="already defined"):
        neuroxide.Model().population("E", 3).population("E", 4)


def test_run_with_duration_and_input_arrays():
    spec = {"dt": "1 ms", "duration": "10 ms",
            "populations": {"E": {"size": 3, "tau": "10 ms", "transfer": "id"}},
            "monitors": [{"population": "E", "variable": "rate", "every": "1 ms"}]}
    net = neuroxide.Network(spec)
    drive = np.tile(np.array([1.0, 2.0, 3.0]), (20, 1))
    results = net.run(duration="20 ms", inputs={"E": drive})
    assert results["E.rate"].shape == (1, 20, 3)
    # Exponential Euler from 0 under a constant input u: u (1 − e^{−t/τ}).
    expected = np.outer(1 - np.exp(-np.arange(1, 21) / 10), [1, 2, 3])
    np.testing.assert_allclose(results["E.rate"][0], expected, rtol=1e-5)
    with pytest.raises(ValueError, match="reset"):
        net.run(duration=5)
    net.reset()
    assert net.run(duration=5)["E.rate"].shape == (1, 5, 3)
    with pytest.raises(ValueError, match="not a population"):
        neuroxide.Network(spec).run(inputs={"X": drive})


def test_ctrl_c_keeps_the_partial_results():
    net = neuroxide.load(ROOT / "examples" / "ring.yaml", duration="1000 s")
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt) as caught:
        net.run()
    timer.join()
    partial = caught.value.results
    assert partial is not None and not partial.complete
    assert 0 < partial.t.size < 100_000 and partial["E.rate"].shape[1] == partial.t.size


def test_plot_helpers(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from neuroxide import plot

    ring = neuroxide.load(ROOT / "examples" / "ring.yaml", duration="600 ms").run()
    ax = plot.bump_phase(ring, "E")
    phase = ax.lines[0].get_ydata()
    assert abs(phase[-1] - 90) < 10  # the bump sits at the cue (90°)
    m0, m1, ph = plot.decode_bump(np.cos(np.linspace(0, 2 * np.pi, 100, endpoint=False) - 1.0))
    assert abs(ph - 1.0) < 1e-9 and abs(m1 - 1.0) < 1e-9 and abs(m0) < 1e-12
    plot.heatmap(ring, "E.rate").figure.savefig(tmp_path / "h.png")
    plot.means(ring).figure.savefig(tmp_path / "m.png")
    spikes = neuroxide.load(ROOT / "examples" / "qif.yaml", duration="200 ms").run()
    ax = plot.raster(spikes, "Q")
    assert len(ax.collections[0].get_offsets()) == spikes["Q.spikes"].shape[0]
    with pytest.raises(KeyError, match="spikes"):
        plot.raster(ring, "E")


# --- the same model through the command line ------------------------------------------------------


def _cli_equals(results, tmp_path):
    """The model a compat layer ran, rerun by `neuroxide run` from its resolved spec: the same
    arrays, bitwise."""
    import json

    tmp_path.mkdir()
    model = tmp_path / "model.yaml"
    model.write_text(json.dumps(results.spec))
    subprocess.run([BIN, "run", model, "-q", "--out", tmp_path / "out"], check=True,
                   capture_output=True)
    with np.load(tmp_path / "out" / "results.npz") as data:
        assert sorted(data.keys()) == sorted(results.keys())
        for name in results:
            np.testing.assert_array_equal(data[name], results[name], err_msg=name)


def test_compat_models_equal_the_command_line(tmp_path):
    rng = np.random.default_rng(4)
    J = rng.normal(0, 1, (10, 10))
    model = neurosimtools.SpikingModel(np.abs(J), 5.0)
    model(np.full((1, 10), 30.0), 0.1, T=20.0, VIRecord=[0])
    _cli_equals(model.results, tmp_path / "nst")
    net = rectipy.Network(1e-3)
    net.add_diffeq_node("q", "neuron_model_templates.spiking_neurons.qif.qif", "I_ext", "s",
                        weights=J, spike_var="spike", reset_var="v", node_vars={"tau_s": 2.0})
    net.run(np.full((2000, 10), 8.0), verbose=False)
    _cli_equals(net.results, tmp_path / "rectipy")
    cns = cnsproject.Network(dt=1.0)
    cns.add_layer(cnsproject.LIFPopulation(5, R=1, C=20), "E")
    cns.add_connection(cnsproject.DenseConnection(cns.layers["E"], cns.layers["E"], J=30), "E", "E")
    cns.run(50, inputs={"E": np.full((50, 5), 20.0)})
    _cli_equals(cns.results, tmp_path / "cns")
