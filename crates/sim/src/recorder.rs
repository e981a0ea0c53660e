//! Spike rasters in HDF5: one file per run (`rasters.h5`), layout documented in the README.
//!
//! ```text
//! /                      attrs: snnsim_version, dt_ms (1 in stochastic binary networks: time in steps), steps,
//!                               settle_steps, seed, model (RON text),
//!                               populations (recorded names, raster order)
//! /train/<presentation>  one group per recorded training presentation (8-digit, counted over the run)
//! /test/<index>          one group per recorded test image (5-digit test-set index), final test
//!     attrs: phase, dataset_index, label, predicted (−1 on a tie), output_counts
//!     input      f32 [features]        graded input (constant over the presentation); bool [steps, features] when the
//!                                      input spikes (stochastic binary networks)
//!     hidden1 …  bool [steps, cells]   a = 1 in that step (spiking populations and the error pools)
//!     output, error_exc, error_inh
//!       attrs: dt_ms, unit, pulse_steps (steps a spike keeps a = 1: t_ref / Δt in LIF networks, 1 in stochastic
//!              binary ones)
//!     onsets/<population>  u32 [spikes, 2]   one row (step, cell) per spike, at its first step (`crate::onsets`),
//!                                      ordered by step, then cell; the onsets group has attrs: pulse_steps
//!     traces/<population>/<variable>   f32 [samples, cells]   state traces (record.traces): v, h, a, iota, delta
//!       attrs: cells (indices), every_steps, dt_ms, unit        sample k is step k · every_steps
//! ```
//!
//! Spike datasets are chunked (`[steps, ≤ 256 cells]`) and compressed (shuffle + deflate 4). The file keeps HDF5's
//! 1.8 format (no write-access flag that a crashed run would leave set, so a file cut short still opens), with the
//! B-trees of chunk indexes and groups made small (`istore_k` 2, `sym_k` 4): at the defaults, the index nodes of an
//! example's many small datasets cost more than their data (48 KB instead of 28 KB per example of 784-100-10).

use crate::error::SimError;
use crate::model::Model;
use crate::onsets::Onsets;
use crate::probe::{Probe, StepView, Values};
use crate::roster::{PopId, Variable};
use hdf5::types::VarLenUnicode;
use ndarray::{Array1, Array2};
use std::path::{Path, PathBuf};

/// An open raster file.
pub struct RasterFile {
    file: hdf5::File,
    path: PathBuf,
    dt_ms: f64,
    every: usize,
    pulse: usize,
    carried_in: bool,
}

/// An HDF5 error met while `doing` something to the file at `path`. HDF5 reports a full disk only deep in its error
/// stack (`errno = 28` in its POSIX driver's frame; the message on top is about its metadata cache), so the whole
/// stack is searched, and the file system asked, before the error is shown as HDF5 gives it.
pub(crate) fn h5err(path: &Path, doing: &str, e: hdf5::Error) -> SimError {
    use crate::error::{filesystem_full, full_disk_in_text};
    let in_stack = || {
        e.stack()
            .and_then(|frames| frames.iter().find_map(|f| full_disk_in_text(f.desc())))
    };
    match in_stack().or_else(|| filesystem_full(path)) {
        Some(full) => SimError::output(path, format!("{full} while {doing}")),
        None => SimError::output(path, format!("HDF5 error while {doing}: {e}")),
    }
}

pub(crate) fn text(s: &str) -> VarLenUnicode {
    // Model text and names never contain NUL bytes; replace them defensively.
    s.replace('\0', " ").parse().unwrap_or_default()
}

/// The `dt_ms` attribute: Δt of LIF networks; 1 for stochastic binary networks, whose steps are discrete (their time
/// axes are in steps).
fn step_ms(model: &Model) -> f64 {
    match model.bernoulli() {
        Some(_) => 1.0,
        None => f64::from(model.protocol().dt),
    }
}

/// The steps a spike keeps the activity at 1: the refractory period of LIF cells (SPEC §1), one step for stochastic
/// binary units (SPEC §5.4). Onsets are counted by it ([`crate::onsets`]).
pub fn pulse_steps(model: &Model) -> usize {
    match model.bernoulli() {
        Some(_) => 1,
        None => model.lif().refractory_steps() as usize,
    }
}

/// What is known about a recorded example besides its rasters.
#[derive(Clone, Debug, PartialEq)]
pub struct ExampleMeta {
    /// `train` or `test`.
    pub phase: &'static str,
    /// Presentation number (train) or test-set index (test).
    pub ordinal: u64,
    /// Index of the example in its dataset.
    pub dataset_index: usize,
    /// Its label.
    pub label: u8,
    /// The network's answer, `None` on a tie.
    pub predicted: Option<usize>,
    /// Output spike counts over t > settle.
    pub output_counts: Vec<f32>,
}

impl RasterFile {
    /// Creates `path` (truncating nothing: the file must not exist) with the run-level attributes.
    pub fn create(path: &Path, model: &Model) -> Result<Self, SimError> {
        if path.exists() {
            return Err(SimError::output(path, "exists already; refusing to overwrite"));
        }
        let file = hdf5::File::with_options()
            .with_fcpl(|p| p.istore_k(2).sym_k(4, 4))
            .create_excl(path)
            .map_err(|e| h5err(path, "creating the raster file", e))?;
        let dt_ms = step_ms(model);
        let attrs = || -> hdf5::Result<()> {
            file.new_attr::<VarLenUnicode>()
                .create("snnsim_version")?
                .write_scalar(&text(env!("CARGO_PKG_VERSION")))?;
            file.new_attr::<f64>().create("dt_ms")?.write_scalar(&dt_ms)?;
            file.new_attr::<u64>()
                .create("steps")?
                .write_scalar(&(model.steps() as u64))?;
            file.new_attr::<u64>()
                .create("settle_steps")?
                .write_scalar(&(model.settle_steps() as u64))?;
            file.new_attr::<u64>().create("seed")?.write_scalar(&model.seed())?;
            file.new_attr::<VarLenUnicode>()
                .create("model")?
                .write_scalar(&text(&model.to_ron()))?;
            let names: Vec<VarLenUnicode> = model.recorded_populations().iter().map(|n| text(n)).collect();
            file.new_attr_builder().with_data(&names).create("populations")?;
            Ok(())
        };
        attrs().map_err(|e| h5err(path, "writing the run's attributes", e))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            dt_ms,
            every: model.record().trace_every.max(1),
            pulse: pulse_steps(model),
            carried_in: !model.protocol().reset_between_examples,
        })
    }

    /// Reopens the raster file of an interrupted run to continue it: examples recorded after `seen` training
    /// presentations (which the resumed run records again) and the final test's examples are removed. Creates the
    /// file if it is missing.
    ///
    /// A file HDF5 can no longer open or prune (an example left half-written, e.g. when the disk filled up) is kept
    /// beside the new one as `rasters.h5.damaged` (`.damaged.2`, … if that exists), and the resumed run records into a
    /// new file: nothing already written is lost, and the run can continue.
    pub fn reopen(path: &Path, model: &Model, seen: u64) -> Result<Self, SimError> {
        if !path.exists() {
            return Self::create(path, model);
        }
        match Self::prune(path, seen) {
            Ok(file) => Ok(Self {
                file,
                path: path.to_path_buf(),
                dt_ms: step_ms(model),
                every: model.record().trace_every.max(1),
                pulse: pulse_steps(model),
                carried_in: !model.protocol().reset_between_examples,
            }),
            Err(damaged) => {
                let aside = (1..)
                    .map(|k| match k {
                        1 => path.with_extension("h5.damaged"),
                        k => path.with_extension(format!("h5.damaged.{k}")),
                    })
                    .find(|p| !p.exists())
                    .expect("a free name");
                std::fs::rename(path, &aside).map_err(|e| {
                    SimError::output(
                        path,
                        format!("{damaged}; and it cannot be set aside as {}: {e}", aside.display()),
                    )
                })?;
                Self::create(path, model)
            }
        }
    }

    /// The raster file at `path` opened for writing, with the examples recorded after `seen` training presentations
    /// and the final test's removed.
    fn prune(path: &Path, seen: u64) -> Result<hdf5::File, SimError> {
        let file = hdf5::File::open_rw(path).map_err(|e| h5err(path, "opening the raster file to continue it", e))?;
        let prune = || -> hdf5::Result<()> {
            if let Ok(train) = file.group("train") {
                for name in train.member_names()? {
                    if name.parse::<u64>().map_or(true, |ord| ord >= seen) {
                        train.unlink(&name)?;
                    }
                }
            }
            if file.link_exists("test") {
                file.unlink("test")?;
            }
            file.flush()
        };
        prune().map_err(|e| h5err(path, "removing the examples recorded after the checkpoint", e))?;
        Ok(file)
    }

    /// Path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one example's captured rasters and flushes the file.
    pub fn write_example(&self, meta: &ExampleMeta, raster: &CapturedExample) -> Result<(), SimError> {
        let name = match meta.phase {
            "train" => format!("train/{:08}", meta.ordinal),
            _ => format!("{}/{:05}", meta.phase, meta.ordinal),
        };
        let write = || -> hdf5::Result<()> {
            let parent = match self.file.group(meta.phase) {
                Ok(g) => g,
                Err(_) => self.file.create_group(meta.phase)?,
            };
            let g = parent.create_group(name.rsplit('/').next().unwrap_or(&name))?;
            g.new_attr::<VarLenUnicode>()
                .create("phase")?
                .write_scalar(&text(meta.phase))?;
            g.new_attr::<u64>()
                .create("dataset_index")?
                .write_scalar(&(meta.dataset_index as u64))?;
            g.new_attr::<u8>().create("label")?.write_scalar(&meta.label)?;
            let predicted = meta.predicted.map_or(-1i64, |p| p as i64);
            g.new_attr::<i64>().create("predicted")?.write_scalar(&predicted)?;
            g.new_attr_builder()
                .with_data(&meta.output_counts)
                .create("output_counts")?;
            if let Some(input) = &raster.input {
                g.new_dataset_builder().with_data(input).create("input")?;
            }
            for (pop, r) in &raster.rasters {
                let cells = r.ncols().max(1);
                let ds = g
                    .new_dataset_builder()
                    .with_data(r)
                    .chunk((r.nrows().max(1), cells.min(256)))
                    .shuffle()
                    .deflate(4)
                    .create(pop.as_str())?;
                ds.new_attr::<f64>().create("dt_ms")?.write_scalar(&self.dt_ms)?;
                ds.new_attr::<VarLenUnicode>()
                    .create("unit")?
                    .write_scalar(&text("true = the cell's activity a is 1 (spiking) during that step"))?;
                ds.new_attr::<u64>()
                    .create("pulse_steps")?
                    .write_scalar(&(self.pulse as u64))?;
            }
            if !raster.rasters.is_empty() {
                let og = g.create_group("onsets")?;
                og.new_attr::<u64>()
                    .create("pulse_steps")?
                    .write_scalar(&(self.pulse as u64))?;
                for (pop, r) in &raster.rasters {
                    let onsets = Onsets::of(r.view(), self.pulse, self.carried_in);
                    let table = Array2::from_shape_fn((onsets.len(), 2), |(i, j)| match j {
                        0 => onsets.steps[i],
                        _ => onsets.cells[i],
                    });
                    let builder = og.new_dataset_builder().with_data(&table);
                    // HDF5 cannot chunk an empty dataset; a silent population's table is stored as it is.
                    match table.nrows() {
                        0 => builder.create(pop.as_str())?,
                        n => builder
                            .chunk((n.min(1 << 15), 2))
                            .shuffle()
                            .deflate(4)
                            .create(pop.as_str())?,
                    };
                }
            }
            if !raster.traces.is_empty() {
                let tg = g.create_group("traces")?;
                for t in &raster.traces {
                    let pg = match tg.group(&t.population) {
                        Ok(pg) => pg,
                        Err(_) => tg.create_group(&t.population)?,
                    };
                    let ds = pg
                        .new_dataset_builder()
                        .with_data(&t.values)
                        .create(t.variable.name())?;
                    let cells: Vec<u64> = t.cells.iter().map(|&c| c as u64).collect();
                    ds.new_attr_builder().with_data(&cells).create("cells")?;
                    ds.new_attr::<u64>()
                        .create("every_steps")?
                        .write_scalar(&(self.every as u64))?;
                    ds.new_attr::<f64>().create("dt_ms")?.write_scalar(&self.dt_ms)?;
                    ds.new_attr::<VarLenUnicode>()
                        .create("unit")?
                        .write_scalar(&text(t.variable.unit()))?;
                }
            }
            self.file.flush()
        };
        write().map_err(|e| h5err(&self.path, &format!("writing the rasters of {name}"), e))
    }

    /// Flushes and closes the file.
    pub fn close(self) -> Result<(), SimError> {
        self.file
            .flush()
            .map_err(|e| h5err(&self.path, "flushing the raster file", e))?;
        self.file
            .close()
            .map_err(|e| h5err(&self.path, "closing the raster file", e))
    }
}

/// The rasters of one example captured during a presentation.
#[derive(Clone, Debug, PartialEq)]
pub struct CapturedExample {
    /// Graded input, if `input` was recorded.
    pub input: Option<Array1<f32>>,
    /// `(population name, [steps, cells] raster)` in raster order.
    pub rasters: Vec<(String, Array2<bool>)>,
    /// State traces (`record.traces`).
    pub traces: Vec<Trace>,
}

/// One variable of chosen cells over a presentation.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Population name.
    pub population: String,
    /// The population in the roster.
    pub pop: PopId,
    /// The variable.
    pub variable: Variable,
    /// Cell indices.
    pub cells: Vec<usize>,
    /// `[samples, cells]`, one sample every `record.trace_every` steps from step 0.
    pub values: Array2<f32>,
}

/// A [`Probe`] that captures the rasters and state traces of chosen batch slots.
pub struct RasterCapture {
    /// Populations whose activity is recorded as a raster (every recorded one but the graded input), by id and name.
    pops: Vec<(PopId, String)>,
    /// The input population, if it is recorded (its graded values once, at step 0).
    input: Option<PopId>,
    every: usize,
    /// Batch slots recorded, and their captures.
    slots: Vec<(usize, CapturedExample)>,
}

impl RasterCapture {
    /// Captures `record.populations` and `record.traces` of `model` for the batch `slots`, over presentations of
    /// `steps` steps. Spiking populations are captured as rasters; a graded input once, at step 0; populations that
    /// neither spike nor are the input (feedback units) only through traces.
    pub fn new(model: &Model, slots: &[usize], steps: usize) -> Self {
        let roster = model.roster();
        let recorded = model.recorded_populations();
        let chosen = |name: &String| recorded.contains(name);
        let input = Some(roster.input()).filter(|&id| chosen(&roster.get(id).name) && !roster.get(id).spiking);
        let pops: Vec<(PopId, String)> = roster
            .iter()
            .filter(|(id, p)| Some(*id) != input && p.spiking && chosen(&p.name))
            .map(|(id, p)| (id, p.name.clone()))
            .collect();
        let slots = slots
            .iter()
            .map(|&s| {
                let rasters = pops
                    .iter()
                    .map(|(id, n)| (n.clone(), Array2::from_elem((steps, roster.get(*id).cells), false)))
                    .collect();
                let capture = CapturedExample {
                    input: None,
                    rasters,
                    traces: trace_buffers(model, steps),
                };
                (s, capture)
            })
            .collect();
        Self {
            pops,
            input,
            every: model.record().trace_every.max(1),
            slots,
        }
    }

    /// True if no slot is recorded.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The captures, by batch slot.
    pub fn into_captures(self) -> Vec<(usize, CapturedExample)> {
        self.slots
    }
}

fn trace_buffers(model: &Model, steps: usize) -> Vec<Trace> {
    let roster = model.roster();
    let every = model.record().trace_every.max(1);
    let samples = steps.div_ceil(every);
    model
        .record()
        .traces
        .iter()
        .flat_map(|spec| {
            let pop = roster.find(&spec.population).expect("checked population");
            spec.variables.iter().map(move |&variable| Trace {
                population: spec.population.clone(),
                pop,
                variable,
                cells: spec.cells.clone(),
                values: Array2::zeros((samples, spec.cells.len())),
            })
        })
        .collect()
}

fn copy_row(dst: &mut Array2<bool>, step: usize, src: Values<'_>, slot: usize) {
    for (d, a) in dst.row_mut(step).iter_mut().zip(src.row(slot)) {
        *d = a > 0.5;
    }
}

impl Probe for RasterCapture {
    fn wants_teaching(&self) -> bool {
        self.slots
            .iter()
            .any(|(_, cap)| cap.traces.iter().any(|t| t.variable.is_teaching()))
    }

    fn after_step(&mut self, step: usize, view: &dyn StepView) {
        for (slot, cap) in &mut self.slots {
            if let (0, Some(input)) = (step, self.input) {
                cap.input = Some(view.activity(input).row(*slot).collect());
            }
            for ((pop, _), (_, raster)) in self.pops.iter().zip(cap.rasters.iter_mut()) {
                copy_row(raster, step, view.activity(*pop), *slot);
            }
            if step.is_multiple_of(self.every) {
                let row = step / self.every;
                for t in &mut cap.traces {
                    // ι and δ are absent on steps where the layer does not learn: recorded as 0.
                    let source = view.values(t.pop, t.variable);
                    for (k, &c) in t.cells.iter().enumerate() {
                        t.values[[row, k]] = source.as_ref().map_or(0.0, |a| a.get(*slot, c));
                    }
                }
            }
        }
    }
}
