//! The data layer against real files: the shared MNIST copy when present, damaged copies, and a download from a tiny
//! HTTP server on 127.0.0.1.

use flate2::{Compression, write::GzEncoder};
use snn_data::catalog::{DataFile, DatasetKind, TEST_IMAGES, TRAIN_LABELS};
use snn_data::fetch::{download_verified, sha256_file};
use snn_data::{DataError, load};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;

/// The shared MNIST copy (`SNNSIM_DATA_DIR`, else `../shared/data` beside the repository).
fn shared_mnist() -> Option<PathBuf> {
    let root = std::env::var_os("SNNSIM_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let dir = root.join("mnist");
    dir.join(TEST_IMAGES).exists().then_some(dir)
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn real_mnist_loads_and_validates() {
    let Some(dir) = shared_mnist() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide MNIST through SNNSIM_DATA_DIR"
        );
        return;
    };
    let set = load(DatasetKind::Mnist, &dir, true).unwrap();
    assert_eq!((set.train.len(), set.test.len(), set.features), (60_000, 10_000, 784));
    assert_eq!(&set.train.labels[..5], &[5, 0, 4, 1, 9]);
    assert_eq!(&set.test.labels[..3], &[7, 2, 1]);
}

#[test]
fn damaged_files_are_named_in_clear_errors() {
    let Some(src) = shared_mnist() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for f in DatasetKind::Mnist.files() {
        std::fs::copy(src.join(f.name), tmp.path().join(f.name)).unwrap();
    }
    // Truncated gzip of the test images.
    let p = tmp.path().join(TEST_IMAGES);
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let e = load(DatasetKind::Mnist, tmp.path(), true).unwrap_err();
    assert!(matches!(e, DataError::Checksum { .. }), "{e}");
    assert!(
        e.to_string().contains(TEST_IMAGES) && e.to_string().contains("corrupt or truncated"),
        "{e}"
    );
    let e = load(DatasetKind::Mnist, tmp.path(), false).unwrap_err().to_string();
    assert!(e.contains(TEST_IMAGES) && e.contains("gzip"), "{e}");
    // Valid gzip, wrong content: a label file where images are expected.
    std::fs::write(&p, gz(&[0, 0, 8, 1, 0, 0, 0, 1, 7])).unwrap();
    let e = load(DatasetKind::Mnist, tmp.path(), false).unwrap_err().to_string();
    assert!(e.contains(TEST_IMAGES) && e.contains("magic number 2049"), "{e}");
    // Missing file.
    std::fs::remove_file(tmp.path().join(TRAIN_LABELS)).unwrap();
    let e = load(DatasetKind::Mnist, tmp.path(), false).unwrap_err().to_string();
    assert!(e.contains(TRAIN_LABELS) && e.contains("not found"), "{e}");
}

/// Serves `body` to every request, with a configurable status, on a random loopback port; returns the base URL.
fn serve(body: Vec<u8>, status: &'static str, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut s = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}/")
}

#[test]
fn download_checks_sha256_and_never_leaves_a_bad_file() {
    let payload = gz(&[0, 0, 8, 1, 0, 0, 0, 2, 3, 4]);
    let tmp = tempfile::tempdir().unwrap();
    let sha = sha256_file(&{
        let p = tmp.path().join("ref");
        std::fs::write(&p, &payload).unwrap();
        p
    })
    .unwrap();
    let good: &'static str = Box::leak(sha.into_boxed_str());
    let file = DataFile {
        name: "tiny-labels-idx1-ubyte.gz",
        sha256: good,
    };
    let dest = tmp.path().join(file.name);

    let url = serve(payload.clone(), "200 OK", 1);
    download_verified(&format!("{url}{}", file.name), &dest, &file).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), payload);

    // Wrong bytes: rejected, nothing left behind.
    std::fs::remove_file(&dest).unwrap();
    let url = serve(b"not the file".to_vec(), "200 OK", 1);
    let e = download_verified(&format!("{url}{}", file.name), &dest, &file)
        .unwrap_err()
        .to_string();
    assert!(e.contains("SHA-256") && e.contains(good), "{e}");
    assert!(!dest.exists());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1, "no .part file left");

    // HTTP error.
    let url = serve(Vec::new(), "404 Not Found", 1);
    let e = download_verified(&format!("{url}{}", file.name), &dest, &file)
        .unwrap_err()
        .to_string();
    assert!(e.contains("404") && e.contains(file.name), "{e}");
    assert!(!dest.exists());
}
