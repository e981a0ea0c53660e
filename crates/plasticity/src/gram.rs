//! Exact carry-forward of a learning projection whose input is constant during a presentation (issue 7; the algebra
//! is SPEC §2.2's update rewritten, nothing is approximated).
//!
//! The first hidden layer of an MNIST network sees the same graded input X (`[B, pre]`) on every step of a
//! presentation, and every update of its weights is `ΔW_k = μ ΔW_(k−1) − s ι_kᵀ X` with that same X. Unrolled over
//! the learning steps k = 1, 2, … of the presentation:
//!
//! ```text
//! M_k = μ M_(k−1) + ι_k                 (M_0 = 0; [B, post])
//! C_k = C_(k−1) + M_k                   (C_0 = 0)
//! σ_k = σ_(k−1) + μ^k                   (σ_0 = 0)
//! ΔW_k = μ^k ΔW_0 − s M_kᵀ X
//! W_k  = W_0 + σ_k ΔW_0 − s C_kᵀ X
//! X W_kᵀ = X W_0ᵀ + σ_k X ΔW_0ᵀ − s (X Xᵀ) C_k   = V0 + σ_k D0 − s G C_k
//! ```
//!
//! So the drive needs only the `[B, B]` Gram matrix G = X Xᵀ and `[B, post]` arrays: at most B² · post multiply-adds
//! per step (10 M for B = 100, post = 1000) instead of 2 · B · pre · post (157 M) for the forward product plus the
//! weight update. W and ΔW are materialised once, at the end of the presentation. Biases are updated directly, as in
//! [`Projection::learn`]. It pays when B < 2 · pre.
//!
//! The product itself is carried too: `H_k = G C_k = H_(k−1) + P_k` with `P_k = G M_k = μ P_(k−1) + G ι_k`, and
//! `G ι_k` only needs the examples whose row of ι is not zero. An example's ι is exactly zero on every step where its
//! error pools are silent (its output spikes match the target), which in a trained network is most examples on most
//! steps: the caller names the examples that may have a nonzero ι ([`GramCarry::select_rows`]) and the product runs
//! over those alone (`G[:, A] ι[A, :]`). Leaving out a row whose ι is zero changes nothing, so the drive is the same
//! sum however many rows are active.

use crate::matmul::mat_mul_into;
use crate::projection::{Projection, learn_biases};
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, Zip, linalg::general_mat_mul, s};
use snn_neuron::aligned_zeros;

/// Post cells per parallel block of the carry when it runs on its own ([`GramCarry::drive_into`],
/// [`GramCarry::learn`]); the simulator's fused step chooses its own blocks.
pub const GRAM_BLOCK: usize = 256;

/// Presentation state of a projection carried forward through its Gram matrix.
#[derive(Clone, Debug)]
pub struct GramCarry {
    input: Array2<f32>,
    gram: Array2<f32>,
    v0: Array2<f32>,
    d0: Array2<f32>,
    m: Array2<f32>,
    c: Array2<f32>,
    /// P = G M.
    p: Array2<f32>,
    /// H = G C.
    h: Array2<f32>,
    /// Examples whose ι may be nonzero on this step.
    active: Vec<usize>,
    /// Their columns of G, `[B, active]` in the first `active.len()` columns.
    gram_active: Array2<f32>,
    /// Their rows of ι, gathered (first `active.len()` rows).
    iota_active: Array2<f32>,
    sigma: f32,
    mu_pow: f32,
    mu: f32,
    scale: f32,
    steps: usize,
}

impl GramCarry {
    /// Buffers for `examples` inputs of a projection with `pre` inputs and `post` cells.
    pub fn new(examples: usize, pre: usize, post: usize) -> Self {
        // The [B, post] arrays are worked on in column blocks by several threads: rows on cache lines.
        let rows = || aligned_zeros::<f32>(examples, post);
        Self {
            input: Array2::zeros((examples, pre)),
            gram: Array2::zeros((examples, examples)),
            v0: rows(),
            d0: rows(),
            m: rows(),
            c: rows(),
            p: rows(),
            h: rows(),
            active: (0..examples).collect(),
            gram_active: Array2::zeros((examples, examples)),
            iota_active: rows(),
            sigma: 0.0,
            mu_pow: 1.0,
            mu: 0.0,
            scale: 0.0,
            steps: 0,
        }
    }

    /// Starts a presentation of the constant input `x` with momentum `mu` and batch scale `scale`: G = X Xᵀ,
    /// V0 = X W_0ᵀ, D0 = X ΔW_0ᵀ.
    pub fn begin(&mut self, proj: &Projection, x: ArrayView2<'_, f32>, mu: f32, scale: f32) {
        assert_eq!(x.dim(), self.input.dim(), "input batch shape");
        self.input.assign(&x);
        general_mat_mul(1.0, &x, &x.t(), 0.0, &mut self.gram);
        general_mat_mul(1.0, &x, &proj.w.t(), 0.0, &mut self.v0);
        general_mat_mul(1.0, &x, &proj.dw.t(), 0.0, &mut self.d0);
        for a in [&mut self.m, &mut self.c, &mut self.p, &mut self.h] {
            a.fill(0.0);
        }
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

    /// Number of examples named by the last [`Self::select_rows`].
    pub fn active_rows(&self) -> usize {
        self.active.len()
    }

    /// The carry split into blocks of `width` post cells, as a parallel iterator: the unit of work of a fused
    /// per-block step (each block computes its cells' drive and applies their learning step).
    pub fn blocks_mut(&mut self, width: usize) -> impl IndexedParallelIterator<Item = GramBlock<'_>> {
        let n = self.active.len();
        let (active, gram_active) = (&self.active[..], self.gram_active.slice(s![.., ..n]));
        let (sigma, scale, mu) = (self.sigma, self.scale, self.mu);
        self.v0
            .axis_chunks_iter(Axis(1), width)
            .into_par_iter()
            .zip(self.d0.axis_chunks_iter(Axis(1), width).into_par_iter())
            .zip(self.m.axis_chunks_iter_mut(Axis(1), width).into_par_iter())
            .zip(self.c.axis_chunks_iter_mut(Axis(1), width).into_par_iter())
            .zip(self.p.axis_chunks_iter_mut(Axis(1), width).into_par_iter())
            .zip(self.h.axis_chunks_iter_mut(Axis(1), width).into_par_iter())
            .zip(self.iota_active.axis_chunks_iter_mut(Axis(1), width).into_par_iter())
            .map(move |((((((v0, d0), m), c), p), h), iota_active)| GramBlock {
                active,
                gram_active,
                v0,
                d0,
                m,
                c,
                p,
                h,
                iota_active,
                sigma,
                scale,
                mu,
            })
    }

    /// Ends a learning step whose blocks have all run [`GramBlock::learn`]: σ_k and μ^k advance.
    pub fn advance(&mut self) {
        self.mu_pow *= self.mu;
        self.sigma += self.mu_pow;
        self.steps += 1;
    }

    /// The drive `v = X W_kᵀ + b` with the weights after the learning steps so far (module docs), computed over
    /// fixed blocks of post cells in parallel.
    pub fn drive_into(&mut self, proj: &Projection, v: &mut Array2<f32>) {
        self.blocks_mut(GRAM_BLOCK)
            .zip(v.axis_chunks_iter_mut(Axis(1), GRAM_BLOCK).into_par_iter())
            .zip(proj.b.axis_chunks_iter(Axis(0), GRAM_BLOCK).into_par_iter())
            .for_each(|((block, mut v), b)| block.drive_into(b, &mut v));
    }

    /// One learning step with teaching signal `iota` (`[B, post]`): the recurrences of M, C, P and H over the rows
    /// of ι that are not zero, and the bias update `Δb ← μ Δb − s Σ ι; b += Δb` applied directly. Like the per-block
    /// path, the step ends with [`Self::advance`], called by the caller once per learning step.
    pub fn learn(&mut self, proj: &mut Projection, iota: ArrayView2<'_, f32>) {
        self.select_rows(|e| iota.row(e).iter().any(|&x| x != 0.0));
        self.blocks_mut(GRAM_BLOCK)
            .zip(iota.axis_chunks_iter(Axis(1), GRAM_BLOCK).into_par_iter())
            .for_each(|(mut block, iota)| block.learn(iota));
        learn_biases(&mut proj.db, &mut proj.b, iota, self.mu, self.scale);
    }

    /// Ends the presentation: `W = W_0 + σ ΔW_0 − s Cᵀ X` and `ΔW = μ^K ΔW_0 − s Mᵀ X` written into the projection.
    pub fn finish(&mut self, proj: &mut Projection) {
        if self.steps == 0 {
            return;
        }
        let (sigma, mu_pow) = (self.sigma, self.mu_pow);
        Zip::from(&mut proj.w).and(&proj.dw).for_each(|w, &dw| *w += sigma * dw);
        general_mat_mul(-self.scale, &self.c.t(), &self.input, 1.0, &mut proj.w);
        proj.dw.mapv_inplace(|dw| mu_pow * dw);
        general_mat_mul(-self.scale, &self.m.t(), &self.input, 1.0, &mut proj.dw);
        self.steps = 0;
    }
}

/// Some post cells of a [`GramCarry`]: their columns of V0, D0, M, C, P and H, and the shared active columns of G.
pub struct GramBlock<'a> {
    active: &'a [usize],
    gram_active: ArrayView2<'a, f32>,
    v0: ArrayView2<'a, f32>,
    d0: ArrayView2<'a, f32>,
    m: ArrayViewMut2<'a, f32>,
    c: ArrayViewMut2<'a, f32>,
    p: ArrayViewMut2<'a, f32>,
    h: ArrayViewMut2<'a, f32>,
    iota_active: ArrayViewMut2<'a, f32>,
    sigma: f32,
    scale: f32,
    mu: f32,
}

impl GramBlock<'_> {
    /// The block's drive `v = V0 + σ D0 + b − s H` (`v` is `[B, block cells]`, `b` the block's biases; H = G C).
    pub fn drive_into(&self, b: ArrayView1<'_, f32>, v: &mut ArrayViewMut2<'_, f32>) {
        let (sigma, scale, b) = (self.sigma, self.scale, b.to_slice().expect("contiguous biases"));
        Zip::from(v.rows_mut())
            .and(self.v0.rows())
            .and(self.d0.rows())
            .and(self.h.rows())
            .for_each(|mut v, v0, d0, h| {
                let (v, v0, d0, h) = (row_mut(&mut v), row(&v0), row(&d0), row(&h));
                for ((((v, &v0), &d0), &b), &h) in v.iter_mut().zip(v0).zip(d0).zip(b).zip(h) {
                    *v = v0 + sigma * d0 + b - scale * h;
                }
            });
    }

    /// The block's share of a learning step with teaching signal `iota` (`[B, block cells]`, zero outside the
    /// selected rows): `M ← μ M + ι`, `C ← C + M`, `P ← μ P + G[:, A] ι[A, :]`, `H ← H + P`. The caller ends the step
    /// with [`GramCarry::advance`] once every block has learned.
    pub fn learn(&mut self, iota: ArrayView2<'_, f32>) {
        let mu = self.mu;
        Zip::from(self.m.rows_mut())
            .and(self.c.rows_mut())
            .and(iota.rows())
            .for_each(|mut m, mut c, iota| {
                for ((m, c), &i) in row_mut(&mut m).iter_mut().zip(row_mut(&mut c)).zip(row(&iota)) {
                    *m = mu * *m + i;
                    *c += *m;
                }
            });
        let n = self.active.len();
        if n == 0 {
            self.p.mapv_inplace(|p| mu * p);
        } else {
            let mut gathered = self.iota_active.slice_mut(s![..n, ..]);
            for (mut dst, &e) in gathered.rows_mut().into_iter().zip(self.active) {
                dst.assign(&iota.row(e));
            }
            mat_mul_into(1.0, self.gram_active, gathered.view(), mu, &mut self.p);
        }
        Zip::from(self.h.rows_mut()).and(self.p.rows()).for_each(|mut h, p| {
            for (h, &p) in row_mut(&mut h).iter_mut().zip(row(&p)) {
                *h += p;
            }
        });
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
        let (examples, pre, post, mu, scale) = (6, 9, 20, 0.9f32, 0.5f32);
        let val = |i: usize, j: usize, k: usize| (((i * 31 + j * 17 + k * 7) % 23) as f32 - 11.0) / 11.0;
        let x = Array2::from_shape_fn((examples, pre), |(i, j)| val(i, j, 1));
        let mut direct = Projection::new(
            Array2::from_shape_fn((post, pre), |(i, j)| val(i, j, 2)),
            Array1::ones(post),
        );
        direct.dw = Array2::from_shape_fn((post, pre), |(i, j)| 0.1 * val(i, j, 3)); // momentum from before
        let mut carried = direct.clone();
        let mut carry = GramCarry::new(examples, pre, post);
        carry.begin(&carried, x.view(), mu, scale);
        let (mut v_direct, mut v_carried) = (Array2::zeros((examples, post)), Array2::zeros((examples, post)));
        for step in 0..12 {
            // Examples 1 and 4 are silent on even steps, example 2 always.
            let iota = Array2::from_shape_fn((examples, post), |(e, c)| {
                let silent = e == 2 || (step % 2 == 0 && (e == 1 || e == 4));
                if silent { 0.0 } else { 0.05 * val(e, c, step) }
            });
            carry.learn(&mut carried, iota.view());
            carry.advance();
            assert_eq!(carry.active_rows(), if step % 2 == 0 { 3 } else { 5 });
            direct.learn(iota.view(), x.view(), mu, scale);
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
}
