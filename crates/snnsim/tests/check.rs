//! End-to-end tests of `snnsim check`: bad overrides and model files answered clearly, a closed standard output.

mod common;

use common::*;
use std::process::Command;

#[test]
fn bad_overrides_and_missing_files_fail_clearly() {
    let o = snnsim(&["check", "models/small_lif_ba.ron", "--set", "protocol.epocs=2"], None);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("--set protocol.epocs=2") && err.contains("no field `epocs`"),
        "{err}"
    );

    let o = snnsim(&["check", "models/small_lif_ba.ron", "--set", "learning.depth=5"], None);
    assert!(
        text(&o).1.contains("`learning.depth` = 5: expected between 1 and 2"),
        "{:?}",
        text(&o)
    );

    let o = snnsim(&["run", "models/nope.ron"], None);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("models/nope.ron") && err.contains("cannot read"), "{err}");

    let o = snnsim(&["run", "models/small_lif_ba.ron", "--idle", "nap"], None);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "a usage error, as clap reports them");
    assert!(
        err.contains("--idle") && err.contains("unknown idle wait `nap`: expected `spin` or `sleep`"),
        "{err}"
    );

    let o = snnsim(
        &[
            "check",
            "models/small_lif_ba.ron",
            "--set",
            "learning.batch_reduction=Sum",
        ],
        None,
    );
    assert!(o.status.success());
    assert!(text(&o).0.contains("batch_reduction: Sum"));
}

/// `snnsim ... | head -1`: a reader that goes away is a normal end, not a panic.
#[test]
fn closed_stdout_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_snnsim"))
        .args(["check", "models/small_lif_ba.ron"])
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // close the read end before the child writes
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{err}");
}

/// Every file of the regression corpus (`tests/corpus/models`) is rejected with the error text written on its
/// first line (`// expect: TEXT`) and the file's name, a non-zero exit and no panic.
#[test]
fn corpus_of_bad_model_files_is_answered_clearly() {
    let dir = repo().join("tests/corpus/models");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let content = std::fs::read_to_string(&path).unwrap();
        let expect = content
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("// expect: "))
            .expect("expect line");
        let o = snnsim(&["check", path.to_str().unwrap()], None);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{}: {err}", path.display());
        assert!(!err.contains("panicked"), "{}: {err}", path.display());
        assert!(err.contains(expect), "{}: expected {expect:?} in {err}", path.display());
        assert!(
            err.contains(path.file_name().unwrap().to_str().unwrap()),
            "names the file: {err}"
        );
        n += 1;
    }
    assert!(n >= 20, "corpus of at least 20 files, found {n}");
}
