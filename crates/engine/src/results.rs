//! What a run returns: named arrays (the layout NumPy users get from `results.npz`), the resolved
//! spec, and a summary.
//!
//! Array names and shapes:
//!
//! | name | shape | meaning |
//! |---|---|---|
//! | `t` | (frames,) | time of each frame of the first monitor, in seconds from the end of the transient |
//! | `<population>.<variable>` | (lanes, frames, neurons) | per-neuron recording |
//! | `<population>.<variable>_mean` | (lanes, frames) | population mean |
//! | `<population>.<variable>_t` | (frames,) | only for monitors whose frames differ from `t` |
//! | `<population>.spikes` | (n_spikes, 3) int64 | spiking populations: rows (lane, step, neuron), step counted from the end of the transient |
//! | `<input>.phase` | (lanes,) | stimulus phase (degrees) of inputs with `random_phase` |
//! | `lane.<key>` | (lanes,) | value of each swept key in each lane |

use neuroxide_model::NetworkSpec;

/// Data of a named array (row-major).
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    /// Integers (spike records).
    I64(Vec<i64>),
}

impl ArrayData {
    pub fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::I64(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The values as f64 (converted from f32 if needed).
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            ArrayData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::F64(v) => v.clone(),
            ArrayData::I64(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }
}

/// One result array.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedArray {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: ArrayData,
}

impl NamedArray {
    /// Element at a multi-index, as f64.
    pub fn at(&self, index: &[usize]) -> f64 {
        assert_eq!(index.len(), self.shape.len(), "index rank of {}", self.name);
        let mut flat = 0;
        for (i, (&k, &n)) in index.iter().zip(&self.shape).enumerate() {
            assert!(
                k < n,
                "index {k} out of range {n} on axis {i} of {}",
                self.name
            );
            flat = flat * n + k;
        }
        match &self.data {
            ArrayData::F32(v) => v[flat] as f64,
            ArrayData::F64(v) => v[flat],
            ArrayData::I64(v) => v[flat] as f64,
        }
    }
}

/// Figures about a run, for summaries and benchmarks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunSummary {
    /// Integration steps taken (transient included).
    pub steps: u64,
    pub lanes: usize,
    pub threads: usize,
    /// Synapses represented by all projections.
    pub synapses: u64,
    /// Seconds spent building (lowering) and simulating.
    pub build_seconds: f64,
    pub run_seconds: f64,
    /// Bytes the operators hold.
    pub operator_bytes: u64,
    /// Bytes the recordings hold.
    pub recording_bytes: u64,
}

/// The outcome of a run.
///
/// Arrays are found by name ([`Results::get`]) with their shape and row-major data, as NumPy
/// reads them from `results.npz`; spikes are `(n_spikes, 3)` integer rows `(lane, step, neuron)`:
///
/// ```
/// use neuroxide::{simulate, ArrayData, BuildOptions};
/// use neuroxide_model::ModelFile;
///
/// let yaml = "dt: 0.1 ms\nduration: 50 ms\n\
///             populations:\n  N: {size: 3, model: lif_psc_delta, neuron: {i_e: 400 pA}}\n\
///             monitors:\n  - {population: N, variable: spikes}\n\
///             \x20 - {population: N, variable: v, every: 1 ms, neurons: {list: [0]}}\n";
/// let model = ModelFile::from_yaml(yaml, None, &[]).unwrap();
/// let results = simulate(&model.spec, &BuildOptions::default()).unwrap();
/// let names: Vec<&str> = results.arrays.iter().map(|a| a.name.as_str()).collect();
/// assert!(names.contains(&"N.spikes") && names.contains(&"t"), "{names:?}");
///
/// let v = results.get("N.v").unwrap();
/// assert_eq!(v.shape, [1, 50, 1]); // (lanes, frames, neurons)
/// let v_last = v.at(&[0, 49, 0]); // mV
/// assert!(v_last >= -70.0 && v_last < -55.0);
///
/// let spikes = results.get("N.spikes").unwrap();
/// let ArrayData::I64(rows) = &spikes.data else { panic!("spikes are integers") };
/// assert!(spikes.shape[0] > 0 && spikes.shape[1] == 3);
/// assert!(rows.chunks(3).all(|row| row[0] == 0 && row[2] < 3)); // lane 0, neurons 0..3
/// assert_eq!(results.values("t").len(), 50); // seconds after the transient
/// ```
#[derive(Clone, Debug)]
pub struct Results {
    /// The arrays, in the order they are written.
    pub arrays: Vec<NamedArray>,
    /// The fully resolved model (seed and version included) that reruns to the same numbers.
    pub spec: NetworkSpec,
    /// False when the run stopped early (e.g. a divergence); the arrays hold what was recorded.
    pub complete: bool,
    /// Why the run stopped early.
    pub error: Option<String>,
    pub summary: RunSummary,
}

impl Results {
    /// The array called `name`.
    pub fn get(&self, name: &str) -> Option<&NamedArray> {
        self.arrays.iter().find(|a| a.name == name)
    }

    /// The array called `name`, as f64 values; panics with the list of names if absent.
    pub fn values(&self, name: &str) -> Vec<f64> {
        match self.get(name) {
            Some(a) => a.data.to_f64(),
            None => panic!(
                "no array `{name}`; arrays: {}",
                self.arrays
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}
