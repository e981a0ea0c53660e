//! Testing a run's trained network again, under other test-time choices (`snnsim test RUN --set ...`).
//!
//! The network and every random stream come from the run folder's `checkpoint.bin`, so with no override the test
//! repeats the run's final test bit for bit (a checkpoint taken at the end of training is taken just before it).
//! An override may change only what acts at test time ([`crate::model::TEST_TIME_FIELDS`]): the answer rule and its
//! ties, the counting window, a stochastic network's read-out and test steps, how many test images. Each test adds
//! a row to the folder's `tests.csv`:
//!
//! ```text
//! overrides, training_examples, training_done, test_examples, correct, test_accuracy, test_nse, test_s, version,
//! commit
//! ```
//!
//! `overrides` is a JSON list of the `--set` assignments (`[]` for none). `tests.csv` is rewritten whole, atomically,
//! with the earlier rows kept: nothing the run wrote is touched.

use crate::checkpoint::Checkpoint;
use crate::confusion::Confusion;
use crate::dataset::Prepared;
use crate::error::SimError;
use crate::experiment::{Experiment, Observer};
use crate::model::ModelFile;
use crate::run::{COMMIT, RunDir};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The file of a run folder that holds its tests.
pub const TESTS_FILE: &str = "tests.csv";

/// Columns of [`TESTS_FILE`].
const HEADER: [&str; 10] = [
    "overrides",
    "training_examples",
    "training_done",
    "test_examples",
    "correct",
    "test_accuracy",
    "test_nse",
    "test_s",
    "version",
    "commit",
];

/// One test of a trained network.
#[derive(Clone, Debug, PartialEq)]
pub struct Retest {
    /// The `--set` overrides it was tested under, as given.
    pub overrides: Vec<String>,
    /// Training examples the network had seen (the checkpoint's).
    pub training_examples: u64,
    /// Whether the checkpoint is the one taken at the end of training.
    pub training_done: bool,
    /// Test images presented.
    pub test_examples: usize,
    /// Of which answered correctly.
    pub correct: usize,
    /// For a regression task, the normalised squared error on them.
    pub test_nse: Option<f64>,
    /// For a classification task, each class's answers (`snnsim test --confusion FILE` writes it).
    pub confusion: Option<Confusion>,
    /// Seconds the test took.
    pub test_s: f64,
}

impl Retest {
    /// `correct / test_examples`.
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.test_examples.max(1) as f64
    }
}

/// Tests the network of the run folder `run` on its model's test set with the `overrides` applied, telling
/// `observer` how the test goes, and adds the result to the folder's [`TESTS_FILE`]. Once `stop` is set (from
/// another thread: Python's Ctrl-C) the test ends after the current minibatch with [`SimError::TestStopped`], and
/// nothing is written.
pub fn retest(
    run: &Path,
    overrides: &[String],
    observer: &mut dyn Observer,
    stop: &AtomicBool,
) -> Result<Retest, SimError> {
    let model_path = run.join("model.ron");
    if !model_path.exists() {
        return Err(SimError::output(run, "not a run folder: it has no model.ron"));
    }
    let trained_as = ModelFile::from_path(&model_path)?;
    let checkpoint_path = run.join("checkpoint.bin");
    if !checkpoint_path.exists() {
        return Err(SimError::output(
            run,
            "no trained network to test: it has no checkpoint.bin (the run stopped before its first checkpoint, or \
             it has several trials, which keep none)",
        ));
    }
    let checkpoint = Checkpoint::read(&checkpoint_path)?;
    if !checkpoint.was_taken_for(&trained_as.check_file(&model_path)?) {
        return Err(SimError::output(
            &checkpoint_path,
            format!(
                "the checkpoint was taken for another model than {}",
                model_path.display()
            ),
        ));
    }
    let mut file = trained_as;
    for set in overrides {
        file.set(set)?;
    }
    let model = file.check_file(&model_path)?;
    // A tests file that cannot take the row is refused before the test, not after it.
    earlier_rows(&run.join(TESTS_FILE))?;
    let training_examples = checkpoint.progress.seen;
    let training_done = checkpoint.progress.epoch >= model.protocol().epochs;
    let (mut exp, _) = Experiment::restore_for_test(&model, checkpoint)?;
    let data = Prepared::load(&model)?;
    let started = Instant::now();
    let all: Vec<usize> = (0..data.test_x.nrows()).collect();
    observer.test_started(all.len())?;
    let total = all.len();
    if stop.load(Ordering::SeqCst) {
        return Err(SimError::TestStopped { done: 0, total });
    }
    let score = exp.test_scored(&data, &all, None, |done, correct| {
        if stop.load(Ordering::SeqCst) && done < total {
            return Err(SimError::TestStopped { done, total });
        }
        observer.test_progress(done, correct)
    })?;
    let result = Retest {
        overrides: overrides.to_vec(),
        training_examples,
        training_done,
        test_examples: all.len(),
        correct: score.correct,
        test_nse: data.nse(score.squared_error, &all),
        confusion: score.confusion,
        test_s: started.elapsed().as_secs_f64(),
    };
    append(run, &result)?;
    Ok(result)
}

/// The rows of the folder's [`TESTS_FILE`] (none if it has none), refused if it is not a tests file.
fn earlier_rows(path: &Path) -> Result<Vec<csv::StringRecord>, SimError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let csv_error = |e: csv::Error| SimError::output(path, e);
    let mut earlier = csv::Reader::from_path(path).map_err(csv_error)?;
    let header = earlier.headers().map_err(csv_error)?.clone();
    if header.iter().ne(HEADER) {
        return Err(SimError::output(
            path,
            format!(
                "not a tests file: its header is `{}`, expected `{}`",
                header.iter().collect::<Vec<_>>().join(","),
                HEADER.join(",")
            ),
        ));
    }
    earlier.records().map(|row| row.map_err(csv_error)).collect()
}

/// Rewrites the folder's [`TESTS_FILE`] with its rows and `test`'s, under a lock on `.tests.csv.lock` so that two
/// tests of one folder at the same time both keep their row.
fn append(run: &Path, test: &Retest) -> Result<(), SimError> {
    let path = run.join(TESTS_FILE);
    let lock_path = run.join(format!(".{TESTS_FILE}.lock"));
    let lock = std::fs::File::create(&lock_path)
        .and_then(|f| f.lock().map(|()| f))
        .map_err(|e| SimError::write(&lock_path, "the lock of the tests file", &e))?;
    let csv_error = |e: csv::Error| SimError::output(&path, e);
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(HEADER).map_err(csv_error)?;
    for row in earlier_rows(&path)? {
        out.write_record(&row).map_err(csv_error)?;
    }
    out.write_record([
        serde_json::to_string(&test.overrides).expect("strings serialise"),
        test.training_examples.to_string(),
        test.training_done.to_string(),
        test.test_examples.to_string(),
        test.correct.to_string(),
        format!("{:.6}", test.accuracy()),
        test.test_nse.map(|e| format!("{e:.6e}")).unwrap_or_default(),
        format!("{:.3}", test.test_s),
        env!("CARGO_PKG_VERSION").to_string(),
        COMMIT.unwrap_or("").to_string(),
    ])
    .map_err(csv_error)?;
    let bytes = out.into_inner().map_err(|e| SimError::output(&path, e.error()))?;
    let written = RunDir::existing(run).write_atomic(TESTS_FILE, &bytes);
    drop(lock);
    written
}
