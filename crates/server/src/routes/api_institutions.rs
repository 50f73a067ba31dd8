//! The institution directory and teachers, as JSON.

use super::Registrar;
use super::forms::{institution_filter, page_request};
use crate::AppState;
use crate::api_types::*;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use peixun_store::{institutions, teachers};

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/institutions", list)
        .post("/api/v1/institutions", create)
        .get("/api/v1/institutions/{id}", get_one)
        .put("/api/v1/institutions/{id}", update)
        .get("/api/v1/institutions/{id}/teachers", list_teachers)
        .post("/api/v1/institutions/{id}/teachers", create_teacher)
        .get("/api/v1/teachers/{id}", get_teacher)
        .put("/api/v1/teachers/{id}", update_teacher)
        .post("/api/v1/teachers/{id}/reveal", reveal_teacher_id)
}

/// The directory (institution roles see only their own institution).
#[utoipa::path(get, path = "/api/v1/institutions", tag = "institutions",
    params(InstitutionQuery),
    responses((status = 200, body = InstitutionPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<InstitutionQuery>,
) -> AppResult<Json<InstitutionPage>> {
    let filter = institution_filter(&q)?;
    let page = page_request(q.page, q.per_page);
    let res =
        institutions::list_institutions(&state.store, &user.actor(&ctx), &filter, &page).await?;
    Ok(Json(InstitutionPage {
        items: res.items.into_iter().map(Into::into).collect(),
        total: res.total,
        page: page.page.unwrap_or(1),
        per_page: res.per_page,
    }))
}

#[utoipa::path(get, path = "/api/v1/institutions/{id}", tag = "institutions",
    params(("id" = i64, Path)),
    responses((status = 200, body = InstitutionDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<InstitutionDto>> {
    let v = institutions::get_institution(&state.store, &user.actor(&ctx), id).await?;
    Ok(Json(v.into()))
}

/// Add an institution (centre). A credit code with a wrong check character needs
/// `confirm_checksum_warning: true`.
#[utoipa::path(post, path = "/api/v1/institutions", tag = "institutions",
    request_body = InstitutionInputDto,
    responses((status = 201, body = InstitutionDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(input): ApiJson<InstitutionInputDto>,
) -> AppResult<(StatusCode, Json<InstitutionDto>)> {
    let input = input.into_input()?;
    let v = institutions::create_institution(
        &state.store,
        &user.actor(&ctx),
        &input,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

#[utoipa::path(put, path = "/api/v1/institutions/{id}", tag = "institutions",
    params(("id" = i64, Path)),
    request_body = InstitutionInputDto,
    responses((status = 200, body = InstitutionDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<InstitutionInputDto>,
) -> AppResult<Json<InstitutionDto>> {
    let input = input.into_input()?;
    let v = institutions::update_institution(
        &state.store,
        &user.actor(&ctx),
        id,
        &input,
        state.clock.now(),
    )
    .await?;
    Ok(Json(v.into()))
}

/// The teachers of an institution; ID numbers masked (R-PII-1).
#[utoipa::path(get, path = "/api/v1/institutions/{id}/teachers", tag = "teachers",
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = TeacherPage), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_teachers(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<TeacherPage>> {
    let page = page_request(q.page, q.per_page);
    let actor = user.actor(&ctx);
    // The institution must exist and be visible (404/403 before an empty list).
    institutions::get_institution(&state.store, &actor, id).await?;
    let res = teachers::list_teachers(&state.store, &actor, id, &page).await?;
    Ok(Json(TeacherPage {
        items: res.items.into_iter().map(Into::into).collect(),
        total: res.total,
        page: page.page.unwrap_or(1),
        per_page: res.per_page,
    }))
}

#[utoipa::path(post, path = "/api/v1/institutions/{id}/teachers", tag = "teachers",
    params(("id" = i64, Path)),
    request_body = TeacherInputDto,
    responses((status = 201, body = TeacherDto), (status = 403, body = ErrorBody), (status = 409, description = "本机构已登记该身份证号码的教师", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_teacher(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<TeacherInputDto>,
) -> AppResult<(StatusCode, Json<TeacherDto>)> {
    let v = teachers::create_teacher(
        &state.store,
        &user.actor(&ctx),
        id,
        &input.into(),
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

#[utoipa::path(put, path = "/api/v1/teachers/{id}", tag = "teachers",
    params(("id" = i64, Path)),
    request_body = TeacherInputDto,
    responses((status = 200, body = TeacherDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "本机构已登记该身份证号码的教师", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_teacher(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<TeacherInputDto>,
) -> AppResult<Json<TeacherDto>> {
    let v = teachers::update_teacher(
        &state.store,
        &user.actor(&ctx),
        id,
        &input.into(),
        state.clock.now(),
    )
    .await?;
    Ok(Json(v.into()))
}

/// The full ID number of a teacher, on purpose and with a reason; audited (R-PII-1, S13).
#[utoipa::path(post, path = "/api/v1/teachers/{id}/reveal", tag = "teachers",
    params(("id" = i64, Path)),
    request_body = RevealRequest,
    responses((status = 200, body = RevealResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reveal_teacher_id(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RevealRequest>,
) -> AppResult<Json<RevealResponse>> {
    // The store checks permission (writers of the teacher only) before the reason.
    let id_number = teachers::reveal_id_number(
        &state.store,
        &user.actor(&ctx),
        id,
        &input.reason,
        state.clock.now(),
    )
    .await?;
    Ok(Json(RevealResponse { id_number }))
}

#[utoipa::path(get, path = "/api/v1/teachers/{id}", tag = "teachers",
    params(("id" = i64, Path)),
    responses((status = 200, body = TeacherDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_teacher(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<TeacherDto>> {
    Ok(Json(
        teachers::get_teacher(&state.store, &user.actor(&ctx), id)
            .await?
            .into(),
    ))
}
