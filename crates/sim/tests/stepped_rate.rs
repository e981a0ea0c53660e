//! Stepped nonspiking networks (issue 21, SPEC §2.5): a minibatch presented for k learning steps, the first learning
//! layer carried through the Gram matrix of its constant input (`engine.first_layer: Gram`) and the layers below it
//! computed once, against the straightforward stepped computation: k one-step presentations of the same minibatch,
//! every layer's forward product and every weight update done on every step (`Direct`). Learning on, BP, FA, BA and
//! DF, at depths that put the carry on the first hidden layer, on a hidden layer above fixed ones, and on the output
//! layer. Forward values agree within float tolerance on every step, the answers exactly; weights, biases and momentum
//! within float tolerance after several presentations (the two paths round differently: W is materialised once per
//! presentation by the carry and incremented k times directly). The tolerance is shown to catch a 1 % error of the
//! learning rate.

use ndarray::{Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_sim::answers::Answers;
use snn_sim::engine::rate::RateEngine;
use snn_sim::engine::{Engine, Phase, Presentation, Watch};
use snn_sim::network::Network;
use snn_sim::probe::{Probe, StepView};
use snn_sim::roster::{Role, Variable};
use snn_sim::seeds::Streams;
use snn_sim::{Model, ModelFile};
use std::path::Path;

const BATCH: usize = 8;
const STEPS: usize = 40;
const PRESENTATIONS: usize = 3;
/// Drives agree to this relative error (against max(1, |v|)); weights to this fraction of their total change.
const TOLERANCE: f64 = 2e-4;

fn model(layers: &str, algorithm: &str, depth: usize, steps: usize, first_layer: &str, eta_scale: f32) -> Model {
    let text = format!(
        "(name: \"stepped\", network: (layers: {layers}, cells: Rate(c1: 0.82, steps: {steps})), \
         learning: (algorithm: {algorithm}, depth: {depth}, learning_rate: FanInScaled({eta_scale}), \
         rectified_derivative: true), protocol: (batch_size: {BATCH}), engine: (first_layer: {first_layer}), \
         record: (train_examples: [], test_examples: []))"
    );
    ModelFile::from_ron(&text, Path::new("stepped.ron"))
        .unwrap()
        .check()
        .unwrap()
}

/// Minibatches of inputs with the standardised pixels' mean and spread (0.64, 0.8), and labels.
fn minibatches(inputs: usize, classes: usize) -> Vec<(Array2<f32>, Vec<u8>)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let half_width = 0.8 * 3f32.sqrt();
    (0..PRESENTATIONS)
        .map(|_| {
            let x =
                Array2::from_shape_simple_fn((BATCH, inputs), || 0.64 + half_width * rng.random_range(-1.0f32..1.0));
            let labels = (0..BATCH).map(|_| rng.random_range(0..classes) as u8).collect();
            (x, labels)
        })
        .collect()
}

/// The drive of every hidden and output population on every step seen.
#[derive(Default)]
struct Drives(Vec<Vec<Array2<f32>>>);

impl Probe for Drives {
    fn after_step(&mut self, _step: usize, view: &dyn StepView) {
        let drives = view
            .roster()
            .iter()
            .filter(|(_, pop)| matches!(pop.role, Role::Hidden(_) | Role::Output))
            .map(|(id, _)| view.values(id, Variable::V).expect("a drive").to_owned())
            .collect();
        self.0.push(drives);
    }
}

fn present(
    engine: &mut RateEngine,
    net: &mut Network,
    x: ArrayView2<'_, f32>,
    labels: &[u8],
    probe: &mut Drives,
) -> Answers {
    let mut noise = Streams::from_seed(0).noise;
    let mut p = Presentation {
        inputs: x,
        labels,
        targets: None,
        phase: Phase::Train,
        learning_layers: None,
        noise: &mut noise,
    };
    engine.present(net, &mut p, &mut Watch::with(probe))
}

struct Outcome {
    net: Network,
    drives: Vec<Vec<Array2<f32>>>,
    answers: Vec<Answers>,
}

/// Trains a fresh network of `stepped` (seed 1) on the minibatches, each presented once for `stepped`'s steps, or
/// `repeat` times when `stepped` takes one step per presentation.
fn train(stepped: &Model, repeat: usize) -> Outcome {
    let layers = stepped.layers();
    let mut net = Network::init(stepped, &mut Streams::from_seed(1)).unwrap();
    let mut engine = RateEngine::new(stepped, BATCH);
    let mut probe = Drives::default();
    let mut answers = Vec::new();
    for (x, labels) in minibatches(layers[0], *layers.last().unwrap()) {
        answers.push(present(&mut engine, &mut net, x.view(), &labels, &mut probe));
        for _ in 1..repeat {
            present(&mut engine, &mut net, x.view(), &labels, &mut probe);
        }
    }
    Outcome {
        net,
        drives: probe.0,
        answers,
    }
}

/// The largest relative difference of two runs' drives over every step and population.
fn drive_difference(a: &Outcome, b: &Outcome) -> f64 {
    assert_eq!(a.drives.len(), b.drives.len(), "steps seen");
    let mut worst = 0.0f64;
    for (sa, sb) in a.drives.iter().zip(&b.drives) {
        for (va, vb) in sa.iter().zip(sb) {
            for (&x, &y) in va.iter().zip(vb) {
                let (x, y) = (f64::from(x), f64::from(y));
                worst = worst.max((x - y).abs() / y.abs().max(1.0));
            }
        }
    }
    worst
}

/// The largest difference of two trained networks' weights, biases and momentum, as a fraction of the largest change
/// of that array from `start`.
fn weight_difference(a: &Network, b: &Network, start: &Network) -> f64 {
    let mut worst = 0.0f64;
    for ((pa, pb), p0) in a.forward.iter().zip(&b.forward).zip(&start.forward) {
        let pairs = [
            (pa.w.view().into_dyn(), pb.w.view().into_dyn(), p0.w.view().into_dyn()),
            (
                pa.dw.view().into_dyn(),
                pb.dw.view().into_dyn(),
                p0.dw.view().into_dyn(),
            ),
            (pa.b.view().into_dyn(), pb.b.view().into_dyn(), p0.b.view().into_dyn()),
            (
                pa.db.view().into_dyn(),
                pb.db.view().into_dyn(),
                p0.db.view().into_dyn(),
            ),
        ];
        for (xa, xb, x0) in pairs {
            let change = xb
                .iter()
                .zip(&x0)
                .map(|(&b, &o)| f64::from(b - o).abs())
                .fold(0.0, f64::max);
            if change == 0.0 {
                assert_eq!(xa, xb, "a layer that does not learn is left as it was");
                continue;
            }
            let diff = xa
                .iter()
                .zip(&xb)
                .map(|(&a, &b)| f64::from(a - b).abs())
                .fold(0.0, f64::max);
            worst = worst.max(diff / change);
        }
    }
    worst
}

/// The carried stepped presentation against k direct one-step presentations of the same minibatch.
fn assert_carry_is_the_stepped_computation(layers: &str, algorithm: &str, depth: usize, carried_layer: usize) {
    let carried = model(layers, algorithm, depth, STEPS, "Gram", 1.0);
    assert_eq!(
        carried.rate_gram_layer(BATCH),
        Some(carried_layer),
        "{layers} depth {depth}"
    );
    let straightforward = model(layers, algorithm, depth, 1, "Direct", 1.0);
    assert_eq!(straightforward.rate_gram_layer(BATCH), None);
    let start = Network::init(&carried, &mut Streams::from_seed(1)).unwrap();
    let (a, b) = (train(&carried, 1), train(&straightforward, STEPS));
    let label = format!("{algorithm} {layers} depth {depth}");
    assert_eq!(
        a.drives.len(),
        PRESENTATIONS * STEPS,
        "{label}: every step shown to the probe"
    );
    for (x, y) in a.answers.iter().zip(&b.answers) {
        assert_eq!(x.predicted, y.predicted, "{label}: answers");
    }
    let drives = drive_difference(&a, &b);
    assert!(drives < TOLERANCE, "{label}: drives differ by {drives:e}");
    let weights = weight_difference(&a.net, &b.net, &start);
    assert!(
        weights < TOLERANCE,
        "{label}: weights differ by {weights:e} of their change"
    );
    assert_ne!(a.net, start, "{label}: the network learned");
}

#[test]
fn the_carried_first_hidden_layer_is_the_stepped_computation() {
    for algorithm in ["BP", "FA", "BA", "DF"] {
        assert_carry_is_the_stepped_computation("[30, 16, 5]", algorithm, 2, 0);
        assert_carry_is_the_stepped_computation("[30, 16, 12, 5]", algorithm, 3, 0);
    }
    // The rectifier softened (learning.rectifier_noise_sd): the same carry.
    for algorithm in ["BP, rectifier_noise_sd: 5.0", "BA, rectifier_noise_sd: 5.0"] {
        assert_carry_is_the_stepped_computation("[30, 16, 5]", algorithm, 2, 0);
    }
}

#[test]
fn a_carried_layer_above_fixed_ones_is_the_stepped_computation() {
    for algorithm in ["BP", "FA", "BA", "DF"] {
        assert_carry_is_the_stepped_computation("[30, 16, 12, 5]", algorithm, 2, 1);
    }
    // Learning depth 1: only the output layer learns, carried through the Gram matrix of the hidden activity.
    assert_carry_is_the_stepped_computation("[30, 16, 5]", "BA", 1, 1);
}

#[test]
fn the_tolerance_catches_a_one_percent_error_of_the_learning_rate() {
    let straightforward = model("[30, 16, 5]", "BP", 2, 1, "Direct", 1.0);
    let wrong = model("[30, 16, 5]", "BP", 2, STEPS, "Gram", 1.01);
    let start = Network::init(&wrong, &mut Streams::from_seed(1)).unwrap();
    let (a, b) = (train(&wrong, 1), train(&straightforward, STEPS));
    let weights = weight_difference(&a.net, &b.net, &start);
    assert!(
        weights > 10.0 * TOLERANCE,
        "a 1 % wrong rate differs by only {weights:e}"
    );
    assert!(drive_difference(&a, &b) > TOLERANCE);
}

#[test]
fn the_carry_gives_the_same_bits_at_any_thread_count() {
    // FA: the dense products; DF: its hidden ι taken through its factors (a low-rank ι).
    for algorithm in ["FA", "DF"] {
        let carried = model("[30, 300, 5]", algorithm, 2, STEPS, "Gram", 1.0);
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| train(&carried, 1))
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one.net, two.net, "{algorithm}");
        assert_eq!(one.drives, two.drives, "{algorithm}");
    }
}

#[test]
fn auto_carries_only_where_it_saves_work() {
    // One step per presentation: the carry would cost more than the direct products.
    assert_eq!(
        model("[30, 16, 5]", "BP", 2, 1, "Auto", 1.0).rate_gram_layer(BATCH),
        None
    );
    assert_eq!(
        model("[30, 16, 5]", "BP", 2, STEPS, "Auto", 1.0).rate_gram_layer(BATCH),
        Some(0)
    );
    // A batch of 8 against a fan-in of 4: the Gram matrix is larger than the input.
    assert_eq!(
        model("[4, 16, 5]", "BP", 2, STEPS, "Auto", 1.0).rate_gram_layer(BATCH),
        None
    );
    assert_eq!(
        model("[30, 16, 5]", "BP", 2, STEPS, "Direct", 1.0).rate_gram_layer(BATCH),
        None
    );
}

/// A stepped presentation that diverges stops at the first non-finite drive, later than the first step: the step and
/// population are named, no later step runs, and the presentation answers nothing (as a stopped LIF one does).
#[test]
fn a_diverging_stepped_presentation_stops_where_the_drive_turns_non_finite() {
    // DF: ι = η e has no derivative term to vanish as the cells saturate, so the weights grow until the drive
    // overflows.
    for first_layer in ["Direct", "Gram"] {
        let stepped = model("[30, 16, 5]", "DF", 2, STEPS, first_layer, 1e38);
        let mut net = Network::init(&stepped, &mut Streams::from_seed(1)).unwrap();
        let mut engine = RateEngine::new(&stepped, BATCH);
        let mut probe = Drives::default();
        let (x, labels) = minibatches(30, 5).remove(0);
        let answers = present(&mut engine, &mut net, x.view(), &labels, &mut probe);
        let bad = answers.non_finite.expect("a learning rate of 1e38 / fan-in diverges");
        assert!(
            bad.step > 0 && bad.step < STEPS,
            "{first_layer}: diverged at step {}",
            bad.step
        );
        assert_eq!(
            probe.0.len(),
            bad.step,
            "{first_layer}: steps shown to the probe are those before the bad one"
        );
        assert!(answers.predicted.iter().all(Option::is_none));
        assert!(answers.counts.iter().all(|&c| c == 0.0));
        // The carry was finished: the next presentation begins its own and reports its own non-finite drive.
        let again = present(&mut engine, &mut net, x.view(), &labels, &mut Drives::default());
        assert!(again.non_finite.is_some(), "{first_layer}");
    }
}
