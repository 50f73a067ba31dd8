//! The filing package, roster import, review queue and address / online-training requests as
//! JSON (R-FIL-1…5, R-FIL-7, R-FIL-8, R-VAL-1, R-RUN-2). Handlers parse, call the store service
//! (one transaction, audited there) and return its view. Uploads are the raw request body
//! (`?name=` carries the file name); their type is sniffed from the content (S16). Refusals that
//! list several problems answer 422 with `problems` (every one, each naming its field or row).

use super::Registrar;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppError, AppResult, ErrorBody};
use axum::Json;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::handler::Handler;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use peixun_domain::workflow::class::CorrectionItem;
use peixun_domain::workflow::request::RequestAction;
use peixun_store::files::{FileRecord, content_disposition};
use peixun_store::filing_package::{self, PackageInput, SubmitOutcome};
use peixun_store::requests::{self, EvidenceUpload, RequestFilter, RequestInput};
use peixun_store::roster::{self, ImportOutcome};
use peixun_store::{PageRequest, review};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Largest upload accepted by the upload routes (the store applies each kind's own limit).
pub const UPLOAD_LIMIT: usize = 24 * 1024 * 1024;

/// A POST route that accepts an upload up to [`UPLOAD_LIMIT`] (the app-wide limit is 1 MiB).
pub(crate) fn upload<H, T>(h: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    post(h).layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
}

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/packages", list_packages)
        .post("/api/v1/packages", create_package)
        .get("/api/v1/packages/{id}", get_package)
        .put("/api/v1/packages/{id}", update_package)
        .get("/api/v1/packages/{id}/problems", package_problems)
        .post("/api/v1/packages/{id}/submit", submit_package)
        .add(
            "POST",
            "/api/v1/packages/{id}/files/{kind}",
            upload(upload_file),
        )
        .get("/api/v1/packages/{id}/files/{kind}", download_file)
        .add(
            "POST",
            "/api/v1/packages/{id}/roster",
            upload(import_roster),
        )
        .get("/api/v1/packages/{id}/roster", list_roster)
        .get("/api/v1/roster-template.xlsx", roster_template_xlsx)
        .get("/api/v1/roster-template.csv", roster_template_csv)
        .get("/api/v1/review", review_queue)
        .post("/api/v1/filings/{id}/roster-change/approve", approve_roster)
        .post("/api/v1/filings/{id}/roster-change/reject", reject_roster)
        .get("/api/v1/requests", list_requests)
        .post("/api/v1/requests", submit_request)
        .get("/api/v1/requests/{id}", get_request)
        .add(
            "POST",
            "/api/v1/requests/{id}/evidence/{kind}",
            upload(upload_evidence),
        )
        .post("/api/v1/requests/{id}/notes", request_notes)
        .get("/api/v1/requests/{id}/evidence/{kind}", download_evidence)
        .post("/api/v1/requests/{id}/approve", approve_request)
        .post("/api/v1/requests/{id}/refuse", refuse_request)
}

// ---- JSON shapes ----------------------------------------------------------------------------

macro_rules! dto {
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

dto!(
    PackageDto,
    filing_package::PackageView,
    "开班备案材料：基本信息、课程表、六项材料及题库、花名册人数、退回修改意见"
);
dto!(
    PackageListDto,
    Vec<filing_package::PackageSummary>,
    "开班备案材料列表"
);
dto!(
    ProblemListDto,
    Vec<peixun_domain::filing::FilingProblem>,
    "备案材料的全部问题（code, field, message, severity）"
);
dto!(
    TraineeListDto,
    Vec<roster::TraineeView>,
    "花名册（证件号码已脱敏）"
);
dto!(
    ImportDto,
    peixun_store::roster::ImportReport,
    "花名册导入结果：人数、提示、与其他班次时间重叠的学员"
);
dto!(
    ReviewPageDto,
    peixun_store::Page<review::ReviewItem>,
    "待审核的开班备案与名册变更（按提交先后）"
);
dto!(
    FilingDto,
    peixun_store::filings::FilingView,
    "开班备案（排队与审核状态）"
);
dto!(
    RequestDto,
    requests::RequestView,
    "培训地址申请或线上培训申请"
);
dto!(
    RequestPageDto,
    peixun_store::Page<requests::RequestView>,
    "申请列表"
);

/// The package's fields (a draft may be incomplete).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct PackageInputDto(pub PackageInput);

/// An address (`{"kind":"address","address":…,"reason":…}`) or online-training request
/// (`{"kind":"online_training","reason":{"kind":"epidemic_control"},"platform_name":…,
/// "packages":[12]}`): `packages` names the filing packages (classes) the request covers, and
/// an approval applies to those only (R-FIL-8).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct RequestInputDto(pub RequestInput);

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPackageDto {
    /// The institution's own agreement.
    pub agreement_id: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonBody {
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NotesBody {
    /// Evidence item → note (`real_name_login`, `learning_records`, `exams`,
    /// `city_supervision_link`).
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
    pub platform_name: Option<String>,
    pub platform_url: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file's name as uploaded (shown, never used on disk).
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RosterQuery {
    /// `true`: the roster change awaiting the centre.
    pub pending: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RequestQuery {
    /// `address` / `online_training`
    pub kind: Option<String>,
    /// `submitted` / `approved` / `refused`
    pub state: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// A refusal with every problem (R-VAL-1): the package's problems, or the roster's bad rows
/// (`row_number`, `column`, `code`, `message`). Other bad input (e.g. a package without a start
/// date) is answered with the ordinary error body: `code`, `message`, `field`, `errors`, and no
/// `problems`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemsBody {
    pub code: String,
    pub message: String,
    /// Present when the refusal lists the package's problems or the roster's rows.
    #[schema(value_type = Vec<Object>, required = false)]
    pub problems: serde_json::Value,
}

fn problems_response(code: &str, message: String, problems: serde_json::Value) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(ProblemsBody {
            code: code.into(),
            message,
            problems,
        }),
    )
        .into_response()
}

/// A stored upload as a download (S16): attachment, the sniffed type, `nosniff`, a sandboxing
/// CSP, never cached.
pub fn file_response(bytes: Vec<u8>, rec: &FileRecord) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&rec.mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&rec.original_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; frame-ancestors 'none'"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(crate) fn page_req(page: Option<u64>, per_page: Option<u64>) -> PageRequest {
    super::forms::page_request(page, per_page)
}

/// The file id in slot `kind` of a package view.
fn slot_file(v: &filing_package::PackageView, kind: &str) -> Option<String> {
    v.documents
        .iter()
        .find(|d| d.kind == kind)
        .and_then(|d| d.file.as_ref().map(|f| f.id.clone()))
}

// ---- packages ---------------------------------------------------------------------------------

/// 本机构（或区培训中心等可查看的）开班备案材料。
#[utoipa::path(get, path = "/api/v1/packages", tag = "packages",
    responses((status = 200, body = PackageListDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_packages(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Json<PackageListDto>> {
    Ok(Json(PackageListDto(
        filing_package::list_packages(&state.store, &user.actor(&ctx)).await?,
    )))
}

/// 新建开班备案材料（草稿），须为本机构的委托培训协议。
#[utoipa::path(post, path = "/api/v1/packages", tag = "packages",
    request_body = NewPackageDto,
    responses((status = 201, body = PackageDto), (status = 403, body = ErrorBody), (status = 404, description = "协议不存在或不属于本机构", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_package(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<NewPackageDto>,
) -> AppResult<(StatusCode, Json<PackageDto>)> {
    let v = filing_package::create_package(
        &state.store,
        &user.actor(&ctx),
        body.agreement_id,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(PackageDto(v))))
}

#[utoipa::path(get, path = "/api/v1/packages/{id}", tag = "packages",
    params(("id" = i64, Path)),
    responses((status = 200, body = PackageDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_package(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<PackageDto>> {
    Ok(Json(PackageDto(
        filing_package::get_package(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 保存备案材料（草稿可不完整；已提交的只有退回修改后才能修改）。
#[utoipa::path(put, path = "/api/v1/packages/{id}", tag = "packages",
    params(("id" = i64, Path)),
    request_body = PackageInputDto,
    responses((status = 200, body = PackageDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_package(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PackageInputDto>,
) -> AppResult<Json<PackageDto>> {
    let v = filing_package::update_package(
        &state.store,
        &user.actor(&ctx),
        id,
        &body.0,
        state.clock.now(),
    )
    .await?;
    Ok(Json(PackageDto(v)))
}

/// 按今天提交时的全部问题（不改变任何数据）。
#[utoipa::path(get, path = "/api/v1/packages/{id}/problems", tag = "packages",
    params(("id" = i64, Path)),
    responses((status = 200, body = ProblemListDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn package_problems(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ProblemListDto>> {
    Ok(Json(ProblemListDto(
        filing_package::check_package(&state.store, &user.actor(&ctx), id, state.clock.now())
            .await?,
    )))
}

/// 提交（或退回后重新提交）：一次列出全部问题；无阻断问题时进入名额队列 (R-FIL-1…6)。
#[utoipa::path(post, path = "/api/v1/packages/{id}/submit", tag = "packages",
    params(("id" = i64, Path)),
    responses((status = 200, body = PackageDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ProblemsBody)),
    security(("bearer" = [])))]
pub async fn submit_package(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    match filing_package::submit_package(&state.store, &user.actor(&ctx), id, state.clock.now())
        .await?
    {
        SubmitOutcome::Submitted { package, .. } => Ok(Json(PackageDto(*package)).into_response()),
        SubmitOutcome::Refused { problems } => Ok(problems_response(
            "FIL_PACKAGE_PROBLEMS",
            format!(
                "备案材料有{}个问题，未提交",
                problems.iter().filter(|p| p.is_blocking()).count()
            ),
            serde_json::to_value(&problems).unwrap_or_default(),
        )),
    }
}

/// 上传六项材料之一或考试题库（`kind`：brochure, training_plan, syllabus, textbook,
/// roster_document, subsidy_standard, question_bank）。类型按内容识别 (S16)。
#[utoipa::path(post, path = "/api/v1/packages/{id}/files/{kind}", tag = "packages",
    params(("id" = i64, Path), ("kind" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = PackageDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn upload_file(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Bytes,
) -> AppResult<Json<PackageDto>> {
    let v = filing_package::attach_file(
        &state.store,
        &state.files,
        &user.actor(&ctx),
        id,
        &kind,
        &body,
        q.name.as_deref().unwrap_or("file"),
        state.clock.now(),
    )
    .await?;
    Ok(Json(PackageDto(v)))
}

/// 下载材料（附件方式，nosniff，沙箱 CSP；S6：只有可查看该备案的用户）。
#[utoipa::path(get, path = "/api/v1/packages/{id}/files/{kind}", tag = "packages",
    params(("id" = i64, Path), ("kind" = String, Path)),
    responses((status = 200, description = "文件内容，类型为上传时识别的类型（S16）", content(
        (Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (Vec<u8> = "application/zip"), (Vec<u8> = "text/csv"),
        (Vec<u8> = "application/octet-stream"))),
    (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn download_file(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
) -> AppResult<Response> {
    package_download(&state, &user, &ctx, id, &kind).await
}

pub(crate) async fn package_download(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    kind: &str,
) -> AppResult<Response> {
    let actor = user.actor(ctx);
    let v = filing_package::get_package(&state.store, &actor, id)
        .await
        .map_err(|e| match e {
            peixun_store::StoreError::Forbidden { .. } => AppError::NotFound("文件".into()),
            other => other.into(),
        })?;
    let fid = slot_file(&v, kind).ok_or_else(|| AppError::NotFound("文件".into()))?;
    let rec = filing_package::package_file(&state.store, &actor, id, &fid).await?;
    let bytes = state.files.open(&rec.id).await?;
    filing_package::record_download(&state.store, &actor, &rec, state.clock.now()).await?;
    Ok(file_response(bytes, &rec))
}

/// 导入花名册（.xlsx 或 .csv，请求体为文件内容）：逐行检查，全部无误才导入并整体替换；
/// 有误时 422 列出每一行的行号、列和原因，不导入任何数据 (R-FIL-2, R-VAL-1, S22)。
/// 批复后导入为名册变更，交区培训中心审核 (R-RUN-2)。
#[utoipa::path(post, path = "/api/v1/packages/{id}/roster", tag = "packages",
    params(("id" = i64, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportDto), (status = 403, body = ErrorBody), (status = 422, body = ProblemsBody)),
    security(("bearer" = [])))]
pub async fn import_roster(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> AppResult<Response> {
    match roster::import_roster(
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
        ImportOutcome::Imported(r) => Ok(Json(ImportDto(r)).into_response()),
        ImportOutcome::Refused { problems } => Ok(problems_response(
            "ROSTER_INVALID",
            format!("花名册有{}处问题，未导入任何数据", problems.len()),
            serde_json::to_value(&problems).unwrap_or_default(),
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/packages/{id}/roster", tag = "packages",
    params(("id" = i64, Path), RosterQuery),
    responses((status = 200, body = TraineeListDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_roster(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<RosterQuery>,
) -> AppResult<Json<TraineeListDto>> {
    Ok(Json(TraineeListDto(
        roster::list_roster(
            &state.store,
            &user.actor(&ctx),
            id,
            q.pending.unwrap_or(false),
        )
        .await?,
    )))
}

/// 花名册模板（中文表头，证件类型、户籍下拉）。
#[utoipa::path(get, path = "/api/v1/roster-template.xlsx", tag = "packages",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    security(("bearer" = [])))]
pub async fn roster_template_xlsx() -> AppResult<Response> {
    let bytes = roster::template_xlsx(&[])
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))?;
    Ok(crate::export::xlsx_response(
        bytes,
        "roster-template.xlsx",
        "花名册模板.xlsx",
    ))
}

#[utoipa::path(get, path = "/api/v1/roster-template.csv", tag = "packages",
    responses((status = 200, content_type = "text/csv")),
    security(("bearer" = [])))]
pub async fn roster_template_csv() -> Response {
    let mut resp = roster::template_csv().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static(
            "attachment; filename=\"roster-template.csv\"; filename*=UTF-8''%E8%8A%B1%E5%90%8D%E5%86%8C%E6%A8%A1%E6%9D%BF.csv",
        ),
    );
    resp
}

// ---- review -------------------------------------------------------------------------------------

/// 区培训中心审核队列：已提交、重新提交的备案与名册变更，按提交先后，附材料检查结果 (R-FIL-5)。
#[utoipa::path(get, path = "/api/v1/review", tag = "review",
    params(PageQuery),
    responses((status = 200, body = ReviewPageDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn review_queue(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<ReviewPageDto>> {
    Ok(Json(ReviewPageDto(
        review::review_queue(
            &state.store,
            &user.actor(&ctx),
            &page_req(q.page, q.per_page),
        )
        .await?,
    )))
}

/// 同意名册变更（变更后的名册生效，R-RUN-2）。
#[utoipa::path(post, path = "/api/v1/filings/{id}/roster-change/approve", tag = "review",
    params(("id" = i64, Path)),
    responses((status = 200, body = FilingDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve_roster(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<FilingDto>> {
    let v = review::decide_roster_change(
        &state.store,
        &user.actor(&ctx),
        id,
        true,
        "",
        state.clock.now(),
    )
    .await?;
    Ok(Json(FilingDto(v)))
}

/// 不同意名册变更（须填写理由；原名册不变）。
#[utoipa::path(post, path = "/api/v1/filings/{id}/roster-change/reject", tag = "review",
    params(("id" = i64, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = FilingDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject_roster(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> AppResult<Json<FilingDto>> {
    let v = review::decide_roster_change(
        &state.store,
        &user.actor(&ctx),
        id,
        false,
        &body.reason,
        state.clock.now(),
    )
    .await?;
    Ok(Json(FilingDto(v)))
}

// ---- requests -----------------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/requests", tag = "requests",
    params(RequestQuery),
    responses((status = 200, body = RequestPageDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_requests(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<RequestQuery>,
) -> AppResult<Json<RequestPageDto>> {
    Ok(Json(RequestPageDto(
        requests::list_requests(
            &state.store,
            &user.actor(&ctx),
            &RequestFilter {
                kind: q.kind,
                state: q.state,
            },
            &page_req(q.page, q.per_page),
        )
        .await?,
    )))
}

/// 提交培训地址申请 (R-FIL-7) 或线上培训申请 (R-FIL-8)；证明材料另行上传。
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests",
    request_body = RequestInputDto,
    responses((status = 201, body = RequestDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn submit_request(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<RequestInputDto>,
) -> AppResult<(StatusCode, Json<RequestDto>)> {
    let v = requests::submit_request(
        &state.store,
        &state.files,
        &user.actor(&ctx),
        &body.0,
        &[],
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(RequestDto(v))))
}

#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests",
    params(("id" = i64, Path)),
    responses((status = 200, body = RequestDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_request(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<RequestDto>> {
    Ok(Json(RequestDto(
        requests::get_request(&state.store, &user.actor(&ctx), id).await?,
    )))
}

/// 上传证明材料（`kind`：address_evidence, commission_letter, real_name_login,
/// learning_records, exams, city_supervision_link）。
#[utoipa::path(post, path = "/api/v1/requests/{id}/evidence/{kind}", tag = "requests",
    params(("id" = i64, Path), ("kind" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = RequestDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn upload_evidence(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Bytes,
) -> AppResult<Json<RequestDto>> {
    // S6 first: another institution's request is refused before the body is looked at.
    requests::get_request(&state.store, &user.actor(&ctx), id).await?;
    let upload = EvidenceUpload {
        slot: kind,
        bytes: body.to_vec(),
        name: q.name.unwrap_or_else(|| "file".into()),
    };
    if upload.bytes.is_empty() {
        return Err(AppError::validation(
            "FILE_EMPTY",
            "文件为空，请重新选择",
            Some("file"),
        ));
    }
    let v = requests::add_evidence(
        &state.store,
        &state.files,
        &user.actor(&ctx),
        id,
        &BTreeMap::new(),
        None,
        &[upload],
        state.clock.now(),
    )
    .await?;
    Ok(Json(RequestDto(v)))
}

/// 补充说明（以说明代替上传）及平台名称、网址。
#[utoipa::path(post, path = "/api/v1/requests/{id}/notes", tag = "requests",
    params(("id" = i64, Path)),
    request_body = NotesBody,
    responses((status = 200, body = RequestDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn request_notes(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NotesBody>,
) -> AppResult<Json<RequestDto>> {
    let platform = match (&body.platform_name, &body.platform_url) {
        (None, None) => None,
        (n, u) => Some((
            n.as_deref().unwrap_or_default(),
            u.as_deref().unwrap_or_default(),
        )),
    };
    let v = requests::add_evidence(
        &state.store,
        &state.files,
        &user.actor(&ctx),
        id,
        &body.notes,
        platform,
        &[],
        state.clock.now(),
    )
    .await?;
    Ok(Json(RequestDto(v)))
}

#[utoipa::path(get, path = "/api/v1/requests/{id}/evidence/{kind}", tag = "requests",
    params(("id" = i64, Path), ("kind" = String, Path)),
    responses((status = 200, description = "文件内容，类型为上传时识别的类型（S16）", content(
        (Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (Vec<u8> = "application/zip"), (Vec<u8> = "text/csv"),
        (Vec<u8> = "application/octet-stream"))),
    (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn download_evidence(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
) -> AppResult<Response> {
    request_download(&state, &user, &ctx, id, &kind).await
}

pub(crate) async fn request_download(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    kind: &str,
) -> AppResult<Response> {
    let actor = user.actor(ctx);
    let v = requests::get_request(&state.store, &actor, id)
        .await
        .map_err(|e| match e {
            peixun_store::StoreError::Forbidden { .. } => AppError::NotFound("文件".into()),
            other => other.into(),
        })?;
    let fid = v
        .evidence
        .iter()
        .find(|e| e.slot == kind)
        .and_then(|e| e.file_id.clone())
        .ok_or_else(|| AppError::NotFound("文件".into()))?;
    let rec = requests::request_file(&state.store, &actor, id, &fid).await?;
    let bytes = state.files.open(&rec.id).await?;
    filing_package::record_download(&state.store, &actor, &rec, state.clock.now()).await?;
    Ok(file_response(bytes, &rec))
}

/// 同意（线上培训申请须材料齐全；提交人不能审批，S7）。
#[utoipa::path(post, path = "/api/v1/requests/{id}/approve", tag = "requests",
    params(("id" = i64, Path)),
    responses((status = 200, body = RequestDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve_request(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<RequestDto>> {
    let v = requests::decide_request(
        &state.store,
        &user.actor(&ctx),
        id,
        &RequestAction::Approve,
        state.clock.now(),
    )
    .await?;
    Ok(Json(RequestDto(v)))
}

/// 不同意（须填写理由）。
#[utoipa::path(post, path = "/api/v1/requests/{id}/refuse", tag = "requests",
    params(("id" = i64, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = RequestDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn refuse_request(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> AppResult<Json<RequestDto>> {
    let v = requests::decide_request(
        &state.store,
        &user.actor(&ctx),
        id,
        &RequestAction::Refuse {
            reason: body.reason,
        },
        state.clock.now(),
    )
    .await?;
    Ok(Json(RequestDto(v)))
}

/// Correction items from the API body of `POST /api/v1/filings/{id}/return` (kept in the
/// issue-4 handler); re-exported for pages that build them from repeated rows.
pub fn correction_items(fields: &[String], messages: &[String]) -> Vec<CorrectionItem> {
    fields
        .iter()
        .zip(messages)
        .map(|(f, m)| CorrectionItem {
            field: f.trim().to_string(),
            message: m.trim().to_string(),
        })
        .filter(|i| !(i.field.is_empty() && i.message.is_empty()))
        .collect()
}
