//! LIF networks (SPEC §1–2.4): one presentation of a minibatch, every population stepped in the same Δt step.
//!
//! Per step s (time t = (s + 1) Δt), in Table 1's order:
//! 1. `forward`: every LIF layer, bottom up: drive `v = a_below Wᵀ + b` from the layer below's activity of this
//!    step, then the LIF update;
//! 2. `error_pools`: `e⁺ = max(a_out − y*, 0)` (excitatory), `e⁻ = max(y* − a_out, 0)` (inhibitory), relayed in
//!    the same step or through LIF pool cells (SPEC §2.1);
//! 3. for t > settle (s ≥ settle_steps): output spikes are counted for the answer and, when learning,
//!    `learning`: every learning layer gets `δ = B_BA (e⁺ − e⁻)` (δ = e at the output), `ι = η f'(v) δ` and the
//!    momentum update of its W and b.
//!
//! There is no separate backward phase: feedback uses this step's output. The state buffers are in `buffers`;
//! what probes see, in `view`.
//!
//! Feedback that learns (SPEC §6.6, networks with one hidden layer, where B_BA = γ B_FA): with Kolen-Pollack the
//! broadcast matrix takes, after every learning step, the output weights' increment of that step, transposed
//! (`learning::kolen_pollack_step`); with sign symmetry it is set from the signs of the output weights at the start
//! of every training presentation; with the weight mirror, mirror phases follow every training presentation
//! ([`snn_plasticity::spiking_mirror`]).

mod buffers;
mod error_pools;
mod forward;
mod learning;
mod view;

pub use buffers::{LifEngine, MAX_BLOCK, block_width};

use buffers::TrainingCells;

use crate::answers::{Answers, NonFiniteDrive, Readout, lowest_argmax, one_hot_into};
use crate::engine::boundary::{Engine, Presentation, Watch};
use crate::model::Ties;
use crate::network::Network;
use crate::roster::Roster;
use snn_neuron::{LifColumns, LifState};
use snn_plasticity::{Carrier, FeedbackRule};

impl Engine for LifEngine {
    fn roster(&self) -> &Roster {
        &self.roster
    }

    fn examples(&self) -> usize {
        self.examples
    }

    fn present(&mut self, net: &mut Network, p: &mut Presentation<'_>, watch: &mut Watch<'_>) -> Answers {
        assert_eq!(p.inputs.dim(), self.input.dim(), "input batch shape");
        assert_eq!(p.labels.len(), self.examples, "one label per example");
        let (steps, settle, count_from) = (
            self.model.steps(),
            self.model.settle_steps(),
            self.model.count_from_steps(),
        );
        let learn = p.phase.learns();
        let learns: Vec<bool> = self.model.plan().layers().iter().map(|l| l.learns && learn).collect();
        let any_learns = learns.iter().any(|&l| l);
        let observe = watch.probe.wants_teaching();
        if any_learns {
            net.refresh_sign_symmetry();
        }
        self.set_cells_aside(learn);
        let use_gram = self.begin(net, p, &learns);
        let out = self.layers.len() - 1;
        let mut non_finite = None;
        for s in 0..steps {
            non_finite = self.forward(net, s, &learns, use_gram);
            if non_finite.is_some() {
                break; // the run stops: no learning from a broken drive
            }
            self.error_pools();
            if s >= count_from {
                self.counts += self.layers[out].a.single();
            }
            if s >= settle && any_learns {
                self.error_and_active_examples();
                self.learn_step(net, &learns, use_gram, observe, watch.meter.as_deref_mut());
            }
            self.show(s, s >= settle, &learns, watch);
        }
        self.end(net, &learns, use_gram);
        if any_learns && non_finite.is_none() {
            self.mirror_phases(net, p);
        }
        self.answers(non_finite)
    }

    /// A test pass starts from the training cells' state again (cells carried between examples).
    fn begin_test(&mut self) {
        if let Some(saved) = &self.training_cells {
            self.restore_cells(saved.layers.clone(), saved.pools.clone());
        }
    }
}

impl LifEngine {
    /// Cells carried from example to example (`protocol.reset_between_examples: false`) belong to training: the
    /// first presentation without learning after training sets them aside and runs on a copy, and the next
    /// training presentation takes them back, so test passes and probes leave training as it was.
    fn set_cells_aside(&mut self, learn: bool) {
        if self.model.protocol().reset_between_examples {
            return;
        }
        if learn {
            if let Some(saved) = self.training_cells.take() {
                self.restore_cells(saved.layers, saved.pools);
            }
        } else if self.training_cells.is_none() {
            self.training_cells = Some(TrainingCells {
                layers: self.layers.clone(),
                pools: self.pool_cells.as_ref().map(|(exc, inh, _)| (exc.clone(), inh.clone())),
            });
        }
    }

    fn restore_cells(&mut self, layers: Vec<LifColumns>, pools: Option<(LifState, LifState)>) {
        self.layers = layers;
        if let (Some((exc, inh, _)), Some((e, i))) = (&mut self.pool_cells, pools) {
            (*exc, *inh) = (e, i);
        }
    }

    /// Starts a presentation: inputs and targets in, the broadcast matrices copied transposed, the cells reset
    /// (SPEC §2.4 \[choice\]), the counts cleared, and the carries begun. Returns whether the learning first layer
    /// is carried through the Gram matrix of its constant input (`snn_plasticity::gram`).
    fn begin(&mut self, net: &Network, p: &Presentation<'_>, learns: &[bool]) -> bool {
        self.input.assign(&p.inputs);
        one_hot_into(&mut self.target, p.labels, 1.0);
        for (b_t, pathway) in self.broadcast_t.iter_mut().zip(&net.feedback) {
            b_t.assign(
                &pathway
                    .matrix()
                    .expect("a broadcast pathway has a matrix of its own")
                    .t(),
            );
        }
        if self.model.protocol().reset_between_examples {
            self.layers.iter_mut().for_each(LifColumns::reset);
            if let Some((exc, inh, _)) = &mut self.pool_cells {
                exc.reset();
                inh.reset();
            }
        }
        self.counts.fill(0.0);
        let use_gram = learns[0] && self.gram.is_some();
        if use_gram && let Some(g) = &mut self.gram {
            g.begin(
                &net.forward[0],
                self.input.view(),
                self.model.plan().update(self.examples),
            );
        }
        for (l, carry) in self.carries.iter_mut().enumerate() {
            if let Some(c) = carry {
                c.begin(&net.forward[l]);
            }
        }
        use_gram
    }

    /// Shows step `s` to the probe: δ and ι of a layer only on its learning steps, and of hidden layers only when
    /// they were formed for observers.
    fn show(&mut self, s: usize, learning_now: bool, learns: &[bool], watch: &mut Watch<'_>) {
        let out = self.layers.len() - 1;
        for (l, flag) in self.learned_now.iter_mut().enumerate() {
            *flag = learning_now && learns[l] && (l == out || self.observed);
        }
        watch.probe.after_step(s, &self.view());
    }

    /// Ends a presentation: the carried weights written back into the network, and the broadcast matrices that
    /// learned during it (Kolen-Pollack).
    fn end(&mut self, net: &mut Network, learns: &[bool], use_gram: bool) {
        if learns.iter().any(|&l| l) {
            for (b_t, pathway) in self.broadcast_t.iter().zip(&mut net.feedback) {
                if let (FeedbackRule::KolenPollack { .. }, Carrier::Matrix(b)) = (pathway.rule, &mut pathway.carrier) {
                    b.assign(&b_t.t());
                }
            }
        }
        if use_gram && let Some(g) = &mut self.gram {
            g.finish(&mut net.forward[0]);
        }
        for (l, carry) in self.carries.iter().enumerate() {
            if let (Some(c), true) = (carry, learns[l]) {
                c.store(&mut net.forward[l]);
            }
        }
    }

    /// The weight mirror's phases after a training presentation (SPEC §6.6), noise from the presentation's stream.
    fn mirror_phases(&mut self, net: &mut Network, p: &mut Presentation<'_>) {
        let Some(rule) = self.model.spiking_mirror() else {
            return;
        };
        let Some(FeedbackRule::WeightMirror(m)) = net.feedback.first().map(|p| p.rule) else {
            return;
        };
        let examples = self.examples;
        let mirror = self.mirror.get_or_insert_with(|| net.spiking_mirror_buffers(examples));
        for _ in 0..m.after {
            net.spiking_mirror_phase(mirror, &self.lif, &rule, p.noise);
        }
    }

    /// The answers of the presentation: the output cell with strictly the most spikes, or with `protocol.ties:
    /// Lowest` the lowest-numbered of those with the most.
    fn answers(&self, non_finite: Option<NonFiniteDrive>) -> Answers {
        let mut answers = Answers::read(Readout::ONE_CELL_PER_CLASS, self.counts.clone(), non_finite);
        if self.model.protocol().ties == Ties::Lowest {
            answers.predicted = self
                .counts
                .rows()
                .into_iter()
                .map(|r| lowest_argmax(r.iter().copied()))
                .collect();
        }
        answers
    }
}
