//! The schedule (课程表) of a filing (R-FIL-1, SPEC.md §4): each session's date, times, topic,
//! teacher and hours.
//!
//! Refused: hours that do not add up to the declared total (exact decimals), sessions before
//! the start date or after the planned end, an end time not after the start time, empty
//! topics, non-positive hours. Flagged (warning): sessions on non-working days (allowed —
//! weekend classes are common — but shown to the reviewer). One teacher in two overlapping
//! sessions is refused, within the class ([`check_schedule`]) and against other classes
//! ([`teacher_conflicts_with_others`]).

use crate::calendar::Calendar;
use crate::filing::FilingProblem;
use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One session of the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub date: NaiveDate,
    pub start_time: NaiveTime,
    pub end_time: NaiveTime,
    pub topic: String,
    /// The teacher's id in the institution's directory.
    pub teacher_id: i64,
    /// 课时 (may be fractional, e.g. 1.5).
    pub hours: Decimal,
}

impl Session {
    /// Same day, and the time ranges `[start, end)` intersect.
    pub fn overlaps(&self, other: &Session) -> bool {
        self.date == other.date
            && self.start_time < other.end_time
            && other.start_time < self.end_time
    }
}

/// What [`check_schedule`] needs besides the sessions.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleContext<'a> {
    /// The filing's declared total hours.
    pub declared_hours: Decimal,
    pub start: NaiveDate,
    pub planned_end: NaiveDate,
    pub calendar: &'a Calendar,
}

fn hm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

/// Checks a class's schedule; returns every problem (errors and warnings). Fields are
/// `sessions[i]…` (0-based index in the given order).
pub fn check_schedule(sessions: &[Session], ctx: &ScheduleContext<'_>) -> Vec<FilingProblem> {
    let mut out = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        let f = |k: &str| format!("sessions[{i}].{k}");
        if s.end_time <= s.start_time {
            out.push(FilingProblem::error(
                "SCH_END_NOT_AFTER_START",
                f("end_time"),
                format!(
                    "{}的课程结束时间{}须晚于开始时间{}",
                    s.date,
                    hm(s.end_time),
                    hm(s.start_time)
                ),
            ));
        }
        if s.topic.trim().is_empty() {
            out.push(FilingProblem::error(
                "SCH_TOPIC_MISSING",
                f("topic"),
                format!("{}的课程未填写授课内容", s.date),
            ));
        }
        if s.hours <= Decimal::ZERO {
            out.push(FilingProblem::error(
                "SCH_HOURS",
                f("hours"),
                format!("{}的课程课时须大于0", s.date),
            ));
        }
        if s.date < ctx.start {
            out.push(FilingProblem::error(
                "SCH_BEFORE_START",
                f("date"),
                format!("课程日期{}早于开班日期{}", s.date, ctx.start),
            ));
        } else if s.date > ctx.planned_end {
            out.push(FilingProblem::error(
                "SCH_AFTER_END",
                f("date"),
                format!("课程日期{}晚于计划结束日期{}", s.date, ctx.planned_end),
            ));
        }
        match ctx.calendar.day_kind(s.date) {
            Ok(kind) if !kind.is_working() => out.push(FilingProblem::warning(
                "SCH_NON_WORKING_DAY",
                f("date"),
                format!(
                    "课程日期{}为{}（非工作日），请确认",
                    s.date,
                    kind.label_zh()
                ),
            )),
            Ok(_) => {}
            Err(e) => out.push(FilingProblem::error(
                "SCH_CALENDAR_YEAR_NOT_LOADED",
                f("date"),
                e.to_string(),
            )),
        }
        for (j, t) in sessions.iter().enumerate().skip(i + 1) {
            if s.teacher_id == t.teacher_id && s.overlaps(t) {
                out.push(FilingProblem::error(
                    "SCH_TEACHER_DOUBLE_BOOKED",
                    format!("sessions[{j}].teacher"),
                    format!(
                        "同一教师在{} {}–{}与{}–{}两节课程时间重叠",
                        t.date,
                        hm(s.start_time),
                        hm(s.end_time),
                        hm(t.start_time),
                        hm(t.end_time)
                    ),
                ));
            }
        }
    }
    let total: Decimal = sessions.iter().map(|s| s.hours).sum();
    if total != ctx.declared_hours {
        out.push(FilingProblem::error(
            "SCH_HOURS_TOTAL",
            "sessions",
            format!(
                "课程表课时合计{}，与申报的培训课时{}不一致",
                total.normalize(),
                ctx.declared_hours.normalize()
            ),
        ));
    }
    out
}

/// A session of another class (any institution), for teacher conflicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherSession<'a> {
    pub class_id: i64,
    pub session: &'a Session,
}

/// SPEC.md §4: a teacher of this class booked at the same time in another class. One problem
/// per (session, other session) pair.
pub fn teacher_conflicts_with_others(
    sessions: &[Session],
    others: &[OtherSession<'_>],
) -> Vec<FilingProblem> {
    let mut out = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        for o in others {
            if o.session.teacher_id == s.teacher_id && s.overlaps(o.session) {
                out.push(FilingProblem::error(
                    "SCH_TEACHER_BOOKED_ELSEWHERE",
                    format!("sessions[{i}].teacher"),
                    format!(
                        "该教师在{} {}–{}已安排其他班次（班次编号{}）的课程",
                        s.date,
                        hm(o.session.start_time),
                        hm(o.session.end_time),
                        o.class_id
                    ),
                ));
            }
        }
    }
    out
}
