//! The snnsim simulator: model files, networks of populations joined by projections, the time loop, the training
//! protocol, and what a run writes (rasters in HDF5, learning curve, summary).
//!
//! - [`model`]: the model file (RON), `--set` overrides, and the `check()` that turns it into a validated [`Model`].
//! - [`model`] also resolves the learning algorithm into a per-layer [`model::Plan`] and names the populations in a
//!   [`roster::Roster`].
//! - [`network`]: forward projections W and each hidden layer's feedback pathway (SPEC §2.2–2.3).
//! - [`engine`]: every simulator behind one trait: LIF networks stepped every Δt ([`engine::lif`], SPEC §2.1–2.4),
//!   nonspiking networks ([`engine::rate`], SPEC §2.5); [`answers`] is what a presentation gives back.
//! - [`probe`]: what an observer sees of a presentation, step by step, by population name.
//! - [`alignment`]: the angle between a layer's teaching signal and backprop's (SPEC §4).
//! - [`experiment`]: the protocol (epochs, learning curve, final test) with [`experiment::Observer`]s beside it.
//! - [`recorder`], [`metrics`], [`run`]: the run folder and its files.
//! - [`threads`]: the thread pool a run executes in, and how its helpers wait between parallel regions.

pub mod alignment;
pub mod answers;
pub mod bench;
pub mod checkpoint;
pub mod collect;
pub mod dataset;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod metrics;
pub mod model;
pub mod network;
pub mod probe;
pub mod recorder;
pub mod roster;
pub mod run;
pub mod seeds;
pub mod threads;
pub mod trials;

pub use error::SimError;
pub use model::{Model, ModelFile};
