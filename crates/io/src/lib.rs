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

/// A `(lanes, frames, neurons)` array streamed frame by frame into an `.npy` file.
///
/// The file is created at its full size (sparse where the file system allows) with a header for
/// the full shape, so at any moment, even after a crash, it is a valid `.npy` file NumPy reads
/// (`np.load(path, mmap_mode="r")`), with zeros for the frames not written yet. [`NpyStream::finish`]
/// then cuts it to the frames written: lane blocks are moved together and the header rewritten
/// (padded to the same length) for `(lanes, written, neurons)`.
pub struct NpyStream {
    file: File,
    path: PathBuf,
    header_len: u64,
    lanes: usize,
    frames: usize,
    neurons: usize,
    f32: bool,
    /// Frames written (one past the last frame index seen).
    written: usize,
}

fn npy_header(shape: [usize; 3], f32: bool, total: Option<usize>) -> Vec<u8> {
    let descr = if f32 { "<f4" } else { "<f8" };
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': ({}, {}, {}), }}",
        shape[0], shape[1], shape[2]
    );
    // Magic (6), version (2), header length (2), dict, spaces, newline: a multiple of 64.
    let unpadded = 10 + dict.len() + 1;
    let total = total.unwrap_or(unpadded.div_ceil(64) * 64);
    let mut header = Vec::with_capacity(total);
    header.extend_from_slice(b"\x93NUMPY\x01\x00");
    header.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    header.extend_from_slice(dict.as_bytes());
    header.resize(total - 1, b' ');
    header.push(b'\n');
    header
}

impl NpyStream {
    /// Create `path` for a `(lanes, frames, neurons)` array of float32 (`f32`) or float64.
    pub fn create(path: &Path, shape: [usize; 3], f32: bool) -> Result<NpyStream, IoError> {
        let header = npy_header(shape, f32, None);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| file_error(path, e))?;
        file.write_all(&header).map_err(|e| file_error(path, e))?;
        let size = if f32 { 4 } else { 8 };
        let bytes = (shape[0] * shape[1] * shape[2] * size) as u64;
        file.set_len(header.len() as u64 + bytes)
            .map_err(|e| file_error(path, format!("cannot size the file to {bytes} bytes: {e}")))?;
        Ok(NpyStream {
            file,
            path: path.to_path_buf(),
            header_len: header.len() as u64,
            lanes: shape[0],
            frames: shape[1],
            neurons: shape[2],
            f32,
            written: 0,
        })
    }

    fn item(&self) -> usize {
        if self.f32 { 4 } else { 8 }
    }

    /// Reopen a file written by a stream of the full shape `shape` (to continue a resumed run):
    /// a file cut by [`NpyStream::finish`] to fewer frames is grown back to the full layout (lane
    /// blocks moved to their places, the space after them zeroed) and its header rewritten.
    /// Then [`NpyStream::set_written`] says how many frames are valid.
    pub fn reopen(path: &Path, shape: [usize; 3], f32: bool) -> Result<NpyStream, IoError> {
        use std::os::unix::fs::FileExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| file_error(path, e))?;
        let mut start = [0u8; 10];
        file.read_exact_at(&mut start, 0)
            .map_err(|e| file_error(path, format!("not an .npy file: {e}")))?;
        if &start[..6] != b"\x93NUMPY" {
            return Err(file_error(path, "not an .npy file"));
        }
        let header_len = 10 + u16::from_le_bytes([start[8], start[9]]) as u64;
        let mut dict = vec![0u8; header_len as usize - 10];
        file.read_exact_at(&mut dict, 10)
            .map_err(|e| file_error(path, e))?;
        let dict = String::from_utf8_lossy(&dict).into_owned();
        let descr = if f32 { "'<f4'" } else { "'<f8'" };
        let found: Option<Vec<usize>> = dict
            .split_once("'shape': (")
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(shape, _)| {
                shape
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .filter_map(|s| s.trim().parse().ok())
                    .collect()
            });
        let frames_in_file = match found.as_deref() {
            Some([l, f, n])
                if *l == shape[0] && *n == shape[2] && *f <= shape[1] && dict.contains(descr) =>
            {
                *f
            }
            _ => {
                return Err(file_error(
                    path,
                    format!(
                        "its header `{}` does not fit a recording of shape ({}, {}, {}) {descr}",
                        dict.trim(),
                        shape[0],
                        shape[1],
                        shape[2]
                    ),
                ));
            }
        };
        let stream = NpyStream {
            file,
            path: path.to_path_buf(),
            header_len,
            lanes: shape[0],
            frames: shape[1],
            neurons: shape[2],
            f32,
            written: frames_in_file,
        };
        if frames_in_file < shape[1] {
            let item = stream.item();
            let (lanes, full, neurons) = (shape[0], shape[1], shape[2]);
            let block = frames_in_file * neurons * item;
            let old_end = (lanes * block) as u64;
            stream
                .file
                .set_len(header_len + (lanes * full * neurons * item) as u64)
                .map_err(|e| file_error(path, e))?;
            let mut buffer = vec![0u8; (1 << 20).min(block.max(1))];
            // Last lane first, each block from its end: destinations lie after their sources.
            for lane in (1..lanes).rev() {
                let from = header_len + (lane * block) as u64;
                let to = header_len + (lane * full * neurons * item) as u64;
                let mut left = block;
                while left > 0 {
                    let n = buffer.len().min(left);
                    left -= n;
                    stream
                        .file
                        .read_exact_at(&mut buffer[..n], from + left as u64)
                        .map_err(|e| file_error(path, e))?;
                    stream
                        .file
                        .write_all_at(&buffer[..n], to + left as u64)
                        .map_err(|e| file_error(path, e))?;
                }
            }
            // Zero what is left of the old layout after each lane's block.
            for lane in 0..lanes {
                let start = (lane * full * neurons * item + block) as u64;
                let end = (((lane + 1) * full * neurons * item) as u64).min(old_end);
                let mut at = start;
                let zeros = vec![0u8; 1 << 20];
                while at < end {
                    let n = (zeros.len() as u64).min(end - at) as usize;
                    stream
                        .file
                        .write_all_at(&zeros[..n], header_len + at)
                        .map_err(|e| file_error(path, e))?;
                    at += n as u64;
                }
            }
            let header = npy_header(shape, f32, Some(header_len as usize));
            stream
                .file
                .write_all_at(&header, 0)
                .map_err(|e| file_error(path, e))?;
        }
        Ok(stream)
    }

    /// Set the number of valid frames (those of a restored checkpoint).
    pub fn set_written(&mut self, frames: usize) {
        self.written = frames.min(self.frames);
    }

    /// Write frame `frame` of lane `lane` (`neurons` values).
    pub fn write(&mut self, lane: usize, frame: usize, values: &[f64]) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        if lane >= self.lanes || frame >= self.frames || values.len() != self.neurons {
            return Err(std::io::Error::other(format!(
                "{}: frame {frame} of lane {lane} with {} values is outside the shape ({}, {}, {})",
                self.path.display(),
                values.len(),
                self.lanes,
                self.frames,
                self.neurons
            )));
        }
        let mut bytes = Vec::with_capacity(values.len() * self.item());
        for &v in values {
            if self.f32 {
                bytes.extend_from_slice(&(v as f32).to_le_bytes());
            } else {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        let offset =
            self.header_len + ((lane * self.frames + frame) * self.neurons * self.item()) as u64;
        self.file.write_all_at(&bytes, offset)?;
        self.written = self.written.max(frame + 1);
        Ok(())
    }

    /// Frames written so far.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Cut the file to the frames written and make its header say so; returns that frame count.
    pub fn finish(&mut self) -> Result<usize, IoError> {
        use std::os::unix::fs::FileExt;
        let path = self.path.clone();
        let written = self.written;
        let item = self.item();
        if written < self.frames {
            let block = written * self.neurons * item;
            let mut buffer = vec![0u8; (1 << 20).min(block.max(1))];
            for lane in 1..self.lanes {
                let from = self.header_len + (lane * self.frames * self.neurons * item) as u64;
                let to = self.header_len + (lane * block) as u64;
                let mut done = 0;
                while done < block {
                    let n = buffer.len().min(block - done);
                    self.file
                        .read_exact_at(&mut buffer[..n], from + done as u64)
                        .map_err(|e| file_error(&path, e))?;
                    self.file
                        .write_all_at(&buffer[..n], to + done as u64)
                        .map_err(|e| file_error(&path, e))?;
                    done += n;
                }
            }
            self.file
                .set_len(self.header_len + (self.lanes * block) as u64)
                .map_err(|e| file_error(&path, e))?;
            let header = npy_header(
                [self.lanes, written, self.neurons],
                self.f32,
                Some(self.header_len as usize),
            );
            self.file
                .write_all_at(&header, 0)
                .map_err(|e| file_error(&path, e))?;
            self.frames = written;
        }
        self.file.sync_all().map_err(|e| file_error(&path, e))?;
        Ok(written)
    }
}

/// A [`neuroxide::FrameSink`] writing into a shared [`NpyStream`] (keep the other handle to
/// [`NpyStream::finish`] it after the run).
pub struct StreamSink(pub std::sync::Arc<std::sync::Mutex<NpyStream>>);

impl neuroxide::FrameSink for StreamSink {
    fn write(&mut self, lane: usize, frame: usize, values: &[f64]) -> std::io::Result<()> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("the stream's lock was poisoned"))?
            .write(lane, frame, values)
    }
}

/// Read a float32 or float64 `.npy` file.
pub fn read_npy(path: &Path) -> Result<NamedArray, IoError> {
    use ndarray_npy::ReadNpyExt;
    let open = || File::open(path).map_err(|e| file_error(path, e));
    let name = path
        .file_stem()
        .map_or(String::new(), |s| s.to_string_lossy().into_owned());
    if let Ok(a) = ArrayD::<f32>::read_npy(open()?) {
        return Ok(NamedArray {
            name,
            shape: a.shape().to_vec(),
            data: ArrayData::F32(a.iter().copied().collect()),
        });
    }
    let a = ArrayD::<f64>::read_npy(open()?).map_err(|e| file_error(path, e))?;
    Ok(NamedArray {
        name,
        shape: a.shape().to_vec(),
        data: ArrayData::F64(a.iter().copied().collect()),
    })
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn a_stream_cut_half_way_is_a_valid_npy_file_with_the_frames_written() {
        let dir = std::env::temp_dir().join(format!("neuroxide-io-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for f32 in [true, false] {
            let path = dir.join(format!("x{f32}.npy"));
            let (lanes, frames, neurons) = (3, 10, 4);
            let mut stream = NpyStream::create(&path, [lanes, frames, neurons], f32).unwrap();
            let value = |l: usize, f: usize, n: usize| (l * 1000 + f * 10 + n) as f64 + 0.25;
            // Half-way: frames 0..4 written.
            for f in 0..4 {
                for l in 0..lanes {
                    let row: Vec<f64> = (0..neurons).map(|n| value(l, f, n)).collect();
                    stream.write(l, f, &row).unwrap();
                }
            }
            // Readable before it is finished (a crash): full shape, zeros after.
            let before = read_npy(&path).unwrap();
            assert_eq!(before.shape, vec![lanes, frames, neurons]);
            assert_eq!(before.at(&[2, 3, 1]), value(2, 3, 1));
            assert_eq!(before.at(&[2, 4, 1]), 0.0);
            assert_eq!(stream.finish().unwrap(), 4);
            let after = read_npy(&path).unwrap();
            assert_eq!(after.shape, vec![lanes, 4, neurons]);
            for l in 0..lanes {
                for f in 0..4 {
                    for n in 0..neurons {
                        assert_eq!(after.at(&[l, f, n]), value(l, f, n));
                    }
                }
            }
            assert!(stream.write(0, frames, &[0.0; 4]).is_err());
            drop(stream);
            // Reopened for a resumed run: the full layout again, the frames kept, zeros after.
            let mut stream = NpyStream::reopen(&path, [lanes, frames, neurons], f32).unwrap();
            let grown = read_npy(&path).unwrap();
            assert_eq!(grown.shape, vec![lanes, frames, neurons]);
            for l in 0..lanes {
                for f in 0..frames {
                    for n in 0..neurons {
                        let expected = if f < 4 { value(l, f, n) } else { 0.0 };
                        assert_eq!(grown.at(&[l, f, n]), expected, "lane {l} frame {f}");
                    }
                }
            }
            stream.set_written(4);
            for l in 0..lanes {
                let row: Vec<f64> = (0..neurons).map(|n| value(l, 4, n)).collect();
                stream.write(l, 4, &row).unwrap();
            }
            assert_eq!(stream.finish().unwrap(), 5);
            let again = read_npy(&path).unwrap();
            assert_eq!(again.shape, vec![lanes, 5, neurons]);
            assert_eq!(again.at(&[2, 4, 3]), value(2, 4, 3));
            assert_eq!(again.at(&[1, 3, 0]), value(1, 3, 0));
            assert!(NpyStream::reopen(&path, [lanes, frames, neurons + 1], f32).is_err());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
