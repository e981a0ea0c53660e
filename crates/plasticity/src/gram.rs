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

use crate::projection::{Projection, learn_biases};
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView2, Axis, Zip, linalg::general_mat_mul};

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

    /// The drive `v = X W_kᵀ + b` with the weights after the learning steps so far (module docs), computed over
    /// fixed blocks of post cells in parallel.
    pub fn drive_into(&self, proj: &Projection, v: &mut Array2<f32>) {
        let (sigma, scale, learned) = (self.sigma, self.scale, self.steps > 0);
        let gram = &self.gram;
        v.axis_chunks_iter_mut(Axis(1), GRAM_BLOCK)
            .into_par_iter()
            .zip(self.v0.axis_chunks_iter(Axis(1), GRAM_BLOCK).into_par_iter())
            .zip(self.d0.axis_chunks_iter(Axis(1), GRAM_BLOCK).into_par_iter())
            .zip(self.c.axis_chunks_iter(Axis(1), GRAM_BLOCK).into_par_iter())
            .zip(proj.b.axis_chunks_iter(Axis(0), GRAM_BLOCK).into_par_iter())
            .for_each(|((((mut v, v0), d0), c), b)| {
                Zip::from(v.rows_mut())
                    .and(v0.rows())
                    .and(d0.rows())
                    .for_each(|mut v, v0, d0| {
                        Zip::from(&mut v)
                            .and(&v0)
                            .and(&d0)
                            .and(&b)
                            .for_each(|v, &v0, &d0, &b| *v = v0 + sigma * d0 + b);
                    });
                if learned {
                    general_mat_mul(-scale, gram, &c, 1.0, &mut v);
                }
            });
    }

    /// One learning step with teaching signal `iota` (`[B, post]`): the recurrences of M, C and σ, and the bias update
    /// `Δb ← μ Δb − s Σ ι; b += Δb` applied directly.
    pub fn learn(&mut self, proj: &mut Projection, iota: ArrayView2<'_, f32>) {
        let mu = self.mu;
        self.m
            .axis_chunks_iter_mut(Axis(1), GRAM_BLOCK)
            .into_par_iter()
            .zip(self.c.axis_chunks_iter_mut(Axis(1), GRAM_BLOCK).into_par_iter())
            .zip(iota.axis_chunks_iter(Axis(1), GRAM_BLOCK).into_par_iter())
            .for_each(|((mut m, mut c), iota)| {
                Zip::from(&mut m).and(&mut c).and(&iota).for_each(|m, c, &i| {
                    *m = mu * *m + i;
                    *c += *m;
                });
            });
        self.mu_pow *= mu;
        self.sigma += self.mu_pow;
        self.steps += 1;
        learn_biases(&mut proj.db, &mut proj.b, iota, mu, self.scale);
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
