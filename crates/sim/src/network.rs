//! The network's synapses: forward projections W_(n), the feedback-alignment matrices B_FA(n) and the broadcast
//! matrices B_BA(n) made from them.
//!
//! Populations (the cells' state) live in [`crate::simulator`]; this struct holds only what persists across
//! presentations and is shared by all the examples of a minibatch.

use crate::model::Model;
use crate::seeds::Streams;
use ndarray::{Array1, Array2};
use snn_plasticity::{InitError, Projection, broadcast_matrices, feedback_alignment_matrices};

/// Weights and feedback of a layered network.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Network {
    /// `projections[l]` maps layer l to layer l + 1 (0 = input): W shape `[s_(l+1), s_l]`.
    pub projections: Vec<Projection>,
    /// `feedback[h]` = B_FA of hidden layer h (0 = first hidden), shape `[s_h, s_(h+1)]`: the fixed random feedback
    /// of feedback alignment (eq 2.6, A.5).
    pub feedback: Vec<Array2<f32>>,
    /// `broadcast[h]` = B_BA of hidden layer h (0 = first hidden), shape `[s_hidden, s_out]` (eq A.6).
    pub broadcast: Vec<Array2<f32>>,
}

impl Network {
    /// Initialises weights (Appendix B; biases b̄) from `streams.weights`, then draws B_FA from `streams.feedback`
    /// and forms B_BA = γ^D B_FA ⋯ (SPEC §2.3).
    pub fn init(model: &Model, streams: &mut Streams) -> Result<Self, InitError> {
        let sizes = model.layers();
        let projections = sizes
            .windows(2)
            .map(|w| {
                let (pre, post) = (w[0], w[1]);
                let weights = model.init.uniform_matrix(post, pre, pre, &mut streams.weights)?;
                Ok(Projection::new(
                    weights,
                    Array1::from_elem(post, model.init.b_mean as f32),
                ))
            })
            .collect::<Result<Vec<_>, InitError>>()?;
        let feedback = feedback_alignment_matrices(sizes, &model.init, &mut streams.feedback)?;
        let broadcast = broadcast_matrices(&feedback, model.file.learning.gamma);
        Ok(Self {
            projections,
            feedback,
            broadcast,
        })
    }

    /// Name and position of the first weight or bias that is NaN or infinite, if any.
    pub fn first_non_finite(&self) -> Option<usize> {
        self.projections.iter().position(|p| !p.is_finite())
    }
}
