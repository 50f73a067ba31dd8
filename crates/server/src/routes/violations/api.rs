//! Violations as JSON (R-VIO-1/2, S6): list, record, one, confirm, dismiss, and the preview of
//! what confirming does.

use super::super::Registrar;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, AppResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use peixun_domain::workflow::violation::{ViolationKind, ViolationState};
use peixun_store::PageRequest;
use peixun_store::violations::{
    self, RecordInput, ViolationEffects, ViolationFilter, ViolationView,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/violations", list)
        .post("/api/v1/violations", record)
        .get("/api/v1/violations/{id}", get)
        .get("/api/v1/violations/{id}/preview", preview)
        .post("/api/v1/violations/{id}/confirm", confirm)
        .post("/api/v1/violations/{id}/dismiss", dismiss)
}

/// A violation: kind, facts, classes involved, evidence (metadata; not for institutions),
/// state, decision and — once confirmed — what confirming did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct ViolationDto(pub ViolationView);

/// A page of violations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViolationListDto {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<ViolationView>,
    pub total: u64,
    pub next_after_id: Option<i64>,
}

/// What confirming would do: agreements terminated, filings cancelled, classes flagged,
/// waiting filings promoted, classes without codes, codes revoked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct EffectsDto(pub ViolationEffects);

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// `recorded` / `confirmed` / `dismissed`
    pub state: Option<String>,
    pub institution_id: Option<i64>,
    pub after_id: Option<i64>,
    pub per_page: Option<u64>,
}

/// Record a violation (R-VIO-1). Evidence files are uploaded on the page (multipart).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordDto {
    pub institution_id: i64,
    /// `falsified_application`（申报资料作假）、`fake_training`（虚假培训）、`impersonation`
    /// （冒名顶替）、`subsidy_fraud`（骗取补贴）、`other`（其他违法违规行为）
    pub kind: String,
    /// 违法违规事实，不超过2000字
    #[schema(max_length = 2000)]
    pub facts: String,
    /// 所涉班次（本机构的开班备案编号）
    #[serde(default)]
    pub class_ids: Vec<i64>,
    /// 申报阶段的违规不涉及班次时为 true
    #[serde(default)]
    pub no_classes: bool,
}

/// Confirm a violation: `acknowledge` must be true (the consequences are irreversible).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConfirmDto {
    #[serde(default)]
    pub acknowledge: bool,
}

/// Dismiss a violation (不予认定) with a reason.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DismissDto {
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: String,
    #[serde(default)]
    pub acknowledge: bool,
}

pub(crate) fn parse_state(s: Option<&str>) -> Result<Option<ViolationState>, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => ViolationState::from_code(s).map(Some).ok_or_else(|| {
            AppError::validation(
                "VIO_STATE",
                "状态须为 recorded、confirmed 或 dismissed",
                Some("state"),
            )
        }),
    }
}

pub(crate) fn parse_kind(s: &str) -> Result<ViolationKind, AppError> {
    ViolationKind::from_code(s.trim())
        .ok_or_else(|| AppError::validation("VIO_KIND", "请选择违法违规行为类别", Some("kind")))
}

pub(crate) fn require_ack(ack: bool) -> Result<(), AppError> {
    if ack {
        Ok(())
    } else {
        Err(AppError::validation(
            "VIO_ACK_REQUIRED",
            "此操作不可撤销，请勾选确认已知悉上述后果",
            Some("acknowledge"),
        ))
    }
}

/// 违法违规记录列表（区培训中心、区人社局、市级可查看全部；培训机构只能看到本机构已确认的记录，S6）。
#[utoipa::path(get, path = "/api/v1/violations", tag = "violations",
    params(ListQuery),
    responses((status = 200, body = ViolationListDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<ViolationListDto>> {
    let filter = ViolationFilter {
        state: parse_state(q.state.as_deref())?,
        institution_id: q.institution_id,
    };
    let page = PageRequest {
        after_id: q.after_id,
        page: None,
        per_page: q.per_page.unwrap_or(50),
    };
    let p = violations::list_violations(&state.store, &user.actor(&ctx), &filter, &page).await?;
    Ok(Json(ViolationListDto {
        items: p.items,
        total: p.total,
        next_after_id: p.next_after_id,
    }))
}

/// 登记违法违规行为（区培训中心；所涉班次须为该机构的班次，或声明不涉及班次，R-VIO-1）。
#[utoipa::path(post, path = "/api/v1/violations", tag = "violations",
    request_body = RecordDto,
    responses((status = 200, body = ViolationDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(b): ApiJson<RecordDto>,
) -> AppResult<Json<ViolationDto>> {
    let input = RecordInput {
        institution_id: b.institution_id,
        kind: parse_kind(&b.kind)?,
        facts: b.facts,
        class_ids: b.class_ids,
        no_classes: b.no_classes,
    };
    let v = violations::record_violation(
        &state.store,
        &state.files,
        &user.actor(&ctx),
        &input,
        &[],
        state.clock.now(),
    )
    .await?;
    Ok(Json(ViolationDto(v)))
}

/// 一条违法违规记录（其他机构的记录答复 404，S6）。
#[utoipa::path(get, path = "/api/v1/violations/{id}", tag = "violations",
    params(("id" = i64, Path)),
    responses((status = 200, body = ViolationDto), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ViolationDto>> {
    Ok(Json(ViolationDto(
        violations::get_violation(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 确认违规的后果预览：将中止的协议、将取消的备案、将标记的在训班次、将顺延获得名额的备案、将撤销的证书编码（R-VIO-2）。
#[utoipa::path(get, path = "/api/v1/violations/{id}/preview", tag = "violations",
    params(("id" = i64, Path)),
    responses((status = 200, body = EffectsDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn preview(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<EffectsDto>> {
    Ok(Json(EffectsDto(
        violations::violation_effects_preview(
            &state.store,
            &user.actor(&ctx),
            id,
            state.clock.now(),
        )
        .await?,
    )))
}

/// 确认违法违规行为（区培训中心负责人，且不是登记人；`acknowledge` 须为 true）：同一事务内中止该机构的委托培训协议、取消未开班备案并释放名额顺延、所涉班次不予发放并撤销合格证书编码、通知该机构（R-VIO-2）。
#[utoipa::path(post, path = "/api/v1/violations/{id}/confirm", tag = "violations",
    params(("id" = i64, Path)),
    request_body = ConfirmDto,
    responses((status = 200, body = ViolationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ConfirmDto>,
) -> AppResult<Json<ViolationDto>> {
    let actor = user.actor(&ctx);
    // S6 first: a violation the user may not see is 404 whatever the body.
    violations::get_violation(&state.store, &actor, id).await?;
    require_ack(b.acknowledge)?;
    Ok(Json(ViolationDto(
        violations::confirm_violation(&state.store, &actor, id, state.clock.now()).await?,
    )))
}

/// 不予认定（区培训中心负责人，且不是登记人；须填写理由，`acknowledge` 须为 true）；不产生其他变化。
#[utoipa::path(post, path = "/api/v1/violations/{id}/dismiss", tag = "violations",
    params(("id" = i64, Path)),
    request_body = DismissDto,
    responses((status = 200, body = ViolationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn dismiss(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<DismissDto>,
) -> AppResult<Json<ViolationDto>> {
    let actor = user.actor(&ctx);
    violations::get_violation(&state.store, &actor, id).await?;
    require_ack(b.acknowledge)?;
    Ok(Json(ViolationDto(
        violations::dismiss_violation(&state.store, &actor, id, &b.reason, state.clock.now())
            .await?,
    )))
}
