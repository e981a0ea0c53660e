//! `snnsim export`: a run writes `weights.h5` at the end of training, `export weights` writes the same network from
//! the checkpoint, `export nir` writes the NIR graph of a LIF run and refuses what NIR cannot express; the raster file
//! holds one spike onset per pulse.

mod common;

use common::{data_root, small_run, snnsim, text};
use ndarray::Array2;

fn read_2d(path: &std::path::Path, name: &str) -> Array2<f32> {
    hdf5::File::open(path)
        .unwrap()
        .dataset(name)
        .unwrap()
        .read_2d()
        .unwrap()
}

#[test]
fn a_run_writes_its_weights_and_exports_them_again_and_as_nir() {
    let Some(data) = data_root() else { return };
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let o = snnsim(&small_run(&["--out", run.to_str().unwrap(), "-q"]), Some(&data));
    assert!(o.status.success(), "{:?}", text(&o));
    let weights = run.join("weights.h5");
    assert!(weights.exists(), "the run writes weights.h5 with its last checkpoint");

    let again = dir.path().join("again.h5");
    let o = snnsim(
        &[
            "export",
            "weights",
            run.to_str().unwrap(),
            "-o",
            again.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    for name in ["forward/hidden1/W", "forward/output/W", "feedback/hidden1/B"] {
        assert_eq!(read_2d(&weights, name), read_2d(&again, name), "{name}");
    }
    assert_eq!(read_2d(&weights, "forward/hidden1/W").dim(), (100, 784));
    // Never onto the run's own record, however the folder is spelt; its weights.h5 may be written again.
    let summary = std::fs::read(run.join("summary.json")).unwrap();
    for (kind, target) in [
        ("weights", run.join("summary.json")),
        ("nir", run.join("..").join("run").join("curve.csv")),
        ("nir", run.join("weights.h5")),
    ] {
        let o = snnsim(
            &["export", kind, run.to_str().unwrap(), "-o", target.to_str().unwrap()],
            None,
        );
        assert_eq!(o.status.code(), Some(1), "{kind} {target:?}");
        assert!(
            text(&o).1.contains("refusing to overwrite the run's own"),
            "{:?}",
            text(&o)
        );
    }
    assert_eq!(std::fs::read(run.join("summary.json")).unwrap(), summary);
    let o = snnsim(
        &[
            "export",
            "weights",
            run.to_str().unwrap(),
            "-o",
            weights.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));

    let nir = dir.path().join("net.nir");
    let o = snnsim(
        &["export", "nir", run.to_str().unwrap(), "-o", nir.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(
        read_2d(&nir, "node/nodes/affine_output/weight"),
        read_2d(&weights, "forward/output/W")
    );

    // One onset per 4-step pulse: with the cells reset between examples no pulse is carried into a presentation,
    // so each run of k true steps holds ceil(k / 4) spikes.
    let rasters = hdf5::File::open(run.join("rasters.h5")).unwrap();
    let example = rasters.group("test/00000").unwrap();
    let raster: Array2<bool> = example.dataset("hidden1").unwrap().read_2d().unwrap();
    let mut pulses: usize = 0;
    for column in raster.columns() {
        let mut length: usize = 0;
        for &a in column.iter().chain([false].iter()) {
            if a {
                length += 1;
            } else {
                pulses += length.div_ceil(4);
                length = 0;
            }
        }
    }
    let table: Array2<u32> = example.dataset("onsets/hidden1").unwrap().read_2d().unwrap();
    let (steps, cells) = (table.column(0).to_vec(), table.column(1).to_vec());
    assert!(pulses > 100, "the hidden layer spikes");
    assert_eq!((steps.len(), cells.len()), (pulses, pulses));
    assert!(
        steps
            .iter()
            .zip(&cells)
            .all(|(&s, &c)| raster[[s as usize, c as usize]])
    );
    assert!(steps.windows(2).all(|w| w[0] <= w[1]), "ordered by step");
}

#[test]
fn export_names_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let o = snnsim(&["export", "nir", dir.path().to_str().unwrap(), "-o", "x.nir"], None);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("not a run folder") && err.contains("model.ron"), "{err}");

    let Some(data) = data_root() else { return };
    let run = dir.path().join("rate");
    let o = snnsim(
        &[
            "run",
            "models/mnist_rate_bp.ron",
            "--out",
            run.to_str().unwrap(),
            "-q",
            "--set",
            "data.train_limit=100",
            "--set",
            "data.test_limit=50",
            "--set",
            "protocol.epochs=1",
            "--set",
            "data.download=false",
        ],
        Some(&data),
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let nir = dir.path().join("rate.nir");
    let o = snnsim(
        &["export", "nir", run.to_str().unwrap(), "-o", nir.to_str().unwrap()],
        None,
    );
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("nonspiking rate cells") && err.contains("export weights"),
        "{err}"
    );
    assert!(!nir.exists());
    assert!(run.join("weights.h5").exists(), "a rate run has its weights.h5 too");
}
