//! End-to-end: a stochastic binary network (SPEC §5.4) trained from its model file writes spike rasters of every
//! population with spikes (its input included) and traces of PSPs and feedback units, which `snnsim plot psp` draws
//! as Lillicrap et al.'s Fig 4 and `snnsim plot raster` as rasters.

mod common;

use common::*;

#[test]
fn a_bernoulli_run_records_its_streams_and_draws_fig_4() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let args = [
        "run",
        "models/small_lillicrap_spiking.ron",
        "--out",
        run.to_str().unwrap(),
        "-q",
        "--set",
        "data.train_limit=40",
        "--set",
        "data.test_limit=20",
        "--set",
        "protocol.curve_every=20",
        "--set",
        "record.train_examples=[0,1,2,3,36,37,38,39]",
        "--set",
        "data.download=false",
    ];
    let o = snnsim(&args, Some(&data));
    assert!(o.status.success(), "{:?}", text(&o));
    let file = hdf5::File::open(run.join("rasters.h5")).unwrap();
    let names: Vec<String> = file
        .attr("populations")
        .unwrap()
        .read_raw::<hdf5::types::VarLenUnicode>()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, ["input", "hidden1", "hidden2", "output"]);
    let g = file.group("train/00000037").unwrap();
    let input = g.dataset("input").unwrap().read_2d::<bool>().unwrap();
    assert_eq!(input.dim(), (5, 784), "the input spikes on each of the 5 steps");
    assert!(input.iter().any(|&s| s), "some pixels spike");
    assert_eq!(g.dataset("output").unwrap().shape(), [5, 1000]);
    assert!(g.dataset("feedback1").is_err(), "feedback units have no raster");
    let u = g.dataset("traces/hidden2/u").unwrap().read_2d::<f32>().unwrap();
    assert_eq!(u.dim(), (5, 1));
    let delta = g.dataset("traces/feedback2/delta").unwrap().read_2d::<f32>().unwrap();
    assert!(delta.iter().any(|&d| d != 0.0), "the feedback units carry the error");
    let t = file.group("test/00000").unwrap();
    assert_eq!(t.dataset("hidden1").unwrap().shape(), [5, 300]);
    // One stream steps event-driven, its weights stored by presynaptic cell; the weights file holds them as
    // [post, pre] all the same.
    let weights = hdf5::File::open(run.join("weights.h5")).unwrap();
    let w = weights.dataset("forward/hidden1/W").unwrap().read_2d::<f32>().unwrap();
    assert_eq!(w.dim(), (300, 784));
    assert!(w.iter().all(|w| w.is_finite()) && w.iter().any(|&w| w != 0.0));

    let o = snnsim(
        &[
            "plot",
            "psp",
            run.to_str().unwrap(),
            "--population",
            "hidden2",
            "--cell",
            "5",
        ],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert_figure(
        &run.join("plots/psp-hidden2-5-stream.png"),
        &["PSP u", "modulatory signal", "train/00000000", "train/00000039", "step"],
    );
    let o = snnsim(
        &[
            "plot",
            "psp",
            run.to_str().unwrap(),
            "--population",
            "hidden2",
            "--cell",
            "6",
        ],
        None,
    );
    assert!(!o.status.success());
    assert!(
        text(&o).1.contains("cell 6 of hidden2 was not recorded"),
        "{:?}",
        text(&o)
    );
    let o = snnsim(&["plot", "raster", run.to_str().unwrap()], None);
    assert!(o.status.success(), "{:?}", text(&o));
}
