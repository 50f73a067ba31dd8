//! The page `/admin/jobs` (sysadmin) and its two forms.

use super::api::{RECENT_RUNS, do_rerun};
use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiPath, ApiQuery, AppResult};
use crate::pages::{CsrfForm, form_errors, is_form_error, no_errors, render};
use crate::routes::Registrar;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use minijinja::context;
use minijinja::value::Value;
use peixun_domain::rules::shanghai;
use peixun_store::jobs::RUN_LEASE_MINUTES;
use peixun_store::jobs_admin::{self, RunState};
use serde::Deserialize;

pub fn register(r: Registrar) -> Registrar {
    r.get("/admin/jobs", jobs_page)
        .post("/admin/jobs/runs/{id}/release", release_form)
        .post("/admin/jobs/{job}/rerun", rerun_form)
}

#[derive(Debug, Default, Deserialize)]
pub struct JobsQuery {
    pub saved: Option<String>,
}

fn beijing(t: DateTime<Utc>) -> String {
    t.with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn flash(saved: Option<&str>) -> Value {
    match saved {
        Some("released") => Value::from(
            "已释放失效的执行记录；后台任务下次运行时将重新执行该期（仍在执行期内的）。",
        ),
        Some("rerun") => Value::from("已重新执行该期，结果见下表。"),
        _ => Value::from(()),
    }
}

/// What the rerun form of one job shows again after an error.
struct RerunForm<'a> {
    job: &'a str,
    period: &'a str,
    reason: &'a str,
    errors: (Value, Value),
}

async fn render_jobs(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    flash_v: Value,
    page_errors: (Value, Value),
    form: Option<RerunForm<'_>>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let jobs = jobs_admin::overview(&state.store, &user.actor(ctx), now, RECENT_RUNS).await?;
    let jobs: Vec<Value> = jobs
        .into_iter()
        .map(|j| {
            let runs: Vec<Value> = j
                .runs
                .iter()
                .map(|r| {
                    context! {
                        id => r.run.id,
                        period => r.run.period.clone(),
                        holder => r.run.holder.clone(),
                        claimed_at => beijing(r.run.claimed_at),
                        finished_at => r.run.finished_at.map(beijing).unwrap_or_default(),
                        lease_expires_at => beijing(r.lease_expires_at),
                        state => match r.state {
                            RunState::Running => "running",
                            RunState::Finished => "finished",
                            RunState::Failed => "failed",
                            RunState::Stale => "stale",
                        },
                        state_label => r.state.label_zh(),
                        outcome => r.run.outcome.as_ref().map(|o| {
                            let s = o.to_string();
                            if s.chars().count() > 200 {
                                format!("{}…", s.chars().take(200).collect::<String>())
                            } else {
                                s
                            }
                        }).unwrap_or_default(),
                    }
                })
                .collect();
            let this_form = form.as_ref().filter(|f| f.job == j.name);
            context! {
                name => j.name,
                label => j.label,
                period_hint => j.period_hint,
                stale => j.stale,
                runs,
                form => context! {
                    period => this_form.map(|f| f.period).unwrap_or(""),
                    reason => this_form.map(|f| f.reason).unwrap_or(""),
                },
                errors => this_form.map(|f| f.errors.0.clone()).unwrap_or_else(|| Value::from(Vec::<Value>::new())),
                field_errors => this_form.map(|f| f.errors.1.clone()).unwrap_or_else(|| no_errors().1),
            }
        })
        .collect();
    render(
        state,
        Some(user),
        "/admin/jobs",
        "jobs_admin.html",
        "后台任务",
        context! {
            jobs,
            lease_minutes => RUN_LEASE_MINUTES,
            flash => flash_v,
            errors => page_errors.0,
        },
    )
}

async fn jobs_page(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> AppResult<Response> {
    render_jobs(
        &state,
        &user,
        &ctx,
        flash(q.saved.as_deref()),
        no_errors(),
        None,
    )
    .await
}

async fn release_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let now = state.clock.now();
    match jobs_admin::release_stale(&state.store, &user.actor(&ctx), id, form.get("reason"), now)
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/jobs?saved=released").into_response()),
        Err(e) => {
            let e = crate::error::AppError::from(e);
            if !is_form_error(&e) {
                return Err(e);
            }
            let errors = form_errors(&e, |_| "main".to_string());
            let mut resp = render_jobs(&state, &user, &ctx, Value::from(()), errors, None).await?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
    }
}

async fn rerun_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(job): ApiPath<String>,
    CsrfForm(form): CsrfForm,
) -> AppResult<Response> {
    let (period, reason) = (form.get("period"), form.get("reason"));
    match do_rerun(&state, &user, &ctx, &job, period, reason).await {
        Ok(_) => Ok(Redirect::to("/admin/jobs?saved=rerun").into_response()),
        Err(e) if is_form_error(&e) => {
            let anchor_job = job.clone();
            let errors = form_errors(&e, |f| format!("{f}-{anchor_job}"));
            // An unknown job has no form of its own: its message goes to the page summary.
            let known = jobs_admin::Job::parse(&job).is_ok();
            let (page_errors, rerun) = if known {
                (
                    no_errors(),
                    Some(RerunForm {
                        job: &job,
                        period,
                        reason,
                        errors,
                    }),
                )
            } else {
                (errors, None)
            };
            let mut resp =
                render_jobs(&state, &user, &ctx, Value::from(()), page_errors, rerun).await?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}
