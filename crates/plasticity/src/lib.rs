#![doc = include_str!("../README.md")]

pub mod chain;
pub mod feedback;
pub mod feedback_learning;
pub mod gram;
pub mod init;
pub mod low_rank;
pub mod matmul;
pub mod online;
pub mod projection;
pub mod readout;
pub mod rows;
pub mod rule;
pub mod spike_input;
pub mod spiking_mirror;
pub mod update;

pub use chain::chain_delta_into;
pub use feedback::{
    Carrier, FeedbackRule, MirrorForm, MirrorRule, Pathway, Reach, broadcast_matrices, feedback_alignment_matrices,
};
pub use gram::{GramCarry, GramDriveBlock, GramLearnBlock};
pub use init::{InitError, InitParams, WeightMoments};
pub use low_rank::LowRankIota;
pub use projection::{PostBlock, PreBlock, Projection};
pub use rule::{
    BatchReduction, Derivative, LearningRate, broadcast_teaching_block, broadcast_teaching_rows, teaching_signal_block,
    teaching_signal_into, teaching_signal_with_sech2_into,
};
pub use spike_input::{ActiveInputs, SpikeInputCarry, TransposedBlock};
pub use update::Update;
