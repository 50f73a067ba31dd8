//! `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/me`.

use super::Registrar;
use crate::AppState;
use crate::api_types::{ChangePasswordRequest, LoginRequest, MeResponse, TokenResponse};
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, AppError, AppResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use peixun_store::{accounts, sessions};

pub fn register(r: Registrar) -> Registrar {
    r.post("/api/v1/auth/login", login)
        .post("/api/v1/auth/logout", logout)
        .get("/api/v1/me", me)
        .post("/api/v1/auth/password", change_password)
}

/// Log in and get a bearer token. An unknown user, a wrong password and a locked account get the
/// same 401 (S2). When too many password checks are running, 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "用户名或密码错误（或账户已临时锁定）", body = ErrorBody),
        (status = 429, description = "登录请求过多，见 Retry-After", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(req): ApiJson<LoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    let token = do_login(&state, &ctx, &req.username, &req.password).await?;
    Ok(Json(TokenResponse { token }))
}

/// A place among the password checks running at once ([`AppState::login_gate`], S2): none free
/// means a flood, answered 429 with `Retry-After` at once — never queued until the server tires.
pub fn login_permit(state: &AppState) -> AppResult<tokio::sync::OwnedSemaphorePermit> {
    state.login_gate.clone().try_acquire_owned().map_err(|_| {
        metrics::counter!("login_gate_refused_total").increment(1);
        AppError::TooManyRequests
    })
}

/// Authenticates and starts a new session (a new token at every login, S3). A locked account is
/// answered exactly like an unknown user or a wrong password (S2: the answer must not tell which
/// accounts exist); the lockout itself is in the audit log.
pub async fn do_login(
    state: &AppState,
    ctx: &RequestCtx,
    username: &str,
    password: &str,
) -> AppResult<String> {
    let now = state.clock.now();
    if username.len() > 200 || password.len() > 1024 {
        return Err(AppError::AuthFailed);
    }
    let _permit = login_permit(state)?;
    let user = match accounts::authenticate(
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
