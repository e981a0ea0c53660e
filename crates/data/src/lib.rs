//! Datasets of snnsim: IDX files, checksummed download, preprocessing (SPEC §2.3).

pub mod catalog;
pub mod error;
pub mod fetch;
pub mod idx;
pub mod mnist;
pub mod preprocess;

pub use catalog::DatasetKind;
pub use error::DataError;
pub use mnist::{ImageSet, LabelledImages, load};
pub use preprocess::Standardiser;
