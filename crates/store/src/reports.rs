//! Monthly reports (R-RUN-3, 月度开展情况反馈): every institution with an agreement in force in a
//! month reports by the 25th (Asia/Shanghai, end of day) on classes run, trainees, exams and
//! problems. The centre sees per month who reported on time, late, or not at all
//! ([`report_statuses`]); reminders go to each owing institution's inbox before the day
//! ([`send_reminders`], run by the server's job runner under a `(job, period)` claim so that
//! two servers never both send).

use crate::entity::{agreement, inbox_message, monthly_report};
use crate::policies::{self, PolicyHistory};
use crate::workflow_glue::{today, with_retry};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use peixun_domain::role::Role;
use peixun_domain::rules::{monthly_report_due, monthly_report_is_late, shanghai};
use peixun_domain::workflow::report::{
    AgreementSpan, ReportStatus, institutions_owing_report, reminder_dates,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

/// Reminders go out this many days before the due date (the 22nd and the 24th).
pub const REMINDER_DAYS_BEFORE: [u32; 2] = [3, 1];

/// The job name of the reminders.
pub const REMINDER_JOB: &str = "monthly_report_reminder";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyReportInput {
    pub year: i32,
    pub month: u32,
    /// 本月开展班次
    pub classes_run: u32,
    /// 参训人数
    pub trainees: u32,
    /// 考试场次
    pub exams: u32,
    /// 存在问题
    #[serde(default)]
    pub problems: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyReportView {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub year: i32,
    pub month: u32,
    pub classes_run: u32,
    pub trainees: u32,
    pub exams: u32,
    pub problems: String,
    pub late: bool,
    pub due: NaiveDate,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    /// The policy version whose due day applied (R-POL-1): the one in force on the month's
    /// first day.
    pub policy_version: String,
}

fn view(m: monthly_report::Model, name: String, book: &PolicyHistory) -> MonthlyReportView {
    let month = m.month.max(1) as u32;
    let due = book
        .by_version(&m.policy_version)
        .and_then(|p| monthly_report_due(m.year, month, p).ok())
        .unwrap_or(NaiveDate::MIN);
    MonthlyReportView {
        id: m.id,
        institution_id: m.institution_id,
        institution_name: name,
        year: m.year,
        month,
        classes_run: m.classes_run.max(0) as u32,
        trainees: m.trainees.max(0) as u32,
        exams: m.exams.max(0) as u32,
        problems: m.problems,
        late: m.late,
        due,
        submitted_by: m.submitted_by,
        submitted_at: m.submitted_at,
        policy_version: m.policy_version,
    }
}

/// The agreements (of `institution`, all when `None`) as spans for
/// [`institutions_owing_report`]; three columns only.
async fn spans<C: ConnectionTrait>(
    db: &C,
    institution: Option<i64>,
) -> Result<Vec<AgreementSpan<i64>>> {
    let mut q = agreement::Entity::find();
    if let Some(i) = institution {
        q = q.filter(agreement::Column::InstitutionId.eq(i));
    }
    Ok(q.select_only()
        .column(agreement::Column::InstitutionId)
        .column(agreement::Column::SignedAt)
        .column(agreement::Column::TerminatedAt)
        .into_tuple::<(i64, DateTime<Utc>, Option<DateTime<Utc>>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(institution, signed_at, terminated_at)| AgreementSpan {
            institution,
            signed_on: signed_at.with_timezone(&shanghai()).date_naive(),
            terminated_on: terminated_at.map(|t| t.with_timezone(&shanghai()).date_naive()),
        })
        .collect())
}

/// R-RUN-3: whether `institution` owes a report for `year`-`month` (its own agreements only:
/// the same answer as [`owing`] for it).
pub async fn owes<C: ConnectionTrait>(
    db: &C,
    institution: i64,
    year: i32,
    month: u32,
) -> Result<bool> {
    Ok(
        institutions_owing_report(year, month, &spans(db, Some(institution)).await?)
            .map_err(|e| StoreError::validation(e.code(), e.to_string(), "month"))?
            .contains(&institution),
    )
}

/// R-RUN-3: the institutions owing a report for `year`-`month`.
pub async fn owing<C: ConnectionTrait>(db: &C, year: i32, month: u32) -> Result<Vec<i64>> {
    institutions_owing_report(year, month, &spans(db, None).await?)
        .map_err(|e| StoreError::validation(e.code(), e.to_string(), "month"))
}

/// R-RUN-3: the institution submits its report for a month (its first submission counts; late
/// after the 25th 23:59:59 +08:00). Only a month that has begun, and only when it owes one.
pub async fn submit_report(
    store: &Store,
    actor: &Actor,
    input: &MonthlyReportInput,
    now: DateTime<Utc>,
) -> Result<MonthlyReportView> {
    let Some(own) = actor
        .role
        .filter(|r| r.is_institution())
        .and(actor.institution_id)
    else {
        return Err(StoreError::forbidden("只有培训机构可以提交月度开展情况"));
    };
    let now = db_time(now);
    let policy = policies::for_month(store.db(), input.year, input.month).await?;
    let due = monthly_report_due(input.year, input.month, &policy)
        .map_err(|_| StoreError::validation("RPT_MONTH", "月份无效", "month"))?;
    let first = due.with_day(1).unwrap_or(due);
    if today(now) < first {
        return Err(StoreError::validation(
            "RPT_FUTURE_MONTH",
            format!(
                "{}年{}月尚未开始，不能提交该月的开展情况",
                input.year, input.month
            ),
            "month",
        ));
    }
    for (v, field, label) in [
        (input.classes_run, "classes_run", "开展班次"),
        (input.trainees, "trainees", "参训人数"),
        (input.exams, "exams", "考试场次"),
    ] {
        if v > 100_000 {
            return Err(StoreError::validation(
                "RPT_NUMBER",
                format!("{label}须为0至100000之间的整数"),
                field,
            ));
        }
    }
    if input.problems.chars().count() > 2000 {
        return Err(StoreError::validation(
            "RPT_PROBLEMS_TOO_LONG",
            "存在问题不超过2000字",
            "problems",
        ));
    }
    let late = monthly_report_is_late(input.year, input.month, &now, &policy)
        .map_err(|e| StoreError::validation(e.code(), e.to_string(), "month"))?;
    with_retry!({
        let txn = store.begin_write().await?;
        if !owing(&txn, input.year, input.month).await?.contains(&own) {
            return Err(StoreError::validation(
                "RPT_NOT_OWING",
                format!(
                    "本机构{}年{}月没有生效的委托培训协议，无需提交",
                    input.year, input.month
                ),
                "month",
            ));
        }
        let m = monthly_report::ActiveModel {
            institution_id: Set(own),
            year: Set(input.year),
            month: Set(input.month as i32),
            classes_run: Set(input.classes_run as i32),
            trainees: Set(input.trainees as i32),
            exams: Set(input.exams as i32),
            problems: Set(input.problems.trim().to_string()),
            late: Set(late),
            submitted_by: Set(actor.username.clone()),
            submitted_by_user_id: Set(actor.user_id),
            submitted_at: Set(now),
            policy_version: Set(policy.version.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            crate::map_unique(
                e,
                "RPT_ALREADY_SUBMITTED",
                "本机构该月的开展情况已提交",
                "month",
            )
        })?;
        let name = crate::rounds::institution_names(&txn, [own])
            .await?
            .remove(&own)
            .unwrap_or_default();
        let v = view(m, name, &PolicyHistory::single(policy.clone()));
        audit::append(
            &txn,
            actor,
            "report.submit",
            "monthly_report",
            Some(v.id.to_string()),
            None,
            Some(serde_json::to_value(&v).unwrap_or_default()),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// One report (S6).
pub async fn get_report(store: &Store, viewer: &Actor, id: i64) -> Result<MonthlyReportView> {
    let m = monthly_report::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "report" })?;
    if !report_scope(viewer).allows(m.institution_id) {
        return Err(StoreError::forbidden("无权查看该月度开展情况"));
    }
    let name = crate::rounds::institution_names(store.db(), [m.institution_id])
        .await?
        .remove(&m.institution_id)
        .unwrap_or_default();
    let book = PolicyHistory::load(store.db()).await?;
    Ok(view(m, name, &book))
}

fn report_scope(viewer: &Actor) -> crate::institutions::Scope {
    crate::running::class_scope(viewer)
}

/// Reports the viewer may see, newest first.
pub async fn list_reports(
    store: &Store,
    viewer: &Actor,
    page: &PageRequest,
) -> Result<Page<MonthlyReportView>> {
    let cond = report_scope(viewer)
        .condition(monthly_report::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看月度开展情况"))?;
    let mut q = monthly_report::Entity::find().filter(cond);
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(monthly_report::Column::Id.lt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_desc(monthly_report::Column::Id)
        .offset(page.offset())
        .limit(limit + 1)
        .all(store.db())
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_after_id = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let names =
        crate::rounds::institution_names(store.db(), rows.iter().map(|r| r.institution_id)).await?;
    let book = PolicyHistory::load(store.db()).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|m| {
                let n = names.get(&m.institution_id).cloned().unwrap_or_default();
                view(m, n, &book)
            })
            .collect(),
        total,
        next_after_id,
        per_page: limit,
    })
}

/// One line of the centre's list for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportStatusRow {
    pub institution_id: i64,
    pub institution_name: String,
    pub status: ReportStatus,
    pub status_label: String,
    pub report_id: Option<i64>,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// The month's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportStatusList {
    pub year: i32,
    pub month: u32,
    pub due: NaiveDate,
    /// The version that set the due day: the one in force on the month's first day (R-POL-1).
    pub policy_version: String,
    pub rows: Vec<ReportStatusRow>,
    pub on_time: u32,
    pub late: u32,
    pub missing: u32,
    pub not_yet_due: u32,
}

/// R-RUN-3: for `year`-`month`, each owing institution the viewer may see with its status on
/// `day` (on time / late / missing / not yet due).
pub async fn report_statuses(
    store: &Store,
    viewer: &Actor,
    year: i32,
    month: u32,
    day: NaiveDate,
) -> Result<ReportStatusList> {
    let scope = report_scope(viewer);
    if scope
        .condition(monthly_report::Column::InstitutionId)
        .is_none()
    {
        return Err(StoreError::forbidden("无权查看月度开展情况"));
    }
    let policy = policies::for_month(store.db(), year, month).await?;
    let due = monthly_report_due(year, month, &policy)
        .map_err(|_| StoreError::validation("RPT_MONTH", "月份无效", "month"))?;
    let owing: Vec<i64> = owing(store.db(), year, month)
        .await?
        .into_iter()
        .filter(|i| scope.allows(*i))
        .collect();
    let reports = monthly_report::Entity::find()
        .filter(monthly_report::Column::Year.eq(year))
        .filter(monthly_report::Column::Month.eq(month as i32))
        .all(store.db())
        .await?;
    let subs: Vec<(i64, DateTime<Utc>)> = reports
        .iter()
        .map(|r| (r.institution_id, r.submitted_at))
        .collect();
    let statuses =
        peixun_domain::workflow::report::report_statuses(year, month, &owing, &subs, day, &policy)
            .map_err(|e| StoreError::validation(e.code(), e.to_string(), "month"))?;
    let names = crate::rounds::institution_names(store.db(), owing.iter().copied()).await?;
    let mut out = ReportStatusList {
        year,
        month,
        due,
        policy_version: policy.version.clone(),
        rows: Vec::new(),
        on_time: 0,
        late: 0,
        missing: 0,
        not_yet_due: 0,
    };
    for (inst, status) in statuses {
        match status {
            ReportStatus::OnTime => out.on_time += 1,
            ReportStatus::Late => out.late += 1,
            ReportStatus::Missing => out.missing += 1,
            ReportStatus::NotYetDue => out.not_yet_due += 1,
        }
        let r = reports.iter().find(|r| r.institution_id == inst);
        out.rows.push(ReportStatusRow {
            institution_id: inst,
            institution_name: names.get(&inst).cloned().unwrap_or_default(),
            status,
            status_label: status.label_zh().to_string(),
            report_id: r.map(|r| r.id),
            submitted_at: r.map(|r| r.submitted_at),
        });
    }
    Ok(out)
}

/// Whether the viewer may see the centre's month list (all but sysadmin and auditor).
pub fn may_see_statuses(viewer: &Actor) -> bool {
    !matches!(
        viewer.role,
        Some(Role::Sysadmin) | Some(Role::Auditor) | None
    )
}

/// One reminder period: the month and how many days before its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderPeriod {
    pub year: i32,
    pub month: u32,
    pub days_before: u32,
    /// The day it is to be sent.
    pub on: NaiveDate,
}

impl ReminderPeriod {
    /// The job-run period key, e.g. `2026-11:d-3`.
    pub fn key(&self) -> String {
        format!("{:04}-{:02}:d-{}", self.year, self.month, self.days_before)
    }
}

/// The reminder periods due on `day` or earlier whose month's report is not yet due: what a
/// runner should have sent by now (the catch-up after downtime is the same list). A period past
/// its due date is no longer worth sending.
pub fn due_reminder_periods(day: NaiveDate, book: &PolicyHistory) -> Vec<ReminderPeriod> {
    let mut out = Vec::new();
    // This month and the previous one cover every reminder before a due date ≥ day.
    let prev = if day.month() == 1 {
        (day.year() - 1, 12)
    } else {
        (day.year(), day.month() - 1)
    };
    for (y, m) in [prev, (day.year(), day.month())] {
        let Some(policy) = book.for_month(y, m) else {
            continue;
        };
        let Ok(due) = monthly_report_due(y, m, policy) else {
            continue;
        };
        if day > due {
            continue;
        }
        for &n in &REMINDER_DAYS_BEFORE {
            if let Ok(dates) = reminder_dates(y, m, &[n], policy)
                && let Some(on) = dates.first()
                && *on <= day
            {
                out.push(ReminderPeriod {
                    year: y,
                    month: m,
                    days_before: n,
                    on: *on,
                });
            }
        }
    }
    out.sort_by_key(|p| p.on);
    out
}

/// Send one period's reminders: a message in the inbox of each owing institution that has not
/// reported yet. One transaction (with an audit row). The caller holds the `(job, period)`
/// claim; this does not check it. Returns the institutions reminded.
pub async fn send_reminders(
    store: &Store,
    period: &ReminderPeriod,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let now = db_time(now);
    let policy = policies::for_month(store.db(), period.year, period.month).await?;
    let due = monthly_report_due(period.year, period.month, &policy)
        .map_err(|_| StoreError::validation("RPT_MONTH", "月份无效", "month"))?;
    with_retry!({
        let txn = store.begin_write().await?;
        let owing = owing(&txn, period.year, period.month).await?;
        let done: Vec<i64> = monthly_report::Entity::find()
            .select_only()
            .column(monthly_report::Column::InstitutionId)
            .filter(monthly_report::Column::Year.eq(period.year))
            .filter(monthly_report::Column::Month.eq(period.month as i32))
            .into_tuple()
            .all(&txn)
            .await?;
        let targets: Vec<i64> = owing.into_iter().filter(|i| !done.contains(i)).collect();
        for inst in &targets {
            inbox_message::ActiveModel {
                institution_id: Set(*inst),
                title: Set(format!(
                    "请于{}前提交{}年{}月开展情况",
                    due.format("%-m月%-d日"),
                    period.year,
                    period.month
                )),
                body: Set(format!(
                    "根据工作指引，已签订委托培训协议的培训机构应于每月25日向区培训中心反馈职业技能培训合格证书开展情况。本机构{}年{}月的开展情况尚未提交，截止时间为{} 23:59（北京时间），逾期将列入逾期名单。",
                    period.year, period.month, due
                )),
                created_at: Set(now),
                read_at: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        audit::append(
            &txn,
            &Actor::system("report-reminder"),
            "report.remind",
            "job",
            Some(format!("{REMINDER_JOB}:{}", period.key())),
            None,
            Some(serde_json::json!({"institutions": targets, "due": due})),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(targets)
    })
}

/// One tick of the reminder job on `now`: for each reminder period due by today (and not yet
/// past its month's due date), claim `(monthly_report_reminder, period)` for `holder`; the one
/// server that wins a period sends it. Catches up periods missed while no server ran. Returns
/// the periods this call sent, with the institutions reminded.
pub async fn reminder_tick(
    store: &Store,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Vec<i64>)>> {
    let mut out = Vec::new();
    let book = PolicyHistory::load(store.db()).await?;
    for p in due_reminder_periods(today(now), &book) {
        let key = p.key();
        if !crate::jobs::try_claim_run(store, REMINDER_JOB, &key, holder, now).await? {
            continue;
        }
        let sent = send_reminders(store, &p, now).await;
        let outcome = match &sent {
            Ok(s) => serde_json::json!({"institutions": s}),
            Err(e) => serde_json::json!({"error": e.code()}),
        };
        crate::jobs::finish_run(store, REMINDER_JOB, &key, holder, &outcome, now).await?;
        out.push((key, sent?));
    }
    Ok(out)
}
