//! Datasets of snnsim: IDX files, checksummed download, preprocessing (SPEC §2.3), and the synthetic teacher task
//! of the deep-narrow experiments (SPEC §3).

pub mod catalog;
pub mod error;
pub mod fetch;
pub mod idx;
pub mod mnist;
pub mod preprocess;
pub mod teacher;

pub use catalog::DatasetKind;
pub use error::DataError;
pub use mnist::{ImageSet, LabelledImages, load};
pub use preprocess::Standardiser;
pub use teacher::{TeacherParams, TeacherTask};
