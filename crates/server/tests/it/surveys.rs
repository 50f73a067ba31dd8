//! The trainee satisfaction survey through HTTP (R-EVA-3, S5, S6, S19): the public page renders
//! without sign-in for a phone (viewport, no script, radio groups, no-store); a post without the
//! form's cookie token is refused; a bad answer lists every field and changes nothing; a pair
//! not on the roster is refused without saying whether the name exists; a good answer redirects
//! to the thank-you page (PRG) and a second one says 您已提交过问卷; the class page and the API
//! show counts only; answers are rate-limited per address (429, Retry-After); the centre edits
//! the round's questionnaire; institution B gets 404 for A's survey.

use crate::both_backends;
use crate::harness::{TestApp, TestResponse, Who, enc};
use crate::rounds::{LEVEL, OCC, actor_of, d, file_on, performance, round, signed};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use peixun_domain::workflow::round::Half;
use peixun_server::{AppConfig, AppState, router};
use peixun_store::{filings, running};
use serde_json::{Value as J, json};
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

/// 09:00 Asia/Shanghai.
fn on(y: i32, m: u32, day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, 1, 0, 0).unwrap()
}

struct Class {
    id: i64,
    round: i64,
    token: String,
    /// (name, ID number) in roster order.
    people: Vec<(String, String)>,
}

/// Institution A's class (start 2026-04-01), in training; the clock is 2026-04-08.
async fn running_class(app: &TestApp) -> Class {
    let r = round(app, Half::Other, "调查批次", 20, false).await;
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
    running::start_training(
        &app.store,
        &actor_of(app, Who::InstAStaff),
        id,
        on(2026, 4, 1),
    )
    .await
    .unwrap();
    app.set_clock(on(2026, 4, 8));
    let v = app
        .get_api(&format!("/api/v1/surveys/classes/{id}"), Who::InstAStaff)
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    Class {
        id,
        round: r,
        token: v.json()["token"].as_str().unwrap().to_string(),
        people,
    }
}

fn last4(id: &str) -> &str {
    &id[id.len() - 4..]
}

/// The double-submit cookie the public page set.
fn survey_cookie(page: &TestResponse) -> String {
    page.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("peixun_survey_csrf="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string()
}

/// POST the public form from `ip` with the cookie token (or none).
async fn post_survey(
    router: &axum::Router,
    token: &str,
    csrf: Option<&str>,
    fields: &[(&str, &str)],
    ip: [u8; 4],
) -> TestResponse {
    let mut all: Vec<(&str, &str)> = Vec::new();
    if let Some(c) = csrf {
        all.push(("csrf_token", c));
    }
    all.extend_from_slice(fields);
    let body = all
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(format!("/s/{token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = csrf {
        b = b.header(header::COOKIE, format!("peixun_survey_csrf={c}"));
    }
    let mut req = b.body(Body::from(body)).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .unwrap()
        .to_vec();
    TestResponse {
        status,
        headers,
        body,
    }
}

fn ratings(v: &'static str) -> Vec<(&'static str, &'static str)> {
    ["teaching", "teacher", "organisation", "venue", "overall"]
        .into_iter()
        .map(|k| (k, v))
        .collect()
}

async fn r_eva_3_public_survey_over_http(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let c = running_class(&app).await;
    let (name, id) = c.people[2].clone();

    // The public page, no sign-in: phone viewport, no script, a radio group per rating.
    let page = app.get(&format!("/s/{}", c.token), Who::Anonymous).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
    );
    assert!(!html.contains("<script"));
    for q in [
        "教学内容",
        "授课教师",
        "组织管理",
        "场地设施",
        "总体满意度",
        "意见建议",
    ] {
        assert!(html.contains(q), "{q}");
    }
    assert_eq!(html.matches(r#"type="radio""#).count(), 25);
    assert!(html.contains("身份证号后4位") && html.contains(OCC));
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(!html.contains(&name), "the page names nobody");
    let csrf = survey_cookie(&page);

    // Without the form's cookie token: refused (S19).
    let mut good: Vec<(&str, &str)> = vec![("name", name.as_str()), ("id_last4", last4(&id))];
    good.extend(ratings("5"));
    good.push(("comment", "实操课很有用"));
    let r = post_survey(&app.router, &c.token, None, &good, [10, 1, 0, 1]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Missing ratings and identification: every field in the summary, the page again (422).
    let mut partial: Vec<(&str, &str)> = vec![("name", ""), ("id_last4", "12")];
    partial.extend(ratings("4").into_iter().filter(|(k, _)| *k != "venue"));
    let r = post_survey(&app.router, &c.token, Some(&csrf), &partial, [10, 1, 0, 1]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = r.text();
    assert!(t.contains("提交内容有误"));
    assert!(t.contains("请填写姓名") && t.contains(r##"href="#name""##));
    assert!(t.contains("身份证号后4位应为4个数字或字母") && t.contains(r##"href="#id_last4""##));
    assert!(t.contains("“场地设施”：请选择1–5分") && t.contains(r##"href="#q-venue""##));
    assert!(t.contains(r#"<fieldset class="form-group rating form-group-error" id="q-venue">"#));
    // The submitted ratings stay checked.
    assert!(t.contains(r#"name="teaching" value="4" checked"#));

    // A pair not on the roster: one message, whether or not the name exists.
    let wrong = if last4(&id) == "0000" { "1111" } else { "0000" };
    let mut a: Vec<(&str, &str)> = vec![("name", name.as_str()), ("id_last4", wrong)];
    a.extend(ratings("5"));
    let r1 = post_survey(&app.router, &c.token, Some(&csrf), &a, [10, 1, 0, 1]).await;
    let mut b: Vec<(&str, &str)> = vec![("name", "查无此人"), ("id_last4", last4(&id))];
    b.extend(ratings("5"));
    let r2 = post_survey(&app.router, &c.token, Some(&csrf), &b, [10, 1, 0, 1]).await;
    assert_eq!(r1.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r2.status, r1.status);
    assert!(r1.text().contains("姓名或身份证号后4位与花名册不符"));
    assert!(r2.text().contains("姓名或身份证号后4位与花名册不符"));

    // The right pair: redirect to the thank-you page (PRG).
    let r = post_survey(&app.router, &c.token, Some(&csrf), &good, [10, 1, 0, 1]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), format!("/s/{}/thanks", c.token));
    let thanks = app
        .get(&format!("/s/{}/thanks", c.token), Who::Anonymous)
        .await;
    assert_eq!(thanks.status, StatusCode::OK);
    assert!(thanks.text().contains("感谢您的参与"));
    // A second answer by the same trainee.
    let r = post_survey(&app.router, &c.token, Some(&csrf), &good, [10, 1, 0, 1]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("您已提交过问卷"));

    // The public API answers too (201), and refuses the same trainee again (409).
    let (n2, id2) = c.people[3].clone();
    let body = json!({ "name": n2, "id_last4": last4(&id2),
        "answers": { "teaching": "4", "teacher": "4", "organisation": "3", "venue": "4", "overall": "4" } });
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/surveys/{}/responses", c.token),
            Who::Anonymous,
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/surveys/{}/responses", c.token),
            Who::Anonymous,
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["code"], "SURVEY_ALREADY_ANSWERED");
    let r = app
        .get_api(&format!("/api/v1/surveys/{}", c.token), Who::Anonymous)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["open"], "open");
    assert_eq!(
        r.json()["questionnaire"]["questions"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    let r = app
        .get_api(
            &format!("/api/v1/surveys/{}", "f".repeat(32)),
            Who::Anonymous,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Counts only: the class page and the API.
    let stats = app
        .get_api(
            &format!("/api/v1/surveys/classes/{}", c.id),
            Who::InstAStaff,
        )
        .await
        .json();
    assert_eq!(stats["stats"]["responses"], 2);
    assert_eq!(stats["stats"]["trainees"], 24);
    assert_eq!(stats["stats"]["rate_percent"], "8.3");
    let overall = &stats["stats"]["questions"][4];
    assert_eq!(
        (overall["key"].as_str(), overall["sum"].as_u64()),
        (Some("overall"), Some(9))
    );
    assert_eq!(overall["mean"], "4.50");
    let page = app
        .get(&format!("/classes/{}", c.id), Who::InstAStaff)
        .await;
    let t = page.text();
    assert!(t.contains("满意度调查") && t.contains(&c.token));
    assert!(t.contains("2 / 24 人，回收率 8.3%"));
    assert!(t.contains(&format!("/classes/{}/survey/qr.svg", c.id)));
    assert!(
        !t.contains("实操课很有用"),
        "comments are not shown to the institution"
    );
    let centre_page = app
        .get(&format!("/classes/{}", c.id), Who::CentreStaff)
        .await;
    assert!(
        centre_page.text().contains("实操课很有用"),
        "the centre reads the comments"
    );
    let qr = app
        .get(&format!("/classes/{}/survey/qr.svg", c.id), Who::InstAStaff)
        .await;
    assert_eq!(qr.status, StatusCode::OK);
    assert_eq!(qr.header("content-type"), "image/svg+xml");
    assert!(qr.text().contains("<svg"));

    // The centre moves the closing date; a bad date shows the class page again.
    let r = app
        .post_form(
            &format!("/classes/{}/survey/closing", c.id),
            Who::CentreStaff,
            &[("closes_on", "2026-13-01")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("问卷截止日期：格式应为"));
    let r = app
        .post_form(
            &format!("/classes/{}/survey/closing", c.id),
            Who::CentreStaff,
            &[("closes_on", "2026-04-07")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app.get(&format!("/s/{}", c.token), Who::Anonymous).await;
    assert!(page.text().contains("问卷已截止"));
    assert!(!page.text().contains(r#"type="radio""#));
    let (n4, id4) = c.people[4].clone();
    let mut late: Vec<(&str, &str)> = vec![("name", n4.as_str()), ("id_last4", last4(&id4))];
    late.extend(ratings("3"));
    let r = post_survey(&app.router, &c.token, Some(&csrf), &late, [10, 1, 0, 1]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("问卷已截止"));
}

async fn r_eva_3_round_page_and_questionnaire(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let c = running_class(&app).await;
    let page = app
        .get(&format!("/rounds/{}/survey", c.round), Who::Bureau)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&format!("/classes/{}#survey", c.id)));
    assert!(page.text().contains("0 / 24"));
    assert!(!page.text().contains("保存问卷"), "the bureau reads only");
    let round_page = app
        .get(&format!("/rounds/{}", c.round), Who::CentreStaff)
        .await;
    assert!(
        round_page
            .text()
            .contains(&format!("/rounds/{}/survey", c.round))
    );
    // A bad questionnaire: each problem beside its row, nothing saved.
    let path = format!("/rounds/{}/survey", c.round);
    let r = app
        .post_form(
            &path,
            Who::CentreStaff,
            &[
                ("key_0", "teaching"),
                ("text_0", "教学内容"),
                ("kind_0", "rating"),
                ("key_2", "teaching"),
                ("text_2", "重复"),
                ("kind_2", "rating"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = r.text();
    assert!(t.contains(r##"href="#key_2""##), "{t}");
    assert!(t.contains("总体满意度评分题"));
    let q = app
        .get_api(
            &format!("/api/v1/surveys/rounds/{}/questionnaire", c.round),
            Who::CentreStaff,
        )
        .await;
    assert_eq!(q.json()["is_default"], true);
    // A good one.
    let r = app
        .post_form(
            &path,
            Who::CentreStaff,
            &[
                ("key_0", "teaching"),
                ("text_0", "教学内容"),
                ("kind_0", "rating"),
                ("key_1", "practice"),
                ("text_1", "实操训练"),
                ("kind_1", "rating"),
                ("key_2", "overall"),
                ("text_2", "总体满意度"),
                ("kind_2", "rating"),
                ("key_3", "comment"),
                ("text_3", "意见建议"),
                ("kind_3", "comment"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let q = app
        .get_api(
            &format!("/api/v1/surveys/rounds/{}/questionnaire", c.round),
            Who::Bureau,
        )
        .await;
    assert_eq!(q.json()["is_default"], false);
    assert_eq!(q.json()["questionnaire"]["questions"][1]["key"], "practice");
    let page = app.get(&format!("/s/{}", c.token), Who::Anonymous).await;
    assert!(page.text().contains("实操训练"));
    assert_eq!(page.text().matches(r#"type="radio""#).count(), 15);
    // The API: the institution cannot write it; a bad body is 422.
    let r = app
        .api(
            Method::PUT,
            &format!("/api/v1/surveys/rounds/{}/questionnaire", c.round),
            Who::InstAAdmin,
            Some(json!({ "questions": [] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .api(Method::PUT, &format!("/api/v1/surveys/rounds/{}/questionnaire", c.round), Who::CentreAdmin,
            Some(json!({ "questions": [{ "key": "teaching", "text": "教学内容", "kind": "rating" }] })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["code"], "SURVEY_OVERALL_MISSING");
    let r = app
        .get_api(&format!("/api/v1/surveys/rounds/{}", c.round), Who::City)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["classes"].as_array().unwrap().len(), 1);
}

async fn s6_institution_b_gets_404_for_a_s_survey(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let c = running_class(&app).await;
    for path in [
        format!("/api/v1/surveys/classes/{}", c.id),
        format!("/classes/{}/survey/qr.svg", c.id),
    ] {
        let r = if path.starts_with("/api") {
            app.get_api(&path, Who::InstBAdmin).await
        } else {
            app.get(&path, Who::InstBAdmin).await
        };
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!r.text().contains(&c.token), "{path}");
        // A sees its own.
        let r = if path.starts_with("/api") {
            app.get_api(&path, Who::InstAAdmin).await
        } else {
            app.get(&path, Who::InstAAdmin).await
        };
        assert_eq!(r.status, StatusCode::OK, "{path}");
    }
    // B's view of A's class page has no survey link (the class page itself is refused).
    let page = app
        .get(&format!("/classes/{}", c.id), Who::InstBAdmin)
        .await;
    assert!(!page.text().contains(&c.token));
    let r = app
        .api(
            Method::PUT,
            &format!("/api/v1/surveys/classes/{}/closing", c.id),
            Who::InstBAdmin,
            Some(json!({ "closes_on": "2026-05-01" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get_api(
            &format!("/api/v1/surveys/rounds/{}", c.round),
            Who::InstBAdmin,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

both_backends!(
    r_eva_3_public_survey_over_http,
    r_eva_3_round_page_and_questionnaire,
    s6_institution_b_gets_404_for_a_s_survey,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_eva_3_answers_are_rate_limited_per_address_and_link() {
    let app = TestApp::new(peixun_store::Backend::Sqlite).await;
    let c = running_class(&app).await;
    let clock: Arc<dyn peixun_server::Clock> = app.clock.clone();
    let state = AppState::new(
        app.store.clone(),
        clock,
        false,
        AppConfig {
            survey_burst: 3,
            survey_per_minute: 1,
            ..AppConfig::default()
        },
    )
    .unwrap();
    let r = router(state);
    let csrf = "a".repeat(64);
    let bad: Vec<(&str, &str)> = vec![("name", "某某"), ("id_last4", "0000")];
    for _ in 0..3 {
        let resp = post_survey(&r, &c.token, Some(&csrf), &bad, [10, 0, 0, 1]).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let limited = post_survey(&r, &c.token, Some(&csrf), &bad, [10, 0, 0, 1]).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.text().contains("提交过于频繁"));
    let retry: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Another address has its own bucket, until the link's (twice the address's: 6) is used up.
    for ip in 2..=4u8 {
        let resp = post_survey(&r, &c.token, Some(&csrf), &bad, [10, 0, 0, ip]).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY, "ip {ip}");
    }
    let resp = post_survey(&r, &c.token, Some(&csrf), &bad, [10, 0, 0, 5]).await;
    assert_eq!(
        resp.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the link's own limit"
    );
    // The page itself (GET) is not limited.
    let mut req = Request::builder()
        .uri(format!("/s/{}", c.token))
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 40000))));
    assert_eq!(
        r.clone().oneshot(req).await.unwrap().status(),
        StatusCode::OK
    );
}

/// The sample context of each template of this part (for the template test).
pub fn template_sample(name: &str, x: &str, errs: &J, field_errs: &J) -> Option<J> {
    let survey = json!({ "token": "ab12", "occupation": x, "level": "初级", "institution_name": x,
        "start_date": "2026-04-01", "closes_on": "2026-04-17", "open": true, "notice": x });
    let options: Vec<J> = (1..=5)
        .map(|n| json!({ "value": n.to_string(), "label": x }))
        .collect();
    let stats = json!({ "responses": 3, "trainees": 20, "rate": "15.0%", "overall": "4.33",
        "questions": [{ "key": "overall", "text": x, "answers": 3, "mean": "4.33" }] });
    Some(match name {
        "survey_public.html" => json!({
            "survey": survey, "survey_csrf": "tok", "max_comment": 500,
            "questions": [
                { "key": "teaching", "text": x, "kind": "rating", "value": "4", "options": options },
                { "key": "comment", "text": x, "kind": "comment", "value": x, "options": options },
            ],
            "form": { "name": x, "id_last4": x },
            "errors": errs, "field_errors": field_errs,
        }),
        "survey_thanks.html" => json!({ "survey": survey }),
        "survey_section.html" => json!({
            "survey": { "class_id": 5, "show_link": true, "url": x, "closes_on": "2026-04-17",
                "closes_on_is_default": false, "open": true, "can_edit_closing": true, "stats": stats, "round_id": 1, "comments": [x] },
            "field_errors": field_errs,
        }),
        "survey_round.html" => json!({
            "round": { "id": 1, "label": x }, "headers": [x],
            "classes": [{ "id": 5, "institution_name": x, "occupation": x, "level": "初级", "status_label": x, "stats": stats }],
            "total": stats,
            "questionnaire": [{ "key": "overall", "text": x, "kind_label": "1–5分评分" }],
            "is_default": false, "updated": "2026-04-01 10:00", "updated_by": x, "can_edit": true,
            "rows": [{ "key": x, "text": x, "kind": "rating" }, { "key": "", "text": "", "kind": "comment" }],
            "errors": errs, "field_errors": field_errs,
        }),
        _ => return None,
    })
}
