//! The four learning algorithms of SPEC §2.2 on nonspiking networks (issue 3): each update against a hand
//! computation, backprop against a numerical gradient, depth-1 equivalence, and the alignment diagnostic (SPEC §4).

mod common;
use common::data_root;

use ndarray::{Array1, Array2, array};
use snn_plasticity::{Carrier, FeedbackRule, Pathway, Projection, Reach};
use snn_sim::answers::Answers;
use snn_sim::engine::rate::RateEngine;
use snn_sim::engine::{Engine, Phase, Presentation, Watch};
use snn_sim::network::Network;
use snn_sim::probe::NoProbe;
use snn_sim::{Model, ModelFile};
use std::path::Path;

const C1: f32 = 0.82;
const C2: f32 = 0.08;

/// A 2-3-2 rate network model with the given algorithm, learning depth, momentum, η = 0.5, summed batch.
fn tiny_model(algorithm: &str, depth: usize, momentum: f32) -> Model {
    tiny_model_with_target(algorithm, depth, momentum, 1.0)
}

/// [`tiny_model`] whose true class has the target `class_target`.
fn tiny_model_with_target(algorithm: &str, depth: usize, momentum: f32, class_target: f32) -> Model {
    tiny_model_with_rule(algorithm, depth, momentum, class_target, 0.0)
}

/// [`tiny_model_with_target`] whose derivative's rectifier is softened by a noise of standard deviation `noise_sd`.
fn tiny_model_with_rule(algorithm: &str, depth: usize, momentum: f32, class_target: f32, noise_sd: f32) -> Model {
    let text = format!(
        "(name: \"tiny\", network: (layers: [2, 3, 2], cells: Rate(c1: {C1})), \
         learning: (algorithm: {algorithm}, depth: {depth}, momentum: {momentum}, learning_rate: Fixed(0.5), \
         batch_reduction: Sum, class_target: {class_target}, rectifier_noise_sd: {noise_sd}), \
         record: (train_examples: [], test_examples: []))"
    );
    ModelFile::from_ron(&text, Path::new("tiny.ron"))
        .unwrap()
        .check()
        .unwrap()
}

/// Fixed weights: a hidden layer with one silent cell (v < 0 for the input below), a 3 → 2 output layer, and the
/// hidden layer's feedback pathway of `algorithm`: a fixed B_FA chained (FA), a fixed B_BA broadcast (BA, DF), or the
/// forward weights (BP).
fn tiny_network(algorithm: &str) -> Network {
    let w1 = array![[2.0f32, 1.0], [-3.0, -1.0], [0.5, 4.0]];
    let b1 = array![1.0f32, -0.5, 0.0];
    let w2 = array![[1.0f32, -2.0, 0.5], [3.0, 1.0, -1.0]];
    let b2 = array![0.5f32, -1.0];
    let b_fa = array![[0.3f32, -0.7], [1.1, 0.2], [-0.4, 0.9]];
    let b_ba = array![[0.05f32, 0.02], [-0.03, 0.04], [0.01, -0.06]];
    let (reach, carrier) = match algorithm {
        "BP" => (Reach::Chained, Carrier::ForwardWeights),
        "FA" => (Reach::Chained, Carrier::Matrix(b_fa)),
        _ => (Reach::Broadcast, Carrier::Matrix(b_ba)),
    };
    Network {
        forward: vec![Projection::new(w1, b1), Projection::new(w2, b2)],
        feedback: vec![Pathway {
            reach,
            carrier,
            rule: FeedbackRule::Fixed,
        }],
        layerwise: Vec::new(),
    }
}

fn f(v: f64) -> f64 {
    (f64::from(C1) * (f64::from(C2) * v).tanh()).max(0.0)
}
/// sech²(c2 v) with its rectifier softened by a logistic noise of standard deviation `sd` (0: the step at v = 0).
fn soft_sech2(v: f64, sd: f64) -> f64 {
    let s = 1.0 - (f64::from(C2) * v).tanh().powi(2);
    if sd > 0.0 {
        s / (1.0 + (-v * std::f64::consts::PI / (3f64.sqrt() * sd)).exp())
    } else if v > 0.0 {
        s
    } else {
        0.0
    }
}

/// The update every algorithm should make for input x and label (whose output cell's target is `class_target`, the
/// other's 0; the derivative's rectifier softened by a noise of standard deviation `sd`, or not for 0), computed here
/// with plain loops in f64.
fn hand_update(
    alg: &str,
    net: &Network,
    x: [f64; 2],
    label: usize,
    class_target: f64,
    sd: f64,
) -> (Array2<f64>, Array2<f64>) {
    let w1 = net.forward[0].w.mapv(f64::from);
    let b1 = net.forward[0].b.mapv(f64::from);
    let w2 = net.forward[1].w.mapv(f64::from);
    let b2 = net.forward[1].b.mapv(f64::from);
    let v1: Vec<f64> = (0..3).map(|i| w1[[i, 0]] * x[0] + w1[[i, 1]] * x[1] + b1[i]).collect();
    let a1: Vec<f64> = v1.iter().map(|&v| f(v)).collect();
    let v2: Vec<f64> = (0..2)
        .map(|k| (0..3).map(|i| w2[[k, i]] * a1[i]).sum::<f64>() + b2[k])
        .collect();
    let e: Vec<f64> = (0..2)
        .map(|k| f(v2[k]) - if k == label { class_target } else { 0.0 })
        .collect();
    let eta = 0.5;
    let sech2 = |v: f64| soft_sech2(v, sd);
    let own = |v: f64| if alg == "DF" { 1.0 } else { sech2(v) };
    let iota2: Vec<f64> = (0..2).map(|k| eta * own(v2[k]) * e[k]).collect();
    let delta1: Vec<f64> = (0..3)
        .map(|i| match alg {
            "BP" => (0..2)
                .map(|k| w2[[k, i]] * f64::from(C1 * C2) * sech2(v2[k]) * e[k])
                .sum(),
            "FA" => (0..2)
                .map(|k| {
                    f64::from(net.feedback[0].matrix().unwrap()[[i, k]]) * f64::from(C1 * C2) * sech2(v2[k]) * e[k]
                })
                .sum(),
            _ => (0..2)
                .map(|k| f64::from(net.feedback[0].matrix().unwrap()[[i, k]]) * e[k])
                .sum(),
        })
        .collect();
    let iota1: Vec<f64> = (0..3).map(|i| eta * own(v1[i]) * delta1[i]).collect();
    let dw1 = Array2::from_shape_fn((3, 2), |(i, j)| -iota1[i] * x[j]);
    let dw2 = Array2::from_shape_fn((2, 3), |(k, i)| -iota2[k] * a1[i]);
    (dw1, dw2)
}

fn max_abs_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// The weight changes (hidden, output) one presentation of x = (1.5, −0.25) with `label` makes in the tiny network of
/// `alg` whose true class has the target `class_target`, checked against [`hand_update`].
fn checked_update(alg: &str, label: u8, class_target: f32) -> (Array2<f64>, Array2<f64>) {
    checked_update_with_rule(alg, label, class_target, 0.0)
}

/// [`checked_update`] with the derivative's rectifier softened by a noise of standard deviation `noise_sd`.
fn checked_update_with_rule(alg: &str, label: u8, class_target: f32, noise_sd: f32) -> (Array2<f64>, Array2<f64>) {
    let x = array![[1.5f32, -0.25]];
    let model = tiny_model_with_rule(alg, 2, 0.0, class_target, noise_sd);
    let mut net = tiny_network(alg);
    let before = net.clone();
    let mut sim = RateEngine::new(&model, 1);
    present(&mut sim, &mut net, x.view(), &[label], true);
    let dw1 = (&net.forward[0].w - &before.forward[0].w).mapv(f64::from);
    let dw2 = (&net.forward[1].w - &before.forward[1].w).mapv(f64::from);
    let (want1, want2) = hand_update(
        alg,
        &before,
        [1.5, -0.25],
        label.into(),
        f64::from(class_target),
        f64::from(noise_sd),
    );
    assert!(
        max_abs_diff(&dw2, &want2) < 1e-6,
        "{alg}, target {class_target}, output layer: {dw2} vs {want2}"
    );
    assert!(
        max_abs_diff(&dw1, &want1) < 1e-6,
        "{alg}, target {class_target}, hidden layer: {dw1} vs {want1}"
    );
    (dw1, dw2)
}

#[test]
fn each_algorithm_makes_the_hand_computed_update() {
    for alg in ["BP", "FA", "BA", "DF"] {
        let (dw1, _) = checked_update(alg, 1, 1.0);
        assert!(
            dw1.iter().any(|&d| d.abs() > 1e-4),
            "{alg}: the hidden update is not trivially zero"
        );
        // The silent hidden cell (v < 0) has zero derivative and learns nothing, except without a derivative (DF).
        let silent = dw1.row(1).iter().all(|&d| d == 0.0);
        assert_eq!(silent, alg != "DF", "{alg}: silent cell row {}", dw1.row(1));
    }
}

#[test]
fn the_true_class_target_sets_the_error_of_every_algorithm() {
    for alg in ["BP", "FA", "BA", "DF"] {
        // Label 0: its output cell is active (v > 0), so its rectified derivative is not 0.
        let (_, one) = checked_update(alg, 0, 1.0);
        let (_, c1) = checked_update(alg, 0, 0.82);
        // The true class's row moves less towards a nearer target; the other class's row does not change.
        assert!(max_abs_diff(&one, &c1) > 1e-4, "{alg}: the target changed nothing");
        assert_eq!(one.row(1), c1.row(1), "{alg}: the wrong class's update");
    }
}

/// With the rectifier softened, the silent hidden cell (v < 0) learns too, by the hand computation's amount, under
/// every algorithm with a derivative (DF, which has none, refuses the option: `an_impossible_rectifier_noise_is_refused`).
#[test]
fn a_softened_rectifier_teaches_a_silent_cell() {
    for alg in ["BP", "FA", "BA"] {
        let (hard, _) = checked_update(alg, 1, 1.0);
        let (soft, _) = checked_update_with_rule(alg, 1, 1.0, 2.0);
        let silent_learns = soft.row(1).iter().any(|&d| d.abs() > 1e-6);
        assert!(silent_learns, "{alg}: the silent cell's row {}", soft.row(1));
        assert!(
            hard.row(1).iter().all(|&d| d == 0.0),
            "{alg}: the hard rectifier's silent row {}",
            hard.row(1)
        );
    }
}

/// The softened rectifier's spread must be finite and ≥ 0, and is refused where there is no rectifier to soften (the
/// unrectified derivative), no derivative (DF) or no rate cell (a LIF cell's drive has noise of its own).
#[test]
fn an_impossible_rectifier_noise_is_refused() {
    let refusal = |cells: &str, learning: &str| {
        let text = format!(
            "(name: \"t\", network: (layers: [2, 3, 2], cells: {cells}), learning: ({learning}), \
             record: (train_examples: [], test_examples: []))"
        );
        ModelFile::from_ron(&text, Path::new("t.ron"))
            .unwrap()
            .check()
            .err()
            .map(|e| e.to_string())
    };
    let rate = format!("Rate(c1: {C1})");
    for bad in ["-1.0", "inf", "NaN"] {
        let err = refusal(&rate, &format!("rectifier_noise_sd: {bad}")).expect(bad);
        assert!(
            err.contains("learning.rectifier_noise_sd") && err.contains("≥ 0"),
            "{bad}: {err}"
        );
    }
    let unrectified = refusal(&rate, "rectifier_noise_sd: 5.0, rectified_derivative: false").unwrap();
    assert!(unrectified.contains("rectified_derivative: true"), "{unrectified}");
    let lif = refusal("Lif", "rectifier_noise_sd: 5.0").unwrap();
    assert!(
        lif.contains("learning.rectifier_noise_sd") && lif.contains("Rate cells"),
        "{lif}"
    );
    assert_eq!(refusal(&rate, "rectifier_noise_sd: 5.0"), None);
    let df = refusal(&rate, "algorithm: DF, rectifier_noise_sd: 5.0").unwrap();
    assert!(df.contains("no derivative term to soften"), "{df}");
}

#[test]
fn a_class_target_other_than_one_is_refused_for_spiking_cells() {
    let refusal = |cells: &str, target: &str| {
        let text =
            format!("(name: \"t\", network: (layers: [2, 3, 2], cells: {cells}), learning: (class_target: {target}))");
        let err = ModelFile::from_ron(&text, Path::new("t.ron"))
            .unwrap()
            .check()
            .unwrap_err()
            .to_string();
        assert!(err.contains("learning.class_target"), "{cells}, {target}: {err}");
        err
    };
    let lif = refusal("Lif", "0.82");
    assert!(lif.contains("Rate cells"), "{lif}");
    for bad in ["0.0", "-1.0", "inf"] {
        let rate = refusal(&format!("Rate(c1: {C1})"), bad);
        assert!(rate.contains("> 0"), "{bad}: {rate}");
    }
}

#[test]
fn algorithms_differ_only_below_the_output() {
    let x = array![[1.5f32, -0.25], [0.3, 0.9]];
    let mut updates = Vec::new();
    for alg in ["BP", "FA", "BA"] {
        let model = tiny_model(alg, 2, 0.0);
        let mut net = tiny_network(alg);
        present(&mut RateEngine::new(&model, 2), &mut net, x.view(), &[1, 0], true);
        updates.push(net);
    }
    for net in &updates[1..] {
        assert_eq!(net.forward[1], updates[0].forward[1], "output layers learn alike");
        assert_ne!(net.forward[0], updates[0].forward[0], "hidden layers differ");
    }
}

/// ½ Σ (f(v_out) − y*)² of the network on one example.
fn loss(model: &Model, net: &Network, x: &Array2<f32>, label: u8) -> f64 {
    let mut copy = net.clone();
    let answers = present(&mut RateEngine::new(model, 1), &mut copy, x.view(), &[label], false);
    answers
        .counts
        .row(0)
        .iter()
        .enumerate()
        .map(|(k, &a)| {
            let y = if k == usize::from(label) { 1.0 } else { 0.0 };
            0.5 * (f64::from(a) - y).powi(2)
        })
        .sum()
}

#[test]
fn backprop_update_is_the_numerical_gradient() {
    // ΔW = −(η / (c1 c2)) ∂L/∂W for every layer (snn_plasticity::chain), checked by central differences.
    let model = tiny_model("BP", 2, 0.0);
    let x = array![[6.0f32, 1.0]]; // drives large enough for gradients well above f32 rounding
    let label = 1u8;
    let net = tiny_network("BP");
    let mut learned = net.clone();
    present(&mut RateEngine::new(&model, 1), &mut learned, x.view(), &[label], true);
    let scale = 0.5 / f64::from(C1 * C2);
    let h = 1e-2f32;
    let mut checked = 0;
    for layer in 0..2 {
        let (rows, cols) = net.forward[layer].w.dim();
        for i in 0..rows {
            for j in 0..cols {
                let mut plus = net.clone();
                plus.forward[layer].w[[i, j]] += h;
                let mut minus = net.clone();
                minus.forward[layer].w[[i, j]] -= h;
                let grad = (loss(&model, &plus, &x, label) - loss(&model, &minus, &x, label)) / (2.0 * f64::from(h));
                let dw = f64::from(learned.forward[layer].w[[i, j]] - net.forward[layer].w[[i, j]]);
                let want = -scale * grad;
                assert!(
                    (dw - want).abs() < 2e-3 * want.abs().max(1e-2),
                    "layer {layer} w[{i},{j}]: update {dw} vs −η/(c1c2)·∂L/∂W = {want}"
                );
                checked += usize::from(want.abs() > 1e-3);
            }
        }
    }
    assert!(checked >= 8, "most weights have a visible gradient ({checked})");
}

#[test]
fn momentum_carries_the_previous_update() {
    let model = tiny_model("BA", 2, 0.9);
    let x = array![[1.5f32, -0.25]];
    let mut net = tiny_network("BA");
    let mut sim = RateEngine::new(&model, 1);
    present(&mut sim, &mut net, x.view(), &[1], true);
    let first = net.forward[1].dw.clone();
    let w1 = net.forward[1].w.clone();
    present(&mut sim, &mut net, x.view(), &[1], true);
    let iota = sim.iota(1).to_owned();
    let a = sim.activity(0).to_owned();
    let want: Array2<f32> = &first * 0.9 - &iota.t().dot(&a);
    let got = &net.forward[1].w - &w1;
    assert!(
        got.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-6),
        "{got} vs {want}"
    );
    let b: Array1<f32> = net.forward[1].db.clone();
    assert!(b.iter().all(|x| x.is_finite()));
}

#[test]
fn at_depth_one_bp_fa_and_ba_are_the_same_algorithm() {
    // Table 2 row 1: only the output layer learns, with δ = e, whatever the hidden feedback would be.
    let x = array![[1.5f32, -0.25], [0.3, 0.9], [2.0, 2.0]];
    let nets: Vec<Network> = ["BP", "FA", "BA"]
        .iter()
        .map(|alg| {
            let model = tiny_model(alg, 1, 0.9);
            let mut net = tiny_network(alg);
            let mut sim = RateEngine::new(&model, 3);
            for _ in 0..5 {
                present(&mut sim, &mut net, x.view(), &[1, 0, 1], true);
            }
            net
        })
        .collect();
    // Their networks differ only in the hidden layer's feedback pathway, which is never used at depth 1.
    assert_eq!(nets[0].forward, nets[1].forward);
    assert_eq!(nets[0].forward, nets[2].forward);
    assert_eq!(
        nets[0].forward[0],
        tiny_network("BA").forward[0],
        "the hidden layer stays fixed"
    );
    assert_ne!(nets[0].forward[1], tiny_network("BA").forward[1]);
}

/// A model file of `models/` shrunk to 784-100-10 on 2000 training and 500 test images.
fn small_mnist(file: &str, overrides: &[&str]) -> Option<Model> {
    let root = data_root()?;
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../models")
        .join(file);
    let mut m = ModelFile::from_path(&path).unwrap();
    m.data.root = root;
    m.data.download = false;
    for o in [
        "network.layers=[784, 100, 10]",
        "data.train_limit=2000",
        "data.test_limit=500",
        "protocol.curve_every=1000",
    ]
    .iter()
    .chain(overrides)
    {
        m.set(o).unwrap();
    }
    Some(m.check().unwrap())
}

/// Alignment angles (degrees) of hidden1 measured during a run of `model`, and its final accuracy.
fn angles_during_training(model: &Model) -> (Vec<f64>, f64) {
    let data = snn_sim::dataset::Prepared::load(model).unwrap();
    let mut exp = snn_sim::experiment::Experiment::new(model).unwrap();
    let outcome = exp.run(&data, &mut snn_sim::experiment::Silent, None).unwrap();
    let angles = outcome
        .alignment
        .iter()
        .inspect(|p| assert_eq!(p.population, "hidden1"))
        .map(|p| p.angle_deg)
        .collect();
    (angles, outcome.test_accuracy())
}

#[test]
fn feedback_alignment_comes_to_agree_with_backprop() {
    // Lillicrap et al. 2016: B_FA is random, so δ_FA starts orthogonal to δ_BP; learning aligns W with Bᵀ.
    // Measured (seed 1): 93° at 1000 examples, 58° after 40 000 (20 epochs of 2000 images).
    let Some(model) = small_mnist("mnist_rate_fa.ron", &["protocol.epochs=20"]) else {
        return;
    };
    let (angles, accuracy) = angles_during_training(&model);
    assert_eq!(angles.len(), 40, "one point per curve interval");
    assert!(angles[0] > 85.0, "FA starts near 90°: {}", angles[0]);
    let late = angles[35..].iter().sum::<f64>() / 5.0;
    assert!(late < 70.0, "FA aligns well below 90°: {late}");
    assert!(accuracy > 0.7, "and learns: {accuracy}");
}

#[test]
fn backprop_is_aligned_with_itself_and_broadcast_alignment_aligns() {
    let Some(bp) = small_mnist("mnist_rate_bp.ron", &["protocol.epochs=2"]) else {
        return;
    };
    let (angles, _) = angles_during_training(&bp);
    assert!(
        !angles.is_empty() && angles.iter().all(|&a| a < 1e-3),
        "BP vs BP: {angles:?}"
    );
    let ba = small_mnist("mnist_rate_ba.ron", &["protocol.epochs=20"]).unwrap();
    let (angles, _) = angles_during_training(&ba);
    assert!(
        angles[0] > 85.0 && angles[35..].iter().all(|&a| a < 75.0),
        "BA: {angles:?}"
    );
}

#[test]
fn lif_networks_record_the_alignment_of_their_broadcast_signal() {
    // The spiking network's backprop reference uses the rate fit's derivative (crate::alignment docs).
    let Some(model) = small_mnist(
        "small_lif_ba.ron",
        &[
            "data.train_limit=300",
            "data.test_limit=100",
            "protocol.curve_every=100",
            "protocol.epochs=1",
        ],
    ) else {
        return;
    };
    let (angles, _) = angles_during_training(&model);
    assert_eq!(angles.len(), 3);
    assert!(angles.iter().all(|&a| a > 0.0 && a < 180.0), "{angles:?}");
}

#[test]
fn several_steps_per_minibatch_are_repeated_updates_on_it() {
    // network.cells: Rate(steps: k) presents a minibatch for k learning steps, like a LIF presentation. Computed
    // directly (engine.first_layer: Direct), they are the same bits as k presentations; the Gram carry's equivalence
    // is tests/stepped_rate.rs.
    let x = array![[1.5f32, -0.25], [0.3, 0.9]];
    let once = tiny_model("BA", 2, 0.9);
    let mut file = once.file().clone();
    file.set("network.cells=Rate(c1: 0.82, steps: 3)").unwrap();
    file.set("engine.first_layer=Direct").unwrap();
    let thrice = file.check().unwrap();
    let (mut a, mut b) = (tiny_network("BA"), tiny_network("BA"));
    let mut sim = RateEngine::new(&once, 2);
    let first = present(&mut sim, &mut a, x.view(), &[1, 0], true);
    for _ in 0..2 {
        present(&mut sim, &mut a, x.view(), &[1, 0], true);
    }
    let answers = present(&mut RateEngine::new(&thrice, 2), &mut b, x.view(), &[1, 0], true);
    assert_eq!(a, b, "3 steps = 3 presentations of the same minibatch");
    assert_eq!(
        answers, first,
        "the answer is the first step's, before learning on the minibatch"
    );
    // Testing does not learn, so the steps change nothing.
    let mut c = tiny_network("BA");
    present(&mut RateEngine::new(&thrice, 2), &mut c, x.view(), &[1, 0], false);
    assert_eq!(c, tiny_network("BA"));
}

/// One minibatch presented to a rate engine, watched by no probe (the draws of the noise stream are not used by it).
fn present(
    engine: &mut RateEngine,
    net: &mut Network,
    x: ndarray::ArrayView2<'_, f32>,
    labels: &[u8],
    learn: bool,
) -> Answers {
    let mut noise = snn_sim::seeds::Streams::from_seed(0).noise;
    let phase = if learn { Phase::Train } else { Phase::Test };
    let mut p = Presentation {
        inputs: x,
        labels,
        targets: None,
        phase,
        learning_layers: None,
        noise: &mut noise,
    };
    engine.present(net, &mut p, &mut Watch::with(&mut NoProbe))
}

/// The rate engine shows its populations to probes through the roster like the LIF engine: activity and drive of
/// every layer, ι and δ of the layers that learned on the step, the graded input; nothing it does not have.
#[test]
fn the_rate_engine_shows_its_populations_to_probes() {
    use snn_sim::probe::{Probe, StepView};
    use snn_sim::roster::Variable;
    #[derive(Default)]
    struct Seen {
        steps: Vec<usize>,
        values: Vec<(String, Variable, Option<ndarray::Array2<f32>>)>,
    }
    impl Probe for Seen {
        fn after_step(&mut self, step: usize, view: &dyn StepView) {
            self.steps.push(step);
            for (id, pop) in view.roster().iter() {
                for v in [Variable::A, Variable::V, Variable::H, Variable::Iota, Variable::Delta] {
                    let values = view.values(id, v).map(|x| x.to_owned());
                    self.values.push((pop.name.clone(), v, values));
                }
            }
        }
    }
    let x = array![[1.5f32, -0.25], [0.3, 0.9]];
    let model = tiny_model("BA", 1, 0.0);
    let mut engine = RateEngine::new(&model, 2);
    let mut net = tiny_network("BA");
    let mut seen = Seen::default();
    let mut noise = snn_sim::seeds::Streams::from_seed(0).noise;
    let mut p = Presentation {
        inputs: x.view(),
        labels: &[1, 0],
        targets: None,
        phase: Phase::Train,
        learning_layers: None,
        noise: &mut noise,
    };
    engine.present(&mut net, &mut p, &mut Watch::with(&mut seen));
    assert_eq!(seen.steps, [0]);
    let get = |name: &str, v: Variable| {
        seen.values
            .iter()
            .find(|(n, var, _)| n == name && *var == v)
            .map(|(_, _, x)| x.clone())
            .unwrap()
    };
    assert_eq!(engine.roster().names(), ["input", "hidden1", "output"]);
    assert_eq!(get("input", Variable::A).unwrap(), x);
    assert_eq!(get("input", Variable::V), None, "the input has no drive");
    assert_eq!(get("hidden1", Variable::A).unwrap(), engine.activity(0));
    assert_eq!(get("output", Variable::V).unwrap(), engine.drive(1));
    assert_eq!(get("output", Variable::Iota).unwrap(), engine.iota(1));
    assert_eq!(
        get("hidden1", Variable::Iota),
        None,
        "at depth 1 the hidden layer does not learn"
    );
    assert_eq!(get("hidden1", Variable::H), None, "rate cells have no hillock");
}
