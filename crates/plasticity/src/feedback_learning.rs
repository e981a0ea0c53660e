//! How feedback matrices learn from local signals (Akrout et al. 2019, SPEC §6): the updates of
//! [`FeedbackRule::KolenPollack`](crate::FeedbackRule::KolenPollack), [`FeedbackRule::WeightMirror`](crate::FeedbackRule::WeightMirror)
//! and [`FeedbackRule::SignSymmetry`](crate::FeedbackRule::SignSymmetry) on one matrix `B`, shaped like the transposed
//! forward weights `W_aboveᵀ` it stands for (`[cells below, cells above]`).
//!
//! Sign convention: the forward weights learn `W += step · dᵀ a_pre` summed over the examples (`d` the modulator
//! of the layer above, `a_pre` the activity below), as in the graded engine.

use crate::feedback::{MirrorForm, MirrorRule};
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Zip, linalg::general_mat_mul};
use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Kolen-Pollack (SPEC §6.1, eq 17): `B ← (1 − λ) B + step · a_preᵀ d`, the transpose of the forward weights'
/// increment `step · dᵀ a_pre`. Its factors are the forward activity `a_pre` at the feedback synapse's target and
/// the modulator `d` at its source: local.
pub fn kolen_pollack(b: &mut Array2<f32>, a_pre: ArrayView2<'_, f32>, d: ArrayView2<'_, f32>, step: f32, decay: f32) {
    assert_eq!(
        b.dim(),
        (a_pre.ncols(), d.ncols()),
        "B is shaped like the transposed forward weights"
    );
    general_mat_mul(step, &a_pre.t(), &d, 1.0 - decay, b);
}

/// Kolen-Pollack after a momentum step of W in a network that learns online (SPEC §6.1, §6.6), from the step's
/// increment ΔW: `B ← (1 − λ) B + rate ΔWᵀ`, and the weights decay alike, `W ← (1 − λ) W_before + ΔW`, applied as
/// `W −= λ (W − ΔW)` to W that already holds the increment, so that `W − Bᵀ` shrinks as `(1 − λ)ᵗ` when `rate` is 1.
/// `b`, `w` and `dw` are given in one orientation (`w` and `dw` as transposed views where B is stored as Wᵀ, or `b`
/// as Bᵀ where it is stored like W): the update is entry by entry.
pub fn kolen_pollack_increment(
    mut b: ArrayViewMut2<'_, f32>,
    mut w: ArrayViewMut2<'_, f32>,
    dw: ArrayView2<'_, f32>,
    rate: f32,
    decay: f32,
) {
    assert!(
        b.dim() == dw.dim() && w.dim() == dw.dim(),
        "B, W and ΔW in one orientation"
    );
    Zip::from(&mut b)
        .and(&dw)
        .for_each(|b, &dw| *b = (1.0 - decay) * *b + rate * dw);
    if decay != 0.0 {
        Zip::from(&mut w).and(&dw).for_each(|w, &dw| *w -= decay * (*w - dw));
    }
}

/// Sign symmetry (SPEC §6.3): `B = scale · sign(W_above)ᵀ` (a zero weight gives a zero feedback weight).
pub fn sign_symmetry(b: &mut Array2<f32>, w_above: ArrayView2<'_, f32>, scale: f32) {
    assert_eq!(b.dim(), (w_above.ncols(), w_above.nrows()), "B is shaped like W_aboveᵀ");
    Zip::from(b).and(w_above.t()).for_each(|b, &w| {
        *b = match w {
            w if w > 0.0 => scale,
            w if w < 0.0 => -scale,
            _ => 0.0,
        }
    });
}

/// The buffers of one layer's mirror batches: the noise ξ `[M, cells below]` and the response `[M, cells above]`.
#[derive(Clone, Debug)]
pub struct MirrorBuffers {
    noise: Array2<f32>,
    response: Array2<f32>,
}

impl MirrorBuffers {
    /// Buffers for mirror batches of `batch` samples through a `[above, below]` forward matrix.
    pub fn new(batch: usize, below: usize, above: usize) -> Self {
        Self {
            noise: Array2::zeros((batch, below)),
            response: Array2::zeros((batch, above)),
        }
    }
}

/// One mirror batch of the weight mirror (SPEC §6.2) for one layer pair: fresh noise ξ in the layer below, drawn
/// from `rng` row by row, the response of the layer above through `W_above` (and `bias`, in the reference form),
/// and B's update.
/// - Clean: ξ ~ N(0, σ²), `y = W ξ`, `B ← (1 − λ) B + (η / M) ξ yᵀ`; with λ = η σ² the fixed point is `B = Wᵀ`.
/// - Reference: ξ = σ (U[0, 1) − ½), `y = sigmoid(W ξ + b)`, `B ← (1 − λ) B + η ξ yᵀ` (summed over the batch).
pub fn mirror_batch(
    b: &mut Array2<f32>,
    w_above: ArrayView2<'_, f32>,
    bias: ArrayView1<'_, f32>,
    rule: &MirrorRule,
    rng: &mut Xoshiro256PlusPlus,
    buffers: &mut MirrorBuffers,
) {
    let MirrorBuffers { noise, response } = buffers;
    assert_eq!(b.dim(), (w_above.ncols(), w_above.nrows()), "B is shaped like W_aboveᵀ");
    assert_eq!(noise.dim(), (rule.batch, w_above.ncols()), "noise buffer shape");
    let sigma = rule.sigma;
    match rule.form {
        MirrorForm::Clean => noise.mapv_inplace(|_| sigma * rng.sample::<f32, _>(StandardNormal)),
        MirrorForm::Reference => noise.mapv_inplace(|_| sigma * (rng.random::<f32>() - 0.5)),
    }
    general_mat_mul(1.0, &*noise, &w_above.t(), 0.0, response);
    let rate = match rule.form {
        MirrorForm::Clean => rule.eta / rule.batch as f32,
        MirrorForm::Reference => {
            Zip::from(response.rows_mut()).for_each(|mut y| {
                Zip::from(&mut y)
                    .and(&bias)
                    .for_each(|y, &b| *y = 1.0 / (1.0 + (-(*y + b)).exp()))
            });
            rule.eta
        }
    };
    general_mat_mul(rate, &noise.t(), &*response, 1.0 - rule.decay, b);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::SeedableRng;

    #[test]
    fn kolen_pollack_adds_the_transposed_increment_and_decays() {
        let mut b = array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let a = array![[1.0f32, 0.0, 2.0]];
        let d = array![[0.5f32, -1.0]];
        kolen_pollack(&mut b, a.view(), d.view(), 0.1, 0.5);
        // 0.5 B + 0.1 aᵀ d
        let want = array![[0.55f32, 0.9], [1.5, 2.0], [2.6, 2.8]];
        assert!(b.iter().zip(&want).all(|(x, y)| (x - y).abs() < 1e-6), "{b}");
    }

    #[test]
    fn sign_symmetry_is_the_scaled_sign_pattern_transposed() {
        let w = array![[0.3f32, -0.2, 0.0], [-1.0, 2.0, 0.5]];
        let mut b = Array2::zeros((3, 2));
        sign_symmetry(&mut b, w.view(), 0.1);
        assert_eq!(b, array![[0.1f32, -0.1], [-0.1, 0.1], [0.0, 0.1]]);
    }

    #[test]
    fn clean_mirror_batches_bring_b_to_the_transposed_weights() {
        let w = array![[0.5f32, -1.0, 0.25], [2.0, 0.0, -0.5]];
        let mut b = array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let rule = MirrorRule {
            eta: 0.1,
            decay: 0.1,
            sigma: 1.0,
            batch: 256,
            before: 0,
            after: 1,
            form: MirrorForm::Clean,
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut buffers = MirrorBuffers::new(256, 3, 2);
        for _ in 0..400 {
            mirror_batch(
                &mut b,
                w.view(),
                ndarray::Array1::zeros(2).view(),
                &rule,
                &mut rng,
                &mut buffers,
            );
        }
        let gap = (&b - &w.t()).mapv(f32::abs).fold(0.0f32, |m, &x| m.max(x));
        assert!(gap < 0.15, "B = {b} against Wᵀ = {}", w.t());
    }
}
