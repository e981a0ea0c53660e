//! Download of missing dataset files with SHA-256 verification.
//!
//! Each file is streamed to `<name>.part` beside its destination while its SHA-256 is computed, checked against the
//! catalog, and only then renamed into place: an interrupted or corrupt download never leaves a file that looks
//! complete.

use crate::catalog::{DataFile, DatasetKind};
use crate::error::DataError;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// SHA-256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String, DataError> {
    let mut f = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| DataError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a file against its published checksum.
pub fn verify(path: &Path, file: &DataFile) -> Result<(), DataError> {
    let actual = sha256_file(path)?;
    if actual == file.sha256 {
        Ok(())
    } else {
        Err(DataError::Checksum {
            path: path.to_path_buf(),
            expected: file.sha256.to_string(),
            actual,
        })
    }
}

/// What [`fetch_missing`] did with each file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The file was present and verified.
    Present(PathBuf),
    /// The file was downloaded and verified.
    Downloaded(PathBuf),
}

/// Makes sure the four files of `kind` are in `dir`: files already there are verified; missing ones are downloaded
/// from `base_url` (ending in `/`) and verified. Files of the catalog only.
pub fn fetch_missing(kind: DatasetKind, dir: &Path, base_url: &str) -> Result<Vec<FetchOutcome>, DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    kind.files()
        .iter()
        .map(|file| {
            let dest = dir.join(file.name);
            if dest.exists() {
                verify(&dest, file)?;
                Ok(FetchOutcome::Present(dest))
            } else {
                download_verified(&format!("{base_url}{}", file.name), &dest, file)?;
                Ok(FetchOutcome::Downloaded(dest))
            }
        })
        .collect()
}

/// Downloads `url` to `dest` through a `.part` file, verifying the SHA-256 before the rename.
pub fn download_verified(url: &str, dest: &Path, file: &DataFile) -> Result<(), DataError> {
    let part = dest.with_file_name(format!("{}.part", file.name));
    let fail = |reason: String| DataError::Download {
        url: url.to_string(),
        reason,
    };
    let response = ureq::get(url).call().map_err(|e| fail(e.to_string()))?;
    let mut body = response.into_body().into_reader();
    let mut out = std::fs::File::create(&part).map_err(|e| DataError::io(&part, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let copied = (|| -> Result<(), DataError> {
        loop {
            let n = body
                .read(&mut buf)
                .map_err(|e| fail(format!("connection broke: {e}")))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| DataError::io(&part, e))?;
        }
        out.sync_all().map_err(|e| DataError::io(&part, e))
    })();
    drop(out);
    let actual = hex(&hasher.finalize());
    let checked = copied.and_then(|()| {
        if actual == file.sha256 {
            Ok(())
        } else {
            Err(fail(format!(
                "SHA-256 of the received bytes is {actual}, expected {}: not the published file",
                file.sha256
            )))
        }
    });
    match checked {
        Ok(()) => std::fs::rename(&part, dest).map_err(|e| DataError::io(dest, e)),
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}
