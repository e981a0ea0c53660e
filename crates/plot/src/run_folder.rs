//! Reading a run folder written by `snnsim run`.

use crate::error::PlotError;
use snn_sim::metrics::{CurvePoint, Summary, read_curve, read_trial_curves};
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
                reason: if path.exists() {
                    "a file, not a folder"
                } else {
                    "no such folder"
                }
                .into(),
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

    /// Opens every folder of `paths` for a figure that gathers runs, each once: a folder given twice, however
    /// spelt (`a`, `./a`, its absolute path), is refused, since counting a run twice would narrow the band.
    pub fn open_all(paths: &[PathBuf]) -> Result<Vec<Self>, PlotError> {
        let mut seen: Vec<PathBuf> = Vec::with_capacity(paths.len());
        let mut folders = Vec::with_capacity(paths.len());
        for path in paths {
            let folder = Self::open(path)?;
            let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            if let Some(k) = seen.iter().position(|p| *p == real) {
                return Err(PlotError::Option(format!(
                    "{} is the run folder {} again: give each run once (a run counted twice would narrow the band)",
                    path.display(),
                    paths[k].display()
                )));
            }
            seen.push(real);
            folders.push(folder);
        }
        Ok(folders)
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
        read_curve(&file).map_err(|e| bad_file(file, e))
    }

    /// The learning curves of the run's trials (`trial_curves.csv`), or its one curve.
    pub fn trial_curves(&self) -> Result<Vec<Vec<CurvePoint>>, PlotError> {
        let file = self.path.join("trial_curves.csv");
        if !file.exists() {
            return Ok(vec![self.curve()?]);
        }
        read_trial_curves(&file).map_err(|e| bad_file(file, e))
    }

    /// Path of the raster file.
    pub fn rasters(&self) -> PathBuf {
        self.path.join("rasters.h5")
    }
}

/// A run file that could not be read, named once: the reader's error already names the file it read.
fn bad_file(file: PathBuf, e: snn_sim::SimError) -> PlotError {
    let reason = match e {
        snn_sim::SimError::Output { path, reason } if path == file => reason,
        other => other.to_string(),
    };
    PlotError::BadFile { path: file, reason }
}

/// Names of the recorded examples in a raster file (`train/00000000`, `test/00000`, …).
pub fn recorded_examples(file: &hdf5::File) -> Vec<String> {
    let mut out = Vec::new();
    for phase in ["train", "test"] {
        if let Ok(g) = file.group(phase) {
            let mut names = g.member_names().unwrap_or_default();
            names.sort();
            out.extend(names.into_iter().map(|n| format!("{phase}/{n}")));
        }
    }
    out
}

/// Opens the group of `example` (e.g. `test/00000`) in a raster file; the default is the first recorded test image,
/// else the first recorded training presentation. Returns the example's name and group.
pub fn open_example(file: &hdf5::File, path: &Path, example: Option<&str>) -> Result<(String, hdf5::Group), PlotError> {
    let available = recorded_examples(file);
    let chosen = match example {
        Some(e) => e.to_string(),
        None => available
            .iter()
            .find(|e| e.starts_with("test/"))
            .or_else(|| available.first())
            .cloned()
            .ok_or_else(|| PlotError::BadFile {
                path: path.to_path_buf(),
                reason: "no recorded example".into(),
            })?,
    };
    let group = file.group(&chosen).map_err(|_| PlotError::NoExample {
        path: path.to_path_buf(),
        example: chosen.clone(),
        available: if available.is_empty() {
            "none".into()
        } else {
            available.join(", ")
        },
    })?;
    Ok((chosen, group))
}
