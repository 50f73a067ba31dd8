//! `peixun bench http`: the reads users make, measured side by side with the minimal endpoint
//! (issue 12). Starts this binary's `serve` on an existing database (a `peixun seed` one, or a
//! demo's data folder), signs in as the demo accounts, and for each endpoint runs `conns`
//! keep-alive HTTP/1.1 connections back to back for `secs` seconds; prints one table row per
//! endpoint: requests/s, p50, p99, share of the minimal endpoint's throughput measured in the
//! same run, and any non-2xx statuses.
//!
//! The load generator runs in this process on the same machine as the server (as the issue's
//! figures were taken): both share the cores, so compare rows of one run, not runs of
//! different days.

use clap::Args;
use peixun_store::Store;
use sea_orm::{ConnectionTrait, Statement};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Args)]
pub struct BenchHttpArgs {
    /// 数据库地址（sqlite:… 或 postgres://…；须已有 peixun seed 或演示数据）
    #[arg(long)]
    pub database_url: Option<String>,
    /// 数据目录（默认 SQLite 数据库位于此处）
    #[arg(long, default_value = "./data")]
    pub data_dir: PathBuf,
    /// 并发连接数
    #[arg(long, default_value_t = 64)]
    pub conns: usize,
    /// 每个接口的计时秒数（另有 1 秒预热）
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// 只测名称含此文字的接口（可多次给出）
    #[arg(long)]
    pub only: Vec<String>,
    /// 已在运行的服务地址（不再自行启动服务；仍从数据库中选取测试对象）
    #[arg(long)]
    pub server: Option<SocketAddr>,
    /// 演示账号的密码
    #[arg(long, default_value = peixun_store::demo::DEMO_PASSWORD)]
    pub password: String,
}

/// What the endpoints read: chosen from the database (the busiest round and institution, the
/// class with the largest roster, a valid certificate code).
#[derive(Debug, Default)]
struct Targets {
    round: Option<i64>,
    institution: Option<i64>,
    class: Option<i64>,
    roster: i64,
    certificate: Option<String>,
    filings: i64,
    institutions: i64,
}

async fn scalar_i64(store: &Store, sql: &str) -> anyhow::Result<Option<(i64, i64)>> {
    let db = store.db();
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(match row {
        Some(r) => Some((r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?)),
        None => None,
    })
}

async fn pick_targets(store: &Store) -> anyhow::Result<Targets> {
    let mut t = Targets::default();
    if let Some((id, _)) = scalar_i64(
        store,
        "SELECT round_id, COUNT(*) AS n FROM filings GROUP BY round_id ORDER BY n DESC, round_id LIMIT 1",
    )
    .await?
    {
        t.round = Some(id);
    }
    if let Some((id, _)) = scalar_i64(
        store,
        "SELECT institution_id, COUNT(*) AS n FROM filings GROUP BY institution_id \
         ORDER BY n DESC, institution_id LIMIT 1",
    )
    .await?
    {
        t.institution = Some(id);
    }
    if let Some((id, n)) = scalar_i64(
        store,
        "SELECT p.filing_id, COUNT(*) AS n FROM roster_entries r \
         JOIN filing_packages p ON p.id = r.package_id \
         WHERE p.filing_id IS NOT NULL AND NOT r.pending \
         GROUP BY p.filing_id ORDER BY n DESC, p.filing_id LIMIT 1",
    )
    .await?
    {
        t.class = Some(id);
        t.roster = n;
    }
    let db = store.db();
    if let Some(r) = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT code FROM certificates WHERE status = 'valid' ORDER BY id LIMIT 1",
        ))
        .await?
    {
        t.certificate = Some(r.try_get_by_index::<String>(0)?);
    }
    t.filings = scalar_i64(store, "SELECT COUNT(*), 0 FROM filings")
        .await?
        .map_or(0, |x| x.0);
    t.institutions = scalar_i64(store, "SELECT COUNT(*), 0 FROM institutions")
        .await?
        .map_or(0, |x| x.0);
    Ok(t)
}

/// How an endpoint is called.
#[derive(Clone)]
enum Auth {
    None,
    Bearer(&'static str),
    Cookie(&'static str),
}

#[derive(Clone)]
struct Endpoint {
    name: String,
    path: String,
    auth: Auth,
    /// Give every request its own client address (`X-Forwarded-For`, the server trusting
    /// 127.0.0.1): the public verification's per-address limit (R-CRT-2) then meets many
    /// visitors, as in real use, instead of one benchmark.
    many_visitors: bool,
}

fn endpoints(t: &Targets) -> Vec<Endpoint> {
    let e = |name: &str, path: String, auth: Auth| Endpoint {
        name: name.to_string(),
        path,
        auth,
        many_visitors: false,
    };
    let mut v = vec![
        e(
            "/healthz（最小接口，未登录）",
            "/healthz".into(),
            Auth::None,
        ),
        e(
            "/healthz（持令牌：会话检查）",
            "/healthz".into(),
            Auth::Bearer("centre_admin"),
        ),
        e(
            "首页 centre_admin",
            "/".into(),
            Auth::Cookie("centre_admin"),
        ),
        e(
            "首页 centre_staff",
            "/".into(),
            Auth::Cookie("centre_staff"),
        ),
        e("首页 bureau", "/".into(), Auth::Cookie("bureau")),
        e(
            "首页 inst_a_admin",
            "/".into(),
            Auth::Cookie("inst_a_admin"),
        ),
    ];
    if let Some(r) = t.round {
        v.push(e(
            "公示页 /bulletin/rounds/{r}",
            format!("/bulletin/rounds/{r}"),
            Auth::None,
        ));
        v.push(e(
            "公示 JSON /api/v1/rounds/{r}/bulletin",
            format!("/api/v1/rounds/{r}/bulletin"),
            Auth::None,
        ));
        v.push(e(
            "备案列表 /rounds/{r}/filings?page=2",
            format!("/rounds/{r}/filings?page=2"),
            Auth::Cookie("centre_admin"),
        ));
        v.push(e(
            "备案列表 JSON /api/v1/rounds/{r}/filings",
            format!("/api/v1/rounds/{r}/filings?page=2"),
            Auth::Bearer("centre_admin"),
        ));
    }
    v.push(e(
        "审核队列 /review",
        "/review".into(),
        Auth::Cookie("centre_admin"),
    ));
    v.push(e(
        "机构列表 /institutions",
        "/institutions".into(),
        Auth::Cookie("centre_admin"),
    ));
    if let Some(i) = t.institution {
        v.push(e(
            "机构页 /institutions/{i}",
            format!("/institutions/{i}"),
            Auth::Cookie("centre_admin"),
        ));
    }
    if let Some(c) = t.class {
        v.push(e(
            "班级页 /classes/{c}",
            format!("/classes/{c}"),
            Auth::Cookie("centre_admin"),
        ));
    }
    if let Some(code) = &t.certificate {
        // The register's page from the middle of the codes (keyset: no page costs more).
        let mid = &code[..code.len().min(10)];
        v.push(e(
            "证书台账 /certificates?after=…",
            format!("/certificates?after={mid}"),
            Auth::Cookie("centre_admin"),
        ));
        v.push(Endpoint {
            many_visitors: true,
            ..e(
                "证书查验 /verify?code=…",
                format!("/verify?code={code}"),
                Auth::None,
            )
        });
    }
    v
}

/// One HTTP/1.1 response off a keep-alive connection: its status and body length.
/// Handles `Content-Length` and chunked bodies.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<(u16, usize)> {
    let mut tmp = [0u8; 16384];
    let end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = s.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    buf.drain(..end + 4);
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut total = 0;
        loop {
            let line_end = loop {
                if let Some(p) = buf.windows(2).position(|w| w == b"\r\n") {
                    break p;
                }
                let n = s.read(&mut tmp).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&tmp[..n]);
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).to_string();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            let need = line_end + 2 + size + 2;
            while buf.len() < need {
                let n = s.read(&mut tmp).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            buf.drain(..need);
            total += size;
            if size == 0 {
                return Ok((status, total));
            }
        }
    }
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < len {
        let n = s.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    buf.drain(..len);
    Ok((status, len))
}

/// One request on a fresh connection (sign-in, discovery).
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr).await?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut all = Vec::new();
    s.read_to_end(&mut all).await?;
    let text = String::from_utf8_lossy(&all).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

async fn sign_in(addr: SocketAddr, user: &str, password: &str) -> anyhow::Result<String> {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    let (status, text) = request(addr, "POST", "/api/v1/auth/login", Some(&body)).await?;
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    match v.get("token").and_then(|t| t.as_str()) {
        Some(t) if status == 200 => Ok(t.to_string()),
        _ => anyhow::bail!("{user} 登录失败（HTTP {status}）：{text}"),
    }
}

struct Outcome {
    requests: u64,
    elapsed: Duration,
    statuses: BTreeMap<u16, u64>,
    latencies_us: Vec<u32>,
    bytes: u64,
}

async fn run_endpoint(
    addr: SocketAddr,
    ep: &Endpoint,
    tokens: &BTreeMap<&'static str, String>,
    conns: usize,
    warmup: Duration,
    secs: Duration,
) -> anyhow::Result<Outcome> {
    let auth_header = match &ep.auth {
        Auth::None => String::new(),
        Auth::Bearer(u) => format!("Authorization: Bearer {}\r\n", tokens[u]),
        Auth::Cookie(u) => format!(
            "Cookie: {}={}\r\n",
            peixun_server::security::SESSION_COOKIE,
            tokens[u]
        ),
    };
    let visitor = Arc::new(AtomicU64::new(1));
    let start = Instant::now();
    let measure_from = start + warmup;
    let deadline = measure_from + secs;
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let path = ep.path.clone();
        let auth_header = auth_header.clone();
        let many = ep.many_visitors;
        let visitor = visitor.clone();
        tasks.push(tokio::spawn(async move {
            let mut statuses = BTreeMap::new();
            let mut lat = Vec::new();
            let mut bytes = 0u64;
            let mut s = TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let mut buf = Vec::with_capacity(64 * 1024);
            loop {
                let t0 = Instant::now();
                if t0 >= deadline {
                    break;
                }
                let fwd = if many {
                    let n = visitor.fetch_add(1, Ordering::Relaxed);
                    format!(
                        "X-Forwarded-For: 10.{}.{}.{}\r\n",
                        (n >> 16) & 255,
                        (n >> 8) & 255,
                        n & 255
                    )
                } else {
                    String::new()
                };
                let req = format!(
                    "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth_header}{fwd}Connection: keep-alive\r\n\r\n"
                );
                s.write_all(req.as_bytes()).await?;
                let (status, len) = read_response(&mut s, &mut buf).await?;
                if t0 >= measure_from {
                    *statuses.entry(status).or_insert(0u64) += 1;
                    lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    bytes += len as u64;
                }
            }
            anyhow::Ok((statuses, lat, bytes))
        }));
    }
    let mut out = Outcome {
        requests: 0,
        elapsed: Duration::ZERO,
        statuses: BTreeMap::new(),
        latencies_us: Vec::new(),
        bytes: 0,
    };
    for t in tasks {
        let (st, lat, bytes) = t.await??;
        for (k, v) in st {
            *out.statuses.entry(k).or_insert(0) += v;
        }
        out.latencies_us.extend(lat);
        out.bytes += bytes;
    }
    out.elapsed = start.elapsed().saturating_sub(warmup);
    out.requests = out.latencies_us.len() as u64;
    out.latencies_us.sort_unstable();
    Ok(out)
}

fn percentile_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let i = ((sorted_us.len() as f64 - 1.0) * p).round() as usize;
    sorted_us[i.min(sorted_us.len() - 1)] as f64 / 1000.0
}

/// A server started by the benchmark; stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?)
}

async fn start_server(a: &BenchHttpArgs) -> anyhow::Result<(Server, SocketAddr)> {
    let addr = free_port()?;
    let exe = std::env::current_exe()?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("serve")
        .arg("--addr")
        .arg(addr.to_string())
        .arg("--data-dir")
        .arg(&a.data_dir)
        .env("PEIXUN_TRUSTED_PROXIES", "127.0.0.1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    match &a.database_url {
        Some(u) => cmd.env("PEIXUN_DATABASE_URL", u),
        None => cmd.env_remove("PEIXUN_DATABASE_URL"),
    };
    let server = Server(cmd.spawn()?);
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok((200, _)) = request(addr, "GET", "/healthz", None).await {
            return Ok((server, addr));
        }
        if Instant::now() > until {
            anyhow::bail!("服务在 120 秒内未就绪（{addr}）");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn run(a: BenchHttpArgs) -> ExitCode {
    match bench(a).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(a: BenchHttpArgs) -> anyhow::Result<()> {
    let url = peixun_store::resolve_database_url(a.database_url.as_deref(), &a.data_dir);
    let targets = {
        let store = Store::connect(&url)
            .await
            .map_err(|e| anyhow::anyhow!("无法打开数据库 {url}：{e}"))?;
        let t = pick_targets(&store).await?;
        let _ = store.close().await;
        t
    };
    let (_server, addr) = match a.server {
        Some(addr) => (None, addr),
        None => {
            let (s, addr) = start_server(&a).await?;
            (Some(s), addr)
        }
    };
    let mut tokens = BTreeMap::new();
    for user in ["centre_admin", "centre_staff", "bureau", "inst_a_admin"] {
        tokens.insert(user, sign_in(addr, user, &a.password).await?);
    }
    let eps: Vec<Endpoint> = endpoints(&targets)
        .into_iter()
        .filter(|e| a.only.is_empty() || a.only.iter().any(|o| e.name.contains(o.as_str())))
        .collect();
    println!(
        "HTTP 压测：{}，{} 家机构，{} 份备案；{} 个连接，每个接口 {} 秒（另预热 1 秒）；\
         班级 {:?} 名单 {} 人，批次 {:?}，机构 {:?}",
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        targets.institutions,
        targets.filings,
        a.conns,
        a.secs,
        targets.class,
        targets.roster,
        targets.round,
        targets.institution
    );
    println!();
    println!("| endpoint | req/s | p50 ms | p99 ms | vs minimal | KiB/resp | non-2xx |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    let mut minimal: Option<f64> = None;
    let mut all_ok = true;
    for ep in &eps {
        let o = run_endpoint(
            addr,
            ep,
            &tokens,
            a.conns,
            Duration::from_secs(1),
            Duration::from_secs_f64(a.secs),
        )
        .await?;
        let rps = o.requests as f64 / o.elapsed.as_secs_f64().max(1e-9);
        let base = *minimal.get_or_insert(rps);
        let bad: Vec<String> = o
            .statuses
            .iter()
            .filter(|(s, _)| !(200..300).contains(*s))
            .map(|(s, n)| format!("{s}×{n}"))
            .collect();
        all_ok &= bad.is_empty();
        println!(
            "| {} | {:.0} | {:.1} | {:.1} | {:.0}% | {:.1} | {} |",
            ep.name,
            rps,
            percentile_ms(&o.latencies_us, 0.50),
            percentile_ms(&o.latencies_us, 0.99),
            100.0 * rps / base,
            o.bytes as f64 / o.requests.max(1) as f64 / 1024.0,
            if bad.is_empty() {
                "—".to_string()
            } else {
                bad.join(" ")
            }
        );
    }
    if !all_ok {
        anyhow::bail!("有请求未得到 2xx 应答（见上表）");
    }
    Ok(())
}
