//! The pages of the second factor (S4): the second step of a login (`/login/totp`, reached from
//! `POST /login` with a challenge cookie) and the account's page (`/account/totp`): set up,
//! confirm (the recovery codes are shown once, on the answer to the confirmation), replace, and
//! — for roles that do not require it — turn off.

use super::super::Registrar;
use super::super::api_auth::{do_verify_second_factor, login_permit};
use super::CHALLENGE_COOKIE;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx, safe_next};
use crate::error::{AppError, AppResult};
use crate::pages::{CsrfForm, LoginForm, form_errors, is_form_error, no_errors, render};
use crate::security::{self, LOGIN_CSRF_COOKIE};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_store::totp::{self, TotpState};
use serde::Deserialize;

pub fn register(r: Registrar) -> Registrar {
    r.get("/login/totp", login_totp_page)
        .post("/login/totp", login_totp_submit)
        .get("/account/totp", account_page)
        .post("/account/totp/enrol", enrol_submit)
        .post("/account/totp/confirm", confirm_submit)
        .post("/account/totp/disable", disable_submit)
}

#[derive(Debug, Deserialize)]
pub struct TotpQuery {
    next: Option<String>,
    saved: Option<String>,
}

/// The message of a failed second step: names the field and the rule, and says what the
/// lockout is — the same for a wrong, replayed or expired code and a locked account (S2).
const CODE_FAILED: &str = "验证码不正确、已使用或已过期（S4）；连续失败 5 次，账户将锁定 15 分钟。超过 5 分钟请重新登录。";

fn login_totp_response(
    state: &AppState,
    next: &str,
    errors: (Value, Value),
    status: StatusCode,
) -> AppResult<Response> {
    let token = security::random_token();
    let ctx = context! {
        login_csrf => token.clone(),
        next => next,
        errors => errors.0,
        field_errors => errors.1,
    };
    let mut resp = render(
        state,
        None,
        "/login/totp",
        "login_totp.html",
        "输入动态验证码",
        ctx,
    )?;
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

fn challenge_of(headers: &HeaderMap) -> Option<String> {
    security::get_cookie(headers, CHALLENGE_COOKIE).filter(|c| !c.is_empty())
}

async fn login_totp_page(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    headers: HeaderMap,
    Query(q): Query<TotpQuery>,
) -> AppResult<Response> {
    if user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let next = safe_next(q.next.as_deref());
    if challenge_of(&headers).is_none() {
        return Ok(
            Redirect::to(&format!("/login?next={}", crate::auth::urlencode(&next))).into_response(),
        );
    }
    login_totp_response(&state, &next, no_errors(), StatusCode::OK)
}

async fn login_totp_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    headers: HeaderMap,
    previous: Option<CurrentUser>,
    LoginForm(form): LoginForm,
) -> AppResult<Response> {
    let next = safe_next(Some(form.get("next")));
    let challenge = challenge_of(&headers).unwrap_or_default();
    match do_verify_second_factor(&state, &ctx, &challenge, form.get("code")).await {
        Ok(token) => {
            if let Some(p) = previous {
                peixun_store::sessions::delete_session(&state.store, &p.token).await?;
            }
            let secure = state.config.secure_cookies;
            let mut resp = Redirect::to(&next).into_response();
            let h = resp.headers_mut();
            h.append(header::SET_COOKIE, security::session_cookie(&token, secure));
            h.append(
                header::SET_COOKIE,
                security::cookie(CHALLENGE_COOKIE, "", "/login", secure, Some(0)),
            );
            h.append(
                header::SET_COOKIE,
                security::cookie(LOGIN_CSRF_COOKIE, "", "/login", secure, Some(0)),
            );
            Ok(resp)
        }
        Err(e @ (AppError::AuthFailed | AppError::TooManyRequests)) => {
            let status = e.status();
            let e = match e {
                AppError::AuthFailed => {
                    AppError::validation("TOTP_FAILED", CODE_FAILED, Some("code"))
                }
                other => other,
            };
            let errors = form_errors(&e, |_| "code".into());
            let mut resp = login_totp_response(&state, &next, errors, status)?;
            if status == StatusCode::TOO_MANY_REQUESTS {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, crate::error::RETRY_AFTER_SECS.into());
            }
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

/// Time in Beijing time, to the minute.
fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&peixun_domain::rules::shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The account page with `errors`, answered with `status`.
async fn account_view(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    flash: Option<&str>,
    errors: (Value, Value),
    status: StatusCode,
) -> AppResult<Response> {
    let s = totp::status(&state.store, user.user.id).await?;
    let pending = totp::pending_enrolment(&state.store, &user.actor(ctx), user.user.id)
        .await?
        .map(|e| {
            context! {
                secret => e.secret_base32,
                qr => super::super::certificates::qr_data_uri(&e.otpauth_url),
            }
        });
    let state_code = match s.state {
        TotpState::NotEnrolled => "not_enrolled",
        TotpState::Pending => "pending",
        TotpState::Enabled => "enabled",
    };
    let mut resp = render(
        state,
        Some(user),
        "/account/totp",
        "account_totp.html",
        "动态验证码",
        context! {
            state => state_code,
            required => s.required,
            exempt => s.exempt,
            role_requires => user.role.requires_second_factor(),
            enabled_at => s.enabled_at.map(local),
            replacing => s.replacing,
            recovery_codes_left => s.recovery_codes_left,
            pending,
            issuer => totp::ISSUER,
            flash,
            errors => errors.0,
            field_errors => errors.1,
        },
    )?;
    *resp.status_mut() = status;
    Ok(resp)
}

async fn account_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    Query(q): Query<TotpQuery>,
) -> AppResult<Response> {
    let flash = match q.saved.as_deref() {
        Some("off") => Some("动态验证码已关闭。"),
        _ => None,
    };
    account_view(&state, &user, &ctx, flash, no_errors(), StatusCode::OK).await
}

/// A failed form on the account page: the page again with the errors beside their fields. A
/// locked account (wrong codes, S2) is told so on the code field.
async fn form_failed(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    e: AppError,
) -> AppResult<Response> {
    let e = match e {
        AppError::AuthFailed => AppError::validation(
            "TOTP_LOCKED",
            "验证码连续错误 5 次，账户已锁定 15 分钟（S2、S4）",
            Some("code"),
        ),
        other => other,
    };
    if !is_form_error(&e) && !matches!(e, AppError::TooManyRequests) {
        return Err(e);
    }
    let status = e.status();
    let errors = form_errors(&e, |f| f.to_string());
    account_view(state, user, ctx, None, errors, status).await
}

async fn enrol_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let result = match login_permit(&state) {
        Ok(_permit) => totp::begin_enrolment(
            &state.store,
            &user.actor(&ctx),
            user.user.id,
            form.get("password"),
            Some(form.get("code")),
            state.clock.now(),
        )
        .await
        .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/account/totp").into_response()),
        Err(e) => form_failed(&state, &user, &ctx, e).await,
    }
}

async fn confirm_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    match totp::confirm(
        &state.store,
        &user.actor(&ctx),
        user.user.id,
        form.get("code"),
        state.clock.now(),
    )
    .await
    {
        Ok(codes) => render(
            &state,
            Some(&user),
            "/account/totp",
            "account_totp_codes.html",
            "恢复码",
            context! { codes },
        ),
        Err(e) => form_failed(&state, &user, &ctx, e.into()).await,
    }
}

async fn disable_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let result = match login_permit(&state) {
        Ok(_permit) => totp::disable(
            &state.store,
            &user.actor(&ctx),
            user.user.id,
            form.get("password"),
            form.get("code"),
            state.clock.now(),
        )
        .await
        .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/account/totp?saved=off").into_response()),
        Err(e) => form_failed(&state, &user, &ctx, e).await,
    }
}
