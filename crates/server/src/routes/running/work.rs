//! The home page's work list (issue 5, item 7): each item with where it is done.

use super::jv;
use crate::AppState;
use crate::error::AppResult;
use minijinja::value::Value;
use serde_json::json;

/// Where each work-list item is done.
fn work_href(kind: &str, target: Option<i64>) -> String {
    let t = target.unwrap_or(0);
    match kind {
        "filings_to_review" => "/review".into(),
        "roster_changes" => "/classes?status=roster_review".into(),
        "teacher_changes" => "/teacher-changes".into(),
        "monthly_reports" | "monthly_report_due" => match target {
            Some(ym) => format!("/reports?year={}&month={}", ym / 100, ym % 100),
            None => "/reports".into(),
        },
        "inspections_open" => "/inspections".into(),
        "inspections_rectify" => format!("/inspections/{t}"),
        "classes_near_last_day" => format!("/classes/{t}"),
        "sanctions_to_confirm" | "flagged_classes" => "/sanctions".into(),
        "agreements_to_sign" => format!("/rounds/{t}/applications"),
        "filings_returned" => format!("/filings/{t}"),
        "filing_deadlines" => "/rounds".into(),
        "classes_to_start" => "/classes?status=approved".into(),
        "archives_incomplete" => format!("/classes/{t}/archive"),
        "inbox_unread" => "/inbox".into(),
        "results_to_enter" | "results_to_confirm" => format!("/classes/{t}/results"),
        _ => "/".into(),
    }
}

/// The viewer's work list as the home page shows it: each item with its link and deadline.
pub async fn home_work(state: &AppState, actor: &peixun_store::Actor) -> AppResult<Value> {
    let w = peixun_store::worklist::work_list(&state.store, actor, state.clock.now()).await?;
    let items: Vec<_> = w
        .items
        .iter()
        .map(|i| {
            json!({
                "kind": i.kind,
                "title": i.title,
                "count": i.count,
                "detail": i.detail,
                "deadline": i.deadline.map(|d| d.to_string()).unwrap_or_default(),
                "urgent": i.urgent,
                "href": work_href(&i.kind, i.target_id),
            })
        })
        .collect();
    let summary: Vec<_> = w
        .summary
        .iter()
        .map(|(l, v)| json!({"label": l, "value": v}))
        .collect();
    Ok(jv(json!({
        "today": w.today.to_string(),
        "items": items,
        "summary": summary,
    })))
}
