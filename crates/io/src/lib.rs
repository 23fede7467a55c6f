//! neuroxide-io: result folders NumPy reads.
//!
//! A run writes into its output folder:
//! - `results.npz`: every result array by name (see [`neuroxide::results`] for names and shapes),
//!   readable with `numpy.load`;
//! - `spec.yaml`: the fully resolved model (seed and version included), which reruns to the same
//!   numbers;
//! - `run.json`: whether the run completed, why not, and its timings.

use ndarray::{ArrayD, IxDyn};
use ndarray_npy::{NpzReader, NpzWriter};
use neuroxide::{ArrayData, NamedArray, Results};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Errors writing or reading result files, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

fn file_error(path: &Path, message: impl ToString) -> IoError {
    IoError::File {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Write `results` into `dir` (created if needed): `results.npz`, `spec.yaml`, `run.json`.
pub fn write_results(dir: &Path, results: &Results) -> Result<(), IoError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| file_error(dir, format!("cannot create the output folder: {e}")))?;
    write_npz(&dir.join("results.npz"), &results.arrays)?;
    let spec_path = dir.join("spec.yaml");
    let yaml = format!(
        "# Resolved by neuroxide {}: rerun with `neuroxide run {}`\n{}",
        neuroxide_model::VERSION,
        spec_path.display(),
        neuroxide_model::paths::to_yaml(&results.spec)
    );
    std::fs::write(&spec_path, yaml).map_err(|e| file_error(&spec_path, e))?;
    let run_path = dir.join("run.json");
    std::fs::write(&run_path, run_json(results)).map_err(|e| file_error(&run_path, e))?;
    Ok(())
}

/// `run.json`: completion, error, timings and sizes of a run.
pub fn run_json(results: &Results) -> String {
    let s = &results.summary;
    let error = match &results.error {
        Some(e) => format!("\"{}\"", e.replace('\\', "\\\\").replace('"', "\\\"")),
        None => "null".to_string(),
    };
    format!(
        "{{\n  \"neuroxide\": \"{}\",\n  \"complete\": {},\n  \"error\": {error},\n  \"seed\": {},\n  \"steps\": {},\n  \
         \"lanes\": {},\n  \"threads\": {},\n  \"synapses\": {},\n  \"build_seconds\": {},\n  \"run_seconds\": {},\n  \
         \"operator_bytes\": {},\n  \"recording_bytes\": {}\n}}\n",
        neuroxide_model::VERSION,
        results.complete,
        results.spec.seed,
        s.steps,
        s.lanes,
        s.threads,
        s.synapses,
        s.build_seconds,
        s.run_seconds,
        s.operator_bytes,
        s.recording_bytes
    )
}

/// Write named arrays to an `.npz` archive (uncompressed, so it is written fast and read lazily).
pub fn write_npz(path: &Path, arrays: &[NamedArray]) -> Result<(), IoError> {
    let file = File::create(path).map_err(|e| file_error(path, e))?;
    let mut npz = NpzWriter::new(BufWriter::new(file));
    for array in arrays {
        let shape = IxDyn(&array.shape);
        let written = match &array.data {
            ArrayData::F32(v) => ArrayD::from_shape_vec(shape, v.clone())
                .map(|a| npz.add_array(array.name.as_str(), &a)),
            ArrayData::F64(v) => ArrayD::from_shape_vec(shape, v.clone())
                .map(|a| npz.add_array(array.name.as_str(), &a)),
            ArrayData::I64(v) => ArrayD::from_shape_vec(shape, v.clone())
                .map(|a| npz.add_array(array.name.as_str(), &a)),
        };
        written
            .map_err(|e| file_error(path, format!("array `{}`: {e}", array.name)))?
            .map_err(|e| file_error(path, format!("array `{}`: {e}", array.name)))?;
    }
    let mut inner = npz.finish().map_err(|e| file_error(path, e))?;
    inner.flush().map_err(|e| file_error(path, e))?;
    Ok(())
}

/// Read every array of an `.npz` archive (float32, float64 and int64).
pub fn read_npz(path: &Path) -> Result<Vec<NamedArray>, IoError> {
    let file = File::open(path).map_err(|e| file_error(path, e))?;
    let mut npz = NpzReader::new(file).map_err(|e| file_error(path, e))?;
    let mut arrays = Vec::new();
    for name in npz.names().map_err(|e| file_error(path, e))? {
        let key = name.trim_end_matches(".npy").to_string();
        let array = if let Ok(a) = npz.by_name::<ndarray::OwnedRepr<f32>, IxDyn>(&name) {
            NamedArray {
                name: key,
                shape: a.shape().to_vec(),
                data: ArrayData::F32(a.iter().copied().collect()),
            }
        } else if let Ok(a) = npz.by_name::<ndarray::OwnedRepr<i64>, IxDyn>(&name) {
            NamedArray {
                name: key,
                shape: a.shape().to_vec(),
                data: ArrayData::I64(a.iter().copied().collect()),
            }
        } else {
            let a = npz
                .by_name::<ndarray::OwnedRepr<f64>, IxDyn>(&name)
                .map_err(|e| file_error(path, format!("array `{key}`: {e}")))?;
            NamedArray {
                name: key,
                shape: a.shape().to_vec(),
                data: ArrayData::F64(a.iter().copied().collect()),
            }
        };
        arrays.push(array);
    }
    Ok(arrays)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npz_round_trip() {
        let dir = std::env::temp_dir().join(format!("neuroxide-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.npz");
        let arrays = vec![
            NamedArray {
                name: "E.rate".into(),
                shape: vec![2, 3, 1],
                data: ArrayData::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            },
            NamedArray {
                name: "t".into(),
                shape: vec![3],
                data: ArrayData::F64(vec![0.1, 0.2, 0.3]),
            },
            NamedArray {
                name: "E.spikes".into(),
                shape: vec![2, 3],
                data: ArrayData::I64(vec![0, 5, 17, 1, 9, 3]),
            },
        ];
        write_npz(&path, &arrays).unwrap();
        assert_eq!(read_npz(&path).unwrap(), arrays);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
