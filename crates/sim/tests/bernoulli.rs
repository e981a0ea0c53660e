//! Behaviour of the stochastic binary network (SPEC §5.4) on small synthetic tasks: spikes with probability σ(u),
//! no reset at image switches, plasticity off and the training state untouched in tests, the group read-out,
//! thread-count independence, exact resume, and a weight decay far below f32 rounding that takes effect.

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_sim::answers::strict_argmax;
use snn_sim::checkpoint::{Checkpoint, Checkpoints};
use snn_sim::dataset::Prepared;
use snn_sim::engine::{Phase, Watch};
use snn_sim::experiment::{Experiment, Silent};
use snn_sim::probe::{NoProbe, Probe, StepView};
use snn_sim::roster::Variable;
use snn_sim::{Model, ModelFile, SimError};
use std::path::Path;

const MODEL: &str = r#"(
    name: "bernoulli_small",
    seed: 4,
    data: (scaling: UnitInterval),
    network: (
        layers: [20, 30, 24, 9],
        cells: Bernoulli(cells_per_class: 3),
    ),
    init: (weights: Uniform(0.3), feedback: Uniform(0.5), b_mean: 0.0),
    learning: (algorithm: FA, depth: 3, momentum: 0.0, learning_rate: Fixed(0.05), weight_decay: 1e-8,
               batch_reduction: Sum),
    protocol: (batch_size: 2, epochs: 2, reset_between_examples: false, curve_every: 40, curve_test_examples: 10,
               checkpoint_every: 0),
    record: (train_examples: [], test_examples: []),
)"#;

fn model(sets: &[&str]) -> Model {
    let mut f = ModelFile::from_ron(MODEL, Path::new("bernoulli_small.ron")).unwrap();
    for s in sets {
        f.set(s).unwrap();
    }
    f.check().unwrap()
}

/// Three classes of 20-pixel images: class c lights pixels of its own third brighter.
fn images(n: usize, seed: u64) -> (Array2<f32>, Vec<u8>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let labels: Vec<u8> = (0..n).map(|_| rng.random_range(0u8..3)).collect();
    let x = Array2::from_shape_fn((n, 20), |(e, j)| {
        let own = j * 3 / 20 == usize::from(labels[e]);
        if own {
            rng.random_range(0.6f32..1.0)
        } else {
            rng.random_range(0.0f32..0.2)
        }
    });
    (x, labels)
}

fn data() -> Prepared {
    let (train_x, train_y) = images(120, 1);
    let (test_x, test_y) = images(30, 2);
    Prepared::from_arrays(train_x, train_y, test_x, test_y).unwrap()
}

/// Every step's values of some variables of one population, stream by stream: `seen[variable][step]`.
struct Watcher {
    pop: &'static str,
    variables: Vec<Variable>,
    seen: Vec<Vec<Array2<f32>>>,
}

impl Probe for Watcher {
    fn after_step(&mut self, _: usize, view: &dyn StepView) {
        let pop = view.roster().find(self.pop).unwrap();
        for (v, seen) in self.variables.iter().zip(&mut self.seen) {
            seen.push(view.values(pop, *v).unwrap().to_owned());
        }
    }
}

/// Presents one minibatch and returns every step's values of `variables` of `pop`, `[variable][step]`.
fn watch(
    exp: &mut Experiment,
    x: &Array2<f32>,
    labels: &[u8],
    phase: Phase,
    pop: &'static str,
    variables: &[Variable],
) -> Vec<Vec<Array2<f32>>> {
    let mut w = Watcher {
        pop,
        variables: variables.to_vec(),
        seen: vec![Vec::new(); variables.len()],
    };
    exp.present(x.view(), labels, phase, &mut Watch::with(&mut w));
    w.seen
}

fn logistic(u: f32) -> f64 {
    1.0 / (1.0 + (-f64::from(u)).exp())
}

/// Over many steps, a unit spikes on a fraction σ(u) of the steps with PSP u: the mean of s − σ(u) is 0 within its
/// standard error, overall and in bins of σ(u).
#[test]
fn units_spike_with_the_logistic_of_their_psp() {
    let m = model(&["network.layers=[20,200,9]", "learning.depth=1"]);
    let mut exp = Experiment::new(&m).unwrap();
    let (x, labels) = images(2, 9);
    let mut bins = [(0.0f64, 0.0f64, 0usize); 5];
    for _ in 0..200 {
        let seen = watch(
            &mut exp,
            &x,
            &labels,
            Phase::Test,
            "hidden1",
            &[Variable::U, Variable::A],
        );
        for (u, s) in seen[0].iter().zip(&seen[1]) {
            for (&u, &s) in u.iter().zip(s) {
                let p = logistic(u);
                let bin = &mut bins[((p * 5.0) as usize).min(4)];
                *bin = (bin.0 + f64::from(s), bin.1 + p, bin.2 + 1);
            }
        }
    }
    let total: usize = bins.iter().map(|b| b.2).sum();
    assert_eq!(total, 200 * 5 * 2 * 200);
    for (k, &(spikes, expected, n)) in bins.iter().enumerate() {
        if n < 1000 {
            continue;
        }
        // Bernoulli variance ≤ ¼ per draw: 5 standard errors.
        let tolerance = 5.0 * (0.25 / n as f64).sqrt();
        let (rate, p) = (spikes / n as f64, expected / n as f64);
        assert!(
            (rate - p).abs() < tolerance,
            "bin {k}: rate {rate} vs mean σ(u) {p} over {n} draws"
        );
    }
    assert!(bins.iter().filter(|b| b.2 >= 1000).count() >= 2, "{bins:?}");
}

/// u at the first step of an image continues from the last step of the image before: `(1 − τ) u_last + τ v`.
/// With `reset_between_examples: true` it starts from rest instead: `τ v`.
#[test]
fn images_switch_without_a_reset_unless_asked() {
    for reset in [false, true] {
        let m = model(&[&format!("protocol.reset_between_examples={reset}")]);
        let mut exp = Experiment::new(&m).unwrap();
        let (x, labels) = images(2, 3);
        let first = watch(&mut exp, &x, &labels, Phase::Train, "hidden2", &[Variable::U]).remove(0);
        let (y, other) = images(2, 4);
        let second = watch(
            &mut exp,
            &y,
            &other,
            Phase::Train,
            "hidden2",
            &[Variable::U, Variable::V],
        );
        let last = first.last().unwrap();
        let (u0, v0) = (&second[0][0], &second[1][0]);
        for ((&u, &v), &before) in u0.iter().zip(v0).zip(last) {
            let expected = if reset { 0.9 * v } else { 0.1 * before + 0.9 * v };
            assert!((u - expected).abs() < 1e-5, "reset {reset}: u {u} vs {expected}");
        }
        assert!(
            last.iter().any(|&u| u.abs() > 0.05),
            "the state before the switch is not at rest"
        );
    }
}

/// A test presentation changes no synapse and leaves the training streams' cells as they were (it runs on a copy
/// of them); training then continues from its own state.
#[test]
fn tests_learn_nothing_and_start_from_a_copy_of_the_training_state() {
    let m = model(&[]);
    let (x, labels) = images(2, 5);
    let (t, tl) = images(2, 6);
    let mut exp = Experiment::new(&m).unwrap();
    exp.present(x.view(), &labels, Phase::Train, &mut Watch::with(&mut NoProbe));
    let progress = snn_sim::checkpoint::Progress::start(0, 0);
    let before = exp.snapshot(&progress);
    let test_u = watch(&mut exp, &t, &tl, Phase::Test, "output", &[Variable::U]).remove(0);
    let after = exp.snapshot(&progress);
    assert_eq!(after.network, before.network, "no plasticity during a test");
    assert_eq!(after.cells, before.cells, "the training streams are untouched");
    // The test stream did run: from the training state, its PSPs moved.
    let trained = before.cells.as_ref().unwrap();
    let u_out = &trained.arrays.iter().find(|(n, _)| n == "u3").unwrap().1;
    assert_ne!(&test_u[4], u_out);
    // A whole test pass leaves them untouched too.
    exp.test(&data(), &[0, 1, 2], None, |_, _| Ok(())).unwrap();
    assert_eq!(exp.snapshot(&progress).cells, before.cells);
}

/// The answer is the group of `cells_per_class` output cells with the most spikes over the image's steps.
#[test]
fn the_answer_is_the_group_with_the_most_spikes() {
    let m = model(&[]);
    let mut exp = Experiment::new(&m).unwrap();
    let (x, labels) = images(2, 7);
    let mut spikes = Vec::new();
    struct Out<'a>(&'a mut Vec<Array2<f32>>);
    impl Probe for Out<'_> {
        fn after_step(&mut self, _: usize, view: &dyn StepView) {
            self.0.push(view.activity(view.roster().output()).to_owned());
        }
    }
    let answers = exp.present(x.view(), &labels, Phase::Test, &mut Watch::with(&mut Out(&mut spikes)));
    let total = spikes.iter().fold(Array2::<f32>::zeros((2, 9)), |acc, s| acc + s);
    assert_eq!(answers.counts, total);
    for k in 0..2 {
        let groups: Vec<f32> = total.row(k).to_vec().chunks(3).map(|g| g.iter().sum()).collect();
        assert_eq!(answers.predicted[k], strict_argmax(&groups), "stream {k}: {groups:?}");
    }
}

/// Keeps checkpoints in memory and asks to stop after `stop_after` minibatches.
struct Memory {
    saved: Vec<Checkpoint>,
    asked: std::cell::Cell<usize>,
    stop_after: usize,
}

impl Memory {
    /// A sink that keeps every checkpoint and asks the run to stop at its `stop_after`-th question.
    fn new(stop_after: usize) -> Self {
        Self {
            saved: Vec::new(),
            asked: 0.into(),
            stop_after,
        }
    }
}

impl Checkpoints for Memory {
    fn enabled(&self) -> bool {
        true
    }
    fn save(&mut self, c: &Checkpoint) -> Result<(), SimError> {
        self.saved.push(c.clone());
        Ok(())
    }
    fn stop_requested(&self) -> bool {
        self.asked.set(self.asked.get() + 1);
        self.asked.get() == self.stop_after
    }
}

/// The whole protocol of `m` on `data`, with the checkpoint taken at the end of training.
fn uninterrupted(m: &Model, data: &Prepared) -> (snn_sim::experiment::Outcome, Checkpoint) {
    let mut exp = Experiment::new(m).unwrap();
    let mut sink = Memory::new(usize::MAX);
    let outcome = exp.run_from(data, &mut Silent, None, None, &mut sink).unwrap();
    (outcome, sink.saved.pop().unwrap())
}

/// A run stopped halfway and resumed from its checkpoint (which holds the streams' cells) ends with exactly the
/// network, learning curve and test score of an uninterrupted run; 1 and 2 threads give the same bits.
#[test]
fn resumed_and_single_threaded_runs_equal_the_uninterrupted_one() {
    let m = model(&["learning.learning_rate=Fixed(0.2)"]);
    let data = data();
    let whole = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| uninterrupted(&m, &data))
    };
    let (a, a_end) = whole(2);
    let (b, b_end) = whole(1);
    assert_eq!(
        (&a_end.network, &a_end.streams, &a_end.cells),
        (&b_end.network, &b_end.streams, &b_end.cells),
        "1 and 2 threads: the same network, streams and cells"
    );
    assert_eq!(a.curve.len(), b.curve.len());
    assert_eq!(a.test_correct, b.test_correct);
    assert!(
        a.test_correct * 3 > a.test_total * 2,
        "it learns the task: {} of {}",
        a.test_correct,
        a.test_total
    );

    let mut exp = Experiment::new(&m).unwrap();
    let mut sink = Memory::new(50);
    let stopped = exp.run_from(&data, &mut Silent, None, None, &mut sink);
    assert!(matches!(stopped, Err(SimError::Interrupted { .. })), "{stopped:?}");
    let checkpoint = sink.saved.pop().unwrap();
    assert!(checkpoint.cells.is_some(), "the streams' cells are saved");
    let checkpoint = Checkpoint::from_bytes(&checkpoint.to_bytes().unwrap()).unwrap();
    let (mut resumed, progress) = Experiment::restore(&m, checkpoint).unwrap();
    let mut sink = Memory::new(usize::MAX);
    let c = resumed
        .run_from(&data, &mut Silent, None, Some(progress), &mut sink)
        .unwrap();
    assert_eq!(sink.saved.pop().unwrap().network, a_end.network, "the same weights");
    let curve = |o: &snn_sim::experiment::Outcome| -> Vec<(u64, f64)> {
        o.curve.iter().map(|p| (p.examples, p.test_accuracy)).collect()
    };
    assert_eq!(curve(&c), curve(&a));
    assert_eq!(c.test_correct, a.test_correct);
}

/// What the learning curve measures, and how often, does not change what the network learns: its tests draw their
/// noise from a copy of the training's stream. Runs with no curve, a curve every 40 images and a curve every 30
/// images of 7-step tests end with the same network, bit for bit, and the final test (after the streams' last
/// training draw) gives the same answers.
#[test]
fn learning_curve_tests_leave_training_as_it_was() {
    let data = data();
    let trained =
        |sets: &[&str]| uninterrupted(&model(&[&["learning.learning_rate=Fixed(0.2)"], sets].concat()), &data);
    let (none, none_end) = trained(&["protocol.curve_every=0"]);
    let (every40, every40_end) = trained(&[]);
    let (every30, every30_end) = trained(&[
        "protocol.curve_every=30",
        "protocol.curve_test_examples=25",
        "network.cells.Bernoulli.test_steps=7",
    ]);
    assert!(none.curve.is_empty() && !every40.curve.is_empty() && every30.curve.len() > every40.curve.len());
    assert_eq!(none_end.network, every40_end.network, "a curve every 40 images");
    assert_eq!(none_end.network, every30_end.network, "more, longer curve tests");
    assert_eq!(none_end.cells, every40_end.cells, "the streams' cells");
    assert_eq!(none.test_correct, every40.test_correct);
}

/// A decay of γ = 1e-8 per step, below the rounding of the weights, shrinks every synapse by (1 − γ)^steps: with a
/// learning rate too small to matter, the weights after 20 000 steps are (1 − 1e-8)^20000 ≈ 1 − 2e-4 of what they
/// were.
#[test]
fn a_decay_below_f32_rounding_takes_effect() {
    let m = model(&["learning.learning_rate=Fixed(1e-30)", "learning.weight_decay=1e-8"]);
    let mut exp = Experiment::new(&m).unwrap();
    let w0 = exp.network().forward[1].w.clone();
    let (x, labels) = images(2, 8);
    for _ in 0..4000 {
        exp.present(x.view(), &labels, Phase::Train, &mut Watch::with(&mut NoProbe));
    }
    let expected = (1.0f64 - 1e-8).powi(20_000);
    let p = &exp.network().forward[1];
    assert!((p.scale - expected).abs() < 1e-12, "scale {} vs {expected}", p.scale);
    let w = p.effective_weights();
    for (&w, &w0) in w.iter().zip(&w0) {
        assert!(
            (f64::from(w) - f64::from(w0) * expected).abs() < 1e-7,
            "{w} vs {w0} · {expected}"
        );
    }
    assert!(w.iter().zip(&w0).any(|(a, b)| a != b), "the decay changed the weights");
}

/// The model check refuses what a Bernoulli network cannot be, naming the field.
#[test]
fn impossible_bernoulli_parameters_are_refused_with_the_field_named() {
    let refused = |set: &str| {
        let mut f = ModelFile::from_ron(MODEL, Path::new("bernoulli_small.ron")).unwrap();
        f.set(set).unwrap();
        f.check().unwrap_err().to_string()
    };
    for (set, field) in [
        (
            "network.cells=Bernoulli(cells_per_class:4)",
            "network.cells.Bernoulli.cells_per_class",
        ),
        (
            "network.cells=Bernoulli(cells_per_class:9)",
            "network.cells.Bernoulli.cells_per_class",
        ),
        (
            "network.cells=Bernoulli(input_max:1.5)",
            "network.cells.Bernoulli.input_max",
        ),
        (
            "network.cells=Bernoulli(input_max:0.0)",
            "network.cells.Bernoulli.input_max",
        ),
        ("network.cells=Bernoulli(tau:0.0)", "network.cells.Bernoulli.tau"),
        ("network.cells=Bernoulli(tau:1.2)", "network.cells.Bernoulli.tau"),
        (
            "network.cells=Bernoulli(train_steps:0)",
            "network.cells.Bernoulli.train_steps",
        ),
        ("protocol.batch_size=0", "protocol.batch_size"),
        ("learning.algorithm=BA", "learning.algorithm"),
        ("learning.momentum=0.9", "learning.momentum"),
        ("learning.weight_decay=-1e-8", "learning.weight_decay"),
        ("init.weights=Uniform(0.0)", "init.weights.Uniform"),
        (r#"record.populations=["feedback1"]"#, "record.populations.0"),
    ] {
        let e = refused(set);
        assert!(e.contains(field), "{set}: {e}");
    }
}

/// A non-finite weight stops the run with an error naming the population whose drive it made non-finite, on the
/// first step it takes part in (the engine's drives show every weight in use, so the executor does not scan them after
/// each image): at once with dense products; event-driven (the default), on the first step its input is active.
#[test]
fn a_non_finite_weight_stops_the_run_with_the_population_named() {
    for (engine, first_step) in [("Product", Some(0)), ("ActiveRows", None)] {
        let m = model(&[&format!("engine.spike_input={engine}")]);
        let mut net = Experiment::new(&m).unwrap().network().clone();
        net.forward[1].w[[3, 4]] = f32::NAN;
        let mut exp = Experiment::with_network(&m, net).unwrap();
        let mut sink = Memory::new(usize::MAX);
        let e = exp.run_from(&data(), &mut Silent, None, None, &mut sink).unwrap_err();
        match &e {
            SimError::NonFiniteDrive { population, step, .. } => {
                assert_eq!(population.as_str(), "hidden2", "{engine}: {e}");
                if let Some(first) = first_step {
                    assert_eq!(*step, first, "{engine}: {e}");
                }
            }
            other => panic!("{engine}: {other}"),
        }
    }
}

/// Event-driven, a non-finite synapse of an input that is never active changes nothing; the scan at the end of
/// training still finds it and fails the run, naming the projection.
#[test]
fn a_non_finite_weight_of_a_silent_input_is_found_at_the_end() {
    let mut d = data();
    // Pixel 0 is 0 in every image: it never spikes (probability min(x, input_max) = 0).
    d.train_x.column_mut(0).fill(0.0);
    d.test_x.column_mut(0).fill(0.0);
    let m = model(&[]);
    let mut net = Experiment::new(&m).unwrap().network().clone();
    net.forward[0].w[[3, 0]] = f32::NAN;
    let mut exp = Experiment::with_network(&m, net).unwrap();
    let mut sink = Memory::new(usize::MAX);
    let e = exp.run_from(&d, &mut Silent, None, None, &mut sink).unwrap_err();
    match &e {
        SimError::NonFinite { pre, post, example } => {
            assert_eq!(
                (pre.as_str(), post.as_str(), *example),
                ("input", "hidden1", 240),
                "{e}"
            )
        }
        other => panic!("{other}"),
    }
}
