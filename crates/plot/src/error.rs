//! Errors of the figures: each names the run folder or file and what was expected.

use std::path::PathBuf;
use thiserror::Error;

/// Why a figure could not be drawn.
#[derive(Debug, Error)]
pub enum PlotError {
    /// The folder is not a run folder of `snnsim run`.
    #[error("{}: not a run folder ({reason}); expected a folder written by `snnsim run`", path.display())]
    NotARun {
        /// The folder given.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// A run file could not be read.
    #[error("{}: {reason}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The requested example is not in the raster file.
    #[error("{}: no recorded example `{example}`; recorded: {available}", path.display())]
    NoExample {
        /// The raster file.
        path: PathBuf,
        /// The example asked for.
        example: String,
        /// The examples that are there.
        available: String,
    },
    /// A drawing option is impossible (a smoothing window of 0, a y range upside down).
    #[error("{0}")]
    Option(String),
    /// The folder of a figure could not be created.
    #[error("{}: cannot create the figure's folder: {reason}", path.display())]
    Io {
        /// The folder.
        path: PathBuf,
        /// The I/O error (the message's reason, not a separate cause, so that it is printed once).
        reason: std::io::Error,
    },
    /// Drawing failed.
    #[error("{}: drawing failed: {reason}", path.display())]
    Draw {
        /// The figure file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}
