//! Reading runs and scanning many: `read_run_columns` (one run's parsed columns) and the
//! `Scanner` (discovery now, the scan on a background thread with the GIL released, progress
//! readable while it runs).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use numpy::PyArray1;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rlforensics_core::ingest::source::read_files;
use rlforensics_core::ingest::table::Table;
use rlforensics_core::ingest::InputProblem;
use rlforensics_core::scan::{
    discover, scan_runs, Progress, RunEvent, RunReport, RunSpec, ScanOptions,
};

use crate::events::step_value;

fn problem_dict<'py>(
    py: Python<'py>,
    path: &std::path::Path,
    p: &InputProblem,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("file", path.display().to_string())?;
    d.set_item("kind", p.kind.as_str())?;
    d.set_item("offset", p.offset)?;
    d.set_item("line", p.line)?;
    d.set_item("detail", &p.detail)?;
    Ok(d)
}

fn table_dict<'py>(py: Python<'py>, t: &Table) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("steps", PyArray1::from_slice(py, t.steps()))?;
    let cols = PyDict::new(py);
    let present = PyDict::new(py);
    for (i, name) in t.names().iter().enumerate() {
        cols.set_item(name, PyArray1::from_slice(py, t.column(i)))?;
        present.set_item(name, PyArray1::from_slice(py, t.present(i)))?;
    }
    d.set_item("columns", cols)?;
    d.set_item("present", present)?;
    d.set_item("replaced_rows", t.replaced_rows())?;
    Ok(d)
}

/// The one run at `path` (a log file, or a folder of one run's logs), parsed: its training
/// table, evaluation table, summary, problems, family and files.
#[pyfunction]
pub fn read_run_columns<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let (runs, errors) = discover(std::slice::from_ref(&path));
    if let Some((p, e)) = errors.first() {
        return Err(PyValueError::new_err(format!("{}: {e}", p.display())));
    }
    let spec = match runs.as_slice() {
        [one] => one,
        [] => {
            return Err(PyValueError::new_err(format!(
                "{}: no log files found",
                path.display()
            )))
        }
        many => {
            let ids: Vec<&str> = many.iter().take(5).map(|r| r.id.as_str()).collect();
            return Err(PyValueError::new_err(format!(
                "{} holds {} runs ({}{}); read one of them, or scan them all with rlforensics.scan",
                path.display(),
                many.len(),
                ids.join(", "),
                if many.len() > 5 { ", ..." } else { "" }
            )));
        }
    };
    let files = spec.files.clone();
    let data = py.detach(move || read_files(&files, &mut |_| {}));
    let d = PyDict::new(py);
    d.set_item("id", &spec.id)?;
    d.set_item("train", table_dict(py, &data.train)?)?;
    d.set_item("eval", table_dict(py, &data.eval)?)?;
    let summary = PyDict::new(py);
    for (k, v) in &data.summary {
        summary.set_item(k, v)?;
    }
    d.set_item("summary", summary)?;
    let problems = PyList::empty(py);
    for (p, e) in &data.problems {
        problems.append(problem_dict(py, p, e)?)?;
    }
    d.set_item("problems", problems)?;
    d.set_item("family", data.family.as_str())?;
    d.set_item(
        "format",
        data.sources.first().map_or("none", |s| s.format.as_str()),
    )?;
    d.set_item(
        "files",
        data.sources
            .iter()
            .map(|s| s.path.display().to_string())
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "skipped",
        spec.skipped
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>(),
    )?;
    d.set_item("records", data.records)?;
    d.set_item("rows_without_step", data.rows_without_step)?;
    d.set_item("bytes", data.bytes())?;
    Ok(d)
}

fn event_dict<'py>(py: Python<'py>, e: &RunEvent) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("type", &e.kind)?;
    d.set_item("severity", e.severity.as_str())?;
    d.set_item("tracker", e.source)?;
    d.set_item("metric", &e.metric)?;
    let first = step_value(py, e.first_step)?;
    d.set_item("step", &first)?;
    d.set_item("first_step", first)?;
    d.set_item("last_step", step_value(py, e.last_step)?)?;
    d.set_item("occurrences", e.occurrences)?;
    d.set_item("value", e.value)?;
    d.set_item("threshold", e.threshold)?;
    d.set_item("message", &e.message)?;
    d.set_item("active", e.active)?;
    Ok(d)
}

fn report_dict<'py>(py: Python<'py>, r: &RunReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("run_id", &r.id)?;
    d.set_item(
        "files",
        r.files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "skipped",
        r.skipped
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>(),
    )?;
    d.set_item("format", r.format)?;
    d.set_item("family", r.family)?;
    d.set_item("bytes", r.bytes)?;
    d.set_item("rows", r.rows)?;
    d.set_item("eval_rows", r.eval_rows)?;
    match r.step_range {
        Some((a, b)) => d.set_item("step_range", (step_value(py, a)?, step_value(py, b)?))?,
        None => d.set_item("step_range", py.None())?,
    }
    d.set_item("replaced_rows", r.replaced_rows)?;
    d.set_item("kl_target", r.kl_target)?;
    let m = PyDict::new(py);
    for (k, v) in &r.metrics {
        m.set_item(*k, v)?;
    }
    d.set_item("metrics", m)?;
    d.set_item("overall_health", r.overall_health)?;
    d.set_item("training_stability", r.training_stability)?;
    d.set_item("convergence_quality", r.convergence_quality)?;
    let events = PyList::empty(py);
    for e in &r.events {
        events.append(event_dict(py, e)?)?;
    }
    d.set_item("events", events)?;
    d.set_item("diagnosis", crate::signals::links_list(py, &r.diagnosis)?)?;
    d.set_item("diagnosis_horizon", r.diagnosis_horizon)?;
    let problems = PyList::empty(py);
    for (p, e) in &r.problems {
        problems.append(problem_dict(py, p, e)?)?;
    }
    d.set_item("problems", problems)?;
    d.set_item("notes", &r.notes)?;
    Ok(d)
}

type ScanThread = JoinHandle<rlforensics_core::Result<Vec<RunReport>>>;

/// A scan of the runs under some paths: discovered at construction, run by `start()` on a
/// background thread, watched with `progress()`, collected by `join()`.
#[pyclass(module = "rlforensics._core", name = "Scanner")]
pub struct Scanner {
    runs: Arc<Vec<RunSpec>>,
    errors: Vec<(PathBuf, String)>,
    opts: ScanOptions,
    jobs: usize,
    total_bytes: u64,
    progress: Arc<Progress>,
    thread: Option<ScanThread>,
    done: bool,
}

#[pymethods]
impl Scanner {
    #[new]
    #[pyo3(signature = (paths, kl_target = None, jobs = 0))]
    fn new(
        py: Python<'_>,
        paths: Vec<PathBuf>,
        kl_target: Option<f64>,
        jobs: usize,
    ) -> PyResult<Self> {
        if let Some(t) = kl_target.filter(|t| !(t.is_finite() && *t > 0.0)) {
            return Err(PyValueError::new_err(format!(
                "kl_target must be a positive number, got {t}"
            )));
        }
        let (runs, errors, total_bytes) = py.detach(|| {
            let (runs, errors) = discover(&paths);
            let total: u64 = runs.iter().map(RunSpec::bytes).sum();
            (runs, errors, total)
        });
        Ok(Scanner {
            runs: Arc::new(runs),
            errors,
            opts: ScanOptions { kl_target },
            jobs,
            total_bytes,
            progress: Arc::new(Progress::default()),
            thread: None,
            done: false,
        })
    }

    /// Runs found, by id.
    #[getter]
    fn run_ids(&self) -> Vec<String> {
        self.runs.iter().map(|r| r.id.clone()).collect()
    }

    /// Paths that could not be read, with why.
    #[getter]
    fn errors(&self) -> Vec<(String, String)> {
        self.errors
            .iter()
            .map(|(p, e)| (p.display().to_string(), e.clone()))
            .collect()
    }

    /// Bytes of all the runs' files.
    #[getter]
    fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Starts the scan on a background thread (once).
    fn start(&mut self) -> PyResult<()> {
        if self.thread.is_some() || self.done {
            return Err(PyRuntimeError::new_err("this scan was already started"));
        }
        let (runs, opts, jobs, progress) = (
            Arc::clone(&self.runs),
            self.opts,
            self.jobs,
            Arc::clone(&self.progress),
        );
        self.thread = Some(std::thread::spawn(move || {
            scan_runs(&runs, &opts, jobs, &progress)
        }));
        Ok(())
    }

    /// (bytes read, runs finished) so far.
    fn progress(&self) -> (u64, usize) {
        (
            self.progress.bytes.load(Ordering::Relaxed),
            self.progress.runs.load(Ordering::Relaxed),
        )
    }

    /// Whether the scan has ended (finished or failed); `join()` then returns at once.
    fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits for the scan (without the GIL) and returns one report dict per run, in the
    /// order of `run_ids`.
    fn join<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let handle = self
            .thread
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("start() the scan before join()"))?;
        self.done = true;
        let result = py
            .detach(move || handle.join())
            .map_err(|_| PyRuntimeError::new_err("the scan thread panicked"))?;
        let reports = result.map_err(crate::errors::to_py)?;
        let out = PyList::empty(py);
        for r in &reports {
            out.append(report_dict(py, r)?)?;
        }
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!(
            "<Scanner of {} runs, {} bytes>",
            self.runs.len(),
            self.total_bytes
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_run_columns, m)?)?;
    m.add_class::<Scanner>()?;
    Ok(())
}
