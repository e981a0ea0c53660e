//! Errors of the data layer: each names the file and what was expected.

use std::path::PathBuf;
use thiserror::Error;

/// Anything that can go wrong finding, fetching or reading a dataset.
#[derive(Debug, Error)]
pub enum DataError {
    /// A file is not there.
    #[error("{path}: file not found; download the dataset with `snnsim data fetch` (see README) or set data.download")]
    Missing {
        /// The missing file.
        path: PathBuf,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file's content does not match its published checksum.
    #[error(
        "{path}: SHA-256 is {actual}, expected {expected}: the file is corrupt or truncated; delete it and fetch it again"
    )]
    Checksum {
        /// The file.
        path: PathBuf,
        /// Published checksum.
        expected: String,
        /// Checksum of the bytes found.
        actual: String,
    },
    /// A file is not a valid gzipped IDX file of the expected kind.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what was expected.
        reason: String,
    },
    /// A download failed.
    #[error("downloading {url}: {reason}")]
    Download {
        /// The address.
        url: String,
        /// Why it failed.
        reason: String,
    },
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            DataError::Missing { path }
        } else {
            DataError::Io { path, source }
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        DataError::Format {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
