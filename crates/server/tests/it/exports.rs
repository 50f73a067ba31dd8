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
        assert!(r.body.len() > 1000, "{path}");
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
}

both_backends!(exports_are_xlsx_and_guarded);
