//! The smaller rules: class size (R-FIL-2), filing and teacher-change lead times (R-FIL-3,
//! R-RUN-1), the 30-day window and overdue classes (R-FIL-4, R-OVD-1, R-OVD-2), H1→H2 rollover
//! (R-PLAN-3), the monthly report's due date and lateness (R-RUN-3), the evaluation score (R-EVA-1)
//! and certificate codes (R-CRT-1).
//!
//! Every number comes from the [`Policy`]. Errors carry a stable [`RulesError::code`] for the API
//! and a message in Chinese, then English.

use crate::calendar::{Calendar, CalendarError, last_allowed_day};
use crate::cap::Score;
use crate::policy::Policy;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A rule that refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error(
        "每班培训人数不低于{min}人，当前为{count}人 / a class needs at least {min} trainees, got {count}"
    )]
    ClassTooSmall { count: usize, min: u32 },
    #[error(
        "开班备案须在开班前{lead}个工作日提交，截止日为{deadline}，提交日为{submitted} / \
         the filing was due by {deadline} ({lead} working days before the start), submitted {submitted}"
    )]
    FilingTooLate {
        deadline: NaiveDate,
        submitted: NaiveDate,
        lead: u32,
    },
    #[error("计划结束日期{end}早于开班日期{start} / planned end {end} is before the start {start}")]
    EndBeforeStart { start: NaiveDate, end: NaiveDate },
    #[error(
        "培训（含考试）须在{days}天内完成，最迟{last_day}，计划结束日期为{end} / \
         training and exam must finish within {days} days, by {last_day}; planned end is {end}"
    )]
    EndTooLate {
        end: NaiveDate,
        last_day: NaiveDate,
        days: u32,
    },
    #[error(
        "调整授课师资须至少提前{lead}个工作日报备，截止日为{deadline}，报备日为{reported} / \
         a teacher change must be reported {lead} working day(s) ahead, by {deadline}; reported {reported}"
    )]
    TeacherChangeTooLate {
        deadline: NaiveDate,
        reported: NaiveDate,
        lead: u32,
    },
    #[error(
        "完成日期{completed}早于开班日期{start} / completion {completed} is before the start {start}"
    )]
    CompletedBeforeStart {
        start: NaiveDate,
        completed: NaiveDate,
    },
    #[error(
        "未完成指标只能结转至同一年度的下一批次：{from}年不能结转至{to}年 / \
         unconsumed quota rolls over only within a year: not from {from} to {to}"
    )]
    CrossYearRollover { from: i32, to: i32 },
    #[error("月份无效：{year}年{month}月 / invalid month: {year}-{month}")]
    InvalidMonth { year: i32, month: u32 },
    #[error(
        "评估分项“{component}”须在0至100之间，当前为{value} / evaluation component {component} must be 0–100, got {value}"
    )]
    ComponentOutOfRange {
        component: &'static str,
        value: String,
    },
    #[error("{what}须在1至{max}之间，当前为{value} / {what} must be 1–{max}, got {value}")]
    SequenceOutOfRange {
        what: &'static str,
        value: u32,
        max: u32,
    },
    #[error("证书年份须为4位数，当前为{0} / certificate year must have 4 digits, got {0}")]
    YearOutOfRange(i32),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl RulesError {
    /// A stable code for the API (R-VAL-1).
    pub fn code(&self) -> &'static str {
        match self {
            RulesError::ClassTooSmall { .. } => "class_too_small",
            RulesError::FilingTooLate { .. } => "filing_too_late",
            RulesError::EndBeforeStart { .. } => "end_before_start",
            RulesError::EndTooLate { .. } => "end_too_late",
            RulesError::TeacherChangeTooLate { .. } => "teacher_change_too_late",
            RulesError::CompletedBeforeStart { .. } => "completed_before_start",
            RulesError::CrossYearRollover { .. } => "cross_year_rollover",
            RulesError::InvalidMonth { .. } => "invalid_month",
            RulesError::ComponentOutOfRange { .. } => "component_out_of_range",
            RulesError::SequenceOutOfRange { .. } => "sequence_out_of_range",
            RulesError::YearOutOfRange(_) => "year_out_of_range",
            RulesError::Calendar(CalendarError::YearNotLoaded(_)) => "calendar_year_not_loaded",
            RulesError::Calendar(_) => "calendar_error",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Filing: class size, lead time, 30-day window
// ---------------------------------------------------------------------------------------------

/// R-FIL-2: a roster has at least `policy.min_class_size` (20) trainees.
pub fn check_class_size(trainees: usize, policy: &Policy) -> Result<(), RulesError> {
    if trainees < policy.min_class_size as usize {
        return Err(RulesError::ClassTooSmall {
            count: trainees,
            min: policy.min_class_size,
        });
    }
    Ok(())
}

/// R-FIL-3: a filing submitted on `submitted` (Asia/Shanghai date) for a class starting on
/// `start` is on time iff `submitted ≤ filing_deadline(start)`.
pub fn check_filing_lead(
    calendar: &Calendar,
    submitted: NaiveDate,
    start: NaiveDate,
    policy: &Policy,
) -> Result<(), RulesError> {
    let deadline = calendar.filing_deadline(start, policy)?;
    if submitted > deadline {
        return Err(RulesError::FilingTooLate {
            deadline,
            submitted,
            lead: policy.filing_lead_working_days,
        });
    }
    Ok(())
}

/// R-FIL-4: the planned end (exam included) lies in `start ..= start + 30 days`.
pub fn check_planned_end(
    start: NaiveDate,
    end: NaiveDate,
    policy: &Policy,
) -> Result<(), RulesError> {
    if end < start {
        return Err(RulesError::EndBeforeStart { start, end });
    }
    let last_day = last_allowed_day(start, policy)?;
    if end > last_day {
        return Err(RulesError::EndTooLate {
            end,
            last_day,
            days: policy.class_window_days,
        });
    }
    Ok(())
}

/// R-RUN-1 (timing only; the qualification match is checked where teachers are known): a change
/// effective on `effective` reported on `reported` is in time iff
/// `reported ≤ teacher_change_deadline(effective)`.
pub fn check_teacher_change_notice(
    calendar: &Calendar,
    reported: NaiveDate,
    effective: NaiveDate,
    policy: &Policy,
) -> Result<(), RulesError> {
    let deadline = calendar.teacher_change_deadline(effective, policy)?;
    if reported > deadline {
        return Err(RulesError::TeacherChangeTooLate {
            deadline,
            reported,
            lead: policy.teacher_change_lead_working_days,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Overdue (R-OVD-1, R-OVD-2)
// ---------------------------------------------------------------------------------------------

/// Where a class stands against its last day (start + 30 calendar days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OverdueStatus {
    /// Training and exam complete on or before the last day.
    CompletedOnTime {
        completed_on: NaiveDate,
        last_day: NaiveDate,
    },
    /// Completed, but after the last day: overdue, no subsidy for the class.
    CompletedLate {
        completed_on: NaiveDate,
        last_day: NaiveDate,
    },
    /// Not complete, and today is on or before the last day.
    Running { last_day: NaiveDate, days_left: i64 },
    /// Not complete, and the last day has passed: overdue, no subsidy for the class.
    Overdue { last_day: NaiveDate },
}

impl OverdueStatus {
    /// R-OVD-1: overdue (超期), so no subsidy for this class and it counts toward R-OVD-2.
    pub fn is_overdue(&self) -> bool {
        matches!(
            self,
            OverdueStatus::CompletedLate { .. } | OverdueStatus::Overdue { .. }
        )
    }

    /// The class's last day; its year is the year it counts in for R-OVD-2.
    pub fn last_day(&self) -> NaiveDate {
        match *self {
            OverdueStatus::CompletedOnTime { last_day, .. }
            | OverdueStatus::CompletedLate { last_day, .. }
            | OverdueStatus::Running { last_day, .. }
            | OverdueStatus::Overdue { last_day } => last_day,
        }
    }

    /// Chinese label for pages.
    pub fn label_zh(&self) -> &'static str {
        match self {
            OverdueStatus::CompletedOnTime { .. } => "按时完成",
            OverdueStatus::CompletedLate { .. } => "超期完成（不享受该班次补贴）",
            OverdueStatus::Running { .. } => "培训中",
            OverdueStatus::Overdue { .. } => "超期未完成（不享受该班次补贴）",
        }
    }
}

/// R-OVD-1: a class that started on `start`, completed (training and exam) on `completed_on` if
/// it has, looked at on `today` (all Asia/Shanghai dates). A class finishing on its last day is
/// on time; an unfinished one becomes overdue the day after its last day.
pub fn overdue_status(
    start: NaiveDate,
    completed_on: Option<NaiveDate>,
    today: NaiveDate,
    policy: &Policy,
) -> Result<OverdueStatus, RulesError> {
    let last_day = last_allowed_day(start, policy)?;
    Ok(match completed_on {
        Some(c) if c < start => {
            return Err(RulesError::CompletedBeforeStart {
                start,
                completed: c,
            });
        }
        Some(c) if c <= last_day => OverdueStatus::CompletedOnTime {
            completed_on: c,
            last_day,
        },
        Some(c) => OverdueStatus::CompletedLate {
            completed_on: c,
            last_day,
        },
        None if today <= last_day => OverdueStatus::Running {
            last_day,
            days_left: (last_day - today).num_days(),
        },
        None => OverdueStatus::Overdue { last_day },
    })
}

/// R-OVD-2: the calendar year an overdue class counts in (the year of its last day).
pub fn overdue_year(start: NaiveDate, policy: &Policy) -> Result<i32, RulesError> {
    Ok(last_allowed_day(start, policy)?.year())
}

/// Overdue classes per year, from the last days of an institution's overdue classes.
pub fn overdue_counts_by_year(
    overdue_last_days: impl IntoIterator<Item = NaiveDate>,
) -> BTreeMap<i32, u32> {
    let mut out = BTreeMap::new();
    for d in overdue_last_days {
        *out.entry(d.year()).or_insert(0) += 1;
    }
    out
}

/// What one more overdue class in a year means for the institution (R-OVD-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueTally {
    pub year: i32,
    /// Overdue classes in the year, this one included.
    pub count: u32,
    /// True exactly at the (limit + 1)-th (the 4th): raise the sanction for the centre to confirm.
    pub raise_sanction: bool,
    /// True from the (limit + 1)-th on: "同年超过3次" holds.
    pub over_limit: bool,
}

/// R-OVD-2: a class became overdue; `prior_in_year` overdue classes already count in `year`.
pub fn record_overdue(prior_in_year: u32, year: i32, policy: &Policy) -> OverdueTally {
    let count = prior_in_year.saturating_add(1);
    let threshold = policy.overdue_limit_per_year.saturating_add(1);
    OverdueTally {
        year,
        count,
        raise_sanction: count == threshold,
        over_limit: count >= threshold,
    }
}

// ---------------------------------------------------------------------------------------------
// Rollover (R-PLAN-3)
// ---------------------------------------------------------------------------------------------

/// The next round's planned count: its own base and what rolled over, shown separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolledPlan {
    pub year: i32,
    /// The round's own planned count.
    pub base: u32,
    /// Unconsumed quota of the previous round of the same year.
    pub rolled_over: u32,
}

impl RolledPlan {
    /// `P` for caps (R-CAP-1) and the quota queue (R-FIL-6): base plus rollover.
    pub fn total(&self) -> u32 {
        self.base.saturating_add(self.rolled_over)
    }

    /// A slot an H1 filing released after the close is added to the rollover (R-PLAN-3).
    pub fn add_late_release(self, released: u32) -> RolledPlan {
        RolledPlan {
            rolled_over: self.rolled_over.saturating_add(released),
            ..self
        }
    }
}

/// R-PLAN-3: the closing round (`from_year`, planned `from_planned` = its P including anything
/// rolled into it) had `consumed` slots held at the close; the unconsumed `P − consumed` (never
/// negative) rolls into the next round of the same year, whose own planned count is `to_base`.
/// Different years are refused.
pub fn rollover(
    from_year: i32,
    from_planned: u32,
    consumed: u32,
    to_year: i32,
    to_base: u32,
) -> Result<RolledPlan, RulesError> {
    if from_year != to_year {
        return Err(RulesError::CrossYearRollover {
            from: from_year,
            to: to_year,
        });
    }
    Ok(RolledPlan {
        year: to_year,
        base: to_base,
        rolled_over: from_planned.saturating_sub(consumed),
    })
}

// ---------------------------------------------------------------------------------------------
// Monthly report (R-RUN-3)
// ---------------------------------------------------------------------------------------------

/// Asia/Shanghai: UTC+8 all year (no daylight saving since 1991).
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// R-RUN-3: the due date of the report for `year`-`month`: the 25th (policy) of that month.
pub fn monthly_report_due(year: i32, month: u32, policy: &Policy) -> Result<NaiveDate, RulesError> {
    NaiveDate::from_ymd_opt(year, month, policy.monthly_report_day)
        .ok_or(RulesError::InvalidMonth { year, month })
}

/// R-RUN-3: a report for `year`-`month` submitted at `submitted_at` (any time zone; converted to
/// Asia/Shanghai) is late iff its Shanghai date is after the due date, i.e. after 23:59:59.999…
/// on the 25th, Shanghai time. Early submissions are not late.
pub fn monthly_report_is_late<Tz: TimeZone>(
    year: i32,
    month: u32,
    submitted_at: &DateTime<Tz>,
    policy: &Policy,
) -> Result<bool, RulesError> {
    let due = monthly_report_due(year, month, policy)?;
    let local = submitted_at.with_timezone(&shanghai()).date_naive();
    Ok(local > due)
}

// ---------------------------------------------------------------------------------------------
// Evaluation (R-EVA-1)
// ---------------------------------------------------------------------------------------------

/// The four components of an evaluation, each 0–100 (any number of decimals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationComponents {
    /// 任务完成情况
    pub task_completion: Decimal,
    /// 教学督导
    pub supervision: Decimal,
    /// 教学档案整理
    pub archives: Decimal,
    /// 学员满意度
    pub satisfaction: Decimal,
}

/// R-EVA-1: `Σ weightᵢ × componentᵢ / 100`, exact, rounded half-up to one decimal.
pub fn evaluation_score(c: &EvaluationComponents, policy: &Policy) -> Result<Score, RulesError> {
    let w = &policy.evaluation_weights;
    let parts = [
        ("任务完成情况", c.task_completion, w.task_completion),
        ("教学督导", c.supervision, w.supervision),
        ("教学档案整理", c.archives, w.archives),
        ("学员满意度", c.satisfaction, w.satisfaction),
    ];
    let mut sum = Decimal::ZERO;
    for (name, value, weight) in parts {
        if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
            return Err(RulesError::ComponentOutOfRange {
                component: name,
                value: value.normalize().to_string(),
            });
        }
        sum += value * Decimal::from(weight);
    }
    let total: u32 = w.sum();
    let score = (sum / Decimal::from(total.max(1)))
        .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    // Components in 0..=100 and weights ≥ 0 keep the weighted mean in 0..=100.
    Ok(Score::try_from(score).expect("weighted mean of 0–100 values is 0–100"))
}

// ---------------------------------------------------------------------------------------------
// Certificate code (R-CRT-1)
// ---------------------------------------------------------------------------------------------

/// R-CRT-1: `{district 6}{year 4}{class sequence in year 4}{trainee sequence 3}`, e.g. 440105,
/// 2026, class 7, trainee 12 → "44010520260007012". Sequences start at 1; one that does not fit
/// its width is an error, never truncated.
pub fn certificate_code(
    policy: &Policy,
    year: i32,
    class_seq: u32,
    trainee_seq: u32,
) -> Result<String, RulesError> {
    if !(1000..=9999).contains(&year) {
        return Err(RulesError::YearOutOfRange(year));
    }
    if !(1..=9999).contains(&class_seq) {
        return Err(RulesError::SequenceOutOfRange {
            what: "班次序号",
            value: class_seq,
            max: 9999,
        });
    }
    if !(1..=999).contains(&trainee_seq) {
        return Err(RulesError::SequenceOutOfRange {
            what: "学员序号",
            value: trainee_seq,
            max: 999,
        });
    }
    Ok(format!(
        "{}{year:04}{class_seq:04}{trainee_seq:03}",
        policy.certificate_district_code
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn pol() -> Policy {
        Policy::haizhu_default()
    }

    #[test]
    fn r_fil_2_class_size_at_least_20() {
        assert!(check_class_size(20, &pol()).is_ok());
        assert!(check_class_size(35, &pol()).is_ok());
        let e = check_class_size(19, &pol()).unwrap_err();
        assert_eq!(e, RulesError::ClassTooSmall { count: 19, min: 20 });
        assert_eq!(e.code(), "class_too_small");
        assert!(e.to_string().contains("每班培训人数不低于20人"));
    }

    #[test]
    fn r_fil_3_filing_on_deadline_is_on_time_day_after_is_late() {
        let cal = Calendar::builtin();
        assert!(check_filing_lead(&cal, d("2026-02-10"), d("2026-03-02"), &pol()).is_ok());
        assert!(check_filing_lead(&cal, d("2026-01-20"), d("2026-03-02"), &pol()).is_ok());
        let e = check_filing_lead(&cal, d("2026-02-11"), d("2026-03-02"), &pol()).unwrap_err();
        assert_eq!(e.code(), "filing_too_late");
        assert!(e.to_string().contains("2026-02-10"));
        let e = check_filing_lead(&cal, d("2027-01-01"), d("2027-03-01"), &pol()).unwrap_err();
        assert_eq!(e.code(), "calendar_year_not_loaded");
    }

    #[test]
    fn r_fil_4_planned_end_within_30_days() {
        assert!(check_planned_end(d("2026-03-02"), d("2026-04-01"), &pol()).is_ok());
        assert!(check_planned_end(d("2026-03-02"), d("2026-03-02"), &pol()).is_ok());
        assert_eq!(
            check_planned_end(d("2026-03-02"), d("2026-04-02"), &pol())
                .unwrap_err()
                .code(),
            "end_too_late"
        );
        assert_eq!(
            check_planned_end(d("2026-03-02"), d("2026-03-01"), &pol())
                .unwrap_err()
                .code(),
            "end_before_start"
        );
    }

    #[test]
    fn r_run_1_teacher_change_notice() {
        let cal = Calendar::builtin();
        assert!(
            check_teacher_change_notice(&cal, d("2026-09-30"), d("2026-10-08"), &pol()).is_ok()
        );
        assert_eq!(
            check_teacher_change_notice(&cal, d("2026-10-01"), d("2026-10-08"), &pol())
                .unwrap_err()
                .code(),
            "teacher_change_too_late"
        );
    }

    #[test]
    fn r_ovd_1_overdue_status() {
        let p = pol();
        let start = d("2026-03-02");
        assert_eq!(
            overdue_status(start, Some(d("2026-04-01")), d("2026-05-01"), &p).unwrap(),
            OverdueStatus::CompletedOnTime {
                completed_on: d("2026-04-01"),
                last_day: d("2026-04-01")
            }
        );
        let late = overdue_status(start, Some(d("2026-04-02")), d("2026-05-01"), &p).unwrap();
        assert!(late.is_overdue());
        assert_eq!(late.label_zh(), "超期完成（不享受该班次补贴）");
        assert_eq!(
            overdue_status(start, None, d("2026-04-01"), &p).unwrap(),
            OverdueStatus::Running {
                last_day: d("2026-04-01"),
                days_left: 0
            }
        );
        let o = overdue_status(start, None, d("2026-04-02"), &p).unwrap();
        assert_eq!(
            o,
            OverdueStatus::Overdue {
                last_day: d("2026-04-01")
            }
        );
        assert!(o.is_overdue());
        assert_eq!(
            overdue_status(start, Some(d("2026-03-01")), d("2026-04-02"), &p)
                .unwrap_err()
                .code(),
            "completed_before_start"
        );
    }

    #[test]
    fn r_ovd_2_year_is_the_year_of_the_last_day() {
        // Starts 2025-12-15, last day 2026-01-14: counts in 2026.
        assert_eq!(overdue_year(d("2025-12-15"), &pol()).unwrap(), 2026);
        assert_eq!(overdue_year(d("2025-12-01"), &pol()).unwrap(), 2025);
        let counts = overdue_counts_by_year([d("2025-12-31"), d("2026-01-14"), d("2026-05-01")]);
        assert_eq!(counts.get(&2025), Some(&1));
        assert_eq!(counts.get(&2026), Some(&2));
    }

    #[test]
    fn r_ovd_2_sanction_raised_exactly_at_the_4th() {
        let p = pol();
        let tallies: Vec<OverdueTally> = (0..6)
            .map(|prior| record_overdue(prior, 2026, &p))
            .collect();
        assert_eq!(
            tallies.iter().map(|t| t.raise_sanction).collect::<Vec<_>>(),
            [false, false, false, true, false, false]
        );
        assert_eq!(
            tallies.iter().map(|t| t.over_limit).collect::<Vec<_>>(),
            [false, false, false, true, true, true]
        );
        assert_eq!(tallies[3].count, 4);
    }

    #[test]
    fn r_plan_3_rollover_base_and_rolled_shown_separately() {
        let r = rollover(2026, 40, 31, 2026, 40).unwrap();
        assert_eq!(
            r,
            RolledPlan {
                year: 2026,
                base: 40,
                rolled_over: 9
            }
        );
        assert_eq!(r.total(), 49);
        let r = r.add_late_release(2);
        assert_eq!((r.base, r.rolled_over, r.total()), (40, 11, 51));
        // Never negative (P lowered after filings were granted).
        assert_eq!(rollover(2026, 30, 33, 2026, 40).unwrap().rolled_over, 0);
        // Never across years.
        let e = rollover(2025, 40, 10, 2026, 40).unwrap_err();
        assert_eq!(
            e,
            RulesError::CrossYearRollover {
                from: 2025,
                to: 2026
            }
        );
        assert!(e.to_string().contains("2025年不能结转至2026年"));
    }

    #[test]
    fn r_run_3_monthly_report_due_on_25th() {
        assert_eq!(
            monthly_report_due(2026, 2, &pol()).unwrap(),
            d("2026-02-25")
        );
        assert_eq!(
            monthly_report_due(2026, 13, &pol()).unwrap_err().code(),
            "invalid_month"
        );
    }

    #[test]
    fn r_run_3_lateness_is_judged_in_shanghai_time() {
        let p = pol();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
        assert!(!monthly_report_is_late(2026, 3, &at("2026-03-25T23:59:59+08:00"), &p).unwrap());
        assert!(monthly_report_is_late(2026, 3, &at("2026-03-26T00:00:00+08:00"), &p).unwrap());
        // 2026-03-25T16:30Z is 2026-03-26 00:30 in Shanghai: late.
        assert!(monthly_report_is_late(2026, 3, &at("2026-03-25T16:30:00Z"), &p).unwrap());
        // 2026-03-25T15:59Z is 23:59 in Shanghai: on time.
        let utc = at("2026-03-25T15:59:00Z").with_timezone(&Utc);
        assert!(!monthly_report_is_late(2026, 3, &utc, &p).unwrap());
        assert!(!monthly_report_is_late(2026, 3, &at("2026-03-01T09:00:00+08:00"), &p).unwrap());
    }

    #[test]
    fn r_eva_1_weighted_score_one_decimal_half_up() {
        let p = pol();
        let c = EvaluationComponents {
            task_completion: dec!(90),
            supervision: dec!(85),
            archives: dec!(80),
            satisfaction: dec!(95),
        };
        // 0.4×90 + 0.2×(85+80+95) = 36 + 52 = 88
        assert_eq!(evaluation_score(&c, &p).unwrap().to_string(), "88");
        let c = EvaluationComponents {
            task_completion: dec!(90.125),
            supervision: dec!(85),
            archives: dec!(80),
            satisfaction: dec!(95),
        };
        // 36.05 + 52 = 88.05 → 88.1 (half-up)
        assert_eq!(evaluation_score(&c, &p).unwrap().to_string(), "88.1");
        let c = EvaluationComponents {
            task_completion: dec!(100.5),
            ..c
        };
        let e = evaluation_score(&c, &p).unwrap_err();
        assert_eq!(e.code(), "component_out_of_range");
        assert!(e.to_string().contains("任务完成情况"));
    }

    #[test]
    fn r_crt_1_certificate_code_format() {
        let p = pol();
        assert_eq!(
            certificate_code(&p, 2026, 7, 12).unwrap(),
            "44010520260007012"
        );
        assert_eq!(
            certificate_code(&p, 2026, 9999, 999).unwrap(),
            "44010520269999999"
        );
        assert_eq!(certificate_code(&p, 2026, 7, 12).unwrap().len(), 17);
        let e = certificate_code(&p, 2026, 10_000, 1).unwrap_err();
        assert_eq!(e.code(), "sequence_out_of_range");
        assert!(e.to_string().contains("班次序号"));
        assert!(certificate_code(&p, 2026, 1, 1000).is_err());
        assert!(certificate_code(&p, 2026, 0, 1).is_err());
        assert!(certificate_code(&p, 2026, 1, 0).is_err());
        assert!(certificate_code(&p, 12026, 1, 1).is_err());
    }
}
