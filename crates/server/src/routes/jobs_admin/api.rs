//! `/api/v1/admin/jobs…` as JSON (sysadmin).

use crate::AppState;
use crate::auth::{CurrentUser, RequestCtx};
use crate::error::{ApiJson, ApiPath, AppResult, ErrorBody};
use crate::routes::Registrar;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use peixun_store::jobs::{JobRun, RUN_LEASE_MINUTES};
use peixun_store::jobs_admin::{self, JobOverview, RunState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How many recent runs of each job are listed.
pub const RECENT_RUNS: u64 = 30;

pub fn register(r: Registrar) -> Registrar {
    r.get("/api/v1/admin/jobs", list_jobs)
        .post("/api/v1/admin/jobs/runs/{id}/release", release_run)
        .post("/api/v1/admin/jobs/{job}/rerun", rerun_period)
}

/// One run of a job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobRunDto {
    pub id: i64,
    pub job: String,
    pub period: String,
    /// The process that claimed the period (`host:pid`).
    pub holder: String,
    pub claimed_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// When the claim's lease runs out; an unfinished run past it is stale.
    pub lease_expires_at: DateTime<Utc>,
    /// `running`, `finished`, `failed` or `stale`.
    pub state: String,
    /// 状态（中文）.
    pub state_label: String,
    /// What the job reported (counts and ids; `{"error": CODE}` when it failed).
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<serde_json::Value>,
}

impl JobRunDto {
    pub fn new(run: JobRun, state: RunState) -> Self {
        JobRunDto {
            id: run.id,
            lease_expires_at: run.lease_expires_at(),
            job: run.job,
            period: run.period,
            holder: run.holder,
            claimed_at: run.claimed_at,
            finished_at: run.finished_at,
            state: serde_json::to_value(state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            state_label: state.label_zh().to_string(),
            outcome: run.outcome,
        }
    }
}

/// One job and its recent runs (newest first), with every stale claim.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobDto {
    /// The job name, e.g. `overdue_sweep`.
    pub name: String,
    pub label: String,
    /// How a period of this job is written.
    pub period_hint: String,
    /// How many of `runs` are stale.
    pub stale: usize,
    pub runs: Vec<JobRunDto>,
}

impl From<JobOverview> for JobDto {
    fn from(j: JobOverview) -> Self {
        JobDto {
            name: j.name.to_string(),
            label: j.label.to_string(),
            period_hint: j.period_hint.to_string(),
            stale: j.stale,
            runs: j
                .runs
                .into_iter()
                .map(|r| JobRunDto::new(r.run, r.state))
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobsOverviewDto {
    /// A claim unfinished this many minutes after it was taken is stale.
    pub lease_minutes: i64,
    pub jobs: Vec<JobDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReleaseRequest {
    /// 原因（可选，记入审计日志）.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RerunRequest {
    /// The period, e.g. `2026-11-26` (overdue_sweep) or `2026-11:d-3` (monthly_report_reminder).
    #[serde(default)]
    pub period: String,
    /// 原因（必填，记入审计日志）.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RerunDto {
    /// The period's run now (finished, with the job's outcome).
    pub run: JobRunDto,
    /// The claim it replaced, if the period had one.
    pub replaced: Option<JobRunDto>,
}

/// The recent runs of every background job; stale claims (holder died) marked.
#[utoipa::path(get, path = "/api/v1/admin/jobs", tag = "jobs",
    responses((status = 200, body = JobsOverviewDto), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_jobs(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
) -> AppResult<Json<JobsOverviewDto>> {
    let jobs = jobs_admin::overview(
        &state.store,
        &user.actor(&ctx),
        state.clock.now(),
        RECENT_RUNS,
    )
    .await?;
    Ok(Json(JobsOverviewDto {
        lease_minutes: RUN_LEASE_MINUTES,
        jobs: jobs.into_iter().map(Into::into).collect(),
    }))
}

/// Release a stale claim so that the runner claims its period again (audited `job.release`).
/// 409 when the run finished or is still within its lease.
#[utoipa::path(post, path = "/api/v1/admin/jobs/runs/{id}/release", tag = "jobs",
    params(("id" = i64, Path)),
    request_body = ReleaseRequest,
    responses((status = 200, body = JobRunDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn release_run(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReleaseRequest>,
) -> AppResult<Json<JobRunDto>> {
    let now = state.clock.now();
    let run =
        jobs_admin::release_stale(&state.store, &user.actor(&ctx), id, &req.reason, now).await?;
    Ok(Json(JobRunDto::new(run, RunState::Stale)))
}

/// Run one period of a job again now, through the job's own code (audited `job.rerun` with the
/// reason). 409 while the period is being run (lease not expired).
#[utoipa::path(post, path = "/api/v1/admin/jobs/{job}/rerun", tag = "jobs",
    params(("job" = String, Path, description = "monthly_report_reminder 或 overdue_sweep")),
    request_body = RerunRequest,
    responses((status = 200, body = RerunDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rerun_period(
    State(state): State<AppState>,
    user: CurrentUser,
    ctx: RequestCtx,
    ApiPath(job): ApiPath<String>,
    ApiJson(req): ApiJson<RerunRequest>,
) -> AppResult<Json<RerunDto>> {
    let out = do_rerun(&state, &user, &ctx, &job, &req.period, &req.reason).await?;
    Ok(Json(out))
}

/// Shared by the API and the page.
pub async fn do_rerun(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RequestCtx,
    job: &str,
    period: &str,
    reason: &str,
) -> AppResult<RerunDto> {
    let now = state.clock.now();
    let out = jobs_admin::rerun_period(
        &state.store,
        &user.actor(ctx),
        job,
        period,
        reason,
        &crate::jobs::holder_name(),
        now,
    )
    .await?;
    Ok(RerunDto {
        run: JobRunDto::new(out.run.clone(), RunState::of(&out.run, now)),
        replaced: out.replaced.map(|r| {
            let s = RunState::of(&r, now);
            JobRunDto::new(r, s)
        }),
    })
}
