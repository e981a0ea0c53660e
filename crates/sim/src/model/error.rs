//! What a model that fails to load or to check reports: the file, line and column, or the field, the value found
//! and what was expected.

use std::path::PathBuf;
use thiserror::Error;

/// A model that failed to load or to check.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The file could not be read.
    #[error("{}: cannot read the model file: {reason}", file.display())]
    Read {
        /// The model file.
        file: PathBuf,
        /// Why.
        reason: String,
        /// What kind of failure, for callers that map it (Python raises `FileNotFoundError` for `NotFound`).
        kind: std::io::ErrorKind,
    },
    /// The file is not a valid model (syntax, unknown or missing field, wrong type).
    #[error("{}:{line}:{column}: {message}", file.display())]
    Parse {
        /// The model file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, and what was expected.
        message: String,
    },
    /// A `--set` override could not be applied.
    #[error("--set {assignment}: {reason}")]
    Override {
        /// The override as given.
        assignment: String,
        /// Why it failed.
        reason: String,
    },
    /// A field's value is outside its valid range.
    #[error("field `{field}` = {value}: expected {expected}")]
    Invalid {
        /// Dotted path of the field.
        field: String,
        /// The value found.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// A model file that loaded but failed its check: the error, with the file it came from.
    #[error("{}: {error}", file.display())]
    InFile {
        /// The model file.
        file: PathBuf,
        /// What the check found (shown in this error's message, so not chained as its source).
        error: Box<ModelError>,
    },
}

pub(super) fn invalid(field: &str, value: impl std::fmt::Display, expected: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        field: field.to_string(),
        value: value.to_string(),
        expected: expected.into(),
    }
}
