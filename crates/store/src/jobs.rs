//! Background-job bookkeeping shared by every server process (ARCHITECTURE.md "jobs",
//! "Concurrency"): nothing about jobs lives in one process's memory.
//!
//! * **Runs, once per period.** A job names its periods (`"monthly_report_reminder"` →
//!   `"2026-11:d-3"`, `"overdue_sweep"` → `"2026-11-26"`). [`try_claim_run`] inserts
//!   `(job, period)` with insert-or-ignore (`ON CONFLICT DO NOTHING`, both backends): the
//!   UNIQUE(job, period) constraint decides, so exactly one server wins a period however many
//!   try at once, and a period is never run twice. [`finish_run`] records the outcome (JSON).
//! * **Catch-up.** After downtime the scheduler lists the periods it should have run and asks
//!   [`missing_periods`] which have no run; it claims those.
//! * **Leases.** [`acquire_lease`] takes (or re-takes, when expired or already ours) the one
//!   `job_leases` row of a job in one upsert statement; [`renew_lease`] extends it only while it
//!   is still ours and unexpired; [`release_lease`] gives it up. Use a lease for work that is not
//!   cut into periods (a queue worker), a run claim for work that is.
//!
//! `now` is passed in (an injected clock in tests). Times are stored in UTC (microseconds).

use crate::{Result, Store, StoreError, db_time};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

/// The `job_runs` table.
pub mod job_run {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "job_runs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub job: String,
        pub period: String,
        pub holder: String,
        pub claimed_at: DateTimeUtc,
        pub finished_at: Option<DateTimeUtc>,
        pub outcome: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `job_leases` table.
pub mod job_lease {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "job_leases")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub job: String,
        pub holder: String,
        pub acquired_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One claimed run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    pub period: String,
    /// Who claimed it (e.g. `"host-a:4242"`).
    pub holder: String,
    pub claimed_at: DateTime<Utc>,
    /// `None` while running (or if the holder died mid-run: see [`stale_runs`]).
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<serde_json::Value>,
}

/// How long a run claim is good for. A tick's work takes seconds; a claim still unfinished this
/// long after it was taken means its holder died mid-run (the server crashed or was killed): the
/// claim is *stale*. Stale claims are never taken over automatically (a half-sent reminder must
/// not be sent twice); a sysadmin releases or re-runs them (`jobs_admin`).
pub const RUN_LEASE_MINUTES: i64 = 30;

/// [`RUN_LEASE_MINUTES`] as a duration.
pub fn run_lease() -> Duration {
    Duration::minutes(RUN_LEASE_MINUTES)
}

impl JobRun {
    /// When the claim's lease runs out ([`run_lease`] after it was claimed).
    pub fn lease_expires_at(&self) -> DateTime<Utc> {
        self.claimed_at + run_lease()
    }

    /// Claimed, never finished, and its lease has run out by `now`: its holder died.
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        self.finished_at.is_none() && self.lease_expires_at() <= now
    }
}

impl From<job_run::Model> for JobRun {
    fn from(m: job_run::Model) -> Self {
        JobRun {
            id: m.id,
            job: m.job,
            period: m.period,
            holder: m.holder,
            claimed_at: m.claimed_at,
            finished_at: m.finished_at,
            outcome: m
                .outcome
                .map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s))),
        }
    }
}

/// A job's current lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub job: String,
    pub holder: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

const MAX_NAME: usize = 100;

fn check_name(value: &str, field: &str) -> Result<()> {
    if value.is_empty()
        || value.len() > MAX_NAME
        || value.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(StoreError::validation(
            "JOB_NAME",
            format!("{field} 须为1至{MAX_NAME}个字符且不含空白"),
            field,
        ));
    }
    Ok(())
}

/// Claim `(job, period)` for `holder`. `true` for exactly one caller per period across every
/// process sharing the database; `false` when it was already claimed (now or before).
pub async fn try_claim_run(
    store: &Store,
    job: &str,
    period: &str,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    check_name(job, "job")?;
    check_name(period, "period")?;
    check_name(holder, "holder")?;
    let stmt = Query::insert()
        .into_table(job_run::Entity)
        .columns([
            job_run::Column::Job,
            job_run::Column::Period,
            job_run::Column::Holder,
            job_run::Column::ClaimedAt,
        ])
        .values_panic([
            job.into(),
            period.into(),
            holder.into(),
            db_time(now).into(),
        ])
        .on_conflict(
            OnConflict::columns([job_run::Column::Job, job_run::Column::Period])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    let r = store.write_db().execute(&stmt).await?;
    Ok(r.rows_affected() == 1)
}

/// Record that the run of `(job, period)` claimed by `holder` finished, with its outcome.
/// `NotFound` when there is no such claim by this holder.
pub async fn finish_run(
    store: &Store,
    job: &str,
    period: &str,
    holder: &str,
    outcome: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let r = job_run::Entity::update_many()
        .col_expr(job_run::Column::FinishedAt, Expr::value(db_time(now)))
        .col_expr(job_run::Column::Outcome, Expr::value(outcome.to_string()))
        .filter(job_run::Column::Job.eq(job))
        .filter(job_run::Column::Period.eq(period))
        .filter(job_run::Column::Holder.eq(holder))
        .exec(store.write_db())
        .await?;
    if r.rows_affected == 0 {
        return Err(StoreError::NotFound { entity: "job_run" });
    }
    Ok(())
}

/// The latest `limit` runs of `job`, newest first.
pub async fn runs(store: &Store, job: &str, limit: u64) -> Result<Vec<JobRun>> {
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Job.eq(job))
        .order_by_desc(job_run::Column::Id)
        .limit(limit.clamp(1, 1000))
        .all(store.db())
        .await?
        .into_iter()
        .map(JobRun::from)
        .collect())
}

/// The run of `(job, period)`, if claimed.
pub async fn run(store: &Store, job: &str, period: &str) -> Result<Option<JobRun>> {
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Job.eq(job))
        .filter(job_run::Column::Period.eq(period))
        .one(store.db())
        .await?
        .map(JobRun::from))
}

/// Of the `expected` periods of `job` (e.g. every day since the last run), those never claimed,
/// in the order given. Used to catch up after downtime.
pub async fn missing_periods(store: &Store, job: &str, expected: &[String]) -> Result<Vec<String>> {
    let mut done = std::collections::HashSet::new();
    // Chunked so that a long catch-up list stays under the backends' bind-parameter limits.
    for chunk in expected.chunks(500) {
        let found: Vec<String> = job_run::Entity::find()
            .select_only()
            .column(job_run::Column::Period)
            .filter(job_run::Column::Job.eq(job))
            .filter(job_run::Column::Period.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(store.db())
            .await?;
        done.extend(found);
    }
    Ok(expected
        .iter()
        .filter(|p| !done.contains(*p))
        .cloned()
        .collect())
}

/// Runs of `job` claimed before `claimed_before` and never finished (their holder died): for the
/// operator's view. They are not re-run automatically — a half-done job may have sent messages.
pub async fn stale_runs(
    store: &Store,
    job: &str,
    claimed_before: DateTime<Utc>,
) -> Result<Vec<JobRun>> {
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Job.eq(job))
        .filter(job_run::Column::FinishedAt.is_null())
        .filter(job_run::Column::ClaimedAt.lt(db_time(claimed_before)))
        .order_by_asc(job_run::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(JobRun::from)
        .collect())
}

fn check_ttl(ttl: Duration) -> Result<()> {
    if ttl <= Duration::zero() || ttl > Duration::days(1) {
        return Err(StoreError::validation(
            "JOB_LEASE_TTL",
            "租约时长须大于0且不超过1天",
            "ttl",
        ));
    }
    Ok(())
}

/// Take the lease of `job` for `ttl` when it is free, expired, or already `holder`'s (then it is
/// extended). `true` when `holder` holds it afterwards. One statement (an upsert whose update
/// only applies to an expired or own row), so concurrent callers cannot both win.
pub async fn acquire_lease(
    store: &Store,
    job: &str,
    holder: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<bool> {
    check_name(job, "job")?;
    check_name(holder, "holder")?;
    check_ttl(ttl)?;
    let now = db_time(now);
    let stmt = Query::insert()
        .into_table(job_lease::Entity)
        .columns([
            job_lease::Column::Job,
            job_lease::Column::Holder,
            job_lease::Column::AcquiredAt,
            job_lease::Column::ExpiresAt,
        ])
        .values_panic([job.into(), holder.into(), now.into(), (now + ttl).into()])
        .on_conflict(
            OnConflict::column(job_lease::Column::Job)
                .update_columns([
                    job_lease::Column::Holder,
                    job_lease::Column::AcquiredAt,
                    job_lease::Column::ExpiresAt,
                ])
                .action_and_where(
                    Expr::col((job_lease::Entity, job_lease::Column::ExpiresAt))
                        .lte(now)
                        .or(Expr::col((job_lease::Entity, job_lease::Column::Holder)).eq(holder)),
                )
                .to_owned(),
        )
        .to_owned();
    let r = store.write_db().execute(&stmt).await?;
    Ok(r.rows_affected() == 1)
}

/// Extend `holder`'s lease of `job` to `now + ttl`. `false` when the lease is not (or no longer)
/// `holder`'s or has expired — then another server may have taken over: stop working.
pub async fn renew_lease(
    store: &Store,
    job: &str,
    holder: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<bool> {
    check_ttl(ttl)?;
    let now = db_time(now);
    let r = job_lease::Entity::update_many()
        .col_expr(job_lease::Column::ExpiresAt, Expr::value(now + ttl))
        .filter(job_lease::Column::Job.eq(job))
        .filter(job_lease::Column::Holder.eq(holder))
        .filter(job_lease::Column::ExpiresAt.gt(now))
        .exec(store.write_db())
        .await?;
    Ok(r.rows_affected == 1)
}

/// Give up `holder`'s lease of `job`. `false` when it was not `holder`'s.
pub async fn release_lease(store: &Store, job: &str, holder: &str) -> Result<bool> {
    let r = job_lease::Entity::delete_many()
        .filter(job_lease::Column::Job.eq(job))
        .filter(job_lease::Column::Holder.eq(holder))
        .exec(store.write_db())
        .await?;
    Ok(r.rows_affected == 1)
}

/// The lease row of `job` (expired or not).
pub async fn lease(store: &Store, job: &str) -> Result<Option<Lease>> {
    Ok(job_lease::Entity::find_by_id(job.to_string())
        .one(store.db())
        .await?
        .map(|m| Lease {
            job: m.job,
            holder: m.holder,
            acquired_at: m.acquired_at,
            expires_at: m.expires_at,
        }))
}

/// Forget a run so that its period runs again (operator action after a failed run).
pub async fn reset_run(store: &Store, job: &str, period: &str) -> Result<bool> {
    let r = job_run::Entity::delete_many()
        .filter(job_run::Column::Job.eq(job))
        .filter(job_run::Column::Period.eq(period))
        .exec(store.write_db())
        .await?;
    Ok(r.rows_affected == 1)
}
