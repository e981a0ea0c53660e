//! End-to-end tests of the `snnsim` command: real runs on the shared MNIST copy, files read back (also with h5py),
//! and bad input answered with clear errors and a non-zero exit.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The shared data root (`SNNSIM_DATA_DIR`, else `../shared/data` beside the repository), if it holds MNIST.
fn data_root() -> Option<PathBuf> {
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
fn small_run<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "models/small_lif_ba.ron"];
    args.extend_from_slice(extra);
    args.extend(SMALL);
    args
}

fn snnsim(args: &[&str], data: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_snnsim"));
    c.args(args).current_dir(repo());
    match data {
        Some(d) => c.env("SNNSIM_DATA_DIR", d),
        None => c.env_remove("SNNSIM_DATA_DIR"),
    };
    c.output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

const SMALL: &[&str] = &[
    "--set",
    "data.train_limit=100",
    "--set",
    "data.test_limit=100",
    "--set",
    "protocol.curve_every=50",
    "--set",
    "data.download=false",
];

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
    for f in ["model.ron", "summary.json", "curve.csv", "rasters.h5"] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "finished");
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
    assert_eq!(
        std::fs::read_to_string(run.join("curve.csv"))
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect::<Vec<_>>(),
        std::fs::read_to_string(again.join("curve.csv"))
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect::<Vec<_>>(),
    );

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

#[test]
fn bad_overrides_and_missing_files_fail_clearly() {
    let o = snnsim(&["check", "models/small_lif_ba.ron", "--set", "protocol.epocs=2"], None);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("--set protocol.epocs=2") && err.contains("no field `epocs`"),
        "{err}"
    );

    let o = snnsim(&["check", "models/small_lif_ba.ron", "--set", "learning.depth=5"], None);
    assert!(
        text(&o).1.contains("`learning.depth` = 5: expected between 1 and 2"),
        "{:?}",
        text(&o)
    );

    let o = snnsim(&["run", "models/nope.ron"], None);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("models/nope.ron") && err.contains("cannot read"), "{err}");

    let o = snnsim(&["run", "models/small_lif_ba.ron", "--idle", "nap"], None);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "a usage error, as clap reports them");
    assert!(
        err.contains("--idle") && err.contains("unknown idle wait `nap`: expected `spin` or `sleep`"),
        "{err}"
    );

    let o = snnsim(
        &[
            "check",
            "models/small_lif_ba.ron",
            "--set",
            "learning.batch_reduction=Sum",
        ],
        None,
    );
    assert!(o.status.success());
    assert!(text(&o).0.contains("batch_reduction: Sum"));
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

/// `snnsim data fetch` downloads from a tiny HTTP server on 127.0.0.1 serving the real files, verifies them, and
/// refuses a corrupt one.
#[test]
fn data_fetch_downloads_and_verifies() {
    let Some(data) = data_root() else { return };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let src = data.join("mnist");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let mut s = stream.unwrap();
            let mut buf = [0u8; 2048];
            let n = s.read(&mut buf).unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let name = req
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_string();
            let mut body = std::fs::read(src.join(name.trim_start_matches("bad/"))).unwrap_or_default();
            if name.starts_with("bad/") {
                body.truncate(body.len() / 2);
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}/");
    let o = snnsim(
        &["data", "fetch", "--root", tmp.path().to_str().unwrap(), "--url", &url],
        None,
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_eq!(out.matches("downloaded, SHA-256 verified").count(), 4, "{out}");
    let o = snnsim(
        &["data", "fetch", "--root", tmp.path().to_str().unwrap(), "--url", &url],
        None,
    );
    assert_eq!(text(&o).0.matches("already there, SHA-256 verified").count(), 4);

    let fresh = tempfile::tempdir().unwrap();
    let o = snnsim(
        &[
            "data",
            "fetch",
            "--root",
            fresh.path().to_str().unwrap(),
            "--url",
            &format!("{url}bad/"),
        ],
        None,
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("SHA-256 of the received bytes") && err.contains("train-images-idx3-ubyte.gz"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(fresh.path().join("mnist")).unwrap().count(),
        0,
        "no partial file left"
    );
}

/// `snnsim ... | head -1`: a reader that goes away is a normal end, not a panic.
#[test]
fn closed_stdout_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_snnsim"))
        .args(["check", "models/small_lif_ba.ron"])
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // close the read end before the child writes
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{err}");
}

fn assert_figure(png: &Path, labels: &[&str]) {
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
        &["teaching signal (degrees)", ": hidden1 (2 runs)"],
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
}

/// Issue 6: SIGINT halfway through training saves a checkpoint and marks the run interrupted (exit 130); `--resume`
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
    let o = snnsim(&["run", "--resume", cut.to_str().unwrap()], Some(&data));
    assert!(text(&o).1.contains("this run has finished"), "{:?}", text(&o));

    let read = |d: &Path| snn_sim::checkpoint::Checkpoint::read(&d.join("checkpoint.bin")).unwrap();
    let (a, b) = (read(&whole), read(&cut));
    assert_eq!(a.network, b.network, "final weights identical");
    assert_eq!(a.streams, b.streams);
    let strip = |d: &Path| -> Vec<String> {
        std::fs::read_to_string(d.join("curve.csv"))
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(
        strip(&whole),
        strip(&cut),
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

/// Issue 6: every file of the regression corpus (`tests/corpus/models`) is rejected with the error text written on its
/// first line (`// expect: TEXT`), a non-zero exit and no panic.
#[test]
fn corpus_of_bad_model_files_is_answered_clearly() {
    let dir = repo().join("tests/corpus/models");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let content = std::fs::read_to_string(&path).unwrap();
        let expect = content
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("// expect: "))
            .expect("expect line");
        let o = snnsim(&["check", path.to_str().unwrap()], None);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{}: {err}", path.display());
        assert!(!err.contains("panicked"), "{}: {err}", path.display());
        assert!(err.contains(expect), "{}: expected {expect:?} in {err}", path.display());
        assert!(
            err.contains(path.file_name().unwrap().to_str().unwrap()) || err.contains("field `"),
            "names the file or field: {err}"
        );
        n += 1;
    }
    assert!(n >= 20, "corpus of at least 20 files, found {n}");
}

/// Issue 5: `snnsim collect` gathers finished, failed, unfinished and unreadable runs into one CSV.
#[test]
fn collect_gathers_runs_of_every_status() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("sweep");
    let args = small_run(&["--output-root", root.to_str().unwrap(), "-q", "--seed", "3"]);
    assert!(snnsim(&args, Some(&data)).status.success());
    let empty = tmp.path().join("nodata");
    std::fs::create_dir_all(empty.join("mnist")).unwrap();
    let o = snnsim(&args, Some(&empty)); // fails: no data
    assert_eq!(o.status.code(), Some(1));
    let running = root.join("nested/running-run");
    std::fs::create_dir_all(&running).unwrap();
    std::fs::write(
        running.join("summary.json"),
        r#"{"status":"running","error":null,"model":"m","model_path":"m.ron","model_hash":"ab","overrides":["a=1, b"],
            "seed":9,"version":"0","commit":null,"train_examples_seen":5,"test_accuracy":null,"test_examples":0,
            "wall_s":1.0,"train_s":0.0,"test_s":0.0,"threads":2}"#,
    )
    .unwrap();
    let broken = root.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("summary.json"), "{ not json").unwrap();

    let o = snnsim(&["collect", root.to_str().unwrap()], None);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[..3], ["run_dir", "status", "model"]);
    let rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let status: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(rows.len(), 4, "{out}");
    for s in ["finished", "failed", "running", "unreadable"] {
        assert!(status.contains(&s), "{s} missing: {status:?}");
    }
    let finished = rows.iter().find(|r| r[1] == "finished").unwrap();
    assert_eq!(finished[3], "3");
    assert_eq!(finished[5].len(), 64, "model hash");
    assert!(finished[8].parse::<f64>().unwrap() > 0.3);
    let failed = rows.iter().find(|r| r[1] == "failed").unwrap();
    assert!(failed[17].contains("file not found"));
    assert_eq!(finished[10], "1", "trials");
    let running = rows.iter().find(|r| r[1] == "running").unwrap();
    assert_eq!(running[4], "a=1, b", "quoted field round-trips");

    let table = tmp.path().join("all.csv");
    let o = snnsim(
        &["collect", root.to_str().unwrap(), "-o", table.to_str().unwrap()],
        None,
    );
    assert!(o.status.success());
    assert!(text(&o).0.contains("4 runs; table written to"));
    assert_eq!(std::fs::read_to_string(&table).unwrap(), out);
    let o = snnsim(&["collect", tmp.path().join("nope").to_str().unwrap()], None);
    assert!(text(&o).1.contains("nope: no such folder"));
}

/// Issue 5: with --skip-finished a re-launched sweep skips finished runs and resumes unfinished ones.
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
    // Without the flag an existing folder is never reused.
    let o = snnsim(
        &["run", "models/small_lif_ba.ron", "--out", dir.to_str().unwrap(), "-q"],
        Some(&data),
    );
    assert!(text(&o).1.contains("refusing to overwrite"), "{:?}", text(&o));
}

/// Issue 6: the same model and seed at 1 and at 2 threads give identical outputs: final network and random streams,
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
    let curve = |d: &Path| -> Vec<String> {
        std::fs::read_to_string(d.join("curve.csv"))
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.into())
            .collect()
    };
    assert_eq!(curve(&dirs[0]), curve(&dirs[1]));
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

/// Issue 6: a diverging run stops at the first NaN or infinite drive, naming the population, the step and the image.
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

/// Issue 6: a full disk is a clear error naming the file, the run is marked failed, and no partial file is left.
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

/// Issue 5: a run of several trials on the teacher task, and its error curve with one band per learning depth.
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

/// Issue 7: `snnsim bench` prints ms per minibatch, cell updates and synaptic events for training, training with the
/// alignment measurement, and testing.
#[test]
fn bench_reports_both_modes() {
    let Some(data) = data_root() else { return };
    let o = snnsim(
        &[
            "bench",
            "models/mnist_rate_bp.ron",
            "--set",
            "data.train_limit=200",
            "--set",
            "data.test_limit=200",
            "--set",
            "data.download=false",
            "--threads",
            "1",
            "--batches",
            "2",
        ],
        Some(&data),
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("1 steps/presentation when training (1 when testing)"),
        "{out}"
    );
    for mode in ["train        1", "align        1", "test         1"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(mode))
            .unwrap_or_else(|| panic!("{mode}: {out}"));
        let events: f64 = line.split_whitespace().last().unwrap().parse().unwrap();
        assert!(events > 0.0, "{line}");
    }
}

/// `bench --weights` starts from a run's trained network; a checkpoint of another shape is refused with the file and
/// both shapes named, before any data are loaded.
#[test]
fn bench_starts_from_a_checkpoint() {
    let Some(data) = data_root() else { return };
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("trained");
    let limits = [
        "--set",
        "data.train_limit=200",
        "--set",
        "data.test_limit=100",
        "--set",
        "data.download=false",
    ];
    let mut args = vec![
        "run",
        "models/mnist_rate_bp.ron",
        "--set",
        "protocol.epochs=1",
        "-q",
        "--out",
    ];
    args.push(run.to_str().unwrap());
    args.extend(limits);
    let o = snnsim(&args, Some(&data));
    assert!(o.status.success(), "{}", text(&o).1);
    let checkpoint = run.join("checkpoint.bin");
    assert!(checkpoint.is_file());

    let bench = |extra: &[&str]| {
        let mut args = vec!["bench", "models/mnist_rate_bp.ron", "--threads", "1", "--batches", "1"];
        args.extend(limits);
        args.extend(["--weights", checkpoint.to_str().unwrap()]);
        args.extend(extra);
        snnsim(&args, Some(&data))
    };
    let o = bench(&[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.lines().any(|l| l.starts_with("train        1")), "{out}");

    let o = bench(&["--set", "network.layers=[784,500,10]"]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("checkpoint.bin") && err.contains("[784, 500, 10]"),
        "{err}"
    );
}
