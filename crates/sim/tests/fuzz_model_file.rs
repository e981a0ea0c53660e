//! Fuzzing the model-file loader (issue 6) with proptest: mutations of every shipped model file and of the bad-input
//! corpus (byte flips, insertions, deletions, truncations, spliced fragments) and arbitrary text must each give `Ok`
//! or a clear `Err` from parsing, checking and `--set`, never a panic.
//!
//! CI runs 300 cases per target. A fuzzing session runs many more, e.g. ten minutes' worth:
//!
//! ```sh
//! PROPTEST_CASES=400000 cargo test --release -p snn-sim --test fuzz_model_file
//! ```
//!
//! A failure is shrunk by proptest and saved under `proptest-regressions/`; add the input to `tests/corpus/models/`
//! with the message it must give.

use proptest::prelude::*;
use snn_sim::ModelFile;
use std::path::{Path, PathBuf};

fn seeds() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    for dir in ["models", "tests/corpus/models"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        out.extend(
            files
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == "ron"))
                .map(|p| std::fs::read_to_string(p).unwrap()),
        );
    }
    assert!(out.len() > 30);
    out
}

#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, String),
    Delete(usize, usize),
    Truncate(usize),
    Splice(usize, usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), "[\\PC(){}\\[\\]:,\"0-9.e-]{0,12}").prop_map(|(i, s)| Edit::Insert(i, s)),
        (any::<usize>(), 0usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<usize>(), 0usize..60).prop_map(|(a, b, n)| Edit::Splice(a, b, n)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut b = text.as_bytes().to_vec();
    for e in edits {
        let n = b.len().max(1);
        match e {
            Edit::Flip(i, x) if !b.is_empty() => b[i % n] ^= x | 1,
            Edit::Insert(i, s) => {
                let at = i % (b.len() + 1);
                b.splice(at..at, s.bytes());
            }
            Edit::Delete(i, k) if !b.is_empty() => {
                let at = i % n;
                let end = (at + k).min(b.len());
                b.drain(at..end);
            }
            Edit::Truncate(i) => b.truncate(i % (b.len() + 1)),
            Edit::Splice(from, to, k) if !b.is_empty() => {
                let src = from % n;
                let frag: Vec<u8> = b[src..(src + k).min(b.len())].to_vec();
                let at = to % (b.len() + 1);
                b.splice(at..at, frag);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// Parsing, checking and overriding: any result but a panic is fine; errors must say something.
fn exercise(text: &str, assignment: &str) {
    match ModelFile::from_ron(text, Path::new("fuzz.ron")) {
        Ok(mut m) => {
            if let Err(e) = m.check() {
                assert!(!e.to_string().is_empty());
            }
            if let Err(e) = m.set(assignment) {
                assert!(e.to_string().starts_with("--set "));
            } else if let Ok(checked) = m.check() {
                let back = ModelFile::from_ron(&checked.to_ron(), Path::new("resolved.ron")).unwrap();
                assert_eq!(&back, checked.file(), "a checked model round-trips");
            }
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.ron:"), "{e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_model_files_never_panic(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
        assignment in "[a-z_.0-9]{0,30}=[\\PC]{0,20}",
    ) {
        let seeds = seeds();
        let text = apply(&seeds[seed.index(seeds.len())], &edits);
        exercise(&text, &assignment);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}", assignment in "\\PC{0,40}") {
        exercise(&text, &assignment);
    }
}
