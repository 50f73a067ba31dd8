//! Pages: running a class — start, teacher changes (R-RUN-1), attendance (R-RUN-2), completion
//! (R-OVD-1) — monthly reports (R-RUN-3), inspections and the progress bulletin (R-RUN-4),
//! overdue classes and sanctions (R-OVD-2). No JavaScript: every action is a form; an error
//! shows the page again with the summary at the top, the message beside the field, values kept.
//!
//! One module per concern: [`classes`] (list, class page, its progress actions), [`attendance`]
//! (the class page's sign-in form and list, R-RUN-2), [`teacher_changes`], [`reports`],
//! [`inspections`] (and the progress bulletin), [`sanctions`] (and overdue classes), [`work`]
//! (the home page's work list). The helpers shared by the pages are here.

use super::Registrar;
use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::pages::{FormData, Saved, form_errors, is_form_error};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use minijinja::value::Value;
use peixun_domain::rules::shanghai;
use peixun_store::running::ClassView;
use serde::Deserialize;
use serde_json::json;

mod attendance;
pub(crate) mod classes;
mod inspections;
mod reports;
mod sanctions;
mod teacher_changes;
mod work;

pub use work::home_work;

pub fn register(r: Registrar) -> Registrar {
    let r = classes::register(r);
    let r = attendance::register(r);
    let r = teacher_changes::register(r);
    let r = reports::register(r);
    let r = inspections::register(r);
    sanctions::register(r)
}

/// `?all=1` lists every record, otherwise only the open ones (teacher changes, inspections).
#[derive(Debug, Default, Deserialize)]
pub(super) struct PendingQuery {
    pub(super) all: Option<String>,
    pub(super) page: Option<u64>,
    pub(super) saved: Option<String>,
}

// ---- helpers --------------------------------------------------------------------------------

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn today(state: &AppState) -> NaiveDate {
    state.clock.now().with_timezone(&shanghai()).date_naive()
}

fn jv<T: serde::Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

fn form_value(f: &FormData, fields: &[&str]) -> Value {
    let map: std::collections::BTreeMap<String, String> = fields
        .iter()
        .map(|k| (k.to_string(), f.get(k).to_string()))
        .collect();
    Value::from(map)
}

fn parse_date(s: &str, field: &str, label: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| AppError::Validation {
        code: "DATE_INVALID".into(),
        message: format!("请填写{label}，格式如 2026-04-01"),
        field: Some(field.into()),
    })
}

fn parse_u32(s: &str, field: &str, label: &str) -> Result<u32, AppError> {
    s.trim().parse::<u32>().map_err(|_| AppError::Validation {
        code: "NUMBER_INVALID".into(),
        message: format!("{label}须为0或正整数"),
        field: Some(field.into()),
    })
}

fn class_value(c: &ClassView) -> serde_json::Value {
    json!({
        "id": c.id,
        "institution_id": c.institution_id,
        "institution_name": c.institution_name,
        "occupation": c.occupation,
        "level": c.level,
        "start_date": c.start_date.to_string(),
        "last_day": c.last_day.to_string(),
        "status_label": c.status_label,
        "status": c.status,
        "overdue": c.overdue,
        "subsidy": if c.subsidy_eligible { "可申领" } else if c.overdue { "超期，不享受该班次补贴" } else { "—" },
        "days_left": c.days_left,
        "started_on": c.started_on.map(|d| d.to_string()).unwrap_or_default(),
        "training_completed_on": c.training_completed_on.map(|d| d.to_string()).unwrap_or_default(),
        "exam_completed_on": c.exam_completed_on.map(|d| d.to_string()).unwrap_or_default(),
        "policy_version": c.policy_version,
    })
}

fn flash_of(saved: &Saved) -> Value {
    match saved.saved.as_deref() {
        Some("started") => Value::from("已开始培训。"),
        Some("training_complete") => Value::from("已登记培训完成。"),
        Some("exam_complete") => Value::from("已登记考试完成。"),
        Some("teacher_change") => Value::from("授课师资调整已报备。"),
        Some("attendance") => Value::from("签到已登记。"),
        Some("inspection") => Value::from("检查抽查已登记。"),
        Some("acknowledged") => Value::from("已查阅。"),
        Some("report") => Value::from("月度开展情况已提交。"),
        Some("rectified") => Value::from("整改情况已报告。"),
        Some("closed") => Value::from("已复核闭环。"),
        Some("photo") => Value::from("检查照片已上传。"),
        Some("confirmed") => Value::from("超期处理已确认并执行。"),
        Some("dismissed") => Value::from("已决定不予处理。"),
        Some("decided") => Value::from("已作出决定。"),
        Some("swept") => Value::from("超期检查已执行。"),
        Some("survey_closing") => Value::from("问卷截止日期已保存。"),
        _ => saved.flash(),
    }
}

/// Re-show with errors when the error is the user's to fix; otherwise the error page.
fn fixable(e: AppError) -> AppResult<(Value, Value, StatusCode)> {
    if !is_form_error(&e) {
        return Err(e);
    }
    let (errors, field_errors) = form_errors(&e, |f| f.to_string());
    Ok((errors, field_errors, e.status()))
}

fn with_status(resp: AppResult<Response>, status: StatusCode) -> AppResult<Response> {
    let mut r = resp?;
    *r.status_mut() = status;
    Ok(r)
}
