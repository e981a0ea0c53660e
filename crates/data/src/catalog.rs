//! The datasets snnsim knows: their files, checksums and where to download them.

use serde::{Deserialize, Serialize};

/// One of the four files of an MNIST-format dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataFile {
    /// File name, e.g. `train-images-idx3-ubyte.gz`.
    pub name: &'static str,
    /// Published SHA-256 of the gzipped file, lower-case hex.
    pub sha256: &'static str,
}

/// A dataset in the MNIST format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DatasetKind {
    /// MNIST handwritten digits (LeCun, Cortes & Burges).
    Mnist,
    /// Fashion-MNIST (Xiao, Rasul & Vollgraf, Zalando Research).
    FashionMnist,
}

impl DatasetKind {
    /// Sub-folder of the data root holding this dataset (`mnist`, `fashion-mnist`).
    pub fn folder(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "mnist",
            DatasetKind::FashionMnist => "fashion-mnist",
        }
    }

    /// Default download address (the files are fetched as `<url><file name>`).
    pub fn default_url(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "https://ossci-datasets.s3.amazonaws.com/mnist/",
            DatasetKind::FashionMnist => "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        }
    }

    /// The four files: train images, train labels, test images, test labels.
    pub fn files(self) -> [DataFile; 4] {
        let f = |name, sha256| DataFile { name, sha256 };
        match self {
            DatasetKind::Mnist => [
                f(
                    TRAIN_IMAGES,
                    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                ),
                f(
                    TRAIN_LABELS,
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                ),
                f(
                    TEST_IMAGES,
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                ),
                f(
                    TEST_LABELS,
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                ),
            ],
            DatasetKind::FashionMnist => [
                f(
                    TRAIN_IMAGES,
                    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                ),
                f(
                    TRAIN_LABELS,
                    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                ),
                f(
                    TEST_IMAGES,
                    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                ),
                f(
                    TEST_LABELS,
                    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                ),
            ],
        }
    }
}

/// Training images file name.
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte.gz";
/// Training labels file name.
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte.gz";
/// Test images file name.
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte.gz";
/// Test labels file name.
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte.gz";
