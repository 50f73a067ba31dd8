//! The evaluation of an institution under an agreement (R-EVA-1, 绩效评估).
//!
//! Four components, each 0–100, computed from the records by SPEC.md's default formulas with
//! every number a policy value ([`EvaluationFormula`]):
//! - task completion (任务完成情况) = 100 × (0.7 × on-time / approved + 0.3 × min(1, approved / cap)),
//!   0 when nothing was approved;
//! - supervision (教学督导) = 100 − 5·general − 15·serious − 10·late rectifications, floored at 0
//!   (no inspection → 100);
//! - archives (教学档案整理) = the mean archive completeness (%) of the completed classes; with no
//!   completed class it is 0 and flagged;
//! - satisfaction (学员满意度) = (mean overall − 1) / 4 × 100, from the sum of the overall ratings and
//!   the number of answers; below the minimum response rate (30 %) it is flagged, and with no
//!   answer it is 0 and flagged.
//!
//! The score is `Σ weight × component / 100`, computed with exact rationals and rounded half-up to
//! one decimal **once**, at the end. The centre may replace any component with a reason, or
//! accept a flagged one as computed ([`Adjustment`]); the score then uses the adjusted value and
//! the computed one stays beside it. Every result carries a trail like the cap trail.

use crate::cap::Score;
use crate::policy::{EvaluationWeights, Policy, PolicyError};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// One of the four components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKey {
    /// 任务完成情况
    TaskCompletion,
    /// 教学督导
    Supervision,
    /// 教学档案整理
    Archives,
    /// 学员满意度
    Satisfaction,
}

impl ComponentKey {
    pub const ALL: [ComponentKey; 4] = [
        ComponentKey::TaskCompletion,
        ComponentKey::Supervision,
        ComponentKey::Archives,
        ComponentKey::Satisfaction,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ComponentKey::TaskCompletion => "task_completion",
            ComponentKey::Supervision => "supervision",
            ComponentKey::Archives => "archives",
            ComponentKey::Satisfaction => "satisfaction",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ComponentKey::TaskCompletion => "任务完成情况",
            ComponentKey::Supervision => "教学督导",
            ComponentKey::Archives => "教学档案整理",
            ComponentKey::Satisfaction => "学员满意度",
        }
    }

    pub fn parse(s: &str) -> Option<ComponentKey> {
        ComponentKey::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn weight(self, w: &EvaluationWeights) -> u32 {
        match self {
            ComponentKey::TaskCompletion => w.task_completion,
            ComponentKey::Supervision => w.supervision,
            ComponentKey::Archives => w.archives,
            ComponentKey::Satisfaction => w.satisfaction,
        }
    }
}

/// The trainees' overall ratings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SatisfactionInput {
    /// From the survey answers: the number of answers, the sum of their overall ratings and the
    /// number of trainees asked.
    Answers {
        responses: u32,
        overall_sum: u32,
        trainees: u32,
    },
    /// A mean given directly (the calculator), with the counts when known.
    Mean {
        mean: Decimal,
        responses: Option<u32>,
        trainees: Option<u32>,
    },
}

/// Everything an evaluation depends on, apart from the policy (R-EVA-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationInput {
    /// The agreement's cap.
    pub cap: u32,
    /// Classes approved and not cancelled for a reason outside the institution.
    pub approved: u32,
    /// Of those, completed on time (not overdue).
    pub on_time: u32,
    /// Inspections of the agreement's classes; `None` when unknown (the calculator).
    #[serde(default)]
    pub inspections: Option<u32>,
    pub general_findings: u32,
    pub serious_findings: u32,
    /// Rectifications closed after their due date (or still open past it).
    pub late_rectifications: u32,
    /// Archive completeness (%) of each completed class.
    pub archives: Vec<Decimal>,
    pub satisfaction: SatisfactionInput,
}

/// The centre's decision on one component: a replacement value, or (`value: None`) acceptance of
/// a flagged computed value. Either way with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    pub key: ComponentKey,
    /// The value used instead of the computed one; `None` accepts the computed value.
    pub value: Option<Decimal>,
    pub reason: String,
}

/// One line of an evaluation's trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalStep {
    /// The component the step belongs to; `None` for the score.
    pub component: Option<ComponentKey>,
    /// A stable code, e.g. "on_time_ratio".
    pub kind: String,
    /// Chinese label.
    pub label: String,
    /// The value, exact, as text ("0.8", "1400/3 ≈ 466.666667").
    pub value: String,
    /// Chinese explanation.
    pub note: String,
}

/// One computed component, with the centre's adjustment if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentResult {
    pub key: ComponentKey,
    pub label: String,
    /// Weight in percent.
    pub weight: u32,
    /// The computed value (exact when its decimal expansion ends, else to 28 digits).
    pub computed: Decimal,
    /// The computed value as exact text.
    pub computed_text: String,
    /// Why the centre must confirm or adjust it; `None` when not flagged.
    pub flag: Option<String>,
    /// The centre's replacement value.
    pub adjusted: Option<Decimal>,
    /// The reason of the adjustment or of the acceptance.
    pub adjustment_reason: Option<String>,
    /// A flagged value the centre accepted as computed.
    pub accepted: bool,
    /// The value the score uses.
    pub effective: Decimal,
}

impl ComponentResult {
    /// Flagged and neither adjusted nor accepted: blocks confirmation.
    pub fn needs_decision(&self) -> bool {
        self.flag.is_some() && self.adjusted.is_none() && !self.accepted
    }
}

/// What the score does to the next cap (R-CAP-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandEffect {
    /// The score factor; `None` when suspended.
    pub factor: Option<Decimal>,
    pub suspended: bool,
    /// E.g. "81 ≤ 86.2 < 91 → × 1.1".
    pub note: String,
}

/// An evaluation with everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationResult {
    pub components: Vec<ComponentResult>,
    /// `Σ weight × component / 100` before rounding, as exact text.
    pub unrounded: String,
    /// Rounded half-up to one decimal, once.
    pub score: Score,
    pub band: BandEffect,
    pub policy_version: String,
    pub input: EvaluationInput,
    pub trail: Vec<EvalStep>,
}

impl EvaluationResult {
    pub fn component(&self, key: ComponentKey) -> &ComponentResult {
        self.components
            .iter()
            .find(|c| c.key == key)
            .expect("all four components")
    }

    /// Components that still need the centre's decision.
    pub fn undecided(&self) -> Vec<ComponentKey> {
        self.components
            .iter()
            .filter(|c| c.needs_decision())
            .map(|c| c.key)
            .collect()
    }
}

/// Why an evaluation could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    #[error(
        "按时完成班次数 {on_time} 不能大于批复班次数 {approved} / on-time {on_time} exceeds approved {approved}"
    )]
    OnTimeAboveApproved { on_time: u32, approved: u32 },
    #[error("签约班次上限须大于0 / the cap must be at least 1")]
    CapZero,
    #[error("档案完整率须在0至100之间：{0} / archive completeness must be 0–100: {0}")]
    ArchiveOutOfRange(String),
    #[error(
        "满意度平均分须在{min}至{max}之间：{value} / satisfaction mean must be {min}–{max}: {value}"
    )]
    MeanOutOfRange { value: String, min: u32, max: u32 },
    #[error(
        "满意度评分总和 {sum} 与回答数 {responses} 不符 / overall sum {sum} impossible for {responses} answers"
    )]
    SumOutOfRange { sum: u32, responses: u32 },
    #[error(
        "回答人数 {responses} 不能大于学员人数 {trainees} / responses {responses} exceed trainees {trainees}"
    )]
    ResponsesAboveTrainees { responses: u32, trainees: u32 },
    #[error(
        "调整值须在0至100之间且最多三位小数：{0} / adjusted value must be 0–100 with at most three decimals: {0}"
    )]
    AdjustmentOutOfRange(String),
    #[error("调整须填写理由 / an adjustment needs a reason")]
    EmptyReason,
    #[error("计算溢出，输入数值过大 / arithmetic overflow, inputs too large")]
    Overflow,
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

// ---------------------------------------------------------------------------------------------
// Exact arithmetic
// ---------------------------------------------------------------------------------------------

type Q = BigRational;

fn q_int(n: u32) -> Q {
    Q::from_integer(BigInt::from(n))
}

fn q_dec(d: Decimal) -> Q {
    Q::new(BigInt::from(d.mantissa()), BigInt::from(10).pow(d.scale()))
}

fn hundred() -> Q {
    q_int(100)
}

/// Does the decimal expansion of `q` end?
fn terminates(q: &Q) -> bool {
    let mut d = q.denom().clone();
    for p in [2u32, 5] {
        let p = BigInt::from(p);
        while (&d % &p).is_zero() {
            d /= &p;
        }
    }
    d.is_one()
}

/// `q` as a `Decimal`: exact when the expansion ends within 28 digits, else rounded.
fn to_decimal(q: &Q) -> Result<Decimal, EvaluationError> {
    let n = Decimal::from_str(&q.numer().to_string()).map_err(|_| EvaluationError::Overflow)?;
    let d = Decimal::from_str(&q.denom().to_string()).map_err(|_| EvaluationError::Overflow)?;
    Ok(n.checked_div(d)
        .ok_or(EvaluationError::Overflow)?
        .normalize())
}

/// `q` as text: exact if the expansion ends, else the fraction and ≈ six decimals.
fn text(q: &Q) -> String {
    match to_decimal(q) {
        Ok(d) if terminates(q) => d.to_string(),
        Ok(d) => format!(
            "{}/{} ≈ {}",
            q.numer(),
            q.denom(),
            d.round_dp(6).normalize()
        ),
        Err(_) => format!("{}/{}", q.numer(), q.denom()),
    }
}

/// `round_half_up(q)` to one decimal, exactly, for `q ≥ 0`.
fn round_half_up_1dp(q: &Q) -> Q {
    let ten = q_int(10);
    let half = Q::new(BigInt::from(1), BigInt::from(2));
    ((q * &ten) + half).floor() / ten
}

fn show(d: Decimal) -> String {
    d.normalize().to_string()
}

fn step(
    component: Option<ComponentKey>,
    kind: &str,
    label: &str,
    value: impl ToString,
    note: impl Into<String>,
) -> EvalStep {
    EvalStep {
        component,
        kind: kind.to_string(),
        label: label.to_string(),
        value: value.to_string(),
        note: note.into(),
    }
}

/// Checks a replacement value: 0–100 with at most three decimals.
pub fn check_adjusted_value(v: Decimal) -> Result<Decimal, EvaluationError> {
    let v = v.normalize();
    if v < Decimal::ZERO || v > Decimal::ONE_HUNDRED || v.scale() > 3 {
        return Err(EvaluationError::AdjustmentOutOfRange(v.to_string()));
    }
    Ok(v)
}

/// R-CAP-3: what a score does to the next cap under `policy`.
pub fn band_effect(score: Score, policy: &Policy) -> BandEffect {
    match policy.score_factor(score) {
        None => BandEffect {
            factor: None,
            suspended: true,
            note: format!(
                "{score} < {} → 暂停签约分配指标",
                policy.suspension_threshold()
            ),
        },
        Some(band) => {
            let next = policy.score_bands.iter().find(|b| b.min > band.min);
            BandEffect {
                factor: Some(band.factor),
                suspended: false,
                note: match next {
                    Some(n) => format!(
                        "{} ≤ {score} < {} → × {}",
                        band.min,
                        n.min,
                        show(band.factor)
                    ),
                    None => format!("{score} ≥ {} → × {}", band.min, show(band.factor)),
                },
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The components
// ---------------------------------------------------------------------------------------------

struct Computed {
    value: Q,
    flag: Option<String>,
    steps: Vec<EvalStep>,
}

fn task_completion(i: &EvaluationInput, p: &Policy) -> Computed {
    let k = Some(ComponentKey::TaskCompletion);
    let f = &p.evaluation_formula;
    let mut steps = vec![
        step(
            k,
            "approved",
            "批复班次数（不含因机构以外原因取消的）",
            i.approved,
            "",
        ),
        step(k, "on_time", "按时完成班次数（超期不计）", i.on_time, ""),
        step(k, "cap", "签约班次上限", i.cap, ""),
    ];
    if i.approved == 0 {
        steps.push(step(k, "value", "任务完成情况", "0", "无批复班次 → 0"));
        return Computed {
            value: Q::zero(),
            flag: None,
            steps,
        };
    }
    let on_time_ratio = Q::new(i.on_time.into(), i.approved.into());
    let volume = Q::new(i.approved.into(), i.cap.into()).min(Q::one());
    steps.push(step(
        k,
        "on_time_ratio",
        "按时完成率",
        text(&on_time_ratio),
        format!("{} / {}", i.on_time, i.approved),
    ));
    steps.push(step(
        k,
        "volume_ratio",
        "任务量完成率（封顶1）",
        text(&volume),
        format!("min(1, {} / {})", i.approved, i.cap),
    ));
    let value =
        hundred() * (q_dec(f.on_time_share) * &on_time_ratio + q_dec(f.volume_share) * &volume);
    steps.push(step(
        k,
        "value",
        "任务完成情况",
        text(&value),
        format!(
            "100 × ({} × {} + {} × {}) = {}",
            show(f.on_time_share),
            text(&on_time_ratio),
            show(f.volume_share),
            text(&volume),
            text(&value)
        ),
    ));
    Computed {
        value,
        flag: None,
        steps,
    }
}

fn supervision(i: &EvaluationInput, p: &Policy) -> Computed {
    let k = Some(ComponentKey::Supervision);
    let f = &p.evaluation_formula;
    let mut steps = Vec::new();
    if let Some(n) = i.inspections {
        steps.push(step(k, "inspections", "检查抽查次数", n, ""));
    }
    steps.push(step(
        k,
        "general_findings",
        "一般问题",
        i.general_findings,
        "",
    ));
    steps.push(step(
        k,
        "serious_findings",
        "严重问题",
        i.serious_findings,
        "",
    ));
    steps.push(step(
        k,
        "late_rectifications",
        "逾期整改（整改期限后才闭环）",
        i.late_rectifications,
        "",
    ));
    if i.inspections == Some(0) {
        steps.push(step(k, "value", "教学督导", "100", "无检查记录 → 100"));
        return Computed {
            value: hundred(),
            flag: None,
            steps,
        };
    }
    let deduction = q_dec(f.general_finding_deduction) * q_int(i.general_findings)
        + q_dec(f.serious_finding_deduction) * q_int(i.serious_findings)
        + q_dec(f.late_rectification_deduction) * q_int(i.late_rectifications);
    let raw = hundred() - &deduction;
    let value = if raw.is_negative() {
        Q::zero()
    } else {
        raw.clone()
    };
    steps.push(step(
        k,
        "value",
        "教学督导",
        text(&value),
        format!(
            "100 − {} × {} − {} × {} − {} × {} = {}{}",
            show(f.general_finding_deduction),
            i.general_findings,
            show(f.serious_finding_deduction),
            i.serious_findings,
            show(f.late_rectification_deduction),
            i.late_rectifications,
            text(&raw),
            if raw.is_negative() {
                "，最低为0 → 0"
            } else {
                ""
            }
        ),
    ));
    Computed {
        value,
        flag: None,
        steps,
    }
}

fn archives(i: &EvaluationInput) -> Computed {
    let k = Some(ComponentKey::Archives);
    let list = i
        .archives
        .iter()
        .map(|d| show(*d))
        .collect::<Vec<_>>()
        .join("、");
    let mut steps = vec![step(
        k,
        "completed_classes",
        "已完成班次的档案完整率（%）",
        if list.is_empty() {
            "无".to_string()
        } else {
            list.clone()
        },
        format!("{} 个班次", i.archives.len()),
    )];
    if i.archives.is_empty() {
        steps.push(step(
            k,
            "value",
            "教学档案整理",
            "0",
            "无已完成班次 → 0（待区培训中心确认或调整）",
        ));
        return Computed {
            value: Q::zero(),
            flag: Some("无已完成班次，无档案可评".to_string()),
            steps,
        };
    }
    let sum: Q = i.archives.iter().map(|d| q_dec(*d)).sum();
    let value = &sum / q_int(i.archives.len() as u32);
    steps.push(step(
        k,
        "value",
        "教学档案整理",
        text(&value),
        format!(
            "({}) / {} = {}",
            list.replace('、', " + "),
            i.archives.len(),
            text(&value)
        ),
    ));
    Computed {
        value,
        flag: None,
        steps,
    }
}

fn satisfaction(i: &EvaluationInput, p: &Policy) -> Result<Computed, EvaluationError> {
    let k = Some(ComponentKey::Satisfaction);
    let f = &p.evaluation_formula;
    let (lo, hi) = (f.rating_min, f.rating_max);
    let mut steps = Vec::new();
    let (mean, responses, trainees) = match &i.satisfaction {
        SatisfactionInput::Answers {
            responses,
            overall_sum,
            trainees,
        } => {
            if *responses > *trainees {
                return Err(EvaluationError::ResponsesAboveTrainees {
                    responses: *responses,
                    trainees: *trainees,
                });
            }
            steps.push(step(k, "responses", "回答人数", responses, ""));
            steps.push(step(k, "trainees", "学员人数", trainees, ""));
            if *responses == 0 {
                steps.push(step(
                    k,
                    "value",
                    "学员满意度",
                    "0",
                    "无学员回答 → 0（待区培训中心确认或调整）",
                ));
                return Ok(Computed {
                    value: Q::zero(),
                    flag: Some("无学员回答满意度调查".to_string()),
                    steps,
                });
            }
            let (rl, rh) = (
                u64::from(*responses) * u64::from(lo),
                u64::from(*responses) * u64::from(hi),
            );
            if u64::from(*overall_sum) < rl || u64::from(*overall_sum) > rh {
                return Err(EvaluationError::SumOutOfRange {
                    sum: *overall_sum,
                    responses: *responses,
                });
            }
            steps.push(step(k, "overall_sum", "总体评价评分之和", overall_sum, ""));
            let mean = Q::new((*overall_sum).into(), (*responses).into());
            steps.push(step(
                k,
                "mean",
                "总体评价平均分",
                text(&mean),
                format!("{overall_sum} / {responses}"),
            ));
            (mean, Some(*responses), Some(*trainees))
        }
        SatisfactionInput::Mean {
            mean,
            responses,
            trainees,
        } => {
            let m = q_dec(*mean);
            if m < q_int(lo) || m > q_int(hi) {
                return Err(EvaluationError::MeanOutOfRange {
                    value: show(*mean),
                    min: lo,
                    max: hi,
                });
            }
            if let (Some(r), Some(t)) = (responses, trainees)
                && r > t
            {
                return Err(EvaluationError::ResponsesAboveTrainees {
                    responses: *r,
                    trainees: *t,
                });
            }
            if let Some(r) = responses {
                steps.push(step(k, "responses", "回答人数", r, ""));
            }
            if let Some(t) = trainees {
                steps.push(step(k, "trainees", "学员人数", t, ""));
            }
            steps.push(step(k, "mean", "总体评价平均分", show(*mean), ""));
            (m, *responses, *trainees)
        }
    };
    let mut flag = None;
    match (responses, trainees) {
        (Some(r), Some(t)) if t > 0 => {
            let rate = Q::new(r.into(), t.into());
            let min = q_dec(f.min_response_rate);
            let low = rate < min;
            steps.push(step(
                k,
                "response_rate",
                "回收率",
                text(&rate),
                format!(
                    "{r} / {t}{}",
                    if low {
                        format!(" < {} → 须区培训中心确认或调整", show(f.min_response_rate))
                    } else {
                        format!(" ≥ {}", show(f.min_response_rate))
                    }
                ),
            ));
            if low {
                let pct = to_decimal(&(rate * hundred()))?.round_dp(1).normalize();
                flag = Some(format!(
                    "回收率 {pct}% 低于 {}%",
                    show(f.min_response_rate * Decimal::ONE_HUNDRED)
                ));
            }
        }
        (Some(_), Some(_)) => {
            flag = Some("学员人数为0，无法计算回收率".to_string());
        }
        _ => {}
    }
    let value = (&mean - q_int(lo)) / q_int(hi - lo) * hundred();
    steps.push(step(
        k,
        "value",
        "学员满意度",
        text(&value),
        format!(
            "({} − {lo}) / {} × 100 = {}",
            text(&mean),
            hi - lo,
            text(&value)
        ),
    ));
    Ok(Computed { value, flag, steps })
}

// ---------------------------------------------------------------------------------------------
// The evaluation
// ---------------------------------------------------------------------------------------------

/// Computes the evaluation (R-EVA-1) from `input`, applying the centre's `adjustments` (the last
/// one per component wins).
pub fn evaluate(
    input: &EvaluationInput,
    adjustments: &[Adjustment],
    policy: &Policy,
) -> Result<EvaluationResult, EvaluationError> {
    policy.validate()?;
    if input.cap == 0 {
        return Err(EvaluationError::CapZero);
    }
    if input.on_time > input.approved {
        return Err(EvaluationError::OnTimeAboveApproved {
            on_time: input.on_time,
            approved: input.approved,
        });
    }
    for a in &input.archives {
        if *a < Decimal::ZERO || *a > Decimal::ONE_HUNDRED {
            return Err(EvaluationError::ArchiveOutOfRange(show(*a)));
        }
    }
    for a in adjustments {
        if a.reason.trim().is_empty() {
            return Err(EvaluationError::EmptyReason);
        }
        if let Some(v) = a.value {
            check_adjusted_value(v)?;
        }
    }
    let computed = [
        (ComponentKey::TaskCompletion, task_completion(input, policy)),
        (ComponentKey::Supervision, supervision(input, policy)),
        (ComponentKey::Archives, archives(input)),
        (ComponentKey::Satisfaction, satisfaction(input, policy)?),
    ];
    let weights = &policy.evaluation_weights;
    let mut trail = Vec::new();
    let mut components = Vec::new();
    let mut sum = Q::zero();
    let mut terms = Vec::new();
    for (key, c) in computed {
        trail.extend(c.steps);
        let adj = adjustments.iter().rev().find(|a| a.key == key);
        let adjusted = adj.and_then(|a| a.value.map(|v| v.normalize()));
        let effective_q = match adjusted {
            Some(v) => q_dec(v),
            None => c.value.clone(),
        };
        if let Some(a) = adj {
            trail.push(step(
                Some(key),
                if a.value.is_some() {
                    "adjusted"
                } else {
                    "accepted"
                },
                if a.value.is_some() {
                    "区培训中心调整"
                } else {
                    "区培训中心确认计算值"
                },
                match a.value {
                    Some(v) => show(v),
                    None => text(&c.value),
                },
                match a.value {
                    Some(v) => format!(
                        "计算值 {} → 调整为 {}；理由：{}",
                        text(&c.value),
                        show(v),
                        a.reason.trim()
                    ),
                    None => format!("按计算值 {}；理由：{}", text(&c.value), a.reason.trim()),
                },
            ));
        }
        let weight = key.weight(weights);
        sum += q_int(weight) * &effective_q;
        terms.push(format!("{weight} × {}", text(&effective_q)));
        components.push(ComponentResult {
            key,
            label: key.label_zh().to_string(),
            weight,
            computed: to_decimal(&c.value)?,
            computed_text: text(&c.value),
            flag: c.flag,
            adjusted,
            adjustment_reason: adj.map(|a| a.reason.trim().to_string()),
            accepted: adj.is_some_and(|a| a.value.is_none()),
            effective: to_decimal(&effective_q)?,
        });
    }
    let unrounded = sum / hundred();
    trail.push(step(
        None,
        "weights",
        "权重（%）",
        format!(
            "{}/{}/{}/{}",
            weights.task_completion, weights.supervision, weights.archives, weights.satisfaction
        ),
        "任务完成情况/教学督导/教学档案整理/学员满意度",
    ));
    trail.push(step(
        None,
        "unrounded",
        "未取整得分",
        text(&unrounded),
        format!(
            "({}) / 100 = {}（精确计算）",
            terms.join(" + "),
            text(&unrounded)
        ),
    ));
    let rounded = round_half_up_1dp(&unrounded);
    let score = Score::try_from(to_decimal(&rounded)?).map_err(|_| EvaluationError::Overflow)?;
    trail.push(step(
        None,
        "rounding",
        "四舍五入保留一位小数（仅一次）",
        score,
        format!("{} → {score}", text(&unrounded)),
    ));
    let band = band_effect(score, policy);
    trail.push(step(
        None,
        "band",
        "下一批次评分系数（R-CAP-3）",
        band.factor.map_or_else(|| "暂停".to_string(), show),
        band.note.clone(),
    ));
    Ok(EvaluationResult {
        components,
        unrounded: text(&unrounded),
        score,
        band,
        policy_version: policy.version.clone(),
        input: input.clone(),
        trail,
    })
}

/// The exact unrounded score as a fraction (for tests and the report): `Σ weight × value / 100`.
pub fn unrounded_fraction(result: &EvaluationResult) -> (String, String) {
    let sum: Q = result
        .components
        .iter()
        .map(|c| q_int(c.weight) * q_dec(c.effective))
        .sum::<Q>()
        / hundred();
    (sum.numer().to_string(), sum.denom().to_string())
}

#[cfg(test)]
mod tests;
