//! Restoring a SQLite backup (`peixun restore`, SECURITY.md S21; docs/OPERATIONS.md).
//!
//! [`restore_sqlite`] puts a backup made by `peixun backup` (`VACUUM INTO`) in place of the
//! database file, and refuses — changing nothing — when
//!
//! * a server may be using the database: `peixun serve` holds a shared lock on `<db>.lock`
//!   ([`ServeLock`]) for as long as it runs; restore takes the exclusive lock and keeps it until
//!   the new file is in place, so a server can neither be running nor start meanwhile. The lock
//!   is an OS file lock (`flock`), released by the kernel when a process dies: a crashed server
//!   leaves nothing to clean up;
//! * the backup fails `PRAGMA integrity_check`, is not a peixun database, or its audit chain
//!   does not verify ([`crate::audit::verify`]). The checks run on a private copy, so the
//!   backup file itself is never opened for writing, and the copy that passed is the one
//!   installed.
//!
//! The replaced database is never lost: it is renamed to `<db>.replaced-<UTC time>` beside the
//! new one (its WAL folded in first when it opens). Every file written is mode 0600. The
//! restored database gets one audit row (`system.restore`) naming the backup and its SHA-256.
//! PostgreSQL is restored with `pg_restore` (see the docs), not here.

use crate::{Actor, Result, Store, StoreError, audit};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The SQLite database file named by a `sqlite:` URL (`None` for PostgreSQL or memory).
pub fn sqlite_file_of(url: &str) -> Option<PathBuf> {
    crate::sqlite_path_from_url(url)
}

/// The lock file beside the database `db`: `<db>.lock`.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    db.with_file_name(name)
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(format!(
        "{what} {}: {e}",
        path.display()
    )))
}

fn open_lock_file(db: &Path) -> Result<File> {
    if let Some(parent) = db.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| io_err("create folder", parent, e))?;
    }
    let path = lock_path(db);
    private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_err("open lock file", &path, e))
}

fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Set a file's mode to 0600 (owner read/write only).
pub fn make_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io_err("chmod 0600", path, e))?;
    }
    Ok(())
}

/// Held by `peixun serve` while it uses a SQLite database (a shared lock: several servers may
/// share one file). Dropping it releases the lock.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

impl ServeLock {
    /// Take the shared lock of `db`; refused (`RESTORE_IN_PROGRESS`) while a restore holds it.
    pub fn acquire(db: &Path) -> Result<ServeLock> {
        let file = open_lock_file(db)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(ServeLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(StoreError::Conflict {
                code: "RESTORE_IN_PROGRESS",
                message: format!(
                    "数据库 {} 正在恢复（peixun restore），请待恢复完成后再启动",
                    db.display()
                ),
                field: None,
            }),
            Err(TryLockError::Error(e)) => Err(io_err("lock", &lock_path(db), e)),
        }
    }
}

/// Take the exclusive lock of `db` for a maintenance command that must run alone (`peixun keys
/// rotate`): refused (`SERVER_RUNNING`) while a server (or a restore) holds the database.
pub fn lock_exclusive(db: &Path) -> Result<ServeLock> {
    let file = open_lock_file(db)?;
    match file.try_lock() {
        Ok(()) => Ok(ServeLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(StoreError::Conflict {
            code: "SERVER_RUNNING",
            message: format!(
                "数据库 {} 正在被 peixun serve（或恢复）使用，请先停止服务",
                db.display()
            ),
            field: None,
        }),
        Err(TryLockError::Error(e)) => Err(io_err("lock", &lock_path(db), e)),
    }
}

fn refuse(code: &'static str, message: String) -> StoreError {
    StoreError::Validation {
        code,
        message,
        field: Some("from".into()),
    }
}

/// What the checks of a backup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupCheck {
    /// SHA-256 of the backup file, hex.
    pub sha256: String,
    /// Audit entries whose chain verified.
    pub audit_rows: u64,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOutcome {
    pub db: PathBuf,
    /// Where the replaced database was kept (none when there was no database yet).
    pub replaced: Option<PathBuf>,
    pub check: BackupCheck,
}

/// Copy `from` to a new private file `to` (0600, fsynced), returning the SHA-256 of the bytes.
fn copy_private(from: &Path, to: &Path) -> Result<String> {
    let mut src = File::open(from).map_err(|e| io_err("open", from, e))?;
    let mut dst = private_options()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| io_err("create", to, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = src.read(&mut buf).map_err(|e| io_err("read", from, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])
            .map_err(|e| io_err("write", to, e))?;
    }
    dst.sync_all().map_err(|e| io_err("fsync", to, e))?;
    Ok(hex::encode(hasher.finalize()))
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Remove a database file and its `-wal`/`-shm`/`-journal` companions (missing ones ignored).
fn remove_db_files(path: &Path) {
    for p in [
        path.to_path_buf(),
        sidecar(path, "-wal"),
        sidecar(path, "-shm"),
        sidecar(path, "-journal"),
    ] {
        let _ = std::fs::remove_file(p);
    }
}

async fn pragma_rows(store: &Store, sql: &str) -> Result<Vec<String>> {
    let rows = store
        .write_db()
        .query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            r.try_get_by_index::<String>(0)
                .or_else(|_| r.try_get_by_index::<i64>(0).map(|v| v.to_string()))
                .unwrap_or_default()
        })
        .collect())
}

/// Fold the WAL into the main file and close, so that the database is one self-contained file.
async fn checkpoint_and_close(store: Store, path: &Path) -> Result<()> {
    store
        .write_db()
        .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await?;
    store.close().await?;
    // SQLite removes both when the last connection closes; an empty WAL left behind carries
    // nothing, and the shared-memory index is rebuilt on open.
    let wal = sidecar(path, "-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() == 0) {
        let _ = std::fs::remove_file(&wal);
    }
    let _ = std::fs::remove_file(sidecar(path, "-shm"));
    Ok(())
}

/// The checks on a (private copy of a) backup: the SQLite header, `PRAGMA integrity_check`, the
/// peixun tables, the audit chain. Leaves `copy` a single closed file.
async fn check_copy(copy: &Path, sha256: String) -> Result<BackupCheck> {
    let mut header = [0u8; 16];
    let ok_header = File::open(copy)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok()
        && &header == b"SQLite format 3\0";
    if !ok_header {
        return Err(refuse(
            "RESTORE_CORRUPT",
            "备份文件不是 SQLite 数据库（文件头不符），已拒绝恢复".into(),
        ));
    }
    let store = Store::open_sqlite_file(copy).await.map_err(|e| {
        refuse(
            "RESTORE_CORRUPT",
            format!("备份文件无法打开（{e}），已拒绝恢复"),
        )
    })?;
    let result = async {
        let integrity = pragma_rows(&store, "PRAGMA integrity_check")
            .await
            .map_err(|e| {
                refuse(
                    "RESTORE_CORRUPT",
                    format!("备份文件未通过完整性检查（{e}），已拒绝恢复"),
                )
            })?;
        if integrity != ["ok"] {
            return Err(refuse(
                "RESTORE_CORRUPT",
                format!(
                    "备份文件未通过完整性检查（PRAGMA integrity_check：{}），已拒绝恢复",
                    integrity
                        .iter()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("；")
                ),
            ));
        }
        let tables = pragma_rows(
            &store,
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name IN ('audit_log', 'seaql_migrations', 'users') ORDER BY name",
        )
        .await?;
        if tables.len() != 3 {
            return Err(refuse(
                "RESTORE_NOT_PEIXUN",
                "备份文件不是 peixun 数据库（缺少审计日志、账号或迁移记录表），已拒绝恢复".into(),
            ));
        }
        match audit::verify(&store).await {
            Ok(Ok(report)) => Ok(BackupCheck {
                sha256,
                audit_rows: report.rows_checked,
            }),
            Ok(Err(brk)) => Err(refuse(
                "RESTORE_AUDIT_BROKEN",
                format!(
                    "备份中的审计日志哈希链校验失败（第一条异常记录 id {}：{}），已拒绝恢复",
                    brk.id, brk.reason
                ),
            )),
            Err(e) => Err(refuse(
                "RESTORE_AUDIT_BROKEN",
                format!("备份中的审计日志无法读取（{e}），已拒绝恢复"),
            )),
        }
    }
    .await;
    checkpoint_and_close(store, copy).await?;
    result
}

/// The checks alone, on a private copy in the system temp folder (for `--check-only` callers
/// and tests): integrity, peixun tables, audit chain.
pub async fn check_backup(from: &Path) -> Result<BackupCheck> {
    let dir = std::env::temp_dir().join(format!(
        "peixun-restore-check-{}-{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| io_err("create folder", &dir, e))?;
    let copy = dir.join("check.db");
    let r = async {
        let sha = copy_private(from, &copy)?;
        check_copy(&copy, sha).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// A free name `<db>.replaced-<time>` (with `-2`, `-3` … when taken).
fn replaced_name(db: &Path, now: DateTime<Utc>) -> PathBuf {
    let base = format!(
        "{}.replaced-{}",
        db.file_name().unwrap_or_default().to_string_lossy(),
        now.format("%Y%m%dT%H%M%SZ")
    );
    let mut candidate = db.with_file_name(&base);
    let mut n = 2;
    while candidate.exists() || sidecar(&candidate, "-wal").exists() {
        candidate = db.with_file_name(format!("{base}-{n}"));
        n += 1;
    }
    candidate
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Move the current database (and its WAL) aside as a private timestamped copy. Its WAL is
/// folded in first when the file opens, so the copy is one file; a database too damaged to open
/// is moved with its companions as they are.
async fn keep_current(db: &Path, now: DateTime<Utc>) -> Result<PathBuf> {
    if let Ok(store) = Store::open_sqlite_file(db).await {
        let _ = checkpoint_and_close(store, db).await;
    }
    let keep = replaced_name(db, now);
    std::fs::rename(db, &keep).map_err(|e| io_err("rename", db, e))?;
    make_private(&keep)?;
    for s in ["-wal", "-shm", "-journal"] {
        let from = sidecar(db, s);
        if from.exists() {
            let to = sidecar(&keep, s);
            std::fs::rename(&from, &to).map_err(|e| io_err("rename", &from, e))?;
            make_private(&to)?;
        }
    }
    Ok(keep)
}

/// Restore the SQLite database `db` from the backup `from` (see the module doc). `now` names
/// the kept copy and stamps the audit row.
pub async fn restore_sqlite(from: &Path, db: &Path, now: DateTime<Utc>) -> Result<RestoreOutcome> {
    let meta = std::fs::metadata(from).map_err(|_| {
        refuse(
            "RESTORE_SOURCE_MISSING",
            format!("备份文件不存在或无法读取：{}", from.display()),
        )
    })?;
    if !meta.is_file() {
        return Err(refuse(
            "RESTORE_SOURCE_MISSING",
            format!("备份路径不是文件：{}", from.display()),
        ));
    }
    if let (Ok(a), Ok(b)) = (from.canonicalize(), db.canonicalize())
        && a == b
    {
        return Err(refuse(
            "RESTORE_SAME_FILE",
            "备份文件就是当前数据库本身，无需恢复".into(),
        ));
    }
    // The exclusive lock first: nothing is copied or moved while a server may use the database,
    // and no server starts until the new file is in place.
    let lock = open_lock_file(db)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(StoreError::Conflict {
                code: "RESTORE_IN_USE",
                message: format!(
                    "数据库 {} 正在被运行中的服务（peixun serve）使用，已拒绝恢复；请先停止所有使用该数据库的服务",
                    db.display()
                ),
                field: None,
            });
        }
        Err(TryLockError::Error(e)) => return Err(io_err("lock", &lock_path(db), e)),
    }
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let staging = dir.join(format!(
        ".{}.restore-{}.tmp",
        db.file_name().unwrap_or_default().to_string_lossy(),
        now.timestamp_micros()
    ));
    remove_db_files(&staging);
    let checked = async {
        let sha = copy_private(from, &staging)?;
        check_copy(&staging, sha).await
    }
    .await;
    let check = match checked {
        Ok(c) => c,
        Err(e) => {
            remove_db_files(&staging);
            return Err(e);
        }
    };
    let replaced = if db.exists() {
        match keep_current(db, now).await {
            Ok(k) => Some(k),
            Err(e) => {
                remove_db_files(&staging);
                return Err(e);
            }
        }
    } else {
        None
    };
    if let Err(e) = std::fs::rename(&staging, db) {
        // Put the old database back; nothing is lost.
        if let Some(k) = &replaced {
            let _ = std::fs::rename(k, db);
            for s in ["-wal", "-shm", "-journal"] {
                let _ = std::fs::rename(sidecar(k, s), sidecar(db, s));
            }
        }
        remove_db_files(&staging);
        return Err(io_err("rename", &staging, e));
    }
    make_private(db)?;
    sync_dir(&dir);
    // On record in the restored database itself (S10): which backup, and where the old one went.
    let store = Store::open_sqlite_file(db).await?;
    let txn = store.begin_write().await?;
    audit::append(
        &txn,
        &Actor::system("restore"),
        "system.restore",
        "database",
        None,
        None,
        Some(serde_json::json!({
            "from": from.file_name().map(|n| n.to_string_lossy().into_owned()),
            "sha256": check.sha256,
            "audit_rows": check.audit_rows,
            "replaced": replaced.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()),
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    checkpoint_and_close(store, db).await?;
    drop(lock);
    Ok(RestoreOutcome {
        db: db.to_path_buf(),
        replaced,
        check,
    })
}
