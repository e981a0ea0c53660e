//! Appendix B initialisation (SPEC §2.3): weights uniform with the mean and spread that give each cell a drive of
//! mean v̄ and standard deviation σ_v, assuming inputs of the linearised activity `a = α v`.
//!
//! ```text
//! μ_W   = (v̄ − b̄) / (N α v̄)
//! E[W²] = (σ_v² + (v̄ − b̄)²/N) / (N α² (v̄² + σ_v²))
//! σ_W   = sqrt(E[W²] − μ_W²);   W ~ Uniform[μ_W − √3 σ_W, μ_W + √3 σ_W]        (eq A.4)
//! ```
//!
//! SPEC §2.3 derives this clean form of the paper's garbled eq A.3; for N = 784 it gives μ_W = 0.01750,
//! σ_W = 0.4249.

use ndarray::Array2;
use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use thiserror::Error;

/// Initialisation that cannot be realised.
#[derive(Debug, Error, PartialEq)]
pub enum InitError {
    /// The requested statistics need a negative weight variance.
    #[error("fan-in {fan_in}: the requested drive statistics need E[W²] = {second_moment} < μ_W² = {mean_sq}")]
    NegativeVariance {
        /// Fan-in N of the layer.
        fan_in: usize,
        /// `E[W²]` from the formula.
        second_moment: f64,
        /// μ_W².
        mean_sq: f64,
    },
}

/// Target drive statistics and the linear approximation of the activation (Appendix B).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InitParams {
    /// Desired mean drive v̄ (paper: 8).
    pub v_mean: f64,
    /// Desired standard deviation of the drive σ_v (paper: 10).
    pub v_std: f64,
    /// Initial bias b̄ (paper: 0.8).
    pub b_mean: f64,
    /// Slope α of the linearised activation a = α v (paper: c1 c2 = 0.0656).
    pub alpha: f64,
}

impl InitParams {
    /// The paper's values (Appendix B).
    pub const SAMADI: Self = Self {
        v_mean: 8.0,
        v_std: 10.0,
        b_mean: 0.8,
        alpha: 0.82 * 0.08,
    };

    /// Mean and standard deviation of the weights of a layer with fan-in `n`.
    pub fn weight_moments(&self, n: usize) -> Result<WeightMoments, InitError> {
        let nf = n as f64;
        let d = self.v_mean - self.b_mean;
        let mean = d / (nf * self.alpha * self.v_mean);
        let second =
            (self.v_std.powi(2) + d * d / nf) / (nf * self.alpha.powi(2) * (self.v_mean.powi(2) + self.v_std.powi(2)));
        let var = second - mean * mean;
        if var.is_nan() || var < 0.0 {
            return Err(InitError::NegativeVariance {
                fan_in: n,
                second_moment: second,
                mean_sq: mean * mean,
            });
        }
        Ok(WeightMoments { mean, std: var.sqrt() })
    }

    /// A `[rows, cols]` matrix of weights drawn uniformly with the moments for fan-in `fan_in`, row-major draws.
    pub fn uniform_matrix(
        &self,
        rows: usize,
        cols: usize,
        fan_in: usize,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Result<Array2<f32>, InitError> {
        let m = self.weight_moments(fan_in)?;
        let (lo, hi) = m.uniform_bounds();
        let (lo, hi) = (lo as f32, hi as f32);
        Ok(Array2::from_shape_simple_fn((rows, cols), || {
            if hi > lo { rng.random_range(lo..hi) } else { lo }
        }))
    }
}

impl Default for InitParams {
    fn default() -> Self {
        Self::SAMADI
    }
}

/// Mean and standard deviation of a layer's weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeightMoments {
    /// μ_W.
    pub mean: f64,
    /// σ_W.
    pub std: f64,
}

impl WeightMoments {
    /// Bounds of the uniform distribution with these moments: μ ± √3 σ (eq A.4).
    pub fn uniform_bounds(&self) -> (f64, f64) {
        let half = 3f64.sqrt() * self.std;
        (self.mean - half, self.mean + half)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_numbers() {
        let p = InitParams::SAMADI;
        let m = p.weight_moments(784).unwrap();
        assert!((m.mean - 0.01750).abs() < 5e-6, "{m:?}");
        assert!((m.std - 0.4249).abs() < 5e-5, "{m:?}");
        let m = p.weight_moments(1000).unwrap();
        assert!((m.mean - 0.01372).abs() < 5e-6, "{m:?}");
        assert!((m.std - 0.3763).abs() < 5e-5, "{m:?}");
    }

    #[test]
    fn impossible_statistics_are_an_error() {
        // A bias far from the mean drive with almost no spread cannot be matched by one weight.
        let p = InitParams {
            v_std: 1.0,
            b_mean: -100.0,
            ..InitParams::SAMADI
        };
        assert!(matches!(
            p.weight_moments(1),
            Err(InitError::NegativeVariance { fan_in: 1, .. })
        ));
    }
}
