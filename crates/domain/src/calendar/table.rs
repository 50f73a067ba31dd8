//! One year's holiday table (R-CAL-1): its shape, its load checks, and the TOML format of
//! `data/holidays.toml` that a sysadmin pastes or uploads.
//!
//! [`YearTable::issues`] finds every problem of a table at once; [`check_toml`] does the same for
//! a whole file and puts each problem on the line it comes from, so that the calendar page can
//! show it beside that line.

use super::{CalendarError, invalid, is_weekend};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::ops::Range;
use toml::Spanned;

/// The longest off range a table may hold, in days: catches a typo such as 10-07 → 12-07.
pub const MAX_OFF_RANGE_DAYS: i64 = 15;

/// One holiday period of a notice, both ends included (e.g. 春节 2026-02-15 … 2026-02-23).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffRange {
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl OffRange {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

/// One year's notice: its holiday periods and its adjusted working weekend days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearTable {
    pub year: i32,
    /// The notice it was copied from (title, document number).
    pub source: String,
    pub off: Vec<OffRange>,
    pub working_days: Vec<NaiveDate>,
}

/// The part of a table a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "part", content = "index", rename_all = "snake_case")]
pub enum TablePart {
    Year,
    Source,
    /// `off[i]`, in the order written.
    Off(usize),
    /// `working_days[i]`, in the order written.
    WorkingDay(usize),
}

impl YearTable {
    /// Checks a table on its own (see the header of `data/holidays.toml`): the first problem.
    pub fn validate(&self) -> Result<(), CalendarError> {
        match self.issues().into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }

    /// Every problem of the table on its own, each with the part it is about, in a stable order
    /// (year, source, off ranges, overlaps, working days).
    pub fn issues(&self) -> Vec<(TablePart, CalendarError)> {
        let y = self.year;
        let mut out = Vec::new();
        if !(1949..=9998).contains(&y) {
            out.push((
                TablePart::Year,
                invalid(y, "年份超出范围", "year out of range"),
            ));
            return out;
        }
        if self.source.trim().is_empty() {
            out.push((
                TablePart::Source,
                invalid(
                    y,
                    "须注明来源通知（source）",
                    "the source notice (source) is required",
                ),
            ));
        }
        let first_allowed = NaiveDate::from_ymd_opt(y - 1, 12, 1);
        let in_year = |d: NaiveDate| d.year() == y;
        for (i, r) in self.off.iter().enumerate() {
            let at = TablePart::Off(i);
            if r.name.trim().is_empty() {
                out.push((
                    at,
                    invalid(
                        y,
                        format!("{} 起的假期缺少名称", r.from),
                        format!("the off range starting {} has no name", r.from),
                    ),
                ));
            }
            if r.to < r.from {
                out.push((
                    at,
                    invalid(
                        y,
                        format!("{}：结束日期 {} 早于开始日期 {}", r.name, r.to, r.from),
                        format!("{}: end {} is before start {}", r.name, r.to, r.from),
                    ),
                ));
                continue;
            }
            if !in_year(r.to) || first_allowed.is_none_or(|f| r.from < f) {
                out.push((
                    at,
                    invalid(
                        y,
                        format!("{}（{} 至 {}）不在{}年内", r.name, r.from, r.to, y),
                        format!("{} ({} to {}) is not within {}", r.name, r.from, r.to, y),
                    ),
                ));
                continue;
            }
            let len = (r.to - r.from).num_days() + 1;
            if len > MAX_OFF_RANGE_DAYS {
                out.push((
                    at,
                    invalid(
                        y,
                        format!(
                            "{}（{} 至 {}）长达{}天，超过{}天，请核对",
                            r.name, r.from, r.to, len, MAX_OFF_RANGE_DAYS
                        ),
                        format!(
                            "{} ({} to {}) is {} days long, more than {}; check the dates",
                            r.name, r.from, r.to, len, MAX_OFF_RANGE_DAYS
                        ),
                    ),
                ));
            }
        }
        let mut sorted: Vec<(usize, &OffRange)> = self.off.iter().enumerate().collect();
        sorted.sort_by_key(|(_, r)| r.from);
        for w in sorted.windows(2) {
            let ((_, a), (j, b)) = (w[0], w[1]);
            if a.from <= a.to && b.from <= a.to {
                out.push((
                    TablePart::Off(j),
                    invalid(
                        y,
                        format!("{} 与 {} 的日期重叠", a.name, b.name),
                        format!("{} and {} overlap", a.name, b.name),
                    ),
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for (i, &d) in self.working_days.iter().enumerate() {
            let at = TablePart::WorkingDay(i);
            if !seen.insert(d) {
                out.push((
                    at,
                    invalid(
                        y,
                        format!("调休上班日 {d} 重复"),
                        format!("working day {d} is listed twice"),
                    ),
                ));
                continue;
            }
            if !in_year(d) {
                out.push((
                    at,
                    invalid(
                        y,
                        format!("调休上班日 {d} 不在{y}年内"),
                        format!("working day {d} is not in {y}"),
                    ),
                ));
                continue;
            }
            if !is_weekend(d) {
                out.push((
                    at,
                    invalid(
                        y,
                        format!("调休上班日 {d} 不是周六或周日（周一至周五本来就是工作日）"),
                        format!(
                            "working day {d} is not a Saturday or Sunday (weekdays are working days anyway)"
                        ),
                    ),
                ));
            }
            if let Some(r) = self.off.iter().find(|r| r.contains(d)) {
                out.push((
                    at,
                    invalid(
                        y,
                        format!("{d} 既是调休上班日又在假期“{}”内", r.name),
                        format!(
                            "{d} is both a working day and inside the off range \"{}\"",
                            r.name
                        ),
                    ),
                ));
            }
        }
        out
    }
}

// ---- TOML input: dates may be written quoted ("2026-01-01") or bare (2026-01-01). ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    year: Vec<Spanned<RawYear>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: Spanned<i32>,
    source: Spanned<String>,
    #[serde(default)]
    off: Vec<Spanned<RawOff>>,
    #[serde(default)]
    working_days: Vec<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOff {
    name: String,
    from: Spanned<toml::Value>,
    to: Spanned<toml::Value>,
}

fn toml_date(year: i32, what: &str, v: &toml::Value) -> Result<NaiveDate, CalendarError> {
    let text = match v {
        toml::Value::String(s) => s.trim().to_string(),
        toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt.to_string(),
        other => other.to_string(),
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
        invalid(
            year,
            format!("{what}：“{text}” 不是 YYYY-MM-DD 格式的日期"),
            format!("{what}: \"{text}\" is not a YYYY-MM-DD date"),
        )
    })
}

/// One problem of a pasted or uploaded file, on the line it comes from (1-based), when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TomlProblem {
    pub line: Option<usize>,
    /// The table's year, when the problem is inside a `[[year]]` block.
    pub year: Option<i32>,
    #[serde(serialize_with = "error_text")]
    pub error: CalendarError,
}

fn error_text<S: serde::Serializer>(e: &CalendarError, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&e.to_string())
}

/// What [`check_toml`] found: the tables that passed every check, and every problem.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TomlCheck {
    pub tables: Vec<YearTable>,
    pub problems: Vec<TomlProblem>,
}

impl TomlCheck {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    let end = (0..=end)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    text[..end].matches('\n').count() + 1
}

/// Where each part of a parsed table was written.
struct Spans {
    year: Range<usize>,
    source: Range<usize>,
    off: Vec<Range<usize>>,
    working_days: Vec<Range<usize>>,
}

impl Spans {
    fn of(&self, part: TablePart) -> Range<usize> {
        match part {
            TablePart::Year => self.year.clone(),
            TablePart::Source => self.source.clone(),
            TablePart::Off(i) => self.off.get(i).cloned().unwrap_or(self.year.clone()),
            TablePart::WorkingDay(i) => self
                .working_days
                .get(i)
                .cloned()
                .unwrap_or(self.year.clone()),
        }
    }
}

/// One parsed `[[year]]` block: the table (without the entries whose dates did not parse), where
/// its parts were written, and whether every date parsed.
struct Parsed {
    table: YearTable,
    spans: Spans,
    complete: bool,
}

/// Parses the file, converting dates: every block (those with a bad date too, so that their other
/// entries are still checked) and every syntax or date problem.
fn parse_spanned(text: &str) -> (Vec<Parsed>, Vec<TomlProblem>) {
    let raw: RawFile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            return (
                Vec::new(),
                vec![TomlProblem {
                    line: e.span().map(|s| line_of(text, s.start)),
                    year: None,
                    error: CalendarError::Syntax(e.message().trim().to_string()),
                }],
            );
        }
    };
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for ry in raw.year {
        let ry = ry.into_inner();
        let y = *ry.year.get_ref();
        let mut date = |what: &str, v: &Spanned<toml::Value>| match toml_date(y, what, v.get_ref())
        {
            Ok(d) => Some(d),
            Err(error) => {
                problems.push(TomlProblem {
                    line: Some(line_of(text, v.span().start)),
                    year: Some(y),
                    error,
                });
                None
            }
        };
        let mut off = Vec::new();
        let mut off_spans = Vec::new();
        let mut dates_ok = true;
        for ro in &ry.off {
            let span = ro.span();
            let ro = ro.get_ref();
            let from = date(&format!("{} from", ro.name), &ro.from);
            let to = date(&format!("{} to", ro.name), &ro.to);
            match (from, to) {
                (Some(from), Some(to)) => {
                    off.push(OffRange {
                        name: ro.name.clone(),
                        from,
                        to,
                    });
                    off_spans.push(span);
                }
                _ => dates_ok = false,
            }
        }
        let mut working_days = Vec::new();
        let mut wd_spans = Vec::new();
        for v in &ry.working_days {
            match date("working_days", v) {
                Some(d) => {
                    working_days.push(d);
                    wd_spans.push(v.span());
                }
                None => dates_ok = false,
            }
        }
        out.push(Parsed {
            table: YearTable {
                year: y,
                source: ry.source.get_ref().clone(),
                off,
                working_days,
            },
            spans: Spans {
                year: ry.year.span(),
                source: ry.source.span(),
                off: off_spans,
                working_days: wd_spans,
            },
            complete: dates_ok,
        });
    }
    (out, problems)
}

/// Parses tables in the `data/holidays.toml` format without checking them: the first syntax or
/// date problem, or every table.
pub(super) fn parse_tables(text: &str) -> Result<Vec<YearTable>, CalendarError> {
    let (parsed, mut problems) = parse_spanned(text);
    if problems.is_empty() {
        Ok(parsed.into_iter().map(|p| p.table).collect())
    } else {
        Err(problems.remove(0).error)
    }
}

/// R-CAL-1: reads a pasted or uploaded file and runs every load check on every table at once
/// (each table on its own, and a year written twice), each problem on its line. A table with a
/// problem is not in [`TomlCheck::tables`]. Checks against the years already loaded are the
/// loader's ([`super::Calendar::add_year`]).
pub fn check_toml(text: &str) -> TomlCheck {
    let (parsed, problems) = parse_spanned(text);
    let syntax = problems
        .iter()
        .any(|p| matches!(p.error, CalendarError::Syntax(_)));
    let mut check = TomlCheck {
        tables: Vec::new(),
        problems,
    };
    let mut years = BTreeSet::new();
    for Parsed {
        table,
        spans,
        complete,
    } in parsed
    {
        let mut found: Vec<TomlProblem> = table
            .issues()
            .into_iter()
            .map(|(part, error)| TomlProblem {
                line: Some(line_of(text, spans.of(part).start)),
                year: Some(table.year),
                error,
            })
            .collect();
        if !years.insert(table.year) {
            found.push(TomlProblem {
                line: Some(line_of(text, spans.year.start)),
                year: Some(table.year),
                error: CalendarError::YearAlreadyLoaded(table.year),
            });
        }
        if found.is_empty() && complete {
            check.tables.push(table);
        } else {
            check.problems.extend(found);
        }
    }
    // Every problem in the order of the file's lines (those without a line last).
    check.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
    if syntax {
        check.tables.clear();
    }
    if check.tables.is_empty() && check.problems.is_empty() {
        check.problems.push(TomlProblem {
            line: None,
            year: None,
            error: CalendarError::Syntax(
                "文件中没有任何 [[year]] 年度表 / the file holds no [[year]] table".into(),
            ),
        });
    }
    check
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_PROBLEMS: &str = r#"# a sysadmin's paste
[[year]]
year = 2027
source = "测试用表（非国务院通知）"
working_days = ["2027-03-03", "2027-02-06"]

[[year.off]]
name = "春节"
from = "2027-02-05"
to = "2027-02-07"
"#;

    #[test]
    fn r_cal_1_check_toml_reports_every_problem_on_its_line() {
        let c = check_toml(TWO_PROBLEMS);
        assert!(c.tables.is_empty());
        let lines: Vec<_> = c.problems.iter().map(|p| p.line).collect();
        // 03-03 is a Wednesday; 02-06 is a Saturday inside 春节: both on line 5.
        assert_eq!(lines, vec![Some(5), Some(5)], "{:?}", c.problems);
        let texts: Vec<String> = c.problems.iter().map(|p| p.error.to_string()).collect();
        assert!(texts[0].contains("2027-03-03") && texts[0].contains("不是周六或周日"));
        assert!(texts[1].contains("2027-02-06") && texts[1].contains("春节"));
    }

    #[test]
    fn r_cal_1_check_toml_points_at_bad_dates_and_syntax() {
        let bad_date = "[[year]]\nyear = 2027\nsource = \"x\"\n\n[[year.off]]\nname = \"元旦\"\nfrom = \"2027-01-01\"\nto = \"2027-02-30\"\n";
        let c = check_toml(bad_date);
        assert_eq!(c.problems.len(), 1);
        assert_eq!(c.problems[0].line, Some(8));
        assert!(c.problems[0].error.to_string().contains("YYYY-MM-DD"));

        let syntax = "[[year]]\nyear = 2027\nsource = \"x\n";
        let c = check_toml(syntax);
        assert_eq!(c.problems.len(), 1);
        assert_eq!(c.problems[0].line, Some(3));
        assert!(matches!(c.problems[0].error, CalendarError::Syntax(_)));

        let c = check_toml("# nothing here\n");
        assert!(!c.is_ok());
    }

    #[test]
    fn r_cal_1_check_toml_reports_a_bad_date_with_the_other_problems() {
        let text = "[[year]]\nyear = 2027\nsource = \"x\"\nworking_days = [\"2027-03-03\"]\n\n[[year.off]]\nname = \"春节\"\nfrom = \"2027-02-06\"\nto = \"2027-02-32\"\n";
        let c = check_toml(text);
        assert!(c.tables.is_empty());
        let lines: Vec<_> = c.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(4), Some(9)], "{:?}", c.problems);
        assert!(c.problems[1].error.message_zh().contains("2027-02-32"));
        assert!(!c.problems[1].error.message_zh().contains(" / "));
    }

    #[test]
    fn r_cal_1_check_toml_refuses_a_year_written_twice() {
        let one = "[[year]]\nyear = 2027\nsource = \"x\"\n";
        let c = check_toml(&format!("{one}{one}"));
        assert_eq!(c.tables.len(), 1);
        assert_eq!(c.problems.len(), 1);
        assert_eq!(c.problems[0].line, Some(5));
        assert_eq!(c.problems[0].error, CalendarError::YearAlreadyLoaded(2027));
    }

    #[test]
    fn r_cal_1_the_shipped_file_passes_check_toml() {
        let c = check_toml(super::super::BUILTIN_HOLIDAYS_TOML);
        assert!(c.is_ok(), "{:?}", c.problems);
        assert_eq!(
            c.tables.iter().map(|t| t.year).collect::<Vec<_>>(),
            vec![2025, 2026]
        );
    }

    #[test]
    fn line_of_counts_lines_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
        assert_eq!(line_of("日\n期", 1), 1);
    }
}
