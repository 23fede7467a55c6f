#!/usr/bin/env python3
"""W4 training benchmark: neuroxide-train against ../shared/peers/w4_rnn_train_torch.py in one run.

R-type RNN, N = 200, 2 inputs, 1 output, 200 steps, batch 64, Adam 1e-3, f32. Each setting runs
`--repeats` times, alternating between the two programs; the table gives the median seconds per
iteration, the ratio PyTorch ÷ neuroxide at the same thread count, and both programs' first and
last training losses (their initialisations differ, so the curves match in shape, not bits).

    cargo build --release -p neuroxide-train --example train_tasks
    python3 bench/train_w4.py [--iters 20] [--threads 1 2] [--repeats 3] [--python PY]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(os.path.dirname(ROOT), "shared", "peers")
OURS = os.path.join(ROOT, "target", "release", "examples", "train_tasks")


def ours(iters, threads):
    out = subprocess.run(
        [OURS, "decision", "200", "200", str(iters), "1e-3", "0.1", "64", "0.5", str(threads)],
        check=True, capture_output=True, text=True).stdout
    last = out.strip().splitlines()[-1]
    s = float(re.search(r"([0-9.]+) s per iteration", last).group(1))
    first = float(re.search(r"first loss ([0-9.]+)", last).group(1))
    last_loss = float(re.search(r"last loss ([0-9.]+)", last).group(1))
    return s, first, last_loss


def torch(python, iters, threads):
    env = dict(os.environ, ITERS=str(iters), THREADS=str(threads))
    out = subprocess.run([python, "w4_rnn_train_torch.py"], cwd=PEERS, env=env, check=True,
                         capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT"))
    r = json.loads(line.split(" ", 1)[1])
    return r["s_per_iter_median"], r["loss_first"], r["loss_last"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--python", default=os.path.expanduser("~/.cache/peers-venv/bin/python"))
    a = ap.parse_args()
    if not os.path.exists(OURS):
        sys.exit(f"{OURS} is missing: cargo build --release -p neuroxide-train --example train_tasks")
    print("| threads | neuroxide s/iter | PyTorch s/iter | ratio | neuroxide loss first → last | PyTorch loss first → last |")
    print("|---:|---:|---:|---:|---|---|")
    for t in a.threads:
        runs_o, runs_t = [], []
        for _ in range(a.repeats):
            runs_o.append(ours(a.iters, t))
            runs_t.append(torch(a.python, a.iters, t))
        so = statistics.median(r[0] for r in runs_o)
        st = statistics.median(r[0] for r in runs_t)
        print(f"| {t} | {so:.4f} ({', '.join(f'{r[0]:.4f}' for r in runs_o)}) | "
              f"{st:.4f} ({', '.join(f'{r[0]:.4f}' for r in runs_t)}) | {st / so:.2f}× | "
              f"{runs_o[0][1]:.3f} → {runs_o[0][2]:.3f} | {runs_t[0][1]:.3f} → {runs_t[0][2]:.3f} |",
              flush=True)


if __name__ == "__main__":
    main()
