//! Feedback matrices (SPEC §2.3, eqs A.5–A.6).
//!
//! For layer sizes `s_1 … s_L`, hidden layer n (2 ≤ n ≤ L−1) receives feedback through
//! - `B_FA(n)`, shape `s_n × s_(n+1)`, drawn exactly like `W_(n+1)` (fan-in `s_n`) but independently (eq A.5);
//! - `B_BA(n) = γ^D B_FA(n) B_FA(n+1) ⋯ B_FA(L−1)`, shape `s_n × s_L`, with `D = L − n` downstream weight layers
//!   (eq A.6). It carries the output error e straight to layer n (broadcast alignment).
//!
//! Vectors are indexed from 0 for the first hidden layer (n = 2).
//!
//! A network's feedback to each hidden layer is a [`Pathway`]: how δ reaches the layer ([`Reach`]), what carries it
//! ([`Carrier`]: the forward weights for backprop, a matrix of its own for FA, BA and DF), and the rule by which the
//! carrier changes ([`FeedbackRule`]; fixed for every algorithm of Samadi et al. 2017).

use crate::init::{InitError, InitParams};
use ndarray::Array2;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// How the feedback δ reaches a hidden layer (SPEC §2.2 table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reach {
    /// Straight from the output error: `δ_(n) = B e` (broadcast alignment and derivative-free learning, eq 2.7).
    Broadcast,
    /// From the layer above, through its derivative: `δ_(n) = B (f'(v_(n+1)) ⊙ δ_(n+1))` (backprop, eq 2.5, with
    /// `B = W_(n+1)ᵀ`; feedback alignment, eq 2.6).
    Chained,
}

/// What carries the feedback of a hidden layer n.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Carrier {
    /// The forward weights of the layer above, transposed (`W_(n+1)ᵀ`): weight transport, backprop only.
    ForwardWeights,
    /// A matrix of the pathway's own, `[s_n, source cells]`: B_FA(n) (`[s_n, s_(n+1)]`) for a chained pathway,
    /// B_BA(n) (`[s_n, s_L]`) for a broadcast one.
    Matrix(Array2<f32>),
}

/// How a pathway's carrier changes while the network learns (Akrout et al. 2019, SPEC §6). The updates themselves
/// are in [`crate::feedback_learning`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum FeedbackRule {
    /// It never changes (feedback alignment, broadcast alignment; backprop's carrier is the forward weights).
    Fixed,
    /// Kolen-Pollack (SPEC §6.1, eqs 16–17): whenever the forward weights above learn, B takes the same increment
    /// transposed, and both decay by λ per update, so that `W − Bᵀ` shrinks as `(1 − λ)ᵗ`.
    KolenPollack {
        /// λ, the decay of W and B per update (0: the reference code's; W − Bᵀ then never changes).
        decay: f32,
        /// B's learning rate; `None` for the forward weights' η, so that B takes the same increment (SPEC §6.1).
        eta: Option<f32>,
    },
    /// Weight mirror (SPEC §6.2): between engaged minibatches, mirror batches of noise teach B the transpose of
    /// the forward weights above.
    WeightMirror(MirrorRule),
    /// Sign symmetry (SPEC §6.3): `B = scale · sign(W)ᵀ`, refreshed from the forward weights above before every
    /// learning step.
    SignSymmetry {
        /// The magnitude of every weight of the pathway's matrix; `None` until the network is initialised, which
        /// sets it to s, the model file's scale or the RMS of the forward weights above, times γ for a broadcast
        /// pathway (B_BA = γ B_FA).
        scale: Option<f32>,
    },
}

impl FeedbackRule {
    /// Whether the carrier changes during training.
    pub fn learns(&self) -> bool {
        !matches!(self, FeedbackRule::Fixed)
    }
}

/// The weight mirror's constants (SPEC §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MirrorRule {
    /// η_B, the rate of B's mirror update.
    pub eta: f32,
    /// λ_WM, B's decay per mirror batch (η_B σ² makes B → Wᵀ in the clean form).
    pub decay: f32,
    /// σ, the noise's standard deviation (clean form) or its amplitude (reference form: ξ = σ (U[0, 1) − ½)).
    pub sigma: f32,
    /// M, noise samples per mirror batch.
    pub batch: usize,
    /// Mirror batches before training starts.
    pub before: usize,
    /// Mirror batches after every engaged (training) minibatch.
    pub after: usize,
    /// The clean form of SPEC §6.2 or the reference code's.
    pub form: MirrorForm,
}

/// The two forms of the weight mirror's update (SPEC §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MirrorForm {
    /// Gaussian noise ξ ~ N(0, σ²) in each layer, linear response `y = W ξ` without bias,
    /// `B += (η_B / M) ξ yᵀ − λ_WM B`.
    Clean,
    /// The reference code's (`fcnn/FCNN_WM.py`): uniform noise ξ = σ (U[0, 1) − ½), `y = sigmoid(W ξ + b)`,
    /// `B += η_B ξ yᵀ` summed over the batch, then the decay (0 in the reference).
    Reference,
}

/// The feedback of one hidden layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pathway {
    /// How δ reaches the layer.
    pub reach: Reach,
    /// What carries it.
    pub carrier: Carrier,
    /// How the carrier learns.
    pub rule: FeedbackRule,
}

impl Pathway {
    /// The pathway's own matrix, if it has one.
    pub fn matrix(&self) -> Option<&Array2<f32>> {
        match &self.carrier {
            Carrier::Matrix(b) => Some(b),
            Carrier::ForwardWeights => None,
        }
    }
}

/// Draws `B_FA(n)` for every hidden layer n = 2..L−1, in that order, from `rng`.
pub fn feedback_alignment_matrices(
    sizes: &[usize],
    init: &InitParams,
    rng: &mut Xoshiro256PlusPlus,
) -> Result<Vec<Array2<f32>>, InitError> {
    let l = sizes.len();
    (1..l.saturating_sub(1))
        .map(|n| init.uniform_matrix(sizes[n], sizes[n + 1], sizes[n], rng))
        .collect()
}

/// `B_BA(n) = γ^(L−n) B_FA(n) ⋯ B_FA(L−1)` for every hidden layer (eq A.6), products in f64-free f32 as in the
/// simulator.
pub fn broadcast_matrices(b_fa: &[Array2<f32>], gamma: f32) -> Vec<Array2<f32>> {
    let h = b_fa.len();
    let mut out = vec![Array2::<f32>::zeros((0, 0)); h];
    // Build from the last hidden layer backwards: P(n) = B_FA(n) · P(n+1), P(L−1) = B_FA(L−1).
    let mut acc: Option<Array2<f32>> = None;
    for i in (0..h).rev() {
        let p = match &acc {
            None => b_fa[i].clone(),
            Some(next) => b_fa[i].dot(next),
        };
        let depth = (h - i) as i32; // D = L − n
        out[i] = &p * gamma.powi(depth);
        acc = Some(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::SeedableRng;

    #[test]
    fn shapes_and_products() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let b = feedback_alignment_matrices(&[784, 630, 370, 10], &InitParams::SAMADI, &mut rng).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].dim(), (630, 370));
        assert_eq!(b[1].dim(), (370, 10));
        let small = vec![array![[1.0f32, 2.0], [3.0, 4.0]], array![[1.0f32], [-1.0]]];
        let ba = broadcast_matrices(&small, 0.5);
        // B_BA(last hidden) = γ B_FA; B_BA(first) = γ² B_FA(first) B_FA(last).
        assert_eq!(ba[1], array![[0.5f32], [-0.5]]);
        assert_eq!(ba[0], array![[-0.25f32], [-0.25]]);
        assert!(
            feedback_alignment_matrices(&[784, 10], &InitParams::SAMADI, &mut rng)
                .unwrap()
                .is_empty()
        );
    }
}
