//! S21 through the binary: `peixun backup`, then `peixun restore`, then `peixun audit verify`;
//! a file that is no database is refused with the current database untouched; PostgreSQL points
//! to pg_restore (and never prints the URL, which may hold a password).

mod support;

use std::path::Path;
use support::{Dir, ok, peixun, text};

fn kept_copies(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".replaced-")
        })
        .count()
}

#[test]
fn s21_backup_restore_verify_via_cli() {
    let d = Dir::new("restore");
    ok(&["migrate", "--data-dir", d.s()]);
    let backup = d.0.join("peixun-backup.db");
    ok(&[
        "backup",
        "--to",
        backup.to_str().unwrap(),
        "--data-dir",
        d.s(),
    ]);

    // A file that is no database: refused (exit 1), nothing moved.
    let junk = d.0.join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    let before = std::fs::read(d.0.join("peixun.db")).unwrap();
    let o = peixun(&[
        "restore",
        "--from",
        junk.to_str().unwrap(),
        "--data-dir",
        d.s(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("已拒绝恢复"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read(d.0.join("peixun.db")).unwrap(), before);
    assert_eq!(kept_copies(&d.0), 0);

    let out = ok(&[
        "restore",
        "--from",
        backup.to_str().unwrap(),
        "--data-dir",
        d.s(),
    ]);
    assert!(out.contains("原数据库已保留为"), "{out}");
    assert_eq!(kept_copies(&d.0), 1);
    let verified = ok(&["audit", "verify", "--data-dir", d.s()]);
    assert!(verified.contains("审计日志校验通过"), "{verified}");
}

#[test]
fn s21_postgres_restore_points_to_pg_restore() {
    let o = peixun(&[
        "restore",
        "--from",
        "/nonexistent/dump",
        "--database-url",
        "postgres://peixun:s3cret-pw@127.0.0.1:5432/peixun",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("pg_restore"), "{err}");
    assert!(err.contains("docs/OPERATIONS.md"), "{err}");
    assert!(
        !err.contains("s3cret"),
        "the URL's password is never printed"
    );
}
