//! A run on disk: the run folder and everything written into it.
//!
//! ```text
//! output/<name>[-<overrides>]-seed<seed>-<YYYYmmdd-HHMMSS>/
//!     model.ron      the fully resolved model (overrides applied): `snnsim run` on it repeats the run
//!     summary.json   status (running → finished | interrupted | failed, with the error), seed, overrides, commit,
//!                    accuracy, times
//!     checkpoint.bin the full training state (every protocol.checkpoint_every examples, on SIGINT/SIGTERM, at the
//!                    end of training): `snnsim run --resume <folder>` continues from it
//!     curve.csv      learning curve (examples, epoch, test_accuracy, test_examples, train_accuracy, elapsed_s,
//!                    test_nse)
//!     alignment.csv  angle between each learning hidden layer's teaching signal and backprop's (examples,
//!                    population, angle_deg, samples), measured on the minibatch that ends each curve interval
//!     weights.h5     the trained network by population name, written with the checkpoint at the end of training
//!                    (layout: `export::weights`; `snnsim export weights` writes it from any checkpoint)
//!     rasters.h5     spike rasters of the recorded examples (layout: `recorder`; LIF networks only)
//!     trials.csv     with `trials: N > 1`: each trial's seed and final accuracy (trial_curves.csv: each trial's
//!                    learning curve; curve.csv and alignment.csv then hold the means over trials)
//!     confusion.csv  the final test's answers per class (`crate::confusion`): each class's accuracy, what it was
//!                    taken for, how often no class was named (classification tasks; with trials, summed over them)
//!     tests.csv      only after `snnsim test`: the trained network tested again under other test-time choices
//!                    (`crate::retest`)
//!     .snnsim-run.lock  held by the process running the run (`crate::folder_lock`): one process per folder
//! ```
//!
//! A run never writes into an existing folder's files: folders are created exclusively, files with `create_new`,
//! and `summary.json` is replaced atomically (temporary file, then rename).

use crate::alignment::AlignmentPoint;
use crate::checkpoint::{Checkpoint, Checkpoints, Progress};
use crate::confusion::CONFUSION_FILE;
use crate::dataset::Prepared;
use crate::error::SimError;
use crate::experiment::{Experiment, Observer, Outcome};
use crate::export::weights::Weights;
use crate::folder_lock::{FolderLock, LOCK_FILE, Occupancy, occupancy};
use crate::metrics::{CsvLog, CurvePoint, CurveWriter, Resume, Summary};
use crate::model::{Model, ModelFile};
use crate::recorder::RasterFile;
use crate::trials::{TrialCurveRow, TrialRow, accuracy_sem, mean_outcome, run_trials};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Commit of this build (`-dirty` if the tree had changes), when built from git.
pub const COMMIT: Option<&str> = option_env!("SNNSIM_COMMIT");

/// The files a run keeps in its folder (module docs): an export is never written over one of them but `weights.h5`.
pub const RECORD_FILES: [&str; 12] = [
    "model.ron",
    "summary.json",
    "checkpoint.bin",
    "curve.csv",
    "alignment.csv",
    "weights.h5",
    "rasters.h5",
    "trials.csv",
    "trial_curves.csv",
    "confusion.csv",
    "tests.csv",
    LOCK_FILE,
];

/// Override paths that say where data come from or how the engine computes, not what is simulated: left out of run
/// folder names.
pub const LOCATION_FIELDS: [&str; 5] = [
    "data.root",
    "data.download",
    "data.url",
    "data.verify_checksums",
    "engine",
];

/// What to run and where to put it.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// The model file.
    pub model_path: PathBuf,
    /// `path=value` overrides, applied in order.
    pub overrides: Vec<String>,
    /// Folder under which the run folder is created (`output`).
    pub output_root: PathBuf,
    /// Exact run folder instead (must not exist, or be empty).
    pub run_dir: Option<PathBuf>,
}

impl RunRequest {
    /// A request for `model_path` with `overrides`, run folders under `output/`.
    pub fn new(model_path: PathBuf, overrides: Vec<String>) -> Self {
        Self {
            model_path,
            overrides,
            output_root: PathBuf::from("output"),
            run_dir: None,
        }
    }

    /// The model's name followed by its overrides (the seed and [`LOCATION_FIELDS`] aside), made safe for a folder
    /// name:
    /// `mnist_lif_ba` with `--set learning.depth=1 --set protocol.epochs=2` gives
    /// `mnist_lif_ba-learning.depth=1-protocol.epochs=2`. Long override lists are cut and end with a short hash of
    /// the whole list, so that different sweeps never share a name.
    pub fn label(&self, name: &str) -> String {
        let parts: Vec<String> = self
            .overrides
            .iter()
            .filter(|o| {
                // Where the data live and how the engine computes do not change the model: not in the name.
                let path = o.split('=').next().unwrap_or("").trim();
                path != "seed" && !LOCATION_FIELDS.iter().any(|f| path.starts_with(f))
            })
            .map(|o| {
                o.chars()
                    .filter(|c| !c.is_whitespace())
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || "=._+-".contains(c) {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect()
            })
            .collect();
        if parts.is_empty() {
            return name.to_string();
        }
        let joined = parts.join("-");
        if joined.len() <= 120 {
            format!("{name}-{joined}")
        } else {
            let hash = &model_hash(&self.overrides.join("\n"))[..8];
            let cut: String = joined.chars().take(100).collect();
            format!("{name}-{cut}-{hash}")
        }
    }

    /// Loads the model file, applies the overrides and checks the result.
    pub fn resolve(&self) -> Result<Model, SimError> {
        let mut file = ModelFile::from_path(&self.model_path)?;
        for o in &self.overrides {
            file.set(o)?;
        }
        Ok(file.check_file(&self.model_path)?)
    }
}

/// A run folder, locked for this process while it writes the run into it ([`FolderLock`]); [`RunDir::existing`]
/// adds files to a folder without the lock.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    _lock: Option<FolderLock>,
}

impl RunDir {
    /// Creates `<root>/<base>`, or `<base>-2`, `-3`, … if taken: never reuses an existing folder.
    pub fn create_unique(root: &Path, base: &str) -> Result<Self, SimError> {
        if root.exists() && !root.is_dir() {
            return Err(SimError::output(
                root,
                "a file, not a folder: expected the folder to make run folders in",
            ));
        }
        std::fs::create_dir_all(root)
            .map_err(|e| SimError::output(root, format!("cannot create the output folder: {e}")))?;
        for k in 1..10_000 {
            let name = if k == 1 {
                base.to_string()
            } else {
                format!("{base}-{k}")
            };
            let path = root.join(name);
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    let lock = FolderLock::acquire(&path)?;
                    return Ok(Self {
                        path,
                        _lock: Some(lock),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(SimError::output(&path, format!("cannot create the run folder: {e}")));
                }
            }
        }
        Err(SimError::output(root, "no free run folder name"))
    }

    /// Uses `path` as the run folder: created if missing, accepted if empty (a lock file left by an earlier process
    /// aside), refused otherwise, and refused while another process holds it.
    pub fn create_at(path: &Path) -> Result<Self, SimError> {
        if path.exists() && !path.is_dir() {
            return Err(SimError::output(
                path,
                "a file, not a folder: expected a new or empty run folder",
            ));
        }
        if path.exists() {
            if let Occupancy::Held(holder) = occupancy(path) {
                return Err(SimError::Busy {
                    path: path.to_path_buf(),
                    holder,
                });
            }
            refuse_unless_empty(path)?;
        } else {
            std::fs::create_dir_all(path)
                .map_err(|e| SimError::output(path, format!("cannot create the run folder: {e}")))?;
        }
        let lock = FolderLock::acquire(path)?;
        // Another process may have started here between the look and the lock.
        refuse_unless_empty(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            _lock: Some(lock),
        })
    }

    /// An earlier run's folder, locked for this process: to resume the run in it.
    fn reopen(path: &Path) -> Result<Self, SimError> {
        Ok(Self {
            path: path.to_path_buf(),
            _lock: Some(FolderLock::acquire(path)?),
        })
    }

    /// An existing run folder, to add files to.
    pub(crate) fn existing(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            _lock: None,
        }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `name` atomically: a temporary file in the folder, synced, then a rename over the old one. When the
    /// write fails (a full disk, say) the temporary file is removed and the old file stays as it was.
    pub fn write_atomic(&self, name: &str, contents: &[u8]) -> Result<(), SimError> {
        use std::io::Write;
        let dest = self.path.join(name);
        let tmp = self.path.join(format!(".{name}.tmp"));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(contents)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &dest)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            SimError::write(
                &dest,
                &format!("a new {name} (the old one, if any, is left as it was)"),
                &e,
            )
        })
    }

    /// Writes a file that must not exist yet; when the write fails, the partial file is removed.
    pub fn write_new(&self, name: &str, contents: &[u8]) -> Result<(), SimError> {
        use std::io::Write;
        let dest = self.path.join(name);
        let mut f = std::fs::File::create_new(&dest).map_err(|e| SimError::write(&dest, name, &e))?;
        f.write_all(contents).map_err(|e| {
            drop(f);
            let _ = std::fs::remove_file(&dest);
            SimError::write(&dest, name, &e)
        })
    }
}

/// Refuses a folder that holds anything but a lock file: an earlier run's files are never overwritten.
fn refuse_unless_empty(path: &Path) -> Result<(), SimError> {
    let mut entries = std::fs::read_dir(path).map_err(|e| SimError::output(path, e))?;
    let occupied = entries.any(|e| e.map_or(true, |e| e.file_name() != LOCK_FILE));
    if occupied {
        return Err(SimError::output(
            path,
            "the run folder exists and is not empty; refusing to overwrite an earlier run",
        ));
    }
    Ok(())
}

/// Forwards events to the user's observer and appends curve points to `curve.csv`, alignment points to
/// `alignment.csv`.
struct Recording<'a> {
    inner: &'a mut dyn Observer,
    curve: CurveWriter,
    alignment: CsvLog<AlignmentPoint>,
}

impl<'a> Recording<'a> {
    /// Fresh logs in `dir`.
    fn create(dir: &Path, inner: &'a mut dyn Observer) -> Result<Self, SimError> {
        Ok(Self {
            inner,
            curve: CurveWriter::create(&dir.join("curve.csv"))?,
            alignment: CsvLog::create(&dir.join("alignment.csv"))?,
        })
    }

    /// Logs in `dir` rewritten to what `progress` holds (a resumed run forgets what came after its checkpoint),
    /// then opened for appending.
    fn resume(dir: &RunDir, progress: &Progress, inner: &'a mut dyn Observer) -> Result<Self, SimError> {
        dir.write_atomic("curve.csv", CurveWriter::render(&progress.curve).as_bytes())?;
        dir.write_atomic("alignment.csv", CsvLog::render(&progress.alignment).as_bytes())?;
        Ok(Self {
            inner,
            curve: CurveWriter::append(&dir.path().join("curve.csv"))?,
            alignment: CsvLog::append(&dir.path().join("alignment.csv"))?,
        })
    }
}

impl Observer for Recording<'_> {
    fn train_started(&mut self, total: u64) -> Result<(), SimError> {
        self.inner.train_started(total)
    }
    fn batch_done(&mut self, seen: u64, correct: usize, size: usize) -> Result<(), SimError> {
        self.inner.batch_done(seen, correct, size)
    }
    fn curve_point(&mut self, point: &CurvePoint) -> Result<(), SimError> {
        self.curve.push(point)?;
        self.inner.curve_point(point)
    }
    fn alignment_point(&mut self, point: &AlignmentPoint) -> Result<(), SimError> {
        self.alignment.push(point)?;
        self.inner.alignment_point(point)
    }
    fn test_started(&mut self, total: usize) -> Result<(), SimError> {
        self.inner.test_started(total)
    }
    fn test_progress(&mut self, done: usize, correct: usize) -> Result<(), SimError> {
        self.inner.test_progress(done, correct)
    }
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The run folder.
    pub dir: PathBuf,
    /// What was measured.
    pub outcome: Outcome,
    /// The summary written to `summary.json`.
    pub summary: Summary,
}

/// Checkpoints in a run folder (`checkpoint.bin`), the trained network beside them at the end of training
/// (`weights.h5`, [`crate::export::weights`]), and the stop flag set by the signal handler.
pub struct FolderCheckpoints<'a> {
    dir: PathBuf,
    model: &'a Model,
    stop: &'a AtomicBool,
}

impl<'a> FolderCheckpoints<'a> {
    /// Checkpoints of the run folder `dir` of a run of `model`; `stop` is polled after every minibatch.
    pub fn new(dir: &Path, model: &'a Model, stop: &'a AtomicBool) -> Self {
        Self {
            dir: dir.to_path_buf(),
            model,
            stop,
        }
    }
}

impl Checkpoints for FolderCheckpoints<'_> {
    fn enabled(&self) -> bool {
        true
    }
    fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), SimError> {
        checkpoint.write_atomic(&self.dir.join("checkpoint.bin"))
    }
    fn save_trained(&mut self, checkpoint: &Checkpoint) -> Result<(), SimError> {
        self.save(checkpoint)?;
        Weights::of(self.model, &checkpoint.network, checkpoint.progress.seen, true).write(&self.dir.join("weights.h5"))
    }
    fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Everything `snnsim run` does after parsing its arguments: resolve the model, create the run folder, load the data,
/// train, test, and write the results. If the run fails after its folder exists, `summary.json` says `failed` with
/// the error; if `stop` is set (SIGINT, SIGTERM), the run saves a checkpoint, says `interrupted`, and can be resumed
/// with [`resume`].
pub fn execute(request: &RunRequest, observer: &mut dyn Observer, stop: &AtomicBool) -> Result<RunReport, SimError> {
    let started = Instant::now();
    let model = request.resolve()?;
    let dir = match &request.run_dir {
        Some(p) => RunDir::create_at(p)?,
        None => {
            let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
            RunDir::create_unique(
                &request.output_root,
                &format!("{}-seed{}-{stamp}", request.label(model.name()), model.seed()),
            )?
        }
    };
    let header = format!(
        "// Resolved by snnsim {} from {}{}\n",
        env!("CARGO_PKG_VERSION"),
        request.model_path.display(),
        if request.overrides.is_empty() {
            String::new()
        } else {
            format!(" with --set {}", request.overrides.join(" --set "))
        }
    );
    let ron = model.to_ron();
    dir.write_new("model.ron", format!("{header}{ron}\n").as_bytes())?;
    let summary = Summary {
        status: "running".into(),
        error: None,
        model: model.name().to_string(),
        model_path: request.model_path.display().to_string(),
        model_hash: model_hash(&ron),
        overrides: request.overrides.clone(),
        seed: model.seed(),
        version: env!("CARGO_PKG_VERSION").into(),
        commit: COMMIT.map(String::from),
        resumes: Vec::new(),
        train_examples_seen: 0,
        test_accuracy: None,
        test_examples: 0,
        wall_s: 0.0,
        train_s: 0.0,
        test_s: 0.0,
        threads: rayon::current_num_threads(),
        trials: model.trials(),
        test_accuracy_sem: None,
        test_nse: None,
    };
    write_summary(&dir, &summary)?;
    if model.trials() > 1 {
        let mut sem = None;
        let result = run_trials_into(&dir, &model, observer, stop, &mut sem);
        let summary = Summary {
            test_accuracy_sem: sem,
            ..summary
        };
        return conclude(dir, summary, result, started, 0.0);
    }
    let result = (|| -> Result<Outcome, SimError> {
        let data = Prepared::load(&model)?;
        // Rate networks have no spikes: no raster file.
        let rasters = (!model.is_rate())
            .then(|| RasterFile::create(&dir.path().join("rasters.h5"), &model))
            .transpose()?;
        let mut rec = Recording::create(dir.path(), observer)?;
        let mut exp = Experiment::new(&model)?;
        let mut checkpoints = FolderCheckpoints::new(dir.path(), &model, stop);
        let outcome = exp.run_from(&data, &mut rec, rasters.as_ref(), None, &mut checkpoints);
        finish(outcome, rasters)
    })();
    conclude(dir, summary, result, started, 0.0)
}

/// Closes the raster file after training and testing. The error that stopped the run, if any, is the one reported:
/// closing a file whose write failed (on a full disk, say) fails again, with a less telling message.
fn finish(outcome: Result<Outcome, SimError>, rasters: Option<RasterFile>) -> Result<Outcome, SimError> {
    let closed = rasters.map_or(Ok(()), RasterFile::close);
    let outcome = outcome?;
    closed.map(|()| outcome)
}

/// Runs the trials of a `trials: N` model and writes `trials.csv`, `trial_curves.csv`, and their means into
/// `curve.csv` and `alignment.csv`.
fn run_trials_into(
    dir: &RunDir,
    model: &Model,
    observer: &mut dyn Observer,
    stop: &AtomicBool,
    sem: &mut Option<f64>,
) -> Result<Outcome, SimError> {
    let trials = run_trials(model, observer, stop)?;
    let mut table = CsvLog::<TrialRow<'_>>::create(&dir.path().join("trials.csv"))?;
    let mut curves = CsvLog::<TrialCurveRow<'_>>::create(&dir.path().join("trial_curves.csv"))?;
    for t in &trials {
        table.push(&TrialRow(t))?;
        for p in &t.outcome.curve {
            curves.push(&TrialCurveRow(t.trial, p))?;
        }
    }
    let mean = mean_outcome(&trials);
    dir.write_new("curve.csv", CurveWriter::render(&mean.curve).as_bytes())?;
    dir.write_new("alignment.csv", CsvLog::render(&mean.alignment).as_bytes())?;
    *sem = accuracy_sem(&trials);
    Ok(mean)
}

/// Continues an interrupted (or failed) run from its folder's `model.ron` and `checkpoint.bin`. The learning curve is
/// rewritten from the checkpoint's points and raster examples recorded after the checkpoint are removed, so that the
/// finished folder equals that of an uninterrupted run (wall times aside).
pub fn resume(run_dir: &Path, observer: &mut dyn Observer, stop: &AtomicBool) -> Result<RunReport, SimError> {
    let started = Instant::now();
    let summary_path = run_dir.join("summary.json");
    let not_a_run = |e: std::io::Error| SimError::output(run_dir, format!("not a run folder (summary.json: {e})"));
    // Looked for before the lock, which would leave a lock file in any folder named by mistake.
    std::fs::metadata(&summary_path).map_err(not_a_run)?;
    // Locked before the summary is read: a run that another process is still running has no final checkpoint yet.
    let dir = RunDir::reopen(run_dir)?;
    let mut summary: Summary = std::fs::read(&summary_path)
        .map_err(not_a_run)
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| SimError::output(&summary_path, e)))?;
    if summary.status == "finished" {
        return Err(SimError::output(
            run_dir,
            "this run has finished; there is nothing to resume",
        ));
    }
    let model_path = run_dir.join("model.ron");
    let model = ModelFile::from_path(&model_path)?.check_file(&model_path)?;
    let checkpoint_path = run_dir.join("checkpoint.bin");
    let checkpoint = Checkpoint::read(&checkpoint_path)?;
    if !checkpoint.was_taken_for(&model) {
        // An intact checkpoint (its SHA-256 checked) of a different model: the folder's files were mixed up.
        return Err(SimError::output(
            &checkpoint_path,
            format!(
                "the checkpoint was taken for another model than {}: refusing to resume",
                model_path.display()
            ),
        ));
    }
    let (mut exp, progress) = Experiment::restore(&model, checkpoint)?;
    // A process killed outright never wrote its summary's wall time; its training time up to the last checkpoint
    // is then the best lower bound there is.
    let earlier_wall = summary.wall_s.max(progress.train_s);
    summary.status = "running".into();
    summary.error = None;
    summary.threads = rayon::current_num_threads();
    summary.resumes.push(Resume {
        commit: COMMIT.map(String::from),
        version: env!("CARGO_PKG_VERSION").into(),
        from_examples: progress.seen,
    });
    write_summary(&dir, &summary)?;
    let result = (|| -> Result<Outcome, SimError> {
        let data = Prepared::load(&model)?;
        let mut rec = Recording::resume(&dir, &progress, observer)?;
        let rasters = (!model.is_rate())
            .then(|| RasterFile::reopen(&dir.path().join("rasters.h5"), &model, progress.seen))
            .transpose()?;
        let mut checkpoints = FolderCheckpoints::new(dir.path(), &model, stop);
        let outcome = exp.run_from(&data, &mut rec, rasters.as_ref(), Some(progress), &mut checkpoints);
        finish(outcome, rasters)
    })();
    conclude(dir, summary, result, started, earlier_wall)
}

/// What a re-launched sweep task should do with its run folder (`snnsim run --out DIR --skip-finished`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Relaunch {
    /// No finished or resumable run there: start (an occupied folder is still refused by the run itself).
    Start,
    /// Another process is running there now (the text names it): leave it alone.
    Busy(String),
    /// The run there has finished: nothing to do.
    Skip,
    /// An unfinished run with a checkpoint: resume it.
    Resume,
    /// An interrupted or failed run without a checkpoint (one stopped before its first, or a run of several
    /// trials, which keep none): set the folder aside with [`set_aside`] and start again.
    Restart,
}

/// Decides what to do with the run folder `dir` when a sweep is launched again.
pub fn relaunch_action(dir: &Path) -> Relaunch {
    if let Occupancy::Held(holder) = occupancy(dir) {
        return Relaunch::Busy(holder);
    }
    let summary = std::fs::read(dir.join("summary.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Summary>(&b).ok());
    match summary {
        Some(s) if s.status == "finished" => Relaunch::Skip,
        Some(_) if dir.join("checkpoint.bin").exists() => Relaunch::Resume,
        // Not "running": that may be a live process of another sweep; a killed one needs a look by hand.
        Some(s) if s.status == "interrupted" || s.status == "failed" => Relaunch::Restart,
        _ => Relaunch::Start,
    }
}

/// [`relaunch_action`] for a run of `request`: a finished run is skipped, and an unfinished one resumed, only if the
/// folder's `model.ron` is the model `request` resolves to (compared field by field, so that a folder written before a
/// field with a default existed still matches; where the data live and how the engine computes, the
/// [`LOCATION_FIELDS`], are not compared, as they are not named in run folders: a resumed run keeps its folder's).
/// Otherwise a sweep task whose values changed but whose folder did not would report the old run as the new one; the
/// error names the first field that differs.
pub fn relaunch(dir: &Path, request: &RunRequest) -> Result<Relaunch, SimError> {
    let action = relaunch_action(dir);
    match action {
        Relaunch::Skip | Relaunch::Resume => check_same_model(dir, request)?,
        // A summary there that did not parse: a run whose state cannot be told, not a folder to start in.
        Relaunch::Start if dir.join("summary.json").exists() => {
            let path = dir.join("summary.json");
            let unreadable = std::fs::read(&path).map_err(|e| e.to_string()).and_then(|b| {
                serde_json::from_slice::<Summary>(&b)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
            if let Err(e) = unreadable {
                return Err(SimError::output(
                    path,
                    format!(
                        "unreadable ({e}): whether this run finished cannot be told; look at the folder, or choose \
                         another --out"
                    ),
                ));
            }
        }
        _ => {}
    }
    Ok(action)
}

/// Refuses a run folder whose `model.ron` is not the model `request` resolves to.
fn check_same_model(dir: &Path, request: &RunRequest) -> Result<(), SimError> {
    let wanted = request.resolve()?;
    let held = ModelFile::from_path(&dir.join("model.ron"))?;
    let to_json = |f: &ModelFile| serde_json::to_value(f).unwrap_or(serde_json::Value::Null);
    let Some((field, there, asked)) = first_difference(&to_json(&held), &to_json(wanted.file()), String::new()) else {
        return Ok(());
    };
    let set = if request.overrides.is_empty() {
        String::new()
    } else {
        format!(" with --set {}", request.overrides.join(" --set "))
    };
    Err(SimError::output(
        dir,
        format!(
            "holds a run of another model: its model.ron has `{field}` = {there} where {}{set} gives {asked}; \
             choose another --out, or move this folder away",
            request.model_path.display()
        ),
    ))
}

/// The first field (as a `--set` path) where two models' JSON forms differ, with both values; the
/// [`LOCATION_FIELDS`] and what lies under them are not compared.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, path: String) -> Option<(String, String, String)> {
    use serde_json::Value;
    let located = |f: &&str| path == *f || path.strip_prefix(*f).is_some_and(|rest| rest.starts_with('.'));
    if LOCATION_FIELDS.iter().any(located) {
        return None;
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if x.keys().eq(y.keys()) => {
            x.iter().find_map(|(k, v)| first_difference(v, &y[k], join(k)))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, join(&i.to_string()))),
        _ if a == b => None,
        _ => Some((path, shown(a), shown(b))),
    }
}

/// A model file's value as written: an `f32` field (which JSON holds as the nearest f64) in its shortest form.
fn shown(v: &serde_json::Value) -> String {
    match v.as_f64() {
        Some(x) if v.is_f64() && f64::from(x as f32) == x => (x as f32).to_string(),
        _ => v.to_string(),
    }
}

/// Renames the run folder `dir` to `<dir>.unfinished` (or `.unfinished-2`, …): nothing is deleted. Returns the new
/// name. Refused ([`SimError::Busy`]) while another process holds the folder: a relaunch that decided to set it
/// aside may have been overtaken by another that has started there since.
pub fn set_aside(dir: &Path) -> Result<PathBuf, SimError> {
    let _held = FolderLock::acquire(dir)?;
    for k in 1..10_000 {
        let mut name = dir.as_os_str().to_owned();
        name.push(if k == 1 {
            ".unfinished".to_string()
        } else {
            format!(".unfinished-{k}")
        });
        let to = PathBuf::from(name);
        if !to.exists() {
            std::fs::rename(dir, &to)
                .map_err(|e| SimError::output(dir, format!("cannot set the folder aside: {e}")))?;
            return Ok(to);
        }
    }
    Err(SimError::output(dir, "too many unfinished copies beside it"))
}

/// SHA-256 of a resolved model's RON text, lower-case hex.
pub fn model_hash(ron: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(ron.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A full disk that stopped a run which has a checkpoint: the message says how to continue. Not when the raster file
/// was being written: HDF5 leaves the example it was writing damaged, which `--resume` cannot remove.
fn with_resume_hint(e: SimError, dir: &RunDir) -> SimError {
    let resumable = matches!(&e, SimError::Output { path, .. } if !path.ends_with("rasters.h5"));
    if !e.is_disk_full() || !resumable || !dir.path().join("checkpoint.bin").exists() {
        return e;
    }
    match e {
        SimError::Output { path, reason } => SimError::Output {
            path,
            reason: format!(
                "{reason}; the run folder keeps its last checkpoint: free some space, then continue with \
                     `snnsim run --resume {}`",
                dir.path().display()
            ),
        },
        e => e,
    }
}

fn write_summary(dir: &RunDir, s: &Summary) -> Result<(), SimError> {
    dir.write_atomic(
        "summary.json",
        serde_json::to_string_pretty(s).expect("summary serialises").as_bytes(),
    )
}

/// Writes the final summary of a run (finished, interrupted or failed) and returns the report or the error.
fn conclude(
    dir: RunDir,
    mut summary: Summary,
    result: Result<Outcome, SimError>,
    started: Instant,
    earlier_wall: f64,
) -> Result<RunReport, SimError> {
    summary.wall_s = earlier_wall + started.elapsed().as_secs_f64();
    // Before the summary that says `finished`: a finished run has its confusion matrix, and a run that cannot write
    // it (a full disk) is marked failed like any other.
    let result = result.and_then(|outcome| match &outcome.confusion {
        Some(confusion) => confusion.write(&dir.path().join(CONFUSION_FILE)).map(|()| outcome),
        None => Ok(outcome),
    });
    match result {
        Ok(outcome) => {
            summary.status = "finished".into();
            summary.train_examples_seen = outcome.train_examples_seen;
            summary.test_accuracy = Some(outcome.test_accuracy());
            summary.test_nse = outcome.test_nse;
            summary.test_examples = outcome.test_total;
            summary.train_s = outcome.train_s;
            summary.test_s = outcome.test_s;
            write_summary(&dir, &summary)?;
            Ok(RunReport {
                dir: dir.path().to_path_buf(),
                outcome,
                summary,
            })
        }
        Err(SimError::Interrupted { seen, .. }) => {
            let e = SimError::Interrupted {
                seen,
                dir: dir.path().to_path_buf(),
            };
            summary.status = "interrupted".into();
            summary.train_examples_seen = seen;
            summary.error = Some(e.to_string());
            let _ = write_summary(&dir, &summary);
            Err(e)
        }
        Err(e) => {
            let e = with_resume_hint(e, &dir);
            summary.status = "failed".into();
            summary.error = Some(e.to_string());
            // On a full disk this may fail too; summary.json then still says "running".
            let _ = write_summary(&dir, &summary);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_folder_labels_come_from_the_overrides() {
        let file = ModelFile::from_ron("(name: \"m\", network: (layers: [2, 2]))", Path::new("m.ron")).unwrap();
        let req = |o: &[&str]| RunRequest::new("m.ron".into(), o.iter().map(|s| s.to_string()).collect());
        assert_eq!(req(&[]).label(&file.name), "m");
        assert_eq!(
            req(&["seed=3", "data.root=\"/x y\"", "engine.first_layer=Gram"]).label(&file.name),
            "m"
        );
        assert_eq!(
            req(&["learning.depth=2", "network.layers=[2, 5, 2]"]).label(&file.name),
            "m-learning.depth=2-network.layers=_2_5_2_"
        );
        let long: Vec<String> = (0..30).map(|i| format!("record.test_examples={i}")).collect();
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        let a = req(&long).label(&file.name);
        let mut other = long.clone();
        other[29] = "record.test_examples=99";
        let b = req(&other).label(&file.name);
        assert!(a.len() < 120 && a != b, "{a} vs {b}");
    }

    #[test]
    fn a_run_folder_is_new_or_empty_and_held_by_one_process() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("run");
        let first = RunDir::create_at(&path).unwrap();
        let refused = RunDir::create_at(&path).unwrap_err().to_string();
        assert!(refused.contains("another snnsim process"), "{refused}");
        assert!(RunDir::reopen(&path).is_err());
        drop(first);
        // A killed process leaves its lock file: the folder is still empty.
        assert!(path.join(LOCK_FILE).exists());
        let again = RunDir::create_at(&path).unwrap();
        again.write_new("model.ron", b"()").unwrap();
        drop(again);
        let refused = RunDir::create_at(&path).unwrap_err().to_string();
        assert!(refused.contains("not empty"), "{refused}");
        assert!(RunDir::reopen(&path).is_ok());
    }
}
