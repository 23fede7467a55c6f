//! Plastic state in checkpoints: weights, traces, eligibilities, dopamine, running averages,
//! flat-rule spike histories and recorded weight frames, so that a restored run learns on exactly
//! as the uninterrupted one.

use crate::lower::Lowered;
use crate::real::Real;
use crate::results::{ArrayData, NamedArray};

fn reals<T: Real>(name: String, values: &[T]) -> NamedArray {
    NamedArray {
        name,
        shape: vec![values.len()],
        data: ArrayData::F64(values.iter().map(|x| x.to_f64()).collect()),
    }
}

fn ints(name: String, values: Vec<i64>) -> NamedArray {
    NamedArray {
        name,
        shape: vec![values.len()],
        data: ArrayData::I64(values),
    }
}

/// Arrays holding the plastic state of `net`.
pub(crate) fn save<T: Real>(net: &Lowered<T>) -> Vec<NamedArray> {
    let mut out = Vec::new();
    for (i, projection) in net.spiking.projections.iter().enumerate() {
        let Some(p) = &projection.plastic else {
            continue;
        };
        let key = |k: &str| format!("plasticity.spiking.{i}.{k}");
        let weights: Vec<T> = p.blocks.iter().flat_map(|b| b.weights.clone()).collect();
        let eligibility: Vec<T> = p
            .blocks
            .iter()
            .flat_map(|b| b.eligibility.clone())
            .collect();
        out.push(reals(key("weights"), &weights));
        out.push(reals(key("eligibility"), &eligibility));
        out.push(reals(key("x_pre"), &p.x_pre));
        out.push(reals(key("x_post"), &p.x_post));
        out.push(reals(key("dopamine"), &p.dopamine));
        out.push(reals(key("frames"), &p.frames));
        out.push(ints(
            key("frame_steps"),
            p.frame_steps.iter().map(|&s| s as i64).collect(),
        ));
        for (name, history) in [
            ("history_pre", p.history()),
            ("history_post", p.history_post()),
        ] {
            // Rows (age, lane, neuron) and the number of steps held.
            let mut rows = vec![history.len() as i64];
            for (age, lanes) in history.iter().enumerate() {
                for (l, list) in lanes.iter().enumerate() {
                    for &n in list {
                        rows.extend_from_slice(&[age as i64, l as i64, n as i64]);
                    }
                }
            }
            out.push(ints(key(name), rows));
        }
    }
    for (i, r) in net.plastic_rates.iter().enumerate() {
        let key = |k: &str| format!("plasticity.rate.{i}.{k}");
        out.push(reals(key("weights"), &r.weights));
        out.push(reals(key("avg_pre"), &r.avg_pre));
        out.push(reals(key("avg_post"), &r.avg_post));
        out.push(reals(key("frames"), &r.frames));
        out.push(ints(
            key("frame_steps"),
            r.frame_steps.iter().map(|&s| s as i64).collect(),
        ));
        out.push(ints(key("started"), vec![i64::from(r.started())]));
    }
    out
}

/// Restore what [`save`] wrote; errors name a missing or mis-sized array.
pub(crate) fn restore<T: Real>(net: &mut Lowered<T>, arrays: &[NamedArray]) -> Result<(), String> {
    let find = |name: &str| {
        arrays.iter().find(|a| a.name == name).ok_or_else(|| {
            format!("the checkpoint has no array `{name}` (is it from another model?)")
        })
    };
    let fill = |name: &str, target: &mut Vec<T>, exact: bool| -> Result<(), String> {
        let values = find(name)?.data.to_f64();
        if exact && values.len() != target.len() {
            return Err(format!(
                "the checkpoint's `{name}` has {} values, this model needs {} (is it from \
                 another model?)",
                values.len(),
                target.len()
            ));
        }
        *target = values.into_iter().map(T::from_f64).collect();
        Ok(())
    };
    let steps = |name: &str| -> Result<Vec<usize>, String> {
        Ok(find(name)?
            .data
            .to_f64()
            .iter()
            .map(|&x| x as usize)
            .collect())
    };
    let lanes = net.lanes;
    for (i, projection) in net.spiking.projections.iter_mut().enumerate() {
        let Some(p) = &mut projection.plastic else {
            continue;
        };
        let key = |k: &str| format!("plasticity.spiking.{i}.{k}");
        let mut weights: Vec<T> = p.blocks.iter().flat_map(|b| b.weights.clone()).collect();
        fill(&key("weights"), &mut weights, true)?;
        let mut eligibility: Vec<T> = p
            .blocks
            .iter()
            .flat_map(|b| b.eligibility.clone())
            .collect();
        fill(&key("eligibility"), &mut eligibility, true)?;
        let (mut w, mut c) = (&weights[..], &eligibility[..]);
        for block in &mut p.blocks {
            let (a, rest) = w.split_at(block.weights.len());
            block.weights.copy_from_slice(a);
            w = rest;
            let (a, rest) = c.split_at(block.eligibility.len());
            block.eligibility.copy_from_slice(a);
            c = rest;
        }
        fill(&key("x_pre"), &mut p.x_pre, true)?;
        fill(&key("x_post"), &mut p.x_post, true)?;
        fill(&key("dopamine"), &mut p.dopamine, true)?;
        fill(&key("frames"), &mut p.frames, false)?;
        p.frame_steps = steps(&key("frame_steps"))?;
        for post in [false, true] {
            let name = key(if post { "history_post" } else { "history_pre" });
            let rows = find(&name)?.data.to_f64();
            let held = rows.first().copied().unwrap_or(0.0) as usize;
            let mut history = vec![vec![Vec::new(); lanes]; held];
            for row in rows[1.min(rows.len())..].chunks_exact(3) {
                let (age, l) = (row[0] as usize, row[1] as usize);
                match history.get_mut(age).and_then(|h| h.get_mut(l)) {
                    Some(list) => list.push(row[2] as u32),
                    None => {
                        return Err(format!(
                            "the checkpoint's `{name}` names lane {l}, which this model lacks"
                        ));
                    }
                }
            }
            p.set_history(post, history);
        }
    }
    for (i, r) in net.plastic_rates.iter_mut().enumerate() {
        let key = |k: &str| format!("plasticity.rate.{i}.{k}");
        fill(&key("weights"), &mut r.weights, true)?;
        fill(&key("avg_pre"), &mut r.avg_pre, true)?;
        fill(&key("avg_post"), &mut r.avg_post, true)?;
        fill(&key("frames"), &mut r.frames, false)?;
        r.frame_steps = steps(&key("frame_steps"))?;
        r.set_started(find(&key("started"))?.data.to_f64().first() == Some(&1.0));
    }
    Ok(())
}
