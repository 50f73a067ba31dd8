//! Exam results and certificate codes as JSON (R-CRT-1), and the public verification (R-CRT-2).

use super::super::Registrar;
use super::super::api_filing_package::{ProblemsBody, upload};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppResult, ErrorBody};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use peixun_store::certificates::{self, CertificateView, ConfirmOutcome, VerifyView};
use peixun_store::results::{self, ClassResults, ResultImportOutcome, ResultInput};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/classes/{id}/results", get_results)
        .put("/api/v1/classes/{id}/results", save_results)
        .add(
            "POST",
            "/api/v1/classes/{id}/results/import",
            upload(import_results),
        )
        .post("/api/v1/classes/{id}/results/confirm", confirm_results)
        .get("/api/v1/classes/{id}/certificates", list_certificates)
        .post("/api/v1/certificates/revoke", revoke)
        .get("/api/v1/certificates/verify", verify)
}

/// A class's results: one row per roster trainee (ID number masked), the counts, whether the
/// centre confirmed them and what the caller may do.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct ClassResultsDto(pub ClassResults);

/// Results to enter or correct; a row with all three cells empty clears that trainee's result.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SaveResultsDto {
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<ResultInput>,
}

/// How many trainees' results changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedDto {
    pub changed: usize,
}

/// An import done: the rows read and the results that changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedDto {
    pub rows: usize,
    pub changed: usize,
}

/// What the confirmation did: codes issued, or withheld under a confirmed violation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct ConfirmDto(pub ConfirmOutcome);

/// A class's certificate codes.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateListDto {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<CertificateView>,
}

/// Revoke one code (centre admin).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeDto {
    pub code: String,
    /// 撤销原因，必填，不超过2000字.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct CertificateDto(pub CertificateView);

/// Code and holder's name to verify.
#[derive(Debug, Deserialize, IntoParams)]
pub struct VerifyQuery {
    pub code: Option<String>,
    pub name: Option<String>,
}

/// The verified certificate: masked name, occupation, level, institution, issue date, status
/// (`valid` / `revoked`). Never an ID number.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct VerifyDto(pub VerifyView);

/// 班次的考试结果（培训机构本机构、区培训中心可查看；证件号码脱敏）(R-CRT-1, S6)。
#[utoipa::path(get, path = "/api/v1/classes/{id}/results", tag = "certificates",
    params(("id" = i64, Path)),
    responses((status = 200, body = ClassResultsDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_results(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ClassResultsDto>> {
    Ok(Json(ClassResultsDto(
        results::get_results(&state.store, &user.actor(&ctx), id, state.clock.now()).await?,
    )))
}

/// 录入或更正考试结果（本班培训机构；培训完成后、区培训中心确认前）：逐行检查，有误时 422
/// 列出每一处问题，不保存任何数据；每次更改记入审计日志 (R-CRT-1)。
#[utoipa::path(put, path = "/api/v1/classes/{id}/results", tag = "certificates",
    params(("id" = i64, Path)), request_body = SaveResultsDto,
    responses((status = 200, body = ChangedDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn save_results(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SaveResultsDto>,
) -> AppResult<Json<ChangedDto>> {
    let changed = results::save_results(
        &state.store,
        &user.actor(&ctx),
        id,
        &b.rows,
        state.clock.now(),
    )
    .await?;
    Ok(Json(ChangedDto { changed }))
}

/// 导入考试结果（.xlsx 或 .csv，列：姓名、证件号码、考试结果、成绩、考试日期；请求体为文件内容）：
/// 全部无误才导入；有误时 422 列出每一行的问题，不导入任何数据 (R-CRT-1, S22)。
#[utoipa::path(post, path = "/api/v1/classes/{id}/results/import", tag = "certificates",
    params(("id" = i64, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportedDto), (status = 403, body = ErrorBody), (status = 422, body = ProblemsBody)),
    security(("bearer" = [])))]
pub async fn import_results(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> AppResult<Response> {
    match results::import_results(
        &state.store,
        &user.actor(&ctx),
        &state.roster_key,
        id,
        &body,
        None,
        state.clock.now(),
    )
    .await?
    {
        ResultImportOutcome::Imported { rows, changed } => {
            Ok(Json(ImportedDto { rows, changed }).into_response())
        }
        ResultImportOutcome::Refused { problems } => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(ProblemsBody {
                code: "RESULTS_INVALID".into(),
                message: format!("成绩表有{}处问题，未导入任何数据", problems.len()),
                problems: serde_json::to_value(&problems).unwrap_or_default(),
            }),
        )
            .into_response()),
    }
}

/// 区培训中心确认考试结果：班次已完成、全部学员已录入结果；同一事务内为合格学员发放合格证书编码
/// （涉及已确认违法违规的班次不予发放）(R-CRT-1, R-VIO-2, S9)。
#[utoipa::path(post, path = "/api/v1/classes/{id}/results/confirm", tag = "certificates",
    params(("id" = i64, Path)),
    responses((status = 200, body = ConfirmDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm_results(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ConfirmDto>> {
    Ok(Json(ConfirmDto(
        certificates::confirm_results(&state.store, &user.actor(&ctx), id, state.clock.now())
            .await?,
    )))
}

/// 班次的合格证书编码（编码、姓名、状态 valid/revoked、发放日期）；区培训中心与本班培训机构可查看 (R-CRT-1, S6)。
#[utoipa::path(get, path = "/api/v1/classes/{id}/certificates", tag = "certificates",
    params(("id" = i64, Path)),
    responses((status = 200, body = CertificateListDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_certificates(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<CertificateListDto>> {
    Ok(Json(CertificateListDto {
        items: certificates::list_certificates(&state.store, &user.actor(&ctx), id).await?,
    }))
}

/// 撤销一个合格证书编码（区培训中心负责人，须填写原因）：编码保留、不再使用，验证时显示“已撤销” (R-CRT-1)。
#[utoipa::path(post, path = "/api/v1/certificates/revoke", tag = "certificates",
    request_body = RevokeDto,
    responses((status = 200, body = CertificateDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(b): ApiJson<RevokeDto>,
) -> AppResult<Json<CertificateDto>> {
    Ok(Json(CertificateDto(
        certificates::revoke(
            &state.store,
            &user.actor(&ctx),
            &b.code,
            &b.reason,
            state.clock.now(),
        )
        .await?,
    )))
}

/// 合格证书查验（无需登录）：证书编码 + 持证人姓名 → 脱敏姓名、职业（工种）、等级、培训机构、发放日期、状态。
/// 编码不存在与姓名不符的回答完全相同（404）；每个客户端地址限频，超出时 429 并给出 Retry-After (R-CRT-2)。
#[utoipa::path(get, path = "/api/v1/certificates/verify", tag = "certificates",
    params(VerifyQuery),
    responses((status = 200, body = VerifyDto), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<VerifyQuery>,
) -> AppResult<Response> {
    if let Err(secs) = super::limit(&state, ctx.ip.as_deref()) {
        return Ok(super::with_retry_after(
            crate::error::AppError::TooManyRequests.into_response(),
            secs,
        ));
    }
    let code = q.code.unwrap_or_default();
    let name = q.name.unwrap_or_default();
    Ok(
        match certificates::verify(&state.store, &code, &name).await? {
            Some(v) => Json(VerifyDto(v)).into_response(),
            None => super::not_found_response(),
        },
    )
}
