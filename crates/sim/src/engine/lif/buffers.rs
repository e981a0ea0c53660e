//! The LIF engine's state for a minibatch: every population's `[examples, cells]` arrays, the carries of the fast
//! paths, and the learning scratch, allocated once and reused across presentations (no allocation per step).
//!
//! Each hidden layer's arrays are kept in column blocks of [`block_width`] cells, each block in memory of its own
//! ([`ColumnBlocks`]): the parallel tasks of a step never touch each other's cache lines (docs/performance.md,
//! "Session 7: each block of a layer in memory of its own"). The output layer is one block.

use crate::alignment::Reference;
use crate::model::{ErrorPools, Model};
use crate::roster::Roster;
use ndarray::Array2;
use ndarray::parallel::prelude::*;
use rayon::iter::Either;
use snn_neuron::{ColumnBlocks, LifColumns, LifParams, LifState, aligned_zeros};
use snn_plasticity::{ActiveInputs, GramCarry, SpikeInputCarry};

/// The widest block of a hidden layer's cells: the unit of parallel work of a step (a block's drive, LIF cells,
/// feedback, teaching signal and updates in one task).
pub const MAX_BLOCK: usize = 256;

/// Cells per block of a hidden layer of `cells` cells: at most [`MAX_BLOCK`], an even number of blocks (so that two
/// threads get equal shares: 1000 → 4 × 256, 630 → 4 × 160, 370 → 2 × 192), a multiple of 16 cells. It depends on
/// the layer only, never on the number of threads, so the block sums of the drive above give the same bits at any
/// thread count.
pub fn block_width(cells: usize) -> usize {
    let blocks = cells.div_ceil(MAX_BLOCK);
    let blocks = if blocks > 1 { blocks + blocks % 2 } else { 1 };
    cells.div_ceil(blocks).next_multiple_of(16).max(16)
}

/// The state of a LIF network's cells that training carries from example to example.
pub(super) struct TrainingCells {
    pub(super) layers: Vec<LifColumns>,
    pub(super) pools: Option<(LifState, LifState)>,
}

/// A LIF network's simulator for minibatches of a fixed size (SPEC §2.4). Arrays are indexed by LIF layer: entry l
/// is the population fed by weight layer l (the last is the output).
pub struct LifEngine {
    pub(super) model: Model,
    pub(super) lif: LifParams,
    pub(super) examples: usize,
    pub(super) roster: Roster,
    pub(super) input: Array2<f32>,
    pub(super) drive: Vec<ColumnBlocks<f32>>,
    pub(super) layers: Vec<LifColumns>,
    pub(super) target: Array2<f32>,
    pub(super) err_exc: Array2<f32>,
    pub(super) err_inh: Array2<f32>,
    /// The pools' own LIF cells and drive, for `ErrorPools::Lif`.
    pub(super) pool_cells: Option<(LifState, LifState, Array2<f32>)>,
    /// With `protocol.reset_between_examples: false`, while presentations without learning run (a test pass, the
    /// alignment probe): the training cells (layers, and error pools of LIF cells), restored when training resumes.
    pub(super) training_cells: Option<TrainingCells>,
    /// e = e⁺ − e⁻ of this step.
    pub(super) error: Array2<f32>,
    /// δ and ι of every layer as whole arrays; for the hidden layers formed only when observed (`observed`).
    pub(super) delta: Vec<ColumnBlocks<f32>>,
    pub(super) iota: Vec<ColumnBlocks<f32>>,
    pub(super) observed: bool,
    /// Examples whose error is not zero on this step: the only ones whose ι is not zero.
    pub(super) active: Vec<usize>,
    /// ι of each hidden layer for the active examples alone, compacted (row k is example `active[k]`).
    pub(super) iota_rows: Vec<ColumnBlocks<f32>>,
    /// The activity below each hidden layer learning through direct updates, for the active examples alone.
    pub(super) pre_rows: Vec<Array2<f32>>,
    /// B_BAᵀ of every hidden layer (`[outputs, cells]`), copied from the network at each presentation.
    pub(super) broadcast_t: Vec<Array2<f32>>,
    /// The weight mirror's buffers (SPEC §6.6), made at the first mirror phase.
    pub(super) mirror: Option<snn_plasticity::spiking_mirror::SpikingMirror>,
    /// Each block's share of the output drive, `[examples, outputs]` per block of the last hidden layer.
    pub(super) partials: Vec<Array2<f32>>,
    /// Output spikes counted over t > settle.
    pub(super) counts: Array2<f32>,
    pub(super) gram: Option<GramCarry>,
    /// Per LIF layer, its weights kept transposed for a drive summed over active inputs (`Model::sums_active_inputs`).
    pub(super) carries: Vec<Option<SpikeInputCarry>>,
    /// Per LIF layer, the active cells of each of its blocks on this step, when the layer above sums active inputs.
    pub(super) fired: Vec<Vec<ActiveInputs>>,
    /// Per LIF layer, whether its δ and ι can be shown on this step.
    pub(super) learned_now: Vec<bool>,
    pub(super) reference: Option<Reference>,
}

/// `Some` items of `it`, or `n` `None`s: an optional per-block part zipped beside the others.
pub(super) fn optional<T: Send>(
    it: Option<impl IndexedParallelIterator<Item = T>>,
    n: usize,
) -> impl IndexedParallelIterator<Item = Option<T>> {
    match it {
        Some(it) => Either::Left(it.map(Some)),
        None => Either::Right((0..n).into_par_iter().map(|_| None)),
    }
}

impl LifEngine {
    /// Buffers for minibatches of `examples` examples of `model`.
    ///
    /// # Panics
    /// If a hidden layer's feedback is not broadcast through a matrix of its own (the model check refuses chained
    /// feedback for LIF cells, SPEC §2.2).
    pub fn new(model: &Model, examples: usize) -> Self {
        assert!(
            model.plan().broadcasts(),
            "LIF networks learn through broadcast feedback only"
        );
        let sizes = model.layers();
        let plan = model.plan();
        let lif_sizes = &sizes[1..];
        let out = *sizes.last().unwrap();
        let zeros = |n| Array2::<f32>::zeros((examples, n));
        let pool_cells = match model.error_pools() {
            ErrorPools::Relay => None,
            ErrorPools::Lif { .. } => Some((LifState::new(examples, out), LifState::new(examples, out), zeros(out))),
        };
        let partials = match lif_sizes.len() {
            1 => Vec::new(),
            n => {
                let below = lif_sizes[n - 2];
                (0..below.div_ceil(block_width(below)))
                    .map(|_| aligned_zeros(examples, out))
                    .collect()
            }
        };
        // Hidden layers are stepped in column blocks by several threads; the output layer is stepped whole.
        let hidden = lif_sizes.len() - 1;
        let width = |l: usize, n: usize| if l < hidden { block_width(n) } else { n };
        let state = |(l, &n): (usize, &usize)| ColumnBlocks::<f32>::zeros(examples, n, width(l, n));
        Self {
            model: model.clone(),
            lif: model.lif(),
            examples,
            roster: model.roster().clone(),
            input: zeros(sizes[0]),
            drive: lif_sizes.iter().enumerate().map(state).collect(),
            layers: lif_sizes
                .iter()
                .enumerate()
                .map(|(l, &n)| LifColumns::new(examples, n, width(l, n)))
                .collect(),
            target: zeros(out),
            err_exc: zeros(out),
            err_inh: zeros(out),
            pool_cells,
            training_cells: None,
            error: zeros(out),
            delta: lif_sizes.iter().enumerate().map(state).collect(),
            iota: lif_sizes.iter().enumerate().map(state).collect(),
            observed: false,
            active: Vec::with_capacity(examples),
            iota_rows: lif_sizes[..hidden].iter().enumerate().map(state).collect(),
            pre_rows: sizes[..hidden]
                .iter()
                .enumerate()
                .map(
                    |(l, &n)| match plan.learns(l) && !(l == 0 && model.first_layer_uses_gram(examples)) {
                        true => zeros(n),
                        false => zeros(0),
                    },
                )
                .collect(),
            mirror: None,
            broadcast_t: lif_sizes[..lif_sizes.len() - 1]
                .iter()
                .map(|&n| Array2::zeros((out, n)))
                .collect(),
            partials,
            counts: zeros(out),
            gram: (plan.learns(0) && model.first_layer_uses_gram(examples))
                .then(|| GramCarry::new(examples, sizes[0], sizes[1], width(0, sizes[1]))),
            carries: (0..lif_sizes.len())
                .map(|l| {
                    let carried = model.sums_active_inputs(l);
                    carried.then(|| SpikeInputCarry::new(examples, sizes[l], sizes[l + 1], width(l, sizes[l + 1])))
                })
                .collect(),
            fired: (0..lif_sizes.len())
                .map(|l| match model.sums_active_inputs(l + 1) {
                    true => {
                        let (n, w) = (lif_sizes[l], width(l, lif_sizes[l]));
                        (0..n.div_ceil(w))
                            .map(|k| ActiveInputs::new(examples, w.min(n - k * w)))
                            .collect()
                    }
                    false => Vec::new(),
                })
                .collect(),
            learned_now: vec![false; lif_sizes.len()],
            reference: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_width_is_even_split_on_cache_lines() {
        assert_eq!(block_width(1000), 256);
        assert_eq!(block_width(630), 160);
        assert_eq!(block_width(370), 192);
        assert_eq!(block_width(10), 16);
    }
}
