//! Pages: the holiday calendar (R-CAL-1). `/calendar` shows a loaded year as twelve month
//! calendars; `/calendar/import` (sysadmin) takes a pasted or uploaded TOML file, shows what it
//! would load as month calendars with every problem beside its line, and saves it.

use super::super::Registrar;
use super::super::pages_filing_package::{MultipartResult, local, read_multipart};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{AppError, AppResult};
use crate::pages::{Saved, form_errors, is_form_error, no_errors, render};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};
use minijinja::context;
use minijinja::value::{Serde, Value};
use peixun_domain::calendar::{BUILTIN_HOLIDAYS_TOML, Calendar, DayKind, YearTable};
use peixun_domain::role::Role;
use peixun_domain::rules::shanghai;
use peixun_store::calendar::{self, ImportPreview, YearChange};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub fn register(r: Registrar) -> Registrar {
    r.get("/calendar", calendar_page)
        .get("/calendar/import", import_form)
        .post("/calendar/import", import_submit)
}

#[derive(Debug, Deserialize)]
pub struct CalendarQuery {
    pub year: Option<i32>,
    pub saved: Option<String>,
}

/// One day cell of a month calendar.
#[derive(Serialize)]
struct Cell {
    day: u32,
    /// workday / weekend / holiday / adjusted
    kind: &'static str,
    title: String,
}

#[derive(Serialize)]
struct Month {
    name: String,
    /// Weeks Monday → Sunday; `None` pads before the 1st and after the last day.
    weeks: Vec<Vec<Option<Cell>>>,
}

/// Twelve month calendars of one table, read from a calendar holding only that table (so a
/// table not yet saved is shown exactly as it would count).
fn months(table: &YearTable) -> Vec<Month> {
    let mut cal = Calendar::empty();
    if cal.add_year(table.clone()).is_err() {
        return Vec::new();
    }
    (1..=12)
        .filter_map(|m| {
            let first = NaiveDate::from_ymd_opt(table.year, m, 1)?;
            let mut weeks = Vec::new();
            let mut week: Vec<Option<Cell>> = (0..first.weekday().num_days_from_monday())
                .map(|_| None)
                .collect();
            let mut d = first;
            while d.month() == m {
                let (kind, title) = match cal.day_kind(d) {
                    Ok(DayKind::Workday) => ("workday", "工作日".to_string()),
                    Ok(DayKind::Weekend) => ("weekend", "休息日".to_string()),
                    Ok(DayKind::AdjustedWorkday) => ("adjusted", "调休上班".to_string()),
                    Ok(DayKind::Holiday { name }) => ("holiday", format!("{name}（放假）")),
                    Err(_) => ("weekend", String::new()),
                };
                week.push(Some(Cell {
                    day: d.day(),
                    kind,
                    title: format!("{d} {title}"),
                }));
                if week.len() == 7 {
                    weeks.push(std::mem::take(&mut week));
                }
                d = d.succ_opt()?;
            }
            if !week.is_empty() {
                week.resize_with(7, || None);
                weeks.push(week);
            }
            Some(Month {
                name: format!("{m}月"),
                weeks,
            })
        })
        .collect()
}

fn table_value(t: &YearTable) -> Value {
    context! {
        year => t.year,
        source => t.source.clone(),
        off => t.off.iter().map(|r| context! {
            name => r.name.clone(),
            from => r.from.to_string(),
            to => r.to.to_string(),
            days => (r.to - r.from).num_days() + 1,
        }).collect::<Vec<_>>(),
        working_days => t.working_days.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        months => Value::from(Serde(months(t))),
    }
}

fn today(state: &AppState) -> NaiveDate {
    state.clock.now().with_timezone(&shanghai()).date_naive()
}

async fn calendar_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<CalendarQuery>,
) -> AppResult<Response> {
    let years = calendar::years(&state.store).await?;
    let today = today(&state);
    let missing = calendar::next_year_missing(&state.store, today).await?;
    let shown = q
        .year
        .and_then(|y| years.iter().find(|v| v.year == y))
        .or_else(|| years.iter().find(|v| v.year == today.year()))
        .or(years.last());
    let list: Vec<Value> = years
        .iter()
        .map(|v| {
            context! {
                year => v.year,
                source => v.source.clone(),
                builtin => v.builtin,
                loaded_by => v.loaded_by.clone(),
                loaded_at => local(v.loaded_at),
                reason => v.reason.clone(),
                holiday_days => v.holiday_days,
                adjusted_working_days => v.adjusted_working_days,
                working_days_in_year => v.working_days_in_year,
                current => shown.is_some_and(|s| s.year == v.year),
            }
        })
        .collect();
    let flash = match q.saved.as_deref() {
        Some("loaded") => Value::from("节假日安排已载入，工作日与各项期限即按新表计算。"),
        _ => Saved { saved: None }.flash(),
    };
    render(
        &state,
        Some(&user),
        "/calendar",
        "calendar.html",
        "节假日安排",
        context! {
            years => list,
            shown => shown.map(|v| table_value(&v.table)),
            missing,
            can_load => user.role == Role::Sysadmin,
            flash,
        },
    )
}

/// The import form's state: what was pasted, the reason, and what the preview found.
#[derive(Default)]
struct ImportView {
    text: String,
    reason: String,
    preview: Option<ImportPreview>,
    errors: Option<(Value, Value)>,
}

fn render_import(
    state: &AppState,
    user: &CurrentUser,
    v: ImportView,
    status: axum::http::StatusCode,
) -> AppResult<Response> {
    // The pasted text as numbered lines, each with the problems found on it (R-CAL-1).
    let mut by_line: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut general = Vec::new();
    if let Some(p) = &v.preview {
        for pr in &p.problems {
            match pr.line {
                Some(l) => by_line.entry(l).or_default().push(pr.error.message_zh()),
                None => general.push(match pr.year {
                    Some(y) => format!("{y}年：{}", pr.error.message_zh()),
                    None => pr.error.message_zh(),
                }),
            }
        }
    }
    let lines: Vec<Value> = if v.preview.as_ref().is_some_and(|p| !p.is_ok()) {
        v.text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                context! {
                    no => i + 1,
                    text => l.to_string(),
                    problems => by_line.remove(&(i + 1)).unwrap_or_default(),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    // Problems on lines past the end (e.g. an unterminated string) stay visible.
    general.extend(by_line.into_values().flatten());
    let years: Vec<Value> = v
        .preview
        .as_ref()
        .map(|p| {
            p.years
                .iter()
                .map(|y| {
                    context! {
                        table => table_value(&y.table),
                        change => match y.change {
                            YearChange::New => "新载入",
                            YearChange::Unchanged => "与已载入的相同，不作改动",
                            YearChange::Replace => "替换已载入的安排",
                        },
                        replace => y.change == YearChange::Replace,
                        used => y.used,
                        moved => y.moved.iter().map(|m| context! {
                            kind => if m.kind == "filing" { "开班备案截止日" } else { "师资调整最迟报备日" },
                            filing_id => m.filing_id,
                            label => m.label.clone(),
                            date => m.date.to_string(),
                            old => m.old_deadline.map(|d| d.to_string()).unwrap_or_else(|| "无法计算".into()),
                            new => m.new_deadline.map(|d| d.to_string()).unwrap_or_else(|| "无法计算".into()),
                        }).collect::<Vec<_>>(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let (errors, field_errors) = v.errors.unwrap_or_else(no_errors);
    let mut resp = render(
        state,
        Some(user),
        "/calendar",
        "calendar_import.html",
        "载入节假日安排",
        context! {
            text => v.text,
            reason => v.reason,
            previewed => v.preview.is_some(),
            ok => v.preview.as_ref().is_some_and(ImportPreview::is_ok),
            reason_required => v.preview.as_ref().is_some_and(|p| p.reason_required),
            lines,
            general,
            years,
            example => BUILTIN_HOLIDAYS_TOML.lines().skip_while(|l| l.starts_with('#') || l.is_empty()).take(14).collect::<Vec<_>>().join("\n"),
            errors,
            field_errors,
        },
    )?;
    *resp.status_mut() = status;
    Ok(resp)
}

async fn import_form(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    if user.role != Role::Sysadmin {
        return Err(AppError::forbidden());
    }
    render_import(
        &state,
        &user,
        ImportView::default(),
        axum::http::StatusCode::OK,
    )
}

async fn import_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    mp: MultipartResult,
) -> AppResult<Response> {
    if user.role != Role::Sysadmin {
        return Err(AppError::forbidden());
    }
    let (form, files) = read_multipart(&user, mp).await?;
    let actor = user.actor(&ctx);
    let uploaded = files
        .into_iter()
        .find(|f| f.0 == "file" && !f.2.is_empty())
        .map(|f| f.2);
    let text = match uploaded {
        Some(bytes) => String::from_utf8(bytes).map_err(|_| {
            AppError::validation(
                "CAL_NOT_UTF8",
                "上传的节假日表须为 UTF-8 编码的文本文件（.toml）",
                Some("file"),
            )
        })?,
        None => form.get("toml").to_string(),
    };
    let reason = form.get("reason").trim().to_string();
    let mut view = ImportView {
        text: text.clone(),
        reason: reason.clone(),
        ..Default::default()
    };
    if text.trim().is_empty() {
        view.errors = Some(form_errors(
            &AppError::validation(
                "CAL_EMPTY",
                "请粘贴节假日表内容或上传 .toml 文件（R-CAL-1）",
                Some("toml"),
            ),
            |f| f.to_string(),
        ));
        return render_import(
            &state,
            &user,
            view,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let preview = match calendar::preview(&state.store, &actor, &text).await {
        Ok(p) => p,
        Err(e) => {
            let e = AppError::from(e);
            if !is_form_error(&e) {
                return Err(e);
            }
            let status = e.status();
            view.errors = Some(form_errors(&e, |f| f.to_string()));
            return render_import(&state, &user, view, status);
        }
    };
    let status = if preview.is_ok() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    if form.get("action") != "save" || !preview.is_ok() {
        view.preview = Some(preview);
        return render_import(&state, &user, view, status);
    }
    match calendar::import(
        &state.store,
        &actor,
        &text,
        Some(reason.as_str()),
        state.clock.now(),
    )
    .await
    {
        Ok(out) => {
            let year = out
                .loaded
                .first()
                .or(out.unchanged.first())
                .copied()
                .unwrap_or_else(|| today(&state).year());
            Ok(Redirect::to(&format!("/calendar?year={year}&saved=loaded")).into_response())
        }
        Err(e) => {
            let e = AppError::from(e);
            if !is_form_error(&e) {
                return Err(e);
            }
            let status = e.status();
            view.errors = Some(form_errors(&e, |f| f.to_string()));
            view.preview = Some(preview);
            render_import(&state, &user, view, status)
        }
    }
}
