//! `snnsim test`: a run's trained network tested again from its checkpoint. With no override it repeats the run's
//! final test bit for bit; a test-time override gives what a run trained the same way and tested under it gives; a
//! field that changes training is refused with the field named, and nothing is written.

mod common;

use common::data_root;
use snn_sim::SimError;
use snn_sim::experiment::{Observer, Silent};
use snn_sim::metrics::Summary;
use snn_sim::retest::{TESTS_FILE, retest};
use snn_sim::run::{RunRequest, execute};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// The stop flag of a test that nobody stops.
static NO_STOP: AtomicBool = AtomicBool::new(false);

/// Asks the test to stop once `done` images are answered, as Python's Ctrl-C does from another thread.
struct StopAt<'a> {
    done: usize,
    stop: &'a AtomicBool,
}

impl Observer for StopAt<'_> {
    fn test_progress(&mut self, done: usize, _correct: usize) -> Result<(), SimError> {
        if done == self.done {
            self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }
}

fn model_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../models")
        .join(name)
}

/// Trains `model` on a small MNIST subset into `dir` and returns its summary.
fn train(model: &str, root: &Path, dir: &Path, extra: &[&str]) -> Summary {
    let mut overrides = vec![
        format!("data.root=\"{}\"", root.display()),
        "data.download=false".into(),
        "data.train_limit=200".into(),
        "data.test_limit=100".into(),
        "protocol.epochs=1".into(),
        "protocol.curve_every=0".into(),
        "record.train_examples=[]".into(),
        "record.test_examples=[]".into(),
        "record.traces=[]".into(),
    ];
    overrides.extend(extra.iter().map(|s| s.to_string()));
    let request = RunRequest {
        model_path: model_path(model),
        overrides,
        output_root: dir.parent().unwrap().to_path_buf(),
        run_dir: Some(dir.to_path_buf()),
    };
    execute(&request, &mut Silent, &AtomicBool::new(false)).unwrap();
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

fn rows_of(dir: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(dir.join(TESTS_FILE))
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect()
}

const SMALL_BERNOULLI: [&str; 5] = [
    "network.layers=[784, 40, 40, 20]",
    "learning.depth=3",
    "network.cells.Bernoulli.cells_per_class=2",
    "protocol.batch_size=10",
    "learning.learning_rate=Fixed(0.01)",
];

#[test]
fn a_stochastic_network_tested_again_repeats_its_final_test_and_takes_other_read_outs() {
    let Some(root) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bernoulli");
    let summary = train("lillicrap_spiking_mnist.ron", &root, &dir, &SMALL_BERNOULLI);
    let again = retest(&dir, &[], &mut Silent, &NO_STOP).unwrap();
    assert_eq!(again.test_examples, 100);
    assert!(again.training_done);
    assert_eq!(again.training_examples, 200);
    assert_eq!(
        Some(again.accuracy()),
        summary.test_accuracy,
        "the same checkpoint and streams give the same test, noise included"
    );
    let twice = retest(&dir, &[], &mut Silent, &NO_STOP).unwrap();
    assert_eq!(twice.correct, again.correct, "a test does not change the checkpoint");

    // A stop asked for (Python's Ctrl-C) ends the test before it starts, or after the current minibatch of 10, and
    // nothing is written; one asked for during the last minibatch lets the test finish and write its row.
    let rows = rows_of(&dir);
    let stopped = retest(&dir, &[], &mut Silent, &AtomicBool::new(true)).unwrap_err();
    assert!(
        matches!(stopped, SimError::TestStopped { done: 0, total: 100 }),
        "{stopped:?}"
    );
    let stop = AtomicBool::new(false);
    let stopped = retest(&dir, &[], &mut StopAt { done: 80, stop: &stop }, &stop).unwrap_err();
    assert!(
        matches!(stopped, SimError::TestStopped { done: 90, total: 100 }),
        "{stopped:?}"
    );
    assert_eq!(rows_of(&dir), rows, "tests.csv is left as it was");
    let stop = AtomicBool::new(false);
    let finished = retest(&dir, &[], &mut StopAt { done: 90, stop: &stop }, &stop).unwrap();
    assert_eq!(finished.correct, again.correct);
    assert_eq!(rows_of(&dir).len(), rows.len() + 1);

    let sets = vec![
        "network.cells.Bernoulli.readout=LastPsp".to_string(),
        "network.cells.Bernoulli.test_steps=20".to_string(),
        "data.test_limit=Some(50)".to_string(),
    ];
    let other = retest(&dir, &sets, &mut Silent, &NO_STOP).unwrap();
    assert_eq!(other.test_examples, 50);
    let rows = rows_of(&dir);
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[0][0], "[]");
    assert_eq!(serde_json::from_str::<Vec<String>>(&rows[3][0]).unwrap(), sets);
    assert_eq!(rows[3][3].parse::<usize>().unwrap(), 50);
    assert_eq!(rows[3][4].parse::<usize>().unwrap(), other.correct);

    // Tests of one folder side by side each keep their row.
    std::thread::scope(|s| {
        for steps in [2, 3, 4, 6] {
            let dir = &dir;
            s.spawn(move || {
                let set = format!("network.cells.Bernoulli.test_steps={steps}");
                retest(dir, &[set, "data.test_limit=20".into()], &mut Silent, &NO_STOP).unwrap();
            });
        }
    });
    assert_eq!(rows_of(&dir).len(), 8);
}

#[test]
fn a_test_time_choice_tested_again_equals_a_run_trained_with_it() {
    let Some(root) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let small = ["network.layers=[784, 30, 10]", "protocol.batch_size=20"];
    let (base, lowest) = (tmp.path().join("base"), tmp.path().join("lowest"));
    let trained = train("mnist_lif_ba.ron", &root, &base, &small);
    let choices = ["protocol.ties=Lowest", "protocol.count_from_ms=Some(99.0)"];
    let with_ties: Vec<&str> = small.iter().chain(&choices).copied().collect();
    let trained_with_ties = train("mnist_lif_ba.ron", &root, &lowest, &with_ties);
    let choices: Vec<String> = choices.iter().map(|s| s.to_string()).collect();
    let tested_with_ties = retest(&base, &choices, &mut Silent, &NO_STOP).unwrap();
    assert_eq!(Some(tested_with_ties.accuracy()), trained_with_ties.test_accuracy);
    assert_ne!(
        trained.test_accuracy, trained_with_ties.test_accuracy,
        "the choices change answers"
    );
}

#[test]
fn a_stochastic_network_tested_with_other_test_steps_equals_one_trained_with_them() {
    let Some(root) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // Learning-curve points on: their tests must not change what the network learns.
    let curve = ["protocol.curve_every=100", "protocol.curve_test_examples=30"];
    let base: Vec<&str> = SMALL_BERNOULLI.iter().chain(&curve).copied().collect();
    let (plain, longer) = (tmp.path().join("plain"), tmp.path().join("longer"));
    train("lillicrap_spiking_mnist.ron", &root, &plain, &base);
    let steps = "network.cells.Bernoulli.test_steps=9";
    let with_steps: Vec<&str> = base.iter().copied().chain([steps]).collect();
    let trained_with_steps = train("lillicrap_spiking_mnist.ron", &root, &longer, &with_steps);
    let tested_with_steps = retest(&plain, &[steps.to_string()], &mut Silent, &NO_STOP).unwrap();
    assert_eq!(Some(tested_with_steps.accuracy()), trained_with_steps.test_accuracy);
}

#[test]
fn a_field_that_changes_training_is_refused_and_nothing_is_written() {
    let Some(root) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bernoulli");
    train("lillicrap_spiking_mnist.ron", &root, &dir, &SMALL_BERNOULLI);
    for (set, field) in [
        (
            "network.cells.Bernoulli.train_steps=3",
            "network.cells.Bernoulli.train_steps",
        ),
        ("protocol.batch_size=5", "protocol.batch_size"),
        ("seed=2", "seed"),
    ] {
        let err = retest(&dir, &[set.to_string()], &mut Silent, &NO_STOP)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("field `{field}` = ")), "{set}: {err}");
        assert!(err.contains("network.cells.Bernoulli.readout"), "{err}");
    }
    let err = retest(&dir, &["protocol.ties=Sometimes".to_string()], &mut Silent, &NO_STOP)
        .unwrap_err()
        .to_string();
    assert!(err.contains("protocol.ties"), "{err}");
    assert!(!dir.join(TESTS_FILE).exists());

    // A file in the way of tests.csv is refused before the test, and left as it was.
    std::fs::write(dir.join(TESTS_FILE), "not,a,tests,file\n").unwrap();
    let err = retest(&dir, &[], &mut Silent, &NO_STOP).unwrap_err().to_string();
    assert!(err.contains("not a tests file"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join(TESTS_FILE)).unwrap(),
        "not,a,tests,file\n"
    );

    let err = retest(tmp.path(), &[], &mut Silent, &NO_STOP).unwrap_err().to_string();
    assert!(err.contains("not a run folder"), "{err}");
    std::fs::remove_file(dir.join("checkpoint.bin")).unwrap();
    let err = retest(&dir, &[], &mut Silent, &NO_STOP).unwrap_err().to_string();
    assert!(err.contains("no trained network to test"), "{err}");
}
