//! Every random draw of a run comes from one seed in the model file, split into independent xoshiro streams (one
//! `jump()` = 2^128 draws apart) so that, e.g., changing the data order never changes the initial weights.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The random streams of a run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Streams {
    /// Forward weights W (Appendix B).
    pub weights: Xoshiro256PlusPlus,
    /// Feedback matrices B_FA (eq A.5).
    pub feedback: Xoshiro256PlusPlus,
    /// Order of the training examples, shuffled every epoch.
    pub order: Xoshiro256PlusPlus,
    /// The random test images of each learning-curve point.
    pub curve: Xoshiro256PlusPlus,
}

impl Streams {
    /// The streams of seed `seed`.
    pub fn from_seed(seed: u64) -> Self {
        let mut base = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut next = || {
            let s = base.clone();
            base.jump();
            s
        };
        Self {
            weights: next(),
            feedback: next(),
            order: next(),
            curve: next(),
        }
    }
}
