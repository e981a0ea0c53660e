//! Stochastic Bernoulli sigmoid units with an integrating PSP (Lillicrap et al. 2016, Methods; SPEC §5).
//!
//! ```text
//! u_t = (1 − τ) u_{t−1} + τ · drive_t        // τ = 0.9 weights the new input (SPEC §5, [choice])
//! s_t ~ Bernoulli(σ(u_t)),  σ = logistic
//! ```
//!
//! Draws come from a caller-owned, seeded [`Xoshiro256PlusPlus`] stream, consumed in row-major order (example by
//! example, cell by cell), so the same seed gives the same spikes.

use ndarray::{Array2, ArrayView2, Zip};
use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Constants of the Bernoulli unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BernoulliParams {
    /// Integration constant τ ∈ (0, 1]: the weight of the new input in the PSP (paper: 0.9).
    pub tau: f32,
}

impl Default for BernoulliParams {
    fn default() -> Self {
        Self { tau: 0.9 }
    }
}

/// Logistic function σ(x) = 1 / (1 + e^−x).
#[inline(always)]
pub fn logistic(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// State of a batch of Bernoulli populations, `[examples, cells]`.
#[derive(Clone, Debug, PartialEq)]
pub struct BernoulliState {
    /// Integrated PSP u.
    pub u: Array2<f32>,
    /// Spikes s ∈ {0, 1} of this step.
    pub s: Array2<f32>,
}

impl BernoulliState {
    /// A silent population with u = 0.
    pub fn new(examples: usize, cells: usize) -> Self {
        Self {
            u: Array2::zeros((examples, cells)),
            s: Array2::zeros((examples, cells)),
        }
    }

    /// One step: integrate the drive into u, then draw each unit's spike with probability σ(u).
    pub fn step(&mut self, p: &BernoulliParams, drive: ArrayView2<'_, f32>, rng: &mut Xoshiro256PlusPlus) {
        assert_eq!(drive.dim(), self.u.dim(), "drive shape must match the population");
        let keep = 1.0 - p.tau;
        Zip::from(&mut self.u)
            .and(drive)
            .for_each(|u, &d| *u = keep * *u + p.tau * d);
        // Sequential draws in row-major order keep the stream's use independent of threads.
        for (s, &u) in self.s.iter_mut().zip(self.u.iter()) {
            let x: f32 = rng.random();
            *s = if x < logistic(u) { 1.0 } else { 0.0 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn psp_integrates_with_tau_weighting_the_new_input() {
        let p = BernoulliParams { tau: 0.9 };
        let mut st = BernoulliState::new(1, 1);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let d = Array2::from_elem((1, 1), 2.0f32);
        st.step(&p, d.view(), &mut rng);
        assert!((st.u[[0, 0]] - 1.8).abs() < 1e-6);
        st.step(&p, d.view(), &mut rng);
        assert!((st.u[[0, 0]] - (0.1 * 1.8 + 1.8)).abs() < 1e-6);
    }

    #[test]
    fn firing_probability_is_the_logistic_of_the_psp_and_seeded() {
        let p = BernoulliParams { tau: 1.0 };
        let drive = Array2::from_shape_fn((200, 50), |(_, j)| (j as f32 - 25.0) / 5.0);
        let run = |seed| {
            let mut st = BernoulliState::new(200, 50);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut counts = Array2::<f32>::zeros((1, 50));
            for _ in 0..100 {
                st.step(&p, drive.view(), &mut rng);
                counts += &st.s.sum_axis(ndarray::Axis(0)).insert_axis(ndarray::Axis(0));
            }
            counts / 20_000.0
        };
        let a = run(7);
        for j in 0..50 {
            let expect = logistic((j as f32 - 25.0) / 5.0);
            // 20 000 draws: standard error ≤ 0.0036; allow 5 of them.
            assert!(
                (a[[0, j]] - expect).abs() < 0.018,
                "cell {j}: {} vs {expect}",
                a[[0, j]]
            );
        }
        assert_eq!(a, run(7), "same seed, same spikes");
        assert_ne!(a, run(8), "another seed, other spikes");
    }
}
