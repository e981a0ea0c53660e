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
//! So the drive needs only the `[B, B]` Gram matrix G = X Xᵀ and `[B, post]` arrays: B² · post multiply-adds per step
//! (10 M for B = 100, post = 1000) instead of 2 · B · pre · post (157 M) for the forward product plus the weight
//! update. W and ΔW are materialised once, at the end of the presentation. Biases are updated directly, as in
//! [`Projection::learn`]. It pays when B < 2 · pre.

use crate::matmul::mat_mul_into;
use crate::projection::{Projection, learn_biases};
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, Zip, linalg::general_mat_mul};

/// Post cells per parallel block of the carry: wider than [`crate::projection::POST_BLOCK`] because every block
/// multiplies the whole `[B, B]` Gram matrix, which matrixmultiply packs once per block.
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
    sigma: f32,
    mu_pow: f32,
    mu: f32,
    scale: f32,
    steps: usize,
}

impl GramCarry {
    /// Buffers for `examples` inputs of a projection with `pre` inputs and `post` cells.
    pub fn new(examples: usize, pre: usize, post: usize) -> Self {
        Self {
            input: Array2::zeros((examples, pre)),
            gram: Array2::zeros((examples, examples)),
            v0: Array2::zeros((examples, post)),
            d0: Array2::zeros((examples, post)),
            m: Array2::zeros((examples, post)),
            c: Array2::zeros((examples, post)),
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
        self.m.fill(0.0);
        self.c.fill(0.0);
        (self.sigma, self.mu_pow, self.mu, self.scale, self.steps) = (0.0, 1.0, mu, scale, 0);
    }

    /// The carry split into blocks of `width` post cells, as a parallel iterator: the unit of work of a fused
    /// per-block step (each block computes its cells' drive and applies their learning step).
    pub fn blocks_mut(&mut self, width: usize) -> impl IndexedParallelIterator<Item = GramBlock<'_>> {
        let (gram, sigma, scale, mu, learned) = (&self.gram, self.sigma, self.scale, self.mu, self.steps > 0);
        self.v0
            .axis_chunks_iter(Axis(1), width)
            .into_par_iter()
            .zip(self.d0.axis_chunks_iter(Axis(1), width).into_par_iter())
            .zip(self.m.axis_chunks_iter_mut(Axis(1), width).into_par_iter())
            .zip(self.c.axis_chunks_iter_mut(Axis(1), width).into_par_iter())
            .map(move |(((v0, d0), m), c)| GramBlock {
                gram,
                v0,
                d0,
                m,
                c,
                sigma,
                scale,
                mu,
                learned,
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

    /// One learning step with teaching signal `iota` (`[B, post]`): the recurrences of M, C and σ, and the bias update
    /// `Δb ← μ Δb − s Σ ι; b += Δb` applied directly.
    pub fn learn(&mut self, proj: &mut Projection, iota: ArrayView2<'_, f32>) {
        self.blocks_mut(GRAM_BLOCK)
            .zip(iota.axis_chunks_iter(Axis(1), GRAM_BLOCK).into_par_iter())
            .for_each(|(mut block, iota)| block.learn(iota));
        self.advance();
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

/// Some post cells of a [`GramCarry`]: their columns of V0, D0, M and C, and the shared Gram matrix.
pub struct GramBlock<'a> {
    gram: &'a Array2<f32>,
    v0: ArrayView2<'a, f32>,
    d0: ArrayView2<'a, f32>,
    m: ArrayViewMut2<'a, f32>,
    c: ArrayViewMut2<'a, f32>,
    sigma: f32,
    scale: f32,
    mu: f32,
    learned: bool,
}

impl GramBlock<'_> {
    /// The block's drive `v = V0 + σ D0 + b − s G C` (`v` is `[B, block cells]`, `b` the block's biases).
    pub fn drive_into(&self, b: ArrayView1<'_, f32>, v: &mut ArrayViewMut2<'_, f32>) {
        let (sigma, b) = (self.sigma, b.to_slice().expect("contiguous biases"));
        Zip::from(v.rows_mut())
            .and(self.v0.rows())
            .and(self.d0.rows())
            .for_each(|mut v, v0, d0| {
                let (v, v0, d0) = (row_mut(&mut v), row(&v0), row(&d0));
                for (((v, &v0), &d0), &b) in v.iter_mut().zip(v0).zip(d0).zip(b) {
                    *v = v0 + sigma * d0 + b;
                }
            });
        if self.learned {
            mat_mul_into(-self.scale, self.gram.view(), self.c.view(), 1.0, v);
        }
    }

    /// The block's share of a learning step with teaching signal `iota` (`[B, block cells]`): `M ← μ M + ι`,
    /// `C ← C + M`. The caller ends the step with [`GramCarry::advance`] once every block has learned.
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
