//! The public bulletin (公示, guideline 二(三), R-FIL-6 made visible: no login, nothing personal),
//! the centre's what-if cap calculator (R-CAP-1…7, the same code as `peixun rules cap`) and the
//! institution inbox (e.g. 未获名额 when a round closed, R-PLAN-3).

use super::Registrar;
use super::api_rounds::cacheable;
use super::rounds_forms::CapCalcInput;
use super::rounds_forms::jv;
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppError, AppResult};
use crate::export;
use crate::pages::{CsrfForm, form_errors, is_form_error, no_errors, render, render_string};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use peixun_store::bulletin;
use peixun_store::inbox;
use serde_json::json;

pub fn register(r: Registrar) -> Registrar {
    r.get("/bulletin", bulletin_index)
        .get("/bulletin/rounds/{id}", bulletin_round)
        .get("/bulletin/rounds/{id}/export.xlsx", bulletin_export)
        .get("/tools/cap", calculator)
        .get("/inbox", inbox_page)
        .post("/inbox/{id}/read", inbox_read)
}

/// The signed-in user, if any (the bulletin is public, the header still shows who is signed in).
fn viewer(req: &Request) -> Option<CurrentUser> {
    req.extensions().get::<CurrentUser>().cloned()
}

/// Anonymous visitors get a cacheable page (`no-cache` + ETag, nothing personal); a signed-in
/// user's page carries their name and CSRF token, so it stays `no-store` (S19).
fn public_page(req: &Request, signed_in: bool, html: String) -> Response {
    if signed_in {
        return axum::response::Html(html).into_response();
    }
    let mut resp = cacheable(req.headers(), html.into_bytes(), "text/html; charset=utf-8");
    resp.headers_mut().insert(
        axum::http::header::VARY,
        axum::http::HeaderValue::from_static("Cookie"),
    );
    resp
}

async fn bulletin_index(State(state): State<AppState>, req: Request) -> AppResult<Response> {
    let user = viewer(&req);
    let rounds: Vec<serde_json::Value> = bulletin::published_rounds(&state.store)
        .await?
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "label": r.label, "year": r.year, "status_label": r.status_label,
                "base_planned": r.base_planned, "rolled_over": r.rolled_over,
                "planned_total": r.planned_total,
                "window": format!("{} 至 {}", r.window_start, r.window_end),
            })
        })
        .collect();
    let html = render_string(
        &state,
        user.as_ref(),
        "/bulletin",
        "bulletin_index.html",
        "培训任务公示",
        context! { rounds => jv(rounds) },
    )?;
    Ok(public_page(&req, user.is_some(), html))
}

async fn bulletin_round(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    req: Request,
) -> AppResult<Response> {
    let user = viewer(&req);
    let b = bulletin::bulletin(&state.store, id).await?;
    let html = render_string(
        &state,
        user.as_ref(),
        "/bulletin",
        "bulletin_round.html",
        &format!("{} — 公示", b.label),
        context! {
            b => jv(&b),
            export_href => format!("/bulletin/rounds/{id}/export.xlsx"),
        },
    )?;
    Ok(public_page(&req, user.is_some(), html))
}

/// The bulletin as .xlsx. Public data with nothing personal: not audited (an anonymous download
/// writing an audit row would let anyone grow the audit log at will).
async fn bulletin_export(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    let b = bulletin::bulletin(&state.store, id).await?;
    let rows: Vec<Vec<String>> = b
        .entries
        .iter()
        .map(|e| {
            vec![
                e.queue_seq.to_string(),
                e.institution_name.clone(),
                format!("{}（{}）", e.occupation, e.level),
                e.submitted_at.clone(),
                e.status_label.clone(),
            ]
        })
        .collect();
    let bytes = export::workbook(
        "公示",
        &["序号", "培训机构", "职业（工种）", "提交时间", "状态"],
        &rows,
    )?;
    Ok(export::xlsx_response(
        bytes,
        "bulletin.xlsx",
        &format!("{}公示.xlsx", b.label),
    ))
}

async fn calculator(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<CapCalcInput>,
) -> AppResult<Response> {
    let form = json!({
        "planned": q.planned.clone().unwrap_or_default(),
        "prev_planned": q.prev_planned.clone().unwrap_or_default(),
        "basis": q.basis.clone().unwrap_or_else(|| "later".into()),
        "requested": q.requested.clone().unwrap_or_default(),
        "prev_completed": q.prev_completed.clone().unwrap_or_default(),
        "score": q.score.clone().unwrap_or_default(),
        "major": q.major(),
    });
    let (decision, errors, status) = if q.is_empty() {
        (json!(null), no_errors(), StatusCode::OK)
    } else {
        let policy = super::policies::in_force_today(&state).await?;
        match q.compute(&policy) {
            Ok(d) => (
                serde_json::to_value(d).unwrap_or_default(),
                no_errors(),
                StatusCode::OK,
            ),
            Err(e) => {
                if !is_form_error(&e) {
                    return Err(e);
                }
                let status = e.status();
                (json!(null), form_errors(&e, str::to_string), status)
            }
        }
    };
    let mut resp = render(
        &state,
        Some(&user),
        "/tools/cap",
        "calculator.html",
        "签约班次上限试算",
        context! {
            form => jv(form),
            decision => jv(decision),
            errors => errors.0,
            field_errors => errors.1,
        },
    )?;
    *resp.status_mut() = status;
    Ok(resp)
}

async fn inbox_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Response> {
    let actor = user.actor(&ctx);
    let Some(inst) = actor.institution_id else {
        return Err(AppError::Forbidden("no institution".into()));
    };
    let items: Vec<serde_json::Value> = inbox::list_inbox(&state.store, &actor, inst)
        .await?
        .iter()
        .map(|m| {
            json!({
                "id": m.id, "title": m.title, "body": m.body,
                "at": super::rounds_forms::local(m.created_at),
                "read": m.read_at.is_some(),
            })
        })
        .collect();
    render(
        &state,
        Some(&user),
        "/inbox",
        "inbox.html",
        "消息",
        context! { items => jv(items) },
    )
}

async fn inbox_read(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(_f): CsrfForm,
) -> AppResult<Response> {
    inbox::mark_read(&state.store, &user.actor(&ctx), id, state.clock.now()).await?;
    Ok(Redirect::to("/inbox").into_response())
}
