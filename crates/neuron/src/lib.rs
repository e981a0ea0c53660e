#![doc = include_str!("../README.md")]

pub mod bernoulli;
pub mod column_blocks;
pub mod graded;
pub mod layout;
pub mod lif;
pub mod rate;

pub use bernoulli::{BernoulliParams, BernoulliState};
pub use column_blocks::ColumnBlocks;
pub use graded::Activation;
pub use layout::aligned_zeros;
pub use lif::{LifBlock, LifColumns, LifParams, LifState, NeuronError};
pub use rate::{euler_steady_rate, rate_closed_form, tanh_fit, tanh_fit_derivative};
