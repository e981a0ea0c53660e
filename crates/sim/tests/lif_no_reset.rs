//! A LIF network whose cells are not reset between examples (`protocol.reset_between_examples: false`, SPEC §2.4
//! [choice]): the cells carry from minibatch to minibatch in training, and presentations without learning (test
//! passes, the learning curve's samples) run on a copy of them, so testing leaves training as it was.

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_sim::engine::{Phase, Watch};
use snn_sim::experiment::Experiment;
use snn_sim::probe::NoProbe;
use snn_sim::{Model, ModelFile};
use std::path::Path;

/// A 40-20-10 LIF network in minibatches of 8, presentations of 25 ms with 5 ms of settling, and `extra` fields.
fn model(extra: &str) -> Model {
    let text = format!(
        "(name: \"no_reset\", seed: 3, network: (layers: [40, 20, 10], cells: Lif, {extra}), \
         protocol: (batch_size: 8, present_ms: 25.0, settle_ms: 5.0, reset_between_examples: false), \
         record: (train_examples: [], test_examples: []))"
    );
    ModelFile::from_ron(&text, Path::new("no_reset.ron"))
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
    check(&model(""));
}

#[test]
fn and_so_do_error_pools_of_lif_cells() {
    check(&model("error_pools: Lif(gain: 40.0)"));
}
