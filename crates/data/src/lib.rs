#![doc = include_str!("../README.md")]

pub mod catalog;
pub mod error;
pub mod fetch;
pub mod idx;
pub mod mnist;
pub mod preprocess;
pub mod regression;
pub mod teacher;

pub use catalog::DatasetKind;
pub use error::DataError;
pub use mnist::{ImageSet, LabelledImages, load};
pub use preprocess::Standardiser;
pub use regression::{LinearTeacherParams, QuadraticParams, RegressionSet, RegressionTask, TanhTeacherParams};
pub use teacher::{TeacherParams, TeacherTask};
