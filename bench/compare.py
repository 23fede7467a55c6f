#!/usr/bin/env python3
"""Compare neuroxide with its PyTorch peers on the W3 workloads, in one sitting, at equal threads.

Usage (from the repository root, after `cargo build --release`):

    python3 bench/compare.py [--threads 1 2] [--repeats 3] [--steps 1000]
                             [--peers ../shared/peers] [--peers-py ~/.cache/peers-venv/bin/python]
                             [--json target/bench/compare.json] [--no-peers]

For every repeat, thread count and workload it runs, one after the other (interleaved, so that a
drift in machine load hits both sides alike):

* `target/release/neuroxide bench FILE --threads N --steps S --json ...`, one workload per process;
* the peer script with `THREADS=N STEPS=S` (`w3_rate_torch.py` with `MODE=csr BATCH=1` or
  `BATCH=10`, `w3_ring_torch.py` with `BATCH=400`), parsing its `RESULT {json}` line;

each under `/usr/bin/time -v` for its peak resident memory. Every figure is the median over the
repeats. Prints a markdown table with the issue's targets next to the ratios and writes a JSON
file with the medians and every raw run. Python 3 standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (label, model file, peer script, peer environment, speed target ×)
WORKLOADS = [
    ("W3 balanced, 1 lane", "bench/w3_balanced.yaml", "w3_rate_torch.py", {"MODE": "csr", "BATCH": "1"}, 5.0),
    ("W3 balanced, 10 lanes", "bench/w3_balanced_10.yaml", "w3_rate_torch.py", {"MODE": "csr", "BATCH": "10"}, 5.0),
    ("W3b ring, 400 lanes", "bench/w3_ring.yaml", "w3_ring_torch.py", {"BATCH": "400"}, 20.0),
]
# neuroxide's peak memory at most this fraction of the peer's.
MEMORY_TARGET = 0.25


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default: 1 2)")
    p.add_argument("--repeats", "-r", type=int, default=3, help="runs per measurement; the median is kept")
    p.add_argument("--steps", type=int, default=1000, help="timed steps per run (default 1000)")
    p.add_argument("--peers", default=os.path.join(REPO, "..", "shared", "peers"),
                   help="folder of the peer scripts (default: ../shared/peers from the repository root)")
    p.add_argument("--peers-py", default=os.environ.get("PEERS_PY", os.path.expanduser("~/.cache/peers-venv/bin/python")),
                   help="Python of the peers virtualenv (default: $PEERS_PY or ~/.cache/peers-venv/bin/python)")
    p.add_argument("--neuroxide", default=os.path.join(REPO, "target", "release", "neuroxide"),
                   help="the neuroxide binary (default: target/release/neuroxide)")
    p.add_argument("--json", default=os.path.join(REPO, "target", "bench", "compare.json"),
                   help="where to write the results (default: target/bench/compare.json)")
    p.add_argument("--no-peers", action="store_true", help="run neuroxide's part only")
    p.add_argument("--only", nargs="+", type=int, help="indices (0-based) of the workloads to run")
    return p.parse_args()


def machine():
    """Date, core count, CPU model and load: the context a timing needs."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
        "python": platform.python_version(),
    }


def timed(cmd, env=None, cwd=None):
    """Run `cmd` under /usr/bin/time -v; return (returncode, stdout+stderr, peak RSS bytes or None)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "time.txt")
        full = ["/usr/bin/time", "-v", "-o", report] + cmd if os.path.exists("/usr/bin/time") else cmd
        p = subprocess.run(full, env=env, cwd=cwd, capture_output=True, text=True)
        peak = None
        if os.path.exists(report):
            with open(report) as f:
                m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
            if m:
                peak = int(m.group(1)) * 1024
        return p.returncode, p.stdout + p.stderr, peak


def run_neuroxide(args, model, threads):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.json")
        cmd = [args.neuroxide, "bench", os.path.join(REPO, model), "--threads", str(threads),
               "--steps", str(args.steps), "--json", out]
        rc, text, peak = timed(cmd, cwd=REPO)
        if rc != 0 or not os.path.exists(out):
            raise RuntimeError(f"{' '.join(cmd)} failed (exit {rc}):\n{text[-2000:]}")
        with open(out) as f:
            result = json.load(f)[0]
    result["peak_rss_bytes_time"] = peak
    return result


def run_peer(args, script, env_extra, threads):
    env = dict(os.environ)
    env.update(env_extra)
    env.update({"THREADS": str(threads), "STEPS": str(args.steps)})
    cmd = [args.peers_py, os.path.join(args.peers, script)]
    rc, text, peak = timed(cmd, env=env, cwd=tempfile.gettempdir())
    result = None
    for line in text.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    if rc != 0 or result is None:
        raise RuntimeError(f"{' '.join(cmd)} ({env_extra}, THREADS={threads}) failed (exit {rc}):\n{text[-2000:]}")
    result["peak_rss_bytes_time"] = peak
    return result


def peers_available(args):
    """None if the peers can run, else why not and how to fix it."""
    if not os.path.isdir(args.peers):
        return f"no peer scripts at {args.peers} (use --peers)"
    if not os.access(args.peers_py, os.X_OK):
        return (f"no peers Python at {args.peers_py}; create the virtualenv with "
                f"`bash {os.path.relpath(os.path.join(args.peers, 'setup.sh'), REPO)}` (about 6 GB) or set --peers-py")
    p = subprocess.run([args.peers_py, "-c", "import torch"], capture_output=True, text=True)
    if p.returncode != 0:
        return (f"{args.peers_py} cannot import torch; recreate the virtualenv with "
                f"`bash {os.path.relpath(os.path.join(args.peers, 'setup.sh'), REPO)}`")
    return None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def megabytes(size):
    return None if size is None else size / 1e6


def fmt(value, spec, missing="–"):
    return missing if value is None else format(value, spec)


def main():
    args = parse_args()
    if not os.access(args.neuroxide, os.X_OK):
        sys.exit(f"no neuroxide binary at {args.neuroxide}: run `cargo build --release` first")
    workloads = [w for i, w in enumerate(WORKLOADS) if args.only is None or i in args.only]
    info = machine()
    why_no_peers = "--no-peers given" if args.no_peers else peers_available(args)
    if why_no_peers:
        print(f"peers skipped: {why_no_peers}", file=sys.stderr)
    print(f"# {info['date']}: {info['nproc']} × {info['cpu']}, load {info['load_average_at_start']}", file=sys.stderr)

    raw = {}  # (workload index, threads) -> {"neuroxide": [...], "peer": [...]}
    for repeat in range(args.repeats):
        for threads in args.threads:
            for i, (label, model, script, env, _) in enumerate(workloads):
                runs = raw.setdefault((i, threads), {"neuroxide": [], "peer": []})
                ours = run_neuroxide(args, model, threads)
                runs["neuroxide"].append(ours)
                line = f"[{repeat + 1}/{args.repeats}] {label}, {threads} threads: neuroxide {ours['ms_per_step']:.3f} ms/step"
                if not why_no_peers:
                    peer = run_peer(args, script, env, threads)
                    runs["peer"].append(peer)
                    line += f", peer {peer['ms_per_step']:.3f} ms/step"
                print(line, file=sys.stderr, flush=True)

    rows = []
    for (i, threads), runs in sorted(raw.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        label, model, script, env, target = workloads[i]
        ours = runs["neuroxide"]
        peer = runs["peer"]
        row = {
            "workload": label,
            "model": model,
            "peer": f"{script} " + " ".join(f"{k}={v}" for k, v in env.items()) if peer else None,
            "threads": threads,
            "repeats": len(ours),
            "neuroxide_ms_per_step": median([r["ms_per_step"] for r in ours]),
            "neuroxide_build_s": median([r["build_s"] for r in ours]),
            "neuroxide_peak_mb": megabytes(median([r["peak_rss_bytes_time"] or r["peak_rss_bytes"] for r in ours])),
            "synapse_updates_per_s": median([r["synapse_updates_per_s"] for r in ours]),
            "achieved_gb_per_s": median([r["achieved_gb_per_s"] for r in ours]),
            "triad_gb_per_s": median([r["triad_gb_per_s"] for r in ours]),
            "bandwidth_fraction": median([r["bandwidth_fraction"] for r in ours]),
            "peer_ms_per_step": median([r["ms_per_step"] for r in peer]),
            "peer_build_s": median([r.get("build_s") for r in peer]),
            "peer_peak_mb": megabytes(median([r["peak_rss_bytes_time"] for r in peer])),
            "speed_target": target,
            "memory_target": MEMORY_TARGET,
        }
        row["speed_ratio"] = (row["peer_ms_per_step"] / row["neuroxide_ms_per_step"]
                              if row["peer_ms_per_step"] else None)
        row["memory_ratio"] = (row["neuroxide_peak_mb"] / row["peer_peak_mb"] if row["peer_peak_mb"] else None)
        row["speed_target_met"] = None if row["speed_ratio"] is None else row["speed_ratio"] >= target
        row["memory_target_met"] = None if row["memory_ratio"] is None else row["memory_ratio"] <= MEMORY_TARGET
        rows.append(row)

    def verdict(met):
        return "" if met is None else (" ✓" if met else " ✗")

    print(f"\n{info['date']} — {info['nproc']} cores, {info['cpu']}; medians of {args.repeats}, {args.steps} steps\n")
    print("| workload | threads | neuroxide ms/step | peer ms/step | speed ratio (target) | neuroxide peak MB "
          "| peer peak MB | memory ratio (target) | synapse updates/s | bandwidth fraction |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['workload']} | {r['threads']} | {fmt(r['neuroxide_ms_per_step'], '.3f')} "
              f"| {fmt(r['peer_ms_per_step'], '.2f')} "
              f"| {fmt(r['speed_ratio'], '.1f')}× (≥{r['speed_target']:g}×){verdict(r['speed_target_met'])} "
              f"| {fmt(r['neuroxide_peak_mb'], '.0f')} | {fmt(r['peer_peak_mb'], '.0f')} "
              f"| {fmt(r['memory_ratio'], '.3f')} (≤{MEMORY_TARGET:g}){verdict(r['memory_target_met'])} "
              f"| {fmt(r['synapse_updates_per_s'], '.2e')} "
              f"| {fmt(r['bandwidth_fraction'] and 100 * r['bandwidth_fraction'], '.0f')}% of "
              f"{fmt(r['triad_gb_per_s'], '.1f')} GB/s |")
    if why_no_peers:
        print(f"\npeers not run: {why_no_peers}")

    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({
            "machine": info,
            "settings": {"threads": args.threads, "repeats": args.repeats, "steps": args.steps,
                         "peers": None if why_no_peers else os.path.abspath(args.peers),
                         "peers_py": None if why_no_peers else args.peers_py},
            "rows": rows,
            "raw": [{"workload": workloads[i][0], "threads": t, **runs} for (i, t), runs in raw.items()],
        }, f, indent=2)
        f.write("\n")
    print(f"\nJSON: {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
