//! The network's synapses: the forward projections W_(n), and for every hidden layer a feedback [`Pathway`] (SPEC
//! §2.2–2.3): the fixed random B_FA(n) of feedback alignment, the broadcast B_BA(n) made from them, or backprop's
//! weight transport.
//!
//! Populations (the cells' state) belong to the engines ([`crate::engine`]); this struct holds only what persists
//! across presentations and is shared by all the examples of a minibatch.

use crate::model::{BiasInit, Model, WeightInit};
use crate::seeds::Streams;
use crate::sparsity::Masks;
use ndarray::Array1;
use ndarray::Array2;
use rand::RngExt;
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use snn_plasticity::feedback_learning::{MirrorBuffers, mirror_batch, sign_symmetry};
use snn_plasticity::spiking_mirror::{SpikingMirror, SpikingMirrorRule};
use snn_plasticity::{
    Carrier, FeedbackRule, InitError, Pathway, Projection, Reach, broadcast_matrices, feedback_alignment_matrices,
};

/// Weights and feedback of a layered network.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Network {
    /// `forward[l]` maps population l to population l + 1 (0 = input): W shape `[s_(l+1), s_l]`.
    pub forward: Vec<Projection>,
    /// `feedback[h]` carries δ to hidden layer h (0 = the first hidden layer, fed by `forward[0]`).
    pub feedback: Vec<Pathway>,
    /// `layerwise[h]` is B_FA(h) of every hidden layer h below the last, kept where broadcast feedback learns layer by
    /// layer (Kolen-Pollack in a network with several hidden layers, SPEC §6.6): each B_BA(h) is then rebuilt from
    /// them by eq A.6 whenever they change. Empty otherwise (B_BA alone is kept, and B_FA of the last hidden layer is
    /// B_BA / γ).
    pub layerwise: Vec<Array2<f32>>,
}

impl Network {
    /// Initialises weights (Appendix B or `init.weights: Uniform(r)`; biases b̄, or U[b̄ − r, b̄ + r] with
    /// `init.bias_range: r`) from `streams.weights`, then draws
    /// B_FA (eq A.5 or `init.feedback: Uniform(r)`) from `streams.feedback`
    /// (for every model, so that the other streams never depend on the algorithm) and gives each hidden layer the
    /// pathway its plan asks for: B_FA(n) chained, B_BA(n) = γ^D B_FA(n) ⋯ broadcast (eq A.6), or the forward
    /// weights. Then the feedback rules start (sign symmetry sets its matrices, the weight mirror runs its mirror
    /// batches before training, drawing from `streams.noise`). Last, the synapses `init.sparsity` removes are zeroed
    /// ([`Masks`]).
    pub fn init(model: &Model, streams: &mut Streams) -> Result<Self, InitError> {
        let (mut net, gamma) = Self::drawn(model, streams)?;
        net.start_feedback_rules(model, gamma, &mut streams.noise);
        let masks = Masks::of(model);
        if !masks.is_empty() {
            for (l, proj) in net.forward.iter_mut().enumerate() {
                masks.apply_forward(l, proj);
            }
            for (h, pathway) in net.feedback.iter_mut().enumerate() {
                if let Carrier::Matrix(b) = &mut pathway.carrier {
                    masks.apply_feedback(h, b);
                }
            }
        }
        Ok(net)
    }

    /// The weights and feedback pathways [`Self::init`] draws, before the feedback rules start and the masks apply
    /// (nothing drawn from `streams.noise`), with the network's γ: what a network of `model` is made of, to check a
    /// given one against (`Experiment::with_network`).
    pub(crate) fn drawn(model: &Model, streams: &mut Streams) -> Result<(Self, f32), InitError> {
        let sizes = model.layers();
        let init = model.init();
        let spec = &model.file().init;
        let forward = sizes
            .windows(2)
            .map(|w| {
                let (pre, post) = (w[0], w[1]);
                let weights = match spec.weights {
                    WeightInit::AppendixB => init.uniform_matrix(post, pre, pre, &mut streams.weights)?,
                    WeightInit::Uniform(r) => symmetric_uniform(post, pre, r, &mut streams.weights),
                    WeightInit::Glorot => glorot(post, pre, pre + post, &mut streams.weights),
                };
                // Drawn only when asked for, so that every other model's weight stream is unchanged.
                let biases = match spec.bias_range {
                    _ if spec.biases == BiasInit::Glorot => glorot(1, post, pre + post, &mut streams.weights)
                        .into_shape_with_order(post)
                        .expect("one row"),
                    r if r > 0.0 => {
                        let (lo, hi) = ((init.b_mean - r) as f32, (init.b_mean + r) as f32);
                        Array1::from_shape_simple_fn(post, || streams.weights.random_range(lo..hi))
                    }
                    _ => Array1::from_elem(post, init.b_mean as f32),
                };
                Ok(Projection::new(weights, biases))
            })
            .collect::<Result<Vec<_>, InitError>>()?;
        let b_fa = match spec.feedback {
            WeightInit::AppendixB => feedback_alignment_matrices(sizes, init, &mut streams.feedback)?,
            WeightInit::Uniform(r) => (1..sizes.len().saturating_sub(1))
                .map(|n| symmetric_uniform(sizes[n], sizes[n + 1], r, &mut streams.feedback))
                .collect(),
            WeightInit::Glorot => (1..sizes.len().saturating_sub(1))
                .map(|n| glorot(sizes[n], sizes[n + 1], sizes[n] + sizes[n + 1], &mut streams.feedback))
                .collect(),
        };
        let plans = model.plan().feedback_plans();
        // γ is one value for the whole network (`learning.gamma`), copied into every hidden layer's plan; a network
        // without hidden layers has no feedback and no γ to read.
        let gamma = plans.first().map_or(1.0, |p| p.gamma);
        let b_ba = broadcast_matrices(&b_fa, gamma);
        let layerwise = match plans.split_last() {
            Some((_, below)) if learns_layer_by_layer(plans) => b_fa[..below.len()].to_vec(),
            _ => Vec::new(),
        };
        let feedback = plans
            .iter()
            .zip(b_fa.into_iter().zip(b_ba))
            .map(|(plan, (fa, ba))| Pathway {
                reach: plan.reach,
                carrier: match (plan.own_matrix, plan.reach) {
                    (false, _) => Carrier::ForwardWeights,
                    (true, Reach::Chained) => Carrier::Matrix(fa),
                    (true, Reach::Broadcast) => Carrier::Matrix(ba),
                },
                rule: plan.rule,
            })
            .collect();
        let net = Self {
            forward,
            feedback,
            layerwise,
        };
        Ok((net, gamma))
    }

    /// What the feedback rules do before training (SPEC §6): sign symmetry resolves the magnitude of its matrix's
    /// weights, s = the model's scale or the RMS of the forward weights above (SPEC §6.3, §6.6), times γ for a
    /// broadcast pathway (B_BA = γ B_FA of the last hidden layer, eq A.6), and sets B from the signs; the weight
    /// mirror runs its mirror batches before training, with noise from `noise`.
    fn start_feedback_rules(&mut self, model: &Model, gamma: f32, noise: &mut Xoshiro256PlusPlus) {
        for h in 0..self.feedback.len() {
            let pathway = &mut self.feedback[h];
            if let FeedbackRule::SignSymmetry { scale } = &mut pathway.rule {
                let w = &self.forward[h + 1].w;
                let mean_square = w.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / w.len().max(1) as f64;
                let s = scale.unwrap_or(mean_square.sqrt() as f32);
                *scale = Some(match pathway.reach {
                    Reach::Broadcast => gamma * s,
                    Reach::Chained => s,
                });
            }
        }
        self.refresh_sign_symmetry();
        if let Some(rule) = model.spiking_mirror() {
            let phases = match self.feedback[0].rule {
                FeedbackRule::WeightMirror(m) => m.before,
                _ => 0,
            };
            let mut mirror = self.spiking_mirror_buffers(model.protocol().batch_size);
            for _ in 0..phases {
                self.spiking_mirror_phase(&mut mirror, &model.lif(), &rule, noise);
            }
            return;
        }
        let mut buffers = self.mirror_buffers();
        if let Some(before) = self.feedback.iter().find_map(|p| match p.rule {
            FeedbackRule::WeightMirror(m) => Some(m.before),
            _ => None,
        }) {
            self.mirror(before, noise, &mut buffers);
        }
    }

    /// Sets every sign-symmetric pathway's B to `scale · sign(W_above)ᵀ` (SPEC §6.3).
    pub fn refresh_sign_symmetry(&mut self) {
        for (h, pathway) in self.feedback.iter_mut().enumerate() {
            if let (FeedbackRule::SignSymmetry { scale: Some(scale) }, Carrier::Matrix(b)) =
                (pathway.rule, &mut pathway.carrier)
            {
                sign_symmetry(b, self.forward[h + 1].w.view(), scale);
            }
        }
    }

    /// Buffers for the mirror batches of every weight-mirror pathway (none for other rules), hidden layer by hidden
    /// layer.
    pub fn mirror_buffers(&self) -> Vec<Option<MirrorBuffers>> {
        self.feedback
            .iter()
            .enumerate()
            .map(|(h, p)| match p.rule {
                FeedbackRule::WeightMirror(m) => {
                    let w = &self.forward[h + 1].w;
                    Some(MirrorBuffers::new(m.batch, w.ncols(), w.nrows()))
                }
                _ => None,
            })
            .collect()
    }

    /// `batches` mirror batches of every weight-mirror pathway (SPEC §6.2), hidden layer after hidden layer within a
    /// batch, noise from `noise`; `buffers` from [`Self::mirror_buffers`].
    pub fn mirror(&mut self, batches: usize, noise: &mut Xoshiro256PlusPlus, buffers: &mut [Option<MirrorBuffers>]) {
        for _ in 0..batches {
            for (h, (pathway, buffers)) in self.feedback.iter_mut().zip(buffers.iter_mut()).enumerate() {
                if let (FeedbackRule::WeightMirror(rule), Carrier::Matrix(b), Some(buffers)) =
                    (pathway.rule, &mut pathway.carrier, buffers)
                {
                    let above = &self.forward[h + 1];
                    mirror_batch(b, above.w.view(), above.b.view(), &rule, noise, buffers);
                }
            }
        }
    }

    /// Buffers for the spiking mirror phase of a LIF network with one hidden layer, for `examples` copies.
    pub fn spiking_mirror_buffers(&self, examples: usize) -> SpikingMirror {
        let w = &self.forward[1].w;
        SpikingMirror::new(examples, w.ncols(), w.nrows())
    }

    /// One mirror phase of a LIF network with one hidden layer (SPEC §6.6): the broadcast matrix learns from the
    /// hidden cells driven by noise from `noise` and the output's synaptic drive.
    pub fn spiking_mirror_phase(
        &mut self,
        buffers: &mut SpikingMirror,
        lif: &snn_neuron::LifParams,
        rule: &SpikingMirrorRule,
        noise: &mut Xoshiro256PlusPlus,
    ) {
        if let Carrier::Matrix(b) = &mut self.feedback[0].carrier {
            let above = &self.forward[1];
            buffers.phase(b, above.w.view(), above.b.view(), lif, rule, noise);
        }
    }

    /// Position of the first projection holding a NaN or infinite weight, bias or momentum, if any.
    pub fn first_non_finite(&self) -> Option<usize> {
        self.forward.iter().position(|p| !p.is_finite())
    }
}

/// A `[rows, cols]` matrix drawn from N(0, 1/fans), row-major (`WeightInit::Glorot`, SPEC §6.4).
fn glorot(rows: usize, cols: usize, fans: usize, rng: &mut Xoshiro256PlusPlus) -> Array2<f32> {
    let sd = (1.0 / fans as f64).sqrt() as f32;
    Array2::from_shape_simple_fn((rows, cols), || sd * rng.sample::<f32, _>(StandardNormal))
}

/// A `[rows, cols]` matrix drawn from U[−r, r], row-major (`init.weights: Uniform(r)`, Lillicrap et al. 2016).
fn symmetric_uniform(rows: usize, cols: usize, r: f64, rng: &mut Xoshiro256PlusPlus) -> Array2<f32> {
    let r = r as f32;
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-r..r))
}

/// Whether the broadcast feedback of a network with `plans` learns layer by layer: Kolen-Pollack on broadcast pathways
/// with more than one hidden layer, where B_BA(h) below the last is a product (eq A.6) that needs the B_FA(h) it is
/// made of.
pub fn learns_layer_by_layer(plans: &[crate::model::FeedbackPlan]) -> bool {
    plans.len() > 1
        && plans
            .iter()
            .all(|p| p.reach == Reach::Broadcast && p.own_matrix && matches!(p.rule, FeedbackRule::KolenPollack { .. }))
}
