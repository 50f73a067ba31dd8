//! Exam results and certificate codes (考试结果、合格证书编码; SPEC.md R-CRT-1, R-CRT-2).
//!
//! * [`ExamOutcome`] — 合格 / 不合格 / 缺考, with an optional [`ExamScore`] (exact decimal,
//!   0–100, at most one decimal place; none for 缺考).
//! * [`CertificateCode`] — `{district code, 6}{year, 4}{class sequence, 4}{trainee sequence, 3}`,
//!   e.g. `44010520260001001`. The district code comes from the policy
//!   ([`crate::policy::Policy::certificate_district_code`]), the year is the year of the
//!   confirmation, the class sequence is allocated once per class in order of confirmation
//!   (storage does that), the trainee sequence numbers the passed trainees 001… in roster order
//!   ([`trainee_sequence`]).
//! * [`mask_name`] — what the public verification page shows of the holder's name (张*三, 李*).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// 考试结果 — one trainee's exam result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExamOutcome {
    /// 合格
    Pass,
    /// 不合格
    Fail,
    /// 缺考
    Absent,
}

impl ExamOutcome {
    pub const ALL: [ExamOutcome; 3] = [ExamOutcome::Pass, ExamOutcome::Fail, ExamOutcome::Absent];

    pub fn code(self) -> &'static str {
        match self {
            ExamOutcome::Pass => "pass",
            ExamOutcome::Fail => "fail",
            ExamOutcome::Absent => "absent",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ExamOutcome::Pass => "合格",
            ExamOutcome::Fail => "不合格",
            ExamOutcome::Absent => "缺考",
        }
    }

    /// From the stored code or the Chinese label a clerk types (合格 / 不合格 / 缺考).
    pub fn parse(s: &str) -> Option<ExamOutcome> {
        let s = s.trim();
        ExamOutcome::ALL
            .into_iter()
            .find(|o| o.code() == s || o.label_zh() == s)
    }
}

/// 成绩 — an exam score: exact decimal, 0–100, at most one decimal place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExamScore(Decimal);

/// Why a score was refused (Chinese, names the rule).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExamScoreError {
    #[error("成绩“{0}”不是数字")]
    NotANumber(String),
    #[error("成绩须在0至100之间：{0}")]
    OutOfRange(String),
    #[error("成绩最多保留一位小数：{0}")]
    TooManyDecimals(String),
}

impl ExamScore {
    pub fn parse(s: &str) -> Result<ExamScore, ExamScoreError> {
        let t = s.trim();
        let d = Decimal::from_str(t).map_err(|_| ExamScoreError::NotANumber(t.to_string()))?;
        if d < Decimal::ZERO || d > Decimal::ONE_HUNDRED {
            return Err(ExamScoreError::OutOfRange(t.to_string()));
        }
        let d = d.normalize();
        if d.scale() > 1 {
            return Err(ExamScoreError::TooManyDecimals(t.to_string()));
        }
        Ok(ExamScore(d))
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for ExamScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

impl TryFrom<String> for ExamScore {
    type Error = ExamScoreError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ExamScore::parse(&s)
    }
}

impl From<ExamScore> for String {
    fn from(s: ExamScore) -> String {
        s.to_string()
    }
}

/// A result and score that go together: 缺考 carries no score.
pub fn check_result(outcome: ExamOutcome, score: Option<ExamScore>) -> Result<(), &'static str> {
    if outcome == ExamOutcome::Absent && score.is_some() {
        return Err("缺考的学员不能填写成绩");
    }
    Ok(())
}

/// Most classes a district numbers in one year (4 digits).
pub const MAX_CLASS_SEQUENCE: u32 = 9_999;
/// Most certificates in one class (3 digits).
pub const MAX_TRAINEE_SEQUENCE: u32 = 999;

/// 合格证书编码 — a certificate code, 17 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CertificateCode(String);

/// Why a code cannot be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("地区代码须为6位数字：{0}")]
    District(String),
    #[error("年份须为4位：{0}")]
    Year(i32),
    #[error("班次序号须在1至{MAX_CLASS_SEQUENCE}之间：{0}")]
    ClassSequence(u32),
    #[error("学员序号须在1至{MAX_TRAINEE_SEQUENCE}之间：{0}")]
    TraineeSequence(u32),
    #[error("证书编码须为17位数字")]
    Format,
}

fn six_digits(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

impl CertificateCode {
    /// Build `{district}{year}{class_seq:04}{trainee_seq:03}`.
    pub fn new(
        district: &str,
        year: i32,
        class_seq: u32,
        trainee_seq: u32,
    ) -> Result<CertificateCode, CodeError> {
        if !six_digits(district) {
            return Err(CodeError::District(district.to_string()));
        }
        if !(1000..=9999).contains(&year) {
            return Err(CodeError::Year(year));
        }
        if !(1..=MAX_CLASS_SEQUENCE).contains(&class_seq) {
            return Err(CodeError::ClassSequence(class_seq));
        }
        if !(1..=MAX_TRAINEE_SEQUENCE).contains(&trainee_seq) {
            return Err(CodeError::TraineeSequence(trainee_seq));
        }
        Ok(CertificateCode(format!(
            "{district}{year:04}{class_seq:04}{trainee_seq:03}"
        )))
    }

    /// A code as typed on the verification page (spaces trimmed); 17 ASCII digits.
    pub fn parse(s: &str) -> Result<CertificateCode, CodeError> {
        let t = s.trim();
        if t.len() != 17 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Format);
        }
        Ok(CertificateCode(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn district(&self) -> &str {
        &self.0[..6]
    }
    pub fn year(&self) -> i32 {
        self.0[6..10].parse().unwrap_or(0)
    }
    pub fn class_sequence(&self) -> u32 {
        self.0[10..14].parse().unwrap_or(0)
    }
    pub fn trainee_sequence(&self) -> u32 {
        self.0[14..17].parse().unwrap_or(0)
    }
}

impl fmt::Display for CertificateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CertificateCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CertificateCode::parse(&s)
    }
}

impl From<CertificateCode> for String {
    fn from(c: CertificateCode) -> String {
        c.0
    }
}

/// The trainee sequence (R-CRT-1): the passed trainees, in roster order, numbered 1…; others
/// get none. `roster` is the roster in order with each trainee's outcome (`None`: no result).
pub fn trainee_sequence(roster: &[Option<ExamOutcome>]) -> Vec<Option<u32>> {
    let mut n = 0;
    roster
        .iter()
        .map(|o| {
            if *o == Some(ExamOutcome::Pass) {
                n += 1;
                Some(n)
            } else {
                None
            }
        })
        .collect()
}

/// The holder's name as the public page shows it (R-CRT-2): the first character, then `*` for
/// every character but the last, then the last; a two-character name keeps only its first
/// (张*三, 李*, 欧**娜, a one-character name `*`).
pub fn mask_name(name: &str) -> String {
    let c: Vec<char> = name.trim().chars().collect();
    match c.len() {
        0 => String::new(),
        1 => "*".to_string(),
        2 => format!("{}*", c[0]),
        n => {
            let mut s = String::new();
            s.push(c[0]);
            s.extend(std::iter::repeat_n('*', n - 2));
            s.push(c[n - 1]);
            s
        }
    }
}

/// A name as compared on the verification page: trimmed, inner spaces and the middle dots of
/// transliterated names (·, •, ・) kept but their variants unified.
pub fn normalise_name(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            '•' | '・' | '．' | '.' => '·',
            c => c,
        })
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn r_crt_1_code_format_is_district_year_class_trainee() {
        let c = CertificateCode::new("440105", 2026, 1, 1).unwrap();
        assert_eq!(c.as_str(), "44010520260001001");
        assert_eq!(c.district(), "440105");
        assert_eq!(c.year(), 2026);
        assert_eq!(c.class_sequence(), 1);
        assert_eq!(c.trainee_sequence(), 1);
        assert_eq!(
            CertificateCode::new("440105", 2027, 123, 45)
                .unwrap()
                .as_str(),
            "44010520270123045"
        );
    }

    #[test]
    fn r_crt_1_code_bounds_are_refused() {
        assert!(CertificateCode::new("44010", 2026, 1, 1).is_err());
        assert!(CertificateCode::new("44010X", 2026, 1, 1).is_err());
        assert!(CertificateCode::new("440105", 2026, 0, 1).is_err());
        assert!(CertificateCode::new("440105", 2026, 10_000, 1).is_err());
        assert!(CertificateCode::new("440105", 2026, 1, 0).is_err());
        assert!(CertificateCode::new("440105", 2026, 1, 1_000).is_err());
        assert!(CertificateCode::parse("4401052026000100").is_err());
        assert!(CertificateCode::parse("44010520260001001 ").is_ok());
        assert!(CertificateCode::parse("4401052026000100x").is_err());
    }

    #[test]
    fn r_crt_1_passed_trainees_numbered_in_roster_order() {
        use ExamOutcome::*;
        let seq = trainee_sequence(&[Some(Fail), Some(Pass), None, Some(Absent), Some(Pass)]);
        assert_eq!(seq, vec![None, Some(1), None, None, Some(2)]);
    }

    #[test]
    fn r_crt_2_names_masked() {
        assert_eq!(mask_name("张三丰"), "张*丰");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("王"), "*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn r_crt_1_scores_exact_and_bounded() {
        assert_eq!(ExamScore::parse("89.5").unwrap().to_string(), "89.5");
        assert_eq!(ExamScore::parse("90.0").unwrap().to_string(), "90");
        assert_eq!(ExamScore::parse("100").unwrap().to_string(), "100");
        assert!(ExamScore::parse("100.5").is_err());
        assert!(ExamScore::parse("-1").is_err());
        assert!(ExamScore::parse("88.25").is_err());
        assert!(ExamScore::parse("八十").is_err());
        assert!(check_result(ExamOutcome::Absent, ExamScore::parse("60").ok()).is_err());
        assert!(check_result(ExamOutcome::Absent, None).is_ok());
        assert_eq!(ExamOutcome::parse("合格"), Some(ExamOutcome::Pass));
        assert_eq!(ExamOutcome::parse(" 缺考 "), Some(ExamOutcome::Absent));
        assert_eq!(ExamOutcome::parse("良好"), None);
    }

    proptest! {
        #[test]
        fn r_crt_1_code_round_trips(d in 0u32..1_000_000, y in 2000i32..2100, c in 1u32..=9999, t in 1u32..=999) {
            let district = format!("{d:06}");
            let code = CertificateCode::new(&district, y, c, t).unwrap();
            prop_assert_eq!(code.as_str().len(), 17);
            let back = CertificateCode::parse(code.as_str()).unwrap();
            prop_assert_eq!(back.district(), district.as_str());
            prop_assert_eq!(back.year(), y);
            prop_assert_eq!(back.class_sequence(), c);
            prop_assert_eq!(back.trainee_sequence(), t);
        }

        #[test]
        fn r_crt_1_distinct_parts_give_distinct_codes(
            a in (2000i32..2100, 1u32..=9999, 1u32..=999),
            b in (2000i32..2100, 1u32..=9999, 1u32..=999),
        ) {
            let ca = CertificateCode::new("440105", a.0, a.1, a.2).unwrap();
            let cb = CertificateCode::new("440105", b.0, b.1, b.2).unwrap();
            prop_assert_eq!(ca == cb, a == b);
        }

        #[test]
        fn r_crt_1_trainee_sequence_is_dense_over_passes(v in proptest::collection::vec(0u8..4, 0..200)) {
            let roster: Vec<Option<ExamOutcome>> = v.iter().map(|x| match x {
                0 => Some(ExamOutcome::Pass), 1 => Some(ExamOutcome::Fail),
                2 => Some(ExamOutcome::Absent), _ => None }).collect();
            let seq = trainee_sequence(&roster);
            let nums: Vec<u32> = seq.iter().flatten().copied().collect();
            let passes = roster.iter().filter(|o| **o == Some(ExamOutcome::Pass)).count();
            prop_assert_eq!(nums.len(), passes);
            prop_assert!(nums.iter().enumerate().all(|(i, n)| *n == i as u32 + 1));
            for (o, s) in roster.iter().zip(&seq) {
                prop_assert_eq!(s.is_some(), *o == Some(ExamOutcome::Pass));
            }
        }

        #[test]
        fn r_crt_2_mask_keeps_length_and_hides_the_middle(s in "[\\p{Han}]{1,8}") {
            let m = mask_name(&s);
            let n = s.chars().count();
            prop_assert_eq!(m.chars().count(), n);
            if n >= 2 {
                prop_assert_eq!(m.chars().next(), s.chars().next());
                prop_assert!(m.chars().skip(1).take(n.saturating_sub(2).max(1)).all(|c| c == '*'));
            }
        }
    }
}
