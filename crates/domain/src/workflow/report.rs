//! Monthly report follow-up (R-RUN-3): who owes a report for a month, who is missing or late,
//! and when to remind. The due date and lateness come from [`crate::rules::monthly_report_due`]
//! and [`crate::rules::monthly_report_is_late`].
//!
//! The reminder offsets are not in [`Policy`] (the guideline says only that reports are due on
//! the 25th; SPEC.md says "reminders go out before the day"): they are a parameter here.

use crate::policy::Policy;
use crate::rules::{RulesError, monthly_report_due, monthly_report_is_late};
use chrono::{DateTime, Days, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

/// One agreement of an institution, as far as reporting goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgreementSpan<I> {
    pub institution: I,
    /// The date it was signed (Asia/Shanghai).
    pub signed_on: NaiveDate,
    /// The date it was terminated, if it was.
    pub terminated_on: Option<NaiveDate>,
}

fn month_bounds(year: i32, month: u32) -> Result<(NaiveDate, NaiveDate), RulesError> {
    let first =
        NaiveDate::from_ymd_opt(year, month, 1).ok_or(RulesError::InvalidMonth { year, month })?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .ok_or(RulesError::InvalidMonth { year, month })?;
    Ok((first, next.pred_opt().unwrap_or(next)))
}

/// R-RUN-3: the institutions that owe a report for `year`-`month`: those with an agreement in
/// force on at least one day of that month (signed on or before its last day, not terminated
/// before its first day). Sorted, each once.
pub fn institutions_owing_report<I: Copy + Ord>(
    year: i32,
    month: u32,
    agreements: &[AgreementSpan<I>],
) -> Result<Vec<I>, RulesError> {
    let (first, last) = month_bounds(year, month)?;
    let mut out: Vec<I> = agreements
        .iter()
        .filter(|a| a.signed_on <= last && a.terminated_on.is_none_or(|t| t >= first))
        .map(|a| a.institution)
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Where one institution's report for a month stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// 已按时提交
    OnTime,
    /// 逾期提交
    Late,
    /// 未提交, and the due date has passed
    Missing,
    /// 未提交, not yet due
    NotYetDue,
}

impl ReportStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            ReportStatus::OnTime => "已按时提交",
            ReportStatus::Late => "逾期提交",
            ReportStatus::Missing => "逾期未提交",
            ReportStatus::NotYetDue => "未到期",
        }
    }
}

/// R-RUN-3: the centre's list for `year`-`month`: each owing institution with its status on
/// `today` (Asia/Shanghai). `submissions` holds each institution's first submission time for
/// that month (others are ignored; an institution missing from it has not submitted).
pub fn report_statuses<I: Copy + Ord, Tz: TimeZone>(
    year: i32,
    month: u32,
    owing: &[I],
    submissions: &[(I, DateTime<Tz>)],
    today: NaiveDate,
    policy: &Policy,
) -> Result<Vec<(I, ReportStatus)>, RulesError> {
    let due = monthly_report_due(year, month, policy)?;
    let mut out = Vec::with_capacity(owing.len());
    for &inst in owing {
        let first = submissions
            .iter()
            .filter(|(i, _)| *i == inst)
            .map(|(_, at)| at)
            .min_by_key(|at| at.timestamp());
        let status = match first {
            Some(at) if monthly_report_is_late(year, month, at, policy)? => ReportStatus::Late,
            Some(_) => ReportStatus::OnTime,
            None if today > due => ReportStatus::Missing,
            None => ReportStatus::NotYetDue,
        };
        out.push((inst, status));
    }
    Ok(out)
}

/// R-RUN-3: the dates on which to remind institutions that have not reported for
/// `year`-`month`: `days_before` calendar days before the due date (e.g. `[3, 1]` → the 22nd
/// and the 24th), earliest first, duplicates removed. Not policy-driven yet: [`Policy`] has no
/// reminder field.
pub fn reminder_dates(
    year: i32,
    month: u32,
    days_before: &[u32],
    policy: &Policy,
) -> Result<Vec<NaiveDate>, RulesError> {
    let due = monthly_report_due(year, month, policy)?;
    let mut out: Vec<NaiveDate> = days_before
        .iter()
        .filter_map(|&n| due.checked_sub_days(Days::new(u64::from(n))))
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}
