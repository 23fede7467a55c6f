//! Helpers shared by the engine's integration tests (each test file includes this module).
#![allow(dead_code)]

use neuroxide::{ArrayData, BuildOptions, Results, simulate};
use neuroxide_model::ModelFile;

/// Build errors (loading, validation or lowering) of a model text as one string; panics if the
/// model is accepted.
pub fn build_error(yaml: &str) -> String {
    let spec = match ModelFile::from_yaml(yaml, None, &[]) {
        Ok(model) => model.spec,
        Err(e) => return e.to_string(),
    };
    match simulate(&spec, &BuildOptions::default()) {
        Ok(_) => panic!("accepted:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

/// Spike rows (lane, step, neuron) of a population.
pub fn spikes(results: &Results, population: &str) -> Vec<[i64; 3]> {
    let array = results
        .get(&format!("{population}.spikes"))
        .unwrap_or_else(|| panic!("no {population}.spikes"));
    assert_eq!(array.shape.len(), 2);
    assert_eq!(array.shape[1], 3);
    let ArrayData::I64(values) = &array.data else {
        panic!("spikes are not int64")
    };
    values.chunks_exact(3).map(|r| [r[0], r[1], r[2]]).collect()
}
