//! Output files that cannot be written (issue 17): a full disk is named as such, with the file. The end-to-end cases
//! (a run on a full tmpfs) are in crates/snnsim/tests/hostile_output.rs.

use snn_sim::metrics::{CurvePoint, CurveWriter};
use std::path::Path;

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
    };
    let e = log.push(&point).unwrap_err();
    assert!(e.is_disk_full(), "{e}");
    assert_eq!(
        e.to_string(),
        "/dev/full: the disk is full (No space left on device) while writing a record"
    );
}
