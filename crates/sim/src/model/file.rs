//! The model file as written: every section and field, with SPEC's defaults, and its RON reading and writing.

use super::error::ModelError;
use crate::roster::Variable;
use serde::{Deserialize, Serialize};
use snn_data::{DatasetKind, LinearTeacherParams, QuadraticParams, RegressionTask, TanhTeacherParams, TeacherParams};
use snn_neuron::Activation;
use snn_plasticity::{BatchReduction, LearningRate};
use std::path::{Path, PathBuf};

/// A learning algorithm of the three-factor family (SPEC §2.2 table): all update `ΔW = −ι a_preᵀ` and differ only in
/// the feedback δ of hidden layers and the derivative term of ι. At the output δ = e for all four.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algorithm {
    /// Backprop: δ_(n) = W_(n+1)ᵀ (f'(v_(n+1)) ⊙ δ_(n+1)), ι = η sech²(c2 v) δ (eq 2.5). Rate cells only: the
    /// feedback needs the forward weights (weight transport).
    BP,
    /// Feedback alignment: δ_(n) = B_FA(n) (f'(v_(n+1)) ⊙ δ_(n+1)), ι = η sech²(c2 v) δ (eq 2.6). Rate cells only:
    /// the feedback multiplies signals.
    FA,
    /// Broadcast alignment: δ_(n) = B_BA(n) e, ι = η sech²(c2 v) δ (eqs 2.7, 2.11).
    BA,
    /// Derivative-free: δ_(n) = B_BA(n) e, ι = η δ.
    DF,
    /// Shallow learning (Lillicrap et al. 2016, SPEC §5.1): the output layer learns alone, the hidden weights keep
    /// their initial values (`learning.depth` 1). Graded cells only.
    Shallow,
    /// Node perturbation (SPEC §5.1 \[choice\]; Werfel, Xie & Seung 2005): the output layer learns as in BP; every
    /// hidden layer learns from a second, perturbed forward pass, `ΔW = −η_NP (L̃ − L) ξ a_preᵀ / σ²`, with ξ ~
    /// N(0, σ² I) added to the drives (`learning.node_perturbation`). Graded cells only.
    NP,
}

impl Algorithm {
    /// Whether hidden layers' feedback is chained back through the layers above (BP, FA) rather than broadcast
    /// from the output error (BA, DF).
    pub fn chains(self) -> bool {
        matches!(self, Algorithm::BP | Algorithm::FA)
    }
}

/// Error pools of a checked model (SPEC §2.1).
pub type ErrorPools = ErrorPoolSpec;

/// A model file as written: the unchecked parameters of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Short name of the model, used in run folder names.
    pub name: String,
    /// Seed of every random draw of the run (weights, feedback matrices, data order, test samples).
    #[serde(default = "defaults::seed")]
    pub seed: u64,
    /// Independent trials of the whole protocol in one run (1): trial 0 uses `seed`, trial k > 0 a seed derived
    /// from (`seed`, k), so each trial has its own network and, for a teacher task, its own teacher. Trials run in
    /// parallel; the run reports their mean (Samadi Figs 3–4: 500 trials per depth).
    #[serde(default = "defaults::trials")]
    pub trials: usize,
    /// Where the data come from.
    #[serde(default)]
    pub data: DataSpec,
    /// Layer sizes and cell constants.
    pub network: NetworkSpec,
    /// Initialisation (Appendix B, SPEC §2.3).
    #[serde(default)]
    pub init: InitSpec,
    /// Learning rule (SPEC §2.2).
    #[serde(default)]
    pub learning: LearningSpec,
    /// Presentation and training protocol (SPEC §2.4).
    #[serde(default)]
    pub protocol: ProtocolSpec,
    /// What to record into the run's HDF5 file.
    #[serde(default)]
    pub record: RecordSpec,
    /// How the simulator computes (never what: every choice gives the same model).
    #[serde(default)]
    pub engine: EngineSpec,
}

/// Choices of computation that do not change the model (results agree to float rounding).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSpec {
    /// How a learning first hidden layer, whose input is constant during a presentation, is computed.
    pub first_layer: FirstLayer,
    /// How a layer fed by 0/1 activity computes its drive (and, in a stochastic binary network, its update).
    pub spike_input: SpikeInput,
}

/// Computation of the drive of a layer whose input is 0/1 activity: a LIF hidden layer fed by another hidden layer
/// (see `snn_plasticity::spike_input`), and every layer of a stochastic binary network stepped in one pass over the
/// weights (at most `snn_plasticity::online::FUSED_MAX_STREAMS` streams; more streams use matrix products either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SpikeInput {
    /// Event-driven. LIF: the weights kept transposed through the presentation and the rows of the active inputs
    /// summed, the same sums as `Product` without the multiplications by 0 and 1. Stochastic binary network: the
    /// weights stored by presynaptic cell, each step's drive the sum of the synapses of the active inputs and its
    /// update applied only to those (`snn_plasticity::online`), the same values to float rounding.
    #[default]
    ActiveRows,
    /// Every weight on every step: the matrix product of the whole activity with the weights, as written in Table 1
    /// and SPEC §5.4.
    Product,
}

/// Computation of the learning first hidden layer (see `snn_plasticity::gram`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum FirstLayer {
    /// `Gram` when the batch is smaller than twice the input width (it then needs fewer operations), else `Direct`.
    #[default]
    Auto,
    /// Forward product and weight update on every step, as written in Table 1.
    Direct,
    /// Exact carry-forward through the Gram matrix of the batch's inputs; weights materialised once per batch.
    Gram,
}

/// The dataset and where to find it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataSpec {
    /// Which dataset: `Mnist`, `FashionMnist`, `Teacher(...)`, the deep-narrow teacher task (SPEC §3), or one of
    /// the regression tasks `LinearTeacher(...)`, `TanhTeacher(...)`, `Quadratic(...)` (SPEC §5).
    pub dataset: Dataset,
    /// Seed of a generated dataset (`None`: the run's seed, so that each trial has its own task). A seed of its
    /// own gives every learner and every trial of a comparison the same function and the same data stream (SPEC
    /// §5.0, §5.2: one teacher for all runs).
    pub seed: Option<u64>,
    /// Folder holding one sub-folder per dataset (`mnist/`, `fashion-mnist/`); relative paths are relative to the
    /// working directory. The environment variable `SNNSIM_DATA_DIR` overrides it.
    pub root: PathBuf,
    /// Download missing files (with SHA-256 verification) instead of failing.
    pub download: bool,
    /// Download address; `None` for the dataset's default.
    pub url: Option<String>,
    /// Check every file's SHA-256 before reading it.
    pub verify_checksums: bool,
    /// Use only the first N training examples (`None`: all 60 000).
    pub train_limit: Option<usize>,
    /// Use only the first N test examples (`None`: all 10 000).
    pub test_limit: Option<usize>,
    /// Mean of every input feature after standardisation (SPEC §2.3: 0.64).
    pub input_mean: f64,
    /// Standard deviation of every input feature after standardisation (SPEC §2.3: 0.8).
    pub input_std: f64,
    /// How pixels become inputs: `Standardise` (default: every feature to `input_mean` and `input_std` over the
    /// training set, SPEC §2.3) or `UnitInterval` (pixel / 255, in [0, 1]: Lillicrap 2016, SPEC §5).
    pub scaling: InputScaling,
}

/// How pixels become the network's inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum InputScaling {
    /// Per-feature standardisation to `data.input_mean`, `data.input_std`.
    #[default]
    Standardise,
    /// pixel / 255.
    UnitInterval,
    /// One affine map for every pixel: the training set's mean and spread over all pixels to `data.input_mean`,
    /// `data.input_std` (a reading of Appendix B's "each input feature was standardised" that keeps the pixels'
    /// relative scale: the border pixels, almost always 0, are not stretched).
    StandardiseGlobal,
}

impl Default for DataSpec {
    fn default() -> Self {
        Self {
            dataset: Dataset::Mnist,
            seed: None,
            root: PathBuf::from("data"),
            download: true,
            url: None,
            verify_checksums: true,
            train_limit: None,
            test_limit: None,
            input_mean: 0.64,
            input_std: 0.8,
            scaling: InputScaling::Standardise,
        }
    }
}

/// Where the examples come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum Dataset {
    /// MNIST handwritten digits, read from `<root>/mnist/`.
    #[default]
    Mnist,
    /// Fashion-MNIST, read from `<root>/fashion-mnist/`.
    FashionMnist,
    /// A random teacher network labels random inputs (SPEC §3, `snn_data::teacher`), drawn from the run's seed:
    /// `Teacher(inputs: 2, hidden_layers: 8, width: 2, train_examples: 10000, test_examples: 2000, ...)`.
    Teacher(TeacherParams),
    /// Lillicrap et al.'s linear task (SPEC §5.1): `y* = T x`, x ~ N(0, I), real-valued targets;
    /// `LinearTeacher(inputs: 30, outputs: 10, teacher_range: 1.0, train_examples: 20000, test_examples: 1000)`.
    LinearTeacher(LinearTeacherParams),
    /// The 30-20-10-10 tanh teacher of SPEC §5.2: `TanhTeacher(layers: [30, 20, 10, 10], weight_range: 0.5,
    /// bias_range: 0.5, train_examples: 400000, test_examples: 5000)`.
    TanhTeacher(TanhTeacherParams),
    /// The quadratic task of SPEC §5.5, `y*_k = xᵀ Q_k x`: `Quadratic(inputs: 20, outputs: 20, input_range: 2.0,
    /// q_range: 0.5, train_examples: 100000, test_examples: 2000)`.
    Quadratic(QuadraticParams),
}

impl Dataset {
    /// The files-backed dataset, if this is one.
    pub fn files(&self) -> Option<DatasetKind> {
        match self {
            Dataset::Mnist => Some(DatasetKind::Mnist),
            Dataset::FashionMnist => Some(DatasetKind::FashionMnist),
            _ => None,
        }
    }

    /// The regression task, if this is one (real-valued targets, learned from squared error; SPEC §5).
    pub fn regression(&self) -> Option<RegressionTask<'_>> {
        match self {
            Dataset::LinearTeacher(p) => Some(RegressionTask::Linear(p)),
            Dataset::TanhTeacher(p) => Some(RegressionTask::Tanh(p)),
            Dataset::Quadratic(p) => Some(RegressionTask::Quadratic(p)),
            _ => None,
        }
    }
}

/// The network: layer sizes, cell constants, error pools.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Cells per layer, input first, output last (e.g. `[784, 1000, 10]`).
    pub layers: Vec<usize>,
    /// The cells of every layer after the input: spiking `Lif` (default) or nonspiking `Rate`.
    #[serde(default)]
    pub cells: CellKind,
    /// LIF constants (SPEC §1); refused away from their defaults for other cells, which have no membrane.
    #[serde(default)]
    pub lif: LifSpec,
    /// How the excitatory and inhibitory error pools are made (SPEC §2.1).
    #[serde(default)]
    pub error_pools: ErrorPoolSpec,
}

/// The kind of cell of the layers after the input (SPEC §2.5: Table 2 has nonspiking and spiking rows).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum CellKind {
    /// Leaky integrate-and-fire cells stepped every Δt for `protocol.present_ms` (SPEC §1). Default.
    #[default]
    Lif,
    /// Nonspiking rate cells, `a = f(v) = max(0, c1 tanh(c2 v))` (eq 2.10) with `c2` =
    /// `learning.c2`, the same constant as the derivative term of ι. `protocol.dt`, `present_ms`, `settle_ms`,
    /// `reset_between_examples` and `network.lif` do not apply and are refused away from their defaults.
    Rate {
        /// Saturation c1 of the activation (0.82).
        c1: f32,
        /// Learning steps per minibatch (default 1: one step per example, SPEC §2.5's option). With k > 1 the
        /// minibatch is presented for k steps, forward pass and learning on each: k = 320 is SPEC §2.5's default
        /// reading, a LIF presentation's (100 − 20 ms)/0.25 ms learning steps (`models/mnist_stepped_*.ron`). The
        /// 80 settle steps are not computed: without dynamics or learning they would repeat the first forward pass.
        /// A test presentation is one step.
        #[serde(default = "defaults::one")]
        steps: usize,
    },
    /// Stochastic binary units of Lillicrap et al. 2016 (Fig 4, SPEC §5.4): Bernoulli inputs, integrating PSPs,
    /// feedback units chained through B, online learning on every step of one continuous stream of images.
    /// `protocol.batch_size` is the number K of streams side by side; `protocol.dt`, `present_ms`, `settle_ms` and
    /// `network.lif` do not apply and are refused away from their defaults.
    Bernoulli(BernoulliSpec),
    /// Graded (nonspiking) units of Lillicrap et al. 2016 (SPEC §5): `a = f(v)` with a linear, tanh or sigmoid f,
    /// optional biases, one step per example, squared error `L = ½‖y* − y‖²` with `e = y* − y`, updates
    /// `ΔW = +η d a_preᵀ − αW`. With `protocol.batch_size: 1` learning is online (SPEC §5.0); a larger minibatch
    /// combines its examples' updates by `learning.batch_reduction`. `protocol.dt`, `present_ms`, `settle_ms`,
    /// `reset_between_examples` and `network.lif` do not apply and are refused away from their defaults.
    Graded(GradedSpec),
}

/// The graded units of SPEC §5 and the open choices of their learning rules, with SPEC's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GradedSpec {
    /// Activation of every hidden layer (`Tanh`; `Linear` in SPEC §5.1, `Sigmoid` in §5.3).
    pub hidden: Activation,
    /// Activation of the output layer (`Linear`; `Sigmoid` in §5.3).
    pub output: Activation,
    /// Whether every unit has a bias that learns (true; false in the linear net of §5.1, whose biases stay 0).
    pub biases: bool,
    /// What FA's matrix B of the top hidden layer carries (SPEC §5.3 \[choice\]): `Error`, the output error e
    /// (`δ = B e`, Nature's and arXiv's text; default), or `Delta`, e ∘ y′ (`δ = B (e ∘ y′)`, as §2 and §6). The
    /// two agree for linear outputs.
    pub top_feedback: TopFeedback,
    /// How `learning.weight_decay` α enters: `PerStep` (−αW per update, SPEC §5.0; default) or `ScaledByEta`
    /// (−ηαW).
    pub decay: DecayScaling,
    /// The loss the output learns from: `SquaredError` (½‖y* − y‖², SPEC §5; default), or `CrossEntropy`, the
    /// sigmoid cross-entropy of Akrout et al. 2019 (SPEC §6.4; sigmoid outputs only), whose output modulator is
    /// e = y* − y itself, without the slope.
    pub loss: Loss,
}

impl Default for GradedSpec {
    fn default() -> Self {
        Self {
            hidden: Activation::Tanh,
            output: Activation::Linear,
            biases: true,
            top_feedback: TopFeedback::Error,
            decay: DecayScaling::PerStep,
            loss: Loss::SquaredError,
        }
    }
}

/// The loss a graded network's output learns from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Loss {
    /// ½‖y* − y‖²: output modulator `d = (y* − y) ∘ f′(v)`.
    #[default]
    SquaredError,
    /// Σ_k −y*_k ln y_k − (1 − y*_k) ln(1 − y_k) with sigmoid outputs: output modulator `d = y* − y`.
    CrossEntropy,
}

/// The signal that FA's feedback matrix of the top hidden layer carries (SPEC §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum TopFeedback {
    /// The output error e = y* − y.
    #[default]
    Error,
    /// The output error times the output units' slope, e ∘ y′ (what backprop sends).
    Delta,
}

/// The stochastic binary network of SPEC §5.4. Every field is a \[choice\] of SPEC's table, with its default.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BernoulliSpec {
    /// Integration constant τ ∈ (0, 1], the weight of the new input: `u = (1 − τ) u + τ (W s + b)` (0.9).
    pub tau: f32,
    /// Steps per training image N (5).
    pub train_steps: usize,
    /// Steps per test image M (5).
    pub test_steps: usize,
    /// Largest spike probability of an input pixel: `s⁰ ~ Bernoulli(min(x, input_max))` (0.95).
    pub input_max: f32,
    /// Output cells per class, consecutive (100): the answer is the group with the most activity.
    pub cells_per_class: usize,
    /// What the answer sums over its group: `Spikes` over all steps of the image (default), `LastSpikes`, or
    /// `LastPsp` (u at the last step).
    pub readout: BernoulliReadout,
    /// φ_δ, the signal a feedback unit sends: `TanhHalf` (tanh(z/2) = 2σ(z) − 1, default), `SigmoidHalf`
    /// (σ(z) − ½), `Tanh` (tanh z).
    pub feedback_signal: FeedbackSignal,
    /// What drives the error units: `Spikes` (y* − s, default) or `Probability` (y* − σ(u)).
    pub error_input: ErrorInput,
    /// Whether the error units integrate with τ like the feedback units (true) or hold y* − s of the step (false).
    pub error_integrates: bool,
    /// The third factor of the update: `Signal` (φ_δ(δ), what the feedback unit sends; default) or `Potential` (δ).
    pub third_factor: ThirdFactor,
    /// Whether a layer reads the spikes of the layer below of the same step (true, default) or of the step before
    /// (one step of delay per layer).
    pub same_step: bool,
    /// How `learning.weight_decay` γ enters: `PerStep` (−γW every step, default) or `ScaledByEta` (−ηγW).
    pub decay: DecayScaling,
}

impl Default for BernoulliSpec {
    fn default() -> Self {
        Self {
            tau: 0.9,
            train_steps: 5,
            test_steps: 5,
            input_max: 0.95,
            cells_per_class: 100,
            readout: BernoulliReadout::Spikes,
            feedback_signal: FeedbackSignal::TanhHalf,
            error_input: ErrorInput::Spikes,
            error_integrates: true,
            third_factor: ThirdFactor::Signal,
            same_step: true,
            decay: DecayScaling::PerStep,
        }
    }
}

/// What the answer of a Bernoulli network sums over each group of output cells (SPEC §5.4, test \[choice\]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum BernoulliReadout {
    /// Spikes over every step of the image.
    #[default]
    Spikes,
    /// Spikes of the last step only.
    LastSpikes,
    /// The PSP u at the last step.
    LastPsp,
}

/// φ_δ, "a simple sigmoidal function centred on 0" (SPEC §5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum FeedbackSignal {
    /// tanh(z/2) = 2σ(z) − 1.
    #[default]
    TanhHalf,
    /// σ(z) − ½ (half of `TanhHalf`: halves the effective η).
    SigmoidHalf,
    /// tanh(z).
    Tanh,
}

/// What drives a Bernoulli network's error units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ErrorInput {
    /// The sampled output spikes: y* − s.
    #[default]
    Spikes,
    /// Their expectation: y* − σ(u).
    Probability,
}

/// The third factor of a Bernoulli network's update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ThirdFactor {
    /// φ_δ(δ), what the feedback unit sends.
    #[default]
    Signal,
    /// The feedback unit's potential δ.
    Potential,
}

/// How the weight decay γ enters a Bernoulli network's update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DecayScaling {
    /// −γW per step (SPEC §5.0).
    #[default]
    PerStep,
    /// −ηγW per step.
    ScaledByEta,
}

/// LIF constants (SPEC §1; Δt is `protocol.dt`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifSpec {
    /// Membrane time constant τ, ms (20; the paper's "2 ms" is a typo, SPEC §1).
    pub tau: f32,
    /// Threshold of the hillock potential (0.4).
    pub h_th: f32,
    /// Refractory period, ms (1).
    pub t_ref: f32,
}

impl Default for LifSpec {
    fn default() -> Self {
        Self {
            tau: 20.0,
            h_th: 0.4,
            t_ref: 1.0,
        }
    }
}

/// The error pools (SPEC §2.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum ErrorPoolSpec {
    /// The pools relay e⁺ = max(e, 0) and e⁻ = max(−e, 0) within the same step (exactly Table 1). Default.
    #[default]
    Relay,
    /// The pools are LIF cells driven by `gain · (a_out − y*)` (excitatory) and `gain · (y* − a_out)`
    /// (inhibitory), so errors carry their own dynamics.
    Lif {
        /// Gain from the output/target difference to the pool cells' drive.
        gain: f32,
    },
}

/// Initialisation (SPEC §2.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InitSpec {
    /// Target mean drive v̄ (8).
    pub v_mean: f64,
    /// Target standard deviation of the drive σ_v (10).
    pub v_std: f64,
    /// Initial bias b̄ (0.8).
    pub b_mean: f64,
    /// Slope α of the linearised activation (c1 c2 = 0.0656).
    pub alpha: f64,
    /// Half-width r of the initial biases: every bias is drawn from U[b_mean − r, b_mean + r] (0, the default:
    /// every bias is b_mean; SPEC §5.2 and §5.5 draw them from U[−0.1, 0.1]).
    pub bias_range: f64,
    /// How forward weights are drawn: `AppendixB` (default: the moments above) or `Uniform(r)`, U[−r, r]
    /// (Lillicrap 2016: 0.05 in the network of Fig 4).
    pub weights: WeightInit,
    /// How the feedback matrices B are drawn: `AppendixB` (eq A.5, default), `Uniform(r)` (0.1 in Fig 4) or
    /// `Glorot` (SPEC §6.4).
    pub feedback: WeightInit,
    /// How the biases are drawn: `Mean` (`b_mean` and `bias_range`, default) or `Glorot` (SPEC §6.4).
    pub biases: BiasInit,
    /// Synapses removed for good (Lillicrap et al. 2016's sparse FA, SPEC §5.3): each weight is removed with the
    /// given probability, independently, and stays 0 all run. Empty lists (the default) remove nothing.
    pub sparsity: SparsitySpec,
}

/// The fractions of synapses removed from each matrix (SPEC §5.3: "remove 50 % of the elements of W and of B").
/// The masks are drawn from the run's seed (a stream of their own, so that no other draw changes) and are the same
/// whenever the model and seed are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SparsitySpec {
    /// One fraction in [0, 1) per forward weight layer, input side first (`[]`: dense). `[0.0, 0.5]` removes half
    /// of the hidden-to-output weights of a 784-1000-10 network.
    pub forward: Vec<f64>,
    /// One fraction in [0, 1) per hidden layer's feedback matrix B, first hidden layer first (`[]`: dense).
    pub feedback: Vec<f64>,
}

/// How a weight matrix is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum WeightInit {
    /// Uniform with Appendix B's mean and spread for the layer's fan-in (SPEC §2.3).
    #[default]
    AppendixB,
    /// Uniform on [−r, r].
    Uniform(f64),
    /// Normal N(0, 1/(fan_in + fan_out)) (Akrout et al. 2019's reference code, SPEC §6.4), the fans of the forward
    /// matrix (a feedback matrix B takes those of the forward matrix it stands for).
    Glorot,
}

/// How the biases are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum BiasInit {
    /// Every bias is `init.b_mean`, or drawn from U[b_mean − r, b_mean + r] with `init.bias_range: r` (default).
    #[default]
    Mean,
    /// Normal N(0, 1/(fan_in + fan_out)), like `WeightInit::Glorot` (SPEC §6.4).
    Glorot,
}

impl Default for InitSpec {
    fn default() -> Self {
        Self {
            v_mean: 8.0,
            v_std: 10.0,
            b_mean: 0.8,
            alpha: 0.82 * 0.08,
            bias_range: 0.0,
            weights: WeightInit::AppendixB,
            feedback: WeightInit::AppendixB,
            biases: BiasInit::Mean,
            sparsity: SparsitySpec::default(),
        }
    }
}

/// The learning rule (SPEC §2.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LearningSpec {
    /// `BA` (broadcast alignment, eq 2.7–2.8), `DF` (derivative-free), and with `Rate` cells also `FA` (feedback
    /// alignment, eq 2.6) and `BP` (backprop, eq 2.5). `Graded` cells learn by `BP`, `FA`, `Shallow` or `NP`
    /// (SPEC §5.1).
    pub algorithm: Algorithm,
    /// Learning depth: only the last `depth` weight layers learn (1 ..= layers − 1).
    pub depth: usize,
    /// Momentum μ (0.9).
    pub momentum: f32,
    /// Per-layer η: `FanIn` (1/fan-in, the paper's), `FanInScaled(k)`, or `Fixed(eta)`.
    pub learning_rate: LearningRate,
    /// γ of the broadcast matrices B_BA = γ^D B_FA ⋯ (0.034 for MNIST, eq A.6).
    pub gamma: f32,
    /// c2 of the sech²(c2 v) term of ι (0.08).
    pub c2: f32,
    /// Whether the derivative terms are 0 for v ≤ 0, as the rectified rate function's (SPEC §1.1, eq 2.11: true).
    /// `false` uses sech²(c2 v) for every v (the unrectified tanh's derivative): in nonspiking networks a cell
    /// pushed below v = 0 then keeps learning instead of falling silent for good (docs/results.md).
    pub rectified_derivative: bool,
    /// The rectifier of the derivative terms softened: 0 for v ≤ 0 becomes the probability that v plus a noise of
    /// this standard deviation is above 0 (a logistic noise: `sech²(c2 v) σ(π v / (√3 sd))`), as a LIF cell's
    /// derivative is on average, its drive varying from step to step with its input spikes (about 5 at Appendix B's
    /// initialisation, docs/results.md "When a class dies"). 0 (the default): SPEC's step at v = 0. Needs
    /// `rectified_derivative: true`.
    pub rectifier_noise_sd: f32,
    /// How a minibatch's per-example updates are combined: `Mean` or `Sum` (SPEC §2.4 \[choice\]).
    pub batch_reduction: BatchReduction,
    /// Weight decay of the forward weights and biases (0: none). In LIF and rate networks λ of
    /// `ΔW ← μ ΔW − s ιᵀ a − λ W`; in Bernoulli networks γ of `W += η g sᵀ − γ W` per step (SPEC §5.4: 1e-8).
    pub weight_decay: f64,
    /// The perturbation of `algorithm: NP` (SPEC §5.1).
    pub node_perturbation: NodePerturbationSpec,
    /// Phases of training in which only some weight layers learn (Lillicrap et al. 2016 Fig 5c, SPEC §5.5):
    /// `[(examples: 20000, layers: [0]), (examples: 20000, layers: [1]), (examples: 20000, layers: [0])]` lets
    /// W₀ learn with W frozen, then W with W₀ frozen, then W₀ again. Each phase lasts `examples` training
    /// examples, counted at the start of each minibatch; after the last phase, its layers go on learning. Layers
    /// are numbered from 0 (input to the first hidden layer) and must be among the layers `depth` lets learn.
    /// Empty (the default): every learning layer learns throughout. Graded cells only. A frozen layer keeps its
    /// momentum buffer as it was and takes it up again when a later phase lets it learn (SPEC §5.5 learns without
    /// momentum).
    pub schedule: Vec<PhaseSpec>,
    /// How the feedback matrices learn (Akrout et al. 2019, SPEC §6): `Fixed` (default), `KolenPollack(..)`,
    /// `WeightMirror(..)` or `SignSymmetry(..)`. They act on FA's matrices B, which stand for the transposed forward
    /// weights of the layer above: `algorithm: FA` with Graded cells.
    pub feedback: FeedbackLearning,
    /// The biases' learning rate as a fraction of the weights' (1). Akrout et al.'s reference code lets the biases
    /// learn at lr/128 (SPEC §6.4): 0.0078125. Graded cells only.
    pub bias_rate: f32,
    /// The target y* of the true class's output cell in a nonspiking (`Rate`) network; the other classes' stays 0
    /// (1: SPEC §2.1's one-hot target). The paper does not give its nonspiking networks' targets. A rate cell's
    /// activity is at most c1 (0.82), so with 1 the true class's error never falls below 1 − c1 and a rule without a
    /// derivative term (DF) pushes its drive up without end; with c1 the error vanishes as the cell saturates
    /// (docs/results.md, "Stepped nonspiking networks"). Rate cells only.
    pub class_target: f32,
}

/// How the feedback matrices learn (SPEC §6). Every rule keeps B shaped like the transposed forward weights of the
/// layer above.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum FeedbackLearning {
    /// B never changes: feedback alignment.
    #[default]
    Fixed,
    /// Kolen-Pollack (SPEC §6.1): B takes the forward weights' increment, transposed, and both decay by λ.
    KolenPollack(KolenPollackSpec),
    /// Weight mirror (SPEC §6.2): mirror batches of noise between the training minibatches teach B the transposed
    /// forward weights.
    WeightMirror(WeightMirrorSpec),
    /// Sign symmetry (SPEC §6.3): B = scale · sign(W)ᵀ, refreshed before every training minibatch.
    SignSymmetry(SignSymmetrySpec),
}

impl FeedbackLearning {
    /// The rule as written in a model file, e.g. `KolenPollack((decay: 0.0, eta: None))`.
    pub fn to_ron(&self) -> String {
        let config = ron::ser::PrettyConfig::new()
            .compact_structs(true)
            .compact_arrays(true)
            .new_line("");
        ron::ser::to_string_pretty(self, config).expect("a feedback rule always serialises")
    }
}

/// Kolen-Pollack's constants (SPEC §6.1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KolenPollackSpec {
    /// λ: W and B both decay by λ per update, so W − Bᵀ shrinks as (1 − λ)ᵗ (0: the reference code's, where the
    /// difference never changes; the biases never decay).
    pub decay: f32,
    /// B's learning rate, `None` (default) for the forward weights' η (SPEC §6.1: the same η).
    pub eta: Option<f32>,
}

impl Default for KolenPollackSpec {
    fn default() -> Self {
        Self { decay: 0.0, eta: None }
    }
}

/// The weight mirror's constants (SPEC §6.2), with SPEC's defaults for the clean form.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeightMirrorSpec {
    /// η_B, the rate of B's mirror update (0.1; the reference code's 0.01).
    pub eta: f32,
    /// λ_WM, B's decay per mirror batch; `None` (default) for η_B σ², which makes B → Wᵀ in the clean form (the
    /// reference code has none: `Some(0.0)`).
    pub decay: Option<f32>,
    /// σ, the noise's standard deviation (1; in the reference form the amplitude of uniform noise, 0.1).
    pub sigma: f32,
    /// M, noise samples per mirror batch (128).
    pub batch: usize,
    /// When mirror batches run: (before: 468, after: 1), the reference code's schedule.
    pub schedule: MirrorScheduleSpec,
    /// `Clean` (SPEC §6.2's form, default) or `Reference` (the reference code's: uniform noise, sigmoid response
    /// with bias, no decay unless given).
    pub form: snn_plasticity::MirrorForm,
}

impl Default for WeightMirrorSpec {
    fn default() -> Self {
        Self {
            eta: 0.1,
            decay: None,
            sigma: 1.0,
            batch: 128,
            schedule: MirrorScheduleSpec::default(),
            form: snn_plasticity::MirrorForm::Clean,
        }
    }
}

/// When the weight mirror's mirror batches run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MirrorScheduleSpec {
    /// Mirror batches before training (468 = int(60000/128), the reference code's).
    pub before: usize,
    /// Mirror batches after every training minibatch (1).
    pub after: usize,
}

impl Default for MirrorScheduleSpec {
    fn default() -> Self {
        Self { before: 468, after: 1 }
    }
}

/// Sign symmetry's constant (SPEC §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SignSymmetrySpec {
    /// The magnitude s of every feedback weight; `None` (default) for the RMS of the forward weights above at
    /// initialisation (1/√(fan_in + fan_out) with `init.weights: Glorot`).
    pub scale: Option<f32>,
}

/// One phase of `learning.schedule`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseSpec {
    /// Training examples the phase lasts (at least 1).
    pub examples: u64,
    /// The weight layers that learn in it (0 = input to the first hidden layer).
    pub layers: Vec<usize>,
}

/// Node perturbation's constants (SPEC §5.1 \[choice\]: "its variance was tuned by hand").
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodePerturbationSpec {
    /// Standard deviation σ of the noise ξ added to every hidden drive (0.1).
    pub sigma: f32,
    /// η_NP / η: the hidden layers' learning rate as a fraction of `learning.learning_rate` (1/3).
    pub rate_scale: f32,
}

impl Default for NodePerturbationSpec {
    fn default() -> Self {
        Self {
            sigma: 0.1,
            rate_scale: 1.0 / 3.0,
        }
    }
}

impl Default for LearningSpec {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::BA,
            depth: 1,
            momentum: 0.9,
            learning_rate: LearningRate::FanIn,
            gamma: 0.034,
            c2: 0.08,
            rectified_derivative: true,
            rectifier_noise_sd: 0.0,
            batch_reduction: BatchReduction::Mean,
            weight_decay: 0.0,
            node_perturbation: NodePerturbationSpec::default(),
            schedule: Vec::new(),
            feedback: FeedbackLearning::Fixed,
            bias_rate: 1.0,
            class_target: 1.0,
        }
    }
}

/// Presentation and training protocol (SPEC §2.4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtocolSpec {
    /// Euler step Δt for everything, ms (0.25). LIF cells only, like `present_ms` and `settle_ms`: refused away from
    /// its default for other cells (`CellKind`).
    pub dt: f32,
    /// Presentation of one example, ms (100).
    pub present_ms: f32,
    /// Initial part of a presentation without learning and without counting the answer, ms (20).
    pub settle_ms: f32,
    /// Examples simulated side by side, sharing weights (100).
    pub batch_size: usize,
    /// Passes over the training set (30).
    pub epochs: usize,
    /// Shuffle the training set at the start of every epoch.
    pub shuffle: bool,
    /// Reset h, refractory counters and activities between examples (SPEC §2.4 \[choice\]: true).
    pub reset_between_examples: bool,
    /// Learning-curve point every this many training examples (1000); 0 for none.
    pub curve_every: usize,
    /// Random test images per learning-curve point (100).
    pub curve_test_examples: usize,
    /// Write a checkpoint (`checkpoint.bin` in the run folder) every this many training examples; 0 for none. A
    /// checkpoint is also written when the run is interrupted (SIGINT, SIGTERM) and when training ends.
    pub checkpoint_every: usize,
    /// Training examples before each learning-curve point whose teaching signals are compared with backprop's for
    /// `alignment.csv` (0, the default: only the minibatch that completes the interval; at most `curve_every`; whole
    /// minibatches, so the window is rounded up to them). Lillicrap et al. 2016
    /// plot the mean ± 2 SD over windows of 10 examples (SPEC §5.1, Fig 2b): `curve_every: 10, alignment_window:
    /// 10`.
    pub alignment_window: usize,
    /// At every learning-curve point, the angle between each hidden layer's feedback signal and backprop's is also
    /// measured on the first this many training images, in file order, learning off (0, the default: not measured;
    /// Akrout et al. 2019's reference code logs the first image's, SPEC §6.4): `alignment.csv` columns
    /// `probe_first_deg` (the first image) and `probe_mean_deg` (the mean over them). Graded cells only.
    pub alignment_probe: usize,
    /// When the answer starts counting output spikes, ms: `None` (the default) from `settle_ms`, SPEC §2.4's
    /// 20–100 ms; `Some(0.0)` over the whole presentation. Learning still starts after `settle_ms`. LIF cells only
    /// (the test-time window is one of the choices SPEC leaves open, issue 21).
    pub count_from_ms: Option<f32>,
    /// The answer when several output cells share the largest count: `Wrong` (the default: no strictly most active
    /// cell, so no class) or `Lowest` (the lowest-numbered of them, as an argmax answers). LIF cells only.
    pub ties: Ties,
}

/// What a LIF network answers when output cells tie for the most spikes (SPEC §2.4 leaves it open).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Ties {
    /// No class: the answer counts as wrong.
    #[default]
    Wrong,
    /// The lowest-numbered of the tied cells.
    Lowest,
}

impl Default for ProtocolSpec {
    fn default() -> Self {
        Self {
            dt: 0.25,
            present_ms: 100.0,
            settle_ms: 20.0,
            batch_size: 100,
            epochs: 30,
            shuffle: true,
            reset_between_examples: true,
            curve_every: 1000,
            curve_test_examples: 100,
            checkpoint_every: 10_000,
            alignment_window: 0,
            alignment_probe: 0,
            count_from_ms: None,
            ties: Ties::Wrong,
        }
    }
}

/// What goes into the run's raster file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordSpec {
    /// Populations to record: `input`, `hidden1` … `hiddenK`, `output`, `error_exc`, `error_inh`; an empty list
    /// (the default) records all of them.
    pub populations: Vec<String>,
    /// Training presentations to record, counted from 0 over the whole run (epoch e, position p is
    /// `e · train_size + p`).
    pub train_examples: Vec<u64>,
    /// Test-set indices to record during the final test.
    pub test_examples: Vec<usize>,
    /// State traces of chosen cells of the recorded examples (besides spikes).
    pub traces: Vec<TraceSpec>,
    /// Record traces every this many steps (1 = every step).
    pub trace_every: usize,
}

/// Variables of chosen cells to record over time (SPEC §1, §2.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSpec {
    /// A population with a state (see the network's roster, [`crate::roster`]): `hidden1` … `hiddenK` or `output`.
    pub population: String,
    /// Cell indices within the population.
    pub cells: Vec<usize>,
    /// Variables: `v` (drive), `h` (hillock potential, LIF cells), `a` (activity), `iota` (teaching signal ι),
    /// `delta` (feedback δ). ι and δ are 0 on steps where the layer does not learn.
    pub variables: Vec<Variable>,
}

impl Default for RecordSpec {
    fn default() -> Self {
        Self {
            populations: Vec::new(),
            train_examples: vec![0],
            test_examples: vec![0, 1, 2],
            traces: Vec::new(),
            trace_every: 1,
        }
    }
}

mod defaults {
    pub fn seed() -> u64 {
        1
    }
    pub fn trials() -> usize {
        1
    }
    pub fn one() -> usize {
        1
    }
}

/// RON options used everywhere: `Some(...)` may be left out (`train_limit: 10000`).
pub(super) fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(
        ron::extensions::Extensions::IMPLICIT_SOME | ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES,
    )
}

impl ModelFile {
    /// Reads and parses a model file. Errors name the file, the line and column, and what was expected.
    pub fn from_path(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::Read {
            file: path.to_path_buf(),
            reason: e.to_string(),
            kind: e.kind(),
        })?;
        Self::from_ron(&text, path)
    }

    /// Parses model text; `origin` names it in errors.
    pub fn from_ron(text: &str, origin: &Path) -> Result<Self, ModelError> {
        ron_options()
            .from_str(text)
            .map_err(|e: ron::error::SpannedError| ModelError::Parse {
                file: origin.to_path_buf(),
                line: e.span.start.line,
                column: e.span.start.col,
                message: e.code.to_string(),
            })
    }

    /// The model as RON text that [`Self::from_ron`] reads back to an equal value.
    pub fn to_ron(&self) -> String {
        let pretty = ron::ser::PrettyConfig::new().struct_names(false).extensions(
            ron::extensions::Extensions::IMPLICIT_SOME | ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES,
        );
        ron_options()
            .to_string_pretty(self, pretty)
            .expect("a model file always serialises")
    }

    /// The data folder of this model: `$SNNSIM_DATA_DIR/<dataset>` if the variable is set, else
    /// `<data.root>/<dataset>` (`None` for a generated dataset).
    pub fn data_dir(&self) -> Option<PathBuf> {
        let root = std::env::var_os("SNNSIM_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.data.root.clone());
        Some(root.join(self.data.dataset.files()?.folder()))
    }
}
