//! The learning plan: the model file's algorithm resolved once, by [`super::ModelFile::check`], into what every
//! weight layer and every feedback pathway does (SPEC §2.2 table). Engines read this plan and never the algorithm:
//! a new algorithm is a new way of filling it in.

use snn_plasticity::{BatchReduction, Derivative, FeedbackRule, Reach, Update};

/// What one weight layer (projection) does when the network learns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerPlan {
    /// Whether it learns (only the last `learning.depth` do).
    pub learns: bool,
    /// Its η (per layer: 1/fan-in by default).
    pub eta: f32,
    /// The derivative term of its ι = η f'(v) δ (sech²(c2 v) for BP, FA and BA; 1 for DF).
    pub derivative: Derivative,
}

/// How a hidden layer receives its feedback, before any matrix is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeedbackPlan {
    /// From the output error or from the layer above.
    pub reach: Reach,
    /// Whether the pathway has a matrix of its own (FA, BA, DF), rather than the forward weights (BP).
    pub own_matrix: bool,
    /// The factor γ of each downstream layer in a broadcast matrix B_BA = γ^D B_FA ⋯ (eq A.6).
    pub gamma: f32,
    /// How the pathway's matrix changes.
    pub rule: FeedbackRule,
}

/// The learning of a whole network.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub(super) layers: Vec<LayerPlan>,
    pub(super) feedback: Vec<FeedbackPlan>,
    pub(super) momentum: f32,
    pub(super) reduction: BatchReduction,
    pub(super) decay: f32,
    pub(super) reference_derivative: Derivative,
    pub(super) chain_derivative: Derivative,
    pub(super) perturbation: Option<f32>,
}

impl Plan {
    /// Every weight layer's plan, input side first.
    pub fn layers(&self) -> &[LayerPlan] {
        &self.layers
    }

    /// Weight layer `l`'s plan.
    pub fn layer(&self, l: usize) -> &LayerPlan {
        &self.layers[l]
    }

    /// Whether weight layer `l` learns.
    pub fn learns(&self, l: usize) -> bool {
        self.layers[l].learns
    }

    /// For each weight layer, whether it learns.
    pub fn learning_flags(&self) -> Vec<bool> {
        self.layers.iter().map(|l| l.learns).collect()
    }

    /// The hidden weight layers that learn (their teaching signal can be compared with backprop's, SPEC §4).
    pub fn learning_hidden_layers(&self) -> Vec<usize> {
        (0..self.layers.len() - 1).filter(|&l| self.layers[l].learns).collect()
    }

    /// The feedback of hidden layer `h` (0 = the first hidden layer, fed by weight layer 0).
    pub fn feedback(&self, h: usize) -> &FeedbackPlan {
        &self.feedback[h]
    }

    /// Every hidden layer's feedback, first hidden layer first.
    pub fn feedback_plans(&self) -> &[FeedbackPlan] {
        &self.feedback
    }

    /// Whether every hidden layer's feedback is broadcast from the output error (the only kind spiking networks
    /// have: chaining would multiply spike signals, SPEC §2.2).
    pub fn broadcasts(&self) -> bool {
        self.feedback.iter().all(|f| f.reach == Reach::Broadcast)
    }

    /// The update of a minibatch of `examples` examples: momentum, batch scale and decay.
    pub fn update(&self, examples: usize) -> Update {
        Update::new(self.momentum, self.reduction.scale(examples)).with_decay(self.decay)
    }

    /// The standard deviation σ of node perturbation's noise, when the hidden layers learn by node perturbation
    /// rather than from a feedback pathway (SPEC §5.1).
    pub fn perturbation(&self) -> Option<f32> {
        self.perturbation
    }

    /// Whether the updates decay the weights (the exact carries of the LIF engine then do not apply).
    pub fn decays(&self) -> bool {
        self.decay != 0.0
    }

    /// The derivative term of backprop's ι in the alignment diagnostic: the learning layers' own (sech²(c2 v),
    /// rectified unless `learning.rectified_derivative` is false, softened by `learning.rectifier_noise_sd`).
    pub fn reference_derivative(&self) -> Derivative {
        self.reference_derivative
    }

    /// The full derivative f'(v) = c1 c2 sech²(c2 v) of the rate function, through which chained feedback (and
    /// backprop's reference) passes the layers above.
    pub fn chain_derivative(&self) -> Derivative {
        self.chain_derivative
    }
}
