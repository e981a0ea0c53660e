//! A teaching signal of low rank, and the weight update it allows without the dense product.
//!
//! A layer whose ι has no derivative term and whose δ is broadcast from the output error through a fixed matrix
//! (the derivative-free algorithm DF, SPEC §2.1: `ι = η e B_lᵀ`) has a teaching signal of rank at most the number of
//! output cells r:
//!
//! ```text
//! ι = g · E Fᵀ          (E = the error [examples, r], F = B_l [post, r], g = η)
//! ιᵀ a_pre = g · F (Eᵀ a_pre)
//! ```
//!
//! The update's product `ιᵀ a_pre` then costs `r · examples · pre` multiply-adds for `P = Eᵀ a_pre` and
//! `r · post · pre` for `F P`, instead of `examples · post · pre`: 10 instead of 100 per weight for a minibatch of 100
//! and ten classes. The same holds for the Gram carry's `G ι = g (G E) Fᵀ` ([`crate::gram`]). Nothing is
//! approximated; the sums are taken in another order, so the last bits differ from the dense product's.

use ndarray::ArrayView2;

/// `ι = gain · coeff · basisᵀ`: `coeff` is `[examples, r]`, `basis` `[post, r]`.
#[derive(Clone, Copy, Debug)]
pub struct LowRankIota<'a> {
    /// E, `[examples, r]`.
    pub coeff: ArrayView2<'a, f32>,
    /// F, `[post, r]`.
    pub basis: ArrayView2<'a, f32>,
    /// g.
    pub gain: f32,
}

impl<'a> LowRankIota<'a> {
    /// `ι = gain · coeff · basisᵀ`.
    ///
    /// # Panics
    /// If `coeff` and `basis` do not have the same number of columns (the rank).
    pub fn new(coeff: ArrayView2<'a, f32>, basis: ArrayView2<'a, f32>, gain: f32) -> Self {
        assert_eq!(
            coeff.ncols(),
            basis.ncols(),
            "the two factors of a low-rank ι share their rank"
        );
        Self { coeff, basis, gain }
    }

    /// r, the factors' common number of columns.
    pub fn rank(&self) -> usize {
        self.coeff.ncols()
    }

    /// The examples (rows of ι).
    pub fn examples(&self) -> usize {
        self.coeff.nrows()
    }

    /// The post cells (columns of ι).
    pub fn post(&self) -> usize {
        self.basis.nrows()
    }
}
