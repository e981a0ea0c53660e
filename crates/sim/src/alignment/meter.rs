//! The angle between a layer's teaching signal and backprop's (SPEC §4), and its running means.
//!
//! For each example and hidden layer, the algorithm's weight update `ΔW = −ι a_preᵀ` and backprop's `−ι_BP a_preᵀ`
//! share the presynaptic factor, so the angle between the two flattened matrices is the angle between the teaching
//! signals ι and ι_BP of the layer. It is measured for every example of a minibatch (and, in LIF networks, every
//! learning step of the presentation, with backprop's signal formed from the drives through the derivative of the rate
//! fit f(v) = max(0, c1 tanh(c2 v)), eq 2.10), and averaged. Pairs where either signal is zero (no error on that
//! step, or a silent layer) have no angle and are skipped.

use ndarray::ArrayView2;
use ndarray::parallel::prelude::*;
use serde::{Deserialize, Serialize};

/// Angle in degrees between two vectors, `None` if either is zero.
pub fn angle_deg(a: &[f32], b: &[f32]) -> Option<f64> {
    angle_of(a.iter().zip(b))
}

fn angle_of<'a>(pairs: impl Iterator<Item = (&'a f32, &'a f32)>) -> Option<f64> {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in pairs {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return None;
    }
    Some((ab / (aa * bb).sqrt()).clamp(-1.0, 1.0).acos().to_degrees())
}

/// Accumulates per-example angles between a layer's teaching signal and backprop's, for every weight layer.
#[derive(Clone, Debug, Default)]
pub struct AlignmentMeter {
    sum_deg: Vec<f64>,
    samples: Vec<u64>,
    /// Each example's angle of the last [`Self::observe`] (scratch, reused).
    angles: Vec<Option<f64>>,
}

impl PartialEq for AlignmentMeter {
    /// Meters are equal when they hold the same sums (the scratch is not compared).
    fn eq(&self, other: &Self) -> bool {
        self.sum_deg == other.sum_deg && self.samples == other.samples
    }
}

impl AlignmentMeter {
    /// A meter for `layers` weight layers, empty.
    pub fn new(layers: usize) -> Self {
        Self {
            sum_deg: vec![0.0; layers],
            samples: vec![0; layers],
            angles: Vec::new(),
        }
    }

    /// Adds the angle of every example (row) between `signal` and `reference` (`[examples, cells]`) of `layer`. The
    /// examples' angles are computed in parallel and added in example order: the same sums at any thread count.
    pub fn observe(&mut self, layer: usize, signal: ArrayView2<'_, f32>, reference: ArrayView2<'_, f32>) {
        assert_eq!(signal.dim(), reference.dim(), "signals of one shape");
        signal
            .outer_iter()
            .into_par_iter()
            .zip(reference.outer_iter().into_par_iter())
            .map(|(a, b)| match (a.as_slice(), b.as_slice()) {
                (Some(a), Some(b)) => angle_of(a.iter().zip(b)),
                _ => angle_of(a.iter().zip(b.iter())),
            })
            .collect_into_vec(&mut self.angles);
        for angle in self.angles.iter().flatten() {
            self.sum_deg[layer] += angle;
            self.samples[layer] += 1;
        }
    }

    /// Mean angle (degrees) and number of samples of `layer`; `None` if nothing was measured.
    pub fn mean(&self, layer: usize) -> Option<(f64, u64)> {
        let n = self.samples[layer];
        (n > 0).then(|| (self.sum_deg[layer] / n as f64, n))
    }
}

/// One alignment measurement of one hidden layer, a row of `alignment.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlignmentPoint {
    /// Training examples seen when the measured minibatch ended.
    pub examples: u64,
    /// The hidden population (`hidden1`, …).
    pub population: String,
    /// Mean angle between the algorithm's teaching signal and backprop's, degrees (0 = the same direction, 90 =
    /// unrelated).
    pub angle_deg: f64,
    /// Example (× learning step) pairs averaged.
    pub samples: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn angles() {
        assert!((angle_deg(&[1.0, 0.0], &[0.0, 2.0]).unwrap() - 90.0).abs() < 1e-12);
        assert!(angle_deg(&[1.0, 1.0], &[2.0, 2.0]).unwrap().abs() < 1e-4);
        assert!((angle_deg(&[1.0, 0.0], &[-3.0, 0.0]).unwrap() - 180.0).abs() < 1e-12);
        assert!((angle_deg(&[1.0, 0.0], &[1.0, 1.0]).unwrap() - 45.0).abs() < 1e-9);
        assert_eq!(angle_deg(&[0.0, 0.0], &[1.0, 1.0]), None);
        let mut m = AlignmentMeter::new(2);
        m.observe(
            0,
            array![[1.0f32, 0.0], [0.0, 0.0]].view(),
            array![[1.0f32, 1.0], [1.0, 0.0]].view(),
        );
        m.observe(0, array![[0.0f32, 1.0]].view(), array![[1.0f32, 0.0]].view());
        let (mean, n) = m.mean(0).unwrap();
        assert_eq!(n, 2, "the zero row has no angle");
        assert!((mean - 67.5).abs() < 1e-9);
        assert_eq!(m.mean(1), None);
    }
}
