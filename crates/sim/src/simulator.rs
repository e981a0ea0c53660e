//! The time loop: one presentation of a minibatch, all populations stepped in the same Δt step (SPEC §2.4).
//!
//! Per step s (time t = (s + 1) Δt), in Table 1's order:
//! 1. every LIF layer: drive `v = a_below Wᵀ + b` from the layer below's activity of this step, then the LIF update;
//! 2. the error pools: `e⁺ = max(a_out − y*, 0)` (excitatory), `e⁻ = max(y* − a_out, 0)` (inhibitory), relayed in
//!    the same step or through LIF pool cells (SPEC §2.1);
//! 3. for t > settle (s ≥ settle_steps): output spikes are counted for the answer and, when learning, every learning
//!    layer gets `δ = B_BA (e⁺ − e⁻)` (δ = e at the output), `ι = η f'(v) δ` and the momentum update of its W and b.
//!
//! With an [`AlignmentMeter`], every learning step also forms backprop's ι for the learning hidden layers and
//! measures the angle to the broadcast one (SPEC §4).
//!
//! A hidden layer fed by another hidden layer sums, for each example, the rows of its transposed weights for the
//! active inputs (`engine.spike_input`, [`snn_plasticity::spike_input`]): the cells of each block below that spiked
//! are listed on the block's own step, and the weights stay transposed through the presentation.
//!
//! There is no separate backward phase: feedback uses this step's output. The input layer is graded and constant,
//! so while the first projection does not learn its drive is computed once per presentation (exactly the value every
//! step would compute).

use crate::alignment::AlignmentMeter;
use crate::model::{ErrorPools, Model};
use crate::network::Network;
use crate::rate_simulator::Reference;
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView2, Axis, Zip, s};
use rayon::iter::Either;
use snn_neuron::{ColumnBlocks, LifColumns, LifState, aligned_zeros};
use snn_plasticity::matmul::mat_mul_into;
use snn_plasticity::projection::{drive_block, learn_biases, partial_drive};
use snn_plasticity::{
    ActiveInputs, GramCarry, SpikeInputCarry, broadcast_teaching_block, broadcast_teaching_rows, teaching_signal_into,
};

/// One population's `[examples, cells]` values on a step: a whole array (input, error pools) or the column blocks of
/// a LIF layer ([`ColumnBlocks`]).
#[derive(Clone, Copy, Debug)]
pub enum Values<'a> {
    /// A whole row-major array.
    Whole(ArrayView2<'a, f32>),
    /// A layer kept in column blocks.
    Blocks(&'a ColumnBlocks<f32>),
}

impl Values<'_> {
    /// `(examples, cells)`.
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Values::Whole(a) => a.dim(),
            Values::Blocks(b) => b.dim(),
        }
    }

    /// The value of example `e`, cell `c`.
    ///
    /// # Panics
    /// If out of range.
    pub fn get(&self, e: usize, c: usize) -> f32 {
        match self {
            Values::Whole(a) => a[[e, c]],
            Values::Blocks(b) => b.get(e, c),
        }
    }

    /// Row `e`: every cell of example `e`, in order.
    pub fn row(&self, e: usize) -> impl Iterator<Item = f32> + '_ {
        match self {
            Values::Whole(a) => Either::Left(a.row(e).into_iter().copied()),
            Values::Blocks(b) => Either::Right(b.row(e)),
        }
    }

    /// Every value, row by row.
    pub fn iter(&self) -> impl Iterator<Item = f32> + '_ {
        (0..self.dim().0).flat_map(move |e| self.row(e))
    }

    /// The whole `[examples, cells]` array (a copy).
    pub fn to_owned(&self) -> Array2<f32> {
        match self {
            Values::Whole(a) => a.to_owned(),
            Values::Blocks(b) => b.to_dense(),
        }
    }
}

/// Read access to every population of a presentation, by raster index (see [`Model::population_names`]).
pub struct Populations<'a> {
    input: &'a Array2<f32>,
    layers: &'a [LifColumns],
    err_exc: &'a Array2<f32>,
    err_inh: &'a Array2<f32>,
    drive: &'a [ColumnBlocks<f32>],
    delta: &'a [ColumnBlocks<f32>],
    iota: &'a [ColumnBlocks<f32>],
    learned: &'a [bool],
}

impl Populations<'_> {
    /// Number of populations: input, hidden layers, output, two error pools.
    pub fn len(&self) -> usize {
        self.layers.len() + 3
    }

    /// Always false: there is at least an input and an output.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Activity `[examples, cells]` of population `index` (0 = input, graded; then hidden…, output, e⁺, e⁻).
    pub fn activity(&self, index: usize) -> Values<'_> {
        let n = self.layers.len();
        match index {
            0 => Values::Whole(self.input.view()),
            i if i <= n => Values::Blocks(&self.layers[i - 1].a),
            i if i == n + 1 => Values::Whole(self.err_exc.view()),
            i if i == n + 2 => Values::Whole(self.err_inh.view()),
            _ => panic!("population index {index} out of range"),
        }
    }

    /// Hillock potentials of LIF layer `layer` (0 = first hidden).
    pub fn hillock(&self, layer: usize) -> Values<'_> {
        Values::Blocks(&self.layers[layer].h)
    }

    /// Drive v of LIF layer `layer` on this step.
    pub fn drive(&self, layer: usize) -> Values<'_> {
        Values::Blocks(&self.drive[layer])
    }

    /// Feedback δ and teaching signal ι of LIF layer `layer`, if that layer learned on this step and they were
    /// formed for observers (a probe whose [`Probe::wants_teaching`] is true): the updates
    /// themselves use ι of the examples with an error alone.
    pub fn teaching(&self, layer: usize) -> Option<(Values<'_>, Values<'_>)> {
        self.learned[layer].then(|| (Values::Blocks(&self.delta[layer]), Values::Blocks(&self.iota[layer])))
    }
}

/// Something that watches a presentation step by step (a raster recorder, a trace probe).
pub trait Probe {
    /// Called after every step with the state of all populations.
    fn after_step(&mut self, step: usize, populations: &Populations<'_>);

    /// Whether this probe reads the hidden layers' δ and ι ([`Populations::teaching`]): forming them as whole
    /// `[examples, cells]` arrays costs two passes per layer and step, so it is done only when asked.
    fn wants_teaching(&self) -> bool {
        false
    }
}

/// A probe that records nothing.
pub struct NoProbe;

impl Probe for NoProbe {
    fn after_step(&mut self, _: usize, _: &Populations<'_>) {}
}

/// The answer of one presentation.
#[derive(Clone, Debug, PartialEq)]
pub struct Answers {
    /// Output spike counts over t > settle, `[examples, classes]`.
    pub counts: Array2<f32>,
    /// Predicted class of each example: the output cell with strictly the most spikes, `None` on a tie (Samadi §2.7:
    /// correct only when the right cell "produced more spikes than any of the others").
    pub predicted: Vec<Option<usize>>,
    /// The first NaN or infinite drive, if any: the presentation stopped there.
    pub non_finite: Option<NonFiniteDrive>,
}

/// Where a drive became NaN or infinite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonFiniteDrive {
    /// LIF layer (0 = first hidden).
    pub layer: usize,
    /// Step of the presentation.
    pub step: usize,
    /// Batch slot of the first example affected.
    pub slot: usize,
}

/// Whether every value is finite: a branch-free reduction, so that it vectorises (the end-of-session benchmark showed
/// no change at 1 thread: 240 vs 236 ms per training minibatch).
fn all_finite(a: ArrayView2<'_, f32>) -> bool {
    match a.as_slice() {
        Some(s) => all_finite_slice(s),
        None => a.rows().into_iter().all(|r| match r.as_slice() {
            Some(s) => all_finite_slice(s),
            None => r.iter().all(|x| x.is_finite()),
        }),
    }
}

/// [`all_finite`] of a slice.
fn all_finite_slice(s: &[f32]) -> bool {
    !s.iter().fold(false, |bad, x| bad | !x.is_finite())
}

/// The first example (row) of `drive` holding a NaN or infinite value, if any: the fast check first, the search only
/// when it fails.
pub(crate) fn first_non_finite_row(drive: ArrayView2<'_, f32>) -> Option<usize> {
    if all_finite(drive) {
        return None;
    }
    Some(
        drive
            .rows()
            .into_iter()
            .position(|r| r.iter().any(|x| !x.is_finite()))
            .unwrap_or(0),
    )
}

/// One-hot targets y* of `labels` into `target` (`[examples, classes]`).
pub(crate) fn one_hot_into(target: &mut Array2<f32>, labels: &[u8]) {
    target.fill(0.0);
    for (e, &l) in labels.iter().enumerate() {
        target[[e, usize::from(l)]] = 1.0;
    }
}

impl Answers {
    /// Number of examples whose prediction equals the label.
    pub fn correct(&self, labels: &[u8]) -> usize {
        self.predicted
            .iter()
            .zip(labels)
            .filter(|(p, l)| **p == Some(usize::from(**l)))
            .count()
    }
}

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

/// State buffers of a minibatch (all `[examples, cells]`), reused across presentations: no allocation per step. Each
/// LIF layer's arrays are kept in column blocks of [`block_width`] cells (the output layer in one block), each block
/// in memory of its own ([`ColumnBlocks`]): the parallel tasks of a step never touch each other's cache lines.
pub struct Simulator {
    model: Model,
    examples: usize,
    input: Array2<f32>,
    drive: Vec<ColumnBlocks<f32>>,
    layers: Vec<LifColumns>,
    target: Array2<f32>,
    err_exc: Array2<f32>,
    err_inh: Array2<f32>,
    pool_cells: Option<(LifState, LifState, Array2<f32>)>,
    error: Array2<f32>,
    /// δ and ι of every layer as whole arrays; for the hidden layers formed only when observed (`observed`).
    delta: Vec<ColumnBlocks<f32>>,
    iota: Vec<ColumnBlocks<f32>>,
    observed: bool,
    /// Examples whose error is not zero on this step: the only ones whose ι is not zero.
    active: Vec<usize>,
    /// ι of each hidden layer for the active examples alone, compacted (row k is example `active[k]`).
    iota_rows: Vec<ColumnBlocks<f32>>,
    /// The activity below each hidden layer learning through direct updates, for the active examples alone.
    pre_rows: Vec<Array2<f32>>,
    /// B_BAᵀ of every hidden layer (`[outputs, cells]`), copied from the network at each presentation.
    broadcast_t: Vec<Array2<f32>>,
    /// Each block's share of the output drive, `[examples, outputs]` per block of the last hidden layer.
    partials: Vec<Array2<f32>>,
    counts: Array2<f32>,
    gram: Option<GramCarry>,
    /// Per LIF layer, its weights kept transposed for a drive summed over active inputs (`Model::sums_active_inputs`).
    carries: Vec<Option<SpikeInputCarry>>,
    /// Per LIF layer, the active cells of each of its blocks on this step, when the layer above sums active inputs.
    fired: Vec<Vec<ActiveInputs>>,
    learned_now: Vec<bool>,
    reference: Option<Reference>,
}

/// `Some` items of `it`, or `n` `None`s: an optional per-block part zipped beside the others.
fn optional<T: Send>(
    it: Option<impl IndexedParallelIterator<Item = T>>,
    n: usize,
) -> impl IndexedParallelIterator<Item = Option<T>> {
    match it {
        Some(it) => Either::Left(it.map(Some)),
        None => Either::Right((0..n).into_par_iter().map(|_| None)),
    }
}

impl Simulator {
    /// Buffers for minibatches of `examples` examples of `model`.
    pub fn new(model: &Model, examples: usize) -> Self {
        let sizes = model.layers();
        let lif_sizes = &sizes[1..];
        let out = *sizes.last().unwrap();
        let zeros = |n| Array2::<f32>::zeros((examples, n));
        let pool_cells = match model.file.network.error_pools {
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
            examples,
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
                    |(l, &n)| match model.learns[l] && !(l == 0 && model.first_layer_uses_gram(examples)) {
                        true => zeros(n),
                        false => zeros(0),
                    },
                )
                .collect(),
            broadcast_t: lif_sizes[..lif_sizes.len() - 1]
                .iter()
                .map(|&n| Array2::zeros((out, n)))
                .collect(),
            partials,
            counts: zeros(out),
            gram: (model.learns[0] && model.first_layer_uses_gram(examples))
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

    /// Number of examples simulated side by side.
    pub fn examples(&self) -> usize {
        self.examples
    }

    /// Presents `inputs` (`[examples, features]`) with `labels` for one presentation of `model.steps` steps,
    /// learning (after the settle time) if `learn`, and returns the answers.
    pub fn present(
        &mut self,
        net: &mut Network,
        inputs: ArrayView2<'_, f32>,
        labels: &[u8],
        learn: bool,
        probe: &mut dyn Probe,
    ) -> Answers {
        self.present_measured(net, inputs, labels, learn, probe, None)
    }

    /// [`Self::present`], also measuring on every learning step the angle between each learning hidden layer's ι
    /// and backprop's (SPEC §4, [`crate::alignment`]) into `meter`.
    pub fn present_measured(
        &mut self,
        net: &mut Network,
        inputs: ArrayView2<'_, f32>,
        labels: &[u8],
        learn: bool,
        probe: &mut dyn Probe,
        mut meter: Option<&mut AlignmentMeter>,
    ) -> Answers {
        assert_eq!(inputs.dim(), self.input.dim(), "input batch shape");
        assert_eq!(labels.len(), self.examples, "one label per example");
        let m = &self.model;
        let (steps, settle) = (m.steps, m.settle_steps);
        let nl = self.layers.len();
        let out = nl - 1;
        let mu = m.file.learning.momentum;
        let scale = m.file.learning.batch_reduction.scale(self.examples);
        let learns: Vec<bool> = m.learns.iter().map(|&l| l && learn).collect();
        let any_learns = learns.iter().any(|&l| l);
        let (eta_out, derivative, reset) = (m.eta[nl - 1], m.derivative, m.file.protocol.reset_between_examples);
        let observe = probe.wants_teaching();

        self.input.assign(&inputs);
        one_hot_into(&mut self.target, labels);
        for (b_t, b) in self.broadcast_t.iter_mut().zip(&net.broadcast) {
            b_t.assign(&b.t());
        }
        if reset {
            self.layers.iter_mut().for_each(LifColumns::reset);
            if let Some((exc, inh, _)) = &mut self.pool_cells {
                exc.reset();
                inh.reset();
            }
        }
        self.counts.fill(0.0);
        // A learning first layer may be carried through the Gram matrix of its constant input (snn_plasticity::gram).
        let use_gram = learns[0] && self.gram.is_some();
        if use_gram && let Some(g) = &mut self.gram {
            g.begin(&net.projections[0], self.input.view(), mu, scale);
        }
        for (l, carry) in self.carries.iter_mut().enumerate() {
            if let Some(c) = carry {
                c.begin(&net.projections[l]);
            }
        }

        let mut non_finite = None;
        for s in 0..steps {
            // 1. Forward: every layer from the layer below's activity of this step. The first layer's input is
            //    constant, so its drive changes only after a step that changed its weights (a learning step).
            for l in 0..nl {
                let recompute = !(l == 0 && s > 0 && !(learns[0] && s > settle));
                let bad = if l < out {
                    self.forward_hidden(net, l, recompute, use_gram)
                } else {
                    self.forward_output(net, recompute, use_gram)
                };
                if let Some(slot) = bad {
                    non_finite = Some(NonFiniteDrive {
                        layer: l,
                        step: s,
                        slot,
                    });
                    break;
                }
            }
            if non_finite.is_some() {
                break; // the run stops: no learning from a broken drive
            }
            // 2. Error pools, same step.
            self.error_pools();
            // 3. Answer and learning, for t > settle.
            if s >= settle {
                self.counts += self.layers[out].a.single();
                if any_learns {
                    Zip::from(&mut self.error)
                        .and(&self.err_exc)
                        .and(&self.err_inh)
                        .for_each(|e, &p, &n| *e = p - n);
                    // An example whose error pools are silent has δ = 0, so ι = 0, in every layer: the updates skip it.
                    let error = &self.error;
                    self.active.clear();
                    self.active
                        .extend((0..self.examples).filter(|&e| error.row(e).iter().any(|&x| x != 0.0)));
                    if use_gram && let Some(g) = &mut self.gram {
                        let active = &self.active;
                        g.select_rows(|e| active.binary_search(&e).is_ok());
                    }
                    if learns[out] {
                        self.delta[out].single_mut().assign(&self.error);
                        let (v, d) = (self.drive[out].single().view(), self.delta[out].single().view());
                        teaching_signal_into(self.iota[out].single_mut(), v, d, eta_out, derivative);
                    }
                    self.observed = observe && learns[..out].iter().any(|&l| l);
                    if self.observed {
                        self.observe_teaching(&learns);
                    }
                    if meter.is_some() {
                        // Backprop's ι from the weights before this step's update, for the examples with an error.
                        // It reads the weights of the layers above: those carried transposed are written back first.
                        for (l, carry) in self.carries.iter().enumerate() {
                            if let Some(c) = carry {
                                c.store_weights(&mut net.projections[l]);
                            }
                        }
                        let (m, examples) = (&self.model, self.examples);
                        self.reference
                            .get_or_insert_with(|| Reference::new(examples, &m.layers()[1..]))
                            .form_rows(m, net, &self.drive, &self.error, &self.active, &learns);
                    }
                    self.learn_hidden_layers(net, &learns, use_gram);
                    if let (Some(meter), Some(reference)) = (meter.as_deref_mut(), &mut self.reference) {
                        // Against the compacted ι the updates used (the same values as the whole arrays' rows).
                        reference.compare_blocks(&self.iota_rows, self.active.len(), &learns, meter);
                    }
                    if learns[out] {
                        self.learn_output(net, use_gram);
                    }
                    if use_gram && let Some(g) = &mut self.gram {
                        g.advance(); // one step of σ and μ^k, whichever layer the carry serves
                    }
                }
            }
            let learning_now = s >= settle;
            for (l, flag) in self.learned_now.iter_mut().enumerate() {
                *flag = learning_now && learns[l] && (l == out || self.observed);
            }
            probe.after_step(
                s,
                &Populations {
                    input: &self.input,
                    layers: &self.layers,
                    err_exc: &self.err_exc,
                    err_inh: &self.err_inh,
                    drive: &self.drive,
                    delta: &self.delta,
                    iota: &self.iota,
                    learned: &self.learned_now,
                },
            );
        }
        if use_gram && let Some(g) = &mut self.gram {
            g.finish(&mut net.projections[0]);
        }
        for (l, carry) in self.carries.iter().enumerate() {
            if let (Some(c), true) = (carry, learns[l]) {
                c.store(&mut net.projections[l]);
            }
        }
        let predicted = self
            .counts
            .rows()
            .into_iter()
            .map(|r| strict_argmax(r.as_slice().unwrap()))
            .collect();
        Answers {
            counts: self.counts.clone(),
            predicted,
            non_finite,
        }
    }

    /// One step of hidden layer `l`, in parallel over its blocks of [`block_width`] cells: each block computes its drive
    /// (if `recompute`; through the Gram carry for a carried first layer), steps its LIF cells, and, below the
    /// output, its share of the output drive. Returns the first example whose drive is not finite, if any.
    fn forward_hidden(&mut self, net: &Network, l: usize, recompute: bool, use_gram: bool) -> Option<usize> {
        let lif = self.model.lif;
        let width = self.drive[l].width();
        let blocks = self.drive[l].blocks().len();
        let (below, here) = self.layers.split_at_mut(l);
        let pre = match below.last() {
            Some(state) => Values::Blocks(&state.a),
            None => Values::Whole(self.input.view()),
        };
        let proj = &net.projections[l];
        let above = (l + 2 == self.drive.len()).then(|| {
            net.projections[l + 1]
                .w
                .axis_chunks_iter(Axis(1), width)
                .into_par_iter()
                .zip(self.partials.par_iter_mut())
        });
        let gram = self.gram.as_mut().filter(|_| l == 0 && use_gram);
        if let Some(g) = &gram {
            assert_eq!(g.width(), width, "the carry's blocks are the layer's");
        }
        let carry = self.carries[l].as_mut().map(|c| {
            assert_eq!(c.width(), width, "the carry's blocks are the layer's");
            c.blocks_mut()
        });
        // The active cells of the layer below (listed on its step), and of this layer's blocks, for the layer above.
        let (fired_below, fired_here) = self.fired.split_at_mut(l);
        let fired_below: &[ActiveInputs] = fired_below.last().map_or(&[], |f| &f[..]);
        let fired_here = (!fired_here[0].is_empty()).then(|| fired_here[0].par_iter_mut());
        self.drive[l]
            .par_blocks_mut()
            .zip(here[0].blocks_mut())
            .zip(proj.w.axis_chunks_iter(Axis(0), width).into_par_iter())
            .zip(proj.b.axis_chunks_iter(Axis(0), width).into_par_iter())
            .zip(optional(gram.map(|g| g.drive_blocks_mut()), blocks))
            .zip(optional(carry, blocks))
            .zip(optional(fired_here, blocks))
            .zip(optional(above, blocks))
            .map(|(((((((v, mut state), w), b), gram), carry), fired), above)| {
                let mut bad = None;
                if recompute {
                    // Drive, finiteness check and LIF update row by row, while the row is in L1.
                    match (&gram, carry) {
                        (Some(_), _) => {}
                        (None, Some(c)) => {
                            c.drive(fired_below, b.to_slice().expect("contiguous biases"), &mut v.view_mut())
                        }
                        (None, None) => drive_block_from(pre, w, b, &mut v.view_mut()),
                    }
                    let (mut gram, b) = (gram, b.to_slice().expect("contiguous biases"));
                    for (e, mut v) in v.rows_mut().into_iter().enumerate() {
                        let v = v.as_slice_mut().expect("rows of a block are contiguous");
                        if let Some(g) = &mut gram {
                            g.drive_row(e, b, v);
                        }
                        if bad.is_none() && !all_finite_slice(v) {
                            bad = Some(e);
                        }
                        state.step_row(&lif, e, v);
                    }
                } else {
                    state.step(&lif, v.view());
                }
                if let Some(fired) = fired {
                    fired.collect(state.a.view());
                }
                if let Some((w_above, partial)) = above {
                    partial_drive(w_above, state.a.view(), &mut partial.view_mut());
                }
                bad
            })
            .filter_map(|bad| bad)
            .min()
    }

    /// One step of the output layer: its drive from the blocks' partial sums (or, without hidden layers, from the
    /// input), then its LIF cells. Returns the first example whose drive is not finite, if any.
    fn forward_output(&mut self, net: &Network, recompute: bool, use_gram: bool) -> Option<usize> {
        let out = self.drive.len() - 1;
        let drive = self.drive[out].single_mut();
        if out > 0 {
            net.projections[out].drive_from_partials(&self.partials, drive);
        } else if recompute {
            match self.gram.as_mut().filter(|_| use_gram) {
                Some(g) => g.drive_into(&net.projections[0], drive),
                None => net.projections[0].drive_into(self.input.view(), drive),
            }
        }
        let bad = if recompute {
            first_non_finite_row(drive.view())
        } else {
            None
        };
        if bad.is_none() {
            self.layers[out].step(&self.model.lif, &self.drive[out]);
        }
        bad
    }

    /// The error pools of this step (SPEC §2.1): `e⁺ = max(a_out − y*, 0)`, `e⁻ = max(y* − a_out, 0)`, relayed or
    /// through LIF pool cells.
    fn error_pools(&mut self) {
        let lif = self.model.lif;
        let out = self.layers[self.layers.len() - 1].a.single();
        match (&mut self.pool_cells, &self.model.file.network.error_pools) {
            (None, _) => Zip::from(&mut self.err_exc)
                .and(&mut self.err_inh)
                .and(out)
                .and(&self.target)
                .for_each(|exc, inh, &a, &y| {
                    *exc = (a - y).max(0.0);
                    *inh = (y - a).max(0.0);
                }),
            (Some((exc, inh, drive)), ErrorPools::Lif { gain }) => {
                let gain = *gain;
                Zip::from(&mut *drive)
                    .and(out)
                    .and(&self.target)
                    .for_each(|d, &a, &y| *d = gain * (a - y));
                exc.step(&lif, drive.view());
                drive.mapv_inplace(|d| -d);
                inh.step(&lif, drive.view());
                self.err_exc.assign(&exc.a);
                self.err_inh.assign(&inh.a);
            }
            (Some(_), ErrorPools::Relay) => unreachable!("pool cells exist only for LIF pools"),
        }
    }

    /// [`Self::learn_hidden`] of every hidden layer, top down.
    fn learn_hidden_layers(&mut self, net: &mut Network, learns: &[bool], use_gram: bool) {
        for l in (0..self.layers.len() - 1).rev() {
            self.learn_hidden(net, l, learns, use_gram);
        }
    }

    /// δ and ι of every learning hidden layer as whole `[examples, cells]` arrays, for probes that ask for them, in
    /// parallel over blocks: the same values the updates use, zero for silent examples.
    fn observe_teaching(&mut self, learns: &[bool]) {
        let m = &self.model;
        for l in (0..self.layers.len() - 1).filter(|&l| learns[l]) {
            let width = self.drive[l].width();
            let (eta, derivative, error) = (m.eta[l], m.derivative, self.error.view());
            self.delta[l]
                .par_blocks_mut()
                .zip(self.iota[l].par_blocks_mut())
                .zip(self.drive[l].par_blocks())
                .zip(self.broadcast_t[l].axis_chunks_iter(Axis(1), width).into_par_iter())
                .for_each(|(((delta, iota), v), b_t)| {
                    let (mut delta, mut iota) = (delta.view_mut(), iota.view_mut());
                    broadcast_teaching_block(&mut delta, &mut iota, v.view(), error, b_t, eta, derivative);
                });
        }
    }

    /// A learning step of hidden layer `l` (if it learns) and of the output weights fed by it (if `l` is the last
    /// hidden layer and the output learns), in parallel over `l`'s blocks: `δ = e B_BAᵀ` and `ι = η f'(v) δ`
    /// (eq 2.11) of the examples with an error, then the momentum update of the block's rows of W (or its Gram
    /// carry) and biases, and of the block's columns of the output weights.
    fn learn_hidden(&mut self, net: &mut Network, l: usize, learns: &[bool], use_gram: bool) {
        let out = self.drive.len() - 1;
        let output_above = l + 1 == out && learns[out];
        if !(learns[l] || output_above) {
            return;
        }
        let m = &self.model;
        let (mu, scale) = (
            m.file.learning.momentum,
            m.file.learning.batch_reduction.scale(self.examples),
        );
        let (eta, derivative, learn_l) = (m.eta[l], m.derivative, learns[l]);
        let width = self.drive[l].width();
        let blocks = self.drive[l].blocks().len();
        let (active, n) = (&self.active[..], self.active.len());
        let gram = self.gram.as_mut().filter(|_| l == 0 && use_gram);
        // The activity below, for the active examples alone (all of them: the activity itself). A hidden layer's
        // activity is kept in column blocks, so its rows are always gathered.
        let pre = match (learn_l && gram.is_none(), l) {
            (false, _) => self.input.view(),
            (true, 0) if n == self.examples => self.input.view(),
            (true, 0) => {
                let rows = &mut self.pre_rows[0];
                for (mut dst, &e) in rows.rows_mut().into_iter().zip(active) {
                    dst.assign(&self.input.row(e));
                }
                rows.slice(s![..n, ..])
            }
            (true, _) => {
                let (rows, below) = (&mut self.pre_rows[l], &self.layers[l - 1].a);
                for (dst, &e) in rows.rows_mut().into_iter().zip(active) {
                    below.copy_row_into(e, dst);
                }
                rows.slice(s![..n, ..])
            }
        };
        let error = self.error.view();
        let iota_out = self.iota[out].single().view();
        let (lower, upper) = net.projections.split_at_mut(l + 1);
        let above = output_above.then(|| upper[0].pre_blocks_mut(width));
        let carry = self.carries[l].as_mut().map(|c| c.blocks_mut());
        lower[l]
            .post_blocks_mut(width)
            .zip(self.iota_rows[l].par_blocks_mut())
            .zip(self.drive[l].par_blocks())
            .zip(self.broadcast_t[l].axis_chunks_iter(Axis(1), width).into_par_iter())
            .zip(self.layers[l].a.par_blocks())
            .zip(optional(gram.map(|g| g.learn_blocks_mut()), blocks))
            .zip(optional(carry, blocks))
            .zip(optional(above, blocks))
            .for_each(|(((((((mut proj, iota), v), b_t), a_here), gram), carry), above)| {
                if learn_l {
                    let mut iota = iota.slice_mut(s![..n, ..]);
                    broadcast_teaching_rows(&mut iota, v.view(), error, active, b_t, eta, derivative);
                    match (gram, carry) {
                        (Some(mut g), _) => g.learn(iota.view()),
                        (None, Some(c)) => c.learn(iota.view(), pre, mu, scale),
                        (None, None) => proj.learn_weights(iota.view(), pre, mu, scale),
                    }
                    proj.learn_biases(iota.view(), mu, scale);
                }
                if let Some(mut above) = above {
                    above.learn_weights(iota_out, a_here.view(), mu, scale);
                }
            });
    }

    /// The output layer's learning step: its biases, and its weights too when it reads the input directly (no hidden
    /// layer; otherwise [`Self::learn_hidden`] updated them block by block).
    fn learn_output(&mut self, net: &mut Network, use_gram: bool) {
        let m = &self.model;
        let (mu, scale) = (
            m.file.learning.momentum,
            m.file.learning.batch_reduction.scale(self.examples),
        );
        let out = self.drive.len() - 1;
        let iota = self.iota[out].single().view();
        let proj = &mut net.projections[out];
        if out > 0 {
            learn_biases(&mut proj.db, &mut proj.b, iota, mu, scale);
        } else {
            match self.gram.as_mut().filter(|_| use_gram) {
                Some(g) => g.learn(proj, iota),
                None => proj.learn(iota, self.input.view(), mu, scale),
            }
        }
    }

    /// The drive of LIF layer `layer` (0 = first hidden) at the last step.
    pub fn drive(&self, layer: usize) -> Values<'_> {
        Values::Blocks(&self.drive[layer])
    }
}

/// `v = a_pre Wᵀ + b` for the cells of a post block (`w` its rows of W, `b` its biases, `v` `[examples, block
/// cells]`), from a whole input or from the column blocks of the layer below (summed block by block, in order).
fn drive_block_from(
    pre: Values<'_>,
    w: ArrayView2<'_, f32>,
    b: ndarray::ArrayView1<'_, f32>,
    v: &mut ndarray::ArrayViewMut2<'_, f32>,
) {
    match pre {
        Values::Whole(a) => drive_block(a, w, b, v),
        Values::Blocks(a) => {
            let width = a.width();
            for (k, (a, w)) in a.blocks().iter().zip(w.axis_chunks_iter(Axis(1), width)).enumerate() {
                mat_mul_into(1.0, a.view(), w.t(), if k == 0 { 0.0 } else { 1.0 }, v);
            }
            *v += &b;
        }
    }
}

/// Index of the strictly largest value; `None` if the largest value is shared.
pub fn strict_argmax(v: &[f32]) -> Option<usize> {
    let (mut best, mut at, mut tie) = (f32::NEG_INFINITY, None, false);
    for (i, &x) in v.iter().enumerate() {
        if x > best {
            (best, at, tie) = (x, Some(i), false);
        } else if x == best {
            tie = true;
        }
    }
    if tie { None } else { at }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A population read through `Values` gives the same numbers whether it is a whole array or column blocks.
    #[test]
    fn values_read_the_same_from_a_whole_array_and_from_column_blocks() {
        let dense = Array2::from_shape_fn((3, 11), |(e, c)| (e * 100 + c) as f32);
        let mut blocks = ColumnBlocks::zeros(3, 11, 4);
        blocks.assign(dense.view());
        let (whole, blocked) = (Values::Whole(dense.view()), Values::Blocks(&blocks));
        assert_eq!(whole.dim(), blocked.dim());
        for e in 0..3 {
            assert_eq!(whole.row(e).collect::<Vec<_>>(), blocked.row(e).collect::<Vec<_>>());
            for c in 0..11 {
                assert_eq!(whole.get(e, c), blocked.get(e, c));
            }
        }
        assert_eq!(whole.iter().collect::<Vec<_>>(), blocked.iter().collect::<Vec<_>>());
        assert_eq!(blocked.to_owned(), dense);
    }

    #[test]
    fn block_width_is_even_split_on_cache_lines() {
        assert_eq!(block_width(1000), 256);
        assert_eq!(block_width(630), 160);
        assert_eq!(block_width(370), 192);
        assert_eq!(block_width(10), 16);
    }
}
