//! Tasks generated in batches from a seed: inputs `x` (`T × B × N_in`), targets and masks
//! (`T × B × channels`), and what a correct answer is (for the accuracy or phase error).
//!
//! Batch `i` of a task is a pure function of `(seed, split, i)`, so runs repeat exactly and a
//! held-out split never overlaps the training batches. Windows are fractions of the trial length T
//! (steps); all tasks work for any T ≥ 20.
//!
//! | task | inputs | outputs | trial |
//! |---|---|---|---|
//! | `decision` | evidence, go cue | 1 | evidence μ + 0.5·ξ for T/2 (μ ∈ ±{0.05, 0.1, 0.2, 0.4}); go in the last quarter; target sign(μ) during go (perceptual decision making / integration; the peer benchmark's task) |
//! | `dms` | sample A, sample B, go | 1 | sample [0.1, 0.3)T, test [0.6, 0.8)T; target +1 match / −1 non-match during [0.8, 1)T (delayed match-to-sample) |
//! | `odr` | cos θ, sin θ, go | 2 (or a ring) | cue at θ ~ U(0, 2π) for [0.05, 0.15)T, go at a random delay; target (cos θ, sin θ) from the cue's end on (oculomotor delayed response) |
//! | `dual` | A, B, C, D | 2 | NeuroFlame's dual task: sample A/B [0.05, 0.15)T, distractor go C / no-go D [0.35, 0.45)T, test A/B [0.7, 0.8)T; channel 0 licks (1) after C in [0.45, 0.6)T, channel 1 reports a match in [0.8, 1)T (BCE logits) |
//! | `go_no_go` | go, no-go | 1 | stimulus in [0.1, 0.3)T; target 1 after go, 0 after no-go, in [0.6, 1)T (BCE logits) |
//! | `flip_flop` | K channels | K | random ±1 pulses (probability 0.05 per step and channel, 2 steps); target: the sign of the channel's last pulse (0 before the first) |
//! | `sine` | frequency level | 1 | a constant input 0.25 + 0.75·k/(F−1) selects one of F frequencies f_k from 1 to 3 cycles per T; target sin(2π f_k t/T) after the first 10 % of the trial |

use crate::TrainError;
use crate::loss::LossKind;
use neuroxide::rng::{CounterRng, stream_id};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    Decision,
    Dms,
    Odr,
    Dual,
    GoNoGo,
    FlipFlop,
    Sine,
}

impl TaskKind {
    pub const NAMES: &'static [&'static str] = &[
        "decision",
        "dms",
        "odr",
        "dual",
        "go_no_go",
        "flip_flop",
        "sine",
    ];

    pub fn parse(name: &str) -> Option<TaskKind> {
        Some(match name {
            "decision" => TaskKind::Decision,
            "dms" => TaskKind::Dms,
            "odr" => TaskKind::Odr,
            "dual" => TaskKind::Dual,
            "go_no_go" => TaskKind::GoNoGo,
            "flip_flop" => TaskKind::FlipFlop,
            "sine" => TaskKind::Sine,
            _ => return None,
        })
    }
}

/// How answers are scored.
#[derive(Clone, Debug, PartialEq)]
pub enum Metric {
    /// Binary decisions: the mean output of `channel` over steps `[start, end)` of `lane` must be
    /// above `threshold` iff `positive`.
    Decisions {
        decisions: Vec<Decision>,
        threshold: f64,
    },
    /// The decoded phase at `step` against the target angle of each lane (radians).
    Phase { step: usize, angles: Vec<f64> },
    /// Only the loss (masked MSE) measures success.
    Mse,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub lane: usize,
    pub channel: usize,
    pub start: usize,
    pub end: usize,
    pub positive: bool,
}

/// One batch of trials.
#[derive(Clone, Debug)]
pub struct TaskBatch {
    pub steps: usize,
    pub lanes: usize,
    pub n_in: usize,
    /// Target channels.
    pub n_target: usize,
    pub x: Vec<f64>,
    pub target: Vec<f64>,
    pub mask: Vec<f64>,
    pub metric: Metric,
}

impl TaskBatch {
    fn new(steps: usize, lanes: usize, n_in: usize, n_target: usize, metric: Metric) -> Self {
        TaskBatch {
            steps,
            lanes,
            n_in,
            n_target,
            x: vec![0.0; steps * lanes * n_in],
            target: vec![0.0; steps * lanes * n_target],
            mask: vec![0.0; steps * lanes * n_target],
            metric,
        }
    }
    fn set_x(&mut self, t: usize, lane: usize, k: usize, v: f64) {
        self.x[(t * self.lanes + lane) * self.n_in + k] = v;
    }
    fn add_x(&mut self, t: usize, lane: usize, k: usize, v: f64) {
        self.x[(t * self.lanes + lane) * self.n_in + k] += v;
    }
    fn set_target(&mut self, t: usize, lane: usize, k: usize, v: f64) {
        let i = (t * self.lanes + lane) * self.n_target + k;
        self.target[i] = v;
        self.mask[i] = 1.0;
    }

    /// The score of outputs `y` (`T × B × C`): the fraction of correct decisions, the mean phase
    /// error in degrees, or `None` where only the loss counts.
    pub fn score(&self, y: &[f64], c: usize) -> Option<f64> {
        match &self.metric {
            Metric::Decisions {
                decisions,
                threshold,
            } => {
                let correct = decisions
                    .iter()
                    .filter(|d| {
                        let mean = (d.start..d.end)
                            .map(|t| y[(t * self.lanes + d.lane) * c + d.channel])
                            .sum::<f64>()
                            / (d.end - d.start) as f64;
                        (mean > *threshold) == d.positive
                    })
                    .count();
                Some(correct as f64 / decisions.len().max(1) as f64)
            }
            Metric::Phase { step, angles } => {
                let mut err = 0.0;
                for (lane, &theta) in angles.iter().enumerate() {
                    let row =
                        &y[(step * self.lanes + lane) * c..(step * self.lanes + lane + 1) * c];
                    let (cs, sn) = crate::loss::fourier(row);
                    let d = (sn.atan2(cs) - theta)
                        .sin()
                        .atan2((sn.atan2(cs) - theta).cos());
                    err += d.abs().to_degrees();
                }
                Some(err / angles.len().max(1) as f64)
            }
            Metric::Mse => None,
        }
    }
}

/// A task: its kind, trial length and options.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub kind: TaskKind,
    pub steps: usize,
    /// Channels of `flip_flop` (default 3).
    pub channels: usize,
    /// Frequencies of `sine` (default 4).
    pub frequencies: usize,
    /// Output channels of `odr`: 2 (cos, sin) or a ring of that many.
    pub odr_outputs: usize,
    /// Evidence noise of `decision` (default 0.5).
    pub noise: f64,
    pub seed: u64,
}

impl Task {
    pub fn new(kind: TaskKind, steps: usize, seed: u64) -> Self {
        Task {
            kind,
            steps,
            channels: 3,
            frequencies: 4,
            odr_outputs: 2,
            noise: 0.5,
            seed,
        }
    }

    /// Input channels.
    pub fn inputs(&self) -> usize {
        match self.kind {
            TaskKind::Decision => 2,
            TaskKind::Dms => 3,
            TaskKind::Odr => 3,
            TaskKind::Dual => 4,
            TaskKind::GoNoGo => 2,
            TaskKind::FlipFlop => self.channels,
            TaskKind::Sine => 1,
        }
    }

    /// Output channels the readout must have.
    pub fn outputs(&self) -> usize {
        match self.kind {
            TaskKind::Decision | TaskKind::Dms | TaskKind::GoNoGo | TaskKind::Sine => 1,
            TaskKind::Odr => self.odr_outputs,
            TaskKind::Dual => 2,
            TaskKind::FlipFlop => self.channels,
        }
    }

    /// The loss the task is posed for.
    pub fn default_loss(&self) -> LossKind {
        match self.kind {
            TaskKind::Dual | TaskKind::GoNoGo => LossKind::Bce,
            TaskKind::Odr => LossKind::Angular,
            _ => LossKind::Mse,
        }
    }

    /// Check the task against the network's input and output sizes and the loss.
    pub fn check(&self, n_in: usize, n_out: usize, loss: LossKind) -> Result<(), TrainError> {
        if self.steps < 20 {
            return Err(TrainError::invalid(
                "task.steps",
                self.steps,
                "at least 20 steps per trial",
            ));
        }
        if n_in != self.inputs() {
            return Err(TrainError::invalid(
                "model.readin",
                format!("{n_in} inputs"),
                format!(
                    "the {} inputs of task `{}`",
                    self.inputs(),
                    TaskKind::NAMES[self.kind as usize]
                ),
            ));
        }
        let want = self.outputs();
        let ok = match (self.kind, loss) {
            (TaskKind::Odr, LossKind::Angular) => n_out >= 2 && (n_out == 2 || n_out == want),
            _ => n_out == want,
        };
        if !ok {
            return Err(TrainError::invalid(
                "model.readout",
                format!("{n_out} outputs"),
                format!(
                    "the {want} outputs of task `{}`",
                    TaskKind::NAMES[self.kind as usize]
                ),
            ));
        }
        let target = loss.target_channels(n_out);
        let task_target = self.default_loss().target_channels(want);
        if target != task_target && !(self.kind == TaskKind::Odr && target == 2) {
            return Err(TrainError::invalid(
                "train.loss",
                format!("{loss:?}"),
                format!(
                    "a loss with {task_target} target channels for task `{}`",
                    TaskKind::NAMES[self.kind as usize]
                ),
            ));
        }
        Ok(())
    }

    /// Batch `index` of `lanes` trials; `split` 0 is training, 1 the held-out set.
    pub fn batch(&self, lanes: usize, split: u64, index: u64) -> TaskBatch {
        let mut rng = CounterRng::new(self.seed, stream_id("train.task", split), index);
        let t_len = self.steps;
        let at = |f: f64| ((f * t_len as f64).round() as usize).min(t_len);
        match self.kind {
            TaskKind::Decision => {
                let mut decisions = Vec::new();
                let mut b = TaskBatch::new(t_len, lanes, 2, 1, Metric::Mse);
                let levels = [0.05, 0.1, 0.2, 0.4];
                let (stim_end, go) = (at(0.5), at(0.75));
                for lane in 0..lanes {
                    let mu = levels[rng.next_below(4) as usize]
                        * if rng.next_below(2) == 0 { -1.0 } else { 1.0 };
                    for t in 0..stim_end {
                        b.set_x(t, lane, 0, mu + self.noise * rng.next_normal());
                    }
                    for t in go..t_len {
                        b.set_x(t, lane, 1, 1.0);
                        b.set_target(t, lane, 0, mu.signum());
                    }
                    decisions.push(Decision {
                        lane,
                        channel: 0,
                        start: t_len - 1,
                        end: t_len,
                        positive: mu > 0.0,
                    });
                }
                b.metric = Metric::Decisions {
                    decisions,
                    threshold: 0.0,
                };
                b
            }
            TaskKind::Dms => {
                let mut decisions = Vec::new();
                let mut b = TaskBatch::new(t_len, lanes, 3, 1, Metric::Mse);
                for lane in 0..lanes {
                    let sample = rng.next_below(2) as usize;
                    let test = rng.next_below(2) as usize;
                    for t in at(0.1)..at(0.3) {
                        b.set_x(t, lane, sample, 1.0);
                    }
                    for t in at(0.6)..at(0.8) {
                        b.set_x(t, lane, test, 1.0);
                    }
                    let sign = if sample == test { 1.0 } else { -1.0 };
                    for t in at(0.8)..t_len {
                        b.set_x(t, lane, 2, 1.0);
                        b.set_target(t, lane, 0, sign);
                    }
                    decisions.push(Decision {
                        lane,
                        channel: 0,
                        start: at(0.8),
                        end: t_len,
                        positive: sample == test,
                    });
                }
                b.metric = Metric::Decisions {
                    decisions,
                    threshold: 0.0,
                };
                b
            }
            TaskKind::Odr => {
                let mut b = TaskBatch::new(t_len, lanes, 3, 2, Metric::Mse);
                let mut angles = Vec::new();
                let (on, off) = (at(0.05), at(0.15));
                for lane in 0..lanes {
                    let theta = 2.0 * std::f64::consts::PI * rng.next_f64();
                    for t in on..off {
                        b.set_x(t, lane, 0, theta.cos());
                        b.set_x(t, lane, 1, theta.sin());
                    }
                    // Random delay: the go cue comes between 0.5 T and 0.8 T.
                    let go = at(0.5) + rng.next_below((at(0.8) - at(0.5)).max(1) as u32) as usize;
                    for t in go..t_len {
                        b.set_x(t, lane, 2, 1.0);
                    }
                    for t in off..t_len {
                        b.set_target(t, lane, 0, theta.cos());
                        b.set_target(t, lane, 1, theta.sin());
                    }
                    angles.push(theta);
                }
                b.metric = Metric::Phase {
                    step: t_len - 1,
                    angles,
                };
                b
            }
            TaskKind::Dual => {
                let mut decisions = Vec::new();
                let mut b = TaskBatch::new(t_len, lanes, 4, 2, Metric::Mse);
                for lane in 0..lanes {
                    let sample = rng.next_below(2) as usize;
                    let go = rng.next_below(2) == 0;
                    let test = rng.next_below(2) as usize;
                    for t in at(0.05)..at(0.15) {
                        b.set_x(t, lane, sample, 1.0);
                    }
                    for t in at(0.35)..at(0.45) {
                        b.set_x(t, lane, if go { 2 } else { 3 }, 1.0);
                    }
                    for t in at(0.7)..at(0.8) {
                        b.add_x(t, lane, test, 1.0);
                    }
                    for t in at(0.45)..at(0.6) {
                        b.set_target(t, lane, 0, go as u8 as f64);
                    }
                    for t in at(0.8)..t_len {
                        b.set_target(t, lane, 1, (sample == test) as u8 as f64);
                    }
                    decisions.push(Decision {
                        lane,
                        channel: 0,
                        start: at(0.45),
                        end: at(0.6),
                        positive: go,
                    });
                    decisions.push(Decision {
                        lane,
                        channel: 1,
                        start: at(0.8),
                        end: t_len,
                        positive: sample == test,
                    });
                }
                b.metric = Metric::Decisions {
                    decisions,
                    threshold: 0.0,
                };
                b
            }
            TaskKind::GoNoGo => {
                let mut decisions = Vec::new();
                let mut b = TaskBatch::new(t_len, lanes, 2, 1, Metric::Mse);
                for lane in 0..lanes {
                    let go = rng.next_below(2) == 0;
                    for t in at(0.1)..at(0.3) {
                        b.set_x(t, lane, if go { 0 } else { 1 }, 1.0);
                    }
                    for t in at(0.6)..t_len {
                        b.set_target(t, lane, 0, go as u8 as f64);
                    }
                    decisions.push(Decision {
                        lane,
                        channel: 0,
                        start: at(0.6),
                        end: t_len,
                        positive: go,
                    });
                }
                b.metric = Metric::Decisions {
                    decisions,
                    threshold: 0.0,
                };
                b
            }
            TaskKind::FlipFlop => {
                let k = self.channels;
                let mut b = TaskBatch::new(t_len, lanes, k, k, Metric::Mse);
                for lane in 0..lanes {
                    for c in 0..k {
                        let mut state = 0.0;
                        let mut t = 0;
                        while t < t_len {
                            if t + 2 <= t_len && rng.next_f64() < 0.05 {
                                let s = if rng.next_below(2) == 0 { -1.0 } else { 1.0 };
                                for u in t..t + 2 {
                                    b.set_x(u, lane, c, s);
                                    b.set_target(u, lane, c, s);
                                }
                                state = s;
                                t += 2;
                                continue;
                            }
                            b.set_target(t, lane, c, state);
                            t += 1;
                        }
                    }
                }
                b
            }
            TaskKind::Sine => {
                let f_n = self.frequencies.max(1);
                let mut b = TaskBatch::new(t_len, lanes, 1, 1, Metric::Mse);
                for lane in 0..lanes {
                    let k = rng.next_below(f_n as u32) as usize;
                    let frac = if f_n == 1 {
                        0.0
                    } else {
                        k as f64 / (f_n - 1) as f64
                    };
                    let freq = 1.0 + 2.0 * frac;
                    for t in 0..t_len {
                        b.set_x(t, lane, 0, 0.25 + 0.75 * frac);
                        if t >= at(0.1) {
                            let v =
                                (2.0 * std::f64::consts::PI * freq * t as f64 / t_len as f64).sin();
                            b.set_target(t, lane, 0, v);
                        }
                    }
                }
                b
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_repeat_and_splits_differ() {
        for name in TaskKind::NAMES {
            let task = Task::new(TaskKind::parse(name).unwrap(), 60, 7);
            let a = task.batch(4, 0, 3);
            let b = task.batch(4, 0, 3);
            let c = task.batch(4, 1, 3);
            assert_eq!(a.x, b.x, "{name}");
            assert_eq!(a.target, b.target, "{name}");
            assert!(a.x != c.x || a.target != c.target, "{name}");
            assert_eq!(a.x.len(), 60 * 4 * task.inputs());
            assert!(a.mask.iter().any(|&m| m > 0.0), "{name}");
        }
    }

    #[test]
    fn a_perfect_answer_scores_one_and_zero_degrees() {
        for kind in [
            TaskKind::Decision,
            TaskKind::Dms,
            TaskKind::Dual,
            TaskKind::GoNoGo,
        ] {
            let task = Task::new(kind, 50, 1);
            let b = task.batch(8, 0, 0);
            // The target as the output (BCE targets 0/1 map to logits −1/+1).
            let y: Vec<f64> = b
                .target
                .iter()
                .map(|&t| {
                    if task.default_loss() == LossKind::Bce {
                        2.0 * t - 1.0
                    } else {
                        t
                    }
                })
                .collect();
            assert_eq!(b.score(&y, task.outputs()), Some(1.0), "{kind:?}");
        }
        let task = Task::new(TaskKind::Odr, 50, 1);
        let b = task.batch(8, 0, 0);
        assert!(b.score(&b.target, 2).unwrap() < 1e-9);
    }
}
