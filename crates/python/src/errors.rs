//! snnsim's errors as Python exceptions, with the message the command line prints (less its `error: `).

use pyo3::PyErr;
use pyo3::exceptions::{
    PyBlockingIOError, PyFileNotFoundError, PyOSError, PyPermissionError, PyRuntimeError, PyValueError,
};
use snn_sim::SimError;
use snn_sim::model::ModelError;
use std::io::ErrorKind;

/// A bad model file or override is a `ValueError`; a missing model file a `FileNotFoundError`, an unreadable one a
/// `PermissionError` or `OSError`; a missing, unreadable or unwritable data or run file an `OSError`; a run folder
/// that another process is running a `BlockingIOError` (an `OSError`); anything else (a diverged run, data that do
/// not fit the network) a `RuntimeError`.
pub fn to_py(e: SimError) -> PyErr {
    let message = e.to_string();
    match e {
        SimError::Model(ModelError::Read { kind, .. }) => match kind {
            ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
            ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
            _ => PyOSError::new_err(message),
        },
        SimError::Model(_) | SimError::Init(_) => PyValueError::new_err(message),
        SimError::Data(_) | SimError::Output { .. } => PyOSError::new_err(message),
        SimError::Busy { .. } => PyBlockingIOError::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}
