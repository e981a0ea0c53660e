#![doc = include_str!("../README.md")]

pub mod alignment;
pub mod answers;
pub mod bench;
pub mod checkpoint;
pub mod collect;
pub mod confusion;
pub mod dataset;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod export;
pub mod folder_lock;
pub mod metrics;
pub mod model;
pub mod network;
pub mod onsets;
pub mod probe;
pub mod recorder;
pub mod retest;
pub mod roster;
pub mod run;
pub mod seeds;
pub mod sparsity;
pub mod threads;
pub mod trials;

pub use error::SimError;
pub use model::{Model, ModelFile};
