//! The public bulletin (公示, guideline 二(三), R-FIL-6): no login, nothing personal, submission
//! times to the second in Asia/Shanghai, base + rollover, and cache-friendly without going stale.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use crate::rounds::{actor_of, file, round, signed};
use axum::body::Body;
use axum::http::{Method, Request, header};
use peixun_domain::workflow::round::Half;
use peixun_store::Backend;
use peixun_store::filings;

async fn bulletin_is_public_and_holds_nothing_personal(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "公示测试", 3, false).await;
    let draft = round(&app, Half::Other, "未发布批次", 3, true).await;
    let (_, ag_a) = signed(&app, r, Who::InstAAdmin, 2).await;
    let (_, ag_b) = signed(&app, r, Who::InstBAdmin, 2).await;
    let f1 = file(&app, ag_a, Who::InstAStaff).await;
    file(&app, ag_a, Who::InstAStaff).await;
    file(&app, ag_b, Who::InstBAdmin).await;
    file(&app, ag_b, Who::InstBAdmin).await;
    filings::approve_filing(
        &app.store,
        &actor_of(&app, Who::CentreStaff),
        f1,
        app.clock_now(),
    )
    .await
    .unwrap();
    // No login: the API and the pages.
    let api = app
        .get_api(&format!("/api/v1/rounds/{r}/bulletin"), Who::Anonymous)
        .await;
    assert_eq!(api.status, 200, "{}", api.text());
    let v = api.json();
    assert_eq!(v["planned_total"], 3);
    assert_eq!(v["base_planned"], 3);
    assert_eq!(v["rolled_over"], 0);
    assert_eq!(v["granted"], 3);
    assert_eq!(v["remaining"], 0);
    assert_eq!(v["waiting"], 1);
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    let labels: Vec<&str> = entries
        .iter()
        .map(|e| e["status_label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["已批复", "占用名额", "占用名额", "候补"]);
    // To the second, Beijing time (the clock is 2026-03-02 02:00 UTC = 10:00 CST).
    assert_eq!(entries[0]["submitted_at"], "2026-03-02 10:00:00");
    let a_row = v["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["institution_name"] == "海珠区甲职业培训学校")
        .unwrap()
        .clone();
    assert_eq!(a_row["approved"], 1);
    // Nothing personal: no user names, no people, no teacher ID numbers, no contact person.
    let text = api.text();
    for needle in [
        "inst_a_staff",
        "inst_b_admin",
        "centre_staff",
        "created_by",
        "陈主任",
        "020-84001234",
        "李老师",
        "440105",
    ] {
        assert!(!text.contains(needle), "bulletin leaks {needle}: {text}");
    }
    for path in ["/bulletin".to_string(), format!("/bulletin/rounds/{r}")] {
        let page = app.get(&path, Who::Anonymous).await;
        assert_eq!(page.status, 200, "{path}");
        let html = page.text();
        assert!(html.contains("公示测试"), "{path}");
        for needle in ["inst_a_staff", "陈主任", "李老师"] {
            assert!(!html.contains(needle), "{path} leaks {needle}");
        }
    }
    let page = app
        .get(&format!("/bulletin/rounds/{r}"), Who::Anonymous)
        .await
        .text();
    assert!(
        page.contains("2026-03-02 10:00:00") && page.contains("候补") && page.contains("已批复")
    );
    // Drafts are not public.
    assert!(
        !app.get("/bulletin", Who::Anonymous)
            .await
            .text()
            .contains("未发布批次")
    );
    assert_eq!(
        app.get_api(&format!("/api/v1/rounds/{draft}/bulletin"), Who::Anonymous)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get_api("/api/v1/bulletin", Who::Anonymous)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The export needs no login either.
    let x = app
        .get(&format!("/bulletin/rounds/{r}/export.xlsx"), Who::Anonymous)
        .await;
    assert_eq!(x.status, 200);
    assert!(x.header("content-type").contains("spreadsheetml"));
}

/// `no-cache` + ETag: a client revalidates every time and gets 304 while nothing changed, and
/// the new content as soon as anything did (never stale).
async fn bulletin_is_cache_friendly_but_never_stale(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "缓存测试", 3, false).await;
    let (_, ag) = signed(&app, r, Who::InstAAdmin, 2).await;
    for path in [
        format!("/api/v1/rounds/{r}/bulletin"),
        format!("/bulletin/rounds/{r}"),
    ] {
        let first = app.get(&path, Who::Anonymous).await;
        assert_eq!(first.header("cache-control"), "public, no-cache", "{path}");
        let etag = first.header("etag").to_string();
        assert!(etag.starts_with('"'));
        let cond = |etag: String| {
            Request::builder()
                .method(Method::GET)
                .uri(path.clone())
                .header(header::IF_NONE_MATCH, etag)
                .body(Body::empty())
                .unwrap()
        };
        let again = app.send(cond(etag.clone())).await;
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        file(&app, ag, Who::InstAStaff).await;
        let after = app.send(cond(etag.clone())).await;
        assert_eq!(after.status, 200, "{path}: a change shows at once");
        assert_ne!(after.header("etag"), etag);
    }
    // Other pages stay no-store (S19).
    let p = app.get(&format!("/rounds/{r}"), Who::CentreStaff).await;
    assert_eq!(p.header("cache-control"), "no-store");
}

both_backends!(
    bulletin_is_public_and_holds_nothing_personal,
    bulletin_is_cache_friendly_but_never_stale,
);
