//! Uploaded files in an S3-compatible bucket (issue 12 item 5), with the cargo feature `s3`:
//! the same operations as the folder — put (sealed, S14), open, reseal, delete, exists, the
//! orphan sweep — against moto's S3 server on loopback (`moto_server`, from PyPI `moto[server]`),
//! started by the test. Skipped when `moto_server` is not installed.
//!
//! `cargo test -p peixun-store --features s3 --test files_s3`
#![cfg(feature = "s3")]

use peixun_import::FileType;
use peixun_store::files::{self, FileOwner, FileStore, FilesLocation};
use peixun_store::pii::DataKeys;
use peixun_store::{Actor, StoreError};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
const BUCKET: &str = "peixun-files-test";

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One plain HTTP/1.1 request to moto; returns (status, body).
fn http(port: u16, method: &str, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let status = std::str::from_utf8(&raw[..split])
        .ok()
        .and_then(|h| h.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, raw[(split + 4).min(raw.len())..].to_vec()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_moto() -> Option<(Moto, u16)> {
    let port = free_port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let moto = Moto(child);
    let begun = Instant::now();
    while http(port, "GET", "/").is_err() {
        assert!(
            begun.elapsed() < Duration::from_secs(30),
            "moto_server did not answer"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((moto, port))
}

#[tokio::test]
async fn s16_s14_files_in_an_s3_bucket_round_trip_sealed_and_are_swept() {
    let Some((_moto, port)) = start_moto() else {
        eprintln!("skipped: moto_server is not installed (pip install 'moto[server]')");
        return;
    };
    assert_eq!(http(port, "PUT", &format!("/{BUCKET}")).unwrap().0, 200);
    // SAFETY: the only test of this binary, on a current-thread runtime: no other thread reads
    // the environment meanwhile. These are the variables an operator sets.
    unsafe {
        std::env::set_var("AWS_ENDPOINT", format!("http://127.0.0.1:{port}"));
        std::env::set_var("AWS_ALLOW_HTTP", "true");
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("AWS_REGION", "us-east-1");
    }
    let location = FilesLocation::parse(&format!("s3://{BUCKET}/haizhu/uploads")).unwrap();
    let fs = FileStore::at(&location, Arc::new(DataKeys::new([0x5a; 32]))).unwrap();
    fs.check().await.unwrap();

    let stored = fs
        .put_bytes(PDF, "计划.pdf", &[FileType::Pdf], 1 << 20)
        .await
        .unwrap();
    assert!(fs.exists(&stored.id).await);
    assert_eq!(fs.open(&stored.id).await.unwrap(), PDF);
    // Sealed in the bucket (S14): a store with another data key finds the object but cannot
    // open it (a plaintext object would be returned as it is).
    let stranger = FileStore::at(&location, Arc::new(DataKeys::new([0x11; 32]))).unwrap();
    assert!(stranger.exists(&stored.id).await);
    let e = stranger.open(&stored.id).await.unwrap_err();
    assert!(e.to_string().contains("解密"), "{e}");
    assert_eq!(
        fs.reseal(&stored.id).await.unwrap().map(|r| r.1),
        Some(false)
    );

    // The orphan sweep: a recorded file stays, one without a row goes.
    let (store, _guard) = peixun_store::testing::sqlite_temp().await;
    let txn = store.begin_write().await.unwrap();
    files::record_file(
        &txn,
        &stored,
        &FileOwner {
            purpose: "roster",
            institution_id: None,
        },
        &Actor::system("test"),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let lost = fs
        .put_bytes(PDF, "lost.pdf", &[FileType::Pdf], 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        fs.sweep_orphans(&store, Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );
    assert_eq!(fs.sweep_orphans(&store, Duration::ZERO).await.unwrap(), 1);
    assert!(!fs.exists(&lost.id).await);
    assert!(fs.exists(&stored.id).await);

    fs.delete(&stored.id).await.unwrap();
    assert!(!fs.exists(&stored.id).await);
    assert!(matches!(
        fs.open(&stored.id).await,
        Err(StoreError::NotFound { .. })
    ));
    // Deleting again is not an error.
    fs.delete(&stored.id).await.unwrap();

    // A bucket that does not exist stops the start, naming the location.
    let missing = FilesLocation::parse("s3://no-such-bucket/x").unwrap();
    let other = FileStore::at(&missing, Arc::new(DataKeys::new([0x5a; 32]))).unwrap();
    assert!(other.check().await.is_err());
}
