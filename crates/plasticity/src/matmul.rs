//! The matrix product of the per-block step: `C ← α A B + β C` on ndarray views, through the `gemm` crate.
//!
//! The blocks of a step multiply small, strided matrices (the `[B, B]` Gram matrix by a `[B, 256]` column block of
//! C; a `[B, 256]` block of spikes by the `[256, 10]` read-out weights), tens of thousands of times per minibatch.
//! ndarray's own product (matrixmultiply) allocates and packs both operands on every call; `gemm` works on the
//! strided views in place where it can, which makes the Gram product about a quarter faster and halves the time of
//! the read-out share (docs/performance.md, "Each optimisation, before and after").
//! Its summation order depends only on the shapes, so results are the same on every call and at any thread count
//! (it runs single-threaded inside each parallel block).

use ndarray::{ArrayView2, ArrayViewMut2};

/// `c ← alpha · a b + beta · c` (ndarray's `general_mat_mul` convention; `beta = 0` overwrites c without reading it).
///
/// # Panics
/// If the shapes do not agree: `a` is `[m, k]`, `b` `[k, n]`, `c` `[m, n]`.
pub fn mat_mul_into(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
) {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert_eq!(k, k2, "inner dimensions of a matrix product");
    assert_eq!(c.dim(), (m, n), "shape of a matrix product's result");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // An empty sum: c ← beta · c.
        c.mapv_inplace(|x| if beta == 0.0 { 0.0 } else { beta * x });
        return;
    }
    let (a_s, b_s) = (a.strides(), b.strides());
    let c_s = [c.strides()[0], c.strides()[1]];
    // SAFETY: the three pointers come from live ndarray views whose shapes were checked above, so every element
    // gemm reads (a: m×k, b: k×n) or writes (c: m×n) at (row · row stride + column · column stride) lies inside its
    // view. `c` is borrowed mutably while `a` and `b` are borrowed shared, so c cannot overlap them. The element
    // type is f32, which gemm supports (it panics on other types, never reads out of bounds). Parallelism::None:
    // no threads are spawned from inside our parallel blocks.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_s[1],
            c_s[0],
            beta != 0.0,
            a.as_ptr(),
            a_s[1],
            a_s[0],
            b.as_ptr(),
            b_s[1],
            b_s[0],
            beta,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, linalg::general_mat_mul, s};

    /// Against ndarray's product on strided blocks and transposed views, accumulating and overwriting.
    #[test]
    fn equals_ndarray_product_on_strided_views() {
        let a = Array2::from_shape_fn((30, 50), |(i, j)| ((i * 7 + j * 3) % 13) as f32 - 6.0);
        let b = Array2::from_shape_fn((40, 100), |(i, j)| ((i * 5 + j) % 11) as f32 * 0.25);
        let a_blk = a.slice(s![.., 10..50]); // [30, 40], row stride 50
        let b_blk = b.slice(s![.., 20..84]); // [40, 64], row stride 100
        for beta in [0.0f32, 1.0, 0.9] {
            let mut want = Array2::from_elem((30, 64), 2.0f32);
            let mut got = want.clone();
            general_mat_mul(-0.5, &a_blk, &b_blk, beta, &mut want);
            mat_mul_into(-0.5, a_blk, b_blk, beta, &mut got.view_mut());
            let err = (&want - &got).iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!(err < 1e-3, "beta {beta}: max error {err}");
        }
        // A transposed right operand (column stride ≠ 1) into a column block of a wider result.
        let w = Array2::from_shape_fn((10, 40), |(i, j)| (i as f32 - j as f32) * 0.01);
        let mut out = Array2::<f32>::from_elem((30, 12), f32::NAN);
        mat_mul_into(1.0, a_blk, w.t(), 0.0, &mut out.slice_mut(s![.., 1..11]));
        let mut want = Array2::<f32>::zeros((30, 10));
        general_mat_mul(1.0, &a_blk, &w.t(), 0.0, &mut want);
        let err = (&want - &out.slice(s![.., 1..11]))
            .iter()
            .fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(err < 1e-4, "beta = 0 must not read the NaN result: {err}");
        assert!(
            out.column(0).iter().chain(out.column(11)).all(|x| x.is_nan()),
            "outside the block untouched"
        );
    }
}
