//! End-to-end tests of `snnsim bench`.

mod common;

use common::*;

/// `snnsim bench` prints ms per minibatch, cell updates and synaptic events for training, training with the
/// alignment measurement, and testing.
#[test]
fn bench_reports_both_modes() {
    let Some(data) = data_root() else { return };
    let o = snnsim(
        &[
            "bench",
            "models/mnist_rate_bp.ron",
            "--set",
            "data.train_limit=200",
            "--set",
            "data.test_limit=200",
            "--set",
            "data.download=false",
            "--threads",
            "1",
            "--batches",
            "2",
        ],
        Some(&data),
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("1 steps/presentation when training (1 when testing)"),
        "{out}"
    );
    for mode in ["train        1", "align        1", "test         1"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(mode))
            .unwrap_or_else(|| panic!("{mode}: {out}"));
        let events: f64 = line.split_whitespace().last().unwrap().parse().unwrap();
        assert!(events > 0.0, "{line}");
    }
}

/// `bench --weights` starts from a run's trained network; a checkpoint of another shape, or of another algorithm's
/// feedback, is refused with the file and both named, before any data are loaded.
#[test]
fn bench_starts_from_a_checkpoint() {
    let Some(data) = data_root() else { return };
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("trained");
    let limits = [
        "--set",
        "data.train_limit=200",
        "--set",
        "data.test_limit=100",
        "--set",
        "data.download=false",
    ];
    let mut args = vec![
        "run",
        "models/mnist_rate_bp.ron",
        "--set",
        "protocol.epochs=1",
        "-q",
        "--out",
    ];
    args.push(run.to_str().unwrap());
    args.extend(limits);
    let o = snnsim(&args, Some(&data));
    assert!(o.status.success(), "{}", text(&o).1);
    let checkpoint = run.join("checkpoint.bin");
    assert!(checkpoint.is_file());

    let bench = |extra: &[&str]| {
        let mut args = vec!["bench", "models/mnist_rate_bp.ron", "--threads", "1", "--batches", "1"];
        args.extend(limits);
        args.extend(["--weights", checkpoint.to_str().unwrap()]);
        args.extend(extra);
        snnsim(&args, Some(&data))
    };
    let o = bench(&[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.lines().any(|l| l.starts_with("train        1")), "{out}");

    let o = bench(&["--set", "network.layers=[784,500,10]"]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("checkpoint.bin") && err.contains("[784, 500, 10]"),
        "{err}"
    );

    // Backprop's feedback is the forward weights; feedback alignment needs matrices of its own.
    let o = bench(&["--set", "learning.algorithm=FA"]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("checkpoint.bin")
            && err.contains("by the forward weights")
            && err.contains("FA asks for")
            && err.contains("a 1000x10 matrix"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
