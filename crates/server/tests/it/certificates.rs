//! Exam results, certificate codes and public verification through HTTP (R-CRT-1, R-CRT-2, S6,
//! S22): results entered by the page and the API, a bad import refused row by row, the centre's
//! confirmation issuing codes, the certificate page with QR codes and its export, revocation,
//! verification (a wrong name and an unknown code answer identically; never an ID number), the
//! rate limit per client address, and institution B refused everywhere.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use crate::rounds::{LEVEL, OCC, actor_of, d, file_on, performance, round, signed};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use peixun_domain::workflow::round::Half;
use peixun_server::{AppConfig, AppState, router};
use peixun_store::filings;
use peixun_store::running;
use serde_json::{Value as J, json};
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

/// 09:00 Asia/Shanghai.
fn on(y: i32, m: u32, day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, 1, 0, 0).unwrap()
}

/// Institution A's class (start 2026-04-01), trained and examined on 2026-04-10; the app's clock
/// is then 2026-04-11. Returns the class id and its roster (name, ID number).
async fn completed_class(app: &TestApp) -> (i64, Vec<(String, String)>) {
    let r = round(app, Half::Other, "证书批次", 20, false).await;
    performance(app, app.inst_a, 100, "95").await;
    let (_, agreement) = signed(app, r, Who::InstAAdmin, 10).await;
    let start = d(2026, 4, 1);
    let id = file_on(app, agreement, Who::InstAStaff, start).await;
    filings::approve_filing(
        &app.store,
        &actor_of(app, Who::CentreStaff),
        id,
        app.clock_now(),
    )
    .await
    .unwrap();
    let spec = peixun_store::ready_package::ReadyPackage::new(agreement, OCC, LEVEL, start);
    let people = peixun_store::roster::synthetic_rows(spec.trainees, spec.roster_seed)
        .into_iter()
        .map(|r| (r[0].clone(), r[2].clone()))
        .collect();
    let a = actor_of(app, Who::InstAStaff);
    running::start_training(&app.store, &a, id, on(2026, 4, 1))
        .await
        .unwrap();
    running::complete_training(&app.store, &a, id, d(2026, 4, 10), on(2026, 4, 10))
        .await
        .unwrap();
    running::complete_exam(&app.store, &a, id, d(2026, 4, 10), on(2026, 4, 10))
        .await
        .unwrap();
    app.set_clock(on(2026, 4, 11));
    (id, people)
}

fn csv(rows: &[[&str; 5]]) -> Vec<u8> {
    let mut s = String::from("姓名,证件号码,考试结果,成绩,考试日期\n");
    for r in rows {
        s.push_str(&r.join(","));
        s.push('\n');
    }
    s.into_bytes()
}

async fn upload(
    app: &TestApp,
    path: &str,
    who: Who,
    bytes: Vec<u8>,
) -> crate::harness::TestResponse {
    let s = app.session(who).await.expect("session");
    app.send(
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", s.token))
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(bytes))
            .unwrap(),
    )
    .await
}

async fn r_crt_1_results_confirmation_certificates_and_verification_over_http(
    backend: peixun_store::Backend,
) {
    let app = TestApp::new(backend).await;
    let (id, people) = completed_class(&app).await;
    let n = people.len();

    // The results page: every trainee, ID numbers masked.
    let page = app
        .get(&format!("/classes/{id}/results"), Who::InstAStaff)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains(&people[0].0));
    assert!(!html.contains(&people[0].1), "never the full ID number");
    // The class page links to it.
    let class_page = app.get(&format!("/classes/{id}"), Who::InstAStaff).await;
    assert!(
        class_page
            .text()
            .contains(&format!("/classes/{id}/results"))
    );

    // A bad import: every bad row listed, nothing changed (S22).
    let date = "2026-04-10";
    let bad = csv(&[
        [&people[0].0, &people[0].1, "合格", "90", date],
        [&people[1].0, "123", "合格", "", date],
        [&people[2].0, &people[2].1, "优秀", "", date],
        [&people[0].0, &people[0].1, "合格", "", date],
    ]);
    let resp = upload(
        &app,
        &format!("/api/v1/classes/{id}/results/import"),
        Who::InstAStaff,
        bad,
    )
    .await;
    assert_eq!(
        resp.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        resp.text()
    );
    let rows: Vec<u64> = resp.json()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["row_number"].as_u64())
        .collect();
    assert_eq!(rows, vec![3, 4, 5]);
    let r = app
        .get_api(&format!("/api/v1/classes/{id}/results"), Who::InstAStaff)
        .await;
    assert_eq!(r.json()["entered"], 0);

    // Institution B: refused on every results and certificate route (S6).
    for path in [
        format!("/api/v1/classes/{id}/results"),
        format!("/api/v1/classes/{id}/certificates"),
    ] {
        assert_eq!(
            app.get_api(&path, Who::InstBAdmin).await.status,
            StatusCode::FORBIDDEN
        );
    }
    for path in [
        format!("/classes/{id}/results"),
        format!("/classes/{id}/certificates"),
        format!("/classes/{id}/certificates/export.xlsx"),
    ] {
        assert_eq!(
            app.get(&path, Who::InstBAdmin).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let resp = app
        .api(
            Method::PUT,
            &format!("/api/v1/classes/{id}/results"),
            Who::InstBAdmin,
            Some(json!({ "rows": [] })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);

    // Entered through the API: all pass but the second (fail) and the third (absent).
    let entries: Vec<i64> = r.json()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["entry_id"].as_i64().unwrap())
        .collect();
    let rows: Vec<J> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let result = match i {
                1 => "fail",
                2 => "absent",
                _ => "pass",
            };
            json!({ "entry_id": e, "result": result, "score": if i == 2 { "" } else { "80" }, "exam_date": date })
        })
        .collect();
    let resp = app
        .api(
            Method::PUT,
            &format!("/api/v1/classes/{id}/results"),
            Who::InstAStaff,
            Some(json!({ "rows": rows })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json()["changed"], n);
    // A bad cell on the page: shown again beside its row, nothing saved.
    let e0 = entries[0].to_string();
    let resp = app
        .post_form(
            &format!("/classes/{id}/results"),
            Who::InstAStaff,
            &[
                ("entry_id", &e0),
                (&format!("result_{e0}"), "pass"),
                (&format!("score_{e0}"), "120"),
                (&format!("date_{e0}"), date),
            ],
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().contains(&format!("id=\"r{e0}-score\"")));
    assert!(resp.text().contains("成绩须在0至100之间"));

    // The centre confirms on the page: codes issued, the class's certificate page lists them.
    let resp = app
        .post_form(
            &format!("/classes/{id}/results/confirm"),
            Who::CentreStaff,
            &[],
        )
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    let list = app
        .get_api(
            &format!("/api/v1/classes/{id}/certificates"),
            Who::InstAStaff,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let items = list.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), n - 2);
    let first = items[0].clone();
    let code = first["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("4401052026"), "{code}");
    assert!(code.ends_with("001"));
    assert_eq!(first["name"], people[0].0.as_str());
    assert_eq!(first["status"], "valid");
    assert_eq!(
        items[1]["name"],
        people[3].0.as_str(),
        "the failed and absent get none"
    );
    let page = app
        .get(&format!("/classes/{id}/certificates"), Who::CentreStaff)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&code));
    let img = page
        .text()
        .find("<img src=\"data:image")
        .map(|i| page.text()[i..i + 60].to_string());
    assert!(
        img.as_ref().is_some_and(|s| s.contains("svg+xml")),
        "a QR code per code: {img:?}"
    );
    let x = app
        .get(
            &format!("/classes/{id}/certificates/export.xlsx"),
            Who::InstAStaff,
        )
        .await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.header("content-type").contains("spreadsheetml"));
    assert_eq!(&x.body[..2], b"PK");

    // Verification (R-CRT-2): right name → masked name, occupation, level, institution, status.
    let name = people[0].0.clone();
    let v = app
        .get_api(
            &format!(
                "/api/v1/certificates/verify?code={code}&name={}",
                crate::harness::enc(&name)
            ),
            Who::Anonymous,
        )
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    let body = v.json();
    assert_eq!(
        body["masked_name"],
        peixun_domain::certificate::mask_name(&name)
    );
    assert_eq!(body["occupation"], OCC);
    assert_eq!(body["level"], LEVEL);
    assert_eq!(body["status"], "valid");
    assert!(!v.text().contains(&people[0].1));
    assert!(!v.text().contains(&name));
    // A wrong name and an unknown code: the same status and the same body.
    let wrong = app
        .get_api(
            &format!(
                "/api/v1/certificates/verify?code={code}&name={}",
                crate::harness::enc("冒名者")
            ),
            Who::Anonymous,
        )
        .await;
    let unknown = app
        .get_api(
            &format!(
                "/api/v1/certificates/verify?code=44010520269999001&name={}",
                crate::harness::enc(&name)
            ),
            Who::Anonymous,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body, unknown.body);
    let p_wrong = app
        .get(
            &format!("/verify?code={code}&name={}", crate::harness::enc("冒名者")),
            Who::Anonymous,
        )
        .await;
    let p_unknown = app
        .get(
            &format!(
                "/verify?code=44010520269999001&name={}",
                crate::harness::enc(&name)
            ),
            Who::Anonymous,
        )
        .await;
    assert_eq!(p_wrong.status, p_unknown.status);
    assert!(
        p_wrong
            .text()
            .contains("未找到与该证书编码和姓名相符的合格证书")
    );
    assert!(
        p_unknown
            .text()
            .contains("未找到与该证书编码和姓名相符的合格证书")
    );

    // Revocation: centre admin only, with a reason; the code verifies as revoked.
    let resp = app
        .api(
            Method::POST,
            "/api/v1/certificates/revoke",
            Who::CentreStaff,
            Some(json!({ "code": code, "reason": "代考" })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let resp = app
        .api(
            Method::POST,
            "/api/v1/certificates/revoke",
            Who::CentreAdmin,
            Some(json!({ "code": code, "reason": "" })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    let resp = app
        .post_form(
            "/certificates/revoke",
            Who::CentreAdmin,
            &[
                ("code", &code),
                ("reason", "经核查由他人代考"),
                ("filing_id", &id.to_string()),
            ],
        )
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    let v = app
        .get_api(
            &format!(
                "/api/v1/certificates/verify?code={code}&name={}",
                crate::harness::enc(&name)
            ),
            Who::Anonymous,
        )
        .await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.json()["status"], "revoked");
    let p = app
        .get(
            &format!("/verify?code={code}&name={}", crate::harness::enc(&name)),
            Who::Anonymous,
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.text().contains("已撤销"));
    let list = app
        .get_api(
            &format!("/api/v1/classes/{id}/certificates"),
            Who::CentreAdmin,
        )
        .await;
    assert_eq!(list.json()["items"][0]["status"], "revoked");
    assert_eq!(list.json()["items"].as_array().unwrap().len(), n - 2);
}

both_backends!(r_crt_1_results_confirmation_certificates_and_verification_over_http);

/// One GET from `ip` through `router`.
async fn get_from(router: &axum::Router, path: &str, ip: [u8; 4]) -> axum::response::Response {
    let mut req = Request::builder().uri(path).body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    router.clone().oneshot(req).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_crt_2_verification_is_rate_limited_per_client_address() {
    let app = TestApp::new(peixun_store::Backend::Sqlite).await;
    let clock: Arc<dyn peixun_server::Clock> = app.clock.clone();
    let state = AppState::new(
        app.store.clone(),
        clock,
        false,
        AppConfig {
            verify_burst: 3,
            verify_per_minute: 1,
            ..AppConfig::default()
        },
    )
    .unwrap();
    let r = router(state);
    let path = "/api/v1/certificates/verify?code=44010520260001001&name=%E5%BC%A0%E4%B8%89";
    for _ in 0..3 {
        assert_eq!(
            get_from(&r, path, [10, 0, 0, 1]).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let limited = get_from(&r, path, [10, 0, 0, 1]).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // The page shares the limit; another address has its own.
    let page = get_from(&r, "/verify?code=44010520260001001&name=x", [10, 0, 0, 1]).await;
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(
        get_from(&r, path, [10, 0, 0, 2]).await.status(),
        StatusCode::NOT_FOUND
    );
    // The empty form is not a verification and is never limited.
    assert_eq!(
        get_from(&r, "/verify", [10, 0, 0, 1]).await.status(),
        StatusCode::OK
    );
}

/// The sample context of each template of this part (for the template test).
pub fn template_sample(name: &str, x: &str, errs: &J, field_errs: &J) -> Option<J> {
    let class = json!({ "id": 5, "institution_name": x, "occupation": x, "level": "初级",
        "status_label": "已完成", "exam_completed_on": "2026-04-10" });
    Some(match name {
        "results_entry.html" => json!({
            "class": class,
            "summary": { "total": 2, "entered": 1, "passed": 1, "failed": 0, "absent": 0,
                "confirmed_by": x, "confirmed_at": "2026-04-12 10:00", "codes_withheld": true,
                "certificates_issued": true },
            "rows": [
                { "entry_id": 11, "row_number": 2, "name": x, "id_number_masked": "440105********1234",
                  "result": "pass", "result_label": "合格", "score": "88.5", "exam_date": "2026-04-10",
                  "certificate_code": "44010520260001001" },
                { "entry_id": 12, "row_number": 3, "name": x, "id_number_masked": x,
                  "result": "", "result_label": "未录入", "score": x, "exam_date": x, "certificate_code": "" },
            ],
            "options": [{ "value": "pass", "label": "合格" }, { "value": "fail", "label": "不合格" }],
            "may_edit": true, "may_confirm": true, "note": x,
            "import_problems": [{ "row": "3", "column": "证件号码", "message": x }],
            "errors": errs, "field_errors": { "r11-score": x, "r12-result": x, "r12-exam_date": x },
        }),
        "certificates_list.html" => json!({
            "class": class,
            "items": [{ "code": "44010520260001001", "name": x, "status": "revoked", "status_label": "已撤销",
                "issued_on": "2026-04-12", "revoked_reason": x, "verify_url": "http://localhost/verify?code=1",
                "qr": "data:image/svg+xml,%3Csvg%3E" }],
            "codes_withheld": true, "can_revoke": true,
            "form": { "code": x, "reason": x },
            "errors": errs, "field_errors": field_errs,
        }),
        "certificate_register.html" => json!({
            "items": [{ "code": "44010520260001001", "holder_name": x, "occupation": x, "level": "初级",
                "institution": x, "filing_id": 5, "issued_on": "2026-04-12", "status": "revoked",
                "status_label": "已撤销", "revoked_reason": x }],
            "total": 1, "next_href": "/certificates?after=1", "continued": true, "is_centre": true,
            "occupations": [x], "institutions": [{ "id": "1", "name": x }],
            "first_href": "/certificates", "export_href": "/certificates/export.xlsx",
            "filter": { "year": x, "institution_id": "1", "status": "valid", "occupation": x, "q": x },
            "errors": errs, "field_errors": field_errs,
        }),
        "verify.html" => json!({
            "form": { "code": x, "name": x },
            "result": { "code": "44010520260001001", "masked_name": "张*三", "occupation": x, "level": "初级",
                "institution": x, "issued_on": "2026-04-12", "status": "revoked", "status_label": "已撤销" },
            "not_found": false, "not_found_message": x, "limited": false,
        }),
        _ => return None,
    })
}
