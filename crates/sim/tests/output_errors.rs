//! Output files that cannot be written or read back (issue 17): a full disk and a damaged checkpoint are named as
//! such, with the file. The end-to-end cases (a run on a full tmpfs, `--resume` of a damaged checkpoint) are in
//! crates/snnsim/tests/hostile_output.rs.

use ndarray::{Array1, Array2};
use snn_plasticity::Projection;
use snn_sim::checkpoint::{Checkpoint, FORMAT, Progress};
use snn_sim::metrics::{CurvePoint, CurveWriter};
use snn_sim::network::Network;
use snn_sim::seeds::Streams;
use std::path::Path;

fn checkpoint() -> Checkpoint {
    let weights = Array2::from_shape_fn((5, 6), |(i, j)| (i as f32 - j as f32) * 0.1);
    Checkpoint {
        format: FORMAT,
        model: "(name: \"tiny\", network: (layers: [6, 5]))".into(),
        network: Network {
            forward: vec![Projection::new(weights, Array1::from_elem(5, 0.8))],
            feedback: Vec::new(),
            layerwise: Vec::new(),
        },
        streams: Streams::from_seed(3),
        cells: None,
        progress: Progress::start(10, 20),
    }
}

/// `/dev/full` fails every write with ENOSPC, as a full disk does: the learning curve's writer says so.
#[test]
fn a_csv_log_on_a_full_disk_says_the_disk_is_full() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        eprintln!("skipped: no /dev/full here");
        return;
    }
    let mut log = CurveWriter::append(full).unwrap();
    let point = CurvePoint {
        examples: 100,
        epoch: 0,
        test_accuracy: 0.5,
        test_examples: 100,
        train_accuracy: 0.4,
        elapsed_s: 1.0,
        test_nse: f64::NAN,
    };
    let e = log.push(&point).unwrap_err();
    assert!(e.is_disk_full(), "{e}");
    assert_eq!(
        e.to_string(),
        "/dev/full: the disk is full (No space left on device) while writing a record"
    );
}

/// A damaged checkpoint file is refused as corrupt or truncated, naming the file; none is taken for another model or
/// another format.
#[test]
fn damaged_checkpoint_files_are_named_corrupt_or_truncated() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("checkpoint.bin");
    let ck = checkpoint();
    ck.write_atomic(&path).unwrap();
    assert_eq!(Checkpoint::read(&path).unwrap(), ck);
    let good = std::fs::read(&path).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    for b in &mut flipped[middle..middle + 8] {
        *b ^= 0xff;
    }
    let mut in_model_text = good.clone();
    let at = in_model_text
        .windows(4)
        .position(|w| w == b"tiny")
        .expect("model text in the payload");
    in_model_text[at] = b'T';
    let mut format_then_garbage = good[..12].to_vec();
    format_then_garbage.extend((0..good.len() - 12).map(|i| (i * 131 % 251) as u8));
    let garbage: Vec<u8> = (0..good.len()).map(|i| (i * 7919 % 253) as u8 ^ 0x5c).collect();
    let cases: [(&str, Vec<u8>, &str); 7] = [
        ("garbage", garbage, "corrupt"),
        ("marker and format, then garbage", format_then_garbage, "corrupt"),
        ("bytes flipped in the middle", flipped, "corrupt"),
        ("a byte of the model text changed", in_model_text, "corrupt"),
        ("half the file", good[..good.len() / 2].to_vec(), "truncated"),
        ("three bytes", good[..3].to_vec(), "truncated"),
        ("empty", Vec::new(), "truncated"),
    ];
    for (what, bytes, expected) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let e = Checkpoint::read(&path).unwrap_err().to_string();
        let head = format!(
            "{}: not a readable snnsim checkpoint: it is {expected} (",
            path.display()
        );
        assert!(e.starts_with(&head), "{what}: {e}");
    }
}

/// A raster file HDF5 can no longer open (here truncated, as a full disk can leave it) is kept beside a new one when
/// the run is resumed: nothing written is lost and the run continues.
#[test]
fn a_damaged_raster_file_is_set_aside_when_a_run_resumes() {
    use snn_sim::ModelFile;
    use snn_sim::recorder::RasterFile;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rasters.h5");
    let text = "(name: \"t\", network: (layers: [4, 3, 2]))";
    let model = ModelFile::from_ron(text, Path::new("t.ron")).unwrap().check().unwrap();
    RasterFile::create(&path, &model).unwrap().close().unwrap();
    let healthy = RasterFile::reopen(&path, &model, 0).unwrap();
    healthy.close().unwrap();
    assert!(
        !dir.path().join("rasters.h5.damaged").exists(),
        "a healthy file is kept in place"
    );
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let resumed = RasterFile::reopen(&path, &model, 0).unwrap();
    resumed.close().unwrap();
    let aside = dir.path().join("rasters.h5.damaged");
    assert_eq!(
        std::fs::read(&aside).unwrap(),
        &bytes[..bytes.len() / 3],
        "the damaged file is kept as it was"
    );
    assert!(hdf5::File::open(&path).is_ok(), "a new raster file takes its place");
    std::fs::write(&path, b"not hdf5").unwrap();
    RasterFile::reopen(&path, &model, 0).unwrap().close().unwrap();
    assert!(
        dir.path().join("rasters.h5.damaged.2").exists(),
        "an earlier damaged file is not overwritten"
    );
}
