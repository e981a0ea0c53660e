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
use pyo3::intern;
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
    let (tested, signals) = wait_handling_signals(py, &stop, || {
        run_in_pool(&pool, IdleWait::Sleep, || {
            snn_sim::retest::retest(&run_dir, &overrides, &mut snn_sim::experiment::Silent, &stop)
        })
    })?;
    // A Ctrl-C is raised once the test has ended, before numpy is asked for arrays; a test that failed for another
    // reason raises that instead, with a note.
    let t = match (tested, signals.first) {
        (Ok(_), Some(e)) => {
            add_note(py, &e, "the test had finished: its row is in tests.csv");
            return Err(signals.ignored.noted_on(py, e));
        }
        (Err(SimError::TestStopped { done, total }), Some(e)) => {
            let text = format!("the test stopped after {done} of {total} images; tests.csv was not changed");
            add_note(py, &e, text);
            return Err(signals.ignored.noted_on(py, e));
        }
        (Err(other), Some(e)) => {
            let mut ignored = signals.ignored;
            ignored.push(py, &e);
            return Err(ignored.noted_on(py, to_py(other)));
        }
        (tested, None) => tested.map_err(to_py)?,
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
    let ((result, raised), signals) = wait_handling_signals(py, &stop, || {
        let mut callback = Callback {
            on_curve,
            stop: &stop,
            raised: None,
        };
        let result = run_in_pool(&pool, IdleWait::Sleep, || work(&mut callback, &stop));
        (result, callback.raised)
    })?;
    // Whichever asked the run to stop first: a signal that came after the callback's exception is among the
    // ignored ones, and the callback is not called once a signal has stopped the run (but for a race, noted too).
    let mut ignored = signals.ignored;
    let stopped_by = match (signals.first, raised) {
        (Some(e), Some(late)) => {
            ignored.push(py, &late);
            Some(e)
        }
        (first, raised) => first.or(raised),
    };
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
            Err(ignored.noted_on(py, attach_run(py, e, &dir, note)))
        }
        (Err(SimError::Interrupted { seen, dir }), Some(e)) => {
            let dir = dir.display().to_string();
            let note = format!(
                "the run stopped after {seen} training examples and saved a checkpoint in {dir}: continue it with \
                 snnsim.resume({dir:?}) or `snnsim run --resume {dir}`"
            );
            Err(ignored.noted_on(py, attach_run(py, e, &dir, note)))
        }
        (Err(e), Some(stopper)) => {
            ignored.push(py, &stopper);
            Err(ignored.noted_on(py, to_py(e)))
        }
        (Err(e), None) => Err(ignored.noted_on(py, to_py(e))),
    }
}

/// Runs `work` on a thread of its own with the GIL released. Python's main thread, where signal handlers run, sleeps
/// until it ends, waking every 50 ms to let Python handle signals: few enough wake-ups not to take a core from the
/// work. An exception raised there (a Ctrl-C's `KeyboardInterrupt`) sets `stop`; the first, if nothing had set
/// `stop` before it, is returned beside what `work` returns, for the caller to raise once `work` has ended, and so
/// is one raised by a signal that came in the work's last moments (it would otherwise be pending when the caller next
/// asks Python for anything). The others (a second Ctrl-C while the work stops, one after the callback's exception)
/// are only named: raised on top of the first, they would hide it and what is attached to it (`e.run`).
fn wait_handling_signals<T: Send>(
    py: Python<'_>,
    stop: &AtomicBool,
    work: impl FnOnce() -> T + Send,
) -> PyResult<(T, Signals)> {
    let mut signals = Signals {
        first: None,
        ignored: Ignored(Vec::new()),
    };
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
                signals.add(py, stop, e);
            }
        }
        handle.join()
    })
    .map_err(|_| PyRuntimeError::new_err("snnsim panicked; this is a bug in snnsim"))?;
    if let Err(e) = py.check_signals() {
        signals.add(py, stop, e);
    }
    Ok((result, signals))
}

/// The exceptions signals raised while Python waited for the work.
struct Signals {
    /// The one that stopped the work.
    first: Option<PyErr>,
    /// The others.
    ignored: Ignored,
}

impl Signals {
    fn add(&mut self, py: Python<'_>, stop: &AtomicBool, e: PyErr) {
        if stop.swap(true, Ordering::SeqCst) {
            self.ignored.push(py, &e);
        } else {
            self.first = Some(e);
        }
    }
}

/// The type names of exceptions that were not raised.
struct Ignored(Vec<String>);

impl Ignored {
    /// Adds `e`'s type name.
    fn push(&mut self, py: Python<'_>, e: &PyErr) {
        let name = e.get_type(py).name().map(|n| n.to_string());
        self.0.push(name.unwrap_or_else(|_| "an exception".into()));
    }

    /// `e`, with a note naming the exceptions that were not raised (if any).
    fn noted_on(&self, py: Python<'_>, e: PyErr) -> PyErr {
        if !self.0.is_empty() {
            let text = format!(
                "not raised, since the work was stopping or had failed already: {}",
                self.0.join(", ")
            );
            add_note(py, &e, text);
        }
        e
    }
}

/// Adds `text` to `e`'s notes (`BaseException.add_note`: Python 3.11 on; older ones have no notes, and nothing is
/// added).
fn add_note(py: Python<'_>, e: &PyErr, text: impl Into<String>) {
    let _ = e.value(py).call_method1(intern!(py, "add_note"), (text.into(),));
}

/// `e` with a note for the reader (Python 3.11+: `add_note`; older ones show the folder through `e.run` only) and the
/// run folder in its `snnsim_run_dir` attribute. Neither may replace the exception that stopped the run.
fn attach_run(py: Python<'_>, e: PyErr, dir: &str, note: String) -> PyErr {
    add_note(py, &e, note);
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
        // No user code runs once the run is stopping (its own exception, or a Ctrl-C, asked for it).
        if self.raised.is_some() || self.stop.load(Ordering::SeqCst) {
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
