//! Overdue classes (R-OVD-1) and the sanction for more than 3 in a year (R-OVD-2): the
//! sanctions page with its decisions and flagged classes, the overdue list, export and sweep.

use super::{class_value, fixable, flash_of, jv, local, today, with_status};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppResult};
use crate::export;
use crate::pages::{CsrfForm, Saved, no_errors, pager, render};
use crate::routes::Registrar;
use crate::routes::forms::page_request;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::role::Role;
use peixun_store::PageRequest;
use peixun_store::overdue::{self, FlagDecision};
use serde::Deserialize;
use serde_json::json;

pub(super) fn register(r: Registrar) -> Registrar {
    r.get("/sanctions", sanctions_page)
        .post("/sanctions/{id}/confirm", sanction_confirm)
        .post("/sanctions/{id}/dismiss", sanction_dismiss)
        .post("/class-flags/{id}/decide", flag_decide)
        .get("/overdue", overdue_page)
        .get("/overdue/export.xlsx", overdue_export)
        .post("/overdue/sweep", overdue_sweep)
}

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
