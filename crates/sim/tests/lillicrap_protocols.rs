//! The protocols of Lillicrap et al. 2016 beyond plain FA learning, each run through `Experiment::run` (or
//! `run_from` with checkpoints): sparse feedback alignment (SPEC §5.3: `init.sparsity`), training in phases that
//! freeze layers (SPEC §5.5, Fig 5c: `learning.schedule`), and the alignment measured over a window of examples
//! before each learning-curve point (SPEC §4, §5.1 Fig 2b, §5.5 Fig 5a: `protocol.alignment_window`), also across
//! an interruption and resume from a checkpoint.

mod exact;

use exact::Memory;

use ndarray::{Array1, Array2, s};
use snn_plasticity::Carrier;
use snn_sim::alignment::AlignmentPoint;
use snn_sim::checkpoint::{Checkpoint, NoCheckpoints};
use snn_sim::dataset::Prepared;
use snn_sim::engine::{Phase, Watch};
use snn_sim::experiment::{Experiment, Outcome, Silent};
use snn_sim::network::Network;
use snn_sim::probe::NoProbe;
use snn_sim::sparsity::Masks;
use snn_sim::{Model, ModelFile, SimError};
use std::path::Path;

fn checked(text: &str) -> Model {
    ModelFile::from_ron(text, Path::new("x.ron")).unwrap().check().unwrap()
}

fn b_matrix(net: &Network, hidden: usize) -> &Array2<f32> {
    match &net.feedback[hidden].carrier {
        Carrier::Matrix(b) => b,
        Carrier::ForwardWeights => panic!("hidden layer {hidden} has no feedback matrix of its own"),
    }
}

fn angle(a: &Array1<f64>, b: &Array1<f64>) -> Option<f64> {
    let (aa, bb) = (a.dot(a), b.dot(b));
    (aa > 0.0 && bb > 0.0).then(|| (a.dot(b) / (aa * bb).sqrt()).clamp(-1.0, 1.0).acos().to_degrees())
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Sparse FA (SPEC §5.3)
// ---------------------------------------------------------------------------------------------------------------

/// A 30-40-10 sigmoid net (SPEC §5.3's cells, every unit with a bias) learning by FA with momentum 0.9 and weight
/// decay 1e-6 on a 300-example regression task; `sparsity` is the `init.sparsity` text.
fn sigmoid_fa(seed: u64, sparsity: &str) -> Model {
    sigmoid_fa_with(seed, sparsity, 0.9)
}

/// [`sigmoid_fa`] with momentum `momentum` (0: the engine's update path without a momentum buffer).
fn sigmoid_fa_with(seed: u64, sparsity: &str, momentum: f32) -> Model {
    checked(&format!(
        "(name: \"sparse_fa\", seed: {seed}, \
         data: (dataset: LinearTeacher(inputs: 30, outputs: 10, teacher_range: 0.2, train_examples: 300, \
         test_examples: 20), seed: Some(3)), \
         network: (layers: [30, 40, 10], cells: Graded(hidden: Sigmoid, output: Sigmoid, biases: true)), \
         init: (weights: Uniform(0.05), feedback: Uniform(0.05), b_mean: 0.0, sparsity: {sparsity}), \
         learning: (algorithm: FA, depth: 2, momentum: {momentum:?}, learning_rate: Fixed(0.05), weight_decay: 1e-6), \
         protocol: (batch_size: 1, epochs: 1, shuffle: true, curve_every: 0, curve_test_examples: 1, \
         checkpoint_every: 0), record: (train_examples: [], test_examples: []))"
    ))
}

const SPARSE: &str = "(forward: [0.0, 0.5], feedback: [0.5])";

fn zeros_of(a: &Array2<f32>) -> Array2<bool> {
    a.mapv(|v| v == 0.0)
}

/// SPEC §5.3 (sparse FA): with `sparsity: (forward: [0.0, 0.5], feedback: [0.5])` on a 30-40-10 FA net,
/// - at init the removed fraction of the hidden→output W (400 weights) and of B (400 entries) are each within
///   200 ± 50 (p = 0.5: binomial SD 10, so ±5 SD: a correct draw fails for about 1 seed in 10⁶); W₀ (layer 0,
///   fraction 0.0) has no zero at all (a U[−0.05, 0.05] draw is never exactly 0 in practice);
/// - W and B are removed independently: the pairs (i, j) with both W[i, j] and B[j, i] kept, the reciprocal
///   connections of "a 25 % chance", number 100 ± 45 of 400 (binomial SD 8.7, > 5 SD);
/// - the zero pattern at init is exactly `Masks::of(model)`, the masks are a function of model and seed (the same
///   twice; another seed gives others), and drawn from a stream of their own: the dense model of the same seed has
///   the same W₀, biases, and the same W and B where they are kept (SPEC §5.3: "the rest drawn from U[−ω, ω]");
/// - after 300 examples through `Experiment::run`, with momentum 0.9 (which would otherwise carry a removed weight
///   off zero) and with none (the engine's update path without a momentum buffer), every removed weight of W is
///   still exactly 0 and so is its momentum, every kept weight of W and of W₀ has changed, and B is bit-identical to
///   its initial value.
#[test]
fn sparse_fa_removes_half_of_w_and_b_independently_and_keeps_them_removed() {
    let model = sigmoid_fa(21, SPARSE);
    let data = Prepared::load(&model).unwrap();
    let init = Experiment::new(&model).unwrap().network().clone();
    let (w0, w1, b) = (&init.forward[0].w, &init.forward[1].w, b_matrix(&init, 0));
    assert_eq!((w1.dim(), b.dim()), ((10, 40), (40, 10)));
    let removed = |z: &Array2<bool>| z.iter().filter(|&&r| r).count();
    let (w_zero, b_zero) = (zeros_of(w1), zeros_of(b));
    let (nw, nb) = (removed(&w_zero), removed(&b_zero));
    assert!(
        (150..=250).contains(&nw),
        "{nw} of 400 weights of W removed, expected 200 ± 50"
    );
    assert!(
        (150..=250).contains(&nb),
        "{nb} of 400 entries of B removed, expected 200 ± 50"
    );
    assert_eq!(removed(&zeros_of(w0)), 0, "W₀ is dense");
    let reciprocal = (0..10)
        .flat_map(|i| (0..40).map(move |j| (i, j)))
        .filter(|&(i, j)| !w_zero[[i, j]] && !b_zero[[j, i]])
        .count();
    assert!(
        (55..=145).contains(&reciprocal),
        "{reciprocal} of 400 pairs reciprocally connected, expected 100 ± 45"
    );

    // The masks, from the model and its seed alone.
    let masks = Masks::of(&model);
    assert!(masks.forward[0].is_none() && masks.forward.len() == 2 && masks.feedback.len() == 1);
    let (mw, mb) = (masks.forward[1].as_ref().unwrap(), masks.feedback[0].as_ref().unwrap());
    assert_eq!(mw.mapv(|m| m == 0.0), w_zero, "W's zeros are its mask's");
    assert_eq!(mb.mapv(|m| m == 0.0), b_zero, "B's zeros are its mask's");
    assert_eq!(
        Masks::of(&sigmoid_fa(21, SPARSE)),
        masks,
        "same model and seed: same masks"
    );
    let again = Experiment::new(&model).unwrap().network().clone();
    assert_eq!(again, init, "same model and seed: same initial network");
    let other = Masks::of(&sigmoid_fa(22, SPARSE));
    assert_ne!(
        other.forward[1].as_ref().unwrap(),
        mw,
        "another seed, another mask of W"
    );
    assert_ne!(
        other.feedback[0].as_ref().unwrap(),
        mb,
        "another seed, another mask of B"
    );

    // The masks' stream is their own: the dense net of the same seed, masked, is the sparse one.
    let dense = Experiment::new(&sigmoid_fa(21, "(forward: [], feedback: [])"))
        .unwrap()
        .network()
        .clone();
    assert_eq!(dense.forward[0], init.forward[0], "W₀ and b₀ as in the dense net");
    assert_eq!(dense.forward[1].b, init.forward[1].b, "b as in the dense net");
    assert_eq!(
        &dense.forward[1].w * mw,
        *w1,
        "the kept weights of W as in the dense net"
    );
    assert_eq!(
        b_matrix(&dense, 0) * mb,
        *b,
        "the kept entries of B as in the dense net"
    );

    // Trained with momentum 0.9 and, through the engine's path without a momentum buffer, with none.
    for momentum in [0.9, 0.0] {
        let model = sigmoid_fa_with(21, SPARSE, momentum);
        let mut exp = Experiment::new(&model).unwrap();
        assert_eq!(exp.network(), &init, "the masks do not depend on the momentum");
        let outcome = exp.run(&data, &mut Silent, None).unwrap();
        assert_eq!(outcome.train_examples_seen, 300);
        let net = exp.network();
        let (after_w, after_dw) = (&net.forward[1].w, &net.forward[1].dw);
        for ((i, j), &gone) in w_zero.indexed_iter() {
            if gone {
                assert_eq!(
                    after_w[[i, j]],
                    0.0,
                    "μ = {momentum}: removed W[{i}, {j}] is 0 after training"
                );
                assert_eq!(
                    after_dw[[i, j]],
                    0.0,
                    "μ = {momentum}: removed W[{i}, {j}] has no momentum"
                );
            } else {
                assert_ne!(after_w[[i, j]], w1[[i, j]], "μ = {momentum}: kept W[{i}, {j}] learned");
            }
        }
        let unchanged0 = net.forward[0].w.iter().zip(w0).filter(|(a, b)| a == b).count();
        assert_eq!(unchanged0, 0, "μ = {momentum}: every weight of W₀ learned");
        assert_eq!(b_matrix(net, 0), b, "μ = {momentum}: B is fixed");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Learning in phases (SPEC §5.5, Fig 5c)
// ---------------------------------------------------------------------------------------------------------------

/// A 5-30-5 tanh net (linear outputs, biases) learning the quadratic task of SPEC §5.5 by FA in minibatches of
/// `batch`, with momentum 0.5 and weight decay 1e-4 (so that a frozen layer which still decayed or coasted on its
/// momentum would move), under the three phases of Fig 5c, 50 examples each: W₀, then W, then W₀; a checkpoint
/// every `every` examples.
fn phased(batch: usize, every: usize) -> Model {
    checked(&format!(
        "(name: \"phases\", seed: 8, \
         data: (dataset: Quadratic(inputs: 5, outputs: 5, train_examples: 200, test_examples: 10), seed: Some(3)), \
         network: (layers: [5, 30, 5], cells: Graded(hidden: Tanh, output: Linear, biases: true)), \
         init: (weights: Uniform(0.1), feedback: Uniform(0.5), b_mean: 0.0, bias_range: 0.1), \
         learning: (algorithm: FA, depth: 2, momentum: 0.5, learning_rate: Fixed(1e-3), weight_decay: 1e-4, \
         schedule: [(examples: 50, layers: [0]), (examples: 50, layers: [1]), (examples: 50, layers: [0])]), \
         protocol: (batch_size: {batch}, epochs: 1, shuffle: true, curve_every: 0, curve_test_examples: 1, \
         checkpoint_every: {every}), record: (train_examples: [], test_examples: []))"
    ))
}

/// The networks after every periodic checkpoint of a whole run of `model`, by examples seen (the start first).
fn networks_along(model: &Model) -> Vec<(u64, Network)> {
    let data = Prepared::load(model).unwrap();
    let mut exp = Experiment::new(model).unwrap();
    let mut along = vec![(0, exp.network().clone())];
    let mut sink = Memory::new(0);
    let outcome = exp.run_from(&data, &mut Silent, None, None, &mut sink).unwrap();
    assert_eq!(outcome.train_examples_seen, 200);
    along.extend(sink.checkpoints().into_iter().map(|c| (c.progress.seen, c.network)));
    along.dedup_by_key(|(seen, _)| *seen);
    along
}

/// Whether every weight and every bias of forward layer `l` differs between `a` and `b`.
fn all_moved(a: &Network, b: &Network, l: usize) -> bool {
    let (p, q) = (&a.forward[l], &b.forward[l]);
    p.w.iter().zip(&q.w).all(|(x, y)| x != y) && p.b.iter().zip(&q.b).all(|(x, y)| x != y)
}

/// SPEC §5.5 Fig 5c: under `schedule: [(50, [0]), (50, [1]), (50, [0])]`, with minibatches of 1 and the networks
/// taken from the run's checkpoints at 50, 100, 150 and 200 examples:
/// - phase 1 (examples 0–49): every weight and bias of layer 0 changed, layer 1 (weights, biases and their
///   momentum) bit-identical to its init;
/// - phase 2 (50–99): every weight and bias of layer 1 changed, layer 0 (with its momentum) bit-identical;
/// - phase 3 (100–149): layer 0 learns again, layer 1 frozen;
/// - after the schedule has run out (150–199) the last phase's layer 0 goes on learning, layer 1 stays frozen;
/// - B never changes; `Experiment::scheduled_layers` names these layers at each count, and `None` without a
///   schedule.
#[test]
fn a_schedule_lets_only_its_phase_layers_learn() {
    let model = phased(1, 50);
    let exp = Experiment::new(&model).unwrap();
    for (seen, want) in [
        (0, 0),
        (49, 0),
        (50, 1),
        (99, 1),
        (100, 0),
        (149, 0),
        (150, 0),
        (1_000_000, 0),
    ] {
        assert_eq!(exp.scheduled_layers(seen), Some(&[want][..]), "after {seen} examples");
    }
    let plain = sigmoid_fa(1, "(forward: [], feedback: [])");
    assert_eq!(Experiment::new(&plain).unwrap().scheduled_layers(0), None);

    let along = networks_along(&model);
    let seen: Vec<u64> = along.iter().map(|(s, _)| *s).collect();
    assert_eq!(seen, [0, 50, 100, 150, 200], "a checkpoint every 50 examples");
    let b0 = b_matrix(&along[0].1, 0).clone();
    for (k, window) in along.windows(2).enumerate() {
        let ((from, a), (to, b)) = (&window[0], &window[1]);
        let learning = [0, 1, 0, 0][k];
        let frozen = 1 - learning;
        assert!(
            all_moved(a, b, learning),
            "examples {from}–{to}: every weight and bias of layer {learning} learns"
        );
        assert_eq!(
            b.forward[frozen], a.forward[frozen],
            "examples {from}–{to}: layer {frozen} (weights, biases, momentum) frozen"
        );
        assert_eq!(b_matrix(b, 0), &b0, "B is fixed");
    }
    let momentum = |n: &Network, l: usize| n.forward[l].dw.iter().any(|&d| d != 0.0);
    assert!(
        !momentum(&along[1].1, 1),
        "layer 1 has no momentum before it first learns"
    );
    assert!(momentum(&along[1].1, 0) && momentum(&along[2].1, 1));
}

/// SPEC §5.5, `learning.schedule`'s rule that phases are "counted at the start of each minibatch": with
/// minibatches of 4 and phases ending at 50, 100 and 150 examples, the minibatch of examples 48–51 starts in
/// phase 1 and updates only layer 0 (layer 1 still at its init after 52 examples, and moving by 56); the one of
/// examples 100–103 starts in phase 3 (layer 1 unchanged from 100 to 104, layer 0 moving). Networks from the
/// run's checkpoints every 4 examples.
#[test]
fn schedule_phases_switch_at_the_minibatch_that_starts_in_them() {
    let along = networks_along(&phased(4, 4));
    let at = |seen: u64| &along.iter().find(|(s, _)| *s == seen).expect("a checkpoint").1;
    let init = at(0);
    assert_eq!(at(52).forward[1], init.forward[1], "examples 48–51 belong to phase 1");
    assert!(all_moved(at(48), at(52), 0), "examples 48–51 train layer 0");
    assert!(all_moved(at(52), at(56), 1), "examples 52–55 train layer 1");
    assert_eq!(at(52).forward[0], at(56).forward[0]);
    assert_eq!(
        at(104).forward[1],
        at(100).forward[1],
        "examples 100–103 belong to phase 3"
    );
    assert!(all_moved(at(100), at(104), 0));
    assert!(all_moved(at(96), at(100), 1), "examples 96–99 still train layer 1");
}

// ---------------------------------------------------------------------------------------------------------------
// 3. The alignment window (SPEC §4, §5.1 Fig 2b, §5.5 Fig 5a)
// ---------------------------------------------------------------------------------------------------------------

/// SPEC §5.1's linear 30-20-10 net (no biases) learning by `algorithm` in minibatches of `batch` from the ordered
/// data (no shuffle), a learning-curve point every 20 examples and the alignment over `window` examples.
fn linear(algorithm: &str, batch: usize, window: usize) -> Model {
    checked(&format!(
        "(name: \"window\", seed: 11, \
         data: (dataset: LinearTeacher(train_examples: 100, test_examples: 10), seed: Some(4)), \
         network: (layers: [30, 20, 10], cells: Graded(hidden: Linear, output: Linear, biases: false)), \
         init: (weights: Uniform(0.01), feedback: Uniform(0.5), b_mean: 0.0), \
         learning: (algorithm: {algorithm}, depth: 2, momentum: 0.0, learning_rate: Fixed(5e-3), weight_decay: 0.0), \
         protocol: (batch_size: {batch}, epochs: 1, shuffle: false, curve_every: 20, curve_test_examples: 5, \
         checkpoint_every: 0, alignment_window: {window}), record: (train_examples: [], test_examples: []))"
    ))
}

/// What an alignment point should hold, recomputed in f64 outside the engine: the per-example angles of the
/// examples in its window and the weight angles at its end.
struct Expected {
    angles: Vec<f64>,
    weight_angle: f64,
    unit_angle: f64,
}

/// Replays `model` (linear, ordered data) minibatch by minibatch through `Experiment::present_targets`: before each
/// minibatch, the angle θ(δ, δ_BP) of every example at the current weights, with δ_BP = Wᵀe, e = y* − W A x and
/// δ = B e for FA (Wᵀe for BP); each curve point's window holds the examples of the minibatches that end after
/// `point − max(window, 1)` (whole minibatches: "the minibatches of the last `alignment_window` examples"). Returns
/// the expected points and the final network.
fn replay(model: &Model, data: &Prepared) -> (Vec<Expected>, Network) {
    let p = model.protocol().clone();
    let (batch, every, window) = (p.batch_size, p.curve_every as u64, p.alignment_window.max(1) as u64);
    let t_all = data.train_t.as_ref().unwrap();
    let mut exp = Experiment::new(model).unwrap();
    let mut points = Vec::new();
    let mut angles = Vec::new();
    for start in (0..data.train_x.nrows()).step_by(batch) {
        let end = start + batch;
        let point = (start as u64 / every + 1) * every;
        if end as u64 > point.saturating_sub(window) {
            let net = exp.network();
            let a = net.forward[0].w.mapv(f64::from);
            let w = net.forward[1].w.mapv(f64::from);
            for k in start..end {
                let x = data.train_x.row(k).mapv(f64::from);
                let e = t_all.row(k).mapv(f64::from) - w.dot(&a.dot(&x));
                let bp = w.t().dot(&e);
                let signal = match net.feedback[0].matrix() {
                    Some(b) => b.mapv(f64::from).dot(&e),
                    None => bp.clone(),
                };
                angles.extend(angle(&signal, &bp));
            }
        }
        exp.present_targets(
            data.train_x.slice(s![start..end, ..]),
            &vec![0; batch],
            Some(t_all.slice(s![start..end, ..])),
            Phase::Train,
            &mut Watch::with(&mut NoProbe),
        );
        if end as u64 == point {
            let net = exp.network();
            let (w, b) = (net.forward[1].w.mapv(f64::from), net.feedback[0].matrix());
            let (weight_angle, unit_angle) = match b.map(|b| b.mapv(f64::from)) {
                None => (f64::NAN, f64::NAN),
                Some(b) => {
                    let flat = |m: Array2<f64>| Array1::from_iter(m.iter().copied());
                    let whole = angle(&flat(w.t().to_owned()), &flat(b.clone())).unwrap();
                    let units: Vec<f64> = (0..b.nrows())
                        .map(|j| angle(&w.column(j).to_owned(), &b.row(j).to_owned()).unwrap())
                        .collect();
                    (whole, units.iter().sum::<f64>() / units.len() as f64)
                }
            };
            points.push(Expected {
                angles: std::mem::take(&mut angles),
                weight_angle,
                unit_angle,
            });
        }
    }
    (points, exp.network().clone())
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn sd(v: &[f64]) -> f64 {
    let m = mean(v);
    match v.len() {
        1 => 0.0,
        n => (v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt(),
    }
}

/// Runs `model` and checks every alignment point against [`replay`]: one point per curve point (20, 40, … 100
/// examples, population `hidden1`) with `samples` = the window's examples, and the mean angle, its sample SD and
/// the mean folded angle min(θ, 180° − θ) of those examples' angles within 1e-3° (the engine forms δ in f32, the
/// replay in f64 from the same f32 weights), and θ(Wᵀ, B) and the mean per-unit angle θ(W[:, j], B[j, :]) at the
/// point within 1e-6° (both f64 from the same weights; NaN for BP). Returns the points.
fn check_window(model: &Model, samples: u64) -> Vec<AlignmentPoint> {
    let data = Prepared::load(model).unwrap();
    let mut exp = Experiment::new(model).unwrap();
    let outcome = exp.run(&data, &mut Silent, None).unwrap();
    let (expected, net) = replay(model, &data);
    assert_eq!(exp.network(), &net, "the replay follows the run's weights");
    let got = &outcome.alignment;
    assert_eq!(got.len(), 5, "one point per learning-curve interval");
    assert_eq!(expected.len(), 5, "the replay's points");
    for (k, (p, want)) in got.iter().zip(&expected).enumerate() {
        let at = format!("point {k} ({} examples)", p.examples);
        assert_eq!(
            (p.examples, p.population.as_str()),
            (20 * (k as u64 + 1), "hidden1"),
            "{at}"
        );
        assert_eq!(p.samples, samples, "{at}: samples");
        assert_eq!(want.angles.len() as u64, samples, "{at}: every angle is defined");
        let folded: Vec<f64> = want.angles.iter().map(|a| a.min(180.0 - a)).collect();
        let close = |name: &str, got: f64, want: f64, tol: f64| {
            assert!((got - want).abs() <= tol, "{at}: {name} {got} vs {want}");
        };
        close("angle_deg", p.angle_deg, mean(&want.angles), 1e-3);
        close("angle_sd_deg", p.angle_sd_deg, sd(&want.angles), 1e-3);
        close("folded_deg", p.folded_deg, mean(&folded), 1e-3);
        assert!(p.angle_sd_deg >= 0.0, "{at}: SD {}", p.angle_sd_deg);
        // The mean of min(θ, 180° − θ) is at most min(mean θ, 180° − mean θ); equal exactly when no θ exceeds 90°.
        assert!(
            p.folded_deg <= p.angle_deg.min(180.0 - p.angle_deg) + 1e-9 && p.folded_deg >= 0.0,
            "{at}: folded {} vs angle {}",
            p.folded_deg,
            p.angle_deg
        );
        if want.angles.iter().all(|&a| a < 90.0 - 1e-3) {
            assert_eq!(p.folded_deg, p.angle_deg, "{at}: no angle above 90°, folded = signed");
        }
        for (name, got, want) in [
            ("weight_angle_deg", p.weight_angle_deg, want.weight_angle),
            ("unit_angle_deg", p.unit_angle_deg, want.unit_angle),
        ] {
            match want.is_nan() {
                true => assert!(got.is_nan(), "{at}: {name} {got}, NaN without a matrix"),
                false => close(name, got, want, 1e-6),
            }
        }
    }
    outcome.alignment
}

/// SPEC §4 and §5.1 Fig 2b (mean ± 2 SD over windows of 10 examples): the linear FA net, online (batch 1), a curve
/// point every 20 examples, `alignment_window: 10`: every point averages exactly the 10 examples before it (no
/// angle is undefined here: e ≠ 0), its mean, SD and folded mean agree with the angles recomputed outside the
/// engine ([`check_window`]), the folded mean is ≤ min(θ̄, 180° − θ̄), and the weight angle θ(Wᵀ, B) and the mean
/// per-unit angle are finite and agree with a direct computation. The first windows (angles near 90°, some above)
/// have a folded mean strictly below the signed one; a late one (aligned) has them equal.
#[test]
fn fa_alignment_points_average_the_window_of_examples_before_them() {
    let points = check_window(&linear("FA", 1, 10), 10);
    for p in &points {
        assert!(p.weight_angle_deg.is_finite() && p.unit_angle_deg.is_finite(), "{p:?}");
        assert!(p.angle_sd_deg > 0.0, "{p:?}");
    }
    assert!(points[0].folded_deg < points[0].angle_deg, "{:?}", points[0]);
    assert!(
        points[0].angle_deg > 60.0,
        "FA starts far from backprop: {:?}",
        points[0]
    );
}

/// SPEC §4: with minibatches of 5 the window is made of whole minibatches, the last `alignment_window` examples'
/// (doc of `protocol.alignment_window`, `Experiment::run_from`): window 10 takes the two minibatches before each
/// point (10 samples), window 12 three (15 samples: examples 5–19 for the point at 20), window 0 only the
/// minibatch that completes the interval (5). Each checked against the replay ([`check_window`]).
#[test]
fn alignment_windows_are_whole_minibatches() {
    check_window(&linear("FA", 5, 10), 10);
    check_window(&linear("FA", 5, 12), 15);
    check_window(&linear("FA", 5, 0), 5);
}

/// SPEC §4 for backprop (no feedback matrix): the teaching signal is backprop's own, so every window's angle is 0
/// (below 1e-5°: both are the same f32 vector, arccos of a cosine rounded below 1), folded = signed, SD ≥ 0, and
/// the weight and per-unit angles are NaN ("NaN without a matrix of that shape"); 10 samples per point.
#[test]
fn bp_alignment_points_have_zero_angle_and_no_weight_angles() {
    for p in check_window(&linear("BP", 1, 10), 10) {
        assert!(p.angle_deg < 1e-5 && p.folded_deg == p.angle_deg, "{p:?}");
        assert!(p.weight_angle_deg.is_nan() && p.unit_angle_deg.is_nan(), "{p:?}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Resume with a window in progress (SPEC §4; checkpoints)
// ---------------------------------------------------------------------------------------------------------------

/// A 30-20-15-10 tanh net (two hidden layers, so two alignment points per curve point) learning a linear teacher
/// by FA with momentum, shuffled over 2 epochs of 60 examples, a curve point every 20, `alignment_window: 15`, a
/// checkpoint every 10: the windows [5, 20), [25, 40), … are half done at the checkpoints 10, 30, 50, ….
fn resumable() -> Model {
    checked(
        "(name: \"resume_window\", seed: 17, \
         data: (dataset: LinearTeacher(inputs: 30, outputs: 10, train_examples: 60, test_examples: 20), \
         seed: Some(5)), \
         network: (layers: [30, 20, 15, 10], cells: Graded(hidden: Tanh, output: Linear, biases: true)), \
         init: (weights: Uniform(0.1), feedback: Uniform(0.5), b_mean: 0.0, bias_range: 0.1), \
         learning: (algorithm: FA, depth: 3, momentum: 0.5, learning_rate: Fixed(5e-3), weight_decay: 0.0), \
         protocol: (batch_size: 1, epochs: 2, shuffle: true, curve_every: 20, curve_test_examples: 5, \
         checkpoint_every: 10, alignment_window: 15), record: (train_examples: [], test_examples: []))",
    )
}

/// Every column of an alignment point, floats as bits (NaN compares equal to itself).
fn alignment_bits(o: &Outcome) -> Vec<(u64, String, u64, [u64; 5])> {
    o.alignment
        .iter()
        .map(|p| {
            let f = [
                p.angle_deg,
                p.angle_sd_deg,
                p.folded_deg,
                p.weight_angle_deg,
                p.unit_angle_deg,
            ];
            (p.examples, p.population.clone(), p.samples, f.map(f64::to_bits))
        })
        .collect()
}

/// Every column of a curve point but its wall-clock time, floats as bits.
fn curve_bits(o: &Outcome) -> Vec<(u64, usize, usize, [u64; 3])> {
    o.curve
        .iter()
        .map(|p| {
            let f = [p.test_accuracy, p.test_nse, p.train_accuracy].map(f64::to_bits);
            (p.examples, p.epoch, p.test_examples, f)
        })
        .collect()
}

/// Resumes `model` from `checkpoint` (through its bytes) to the end, without checkpoints.
fn resume(model: &Model, data: &Prepared, checkpoint: Checkpoint) -> (Outcome, Network) {
    let (mut exp, progress) = Experiment::restore(model, checkpoint).unwrap();
    let outcome = exp
        .run_from(data, &mut Silent, None, Some(progress), &mut NoCheckpoints)
        .unwrap();
    (outcome, exp.network().clone())
}

/// SPEC §4 (`protocol.alignment_window`) and the checkpoint's promise (a resumed run equals an uninterrupted one,
/// bit for bit): with windows of 15 examples before curve points every 20 and checkpoints every 10,
/// - the periodic checkpoints at 10, 30, 50, … hold a partly filled meter (`Progress::meter`), those at 20, 40, …
///   none, and the meter survives encoding;
/// - a run resumed from each periodic checkpoint, and one interrupted (as on SIGINT) after 33 examples, mid-window,
///   and resumed from the checkpoint it saved, give alignment points with every column bit-identical to the
///   uninterrupted run's (24 points: 6 curve points × 2 hidden layers, each averaging 15 samples), the same curve
///   (all columns but the wall-clock time) and test NSE, and the same final network.
#[test]
fn a_run_resumed_mid_window_gives_the_uninterrupted_alignment_points() {
    let model = resumable();
    let data = Prepared::load(&model).unwrap();
    let mut whole = Experiment::new(&model).unwrap();
    let mut sink = Memory::new(0);
    let expected = whole.run_from(&data, &mut Silent, None, None, &mut sink).unwrap();
    let want = alignment_bits(&expected);
    assert_eq!(want.len(), 12, "6 curve points × 2 hidden layers");
    assert!(
        expected.alignment.iter().all(|p| p.samples == 15),
        "{:?}",
        expected.alignment
    );
    let populations: Vec<&str> = expected.alignment[..2].iter().map(|p| p.population.as_str()).collect();
    assert_eq!(populations, ["hidden1", "hidden2"]);
    assert!(
        expected
            .alignment
            .iter()
            .all(|p| p.weight_angle_deg.is_finite() && p.unit_angle_deg.is_finite())
    );

    let mut periodic = sink.checkpoints();
    periodic.pop(); // the end of training
    let seen: Vec<u64> = periodic.iter().map(|c| c.progress.seen).collect();
    assert_eq!(seen, (1..=12).map(|k| 10 * k).collect::<Vec<u64>>());
    let same = |(outcome, net): (Outcome, Network), from: &str| {
        assert_eq!(alignment_bits(&outcome), want, "resumed from {from}: alignment points");
        assert_eq!(
            curve_bits(&outcome),
            curve_bits(&expected),
            "resumed from {from}: curve"
        );
        assert_eq!(
            outcome.test_nse.map(f64::to_bits),
            expected.test_nse.map(f64::to_bits),
            "resumed from {from}"
        );
        assert_eq!(&net, whole.network(), "resumed from {from}: the same network");
    };
    for ck in periodic {
        let seen = ck.progress.seen;
        assert_eq!(
            ck.progress.meter.is_some(),
            seen % 20 == 10,
            "a window in progress at {seen}"
        );
        same(resume(&model, &data, ck), &format!("the checkpoint at {seen}"));
    }

    let mut first = Experiment::new(&model).unwrap();
    let mut sink = Memory::new(33);
    match first.run_from(&data, &mut Silent, None, None, &mut sink) {
        Err(SimError::Interrupted { seen, .. }) => assert_eq!(seen, 33),
        other => panic!("expected an interruption after 33 examples, got {other:?}"),
    }
    let ck = sink.checkpoints().pop().unwrap();
    assert_eq!(ck.progress.seen, 33);
    assert!(ck.progress.meter.is_some(), "8 examples into the window [25, 40)");
    assert_eq!(ck.progress.alignment.len(), 2, "the points at 20 examples");
    same(resume(&model, &data, ck), "the interruption at 33");
}
