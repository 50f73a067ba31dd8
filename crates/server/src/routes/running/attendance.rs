//! Attendance on the class page (R-RUN-2): the session list (present/absent counts and who was
//! absent) and the form — the class's current roster, each trainee (row, name, masked ID) with
//! a 出勤/缺勤 choice (出勤 by default), plus an optional sign-in sheet (S16). The marks go to
//! [`peixun_store::attendance::record_attendance`] as roster entries.

use super::classes::{class_action, class_action_with};
use super::{jv, local};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, AppError, AppResult};
use crate::pages::{CsrfForm, FormData};
use crate::routes::Registrar;
use crate::routes::pages_filing_package::{MultipartResult, read_multipart};
use axum::extract::{FromRequest, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use minijinja::value::Value;
use peixun_store::attendance::{self, AttendanceInput, AttendanceMark};
use peixun_store::roster::TraineeView;
use peixun_store::running::{self, ClassDetail};
use serde_json::json;

pub(super) fn register(r: Registrar) -> Registrar {
    r.add(
        "POST",
        "/classes/{id}/attendance",
        crate::routes::api_filing_package::upload(class_attendance),
    )
}

/// The form field of one trainee's choice: `mark_<roster entry id>` = `present` | `absent`.
const MARK_PREFIX: &str = "mark_";

/// The session list and the form's roster rows for the class page: (attendance, roster).
/// A fresh form offers every trainee as present; a form shown again keeps the choices.
pub(super) async fn page_values(
    state: &AppState,
    actor: &peixun_store::Actor,
    d: &ClassDetail,
    can_record: bool,
    form: &FormData,
) -> AppResult<(Value, Value)> {
    let att: Vec<_> = d
        .attendance
        .iter()
        .map(|a| {
            let absentees: Vec<String> = a
                .marks
                .iter()
                .filter(|m| !m.present)
                .map(|m| format!("第{}行 {}", m.row_number, m.name))
                .chain(
                    a.unlinked_marks
                        .iter()
                        .filter(|m| !m.present)
                        .map(|m| m.trainee.clone()),
                )
                .collect();
            json!({
                "session_date": a.session_date.to_string(),
                "session_label": a.session_label,
                "present": a.present_count,
                "absent": a.absent_count,
                "marked": !a.marks.is_empty() || !a.unlinked_marks.is_empty(),
                "absentees": absentees.join("、"),
                "sheet": a.sign_in_file_id.is_some(),
                "by": a.recorded_by,
                "at": local(a.recorded_at),
            })
        })
        .collect();
    let roster = if can_record {
        class_roster(state, actor, d.class.id).await?
    } else {
        Vec::new()
    };
    let rows: Vec<_> = roster
        .iter()
        .map(|t| {
            let chosen = form.get(&format!("{MARK_PREFIX}{}", t.id));
            json!({
                "id": t.id,
                "row_number": t.row_number,
                "name": t.name,
                "id_number_masked": t.id_number_masked,
                "present": chosen != "absent",
            })
        })
        .collect();
    Ok((jv(att), jv(rows)))
}

/// The marks the form posted (`mark_<id>`), in form order; none when "sign-in sheet only" is
/// ticked. A value other than present/absent is refused.
fn marks_of(form: &FormData) -> Result<Vec<AttendanceMark>, AppError> {
    if form.checked("sheet_only") {
        return Ok(Vec::new());
    }
    let bad = || AppError::Validation {
        code: "RUN_MARK_INVALID".into(),
        message: "请为每位学员选择“出勤”或“缺勤”".into(),
        field: Some("marks".into()),
    };
    form.0
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(MARK_PREFIX).map(|id| (id, v)))
        .map(|(id, v)| {
            let roster_entry_id = id.parse::<i64>().map_err(|_| bad())?;
            let present = match v.as_str() {
                "present" => true,
                "absent" => false,
                _ => return Err(bad()),
            };
            Ok(AttendanceMark {
                roster_entry_id,
                present,
            })
        })
        .collect()
}

/// The attendance form's action: the sheet (if any) stored first, then the record.
pub(super) async fn record_from_form(
    state: &AppState,
    actor: &peixun_store::Actor,
    id: i64,
    form: &FormData,
    sheet: Option<&(String, Vec<u8>)>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let session_date = super::parse_date(form.get("session_date"), "session_date", "上课日期")?;
    let marks = marks_of(form)?;
    let sign_in_file_id = match sheet.filter(|(_, b)| !b.is_empty()) {
        Some((name, bytes)) => Some(
            running::put_signin_sheet(&state.store, &state.files, actor, id, bytes, name, now)
                .await
                .map_err(|e| refield(e.into(), "sign_in_file"))?
                .id,
        ),
        None => None,
    };
    attendance::record_attendance(
        &state.store,
        actor,
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
    Ok(())
}

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
) -> AppResult<Vec<TraineeView>> {
    match peixun_store::filing_package::package_of_filing(&state.store, actor, id).await? {
        Some(p) => Ok(peixun_store::roster::list_roster(&state.store, actor, p.id, false).await?),
        None => Ok(Vec::new()),
    }
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
