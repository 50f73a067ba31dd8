//! The server under test: `peixun serve` on 127.0.0.1 (port 0, read back from its first line),
//! killed with SIGKILL; and the checks run while it is down (`peixun audit verify`, SQLite's
//! `PRAGMA integrity_check` and `foreign_key_check`).

use sea_orm::ConnectionTrait;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Where the data lives: a SQLite file in the data folder, or a fresh PostgreSQL database.
pub enum Backend {
    Sqlite,
    Postgres {
        url: String,
        _guard: peixun_store::testing::TestDbGuard,
    },
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres { .. } => "PostgreSQL",
        }
    }

    /// `--database-url` and `--data-dir` for a `peixun` command.
    pub fn db_args(&self, data: &Path) -> Vec<String> {
        let mut a = vec!["--data-dir".to_string(), data.display().to_string()];
        if let Backend::Postgres { url, .. } = self {
            a.push("--database-url".into());
            a.push(url.clone());
        }
        a
    }

    /// Exempt the writers' centre_admin account from the TOTP requirement (S4), as the test
    /// harness does for its role accounts: this harness tests crash safety, not sign-in.
    pub fn exempt_from_totp(&self, rt: &tokio::runtime::Runtime, data: &Path, username: &str) {
        rt.block_on(async {
            let store = match self {
                Backend::Sqlite => peixun_store::Store::open_sqlite_file(&data.join("peixun.db"))
                    .await
                    .expect("open the database"),
                Backend::Postgres { url, .. } => peixun_store::Store::connect(url)
                    .await
                    .expect("connect to the database"),
            };
            let u = peixun_store::accounts::find_user_by_username(&store, username)
                .await
                .expect("read the account")
                .expect("the account exists");
            peixun_store::totp::set_exempt(
                &store,
                &peixun_store::Actor::system("crash-harness"),
                u.id,
                true,
                chrono::Utc::now(),
            )
            .await
            .expect("exempt the account");
            store.close().await.expect("close");
        })
    }

    /// A fresh database on the server at `PEIXUN_TEST_PG_URL` (dropped with the backend).
    pub fn fresh_postgres(rt: &tokio::runtime::Runtime) -> Backend {
        let (store, guard) = rt.block_on(peixun_store::testing::postgres_fresh());
        rt.block_on(store.close())
            .expect("close the set-up connection");
        Backend::Postgres {
            url: guard.url().to_string(),
            _guard: guard,
        }
    }
}

/// Runs `peixun` to completion with `stdin`.
pub fn peixun(args: &[String], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_peixun"))
        .args(args)
        .env_remove("PEIXUN_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run peixun");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("peixun output")
}

/// A running (or just killed) `peixun serve`.
pub struct Server {
    child: Child,
    ready: mpsc::Receiver<u16>,
    pub spawned: Instant,
    pub log: PathBuf,
}

impl Server {
    /// Starts `peixun serve` on 127.0.0.1 port 0; its log goes to `log` (appended).
    pub fn spawn(backend: &Backend, data: &Path, log: &Path) -> Server {
        Server::spawn_with(backend, data, log, &[], &[])
    }

    /// [`Server::spawn`] with more arguments after `serve` and environment variables set.
    pub fn spawn_with(
        backend: &Backend,
        data: &Path,
        log: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut args = vec!["serve".to_string(), "--addr".into(), "127.0.0.1:0".into()];
        args.extend(backend.db_args(data));
        args.extend(extra.iter().map(|a| a.to_string()));
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("server log");
        let spawned = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_peixun"))
            .args(&args)
            .env_remove("PEIXUN_DATABASE_URL")
            .env_remove("PEIXUN_FILES")
            .env_remove("PEIXUN_DATA_KEY")
            .env_remove("PEIXUN_ROSTER_KEY")
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(err))
            .spawn()
            .expect("start peixun serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, ready) = mpsc::channel();
        // Reads the address from "peixun 已启动：http://127.0.0.1:PORT/", then keeps draining
        // (log lines go to standard output too) so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
                    let port = rest.trim_end_matches('/').parse::<u16>();
                    if let Ok(p) = port {
                        let _ = tx.send(p);
                    }
                }
            }
        });
        Server {
            child,
            ready,
            spawned,
            log: log.to_path_buf(),
        }
    }

    /// Waits until the server listens and answers `/healthz`; returns its port and how long
    /// the start took. Panics (with the log) if it exits or takes longer than `limit`.
    pub fn wait_ready(&mut self, limit: Duration) -> (u16, Duration) {
        let port = loop {
            match self.ready.recv_timeout(Duration::from_millis(50)) {
                Ok(p) => break p,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    panic!(
                        "peixun serve ended before listening ({status:?}):\n{}",
                        log_tail(&self.log)
                    );
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "peixun serve ended before listening ({status}):\n{}",
                    log_tail(&self.log)
                );
            }
            assert!(
                self.spawned.elapsed() < limit,
                "peixun serve did not listen within {limit:?}:\n{}",
                log_tail(&self.log)
            );
        };
        loop {
            if let Ok(r) = super::http::request(port, "GET", "/healthz", None, None)
                && r.status == 200
            {
                return (port, self.spawned.elapsed());
            }
            assert!(
                self.spawned.elapsed() < limit,
                "/healthz did not answer 200 within {limit:?}:\n{}",
                log_tail(&self.log)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the process to end by itself (a refused start); panics after `limit`.
    pub fn wait_exit(mut self, limit: Duration) -> std::process::ExitStatus {
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if self.spawned.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "peixun serve kept running for {limit:?}:\n{}",
                    log_tail(&self.log)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id (the `pid` in its job holder name `host:pid`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and wait until the process is gone. Panics if it had already exited (a crash
    /// of its own is a finding, not a kill).
    pub fn kill9(mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "peixun serve had exited by itself before the kill ({status}):\n{}",
                log_tail(&self.log)
            );
        }
        // SAFETY: `kill` with a pid we own (our child, not yet reaped) and a valid signal.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGKILL) };
        assert_eq!(rc, 0, "kill -9 {}", self.child.id());
        let status = self.child.wait().expect("wait for the killed server");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
    }

    /// SIGTERM: the ordinary stop (finishes requests, writes the audit anchor).
    pub fn stop(mut self) {
        // SAFETY: as in `kill9`.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let status = self.child.wait().expect("wait for the stopped server");
        assert!(status.success(), "{status}:\n{}", log_tail(&self.log));
    }
}

/// The last lines of the server log, for a failure message.
pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// `peixun audit verify` on the stopped server's data: must exit 0. Returns the audit rows.
pub fn audit_verify(backend: &Backend, data: &Path) -> u64 {
    let mut args = vec!["audit".to_string(), "verify".into()];
    args.extend(backend.db_args(data));
    let o = peixun(&args, "");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        o.status.success(),
        "audit verify failed ({}):\n{out}\n{err}",
        o.status
    );
    out.split("共 ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("row count in {out}"))
}

/// SQLite only: `PRAGMA integrity_check` says `ok` and `foreign_key_check` finds nothing.
pub fn sqlite_integrity(rt: &tokio::runtime::Runtime, db: &Path) {
    rt.block_on(async {
        let store = peixun_store::Store::open_sqlite_file(db)
            .await
            .expect("open the database");
        let rows = store
            .db()
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await
            .expect("integrity_check");
        let verdict: Vec<String> = rows
            .iter()
            .map(|r| r.try_get_by_index::<String>(0).unwrap_or_default())
            .collect();
        assert_eq!(verdict, vec!["ok".to_string()], "PRAGMA integrity_check");
        let fk = store
            .db()
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "PRAGMA foreign_key_check",
            ))
            .await
            .expect("foreign_key_check");
        assert!(fk.is_empty(), "{} foreign key violations", fk.len());
        store.close().await.expect("close");
    });
}
