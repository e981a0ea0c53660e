//! Online learning with an exact weight decay (Lillicrap et al. 2016, Fig 4; SPEC §5.4): on every step, for a
//! batch of K independent streams sharing the synapses,
//!
//! ```text
//! W ← (1 − γ) W + α Σ_k g_k a_kᵀ        b ← (1 − γ) b + α Σ_k g_k
//! ```
//!
//! A decay of γ = 1e-8 per step is far below the rounding of f32 weights near 0.05 (their spacing is 3.7e-9, so
//! 0.05 · γ = 5e-10 would be rounded away on every step, and the decay would never happen). The projection therefore
//! stands for `W = c · w`, `b = c · b̃` with one f64 scale c ([`Projection::scale`]) and takes each step as
//!
//! ```text
//! c ← (1 − γ) c ;   w += (α / c) Σ_k g_k a_kᵀ ;   b̃ += (α / c) Σ_k g_k
//! ```
//!
//! which is the update above exactly, in real arithmetic, whatever γ: the decay is applied in aggregate to every
//! weight at once, and only the added term is rounded (as it is in any f32 update). The drive reads
//! `c (a wᵀ + b̃)`. When c falls below ½ it is folded into w and b̃ (one rounding per weight), which keeps α / c
//! bounded; with γ = 1e-8 that takes 7 × 10⁷ steps.
//!
//! Both products are split over fixed blocks of [`POST_BLOCK`] post-synaptic cells, as in [`Projection::learn`],
//! so results do not depend on the number of threads.

use crate::matmul::mat_mul_into;
use crate::projection::{POST_BLOCK, Projection};
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView2, Axis};

/// The scale below which it is folded into the weights.
const FOLD_BELOW: f64 = 0.5;

impl Projection {
    /// `v = c (a_pre wᵀ + b̃)` into `v` (`[examples, post]`): the drive of the synapses the projection stands for.
    pub fn scaled_drive_into(&self, a_pre: ArrayView2<'_, f32>, v: &mut Array2<f32>) {
        assert_eq!(a_pre.ncols(), self.pre(), "input width must match the fan-in");
        assert_eq!(v.dim(), (a_pre.nrows(), self.post()), "drive buffer shape");
        let c = self.scale as f32;
        v.axis_chunks_iter_mut(Axis(1), POST_BLOCK)
            .into_par_iter()
            .zip(self.w.axis_chunks_iter(Axis(0), POST_BLOCK).into_par_iter())
            .zip(self.b.axis_chunks_iter(Axis(0), POST_BLOCK).into_par_iter())
            .for_each(|((mut v, w), b)| {
                for mut row in v.rows_mut() {
                    row.assign(&b);
                }
                mat_mul_into(1.0, a_pre, w.t(), 1.0, &mut v);
                if c != 1.0 {
                    v.mapv_inplace(|x| x * c);
                }
            });
    }

    /// One online step with decay (module docs): `g` is `[examples, post]`, `a_pre` is `[examples, pre]`, `alpha`
    /// the factor of the summed outer products (η, or η / K for the mean over K streams), `gamma` the decay of
    /// this step (0 for none). Momentum buffers are not used.
    pub fn learn_decaying(&mut self, g: ArrayView2<'_, f32>, a_pre: ArrayView2<'_, f32>, alpha: f32, gamma: f64) {
        assert_eq!(g.dim(), (a_pre.nrows(), self.post()), "modulatory signal shape");
        assert_eq!(a_pre.ncols(), self.pre(), "input width must match the fan-in");
        assert!((0.0..1.0).contains(&gamma), "a decay 0 <= γ < 1");
        self.scale *= 1.0 - gamma;
        let a = (f64::from(alpha) / self.scale) as f32;
        self.w
            .axis_chunks_iter_mut(Axis(0), POST_BLOCK)
            .into_par_iter()
            .zip(g.axis_chunks_iter(Axis(1), POST_BLOCK).into_par_iter())
            .for_each(|(mut w, g)| mat_mul_into(a, g.t(), a_pre, 1.0, &mut w));
        for (b, g) in self.b.iter_mut().zip(g.columns()) {
            // Streams summed in order.
            *b += a * g.iter().sum::<f32>();
        }
        if self.scale < FOLD_BELOW {
            let c = self.scale;
            let fold = |x: &mut f32| *x = (f64::from(*x) * c) as f32;
            self.w.iter_mut().for_each(fold);
            self.b.iter_mut().for_each(fold);
            self.scale = 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};

    /// γ = 1e-8 on weights near 0.05 is below f32 rounding, yet after 10⁶ steps of pure decay the synapses are
    /// (1 − γ)^10⁶ of what they were, to f64 accuracy.
    #[test]
    fn a_decay_below_the_rounding_of_the_weights_takes_effect() {
        let mut p = Projection::new(array![[0.05f32, -0.03]], Array1::from_elem(1, 0.02));
        let g = Array2::<f32>::zeros((1, 1));
        let a = Array2::<f32>::zeros((1, 2));
        let gamma = 1e-8;
        // The naive f32 update changes nothing.
        assert_eq!(0.05f32 - (gamma as f32) * 0.05f32, 0.05f32);
        for _ in 0..1_000_000 {
            p.learn_decaying(g.view(), a.view(), 1e-3, gamma);
        }
        let expected = (1.0 - gamma).powi(1_000_000);
        assert!((p.scale - expected).abs() < 1e-12, "scale {} vs {expected}", p.scale);
        let w = p.effective_weights();
        assert!((f64::from(w[[0, 0]]) - 0.05 * expected).abs() < 1e-9);
        assert!((f64::from(p.effective_biases()[0]) - 0.02 * expected).abs() < 1e-9);
        assert!(w[[0, 0]] < 0.05 * 0.995, "the decay of 1 % took effect");
    }

    /// The scaled step equals the literal `W ← (1 − γ) W + α Σ_k g_k a_kᵀ` computed in f64.
    #[test]
    fn the_scaled_step_is_the_decaying_update() {
        let mut p = Projection::new(array![[0.1f32, -0.2, 0.3], [0.0, 0.05, -0.1]], array![0.01f32, -0.02]);
        let mut w: Vec<Vec<f64>> =
            p.w.rows()
                .into_iter()
                .map(|r| r.iter().map(|&x| f64::from(x)).collect())
                .collect();
        let mut b: Vec<f64> = p.b.iter().map(|&x| f64::from(x)).collect();
        let (alpha, gamma) = (0.01f32, 0.05);
        for t in 0..40 {
            let g = Array2::from_shape_fn((2, 2), |(k, i)| ((t + 3 * k + i) % 5) as f32 * 0.1 - 0.2);
            let a = Array2::from_shape_fn((2, 3), |(k, j)| ((t + k + j) % 2) as f32);
            p.learn_decaying(g.view(), a.view(), alpha, gamma);
            for i in 0..2 {
                for j in 0..3 {
                    let add: f64 = (0..2).map(|k| f64::from(g[[k, i]]) * f64::from(a[[k, j]])).sum();
                    w[i][j] = (1.0 - gamma) * w[i][j] + f64::from(alpha) * add;
                }
                let add: f64 = (0..2).map(|k| f64::from(g[[k, i]])).sum();
                b[i] = (1.0 - gamma) * b[i] + f64::from(alpha) * add;
            }
        }
        // 40 steps of γ = 0.05 fold the scale once (0.95^14 < ½).
        let (ew, eb) = (p.effective_weights(), p.effective_biases());
        for i in 0..2 {
            for j in 0..3 {
                assert!((f64::from(ew[[i, j]]) - w[i][j]).abs() < 1e-6, "w[{i}][{j}]");
            }
            assert!((f64::from(eb[i]) - b[i]).abs() < 1e-6, "b[{i}]");
        }
        let x = array![[1.0f32, 0.0, 1.0]];
        let mut v = Array2::zeros((1, 2));
        p.scaled_drive_into(x.view(), &mut v);
        for i in 0..2 {
            assert!((f64::from(v[[0, i]]) - (w[i][0] + w[i][2] + b[i])).abs() < 1e-6);
        }
    }
}
