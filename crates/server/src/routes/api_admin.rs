//! Users (sysadmin) and the audit log (auditor), as JSON.

use super::Registrar;
use super::forms::{audit_filter, page_request};
use crate::AppState;
use crate::api_types::*;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppResult, ErrorBody};
use crate::startup::one_time_password;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use peixun_domain::role::Role;
use peixun_store::accounts::{self, NewUser};
use peixun_store::audit;
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

/// Create an account with a one-time password (returned once; must be changed at first login).
#[utoipa::path(post, path = "/api/v1/users", tag = "users",
    request_body = NewUserDto,
    responses((status = 201, body = UserCreated), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(input): ApiJson<NewUserDto>,
) -> AppResult<(StatusCode, Json<UserCreated>)> {
    let (created, password) = new_user(
        &state,
        &user,
        &ctx,
        &input.username,
        &input.display_name,
        &input.role,
        input.institution_id,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(UserCreated {
            user: created.into(),
            one_time_password: password,
        }),
    ))
}

/// Shared by the API and the users page.
pub async fn new_user(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    username: &str,
    display_name: &str,
    role: &str,
    institution_id: Option<i64>,
) -> AppResult<(accounts::UserView, String)> {
    let password = one_time_password();
    let Ok(role) = role.trim().parse::<Role>() else {
        // Report the missing role with every other problem of the form at once (R-VAL-1).
        let mut problems = vec![FieldProblem::new("ROLE_INVALID", "请选择角色", "role")];
        problems.extend(accounts::new_user_problems(
            username,
            display_name,
            None,
            institution_id,
            &password,
        ));
        return Err(StoreError::from_problems(problems).into());
    };
    let created = accounts::create_user(
        &state.store,
        &user.actor(ctx),
        NewUser {
            username: username.to_string(),
            display_name: display_name.to_string(),
            role,
            institution_id,
            password: password.clone(),
            must_change_password: true,
        },
        state.clock.now(),
    )
    .await?;
    Ok((created, password))
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

/// Give an account a new one-time password (shown once); its sessions end.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "users",
    params(("id" = i64, Path)),
    responses((status = 200, body = PasswordReset), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<PasswordReset>> {
    let (u, password) = do_reset_password(&state, &user, &ctx, id).await?;
    Ok(Json(PasswordReset {
        user: u.into(),
        one_time_password: password,
    }))
}

/// Shared by the page and the API.
pub async fn do_reset_password(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
) -> AppResult<(accounts::UserView, String)> {
    let password = one_time_password();
    let u = accounts::reset_password(
        &state.store,
        &user.actor(ctx),
        id,
        &password,
        state.clock.now(),
    )
    .await?;
    Ok((u, password))
}
