//! S19: security headers on every response; CSRF (form token, Origin / Sec-Fetch-Site).

use crate::both_backends;
use crate::harness::{TestApp, TestResponse, Who};
use axum::body::Body;
use axum::http::{Method, Request, header};
use peixun_store::Backend;

fn assert_security_headers(what: &str, r: &TestResponse) {
    let csp = r.header("content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{what}: CSP {csp:?}"
    );
    assert!(csp.contains("script-src 'self'"), "{what}: CSP {csp:?}");
    assert!(!csp.contains("unsafe-inline"), "{what}: CSP {csp:?}");
    assert_eq!(r.header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(r.header("x-frame-options"), "DENY", "{what}");
    assert!(!r.header("referrer-policy").is_empty(), "{what}");
}

#[tokio::test]
async fn s19_security_headers_on_every_kind_of_response() {
    let app = TestApp::new(Backend::Sqlite).await;
    let cases: Vec<(&str, TestResponse)> = vec![
        ("static", app.get("/static/app.css", Who::Anonymous).await),
        ("login page", app.get("/login", Who::Anonymous).await),
        ("404 page", app.get("/no/such/page", Who::CentreStaff).await),
        (
            "404 api",
            app.get_api("/api/v1/nothing", Who::CentreStaff).await,
        ),
        (
            "401 api",
            app.get_api("/api/v1/institutions", Who::Anonymous).await,
        ),
        (
            "403 api",
            app.get_api("/api/v1/audit", Who::CentreStaff).await,
        ),
        ("403 page", app.get("/users", Who::CentreStaff).await),
        ("redirect", app.get("/", Who::Anonymous).await),
        ("home", app.get("/", Who::CentreStaff).await),
        (
            "api json",
            app.get_api("/api/v1/institutions", Who::CentreStaff).await,
        ),
        ("healthz", app.get_api("/healthz", Who::Anonymous).await),
        (
            "csrf 403",
            app.post_form_raw("/institutions/new", None, &[], &[]).await,
        ),
        (
            "405",
            app.api(
                Method::DELETE,
                "/api/v1/institutions",
                Who::CentreStaff,
                None,
            )
            .await,
        ),
        (
            "xlsx",
            app.get("/institutions/export.xlsx", Who::City).await,
        ),
    ];
    for (what, r) in &cases {
        assert_security_headers(what, r);
    }
    for (what, r) in &cases[8..10] {
        assert_eq!(r.header("cache-control"), "no-store", "{what}");
    }
    // Error pages are HTML in Chinese, API errors JSON.
    let (_, page404) = &cases[2];
    assert_eq!(page404.status, 404);
    assert!(page404.text().contains("页面不存在"));
    let (_, api404) = &cases[3];
    assert_eq!(api404.json()["code"], "NOT_FOUND");
    let (_, api405) = &cases[12];
    assert_eq!(api405.status, 405);
    assert_eq!(api405.json()["code"], "METHOD_NOT_ALLOWED");
    let page405 = app
        .post_form("/institutions/export.xlsx", Who::City, &[])
        .await;
    assert_eq!(page405.status, 405);
    assert!(page405.text().contains("无法完成操作"));
}

async fn s19_form_without_token_or_cross_site_is_refused(backend: Backend) {
    let app = TestApp::new(backend).await;
    let s = app.session(Who::CentreAdmin).await.unwrap();
    let fields = [("name", "测试机构")];
    // No token.
    let r = app
        .post_form_raw("/institutions/new", Some(&s.token), &fields, &[])
        .await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("请求来源校验失败"));
    // A wrong token.
    let r = app
        .post_form_raw(
            "/institutions/new",
            Some(&s.token),
            &[("csrf_token", "0000"), ("name", "x")],
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    // The right token, from another site.
    let with_token = [("csrf_token", s.csrf.as_str()), ("name", "")];
    let r = app
        .post_form_raw(
            "/institutions/new",
            Some(&s.token),
            &with_token,
            &[
                ("host", "peixun.example.gov.cn"),
                ("origin", "https://evil.example.com"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post_form_raw(
            "/institutions/new",
            Some(&s.token),
            &with_token,
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(r.status, 403);
    // Same origin with the token reaches the handler (the empty name is a validation error).
    let r = app
        .post_form_raw(
            "/institutions/new",
            Some(&s.token),
            &with_token,
            &[
                ("host", "peixun.example.gov.cn"),
                ("origin", "https://peixun.example.gov.cn"),
                ("sec-fetch-site", "same-origin"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    // Cookie-authenticated API writes need the X-CSRF-Token header.
    let body = r#"{"name":"","credit_code":"","registered_address":"","contact_person":"","contact_phone":""}"#;
    let req = |csrf: Option<&str>| {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/institutions")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, format!("peixun_session={}", s.token));
        if let Some(c) = csrf {
            b = b.header("x-csrf-token", c);
        }
        b.body(Body::from(body)).unwrap()
    };
    assert_eq!(app.send(req(None)).await.status, 403);
    assert_eq!(app.send(req(Some(&s.csrf))).await.status, 422);
}

both_backends!(s19_form_without_token_or_cross_site_is_refused);

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::new(Backend::Sqlite).await;
    let big = "x".repeat(2 * 1024 * 1024);
    let r = app
        .api(
            Method::POST,
            "/api/v1/auth/login",
            Who::Anonymous,
            Some(serde_json::json!({ "username": big, "password": "x" })),
        )
        .await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn s5_head_requests_obey_the_table_like_get() {
    let app = TestApp::new(Backend::Sqlite).await;
    let s = app.session(Who::City).await.unwrap();
    let head = |path: &str| {
        Request::builder()
            .method(Method::HEAD)
            .uri(path)
            .header(header::COOKIE, format!("peixun_session={}", s.token))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(app.send(head("/institutions")).await.status, 200);
    assert_eq!(app.send(head("/users")).await.status, 403);
    assert_eq!(app.send(head("/audit/export.xlsx")).await.status, 403);
}
