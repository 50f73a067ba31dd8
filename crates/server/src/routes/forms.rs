//! Query strings and page forms → store inputs (shared by the API and the pages).

use crate::api_types::{AuditQuery, InstitutionQuery};
use crate::error::AppError;
use crate::pages::FormData;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use peixun_store::PageRequest;
use peixun_store::audit::AuditFilter;
use peixun_store::institutions::{
    InstitutionFilter, InstitutionInput, InstitutionStatus, Qualification,
};
use peixun_store::teachers::{TeacherInput, TeacherQualification};

pub const DEFAULT_PER_PAGE: u64 = 20;
/// Blank qualification rows on a form (no JavaScript to add rows).
pub const FORM_ROWS: usize = 5;
/// The major projects (重大工程) offered as checkboxes.
pub const MAJOR_PROJECTS: &[&str] = &["南粤家政", "粤菜师傅", "广东技工"];

pub fn page_request(page: Option<u64>, per_page: Option<u64>) -> PageRequest {
    PageRequest {
        after_id: None,
        page: Some(page.unwrap_or(1).max(1)),
        per_page: per_page
            .unwrap_or(DEFAULT_PER_PAGE)
            .clamp(1, PageRequest::MAX_PER_PAGE),
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub fn institution_filter(q: &InstitutionQuery) -> Result<InstitutionFilter, AppError> {
    let status = match non_empty(&q.status) {
        None => None,
        Some(s) => Some(s.parse::<InstitutionStatus>().map_err(|_| {
            AppError::validation(
                "STATUS_INVALID",
                "状态须为 active 或 suspended",
                Some("status"),
            )
        })?),
    };
    Ok(InstitutionFilter {
        q: non_empty(&q.q),
        major_only: q.major_only.unwrap_or(false),
        status,
        occupation: non_empty(&q.occupation),
    })
}

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    cst()
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn parse_day(s: &Option<String>, field: &str) -> Result<Option<NaiveDate>, AppError> {
    match non_empty(s) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(&v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                AppError::validation(
                    "DATE_INVALID",
                    "日期格式应为 年-月-日，例如 2026-03-01",
                    Some(field),
                )
            }),
    }
}

/// Dates are Beijing days; `to` is inclusive.
pub fn audit_filter(q: &AuditQuery) -> Result<AuditFilter, AppError> {
    let from = parse_day(&q.from, "from")?;
    let to = parse_day(&q.to, "to")?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(AppError::validation(
            "DATE_RANGE",
            "起始日期不能晚于截止日期",
            Some("from"),
        ));
    }
    Ok(AuditFilter {
        username: non_empty(&q.username),
        action: non_empty(&q.action),
        target_type: non_empty(&q.target_type),
        target_id: non_empty(&q.target_id),
        from: from.map(day_start),
        to: to.and_then(|t| t.succ_opt()).map(day_start),
    })
}

/// The institution form → store input. Blank qualification rows are dropped; `row_of[i]` is the
/// form row of the i-th kept qualification (to put an error beside the right row).
pub fn institution_input(f: &FormData) -> (InstitutionInput, Vec<usize>) {
    let mut quals = Vec::new();
    let mut row_of = Vec::new();
    for i in 0..50 {
        let occ = f.get(&format!("q_occupation_{i}")).trim().to_string();
        let lvl = f.get(&format!("q_level_{i}")).trim().to_string();
        if occ.is_empty() && lvl.is_empty() {
            continue;
        }
        quals.push(Qualification {
            occupation: occ,
            level: lvl,
        });
        row_of.push(i);
    }
    let majors: Vec<String> = f
        .all("major_projects")
        .into_iter()
        .filter(|m| !m.trim().is_empty())
        .collect();
    let status = f.get("status").parse().unwrap_or_default();
    (
        InstitutionInput {
            name: f.get("name").to_string(),
            credit_code: f.get("credit_code").to_string(),
            confirm_checksum_warning: f.checked("confirm_credit_code"),
            registered_address: f.get("registered_address").to_string(),
            district: Some(f.get("district").to_string()),
            contact_person: f.get("contact_person").to_string(),
            contact_phone: f.get("contact_phone").to_string(),
            qualifications: quals,
            major_project_capable: !majors.is_empty(),
            major_projects: majors,
            status,
        },
        row_of,
    )
}

pub fn teacher_input(f: &FormData) -> (TeacherInput, Vec<usize>) {
    let mut quals = Vec::new();
    let mut row_of = Vec::new();
    for i in 0..50 {
        let occ = f.get(&format!("q_occupation_{i}")).trim().to_string();
        let lvl = f.get(&format!("q_level_{i}")).trim().to_string();
        let cert = f.get(&format!("q_certificate_no_{i}")).trim().to_string();
        if occ.is_empty() && lvl.is_empty() && cert.is_empty() {
            continue;
        }
        quals.push(TeacherQualification {
            occupation: occ,
            level: lvl,
            certificate_no: cert,
        });
        row_of.push(i);
    }
    (
        TeacherInput {
            name: f.get("name").to_string(),
            id_number: f.get("id_number").to_string(),
            phone: f.get("phone").to_string(),
            qualifications: quals,
            active: f.checked("active"),
        },
        row_of,
    )
}

/// Maps a store field name (`qualifications[2]`) to the id of the form element to link to on
/// the form shown again. That form lists the kept qualifications first (blank rows dropped), so
/// `qualifications[i]` is row `i` there, which is also the "第{i+1}项" the message names.
pub fn anchor_for(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("qualifications[")
        && let Some(idx) = rest.strip_suffix(']').and_then(|n| n.parse::<usize>().ok())
    {
        return format!("q_occupation_{idx}");
    }
    field.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_dates_are_beijing_days_and_to_is_inclusive() {
        let q = AuditQuery {
            username: None,
            action: None,
            target_type: None,
            target_id: None,
            from: Some("2026-03-01".into()),
            to: Some("2026-03-01".into()),
            page: None,
            per_page: None,
        };
        let f = audit_filter(&q).unwrap();
        assert_eq!(f.from.unwrap().to_rfc3339(), "2026-02-28T16:00:00+00:00");
        assert_eq!(f.to.unwrap().to_rfc3339(), "2026-03-01T16:00:00+00:00");
    }

    #[test]
    fn blank_rows_are_dropped_and_errors_point_at_the_row_shown_again() {
        let f = FormData(vec![
            ("q_occupation_0".into(), "".into()),
            ("q_occupation_2".into(), "育婴员".into()),
            ("q_level_2".into(), "初级".into()),
        ]);
        let (input, rows) = institution_input(&f);
        assert_eq!(input.qualifications.len(), 1);
        assert_eq!(rows, vec![2]);
        // Shown again, the kept row is the first one.
        assert_eq!(anchor_for("qualifications[0]"), "q_occupation_0");
        assert_eq!(anchor_for("name"), "name");
    }
}
