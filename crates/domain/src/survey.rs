//! R-EVA-3: the trainee satisfaction survey (学员满意度调查) — the questionnaire, its checks, an
//! answer's checks and the counts the class and round pages show.
//!
//! * **Questionnaire.** A list of questions, each a key (`teaching`, `overall` …), a Chinese text
//!   and a kind: a 1–5 rating or a free comment (≤ [`MAX_COMMENT_CHARS`] characters). The centre
//!   edits it per round; [`default_questionnaire`] ships. [`check_questionnaire`]: 1 to
//!   [`MAX_QUESTIONS`] questions, keys unique and well-formed, texts non-empty names
//!   ([`crate::text::check_name`]), the rating question [`OVERALL`] always present (R-EVA-1's
//!   satisfaction component reads it).
//! * **Answer.** [`check_answer`]: every rating question answered with 1..=5, comments within the
//!   limit; unknown keys are ignored. Every problem is reported, each naming its field.
//! * **Stats.** [`Tally`] adds answers (and tallies of several classes, for a round) with exact
//!   integer sums; [`Tally::stats`] gives the response count, the response rate (%) and the mean
//!   of each rating question as `Decimal`, rounded half-up to 2 decimals only for display
//!   (the sums stay exact).

use crate::text::{check_name, check_text};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// The rating question every questionnaire has (R-EVA-1 reads it).
pub const OVERALL: &str = "overall";
/// The most questions a questionnaire may have.
pub const MAX_QUESTIONS: usize = 12;
/// The most characters of a comment answer.
pub const MAX_COMMENT_CHARS: usize = 500;
/// The most characters of a question key.
pub const MAX_KEY_CHARS: usize = 32;
/// The lowest and highest rating.
pub const MIN_RATING: u8 = 1;
pub const MAX_RATING: u8 = 5;

/// What a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// 1 (很不满意) … 5 (很满意)
    Rating,
    /// Free text, optional.
    Comment,
}

impl QuestionKind {
    pub fn code(self) -> &'static str {
        match self {
            QuestionKind::Rating => "rating",
            QuestionKind::Comment => "comment",
        }
    }

    pub fn parse(s: &str) -> Option<QuestionKind> {
        match s.trim() {
            "rating" => Some(QuestionKind::Rating),
            "comment" => Some(QuestionKind::Comment),
            _ => None,
        }
    }
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub key: String,
    /// The Chinese text shown to the trainee.
    pub text: String,
    pub kind: QuestionKind,
}

impl Question {
    fn new(key: &str, text: &str, kind: QuestionKind) -> Question {
        Question {
            key: key.into(),
            text: text.into(),
            kind,
        }
    }
}

/// A round's questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Questionnaire {
    pub questions: Vec<Question>,
}

impl Questionnaire {
    pub fn ratings(&self) -> impl Iterator<Item = &Question> {
        self.questions
            .iter()
            .filter(|q| q.kind == QuestionKind::Rating)
    }
}

/// The labels of the five ratings, 1 first.
pub const RATING_LABELS: [&str; 5] = ["很不满意", "不满意", "一般", "满意", "很满意"];

/// The questionnaire a round uses until the centre saves its own.
pub fn default_questionnaire() -> Questionnaire {
    use QuestionKind::{Comment, Rating};
    Questionnaire {
        questions: vec![
            Question::new("teaching", "教学内容", Rating),
            Question::new("teacher", "授课教师", Rating),
            Question::new("organisation", "组织管理", Rating),
            Question::new("venue", "场地设施", Rating),
            Question::new(OVERALL, "总体满意度", Rating),
            Question::new("comment", "意见建议", Comment),
        ],
    }
}

/// A refused questionnaire or answer: stable code, Chinese message naming the field, the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyProblem {
    pub code: &'static str,
    pub message: String,
    pub field: String,
}

impl SurveyProblem {
    fn new(code: &'static str, message: impl Into<String>, field: impl Into<String>) -> Self {
        SurveyProblem {
            code,
            message: message.into(),
            field: field.into(),
        }
    }
}

fn key_ok(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= MAX_KEY_CHARS
        && k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// R-EVA-3: check a questionnaire the centre edits. Trims keys and texts; every problem is
/// listed (`questions[i].key` / `questions[i].text` / `questions`).
pub fn check_questionnaire(q: &Questionnaire) -> Result<Questionnaire, Vec<SurveyProblem>> {
    let mut problems = Vec::new();
    if q.questions.is_empty() {
        problems.push(SurveyProblem::new(
            "SURVEY_NO_QUESTIONS",
            "问卷至少要有一个问题",
            "questions",
        ));
    }
    if q.questions.len() > MAX_QUESTIONS {
        problems.push(SurveyProblem::new(
            "SURVEY_TOO_MANY_QUESTIONS",
            format!(
                "问卷最多{MAX_QUESTIONS}个问题（现有{}个）",
                q.questions.len()
            ),
            "questions",
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(q.questions.len());
    for (i, qu) in q.questions.iter().enumerate() {
        let n = i + 1;
        let key = qu.key.trim().to_string();
        let text = qu.text.trim().to_string();
        let kf = format!("questions[{i}].key");
        let tf = format!("questions[{i}].text");
        if !key_ok(&key) {
            problems.push(SurveyProblem::new(
                "SURVEY_KEY",
                format!(
                    "第{n}题的标识须以小写字母开头，只含小写字母、数字和下划线，最多{MAX_KEY_CHARS}个字符"
                ),
                kf,
            ));
        } else if !seen.insert(key.clone()) {
            problems.push(SurveyProblem::new(
                "SURVEY_KEY_DUPLICATE",
                format!("第{n}题的标识“{key}”与前面的问题重复"),
                kf,
            ));
        }
        if text.is_empty() {
            problems.push(SurveyProblem::new(
                "SURVEY_TEXT_REQUIRED",
                format!("第{n}题：请填写题目"),
                tf,
            ));
        } else if let Err(e) = check_name(&format!("第{n}题题目"), &text) {
            problems.push(SurveyProblem::new(e.code, e.message, tf));
        }
        if key == OVERALL && qu.kind != QuestionKind::Rating {
            problems.push(SurveyProblem::new(
                "SURVEY_OVERALL_KIND",
                format!("第{n}题（{OVERALL}，总体满意度）必须是1–5分评分题"),
                format!("questions[{i}].kind"),
            ));
        }
        out.push(Question {
            key,
            text,
            kind: qu.kind,
        });
    }
    if !out.iter().any(|q| q.key == OVERALL) {
        problems.push(SurveyProblem::new(
            "SURVEY_OVERALL_MISSING",
            format!("问卷必须包含标识为“{OVERALL}”的总体满意度评分题（评估学员满意度时使用）"),
            "questions",
        ));
    }
    if problems.is_empty() {
        Ok(Questionnaire { questions: out })
    } else {
        Err(problems)
    }
}

/// A checked answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Answer {
    /// question key → 1..=5
    pub ratings: BTreeMap<String, u8>,
    /// question key → non-empty comment
    pub comments: BTreeMap<String, String>,
}

impl Answer {
    pub fn overall(&self) -> Option<u8> {
        self.ratings.get(OVERALL).copied()
    }
}

/// R-EVA-3: check a trainee's answer (form fields: question key → value). Every rating
/// question needs 1..=5; comments are optional, ≤ [`MAX_COMMENT_CHARS`]. Keys not in the
/// questionnaire are ignored. Every problem is listed, each with its question's key as field.
pub fn check_answer(
    q: &Questionnaire,
    raw: &BTreeMap<String, String>,
) -> Result<Answer, Vec<SurveyProblem>> {
    let mut problems = Vec::new();
    let mut a = Answer::default();
    for qu in &q.questions {
        let v = raw.get(&qu.key).map(|s| s.trim()).unwrap_or("");
        match qu.kind {
            QuestionKind::Rating => match v.parse::<u8>() {
                Ok(r) if (MIN_RATING..=MAX_RATING).contains(&r) => {
                    a.ratings.insert(qu.key.clone(), r);
                }
                _ if v.is_empty() => problems.push(SurveyProblem::new(
                    "SURVEY_RATING_REQUIRED",
                    format!("“{}”：请选择1–5分", qu.text),
                    qu.key.clone(),
                )),
                _ => problems.push(SurveyProblem::new(
                    "SURVEY_RATING_RANGE",
                    format!("“{}”：评分只能是1–5分", qu.text),
                    qu.key.clone(),
                )),
            },
            QuestionKind::Comment => {
                if v.is_empty() {
                    continue;
                }
                match check_text(&qu.text, v, MAX_COMMENT_CHARS) {
                    Ok(()) => {
                        a.comments.insert(qu.key.clone(), v.to_string());
                    }
                    Err(e) => problems.push(SurveyProblem::new(e.code, e.message, qu.key.clone())),
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(a)
    } else {
        Err(problems)
    }
}

/// The trainee's identification as typed: name and the last 4 characters of the ID number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identification {
    pub name: String,
    /// Upper-cased, 4 ASCII letters or digits.
    pub id_last4: String,
}

/// R-EVA-3: check the identification fields (`name`, `id_last4`). The name is normalised like
/// the certificate check's ([`crate::certificate::normalise_name`]).
pub fn check_identification(
    name: &str,
    id_last4: &str,
) -> Result<Identification, Vec<SurveyProblem>> {
    let mut problems = Vec::new();
    let name = crate::certificate::normalise_name(name);
    if name.is_empty() {
        problems.push(SurveyProblem::new(
            "SURVEY_NAME_REQUIRED",
            "请填写姓名",
            "name",
        ));
    } else if let Err(e) = check_name("姓名", &name) {
        problems.push(SurveyProblem::new(e.code, e.message, "name"));
    }
    let last4 = id_last4.trim().to_ascii_uppercase();
    if last4.is_empty() {
        problems.push(SurveyProblem::new(
            "SURVEY_ID_LAST4_REQUIRED",
            "请填写身份证号后4位",
            "id_last4",
        ));
    } else if last4.chars().count() != 4 || !last4.chars().all(|c| c.is_ascii_alphanumeric()) {
        problems.push(SurveyProblem::new(
            "SURVEY_ID_LAST4_FORMAT",
            "身份证号后4位应为4个数字或字母（如 123X）",
            "id_last4",
        ));
    }
    if problems.is_empty() {
        Ok(Identification {
            name,
            id_last4: last4,
        })
    } else {
        Err(problems)
    }
}

/// The last 4 characters of an ID number, upper-cased (`None` when shorter).
pub fn last4_of(id_number: &str) -> Option<String> {
    let c: Vec<char> = id_number.trim().chars().collect();
    (c.len() >= 4).then(|| {
        c[c.len() - 4..]
            .iter()
            .collect::<String>()
            .to_ascii_uppercase()
    })
}

/// Exact counts of answers: per rating question (count, sum). Tallies add (a round is the sum of
/// its classes).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tally {
    pub responses: u32,
    pub trainees: u32,
    /// question key → (answers, sum of ratings)
    pub ratings: BTreeMap<String, (u32, u32)>,
}

impl Tally {
    pub fn new(trainees: u32) -> Tally {
        Tally {
            trainees,
            ..Tally::default()
        }
    }

    /// Count one answer (its ratings as stored).
    pub fn add_answer(&mut self, ratings: &BTreeMap<String, u8>) {
        self.responses += 1;
        for (k, r) in ratings {
            let e = self.ratings.entry(k.clone()).or_insert((0, 0));
            e.0 += 1;
            e.1 += u32::from(*r);
        }
    }

    /// Add another tally (another class of the round).
    pub fn merge(&mut self, other: &Tally) {
        self.responses += other.responses;
        self.trainees += other.trainees;
        for (k, (n, s)) in &other.ratings {
            let e = self.ratings.entry(k.clone()).or_insert((0, 0));
            e.0 += n;
            e.1 += s;
        }
    }

    /// The stats of the questionnaire's rating questions.
    pub fn stats(&self, q: &Questionnaire) -> SurveyStats {
        SurveyStats {
            responses: self.responses,
            trainees: self.trainees,
            rate_percent: rate_percent(self.responses, self.trainees),
            questions: q
                .ratings()
                .map(|qu| {
                    let (n, sum) = self.ratings.get(&qu.key).copied().unwrap_or((0, 0));
                    QuestionStat {
                        key: qu.key.clone(),
                        text: qu.text.clone(),
                        answers: n,
                        sum,
                        mean: mean(sum, n),
                    }
                })
                .collect(),
        }
    }
}

/// Response rate in %, half-up to one decimal; `None` with no trainees.
pub fn rate_percent(responses: u32, trainees: u32) -> Option<Decimal> {
    (trainees > 0).then(|| {
        (Decimal::from(responses) * Decimal::from(100) / Decimal::from(trainees))
            .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
    })
}

/// `sum / n`, half-up to 2 decimals; `None` with no answers.
pub fn mean(sum: u32, n: u32) -> Option<Decimal> {
    (n > 0).then(|| {
        (Decimal::from(sum) / Decimal::from(n))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    })
}

/// One rating question's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionStat {
    pub key: String,
    pub text: String,
    pub answers: u32,
    pub sum: u32,
    /// Mean rating, half-up to 2 decimals (`None` without answers).
    pub mean: Option<Decimal>,
}

/// What the class and round pages show: counts only, never who answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyStats {
    pub responses: u32,
    pub trainees: u32,
    /// Responses / trainees in %, one decimal (`None` without a roster).
    pub rate_percent: Option<Decimal>,
    pub questions: Vec<QuestionStat>,
}

impl SurveyStats {
    pub fn overall(&self) -> Option<&QuestionStat> {
        self.questions.iter().find(|q| q.key == OVERALL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn full(v: &str) -> BTreeMap<String, String> {
        raw(&[
            ("teaching", v),
            ("teacher", v),
            ("organisation", v),
            ("venue", v),
            ("overall", v),
        ])
    }

    #[test]
    fn r_eva_3_default_questionnaire_is_valid_and_has_overall() {
        let q = default_questionnaire();
        assert_eq!(check_questionnaire(&q).unwrap(), q);
        assert_eq!(q.ratings().count(), 5);
        assert_eq!(q.questions.len(), 6);
        assert!(q.ratings().any(|x| x.key == OVERALL));
    }

    #[test]
    fn r_eva_3_questionnaire_refuses_duplicates_missing_overall_and_too_many() {
        let mut q = default_questionnaire();
        q.questions[1].key = "teaching".into();
        let p = check_questionnaire(&q).unwrap_err();
        assert_eq!(p[0].code, "SURVEY_KEY_DUPLICATE");
        assert_eq!(p[0].field, "questions[1].key");

        let mut q = default_questionnaire();
        q.questions.retain(|x| x.key != OVERALL);
        let p = check_questionnaire(&q).unwrap_err();
        assert_eq!(p[0].code, "SURVEY_OVERALL_MISSING");

        let mut q = default_questionnaire();
        q.questions[4].kind = QuestionKind::Comment;
        let p = check_questionnaire(&q).unwrap_err();
        assert_eq!(p[0].code, "SURVEY_OVERALL_KIND");

        let mut q = default_questionnaire();
        for i in 0..7 {
            q.questions.push(Question::new(
                &format!("extra{i}"),
                "其他",
                QuestionKind::Rating,
            ));
        }
        assert_eq!(q.questions.len(), 13);
        let p = check_questionnaire(&q).unwrap_err();
        assert_eq!(p[0].code, "SURVEY_TOO_MANY_QUESTIONS");
        q.questions.pop();
        assert!(check_questionnaire(&q).is_ok());
    }

    #[test]
    fn r_eva_3_questionnaire_refuses_bad_keys_and_texts_listing_each() {
        let mut q = default_questionnaire();
        q.questions[0].key = "Teaching".into();
        q.questions[1].text = "  ".into();
        q.questions[2].text = "组织\u{202E}管理".into();
        q.questions[3].text = "场".repeat(101);
        let p = check_questionnaire(&q).unwrap_err();
        let fields: Vec<&str> = p.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "questions[0].key",
                "questions[1].text",
                "questions[2].text",
                "questions[3].text"
            ]
        );
        assert!(p[0].message.contains("第1题"), "{}", p[0].message);
    }

    #[test]
    fn r_eva_3_answer_needs_every_rating_in_1_to_5() {
        let q = default_questionnaire();
        let a = check_answer(&q, &full("4")).unwrap();
        assert_eq!(a.overall(), Some(4));
        assert!(a.comments.is_empty());

        let mut r = full("5");
        r.remove("venue");
        r.insert("teacher".into(), "6".into());
        r.insert("overall".into(), "0".into());
        let p = check_answer(&q, &r).unwrap_err();
        let got: Vec<(&str, &str)> = p.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(
            got,
            [
                ("teacher", "SURVEY_RATING_RANGE"),
                ("venue", "SURVEY_RATING_REQUIRED"),
                ("overall", "SURVEY_RATING_RANGE"),
            ]
        );
        assert!(p[1].message.contains("场地设施"));
    }

    #[test]
    fn r_eva_3_comment_is_optional_and_at_most_500_characters() {
        let q = default_questionnaire();
        let mut r = full("3");
        r.insert("comment".into(), " 希望增加实操课时 ".into());
        let a = check_answer(&q, &r).unwrap();
        assert_eq!(a.comments["comment"], "希望增加实操课时");
        r.insert("comment".into(), "好".repeat(500));
        assert!(check_answer(&q, &r).is_ok());
        r.insert("comment".into(), "好".repeat(501));
        let p = check_answer(&q, &r).unwrap_err();
        assert_eq!(
            (p[0].field.as_str(), p[0].code),
            ("comment", "TEXT_TOO_LONG")
        );
        // Unknown keys are ignored.
        let mut r = full("2");
        r.insert("trainee_id".into(), "1".into());
        assert_eq!(check_answer(&q, &r).unwrap().ratings.len(), 5);
    }

    #[test]
    fn r_eva_3_identification_fields() {
        let i = check_identification(" 张 三 ", " 123x ").unwrap();
        assert_eq!(i.name, "张三");
        assert_eq!(i.id_last4, "123X");
        let p = check_identification("", "12").unwrap_err();
        let got: Vec<&str> = p.iter().map(|x| x.code).collect();
        assert_eq!(got, ["SURVEY_NAME_REQUIRED", "SURVEY_ID_LAST4_FORMAT"]);
        let p = check_identification("李四", "").unwrap_err();
        assert_eq!(p[0].field, "id_last4");
        assert!(check_identification("李四", "12-4").is_err());
        assert_eq!(last4_of("44010519900307123x").as_deref(), Some("123X"));
        assert_eq!(last4_of("123"), None);
    }

    #[test]
    fn r_eva_3_stats_are_exact_counts_and_rounded_means() {
        let q = default_questionnaire();
        let mut t = Tally::new(3);
        for v in ["5", "4", "4"] {
            t.add_answer(&check_answer(&q, &full(v)).unwrap().ratings);
        }
        let s = t.stats(&q);
        assert_eq!(s.responses, 3);
        assert_eq!(s.rate_percent, Some(dec!(100.0)));
        let o = s.overall().unwrap();
        assert_eq!((o.answers, o.sum), (3, 13));
        // 13 / 3 = 4.333… → 4.33
        assert_eq!(o.mean, Some(dec!(4.33)));
        // 2 of 3 → 66.666… → 66.7 %
        assert_eq!(rate_percent(2, 3), Some(dec!(66.7)));
        assert_eq!(rate_percent(0, 0), None);
        // 9 / 2 = 4.5; 4.005 rounds half-up → mean(801, 200) = 4.005 → 4.01
        assert_eq!(mean(9, 2), Some(dec!(4.5)));
        assert_eq!(mean(801, 200), Some(dec!(4.01)));
        let empty = Tally::new(20).stats(&q);
        assert_eq!(empty.rate_percent, Some(dec!(0.0)));
        assert_eq!(empty.overall().unwrap().mean, None);
    }

    fn answer_strategy() -> impl Strategy<Value = [u8; 5]> {
        prop::array::uniform5(1u8..=5)
    }

    fn ratings_of(v: [u8; 5]) -> BTreeMap<String, u8> {
        ["teaching", "teacher", "organisation", "venue", "overall"]
            .iter()
            .zip(v)
            .map(|(k, r)| (k.to_string(), r))
            .collect()
    }

    proptest! {
        #[test]
        fn r_eva_3_any_rating_in_range_is_accepted_and_any_outside_refused(
            v in answer_strategy(), bad in prop_oneof![0u8..=0, 6u8..=255], at in 0usize..5
        ) {
            let q = default_questionnaire();
            let r: BTreeMap<String, String> =
                ratings_of(v).into_iter().map(|(k, x)| (k, x.to_string())).collect();
            prop_assert_eq!(check_answer(&q, &r).unwrap().ratings, ratings_of(v));
            let mut r2 = r.clone();
            let key = q.questions[at].key.clone();
            r2.insert(key.clone(), bad.to_string());
            let p = check_answer(&q, &r2).unwrap_err();
            prop_assert_eq!(p.len(), 1);
            prop_assert_eq!(&p[0].field, &key);
        }

        #[test]
        fn r_eva_3_round_tally_is_the_sum_of_class_tallies(
            a in prop::collection::vec(answer_strategy(), 0..40),
            b in prop::collection::vec(answer_strategy(), 0..40),
        ) {
            let q = default_questionnaire();
            let mut ta = Tally::new(40);
            a.iter().for_each(|v| ta.add_answer(&ratings_of(*v)));
            let mut tb = Tally::new(40);
            b.iter().for_each(|v| tb.add_answer(&ratings_of(*v)));
            let mut all = Tally::new(80);
            a.iter().chain(&b).for_each(|v| all.add_answer(&ratings_of(*v)));
            let mut merged = ta.clone();
            merged.merge(&tb);
            prop_assert_eq!(&merged, &all);
            let s = all.stats(&q);
            for qs in &s.questions {
                if let Some(m) = qs.mean {
                    prop_assert!(m >= dec!(1) && m <= dec!(5));
                }
                prop_assert_eq!(qs.answers as usize, a.len() + b.len());
            }
        }
    }
}
