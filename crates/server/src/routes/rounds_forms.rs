//! Plans, rounds, applications, agreements and filings: forms and queries → store inputs, and
//! the small views the API and the pages share (R-PLAN-*, R-CAP-*, R-FIL-6).

use crate::error::AppError;
use crate::pages::FormData;
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::cap::{CapBasis, CapDecision, CapInput, Score, compute_cap};
use peixun_domain::policy::Policy;
use peixun_domain::rules::shanghai;
use peixun_domain::workflow::agreement::TerminationCause;
use peixun_domain::workflow::round::Half;
use peixun_store::bulletin::Bulletin;
use peixun_store::filings::{FilingView, SlotState};
use peixun_store::plans::PlanInput;
use peixun_store::rounds::{KEY_TARGET_GROUPS, RoundInput, RoundView, TargetGroup};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Target-group rows on the round form (no JavaScript to add rows).
pub const TARGET_ROWS: usize = 8;

/// `2026-03-02 09:00:00`, Asia/Shanghai.
pub fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

pub fn local_opt(t: Option<DateTime<Utc>>) -> String {
    t.map(local).unwrap_or_default()
}

fn invalid(code: &str, message: &str, field: &str) -> AppError {
    AppError::validation(code, message, Some(field))
}

/// A whole number field; blank is "required".
pub fn parse_u32(v: &str, field: &str, label: &str) -> Result<u32, AppError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(invalid("REQUIRED", &format!("请填写{label}"), field));
    }
    v.parse::<u32>().map_err(|_| {
        invalid(
            "NOT_A_NUMBER",
            &format!("{label}须为非负整数，例如 12"),
            field,
        )
    })
}

/// An optional whole number (blank → `None`).
pub fn parse_opt_u32(v: &str, field: &str, label: &str) -> Result<Option<u32>, AppError> {
    if v.trim().is_empty() {
        Ok(None)
    } else {
        parse_u32(v, field, label).map(Some)
    }
}

pub fn parse_date(v: &str, field: &str, label: &str) -> Result<NaiveDate, AppError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(invalid("REQUIRED", &format!("请填写{label}"), field));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        invalid(
            "DATE_INVALID",
            &format!("{label}格式应为 年-月-日，例如 2026-03-01"),
            field,
        )
    })
}

pub fn parse_score(v: &str, field: &str) -> Result<Score, AppError> {
    if v.trim().is_empty() {
        return Err(invalid("REQUIRED", "请填写综合评估得分", field));
    }
    Score::from_str(v).map_err(|e| {
        let msg = e.to_string();
        let zh = msg.split_once(" / ").map_or(msg.as_str(), |(z, _)| z);
        invalid("SCORE_INVALID", zh, field)
    })
}

pub fn parse_half(v: &str) -> Result<Half, AppError> {
    match v.trim() {
        "h1" => Ok(Half::H1),
        "h2" => Ok(Half::H2),
        "other" => Ok(Half::Other),
        _ => Err(invalid(
            "REQUIRED",
            "请选择上半年、下半年或其他批次",
            "half",
        )),
    }
}

pub fn half_code(h: Half) -> &'static str {
    match h {
        Half::H1 => "h1",
        Half::H2 => "h2",
        Half::Other => "other",
    }
}

pub fn half_label(h: Half) -> &'static str {
    match h {
        Half::H1 => "上半年",
        Half::H2 => "下半年",
        Half::Other => "其他批次",
    }
}

/// The plan form → store input.
pub fn plan_input(f: &FormData) -> Result<PlanInput, AppError> {
    let year = parse_u32(f.get("year"), "year", "年度")?;
    let total_classes = parse_u32(f.get("total_classes"), "total_classes", "年度培训开班总数")?;
    let budget_s = f.get("budget").trim().replace([',', '，'], "");
    if budget_s.is_empty() {
        return Err(invalid("REQUIRED", "请填写预算金额（元）", "budget"));
    }
    let budget = Decimal::from_str(&budget_s).map_err(|_| {
        invalid(
            "PLAN_BUDGET",
            "预算金额（元）须为数字，最多两位小数，例如 1250000.00",
            "budget",
        )
    })?;
    Ok(PlanInput {
        year: year.min(i32::MAX as u32) as i32,
        total_classes,
        budget,
        note: f.get("note").to_string(),
    })
}

/// The round form → store input. Blank target-group rows are dropped; `row_of[i]` is the form
/// row of the i-th kept group (to put an error beside the right row).
pub fn round_input(f: &FormData) -> Result<(RoundInput, Vec<usize>), AppError> {
    let year = parse_u32(f.get("year"), "year", "年度")?;
    let half = parse_half(f.get("half"))?;
    let base_planned = parse_u32(f.get("base_planned"), "base_planned", "计划班次数")?;
    let window_start = parse_date(f.get("window_start"), "window_start", "申报开始日期")?;
    let window_end = parse_date(f.get("window_end"), "window_end", "申报截止日期")?;
    let mut groups = Vec::new();
    let mut row_of = Vec::new();
    for i in 0..50 {
        let name = f.get(&format!("tg_name_{i}")).trim().to_string();
        let share = f.get(&format!("tg_share_{i}")).trim().to_string();
        if name.is_empty() && share.is_empty() {
            continue;
        }
        let share = parse_u32(&share, &format!("tg_share_{i}"), "完成比例（%）")?;
        groups.push(TargetGroup {
            name,
            required_share_percent: share,
        });
        row_of.push(i);
    }
    Ok((
        RoundInput {
            year: year.min(i32::MAX as u32) as i32,
            half,
            label: f.get("label").to_string(),
            base_planned,
            window_start,
            window_end,
            target_groups: groups,
            call_text: f.get("call_text").to_string(),
        },
        row_of,
    ))
}

/// Maps a store field (`target_groups[2]`) to the form element to link to.
pub fn round_anchor(field: &str, row_of: &[usize]) -> String {
    if let Some(rest) = field.strip_prefix("target_groups[")
        && let Some(idx) = rest.strip_suffix(']').and_then(|n| n.parse::<usize>().ok())
    {
        return format!("tg_name_{}", row_of.get(idx).copied().unwrap_or(0));
    }
    field.to_string()
}

/// Target-group rows for the form: what is there, then blank rows up to [`TARGET_ROWS`].
pub fn target_rows(groups: &[(String, String)]) -> Vec<(String, String)> {
    let mut rows = groups.to_vec();
    let want = (rows.len() + 2).max(TARGET_ROWS);
    while rows.len() < want {
        rows.push((String::new(), String::new()));
    }
    rows
}

/// A new round's suggested target groups: the guideline's six (R-PLAN-2), shares left blank.
pub fn default_target_rows() -> Vec<(String, String)> {
    target_rows(
        &KEY_TARGET_GROUPS
            .iter()
            .map(|g| (g.to_string(), String::new()))
            .collect::<Vec<_>>(),
    )
}

pub fn termination_cause(v: &str) -> Result<TerminationCause, AppError> {
    match v.trim() {
        "by_centre" => Ok(TerminationCause::ByCentre),
        "violation" => Ok(TerminationCause::Violation),
        "overdue_sanction" => Ok(TerminationCause::OverdueSanction),
        _ => Err(invalid("REQUIRED", "请选择中止原因类别", "cause")),
    }
}

/// Accepts `"25"`, `25` or `true` (page queries send text, API clients numbers).
fn str_or_num<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::Deserialize;
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::Bool(b)) => Some(if b { "1".into() } else { String::new() }),
        _ => None,
    })
}

/// The what-if calculator's inputs (page query or API body): same code as `peixun rules cap`.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct CapCalcInput {
    /// 本批次全区计划班次数 P（含结转）
    #[serde(default, deserialize_with = "str_or_num")]
    pub planned: Option<String>,
    /// 前次全区计划班次数 P_prev（无前次批次时留空）
    #[serde(default, deserialize_with = "str_or_num")]
    pub prev_planned: Option<String>,
    /// `first`（首次签约）或 `later`（非首次签约）
    #[serde(default, deserialize_with = "str_or_num")]
    pub basis: Option<String>,
    /// 首次签约：区培训中心确定的班次数
    #[serde(default, deserialize_with = "str_or_num")]
    pub requested: Option<String>,
    /// 非首次：前次签约按时完成班次数 C
    #[serde(default, deserialize_with = "str_or_num")]
    pub prev_completed: Option<String>,
    /// 非首次：前次综合评估得分 S（0–100，最多一位小数）
    #[serde(default, deserialize_with = "str_or_num")]
    pub score: Option<String>,
    /// 可承担重大工程：`1`/`true`
    #[serde(default, deserialize_with = "str_or_num")]
    pub major: Option<String>,
}

impl CapCalcInput {
    fn s(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        Self::s(&self.planned).trim().is_empty() && self.basis.is_none()
    }

    pub fn major(&self) -> bool {
        matches!(Self::s(&self.major), "1" | "true" | "on")
    }

    /// Parse into the domain input (R-CAP-1…6).
    pub fn to_input(&self) -> Result<CapInput, AppError> {
        let planned = parse_u32(Self::s(&self.planned), "planned", "本批次计划班次数 P")?;
        let prev_planned = parse_opt_u32(
            Self::s(&self.prev_planned),
            "prev_planned",
            "前次计划班次数 P_prev",
        )?;
        let basis = match Self::s(&self.basis) {
            "first" => CapBasis::First {
                requested: parse_u32(Self::s(&self.requested), "requested", "首次签约班次数")?,
            },
            "later" => CapBasis::Later {
                prev_completed: parse_u32(
                    Self::s(&self.prev_completed),
                    "prev_completed",
                    "前次按时完成班次数 C",
                )?,
                score: parse_score(Self::s(&self.score), "score")?,
            },
            _ => {
                return Err(invalid("REQUIRED", "请选择首次签约或非首次签约", "basis"));
            }
        };
        Ok(CapInput {
            planned,
            prev_planned,
            basis,
            major: self.major(),
        })
    }

    /// The decision with its trail under `policy` (the version in force), or the error on the
    /// field.
    pub fn compute(&self, policy: &Policy) -> Result<CapDecision, AppError> {
        let input = self.to_input()?;
        compute_cap(&input, policy).map_err(|e| {
            let msg = e.to_string();
            let zh = msg.split_once(" / ").map_or(msg.as_str(), |(z, _)| z);
            let field = match e {
                peixun_domain::cap::CapError::PrevPlannedZero => "prev_planned",
                _ => "planned",
            };
            invalid("CAP_INVALID", zh, field)
        })
    }
}

/// A filing's standing in its round's queue (R-FIL-6), from the public bulletin: "占用名额"
/// (slot n), or "候补" with its place among the waiting.
pub fn queue_standing(f: &FilingView, b: Option<&Bulletin>) -> String {
    match f.slot_state {
        SlotState::Holding => match f.slot_no {
            Some(n) => format!("占用名额（第{n}号名额）"),
            None => "占用名额".into(),
        },
        SlotState::Waiting => {
            let pos = b.map(|b| {
                b.entries
                    .iter()
                    .filter(|e| e.queue_seq <= f.queue_seq && e.status_label.contains("候补"))
                    .count()
            });
            match pos {
                Some(p) if p > 0 => format!("候补（候补第{p}位）"),
                _ => "候补".into(),
            }
        }
        SlotState::NotGranted => "未获名额".into(),
        SlotState::Released => "已释放名额".into(),
    }
}

/// Rounds with the labels the pages show.
pub fn round_summary(r: &RoundView) -> serde_json::Value {
    let mut j = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = j.as_object_mut() {
        o.insert("half_label".into(), half_label(r.half).into());
        o.insert("half_code".into(), half_code(r.half).into());
        o.insert(
            "published_at_local".into(),
            local_opt(r.published_at).into(),
        );
        o.insert("closed_at_local".into(), local_opt(r.closed_at).into());
    }
    j
}

/// Any serialisable value for a template.
pub fn jv<T: serde::Serialize>(t: T) -> minijinja::value::Value {
    minijinja::value::Value::from(minijinja::value::Serde(t))
}
