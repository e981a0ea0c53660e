//! Checkpoints: the full training state of a run, written atomically, from which `snnsim run --resume` continues to
//! exactly the result an uninterrupted run would give (the same bits).
//!
//! A checkpoint holds the resolved model (to refuse resuming a changed model), the network (weights, biases, momentum
//! buffers, feedback matrices), every random stream, and the [`Progress`] of training (epoch, next minibatch, this
//! epoch's data order, counters, the learning curve so far, training seconds). It is taken at minibatch boundaries,
//! where the simulator holds no other state (cells are reset between examples; resuming a model with
//! `protocol.reset_between_examples: false` is refused).

use crate::alignment::AlignmentPoint;
use crate::error::SimError;
use crate::metrics::CurvePoint;
use crate::network::Network;
use crate::seeds::Streams;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// Version of the checkpoint layout; a file of another version is refused.
pub const FORMAT: u32 = 2;

/// Where training stands, besides the network and the random streams.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Epoch in progress (0-based); equal to `protocol.epochs` when training is over.
    pub epoch: usize,
    /// Next minibatch of the epoch.
    pub batch: usize,
    /// This epoch's order of training examples (empty before the epoch's first minibatch).
    pub order: Vec<usize>,
    /// Training presentations so far.
    pub seen: u64,
    /// Examples at which the next learning-curve point is due.
    pub next_curve: u64,
    /// Examples at which the next periodic checkpoint is due.
    pub next_checkpoint: u64,
    /// Correct training answers since the last curve point.
    pub window_correct: usize,
    /// Training answers since the last curve point.
    pub window_total: usize,
    /// Learning-curve points so far.
    pub curve: Vec<CurvePoint>,
    /// Alignment measurements so far.
    pub alignment: Vec<AlignmentPoint>,
    /// Seconds of training before this process (earlier processes of a resumed run).
    pub train_s: f64,
}

impl Progress {
    /// The start of training.
    pub fn start(curve_every: usize, checkpoint_every: usize) -> Self {
        Self {
            epoch: 0,
            batch: 0,
            order: Vec::new(),
            seen: 0,
            next_curve: curve_every as u64,
            next_checkpoint: checkpoint_every as u64,
            window_correct: 0,
            window_total: 0,
            curve: Vec::new(),
            alignment: Vec::new(),
            train_s: 0.0,
        }
    }
}

/// The full training state of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// [`FORMAT`].
    pub format: u32,
    /// The resolved model file (RON) the run was started with.
    pub model: String,
    /// Weights, biases, momentum buffers, feedback.
    pub network: Network,
    /// Every random stream of the run.
    pub streams: Streams,
    /// Where training stands.
    pub progress: Progress,
}

impl Checkpoint {
    /// Writes the checkpoint to `path` atomically: a temporary file beside it, synced, then renamed over the old one,
    /// so a checkpoint on disk is always complete; when the write fails (a full disk, say) the temporary file is
    /// removed and the previous checkpoint stays as it was.
    pub fn write_atomic(&self, path: &Path) -> Result<(), SimError> {
        let bytes = postcard::to_stdvec(self).map_err(|e| SimError::output(path, format!("encoding: {e}")))?;
        let tmp = path.with_extension("bin.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            SimError::write(
                path,
                "the checkpoint (the previous checkpoint, if any, is left as it was)",
                &e,
            )
        })
    }

    /// Reads a checkpoint; a missing, truncated, corrupt or foreign file is an error naming it.
    pub fn read(path: &Path) -> Result<Self, SimError> {
        let bytes =
            std::fs::read(path).map_err(|e| SimError::output(path, format!("cannot read the checkpoint: {e}")))?;
        let unreadable = |e: postcard::Error| SimError::output(path, format!("not a readable snnsim checkpoint ({e})"));
        // The format number comes first, so a checkpoint of another layout is named as such, not as corrupt.
        let (format, _) = postcard::take_from_bytes::<u32>(&bytes).map_err(unreadable)?;
        if format != FORMAT {
            return Err(SimError::output(
                path,
                format!("checkpoint format {format} but this snnsim reads format {FORMAT}"),
            ));
        }
        postcard::from_bytes(&bytes).map_err(unreadable)
    }
}

/// Where checkpoints go, and whether the run should stop. The executor asks after every minibatch.
pub trait Checkpoints {
    /// Whether checkpoints are kept at all.
    fn enabled(&self) -> bool;
    /// Saves a checkpoint.
    fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), SimError>;
    /// Whether the run was asked to stop (SIGINT, SIGTERM): it then saves a checkpoint and ends as interrupted.
    fn stop_requested(&self) -> bool;
}

/// No checkpoints, never stops.
pub struct NoCheckpoints;

impl Checkpoints for NoCheckpoints {
    fn enabled(&self) -> bool {
        false
    }
    fn save(&mut self, _: &Checkpoint) -> Result<(), SimError> {
        Ok(())
    }
    fn stop_requested(&self) -> bool {
        false
    }
}
