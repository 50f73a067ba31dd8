//! Reading a seeded database back through the store's own checks: what the bulk path wrote
//! must be what the services would have accepted and computed.
//!
//! * every package passes `filing_package`'s submission checks as of its submission day
//!   (R-FIL-1…8: content, scope, R-FIL-3 lead time, R-FIL-4 window, teachers qualified and never
//!   booked twice, documents, roster size and ages) — the checks `submit_package` runs;
//! * every evaluation's inputs are what `evaluations::read_input` reads from the records
//!   (approved and on-time classes, inspections and findings, completed classes, trainees);
//! * every agreement's stored cap decision is what `agreements::cap_preview_on` computes on its
//!   signing day (overridden caps: the computed part).

use super::day_of;
use crate::entity::{agreement, filing};
use crate::evaluations::entity as ev;
use crate::filing_package::package;
use crate::{Actor, Result, Store};
use peixun_domain::cap::CapDecision;
use peixun_domain::evaluation::EvaluationInput;
use peixun_domain::filing::FilingProblem;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Blocking problems of the first `limit` submitted packages, as of their submission days.
pub async fn package_problems(store: &Store, limit: u64) -> Result<Vec<String>> {
    let keys = store.keys()?;
    let db = store.db();
    let mut out = Vec::new();
    let packages = package::Entity::find()
        .filter(package::Column::FilingId.is_not_null())
        .order_by_asc(package::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    for p in packages {
        let Some(f) = filing::Entity::find_by_id(p.filing_id.unwrap_or(0))
            .one(db)
            .await?
        else {
            out.push(format!("package {}: filing missing", p.id));
            continue;
        };
        let on = day_of(f.submitted_at);
        for pr in crate::filing_package::problems_of(db, &keys.data, &p, on)
            .await?
            .iter()
            .filter(|x| FilingProblem::is_blocking(x))
        {
            out.push(format!(
                "package {} (filing {}): {} {}",
                p.id, f.id, pr.code, pr.message
            ));
        }
    }
    Ok(out)
}

/// Evaluations whose stored inputs differ from what the records give.
pub async fn evaluation_mismatches(store: &Store, limit: u64) -> Result<Vec<String>> {
    let db = store.db();
    let mut out = Vec::new();
    for e in ev::Entity::find()
        .order_by_asc(ev::Column::Id)
        .limit(limit)
        .all(db)
        .await?
    {
        let Some(a) = agreement::Entity::find_by_id(e.agreement_id)
            .one(db)
            .await?
        else {
            out.push(format!("evaluation {}: agreement missing", e.id));
            continue;
        };
        let stored: EvaluationInput = serde_json::from_str(&e.input)
            .map_err(|x| crate::StoreError::Db(sea_orm::DbErr::Json(x.to_string())))?;
        let day = e.confirmed_at.map_or_else(|| day_of(e.computed_at), day_of);
        let read = crate::evaluations::read_input(db, &a, day).await?;
        let same = stored.cap == read.cap
            && stored.approved == read.approved
            && stored.on_time == read.on_time
            && stored.inspections == read.inspections
            && stored.general_findings == read.general_findings
            && stored.serious_findings == read.serious_findings
            && stored.late_rectifications == read.late_rectifications
            && stored.archives.len() == read.archives.len()
            && stored.satisfaction == read.satisfaction;
        if !same {
            out.push(format!(
                "evaluation {} (agreement {}): stored {stored:?}, records {read:?}",
                e.id, a.id
            ));
        }
    }
    Ok(out)
}

/// Agreements whose stored decision differs from the service's computation on the signing day.
pub async fn cap_mismatches(store: &Store, limit: u64) -> Result<Vec<String>> {
    let db = store.db();
    let viewer = Actor::system("seed-check");
    let mut out = Vec::new();
    for a in agreement::Entity::find()
        .order_by_asc(agreement::Column::Id)
        .limit(limit)
        .all(db)
        .await?
    {
        let stored: CapDecision = serde_json::from_str(&a.cap_decision)
            .map_err(|x| crate::StoreError::Db(sea_orm::DbErr::Json(x.to_string())))?;
        let Some(app) = a.application_id else {
            continue;
        };
        let requested = match stored.input.basis {
            peixun_domain::cap::CapBasis::First { requested } => Some(requested),
            _ => None,
        };
        let preview =
            crate::agreements::cap_preview_on(store, &viewer, app, requested, day_of(a.signed_at))
                .await?;
        let Some(mut computed) = preview.decision else {
            out.push(format!("agreement {}: no decision computed", a.id));
            continue;
        };
        // An override (R-CAP-8) keeps the computed decision and adds to it.
        if !stored.overrides.is_empty() {
            computed.overrides = stored.overrides.clone();
            computed.cap = stored.cap;
            computed.trail = stored.trail.clone();
        }
        if computed != stored {
            out.push(format!(
                "agreement {}: stored cap {} ({:?}), service {} ({:?})",
                a.id, stored.cap, stored.input, computed.cap, computed.input
            ));
        }
    }
    Ok(out)
}
