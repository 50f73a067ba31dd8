//! The class archive as JSON (R-ARC-1, R-ARC-2). Uploads are the raw request body (`?name=`
//! carries the file name); their type is sniffed from the content (S16).

use super::super::Registrar;
use super::super::api_filing_package::{file_response, upload};
use super::{zip_response, zip_upload};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppResult, ErrorBody};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use peixun_store::archive::{self, ArchiveView, DocumentView, ZipReport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/classes/{id}/archive", get_archive)
        .add(
            "POST",
            "/api/v1/classes/{id}/archive/documents",
            upload(upload_document),
        )
        .add(
            "POST",
            "/api/v1/classes/{id}/archive/zip",
            zip_upload(import_zip),
        )
        .get("/api/v1/classes/{id}/archive/download", download)
        .post("/api/v1/classes/{id}/archive/mark-archived", mark_archived)
        .get("/api/v1/archive-documents/{id}", download_document)
}

/// 班次培训档案：学员 × 材料矩阵（present 已上传 / missing 缺 / not_required 不需要 /
/// optional 可选）、班级材料、`completeness_percent`（0–100，保留一位小数，四舍五入）。
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct ArchiveDto(pub ArchiveView);

/// 一份档案材料。
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct ArchiveDocumentDto(pub DocumentView);

/// 批量上传结果：已归入的文件、未能归入的文件及原因、上传后的完整度。
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct ArchiveZipReportDto(pub ZipReport);

#[derive(Debug, Deserialize, IntoParams)]
pub struct ArchiveUploadQuery {
    /// 材料类型代码：id_card, hmt_residence_permit, hk_macao_permit, taiwan_permit,
    /// foreign_pr_id, gd_residence_permit, education_certificate, skill_certificate,
    /// group:<重点对象类别>, sign_in_sheets, exam_materials, roster
    #[serde(default)]
    pub kind: String,
    /// 学员（花名册行的 id）；班级材料不填。
    pub entry: Option<i64>,
    /// 上传时的文件名（只用于显示）。
    pub name: Option<String>,
}

/// 班次培训档案矩阵与完整度 (R-ARC-2)。
#[utoipa::path(get, path = "/api/v1/classes/{id}/archive", tag = "archive",
    params(("id" = i64, Path)),
    responses((status = 200, body = ArchiveDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_archive(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ArchiveDto>> {
    Ok(Json(ArchiveDto(
        archive::get_archive(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 上传一份档案材料（本机构、培训完成后至归档前；PDF/JPG/PNG，按内容识别；同一项再次上传即替换）。
#[utoipa::path(post, path = "/api/v1/classes/{id}/archive/documents", tag = "archive",
    params(("id" = i64, Path), ArchiveUploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ArchiveDocumentDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn upload_document(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ArchiveUploadQuery>,
    body: Bytes,
) -> AppResult<Json<ArchiveDocumentDto>> {
    Ok(Json(ArchiveDocumentDto(
        archive::upload_document(
            &state.store,
            &state.files,
            &user.actor(&ctx),
            id,
            q.entry,
            &q.kind,
            &body,
            q.name.as_deref().unwrap_or("file"),
            state.clock.now(),
        )
        .await?,
    )))
}

/// 批量上传（一个 .zip）：按文件名识别学员（行号、姓名或证件号码后4位）与材料类型，
/// 能归入的全部保存，未能归入的逐个列出原因；不安全的压缩包（路径穿越、嵌套压缩包、文件过多或过大）整体拒收。
#[utoipa::path(post, path = "/api/v1/classes/{id}/archive/zip", tag = "archive",
    params(("id" = i64, Path)),
    request_body(content = Vec<u8>, content_type = "application/zip"),
    responses((status = 200, body = ArchiveZipReportDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn import_zip(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> AppResult<Json<ArchiveZipReportDto>> {
    Ok(Json(ArchiveZipReportDto(
        archive::import_zip(
            &state.store,
            &state.files,
            &user.actor(&ctx),
            id,
            body.to_vec(),
            state.clock.now(),
        )
        .await?,
    )))
}

/// 下载整个班次档案（.zip：每名学员一个文件夹，另附档案目录.xlsx，证件号码已脱敏）。
#[utoipa::path(get, path = "/api/v1/classes/{id}/archive/download", tag = "archive",
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/zip"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let dl = archive::build_archive_zip(
        &state.store,
        &state.files,
        &user.actor(&ctx),
        id,
        state.clock.now(),
    )
    .await?;
    Ok(zip_response(dl))
}

/// 归档（区培训中心；档案齐全即完整度100%且班次已完成）。
#[utoipa::path(post, path = "/api/v1/classes/{id}/archive/mark-archived", tag = "archive",
    params(("id" = i64, Path)),
    responses((status = 200, body = ArchiveDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn mark_archived(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ArchiveDto>> {
    Ok(Json(ArchiveDto(
        archive::mark_archived(&state.store, &user.actor(&ctx), id, state.clock.now()).await?,
    )))
}

/// 下载一份档案材料（附件方式，nosniff，沙箱 CSP；S6）。
#[utoipa::path(get, path = "/api/v1/archive-documents/{id}", tag = "archive",
    params(("id" = i64, Path)),
    responses((status = 200, description = "文件内容，类型为上传时识别的类型（S16）", content(
        (Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (Vec<u8> = "application/zip"), (Vec<u8> = "text/csv"),
        (Vec<u8> = "application/octet-stream"))),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn download_document(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let (rec, bytes) = archive::open_document(
        &state.store,
        &state.files,
        &user.actor(&ctx),
        id,
        state.clock.now(),
    )
    .await?;
    Ok(file_response(bytes, &rec))
}
