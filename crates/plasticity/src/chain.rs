//! Feedback chained back through the layers above: backprop (Samadi eq 2.5) and feedback alignment (eq 2.6).
//!
//! For a hidden layer n below layer n + 1, both send
//!
//! ```text
//! δ_(n) = (f'(v_(n+1)) ⊙ δ_(n+1)) M          batch-major: [examples, s_(n+1)] · [s_(n+1), s_n]
//! ```
//!
//! with `M = W_(n+1)` (backprop: the forward weights, weight transport) or `M = B_FA(n)ᵀ` (feedback alignment: fixed
//! random weights). The cell's own derivative then enters through ι = η sech²(c2 v) δ ([`crate::teaching_signal_into`]),
//! where c1 c2 is dropped as in eq 2.11; the downstream derivatives f' keep it (f' = c1 c2 sech²(c2 v) for v > 0),
//! so that with M = W every layer's ι is exactly `η / (c1 c2)` times the gradient of `½‖e‖²` with respect to its
//! drive (tested against a numerical gradient in `snn-sim`).

use crate::matmul::par_mat_mul_into;
use crate::projection::{EXAMPLE_BLOCK, POST_BLOCK};
use crate::rule::{Derivative, teaching_signal_into};
use ndarray::{ArrayBase, ArrayView2, DataMut, Ix2};

/// `δ_below = (f'(v_above) ⊙ δ_above) · back` into `delta_below`, using `scratch` (`[examples, s_above]`) for the
/// product f' ⊙ δ. `back` is `[s_above, s_below]`: `W_(n+1)` for backprop, `B_FA(n)ᵀ` for feedback alignment.
pub fn chain_delta_into(
    delta_below: &mut ArrayBase<impl DataMut<Elem = f32>, Ix2>,
    scratch: &mut ArrayBase<impl DataMut<Elem = f32>, Ix2>,
    v_above: ArrayView2<'_, f32>,
    delta_above: ArrayView2<'_, f32>,
    back: ArrayView2<'_, f32>,
    derivative: Derivative,
) {
    assert_eq!(back.nrows(), delta_above.ncols(), "feedback rows = cells above");
    assert_eq!(back.ncols(), delta_below.ncols(), "feedback columns = cells below");
    teaching_signal_into(scratch, v_above, delta_above, 1.0, derivative);
    // Split into fixed blocks of examples and cells below when large (a 630-cell layer under 370): the same bits.
    par_mat_mul_into(
        1.0,
        scratch.view(),
        back,
        0.0,
        &mut delta_below.view_mut(),
        EXAMPLE_BLOCK,
        POST_BLOCK,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn chain_by_hand() {
        // Two cells above (one silent: v < 0), three below.
        let v_above = array![[10.0f32, -1.0]];
        let delta_above = array![[2.0f32, 5.0]];
        let w = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let d = Derivative::TanhFit { c1: 0.82, c2: 0.08 };
        let mut below = Array2::zeros((1, 3));
        let mut scratch = Array2::zeros((1, 2));
        chain_delta_into(
            &mut below,
            &mut scratch,
            v_above.view(),
            delta_above.view(),
            w.view(),
            d,
        );
        let g = 0.82 * 0.08 * (1.0 - (0.8f32).tanh().powi(2)) * 2.0; // f'(10) δ; the silent cell passes nothing
        for (j, want) in [g, 2.0 * g, 3.0 * g].into_iter().enumerate() {
            assert!(
                (below[[0, j]] - want).abs() < 1e-6,
                "cell {j}: {} vs {want}",
                below[[0, j]]
            );
        }
    }
}
