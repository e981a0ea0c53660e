//! The deep, narrow teacher task (SPEC §3) and runs of several trials (issue 5).

use snn_sim::ModelFile;
use snn_sim::experiment::{Experiment, Silent};
use snn_sim::metrics::{Summary, read_curve, read_trial_curves};
use snn_sim::run::{RunRequest, execute};
use snn_sim::seeds::trial_seed;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

fn model_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../models")
        .join(name)
}

/// A quick version of the Figure 3 model: fewer examples and trials.
const QUICK: [&str; 4] = [
    "data.dataset.Teacher.train_examples=2000",
    "data.dataset.Teacher.test_examples=200",
    "protocol.epochs=5",
    "protocol.curve_every=2500",
];

fn quick(extra: &[&str]) -> Vec<String> {
    QUICK.iter().chain(extra).map(|s| s.to_string()).collect()
}

#[test]
fn a_run_of_trials_reports_each_trial_and_their_mean() {
    let tmp = tempfile::tempdir().unwrap();
    let request = RunRequest {
        model_path: model_path("deep_narrow_bp.ron"),
        overrides: quick(&["trials=4", "learning.depth=9"]),
        output_root: tmp.path().to_path_buf(),
        run_dir: None,
    };
    let report = execute(&request, &mut Silent, &AtomicBool::new(false)).unwrap();
    let dir = &report.dir;
    let summary: Summary = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!((summary.status.as_str(), summary.trials), ("finished", 4));
    let rows: Vec<csv::StringRecord> = csv::Reader::from_path(dir.join("trials.csv"))
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 4);
    let seeds: Vec<u64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    assert_eq!(seeds, (0..4).map(|k| trial_seed(1, k)).collect::<Vec<_>>());
    assert_eq!(seeds[0], 1, "trial 0 is the run's own seed");
    let acc: Vec<f64> = rows.iter().map(|r| r[2].parse().unwrap()).collect();
    let mean = acc.iter().sum::<f64>() / 4.0;
    assert!(
        (summary.test_accuracy.unwrap() - mean).abs() < 1e-5,
        "{summary:?} vs {acc:?}"
    );
    assert!(
        summary.test_accuracy_sem.unwrap() > 0.0,
        "new teachers give different scores"
    );
    // curve.csv is the point-by-point mean of the trials' curves.
    let curves = read_trial_curves(&dir.join("trial_curves.csv")).unwrap();
    let mean_curve = read_curve(&dir.join("curve.csv")).unwrap();
    assert_eq!(curves.len(), 4);
    assert_eq!(mean_curve.len(), 5, "0, 2500, ..., 10000 examples");
    for (i, p) in mean_curve.iter().enumerate() {
        let m = curves.iter().map(|c| c[i].test_accuracy).sum::<f64>() / 4.0;
        assert!((p.test_accuracy - m).abs() < 1e-5);
    }
    // The trials learn: BP at depth 9 beats chance on average.
    assert!(mean > 0.6, "{acc:?}");
    // A trial is the single run of its seed: run trial 2 alone, sequentially.
    let mut file = ModelFile::from_path(&model_path("deep_narrow_bp.ron")).unwrap();
    for o in quick(&["learning.depth=9"]) {
        file.set(&o).unwrap();
    }
    file.seed = seeds[2];
    file.trials = 1;
    let model = file.check().unwrap();
    let data = snn_sim::dataset::Prepared::load(&model).unwrap();
    let alone = Experiment::new(&model).unwrap().run(&data, &mut Silent, None).unwrap();
    assert_eq!(format!("{:.6}", alone.test_accuracy()), rows[2][2]);
    assert_eq!(alone.curve.iter().map(|p| p.test_accuracy).collect::<Vec<_>>(), {
        curves[2].iter().map(|p| p.test_accuracy).collect::<Vec<_>>()
    });
}

#[test]
fn teacher_fields_are_overridable_and_checked() {
    let mut file = ModelFile::from_path(&model_path("deep_narrow_ba.ron")).unwrap();
    file.set("data.dataset.Teacher.width=3").unwrap();
    file.set("learning.depth=1").unwrap();
    assert!(file.to_ron().contains("width: 3"), "{}", file.to_ron());
    file.check().unwrap();
    file.set("data.dataset.Teacher.width=0").unwrap();
    let e = file.check().unwrap_err().to_string();
    assert!(e.contains("data.dataset.Teacher.width"), "{e}");
    let e = file.set("data.dataset.Teacher.depth=3").unwrap_err().to_string();
    assert!(e.contains("depth") && e.contains("hidden_layers"), "{e}");
    // A learner that does not match the teacher's inputs is refused when the data are made.
    let mut file = ModelFile::from_path(&model_path("deep_narrow_ba.ron")).unwrap();
    file.set("network.layers=[3, 10, 2]").unwrap();
    file.set("learning.depth=2").unwrap();
    file.trials = 1;
    let e = snn_sim::dataset::Prepared::load(&file.check().unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 inputs"), "{e}");
}

#[test]
fn trials_record_no_rasters() {
    let text = std::fs::read_to_string(model_path("deep_narrow_lif_ba.ron")).unwrap();
    let mut file = ModelFile::from_ron(&text, Path::new("deep_narrow_lif_ba.ron")).unwrap();
    file.check().unwrap();
    file.set("record.test_examples=[0]").unwrap();
    let e = file.check().unwrap_err().to_string();
    assert!(e.contains("trials record no rasters"), "{e}");
}
