//! Plans, rounds, applications, caps, agreements, the quota queue, the bulletin, the cap
//! calculator and the inbox, as JSON (R-PLAN-1…4, R-CAP-1…8, R-AGR-1, R-FIL-6). Handlers parse,
//! call the store service (one transaction, audited there) and return its view.

use super::Registrar;
use super::rounds_forms::CapCalcInput;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, AppResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use peixun_domain::cap::{CapDecision, Score};
use peixun_domain::workflow::class::CorrectionItem;
use peixun_domain::workflow::round::Half;
use peixun_store::agreements::{
    self, AgreementView, ApplicationInput, ApplicationView, CapOverrideInput, CapPreview,
    PriorPerformanceInput, PriorPerformanceView, SignInput,
};
use peixun_store::bulletin::{self, Bulletin};
use peixun_store::filings::{self, FilingView};
use peixun_store::inbox::{self, InboxMessage};
use peixun_store::plans::{self, PlanChangeView, PlanDecision, PlanInput, PlanView};
use peixun_store::rounds::{self, CloseReport, RoundInput, RoundView, TargetGroup};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/plans", list_plans)
        .post("/api/v1/plans", create_plan)
        .get("/api/v1/plans/{id}", get_plan)
        .put("/api/v1/plans/{id}", update_plan)
        .post("/api/v1/plans/{id}/submit", submit_plan)
        .post("/api/v1/plans/{id}/decision", decide_plan)
        .get("/api/v1/rounds", list_rounds)
        .post("/api/v1/rounds", create_round)
        .get("/api/v1/rounds/{id}", get_round)
        .put("/api/v1/rounds/{id}", update_round)
        .post("/api/v1/rounds/{id}/publish", publish_round)
        .post("/api/v1/rounds/{id}/close", close_round)
        .get("/api/v1/rounds/{id}/history", round_history)
        .get("/api/v1/rounds/{id}/applications", list_applications)
        .get("/api/v1/rounds/{id}/agreements", list_agreements)
        .get("/api/v1/rounds/{id}/filings", list_filings)
        .get("/api/v1/rounds/{id}/bulletin", round_bulletin)
        .get("/api/v1/bulletin", bulletin_index)
        .post("/api/v1/applications", apply)
        .get("/api/v1/applications/{id}", get_application)
        .get("/api/v1/applications/{id}/cap", cap_preview)
        .post("/api/v1/agreements", sign)
        .get("/api/v1/agreements/{id}", get_agreement)
        .post("/api/v1/agreements/{id}/override", override_cap)
        .post("/api/v1/agreements/{id}/terminate", terminate)
        .get("/api/v1/institutions/{id}/performance", list_performance)
        .post("/api/v1/institutions/{id}/performance", record_performance)
        .get("/api/v1/filings/{id}", get_filing)
        .post("/api/v1/filings/{id}/withdraw", withdraw_filing)
        .post("/api/v1/filings/{id}/resubmit", resubmit_filing)
        .post("/api/v1/filings/{id}/return", return_filing)
        .post("/api/v1/filings/{id}/reject", reject_filing)
        .post("/api/v1/filings/{id}/approve", approve_filing)
        .post("/api/v1/tools/cap", calc_cap)
        .get("/api/v1/inbox", list_inbox)
}

// ---- JSON shapes ----------------------------------------------------------------------------
// Responses are the store's view types (not rows); they are documented as objects here and in
// the rustdoc of peixun_store.

macro_rules! view_dto {
    // A list is documented as an array of objects (S18: the document matches the answers).
    ($name:ident, Vec<$inner:ty>, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Serialize, ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = Vec<Object>)]
        pub struct $name(pub Vec<$inner>);
    };
    ($name:ident, $inner:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Serialize, ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = Object)]
        pub struct $name(pub $inner);
    };
}

view_dto!(
    PlanDto,
    PlanView,
    "年度培训任务计划 (R-PLAN-1)，含状态与区人社局审核意见"
);
view_dto!(PlanDetailDto, PlanDetail, "年度计划及其调整记录 (R-PLAN-4)");
view_dto!(PlanListDto, Vec<PlanView>, "年度计划列表");
view_dto!(
    RoundDto,
    RoundView,
    "批次 (R-PLAN-2)：base_planned + rolled_over = planned_total"
);
view_dto!(RoundListDto, Vec<RoundView>, "批次列表");
view_dto!(
    CloseReportDto,
    CloseReport,
    "结束批次的结果 (R-PLAN-3)：已占用、结转、未获名额"
);
view_dto!(
    HistoryDto,
    Vec<PlanChangeView>,
    "调整记录：原值、新值、调整人、时间、理由"
);
view_dto!(ApplicationDto, ApplicationView, "申报");
view_dto!(ApplicationListDto, Vec<ApplicationView>, "申报列表");
view_dto!(
    CapPreviewDto,
    CapPreview,
    "签约班次上限核定及计算过程 (R-CAP-7)"
);
view_dto!(
    AgreementDto,
    AgreementView,
    "委托培训协议，含签约班次上限及计算过程"
);
view_dto!(AgreementListDto, Vec<AgreementView>, "协议列表");
view_dto!(
    PerformanceDto,
    PriorPerformanceView,
    "前次签约完成情况 (R-CAP-3)"
);
view_dto!(
    PerformanceListDto,
    Vec<PriorPerformanceView>,
    "前次签约完成情况列表"
);
view_dto!(FilingDto, FilingView, "开班备案及其名额状态 (R-FIL-6)");
view_dto!(FilingListDto, Vec<FilingView>, "开班备案（按提交先后）");
view_dto!(
    BulletinDto,
    Bulletin,
    "公示：计划名额、已批出、剩余、每份备案的提交时间与状态"
);
view_dto!(BulletinIndexDto, Vec<BulletinRound>, "公示的批次");
view_dto!(
    CapDecisionDto,
    CapDecision,
    "签约班次上限及计算过程 (R-CAP-1…7)"
);
view_dto!(InboxDto, Vec<InboxMessage>, "机构消息");

#[derive(Debug, Serialize)]
pub struct PlanDetail {
    #[serde(flatten)]
    pub plan: PlanView,
    pub history: Vec<PlanChangeView>,
}

/// A round on the public bulletin's index (nothing but the round's public facts).
#[derive(Debug, Serialize)]
pub struct BulletinRound {
    pub id: i64,
    pub year: i32,
    pub label: String,
    pub status_label: String,
    pub planned_total: u32,
    pub href: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanInputDto {
    pub year: i32,
    pub total_classes: u32,
    /// 预算（元），最多两位小数，如 "1250000.00"
    #[schema(value_type = String)]
    pub budget: Decimal,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
    /// 调整理由：计划已报审或审核通过后必填 (R-PLAN-4)
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

impl PlanInputDto {
    fn input(&self) -> PlanInput {
        PlanInput {
            year: self.year,
            total_classes: self.total_classes,
            budget: self.budget,
            note: self.note.clone(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanDecisionDto {
    /// `approve` 或 `return`
    #[schema(value_type = String)]
    pub decision: PlanDecision,
    /// 意见：退回时必填
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TargetGroupDto {
    #[schema(max_length = 50)]
    pub name: String,
    pub required_share_percent: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoundInputDto {
    pub year: i32,
    /// `h1`、`h2` 或 `other`
    #[schema(value_type = String)]
    pub half: Half,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub label: String,
    /// 计划班次数 P（不含结转）
    pub base_planned: u32,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    #[serde(default)]
    pub target_groups: Vec<TargetGroupDto>,
    #[serde(default)]
    pub call_text: String,
    /// 调整理由：批次发布后必填 (R-PLAN-4)
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

impl RoundInputDto {
    fn input(&self) -> RoundInput {
        RoundInput {
            year: self.year,
            half: self.half,
            label: self.label.clone(),
            base_planned: self.base_planned,
            window_start: self.window_start,
            window_end: self.window_end,
            target_groups: self
                .target_groups
                .iter()
                .map(|g| TargetGroup {
                    name: g.name.clone(),
                    required_share_percent: g.required_share_percent,
                })
                .collect(),
            call_text: self.call_text.clone(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ApplicationInputDto {
    pub round_id: i64,
    /// 拟开展培训的职业（工种），须在本机构核准的培训资质范围内
    pub occupations: Vec<String>,
    pub classes_requested: u32,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CapPreviewQuery {
    /// 首次签约：区培训中心拟定的班次数 (R-CAP-2)
    pub first_cap: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OverrideDto {
    pub cap: u32,
    /// 调整理由（必填，R-CAP-8）
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignDto {
    pub application_id: i64,
    /// 首次签约：区培训中心确定的班次上限 (R-CAP-2)
    #[serde(default)]
    pub first_cap: Option<u32>,
    /// 调整计算结果 (R-CAP-8)，须附理由
    #[serde(default)]
    pub override_cap: Option<OverrideDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TerminateDto {
    /// `by_centre`（手动中止）、`violation`（违法违规）或 `overdue_sanction`（超期处理）；
    /// 中止时其未开班备案一并取消、名额释放并顺延给排队的备案（R-AGR-1）
    pub cause: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PerformanceDtoIn {
    /// 前次签约批次，如 "2025年下半年"
    pub round_label: String,
    /// 前次签约按时完成班次数 C（超期不计）
    pub completed_on_time: u32,
    /// 综合评估得分 S，如 "90.5"
    #[schema(value_type = String)]
    pub score: Score,
    /// 依据（评估报告文号、完成班次清单等）
    pub evidence: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonDto {
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CorrectionItemDto {
    /// 需修改的项目，如 "花名册"
    pub field: String,
    /// 修改要求
    pub message: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReturnDto {
    pub items: Vec<CorrectionItemDto>,
}

// ---- plans ----------------------------------------------------------------------------------

/// 年度计划列表（区培训中心、区人社局、市职培中心）。
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans",
    responses((status = 200, body = PlanListDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_plans(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Json<PlanListDto>> {
    Ok(Json(PlanListDto(
        plans::list_plans(&state.store, &user.actor(&ctx)).await?,
    )))
}

/// 新建年度计划（草稿，R-PLAN-1；区培训中心负责人）。
#[utoipa::path(post, path = "/api/v1/plans", tag = "plans",
    request_body = PlanInputDto,
    responses((status = 201, body = PlanDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<PlanInputDto>,
) -> AppResult<(StatusCode, Json<PlanDto>)> {
    let v = plans::create_plan(
        &state.store,
        &user.actor(&ctx),
        &body.input(),
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(PlanDto(v))))
}

/// 年度计划及其调整记录 (R-PLAN-4)。
#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "plans",
    params(("id" = i64, Path)),
    responses((status = 200, body = PlanDetailDto), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<PlanDetailDto>> {
    let actor = user.actor(&ctx);
    let plan = plans::get_plan(&state.store, &actor, id).await?;
    let history = plans::plan_history(&state.store, &actor, id).await?;
    Ok(Json(PlanDetailDto(PlanDetail { plan, history })))
}

/// 调整年度计划：报审后须填写理由 (R-PLAN-4)。
#[utoipa::path(put, path = "/api/v1/plans/{id}", tag = "plans",
    params(("id" = i64, Path)),
    request_body = PlanInputDto,
    responses((status = 200, body = PlanDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PlanInputDto>,
) -> AppResult<Json<PlanDto>> {
    let v = plans::update_plan(
        &state.store,
        &user.actor(&ctx),
        id,
        &body.input(),
        body.reason.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(Json(PlanDto(v)))
}

/// 报送区人社局审核 (R-PLAN-1)。
#[utoipa::path(post, path = "/api/v1/plans/{id}/submit", tag = "plans",
    params(("id" = i64, Path)),
    responses((status = 200, body = PlanDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn submit_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<PlanDto>> {
    let v = plans::submit_plan(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(PlanDto(v)))
}

/// 区人社局审核：通过或退回（退回须填写意见，R-PLAN-1）。
#[utoipa::path(post, path = "/api/v1/plans/{id}/decision", tag = "plans",
    params(("id" = i64, Path)),
    request_body = PlanDecisionDto,
    responses((status = 200, body = PlanDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn decide_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PlanDecisionDto>,
) -> AppResult<Json<PlanDto>> {
    let v = plans::decide_plan(
        &state.store,
        &user.actor(&ctx),
        id,
        body.decision,
        &body.comment,
        state.clock.now(),
    )
    .await?;
    Ok(Json(PlanDto(v)))
}

// ---- rounds ---------------------------------------------------------------------------------

/// 批次列表（培训机构只见已发布的批次）。
#[utoipa::path(get, path = "/api/v1/rounds", tag = "rounds",
    responses((status = 200, body = RoundListDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_rounds(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Json<RoundListDto>> {
    Ok(Json(RoundListDto(
        rounds::list_rounds(&state.store, &user.actor(&ctx)).await?,
    )))
}

/// 新建批次（草稿，R-PLAN-2）。
#[utoipa::path(post, path = "/api/v1/rounds", tag = "rounds",
    request_body = RoundInputDto,
    responses((status = 201, body = RoundDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_round(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<RoundInputDto>,
) -> AppResult<(StatusCode, Json<RoundDto>)> {
    let v = rounds::create_round(
        &state.store,
        &user.actor(&ctx),
        &body.input(),
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(RoundDto(v))))
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}", tag = "rounds",
    params(("id" = i64, Path)),
    responses((status = 200, body = RoundDto), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_round(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<RoundDto>> {
    Ok(Json(RoundDto(
        rounds::get_round(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 调整批次：发布后须填写理由 (R-PLAN-4)。
#[utoipa::path(put, path = "/api/v1/rounds/{id}", tag = "rounds",
    params(("id" = i64, Path)),
    request_body = RoundInputDto,
    responses((status = 200, body = RoundDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_round(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RoundInputDto>,
) -> AppResult<Json<RoundDto>> {
    let v = rounds::update_round(
        &state.store,
        &user.actor(&ctx),
        id,
        &body.input(),
        body.reason.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(Json(RoundDto(v)))
}

/// 发布批次：在公示中可见，接受申报 (R-PLAN-2)。
#[utoipa::path(post, path = "/api/v1/rounds/{id}/publish", tag = "rounds",
    params(("id" = i64, Path)),
    responses((status = 200, body = RoundDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn publish_round(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<RoundDto>> {
    let v = rounds::publish_round(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(RoundDto(v)))
}

/// 结束批次：候补备案未获名额；上半年未完成指标结转下半年 (R-PLAN-3)。
#[utoipa::path(post, path = "/api/v1/rounds/{id}/close", tag = "rounds",
    params(("id" = i64, Path)),
    responses((status = 200, body = CloseReportDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn close_round(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<CloseReportDto>> {
    let v = rounds::close_round(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(CloseReportDto(v)))
}

/// 批次调整记录 (R-PLAN-4)。
#[utoipa::path(get, path = "/api/v1/rounds/{id}/history", tag = "rounds",
    params(("id" = i64, Path)),
    responses((status = 200, body = HistoryDto), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn round_history(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<HistoryDto>> {
    let actor = user.actor(&ctx);
    rounds::get_round(&state.store, &actor, id).await?;
    Ok(Json(HistoryDto(
        plans::round_history(&state.store, &actor, id).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}/applications", tag = "applications",
    params(("id" = i64, Path)),
    responses((status = 200, body = ApplicationListDto), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_applications(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ApplicationListDto>> {
    let actor = user.actor(&ctx);
    rounds::get_round(&state.store, &actor, id).await?;
    Ok(Json(ApplicationListDto(
        agreements::list_applications(&state.store, &actor, id).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/rounds/{id}/agreements", tag = "agreements",
    params(("id" = i64, Path)),
    responses((status = 200, body = AgreementListDto), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_agreements(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<AgreementListDto>> {
    let actor = user.actor(&ctx);
    rounds::get_round(&state.store, &actor, id).await?;
    Ok(Json(AgreementListDto(
        agreements::list_agreements(&state.store, &actor, id).await?,
    )))
}

/// 本批次的开班备案，按提交先后（培训机构只见本机构的）。
#[utoipa::path(get, path = "/api/v1/rounds/{id}/filings", tag = "filings",
    params(("id" = i64, Path)),
    responses((status = 200, body = FilingListDto), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_filings(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<FilingListDto>> {
    let actor = user.actor(&ctx);
    rounds::get_round(&state.store, &actor, id).await?;
    Ok(Json(FilingListDto(
        filings::list_round_filings(&state.store, &actor, id).await?,
    )))
}

/// A strong validator of the bulletin's content: the response is computed from the database on
/// every request (never stale) and a client that has it gets 304.
pub fn etag_of(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    format!("\"{}\"", hex::encode(&d[..16]))
}

/// `Cache-Control: no-cache` + ETag: caches keep the bulletin but ask every time (公示 is public
/// and holds nothing personal, so it may be stored, unlike the other pages, S19).
pub fn cacheable(headers: &HeaderMap, body: Vec<u8>, content_type: &'static str) -> Response {
    let etag = etag_of(&body);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = body.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r
    };
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, no-cache"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    resp
}

/// 公示（无需登录）：计划名额（基数 + 结转）、已批出、剩余，以及每份备案的机构、提交时间（北京时间，
/// 精确到秒）和状态，各机构批复数量。不含任何个人信息。
#[utoipa::path(get, path = "/api/v1/rounds/{id}/bulletin", tag = "bulletin",
    params(("id" = i64, Path)),
    responses((status = 200, body = BulletinDto), (status = 304), (status = 404, body = ErrorBody)))]
pub async fn round_bulletin(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let b = bulletin::bulletin(&state.store, id).await?;
    let body = serde_json::to_vec(&BulletinDto(b))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("bulletin json: {e}")))?;
    Ok(cacheable(&headers, body, "application/json"))
}

/// 公示的批次（无需登录）。
#[utoipa::path(get, path = "/api/v1/bulletin", tag = "bulletin",
    responses((status = 200, body = BulletinIndexDto)))]
pub async fn bulletin_index(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let items: Vec<BulletinRound> = bulletin::published_rounds(&state.store)
        .await?
        .into_iter()
        .map(|r| BulletinRound {
            href: format!("/api/v1/rounds/{}/bulletin", r.id),
            id: r.id,
            year: r.year,
            label: r.label,
            status_label: r.status_label,
            planned_total: r.planned_total,
        })
        .collect();
    let body = serde_json::to_vec(&BulletinIndexDto(items))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("bulletin json: {e}")))?;
    Ok(cacheable(&headers, body, "application/json"))
}

// ---- applications, caps, agreements -----------------------------------------------------------

/// 培训机构申报已发布的批次（申报期内；职业须在本机构资质范围内）。
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications",
    request_body = ApplicationInputDto,
    responses((status = 201, body = ApplicationDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn apply(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<ApplicationInputDto>,
) -> AppResult<(StatusCode, Json<ApplicationDto>)> {
    let v = agreements::apply_to_round(
        &state.store,
        &user.actor(&ctx),
        &ApplicationInput {
            round_id: body.round_id,
            occupations: body.occupations,
            classes_requested: body.classes_requested,
            note: body.note,
        },
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ApplicationDto(v))))
}

#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications",
    params(("id" = i64, Path)),
    responses((status = 200, body = ApplicationDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_application(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ApplicationDto>> {
    Ok(Json(ApplicationDto(
        agreements::get_application(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 核定签约班次上限及完整计算过程 (R-CAP-1…7)。首次签约须给出 `first_cap`。
#[utoipa::path(get, path = "/api/v1/applications/{id}/cap", tag = "applications",
    params(("id" = i64, Path), CapPreviewQuery),
    responses((status = 200, body = CapPreviewDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn cap_preview(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<CapPreviewQuery>,
) -> AppResult<Json<CapPreviewDto>> {
    Ok(Json(CapPreviewDto(
        agreements::cap_preview_on(
            &state.store,
            &user.actor(&ctx),
            id,
            q.first_cap,
            super::policies::today(&state),
        )
        .await?,
    )))
}

/// 签订委托培训协议 (R-AGR-1)：按核定上限，可调整并说明理由 (R-CAP-8)；暂停签约的机构不能签约。
#[utoipa::path(post, path = "/api/v1/agreements", tag = "agreements",
    request_body = SignDto,
    responses((status = 201, body = AgreementDto), (status = 404, description = "申报不存在", body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn sign(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<SignDto>,
) -> AppResult<(StatusCode, Json<AgreementDto>)> {
    let v = agreements::sign_agreement(
        &state.store,
        &user.actor(&ctx),
        &SignInput {
            application_id: body.application_id,
            first_cap: body.first_cap,
            override_cap: body.override_cap.map(|o| CapOverrideInput {
                cap: o.cap,
                reason: o.reason,
            }),
        },
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(AgreementDto(v))))
}

#[utoipa::path(get, path = "/api/v1/agreements/{id}", tag = "agreements",
    params(("id" = i64, Path)),
    responses((status = 200, body = AgreementDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_agreement(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<AgreementDto>> {
    Ok(Json(AgreementDto(
        agreements::get_agreement(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 调整签约班次上限，须填写理由；计算过程保留原值与新值 (R-CAP-8)。
#[utoipa::path(post, path = "/api/v1/agreements/{id}/override", tag = "agreements",
    params(("id" = i64, Path)),
    request_body = OverrideDto,
    responses((status = 200, body = AgreementDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn override_cap(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<OverrideDto>,
) -> AppResult<Json<AgreementDto>> {
    let v = agreements::override_cap(
        &state.store,
        &user.actor(&ctx),
        id,
        body.cap,
        &body.reason,
        state.clock.now(),
    )
    .await?;
    Ok(Json(AgreementDto(v)))
}

/// 中止协议（须填写理由，R-AGR-1）。
#[utoipa::path(post, path = "/api/v1/agreements/{id}/terminate", tag = "agreements",
    params(("id" = i64, Path)),
    request_body = TerminateDto,
    responses((status = 200, body = AgreementDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn terminate(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<TerminateDto>,
) -> AppResult<Json<AgreementDto>> {
    let cause = super::rounds_forms::termination_cause(&body.cause)?;
    let v = agreements::terminate_agreement(
        &state.store,
        &user.actor(&ctx),
        id,
        cause,
        &body.reason,
        state.clock.now(),
    )
    .await?;
    Ok(Json(AgreementDto(v)))
}

#[utoipa::path(get, path = "/api/v1/institutions/{id}/performance", tag = "agreements",
    params(("id" = i64, Path)),
    responses((status = 200, body = PerformanceListDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_performance(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<PerformanceListDto>> {
    Ok(Json(PerformanceListDto(
        agreements::list_prior_performance(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 登记前次签约按时完成班次数 C 与综合评估得分 S，附依据 (R-CAP-3)。
#[utoipa::path(post, path = "/api/v1/institutions/{id}/performance", tag = "agreements",
    params(("id" = i64, Path)),
    request_body = PerformanceDtoIn,
    responses((status = 201, body = PerformanceDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn record_performance(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PerformanceDtoIn>,
) -> AppResult<(StatusCode, Json<PerformanceDto>)> {
    let v = agreements::record_prior_performance(
        &state.store,
        &user.actor(&ctx),
        &PriorPerformanceInput {
            institution_id: id,
            round_label: body.round_label,
            completed_on_time: body.completed_on_time,
            score: body.score,
            evidence: body.evidence,
        },
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(PerformanceDto(v))))
}

// ---- filings (the quota queue) ----------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/filings/{id}", tag = "filings",
    params(("id" = i64, Path)),
    responses((status = 200, body = FilingDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_filing(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<FilingDto>> {
    Ok(Json(FilingDto(
        filings::get_filing(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 撤回：名额让给第一位上限允许的候补 (R-FIL-6)。
#[utoipa::path(post, path = "/api/v1/filings/{id}/withdraw", tag = "filings",
    params(("id" = i64, Path)),
    responses((status = 200, body = FilingDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn withdraw_filing(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<FilingDto>> {
    let v =
        filings::withdraw_filing(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(FilingDto(v)))
}

/// 退回修改后重新提交：名额与位次不变。
#[utoipa::path(post, path = "/api/v1/filings/{id}/resubmit", tag = "filings",
    params(("id" = i64, Path)),
    responses((status = 200, body = FilingDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resubmit_filing(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<FilingDto>> {
    let v =
        filings::resubmit_filing(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(FilingDto(v)))
}

/// 退回修改（逐项列明，R-FIL-5）：保留名额与位次。
#[utoipa::path(post, path = "/api/v1/filings/{id}/return", tag = "filings",
    params(("id" = i64, Path)),
    request_body = ReturnDto,
    responses((status = 200, body = FilingDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn return_filing(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReturnDto>,
) -> AppResult<Json<FilingDto>> {
    let items = body
        .items
        .into_iter()
        .map(|i| CorrectionItem {
            field: i.field,
            message: i.message,
        })
        .collect();
    let v = filings::return_filing(
        &state.store,
        &user.actor(&ctx),
        id,
        items,
        state.clock.now(),
    )
    .await?;
    Ok(Json(FilingDto(v)))
}

/// 不予备案（须填写理由）：名额释放给候补 (R-FIL-5, R-FIL-6)。
#[utoipa::path(post, path = "/api/v1/filings/{id}/reject", tag = "filings",
    params(("id" = i64, Path)),
    request_body = ReasonDto,
    responses((status = 200, body = FilingDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject_filing(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReasonDto>,
) -> AppResult<Json<FilingDto>> {
    let v = filings::reject_filing(
        &state.store,
        &user.actor(&ctx),
        id,
        &body.reason,
        state.clock.now(),
    )
    .await?;
    Ok(Json(FilingDto(v)))
}

/// 备案通过（须已占用名额；提交人不能审批，S7）。
#[utoipa::path(post, path = "/api/v1/filings/{id}/approve", tag = "filings",
    params(("id" = i64, Path)),
    responses((status = 200, body = FilingDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve_filing(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<FilingDto>> {
    let v = filings::approve_filing(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(FilingDto(v)))
}

// ---- tools, inbox -----------------------------------------------------------------------------

/// 签约班次上限试算（与 `peixun rules cap` 同一计算）：返回结果及计算过程。
#[utoipa::path(post, path = "/api/v1/tools/cap", tag = "tools",
    request_body = CapCalcInput,
    responses((status = 200, body = CapDecisionDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn calc_cap(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CapCalcInput>,
) -> AppResult<Json<CapDecisionDto>> {
    let policy = super::policies::in_force_today(&state).await?;
    Ok(Json(CapDecisionDto(body.compute(&policy)?)))
}

/// 本机构的消息（如批次结束时未获名额的通知）。
#[utoipa::path(get, path = "/api/v1/inbox", tag = "inbox",
    responses((status = 200, body = InboxDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_inbox(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Json<InboxDto>> {
    let actor = user.actor(&ctx);
    let Some(inst) = actor.institution_id else {
        return Err(AppError::Forbidden("no institution".into()));
    };
    Ok(Json(InboxDto(
        inbox::list_inbox(&state.store, &actor, inst).await?,
    )))
}
