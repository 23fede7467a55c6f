//! The rate-network tutorials in examples/ (NeuroFlame's STP working memory, ODR with erase),
//! run from their files at a reduced size, with their scientific results asserted.

use neuroxide::{BuildOptions, Results, simulate};
use neuroxide_model::ModelFile;
use std::path::PathBuf;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn run(name: &str, overrides: &[&str]) -> Results {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let model = ModelFile::load(&example(name), &overrides).unwrap_or_else(|e| panic!("{e}"));
    let options = BuildOptions {
        threads: Some(2),
        base_dir: model.base_dir(),
    };
    simulate(&model.spec, &options).unwrap_or_else(|e| panic!("{e}"))
}

/// `values[lane][frame]` of a (lanes, frames) array.
fn per_lane(results: &Results, name: &str) -> Vec<Vec<f64>> {
    let array = results.get(name).unwrap_or_else(|| panic!("no {name}"));
    let values = array.data.to_f64();
    values.chunks(array.shape[1]).map(<[f64]>::to_vec).collect()
}

/// Angular distance in degrees.
fn angle_between(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

/// Frame indices whose end time (s) lies in `[from, to]`.
fn frames(results: &Results, from: f64, to: f64) -> Vec<usize> {
    let found = results
        .values("t")
        .iter()
        .enumerate()
        .filter(|(_, t)| **t >= from - 1e-9 && **t <= to + 1e-9)
        .map(|(i, _)| i)
        .collect::<Vec<_>>();
    assert!(found.len() >= 2, "few frames in [{from}, {to}] s");
    found
}

const SMALL: [&str; 2] = ["populations.E.size=200", "lanes=4"];

#[test]
fn stp_working_memory_holds_the_cue_and_static_synapses_do_not() {
    let results = run("stp_working_memory.yaml", &SMALL);
    let cue = results.values("cue.phase");
    let m1 = per_lane(&results, "E.m1");
    let phase = per_lane(&results, "E.phase");
    // The cue ends at 1 s; from 1.2 s to 3.5 s (≥ 2 s after its offset) the bump is there, at
    // the cue's phase.
    let delay = frames(&results, 1.2, 3.5);
    assert!(results.values("t").last().unwrap() >= &3.5);
    for lane in 0..4 {
        for &f in &delay {
            assert!(
                m1[lane][f] > 5.0,
                "lane {lane}, frame {f}: m1 = {}",
                m1[lane][f]
            );
            let error = angle_between(phase[lane][f], cue[lane]);
            assert!(error < 10.0, "lane {lane}, frame {f}: phase error {error}°");
        }
    }
    // Facilitation is what holds it: u in the bump is far above U.
    let u = per_lane(&results, "E.stp_u_mean");
    assert!(u[0][*delay.last().unwrap()] > 0.15);
    // Bistable: without the cue the network stays quiet and uniform throughout.
    let mut overrides = SMALL.to_vec();
    overrides.push("inputs.cue.stimulus.amplitude=0");
    let uncued = run("stp_working_memory.yaml", &overrides);
    for lane in per_lane(&uncued, "E.m1") {
        assert!(lane.iter().all(|&m| m < 1e-3), "a bump without a cue");
    }

    // The same couplings at their resting efficacy (u ≡ U, x ≡ 1), the same drive: the bump is
    // gone well before 2 s after the cue.
    let mut overrides = SMALL.to_vec();
    overrides.extend([
        "projections.EE.stp.tau_fac=0ms",
        "projections.EE.stp.tau_rec=0ms",
    ]);
    let control = run("stp_working_memory.yaml", &overrides);
    let m1 = per_lane(&control, "E.m1");
    let cue_on = frames(&control, 0.9, 1.0);
    for lane in 0..4 {
        // The cue did make a bump...
        assert!(m1[lane][cue_on[0]] > 5.0);
        // ...which has died by 1.5 s.
        for &f in &frames(&control, 1.5, 3.5) {
            assert!(
                m1[lane][f] < 0.1,
                "lane {lane}, frame {f}: m1 = {}",
                m1[lane][f]
            );
        }
    }
}

#[test]
fn odr_bump_holds_the_cue_through_the_delay_and_the_erase_pulse_wipes_it() {
    let results = run("odr_erase.yaml", &SMALL);
    let cue = results.values("cue.phase");
    let m1 = per_lane(&results, "E.m1");
    let phase = per_lane(&results, "E.phase");
    for lane in 0..4 {
        let mut held = 0.0f64;
        for &f in &frames(&results, 1.2, 2.5) {
            assert!(m1[lane][f] > 5.0, "lane {lane}: delay m1 = {}", m1[lane][f]);
            held = held.max(m1[lane][f]);
            assert!(angle_between(phase[lane][f], cue[lane]) < 10.0);
        }
        for &f in &frames(&results, 4.0, 5.0) {
            assert!(
                m1[lane][f] < 0.1 * held,
                "lane {lane}, frame {f}: m1 = {} after the erase (delay {held})",
                m1[lane][f]
            );
        }
    }
}

#[test]
fn multistability_sweep_shows_the_regimes_over_the_drive() {
    let small = ["populations.E.size=200"];
    let cued = run("multistability.yaml", &small);
    let uncued = run(
        "multistability.yaml",
        &["populations.E.size=200", "inputs.cue.stimulus.amplitude=0"],
    );
    let drive = cued.values("lane.inputs.baseline.constant");
    assert_eq!(drive.len(), 13);
    let (m1, m0) = (per_lane(&cued, "E.m1"), per_lane(&cued, "E.m0"));
    let (u1, u0) = (per_lane(&uncued, "E.m1"), per_lane(&uncued, "E.m0"));
    let late = frames(&cued, 3.0, 4.0);
    let all = frames(&uncued, 0.0, 4.0);
    let min_over = |x: &[f64], fs: &[usize]| fs.iter().map(|&f| x[f]).fold(f64::MAX, f64::min);
    let max_over = |x: &[f64], fs: &[usize]| fs.iter().map(|&f| x[f]).fold(f64::MIN, f64::max);
    let mut regimes = [0; 4];
    for (lane, &d) in drive.iter().enumerate() {
        let quiet_uncued = max_over(&u1[lane], &all) < 1e-3 && max_over(&u0[lane], &all) < 1.0;
        if d <= -6.0 {
            // Quiet is the only attractor: no memory.
            assert!(quiet_uncued, "drive {d}");
            assert!(max_over(&m1[lane], &late) < 0.1, "drive {d}");
            regimes[0] += 1;
        } else if (-4.0..=0.0).contains(&d) {
            // Bistable: the uncued network stays quiet for 4 s, a cued one holds the bump.
            assert!(quiet_uncued, "drive {d}");
            assert!(min_over(&m1[lane], &late) > 5.0, "drive {d}");
            regimes[1] += 1;
        } else if (2.0..=6.0).contains(&d) {
            // No stable quiet state: activity arises without a cue.
            assert!(min_over(&u0[lane], &late) > 10.0, "drive {d}: uncued m0");
            regimes[2] += 1;
        } else if d >= 8.0 {
            // The cue tips the network into a uniformly active state.
            assert!(max_over(&m1[lane], &late) < 1.0, "drive {d}");
            assert!(min_over(&m0[lane], &late) > 20.0, "drive {d}");
            regimes[3] += 1;
        }
    }
    assert_eq!(regimes, [4, 3, 3, 3]);
}

/// Wrapped to [−180, 180).
fn wrap(a: f64) -> f64 {
    (a + 180.0).rem_euclid(360.0) - 180.0
}

#[test]
fn serial_bias_attracts_the_report_towards_the_previous_cue() {
    let results = run("serial_bias.yaml", &["populations.E.size=200", "lanes=16"]);
    let (c1, c2) = (results.values("cue1.phase"), results.values("cue2.phase"));
    let phase = per_lane(&results, "E.phase");
    let m1 = per_lane(&results, "E.m1");
    let last = phase[0].len() - 1;
    let before_cue2 = frames(&results, 3.3, 3.5);
    let mut weighted = 0.0;
    let mut counted = 0;
    for lane in 0..16 {
        // Trial 1 was erased (a residue of a few per cent of the bump), trial 2 is held.
        assert!(m1[lane][before_cue2[0]] < 0.1 * m1[lane][last]);
        let previous = wrap(c1[lane] - c2[lane]);
        let error = wrap(phase[lane][last] - c2[lane]);
        assert!(error.abs() < 10.0, "lane {lane}: error {error}°");
        if previous.abs() > 5.0 && previous.abs() < 175.0 {
            assert_eq!(
                error.signum(),
                previous.signum(),
                "lane {lane}: previous cue at {previous}°, error {error}° (repulsive)"
            );
            weighted += error * previous.signum();
            counted += 1;
        }
    }
    assert!(counted >= 10);
    let mean_bias = weighted / counted as f64;
    assert!(mean_bias > 0.5, "mean attractive bias {mean_bias}°");
}
