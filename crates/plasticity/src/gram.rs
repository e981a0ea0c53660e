//! Exact carry-forward of a learning projection whose input is constant during a presentation (issue 7; the algebra
//! is SPEC §2.2's update rewritten, nothing is approximated).
//!
//! The first hidden layer of an MNIST network sees the same graded input X (`[B, pre]`) on every step of a
//! presentation, and every update of its weights is `ΔW_k = μ ΔW_(k−1) − s ι_kᵀ X; W_k = W_(k−1) + ΔW_k` with that
//! same X. Multiplied by X, the update needs only the `[B, B]` Gram matrix G = X Xᵀ:
//!
//! ```text
//! Q_k = X ΔW_kᵀ = μ Q_(k−1) − s G ι_k         (Q_0 = X ΔW_0ᵀ; [B, post])
//! V_k = X W_kᵀ  = V_(k−1) + Q_k                (V_0 = X W_0ᵀ)
//! drive v_k = V_k + b_k
//! ```
//!
//! at most B² · post multiply-adds per step (10 M for B = 100, post = 1000) instead of 2 · B · pre · post (157 M) for
//! the forward product plus the weight update. Biases are updated directly, as in [`Projection::learn`]. It pays when
//! B < 2 · pre. W and ΔW themselves are materialised once, at the end of the presentation, from the recurrences
//! unrolled over the learning steps k = 1 … K:
//!
//! ```text
//! M_k = μ M_(k−1) + ι_k,  C_k = C_(k−1) + M_k,  σ_k = σ_(k−1) + μ^k      (M_0 = C_0 = 0, σ_0 = 0)
//! ΔW_K = μ^K ΔW_0 − s M_Kᵀ X
//! W_K  = W_0 + σ_K ΔW_0 − s C_Kᵀ X
//! ```
//!
//! `G ι_k` only needs the examples whose row of ι is not zero. An example's ι is exactly zero on every step where its
//! error pools are silent (its output spikes match the target), which in a trained network is most examples on most
//! steps: the caller names the examples that may have a nonzero ι ([`GramCarry::select_rows`]) and hands their rows
//! of ι alone, compacted ([`GramLearnBlock::learn`]); the product runs over those (`G[:, A] ι[A, :]`). Leaving out a
//! row whose ι is zero changes nothing, so the drive is the same sum however many rows are active.
//!
//! What a silent step must still do is kept as scalars instead of passes over `[B, post]` arrays (the same values,
//! rounded differently):
//! - each example's row of M and C is held as `M = α_e M̃`, `C = C̃ + β_e M̃`: a silent step only updates the row's
//!   two scalars (`α ← μ α`, `β ← β + α`), an active one folds them in (`M̃ ← μ α M̃ + ι`, `C̃ ← C̃ + β M̃_old + M̃`);
//! - Q is held as `Q = q Q̃`: a step where no example is active only updates q (`q ← μ q`), an active one multiplies
//!   Q̃ by `μ q` inside the product (`Q̃ ← μ q Q̃ − s G[:, A] ι[A, :]`, then `q = 1`);
//! - the increment `V ← V + Q` of a learning step is applied by the next drive pass ([`GramDriveBlock::drive_into`],
//!   [`GramDriveBlock::drive_row`]), which reads V anyway.
//!
//! A teaching signal of low rank (`ι = g E Fᵀ`, [`crate::low_rank`]) may be handed with its factors
//! ([`GramCarry::learn_low_rank`]): Q's product is then `(g G[:, A] E[A, :]) Fᵀ`, the rest as above.
//!
//! Per learning step the drive pass reads V and Q̃ and writes V and v (four `[B, post]` passes); the product reads and
//! writes Q̃ when an example is active. (Keeping `V_0`, `σ_k X ΔW_0ᵀ` and `G C_k` apart instead would take six passes
//! per drive, and two more for `H ← H + G M`.)

use crate::low_rank::LowRankIota;
use crate::matmul::mat_mul_into;
use crate::projection::{Projection, learn_biases};
use crate::update::Update;
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, Zip, linalg::general_mat_mul, s};
use snn_neuron::ColumnBlocks;

/// Presentation state of a projection carried forward through its Gram matrix.
#[derive(Clone, Debug)]
pub struct GramCarry {
    input: Array2<f32>,
    gram: Array2<f32>,
    /// V = X Wᵀ, up to the pending increment `v_pending · Q̃`.
    v: ColumnBlocks<f32>,
    /// Q̃ (module docs: `Q = X ΔWᵀ = q Q̃`).
    q: ColumnBlocks<f32>,
    /// M̃ (`M = α M̃` row by row).
    m: ColumnBlocks<f32>,
    /// C̃ (`C = C̃ + β M̃` row by row).
    c: ColumnBlocks<f32>,
    /// α of each example's row of M.
    row_alpha: Vec<f32>,
    /// β of each example's row of C.
    row_beta: Vec<f32>,
    /// q.
    q_scale: f32,
    /// The multiple of Q̃ that the next drive pass adds to V (the `V ← V + Q` of the last learning step).
    v_pending: f32,
    /// Examples whose ι may be nonzero on this step.
    active: Vec<usize>,
    /// Their columns of G, `[B, active]` in the first `active.len()` columns.
    gram_active: Array2<f32>,
    /// Their rows of ι, compacted, for [`GramCarry::learn`] (first `active.len()` rows).
    iota_active: Array2<f32>,
    /// Their rows of a low-rank ι's coefficients E, compacted ([`GramCarry::learn_low_rank`]; `[B, r]`).
    coeff_active: Array2<f32>,
    /// `g G[:, A] E[A, :]` (`[B, r]`).
    gram_coeff: Array2<f32>,
    sigma: f32,
    mu_pow: f32,
    mu: f32,
    scale: f32,
    steps: usize,
}

impl GramCarry {
    /// Buffers for `examples` inputs of a projection with `pre` inputs and `post` cells, worked on in blocks of
    /// `width` post cells: every pass over the carry, in the caller's fused step or in this type's own methods, runs
    /// over the same fixed blocks (the same sums at any thread count), each kept in memory of its own
    /// ([`ColumnBlocks`]).
    pub fn new(examples: usize, pre: usize, post: usize, width: usize) -> Self {
        let blocks = || ColumnBlocks::<f32>::zeros(examples, post, width);
        Self {
            input: Array2::zeros((examples, pre)),
            gram: Array2::zeros((examples, examples)),
            v: blocks(),
            q: blocks(),
            m: blocks(),
            c: blocks(),
            row_alpha: vec![1.0; examples],
            row_beta: vec![0.0; examples],
            q_scale: 1.0,
            v_pending: 0.0,
            active: (0..examples).collect(),
            gram_active: Array2::zeros((examples, examples)),
            iota_active: Array2::zeros((examples, post)),
            coeff_active: Array2::zeros((examples, 0)),
            gram_coeff: Array2::zeros((examples, 0)),
            sigma: 0.0,
            mu_pow: 1.0,
            mu: 0.0,
            scale: 0.0,
            steps: 0,
        }
    }

    /// Starts a presentation of the constant input `x` with the momentum and batch scale of `update` (which must not
    /// decay: the carry has no decay term): G = X Xᵀ, V = X W_0ᵀ, Q = X ΔW_0ᵀ.
    pub fn begin(&mut self, proj: &Projection, x: ArrayView2<'_, f32>, update: Update) {
        update.assert_no_decay("Gram");
        let (mu, scale) = (update.momentum, update.scale);
        assert_eq!(x.dim(), self.input.dim(), "input batch shape");
        self.input.assign(&x);
        general_mat_mul(1.0, &x, &x.t(), 0.0, &mut self.gram);
        // V and Q in parallel over the carry's blocks (the same sums at any thread count).
        let (x, width) = (self.input.view(), self.width());
        self.v
            .par_blocks_mut()
            .zip(self.q.par_blocks_mut())
            .zip(proj.w.axis_chunks_iter(Axis(0), width).into_par_iter())
            .zip(proj.dw.axis_chunks_iter(Axis(0), width).into_par_iter())
            .for_each(|(((v, q), w), dw)| {
                mat_mul_into(1.0, x, w.t(), 0.0, &mut v.view_mut());
                mat_mul_into(1.0, x, dw.t(), 0.0, &mut q.view_mut());
            });
        self.m.fill(0.0);
        self.c.fill(0.0);
        self.row_alpha.fill(1.0);
        self.row_beta.fill(0.0);
        (self.q_scale, self.v_pending) = (1.0, 0.0);
        self.select_rows(|_| true);
        (self.sigma, self.mu_pow, self.mu, self.scale, self.steps) = (0.0, 1.0, mu, scale, 0);
    }

    /// Names the examples whose ι may be nonzero on the coming learning step (`may_learn(example)`); the others must
    /// have ι exactly zero on that step. Gathers their columns of G.
    pub fn select_rows(&mut self, may_learn: impl Fn(usize) -> bool) {
        self.active.clear();
        self.active.extend((0..self.gram.nrows()).filter(|&e| may_learn(e)));
        for (mut dst, src) in self.gram_active.rows_mut().into_iter().zip(self.gram.rows()) {
            for (d, &e) in dst.iter_mut().zip(&self.active) {
                *d = src[e];
            }
        }
    }

    /// The examples named by the last [`Self::select_rows`], in increasing order.
    pub fn active(&self) -> &[usize] {
        &self.active
    }

    /// Number of examples named by the last [`Self::select_rows`].
    pub fn active_rows(&self) -> usize {
        self.active.len()
    }

    /// Post cells per block (the width given to [`Self::new`]).
    pub fn width(&self) -> usize {
        self.v.width()
    }

    /// The carry's blocks of [`Self::width`] post cells for a drive pass, as a parallel iterator. Creating it hands
    /// the pending `V ← V + Q` of the last learning step to the blocks: create it once per forward step and run
    /// every row of every block ([`GramDriveBlock::drive_into`] or [`GramDriveBlock::drive_row`]).
    pub fn drive_blocks_mut(&mut self) -> impl IndexedParallelIterator<Item = GramDriveBlock<'_>> {
        let pending = std::mem::take(&mut self.v_pending);
        self.v
            .par_blocks_mut()
            .zip(self.q.par_blocks())
            .map(move |(v, q)| GramDriveBlock {
                v: v.view_mut(),
                q: q.view(),
                pending,
            })
    }

    /// The carry's blocks of [`Self::width`] post cells for a learning step, as a parallel iterator: each block
    /// applies its cells' share of the step ([`GramLearnBlock::learn`]); the caller then ends the step with
    /// [`Self::advance`].
    pub fn learn_blocks_mut(&mut self) -> impl IndexedParallelIterator<Item = GramLearnBlock<'_>> {
        let n = self.active.len();
        let (active, gram_active) = (&self.active[..], self.gram_active.slice(s![.., ..n]));
        let (row_alpha, row_beta) = (&self.row_alpha[..], &self.row_beta[..]);
        let (mu, q_decay, scale) = (self.mu, self.mu * self.q_scale, self.scale);
        self.m
            .par_blocks_mut()
            .zip(self.c.par_blocks_mut())
            .zip(self.q.par_blocks_mut())
            .map(move |((m, c), q)| GramLearnBlock {
                active,
                gram_active,
                row_alpha,
                row_beta,
                m: m.view_mut(),
                c: c.view_mut(),
                q: q.view_mut(),
                mu,
                q_decay,
                scale,
            })
    }

    /// Ends a learning step whose blocks have all run [`GramLearnBlock::learn`]: σ_k and μ^k advance, and so do
    /// the scalars of the rows and of Q (module docs).
    pub fn advance(&mut self) {
        let mu = self.mu;
        let mut next = self.active.iter().peekable();
        for (e, (alpha, beta)) in self.row_alpha.iter_mut().zip(&mut self.row_beta).enumerate() {
            if next.next_if_eq(&&e).is_some() {
                (*alpha, *beta) = (1.0, 0.0);
            } else {
                *alpha *= mu;
                *beta += *alpha;
            }
        }
        self.q_scale = if self.active.is_empty() { mu * self.q_scale } else { 1.0 };
        self.v_pending = self.q_scale;
        self.mu_pow *= mu;
        self.sigma += self.mu_pow;
        self.steps += 1;
    }

    /// The drive `v = X W_kᵀ + b` with the weights after the learning steps so far (module docs), computed over
    /// fixed blocks of post cells in parallel.
    pub fn drive_into(&mut self, proj: &Projection, v: &mut Array2<f32>) {
        let width = self.width();
        self.drive_blocks_mut()
            .zip(v.axis_chunks_iter_mut(Axis(1), width).into_par_iter())
            .zip(proj.b.axis_chunks_iter(Axis(0), width).into_par_iter())
            .for_each(|((mut block, mut v), b)| block.drive_into(b, &mut v));
    }

    /// One learning step with teaching signal `iota` (`[B, post]`): the recurrences of M, C and Q over the rows of
    /// ι that are not zero, and the bias update `Δb ← μ Δb − s Σ ι; b += Δb` applied directly. Like the per-block
    /// path, the step ends with [`Self::advance`], called by the caller once per learning step.
    pub fn learn(&mut self, proj: &mut Projection, iota: ArrayView2<'_, f32>) {
        let n = self.take_active_rows(iota);
        let compact = std::mem::take(&mut self.iota_active);
        let width = self.width();
        self.learn_blocks_mut()
            .zip(compact.axis_chunks_iter(Axis(1), width).into_par_iter())
            .for_each(|(mut block, iota)| block.learn(iota.slice(s![..n, ..])));
        self.iota_active = compact;
        learn_biases(&mut proj.db, &mut proj.b, iota, Update::new(self.mu, self.scale));
    }

    /// [`Self::learn`] for a teaching signal of low rank ([`crate::low_rank`]): `iota` is ι itself (M, C and the
    /// biases read it), `low` the same ι as two factors, through which Q's product is taken,
    /// `G[:, A] ι[A, :] = (g G[:, A] E[A, :]) Fᵀ`: `B · A · r + B · r · post` multiply-adds instead of
    /// `B · A · post`.
    pub fn learn_low_rank(&mut self, proj: &mut Projection, iota: ArrayView2<'_, f32>, low: LowRankIota<'_>) {
        assert_eq!(
            (low.examples(), low.post()),
            iota.dim(),
            "the factors of ι have ι's shape"
        );
        let n = self.take_active_rows(iota);
        let (examples, rank) = (self.gram.nrows(), low.rank());
        if self.coeff_active.dim() != (examples, rank) {
            // Sized on the first step of the first presentation; reused after that.
            self.coeff_active = Array2::zeros((examples, rank));
            self.gram_coeff = Array2::zeros((examples, rank));
        }
        for (mut dst, &e) in self.coeff_active.rows_mut().into_iter().zip(&self.active) {
            dst.assign(&low.coeff.row(e));
        }
        mat_mul_into(
            low.gain,
            self.gram_active.slice(s![.., ..n]),
            self.coeff_active.slice(s![..n, ..]),
            0.0,
            &mut self.gram_coeff.view_mut(),
        );
        let (compact, gram_coeff) = (
            std::mem::take(&mut self.iota_active),
            std::mem::take(&mut self.gram_coeff),
        );
        let width = self.width();
        self.learn_blocks_mut()
            .zip(compact.axis_chunks_iter(Axis(1), width).into_par_iter())
            .zip(low.basis.axis_chunks_iter(Axis(0), width).into_par_iter())
            .for_each(|((mut block, iota), basis)| {
                block.learn_low_rank(iota.slice(s![..n, ..]), gram_coeff.view(), basis)
            });
        (self.iota_active, self.gram_coeff) = (compact, gram_coeff);
        learn_biases(&mut proj.db, &mut proj.b, iota, Update::new(self.mu, self.scale));
    }

    /// Names the examples whose row of `iota` is not zero ([`Self::select_rows`]) and copies those rows, compacted,
    /// into the first rows of `iota_active`; returns how many there are.
    fn take_active_rows(&mut self, iota: ArrayView2<'_, f32>) -> usize {
        assert_eq!(iota.dim(), self.iota_active.dim(), "teaching signal shape");
        self.select_rows(|e| iota.row(e).iter().any(|&x| x != 0.0));
        for (mut dst, &e) in self.iota_active.rows_mut().into_iter().zip(&self.active) {
            dst.assign(&iota.row(e));
        }
        self.active.len()
    }

    /// Ends the presentation: `W = W_0 + σ ΔW_0 − s Cᵀ X` and `ΔW = μ^K ΔW_0 − s Mᵀ X` written into the projection.
    pub fn finish(&mut self, proj: &mut Projection) {
        if self.steps == 0 {
            return;
        }
        let (sigma, mu_pow, scale) = (self.sigma, self.mu_pow, self.scale);
        let (x, row_alpha, row_beta) = (self.input.view(), &self.row_alpha[..], &self.row_beta[..]);
        let width = self.v.width();
        // In parallel over the carry's blocks: rows of W and ΔW, columns of M and C.
        self.m
            .par_blocks_mut()
            .zip(self.c.par_blocks_mut())
            .zip(proj.w.axis_chunks_iter_mut(Axis(0), width).into_par_iter())
            .zip(proj.dw.axis_chunks_iter_mut(Axis(0), width).into_par_iter())
            .for_each(|(((m, c), mut w), mut dw)| {
                // The true M and C, row by row (module docs).
                for ((mut m, mut c), (&alpha, &beta)) in m
                    .rows_mut()
                    .into_iter()
                    .zip(c.rows_mut())
                    .zip(row_alpha.iter().zip(row_beta))
                {
                    Zip::from(&mut m).and(&mut c).for_each(|m, c| {
                        *c += beta * *m;
                        *m *= alpha;
                    });
                }
                Zip::from(&mut w).and(&dw).for_each(|w, &dw| *w += sigma * dw);
                mat_mul_into(-scale, c.t(), x, 1.0, &mut w);
                dw.mapv_inplace(|dw| mu_pow * dw);
                mat_mul_into(-scale, m.t(), x, 1.0, &mut dw);
            });
        self.steps = 0;
    }
}

/// Some post cells of a [`GramCarry`] in a drive pass: their columns of V and Q̃.
pub struct GramDriveBlock<'a> {
    v: ArrayViewMut2<'a, f32>,
    q: ArrayView2<'a, f32>,
    pending: f32,
}

impl GramDriveBlock<'_> {
    /// The block's drive `v = X Wᵀ + b` (`v` is `[B, block cells]`, `b` the block's biases), after adding the last
    /// learning step's Q to V.
    pub fn drive_into(&mut self, b: ArrayView1<'_, f32>, v: &mut ArrayViewMut2<'_, f32>) {
        let b = b.to_slice().expect("contiguous biases");
        for (e, mut v) in v.rows_mut().into_iter().enumerate() {
            self.drive_row(e, b, row_mut(&mut v));
        }
    }

    /// [`Self::drive_into`] for example `e` alone (`drive` its row of the block's drive): a caller may go on with the
    /// row while it is in L1. Every row must be driven once per forward step.
    #[inline]
    pub fn drive_row(&mut self, e: usize, b: &[f32], drive: &mut [f32]) {
        let pending = self.pending;
        let mut v = self.v.row_mut(e);
        let (v, q) = (row_mut(&mut v), self.q.row(e));
        let q = q.to_slice().expect("rows of a block are contiguous");
        assert!(
            b.len() == v.len() && q.len() == v.len() && drive.len() == v.len(),
            "drive row width"
        );
        if pending == 0.0 {
            for ((d, &v), &b) in drive.iter_mut().zip(v.iter()).zip(b) {
                *d = v + b;
            }
        } else {
            for (((d, v), &q), &b) in drive.iter_mut().zip(v.iter_mut()).zip(q).zip(b) {
                *v += pending * q;
                *d = *v + b;
            }
        }
    }
}

/// Some post cells of a [`GramCarry`] in a learning step: their columns of M̃, C̃ and Q̃, and the shared active
/// columns of G and row scalars.
pub struct GramLearnBlock<'a> {
    active: &'a [usize],
    gram_active: ArrayView2<'a, f32>,
    row_alpha: &'a [f32],
    row_beta: &'a [f32],
    m: ArrayViewMut2<'a, f32>,
    c: ArrayViewMut2<'a, f32>,
    q: ArrayViewMut2<'a, f32>,
    mu: f32,
    q_decay: f32,
    scale: f32,
}

impl GramLearnBlock<'_> {
    /// The block's share of a learning step. `iota` holds the rows of ι of the active examples only, compacted (row
    /// k is example `active[k]`, `[active, block cells]`): `M ← μ M + ι` and `C ← C + M` on the active rows (the
    /// silent ones only change their scalars, in [`GramCarry::advance`]), and `Q ← μ Q − s G[:, A] ι[A, :]`.
    pub fn learn(&mut self, iota: ArrayView2<'_, f32>) {
        self.fold_rows(iota);
        if !self.active.is_empty() {
            mat_mul_into(-self.scale, self.gram_active, iota, self.q_decay, &mut self.q);
        }
    }

    /// [`Self::learn`] with Q's product taken through the factors of a low-rank ι: `gram_coeff` is
    /// `g G[:, A] E[A, :]` (`[B, r]`), `basis` the block's rows of F (`[block cells, r]`), and
    /// `Q ← μ Q − s gram_coeff basisᵀ`. `iota` is the block's compacted ι, as for [`Self::learn`].
    pub fn learn_low_rank(
        &mut self,
        iota: ArrayView2<'_, f32>,
        gram_coeff: ArrayView2<'_, f32>,
        basis: ArrayView2<'_, f32>,
    ) {
        self.fold_rows(iota);
        if !self.active.is_empty() {
            mat_mul_into(-self.scale, gram_coeff, basis.t(), self.q_decay, &mut self.q);
        }
    }

    /// `M ← μ M + ι` and `C ← C + M` on the active rows.
    fn fold_rows(&mut self, iota: ArrayView2<'_, f32>) {
        assert_eq!(iota.nrows(), self.active.len(), "one row of ι per active example");
        assert_eq!(iota.ncols(), self.m.ncols(), "teaching signal block width");
        let mu = self.mu;
        for (&e, iota) in self.active.iter().zip(iota.rows()) {
            let (decay, beta) = (mu * self.row_alpha[e], self.row_beta[e]);
            let (mut m, mut c) = (self.m.row_mut(e), self.c.row_mut(e));
            for ((m, c), &i) in row_mut(&mut m).iter_mut().zip(row_mut(&mut c)).zip(row(&iota)) {
                let old = *m;
                *m = decay * old + i;
                *c += beta * old + *m;
            }
        }
    }
}

/// A row of a column block as a slice (rows of blocks of row-major arrays are contiguous).
fn row<'a>(r: &'a ArrayView1<'_, f32>) -> &'a [f32] {
    r.as_slice().expect("rows of a block are contiguous")
}

/// [`row`], mutable.
fn row_mut<'a>(r: &'a mut ndarray::ArrayViewMut1<'_, f32>) -> &'a mut [f32] {
    r.as_slice_mut().expect("rows of a block are contiguous")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    /// The carried drive equals `X Wᵀ + b` with the weights updated directly on every step, and the materialised W
    /// and ΔW equal the directly updated ones, while some examples have ι = 0 (skipped by the product) on some steps.
    #[test]
    fn carry_with_silent_examples_equals_direct_updates() {
        // 20 post cells: one block; 600: three blocks of 256, the last one partial.
        for post in [20, 600] {
            carry_equals_direct_updates(post, false);
        }
    }

    /// The same with ι of rank 3 handed to the carry as its factors ([`GramCarry::learn_low_rank`]), against the
    /// dense direct update with ι formed.
    #[test]
    fn carry_of_a_low_rank_iota_equals_direct_updates() {
        for post in [20, 600] {
            carry_equals_direct_updates(post, true);
        }
    }

    fn carry_equals_direct_updates(post: usize, low_rank: bool) {
        let (examples, pre, mu, scale) = (6, 9, 0.9f32, 0.5f32);
        let val = |i: usize, j: usize, k: usize| (((i * 31 + j * 17 + k * 7) % 23) as f32 - 11.0) / 11.0;
        let x = Array2::from_shape_fn((examples, pre), |(i, j)| val(i, j, 1));
        let mut direct = Projection::new(
            Array2::from_shape_fn((post, pre), |(i, j)| val(i, j, 2)),
            Array1::ones(post),
        );
        direct.dw = Array2::from_shape_fn((post, pre), |(i, j)| 0.1 * val(i, j, 3)); // momentum from before
        let mut carried = direct.clone();
        let mut carry = GramCarry::new(examples, pre, post, 256);
        carry.begin(&carried, x.view(), Update::new(mu, scale));
        let (mut v_direct, mut v_carried) = (Array2::zeros((examples, post)), Array2::zeros((examples, post)));
        for step in 0..14 {
            // Examples 1 and 4 are silent on even steps, example 2 always, every example on steps 5 to 7 (the
            // carry then only updates its scalars).
            let all_silent = (5..=7).contains(&step);
            let silent = |e: usize| all_silent || e == 2 || (step % 2 == 0 && (e == 1 || e == 4));
            if low_rank {
                // ι = g E Fᵀ, E's row of a silent example zero.
                let (rank, gain) = (3, 0.05f32);
                let coeff =
                    Array2::from_shape_fn((examples, rank), |(e, k)| if silent(e) { 0.0 } else { val(e, k, step) });
                let basis = Array2::from_shape_fn((post, rank), |(c, k)| val(c, k, step + 5));
                let iota = gain * coeff.dot(&basis.t());
                carry.learn_low_rank(
                    &mut carried,
                    iota.view(),
                    LowRankIota::new(coeff.view(), basis.view(), gain),
                );
                direct.learn(iota.view(), x.view(), Update::new(mu, scale));
            } else {
                let iota =
                    Array2::from_shape_fn(
                        (examples, post),
                        |(e, c)| {
                            if silent(e) { 0.0 } else { 0.05 * val(e, c, step) }
                        },
                    );
                carry.learn(&mut carried, iota.view());
                direct.learn(iota.view(), x.view(), Update::new(mu, scale));
            }
            carry.advance();
            let want = match (all_silent, step % 2) {
                (true, _) => 0,
                (false, 0) => 3,
                _ => 5,
            };
            assert_eq!(carry.active_rows(), want);
            direct.drive_into(x.view(), &mut v_direct);
            carry.drive_into(&carried, &mut v_carried);
            let worst = (&v_direct - &v_carried).iter().fold(0.0f32, |m, d| m.max(d.abs()));
            assert!(worst < 1e-4, "step {step}: drive differs by {worst}");
        }
        carry.finish(&mut carried);
        for (a, b, what) in [(&direct.w, &carried.w, "W"), (&direct.dw, &carried.dw, "ΔW")] {
            let worst = (a - b).iter().fold(0.0f32, |m, d| m.max(d.abs()));
            assert!(worst < 1e-5, "{what} differs by {worst}");
        }
        assert_eq!(direct.b, carried.b, "biases are updated directly by both");
    }

    /// A presentation of the carry (begin, learning steps, drives, finish) gives the same bits on one thread and on
    /// two: its blocks are fixed, whatever the number of threads.
    #[test]
    fn carry_gives_the_same_bits_at_one_and_two_threads() {
        let (examples, pre, post) = (12, 40, 700);
        let val = |i: usize, j: usize, k: usize| (((i * 31 + j * 17 + k * 7) % 23) as f32 - 11.0) / 11.0;
        let x = Array2::from_shape_fn((examples, pre), |(i, j)| val(i, j, 1));
        let mut start = Projection::new(
            Array2::from_shape_fn((post, pre), |(i, j)| val(i, j, 2)),
            Array1::ones(post),
        );
        start.dw = Array2::from_shape_fn((post, pre), |(i, j)| 0.1 * val(i, j, 3));
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut proj = start.clone();
                let mut carry = GramCarry::new(examples, pre, post, 256);
                let mut v = Array2::zeros((examples, post));
                let mut drives = Vec::new();
                carry.begin(&proj, x.view(), Update::new(0.9, 0.5));
                for step in 0..5 {
                    let iota = Array2::from_shape_fn((examples, post), |(e, c)| 0.05 * val(e, c, step));
                    carry.learn(&mut proj, iota.view());
                    carry.advance();
                    carry.drive_into(&proj, &mut v);
                    drives.push(v.clone());
                }
                carry.finish(&mut proj);
                (drives, proj)
            })
        };
        assert_eq!(run(1), run(2));
    }
}
