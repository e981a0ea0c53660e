//! Loading an MNIST-format dataset: four gzipped IDX files, validated against each other.

use crate::catalog::{DataFile, DatasetKind};
use crate::error::DataError;
use crate::fetch::verify;
use crate::idx::read_idx_gz;
use ndarray::Array2;
use std::path::Path;

/// Images and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledImages {
    /// Pixels, `[examples, rows × cols]`, 0–255.
    pub images: Array2<u8>,
    /// Class of each example, `0..classes`.
    pub labels: Vec<u8>,
}

impl LabelledImages {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True if there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The first `n` examples (all of them if `n` is larger).
    pub fn truncated(mut self, n: usize) -> Self {
        let n = n.min(self.len());
        self.images = self.images.slice_move(ndarray::s![..n, ..]);
        self.labels.truncate(n);
        self
    }
}

/// A training set and a test set.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSet {
    /// Training examples.
    pub train: LabelledImages,
    /// Test examples.
    pub test: LabelledImages,
    /// Pixels per image (784 for MNIST).
    pub features: usize,
    /// Number of classes (10).
    pub classes: usize,
}

/// Loads the dataset `kind` from `dir`; with `verify_checksums`, each file is first checked against its published
/// SHA-256 (about 0.1 s for MNIST).
pub fn load(kind: DatasetKind, dir: &Path, verify_checksums: bool) -> Result<ImageSet, DataError> {
    let [tri, trl, tei, tel] = kind.files();
    let train = load_pair(dir, &tri, &trl, verify_checksums)?;
    let test = load_pair(dir, &tei, &tel, verify_checksums)?;
    if train.images.ncols() != test.images.ncols() {
        return Err(DataError::format(
            dir.join(tei.name),
            format!(
                "images have {} pixels, the training images {}",
                test.images.ncols(),
                train.images.ncols()
            ),
        ));
    }
    Ok(ImageSet {
        features: train.images.ncols(),
        classes: 10,
        train,
        test,
    })
}

fn load_pair(
    dir: &Path,
    images: &DataFile,
    labels: &DataFile,
    verify_checksums: bool,
) -> Result<LabelledImages, DataError> {
    let (ip, lp) = (dir.join(images.name), dir.join(labels.name));
    for (p, f) in [(&ip, images), (&lp, labels)] {
        if !p.exists() {
            return Err(DataError::Missing { path: p.clone() });
        }
        if verify_checksums {
            verify(p, f)?;
        }
    }
    let im = read_idx_gz(&ip, 3)?;
    let lb = read_idx_gz(&lp, 1)?;
    if im.dims[1] == 0 || im.dims[2] == 0 {
        return Err(DataError::format(
            &ip,
            format!("image size {}×{} is empty", im.dims[1], im.dims[2]),
        ));
    }
    if im.dims[0] != lb.dims[0] {
        return Err(DataError::format(
            &lp,
            format!("{} labels for {} images in {}", lb.dims[0], im.dims[0], ip.display()),
        ));
    }
    if let Some((i, &l)) = lb.data.iter().enumerate().find(|&(_, &l)| l > 9) {
        return Err(DataError::format(
            &lp,
            format!("label {l} of example {i} is not a class 0–9"),
        ));
    }
    let pixels = im.dims[1] * im.dims[2];
    let images =
        Array2::from_shape_vec((im.dims[0], pixels), im.data).map_err(|e| DataError::format(&ip, e.to_string()))?;
    Ok(LabelledImages {
        images,
        labels: lb.data,
    })
}
