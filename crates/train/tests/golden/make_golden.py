"""Golden gradients for neuroxide-train's BPTT adjoint, computed by PyTorch autograd.

An independent implementation of NeuroSimTools' RateModel recurrence (R- and Z-type), with the
dense, masked/Dale and low-rank recurrent parametrisations, a masked MSE loss and truncated BPTT
(detach every k steps). Writes one small .npz per case next to this script: the inputs, targets,
mask, every parameter (`param.<name>`), the loss and every gradient (`grad.<name>`), float64.
crates/train/tests/golden.rs checks the Rust gradients against them, so CI needs no PyTorch.

Run: ~/.cache/peers-venv/bin/python crates/train/tests/golden/make_golden.py
"""
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))


def rate_model(case):
    rng = np.random.default_rng(case["seed"])
    N, nin, nout, T, B = case["N"], 3, 2, 12, 4
    kind, f_name, trunc = case["type"], case["f"], case.get("truncate")
    f = {"tanh": torch.tanh, "relu": torch.relu, "id": lambda v: v}[f_name]
    params = {}

    def par(name, shape, std):
        params[name] = torch.tensor(rng.normal(0, std, shape), requires_grad=True)

    if case.get("low_rank"):
        par("u", (N, 2), 1.0)
        par("v", (N, 2), 1.0)
    else:
        par("recurrent", (N, N), 1.2 / np.sqrt(N))
    par("readin", (N, nin), 1.0)
    par("readout", (nout, N), 1.0 / np.sqrt(N))
    par("bias", (N,), 0.3)
    par("bias_out", (nout,), 0.3)
    params["eta"] = torch.tensor(rng.uniform(0.2, 0.9, N), requires_grad=True)
    mask_w = (rng.uniform(size=(N, N)) < 0.7).astype(float) if case.get("mask") else None
    dale = np.where(np.arange(N) < N * 3 // 4, 1.0, -1.0) if case.get("dale") else None

    def weights():
        if case.get("low_rank"):
            u, v = params["u"], params["v"]
            if case.get("normalize"):
                u = u / u.norm()
                v = v / v.norm()
            return case["scale"] * (u @ v.T)
        w = params["recurrent"]
        if dale is not None:
            w = w.abs() * torch.tensor(dale)[None, :]
        if mask_w is not None:
            w = w * torch.tensor(mask_w)
        return w

    x = torch.tensor(rng.normal(0, 1, (T, B, nin)))
    target = torch.tensor(rng.normal(0, 1, (T, B, nout)))
    mask = torch.tensor((rng.uniform(size=(T, B, nout)) < 0.6).astype(float))
    W = weights()
    h = torch.zeros(B, N)
    ys = []
    for t in range(T):
        if trunc and t % trunc == 0:
            h = h.detach()
        eta = params["eta"]
        if kind == "R":
            a = h @ W.T + x[t] @ params["readin"].T + params["bias"]
            h = h + eta * (-h + f(a))
            rate = h
        else:
            u = f(h) @ W.T + x[t] @ params["readin"].T + params["bias"]
            h = h + eta * (-h + u)
            rate = f(h)
        ys.append(rate @ params["readout"].T + params["bias_out"])
    y = torch.stack(ys)
    loss = (mask * (y - target) ** 2).sum() / mask.sum()
    loss.backward()
    out = {"x": x.numpy(), "target": target.numpy(), "mask": mask.numpy(),
           "loss": np.array([loss.item()])}
    if mask_w is not None:
        out["weight_mask"] = mask_w
    if dale is not None:
        out["dale"] = dale
    for k, p in params.items():
        out["param." + k] = p.detach().numpy()
        out["grad." + k] = p.grad.numpy()
    np.savez(os.path.join(HERE, case["name"] + ".npz"), **out)
    print(case["name"], "loss", loss.item())


CASES = [
    {"name": "r_tanh_dense", "type": "R", "f": "tanh", "N": 8, "seed": 1},
    {"name": "z_relu_mask_dale", "type": "Z", "f": "relu", "N": 8, "seed": 2, "mask": True, "dale": True},
    {"name": "r_tanh_low_rank_norm", "type": "R", "f": "tanh", "N": 9, "seed": 3, "low_rank": True,
     "normalize": True, "scale": 2.5},
    {"name": "z_tanh_truncated4", "type": "Z", "f": "tanh", "N": 7, "seed": 4, "truncate": 4},
]

if __name__ == "__main__":
    for c in CASES:
        rate_model(c)
