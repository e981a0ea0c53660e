//! End-to-end test of `snnsim data fetch`.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;

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
