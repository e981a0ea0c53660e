//! A projection: the synapses from one population onto the next, with biases and momentum (SPEC §2.2).
//!
//! Forward: `v = a_pre Wᵀ + b` for a batch `a_pre [examples, pre]`, giving `v [examples, post]`.
//! Learning (eqs 2.12–2.13, with momentum applied to W and b alike, and optional weight decay: [`Update`]):
//!
//! ```text
//! ΔW ← μ ΔW − s ιᵀ a_pre − λ W ;  W += ΔW          (s = 1 for a summed batch, 1/examples for the mean)
//! Δb ← μ Δb − s Σ_examples ι ;  b += Δb
//! ```
//!
//! Both products are split over fixed blocks of [`POST_BLOCK`] post-synaptic cells and run on rayon's pool; a large
//! product, on several threads, further into blocks of [`EXAMPLE_BLOCK`] examples (forward) or [`PRE_BLOCK`]
//! pre-synaptic cells (update), which never splits a sum (each entry sums over the same pre cells, or examples, as the
//! whole product does: [`crate::matmul::par_mat_mul_into`]). The post blocks never depend on the number of threads, and
//! each is one independent matrix product, so results are bit-identical at any thread count.

use crate::low_rank::LowRankIota;
use crate::matmul::{mat_mul_into, par_mat_mul_into, worth_splitting};
use crate::readout::readout_into;
use crate::update::Update;
use ndarray::parallel::prelude::*;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, Zip};

/// Post-synaptic cells per parallel block: 128 × 784 f32 weights (392 KiB) keep a block's W and ΔW in L2.
pub const POST_BLOCK: usize = 128;

/// Examples per parallel block of a large forward product (two blocks for a minibatch of 100): with
/// [`POST_BLOCK`], enough tasks to keep two or more threads busy on a layer of a few hundred cells.
pub const EXAMPLE_BLOCK: usize = 50;

/// Pre-synaptic cells per parallel block of a large post block's weight update.
pub const PRE_BLOCK: usize = 320;

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
    /// The synapses are `scale · w` and `scale · b` (1 unless a decay is applied exactly, as a change of scale:
    /// see [`crate::online`]). Engines that never decay this way read `w` and `b` as they are.
    pub scale: f64,
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
        Self {
            w,
            b,
            dw,
            db,
            scale: 1.0,
        }
    }

    /// Number of pre-synaptic cells (the fan-in).
    pub fn pre(&self) -> usize {
        self.w.ncols()
    }

    /// Number of post-synaptic cells.
    pub fn post(&self) -> usize {
        self.w.nrows()
    }

    /// `v = a_pre Wᵀ + b` into `v` (`[examples, post]`), without allocating: by dot products for a narrow layer
    /// (at most [`READOUT_MAX_OUTPUTS`] cells), by `gemm` ([`mat_mul_into`]) otherwise, as [`partial_drive`] does.
    pub fn drive_into(&self, a_pre: ArrayView2<'_, f32>, v: &mut Array2<f32>) {
        assert_eq!(a_pre.ncols(), self.pre(), "input width must match the fan-in");
        assert_eq!(v.dim(), (a_pre.nrows(), self.post()), "drive buffer shape");
        if self.post() <= READOUT_MAX_OUTPUTS {
            // One block: the whole layer.
            readout_into(a_pre, self.w.view(), &mut v.view_mut());
            *v += &self.b;
            return;
        }
        par_mat_mul_into(
            1.0,
            a_pre,
            self.w.t(),
            0.0,
            &mut v.view_mut(),
            EXAMPLE_BLOCK,
            POST_BLOCK,
        );
        *v += &self.b;
    }

    /// One three-factor update with momentum (module docs): `iota` is `[examples, post]`, `a_pre` is
    /// `[examples, pre]`.
    pub fn learn(&mut self, iota: ArrayView2<'_, f32>, a_pre: ArrayView2<'_, f32>, update: Update) {
        self.learn_weights(iota, a_pre, update);
        learn_biases(&mut self.db, &mut self.b, iota, update);
    }

    /// The weight half of [`Self::learn`]: the biases are left as they are (units without biases, SPEC §5.1).
    pub fn learn_weights(&mut self, iota: ArrayView2<'_, f32>, a_pre: ArrayView2<'_, f32>, update: Update) {
        assert_eq!(iota.dim(), (a_pre.nrows(), self.post()), "teaching signal shape");
        assert_eq!(a_pre.ncols(), self.pre(), "input width must match the fan-in");
        self.step_weights(iota.t(), a_pre, update);
    }

    /// `ΔW ← μ ΔW − s L R − λ W; W += ΔW`, the weight update of [`Self::learn_weights`] (`L = ιᵀ`, `R = a_pre`) and
    /// [`Self::learn_low_rank`] (`L` the basis F, `R` the projected error P), `left` `[post, k]`, `right` `[k, pre]`.
    /// Over the fixed blocks of [`POST_BLOCK`] post cells; a large block's product split further by its pre cells,
    /// which leaves every entry's sum over k as it is.
    fn step_weights(&mut self, left: ArrayView2<'_, f32>, right: ArrayView2<'_, f32>, update: Update) {
        self.dw
            .axis_chunks_iter_mut(Axis(0), POST_BLOCK)
            .into_par_iter()
            .zip(self.w.axis_chunks_iter_mut(Axis(0), POST_BLOCK).into_par_iter())
            .zip(left.axis_chunks_iter(Axis(0), POST_BLOCK).into_par_iter())
            .for_each(|((mut dw, mut w), left)| {
                let pre = match worth_splitting(left.len() * right.ncols()) {
                    true => PRE_BLOCK,
                    false => right.ncols().max(1),
                };
                dw.axis_chunks_iter_mut(Axis(1), pre)
                    .into_par_iter()
                    .zip(w.axis_chunks_iter_mut(Axis(1), pre).into_par_iter())
                    .zip(right.axis_chunks_iter(Axis(1), pre).into_par_iter())
                    .for_each(|((mut dw, mut w), right)| {
                        mat_mul_into(-update.scale, left, right, update.momentum, &mut dw.view_mut());
                        update.decay_into(&mut dw, w.view());
                        w += &dw;
                    });
            });
    }

    /// [`Self::learn`] with a teaching signal of low rank ([`crate::low_rank`]): `iota` is ι itself (the biases'
    /// sums read it), `low` the same ι as two factors, through which the weights' product is taken:
    /// `P = g Eᵀ a_pre` into `projected` (`[r, pre]`), then `ΔW ← μ ΔW − s F P − λ W; W += ΔW` over the same fixed
    /// blocks of post cells as [`Self::learn_weights`].
    pub fn learn_low_rank(
        &mut self,
        iota: ArrayView2<'_, f32>,
        low: LowRankIota<'_>,
        a_pre: ArrayView2<'_, f32>,
        projected: &mut Array2<f32>,
        update: Update,
    ) {
        assert_eq!(iota.dim(), (a_pre.nrows(), self.post()), "teaching signal shape");
        assert_eq!(
            (low.examples(), low.post()),
            iota.dim(),
            "the factors of ι have ι's shape"
        );
        assert_eq!(a_pre.ncols(), self.pre(), "input width must match the fan-in");
        assert_eq!(
            projected.dim(),
            (low.rank(), self.pre()),
            "projected error buffer shape"
        );
        mat_mul_into(low.gain, low.coeff.t(), a_pre, 0.0, &mut projected.view_mut());
        self.step_weights(low.basis, projected.view(), update);
        learn_biases(&mut self.db, &mut self.b, iota, update);
    }

    /// [`Self::learn_weights`] without momentum (μ = 0), in one pass over W: `W ← (1 − λ) W − s ιᵀ a_pre`, one
    /// matrix product accumulated into the weights instead of a ΔW formed, decayed and added. The momentum buffer
    /// is left as it is (with μ = 0 nothing reads it). The online learners of SPEC §5 take this path: one example
    /// per update makes the product a rank-1 update that moves every weight once.
    pub fn learn_weights_without_momentum(
        &mut self,
        iota: ArrayView2<'_, f32>,
        a_pre: ArrayView2<'_, f32>,
        update: Update,
    ) {
        self.assert_update_without_momentum(iota, a_pre, update);
        self.w
            .axis_chunks_iter_mut(Axis(0), POST_BLOCK)
            .into_par_iter()
            .zip(iota.axis_chunks_iter(Axis(1), POST_BLOCK).into_par_iter())
            .for_each(|(mut w, iota)| {
                mat_mul_into(-update.scale, iota.t(), a_pre, 1.0 - update.decay, &mut w.view_mut());
            });
    }

    /// The shapes and the momentum an update without momentum needs (both of its paths check them).
    pub(crate) fn assert_update_without_momentum(
        &self,
        iota: ArrayView2<'_, f32>,
        a_pre: ArrayView2<'_, f32>,
        update: Update,
    ) {
        assert_eq!(update.momentum, 0.0, "an update without momentum");
        assert_eq!(iota.dim(), (a_pre.nrows(), self.post()), "teaching signal shape");
        assert_eq!(a_pre.ncols(), self.pre(), "input width must match the fan-in");
    }

    /// True if every weight, bias and momentum entry, and the scale, is finite.
    pub fn is_finite(&self) -> bool {
        let finite = |x: &f32| x.is_finite();
        self.scale.is_finite() && self.w.iter().all(finite) && self.b.iter().all(finite) && self.dw.iter().all(finite)
    }

    /// The weights `scale · w` the projection stands for, row-major whatever the layout W is stored in.
    pub fn effective_weights(&self) -> Array2<f32> {
        if self.scale == 1.0 {
            self.w.as_standard_layout().into_owned()
        } else {
            self.w
                .mapv(|w| (f64::from(w) * self.scale) as f32)
                .as_standard_layout()
                .into_owned()
        }
    }

    /// The biases `scale · b` the projection stands for.
    pub fn effective_biases(&self) -> Array1<f32> {
        self.b.mapv(|b| (f64::from(b) * self.scale) as f32)
    }

    /// Resets the momentum buffers to zero.
    pub fn clear_momentum(&mut self) {
        self.dw.fill(0.0);
        self.db.fill(0.0);
    }
}

impl Projection {
    /// The projection split by post-synaptic cells into blocks of `width` (rows of W and ΔW, entries of b and Δb), as
    /// a parallel iterator: the unit of work of a fused per-block step of the post layer.
    pub fn post_blocks_mut(&mut self, width: usize) -> impl IndexedParallelIterator<Item = PostBlock<'_>> {
        self.w
            .axis_chunks_iter_mut(Axis(0), width)
            .into_par_iter()
            .zip(self.dw.axis_chunks_iter_mut(Axis(0), width).into_par_iter())
            .zip(self.b.axis_chunks_iter_mut(Axis(0), width).into_par_iter())
            .zip(self.db.axis_chunks_iter_mut(Axis(0), width).into_par_iter())
            .map(|(((w, dw), b), db)| PostBlock { w, dw, b, db })
    }

    /// The projection split by pre-synaptic cells into blocks of `width` (columns of W and ΔW), as a parallel
    /// iterator: the unit of work of a fused per-block step of the pre layer (see [`PreBlock`]).
    pub fn pre_blocks_mut(&mut self, width: usize) -> impl IndexedParallelIterator<Item = PreBlock<'_>> {
        self.w
            .axis_chunks_iter_mut(Axis(1), width)
            .into_par_iter()
            .zip(self.dw.axis_chunks_iter_mut(Axis(1), width).into_par_iter())
            .map(|(w, dw)| PreBlock { w, dw })
    }

    /// `v = Σ_blocks partials + b`: the drive assembled from the [`partial_drive`] of every pre
    /// block (`partials` holds one `[examples, post]` array per block), summed in block order so that the result
    /// does not depend on the number of threads.
    pub fn drive_from_partials(&self, partials: &[Array2<f32>], v: &mut Array2<f32>) {
        v.rows_mut().into_iter().for_each(|mut row| row.assign(&self.b));
        for p in partials {
            assert_eq!(p.dim(), v.dim(), "partial drive shape");
            *v += p;
        }
    }
}

/// Some post-synaptic cells of a [`Projection`]: their rows of W and ΔW and their biases.
pub struct PostBlock<'a> {
    /// Rows of W, `[block cells, pre]`.
    pub w: ArrayViewMut2<'a, f32>,
    /// Rows of ΔW.
    pub dw: ArrayViewMut2<'a, f32>,
    /// Biases of the block's cells.
    pub b: ArrayViewMut1<'a, f32>,
    /// Momentum of the biases.
    pub db: ArrayViewMut1<'a, f32>,
}

impl PostBlock<'_> {
    /// Kolen-Pollack after a learning step of the block's weights (SPEC §6.1, §6.6): its columns `b` of the feedback
    /// matrix that stands for `W` (`[pre, block cells]`, the orientation of `Wᵀ`) take the increment,
    /// `b ← (1 − λ) b + rate ΔWᵀ`, and the weights decay alike, `W ← (1 − λ) W_before + ΔW`.
    pub fn kolen_pollack(&mut self, b: ArrayViewMut2<'_, f32>, rate: f32, decay: f32) {
        let w_t = self.w.view_mut().reversed_axes();
        crate::feedback_learning::kolen_pollack_increment(b, w_t, self.dw.t(), rate, decay);
    }

    /// The weight half of [`Projection::learn`] for the block's cells: `ΔW ← μ ΔW − s ιᵀ a_pre − λ W; W += ΔW`,
    /// with `iota` the block's `[examples, block cells]` teaching signal.
    pub fn learn_weights(&mut self, iota: ArrayView2<'_, f32>, a_pre: ArrayView2<'_, f32>, update: Update) {
        mat_mul_into(-update.scale, iota.t(), a_pre, update.momentum, &mut self.dw.view_mut());
        update.decay_into(&mut self.dw.view_mut(), self.w.view());
        self.w += &self.dw;
    }

    /// The bias half: `Δb ← μ Δb − s Σ_examples ι; b += Δb`, examples summed in order (as [`learn_biases`]).
    pub fn learn_biases(&mut self, iota: ArrayView2<'_, f32>, update: Update) {
        bias_block(self.db.view_mut(), self.b.view_mut(), iota, update);
    }
}

/// Some pre-synaptic cells of a [`Projection`]: their columns of W and ΔW. A layer stepped in column blocks feeds the
/// layer above through these: each block adds its share of the drive above and applies its share of the update.
pub struct PreBlock<'a> {
    /// Columns of W, `[post, block cells]`.
    pub w: ArrayViewMut2<'a, f32>,
    /// Columns of ΔW.
    pub dw: ArrayViewMut2<'a, f32>,
}

impl PreBlock<'_> {
    /// The block's columns of `ΔW ← μ ΔW − s ιᵀ a_pre − λ W; W += ΔW`, with `iota` the whole `[examples, post]`
    /// teaching signal of the layer above and `a_blk` the block's `[examples, block cells]` activity. Examples are
    /// summed in order; examples with ι = 0 for a post cell are skipped (they add exactly nothing).
    pub fn learn_weights(&mut self, iota: ArrayView2<'_, f32>, a_blk: ArrayView2<'_, f32>, update: Update) {
        let cells = a_blk.ncols();
        assert!(cells <= MAX_PRE_BLOCK, "pre block wider than {MAX_PRE_BLOCK}");
        assert_eq!(
            (iota.nrows(), iota.ncols()),
            (a_blk.nrows(), self.w.nrows()),
            "teaching signal shape"
        );
        let mut acc = [0.0f32; MAX_PRE_BLOCK];
        let acc = &mut acc[..cells];
        for (o, (mut w, mut dw)) in self.w.rows_mut().into_iter().zip(self.dw.rows_mut()).enumerate() {
            acc.fill(0.0);
            for (e, a) in a_blk.rows().into_iter().enumerate() {
                let i = iota[[e, o]];
                if i != 0.0 {
                    let a = a.to_slice().expect("rows of a block are contiguous");
                    for (s, &a) in acc.iter_mut().zip(a) {
                        *s += i * a;
                    }
                }
            }
            let (w, dw) = (w.as_slice_mut().unwrap(), dw.as_slice_mut().unwrap());
            for ((w, dw), &s) in w.iter_mut().zip(dw.iter_mut()).zip(acc.iter()) {
                update.step(w, dw, s);
            }
        }
    }
}

/// The widest pre block [`PreBlock::learn_weights`] accepts (its accumulator lives on the stack).
pub const MAX_PRE_BLOCK: usize = 1024;

/// `v = a_pre Wᵀ + b` for the cells of a post block (`w` its rows of W, `b` its biases, `v` `[examples, block
/// cells]`).
pub fn drive_block(
    a_pre: ArrayView2<'_, f32>,
    w: ArrayView2<'_, f32>,
    b: ArrayView1<'_, f32>,
    v: &mut ArrayViewMut2<'_, f32>,
) {
    mat_mul_into(1.0, a_pre, w.t(), 0.0, v);
    *v += &b;
}

/// `out = a Wᵀ` (no bias): a pre block's share of the drive of the layer above (`w` the block's columns of W, `a`
/// its `[examples, block cells]` activity); summed over blocks by [`Projection::drive_from_partials`]. A narrow layer
/// above (at most [`READOUT_MAX_OUTPUTS`] cells, such as 10 output cells) is read out by dot products
/// ([`crate::readout`]), a wider one by a matrix product.
pub fn partial_drive(w: ArrayView2<'_, f32>, a: ArrayView2<'_, f32>, out: &mut ArrayViewMut2<'_, f32>) {
    if w.nrows() <= READOUT_MAX_OUTPUTS {
        readout_into(a, w, out);
    } else {
        mat_mul_into(1.0, a, w.t(), 0.0, out);
    }
}

/// The widest layer above whose block shares [`partial_drive`] computes by dot products.
pub const READOUT_MAX_OUTPUTS: usize = 16;

/// `Δb ← μ Δb − s Σ_examples ι; b += Δb` for one block of cells, examples summed in order (the same sums whatever
/// the block width).
fn bias_block(
    mut db: ArrayViewMut1<'_, f32>,
    mut b: ArrayViewMut1<'_, f32>,
    iota: ArrayView2<'_, f32>,
    update: Update,
) {
    let (mu, scale) = (update.momentum, update.scale);
    assert_eq!(iota.ncols(), b.len(), "teaching signal width");
    let mut sum = [0.0f32; POST_BLOCK];
    let (db, b) = (
        db.as_slice_mut().expect("contiguous biases"),
        b.as_slice_mut().expect("contiguous biases"),
    );
    for first in (0..b.len()).step_by(POST_BLOCK) {
        let cells = first..(first + POST_BLOCK).min(b.len());
        let sum = &mut sum[..cells.len()];
        sum.fill(0.0);
        for row in iota.rows() {
            let row = &row.to_slice().expect("rows of a block are contiguous")[cells.clone()];
            for (s, &x) in sum.iter_mut().zip(row) {
                *s += x;
            }
        }
        for ((db, b), &s) in db[cells.clone()].iter_mut().zip(&mut b[cells]).zip(sum.iter()) {
            *db = mu * *db - scale * s;
            *b += *db;
        }
    }
}

/// `Δb ← μ Δb − s Σ_examples ι; b += Δb` over fixed blocks of cells in parallel. Examples are summed in order, so
/// every path that updates biases (direct, Gram carry, per block) gives the same bits.
pub fn learn_biases(db: &mut Array1<f32>, b: &mut Array1<f32>, iota: ArrayView2<'_, f32>, update: Update) {
    assert_eq!(iota.ncols(), b.len(), "teaching signal width");
    if b.len() <= POST_BLOCK {
        // One block: no parallel region (the output layer's 10 biases, every step).
        return bias_block(db.view_mut(), b.view_mut(), iota, update);
    }
    db.axis_chunks_iter_mut(Axis(0), POST_BLOCK)
        .into_par_iter()
        .zip(b.axis_chunks_iter_mut(Axis(0), POST_BLOCK).into_par_iter())
        .zip(iota.axis_chunks_iter(Axis(1), POST_BLOCK).into_par_iter())
        .for_each(|((db, b), iota)| bias_block(db, b, iota, update));
}

/// Adds `src` into `dst` elementwise (helper for callers keeping their own buffers).
pub fn add_assign(dst: &mut Array2<f32>, src: ArrayView2<'_, f32>) {
    Zip::from(dst).and(src).for_each(|d, &s| *d += s);
}
