//! Synapses removed for good (Lillicrap et al. 2016's sparse feedback alignment, SPEC §5.3): each weight of a
//! matrix named in `init.sparsity` is removed with the given probability, independently of the others, and stays 0
//! for the whole run.
//!
//! The masks are a function of the model and its seed, drawn from a stream of their own (so that no other draw of
//! the run changes when a mask is asked for): the network's initialisation zeroes the removed weights, the engine
//! keeps them at zero after every update, and a resumed run draws the same masks again.

use crate::model::Model;
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_plasticity::Projection;

/// Added to the run's seed for the masks' stream ("SPARSE" in ASCII), so that it is none of the run's other streams.
const MASK_STREAM: u64 = 0x5350_4152_5345;

/// 0/1 multipliers of every masked matrix; `None` for a dense one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Masks {
    /// One per forward weight layer, shaped like its W `[post, pre]`.
    pub forward: Vec<Option<Array2<f32>>>,
    /// One per hidden layer, shaped like its feedback matrix B `[cells, cells above]`.
    pub feedback: Vec<Option<Array2<f32>>>,
}

impl Masks {
    /// The masks of `model` (`init.sparsity`), drawn from its seed: the forward layers in order, then the feedback
    /// matrices, each row-major.
    pub fn of(model: &Model) -> Self {
        let spec = model.sparsity();
        let sizes = model.layers();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(model.seed().wrapping_add(MASK_STREAM));
        let mut draw = |shape: (usize, usize), removed: f64| -> Option<Array2<f32>> {
            (removed > 0.0)
                .then(|| Array2::from_shape_simple_fn(shape, || f32::from(u8::from(rng.random::<f64>() >= removed))))
        };
        let forward = (0..sizes.len() - 1)
            .map(|l| draw((sizes[l + 1], sizes[l]), spec.forward.get(l).copied().unwrap_or(0.0)))
            .collect();
        let feedback = (1..sizes.len().saturating_sub(1))
            .map(|n| {
                draw(
                    (sizes[n], sizes[n + 1]),
                    spec.feedback.get(n - 1).copied().unwrap_or(0.0),
                )
            })
            .collect();
        Self { forward, feedback }
    }

    /// Whether no matrix is masked.
    pub fn is_empty(&self) -> bool {
        self.forward.iter().chain(&self.feedback).all(Option::is_none)
    }

    /// Zeroes the removed weights of forward layer `layer`, and their momentum.
    pub fn apply_forward(&self, layer: usize, proj: &mut Projection) {
        if let Some(Some(m)) = self.forward.get(layer) {
            proj.w *= m;
            proj.dw *= m;
        }
    }

    /// Zeroes the removed entries of hidden layer `hidden`'s feedback matrix `b`.
    pub fn apply_feedback(&self, hidden: usize, b: &mut Array2<f32>) {
        if let Some(Some(m)) = self.feedback.get(hidden) {
            *b *= m;
        }
    }
}
