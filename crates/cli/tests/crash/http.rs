//! A minimal blocking HTTP/1.1 client over `std::net::TcpStream` for the crash harness: one
//! connection per request (`Connection: close`), loopback only. The workspace has no HTTP client
//! crate, and the harness needs nothing more: a request either gets a complete answer (status
//! line, headers and the whole body) or counts as unanswered.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// A complete answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: String,
    /// The body as sent (a download).
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("answer {} is not JSON ({e}): {}", self.status, self.body))
    }
}

/// Why there was no complete answer (the server died, or never answered in time).
#[derive(Debug)]
pub struct NoAnswer(pub String);

/// Sends one request to `127.0.0.1:port`. `Err` unless the whole answer arrived.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Result<Resp, NoAnswer> {
    let payload = body.map(|b| b.to_string());
    send(
        port,
        method,
        path,
        token,
        payload
            .as_deref()
            .map(|p| ("application/json", p.as_bytes())),
    )
}

/// Sends one request with a body of any type (`content type`, bytes), e.g. an upload.
pub fn send(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> Result<Resp, NoAnswer> {
    let err = |what: &str, e: std::io::Error| NoAnswer(format!("{what}: {e}"));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| err("connect", e))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| err("timeout", e))?;
    s.set_write_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| err("timeout", e))?;
    let _ = s.set_nodelay(true);
    let payload: &[u8] = body.map(|(_, b)| b).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Accept: application/json\r\nContent-Length: {}\r\n",
        payload.len()
    );
    if let Some((content_type, _)) = body {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(payload);
    s.write_all(&out).map_err(|e| err("write", e))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| err("read", e))?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> Result<Resp, NoAnswer> {
    let no = |why: &str| NoAnswer(why.to_string());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| no("incomplete head"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| no("head not UTF-8"))?;
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| no("bad status line"))?;
    let mut length = None;
    let mut chunked = false;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if k.eq_ignore_ascii_case("content-length") {
            length = v.parse::<usize>().ok();
        } else if k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked") {
            chunked = true;
        }
    }
    let body = if chunked {
        dechunk(rest).ok_or_else(|| no("incomplete chunked body"))?
    } else if let Some(n) = length {
        if rest.len() < n {
            return Err(no("body shorter than Content-Length"));
        }
        rest[..n].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Resp {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
        bytes: body,
    })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        if b.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

#[test]
fn parses_length_and_chunked_answers_and_refuses_cut_ones() {
    let r = parse(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}").unwrap();
    assert_eq!((r.status, r.body.as_str()), (201, "{}"));
    let r = parse(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        .unwrap();
    assert_eq!(r.body, "abc");
    assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}").is_err());
    assert!(parse(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nab").is_err());
    assert!(parse(b"HTTP/1.1 200 OK\r\nContent-").is_err());
}
