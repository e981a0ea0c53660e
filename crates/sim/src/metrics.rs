//! Metrics of a run: the learning curve (`curve.csv`), the alignment diagnostic (`alignment.csv`) and the
//! machine-readable summary (`summary.json`).

use crate::alignment::AlignmentPoint;
use crate::error::SimError;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One point of the learning curve (Samadi Fig 5): accuracy on random test images after some training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Training examples seen so far.
    pub examples: u64,
    /// Epoch in progress (0-based; `examples / train_size`).
    pub epoch: usize,
    /// Fraction correct on the sampled test images.
    pub test_accuracy: f64,
    /// Number of test images sampled.
    pub test_examples: usize,
    /// Fraction correct on the training examples presented since the previous point (while learning).
    pub train_accuracy: f64,
    /// Seconds since training started.
    pub elapsed_s: f64,
}

/// A record that is one line of a CSV log.
pub trait CsvRow {
    /// The header line (column names).
    const HEADER: &'static str;
    /// The record as one CSV line, without the newline.
    fn row(&self) -> String;
}

impl CsvRow for CurvePoint {
    const HEADER: &'static str = "examples,epoch,test_accuracy,test_examples,train_accuracy,elapsed_s";
    fn row(&self) -> String {
        format!(
            "{},{},{:.6},{},{:.6},{:.3}",
            self.examples, self.epoch, self.test_accuracy, self.test_examples, self.train_accuracy, self.elapsed_s
        )
    }
}

impl CsvRow for AlignmentPoint {
    const HEADER: &'static str = "examples,population,angle_deg,samples";
    fn row(&self) -> String {
        format!(
            "{},{},{:.4},{}",
            self.examples, self.population, self.angle_deg, self.samples
        )
    }
}

/// Appends records to a CSV file, flushing each one (a run stopped early keeps what it measured).
pub struct CsvLog<T: CsvRow> {
    out: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
    rows: std::marker::PhantomData<T>,
}

/// The learning curve, `curve.csv`.
pub type CurveWriter = CsvLog<CurvePoint>;

impl<T: CsvRow> CsvLog<T> {
    /// Column names.
    pub const HEADER: &'static str = T::HEADER;

    /// Creates the file with its header; an existing file is an error.
    pub fn create(path: &Path) -> Result<Self, SimError> {
        let f = std::fs::File::create_new(path).map_err(|e| SimError::output(path, e))?;
        let mut w = Self::over(f, path);
        w.line(T::HEADER)?;
        Ok(w)
    }

    fn over(f: std::fs::File, path: &Path) -> Self {
        Self {
            out: std::io::BufWriter::new(f),
            path: path.to_path_buf(),
            rows: std::marker::PhantomData,
        }
    }

    fn line(&mut self, s: &str) -> Result<(), SimError> {
        writeln!(self.out, "{s}")
            .and_then(|()| self.out.flush())
            .map_err(|e| SimError::write(&self.path, "a record", &e))
    }

    /// Appends one record.
    pub fn push(&mut self, record: &T) -> Result<(), SimError> {
        self.line(&record.row())
    }

    /// The whole file for `records`, header included.
    pub fn render(records: &[T]) -> String {
        let mut s = format!("{}\n", T::HEADER);
        for r in records {
            s.push_str(&r.row());
            s.push('\n');
        }
        s
    }

    /// Opens an existing file to append to it (a resumed run).
    pub fn append(path: &Path) -> Result<Self, SimError> {
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| SimError::output(path, e))?;
        Ok(Self::over(f, path))
    }
}

/// Parses one `curve.csv` data line (the columns of [`CurvePoint`]'s [`CsvRow::HEADER`]).
pub fn parse_curve_row(line: &str) -> Option<CurvePoint> {
    let f: Vec<&str> = line.split(',').collect();
    if f.len() != 6 {
        return None;
    }
    Some(CurvePoint {
        examples: f[0].parse().ok()?,
        epoch: f[1].parse().ok()?,
        test_accuracy: f[2].parse().ok()?,
        test_examples: f[3].parse().ok()?,
        train_accuracy: f[4].parse().ok()?,
        elapsed_s: f[5].parse().ok()?,
    })
}

/// Reads a `curve.csv` back.
pub fn read_curve(path: &Path) -> Result<Vec<CurvePoint>, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::output(path, e))?;
    let mut lines = text.lines();
    if lines.next() != Some(CurveWriter::HEADER) {
        return Err(SimError::output(
            path,
            format!("expected the header `{}`", CurveWriter::HEADER),
        ));
    }
    lines
        .enumerate()
        .map(|(i, l)| {
            parse_curve_row(l)
                .ok_or_else(|| SimError::output(path, format!("line {}: expected 6 comma-separated numbers", i + 2)))
        })
        .collect()
}

/// Reads a `trial_curves.csv` back: one learning curve per trial, in trial order.
pub fn read_trial_curves(path: &Path) -> Result<Vec<Vec<CurvePoint>>, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::output(path, e))?;
    let mut lines = text.lines();
    let header = format!("trial,{}", CurveWriter::HEADER);
    if lines.next() != Some(header.as_str()) {
        return Err(SimError::output(path, format!("expected the header `{header}`")));
    }
    let mut curves: Vec<Vec<CurvePoint>> = Vec::new();
    for (i, l) in lines.enumerate() {
        let bad = || SimError::output(path, format!("line {}: expected a trial index and 6 numbers", i + 2));
        let (trial, rest) = l.split_once(',').ok_or_else(bad)?;
        let trial: usize = trial.parse().map_err(|_| bad())?;
        let point = parse_curve_row(rest).ok_or_else(bad)?;
        if trial >= curves.len() {
            curves.resize_with(trial + 1, Vec::new);
        }
        curves[trial].push(point);
    }
    Ok(curves)
}

/// Reads an `alignment.csv` back.
pub fn read_alignment(path: &Path) -> Result<Vec<AlignmentPoint>, SimError> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::output(path, e))?;
    let mut lines = text.lines();
    if lines.next() != Some(AlignmentPoint::HEADER) {
        return Err(SimError::output(
            path,
            format!("expected the header `{}`", AlignmentPoint::HEADER),
        ));
    }
    lines
        .enumerate()
        .map(|(i, l)| {
            let bad = || {
                SimError::output(
                    path,
                    format!("line {}: expected examples,population,angle_deg,samples", i + 2),
                )
            };
            let f: Vec<&str> = l.split(',').collect();
            if f.len() != 4 {
                return Err(bad());
            }
            Ok(AlignmentPoint {
                examples: f[0].parse().map_err(|_| bad())?,
                population: f[1].to_string(),
                angle_deg: f[2].parse().map_err(|_| bad())?,
                samples: f[3].parse().map_err(|_| bad())?,
            })
        })
        .collect()
}

/// The machine-readable summary of a run (`summary.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// `finished`, `running` or `failed`.
    pub status: String,
    /// The error that stopped a failed run.
    pub error: Option<String>,
    /// Model name.
    pub model: String,
    /// Model file the run started from.
    pub model_path: String,
    /// SHA-256 of the resolved model (`model.ron` without its comment line): runs with equal hashes simulated the
    /// same model, seed included.
    #[serde(default)]
    pub model_hash: String,
    /// `--set` overrides applied, in order (the seed included when given with `--seed`).
    pub overrides: Vec<String>,
    /// Seed of the run.
    pub seed: u64,
    /// snnsim version.
    pub version: String,
    /// Git commit of the snnsim build, if known.
    pub commit: Option<String>,
    /// Training examples presented.
    pub train_examples_seen: u64,
    /// Fraction correct on the final test (all test images used by the run).
    pub test_accuracy: Option<f64>,
    /// Test images in the final test.
    pub test_examples: usize,
    /// Wall time of the whole run, s (all its processes; for a process killed without writing its summary, its
    /// training time up to its last checkpoint).
    pub wall_s: f64,
    /// Wall time of training (learning-curve tests included), s.
    pub train_s: f64,
    /// Wall time of the final test, s.
    pub test_s: f64,
    /// Threads of the worker pool.
    pub threads: usize,
    /// Independent trials in the run (1); with several, `test_accuracy` is their mean.
    #[serde(default = "one")]
    pub trials: usize,
    /// Standard error of the mean of the trials' test accuracies (runs of 2 or more trials).
    #[serde(default)]
    pub test_accuracy_sem: Option<f64>,
}

fn one() -> usize {
    1
}
