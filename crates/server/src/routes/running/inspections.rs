//! Inspections and spot checks (R-RUN-4): list, export, one inspection with rectification,
//! closure and photos (S16); the progress bulletin of classes behind plan.

use super::{
    PendingQuery, class_value, fixable, flash_of, form_value, jv, local, today, with_status,
};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppResult};
use crate::export;
use crate::pages::{CsrfForm, FormData, Saved, no_errors, pager, render};
use crate::routes::Registrar;
use crate::routes::forms::page_request;
use crate::routes::pages_filing_package::{MultipartResult, read_multipart};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_store::PageRequest;
use peixun_store::inspections::{self, InspectionFilter};
use serde_json::json;

pub(super) fn register(r: Registrar) -> Registrar {
    r.get("/inspections", inspections_list)
        .get("/inspections/export.xlsx", inspections_export)
        .get("/inspections/{id}", inspection_detail)
        .post("/inspections/{id}/rectify", inspection_rectify)
        .post("/inspections/{id}/close", inspection_close)
        .add(
            "POST",
            "/inspections/{id}/photos",
            crate::routes::api_filing_package::upload(inspection_photo_upload),
        )
        .get(
            "/inspections/{id}/photos/{file_id}",
            inspection_photo_download,
        )
        .get("/progress", progress_page)
}

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
        "finding_severity_label": i.finding_severity_label,
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
    Ok(crate::routes::api_filing_package::file_response(
        bytes, &rec,
    ))
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
