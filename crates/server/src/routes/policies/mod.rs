//! Policy versions (R-POL-1): the list, a proposal (sysadmin), confirmation or rejection
//! (centre_admin), withdrawal (sysadmin), and two versions compared — as pages and as JSON.
//! The four-eyes rule and the checks live in `peixun_store::policies`; this module parses forms
//! and renders.

pub mod api;
pub mod pages;

use super::Registrar;
use crate::AppState;
use crate::error::AppResult;
use crate::pages::FormData;
use chrono::NaiveDate;
use peixun_domain::cap::Score;
use peixun_domain::policy::{EvaluationWeights, Policy, ScoreBand};
use peixun_domain::rules::shanghai;
use peixun_store::policies::{self, PolicyProposal, field_label};
use peixun_store::{FieldProblem, StoreError};
use rust_decimal::Decimal;
use std::str::FromStr;

pub fn register(r: Registrar) -> Registrar {
    pages::register(api::register(r))
}

/// Today in Asia/Shanghai by the server's clock (tests inject it).
pub(crate) fn today(state: &AppState) -> NaiveDate {
    state.clock.now().with_timezone(&shanghai()).date_naive()
}

/// The policy in force today (R-POL-1), for the calculators.
pub(crate) async fn in_force_today(state: &AppState) -> AppResult<Policy> {
    Ok(policies::in_force(state.store.db(), today(state)).await?)
}

/// The proposal form's fields, in order (name, label for messages).
pub(crate) const WEIGHT_FIELDS: [(&str, &str); 4] = [
    ("weight_task_completion", "任务完成情况权重"),
    ("weight_supervision", "教学督导权重"),
    ("weight_archives", "教学档案整理权重"),
    ("weight_satisfaction", "学员满意度权重"),
];

/// The form's values for a policy (prefill from the version in force, or echo a refused form).
pub(crate) fn form_values(p: &Policy) -> serde_json::Value {
    let w = &p.evaluation_weights;
    serde_json::json!({
        "version": "",
        "effective_from": "",
        "document_title": "",
        "document_number": "",
        "note": "",
        "global_cap_share": p.global_cap_share.to_string(),
        "score_bands": p.score_bands.iter().map(|b| format!("{}:{}", b.min, b.factor)).collect::<Vec<_>>().join(", "),
        "major_factor": p.major_factor.to_string(),
        "major_projects": p.major_projects.join("、"),
        "growth_enabled": p.growth_enabled,
        "min_class_size": p.min_class_size.to_string(),
        "filing_lead_working_days": p.filing_lead_working_days.to_string(),
        "class_window_days": p.class_window_days.to_string(),
        "overdue_limit_per_year": p.overdue_limit_per_year.to_string(),
        "teacher_change_lead_working_days": p.teacher_change_lead_working_days.to_string(),
        "monthly_report_day": p.monthly_report_day.to_string(),
        "weight_task_completion": w.task_completion.to_string(),
        "weight_supervision": w.supervision.to_string(),
        "weight_archives": w.archives.to_string(),
        "weight_satisfaction": w.satisfaction.to_string(),
        "min_trainee_age": p.min_trainee_age.to_string(),
        "certificate_district_code": p.certificate_district_code.clone(),
    })
}

/// The submitted form's values as typed (to show a refused form again).
pub(crate) fn echo_form(form: &FormData) -> serde_json::Value {
    let mut v = serde_json::Map::new();
    for k in [
        "version",
        "effective_from",
        "document_title",
        "document_number",
        "note",
        "global_cap_share",
        "score_bands",
        "major_factor",
        "major_projects",
        "min_class_size",
        "filing_lead_working_days",
        "class_window_days",
        "overdue_limit_per_year",
        "teacher_change_lead_working_days",
        "monthly_report_day",
        "weight_task_completion",
        "weight_supervision",
        "weight_archives",
        "weight_satisfaction",
        "min_trainee_age",
        "certificate_district_code",
    ] {
        v.insert(k.into(), form.get(k).into());
    }
    v.insert(
        "growth_enabled".into(),
        form.checked("growth_enabled").into(),
    );
    serde_json::Value::Object(v)
}

fn uint(form: &FormData, name: &'static str, problems: &mut Vec<FieldProblem>) -> u32 {
    match form.get(name).trim().parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            problems.push(FieldProblem::new(
                "POLICY_NUMBER",
                format!("{}须为非负整数", field_label(name)),
                name,
            ));
            0
        }
    }
}

fn decimal(form: &FormData, name: &'static str, problems: &mut Vec<FieldProblem>) -> Decimal {
    match Decimal::from_str(form.get(name).trim()) {
        Ok(d) => d,
        Err(_) => {
            problems.push(FieldProblem::new(
                "POLICY_DECIMAL",
                format!("{}须为小数，如 0.5", field_label(name)),
                name,
            ));
            Decimal::ZERO
        }
    }
}

/// `61:0.9, 71:1.0` → bands (order kept: the policy check reports a wrong order).
fn bands(text: &str) -> Option<Vec<ScoreBand>> {
    text.split([',', '，', ';', '；', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|part| {
            let (min, factor) = part.split_once([':', '：'])?;
            Some(ScoreBand {
                min: Score::from_str(min.trim()).ok()?,
                factor: Decimal::from_str(factor.trim()).ok()?,
            })
        })
        .collect()
}

/// The proposal form → a proposal, with every problem of the form at once (R-VAL-1); the
/// store then checks the policy as a whole ([`Policy::validate`]) and the dates.
pub(crate) fn proposal_from_form(form: &FormData) -> Result<PolicyProposal, StoreError> {
    let mut problems = Vec::new();
    let effective_from =
        match NaiveDate::parse_from_str(form.get("effective_from").trim(), "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                problems.push(FieldProblem::new(
                    "DATE_INVALID",
                    "请填写生效日期（格式 2027-01-01）",
                    "effective_from",
                ));
                NaiveDate::MIN
            }
        };
    let score_bands = bands(form.get("score_bands")).unwrap_or_else(|| {
        problems.push(FieldProblem::new(
            "POLICY_BANDS_FORMAT",
            "评分档次的格式为“下限:系数”，以逗号分隔，如 61:0.9, 71:1.0, 81:1.1, 91:1.2",
            "score_bands",
        ));
        Vec::new()
    });
    let policy = Policy {
        version: form.get("version").trim().to_string(),
        effective_from,
        global_cap_share: decimal(form, "global_cap_share", &mut problems),
        score_bands,
        major_factor: decimal(form, "major_factor", &mut problems),
        major_projects: form
            .get("major_projects")
            .split(['、', ',', '，', ';', '；', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        growth_enabled: form.checked("growth_enabled"),
        min_class_size: uint(form, "min_class_size", &mut problems),
        filing_lead_working_days: uint(form, "filing_lead_working_days", &mut problems),
        class_window_days: uint(form, "class_window_days", &mut problems),
        overdue_limit_per_year: uint(form, "overdue_limit_per_year", &mut problems),
        teacher_change_lead_working_days: uint(
            form,
            "teacher_change_lead_working_days",
            &mut problems,
        ),
        monthly_report_day: uint(form, "monthly_report_day", &mut problems),
        evaluation_weights: {
            let mut w = [0u32; 4];
            for (i, (name, label)) in WEIGHT_FIELDS.iter().enumerate() {
                w[i] = match form.get(name).trim().parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => {
                        problems.push(FieldProblem::new(
                            "POLICY_NUMBER",
                            format!("{label}须为0至100之间的整数"),
                            name,
                        ));
                        0
                    }
                };
            }
            EvaluationWeights {
                task_completion: w[0],
                supervision: w[1],
                archives: w[2],
                satisfaction: w[3],
            }
        },
        certificate_district_code: form.get("certificate_district_code").trim().to_string(),
        min_trainee_age: uint(form, "min_trainee_age", &mut problems),
        // R-EVA-1: the formula numbers are not on the form yet; a new version takes SPEC's.
        evaluation_formula: peixun_domain::policy::EvaluationFormula::default(),
    };
    StoreError::check(problems)?;
    Ok(PolicyProposal {
        policy,
        document_title: form.get("document_title").to_string(),
        document_number: form.get("document_number").to_string(),
        note: Some(form.get("note").to_string()),
    })
}

/// The proposal form's field for a problem reported on `evaluation_weights` (the form has four).
pub(crate) fn form_anchor(field: &str) -> String {
    match field {
        "evaluation_weights" => "weight_task_completion".to_string(),
        other => other.to_string(),
    }
}
