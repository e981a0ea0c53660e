//! Fuzzing the IDX reader (issue 6) with proptest: mutated valid IDX files, gzipped or not, truncated, with
//! arbitrary headers, and arbitrary bytes must each give `Ok` or a clear error naming the file, never a panic and never
//! an allocation beyond the reader's limit.
//!
//! CI runs 300 cases per target; a fuzzing session runs more, e.g. ten minutes' worth:
//!
//! ```sh
//! PROPTEST_CASES=200000 cargo test --release -p snn-data --test fuzz_idx
//! ```

use flate2::{Compression, write::GzEncoder};
use proptest::prelude::*;
use snn_data::idx::{parse_idx, read_idx_gz};
use std::io::Write;

fn idx(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend(body);
    v
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn valid() -> impl Strategy<Value = (Vec<u8>, u8)> {
    prop_oneof![
        (1u32..20).prop_flat_map(
            |n| prop::collection::vec(any::<u8>(), n as usize).prop_map(move |b| (idx(2049, &[n], &b), 1u8))
        ),
        (1u32..5, 1u32..6, 1u32..6).prop_flat_map(|(n, r, c)| prop::collection::vec(any::<u8>(), (n * r * c) as usize)
            .prop_map(move |b| (idx(2051, &[n, r, c], &b), 3u8))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_idx_never_panics(
        (bytes, ndim) in valid(),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in any::<Option<usize>>(),
        compress in any::<bool>(),
        flip_compressed in any::<bool>(),
    ) {
        let mut raw = bytes.clone();
        for (i, x) in &flips {
            let n = raw.len();
            raw[i % n] ^= x;
        }
        if let Some(c) = cut {
            raw.truncate(c % (raw.len() + 1));
        }
        let parsed = parse_idx(&raw, ndim);
        if let Ok(a) = &parsed {
            prop_assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
        }
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("fuzz-idx1-ubyte.gz");
        let mut file = if compress { gz(&raw) } else { raw.clone() };
        if flip_compressed && !file.is_empty() {
            let i = flips.first().map_or(0, |f| f.0) % file.len();
            file[i] ^= 0x55;
        }
        std::fs::write(&path, &file).unwrap();
        match read_idx_gz(&path, ndim) {
            Ok(a) => prop_assert_eq!(a.data.len(), a.dims.iter().product::<usize>()),
            Err(e) => prop_assert!(e.to_string().contains("fuzz-idx1-ubyte.gz"), "error names the file: {}", e),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), ndim in 0u8..5) {
        let _ = parse_idx(&bytes, ndim);
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.gz");
        std::fs::write(&path, gz(&bytes)).unwrap();
        let _ = read_idx_gz(&path, ndim);
    }
}
