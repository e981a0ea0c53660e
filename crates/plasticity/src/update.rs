//! The constants of one learning step of a projection (SPEC §2.2, eqs 2.12–2.13, with momentum on W and b alike):
//!
//! ```text
//! ΔW ← μ ΔW − s ιᵀ a_pre − λ W ;  W += ΔW        (s = 1 for a summed batch, 1/examples for the mean)
//! Δb ← μ Δb − s Σ_examples ι   ;  b += Δb
//! ```
//!
//! λ is weight decay (Lillicrap et al. 2016, SPEC §5.4; Kolen-Pollack, SPEC §6). With λ = 0 the decay term is not
//! evaluated at all, so an update without decay gives exactly the bits of the plain momentum rule.

/// Momentum μ, batch scale s and weight decay λ of an update (module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Update {
    /// Momentum μ (0 ≤ μ < 1).
    pub momentum: f32,
    /// Factor s of the summed per-example updates of a minibatch ([`crate::BatchReduction::scale`]).
    pub scale: f32,
    /// Weight decay λ per step (0: none). It applies where the caller calls [`Update::step`] or
    /// [`Update::decay_into`]; whether biases decay is the model's: SPEC §5 decays them (b −= γb), Kolen-Pollack's
    /// biases learn undecayed (SPEC §6).
    pub decay: f32,
}

impl Update {
    /// An update with momentum `momentum` and batch scale `scale`, without decay.
    pub fn new(momentum: f32, scale: f32) -> Self {
        Self {
            momentum,
            scale,
            decay: 0.0,
        }
    }

    /// The same update with weight decay `decay`.
    pub fn with_decay(self, decay: f32) -> Self {
        Self { decay, ..self }
    }

    /// Whether the update decays the weights.
    pub fn decays(&self) -> bool {
        self.decay != 0.0
    }

    /// One weight: `Δw ← μ Δw − s·sum − λ w; w += Δw`, with `sum` the weight's Σ ι a_pre over the examples.
    #[inline(always)]
    pub fn step(&self, w: &mut f32, dw: &mut f32, sum: f32) {
        *dw = self.momentum * *dw - self.scale * sum;
        if self.decays() {
            *dw -= self.decay * *w;
        }
        *w += *dw;
    }

    /// The decay term of a whole block, `Δw −= λ w`, after the momentum product has been formed into `dw` (nothing
    /// when λ = 0).
    pub fn decay_into(&self, dw: &mut ndarray::ArrayViewMut2<'_, f32>, w: ndarray::ArrayView2<'_, f32>) {
        if self.decays() {
            let decay = self.decay;
            ndarray::Zip::from(dw).and(w).for_each(|dw, &w| *dw -= decay * w);
        }
    }

    /// Asserts that the update does not decay: the exact carries (Gram, transposed spike input) fold the momentum
    /// recursion algebraically and have no decay term; the model's plan never carries a decaying layer.
    pub fn assert_no_decay(&self, carry: &str) {
        assert!(
            !self.decays(),
            "the {carry} carry has no decay term: the plan must compute this layer directly"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decay_zero_is_the_plain_momentum_rule_and_decay_shrinks_weights() {
        let (mut w, mut dw) = (0.5f32, 0.1f32);
        Update::new(0.9, 0.5).step(&mut w, &mut dw, 2.0);
        assert_eq!(dw, 0.9 * 0.1 - 0.5 * 2.0);
        assert_eq!(w, 0.5 + (0.9 * 0.1 - 0.5 * 2.0));
        let (mut w, mut dw) = (2.0f32, 0.0f32);
        Update::new(0.0, 1.0).with_decay(0.25).step(&mut w, &mut dw, 0.0);
        assert_eq!((w, dw), (1.5, -0.5), "w ← (1 − λ) w without a teaching signal");
    }
}
