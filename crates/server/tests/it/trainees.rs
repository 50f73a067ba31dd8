//! A trainee's full ID number (R-PII-1, SECURITY.md S13): from the package page's roster, with a
//! reason, audited; the API likewise; never for bureau, city or another institution.

use crate::harness::{TestApp, Who};
use axum::http::Method;
use peixun_store::{Actor, Backend, PageRequest};
use serde_json::json;

#[tokio::test]
async fn r_pii_1_trainee_full_id_number_only_on_purpose_with_a_reason_and_audited() {
    let app = TestApp::new(Backend::Sqlite).await;
    let fx = crate::filing_package::Fixture::new(&app).await;
    let (t, pkg) = (fx.trainee, fx.trainee_package);
    let full = peixun_store::roster::reveal_id_number(
        &app.store,
        &Actor::system("test"),
        t,
        "测试取得对照号码",
        app.clock_now(),
    )
    .await
    .unwrap();
    // The roster on the package page: masked, with the action for those who may reveal.
    let page = app.get(&format!("/packages/{pkg}"), Who::InstAStaff).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains(&format!("/trainees/{t}/reveal")));
    assert!(!page.text().contains(&full));
    let page = app.get(&format!("/packages/{pkg}"), Who::Bureau).await;
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("/reveal"));
    assert!(!page.text().contains(&full));
    // The form; no reason: refused, nothing shown.
    let r = app
        .get(&format!("/trainees/{t}/reveal"), Who::CentreStaff)
        .await;
    assert_eq!(r.status, 200);
    assert!(!r.text().contains(&full));
    let r = app
        .post_form(
            &format!("/trainees/{t}/reveal"),
            Who::InstAStaff,
            &[("reason", " ")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.text().contains(&full));
    // Bureau, city and institution B may not, whatever the reason.
    for who in [
        Who::Bureau,
        Who::City,
        Who::InstBAdmin,
        Who::Auditor,
        Who::Sysadmin,
    ] {
        let r = app
            .post_form(&format!("/trainees/{t}/reveal"), who, &[("reason", "核对")])
            .await;
        assert_eq!(r.status, 403, "{who:?}");
        assert!(!r.text().contains(&full));
        let r = app
            .api(
                Method::POST,
                &format!("/api/v1/trainees/{t}/reveal"),
                who,
                Some(json!({ "reason": "核对" })),
            )
            .await;
        assert_eq!(r.status, 403, "{who:?}");
        assert!(!r.text().contains(&full));
    }
    // With a reason: shown once (not cached), audited with the reason.
    let r = app
        .post_form(
            &format!("/trainees/{t}/reveal"),
            Who::InstAStaff,
            &[("reason", "补贴申领核对")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains(&full));
    assert_eq!(r.header("cache-control"), "no-store");
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/trainees/{t}/reveal"),
            Who::CentreAdmin,
            Some(json!({ "reason": "核对" })),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id_number"], full.as_str());
    let log = peixun_store::audit::search(
        &app.store,
        &Actor::system("test"),
        &peixun_store::audit::AuditFilter {
            action: Some("trainee.reveal_id_number".into()),
            ..Default::default()
        },
        &PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(log.total, 3, "the test's own, the page's and the API's");
    assert!(log.items.iter().any(|e| e.username == "inst_a_staff"
        && e.new_value.as_ref().unwrap()["reason"] == "补贴申领核对"));
    assert!(
        log.items
            .iter()
            .all(|e| !e.new_value.as_ref().unwrap().to_string().contains(&full))
    );
}
