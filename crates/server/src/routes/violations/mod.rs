//! Violations (违法违规, R-VIO-1/2): the centre records one (kind, facts, classes involved,
//! evidence files), another centre officer confirms it — after a page that lists exactly what
//! will happen — or dismisses it with a reason. Pages and the JSON API call the same store
//! services (`peixun_store::violations`, `peixun_store::violations_confirm`).
//!
//! S6: an institution sees only its own confirmed violations (never the evidence); another
//! institution's violation answers 404, page and API alike.

pub mod api;
pub mod pages;

use super::Registrar;
use peixun_store::violations::{ViolationEffects, ViolationView};
use serde_json::json;

pub fn register(r: Registrar) -> Registrar {
    pages::register(api::register(r))
}

/// A time as Asia/Shanghai wall-clock minutes.
pub(crate) fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&peixun_domain::rules::shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn effects_value(e: &ViolationEffects) -> serde_json::Value {
    json!({
        "agreements_terminated": e.termination.agreements_terminated,
        "filings_cancelled": e.termination.filings_cancelled,
        "classes_flagged": e.termination.classes_flagged,
        "promoted": e.termination.promoted,
        "classes_without_codes": e.classes_without_codes,
        "codes_revoked": e.codes_revoked.iter().map(|c| json!({"filing_id": c.filing_id, "count": c.count})).collect::<Vec<_>>(),
        "codes_total": e.codes_revoked.iter().map(|c| c.count).sum::<usize>(),
    })
}

/// A violation for the templates.
pub(crate) fn violation_value(v: &ViolationView) -> serde_json::Value {
    json!({
        "id": v.id,
        "institution_id": v.institution_id,
        "institution_name": v.institution_name,
        "kind": v.kind.code(),
        "kind_label": v.kind_label,
        "state": v.state.code(),
        "state_label": v.state_label,
        "facts": v.facts,
        "classes": v.classes.iter().map(|c| json!({
            "filing_id": c.filing_id,
            "occupation": c.occupation,
            "level": c.level,
            "start_date": c.start_date.to_string(),
            "status": c.status,
        })).collect::<Vec<_>>(),
        "no_classes": v.no_classes,
        "evidence": v.evidence.iter().map(|e| json!({"id": e.id, "name": e.name, "size": e.size})).collect::<Vec<_>>(),
        "recorded_by": v.recorded_by,
        "recorded_at": local(v.recorded_at),
        "decided_by": v.decided_by.clone().unwrap_or_default(),
        "decided_at": v.decided_at.map(local).unwrap_or_default(),
        "decision_reason": v.decision_reason.clone().unwrap_or_default(),
        "effects": v.effects.as_ref().map(effects_value),
    })
}
