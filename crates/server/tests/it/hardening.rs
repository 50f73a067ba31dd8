//! The hardening issue: `/metrics` only for allowed clients (or a token), `X-Forwarded-For`
//! only from trusted proxies, same-site redirects after login, a panic becomes a logged 500
//! (SECURITY.md S2, S12, S18, S19).

use crate::harness::{PASSWORD, TestApp, TestResponse, Who, enc};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use peixun_server::{AppConfig, router};
use peixun_store::Backend;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

async fn send_from(app: &TestApp, cfg: AppConfig, peer: &str, req: Request<Body>) -> TestResponse {
    let mut state = app.state.clone();
    state.config = Arc::new(cfg);
    let mut req = req;
    req.extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    let resp = router(state).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .unwrap()
        .to_vec();
    TestResponse {
        status,
        headers,
        body,
    }
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn s12_metrics_answer_only_allowed_addresses_or_the_token() {
    let app = TestApp::new(Backend::Sqlite).await;
    let cfg = AppConfig::default();
    // Loopback (the default allow list): yes.
    let r = send_from(&app, cfg.clone(), "127.0.0.1:5000", get("/metrics")).await;
    assert_eq!(r.status, 200);
    let r = send_from(&app, cfg.clone(), "[::1]:5000", get("/metrics")).await;
    assert_eq!(r.status, 200);
    // Anyone else: 403, with no metric in the body.
    let r = send_from(&app, cfg.clone(), "203.0.113.9:5000", get("/metrics")).await;
    assert_eq!(r.status, 403);
    assert!(!r.text().contains("http_requests_total"));
    // …unless they hold the token.
    let with_token = AppConfig {
        metrics_token: Some("scrape-s3cret".into()),
        ..AppConfig::default()
    };
    let req = Request::get("/metrics")
        .header(header::AUTHORIZATION, "Bearer scrape-s3cret")
        .body(Body::empty())
        .unwrap();
    let r = send_from(&app, with_token.clone(), "203.0.113.9:5000", req).await;
    assert_eq!(r.status, 200);
    let req = Request::get("/metrics")
        .header(header::AUTHORIZATION, "Bearer wrong")
        .body(Body::empty())
        .unwrap();
    let r = send_from(&app, with_token, "203.0.113.9:5000", req).await;
    assert_eq!(r.status, 403);
    // A forged X-Forwarded-For from an untrusted peer does not make it loopback.
    let req = Request::get("/metrics")
        .header("x-forwarded-for", "127.0.0.1")
        .body(Body::empty())
        .unwrap();
    let r = send_from(&app, AppConfig::default(), "203.0.113.9:5000", req).await;
    assert_eq!(r.status, 403);
    // An allow list of its own replaces loopback.
    let only_monitor = AppConfig {
        metrics_allow: vec!["10.1.2.3".parse().unwrap()],
        ..AppConfig::default()
    };
    let r = send_from(&app, only_monitor.clone(), "10.1.2.3:9", get("/metrics")).await;
    assert_eq!(r.status, 200);
    let r = send_from(&app, only_monitor, "127.0.0.1:9", get("/metrics")).await;
    assert_eq!(r.status, 403);
}

/// The source address in the audit row of a login through a proxy.
async fn login_ip(app: &TestApp, cfg: AppConfig, peer: &str, xff: &str) -> Option<String> {
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", xff)
        .body(Body::from(
            serde_json::json!({"username": "bureau", "password": PASSWORD}).to_string(),
        ))
        .unwrap();
    let r = send_from(app, cfg, peer, req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let rows = peixun_store::audit::search(
        &app.store,
        &peixun_store::Actor::system("t"),
        &peixun_store::audit::AuditFilter {
            action: Some("auth.login".into()),
            ..Default::default()
        },
        &peixun_store::PageRequest::first(1),
    )
    .await
    .unwrap();
    rows.items[0].ip.clone()
}

#[tokio::test]
async fn s10_x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let app = TestApp::new(Backend::Sqlite).await;
    let proxy = AppConfig {
        trusted_proxies: vec!["10.0.0.2".parse().unwrap()],
        ..AppConfig::default()
    };
    // Through the trusted proxy: the client it forwarded (right-most untrusted hop).
    assert_eq!(
        login_ip(&app, proxy.clone(), "10.0.0.2:443", "1.2.3.4, 198.51.100.7").await,
        Some("198.51.100.7".into())
    );
    // Straight from a client that sends the header itself: its own address.
    assert_eq!(
        login_ip(&app, proxy, "203.0.113.9:5000", "198.51.100.7").await,
        Some("203.0.113.9".into())
    );
    // No trusted proxies configured: never believed.
    assert_eq!(
        login_ip(&app, AppConfig::default(), "10.0.0.2:443", "198.51.100.7").await,
        Some("10.0.0.2".into())
    );
}

/// Log in through the form with `next` and return the response.
async fn form_login(app: &TestApp, next: &str) -> TestResponse {
    let page = app.get("/login", Who::Anonymous).await;
    let csrf = page
        .header("set-cookie")
        .strip_prefix("peixun_login_csrf=")
        .and_then(|s| s.split(';').next())
        .unwrap()
        .to_string();
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("peixun_login_csrf={csrf}"))
        .body(Body::from(format!(
            "csrf_token={csrf}&username=centre_admin&password={}&next={}",
            enc(PASSWORD),
            enc(next)
        )))
        .unwrap();
    app.send(req).await
}

#[tokio::test]
async fn s19_next_after_login_stays_on_this_site() {
    let app = TestApp::new(Backend::Sqlite).await;
    for attack in [
        "/\t/evil.example/",
        "/\n/evil.example/",
        "/\r\nSet-Cookie: a=b",
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "/%09/evil.example/",
        "/ /evil.example",
    ] {
        let r = form_login(&app, attack).await;
        assert_eq!(r.status, 303, "{attack:?}: {}", r.text());
        assert_eq!(r.header("location"), "/", "{attack:?}");
    }
    let r = form_login(&app, "/institutions?page=2").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), "/institutions?page=2");
    // The login page does not carry a hostile `next` into its form either.
    let p = app
        .get("/login?next=%2F%09%2Fevil.example%2F", Who::Anonymous)
        .await;
    assert_eq!(p.status, 200);
    assert!(!p.text().contains("evil.example"));
}

#[tokio::test]
async fn s18_a_500_names_the_request_id_and_nothing_internal() {
    use axum::response::IntoResponse;
    // A panicking handler behind the same layer the router uses.
    let svc = axum::Router::new()
        .route(
            "/boom",
            axum::routing::get(|| async {
                let v: Vec<u64> = Vec::new();
                #[allow(clippy::unnecessary_operation)]
                let _ = v[usize::MAX / 2];
                "unreachable".into_response()
            }),
        )
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            peixun_server::guard::panic_response,
        ));
    let resp = svc.oneshot(get("/boom")).await.unwrap();
    assert_eq!(resp.status(), 500);
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("INTERNAL"), "{text}");
    assert!(
        !text.contains("index out of bounds") && !text.contains("panicked"),
        "{text}"
    );
}

/// Free-text limits (domain/text.rs): a 40,000-character reason or finding, a name with a bidi
/// override — each refused with 422 naming the field, nothing stored.
#[tokio::test]
async fn s18_free_text_limits_name_the_field() {
    use axum::http::Method;
    let app = TestApp::new(Backend::Sqlite).await;
    let rf = crate::running::RunFixture::new(&app).await;
    let long = "理".repeat(40_000);
    let r = app
        .api(
            Method::POST,
            "/api/v1/inspections",
            Who::CentreStaff,
            Some(serde_json::json!({
                "filing_id": rf.class, "inspected_on": "2026-04-02", "kind": "on_site",
                "findings": long,
            })),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["code"], "TEXT_TOO_LONG");
    assert_eq!(r.json()["field"], "findings");
    // A reject reason too (refused before anything else is looked at).
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/filings/{}/roster-change/reject", rf.class),
            Who::CentreAdmin,
            Some(serde_json::json!({ "reason": long })),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["field"], "reason", "{}", r.text());
    // A name that would display backwards.
    let mut input = serde_json::json!({
        "name": "海珠\u{202E}校学训培", "credit_code": "", "registered_address": "广州市海珠区",
        "contact_person": "陈主任", "contact_phone": "020-84001234",
    });
    let r = app
        .api(
            Method::POST,
            "/api/v1/institutions",
            Who::CentreAdmin,
            Some(input.clone()),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let errors = r.json()["errors"].clone();
    assert!(
        errors
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "name" && e["code"] == "TEXT_FORBIDDEN_CHAR"),
        "{errors}"
    );
    input["name"] = serde_json::json!("x");
    let r = app
        .api(
            Method::POST,
            "/api/v1/users",
            Who::Sysadmin,
            Some(serde_json::json!({
                "username": "new_user", "display_name": "王\u{2067}五", "role": "centre_staff",
                "password": "Strong#Passw0rd-2026",
            })),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("display_name"), "{}", r.text());
}
