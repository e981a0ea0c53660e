//! Backprop's δ and ι for the alignment diagnostic (SPEC §4), formed from the weights as they are, before the step's
//! update, through the derivative of the rate fit (eq 2.10): δ at the output is the error e, and each hidden layer's
//! δ is chained down through the forward weights of the layer above.

use super::meter::AlignmentMeter;
use crate::model::Plan;
use crate::network::Network;
use ndarray::{Array2, s};
use snn_neuron::ColumnBlocks;
use snn_plasticity::{chain_delta_into, teaching_signal_into};

/// Backprop's δ and ι, formed beside another algorithm's for the alignment diagnostic.
///
/// The LIF engine forms them for the examples with an error alone ([`Reference::form_rows`]; a silent example's
/// signals are both zero and have no angle), before the step's update, and compares them with the compacted ι its
/// updates used ([`Reference::compare_blocks`], ι kept in column blocks); the rate engine forms and compares whole
/// minibatches ([`Reference::measure`], through [`Reference::compare`]).
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
        plan: &Plan,
        net: &Network,
        drive: &[Array2<f32>],
        error: &Array2<f32>,
        iota: &[Array2<f32>],
        learns: &[bool],
        meter: &mut AlignmentMeter,
    ) {
        self.form(plan, net, drive, error, error.nrows(), learns);
        self.compare(iota, error.nrows(), learns, meter);
    }

    /// Forms backprop's ι of the examples `rows` (ascending) alone, compacted, from the weights as they are: the
    /// first `rows.len()` rows of each layer's reference, for [`Self::compare`] with the algorithm's compacted ι.
    pub(crate) fn form_rows(
        &mut self,
        plan: &Plan,
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
        self.form(plan, net, &drive_rows, &error_rows, rows.len(), learns);
        (self.drive_rows, self.error_rows) = (drive_rows, error_rows);
    }

    /// Backprop's δ and ι of the first `n` rows of `drive` and `error`, into the first `n` rows of the reference.
    fn form(
        &mut self,
        plan: &Plan,
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
                net.forward[l + 1].w.view(),
                plan.chain_derivative(),
            );
            teaching_signal_into(
                &mut self.iota[l].slice_mut(rows),
                drive[l].slice(rows),
                self.delta[l].slice(rows),
                plan.layer(l).eta,
                plan.reference_derivative(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelFile;
    use crate::alignment::AlignmentMeter;
    use crate::seeds::Streams;
    use std::path::Path;

    /// The LIF engine's measurement, over the examples with an error alone and against the compacted ι,
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
        reference.measure(model.plan(), &net, &drive, &error, &iota, &learns, &mut whole);

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
        reference.form_rows(model.plan(), &net, &drive, &error, &active, &learns);
        reference.compare_blocks(&compact, active.len(), &learns, &mut rows);
        for l in 0..2 {
            let (w, r) = (whole.mean(l).unwrap(), rows.mean(l).unwrap());
            assert_eq!(w.1, active.len() as u64, "layer {l}: one angle per active example");
            assert_eq!(w, r, "layer {l}");
        }
    }
}
