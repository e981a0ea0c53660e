//! Input preprocessing of Samadi et al. Appendix B (SPEC §2.3): each feature standardised over the training set to
//! mean 0.64 and standard deviation 0.8; features with zero variance are set to 0.64.

use ndarray::{Array1, Array2, ArrayView2, Axis};

/// Per-feature affine map fitted on a training set: `x' = target_mean + target_std (x − mean) / std`.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardiser {
    /// Mean of each feature over the training set.
    pub mean: Array1<f64>,
    /// Standard deviation of each feature (population, ddof = 0); 0 for constant features.
    pub std: Array1<f64>,
    /// Mean after the map (0.64).
    pub target_mean: f64,
    /// Standard deviation after the map (0.8).
    pub target_std: f64,
}

impl Standardiser {
    /// The paper's targets: mean 0.64, standard deviation 0.8.
    pub const PAPER_MEAN: f64 = 0.64;
    /// See [`Self::PAPER_MEAN`].
    pub const PAPER_STD: f64 = 0.8;

    /// Fits the per-feature statistics on `train` (`[examples, features]`: pixels, or graded features).
    pub fn fit<T: Copy>(train: ArrayView2<'_, T>, target_mean: f64, target_std: f64) -> Self
    where
        f64: From<T>,
    {
        let x = train.mapv(f64::from);
        let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(train.ncols()));
        let std = x.std_axis(Axis(0), 0.0);
        Self {
            mean,
            std,
            target_mean,
            target_std,
        }
    }

    /// Fits one mean and one standard deviation over every value of `train` (all features pooled) and uses them for
    /// every feature: the map keeps the features' relative scale.
    pub fn fit_global<T: Copy>(train: ArrayView2<'_, T>, target_mean: f64, target_std: f64) -> Self
    where
        f64: From<T>,
    {
        let n = train.len().max(1) as f64;
        let mean = train.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = train.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n;
        Self {
            mean: Array1::from_elem(train.ncols(), mean),
            std: Array1::from_elem(train.ncols(), var.sqrt()),
            target_mean,
            target_std,
        }
    }

    /// Applies the map to `x`, giving f32 features ready for the simulator.
    pub fn apply<T: Copy>(&self, x: ArrayView2<'_, T>) -> Array2<f32>
    where
        f64: From<T>,
    {
        let mut out = Array2::<f32>::zeros(x.dim());
        for (mut row, xr) in out.rows_mut().into_iter().zip(x.rows()) {
            for (j, (o, &v)) in row.iter_mut().zip(xr.iter()).enumerate() {
                let s = self.std[j];
                *o = if s > 0.0 {
                    (self.target_mean + self.target_std * (f64::from(v) - self.mean[j]) / s) as f32
                } else {
                    self.target_mean as f32
                };
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// The global map gives all values together the target mean and spread, and keeps a constant feature's offset
    /// from the others (it is not set to the target mean).
    #[test]
    fn the_global_map_standardises_all_values_together() {
        let train = array![[0u8, 10, 200], [0, 30, 100], [0, 20, 150]];
        let s = Standardiser::fit_global(train.view(), 0.64, 0.8);
        let out = s.apply(train.view()).mapv(f64::from);
        let n = out.len() as f64;
        let mean = out.sum() / n;
        let sd = (out.mapv(|x| (x - mean).powi(2)).sum() / n).sqrt();
        assert!((mean - 0.64).abs() < 1e-6 && (sd - 0.8).abs() < 1e-6, "{mean} {sd}");
        assert!(out[[0, 0]] < out[[0, 1]] && out[[0, 1]] < out[[0, 2]]);
        assert!((out[[0, 0]] - out[[1, 0]]).abs() < 1e-12 && out[[0, 0]] < 0.64);
    }

    #[test]
    fn standardises_to_the_targets_and_pins_constant_features() {
        let train = array![[0u8, 5, 10], [255, 5, 20], [100, 5, 30]];
        let s = Standardiser::fit(train.view(), 0.64, 0.8);
        let x = s.apply(train.view());
        for j in [0, 2] {
            let col = x.column(j).mapv(f64::from);
            assert!((col.mean().unwrap() - 0.64).abs() < 1e-6);
            assert!((col.std(0.0) - 0.8).abs() < 1e-6);
        }
        assert!(x.column(1).iter().all(|&v| v == 0.64f32));
    }
}
