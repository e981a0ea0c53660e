//! End-to-end tests of `snnsim run`: the run folder it writes, bad models and data, never overwriting, re-launching
//! with `--skip-finished`, thread-count independence, divergence, a full disk, and runs of several trials.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[test]
fn run_writes_a_complete_run_folder() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let args = small_run(&["--out", run.to_str().unwrap(), "--seed", "11"]);
    let o = snnsim(&args, Some(&data));
    let (out, err) = text(&o);
    assert!(o.status.success(), "stdout: {out}\nstderr: {err}");
    assert!(
        out.contains("test accuracy:") && out.contains("of 100 test images"),
        "{out}"
    );
    assert!(
        err.contains("test acc"),
        "learning-curve lines on a non-terminal: {err}"
    );
    for f in ["model.ron", "summary.json", "curve.csv", "rasters.h5", "confusion.csv"] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "finished");
    assert_confusion_matches_summary(&run, &summary);
    assert!(out.contains("per class (% right): 0: "), "{out}");
    assert_eq!(summary["seed"], 11);
    assert_eq!(summary["overrides"].as_array().unwrap().last().unwrap(), "seed=11");
    let resolved = std::fs::read_to_string(run.join("model.ron")).unwrap();
    assert!(
        resolved.contains("seed: 11") && resolved.contains("train_limit: 100"),
        "{resolved}"
    );

    // The resolved model reruns to the same result (same seed, same bits).
    let again = tmp.path().join("again");
    let o2 = snnsim(
        &[
            "run",
            run.join("model.ron").to_str().unwrap(),
            "--out",
            again.to_str().unwrap(),
            "-q",
        ],
        Some(&data),
    );
    assert!(o2.status.success(), "{:?}", text(&o2));
    let first_line = |o: &Output| text(o).0.lines().next().unwrap().split(',').next().unwrap().to_string();
    assert_eq!(first_line(&o), first_line(&o2));
    assert_eq!(curve_without_elapsed(&run), curve_without_elapsed(&again));

    // The raster file opens in h5py (required in CI, where .ci/run installs it).
    let script = format!(
        r#"
import h5py, numpy as np
f = h5py.File({path:?}, "r")
assert f.attrs["dt_ms"] == 0.25, f.attrs["dt_ms"]
pops = [p.decode() if isinstance(p, bytes) else p for p in f.attrs["populations"]]
assert pops == ["input", "hidden1", "output", "error_exc", "error_inh"], pops
g = f["train/00000000"]
for name in ["hidden1", "output", "error_exc", "error_inh"]:
    r = g[name][...]
    assert r.dtype == np.bool_, (name, r.dtype)
    assert r.shape[0] == 400, r.shape
assert g["hidden1"].shape == (400, 100)
assert g["input"].shape == (784,)
assert "model" in f.attrs
print("h5py ok", int(g["hidden1"][...].sum()))
"#,
        path = run.join("rasters.h5").to_str().unwrap()
    );
    match Command::new("python3").args(["-c", &script]).output() {
        Ok(py) if py.status.success() => {
            assert!(String::from_utf8_lossy(&py.stdout).contains("h5py ok"))
        }
        Ok(py) => {
            let e = String::from_utf8_lossy(&py.stderr);
            let missing = e.contains("No module named 'h5py'");
            assert!(missing && std::env::var_os("CI").is_none(), "h5py check failed: {e}");
        }
        Err(e) => assert!(std::env::var_os("CI").is_none(), "python3: {e}"),
    }
}

#[test]
fn misspelt_field_is_rejected_with_file_line_and_name() {
    let tmp = tempfile::tempdir().unwrap();
    let text_in = std::fs::read_to_string(repo().join("models/small_lif_ba.ron")).unwrap();
    let line = text_in.lines().position(|l| l.contains("momentum: 0.9")).unwrap() + 1;
    let bad = tmp.path().join("bad.ron");
    std::fs::write(&bad, text_in.replace("momentum: 0.9", "momentun: 0.9")).unwrap();
    let o = snnsim(
        &[
            "run",
            bad.to_str().unwrap(),
            "--output-root",
            tmp.path().join("out").to_str().unwrap(),
        ],
        None,
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("bad.ron:{line}:")) && err.contains("momentun"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!tmp.path().join("out").exists(), "nothing written for an invalid model");
}

/// A run that failed before its first checkpoint (its data missing) is started again by a relaunch with
/// `--skip-finished` once the data is there: the failed folder is set aside, not overwritten.
#[test]
fn a_relaunch_starts_again_a_run_that_failed_before_its_first_checkpoint() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("no-data");
    std::fs::create_dir_all(empty.join("mnist")).unwrap();
    let dir = tmp.path().join("task");
    let args = small_run(&["--out", dir.to_str().unwrap(), "--skip-finished", "-q"]);
    let failed = snnsim(&args, Some(&empty));
    assert_eq!(failed.status.code(), Some(1), "{:?}", text(&failed));
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(summary.contains("\"failed\""), "{summary}");
    let again = snnsim(&args, Some(&data));
    assert!(again.status.success(), "{:?}", text(&again));
    assert!(text(&again).1.contains("set aside"), "{:?}", text(&again));
    let kept = std::fs::read_to_string(tmp.path().join("task.unfinished/summary.json")).unwrap();
    assert_eq!(kept, summary, "the failed run's files are kept");
    let done = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(done.contains("\"finished\""), "{done}");
}

#[test]
fn missing_or_corrupt_data_is_named_and_the_run_marked_failed() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("data");
    std::fs::create_dir_all(root.join("mnist")).unwrap();
    let out = tmp.path().join("out");
    let args = small_run(&["--output-root", out.to_str().unwrap()]);
    let o = snnsim(&args, Some(&root));
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("train-images-idx3-ubyte.gz: file not found"), "{err}");
    let run = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
    let summary = std::fs::read_to_string(run.join("summary.json")).unwrap();
    assert!(
        summary.contains("\"failed\"") && summary.contains("file not found"),
        "{summary}"
    );

    for f in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        std::fs::copy(data.join("mnist").join(f), root.join("mnist").join(f)).unwrap();
    }
    let labels = root.join("mnist/t10k-labels-idx1-ubyte.gz");
    let bytes = std::fs::read(&labels).unwrap();
    std::fs::write(&labels, &bytes[..bytes.len() - 100]).unwrap();
    let o = snnsim(&args, Some(&root));
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("t10k-labels-idx1-ubyte.gz: SHA-256") && err.contains("corrupt or truncated"),
        "{err}"
    );
}

#[test]
fn never_overwrites_an_earlier_run() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::write(run.join("summary.json"), "earlier").unwrap();
    let o = snnsim(
        &["run", "models/small_lif_ba.ron", "--out", run.to_str().unwrap()],
        None,
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("not empty") && err.contains("refusing to overwrite"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(run.join("summary.json")).unwrap(), "earlier");
}

/// With --skip-finished a re-launched sweep skips finished runs and resumes unfinished ones.
#[test]
fn skip_finished_makes_runs_relaunchable() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("task");
    let args = small_run(&["--out", dir.to_str().unwrap(), "--skip-finished", "-q"]);
    let first = snnsim(&args, Some(&data));
    assert!(first.status.success(), "{:?}", text(&first));
    let again = snnsim(&args, Some(&data));
    assert!(again.status.success());
    assert!(text(&again).0.contains("finished already"), "{:?}", text(&again));
    // Marked interrupted (as after SIGTERM at a time limit): resumed from the checkpoint, same result.
    let summary = dir.join("summary.json");
    let s = std::fs::read_to_string(&summary)
        .unwrap()
        .replace("\"finished\"", "\"interrupted\"");
    std::fs::write(&summary, s).unwrap();
    let resumed = snnsim(&args, Some(&data));
    assert!(resumed.status.success(), "{:?}", text(&resumed));
    assert!(text(&resumed).1.contains("resuming"));
    let line = |o: &Output| text(o).0.lines().next().unwrap().split(',').next().unwrap().to_string();
    assert_eq!(line(&first), line(&resumed));
    // A task whose model changed but whose folder did not is refused, finished or not, naming the first field that
    // differs; the folder is left as it was.
    let before = std::fs::read(&summary).unwrap();
    let mut changed = args.clone();
    changed.extend(["--set", "learning.momentum=0.5"]);
    let o = snnsim(&changed, Some(&data));
    let err = text(&o).1;
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("holds a run of another model")
            && err.contains("`learning.momentum` = 0.9")
            && err.contains("gives 0.5"),
        "{err}"
    );
    assert_eq!(std::fs::read(&summary).unwrap(), before);
    let s = String::from_utf8(before.clone())
        .unwrap()
        .replace("\"finished\"", "\"interrupted\"");
    std::fs::write(&summary, s).unwrap();
    let o = snnsim(&changed, Some(&data));
    assert!(
        !o.status.success() && text(&o).1.contains("holds a run of another model"),
        "{:?}",
        text(&o)
    );
    // A summary that does not parse is named, not taken for an empty folder.
    std::fs::write(&summary, &before[..before.len() / 2]).unwrap();
    let o = snnsim(&args, Some(&data));
    assert!(
        !o.status.success() && text(&o).1.contains("summary.json: unreadable"),
        "{:?}",
        text(&o)
    );
    std::fs::write(&summary, &before).unwrap();
    // Where the data live is not part of the model: a relaunch that says it differently still skips the run.
    let mut located = args.clone();
    located.extend(["--set", "data.verify_checksums=false"]);
    let o = snnsim(&located, Some(&data));
    assert!(
        o.status.success() && text(&o).0.contains("finished already"),
        "{:?}",
        text(&o)
    );
    // Without the flag an existing folder is never reused.
    let o = snnsim(
        &["run", "models/small_lif_ba.ron", "--out", dir.to_str().unwrap(), "-q"],
        Some(&data),
    );
    assert!(text(&o).1.contains("refusing to overwrite"), "{:?}", text(&o));
}

/// The same model and seed at 1 and at 2 threads give identical outputs: final network and random streams,
/// learning curve (elapsed times aside), summary, and every raster and trace in the HDF5 file.
#[test]
fn one_and_two_threads_give_identical_outputs() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = ["t1", "t2"].iter().map(|d| tmp.path().join(d)).collect();
    for (dir, threads) in dirs.iter().zip(["1", "2"]) {
        let args = small_run(&["--out", dir.to_str().unwrap(), "--threads", threads, "-q"]);
        assert!(snnsim(&args, Some(&data)).status.success());
    }
    let ck = |d: &Path| snn_sim::checkpoint::Checkpoint::read(&d.join("checkpoint.bin")).unwrap();
    let (a, b) = (ck(&dirs[0]), ck(&dirs[1]));
    assert_eq!((a.network, a.streams, a.model), (b.network, b.streams, b.model));
    assert_eq!(curve_without_elapsed(&dirs[0]), curve_without_elapsed(&dirs[1]));
    let summary = |d: &Path| {
        let s: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("summary.json")).unwrap()).unwrap();
        (
            s["test_accuracy"].clone(),
            s["model_hash"].clone(),
            s["train_examples_seen"].clone(),
        )
    };
    assert_eq!(summary(&dirs[0]), summary(&dirs[1]));
    let h5 = |d: &Path| hdf5::File::open(d.join("rasters.h5")).unwrap();
    let (fa, fb) = (h5(&dirs[0]), h5(&dirs[1]));
    let mut compared = 0;
    for example in ["train/00000000", "test/00000", "test/00001"] {
        let (ga, gb) = (fa.group(example).unwrap(), fb.group(example).unwrap());
        for name in ga.member_names().unwrap() {
            if let Ok(ds) = ga.dataset(&name) {
                if ds.ndim() == 2 {
                    assert_eq!(
                        ds.read_2d::<bool>().unwrap(),
                        gb.dataset(&name).unwrap().read_2d::<bool>().unwrap(),
                        "{example}/{name}"
                    );
                } else {
                    assert_eq!(
                        ds.read_1d::<f32>().unwrap(),
                        gb.dataset(&name).unwrap().read_1d::<f32>().unwrap(),
                        "{example}/{name}"
                    );
                }
                compared += 1;
            }
        }
        for var in ["v", "h", "a", "iota", "delta"] {
            let path = format!("traces/hidden1/{var}");
            let read = |g: &hdf5::Group| g.dataset(&path).unwrap().read_2d::<f32>().unwrap();
            assert_eq!(read(&ga), read(&gb), "{example}/{path}");
            compared += 1;
        }
        let counts = |g: &hdf5::Group| g.attr("output_counts").unwrap().read_1d::<f32>().unwrap();
        assert_eq!(counts(&ga), counts(&gb));
    }
    assert!(compared >= 30, "{compared} datasets compared");
}

/// A diverging run stops at the first NaN or infinite drive, naming the population, the step and the image.
#[test]
fn divergence_is_caught_and_located() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("diverged");
    let args = small_run(&[
        "--out",
        dir.to_str().unwrap(),
        "-q",
        "--set",
        "learning.learning_rate=Fixed(1e38)",
    ]);
    let o = snnsim(&args, Some(&data));
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("non-finite drive in") && err.contains(" at step ") && err.contains("(image "),
        "{err}"
    );
    let step: usize = err
        .split(" at step ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((80..400).contains(&step), "after learning starts at step 80: {step}");
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(
        summary.contains("\"failed\"") && summary.contains("non-finite drive"),
        "{summary}"
    );
}

/// A full disk is a clear error naming the file, the run is marked failed, and no partial file is left.
/// Needs permission to mount a small tmpfs (root, as on the project's machines); skipped where that is refused.
#[test]
fn full_disk_is_reported_clearly() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let disk = tmp.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=600k", "tmpfs", disk.to_str().unwrap()])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    let args = small_run(&["--output-root", disk.to_str().unwrap(), "-q"]);
    let o = snnsim(&args, Some(&data));
    let (_, err) = text(&o);
    let listing: Vec<String> = std::fs::read_dir(&disk)
        .unwrap()
        .flat_map(|run| std::fs::read_dir(run.unwrap().path()).unwrap())
        .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let summary = std::fs::read_dir(&disk)
        .unwrap()
        .next()
        .map(|r| r.unwrap().path().join("summary.json"));
    let summary = summary
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .unwrap_or_default();
    let _ = Command::new("umount").arg(&disk).status();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        !listing.iter().any(|f| f.ends_with(".tmp")),
        "no partial file: {listing:?}"
    );
    assert!(summary.contains("\"failed\""), "{summary}");
}

/// A run of several trials on the teacher task, and its error curve with one band per learning depth.
#[test]
fn trials_of_the_teacher_task_and_their_error_bands() {
    let tmp = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for depth in ["1", "9"] {
        let dir = tmp.path().join(format!("depth{depth}"));
        let depth_set = format!("learning.depth={depth}");
        let o = snnsim(
            &[
                "run",
                "models/deep_narrow_bp.ron",
                "--set",
                &depth_set,
                "--set",
                "trials=3",
                "--set",
                "data.dataset.Teacher.train_examples=1000",
                "--set",
                "protocol.epochs=2",
                "--out",
                dir.to_str().unwrap(),
                "-q",
            ],
            None,
        );
        let (out, err) = text(&o);
        assert!(o.status.success(), "{err}");
        assert!(out.contains("test accuracy"), "{out}");
        let trials = std::fs::read_to_string(dir.join("trials.csv")).unwrap();
        assert_eq!(trials.lines().count(), 4, "header and 3 trials: {trials}");
        // The trials' final tests add up, as their correct answers do.
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
        assert_confusion_matches_summary(&dir, &summary);
        dirs.push(dir);
    }
    let stem = tmp.path().join("fig3");
    let mut args = vec!["plot", "curve", "--error", "--title", "Figure 3A"];
    args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
    args.extend(["-o", stem.to_str().unwrap()]);
    let o = snnsim(&args, None);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_figure(
        &stem.with_extension("png"),
        &["test error (%)", "Figure 3A", "learning.depth=9", "(3 trials)"],
    );
    // A sweep re-launched over an unfinished trials run sets the folder aside and runs it again.
    let unfinished = tmp.path().join("depth1");
    let summary = std::fs::read_to_string(unfinished.join("summary.json")).unwrap();
    std::fs::write(
        unfinished.join("summary.json"),
        summary.replace("\"finished\"", "\"interrupted\""),
    )
    .unwrap();
    let o = snnsim(
        &[
            "run",
            "models/deep_narrow_bp.ron",
            "--set",
            "learning.depth=1",
            "--set",
            "trials=3",
            "--set",
            "data.dataset.Teacher.train_examples=1000",
            "--set",
            "protocol.epochs=2",
            "--out",
            unfinished.to_str().unwrap(),
            "--skip-finished",
            "-q",
        ],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).1.contains("set aside as"), "{:?}", text(&o));
    assert!(tmp.path().join("depth1.unfinished/trials.csv").exists());
    assert!(unfinished.join("trials.csv").exists());
    std::fs::remove_dir_all(tmp.path().join("depth1.unfinished")).unwrap();

    // collect shows the trials and the standard error of their mean.
    let o = snnsim(&["collect", tmp.path().to_str().unwrap()], None);
    let (out, _) = text(&o);
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let trials_col = rdr.headers().unwrap().iter().position(|h| h == "trials").unwrap();
    for r in rdr.records() {
        assert_eq!(&r.unwrap()[trials_col], "3");
    }
}

/// The run's `confusion.csv` counts every image of its final test once, and its diagonal is the summary's accuracy.
fn assert_confusion_matches_summary(run: &Path, summary: &serde_json::Value) {
    let m = snn_sim::confusion::Confusion::read(&run.join("confusion.csv")).unwrap();
    let examples = summary["test_examples"].as_u64().unwrap();
    assert_eq!(m.total(), examples, "{}", m.to_csv());
    let correct = (summary["test_accuracy"].as_f64().unwrap() * examples as f64).round() as u64;
    assert_eq!(m.total_correct(), correct, "{}", m.to_csv());
}

/// A thread count of 0, or of more than 8 per core, is refused by every command before anything starts (tens of
/// thousands of threads would take minutes to start and change no result).
#[test]
fn impossible_thread_counts_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    for threads in ["0", "100000"] {
        for args in [
            small_run(&["--threads", threads, "--out", out.to_str().unwrap()]),
            vec!["bench", "models/small_lif_ba.ron", "--threads", threads],
        ] {
            let o = snnsim(&args, None);
            let err = text(&o).1;
            assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
            assert!(
                err.contains(&format!("--threads: {threads} worker threads: expected 1 to")),
                "{args:?}: {err}"
            );
        }
    }
    assert!(!out.exists(), "nothing is written for a refused run");
    // Refused before --skip-finished looks at the folder: a finished run there is not reported as skipped.
    std::fs::create_dir(&out).unwrap();
    let summary = repo().join("docs/runs/mnist_lif_ba-seed1-30epochs/summary.json");
    std::fs::copy(summary, out.join("summary.json")).unwrap();
    let o = snnsim(
        &small_run(&["--threads", "0", "--out", out.to_str().unwrap(), "--skip-finished"]),
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(text(&o).1.contains("worker threads: expected 1 to"), "{:?}", text(&o));
}
