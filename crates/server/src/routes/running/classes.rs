//! The classes list and a class's page with its actions: start (R-FIL-5), completion (R-OVD-1),
//! teacher change (R-RUN-1), inspection (R-RUN-4); the attendance form is [`super::attendance`].

use super::{
    class_value, fixable, flash_of, form_value, jv, local, parse_date, today, with_status,
};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::pages::{CsrfForm, FormData, Saved, no_errors, pager, render};
use crate::routes::Registrar;
use crate::routes::forms::page_request;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_store::inspections::{self, InspectionFilter, InspectionInput, InspectionKind};
use peixun_store::running::{self, ClassFilter, TeacherChangeInput};
use peixun_store::{PageRequest, teachers};
use serde::Deserialize;
use serde_json::json;

pub(super) fn register(r: Registrar) -> Registrar {
    r.get("/classes", classes_list)
        .get("/classes/{id}", class_detail)
        .post("/classes/{id}/start", class_start)
        .post("/classes/{id}/complete-training", class_complete_training)
        .post("/classes/{id}/complete-exam", class_complete_exam)
        .post("/classes/{id}/teacher-change", class_teacher_change)
        .post("/classes/{id}/inspections", class_inspect)
}

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
    let can_attendance = is_inst && running_now;
    let (att, roster) =
        super::attendance::page_values(state, &actor, &d, can_attendance, form).await?;
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
            can_attendance => can_attendance,
            can_inspect => user.role.is_centre() && d.class.state.is_approved(),
            teacher_options => jv(teacher_options),
            teacher_changes => jv(tcs),
            attendance => jv(att),
            roster => roster,
            sheet_only => form.checked("sheet_only"),
            inspections => jv(ins),
            form => form_value(form, &["on", "new_teacher_id", "effective_on", "note", "session_date", "session_label", "inspected_on", "kind", "findings", "rectification_due"]),
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
pub(super) async fn class_action(
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
pub(super) async fn class_action_with(
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
                super::attendance::record_from_form(&state, &actor, id, &form, sheet.as_ref(), now)
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
                        severity: inspections::FindingSeverity::parse(form.get("finding_severity")),
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

class_post!(class_inspect, "inspection");
