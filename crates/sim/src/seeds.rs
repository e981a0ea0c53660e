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
    /// Generated datasets (the teacher task of SPEC §3).
    pub data: Xoshiro256PlusPlus,
    /// Random numbers drawn during presentations by engines that need them ([`crate::engine::Presentation`]).
    /// Appended after the others, so that their values do not change.
    pub noise: Xoshiro256PlusPlus,
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
            data: next(),
            noise: next(),
        }
    }
}

/// The seed of trial `trial` of a run with seed `seed`: `seed` itself for trial 0, else the trial-th output of a
/// generator seeded from `seed` and moved 2^192 draws away, so trials of different seeds do not coincide.
pub fn trial_seed(seed: u64, trial: usize) -> u64 {
    use rand::Rng;
    if trial == 0 {
        return seed;
    }
    let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
    g.long_jump();
    let mut out = 0;
    for _ in 0..trial {
        out = g.next_u64();
    }
    out
}
