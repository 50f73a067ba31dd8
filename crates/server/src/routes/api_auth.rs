//! `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/me`.

use super::Registrar;
use crate::AppState;
use crate::api_types::{
    ChangePasswordRequest, LoginRequest, LoginResponse, MeResponse, TokenResponse,
};
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, AppError, AppResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use peixun_store::accounts::PasswordOutcome;
use peixun_store::{accounts, sessions, totp};

pub fn register(r: Registrar) -> Registrar {
    r.post("/api/v1/auth/login", login)
        .post("/api/v1/auth/logout", logout)
        .get("/api/v1/me", me)
        .post("/api/v1/auth/password", change_password)
}

/// Log in and get a bearer token. An unknown user, a wrong password and a locked account get the
/// same 401 (S2). When too many password checks are running, 429 with `Retry-After`. An account
/// with TOTP enabled (S4) gets no token yet: `second_factor_required` and a `challenge`, valid
/// five minutes, to send with a code to `POST /api/v1/auth/totp/verify`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "用户名或密码错误（或账户已临时锁定）", body = ErrorBody),
        (status = 429, description = "登录请求过多，见 Retry-After", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    Ok(Json(
        match do_login(&state, &ctx, &req.username, &req.password).await? {
            LoginStep::Session(token) => LoginResponse {
                token: Some(token),
                second_factor_required: false,
                challenge: None,
                challenge_expires_in: None,
            },
            LoginStep::SecondFactor(challenge) => LoginResponse {
                token: None,
                second_factor_required: true,
                challenge: Some(challenge),
                challenge_expires_in: Some(
                    u64::try_from(totp::login::CHALLENGE_TTL.num_seconds()).unwrap_or(300),
                ),
            },
        },
    ))
}

/// Where a correct password leads.
pub enum LoginStep {
    /// A new session's token.
    Session(String),
    /// The account has TOTP enabled: the challenge for the second step (S4).
    SecondFactor(String),
}

/// A place among the password checks running at once ([`AppState::login_gate`], S2): none free
/// means a flood, answered 429 with `Retry-After` at once — never queued until the server tires.
pub fn login_permit(state: &AppState) -> AppResult<tokio::sync::OwnedSemaphorePermit> {
    state.login_gate.clone().try_acquire_owned().map_err(|_| {
        metrics::counter!("login_gate_refused_total").increment(1);
        AppError::TooManyRequests
    })
}

/// Authenticates and starts a new session (a new token at every login, S3), or — for an account
/// with TOTP enabled — a five-minute second-step challenge instead (S4). A locked account is
/// answered exactly like an unknown user or a wrong password (S2: the answer must not tell which
/// accounts exist); the lockout itself is in the audit log.
pub async fn do_login(
    state: &AppState,
    ctx: &RequestCtx,
    username: &str,
    password: &str,
) -> AppResult<LoginStep> {
    let now = state.clock.now();
    if username.len() > 200 || password.len() > 1024 {
        return Err(AppError::AuthFailed);
    }
    let _permit = login_permit(state)?;
    let outcome = match accounts::authenticate_password(
        &state.store,
        username,
        password,
        ctx.ip.as_deref(),
        now,
    )
    .await
    {
        Ok(u) => u,
        Err(peixun_store::StoreError::Locked { .. }) => return Err(AppError::AuthFailed),
        Err(e) => return Err(e.into()),
    };
    Ok(match outcome {
        PasswordOutcome::LoggedIn(user) => {
            LoginStep::Session(sessions::create_session(&state.store, user.id, now).await?)
        }
        PasswordOutcome::SecondFactor(user) => {
            LoginStep::SecondFactor(totp::login::start_challenge(&state.store, user.id, now).await?)
        }
    })
}

/// The second step of a login (S4): the challenge and a 6-digit code or a recovery code. A wrong
/// or replayed code, an unknown or expired challenge and a locked account all answer like a
/// wrong password (S2); wrong codes count toward the lockout. Success starts a new session.
pub async fn do_verify_second_factor(
    state: &AppState,
    ctx: &RequestCtx,
    challenge: &str,
    code: &str,
) -> AppResult<String> {
    let now = state.clock.now();
    let _permit = login_permit(state)?;
    let user = match totp::login::verify_login(
        &state.store,
        challenge,
        code,
        ctx.ip.as_deref(),
        now,
    )
    .await
    {
        Ok(u) => u,
        Err(peixun_store::StoreError::Locked { .. }) => return Err(AppError::AuthFailed),
        Err(e) => return Err(e.into()),
    };
    Ok(sessions::create_session(&state.store, user.id, now).await?)
}

/// End the session of this token (server-side).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<StatusCode> {
    sessions::delete_session_audited(
        &state.store,
        &user.token,
        &user.actor(&ctx),
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(user: CurrentUser) -> Json<MeResponse> {
    Json(MeResponse {
        id: user.user.id,
        username: user.user.username.clone(),
        display_name: user.user.display_name.clone(),
        role: user.role.code().to_string(),
        role_label: user.role.label_zh().to_string(),
        institution_id: user.user.institution_id,
        institution_name: user.user.institution_name.clone(),
        must_change_password: user.user.must_change_password,
        totp_enrolment_required: user.totp_enrolment_required,
        csrf_token: user.csrf_token.clone(),
    })
}

/// Change one's own password. Every session of the user ends; the answer carries a new token.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth",
    request_body = ChangePasswordRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> AppResult<Json<TokenResponse>> {
    let token = do_change_password(
        &state,
        &user,
        &ctx,
        &req.current_password,
        &req.new_password,
    )
    .await?;
    Ok(Json(TokenResponse { token }))
}

/// Shared by the page and the API: change, end every session of the user, start a new one (S3).
pub async fn do_change_password(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    current: &str,
    new: &str,
) -> AppResult<String> {
    let now = state.clock.now();
    let _permit = login_permit(state)?;
    accounts::change_password(
        &state.store,
        &user.actor(ctx),
        user.user.id,
        current,
        new,
        None, // every session ends in the change's transaction, this one too: a new one follows
        now,
    )
    .await?;
    Ok(sessions::create_session(&state.store, user.user.id, now).await?)
}
