//! Reader for gzipped IDX files (big-endian header: two zero bytes, a type byte, a dimension count, then one u32 per
//! dimension, then the data row by row). Only unsigned bytes (type 0x08) occur in MNIST-format datasets.

use crate::error::DataError;
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

/// Largest decompressed file accepted (a guard against corrupt headers and gzip bombs): 512 MiB.
pub const MAX_BYTES: usize = 512 << 20;

/// An n-dimensional array of unsigned bytes read from an IDX file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxU8 {
    /// Sizes of the dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<u8>,
}

/// Reads a gzipped IDX file of unsigned bytes with exactly `ndim` dimensions.
pub fn read_idx_gz(path: &Path, ndim: u8) -> Result<IdxU8, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut raw = Vec::new();
    GzDecoder::new(std::io::BufReader::new(file))
        .take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| {
            DataError::format(
                path,
                format!("not a valid gzip stream ({e}); expected a gzipped IDX file"),
            )
        })?;
    if raw.len() > MAX_BYTES {
        return Err(DataError::format(
            path,
            format!("decompresses to more than {MAX_BYTES} bytes"),
        ));
    }
    parse_idx(&raw, ndim).map_err(|reason| DataError::format(path, reason))
}

/// Parses the bytes of an (uncompressed) IDX file; the error says what is wrong.
pub fn parse_idx(raw: &[u8], ndim: u8) -> Result<IdxU8, String> {
    if raw.len() < 4 {
        return Err(format!("{} bytes is too short for an IDX header", raw.len()));
    }
    let magic = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
    let expected = 0x0800 | u32::from(ndim);
    if magic != expected {
        return Err(format!(
            "magic number {magic} (0x{magic:08x}), expected {expected} (0x{expected:08x}: unsigned bytes, {ndim} dimensions)"
        ));
    }
    let header = 4 + 4 * usize::from(ndim);
    if raw.len() < header {
        return Err(format!("header truncated: {} bytes, expected {header}", raw.len()));
    }
    let dims: Vec<usize> = (0..usize::from(ndim))
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([raw[o], raw[o + 1], raw[o + 2], raw[o + 3]]) as usize
        })
        .collect();
    let len = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_BYTES)
        .ok_or_else(|| format!("dimensions {dims:?} are too large"))?;
    let body = &raw[header..];
    if body.len() != len {
        return Err(format!(
            "dimensions {dims:?} need {len} data bytes, the file has {} ({})",
            body.len(),
            if body.len() < len {
                "truncated"
            } else {
                "trailing bytes"
            }
        ));
    }
    Ok(IdxU8 {
        dims,
        data: body.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        for d in dims {
            v.extend(d.to_be_bytes());
        }
        v.extend(body);
        v
    }

    #[test]
    fn parses_and_validates() {
        let ok = parse_idx(&idx(2049, &[3], &[1, 2, 3]), 1).unwrap();
        assert_eq!(
            ok,
            IdxU8 {
                dims: vec![3],
                data: vec![1, 2, 3]
            }
        );
        assert!(
            parse_idx(&idx(2051, &[3], &[1, 2, 3]), 1)
                .unwrap_err()
                .contains("magic number 2051")
        );
        assert!(
            parse_idx(&idx(2049, &[4], &[1, 2, 3]), 1)
                .unwrap_err()
                .contains("truncated")
        );
        assert!(
            parse_idx(&idx(2049, &[2], &[1, 2, 3]), 1)
                .unwrap_err()
                .contains("trailing")
        );
        assert!(parse_idx(&[0, 0], 1).unwrap_err().contains("too short"));
        assert!(
            parse_idx(&idx(2051, &[1 << 31, 1 << 31, 4], &[]), 3)
                .unwrap_err()
                .contains("too large")
        );
    }
}
