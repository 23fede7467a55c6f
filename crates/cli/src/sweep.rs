//! `neuroxide sweep` and `neuroxide merge`: parameter grids run as lanes of few builds, split into
//! contiguous shards for job arrays, and shards joined back into one result folder.
//!
//! A grid is the Cartesian product of its axes (`--grid key=start:stop:count` or `key=[a, b, c]`),
//! in row-major order: the last axis varies fastest. Axes whose key may differ between the lanes
//! of one build ([`neuroxide_model::paths::SWEEPABLE`]) become per-lane `sweep:` lists; the other
//! axes (sizes, rules, durations, …) are moved first, so that each value of them is a contiguous
//! run of grid points, built once. Grid point `i` runs as global lane `i`: its random streams are
//! those of lane `i` (the build's `lane_offset` is the index of its first point), so any shard or
//! build split gives the same numbers, and a point can be rerun alone with `neuroxide run FILE
//! --set key=value … --set lane_offset=i`.

use anyhow::{Context, Result, bail};
use neuroxide::{ArrayData, NamedArray, RunSummary};
use neuroxide_model::{NetworkSpec, SweepValues, paths};
use serde_json::{Value, json};
use std::ops::Range;
use std::path::Path;

/// One axis of a grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<f64>,
    /// Whether the key varies across the lanes of one build (else: one build per value).
    pub per_lane: bool,
}

/// A Cartesian grid of parameter values, structural axes first.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub axes: Vec<Axis>,
}

/// Parse `key=start:stop:count`, `key=[a, b, c]`, `key=a,b,c` or `key=a`.
pub fn parse_axis(argument: &str) -> Result<Axis> {
    let Some((key, text)) = argument.split_once('=') else {
        bail!(
            "--grid {argument}: expected `key.path=start:stop:count` or `key.path=[a, b, c]`, \
             e.g. `--grid inputs.drive.constant=0:2:5`"
        );
    };
    let key = key.trim();
    let text = text.trim();
    if key.is_empty() {
        bail!("--grid {argument}: the key path before `=` is empty");
    }
    let number = |s: &str| -> Result<f64> {
        let s = s.trim();
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .with_context(|| {
                format!(
                    "--grid {argument}: `{s}` is not a number (grid values are plain numbers in \
                     the key's documented unit: ms, mV, Hz, …)"
                )
            })
    };
    let values = if let Some(list) = text.strip_prefix('[') {
        let Some(list) = list.strip_suffix(']') else {
            bail!("--grid {argument}: a list must end with `]`");
        };
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(number)
            .collect::<Result<Vec<_>>>()?
    } else if text.contains(':') {
        let parts: Vec<&str> = text.split(':').collect();
        let [start, stop, count] = parts.as_slice() else {
            bail!(
                "--grid {argument}: a range is `start:stop:count` (endpoints included), got {} parts",
                parts.len()
            );
        };
        let (start, stop) = (number(start)?, number(stop)?);
        let count: usize = count
            .trim()
            .parse()
            .ok()
            .filter(|&c| c >= 1)
            .with_context(|| {
                format!("--grid {argument}: the count `{count}` is not a whole number ≥ 1")
            })?;
        (0..count)
            .map(|i| {
                if count == 1 {
                    start
                } else {
                    start + (stop - start) * i as f64 / (count - 1) as f64
                }
            })
            .collect()
    } else {
        text.split(',').map(number).collect::<Result<Vec<_>>>()?
    };
    if values.is_empty() {
        bail!("--grid {argument}: no values");
    }
    Ok(Axis {
        key: key.to_string(),
        values,
        per_lane: paths::is_sweepable(key),
    })
}

impl Grid {
    /// A grid from axes in command-line order: structural axes are moved first (stably).
    pub fn new(axes: Vec<Axis>) -> Result<Grid> {
        for (i, a) in axes.iter().enumerate() {
            if axes[..i].iter().any(|b| b.key == a.key) {
                bail!("--grid {}: the key is given twice", a.key);
            }
        }
        let points = axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
            .filter(|&n| n <= 1 << 16);
        if points.is_none() {
            bail!(
                "--grid: the grid has more than 65,536 points (the random streams index lanes in \
                 16 bits); use fewer values, or several sweeps"
            );
        }
        let (mut structural, per_lane): (Vec<Axis>, Vec<Axis>) =
            axes.into_iter().partition(|a| !a.per_lane);
        structural.extend(per_lane);
        Ok(Grid { axes: structural })
    }

    pub fn points(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Value of axis `a` at grid point `point` (row-major: the last axis fastest).
    pub fn value(&self, point: usize, a: usize) -> f64 {
        let inner: usize = self.axes[a + 1..].iter().map(|x| x.values.len()).product();
        self.axes[a].values[(point / inner) % self.axes[a].values.len()]
    }

    /// The points of `range` split into builds: consecutive points with the same structural
    /// values.
    pub fn builds(&self, range: Range<usize>) -> Vec<Range<usize>> {
        let inner: usize = self
            .axes
            .iter()
            .filter(|a| a.per_lane)
            .map(|a| a.values.len())
            .product();
        let mut builds = Vec::new();
        let mut start = range.start;
        while start < range.end {
            let end = ((start / inner + 1) * inner).min(range.end);
            builds.push(start..end);
            start = end;
        }
        builds
    }

    /// The spec of the build running the points `points` (one structural combination).
    pub fn build_spec(&self, base: &NetworkSpec, points: Range<usize>) -> Result<NetworkSpec> {
        let mut spec = base.clone();
        for (a, axis) in self.axes.iter().enumerate() {
            if axis.per_lane {
                continue;
            }
            let v = self.value(points.start, a);
            // Integral values as integers, so that sizes and counts deserialise.
            let value = if v.fract() == 0.0 && v.abs() < 9e15 {
                Value::from(v as i64)
            } else {
                Value::from(v)
            };
            spec = paths::set_path(&spec, &axis.key, value, true).map_err(|e| {
                anyhow::anyhow!(
                    "--grid {}: {} (keys that can vary per lane of one build: {}; other keys get \
                     one build per value)",
                    axis.key,
                    e.message,
                    paths::SWEEPABLE.join(", ")
                )
            })?;
        }
        spec.sweep.clear();
        for (a, axis) in self.axes.iter().enumerate() {
            if axis.per_lane {
                let values = points.clone().map(|p| self.value(p, a)).collect();
                spec.sweep
                    .insert(axis.key.clone(), SweepValues::List(values));
            }
        }
        spec.lanes = if spec.sweep.is_empty() {
            Some(points.len())
        } else {
            None
        };
        spec.lane_offset = points.start as u64;
        Ok(spec)
    }

    /// `lane.<key>` arrays of every axis over `range`, in axis order.
    pub fn lane_arrays(&self, range: Range<usize>) -> Vec<NamedArray> {
        self.axes
            .iter()
            .enumerate()
            .map(|(a, axis)| NamedArray {
                name: format!("lane.{}", axis.key),
                shape: vec![range.len()],
                data: ArrayData::F64(range.clone().map(|p| self.value(p, a)).collect()),
            })
            .collect()
    }

    pub fn to_json(&self) -> Value {
        Value::Array(
            self.axes
                .iter()
                .map(|a| json!({"key": a.key, "values": a.values, "per_lane": a.per_lane}))
                .collect(),
        )
    }

    pub fn from_json(value: &Value) -> Option<Grid> {
        let axes = value
            .as_array()?
            .iter()
            .map(|a| {
                Some(Axis {
                    key: a.get("key")?.as_str()?.to_string(),
                    values: a
                        .get("values")?
                        .as_array()?
                        .iter()
                        .map(Value::as_f64)
                        .collect::<Option<Vec<_>>>()?,
                    per_lane: a.get("per_lane")?.as_bool()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Grid { axes })
    }
}

/// Shard `task` of `tasks`: a contiguous range of the `points` grid points (sizes differ by at
/// most one; the same for any machine).
pub fn shard(points: usize, task: usize, tasks: usize) -> Result<Range<usize>> {
    if tasks == 0 {
        bail!("--num-tasks 0: expected at least one task");
    }
    if task >= tasks {
        bail!("--task-id {task}: expected a task id below --num-tasks {tasks} (ids count from 0)");
    }
    if tasks > points {
        bail!("--num-tasks {tasks}: the grid has only {points} points; use at most {points} tasks");
    }
    Ok(task * points / tasks..(task + 1) * points / tasks)
}

/// One build's (or shard's) results, covering lanes `first..first + lanes` of the grid range.
pub struct Part {
    pub first: usize,
    pub lanes: usize,
    pub arrays: Vec<NamedArray>,
}

fn slice_kind(name: &str) -> &'static str {
    if name == "t" || name.ends_with("_t") {
        "time"
    } else if name.ends_with(".spikes") {
        "spikes"
    } else if name.starts_with("lane.") {
        "lane"
    } else {
        "per_lane"
    }
}

/// Join parts along the lane axis: per-lane arrays are concatenated, spike rows renumbered and
/// put in the engine's order (step, then lane, then neuron), time axes checked equal. `lane.*`
/// arrays are dropped (the grid writes them). Parts must be in lane order.
pub fn join(parts: &[Part]) -> Result<Vec<NamedArray>> {
    let Some(first) = parts.first() else {
        bail!("nothing to join");
    };
    let mut out: Vec<NamedArray> = Vec::new();
    for template in &first.arrays {
        let kind = slice_kind(&template.name);
        if kind == "lane" {
            continue;
        }
        let mut pieces = Vec::new();
        for part in parts {
            let Some(a) = part.arrays.iter().find(|a| a.name == template.name) else {
                bail!(
                    "array `{}` is in the results of lanes {}.. but not in those of lanes {}..",
                    template.name,
                    first.first,
                    part.first
                );
            };
            pieces.push((part, a));
        }
        let joined = match kind {
            "time" => {
                for (part, a) in &pieces {
                    if a.data != template.data {
                        bail!(
                            "array `{}` differs between lanes {}.. and {}.. (runs of different \
                             durations or schedules, or one stopped early)",
                            template.name,
                            first.first,
                            part.first
                        );
                    }
                }
                template.clone()
            }
            "spikes" => {
                let mut rows: Vec<[i64; 3]> = Vec::new();
                for (part, a) in &pieces {
                    let ArrayData::I64(v) = &a.data else {
                        bail!("array `{}` is not int64", a.name);
                    };
                    let offset = (part.first - first.first) as i64;
                    rows.extend(v.chunks_exact(3).map(|r| [r[0] + offset, r[1], r[2]]));
                }
                // Stable: neurons stay ascending within a (step, lane).
                rows.sort_by_key(|r| (r[1], r[0]));
                NamedArray {
                    name: template.name.clone(),
                    shape: vec![rows.len(), 3],
                    data: ArrayData::I64(rows.concat()),
                }
            }
            _ => {
                let mut shape = template.shape.clone();
                let mut data = empty_like(&template.data);
                let mut lanes = 0;
                for (part, a) in &pieces {
                    if a.shape.first() != Some(&part.lanes) || a.shape[1..] != template.shape[1..] {
                        bail!(
                            "array `{}` has shape {:?} for lanes {}.. but {:?} for lanes {}.. \
                             (grid points with different sizes or schedules cannot share an \
                             array; record population means only, `neurons: none`)",
                            a.name,
                            template.shape,
                            first.first,
                            a.shape,
                            part.first
                        );
                    }
                    append(&mut data, &a.data, &a.name)?;
                    lanes += part.lanes;
                }
                shape[0] = lanes;
                NamedArray {
                    name: template.name.clone(),
                    shape,
                    data,
                }
            }
        };
        out.push(joined);
    }
    for part in parts {
        for a in &part.arrays {
            if slice_kind(&a.name) != "lane" && !first.arrays.iter().any(|b| b.name == a.name) {
                bail!(
                    "array `{}` is in the results of lanes {}.. but not in those of lanes {}..",
                    a.name,
                    part.first,
                    first.first
                );
            }
        }
    }
    Ok(out)
}

fn empty_like(data: &ArrayData) -> ArrayData {
    match data {
        ArrayData::F32(_) => ArrayData::F32(Vec::new()),
        ArrayData::F64(_) => ArrayData::F64(Vec::new()),
        ArrayData::I64(_) => ArrayData::I64(Vec::new()),
    }
}

fn append(to: &mut ArrayData, from: &ArrayData, name: &str) -> Result<()> {
    match (to, from) {
        (ArrayData::F32(a), ArrayData::F32(b)) => a.extend_from_slice(b),
        (ArrayData::F64(a), ArrayData::F64(b)) => a.extend_from_slice(b),
        (ArrayData::I64(a), ArrayData::I64(b)) => a.extend_from_slice(b),
        _ => bail!("array `{name}` has different dtypes in different parts (f32 and f64 runs?)"),
    }
    Ok(())
}

/// Figures of several builds as one run's.
pub fn combine_summaries(summaries: &[RunSummary]) -> RunSummary {
    RunSummary {
        steps: summaries.iter().map(|s| s.steps).max().unwrap_or(0),
        lanes: summaries.iter().map(|s| s.lanes).sum(),
        threads: summaries.iter().map(|s| s.threads).max().unwrap_or(0),
        synapses: summaries.iter().map(|s| s.synapses).max().unwrap_or(0),
        build_seconds: summaries.iter().map(|s| s.build_seconds).sum(),
        run_seconds: summaries.iter().map(|s| s.run_seconds).sum(),
        operator_bytes: summaries
            .iter()
            .map(|s| s.operator_bytes)
            .max()
            .unwrap_or(0),
        recording_bytes: summaries.iter().map(|s| s.recording_bytes).sum(),
    }
}

/// `sweep.json` of a folder holding grid points `range` of `grid`.
pub fn sweep_json(grid: &Grid, range: &Range<usize>, task: usize, tasks: usize) -> String {
    let builds: Vec<Value> = grid
        .builds(range.clone())
        .into_iter()
        .map(|b| json!({"first": b.start, "lanes": b.len()}))
        .collect();
    let value = json!({
        "grid": grid.to_json(),
        "points": grid.points(),
        "first": range.start,
        "end": range.end,
        "task_id": task,
        "num_tasks": tasks,
        "builds": builds,
        "model": "model.yaml",
    });
    serde_json::to_string_pretty(&value).expect("json") + "\n"
}

/// What `sweep.json` says about a folder.
pub struct SweepInfo {
    pub grid: Grid,
    pub range: Range<usize>,
}

pub fn read_sweep_json(dir: &Path) -> Result<SweepInfo> {
    let path = dir.join("sweep.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: cannot read it (is {} a folder written by `neuroxide sweep`?)",
            path.display(),
            dir.display()
        )
    })?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let grid = value
        .get("grid")
        .and_then(Grid::from_json)
        .with_context(|| format!("{}: no valid `grid`", path.display()))?;
    let first = value.get("first").and_then(Value::as_u64);
    let end = value.get("end").and_then(Value::as_u64);
    let (Some(first), Some(end)) = (first, end) else {
        bail!("{}: no valid `first`/`end`", path.display());
    };
    Ok(SweepInfo {
        grid,
        range: first as usize..end as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_parse_ranges_and_lists() {
        let a = parse_axis("inputs.drive.constant=0:1:5").unwrap();
        assert_eq!(a.values, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert!(a.per_lane);
        assert_eq!(
            parse_axis("seed=[1, 2,3]").unwrap().values,
            vec![1.0, 2.0, 3.0]
        );
        assert!(!parse_axis("seed=1,2").unwrap().per_lane);
        assert_eq!(parse_axis("x=2:3:1").unwrap().values, vec![2.0]);
        assert!(parse_axis("x=[]").is_err());
        assert!(parse_axis("x=1:2:0").is_err());
    }

    #[test]
    fn points_are_row_major_with_structural_axes_first() {
        let grid = Grid::new(vec![
            parse_axis("inputs.drive.constant=[1, 2, 3]").unwrap(),
            parse_axis("populations.E.size=[10, 20]").unwrap(),
        ])
        .unwrap();
        assert_eq!(grid.axes[0].key, "populations.E.size");
        let points: Vec<(f64, f64)> = (0..grid.points())
            .map(|p| (grid.value(p, 0), grid.value(p, 1)))
            .collect();
        assert_eq!(
            points,
            [
                (10., 1.),
                (10., 2.),
                (10., 3.),
                (20., 1.),
                (20., 2.),
                (20., 3.)
            ]
        );
        // Builds: one per size, cut at shard edges.
        assert_eq!(grid.builds(0..6), vec![0..3, 3..6]);
        assert_eq!(grid.builds(2..5), vec![2..3, 3..5]);
    }

    #[test]
    fn shards_are_contiguous_cover_the_grid_once_and_differ_by_at_most_one() {
        for points in 1..40 {
            for tasks in 1..=points {
                let shards: Vec<Range<usize>> = (0..tasks)
                    .map(|t| shard(points, t, tasks).unwrap())
                    .collect();
                assert_eq!(shards[0].start, 0);
                assert_eq!(shards[tasks - 1].end, points);
                for w in shards.windows(2) {
                    assert_eq!(w[0].end, w[1].start);
                }
                let sizes: Vec<usize> = shards.iter().map(|s| s.len()).collect();
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(
                    hi - lo <= 1 && *lo >= 1,
                    "{points} points, {tasks} tasks: {sizes:?}"
                );
            }
        }
        assert!(shard(3, 3, 3).is_err());
        assert!(shard(3, 0, 4).is_err());
        assert!(shard(3, 0, 0).is_err());
    }
}
