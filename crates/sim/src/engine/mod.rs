//! Every simulator behind one trait ([`Engine`]): the executor ([`crate::experiment`]), the benchmark and the tests
//! drive any network through [`Engine::present`], and probes see its populations through the roster.
//!
//! - [`boundary`]: the trait, the [`Presentation`] it is given ([`Phase`], noise stream), and the [`Watch`] (probe,
//!   alignment meter).
//! - [`lif`]: LIF networks stepped every Δt in Table 1's order (SPEC §1–2.4).
//! - [`rate`]: nonspiking networks (SPEC §2.5).
//! - [`bernoulli`]: stochastic binary networks that learn online from one continuous stream (SPEC §5.4).
//! - [`graded`]: nonspiking linear, tanh and sigmoid networks trained by BP, FA, shallow learning or node
//!   perturbation on squared error (Lillicrap et al. 2016, SPEC §5.0–5.5).
//!
//! A new kind of network is a new module here that implements [`Engine`], and one more case in [`engine_for`]: the
//! match on the model's cells that picks it.

pub mod bernoulli;
pub mod boundary;
pub mod graded;
pub mod lif;
pub mod rate;

pub use boundary::{CellState, Engine, Phase, Presentation, Watch};

use crate::model::{CellKind, Model};

/// The engine that suits `model`'s cells, for minibatches of `examples`.
pub fn engine_for(model: &Model, examples: usize) -> Box<dyn Engine> {
    match model.cells() {
        CellKind::Rate { .. } => Box::new(rate::RateEngine::new(model, examples)),
        CellKind::Lif => Box::new(lif::LifEngine::new(model, examples)),
        CellKind::Bernoulli(_) => Box::new(bernoulli::BernoulliEngine::new(model, examples)),
        CellKind::Graded(_) => Box::new(graded::GradedEngine::new(model, examples)),
    }
}
