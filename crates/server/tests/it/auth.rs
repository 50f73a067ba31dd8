//! Login, sessions, logout, forced password change (S2, S3).

use crate::both_backends;
use crate::harness::{PASSWORD, TestApp, Who};
use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::Duration;
use peixun_store::Backend;
use serde_json::json;

async fn api_login(app: &TestApp, username: &str, password: &str) -> crate::harness::TestResponse {
    app.api(
        Method::POST,
        "/api/v1/auth/login",
        Who::Anonymous,
        Some(json!({ "username": username, "password": password })),
    )
    .await
}

async fn s2_anonymous_api_gets_401(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = app.get_api("/api/v1/institutions", Who::Anonymous).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "AUTH_REQUIRED");
    // A made-up bearer token is anonymous too.
    let req = Request::get("/api/v1/institutions")
        .header(header::AUTHORIZATION, "Bearer deadbeef")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, 401);
}

async fn s2_unknown_user_and_wrong_password_get_the_same_answer(backend: Backend) {
    let app = TestApp::new(backend).await;
    let unknown = api_login(&app, "no_such_user", PASSWORD).await;
    let wrong = api_login(&app, "centre_staff", "Wrong#Password1").await;
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(
        unknown.json(),
        json!({ "code": "AUTH_FAILED", "message": peixun_server::error::AUTH_FAILED_ZH })
    );
    let ok = api_login(&app, "centre_staff", PASSWORD).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let token = ok.json()["token"].as_str().unwrap().to_string();
    let req = Request::get("/api/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let me = app.send(req).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["role"], "centre_staff");
}

async fn s2_five_failures_lock_the_account(backend: Backend) {
    let app = TestApp::new(backend).await;
    for _ in 0..5 {
        assert_eq!(api_login(&app, "city", "Wrong#Password1").await.status, 401);
    }
    // Even the right password is refused while locked — with the answer of a wrong password.
    let locked = api_login(&app, "city", crate::harness::PASSWORD).await;
    assert_eq!(locked.status, 401);
    assert_eq!(locked.json()["code"], "AUTH_FAILED");
    // The lockout is in the audit log.
    let rows = peixun_store::audit::search(
        &app.store,
        &peixun_store::Actor::system("t"),
        &peixun_store::audit::AuditFilter {
            action: Some("auth.lockout".into()),
            ..Default::default()
        },
        &peixun_store::PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(rows.items.len(), 1);
    // 15 minutes later it works again.
    app.clock.advance(Duration::minutes(16));
    assert_eq!(api_login(&app, "city", PASSWORD).await.status, 200);
}

/// S2: a locked account and an unknown one answer alike — same status, same body, similar time
/// (both verify a password hash: the unknown user against a dummy hash) — on the API and on the
/// login form.
async fn s2_lockout_answers_like_an_unknown_user(backend: Backend) {
    let app = TestApp::new(backend).await;
    for _ in 0..5 {
        api_login(&app, "bureau", "Wrong#Password1").await;
    }
    let time = |user: &'static str| {
        let app = &app;
        async move {
            let t = std::time::Instant::now();
            let r = api_login(app, user, "Wrong#Password1").await;
            (r, t.elapsed())
        }
    };
    // Warm both paths once (the dummy hash is made on first use).
    time("no_such_user").await;
    let (locked, t_locked) = time("bureau").await;
    let (unknown, t_unknown) = time("no_such_user").await;
    assert_eq!(locked.status, unknown.status);
    assert_eq!(locked.status, 401);
    assert_eq!(locked.body, unknown.body);
    assert_eq!(
        locked.header("www-authenticate"),
        unknown.header("www-authenticate")
    );
    // Similar time: both run one argon2 verification (≈ tens of ms); neither is 5× the other.
    let (a, b) = (t_locked.as_secs_f64(), t_unknown.as_secs_f64());
    assert!(
        a < b * 5.0 + 0.05 && b < a * 5.0 + 0.05,
        "locked {a:.3}s, unknown {b:.3}s"
    );
    // The login form says the same for both.
    let form = |user: &'static str| {
        let app = &app;
        async move {
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
                    "csrf_token={csrf}&username={user}&password=Wrong%23Password1&next=%2F"
                )))
                .unwrap();
            app.send(req).await
        }
    };
    let (fl, fu) = (form("bureau").await, form("no_such_user").await);
    assert_eq!(fl.status, 401);
    assert_eq!(fl.status, fu.status);
    let strip = |html: String, user: &str| {
        // The token and the echoed username differ by construction; the rest must not.
        let html = html.replace(user, "USER");
        html.split('\n')
            .filter(|l| !l.contains("csrf"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(fl.text(), "bureau"), strip(fu.text(), "no_such_user"));
    assert!(fl.text().contains("用户名或密码错误"));
}

both_backends!(s2_lockout_answers_like_an_unknown_user);

async fn s3_login_page_sets_a_new_session_cookie(backend: Backend) {
    let app = TestApp::new(backend).await;
    let page = app.get("/login", Who::Anonymous).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("登录"));
    let set = page.header("set-cookie").to_string();
    let login_csrf = set
        .strip_prefix("peixun_login_csrf=")
        .and_then(|s| s.split(';').next())
        .expect("login csrf cookie")
        .to_string();
    assert!(page.text().contains(&login_csrf));
    // An old session cookie sent along is not reused: the login gives a new id.
    let old = app.fresh_session(Who::CentreAdmin).await;
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(
            header::COOKIE,
            format!(
                "peixun_login_csrf={login_csrf}; peixun_session={}",
                old.token
            ),
        )
        .body(Body::from(format!(
            "csrf_token={login_csrf}&username=centre_admin&password={}&next=%2Finstitutions",
            crate::harness::enc(PASSWORD)
        )))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), "/institutions");
    let cookies: Vec<String> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("peixun_session="))
        .expect("session cookie");
    assert!(session.contains("HttpOnly"));
    assert!(session.contains("SameSite=Lax"));
    assert!(session.contains("Path=/"));
    assert!(!session.contains(&old.token));
    // …and the old session is gone server-side.
    let replay = app
        .send(
            Request::get("/api/v1/me")
                .header(header::AUTHORIZATION, format!("Bearer {}", old.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(replay.status, 401);
    // A wrong password on the page: the Chinese message, same for an unknown user.
    let page = app.get("/login", Who::Anonymous).await;
    let set = page.header("set-cookie").to_string();
    let tok = set
        .strip_prefix("peixun_login_csrf=")
        .and_then(|s| s.split(';').next())
        .unwrap()
        .to_string();
    let bad = app
        .post_form_raw(
            "/login",
            None,
            &[
                ("csrf_token", &tok),
                ("username", "centre_admin"),
                ("password", "nope"),
            ],
            &[("cookie", &format!("peixun_login_csrf={tok}"))],
        )
        .await;
    assert_eq!(bad.status, 401);
    assert!(bad.text().contains("用户名或密码错误"));
    assert!(bad.text().contains("提交内容有误"));
}

async fn s3_logout_kills_the_session(backend: Backend) {
    let app = TestApp::new(backend).await;
    // Pages: the replayed cookie is sent to the login page.
    let s = app.fresh_session(Who::CentreStaff).await;
    let cookie = format!("peixun_session={}", s.token);
    let home = |c: String| {
        Request::get("/")
            .header(header::COOKIE, c)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(app.send(home(cookie.clone())).await.status, 200);
    let out = app
        .post_form_raw("/logout", Some(&s.token), &[("csrf_token", &s.csrf)], &[])
        .await;
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    let replay = app.send(home(cookie)).await;
    assert_eq!(replay.status, 303);
    assert!(replay.header("location").starts_with("/login"));
    // API: the replayed bearer token gets 401.
    let s = app.fresh_session(Who::Bureau).await;
    let call = |t: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/auth/logout")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(app.send(call(&s.token)).await.status, 204);
    let me = Request::get("/api/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {}", s.token))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(me).await.status, 401);
}

async fn s3_idle_session_expires(backend: Backend) {
    let app = TestApp::new(backend).await;
    assert_eq!(app.get_api("/api/v1/me", Who::City).await.status, 200);
    app.clock.advance(Duration::minutes(31));
    assert_eq!(app.get_api("/api/v1/me", Who::City).await.status, 401);
}

both_backends!(
    s2_anonymous_api_gets_401,
    s2_unknown_user_and_wrong_password_get_the_same_answer,
    s2_five_failures_lock_the_account,
    s3_logout_kills_the_session,
);

#[tokio::test]
async fn s3_login_page_sets_a_new_session_cookie_sqlite() {
    s3_login_page_sets_a_new_session_cookie(Backend::Sqlite).await
}

#[tokio::test]
async fn s3_idle_session_expires_sqlite() {
    s3_idle_session_expires(Backend::Sqlite).await
}

#[tokio::test]
async fn s1_one_time_password_must_be_changed_first() {
    let app = TestApp::new(Backend::Sqlite).await;
    let sys = app.session(Who::Sysadmin).await.unwrap();
    let created = app
        .api(
            Method::POST,
            "/api/v1/users",
            Who::Sysadmin,
            Some(json!({ "username": "new_centre", "display_name": "新同事", "role": "centre_staff" })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let first = created.json()["credential"]["half"]
        .as_str()
        .unwrap()
        .to_string();
    let request = created.json()["credential"]["request"]["id"]
        .as_i64()
        .unwrap();
    drop(sys);
    // S7: the sysadmin's half alone opens nothing; a centre_admin confirms for the second.
    assert_eq!(api_login(&app, "new_centre", &first).await.status, 401);
    let confirmed = app
        .api(
            Method::POST,
            &format!("/api/v1/credential-requests/{request}/confirm"),
            Who::CentreAdmin,
            None,
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    let second = confirmed.json()["half"].as_str().unwrap().to_string();
    assert_eq!(api_login(&app, "new_centre", &second).await.status, 401);
    let otp = format!("{first}-{second}");
    let login = api_login(&app, "new_centre", &otp).await;
    assert_eq!(login.status, 200);
    let token = login.json()["token"].as_str().unwrap().to_string();
    let cookie = format!("peixun_session={token}");
    // Every page goes to the password page until the password is changed.
    let r = app
        .send(
            Request::get("/institutions")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), "/account/password");
    let api = app
        .send(
            Request::get("/api/v1/institutions")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(api.status, 403);
    let page = app
        .send(
            Request::get("/account/password")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("一次性密码"));
    let info = peixun_store::sessions::lookup_session(&app.store, &token, app.clock_now())
        .await
        .unwrap()
        .unwrap();
    let changed = app
        .post_form_raw(
            "/account/password",
            Some(&token),
            &[
                ("csrf_token", &info.csrf_token),
                ("current_password", &otp),
                ("new_password", "Brand#New2026pw"),
                ("new_password_confirm", "Brand#New2026pw"),
            ],
            &[],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.text());
    let new_cookie = changed
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("peixun_session="))
        .expect("new session after the change");
    let new_token = new_cookie["peixun_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let r = app
        .send(
            Request::get("/institutions")
                .header(header::COOKIE, format!("peixun_session={new_token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    // Past the password gate; a centre account must next set up TOTP (S4), then it is in.
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), "/account/totp");
    let r = app
        .send(
            Request::get("/account/totp")
                .header(header::COOKIE, format!("peixun_session={new_token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn s3_reset_and_deactivation_end_the_users_sessions() {
    let app = TestApp::new(Backend::Sqlite).await;
    let me = |t: &str| {
        Request::get("/api/v1/me")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };
    let t = peixun_store::sessions::create_session(&app.store, app.spare_user, app.clock_now())
        .await
        .unwrap();
    assert_eq!(app.send(me(&t)).await.status, 200);
    let r = app
        .post_form(
            &format!("/users/{}/reset-password", app.spare_user),
            Who::Sysadmin,
            &[("reason", "用户忘记密码，已电话核实")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("前半段"));
    // Requested, not yet confirmed: nothing about the account has changed (S7).
    assert_eq!(app.send(me(&t)).await.status, 200);
    let pending = peixun_store::credentials::list_requests(
        &app.store,
        &peixun_store::Actor::from_user(
            &peixun_store::accounts::get_user(&app.store, app.user_id(Who::CentreAdmin))
                .await
                .unwrap(),
            None,
            None,
        ),
        true,
        app.clock_now(),
    )
    .await
    .unwrap();
    assert_eq!(pending.len(), 1);
    let r = app
        .post_form(
            &format!("/credential-requests/{}/confirm", pending[0].id),
            Who::CentreAdmin,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("后半段"));
    assert_eq!(app.send(me(&t)).await.status, 401);
    // The account must now change its password.
    let u = peixun_store::accounts::get_user(&app.store, app.spare_user)
        .await
        .unwrap();
    assert!(u.must_change_password);
    // Deactivation.
    let s = app.fresh_session(Who::City).await;
    assert_eq!(app.send(me(&s.token)).await.status, 200);
    let r = app
        .post_form(
            &format!("/users/{}/active", app.user_id(Who::City)),
            Who::Sysadmin,
            &[("active", "0")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(app.send(me(&s.token)).await.status, 401);
}

/// S2: a login flood is bounded by the login gate: beyond it, 429 with `Retry-After` at once,
/// never 5xx, and `/healthz` and signed-in pages stay fast meanwhile.
async fn s2_a_login_flood_never_gets_5xx(backend: Backend) {
    let app = std::sync::Arc::new(TestApp::new(backend).await);
    let session = app.fresh_session(Who::CentreStaff).await;
    let mut tasks = Vec::new();
    for i in 0..120 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let user = ["nobody", "ghost", "nobody2", "centre_admin"][i % 4];
            let r = api_login(&app, user, "Wrong#Password1").await;
            (r.status.as_u16(), r.headers.get("retry-after").cloned())
        }));
    }
    // Meanwhile: the health check and a signed-in page answer, and quickly.
    let mut slowest = std::time::Duration::ZERO;
    for _ in 0..10 {
        let t = std::time::Instant::now();
        assert_eq!(app.get_api("/healthz", Who::Anonymous).await.status, 200);
        let req = Request::get("/api/v1/me")
            .header(header::AUTHORIZATION, format!("Bearer {}", session.token))
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(req).await.status, 200);
        slowest = slowest.max(t.elapsed());
    }
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for t in tasks {
        let (status, retry_after) = t.await.unwrap();
        *by_status.entry(status).or_default() += 1;
        assert!(matches!(status, 401 | 429), "status {status}");
        if status == 429 {
            assert_eq!(retry_after.expect("429 carries Retry-After"), "2");
        }
    }
    assert!(
        by_status.get(&429).copied().unwrap_or(0) > 0,
        "the login gate never refused: {by_status:?}"
    );
    assert!(
        slowest < std::time::Duration::from_secs(5),
        "healthz/me took {slowest:?}"
    );
}

/// S2: the login form answers a flood with a Chinese page and `Retry-After`.
async fn s2_the_login_form_answers_429_in_chinese(backend: Backend) {
    let app = TestApp::new(backend).await;
    // Hold every place of the gate, as a flood would.
    let _held = app
        .state
        .login_gate
        .clone()
        .acquire_many_owned(peixun_server::LOGIN_CONCURRENCY as u32)
        .await
        .unwrap();
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
            "csrf_token={csrf}&username=centre_admin&password={}&next=%2F",
            crate::harness::enc(PASSWORD)
        )))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), "2");
    assert!(r.text().contains("请求过于频繁"), "{}", r.text());
    let api = api_login(&app, "centre_admin", PASSWORD).await;
    assert_eq!(api.status, 429);
    assert_eq!(api.json()["code"], "TOO_MANY_REQUESTS");
    assert_eq!(api.header("retry-after"), "2");
}

both_backends!(s2_the_login_form_answers_429_in_chinese);

both_backends!(s2_a_login_flood_never_gets_5xx);

/// S10: a logout (page or API) writes exactly one `auth.logout` row; a replay writes none.
async fn s10_logout_is_audited(backend: Backend) {
    let app = TestApp::new(backend).await;
    let logouts = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            peixun_store::audit::search(
                &store,
                &peixun_store::Actor::system("t"),
                &peixun_store::audit::AuditFilter {
                    action: Some("auth.logout".into()),
                    ..Default::default()
                },
                &peixun_store::PageRequest::first(10),
            )
            .await
            .unwrap()
        }
    };
    let s = app.fresh_session(Who::CentreStaff).await;
    let out = app
        .post_form_raw("/logout", Some(&s.token), &[("csrf_token", &s.csrf)], &[])
        .await;
    assert_eq!(out.status, 303);
    let s = app.fresh_session(Who::Bureau).await;
    let call = |t: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/auth/logout")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(app.send(call(&s.token)).await.status, 204);
    assert_eq!(app.send(call(&s.token)).await.status, 401);
    let log = logouts(&app).await;
    assert_eq!(log.total, 2);
    assert_eq!(log.items[0].role.as_deref(), Some("bureau"));
    assert_eq!(log.items[1].role.as_deref(), Some("centre_staff"));
    assert!(log.items.iter().all(|e| e.request_id.is_some()));
}

both_backends!(s10_logout_is_audited);
