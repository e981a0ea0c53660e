//! End-to-end test of `snnsim run --resume`: an interrupted run finishes with the result of an uninterrupted one.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

/// SIGINT halfway through training saves a checkpoint and marks the run interrupted (exit 130); `--resume`
/// finishes it with exactly the network, learning curve and test score of an uninterrupted run.
#[test]
fn interrupted_run_resumes_to_the_same_result() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (whole, cut) = (tmp.path().join("whole"), tmp.path().join("cut"));
    let args = |dir: &Path| -> Vec<String> {
        let mut a: Vec<String> = ["run", "models/small_lif_ba.ron", "--out", dir.to_str().unwrap(), "-q"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for s in [
            "data.train_limit=200",
            "data.test_limit=100",
            "protocol.epochs=40",
            "protocol.curve_every=200",
            "data.download=false",
        ] {
            a.push("--set".into());
            a.push(s.into());
        }
        a
    };
    let run = |a: &[String]| {
        Command::new(env!("CARGO_BIN_EXE_snnsim"))
            .args(a)
            .current_dir(repo())
            .env("SNNSIM_DATA_DIR", &data)
            .spawn()
            .unwrap()
    };
    assert!(run(&args(&whole)).wait().unwrap().success());

    let mut child = run(&args(&cut));
    let curve = cut.join("curve.csv");
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&curve).map_or(0, |s| s.lines().count()) < 4 {
        assert!(t0.elapsed().as_secs() < 60, "training did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "interrupted runs exit with 130");
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(cut.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "interrupted", "{summary}");
    let seen = summary["train_examples_seen"].as_u64().unwrap();
    assert!(seen > 0 && seen < 8000, "stopped halfway: {seen}");
    assert!(summary["error"].as_str().unwrap().contains("--resume"));
    // The raster file is closed cleanly and readable.
    assert!(hdf5::File::open(cut.join("rasters.h5")).is_ok());
    // Left as a killed process leaves it (no final summary: status running, wall time 0): the resumed run's wall
    // time still covers all its training.
    let killed = std::fs::read_to_string(cut.join("summary.json"))
        .unwrap()
        .replace("\"interrupted\"", "\"running\"");
    let wall = summary["wall_s"].to_string();
    std::fs::write(
        cut.join("summary.json"),
        killed.replace(&format!("\"wall_s\": {wall}"), "\"wall_s\": 0.0"),
    )
    .unwrap();

    let o = snnsim(&["run", "--resume", cut.to_str().unwrap(), "-q"], Some(&data));
    assert!(o.status.success(), "{:?}", text(&o));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(cut.join("summary.json")).unwrap()).unwrap();
    let (wall, train) = (
        summary["wall_s"].as_f64().unwrap(),
        summary["train_s"].as_f64().unwrap(),
    );
    assert!(
        wall >= train,
        "wall time {wall} s covers the training time {train} s of both processes"
    );
    // The resume is recorded: the build that continued the run, from where.
    let resumes = summary["resumes"].as_array().unwrap();
    assert_eq!(resumes.len(), 1, "{summary}");
    assert_eq!(resumes[0]["from_examples"].as_u64().unwrap(), seen);
    assert_eq!(resumes[0]["commit"], summary["commit"], "the same build: no note");
    assert!(!text(&o).1.contains("resumed by that of"), "{:?}", text(&o));
    let o = snnsim(&["run", "--resume", cut.to_str().unwrap()], Some(&data));
    assert!(text(&o).1.contains("this run has finished"), "{:?}", text(&o));

    let read = |d: &Path| snn_sim::checkpoint::Checkpoint::read(&d.join("checkpoint.bin")).unwrap();
    let (a, b) = (read(&whole), read(&cut));
    assert_eq!(a.network, b.network, "final weights identical");
    assert_eq!(a.streams, b.streams);
    assert_eq!(
        curve_without_elapsed(&whole),
        curve_without_elapsed(&cut),
        "learning curves identical (elapsed time aside)"
    );
    let acc = |d: &Path| {
        let s: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("summary.json")).unwrap()).unwrap();
        (
            s["test_accuracy"].clone(),
            s["status"].clone(),
            s["train_examples_seen"].clone(),
        )
    };
    assert_eq!(acc(&whole), acc(&cut));
}

/// While a run is going, its folder is its own: a relaunch with `--skip-finished` skips it (naming the process), and
/// `--resume` or a new run there is refused before anything in the folder changes. When the process has ended, the
/// folder is free again and resumes.
#[test]
fn a_run_folder_in_use_is_left_to_its_process() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("busy");
    let d = dir.to_str().unwrap();
    let sets = [
        "data.train_limit=200",
        "data.test_limit=100",
        "protocol.epochs=1000",
        "protocol.curve_every=200",
        "protocol.checkpoint_every=200",
        "data.download=false",
    ];
    let mut args = vec!["run", "models/small_lif_ba.ron", "--out", d, "-q"];
    for s in &sets {
        args.extend(["--set", s]);
    }
    let mut child = KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_snnsim"))
            .args(&args)
            .current_dir(repo())
            .env("SNNSIM_DATA_DIR", &data)
            .spawn()
            .unwrap(),
    );
    let t0 = std::time::Instant::now();
    while !dir.join("checkpoint.bin").exists() {
        assert!(t0.elapsed().as_secs() < 60, "training did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = format!("pid {}", child.0.id());
    let held = snn_sim::folder_lock::occupancy(&dir);
    assert!(
        matches!(&held, snn_sim::folder_lock::Occupancy::Held(note) if note.starts_with(&pid)),
        "{held:?}"
    );

    let mut relaunch = args.clone();
    relaunch.push("--skip-finished");
    let o = snnsim(&relaunch, Some(&data));
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout} {stderr}");
    assert!(
        stdout.contains("skipping") && stdout.contains("another snnsim process") && stdout.contains(&pid),
        "{stdout}"
    );
    assert!(!stderr.contains("resuming"), "{stderr}");

    let o = snnsim(&["run", "--resume", d, "-q"], Some(&data));
    assert!(!o.status.success());
    assert!(text(&o).1.contains("another snnsim process"), "{:?}", text(&o));
    let o = snnsim(&args, Some(&data));
    assert!(!o.status.success(), "a new run in a folder in use is refused");
    assert!(
        text(&o).1.contains("another snnsim process"),
        "refused for being in use, not only for not being empty: {:?}",
        text(&o)
    );
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["status"], "running",
        "the refused processes left the summary alone: {summary}"
    );
    assert!(
        summary["resumes"].as_array().is_none_or(Vec::is_empty),
        "nobody resumed it: {summary}"
    );

    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert_eq!(child.0.wait().unwrap().code(), Some(130));
    assert_eq!(
        snn_sim::folder_lock::occupancy(&dir),
        snn_sim::folder_lock::Occupancy::Free
    );
    // Free again: a relaunch would resume it.
    assert_eq!(snn_sim::run::relaunch_action(&dir), snn_sim::run::Relaunch::Resume);
}

/// A child process killed when the test ends, however it ends (a failed assertion must not leave a long run going).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
