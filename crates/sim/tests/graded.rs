//! The graded networks of Lillicrap et al. 2016 (SPEC §5): each learner's update on a tiny network against a hand
//! computation in f64 (BP, FA with either top feedback, shallow, weight decay, a summed and a mean minibatch, units
//! without biases), node perturbation's expected update against backprop's, and the refusals of `check`.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, array};
use snn_plasticity::Carrier;
use snn_sim::engine::graded::GradedEngine;
use snn_sim::engine::{Engine, Phase, Presentation, Watch};
use snn_sim::network::Network;
use snn_sim::probe::NoProbe;
use snn_sim::seeds::Streams;
use snn_sim::{Model, ModelFile};
use std::path::Path;

const ETA: f64 = 0.1;

/// A 3-4-2 graded network: `cells` is the `Graded(...)` text, `learning` extra fields of the learning section.
fn model(cells: &str, algorithm: &str, learning: &str) -> Model {
    let depth = if algorithm == "Shallow" { 1 } else { 2 };
    let text = format!(
        "(name: \"tiny_graded\", seed: 5, network: (layers: [3, 4, 2], cells: Graded({cells})), \
         init: (weights: Uniform(0.8), feedback: Uniform(0.8), b_mean: 0.0, bias_range: 0.3), \
         learning: (algorithm: {algorithm}, depth: {depth}, momentum: 0.0, learning_rate: Fixed({ETA}), {learning}), \
         protocol: (batch_size: 2), record: (train_examples: [], test_examples: []))"
    );
    ModelFile::from_ron(&text, Path::new("tiny_graded.ron"))
        .unwrap()
        .check()
        .unwrap()
}

fn inputs() -> Array2<f32> {
    array![[0.5f32, -1.2, 0.3], [-0.7, 0.4, 1.1]]
}

fn targets() -> Array2<f32> {
    array![[0.3f32, -0.2], [0.9, 0.6]]
}

fn f64s(a: ArrayView2<'_, f32>) -> Array2<f64> {
    a.mapv(f64::from)
}

fn f64v(a: ArrayView1<'_, f32>) -> Array1<f64> {
    a.mapv(f64::from)
}

fn act(kind: &str, v: f64) -> f64 {
    match kind {
        "Tanh" => v.tanh(),
        "Sigmoid" => 1.0 / (1.0 + (-v).exp()),
        _ => v,
    }
}

fn slope(kind: &str, a: f64) -> f64 {
    match kind {
        "Tanh" => 1.0 - a * a,
        "Sigmoid" => a * (1.0 - a),
        _ => 1.0,
    }
}

/// One learning presentation of `x` with targets `t`; returns the network before and after.
fn one_step(model: &Model, x: &Array2<f32>, t: &Array2<f32>) -> (Network, Network) {
    let mut streams = Streams::from_seed(model.seed());
    let mut net = Network::init(model, &mut streams).unwrap();
    let before = net.clone();
    let mut engine = GradedEngine::new(model, x.nrows());
    let labels = vec![0u8; x.nrows()];
    let mut p = Presentation {
        inputs: x.view(),
        labels: &labels,
        targets: Some(t.view()),
        phase: Phase::Train,
        learning_layers: None,
        noise: &mut streams.noise,
    };
    engine.present(&mut net, &mut p, &mut Watch::with(&mut NoProbe));
    (before, net)
}

/// The expected (ΔW₀, Δb₀, ΔW₁, Δb₁) of one step, in f64, from SPEC §5.2–5.3's formulas, summed over the examples
/// and multiplied by `scale`.
struct Expected {
    dw: [Array2<f64>; 2],
    db: [Array1<f64>; 2],
}

fn expected(net: &Network, hidden: &str, output: &str, learner: &str, top_delta: bool, scale: f64) -> Expected {
    let (x, t) = (f64s(inputs().view()), f64s(targets().view()));
    let w0 = f64s(net.forward[0].w.view());
    let b0 = f64v(net.forward[0].b.view());
    let w1 = f64s(net.forward[1].w.view());
    let b1 = f64v(net.forward[1].b.view());
    let b = match &net.feedback[0].carrier {
        Carrier::Matrix(b) => f64s(b.view()),
        Carrier::ForwardWeights => w1.t().to_owned(),
    };
    let mut e = Expected {
        dw: [Array2::zeros(w0.dim()), Array2::zeros(w1.dim())],
        db: [Array1::zeros(b0.len()), Array1::zeros(b1.len())],
    };
    for k in 0..x.nrows() {
        let xk = x.row(k);
        let h = (w0.dot(&xk) + &b0).mapv(|v| act(hidden, v));
        let y = (w1.dot(&h) + &b1).mapv(|v| act(output, v));
        let err = &t.row(k) - &y;
        let d1 = Array1::from_shape_fn(err.len(), |i| err[i] * slope(output, y[i]));
        let carried = match learner {
            "FA" if top_delta => b.dot(&d1),
            "FA" => b.dot(&err),
            _ => w1.t().dot(&d1),
        };
        let d0 = Array1::from_shape_fn(h.len(), |j| carried[j] * slope(hidden, h[j]));
        let outer =
            |a: &Array1<f64>, b: ArrayView1<'_, f64>| Array2::from_shape_fn((a.len(), b.len()), |(i, j)| a[i] * b[j]);
        e.dw[1] = &e.dw[1] + &(outer(&d1, h.view()) * (ETA * scale));
        e.db[1] = &e.db[1] + &(&d1 * (ETA * scale));
        if learner != "Shallow" {
            e.dw[0] = &e.dw[0] + &(outer(&d0, xk) * (ETA * scale));
            e.db[0] = &e.db[0] + &(&d0 * (ETA * scale));
        }
    }
    e
}

fn assert_close(got: &Array2<f64>, want: &Array2<f64>, what: &str) {
    let worst = (got - want).mapv(f64::abs).fold(0.0f64, |m, &d| m.max(d));
    let size = want.mapv(f64::abs).fold(0.0f64, |m, &d| m.max(d));
    assert!(
        worst <= 1e-6 + 1e-5 * size,
        "{what}: off by {worst:e} (largest change {size:e})\n{got}\n{want}"
    );
    assert!(size > 1e-4, "{what}: the test needs a visible change");
}

/// The network's change in f64, layer by layer: (ΔW, Δb).
fn change(before: &Network, after: &Network, l: usize) -> (Array2<f64>, Array2<f64>) {
    let dw = f64s(after.forward[l].w.view()) - f64s(before.forward[l].w.view());
    let db = f64v(after.forward[l].b.view()) - f64v(before.forward[l].b.view());
    let n = db.len();
    (dw, db.into_shape_with_order((1, n)).unwrap())
}

fn check_against_hand(cells: &str, hidden: &str, output: &str, learner: &str, top_delta: bool, learning: &str) {
    let m = model(cells, learner, learning);
    let scale = if learning.contains("Sum") { 1.0 } else { 0.5 };
    let (before, after) = one_step(&m, &inputs(), &targets());
    let want = expected(&before, hidden, output, learner, top_delta, scale);
    for l in 0..2 {
        let (dw, db) = change(&before, &after, l);
        let what = format!("{learner} {cells}, layer {l}");
        if learner == "Shallow" && l == 0 {
            assert_eq!(
                dw.iter().chain(db.iter()).fold(0.0f64, |m, d| m.max(d.abs())),
                0.0,
                "{what}: frozen"
            );
            continue;
        }
        assert_close(&dw, &want.dw[l], &format!("{what}: ΔW"));
        let n = want.db[l].len();
        assert_close(
            &db,
            &want.db[l].clone().into_shape_with_order((1, n)).unwrap(),
            &format!("{what}: Δb"),
        );
    }
}

#[test]
fn backprop_matches_the_hand_computation() {
    check_against_hand(
        "hidden: Tanh, output: Linear",
        "Tanh",
        "Linear",
        "BP",
        false,
        "batch_reduction: Sum",
    );
    check_against_hand(
        "hidden: Sigmoid, output: Sigmoid",
        "Sigmoid",
        "Sigmoid",
        "BP",
        false,
        "",
    );
}

#[test]
fn feedback_alignment_matches_the_hand_computation_for_either_top_feedback() {
    check_against_hand("hidden: Tanh, output: Linear", "Tanh", "Linear", "FA", false, "");
    check_against_hand(
        "hidden: Sigmoid, output: Sigmoid",
        "Sigmoid",
        "Sigmoid",
        "FA",
        false,
        "",
    );
    check_against_hand(
        "hidden: Sigmoid, output: Sigmoid, top_feedback: Delta",
        "Sigmoid",
        "Sigmoid",
        "FA",
        true,
        "batch_reduction: Sum",
    );
}

#[test]
fn shallow_learning_freezes_the_hidden_layer() {
    check_against_hand("hidden: Tanh, output: Linear", "Tanh", "Linear", "Shallow", false, "");
}

#[test]
fn weight_decay_is_alpha_w_per_update_or_times_eta() {
    let alpha = 0.01;
    for (decay, factor) in [("PerStep", alpha), ("ScaledByEta", alpha * ETA)] {
        let m = model(
            &format!("hidden: Tanh, output: Linear, decay: {decay}"),
            "BP",
            &format!("weight_decay: {alpha}"),
        );
        let (before, after) = one_step(&m, &inputs(), &targets());
        let want = expected(&before, "Tanh", "Linear", "BP", false, 0.5);
        for l in 0..2 {
            let (dw, db) = change(&before, &after, l);
            let w = f64s(before.forward[l].w.view());
            let b = f64v(before.forward[l].b.view());
            assert_close(
                &dw,
                &(&want.dw[l] - &(w * factor)),
                &format!("{decay}: ΔW of layer {l}"),
            );
            let n = b.len();
            let db_want = (&want.db[l] - &(b * factor)).into_shape_with_order((1, n)).unwrap();
            assert_close(&db, &db_want, &format!("{decay}: Δb of layer {l}"));
        }
    }
}

#[test]
fn units_without_biases_keep_them_at_zero() {
    let text = "(name: \"nobias\", network: (layers: [3, 4, 2], cells: Graded(hidden: Linear, output: Linear, \
                biases: false)), init: (weights: Uniform(0.5), feedback: Uniform(0.5), b_mean: 0.0), \
                learning: (algorithm: FA, depth: 2, momentum: 0.0, learning_rate: Fixed(0.1)), \
                record: (train_examples: [], test_examples: []))";
    let m = ModelFile::from_ron(text, Path::new("nobias.ron"))
        .unwrap()
        .check()
        .unwrap();
    let (before, after) = one_step(&m, &inputs(), &targets());
    for l in 0..2 {
        assert!(
            after.forward[l].b.iter().all(|&b| b == 0.0),
            "layer {l}'s biases stay 0"
        );
        assert_ne!(after.forward[l].w, before.forward[l].w, "layer {l}'s weights learn");
    }
}

/// SPEC §5.1: E[−(L̃ − L) ξ] / σ² = Wᵀe + O(σ²): node perturbation's hidden modulator averages to backprop's.
#[test]
fn node_perturbation_averages_to_backprop() {
    let np = model(
        "hidden: Tanh, output: Linear",
        "NP",
        "node_perturbation: (sigma: 0.01, rate_scale: 1.0)",
    );
    let bp = model("hidden: Tanh, output: Linear", "BP", "");
    let x = inputs().slice(ndarray::s![..1, ..]).to_owned();
    let t = targets().slice(ndarray::s![..1, ..]).to_owned();
    let mut streams = Streams::from_seed(np.seed());
    let net = Network::init(&np, &mut streams).unwrap();
    let labels = [0u8];
    let modulator = |model: &Model, noise: &mut rand_xoshiro::Xoshiro256PlusPlus| -> Vec<f64> {
        let mut engine = GradedEngine::new(model, 1);
        let mut p = Presentation {
            inputs: x.view(),
            labels: &labels,
            targets: Some(t.view()),
            phase: Phase::Train,
            learning_layers: None,
            noise,
        };
        engine.present(&mut net.clone(), &mut p, &mut Watch::with(&mut NoProbe));
        engine.delta(0).iter().map(|&d| f64::from(d)).collect()
    };
    let reference = modulator(&bp, &mut streams.noise);
    let draws = 20_000;
    let samples: Vec<Vec<f64>> = (0..draws).map(|_| modulator(&np, &mut streams.noise)).collect();
    for (j, &want) in reference.iter().enumerate() {
        let mean = samples.iter().map(|s| s[j]).sum::<f64>() / draws as f64;
        let var = samples.iter().map(|s| (s[j] - mean).powi(2)).sum::<f64>() / (draws - 1) as f64;
        let se = (var / draws as f64).sqrt();
        assert!(
            (mean - want).abs() < 5.0 * se,
            "unit {j}: NP mean {mean} vs BP {want} (SE {se})"
        );
        assert!(
            se < 0.2 * want.abs().max(0.05),
            "unit {j}: the test must resolve the mean (SE {se})"
        );
    }
}

#[test]
fn check_refuses_what_graded_cells_cannot_do_naming_the_field() {
    let refused = |text: &str, field: &str| {
        let err = ModelFile::from_ron(text, Path::new("m.ron"))
            .unwrap()
            .check()
            .unwrap_err();
        assert!(err.to_string().contains(field), "{err} should name {field}");
    };
    let base = |cells: &str, learning: &str, init: &str| {
        format!(
            "(name: \"m\", network: (layers: [3, 4, 2], cells: {cells}), init: (b_mean: 0.0{init}), \
             learning: (momentum: 0.0{learning}), record: (train_examples: [], test_examples: []))"
        )
    };
    refused(&base("Lif", ", algorithm: NP", ""), "learning.algorithm");
    refused(
        &base("Rate(c1: 0.82)", ", algorithm: Shallow", ""),
        "learning.algorithm",
    );
    refused(&base("Graded()", ", algorithm: BA", ""), "learning.algorithm");
    refused(
        &base("Graded()", ", algorithm: Shallow, depth: 2", ""),
        "learning.depth",
    );
    refused(
        &base(
            "Graded()",
            ", algorithm: NP, depth: 2, node_perturbation: (sigma: 0.0)",
            "",
        ),
        "learning.node_perturbation.sigma",
    );
    refused(
        &base("Graded(biases: false)", ", algorithm: FA", ", bias_range: 0.1"),
        "init.bias_range",
    );
    refused(
        &base("Graded()", ", algorithm: FA", ", bias_range: -1.0"),
        "init.bias_range",
    );
    let ok = base("Graded()", ", algorithm: NP, depth: 2", "");
    ModelFile::from_ron(&ok, Path::new("m.ron")).unwrap().check().unwrap();
}
