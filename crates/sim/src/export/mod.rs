//! The trained network of a run, written in open formats that need neither snnsim nor Rust to read:
//! [`weights`] (`weights.h5`: every W, b and B by population name) and [`nir`] (the Neuromorphic Intermediate
//! Representation, read by snnTorch, Norse, Lava, Rockpool, Sinabs, Spyx and SpiNNaker2).

pub mod nir;
pub mod weights;

use crate::checkpoint::Checkpoint;
use crate::error::SimError;
use crate::model::{Model, ModelFile};
use crate::network::Network;
use std::path::Path;

/// The network held by a run folder's checkpoint, with the model it belongs to.
pub struct TrainedNetwork {
    /// The run's resolved model (`model.ron`).
    pub model: Model,
    /// Weights, biases and feedback at the checkpoint.
    pub network: Network,
    /// Training examples seen when the checkpoint was taken.
    pub examples_seen: u64,
    /// Whether the checkpoint is the one taken at the end of training (rather than one taken on the way).
    pub training_done: bool,
}

impl TrainedNetwork {
    /// Reads `model.ron` and `checkpoint.bin` of the run folder `dir`.
    pub fn load(dir: &Path) -> Result<Self, SimError> {
        let model_path = dir.join("model.ron");
        if !model_path.exists() {
            return Err(SimError::output(dir, "not a run folder: it has no model.ron"));
        }
        let model = ModelFile::from_path(&model_path)?.check_file(&model_path)?;
        let checkpoint_path = dir.join("checkpoint.bin");
        if !checkpoint_path.exists() {
            let why = if model.trials() > 1 {
                "the run has several trials, which keep no checkpoint (run one trial with --set trials=1)"
            } else {
                "it has no checkpoint.bin (the run stopped before its first checkpoint)"
            };
            return Err(SimError::output(dir, format!("no trained network to export: {why}")));
        }
        Self::from_checkpoint(model, Checkpoint::read(&checkpoint_path)?, &checkpoint_path)
    }

    /// The network of `checkpoint`, which must have been taken for `model` (`path` names it in errors).
    pub fn from_checkpoint(model: Model, checkpoint: Checkpoint, path: &Path) -> Result<Self, SimError> {
        if !checkpoint.was_taken_for(&model) {
            return Err(SimError::output(
                path,
                "the checkpoint was taken for another model than the folder's model.ron",
            ));
        }
        let epochs_done = checkpoint.progress.epoch >= model.protocol().epochs;
        Ok(Self {
            examples_seen: checkpoint.progress.seen,
            training_done: epochs_done,
            network: checkpoint.network,
            model,
        })
    }
}

/// Refuses an output file whose folder does not exist, naming the folder (rather than the temporary file HDF5 could
/// not create in it).
pub(crate) fn check_parent(out: &Path) -> Result<(), SimError> {
    match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => Err(SimError::output(
            out,
            format!("cannot write it: the folder {} does not exist", dir.display()),
        )),
        _ => Ok(()),
    }
}

/// Refuses an export onto one of the files a run keeps in its folder (`crate::run::RECORD_FILES`) other than
/// `allowed`: `snnsim export weights RUN -o RUN/summary.json` would replace the run's record with an HDF5 file.
fn refuse_run_record(run: &Path, out: &Path, allowed: Option<&str>) -> Result<(), SimError> {
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let folder = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let same = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y);
    if crate::run::RECORD_FILES.contains(&name) && Some(name) != allowed && same(folder, run) {
        return Err(SimError::output(
            out,
            format!("refusing to overwrite the run's own {name}: choose another file"),
        ));
    }
    Ok(())
}

/// Writes `weights.h5` of the run folder `run` to `out` (`snnsim export weights`) from its checkpoint, and returns
/// what was exported.
pub fn write_weights(run: &Path, out: &Path) -> Result<TrainedNetwork, SimError> {
    refuse_run_record(run, out, Some("weights.h5"))?;
    let trained = TrainedNetwork::load(run)?;
    weights::Weights::of(
        &trained.model,
        &trained.network,
        trained.examples_seen,
        trained.training_done,
    )
    .write(out)?;
    Ok(trained)
}

/// Writes the forward network of the LIF run folder `run` to `out` as NIR (`snnsim export nir`) from its checkpoint,
/// and returns what was exported.
pub fn write_nir(run: &Path, out: &Path) -> Result<TrainedNetwork, SimError> {
    refuse_run_record(run, out, None)?;
    let trained = TrainedNetwork::load(run)?;
    nir::write(out, &trained.model, &trained.network, trained.examples_seen)?;
    Ok(trained)
}
