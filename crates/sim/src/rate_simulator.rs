//! Nonspiking networks (Samadi §3.1, §3.3; SPEC §2.5): one step per example, the same synapses, initialisation,
//! learning rates and momentum as the LIF networks, and the four algorithms of SPEC §2.2.
//!
//! Per minibatch:
//! 1. forward, layer by layer: `v = a_below Wᵀ + b`, `a = f(v) = max(0, c1 tanh(c2 v))` (eq 2.10);
//! 2. answer: the most active output cell (`None` on a tie, as in the LIF networks);
//! 3. when learning, with `e = a_out − y*` (one-hot y*): δ = e at the output; for hidden layers δ from the algorithm
//!    (BP: `W_(n+1)`, FA: `B_FA(n)` chained through f'; BA, DF: `B_BA(n) e`), `ι = η sech²(c2 v) δ` (DF: `η δ`), all
//!    signals formed before any weight changes; then the momentum update of every learning projection
//!    (`ΔW ← μ ΔW − s ιᵀ a_pre`, SPEC §2.2).
//!
//! With BP every layer's ι is exactly `η / (c1 c2)` times the gradient of `½ Σ e²` with respect to its drive, so BP is
//! gradient descent with momentum at learning rate `η / (c1 c2)` per layer (see `snn_plasticity::chain`).

use crate::alignment::AlignmentMeter;
use crate::model::{Algorithm, Model};
use crate::network::Network;
use crate::simulator::{Answers, NonFiniteDrive, first_non_finite_row, one_hot_into, strict_argmax};
use ndarray::{Array2, ArrayView2, Zip, linalg::general_mat_mul, s};
use snn_neuron::ColumnBlocks;
use snn_neuron::rate::tanh_fit;
use snn_plasticity::{Derivative, chain_delta_into, teaching_signal_into};

/// Buffers of a nonspiking network for minibatches of a fixed size, reused across minibatches.
pub struct RateSimulator {
    model: Model,
    examples: usize,
    c1: f32,
    drive: Vec<Array2<f32>>,
    act: Vec<Array2<f32>>,
    target: Array2<f32>,
    error: Array2<f32>,
    delta: Vec<Array2<f32>>,
    iota: Vec<Array2<f32>>,
    scratch: Vec<Array2<f32>>,
    reference: Option<Reference>,
}

/// Backprop's δ and ι, formed beside another algorithm's for the alignment diagnostic.
///
/// The spiking simulator forms them for the examples with an error alone ([`Reference::form_rows`]; a silent
/// example's signals are both zero and have no angle), before the step's update, and compares them with the compacted
/// ι its updates used ([`Reference::compare`]); the nonspiking one forms and compares whole minibatches
/// ([`Reference::measure`]).
pub(crate) struct Reference {
    delta: Vec<Array2<f32>>,
    iota: Vec<Array2<f32>>,
    scratch: Vec<Array2<f32>>,
    /// Each layer's drive for the examples with an error, compacted (row k is the k-th such example).
    drive_rows: Vec<Array2<f32>>,
    /// Their error, compacted.
    error_rows: Array2<f32>,
    /// The algorithm's compacted ι of each layer, gathered from its column blocks for [`Self::compare_blocks`].
    iota_rows: Vec<Array2<f32>>,
}

impl Reference {
    pub(crate) fn new(examples: usize, sizes: &[usize]) -> Self {
        let zeros = |&n: &usize| Array2::<f32>::zeros((examples, n));
        Self {
            delta: sizes.iter().map(zeros).collect(),
            iota: sizes.iter().map(zeros).collect(),
            scratch: sizes.iter().map(zeros).collect(),
            drive_rows: sizes.iter().map(zeros).collect(),
            error_rows: zeros(sizes.last().expect("an output layer")),
            iota_rows: sizes.iter().map(zeros).collect(),
        }
    }

    /// Forms backprop's ι for every hidden layer from the output error down to the lowest learning layer, and adds
    /// the angle between it and `iota` (the algorithm's) to `meter`, layer by layer.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn measure(
        &mut self,
        model: &Model,
        net: &Network,
        drive: &[Array2<f32>],
        error: &Array2<f32>,
        iota: &[Array2<f32>],
        learns: &[bool],
        meter: &mut AlignmentMeter,
    ) {
        self.form(model, net, drive, error, error.nrows(), learns);
        self.compare(iota, error.nrows(), learns, meter);
    }

    /// Forms backprop's ι of the examples `rows` (ascending) alone, compacted, from the weights as they are: the
    /// first `rows.len()` rows of each layer's reference, for [`Self::compare`] with the algorithm's compacted ι.
    pub(crate) fn form_rows(
        &mut self,
        model: &Model,
        net: &Network,
        drive: &[ColumnBlocks<f32>],
        error: &Array2<f32>,
        rows: &[usize],
        learns: &[bool],
    ) {
        for (compact, whole) in self.drive_rows.iter_mut().zip(drive) {
            for (k, &e) in rows.iter().enumerate() {
                whole.copy_row_into(e, compact.row_mut(k));
            }
        }
        for (k, &e) in rows.iter().enumerate() {
            self.error_rows.row_mut(k).assign(&error.row(e));
        }
        // Moved out for the call (no allocation: an empty Vec and array take their place).
        let (drive_rows, error_rows) = (
            std::mem::take(&mut self.drive_rows),
            std::mem::take(&mut self.error_rows),
        );
        self.form(model, net, &drive_rows, &error_rows, rows.len(), learns);
        (self.drive_rows, self.error_rows) = (drive_rows, error_rows);
    }

    /// Backprop's δ and ι of the first `n` rows of `drive` and `error`, into the first `n` rows of the reference.
    fn form(
        &mut self,
        model: &Model,
        net: &Network,
        drive: &[Array2<f32>],
        error: &Array2<f32>,
        n: usize,
        learns: &[bool],
    ) {
        let nl = drive.len();
        let rows = s![..n, ..];
        self.delta[nl - 1].slice_mut(rows).assign(&error.slice(rows));
        for l in (0..nl - 1).rev().take_while(|&l| learns[l]) {
            let (below, above) = self.delta.split_at_mut(l + 1);
            chain_delta_into(
                &mut below[l].slice_mut(rows),
                &mut self.scratch[l + 1].slice_mut(rows),
                drive[l + 1].slice(rows),
                above[0].slice(rows),
                net.projections[l + 1].w.view(),
                model.chain_derivative,
            );
            teaching_signal_into(
                &mut self.iota[l].slice_mut(rows),
                drive[l].slice(rows),
                self.delta[l].slice(rows),
                model.eta[l],
                model.own_derivative,
            );
        }
    }

    /// Adds to `meter` the angle between each of the first `n` rows of `iota` (the algorithm's ι of every hidden
    /// layer) and the same row of the reference formed last, for each hidden layer from the top down while layers
    /// learn.
    pub(crate) fn compare(&self, iota: &[Array2<f32>], n: usize, learns: &[bool], meter: &mut AlignmentMeter) {
        Self::compare_with(&self.iota, iota, n, learns, meter);
    }

    /// [`Self::compare`] of the algorithm's compacted ι kept in column blocks (the first `n` rows of each).
    pub(crate) fn compare_blocks(
        &mut self,
        iota: &[ColumnBlocks<f32>],
        n: usize,
        learns: &[bool],
        meter: &mut AlignmentMeter,
    ) {
        for (dense, blocks) in self.iota_rows.iter_mut().zip(iota) {
            for k in 0..n {
                blocks.copy_row_into(k, dense.row_mut(k));
            }
        }
        Self::compare_with(&self.iota, &self.iota_rows, n, learns, meter);
    }

    /// The angles between the first `n` rows of `reference` and of `iota`, layer by layer (see [`Self::compare`]).
    fn compare_with(
        reference: &[Array2<f32>],
        iota: &[Array2<f32>],
        n: usize,
        learns: &[bool],
        meter: &mut AlignmentMeter,
    ) {
        let rows = s![..n, ..];
        for l in (0..reference.len() - 1).rev().take_while(|&l| learns[l]) {
            meter.observe(l, iota[l].slice(rows), reference[l].slice(rows));
        }
    }
}

impl RateSimulator {
    /// Buffers for minibatches of `examples` examples of `model` (which must have `Rate` cells).
    pub fn new(model: &Model, examples: usize) -> Self {
        let sizes = &model.layers()[1..];
        let zeros = |&n: &usize| Array2::<f32>::zeros((examples, n));
        let out = *sizes.last().expect("an output layer");
        let c1 = match model.chain_derivative {
            Derivative::TanhFit { c1, .. } | Derivative::TanhFitUnmasked { c1, .. } => c1,
            _ => unreachable!("the chain derivative is the tanh fit's"),
        };
        Self {
            model: model.clone(),
            examples,
            c1,
            drive: sizes.iter().map(zeros).collect(),
            act: sizes.iter().map(zeros).collect(),
            target: Array2::zeros((examples, out)),
            error: Array2::zeros((examples, out)),
            delta: sizes.iter().map(zeros).collect(),
            iota: sizes.iter().map(zeros).collect(),
            scratch: sizes.iter().map(zeros).collect(),
            reference: None,
        }
    }

    /// Presents one minibatch: forward pass, answers, and (if `learn`) one update of every learning layer, repeated
    /// `steps` times (`network.cells: Rate(steps: k)`, 1 by default); with a `meter`, also measures on the first
    /// step the alignment of each learning hidden layer's teaching signal with backprop's. The answers are those of
    /// the first step, before any learning on this minibatch.
    pub fn present(
        &mut self,
        net: &mut Network,
        inputs: ArrayView2<'_, f32>,
        labels: &[u8],
        learn: bool,
        meter: Option<&mut AlignmentMeter>,
    ) -> Answers {
        let steps = match self.model.file.network.cells {
            crate::model::CellKind::Rate { steps, .. } if learn => steps,
            _ => 1,
        };
        let answers = self.step(net, inputs, labels, learn, meter);
        for _ in 1..steps {
            if answers.non_finite.is_some() {
                break;
            }
            let later = self.step(net, inputs, labels, learn, None);
            if later.non_finite.is_some() {
                return later;
            }
        }
        answers
    }

    fn step(
        &mut self,
        net: &mut Network,
        inputs: ArrayView2<'_, f32>,
        labels: &[u8],
        learn: bool,
        meter: Option<&mut AlignmentMeter>,
    ) -> Answers {
        assert_eq!(inputs.nrows(), self.examples, "input batch size");
        assert_eq!(labels.len(), self.examples, "one label per example");
        let m = &self.model;
        let nl = self.drive.len();
        let c2 = m.file.learning.c2;
        let c1 = self.c1;
        for l in 0..nl {
            let (done, rest) = self.act.split_at_mut(l);
            let pre = if l == 0 { inputs } else { done[l - 1].view() };
            net.projections[l].drive_into(pre, &mut self.drive[l]);
            if let Some(slot) = first_non_finite_row(self.drive[l].view()) {
                return Answers {
                    counts: Array2::zeros((self.examples, m.layers()[nl])),
                    predicted: vec![None; self.examples],
                    non_finite: Some(NonFiniteDrive {
                        layer: l,
                        step: 0,
                        slot,
                    }),
                };
            }
            Zip::from(&mut rest[0])
                .and(&self.drive[l])
                .for_each(|a, &v| *a = tanh_fit(v, c1, c2));
        }
        let out = &self.act[nl - 1];
        let predicted = out
            .rows()
            .into_iter()
            .map(|r| strict_argmax(r.as_slice().expect("standard layout")))
            .collect();
        let answers = Answers {
            counts: out.clone(),
            predicted,
            non_finite: None,
        };
        let learns = &m.learns;
        if !learn || !learns.iter().any(|&l| l) {
            return answers;
        }
        one_hot_into(&mut self.target, labels);
        Zip::from(&mut self.error)
            .and(out)
            .and(&self.target)
            .for_each(|e, &a, &y| *e = a - y);
        // Every δ and ι from the weights as they are, before any of them changes.
        for l in (0..nl).rev().take_while(|&l| learns[l]) {
            if l == nl - 1 {
                self.delta[l].assign(&self.error);
            } else {
                let (below, above) = self.delta.split_at_mut(l + 1);
                match m.file.learning.algorithm {
                    Algorithm::BP | Algorithm::FA => {
                        let back = match m.file.learning.algorithm {
                            Algorithm::BP => net.projections[l + 1].w.view(),
                            _ => net.feedback[l].t(),
                        };
                        chain_delta_into(
                            &mut below[l],
                            &mut self.scratch[l + 1],
                            self.drive[l + 1].view(),
                            above[0].view(),
                            back,
                            m.chain_derivative,
                        );
                    }
                    Algorithm::BA | Algorithm::DF => {
                        general_mat_mul(1.0, &self.error, &net.broadcast[l].t(), 0.0, &mut below[l]);
                    }
                }
            }
            teaching_signal_into(
                &mut self.iota[l],
                self.drive[l].view(),
                self.delta[l].view(),
                m.eta[l],
                m.derivative,
            );
        }
        if let Some(meter) = meter {
            let sizes = &m.layers()[1..];
            let reference = self
                .reference
                .get_or_insert_with(|| Reference::new(self.examples, sizes));
            reference.measure(m, net, &self.drive, &self.error, &self.iota, learns, meter);
        }
        let mu = m.file.learning.momentum;
        let scale = m.file.learning.batch_reduction.scale(self.examples);
        for l in (0..nl).filter(|&l| learns[l]) {
            let pre = if l == 0 { inputs } else { self.act[l - 1].view() };
            net.projections[l].learn(self.iota[l].view(), pre, mu, scale);
        }
        answers
    }

    /// Drive v of layer `layer` (0 = first hidden) in the last minibatch.
    pub fn drive(&self, layer: usize) -> ArrayView2<'_, f32> {
        self.drive[layer].view()
    }

    /// Activity a = f(v) of layer `layer` in the last minibatch.
    pub fn activity(&self, layer: usize) -> ArrayView2<'_, f32> {
        self.act[layer].view()
    }

    /// Teaching signal ι of layer `layer` in the last learning minibatch.
    pub fn iota(&self, layer: usize) -> ArrayView2<'_, f32> {
        self.iota[layer].view()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelFile;
    use crate::seeds::Streams;
    use std::path::Path;

    /// The spiking simulator's measurement, over the examples with an error alone and against the compacted ι,
    /// gives the same angles, bit for bit, and the same number of them, as the whole minibatch's: a silent
    /// example's two signals are zero and have no angle.
    #[test]
    fn alignment_from_the_examples_with_an_error_equals_the_whole_minibatch() {
        let text = "(name: \"t\", network: (layers: [7, 40, 30, 5]), learning: (depth: 3))";
        let model = ModelFile::from_ron(text, Path::new("t.ron")).unwrap().check().unwrap();
        let net = Network::init(&model, &mut Streams::from_seed(4)).unwrap();
        let (examples, sizes) = (9, &model.layers()[1..]);
        let val = |seed: usize| move |(e, c): (usize, usize)| (((e * 31 + c * 17 + seed) % 23) as f32 - 9.0) * 0.3;
        let drive: Vec<Array2<f32>> = sizes
            .iter()
            .enumerate()
            .map(|(l, &n)| Array2::from_shape_fn((examples, n), val(l)))
            .collect();
        let active = [1usize, 2, 5, 8];
        let error = Array2::from_shape_fn((examples, 5), |(e, o)| match active.contains(&e) {
            true => val(7)((e, o)).round() / 3.0,
            false => 0.0,
        });
        // Some algorithm's ι: nonzero on the active rows only.
        let iota: Vec<Array2<f32>> = sizes
            .iter()
            .enumerate()
            .map(|(l, &n)| {
                Array2::from_shape_fn((examples, n), |(e, c)| match active.contains(&e) {
                    true => val(l + 11)((e, c)),
                    false => 0.0,
                })
            })
            .collect();
        let learns = vec![true; 3];
        let mut whole = AlignmentMeter::new(3);
        let mut reference = Reference::new(examples, sizes);
        reference.measure(&model, &net, &drive, &error, &iota, &learns, &mut whole);

        let compact: Vec<Array2<f32>> = iota
            .iter()
            .map(|i| {
                let mut c = Array2::zeros(i.dim());
                for (k, &e) in active.iter().enumerate() {
                    c.row_mut(k).assign(&i.row(e));
                }
                c
            })
            .collect();
        // The simulator keeps both in column blocks (of 4 cells here: several blocks per layer).
        let blocked = |a: &Array2<f32>| {
            let mut b = ColumnBlocks::zeros(a.nrows(), a.ncols(), 4);
            b.assign(a.view());
            b
        };
        let (drive, compact): (Vec<_>, Vec<_>) = (
            drive.iter().map(blocked).collect(),
            compact.iter().map(blocked).collect(),
        );
        let mut rows = AlignmentMeter::new(3);
        let mut reference = Reference::new(examples, sizes);
        reference.form_rows(&model, &net, &drive, &error, &active, &learns);
        reference.compare_blocks(&compact, active.len(), &learns, &mut rows);
        for l in 0..2 {
            let (w, r) = (whole.mean(l).unwrap(), rows.mean(l).unwrap());
            assert_eq!(w.1, active.len() as u64, "layer {l}: one angle per active example");
            assert_eq!(w, r, "layer {l}");
        }
    }
}
