//! A run folder's files as numpy arrays: the learning curve and alignment logs (`curve.csv`, `alignment.csv`), the
//! trained network (`weights.h5`, else the checkpoint), and the recorded examples of `rasters.h5` (layout:
//! `snn_sim::recorder`).

use crate::errors::to_py;
use hdf5::types::{TypeDescriptor, VarLenUnicode};
use ndarray::{Array1, Array2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray2};
use pyo3::exceptions::{PyKeyError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use snn_sim::SimError;
use snn_sim::export::weights::Weights;
use snn_sim::export::{TrainedNetwork, write_nir, write_weights};
use snn_sim::model::ModelFile;
use snn_sim::onsets::Onsets;
use std::path::{Path, PathBuf};

/// `curve.csv` as columns: `{examples, epoch, test_accuracy, test_examples, train_accuracy, elapsed_s, test_nse}`.
#[pyfunction]
pub fn read_curve<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let points = snn_sim::metrics::read_curve(&path).map_err(to_py)?;
    let columns = PyDict::new(py);
    let col_u = |f: fn(&snn_sim::metrics::CurvePoint) -> u64| points.iter().map(f).collect::<Vec<u64>>();
    let col_f = |f: fn(&snn_sim::metrics::CurvePoint) -> f64| points.iter().map(f).collect::<Vec<f64>>();
    columns.set_item("examples", col_u(|p| p.examples).into_pyarray(py))?;
    columns.set_item("epoch", col_u(|p| p.epoch as u64).into_pyarray(py))?;
    columns.set_item("test_accuracy", col_f(|p| p.test_accuracy).into_pyarray(py))?;
    columns.set_item("test_examples", col_u(|p| p.test_examples as u64).into_pyarray(py))?;
    columns.set_item("train_accuracy", col_f(|p| p.train_accuracy).into_pyarray(py))?;
    columns.set_item("elapsed_s", col_f(|p| p.elapsed_s).into_pyarray(py))?;
    columns.set_item("test_nse", col_f(|p| p.test_nse).into_pyarray(py))?;
    Ok(columns)
}

/// A confusion matrix file (`confusion.csv`, or one written by `snnsim test --confusion`) as its `[classes,
/// classes + 1]` counts: row = true class, column = answer, the last column the images that named no class.
#[pyfunction]
pub fn read_confusion<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let m = snn_sim::confusion::Confusion::read(&path).map_err(to_py)?;
    Ok(m.counts().into_pyarray(py))
}

/// `alignment.csv` as columns: `{examples, population, angle_deg, samples, angle_sd_deg, folded_deg,
/// weight_angle_deg, unit_angle_deg, probe_first_deg, probe_mean_deg}`.
#[pyfunction]
pub fn read_alignment<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let points = snn_sim::metrics::read_alignment(&path).map_err(to_py)?;
    let columns = PyDict::new(py);
    let examples: Vec<u64> = points.iter().map(|p| p.examples).collect();
    let angles: Vec<f64> = points.iter().map(|p| p.angle_deg).collect();
    let samples: Vec<u64> = points.iter().map(|p| p.samples).collect();
    let populations: Vec<&str> = points.iter().map(|p| p.population.as_str()).collect();
    columns.set_item("examples", examples.into_pyarray(py))?;
    columns.set_item("population", PyList::new(py, populations)?)?;
    columns.set_item("angle_deg", angles.into_pyarray(py))?;
    columns.set_item("samples", samples.into_pyarray(py))?;
    let col_f = |f: fn(&snn_sim::alignment::AlignmentPoint) -> f64| points.iter().map(f).collect::<Vec<f64>>();
    columns.set_item("angle_sd_deg", col_f(|p| p.angle_sd_deg).into_pyarray(py))?;
    columns.set_item("folded_deg", col_f(|p| p.folded_deg).into_pyarray(py))?;
    columns.set_item("weight_angle_deg", col_f(|p| p.weight_angle_deg).into_pyarray(py))?;
    columns.set_item("unit_angle_deg", col_f(|p| p.unit_angle_deg).into_pyarray(py))?;
    columns.set_item("probe_first_deg", col_f(|p| p.probe_first_deg).into_pyarray(py))?;
    columns.set_item("probe_mean_deg", col_f(|p| p.probe_mean_deg).into_pyarray(py))?;
    Ok(columns)
}

/// One forward layer: `(pre, post, W [post, pre], b [post])`.
type LayerTuple<'py> = (String, String, Bound<'py, PyArray2<f32>>, Bound<'py, PyArray1<f32>>);
/// Onsets as `(steps, cells)`.
type OnsetArrays<'py> = (Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<u32>>);
/// One feedback matrix: `(hidden, from, reach, B [hidden, from])`.
type FeedbackTuple<'py> = (String, String, String, Bound<'py, PyArray2<f32>>);

/// The trained network of the run folder `run_dir`: from its `weights.h5`, else (an interrupted run, or one resumed
/// since `weights.h5` was exported) from its checkpoint: `(forward layers, feedback matrices, examples_seen,
/// training_done)`.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn weights<'py>(
    py: Python<'py>,
    run_dir: PathBuf,
) -> PyResult<(Vec<LayerTuple<'py>>, Vec<FeedbackTuple<'py>>, u64, bool)> {
    let file = run_dir.join("weights.h5");
    let modified = |f: &std::path::Path| std::fs::metadata(f).and_then(|m| m.modified()).ok();
    // A checkpoint newer than weights.h5 holds a later state (the end of training writes both).
    let stale = match (modified(&file), modified(&run_dir.join("checkpoint.bin"))) {
        (Some(w), Some(c)) => c > w,
        _ => false,
    };
    let w = py
        .detach(|| {
            if file.exists() && !stale {
                Weights::read(&file)
            } else {
                TrainedNetwork::load(&run_dir)
                    .map(|t| Weights::of(&t.model, &t.network, t.examples_seen, t.training_done))
            }
        })
        .map_err(to_py)?;
    py.check_signals()?;
    let forward = w
        .forward
        .into_iter()
        .map(|l| (l.pre, l.post, l.w.into_pyarray(py), l.b.into_pyarray(py)))
        .collect();
    let feedback = w
        .feedback
        .into_iter()
        .map(|f| (f.hidden, f.from, f.reach, f.b.into_pyarray(py)))
        .collect();
    Ok((forward, feedback, w.examples_seen, w.training_done))
}

/// `snnsim export weights RUN -o OUT`; returns whether the checkpoint was the end of training.
#[pyfunction]
pub fn export_weights(py: Python<'_>, run_dir: PathBuf, out: PathBuf) -> PyResult<bool> {
    py.detach(|| write_weights(&run_dir, &out))
        .map(|t| t.training_done)
        .map_err(to_py)
}

/// `snnsim export nir RUN -o OUT`; returns whether the checkpoint was the end of training.
#[pyfunction]
pub fn export_nir(py: Python<'_>, run_dir: PathBuf, out: PathBuf) -> PyResult<bool> {
    py.detach(|| write_nir(&run_dir, &out))
        .map(|t| t.training_done)
        .map_err(to_py)
}

fn h5(path: &Path, doing: &str) -> impl FnOnce(hdf5::Error) -> PyErr {
    let where_ = path.display().to_string();
    let doing = doing.to_string();
    move |e| PyOSError::new_err(format!("{where_}: HDF5 error while {doing}: {e}"))
}

fn open(path: &Path) -> PyResult<hdf5::File> {
    if !path.exists() {
        return Err(PyOSError::new_err(format!(
            "{}: no such file (rate networks record no rasters)",
            path.display()
        )));
    }
    hdf5::File::open(path).map_err(h5(path, "opening the raster file"))
}

/// The recorded examples of the raster file `path`, e.g. `train/00000000`, `test/00000`, in file order.
#[pyfunction]
pub fn examples(path: PathBuf) -> PyResult<Vec<String>> {
    let file = open(&path)?;
    let mut names = Vec::new();
    for phase in ["train", "test"] {
        if let Ok(g) = file.group(phase) {
            let mut members = g.member_names().map_err(h5(&path, "listing the examples"))?;
            members.sort();
            names.extend(members.into_iter().map(|m| format!("{phase}/{m}")));
        }
    }
    Ok(names)
}

fn example_group(file: &hdf5::File, path: &Path, example: &str) -> PyResult<hdf5::Group> {
    file.group(example).map_err(|_| {
        PyKeyError::new_err(format!(
            "{}: no recorded example {example:?} (Run.examples() lists them)",
            path.display()
        ))
    })
}

fn populations(file: &hdf5::File, path: &Path) -> PyResult<Vec<String>> {
    Ok(file
        .attr("populations")
        .and_then(|a| a.read_raw::<VarLenUnicode>())
        .map_err(h5(path, "reading the populations attribute"))?
        .iter()
        .map(|s| s.as_str().to_string())
        .collect())
}

/// What the file says of one example: `phase`, `dataset_index`, `label`, `predicted` (−1 on a tie),
/// `output_counts`, the file's `dt_ms` and `steps`, and `input` (the graded input, when it was recorded).
#[pyfunction]
pub fn example_info<'py>(py: Python<'py>, path: PathBuf, example: String) -> PyResult<Bound<'py, PyDict>> {
    let file = open(&path)?;
    let g = example_group(&file, &path, &example)?;
    let read = || -> hdf5::Result<_> {
        Ok((
            g.attr("phase")?.read_scalar::<VarLenUnicode>()?.as_str().to_string(),
            g.attr("dataset_index")?.read_scalar::<u64>()?,
            g.attr("label")?.read_scalar::<u8>()?,
            g.attr("predicted")?.read_scalar::<i64>()?,
            g.attr("output_counts")?.read_raw::<f32>()?,
            file.attr("dt_ms")?.read_scalar::<f64>()?,
            file.attr("steps")?.read_scalar::<u64>()?,
        ))
    };
    let (phase, index, label, predicted, counts, dt_ms, steps) = read().map_err(h5(&path, "reading an example"))?;
    let info = PyDict::new(py);
    info.set_item("phase", phase)?;
    info.set_item("dataset_index", index)?;
    info.set_item("label", label)?;
    info.set_item("predicted", predicted)?;
    info.set_item("output_counts", counts.into_pyarray(py))?;
    info.set_item("dt_ms", dt_ms)?;
    info.set_item("steps", steps)?;
    if let Ok(ds) = g.dataset("input")
        && ds.ndim() == 1
    {
        let input: Array1<f32> = ds.read_1d().map_err(h5(&path, "reading the input"))?;
        info.set_item("input", input.into_pyarray(py))?;
    }
    Ok(info)
}

/// The spike rasters of `example` by population (`bool [steps, cells]`, true while a = 1), in raster order.
fn read_rasters(file: &hdf5::File, path: &Path, example: &str) -> PyResult<Vec<(String, Array2<bool>)>> {
    let g = example_group(file, path, example)?;
    let mut rasters = Vec::new();
    for pop in populations(file, path)? {
        let Ok(ds) = g.dataset(&pop) else { continue };
        let boolean = matches!(ds.dtype().and_then(|t| t.to_descriptor()), Ok(TypeDescriptor::Boolean));
        if ds.ndim() == 2 && boolean {
            rasters.push((pop, ds.read_2d::<bool>().map_err(h5(path, "reading a raster"))?));
        }
    }
    Ok(rasters)
}

/// The spike rasters of `example` by population (`bool [steps, cells]`).
#[pyfunction]
pub fn rasters<'py>(py: Python<'py>, path: PathBuf, example: String) -> PyResult<Bound<'py, PyDict>> {
    let file = open(&path)?;
    let out = PyDict::new(py);
    for (pop, r) in read_rasters(&file, &path, &example)? {
        out.set_item(pop, r.into_pyarray(py))?;
    }
    Ok(out)
}

/// The steps a spike lasts in the run that wrote `file`, and whether a pulse may have begun before a recorded
/// presentation (cells not reset between examples), read from its model.
fn pulse_rule(file: &hdf5::File, path: &Path) -> PyResult<(usize, bool)> {
    let model_text = file
        .attr("model")
        .and_then(|a| a.read_scalar::<VarLenUnicode>())
        .map_err(h5(path, "reading the model attribute"))?;
    let model = ModelFile::from_ron(model_text.as_str(), path)
        .and_then(|m| m.check())
        .map_err(|e| to_py(SimError::Model(e)))?;
    Ok((
        snn_sim::recorder::pulse_steps(&model),
        !model.protocol().reset_between_examples,
    ))
}

/// Spike onsets of `example` by population: `(steps u32, cells u32)`, one entry per spike, ordered by step then cell.
/// Read from the file's `onsets` group, or found in the rasters of a file written before it existed.
#[pyfunction]
pub fn onsets<'py>(py: Python<'py>, path: PathBuf, example: String) -> PyResult<Bound<'py, PyDict>> {
    let file = open(&path)?;
    let g = example_group(&file, &path, &example)?;
    let out = PyDict::new(py);
    if let Ok(og) = g.group("onsets") {
        for pop in populations(&file, &path)? {
            let Ok(ds) = og.dataset(&pop) else { continue };
            let table: Array2<u32> = ds.read_2d().map_err(h5(&path, "reading spike onsets"))?;
            let steps = table.column(0).to_vec();
            let cells = table.column(1).to_vec();
            out.set_item(pop, (steps.into_pyarray(py), cells.into_pyarray(py)))?;
        }
        return Ok(out);
    }
    let (pulse, carried_in) = pulse_rule(&file, &path)?;
    for (pop, r) in read_rasters(&file, &path, &example)? {
        let o = Onsets::of(r.view(), pulse, carried_in);
        out.set_item(pop, (o.steps.into_pyarray(py), o.cells.into_pyarray(py)))?;
    }
    Ok(out)
}

/// The onsets of a `bool [steps, cells]` raster whose spikes last `pulse` steps (`carried_in`: a pulse may have begun
/// before the raster): `(steps, cells)`.
#[pyfunction]
pub fn onsets_of<'py>(
    py: Python<'py>,
    raster: PyReadonlyArray2<'py, bool>,
    pulse: usize,
    carried_in: bool,
) -> PyResult<OnsetArrays<'py>> {
    if pulse == 0 {
        return Err(PyValueError::new_err("pulse_steps must be at least 1"));
    }
    let o = Onsets::of(raster.as_array(), pulse, carried_in);
    Ok((o.steps.into_pyarray(py), o.cells.into_pyarray(py)))
}

/// The state traces of `example` (`record.traces`): a list of dicts `{population, variable, cells, values
/// [samples, cells], every_steps, dt_ms, unit}`.
#[pyfunction]
pub fn traces<'py>(py: Python<'py>, path: PathBuf, example: String) -> PyResult<Bound<'py, PyList>> {
    let file = open(&path)?;
    let g = example_group(&file, &path, &example)?;
    let out = PyList::empty(py);
    let Ok(tg) = g.group("traces") else { return Ok(out) };
    let err = h5(&path, "reading traces");
    struct Row {
        population: String,
        variable: String,
        cells: Vec<u64>,
        values: Array2<f32>,
        every_steps: u64,
        dt_ms: f64,
        unit: String,
    }
    let read = || -> hdf5::Result<Vec<Row>> {
        let mut all = Vec::new();
        let mut pops = tg.member_names()?;
        pops.sort();
        for pop in pops {
            let pg = tg.group(&pop)?;
            for variable in pg.member_names()? {
                let ds = pg.dataset(&variable)?;
                all.push(Row {
                    population: pop.clone(),
                    variable,
                    cells: ds.attr("cells")?.read_raw::<u64>()?,
                    values: ds.read_2d::<f32>()?,
                    every_steps: ds.attr("every_steps")?.read_scalar::<u64>()?,
                    dt_ms: ds.attr("dt_ms")?.read_scalar::<f64>()?,
                    unit: ds.attr("unit")?.read_scalar::<VarLenUnicode>()?.as_str().to_string(),
                });
            }
        }
        Ok(all)
    };
    for row in read().map_err(err)? {
        let t = PyDict::new(py);
        t.set_item("population", row.population)?;
        t.set_item("variable", row.variable)?;
        t.set_item("cells", row.cells.into_pyarray(py))?;
        t.set_item("values", row.values.into_pyarray(py))?;
        t.set_item("every_steps", row.every_steps)?;
        t.set_item("dt_ms", row.dt_ms)?;
        t.set_item("unit", row.unit)?;
        out.append(t)?;
    }
    Ok(out)
}
