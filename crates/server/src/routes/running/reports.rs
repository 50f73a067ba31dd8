//! Monthly reports (R-RUN-3): the month page (due, on time, late, missing), submission, export.

use super::{fixable, flash_of, form_value, jv, local, parse_u32, today, with_status};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiQuery, AppError, AppResult};
use crate::export;
use crate::pages::{CsrfForm, FormData, Saved, no_errors, render};
use crate::routes::Registrar;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use minijinja::context;
use minijinja::value::Value;
use peixun_store::PageRequest;
use peixun_store::reports::{self, MonthlyReportInput};
use serde::Deserialize;
use serde_json::json;

pub(super) fn register(r: Registrar) -> Registrar {
    r.get("/reports", reports_page)
        .post("/reports", report_submit)
        .get("/reports/export.xlsx", reports_export)
}

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
