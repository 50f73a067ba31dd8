//! Class caps for an agreement (R-CAP-1 … R-CAP-8) and the evaluation [`Score`].
//!
//! The cap is `C × score factor × major factor × growth factor`, computed exactly (the growth
//! factor `P / P_prev` is kept as a fraction: the product's numerator is an exact decimal and the
//! single division by `P_prev` happens inside an exact half-up rounding), rounded half-up to an
//! integer **once**, then clamped by the global cap `round_half_up(share × P)`. No `f64` anywhere.
//!
//! Every decision carries a trail ([`TrailStep`]) that pages and the CLI render as is.
//!
//! Overrides (R-CAP-8): the guideline says the bands apply "原则上" (in principle), so the centre may
//! replace a derived cap with a written reason. Two things are not "原则上" and no override
//! changes them: the global cap ("不超过…50%", [`CapError::OverrideAboveGlobalCap`]) and the
//! suspension of a score below the lowest band ("评分60分以下的，暂停签约分配指标": no agreement
//! this round, [`CapError::OverrideCannotLiftSuspension`]).

use crate::policy::{Policy, PolicyError};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

// ---------------------------------------------------------------------------------------------
// Score
// ---------------------------------------------------------------------------------------------

/// An evaluation score (R-EVA-1, R-CAP-3): 0 to 100 with at most one decimal ("90.5").
/// Serialised as a string ("90.5"); deserialised from a string or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Score(Decimal);

/// Why a score was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error("评分“{0}”不是数字 / score \"{0}\" is not a number")]
    NotANumber(String),
    #[error("评分须在0至100之间：{0} / score must be between 0 and 100: {0}")]
    OutOfRange(String),
    #[error("评分最多保留一位小数：{0} / score may have at most one decimal: {0}")]
    TooManyDecimals(String),
}

impl Score {
    pub const ZERO: Score = Score(Decimal::ZERO);
    pub const MAX: Score = Score(Decimal::ONE_HUNDRED);

    /// A whole score, e.g. `Score::from_whole(61)`.
    pub fn from_whole(n: u32) -> Result<Score, ScoreError> {
        Score::try_from(Decimal::from(n))
    }

    /// The exact value.
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl TryFrom<Decimal> for Score {
    type Error = ScoreError;
    fn try_from(d: Decimal) -> Result<Self, Self::Error> {
        let d = d.normalize();
        if d < Decimal::ZERO || d > Decimal::ONE_HUNDRED {
            return Err(ScoreError::OutOfRange(d.to_string()));
        }
        if d.scale() > 1 {
            return Err(ScoreError::TooManyDecimals(d.to_string()));
        }
        Ok(Score(d))
    }
}

impl From<Score> for Decimal {
    fn from(s: Score) -> Decimal {
        s.0
    }
}

impl FromStr for Score {
    type Err = ScoreError;
    /// Accepts `95`, `90.5`, `90.50`; refuses `90.55`, `-1`, `101`, `1e2`, `.5`, `+5`, ``.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let (neg, body) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let mut parts = body.splitn(2, '.');
        let int = parts.next().unwrap_or("");
        let frac = parts.next();
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || frac.is_some_and(|f| !digits(f)) {
            return Err(ScoreError::NotANumber(s.to_string()));
        }
        if neg {
            return Err(ScoreError::OutOfRange(t.to_string()));
        }
        let d = Decimal::from_str(body).map_err(|_| ScoreError::OutOfRange(t.to_string()))?;
        Score::try_from(d).map_err(|e| match e {
            ScoreError::TooManyDecimals(_) => ScoreError::TooManyDecimals(t.to_string()),
            ScoreError::OutOfRange(_) => ScoreError::OutOfRange(t.to_string()),
            other => other,
        })
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

// ---------------------------------------------------------------------------------------------
// Exact rounding helpers (shared with rules.rs)
// ---------------------------------------------------------------------------------------------

/// `round_half_up(num / den)` for `num ≥ 0`, `den > 0`, decided exactly: the quotient from
/// `Decimal` division is only a first guess, corrected by exact multiplications so that
/// `(r − ½)·den ≤ num < (r + ½)·den`. Returns `None` on overflow.
pub(crate) fn round_half_up_ratio(num: Decimal, den: Decimal) -> Option<Decimal> {
    debug_assert!(num >= Decimal::ZERO && den > Decimal::ZERO);
    let half = Decimal::new(5, 1);
    let mut r = num
        .checked_div(den)?
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    loop {
        if num < (r - half).checked_mul(den)? {
            r -= Decimal::ONE;
        } else if num >= (r + half).checked_mul(den)? {
            r += Decimal::ONE;
        } else {
            return Some(r.normalize());
        }
    }
}

/// `num / den` as text: exact if the decimal expansion ends, else the reduced fraction and ≈ value.
fn ratio_text(num: Decimal, den: Decimal) -> String {
    match num.checked_div(den) {
        Some(q) if q.checked_mul(den) == Some(num) => q.normalize().to_string(),
        Some(q) => {
            let (n, d) = reduced_fraction(num, den);
            format!("{n}/{d} ≈ {}", q.round_dp(6).normalize())
        }
        None => "∞".to_string(),
    }
}

fn reduced_fraction(num: Decimal, den: Decimal) -> (i128, i128) {
    let scale = num.scale().max(den.scale());
    let mut n = num.mantissa() * 10i128.pow(scale - num.scale());
    let mut d = den.mantissa() * 10i128.pow(scale - den.scale());
    let g = gcd(n.abs(), d.abs()).max(1);
    n /= g;
    d /= g;
    (n, d)
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn show(d: Decimal) -> String {
    d.normalize().to_string()
}

// ---------------------------------------------------------------------------------------------
// Input, decision, trail
// ---------------------------------------------------------------------------------------------

/// How the cap is found: entered by the centre (first agreement) or derived (later ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CapBasis {
    /// R-CAP-2: the centre's figure for a first agreement.
    First { requested: u32 },
    /// R-CAP-3: classes completed on time under the previous agreement, and its score.
    Later { prev_completed: u32, score: Score },
}

/// Everything a cap depends on, apart from the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapInput {
    /// `P`: this round's planned class count, rollover included.
    pub planned: u32,
    /// `P_prev`: the previous round's planned count; `None` if there was no previous round.
    pub prev_planned: Option<u32>,
    pub basis: CapBasis,
    /// R-CAP-4: the institution can take major projects (重大工程).
    pub major: bool,
}

/// A stable code for each trail step, for code and tests; pages show [`TrailStep::label`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrailKind {
    Planned,
    PrevPlanned,
    GlobalCap,
    FirstRequested,
    PrevCompleted,
    Score,
    ScoreFactor,
    Suspended,
    MajorFactor,
    GrowthFactor,
    Unrounded,
    Rounding,
    Clamp,
    Result,
    Override,
    /// Where C and S came from (the previous agreement and its evaluation, or a hand-entered
    /// record); added by the store.
    Source,
}

/// One line of a cap's calculation trail (R-CAP-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailStep {
    pub kind: TrailKind,
    /// Chinese label, e.g. "评分系数".
    pub label: String,
    /// The value, exact, as text ("1.1", "35/24", "10.5").
    pub value: String,
    /// Chinese explanation, e.g. "81 ≤ 90.5 < 91 → 1.1".
    pub note: String,
}

fn step(kind: TrailKind, label: &str, value: impl ToString, note: impl Into<String>) -> TrailStep {
    TrailStep {
        kind,
        label: label.to_string(),
        value: value.to_string(),
        note: note.into(),
    }
}

/// A centre override (R-CAP-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapOverride {
    /// The cap before this override.
    pub from: u32,
    pub to: u32,
    pub reason: String,
}

/// A cap with everything needed to explain it (R-CAP-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapDecision {
    /// The cap in force (after any override).
    pub cap: u32,
    /// R-CAP-3: score below the lowest band: no agreement this round (暂停签约分配指标).
    pub suspended: bool,
    /// The cap as computed by the rules, before any override.
    pub computed_cap: u32,
    /// The product before rounding (for a first agreement: the centre's figure). Exact when the
    /// division by `P_prev` terminates, else correct to 28 significant digits.
    pub unrounded: Decimal,
    /// After the single half-up rounding, before the clamp.
    pub rounded: u64,
    /// R-CAP-1: `round_half_up(share × P)`.
    pub global_cap: u32,
    /// Whether the clamp lowered the value.
    pub clamped: bool,
    pub policy_version: String,
    pub input: CapInput,
    pub overrides: Vec<CapOverride>,
    pub trail: Vec<TrailStep>,
}

/// Why a cap could not be computed or overridden.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapError {
    #[error("本批次计划班次数须大于0 / the round's planned class count must be at least 1")]
    PlannedZero,
    #[error("前次计划班次数须大于0 / the previous round's planned class count must be at least 1")]
    PrevPlannedZero,
    #[error("调整签约班次上限须填写理由 / an override needs a written reason")]
    EmptyReason,
    #[error(
        "调整后的上限 {requested} 超过全区上限 {global_cap}（不超过全区计划班次数的50%） / \
         override {requested} exceeds the global cap {global_cap}"
    )]
    OverrideAboveGlobalCap { requested: u32, global_cap: u32 },
    #[error(
        "前次综合评估得分 {score} 分，本批次暂停签约分配指标（R-CAP-3）；调整上限不能解除暂停（R-CAP-8） / \
         score {score} suspends this round: an override cannot lift a suspension"
    )]
    OverrideCannotLiftSuspension { score: String },
    #[error("计算溢出，输入数值过大 / arithmetic overflow, inputs too large")]
    Overflow,
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// R-CAP-1: `round_half_up(policy.global_cap_share × planned)`. P = 25 → 13.
pub fn global_cap(planned: u32, policy: &Policy) -> Result<u32, CapError> {
    let product = policy
        .global_cap_share
        .checked_mul(Decimal::from(planned))
        .ok_or(CapError::Overflow)?;
    round_half_up_ratio(product, Decimal::ONE)
        .and_then(|d| d.to_u32())
        .ok_or(CapError::Overflow)
}

/// Computes an institution's cap for a round (R-CAP-1 … R-CAP-7).
pub fn compute_cap(input: &CapInput, policy: &Policy) -> Result<CapDecision, CapError> {
    policy.validate()?;
    let p = input.planned;
    if p == 0 {
        return Err(CapError::PlannedZero);
    }
    if input.prev_planned == Some(0) {
        return Err(CapError::PrevPlannedZero);
    }
    let gcap = global_cap(p, policy)?;
    let share_pct = show(policy.global_cap_share * Decimal::ONE_HUNDRED);
    let mut trail = vec![
        step(
            TrailKind::Planned,
            "本批次全区计划班次数（P，含结转）",
            p,
            "",
        ),
        step(
            TrailKind::PrevPlanned,
            "前次全区计划班次数（P_prev）",
            input
                .prev_planned
                .map_or_else(|| "无".to_string(), |v| v.to_string()),
            if input.prev_planned.is_none() {
                "无前次批次"
            } else {
                ""
            },
        ),
        step(
            TrailKind::GlobalCap,
            "全区上限（R-CAP-1）",
            gcap,
            format!(
                "四舍五入({share_pct}% × {p} = {}) = {gcap}",
                show(policy.global_cap_share * Decimal::from(p))
            ),
        ),
    ];

    let decision = |computed: u64, unrounded: Decimal, suspended: bool, trail: Vec<TrailStep>| {
        let cap = computed.min(u64::from(gcap)) as u32;
        CapDecision {
            cap,
            suspended,
            computed_cap: cap,
            unrounded,
            rounded: computed,
            global_cap: gcap,
            clamped: computed > u64::from(gcap),
            policy_version: policy.version.clone(),
            input: input.clone(),
            overrides: Vec::new(),
            trail,
        }
    };

    match &input.basis {
        CapBasis::First { requested } => {
            trail.push(step(
                TrailKind::FirstRequested,
                "首次签约：区培训中心确定的班次上限（R-CAP-2）",
                requested,
                "结合培训需求确定",
            ));
            push_clamp(&mut trail, u64::from(*requested), gcap);
            Ok(decision(
                u64::from(*requested),
                Decimal::from(*requested),
                false,
                trail,
            ))
        }
        CapBasis::Later {
            prev_completed: c,
            score,
        } => {
            trail.push(step(
                TrailKind::PrevCompleted,
                "前次签约按时完成班次数（C）",
                c,
                "超期班次不计",
            ));
            trail.push(step(TrailKind::Score, "前次综合评估得分（S）", score, ""));
            let Some(band_idx) = policy.score_bands.iter().rposition(|b| *score >= b.min) else {
                trail.push(step(
                    TrailKind::Suspended,
                    "暂停签约分配指标（R-CAP-3）",
                    0,
                    format!(
                        "{score} < {} → 暂停签约分配指标，上限为0，不再计算其他系数",
                        policy.suspension_threshold()
                    ),
                ));
                trail.push(step(TrailKind::Result, "签约班次上限", 0, "暂停签约"));
                return Ok(decision(0, Decimal::ZERO, true, trail));
            };
            let band = &policy.score_bands[band_idx];
            let band_note = match policy.score_bands.get(band_idx + 1) {
                Some(next) => format!(
                    "{} ≤ {score} < {} → {}",
                    band.min,
                    next.min,
                    show(band.factor)
                ),
                None => format!("{score} ≥ {} → {}", band.min, show(band.factor)),
            };
            trail.push(step(
                TrailKind::ScoreFactor,
                "评分系数（R-CAP-3）",
                show(band.factor),
                band_note,
            ));

            let major = if input.major {
                policy.major_factor
            } else {
                Decimal::ONE
            };
            trail.push(step(
                TrailKind::MajorFactor,
                "重大工程系数（R-CAP-4）",
                show(major),
                if input.major {
                    format!("可承担重大工程 → × {}", show(major))
                } else {
                    "不适用（非重大工程机构）".to_string()
                },
            ));

            let (g_num, g_den, g_value, g_note) = match input.prev_planned {
                _ if !policy.growth_enabled => {
                    (1, 1, "1".to_string(), "政策未启用按比例增加".to_string())
                }
                None => (1, 1, "1".to_string(), "无前次批次，不调整".to_string()),
                Some(pp) if p > pp => {
                    let q = Decimal::from(p) / Decimal::from(pp);
                    let approx = if q * Decimal::from(pp) == Decimal::from(p) {
                        format!("= {}", show(q))
                    } else {
                        format!("≈ {}", show(q.round_dp(6)))
                    };
                    (
                        p,
                        pp,
                        format!("{p}/{pp}"),
                        format!("P = {p} > P_prev = {pp} → × {p}/{pp}（{approx}）"),
                    )
                }
                Some(pp) => (
                    1,
                    1,
                    "1".to_string(),
                    format!("P = {p} ≤ P_prev = {pp}，不调整"),
                ),
            };
            trail.push(step(
                TrailKind::GrowthFactor,
                "计划增长系数（R-CAP-5）",
                g_value,
                g_note,
            ));

            let num = Decimal::from(*c)
                .checked_mul(band.factor)
                .and_then(|x| x.checked_mul(major))
                .and_then(|x| x.checked_mul(Decimal::from(g_num)))
                .ok_or(CapError::Overflow)?;
            let den = Decimal::from(g_den);
            let unrounded = num.checked_div(den).ok_or(CapError::Overflow)?.normalize();
            let unrounded_text = ratio_text(num, den);
            let growth_text = if g_den == 1 {
                String::new()
            } else {
                format!(" × {g_num}/{g_den}")
            };
            trail.push(step(
                TrailKind::Unrounded,
                "未取整结果",
                &unrounded_text,
                format!(
                    "{c} × {} × {}{growth_text} = {unrounded_text}（精确计算）",
                    show(band.factor),
                    show(major)
                ),
            ));
            let rounded = round_half_up_ratio(num, den)
                .and_then(|r| r.to_u64())
                .ok_or(CapError::Overflow)?;
            trail.push(step(
                TrailKind::Rounding,
                "四舍五入取整（R-CAP-6，仅一次）",
                rounded,
                format!("{unrounded_text} → {rounded}"),
            ));
            push_clamp(&mut trail, rounded, gcap);
            Ok(decision(rounded, unrounded, false, trail))
        }
    }
}

fn push_clamp(trail: &mut Vec<TrailStep>, value: u64, gcap: u32) {
    let cap = value.min(u64::from(gcap));
    trail.push(step(
        TrailKind::Clamp,
        "全区上限约束（R-CAP-1）",
        cap,
        if value > u64::from(gcap) {
            format!("{value} > {gcap} → {gcap}")
        } else {
            format!("{value} ≤ {gcap}，不调整")
        },
    ));
    trail.push(step(TrailKind::Result, "签约班次上限", cap, ""));
}

impl CapDecision {
    /// R-CAP-3: the rules suspended this institution (score below the lowest band). True also for
    /// a decision stored before overrides stopped lifting suspensions, whose `suspended` flag an
    /// override cleared: the trail still has the suspension step.
    pub fn computed_suspended(&self) -> bool {
        self.suspended || self.trail.iter().any(|t| t.kind == TrailKind::Suspended)
    }
}

/// R-CAP-8: the centre replaces the cap with `new_cap`, giving `reason`. The trail keeps the
/// computed value and gains an override step. Refused without a reason (blank after trimming),
/// above the global cap, or when the rules suspended the institution (R-CAP-3): the bands are
/// "原则上", the suspension ("暂停签约分配指标") is not, so no override lifts it.
pub fn apply_override(
    decision: &CapDecision,
    new_cap: u32,
    reason: &str,
) -> Result<CapDecision, CapError> {
    if decision.computed_suspended() {
        let score = match &decision.input.basis {
            CapBasis::Later { score, .. } => score.to_string(),
            CapBasis::First { .. } => String::new(),
        };
        return Err(CapError::OverrideCannotLiftSuspension { score });
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(CapError::EmptyReason);
    }
    if new_cap > decision.global_cap {
        return Err(CapError::OverrideAboveGlobalCap {
            requested: new_cap,
            global_cap: decision.global_cap,
        });
    }
    let mut out = decision.clone();
    out.overrides.push(CapOverride {
        from: decision.cap,
        to: new_cap,
        reason: reason.to_string(),
    });
    out.cap = new_cap;
    out.trail.push(step(
        TrailKind::Override,
        "区培训中心调整（R-CAP-8）",
        new_cap,
        format!(
            "计算值 {} → 调整为 {new_cap}（全区上限 {}）；理由：{reason}",
            decision.cap, decision.global_cap
        ),
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use num_rational::BigRational;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn pol() -> Policy {
        Policy::haizhu_default()
    }

    fn s(x: &str) -> Score {
        x.parse().unwrap()
    }

    fn later(c: u32, score: &str, p: u32, pp: Option<u32>, major: bool) -> CapDecision {
        compute_cap(
            &CapInput {
                planned: p,
                prev_planned: pp,
                basis: CapBasis::Later {
                    prev_completed: c,
                    score: s(score),
                },
                major,
            },
            &pol(),
        )
        .unwrap()
    }

    fn first(requested: u32, p: u32) -> CapDecision {
        compute_cap(
            &CapInput {
                planned: p,
                prev_planned: None,
                basis: CapBasis::First { requested },
                major: false,
            },
            &pol(),
        )
        .unwrap()
    }

    fn trail_value(d: &CapDecision, kind: TrailKind) -> &str {
        &d.trail.iter().find(|t| t.kind == kind).unwrap().value
    }

    // ---- SPEC.md §5 worked examples ----

    #[test]
    fn r_cap_1_global_cap_p25_is_13() {
        assert_eq!(global_cap(25, &pol()).unwrap(), 13);
        assert_eq!(global_cap(1, &pol()).unwrap(), 1);
        assert_eq!(global_cap(3, &pol()).unwrap(), 2);
        assert_eq!(global_cap(24, &pol()).unwrap(), 12);
    }

    #[test]
    fn r_cap_2_first_agreement_15_clamped_to_13() {
        let d = first(15, 25);
        assert_eq!(d.cap, 13);
        assert!(d.clamped && !d.suspended);
        assert_eq!(trail_value(&d, TrailKind::Clamp), "13");
        let d = first(7, 25);
        assert_eq!((d.cap, d.clamped), (7, false));
    }

    #[test]
    fn r_cap_3_top_band_c10_s95_is_12() {
        assert_eq!(later(10, "95", 40, Some(40), false).cap, 12);
    }

    #[test]
    fn r_cap_4_major_c10_s85_is_12_from_12_1() {
        let d = later(10, "85", 40, Some(40), true);
        assert_eq!(d.cap, 12);
        assert_eq!(d.unrounded, dec!(12.1));
    }

    #[test]
    fn r_cap_6_half_up_c5_s85_is_6_from_5_5() {
        let d = later(5, "85", 40, Some(40), false);
        assert_eq!(d.cap, 6);
        assert_eq!(d.unrounded, dec!(5.5));
    }

    #[test]
    fn r_cap_3_band_0_9_c10_s65_is_9() {
        assert_eq!(later(10, "65", 40, Some(40), false).cap, 9);
    }

    #[test]
    fn r_cap_3_suspended_at_60_and_60_5() {
        for score in ["60", "60.5"] {
            let d = later(10, score, 40, Some(40), true);
            assert_eq!(d.cap, 0, "{score}");
            assert!(d.suspended, "{score}");
            // No further factors once suspended.
            assert!(d.trail.iter().all(|t| t.kind != TrailKind::MajorFactor));
            assert!(d.trail.iter().any(|t| t.kind == TrailKind::Suspended));
        }
    }

    #[test]
    fn r_cap_3_score_61_is_first_of_0_9_band_cap_9() {
        let d = later(10, "61", 40, Some(40), false);
        assert_eq!((d.cap, d.suspended), (9, false));
    }

    #[test]
    fn r_cap_3_decimal_band_s90_5_is_11() {
        let d = later(10, "90.5", 40, Some(40), false);
        assert_eq!(d.cap, 11);
        let sf = d
            .trail
            .iter()
            .find(|t| t.kind == TrailKind::ScoreFactor)
            .unwrap();
        assert_eq!(sf.label, "评分系数（R-CAP-3）");
        assert_eq!(sf.note, "81 ≤ 90.5 < 91 → 1.1");
    }

    #[test]
    fn r_cap_5_growth_c9_s75_p28_prev24_is_11_from_10_5() {
        let d = later(9, "75", 28, Some(24), false);
        assert_eq!(d.cap, 11);
        assert_eq!(d.unrounded, dec!(10.5));
        assert_eq!(trail_value(&d, TrailKind::GrowthFactor), "28/24");
        let g = d
            .trail
            .iter()
            .find(|t| t.kind == TrailKind::GrowthFactor)
            .unwrap();
        assert_eq!(g.note, "P = 28 > P_prev = 24 → × 28/24（≈ 1.166667）");
        let g = later(8, "75", 30, Some(24), false);
        assert_eq!(g.cap, 10);
        let g = g
            .trail
            .iter()
            .find(|t| t.kind == TrailKind::GrowthFactor)
            .unwrap();
        assert_eq!(g.note, "P = 30 > P_prev = 24 → × 30/24（= 1.25）");
    }

    #[test]
    fn r_cap_6_exactness_c6_s95_p35_prev24_is_11() {
        let d = later(6, "95", 35, Some(24), false);
        assert_eq!(d.cap, 11);
        assert_eq!(d.unrounded, dec!(10.5));
        assert_eq!(d.global_cap, 18);
        assert_eq!(trail_value(&d, TrailKind::Unrounded), "10.5");
        assert_eq!(trail_value(&d, TrailKind::Rounding), "11");
    }

    #[test]
    fn r_cap_6_f64_would_be_wrong_where_exact_is_right() {
        // The same product in binary floating point, in the order the formula reads.
        let f = 6.0_f64 * 1.2 * 35.0 / 24.0;
        assert!(f < 10.5, "f64 gives {f}");
        assert_eq!(f.round() as u32, 10);
        assert_eq!(later(6, "95", 35, Some(24), false).cap, 11);
    }

    // ---- further cases ----

    #[test]
    fn r_cap_5_no_growth_without_previous_round_or_when_p_not_higher_or_switched_off() {
        assert_eq!(later(9, "75", 28, None, false).cap, 9);
        assert_eq!(later(9, "75", 24, Some(28), false).cap, 9);
        let mut p = pol();
        p.growth_enabled = false;
        let d = compute_cap(
            &CapInput {
                planned: 28,
                prev_planned: Some(24),
                basis: CapBasis::Later {
                    prev_completed: 9,
                    score: s("75"),
                },
                major: false,
            },
            &p,
        )
        .unwrap();
        assert_eq!(d.cap, 9);
    }

    #[test]
    fn r_cap_1_derived_cap_clamped() {
        let d = later(30, "95", 40, Some(40), true);
        assert_eq!(d.rounded, 40); // 30 × 1.2 × 1.1 = 39.6
        assert_eq!(d.cap, 20);
        assert!(d.clamped);
    }

    #[test]
    fn r_cap_6_non_terminating_growth_is_exact_in_trail() {
        // 7 × 1.1 × 31/24 = 238.7/24 = 2387/240 ≈ 9.945833
        let d = later(7, "85", 31, Some(24), false);
        assert_eq!(d.cap, 10);
        assert_eq!(trail_value(&d, TrailKind::Unrounded), "2387/240 ≈ 9.945833");
    }

    #[test]
    fn r_cap_errors_for_zero_planned() {
        let mut input = CapInput {
            planned: 0,
            prev_planned: None,
            basis: CapBasis::First { requested: 1 },
            major: false,
        };
        assert_eq!(
            compute_cap(&input, &pol()).unwrap_err(),
            CapError::PlannedZero
        );
        input.planned = 5;
        input.prev_planned = Some(0);
        assert_eq!(
            compute_cap(&input, &pol()).unwrap_err(),
            CapError::PrevPlannedZero
        );
    }

    #[test]
    fn r_cap_8_override_needs_reason_and_keeps_both_values() {
        let d = later(10, "95", 40, Some(40), false);
        assert_eq!(
            apply_override(&d, 9, "   ").unwrap_err(),
            CapError::EmptyReason
        );
        assert_eq!(
            apply_override(&d, 9, "").unwrap_err(),
            CapError::EmptyReason
        );
        let o = apply_override(&d, 9, " 场地整改未完成 ").unwrap();
        assert_eq!(o.cap, 9);
        assert_eq!(o.computed_cap, 12);
        assert_eq!(
            o.overrides,
            vec![CapOverride {
                from: 12,
                to: 9,
                reason: "场地整改未完成".into()
            }]
        );
        let last = o.trail.last().unwrap();
        assert_eq!(last.kind, TrailKind::Override);
        assert!(last.note.contains("计算值 12 → 调整为 9") && last.note.contains("场地整改未完成"));
        // The earlier steps are untouched.
        assert_eq!(&o.trail[..d.trail.len()], &d.trail[..]);
    }

    #[test]
    fn r_cap_8_override_may_not_exceed_global_cap() {
        let d = later(10, "95", 40, Some(40), false);
        assert_eq!(
            apply_override(&d, 21, "需求大").unwrap_err(),
            CapError::OverrideAboveGlobalCap {
                requested: 21,
                global_cap: 20
            }
        );
        assert_eq!(apply_override(&d, 20, "需求大").unwrap().cap, 20);
    }

    #[test]
    fn r_cap_8_override_never_lifts_suspension() {
        for score in ["0", "60", "60.5"] {
            let d = later(10, score, 40, Some(40), true);
            assert!(d.suspended);
            for to in [0, 1, 3, 20] {
                assert_eq!(
                    apply_override(&d, to, "评估复核后改正").unwrap_err(),
                    CapError::OverrideCannotLiftSuspension {
                        score: score.to_string()
                    },
                    "{score} → {to}"
                );
            }
        }
        let e = apply_override(&later(10, "60.5", 40, Some(40), false), 3, "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("60.5") && e.contains("暂停签约分配指标"), "{e}");
        // A decision stored when an override could still lift a suspension stays suspended.
        let mut lifted = later(10, "60", 40, Some(40), false);
        lifted.suspended = false;
        lifted.cap = 3;
        assert!(lifted.computed_suspended());
        assert!(matches!(
            apply_override(&lifted, 4, "再次调整"),
            Err(CapError::OverrideCannotLiftSuspension { .. })
        ));
        // 61 is the first score of the 0.9 band: overrides work as usual.
        let ok = apply_override(&later(10, "61", 40, Some(40), false), 3, "场地受限").unwrap();
        assert_eq!((ok.cap, ok.suspended, ok.computed_cap), (3, false, 9));
    }

    #[test]
    fn r_cap_7_decision_serialises_with_trail_codes() {
        let d = later(6, "95", 35, Some(24), false);
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["cap"], 11);
        assert_eq!(v["suspended"], false);
        assert_eq!(v["unrounded"], "10.5");
        assert_eq!(v["input"]["basis"]["score"], "95");
        let kinds: Vec<&str> = v["trail"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "planned",
                "prev_planned",
                "global_cap",
                "prev_completed",
                "score",
                "score_factor",
                "major_factor",
                "growth_factor",
                "unrounded",
                "rounding",
                "clamp",
                "result"
            ]
        );
        let back: CapDecision = serde_json::from_value(v).unwrap();
        assert_eq!(back, d);
    }

    // ---- Score ----

    #[test]
    fn r_cap_3_score_input_parses_one_decimal_0_to_100() {
        assert_eq!(s("90.5").to_string(), "90.5");
        assert_eq!(s(" 95 ").to_string(), "95");
        assert_eq!(s("90.50").to_string(), "90.5");
        assert_eq!(s("100").to_string(), "100");
        assert_eq!(s("0").to_string(), "0");
        assert!(matches!(
            "90.55".parse::<Score>(),
            Err(ScoreError::TooManyDecimals(_))
        ));
        assert!(matches!(
            "-1".parse::<Score>(),
            Err(ScoreError::OutOfRange(_))
        ));
        assert!(matches!(
            "101".parse::<Score>(),
            Err(ScoreError::OutOfRange(_))
        ));
        assert!(matches!(
            "100.1".parse::<Score>(),
            Err(ScoreError::OutOfRange(_))
        ));
        for bad in ["", "abc", "1e2", ".5", "5.", "+5", "９０", "90,5", "NaN"] {
            assert!(
                matches!(bad.parse::<Score>(), Err(ScoreError::NotANumber(_))),
                "{bad:?}"
            );
        }
        let e = "90.55".parse::<Score>().unwrap_err().to_string();
        assert!(e.contains("一位小数") && e.contains("one decimal"), "{e}");
    }

    #[test]
    fn r_cap_3_score_input_serde_round_trips() {
        assert_eq!(serde_json::to_string(&s("90.5")).unwrap(), "\"90.5\"");
        assert_eq!(serde_json::from_str::<Score>("\"61\"").unwrap(), s("61"));
        assert_eq!(serde_json::from_str::<Score>("75").unwrap(), s("75"));
        assert_eq!(serde_json::from_str::<Score>("90.5").unwrap(), s("90.5"));
        assert!(serde_json::from_str::<Score>("\"90.55\"").is_err());
        assert!(serde_json::from_str::<Score>("101").is_err());
    }

    // ---- properties ----

    fn score_strategy() -> impl Strategy<Value = Score> {
        (0u32..=1000).prop_map(|t| Score::try_from(Decimal::new(i64::from(t), 1)).unwrap())
    }

    fn cap_of(c: u32, score: Score, p: u32, pp: Option<u32>, major: bool) -> CapDecision {
        compute_cap(
            &CapInput {
                planned: p,
                prev_planned: pp,
                basis: CapBasis::Later {
                    prev_completed: c,
                    score,
                },
                major,
            },
            &pol(),
        )
        .unwrap()
    }

    fn rational(d: Decimal) -> BigRational {
        BigRational::new(BigInt::from(d.mantissa()), BigInt::from(10).pow(d.scale()))
    }

    fn round_half_up_rational(x: &BigRational) -> BigInt {
        (x + BigRational::new(1.into(), 2.into()))
            .floor()
            .to_integer()
    }

    proptest! {
        #[test]
        fn r_cap_1_never_exceeds_global_cap(
            c in 0u32..500, score in score_strategy(), p in 1u32..500,
            pp in proptest::option::of(1u32..500), major: bool,
        ) {
            let d = cap_of(c, score, p, pp, major);
            prop_assert!(d.cap <= d.global_cap);
            prop_assert_eq!(d.global_cap, global_cap(p, &pol()).unwrap());
            prop_assert!(u64::from(d.global_cap) * 2 <= u64::from(p) + 1);
        }

        #[test]
        fn r_cap_3_monotonic_in_completed(
            c1 in 0u32..300, c2 in 0u32..300, score in score_strategy(), p in 1u32..300,
            pp in proptest::option::of(1u32..300), major: bool,
        ) {
            let (lo, hi) = (c1.min(c2), c1.max(c2));
            prop_assert!(cap_of(lo, score, p, pp, major).cap <= cap_of(hi, score, p, pp, major).cap);
        }

        #[test]
        fn r_cap_3_monotonic_in_score(
            c in 0u32..300, s1 in score_strategy(), s2 in score_strategy(), p in 1u32..300,
            pp in proptest::option::of(1u32..300), major: bool,
        ) {
            let (lo, hi) = (s1.min(s2), s1.max(s2));
            let (a, b) = (cap_of(c, lo, p, pp, major), cap_of(c, hi, p, pp, major));
            prop_assert!(a.cap <= b.cap);
            prop_assert!(!b.suspended || a.suspended);
        }

        #[test]
        fn r_cap_6_decimal_agrees_with_big_rational(
            c in 0u32..100_000, score in score_strategy(), p in 1u32..100_000,
            pp in proptest::option::of(1u32..100_000), major: bool,
        ) {
            let policy = pol();
            let d = cap_of(c, score, p, pp, major);
            // Independent computation with arbitrary-precision rationals.
            let gcap = round_half_up_rational(&(rational(policy.global_cap_share) * BigRational::from_integer(p.into())));
            let expected = match policy.score_factor(score) {
                None => BigInt::from(0),
                Some(band) => {
                    let mut x = BigRational::from_integer(c.into()) * rational(band.factor);
                    if major { x *= rational(policy.major_factor); }
                    if let Some(pp) = pp.filter(|&pp| p > pp) {
                        x *= BigRational::new(p.into(), pp.into());
                    }
                    let r = round_half_up_rational(&x);
                    prop_assert_eq!(BigInt::from(d.rounded), r.clone());
                    r
                }
            };
            prop_assert_eq!(BigInt::from(d.cap), expected.min(gcap));
        }

        #[test]
        fn r_cap_6_round_half_up_ratio_is_exact(num in 0i64..10_000_000, scale in 0u32..4, den in 1i64..100_000) {
            let n = Decimal::new(num, scale);
            let r = round_half_up_ratio(n, Decimal::from(den)).unwrap();
            let x = BigRational::new(BigInt::from(num), BigInt::from(10).pow(scale) * BigInt::from(den));
            prop_assert_eq!(rational(r).to_integer(), round_half_up_rational(&x));
        }
    }
}
