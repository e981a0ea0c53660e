//! `snnsim._snnsim`: the compiled half of the Python package `snnsim` (see `python/snnsim/__init__.py` for the
//! documented interface). It runs models through the same library calls as the `snnsim` command line, with the GIL
//! released while simulating, and reads a run folder's files into numpy arrays.

mod errors;
mod reading;
mod running;

use pyo3::prelude::*;

/// The compiled module.
#[pymodule]
fn _snnsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("COMMIT", snn_sim::run::COMMIT)?;
    m.add_function(wrap_pyfunction!(running::check, m)?)?;
    m.add_function(wrap_pyfunction!(running::run, m)?)?;
    m.add_function(wrap_pyfunction!(running::resume, m)?)?;
    m.add_function(wrap_pyfunction!(running::retest, m)?)?;
    m.add_function(wrap_pyfunction!(reading::read_curve, m)?)?;
    m.add_function(wrap_pyfunction!(reading::read_alignment, m)?)?;
    m.add_function(wrap_pyfunction!(reading::read_confusion, m)?)?;
    m.add_function(wrap_pyfunction!(reading::weights, m)?)?;
    m.add_function(wrap_pyfunction!(reading::export_weights, m)?)?;
    m.add_function(wrap_pyfunction!(reading::export_nir, m)?)?;
    m.add_function(wrap_pyfunction!(reading::examples, m)?)?;
    m.add_function(wrap_pyfunction!(reading::example_info, m)?)?;
    m.add_function(wrap_pyfunction!(reading::rasters, m)?)?;
    m.add_function(wrap_pyfunction!(reading::onsets, m)?)?;
    m.add_function(wrap_pyfunction!(reading::onsets_of, m)?)?;
    m.add_function(wrap_pyfunction!(reading::traces, m)?)?;
    Ok(())
}
