//! One process per run folder.
//!
//! A run holds an exclusive lock on `<folder>/.snnsim-run.lock` from before it writes its first file until it exits.
//! Two processes given the same folder (a sweep launched twice, a SLURM task requeued while the first one still runs,
//! two queues sharing a list of runs) would otherwise both write its checkpoint and learning curve, or both resume
//! it from one checkpoint. The second is refused with the holder named (`snnsim run --skip-finished` skips it).
//!
//! The lock is the operating system's advisory file lock (`flock` on Unix): it goes with the process, so a killed run
//! leaves no stale lock behind, only the small file naming it, which the next run reuses. On network file systems it
//! guards processes on different machines where the file system supports such locks (NFSv4 does); where it has no
//! file locks at all (a Lustre mounted `noflock`, say), the run says so once on stderr and goes on unguarded.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::SimError;

/// The lock file's name inside a run folder. Not a result: a folder holding only this file counts as empty.
pub const LOCK_FILE: &str = ".snnsim-run.lock";

/// An exclusive lock on a run folder, released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct FolderLock {
    /// `None` on a file system without file locks.
    _file: Option<File>,
}

/// Whether a run folder is held by a running process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Occupancy {
    /// No process holds it.
    Free,
    /// A process holds it; the text is what that process wrote into the lock file (its pid and start time).
    Held(String),
}

/// How long [`FolderLock::acquire`] waits for a lock held by someone else before calling the folder busy: long enough
/// to outlast [`occupancy`]'s own look of a few microseconds, short against any run.
const PATIENCE: Duration = Duration::from_millis(500);

impl FolderLock {
    /// Locks the existing folder `dir` ([`SimError::Busy`] with the holder named if another process holds it).
    pub fn acquire(dir: &Path) -> Result<Self, SimError> {
        let path = dir.join(LOCK_FILE);
        let mut file = open(&path).map_err(|e| SimError::write(&path, "the run folder's lock file", &e))?;
        let since = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if since.elapsed() < PATIENCE => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(SimError::Busy {
                        path: dir.to_path_buf(),
                        holder: holder_text(&mut file),
                    });
                }
                Err(TryLockError::Error(e)) if without_locks(&e) => {
                    eprintln!(
                        "warning: {}: this file system has no file locks ({e}); the run goes on without the guard \
                         against a second process in its folder",
                        path.display()
                    );
                    return Ok(Self { _file: None });
                }
                Err(TryLockError::Error(e)) => {
                    return Err(SimError::output(&path, format!("cannot lock the run folder: {e}")));
                }
            }
        }
        let note = format!(
            "pid {} since {}\n",
            std::process::id(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(note.as_bytes()))
            .map_err(|e| SimError::write(&path, "the run folder's lock file", &e))?;
        Ok(Self { _file: Some(file) })
    }
}

/// Whether some process holds `dir` now. A folder without a lock file, or one that cannot be opened or locked, is
/// free: the run that then starts there takes the lock itself (and is refused if it cannot).
pub fn occupancy(dir: &Path) -> Occupancy {
    let path = dir.join(LOCK_FILE);
    if !path.exists() {
        return Occupancy::Free;
    }
    let Ok(mut file) = open(&path) else {
        return Occupancy::Free;
    };
    match file.try_lock() {
        Err(TryLockError::WouldBlock) => Occupancy::Held(holder_text(&mut file)),
        // Locked and released on drop: nobody held it.
        Ok(()) | Err(TryLockError::Error(_)) => Occupancy::Free,
    }
}

/// Whether a lock error means the file system has no file locks (rather than a real failure): ENOSYS (std's
/// `Unsupported`), and on Linux EOPNOTSUPP (95) and ENOLCK (37, an NFS mount without its lock daemon).
fn without_locks(e: &std::io::Error) -> bool {
    const LINUX_EOPNOTSUPP: i32 = 95;
    const LINUX_ENOLCK: i32 = 37;
    e.kind() == std::io::ErrorKind::Unsupported
        || (cfg!(target_os = "linux") && matches!(e.raw_os_error(), Some(LINUX_EOPNOTSUPP | LINUX_ENOLCK)))
}

/// Opens (creating if needed) the lock file without truncating it: truncation before holding the lock would erase
/// the holder's note.
fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// The holder's note, or a plain description when it has not written one yet.
fn holder_text(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_string(&mut text));
    match text.trim() {
        "" => "its lock file names no process yet".to_string(),
        t => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_of_one_folder_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(occupancy(dir.path()), Occupancy::Free);
        let first = FolderLock::acquire(dir.path()).unwrap();
        let pid = format!("pid {}", std::process::id());
        match occupancy(dir.path()) {
            Occupancy::Held(note) => assert!(note.starts_with(&pid), "{note}"),
            Occupancy::Free => panic!("a held folder reads as free"),
        }
        let refused = FolderLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            refused.contains("another snnsim process") && refused.contains(&pid),
            "{refused}"
        );
        drop(first);
        assert_eq!(occupancy(dir.path()), Occupancy::Free);
        let again = FolderLock::acquire(dir.path()).unwrap();
        drop(again);
    }

    #[test]
    fn a_lock_released_within_the_patience_is_taken_rather_than_refused() {
        let dir = tempfile::tempdir().unwrap();
        let held = FolderLock::acquire(dir.path()).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        // A look at the folder by another relaunch holds the lock for microseconds; a run starting meanwhile waits.
        let taken = FolderLock::acquire(dir.path());
        releaser.join().unwrap();
        assert!(taken.is_ok(), "{:?}", taken.err());
    }
}
