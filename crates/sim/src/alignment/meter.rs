//! The angle between a layer's teaching signal and backprop's (SPEC §4), and its running means.
//!
//! For each example and hidden layer, the algorithm's weight update `ΔW = −ι a_preᵀ` and backprop's `−ι_BP a_preᵀ`
//! share the presynaptic factor, so the angle between the two flattened matrices is the angle between the teaching
//! signals ι and ι_BP of the layer. It is measured for every example of a minibatch (and, in LIF networks, every
//! learning step of the presentation, with backprop's signal formed from the drives through the derivative of the rate
//! fit f(v) = max(0, c1 tanh(c2 v)), eq 2.10), and averaged. Pairs where either signal is zero (no error on that
//! step, or a silent layer) have no angle and are skipped.
//!
//! Beside the signed angle θ (0–180°) the meter keeps its spread and the folded angle θ_fold = min(θ, 180° − θ)
//! that Lillicrap et al. 2016 plot (SPEC §4); [`weight_angles`] gives the angles of the weights themselves.

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
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AlignmentMeter {
    sum_deg: Vec<f64>,
    sum_sq_deg: Vec<f64>,
    sum_folded_deg: Vec<f64>,
    samples: Vec<u64>,
    /// Each example's angle of the last [`Self::observe`] (scratch, reused).
    #[serde(skip)]
    angles: Vec<Option<f64>>,
}

impl PartialEq for AlignmentMeter {
    /// Meters are equal when they hold the same sums (the scratch is not compared).
    fn eq(&self, other: &Self) -> bool {
        self.sum_deg == other.sum_deg
            && self.sum_sq_deg == other.sum_sq_deg
            && self.sum_folded_deg == other.sum_folded_deg
            && self.samples == other.samples
    }
}

impl AlignmentMeter {
    /// A meter for `layers` weight layers, empty.
    pub fn new(layers: usize) -> Self {
        Self {
            sum_deg: vec![0.0; layers],
            sum_sq_deg: vec![0.0; layers],
            sum_folded_deg: vec![0.0; layers],
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
        for &angle in self.angles.iter().flatten() {
            self.sum_deg[layer] += angle;
            self.sum_sq_deg[layer] += angle * angle;
            self.sum_folded_deg[layer] += angle.min(180.0 - angle);
            self.samples[layer] += 1;
        }
    }

    /// Mean angle (degrees) and number of samples of `layer`; `None` if nothing was measured.
    pub fn mean(&self, layer: usize) -> Option<(f64, u64)> {
        self.stats(layer).map(|s| (s.mean_deg, s.samples))
    }

    /// The angles of `layer` measured so far; `None` if nothing was measured.
    pub fn stats(&self, layer: usize) -> Option<AngleStats> {
        let n = self.samples[layer];
        (n > 0).then(|| {
            let mean = self.sum_deg[layer] / n as f64;
            let var = match n {
                1 => 0.0,
                _ => ((self.sum_sq_deg[layer] - n as f64 * mean * mean) / (n - 1) as f64).max(0.0),
            };
            AngleStats {
                mean_deg: mean,
                sd_deg: var.sqrt(),
                folded_deg: self.sum_folded_deg[layer] / n as f64,
                samples: n,
            }
        })
    }
}

/// What an [`AlignmentMeter`] measured for one layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AngleStats {
    /// Mean signed angle θ, degrees.
    pub mean_deg: f64,
    /// Sample standard deviation of θ across the examples (0 for one sample).
    pub sd_deg: f64,
    /// Mean folded angle θ_fold = min(θ, 180° − θ).
    pub folded_deg: f64,
    /// Examples (× learning steps) measured.
    pub samples: u64,
}

/// The angles of a hidden layer's feedback matrix `b` (`[cells, cells above]`) to the forward weights `w_above`
/// (`[cells above, cells]`) of the layer above (SPEC §4): the weight angle θ(Wᵀ, B) of the flattened matrices, and
/// the mean over the hidden cells j of the per-unit angle θ(W[:, j], B[j, :]) (Lillicrap et al. 2016, Fig 5a; cells
/// without an angle are skipped). `None` where the shapes differ (a broadcast pathway below the top hidden layer).
pub fn weight_angles(w_above: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>) -> Option<(f64, f64)> {
    if b.dim() != (w_above.ncols(), w_above.nrows()) {
        return None;
    }
    let whole = angle_of(w_above.t().iter().zip(b.iter())).unwrap_or(f64::NAN);
    let units: Vec<f64> = (0..b.nrows())
        .filter_map(|j| angle_of(w_above.column(j).iter().zip(b.row(j).iter())))
        .collect();
    let per_unit = match units.len() {
        0 => f64::NAN,
        n => units.iter().sum::<f64>() / n as f64,
    };
    Some((whole, per_unit))
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
    /// Sample standard deviation of the angle across those pairs, degrees (NaN in files written before it was
    /// recorded).
    #[serde(default = "nan")]
    pub angle_sd_deg: f64,
    /// Mean folded angle min(θ, 180° − θ), degrees (SPEC §4: Lillicrap et al. 2016 plot this one).
    #[serde(default = "nan")]
    pub folded_deg: f64,
    /// θ(Wᵀ, B): the angle between the layer's feedback matrix and the transposed forward weights of the layer
    /// above, degrees (SPEC §4); NaN without a matrix of that shape (backprop, broadcast below the top).
    #[serde(default = "nan")]
    pub weight_angle_deg: f64,
    /// The mean over the layer's cells of the per-unit angle θ(W[:, j], B[j, :]) (Lillicrap et al. 2016, Fig 5a),
    /// degrees; NaN where the weight angle is.
    #[serde(default = "nan")]
    pub unit_angle_deg: f64,
    /// The angle between the layer's feedback signal and backprop's on the first training image, learning off
    /// (`protocol.alignment_probe`; Akrout et al. 2019's reference code logs this one, SPEC §6.4), degrees; NaN
    /// when not measured.
    #[serde(default = "nan")]
    pub probe_first_deg: f64,
    /// The mean of that angle over the first `protocol.alignment_probe` training images, degrees; NaN when not
    /// measured.
    #[serde(default = "nan")]
    pub probe_mean_deg: f64,
}

fn nan() -> f64 {
    f64::NAN
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
        let s = m.stats(0).unwrap();
        assert!(
            (s.sd_deg - (2.0f64 * 22.5 * 22.5).sqrt()).abs() < 1e-9,
            "angles 45 and 90: sd {}",
            s.sd_deg
        );
        m.observe(1, array![[1.0f32, 0.0]].view(), array![[-1.0f32, -1.0]].view());
        let s = m.stats(1).unwrap();
        assert!((s.mean_deg - 135.0).abs() < 1e-9 && (s.folded_deg - 45.0).abs() < 1e-9);
    }

    #[test]
    fn weight_angles_of_matrices_and_of_units() {
        // W above [2 cells above, 3 cells], B [3, 2].
        let w = array![[1.0f32, 0.0, 2.0], [0.0, 1.0, 0.0]];
        let (whole, unit) = weight_angles(w.view(), w.t()).unwrap();
        assert!(whole.abs() < 1e-4 && unit.abs() < 1e-4, "B = Wᵀ: {whole}, {unit}");
        // Unit 0: (1, 0) vs (0, 1) is 90°; unit 1: (0, 1) vs (0, 1) is 0°; unit 2: (2, 0) vs (−2, 0) is 180°.
        let b = array![[0.0f32, 1.0], [0.0, 1.0], [-2.0, 0.0]];
        let (_, unit) = weight_angles(w.view(), b.view()).unwrap();
        assert!((unit - 90.0).abs() < 1e-9, "mean of 90, 0 and 180: {unit}");
        let (whole, _) = weight_angles(w.view(), b.view()).unwrap();
        let want = angle_deg(&[1.0, 0.0, 0.0, 1.0, 2.0, 0.0], &[0.0, 1.0, 0.0, 1.0, -2.0, 0.0]).unwrap();
        assert!((whole - want).abs() < 1e-9);
        assert_eq!(weight_angles(w.view(), array![[1.0f32, 0.0, 0.0]].view()), None);
    }
}
