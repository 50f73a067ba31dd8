//! Starting the server: logging, database, first-start bootstrap, the listener, graceful stop.

use crate::{AppState, Clock, SystemClock, router};
use anyhow::Context;
use peixun_domain::role::Role;
use peixun_store::{Actor, Store};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;

/// What `peixun serve` passes in.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    /// Where uploaded files live (`--files` / `PEIXUN_FILES`): a folder or `s3://bucket/prefix`;
    /// `None`: `<data_dir>/files`.
    pub files: Option<String>,
    /// Seed demo data into an empty database and show the demo banner.
    pub demo: bool,
    /// With `demo` only: run as if today (Beijing time) were this date (`--today`), shown in
    /// the banner, so the year can be walked through without changing the machine's clock.
    pub today: Option<chrono::NaiveDate>,
}

/// Deployment settings read from the environment (`PEIXUN_*`).
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Mark cookies `Secure` (set when served over TLS, directly or behind a proxy):
    /// `PEIXUN_SECURE_COOKIES=1`.
    pub secure_cookies: bool,
    /// The public origin (`https://peixun.example.gov.cn`) when a proxy rewrites `Host`:
    /// `PEIXUN_PUBLIC_ORIGIN`. Used by the cross-site request check (S19).
    pub public_origin: Option<String>,
    /// Public certificate verifications (R-CRT-2) one client address may make at once:
    /// `PEIXUN_VERIFY_BURST` (0: [`DEFAULT_VERIFY_BURST`]).
    pub verify_burst: u32,
    /// … and per minute after that: `PEIXUN_VERIFY_PER_MINUTE` (0: [`DEFAULT_VERIFY_PER_MINUTE`]).
    pub verify_per_minute: u32,
    /// Survey answers (R-EVA-3) one client address may post at once: `PEIXUN_SURVEY_BURST`
    /// (0: [`DEFAULT_SURVEY_BURST`]); one survey link takes twice as many.
    pub survey_burst: u32,
    /// … and per minute after that: `PEIXUN_SURVEY_PER_MINUTE` (0: [`DEFAULT_SURVEY_PER_MINUTE`]).
    pub survey_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed for the client address (audit rows,
    /// `/metrics`): `PEIXUN_TRUSTED_PROXIES=10.0.0.2,10.0.0.3`. Empty: the header is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// Client addresses that may read `/metrics`: `PEIXUN_METRICS_ALLOW` (default loopback).
    pub metrics_allow: Vec<IpAddr>,
    /// A bearer token that may read `/metrics` from anywhere: `PEIXUN_METRICS_TOKEN`.
    pub metrics_token: Option<String>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            secure_cookies: false,
            public_origin: None,
            trusted_proxies: Vec::new(),
            metrics_allow: vec![
                IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ],
            metrics_token: None,
            verify_burst: 0,
            verify_per_minute: 0,
            survey_burst: 0,
            survey_per_minute: 0,
        }
    }
}

pub const DEFAULT_VERIFY_BURST: u32 = 20;
pub const DEFAULT_VERIFY_PER_MINUTE: u32 = 30;
/// A whole class answering from one classroom network shares one address: 60 at once.
pub const DEFAULT_SURVEY_BURST: u32 = 60;
pub const DEFAULT_SURVEY_PER_MINUTE: u32 = 30;

impl AppConfig {
    /// Reads `PEIXUN_*`; an address list that does not parse stops the start (naming it).
    pub fn from_env() -> anyhow::Result<Self> {
        let flag = |k: &str| {
            std::env::var(k)
                .map(|v| matches!(v.trim(), "1" | "true" | "yes"))
                .unwrap_or(false)
        };
        let num = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<u32>().ok())
                .unwrap_or(0)
        };
        let text = |k: &str| {
            std::env::var(k)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let defaults = AppConfig::default();
        Ok(AppConfig {
            secure_cookies: flag("PEIXUN_SECURE_COOKIES"),
            public_origin: text("PEIXUN_PUBLIC_ORIGIN"),
            trusted_proxies: match text("PEIXUN_TRUSTED_PROXIES") {
                Some(v) => crate::guard::parse_ip_list("PEIXUN_TRUSTED_PROXIES", &v)?,
                None => Vec::new(),
            },
            metrics_allow: match text("PEIXUN_METRICS_ALLOW") {
                Some(v) => crate::guard::parse_ip_list("PEIXUN_METRICS_ALLOW", &v)?,
                None => defaults.metrics_allow,
            },
            metrics_token: text("PEIXUN_METRICS_TOKEN"),
            verify_burst: num("PEIXUN_VERIFY_BURST"),
            verify_per_minute: num("PEIXUN_VERIFY_PER_MINUTE"),
            survey_burst: num("PEIXUN_SURVEY_BURST"),
            survey_per_minute: num("PEIXUN_SURVEY_PER_MINUTE"),
        })
    }

    pub fn verify_burst_or_default(&self) -> u32 {
        if self.verify_burst == 0 {
            DEFAULT_VERIFY_BURST
        } else {
            self.verify_burst
        }
    }

    pub fn survey_burst_or_default(&self) -> u32 {
        if self.survey_burst == 0 {
            DEFAULT_SURVEY_BURST
        } else {
            self.survey_burst
        }
    }

    pub fn survey_per_minute_or_default(&self) -> u32 {
        if self.survey_per_minute == 0 {
            DEFAULT_SURVEY_PER_MINUTE
        } else {
            self.survey_per_minute
        }
    }

    pub fn verify_per_minute_or_default(&self) -> u32 {
        if self.verify_per_minute == 0 {
            DEFAULT_VERIFY_PER_MINUTE
        } else {
            self.verify_per_minute
        }
    }
}

/// Logs as JSON (`PEIXUN_LOG_FORMAT=json`) or human-readable; level from `RUST_LOG`.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let json = std::env::var("PEIXUN_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// A bound, not yet running server (tests bind port 0 and read [`Application::port`]).
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(state: AppState, addr: SocketAddr) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn port(&self) -> u16 {
        self.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server error")
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// `peixun serve`.
pub async fn serve(opts: ServeOptions) -> anyhow::Result<()> {
    init_tracing();
    // S15: a new data folder is the service account's alone (0700).
    peixun_store::private_fs::create_private_dir(&opts.data_dir)
        .map_err(|e| anyhow::anyhow!("data folder: {e}"))?;
    let url = peixun_store::resolve_database_url(opts.database_url.as_deref(), &opts.data_dir);
    // A SQLite database is held (shared lock on `<db>.lock`) for as long as this server runs, so
    // that `peixun restore` refuses to replace it under us, and we do not start mid-restore.
    let _serve_lock = match peixun_store::restore::sqlite_file_of(&url) {
        Some(path) => Some(
            peixun_store::restore::ServeLock::acquire(&path).map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        None => None,
    };
    let store = Store::connect(&url)
        .await
        .context("cannot open the database")?;
    store.migrate().await.context("database migration failed")?;
    let clock: Arc<dyn Clock> = match opts.today {
        Some(_) if !opts.demo => anyhow::bail!("--today is for demo mode only (serve --demo)"),
        Some(day) => Arc::new(crate::clock::ShiftedClock::today(day)),
        None => Arc::new(SystemClock),
    };
    let files = peixun_store::files::FilesLocation::resolve(opts.files.as_deref(), &opts.data_dir)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut state = AppState::new(store, clock, opts.demo, AppConfig::from_env()?)?
        .with_storage(&opts.data_dir, &files)?;
    // Issue 12 item 5: the files location answers, and this server holds the same keys as
    // every other server on the database (recorded by the first), before anything is served.
    state
        .files
        .check()
        .await
        .with_context(|| format!("files location {}", files.describe()))?;
    let keys = state.store.keys().map_err(|e| anyhow::anyhow!("{e}"))?;
    peixun_store::key_checks::verify_deployment_keys(
        &state.store,
        &keys,
        &crate::jobs::holder_name(),
        state.clock.now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(files = %files.describe(), "uploaded files location");
    // S14: rows and files from before encryption at rest (migration 000100 cannot see the key)
    // are encrypted now, before anything is served. Idempotent: nothing to do on later starts.
    let converted =
        peixun_store::at_rest::encrypt_legacy_rows(&state.store, &state.files, state.clock.now())
            .await
            .context("personal data at rest (S14)")?;
    if converted.changed() > 0 {
        tracing::info!(
            trainees = converted.trainees,
            teachers = converted.teachers,
            files = converted.files,
            "personal data encrypted at rest"
        );
    }
    state.demo_today = opts.today;
    bootstrap(&state).await.map_err(|e| match opts.today {
        // The demo's filings lie weeks around the chosen day: every year they touch needs its
        // holiday table (R-CAL-1), e.g. a January 2027 date before the 2027 table is loaded.
        Some(day) if format!("{e:#}").contains("CAL_YEAR_NOT_LOADED") => e.context(format!(
            "演示日期 {day}：演示数据用到的年度尚未载入节假日表；请先用 peixun calendar import \
             载入该年度，或选择已载入年度内的日期"
        )),
        _ => e,
    })?;
    // Background jobs (reminders, the overdue sweep): each period claimed in the database, so
    // several servers run each once (ARCHITECTURE.md "jobs").
    // S11: the audit chain's head is anchored outside the database after every job tick and at
    // shutdown (`peixun audit verify` checks it).
    let anchor = peixun_store::audit_anchor::AnchorKey::load(&opts.data_dir, true)
        .map_err(|e| anyhow::anyhow!("audit anchor key: {e}"))?
        .map(|key| crate::jobs::AuditAnchor {
            data_dir: opts.data_dir.clone(),
            key,
        });
    crate::jobs::spawn(
        state.store.clone(),
        state.files.clone(),
        state.clock.clone(),
        anchor.clone(),
    );
    let (store, clock) = (state.store.clone(), state.clock.clone());
    let app = Application::build(state, opts.addr).await?;
    let addr = app.local_addr()?;
    tracing::info!(%addr, demo = opts.demo, "peixun listening");
    println!("peixun 已启动：http://{addr}/");
    let served = app.run_until_stopped().await;
    if let Some(a) = &anchor {
        a.write(&store, clock.now()).await;
    }
    served
}

/// First start: demo data (with `--demo`, into a database without institutions), or else a
/// one-time `admin` sysadmin account when there are no users at all (S1: no default account).
/// Demo filings are filing packages: their documents go to `state.files`, their rosters are
/// keyed with `state.roster_key`.
pub async fn bootstrap(state: &AppState) -> anyhow::Result<()> {
    let store = &state.store;
    let now = state.clock.now();
    if state.demo {
        let info =
            peixun_store::demo::seed_demo(store, &state.files, &state.roster_key, now).await?;
        if info.seeded {
            println!(
                "演示数据已生成（演示环境，数据均为虚构）。演示账号的共用密码：{}",
                info.password
            );
            for (username, role) in &info.accounts {
                println!("  {username:<20} {}（{}）", role.code(), role.label_zh());
            }
        }
        return Ok(());
    }
    if peixun_store::accounts::count_users(store).await? == 0 {
        let password = one_time_password();
        peixun_store::accounts::create_user(
            store,
            &Actor::system("bootstrap"),
            peixun_store::accounts::NewUser {
                username: "admin".into(),
                display_name: "系统管理员".into(),
                role: Role::Sysadmin,
                institution_id: None,
                password: password.clone(),
                must_change_password: true,
            },
            now,
        )
        .await?;
        println!("已创建系统管理员账号 admin，一次性密码：{password}");
        println!("（只显示这一次；首次登录后须修改密码）");
    }
    Ok(())
}

/// A random password that meets the S1 rules (upper, lower, digit, symbol; 19 characters).
pub fn one_time_password() -> String {
    use rand::Rng;
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    let mut rng = rand::rng();
    let mut groups = Vec::new();
    for _ in 0..4 {
        let mut g = String::new();
        for set in [UPPER, LOWER, DIGIT, LOWER] {
            g.push(set[rng.random_range(0..set.len())] as char);
        }
        groups.push(g);
    }
    groups.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s1_one_time_passwords_meet_the_rules() {
        for _ in 0..50 {
            let p = one_time_password();
            assert!(
                peixun_store::accounts::check_password_rules("admin", &p).is_ok(),
                "{p}"
            );
        }
    }
}
