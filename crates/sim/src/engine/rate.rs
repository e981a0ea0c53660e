//! Nonspiking networks (Samadi §3.1, §3.3; SPEC §2.5): the same synapses, initialisation, learning rates and
//! momentum as the LIF networks, with rate cells `a = f(v) = max(0, c1 tanh(c2 v))` (eq 2.10).
//!
//! Per step (one per minibatch, or `k` with `network.cells: Rate(steps: k)` when learning, SPEC §2.5's stepped
//! presentation with k = 320):
//! 1. forward, layer by layer: `v = a_below Wᵀ + b`, `a = f(v)`;
//! 2. answer: the most active output cell; cells tied at a saturated activity (f32 rounds `c1 tanh(c2 v)` to c1 above
//!    v ≈ 110) are told apart by their drives, as exact arithmetic would; a tie at zero activity is `None`
//!    ([`crate::answers::most_active`]);
//! 3. when learning, with `e = a_out − y*` (one-hot y*): δ = e at the output; each hidden layer's δ through its
//!    feedback pathway (chained: `δ_(n) = B (f'(v_(n+1)) ⊙ δ_(n+1))` with B = W_(n+1)ᵀ for BP or B_FA(n) for FA;
//!    broadcast: `δ_(n) = B_BA(n) e`), `ι = η f'(v) δ` with the layer's derivative term, all signals formed before
//!    any weight changes; then the momentum update of every learning projection (`ΔW ← μ ΔW − s ιᵀ a_pre`).
//!
//! A learning presentation of k steps changes only the learning layers, and the first of them sees the same input on
//! every step (the data, or the activity of the fixed layers below it): the layers below are computed once per
//! presentation, and the first learning layer's drive is carried forward through the Gram matrix of its input
//! ([`snn_plasticity::gram`], exact algebra; `engine.first_layer` chooses, [`Model::rate_gram_layer`]), its
//! weights materialised once at the end of the presentation. Nothing else reads that layer's weights during the
//! presentation: the δ chain stops at the first learning layer.
//!
//! DF's hidden layers have `ι = η e B_BAᵀ`, of rank at most the number of output cells: their updates (and the
//! carry's `G ι`) are taken through the two factors ([`snn_plasticity::low_rank`]), 10 multiply-adds per weight
//! instead of 100 for a minibatch of 100; ι itself is still formed, for the biases, the carry's sums and the probes.
//!
//! With BP every layer's ι is exactly `η / (c1 c2)` times the gradient of `½ Σ e²` with respect to its drive, so BP is
//! gradient descent with momentum at learning rate `η / (c1 c2)` per layer (see `snn_plasticity::chain`).

use crate::alignment::{AlignmentMeter, Reference};
use crate::answers::{Answers, NonFiniteDrive, first_non_finite_row, most_active, one_hot_into};
use crate::engine::boundary::{Engine, Presentation, Watch};
use crate::model::{CellKind, Model, Plan};
use crate::network::Network;
use crate::probe::{Probe, StepView, Values};
use crate::roster::{PopId, Role, Roster, Variable};
use ndarray::{Array2, ArrayView2, Zip};
use rayon::prelude::*;
use snn_neuron::rate::tanh_fit_with_sech2;
use snn_plasticity::matmul::mat_mul_into;
use snn_plasticity::projection::POST_BLOCK;
use snn_plasticity::{
    Carrier, Derivative, GramCarry, LowRankIota, Pathway, Reach, chain_delta_into, teaching_signal_into,
    teaching_signal_with_sech2_into,
};

/// A nonspiking network's simulator for minibatches of a fixed size, its buffers reused across minibatches.
pub struct RateEngine {
    model: Model,
    roster: Roster,
    examples: usize,
    c1: f32,
    c2: f32,
    drive: Vec<Array2<f32>>,
    act: Vec<Array2<f32>>,
    /// `sech²(c2 v)` of every cell, computed with its activation: the learning layers' ι reads it instead of
    /// evaluating the exponential again (the same bits).
    sech2: Vec<Array2<f32>>,
    /// The true class's target (`learning.class_target`).
    class_target: f32,
    /// The one-hot target of the minibatch being presented, built once per presentation from its labels.
    target: Array2<f32>,
    error: Array2<f32>,
    delta: Vec<Array2<f32>>,
    iota: Vec<Array2<f32>>,
    scratch: Vec<Array2<f32>>,
    /// Per layer, `η eᵀ a_pre` (`[output cells, pre]`) of a layer whose ι is of low rank ([`low_rank_iota`]).
    projected: Vec<Array2<f32>>,
    /// Per layer, whether its δ and ι were formed on the last step.
    learned: Vec<bool>,
    reference: Option<Reference>,
    /// The first learning layer: the layers below it keep their values through a presentation.
    first_learning: usize,
    /// That layer's drive carried through the Gram matrix of its constant input in learning presentations.
    gram: Option<GramCarry>,
}

impl RateEngine {
    /// Buffers for minibatches of `examples` examples of `model` (which must have `Rate` cells).
    pub fn new(model: &Model, examples: usize) -> Self {
        let sizes = &model.layers()[1..];
        let zeros = |&n: &usize| Array2::<f32>::zeros((examples, n));
        let out = *sizes.last().expect("an output layer");
        let (c1, c2) = match model.plan().chain_derivative() {
            Derivative::TanhFit { c1, c2 }
            | Derivative::TanhFitUnmasked { c1, c2 }
            | Derivative::TanhFitSoft { c1, c2, .. } => (c1, c2),
            _ => unreachable!("the chain derivative is the tanh fit's"),
        };
        Self {
            model: model.clone(),
            roster: model.roster().clone(),
            examples,
            c1,
            c2,
            drive: sizes.iter().map(zeros).collect(),
            act: sizes.iter().map(zeros).collect(),
            sech2: sizes.iter().map(zeros).collect(),
            class_target: model.file().learning.class_target,
            target: Array2::zeros((examples, out)),
            error: Array2::zeros((examples, out)),
            delta: sizes.iter().map(zeros).collect(),
            iota: sizes.iter().map(zeros).collect(),
            scratch: sizes.iter().map(zeros).collect(),
            projected: model.layers()[..sizes.len()]
                .iter()
                .map(|&pre| Array2::zeros((out, pre)))
                .collect(),
            learned: vec![false; sizes.len()],
            reference: None,
            first_learning: (0..sizes.len())
                .find(|&l| model.plan().learns(l))
                .unwrap_or(sizes.len()),
            gram: model.rate_gram_layer(examples).map(|l| {
                let layers = model.layers();
                GramCarry::new(examples, layers[l], layers[l + 1], POST_BLOCK)
            }),
        }
    }

    /// Drive v of the population fed by weight layer `layer`, in the last step.
    pub fn drive(&self, layer: usize) -> ArrayView2<'_, f32> {
        self.drive[layer].view()
    }

    /// Activity a = f(v) of the population fed by weight layer `layer`, in the last step.
    pub fn activity(&self, layer: usize) -> ArrayView2<'_, f32> {
        self.act[layer].view()
    }

    /// Teaching signal ι of weight layer `layer` in the last learning step.
    pub fn iota(&self, layer: usize) -> ArrayView2<'_, f32> {
        self.iota[layer].view()
    }

    /// Step `s` of a presentation: forward pass and (if `learn`) one update of every learning layer; with a
    /// `meter`, also the alignment of each learning hidden layer's teaching signal with backprop's. Shown to `probe`
    /// as step `s`. Returns the first non-finite drive, where the step stopped; the first step also reads the
    /// presentation's answers into `answers`, from the outputs before it learns. After the first step only the
    /// learning layers are computed again; in a learning presentation the Gram carry, if any, begins on the first
    /// step and must be finished by the caller.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        net: &mut Network,
        inputs: ArrayView2<'_, f32>,
        learn: bool,
        meter: Option<&mut AlignmentMeter>,
        probe: &mut dyn Probe,
        s: usize,
        answers: &mut Option<Answers>,
    ) -> Option<NonFiniteDrive> {
        assert_eq!(inputs.nrows(), self.examples, "input batch size");
        let nl = self.drive.len();
        let (c1, c2) = (self.c1, self.c2);
        self.learned.fill(false);
        let unchanged = if s == 0 { 0 } else { self.first_learning };
        for l in unchanged..nl {
            let (done, rest) = self.act.split_at_mut(l);
            let pre = if l == 0 { inputs } else { done[l - 1].view() };
            match &mut self.gram {
                Some(carry) if learn && l == self.first_learning => {
                    if s == 0 {
                        carry.begin(&net.forward[l], pre, self.model.plan().update(self.examples));
                    }
                    carry.drive_into(&net.forward[l], &mut self.drive[l]);
                }
                _ => net.forward[l].drive_into(pre, &mut self.drive[l]),
            }
            if let Some(slot) = first_non_finite_row(self.drive[l].view()) {
                return Some(NonFiniteDrive {
                    population: self.roster.post_of(l),
                    step: s,
                    slot,
                });
            }
            activate(&mut rest[0], &mut self.sech2[l], &self.drive[l], c1, c2);
        }
        if s == 0 {
            *answers = Some(Answers {
                counts: self.act[nl - 1].clone(),
                predicted: most_active(self.act[nl - 1].view(), self.drive[nl - 1].view()),
                non_finite: None,
            });
        }
        let plan = self.model.plan();
        if learn && plan.layers().iter().any(|l| l.learns) {
            self.learn(net, inputs, meter);
        }
        probe.after_step(
            s,
            &RateView {
                engine: self,
                input: inputs,
            },
        );
        None
    }

    /// The learning half of a step: every δ and ι from the weights as they are, before any of them changes, then
    /// the updates. The error is measured against `self.target`, the presentation's.
    fn learn(&mut self, net: &mut Network, inputs: ArrayView2<'_, f32>, meter: Option<&mut AlignmentMeter>) {
        let plan = self.model.plan();
        let nl = self.drive.len();
        Zip::from(&mut self.error)
            .and(&self.act[nl - 1])
            .and(&self.target)
            .for_each(|e, &a, &y| *e = a - y);
        for l in (0..nl).rev().take_while(|&l| plan.learns(l)) {
            if l == nl - 1 {
                self.delta[l].assign(&self.error);
            } else {
                let (below, above) = self.delta.split_at_mut(l + 1);
                let pathway = &net.feedback[l];
                match (pathway.reach, &pathway.carrier) {
                    (Reach::Chained, carrier) => {
                        let back = match carrier {
                            Carrier::ForwardWeights => net.forward[l + 1].w.view(),
                            Carrier::Matrix(b) => b.t(),
                        };
                        chain_delta_into(
                            &mut below[l],
                            &mut self.scratch[l + 1],
                            self.drive[l + 1].view(),
                            above[0].view(),
                            back,
                            plan.chain_derivative(),
                        );
                    }
                    (Reach::Broadcast, Carrier::Matrix(b)) => {
                        mat_mul_into(1.0, self.error.view(), b.t(), 0.0, &mut below[l].view_mut());
                    }
                    (Reach::Broadcast, Carrier::ForwardWeights) => {
                        unreachable!("a broadcast pathway has a matrix of its own")
                    }
                }
            }
            let layer = plan.layer(l);
            if layer
                .derivative
                .sech2_scale()
                .is_none_or(|c2| c2.to_bits() == self.c2.to_bits())
            {
                teaching_signal_with_sech2_into(
                    &mut self.iota[l],
                    self.drive[l].view(),
                    self.sech2[l].view(),
                    self.delta[l].view(),
                    layer.eta,
                    layer.derivative,
                );
            } else {
                teaching_signal_into(
                    &mut self.iota[l],
                    self.drive[l].view(),
                    self.delta[l].view(),
                    layer.eta,
                    layer.derivative,
                );
            }
            self.learned[l] = true;
        }
        if let Some(meter) = meter {
            let sizes = &self.model.layers()[1..];
            let learns = plan.learning_flags();
            let reference = self
                .reference
                .get_or_insert_with(|| Reference::new(self.examples, sizes));
            reference.measure(plan, net, &self.drive, &self.error, &self.iota, &learns, meter);
        }
        let update = plan.update(self.examples);
        for l in (0..nl).filter(|&l| plan.learns(l)) {
            let iota = self.iota[l].view();
            let low = low_rank_iota(plan, &net.feedback, &self.error, l);
            match &mut self.gram {
                Some(carry) if l == self.first_learning => {
                    match low {
                        Some(low) => carry.learn_low_rank(&mut net.forward[l], iota, low),
                        None => carry.learn(&mut net.forward[l], iota),
                    }
                    carry.advance();
                }
                _ => {
                    let pre = if l == 0 { inputs } else { self.act[l - 1].view() };
                    match low {
                        Some(low) => net.forward[l].learn_low_rank(iota, low, pre, &mut self.projected[l], update),
                        None => net.forward[l].learn(iota, pre, update),
                    }
                }
            }
        }
    }
}

impl Engine for RateEngine {
    fn roster(&self) -> &Roster {
        &self.roster
    }

    fn examples(&self) -> usize {
        self.examples
    }

    /// Presents one minibatch for one step, or for k learning steps with `Rate(steps: k)`; the meter measures on
    /// the first step. The answers are those of the first step, before any learning on this minibatch.
    fn present(&mut self, net: &mut Network, p: &mut Presentation<'_>, watch: &mut Watch<'_>) -> Answers {
        let learn = p.phase.learns();
        let steps = match self.model.cells() {
            CellKind::Rate { steps, .. } if learn => steps,
            _ => 1,
        };
        assert_eq!(p.labels.len(), self.examples, "one label per example");
        if learn {
            one_hot_into(&mut self.target, p.labels, self.class_target);
        }
        let mut meter = watch.meter.as_deref_mut();
        let mut answers = None;
        let mut non_finite = None;
        for s in 0..steps {
            let meter = if s == 0 { meter.take() } else { None };
            non_finite = self.step(net, p.inputs, learn, meter, &mut *watch.probe, s, &mut answers);
            if non_finite.is_some() {
                break;
            }
        }
        if let (true, Some(carry)) = (learn, &mut self.gram) {
            carry.finish(&mut net.forward[self.first_learning]);
        }
        match non_finite {
            // As the LIF engine reports a stopped presentation: no activity, no answer.
            Some(bad) => Answers {
                counts: Array2::zeros((self.examples, *self.model.layers().last().expect("an output layer"))),
                predicted: vec![None; self.examples],
                non_finite: Some(bad),
            },
            None => answers.expect("the first step reads the answers"),
        }
    }
}

/// Layer `l`'s ι as its two factors when it is of low rank: a hidden layer without a derivative term whose δ is
/// broadcast from the output error through a matrix of its own (DF), `ι = η e Bᵀ` with `e` the output error
/// `[examples, outputs]` and B the pathway's matrix `[cells, outputs]`. The matrices do not change within a step's
/// learning half, so the factors stand for the ι formed from them.
fn low_rank_iota<'a>(
    plan: &Plan,
    feedback: &'a [Pathway],
    error: &'a Array2<f32>,
    l: usize,
) -> Option<LowRankIota<'a>> {
    let layer = plan.layer(l);
    match feedback.get(l) {
        Some(Pathway {
            reach: Reach::Broadcast,
            carrier: Carrier::Matrix(b),
            ..
        }) if layer.derivative == Derivative::One => Some(LowRankIota::new(error.view(), b.view(), layer.eta)),
        _ => None,
    }
}

/// `a = f(v)` and `s = sech²(c2 v)` of every cell of a layer, in one pass over contiguous buffers (one exponential
/// per cell for both), in parallel chunks when the layer is large.
fn activate(a: &mut Array2<f32>, s: &mut Array2<f32>, v: &Array2<f32>, c1: f32, c2: f32) {
    let contiguous = "a layer's buffers are contiguous";
    let (a, s, v) = (
        a.as_slice_mut().expect(contiguous),
        s.as_slice_mut().expect(contiguous),
        v.as_slice().expect(contiguous),
    );
    let run = |a: &mut [f32], s: &mut [f32], v: &[f32]| {
        let n = a.len();
        let (s, v) = (&mut s[..n], &v[..n]);
        for k in 0..n {
            (a[k], s[k]) = tanh_fit_with_sech2(v[k], c1, c2);
        }
    };
    if a.len() <= ACTIVATE_CHUNK {
        run(a, s, v);
    } else {
        a.par_chunks_mut(ACTIVATE_CHUNK)
            .zip(s.par_chunks_mut(ACTIVATE_CHUNK))
            .zip(v.par_chunks(ACTIVATE_CHUNK))
            .for_each(|((a, s), v)| run(a, s, v));
    }
}

/// Cells per parallel chunk of [`activate`] (cell by cell: the same bits however the chunks are run).
const ACTIVATE_CHUNK: usize = 16 * 1024;

/// A rate network's populations after one step.
struct RateView<'a> {
    engine: &'a RateEngine,
    input: ArrayView2<'a, f32>,
}

impl StepView for RateView<'_> {
    fn roster(&self) -> &Roster {
        &self.engine.roster
    }

    fn values(&self, pop: PopId, variable: Variable) -> Option<Values<'_>> {
        let e = self.engine;
        match (e.roster.get(pop).role, variable) {
            (Role::Input, Variable::A) => Some(Values::Whole(self.input)),
            (Role::Hidden(_) | Role::Output, _) => {
                let l = e.roster.layer_of(pop)?;
                match variable {
                    Variable::A => Some(Values::Whole(e.act[l].view())),
                    Variable::V => Some(Values::Whole(e.drive[l].view())),
                    Variable::Iota => e.learned[l].then(|| Values::Whole(e.iota[l].view())),
                    Variable::Delta => e.learned[l].then(|| Values::Whole(e.delta[l].view())),
                    Variable::H | Variable::U => None,
                }
            }
            _ => None,
        }
    }
}
