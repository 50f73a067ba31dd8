//! Pages: the class archive (R-ARC-1, R-ARC-2). `/classes/{id}/archive` shows the trainee ×
//! document matrix (✓ / 缺 / 不需要 / 可选) with each trainee's and the class's completeness;
//! the institution uploads one item (a cell's 上传 link fills the form) or a .zip (the page then
//! shows what was placed and every file that was not, with the reason); everyone who may see the
//! class downloads the whole archive; the centre marks it 归档 at 100 %.

use super::super::Registrar;
use super::super::api_filing_package::{file_response, upload};
use super::super::pages_filing_package::{
    MultipartResult, jv, page_err, read_multipart, with_status,
};
use super::{zip_response, zip_upload};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::pages::{CsrfForm, no_errors, render};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Value;
use peixun_store::archive::{self, ArchiveView, ZipReport};
use serde::Deserialize;
use serde_json::json;

pub fn register(r: Registrar) -> Registrar {
    r.get("/classes/{id}/archive", archive_page)
        .add("POST", "/classes/{id}/archive/upload", upload(upload_item))
        .add("POST", "/classes/{id}/archive/zip", zip_upload(upload_zip))
        .get("/classes/{id}/archive/download", download)
        .post("/classes/{id}/archive/mark-archived", mark_archived)
        .get("/archive-documents/{id}", document)
}

#[derive(Debug, Default, Deserialize)]
pub struct ArchiveQuery {
    pub saved: Option<String>,
    /// Pre-fills the upload form (a cell's 上传 link).
    pub entry: Option<i64>,
    pub kind: Option<String>,
}

#[derive(Default)]
struct Extras {
    errors: Option<(Value, Value)>,
    report: Option<ZipReport>,
    flash: Option<String>,
    entry: Option<i64>,
    kind: Option<String>,
}

fn cell_symbol(status: &str) -> &'static str {
    match status {
        "present" => "✓",
        "missing" => "缺",
        "optional" => "可选",
        _ => "不需要",
    }
}

fn matrix_value(v: &ArchiveView) -> serde_json::Value {
    let trainees: Vec<_> = v
        .trainees
        .iter()
        .map(|t| {
            json!({
                "entry": t.roster_entry_id,
                "row": t.row_number,
                "name": t.name,
                "id_masked": t.id_number_masked,
                "residence": t.residence,
                "groups": t.groups.join("、"),
                "percent": t.completeness_percent.to_string(),
                "present": t.present,
                "required": t.required,
                "complete": t.present == t.required,
                "cells": t.cells.iter().map(|c| json!({
                    "code": c.code,
                    "status": c.status,
                    "symbol": cell_symbol(&c.status),
                    "doc": c.document.as_ref().map(|d| d.id),
                    "file": c.document.as_ref().map(|d| d.original_name.clone()).unwrap_or_default(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let class_items: Vec<_> = v
        .class_items
        .iter()
        .zip(&v.class_item_labels)
        .map(|(c, l)| {
            json!({
                "code": c.code,
                "label": l,
                "status": c.status,
                "symbol": cell_symbol(&c.status),
                "doc": c.document.as_ref().map(|d| d.id),
                "file": c.document.as_ref().map(|d| d.original_name.clone()).unwrap_or_default(),
            })
        })
        .collect();
    json!({
        "class_id": v.class_id,
        "institution_name": v.institution_name,
        "occupation": v.occupation,
        "level": v.level,
        "start_date": v.start_date.to_string(),
        "status_label": v.status_label,
        "columns": v.columns.iter().map(|c| json!({"code": c.code, "label": c.label, "optional": c.optional})).collect::<Vec<_>>(),
        "trainees": trainees,
        "class_items": class_items,
        "present": v.present,
        "required": v.required,
        "missing": v.required - v.present,
        "percent": v.completeness_percent.to_string(),
        "complete": v.complete,
        "archived": v.archived,
        "open": v.open_for_uploads,
    })
}

fn report_value(r: &ZipReport) -> serde_json::Value {
    json!({
        "files": r.files,
        "placed": r.placed.iter().map(|p| json!({
            "name": p.name,
            "trainee": match (&p.row_number, &p.trainee_name) {
                (Some(row), Some(n)) => format!("第{row}行 {n}"),
                _ => "班级材料".into(),
            },
            "kind": p.kind_label,
            "replaced": p.replaced,
        })).collect::<Vec<_>>(),
        "unplaced": r.unplaced.iter().map(|u| json!({"name": u.name, "reason": u.reason})).collect::<Vec<_>>(),
        "percent": r.completeness_percent.to_string(),
    })
}

async fn render_archive(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
    extras: Extras,
) -> AppResult<Response> {
    let actor = user.actor(ctx);
    let v = archive::get_archive(&state.store, &actor, id).await?;
    let own = user.role.is_institution() && actor.institution_id == Some(v.institution_id);
    let can_upload = own && v.open_for_uploads;
    let can_archive = user.role.is_centre() && v.complete && v.status == "completed";
    let (errors, field_errors) = extras.errors.unwrap_or_else(no_errors);
    // The kinds the upload form offers: the columns, then the class items.
    let kinds: Vec<_> = v
        .columns
        .iter()
        .map(|c| json!({"code": c.code, "label": c.label}))
        .chain(
            v.class_items
                .iter()
                .zip(&v.class_item_labels)
                .map(|(c, l)| json!({"code": c.code, "label": format!("{l}（班级材料）")})),
        )
        .collect();
    render(
        state,
        Some(user),
        "/classes",
        "archive.html",
        &format!("班次#{} 培训档案（一期一档）", v.class_id),
        context! {
            archive => jv(matrix_value(&v)),
            kinds => jv(kinds),
            can_upload => can_upload,
            can_archive => can_archive,
            is_centre => user.role.is_centre(),
            report => extras.report.as_ref().map(|r| jv(report_value(r))),
            pick_entry => extras.entry,
            pick_kind => extras.kind.unwrap_or_default(),
            errors => errors,
            field_errors => field_errors,
            flash => extras.flash,
            max_zip_mb => archive::MAX_ZIP_BYTES / 1024 / 1024,
        },
    )
}

async fn archive_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ArchiveQuery>,
) -> AppResult<Response> {
    let flash = match q.saved.as_deref() {
        Some("uploaded") => Some("材料已上传。".to_string()),
        Some("archived") => Some("已归档。".to_string()),
        _ => None,
    };
    render_archive(
        &state,
        &user,
        &ctx,
        id,
        Extras {
            flash,
            entry: q.entry,
            kind: q.kind,
            ..Default::default()
        },
    )
    .await
}

/// S6 before any upload is read: the class's own institution only.
async fn own_class(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    id: i64,
) -> AppResult<()> {
    let actor = user.actor(ctx);
    let v = archive::get_archive(&state.store, &actor, id).await?;
    if !(user.role.is_institution() && actor.institution_id == Some(v.institution_id)) {
        return Err(AppError::Forbidden("只能上传本机构班次的档案材料".into()));
    }
    Ok(())
}

async fn upload_item(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    mp: MultipartResult,
) -> AppResult<Response> {
    own_class(&state, &user, &ctx, id).await?;
    let (form, files) = read_multipart(&user, mp).await?;
    let kind = form.get("kind").to_string();
    let entry = form.get("entry").trim().parse::<i64>().ok();
    let (name, bytes) = files
        .into_iter()
        .find(|f| f.0 == "file")
        .map(|f| (f.1, f.2))
        .unwrap_or_default();
    let res = archive::upload_document(
        &state.store,
        &state.files,
        &user.actor(&ctx),
        id,
        entry,
        &kind,
        &bytes,
        &name,
        state.clock.now(),
    )
    .await;
    match res {
        Ok(_) => Ok(Redirect::to(&format!("/classes/{id}/archive?saved=uploaded")).into_response()),
        Err(e) => {
            let pe = page_err(e.into(), |f| {
                if f.is_empty() {
                    "upload".into()
                } else {
                    f.replace('_', "-")
                }
            })?;
            with_status(
                render_archive(
                    &state,
                    &user,
                    &ctx,
                    id,
                    Extras {
                        errors: Some(pe.errors),
                        entry,
                        kind: Some(kind),
                        ..Default::default()
                    },
                )
                .await,
                Some(pe.status),
            )
        }
    }
}

async fn upload_zip(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    mp: MultipartResult,
) -> AppResult<Response> {
    own_class(&state, &user, &ctx, id).await?;
    let (_form, files) = read_multipart(&user, mp).await?;
    let bytes = files
        .into_iter()
        .find(|f| f.0 == "file")
        .map(|f| f.2)
        .unwrap_or_default();
    let res = archive::import_zip(
        &state.store,
        &state.files,
        &user.actor(&ctx),
        id,
        bytes,
        state.clock.now(),
    )
    .await;
    match res {
        Ok(report) => {
            let flash = format!(
                "压缩包内{}个文件：已归入{}个，未能归入{}个（见下表）。",
                report.files,
                report.placed.len(),
                report.unplaced.len()
            );
            render_archive(
                &state,
                &user,
                &ctx,
                id,
                Extras {
                    flash: Some(flash),
                    report: Some(report),
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => {
            let pe = page_err(e.into(), |_| "zip".into())?;
            with_status(
                render_archive(
                    &state,
                    &user,
                    &ctx,
                    id,
                    Extras {
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

async fn download(
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

async fn mark_archived(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_form): CsrfForm,
) -> AppResult<Response> {
    match archive::mark_archived(&state.store, &user.actor(&ctx), id, state.clock.now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/classes/{id}/archive?saved=archived")).into_response()),
        Err(e) => {
            let pe = page_err(e.into(), |_| "archive".into())?;
            with_status(
                render_archive(
                    &state,
                    &user,
                    &ctx,
                    id,
                    Extras {
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

async fn document(
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
