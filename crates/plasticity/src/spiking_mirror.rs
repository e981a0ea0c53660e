//! The weight mirror's mirror phase in a LIF network (SPEC §6.6): the hidden layer's cells integrate noise instead of
//! their synaptic drive, the layer above computes its synaptic drive from their spikes, and the feedback matrix
//! learns the covariance of the two.
//!
//! Per phase of `steps` steps, for a minibatch of `examples` independent copies:
//! - every hidden cell integrates its own drive `ṽ ~ N(mean, sd²)`, independent per cell and copy, redrawn every
//!   `redraw` steps (the drive statistics of SPEC §2.3: N(8, 10²) every 10 ms);
//! - the layer above's synaptic drive `v = a Wᵀ + b` is computed from the hidden spikes `a` (it is not stepped);
//! - over the phase's steps, pooled over the copies, with `s² = mean_j Var(a_j)`:
//!   `B_FA ← (1 − λ) B_FA + η Cov(a, v) / s²`. With η = λ (SPEC: κ = 0.1 for both) this is
//!   `B_FA += κ (Cov(a, v)/s² − B_FA)`; `Cov(a, W a + b) = Cov(a) Wᵀ` and the cells are independent, so B_FA → Wᵀ up
//!   to the spread of the cells' variances.
//!
//! The matrix updated here is the broadcast matrix `B_BA = γ B_FA` of a network with one hidden layer: the
//! covariance term is scaled by γ.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Zip, linalg::general_mat_mul};
use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_neuron::{LifParams, LifState};

/// The constants of a spiking mirror phase.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpikingMirrorRule {
    /// η: the rate of the covariance term.
    pub eta: f32,
    /// λ: B's decay per phase.
    pub decay: f32,
    /// Steps per phase (400: 100 ms at Δt = 0.25 ms).
    pub steps: usize,
    /// Steps between redraws of the noise drive (40: 10 ms).
    pub redraw: usize,
    /// Mean of the noise drive (8).
    pub mean: f32,
    /// Standard deviation of the noise drive (10).
    pub sd: f32,
    /// γ of B_BA = γ B_FA.
    pub gamma: f32,
}

/// The buffers of the mirror phase of a hidden layer of `cells` cells feeding `above` cells, for `examples` copies.
#[derive(Clone, Debug)]
pub struct SpikingMirror {
    cells: LifState,
    noise: Array2<f32>,
    drive_above: Array2<f32>,
    sum_a: Array1<f64>,
    sum_aa: Array1<f64>,
    sum_v: Array1<f64>,
    sum_av: Array2<f32>,
}

impl SpikingMirror {
    /// Buffers for `examples` copies of `cells` hidden cells below `above` cells.
    pub fn new(examples: usize, cells: usize, above: usize) -> Self {
        Self {
            cells: LifState::new(examples, cells),
            noise: Array2::zeros((examples, cells)),
            drive_above: Array2::zeros((examples, above)),
            sum_a: Array1::zeros(cells),
            sum_aa: Array1::zeros(cells),
            sum_v: Array1::zeros(above),
            sum_av: Array2::zeros((cells, above)),
        }
    }

    /// One mirror phase (module docs) updating the broadcast matrix `b` (`[cells, above]`) from the weights
    /// `w_above` (`[above, cells]`) and biases `bias` of the layer above; noise from `rng`, drawn copy by copy, cell by
    /// cell, at every redraw. The cells start from rest.
    pub fn phase(
        &mut self,
        b: &mut Array2<f32>,
        w_above: ArrayView2<'_, f32>,
        bias: ArrayView1<'_, f32>,
        lif: &LifParams,
        rule: &SpikingMirrorRule,
        rng: &mut Xoshiro256PlusPlus,
    ) {
        assert_eq!(b.dim(), (w_above.ncols(), w_above.nrows()), "B is shaped like W_aboveᵀ");
        assert_eq!(b.dim(), self.sum_av.dim(), "the buffers' shape is B's");
        self.cells.reset();
        self.sum_a.fill(0.0);
        self.sum_aa.fill(0.0);
        self.sum_v.fill(0.0);
        self.sum_av.fill(0.0);
        let (mean, sd) = (rule.mean, rule.sd);
        for s in 0..rule.steps {
            if s % rule.redraw.max(1) == 0 {
                self.noise
                    .mapv_inplace(|_| mean + sd * rng.sample::<f32, _>(StandardNormal));
            }
            self.cells.step(lif, self.noise.view());
            let a = &self.cells.a;
            general_mat_mul(1.0, a, &w_above.t(), 0.0, &mut self.drive_above);
            self.drive_above += &bias;
            general_mat_mul(1.0, &a.t(), &self.drive_above, 1.0, &mut self.sum_av);
            for (sum, col) in self.sum_a.iter_mut().zip(a.axis_iter(Axis(1))) {
                *sum += col.iter().map(|&x| f64::from(x)).sum::<f64>();
            }
            for (sum, col) in self.sum_aa.iter_mut().zip(a.axis_iter(Axis(1))) {
                *sum += col.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>();
            }
            for (sum, col) in self.sum_v.iter_mut().zip(self.drive_above.axis_iter(Axis(1))) {
                *sum += col.iter().map(|&x| f64::from(x)).sum::<f64>();
            }
        }
        let n = (rule.steps * self.cells.a.nrows()) as f64;
        let mean_a = self.sum_a.mapv(|x| x / n);
        let var: f64 = Zip::from(&self.sum_aa)
            .and(&mean_a)
            .fold(0.0, |acc, &aa, &m| acc + (aa / n - m * m))
            / mean_a.len().max(1) as f64;
        if var <= 0.0 {
            return; // silent or saturated cells: no covariance to learn from
        }
        let mean_v = self.sum_v.mapv(|x| x / n);
        let scale = f64::from(rule.gamma * rule.eta) / var;
        let keep = 1.0 - rule.decay;
        for ((j, k), bjk) in b.indexed_iter_mut() {
            let cov = f64::from(self.sum_av[[j, k]]) / n - mean_a[j] * mean_v[k];
            *bjk = keep * *bjk + (scale * cov) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::SeedableRng;

    #[test]
    fn mirror_phases_bring_the_broadcast_matrix_to_gamma_times_the_transposed_weights() {
        let w = array![[0.5f32, -1.0, 0.25, 0.0], [2.0, 0.0, -0.5, 1.0]];
        let bias = array![0.3f32, -0.2];
        let gamma = 0.5;
        let mut b = Array2::from_elem((4, 2), 0.3f32);
        let rule = SpikingMirrorRule {
            eta: 0.1,
            decay: 0.1,
            steps: 400,
            redraw: 40,
            mean: 8.0,
            sd: 10.0,
            gamma,
        };
        let lif = LifParams::SAMADI;
        let mut mirror = SpikingMirror::new(50, 4, 2);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        for _ in 0..60 {
            mirror.phase(&mut b, w.view(), bias.view(), &lif, &rule, &mut rng);
        }
        let want = w.t().mapv(|x| gamma * x);
        let dot: f32 = b.iter().zip(&want).map(|(x, y)| x * y).sum();
        let cos = dot / (b.iter().map(|x| x * x).sum::<f32>().sqrt() * want.iter().map(|x| x * x).sum::<f32>().sqrt());
        assert!(cos > 0.98, "B = {b} against γWᵀ = {want} (cos {cos})");
    }
}
