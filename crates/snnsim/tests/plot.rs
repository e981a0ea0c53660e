//! End-to-end test of `snnsim plot`: figures drawn from run folders.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// `snnsim plot raster` and `plot curve` draw PNG and SVG from real run folders; wrong folders and examples fail
/// clearly.
#[test]
fn plots_are_drawn_from_run_folders() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let runs: Vec<PathBuf> = (1..=2).map(|s| tmp.path().join(format!("run{s}"))).collect();
    for (k, run) in runs.iter().enumerate() {
        let seed = (k + 1).to_string();
        let args = small_run(&["--out", run.to_str().unwrap(), "--seed", &seed, "-q"]);
        assert!(snnsim(&args, Some(&data)).status.success());
    }
    let o = snnsim(&["plot", "raster", runs[0].to_str().unwrap()], None);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("raster-test-00000.png"));
    assert_figure(
        &runs[0].join("plots/raster-test-00000.png"),
        &[
            "time (ms)",
            "Spike raster, test image 0",
            "200 of 784 cells",
            "hidden1",
            "100 cells",
            "output",
            "error_exc",
            "error_inh",
        ],
    );
    let o = snnsim(
        &[
            "plot",
            "raster",
            runs[0].to_str().unwrap(),
            "--example",
            "train/00000000",
            "-o",
            tmp.path().join("r").to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert_figure(&tmp.path().join("r.png"), &["training presentation 0"]);

    let stem = tmp.path().join("figs/curves");
    let o = snnsim(
        &[
            "plot",
            "curve",
            runs[0].to_str().unwrap(),
            runs[1].to_str().unwrap(),
            "-o",
            stem.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert_figure(
        &stem.with_extension("png"),
        &[
            "training examples",
            "test accuracy (%)",
            "small_lif_ba",
            "(2 runs)",
            "2 SEM",
        ],
    );

    // Smoothed, on a log x axis, in a chosen y range: the window is named in the title, the axis labels are the
    // log axis's (the curve is sampled at 50 and 100 examples) and the y labels stay inside the range.
    let stem = tmp.path().join("figs/smoothed");
    let curve = |extra: &[&str]| {
        let mut args = vec!["plot", "curve", runs[0].to_str().unwrap(), runs[1].to_str().unwrap()];
        args.extend(["-o", stem.to_str().unwrap()]);
        args.extend(extra);
        snnsim(&args, None)
    };
    let o = curve(&["--smooth", "100", "--log-x", "--y-range", "5:60"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_figure(
        &stem.with_extension("png"),
        &[
            "moving average over 100 examples",
            "(2 runs)",
            "\n60\n</text>",
            "\n10\n</text>",
        ],
    );
    let svg = std::fs::read_to_string(stem.with_extension("svg")).unwrap();
    assert!(
        !svg.contains("\n0\n</text>"),
        "the y axis starts at 5, the x axis at 50 examples"
    );
    for (bad, says) in [
        (&["--smooth", "0"][..], "the smoothing window is 0 examples"),
        (&["--y-range", "60:5"][..], "LOW below HIGH"),
        (&["--y-range", "90"][..], "expected LOW:HIGH"),
    ] {
        let o = curve(bad);
        assert!(!o.status.success(), "{bad:?}");
        assert!(text(&o).1.contains(says), "{bad:?}: {}", text(&o).1);
    }

    // Alignment of the hidden layer's broadcast signal with backprop's, both runs averaged.
    let stem = tmp.path().join("figs/alignment");
    let o = snnsim(
        &[
            "plot",
            "alignment",
            runs[0].to_str().unwrap(),
            runs[1].to_str().unwrap(),
            "-o",
            stem.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert_figure(
        &stem.with_extension("png"),
        &[
            "Angle to backprop",
            "teaching signal",
            "angle (degrees)",
            ": hidden1 (2 runs)",
        ],
    );
    // The folded angle of the same runs, and the weight angle, which broadcast alignment's B_BA (shaped like the
    // output's Wᵀ for the one hidden layer) has.
    for (angle, title) in [
        ("folded", "Folded angle to backprop"),
        ("weight", "Angle between W^T and B"),
    ] {
        let stem = tmp.path().join(format!("figs/alignment_{angle}"));
        let o = snnsim(
            &[
                "plot",
                "alignment",
                runs[0].to_str().unwrap(),
                "--angle",
                angle,
                "-o",
                stem.to_str().unwrap(),
            ],
            None,
        );
        assert!(o.status.success(), "{:?}", text(&o));
        assert_figure(&stem.with_extension("png"), &[title, ": hidden1 (1 run)"]);
    }
    // A classification run has no normalised squared error to plot.
    let o = snnsim(&["plot", "curve", "--nse", runs[0].to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o)
            .1
            .contains("no normalised squared error: not a regression task"),
        "{}",
        text(&o).1
    );

    let o = snnsim(
        &["plot", "raster", runs[0].to_str().unwrap(), "--example", "test/99999"],
        None,
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("no recorded example `test/99999`") && err.contains("test/00000"),
        "{err}"
    );
    let o = snnsim(&["plot", "curve", tmp.path().join("nope").to_str().unwrap()], None);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("nope: not a run folder (no such folder)"), "{err}");
    let o = snnsim(&["plot", "raster", data.to_str().unwrap()], None);
    assert!(text(&o).1.contains("not a run folder (summary.json"), "{:?}", text(&o));
    let o = snnsim(&["plot", "curve", repo().join("README.md").to_str().unwrap()], None);
    assert!(
        text(&o).1.contains("not a run folder (a file, not a folder)"),
        "{:?}",
        text(&o)
    );
    let run = runs[0].to_str().unwrap();
    let again = runs[0].join("..").join(runs[0].file_name().unwrap());
    for kind in ["curve", "alignment"] {
        let o = snnsim(&["plot", kind, run, again.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            text(&o).1.contains("again: give each run once"),
            "{kind}: {:?}",
            text(&o)
        );
    }
}

/// A learning curve's bad cells are named with their line and column, the file once; a curve with a point without a
/// measurement (NaN) still plots, smoothed (what the smoothing makes of it is `moving_average`'s unit test); a log
/// axis with nothing to draw is refused.
#[test]
fn curve_files_are_checked_and_gaps_drawn_around() {
    let tmp = tempfile::tempdir().unwrap();
    let header = "examples,epoch,test_accuracy,test_examples,train_accuracy,elapsed_s,test_nse";
    let folder = |name: &str, rows: &[&str]| {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        // A real run's summary: only the curve is made up.
        let summary = repo().join("docs/runs/mnist_lif_ba-seed1-30epochs/summary.json");
        std::fs::copy(summary, dir.join("summary.json")).unwrap();
        std::fs::write(dir.join("curve.csv"), format!("{header}\n{}\n", rows.join("\n"))).unwrap();
        dir
    };
    let plot = |dir: &Path, extra: &[&str]| {
        let stem = dir.join("fig");
        let mut args = vec!["plot", "curve", dir.to_str().unwrap(), "--out", stem.to_str().unwrap()];
        args.extend_from_slice(extra);
        snnsim(&args, None)
    };
    let gappy = folder(
        "gappy",
        &[
            "0,0,0.1,100,NaN,0.0,NaN",
            "100,0,0.5,100,0.4,1.0,NaN",
            "200,0,NaN,100,0.5,2.0,NaN",
            "300,0,0.7,100,0.6,3.0,NaN",
        ],
    );
    let o = plot(&gappy, &["--smooth", "150"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(gappy.join("fig.png").is_file());

    let bad = folder("bad", &["0,0,0.1,100,NaN,0.0,NaN", "100,0,2.5,100,0.4,1.0,NaN"]);
    let o = plot(&bad, &[]);
    let err = text(&o).1;
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("curve.csv: line 3: column test_accuracy: `2.5`: expected a fraction between 0 and 1"),
        "{err}"
    );
    assert_eq!(err.matches("curve.csv").count(), 1, "the file is named once: {err}");
    assert!(!bad.join("fig.png").exists());

    let start = folder("start", &["0,0,0.1,100,NaN,0.0,NaN"]);
    let o = plot(&start, &["--log-x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("--log-x leaves no point to draw"), "{:?}", text(&o));
}
