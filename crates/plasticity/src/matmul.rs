//! The matrix product of the per-block step: `C ← α A B + β C` on ndarray views, through the `gemm` crate.
//!
//! The blocks of a step multiply small, strided matrices (the `[B, B]` Gram matrix by a `[B, 256]` column block of
//! C; a `[B, 256]` block of spikes by the `[256, 10]` read-out weights), tens of thousands of times per minibatch.
//! ndarray's own product (matrixmultiply) allocates and packs both operands on every call; `gemm` works on the
//! strided views in place where it can, which makes the Gram product about a quarter faster and halves the time of
//! the read-out share (docs/performance.md, "Each optimisation, before and after").
//! Its summation order depends only on the shapes, so results are the same on every call and at any thread count
//! (it runs single-threaded inside each parallel block).

use ndarray::parallel::prelude::*;
use ndarray::{ArrayView2, ArrayViewMut2, Axis};

/// A product of at least this many multiply-adds is worth splitting into tasks ([`par_mat_mul_into`]): about
/// 50 µs of one core, well above what handing a task to another thread costs.
pub const PARALLEL_PRODUCT_MACS: usize = 1 << 21;

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

/// Whether a product of `macs` multiply-adds should be split into tasks: on a pool of several threads, from
/// [`PARALLEL_PRODUCT_MACS`] up. One thread takes the whole product, packing each operand once (splitting it cost
/// one thread about 9 % on the 784-630-370-10 nets: docs/performance.md). The choice never changes a result: a split
/// product has the whole product's bits ([`par_mat_mul_into`]).
pub fn worth_splitting(macs: usize) -> bool {
    macs >= PARALLEL_PRODUCT_MACS && rayon::current_num_threads() > 1
}

/// [`mat_mul_into`] split into tasks on rayon's pool: c's rows in blocks of `rows` (with a's) and its columns in
/// blocks of `cols` (with b's), each block one product, when [`worth_splitting`] (one product otherwise). Each block
/// sums over the same k as the whole product does, in the same order (gemm blocks k by its length and the caches
/// alone, never by m or n), so the result has the same bits split or not, at any thread count.
///
/// # Panics
/// If the shapes do not agree (as [`mat_mul_into`]) or a block size is 0.
pub fn par_mat_mul_into(
    alpha: f32,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
    rows: usize,
    cols: usize,
) {
    assert!(rows > 0 && cols > 0, "block sizes of a split product");
    let ((m, k), n) = (a.dim(), b.ncols());
    if !worth_splitting(m * n * k) || (m <= rows && n <= cols) {
        return mat_mul_into(alpha, a, b, beta, c);
    }
    assert_eq!(c.dim(), (m, n), "shape of a matrix product's result");
    c.axis_chunks_iter_mut(Axis(0), rows)
        .into_par_iter()
        .zip(a.axis_chunks_iter(Axis(0), rows).into_par_iter())
        .for_each(|(mut c, a)| {
            c.axis_chunks_iter_mut(Axis(1), cols)
                .into_par_iter()
                .zip(b.axis_chunks_iter(Axis(1), cols).into_par_iter())
                .for_each(|(mut c, b)| mat_mul_into(alpha, a, b, beta, &mut c));
        });
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

    /// The split product equals the whole one bit for bit (the blocks sum over the same k), with uneven edge blocks
    /// and a transposed operand, at one and two threads.
    #[test]
    fn a_split_product_has_the_whole_products_bits() {
        let a = Array2::from_shape_fn((100, 370), |(i, j)| (((i * 31 + j * 17) % 97) as f32 - 48.0) * 0.013);
        let w = Array2::from_shape_fn((630, 370), |(i, j)| (((i * 13 + j * 7) % 89) as f32 - 44.0) * 0.007);
        const {
            assert!(
                100 * 370 * 630 >= PARALLEL_PRODUCT_MACS,
                "the test must take the split path"
            )
        };
        for beta in [0.0f32, 0.9] {
            let start = Array2::from_shape_fn((100, 630), |(i, j)| ((i + j) % 5) as f32 * 0.1);
            let mut whole = start.clone();
            mat_mul_into(-0.25, a.view(), w.t(), beta, &mut whole.view_mut());
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let mut split = start.clone();
                pool.install(|| par_mat_mul_into(-0.25, a.view(), w.t(), beta, &mut split.view_mut(), 32, 128));
                assert!(
                    whole.iter().zip(&split).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "beta {beta}, {threads} threads: the split product differs from the whole one"
                );
            }
        }
    }
}
