//! Running a class, monthly reports, inspections, overdue and sanctions, the work list — as JSON
//! (R-RUN-1..4, R-OVD-1/2). Which records an actor may see or change (S6) is decided in the
//! store; the route table decides the roles (S5).

use super::Registrar;
use super::forms::page_request;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, ApiQuery, AppResult, ErrorBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate};
use peixun_domain::rules::shanghai;
use peixun_store::attendance::{self, AttendanceInput, AttendanceMark, AttendanceView};
use peixun_store::inspections::{self, InspectionFilter, InspectionInput, InspectionView};
use peixun_store::overdue::{self, FlagDecision, FlagView, SanctionView, SweepOutcome};
use peixun_store::reports::{self, MonthlyReportInput, MonthlyReportView, ReportStatusList};
use peixun_store::running::{
    self, ClassDetail, ClassFilter, ClassView, TeacherChangeInput, TeacherChangeView,
};
use peixun_store::worklist::{self, WorkList};
use peixun_store::{Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/classes", list_classes)
        .get("/api/v1/classes/{id}", get_class)
        .post("/api/v1/classes/{id}/start", start_training)
        .post("/api/v1/classes/{id}/complete-training", complete_training)
        .post("/api/v1/classes/{id}/complete-exam", complete_exam)
        .post(
            "/api/v1/classes/{id}/teacher-changes",
            report_teacher_change,
        )
        .post("/api/v1/classes/{id}/attendance", record_attendance)
        .get("/api/v1/classes/{id}/attendance", list_attendance)
        .get("/api/v1/teacher-changes", list_teacher_changes)
        .post(
            "/api/v1/teacher-changes/{id}/acknowledge",
            acknowledge_teacher_change,
        )
        .get("/api/v1/reports", list_reports)
        .post("/api/v1/reports", submit_report)
        .get("/api/v1/reports/status", report_status)
        .get("/api/v1/reports/{id}", get_report)
        .get("/api/v1/inspections", list_inspections)
        .post("/api/v1/inspections", record_inspection)
        .get("/api/v1/inspections/{id}", get_inspection)
        .post("/api/v1/inspections/{id}/rectify", rectify)
        .post("/api/v1/inspections/{id}/close", close_inspection)
        .get("/api/v1/sanctions", list_sanctions)
        .get("/api/v1/sanctions/{id}", get_sanction)
        .post("/api/v1/sanctions/{id}/confirm", confirm_sanction)
        .post("/api/v1/sanctions/{id}/dismiss", dismiss_sanction)
        .post("/api/v1/class-flags/{id}/decide", decide_flag)
        .get("/api/v1/overdue", list_overdue)
        .post("/api/v1/overdue/sweep", sweep_now)
        .get("/api/v1/worklist", work_list)
}

// ---- JSON shapes ----------------------------------------------------------------------------

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

view_dto!(ClassPageDto, Page<ClassView>, "班次列表（分页）");
view_dto!(
    ClassDetailDto,
    ClassDetail,
    "班次：状态、最迟完成日期、可执行操作、师资调整、签到"
);
view_dto!(ClassDto, ClassView, "班次");
view_dto!(
    TeacherChangeDto,
    TeacherChangeView,
    "授课师资调整报备 (R-RUN-1)"
);
view_dto!(
    TeacherChangePageDto,
    Page<TeacherChangeView>,
    "授课师资调整报备列表"
);
view_dto!(
    AttendanceDto,
    AttendanceView,
    "一次课的签到 (R-RUN-2)：每位学员的出勤/缺勤（花名册行号、姓名、脱敏证件号）"
);
view_dto!(
    AttendanceListDto,
    Vec<AttendanceView>,
    "班次的签到记录，按上课日期 (R-RUN-2)"
);
view_dto!(ReportDto, MonthlyReportView, "月度开展情况反馈 (R-RUN-3)");
view_dto!(ReportPageDto, Page<MonthlyReportView>, "月度开展情况列表");
view_dto!(
    ReportStatusDto,
    ReportStatusList,
    "某月应提交机构及按时/逾期/未提交情况 (R-RUN-3)"
);
view_dto!(InspectionDto, InspectionView, "检查抽查 (R-RUN-4)");
view_dto!(InspectionPageDto, Page<InspectionView>, "检查抽查列表");
view_dto!(SanctionDto, SanctionView, "超期处理 (R-OVD-2)");
view_dto!(SanctionPageDto, Page<SanctionView>, "超期处理列表");
view_dto!(FlagDto, FlagView, "被取消资格机构的在训班次及决定");
view_dto!(SweepDto, SweepOutcome, "超期检查结果 (R-OVD-1)");
view_dto!(WorkListDto, WorkList, "待办事项");

#[derive(Debug, Deserialize, IntoParams)]
pub struct ClassQuery {
    /// approved, roster_review, in_training, overdue, training_complete, completed, archived
    pub status: Option<String>,
    pub institution_id: Option<i64>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CompletionDto {
    /// 完成日期 (YYYY-MM-DD)
    pub on: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TeacherChangeDtoIn {
    pub old_teacher_id: Option<i64>,
    pub new_teacher_id: i64,
    /// 新教师开始授课的日期
    pub effective_on: NaiveDate,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MarkDto {
    /// 花名册记录编号（本班次当前花名册上的学员）
    pub roster_entry_id: i64,
    /// 出勤 true，缺勤 false
    pub present: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AttendanceDtoIn {
    pub session_date: NaiveDate,
    #[schema(max_length = 100)]
    pub session_label: String,
    /// 花名册上每位学员一条；只上传签到表时为空
    #[serde(default)]
    pub marks: Vec<MarkDto>,
    /// 已上传的签到表文件编号（可选）
    pub sign_in_file_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReportDtoIn {
    pub year: i32,
    pub month: u32,
    pub classes_run: u32,
    pub trainees: u32,
    pub exams: u32,
    #[serde(default)]
    pub problems: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MonthQuery {
    /// Defaults to the current month (Asia/Shanghai).
    pub year: Option<i32>,
    pub month: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OpenQuery {
    /// Only open items.
    #[serde(default)]
    pub open: bool,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct YearQuery {
    pub year: Option<i32>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InspectionDtoIn {
    pub filing_id: i64,
    pub inspected_on: NaiveDate,
    /// on_site, remote, spot
    pub kind: String,
    #[schema(max_length = 2000)]
    pub findings: String,
    #[serde(default)]
    pub photos: Vec<String>,
    #[serde(default)]
    pub rectification_required: bool,
    pub rectification_due: Option<NaiveDate>,
    /// R-EVA-1: `general` (一般) / `serious` (严重) / `none`; omitted: `general` when
    /// rectification is required, else none.
    #[serde(default)]
    pub finding_severity: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NoteDto {
    #[schema(max_length = 2000)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonDtoIn {
    #[schema(max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FlagDecisionDto {
    /// continue / cancel
    pub decision: String,
    #[schema(max_length = 2000)]
    pub reason: String,
}

fn page_of(page: Option<u64>, per_page: Option<u64>) -> PageRequest {
    page_request(page, per_page)
}

fn bad(code: &'static str, message: &str, field: &str) -> crate::error::AppError {
    peixun_store::StoreError::Validation {
        code,
        message: message.to_string(),
        field: Some(field.to_string()),
    }
    .into()
}

// ---- classes --------------------------------------------------------------------------------

/// 班次列表（机构只见本机构，S6）。
#[utoipa::path(get, path = "/api/v1/classes", tag = "classes", params(ClassQuery),
    responses((status = 200, body = ClassPageDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_classes(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<ClassQuery>,
) -> AppResult<Json<ClassPageDto>> {
    let filter = ClassFilter {
        status: q.status.filter(|s| !s.is_empty()),
        institution_id: q.institution_id,
    };
    let p = running::list_classes(
        &state.store,
        &user.actor(&ctx),
        &filter,
        &page_of(q.page, q.per_page),
        state.clock.now(),
    )
    .await?;
    Ok(Json(ClassPageDto(p)))
}

#[utoipa::path(get, path = "/api/v1/classes/{id}", tag = "classes", params(("id" = i64, Path)),
    responses((status = 200, body = ClassDetailDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_class(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ClassDetailDto>> {
    let v = running::get_class(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(ClassDetailDto(v)))
}

/// 开始培训（已批复、开班日期当日或之后，R-FIL-5）。
#[utoipa::path(post, path = "/api/v1/classes/{id}/start", tag = "classes", params(("id" = i64, Path)),
    responses((status = 200, body = ClassDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn start_training(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ClassDto>> {
    let v = running::start_training(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(ClassDto(v)))
}

/// 培训完成（R-OVD-1：晚于最迟完成日期即为超期）。
#[utoipa::path(post, path = "/api/v1/classes/{id}/complete-training", tag = "classes",
    params(("id" = i64, Path)), request_body = CompletionDto,
    responses((status = 200, body = ClassDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn complete_training(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CompletionDto>,
) -> AppResult<Json<ClassDto>> {
    let v =
        running::complete_training(&state.store, &user.actor(&ctx), id, b.on, state.clock.now())
            .await?;
    Ok(Json(ClassDto(v)))
}

/// 考试完成：班次完成（按时或超期）。
#[utoipa::path(post, path = "/api/v1/classes/{id}/complete-exam", tag = "classes",
    params(("id" = i64, Path)), request_body = CompletionDto,
    responses((status = 200, body = ClassDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn complete_exam(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CompletionDto>,
) -> AppResult<Json<ClassDto>> {
    let v = running::complete_exam(&state.store, &user.actor(&ctx), id, b.on, state.clock.now())
        .await?;
    Ok(Json(ClassDto(v)))
}

/// 授课师资调整报备（R-RUN-1：至少提前1个工作日，资质与评审时一致；否则拒绝并说明理由）。
#[utoipa::path(post, path = "/api/v1/classes/{id}/teacher-changes", tag = "classes",
    params(("id" = i64, Path)), request_body = TeacherChangeDtoIn,
    responses((status = 201, body = TeacherChangeDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn report_teacher_change(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<TeacherChangeDtoIn>,
) -> AppResult<(StatusCode, Json<TeacherChangeDto>)> {
    let v = running::report_teacher_change(
        &state.store,
        &user.actor(&ctx),
        &TeacherChangeInput {
            filing_id: id,
            old_teacher_id: b.old_teacher_id,
            new_teacher_id: b.new_teacher_id,
            effective_on: b.effective_on,
            note: b.note,
        },
        &peixun_store::calendar::load(state.store.db()).await?,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(TeacherChangeDto(v))))
}

/// 登记一次课的签到 (R-RUN-2)：花名册上每位学员出勤或缺勤（缺一不可），和/或签到表文件；
/// 同一课次再次登记即替换。
#[utoipa::path(post, path = "/api/v1/classes/{id}/attendance", tag = "classes",
    params(("id" = i64, Path)), request_body = AttendanceDtoIn,
    responses((status = 200, body = AttendanceDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn record_attendance(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AttendanceDtoIn>,
) -> AppResult<Json<AttendanceDto>> {
    let v = attendance::record_attendance(
        &state.store,
        &user.actor(&ctx),
        &AttendanceInput {
            filing_id: id,
            session_date: b.session_date,
            session_label: b.session_label,
            marks: b
                .marks
                .into_iter()
                .map(|m| AttendanceMark {
                    roster_entry_id: m.roster_entry_id,
                    present: m.present,
                })
                .collect(),
            sign_in_file_id: b.sign_in_file_id,
        },
        state.clock.now(),
    )
    .await?;
    Ok(Json(AttendanceDto(v)))
}

/// 班次的签到记录 (R-RUN-2)，每条含学员的花名册行号、姓名和脱敏证件号。
#[utoipa::path(get, path = "/api/v1/classes/{id}/attendance", tag = "classes",
    params(("id" = i64, Path)),
    responses((status = 200, body = AttendanceListDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_attendance(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<AttendanceListDto>> {
    let v = attendance::list_attendance(&state.store, &user.actor(&ctx), id).await?;
    Ok(Json(AttendanceListDto(v)))
}

#[utoipa::path(get, path = "/api/v1/teacher-changes", tag = "classes", params(OpenQuery),
    responses((status = 200, body = TeacherChangePageDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_teacher_changes(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<OpenQuery>,
) -> AppResult<Json<TeacherChangePageDto>> {
    let p = running::list_teacher_changes(
        &state.store,
        &user.actor(&ctx),
        q.open,
        &page_of(q.page, q.per_page),
    )
    .await?;
    Ok(Json(TeacherChangePageDto(p)))
}

/// 区培训中心查阅师资调整报备。
#[utoipa::path(post, path = "/api/v1/teacher-changes/{id}/acknowledge", tag = "classes",
    params(("id" = i64, Path)),
    responses((status = 200, body = TeacherChangeDto), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn acknowledge_teacher_change(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<TeacherChangeDto>> {
    let v =
        running::acknowledge_teacher_change(&state.store, &user.actor(&ctx), id, state.clock.now())
            .await?;
    Ok(Json(TeacherChangeDto(v)))
}

// ---- monthly reports ------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(OpenQuery),
    responses((status = 200, body = ReportPageDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_reports(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<OpenQuery>,
) -> AppResult<Json<ReportPageDto>> {
    let p = reports::list_reports(
        &state.store,
        &user.actor(&ctx),
        &page_of(q.page, q.per_page),
    )
    .await?;
    Ok(Json(ReportPageDto(p)))
}

/// 提交月度开展情况（每月25日24时前，R-RUN-3）。
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports", request_body = ReportDtoIn,
    responses((status = 201, body = ReportDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn submit_report(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(b): ApiJson<ReportDtoIn>,
) -> AppResult<(StatusCode, Json<ReportDto>)> {
    let v = reports::submit_report(
        &state.store,
        &user.actor(&ctx),
        &MonthlyReportInput {
            year: b.year,
            month: b.month,
            classes_run: b.classes_run,
            trainees: b.trainees,
            exams: b.exams,
            problems: b.problems,
        },
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ReportDto(v))))
}

/// 某月按时、逾期、未提交的机构 (R-RUN-3)。
#[utoipa::path(get, path = "/api/v1/reports/status", tag = "reports", params(MonthQuery),
    responses((status = 200, body = ReportStatusDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn report_status(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> AppResult<Json<ReportStatusDto>> {
    let today = state.clock.now().with_timezone(&shanghai()).date_naive();
    let (y, m) = (
        q.year.unwrap_or(today.year()),
        q.month.unwrap_or(today.month()),
    );
    let v = reports::report_statuses(&state.store, &user.actor(&ctx), y, m, today).await?;
    Ok(Json(ReportStatusDto(v)))
}

#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, body = ReportDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_report(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<ReportDto>> {
    let v = reports::get_report(&state.store, &user.actor(&ctx), id).await?;
    Ok(Json(ReportDto(v)))
}

// ---- inspections ----------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/inspections", tag = "inspections", params(OpenQuery),
    responses((status = 200, body = InspectionPageDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_inspections(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<OpenQuery>,
) -> AppResult<Json<InspectionPageDto>> {
    let p = inspections::list_inspections(
        &state.store,
        &user.actor(&ctx),
        &InspectionFilter {
            open_only: q.open,
            filing_id: None,
        },
        &page_of(q.page, q.per_page),
    )
    .await?;
    Ok(Json(InspectionPageDto(p)))
}

/// 登记检查抽查（区培训中心，R-RUN-4）。
#[utoipa::path(post, path = "/api/v1/inspections", tag = "inspections", request_body = InspectionDtoIn,
    responses((status = 201, body = InspectionDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn record_inspection(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiJson(b): ApiJson<InspectionDtoIn>,
) -> AppResult<(StatusCode, Json<InspectionDto>)> {
    let kind = inspections::InspectionKind::parse(&b.kind)
        .ok_or_else(|| bad("INS_KIND", "检查方式须为 on_site、remote 或 spot", "kind"))?;
    let severity = match b.finding_severity.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("none") => None,
        Some(s) => Some(inspections::FindingSeverity::parse(s).ok_or_else(|| {
            bad(
                "INS_SEVERITY",
                "问题性质须为 general（一般）、serious（严重）或 none",
                "finding_severity",
            )
        })?),
    };
    let v = inspections::record_inspection(
        &state.store,
        &user.actor(&ctx),
        &InspectionInput {
            severity,
            filing_id: b.filing_id,
            inspected_on: b.inspected_on,
            kind,
            findings: b.findings,
            photos: b.photos,
            rectification_required: b.rectification_required,
            rectification_due: b.rectification_due,
        },
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(InspectionDto(v))))
}

#[utoipa::path(get, path = "/api/v1/inspections/{id}", tag = "inspections", params(("id" = i64, Path)),
    responses((status = 200, body = InspectionDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_inspection(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<InspectionDto>> {
    let v = inspections::get_inspection(&state.store, &user.actor(&ctx), id).await?;
    Ok(Json(InspectionDto(v)))
}

/// 机构报告整改情况。
#[utoipa::path(post, path = "/api/v1/inspections/{id}/rectify", tag = "inspections",
    params(("id" = i64, Path)), request_body = NoteDto,
    responses((status = 200, body = InspectionDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rectify(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NoteDto>,
) -> AppResult<Json<InspectionDto>> {
    let v = inspections::report_rectification(
        &state.store,
        &user.actor(&ctx),
        id,
        &b.note,
        state.clock.now(),
    )
    .await?;
    Ok(Json(InspectionDto(v)))
}

/// 区培训中心复核闭环。
#[utoipa::path(post, path = "/api/v1/inspections/{id}/close", tag = "inspections",
    params(("id" = i64, Path)), request_body = NoteDto,
    responses((status = 200, body = InspectionDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn close_inspection(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NoteDto>,
) -> AppResult<Json<InspectionDto>> {
    let v = inspections::close_inspection(
        &state.store,
        &user.actor(&ctx),
        id,
        &b.note,
        state.clock.now(),
    )
    .await?;
    Ok(Json(InspectionDto(v)))
}

// ---- overdue and sanctions ------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/sanctions", tag = "overdue", params(OpenQuery),
    responses((status = 200, body = SanctionPageDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_sanctions(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<OpenQuery>,
) -> AppResult<Json<SanctionPageDto>> {
    let p = overdue::list_sanctions(
        &state.store,
        &user.actor(&ctx),
        q.open,
        &page_of(q.page, q.per_page),
    )
    .await?;
    Ok(Json(SanctionPageDto(p)))
}

#[utoipa::path(get, path = "/api/v1/sanctions/{id}", tag = "overdue", params(("id" = i64, Path)),
    responses((status = 200, body = SanctionDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_sanction(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<SanctionDto>> {
    let v = overdue::get_sanction(&state.store, &user.actor(&ctx), id).await?;
    Ok(Json(SanctionDto(v)))
}

/// 确认超期处理并执行：中止当年协议、取消待审备案及未开班班次（释放名额）、标记在训班次 (R-OVD-2)。
#[utoipa::path(post, path = "/api/v1/sanctions/{id}/confirm", tag = "overdue",
    params(("id" = i64, Path)),
    responses((status = 200, body = SanctionDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm_sanction(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<SanctionDto>> {
    let v =
        overdue::confirm_sanction(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Json(SanctionDto(v)))
}

/// 不予处理（须填写理由）。
#[utoipa::path(post, path = "/api/v1/sanctions/{id}/dismiss", tag = "overdue",
    params(("id" = i64, Path)), request_body = ReasonDtoIn,
    responses((status = 200, body = SanctionDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn dismiss_sanction(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ReasonDtoIn>,
) -> AppResult<Json<SanctionDto>> {
    let v = overdue::dismiss_sanction(
        &state.store,
        &user.actor(&ctx),
        id,
        &b.reason,
        state.clock.now(),
    )
    .await?;
    Ok(Json(SanctionDto(v)))
}

/// 对被取消资格机构的在训班次逐一决定：continue（允许完成）或 cancel（取消）。
#[utoipa::path(post, path = "/api/v1/class-flags/{id}/decide", tag = "overdue",
    params(("id" = i64, Path)), request_body = FlagDecisionDto,
    responses((status = 200, body = FlagDto), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn decide_flag(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<FlagDecisionDto>,
) -> AppResult<Json<FlagDto>> {
    let d = match b.decision.as_str() {
        "continue" => FlagDecision::Continue,
        "cancel" => FlagDecision::Cancel,
        _ => {
            return Err(bad(
                "OVD_DECISION",
                "决定须为 continue 或 cancel",
                "decision",
            ));
        }
    };
    let v = overdue::decide_flag(
        &state.store,
        &user.actor(&ctx),
        id,
        d,
        &b.reason,
        state.clock.now(),
    )
    .await?;
    Ok(Json(FlagDto(v)))
}

/// 超期班次（按最迟完成日期所在年度统计）。
#[utoipa::path(get, path = "/api/v1/overdue", tag = "overdue", params(YearQuery),
    responses((status = 200, body = ClassPageDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_overdue(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> AppResult<Json<ClassPageDto>> {
    let p = overdue::list_overdue(
        &state.store,
        &user.actor(&ctx),
        q.year,
        &page_of(q.page, q.per_page),
        state.clock.now(),
    )
    .await?;
    Ok(Json(ClassPageDto(p)))
}

/// 立即执行超期检查（区培训中心负责人，记入审计日志）。
#[utoipa::path(post, path = "/api/v1/overdue/sweep", tag = "overdue",
    responses((status = 200, body = SweepDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn sweep_now(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Json<SweepDto>> {
    let now = state.clock.now();
    let today = now.with_timezone(&shanghai()).date_naive();
    let v = overdue::run_sweep_now(&state.store, &user.actor(&ctx), today, now).await?;
    Ok(Json(SweepDto(v)))
}

/// 当前用户的待办事项及期限。
#[utoipa::path(get, path = "/api/v1/worklist", tag = "worklist",
    responses((status = 200, body = WorkListDto)),
    security(("bearer" = [])))]
pub async fn work_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Json<WorkListDto>> {
    let v = worklist::work_list(&state.store, &user.actor(&ctx), state.clock.now()).await?;
    Ok(Json(WorkListDto(v)))
}
