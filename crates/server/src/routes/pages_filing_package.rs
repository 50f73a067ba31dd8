//! Pages of the filing package (R-FIL-1…5, R-FIL-7, R-FIL-8), roster import (R-FIL-2, R-VAL-1,
//! S22) and the centre's review queue (R-FIL-5, R-RUN-2). No JavaScript: the schedule is a table
//! of repeated rows ("再加5行" submits and shows more), uploads are plain multipart forms, every
//! refusal shows the error summary at the top with a link to each field and the message beside
//! it, values kept.

use super::Registrar;
use super::api_filing_package::{package_download, upload};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::pages::{CsrfForm, FormData, Saved, no_errors, pager, render};
use crate::security::constant_time_eq;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, NaiveTime};
use minijinja::{Value, context};
use peixun_domain::filing::{DocumentKind, FilingProblem, Location, Mode};
use peixun_domain::schedule::Session;
use peixun_domain::workflow::class::{ClassState, CorrectionItem};
use peixun_store::filing_package::{self, PackageInput, PackageView, SubmitOutcome};
use peixun_store::roster::{self, ImportOutcome, ImportReport};
use peixun_store::{Actor, review};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

pub fn register(r: Registrar) -> Registrar {
    r.get("/packages", packages_list)
        .post("/agreements/{id}/packages", package_create)
        .get("/packages/{id}", package_page)
        .post("/packages/{id}", package_save)
        .add("POST", "/packages/{id}/files", upload(package_upload))
        .get("/packages/{id}/files/{kind}", package_file)
        .add("POST", "/packages/{id}/roster", upload(package_roster))
        .post("/packages/{id}/submit", package_submit)
        .post("/packages/{id}/return", package_return)
        .get("/filings/{id}/package", filing_package_redirect)
        .get(
            "/roster-template.xlsx",
            super::api_filing_package::roster_template_xlsx,
        )
        .get(
            "/roster-template.csv",
            super::api_filing_package::roster_template_csv,
        )
        .get("/review", review_page)
        .get("/review/export.xlsx", review_export)
        .post("/filings/{id}/roster-change/approve", roster_change_approve)
        .post("/filings/{id}/roster-change/reject", roster_change_reject)
}

/// A form error to show on the page again (validation, conflict), or the error itself.
pub(super) struct PageErr {
    pub errors: (Value, Value),
    pub status: axum::http::StatusCode,
}

pub(super) fn page_err(e: AppError, anchor: impl Fn(&str) -> String) -> AppResult<PageErr> {
    if !crate::pages::is_form_error(&e) {
        return Err(e);
    }
    Ok(PageErr {
        errors: crate::pages::form_errors(&e, anchor),
        status: e.status(),
    })
}

pub(super) fn with_status(
    resp: AppResult<Response>,
    status: Option<axum::http::StatusCode>,
) -> AppResult<Response> {
    let mut resp = resp?;
    if let Some(s) = status {
        *resp.status_mut() = s;
    }
    Ok(resp)
}

/// A time as Asia/Shanghai wall-clock minutes.
pub(super) fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("offset");
    t.with_timezone(&cst).format("%Y-%m-%d %H:%M").to_string()
}

pub(super) fn jv<T: serde::Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

/// The page anchor of a problem's field: `sessions[2].teacher` → `sessions-2-teacher`,
/// `documents.brochure` → `documents-brochure`, `teachers[0]` → `teachers`.
pub(super) fn anchor(field: &str) -> String {
    if field.starts_with("teachers") {
        return "teachers".into();
    }
    if field == "question_bank" {
        return "documents-question_bank".into();
    }
    if field == "mode" {
        return "location".into();
    }
    if field.is_empty() {
        return "main".into();
    }
    field
        .replace(['[', '.'], "-")
        .replace(']', "")
        .replace("--", "-")
}

/// A label for a field in the return-for-correction form and the correction list.
fn field_label(field: &str) -> String {
    let f = field.trim();
    if let Some(k) = f.strip_prefix("documents.") {
        return DocumentKind::ALL
            .into_iter()
            .find(|d| d.code() == k)
            .map_or(f.to_string(), |d| d.label_zh().to_string());
    }
    match f {
        "occupation" => "职业（工种）及等级".into(),
        "hours" => "培训课时".into(),
        "start_date" => "开班日期".into(),
        "planned_end" => "计划结束日期".into(),
        "location" => "培训地点".into(),
        "teachers" => "授课师资".into(),
        "sessions" => "课程表".into(),
        "exam_content" => "考试内容".into(),
        "question_bank" => "考试题库".into(),
        "roster" => "花名册".into(),
        other => other.to_string(),
    }
}

/// The fields the centre may name when returning a package (R-FIL-5).
fn return_fields() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = [
        "occupation",
        "hours",
        "start_date",
        "planned_end",
        "location",
        "teachers",
        "sessions",
        "exam_content",
        "question_bank",
        "roster",
    ]
    .iter()
    .map(|f| (f.to_string(), field_label(f)))
    .collect();
    for k in DocumentKind::ALL {
        v.push((format!("documents.{}", k.code()), k.label_zh().to_string()));
    }
    v
}

#[derive(Debug, Default)]
struct PageExtras {
    flash: Option<String>,
    errors: Option<(Value, Value)>,
    /// The form as submitted (kept on a refusal).
    form: Option<FormData>,
    extra_rows: usize,
    import_problems: Vec<serde_json::Value>,
    import_report: Option<ImportReport>,
    problems: Option<Vec<FilingProblem>>,
    return_form: Option<FormData>,
}

fn session_rows(v: &PackageView, form: Option<&FormData>, extra: usize) -> Vec<serde_json::Value> {
    let mut rows: Vec<serde_json::Value> = match form {
        Some(f) => {
            let dates = f.all("s_date");
            (0..dates.len())
                .map(|i| {
                    let g = |k: &str| f.all(k).get(i).cloned().unwrap_or_default();
                    json!({"date": g("s_date"), "start": g("s_start"), "end": g("s_end"),
                           "topic": g("s_topic"), "teacher": g("s_teacher"), "hours": g("s_hours")})
                })
                .collect()
        }
        None => v
            .sessions
            .iter()
            .map(|s| {
                json!({"date": s.date.to_string(), "start": s.start_time.format("%H:%M").to_string(),
                       "end": s.end_time.format("%H:%M").to_string(), "topic": s.topic,
                       "teacher": s.teacher_id.to_string(), "hours": s.hours.normalize().to_string()})
            })
            .collect(),
    };
    let blank =
        json!({"date": "", "start": "", "end": "", "topic": "", "teacher": "", "hours": ""});
    if rows.is_empty() {
        rows.extend(std::iter::repeat_n(blank.clone(), 3));
    }
    rows.extend(std::iter::repeat_n(blank, extra));
    rows.into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            r["i"] = json!(i);
            r
        })
        .collect()
}

async fn render_package(
    state: &AppState,
    user: &CurrentUser,
    actor: &Actor,
    id: i64,
    x: PageExtras,
) -> AppResult<Response> {
    let v = filing_package::get_package(&state.store, actor, id).await?;
    let own = user.role.is_institution() && actor.institution_id == Some(v.institution_id);
    let inst =
        peixun_store::institutions::get_institution(&state.store, actor, v.institution_id).await?;
    let teachers = peixun_store::teachers::list_teachers(
        &state.store,
        actor,
        v.institution_id,
        &peixun_store::PageRequest::first(500),
    )
    .await?
    .items;
    let addresses =
        peixun_store::requests::approved_addresses(&state.store, actor, v.institution_id).await?;
    let problems = match x.problems {
        Some(p) => p,
        None => filing_package::check_package(&state.store, actor, id, state.clock.now()).await?,
    };
    let blocking: Vec<serde_json::Value> = problems
        .iter()
        .filter(|p| p.is_blocking())
        .map(|p| json!({"field": anchor(&p.field), "message": p.message, "code": p.code}))
        .collect();
    let warnings: Vec<serde_json::Value> = problems
        .iter()
        .filter(|p| !p.is_blocking())
        .map(|p| json!({"field": anchor(&p.field), "message": p.message, "code": p.code}))
        .collect();
    let form = x.form.as_ref();
    let fv = |name: &str, default: String| -> String {
        match form {
            Some(f) => f.get(name).to_string(),
            None => default,
        }
    };
    let location_value = match (&v.mode, &v.location) {
        (Mode::Online, _) | (_, Some(Location::Online)) => "online".to_string(),
        (_, Some(Location::ApprovedAddress { address_id })) => format!("addr:{address_id}"),
        _ => "registered".to_string(),
    };
    let selected_teachers: Vec<String> = match form {
        Some(f) => f.all("teachers"),
        None => v.teachers.iter().map(|t| t.to_string()).collect(),
    };
    let filing_state = v.filing.as_ref().map(|f| f.state.clone());
    let may_review =
        user.role.is_centre() && matches!(filing_state, Some(ClassState::Submitted { .. }));
    let roster_review =
        user.role.is_centre() && matches!(filing_state, Some(ClassState::RosterReview { .. }));
    let may_roster = own
        && matches!(
            filing_state,
            None | Some(ClassState::Returned { .. })
                | Some(ClassState::Approved)
                | Some(ClassState::InTraining)
        );
    let trainees = roster::list_roster(&state.store, actor, id, false).await?;
    let pending = if v.pending_trainees > 0 {
        roster::list_roster(&state.store, actor, id, true).await?
    } else {
        Vec::new()
    };
    let corrections: Vec<serde_json::Value> = v
        .correction_items
        .iter()
        .map(|c| json!({"field": anchor(&c.field), "label": field_label(&c.field), "message": c.message}))
        .collect();
    let (errors, field_errors) = x.errors.unwrap_or_else(no_errors);
    let rf = x.return_form.unwrap_or_default();
    let return_rows: Vec<serde_json::Value> = {
        let fields = rf.all("item_field");
        let msgs = rf.all("item_message");
        let n = fields.len().max(3);
        (0..n)
            .map(|i| json!({"i": i, "field": fields.get(i).cloned().unwrap_or_default(), "message": msgs.get(i).cloned().unwrap_or_default()}))
            .collect()
    };
    let title = if v.occupation.is_empty() {
        format!("开班备案材料 第{}号", v.id)
    } else {
        format!("开班备案材料：{}（{}）", v.occupation, v.level)
    };
    render(
        state,
        Some(user),
        "/packages",
        "package_detail.html",
        &title,
        context! {
            pkg => jv(&v),
            institution => jv(json!({"name": inst.name, "registered_address": inst.registered_address})),
            scope => jv(inst.qualifications.iter().map(|q| json!({"value": format!("{}|{}", q.occupation, q.level), "label": format!("{}（{}）", q.occupation, q.level)})).collect::<Vec<_>>()),
            teachers => jv(teachers.iter().filter(|t| t.active).map(|t| json!({"id": t.id.to_string(), "name": t.name, "quals": t.qualifications.iter().map(|q| format!("{}（{}）", q.occupation, q.level)).collect::<Vec<_>>().join("、")})).collect::<Vec<_>>()),
            addresses => jv(addresses.iter().map(|(i, a)| json!({"value": format!("addr:{i}"), "label": a})).collect::<Vec<_>>()),
            f => jv(json!({
                "occupation": fv("occupation", if v.occupation.is_empty() { String::new() } else { format!("{}|{}", v.occupation, v.level) }),
                "hours": fv("hours", if v.hours.is_zero() { String::new() } else { v.hours.normalize().to_string() }),
                "start_date": fv("start_date", v.start_date.map(|d| d.to_string()).unwrap_or_default()),
                "planned_end": fv("planned_end", v.planned_end.map(|d| d.to_string()).unwrap_or_default()),
                "location": fv("location", location_value),
                "exam_content": fv("exam_content", v.exam_content.clone()),
            })),
            selected_teachers => jv(selected_teachers),
            sessions => jv(session_rows(&v, form, x.extra_rows)),
            editable => own && v.editable,
            own => own,
            may_roster => may_roster,
            may_reveal => roster::can_reveal_id_number(actor, v.institution_id),
            may_review => may_review,
            roster_review => roster_review,
            submitted => v.filing.is_some(),
            blocking => jv(blocking),
            warnings => jv(warnings),
            corrections => jv(corrections),
            trainees => jv(&trainees),
            pending => jv(&pending),
            import_problems => jv(&x.import_problems),
            import_report => jv(&x.import_report),
            return_fields => jv(return_fields().into_iter().map(|(v, l)| json!({"value": v, "label": l})).collect::<Vec<_>>()),
            return_rows => jv(return_rows),
            reject_reason => rf.get("reason").to_string(),
            flash => x.flash,
            errors => errors,
            field_errors => field_errors,
        },
    )
}

fn flash_text(saved: &Saved) -> Option<String> {
    Some(
        match saved.saved.as_deref()? {
            "created" => "已新建开班备案材料（草稿），可分次填写保存。",
            "saved" => "已保存。",
            "uploaded" => "材料已上传。",
            "imported" => "花名册已导入。",
            "returned" => "已退回修改，机构可在本页看到需修改的内容。",
            "roster_approved" => "已同意名册变更。",
            "roster_rejected" => "已不同意名册变更，原名册不变。",
            _ => "已保存。",
        }
        .to_string(),
    )
}

async fn packages_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let items = filing_package::list_packages(&state.store, &actor).await?;
    // Institutions: their agreements, to start a package under one.
    let agreements: Vec<serde_json::Value> = if user.role.is_institution() {
        let mut out = Vec::new();
        for r in peixun_store::rounds::list_rounds(&state.store, &actor)
            .await
            .unwrap_or_default()
        {
            for a in peixun_store::agreements::list_agreements(&state.store, &actor, r.id)
                .await
                .unwrap_or_default()
            {
                if a.institution_id == actor.institution_id.unwrap_or(-1) {
                    out.push(json!({"id": a.id, "label": format!("{}（协议第{}号，上限{}班）", r.label, a.id, a.cap)}));
                }
            }
        }
        out
    } else {
        Vec::new()
    };
    render(
        &state,
        Some(&user),
        "/packages",
        "packages_list.html",
        "开班备案材料",
        context! {
            items => jv(&items),
            agreements => jv(agreements),
            is_institution => user.role.is_institution(),
        },
    )
}

async fn package_create(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(agreement): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    let v = filing_package::create_package(
        &state.store,
        &user.actor(&ctx),
        agreement,
        state.clock.now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/packages/{}?saved=created", v.id)).into_response())
}

async fn package_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    render_package(
        &state,
        &user,
        &user.actor(&ctx),
        id,
        PageExtras {
            flash: flash_text(&saved),
            ..Default::default()
        },
    )
    .await
}

/// The package form → input; a row or value that cannot be read is a problem at its field.
fn parse_package(f: &FormData) -> (PackageInput, Vec<(String, String)>) {
    let mut problems: Vec<(String, String)> = Vec::new();
    let (occupation, level) = match f.get("occupation").split_once('|') {
        Some((o, l)) => (o.to_string(), l.to_string()),
        None => (String::new(), String::new()),
    };
    let hours = match f.get("hours").trim() {
        "" => Decimal::ZERO,
        s => s.parse().unwrap_or_else(|_| {
            problems.push(("hours".into(), format!("培训课时“{s}”不是数字")));
            Decimal::ZERO
        }),
    };
    let mut date = |name: &str, label: &str| -> Option<NaiveDate> {
        let s = f.get(name).trim();
        if s.is_empty() {
            return None;
        }
        match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push((
                    name.into(),
                    format!("{label}“{s}”不是有效日期（格式如 2026-04-01）"),
                ));
                None
            }
        }
    };
    let start_date = date("start_date", "开班日期");
    let planned_end = date("planned_end", "计划结束日期");
    let (location, mode) = match f.get("location") {
        "online" => (Some(Location::Online), Mode::Online),
        s if s.starts_with("addr:") => (
            s[5..]
                .parse()
                .ok()
                .map(|address_id| Location::ApprovedAddress { address_id }),
            Mode::Offline,
        ),
        _ => (Some(Location::RegisteredAddress), Mode::Offline),
    };
    let teachers: Vec<i64> = f
        .all("teachers")
        .iter()
        .filter_map(|t| t.parse().ok())
        .collect();
    let mut sessions = Vec::new();
    let dates = f.all("s_date");
    for i in 0..dates.len() {
        let g = |k: &str| f.all(k).get(i).cloned().unwrap_or_default();
        let cells = [
            g("s_date"),
            g("s_start"),
            g("s_end"),
            g("s_topic"),
            g("s_teacher"),
            g("s_hours"),
        ];
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let n = i + 1;
        let fld = |k: &str| format!("sessions[{i}].{k}");
        let d = NaiveDate::parse_from_str(cells[0].trim(), "%Y-%m-%d").ok();
        if d.is_none() {
            problems.push((
                fld("date"),
                format!("课程表第{n}行：请填写日期（如 2026-04-01）"),
            ));
        }
        let t = |s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(s.trim(), "%H:%M:%S"))
                .ok()
        };
        let st = t(&cells[1]);
        let et = t(&cells[2]);
        if st.is_none() {
            problems.push((
                fld("start_time"),
                format!("课程表第{n}行：开始时间须为“时:分”，如 09:00"),
            ));
        }
        if et.is_none() {
            problems.push((
                fld("end_time"),
                format!("课程表第{n}行：结束时间须为“时:分”，如 12:00"),
            ));
        }
        let teacher: Option<i64> = cells[4].trim().parse().ok();
        if teacher.is_none() {
            problems.push((fld("teacher"), format!("课程表第{n}行：请选择授课教师")));
        }
        let h: Option<Decimal> = cells[5].trim().parse().ok();
        if h.is_none() {
            problems.push((fld("hours"), format!("课程表第{n}行：课时须为数字")));
        }
        if let (Some(date), Some(start_time), Some(end_time), Some(teacher_id), Some(hours)) =
            (d, st, et, teacher, h)
        {
            sessions.push(Session {
                date,
                start_time,
                end_time,
                topic: cells[3].trim().to_string(),
                teacher_id,
                hours,
            });
        }
    }
    (
        PackageInput {
            occupation,
            level,
            hours,
            start_date,
            planned_end,
            location,
            mode,
            teachers,
            sessions,
            exam_content: f.get("exam_content").to_string(),
        },
        problems,
    )
}

fn problems_value(items: &[(String, String)]) -> (Value, Value) {
    let mut map = std::collections::BTreeMap::<String, String>::new();
    let errors: Vec<Value> = items
        .iter()
        .map(|(f, m)| {
            let a = anchor(f);
            map.entry(a.clone())
                .and_modify(|x| {
                    x.push('；');
                    x.push_str(m);
                })
                .or_insert(m.clone());
            context! { field => a, message => m }
        })
        .collect();
    (Value::from(errors), Value::from(map))
}

async fn package_save(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let (input, problems) = parse_package(&form);
    if form.get("action") == "add_rows" {
        // More schedule rows: the form comes back with everything kept, nothing saved yet.
        return render_package(
            &state,
            &user,
            &actor,
            id,
            PageExtras {
                errors: (!problems.is_empty()).then(|| problems_value(&problems)),
                form: Some(form),
                extra_rows: 5,
                ..Default::default()
            },
        )
        .await;
    }
    if !problems.is_empty() {
        // S6 first: only the owner sees its form again.
        filing_package::get_package(&state.store, &actor, id).await?;
        if !user.role.is_institution() {
            return Err(AppError::Forbidden("只有培训机构可以修改".into()));
        }
        return with_status(
            render_package(
                &state,
                &user,
                &actor,
                id,
                PageExtras {
                    errors: Some(problems_value(&problems)),
                    form: Some(form),
                    ..Default::default()
                },
            )
            .await,
            Some(axum::http::StatusCode::UNPROCESSABLE_ENTITY),
        );
    }
    match filing_package::update_package(&state.store, &actor, id, &input, state.clock.now()).await
    {
        Ok(_) => Ok(Redirect::to(&format!("/packages/{id}?saved=saved")).into_response()),
        Err(e) => {
            let pe = page_err(e.into(), anchor)?;
            with_status(
                render_package(
                    &state,
                    &user,
                    &actor,
                    id,
                    PageExtras {
                        errors: Some(pe.errors),
                        form: Some(form),
                        ..Default::default()
                    },
                )
                .await,
                Some(pe.status),
            )
        }
    }
}

/// The multipart body, or why it is not one (checked after the access check, so another
/// institution's record answers 403 whatever the body).
pub(super) type MultipartResult = Result<Multipart, axum::extract::multipart::MultipartRejection>;

/// The package if `user` is one of its institution's users (S6), before any upload is read.
async fn own_package(
    state: &AppState,
    user: &CurrentUser,
    actor: &Actor,
    id: i64,
) -> AppResult<()> {
    let v = filing_package::get_package(&state.store, actor, id).await?;
    if !(user.role.is_institution() && actor.institution_id == Some(v.institution_id)) {
        return Err(AppError::Forbidden("只能修改本机构的开班备案材料".into()));
    }
    Ok(())
}

/// A multipart form: its text fields, and the first file (name, bytes). The CSRF token is
/// checked like [`CsrfForm`] does (S19).
pub(super) async fn read_multipart(
    user: &CurrentUser,
    mp: MultipartResult,
) -> AppResult<(FormData, Vec<(String, String, Vec<u8>)>)> {
    let mut mp =
        mp.map_err(|e| AppError::BadRequest(format!("请以文件上传表单提交：{}", e.body_text())))?;
    let mut fields = Vec::new();
    let mut files = Vec::new();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("上传内容无法读取：{e}")))?
    {
        let name = field.name().unwrap_or_default().to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(|_| AppError::TooLarge)?;
                files.push((name, file_name, bytes.to_vec()));
            }
            None => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| AppError::BadRequest(format!("表单无法读取：{e}")))?;
                fields.push((name, text));
            }
        }
    }
    let form = FormData(fields);
    if !constant_time_eq(form.get("csrf_token"), &user.csrf_token) {
        return Err(AppError::Csrf("form token"));
    }
    Ok((form, files))
}

async fn package_upload(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    mp: MultipartResult,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    own_package(&state, &user, &actor, id).await?;
    let (form, files) = read_multipart(&user, mp).await?;
    let kind = form.get("kind").to_string();
    let (name, bytes) = files
        .into_iter()
        .find(|f| f.0 == "file")
        .map(|f| (f.1, f.2))
        .unwrap_or_default();
    let res = filing_package::attach_file(
        &state.store,
        &state.files,
        &actor,
        id,
        &kind,
        &bytes,
        &name,
        state.clock.now(),
    )
    .await;
    match res {
        Ok(_) => {
            Ok(Redirect::to(&format!("/packages/{id}?saved=uploaded#documents")).into_response())
        }
        Err(e) => {
            let pe = page_err(e.into(), |f| {
                if f == "file" || f.is_empty() {
                    format!("documents-{kind}")
                } else {
                    format!("documents-{f}")
                }
            })?;
            with_status(
                render_package(
                    &state,
                    &user,
                    &actor,
                    id,
                    PageExtras {
                        errors: Some(pe.errors),
                        ..Default::default()
                    },
                )
                .await,
                Some(pe.status),
            )
        }
    }
}

async fn package_file(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
) -> AppResult<Response> {
    package_download(&state, &user, &ctx, id, &kind).await
}

async fn package_roster(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    mp: MultipartResult,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    own_package(&state, &user, &actor, id).await?;
    let (_form, files) = read_multipart(&user, mp).await?;
    let bytes = files
        .into_iter()
        .find(|f| f.0 == "file")
        .map(|f| f.2)
        .unwrap_or_default();
    let res = roster::import_roster(
        &state.store,
        &actor,
        &state.roster_key,
        id,
        &bytes,
        None,
        state.clock.now(),
    )
    .await;
    match res {
        Ok(ImportOutcome::Imported(report)) => {
            render_package(
                &state,
                &user,
                &actor,
                id,
                PageExtras {
                    flash: Some(if report.pending_review {
                        format!(
                            "已导入{}人，名册变更已提交区培训中心审核。",
                            report.imported
                        )
                    } else {
                        format!("已导入{}人，原花名册已整体替换。", report.imported)
                    }),
                    import_report: Some(report),
                    ..Default::default()
                },
            )
            .await
        }
        Ok(ImportOutcome::Refused { problems }) => {
            let n = problems.len();
            let rows: Vec<serde_json::Value> = problems
                .iter()
                .map(|p| json!({"row": p.row_number, "column": p.column.unwrap_or(""), "message": p.message}))
                .collect();
            let summary = vec![context! {
                field => "roster",
                message => format!("花名册有{n}处问题（见下表），未导入任何数据，原花名册不变"),
            }];
            let mut map = std::collections::BTreeMap::new();
            map.insert(
                "roster".to_string(),
                format!("花名册有{n}处问题，请修改后重新上传"),
            );
            with_status(
                render_package(
                    &state,
                    &user,
                    &actor,
                    id,
                    PageExtras {
                        errors: Some((Value::from(summary), Value::from(map))),
                        import_problems: rows,
                        ..Default::default()
                    },
                )
                .await,
                Some(axum::http::StatusCode::UNPROCESSABLE_ENTITY),
            )
        }
        Err(e) => {
            let pe = page_err(e.into(), |_| "roster".into())?;
            with_status(
                render_package(
                    &state,
                    &user,
                    &actor,
                    id,
                    PageExtras {
                        errors: Some(pe.errors),
                        ..Default::default()
                    },
                )
                .await,
                Some(pe.status),
            )
        }
    }
}

async fn package_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    match filing_package::submit_package(&state.store, &actor, id, state.clock.now()).await {
        Ok(SubmitOutcome::Submitted { package, .. }) => {
            let fid = package.filing_id.unwrap_or_default();
            Ok(Redirect::to(&format!("/filings/{fid}?saved=filed")).into_response())
        }
        Ok(SubmitOutcome::Refused { problems }) => {
            let blocking: Vec<(String, String)> = problems
                .iter()
                .filter(|p| p.is_blocking())
                .map(|p| (p.field.clone(), p.message.clone()))
                .collect();
            with_status(
                render_package(
                    &state,
                    &user,
                    &actor,
                    id,
                    PageExtras {
                        errors: Some(problems_value(&blocking)),
                        problems: Some(problems),
                        ..Default::default()
                    },
                )
                .await,
                Some(axum::http::StatusCode::UNPROCESSABLE_ENTITY),
            )
        }
        Err(e) => {
            let pe = page_err(e.into(), anchor)?;
            with_status(
                render_package(
                    &state,
                    &user,
                    &actor,
                    id,
                    PageExtras {
                        errors: Some(pe.errors),
                        ..Default::default()
                    },
                )
                .await,
                Some(pe.status),
            )
        }
    }
}

/// The centre returns the package's filing for correction, item by item (R-FIL-5).
async fn package_return(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let v = filing_package::get_package(&state.store, &actor, id).await?;
    let Some(fid) = v.filing_id else {
        return Err(AppError::validation(
            "NOT_SUBMITTED",
            "该备案材料尚未提交",
            Some("items"),
        ));
    };
    let items: Vec<CorrectionItem> = super::api_filing_package::correction_items(
        &form.all("item_field"),
        &form.all("item_message"),
    );
    match review::return_for_correction(&state.store, &actor, fid, items, state.clock.now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/packages/{id}?saved=returned")).into_response()),
        Err(e) => {
            let pe = page_err(e.into(), |f| {
                if f.starts_with("items[") {
                    f.replace(['[', '.'], "-")
                        .replace(']', "")
                        .replace("--", "-")
                } else {
                    "items".into()
                }
            })?;
            with_status(
                render_package(
                    &state,
                    &user,
                    &actor,
                    id,
                    PageExtras {
                        errors: Some(pe.errors),
                        return_form: Some(form),
                        ..Default::default()
                    },
                )
                .await,
                Some(pe.status),
            )
        }
    }
}

async fn filing_package_redirect(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    match filing_package::package_of_filing(&state.store, &user.actor(&ctx), id).await? {
        Some(p) => Ok(Redirect::to(&format!("/packages/{}", p.id)).into_response()),
        None => Err(AppError::NotFound("该备案的开班备案材料".into())),
    }
}

#[derive(Debug, Deserialize)]
struct PageQ {
    page: Option<u64>,
}

async fn review_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<PageQ>,
) -> AppResult<Response> {
    let page = q.page.unwrap_or(1).max(1);
    let req = super::forms::page_request(Some(page), Some(20));
    let p = review::review_queue(&state.store, &user.actor(&ctx), &req).await?;
    let items: Vec<serde_json::Value> = p
        .items
        .iter()
        .map(|i| {
            json!({
                "filing_id": i.filing.id,
                "package_id": i.package_id,
                "institution": i.institution_name,
                "kind": if i.kind == "roster_change" { "名册变更" } else if matches!(i.filing.state, ClassState::Submitted { resubmissions, .. } if resubmissions > 0) { "重新提交" } else { "开班备案" },
                "occupation": format!("{}（{}）", i.filing.occupation, i.filing.level),
                "start_date": i.filing.start_date.to_string(),
                "submitted_at": local(i.filing.submitted_at),
                "queue_seq": i.filing.queue_seq,
                "slot": i.filing.status_label,
                "trainees": i.trainees,
                "pending_trainees": i.pending_trainees,
                "blocking": i.blocking,
                "warnings": i.warnings,
                "problems": i.problems.iter().take(3).map(|p| p.message.clone()).collect::<Vec<_>>(),
                "more": i.problems.len().saturating_sub(3),
            })
        })
        .collect();
    render(
        &state,
        Some(&user),
        "/review",
        "review_queue.html",
        "备案审核（按提交先后）",
        context! {
            items => jv(items),
            pager => pager("/review", &[], page, 20, p.total),
        },
    )
}

async fn review_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let p = review::review_queue(
        &state.store,
        &actor,
        &super::forms::page_request(Some(1), Some(peixun_store::PageRequest::MAX_PER_PAGE)),
    )
    .await?;
    let rows: Vec<Vec<String>> = p
        .items
        .iter()
        .map(|i| {
            vec![
                i.filing.id.to_string(),
                i.institution_name.clone(),
                if i.kind == "roster_change" {
                    "名册变更".into()
                } else {
                    "开班备案".into()
                },
                format!("{}（{}）", i.filing.occupation, i.filing.level),
                i.filing.start_date.to_string(),
                local(i.filing.submitted_at),
                i.filing.queue_seq.to_string(),
                i.filing.status_label.clone(),
                i.trainees.to_string(),
                i.blocking.to_string(),
                i.warnings.to_string(),
                i.problems
                    .iter()
                    .map(|p| p.message.clone())
                    .collect::<Vec<_>>()
                    .join("；"),
            ]
        })
        .collect();
    let bytes = crate::export::workbook(
        "备案审核",
        &[
            "备案编号",
            "培训机构",
            "类型",
            "职业（工种）",
            "开班日期",
            "提交时间",
            "排队序号",
            "状态",
            "花名册人数",
            "阻断问题",
            "提示",
            "问题摘要",
        ],
        &rows,
    )?;
    crate::export::audit_export(
        &state,
        &user,
        &ctx,
        "review",
        "filing",
        json!({ "rows": rows.len() }),
    )
    .await?;
    Ok(crate::export::xlsx_response(
        bytes,
        "review-queue.xlsx",
        "备案审核队列.xlsx",
    ))
}

async fn roster_change_decide(
    state: AppState,
    user: CurrentUser,
    ctx: RequestCtx,
    fid: i64,
    approve: bool,
    form: FormData,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let pkg = filing_package::package_of_filing(&state.store, &actor, fid).await?;
    let res = review::decide_roster_change(
        &state.store,
        &actor,
        fid,
        approve,
        form.get("reason"),
        state.clock.now(),
    )
    .await;
    let Some(p) = pkg else {
        res?;
        return Ok(Redirect::to(&format!("/filings/{fid}")).into_response());
    };
    match res {
        Ok(_) => Ok(Redirect::to(&format!(
            "/packages/{}?saved={}",
            p.id,
            if approve {
                "roster_approved"
            } else {
                "roster_rejected"
            }
        ))
        .into_response()),
        Err(e) => {
            let pe = page_err(e.into(), |_| "roster_reason".into())?;
            with_status(
                render_package(
                    &state,
                    &user,
                    &actor,
                    p.id,
                    PageExtras {
                        errors: Some(pe.errors),
                        ..Default::default()
                    },
                )
                .await,
                Some(pe.status),
            )
        }
    }
}

async fn roster_change_approve(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    roster_change_decide(state, user, ctx, id, true, form).await
}

async fn roster_change_reject(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    roster_change_decide(state, user, ctx, id, false, form).await
}
