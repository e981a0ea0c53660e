//! End-to-end test of `snnsim collect`.

mod common;

use common::*;

/// `snnsim collect` gathers finished, failed, unfinished and unreadable runs into one CSV.
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

    // A process holds the running one's folder (this test, standing in for a live run).
    let held = snn_sim::folder_lock::FolderLock::acquire(&running).unwrap();

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
    assert_eq!(header[18], "held_by");
    let pid = format!("pid {} since ", std::process::id());
    assert!(running[18].starts_with(&pid), "{:?}", running[18]);
    assert!(
        rows.iter().filter(|r| r[1] != "running").all(|r| r[18].is_empty()),
        "{rows:?}"
    );

    let table = tmp.path().join("all.csv");
    let o = snnsim(
        &["collect", root.to_str().unwrap(), "-o", table.to_str().unwrap()],
        None,
    );
    assert!(o.status.success());
    assert!(text(&o).0.contains("4 runs; table written to"));
    assert_eq!(std::fs::read_to_string(&table).unwrap(), out);
    drop(held);
    let o = snnsim(&["collect", tmp.path().join("nope").to_str().unwrap()], None);
    assert!(text(&o).1.contains("nope: no such folder"));
}
