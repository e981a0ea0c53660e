//! Helpers shared by the integration tests of snn-sim.

use std::path::PathBuf;

/// The shared MNIST copy (`SNNSIM_DATA_DIR`, else `../shared/data`), or `None` where there is none; CI must have it.
pub fn data_root() -> Option<PathBuf> {
    let root = std::env::var_os("SNNSIM_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if root.join("mnist/t10k-images-idx3-ubyte.gz").exists() {
        Some(root)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide MNIST through SNNSIM_DATA_DIR"
        );
        None
    }
}
