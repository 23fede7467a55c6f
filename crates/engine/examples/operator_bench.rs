//! Balanced-network benchmark of the sparse coupling operator.
//!
//! 10,000 postsynaptic neurons, presynaptic blocks of 8,000 E and 2,000 I neurons, Bernoulli
//! with K = 500 from each (10M synapses, `f32`, homogeneous weights). Prints the time of one full
//! input computation (both blocks) per lane count and thread count: median and minimum ms per
//! apply, synapse updates per second (synapses × lanes / time) and the streamed bytes per second
//! (operator data, `x` read once, `y` read and written), relative to a copy bandwidth.
//!
//! ```text
//! cargo run --release -p neuroxide --example operator_bench -- --lanes 1,10 --threads 2
//! ```
//!
//! Options: `--lanes L1,L2,..` (default 1,2,4,8,10,16), `--threads T1,T2,..` (default 1,2),
//! `--reps N` applies per measurement (default 60), `--n N` postsynaptic neurons (default 10000;
//! the presynaptic blocks are 0.8 N and 0.2 N, K stays 500).
//! Environment: `NX_X_ALIGN=B` places each input `B` bytes past a 64-byte boundary (default: where
//! the allocator puts it); the `cpu` column is the process's CPU time per apply (Linux), which
//! stays meaningful on a busy machine.

use std::time::Instant;

use neuroxide::connectivity::{BlockSpec, Profile, Rule};
use neuroxide::operators::build_operator;
use rayon::prelude::*;

fn pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .expect("thread pool")
}

fn list(s: &str) -> Vec<usize> {
    s.split(',')
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|_| panic!("bad number {v:?}"))
        })
        .collect()
}

fn main() {
    let mut lanes_list = vec![1, 2, 4, 8, 10, 16];
    let mut threads = vec![1, 2];
    let mut reps = 60usize;
    let mut n = 10_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--lanes" => lanes_list = list(&val()),
            "--threads" => threads = list(&val()),
            "--reps" => reps = val().parse().expect("--reps N"),
            "--n" => n = val().parse().expect("--n N"),
            "-h" | "--help" => {
                println!("operator_bench [--lanes 1,10] [--threads 1,2] [--reps 60] [--n 10000]");
                return;
            }
            other => panic!("unknown argument {other:?} (try --help)"),
        }
    }
    let (ne, ni, k) = (n * 4 / 5, n / 5, 500.0f64);
    let spec = |n_pre: usize, weight: f64, stream: u64| BlockSpec {
        n_post: n,
        n_pre,
        rule: Rule::Bernoulli {
            p: (k / n_pre as f64).min(1.0),
        },
        profile: Profile::Uniform,
        weight,
        autapses: true,
        seed: 99,
        stream,
    };
    let build_pool = pool(threads.iter().copied().max().unwrap_or(1));
    let t0 = Instant::now();
    let op_e = build_operator::<f32>(&spec(ne, 0.7, 3), &build_pool).expect("E block");
    let op_i = build_operator::<f32>(&spec(ni, -2.0, 4), &build_pool).expect("I block");
    let synapses = op_e.synapses() + op_i.synapses();
    println!(
        "build: {:.1} ms, synapses {} + {} = {synapses}, {} / {}",
        t0.elapsed().as_secs_f64() * 1e3,
        op_e.synapses(),
        op_i.synapses(),
        op_e.describe(),
        op_i.describe()
    );
    let bw = copy_bandwidth(&build_pool);
    println!(
        "copy bandwidth ({} threads, read + write): {:.1} GB/s",
        build_pool.current_num_threads(),
        bw / 1e9
    );
    for &lanes in &lanes_list {
        let align_off: Option<usize> = std::env::var("NX_X_ALIGN")
            .ok()
            .and_then(|v| v.parse().ok());
        let input = |n_pre: usize, phase: f32| -> Vec<f32> {
            (0..n_pre * lanes)
                .map(|v| 0.5 + 0.25 * ((v as f32) * 0.37 + phase).sin())
                .collect()
        };
        let (xe0, xi0) = (input(ne, 0.0), input(ni, 1.0));
        let mut xeb = vec![0.0f32; xe0.len() + 64];
        let mut xib = vec![0.0f32; xi0.len() + 64];
        let place = |b: &mut Vec<f32>, src: &[f32]| -> (usize, usize) {
            let a = b.as_ptr() as usize;
            let off = match align_off {
                Some(o) => ((64 - a % 64) % 64 + o) / 4,
                None => 0,
            };
            b[off..off + src.len()].copy_from_slice(src);
            (off, off + src.len())
        };
        let (e0, e1) = place(&mut xeb, &xe0);
        let (i0, i1) = place(&mut xib, &xi0);
        let (xe, xi) = (&xeb[e0..e1], &xib[i0..i1]);
        let scale: Vec<f32> = (0..lanes).map(|l| 1.0 + 0.01 * l as f32).collect();
        let bytes = (op_e.bytes_per_apply(lanes) + op_i.bytes_per_apply(lanes)) as f64;
        let mut first: Option<Vec<u32>> = None;
        for &t in &threads {
            let p = pool(t);
            let apply = |y: &mut [f32]| {
                op_e.apply_add_scaled(xe, y, lanes, &scale, &p);
                op_i.apply_add_scaled(xi, y, lanes, &scale, &p);
            };
            // Warm-up (also builds any cached per-operator structures), and a determinism check:
            // one apply onto zeros gives the same bits for every thread count.
            let mut y = vec![0.0f32; n * lanes];
            apply(&mut y);
            let bits: Vec<u32> = y.iter().map(|v| v.to_bits()).collect();
            let same = match &first {
                None => {
                    first = Some(bits);
                    true
                }
                Some(b) => *b == bits,
            };
            let mut times = Vec::with_capacity(reps);
            let cpu0 = cpu_seconds();
            for _ in 0..reps.max(1) {
                let t0 = Instant::now();
                apply(&mut y);
                times.push(t0.elapsed().as_secs_f64());
            }
            let cpu = cpu_seconds()
                .zip(cpu0)
                .map(|(b, a)| (b - a) / reps.max(1) as f64);
            times.sort_by(f64::total_cmp);
            let (med, min) = (times[times.len() / 2], times[0]);
            println!(
                "lanes {lanes:2} threads {t}: median {:.3} ms, min {:.3} ms per apply{}, {:.2} G syn-updates/s, {:.1} GB/s ({:.0}% of copy){}",
                med * 1e3,
                min * 1e3,
                cpu.map_or(String::new(), |c| format!(" (cpu {:.3} ms)", c * 1e3)),
                synapses as f64 * lanes as f64 / med / 1e9,
                bytes / med / 1e9,
                100.0 * bytes / med / bw,
                if same {
                    ""
                } else {
                    "  RESULT DIFFERS FROM FIRST THREAD COUNT"
                }
            );
        }
    }
}

/// CPU time of all this process's threads so far (Linux: from /proc scheduler statistics, so
/// other processes on a busy machine do not count; rayon workers' idle spinning does).
fn cpu_seconds() -> Option<f64> {
    let mut ns = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(ns as f64 * 1e-9)
}

/// STREAM-like copy bandwidth (read + write bytes / time), 256 MiB arrays, best of 5.
fn copy_bandwidth(pool: &rayon::ThreadPool) -> f64 {
    let len = 64 << 20;
    let src = vec![1.0f32; len];
    let mut dst = vec![0.0f32; len];
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        pool.install(|| {
            dst.par_chunks_mut(1 << 16)
                .zip(src.par_chunks(1 << 16))
                .for_each(|(d, s)| d.copy_from_slice(s));
        });
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (len * 4) as f64 / best
}
