//! A run on disk: the run folder and everything written into it.
//!
//! ```text
//! output/<name>-seed<seed>-<YYYYmmdd-HHMMSS>/
//!     model.ron      the fully resolved model (overrides applied): `snnsim run` on it repeats the run
//!     summary.json   status (running → finished | failed, with the error), seed, overrides, commit, accuracy, times
//!     curve.csv      learning curve (examples, epoch, test_accuracy, test_examples, train_accuracy, elapsed_s)
//!     rasters.h5     spike rasters of the recorded examples (layout: `recorder`)
//! ```
//!
//! A run never writes into an existing folder's files: folders are created exclusively, files with `create_new`,
//! and `summary.json` is replaced atomically (temporary file, then rename).

use crate::dataset::Prepared;
use crate::error::SimError;
use crate::experiment::{Experiment, Observer, Outcome};
use crate::metrics::{CurvePoint, CurveWriter, Summary};
use crate::model::{Model, ModelFile};
use crate::recorder::RasterFile;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Commit of this build (`-dirty` if the tree had changes), when built from git.
pub const COMMIT: Option<&str> = option_env!("SNNSIM_COMMIT");

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

    /// Loads the model file, applies the overrides and checks the result.
    pub fn resolve(&self) -> Result<Model, SimError> {
        let mut file = ModelFile::from_path(&self.model_path)?;
        for o in &self.overrides {
            file.set(o)?;
        }
        Ok(file.check()?)
    }
}

/// A created run folder.
#[derive(Clone, Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates `<root>/<base>`, or `<base>-2`, `-3`, … if taken: never reuses an existing folder.
    pub fn create_unique(root: &Path, base: &str) -> Result<Self, SimError> {
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
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(SimError::output(&path, format!("cannot create the run folder: {e}")));
                }
            }
        }
        Err(SimError::output(root, "no free run folder name"))
    }

    /// Uses `path` as the run folder: created if missing, accepted if empty, refused otherwise.
    pub fn create_at(path: &Path) -> Result<Self, SimError> {
        if path.exists() {
            let empty = std::fs::read_dir(path)
                .map_err(|e| SimError::output(path, e))?
                .next()
                .is_none();
            if !empty {
                return Err(SimError::output(
                    path,
                    "the run folder exists and is not empty; refusing to overwrite an earlier run",
                ));
            }
        } else {
            std::fs::create_dir_all(path)
                .map_err(|e| SimError::output(path, format!("cannot create the run folder: {e}")))?;
        }
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `name` atomically: a temporary file in the folder, then a rename over the old one.
    pub fn write_atomic(&self, name: &str, contents: &[u8]) -> Result<(), SimError> {
        let dest = self.path.join(name);
        let tmp = self.path.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, contents)
            .and_then(|()| std::fs::rename(&tmp, &dest))
            .map_err(|e| SimError::output(&dest, e))
    }

    /// Writes a file that must not exist yet.
    pub fn write_new(&self, name: &str, contents: &[u8]) -> Result<(), SimError> {
        use std::io::Write;
        let dest = self.path.join(name);
        std::fs::File::create_new(&dest)
            .and_then(|mut f| f.write_all(contents))
            .map_err(|e| SimError::output(&dest, e))
    }
}

/// Forwards events to the user's observer and appends curve points to `curve.csv`.
struct Recording<'a> {
    inner: &'a mut dyn Observer,
    curve: CurveWriter,
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

/// Everything `snnsim run` does after parsing its arguments: resolve the model, create the run folder, load the data,
/// train, test, and write the results. If the run fails after its folder exists, `summary.json` says `failed` with
/// the error.
pub fn execute(request: &RunRequest, observer: &mut dyn Observer) -> Result<RunReport, SimError> {
    let started = Instant::now();
    let model = request.resolve()?;
    let f = &model.file;
    let dir = match &request.run_dir {
        Some(p) => RunDir::create_at(p)?,
        None => {
            let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
            RunDir::create_unique(&request.output_root, &format!("{}-seed{}-{stamp}", f.name, f.seed))?
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
    dir.write_new("model.ron", format!("{header}{}\n", f.to_ron()).as_bytes())?;
    let threads = rayon::current_num_threads();
    let mut summary = Summary {
        status: "running".into(),
        error: None,
        model: f.name.clone(),
        model_path: request.model_path.display().to_string(),
        overrides: request.overrides.clone(),
        seed: f.seed,
        version: env!("CARGO_PKG_VERSION").into(),
        commit: COMMIT.map(String::from),
        train_examples_seen: 0,
        test_accuracy: None,
        test_examples: 0,
        wall_s: 0.0,
        train_s: 0.0,
        test_s: 0.0,
        threads,
    };
    let write_summary = |s: &Summary| {
        dir.write_atomic(
            "summary.json",
            serde_json::to_string_pretty(s).expect("summary serialises").as_bytes(),
        )
    };
    write_summary(&summary)?;

    let result = (|| -> Result<Outcome, SimError> {
        let data = Prepared::load(&model)?;
        let rasters = RasterFile::create(&dir.path().join("rasters.h5"), &model)?;
        let mut rec = Recording {
            inner: observer,
            curve: CurveWriter::create(&dir.path().join("curve.csv"))?,
        };
        let mut exp = Experiment::new(&model)?;
        let outcome = exp.run(&data, &mut rec, Some(&rasters));
        rasters.close()?;
        outcome
    })();
    summary.wall_s = started.elapsed().as_secs_f64();
    match result {
        Ok(outcome) => {
            summary.status = "finished".into();
            summary.train_examples_seen = outcome.train_examples_seen;
            summary.test_accuracy = Some(outcome.test_accuracy());
            summary.test_examples = outcome.test_total;
            summary.train_s = outcome.train_s;
            summary.test_s = outcome.test_s;
            write_summary(&summary)?;
            Ok(RunReport {
                dir: dir.path().to_path_buf(),
                outcome,
                summary,
            })
        }
        Err(e) => {
            summary.status = "failed".into();
            summary.error = Some(e.to_string());
            let _ = write_summary(&summary);
            Err(e)
        }
    }
}
