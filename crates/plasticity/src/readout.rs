//! A block's share of the drive of a narrow layer above it: `out = a Wᵀ` with few outputs (the 10 output cells of an
//! MNIST network), as dot products of each example's activity row with each output's row of W.
//!
//! A general matrix product (`gemm`) is shaped for wide results: for a `[100, 256]` block of activity and 10 outputs
//! it packs the whole activity block into its own layout on every call, as much memory traffic as the product itself.
//! Here two example rows at a time are read straight from the simulator's array against five weight rows, with the
//! ten partial sums in ten AVX2 registers, which takes about a third less time per block than `gemm`
//! (docs/performance.md, "Session 6: where a real run spends its time, spinning helpers, the alignment diagnostic, the
//! read-out").
//!
//! Summation order (the same on every call, at any thread count, for any set of examples): each of the 8 lanes sums
//! the cells j ≡ lane (mod 8) in increasing j by fused multiply-adds; the lanes are added as ((0+4) + (2+6)) +
//! ((1+5) + (3+7)); the cells past the last multiple of 8 are added last, in order. Without AVX2 and FMA (checked at
//! run time) the product goes to `gemm`, whose order differs in the last bits.

use crate::matmul::mat_mul_into;
use ndarray::{ArrayView2, ArrayViewMut2, Axis};

/// Outputs per register block: two examples × five outputs = ten accumulators, plus the loads, in x86-64's 16 vector
/// registers.
const GROUP: usize = 5;

/// `out = a wᵀ`: `a` is `[examples, cells]`, `w` `[outputs, cells]`, `out` `[examples, outputs]`. Uses the AVX2
/// kernel when the CPU has AVX2 and FMA and the rows of `a` and `w` are contiguous, `gemm` otherwise.
///
/// # Panics
/// If the shapes disagree.
pub fn readout_into(a: ArrayView2<'_, f32>, w: ArrayView2<'_, f32>, out: &mut ArrayViewMut2<'_, f32>) {
    assert_eq!(a.ncols(), w.ncols(), "activity and weights cover the same cells");
    assert_eq!(out.dim(), (a.nrows(), w.nrows()), "shape of the read-out");
    #[cfg(target_arch = "x86_64")]
    if avx2::available() && rows_contiguous(a) && rows_contiguous(w) {
        // SAFETY: AVX2 and FMA were detected on this CPU; the rows are contiguous (checked).
        unsafe { avx2::readout(a, w, out) };
        return;
    }
    mat_mul_into(1.0, a, w.t(), 0.0, out);
}

/// Whether each row of `m` is one contiguous slice.
fn rows_contiguous(m: ArrayView2<'_, f32>) -> bool {
    m.ncols() <= 1 || m.strides()[1] == 1
}

/// Row `i` of a block's activity or weights as a slice (rows checked contiguous by the caller).
fn row(m: ArrayView2<'_, f32>, i: usize) -> &[f32] {
    m.index_axis_move(Axis(0), i)
        .to_slice()
        .expect("rows of the activity and the weights are contiguous")
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{GROUP, row};
    use ndarray::{ArrayView2, ArrayViewMut2};
    use std::arch::x86_64::*;

    /// Whether this CPU runs the kernel (the answer is cached by the standard library).
    pub(super) fn available() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }

    /// [`super::readout_into`] by register blocks of two examples and up to [`GROUP`] outputs.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; the rows of `a` and `w` must be contiguous.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn readout(a: ArrayView2<'_, f32>, w: ArrayView2<'_, f32>, out: &mut ArrayViewMut2<'_, f32>) {
        let outputs = w.nrows();
        let mut first = 0;
        while first < outputs {
            // SAFETY (each arm): the caller's guarantees, passed on.
            unsafe {
                match outputs - first {
                    1 => group::<1>(a, w, first, out),
                    2 => group::<2>(a, w, first, out),
                    3 => group::<3>(a, w, first, out),
                    4 => group::<4>(a, w, first, out),
                    _ => group::<GROUP>(a, w, first, out),
                }
            }
            first += GROUP.min(outputs - first);
        }
    }

    /// Outputs `first .. first + G` of every example, two examples at a time.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn group<const G: usize>(
        a: ArrayView2<'_, f32>,
        w: ArrayView2<'_, f32>,
        first: usize,
        out: &mut ArrayViewMut2<'_, f32>,
    ) {
        let w: [&[f32]; G] = std::array::from_fn(|g| row(w, first + g));
        let examples = a.nrows();
        let mut e = 0;
        while e < examples {
            let pair = e + 1 < examples;
            let rows = [row(a, e), row(a, if pair { e + 1 } else { e })];
            // SAFETY: AVX2 and FMA (the caller's guarantee); every row has the same length as `w`'s.
            let sums = unsafe { dots::<G>(rows, w) };
            for (k, s) in sums.iter().enumerate().take(if pair { 2 } else { 1 }) {
                for (g, &x) in s.iter().enumerate() {
                    out[[e + k, first + g]] = x;
                }
            }
            e += 2;
        }
    }

    /// The dot products of two activity rows with `G` weight rows, in the module's summation order.
    ///
    /// # Safety
    /// AVX2 and FMA; all rows of the same length.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::needless_range_loop)] // constant extents: the accumulators stay in registers
    unsafe fn dots<const G: usize>(a: [&[f32]; 2], w: [&[f32]; G]) -> [[f32; G]; 2] {
        let n = a[0].len();
        assert!(a[1].len() == n && w.iter().all(|r| r.len() == n), "rows of one length");
        let whole = n - n % 8;
        let mut acc = [[_mm256_setzero_ps(); G]; 2];
        let mut c = 0;
        while c < whole {
            // SAFETY: c + 8 ≤ whole ≤ n, the length of every row.
            let (x0, x1) = unsafe {
                (
                    _mm256_loadu_ps(a[0].as_ptr().add(c)),
                    _mm256_loadu_ps(a[1].as_ptr().add(c)),
                )
            };
            for g in 0..G {
                // SAFETY: as above.
                let wv = unsafe { _mm256_loadu_ps(w[g].as_ptr().add(c)) };
                acc[0][g] = _mm256_fmadd_ps(x0, wv, acc[0][g]);
                acc[1][g] = _mm256_fmadd_ps(x1, wv, acc[1][g]);
            }
            c += 8;
        }
        let mut out = [[0.0f32; G]; 2];
        for k in 0..2 {
            for g in 0..G {
                let mut s = lane_sum(acc[k][g]);
                for j in whole..n {
                    s = a[k][j].mul_add(w[g][j], s);
                }
                out[k][g] = s;
            }
        }
        out
    }

    /// ((0+4) + (2+6)) + ((1+5) + (3+7)) of the eight lanes.
    #[target_feature(enable = "avx2,fma")]
    fn lane_sum(v: __m256) -> f32 {
        let halves = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)); // 0+4, 1+5, 2+6, 3+7
        let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves)); // (0+4)+(2+6), (1+5)+(3+7)
        _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, s};

    /// Every shape (odd example counts, output groups that do not divide, widths that are not multiples of 8, a
    /// block of a wider weight matrix) against f64 sums, for 0/1 activity (the simulator's spikes) and graded.
    #[test]
    fn readout_equals_the_dot_products() {
        let val = |(i, j): (usize, usize)| (((i * 37 + j * 11) % 19) as f32 - 9.0) * 0.0625;
        for (examples, cells, outputs) in [
            (1, 1, 1),
            (3, 7, 2),
            (5, 16, 10),
            (100, 256, 10),
            (4, 37, 6),
            (2, 160, 11),
        ] {
            let spikes =
                Array2::from_shape_fn((examples, cells), |(e, j)| f32::from(u8::from((e * 7 + j * 3) % 5 < 2)));
            let graded = Array2::from_shape_fn((examples, cells), val);
            let wide = Array2::from_shape_fn((outputs, cells + 9), |(o, j)| val((o + 3, j)));
            let w = wide.slice(s![.., 4..4 + cells]);
            for a in [&spikes, &graded] {
                let mut out = Array2::from_elem((examples, outputs), f32::NAN);
                readout_into(a.view(), w, &mut out.view_mut());
                for ((e, o), &got) in out.indexed_iter() {
                    let exact: f64 = (0..cells).map(|j| f64::from(a[[e, j]]) * f64::from(w[[o, j]])).sum();
                    assert!(
                        (f64::from(got) - exact).abs() <= 1e-5 * (1.0 + exact.abs()),
                        "{examples}×{cells}×{outputs} [{e}, {o}]: {got} vs {exact}"
                    );
                }
            }
        }
    }

    /// An example's sums do not depend on the other examples of the block (taken in pairs or alone), nor does a
    /// column-strided activity (gemm's path) change the shape of the answer.
    #[test]
    fn an_example_gets_the_same_bits_alone_or_in_a_pair() {
        let a = Array2::from_shape_fn((5, 83), |(e, j)| ((e * 13 + j * 5) % 11) as f32 * 0.37 - 1.5);
        let w = Array2::from_shape_fn((10, 83), |(o, j)| ((o * 7 + j * 3) % 17) as f32 * 0.11 - 0.9);
        let mut all = Array2::zeros((5, 10));
        readout_into(a.view(), w.view(), &mut all.view_mut());
        for e in 0..5 {
            let mut one = Array2::zeros((1, 10));
            readout_into(a.slice(s![e..e + 1, ..]), w.view(), &mut one.view_mut());
            assert_eq!(one.row(0), all.row(e), "example {e}");
        }
        let at = a.t().to_owned();
        let mut strided = Array2::zeros((5, 10));
        readout_into(at.t(), w.view(), &mut strided.view_mut());
        assert!(
            strided
                .iter()
                .zip(&all)
                .all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + y.abs()))
        );
    }
}
