//! Helpers shared by the end-to-end tests of the `snnsim` command (one test file per command in this folder): real
//! runs on the shared MNIST copy, files read back (also with h5py), and bad input answered with clear errors and a
//! non-zero exit.

// Each test file compiles this module on its own and uses only some of the helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The shared data root (`SNNSIM_DATA_DIR`, else `../shared/data` beside the repository), if it holds MNIST.
pub fn data_root() -> Option<PathBuf> {
    let root = std::env::var_os("SNNSIM_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data"));
    if root.join("mnist/t10k-images-idx3-ubyte.gz").exists() {
        Some(root.canonicalize().unwrap())
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide MNIST through SNNSIM_DATA_DIR"
        );
        None
    }
}

/// Arguments of `snnsim run models/small_lif_ba.ron` with `extra` and the [`SMALL`] overrides.
pub fn small_run<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "models/small_lif_ba.ron"];
    args.extend_from_slice(extra);
    args.extend(SMALL);
    args
}

pub fn snnsim(args: &[&str], data: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_snnsim"));
    c.args(args).current_dir(repo());
    match data {
        Some(d) => c.env("SNNSIM_DATA_DIR", d),
        None => c.env_remove("SNNSIM_DATA_DIR"),
    };
    c.output().unwrap()
}

pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

pub const SMALL: &[&str] = &[
    "--set",
    "data.train_limit=100",
    "--set",
    "data.test_limit=100",
    "--set",
    "protocol.curve_every=50",
    "--set",
    "data.download=false",
];

pub fn assert_figure(png: &Path, labels: &[&str]) {
    let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert!(
        bytes.len() > 5_000 && bytes.starts_with(b"\x89PNG"),
        "{}: not a PNG with content",
        png.display()
    );
    let svg = std::fs::read_to_string(png.with_extension("svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.len() > 5_000, "SVG with content");
    for l in labels {
        assert!(svg.contains(l), "{}: label {l:?} missing", png.display());
    }
}

/// The records of a run's `curve.csv`, header included, each without its `elapsed_s` field (the elapsed time, which
/// differs between runs that are otherwise identical).
pub fn curve_without_elapsed(run: &Path) -> Vec<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(run.join("curve.csv"))
        .unwrap();
    let records: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let elapsed = records[0]
        .iter()
        .position(|c| c == "elapsed_s")
        .expect("an elapsed_s column");
    records
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .filter(|&(i, _)| i != elapsed)
                .map(|(_, f)| f.to_string())
                .collect()
        })
        .collect()
}
