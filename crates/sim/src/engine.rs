//! The simulator that suits a model's cells: LIF networks step every Δt ([`Simulator`]), nonspiking networks take one
//! step per example ([`RateSimulator`]). The executor ([`crate::experiment`]) drives either through this one type.

use crate::alignment::AlignmentMeter;
use crate::model::Model;
use crate::network::Network;
use crate::rate_simulator::RateSimulator;
use crate::simulator::{Answers, Probe, Simulator};
use ndarray::ArrayView2;

/// A simulator for minibatches of a fixed size.
pub enum Engine {
    /// LIF cells (SPEC §1–2).
    Spiking(Box<Simulator>),
    /// Nonspiking rate cells (SPEC §2.5).
    Rate(Box<RateSimulator>),
}

impl Engine {
    /// The simulator of `model` for minibatches of `examples`.
    pub fn new(model: &Model, examples: usize) -> Self {
        if model.is_rate() {
            Engine::Rate(Box::new(RateSimulator::new(model, examples)))
        } else {
            Engine::Spiking(Box::new(Simulator::new(model, examples)))
        }
    }

    /// Presents one minibatch (see [`Simulator::present_measured`] and [`RateSimulator::present`]). Rate networks
    /// have no time course, so `probe` sees nothing of them.
    pub fn present(
        &mut self,
        net: &mut Network,
        inputs: ArrayView2<'_, f32>,
        labels: &[u8],
        learn: bool,
        probe: &mut dyn Probe,
        meter: Option<&mut AlignmentMeter>,
    ) -> Answers {
        match self {
            Engine::Spiking(sim) => sim.present_measured(net, inputs, labels, learn, probe, meter),
            Engine::Rate(sim) => sim.present(net, inputs, labels, learn, meter),
        }
    }
}
