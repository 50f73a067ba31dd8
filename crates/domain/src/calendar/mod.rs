//! Working days (R-CAL-1) and the deadlines built on them (R-FIL-3, R-FIL-4, R-RUN-1).
//!
//! A working day is a Monday–Friday that is not a statutory holiday, or a Saturday/Sunday that the
//! State Council's notice makes a working day (调休上班). Tables come per year from
//! `data/holidays.toml` (2025 and 2026 ship compiled in and seed the database); a sysadmin loads
//! later years at run time in the same format, checked line by line ([`check_toml`]) and then
//! against the loaded years ([`Calendar::add_year`]). Asking about a date whose year has no table
//! is [`CalendarError::YearNotLoaded`], never a guess.
//!
//! All dates are Asia/Shanghai calendar dates ([`NaiveDate`]).

use crate::policy::Policy;
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

mod table;
pub use table::{
    MAX_OFF_RANGE_DAYS, OffRange, TablePart, TomlCheck, TomlProblem, YearTable, check_toml,
};

/// The tables that ship with the system (SPEC.md §6).
pub const BUILTIN_HOLIDAYS_TOML: &str = include_str!("../../data/holidays.toml");

/// What kind of day a date is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayKind {
    /// An ordinary Monday–Friday.
    Workday,
    /// An ordinary Saturday or Sunday.
    Weekend,
    /// Inside a holiday period of the notice.
    Holiday { name: String },
    /// A Saturday or Sunday made a working day (调休上班).
    AdjustedWorkday,
}

impl DayKind {
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Workday | DayKind::AdjustedWorkday)
    }

    /// Chinese label for pages.
    pub fn label_zh(&self) -> String {
        match self {
            DayKind::Workday => "工作日".to_string(),
            DayKind::Weekend => "休息日".to_string(),
            DayKind::Holiday { name } => format!("法定节假日（{name}）"),
            DayKind::AdjustedWorkday => "调休上班".to_string(),
        }
    }
}

/// Calendar errors. Messages are Chinese, then English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error(
        "{0}年的节假日安排尚未载入，无法按工作日计算。请联系系统管理员在“节假日安排”页面\
         （或用 peixun calendar import）按国务院办公厅通知载入{0}年的安排 / \
         the holiday table for {0} is not loaded, so working days cannot be computed; \
         a sysadmin loads it on the calendar page or with `peixun calendar import`"
    )]
    YearNotLoaded(i32),
    #[error("{0}年的节假日安排已载入，不能重复载入 / the holiday table for {0} is already loaded")]
    YearAlreadyLoaded(i32),
    #[error("节假日表格式错误：{0} / holiday table is not valid TOML: {0}")]
    Syntax(String),
    #[error("{year}年节假日表有误：{zh} / holiday table for {year} is invalid: {en}")]
    Invalid { year: i32, zh: String, en: String },
    #[error("日期超出可计算范围 / date out of range")]
    OutOfRange,
}

impl CalendarError {
    /// The Chinese half of the message (pages show it; the API and logs keep both halves).
    pub fn message_zh(&self) -> String {
        let full = self.to_string();
        match full.split_once(" / ") {
            Some((zh, _)) => zh.to_string(),
            None => full,
        }
    }
}

pub(crate) fn invalid(year: i32, zh: impl Into<String>, en: impl Into<String>) -> CalendarError {
    CalendarError::Invalid {
        year,
        zh: zh.into(),
        en: en.into(),
    }
}

pub(crate) fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Working days for the years whose tables are loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i32, YearTable>,
    off: BTreeMap<NaiveDate, String>,
    working: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// A calendar with no year loaded: every question is `YearNotLoaded`.
    pub fn empty() -> Calendar {
        Calendar::default()
    }

    /// The 2025 and 2026 tables compiled in from `data/holidays.toml`.
    pub fn builtin() -> Calendar {
        Calendar::from_toml(BUILTIN_HOLIDAYS_TOML)
            .expect("the built-in holiday table is valid (checked by a unit test)")
    }

    /// Parses tables in the `data/holidays.toml` format, without loading them: the first problem
    /// [`check_toml`] finds, or every table.
    pub fn parse_tables(text: &str) -> Result<Vec<YearTable>, CalendarError> {
        table::parse_tables(text)
    }

    /// A calendar holding exactly the tables in `text` (validated, see [`Calendar::add_year`]).
    pub fn from_toml(text: &str) -> Result<Calendar, CalendarError> {
        let mut cal = Calendar::empty();
        for t in Calendar::parse_tables(text)? {
            cal.add_year(t)?;
        }
        Ok(cal)
    }

    /// Loads one year. Fails if the table is invalid, the year is already loaded, or it
    /// contradicts a loaded year (a day off in one table and a working day in another).
    pub fn add_year(&mut self, table: YearTable) -> Result<(), CalendarError> {
        table.validate()?;
        let y = table.year;
        if self.years.contains_key(&y) {
            return Err(CalendarError::YearAlreadyLoaded(y));
        }
        let mut new_off = Vec::new();
        for r in &table.off {
            let mut d = r.from;
            while d <= r.to {
                if self.working.contains(&d) {
                    return Err(invalid(
                        y,
                        format!("{d}（{}）在已载入的表中是调休上班日", r.name),
                        format!("{d} ({}) is a working day in a loaded table", r.name),
                    ));
                }
                if let Some(other) = self.off.get(&d) {
                    return Err(invalid(
                        y,
                        format!("{d}（{}）已在已载入的表中列为假期（{other}）", r.name),
                        format!(
                            "{d} ({}) is already an off day in a loaded table ({other})",
                            r.name
                        ),
                    ));
                }
                new_off.push((d, r.name.clone()));
                d = d
                    .checked_add_days(Days::new(1))
                    .ok_or(CalendarError::OutOfRange)?;
            }
        }
        for d in &table.working_days {
            if let Some(name) = self.off.get(d) {
                return Err(invalid(
                    y,
                    format!("调休上班日 {d} 在已载入的表中是假期（{name}）"),
                    format!("working day {d} is an off day ({name}) in a loaded table"),
                ));
            }
        }
        self.off.extend(new_off);
        self.working.extend(table.working_days.iter().copied());
        self.years.insert(y, table);
        Ok(())
    }

    /// Loads every year of `other` (e.g. sysadmin-added years read from storage). All or nothing.
    pub fn merge(&mut self, other: Calendar) -> Result<(), CalendarError> {
        let mut next = self.clone();
        for (_, t) in other.years {
            next.add_year(t)?;
        }
        *self = next;
        Ok(())
    }

    /// The same calendar without `year` (to check a replacement table against the other years).
    pub fn without_year(&self, year: i32) -> Calendar {
        let mut out = Calendar::empty();
        for t in self.years.values().filter(|t| t.year != year) {
            out.add_year(t.clone())
                .expect("tables that loaded together still load without one of them");
        }
        out
    }

    /// The loaded tables, by year.
    pub fn years(&self) -> impl Iterator<Item = &YearTable> {
        self.years.values()
    }

    /// The table for one year, if loaded.
    pub fn year(&self, year: i32) -> Option<&YearTable> {
        self.years.get(&year)
    }

    pub fn is_year_loaded(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// What kind of day `date` is; `YearNotLoaded` if its year has no table.
    pub fn day_kind(&self, date: NaiveDate) -> Result<DayKind, CalendarError> {
        if !self.is_year_loaded(date.year()) {
            return Err(CalendarError::YearNotLoaded(date.year()));
        }
        Ok(if let Some(name) = self.off.get(&date) {
            DayKind::Holiday { name: name.clone() }
        } else if self.working.contains(&date) {
            DayKind::AdjustedWorkday
        } else if is_weekend(date) {
            DayKind::Weekend
        } else {
            DayKind::Workday
        })
    }

    /// R-CAL-1. `YearNotLoaded` if the date's year has no table.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.day_kind(date)?.is_working())
    }

    /// Steps `n` working days from `date`, the date itself not counted.
    ///
    /// - `n > 0`: the n-th working day after `date` (`+1` from a Friday is the next working day).
    /// - `n < 0`: the |n|-th working day before `date`.
    /// - `n == 0`: `date` itself, unchanged, whether or not it is a working day (its year must
    ///   still be loaded). Callers needing a working day check [`Calendar::is_working_day`].
    ///
    /// `date` need not be a working day. Every date visited must lie in a loaded year, else
    /// `YearNotLoaded` names the first missing year reached.
    pub fn shift_working_days(&self, date: NaiveDate, n: i32) -> Result<NaiveDate, CalendarError> {
        if !self.is_year_loaded(date.year()) {
            return Err(CalendarError::YearNotLoaded(date.year()));
        }
        let mut left = n.unsigned_abs();
        let mut d = date;
        while left > 0 {
            d = if n > 0 {
                d.checked_add_days(Days::new(1))
            } else {
                d.checked_sub_days(Days::new(1))
            }
            .ok_or(CalendarError::OutOfRange)?;
            if self.is_working_day(d)? {
                left -= 1;
            }
        }
        Ok(d)
    }

    /// R-FIL-3: the last day a filing for a class starting on `start` may be submitted: step back
    /// `policy.filing_lead_working_days` (10) working days from `start`, `start` not counted.
    /// 2026-03-02 → 2026-02-10.
    pub fn filing_deadline(
        &self,
        start: NaiveDate,
        policy: &Policy,
    ) -> Result<NaiveDate, CalendarError> {
        self.shift_working_days(start, -lead(policy.filing_lead_working_days)?)
    }

    /// R-RUN-1: the last day a teacher change effective on `effective` may be reported
    /// (`policy.teacher_change_lead_working_days`, 1, working days before). 2026-10-08 → 2026-09-30.
    pub fn teacher_change_deadline(
        &self,
        effective: NaiveDate,
        policy: &Policy,
    ) -> Result<NaiveDate, CalendarError> {
        self.shift_working_days(effective, -lead(policy.teacher_change_lead_working_days)?)
    }

    /// R-FIL-4: see [`last_allowed_day`]. Calendar days, so no table is needed.
    pub fn last_allowed_day(
        &self,
        start: NaiveDate,
        policy: &Policy,
    ) -> Result<NaiveDate, CalendarError> {
        last_allowed_day(start, policy)
    }
}

fn lead(days: u32) -> Result<i32, CalendarError> {
    i32::try_from(days).map_err(|_| CalendarError::OutOfRange)
}

/// R-FIL-4 / R-OVD-1: the last day by which a class starting on `start` must have finished
/// training and exam: `start + policy.class_window_days` (30) calendar days, the first day not
/// counted (民法典 第二百零一条). 2026-03-02 → 2026-04-01.
pub fn last_allowed_day(start: NaiveDate, policy: &Policy) -> Result<NaiveDate, CalendarError> {
    start
        .checked_add_days(Days::new(u64::from(policy.class_window_days)))
        .ok_or(CalendarError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn cal() -> Calendar {
        Calendar::builtin()
    }

    fn p() -> Policy {
        Policy::haizhu_default()
    }

    #[test]
    fn r_cal_1_builtin_loads_2025_and_2026() {
        let c = cal();
        assert_eq!(
            c.years().map(|t| t.year).collect::<Vec<_>>(),
            vec![2025, 2026]
        );
        assert_eq!(c.year(2026).unwrap().working_days.len(), 6);
        assert_eq!(c.year(2025).unwrap().off.len(), 6);
    }

    #[test]
    fn r_cal_1_day_kinds() {
        let c = cal();
        assert_eq!(
            c.day_kind(d("2026-02-14")).unwrap(),
            DayKind::AdjustedWorkday
        );
        assert_eq!(
            c.day_kind(d("2026-02-17")).unwrap(),
            DayKind::Holiday {
                name: "春节".into()
            }
        );
        assert_eq!(c.day_kind(d("2026-03-07")).unwrap(), DayKind::Weekend);
        assert_eq!(c.day_kind(d("2026-03-09")).unwrap(), DayKind::Workday);
        assert!(c.is_working_day(d("2025-10-11")).unwrap());
        assert!(!c.is_working_day(d("2025-10-08")).unwrap());
        assert!(!c.is_working_day(d("2026-01-03")).unwrap()); // Saturday inside 元旦
        assert_eq!(
            DayKind::Holiday {
                name: "春节".into()
            }
            .label_zh(),
            "法定节假日（春节）"
        );
    }

    #[test]
    fn r_cal_1_working_day_counts_per_year() {
        // 2025 and 2026 both have 248 working days under the notices.
        for (y, expected) in [(2025, 248), (2026, 248)] {
            let c = cal();
            let mut day = NaiveDate::from_ymd_opt(y, 1, 1).unwrap();
            let mut n = 0;
            while day.year() == y {
                if c.is_working_day(day).unwrap() {
                    n += 1;
                }
                day = day.succ_opt().unwrap();
            }
            assert_eq!(n, expected, "{y}");
        }
    }

    #[test]
    fn r_cal_1_year_not_loaded_is_an_error_naming_the_year() {
        let c = cal();
        let e = c.is_working_day(d("2027-03-01")).unwrap_err();
        assert_eq!(e, CalendarError::YearNotLoaded(2027));
        let msg = e.to_string();
        assert!(
            msg.contains("2027年") && msg.contains("not loaded"),
            "{msg}"
        );
        assert_eq!(
            c.is_working_day(d("2024-12-31")).unwrap_err(),
            CalendarError::YearNotLoaded(2024)
        );
        // Stepping out of the loaded years names the missing one.
        assert_eq!(
            c.filing_deadline(d("2025-01-06"), &p()).unwrap_err(),
            CalendarError::YearNotLoaded(2024)
        );
        assert_eq!(
            c.shift_working_days(d("2026-12-30"), 5).unwrap_err(),
            CalendarError::YearNotLoaded(2027)
        );
        assert_eq!(
            c.shift_working_days(d("2027-01-04"), 0).unwrap_err(),
            CalendarError::YearNotLoaded(2027)
        );
        assert_eq!(
            Calendar::empty()
                .is_working_day(d("2026-01-05"))
                .unwrap_err(),
            CalendarError::YearNotLoaded(2026)
        );
    }

    #[test]
    fn r_cal_1_shift_zero_and_signs() {
        let c = cal();
        assert_eq!(
            c.shift_working_days(d("2026-03-04"), 0).unwrap(),
            d("2026-03-04")
        );
        // n = 0 on a day off returns it unchanged (documented).
        assert_eq!(
            c.shift_working_days(d("2026-03-07"), 0).unwrap(),
            d("2026-03-07")
        );
        // Friday + 1 → Monday; Monday − 1 → Friday.
        assert_eq!(
            c.shift_working_days(d("2026-03-06"), 1).unwrap(),
            d("2026-03-09")
        );
        assert_eq!(
            c.shift_working_days(d("2026-03-09"), -1).unwrap(),
            d("2026-03-06")
        );
        // Across the Spring Festival forwards: 02-13 (Fri) + 1 → 02-14 (working Sat), + 2 → 02-24.
        assert_eq!(
            c.shift_working_days(d("2026-02-13"), 1).unwrap(),
            d("2026-02-14")
        );
        assert_eq!(
            c.shift_working_days(d("2026-02-13"), 2).unwrap(),
            d("2026-02-24")
        );
        // From a holiday: 2026-10-03 + 1 → 10-08.
        assert_eq!(
            c.shift_working_days(d("2026-10-03"), 1).unwrap(),
            d("2026-10-08")
        );
        // Across the year boundary 2025 → 2026: 2026-01-05 (Mon) − 1 → 2026-01-04 (working Sun).
        assert_eq!(
            c.shift_working_days(d("2026-01-05"), -1).unwrap(),
            d("2026-01-04")
        );
        assert_eq!(
            c.shift_working_days(d("2026-01-04"), -1).unwrap(),
            d("2025-12-31")
        );
    }

    // ---- SPEC.md §5 worked examples ----

    #[test]
    fn r_fil_3_deadline_crosses_spring_festival() {
        assert_eq!(
            cal().filing_deadline(d("2026-03-02"), &p()).unwrap(),
            d("2026-02-10")
        );
    }

    #[test]
    fn r_fil_3_deadline_crosses_national_day() {
        assert_eq!(
            cal().filing_deadline(d("2026-10-12"), &p()).unwrap(),
            d("2026-09-21")
        );
    }

    #[test]
    fn r_fil_3_deadline_crosses_new_year_into_2025() {
        assert_eq!(
            cal().filing_deadline(d("2026-01-05"), &p()).unwrap(),
            d("2025-12-19")
        );
    }

    #[test]
    fn r_run_1_teacher_change_after_national_day() {
        assert_eq!(
            cal()
                .teacher_change_deadline(d("2026-10-08"), &p())
                .unwrap(),
            d("2026-09-30")
        );
    }

    #[test]
    fn r_run_1_teacher_change_on_working_saturday() {
        assert_eq!(
            cal()
                .teacher_change_deadline(d("2026-03-02"), &p())
                .unwrap(),
            d("2026-02-28")
        );
    }

    #[test]
    fn r_fil_4_last_day_is_start_plus_30() {
        assert_eq!(
            last_allowed_day(d("2026-03-02"), &p()).unwrap(),
            d("2026-04-01")
        );
        assert_eq!(
            cal().last_allowed_day(d("2026-03-02"), &p()).unwrap(),
            d("2026-04-01")
        );
        // Calendar days: no table needed.
        assert_eq!(
            last_allowed_day(d("2030-01-31"), &p()).unwrap(),
            d("2030-03-02")
        );
    }

    #[test]
    fn r_pol_1_deadlines_follow_the_policy_numbers() {
        let mut pol = p();
        pol.filing_lead_working_days = 5;
        pol.teacher_change_lead_working_days = 2;
        pol.class_window_days = 10;
        let c = cal();
        assert_eq!(
            c.filing_deadline(d("2026-03-02"), &pol).unwrap(),
            d("2026-02-24")
        );
        assert_eq!(
            c.teacher_change_deadline(d("2026-03-02"), &pol).unwrap(),
            d("2026-02-27")
        );
        assert_eq!(
            last_allowed_day(d("2026-03-02"), &pol).unwrap(),
            d("2026-03-12")
        );
    }

    // ---- loading and validating tables ----

    const Y2027: &str = r#"
[[year]]
year = 2027
source = "test notice"
working_days = [2027-02-06]

[[year.off]]
name = "春节"
from = 2027-02-07
to = "2027-02-13"
"#;

    #[test]
    fn r_cal_1_sysadmin_year_merges_and_bare_dates_parse() {
        let mut c = cal();
        let extra = Calendar::from_toml(Y2027).unwrap();
        c.merge(extra).unwrap();
        assert!(c.is_working_day(d("2027-02-06")).unwrap()); // Saturday
        assert!(!c.is_working_day(d("2027-02-08")).unwrap());
        assert!(c.is_working_day(d("2027-03-01")).unwrap());
        // Loading the same year twice is refused, and leaves the calendar as it was.
        let before = c.clone();
        let e = c.merge(Calendar::from_toml(Y2027).unwrap()).unwrap_err();
        assert_eq!(e, CalendarError::YearAlreadyLoaded(2027));
        assert_eq!(c, before);
    }

    fn err_of(toml: &str) -> String {
        Calendar::from_toml(toml).unwrap_err().to_string()
    }

    #[test]
    fn r_cal_1_validation_errors_are_clear() {
        let weekday_work = r#"
[[year]]
year = 2027
source = "x"
working_days = ["2027-03-03"]
"#;
        let m = err_of(weekday_work);
        assert!(
            m.contains("不是周六或周日") && m.contains("2027-03-03"),
            "{m}"
        );

        let both = r#"
[[year]]
year = 2027
source = "x"
working_days = ["2027-02-06"]
[[year.off]]
name = "春节"
from = "2027-02-05"
to = "2027-02-07"
"#;
        let m = err_of(both);
        assert!(m.contains("既是调休上班日") && m.contains("春节"), "{m}");

        let reversed = r#"
[[year]]
year = 2027
source = "x"
[[year.off]]
name = "春节"
from = "2027-02-13"
to = "2027-02-07"
"#;
        assert!(err_of(reversed).contains("早于开始日期"));

        let wrong_year = r#"
[[year]]
year = 2027
source = "x"
working_days = ["2026-02-14"]
"#;
        assert!(err_of(wrong_year).contains("不在2027年内"));

        let too_long = r#"
[[year]]
year = 2027
source = "x"
[[year.off]]
name = "国庆节"
from = "2027-10-01"
to = "2027-12-07"
"#;
        assert!(err_of(too_long).contains("请核对"));

        let overlap = r#"
[[year]]
year = 2027
source = "x"
[[year.off]]
name = "A"
from = "2027-10-01"
to = "2027-10-03"
[[year.off]]
name = "B"
from = "2027-10-03"
to = "2027-10-05"
"#;
        assert!(err_of(overlap).contains("重叠"));

        let bad_date = r#"
[[year]]
year = 2027
source = "x"
working_days = ["2027-02-30"]
"#;
        assert!(err_of(bad_date).contains("YYYY-MM-DD"));

        let no_source = r#"
[[year]]
year = 2027
source = " "
"#;
        assert!(err_of(no_source).contains("source"));

        assert!(err_of("[[year]]\nyear = ").contains("TOML"));
        assert!(err_of("[[year]]\nyear = 2027\nsource = \"x\"\nholidays = []\n").contains("TOML"));

        let dup = format!("{Y2027}\n{Y2027}");
        assert_eq!(
            Calendar::from_toml(&dup).unwrap_err(),
            CalendarError::YearAlreadyLoaded(2027)
        );
    }

    #[test]
    fn r_cal_1_new_year_range_may_start_in_previous_december() {
        // Like the 2024 notice: 元旦 2023-12-30 … 2024-01-01.
        let t = r#"
[[year]]
year = 2024
source = "x"
[[year.off]]
name = "元旦"
from = "2023-12-30"
to = "2024-01-01"
"#;
        let c = Calendar::from_toml(t).unwrap();
        assert!(!c.is_working_day(d("2024-01-01")).unwrap());
        // 2023 itself is still not loaded.
        assert_eq!(
            c.is_working_day(d("2023-12-29")).unwrap_err(),
            CalendarError::YearNotLoaded(2023)
        );
    }

    #[test]
    fn r_cal_1_year_table_round_trips_through_json() {
        let c = cal();
        let t = c.year(2026).unwrap();
        let json = serde_json::to_string(t).unwrap();
        let back: YearTable = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, t);
        let mut fresh = Calendar::empty();
        fresh.add_year(back).unwrap();
        assert!(fresh.is_working_day(d("2026-02-28")).unwrap());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn date_in_loaded_years() -> impl Strategy<Value = NaiveDate> {
        // 2025-04-01 … 2026-10-31, so ±40 working days stay inside 2025–2026.
        (0u64..579).prop_map(|k| {
            NaiveDate::from_ymd_opt(2025, 4, 1)
                .unwrap()
                .checked_add_days(Days::new(k))
                .unwrap()
        })
    }

    proptest! {
        #[test]
        fn r_cal_1_shift_forward_then_back_returns_to_working_day_not_after_start(
            start in date_in_loaded_years(), n in 1i32..=40,
        ) {
            let cal = Calendar::builtin();
            let there = cal.shift_working_days(start, n).unwrap();
            let back = cal.shift_working_days(there, -n).unwrap();
            prop_assert!(cal.is_working_day(back).unwrap());
            prop_assert!(back <= start);
            if cal.is_working_day(start).unwrap() {
                prop_assert_eq!(back, start);
            }
            // Both directions land on working days, strictly on the right side.
            prop_assert!(cal.is_working_day(there).unwrap() && there > start);
            let before = cal.shift_working_days(start, -n).unwrap();
            prop_assert!(cal.is_working_day(before).unwrap() && before < start);
        }

        #[test]
        fn r_cal_1_shift_counts_exactly_n_working_days(start in date_in_loaded_years(), n in 1i32..=40) {
            let cal = Calendar::builtin();
            let end = cal.shift_working_days(start, n).unwrap();
            let mut count = 0;
            let mut d = start.succ_opt().unwrap();
            while d <= end {
                if cal.is_working_day(d).unwrap() { count += 1; }
                d = d.succ_opt().unwrap();
            }
            prop_assert_eq!(count, n);
        }
    }
}
