//! A projection: the synapses from one population onto the next, with biases and momentum (SPEC §2.2).
//!
//! Forward: `v = a_pre Wᵀ + b` for a batch `a_pre [examples, pre]`, giving `v [examples, post]`.
//! Learning (eqs 2.12–2.13, with momentum applied to W and b alike):
//!
//! ```text
//! ΔW ← μ ΔW − s ιᵀ a_pre ;  W += ΔW          (s = 1 for a summed batch, 1/examples for the mean)
//! Δb ← μ Δb − s Σ_examples ι ;  b += Δb
//! ```
//!
//! Both products are split over fixed blocks of [`POST_BLOCK`] post-synaptic cells and run on rayon's pool. The split
//! never depends on the number of threads, and each block is one independent matrix product, so results are
//! bit-identical at any thread count.

use ndarray::parallel::prelude::*;
use ndarray::{Array1, Array2, ArrayView2, Axis, Zip, linalg::general_mat_mul};

/// Post-synaptic cells per parallel block: 128 × 784 f32 weights (392 KiB) keep a block's W and ΔW in L2.
pub const POST_BLOCK: usize = 128;

/// Synapses from `pre` cells onto `post` cells, with biases of the post cells and momentum buffers.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Projection {
    /// Weights W, shape `[post, pre]` (row i holds cell i's incoming synapses).
    pub w: Array2<f32>,
    /// Biases b of the post cells, shape `[post]`.
    pub b: Array1<f32>,
    /// Momentum buffer ΔW, shape `[post, pre]`.
    pub dw: Array2<f32>,
    /// Momentum buffer Δb, shape `[post]`.
    pub db: Array1<f32>,
}

impl Projection {
    /// A projection with the given weights and biases, momentum buffers at zero.
    ///
    /// # Panics
    /// If `b` does not have one entry per row of `w`.
    pub fn new(w: Array2<f32>, b: Array1<f32>) -> Self {
        assert_eq!(w.nrows(), b.len(), "one bias per post-synaptic cell");
        let dw = Array2::zeros(w.dim());
        let db = Array1::zeros(b.len());
        Self { w, b, dw, db }
    }

    /// Number of pre-synaptic cells (the fan-in).
    pub fn pre(&self) -> usize {
        self.w.ncols()
    }

    /// Number of post-synaptic cells.
    pub fn post(&self) -> usize {
        self.w.nrows()
    }

    /// `v = a_pre Wᵀ + b` into `v` (`[examples, post]`), without allocating.
    pub fn drive_into(&self, a_pre: ArrayView2<'_, f32>, v: &mut Array2<f32>) {
        assert_eq!(a_pre.ncols(), self.pre(), "input width must match the fan-in");
        assert_eq!(v.dim(), (a_pre.nrows(), self.post()), "drive buffer shape");
        v.axis_chunks_iter_mut(Axis(1), POST_BLOCK)
            .into_par_iter()
            .zip(self.w.axis_chunks_iter(Axis(0), POST_BLOCK).into_par_iter())
            .zip(self.b.axis_chunks_iter(Axis(0), POST_BLOCK).into_par_iter())
            .for_each(|((mut v, w), b)| {
                general_mat_mul(1.0, &a_pre, &w.t(), 0.0, &mut v);
                v += &b;
            });
    }

    /// One three-factor update with momentum (module docs): `iota` is `[examples, post]`, `a_pre` is
    /// `[examples, pre]`, `scale` the batch reduction factor.
    pub fn learn(&mut self, iota: ArrayView2<'_, f32>, a_pre: ArrayView2<'_, f32>, mu: f32, scale: f32) {
        assert_eq!(iota.dim(), (a_pre.nrows(), self.post()), "teaching signal shape");
        assert_eq!(a_pre.ncols(), self.pre(), "input width must match the fan-in");
        self.dw
            .axis_chunks_iter_mut(Axis(0), POST_BLOCK)
            .into_par_iter()
            .zip(self.w.axis_chunks_iter_mut(Axis(0), POST_BLOCK).into_par_iter())
            .zip(iota.axis_chunks_iter(Axis(1), POST_BLOCK).into_par_iter())
            .for_each(|((mut dw, mut w), iota)| {
                general_mat_mul(-scale, &iota.t(), &a_pre, mu, &mut dw);
                w += &dw;
            });
        learn_biases(&mut self.db, &mut self.b, iota, mu, scale);
    }

    /// True if every weight, bias and momentum entry is finite.
    pub fn is_finite(&self) -> bool {
        let finite = |x: &f32| x.is_finite();
        self.w.iter().all(finite) && self.b.iter().all(finite) && self.dw.iter().all(finite)
    }

    /// Resets the momentum buffers to zero.
    pub fn clear_momentum(&mut self) {
        self.dw.fill(0.0);
        self.db.fill(0.0);
    }
}

/// `Δb ← μ Δb − s Σ_examples ι; b += Δb` over fixed blocks of cells in parallel. Examples are summed in order, so
/// every path that updates biases (direct or Gram carry) gives the same bits.
pub fn learn_biases(db: &mut Array1<f32>, b: &mut Array1<f32>, iota: ArrayView2<'_, f32>, mu: f32, scale: f32) {
    assert_eq!(iota.ncols(), b.len(), "teaching signal width");
    db.axis_chunks_iter_mut(Axis(0), POST_BLOCK)
        .into_par_iter()
        .zip(b.axis_chunks_iter_mut(Axis(0), POST_BLOCK).into_par_iter())
        .zip(iota.axis_chunks_iter(Axis(1), POST_BLOCK).into_par_iter())
        .for_each(|((mut db, mut b), iota)| {
            let mut sum = [0.0f32; POST_BLOCK];
            let sum = &mut sum[..db.len()];
            for row in iota.rows() {
                for (s, &x) in sum.iter_mut().zip(row.iter()) {
                    *s += x;
                }
            }
            for ((db, b), &s) in db.iter_mut().zip(b.iter_mut()).zip(sum.iter()) {
                *db = mu * *db - scale * s;
                *b += *db;
            }
        });
}

/// Adds `src` into `dst` elementwise (helper for callers keeping their own buffers).
pub fn add_assign(dst: &mut Array2<f32>, src: ArrayView2<'_, f32>) {
    Zip::from(dst).and(src).for_each(|d, &s| *d += s);
}
