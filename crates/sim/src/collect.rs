//! Gathering runs made anywhere into one table (`snnsim collect`): every folder under the given roots that holds a
//! `summary.json` is a run, whatever its status (finished, running, interrupted, failed). `held_by` names the process
//! that holds the folder now ([`crate::folder_lock`]): a run whose summary says `running` and that nobody holds was
//! killed (or runs on a machine that does not share this one's file locks) and resumes with `--skip-finished`.

use crate::error::SimError;
use crate::folder_lock::{Occupancy, occupancy};
use crate::metrics::Summary;
use std::path::{Path, PathBuf};

/// One run folder found by [`find`].
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The run folder.
    pub dir: PathBuf,
    /// Its summary, or why it could not be read.
    pub summary: Result<Summary, String>,
}

/// Finds run folders under `roots` (each a run folder or a folder of them, searched 8 levels deep), sorted by path.
pub fn find(roots: &[PathBuf]) -> Result<Vec<Found>, SimError> {
    let mut out = Vec::new();
    for root in roots {
        if !root.is_dir() {
            return Err(SimError::output(root, "no such folder"));
        }
        walk(root, 0, &mut out);
    }
    out.sort_by(|a, b| a.dir.cmp(&b.dir));
    out.dedup_by(|a, b| a.dir == b.dir);
    Ok(out)
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<Found>) {
    let summary = dir.join("summary.json");
    if summary.is_file() {
        let parsed = std::fs::read(&summary)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Summary>(&b).map_err(|e| format!("unreadable summary.json: {e}")));
        out.push(Found {
            dir: dir.to_path_buf(),
            summary: parsed,
        });
        return;
    }
    if depth >= 8 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut subdirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    subdirs.sort();
    for d in subdirs {
        walk(&d, depth + 1, out);
    }
}

/// Column names of the collected table.
pub const COLUMNS: [&str; 19] = [
    "run_dir",
    "status",
    "model",
    "seed",
    "overrides",
    "model_hash",
    "commit",
    "version",
    "test_accuracy",
    "test_accuracy_sem",
    "trials",
    "test_examples",
    "train_examples_seen",
    "wall_s",
    "train_s",
    "test_s",
    "threads",
    "error",
    "held_by",
];

/// The row of one run (empty fields where a value is unknown); overrides are joined with spaces.
pub fn row(found: &Found) -> Vec<String> {
    let dir = found.dir.display().to_string();
    let held_by = match occupancy(&found.dir) {
        Occupancy::Held(holder) => holder,
        Occupancy::Free => String::new(),
    };
    match &found.summary {
        Err(e) => {
            let mut r = vec![String::new(); COLUMNS.len()];
            r[0] = dir;
            r[1] = "unreadable".into();
            r[COLUMNS.len() - 2] = e.clone();
            r[COLUMNS.len() - 1] = held_by;
            r
        }
        Ok(s) => vec![
            dir,
            s.status.clone(),
            s.model.clone(),
            s.seed.to_string(),
            s.overrides.join(" "),
            s.model_hash.clone(),
            s.commit.clone().unwrap_or_default(),
            s.version.clone(),
            s.test_accuracy.map(|a| format!("{a:.6}")).unwrap_or_default(),
            s.test_accuracy_sem.map(|a| format!("{a:.6}")).unwrap_or_default(),
            s.trials.to_string(),
            s.test_examples.to_string(),
            s.train_examples_seen.to_string(),
            format!("{:.1}", s.wall_s),
            format!("{:.1}", s.train_s),
            format!("{:.1}", s.test_s),
            s.threads.to_string(),
            s.error.clone().unwrap_or_default(),
            held_by,
        ],
    }
}

/// The runs as CSV (RFC 4180 quoting), header first.
pub fn to_csv(runs: &[Found]) -> Result<String, SimError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| SimError::output("<csv>", e);
    w.write_record(COLUMNS).map_err(fail)?;
    for r in runs {
        w.write_record(row(r)).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| SimError::output("<csv>", e))?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 fields"))
}
