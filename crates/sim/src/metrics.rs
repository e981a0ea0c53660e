//! Metrics of a run: the learning curve (`curve.csv`), the alignment diagnostic (`alignment.csv`) and the
//! machine-readable summary (`summary.json`).

use crate::alignment::AlignmentPoint;
use crate::error::SimError;
use serde::{Deserialize, Serialize};
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
    /// Normalised squared error on the sampled test examples (SPEC §4) for a regression task; NaN otherwise (and
    /// in files written before the column existed).
    #[serde(default = "nan")]
    pub test_nse: f64,
}

fn nan() -> f64 {
    f64::NAN
}

/// A record that is one line of a CSV log, written through the `csv` crate.
pub trait CsvRow {
    /// Column names (the header record).
    const HEADER: &'static [&'static str];
    /// The record's fields, formatted as they are written.
    fn fields(&self) -> Vec<String>;
}

impl CsvRow for CurvePoint {
    const HEADER: &'static [&'static str] = &[
        "examples",
        "epoch",
        "test_accuracy",
        "test_examples",
        "train_accuracy",
        "elapsed_s",
        "test_nse",
    ];
    fn fields(&self) -> Vec<String> {
        vec![
            self.examples.to_string(),
            self.epoch.to_string(),
            format!("{:.6}", self.test_accuracy),
            self.test_examples.to_string(),
            format!("{:.6}", self.train_accuracy),
            format!("{:.3}", self.elapsed_s),
            format!("{:.6e}", self.test_nse),
        ]
    }
}

impl CsvRow for AlignmentPoint {
    const HEADER: &'static [&'static str] = &[
        "examples",
        "population",
        "angle_deg",
        "samples",
        "angle_sd_deg",
        "folded_deg",
        "weight_angle_deg",
        "unit_angle_deg",
        "probe_first_deg",
        "probe_mean_deg",
    ];
    fn fields(&self) -> Vec<String> {
        vec![
            self.examples.to_string(),
            self.population.clone(),
            format!("{:.4}", self.angle_deg),
            self.samples.to_string(),
            format!("{:.4}", self.angle_sd_deg),
            format!("{:.4}", self.folded_deg),
            format!("{:.4}", self.weight_angle_deg),
            format!("{:.4}", self.unit_angle_deg),
            format!("{:.4}", self.probe_first_deg),
            format!("{:.4}", self.probe_mean_deg),
        ]
    }
}

/// Appends records to a CSV file, flushing each one (a run stopped early keeps what it measured).
pub struct CsvLog<T: CsvRow> {
    out: csv::Writer<std::fs::File>,
    path: PathBuf,
    rows: std::marker::PhantomData<T>,
}

/// The learning curve, `curve.csv`.
pub type CurveWriter = CsvLog<CurvePoint>;

impl<T: CsvRow> CsvLog<T> {
    /// Column names.
    pub const HEADER: &'static [&'static str] = T::HEADER;

    /// Creates the file with its header; an existing file is an error.
    pub fn create(path: &Path) -> Result<Self, SimError> {
        let f = std::fs::File::create_new(path).map_err(|e| SimError::output(path, e))?;
        let mut w = Self::over(f, path);
        w.record(T::HEADER)?;
        Ok(w)
    }

    fn over(f: std::fs::File, path: &Path) -> Self {
        Self {
            out: csv::Writer::from_writer(f),
            path: path.to_path_buf(),
            rows: std::marker::PhantomData,
        }
    }

    fn record<I: IntoIterator<Item = F>, F: AsRef<[u8]>>(&mut self, fields: I) -> Result<(), SimError> {
        let path = &self.path;
        self.out.write_record(fields).map_err(|e| match e.kind() {
            csv::ErrorKind::Io(io) => SimError::write(path, "a record", io),
            _ => SimError::output(path, e),
        })?;
        self.out.flush().map_err(|e| SimError::write(path, "a record", &e))
    }

    /// Appends one record.
    pub fn push(&mut self, record: &T) -> Result<(), SimError> {
        self.record(record.fields())
    }

    /// The whole file for `records`, header included.
    pub fn render(records: &[T]) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let written = w
            .write_record(T::HEADER)
            .and_then(|()| records.iter().try_for_each(|r| w.write_record(r.fields())));
        written.expect("CSV written to memory");
        let bytes = w.into_inner().expect("CSV written to memory");
        String::from_utf8(bytes).expect("CSV of UTF-8 fields")
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

/// `fields` as one CSV line without its newline (for messages).
fn csv_line(fields: &[&str]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields).expect("CSV written to memory");
    let bytes = w.into_inner().expect("CSV written to memory");
    let line = String::from_utf8(bytes).expect("CSV of UTF-8 fields");
    line.trim_end_matches('\n').to_string()
}

/// Reads the CSV file `path`, whose first record must be `header` (or, for files written before its last `newer`
/// columns were added, `header` without them), and turns every further record into a `T` with `parse`; a record
/// `parse` rejects is an error naming its line and what `parse` expected there.
fn read_records<T>(
    path: &Path,
    header: &[&str],
    older: &[usize],
    mut parse: impl FnMut(&csv::StringRecord) -> Result<T, String>,
) -> Result<Vec<T>, SimError> {
    let file = std::fs::File::open(path).map_err(|e| SimError::output(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(file);
    let mut records = reader.records();
    let bad_header = || SimError::output(path, format!("expected the header `{}`", csv_line(header)));
    match records.next() {
        Some(Ok(first)) if first.iter().eq(header.iter().copied()) => {}
        Some(Ok(first))
            if older
                .iter()
                .any(|&k| first.iter().eq(header[..header.len() - k].iter().copied())) => {}
        Some(Err(e)) => return Err(SimError::output(path, e)),
        None => {
            return Err(SimError::output(
                path,
                format!("the file is empty: expected the header `{}`", csv_line(header)),
            ));
        }
        _ => return Err(bad_header()),
    }
    records
        .map(|r| {
            let r = r.map_err(|e| SimError::output(path, e))?;
            parse(&r).map_err(|expected| {
                let line = r.position().map_or(0, |p| p.line());
                SimError::output(path, format!("line {line}: {expected}"))
            })
        })
        .collect()
}

/// Columns of `curve.csv` added since its first layout (`test_nse`): older files lack them.
const CURVE_NEWER: usize = 1;
/// Columns of `alignment.csv` that its older layouts lack: the probe's two (`probe_first_deg`, `probe_mean_deg`),
/// and in the first layout also the spread, folded, weight and per-unit angles.
const ALIGNMENT_OLDER: [usize; 2] = [2, 6];

/// Parses the fields of one `curve.csv` data record (the columns of [`CurvePoint`]'s [`CsvRow::HEADER`]), each
/// checked against what a run writes there: counts are whole numbers, accuracies fractions in [0, 1] or NaN (none
/// measured), the time finite and ≥ 0, the NSE ≥ 0 or NaN. The error names the column, the text and what was expected.
pub fn parse_curve_row(fields: &csv::StringRecord) -> Result<CurvePoint, String> {
    let header = CurvePoint::HEADER;
    let n = header.len();
    if fields.len() != n && fields.len() != n - CURVE_NEWER {
        return Err(format!(
            "expected {n} comma-separated fields (`{}`), not {}",
            csv_line(header),
            fields.len()
        ));
    }
    let cell = |k: usize| fields.get(k).unwrap_or("").trim();
    let wrong = |k: usize, expected: &str| format!("column {}: `{}`: expected {expected}", header[k], cell(k));
    let whole = |k: usize| cell(k).parse::<u64>().map_err(|_| wrong(k, "a whole number ≥ 0"));
    let real = |k: usize, expected: &str, fits: fn(f64) -> bool| match cell(k).parse::<f64>() {
        Ok(v) if fits(v) => Ok(v),
        _ => Err(wrong(k, expected)),
    };
    let fraction = |k: usize| {
        real(k, "a fraction between 0 and 1, or NaN", |v| {
            v.is_nan() || (0.0..=1.0).contains(&v)
        })
    };
    Ok(CurvePoint {
        examples: whole(0)?,
        epoch: whole(1)? as usize,
        test_accuracy: fraction(2)?,
        test_examples: whole(3)? as usize,
        train_accuracy: fraction(4)?,
        elapsed_s: real(5, "seconds, finite and ≥ 0", |v| v.is_finite() && v >= 0.0)?,
        test_nse: if fields.len() == n {
            real(6, "a normalised squared error ≥ 0, or NaN", |v| {
                v.is_nan() || v >= 0.0
            })?
        } else {
            f64::NAN
        },
    })
}

/// Reads a `curve.csv` back.
pub fn read_curve(path: &Path) -> Result<Vec<CurvePoint>, SimError> {
    read_records(path, CurveWriter::HEADER, &[CURVE_NEWER], parse_curve_row)
}

/// Reads a `trial_curves.csv` back: one learning curve per trial, in trial order.
pub fn read_trial_curves(path: &Path) -> Result<Vec<Vec<CurvePoint>>, SimError> {
    let header: Vec<&str> = std::iter::once("trial")
        .chain(CurveWriter::HEADER.iter().copied())
        .collect();
    let rows = read_records(path, &header, &[CURVE_NEWER], |r| {
        let trial = r.get(0).unwrap_or("");
        let trial: usize = trial
            .parse()
            .map_err(|_| format!("column trial: `{trial}`: expected a trial index (a whole number ≥ 0)"))?;
        let point = parse_curve_row(&r.iter().skip(1).collect()).map_err(|e| format!("after the trial index, {e}"))?;
        Ok((trial, point))
    })?;
    let mut curves: Vec<Vec<CurvePoint>> = Vec::new();
    for (trial, point) in rows {
        if trial >= curves.len() {
            curves.resize_with(trial + 1, Vec::new);
        }
        curves[trial].push(point);
    }
    Ok(curves)
}

/// Reads an `alignment.csv` back.
pub fn read_alignment(path: &Path) -> Result<Vec<AlignmentPoint>, SimError> {
    let expected = csv_line(AlignmentPoint::HEADER);
    read_records(path, AlignmentPoint::HEADER, &ALIGNMENT_OLDER, |r| {
        let n = AlignmentPoint::HEADER.len();
        let fits = r.len() == n || ALIGNMENT_OLDER.iter().any(|&k| r.len() == n - k);
        fits.then(|| r.deserialize(None).ok())
            .flatten()
            .ok_or_else(|| format!("expected {expected}"))
    })
}

/// A resume of a run from its checkpoint (`Summary::resumes`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    /// Git commit of the build that resumed the run, if known.
    pub commit: Option<String>,
    /// snnsim version of that build.
    pub version: String,
    /// Training examples the checkpoint it resumed from had seen.
    pub from_examples: u64,
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
    /// Git commit of the snnsim build that started the run, if known.
    pub commit: Option<String>,
    /// Each time the run was resumed from its checkpoint: the build that continued it and from where. A build other
    /// than the starting one continues the same model and state, but not necessarily the same float rounding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumes: Vec<Resume>,
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
    /// The normalised squared error of the final test (SPEC §4) for a regression task (the mean over trials);
    /// `None` for classes.
    #[serde(default)]
    pub test_nse: Option<f64>,
}

fn one() -> usize {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(examples: u64, train_accuracy: f64) -> CurvePoint {
        CurvePoint {
            examples,
            epoch: 0,
            test_accuracy: 0.5,
            test_examples: 100,
            train_accuracy,
            elapsed_s: 1.25,
            test_nse: 0.25,
        }
    }

    #[test]
    fn files_are_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let curve = vec![point(0, f64::NAN), point(50, 0.4)];
        let path = dir.path().join("curve.csv");
        let mut log = CurveWriter::create(&path).unwrap();
        for p in &curve {
            log.push(p).unwrap();
        }
        let text = "examples,epoch,test_accuracy,test_examples,train_accuracy,elapsed_s,test_nse\n\
                    0,0,0.500000,100,NaN,1.250,2.500000e-1\n\
                    50,0,0.500000,100,0.400000,1.250,2.500000e-1\n";
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        assert_eq!(CurveWriter::render(&curve), text);
        let back = read_curve(&path).unwrap();
        assert!(back[0].train_accuracy.is_nan());
        assert_eq!(back[1], curve[1]);
        // A file of the first layout, without test_nse, is read with NaN there.
        let old = dir.path().join("old_curve.csv");
        std::fs::write(
            &old,
            "examples,epoch,test_accuracy,test_examples,train_accuracy,elapsed_s\n50,0,0.5,100,0.4,1.25\n",
        )
        .unwrap();
        let back = read_curve(&old).unwrap();
        assert!(back[0].test_nse.is_nan() && back[0].train_accuracy == 0.4);

        let path = dir.path().join("alignment.csv");
        let points = vec![AlignmentPoint {
            examples: 50,
            population: "hidden1".into(),
            angle_deg: 89.09314,
            samples: 10568,
            angle_sd_deg: 3.5,
            folded_deg: 80.25,
            weight_angle_deg: f64::NAN,
            unit_angle_deg: 45.0,
            probe_first_deg: 12.5,
            probe_mean_deg: f64::NAN,
        }];
        std::fs::write(&path, CsvLog::render(&points)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "examples,population,angle_deg,samples,angle_sd_deg,folded_deg,weight_angle_deg,unit_angle_deg,\
             probe_first_deg,probe_mean_deg\n\
             50,hidden1,89.0931,10568,3.5000,80.2500,NaN,45.0000,12.5000,NaN\n"
        );
        let back = read_alignment(&path).unwrap();
        assert_eq!((back[0].angle_deg, back[0].folded_deg), (89.0931, 80.25));
        assert!(back[0].weight_angle_deg.is_nan());
        std::fs::write(&path, "examples,population,angle_deg,samples\n50,hidden1,89.1,7\n").unwrap();
        let back = read_alignment(&path).unwrap();
        assert!(
            back[0].angle_deg == 89.1 && back[0].unit_angle_deg.is_nan(),
            "the first layout is read"
        );
        std::fs::write(
            &path,
            "examples,population,angle_deg,samples,angle_sd_deg,folded_deg,weight_angle_deg,unit_angle_deg\n\
             50,hidden1,89.1,7,3.5,80.25,NaN,45.0\n",
        )
        .unwrap();
        let back = read_alignment(&path).unwrap();
        assert!(
            back[0].unit_angle_deg == 45.0 && back[0].probe_first_deg.is_nan() && back[0].probe_mean_deg.is_nan(),
            "the layout before the probe is read"
        );

        let path = dir.path().join("trial_curves.csv");
        std::fs::write(
            &path,
            "trial,examples,epoch,test_accuracy,test_examples,train_accuracy,elapsed_s\n\
             1,50,0,0.5,100,0.4,1.25\n0,0,0,0.5,100,NaN,1.25\n",
        )
        .unwrap();
        let curves = read_trial_curves(&path).unwrap();
        assert_eq!(curves.len(), 2);
        assert!(curves[1][0].test_nse.is_nan(), "a file of the first layout has no NSE");
        let mut want = curve[1].clone();
        want.test_nse = curves[1][0].test_nse;
        assert_eq!(curves[1][0].examples, want.examples);
        assert_eq!(format!("{:?}", curves[1]), format!("{:?}", vec![want]));
    }

    #[test]
    fn bad_files_are_named_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("curve.csv");
        std::fs::write(&path, "examples,epoch\n").unwrap();
        let e = read_curve(&path).unwrap_err().to_string();
        assert!(
            e.contains("curve.csv")
                && e.contains(
                    "expected the header `examples,epoch,test_accuracy,test_examples,train_accuracy,elapsed_s,test_nse`"
                ),
            "{e}"
        );
        let header = "examples,epoch,test_accuracy,test_examples,train_accuracy,elapsed_s";
        std::fs::write(&path, format!("{header}\n0,0,0.5,100,NaN,0.0\n50,0,x,100,0.4,1.0\n")).unwrap();
        let e = read_curve(&path).unwrap_err().to_string();
        assert!(
            e.contains("line 3: column test_accuracy: `x`: expected a fraction between 0 and 1, or NaN"),
            "{e}"
        );
        std::fs::write(&path, format!("{header}\n0,0,0.5,100,NaN\n")).unwrap();
        let e = read_curve(&path).unwrap_err().to_string();
        assert!(e.contains("line 2: expected 7 comma-separated fields"), "{e}");
        for (row, column) in [
            ("-50,0,0.5,100,0.4,1.0", "examples"),
            ("50,0,2.5,100,0.4,1.0", "test_accuracy"),
            ("50,0,inf,100,0.4,1.0", "test_accuracy"),
            ("50,0,0.5,100,-0.1,1.0", "train_accuracy"),
            ("50,0,0.5,100,0.4,NaN", "elapsed_s"),
            ("50,0,0.5,100,0.4,1.0,-1", "test_nse"),
        ] {
            std::fs::write(&path, format!("{header}\n{row}\n")).unwrap();
            let e = read_curve(&path).unwrap_err().to_string();
            assert!(e.contains(&format!("line 2: column {column}: ")), "{row}: {e}");
        }
        std::fs::write(&path, format!("{header}\n50,0,NaN,100,NaN,1.0,0.25\n")).unwrap();
        let points = read_curve(&path).unwrap();
        assert!(points[0].test_accuracy.is_nan() && points[0].test_nse == 0.25);
        std::fs::write(&path, "").unwrap();
        let e = read_curve(&path).unwrap_err().to_string();
        assert!(e.contains("the file is empty"), "{e}");

        let path = dir.path().join("alignment.csv");
        std::fs::write(&path, "examples,population,angle_deg,samples\n50,hidden1,89.1\n").unwrap();
        let e = read_alignment(&path).unwrap_err().to_string();
        assert!(
            e.contains("line 2: expected examples,population,angle_deg,samples,angle_sd_deg"),
            "{e}"
        );

        let path = dir.path().join("trial_curves.csv");
        std::fs::write(&path, format!("trial,{header}\nfirst,0,0,0.5,100,NaN,0.0\n")).unwrap();
        let e = read_trial_curves(&path).unwrap_err().to_string();
        assert!(
            e.contains("line 2: column trial: `first`: expected a trial index"),
            "{e}"
        );
    }
}
