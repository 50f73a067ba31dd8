//! Termination is one path (R-AGR-1, R-VIO-2, R-OVD-2): whatever terminates an agreement — a
//! confirmed violation, a confirmed overdue sanction or the centre by hand — goes through
//! [`terminate_in_txn`], inside the caller's transaction:
//!
//! 1. the agreement becomes terminated (audited, `agreement.terminate`);
//! 2. its pending filings and classes not yet started are cancelled
//!    ([`sanction_effect`] = `Cancel`: draft, submitted/returned — holding or waiting —,
//!    approved, roster review or overdue before the start), their slots released
//!    ([`cancel_in_txn`]);
//! 3. its classes already in training are flagged for the centre to decide one by one
//!    (`class_flags`, with the cause and, for a sanction, the sanction);
//! 4. the released slots are given away ([`give_away`]): to the next waiting filings of a
//!    published round (R-FIL-6), or to the rollover of a closed round (R-PLAN-3).
//!
//! A terminated agreement holds no slot afterwards, and accepts no filings (R-AGR-1).

use crate::entity::{agreement, class_flag, filing, round};
use crate::filings::{SlotState, agreement_state, allocate_round, parse_class_state};
use crate::running::class_ctx;
use crate::workflow_glue::{lock_round, today, wf_err};
use crate::{Actor, Result, Store, StoreError, audit};
use chrono::{DateTime, Utc};
use peixun_domain::workflow::agreement::{
    self as wf_agreement, AgreementAction, AgreementState, TerminationCause,
};
use peixun_domain::workflow::class::{
    self as wf_class, CancelCause, ClassAction, SanctionEffect, holds_slot, sanction_effect,
};
use peixun_domain::workflow::round::RoundState;
use peixun_domain::workflow::{self};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What terminating did (also what a sanction or a violation stores as its effects).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminationEffects {
    pub agreements_terminated: Vec<i64>,
    pub filings_cancelled: Vec<i64>,
    pub classes_flagged: Vec<i64>,
    /// Waiting filings (of other institutions) granted the released slots.
    pub promoted: Vec<i64>,
}

impl TerminationEffects {
    pub fn extend(&mut self, other: TerminationEffects) {
        self.agreements_terminated
            .extend(other.agreements_terminated);
        self.filings_cancelled.extend(other.filings_cancelled);
        self.classes_flagged.extend(other.classes_flagged);
        self.promoted.extend(other.promoted);
    }
}

/// Where a termination came from: recorded on the agreement's audit row and on class flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminationSource {
    /// The centre by hand (`agreements::terminate_agreement`).
    ByCentre,
    /// A confirmed overdue sanction (R-OVD-2).
    Sanction(i64),
    /// A confirmed violation (R-VIO-2).
    Violation(i64),
}

impl TerminationSource {
    fn json(self) -> serde_json::Value {
        match self {
            TerminationSource::ByCentre => serde_json::json!({}),
            TerminationSource::Sanction(id) => serde_json::json!({"sanction_id": id}),
            TerminationSource::Violation(id) => serde_json::json!({"violation_id": id}),
        }
    }
}

/// One termination: why, and who applies it to the workflow (`wf`: the user terminating by
/// hand, or the system applying a confirmed sanction / violation). Audit rows name `actor`.
pub(crate) struct Termination<'a> {
    pub cause: TerminationCause,
    pub reason: &'a str,
    pub source: TerminationSource,
    pub wf: workflow::Actor,
}

/// Terminate agreement `a` (if still signed) and wind it down (see the module doc), inside the
/// caller's transaction. The caller has locked the agreement's round (and, when it terminates
/// several, all their rounds in id order first). An agreement already terminated is only wound
/// down (its remaining pending filings cancelled), so a second cause never leaves a slot held.
pub(crate) async fn terminate_in_txn(
    store: &Store,
    txn: &DatabaseTransaction,
    actor: &Actor,
    a: &agreement::Model,
    t: &Termination<'_>,
    now: DateTime<Utc>,
) -> Result<TerminationEffects> {
    let mut effects = TerminationEffects::default();
    let st = agreement_state(a);
    if st == AgreementState::Signed {
        let new = wf_agreement::apply(
            st,
            &AgreementAction::Terminate {
                cause: t.cause,
                reason: t.reason.to_string(),
            },
            &t.wf,
        )
        .map_err(wf_err)?;
        agreement::ActiveModel {
            id: Set(a.id),
            status: Set(new.code().to_string()),
            termination_cause: Set(Some(t.cause.code().to_string())),
            termination_reason: Set(Some(t.reason.trim().to_string())),
            terminated_by: Set(Some(actor.username.clone())),
            terminated_at: Set(Some(now)),
            ..Default::default()
        }
        .update(txn)
        .await?;
        let mut new_json = serde_json::json!({
            "status": new.code(),
            "cause": t.cause.code(),
            "reason": t.reason.trim(),
        });
        if let (Some(o), Some(src)) = (new_json.as_object_mut(), t.source.json().as_object()) {
            o.extend(src.clone());
        }
        audit::append(
            txn,
            actor,
            "agreement.terminate",
            "agreement",
            Some(a.id.to_string()),
            Some(serde_json::json!({"status": st.code()})),
            Some(new_json),
            now,
        )
        .await?;
        effects.agreements_terminated.push(a.id);
    }
    let filings = filing::Entity::find()
        .filter(filing::Column::AgreementId.eq(a.id))
        .order_by_asc(filing::Column::Id)
        .all(txn)
        .await?;
    let system = workflow::Actor::System;
    let mut released: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for f in &filings {
        match sanction_effect(&parse_class_state(&f.state)) {
            SanctionEffect::Cancel => {
                if cancel_in_txn(
                    txn,
                    actor,
                    &system,
                    f,
                    t.cause.cancel_cause(),
                    t.reason,
                    now,
                )
                .await?
                {
                    released.entry(f.round_id).or_default().push(f.id);
                }
                effects.filings_cancelled.push(f.id);
            }
            SanctionEffect::FlagForCentre => {
                // Flagged before (by another termination, decided or not): the centre's
                // decision stands.
                let already = class_flag::Entity::find()
                    .filter(class_flag::Column::FilingId.eq(f.id))
                    .one(txn)
                    .await?
                    .is_some();
                if already {
                    continue;
                }
                let (sanction_id, violation_id) = match t.source {
                    TerminationSource::Sanction(id) => (id, None),
                    TerminationSource::Violation(id) => (0, Some(id)),
                    TerminationSource::ByCentre => (0, None),
                };
                class_flag::ActiveModel {
                    filing_id: Set(f.id),
                    institution_id: Set(f.institution_id),
                    sanction_id: Set(sanction_id),
                    flagged_at: Set(now),
                    decision: Set(None),
                    decision_reason: Set(None),
                    decided_by: Set(None),
                    decided_at: Set(None),
                    cause: Set(Some(t.cause.code().to_string())),
                    violation_id: Set(violation_id),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                effects.classes_flagged.push(f.id);
            }
            SanctionEffect::Unaffected => {}
        }
    }
    for (rid, ids) in &released {
        effects
            .promoted
            .extend(give_away(store, txn, actor, *rid, ids, now).await?);
    }
    Ok(effects)
}

/// Lock the rounds of `agreements` in id order (call before terminating several).
pub(crate) async fn lock_rounds_of(
    store: &Store,
    txn: &DatabaseTransaction,
    agreements: &[agreement::Model],
) -> Result<()> {
    let rounds: std::collections::BTreeSet<i64> = agreements.iter().map(|a| a.round_id).collect();
    for r in rounds {
        lock_round(store, txn, r).await?;
    }
    Ok(())
}

/// Cancel filing `f` inside the caller's transaction (a termination, or centre_admin deciding
/// a flagged class): the workflow's `Cancel`, the slot row removed. The caller then gives the
/// released slots away ([`give_away`]). Returns whether a slot was released.
pub(crate) async fn cancel_in_txn(
    txn: &DatabaseTransaction,
    audit_actor: &Actor,
    wf: &workflow::Actor,
    f: &filing::Model,
    cause: CancelCause,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let state = parse_class_state(&f.state);
    let policy = crate::policies::by_version(txn, &f.policy_version).await?;
    let ctx = class_ctx(txn, f, today(now), &policy).await?;
    let new_state = wf_class::apply(
        &state,
        &ClassAction::Cancel {
            cause,
            reason: reason.to_string(),
        },
        wf,
        &ctx,
    )
    .map_err(wf_err)?;
    let was_holding = holds_slot(&state);
    filing::ActiveModel {
        id: Set(f.id),
        state: Set(serde_json::to_string(&new_state).unwrap_or_default()),
        status: Set(new_state.code().to_string()),
        slot_state: Set(SlotState::Released.code().to_string()),
        decided_at: Set(Some(now)),
        decided_by: Set(Some(audit_actor.username.clone())),
        decision_reason: Set(Some(reason.trim().to_string())),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(txn)
    .await?;
    if was_holding {
        crate::queue::release_slot(txn, f).await?;
    }
    audit::append(
        txn,
        audit_actor,
        "filing.cancel",
        "filing",
        Some(f.id.to_string()),
        Some(serde_json::json!({"status": state.code(), "slot_state": f.slot_state})),
        Some(serde_json::json!({
            "status": new_state.code(),
            "slot_state": SlotState::Released.code(),
            "reason": reason,
        })),
        now,
    )
    .await?;
    Ok(was_holding)
}

/// Give the slots released in `round_id` away: the next waiting filings of a published round
/// (R-FIL-6), or the rollover of a closed H1 round (R-PLAN-3). Returns the promoted filings.
pub(crate) async fn give_away(
    store: &Store,
    txn: &DatabaseTransaction,
    actor: &Actor,
    round_id: i64,
    released: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let r: round::Model = round::Entity::find_by_id(round_id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "round" })?;
    if crate::rounds::parse_state(&r.status) == RoundState::Closed {
        for fid in released {
            crate::rounds::late_release(store, txn, actor, &r, *fid, now).await?;
        }
        Ok(Vec::new())
    } else {
        allocate_round(txn, &r, now).await
    }
}
