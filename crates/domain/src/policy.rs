//! Policy values (R-POL-1): every number the guideline states, in one versioned struct.
//!
//! Functions that apply a number from the guideline take a `&Policy` instead of a constant, so a
//! new notice ("如有新的相关文件出台，则按最新文件规定执行") is a new `Policy` value with its own
//! `version` and `effective_from`, and each stored decision can name the version it used.
//!
//! Where a value comes from: the guideline (海珠区职业技能培训合格证书培训工作指引（试行）) for the
//! cap share, the score bands, the major-project factor, growth, class size, the 10-working-day
//! lead, the 30-day window, the overdue limit, the teacher-change lead and the 25th. The evaluation
//! weights and the certificate district code are SPEC.md defaults, not in the guideline.

use crate::cap::Score;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One score band of R-CAP-3: scores `>= min` (and below the next band's `min`) get `factor`.
/// Scores below the lowest band's `min` suspend (暂停签约分配指标).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreBand {
    /// Inclusive lower bound.
    pub min: Score,
    /// Multiplier on the previous agreement's completed classes.
    pub factor: Decimal,
}

/// R-EVA-1 weights, in percent; they sum to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationWeights {
    /// 任务完成情况
    pub task_completion: u32,
    /// 教学督导
    pub supervision: u32,
    /// 教学档案整理
    pub archives: u32,
    /// 学员满意度
    pub satisfaction: u32,
}

impl EvaluationWeights {
    pub fn sum(&self) -> u32 {
        self.task_completion + self.supervision + self.archives + self.satisfaction
    }
}

/// Every number of SPEC.md §3, versioned (R-POL-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// A name people recognise, stored with each decision, e.g. "haizhu-2020-trial".
    pub version: String,
    /// First day (Asia/Shanghai) on which this policy applies.
    pub effective_from: NaiveDate,
    /// R-CAP-1: an institution's cap is at most round_half_up(share × P). Default 0.5.
    pub global_cap_share: Decimal,
    /// R-CAP-3: bands in ascending order of `min`. Below the first band's `min` suspends.
    pub score_bands: Vec<ScoreBand>,
    /// R-CAP-4: further factor for institutions able to take major projects. Default 1.1.
    pub major_factor: Decimal,
    /// R-CAP-4: the major projects (重大工程), a configurable list.
    pub major_projects: Vec<String>,
    /// R-CAP-5: multiply by P / P_prev when P > P_prev. Default on.
    pub growth_enabled: bool,
    /// R-FIL-2: minimum trainees per class. Default 20.
    pub min_class_size: u32,
    /// R-FIL-3: a filing is due this many working days before the start date. Default 10.
    pub filing_lead_working_days: u32,
    /// R-FIL-4 / R-OVD-1: the planned end is at most start + this many calendar days. Default 30.
    pub class_window_days: u32,
    /// R-OVD-2: more than this many overdue classes in a year disqualifies. Default 3.
    pub overdue_limit_per_year: u32,
    /// R-RUN-1: a teacher change is reported this many working days ahead. Default 1.
    pub teacher_change_lead_working_days: u32,
    /// R-RUN-3: the monthly report is due on this day of each month. Default 25. 1–28.
    pub monthly_report_day: u32,
    /// R-EVA-1 weights. Default 40/20/20/20.
    pub evaluation_weights: EvaluationWeights,
    /// R-CRT-1: six-digit district code at the head of certificate codes. Default "440105".
    pub certificate_district_code: String,
    /// SPEC.md §4: a trainee younger than this at the class start is refused. Default 16.
    /// (Versions stored before this field existed read as 16.) The statutory retirement ages
    /// stay code constants (`ids.rs`, the 2025 gradual reform): they follow national law, not a
    /// district document.
    #[serde(default = "default_min_trainee_age")]
    pub min_trainee_age: u32,
    /// R-EVA-1: the numbers of the default evaluation formulas. (Versions stored before this
    /// field existed read as SPEC.md's defaults.)
    #[serde(default)]
    pub evaluation_formula: EvaluationFormula,
}

/// R-EVA-1: every number of the default evaluation formulas (SPEC.md §3.7), as policy values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvaluationFormula {
    /// Task completion: share of on-time completed / approved. Default 0.7.
    pub on_time_share: Decimal,
    /// Task completion: share of min(1, approved / cap). Default 0.3.
    pub volume_share: Decimal,
    /// Supervision: points off per general finding (一般问题). Default 5.
    pub general_finding_deduction: Decimal,
    /// Supervision: points off per serious finding (严重问题). Default 15.
    pub serious_finding_deduction: Decimal,
    /// Supervision: points off per rectification closed after its due date. Default 10.
    pub late_rectification_deduction: Decimal,
    /// Satisfaction: the lowest and highest overall rating. Default 1 and 5.
    pub rating_min: u32,
    pub rating_max: u32,
    /// Satisfaction: below this response rate (responses / trainees) the component is flagged
    /// for the centre to confirm or adjust. Default 0.3.
    pub min_response_rate: Decimal,
}

impl Default for EvaluationFormula {
    fn default() -> Self {
        EvaluationFormula {
            on_time_share: Decimal::new(7, 1),
            volume_share: Decimal::new(3, 1),
            general_finding_deduction: Decimal::from(5),
            serious_finding_deduction: Decimal::from(15),
            late_rectification_deduction: Decimal::from(10),
            rating_min: 1,
            rating_max: 5,
            min_response_rate: Decimal::new(3, 1),
        }
    }
}

fn default_min_trainee_age() -> u32 {
    16
}

/// One policy value for display (detail and compare pages): a stable key, a Chinese label and
/// the value as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRow {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
}

/// A policy that fails [`Policy::validate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("政策参数无效：{zh} / invalid policy: {en}")]
pub struct PolicyError {
    /// The policy field at fault.
    pub field: &'static str,
    pub zh: String,
    pub en: String,
}

fn bad(field: &'static str, zh: impl Into<String>, en: impl Into<String>) -> PolicyError {
    PolicyError {
        field,
        zh: zh.into(),
        en: en.into(),
    }
}

impl Policy {
    /// The Haizhu guideline (试行) as SPEC.md reads it.
    pub fn haizhu_default() -> Policy {
        let band = |min: u32, factor: Decimal| ScoreBand {
            min: Score::from_whole(min).expect("band bound in 0..=100"),
            factor,
        };
        Policy {
            version: "haizhu-guideline-trial-v1".to_string(),
            effective_from: NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date"),
            global_cap_share: Decimal::new(5, 1),
            score_bands: vec![
                band(61, Decimal::new(9, 1)),
                band(71, Decimal::new(10, 1)),
                band(81, Decimal::new(11, 1)),
                band(91, Decimal::new(12, 1)),
            ],
            major_factor: Decimal::new(11, 1),
            major_projects: vec![
                "南粤家政".to_string(),
                "粤菜师傅".to_string(),
                "广东技工".to_string(),
            ],
            growth_enabled: true,
            min_class_size: 20,
            filing_lead_working_days: 10,
            class_window_days: 30,
            overdue_limit_per_year: 3,
            teacher_change_lead_working_days: 1,
            monthly_report_day: 25,
            evaluation_weights: EvaluationWeights {
                task_completion: 40,
                supervision: 20,
                archives: 20,
                satisfaction: 20,
            },
            certificate_district_code: "440105".to_string(),
            min_trainee_age: 16,
            evaluation_formula: EvaluationFormula::default(),
        }
    }

    /// Every value as a labelled row, in the order SPEC.md states them (for pages; `version`
    /// and `effective_from` are shown by the caller).
    pub fn rows(&self) -> Vec<PolicyRow> {
        let row = |key, label, value: String| PolicyRow { key, label, value };
        let bands = self
            .score_bands
            .iter()
            .map(|b| format!("{}:{}", b.min, b.factor))
            .collect::<Vec<_>>()
            .join(", ");
        let w = &self.evaluation_weights;
        vec![
            row(
                "global_cap_share",
                "全区单机构上限比例（R-CAP-1）",
                self.global_cap_share.to_string(),
            ),
            row(
                "score_bands",
                "评分档次 下限:系数（R-CAP-3，低于最低档暂停）",
                bands,
            ),
            row(
                "major_factor",
                "重大工程系数（R-CAP-4）",
                self.major_factor.to_string(),
            ),
            row(
                "major_projects",
                "重大工程项目（R-CAP-4）",
                self.major_projects.join("、"),
            ),
            row(
                "growth_enabled",
                "计划增加时按比例增加（R-CAP-5）",
                if self.growth_enabled { "是" } else { "否" }.to_string(),
            ),
            row(
                "min_class_size",
                "每班最低人数（R-FIL-2）",
                self.min_class_size.to_string(),
            ),
            row(
                "filing_lead_working_days",
                "开班备案提前工作日数（R-FIL-3）",
                self.filing_lead_working_days.to_string(),
            ),
            row(
                "class_window_days",
                "培训及考试完成期限（日，R-FIL-4/R-OVD-1）",
                self.class_window_days.to_string(),
            ),
            row(
                "overdue_limit_per_year",
                "每年超期班次上限（超过即取消资格，R-OVD-2）",
                self.overdue_limit_per_year.to_string(),
            ),
            row(
                "teacher_change_lead_working_days",
                "师资调整提前报备工作日数（R-RUN-1）",
                self.teacher_change_lead_working_days.to_string(),
            ),
            row(
                "monthly_report_day",
                "月度反馈截止日（每月，R-RUN-3）",
                self.monthly_report_day.to_string(),
            ),
            row(
                "evaluation_weights",
                "绩效评估权重 任务/督导/档案/满意度（R-EVA-1）",
                format!(
                    "{}/{}/{}/{}",
                    w.task_completion, w.supervision, w.archives, w.satisfaction
                ),
            ),
            row(
                "evaluation_formula",
                "绩效评估公式 按时/规模/一般/严重/逾期整改/评分区间/最低回收率（R-EVA-1）",
                {
                    let f = &self.evaluation_formula;
                    format!(
                        "{}/{}/{}/{}/{}/{}–{}/{}",
                        f.on_time_share,
                        f.volume_share,
                        f.general_finding_deduction,
                        f.serious_finding_deduction,
                        f.late_rectification_deduction,
                        f.rating_min,
                        f.rating_max,
                        f.min_response_rate
                    )
                },
            ),
            row(
                "min_trainee_age",
                "学员最低年龄（周岁，§4）",
                self.min_trainee_age.to_string(),
            ),
            row(
                "certificate_district_code",
                "证书编码区划代码（R-CRT-1）",
                self.certificate_district_code.clone(),
            ),
        ]
    }

    /// The lowest score that is not suspended (61 by default): the first band's lower bound.
    pub fn suspension_threshold(&self) -> Score {
        self.score_bands
            .first()
            .map(|b| b.min)
            .unwrap_or(Score::MAX)
    }

    /// The factor for a score, or `None` when the score suspends (below every band).
    pub fn score_factor(&self, score: Score) -> Option<&ScoreBand> {
        self.score_bands.iter().rev().find(|b| score >= b.min)
    }

    /// Checks the internal consistency of a policy (a sysadmin-entered one in particular).
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.version.trim().is_empty() {
            return Err(bad(
                "version",
                "版本号不能为空",
                "version must not be empty",
            ));
        }
        if self.global_cap_share <= Decimal::ZERO || self.global_cap_share > Decimal::ONE {
            return Err(bad(
                "global_cap_share",
                format!(
                    "全区上限比例须大于0且不超过1，当前为 {}",
                    self.global_cap_share
                ),
                format!(
                    "global cap share must be in (0, 1], got {}",
                    self.global_cap_share
                ),
            ));
        }
        if self.score_bands.is_empty() {
            return Err(bad(
                "score_bands",
                "评分档次不能为空",
                "score bands must not be empty",
            ));
        }
        for (i, b) in self.score_bands.iter().enumerate() {
            if b.factor <= Decimal::ZERO {
                return Err(bad(
                    "score_bands",
                    format!("第{}档系数须大于0，当前为 {}", i + 1, b.factor),
                    format!("band {} factor must be positive, got {}", i + 1, b.factor),
                ));
            }
        }
        for w in self.score_bands.windows(2) {
            if w[0].min >= w[1].min {
                return Err(bad(
                    "score_bands",
                    format!(
                        "评分档次须按下限严格升序排列：{} 不小于 {}",
                        w[0].min, w[1].min
                    ),
                    format!(
                        "score bands must be in strictly ascending order of min: {} is not below {}",
                        w[0].min, w[1].min
                    ),
                ));
            }
            if w[0].factor > w[1].factor {
                return Err(bad(
                    "score_bands",
                    format!(
                        "评分越高系数不应越低：{} 分档 {} 大于 {} 分档 {}",
                        w[0].min, w[0].factor, w[1].min, w[1].factor
                    ),
                    format!(
                        "a higher band must not have a lower factor: band {} has {} > band {} with {}",
                        w[0].min, w[0].factor, w[1].min, w[1].factor
                    ),
                ));
            }
        }
        if self.major_factor <= Decimal::ZERO {
            return Err(bad(
                "major_factor",
                format!("重大工程系数须大于0，当前为 {}", self.major_factor),
                format!("major factor must be positive, got {}", self.major_factor),
            ));
        }
        if self.major_projects.iter().any(|p| p.trim().is_empty()) {
            return Err(bad(
                "major_projects",
                "重大工程名称不能为空",
                "major project names must not be empty",
            ));
        }
        if self.min_class_size == 0 {
            return Err(bad(
                "min_class_size",
                "每班最低人数须至少为1",
                "minimum class size must be at least 1",
            ));
        }
        if self.class_window_days == 0 {
            return Err(bad(
                "class_window_days",
                "培训完成期限须至少为1天",
                "class window must be at least 1 day",
            ));
        }
        if !(1..=28).contains(&self.monthly_report_day) {
            return Err(bad(
                "monthly_report_day",
                format!(
                    "月度反馈日须在1至28日之间（每月都有），当前为 {}",
                    self.monthly_report_day
                ),
                format!(
                    "monthly report day must be 1–28 (present in every month), got {}",
                    self.monthly_report_day
                ),
            ));
        }
        let sum = self.evaluation_weights.sum();
        if sum != 100 {
            return Err(bad(
                "evaluation_weights",
                format!("绩效评估各项权重之和须为100，当前为 {sum}"),
                format!("evaluation weights must sum to 100, got {sum}"),
            ));
        }
        if !(1..=60).contains(&self.min_trainee_age) {
            return Err(bad(
                "min_trainee_age",
                format!(
                    "学员最低年龄须在1至60周岁之间，当前为 {}",
                    self.min_trainee_age
                ),
                format!(
                    "minimum trainee age must be 1–60, got {}",
                    self.min_trainee_age
                ),
            ));
        }
        let f = &self.evaluation_formula;
        let shares = f.on_time_share + f.volume_share;
        if f.on_time_share < Decimal::ZERO
            || f.volume_share < Decimal::ZERO
            || shares != Decimal::ONE
        {
            return Err(bad(
                "evaluation_formula",
                format!("任务完成情况的按时与规模占比须非负且之和为1，当前为 {shares}"),
                format!(
                    "on-time and volume shares must be non-negative and sum to 1, got {shares}"
                ),
            ));
        }
        if [
            f.general_finding_deduction,
            f.serious_finding_deduction,
            f.late_rectification_deduction,
        ]
        .iter()
        .any(|d| *d < Decimal::ZERO)
        {
            return Err(bad(
                "evaluation_formula",
                "教学督导的扣分不能为负数",
                "supervision deductions must not be negative",
            ));
        }
        if f.rating_min >= f.rating_max {
            return Err(bad(
                "evaluation_formula",
                format!("满意度评分区间无效：{}–{}", f.rating_min, f.rating_max),
                format!("invalid rating range {}–{}", f.rating_min, f.rating_max),
            ));
        }
        if f.min_response_rate < Decimal::ZERO || f.min_response_rate > Decimal::ONE {
            return Err(bad(
                "evaluation_formula",
                format!("最低回收率须在0至1之间，当前为 {}", f.min_response_rate),
                format!(
                    "minimum response rate must be 0–1, got {}",
                    f.min_response_rate
                ),
            ));
        }
        let code = &self.certificate_district_code;
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                "certificate_district_code",
                format!("证书编码中的区划代码须为6位数字，当前为 “{code}”"),
                format!("certificate district code must be 6 digits, got \"{code}\""),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn r_pol_1_default_is_valid_and_holds_the_guideline_numbers() {
        let p = Policy::haizhu_default();
        p.validate().unwrap();
        assert_eq!(p.global_cap_share, dec!(0.5));
        assert_eq!(p.major_factor, dec!(1.1));
        assert_eq!(p.min_class_size, 20);
        assert_eq!(p.filing_lead_working_days, 10);
        assert_eq!(p.class_window_days, 30);
        assert_eq!(p.overdue_limit_per_year, 3);
        assert_eq!(p.teacher_change_lead_working_days, 1);
        assert_eq!(p.monthly_report_day, 25);
        assert_eq!(p.certificate_district_code, "440105");
        assert_eq!(p.suspension_threshold().to_string(), "61");
        assert!(p.major_projects.contains(&"粤菜师傅".to_string()));
    }

    #[test]
    fn r_pol_1_bands_closed_at_lower_bound() {
        let p = Policy::haizhu_default();
        let f = |s: &str| p.score_factor(s.parse().unwrap()).map(|b| b.factor);
        assert_eq!(f("100"), Some(dec!(1.2)));
        assert_eq!(f("91"), Some(dec!(1.2)));
        assert_eq!(f("90.9"), Some(dec!(1.1)));
        assert_eq!(f("81"), Some(dec!(1.1)));
        assert_eq!(f("80.9"), Some(dec!(1.0)));
        assert_eq!(f("71"), Some(dec!(1.0)));
        assert_eq!(f("70.9"), Some(dec!(0.9)));
        assert_eq!(f("61"), Some(dec!(0.9)));
        assert_eq!(f("60.9"), None);
        assert_eq!(f("60"), None);
        assert_eq!(f("0"), None);
    }

    #[test]
    fn r_pol_1_validation_catches_bad_values() {
        let base = Policy::haizhu_default();

        let mut p = base.clone();
        p.evaluation_weights.satisfaction = 30;
        assert_eq!(p.validate().unwrap_err().field, "evaluation_weights");

        let mut p = base.clone();
        p.score_bands.swap(0, 1);
        assert_eq!(p.validate().unwrap_err().field, "score_bands");

        let mut p = base.clone();
        p.score_bands[3].factor = dec!(0.5);
        assert_eq!(p.validate().unwrap_err().field, "score_bands");

        let mut p = base.clone();
        p.global_cap_share = dec!(1.5);
        assert_eq!(p.validate().unwrap_err().field, "global_cap_share");

        let mut p = base.clone();
        p.certificate_district_code = "44010".into();
        assert_eq!(p.validate().unwrap_err().field, "certificate_district_code");

        let mut p = base.clone();
        p.monthly_report_day = 31;
        assert_eq!(p.validate().unwrap_err().field, "monthly_report_day");

        let mut p = base.clone();
        p.min_trainee_age = 0;
        assert_eq!(p.validate().unwrap_err().field, "min_trainee_age");

        let mut p = base;
        p.version = " ".into();
        let e = p.validate().unwrap_err();
        assert!(e.to_string().contains("版本号"), "{e}");
    }

    #[test]
    fn r_pol_1_round_trips_through_json() {
        let p = Policy::haizhu_default();
        let json = serde_json::to_string(&p).unwrap();
        let back: Policy = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn r_pol_1_versions_stored_before_min_age_read_as_16() {
        let mut v = serde_json::to_value(Policy::haizhu_default()).unwrap();
        v.as_object_mut().unwrap().remove("min_trainee_age");
        let back: Policy = serde_json::from_value(v).unwrap();
        assert_eq!(back.min_trainee_age, 16);
    }

    #[test]
    fn r_eva_1_versions_stored_before_the_formula_read_the_spec_defaults() {
        let mut v = serde_json::to_value(Policy::haizhu_default()).unwrap();
        v.as_object_mut().unwrap().remove("evaluation_formula");
        let back: Policy = serde_json::from_value(v).unwrap();
        assert_eq!(back, Policy::haizhu_default());
    }

    #[test]
    fn r_pol_1_rows_name_every_value() {
        let p = Policy::haizhu_default();
        let rows = p.rows();
        let get = |k: &str| rows.iter().find(|r| r.key == k).unwrap().value.clone();
        assert_eq!(get("score_bands"), "61:0.9, 71:1.0, 81:1.1, 91:1.2");
        assert_eq!(get("filing_lead_working_days"), "10");
        assert_eq!(get("evaluation_weights"), "40/20/20/20");
        assert_eq!(get("min_trainee_age"), "16");
        assert_eq!(get("evaluation_formula"), "0.7/0.3/5/15/10/1–5/0.3");
        assert_eq!(rows.len(), 15);
    }
}
