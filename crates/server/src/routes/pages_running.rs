//! Pages: running a class — start, teacher changes (R-RUN-1), attendance (R-RUN-2), completion
//! (R-OVD-1) — monthly reports (R-RUN-3), inspections and the progress bulletin (R-RUN-4),
//! overdue classes and sanctions (R-OVD-2). No JavaScript: every action is a form; an error
//! shows the page again with the summary at the top, the message beside the field, values kept.

use super::Registrar;
use super::forms::page_request;
use super::pages_filing_package::{MultipartResult, read_multipart};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::export;
use crate::pages::{
    CsrfForm, FormData, Saved, form_errors, is_form_error, no_errors, pager, render,
};
use axum::extract::{FromRequest, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::role::Role;
use peixun_domain::rules::shanghai;
use peixun_store::inspections::{self, InspectionFilter, InspectionInput, InspectionKind};
use peixun_store::overdue::{self, FlagDecision};
use peixun_store::reports::{self, MonthlyReportInput};
use peixun_store::running::{
    self, AttendanceInput, AttendanceMark, ClassFilter, ClassView, TeacherChangeInput,
};
use peixun_store::{PageRequest, teachers};
use serde::Deserialize;
use serde_json::json;

pub fn register(r: Registrar) -> Registrar {
    r.get("/classes", classes_list)
        .get("/classes/{id}", class_detail)
        .post("/classes/{id}/start", class_start)
        .post("/classes/{id}/complete-training", class_complete_training)
        .post("/classes/{id}/complete-exam", class_complete_exam)
        .post("/classes/{id}/teacher-change", class_teacher_change)
        .add(
            "POST",
            "/classes/{id}/attendance",
            super::api_filing_package::upload(class_attendance),
        )
        .post("/classes/{id}/inspections", class_inspect)
        .get("/teacher-changes", teacher_changes_list)
        .post("/teacher-changes/{id}/acknowledge", teacher_change_ack)
        .get("/reports", reports_page)
        .post("/reports", report_submit)
        .get("/reports/export.xlsx", reports_export)
        .get("/inspections", inspections_list)
        .get("/inspections/export.xlsx", inspections_export)
        .get("/inspections/{id}", inspection_detail)
        .post("/inspections/{id}/rectify", inspection_rectify)
        .post("/inspections/{id}/close", inspection_close)
        .add(
            "POST",
            "/inspections/{id}/photos",
            super::api_filing_package::upload(inspection_photo_upload),
        )
        .get(
            "/inspections/{id}/photos/{file_id}",
            inspection_photo_download,
        )
        .get("/progress", progress_page)
        .get("/sanctions", sanctions_page)
        .post("/sanctions/{id}/confirm", sanction_confirm)
        .post("/sanctions/{id}/dismiss", sanction_dismiss)
        .post("/class-flags/{id}/decide", flag_decide)
        .get("/overdue", overdue_page)
        .get("/overdue/export.xlsx", overdue_export)
        .post("/overdue/sweep", overdue_sweep)
}

// ---- helpers --------------------------------------------------------------------------------

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn today(state: &AppState) -> NaiveDate {
    state.clock.now().with_timezone(&shanghai()).date_naive()
}

fn jv<T: serde::Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

fn form_value(f: &FormData, fields: &[&str]) -> Value {
    let map: std::collections::BTreeMap<String, String> = fields
        .iter()
        .map(|k| (k.to_string(), f.get(k).to_string()))
        .collect();
    Value::from(map)
}

fn parse_date(s: &str, field: &str, label: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| AppError::Validation {
        code: "DATE_INVALID".into(),
        message: format!("请填写{label}，格式如 2026-04-01"),
        field: Some(field.into()),
    })
}

fn parse_u32(s: &str, field: &str, label: &str) -> Result<u32, AppError> {
    s.trim().parse::<u32>().map_err(|_| AppError::Validation {
        code: "NUMBER_INVALID".into(),
        message: format!("{label}须为0或正整数"),
        field: Some(field.into()),
    })
}

fn class_value(c: &ClassView) -> serde_json::Value {
    json!({
        "id": c.id,
        "institution_id": c.institution_id,
        "institution_name": c.institution_name,
        "occupation": c.occupation,
        "level": c.level,
        "start_date": c.start_date.to_string(),
        "last_day": c.last_day.to_string(),
        "status_label": c.status_label,
        "status": c.status,
        "overdue": c.overdue,
        "subsidy": if c.subsidy_eligible { "可申领" } else if c.overdue { "超期，不享受该班次补贴" } else { "—" },
        "days_left": c.days_left,
        "started_on": c.started_on.map(|d| d.to_string()).unwrap_or_default(),
        "training_completed_on": c.training_completed_on.map(|d| d.to_string()).unwrap_or_default(),
        "exam_completed_on": c.exam_completed_on.map(|d| d.to_string()).unwrap_or_default(),
        "policy_version": c.policy_version,
    })
}

fn flash_of(saved: &Saved) -> Value {
    match saved.saved.as_deref() {
        Some("started") => Value::from("已开始培训。"),
        Some("training_complete") => Value::from("已登记培训完成。"),
        Some("exam_complete") => Value::from("已登记考试完成。"),
        Some("teacher_change") => Value::from("授课师资调整已报备。"),
        Some("attendance") => Value::from("签到已登记。"),
        Some("inspection") => Value::from("检查抽查已登记。"),
        Some("acknowledged") => Value::from("已查阅。"),
        Some("report") => Value::from("月度开展情况已提交。"),
        Some("rectified") => Value::from("整改情况已报告。"),
        Some("closed") => Value::from("已复核闭环。"),
        Some("photo") => Value::from("检查照片已上传。"),
        Some("confirmed") => Value::from("超期处理已确认并执行。"),
        Some("dismissed") => Value::from("已决定不予处理。"),
        Some("decided") => Value::from("已作出决定。"),
        Some("swept") => Value::from("超期检查已执行。"),
        _ => saved.flash(),
    }
}

/// Re-show with errors when the error is the user's to fix; otherwise the error page.
fn fixable(e: AppError) -> AppResult<(Value, Value, StatusCode)> {
    if !is_form_error(&e) {
        return Err(e);
    }
    let (errors, field_errors) = form_errors(&e, |f| f.to_string());
    Ok((errors, field_errors, e.status()))
}

fn with_status(resp: AppResult<Response>, status: StatusCode) -> AppResult<Response> {
    let mut r = resp?;
    *r.status_mut() = status;
    Ok(r)
}

// ---- classes --------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct ClassListQuery {
    status: Option<String>,
    page: Option<u64>,
}

const STATUS_OPTIONS: &[(&str, &str)] = &[
    ("", "全部"),
    ("approved", "已批复"),
    ("in_training", "培训中"),
    ("overdue", "超期未完成"),
    ("training_complete", "培训完成（待考试）"),
    ("completed", "已完成"),
];

async fn classes_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<ClassListQuery>,
) -> AppResult<Response> {
    let status = q.status.clone().filter(|s| !s.is_empty());
    let page = page_request(q.page, None);
    let p = running::list_classes(
        &state.store,
        &user.actor(&ctx),
        &ClassFilter {
            status: status.clone(),
            institution_id: None,
        },
        &page,
        state.clock.now(),
    )
    .await?;
    let items: Vec<_> = p.items.iter().map(class_value).collect();
    let params = [("status", status.clone().unwrap_or_default())];
    render(
        &state,
        Some(&user),
        "/classes",
        "classes_list.html",
        "班次",
        context! {
            items => jv(items),
            status => status.unwrap_or_default(),
            options => jv(STATUS_OPTIONS.iter().map(|(v, l)| json!({"value": v, "label": l})).collect::<Vec<_>>()),
            pager => pager("/classes", &params, page.page.unwrap_or(1), p.per_page, p.total),
        },
    )
}

async fn render_class(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    flash: Value,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let actor = user.actor(ctx);
    let d = running::get_class(&state.store, &actor, id, state.clock.now()).await?;
    let is_inst = user.role.is_institution();
    let can = |code: &str| d.actions.iter().any(|a| a == code);
    let running_now = matches!(d.class.status.as_str(), "in_training" | "overdue")
        || d.class.state
            == peixun_domain::workflow::class::ClassState::RosterReview { started: true };
    let teacher_options = if is_inst
        && matches!(
            d.class.status.as_str(),
            "approved" | "in_training" | "roster_review"
        ) {
        teachers::list_teachers(
            &state.store,
            &actor,
            d.class.institution_id,
            &PageRequest::first(200),
        )
        .await?
        .items
        .into_iter()
        .filter(|t| t.active)
        .map(|t| {
            let quals = t
                .qualifications
                .iter()
                .map(|q| format!("{}（{}）", q.occupation, q.level))
                .collect::<Vec<_>>()
                .join("、");
            json!({"id": t.id, "label": format!("{} — {}", t.name, quals)})
        })
        .collect::<Vec<_>>()
    } else {
        Vec::new()
    };
    let inspections = inspections::list_inspections(
        &state.store,
        &actor,
        &InspectionFilter {
            open_only: false,
            filing_id: Some(id),
        },
        &PageRequest::first(100),
    )
    .await?
    .items;
    let tcs: Vec<_> = d
        .teacher_changes
        .iter()
        .map(|t| {
            json!({
                "new_teacher_name": t.new_teacher_name,
                "effective_on": t.effective_on.to_string(),
                "reported_at": local(t.reported_at),
                "note": t.note,
                "acknowledged": t.acknowledged_at.is_some(),
            })
        })
        .collect();
    let att: Vec<_> = d
        .attendance
        .iter()
        .map(|a| {
            json!({
                "session_date": a.session_date.to_string(),
                "session_label": a.session_label,
                "present": a.present_count,
                "absent": a.absent_count,
                "absentees": a.marks.iter().filter(|m| !m.present).map(|m| m.trainee.clone()).collect::<Vec<_>>().join("、"),
                "sheet": a.sign_in_file_id.is_some(),
                "by": a.recorded_by,
                "at": local(a.recorded_at),
            })
        })
        .collect();
    let roster = if is_inst && running_now {
        class_roster(state, &actor, id).await?
    } else {
        Vec::new()
    };
    // A fresh form offers every trainee as present; a form shown again keeps the ticks.
    let ticked: Vec<String> = if form.get("roster_marks") == "1" {
        form.all("present_ids")
    } else {
        roster.iter().map(|t| t.id.to_string()).collect()
    };
    let roster_items: Vec<_> = roster
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "label": trainee_label(t),
                "checked": ticked.contains(&t.id.to_string()),
            })
        })
        .collect();
    let ins: Vec<_> = inspections
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "inspected_on": i.inspected_on.to_string(),
                "kind_label": i.kind_label,
                "status_label": i.status_label,
                "due": i.rectification_due.map(|d| d.to_string()).unwrap_or_default(),
            })
        })
        .collect();
    render(
        state,
        Some(user),
        "/classes",
        "class_detail.html",
        &format!(
            "班次#{} {}（{}）",
            d.class.id, d.class.occupation, d.class.level
        ),
        context! {
            class => jv(class_value(&d.class)),
            can_start => can("start_training"),
            can_complete_training => can("complete_training"),
            can_complete_exam => can("complete_exam"),
            can_change_teacher => !teacher_options.is_empty(),
            can_attendance => is_inst && running_now,
            can_inspect => user.role.is_centre() && d.class.state.is_approved(),
            teacher_options => jv(teacher_options),
            teacher_changes => jv(tcs),
            attendance => jv(att),
            roster => jv(roster_items),
            inspections => jv(ins),
            form => form_value(form, &["on", "new_teacher_id", "effective_on", "note", "session_date", "session_label", "present", "absent", "inspected_on", "kind", "findings", "rectification_due"]),
            rectification_required => form.checked("rectification_required"),
            errors => errors.0,
            field_errors => errors.1,
            flash => flash,
            today => today(state).to_string(),
        },
    )
}

async fn class_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    render_class(
        &state,
        &user,
        &ctx,
        id,
        flash_of(&saved),
        &FormData::default(),
        no_errors(),
    )
    .await
}

/// One class action from its page: success redirects, a fixable error shows the page again.
async fn class_action(
    state: AppState,
    user: CurrentUser,
    ctx: RequestCtx,
    id: i64,
    form: FormData,
    saved: &str,
) -> AppResult<Response> {
    class_action_with(state, user, ctx, id, form, saved, None).await
}

/// [`class_action`], with the attendance form's sign-in sheet upload (name, bytes), if any.
async fn class_action_with(
    state: AppState,
    user: CurrentUser,
    ctx: RequestCtx,
    id: i64,
    form: FormData,
    saved: &str,
    sheet: Option<(String, Vec<u8>)>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let now = state.clock.now();
    let res: Result<(), AppError> = async {
        match saved {
            "started" => {
                running::start_training(&state.store, &actor, id, now).await?;
            }
            "training_complete" | "exam_complete" => {
                let on = parse_date(form.get("on"), "on", "完成日期")?;
                if saved == "training_complete" {
                    running::complete_training(&state.store, &actor, id, on, now).await?;
                } else {
                    running::complete_exam(&state.store, &actor, id, on, now).await?;
                }
            }
            "teacher_change" => {
                let new_teacher_id =
                    form.get("new_teacher_id")
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| AppError::Validation {
                            code: "REQUIRED".into(),
                            message: "请选择新授课教师".into(),
                            field: Some("new_teacher_id".into()),
                        })?;
                let effective_on =
                    parse_date(form.get("effective_on"), "effective_on", "生效日期")?;
                running::report_teacher_change(
                    &state.store,
                    &actor,
                    &TeacherChangeInput {
                        filing_id: id,
                        old_teacher_id: None,
                        new_teacher_id,
                        effective_on,
                        note: form.get("note").to_string(),
                    },
                    &peixun_store::calendar::load(state.store.db()).await?,
                    now,
                )
                .await?;
            }
            "attendance" => {
                let session_date =
                    parse_date(form.get("session_date"), "session_date", "上课日期")?;
                let names = |field: &str| -> Vec<String> {
                    form.get(field)
                        .split(['\n', '、', ',', '，'])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                };
                let roster = if form.get("roster_marks") == "1" {
                    class_roster(&state, &actor, id).await?
                } else {
                    Vec::new()
                };
                let mut marks: Vec<AttendanceMark>;
                if roster.is_empty() {
                    marks = names("present")
                        .into_iter()
                        .map(|t| AttendanceMark {
                            trainee: t,
                            present: true,
                        })
                        .collect();
                    marks.extend(names("absent").into_iter().map(|t| AttendanceMark {
                        trainee: t,
                        present: false,
                    }));
                } else {
                    // R-RUN-2: the imported roster as a checklist (ticked: present).
                    let ticked = form.all("present_ids");
                    marks = roster
                        .iter()
                        .map(|t| AttendanceMark {
                            trainee: trainee_label(t),
                            present: ticked.contains(&t.id.to_string()),
                        })
                        .collect();
                }
                let sign_in_file_id = match sheet.as_ref().filter(|(_, b)| !b.is_empty()) {
                    Some((name, bytes)) => Some(
                        running::put_signin_sheet(
                            &state.store,
                            &state.files,
                            &actor,
                            id,
                            bytes,
                            name,
                            now,
                        )
                        .await
                        .map_err(|e| refield(e.into(), "sign_in_file"))?
                        .id,
                    ),
                    None => None,
                };
                running::record_attendance(
                    &state.store,
                    &actor,
                    &AttendanceInput {
                        filing_id: id,
                        session_date,
                        session_label: form.get("session_label").to_string(),
                        marks,
                        sign_in_file_id,
                    },
                    now,
                )
                .await?;
            }
            _ => {
                let inspected_on =
                    parse_date(form.get("inspected_on"), "inspected_on", "检查日期")?;
                let kind =
                    InspectionKind::parse(form.get("kind")).unwrap_or(InspectionKind::OnSite);
                let required = form.checked("rectification_required");
                let due = if form.get("rectification_due").trim().is_empty() {
                    None
                } else {
                    Some(parse_date(
                        form.get("rectification_due"),
                        "rectification_due",
                        "整改期限",
                    )?)
                };
                inspections::record_inspection(
                    &state.store,
                    &actor,
                    &InspectionInput {
                        filing_id: id,
                        inspected_on,
                        kind,
                        findings: form.get("findings").to_string(),
                        photos: Vec::new(),
                        rectification_required: required,
                        rectification_due: due,
                    },
                    now,
                )
                .await?;
            }
        }
        Ok(())
    }
    .await;
    match res {
        Ok(()) => Ok(Redirect::to(&format!("/classes/{id}?saved={saved}")).into_response()),
        Err(e) => {
            let (errors, field_errors, status) = fixable(e)?;
            let r = render_class(
                &state,
                &user,
                &ctx,
                id,
                Value::from(()),
                &form,
                (errors, field_errors),
            )
            .await;
            with_status(r, status)
        }
    }
}

macro_rules! class_post {
    ($name:ident, $saved:literal) => {
        async fn $name(
            State(state): State<AppState>,
            user: CurrentUser,
            ctx: RequestCtx,
            ApiPath(id): ApiPath<i64>,
            CsrfForm(form): CsrfForm,
        ) -> AppResult<Response> {
            class_action(state, user, ctx, id, form, $saved).await
        }
    };
}

class_post!(class_start, "started");
class_post!(class_complete_training, "training_complete");
class_post!(class_complete_exam, "exam_complete");
class_post!(class_teacher_change, "teacher_change");

/// The attendance form: multipart (with an optional sign-in sheet, R-RUN-2, S16) or a plain
/// form. Another institution's class is refused before the body is read (S6).
async fn class_attendance(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let form = match CsrfForm::from_request(req, &state).await {
            Ok(CsrfForm(f)) => f,
            Err(r) => return Ok(r.into_response()),
        };
        return class_action(state, user, ctx, id, form, "attendance").await;
    }
    let actor = user.actor(&ctx);
    running::get_class(&state.store, &actor, id, state.clock.now()).await?;
    if !user.role.is_institution() {
        return Err(AppError::Forbidden("只有培训机构可以登记签到".into()));
    }
    let mp: MultipartResult = axum::extract::Multipart::from_request(req, &state).await;
    let (form, files) = read_multipart(&user, mp).await?;
    let sheet = files
        .into_iter()
        .find(|f| f.0 == "sign_in_file")
        .map(|f| (f.1, f.2));
    class_action_with(state, user, ctx, id, form, "attendance", sheet).await
}

/// The class's current imported roster (masked), empty when it has none (R-RUN-2).
async fn class_roster(
    state: &AppState,
    actor: &peixun_store::Actor,
    id: i64,
) -> AppResult<Vec<peixun_store::roster::TraineeView>> {
    match peixun_store::filing_package::package_of_filing(&state.store, actor, id).await? {
        Some(p) => Ok(peixun_store::roster::list_roster(&state.store, actor, p.id, false).await?),
        None => Ok(Vec::new()),
    }
}

/// A trainee as recorded in an attendance mark: name and masked ID.
fn trainee_label(t: &peixun_store::roster::TraineeView) -> String {
    format!("{}（{}）", t.name, t.id_number_masked)
}

/// A validation error of an upload (field `file`) shown beside `field` instead.
fn refield(e: AppError, field: &str) -> AppError {
    match e {
        AppError::Validation {
            code,
            message,
            field: Some(f),
        } if f == "file" => AppError::Validation {
            code,
            message,
            field: Some(field.to_string()),
        },
        other => other,
    }
}
class_post!(class_inspect, "inspection");

// ---- teacher changes ------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct PendingQuery {
    all: Option<String>,
    page: Option<u64>,
    saved: Option<String>,
}

async fn teacher_changes_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<PendingQuery>,
) -> AppResult<Response> {
    let all = q.all.as_deref() == Some("1");
    let page = page_request(q.page, None);
    let p = running::list_teacher_changes(&state.store, &user.actor(&ctx), !all, &page).await?;
    let items: Vec<_> = p
        .items
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "filing_id": t.filing_id,
                "new_teacher_name": t.new_teacher_name,
                "effective_on": t.effective_on.to_string(),
                "reported_on": t.reported_on.to_string(),
                "reported_by": t.reported_by,
                "note": t.note,
                "acknowledged": t.acknowledged_at.is_some(),
                "acknowledged_by": t.acknowledged_by.clone().unwrap_or_default(),
            })
        })
        .collect();
    let params = [("all", if all { "1".to_string() } else { String::new() })];
    render(
        &state,
        Some(&user),
        "/teacher-changes",
        "teacher_changes.html",
        "授课师资调整报备",
        context! {
            items => jv(items),
            all => all,
            can_ack => user.role.is_centre(),
            flash => flash_of(&Saved { saved: q.saved }),
            pager => pager("/teacher-changes", &params, page.page.unwrap_or(1), p.per_page, p.total),
        },
    )
}

async fn teacher_change_ack(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    running::acknowledge_teacher_change(&state.store, &user.actor(&ctx), id, state.clock.now())
        .await?;
    Ok(Redirect::to("/teacher-changes?saved=acknowledged").into_response())
}

// ---- monthly reports ------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct MonthQ {
    year: Option<i32>,
    month: Option<u32>,
    saved: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn render_reports(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    year: i32,
    month: u32,
    flash: Value,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let actor = user.actor(ctx);
    let day = today(state);
    let list = reports::report_statuses(&state.store, &actor, year, month, day).await?;
    let rows: Vec<_> = list
        .rows
        .iter()
        .map(|r| {
            json!({
                "institution_name": r.institution_name,
                "status": format!("{:?}", r.status),
                "status_label": r.status_label,
                "submitted_at": r.submitted_at.map(local).unwrap_or_default(),
            })
        })
        .collect();
    let mine = if user.role.is_institution() {
        reports::list_reports(&state.store, &actor, &PageRequest::first(24))
            .await?
            .items
            .iter()
            .map(|r| {
                json!({
                    "month": format!("{}年{}月", r.year, r.month),
                    "classes_run": r.classes_run,
                    "trainees": r.trainees,
                    "exams": r.exams,
                    "problems": r.problems,
                    "late": r.late,
                    "submitted_at": local(r.submitted_at),
                })
            })
            .collect::<Vec<_>>()
    } else {
        Vec::new()
    };
    let prev = if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    };
    let next = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let f = form_value(form, &["classes_run", "trainees", "exams", "problems"]);
    render(
        state,
        Some(user),
        "/reports",
        "reports.html",
        &format!("{year}年{month}月开展情况反馈"),
        context! {
            year, month,
            due => list.due.to_string(),
            policy_version => list.policy_version.clone(),
            rows => jv(rows),
            counts => context! { on_time => list.on_time, late => list.late, missing => list.missing, not_yet_due => list.not_yet_due },
            prev_href => format!("/reports?year={}&month={}", prev.0, prev.1),
            next_href => format!("/reports?year={}&month={}", next.0, next.1),
            export_href => format!("/reports/export.xlsx?year={year}&month={month}"),
            is_institution => user.role.is_institution(),
            mine => jv(mine),
            form => f,
            errors => errors.0,
            field_errors => errors.1,
            flash => flash,
        },
    )
}

fn month_of(state: &AppState, q: &MonthQ) -> (i32, u32) {
    let d = today(state);
    let m = q
        .month
        .filter(|m| (1..=12).contains(m))
        .unwrap_or(d.month());
    (
        q.year
            .filter(|y| (2000..=2100).contains(y))
            .unwrap_or(d.year()),
        m,
    )
}

async fn reports_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<MonthQ>,
) -> AppResult<Response> {
    let (y, m) = month_of(&state, &q);
    render_reports(
        &state,
        &user,
        &ctx,
        y,
        m,
        flash_of(&Saved { saved: q.saved }),
        &FormData::default(),
        no_errors(),
    )
    .await
}

async fn report_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let d = today(&state);
    let year = form.get("year").trim().parse().unwrap_or(d.year());
    let month = form.get("month").trim().parse().unwrap_or(d.month());
    let res: Result<(), AppError> = async {
        let input = MonthlyReportInput {
            year,
            month,
            classes_run: parse_u32(form.get("classes_run"), "classes_run", "本月开展班次")?,
            trainees: parse_u32(form.get("trainees"), "trainees", "参训人数")?,
            exams: parse_u32(form.get("exams"), "exams", "考试场次")?,
            problems: form.get("problems").to_string(),
        };
        reports::submit_report(&state.store, &user.actor(&ctx), &input, state.clock.now()).await?;
        Ok(())
    }
    .await;
    match res {
        Ok(()) => Ok(
            Redirect::to(&format!("/reports?year={year}&month={month}&saved=report"))
                .into_response(),
        ),
        Err(e) => {
            let (errors, field_errors, status) = fixable(e)?;
            let r = render_reports(
                &state,
                &user,
                &ctx,
                year,
                month,
                Value::from(()),
                &form,
                (errors, field_errors),
            )
            .await;
            with_status(r, status)
        }
    }
}

async fn reports_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<MonthQ>,
) -> AppResult<Response> {
    let (y, m) = month_of(&state, &q);
    let list =
        reports::report_statuses(&state.store, &user.actor(&ctx), y, m, today(&state)).await?;
    let rows: Vec<Vec<String>> = list
        .rows
        .iter()
        .map(|r| {
            vec![
                r.institution_name.clone(),
                r.status_label.clone(),
                r.submitted_at.map(local).unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = export::workbook("月度开展情况", &["培训机构", "状态", "提交时间"], &rows)?;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "monthly_reports",
        "monthly_report",
        json!({"year": y, "month": m, "rows": rows.len()}),
    )
    .await?;
    Ok(export::xlsx_response(
        bytes,
        &format!("monthly-reports-{y}-{m:02}.xlsx"),
        &format!("{y}年{m}月开展情况反馈.xlsx"),
    ))
}

// ---- inspections ----------------------------------------------------------------------------

async fn inspections_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<PendingQuery>,
) -> AppResult<Response> {
    let all = q.all.as_deref() == Some("1");
    let page = page_request(q.page, None);
    let p = inspections::list_inspections(
        &state.store,
        &user.actor(&ctx),
        &InspectionFilter {
            open_only: !all,
            filing_id: None,
        },
        &page,
    )
    .await?;
    let items: Vec<_> = p.items.iter().map(inspection_value).collect();
    let params = [("all", if all { "1".to_string() } else { String::new() })];
    render(
        &state,
        Some(&user),
        "/inspections",
        "inspections_list.html",
        "检查抽查",
        context! {
            items => jv(items),
            all => all,
            pager => pager("/inspections", &params, page.page.unwrap_or(1), p.per_page, p.total),
        },
    )
}

fn inspection_value(i: &inspections::InspectionView) -> serde_json::Value {
    json!({
        "id": i.id,
        "filing_id": i.filing_id,
        "institution_name": i.institution_name,
        "inspected_on": i.inspected_on.to_string(),
        "kind_label": i.kind_label,
        "findings": i.findings,
        "rectification_required": i.rectification_required,
        "due": i.rectification_due.map(|d| d.to_string()).unwrap_or_default(),
        "rectification_note": i.rectification_note.clone().unwrap_or_default(),
        "status": i.status,
        "status_label": i.status_label,
        "closure_note": i.closure_note.clone().unwrap_or_default(),
        "closed_by": i.closed_by.clone().unwrap_or_default(),
        "closed_at": i.closed_at.map(local).unwrap_or_default(),
        "recorded_by": i.recorded_by,
    })
}

async fn inspections_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Response> {
    let p = inspections::list_inspections(
        &state.store,
        &user.actor(&ctx),
        &InspectionFilter::default(),
        &PageRequest::first(PageRequest::MAX_PER_PAGE),
    )
    .await?;
    let rows: Vec<Vec<String>> = p
        .items
        .iter()
        .map(|i| {
            vec![
                i.id.to_string(),
                i.institution_name.clone(),
                format!("#{}", i.filing_id),
                i.inspected_on.to_string(),
                i.kind_label.clone(),
                i.findings.clone(),
                i.rectification_due
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                i.status_label.clone(),
            ]
        })
        .collect();
    let bytes = export::workbook(
        "检查抽查",
        &[
            "编号",
            "培训机构",
            "班次",
            "检查日期",
            "方式",
            "发现问题",
            "整改期限",
            "状态",
        ],
        &rows,
    )?;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "inspections",
        "inspection",
        json!({"rows": rows.len()}),
    )
    .await?;
    Ok(export::xlsx_response(
        bytes,
        "inspections.xlsx",
        "检查抽查.xlsx",
    ))
}

async fn render_inspection(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    flash: Value,
    form: &FormData,
    errors: (Value, Value),
) -> AppResult<Response> {
    let actor = user.actor(ctx);
    let i = inspections::get_inspection(&state.store, &actor, id).await?;
    let mut photos = Vec::new();
    for fid in &i.photos {
        if let Ok(rec) = peixun_store::files::get_file(state.store.db(), fid).await
            && peixun_store::files::may_read(&actor, &rec)
        {
            photos.push(json!({"id": rec.id, "name": rec.original_name, "size": rec.size}));
        }
    }
    render(
        state,
        Some(user),
        "/inspections",
        "inspection_detail.html",
        &format!("检查抽查#{}", i.id),
        context! {
            i => jv(inspection_value(&i)),
            can_rectify => user.role.is_institution() && i.status == "rectifying",
            can_close => user.role.is_centre() && matches!(i.status.as_str(), "rectifying" | "rectified"),
            photos => jv(photos),
            can_add_photo => user.role.is_centre(),
            form => form_value(form, &["note"]),
            errors => errors.0,
            field_errors => errors.1,
            flash => flash,
        },
    )
}

async fn inspection_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    render_inspection(
        &state,
        &user,
        &ctx,
        id,
        flash_of(&saved),
        &FormData::default(),
        no_errors(),
    )
    .await
}

async fn inspection_act(
    state: AppState,
    user: CurrentUser,
    ctx: RequestCtx,
    id: i64,
    form: FormData,
    close: bool,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let now = state.clock.now();
    let res = if close {
        inspections::close_inspection(&state.store, &actor, id, form.get("note"), now).await
    } else {
        inspections::report_rectification(&state.store, &actor, id, form.get("note"), now).await
    };
    match res {
        Ok(_) => Ok(Redirect::to(&format!(
            "/inspections/{id}?saved={}",
            if close { "closed" } else { "rectified" }
        ))
        .into_response()),
        Err(e) => {
            let (errors, field_errors, status) = fixable(e.into())?;
            let r = render_inspection(
                &state,
                &user,
                &ctx,
                id,
                Value::from(()),
                &form,
                (errors, field_errors),
            )
            .await;
            with_status(r, status)
        }
    }
}

async fn inspection_rectify(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    inspection_act(state, user, ctx, id, form, false).await
}

async fn inspection_close(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    inspection_act(state, user, ctx, id, form, true).await
}

/// R-RUN-4: the centre adds a photo (JPEG/PNG/PDF, checked by content, S16) to an inspection.
async fn inspection_photo_upload(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    mp: MultipartResult,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    // S6 first: an inspection the user may not see answers before the body is read.
    inspections::get_inspection(&state.store, &actor, id).await?;
    let (form, files) = read_multipart(&user, mp).await?;
    let (name, bytes) = files
        .into_iter()
        .find(|f| f.0 == "file")
        .map(|f| (f.1, f.2))
        .unwrap_or_default();
    let res = inspections::add_photo(
        &state.store,
        &state.files,
        &actor,
        id,
        &bytes,
        &name,
        state.clock.now(),
    )
    .await;
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/inspections/{id}?saved=photo#photos")).into_response()),
        Err(e) => {
            let (errors, field_errors, status) = fixable(e.into())?;
            let r = render_inspection(
                &state,
                &user,
                &ctx,
                id,
                Value::from(()),
                &form,
                (errors, field_errors),
            )
            .await;
            with_status(r, status)
        }
    }
}

/// An inspection photo as a download (S16: attachment, nosniff, sandbox CSP); another
/// institution's answers 404 (S6).
async fn inspection_photo_download(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath((id, file_id)): ApiPath<(i64, String)>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let rec = inspections::photo_file(&state.store, &actor, id, &file_id).await?;
    let bytes = state.files.open(&rec.id).await?;
    peixun_store::filing_package::record_download(&state.store, &actor, &rec, state.clock.now())
        .await?;
    Ok(super::api_filing_package::file_response(bytes, &rec))
}

async fn progress_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Response> {
    let day = today(&state);
    let items: Vec<_> = inspections::progress_bulletin(&state.store, &user.actor(&ctx), day)
        .await?
        .iter()
        .map(|b| {
            let mut v = class_value(&b.class);
            v["reason"] = json!(b.reason);
            v
        })
        .collect();
    render(
        &state,
        Some(&user),
        "/progress",
        "progress.html",
        "进度通报：进度滞后的班次",
        context! { items => jv(items), today => day.to_string() },
    )
}

// ---- sanctions and overdue ------------------------------------------------------------------

async fn render_sanctions(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    flash: Value,
    errors: (Value, Value),
) -> AppResult<Response> {
    let actor = user.actor(ctx);
    let p = overdue::list_sanctions(&state.store, &actor, false, &PageRequest::first(100)).await?;
    let items: Vec<_> = p
        .items
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "institution_name": s.institution_name,
                "year": s.year,
                "count": s.count,
                "trigger_filing_id": s.trigger_filing_id,
                "state_label": s.state_label,
                "raised_at": local(s.raised_at),
                "policy_version": s.policy_version,
                "decided_by": s.decided_by.clone().unwrap_or_default(),
                "decided_at": s.decided_at.map(local).unwrap_or_default(),
                "reason": s.reason.clone().unwrap_or_default(),
                "can_decide": s.actions.iter().any(|a| a == "confirm"),
                "effects": s.effects.as_ref().map(|e| format!(
                    "中止协议{}份，取消备案及未开班班次{}个，标记在训班次{}个，名额转给候补{}个",
                    e.agreements_terminated.len(), e.filings_cancelled.len(), e.classes_flagged.len(), e.promoted.len()
                )).unwrap_or_default(),
            })
        })
        .collect();
    let flags: Vec<_> = overdue::list_flags(&state.store, &actor, false)
        .await?
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "filing_id": f.filing_id,
                "decided": f.decided_at.is_some(),
                "decision": match f.decision.as_deref() { Some("continue") => "允许完成", Some("cancel") => "已取消", _ => "待决定" },
                "reason": f.decision_reason.clone().unwrap_or_default(),
            })
        })
        .collect();
    render(
        state,
        Some(user),
        "/sanctions",
        "sanctions.html",
        "超期处理（同年超期超过3个班次）",
        context! {
            items => jv(items),
            flags => jv(flags),
            is_admin => user.role == Role::CentreAdmin,
            errors => errors.0,
            field_errors => errors.1,
            flash => flash,
        },
    )
}

async fn sanctions_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    render_sanctions(&state, &user, &ctx, flash_of(&saved), no_errors()).await
}

async fn sanction_confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    match overdue::confirm_sanction(&state.store, &user.actor(&ctx), id, state.clock.now()).await {
        Ok(_) => Ok(Redirect::to("/sanctions?saved=confirmed").into_response()),
        Err(e) => {
            let (errors, field_errors, status) = fixable(e.into())?;
            with_status(
                render_sanctions(&state, &user, &ctx, Value::from(()), (errors, field_errors))
                    .await,
                status,
            )
        }
    }
}

async fn sanction_dismiss(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    match overdue::dismiss_sanction(
        &state.store,
        &user.actor(&ctx),
        id,
        form.get("reason"),
        state.clock.now(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/sanctions?saved=dismissed").into_response()),
        Err(e) => {
            let (errors, field_errors, status) = fixable(e.into())?;
            with_status(
                render_sanctions(&state, &user, &ctx, Value::from(()), (errors, field_errors))
                    .await,
                status,
            )
        }
    }
}

async fn flag_decide(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let d = if form.get("decision") == "cancel" {
        FlagDecision::Cancel
    } else {
        FlagDecision::Continue
    };
    match overdue::decide_flag(
        &state.store,
        &user.actor(&ctx),
        id,
        d,
        form.get("reason"),
        state.clock.now(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/sanctions?saved=decided").into_response()),
        Err(e) => {
            let (errors, field_errors, status) = fixable(e.into())?;
            with_status(
                render_sanctions(&state, &user, &ctx, Value::from(()), (errors, field_errors))
                    .await,
                status,
            )
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct YearQ {
    year: Option<i32>,
    page: Option<u64>,
    saved: Option<String>,
}

async fn overdue_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<YearQ>,
) -> AppResult<Response> {
    let year = q.year.unwrap_or(today(&state).year());
    let page = page_request(q.page, None);
    let p = overdue::list_overdue(
        &state.store,
        &user.actor(&ctx),
        Some(year),
        &page,
        state.clock.now(),
    )
    .await?;
    let items: Vec<_> = p.items.iter().map(class_value).collect();
    let params = [("year", year.to_string())];
    render(
        &state,
        Some(&user),
        "/overdue",
        "overdue.html",
        &format!("{year}年超期班次"),
        context! {
            year,
            items => jv(items),
            can_sweep => user.role == Role::CentreAdmin,
            flash => flash_of(&Saved { saved: q.saved }),
            pager => pager("/overdue", &params, page.page.unwrap_or(1), p.per_page, p.total),
        },
    )
}

async fn overdue_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<YearQ>,
) -> AppResult<Response> {
    let year = q.year.unwrap_or(today(&state).year());
    let p = overdue::list_overdue(
        &state.store,
        &user.actor(&ctx),
        Some(year),
        &PageRequest::first(PageRequest::MAX_PER_PAGE),
        state.clock.now(),
    )
    .await?;
    let rows: Vec<Vec<String>> = p
        .items
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                c.institution_name.clone(),
                format!("{}（{}）", c.occupation, c.level),
                c.start_date.to_string(),
                c.last_day.to_string(),
                c.status_label.clone(),
            ]
        })
        .collect();
    let bytes = export::workbook(
        "超期班次",
        &[
            "班次",
            "培训机构",
            "职业（工种）",
            "开班日期",
            "最迟完成日期",
            "状态",
        ],
        &rows,
    )?;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "overdue",
        "class",
        json!({"year": year, "rows": rows.len()}),
    )
    .await?;
    Ok(export::xlsx_response(
        bytes,
        &format!("overdue-{year}.xlsx"),
        &format!("{year}年超期班次.xlsx"),
    ))
}

async fn overdue_sweep(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    let now = state.clock.now();
    overdue::run_sweep_now(&state.store, &user.actor(&ctx), today(&state), now).await?;
    Ok(Redirect::to("/overdue?saved=swept").into_response())
}

// ---- the home page's work list (issue 5, item 7) --------------------------------------------

/// Where each work-list item is done.
fn work_href(kind: &str, target: Option<i64>) -> String {
    let t = target.unwrap_or(0);
    match kind {
        "filings_to_review" => "/review".into(),
        "roster_changes" => "/classes?status=roster_review".into(),
        "teacher_changes" => "/teacher-changes".into(),
        "monthly_reports" | "monthly_report_due" => match target {
            Some(ym) => format!("/reports?year={}&month={}", ym / 100, ym % 100),
            None => "/reports".into(),
        },
        "inspections_open" => "/inspections".into(),
        "inspections_rectify" => format!("/inspections/{t}"),
        "classes_near_last_day" => format!("/classes/{t}"),
        "sanctions_to_confirm" | "flagged_classes" => "/sanctions".into(),
        "agreements_to_sign" => format!("/rounds/{t}/applications"),
        "filings_returned" => format!("/filings/{t}"),
        "filing_deadlines" => "/rounds".into(),
        "classes_to_start" => "/classes?status=approved".into(),
        "archives_incomplete" => format!("/classes/{t}/archive"),
        "inbox_unread" => "/inbox".into(),
        _ => "/".into(),
    }
}

/// The viewer's work list as the home page shows it: each item with its link and deadline.
pub async fn home_work(state: &AppState, actor: &peixun_store::Actor) -> AppResult<Value> {
    let w = peixun_store::worklist::work_list(&state.store, actor, state.clock.now()).await?;
    let items: Vec<_> = w
        .items
        .iter()
        .map(|i| {
            json!({
                "kind": i.kind,
                "title": i.title,
                "count": i.count,
                "detail": i.detail,
                "deadline": i.deadline.map(|d| d.to_string()).unwrap_or_default(),
                "urgent": i.urgent,
                "href": work_href(&i.kind, i.target_id),
            })
        })
        .collect();
    let summary: Vec<_> = w
        .summary
        .iter()
        .map(|(l, v)| json!({"label": l, "value": v}))
        .collect();
    Ok(jv(json!({
        "today": w.today.to_string(),
        "items": items,
        "summary": summary,
    })))
}
