//! The holiday calendar over HTTP (R-CAL-1): the sysadmin's page shows every problem beside its
//! line and saves nothing, previews a good file as month calendars, saves it; the API does the
//! same; the centre's and sysadmin's home pages warn from 1 November while next year is missing.
//! The 2027 table here is a test fixture, not the State Council's notice.

use crate::both_backends;
use crate::filing_package::post_multipart;
use crate::harness::{TestApp, Who};
use axum::http::Method;
use chrono::{TimeZone, Utc};
use serde_json::{Value as J, json};

const FIXTURE_2027: &str = "[[year]]
year = 2027
source = \"测试用表（非国务院办公厅通知）\"
working_days = [\"2027-02-20\"]

[[year.off]]
name = \"春节\"
from = 2027-02-06
to = \"2027-02-12\"
";

/// Two problems on line 4: a Wednesday listed as 调休上班, and a day inside 春节.
const BAD_2027: &str = "[[year]]
year = 2027
source = \"x\"
working_days = [\"2027-03-03\", \"2027-02-07\"]

[[year.off]]
name = \"春节\"
from = 2027-02-06
to = 2027-02-12
";

pub(crate) fn template_sample(name: &str, xss: &str, errs: &J, field_errs: &J) -> Option<J> {
    let months = json!([{ "name": "1月", "weeks": [[null, null, null, null,
        { "day": 1, "kind": "holiday", "title": xss }, { "day": 2, "kind": "weekend", "title": "" },
        { "day": 3, "kind": "adjusted", "title": "" }]] }]);
    let table = json!({ "year": 2027, "source": xss, "off": [{ "name": xss, "from": "2027-01-01", "to": "2027-01-03", "days": 3 }],
        "working_days": ["2027-02-20"], "months": months });
    Some(match name {
        "calendar.html" => json!({
            "years": [{ "year": 2027, "source": xss, "builtin": false, "loaded_by": "sysadmin", "loaded_at": "2026-12-03 10:00",
                "reason": xss, "holiday_days": 3, "adjusted_working_days": 1, "working_days_in_year": 249, "current": true }],
            "shown": table, "missing": 2028, "can_load": true }),
        "calendar_import.html" => json!({
            "text": xss, "reason": xss, "previewed": true, "ok": true, "reason_required": true,
            "lines": [{ "no": 4, "text": xss, "problems": [xss] }], "general": [xss],
            "years": [{ "table": table, "change": "替换已载入的安排", "replace": true, "used": true,
                "moved": [{ "kind": "开班备案截止日", "filing_id": 3, "label": xss, "date": "2027-01-18", "old": "2027-01-04", "new": "2026-12-30" }] }],
            "example": xss, "errors": errs, "field_errors": field_errs }),
        _ => return None,
    })
}

async fn r_cal_1_sysadmin_page_checks_every_line_previews_then_saves(
    backend: peixun_store::Backend,
) {
    let app = TestApp::new(backend).await;
    let form = app.get("/calendar/import", Who::Sysadmin).await;
    assert_eq!(form.status.as_u16(), 200);
    assert!(form.text().contains("节假日表（TOML）"));

    // A file with two problems: 422, each beside line 4, nothing saved.
    let r = post_multipart(
        &app,
        "/calendar/import",
        Who::Sysadmin,
        &[("toml", BAD_2027), ("action", "save")],
        None,
    )
    .await;
    assert_eq!(r.status.as_u16(), 422);
    let html = r.text();
    assert!(html.contains("未通过检查，未作任何保存"), "{html}");
    assert_eq!(html.matches("第4行：").count(), 2, "{html}");
    assert!(html.contains("2027-03-03") && html.contains("不是周六或周日"));
    let years = app
        .get_api("/api/v1/calendar/years", Who::CentreStaff)
        .await;
    assert_eq!(years.json()["years"].as_array().unwrap().len(), 2);

    // Uploaded as a file: previewed as month calendars with a save button.
    let r = post_multipart(
        &app,
        "/calendar/import",
        Who::Sysadmin,
        &[("toml", ""), ("action", "preview")],
        Some(("file", "2027.toml", FIXTURE_2027.as_bytes())),
    )
    .await;
    assert_eq!(r.status.as_u16(), 200);
    let html = r.text();
    assert!(html.contains("2027年 · 新载入"), "{html}");
    assert!(html.contains("2027年2月"));
    assert!(html.contains(r#"class="day holiday" title="2027-02-08 春节（放假）""#));
    assert!(html.contains(r#"class="day adjusted" title="2027-02-20 调休上班""#));
    assert!(html.contains(r#"value="save""#));

    // Saved: redirected to the year, which everyone signed in can read.
    let r = post_multipart(
        &app,
        "/calendar/import",
        Who::Sysadmin,
        &[("toml", FIXTURE_2027), ("action", "save")],
        None,
    )
    .await;
    assert_eq!(r.status.as_u16(), 303);
    assert_eq!(r.header("location"), "/calendar?year=2027&saved=loaded");
    let page = app.get("/calendar?year=2027", Who::InstAStaff).await;
    assert_eq!(page.status.as_u16(), 200);
    let html = page.text();
    assert!(html.contains("测试用表（非国务院办公厅通知）"));
    assert!(html.contains("2027年12月"));
    assert!(
        !html.contains("载入或替换年度安排"),
        "only the sysadmin loads"
    );
    let y = app.get_api("/api/v1/calendar/years/2027", Who::City).await;
    assert_eq!(y.status.as_u16(), 200);
    assert_eq!(y.json()["table"]["working_days"][0], "2027-02-20");
}

async fn r_cal_1_api_preview_and_import(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let p = app
        .api(
            Method::POST,
            "/api/v1/calendar/preview",
            Who::Sysadmin,
            Some(json!({ "toml": BAD_2027 })),
        )
        .await;
    assert_eq!(p.status.as_u16(), 200);
    let problems = p.json()["problems"].as_array().unwrap().clone();
    assert_eq!(problems.len(), 2);
    assert_eq!(problems[0]["line"], 4);

    let bad = app
        .api(
            Method::POST,
            "/api/v1/calendar/import",
            Who::Sysadmin,
            Some(json!({ "toml": BAD_2027 })),
        )
        .await;
    assert_eq!(bad.status.as_u16(), 422);
    let body = bad.json();
    assert_eq!(body["code"], "CAL_INVALID");
    assert_eq!(body["field"], "toml");
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);

    let denied = app
        .api(
            Method::POST,
            "/api/v1/calendar/import",
            Who::CentreAdmin,
            Some(json!({ "toml": FIXTURE_2027 })),
        )
        .await;
    assert_eq!(denied.status.as_u16(), 403);

    let ok = app
        .api(
            Method::POST,
            "/api/v1/calendar/import",
            Who::Sysadmin,
            Some(json!({ "toml": FIXTURE_2027 })),
        )
        .await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.text());
    assert_eq!(ok.json()["loaded"], json!([2027]));
    let years = app
        .get_api("/api/v1/calendar/years", Who::Bureau)
        .await
        .json();
    assert_eq!(years["years"].as_array().unwrap().len(), 3);
}

async fn r_cal_1_home_pages_warn_from_1_november_while_next_year_is_missing(
    backend: peixun_store::Backend,
) {
    let app = TestApp::new(backend).await;
    // 2026-10-31 (Asia/Shanghai): no warning yet.
    app.set_clock(Utc.with_ymd_and_hms(2026, 10, 31, 2, 0, 0).unwrap());
    let home = app.get("/", Who::CentreAdmin).await.text();
    assert!(!home.contains("节假日安排尚未载入"));
    // 2026-11-01: the centre and the sysadmin are warned; institutions are not.
    app.set_clock(Utc.with_ymd_and_hms(2026, 11, 1, 2, 0, 0).unwrap());
    for who in [Who::CentreAdmin, Who::CentreStaff] {
        let home = app.get("/", who).await.text();
        assert!(home.contains("2027年的节假日安排尚未载入"), "{who:?}");
        assert!(home.contains("请联系系统管理员载入"), "{who:?}");
    }
    let home = app.get("/", Who::Sysadmin).await.text();
    assert!(home.contains(r#"<a href="/calendar/import">载入2027年的安排</a>"#));
    let home = app.get("/", Who::InstAAdmin).await.text();
    assert!(!home.contains("节假日安排尚未载入"));
    let api = app
        .get_api("/api/v1/calendar/years", Who::CentreStaff)
        .await;
    assert_eq!(api.json()["next_year_missing"], 2027);
    // Loaded: the warning goes.
    let ok = app
        .api(
            Method::POST,
            "/api/v1/calendar/import",
            Who::Sysadmin,
            Some(json!({ "toml": FIXTURE_2027 })),
        )
        .await;
    assert_eq!(ok.status.as_u16(), 200);
    let home = app.get("/", Who::CentreAdmin).await.text();
    assert!(!home.contains("节假日安排尚未载入"));
}

both_backends!(
    r_cal_1_sysadmin_page_checks_every_line_previews_then_saves,
    r_cal_1_api_preview_and_import,
    r_cal_1_home_pages_warn_from_1_november_while_next_year_is_missing,
);
