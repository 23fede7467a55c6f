#!/usr/bin/env python3
"""Compare neuroxide with its peers (PyTorch on W3; NEST and Brian2 on W1/W2) in one sitting, at equal threads.

Usage (from the repository root, after `cargo build --release`):

    python3 bench/compare.py [--suite rate spiking] [--threads 1 2] [--repeats 3] [--steps 1000]
                             [--simtime 1000] [--peers ../shared/peers]
                             [--peers-py ~/.cache/peers-venv/bin/python]
                             [--json target/bench/compare.json] [--no-peers]

Rate suite (W3): for every repeat, thread count and workload it runs, one after the other
(interleaved, so that a drift in machine load hits both sides alike):

* `target/release/neuroxide bench FILE --threads N --steps S --json ...`, one workload per process;
* the peer script with `THREADS=N STEPS=S` (`w3_rate_torch.py` with `MODE=csr BATCH=1` or
  `BATCH=10`, `w3_ring_torch.py` with `BATCH=400`), parsing its `RESULT {json}` line.

Spiking suite (W1 Brunel, W2 COBA): for every repeat, thread count and workload,
`neuroxide bench bench/w1_brunel.yaml --threads N --set duration=T ms --json ...`, then the NEST
script (`w1_brunel_nest.py`, `w2_coba_nest.py`) and the Brian2 C++ standalone script
(`DEVICE=cpp_standalone`, a fresh build folder every run, so its build includes code generation
and compilation), with `THREADS=N SIMTIME=T`.

Every run is under `/usr/bin/time -v` for its peak resident memory and timed as a whole process
(end to end: start-up, imports, build, simulation). Every figure is the median over the repeats.
Prints markdown tables with the issue's targets next to the ratios and writes a JSON file with
the medians and every raw run. Python 3 standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (label, model file, peer script, peer environment, speed target ×)
WORKLOADS = [
    ("W3 balanced, 1 lane", "bench/w3_balanced.yaml", "w3_rate_torch.py", {"MODE": "csr", "BATCH": "1"}, 5.0),
    ("W3 balanced, 10 lanes", "bench/w3_balanced_10.yaml", "w3_rate_torch.py", {"MODE": "csr", "BATCH": "10"}, 5.0),
    ("W3b ring, 400 lanes", "bench/w3_ring.yaml", "w3_ring_torch.py", {"BATCH": "400"}, 20.0),
]
# neuroxide's peak memory at most this fraction of the peer's.
MEMORY_TARGET = 0.25

# Spiking workloads: (label, model file, [(peer name, script, environment)], simulation-phase
# speed target × over the fastest peer). Targets of issue 3, at equal thread counts: simulation
# ≥ 3× (Brunel) / 2× (COBA) faster than the fastest peer, end to end faster than every peer, peak
# memory ≤ half of NEST's.
SPIKING = [
    ("W1 Brunel", "bench/w1_brunel.yaml",
     [("NEST", "w1_brunel_nest.py", {}), ("Brian2 C++", "w1_brunel_brian2.py", {"DEVICE": "cpp_standalone"})], 3.0),
    ("W2 COBA", "bench/w2_coba.yaml",
     [("NEST", "w2_coba_nest.py", {}), ("Brian2 C++", "w2_coba_brian2.py", {"DEVICE": "cpp_standalone"})], 2.0),
]
SPIKING_MEMORY_TARGET = 0.5  # of NEST's peak


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", nargs="+", choices=["rate", "spiking"], default=["rate", "spiking"],
                   help="which workloads: rate (W3, PyTorch peers) and/or spiking (W1/W2, NEST and Brian2)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default: 1 2)")
    p.add_argument("--repeats", "-r", type=int, default=3, help="runs per measurement; the median is kept")
    p.add_argument("--steps", type=int, default=1000, help="timed steps per rate run (default 1000)")
    p.add_argument("--simtime", type=float, default=1000.0,
                   help="simulated time of the spiking workloads in ms (default 1000, as the peers)")
    p.add_argument("--peers", default=os.path.join(REPO, "..", "shared", "peers"),
                   help="folder of the peer scripts (default: ../shared/peers from the repository root)")
    p.add_argument("--peers-py", default=os.environ.get("PEERS_PY", os.path.expanduser("~/.cache/peers-venv/bin/python")),
                   help="Python of the peers virtualenv (default: $PEERS_PY or ~/.cache/peers-venv/bin/python)")
    p.add_argument("--neuroxide", default=os.path.join(REPO, "target", "release", "neuroxide"),
                   help="the neuroxide binary (default: target/release/neuroxide)")
    p.add_argument("--json", default=os.path.join(REPO, "target", "bench", "compare.json"),
                   help="where to write the results (default: target/bench/compare.json)")
    p.add_argument("--no-peers", action="store_true", help="run neuroxide's part only")
    p.add_argument("--only", nargs="+", type=int, help="indices (0-based) of the rate workloads to run")
    p.add_argument("--only-spiking", nargs="+", type=int, help="indices (0-based) of the spiking workloads to run")
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
    """Run `cmd` under /usr/bin/time -v; return (returncode, stdout+stderr, peak RSS bytes or None).

    The wall clock of the whole process is left in `timed.wall` and its CPU time (user + system)
    in `timed.cpu` (seconds, None without /usr/bin/time)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "time.txt")
        full = ["/usr/bin/time", "-v", "-o", report] + cmd if os.path.exists("/usr/bin/time") else cmd
        started = time.perf_counter()
        p = subprocess.run(full, env=env, cwd=cwd, capture_output=True, text=True)
        timed.wall = time.perf_counter() - started
        peak = None
        timed.cpu = None
        if os.path.exists(report):
            with open(report) as f:
                report_text = f.read()
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report_text)
            if m:
                peak = int(m.group(1)) * 1024
            cpu = [re.search(rf"{k} time \(seconds\): ([0-9.]+)", report_text) for k in ("User", "System")]
            if all(cpu):
                timed.cpu = sum(float(c.group(1)) for c in cpu)
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


def run_neuroxide_spiking(args, model, threads):
    """`neuroxide bench MODEL` for a spiking model over --simtime ms: its JSON plus process figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.json")
        cmd = [args.neuroxide, "bench", os.path.join(REPO, model), "--threads", str(threads),
               "--set", f"duration={args.simtime:g} ms", "--no-stream", "--json", out]
        rc, text, peak = timed(cmd, cwd=REPO)
        wall = timed.wall
        if rc != 0 or not os.path.exists(out):
            raise RuntimeError(f"{' '.join(cmd)} failed (exit {rc}):\n{text[-2000:]}")
        with open(out) as f:
            result = json.load(f)[0]
    result["peak_rss_bytes_time"] = peak
    result["wall_total_s"] = wall
    # CPU time of the whole process (start-up and build included): Brian2 C++ standalone reports
    # its simulation phase as CPU time (std::clock() without OpenMP), so on a loaded machine this,
    # not the wall clock, is the like-for-like figure.
    result["cpu_total_s"] = timed.cpu
    return result


def run_spiking_peer(args, script, env_extra, threads):
    """A NEST or Brian2 script with THREADS and SIMTIME; Brian2 standalone builds in a fresh folder."""
    env = dict(os.environ)
    env.update(env_extra)
    env.update({"THREADS": str(threads), "SIMTIME": f"{args.simtime:g}"})
    build_dir = None
    if env_extra.get("DEVICE") == "cpp_standalone":
        build_dir = tempfile.mkdtemp(prefix="nx_compare_b2_")
        env["BUILD_DIR"] = build_dir
    try:
        cmd = [args.peers_py, os.path.join(args.peers, script)]
        rc, text, peak = timed(cmd, env=env, cwd=tempfile.gettempdir())
        wall = timed.wall
    finally:
        if build_dir:
            shutil.rmtree(build_dir, ignore_errors=True)
    result = None
    for line in text.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    if rc != 0 or result is None:
        raise RuntimeError(f"{' '.join(cmd)} ({env_extra}, THREADS={threads}) failed (exit {rc}):\n{text[-2000:]}")
    result["peak_rss_bytes_time"] = peak
    result["wall_total_s"] = wall
    # The simulation phase: Brian2 standalone reports both the wall of device.run() (start-up of
    # the binary, writing results) and the binary's own run time; the smaller one is kept, in the
    # peer's favour.
    result["sim_phase_s"] = min(v for v in (result.get("sim_s"), result.get("sim_inner_s")) if v is not None)
    return result


def peers_missing(args, modules):
    """None if the peers' Python can import `modules` (e.g. "torch", "nest, brian2"), else why not
    and how to fix it."""
    setup = f"`bash {os.path.relpath(os.path.join(args.peers, 'setup.sh'), REPO)}`"
    if not os.path.isdir(args.peers):
        return f"no peer scripts at {args.peers} (use --peers)"
    if not os.access(args.peers_py, os.X_OK):
        return (f"no peers Python at {args.peers_py}; create the virtualenv with {setup} (about 6 GB) "
                f"or set --peers-py")
    p = subprocess.run([args.peers_py, "-c", f"import {modules}"], capture_output=True, text=True)
    if p.returncode != 0:
        return (f"{args.peers_py} cannot import {modules} ({p.stderr.strip().splitlines()[-1:]}); "
                f"recreate the virtualenv with {setup}")
    return None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def megabytes(size):
    return None if size is None else size / 1e6


def fmt(value, spec, missing="–"):
    return missing if value is None else format(value, spec)


def verdict(met):
    return "" if met is None else (" ✓" if met else " ✗")


def rate_suite(args, info):
    """The W3 workloads against PyTorch: (rows, raw runs, why the peers were skipped)."""
    workloads = [w for i, w in enumerate(WORKLOADS) if args.only is None or i in args.only]
    why_no_peers = "--no-peers given" if args.no_peers else peers_missing(args, "torch")
    if why_no_peers:
        print(f"rate peers skipped: {why_no_peers}", file=sys.stderr)

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
        print(f"\nrate peers not run: {why_no_peers}")
    raw_list = [{"workload": workloads[i][0], "threads": t, **runs} for (i, t), runs in raw.items()]
    return rows, raw_list, why_no_peers


def spiking_rates(result):
    """(E, I) mean rates in Hz of a neuroxide or peer result."""
    if "rates_hz" in result:
        rates = result["rates_hz"]
        return rates.get("E"), rates.get("I")
    return result.get("rate_E_Hz"), result.get("rate_I_Hz")


def spiking_suite(args, info):
    """W1 Brunel and W2 COBA against NEST and Brian2 C++ standalone: (rows, raw runs, why skipped)."""
    workloads = [w for i, w in enumerate(SPIKING) if args.only_spiking is None or i in args.only_spiking]
    why_no_peers = "--no-peers given" if args.no_peers else peers_missing(args, "nest, brian2")
    if why_no_peers:
        print(f"spiking peers skipped: {why_no_peers}", file=sys.stderr)

    raw = {}  # (workload index, threads) -> {"neuroxide": [...], peer name: [...]}
    for repeat in range(args.repeats):
        for threads in args.threads:
            for i, (label, model, peers, _) in enumerate(workloads):
                runs = raw.setdefault((i, threads), {"neuroxide": []})
                ours = run_neuroxide_spiking(args, model, threads)
                runs["neuroxide"].append(ours)
                line = (f"[{repeat + 1}/{args.repeats}] {label}, {threads} threads: neuroxide build "
                        f"{ours['build_s']:.2f} s, sim {ours['sim_s']:.3f} s, {ours['wall_total_s']:.2f} s in all"
                        + (f" (CPU {ours['cpu_total_s']:.2f} s in all)" if ours.get("cpu_total_s") else ""))
                if not why_no_peers:
                    for name, script, env in peers:
                        peer = run_spiking_peer(args, script, env, threads)
                        runs.setdefault(name, []).append(peer)
                        line += (f"; {name} build {peer['build_s']:.2f} s, sim {peer['sim_phase_s']:.3f} s, "
                                 f"{peer['wall_total_s']:.2f} s in all")
                print(line, file=sys.stderr, flush=True)

    rows = []
    for (i, threads), runs in sorted(raw.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        label, model, peers, target = workloads[i]

        def summary(results, sim_key):
            rates = [spiking_rates(r) for r in results]
            return {
                "build_s": median([r["build_s"] for r in results]),
                "sim_s": median([r[sim_key] for r in results]),
                "wall_total_s": median([r["wall_total_s"] for r in results]),
                "peak_mb": megabytes(median([r["peak_rss_bytes_time"] or r.get("peak_rss_bytes") for r in results])),
                "rate_E_hz": median([e for e, _ in rates]),
                "rate_I_hz": median([i for _, i in rates]),
            }

        ours = summary(runs["neuroxide"], "sim_s")
        ours["synaptic_events_per_s"] = median([r["synaptic_events_per_s"] for r in runs["neuroxide"]])
        cpu = [r["cpu_total_s"] for r in runs["neuroxide"] if r.get("cpu_total_s") is not None]
        ours["cpu_total_s"] = median(cpu) if cpu else None
        row = {"workload": label, "model": model, "threads": threads, "repeats": len(runs["neuroxide"]),
               "simtime_ms": args.simtime, "neuroxide": ours, "peers": {},
               "sim_target": target, "memory_target": SPIKING_MEMORY_TARGET}
        for name, script, env in peers:
            if name in runs:
                peer = summary(runs[name], "sim_phase_s")
                peer["script"] = f"{script} " + " ".join(f"{k}={v}" for k, v in env.items())
                peer["sim_ratio"] = peer["sim_s"] / ours["sim_s"]
                peer["end_to_end_ratio"] = peer["wall_total_s"] / ours["wall_total_s"]
                row["peers"][name] = peer
        if row["peers"]:
            fastest = min(row["peers"], key=lambda n: row["peers"][n]["sim_s"])
            row["fastest_peer"] = fastest
            row["sim_ratio_vs_fastest"] = row["peers"][fastest]["sim_ratio"]
            row["sim_target_met"] = row["sim_ratio_vs_fastest"] >= target
            row["end_to_end_ratio_vs_slowest_margin"] = min(p["end_to_end_ratio"] for p in row["peers"].values())
            row["end_to_end_target_met"] = row["end_to_end_ratio_vs_slowest_margin"] > 1.0
            nest = row["peers"].get("NEST")
            if nest and nest["peak_mb"] and ours["peak_mb"]:
                row["memory_ratio_vs_nest"] = ours["peak_mb"] / nest["peak_mb"]
                row["memory_target_met"] = row["memory_ratio_vs_nest"] <= SPIKING_MEMORY_TARGET
        rows.append(row)

    print(f"\n{info['date']} — {info['nproc']} cores, {info['cpu']}; medians of {args.repeats}, "
          f"{args.simtime:g} ms simulated\n")
    print("| workload | threads | simulator | build s | simulate s | end to end s | peak MB | rate E / I Hz "
          "| sim ratio | end-to-end ratio |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")

    def rates_text(x):
        return f"{fmt(x['rate_E_hz'], '.2f')} / {fmt(x['rate_I_hz'], '.2f')}"

    for r in rows:
        o = r["neuroxide"]
        print(f"| {r['workload']} | {r['threads']} | neuroxide | {fmt(o['build_s'], '.2f')} | {fmt(o['sim_s'], '.3f')} "
              f"| {fmt(o['wall_total_s'], '.2f')} | {fmt(o['peak_mb'], '.0f')} | {rates_text(o)} | | |")
        for name, p in r["peers"].items():
            print(f"| {r['workload']} | {r['threads']} | {name} | {fmt(p['build_s'], '.2f')} | {fmt(p['sim_s'], '.3f')} "
                  f"| {fmt(p['wall_total_s'], '.2f')} | {fmt(p['peak_mb'], '.0f')} | {rates_text(p)} "
                  f"| {fmt(p['sim_ratio'], '.2f')}× | {fmt(p['end_to_end_ratio'], '.2f')}× |")
    if any(r["peers"] for r in rows):
        print("\nTargets (ratio = peer time ÷ neuroxide time; memory = neuroxide peak ÷ NEST peak):\n")
        print("| workload | threads | simulation vs fastest peer (target) | end to end vs every peer (> 1×) "
              "| memory vs NEST (≤ 0.5) | neuroxide synaptic events/s |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in rows:
            if not r["peers"]:
                continue
            print(f"| {r['workload']} | {r['threads']} "
                  f"| {fmt(r.get('sim_ratio_vs_fastest'), '.2f')}× vs {r.get('fastest_peer')} (≥{r['sim_target']:g}×)"
                  f"{verdict(r.get('sim_target_met'))} "
                  f"| {fmt(r.get('end_to_end_ratio_vs_slowest_margin'), '.2f')}× (worst){verdict(r.get('end_to_end_target_met'))} "
                  f"| {fmt(r.get('memory_ratio_vs_nest'), '.3f')}{verdict(r.get('memory_target_met'))} "
                  f"| {fmt(r['neuroxide']['synaptic_events_per_s'], '.3e')} |")
    if why_no_peers:
        print(f"\nspiking peers not run: {why_no_peers}")
    raw_list = [{"workload": workloads[i][0], "threads": t, **runs} for (i, t), runs in raw.items()]
    return rows, raw_list, why_no_peers


def main():
    args = parse_args()
    if not os.access(args.neuroxide, os.X_OK):
        sys.exit(f"no neuroxide binary at {args.neuroxide}: run `cargo build --release` first")
    info = machine()
    print(f"# {info['date']}: {info['nproc']} × {info['cpu']}, load {info['load_average_at_start']}", file=sys.stderr)
    output = {"machine": info,
              "settings": {"suite": args.suite, "threads": args.threads, "repeats": args.repeats,
                           "steps": args.steps, "simtime_ms": args.simtime,
                           "peers": os.path.abspath(args.peers), "peers_py": args.peers_py}}
    if "rate" in args.suite:
        rows, raw, why = rate_suite(args, info)
        output.update({"rows": rows, "raw": raw, "rate_peers_skipped": why})
    if "spiking" in args.suite:
        rows, raw, why = spiking_suite(args, info)
        output.update({"spiking_rows": rows, "spiking_raw": raw, "spiking_peers_skipped": why})

    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(output, f, indent=2)
        f.write("\n")
    print(f"\nJSON: {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()
