//! peixun persistence: schema, migrations (one set for SQLite and PostgreSQL), services that run
//! one transaction each (load → validate with `peixun_domain` → write → audit), and the audit log.
//!
//! # Write serialisation (ARCHITECTURE.md "Concurrency", SECURITY.md S9/S11)
//!
//! * **SQLite** has one writer. A [`Store`] on SQLite holds two pools on the same file: a reader
//!   pool (several connections, WAL lets them read while a write is in progress) and a **writer
//!   pool with exactly one connection**. Every write transaction is taken from the writer pool and
//!   opened with `BEGIN IMMEDIATE`, so it holds the write lock from its first statement: writers
//!   queue in the pool (in-process) or on `busy_timeout` (another process), and never fail with
//!   `SQLITE_BUSY` half-way through a transaction. Every connection runs with `journal_mode=WAL`,
//!   `synchronous=FULL`, `foreign_keys=ON`, `busy_timeout=30s` (S20) and `secure_delete=ON`
//!   (S14/S15: deleted or overwritten content is zeroed, not left in free pages).
//! * **Personal data** (S14): the keys live outside the database and are installed on the store
//!   at start-up ([`Store::set_keys`], [`pii::Keys`]); services that write or reveal ID numbers
//!   take them from there ([`Store::keys`]), and fail cleanly when none were installed.
//! * **PostgreSQL** uses one pool. Appending to the audit log takes a transaction-scoped advisory
//!   lock (`pg_advisory_xact_lock`) before reading the chain head, so two concurrent writers can
//!   never fork the hash chain; the lock is released at commit. Migrations take another advisory
//!   lock so that several servers starting at once migrate exactly once.
//!
//! Timestamps are stored in UTC, truncated to microseconds (the precision PostgreSQL keeps), and
//! normalised to `DateTime<Utc>` when read.

pub mod accounts;
pub mod agreements;
pub mod archive;
pub mod at_rest;
pub mod attendance;
pub mod audit;
pub mod audit_anchor;
pub mod bench;
pub mod bulletin;
pub mod calendar;
pub mod certificate_register;
pub mod certificates;
mod checks;
pub mod credentials;
pub mod demo;
pub mod demo_archive;
pub mod demo_certificates;
pub mod demo_evaluations;
pub mod demo_packages;
pub mod demo_running;
pub mod demo_surveys;
pub mod demo_violations;
pub mod entity;
pub mod evaluations;
pub mod file_sweep;
pub mod files;
pub mod files_location;
pub mod filing_package;
pub mod filings;
mod group_commit;
pub mod inbox;
pub mod inspections;
pub mod institutions;
pub mod jobs;
pub mod jobs_admin;
pub mod key_checks;
pub mod migration;
pub mod overdue;
pub mod package_checks;
pub mod package_gate;
pub mod pii;
pub mod plans;
pub mod policies;
pub mod private_fs;
pub mod queue;
pub mod ready_package;
pub mod reports;
pub mod requests;
pub mod restore;
pub mod results;
pub mod review;
pub mod roster;
pub mod rounds;
pub mod running;
pub mod seed_scale;
pub mod sessions;
pub mod surveys;
pub mod teachers;
pub mod termination;
pub mod testing;
pub mod totp;
pub mod violations;
pub mod violations_confirm;
mod workflow_glue;
pub mod worklist;

use chrono::{DateTime, Timelike, Utc};
use peixun_domain::role::Role;
use sea_orm::sqlx;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use sea_orm::DatabaseConnection as Db;

/// The advisory-lock key under which migrations run on PostgreSQL ("peixun" + 1).
const PG_MIGRATE_LOCK: i64 = 0x7065_6978_756e_0001;

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The handle every service takes. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    read: DatabaseConnection,
    write: DatabaseConnection,
    backend: Backend,
    /// The keys of personal data (S14), shared by every clone: set once at start-up
    /// ([`Store::set_keys`]); services that encrypt or hash ID numbers read them.
    keys: std::sync::Arc<std::sync::RwLock<Option<pii::Keys>>>,
    /// The queue's submissions share write transactions ([`group_commit`]).
    group_commit: std::sync::Arc<group_commit::GroupCommit>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the URL: it may carry a password.
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Errors of the store and its services. `message` is Chinese and safe to show to the user.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("未找到 {entity}")]
    NotFound { entity: &'static str },
    #[error("{code}: {message}")]
    Validation {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// Several problems with one input, all found at once (R-VAL-1): the form shows every one
    /// beside its field. Built by [`StoreError::check`] / [`Problems::finish`], which keep a
    /// single problem a [`StoreError::Validation`], so this always holds two or more.
    #[error("{}", join_problems(.problems))]
    Invalid { problems: Vec<FieldProblem> },
    #[error("{code}: {message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("无权访问: {message}")]
    Forbidden { message: String },
    #[error("账号已锁定至 {until}")]
    Locked { until: DateTime<Utc> },
    #[error("数据库错误: {0}")]
    Db(#[from] DbErr),
}

/// One problem with one input field (R-VAL-1). `message` is Chinese and names the field and the
/// rule; `field` is the input's name (`qualifications[2]` for a row of a list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl FieldProblem {
    pub fn new(code: &'static str, message: impl Into<String>, field: &str) -> Self {
        FieldProblem {
            code,
            message: message.into(),
            field: Some(field.to_string()),
        }
    }
}

impl From<peixun_domain::text::TextProblem> for FieldProblem {
    fn from(p: peixun_domain::text::TextProblem) -> Self {
        FieldProblem {
            code: p.code,
            message: p.message,
            field: Some(p.field),
        }
    }
}

impl From<peixun_domain::text::TextProblem> for StoreError {
    fn from(p: peixun_domain::text::TextProblem) -> Self {
        StoreError::from_problems(vec![p.into()])
    }
}

fn join_problems(problems: &[FieldProblem]) -> String {
    let parts: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.code, p.message))
        .collect();
    parts.join("；")
}

/// Collects every problem with an input before answering (R-VAL-1):
///
/// ```ignore
/// let mut p = Problems::default();
/// let name = p.take(required(&input.name, "name", "机构名称", 100)).unwrap_or_default();
/// p.push(FieldProblem::new("PHONE_INVALID", "…", "contact_phone"));
/// p.finish()?; // values read above are all valid past this line
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Problems(Vec<FieldProblem>);

impl Problems {
    pub fn push(&mut self, p: FieldProblem) {
        self.0.push(p);
    }
    /// The value, or `None` with the problem recorded.
    pub fn take<T>(&mut self, r: std::result::Result<T, FieldProblem>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(p) => {
                self.0.push(p);
                None
            }
        }
    }
    pub fn extend(&mut self, ps: impl IntoIterator<Item = FieldProblem>) {
        self.0.extend(ps);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn into_vec(self) -> Vec<FieldProblem> {
        self.0
    }
    /// `Ok(())` when nothing was found, else every problem (see [`StoreError::check`]).
    pub fn finish(self) -> Result<()> {
        StoreError::check(self.0)
    }
}

impl StoreError {
    /// Every problem found in one input: `Ok(())` when there is none, a [`StoreError::Validation`]
    /// for exactly one (what single-field callers and tests match on), else
    /// [`StoreError::Invalid`] with all of them in input order.
    pub fn check(problems: Vec<FieldProblem>) -> Result<()> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(StoreError::from_problems(problems))
        }
    }

    /// The error for problems already found (at least one): a `Validation` for one, else
    /// `Invalid`.
    pub fn from_problems(mut problems: Vec<FieldProblem>) -> StoreError {
        if problems.len() == 1 {
            let p = problems.remove(0);
            StoreError::Validation {
                code: p.code,
                message: p.message,
                field: p.field,
            }
        } else {
            StoreError::Invalid { problems }
        }
    }

    /// The problems of a `Validation` (one) or `Invalid` (all); empty for other errors.
    pub fn problems(&self) -> Vec<FieldProblem> {
        match self {
            StoreError::Validation {
                code,
                message,
                field,
            } => vec![FieldProblem {
                code,
                message: message.clone(),
                field: field.clone(),
            }],
            StoreError::Invalid { problems } => problems.clone(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn validation(code: &'static str, message: impl Into<String>, field: &str) -> Self {
        StoreError::Validation {
            code,
            message: message.into(),
            field: Some(field.to_string()),
        }
    }
    pub(crate) fn conflict(code: &'static str, message: impl Into<String>, field: &str) -> Self {
        StoreError::Conflict {
            code,
            message: message.into(),
            field: Some(field.to_string()),
        }
    }
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        StoreError::Forbidden {
            message: message.into(),
        }
    }
    /// The stable code for the API body (`{code, message, field}`); for `Invalid` the first
    /// problem's.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound { .. } => "NOT_FOUND",
            StoreError::Validation { code, .. } | StoreError::Conflict { code, .. } => code,
            // The first problem's code, as in the API body's `code`.
            StoreError::Invalid { problems } => problems.first().map_or("VALIDATION", |p| p.code),
            StoreError::Forbidden { .. } => "FORBIDDEN",
            StoreError::Locked { .. } => "ACCOUNT_LOCKED",
            StoreError::Db(_) => "INTERNAL",
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who does something. Every service takes one and writes it into the audit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
    /// `None` for the system (CLI, jobs, demo seed).
    pub role: Option<Role>,
    pub institution_id: Option<i64>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    /// The CLI, background jobs, the demo seed.
    pub fn system(name: &str) -> Actor {
        Actor {
            user_id: None,
            username: name.to_string(),
            role: None,
            institution_id: None,
            ip: None,
            request_id: None,
        }
    }

    /// A logged-in user.
    pub fn from_user(
        user: &accounts::UserView,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> Actor {
        Actor {
            user_id: Some(user.id),
            username: user.username.clone(),
            role: Some(user.role),
            institution_id: user.institution_id,
            ip,
            request_id,
        }
    }

    /// The system itself (no role): CLI, jobs, seed.
    pub fn is_system(&self) -> bool {
        self.role.is_none() && self.user_id.is_none()
    }
}

/// A page request: keyset (`after_id`) or numbered (`page`, 1-based). Keyset wins when both are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub after_id: Option<i64>,
    pub page: Option<u64>,
    pub per_page: u64,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            after_id: None,
            page: None,
            per_page: 50,
        }
    }
}

impl PageRequest {
    pub const MAX_PER_PAGE: u64 = 500;
    pub fn first(per_page: u64) -> Self {
        PageRequest {
            per_page,
            ..Default::default()
        }
    }
    pub(crate) fn limit(&self) -> u64 {
        self.per_page.clamp(1, Self::MAX_PER_PAGE)
    }
    /// The highest page number a request may ask for (the server answers 422 beyond it).
    pub const MAX_PAGE: u64 = 1_000_000;
    /// Rows to skip. Never overflows: a page past [`Self::MAX_PAGE`] counts as that page (the
    /// server refuses such requests before they get here; this guards other callers).
    pub(crate) fn offset(&self) -> u64 {
        match (self.after_id, self.page) {
            (None, Some(p)) if p > 1 => (p.min(Self::MAX_PAGE) - 1) * self.limit(),
            _ => 0,
        }
    }
}

/// One page of a list, ordered by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Rows matching the filter (all pages).
    pub total: u64,
    /// Pass as `after_id` for the next page; `None` on the last page.
    pub next_after_id: Option<i64>,
    pub per_page: u64,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            next_after_id: self.next_after_id,
            per_page: self.per_page,
        }
    }
}

/// Database URL resolution shared by `serve` and the CLI: the flag, then `PEIXUN_DATABASE_URL`
/// (clap reads the env into the flag, but it is checked here too), then `<data_dir>/peixun.db`.
pub fn resolve_database_url(url: Option<&str>, data_dir: &Path) -> String {
    if let Some(u) = url.map(str::trim).filter(|u| !u.is_empty()) {
        return u.to_string();
    }
    if let Ok(u) = std::env::var("PEIXUN_DATABASE_URL")
        && !u.trim().is_empty()
    {
        return u.trim().to_string();
    }
    let path = data_dir.join("peixun.db");
    let abs = if path.is_absolute() {
        path
    } else {
        std::env::current_dir()
            .map(|d| d.join(&path))
            .unwrap_or(path)
    };
    format!("sqlite://{}?mode=rwc", abs.display())
}

/// Truncate to microseconds: what PostgreSQL stores, so that what we hash is what we read back.
pub(crate) fn db_time(t: DateTime<Utc>) -> DateTime<Utc> {
    let micros = t.nanosecond() / 1_000 * 1_000;
    t.with_nanosecond(micros).unwrap_or(t)
}

fn sqlite_path_from_url(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    Some(PathBuf::from(path))
}

impl Store {
    /// Connect to `sqlite:///abs/path.db`, `sqlite://rel.db?mode=rwc` or `postgres://…`.
    /// A SQLite file (and its folder) is created when missing.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut opt = ConnectOptions::new(url.to_string());
            opt.max_connections(16)
                .min_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .sqlx_logging(false);
            let db = Database::connect(opt).await?;
            return Ok(Store {
                read: db.clone(),
                write: db,
                backend: Backend::Postgres,
                keys: Default::default(),
                group_commit: Default::default(),
            });
        }
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Validation {
                code: "DB_URL",
                message: "数据库地址须以 sqlite: 或 postgres:// 开头".into(),
                field: Some("database_url".into()),
            });
        }
        let path = sqlite_path_from_url(url).ok_or_else(|| StoreError::Validation {
            code: "DB_URL",
            message: "SQLite 须使用数据库文件（不支持内存数据库）".into(),
            field: Some("database_url".into()),
        })?;
        // S15: a new data folder is 0700 and a new database file 0600 (its WAL and shm files
        // follow the database file's mode).
        private_fs::create_private_file(&path)?;
        let read = Self::sqlite_pool(&path, 4).await?;
        let write = Self::sqlite_pool(&path, 1).await?;
        Ok(Store {
            read,
            write,
            backend: Backend::Sqlite,
            keys: Default::default(),
            group_commit: Default::default(),
        })
    }

    async fn sqlite_pool(path: &Path, max: u32) -> Result<DatabaseConnection> {
        use sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        let mut opt = ConnectOptions::new(format!("sqlite://{}?mode=rwc", path.display()));
        let file = path.to_path_buf();
        opt.max_connections(max)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(120))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(move |o| {
                o.filename(&file)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(30))
                    // S14/S15: deleted and overwritten content (e.g. a plaintext ID number
                    // replaced by its ciphertext) is zeroed, not left in free pages.
                    .pragma("secure_delete", "ON")
            });
        Ok(Database::connect(opt).await?)
    }

    /// Open (creating folder and file) a SQLite database file.
    pub async fn open_sqlite_file(path: &Path) -> Result<Store> {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| StoreError::Db(DbErr::Custom(e.to_string())))?
                .join(path)
        };
        Self::connect(&format!("sqlite://{}?mode=rwc", abs.display())).await
    }

    /// Apply pending migrations. Idempotent; safe when several servers start at once
    /// (PostgreSQL: advisory lock; SQLite: `BEGIN IMMEDIATE`).
    pub async fn migrate(&self) -> Result<()> {
        let txn = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PG_MIGRATE_LOCK})"))
                .await?;
        }
        migration::Migrator::up(&txn, None).await?;
        calendar::seed_builtin(&txn, Utc::now()).await?;
        txn.commit().await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Install the personal-data keys (S14) for this store and all its clones.
    pub fn set_keys(&self, keys: pii::Keys) {
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(keys);
    }

    /// Whether keys are installed.
    pub fn has_keys(&self) -> bool {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// The personal-data keys; an error (never a silent plaintext) when none were installed.
    pub fn keys(&self) -> Result<pii::Keys> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| {
                StoreError::Db(DbErr::Custom(
                    "数据密钥未配置（data.key / PEIXUN_DATA_KEY）：不能读写身份证件号码".into(),
                ))
            })
    }

    /// The reading connection (for tests and services).
    pub fn db(&self) -> &DatabaseConnection {
        &self.read
    }

    /// The writing connection (on SQLite the single-connection writer pool).
    pub fn write_db(&self) -> &DatabaseConnection {
        &self.write
    }

    /// Begin a write transaction: `BEGIN IMMEDIATE` on the writer connection (SQLite), a plain
    /// transaction on PostgreSQL.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        match self.backend {
            Backend::Sqlite => {
                self.write
                    .begin_with_options(TransactionOptions {
                        isolation_level: None,
                        access_mode: None,
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    })
                    .await
            }
            Backend::Postgres => self.write.begin().await,
        }
    }

    /// An online, consistent copy of a SQLite database into a new file `dest` (`VACUUM INTO`),
    /// taken while the server serves (SECURITY.md S21). PostgreSQL is backed up with `pg_dump`
    /// (see docs), so this refuses it.
    pub async fn backup_to(&self, dest: &Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Validation {
                code: "BACKUP_PG",
                message: "PostgreSQL 请使用 pg_dump 备份".into(),
                field: None,
            });
        }
        if dest.exists() {
            return Err(StoreError::Validation {
                code: "BACKUP_EXISTS",
                message: format!("备份文件已存在：{}", dest.display()),
                field: Some("to".into()),
            });
        }
        // S21: the backup is created empty as 0600 (in a 0700 folder when new); `VACUUM INTO`
        // accepts an empty file and keeps its mode.
        let dest_path = dest;
        let dest = dest.to_str().ok_or_else(|| StoreError::Validation {
            code: "BACKUP_PATH",
            message: "备份路径须为 UTF-8".into(),
            field: Some("to".into()),
        })?;
        private_fs::create_private_file(dest_path)?;
        if let Err(e) = self
            .read
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "VACUUM INTO ?",
                [dest.into()],
            ))
            .await
        {
            let _ = std::fs::remove_file(dest_path);
            return Err(e.into());
        }
        Ok(())
    }

    /// Close the pools.
    pub async fn close(self) -> Result<()> {
        self.read.close_by_ref().await?;
        if self.backend == Backend::Sqlite {
            self.write.close_by_ref().await?;
        }
        Ok(())
    }
}

/// Map a unique-constraint violation to `Conflict`, everything else to `Db`.
pub(crate) fn map_unique(e: DbErr, code: &'static str, message: &str, field: &str) -> StoreError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            StoreError::conflict(code, message, field)
        }
        _ => StoreError::Db(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_resolution_prefers_flag_then_file() {
        assert_eq!(
            resolve_database_url(Some("postgres://x/y"), Path::new("/d")),
            "postgres://x/y"
        );
        if std::env::var("PEIXUN_DATABASE_URL").is_err() {
            assert_eq!(
                resolve_database_url(None, Path::new("/d")),
                "sqlite:///d/peixun.db?mode=rwc"
            );
        }
        assert_eq!(
            sqlite_path_from_url("sqlite:///a/b.db?mode=rwc"),
            Some(PathBuf::from("/a/b.db"))
        );
        assert_eq!(
            sqlite_path_from_url("sqlite://rel.db"),
            Some(PathBuf::from("rel.db"))
        );
    }
}
