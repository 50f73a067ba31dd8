//! Evaluations as JSON (R-EVA-1): list, one, open, adjust/accept, recompute, confirm.

use super::super::Registrar;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppResult, ErrorBody};
use crate::routes::forms::page_request;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use peixun_store::Page;
use peixun_store::evaluations::{
    self, AdjustmentInput, EvaluationFilter, EvaluationState, EvaluationView,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/evaluations", list)
        .get("/api/v1/evaluations/{id}", get)
        .post("/api/v1/agreements/{id}/evaluation", open)
        .post("/api/v1/evaluations/{id}/adjustments", adjust)
        .post("/api/v1/evaluations/{id}/recompute", recompute)
        .post("/api/v1/evaluations/{id}/confirm", confirm)
}

/// An evaluation: id, agreement, round (id, label), institution (id, name), state
/// (`open` / `confirmed`), the four components (key, weight, computed value, adjusted value and
/// reason, flag), `score` (a string with one decimal, e.g. "86.2"), the C value
/// (`on_time_completed`), the next cap's factor or suspension, the policy version, the trail.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct EvaluationDto(pub EvaluationView);

/// A page of evaluations; each item as [`EvaluationDto`] (with `score`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct EvaluationPageDto(pub Page<EvaluationView>);

#[derive(Debug, Deserialize, IntoParams)]
pub struct EvaluationQuery {
    pub round_id: Option<i64>,
    /// `open` or `confirmed`.
    pub state: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// One adjustment: replace a component's value with a reason, or (without `value`) accept a
/// flagged computed value with a reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AdjustmentDto {
    /// `task_completion` / `supervision` / `archives` / `satisfaction`
    pub component: String,
    /// 0–100, at most three decimals, as a string ("90" or "92.5"); omitted or empty: accept
    /// the computed value.
    #[serde(default)]
    pub value: Option<String>,
    /// 理由，必填，不超过2000字.
    #[schema(max_length = 2000)]
    pub reason: String,
}

/// 绩效评估列表（区培训中心、区人社局、市局查看全部；培训机构只见本机构）；按批次、状态筛选 (R-EVA-1, S6)。
#[utoipa::path(get, path = "/api/v1/evaluations", tag = "evaluations", params(EvaluationQuery),
    responses((status = 200, body = EvaluationPageDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<EvaluationQuery>,
) -> AppResult<Json<EvaluationPageDto>> {
    let st = match q.state.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(EvaluationState::parse(s).ok_or_else(|| {
            crate::error::AppError::from(peixun_store::StoreError::Validation {
                code: "EVA_STATE",
                message: "状态须为 open 或 confirmed".into(),
                field: Some("state".into()),
            })
        })?),
    };
    let p = evaluations::list_evaluations(
        &state.store,
        &user.actor(&ctx),
        &EvaluationFilter {
            round_id: q.round_id,
            state: st,
        },
        &page_request(q.page, q.per_page),
    )
    .await?;
    Ok(Json(EvaluationPageDto(p)))
}

/// 一项绩效评估（其他机构的评估为 404，S6）。
#[utoipa::path(get, path = "/api/v1/evaluations/{id}", tag = "evaluations", params(("id" = i64, Path)),
    responses((status = 200, body = EvaluationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<EvaluationDto>> {
    Ok(Json(EvaluationDto(
        evaluations::get_evaluation(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 开展协议的绩效评估（区培训中心）：协议下班次须全部已完成、超期或已取消，否则 422 并列出未结束的班次；
/// 四个分项按政策公式由记录计算 (R-EVA-1)。
#[utoipa::path(post, path = "/api/v1/agreements/{id}/evaluation", tag = "evaluations", params(("id" = i64, Path)),
    responses((status = 201, body = EvaluationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn open(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<(StatusCode, Json<EvaluationDto>)> {
    let v = evaluations::open_evaluation(&state.store, &user.actor(&ctx), id, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(EvaluationDto(v))))
}

/// 调整一个分项（须填写理由，计算值保留；记入审计日志），或不填 value 确认被标记的计算值 (R-EVA-1)。
#[utoipa::path(post, path = "/api/v1/evaluations/{id}/adjustments", tag = "evaluations", params(("id" = i64, Path)),
    request_body = AdjustmentDto,
    responses((status = 200, body = EvaluationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn adjust(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AdjustmentDto>,
) -> AppResult<Json<EvaluationDto>> {
    let input = AdjustmentInput {
        key: super::component(&b.component, "component")?,
        value: super::value(b.value.as_deref().unwrap_or(""), "value")?,
        reason: b.reason,
    };
    Ok(Json(EvaluationDto(
        evaluations::adjust_component(
            &state.store,
            &user.actor(&ctx),
            id,
            &input,
            state.clock.now(),
        )
        .await?,
    )))
}

/// 按最新记录重新计算（评估中）。
#[utoipa::path(post, path = "/api/v1/evaluations/{id}/recompute", tag = "evaluations", params(("id" = i64, Path)),
    responses((status = 200, body = EvaluationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn recompute(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<EvaluationDto>> {
    Ok(Json(EvaluationDto(
        evaluations::recompute(&state.store, &user.actor(&ctx), id, state.clock.now()).await?,
    )))
}

/// 确认评估结果（区培训中心负责人）：得分与所用政策版本一并固定；被标记的分项须先调整或确认 (R-EVA-1)。
#[utoipa::path(post, path = "/api/v1/evaluations/{id}/confirm", tag = "evaluations", params(("id" = i64, Path)),
    responses((status = 200, body = EvaluationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<EvaluationDto>> {
    Ok(Json(EvaluationDto(
        evaluations::confirm_evaluation(&state.store, &user.actor(&ctx), id, state.clock.now())
            .await?,
    )))
}
