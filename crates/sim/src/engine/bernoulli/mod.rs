//! The stochastic binary network of Lillicrap et al. 2016 (Nature Fig 4; SPEC §5.4): Bernoulli units that integrate
//! their input and spike, feedback units that integrate the error and pass it down through fixed random B, and
//! plasticity of every forward synapse on every step, forward and feedback pathways running at once.
//!
//! One step, for each of the K streams (`protocol.batch_size`), in this order (SPEC §5.4):
//!
//! ```text
//! s⁰ ~ Bernoulli(min(x, input_max))                      x: the stream's current image, pixels / 255
//! for l = 1..m:   u^l = (1 − τ) u^l + τ c^l (W^l s^(l−1) + b^l);   s^l ~ Bernoulli(σ(u^l))
//! δ^m = (1 − τ) δ^m + τ (y* − s^m)                       error units; y* = 1 on the label's group of cells
//! for l = m−1..1: δ^l = (1 − τ) δ^l + τ B^l φ_δ(δ^(l+1))  feedback units, no derivative on the way down
//! if training, for every learning layer l:
//!     g^l = φ_δ(δ^l) ∘ σ′(u^l);   W^l ← (1 − γ) W^l + η Σ_k g^l_k (s^(l−1)_k)ᵀ;   b^l likewise
//! ```
//!
//! with the options of `network.cells: Bernoulli(..)` (`crate::model::BernoulliSpec`): one step of delay per layer
//! instead of same-step propagation, φ_δ, the error units' input, the third factor, the decay's scaling. The decay
//! is exact (`snn_plasticity::online`: the weights are c · w with one f64 scale c per layer). For up to
//! `FUSED_MAX_STREAMS` streams the update of a step is applied in the same pass over the weights as the next step's
//! drive; the network holds every update by the end of each presentation. That pass is event-driven unless
//! `engine.spike_input` is `Product`: the weights are stored by presynaptic cell, and only the synapses of inputs
//! active on the step before (update) or this step (drive) are read or written.
//!
//! The cells of every stream persist from image to image: there is no reset at an image switch (unless
//! `protocol.reset_between_examples` asks for one), and plasticity runs on the first step of an image too. A test
//! pass starts from a copy of the training state, so training resumes from its own. All draws come from the
//! presentation's noise stream in a fixed order (input, then each layer, stream by stream, cell by cell), so results do
//! not depend on the number of threads.
//!
//! The answer of an image is the group of `cells_per_class` output cells with the most spikes over its steps
//! (`readout` for the alternatives).

mod cells;
mod view;

pub use cells::Cells;

use crate::answers::{Answers, NonFiniteDrive, first_non_finite_row};
use crate::engine::boundary::{CellState, Engine, Presentation, Watch};
use crate::model::{BernoulliReadout, BernoulliSpec, DecayScaling, ErrorInput, FeedbackSignal, Model, ThirdFactor};
use crate::network::Network;
use crate::roster::Roster;
use ndarray::parallel::prelude::*;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Zip, s};
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_neuron::bernoulli::{Sigmoidal, fire, fire_inputs, integrate, logistic, logistic_slope};
use snn_plasticity::online::{FUSED_MAX_STREAMS, PendingUpdate, rows_dot_into};
use snn_plasticity::{Carrier, matmul::mat_mul_into, projection::POST_BLOCK};

/// A stochastic binary network's simulator for K streams side by side.
pub struct BernoulliEngine {
    model: Model,
    roster: Roster,
    spec: BernoulliSpec,
    phi: Sigmoidal,
    streams: usize,
    /// The training streams.
    train: Cells,
    /// The test streams (a copy of the training streams at the start of each test pass).
    test: Cells,
    /// Whether the next test presentation starts from a copy of the training state.
    test_from_train: bool,
    /// Drive c (W s + b) of each population fed by a weight layer, this step.
    drive: Vec<Array2<f32>>,
    /// The signal φ_δ(δ) each feedback (and error) unit sends, this step.
    signal: Vec<Array2<f32>>,
    /// The modulatory signal g of each learning layer, this step (rows of the streams that stepped).
    g: Vec<Array2<f32>>,
    /// Spikes of the step before, for one step of delay per layer.
    before: Vec<Array2<f32>>,
    /// Whether updates are applied fused with the next step's drive ([`FUSED_MAX_STREAMS`] streams at most).
    fused: bool,
    /// Whether the fused pass is event-driven (weights stored by presynaptic cell).
    events: bool,
    /// Per weight layer, the update of the last step not yet applied (fused mode): α and γ; its g is in `g`.
    pending: Vec<Option<(f32, f64)>>,
    /// The presynaptic spikes of the pending updates.
    pending_pre: Vec<Array2<f32>>,
    target: Array2<f32>,
    error: Array2<f32>,
    counts: Array2<f32>,
    /// Whether the last step used the test streams.
    testing: bool,
}

impl BernoulliEngine {
    /// The simulator of `model` (which must have Bernoulli cells) for `streams` streams.
    pub fn new(model: &Model, streams: usize) -> Self {
        let spec = *model.bernoulli().expect("a model of Bernoulli cells");
        let sizes = model.layers();
        let zeros = |&n: &usize| Array2::<f32>::zeros((streams, n));
        let out = *sizes.last().expect("an output layer");
        Self {
            model: model.clone(),
            roster: model.roster().clone(),
            phi: match spec.feedback_signal {
                FeedbackSignal::TanhHalf => Sigmoidal::TanhHalf,
                FeedbackSignal::SigmoidHalf => Sigmoidal::SigmoidHalf,
                FeedbackSignal::Tanh => Sigmoidal::Tanh,
            },
            spec,
            streams,
            train: Cells::new(streams, sizes),
            test: Cells::new(streams, sizes),
            test_from_train: true,
            drive: sizes[1..].iter().map(zeros).collect(),
            signal: sizes[1..].iter().map(zeros).collect(),
            g: sizes[1..].iter().map(zeros).collect(),
            before: if spec.same_step {
                Vec::new()
            } else {
                sizes.iter().map(zeros).collect()
            },
            fused: streams <= FUSED_MAX_STREAMS,
            events: streams <= FUSED_MAX_STREAMS && model.bernoulli_events(),
            pending: vec![None; sizes.len() - 1],
            pending_pre: sizes[..sizes.len() - 1].iter().map(zeros).collect(),
            target: Array2::zeros((streams, out)),
            error: Array2::zeros((streams, out)),
            counts: Array2::zeros((streams, out)),
            testing: false,
        }
    }

    /// Applies the updates still pending (fused mode), so that the network holds every step's learning.
    fn flush(&mut self, net: &mut Network, n: usize) {
        for (l, pending) in self.pending.iter_mut().enumerate() {
            if let Some((alpha, gamma)) = pending.take() {
                let update = PendingUpdate {
                    g: self.g[l].slice(s![..n, ..]),
                    pre: self.pending_pre[l].slice(s![..n, ..]),
                    alpha,
                    gamma,
                };
                net.forward[l].update_then_drive(Some(update), None);
            }
        }
    }

    /// One step of every stream `..n` (module docs); with `learn`, the synapses learn from it. Returns where a
    /// drive became non-finite, if one did (the step then stops there).
    fn step(
        &mut self,
        net: &mut Network,
        x: ArrayView2<'_, f32>,
        learn: bool,
        rng: &mut Xoshiro256PlusPlus,
        step: usize,
    ) -> Option<NonFiniteDrive> {
        let n = x.nrows();
        let layers = self.drive.len();
        let BernoulliSpec { tau, input_max, .. } = self.spec;
        let cells = if learn { &mut self.train } else { &mut self.test };
        if !self.spec.same_step {
            for (b, s) in self.before.iter_mut().zip(&cells.s) {
                b.assign(s);
            }
        }
        fire_inputs(cells.s[0].slice_mut(s![..n, ..]), x, input_max, rng);
        for l in 0..layers {
            let pre = if self.spec.same_step {
                &cells.s[l]
            } else {
                &self.before[l]
            };
            if self.fused {
                let update = self.pending[l].take().map(|(alpha, gamma)| PendingUpdate {
                    g: self.g[l].slice(s![..n, ..]),
                    pre: self.pending_pre[l].slice(s![..n, ..]),
                    alpha,
                    gamma,
                });
                net.forward[l].update_then_drive(update, Some((pre.view(), &mut self.drive[l])));
            } else {
                net.forward[l].scaled_drive_into(pre.view(), &mut self.drive[l]);
            }
            let drive = self.drive[l].slice(s![..n, ..]);
            if let Some(slot) = first_non_finite_row(drive) {
                return Some(NonFiniteDrive {
                    population: self.roster.post_of(l),
                    step,
                    slot,
                });
            }
            integrate(cells.u[l].slice_mut(s![..n, ..]), drive, tau);
            fire(
                cells.s[l + 1].slice_mut(s![..n, ..]),
                cells.u[l].slice(s![..n, ..]),
                rng,
            );
        }
        // Error units: target minus output.
        let top = layers - 1;
        let mut error = self.error.slice_mut(s![..n, ..]);
        let target = self.target.slice(s![..n, ..]);
        match self.spec.error_input {
            ErrorInput::Spikes => Zip::from(&mut error)
                .and(&target)
                .and(&cells.s[layers].slice(s![..n, ..]))
                .for_each(|e, &y, &s| *e = y - s),
            ErrorInput::Probability => Zip::from(&mut error)
                .and(&target)
                .and(&cells.u[top].slice(s![..n, ..]))
                .for_each(|e, &y, &u| *e = y - logistic(u)),
        }
        let mut delta_top = cells.delta[top].slice_mut(s![..n, ..]);
        if self.spec.error_integrates {
            integrate(delta_top.view_mut(), error.view(), tau);
        } else {
            delta_top.assign(&error);
        }
        // Feedback units, top-down, each integrating B φ_δ(δ) of the units above.
        let phi = self.phi;
        for l in (0..layers).rev() {
            Zip::from(self.signal[l].slice_mut(s![..n, ..]))
                .and(cells.delta[l].slice(s![..n, ..]))
                .for_each(|sig, &d| *sig = phi.apply(d));
            if l > 0 {
                let Carrier::Matrix(b) = &net.feedback[l - 1].carrier else {
                    unreachable!("feedback alignment: every hidden layer has a matrix B of its own")
                };
                feedback_into(
                    self.fused,
                    cells.delta[l - 1].slice_mut(s![..n, ..]),
                    self.signal[l].slice(s![..n, ..]),
                    b.view(),
                    tau,
                );
            }
        }
        if learn {
            let plan = self.model.plan();
            let update = plan.update(n);
            let decay = self.model.weight_decay();
            for l in (0..layers).filter(|&l| plan.learns(l)) {
                let eta = plan.layer(l).eta;
                let mut g = self.g[l].slice_mut(s![..n, ..]);
                let factor = match self.spec.third_factor {
                    ThirdFactor::Signal => self.signal[l].slice(s![..n, ..]),
                    ThirdFactor::Potential => cells.delta[l].slice(s![..n, ..]),
                };
                Zip::from(&mut g)
                    .and(&factor)
                    .and(&cells.u[l].slice(s![..n, ..]))
                    .for_each(|g, &f, &u| *g = f * logistic_slope(u));
                let pre = if self.spec.same_step {
                    &cells.s[l]
                } else {
                    &self.before[l]
                };
                let gamma = match self.spec.decay {
                    DecayScaling::PerStep => decay,
                    DecayScaling::ScaledByEta => decay * f64::from(eta),
                };
                let alpha = eta * update.scale;
                if self.fused {
                    self.pending_pre[l]
                        .slice_mut(s![..n, ..])
                        .assign(&pre.slice(s![..n, ..]));
                    self.pending[l] = Some((alpha, gamma));
                } else {
                    net.forward[l].learn_decaying(g.view(), pre.slice(s![..n, ..]), alpha, gamma);
                }
            }
        }
        match self.spec.readout {
            BernoulliReadout::Spikes => {
                let mut c = self.counts.slice_mut(s![..n, ..]);
                c += &cells.s[layers].slice(s![..n, ..]);
            }
            BernoulliReadout::LastSpikes => self
                .counts
                .slice_mut(s![..n, ..])
                .assign(&cells.s[layers].slice(s![..n, ..])),
            BernoulliReadout::LastPsp => self
                .counts
                .slice_mut(s![..n, ..])
                .assign(&cells.u[top].slice(s![..n, ..])),
        }
        None
    }

    /// The cells of the streams the last step ran.
    fn current(&self) -> &Cells {
        if self.testing { &self.test } else { &self.train }
    }
}

/// `δ = (1 − τ) δ + τ φ Bᵀ` for a block of streams: `delta` `[streams, n_l]`, `signal` `[streams, n_(l+1)]`, `b`
/// `[n_l, n_(l+1)]`; split over fixed blocks of the feedback units, so that results do not depend on threads. Row by
/// row for a few streams (`rows`, as the forward pass), a matrix product for many.
fn feedback_into(
    rows: bool,
    mut delta: ArrayViewMut2<'_, f32>,
    signal: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    tau: f32,
) {
    if rows {
        return rows_dot_into(tau, b, signal, 1.0 - tau, delta);
    }
    delta
        .axis_chunks_iter_mut(Axis(1), POST_BLOCK)
        .into_par_iter()
        .zip(b.axis_chunks_iter(Axis(0), POST_BLOCK).into_par_iter())
        .for_each(|(mut d, b)| mat_mul_into(tau, signal, b.t(), 1.0 - tau, &mut d));
}

impl Engine for BernoulliEngine {
    fn roster(&self) -> &Roster {
        &self.roster
    }

    fn examples(&self) -> usize {
        self.streams
    }

    /// Presents one image to each of the first `n ≤ K` streams for N (training) or M (test) steps; streams beyond
    /// `n` (the last minibatch of a pass may be smaller) rest, their state kept.
    fn present(&mut self, net: &mut Network, p: &mut Presentation<'_>, watch: &mut Watch<'_>) -> Answers {
        let n = p.inputs.nrows();
        assert!(n <= self.streams, "{n} images for {} streams", self.streams);
        assert_eq!(p.labels.len(), n, "one label per image");
        let learn = p.phase.learns();
        if learn {
            self.test_from_train = true;
        } else if self.test_from_train {
            self.test.assign(&self.train);
            self.test_from_train = false;
        }
        self.testing = !learn;
        // The layout chooses the pass (`Projection::update_then_drive`). A no-op after the first presentation; a
        // network restored from a checkpoint comes back row-major, one taken from another engine may not be.
        for p in &mut net.forward {
            if self.events {
                p.store_by_presynaptic_cell();
            } else {
                p.store_by_postsynaptic_cell();
            }
        }
        if self.model.protocol().reset_between_examples {
            if learn { &mut self.train } else { &mut self.test }.reset(n);
        }
        let group = self.spec.cells_per_class;
        self.target.fill(0.0);
        for (k, &label) in p.labels.iter().enumerate() {
            let c = usize::from(label) * group;
            self.target.slice_mut(s![k, c..c + group]).fill(1.0);
        }
        self.counts.fill(0.0);
        let steps = if learn {
            self.spec.train_steps
        } else {
            self.spec.test_steps
        };
        let readout = self.model.readout();
        for step in 0..steps {
            if let Some(bad) = self.step(net, p.inputs, learn, p.noise, step) {
                self.flush(net, n);
                return Answers::read(readout, Array2::zeros((n, self.counts.ncols())), Some(bad));
            }
            watch.probe.after_step(step, &view::BernoulliView { engine: self });
        }
        self.flush(net, n);
        Answers::read(readout, self.counts.slice(s![..n, ..]).to_owned(), None)
    }

    fn cell_state(&self) -> Option<CellState> {
        Some(self.train.to_state())
    }

    fn restore_cell_state(&mut self, state: &CellState) -> Result<(), String> {
        self.train.restore(state)?;
        self.test_from_train = true;
        Ok(())
    }

    fn begin_test(&mut self) {
        self.test_from_train = true;
    }

    /// Drives are products of the weights with the 0/1 spikes, checked on every step: a dense product reads every
    /// weight (0 · NaN is NaN); the event-driven pass reads every weight that takes part in the step (those of the
    /// inputs active on it), and a non-finite weight of an input that has not yet been active changes nothing until
    /// it is, or until the scan before a checkpoint and at the end of training finds it.
    fn drives_show_weights_in_use(&self) -> bool {
        true
    }
}
