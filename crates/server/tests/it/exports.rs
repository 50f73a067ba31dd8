//! xlsx exports: a real workbook, the right content type, refused to roles that cannot read the
//! list, and audited (S10).

use crate::both_backends;
use crate::harness::{TestApp, Who};
use peixun_store::audit::AuditFilter;
use peixun_store::{Actor, Backend, PageRequest, audit};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn exports_are_xlsx_and_guarded(backend: Backend) {
    let app = TestApp::new(backend).await;
    let a = app.inst_a;
    let cases: [(String, Who, &[Who]); 4] = [
        (
            "/institutions/export.xlsx?major_only=1".into(),
            Who::City,
            &[Who::Auditor, Who::Sysadmin],
        ),
        (
            format!("/institutions/{a}/teachers/export.xlsx"),
            Who::InstAStaff,
            &[Who::InstBAdmin, Who::Auditor, Who::Sysadmin],
        ),
        (
            "/users/export.xlsx".into(),
            Who::Sysadmin,
            &[Who::CentreAdmin, Who::Auditor, Who::InstAAdmin],
        ),
        (
            "/audit/export.xlsx".into(),
            Who::Auditor,
            &[Who::Sysadmin, Who::CentreAdmin, Who::City],
        ),
    ];
    for (path, ok, refused) in &cases {
        let r = app.get(path, *ok).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert_eq!(r.header("content-type"), XLSX, "{path}");
        assert!(r.body.starts_with(b"PK"), "{path}: not a zip");
        assert!(
            r.header("content-disposition").starts_with("attachment;"),
            "{path}"
        );
        let rows = r.xlsx_rows();
        assert!(
            rows.len() >= 2,
            "{path}: header and at least one row: {rows:?}"
        );
        check_rows(path, &rows);
        for who in *refused {
            let r = app.get(path, *who).await;
            assert_eq!(r.status, 403, "{path} as {who:?}");
            assert!(!r.body.starts_with(b"PK"));
        }
        assert_eq!(app.get(path, Who::Anonymous).await.status, 303);
    }
    let exports = audit::search(
        &app.store,
        &Actor::system("test"),
        &AuditFilter {
            action: Some("export.institutions".into()),
            ..Default::default()
        },
        &PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(exports.total, 1);
    assert_eq!(exports.items[0].username, "city");

    // S10: the audit export (streamed) holds the whole log as it was when the export began,
    // newest first; its own audit row is not in it.
    app.session(Who::Auditor).await;
    let before = audit::count(&app.store).await.unwrap();
    let rows = app
        .get("/audit/export.xlsx", Who::Auditor)
        .await
        .xlsx_rows();
    assert_eq!(rows.len() as u64 - 1, before);
    let ids: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert_eq!(audit::count(&app.store).await.unwrap(), before + 1);
}

/// What each export must hold, read back from the workbook (not just its zip signature).
fn check_rows(path: &str, rows: &[Vec<String>]) {
    let all: Vec<&str> = rows.iter().flatten().map(String::as_str).collect();
    // No export ever carries a password hash.
    assert!(!all.iter().any(|c| c.contains("$argon2")), "{path}");
    if path.starts_with("/institutions/export") {
        assert_eq!(rows[0][1], "机构名称", "{path}");
        let names: Vec<&str> = rows[1..].iter().map(|r| r[1].as_str()).collect();
        assert!(names.contains(&"海珠区甲职业培训学校"), "{names:?}");
    } else if path.contains("/teachers/") {
        // R-PII-1 / S13: the ID number column is masked; the full number is nowhere.
        let full = crate::harness::citizen_id("44010519800101123");
        assert_eq!(rows[0][2], "身份证号（脱敏）");
        let li = rows[1..].iter().find(|r| r[1] == "李老师").expect("李老师");
        assert!(li[2].contains("****") && li[2] != full, "{li:?}");
        assert!(!all.iter().any(|c| c.contains(&full)), "full ID in {path}");
        assert_eq!(rows.len(), 2, "only institution A's teacher");
    } else if path.starts_with("/users/") {
        for who in [Who::CentreAdmin, Who::InstAAdmin, Who::Auditor] {
            assert!(all.contains(&who.username()), "{who:?} in {path}");
        }
    } else if path.starts_with("/audit/") {
        // The institutions created in the set-up are in the log, with their actions.
        let creates = all.iter().filter(|c| **c == "institution.create").count();
        assert!(creates >= 2, "{creates} institution.create rows: {rows:?}");
    }
}

both_backends!(exports_are_xlsx_and_guarded);

/// S18: a cell longer than Excel's 32,767 characters (a 40,000-character reason in an old row)
/// no longer fails the export: the one export helper cuts it with a visible marker, and the file
/// opens.
#[test]
fn s18_a_long_cell_is_cut_with_a_marker_and_the_file_opens() {
    use calamine::{Reader, Xlsx};
    let long = "理".repeat(40_000);
    let bytes = peixun_server::export::workbook(
        "审计日志",
        &["时间", "理由"],
        &[
            vec!["2026-12-03".into(), long],
            vec!["2026-12-04".into(), "短".into()],
        ],
    )
    .expect("a long cell does not fail the export");
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("审计日志").unwrap();
    let cell = range.get_value((1, 1)).unwrap().to_string();
    assert_eq!(cell.chars().count(), peixun_server::export::MAX_CELL_CHARS);
    assert!(
        cell.ends_with("…[已截断，原文 40000 字]"),
        "{}",
        &cell[cell.len() - 80..]
    );
    assert_eq!(range.get_value((2, 1)).unwrap().to_string(), "短");
}
