//! Checking and running models from Python, through the calls `snnsim check` and `snnsim run` make.
//!
//! A run executes on a thread of its own, inside its rayon pool, with the GIL released. The calling thread (Python's
//! main thread, where signal handlers run) wakes every 50 ms to let Python handle signals: a Ctrl-C (in a
//! notebook, the kernel's interrupt) raises there, sets the run's stop flag, and the run saves a checkpoint after
//! the current minibatch and ends `interrupted`, exactly as the command line does on SIGINT. No signal handler of
//! the module's own is installed. The learning-curve callback is called on the run's thread, with the GIL taken
//! for the call; an exception it raises stops the run the same way. A test made again (`Run.test()`) runs the same
//! way, and a Ctrl-C stops it after its current minibatch, with nothing written.

use crate::errors::to_py;
use numpy::IntoPyArray;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use snn_sim::SimError;
use snn_sim::experiment::Observer;
use snn_sim::metrics::CurvePoint;
use snn_sim::run::{Relaunch, RunReport, RunRequest, execute};
use snn_sim::threads::{IdleWait, check_threads, pool, run_in_pool};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

/// The resolved model of `path` with `overrides` (`field.path=RON`, as `--set` takes them): `(json, ron)`, the model
/// as JSON (for a dict) and as the RON text `snnsim check` prints.
#[pyfunction]
#[pyo3(signature = (path, overrides))]
pub fn check(path: PathBuf, overrides: Vec<String>) -> PyResult<(String, String)> {
    let model = RunRequest::new(path, overrides).resolve().map_err(to_py)?;
    let json = serde_json::to_string(model.file()).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok((json, model.to_ron()))
}

/// Runs `path` as `snnsim run` does and returns the run folder. `out` is the exact run folder (`--out`), else one is
/// made under `output_root`. With `skip_finished` (`--skip-finished`, `out` required): a finished run in `out` is
/// returned as it is, an interrupted one resumed, a failed or interrupted one without a checkpoint set aside and
/// started again; a folder that another process is running raises `BlockingIOError` naming the holder, and one that
/// holds a run of another model `OSError` naming the first field that differs.
#[pyfunction]
#[pyo3(signature = (path, overrides, out, output_root, threads, on_curve, skip_finished))]
#[allow(clippy::too_many_arguments)]
pub fn run(
    py: Python<'_>,
    path: PathBuf,
    overrides: Vec<String>,
    out: Option<PathBuf>,
    output_root: PathBuf,
    threads: Option<usize>,
    on_curve: Option<Py<PyAny>>,
    skip_finished: bool,
) -> PyResult<(String, Option<String>)> {
    // Checked before the folder is looked at: a refused call changes nothing there.
    checked_threads(threads)?;
    if skip_finished {
        let Some(dir) = out.clone() else {
            return Err(PyValueError::new_err(
                "skip_finished needs out, the run folder to look in",
            ));
        };
        let request = RunRequest {
            model_path: path.clone(),
            overrides: overrides.clone(),
            output_root: output_root.clone(),
            run_dir: out.clone(),
        };
        match snn_sim::run::relaunch(&dir, &request).map_err(to_py)? {
            Relaunch::Skip => return Ok((dir.display().to_string(), None)),
            Relaunch::Resume => return resume(py, dir, threads, on_curve),
            // Not skipped as on the command line: there is no finished run to return.
            Relaunch::Busy(holder) => return Err(to_py(SimError::Busy { path: dir, holder })),
            Relaunch::Restart => {
                snn_sim::run::set_aside(&dir).map_err(to_py)?;
            }
            Relaunch::Start => {}
        }
    }
    let request = RunRequest {
        model_path: path,
        overrides,
        output_root,
        run_dir: out,
    };
    drive(py, threads, on_curve, move |observer, stop| {
        execute(&request, observer, stop)
    })
}

/// Continues the interrupted run in `run_dir` from its checkpoint, as `snnsim run --resume` does.
#[pyfunction]
#[pyo3(signature = (run_dir, threads, on_curve))]
pub fn resume(
    py: Python<'_>,
    run_dir: PathBuf,
    threads: Option<usize>,
    on_curve: Option<Py<PyAny>>,
) -> PyResult<(String, Option<String>)> {
    drive(py, threads, on_curve, move |observer, stop| {
        snn_sim::run::resume(&run_dir, observer, stop)
    })
}

/// Tests the trained network of `run_dir` again under test-time `overrides`, as `snnsim test` does (a row is added
/// to its `tests.csv`), with the GIL released: a dict of what `snn_sim::retest::Retest` holds.
#[pyfunction]
#[pyo3(signature = (run_dir, overrides, threads))]
pub fn retest<'py>(
    py: Python<'py>,
    run_dir: PathBuf,
    overrides: Vec<String>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let pool = threads_pool(threads)?;
    let stop = AtomicBool::new(false);
    let (tested, interrupt) = wait_handling_signals(py, &stop, || {
        run_in_pool(&pool, IdleWait::Sleep, || {
            snn_sim::retest::retest(&run_dir, &overrides, &mut snn_sim::experiment::Silent, &stop)
        })
    })?;
    // A Ctrl-C is raised once the test has ended, before numpy is asked for arrays; a test that failed for another
    // reason raises that instead.
    let t = match (tested, interrupt) {
        (Ok(_), Some(e)) => {
            let _ = e.add_note(py, "the test had finished: its row is in tests.csv");
            return Err(e);
        }
        (Err(SimError::TestStopped { done, total }), Some(e)) => {
            let _ = e.add_note(
                py,
                format!("the test stopped after {done} of {total} images; tests.csv was not changed"),
            );
            return Err(e);
        }
        (tested, _) => tested.map_err(to_py)?,
    };
    let out = PyDict::new(py);
    out.set_item("overrides", &t.overrides)?;
    out.set_item("test_accuracy", t.accuracy())?;
    out.set_item("correct", t.correct)?;
    out.set_item("test_examples", t.test_examples)?;
    out.set_item("test_nse", t.test_nse)?;
    out.set_item("training_examples", t.training_examples)?;
    out.set_item("training_done", t.training_done)?;
    out.set_item("test_s", t.test_s)?;
    out.set_item("confusion", t.confusion.map(|c| c.counts().into_pyarray(py)))?;
    Ok(out)
}

/// Runs `work` on a thread of its own in a pool of `threads` threads, with the GIL released, and returns the run
/// folder with `None`, or, if the run was interrupted (its stop flag set from elsewhere), the folder with the
/// interruption's message. The exception that stopped the run (a `KeyboardInterrupt`, the callback's own) is raised
/// after the run has saved its checkpoint, with the folder in its `snnsim_run_dir` attribute.
fn drive(
    py: Python<'_>,
    threads: Option<usize>,
    on_curve: Option<Py<PyAny>>,
    work: impl FnOnce(&mut dyn Observer, &AtomicBool) -> Result<RunReport, SimError> + Send,
) -> PyResult<(String, Option<String>)> {
    let pool = threads_pool(threads)?;
    let stop = AtomicBool::new(false);
    let ((result, raised), interrupt) = wait_handling_signals(py, &stop, || {
        let mut callback = Callback {
            on_curve,
            stop: &stop,
            raised: None,
        };
        let result = run_in_pool(&pool, IdleWait::Sleep, || work(&mut callback, &stop));
        (result, callback.raised)
    })?;
    let stopped_by = interrupt.or(raised);
    match (result, stopped_by) {
        (Ok(report), None) => Ok((report.dir.display().to_string(), None)),
        (Err(SimError::Interrupted { seen, dir }), None) => Ok((
            dir.display().to_string(),
            Some(format!("interrupted after {seen} examples")),
        )),
        // The exception that stopped the run is raised, never swallowed, with the run folder attached.
        (Ok(report), Some(e)) => {
            let dir = report.dir.display().to_string();
            let note = format!(
                "the run had finished its training and completed its final test (which is not interrupted): {dir}"
            );
            Err(attach_run(py, e, &dir, note))
        }
        (Err(SimError::Interrupted { seen, dir }), Some(e)) => {
            let dir = dir.display().to_string();
            let note = format!(
                "the run stopped after {seen} training examples and saved a checkpoint in {dir}: continue it with \
                 snnsim.resume({dir:?}) or `snnsim run --resume {dir}`"
            );
            Err(attach_run(py, e, &dir, note))
        }
        (Err(e), _) => Err(to_py(e)),
    }
}

/// Runs `work` on a thread of its own with the GIL released. Python's main thread, where signal handlers run, sleeps
/// until it ends, waking every 50 ms to let Python handle signals: few enough wake-ups not to take a core from the
/// work. The first exception raised there (a Ctrl-C's `KeyboardInterrupt`) sets `stop` and is returned beside what
/// `work` returns, for the caller to raise once `work` has ended; so is one raised by a signal that came in its last
/// moments, which would otherwise be pending when the caller next asks Python for anything. Later ones (a second
/// Ctrl-C while the work stops) are named in a note on the first and otherwise dropped.
fn wait_handling_signals<T: Send>(
    py: Python<'_>,
    stop: &AtomicBool,
    work: impl FnOnce() -> T + Send,
) -> PyResult<(T, Option<PyErr>)> {
    let mut interrupt: Option<PyErr> = None;
    let mut ignored: Vec<String> = Vec::new();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    // Only this thread receives; the mutex makes the receiver shareable with the GIL-free closure below.
    let done_rx = std::sync::Mutex::new(done_rx);
    let result = std::thread::scope(|s| {
        let handle = s.spawn(move || {
            let result = work();
            // Wakes the waiting thread at once (a closed channel does the same if `work` panicked).
            let _ = done_tx.send(());
            result
        });
        loop {
            let ended = py.detach(|| {
                let rx = done_rx.lock().unwrap_or_else(|e| e.into_inner());
                matches!(
                    rx.recv_timeout(Duration::from_millis(50)),
                    Ok(()) | Err(RecvTimeoutError::Disconnected)
                )
            });
            if ended {
                break;
            }
            if let Err(e) = py.check_signals() {
                stop.store(true, Ordering::SeqCst);
                keep_first(py, &mut interrupt, &mut ignored, e);
            }
        }
        handle.join()
    })
    .map_err(|_| PyRuntimeError::new_err("snnsim panicked; this is a bug in snnsim"))?;
    if let Err(e) = py.check_signals() {
        keep_first(py, &mut interrupt, &mut ignored, e);
    }
    if let (Some(e), false) = (&interrupt, ignored.is_empty()) {
        let _ = e.add_note(
            py,
            format!(
                "further interrupts while it stopped were ignored ({}): the work ends at its next minibatch either way",
                ignored.join(", ")
            ),
        );
    }
    Ok((result, interrupt))
}

/// Keeps the first exception a signal raised; a later one (a second Ctrl-C while the work stops) is only named in
/// `ignored`: raised on top of the first, it would hide the first and what is attached to it (`e.run`).
fn keep_first(py: Python<'_>, first: &mut Option<PyErr>, ignored: &mut Vec<String>, e: PyErr) {
    match first {
        None => *first = Some(e),
        Some(_) => ignored.push(
            e.get_type(py)
                .name()
                .map_or_else(|_| "an exception".to_string(), |n| n.to_string()),
        ),
    }
}

/// `e` with a note for the reader (Python 3.11+: `add_note`; older ones show the folder through `e.run` only) and the
/// run folder in its `snnsim_run_dir` attribute. Neither may replace the exception that stopped the run.
fn attach_run(py: Python<'_>, e: PyErr, dir: &str, note: String) -> PyErr {
    let _ = e.add_note(py, note);
    let _ = e.value(py).setattr("snnsim_run_dir", dir);
    e
}

/// The run's observer: forwards learning-curve points to the Python callback.
struct Callback<'a> {
    on_curve: Option<Py<PyAny>>,
    stop: &'a AtomicBool,
    raised: Option<PyErr>,
}

impl Observer for Callback<'_> {
    fn curve_point(&mut self, p: &CurvePoint) -> Result<(), SimError> {
        let Some(f) = &self.on_curve else { return Ok(()) };
        if self.raised.is_some() {
            return Ok(());
        }
        let called = Python::attach(|py| -> PyResult<()> {
            let point = PyDict::new(py);
            point.set_item("examples", p.examples)?;
            point.set_item("epoch", p.epoch)?;
            point.set_item("test_accuracy", p.test_accuracy)?;
            point.set_item("test_examples", p.test_examples)?;
            point.set_item("train_accuracy", p.train_accuracy)?;
            point.set_item("elapsed_s", p.elapsed_s)?;
            point.set_item("test_nse", p.test_nse)?;
            f.call1(py, (point,))?;
            Ok(())
        });
        if let Err(e) = called {
            self.raised = Some(e);
            self.stop.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// `threads=` refused as `ValueError` when 0 or above 8 per core ([`check_threads`]).
fn checked_threads(threads: Option<usize>) -> PyResult<()> {
    match threads {
        Some(n) => check_threads(n).map_err(|e| PyValueError::new_err(format!("threads={n}: {e}"))),
        None => Ok(()),
    }
}

/// The worker pool of `threads=`: a bad count is a `ValueError`, a pool that cannot start a `RuntimeError`.
fn threads_pool(threads: Option<usize>) -> PyResult<rayon::ThreadPool> {
    checked_threads(threads)?;
    pool(threads).map_err(PyRuntimeError::new_err)
}
