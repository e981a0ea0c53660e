//! A projection's drive and update for a few examples at a time, row by row of W (online learning, SPEC §5.0).
//!
//! With one example per update the products of [`Projection::drive_into`] and
//! [`Projection::learn_weights_without_momentum`] are a matrix-vector product and a rank-1 update. A general matrix
//! product packs its operands first, which for a vector times W copies all of W once more per example; here each row
//! of W is read once for the drive (a dot product with each example's input) and read and written once for the
//! update (`w_i ← (1 − λ) w_i − s Σ_k ι_ki a_k`). Rows are split over fixed blocks of [`POST_BLOCK`] cells, and
//! every sum runs in a fixed order (16 lanes, then the lanes in order), so results are bit-identical at any thread
//! count.

use crate::projection::{POST_BLOCK, Projection};
use crate::update::Update;
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView2, Axis};

/// Examples per minibatch up to which the row-by-row paths are used (beyond it a matrix product reuses each row of W
/// across the examples better).
pub const ROWS_MAX_EXAMPLES: usize = 8;

/// Lanes of the fixed-order sums: two AVX2 registers of f32.
const LANES: usize = 16;

/// `Σ_j a_j b_j` over 16 lanes, each summed in order, then the lanes in order.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        acc[l] += x * y;
    }
    acc.iter().sum()
}

/// A row of an input batch as a slice (the engines' input buffers are standard-layout arrays).
fn contiguous<'a>(row: &'a ndarray::ArrayView1<'_, f32>) -> &'a [f32] {
    row.as_slice().expect("contiguous input rows")
}

impl Projection {
    /// [`Self::drive_into`] row by row: `v_ki = w_i · a_k + b_i` (module docs).
    pub fn drive_rows_into(&self, a_pre: ArrayView2<'_, f32>, v: &mut Array2<f32>) {
        assert_eq!(a_pre.ncols(), self.pre(), "input width must match the fan-in");
        assert_eq!(v.dim(), (a_pre.nrows(), self.post()), "drive buffer shape");
        v.axis_chunks_iter_mut(Axis(1), POST_BLOCK)
            .into_par_iter()
            .zip(self.w.axis_chunks_iter(Axis(0), POST_BLOCK).into_par_iter())
            .zip(self.b.axis_chunks_iter(Axis(0), POST_BLOCK).into_par_iter())
            .for_each(|((mut v, w), b)| {
                for (i, (row, &bias)) in w.rows().into_iter().zip(b).enumerate() {
                    let row = row.to_slice().expect("contiguous weight rows");
                    for (k, input) in a_pre.rows().into_iter().enumerate() {
                        v[[k, i]] = dot(row, contiguous(&input)) + bias;
                    }
                }
            });
    }

    /// [`Self::learn_weights_without_momentum`] row by row: `w_i ← (1 − λ) w_i − s Σ_k ι_ki a_k`, the examples added
    /// in order (module docs). A row whose cell has no teaching signal is only decayed.
    pub fn learn_rows_without_momentum(
        &mut self,
        iota: ArrayView2<'_, f32>,
        a_pre: ArrayView2<'_, f32>,
        update: Update,
    ) {
        self.assert_update_without_momentum(iota, a_pre, update);
        let keep = 1.0 - update.decay;
        self.w
            .axis_chunks_iter_mut(Axis(0), POST_BLOCK)
            .into_par_iter()
            .zip(iota.axis_chunks_iter(Axis(1), POST_BLOCK).into_par_iter())
            .for_each(|(mut w, iota)| {
                for (i, mut row) in w.rows_mut().into_iter().enumerate() {
                    let row = row.as_slice_mut().expect("contiguous weight rows");
                    if keep != 1.0 {
                        row.iter_mut().for_each(|x| *x *= keep);
                    }
                    for (k, input) in a_pre.rows().into_iter().enumerate() {
                        let c = -update.scale * iota[[k, i]];
                        if c != 0.0 {
                            row.iter_mut().zip(contiguous(&input)).for_each(|(x, &a)| *x += c * a);
                        }
                    }
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    fn projection() -> Projection {
        let w = Array2::from_shape_fn((300, 37), |(i, j)| ((i * 37 + j) % 23) as f32 * 0.01 - 0.11);
        Projection::new(w, Array1::from_shape_fn(300, |i| i as f32 * 0.001))
    }

    fn inputs(examples: usize) -> Array2<f32> {
        Array2::from_shape_fn((examples, 37), |(k, j)| ((k * 7 + j * 3) % 11) as f32 * 0.1)
    }

    /// The row-by-row drive equals the matrix product in f64 to f32 rounding.
    #[test]
    fn rows_drive_equals_the_product() {
        let p = projection();
        for examples in [1, 3] {
            let a = inputs(examples);
            let mut v = Array2::zeros((examples, 300));
            p.drive_rows_into(a.view(), &mut v);
            let want = a.mapv(f64::from).dot(&p.w.mapv(f64::from).t()) + p.b.mapv(f64::from);
            let worst = (&v.mapv(f64::from) - &want)
                .mapv(f64::abs)
                .fold(0.0f64, |m, &d| m.max(d));
            assert!(worst < 1e-5, "{examples} examples: off by {worst}");
        }
    }

    /// The row-by-row update equals `(1 − λ) W − s ιᵀ a` in f64, and a cell without a teaching signal is only
    /// decayed.
    #[test]
    fn rows_update_equals_the_rank_k_update() {
        for (examples, decay) in [(1, 0.0f32), (2, 1e-3)] {
            let mut p = projection();
            let a = inputs(examples);
            let mut iota = Array2::from_shape_fn((examples, 300), |(k, i)| ((k + i) % 5) as f32 * 0.02 - 0.04);
            iota.column_mut(7).fill(0.0);
            let update = Update::new(0.0, 0.5).with_decay(decay);
            let want =
                p.w.mapv(f64::from) * (1.0 - f64::from(decay)) - 0.5 * iota.mapv(f64::from).t().dot(&a.mapv(f64::from));
            let before = p.w.row(7).to_owned();
            p.learn_rows_without_momentum(iota.view(), a.view(), update);
            let worst = (&p.w.mapv(f64::from) - &want)
                .mapv(f64::abs)
                .fold(0.0f64, |m, &d| m.max(d));
            assert!(worst < 1e-6, "{examples} examples: off by {worst}");
            assert_eq!(p.w.row(7), before.mapv(|x| x * (1.0 - decay)), "no signal: decay alone");
        }
    }
}
