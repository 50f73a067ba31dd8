//! S4: the TOTP second factor through pages and the API — a login with a second step, the
//! enrolment gate for roles that require TOTP, and demo accounts exempt. Codes are computed here
//! with `totp-rs` from the secret the enrolment hands out, at the app's (manual) clock.

use crate::both_backends;
use crate::harness::{PASSWORD, TestApp, TestResponse, Who, enc};
use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::{DateTime, Duration, Utc};
use peixun_domain::role::Role;
use peixun_store::accounts::{self, NewUser, UserView};
use peixun_store::{Actor, Backend, totp};
use serde_json::json;

async fn new_user(app: &TestApp, username: &str, role: Role) -> UserView {
    accounts::create_user(
        &app.store,
        &Actor::system("test"),
        NewUser {
            username: username.into(),
            display_name: format!("新{}", role.label_zh()),
            role,
            institution_id: None,
            password: PASSWORD.into(),
            must_change_password: false,
        },
        app.clock_now(),
    )
    .await
    .unwrap()
}

fn code_at(secret: &str, t: DateTime<Utc>) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret)
        .unwrap()
        .as_bytes()
        .to_vec();
    totp_rs::Builder::new()
        .with_secret(bytes)
        .build()
        .unwrap()
        .generate(t.timestamp() as u64)
        .to_string()
}

/// A 6-digit code that is not the right one at `t` (nor one step either side).
fn wrong_code(secret: &str, t: DateTime<Utc>) -> String {
    let near: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|s| code_at(secret, t + Duration::seconds(*s)))
        .collect();
    (0..10)
        .map(|d| format!("{d}{d}{d}{d}{d}{d}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// Enrol `u` in the store at the app's clock; returns the secret. The clock then moves on two
/// steps, so that the next code is not the confirmation's.
async fn enrol(app: &TestApp, u: &UserView) -> String {
    let me = Actor::from_user(u, None, None);
    let now = app.clock_now();
    let e = totp::begin_enrolment(&app.store, &me, u.id, PASSWORD, None, now)
        .await
        .unwrap();
    totp::confirm(&app.store, &me, u.id, &code_at(&e.secret_base32, now), now)
        .await
        .unwrap();
    app.set_clock(now + Duration::seconds(60));
    e.secret_base32
}

fn cookies(r: &TestResponse) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn cookie_value(r: &TestResponse, name: &str) -> Option<String> {
    cookies(r).iter().find_map(|c| {
        c.strip_prefix(&format!("{name}="))
            .and_then(|s| s.split(';').next())
            .map(str::to_string)
    })
}

async fn form(app: &TestApp, path: &str, cookie: &str, body: String) -> TestResponse {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

async fn get_with(app: &TestApp, path: &str, cookie: &str) -> TestResponse {
    let req = Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    app.send(req).await
}

async fn api_as(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> TestResponse {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = match body {
        Some(v) => {
            b = b.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    app.send(b.body(body).unwrap()).await
}

async fn s4_page_login_has_a_second_step(backend: Backend) {
    let app = TestApp::new(backend).await;
    let u = new_user(&app, "ca_totp", Role::CentreAdmin).await;
    let secret = enrol(&app, &u).await;

    let page = app.get("/login", Who::Anonymous).await;
    let csrf = cookie_value(&page, "peixun_login_csrf").expect("login csrf");
    let r = form(
        &app,
        "/login",
        &format!("peixun_login_csrf={csrf}"),
        format!(
            "csrf_token={csrf}&username=ca_totp&password={}&next=%2Finstitutions",
            enc(PASSWORD)
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), "/login/totp?next=/institutions");
    assert!(
        cookie_value(&r, "peixun_session").is_none(),
        "no session before the code: {:?}",
        cookies(&r)
    );
    let challenge = cookie_value(&r, "peixun_login_2fa").expect("challenge cookie");
    assert!(
        cookies(&r)
            .iter()
            .any(|c| c.starts_with("peixun_login_2fa=")
                && c.contains("Path=/login")
                && c.contains("HttpOnly")
                && c.contains("Max-Age=300"))
    );

    // Without the challenge the second step sends back to the login.
    let r = app
        .get("/login/totp?next=/institutions", Who::Anonymous)
        .await;
    assert_eq!(r.status, 303);
    assert!(r.header("location").starts_with("/login?next="));
    let page = get_with(
        &app,
        "/login/totp?next=/institutions",
        &format!("peixun_login_2fa={challenge}"),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("验证码"));
    let csrf = cookie_value(&page, "peixun_login_csrf").expect("csrf of the second step");
    let both = format!("peixun_login_csrf={csrf}; peixun_login_2fa={challenge}");
    let now = app.clock_now();

    let bad = form(
        &app,
        "/login/totp",
        &both,
        format!(
            "csrf_token={csrf}&next=%2Finstitutions&code={}",
            wrong_code(&secret, now)
        ),
    )
    .await;
    assert_eq!(bad.status, 401, "{}", bad.text());
    let html = bad.text();
    assert!(
        html.contains("验证码不正确") && html.contains("S4"),
        "{html}"
    );
    assert!(cookie_value(&bad, "peixun_session").is_none());

    let ok = form(
        &app,
        "/login/totp",
        &both,
        format!(
            "csrf_token={csrf}&next=%2Finstitutions&code={}",
            code_at(&secret, now)
        ),
    )
    .await;
    assert_eq!(ok.status, 303, "{}", ok.text());
    assert_eq!(ok.header("location"), "/institutions");
    let session = cookie_value(&ok, "peixun_session").expect("session cookie");
    assert!(
        cookies(&ok)
            .iter()
            .any(|c| c.starts_with("peixun_login_2fa=;"))
    );
    let page = get_with(&app, "/institutions", &format!("peixun_session={session}")).await;
    assert_eq!(page.status, 200);

    // The same code again (a new password step) is refused: replay.
    let r = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "username": "ca_totp", "password": PASSWORD })),
    )
    .await;
    let ch = r.json()["challenge"].as_str().unwrap().to_string();
    let replay = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/totp/verify",
        None,
        Some(json!({ "challenge": ch, "code": code_at(&secret, now) })),
    )
    .await;
    assert_eq!(replay.status, 401, "{}", replay.text());
}

async fn s4_api_login_with_challenge_and_verify(backend: Backend) {
    let app = TestApp::new(backend).await;
    let u = new_user(&app, "aud_totp", Role::Auditor).await;
    let secret = enrol(&app, &u).await;
    let now = app.clock_now();

    let r = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "username": "aud_totp", "password": PASSWORD })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["second_factor_required"], true);
    assert!(body.get("token").is_none(), "{body}");
    assert_eq!(body["challenge_expires_in"], 300);
    let challenge = body["challenge"].as_str().unwrap().to_string();
    assert_eq!(challenge.len(), 64);

    // A wrong code answers exactly like a wrong password (S2).
    let wrong_pw = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "username": "aud_totp", "password": "Wrong#Password1" })),
    )
    .await;
    let wrong = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/totp/verify",
        None,
        Some(json!({ "challenge": challenge, "code": wrong_code(&secret, now) })),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body, wrong_pw.body);
    assert_eq!(wrong.json()["code"], "AUTH_FAILED");

    let ok = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/totp/verify",
        None,
        Some(json!({ "challenge": challenge, "code": code_at(&secret, now) })),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let token = ok.json()["token"].as_str().unwrap().to_string();
    let me = api_as(&app, Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["username"], "aud_totp");
    assert_eq!(me.json()["totp_enrolment_required"], false);
    let st = api_as(
        &app,
        Method::GET,
        "/api/v1/auth/totp/status",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(st.json()["state"], "enabled");
    assert_eq!(st.json()["recovery_codes_left"], 10);
    // The challenge was used up.
    let again = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/totp/verify",
        None,
        Some(json!({ "challenge": challenge, "code": code_at(&secret, now + Duration::seconds(30)) })),
    )
    .await;
    assert_eq!(again.status, 401);
    // A required role cannot turn it off (S4).
    let off = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/totp/disable",
        Some(&token),
        Some(
            json!({ "password": PASSWORD, "code": code_at(&secret, now + Duration::seconds(60)) }),
        ),
    )
    .await;
    assert_eq!(off.status, 422);
    assert_eq!(off.json()["code"], "TOTP_REQUIRED");
}

async fn s4_required_user_is_gated_to_enrolment(backend: Backend) {
    let app = TestApp::new(backend).await;
    new_user(&app, "bureau_new", Role::Bureau).await;
    // Not enrolled yet: the password alone gives a session…
    let r = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "username": "bureau_new", "password": PASSWORD })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let token = r.json()["token"].as_str().unwrap().to_string();
    // …that reaches only the enrolment.
    let list = api_as(
        &app,
        Method::GET,
        "/api/v1/institutions",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(list.status, 403);
    assert_eq!(list.json()["code"], "TOTP_ENROLMENT_REQUIRED");
    let me = api_as(&app, Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["totp_enrolment_required"], true);
    let cookie = format!("peixun_session={token}");
    for path in ["/", "/institutions"] {
        let p = get_with(&app, path, &cookie).await;
        assert_eq!(p.status, 303, "{path}");
        assert_eq!(p.header("location"), "/account/totp", "{path}");
    }
    let page = get_with(&app, "/account/totp", &cookie).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("必须使用动态验证码"),
        "{}",
        page.text()
    );

    // Enrol through the API: the secret, its otpauth URL and a QR code.
    let bad = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/totp/enrol",
        Some(&token),
        Some(json!({ "password": "Wrong#Password1" })),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["field"], "password");
    let e = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/totp/enrol",
        Some(&token),
        Some(json!({ "password": PASSWORD })),
    )
    .await;
    assert_eq!(e.status, 200, "{}", e.text());
    let e = e.json();
    let secret = e["secret"].as_str().unwrap().to_string();
    let url = e["otpauth_url"].as_str().unwrap();
    assert!(url.starts_with("otpauth://totp/"), "{url}");
    assert!(url.contains(&format!("secret={secret}")));
    assert!(e["qr_svg"].as_str().unwrap().contains("<svg"));
    // The page shows the same secret and its QR code while it is pending.
    let page = get_with(&app, "/account/totp", &cookie).await;
    assert!(page.text().contains(&secret));
    assert!(page.text().contains("<img src=\"data:image"), "the QR code");
    let still = api_as(
        &app,
        Method::GET,
        "/api/v1/institutions",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(still.status, 403, "pending is not enrolled");

    let now = app.clock_now();
    let wrong = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/totp/confirm",
        Some(&token),
        Some(json!({ "code": wrong_code(&secret, now) })),
    )
    .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.json()["field"], "code");
    assert!(wrong.json()["message"].as_str().unwrap().contains("验证码"));
    let ok = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/totp/confirm",
        Some(&token),
        Some(json!({ "code": code_at(&secret, now) })),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["recovery_codes"].as_array().unwrap().len(), 10);
    let list = api_as(
        &app,
        Method::GET,
        "/api/v1/institutions",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(list.status, 200, "enrolled: the gate opens");
    // From now on the password alone gives no token.
    let r = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "username": "bureau_new", "password": PASSWORD })),
    )
    .await;
    assert_eq!(r.json()["second_factor_required"], true);
    assert!(r.json().get("token").is_none());
}

async fn s4_enrolment_through_the_pages(backend: Backend) {
    let app = TestApp::new(backend).await;
    new_user(&app, "sys_new", Role::Sysadmin).await;
    let r = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "username": "sys_new", "password": PASSWORD })),
    )
    .await;
    let token = r.json()["token"].as_str().unwrap().to_string();
    let info = peixun_store::sessions::lookup_session(&app.store, &token, app.clock_now())
        .await
        .unwrap()
        .unwrap();
    let cookie = format!("peixun_session={token}");
    let csrf = info.csrf_token;
    let r = form(
        &app,
        "/account/totp/enrol",
        &cookie,
        format!("csrf_token={csrf}&password={}", enc(PASSWORD)),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let u = accounts::find_user_by_username(&app.store, "sys_new")
        .await
        .unwrap()
        .unwrap();
    let me = Actor::from_user(&u, None, None);
    let secret = totp::pending_enrolment(&app.store, &me, u.id)
        .await
        .unwrap()
        .unwrap()
        .secret_base32;
    let bad = form(
        &app,
        "/account/totp/confirm",
        &cookie,
        format!(
            "csrf_token={csrf}&code={}",
            wrong_code(&secret, app.clock_now())
        ),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text().contains("验证码不正确"));
    let ok = form(
        &app,
        "/account/totp/confirm",
        &cookie,
        format!(
            "csrf_token={csrf}&code={}",
            code_at(&secret, app.clock_now())
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let html = ok.text();
    assert!(html.contains("只显示这一次"));
    assert_eq!(html.matches("<li><code>").count(), 10);
    let page = get_with(&app, "/account/totp", &cookie).await;
    assert!(page.text().contains("已启用"));
    assert!(page.text().contains("不能关闭"));
    assert_eq!(get_with(&app, "/", &cookie).await.status, 200);
}

async fn s4_demo_exempt_user_logs_in_with_password_only(backend: Backend) {
    let app = TestApp::new(backend).await;
    let u = new_user(&app, "demo_ca", Role::CentreAdmin).await;
    totp::set_exempt(
        &app.store,
        &Actor::system("demo-seed"),
        u.id,
        true,
        app.clock_now(),
    )
    .await
    .unwrap();
    let r = api_as(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "username": "demo_ca", "password": PASSWORD })),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["second_factor_required"], false);
    let token = r.json()["token"].as_str().unwrap().to_string();
    let list = api_as(
        &app,
        Method::GET,
        "/api/v1/institutions",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(list.status, 200);
    let cookie = format!("peixun_session={token}");
    assert_eq!(get_with(&app, "/", &cookie).await.status, 200);
    let page = get_with(&app, "/account/totp", &cookie).await;
    assert!(page.text().contains("演示账号"), "{}", page.text());
    let st = api_as(
        &app,
        Method::GET,
        "/api/v1/auth/totp/status",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(st.json()["exempt"], true);
    assert_eq!(st.json()["required"], false);
}

both_backends!(
    s4_page_login_has_a_second_step,
    s4_api_login_with_challenge_and_verify,
    s4_required_user_is_gated_to_enrolment,
    s4_enrolment_through_the_pages,
    s4_demo_exempt_user_logs_in_with_password_only,
);
