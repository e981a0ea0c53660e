//! Choices SPEC §2.4 leaves open in a LIF network (issue 21). The answer: the window in which output spikes are
//! counted (`protocol.count_from_ms`) and what a tie answers (`protocol.ties`); neither may change learning, only the
//! counts and the class read from them. The reset between examples (`protocol.reset_between_examples: false`): the
//! cells carry from minibatch to minibatch in training, and presentations without learning (test passes, the learning
//! curve's samples) run on a copy of them, so testing leaves training as it was.

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_sim::answers::{Answers, lowest_argmax};
use snn_sim::engine::{Phase, Watch};
use snn_sim::experiment::Experiment;
use snn_sim::probe::NoProbe;
use snn_sim::{Model, ModelFile};
use std::path::Path;

/// A 40-20-10 LIF network in minibatches of 8, presentations of 25 ms with 5 ms of settling, and `protocol` added.
fn model(protocol: &str) -> Model {
    model_with("", protocol)
}

/// [`model`] with `network` fields added too.
fn model_with(network: &str, protocol: &str) -> Model {
    let text = format!(
        "(name: \"lif_choices\", seed: 3, network: (layers: [40, 20, 10], cells: Lif, {network}), \
         protocol: (batch_size: 8, present_ms: 25.0, settle_ms: 5.0, {protocol}), \
         record: (train_examples: [], test_examples: []))"
    );
    ModelFile::from_ron(&text, Path::new("lif_choices.ron"))
        .unwrap()
        .check()
        .unwrap()
}

fn minibatch(seed: u64) -> (Array2<f32>, Vec<u8>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let x = Array2::from_shape_simple_fn((8, 40), || rng.random_range(-0.5f32..3.0));
    let labels = (0..8).map(|_| rng.random_range(0u8..10)).collect();
    (x, labels)
}

/// Two training presentations, then one test presentation: the network after training and the test answers.
fn run(model: &Model) -> (snn_sim::network::Network, Answers) {
    let mut exp = Experiment::new(model).unwrap();
    for seed in [1, 2] {
        let (x, labels) = minibatch(seed);
        exp.present(x.view(), &labels, Phase::Train, &mut Watch::with(&mut NoProbe));
    }
    let (x, labels) = minibatch(3);
    let answers = exp.present(x.view(), &labels, Phase::Test, &mut Watch::with(&mut NoProbe));
    (exp.network().clone(), answers)
}

#[test]
fn the_counting_window_changes_the_counts_and_not_the_learning() {
    let (net, settled) = run(&model(""));
    let (net_whole, whole) = run(&model("count_from_ms: Some(0.0)"));
    let (net_last, last) = run(&model("count_from_ms: Some(24.75)"));
    assert_eq!(net, net_whole, "learning does not depend on the answer's window");
    assert_eq!(net, net_last);
    // Counting from 0 adds the settle window's spikes to the default window's: never fewer, and some more.
    let extra = &whole.counts - &settled.counts;
    assert!(extra.iter().all(|&d| d >= 0.0), "{extra}");
    assert!(extra.sum() > 0.0, "the output spikes in the first 5 ms");
    // The last step alone: activities of one step, 0 or 1.
    assert!(last.counts.iter().all(|&c| c == 0.0 || c == 1.0), "{}", last.counts);
    assert!(settled.counts.sum() > last.counts.sum());
}

#[test]
fn ties_answer_none_or_the_lowest_tied_cell() {
    let (_, wrong) = run(&model("count_from_ms: Some(24.75)"));
    let (_, lowest) = run(&model("count_from_ms: Some(24.75), ties: Lowest"));
    assert_eq!(wrong.counts, lowest.counts, "the counts are the same");
    // One step's 0/1 activities tie often: None by default, the first of the tied cells with `Lowest`.
    assert!(wrong.predicted.iter().any(Option::is_none), "{:?}", wrong.counts);
    for (e, row) in lowest.counts.rows().into_iter().enumerate() {
        assert_eq!(lowest.predicted[e], lowest_argmax(row.iter().copied()));
        if let Some(class) = wrong.predicted[e] {
            assert_eq!(lowest.predicted[e], Some(class), "a strict maximum answers the same");
        }
    }
}

#[test]
fn check_refuses_answer_choices_that_do_not_apply_naming_the_field() {
    let refused = |text: &str, field: &str| {
        let err = ModelFile::from_ron(text, Path::new("m.ron"))
            .unwrap()
            .check()
            .expect_err(text);
        assert!(
            err.to_string().contains(&format!("`{field}`")),
            "{err}\nshould name {field}"
        );
    };
    let lif = |protocol: &str| {
        format!(
            "(name: \"m\", network: (layers: [4, 3, 2]), protocol: ({protocol}), \
             record: (train_examples: [], test_examples: []))"
        )
    };
    let rate = |protocol: &str| {
        format!(
            "(name: \"m\", network: (layers: [4, 3, 2], cells: Rate(c1: 0.82)), protocol: ({protocol}), \
             record: (train_examples: [], test_examples: []))"
        )
    };
    refused(&lif("count_from_ms: Some(100.0)"), "protocol.count_from_ms");
    refused(&lif("count_from_ms: Some(0.1)"), "protocol.count_from_ms");
    refused(&lif("count_from_ms: Some(-1.0)"), "protocol.count_from_ms");
    refused(&rate("count_from_ms: Some(0.0)"), "protocol.count_from_ms");
    refused(&rate("ties: Lowest"), "protocol.ties");
    refused(
        "(name: \"m\", data: (dataset: Teacher(), scaling: StandardiseGlobal), network: (layers: [2, 10, 2]), \
         record: (train_examples: [], test_examples: []))",
        "data.scaling",
    );
    for ok in [
        lif("count_from_ms: Some(0.0), ties: Lowest"),
        lif("count_from_ms: Some(99.75)"),
    ] {
        ModelFile::from_ron(&ok, Path::new("m.ron"))
            .unwrap()
            .check()
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
}

const NO_RESET: &str = "reset_between_examples: false";

fn present(exp: &mut Experiment, seed: u64, phase: Phase) -> Array2<f32> {
    let (x, labels) = minibatch(seed);
    exp.present(x.view(), &labels, phase, &mut Watch::with(&mut NoProbe))
        .counts
}

/// Training with test presentations between its minibatches ends with the network that training alone gives, bit
/// for bit; each test pass starts from the training state (the same answers twice); and the cells do carry over
/// (a minibatch shown after another answers differently than shown first).
fn check(model: &Model) {
    let mut alone = Experiment::new(model).unwrap();
    let mut tested = Experiment::new(model).unwrap();
    for seed in 1..=4 {
        present(&mut alone, seed, Phase::Train);
        present(&mut tested, seed, Phase::Train);
        tested.begin_test();
        let first = present(&mut tested, 100, Phase::Test);
        present(&mut tested, 101, Phase::Test);
        tested.begin_test();
        assert_eq!(
            present(&mut tested, 100, Phase::Test),
            first,
            "a test pass starts from the training state"
        );
    }
    assert_eq!(
        alone.network(),
        tested.network(),
        "tests between training minibatches change nothing"
    );
    let (after_training, fresh) = (
        present(&mut alone, 5, Phase::Train),
        present(&mut Experiment::new(model).unwrap(), 5, Phase::Train),
    );
    assert_ne!(after_training, fresh, "the cells carry from one minibatch to the next");
}

#[test]
fn test_presentations_leave_the_carried_cells_of_training_as_they_were() {
    check(&model_with("", NO_RESET));
}

#[test]
fn and_so_do_error_pools_of_lif_cells() {
    check(&model_with("error_pools: Lif(gain: 40.0)", NO_RESET));
}
