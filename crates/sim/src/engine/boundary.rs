//! The boundary between the executor and a simulator: what one presentation gives an engine and what it gives back.

use crate::alignment::AlignmentMeter;
use crate::answers::Answers;
use crate::network::Network;
use crate::probe::Probe;
use crate::roster::Roster;
use ndarray::{Array2, ArrayView2};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// What a presentation is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Answers only: plasticity off (the learning curve's samples, the final test).
    Test,
    /// Training: every learning layer learns (after the settle time, in LIF networks).
    Train,
}

impl Phase {
    /// Whether synapses learn in this phase.
    pub fn learns(self) -> bool {
        self == Phase::Train
    }
}

/// One minibatch to present: inputs `[examples, features]`, one label per example, the phase, and the noise stream
/// for engines that draw random numbers during a presentation (a stream of the run's [`crate::seeds::Streams`], so
/// that its draws are part of the run's seed and checkpoint).
pub struct Presentation<'a> {
    /// Inputs, one row per example.
    pub inputs: ArrayView2<'a, f32>,
    /// Labels, one per example.
    pub labels: &'a [u8],
    /// Regression targets y*, one row per example (`None`: the target is the one-hot vector of the label). Only
    /// engines that learn from squared error read them ([`crate::engine::graded`]).
    pub targets: Option<ArrayView2<'a, f32>>,
    /// Test or training.
    pub phase: Phase,
    /// The weight layers allowed to learn in this presentation, when a phase of `learning.schedule` restricts them
    /// (`None`: every layer the plan lets learn). Only engines that accept a schedule read it
    /// ([`crate::engine::graded`]).
    pub learning_layers: Option<&'a [usize]>,
    /// Random numbers drawn during the presentation.
    pub noise: &'a mut Xoshiro256PlusPlus,
}

/// Who watches a presentation: a probe step by step, and the alignment meter on learning steps (SPEC §4).
pub struct Watch<'a> {
    /// Sees every population after every step ([`crate::probe::NoProbe`] for none).
    pub probe: &'a mut dyn Probe,
    /// When present, the angle of each learning hidden layer's teaching signal to backprop's is measured into it.
    pub meter: Option<&'a mut AlignmentMeter>,
}

impl<'a> Watch<'a> {
    /// A watch by `probe` alone, without an alignment meter.
    pub fn with(probe: &'a mut dyn Probe) -> Self {
        Self { probe, meter: None }
    }
}

/// A simulator of one kind of network for minibatches of a fixed size. Its state (cells, buffers) belongs to it; the
/// synapses it reads and changes are the [`Network`]'s; its populations are shown by name through its roster.
pub trait Engine: Send {
    /// The populations this engine shows to probes.
    fn roster(&self) -> &Roster;

    /// Examples per minibatch.
    fn examples(&self) -> usize;

    /// Presents one minibatch and returns the answers.
    fn present(&mut self, net: &mut Network, presentation: &mut Presentation<'_>, watch: &mut Watch<'_>) -> Answers;

    /// The training state of the cells, for engines whose cells carry it from one presentation to the next
    /// ([`crate::model::Model::carries_cell_state`]); `None` for engines that start every presentation afresh.
    fn cell_state(&self) -> Option<CellState> {
        None
    }

    /// Continues from a training state taken by [`Self::cell_state`]; an error says why it does not fit.
    fn restore_cell_state(&mut self, _state: &CellState) -> Result<(), String> {
        Err("this engine carries no cell state".into())
    }

    /// Whether every weight that takes part in a step enters a drive on that step, so that a non-finite weight shows
    /// as a non-finite drive (reported with its population, step and image) as soon as it changes anything, and the
    /// executor need not scan the weights after every minibatch (it still scans them before each checkpoint and at
    /// the end of training).
    fn drives_show_weights_in_use(&self) -> bool {
        false
    }

    /// A test pass starts: an engine whose cells carry from example to example (a stochastic binary network, a LIF
    /// network without resets) starts it from a copy of the training state (and training later resumes from its
    /// own).
    fn begin_test(&mut self) {}

    /// Measures, learning off, the angle between each learning hidden layer's feedback signal and backprop's on the
    /// examples of `presentation` into `meter` (`protocol.alignment_probe`, SPEC §6.4); `false` where this engine
    /// has no such measure (the default) or its learner no feedback signal.
    fn probe_alignment(
        &mut self,
        _net: &mut Network,
        _presentation: &mut Presentation<'_>,
        _meter: &mut AlignmentMeter,
    ) -> bool {
        false
    }
}

/// Cell state an engine carries across presentations, as named `[streams, cells]` arrays (for checkpoints).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellState {
    /// `(name, values)` in the engine's order.
    pub arrays: Vec<(String, Array2<f32>)>,
}
