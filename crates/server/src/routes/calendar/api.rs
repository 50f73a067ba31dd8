//! The holiday calendar as JSON (R-CAL-1).

use super::super::Registrar;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, AppResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use peixun_domain::rules::shanghai;
use peixun_store::calendar::{self, ImportOutcome, ImportPreview, YearView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/calendar/years", list_years)
        .get("/api/v1/calendar/years/{year}", get_year)
        .post("/api/v1/calendar/preview", preview)
        .post("/api/v1/calendar/import", import)
}

/// The loaded holiday tables, and the next year still missing (from 1 November).
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarYearsDto {
    #[schema(value_type = Vec<Object>)]
    pub years: Vec<YearView>,
    /// From 1 November: next year's table is not loaded yet (R-CAL-1).
    pub next_year_missing: Option<i32>,
}

/// One loaded year: its notice, its holiday periods and adjusted working days.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct CalendarYearDto(pub YearView);

/// A holiday file in the `holidays.toml` format (one or more `[[year]]` tables).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CalendarTomlDto {
    pub toml: String,
    /// Why a year already used by decisions is replaced (required then).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// What loading would do: every problem with its line, else each year (new, unchanged or
/// replaced; whether decisions used it; the deadlines that move).
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct CalendarPreviewDto(pub ImportPreview);

/// What an import did: the years written, those unchanged, the deadlines that moved.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct CalendarImportDto(pub ImportOutcome);

/// 已载入的节假日安排 (R-CAL-1)。
#[utoipa::path(get, path = "/api/v1/calendar/years", tag = "calendar",
    responses((status = 200, body = CalendarYearsDto), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_years(State(state): State<AppState>) -> AppResult<Json<CalendarYearsDto>> {
    let today = state.clock.now().with_timezone(&shanghai()).date_naive();
    Ok(Json(CalendarYearsDto {
        years: calendar::years(&state.store).await?,
        next_year_missing: calendar::next_year_missing(&state.store, today).await?,
    }))
}

/// 某一年的节假日安排 (R-CAL-1)。
#[utoipa::path(get, path = "/api/v1/calendar/years/{year}", tag = "calendar",
    params(("year" = i32, Path)),
    responses((status = 200, body = CalendarYearDto), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_year(
    State(state): State<AppState>,
    ApiPath(year): ApiPath<i32>,
) -> AppResult<Json<CalendarYearDto>> {
    Ok(Json(CalendarYearDto(
        calendar::year(&state.store, year).await?,
    )))
}

/// 预览载入结果（不保存）：逐行列出问题，或每一年的变化及受影响的期限 (R-CAL-1)。
#[utoipa::path(post, path = "/api/v1/calendar/preview", tag = "calendar",
    request_body = CalendarTomlDto,
    responses((status = 200, body = CalendarPreviewDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn preview(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(b): ApiJson<CalendarTomlDto>,
) -> AppResult<Json<CalendarPreviewDto>> {
    Ok(Json(CalendarPreviewDto(
        calendar::preview(&state.store, &user.actor(&ctx), &b.toml).await?,
    )))
}

/// 载入或替换节假日安排：全部通过检查才保存；替换已被使用的年份须填写原因；记入审计日志 (R-CAL-1)。
#[utoipa::path(post, path = "/api/v1/calendar/import", tag = "calendar",
    request_body = CalendarTomlDto,
    responses((status = 200, body = CalendarImportDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(b): ApiJson<CalendarTomlDto>,
) -> AppResult<Json<CalendarImportDto>> {
    Ok(Json(CalendarImportDto(
        calendar::import(
            &state.store,
            &user.actor(&ctx),
            &b.toml,
            b.reason.as_deref(),
            state.clock.now(),
        )
        .await?,
    )))
}
