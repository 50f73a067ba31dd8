//! S5: the role × route table. Every route the router registers must have a row here, and every
//! row is checked for anonymous and the nine users. Outcomes include the record-level rule (S6):
//! institution B asking for institution A's records gets 403.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use axum::http::Method;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy)]
enum Call {
    /// GET with the session cookie (pages).
    Page,
    /// A page form POST with the CSRF token and these fields.
    Form(&'static [(&'static str, &'static str)]),
    /// GET with a bearer token.
    Api,
    /// API write with a bearer token and this JSON body.
    ApiBody(&'static str),
    /// Like `Form`/`ApiBody` but on a fresh session (the call ends it).
    LogoutForm,
    LogoutApi,
}

struct Row {
    method: &'static str,
    path: &'static str,
    call: Call,
    /// Expected status for [anonymous, centre_admin, centre_staff, bureau, city, inst_a_admin,
    /// inst_a_staff, inst_b_admin, auditor, sysadmin].
    expect: [u16; 10],
}

const fn row(method: &'static str, path: &'static str, call: Call, expect: [u16; 10]) -> Row {
    Row {
        method,
        path,
        call,
        expect,
    }
}

// Columns: anon, CA, CS, bureau, city, IA_A, IS_A, IA_B, auditor, sysadmin
const ALL_200: [u16; 10] = [200; 10];
const PAGE_ANY_USER: [u16; 10] = [303, 200, 200, 200, 200, 200, 200, 200, 200, 200];
const API_ANY_USER: [u16; 10] = [401, 200, 200, 200, 200, 200, 200, 200, 200, 200];
const PAGE_BUSINESS_LIST: [u16; 10] = [303, 200, 200, 200, 200, 200, 200, 200, 403, 403];
const API_BUSINESS_LIST: [u16; 10] = [401, 200, 200, 200, 200, 200, 200, 200, 403, 403];
/// Reading institution A's record: institution B is refused (S6).
const PAGE_READ_A: [u16; 10] = [303, 200, 200, 200, 200, 200, 200, 403, 403, 403];
const API_READ_A: [u16; 10] = [401, 200, 200, 200, 200, 200, 200, 403, 403, 403];
const PAGE_CENTRE: [u16; 10] = [303, 200, 200, 403, 403, 403, 403, 403, 403, 403];
const PAGE_CENTRE_FORM: [u16; 10] = [303, 422, 422, 403, 403, 403, 403, 403, 403, 403];
const API_CENTRE_WRITE: [u16; 10] = [401, 422, 422, 403, 403, 403, 403, 403, 403, 403];
/// Managing institution A's teachers: centre and A, not B (S6).
const PAGE_TEACHERS_A: [u16; 10] = [303, 200, 200, 403, 403, 200, 200, 403, 403, 403];
const PAGE_TEACHERS_A_FORM: [u16; 10] = [303, 422, 422, 403, 403, 422, 422, 403, 403, 403];
const API_TEACHERS_A_WRITE: [u16; 10] = [401, 422, 422, 403, 403, 422, 422, 403, 403, 403];
const PAGE_SYSADMIN: [u16; 10] = [303, 403, 403, 403, 403, 403, 403, 403, 403, 200];
const API_SYSADMIN: [u16; 10] = [401, 403, 403, 403, 403, 403, 403, 403, 403, 200];
const PAGE_AUDITOR: [u16; 10] = [303, 403, 403, 403, 403, 403, 403, 403, 200, 403];
const API_AUDITOR: [u16; 10] = [401, 403, 403, 403, 403, 403, 403, 403, 200, 403];

/// An institution body that parses but fails validation (empty name) — the permission checks
/// run first, so allowed roles get 422 and others 403.
const BAD_INSTITUTION: &str = r#"{"name":"","credit_code":"","registered_address":"","contact_person":"","contact_phone":""}"#;
const BAD_TEACHER: &str = r#"{"name":"","id_number":"","phone":""}"#;

#[rustfmt::skip]
const TABLE: &[Row] = &[
    row("GET", "/healthz", Call::Api, ALL_200),
    row("GET", "/metrics", Call::Api, ALL_200),
    row("GET", "/static/app.css", Call::Page, ALL_200),
    row("GET", "/api/openapi.json", Call::Api, ALL_200),
    row("GET", "/login", Call::Page, [200, 303, 303, 303, 303, 303, 303, 303, 303, 303]),
    // No login-form token: refused for everyone (S19).
    row("POST", "/login", Call::Form(&[("username", "x"), ("password", "y")]), [403; 10]),
    row("POST", "/logout", Call::LogoutForm, [303; 10]),
    row("GET", "/account/password", Call::Page, PAGE_ANY_USER),
    row("POST", "/account/password", Call::Form(&[("current_password", "wrong-password")]), [303, 422, 422, 422, 422, 422, 422, 422, 422, 422]),
    row("POST", "/api/v1/auth/login", Call::ApiBody(r#"{"username":"nobody","password":"x"}"#), [401; 10]),
    row("POST", "/api/v1/auth/logout", Call::LogoutApi, [401, 204, 204, 204, 204, 204, 204, 204, 204, 204]),
    row("GET", "/api/v1/me", Call::Api, API_ANY_USER),
    row("POST", "/api/v1/auth/password", Call::ApiBody(r#"{"current_password":"wrong","new_password":"x"}"#), [401, 422, 422, 422, 422, 422, 422, 422, 422, 422]),
    row("GET", "/", Call::Page, PAGE_ANY_USER),
    row("GET", "/api/v1/institutions", Call::Api, API_BUSINESS_LIST),
    row("POST", "/api/v1/institutions", Call::ApiBody(BAD_INSTITUTION), API_CENTRE_WRITE),
    row("GET", "/api/v1/institutions/{id}", Call::Api, API_READ_A),
    row("PUT", "/api/v1/institutions/{id}", Call::ApiBody(BAD_INSTITUTION), API_CENTRE_WRITE),
    row("GET", "/api/v1/institutions/{id}/teachers", Call::Api, API_READ_A),
    row("POST", "/api/v1/institutions/{id}/teachers", Call::ApiBody(BAD_TEACHER), API_TEACHERS_A_WRITE),
    row("GET", "/api/v1/teachers/{id}", Call::Api, API_READ_A),
    row("PUT", "/api/v1/teachers/{id}", Call::ApiBody(BAD_TEACHER), API_TEACHERS_A_WRITE),
    // An empty reason is refused after the permission checks.
    row("POST", "/api/v1/teachers/{id}/reveal", Call::ApiBody(r#"{"reason":""}"#), API_TEACHERS_A_WRITE),
    row("GET", "/institutions", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/institutions/export.xlsx", Call::Page, PAGE_BUSINESS_LIST),
    row("GET", "/institutions/new", Call::Page, PAGE_CENTRE),
    row("POST", "/institutions/new", Call::Form(&[("name", "")]), PAGE_CENTRE_FORM),
    row("GET", "/institutions/{id}", Call::Page, PAGE_READ_A),
    row("GET", "/institutions/{id}/edit", Call::Page, PAGE_CENTRE),
    row("POST", "/institutions/{id}/edit", Call::Form(&[("name", "")]), PAGE_CENTRE_FORM),
    row("GET", "/institutions/{id}/teachers", Call::Page, PAGE_READ_A),
    row("GET", "/institutions/{id}/teachers/export.xlsx", Call::Page, PAGE_READ_A),
    row("GET", "/institutions/{id}/teachers/new", Call::Page, PAGE_TEACHERS_A),
    row("POST", "/institutions/{id}/teachers/new", Call::Form(&[("name", "")]), PAGE_TEACHERS_A_FORM),
    row("GET", "/teachers/{id}/edit", Call::Page, PAGE_TEACHERS_A),
    row("POST", "/teachers/{id}/edit", Call::Form(&[("name", "")]), PAGE_TEACHERS_A_FORM),
    row("GET", "/teachers/{id}/reveal", Call::Page, PAGE_TEACHERS_A),
    row("POST", "/teachers/{id}/reveal", Call::Form(&[("reason", "")]), PAGE_TEACHERS_A_FORM),
    row("GET", "/api/v1/users", Call::Api, API_SYSADMIN),
    row("POST", "/api/v1/users", Call::ApiBody(r#"{"username":"","role":"nope"}"#), [401, 403, 403, 403, 403, 403, 403, 403, 403, 422]),
    row("POST", "/api/v1/users/{id}/active", Call::ApiBody(r#"{"active":true}"#), API_SYSADMIN),
    row("POST", "/api/v1/users/{id}/reset-password", Call::Api, API_SYSADMIN),
    row("GET", "/users", Call::Page, PAGE_SYSADMIN),
    row("GET", "/users/export.xlsx", Call::Page, PAGE_SYSADMIN),
    row("GET", "/users/new", Call::Page, PAGE_SYSADMIN),
    row("POST", "/users/new", Call::Form(&[("username", "")]), [303, 403, 403, 403, 403, 403, 403, 403, 403, 422]),
    row("POST", "/users/{id}/active", Call::Form(&[("active", "1")]), [303, 403, 403, 403, 403, 403, 403, 403, 403, 303]),
    row("POST", "/users/{id}/reset-password", Call::Form(&[]), [303, 403, 403, 403, 403, 403, 403, 403, 403, 200]),
    row("GET", "/api/v1/audit", Call::Api, API_AUDITOR),
    row("GET", "/audit", Call::Page, PAGE_AUDITOR),
    row("GET", "/audit/export.xlsx", Call::Page, PAGE_AUDITOR),
];

#[test]
fn s5_every_registered_route_has_a_row_and_every_row_a_route() {
    let registered: BTreeSet<(String, String)> = peixun_server::routes::registered_routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let tested: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let missing: Vec<_> = registered.difference(&tested).collect();
    let stale: Vec<_> = tested.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the S5 table: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rows for routes that do not exist: {stale:?}"
    );
    // And the server's own access table covers exactly the registered routes.
    let declared: BTreeSet<(String, String)> = peixun_server::routes::ROUTES
        .iter()
        .map(|d| (d.method.to_string(), d.path.to_string()))
        .collect();
    assert_eq!(
        declared, registered,
        "routes::ROUTES and the router disagree"
    );
}

fn concrete(app: &TestApp, path: &str) -> String {
    let id = if path.starts_with("/teachers/") || path.starts_with("/api/v1/teachers/") {
        app.teacher_a
    } else if path.starts_with("/users/") || path.starts_with("/api/v1/users/") {
        app.spare_user
    } else {
        app.inst_a
    };
    path.replace("{id}", &id.to_string())
}

async fn role_route_table(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let mut mismatches = Vec::new();
    for r in TABLE {
        let path = concrete(&app, r.path);
        let method: Method = r.method.parse().expect("method");
        for (i, who) in Who::ALL.into_iter().enumerate() {
            let resp = match r.call {
                Call::Page => app.get(&path, who).await,
                Call::Api => app.api(method.clone(), &path, who, None).await,
                Call::ApiBody(body) => {
                    let v: serde_json::Value = serde_json::from_str(body).expect("json");
                    app.api(method.clone(), &path, who, Some(v)).await
                }
                Call::Form(fields) => app.post_form(&path, who, fields).await,
                Call::LogoutForm => {
                    if who == Who::Anonymous {
                        app.post_form(&path, who, &[]).await
                    } else {
                        let s = app.fresh_session(who).await;
                        app.post_form_raw(&path, Some(&s.token), &[("csrf_token", &s.csrf)], &[])
                            .await
                    }
                }
                Call::LogoutApi => {
                    let token = if who == Who::Anonymous {
                        None
                    } else {
                        Some(app.fresh_session(who).await.token)
                    };
                    let mut b = axum::http::Request::builder()
                        .method(Method::POST)
                        .uri(&path);
                    if let Some(t) = token {
                        b = b.header("authorization", format!("Bearer {t}"));
                    }
                    app.send(b.body(axum::body::Body::empty()).expect("req"))
                        .await
                }
            };
            if resp.status.as_u16() != r.expect[i] {
                mismatches.push(format!(
                    "{} {} as {:?}: expected {}, got {} {}",
                    r.method,
                    r.path,
                    who,
                    r.expect[i],
                    resp.status.as_u16(),
                    resp.text().chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

both_backends!(role_route_table);
