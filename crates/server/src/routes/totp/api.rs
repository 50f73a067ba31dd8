//! `/api/v1/auth/totp/…`: the second step of a login, and enrolment, status and turning off for
//! the signed-in account (S4).

use super::super::Registrar;
use super::super::api_auth::{do_verify_second_factor, login_permit};
use crate::AppState;
use crate::api_types::TokenResponse;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, AppResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use peixun_store::totp::{self, TotpState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn register(r: Registrar) -> Registrar {
    r.post("/api/v1/auth/totp/verify", verify)
        .get("/api/v1/auth/totp/status", status)
        .post("/api/v1/auth/totp/enrol", enrol)
        .post("/api/v1/auth/totp/confirm", confirm)
        .post("/api/v1/auth/totp/disable", disable)
}

/// The second step of a login: the `challenge` from `POST /api/v1/auth/login` and a code.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TotpVerifyRequest {
    #[schema(max_length = 64)]
    pub challenge: String,
    /// The 6-digit code of the authenticator, or one unused recovery code (`xxxx-xxxx-xxxx-xxxx`).
    #[schema(max_length = 64)]
    pub code: String,
}

/// Start setting up an authenticator: the current password; when one is already enabled
/// (replacing it), also a current code or a recovery code.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TotpEnrolRequest {
    #[schema(max_length = 1024)]
    pub password: String,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub code: Option<String>,
}

/// The new secret: scan `qr_svg` (the `otpauth_url` as a QR code) or type `secret` into the
/// authenticator app, then confirm with its first code.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolResponse {
    /// Base32, for typing in.
    pub secret: String,
    pub otpauth_url: String,
    /// An SVG document.
    pub qr_svg: String,
    pub issuer: String,
    pub digits: u8,
    pub period_seconds: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TotpCodeRequest {
    /// The 6-digit code the authenticator shows now.
    #[schema(max_length = 64)]
    pub code: String,
}

/// The recovery codes: shown this once, each usable once instead of a code.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodesResponse {
    pub recovery_codes: Vec<String>,
}

/// Turning TOTP off: the password and a current code (or a recovery code).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TotpDisableRequest {
    #[schema(max_length = 1024)]
    pub password: String,
    #[schema(max_length = 64)]
    pub code: String,
}

/// The account's second factor: `state` is `not_enrolled`, `pending` or `enabled`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpStatusResponse {
    pub state: String,
    /// The role requires TOTP (centre, bureau, city, sysadmin, auditor) and the account is not a
    /// demo account.
    pub required: bool,
    /// A demo account (`serve --demo`) that may sign in with a password alone.
    pub exempt: bool,
    pub enabled_at: Option<DateTime<Utc>>,
    /// A new authenticator is being set up while the old one still works.
    pub replacing: bool,
    pub recovery_codes_left: u64,
}

fn state_code(s: TotpState) -> &'static str {
    match s {
        TotpState::NotEnrolled => "not_enrolled",
        TotpState::Pending => "pending",
        TotpState::Enabled => "enabled",
    }
}

/// Answer the second step of a login with a code; a new session's token on success. Every
/// failure (wrong, replayed or expired code or challenge, a locked account) is the same 401 as a
/// wrong password (S2), and wrong codes count toward the lockout.
#[utoipa::path(post, path = "/api/v1/auth/totp/verify", tag = "auth",
    request_body = TotpVerifyRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "验证码错误、已使用或已过期（或账户已临时锁定）", body = ErrorBody),
        (status = 429, description = "请求过多，见 Retry-After", body = ErrorBody),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(req): ApiJson<TotpVerifyRequest>,
) -> AppResult<Json<TokenResponse>> {
    let token = do_verify_second_factor(&state, &ctx, &req.challenge, &req.code).await?;
    Ok(Json(TokenResponse { token }))
}

/// The signed-in account's second factor.
#[utoipa::path(get, path = "/api/v1/auth/totp/status", tag = "auth",
    responses((status = 200, body = TotpStatusResponse), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<TotpStatusResponse>> {
    let s = totp::status(&state.store, user.user.id).await?;
    Ok(Json(TotpStatusResponse {
        state: state_code(s.state).into(),
        required: s.required,
        exempt: s.exempt,
        enabled_at: s.enabled_at,
        replacing: s.replacing,
        recovery_codes_left: s.recovery_codes_left,
    }))
}

/// Start setting up an authenticator (a new secret, pending until confirmed). With one already
/// enabled, this replaces it after confirmation (a new phone); the old one works until then.
#[utoipa::path(post, path = "/api/v1/auth/totp/enrol", tag = "auth",
    request_body = TotpEnrolRequest,
    responses(
        (status = 200, body = TotpEnrolResponse),
        (status = 401, body = ErrorBody),
        (status = 422, description = "密码或验证码不正确", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn enrol(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(req): ApiJson<TotpEnrolRequest>,
) -> AppResult<Json<TotpEnrolResponse>> {
    let _permit = login_permit(&state)?;
    let e = totp::begin_enrolment(
        &state.store,
        &user.actor(&ctx),
        user.user.id,
        &req.password,
        req.code.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(Json(TotpEnrolResponse {
        qr_svg: super::qr_svg(&e.otpauth_url).unwrap_or_default(),
        secret: e.secret_base32,
        otpauth_url: e.otpauth_url,
        issuer: totp::ISSUER.into(),
        digits: totp::DIGITS,
        period_seconds: totp::STEP_SECS,
    }))
}

/// Confirm the pending authenticator with its current code: TOTP is enabled, and the answer
/// carries the ten recovery codes — the only time they are shown.
#[utoipa::path(post, path = "/api/v1/auth/totp/confirm", tag = "auth",
    request_body = TotpCodeRequest,
    responses(
        (status = 200, body = RecoveryCodesResponse),
        (status = 401, body = ErrorBody),
        (status = 422, description = "验证码不正确，或尚未开始设置", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(req): ApiJson<TotpCodeRequest>,
) -> AppResult<Json<RecoveryCodesResponse>> {
    let recovery_codes = totp::confirm(
        &state.store,
        &user.actor(&ctx),
        user.user.id,
        &req.code,
        state.clock.now(),
    )
    .await?;
    Ok(Json(RecoveryCodesResponse { recovery_codes }))
}

/// Turn TOTP off (password and a current code). Refused (422 `TOTP_REQUIRED`) for the roles that
/// require it.
#[utoipa::path(post, path = "/api/v1/auth/totp/disable", tag = "auth",
    request_body = TotpDisableRequest,
    responses(
        (status = 204),
        (status = 401, body = ErrorBody),
        (status = 422, description = "密码或验证码不正确，或角色必须使用动态验证码", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn disable(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(req): ApiJson<TotpDisableRequest>,
) -> AppResult<StatusCode> {
    let _permit = login_permit(&state)?;
    totp::disable(
        &state.store,
        &user.actor(&ctx),
        user.user.id,
        &req.password,
        &req.code,
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
