//! Validation of a model file into a [`Model`]: every field checked against its physical range, derived quantities
//! (steps, the learning plan, the roster of populations) computed once.

use super::error::{ModelError, invalid};
use super::file::{
    Algorithm, BernoulliSpec, BiasInit, CellKind, DataSpec, ErrorPoolSpec, ErrorPools, FeedbackLearning, FirstLayer,
    GradedSpec, InputScaling, LifSpec, Loss, ModelFile, ProtocolSpec, RecordSpec, SpikeInput, WeightInit,
};
use super::plan::{FeedbackPlan, LayerPlan, Plan};
use crate::answers::Readout;
use crate::roster::{Role, Roster};
use snn_neuron::LifParams;
use snn_plasticity::{Derivative, FeedbackRule, InitParams, LearningRate, MirrorForm, MirrorRule, Reach};

/// A checked model: the file it came from plus everything derived from it. Its fields are private: engines and the
/// executor read the derived quantities (the learning [`Plan`], the [`Roster`], steps) and the sections they need
/// through typed accessors; the raw file is handed out only to write it back ([`Model::file`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    file: ModelFile,
    lif: LifParams,
    init: InitParams,
    steps: usize,
    settle_steps: usize,
    count_from_steps: usize,
    plan: Plan,
    roster: Roster,
}

impl Model {
    /// The model file after overrides, for writing the run folder's `model.ron` and checkpoints back, and for
    /// deriving a variant of this model (`file().clone()`, changed, checked again).
    pub fn file(&self) -> &ModelFile {
        &self.file
    }

    /// The model as RON text (what the run folder's `model.ron` holds).
    pub fn to_ron(&self) -> String {
        self.file.to_ron()
    }

    /// The model of one trial of a run of trials (`trials.rs`): this model with seed `seed` and a single trial,
    /// checked again.
    pub fn trial(&self, seed: u64) -> Result<Model, ModelError> {
        let mut file = self.file.clone();
        file.seed = seed;
        file.trials = 1;
        file.check()
    }

    /// The data folder (`$SNNSIM_DATA_DIR` or `data.root`, then the dataset's folder); `None` for a generated
    /// dataset.
    pub fn data_dir(&self) -> Option<std::path::PathBuf> {
        self.file.data_dir()
    }

    /// The learning algorithm as the model file names it (for messages: engines read the [`Plan`]).
    pub fn algorithm(&self) -> Algorithm {
        self.file.learning.algorithm
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// The seed of every random draw.
    pub fn seed(&self) -> u64 {
        self.file.seed
    }

    /// Independent trials of the protocol in one run.
    pub fn trials(&self) -> usize {
        self.file.trials
    }

    /// Where the data come from.
    pub fn data(&self) -> &DataSpec {
        &self.file.data
    }

    /// The presentation and training protocol.
    pub fn protocol(&self) -> &ProtocolSpec {
        &self.file.protocol
    }

    /// What to record.
    pub fn record(&self) -> &RecordSpec {
        &self.file.record
    }

    /// The cells of the layers after the input.
    pub fn cells(&self) -> CellKind {
        self.file.network.cells
    }

    /// How the error pools are made.
    pub fn error_pools(&self) -> &ErrorPools {
        &self.file.network.error_pools
    }

    /// LIF constants with Δt.
    pub fn lif(&self) -> LifParams {
        self.lif
    }

    /// The weight mirror's mirror phase of a LIF network (SPEC §6.6), when its feedback learns by the weight mirror:
    /// `learning.feedback.WeightMirror`'s η and λ, a phase as long as a presentation, the noise drive N(init.v_mean,
    /// init.v_std²) redrawn every 10 ms, and γ.
    pub fn spiking_mirror(&self) -> Option<snn_plasticity::spiking_mirror::SpikingMirrorRule> {
        let (CellKind::Lif, FeedbackRule::WeightMirror(rule)) =
            (self.file.network.cells, self.plan.feedback.first()?.rule)
        else {
            return None;
        };
        Some(snn_plasticity::spiking_mirror::SpikingMirrorRule {
            eta: rule.eta,
            decay: rule.decay,
            steps: self.steps,
            redraw: (10.0 / self.lif.dt).round().max(1.0) as usize,
            mean: self.file.init.v_mean as f32,
            sd: self.file.init.v_std as f32,
            gamma: self.plan.feedback(0).gamma,
        })
    }

    /// Initialisation statistics (Appendix B).
    pub fn init(&self) -> &InitParams {
        &self.init
    }

    /// Steps per LIF presentation (400).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Steps without learning or answer counting at the start of a presentation (80): learning happens on steps
    /// `settle_steps..steps`, i.e. for t = (s + 1) Δt > settle_ms.
    pub fn settle_steps(&self) -> usize {
        self.settle_steps
    }

    /// The first step whose output spikes the answer counts (`protocol.count_from_ms`; the settle steps by
    /// default): steps `count_from_steps..steps`.
    pub fn count_from_steps(&self) -> usize {
        self.count_from_steps
    }

    /// What every weight layer and feedback pathway does when the network learns.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The network's populations by name.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// Whether a batch of `examples` carries the learning first layer through its Gram matrix.
    pub fn first_layer_uses_gram(&self, examples: usize) -> bool {
        match self.file.engine.first_layer {
            _ if self.plan.decays() => false,
            FirstLayer::Direct => false,
            FirstLayer::Gram => true,
            FirstLayer::Auto => examples < 2 * self.layers()[0],
        }
    }

    /// The weight layer that a rate network carries through the Gram matrix of its input while a minibatch of
    /// `examples` is presented for learning ([`snn_plasticity::gram`]): the first learning layer, whose input (the
    /// data, or the activity of layers that do not learn) is constant for the whole presentation. `None` for other
    /// cells, with weight decay or `engine.first_layer: Direct`, and with `Auto` where the carry saves no work: one
    /// learning step per presentation, or a batch at least twice the layer's fan-in.
    pub fn rate_gram_layer(&self, examples: usize) -> Option<usize> {
        let CellKind::Rate { steps, .. } = self.file.network.cells else {
            return None;
        };
        let first = (0..self.layers().len() - 1).find(|&l| self.plan.learns(l))?;
        let carried = match self.file.engine.first_layer {
            _ if self.plan.decays() => false,
            FirstLayer::Direct => false,
            FirstLayer::Gram => true,
            FirstLayer::Auto => steps > 1 && examples < 2 * self.layers()[first],
        };
        carried.then_some(first)
    }

    /// Whether weight layer `l` feeds a hidden layer from another hidden layer's spikes and its drive sums the rows
    /// of its transposed weights for the active inputs (`engine.spike_input`).
    pub fn sums_active_inputs(&self, l: usize) -> bool {
        let hidden = self.layers().len() - 2;
        (1..hidden).contains(&l) && self.file.engine.spike_input == SpikeInput::ActiveRows && !self.plan.decays()
    }

    /// Whether a stochastic binary network at few streams steps event-driven: every weight layer stored by
    /// presynaptic cell, its drive and update touching only the synapses of active inputs (`engine.spike_input`).
    pub fn bernoulli_events(&self) -> bool {
        self.file.engine.spike_input == SpikeInput::ActiveRows
    }
}

impl ModelFile {
    /// [`ModelFile::check`] of a model read from `file` (with any overrides applied): a refusal names the file.
    pub fn check_file(&self, file: &std::path::Path) -> Result<Model, ModelError> {
        self.check().map_err(|e| ModelError::InFile {
            file: file.to_path_buf(),
            error: Box::new(e),
        })
    }

    /// Validates every field and derives the simulator's quantities.
    pub fn check(&self) -> Result<Model, ModelError> {
        let f = self;
        if f.name.trim().is_empty() || f.name.contains(['/', '\\']) {
            return Err(invalid(
                "name",
                format!("{:?}", f.name),
                "a non-empty name without path separators",
            ));
        }
        // Network.
        let layers = &f.network.layers;
        if layers.len() < 2 {
            return Err(invalid(
                "network.layers",
                format!("{layers:?}"),
                "at least an input and an output layer",
            ));
        }
        if let Some(i) = layers.iter().position(|&n| n == 0 || n > 1_000_000) {
            return Err(invalid(
                &format!("network.layers.{i}"),
                layers[i],
                "between 1 and 1000000 cells",
            ));
        }
        let synapses: f64 = layers.windows(2).map(|w| w[0] as f64 * w[1] as f64).sum();
        if synapses > 2.5e8 {
            return Err(invalid(
                "network.layers",
                format!("{layers:?}"),
                format!("at most 250 million synapses (8 bytes each with momentum), not {synapses:.3e}"),
            ));
        }
        // Time.
        let p = &f.protocol;
        check_no_lif_time_fields(f)?;
        let lif = LifParams {
            dt: p.dt,
            tau: f.network.lif.tau,
            h_th: f.network.lif.h_th,
            t_ref: f.network.lif.t_ref,
        };
        lif.check().map_err(|e| match e {
            snn_neuron::NeuronError::OutOfRange { field, value, expected } => {
                let path = if field == "dt" {
                    "protocol.dt".into()
                } else {
                    format!("network.lif.{field}")
                };
                invalid(&path, value, expected)
            }
        })?;
        let steps = whole_steps(p.present_ms, p.dt, "protocol.present_ms")?;
        let settle_steps = whole_steps(p.settle_ms, p.dt, "protocol.settle_ms")?;
        if steps == 0 || steps > 1_000_000 {
            return Err(invalid(
                "protocol.present_ms",
                p.present_ms,
                "a presentation of 1 to 10^6 steps",
            ));
        }
        if settle_steps >= steps {
            return Err(invalid(
                "protocol.settle_ms",
                p.settle_ms,
                format!("less than protocol.present_ms = {}", p.present_ms),
            ));
        }
        let count_from_steps = match p.count_from_ms {
            None => settle_steps,
            Some(ms) => {
                let n = whole_steps(ms, p.dt, "protocol.count_from_ms")?;
                if n >= steps {
                    return Err(invalid(
                        "protocol.count_from_ms",
                        ms,
                        format!("less than protocol.present_ms = {}", p.present_ms),
                    ));
                }
                n
            }
        };
        let lif_cells = matches!(f.network.cells, CellKind::Lif);
        let answer_fields = [
            (
                "protocol.count_from_ms",
                p.count_from_ms.is_some(),
                format!("{:?}", p.count_from_ms),
                "None",
            ),
            (
                "protocol.ties",
                p.ties != super::file::Ties::Wrong,
                format!("{:?}", p.ties),
                "Wrong",
            ),
        ];
        if let Some((field, _, value, default)) = answer_fields.iter().find(|(_, set, ..)| *set && !lif_cells) {
            return Err(invalid(
                field,
                value,
                format!("{default} for these cells: the answer's counting window and ties are options of LIF networks"),
            ));
        }
        if p.batch_size == 0 || p.batch_size > 100_000 {
            return Err(invalid(
                "protocol.batch_size",
                p.batch_size,
                "between 1 and 100000 examples (side-by-side streams K for Bernoulli cells)",
            ));
        }
        if p.epochs > 100_000 {
            return Err(invalid("protocol.epochs", p.epochs, "at most 100000 passes"));
        }
        if p.curve_every > 0 && p.alignment_window > p.curve_every {
            return Err(invalid(
                "protocol.alignment_window",
                p.alignment_window,
                format!(
                    "at most protocol.curve_every = {} examples: a window lies within one learning-curve interval",
                    p.curve_every
                ),
            ));
        }
        if p.curve_every > 0 && p.curve_test_examples == 0 {
            return Err(invalid(
                "protocol.curve_test_examples",
                0,
                "at least 1 test image per learning-curve point (or protocol.curve_every = 0)",
            ));
        }
        // Learning.
        let l = &f.learning;
        let weight_layers = layers.len() - 1;
        if l.depth == 0 || l.depth > weight_layers {
            return Err(invalid(
                "learning.depth",
                l.depth,
                format!("between 1 and {weight_layers}, the number of weight layers of {layers:?}"),
            ));
        }
        if !(0.0..1.0).contains(&l.momentum) {
            return Err(invalid("learning.momentum", l.momentum, "a momentum μ with 0 <= μ < 1"));
        }
        match l.learning_rate {
            LearningRate::FanIn => {}
            LearningRate::FanInScaled(k) | LearningRate::Fixed(k) if k.is_finite() && k > 0.0 => {}
            LearningRate::FanInScaled(k) | LearningRate::Fixed(k) => {
                return Err(invalid("learning.learning_rate", k, "a positive, finite learning rate"));
            }
        }
        if !(l.gamma.is_finite() && l.gamma > 0.0) {
            return Err(invalid("learning.gamma", l.gamma, "γ > 0 (0.034 for MNIST)"));
        }
        if !(l.c2.is_finite() && l.c2 > 0.0) {
            return Err(invalid("learning.c2", l.c2, "c2 > 0 (0.08)"));
        }
        if !(l.class_target.is_finite() && l.class_target > 0.0) {
            return Err(invalid(
                "learning.class_target",
                l.class_target,
                "a finite target > 0 for the true class's output cell (1)",
            ));
        }
        if l.class_target != 1.0 && !matches!(f.network.cells, CellKind::Rate { .. }) {
            return Err(invalid(
                "learning.class_target",
                l.class_target,
                "1 for these cells: another target of the true class is an option of Rate cells (a LIF network's \
                 error pools relay e in {-1, 0, 1}, SPEC §2.1)",
            ));
        }
        if !(l.rectifier_noise_sd.is_finite() && l.rectifier_noise_sd >= 0.0) {
            return Err(invalid(
                "learning.rectifier_noise_sd",
                l.rectifier_noise_sd,
                "a finite standard deviation ≥ 0 (0: SPEC's rectifier, a step at v = 0)",
            ));
        }
        if l.rectifier_noise_sd > 0.0 && !(matches!(f.network.cells, CellKind::Rate { .. }) && l.rectified_derivative) {
            return Err(invalid(
                "learning.rectifier_noise_sd",
                l.rectifier_noise_sd,
                "0 here: a softened rectifier is an option of Rate cells with learning.rectified_derivative: true (a \
                 LIF cell's drive has its own noise)",
            ));
        }
        if l.rectifier_noise_sd > 0.0 && !matches!(l.algorithm, Algorithm::BP | Algorithm::FA | Algorithm::BA) {
            return Err(invalid(
                "learning.rectifier_noise_sd",
                l.rectifier_noise_sd,
                format!(
                    "0 with learning.algorithm: {:?}, which has no derivative term to soften (BP, FA and BA have)",
                    l.algorithm
                ),
            ));
        }
        let nonspiking = matches!(f.network.cells, CellKind::Rate { .. } | CellKind::Graded(_));
        if matches!(l.algorithm, Algorithm::Shallow | Algorithm::NP) && !matches!(f.network.cells, CellKind::Graded(_))
        {
            return Err(invalid(
                "learning.algorithm",
                format!("{:?}", l.algorithm),
                "BP, FA, BA or DF for these cells: Shallow and NP are learners of Graded cells (SPEC §5.1); \
                 learning.depth: 1 makes any algorithm shallow",
            ));
        }
        match f.network.cells {
            CellKind::Rate { c1, steps } => {
                if !(c1.is_finite() && c1 > 0.0) {
                    return Err(invalid("network.cells.Rate.c1", c1, "c1 > 0 (0.82)"));
                }
                if steps == 0 || steps > 100_000 {
                    return Err(invalid(
                        "network.cells.Rate.steps",
                        steps,
                        "1 to 100000 updates per minibatch",
                    ));
                }
            }
            CellKind::Lif if l.algorithm.chains() => {
                return Err(invalid(
                    "learning.algorithm",
                    format!("{:?}", l.algorithm),
                    "BA or DF for LIF cells: BP needs weight transport and FA products of spike signals (SPEC §2.2); \
                     use network.cells: Rate(c1: 0.82) for a nonspiking network",
                ));
            }
            CellKind::Lif => {}
            CellKind::Bernoulli(b) => check_bernoulli(&b, f)?,
            CellKind::Graded(g) => check_graded(&g, f)?,
        }
        check_feedback_learning(f)?;
        if !matches!(f.network.cells, CellKind::Graded(_)) {
            let sparse = &f.init.sparsity;
            let refused = [
                ("learning.schedule", !f.learning.schedule.is_empty()),
                ("init.sparsity.forward", !sparse.forward.is_empty()),
                ("init.sparsity.feedback", !sparse.feedback.is_empty()),
            ];
            if let Some((field, _)) = refused.iter().find(|(_, set)| *set) {
                return Err(invalid(
                    field,
                    "non-empty",
                    "[] for these cells: phases of learning and removed synapses are options of Graded cells (SPEC §5)",
                ));
            }
        }
        if !(f.learning.weight_decay.is_finite() && (0.0..1.0).contains(&f.learning.weight_decay)) {
            return Err(invalid(
                "learning.weight_decay",
                f.learning.weight_decay,
                "a decay with 0 <= decay < 1 (0: none)",
            ));
        }
        for (name, w) in [("init.weights", f.init.weights), ("init.feedback", f.init.feedback)] {
            if let WeightInit::Uniform(r) = w
                && !(r.is_finite() && r > 0.0)
            {
                return Err(invalid(
                    &format!("{name}.Uniform"),
                    r,
                    "a positive, finite bound r of U[−r, r]",
                ));
            }
        }
        if f.data.scaling != InputScaling::Standardise && f.data.dataset.files().is_none() {
            return Err(invalid(
                "data.scaling",
                format!("{:?}", f.data.scaling),
                "Standardise for a generated dataset: the other scalings are for the pixels of image files",
            ));
        }
        if f.trials == 0 || f.trials > 1_000_000 {
            return Err(invalid("trials", f.trials, "between 1 and 1000000 trials"));
        }
        if f.trials > 1 && (!f.record.train_examples.is_empty() || !f.record.test_examples.is_empty()) {
            return Err(invalid(
                "record.train_examples",
                "non-empty",
                "[] (and record.test_examples: []) for a run of several trials: trials record no rasters",
            ));
        }
        if let Some(task) = f.data.dataset.regression() {
            task.check().map_err(|e| match e {
                snn_data::DataError::Format { path, reason } => {
                    invalid(&path.display().to_string(), "out of range", reason)
                }
                other => invalid("data.dataset", task.name(), other.to_string()),
            })?;
            if !matches!(f.network.cells, CellKind::Graded(_)) {
                return Err(invalid(
                    "data.dataset",
                    task.name(),
                    "a classification dataset for these cells: only Graded cells learn real-valued targets (SPEC §5)",
                ));
            }
            let (inputs, outputs) = task.shape();
            let (first, last) = (layers[0], *layers.last().expect("checked: an output layer"));
            if (first, last) != (inputs, outputs) {
                return Err(invalid(
                    "network.layers",
                    format!("{layers:?}"),
                    format!(
                        "{inputs} inputs and {outputs} outputs, those of data.dataset {}",
                        task.name()
                    ),
                ));
            }
        }
        if let super::file::Dataset::Teacher(t) = &f.data.dataset {
            t.check().map_err(|e| match e {
                snn_data::DataError::Format { path, reason } => {
                    invalid(&path.display().to_string(), "out of range", reason)
                }
                other => invalid("data.dataset", "Teacher", other.to_string()),
            })?;
        }
        if nonspiking && (!f.record.train_examples.is_empty() || !f.record.test_examples.is_empty()) {
            let field = if f.record.train_examples.is_empty() {
                "record.test_examples"
            } else {
                "record.train_examples"
            };
            return Err(invalid(
                field,
                "non-empty",
                "[] for a nonspiking network (Rate or Graded cells): they take one step per example and have no spike raster or \
                 time course to record",
            ));
        }
        if let ErrorPoolSpec::Lif { gain } = f.network.error_pools
            && !(gain.is_finite() && gain > 0.0)
        {
            return Err(invalid("network.error_pools.Lif.gain", gain, "a positive gain"));
        }
        // Init.
        let init = InitParams {
            v_mean: f.init.v_mean,
            v_std: f.init.v_std,
            b_mean: f.init.b_mean,
            alpha: f.init.alpha,
        };
        for (name, v) in [
            ("init.v_mean", init.v_mean),
            ("init.alpha", init.alpha),
            ("init.v_std", init.v_std),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(name, v, "a positive, finite number"));
            }
        }
        if !init.b_mean.is_finite() {
            return Err(invalid("init.b_mean", init.b_mean, "a finite bias"));
        }
        if !(f.init.bias_range.is_finite() && f.init.bias_range >= 0.0) {
            return Err(invalid(
                "init.bias_range",
                f.init.bias_range,
                "a half-width r >= 0 of U[b_mean − r, b_mean + r] (0: every bias is b_mean)",
            ));
        }
        for (i, &n) in layers[..weight_layers].iter().enumerate() {
            init.weight_moments(n)
                .map_err(|e| invalid("init", format!("layer {}", i + 2), e.to_string()))?;
        }
        // Data.
        let d = &f.data;
        if !(d.input_std.is_finite() && d.input_std > 0.0 && d.input_mean.is_finite()) {
            return Err(invalid(
                "data.input_std",
                d.input_std,
                "a positive standard deviation (0.8)",
            ));
        }
        for (name, lim) in [("data.train_limit", d.train_limit), ("data.test_limit", d.test_limit)] {
            if lim == Some(0) {
                return Err(invalid(name, 0, "at least 1 example, or None for all"));
            }
        }
        // Recording: every name against the roster of the network. A rate network records no rasters (refused
        // above), so its `record` section is never read; it is checked against the roster of a LIF network of these
        // layers all the same, which catches a misspelt name and keeps a LIF file valid when its cells are
        // overridden to `Rate`.
        let roster = match f.network.cells {
            CellKind::Bernoulli(_) => Roster::bernoulli(layers),
            CellKind::Lif | CellKind::Rate { .. } | CellKind::Graded(_) => Roster::lif(layers),
        };
        let names = roster.names();
        for (i, name) in f.record.populations.iter().enumerate() {
            match roster.find(name).map(|p| roster.get(p)) {
                None => {
                    return Err(invalid(
                        &format!("record.populations.{i}"),
                        format!("{name:?}"),
                        format!("one of {}", names.join(", ")),
                    ));
                }
                Some(p) if !p.spiking && p.role != Role::Input => {
                    let spiking: Vec<&str> = roster
                        .iter()
                        .filter(|(_, p)| p.spiking || p.role == Role::Input)
                        .map(|(_, p)| p.name.as_str())
                        .collect();
                    return Err(invalid(
                        &format!("record.populations.{i}"),
                        format!("{name:?}"),
                        format!(
                            "a population with a raster: one of {} ({name} does not spike: record its variables with \
                             record.traces)",
                            spiking.join(", ")
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        let rec = &f.record;
        if rec.trace_every == 0 {
            return Err(invalid("record.trace_every", 0, "at least 1 step"));
        }
        // Populations with a state to trace (more than their activity): the cell layers.
        let traceable: Vec<&str> = roster
            .iter()
            .filter(|(_, p)| p.variables.len() > 1)
            .map(|(_, p)| p.name.as_str())
            .collect();
        for (t, trace) in rec.traces.iter().enumerate() {
            let Some(pop) = roster
                .find(&trace.population)
                .filter(|&p| roster.get(p).variables.len() > 1)
            else {
                return Err(invalid(
                    &format!("record.traces.{t}.population"),
                    format!("{:?}", trace.population),
                    format!("a population with a state: one of {}", traceable.join(", ")),
                ));
            };
            let pop = roster.get(pop);
            if let Some(c) = trace.cells.iter().position(|&c| c >= pop.cells) {
                return Err(invalid(
                    &format!("record.traces.{t}.cells.{c}"),
                    trace.cells[c],
                    format!("a cell index below {}, the size of {}", pop.cells, trace.population),
                ));
            }
            if trace.cells.is_empty() || trace.variables.is_empty() {
                return Err(invalid(
                    &format!("record.traces.{t}"),
                    "empty",
                    "at least one cell and one variable",
                ));
            }
            if let Some(k) = trace.variables.iter().position(|&v| !pop.shows(v)) {
                let shown: Vec<&str> = pop.variables.iter().map(|v| v.name()).collect();
                return Err(invalid(
                    &format!("record.traces.{t}.variables.{k}"),
                    trace.variables[k].name(),
                    format!("one of the variables {} shows: {}", pop.name, shown.join(", ")),
                ));
            }
        }
        // The learning plan (SPEC §2.2 table): which layers learn, their η and derivative term, and each hidden
        // layer's feedback pathway.
        let c1 = match f.network.cells {
            CellKind::Rate { c1, .. } => c1,
            // The fit of E(a) (eq 2.10): LIF cells' rate approximation. Bernoulli networks use neither derivative.
            CellKind::Lif | CellKind::Bernoulli(_) | CellKind::Graded(_) => 0.82,
        };
        let c2 = l.c2;
        let (own, chain_derivative) = if l.rectifier_noise_sd > 0.0 {
            // A logistic noise of standard deviation sd has the scale sd √3 / π.
            let scale = l.rectifier_noise_sd * 3f32.sqrt() / std::f32::consts::PI;
            (
                Derivative::Sech2Soft { c2, scale },
                Derivative::TanhFitSoft { c1, c2, scale },
            )
        } else if l.rectified_derivative {
            (Derivative::Sech2 { c2 }, Derivative::TanhFit { c1, c2 })
        } else {
            (Derivative::Sech2Unmasked { c2 }, Derivative::TanhFitUnmasked { c1, c2 })
        };
        let derivative = match l.algorithm {
            Algorithm::BP | Algorithm::FA | Algorithm::BA => own,
            // Graded cells' learners take their slopes from the activation functions, not from the plan.
            Algorithm::DF | Algorithm::Shallow | Algorithm::NP => Derivative::One,
        };
        let perturbation = (l.algorithm == Algorithm::NP).then_some(l.node_perturbation.sigma);
        let layer_plans = layers[..weight_layers]
            .iter()
            .enumerate()
            .map(|(i, &fan_in)| LayerPlan {
                learns: i >= weight_layers - l.depth,
                // Node perturbation's hidden layers learn at η_NP = rate_scale · η (SPEC §5.1).
                eta: match perturbation {
                    Some(_) if i + 1 < weight_layers => l.learning_rate.eta(fan_in) * l.node_perturbation.rate_scale,
                    _ => l.learning_rate.eta(fan_in),
                },
                derivative,
            })
            .collect();
        let feedback = FeedbackPlan {
            reach: if l.algorithm.chains() {
                Reach::Chained
            } else {
                Reach::Broadcast
            },
            own_matrix: matches!(l.algorithm, Algorithm::FA | Algorithm::BA | Algorithm::DF),
            gamma: l.gamma,
            rule: match l.feedback {
                FeedbackLearning::Fixed => FeedbackRule::Fixed,
                FeedbackLearning::KolenPollack(kp) => FeedbackRule::KolenPollack {
                    decay: kp.decay,
                    eta: kp.eta,
                },
                FeedbackLearning::WeightMirror(wm) => FeedbackRule::WeightMirror(MirrorRule {
                    eta: wm.eta,
                    decay: wm.decay.unwrap_or(match wm.form {
                        MirrorForm::Clean => wm.eta * wm.sigma * wm.sigma,
                        MirrorForm::Reference => 0.0,
                    }),
                    sigma: wm.sigma,
                    batch: wm.batch,
                    before: wm.schedule.before,
                    after: wm.schedule.after,
                    form: wm.form,
                }),
                FeedbackLearning::SignSymmetry(ss) => FeedbackRule::SignSymmetry { scale: ss.scale },
            },
        };
        let plan = Plan {
            layers: layer_plans,
            feedback: vec![feedback; weight_layers - 1],
            momentum: l.momentum,
            reduction: l.batch_reduction,
            decay: l.weight_decay as f32,
            reference_derivative: own,
            chain_derivative,
            perturbation,
        };
        let (steps, settle_steps) = match f.network.cells {
            CellKind::Bernoulli(b) => (b.train_steps, 0),
            CellKind::Graded(_) => (1, 0),
            CellKind::Lif | CellKind::Rate { .. } => (steps, settle_steps),
        };
        Ok(Model {
            file: f.clone(),
            lif,
            init,
            steps,
            settle_steps,
            count_from_steps,
            plan,
            roster: if nonspiking { Roster::rate(layers) } else { roster },
        })
    }
}

/// The fields of a Bernoulli network (SPEC §5.4) and what they need of the rest of the file.
fn check_bernoulli(b: &BernoulliSpec, f: &ModelFile) -> Result<(), ModelError> {
    let p = "network.cells.Bernoulli";
    if !(b.tau > 0.0 && b.tau <= 1.0) {
        return Err(invalid(
            &format!("{p}.tau"),
            b.tau,
            "an integration constant τ with 0 < τ <= 1 (0.9)",
        ));
    }
    if !(b.input_max > 0.0 && b.input_max <= 1.0) {
        return Err(invalid(
            &format!("{p}.input_max"),
            b.input_max,
            "a spike probability in (0, 1] (0.95)",
        ));
    }
    for (name, n) in [("train_steps", b.train_steps), ("test_steps", b.test_steps)] {
        if n == 0 || n > 1_000_000 {
            return Err(invalid(&format!("{p}.{name}"), n, "1 to 10^6 steps per image (5)"));
        }
    }
    let out = *f.network.layers.last().expect("checked: an output layer");
    if b.cells_per_class == 0 || !out.is_multiple_of(b.cells_per_class) || out / b.cells_per_class < 2 {
        return Err(invalid(
            &format!("{p}.cells_per_class"),
            b.cells_per_class,
            format!("a group size that divides the {out} output cells into at least 2 classes (100 for 1000)"),
        ));
    }
    let l = &f.learning;
    if l.algorithm != Algorithm::FA {
        return Err(invalid(
            "learning.algorithm",
            format!("{:?}", l.algorithm),
            "FA for Bernoulli cells: feedback units chained through B (SPEC §5.4)",
        ));
    }
    if l.momentum != 0.0 {
        return Err(invalid(
            "learning.momentum",
            l.momentum,
            "0 for Bernoulli cells: their rule has no momentum (SPEC §5.4)",
        ));
    }
    Ok(())
}

/// The fields of a network of graded units (SPEC §5) and what they need of the rest of the file.
fn check_graded(g: &GradedSpec, f: &ModelFile) -> Result<(), ModelError> {
    let l = &f.learning;
    if !matches!(
        l.algorithm,
        Algorithm::BP | Algorithm::FA | Algorithm::Shallow | Algorithm::NP
    ) {
        return Err(invalid(
            "learning.algorithm",
            format!("{:?}", l.algorithm),
            "BP, FA, Shallow or NP for Graded cells (SPEC §5.1); BA and DF are the learners of Rate and LIF cells",
        ));
    }
    if l.algorithm == Algorithm::Shallow && l.depth != 1 {
        return Err(invalid(
            "learning.depth",
            l.depth,
            "1 with algorithm Shallow: only the output layer learns",
        ));
    }
    let np = &l.node_perturbation;
    if l.algorithm == Algorithm::NP {
        if !(np.sigma.is_finite() && np.sigma > 0.0) {
            return Err(invalid(
                "learning.node_perturbation.sigma",
                np.sigma,
                "a positive, finite standard deviation σ (0.1)",
            ));
        }
        if !(np.rate_scale.is_finite() && np.rate_scale > 0.0) {
            return Err(invalid(
                "learning.node_perturbation.rate_scale",
                np.rate_scale,
                "a positive, finite η_NP / η (1/3)",
            ));
        }
    }
    let weight_layers = f.network.layers.len() - 1;
    for (i, phase) in l.schedule.iter().enumerate() {
        let field = format!("learning.schedule[{i}]");
        if phase.examples == 0 {
            return Err(invalid(&format!("{field}.examples"), 0, "at least 1 training example"));
        }
        if let Some(&bad) = phase
            .layers
            .iter()
            .find(|&&w| w >= weight_layers || w + l.depth < weight_layers)
        {
            return Err(invalid(
                &format!("{field}.layers"),
                bad,
                format!(
                    "weight layers that learn: {} to {} (learning.depth {} of {weight_layers} layers)",
                    weight_layers - l.depth,
                    weight_layers - 1,
                    l.depth
                ),
            ));
        }
    }
    let sparsity = &f.init.sparsity;
    for (field, fractions, wanted) in [
        ("init.sparsity.forward", &sparsity.forward, weight_layers),
        ("init.sparsity.feedback", &sparsity.feedback, weight_layers - 1),
    ] {
        if !fractions.is_empty() && fractions.len() != wanted {
            return Err(invalid(
                field,
                format!("{fractions:?}"),
                format!("[] or one fraction per matrix: {wanted} of them"),
            ));
        }
        if let Some(bad) = fractions.iter().find(|r| !(0.0..1.0).contains(*r)) {
            return Err(invalid(field, bad, "fractions of removed synapses in [0, 1)"));
        }
    }
    if sparsity.feedback.iter().any(|&r| r > 0.0) && l.algorithm != Algorithm::FA {
        return Err(invalid(
            "init.sparsity.feedback",
            format!("{:?}", sparsity.feedback),
            format!(
                "[] with algorithm {:?}: only FA has feedback matrices of its own",
                l.algorithm
            ),
        ));
    }
    if !g.biases && (f.init.b_mean != 0.0 || f.init.bias_range != 0.0) {
        let (field, value) = match f.init.b_mean != 0.0 {
            true => ("init.b_mean", f.init.b_mean),
            false => ("init.bias_range", f.init.bias_range),
        };
        return Err(invalid(
            field,
            value,
            "0 with network.cells.Graded.biases: false (units without biases)",
        ));
    }
    Ok(())
}

/// The fields of Akrout et al. 2019 (SPEC §6): how feedback learns, the cross-entropy loss, the biases' rate and the
/// alignment probe, and what they need of the rest of the file.
fn check_feedback_learning(f: &ModelFile) -> Result<(), ModelError> {
    let l = &f.learning;
    let graded = matches!(f.network.cells, CellKind::Graded(_));
    let rate = |field: &str, x: f32, what: &str| match x.is_finite() && x > 0.0 {
        true => Ok(()),
        false => Err(invalid(field, x, what)),
    };
    let decay = |field: &str, x: f32| match (0.0..1.0).contains(&x) {
        true => Ok(()),
        false => Err(invalid(field, x, "a decay λ with 0 <= λ < 1 per update")),
    };
    if l.feedback != FeedbackLearning::Fixed {
        let lif = matches!(f.network.cells, CellKind::Lif);
        let hidden = f.network.layers.len().saturating_sub(2);
        let kolen_pollack = matches!(l.feedback, FeedbackLearning::KolenPollack(_));
        let fits = match (graded, lif) {
            (true, _) => l.algorithm == Algorithm::FA,
            (_, true) => matches!(l.algorithm, Algorithm::BA | Algorithm::DF) && (hidden == 1 || kolen_pollack),
            _ => false,
        };
        if !fits {
            return Err(invalid(
                "learning.feedback",
                format!("{:?}", l.feedback),
                "Fixed for these cells and this algorithm: feedback learns on FA's matrices B of Graded cells \
                 (algorithm: FA) and on the broadcast matrices of LIF networks (algorithm: BA or DF; SPEC §6.6): \
                 KolenPollack with any number of hidden layers, WeightMirror and SignSymmetry with one",
            ));
        }
        if hidden == 0 {
            return Err(invalid(
                "learning.feedback",
                format!("{:?}", l.feedback),
                "Fixed for a network without hidden layers: it has no feedback matrix to learn",
            ));
        }
        if lif && let FeedbackLearning::WeightMirror(wm) = l.feedback {
            let defaults = super::file::WeightMirrorSpec::default();
            let refused = [
                (
                    "sigma",
                    wm.sigma != 1.0,
                    wm.sigma.to_string(),
                    "1 for LIF cells: the noise is the drive N(init.v_mean, init.v_std²)",
                ),
                (
                    "batch",
                    wm.batch != defaults.batch,
                    wm.batch.to_string(),
                    "128 for LIF cells: the phase uses the minibatch's copies",
                ),
                (
                    "form",
                    wm.form != MirrorForm::Clean,
                    format!("{:?}", wm.form),
                    "Clean for LIF cells (SPEC §6.6)",
                ),
            ];
            if let Some((field, _, value, expected)) = refused.into_iter().find(|r| r.1) {
                return Err(invalid(
                    &format!("learning.feedback.WeightMirror.{field}"),
                    value,
                    expected,
                ));
            }
        }
    }
    match l.feedback {
        FeedbackLearning::Fixed => {}
        FeedbackLearning::KolenPollack(kp) => {
            decay("learning.feedback.KolenPollack.decay", kp.decay)?;
            if let Some(eta) = kp.eta {
                rate(
                    "learning.feedback.KolenPollack.eta",
                    eta,
                    "a positive, finite learning rate of B",
                )?;
            }
            if l.momentum != 0.0 && graded {
                return Err(invalid(
                    "learning.momentum",
                    l.momentum,
                    "0 with KolenPollack on Graded cells: B takes the increment of W itself (SPEC §6.1)",
                ));
            }
        }
        FeedbackLearning::WeightMirror(wm) => {
            rate(
                "learning.feedback.WeightMirror.eta",
                wm.eta,
                "a positive, finite η_B (0.1)",
            )?;
            rate(
                "learning.feedback.WeightMirror.sigma",
                wm.sigma,
                "a positive, finite noise scale σ (1)",
            )?;
            if let Some(d) = wm.decay {
                decay("learning.feedback.WeightMirror.decay", d)?;
            }
            if wm.batch == 0 || wm.batch > 100_000 {
                return Err(invalid(
                    "learning.feedback.WeightMirror.batch",
                    wm.batch,
                    "1 to 100000 noise samples per mirror batch (128)",
                ));
            }
            if wm.schedule.before == 0 && wm.schedule.after == 0 {
                return Err(invalid(
                    "learning.feedback.WeightMirror.schedule",
                    "(before: 0, after: 0)",
                    "mirror batches before training or after each minibatch: with neither, B never learns",
                ));
            }
        }
        FeedbackLearning::SignSymmetry(ss) => {
            if let Some(scale) = ss.scale {
                rate(
                    "learning.feedback.SignSymmetry.scale",
                    scale,
                    "a positive, finite magnitude",
                )?;
            }
        }
    }
    if !(l.bias_rate.is_finite() && l.bias_rate >= 0.0) {
        return Err(invalid("learning.bias_rate", l.bias_rate, "a finite fraction >= 0 (1)"));
    }
    if l.bias_rate != 1.0 && !graded {
        return Err(invalid(
            "learning.bias_rate",
            l.bias_rate,
            "1 for these cells: a separate rate of the biases is an option of Graded cells",
        ));
    }
    if let CellKind::Graded(g) = f.network.cells {
        if g.loss == Loss::CrossEntropy && g.output != snn_neuron::Activation::Sigmoid {
            return Err(invalid(
                "network.cells.Graded.loss",
                "CrossEntropy",
                format!(
                    "SquaredError with {:?} outputs: the cross-entropy is that of sigmoid outputs",
                    g.output
                ),
            ));
        }
        if g.loss == Loss::CrossEntropy && l.algorithm == Algorithm::NP {
            return Err(invalid(
                "network.cells.Graded.loss",
                "CrossEntropy",
                "SquaredError with algorithm NP: node perturbation measures the squared error",
            ));
        }
        if f.init.biases == BiasInit::Glorot && !g.biases {
            return Err(invalid(
                "init.biases",
                "Glorot",
                "Mean with network.cells.Graded.biases: false (units without biases)",
            ));
        }
    }
    let probe = f.protocol.alignment_probe;
    if probe > 0 && !graded {
        return Err(invalid(
            "protocol.alignment_probe",
            probe,
            "0 for these cells: the probe of fixed training images is an option of Graded cells",
        ));
    }
    if probe > 100_000 {
        return Err(invalid(
            "protocol.alignment_probe",
            probe,
            "at most 100000 training images",
        ));
    }
    Ok(())
}

/// Refuses the LIF network's time fields away from their defaults in the networks that have no use for them, where a
/// setting would change nothing and a run named after it would repeat the default's: `protocol.dt`, `present_ms`,
/// `settle_ms` and `network.lif` in Rate, Graded and Bernoulli networks (no membrane, no presentation in Δt), and
/// `protocol.reset_between_examples` in Rate and Graded ones (no state to carry; Bernoulli units carry theirs).
fn check_no_lif_time_fields(f: &ModelFile) -> Result<(), ModelError> {
    let (cells, resets, steps) = match f.network.cells {
        CellKind::Lif => return Ok(()),
        CellKind::Rate { .. } => (
            "Rate",
            true,
            "a stepped network's updates per minibatch are network.cells.Rate.steps",
        ),
        CellKind::Graded(_) => (
            "Graded",
            true,
            "each example or minibatch is one forward pass and one update",
        ),
        CellKind::Bernoulli(_) => (
            "Bernoulli",
            false,
            "their steps per image are network.cells.Bernoulli.train_steps and test_steps",
        ),
    };
    let (p, d) = (&f.protocol, ProtocolSpec::default());
    let (lif, l) = (&f.network.lif, LifSpec::default());
    let shown = |x: f32| x.to_string();
    let fields = [
        ("protocol.dt", p.dt != d.dt, shown(p.dt), shown(d.dt)),
        (
            "protocol.present_ms",
            p.present_ms != d.present_ms,
            shown(p.present_ms),
            shown(d.present_ms),
        ),
        (
            "protocol.settle_ms",
            p.settle_ms != d.settle_ms,
            shown(p.settle_ms),
            shown(d.settle_ms),
        ),
        (
            "protocol.reset_between_examples",
            resets && p.reset_between_examples != d.reset_between_examples,
            p.reset_between_examples.to_string(),
            d.reset_between_examples.to_string(),
        ),
        ("network.lif.tau", lif.tau != l.tau, shown(lif.tau), shown(l.tau)),
        ("network.lif.h_th", lif.h_th != l.h_th, shown(lif.h_th), shown(l.h_th)),
        (
            "network.lif.t_ref",
            lif.t_ref != l.t_ref,
            shown(lif.t_ref),
            shown(l.t_ref),
        ),
    ];
    match fields.into_iter().find(|(_, differs, ..)| *differs) {
        Some((field, _, value, default)) => Err(invalid(
            field,
            value,
            format!(
                "{default} (the default) for {cells} cells, which do not use it: it would change nothing ({steps})"
            ),
        )),
        None => Ok(()),
    }
}

fn whole_steps(ms: f32, dt: f32, field: &str) -> Result<usize, ModelError> {
    let ratio = f64::from(ms) / f64::from(dt);
    let n = ratio.round();
    if !ratio.is_finite() || ms < 0.0 || (ratio - n).abs() > 1e-4 * ratio.max(1.0) {
        return Err(invalid(
            field,
            ms,
            format!("a non-negative whole number of steps of dt = {dt} ms"),
        ));
    }
    Ok(n as usize)
}

impl Model {
    /// Steps of one presentation: `steps` for LIF cells; for rate cells 1, or k of `Rate(steps: k)` when learning;
    /// for Bernoulli cells N when learning, M when testing.
    pub fn steps_per_presentation(&self, learn: bool) -> usize {
        match self.file.network.cells {
            CellKind::Lif => self.steps,
            CellKind::Bernoulli(b) if learn => b.train_steps,
            CellKind::Bernoulli(b) => b.test_steps,
            CellKind::Rate { steps, .. } if learn => steps,
            CellKind::Rate { .. } | CellKind::Graded(_) => 1,
        }
    }

    /// The phases of `learning.schedule` (empty: every learning layer learns throughout).
    pub fn schedule(&self) -> &[super::file::PhaseSpec] {
        &self.file.learning.schedule
    }

    /// The fractions of synapses `init.sparsity` removes.
    pub fn sparsity(&self) -> &super::file::SparsitySpec {
        &self.file.init.sparsity
    }

    /// The weight decay of `learning.weight_decay` (γ of a Bernoulli network, λ elsewhere), in full precision.
    pub fn weight_decay(&self) -> f64 {
        self.file.learning.weight_decay
    }

    /// The Bernoulli network's constants, if its cells are Bernoulli units (SPEC §5.4).
    pub fn bernoulli(&self) -> Option<&BernoulliSpec> {
        match &self.file.network.cells {
            CellKind::Bernoulli(b) => Some(b),
            _ => None,
        }
    }

    /// Whether the engine's cell state carries from one presentation to the next, and so belongs in checkpoints:
    /// Bernoulli networks run one continuous stream of images (SPEC §5.4).
    pub fn carries_cell_state(&self) -> bool {
        self.bernoulli().is_some()
    }

    /// Output cells per class (consecutive groups; 1 but in Bernoulli networks).
    pub fn cells_per_class(&self) -> usize {
        self.bernoulli().map_or(1, |b| b.cells_per_class)
    }

    /// Number of classes the output names.
    pub fn classes(&self) -> usize {
        self.layers().last().expect("an output layer") / self.cells_per_class()
    }

    /// How the output activity names a class.
    pub fn readout(&self) -> Readout {
        Readout {
            cells_per_class: self.cells_per_class(),
        }
    }

    /// Whether the cells are nonspiking (`Rate` or `Graded`): one step per example, no rasters.
    pub fn is_rate(&self) -> bool {
        matches!(self.file.network.cells, CellKind::Rate { .. } | CellKind::Graded(_))
    }

    /// The graded units and their learning choices, if the cells are graded (SPEC §5).
    pub fn graded(&self) -> Option<&GradedSpec> {
        match &self.file.network.cells {
            CellKind::Graded(g) => Some(g),
            _ => None,
        }
    }

    /// Cells per layer, input first.
    pub fn layers(&self) -> &[usize] {
        &self.file.network.layers
    }

    /// The populations whose activity is recorded, in raster order (every one with spikes, and the input, when
    /// `record.populations` is empty). Feedback units, which do not spike, are recorded only through traces.
    pub fn recorded_populations(&self) -> Vec<String> {
        let chosen = &self.file.record.populations;
        self.roster
            .iter()
            .filter(|(_, p)| p.spiking || p.role == Role::Input)
            .map(|(_, p)| p.name.clone())
            .filter(|n| chosen.is_empty() || chosen.contains(n))
            .collect()
    }
}
