//! The weight mirror's mirror phase in a LIF network (SPEC §6.6): the hidden layer's cells integrate noise instead of
//! their synaptic drive, the layer above computes its synaptic drive from their spikes, and the feedback matrix
//! learns the covariance of the two.
//!
//! Per phase of `steps` steps, for a minibatch of `examples` independent copies:
//! - every hidden cell integrates its own drive `ṽ ~ N(mean, sd²)`, independent per cell and copy, redrawn every
//!   `redraw` steps (the drive statistics of SPEC §2.3: N(8, 10²) every 10 ms);
//! - the layer above's synaptic drive `v = a Wᵀ + b` is computed from the hidden spikes `a` (it is not stepped);
//! - the covariances within each step across the copies (every step's mean over the copies removed), pooled over
//!   the phase's steps, with `s² = mean_j Var(a_j)` pooled alike: `B_FA ← (1 − λ) B_FA + η Cov(a, v) / s²`.
//!   Centring each step on its own mean removes what all copies share at that step: the cells start every phase
//!   from rest and cross threshold together in its first milliseconds, a common onset that pooled over the phase
//!   would add `c 1 (W 1)ᵀ` to the estimate (in a 1000-cell layer whose output weights have row sums far from 0, a
//!   bias of tens of degrees). With η = λ (SPEC: κ = 0.1 for both) this is
//!   `B_FA += κ (Cov(a, v)/s² − B_FA)`; `Cov(a, W a + b) = Cov(a) Wᵀ` and the cells are independent, so B_FA → Wᵀ up
//!   to the spread of the cells' variances.
//!
//! The matrix updated here is the broadcast matrix `B_BA = γ B_FA` of a network with one hidden layer: the
//! covariance term is scaled by γ.

use ndarray::{Array2, ArrayView1, ArrayView2, Axis, Zip, linalg::general_mat_mul};
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
    /// This step's activity less its mean over the copies.
    centred: Array2<f32>,
    drive_above: Array2<f32>,
    sum_aa: f64,
    sum_av: Array2<f32>,
}

impl SpikingMirror {
    /// Buffers for `examples` copies of `cells` hidden cells below `above` cells.
    pub fn new(examples: usize, cells: usize, above: usize) -> Self {
        Self {
            cells: LifState::new(examples, cells),
            noise: Array2::zeros((examples, cells)),
            centred: Array2::zeros((examples, cells)),
            drive_above: Array2::zeros((examples, above)),
            sum_aa: 0.0,
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
        self.sum_aa = 0.0;
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
            centre_rows(a.view(), &mut self.centred);
            let v_mean = self.drive_above.mean_axis(Axis(0)).expect("at least one copy");
            self.drive_above -= &v_mean;
            general_mat_mul(1.0, &self.centred.t(), &self.drive_above, 1.0, &mut self.sum_av);
            self.sum_aa += self.centred.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>();
        }
        let n = (rule.steps * self.cells.a.nrows()) as f64;
        let var = self.sum_aa / n / self.centred.ncols().max(1) as f64;
        if var <= 0.0 {
            return; // silent or saturated cells: no covariance to learn from
        }
        let scale = f64::from(rule.gamma * rule.eta) / var;
        let keep = 1.0 - rule.decay;
        Zip::from(b)
            .and(&self.sum_av)
            .for_each(|b, &sum| *b = keep * *b + (scale * f64::from(sum) / n) as f32);
    }
}

/// `out = a` less the mean of its rows (the mean over the copies of each cell).
fn centre_rows(a: ArrayView2<'_, f32>, out: &mut Array2<f32>) {
    let mean = a.mean_axis(Axis(0)).expect("at least one copy");
    Zip::from(out.rows_mut())
        .and(a.rows())
        .for_each(|mut o, r| Zip::from(&mut o).and(&r).and(&mean).for_each(|o, &x, &m| *o = x - m));
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};
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

    /// Output weights whose rows sum far from 0 (as trained ones do): the cells' common onset at the start of each
    /// phase must not leak into B, which only centring each step on its own mean prevents (pooled over the phase,
    /// the estimate stays tens of degrees away).
    #[test]
    fn a_common_onset_does_not_bias_the_estimate() {
        let (cells, above) = (300, 4);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let w = Array2::from_shape_simple_fn((above, cells), || rng.random::<f32>() - 0.8);
        let bias = Array1::zeros(above);
        let mut b = Array2::zeros((cells, above));
        let rule = SpikingMirrorRule {
            eta: 0.2,
            decay: 0.2,
            steps: 400,
            redraw: 40,
            mean: 8.0,
            sd: 10.0,
            gamma: 1.0,
        };
        let mut mirror = SpikingMirror::new(50, cells, above);
        for _ in 0..40 {
            mirror.phase(&mut b, w.view(), bias.view(), &LifParams::SAMADI, &rule, &mut rng);
        }
        let wt = w.t();
        let dot: f32 = b.iter().zip(wt.iter()).map(|(x, y)| x * y).sum();
        let norm = |m: ArrayView2<'_, f32>| m.iter().map(|x| x * x).sum::<f32>().sqrt();
        let angle = (dot / (norm(b.view()) * norm(wt))).acos().to_degrees();
        assert!(angle < 10.0, "angle between B and Wᵀ: {angle}°");
    }
}
