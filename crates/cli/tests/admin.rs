//! The administration commands through the binary (S1, S11): `peixun user add` reads the
//! password from standard input and refuses bad accounts naming the field; `peixun audit verify`
//! passes on an intact log and fails, naming the row, on a tampered one.

mod support;

use peixun_store::Store;
use sea_orm::ConnectionTrait;
use support::{Dir, ok, peixun, peixun_with_stdin, text};

const PASSWORD: &str = "Haizhu#Admin2026";

fn user_add(d: &Dir, username: &str, role: &str, password: &str) -> std::process::Output {
    peixun_with_stdin(
        &[
            "user",
            "add",
            "--username",
            username,
            "--role",
            role,
            "--password-stdin",
            "--data-dir",
            d.s(),
        ],
        &format!("{password}\n"),
    )
}

#[test]
fn s1_user_add_creates_an_account_and_refuses_bad_ones_naming_the_field() {
    let d = Dir::new("user-add");
    ok(&["migrate", "--data-dir", d.s()]);

    let o = user_add(&d, "zhou_officer", "centre_staff", PASSWORD);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("已创建账号 zhou_officer") && out.contains("centre_staff"),
        "{out}"
    );
    // The password never reaches the output.
    assert!(!out.contains(PASSWORD) && !text(&o.stderr).contains(PASSWORD));

    // The same username again: refused, naming the field.
    let o = user_add(&d, "zhou_officer", "centre_staff", PASSWORD);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("username"), "{}", text(&o.stderr));

    // A weak password: refused, naming the field; no account made.
    let o = user_add(&d, "weak_one", "centre_staff", "123");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("password"), "{}", text(&o.stderr));
    let o = user_add(&d, "weak_one", "centre_staff", PASSWORD);
    assert!(
        o.status.success(),
        "weak_one was not created before: {}",
        text(&o.stderr)
    );

    // An institution role needs its institution.
    let o = user_add(&d, "inst_clerk", "institution_staff", PASSWORD);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("institution"),
        "{}",
        text(&o.stderr)
    );

    // No password on standard input: exit 2, nothing made.
    let o = user_add(&d, "no_password", "auditor", "");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("没有密码"), "{}", text(&o.stderr));

    // An unknown role is a usage error (clap), exit 2.
    let o = user_add(&d, "root", "root", PASSWORD);
    assert_eq!(o.status.code(), Some(2));

    // Each account made is in the audit log, and the chain verifies.
    let v = ok(&["audit", "verify", "--data-dir", d.s()]);
    assert!(v.contains("审计日志校验通过"), "{v}");
    let rows: u64 = v
        .split("共 ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("row count in {v}"));
    assert!(rows >= 2, "two accounts created, {rows} audit rows");
}

#[test]
fn s11_audit_verify_fails_on_a_tampered_database_naming_the_row() {
    let d = Dir::new("audit-tamper");
    ok(&["migrate", "--data-dir", d.s()]);
    for (u, role) in [
        ("a_staff", "centre_staff"),
        ("b_bureau", "bureau"),
        ("c_city", "city"),
    ] {
        let o = user_add(&d, u, role, PASSWORD);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    assert!(ok(&["audit", "verify", "--data-dir", d.s()]).contains("校验通过"));

    // Someone with the file: drop the append-only trigger and change the second row.
    let db = d.0.join("peixun.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let second: i64 = rt.block_on(async {
        let store = Store::open_sqlite_file(&db).await.unwrap();
        let w = store.write_db();
        w.execute_unprepared("DROP TRIGGER audit_log_no_update")
            .await
            .unwrap();
        let row = w
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 1",
            ))
            .await
            .unwrap()
            .unwrap();
        let id: i64 = row.try_get_by_index(0).unwrap();
        w.execute_unprepared(&format!(
            "UPDATE audit_log SET username = 'someone_else' WHERE id = {id}"
        ))
        .await
        .unwrap();
        store.close().await.unwrap();
        id
    });

    let o = peixun(&["audit", "verify", "--data-dir", d.s()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    let err = text(&o.stderr);
    assert!(
        err.contains("校验失败") && err.contains(&format!("id {second}")),
        "{err}"
    );

    // A missing database is not created by verify: exit 2.
    let empty = Dir::new("audit-missing");
    let o = peixun(&["audit", "verify", "--data-dir", empty.s()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!empty.0.join("peixun.db").exists());
}

#[test]
fn serve_today_needs_demo() {
    let d = Dir::new("today");
    let o = peixun(&["serve", "--today", "2027-01-18", "--data-dir", d.s()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--demo"), "{}", text(&o.stderr));
    assert!(!d.0.join("peixun.db").exists());
    let o = peixun(&[
        "serve",
        "--demo",
        "--today",
        "2027-13-01",
        "--data-dir",
        d.s(),
    ]);
    assert_eq!(o.status.code(), Some(2), "a date that does not exist");
}
