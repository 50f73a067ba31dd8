//! Credential requests as JSON (S7): list, one, confirm (the second half, shown once), cancel.

use super::super::Registrar;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use peixun_store::credentials::{self, CredentialRequest, Issued};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/credential-requests", list)
        .get("/api/v1/credential-requests/{id}", get)
        .post("/api/v1/credential-requests/{id}/confirm", confirm)
        .post("/api/v1/credential-requests/{id}/cancel", cancel)
}

/// A credential request: the account, `kind` (`create`/`reset`), `state`
/// (`pending`/`expired`/`confirmed`/`cancelled`), reason, who asked and who decided, when.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct CredentialRequestDto(pub CredentialRequest);

/// Requests, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialRequestList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<CredentialRequest>,
}

/// One half of a one-time password, shown once. The account's password is the first half (the
/// sysadmin's) followed by the second (the confirmer's); the owner must change it at the next
/// login.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialHalf {
    #[schema(value_type = Object)]
    pub request: CredentialRequest,
    /// 1 = the requesting sysadmin's half, 2 = the confirmer's half.
    pub half_no: u8,
    /// Shown once, e.g. `Ak4m-Bp5r`.
    pub half: String,
    pub message: String,
}

impl CredentialHalf {
    pub fn first(i: Issued) -> Self {
        CredentialHalf {
            request: i.request,
            half_no: 1,
            half: i.half,
            message: "这是一次性密码的前半段，只显示这一次。须由中心管理员（机构工作人员账号也可由本机构管理员）确认后，对方获得后半段；用户以“前半段-后半段”登录并立即修改密码。".into(),
        }
    }
    pub fn second(i: Issued) -> Self {
        CredentialHalf {
            request: i.request,
            half_no: 2,
            half: i.half,
            message: "这是一次性密码的后半段，只显示这一次。用户须同时取得系统管理员处的前半段，以“前半段-后半段”登录并立即修改密码。".into(),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true`: only requests still waiting for a confirmation.
    pub open: Option<bool>,
}

/// Credential requests the caller may see (sysadmin: all; centre_admin: all; institution
/// admin: its staff's).
#[utoipa::path(get, path = "/api/v1/credential-requests", tag = "users",
    params(ListQuery),
    responses((status = 200, body = CredentialRequestList), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<CredentialRequestList>> {
    let items = credentials::list_requests(
        &state.store,
        &user.actor(&ctx),
        q.open.unwrap_or(false),
        state.clock.now(),
    )
    .await?;
    Ok(Json(CredentialRequestList { items }))
}

/// One credential request.
#[utoipa::path(get, path = "/api/v1/credential-requests/{id}", tag = "users",
    params(("id" = i64, Path)),
    responses((status = 200, body = CredentialRequestDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<CredentialRequestDto>> {
    let r =
        credentials::get_request(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(CredentialRequestDto(r)))
}

/// Confirm a pending request (not its requester, not its account): the account gets the
/// two-part one-time password, its sessions end; the answer holds the second half, once.
#[utoipa::path(post, path = "/api/v1/credential-requests/{id}/confirm", tag = "users",
    params(("id" = i64, Path)),
    responses((status = 200, body = CredentialHalf), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<CredentialHalf>> {
    let issued =
        credentials::confirm(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(CredentialHalf::second(issued)))
}

/// Withdraw a pending or expired request (a sysadmin, or whoever could confirm it).
#[utoipa::path(post, path = "/api/v1/credential-requests/{id}/cancel", tag = "users",
    params(("id" = i64, Path)),
    responses((status = 200, body = CredentialRequestDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<CredentialRequestDto>> {
    let r = credentials::cancel(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(CredentialRequestDto(r)))
}
