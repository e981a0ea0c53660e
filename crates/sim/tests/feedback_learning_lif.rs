//! Feedback that learns in LIF networks (SPEC §6.6), where each hidden layer's feedback is a broadcast matrix (with one
//! hidden layer B_BA = γ B_FA; with two, B_BA(1) = γ² B_FA(1) B_FA(2)): Kolen-Pollack's decay of W − B_FAᵀ over
//! learning steps in every layer, sign symmetry's
//! refresh at the start of every training presentation, the spiking weight mirror's approach to W_outᵀ and its
//! schedule, bit-identical runs on 1 and 2 threads and after a resume, and the refusals of `check`. The inputs are
//! generated with the statistics of standardised MNIST pixels (no data files); the networks are tiny and the
//! presentations short (25 ms, learning after 5 ms).

mod exact;

use exact::{
    Memory, assert_check_accepts, assert_check_refuses, assert_resumes_exactly, assert_same_arrays,
    assert_same_network, f64s, frobenius, outcome_bits, rms, scaled_signs_t,
};

use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_plasticity::FeedbackRule;
use snn_sim::dataset::Prepared;
use snn_sim::engine::{Phase, Watch};
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
    ModelFile::from_ron(text, Path::new("feedback_learning_lif.ron"))
        .unwrap()
        .check()
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A LIF network of `layers` (one hidden layer) learning by `algorithm` at depth 2 with the fields `learning` added
/// to its `learning` section (the feedback rule among them) and `protocol` to its protocol ([`QUIET`] or the like),
/// in minibatches of 10.
/// Short presentations: 25 ms (100 steps), learning after 5 ms (80 learning steps).
macro_rules! short {
    () => {
        "present_ms: 25.0, settle_ms: 5.0"
    };
}

/// Short presentations, one epoch in order, no learning curve and no checkpoints.
const QUIET: &str = concat!(
    short!(),
    ", epochs: 1, shuffle: false, curve_every: 0, checkpoint_every: 0"
);

fn lif_model(layers: &[usize], algorithm: &str, learning: &str, protocol: &str) -> Model {
    checked(&format!(
        "(name: \"fb_lif\", seed: 13, network: (layers: {layers:?}, cells: Lif), \
         learning: (algorithm: {algorithm}, depth: 2, {learning}), \
         protocol: (batch_size: 10, {protocol}), \
         record: (train_examples: [], test_examples: []))"
    ))
}

/// `n` examples of `inputs` features with the statistics of standardised MNIST pixels (many at the background value)
/// and random labels of 10 classes.
fn examples(n: usize, inputs: usize, seed: u64) -> (Array2<f32>, Vec<u8>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let x = Array2::from_shape_simple_fn((n, inputs), || {
        if rng.random_range(0.0f32..1.0) < 0.6 {
            0.2
        } else {
            rng.random_range(0.0f32..3.0)
        }
    });
    let labels = (0..n).map(|_| rng.random_range(0u8..10)).collect();
    (x, labels)
}

/// `count` minibatches of 10 generated examples of `inputs` features.
fn minibatches(count: usize, inputs: usize, seed: u64) -> Vec<(Array2<f32>, Vec<u8>)> {
    (0..count)
        .map(|k| examples(10, inputs, seed * 1000 + k as u64))
        .collect()
}

/// One training presentation of `x` (labels `labels`).
fn train(exp: &mut Experiment, x: &Array2<f32>, labels: &[u8]) {
    exp.present(x.view(), labels, Phase::Train, &mut Watch::with(&mut NoProbe));
}

/// The broadcast matrix B_BA of the hidden layer (shaped like `W_outᵀ`).
fn b_ba(net: &Network) -> &Array2<f32> {
    net.feedback[0].matrix().expect("a broadcast matrix of its own")
}

/// The output weights W_out.
fn w_out(net: &Network) -> &Array2<f32> {
    &net.forward[1].w
}

fn gamma(model: &Model) -> f32 {
    model.file().learning.gamma
}

/// ‖W_out − B_FAᵀ‖_F with B_FA = B_BA / γ, in f64.
fn w_minus_b_fa_t(net: &Network, gamma: f32) -> f64 {
    let w = f64s(w_out(net).view());
    let b_fa = f64s(b_ba(net).view()) / f64::from(gamma);
    frobenius(&(&w - &b_fa.t()))
}

/// The angle in degrees between B_BA and W_outᵀ, both flattened.
fn angle_to_wt(net: &Network) -> f64 {
    let wt = f64s(w_out(net).view()).t().to_owned();
    let b = f64s(b_ba(net).view());
    let dot: f64 = wt.iter().zip(&b).map(|(x, y)| x * y).sum();
    (dot / (frobenius(&wt) * frobenius(&b)))
        .clamp(-1.0, 1.0)
        .acos()
        .to_degrees()
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Kolen-Pollack (SPEC §6.6)
// ---------------------------------------------------------------------------------------------------------------

/// LIF-KP on 100-30-10 (25 ms presentations) (BA and DF, momentum 0.9, η = 1/fan-in): after each of 5 training presentations,
/// ‖W_out − B_BAᵀ/γ‖_F is (1 − λ)ᵗ times its initial value, t = the learning steps so far (80 per presentation),
/// within 1e-4 relative, for λ = 1e-3 (a factor 0.67 after 400 steps) and for λ = 0 (no change); meanwhile W_out
/// learns far more than that tolerance, so a B that missed an increment would show.
#[test]
fn lif_kolen_pollack_shrinks_w_out_minus_b_fa_t_as_one_minus_lambda_to_the_steps() {
    for (algorithm, lambda) in [("BA", 1e-3f64), ("DF", 1e-3), ("BA", 0.0)] {
        let model = lif_model(
            &[100, 30, 10],
            algorithm,
            &format!("feedback: KolenPollack(decay: {lambda:?})"),
            QUIET,
        );
        let gamma = gamma(&model);
        let per_presentation = model.steps() - model.settle_steps();
        assert_eq!(per_presentation, 80);
        let mut exp = Experiment::new(&model).unwrap();
        let start = exp.network().clone();
        let first = w_minus_b_fa_t(&start, gamma);
        let w0 = f64s(w_out(&start).view());
        assert!(
            first > 0.5 * frobenius(&w0),
            "{algorithm}: B_FA independent of W_out at init: ‖W − B_FAᵀ‖ = {first}, ‖W‖ = {}",
            frobenius(&w0)
        );
        // 1e-4 relative (measured: ≤ 3e-6): one learning step too many or too few per presentation would be off by
        // λ = 1e-3.
        let tolerance = 1e-4;
        for (k, (x, labels)) in minibatches(5, 100, 1).iter().enumerate() {
            train(&mut exp, x, labels);
            let t = (k + 1) * per_presentation;
            let net = exp.network();
            let want = (1.0 - lambda).powi(t as i32) * first;
            let got = w_minus_b_fa_t(net, gamma);
            let what = format!("{algorithm}, λ = {lambda}, presentation {}, t = {t}", k + 1);
            println!(
                "{what}: ‖W − B_FAᵀ‖ = {got:.6}, want {want:.6} (relative {:.2e})",
                (got - want).abs() / want
            );
            assert!(
                (got - want).abs() <= tolerance * want,
                "{what}: ‖W − B_FAᵀ‖ = {got}, (1 − λ)^t · {first} = {want}"
            );
            // What W learned beyond its decay is far larger than the tolerance.
            let decayed = &w0 * (1.0 - lambda).powi(t as i32);
            let learned = frobenius(&(f64s(w_out(net).view()) - decayed));
            println!("{what}: W learned {learned:.4} (tolerance {:.2e})", tolerance * want);
            assert!(
                learned > 0.05 * want && learned > 20.0 * tolerance * want,
                "{what}: W_out learned only {learned}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Sign symmetry (SPEC §6.6)
// ---------------------------------------------------------------------------------------------------------------

/// LIF-SS on 100-30-10: the rule's scale resolves to γ · RMS(W_out at init) (or γ · the given 0.5) and never
/// changes; at init B_BA == scale · sign(W_out)ᵀ, and after each of 8 training presentations B_BA == scale ·
/// sign(W_out as it was at the start of that presentation)ᵀ exactly (the refresh happens at the start). The output
/// learns fast enough (`FanInScaled(8)`) that some weights change sign, so the check tells the weights at the start
/// of a presentation from those at its end.
#[test]
fn lif_sign_symmetry_sets_b_from_the_signs_at_the_start_of_each_presentation() {
    for given in [None, Some(0.5f32)] {
        let scale_field = given.map_or(String::new(), |s| format!("scale: {s:?}"));
        let model = lif_model(
            &[100, 30, 10],
            "BA",
            &format!("learning_rate: FanInScaled(8.0), feedback: SignSymmetry({scale_field})"),
            QUIET,
        );
        let mut exp = Experiment::new(&model).unwrap();
        let start = exp.network().clone();
        let FeedbackRule::SignSymmetry { scale: Some(scale) } = start.feedback[0].rule else {
            panic!("an unresolved rule {:?}", start.feedback[0].rule)
        };
        let want = gamma(&model) * given.unwrap_or_else(|| rms(w_out(&start)));
        assert!(
            (scale - want).abs() <= 1e-6 * want,
            "scale {scale} against γ s = {want}"
        );
        assert_eq!(b_ba(&start), &scaled_signs_t(w_out(&start), scale), "at init");
        let mut flips = 0;
        for (k, (x, labels)) in minibatches(8, 100, 2).iter().enumerate() {
            let w_before = w_out(exp.network()).clone();
            train(&mut exp, x, labels);
            let net = exp.network();
            let what = format!("scale {given:?}, presentation {}", k + 1);
            assert_eq!(
                net.feedback[0].rule,
                FeedbackRule::SignSymmetry { scale: Some(scale) },
                "{what}: the scale is fixed"
            );
            assert_eq!(b_ba(net), &scaled_signs_t(&w_before, scale), "{what}");
            flips += w_out(net)
                .iter()
                .zip(&w_before)
                .filter(|(a, b)| a.signum() != b.signum())
                .count();
        }
        println!("scale {given:?}: {flips} sign changes of W_out");
        assert!(
            flips > 0,
            "scale {given:?}: no weight changed sign: the test cannot tell the start from the end"
        );
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Weight mirror (SPEC §6.6)
// ---------------------------------------------------------------------------------------------------------------

/// A 100-30-10 LIF-BA net with the spiking weight mirror (κ = η = λ = 0.1) and `schedule`, protocol `protocol`.
fn mirror_model(schedule: &str, protocol: &str) -> Model {
    lif_model(
        &[100, 30, 10],
        "BA",
        &format!("feedback: WeightMirror(eta: 0.1, schedule: {schedule})"),
        protocol,
    )
}

/// Mirror phases alone (`Network::spiking_mirror_phase`, 10 copies, phases of SPEC's 100 ms = 400 steps) on a
/// 100-30-10 net: B_BA starts far from W_outᵀ (> 60°, an independent draw) and after 100 phases with κ = 0.1 lies
/// within 10° of it, with ⟨B_BA, W_outᵀ⟩ / ‖W_outᵀ‖²
/// within 20 % of γ (B_FA → W_outᵀ up to the spread of the cells' variances); the forward weights do not change.

#[test]
fn lif_mirror_phases_bring_b_to_gamma_times_the_transposed_output_weights() {
    let model = mirror_model(
        "(before: 0, after: 1)",
        "present_ms: 100.0, settle_ms: 20.0, epochs: 1, shuffle: false, curve_every: 0, checkpoint_every: 0",
    );
    assert_eq!(model.steps(), 400);
    let rule = model.spiking_mirror().expect("a spiking mirror rule");
    assert_eq!((rule.eta, rule.decay, rule.gamma), (0.1, 0.1, gamma(&model)), "κ and γ");
    assert_eq!(rule.steps, model.steps(), "a phase as long as a presentation");
    let mut streams = Streams::from_seed(model.seed());
    let mut net = Network::init(&model, &mut streams).unwrap();
    let forward = net.forward.clone();
    let a0 = angle_to_wt(&net);
    assert!(a0 > 60.0, "B starts at {a0}° from W_outᵀ");
    let mut buffers = net.spiking_mirror_buffers(model.protocol().batch_size);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    let mut angles = Vec::new();
    for phase in 1..=100 {
        net.spiking_mirror_phase(&mut buffers, &model.lif(), &rule, &mut rng);
        if phase % 10 == 0 {
            angles.push((phase, angle_to_wt(&net)));
        }
    }
    assert_eq!(net.forward, forward, "mirror phases leave the forward weights alone");
    let wt = f64s(w_out(&net).view()).t().to_owned();
    let b = f64s(b_ba(&net).view());
    let ratio = wt.iter().zip(&b).map(|(x, y)| x * y).sum::<f64>()
        / wt.iter().map(|x| x * x).sum::<f64>()
        / f64::from(gamma(&model));
    println!("start {a0:.1}°, after phases {angles:?}; ⟨B, Wᵀ⟩/(γ ‖Wᵀ‖²) = {ratio:.3}");
    let last = angles.last().unwrap().1;
    assert!(last < 10.0, "{last}° from W_outᵀ after 100 phases ({angles:?})");
    assert!((ratio - 1.0).abs() < 0.2, "B_BA ≈ {ratio} γ W_outᵀ");
}

/// `schedule: (before: 20, after: 0)`: `Network::init` runs 20 mirror phases from the run's noise stream (the same
/// arrays, bit for bit, as an initialisation with none followed by 20 `spiking_mirror_phase`s on that stream), which
/// bring B_BA closer to W_outᵀ; training presentations then leave B_BA as it is while the forward weights learn.
/// With `after: 1` a training presentation changes B_BA.
#[test]
fn lif_mirror_phases_before_training_and_after_each_presentation() {
    let before = mirror_model("(before: 20, after: 0)", QUIET);
    let none = mirror_model("(before: 0, after: 1)", QUIET);
    let mut streams = Streams::from_seed(before.seed());
    let mut by_hand = Network::init(&none, &mut streams).unwrap();
    let a0 = angle_to_wt(&by_hand);
    let rule = none.spiking_mirror().unwrap();
    let mut buffers = by_hand.spiking_mirror_buffers(none.protocol().batch_size);
    for _ in 0..20 {
        by_hand.spiking_mirror_phase(&mut buffers, &none.lif(), &rule, &mut streams.noise);
    }
    let mut exp = Experiment::new(&before).unwrap();
    assert_same_arrays(exp.network(), &by_hand, "before: 20 against init + 20 phases");
    let a20 = angle_to_wt(exp.network());
    println!("angle to W_outᵀ: {a0:.1}° at init, {a20:.1}° after 20 phases");
    assert!(a20 < a0 - 20.0, "20 phases before training: {a0}° → {a20}°");
    let b_start = b_ba(exp.network()).clone();
    let w_start = w_out(exp.network()).clone();
    for (x, labels) in &minibatches(2, 100, 3) {
        train(&mut exp, x, labels);
        assert_eq!(b_ba(exp.network()), &b_start, "after: 0 leaves B alone");
    }
    assert_ne!(w_out(exp.network()), &w_start, "the forward weights learned");

    let after = mirror_model("(before: 1, after: 1)", QUIET);
    let mut exp = Experiment::new(&after).unwrap();
    let b_start = b_ba(exp.network()).clone();
    let (x, labels) = &minibatches(1, 100, 3)[0];
    train(&mut exp, x, labels);
    assert_ne!(b_ba(exp.network()), &b_start, "after: 1 teaches B after a presentation");
}

// ---------------------------------------------------------------------------------------------------------------
// 4–5. Threads and resume
// ---------------------------------------------------------------------------------------------------------------

const RULES: [(&str, &str); 3] = [
    ("KP", "feedback: KolenPollack(decay: 0.001)"),
    ("SS", "learning_rate: FanInScaled(8.0), feedback: SignSymmetry()"),
    (
        "WM",
        "feedback: WeightMirror(eta: 0.1, schedule: (before: 2, after: 1))",
    ),
];

/// Each rule (KP, SS, WM) on a 100-300-10 LIF-BA net (300 hidden cells: two blocks of the parallel updates), run for
/// 3 training presentations in rayon pools of 1 and 2 threads, gives the same network bit for bit (weights, biases,
/// momentum, B_BA, the resolved rule) and the same answers.
#[test]
fn lif_one_and_two_threads_give_identical_networks_with_each_rule() {
    let batches = minibatches(3, 100, 4);
    for (name, learning) in RULES {
        let model = lif_model(&[100, 300, 10], "BA", learning, QUIET);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut exp = Experiment::new(&model).unwrap();
                let start = exp.network().clone();
                let answers: Vec<String> = batches
                    .iter()
                    .map(|(x, labels)| {
                        let a = exp.present(x.view(), labels, Phase::Train, &mut Watch::with(&mut NoProbe));
                        format!("{a:?}")
                    })
                    .collect();
                (start, exp.network().clone(), answers)
            })
        };
        let (start1, one, answers1) = run(1);
        let (start2, two, answers2) = run(2);
        assert_same_network(&start1, &start2, &format!("{name}: initial networks"));
        assert_same_network(&one, &two, &format!("{name}: 1 against 2 threads"));
        assert_eq!(answers1, answers2, "{name}: answers");
        assert_ne!(one.forward[0].w, start1.forward[0].w, "{name}: the network learned");
        assert_ne!(w_out(&one), w_out(&start1), "{name}: the output learned");
        if name != "SS" {
            assert_ne!(b_ba(&one), b_ba(&start1), "{name}: B learned");
        }
    }
}

/// 60 generated training examples and 10 test examples of 100 features.
fn resume_data() -> Prepared {
    let (train_x, train_y) = examples(60, 100, 5);
    let (test_x, test_y) = examples(10, 100, 6);
    Prepared {
        train_x,
        train_y,
        test_x,
        test_y,
        train_t: None,
        test_t: None,
    }
}

/// For each rule (KP, SS, WM) on 100-30-10 LIF-BA, 2 shuffled epochs of 60 examples in minibatches of 10 with a
/// curve point every 20 examples and a checkpoint every 20: a run resumed from each periodic checkpoint, and one
/// interrupted after the 4th minibatch and resumed from the checkpoint it saved, ends with the uninterrupted run's
/// network bit for bit (B_BA and the rule included), the same curve, alignment points and test results.
#[test]
fn lif_a_resumed_run_equals_the_uninterrupted_one_with_each_rule() {
    let data = resume_data();
    for (name, learning) in RULES {
        let model = lif_model(
            &[100, 30, 10],
            "BA",
            learning,
            concat!(
                short!(),
                ", epochs: 2, shuffle: true, curve_every: 20, curve_test_examples: 5, checkpoint_every: 20"
            ),
        );
        let mut whole = Experiment::new(&model).unwrap();
        let start = whole.network().clone();
        let mut sink = Memory::new(0);
        let expected = whole.run_from(&data, &mut Silent, None, None, &mut sink).unwrap();
        assert_eq!(expected.train_examples_seen, 120);
        assert!(
            expected.curve.len() >= 6,
            "{name}: {} curve points",
            expected.curve.len()
        );
        if name != "SS" {
            assert_ne!(b_ba(whole.network()), b_ba(&start), "{name}: B learned");
        }
        let want = outcome_bits(&expected);
        assert_resumes_exactly(&model, &data, &sink, 4, (4, 40), &want, |net, from| {
            assert_same_network(net, whole.network(), &format!("{name}, {from}"))
        });
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 6. Refusals
// ---------------------------------------------------------------------------------------------------------------

/// `check` refuses the weight mirror and sign symmetry in a LIF network with two hidden layers (naming
/// `learning.feedback`; Kolen-Pollack is accepted there), and the
/// weight mirror's `form: Reference` in a LIF network (naming `learning.feedback.WeightMirror.form`); the same
/// models with one hidden layer, BA or DF, and the clean form pass.
#[test]
fn check_refuses_lif_feedback_learning_where_it_does_not_apply_naming_the_field() {
    let model = |layers: &str, algorithm: &str, rule: &str| {
        format!(
            "(name: \"m\", network: (layers: {layers}, cells: Lif), \
             learning: (algorithm: {algorithm}, depth: 2, feedback: {rule}), \
             record: (train_examples: [], test_examples: []))"
        )
    };
    let refused = |text: String, field: &str| assert_check_refuses(&text, field);
    let accepted = |text: String| assert_check_accepts(&text);
    for rule in ["WeightMirror(schedule: (before: 1, after: 1))", "SignSymmetry()"] {
        for algorithm in ["BA", "DF"] {
            refused(model("[3, 4, 4, 2]", algorithm, rule), "learning.feedback");
            accepted(model("[3, 4, 2]", algorithm, rule));
        }
    }
    // Kolen-Pollack learns layer by layer with any number of hidden layers.
    for layers in ["[3, 4, 2]", "[3, 4, 4, 2]", "[3, 4, 4, 4, 2]"] {
        accepted(model(layers, "BA", "KolenPollack(decay: 0.001)"));
    }
    refused(
        model(
            "[3, 4, 2]",
            "BA",
            "WeightMirror(schedule: (before: 1, after: 1), form: Reference)",
        ),
        "learning.feedback.WeightMirror.form",
    );
    accepted(model(
        "[3, 4, 2]",
        "BA",
        "WeightMirror(schedule: (before: 1, after: 1), form: Clean)",
    ));
}

// ---------------------------------------------------------------------------------------------------------------
// 7. Kolen-Pollack with two hidden layers: B_FA of every layer, B_BA rebuilt by eq A.6
// ---------------------------------------------------------------------------------------------------------------

/// A 100-`h1`-`h2`-10 LIF network at learning depth 3 with the given rule and `engine.spike_input`.
fn layered_model(h1: usize, h2: usize, rule: &str, spike_input: &str, protocol: &str) -> Model {
    checked(&format!(
        "(name: \"fb_lif_layered\", seed: 17, network: (layers: [100, {h1}, {h2}, 10], cells: Lif), \
         learning: (algorithm: BA, depth: 3, gamma: 0.0656, feedback: {rule}), \
         protocol: (batch_size: 10, {protocol}), engine: (spike_input: {spike_input}), \
         record: (train_examples: [], test_examples: []))"
    ))
}

/// ‖W_(h+1) − B_FA(h)ᵀ‖_F of hidden layer h in f64: B_FA(h) from `layerwise` below the last hidden layer, B_BA / γ
/// at the last.
fn layered_gap(net: &Network, h: usize, gamma: f32) -> f64 {
    let w = f64s(net.forward[h + 1].w.view());
    let b_fa = match net.layerwise.get(h) {
        Some(b) => f64s(b.view()),
        None => f64s(net.feedback[h].matrix().unwrap().view()) / f64::from(gamma),
    };
    frobenius(&(&w - &b_fa.t()))
}

/// LIF-KP on 100-30-20-10 at depth 3 (λ = 1e-3 and 0; both ways of computing the second hidden layer's drive, which
/// learn its weights in different code): after each of 4 training presentations, for both hidden layers,
/// ‖W_(h+1) − B_FA(h)ᵀ‖ is (1 − λ)ᵗ times its initial value within 1e-4 relative; B_FA(1) is the network's layer-wise
/// matrix and differs from its initial value (it learned), and the first hidden layer's broadcast matrix is rebuilt
/// from it, B_BA(1) = γ B_FA(1) B_BA(2) (eq A.6), within 1e-5 relative.
#[test]
fn lif_kolen_pollack_with_two_hidden_layers_shrinks_every_w_minus_b_fa_t() {
    for (lambda, spike_input) in [(1e-3f64, "ActiveRows"), (1e-3, "Product"), (0.0, "ActiveRows")] {
        let model = layered_model(30, 20, &format!("KolenPollack(decay: {lambda:?})"), spike_input, QUIET);
        let gamma = gamma(&model);
        let per_presentation = model.steps() - model.settle_steps();
        let mut exp = Experiment::new(&model).unwrap();
        let start = exp.network().clone();
        assert_eq!(start.layerwise.len(), 1, "B_FA of the first hidden layer is kept");
        assert_eq!(start.layerwise[0].dim(), (30, 20));
        let first: Vec<f64> = (0..2).map(|h| layered_gap(&start, h, gamma)).collect();
        for (k, (x, labels)) in minibatches(4, 100, 2).iter().enumerate() {
            train(&mut exp, x, labels);
            let t = (k + 1) * per_presentation;
            let net = exp.network();
            for (h, &first) in first.iter().enumerate() {
                let want = (1.0 - lambda).powi(t as i32) * first;
                let got = layered_gap(net, h, gamma);
                let what = format!("λ = {lambda}, {spike_input}, hidden{}, presentation {}", h + 1, k + 1);
                assert!(
                    (got - want).abs() <= 1e-4 * want,
                    "{what}: ‖W − B_FAᵀ‖ = {got}, (1 − λ)^t · {first} = {want}"
                );
            }
            let b_ba2 = f64s(net.feedback[1].matrix().unwrap().view());
            let want = f64s(net.layerwise[0].view()).dot(&b_ba2) * f64::from(gamma);
            let got = f64s(net.feedback[0].matrix().unwrap().view());
            let err = frobenius(&(&got - &want)) / frobenius(&want);
            assert!(
                err < 1e-5,
                "λ = {lambda}, {spike_input}: B_BA(1) is γ B_FA(1) B_BA(2) within {err:e}"
            );
        }
        let net = exp.network();
        assert_ne!(net.layerwise[0], start.layerwise[0], "B_FA(1) learned");
        assert_ne!(net.forward[1].w, start.forward[1].w, "the second hidden layer learned");
    }
}

/// Kolen-Pollack on 100-300-200-10 (several blocks in each hidden layer) gives the same network bit for bit on 1 and
/// 2 threads, layer-wise matrices included; and a run resumed from its checkpoints equals the uninterrupted one.
#[test]
fn lif_layered_kolen_pollack_is_the_same_at_any_thread_count_and_after_a_resume() {
    let model = layered_model(300, 200, "KolenPollack(decay: 0.001)", "ActiveRows", QUIET);
    let batches = minibatches(2, 100, 6);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut exp = Experiment::new(&model).unwrap();
            for (x, labels) in &batches {
                train(&mut exp, x, labels);
            }
            exp.network().clone()
        })
    };
    let (one, two) = (run(1), run(2));
    assert_same_network(&one, &two, "1 against 2 threads");
    assert_eq!(one.layerwise, two.layerwise, "layer-wise B_FA on 1 and 2 threads");

    let data = resume_data();
    let model = layered_model(
        30,
        20,
        "KolenPollack(decay: 0.001)",
        "ActiveRows",
        concat!(
            short!(),
            ", epochs: 2, shuffle: true, curve_every: 20, curve_test_examples: 5, checkpoint_every: 20"
        ),
    );
    let mut whole = Experiment::new(&model).unwrap();
    let mut sink = Memory::new(0);
    let expected = whole.run_from(&data, &mut Silent, None, None, &mut sink).unwrap();
    let want = outcome_bits(&expected);
    assert_resumes_exactly(&model, &data, &sink, 4, (4, 40), &want, |net, from| {
        assert_same_network(net, whole.network(), from);
        assert_eq!(net.layerwise, whole.network().layerwise, "{from}: layer-wise B_FA");
    });
}
