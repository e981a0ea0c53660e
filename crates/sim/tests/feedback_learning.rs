//! Feedback that learns in graded networks (Akrout et al. 2019, SPEC §6.1–6.3): Kolen-Pollack's decay of W − Bᵀ
//! and its one-step update against a hand computation, the clean weight mirror's fixed point, sign symmetry's
//! refresh before every learning step, the cross-entropy output modulator, `learning.bias_rate`, bit-identical runs
//! on 1 and 2 threads and after a resume, and the refusals of `check`. Every task is generated (no data files).

mod exact;

use exact::{
    Memory, assert_check_accepts, assert_check_refuses, assert_resumes_exactly, assert_same_arrays,
    assert_same_network, f64s, frobenius, outcome_bits, rms, scaled_signs_t,
};

use ndarray::{Array1, Array2, ArrayView1, array, s};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_plasticity::FeedbackRule;
use snn_sim::dataset::Prepared;
use snn_sim::engine::graded::GradedEngine;
use snn_sim::engine::{Engine, Phase, Presentation, Watch};
use snn_sim::experiment::{Experiment, Silent};
use snn_sim::network::Network;
use snn_sim::probe::NoProbe;
use snn_sim::seeds::Streams;
use snn_sim::{Model, ModelFile};
use std::path::Path;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

fn checked(text: &str) -> Model {
    ModelFile::from_ron(text, Path::new("feedback_learning.ron"))
        .unwrap()
        .check()
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Hidden layer `h`'s feedback matrix B (shaped like `W_(h+1)ᵀ`).
fn b_of(net: &Network, h: usize) -> &Array2<f32> {
    net.feedback[h].matrix().expect("a feedback matrix of its own")
}

fn f64v(a: ArrayView1<'_, f32>) -> Array1<f64> {
    a.mapv(f64::from)
}

/// ‖W_(h+1) − B_hᵀ‖_F in f64.
fn w_minus_bt(net: &Network, h: usize) -> f64 {
    let w = f64s(net.forward[h + 1].w.view());
    let b = f64s(b_of(net, h).view());
    frobenius(&(&w - &b.t()))
}

/// The angle in degrees between B_h and W_(h+1)ᵀ, both flattened.
fn angle_to_wt(net: &Network, h: usize) -> f64 {
    let wt = f64s(net.forward[h + 1].w.view()).t().to_owned();
    let b = f64s(b_of(net, h).view());
    let dot: f64 = wt.iter().zip(&b).map(|(x, y)| x * y).sum();
    (dot / (frobenius(&wt) * frobenius(&b)))
        .clamp(-1.0, 1.0)
        .acos()
        .to_degrees()
}

/// `got` equals `want` within `abs + rel · max|want|`, and the change is visible.
fn assert_close(got: &Array2<f64>, want: &Array2<f64>, abs: f64, what: &str) {
    assert_eq!(got.dim(), want.dim(), "{what}: shape");
    let worst = (got - want).mapv(f64::abs).fold(0.0f64, |m, &d| m.max(d));
    let size = want.mapv(f64::abs).fold(0.0f64, |m, &d| m.max(d));
    assert!(
        worst <= abs + 1e-6 * size,
        "{what}: off by {worst:e} (largest value {size:e})\ngot\n{got}\nwant\n{want}"
    );
}

fn row(a: &Array1<f64>) -> Array2<f64> {
    a.clone().into_shape_with_order((1, a.len())).unwrap()
}

/// One learning step of `model` on `x` (targets `t`) through a fresh graded engine, noise from `noise`.
fn step(model: &Model, net: &mut Network, x: &Array2<f32>, t: &Array2<f32>, noise: &mut Xoshiro256PlusPlus) {
    let mut engine = GradedEngine::new(model, x.nrows());
    let labels = vec![0u8; x.nrows()];
    let mut p = Presentation {
        inputs: x.view(),
        labels: &labels,
        targets: Some(t.view()),
        phase: Phase::Train,
        learning_layers: None,
        noise,
    };
    engine.present(net, &mut p, &mut Watch::with(&mut NoProbe));
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

/// The gradient half of one step of a two-weight-layer graded net, in f64 (SPEC §5 and graded.rs's module docs):
/// `η s Σ d a_preᵀ` and `η s Σ d` of both layers, no decay. `feedback`: FA's B carrying e to the hidden layer (the
/// default `top_feedback: Error`), or `None` for backprop (`W₁ᵀ d₁`). `cross_entropy`: the output modulator is e.
struct Grad {
    dw: [Array2<f64>; 2],
    db: [Array1<f64>; 2],
}

#[allow(clippy::too_many_arguments)]
fn hand_gradient(
    net: &Network,
    feedback: Option<&Array2<f64>>,
    x: &Array2<f32>,
    t: &Array2<f32>,
    hidden: &str,
    output: &str,
    cross_entropy: bool,
    eta_s: f64,
) -> Grad {
    let (x, t) = (f64s(x.view()), f64s(t.view()));
    let w0 = f64s(net.forward[0].w.view());
    let b0 = f64v(net.forward[0].b.view());
    let w1 = f64s(net.forward[1].w.view());
    let b1 = f64v(net.forward[1].b.view());
    let mut g = Grad {
        dw: [Array2::zeros(w0.dim()), Array2::zeros(w1.dim())],
        db: [Array1::zeros(b0.len()), Array1::zeros(b1.len())],
    };
    let outer =
        |a: &Array1<f64>, b: ArrayView1<'_, f64>| Array2::from_shape_fn((a.len(), b.len()), |(i, j)| a[i] * b[j]);
    for k in 0..x.nrows() {
        let xk = x.row(k);
        let h = (w0.dot(&xk) + &b0).mapv(|v| act(hidden, v));
        let y = (w1.dot(&h) + &b1).mapv(|v| act(output, v));
        let e = &t.row(k) - &y;
        let d1 = match cross_entropy {
            true => e.clone(),
            false => Array1::from_shape_fn(e.len(), |i| e[i] * slope(output, y[i])),
        };
        let carried = match feedback {
            Some(b) => b.dot(&e),
            None => w1.t().dot(&d1),
        };
        let d0 = Array1::from_shape_fn(h.len(), |j| carried[j] * slope(hidden, h[j]));
        g.dw[1] = &g.dw[1] + &(outer(&d1, h.view()) * eta_s);
        g.db[1] = &g.db[1] + &(&d1 * eta_s);
        g.dw[0] = &g.dw[0] + &(outer(&d0, xk) * eta_s);
        g.db[0] = &g.db[0] + &(&d0 * eta_s);
    }
    g
}

/// Two examples of three inputs and their targets in (0, 1) (sigmoid outputs can reach them).
fn tiny_batch() -> (Array2<f32>, Array2<f32>) {
    (
        array![[0.5f32, -1.2, 0.3], [-0.7, 0.4, 1.1]],
        array![[0.3f32, 0.8], [0.9, 0.1]],
    )
}

/// A generated regression task's training set, presented in order, minibatch by minibatch.
struct Batches {
    data: Prepared,
    size: usize,
    next: usize,
}

impl Batches {
    fn of(model: &Model) -> Self {
        Self {
            data: Prepared::load(model).unwrap(),
            size: model.protocol().batch_size,
            next: 0,
        }
    }

    /// Presents the next training minibatch to `exp`, learning on.
    fn train(&mut self, exp: &mut Experiment) {
        let n = self.data.train_x.nrows();
        let start = self.next % (n - n % self.size);
        self.next = start + self.size;
        let rows = s![start..start + self.size, ..];
        let x = self.data.train_x.slice(rows).to_owned();
        let t = self.data.train_t.as_ref().unwrap().slice(rows).to_owned();
        let labels = vec![0u8; self.size];
        exp.present_targets(
            x.view(),
            &labels,
            Some(t.view()),
            Phase::Train,
            &mut Watch::with(&mut NoProbe),
        );
    }
}

/// A graded net of `layers` with Glorot weights, feedback and biases, learning a linear teacher by FA through every
/// layer in minibatches of `batch`; `cells` and `learning` add fields to those sections.
fn akrout_like(layers: &[usize], cells: &str, learning: &str, batch: usize) -> Model {
    let (inputs, outputs) = (layers[0], *layers.last().unwrap());
    checked(&format!(
        "(name: \"fb\", seed: 11, \
         data: (dataset: LinearTeacher(inputs: {inputs}, outputs: {outputs}, teacher_range: 0.5, \
         train_examples: 400, test_examples: 10), seed: Some(4)), \
         network: (layers: {layers:?}, cells: Graded({cells})), \
         init: (weights: Glorot, feedback: Glorot, biases: Glorot), \
         learning: (algorithm: FA, depth: {depth}, {learning}), \
         protocol: (batch_size: {batch}, epochs: 1, shuffle: false, curve_every: 0, curve_test_examples: 1, \
         checkpoint_every: 0), record: (train_examples: [], test_examples: []))",
        depth = layers.len() - 1,
    ))
}

// ---------------------------------------------------------------------------------------------------------------
// 1–2. Kolen-Pollack (SPEC §6.1)
// ---------------------------------------------------------------------------------------------------------------

/// SPEC §6.1's test: with λ = 0.01 (momentum 0, no weight decay) on a 10-16-12-5 tanh net learning by FA +
/// Kolen-Pollack, ‖W_(h+1) − B_hᵀ‖_F after t minibatches is (1 − λ)ᵗ times its initial value for both hidden layers
/// and t = 1 … 80 (relative 1e-4), while W itself moves far more than that tolerance (the increment B takes must be
/// exactly W's); with λ = 0 it keeps its initial value.
#[test]
fn kolen_pollack_shrinks_w_minus_bt_as_one_minus_lambda_to_the_t() {
    for lambda in [0.01f64, 0.0] {
        let model = akrout_like(
            &[10, 16, 12, 5],
            "hidden: Tanh, output: Linear",
            &format!(
                "momentum: 0.0, learning_rate: Fixed(0.05), weight_decay: 0.0, \
                 feedback: KolenPollack(decay: {lambda:?})"
            ),
            4,
        );
        let mut exp = Experiment::new(&model).unwrap();
        let mut batches = Batches::of(&model);
        let start = exp.network().clone();
        let initial: Vec<f64> = (0..2).map(|h| w_minus_bt(&start, h)).collect();
        assert!(
            initial.iter().all(|&g| g > 0.5),
            "B independent of W at init: {initial:?}"
        );
        let checkpoints = [1usize, 2, 5, 10, 20, 40, 80];
        for t in 1..=*checkpoints.last().unwrap() {
            batches.train(&mut exp);
            if !checkpoints.contains(&t) {
                continue;
            }
            let net = exp.network();
            for (h, &first) in initial.iter().enumerate() {
                let want = (1.0 - lambda).powi(t as i32) * first;
                let got = w_minus_bt(net, h);
                assert!(
                    (got - want).abs() <= 1e-4 * want,
                    "λ = {lambda}, hidden layer {h}, t = {t}: ‖W − Bᵀ‖ = {got}, (1 − λ)^t · {first} = {want}"
                );
                // What W learned (beyond its decay) is far larger than the tolerance: a B that missed the
                // increment would show.
                let decayed = f64s(start.forward[h + 1].w.view()) * (1.0 - lambda).powi(t as i32);
                let learned = frobenius(&(f64s(net.forward[h + 1].w.view()) - decayed));
                assert!(
                    learned > 1e-2 * want,
                    "λ = {lambda}, layer {h}, t = {t}: W learned only {learned}"
                );
            }
        }
    }
}

/// Kolen-Pollack's step on a 3-2-2 sigmoid net (FA, minibatch of 2, mean reduction s = ½, η = 0.1, λ = 0.1) against
/// a hand computation in f64: B ← (1 − λ) B + η_B s Σ a_pre dᵀ (with η_B = η, and with its own `eta: 0.3`), the
/// weights above W ← (1 − λ) W + η s Σ d a_preᵀ, the biases above b + η s Σ d (undecayed), and the first layer,
/// which no B stands for, learning as plain FA (no decay) through the old B.
#[test]
fn kolen_pollack_step_matches_the_hand_computation() {
    let (eta, lambda) = (0.1f64, 0.1f64);
    for eta_b in [None, Some(0.3f64)] {
        let text = format!(
            "(name: \"kp_tiny\", seed: 3, network: (layers: [3, 2, 2], \
             cells: Graded(hidden: Sigmoid, output: Sigmoid)), \
             init: (weights: Uniform(0.8), feedback: Uniform(0.8), b_mean: 0.0, bias_range: 0.3), \
             learning: (algorithm: FA, depth: 2, momentum: 0.0, learning_rate: Fixed({eta:?}), \
             feedback: KolenPollack(decay: {lambda:?}{})), \
             protocol: (batch_size: 2), record: (train_examples: [], test_examples: []))",
            eta_b.map_or(String::new(), |e| format!(", eta: {e:?}"))
        );
        let model = checked(&text);
        let mut streams = Streams::from_seed(model.seed());
        let mut net = Network::init(&model, &mut streams).unwrap();
        let before = net.clone();
        let (x, t) = tiny_batch();
        step(&model, &mut net, &x, &t, &mut streams.noise);
        let b_old = f64s(b_of(&before, 0).view());
        let g = hand_gradient(&before, Some(&b_old), &x, &t, "Sigmoid", "Sigmoid", false, eta * 0.5);
        let what = format!("η_B {eta_b:?}");
        assert!(g.dw[1].iter().any(|d| d.abs() > 1e-3), "the step must change W visibly");
        let ratio = eta_b.unwrap_or(eta) / eta;
        let b_want = &b_old * (1.0 - lambda) + &(g.dw[1].t().to_owned() * ratio);
        assert_close(&f64s(b_of(&net, 0).view()), &b_want, 1e-6, &format!("{what}: new B"));
        let w1_want = f64s(before.forward[1].w.view()) * (1.0 - lambda) + &g.dw[1];
        assert_close(
            &f64s(net.forward[1].w.view()),
            &w1_want,
            1e-6,
            &format!("{what}: new W above"),
        );
        let b1_want = f64v(before.forward[1].b.view()) + &g.db[1];
        assert_close(
            &row(&f64v(net.forward[1].b.view())),
            &row(&b1_want),
            1e-6,
            &format!("{what}: new biases above (undecayed)"),
        );
        let w0_want = f64s(before.forward[0].w.view()) + &g.dw[0];
        assert_close(
            &f64s(net.forward[0].w.view()),
            &w0_want,
            1e-6,
            &format!("{what}: new W₀ (no decay)"),
        );
        let b0_want = f64v(before.forward[0].b.view()) + &g.db[0];
        assert_close(
            &row(&f64v(net.forward[0].b.view())),
            &row(&b0_want),
            1e-6,
            &format!("{what}: new b₀"),
        );
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Weight mirror, clean form (SPEC §6.2)
// ---------------------------------------------------------------------------------------------------------------

/// A 20-30-15-10 net with the clean weight mirror `wm` (the fields inside `WeightMirror(..)`).
fn mirror_model(wm: &str) -> Model {
    akrout_like(
        &[20, 30, 15, 10],
        "hidden: Sigmoid, output: Sigmoid",
        &format!("momentum: 0.0, learning_rate: Fixed(0.1), feedback: WeightMirror({wm})"),
        4,
    )
}

/// Mirror batches alone (`Network::mirror`, forward weights fixed), on both hidden layers of a 20-30-15-10 net:
/// - with λ_WM left out (= η σ²: η 0.1, σ 1, M 1024), B starts at ≈ 90° from W_aboveᵀ (independent Glorot draws) and
///   after 100 mirror batches lies within 5° of it, ‖B − Wᵀ‖/‖Wᵀ‖ < 0.1 (SPEC §6.2: B → Wᵀ);
/// - with λ_WM far from η σ² (0.025 = η σ²/4, and η 0.2, σ 0.5, λ 0.2 = 4 η σ²), after 300 batches B is a multiple
///   of Wᵀ (angle < 5°) with ⟨B, Wᵀ⟩/‖Wᵀ‖² = η σ²/λ (4 and ¼) within 5 %.
#[test]
fn clean_weight_mirror_brings_b_to_the_transposed_weights_or_their_multiple() {
    // (fields, batches, the expected ratio B*/Wᵀ)
    let cases = [
        ("eta: 0.1, sigma: 1.0, batch: 1024", 100, 1.0),
        ("eta: 0.1, sigma: 1.0, batch: 1024, decay: 0.025", 300, 4.0),
        ("eta: 0.2, sigma: 0.5, batch: 1024, decay: 0.2", 300, 0.25),
    ];
    for (fields, batches, ratio) in cases {
        let model = mirror_model(&format!("{fields}, schedule: (before: 0, after: 1), form: Clean"));
        if ratio == 1.0 {
            match net_rule(&model) {
                FeedbackRule::WeightMirror(m) => assert_eq!(m.decay, m.eta * m.sigma * m.sigma, "λ_WM's default"),
                other => panic!("{other:?}"),
            }
        }
        let mut streams = Streams::from_seed(model.seed());
        let mut net = Network::init(&model, &mut streams).unwrap();
        let forward = net.forward.clone();
        for h in 0..2 {
            let a = angle_to_wt(&net, h);
            assert!(a > 60.0, "{fields}: layer {h} starts at {a}° (independent B)");
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
        let mut buffers = net.mirror_buffers();
        net.mirror(batches, &mut rng, &mut buffers);
        assert_eq!(net.forward, forward, "mirror batches leave the forward weights alone");
        for h in 0..2 {
            let wt = f64s(net.forward[h + 1].w.view()).t().to_owned();
            let b = f64s(b_of(&net, h).view());
            let a = angle_to_wt(&net, h);
            let projection = wt.iter().zip(&b).map(|(x, y)| x * y).sum::<f64>() / wt.iter().map(|x| x * x).sum::<f64>();
            let distance = frobenius(&(&b - &(&wt * ratio))) / frobenius(&(&wt * ratio));
            println!("{fields}: layer {h}: angle {a:.2}°, ⟨B, Wᵀ⟩/‖Wᵀ‖² {projection:.4}, distance {distance:.4}");
            assert!(
                a < 5.0,
                "{fields}: layer {h}: angle {a}° to Wᵀ after {batches} mirror batches"
            );
            assert!(
                (projection / ratio - 1.0).abs() < 0.05,
                "{fields}: layer {h}: B ≈ {projection} Wᵀ, expected {ratio} Wᵀ"
            );
            assert!(
                distance < 0.1,
                "{fields}: layer {h}: ‖B − {ratio} Wᵀ‖ relative {distance}"
            );
        }
    }
}

/// The rule the checked model gives the first hidden layer.
fn net_rule(model: &Model) -> FeedbackRule {
    Network::init(model, &mut Streams::from_seed(model.seed()))
        .unwrap()
        .feedback[0]
        .rule
}

/// `schedule: (before: N, after: 0)`: `Network::init` runs N mirror batches from the run's noise stream (the same
/// network, bit for bit, as an initialisation with none followed by `Network::mirror(N)` on that stream), which bring
/// B within 5° of Wᵀ; with `after: 0` a training minibatch leaves B as it is, with `after: 2` it changes B.
#[test]
fn mirror_batches_before_training_and_after_each_minibatch() {
    let fields = "eta: 0.1, sigma: 1.0, batch: 1024, form: Clean";
    let before = mirror_model(&format!("{fields}, schedule: (before: 100, after: 0)"));
    let none = mirror_model(&format!("{fields}, schedule: (before: 0, after: 1)"));
    let mut streams = Streams::from_seed(before.seed());
    let mut by_hand = Network::init(&none, &mut streams).unwrap();
    let mut buffers = by_hand.mirror_buffers();
    by_hand.mirror(100, &mut streams.noise, &mut buffers);
    let mut exp = Experiment::new(&before).unwrap();
    assert_same_arrays(exp.network(), &by_hand, "before: 100 against init + mirror(100)");
    for h in 0..2 {
        let a = angle_to_wt(exp.network(), h);
        assert!(a < 5.0, "layer {h}: {a}° after the mirror batches before training");
    }
    let b_start: Vec<Array2<f32>> = (0..2).map(|h| b_of(exp.network(), h).clone()).collect();
    let mut batches = Batches::of(&before);
    batches.train(&mut exp);
    for (h, b) in b_start.iter().enumerate() {
        assert_eq!(b_of(exp.network(), h), b, "after: 0 leaves B alone");
    }
    assert_ne!(
        exp.network().forward[1].w,
        by_hand.forward[1].w,
        "the forward weights learned"
    );

    let after = mirror_model(&format!("{fields}, schedule: (before: 1, after: 2)"));
    let mut exp = Experiment::new(&after).unwrap();
    let mut batches = Batches::of(&after);
    let net0 = exp.network().clone();
    batches.train(&mut exp);
    for h in 0..2 {
        assert_ne!(
            b_of(exp.network(), h),
            b_of(&net0, h),
            "after: 2 teaches B after a minibatch"
        );
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Sign symmetry (SPEC §6.3)
// ---------------------------------------------------------------------------------------------------------------

/// Sign symmetry on a 10-16-12-5 net (η 0.5, large enough that weights change sign): the scale resolves to the RMS
/// of W_above at initialisation (or stays the given 0.5) and never changes; at init and after each of 30 training
/// minibatches B_h == scale · sign(W_(h+1))ᵀ exactly, for the weights as they were before that minibatch (the refresh
/// precedes the step's modulators); some weights above changed sign along the way, so the check tells the weights
/// before the step from those after it.
#[test]
fn sign_symmetry_sets_b_from_the_signs_of_the_weights_before_each_step() {
    for given in [None, Some(0.5f32)] {
        let scale_field = given.map_or(String::new(), |s| format!("scale: {s:?}"));
        let model = akrout_like(
            &[10, 16, 12, 5],
            "hidden: Tanh, output: Linear",
            &format!("momentum: 0.0, learning_rate: Fixed(0.5), feedback: SignSymmetry({scale_field})"),
            4,
        );
        let mut exp = Experiment::new(&model).unwrap();
        let start = exp.network().clone();
        let scales: Vec<f32> = (0..2)
            .map(|h| match start.feedback[h].rule {
                FeedbackRule::SignSymmetry { scale: Some(s) } => s,
                other => panic!("an unresolved rule {other:?}"),
            })
            .collect();
        for (h, &scale) in scales.iter().enumerate() {
            let want = given.unwrap_or_else(|| rms(&start.forward[h + 1].w));
            assert!(
                (scale - want).abs() <= 1e-6 * want,
                "layer {h}: scale {scale} against {want}"
            );
            assert_eq!(
                b_of(&start, h),
                &scaled_signs_t(&start.forward[h + 1].w, scale),
                "at init"
            );
        }
        let mut batches = Batches::of(&model);
        let mut flips = 0;
        for t in 1..=30 {
            let w_before: Vec<Array2<f32>> = (1..3).map(|l| exp.network().forward[l].w.clone()).collect();
            batches.train(&mut exp);
            let net = exp.network();
            for h in 0..2 {
                let what = format!("scale {given:?}, minibatch {t}, layer {h}");
                assert_eq!(
                    net.feedback[h].rule,
                    FeedbackRule::SignSymmetry { scale: Some(scales[h]) },
                    "{what}: the scale is fixed"
                );
                assert_eq!(b_of(net, h), &scaled_signs_t(&w_before[h], scales[h]), "{what}");
                let w = &net.forward[h + 1].w;
                flips += w
                    .iter()
                    .zip(&w_before[h])
                    .filter(|(a, b)| a.signum() != b.signum())
                    .count();
            }
        }
        assert!(
            flips > 0,
            "scale {given:?}: no weight changed sign: the test cannot tell before from after"
        );
    }
}

/// The B sign symmetry sets is the one the step uses: on a 3-4-2 tanh net whose W above was negated after
/// initialisation (so that B, set at init, is stale), one step makes B = s · sign(−W)ᵀ, and the hidden layer's update
/// matches a hand computation through that B (through the stale B it would have the opposite sign).
#[test]
fn sign_symmetry_refreshes_b_before_the_modulators() {
    let model = checked(
        "(name: \"ss_tiny\", seed: 5, network: (layers: [3, 4, 2], cells: Graded(hidden: Tanh, output: Linear)), \
         init: (weights: Uniform(0.8), feedback: Uniform(0.8), b_mean: 0.0, bias_range: 0.3), \
         learning: (algorithm: FA, depth: 2, momentum: 0.0, learning_rate: Fixed(0.1), \
         feedback: SignSymmetry()), protocol: (batch_size: 2), record: (train_examples: [], test_examples: []))",
    );
    let mut streams = Streams::from_seed(model.seed());
    let mut net = Network::init(&model, &mut streams).unwrap();
    let FeedbackRule::SignSymmetry { scale: Some(scale) } = net.feedback[0].rule else {
        panic!("unresolved scale")
    };
    net.forward[1].w.mapv_inplace(|w| -w);
    let before = net.clone();
    let (x, t) = tiny_batch();
    step(&model, &mut net, &x, &t, &mut streams.noise);
    let fresh = scaled_signs_t(&before.forward[1].w, scale);
    assert_eq!(b_of(&net, 0), &fresh, "B from the signs of the weights before the step");
    assert_eq!(b_of(&before, 0), &fresh.mapv(|b| -b), "B was stale before the step");
    let g = hand_gradient(
        &before,
        Some(&f64s(fresh.view())),
        &x,
        &t,
        "Tanh",
        "Linear",
        false,
        0.1 * 0.5,
    );
    let dw0 = f64s(net.forward[0].w.view()) - f64s(before.forward[0].w.view());
    assert!(g.dw[0].iter().any(|d| d.abs() > 1e-4), "a visible hidden update");
    assert_close(&dw0, &g.dw[0], 1e-6, "ΔW₀ through the refreshed B");
}

// ---------------------------------------------------------------------------------------------------------------
// 5–6. Cross-entropy and the biases' rate
// ---------------------------------------------------------------------------------------------------------------

fn tiny_model(cells: &str, algorithm: &str, learning: &str) -> Model {
    checked(&format!(
        "(name: \"tiny\", seed: 7, network: (layers: [3, 4, 2], cells: Graded({cells})), \
         init: (weights: Uniform(0.8), feedback: Uniform(0.8), b_mean: 0.0, bias_range: 0.3), \
         learning: (algorithm: {algorithm}, depth: 2, momentum: 0.0, learning_rate: Fixed(0.1){learning}), \
         protocol: (batch_size: 2), record: (train_examples: [], test_examples: []))"
    ))
}

/// SPEC §6.4: with `loss: CrossEntropy` and sigmoid units, one BP step on a 3-4-2 net (minibatch of 2, mean) matches
/// a hand computation whose output modulator is d = y* − y without the slope y(1 − y), for both layers' weights and
/// biases; the squared error's step (with the slope) differs from it.
#[test]
fn cross_entropy_output_modulator_is_the_error_without_the_slope() {
    let (x, t) = tiny_batch();
    for (loss, ce) in [("CrossEntropy", true), ("SquaredError", false)] {
        let model = tiny_model(&format!("hidden: Sigmoid, output: Sigmoid, loss: {loss}"), "BP", "");
        let mut streams = Streams::from_seed(model.seed());
        let mut net = Network::init(&model, &mut streams).unwrap();
        let before = net.clone();
        step(&model, &mut net, &x, &t, &mut streams.noise);
        let g = hand_gradient(&before, None, &x, &t, "Sigmoid", "Sigmoid", ce, 0.1 * 0.5);
        let other = hand_gradient(&before, None, &x, &t, "Sigmoid", "Sigmoid", !ce, 0.1 * 0.5);
        for l in 0..2 {
            let dw = f64s(net.forward[l].w.view()) - f64s(before.forward[l].w.view());
            let db = f64v(net.forward[l].b.view()) - f64v(before.forward[l].b.view());
            assert_close(&dw, &g.dw[l], 1e-6, &format!("{loss}: ΔW{l}"));
            assert_close(&row(&db), &row(&g.db[l]), 1e-6, &format!("{loss}: Δb{l}"));
            let apart = (&dw - &other.dw[l]).mapv(f64::abs).fold(0.0f64, |m, &d| m.max(d));
            assert!(
                apart > 1e-3,
                "{loss}: layer {l}: the two losses' steps must differ ({apart})"
            );
        }
    }
}

/// `learning.bias_rate: r`: one step from the same network changes every bias by r times what it does with the
/// default 1 (r = 0.25 and the reference code's 1/128; r = 0 freezes them), and the weights exactly as with 1.
#[test]
fn bias_rate_scales_the_bias_change_only() {
    let (x, t) = tiny_batch();
    let run = |learning: &str| {
        let model = tiny_model("hidden: Sigmoid, output: Sigmoid, loss: CrossEntropy", "FA", learning);
        let mut streams = Streams::from_seed(model.seed());
        let mut net = Network::init(&model, &mut streams).unwrap();
        let before = net.clone();
        step(&model, &mut net, &x, &t, &mut streams.noise);
        (before, net)
    };
    let (start, one) = run("");
    for r in [0.25f64, 0.0078125, 0.0] {
        let (before, net) = run(&format!(", bias_rate: {r:?}"));
        assert_same_network(&before, &start, "the same initial network");
        for l in 0..2 {
            assert_eq!(
                net.forward[l].w, one.forward[l].w,
                "r = {r}: layer {l}'s weights as with 1"
            );
            let full = f64v(one.forward[l].b.view()) - f64v(start.forward[l].b.view());
            let got = f64v(net.forward[l].b.view()) - f64v(start.forward[l].b.view());
            assert!(
                full.iter().all(|d| d.abs() > 1e-4),
                "layer {l}: visible bias changes {full}"
            );
            if r == 0.0 {
                assert_eq!(net.forward[l].b, start.forward[l].b, "r = 0 freezes the biases");
            }
            assert_close(&row(&got), &row(&(&full * r)), 1e-7, &format!("r = {r}: Δb{l}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 7–8. Threads and resume
// ---------------------------------------------------------------------------------------------------------------

const RULES: [(&str, &str); 3] = [
    ("KP", "momentum: 0.0, feedback: KolenPollack(decay: 0.01)"),
    (
        "WM",
        "momentum: 0.5, feedback: WeightMirror(eta: 0.1, batch: 64, schedule: (before: 5, after: 1))",
    ),
    ("SS", "momentum: 0.5, feedback: SignSymmetry()"),
];

/// A 20-300-10 sigmoid net with cross-entropy (300 hidden cells: more than one block of the parallel updates) in
/// minibatches of 16 (the matrix-product paths), 10 minibatches.
fn threads_model(learning: &str) -> Model {
    akrout_like(
        &[20, 300, 10],
        "hidden: Sigmoid, output: Sigmoid, loss: CrossEntropy",
        &format!("learning_rate: Fixed(0.2), bias_rate: 0.5, {learning}"),
        16,
    )
}

/// Each rule (KP, WM, SS) run in rayon pools of 1 and 2 threads gives the same network bit for bit (weights, biases,
/// momentum, B, the resolved rule) and the same test NSE.
#[test]
fn one_and_two_threads_give_identical_networks_with_each_rule() {
    for (name, learning) in RULES {
        let model = threads_model(learning);
        let data = Prepared::load(&model).unwrap();
        let data = Prepared {
            train_x: data.train_x.slice(s![..160, ..]).to_owned(),
            train_y: data.train_y[..160].to_vec(),
            train_t: data.train_t.as_ref().map(|t| t.slice(s![..160, ..]).to_owned()),
            ..data
        };
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut exp = Experiment::new(&model).unwrap();
                let start = exp.network().clone();
                let outcome = exp.run(&data, &mut Silent, None).unwrap();
                assert_eq!(outcome.train_examples_seen, 160);
                (start, exp.network().clone(), outcome.test_nse.map(f64::to_bits))
            })
        };
        let (start1, one, nse1) = run(1);
        let (start2, two, nse2) = run(2);
        assert_same_network(&start1, &start2, &format!("{name}: initial networks"));
        assert_same_network(&one, &two, &format!("{name}: 1 against 2 threads"));
        assert_eq!(nse1, nse2, "{name}: test NSE");
        assert_ne!(one.forward[0].w, start1.forward[0].w, "{name}: the network learned");
        assert_ne!(b_of(&one, 0), b_of(&start1, 0), "{name}: B learned");
    }
}

/// A 10-16-12-5 sigmoid net with cross-entropy learning by FA with the rule `learning`, 2 shuffled epochs of 60
/// examples in minibatches of 4, a curve point (with the alignment probe on 3 images) every 20 examples and a
/// checkpoint every 12.
fn resumable(learning: &str) -> Model {
    checked(&format!(
        "(name: \"fb_resume\", seed: 21, \
         data: (dataset: TanhTeacher(layers: [10, 8, 5], train_examples: 60, test_examples: 10), seed: Some(2)), \
         network: (layers: [10, 16, 12, 5], cells: Graded(hidden: Sigmoid, output: Sigmoid, loss: CrossEntropy)), \
         init: (weights: Glorot, feedback: Glorot, biases: Glorot), \
         learning: (algorithm: FA, depth: 3, learning_rate: Fixed(0.3), bias_rate: 0.5, {learning}), \
         protocol: (batch_size: 4, epochs: 2, shuffle: true, curve_every: 20, curve_test_examples: 5, \
         alignment_probe: 3, checkpoint_every: 12), record: (train_examples: [], test_examples: []))"
    ))
}

/// For each rule (KP, WM, SS), a run resumed from each periodic checkpoint, and one interrupted after the 7th
/// minibatch and resumed from the checkpoint it saved, ends with the uninterrupted run's network bit for bit (B and
/// the rule's state included), the same curve, alignment points and test NSE.
#[test]
fn a_resumed_run_equals_the_uninterrupted_one_with_each_rule() {
    for (name, learning) in RULES {
        let model = resumable(learning);
        let data = Prepared::load(&model).unwrap();
        let mut whole = Experiment::new(&model).unwrap();
        let start = whole.network().clone();
        let mut sink = Memory::new(0);
        let expected = whole.run_from(&data, &mut Silent, None, None, &mut sink).unwrap();
        assert_eq!(expected.train_examples_seen, 120);
        assert!(!expected.alignment.is_empty(), "{name}: alignment points");
        assert_ne!(b_of(whole.network(), 1), b_of(&start, 1), "{name}: B learned");
        let want = outcome_bits(&expected);
        assert_resumes_exactly(&model, &data, &sink, 5, (7, 28), &want, |net, from| {
            assert_same_network(net, whole.network(), &format!("{name}, {from}"))
        });
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 9. Refusals
// ---------------------------------------------------------------------------------------------------------------

/// `check` refuses, naming the field: KP with a negative decay or one of 1, KP with momentum; WM with no mirror batch
/// at all; a learning feedback rule with BP, with Rate cells, or (WM, SS) with LIF cells and two hidden layers; CrossEntropy
/// with Linear or Tanh outputs; `bias_rate` ≠ 1 with Rate or LIF cells (or < 0); `alignment_probe` > 0 with LIF
/// cells. The same models with the field set right pass.
#[test]
fn check_refuses_feedback_learning_where_it_does_not_apply_naming_the_field() {
    let model = |cells: &str, learning: &str, protocol: &str| {
        format!(
            "(name: \"m\", network: (layers: [3, 4, 2], cells: {cells}), \
             learning: (depth: 2, momentum: 0.0, {learning}), \
             protocol: ({protocol}), record: (train_examples: [], test_examples: []))"
        )
    };
    let refused = |text: String, field: &str| assert_check_refuses(&text, field);
    let accepted = |text: String| assert_check_accepts(&text);
    let graded = "Graded()";
    let kp = "algorithm: FA, feedback: KolenPollack(decay: -0.1)";
    refused(model(graded, kp, ""), "learning.feedback.KolenPollack.decay");
    refused(
        model(graded, "algorithm: FA, feedback: KolenPollack(decay: 1.0)", ""),
        "learning.feedback.KolenPollack.decay",
    );
    accepted(model(graded, "algorithm: FA, feedback: KolenPollack(decay: 0.01)", ""));
    refused(
        model(
            graded,
            "algorithm: FA, momentum: 0.9, feedback: KolenPollack(decay: 0.01)",
            "",
        )
        .replace("momentum: 0.0, ", ""),
        "learning.momentum",
    );

    let wm = |schedule: &str| format!("algorithm: FA, feedback: WeightMirror(schedule: {schedule})");
    refused(
        model(graded, &wm("(before: 0, after: 0)"), ""),
        "learning.feedback.WeightMirror.schedule",
    );
    accepted(model(graded, &wm("(before: 0, after: 1)"), ""));
    accepted(model(graded, &wm("(before: 3, after: 0)"), ""));

    for rule in [
        "KolenPollack(decay: 0.0)",
        "WeightMirror(schedule: (before: 1, after: 1))",
        "SignSymmetry()",
    ] {
        refused(
            model(graded, &format!("algorithm: BP, feedback: {rule}"), ""),
            "learning.feedback",
        );
        refused(
            model("Rate(c1: 0.82)", &format!("algorithm: FA, feedback: {rule}"), ""),
            "learning.feedback",
        );
        // LIF cells with two hidden layers: Kolen-Pollack learns layer by layer there; the weight mirror and sign
        // symmetry act on the broadcast matrix of a LIF network with one hidden layer only.
        let lif = model("Lif", &format!("algorithm: BA, feedback: {rule}"), "").replace("[3, 4, 2]", "[3, 4, 4, 2]");
        if rule.starts_with("KolenPollack") {
            accepted(lif);
        } else {
            refused(lif, "learning.feedback");
        }
        accepted(model(graded, &format!("algorithm: FA, feedback: {rule}"), ""));
    }

    refused(
        model("Graded(output: Linear, loss: CrossEntropy)", "algorithm: FA", ""),
        "network.cells.Graded.loss",
    );
    refused(
        model(
            "Graded(hidden: Sigmoid, output: Tanh, loss: CrossEntropy)",
            "algorithm: BP",
            "",
        ),
        "network.cells.Graded.loss",
    );
    accepted(model(
        "Graded(output: Sigmoid, loss: CrossEntropy)",
        "algorithm: FA",
        "",
    ));

    refused(
        model("Rate(c1: 0.82)", "algorithm: FA, bias_rate: 0.5", ""),
        "learning.bias_rate",
    );
    refused(model("Lif", "algorithm: BA, bias_rate: 0.5", ""), "learning.bias_rate");
    refused(
        model(graded, "algorithm: FA, bias_rate: -1.0", ""),
        "learning.bias_rate",
    );
    accepted(model(graded, "algorithm: FA, bias_rate: 0.5", ""));
    accepted(model("Lif", "algorithm: BA, bias_rate: 1.0", ""));

    refused(
        model("Lif", "algorithm: BA", "alignment_probe: 5"),
        "protocol.alignment_probe",
    );
    accepted(model("Lif", "algorithm: BA", "alignment_probe: 0"));
    accepted(model(graded, "algorithm: FA", "alignment_probe: 5"));
}

/// An experiment started from a given network (`bench --weights`, `export`) takes a weight-mirror or sign-symmetry
/// network whose rule has started (mirror batches run, sign symmetry's scale resolved), and runs no mirror batches of
/// its own: its noise stream is the seed's, untouched, where a fresh start's has drawn the mirror batches' noise.
#[test]
fn an_experiment_from_a_given_network_takes_started_rules_and_runs_no_mirror_batches() {
    let start = snn_sim::checkpoint::Progress::start(0, 0);
    for (model, mirrors) in [
        (mirror_model("batch: 16, schedule: (before: 50, after: 1)"), true),
        (
            akrout_like(
                &[20, 30, 15, 10],
                "hidden: Sigmoid, output: Sigmoid",
                "feedback: SignSymmetry()",
                4,
            ),
            false,
        ),
    ] {
        let mut fresh = Experiment::new(&model).unwrap();
        let trained = fresh.network().clone();
        let mut given = Experiment::with_network(&model, trained.clone()).unwrap();
        assert_eq!(given.network(), &trained);
        let untouched = Streams::from_seed(model.seed()).noise;
        assert_eq!(
            given.snapshot(&start).streams.noise,
            untouched,
            "no mirror batches drawn"
        );
        assert_eq!(
            fresh.snapshot(&start).streams.noise != untouched,
            mirrors,
            "a fresh start draws them"
        );
    }
}
