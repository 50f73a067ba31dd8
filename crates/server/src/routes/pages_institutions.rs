//! Pages: the institution directory (list, filters, export, detail, create/edit) and teachers.

use super::Registrar;
use super::forms::{
    FORM_ROWS, MAJOR_PROJECTS, anchor_for, institution_filter, institution_input, page_request,
    teacher_input,
};
use crate::AppState;
use crate::api_types::InstitutionQuery;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::export::{self, MAX_EXPORT_ROWS};
use crate::pages::{
    CsrfForm, FormData, Saved, form_errors, is_form_error, no_errors, pager, query_string, render,
};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::{Serde, Value};
use peixun_store::institutions::{self, InstitutionStatus, InstitutionView};
use peixun_store::teachers::{self, TeacherView};
use peixun_store::{Actor, PageRequest};
use serde::Deserialize;

pub fn register(r: Registrar) -> Registrar {
    r.get("/institutions", list)
        .get("/institutions/export.xlsx", export_xlsx)
        .get("/institutions/new", new_form)
        .post("/institutions/new", create)
        .get("/institutions/{id}", detail)
        .get("/institutions/{id}/edit", edit_form)
        .post("/institutions/{id}/edit", update)
        .get("/institutions/{id}/teachers", teachers_list)
        .get("/institutions/{id}/teachers/export.xlsx", teachers_export)
        .get("/institutions/{id}/teachers/new", teacher_new_form)
        .post("/institutions/{id}/teachers/new", teacher_create)
        .get("/teachers/{id}/edit", teacher_edit_form)
        .post("/teachers/{id}/edit", teacher_update)
        .get("/teachers/{id}/reveal", teacher_reveal_form)
        .post("/teachers/{id}/reveal", teacher_reveal)
}

fn statuses() -> Value {
    Value::from(
        [InstitutionStatus::Active, InstitutionStatus::Suspended]
            .iter()
            .map(|s| context! { code => s.code(), label => s.label_zh() })
            .collect::<Vec<_>>(),
    )
}

/// An institution for the templates (the view plus the status label).
pub fn institution_value(v: &InstitutionView) -> Value {
    let mut j = serde_json::to_value(v).unwrap_or_default();
    if let Some(o) = j.as_object_mut() {
        o.insert("status_label".into(), v.status.label_zh().into());
    }
    Value::from(Serde(j))
}

fn teacher_values(items: &[TeacherView]) -> Value {
    Value::from(Serde(items))
}

/// The directory page's query: checkboxes send `1`, so `major_only` is read as text.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    major_only: Option<String>,
    status: Option<String>,
    occupation: Option<String>,
    page: Option<u64>,
}

impl ListQuery {
    fn to_api(&self) -> InstitutionQuery {
        InstitutionQuery {
            q: self.q.clone(),
            major_only: Some(matches!(
                self.major_only.as_deref(),
                Some("1" | "true" | "on")
            )),
            status: self.status.clone(),
            occupation: self.occupation.clone(),
            page: self.page,
            per_page: None,
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let api = self.to_api();
        vec![
            ("q", self.q.clone().unwrap_or_default()),
            (
                "major_only",
                if api.major_only == Some(true) {
                    "1".into()
                } else {
                    String::new()
                },
            ),
            ("status", self.status.clone().unwrap_or_default()),
            ("occupation", self.occupation.clone().unwrap_or_default()),
        ]
    }
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let api = q.to_api();
    let filter = institution_filter(&api)?;
    let page = page_request(q.page, None);
    let res =
        institutions::list_institutions(&state.store, &user.actor(&ctx), &filter, &page).await?;
    let params = q.params();
    let items: Vec<Value> = res.items.iter().map(institution_value).collect();
    let export_href = match query_string(&params) {
        s if s.is_empty() => "/institutions/export.xlsx".to_string(),
        s => format!("/institutions/export.xlsx?{s}"),
    };
    let title = if user.role.is_institution() {
        "本机构信息"
    } else {
        "培训机构目录"
    };
    render(
        &state,
        Some(&user),
        "/institutions",
        "institutions_list.html",
        title,
        context! {
            items,
            filter => context! {
                q => q.q.clone().unwrap_or_default(),
                major_only => api.major_only.unwrap_or(false),
                status => q.status.clone().unwrap_or_default(),
                occupation => q.occupation.clone().unwrap_or_default(),
            },
            statuses => statuses(),
            can_create => user.role.is_centre(),
            export_href,
            pager => pager("/institutions", &params, page.page.unwrap_or(1), res.per_page, res.total),
        },
    )
}

async fn export_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let filter = institution_filter(&q.to_api())?;
    let actor = user.actor(&ctx);
    let mut rows = Vec::new();
    let mut page_no = 1;
    loop {
        let page = PageRequest {
            after_id: None,
            page: Some(page_no),
            per_page: PageRequest::MAX_PER_PAGE,
        };
        let res = institutions::list_institutions(&state.store, &actor, &filter, &page).await?;
        let n = res.items.len();
        for v in res.items {
            rows.push(vec![
                v.id.to_string(),
                v.name,
                v.credit_code,
                v.registered_address,
                v.district,
                v.contact_person,
                v.contact_phone,
                v.qualifications
                    .iter()
                    .map(|q| format!("{}（{}）", q.occupation, q.level))
                    .collect::<Vec<_>>()
                    .join("、"),
                v.major_projects.join("、"),
                v.status.label_zh().to_string(),
            ]);
        }
        if n < PageRequest::MAX_PER_PAGE as usize || rows.len() >= MAX_EXPORT_ROWS {
            break;
        }
        page_no += 1;
    }
    let bytes = export::workbook(
        "培训机构",
        &[
            "编号",
            "机构名称",
            "统一社会信用代码",
            "注册地址",
            "所在区",
            "联系人",
            "联系电话",
            "培训资质",
            "重大工程",
            "状态",
        ],
        &rows,
    )?;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "institutions",
        "institution",
        serde_json::json!({ "filter": filter, "rows": rows.len() }),
    )
    .await?;
    Ok(export::xlsx_response(
        bytes,
        "institutions.xlsx",
        "培训机构目录.xlsx",
    ))
}

async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(saved): ApiQuery<Saved>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let inst = institutions::get_institution(&state.store, &actor, id).await?;
    let t = teachers::list_teachers(&state.store, &actor, id, &PageRequest::first(100)).await?;
    // R-VIO-1: its violations (an institution sees its own confirmed ones, S6).
    let vs = peixun_store::violations::list_violations(
        &state.store,
        &actor,
        &peixun_store::violations::ViolationFilter {
            state: None,
            institution_id: Some(id),
        },
        &PageRequest::first(100),
    )
    .await?;
    let violations: Vec<_> = vs
        .items
        .iter()
        .map(super::violations::violation_value)
        .collect();
    render(
        &state,
        Some(&user),
        "/institutions",
        "institution_detail.html",
        &inst.name,
        context! {
            institution => institution_value(&inst),
            teachers => teacher_values(&t.items),
            can_edit => user.role.is_centre(),
            can_edit_teachers => teachers::can_manage_teachers(&actor, id),
            violations => Value::from(minijinja::value::Serde(violations)),
            can_record_violation => user.role.is_centre(),
            flash => saved.flash(),
        },
    )
}

fn quals_rows(quals: Vec<Value>) -> Vec<Value> {
    let mut rows = quals;
    let want = (rows.len() + 2).max(FORM_ROWS);
    while rows.len() < want {
        rows.push(context! { occupation => "", level => "", certificate_no => "" });
    }
    rows
}

fn institution_form_value(f: &FormData) -> Value {
    let (input, _) = institution_input(f);
    let quals = input
        .qualifications
        .iter()
        .map(|q| context! { occupation => q.occupation.clone(), level => q.level.clone() })
        .collect();
    context! {
        name => input.name,
        credit_code => input.credit_code,
        confirm_credit_code => input.confirm_checksum_warning,
        registered_address => input.registered_address,
        district => input.district.unwrap_or_default(),
        contact_person => input.contact_person,
        contact_phone => input.contact_phone,
        status => f.get("status"),
        major_projects => input.major_projects,
        qualifications => quals_rows(quals),
    }
}

fn view_form_value(v: &InstitutionView) -> Value {
    let quals = v
        .qualifications
        .iter()
        .map(|q| context! { occupation => q.occupation.clone(), level => q.level.clone() })
        .collect();
    context! {
        name => v.name.clone(),
        credit_code => v.credit_code.clone(),
        confirm_credit_code => v.credit_code_warning_confirmed,
        registered_address => v.registered_address.clone(),
        district => v.district.clone(),
        contact_person => v.contact_person.clone(),
        contact_phone => v.contact_phone.clone(),
        status => v.status.code(),
        major_projects => v.major_projects.clone(),
        qualifications => quals_rows(quals),
    }
}

#[allow(clippy::too_many_arguments)]
fn render_institution_form(
    state: &AppState,
    user: &CurrentUser,
    title: &str,
    action: &str,
    cancel_href: &str,
    form: Value,
    errors: (Value, Value),
    show_confirm: bool,
) -> AppResult<Response> {
    render(
        state,
        Some(user),
        "/institutions",
        "institution_form.html",
        title,
        context! {
            action, cancel_href, form, show_confirm,
            errors => errors.0,
            field_errors => errors.1,
            statuses => statuses(),
            levels => institutions::LEVELS.to_vec(),
            major_options => MAJOR_PROJECTS.to_vec(),
        },
    )
}

async fn new_form(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let form = institution_form_value(&FormData(vec![
        ("status".into(), "active".into()),
        ("district".into(), institutions::DEFAULT_DISTRICT.into()),
    ]));
    render_institution_form(
        &state,
        &user,
        "新增培训机构",
        "/institutions/new",
        "/institutions",
        form,
        no_errors(),
        false,
    )
}

/// Shows the form again with the error (422/409), keeping what was typed.
fn institution_form_error(
    state: &AppState,
    user: &CurrentUser,
    title: &str,
    action: &str,
    cancel_href: &str,
    form: &FormData,
    e: AppError,
) -> AppResult<Response> {
    let show_confirm = form.checked("confirm_credit_code")
        || e.body()
            .errors
            .iter()
            .any(|p| p.code == "CREDIT_CODE_CHECKSUM");
    let errors = form_errors(&e, anchor_for);
    let mut resp = render_institution_form(
        state,
        user,
        title,
        action,
        cancel_href,
        institution_form_value(form),
        errors,
        show_confirm,
    )?;
    *resp.status_mut() = e.status();
    Ok(resp)
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let (input, _) = institution_input(&form);
    match institutions::create_institution(
        &state.store,
        &user.actor(&ctx),
        &input,
        state.clock.now(),
    )
    .await
    {
        Ok(v) => Ok(Redirect::to(&format!("/institutions/{}?saved=1", v.id)).into_response()),
        Err(e) => {
            let e = AppError::from(e);
            if !is_form_error(&e) {
                return Err(e);
            }
            institution_form_error(
                &state,
                &user,
                "新增培训机构",
                "/institutions/new",
                "/institutions",
                &form,
                e,
            )
        }
    }
}

async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let v = institutions::get_institution(&state.store, &user.actor(&ctx), id).await?;
    render_institution_form(
        &state,
        &user,
        &format!("修改：{}", v.name),
        &format!("/institutions/{id}/edit"),
        &format!("/institutions/{id}"),
        view_form_value(&v),
        no_errors(),
        v.credit_code_warning_confirmed,
    )
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let (input, _) = institution_input(&form);
    match institutions::update_institution(
        &state.store,
        &user.actor(&ctx),
        id,
        &input,
        state.clock.now(),
    )
    .await
    {
        Ok(v) => Ok(Redirect::to(&format!("/institutions/{}?saved=1", v.id)).into_response()),
        Err(e) => {
            let e = AppError::from(e);
            if !is_form_error(&e) {
                return Err(e);
            }
            institution_form_error(
                &state,
                &user,
                "修改培训机构",
                &format!("/institutions/{id}/edit"),
                &format!("/institutions/{id}"),
                &form,
                e,
            )
        }
    }
}

// ---- teachers -------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct PageOnly {
    page: Option<u64>,
    saved: Option<String>,
}

async fn teachers_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageOnly>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let inst = institutions::get_institution(&state.store, &actor, id).await?;
    let page = page_request(q.page, None);
    let res = teachers::list_teachers(&state.store, &actor, id, &page).await?;
    let path = format!("/institutions/{id}/teachers");
    render(
        &state,
        Some(&user),
        "/institutions",
        "teachers_list.html",
        &format!("{} — 授课师资", inst.name),
        context! {
            institution => institution_value(&inst),
            items => teacher_values(&res.items),
            can_edit => teachers::can_manage_teachers(&actor, id),
            pager => pager(&path, &[], page.page.unwrap_or(1), res.per_page, res.total),
            flash => Saved { saved: q.saved.clone() }.flash(),
        },
    )
}

async fn teachers_export(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let inst = institutions::get_institution(&state.store, &actor, id).await?;
    let mut rows = Vec::new();
    let mut page_no = 1;
    loop {
        let page = PageRequest {
            after_id: None,
            page: Some(page_no),
            per_page: PageRequest::MAX_PER_PAGE,
        };
        let res = teachers::list_teachers(&state.store, &actor, id, &page).await?;
        let n = res.items.len();
        for t in res.items {
            rows.push(vec![
                t.id.to_string(),
                t.name,
                t.id_number_masked,
                t.phone,
                t.qualifications
                    .iter()
                    .map(|q| format!("{}（{}）{}", q.occupation, q.level, q.certificate_no))
                    .collect::<Vec<_>>()
                    .join("、"),
                if t.active { "在岗" } else { "停用" }.to_string(),
            ]);
        }
        if n < PageRequest::MAX_PER_PAGE as usize || rows.len() >= MAX_EXPORT_ROWS {
            break;
        }
        page_no += 1;
    }
    let bytes = export::workbook(
        "授课师资",
        &[
            "编号",
            "姓名",
            "身份证号（脱敏）",
            "联系电话",
            "资质",
            "状态",
        ],
        &rows,
    )?;
    export::audit_export(
        &state,
        &user,
        &ctx,
        "teachers",
        "institution",
        serde_json::json!({ "institution_id": inst.id, "rows": rows.len() }),
    )
    .await?;
    Ok(export::xlsx_response(
        bytes,
        "teachers.xlsx",
        "授课师资.xlsx",
    ))
}

fn teacher_form_value(f: &FormData, masked: &str) -> Value {
    let (input, _) = teacher_input(f);
    let quals = input
        .qualifications
        .iter()
        .map(|q| context! { occupation => q.occupation.clone(), level => q.level.clone(), certificate_no => q.certificate_no.clone() })
        .collect();
    context! {
        name => input.name,
        id_number => input.id_number,
        id_number_masked => masked,
        phone => input.phone,
        active => input.active,
        qualifications => quals_rows(quals),
    }
}

fn teacher_view_form_value(t: &TeacherView) -> Value {
    let quals = t
        .qualifications
        .iter()
        .map(|q| context! { occupation => q.occupation.clone(), level => q.level.clone(), certificate_no => q.certificate_no.clone() })
        .collect();
    context! {
        name => t.name.clone(),
        id_number => "",
        id_number_masked => t.id_number_masked.clone(),
        phone => t.phone.clone(),
        active => t.active,
        qualifications => quals_rows(quals),
    }
}

#[allow(clippy::too_many_arguments)]
fn render_teacher_form(
    state: &AppState,
    user: &CurrentUser,
    institution: &InstitutionView,
    title: &str,
    action: &str,
    is_new: bool,
    form: Value,
    errors: (Value, Value),
) -> AppResult<Response> {
    render(
        state,
        Some(user),
        "/institutions",
        "teacher_form.html",
        title,
        context! {
            institution => institution_value(institution),
            action, is_new, form,
            cancel_href => format!("/institutions/{}/teachers", institution.id),
            levels => institutions::LEVELS.to_vec(),
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

/// May this actor manage this institution's teachers? Checked before showing a form, so that a
/// form is never shown for another institution (S6); the store checks again on save.
fn require_manage(actor: &Actor, institution_id: i64) -> AppResult<()> {
    if teachers::can_manage_teachers(actor, institution_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "teachers of another institution".into(),
        ))
    }
}

async fn teacher_new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    require_manage(&actor, id)?;
    let inst = institutions::get_institution(&state.store, &actor, id).await?;
    let form = teacher_form_value(&FormData(vec![("active".into(), "1".into())]), "");
    render_teacher_form(
        &state,
        &user,
        &inst,
        "新增师资",
        &format!("/institutions/{id}/teachers/new"),
        true,
        form,
        no_errors(),
    )
}

async fn teacher_create(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    require_manage(&actor, id)?;
    let inst = institutions::get_institution(&state.store, &actor, id).await?;
    let (input, _) = teacher_input(&form);
    match teachers::create_teacher(&state.store, &actor, id, &input, state.clock.now()).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/institutions/{id}/teachers?saved=created")).into_response())
        }
        Err(e) => {
            let e = AppError::from(e);
            if !is_form_error(&e) {
                return Err(e);
            }
            let errors = form_errors(&e, anchor_for);
            let mut resp = render_teacher_form(
                &state,
                &user,
                &inst,
                "新增师资",
                &format!("/institutions/{id}/teachers/new"),
                true,
                teacher_form_value(&form, ""),
                errors,
            )?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
    }
}

async fn teacher_edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let t = teachers::get_teacher(&state.store, &actor, id).await?;
    require_manage(&actor, t.institution_id)?;
    let inst = institutions::get_institution(&state.store, &actor, t.institution_id).await?;
    render_teacher_form(
        &state,
        &user,
        &inst,
        &format!("修改师资：{}", t.name),
        &format!("/teachers/{id}/edit"),
        false,
        teacher_view_form_value(&t),
        no_errors(),
    )
}

async fn teacher_update(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let t = teachers::get_teacher(&state.store, &actor, id).await?;
    require_manage(&actor, t.institution_id)?;
    let (input, _) = teacher_input(&form);
    // An empty ID number keeps the stored one (the page shows it masked only, R-PII-1).
    let result = teachers::update_teacher(&state.store, &actor, id, &input, state.clock.now())
        .await
        .map_err(AppError::from);
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/institutions/{}/teachers?saved=1",
            t.institution_id
        ))
        .into_response()),
        Err(e) => {
            if !is_form_error(&e) {
                return Err(e);
            }
            let inst =
                institutions::get_institution(&state.store, &actor, t.institution_id).await?;
            let errors = form_errors(&e, anchor_for);
            let mut resp = render_teacher_form(
                &state,
                &user,
                &inst,
                &format!("修改师资：{}", t.name),
                &format!("/teachers/{id}/edit"),
                false,
                teacher_form_value(&form, &t.id_number_masked),
                errors,
            )?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
    }
}

// ---- revealing a full ID number (R-PII-1) ---------------------------------------------------------

fn render_reveal(
    state: &AppState,
    user: &CurrentUser,
    t: &TeacherView,
    id_number: Option<String>,
    reason: &str,
    errors: (Value, Value),
) -> AppResult<Response> {
    render(
        state,
        Some(user),
        "/institutions",
        "teacher_reveal.html",
        "查看完整身份证号码",
        context! {
            teacher => Value::from(Serde(t)),
            id_number => id_number.map(Value::from).unwrap_or(Value::from(())),
            reason,
            errors => errors.0,
            field_errors => errors.1,
        },
    )
}

async fn teacher_reveal_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let t = teachers::get_teacher(&state.store, &actor, id).await?;
    require_manage(&actor, t.institution_id)?;
    render_reveal(&state, &user, &t, None, "", no_errors())
}

async fn teacher_reveal(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let t = teachers::get_teacher(&state.store, &actor, id).await?;
    require_manage(&actor, t.institution_id)?;
    let reason = form.get("reason");
    match teachers::reveal_id_number(&state.store, &actor, id, reason, state.clock.now()).await {
        Ok(full) => render_reveal(&state, &user, &t, Some(full), reason, no_errors()),
        Err(e) => {
            let e = AppError::from(e);
            if !is_form_error(&e) {
                return Err(e);
            }
            let errors = form_errors(&e, |f| f.to_string());
            let mut resp = render_reveal(&state, &user, &t, None, reason, errors)?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
    }
}
