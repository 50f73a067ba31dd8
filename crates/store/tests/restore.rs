//! S21: restoring a SQLite backup. A backup restores to the same data with a verifying audit
//! chain; a corrupted file, a file whose audit chain is broken, and a database a server holds are
//! refused with the current database untouched; the replaced database is kept; files are 0600.
//! SQLite only: PostgreSQL is restored with `pg_restore` (docs/OPERATIONS.md).

use chrono::{DateTime, TimeZone, Utc};
use peixun_store::institutions::{self, InstitutionInput, InstitutionStatus, Qualification};
use peixun_store::restore::{self, ServeLock};
use peixun_store::testing::TestDbGuard;
use peixun_store::{Actor, PageRequest, Store, audit};
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap()
}

fn credit_code(n: u32) -> String {
    let first17 = format!("52440105{n:09}");
    let check = peixun_domain::credit_code::check_char(&first17).unwrap();
    format!("{first17}{check}")
}

fn inst_input(n: u32) -> InstitutionInput {
    InstitutionInput {
        name: format!("广州市海珠区恢复测试{n}号职业培训学校"),
        credit_code: credit_code(n),
        confirm_checksum_warning: false,
        registered_address: format!("广州市海珠区江南大道{n}号"),
        district: None,
        contact_person: "陈海".into(),
        contact_phone: "020-84005678".into(),
        qualifications: vec![Qualification {
            occupation: "中式烹调师".into(),
            level: "中级".into(),
        }],
        major_project_capable: false,
        major_projects: vec![],
        status: InstitutionStatus::Active,
    }
}

async fn add_institutions(store: &Store, range: std::ops::Range<u32>) {
    for i in range {
        institutions::create_institution(store, &Actor::system("test"), &inst_input(i), t0())
            .await
            .unwrap();
    }
}

async fn institution_names(db: &Path) -> Vec<String> {
    let s = Store::open_sqlite_file(db).await.unwrap();
    let mut names: Vec<String> = institutions::list_institutions(
        &s,
        &Actor::system("test"),
        &Default::default(),
        &PageRequest::first(100),
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .map(|i| i.name)
    .collect();
    s.close().await.unwrap();
    names.sort();
    names
}

fn sha(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A database with 3 institutions, its backup, then 2 more institutions (so that the current
/// database differs from the backup). Returns the closed database's path and the backup.
async fn setup() -> (TestDbGuard, PathBuf, PathBuf) {
    let (store, guard) = peixun_store::testing::sqlite_temp().await;
    let db = guard.sqlite_path().unwrap();
    add_institutions(&store, 0..3).await;
    let backup = db
        .parent()
        .unwrap()
        .join("backups")
        .join("peixun-backup.db");
    store.backup_to(&backup).await.unwrap();
    add_institutions(&store, 3..5).await;
    store.close().await.unwrap();
    (guard, db, backup)
}

fn replaced_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.contains(".replaced-") || n.contains(".restore-")
        })
        .collect()
}

/// The current database's content, as a test sees it: its bytes (after the WAL was folded in by
/// the close) and its institutions.
async fn assert_untouched(db: &Path, before_sha: &str) {
    assert_eq!(sha(db), before_sha, "the current database file changed");
    assert_eq!(institution_names(db).await.len(), 5);
    assert!(replaced_files(db.parent().unwrap()).is_empty());
}

#[tokio::test]
async fn s21_backup_restore_round_trip_keeps_the_replaced_database() {
    let (_guard, db, backup) = setup().await;
    let backup_sha = sha(&backup);
    let current_names = institution_names(&db).await;
    assert_eq!(current_names.len(), 5);

    let out = restore::restore_sqlite(&backup, &db, t0()).await.unwrap();
    assert_eq!(sha(&backup), backup_sha, "the backup file is never written");
    assert_eq!(out.check.sha256, backup_sha);
    assert_eq!(out.check.audit_rows, 3);

    // The restored database holds the backup's data, and its chain verifies (+1 restore row).
    assert_eq!(institution_names(&db).await.len(), 3);
    let s = Store::open_sqlite_file(&db).await.unwrap();
    let report = audit::verify(&s).await.unwrap().unwrap();
    assert_eq!(report.rows_checked, 4);
    let last = audit::search(
        &s,
        &Actor::system("t"),
        &Default::default(),
        &PageRequest::first(1),
    )
    .await
    .unwrap()
    .items
    .remove(0);
    assert_eq!(last.action, "system.restore");
    assert_eq!(last.new_value.as_ref().unwrap()["sha256"], backup_sha);
    s.close().await.unwrap();

    // The replaced database is kept beside it, whole, as one file.
    let kept = out.replaced.expect("the old database is kept");
    assert_eq!(kept.parent(), db.parent());
    assert!(
        kept.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("peixun.db.replaced-20261203T020000Z")
    );
    assert_eq!(institution_names(&kept).await, current_names);
    #[cfg(unix)]
    {
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&kept), 0o600);
    }
    // No staging file left behind.
    let dir = db.parent().unwrap();
    assert!(std::fs::read_dir(dir).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".restore-")
    }));

    // A second restore in the same second keeps both older databases.
    let again = restore::restore_sqlite(&backup, &db, t0()).await.unwrap();
    assert_ne!(again.replaced.unwrap(), kept);
    assert!(kept.exists());
}

#[tokio::test]
async fn s21_restore_into_a_fresh_instance() {
    let (guard, _db, backup) = setup().await;
    let fresh = guard
        .sqlite_path()
        .unwrap()
        .parent()
        .unwrap()
        .join("fresh")
        .join("peixun.db");
    let out = restore::restore_sqlite(&backup, &fresh, t0())
        .await
        .unwrap();
    assert!(out.replaced.is_none());
    assert_eq!(institution_names(&fresh).await.len(), 3);
    #[cfg(unix)]
    assert_eq!(mode(&fresh), 0o600);
}

#[tokio::test]
async fn s21_corrupted_backup_is_refused_and_the_database_untouched() {
    let (_guard, db, backup) = setup().await;
    let before = sha(&db);
    // Page 3 overwritten with garbage.
    let mut bytes = std::fs::read(&backup).unwrap();
    assert!(bytes.len() > 4 * 4096);
    for b in &mut bytes[2 * 4096..3 * 4096] {
        *b = 0xA5;
    }
    let corrupt = backup.with_file_name("corrupt.db");
    std::fs::write(&corrupt, &bytes).unwrap();
    let e = restore::restore_sqlite(&corrupt, &db, t0())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "RESTORE_CORRUPT", "{e}");
    assert_untouched(&db, &before).await;

    // Not a database at all.
    let text = backup.with_file_name("notes.db");
    std::fs::write(&text, "这不是数据库".repeat(1000)).unwrap();
    let e = restore::restore_sqlite(&text, &db, t0()).await.unwrap_err();
    assert_eq!(e.code(), "RESTORE_CORRUPT", "{e}");
    // A truncated backup.
    let short = backup.with_file_name("short.db");
    std::fs::write(&short, &std::fs::read(&backup).unwrap()[..4096 + 100]).unwrap();
    let e = restore::restore_sqlite(&short, &db, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(e.code(), "RESTORE_CORRUPT" | "RESTORE_NOT_PEIXUN"),
        "{e}"
    );
    let e = restore::restore_sqlite(&backup.with_file_name("missing.db"), &db, t0())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "RESTORE_SOURCE_MISSING");
    assert_untouched(&db, &before).await;
}

#[tokio::test]
async fn s21_backup_with_a_broken_audit_chain_is_refused() {
    let (_guard, db, backup) = setup().await;
    let before = sha(&db);
    // Someone edits an audit entry in the backup (dropping the append-only trigger first).
    let tampered = backup.with_file_name("tampered.db");
    std::fs::copy(&backup, &tampered).unwrap();
    let s = Store::open_sqlite_file(&tampered).await.unwrap();
    s.write_db()
        .execute_unprepared("DROP TRIGGER audit_log_no_update")
        .await
        .unwrap();
    s.write_db()
        .execute_unprepared("UPDATE audit_log SET username = 'mallory' WHERE id = 2")
        .await
        .unwrap();
    s.close().await.unwrap();
    let e = restore::restore_sqlite(&tampered, &db, t0())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "RESTORE_AUDIT_BROKEN", "{e}");
    assert!(e.to_string().contains("id 2"), "{e}");
    assert_untouched(&db, &before).await;
}

#[tokio::test]
async fn s21_restore_is_refused_while_a_server_holds_the_database() {
    let (_guard, db, backup) = setup().await;
    let before = sha(&db);
    let serving = ServeLock::acquire(&db).unwrap();
    // A second server may share the file.
    let second = ServeLock::acquire(&db).unwrap();
    let e = restore::restore_sqlite(&backup, &db, t0())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "RESTORE_IN_USE", "{e}");
    assert_untouched(&db, &before).await;
    drop(second);
    drop(serving);
    restore::restore_sqlite(&backup, &db, t0()).await.unwrap();
    assert_eq!(institution_names(&db).await.len(), 3);
}

#[tokio::test]
async fn s21_a_server_does_not_start_during_a_restore() {
    let (_guard, db, _backup) = setup().await;
    // What restore holds while it works: the exclusive lock.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(restore::lock_path(&db))
        .or_else(|_| std::fs::File::create(restore::lock_path(&db)))
        .unwrap();
    f.try_lock().unwrap();
    let e = ServeLock::acquire(&db).unwrap_err();
    assert_eq!(e.code(), "RESTORE_IN_PROGRESS");
    drop(f);
    ServeLock::acquire(&db).unwrap();
}
