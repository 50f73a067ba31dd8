//! Users (sysadmin) and the audit log (auditor), as JSON.

use super::Registrar;
use super::forms::{audit_filter, page_request};
use crate::AppState;
use crate::api_types::*;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppResult, ErrorBody};
use crate::routes::credentials::api::CredentialHalf;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use peixun_domain::role::Role;
use peixun_store::accounts;
use peixun_store::audit;
use peixun_store::credentials::{self, Issued, NewAccount};
use peixun_store::{FieldProblem, StoreError};

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/users", list_users)
        .post("/api/v1/users", create_user)
        .post("/api/v1/users/{id}/active", set_active)
        .post("/api/v1/users/{id}/reset-password", reset_password)
        .get("/api/v1/audit", search_audit)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    params(UserQuery),
    responses((status = 200, body = UserPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> AppResult<Json<UserPage>> {
    let page = page_request(q.page, q.per_page);
    let res = accounts::list_users(&state.store, &user.actor(&ctx), &q.filter()?, &page).await?;
    Ok(Json(UserPage {
        items: res.items.into_iter().map(Into::into).collect(),
        total: res.total,
        page: page.page.unwrap_or(1),
        per_page: res.per_page,
    }))
}

/// Create an account (sysadmin). It has no usable password yet: the answer holds the first half
/// of its one-time password (shown once); a centre_admin confirms the request and receives the
/// second half (S7, two-person issue).
#[utoipa::path(post, path = "/api/v1/users", tag = "users",
    request_body = NewUserDto,
    responses((status = 201, body = UserCreated), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(input): ApiJson<NewUserDto>,
) -> AppResult<(StatusCode, Json<UserCreated>)> {
    let issued = new_user(
        &state,
        &user,
        &ctx,
        &input.username,
        &input.display_name,
        &input.role,
        input.institution_id,
        &input.reason,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(UserCreated {
            user: issued.request.user.clone().into(),
            credential: CredentialHalf::first(issued),
        }),
    ))
}

/// Shared by the API and the users page.
#[allow(clippy::too_many_arguments)]
pub async fn new_user(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    username: &str,
    display_name: &str,
    role: &str,
    institution_id: Option<i64>,
    reason: &str,
) -> AppResult<Issued> {
    let Ok(role) = role.trim().parse::<Role>() else {
        // Report the missing role with every other problem of the form at once (R-VAL-1).
        let mut problems = vec![FieldProblem::new("ROLE_INVALID", "请选择角色", "role")];
        problems.extend(accounts::account_problems(
            username,
            display_name,
            None,
            institution_id,
        ));
        return Err(StoreError::from_problems(problems).into());
    };
    let issued = credentials::request_new_account(
        &state.store,
        &user.actor(ctx),
        NewAccount {
            username: username.to_string(),
            display_name: display_name.to_string(),
            role,
            institution_id,
        },
        reason,
        state.clock.now(),
    )
    .await?;
    Ok(issued)
}

/// Search the audit log (auditor only), newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn search_audit(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<AuditPage>> {
    let filter = audit_filter(&q)?;
    let page = page_request(q.page, q.per_page);
    let res = audit::search(&state.store, &user.actor(&ctx), &filter, &page).await?;
    Ok(Json(AuditPage {
        items: res.items.into_iter().map(Into::into).collect(),
        total: res.total,
        page: page.page.unwrap_or(1),
        per_page: res.per_page,
    }))
}

/// Enable or disable an account; disabling ends its sessions.
#[utoipa::path(post, path = "/api/v1/users/{id}/active", tag = "users",
    params(("id" = i64, Path)),
    request_body = SetActiveRequest,
    responses((status = 200, body = UserDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_active(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<SetActiveRequest>,
) -> AppResult<Json<UserDto>> {
    let u = accounts::set_user_active(
        &state.store,
        &user.actor(&ctx),
        id,
        req.active,
        state.clock.now(),
    )
    .await?;
    Ok(Json(u.into()))
}

/// Request a new password for an account (sysadmin, with a reason). Nothing changes until a
/// centre_admin (or the institution's admin, for its staff) confirms; the answer holds the
/// first half of the one-time password, shown once (S7, two-person issue).
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "users",
    params(("id" = i64, Path)),
    request_body = ResetPasswordDto,
    responses((status = 200, body = CredentialHalf), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ResetPasswordDto>,
) -> AppResult<Json<CredentialHalf>> {
    let issued = credentials::request_reset_with(
        &state.store,
        &user.actor(&ctx),
        id,
        &req.reason,
        req.clear_authenticator,
        state.clock.now(),
    )
    .await?;
    Ok(Json(CredentialHalf::first(issued)))
}
