//! The roster (花名册) import (R-FIL-2, R-VAL-1, SECURITY.md S22; SPEC.md §4).
//!
//! The template's columns are [`ROSTER_HEADERS`] (the server writes the .xlsx/.csv template from
//! it). [`validate_roster`] checks every row and returns either every trainee (with warnings) or
//! every problem — never a part: nothing is imported until all rows are good.
//!
//! Row numbers are those the clerk sees in the spreadsheet: the header is row 1, the first
//! trainee row 2. Wholly blank rows (trailing rows in a spreadsheet) are skipped.
//!
//! Ages (SPEC.md §4): under the minimum age at the class start is refused; at or over the
//! statutory retirement age is a warning (subsidy not payable). The minimum age comes from
//! [`RosterContext::min_age`]; the retirement age follows the 2025 gradual reform from each
//! trainee's birth date and sex ([`crate::retirement`]).

use crate::ids::{AgeCheck, IdError, IdKind, PersonId, check_age};
use crate::policy::Policy;
use crate::retirement::RetirementGroup;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The template's columns, in order.
pub const ROSTER_HEADERS: [&str; 6] = [
    COL_NAME,
    COL_ID_TYPE,
    COL_ID_NUMBER,
    COL_PHONE,
    COL_RESIDENCE,
    COL_GROUPS,
];
pub const COL_NAME: &str = "姓名";
pub const COL_ID_TYPE: &str = "证件类型";
pub const COL_ID_NUMBER: &str = "证件号码";
pub const COL_PHONE: &str = "手机号码";
pub const COL_RESIDENCE: &str = "户籍/居住地";
pub const COL_GROUPS: &str = "重点对象类别";

/// The values of the 户籍/居住地 column (a drop-down in the template).
pub const RESIDENCE_OPTIONS: [&str; 2] = ["广东省内", "广东省外"];

/// Separators accepted in the 重点对象类别 column.
pub const GROUP_SEPARATORS: [char; 3] = ['、', ',', '，'];

/// The values of the 证件类型 column (a drop-down in the template): [`IdKind::label_zh`].
pub fn id_type_options() -> Vec<&'static str> {
    IdKind::ALL.iter().map(|k| k.label_zh()).collect()
}

/// 户籍/居住地 (R-ARC-2: out-of-province trainees need a Guangdong residence permit copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Residence {
    /// 广东省内
    InProvince,
    /// 广东省外
    OutOfProvince,
}

impl Residence {
    pub fn label_zh(self) -> &'static str {
        match self {
            Residence::InProvince => RESIDENCE_OPTIONS[0],
            Residence::OutOfProvince => RESIDENCE_OPTIONS[1],
        }
    }
    /// Accepts the template values and the short forms 省内 / 省外.
    pub fn parse(s: &str) -> Option<Residence> {
        match s.trim() {
            "广东省内" | "省内" => Some(Residence::InProvince),
            "广东省外" | "省外" => Some(Residence::OutOfProvince),
            _ => None,
        }
    }
}

/// One roster row as read from the file: raw strings in [`ROSTER_HEADERS`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    /// The spreadsheet row number (header = 1).
    pub row_number: u32,
    /// Cells in [`ROSTER_HEADERS`] order; missing trailing cells count as empty.
    pub cells: Vec<String>,
}

impl RawRow {
    fn cell(&self, col: usize) -> &str {
        self.cells.get(col).map(|s| s.trim()).unwrap_or("")
    }
    fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// One problem (or warning) in a roster. `row_number`/`column` are `None` for problems of the
/// whole roster (class size, headers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    pub row_number: Option<u32>,
    pub column: Option<&'static str>,
    pub code: &'static str,
    pub message: String,
}

fn problem(row: u32, column: &'static str, code: &'static str, message: String) -> RowProblem {
    RowProblem {
        row_number: Some(row),
        column: Some(column),
        code,
        message,
    }
}

/// Maps a file's header row onto [`ROSTER_HEADERS`] (columns may be in any order; extra columns
/// are ignored) and turns the records after it into [`RawRow`]s numbered from 2.
pub fn rows_from_table(
    header: &[String],
    records: &[Vec<String>],
) -> Result<Vec<RawRow>, Vec<RowProblem>> {
    let mut index = Vec::with_capacity(ROSTER_HEADERS.len());
    let mut missing = Vec::new();
    for h in ROSTER_HEADERS {
        match header.iter().position(|c| c.trim() == h) {
            Some(i) => index.push(i),
            None => missing.push(RowProblem {
                row_number: Some(1),
                column: Some(h),
                code: "ROSTER_HEADER_MISSING",
                message: format!("表头缺少“{h}”列，请使用系统提供的花名册模板"),
            }),
        }
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(records
        .iter()
        .enumerate()
        .map(|(n, rec)| RawRow {
            row_number: n as u32 + 2,
            cells: index
                .iter()
                .map(|&i| rec.get(i).cloned().unwrap_or_default())
                .collect(),
        })
        .collect())
}

/// What [`validate_roster`] needs besides the rows.
#[derive(Debug, Clone)]
pub struct RosterContext<'a> {
    /// The class start date: ages are taken on it.
    pub start_date: NaiveDate,
    pub policy: &'a Policy,
    /// The round's key target groups (重点对象), by name.
    pub known_groups: &'a [String],
    /// Minimum age at the start date (16; not in [`Policy`]).
    pub min_age: u32,
}

/// A good row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidTrainee {
    pub row_number: u32,
    pub name: String,
    pub id: PersonId,
    pub phone: String,
    pub residence: Residence,
    /// Key target groups claimed, as named in the round, each once.
    pub groups: Vec<String>,
    /// Full years at the start date; `None` for documents without a birth date.
    pub age: Option<u32>,
    /// At or over the retirement age: subsidy not payable.
    pub over_retirement_age: bool,
}

/// A roster that passed: every trainee, and the warnings to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidRoster {
    pub trainees: Vec<ValidTrainee>,
    pub warnings: Vec<RowProblem>,
}

fn is_name_char(c: char) -> bool {
    matches!(c,
        '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{20000}'..='\u{2ebef}'
        | 'a'..='z' | 'A'..='Z' | '·' | ' ')
}

fn check_name(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if n == 0 {
        return Err("请填写姓名".into());
    }
    if !(2..=30).contains(&n) {
        return Err(format!("姓名须为2至30个字符，现为{n}个"));
    }
    if let Some(c) = name.chars().find(|c| !is_name_char(*c)) {
        return Err(format!(
            "姓名只能包含汉字、英文字母和间隔号“·”，“{c}”不允许"
        ));
    }
    if name.contains(' ') && !name.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err("中文姓名中间不能有空格".into());
    }
    Ok(())
}

/// Mainland mobile number: 11 digits, `1[3-9]…`.
pub fn is_mainland_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
}

/// The kinds a 证件类型 value allows: an [`IdKind`] label or code, or the short forms
/// 身份证 and 港澳台居民居住证 (any of its three kinds).
fn stated_kinds(s: &str) -> Option<Vec<IdKind>> {
    let s = s.trim();
    if let Some(k) = IdKind::ALL
        .into_iter()
        .find(|k| k.label_zh() == s || k.code() == s)
    {
        return Some(vec![k]);
    }
    match s {
        "身份证" => Some(vec![IdKind::CitizenId]),
        "港澳台居民居住证" => Some(vec![
            IdKind::HongKongResidencePermit,
            IdKind::MacaoResidencePermit,
            IdKind::TaiwanResidencePermit,
        ]),
        _ => None,
    }
}

fn zh(e: &IdError) -> String {
    let s = e.to_string();
    s.split(" / ").next().unwrap_or(&s).to_string()
}

/// R-FIL-2, R-VAL-1, S22: every row checked; `Ok` only when every row is good and the class is
/// large enough. Problems come in row order, then the roster-level ones.
pub fn validate_roster(
    rows: &[RawRow],
    ctx: &RosterContext<'_>,
) -> Result<ValidRoster, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut trainees = Vec::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut count = 0usize;

    for row in rows.iter().filter(|r| !r.is_blank()) {
        count += 1;
        let r = row.row_number;
        let before = problems.len();

        let name = row.cell(0);
        if let Err(m) = check_name(name) {
            problems.push(problem(r, COL_NAME, "ROSTER_NAME", m));
        }

        let kinds = stated_kinds(row.cell(1));
        if kinds.is_none() {
            problems.push(problem(
                r,
                COL_ID_TYPE,
                "ROSTER_ID_TYPE",
                if row.cell(1).is_empty() {
                    "请填写证件类型".into()
                } else {
                    format!(
                        "证件类型“{}”无效，应为：{}",
                        row.cell(1),
                        id_type_options().join("、")
                    )
                },
            ));
        }
        let id = match PersonId::parse(row.cell(2)) {
            Ok(id) => {
                if let Some(k) = &kinds
                    && !k.contains(&id.kind())
                {
                    problems.push(problem(
                        r,
                        COL_ID_NUMBER,
                        "ROSTER_ID_KIND_MISMATCH",
                        format!(
                            "证件类型为“{}”，所填号码为{}号码",
                            row.cell(1),
                            id.kind().label_zh()
                        ),
                    ));
                }
                Some(id)
            }
            Err(e) => {
                problems.push(problem(r, COL_ID_NUMBER, e.code(), zh(&e)));
                None
            }
        };

        let phone = row.cell(3);
        if !is_mainland_mobile(phone) {
            problems.push(problem(
                r,
                COL_PHONE,
                "ROSTER_PHONE",
                if phone.is_empty() {
                    "请填写手机号码".into()
                } else {
                    format!("手机号码“{phone}”无效，应为11位中国大陆手机号码")
                },
            ));
        }

        let residence = Residence::parse(row.cell(4));
        if residence.is_none() {
            problems.push(problem(
                r,
                COL_RESIDENCE,
                "ROSTER_RESIDENCE",
                format!(
                    "户籍/居住地“{}”无效，应为：{}",
                    row.cell(4),
                    RESIDENCE_OPTIONS.join("、")
                ),
            ));
        }

        let mut groups: Vec<String> = Vec::new();
        for g in row
            .cell(5)
            .split(&GROUP_SEPARATORS[..])
            .map(str::trim)
            .filter(|g| !g.is_empty())
        {
            if !ctx.known_groups.iter().any(|k| k.trim() == g) {
                problems.push(problem(
                    r,
                    COL_GROUPS,
                    "ROSTER_GROUP_UNKNOWN",
                    format!(
                        "重点对象类别“{g}”不在本批次公布的类别中（{}）",
                        ctx.known_groups.join("、")
                    ),
                ));
            } else if !groups.iter().any(|x| x == g) {
                groups.push(g.to_string());
            }
        }

        let mut age = None;
        let mut over = false;
        if let Some(id) = &id {
            if let Some(&first) = seen.get(id.as_str()) {
                problems.push(problem(
                    r,
                    COL_ID_NUMBER,
                    "ROSTER_DUPLICATE_PERSON",
                    format!("与第{first}行为同一人（证件号码{}）", id.masked()),
                ));
            } else {
                seen.insert(id.as_str().to_string(), r);
            }
            match check_age(id, ctx.start_date, ctx.min_age) {
                AgeCheck::TooYoung { age } => problems.push(problem(
                    r,
                    COL_ID_NUMBER,
                    "ROSTER_AGE_TOO_YOUNG",
                    format!(
                        "开班日期{}时年满{age}周岁，未满{}周岁不能参训",
                        ctx.start_date, ctx.min_age
                    ),
                )),
                AgeCheck::OverRetirement {
                    age: a,
                    group,
                    retirement_age,
                    retired_on,
                } => {
                    age = Some(a);
                    over = true;
                    let women = if group == RetirementGroup::Female50 {
                        "；原法定退休年龄为55周岁的女性退休较晚，请人工核对"
                    } else {
                        ""
                    };
                    warnings.push(problem(
                        r,
                        COL_ID_NUMBER,
                        "ROSTER_AGE_OVER_RETIREMENT",
                        format!(
                            "开班日期{}时年满{a}周岁，已于{retired_on}达到法定退休年龄（按{}计为{retirement_age}，渐进式延迟法定退休年龄），不享受培训补贴{women}",
                            ctx.start_date,
                            group.label_zh()
                        ),
                    ));
                }
                AgeCheck::Ok(a) => age = Some(a),
                AgeCheck::Unknown => warnings.push(problem(
                    r,
                    COL_ID_NUMBER,
                    "ROSTER_AGE_UNKNOWN",
                    format!("{}不含出生日期，请人工核对年龄", id.kind().label_zh()),
                )),
            }
        }

        if problems.len() == before
            && let (Some(id), Some(residence)) = (id, residence)
        {
            trainees.push(ValidTrainee {
                row_number: r,
                name: name.to_string(),
                id,
                phone: phone.to_string(),
                residence,
                groups,
                age,
                over_retirement_age: over,
            });
        }
    }

    let min = ctx.policy.min_class_size as usize;
    if count < min {
        problems.push(RowProblem {
            row_number: None,
            column: None,
            code: "ROSTER_CLASS_SIZE",
            message: format!("每班培训人数不低于{min}人，花名册现有{count}人"),
        });
    }
    if problems.is_empty() {
        Ok(ValidRoster { trainees, warnings })
    } else {
        Err(problems)
    }
}

/// A person's enrolment in another class (any institution), for the overlap check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentElsewhere<'a> {
    /// The person's lookup key (the HMAC of the ID number, S14, or the number itself).
    pub person_key: &'a str,
    pub class_id: i64,
    pub start: NaiveDate,
    /// The other class's planned end.
    pub end: NaiveDate,
}

/// A person of this class also enrolled in another class whose dates overlap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentOverlap {
    pub person_key: String,
    pub other_class_id: i64,
    pub other_start: NaiveDate,
    pub other_end: NaiveDate,
}

/// SPEC.md §4: persons of this class (`start ..= end`, keys in `persons`) enrolled in another
/// class whose dates overlap (both ranges inclusive).
pub fn overlapping_enrollments(
    start: NaiveDate,
    end: NaiveDate,
    persons: &[&str],
    others: &[EnrollmentElsewhere<'_>],
) -> Vec<EnrollmentOverlap> {
    others
        .iter()
        .filter(|o| persons.contains(&o.person_key) && o.start <= end && start <= o.end)
        .map(|o| EnrollmentOverlap {
            person_key: o.person_key.to_string(),
            other_class_id: o.class_id,
            other_start: o.start,
            other_end: o.end,
        })
        .collect()
}
