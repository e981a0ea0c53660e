//! The snnsim simulator: model files, networks of populations joined by projections, the time loop, the training
//! protocol, and what a run writes (rasters in HDF5, learning curve, summary).
//!
//! - [`model`]: the model file (RON), `--set` overrides, and the `check()` that turns it into a validated [`Model`].
//! - [`network`]: projections W and broadcast feedback B_BA (SPEC §2.3).
//! - [`simulator`]: one presentation of a minibatch, every population stepped in the same Δt (SPEC §2.1–2.4).
//! - [`rate_simulator`]: the nonspiking networks of Table 2 (one step per example; BP, FA, BA, DF).
//! - [`alignment`]: the angle between a layer's teaching signal and backprop's (SPEC §4).
//! - [`experiment`]: the protocol (epochs, learning curve, final test) with [`experiment::Observer`]s beside it.
//! - [`recorder`], [`metrics`], [`run`]: the run folder and its files.
//! - [`threads`]: the thread pool a run executes in, and how its helpers wait between parallel regions.

pub mod alignment;
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
pub mod rate_simulator;
pub mod recorder;
pub mod run;
pub mod seeds;
pub mod simulator;
pub mod threads;
pub mod trials;

pub use error::SimError;
pub use model::{Model, ModelFile};
