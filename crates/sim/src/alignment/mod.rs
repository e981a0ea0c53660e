//! The alignment diagnostic (SPEC §4; Lillicrap et al. 2016): how far a layer's teaching signal points from the one
//! backprop would send, measured while the network trains.
//!
//! - [`meter`]: the per-example angle and its running means ([`AlignmentMeter`]), and the points of `alignment.csv`.
//! - `reference`: backprop's δ and ι formed beside another algorithm's, from the same drives and error.

pub mod meter;
pub mod reference;

pub use meter::{AlignmentMeter, AlignmentPoint, AngleStats, angle_deg, weight_angles};
pub(crate) use reference::Reference;
