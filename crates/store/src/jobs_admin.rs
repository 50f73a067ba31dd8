//! Operating the background jobs (sysadmin; docs/OPERATIONS.md "Stale job claims").
//!
//! The runner claims `(job, period)` once ([`crate::jobs::try_claim_run`]). When the server dies
//! mid-run, the claim stays unfinished and the period never runs again: after its lease
//! ([`crate::jobs::RUN_LEASE_MINUTES`]) the claim is *stale*. A sysadmin sees the recent runs of
//! every job ([`overview`]) and may
//!
//! * [`release_stale`]: forget a stale claim, so that the next tick of the runner claims the
//!   period again (while the period is still due: reminders until their month's due date, the
//!   sweep on its own day);
//! * [`rerun_period`]: take over one period on purpose, with a reason, and run it now through the
//!   job's own code (the same functions the runner calls). A run in progress (lease not expired)
//!   is never taken over.
//!
//! Both are audited in the transaction that changes the claim. A sysadmin operates jobs; the
//! business records a job touches change only through the job's normal code path (S7).

use crate::jobs::{JobRun, job_run, run_lease};
use crate::workflow_glue::today;
use crate::{
    Actor, FieldProblem, Problems, Result, Store, StoreError, audit, db_time, overdue, reports,
};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::policy::Policy;
use peixun_domain::role::Role;
use peixun_domain::workflow::report::reminder_dates;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;

/// The longest reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// The jobs the runner knows (server `jobs.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Job {
    MonthlyReportReminder,
    OverdueSweep,
}

impl Job {
    pub const ALL: [Job; 2] = [Job::MonthlyReportReminder, Job::OverdueSweep];

    /// The job name in `job_runs.job`.
    pub fn name(self) -> &'static str {
        match self {
            Job::MonthlyReportReminder => reports::REMINDER_JOB,
            Job::OverdueSweep => overdue::SWEEP_JOB,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Job::MonthlyReportReminder => "月度反馈提醒（R-RUN-3）",
            Job::OverdueSweep => "超期班次检查（R-OVD-1）",
        }
    }

    /// How a period is written, for the form.
    pub fn period_hint(self) -> &'static str {
        match self {
            Job::MonthlyReportReminder => {
                "月份与提前天数，如 2026-11:d-3（11月反馈截止前3个工作日提醒）或 2026-11:d-1"
            }
            Job::OverdueSweep => "检查日期（北京时间），如 2026-11-26",
        }
    }

    pub fn parse(name: &str) -> Result<Job> {
        Job::ALL
            .into_iter()
            .find(|j| j.name() == name.trim())
            .ok_or_else(|| {
                StoreError::validation(
                    "JOB_UNKNOWN",
                    format!(
                        "任务：没有名为“{}”的后台任务（可选：{}）",
                        name.chars().take(60).collect::<String>(),
                        Job::ALL.map(Job::name).join("、")
                    ),
                    "job",
                )
            })
    }
}

/// A period of a job, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    Reminder(reports::ReminderPeriod),
    Sweep(NaiveDate),
}

fn period_problem(job: Job) -> FieldProblem {
    FieldProblem::new(
        "JOB_PERIOD_INVALID",
        format!("执行期：格式不正确，应为{}", job.period_hint()),
        "period",
    )
}

/// Parse `period` of `job`; a period whose day has not come yet (Asia/Shanghai) is refused: a
/// sweep of a future day would mark classes overdue early.
fn parse_period(
    job: Job,
    period: &str,
    now: DateTime<Utc>,
) -> std::result::Result<Period, FieldProblem> {
    let period = period.trim();
    let (parsed, day) = match job {
        Job::OverdueSweep => {
            let d = NaiveDate::parse_from_str(period, "%Y-%m-%d")
                .ok()
                .filter(|d| d.to_string() == period)
                .ok_or_else(|| period_problem(job))?;
            (Period::Sweep(d), d)
        }
        Job::MonthlyReportReminder => {
            let p = parse_reminder_key(period).ok_or_else(|| period_problem(job))?;
            (Period::Reminder(p), p.on)
        }
    };
    if day > today(now) {
        return Err(FieldProblem::new(
            "JOB_PERIOD_FUTURE",
            format!("执行期：{period} 的执行日（{day}）尚未到，不能提前执行"),
            "period",
        ));
    }
    Ok(parsed)
}

/// `2026-11:d-3` → the reminder period (its send day from the calendar).
fn parse_reminder_key(key: &str) -> Option<reports::ReminderPeriod> {
    let (month, days) = key.split_once(":d-")?;
    let (y, m) = month.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    let month: u32 = m.parse().ok()?;
    let days_before: u32 = days.parse().ok()?;
    if !(1..=12).contains(&month) || !reports::REMINDER_DAYS_BEFORE.contains(&days_before) {
        return None;
    }
    let on = *reminder_dates(year, month, &[days_before], &Policy::haizhu_default())
        .ok()?
        .first()?;
    let p = reports::ReminderPeriod {
        year,
        month,
        days_before,
        on,
    };
    (p.key() == key).then_some(p)
}

fn check_reason(reason: &str, required: bool) -> std::result::Result<String, FieldProblem> {
    let r = reason.trim();
    if r.is_empty() && required {
        return Err(FieldProblem::new(
            "JOB_REASON_REQUIRED",
            "原因：必填，请说明为何重新执行该期",
            "reason",
        ));
    }
    if r.chars().count() > MAX_REASON_CHARS {
        return Err(FieldProblem::new(
            "JOB_REASON_TOO_LONG",
            format!("原因：不得超过{MAX_REASON_CHARS}个字"),
            "reason",
        ));
    }
    Ok(r.to_string())
}

fn require_operator(actor: &Actor) -> Result<()> {
    if actor.is_system() || actor.role == Some(Role::Sysadmin) {
        Ok(())
    } else {
        Err(StoreError::forbidden("只有系统管理员可以管理后台任务"))
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Claimed, lease not yet expired.
    Running,
    /// Finished without error.
    Finished,
    /// Finished with an error (the outcome names its code).
    Failed,
    /// Claimed, never finished, lease expired: the holder died.
    Stale,
}

impl RunState {
    pub fn of(run: &JobRun, now: DateTime<Utc>) -> RunState {
        match (&run.finished_at, &run.outcome) {
            (Some(_), Some(o)) if o.get("error").is_some() => RunState::Failed,
            (Some(_), _) => RunState::Finished,
            (None, _) if run.is_stale(now) => RunState::Stale,
            (None, _) => RunState::Running,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            RunState::Running => "执行中",
            RunState::Finished => "已完成",
            RunState::Failed => "失败",
            RunState::Stale => "已失效（执行者中断）",
        }
    }
}

/// One run as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunView {
    pub run: JobRun,
    pub state: RunState,
    pub lease_expires_at: DateTime<Utc>,
}

/// One job: its recent runs (newest first) and every stale claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobOverview {
    pub job: Job,
    pub name: &'static str,
    pub label: &'static str,
    pub period_hint: &'static str,
    pub runs: Vec<RunView>,
    /// How many of `runs` are stale.
    pub stale: usize,
}

fn stale_condition(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(job_run::Column::FinishedAt.is_null())
        .add(job_run::Column::ClaimedAt.lte(db_time(now - run_lease())))
}

/// The latest `limit` runs of every job plus any older stale claim (sysadmin).
pub async fn overview(
    store: &Store,
    actor: &Actor,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<JobOverview>> {
    require_operator(actor)?;
    let mut out = Vec::new();
    for job in Job::ALL {
        let mut runs = crate::jobs::runs(store, job.name(), limit).await?;
        let stale: Vec<JobRun> = job_run::Entity::find()
            .filter(job_run::Column::Job.eq(job.name()))
            .filter(stale_condition(now))
            .all(store.db())
            .await?
            .into_iter()
            .map(JobRun::from)
            .collect();
        for s in stale {
            if !runs.iter().any(|r| r.id == s.id) {
                runs.push(s);
            }
        }
        runs.sort_by_key(|r| std::cmp::Reverse(r.id));
        let runs: Vec<RunView> = runs
            .into_iter()
            .map(|run| RunView {
                state: RunState::of(&run, now),
                lease_expires_at: run.lease_expires_at(),
                run,
            })
            .collect();
        out.push(JobOverview {
            job,
            name: job.name(),
            label: job.label_zh(),
            period_hint: job.period_hint(),
            stale: runs.iter().filter(|r| r.state == RunState::Stale).count(),
            runs,
        });
    }
    Ok(out)
}

fn snapshot(run: &JobRun) -> serde_json::Value {
    serde_json::to_value(run).unwrap_or_default()
}

/// Forget the stale claim `run_id` so that the runner claims its period again. Refused (409,
/// nothing changed) when the run finished or is still within its lease. Audited
/// (`job.release`, the forgotten claim as the old value).
pub async fn release_stale(
    store: &Store,
    actor: &Actor,
    run_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<JobRun> {
    require_operator(actor)?;
    let reason = check_reason(reason, false).map_err(|p| StoreError::from_problems(vec![p]))?;
    let now = db_time(now);
    let txn = store.begin_write().await?;
    let run: JobRun = job_run::Entity::find_by_id(run_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "job_run" })?
        .into();
    match RunState::of(&run, now) {
        RunState::Stale => {}
        RunState::Running => {
            return Err(StoreError::conflict(
                "JOB_RUN_NOT_STALE",
                format!(
                    "该执行记录仍在租约期内（至 {} UTC），执行者可能仍在运行，不能释放",
                    run.lease_expires_at().format("%Y-%m-%d %H:%M")
                ),
                "run",
            ));
        }
        RunState::Finished | RunState::Failed => {
            return Err(StoreError::conflict(
                "JOB_RUN_NOT_STALE",
                "该执行记录已结束，无需释放；如需再次执行请使用“重新执行”并填写原因",
                "run",
            ));
        }
    }
    // Guarded again in the statement: the holder may finish between the read and the delete.
    let r = job_run::Entity::delete_many()
        .filter(job_run::Column::Id.eq(run_id))
        .filter(stale_condition(now))
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(StoreError::conflict(
            "JOB_RUN_NOT_STALE",
            "该执行记录刚刚发生变化，请刷新后重试",
            "run",
        ));
    }
    audit::append(
        &txn,
        actor,
        "job.release",
        "job_run",
        Some(format!("{}:{}", run.job, run.period)),
        Some(snapshot(&run)),
        Some(serde_json::json!({ "reason": reason })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(run)
}

/// What a re-run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RerunOutcome {
    /// The run as it stands now (finished, with the job's outcome).
    pub run: JobRun,
    /// The claim it replaced, if the period had one.
    pub replaced: Option<JobRun>,
}

/// Run one period of `job` again, now, on purpose: `holder` takes over the period's claim (a
/// finished, failed or stale one; never one in progress) in a transaction that also writes the
/// audit row (`job.rerun`, with the reason and the replaced claim), then the job's own code runs
/// and the claim is finished with its outcome, as the runner does. A job error is returned after
/// the claim is finished with it.
pub async fn rerun_period(
    store: &Store,
    actor: &Actor,
    job: &str,
    period: &str,
    reason: &str,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<RerunOutcome> {
    require_operator(actor)?;
    let job = Job::parse(job)?;
    let now = db_time(now);
    let mut problems = Problems::default();
    let parsed = problems.take(parse_period(job, period, now));
    let reason = problems.take(check_reason(reason, true));
    problems.finish()?;
    let (Some(parsed), Some(reason)) = (parsed, reason) else {
        unreachable!("problems.finish() returned early")
    };
    let period = period.trim();

    let txn = store.begin_write().await?;
    let previous: Option<JobRun> = job_run::Entity::find()
        .filter(job_run::Column::Job.eq(job.name()))
        .filter(job_run::Column::Period.eq(period))
        .one(&txn)
        .await?
        .map(JobRun::from);
    let in_progress = || {
        StoreError::conflict(
            "JOB_RUN_IN_PROGRESS",
            "该期正在执行（租约未到期），不能重新执行；请等待完成或租约到期",
            "period",
        )
    };
    match &previous {
        Some(p) => {
            if RunState::of(p, now) == RunState::Running {
                return Err(in_progress());
            }
            // Take the claim over only if it is still finished or stale (one statement).
            let r = job_run::Entity::update_many()
                .col_expr(job_run::Column::Holder, Expr::value(holder))
                .col_expr(job_run::Column::ClaimedAt, Expr::value(now))
                .col_expr(
                    job_run::Column::FinishedAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(
                    job_run::Column::Outcome,
                    Expr::value(Option::<String>::None),
                )
                .filter(job_run::Column::Id.eq(p.id))
                .filter(
                    Condition::any()
                        .add(job_run::Column::FinishedAt.is_not_null())
                        .add(stale_condition(now)),
                )
                .exec(&txn)
                .await?;
            if r.rows_affected != 1 {
                return Err(in_progress());
            }
        }
        None => {
            let stmt = Query::insert()
                .into_table(job_run::Entity)
                .columns([
                    job_run::Column::Job,
                    job_run::Column::Period,
                    job_run::Column::Holder,
                    job_run::Column::ClaimedAt,
                ])
                .values_panic([job.name().into(), period.into(), holder.into(), now.into()])
                .on_conflict(
                    OnConflict::columns([job_run::Column::Job, job_run::Column::Period])
                        .do_nothing()
                        .to_owned(),
                )
                .to_owned();
            if txn.execute(&stmt).await?.rows_affected() != 1 {
                return Err(in_progress());
            }
        }
    }
    audit::append(
        &txn,
        actor,
        "job.rerun",
        "job_run",
        Some(format!("{}:{period}", job.name())),
        previous.as_ref().map(snapshot),
        Some(serde_json::json!({ "reason": reason, "holder": holder })),
        now,
    )
    .await?;
    txn.commit().await?;

    // The job's own code path, as the runner runs it.
    let result = match parsed {
        Period::Reminder(p) => reports::send_reminders(store, &p, now)
            .await
            .map(|s| serde_json::json!({ "institutions": s })),
        Period::Sweep(day) => overdue::sweep(store, day, now)
            .await
            .map(|o| serde_json::to_value(o).unwrap_or_default()),
    };
    let outcome = match &result {
        Ok(v) => v.clone(),
        Err(e) => serde_json::json!({ "error": e.code() }),
    };
    crate::jobs::finish_run(store, job.name(), period, holder, &outcome, now).await?;
    result?;
    let run = crate::jobs::run(store, job.name(), period)
        .await?
        .ok_or(StoreError::NotFound { entity: "job_run" })?;
    Ok(RerunOutcome {
        run,
        replaced: previous,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap()
    }

    #[test]
    fn periods_parse_strictly() {
        assert_eq!(
            parse_period(Job::OverdueSweep, "2026-11-25", now()),
            Ok(Period::Sweep(
                NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
            ))
        );
        for bad in ["2026-11-5", "2026/11/25", "", "2026-13-01", "2026-11-25x"] {
            assert_eq!(
                parse_period(Job::OverdueSweep, bad, now())
                    .unwrap_err()
                    .code,
                "JOB_PERIOD_INVALID",
                "{bad}"
            );
        }
        assert_eq!(
            parse_period(Job::OverdueSweep, "2026-11-27", now())
                .unwrap_err()
                .code,
            "JOB_PERIOD_FUTURE"
        );
        let Ok(Period::Reminder(p)) =
            parse_period(Job::MonthlyReportReminder, "2026-11:d-3", now())
        else {
            panic!("reminder period")
        };
        assert_eq!((p.year, p.month, p.days_before), (2026, 11, 3));
        assert!(p.on < NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
        for bad in [
            "2026-11:d-2",
            "2026-1:d-3",
            "2026-11",
            "2026-11:d-3x",
            "2026-00:d-1",
        ] {
            assert_eq!(
                parse_period(Job::MonthlyReportReminder, bad, now())
                    .unwrap_err()
                    .code,
                "JOB_PERIOD_INVALID",
                "{bad}"
            );
        }
        assert_eq!(
            parse_period(Job::MonthlyReportReminder, "2026-12:d-3", now())
                .unwrap_err()
                .code,
            "JOB_PERIOD_FUTURE"
        );
    }

    #[test]
    fn reasons_are_required_for_a_rerun_and_bounded() {
        assert_eq!(
            check_reason("  ", true).unwrap_err().code,
            "JOB_REASON_REQUIRED"
        );
        assert_eq!(check_reason("", false), Ok(String::new()));
        assert_eq!(
            check_reason(&"因".repeat(MAX_REASON_CHARS + 1), true)
                .unwrap_err()
                .code,
            "JOB_REASON_TOO_LONG"
        );
        assert_eq!(check_reason(" 服务器宕机 ", true), Ok("服务器宕机".into()));
    }
}
