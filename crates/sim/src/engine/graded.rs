//! Networks of graded (nonspiking) units, as Lillicrap et al. 2016 trained them (SPEC §5.0–5.5): `a = f(v)` with
//! a linear, tanh or sigmoid f per layer, optional biases, squared error `L = ½‖y* − y‖²`, `e = y* − y`, and updates
//! with a plus sign.
//!
//! One step per minibatch (one example per update when `protocol.batch_size` is 1, SPEC §5.0):
//! 1. forward, layer by layer: `v = a_below Wᵀ + b`, `a = f(v)`;
//! 2. answer: the most active output unit (the target is the label's one-hot vector, or the regression target the
//!    presentation carries);
//! 3. when learning, every layer's modulator d from the weights as they are, before any of them changes:
//!    - output: `d = e ∘ f′(v)` (SPEC §5.3; `d = e` for linear outputs, §5.1);
//!    - a hidden layer below a layer with modulator d_above: BP `d = (W_aboveᵀ d_above) ∘ f′`, FA
//!      `d = (B d_above) ∘ f′`, where the top hidden layer's B carries e itself unless
//!      `network.cells: Graded(top_feedback: Delta)` (SPEC §5.2, §5.3);
//!    - node perturbation (SPEC §5.1): a second forward pass with ξ ~ N(0, σ² I) added to the drive of every
//!      learning hidden layer; `d = −(L̃ − L) ξ / σ²`, whose expectation is BP's d to O(σ²);
//! 4. then the updates `ΔW = η s Σ_examples d a_preᵀ − αW`, `Δb = η_b s Σ d − αb` of every learning layer (s: the
//!    batch reduction; α is `learning.weight_decay`, per update or times η; η_b = `learning.bias_rate` · η);
//! 5. the feedback rules (Akrout et al. 2019, SPEC §6; `learning.feedback`): sign symmetry sets B from the signs of
//!    the weights above before step 3; Kolen-Pollack adds the increment of the weights above, transposed, to B in
//!    step 4 (and decays W and B by λ); the weight mirror runs its mirror batches after step 4.
//!
//! With `network.cells: Graded(loss: CrossEntropy)` and sigmoid outputs the output's modulator is `d = e`
//! (SPEC §6.4).

use crate::alignment::AlignmentMeter;
use crate::answers::{Answers, NonFiniteDrive, Readout, first_non_finite_row, one_hot_into};
use crate::engine::boundary::{Engine, Presentation, Watch};
use crate::model::{DecayScaling, GradedSpec, Loss, Model, TopFeedback};
use crate::network::Network;
use crate::probe::{StepView, Values};
use crate::roster::{PopId, Role, Roster, Variable};
use crate::sparsity::Masks;
use ndarray::{Array2, ArrayView2, Zip, linalg::general_mat_mul};
use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_neuron::Activation;
use snn_plasticity::feedback_learning::{MirrorBuffers, kolen_pollack};
use snn_plasticity::rows::ROWS_MAX_EXAMPLES;
use snn_plasticity::{Carrier, FeedbackRule, Projection, Update};

/// A graded network's simulator for minibatches of a fixed size, its buffers reused across minibatches.
pub struct GradedEngine {
    roster: Roster,
    examples: usize,
    spec: GradedSpec,
    /// The activation of the population fed by each weight layer.
    activation: Vec<Activation>,
    drive: Vec<Array2<f32>>,
    act: Vec<Array2<f32>>,
    target: Array2<f32>,
    /// e = y* − y of the last learning step.
    error: Array2<f32>,
    /// Each weight layer's modulator d (`ΔW = η d a_preᵀ`) of the last learning step.
    delta: Vec<Array2<f32>>,
    /// −η d: the teaching signal in the sign convention of [`snn_plasticity::Projection::learn`].
    iota: Vec<Array2<f32>>,
    /// Backprop's d at the same weights, for the alignment meter.
    reference: Vec<Array2<f32>>,
    /// Node perturbation: the noise ξ and the perturbed pass.
    noise: Vec<Array2<f32>>,
    noisy_drive: Vec<Array2<f32>>,
    noisy_act: Vec<Array2<f32>>,
    learned: Vec<bool>,
    /// The learning hidden layers, top down (the plan's, formed once).
    hidden: Vec<usize>,
    /// η of each weight layer that learns (`None`: frozen), from the plan.
    etas: Vec<Option<f32>>,
    /// Synapses removed for good (`init.sparsity`), kept at zero after every update.
    masks: Masks,
    /// The weight mirror's buffers, per hidden layer (`None` for other rules).
    mirror: Vec<Option<MirrorBuffers>>,
    /// η_b / η (`learning.bias_rate`).
    bias_rate: f32,
    model: Model,
}

impl GradedEngine {
    /// Buffers for minibatches of `examples` examples of `model` (which must have `Graded` cells).
    pub fn new(model: &Model, examples: usize) -> Self {
        let spec = *model.graded().expect("a model of graded units");
        let sizes = &model.layers()[1..];
        let zeros = || -> Vec<Array2<f32>> { sizes.iter().map(|&n| Array2::zeros((examples, n))).collect() };
        let out = *sizes.last().expect("an output layer");
        let activation = (0..sizes.len())
            .map(|l| match l + 1 == sizes.len() {
                true => spec.output,
                false => spec.hidden,
            })
            .collect();
        let perturbs = model.plan().perturbation().is_some();
        let np = |v: Vec<Array2<f32>>| if perturbs { v } else { Vec::new() };
        Self {
            roster: model.roster().clone(),
            examples,
            spec,
            activation,
            drive: zeros(),
            act: zeros(),
            target: Array2::zeros((examples, out)),
            error: Array2::zeros((examples, out)),
            delta: zeros(),
            iota: zeros(),
            reference: zeros(),
            noise: np(zeros()),
            noisy_drive: np(zeros()),
            noisy_act: np(zeros()),
            learned: vec![false; sizes.len()],
            hidden: (0..sizes.len() - 1)
                .rev()
                .take_while(|&l| model.plan().learns(l))
                .collect(),
            etas: (0..sizes.len())
                .map(|l| model.plan().learns(l).then(|| model.plan().layer(l).eta))
                .collect(),
            masks: Masks::of(model),
            mirror: Vec::new(),
            bias_rate: model.file().learning.bias_rate,
            model: model.clone(),
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

    /// The modulator d of weight layer `layer` in the last learning step (`ΔW = η d a_preᵀ`).
    pub fn delta(&self, layer: usize) -> ArrayView2<'_, f32> {
        self.delta[layer].view()
    }

    /// The forward pass (module docs, 1) over `inputs`; the first non-finite drive, if any, ends it.
    fn forward(&mut self, net: &Network, inputs: ArrayView2<'_, f32>) -> Option<NonFiniteDrive> {
        for l in 0..self.drive.len() {
            let (done, rest) = self.act.split_at_mut(l);
            let pre = if l == 0 { inputs } else { done[l - 1].view() };
            drive_into(&net.forward[l], pre, &mut self.drive[l]);
            if let Some(slot) = first_non_finite_row(self.drive[l].view()) {
                return Some(NonFiniteDrive {
                    population: self.roster.post_of(l),
                    step: 0,
                    slot,
                });
            }
            let f = self.activation[l];
            Zip::from(&mut rest[0])
                .and(&self.drive[l])
                .for_each(|a, &v| *a = f.apply(v));
        }
        None
    }

    /// The target of the last forward pass: the regression targets, or the labels' one-hot vectors.
    fn set_target(&mut self, targets: Option<ArrayView2<'_, f32>>, labels: &[u8]) {
        match targets {
            Some(t) => self.target.assign(&t),
            None => one_hot_into(&mut self.target, labels, 1.0),
        }
    }

    /// The learning half of a step (module docs, 3–5); `only`, when given, names the weight layers updated in this
    /// phase of `learning.schedule` (the modulators of every learning layer are still formed).
    fn learn(
        &mut self,
        net: &mut Network,
        inputs: ArrayView2<'_, f32>,
        noise: &mut Xoshiro256PlusPlus,
        meter: Option<&mut AlignmentMeter>,
        only: Option<&[usize]>,
    ) {
        net.refresh_sign_symmetry();
        self.modulators(net, inputs, noise);
        if let Some(meter) = meter {
            let hidden = std::mem::take(&mut self.hidden);
            self.measure_alignment(net, &hidden, meter);
            self.hidden = hidden;
        }
        self.update(net, inputs, only);
        if self.mirror.is_empty() {
            self.mirror = net.mirror_buffers();
        }
        let after = net.feedback.iter().find_map(|p| match p.rule {
            FeedbackRule::WeightMirror(m) => Some(m.after),
            _ => None,
        });
        if let Some(after) = after {
            net.mirror(after, noise, &mut self.mirror);
        }
    }

    /// Every learning layer's modulator d from the weights as they are (module docs, 3).
    fn modulators(&mut self, net: &Network, inputs: ArrayView2<'_, f32>, noise: &mut Xoshiro256PlusPlus) {
        let top = self.drive.len() - 1;
        Zip::from(&mut self.error)
            .and(&self.target)
            .and(&self.act[top])
            .for_each(|e, &t, &y| *e = t - y);
        match self.spec.loss {
            Loss::SquaredError => Zip::from(&mut self.delta[top])
                .and(&self.error)
                .and(&self.act[top])
                .for_each(|d, &e, &y| *d = e * self.activation[top].slope_at(y)),
            Loss::CrossEntropy => self.delta[top].assign(&self.error),
        }
        let hidden = std::mem::take(&mut self.hidden);
        match self.model.plan().perturbation() {
            Some(sigma) => self.perturb(net, inputs, &hidden, sigma, noise),
            None => {
                for &l in &hidden {
                    let (below, above) = self.delta.split_at_mut(l + 1);
                    let (d, d_above) = (&mut below[l], &above[0]);
                    match &net.feedback[l].carrier {
                        Carrier::ForwardWeights => general_mat_mul(1.0, d_above, &net.forward[l + 1].w, 0.0, d),
                        Carrier::Matrix(b) => {
                            let carried = match l + 1 == top && self.spec.top_feedback == TopFeedback::Error {
                                true => &self.error,
                                false => d_above,
                            };
                            general_mat_mul(1.0, carried, &b.t(), 0.0, d);
                        }
                    }
                    times_slope(d, &self.act[l], self.activation[l]);
                }
            }
        }
        self.hidden = hidden;
    }

    /// The updates of every learning layer in this phase (module docs, 4), and Kolen-Pollack's of B.
    fn update(&mut self, net: &mut Network, inputs: ArrayView2<'_, f32>, only: Option<&[usize]>) {
        let nl = self.drive.len();
        let update = self.model.plan().update(self.examples);
        let alpha = self.model.weight_decay() as f32;
        let in_phase = |l: usize| only.is_none_or(|layers| layers.contains(&l));
        for l in 0..nl {
            let Some(eta) = self.etas[l].filter(|_| in_phase(l)) else {
                continue;
            };
            let decay = match self.spec.decay {
                DecayScaling::PerStep => alpha,
                DecayScaling::ScaledByEta => eta * alpha,
            };
            Zip::from(&mut self.iota[l])
                .and(&self.delta[l])
                .for_each(|i, &d| *i = -eta * d);
            let pre = if l == 0 { inputs } else { self.act[l - 1].view() };
            // Kolen-Pollack: the feedback matrix standing for this layer's weights takes their increment, and both
            // decay by λ (the biases do not, SPEC §6.1).
            let below = l.checked_sub(1).map(|h| &mut net.feedback[h]);
            let kp_decay = match below {
                Some(pathway) => match (pathway.rule, &mut pathway.carrier) {
                    (
                        FeedbackRule::KolenPollack {
                            decay: lambda,
                            eta: eta_b,
                        },
                        Carrier::Matrix(b),
                    ) => {
                        let step = eta_b.unwrap_or(eta) * update.scale;
                        kolen_pollack(b, pre, self.delta[l].view(), step, lambda);
                        self.masks.apply_feedback(l - 1, b);
                        lambda
                    }
                    _ => 0.0,
                },
                None => 0.0,
            };
            let proj = &mut net.forward[l];
            let weights_update = update.with_decay(decay + kp_decay);
            match (update.momentum == 0.0, self.examples <= ROWS_MAX_EXAMPLES) {
                (true, true) => proj.learn_rows_without_momentum(self.iota[l].view(), pre, weights_update),
                (true, false) => proj.learn_weights_without_momentum(self.iota[l].view(), pre, weights_update),
                (false, _) => proj.learn_weights(self.iota[l].view(), pre, weights_update),
            }
            if self.spec.biases {
                if decay != 0.0 {
                    proj.b.mapv_inplace(|b| b - decay * b);
                }
                let bias_update = update.with_decay(decay);
                let bias_update = match self.bias_rate {
                    1.0 => bias_update,
                    r => Update {
                        scale: bias_update.scale * r,
                        ..bias_update
                    },
                };
                snn_plasticity::projection::learn_biases(&mut proj.db, &mut proj.b, self.iota[l].view(), bias_update);
            }
            self.masks.apply_forward(l, proj);
            self.learned[l] = true;
        }
    }

    /// Node perturbation's modulators of the learning hidden layers `hidden` (module docs): one perturbed forward
    /// pass with noise of standard deviation `sigma` drawn from `noise`, layer by layer, example-major.
    fn perturb(
        &mut self,
        net: &Network,
        inputs: ArrayView2<'_, f32>,
        hidden: &[usize],
        sigma: f32,
        noise: &mut Xoshiro256PlusPlus,
    ) {
        for &l in hidden {
            self.noise[l].mapv_inplace(|_| sigma * noise.sample::<f32, _>(StandardNormal));
        }
        let first = *hidden.last().expect("a learning hidden layer");
        for l in first..self.drive.len() {
            let (done, rest) = self.noisy_act.split_at_mut(l);
            let pre = match l {
                0 => inputs,
                _ if l == first => self.act[l - 1].view(),
                _ => done[l - 1].view(),
            };
            drive_into(&net.forward[l], pre, &mut self.noisy_drive[l]);
            if hidden.contains(&l) {
                self.noisy_drive[l] += &self.noise[l];
            }
            let f = self.activation[l];
            Zip::from(&mut rest[0])
                .and(&self.noisy_drive[l])
                .for_each(|a, &v| *a = f.apply(v));
        }
        let top = self.drive.len() - 1;
        let var = sigma * sigma;
        for k in 0..self.examples {
            let loss = |y: ArrayView2<'_, f32>| -> f32 {
                let (t, y) = (self.target.row(k), y.row(k));
                0.5 * t.iter().zip(y).map(|(t, y)| (t - y) * (t - y)).sum::<f32>()
            };
            let change = loss(self.noisy_act[top].view()) - loss(self.act[top].view());
            for &l in hidden {
                let (mut d, xi) = (self.delta[l].row_mut(k), self.noise[l].row(k));
                Zip::from(&mut d).and(&xi).for_each(|d, &x| *d = -change * x / var);
            }
        }
    }

    /// The angle of each learning hidden layer's modulator to backprop's at the same weights (SPEC §4, "δ angle").
    fn measure_alignment(&mut self, net: &Network, hidden: &[usize], meter: &mut AlignmentMeter) {
        let top = self.drive.len() - 1;
        self.reference[top].assign(&self.delta[top]);
        for &l in hidden {
            let (below, above) = self.reference.split_at_mut(l + 1);
            general_mat_mul(1.0, &above[0], &net.forward[l + 1].w, 0.0, &mut below[l]);
            times_slope(&mut below[l], &self.act[l], self.activation[l]);
            meter.observe(l, self.delta[l].view(), self.reference[l].view());
        }
    }
}

/// `v = a_pre Wᵀ + b`: row by row for a few examples (online learning), as a matrix product for more
/// ([`snn_plasticity::rows`]).
fn drive_into(proj: &Projection, pre: ArrayView2<'_, f32>, v: &mut Array2<f32>) {
    match pre.nrows() <= ROWS_MAX_EXAMPLES {
        true => proj.drive_rows_into(pre, v),
        false => proj.drive_into(pre, v),
    }
}

/// `d ∘= f′(v)`, with the slope taken from the activity `a = f(v)`.
fn times_slope(d: &mut Array2<f32>, act: &Array2<f32>, f: Activation) {
    if !f.is_linear() {
        Zip::from(d).and(act).for_each(|d, &a| *d *= f.slope_at(a));
    }
}

impl Engine for GradedEngine {
    fn roster(&self) -> &Roster {
        &self.roster
    }

    fn examples(&self) -> usize {
        self.examples
    }

    /// Every drive is a dense product of all of a layer's weights with the activity below (0 · NaN is NaN), and
    /// every drive is checked before the answers are read: a non-finite weight or bias shows on the next step.
    fn drives_show_weights_in_use(&self) -> bool {
        true
    }

    /// A forward pass, learning off, the modulators from the weights as they are, and their angles to backprop's
    /// (`protocol.alignment_probe`); `false` for node perturbation, which has no feedback signal, or a non-finite
    /// drive.
    fn probe_alignment(&mut self, net: &mut Network, p: &mut Presentation<'_>, meter: &mut AlignmentMeter) -> bool {
        if self.model.plan().perturbation().is_some() || self.hidden.is_empty() || self.forward(net, p.inputs).is_some()
        {
            return false;
        }
        self.set_target(p.targets, p.labels);
        net.refresh_sign_symmetry();
        self.modulators(net, p.inputs, p.noise);
        let hidden = std::mem::take(&mut self.hidden);
        self.measure_alignment(net, &hidden, meter);
        self.hidden = hidden;
        true
    }

    /// One step: the forward pass, the answers, and in training one update of every learning layer.
    fn present(&mut self, net: &mut Network, p: &mut Presentation<'_>, watch: &mut Watch<'_>) -> Answers {
        assert_eq!(p.inputs.nrows(), self.examples, "input batch size");
        assert_eq!(p.labels.len(), self.examples, "one label per example");
        let nl = self.drive.len();
        self.learned.fill(false);
        if let Some(bad) = self.forward(net, p.inputs) {
            let counts = Array2::zeros((self.examples, self.model.layers()[nl]));
            return Answers {
                counts,
                predicted: vec![None; self.examples],
                non_finite: Some(bad),
            };
        }
        let answers = Answers::read(Readout::ONE_CELL_PER_CLASS, self.act[nl - 1].clone(), None);
        if p.phase.learns() && self.model.plan().layers().iter().any(|l| l.learns) {
            self.set_target(p.targets, p.labels);
            self.learn(net, p.inputs, p.noise, watch.meter.as_deref_mut(), p.learning_layers);
        }
        watch.probe.after_step(
            0,
            &GradedView {
                engine: self,
                input: p.inputs,
            },
        );
        answers
    }
}

/// A graded network's populations after its step.
struct GradedView<'a> {
    engine: &'a GradedEngine,
    input: ArrayView2<'a, f32>,
}

impl StepView for GradedView<'_> {
    fn roster(&self) -> &Roster {
        &self.engine.roster
    }

    fn values(&self, pop: PopId, variable: Variable) -> Option<Values<'_>> {
        let e = self.engine;
        match e.roster.get(pop).role {
            Role::Input if variable == Variable::A => Some(Values::Whole(self.input)),
            Role::Hidden(_) | Role::Output => {
                let l = e.roster.layer_of(pop)?;
                let learned = e.learned[l];
                match variable {
                    Variable::A => Some(Values::Whole(e.act[l].view())),
                    Variable::V => Some(Values::Whole(e.drive[l].view())),
                    Variable::Iota => learned.then(|| Values::Whole(e.iota[l].view())),
                    Variable::Delta => learned.then(|| Values::Whole(e.delta[l].view())),
                    Variable::H | Variable::U => None,
                }
            }
            _ => None,
        }
    }
}
