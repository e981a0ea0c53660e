//! Lillicrap et al. 2016's linear 30-20-10 task (SPEC §5.1) and the mechanism of feedback alignment (SPEC §5.5):
//! the quantity C = B W + Wᵀ Bᵀ − A Aᵀ drifts exactly as arXiv Proof 1 says, online through the graded engine and
//! in the expected dynamics; the NSE a run reports agrees with one computed from the weights; FA's modulator starts
//! at ≈ 90° to backprop's and aligns within a few hundred examples (Fig 2b).

use ndarray::{Array1, Array2, s};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_plasticity::Carrier;
use snn_sim::dataset::Prepared;
use snn_sim::engine::{Phase, Watch};
use snn_sim::experiment::{Experiment, Silent};
use snn_sim::network::Network;
use snn_sim::probe::NoProbe;
use snn_sim::{Model, ModelFile};
use std::path::Path;

/// The linear net of SPEC §5.1 learning by FA online (batch 1, no momentum, no decay, no biases), one η for both
/// layers, on `LinearTeacher` with `train` and `test` examples; a learning-curve point every `curve_every`.
fn linear_fa(eta: f32, train: usize, test: usize, curve_every: usize) -> Model {
    let text = format!(
        "(name: \"linear_fa\", seed: 11, \
         data: (dataset: LinearTeacher(train_examples: {train}, test_examples: {test})), \
         network: (layers: [30, 20, 10], cells: Graded(hidden: Linear, output: Linear, biases: false)), \
         init: (weights: Uniform(0.01), feedback: Uniform(0.5), b_mean: 0.0), \
         learning: (algorithm: FA, depth: 2, momentum: 0.0, learning_rate: Fixed({eta}), weight_decay: 0.0), \
         protocol: (batch_size: 1, epochs: 1, shuffle: false, curve_every: {curve_every}, curve_test_examples: 1, \
         checkpoint_every: 0), record: (train_examples: [], test_examples: []))"
    );
    ModelFile::from_ron(&text, Path::new("linear_fa.ron"))
        .unwrap()
        .check()
        .unwrap()
}

fn f64s(a: &Array2<f32>) -> Array2<f64> {
    a.mapv(f64::from)
}

/// (A = W₀ [20×30], W [10×20], B [20×10]) in f64.
fn weights(net: &Network) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
    let Carrier::Matrix(b) = &net.feedback[0].carrier else {
        panic!("FA's hidden layer has a matrix of its own")
    };
    (f64s(&net.forward[0].w), f64s(&net.forward[1].w), f64s(b))
}

/// C = B W + Wᵀ Bᵀ − A Aᵀ (SPEC §5.5, arXiv Proof 1 eq 14).
fn invariant(a: &Array2<f64>, w: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let bw = b.dot(w);
    &bw + &bw.t() - a.dot(&a.t())
}

/// The scale of C's terms, `max_ij (|B||W| + |W|ᵀ|B|ᵀ + |A||A|ᵀ)_ij`: storing each weight in f32 moves an entry of C
/// by at most `f32::EPSILON / 2` times it.
fn rounding_scale(a: &Array2<f64>, w: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let (a, w, b) = (a.mapv(f64::abs), w.mapv(f64::abs), b.mapv(f64::abs));
    let bw = b.dot(&w);
    max_abs(&(&bw + &bw.t() + a.dot(&a.t())))
}

fn outer(u: &Array1<f64>, v: &Array1<f64>) -> Array2<f64> {
    Array2::from_shape_fn((u.len(), v.len()), |(i, j)| u[i] * v[j])
}

fn max_abs(a: &Array2<f64>) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

fn targets(data: &Prepared) -> &Array2<f32> {
    data.train_t.as_ref().expect("a regression task")
}

/// SPEC §5.5 (invariant, arXiv Proof 1; target L9): online FA with the same η for both layers and both updates
/// computed from the same state changes C = B W + Wᵀ Bᵀ − A Aᵀ by exactly −η² ‖x‖² (B e)(B e)ᵀ per example
/// (e = y* − W A x), so C_t = C_0 − η² Σ_s ‖x_s‖² (B e_s)(B e_s)ᵀ. Checked on 300 examples of the §5.1 task through
/// the graded engine, C in f64 from its f32 weights. Tolerance: 4 ε_f32 times the scale of C's terms before and
/// after the step (the f32 storage of every weight moves C by at most ε/2 of that scale; the engine's f32 products
/// add a few ε of the much smaller update; observed errors stay below a fifth of it). The accumulated drift must
/// match the summed prediction to 1e-4 of its size, and dwarf the summed tolerances (≥ 100×).
#[test]
fn online_fa_changes_c_by_minus_eta_squared_norm_x_squared_be_be_t() {
    const ETA: f32 = 5e-3;
    let steps = 300;
    let model = linear_fa(ETA, steps, 2, 0);
    let data = Prepared::load(&model).unwrap();
    let mut exp = Experiment::new(&model).unwrap();
    let eta = f64::from(ETA);
    let (a, w, b) = weights(exp.network());
    let c0 = invariant(&a, &w, &b);
    let (mut predicted_sum, mut tol_sum) = (Array2::<f64>::zeros(c0.dim()), 0.0);
    for k in 0..steps {
        let (x, t) = (
            data.train_x.slice(s![k..k + 1, ..]),
            targets(&data).slice(s![k..k + 1, ..]),
        );
        let (a, w, b) = weights(exp.network());
        let xv = x.row(0).mapv(f64::from);
        let e = t.row(0).mapv(f64::from) - w.dot(&a.dot(&xv));
        let be = b.dot(&e);
        let predicted = outer(&be, &be) * (-eta * eta * xv.dot(&xv));
        exp.present_targets(x, &[0], Some(t), Phase::Train, &mut Watch::with(&mut NoProbe));
        let (a1, w1, b1) = weights(exp.network());
        assert_eq!(b1, b, "B is fixed");
        let change = invariant(&a1, &w1, &b1) - invariant(&a, &w, &b);
        let tol = 4.0 * f64::from(f32::EPSILON) * rounding_scale(&a, &w, &b).max(rounding_scale(&a1, &w1, &b1));
        let off = max_abs(&(&change - &predicted));
        assert!(off <= tol, "example {k}: ΔC off the prediction by {off:e} > {tol:e}");
        predicted_sum += &predicted;
        tol_sum += tol;
    }
    let (a, w, b) = weights(exp.network());
    let drift = invariant(&a, &w, &b) - &c0;
    let off = max_abs(&(&drift - &predicted_sum));
    let size = max_abs(&predicted_sum);
    assert!(off <= tol_sum, "accumulated drift off by {off:e} > {tol_sum:e}");
    assert!(off <= 1e-4 * size, "accumulated drift off by {off:e} of {size:e}");
    assert!(
        size >= 100.0 * tol_sum,
        "the drift {size:e} must dwarf the tolerances {tol_sum:e}"
    );
}

/// SPEC §5.5 (Theorem 1, arXiv Proof 1; target L9), pure f64 arithmetic, no engine: the expected FA dynamics
/// ΔW = η E Aᵀ, ΔA = η B E (E = T − W A) on 30-20-10 from W = A = 0, T ~ U[−1, 1], B ~ U[−0.5, 0.5], change
/// C = B W + Wᵀ Bᵀ − A Aᵀ by exactly −η² B E Eᵀ Bᵀ per step (C = 0 at the start, so C is the sum of those changes)
/// to f64 rounding: 16 ε_f64 times the scale of C's terms per step (observed errors stay below a ninth of it); and
/// ‖E‖ falls below 1e-3 of its start (η = 0.02: in 144 steps).
#[test]
fn expected_fa_dynamics_drift_c_by_minus_eta_squared_b_e_e_t_b_t_and_e_vanishes() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2016);
    let mut uniform = |shape: (usize, usize), r: f64| Array2::from_shape_simple_fn(shape, || rng.random_range(-r..r));
    let (t, b) = (uniform((10, 30), 1.0), uniform((20, 10), 0.5));
    let (mut w, mut a) = (Array2::<f64>::zeros((10, 20)), Array2::<f64>::zeros((20, 30)));
    let eta = 0.02;
    let start = (&t * &t).sum().sqrt();
    let mut predicted_sum = Array2::<f64>::zeros((20, 20));
    let mut steps = 0;
    let mut tol_sum = 0.0;
    loop {
        let e = &t - &w.dot(&a);
        let norm = (&e * &e).sum().sqrt();
        if norm < 1e-3 * start {
            break;
        }
        steps += 1;
        assert!(steps <= 20_000, "‖E‖ = {norm:e} of {start:e} after 20 000 steps");
        let be = b.dot(&e);
        let predicted = be.dot(&be.t()) * (-eta * eta);
        let before = invariant(&a, &w, &b);
        let dw = e.dot(&a.t()) * eta;
        a += &(&be * eta);
        w += &dw;
        let change = invariant(&a, &w, &b) - before;
        let off = max_abs(&(&change - &predicted));
        let tol = 16.0 * f64::EPSILON * rounding_scale(&a, &w, &b);
        assert!(off <= tol, "step {steps}: ΔC off by {off:e} > {tol:e}");
        tol_sum += tol;
        predicted_sum += &predicted;
    }
    let off = max_abs(&(invariant(&a, &w, &b) - &predicted_sum));
    let size = max_abs(&predicted_sum);
    assert!(
        off <= tol_sum && off <= 1e-10 * size,
        "C = Σ ΔC off by {off:e} of {size:e}"
    );
    assert!(
        size >= 1e6 * tol_sum,
        "the drift {size:e} must dwarf the tolerances {tol_sum:e}"
    );
}

/// SPEC §4 (NSE) and §5.1: the normalised squared error `Outcome::test_nse` reports after a short FA run of the
/// linear task (η = 5e-3) agrees (to 1e-5 relative: f32 outputs; observed ≤ 4e-8) with Σ (y* − W A x)² / Σ (y* − ȳ*)² computed in f64 from the trained
/// weights; the untrained net (weights U[−0.01, 0.01], outputs ≈ 0) scores ≈ 1 both ways (within 0.05: the sample
/// mean of 500 zero-mean targets lowers the denominator by ≈ 1/500), and the trained one is below 0.3 (0.009–0.025
/// over seeds 1–8).
#[test]
fn reported_nse_matches_a_direct_computation() {
    let model = linear_fa(5e-3, 300, 500, 0);
    let data = Prepared::load(&model).unwrap();
    let t = data.test_t.as_ref().unwrap().mapv(f64::from);
    let mean = t.mean_axis(ndarray::Axis(0)).unwrap();
    let direct = |net: &Network| {
        let (a, w, _) = weights(net);
        let y = data.test_x.mapv(f64::from).dot(&a.t()).dot(&w.t());
        (&t - &y).mapv(|d| d * d).sum() / (&t - &mean).mapv(|d| d * d).sum()
    };
    let all: Vec<usize> = (0..t.nrows()).collect();
    let mut exp = Experiment::new(&model).unwrap();
    let score = exp.test_scored(&data, &all, None, |_, _| Ok(())).unwrap();
    let untrained = data.nse(score.squared_error, &all).unwrap();
    let want = direct(exp.network());
    assert!(
        (untrained - want).abs() <= 1e-5 * want,
        "untrained: reported {untrained} vs {want}"
    );
    assert!((untrained - 1.0).abs() < 0.05, "untrained NSE {untrained} ≈ 1");
    let outcome = exp.run(&data, &mut Silent, None).unwrap();
    assert_eq!(outcome.train_examples_seen, 300);
    let trained = outcome.test_nse.expect("a regression task reports its NSE");
    assert_eq!(outcome.confusion, None, "a regression task has no classes to confuse");
    let want = direct(exp.network());
    assert!(
        (trained - want).abs() <= 1e-5 * want,
        "trained: reported {trained} vs {want}"
    );
    assert!(trained < 0.3, "300 examples of FA lower the NSE: {trained}");
}

/// SPEC §5.1 Fig 2b (target L2, in a short run): the angle θ (SPEC §4) between FA's hidden modulator B e and
/// backprop's Wᵀe, as `Outcome::alignment` reports it on every example (`protocol.curve_every: 1`), from §5.1's
/// initial scales and η = 1e-3, starts ≈ 90° (mean of the first 10 examples within 90 ± 20°) and falls below 45°
/// (L2's bound; mean of examples 200–299). Over seeds 1–8: first 10 at 80–95°, examples 200–299 at 24–32°.
#[test]
fn fa_modulator_starts_orthogonal_to_backprop_and_aligns() {
    let model = linear_fa(1e-3, 300, 2, 1);
    let data = Prepared::load(&model).unwrap();
    let outcome = Experiment::new(&model).unwrap().run(&data, &mut Silent, None).unwrap();
    let angles: Vec<f64> = outcome.alignment.iter().map(|p| p.angle_deg).collect();
    assert_eq!(angles.len(), 300, "one alignment point per example");
    let mean = |r: std::ops::Range<usize>| angles[r.clone()].iter().sum::<f64>() / r.len() as f64;
    let (early, late) = (mean(0..10), mean(200..300));
    assert!(
        (early - 90.0).abs() <= 20.0,
        "first 10 examples: {early:.1}°, not ≈ 90°"
    );
    assert!(late < 45.0, "examples 200–299: {late:.1}°, not below 45°");
}
