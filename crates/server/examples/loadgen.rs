//! A tiny HTTP/1.1 load generator for measurements (no dependency beyond tokio): `conns`
//! keep-alive connections each send GET `path` to `addr` back to back for `secs` seconds;
//! prints requests per second and the count per status code.
//!
//! `cargo run --release -p peixun-server --example loadgen -- 127.0.0.1:8080 /healthz 64 10`

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn one_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    // Read until the end of the headers, then Content-Length more bytes.
    let mut tmp = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            let total = end + 4 + len;
            while buf.len() < total {
                let n = s.read(&mut tmp).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            buf.drain(..total);
            return Ok(status);
        }
        let n = s.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = args.get(1).cloned().unwrap_or("127.0.0.1:8080".into());
    let path = args.get(2).cloned().unwrap_or("/healthz".into());
    let conns: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(64);
    let secs: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(10);
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: keep-alive\r\n\r\n");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let addr = addr.clone();
        let req = req.clone();
        tasks.push(tokio::spawn(async move {
            let mut counts: BTreeMap<u16, u64> = BTreeMap::new();
            let mut buf = Vec::with_capacity(16 * 1024);
            let mut s = match TcpStream::connect(&addr).await {
                Ok(s) => s,
                Err(_) => return counts,
            };
            let _ = s.set_nodelay(true);
            while Instant::now() < deadline {
                if s.write_all(req.as_bytes()).await.is_err() {
                    *counts.entry(0).or_default() += 1;
                    break;
                }
                match one_response(&mut s, &mut buf).await {
                    Ok(st) => *counts.entry(st).or_default() += 1,
                    Err(_) => {
                        *counts.entry(0).or_default() += 1;
                        break;
                    }
                }
            }
            counts
        }));
    }
    let mut all: BTreeMap<u16, u64> = BTreeMap::new();
    for t in tasks {
        if let Ok(c) = t.await {
            for (k, v) in c {
                *all.entry(k).or_default() += v;
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let total: u64 = all.values().sum();
    println!(
        "{path}: {conns} connections, {elapsed:.1} s, {total} responses, {:.0} req/s, by status {all:?}",
        total as f64 / elapsed
    );
}
