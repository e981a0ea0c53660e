//! The confusion matrix of a test: how often each class was answered as each other class, or not answered at all
//! (SPEC §2.4's answer rule: a tie, a silent output or a presentation stopped by a non-finite drive names no class).
//!
//! A run's final test writes it to `confusion.csv`, and `snnsim test RUN --confusion FILE` writes the one of a test
//! made again. Per-class accuracy is where a rule that silences an output cell for good shows (Table 2's nonspiking
//! rows with the rectified derivative lose a whole class, docs/results.md): the overall accuracy only says that ten
//! points are missing. One row per true class:
//!
//! ```text
//! label, examples, correct, accuracy, answered_0, …, answered_<C−1>, no_answer
//! ```
//!
//! `answered_k` counts that class's test images answered k; `no_answer` those that named no class.

use crate::error::SimError;
use crate::run::RunDir;
use ndarray::Array2;
use std::path::Path;

/// The file of a run folder that holds its final test's confusion matrix.
pub const CONFUSION_FILE: &str = "confusion.csv";

/// Counts of (true class, answer) over the images of a test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confusion {
    classes: usize,
    /// Row-major `[classes, classes + 1]`: the last column counts the images that named no class.
    counts: Vec<u64>,
}

impl Confusion {
    /// An empty matrix for `classes` classes.
    pub fn new(classes: usize) -> Self {
        Self {
            classes,
            counts: vec![0; classes * (classes + 1)],
        }
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Counts one image of class `label` answered `answer` (`None`: no class named). A label or an answer outside
    /// the classes is a caller's error: the model's check makes the data's labels fit its output.
    pub fn add(&mut self, label: usize, answer: Option<usize>) {
        assert!(label < self.classes, "label {label} of {} classes", self.classes);
        let column = match answer {
            Some(a) => {
                assert!(a < self.classes, "answer {a} of {} classes", self.classes);
                a
            }
            None => self.classes,
        };
        self.counts[label * (self.classes + 1) + column] += 1;
    }

    /// Counts every image of a minibatch: `labels[i]` answered `answers[i]`.
    pub fn add_all(&mut self, labels: &[u8], answers: &[Option<usize>]) {
        assert_eq!(labels.len(), answers.len(), "one answer per label");
        for (&label, &answer) in labels.iter().zip(answers) {
            self.add(usize::from(label), answer);
        }
    }

    /// Adds another test's counts (the trials of a run, say) to these.
    pub fn merge(&mut self, other: &Confusion) {
        assert_eq!(
            self.classes, other.classes,
            "confusion matrices of different class counts"
        );
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// Images of class `label` answered `answer` (`None`: no class named).
    pub fn count(&self, label: usize, answer: Option<usize>) -> u64 {
        self.row(label)[answer.unwrap_or(self.classes)]
    }

    /// Images of class `label`.
    pub fn examples(&self, label: usize) -> u64 {
        self.row(label).iter().sum()
    }

    /// Images of class `label` answered right.
    pub fn correct(&self, label: usize) -> u64 {
        self.row(label)[label]
    }

    /// Fraction of class `label`'s images answered right (`None` if the test had none of them).
    pub fn accuracy(&self, label: usize) -> Option<f64> {
        let n = self.examples(label);
        (n > 0).then(|| self.correct(label) as f64 / n as f64)
    }

    /// Images in the test.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Images answered right.
    pub fn total_correct(&self) -> u64 {
        (0..self.classes).map(|c| self.correct(c)).sum()
    }

    /// Images that named no class.
    pub fn unanswered(&self) -> u64 {
        (0..self.classes).map(|c| self.count(c, None)).sum()
    }

    /// The counts as a `[classes, classes + 1]` array: row = true class, column = answer, the last column the
    /// images that named no class.
    pub fn counts(&self) -> Array2<u64> {
        Array2::from_shape_vec((self.classes, self.classes + 1), self.counts.clone()).expect("counts fit the shape")
    }

    fn row(&self, label: usize) -> &[u64] {
        let w = self.classes + 1;
        &self.counts[label * w..(label + 1) * w]
    }

    /// The column names of the CSV form (module docs).
    fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = ["label", "examples", "correct", "accuracy"].map(String::from).into();
        h.extend((0..self.classes).map(|k| format!("answered_{k}")));
        h.push("no_answer".into());
        h
    }

    /// The CSV form (module docs).
    pub fn to_csv(&self) -> String {
        let mut out = csv::Writer::from_writer(Vec::new());
        let record = |out: &mut csv::Writer<Vec<u8>>, r: Vec<String>| out.write_record(r).expect("writes to memory");
        record(&mut out, self.header());
        for c in 0..self.classes {
            let mut r = vec![
                c.to_string(),
                self.examples(c).to_string(),
                self.correct(c).to_string(),
                self.accuracy(c).map(|a| format!("{a:.6}")).unwrap_or_default(),
            ];
            r.extend(self.row(c).iter().map(u64::to_string));
            record(&mut out, r);
        }
        String::from_utf8(out.into_inner().expect("writes to memory")).expect("CSV of numbers is UTF-8")
    }

    /// Refuses a `path` that [`Self::write`] could not write: a folder, or a file in a folder that does not exist.
    /// Called before a test, so that a long test is not lost to a mistyped path.
    pub fn check_destination(path: &Path) -> Result<(), SimError> {
        let folder = folder_of(path);
        if path.is_dir() || path.file_name().is_none() {
            return Err(SimError::output(
                path,
                "expected the path of a file for the confusion matrix, not a folder",
            ));
        }
        if !folder.is_dir() {
            return Err(SimError::output(
                path,
                format!(
                    "cannot write the confusion matrix here: the folder {} does not exist",
                    folder.display()
                ),
            ));
        }
        Ok(())
    }

    /// Writes the CSV form to `path` atomically (a temporary file beside it, then a rename): an existing file is
    /// replaced whole or, when the write fails, left as it was.
    pub fn write(&self, path: &Path) -> Result<(), SimError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| SimError::output(path, "expected the path of a file (with a UTF-8 name)"))?;
        RunDir::existing(folder_of(path)).write_atomic(name, self.to_csv().as_bytes())
    }

    /// Reads the CSV form back, checking that it is one: its header, one row per class in order, and each row's
    /// `examples` and `correct` consistent with its counts.
    pub fn read(path: &Path) -> Result<Self, SimError> {
        let bad = |reason: String| SimError::output(path, reason);
        let mut reader = csv::Reader::from_path(path).map_err(|e| SimError::output(path, e))?;
        let header = reader.headers().map_err(|e| SimError::output(path, e))?.clone();
        let classes = header.len().checked_sub(5).filter(|&c| c > 0).ok_or_else(|| {
            bad(format!(
                "not a confusion matrix: {} columns, expected label, examples, correct, accuracy, answered_0 … \
                 answered_<C-1>, no_answer",
                header.len()
            ))
        })?;
        let mut m = Confusion::new(classes);
        if header.iter().ne(m.header().iter().map(String::as_str)) {
            return Err(bad(format!(
                "not a confusion matrix: its header is `{}`, expected `{}`",
                header.iter().collect::<Vec<_>>().join(","),
                m.header().join(",")
            )));
        }
        let mut rows = 0;
        for (c, record) in reader.records().enumerate() {
            let record = record.map_err(|e| SimError::output(path, e))?;
            let line = c + 2;
            let number = |i: usize| -> Result<u64, SimError> {
                record[i].parse().map_err(|_| {
                    bad(format!(
                        "line {line}, column {}: `{}` is not a count",
                        &header[i], &record[i]
                    ))
                })
            };
            if c >= classes || number(0)? != c as u64 {
                return Err(bad(format!(
                    "line {line}: expected the row of class {c} of {classes}, found label `{}`",
                    &record[0]
                )));
            }
            let w = classes + 1;
            for k in 0..w {
                m.counts[c * w + k] = number(4 + k)?;
            }
            if number(1)? != m.examples(c) || number(2)? != m.correct(c) {
                return Err(bad(format!(
                    "line {line}: examples and correct ({}, {}) do not match the row's counts ({}, {})",
                    &record[1],
                    &record[2],
                    m.examples(c),
                    m.correct(c)
                )));
            }
            rows += 1;
        }
        if rows != classes {
            return Err(bad(format!("{rows} rows of classes, expected {classes}")));
        }
        Ok(m)
    }

    /// One line for a terminal: each class's accuracy in %, and the images that named no class.
    pub fn per_class_line(&self) -> String {
        let classes: Vec<String> = (0..self.classes)
            .map(|c| match self.accuracy(c) {
                Some(a) => format!("{c}: {:.1}", 100.0 * a),
                None => format!("{c}: —"),
            })
            .collect();
        format!(
            "per class (% right): {}; no answer: {} of {}",
            classes.join(", "),
            self.unanswered(),
            self.total()
        )
    }
}

/// The folder a file path names its file in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Confusion {
        let mut m = Confusion::new(3);
        m.add_all(
            &[0, 0, 0, 1, 1, 2, 2, 2],
            &[Some(0), Some(0), Some(2), None, Some(1), Some(2), None, Some(1)],
        );
        m
    }

    #[test]
    fn counts_answers_per_class() {
        let m = example();
        assert_eq!((m.total(), m.total_correct(), m.unanswered()), (8, 4, 2));
        assert_eq!((m.examples(0), m.correct(0), m.count(0, Some(2))), (3, 2, 1));
        assert_eq!((m.examples(1), m.correct(1), m.count(1, None)), (2, 1, 1));
        assert_eq!((m.count(2, Some(1)), m.count(2, None)), (1, 1));
        assert_eq!(m.accuracy(0), Some(2.0 / 3.0));
        assert_eq!(m.counts().row(2).to_vec(), [0, 1, 1, 1]);
        assert_eq!(Confusion::new(2).accuracy(1), None);
        assert_eq!(
            m.per_class_line(),
            "per class (% right): 0: 66.7, 1: 50.0, 2: 33.3; no answer: 2 of 8"
        );
    }

    #[test]
    fn merging_adds_the_counts() {
        let mut m = example();
        m.merge(&example());
        assert_eq!((m.total(), m.total_correct(), m.count(2, None)), (16, 8, 2));
    }

    #[test]
    fn the_csv_form_reads_back_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFUSION_FILE);
        let m = example();
        let text = m.to_csv();
        assert_eq!(
            text.lines().take(2).collect::<Vec<_>>(),
            [
                "label,examples,correct,accuracy,answered_0,answered_1,answered_2,no_answer",
                "0,3,2,0.666667,2,0,1,0"
            ]
        );
        m.write(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        assert_eq!(Confusion::read(&path).unwrap(), m);
        assert!(Confusion::check_destination(&path).is_ok());
        for bad in [
            dir.path().to_path_buf(),
            dir.path().join("missing").join(CONFUSION_FILE),
        ] {
            let e = Confusion::check_destination(&bad).unwrap_err().to_string();
            assert!(e.contains("folder"), "{e}");
        }
        // A count that does not add up, a missing row, a foreign file: refused, naming the file and the place.
        for (broken, says) in [
            (
                text.replace("0,3,2,0.666667,2,0,1,0", "0,3,2,0.666667,2,1,1,0"),
                "line 2: examples and correct",
            ),
            (
                text.lines().take(3).collect::<Vec<_>>().join("\n"),
                "2 rows of classes, expected 3",
            ),
            ("examples,epoch\n1,2\n".to_string(), "not a confusion matrix"),
            (
                text.replace(",1,0\n", ",x,0\n"),
                "column answered_2: `x` is not a count",
            ),
        ] {
            std::fs::write(&path, broken).unwrap();
            let e = Confusion::read(&path).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains(CONFUSION_FILE), "{e}");
        }
    }
}
