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
//! There is no separate backward phase: feedback uses this step's output. The input layer is graded and constant,
//! so while the first projection does not learn its drive is computed once per presentation (exactly the value every
//! step would compute).

use crate::alignment::AlignmentMeter;
use crate::model::{ErrorPools, Model};
use crate::network::Network;
use crate::rate_simulator::Reference;
use ndarray::{Array2, ArrayView2, Zip, linalg::general_mat_mul};
use snn_neuron::LifState;
use snn_plasticity::{GramCarry, teaching_signal_into};

/// Read access to every population of a presentation, by raster index (see [`Model::population_names`]).
pub struct Populations<'a> {
    input: &'a Array2<f32>,
    layers: &'a [LifState],
    err_exc: &'a Array2<f32>,
    err_inh: &'a Array2<f32>,
    drive: &'a [Array2<f32>],
    delta: &'a [Array2<f32>],
    iota: &'a [Array2<f32>],
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
    pub fn activity(&self, index: usize) -> ArrayView2<'_, f32> {
        let n = self.layers.len();
        match index {
            0 => self.input.view(),
            i if i <= n => self.layers[i - 1].a.view(),
            i if i == n + 1 => self.err_exc.view(),
            i if i == n + 2 => self.err_inh.view(),
            _ => panic!("population index {index} out of range"),
        }
    }

    /// Hillock potentials of LIF layer `layer` (0 = first hidden).
    pub fn hillock(&self, layer: usize) -> ArrayView2<'_, f32> {
        self.layers[layer].h.view()
    }

    /// Drive v of LIF layer `layer` on this step.
    pub fn drive(&self, layer: usize) -> ArrayView2<'_, f32> {
        self.drive[layer].view()
    }

    /// Feedback δ and teaching signal ι of LIF layer `layer`, if that layer learned on this step.
    pub fn teaching(&self, layer: usize) -> Option<(ArrayView2<'_, f32>, ArrayView2<'_, f32>)> {
        self.learned[layer].then(|| (self.delta[layer].view(), self.iota[layer].view()))
    }
}

/// Something that watches a presentation step by step (a raster recorder, a trace probe).
pub trait Probe {
    /// Called after every step with the state of all populations.
    fn after_step(&mut self, step: usize, populations: &Populations<'_>);
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
fn all_finite(a: &Array2<f32>) -> bool {
    match a.as_slice() {
        Some(s) => !s.iter().fold(false, |bad, x| bad | !x.is_finite()),
        None => a.iter().all(|x| x.is_finite()),
    }
}

/// The first example (row) of `drive` holding a NaN or infinite value, if any: the fast check first, the search only
/// when it fails.
pub(crate) fn first_non_finite_row(drive: &Array2<f32>) -> Option<usize> {
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

/// State buffers of a minibatch (all `[examples, cells]`), reused across presentations: no allocation per step.
pub struct Simulator {
    model: Model,
    examples: usize,
    input: Array2<f32>,
    drive: Vec<Array2<f32>>,
    layers: Vec<LifState>,
    target: Array2<f32>,
    err_exc: Array2<f32>,
    err_inh: Array2<f32>,
    pool_cells: Option<(LifState, LifState, Array2<f32>)>,
    error: Array2<f32>,
    delta: Vec<Array2<f32>>,
    iota: Vec<Array2<f32>>,
    counts: Array2<f32>,
    gram: Option<GramCarry>,
    learned_now: Vec<bool>,
    reference: Option<Reference>,
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
        Self {
            model: model.clone(),
            examples,
            input: zeros(sizes[0]),
            drive: lif_sizes.iter().map(|&n| zeros(n)).collect(),
            layers: lif_sizes.iter().map(|&n| LifState::new(examples, n)).collect(),
            target: zeros(out),
            err_exc: zeros(out),
            err_inh: zeros(out),
            pool_cells,
            error: zeros(out),
            delta: lif_sizes.iter().map(|&n| zeros(n)).collect(),
            iota: lif_sizes.iter().map(|&n| zeros(n)).collect(),
            counts: zeros(out),
            gram: (model.learns[0] && model.first_layer_uses_gram(examples))
                .then(|| GramCarry::new(examples, sizes[0], sizes[1])),
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
        let lif = m.lif;
        let (steps, settle) = (m.steps, m.settle_steps);
        let nl = self.layers.len();
        let mu = m.file.learning.momentum;
        let scale = m.file.learning.batch_reduction.scale(self.examples);
        let derivative = m.derivative;
        let learns: Vec<bool> = m.learns.iter().map(|&l| l && learn).collect();

        self.input.assign(&inputs);
        one_hot_into(&mut self.target, labels);
        if m.file.protocol.reset_between_examples {
            self.layers.iter_mut().for_each(LifState::reset);
            if let Some((exc, inh, _)) = &mut self.pool_cells {
                exc.reset();
                inh.reset();
            }
        }
        self.counts.fill(0.0);
        // A learning first layer may be carried through the Gram matrix of its constant input (snn_plasticity::gram).
        let mut gram = if learns[0] { self.gram.as_mut() } else { None };
        if let Some(g) = &mut gram {
            g.begin(&net.projections[0], self.input.view(), mu, scale);
        }

        let mut non_finite = None;
        for s in 0..steps {
            // 1. Forward: every layer from the layer below's activity of this step. The first layer's input is
            //    constant, so its drive changes only after a step that changed its weights (a learning step).
            for l in 0..nl {
                let unchanged = l == 0 && s > 0 && !(learns[0] && s > settle);
                if !unchanged {
                    match (&gram, l) {
                        (Some(g), 0) => g.drive_into(&net.projections[0], &mut self.drive[0]),
                        _ => {
                            let pre = if l == 0 {
                                self.input.view()
                            } else {
                                self.layers[l - 1].a.view()
                            };
                            net.projections[l].drive_into(pre, &mut self.drive[l]);
                        }
                    }
                }
                if let Some(slot) = (!unchanged).then(|| first_non_finite_row(&self.drive[l])).flatten() {
                    non_finite = Some(NonFiniteDrive {
                        layer: l,
                        step: s,
                        slot,
                    });
                    break;
                }
                self.layers[l].step(&lif, self.drive[l].view());
            }
            if non_finite.is_some() {
                break; // the run stops: no learning from a broken drive
            }
            // 2. Error pools, same step.
            let out = &self.layers[nl - 1].a;
            match (&mut self.pool_cells, &m.file.network.error_pools) {
                (None, _) => Zip::from(&mut self.err_exc)
                    .and(&mut self.err_inh)
                    .and(out)
                    .and(&self.target)
                    .for_each(|exc, inh, &a, &y| {
                        *exc = (a - y).max(0.0);
                        *inh = (y - a).max(0.0);
                    }),
                (Some((exc, inh, drive)), ErrorPools::Lif { gain }) => {
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
            // 3. Answer and learning, for t > settle.
            if s >= settle {
                self.counts += out;
                if learns.iter().any(|&l| l) {
                    Zip::from(&mut self.error)
                        .and(&self.err_exc)
                        .and(&self.err_inh)
                        .for_each(|e, &p, &n| *e = p - n);
                    for l in (0..nl).rev().filter(|&l| learns[l]) {
                        if l == nl - 1 {
                            self.delta[l].assign(&self.error);
                        } else {
                            general_mat_mul(1.0, &self.error, &net.broadcast[l].t(), 0.0, &mut self.delta[l]);
                        }
                        teaching_signal_into(
                            &mut self.iota[l],
                            self.drive[l].view(),
                            self.delta[l].view(),
                            m.eta[l],
                            derivative,
                        );
                    }
                    if let Some(meter) = meter.as_deref_mut() {
                        let sizes = &m.layers()[1..];
                        let examples = self.examples;
                        self.reference
                            .get_or_insert_with(|| Reference::new(examples, sizes))
                            .measure(m, net, &self.drive, &self.error, &self.iota, &learns, meter);
                    }
                    for l in (0..nl).rev().filter(|&l| learns[l]) {
                        match (&mut gram, l) {
                            (Some(g), 0) => g.learn(&mut net.projections[0], self.iota[0].view()),
                            _ => {
                                let pre = if l == 0 {
                                    self.input.view()
                                } else {
                                    self.layers[l - 1].a.view()
                                };
                                net.projections[l].learn(self.iota[l].view(), pre, mu, scale);
                            }
                        }
                    }
                }
            }
            let learning_now = s >= settle;
            for (l, flag) in self.learned_now.iter_mut().enumerate() {
                *flag = learning_now && learns[l];
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
        if let Some(g) = gram {
            g.finish(&mut net.projections[0]);
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

    /// The drive of LIF layer `layer` (0 = first hidden) at the last step.
    pub fn drive(&self, layer: usize) -> ArrayView2<'_, f32> {
        self.drive[layer].view()
    }

    /// The teaching signal ι of LIF layer `layer` at the last learning step.
    pub fn iota(&self, layer: usize) -> ArrayView2<'_, f32> {
        self.iota[layer].view()
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
