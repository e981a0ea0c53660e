//! `snnsim test`: a run tested again prints the run's own accuracy and per-class accuracy, writes the same confusion
//! matrix as the run's final test with `--confusion`, and adds rows to its `tests.csv`; a field that
//! changes training, a folder that is not a run, and a run without a checkpoint exit non-zero with the reason.

mod common;

use common::{data_root, small_run, snnsim, text};

#[test]
fn a_run_tested_again_prints_its_accuracy_and_refuses_training_fields() {
    let Some(data) = data_root() else { return };
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let o = snnsim(&small_run(&["--out", run.to_str().unwrap(), "-q"]), Some(&data));
    assert!(o.status.success(), "{:?}", text(&o));
    let trained = text(&o).0;
    let accuracy = trained.lines().next().unwrap().split(" (").next().unwrap().to_string();
    assert!(accuracy.starts_with("test accuracy: "), "{trained}");

    // Repeating the final test repeats its confusion matrix; a destination it could not write is refused first.
    let again = dir.path().join("again.csv");
    let missing = dir.path().join("no such folder").join("c.csv");
    let test_into = |file: &std::path::Path| {
        snnsim(
            &[
                "test",
                run.to_str().unwrap(),
                "-q",
                "--confusion",
                file.to_str().unwrap(),
            ],
            Some(&data),
        )
    };
    let o = test_into(&missing);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("does not exist"), "{:?}", text(&o));
    assert!(!run.join("tests.csv").exists(), "no test made");
    let o = test_into(&again);
    assert!(o.status.success(), "{:?}", text(&o));
    let (out, _) = text(&o);
    assert!(out.starts_with(&format!("{accuracy} (")), "{out} vs {accuracy}");
    assert!(out.contains("after training"), "{out}");
    assert!(out.contains("per class (% right): 0: "), "{out}");
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        std::fs::read_to_string(run.join("confusion.csv")).unwrap()
    );

    let o = snnsim(
        &["test", run.to_str().unwrap(), "-q", "--set", "protocol.ties=Lowest"],
        Some(&data),
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let table = std::fs::read_to_string(run.join("tests.csv")).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("overrides,training_examples,training_done,test_examples,correct,test_accuracy"));
    assert!(lines[1].starts_with("[],"), "{table}");
    assert!(lines[2].starts_with("\"[\"\"protocol.ties=Lowest\"\"]\","), "{table}");

    let o = snnsim(
        &["test", run.to_str().unwrap(), "-q", "--set", "learning.momentum=0.5"],
        Some(&data),
    );
    assert!(!o.status.success());
    let (_, err) = text(&o);
    assert!(err.contains("field `learning.momentum` = 0.5: expected 0.9"), "{err}");
    assert_eq!(
        std::fs::read_to_string(run.join("tests.csv")).unwrap(),
        table,
        "nothing written"
    );

    let o = snnsim(&["test", dir.path().to_str().unwrap(), "-q"], Some(&data));
    assert!(!o.status.success());
    assert!(text(&o).1.contains("not a run folder"), "{:?}", text(&o));
}
