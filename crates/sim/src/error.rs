//! Errors of a run: each says which file, field or layer, and what was expected.

use crate::model::ModelError;
use snn_data::DataError;
use snn_plasticity::InitError;
use std::path::PathBuf;
use thiserror::Error;

/// Anything that stops a run.
#[derive(Debug, Error)]
pub enum SimError {
    /// The model file is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The data could not be found, fetched or read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The initialisation cannot be realised.
    #[error("initialisation: {0}")]
    Init(#[from] InitError),
    /// The data do not fit the network.
    #[error("{0}")]
    Mismatch(String),
    /// Reading or writing an output file failed.
    #[error("{}: {reason}", path.display())]
    Output {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The run was asked to stop (SIGINT, SIGTERM) and saved a checkpoint.
    #[error("interrupted after {seen} training examples; the run folder holds a checkpoint: continue with `snnsim run --resume {}`", dir.display())]
    Interrupted {
        /// Training examples seen.
        seen: u64,
        /// The run folder.
        dir: PathBuf,
    },
    /// A drive became NaN or infinite.
    #[error(
        "non-finite drive in {population} at step {step} (t = {time_ms} ms) of {phase} presentation {presentation} (image {image}): the run diverged (try a smaller learning rate or learning.batch_reduction = Mean); the run folder keeps its last good checkpoint"
    )]
    NonFiniteDrive {
        /// Population name.
        population: String,
        /// Step of the presentation.
        step: usize,
        /// Time of that step, ms.
        time_ms: f32,
        /// `training` or `test`.
        phase: &'static str,
        /// Presentation number (training) or position in the test pass.
        presentation: u64,
        /// Index of the image in its dataset.
        image: usize,
    },
    /// A weight or bias became NaN or infinite.
    #[error(
        "non-finite weights or biases in the projection {pre} -> {post} after training example {example}: the run diverged (try a smaller learning rate or learning.batch_reduction = Mean)"
    )]
    NonFinite {
        /// The population the projection reads.
        pre: String,
        /// The population it feeds.
        post: String,
        /// Training examples seen when it was detected.
        example: u64,
    },
}

impl SimError {
    /// An output error for `path`.
    pub fn output(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        SimError::Output {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}
