//! Stochastic Bernoulli sigmoid units with an integrating PSP (Lillicrap et al. 2016, Methods; SPEC §5).
//!
//! ```text
//! u_t = (1 − τ) u_{t−1} + τ · drive_t        // τ = 0.9 weights the new input (SPEC §5, [choice])
//! s_t ~ Bernoulli(σ(u_t)),  σ = logistic
//! ```
//!
//! Draws come from a caller-owned, seeded [`Xoshiro256PlusPlus`] stream, consumed in row-major order (example by
//! example, cell by cell), so the same seed gives the same spikes.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Zip};
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

/// Logistic function σ(x) = 1 / (1 + e^−x), branch-free so that a loop over a layer vectorises: with
/// e = e^(−|x|) from [`crate::rate::exp_nonpositive`], σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) below (libm's `expf`
/// with `tanhf` took a tenth of a stochastic network's step). Relative error below 1e-6 (tested against f64).
#[inline(always)]
pub fn logistic(x: f32) -> f32 {
    let e = crate::rate::exp_nonpositive(-x.abs());
    let d = 1.0 + e;
    if x >= 0.0 { 1.0 / d } else { e / d }
}

/// σ′(u) = σ(u) (1 − σ(u)), the derivative of the logistic function (Ψ_h of Lillicrap et al.).
#[inline(always)]
pub fn logistic_slope(u: f32) -> f32 {
    let p = logistic(u);
    p * (1.0 - p)
}

/// φ_δ, the sigmoidal function centred on 0 through which a feedback unit signals its potential δ (SPEC §5.4),
/// with the branch-free [`crate::rate::tanh`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sigmoidal {
    /// tanh(z/2) = 2σ(z) − 1.
    TanhHalf,
    /// σ(z) − ½.
    SigmoidHalf,
    /// tanh(z).
    Tanh,
}

impl Sigmoidal {
    /// φ(z).
    #[inline(always)]
    pub fn apply(self, z: f32) -> f32 {
        match self {
            Sigmoidal::TanhHalf => crate::rate::tanh(0.5 * z),
            Sigmoidal::SigmoidHalf => logistic(z) - 0.5,
            Sigmoidal::Tanh => crate::rate::tanh(z),
        }
    }
}

/// `u = (1 − τ) u + τ · drive`, elementwise: the integration of a PSP (or a feedback unit's potential) with τ
/// weighting the new input.
pub fn integrate(mut u: ArrayViewMut2<'_, f32>, drive: ArrayView2<'_, f32>, tau: f32) {
    let keep = 1.0 - tau;
    Zip::from(&mut u).and(drive).for_each(|u, &d| *u = keep * *u + tau * d);
}

/// `s ~ Bernoulli(σ(u))`: one uniform draw per unit, row-major (example by example, cell by cell), so that the use
/// of the stream does not depend on threads.
pub fn fire(s: ArrayViewMut2<'_, f32>, u: ArrayView2<'_, f32>, rng: &mut Xoshiro256PlusPlus) {
    fire_with(s, u, rng, logistic);
}

/// `s ~ Bernoulli(min(x, max))`: input units spiking with the probability of their pixel value (SPEC §5.4),
/// drawn row-major as [`fire`].
pub fn fire_inputs(s: ArrayViewMut2<'_, f32>, x: ArrayView2<'_, f32>, max: f32, rng: &mut Xoshiro256PlusPlus) {
    fire_with(s, x, rng, |x| x.min(max));
}

fn fire_with(
    mut s: ArrayViewMut2<'_, f32>,
    x: ArrayView2<'_, f32>,
    rng: &mut Xoshiro256PlusPlus,
    probability: impl Fn(f32) -> f32,
) {
    assert_eq!(s.dim(), x.dim(), "spikes and their source must have one shape");
    for (s, x) in s.rows_mut().into_iter().zip(x.rows()) {
        for (s, &x) in s.into_iter().zip(x) {
            let r: f32 = rng.random();
            *s = if r < probability(x) { 1.0 } else { 0.0 };
        }
    }
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
        integrate(self.u.view_mut(), drive, p.tau);
        fire(self.s.view_mut(), self.u.view(), rng);
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
    fn feedback_signals_are_sigmoids_centred_on_zero() {
        for f in [Sigmoidal::TanhHalf, Sigmoidal::SigmoidHalf, Sigmoidal::Tanh] {
            assert_eq!(f.apply(0.0), 0.0);
            assert!((f.apply(1.3) + f.apply(-1.3)).abs() < 1e-6, "{f:?} is odd");
        }
        assert!((Sigmoidal::TanhHalf.apply(0.7) - (2.0 * logistic(0.7) - 1.0)).abs() < 1e-6);
        assert!((Sigmoidal::SigmoidHalf.apply(2.0) - 0.5 * Sigmoidal::TanhHalf.apply(2.0)).abs() < 1e-6);
        assert!((logistic_slope(0.0) - 0.25).abs() < 1e-7);
    }

    #[test]
    fn logistic_and_the_feedback_signals_match_f64_over_the_f32_range() {
        let mut worst = [0.0f64; 3];
        for i in -200_000..=200_000 {
            let x = i as f32 * 5e-4; // −100 ..= 100
            let xd = f64::from(x);
            let sigma = 1.0 / (1.0 + (-xd).exp());
            // Relative error, but σ(x) below 1e-30 (x < −69) may come out 0: exp_nonpositive flushes e^x to 0 below
            // x = −87, and a spike probability of 1e-30 is 0 to a uniform draw in f32.
            let rel = |got: f32, want: f64| {
                if want.abs() < 1e-30 {
                    (f64::from(got) - want).abs() / 1e-30
                } else {
                    (f64::from(got) - want).abs() / want.abs()
                }
            };
            worst[0] = worst[0].max(rel(logistic(x), sigma));
            worst[1] = worst[1].max(rel(Sigmoidal::TanhHalf.apply(x), (xd / 2.0).tanh()));
            worst[2] = worst[2].max(rel(Sigmoidal::Tanh.apply(x), xd.tanh()));
        }
        assert!(worst.iter().all(|&w| w < 1e-6), "relative errors {worst:?}");
        assert_eq!(logistic(-200.0), 0.0);
        assert_eq!(logistic(200.0), 1.0);
        assert_eq!(logistic(0.0), 0.5);
    }

    #[test]
    fn input_units_spike_with_their_pixel_value_capped() {
        let x = Array2::from_shape_fn((400, 3), |(_, j)| [0.0f32, 0.3, 1.0][j]);
        let mut s = Array2::zeros((400, 3));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut count = [0.0f32; 3];
        for _ in 0..100 {
            fire_inputs(s.view_mut(), x.view(), 0.95, &mut rng);
            for (j, c) in count.iter_mut().enumerate() {
                *c += s.column(j).sum();
            }
        }
        // 40 000 draws each: standard error ≤ 0.0023.
        assert_eq!(count[0], 0.0, "a black pixel never spikes");
        assert!((count[1] / 40_000.0 - 0.3).abs() < 0.012);
        assert!((count[2] / 40_000.0 - 0.95).abs() < 0.006, "capped at 0.95");
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
