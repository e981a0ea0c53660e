//! snnsim's errors as Python exceptions, with the message the command line prints (less its `error: `).

use pyo3::PyErr;
use pyo3::exceptions::{PyBlockingIOError, PyOSError, PyRuntimeError, PyValueError};
use snn_sim::SimError;

/// A bad model file or override is a `ValueError`; a missing, unreadable or unwritable file an `OSError`; a run folder
/// that another process is running a `BlockingIOError` (an `OSError`); anything else (a diverged run, data that do
/// not fit the network) a `RuntimeError`.
pub fn to_py(e: SimError) -> PyErr {
    let message = e.to_string();
    match e {
        SimError::Model(_) | SimError::Init(_) => PyValueError::new_err(message),
        SimError::Data(_) | SimError::Output { .. } => PyOSError::new_err(message),
        SimError::Busy { .. } => PyBlockingIOError::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}
