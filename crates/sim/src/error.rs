//! Errors of a run: each says which file, field or layer, and what was expected.

use crate::model::ModelError;
use snn_data::DataError;
use snn_plasticity::InitError;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Anything that stops a run.
#[derive(Debug, Error)]
pub enum SimError {
    /// The model file is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The data could not be found, fetched or read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The initialisation cannot be realised.
    #[error("initialisation: {0}")]
    Init(#[from] InitError),
    /// The data do not fit the network.
    #[error("{0}")]
    Mismatch(String),
    /// Reading or writing an output file failed.
    #[error("{}: {reason}", path.display())]
    Output {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Another process holds the run folder ([`crate::folder_lock`]).
    #[error(
        "{}: another snnsim process is running in this run folder ({holder}); wait for it to end, or stop it (it \
         checkpoints on Ctrl-C or SIGTERM) and resume",
        path.display()
    )]
    Busy {
        /// The run folder.
        path: PathBuf,
        /// What the holder wrote into the lock file: its pid and start time.
        holder: String,
    },
    /// The run was asked to stop (SIGINT, SIGTERM) and saved a checkpoint.
    #[error("interrupted after {seen} training examples; the run folder holds a checkpoint: continue with `snnsim run --resume {}`", dir.display())]
    Interrupted {
        /// Training examples seen.
        seen: u64,
        /// The run folder.
        dir: PathBuf,
    },
    /// A test of a trained network was asked to stop ([`crate::retest::retest`]'s stop flag) and wrote nothing.
    #[error("the test was stopped after {done} of {total} images; nothing was written")]
    TestStopped {
        /// Test images answered before it stopped.
        done: usize,
        /// Test images it would have presented.
        total: usize,
    },
    /// A drive became NaN or infinite.
    #[error(
        "non-finite drive in {population} at step {step} (t = {time_ms} ms) of {phase} presentation {presentation} (image {image}): the run diverged (try a smaller learning rate or learning.batch_reduction = Mean); the run folder keeps its last good checkpoint"
    )]
    NonFiniteDrive {
        /// Population name.
        population: String,
        /// Step of the presentation.
        step: usize,
        /// Time of that step, ms.
        time_ms: f32,
        /// `training` or `test`.
        phase: &'static str,
        /// Presentation number (training) or position in the test pass.
        presentation: u64,
        /// Index of the image in its dataset.
        image: usize,
    },
    /// A weight or bias became NaN or infinite.
    #[error(
        "non-finite weights or biases in the projection {pre} -> {post} after training example {example}: the run \
         diverged (try a smaller learning rate or learning.batch_reduction = Mean)"
    )]
    NonFinite {
        /// The population the projection reads.
        pre: String,
        /// The population it feeds.
        post: String,
        /// Training examples seen when it was detected.
        example: u64,
    },
}

impl SimError {
    /// An output error for `path`.
    pub fn output(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        SimError::Output {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    /// A failed write of `path` while writing `what` (`the checkpoint`, `the learning curve`): a full disk is named
    /// as such, whether the error says so or the file system has no room left.
    pub fn write(path: impl Into<PathBuf>, what: &str, e: &std::io::Error) -> Self {
        let path = path.into();
        match full_disk(e).or_else(|| filesystem_full(&path)) {
            Some(full) => SimError::output(path, format!("{full} while writing {what}")),
            None => SimError::output(path, format!("cannot write {what}: {e}")),
        }
    }

    /// Whether this error is a full disk (or exhausted quota) met while writing an output file.
    pub fn is_disk_full(&self) -> bool {
        matches!(
            self,
            SimError::Output { reason, .. } if reason.starts_with(DISK_FULL) || reason.starts_with(QUOTA_FULL)
        )
    }
}

/// How messages name a full disk (`ENOSPC`; the text in parentheses is the system's own).
pub const DISK_FULL: &str = "the disk is full (No space left on device)";
/// How messages name an exhausted disk quota (`EDQUOT`).
pub const QUOTA_FULL: &str = "the disk quota is exhausted (Disk quota exceeded)";

/// Below this many free bytes a file system counts as full (a write that failed for want of space leaves less than
/// one block; the margin covers file systems that report free space coarsely).
const FULL_BELOW_BYTES: u64 = 1 << 20;

#[cfg(unix)]
fn full_errno(errno: i32) -> Option<&'static str> {
    use nix::errno::Errno;
    match Errno::from_raw(errno) {
        Errno::ENOSPC => Some(DISK_FULL),
        Errno::EDQUOT => Some(QUOTA_FULL),
        _ => None,
    }
}

#[cfg(not(unix))]
fn full_errno(_: i32) -> Option<&'static str> {
    None
}

/// [`DISK_FULL`] or [`QUOTA_FULL`] if the I/O error says the disk or the quota is full.
pub fn full_disk(e: &std::io::Error) -> Option<&'static str> {
    if e.kind() == std::io::ErrorKind::StorageFull {
        return Some(DISK_FULL);
    }
    e.raw_os_error().and_then(full_errno)
}

/// [`DISK_FULL`] or [`QUOTA_FULL`] if a library's error text reports a write that failed for want of space: HDF5's
/// POSIX driver writes `errno = 28, error message = 'No space left on device'` into its error stack.
pub fn full_disk_in_text(text: &str) -> Option<&'static str> {
    if text.contains("No space left on device") {
        return Some(DISK_FULL);
    }
    if text.contains("Disk quota exceeded") {
        return Some(QUOTA_FULL);
    }
    text.match_indices("errno = ").find_map(|(at, key)| {
        let digits: String = text[at + key.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok().and_then(full_errno)
    })
}

/// [`DISK_FULL`] if the file system holding `path` (or, for a path not created yet, its nearest existing folder) has
/// no room left: less than a mebibyte free, or no free inodes. The test of last resort when an error (HDF5's, say)
/// does not say why a write failed.
pub fn filesystem_full(path: &Path) -> Option<&'static str> {
    #[cfg(unix)]
    {
        let here = Path::new(".");
        let stat = path
            .ancestors()
            .map(|p| if p.as_os_str().is_empty() { here } else { p })
            .find_map(|p| nix::sys::statvfs::statvfs(p).ok())?;
        // fsblkcnt_t and c_ulong are 32 bits wide on some platforms.
        #[allow(clippy::useless_conversion)]
        let free = u64::from(stat.blocks_available()).saturating_mul(u64::from(stat.fragment_size()));
        let no_inodes = stat.files() > 0 && stat.files_available() == 0;
        (free < FULL_BELOW_BYTES || no_inodes).then_some(DISK_FULL)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_named_with_the_file_and_what_was_written() {
        let e = std::io::Error::from_raw_os_error(28);
        let msg = SimError::write("out/run/curve.csv", "the learning curve", &e).to_string();
        assert_eq!(
            msg,
            "out/run/curve.csv: the disk is full (No space left on device) while writing the learning curve"
        );
        assert!(SimError::write("x", "y", &e).is_disk_full());
        let e = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert!(SimError::write("x", "y", &e).is_disk_full());
        #[cfg(target_os = "linux")]
        {
            let e = std::io::Error::from_raw_os_error(122);
            let msg = SimError::write("q.bin", "the checkpoint", &e).to_string();
            assert_eq!(
                msg,
                "q.bin: the disk quota is exhausted (Disk quota exceeded) while writing the checkpoint"
            );
        }
    }

    #[test]
    fn other_write_errors_keep_their_cause() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("summary.json");
        let e = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let err = SimError::write(&path, "the summary", &e);
        assert!(!err.is_disk_full(), "{err}");
        assert_eq!(
            err.to_string(),
            format!("{}: cannot write the summary: permission denied", path.display())
        );
        assert_eq!(filesystem_full(tmp.path()), None, "the temporary folder has room");
        assert_eq!(filesystem_full(&tmp.path().join("not/yet/made.h5")), None);
    }

    #[test]
    fn hdf5s_error_text_names_a_full_disk() {
        // A frame of HDF5's error stack from a run whose disk filled up (the message shown was another frame's,
        // "unable to flush file's cached information: slist already enabled?").
        let frame = "file write failed: time = Thu Dec  3 12:15:56 2026\n, filename = '/mnt/small/r1/rasters.h5', \
                     file descriptor = 3, errno = 28, error message = 'No space left on device', buf = 0x7f7cb4a8f4aa, \
                     total write size = 8518";
        assert_eq!(full_disk_in_text(frame), Some(DISK_FULL));
        #[cfg(unix)]
        assert_eq!(
            full_disk_in_text("write failed: errno = 28, error message = ''"),
            Some(DISK_FULL)
        );
        assert_eq!(full_disk_in_text("slist already enabled?"), None);
        assert_eq!(
            full_disk_in_text("errno = 13, error message = 'Permission denied'"),
            None
        );
        assert_eq!(full_disk_in_text("errno = "), None);
    }
}
