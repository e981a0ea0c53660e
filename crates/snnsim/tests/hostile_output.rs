//! Hostile conditions around a run's output, end to end through the `snnsim` command.
//!
//! - A disk that fills up during a run: the error names the file and says the disk is full (HDF5's own message was
//!   "unable to flush file's cached information: slist already enabled?"), and what was written before is intact.
//!   These tests mount a small tmpfs in a private mount namespace (`unshare -m`, as root, or `unshare -rm` where user
//!   namespaces are allowed), so that nothing stays mounted whatever happens; where neither works they say they are
//!   skipped.
//! - A damaged `checkpoint.bin` (garbage, truncated, bytes flipped): `--resume` says the file is corrupt or truncated,
//!   naming it, instead of taking it for a checkpoint of another model; a real checkpoint of another model is still
//!   refused as such.

mod common;

use common::{curve_without_elapsed, data_root, repo};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn snnsim(args: &[String], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snnsim"))
        .args(args)
        .current_dir(repo())
        .env("SNNSIM_DATA_DIR", data)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `snnsim run models/small_lif_ba.ron --out <out> -q` (500 training examples, 500 test images) with `--set` of each
/// override.
fn small_run(out: &Path, overrides: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["run", "models/small_lif_ba.ron", "-q", "--out"]
        .map(String::from)
        .into();
    args.push(out.display().to_string());
    for o in ["data.download=false"].iter().chain(overrides) {
        args.push("--set".into());
        args.push((*o).into());
    }
    args
}

/// What a run on a small disk left.
struct SmallDisk {
    /// Where the tmpfs was mounted: the run folder was `<mount>/run`.
    mount: PathBuf,
    /// `snnsim`'s exit status.
    status: i32,
    /// Its standard error.
    stderr: String,
    /// The run folder as the run left it, copied off the tmpfs before it went away.
    copy: PathBuf,
}

/// Runs `snnsim` with `args(run folder)` on a tmpfs of `size` mounted in a private mount namespace (it disappears
/// with the command), then copies the run folder out under `tmp`. `None` where no tmpfs can be mounted.
fn run_on_small_disk(tmp: &Path, size: &str, args: impl Fn(&Path) -> Vec<String>, data: &Path) -> Option<SmallDisk> {
    const SCRIPT: &str = r#"mount -t tmpfs -o "size=$SIZE" tmpfs "$MNT" || exit 97
"$BIN" "$@" 2> "$OUT/stderr"
echo $? > "$OUT/status"
cp -a "$MNT/run" "$OUT/copy" || true"#;
    let mount = tmp.join("disk");
    let out = tmp.join("out");
    std::fs::create_dir_all(&mount).unwrap();
    for unshare in [&["-m"][..], &["-r", "-m"][..]] {
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        let ran = Command::new("unshare")
            .args(unshare)
            .args(["sh", "-c", SCRIPT, "sh"])
            .args(args(&mount.join("run")))
            .env("SIZE", size)
            .env("MNT", &mount)
            .env("OUT", &out)
            .env("BIN", env!("CARGO_BIN_EXE_snnsim"))
            .env("SNNSIM_DATA_DIR", data)
            .current_dir(repo())
            .stderr(std::process::Stdio::null())
            .status();
        if ran.is_err() || !out.join("status").exists() {
            continue;
        }
        let status = std::fs::read_to_string(out.join("status")).unwrap();
        return Some(SmallDisk {
            mount,
            status: status.trim().parse().unwrap(),
            stderr: std::fs::read_to_string(out.join("stderr")).unwrap(),
            copy: out.join("copy"),
        });
    }
    eprintln!("skipped: cannot mount a tmpfs here (needs root or unprivileged user namespaces, and `unshare`)");
    None
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).expect("summary.json intact")
}

/// The columns of `curve.csv` other than its wall times.
fn curve(dir: &Path) -> Vec<Vec<String>> {
    curve_without_elapsed(dir)
}

/// Rasters of every training example fill a 3.5 MiB disk a little after the first checkpoint (100 examples): the
/// error names rasters.h5 and a full disk, not HDF5's metadata cache; the examples and the checkpoint written before
/// are intact.
#[test]
fn a_disk_filled_by_rasters_is_named_with_the_file() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let every: Vec<String> = (0..500).map(|i| i.to_string()).collect();
    let train = format!("record.train_examples=[{}]", every.join(","));
    let args = |run: &Path| small_run(run, &[&train, "record.traces=[]", "protocol.checkpoint_every=100"]);
    let Some(disk) = run_on_small_disk(tmp.path(), "3584k", args, &data) else {
        return;
    };
    let err = &disk.stderr;
    assert_eq!(disk.status, 1, "{err}");
    let expected = format!(
        "error: {}: the disk is full (No space left on device) while writing the rasters of train/",
        disk.mount.join("run/rasters.h5").display()
    );
    assert!(err.starts_with(&expected), "{err}");
    assert!(!err.contains("slist") && !err.contains("panicked"), "{err}");
    assert!(
        !err.contains("--resume"),
        "no resume hint over a damaged raster file: {err}"
    );

    let names = files(&disk.copy);
    assert!(!names.iter().any(|f| f.ends_with(".tmp")), "no partial file: {names:?}");
    let status = summary(&disk.copy)["status"].as_str().unwrap().to_string();
    assert!(status == "running" || status == "failed", "{status}");
    let ck = snn_sim::checkpoint::Checkpoint::read(&disk.copy.join("checkpoint.bin")).expect("checkpoint intact");
    assert_eq!(ck.progress.seen, 100);
    let h5 = hdf5::File::open(disk.copy.join("rasters.h5")).expect("rasters.h5 opens");
    let train = h5.group("train").unwrap();
    assert!(train.member_names().unwrap().len() > 100);
    for ex in ["00000000", "00000099"] {
        let input = train.dataset(&format!("{ex}/input")).unwrap().read_1d::<f32>().unwrap();
        assert_eq!(input.len(), 784, "train/{ex} intact");
    }
}

/// Without rasters, a 1 MiB disk holds one checkpoint but not the temporary file of the next: the error names
/// checkpoint.bin and a full disk, the previous checkpoint is kept (the temporary file removed), summary.json says
/// the run failed and why, and `--resume` (once there is room) finishes the run to the result of an uninterrupted one.
#[test]
fn a_disk_filled_by_the_checkpoint_keeps_the_previous_one() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let overrides = [
        "record.train_examples=[]",
        "record.test_examples=[]",
        "record.traces=[]",
        "protocol.checkpoint_every=100",
    ];
    let Some(disk) = run_on_small_disk(tmp.path(), "1m", |run| small_run(run, &overrides), &data) else {
        return;
    };
    let err = &disk.stderr;
    assert_eq!(disk.status, 1, "{err}");
    let run = disk.mount.join("run");
    let expected = format!(
        "error: {}: the disk is full (No space left on device) while writing the checkpoint (the previous checkpoint, \
         if any, is left as it was); the run folder keeps its last checkpoint: free some space, then continue with \
         `snnsim run --resume {}`",
        run.join("checkpoint.bin").display(),
        run.display()
    );
    assert_eq!(err.trim_end(), expected);

    let names = files(&disk.copy);
    assert!(!names.iter().any(|f| f.ends_with(".tmp")), "no partial file: {names:?}");
    let s = summary(&disk.copy);
    assert_eq!(s["status"], "failed");
    assert!(s["error"].as_str().unwrap().contains("the disk is full"), "{s}");
    let ck = snn_sim::checkpoint::Checkpoint::read(&disk.copy.join("checkpoint.bin")).expect("checkpoint intact");
    assert_eq!(ck.progress.seen, 100);

    let resumed = snnsim(
        &["run", "--resume", disk.copy.to_str().unwrap(), "-q"].map(String::from),
        &data,
    );
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let whole = tmp.path().join("whole");
    let o = snnsim(&small_run(&whole, &overrides), &data);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(curve(&disk.copy), curve(&whole));
    assert_eq!(summary(&disk.copy)["test_accuracy"], summary(&whole)["test_accuracy"]);
}

/// A disk with room for the folder's lock file and model.ron (a 4 KiB page each) but not for summary.json's temporary
/// file: the error names summary.json, and no partial file is left.
#[test]
fn a_disk_full_from_the_start_names_the_first_file_that_does_not_fit() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let Some(disk) = run_on_small_disk(tmp.path(), "8k", |run| small_run(run, &[]), &data) else {
        return;
    };
    let err = &disk.stderr;
    assert_eq!(disk.status, 1, "{err}");
    let expected = format!(
        "error: {}: the disk is full (No space left on device) while writing a new summary.json (the old one, if any, \
         is left as it was)",
        disk.mount.join("run/summary.json").display()
    );
    assert_eq!(err.trim_end(), expected);
    assert_eq!(files(&disk.copy), [".snnsim-run.lock", "model.ron"], "no partial file");
}

/// A short finished run made resumable again (its summary says interrupted), to damage its checkpoint.
fn resumable_run(dir: &Path, seed: &str, data: &Path) {
    let mut args = small_run(
        dir,
        &[
            "data.train_limit=100",
            "data.test_limit=100",
            "protocol.curve_every=50",
            "protocol.curve_test_examples=20",
            "record.train_examples=[0]",
            "record.test_examples=[0]",
        ],
    );
    args.extend(["--seed".into(), seed.into()]);
    let o = snnsim(&args, data);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    std::fs::write(dir.join("summary.json"), s.replace("\"finished\"", "\"interrupted\"")).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in std::fs::read_dir(from).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
}

/// Garbage, garbage after the right header, a truncated file, an empty one, and bytes flipped in the middle: each
/// is refused as corrupt or truncated, naming checkpoint.bin, and the run folder is left as it was.
#[test]
fn resuming_from_a_damaged_checkpoint_says_it_is_corrupt() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    resumable_run(&base, "7", &data);
    let good = std::fs::read(base.join("checkpoint.bin")).unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let mut random = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    };
    let mut header_then_garbage = good[..20].to_vec();
    header_then_garbage.extend(random(good.len() - 20));
    let mut flipped = good.clone();
    let middle = good.len() / 2;
    for b in &mut flipped[middle..middle + 16] {
        *b = !*b;
    }
    let mut one_bit = good.clone();
    one_bit[good.len() / 3] ^= 1;
    let cases = [
        ("random", random(good.len()), "corrupt"),
        ("header then garbage", header_then_garbage, "corrupt"),
        ("bytes flipped in the middle", flipped, "corrupt"),
        ("one bit flipped", one_bit, "corrupt"),
        ("half the file", good[..good.len() / 2].to_vec(), "truncated"),
        ("empty", Vec::new(), "truncated"),
    ];
    for (i, (what, bytes, expected)) in cases.into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{i}"));
        copy_dir(&base, &dir);
        let path = dir.join("checkpoint.bin");
        std::fs::write(&path, &bytes).unwrap();
        let before = std::fs::read(dir.join("summary.json")).unwrap();
        let o = snnsim(
            &["run", "--resume", dir.to_str().unwrap(), "-q"].map(String::from),
            &data,
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{what}: {err}");
        let head = format!(
            "error: {}: not a readable snnsim checkpoint: it is {expected} (",
            path.display()
        );
        assert!(err.starts_with(&head), "{what}: {err}");
        assert!(
            !err.contains("another model") && !err.contains("panicked"),
            "{what}: {err}"
        );
        assert_eq!(
            std::fs::read(dir.join("summary.json")).unwrap(),
            before,
            "{what}: summary untouched"
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{what}: checkpoint untouched");
    }
}

/// An intact checkpoint of another model (another seed) in the run folder is refused as taken for another model,
/// naming both files.
#[test]
fn resuming_from_another_models_checkpoint_says_so() {
    let Some(data) = data_root() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let other = tmp.path().join("other");
    resumable_run(&run, "7", &data);
    resumable_run(&other, "8", &data);
    std::fs::copy(other.join("checkpoint.bin"), run.join("checkpoint.bin")).unwrap();
    let o = snnsim(
        &["run", "--resume", run.to_str().unwrap(), "-q"].map(String::from),
        &data,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(
        err.trim_end(),
        format!(
            "error: {}: the checkpoint was taken for another model than {}: refusing to resume",
            run.join("checkpoint.bin").display(),
            run.join("model.ron").display()
        )
    );
}
