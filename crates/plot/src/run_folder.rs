//! Reading a run folder written by `snnsim run`.

use crate::error::PlotError;
use snn_sim::metrics::{CurvePoint, Summary, read_curve};
use std::path::{Path, PathBuf};

/// A run folder and its summary.
#[derive(Clone, Debug)]
pub struct RunFolder {
    /// The folder.
    pub path: PathBuf,
    /// Its `summary.json`.
    pub summary: Summary,
}

impl RunFolder {
    /// Opens `path`, which must hold a readable `summary.json`.
    pub fn open(path: &Path) -> Result<Self, PlotError> {
        if !path.is_dir() {
            return Err(PlotError::NotARun {
                path: path.to_path_buf(),
                reason: "no such folder".into(),
            });
        }
        let file = path.join("summary.json");
        let bytes = std::fs::read(&file).map_err(|e| PlotError::NotARun {
            path: path.to_path_buf(),
            reason: format!("summary.json: {e}"),
        })?;
        let summary = serde_json::from_slice(&bytes).map_err(|e| PlotError::BadFile {
            path: file.clone(),
            reason: format!("not a run summary: {e}"),
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            summary,
        })
    }

    /// The learning curve (`curve.csv`).
    pub fn curve(&self) -> Result<Vec<CurvePoint>, PlotError> {
        let file = self.path.join("curve.csv");
        if !file.exists() {
            return Err(PlotError::NotARun {
                path: self.path.clone(),
                reason: "curve.csv is missing".into(),
            });
        }
        read_curve(&file).map_err(|e| PlotError::BadFile {
            path: file,
            reason: e.to_string(),
        })
    }

    /// Path of the raster file.
    pub fn rasters(&self) -> PathBuf {
        self.path.join("rasters.h5")
    }
}
