//! Sign in and out, change password, the home page per role.

use super::Registrar;
use super::api_auth::{LoginStep, do_change_password, do_login};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx, safe_next};
use crate::error::{AppError, AppResult};
use crate::pages::{CsrfForm, LoginForm, Saved, form_errors, no_errors, render};
use crate::security::{self, LOGIN_CSRF_COOKIE};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::role::Role;
use peixun_store::{PageRequest, accounts, audit, institutions, sessions, teachers};
use serde::Deserialize;

pub fn register(r: Registrar) -> Registrar {
    r.get("/login", login_page)
        .post("/login", login_submit)
        .post("/logout", logout)
        .get("/account/password", password_page)
        .post("/account/password", password_submit)
        .get("/", home)
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn login_response(
    state: &AppState,
    username: &str,
    next: &str,
    errors: (Value, Value),
    status: axum::http::StatusCode,
) -> AppResult<Response> {
    let token = security::random_token();
    let ctx = context! {
        login_csrf => token.clone(),
        next => next,
        username => username,
        errors => errors.0,
        field_errors => errors.1,
    };
    let mut resp = render(state, None, "/login", "login.html", "登录", ctx)?;
    *resp.status_mut() = status;
    resp.headers_mut().append(
        header::SET_COOKIE,
        security::cookie(
            LOGIN_CSRF_COOKIE,
            &token,
            "/login",
            state.config.secure_cookies,
            Some(3600),
        ),
    );
    Ok(resp)
}

async fn login_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    if user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    login_response(
        &state,
        "",
        &safe_next(q.next.as_deref()),
        no_errors(),
        axum::http::StatusCode::OK,
    )
}

async fn login_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    previous: Option<CurrentUser>,
    LoginForm(form): LoginForm,
) -> AppResult<Response> {
    let username = form.get("username").trim().to_string();
    let next = safe_next(Some(form.get("next")));
    match do_login(&state, &ctx, &username, form.get("password")).await {
        Ok(LoginStep::SecondFactor(challenge)) => {
            // S4: the password was right; the code comes next, within five minutes.
            let mut resp = Redirect::to(&format!(
                "/login/totp?next={}",
                crate::auth::urlencode(&next)
            ))
            .into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                security::cookie(
                    super::totp::CHALLENGE_COOKIE,
                    &challenge,
                    "/login",
                    state.config.secure_cookies,
                    Some(peixun_store::totp::login::CHALLENGE_TTL.num_seconds()),
                ),
            );
            Ok(resp)
        }
        Ok(LoginStep::Session(token)) => {
            // A session this browser already had ends here (S3: a new id at every login).
            if let Some(p) = previous {
                sessions::delete_session(&state.store, &p.token).await?;
            }
            let mut resp = Redirect::to(&next).into_response();
            let h = resp.headers_mut();
            h.append(
                header::SET_COOKIE,
                security::session_cookie(&token, state.config.secure_cookies),
            );
            h.append(
                header::SET_COOKIE,
                security::cookie(
                    LOGIN_CSRF_COOKIE,
                    "",
                    "/login",
                    state.config.secure_cookies,
                    Some(0),
                ),
            );
            Ok(resp)
        }
        Err(e @ (AppError::AuthFailed | AppError::TooManyRequests)) => {
            let status = e.status();
            let errors = form_errors(&e, |_| "username".into());
            let mut resp = login_response(&state, &username, &next, errors, status)?;
            if status == axum::http::StatusCode::TOO_MANY_REQUESTS {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, crate::error::RETRY_AFTER_SECS.into());
            }
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(_): CsrfForm,
) -> AppResult<Response> {
    sessions::delete_session_audited(
        &state.store,
        &user.token,
        &user.actor(&ctx),
        state.clock.now(),
    )
    .await?;
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        security::clear_session_cookie(state.config.secure_cookies),
    );
    Ok(resp)
}

async fn password_page(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let (errors, field_errors) = no_errors();
    render(
        &state,
        Some(&user),
        "/account/password",
        "password.html",
        "修改密码",
        context! { forced => user.user.must_change_password, errors, field_errors },
    )
}

async fn password_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let new = form.get("new_password");
    let result = if new != form.get("new_password_confirm") {
        Err(AppError::validation(
            "PASSWORD_MISMATCH",
            "两次输入的新密码不一致",
            Some("new_password_confirm"),
        ))
    } else {
        do_change_password(&state, &user, &ctx, form.get("current_password"), new).await
    };
    match result {
        Ok(token) => {
            let mut resp = Redirect::to("/?saved=password").into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                security::session_cookie(&token, state.config.secure_cookies),
            );
            Ok(resp)
        }
        Err(e) if crate::pages::is_form_error(&e) || matches!(e, AppError::AuthFailed) => {
            let e = match e {
                AppError::AuthFailed => AppError::validation(
                    "PASSWORD_WRONG",
                    "当前密码不正确",
                    Some("current_password"),
                ),
                other => other,
            };
            let (errors, field_errors) = form_errors(&e, |f| match f {
                "password" | "new" | "new_password" => "new_password".into(),
                "old" | "old_password" | "current_password" => "current_password".into(),
                other => other.into(),
            });
            let mut resp = render(
                &state,
                Some(&user),
                "/account/password",
                "password.html",
                "修改密码",
                context! { forced => user.user.must_change_password, errors, field_errors },
            )?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

async fn home(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    Query(saved): Query<Saved>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let one = PageRequest::first(1);
    let (kind, stats, institution) = match user.role {
        Role::CentreAdmin | Role::CentreStaff => {
            let all =
                institutions::list_institutions(&state.store, &actor, &Default::default(), &one)
                    .await?;
            let major = institutions::list_institutions(
                &state.store,
                &actor,
                &institutions::InstitutionFilter {
                    major_only: true,
                    ..Default::default()
                },
                &one,
            )
            .await?;
            (
                "centre",
                context! { institutions => all.total, major => major.total },
                Value::from(()),
            )
        }
        Role::Bureau | Role::City => {
            let all =
                institutions::list_institutions(&state.store, &actor, &Default::default(), &one)
                    .await?;
            (
                "reader",
                context! { institutions => all.total },
                Value::from(()),
            )
        }
        Role::InstitutionAdmin | Role::InstitutionStaff => match user.user.institution_id {
            Some(id) => {
                let inst = institutions::get_institution(&state.store, &actor, id).await?;
                let t = teachers::list_teachers(&state.store, &actor, id, &one).await?;
                // R-VIO-2: its own confirmed violations (S6).
                let vs = peixun_store::violations::list_violations(
                    &state.store,
                    &actor,
                    &Default::default(),
                    &peixun_store::PageRequest::first(20),
                )
                .await?;
                let violations: Vec<_> = vs
                    .items
                    .iter()
                    .map(super::violations::violation_value)
                    .collect();
                (
                    "institution",
                    context! { teachers => t.total, violations => Value::from(minijinja::value::Serde(violations)) },
                    super::pages_institutions::institution_value(&inst),
                )
            }
            None => (
                "institution",
                context! { teachers => 0, violations => Value::from(Vec::<Value>::new()) },
                Value::from(()),
            ),
        },
        Role::Sysadmin => {
            let n = accounts::count_users(&state.store).await?;
            ("sysadmin", context! { users => n }, Value::from(()))
        }
        Role::Auditor => {
            let n = audit::count(&state.store).await?;
            ("auditor", context! { audit => n }, Value::from(()))
        }
    };
    // The work list (issue 5 item 7): what needs doing next, with deadlines.
    let work = super::running::home_work(&state, &actor).await?;
    // R-CAL-1: from 1 November, the centre and the sysadmin are warned while next year's holiday
    // table is missing (filings for January cannot be checked without it).
    let calendar_missing = if user.role.is_centre() || user.role == Role::Sysadmin {
        let today = state
            .clock
            .now()
            .with_timezone(&peixun_domain::rules::shanghai())
            .date_naive();
        peixun_store::calendar::next_year_missing(&state.store, today).await?
    } else {
        None
    };
    render(
        &state,
        Some(&user),
        "/",
        "home.html",
        "首页",
        context! {
            kind, stats, institution, work, calendar_missing,
            can_load_calendar => user.role == Role::Sysadmin,
            flash => saved.flash(),
        },
    )
}
