//! Graded (nonspiking) units of Lillicrap et al. 2016 (SPEC §5): a unit's activity is a fixed function of its drive,
//! `a = f(v)`, one value per example. The description is all there is; the drives and activities of a network's
//! units belong to the simulator.
//!
//! The learning rules of SPEC §5.1–5.5 need the slope f'(v), and each of these functions gives it from the activity
//! alone, as the paper writes it: `1` (linear), `1 − h²` (tanh, SPEC §5.2), `h (1 − h)` (logistic sigmoid, SPEC §5.3).

use serde::{Deserialize, Serialize};

/// The activation function of a layer of graded units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// `a = v` (SPEC §5.1, and every output layer of a regression task).
    Linear,
    /// `a = tanh v` (SPEC §5.2, §5.5).
    Tanh,
    /// The logistic sigmoid `a = 1 / (1 + e^−v)` (SPEC §5.3).
    Sigmoid,
}

impl Activation {
    /// The activity of a unit with drive `v`.
    #[inline]
    pub fn apply(self, v: f32) -> f32 {
        match self {
            Activation::Linear => v,
            Activation::Tanh => v.tanh(),
            Activation::Sigmoid => 1.0 / (1.0 + (-v).exp()),
        }
    }

    /// The slope f'(v) of a unit whose activity is `a = f(v)`, computed from `a`.
    #[inline]
    pub fn slope_at(self, a: f32) -> f32 {
        match self {
            Activation::Linear => 1.0,
            Activation::Tanh => 1.0 - a * a,
            Activation::Sigmoid => a * (1.0 - a),
        }
    }

    /// Whether f' is 1 everywhere, so that a signal passes the layer unchanged.
    pub fn is_linear(self) -> bool {
        self == Activation::Linear
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slopes_from_the_activity_match_finite_differences() {
        for f in [Activation::Linear, Activation::Tanh, Activation::Sigmoid] {
            for v in [-3.0f64, -0.7, 0.0, 0.4, 2.5] {
                let h = 1e-3f64;
                let exact = |v: f64| f64::from(f.apply(v as f32));
                let numeric = (exact(v + h) - exact(v - h)) / (2.0 * h);
                let slope = f64::from(f.slope_at(f.apply(v as f32)));
                assert!((slope - numeric).abs() < 2e-3, "{f:?} at {v}: {slope} vs {numeric}");
            }
        }
        assert_eq!(Activation::Sigmoid.apply(0.0), 0.5);
        assert_eq!(Activation::Tanh.apply(0.0), 0.0);
    }
}
