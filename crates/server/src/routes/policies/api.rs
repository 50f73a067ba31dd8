//! Policy versions as JSON (R-POL-1).

use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppResult, ErrorBody};
use crate::routes::Registrar;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use peixun_domain::policy::Policy;
use peixun_store::policies::{self, CompareRow, PolicyProposal, StoredPolicy};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/policies", list)
        .post("/api/v1/policies", propose)
        .get("/api/v1/policies/compare", compare)
        .get("/api/v1/policies/{id}", get_one)
        .post("/api/v1/policies/{id}/confirm", confirm)
        .post("/api/v1/policies/{id}/reject", reject)
        .post("/api/v1/policies/{id}/withdraw", withdraw)
}

/// 政策参数版本 (R-POL-1)：文件、生效日期、状态及全部参数值。
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct PolicyDto(pub StoredPolicy);

/// 政策参数版本列表（按生效日期由近及远）。
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Vec<Object>)]
pub struct PolicyListDto(pub Vec<StoredPolicy>);

/// 提出新版本：全部参数（含 version、effective_from）及所依据的文件。
#[derive(Debug, Deserialize, ToSchema)]
pub struct PolicyProposalDto {
    /// 全部参数值，格式同 GET 返回的 `policy`。
    #[schema(value_type = Object)]
    pub policy: Policy,
    /// 文件名称
    pub document_title: String,
    /// 文号（可为空）
    #[serde(default)]
    pub document_number: String,
    /// 说明
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// 退回理由。
#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectPolicyRequest {
    #[schema(max_length = 2000)]
    pub reason: String,
}

/// 比较的两个版本（编号）。
#[derive(Debug, Deserialize, IntoParams)]
pub struct CompareQuery {
    pub a: i64,
    pub b: i64,
}

/// 两个版本逐项对比，`differs` 标出不同的项。
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyCompareDto {
    #[schema(value_type = Object)]
    pub a: StoredPolicy,
    #[schema(value_type = Object)]
    pub b: StoredPolicy,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<CompareRow>,
}

#[utoipa::path(get, path = "/api/v1/policies", tag = "policies",
    responses((status = 200, body = PolicyListDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Json<PolicyListDto>> {
    Ok(Json(PolicyListDto(
        policies::list(&state.store, &user.actor(&ctx)).await?,
    )))
}

/// 系统管理员提出新版本（待区培训中心负责人确认）。生效日期不得早于今天。
#[utoipa::path(post, path = "/api/v1/policies", tag = "policies",
    request_body = PolicyProposalDto,
    responses((status = 201, body = PolicyDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn propose(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<PolicyProposalDto>,
) -> AppResult<(StatusCode, Json<PolicyDto>)> {
    let v = policies::propose(
        &state.store,
        &user.actor(&ctx),
        &PolicyProposal {
            policy: body.policy,
            document_title: body.document_title,
            document_number: body.document_number,
            note: body.note,
        },
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(PolicyDto(v))))
}

#[utoipa::path(get, path = "/api/v1/policies/{id}", tag = "policies",
    params(("id" = i64, Path)),
    responses((status = 200, body = PolicyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<PolicyDto>> {
    Ok(Json(PolicyDto(
        policies::get(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 区培训中心负责人确认（双人复核）。生效日期已过的不能确认。
#[utoipa::path(post, path = "/api/v1/policies/{id}/confirm", tag = "policies",
    params(("id" = i64, Path)),
    responses((status = 200, body = PolicyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<PolicyDto>> {
    Ok(Json(PolicyDto(
        policies::confirm(&state.store, &user.actor(&ctx), id, state.clock.now()).await?,
    )))
}

/// 区培训中心负责人退回（须填写理由）。
#[utoipa::path(post, path = "/api/v1/policies/{id}/reject", tag = "policies",
    params(("id" = i64, Path)),
    request_body = RejectPolicyRequest,
    responses((status = 200, body = PolicyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RejectPolicyRequest>,
) -> AppResult<Json<PolicyDto>> {
    Ok(Json(PolicyDto(
        policies::reject(
            &state.store,
            &user.actor(&ctx),
            id,
            &body.reason,
            state.clock.now(),
        )
        .await?,
    )))
}

/// 系统管理员撤回尚未确认的版本。
#[utoipa::path(post, path = "/api/v1/policies/{id}/withdraw", tag = "policies",
    params(("id" = i64, Path)),
    responses((status = 200, body = PolicyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<PolicyDto>> {
    Ok(Json(PolicyDto(
        policies::withdraw(&state.store, &user.actor(&ctx), id, state.clock.now()).await?,
    )))
}

/// 两个版本逐项对比。
#[utoipa::path(get, path = "/api/v1/policies/compare", tag = "policies",
    params(CompareQuery),
    responses((status = 200, body = PolicyCompareDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn compare(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> AppResult<Json<PolicyCompareDto>> {
    let actor = user.actor(&ctx);
    let a = policies::get(&state.store, &actor, q.a).await?;
    let b = policies::get(&state.store, &actor, q.b).await?;
    let rows = policies::compare(&a, &b);
    Ok(Json(PolicyCompareDto { a, b, rows }))
}
