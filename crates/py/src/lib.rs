//! `neuroxide._neuroxide`: the Rust half of the Python package (python/neuroxide).
//!
//! Thin on purpose: it converts arguments, errors and arrays and calls the engine; the user API
//! (keyword overrides, mappings, xarray/pandas, progress bars) is written in Python on top of it.
//!
//! - Model errors raise `ModelError` (a `ValueError`) whose text is what `neuroxide run` prints
//!   (`file:line:column: \`key.path\`: message`, one line per problem), with the problems as
//!   dicts in `.errors`; a model file that cannot be read raises `FileNotFoundError`/`OSError`.
//! - A run releases the GIL. It runs on its own thread while the calling thread, detached, wakes
//!   every 100 ms to check for Ctrl-C (`PyErr_CheckSignals` acts only on the main thread, and the
//!   engine steps inside its rayon pool) and to call the progress callback; an exception from
//!   either stops the run at the next step and is raised.
//! - Result arrays are handed to NumPy without a copy (`into_pyarray` moves the buffers).

use neuroxide::{AnySimulation, ArrayData, BuildOptions, NamedArray, Results};
use neuroxide_model::{ModelFile, NetworkSpec, SpecError, SpecErrors};
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

mod fit_loop;
mod train;
mod train_conv;
mod train_spiking;

pyo3::create_exception!(
    neuroxide,
    ModelError,
    PyValueError,
    "A model that cannot run: its text lists every problem with file, line, key path, value and \
     what was expected; `.errors` holds them as dicts (file, line, column, path, message)."
);

/// How often a detached run wakes the calling thread for Ctrl-C and progress.
const POLL: Duration = Duration::from_millis(100);

/// `ModelError` from the problems of a model, as the command line prints them.
fn model_error(py: Python<'_>, errors: &SpecErrors) -> PyErr {
    let error = ModelError::new_err(errors.to_string());
    let list = PyList::empty(py);
    for e in errors.iter() {
        let item = PyDict::new(py);
        let set = || -> PyResult<()> {
            item.set_item("file", e.file.as_ref().map(|f| f.display().to_string()))?;
            item.set_item("line", e.line)?;
            item.set_item("column", e.column)?;
            item.set_item("path", &e.path)?;
            item.set_item("message", &e.message)?;
            list.append(&item)
        };
        if let Err(failed) = set() {
            return failed;
        }
    }
    if let Err(failed) = error.value(py).setattr("errors", list) {
        return failed;
    }
    error
}

/// A built network (`neuroxide.Network` wraps it).
#[pyclass(module = "neuroxide._neuroxide")]
struct Simulation {
    model: ModelFile,
    /// Erase file positions from errors (a spec given as a dict has no lines of its own).
    positions: bool,
    simulation: AnySimulation,
    /// No step taken since the build or the last reset (a rebuild with other threads is exact).
    fresh: bool,
    /// Folder relative file paths resolve against, for a model without a file.
    base_dir: Option<PathBuf>,
}

fn strip(errors: SpecErrors, positions: bool) -> SpecErrors {
    if positions {
        return errors;
    }
    SpecErrors(
        errors
            .0
            .into_iter()
            .map(|e| SpecError {
                line: None,
                column: None,
                ..e
            })
            .collect(),
    )
}

#[pymethods]
impl Simulation {
    /// Read a model file, apply `key.path=value` overrides, validate and build it.
    #[staticmethod]
    #[pyo3(signature = (path, overrides, threads=None))]
    fn load(
        py: Python<'_>,
        path: PathBuf,
        overrides: Vec<String>,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            // The command line's message for the same problem.
            let message = SpecError {
                file: Some(path.clone()),
                ..SpecError::new("", format!("cannot read the model file: {e}"))
            }
            .to_string();
            match e.kind() {
                std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
                _ => PyOSError::new_err(message),
            }
        })?;
        let model = ModelFile::from_yaml(&text, Some(&path), &overrides)
            .map_err(|errors| model_error(py, &errors))?;
        Simulation::build(py, model, true, threads, None)
    }

    /// Build from YAML (or JSON) text. `positions=False` leaves line numbers out of errors (for a
    /// spec that was a dict); relative file paths in the model resolve against `base_dir`.
    #[staticmethod]
    #[pyo3(signature = (text, overrides, positions=true, base_dir=None, threads=None))]
    fn from_text(
        py: Python<'_>,
        text: &str,
        overrides: Vec<String>,
        positions: bool,
        base_dir: Option<PathBuf>,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        // ModelFile resolves files against the folder of its path; a name inside `base_dir`
        // gives that folder without the name showing up in errors (they carry no file).
        let anchor = base_dir.map(|dir| dir.join("<spec>"));
        let mut model = ModelFile::from_yaml(text, anchor.as_deref(), &overrides).map_err(|e| {
            let e = SpecErrors(
                e.0.into_iter()
                    .map(|e| SpecError { file: None, ..e })
                    .collect(),
            );
            model_error(py, &strip(e, positions))
        })?;
        // Errors found while building carry no file name either.
        let base = model.base_dir();
        model.path = None;
        Simulation::build(py, model, positions, threads, base)
    }

    /// Run the transient and the recorded duration from the current state. Returns
    /// `(results, divergence message or None)`; Ctrl-C or an exception raised by `progress`
    /// stops the run and is raised.
    #[pyo3(signature = (threads=None, progress=None))]
    fn run(
        &mut self,
        py: Python<'_>,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<(RunResults, Option<String>)> {
        if let Some(n) = threads
            && n != self.simulation.threads()
        {
            if n == 0 {
                return Err(PyValueError::new_err("threads: expected a positive number"));
            }
            if !self.fresh {
                return Err(PyValueError::new_err(format!(
                    "threads={n}: this network already ran with {} threads from its current \
                     state; call reset() first (results do not depend on the thread count)",
                    self.simulation.threads()
                )));
            }
            let (model, base) = (self.model.clone(), self.base_dir.clone());
            *self = Simulation::build(py, model, self.positions, Some(n), base)?;
        }
        self.fresh = false;
        let total = self.simulation.total_steps();
        let done = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let simulation = &mut self.simulation;
        let (outcome, raised) = py.detach(|| {
            std::thread::scope(|scope| {
                let (sender, receiver) = mpsc::channel();
                let (done, stop) = (&done, &stop);
                scope.spawn(move || {
                    let outcome = simulation.run_with(&mut |step, _| {
                        done.store(step, Ordering::Relaxed);
                        if stop.load(Ordering::Relaxed) {
                            ControlFlow::Break(())
                        } else {
                            ControlFlow::Continue(())
                        }
                    });
                    let _ = sender.send(outcome);
                });
                let mut raised: Option<PyErr> = None;
                let mut reported = u64::MAX;
                let mut report = |py: Python<'_>, step: u64| -> PyResult<()> {
                    if let Some(callback) = &progress
                        && step != reported
                    {
                        reported = step;
                        callback.call1(py, (step, total))?;
                    }
                    Ok(())
                };
                loop {
                    match receiver.recv_timeout(POLL) {
                        Ok(outcome) => {
                            if raised.is_none()
                                && outcome.is_ok()
                                && let Err(e) = Python::attach(|py| report(py, total))
                            {
                                raised = Some(e);
                            }
                            return (Some(outcome), raised);
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            if raised.is_none() {
                                let step = done.load(Ordering::Relaxed);
                                let checked = Python::attach(|py| {
                                    py.check_signals()?;
                                    report(py, step)
                                });
                                if let Err(e) = checked {
                                    raised = Some(e);
                                    stop.store(true, Ordering::Relaxed);
                                }
                            }
                        }
                        // The run panicked; the scope re-raises the panic.
                        Err(mpsc::RecvTimeoutError::Disconnected) => return (None, raised),
                    }
                }
            })
        });
        if let Some(error) = raised {
            // What was recorded until the stop travels with the exception (`.partial`).
            // (An interrupted run ends as an incomplete one, with its results.)
            let results = match outcome {
                Some(Ok(results)) => Some(results),
                Some(Err(stopped)) => Some(*stopped.results),
                None => None,
            };
            if let Some(results) = results {
                let partial = Py::new(py, RunResults::new(py, results)?)?;
                error.value(py).setattr("partial", partial)?;
            }
            return Err(error);
        }
        match outcome.expect("a run that returns sends its outcome") {
            Ok(results) => Ok((RunResults::new(py, results)?, None)),
            Err(diverged) => {
                let message = diverged.message.clone();
                Ok((RunResults::new(py, *diverged.results)?, Some(message)))
            }
        }
    }

    /// Restore the initial state.
    fn reset(&mut self, py: Python<'_>) -> PyResult<()> {
        let simulation = &mut self.simulation;
        let reset = py.detach(|| simulation.reset());
        let errors = reset
            .err()
            .map(|e| strip(self.model.locate_all(e), self.positions));
        if let Some(errors) = errors {
            return Err(model_error(py, &errors));
        }
        self.fresh = true;
        Ok(())
    }

    /// The resolved spec as JSON text.
    #[getter]
    fn spec_json(&self) -> String {
        spec_json(self.simulation.spec())
    }

    #[getter]
    fn lanes(&self) -> usize {
        self.simulation.lanes()
    }

    #[getter]
    fn synapses(&self) -> u64 {
        self.simulation.synapses()
    }

    #[getter]
    fn threads(&self) -> usize {
        self.simulation.threads()
    }

    #[getter]
    fn total_steps(&self) -> u64 {
        self.simulation.total_steps()
    }

    #[getter]
    fn build_seconds(&self) -> f64 {
        self.simulation.build_seconds()
    }

    #[getter]
    fn operator_bytes(&self) -> u64 {
        self.simulation.operator_bytes()
    }

    #[getter]
    fn recording_bytes(&self) -> u64 {
        self.simulation.recording_bytes()
    }

    /// One line per projection: name, operator and synapse count.
    #[getter]
    fn operators(&self) -> Vec<String> {
        self.simulation.describe_operators()
    }
}

fn spec_json(spec: &NetworkSpec) -> String {
    serde_json::to_string(spec).expect("a spec always serialises")
}

/// What a run returned: the arrays (moved into NumPy), and the rest of [`Results`].
#[pyclass(module = "neuroxide._neuroxide", frozen)]
struct RunResults {
    /// `{name: numpy array}` in the order of `results.npz`.
    arrays: Py<PyDict>,
    /// The results without their arrays (kept for `save`).
    rest: Results,
}

impl RunResults {
    fn new(py: Python<'_>, mut results: Results) -> PyResult<Self> {
        let arrays = PyDict::new(py);
        for array in std::mem::take(&mut results.arrays) {
            let shape = IxDyn(&array.shape);
            let shape_error = |e: numpy::ndarray::ShapeError| {
                PyValueError::new_err(format!("array `{}`: {e}", array.name))
            };
            let value = match array.data {
                ArrayData::F32(v) => ArrayD::from_shape_vec(shape, v)
                    .map_err(shape_error)?
                    .into_pyarray(py)
                    .into_any(),
                ArrayData::F64(v) => ArrayD::from_shape_vec(shape, v)
                    .map_err(shape_error)?
                    .into_pyarray(py)
                    .into_any(),
                ArrayData::I64(v) => ArrayD::from_shape_vec(shape, v)
                    .map_err(shape_error)?
                    .into_pyarray(py)
                    .into_any(),
            };
            arrays.set_item(&array.name, value)?;
        }
        Ok(RunResults {
            arrays: arrays.unbind(),
            rest: results,
        })
    }
}

#[pymethods]
impl RunResults {
    #[getter]
    fn arrays(&self, py: Python<'_>) -> Py<PyDict> {
        self.arrays.clone_ref(py)
    }

    #[getter]
    fn spec_json(&self) -> String {
        spec_json(&self.rest.spec)
    }

    #[getter]
    fn complete(&self) -> bool {
        self.rest.complete
    }

    #[getter]
    fn error(&self) -> Option<String> {
        self.rest.error.clone()
    }

    /// `run.json`'s fields.
    #[getter]
    fn run_json(&self) -> String {
        neuroxide_io::run_json(&self.rest)
    }

    /// Write `results.npz`, `spec.yaml` and `run.json` into `dir`, as `neuroxide run` does, from
    /// the current contents of the arrays in `arrays` (float32 or float64).
    fn save(&self, py: Python<'_>, dir: PathBuf, arrays: &Bound<'_, PyDict>) -> PyResult<()> {
        let mut results = self.rest.clone();
        for (name, value) in arrays.iter() {
            let name: String = name.extract()?;
            let (shape, data) = if let Ok(a) = value.extract::<PyReadonlyArrayDyn<'_, f32>>() {
                let a = a.as_array();
                (
                    a.shape().to_vec(),
                    ArrayData::F32(a.iter().copied().collect()),
                )
            } else if let Ok(a) = value.extract::<PyReadonlyArrayDyn<'_, f64>>() {
                let a = a.as_array();
                (
                    a.shape().to_vec(),
                    ArrayData::F64(a.iter().copied().collect()),
                )
            } else if let Ok(a) = value.extract::<PyReadonlyArrayDyn<'_, i64>>() {
                let a = a.as_array();
                (
                    a.shape().to_vec(),
                    ArrayData::I64(a.iter().copied().collect()),
                )
            } else {
                return Err(PyValueError::new_err(format!(
                    "array `{name}`: expected a float32, float64 or int64 NumPy array"
                )));
            };
            results.arrays.push(NamedArray { name, shape, data });
        }
        py.detach(|| neuroxide_io::write_results(&dir, &results))
            .map_err(|e| PyOSError::new_err(e.to_string()))
    }
}

impl Simulation {
    /// Lower a loaded model; relative files resolve against `base` when the model has no path.
    fn build(
        py: Python<'_>,
        model: ModelFile,
        positions: bool,
        threads: Option<usize>,
        base: Option<PathBuf>,
    ) -> PyResult<Self> {
        let options = BuildOptions {
            threads,
            base_dir: model.base_dir().or(base.clone()),
        };
        let built = py.detach(|| AnySimulation::build(&model.spec, &options));
        match built {
            Ok(simulation) => Ok(Simulation {
                model,
                positions,
                simulation,
                fresh: true,
                base_dir: base,
            }),
            Err(errors) => Err(model_error(py, &strip(model.locate_all(errors), positions))),
        }
    }
}

/// Translate a NeuroFlame config file (`neuroxide_model::neuroflame`): returns the model as
/// JSON text, the list of keys not honoured and the merged NeuroFlame keys as JSON text. Unknown keys and enabled unsupported features
/// raise `ModelError`; a missing file `FileNotFoundError`.
#[pyfunction]
#[pyo3(signature = (path, overrides, version="2024", allow_unsupported=false, neuroflame_frames=false))]
fn neuroflame_translate(
    py: Python<'_>,
    path: PathBuf,
    overrides: Vec<String>,
    version: &str,
    allow_unsupported: bool,
    neuroflame_frames: bool,
) -> PyResult<(String, Vec<String>, String)> {
    use neuroxide_model::neuroflame;
    if !path.is_file() {
        return Err(PyFileNotFoundError::new_err(format!(
            "{}: cannot read the NeuroFlame config: no such file",
            path.display()
        )));
    }
    let options = neuroflame::Options {
        version: version
            .parse()
            .map_err(|e| PyValueError::new_err(format!("version: {e}")))?,
        allow_unsupported,
        neuroflame_frames,
    };
    let t = neuroflame::translate_file(&path, &overrides, &options)
        .map_err(|errors| model_error(py, &errors))?;
    let keys = serde_json::Value::Object(t.keys).to_string();
    Ok((t.model.to_string(), t.warnings, keys))
}

/// The version of the engine (and of the package).
#[pyfunction]
fn version() -> &'static str {
    neuroxide_model::VERSION
}

#[pymodule]
fn _neuroxide(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Simulation>()?;
    m.add_class::<RunResults>()?;
    m.add("ModelError", m.py().get_type::<ModelError>())?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(neuroflame_translate, m)?)?;
    m.add_function(wrap_pyfunction!(train::rate_model_fit, m)?)?;
    m.add_class::<train_spiking::RectipyBptt>()?;
    m.add_function(wrap_pyfunction!(train_conv::conv2d_model_fit, m)?)?;
    Ok(())
}
