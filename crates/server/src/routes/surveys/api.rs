//! The survey as JSON (R-EVA-3): a class's counts, the round's per-class counts, the round's
//! questionnaire (read; the centre writes), a class's closing date (the centre), and the public
//! questionnaire and answer behind a survey link.

use super::super::Registrar;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, AppResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use peixun_domain::survey::Questionnaire;
use peixun_store::surveys::{
    self, ClassSurveyView, PublicSurvey, QuestionnaireView, RoundSurveyView,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/surveys/classes/{id}", class_survey)
        .put("/api/v1/surveys/classes/{id}/closing", set_closing)
        .get("/api/v1/surveys/rounds/{id}", round_survey)
        .get(
            "/api/v1/surveys/rounds/{id}/questionnaire",
            get_questionnaire,
        )
        .put(
            "/api/v1/surveys/rounds/{id}/questionnaire",
            put_questionnaire,
        )
        .get("/api/v1/surveys/{token}", public_survey)
        .post("/api/v1/surveys/{token}/responses", respond)
}

/// A class's survey: link token (`/s/{token}`), closing date, whether it takes answers, and the
/// counts — responses, trainees, rate (%), per rating question the answers, sum and mean
/// (exact decimal text). Never who answered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct ClassSurveyDto(pub ClassSurveyView);

/// A round's counts per class and in total.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct RoundSurveyDto(pub RoundSurveyView);

/// A round's questionnaire (`is_default`: none saved, the default applies).
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct QuestionnaireDto(pub QuestionnaireView);

/// The questions: each `{key, text, kind: "rating" | "comment"}`; 1–12 questions, keys unique,
/// `overall` a rating question.
#[derive(Debug, Deserialize, ToSchema)]
pub struct QuestionnaireBody {
    #[schema(value_type = Vec<Object>)]
    pub questions: Vec<peixun_domain::survey::Question>,
}

/// A class's closing date (`null`: back to the default, planned end + 7 days).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClosingBody {
    #[schema(value_type = Option<String>, format = Date)]
    pub closes_on: Option<NaiveDate>,
}

/// The public survey: class, institution, closing date, `open` (`open` / `not_yet` / `closed` /
/// `unavailable`) and the questions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct PublicSurveyDto(pub PublicSurvey);

/// An answer: the trainee's name and the last 4 characters of the ID number, and per question
/// key the rating ("1"–"5") or the comment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResponseBody {
    pub name: String,
    pub id_last4: String,
    pub answers: BTreeMap<String, String>,
}

/// The answer was recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedDto {
    pub recorded: bool,
}

/// 班次满意度调查：链接令牌、截止日期、回收数与回收率、各评分题平均分（只有统计，不含答卷人）。
/// 区培训中心、区人社局、市职培中心及本班培训机构可查看；其他机构 404 (R-EVA-3, S6)。
#[utoipa::path(get, path = "/api/v1/surveys/classes/{id}", tag = "surveys",
    params(("id" = i64, Path)),
    responses((status = 200, body = ClassSurveyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn class_survey(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ClassSurveyDto>> {
    Ok(Json(ClassSurveyDto(
        surveys::class_survey(&state.store, &user.actor(&ctx), id, state.clock.now()).await?,
    )))
}

/// 修改班次问卷截止日期（区培训中心；`null` 恢复默认：计划结束日期后7天；不得早于开班日期）。
#[utoipa::path(put, path = "/api/v1/surveys/classes/{id}/closing", tag = "surveys",
    params(("id" = i64, Path)), request_body = ClosingBody,
    responses((status = 200, body = ClassSurveyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_closing(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ClosingBody>,
) -> AppResult<Json<ClassSurveyDto>> {
    Ok(Json(ClassSurveyDto(
        surveys::set_closing_date(
            &state.store,
            &user.actor(&ctx),
            id,
            b.closes_on,
            state.clock.now(),
        )
        .await?,
    )))
}

/// 本轮各班次的问卷回收率与各题平均分及合计（区培训中心、区人社局、市职培中心）。
#[utoipa::path(get, path = "/api/v1/surveys/rounds/{id}", tag = "surveys",
    params(("id" = i64, Path)),
    responses((status = 200, body = RoundSurveyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn round_survey(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<RoundSurveyDto>> {
    Ok(Json(RoundSurveyDto(
        surveys::round_survey(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 本轮满意度调查问卷（未保存时为默认问卷）。
#[utoipa::path(get, path = "/api/v1/surveys/rounds/{id}/questionnaire", tag = "surveys",
    params(("id" = i64, Path)),
    responses((status = 200, body = QuestionnaireDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_questionnaire(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<QuestionnaireDto>> {
    Ok(Json(QuestionnaireDto(
        surveys::get_questionnaire(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 保存本轮问卷（区培训中心）：1–12题，标识唯一，须含总体满意度评分题 `overall`；有误时 422
/// 列出每一处问题，不保存；记入审计日志。
#[utoipa::path(put, path = "/api/v1/surveys/rounds/{id}/questionnaire", tag = "surveys",
    params(("id" = i64, Path)), request_body = QuestionnaireBody,
    responses((status = 200, body = QuestionnaireDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_questionnaire(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<QuestionnaireBody>,
) -> AppResult<Json<QuestionnaireDto>> {
    let q = Questionnaire {
        questions: b.questions,
    };
    Ok(Json(QuestionnaireDto(
        surveys::save_questionnaire(&state.store, &user.actor(&ctx), id, &q, state.clock.now())
            .await?,
    )))
}

/// 公开问卷（无需登录）：班次、培训机构、截止日期、是否可填写及题目。链接无效时 404。
#[utoipa::path(get, path = "/api/v1/surveys/{token}", tag = "surveys",
    params(("token" = String, Path)),
    responses((status = 200, body = PublicSurveyDto), (status = 404, body = ErrorBody)))]
pub async fn public_survey(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> AppResult<Json<PublicSurveyDto>> {
    Ok(Json(PublicSurveyDto(
        surveys::public_survey(&state.store, &token, state.clock.now()).await?,
    )))
}

/// 提交答卷（无需登录）：姓名与身份证号后4位须与本班花名册一致（不一致时不区分姓名是否存在）；
/// 每人一次（409 SURVEY_ALREADY_ANSWERED）；截止后 409 SURVEY_CLOSED；有误时 422 列出每一处问题。
/// 每个客户端地址和每个问卷链接限频，超出时 429 并给出 Retry-After (R-EVA-3)。
#[utoipa::path(post, path = "/api/v1/surveys/{token}/responses", tag = "surveys",
    params(("token" = String, Path)), request_body = ResponseBody,
    responses((status = 201, body = RecordedDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn respond(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiPath(token): ApiPath<String>,
    ApiJson(b): ApiJson<ResponseBody>,
) -> AppResult<Response> {
    if let Err(secs) = super::limit(&state, ctx.ip.as_deref(), &token) {
        return Ok(super::too_many(secs));
    }
    surveys::respond(
        &state.store,
        &token,
        &b.name,
        &b.id_last4,
        &b.answers,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(RecordedDto { recorded: true })).into_response())
}
