//! The model file: everything that defines a run, as written by the user in RON (`models/*.ron`).
//!
//! The life of a model: [`ModelFile::from_path`] parses the file (unknown fields are rejected, errors carry line and
//! column), [`ModelFile::set`] applies `--set path=value` overrides, and [`ModelFile::check`] validates every field and
//! derives what the simulator needs, giving a [`Model`]. Only a checked `Model` can be simulated (the linfa pattern:
//! unchecked parameters become validated ones through one step).
//!
//! Defaults are SPEC's (`../shared/SPEC.md`): a section or field left out of a file takes the value documented on it.

mod check;
mod error;
mod file;
mod overrides;
mod plan;
mod test_time;

pub use check::Model;
pub use error::ModelError;
pub use file::{
    Algorithm, BernoulliReadout, BernoulliSpec, BiasInit, CellKind, DataSpec, Dataset, DecayScaling, EngineSpec,
    ErrorInput, ErrorPoolSpec, ErrorPools, FeedbackLearning, FeedbackSignal, FirstLayer, GradedSpec, InitSpec,
    InputScaling, KolenPollackSpec, LearningSpec, LifSpec, Loss, MirrorScheduleSpec, ModelFile, NetworkSpec,
    NodePerturbationSpec, PhaseSpec, ProtocolSpec, RecordSpec, SignSymmetrySpec, SparsitySpec, SpikeInput, ThirdFactor,
    Ties, TopFeedback, TraceSpec, WeightInit, WeightMirrorSpec,
};
pub use plan::{FeedbackPlan, LayerPlan, Plan};
pub use snn_neuron::Activation;
pub use test_time::TEST_TIME_FIELDS;
