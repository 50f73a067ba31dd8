//! The quota queue's counters: every queue action does a bounded amount of work, whatever the
//! size of the round (R-FIL-6, SECURITY.md S9, issue 12).
//!
//! The rule is [`peixun_domain::queue::allocate`]; this module only feeds it less. The queue is
//! *settled* after every action (no waiting filing could be granted: the round is full or its
//! institution's cap is), so:
//!
//! * a **submission** frees no capacity: the filings already waiting stay ungrantable and only
//!   the new filing can be granted — iff the round has a free slot and its agreement's cap has
//!   room. [`grant_on_submit`] asks `allocate` about that one filing, with the capacity read from
//!   the counters (the round and the agreement rows the submission has just read under the round
//!   lock);
//! * a **release** (withdrawal, rejection, cancellation, termination) and a **capacity change**
//!   (larger quota, rollover, new or larger cap) look at the head of the waiting list only:
//!   [`grant_from_head`] reads the first waiting filings, in queue order, whose agreement is in
//!   force and below its cap (one indexed query, `LIMIT` the free slots), runs `allocate` over
//!   them and repeats after the last one read while slots are left. Filings it skips stay
//!   ungrantable: granting only takes capacity away.
//!
//! The counters (migration `m20261203_000160_queue_counters`): `rounds.slots_held`,
//! `agreements.slots_held` and the free slot numbers (`rounds.next_slot_no` and the released
//! numbers below it in `quota_free_slots`; a grant takes the lowest). They change only here, in
//! the caller's write transaction, which holds the round lock ([`crate::workflow_glue::lock_round`]).
//! [`counters`] reads them and [`recount`] computes the same from the rows themselves; they are
//! equal after every action (tests: `crates/store/tests/queue_counters.rs`).

use crate::entity::{agreement, filing, quota_slot, round};
use crate::filings::{SlotState, parse_class_state, state_json, system_ctx};
use crate::rounds::{parse_state, planned_total};
use crate::workflow_glue::wf_err;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use peixun_domain::policy::Policy;
use peixun_domain::queue::{Capacity, Waiting, allocate};
use peixun_domain::workflow::agreement::AgreementState;
use peixun_domain::workflow::class::{self as wf_class, ClassAction, ClassState};
use peixun_domain::workflow::round::RoundState;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, Set, Statement, Value,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Waiting filings read per head query at most.
const HEAD_BATCH: u32 = 256;

/// `sql` with `$1, $2 …` placeholders on PostgreSQL, `?` on SQLite.
fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

fn db_err(msg: String) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(msg))
}

/// Take the lowest free slot number of round `round_id` and count the slot as held: a released
/// number if there is one, else `next_slot_no`.
async fn take_slot(txn: &DatabaseTransaction, round_id: i64) -> Result<i32> {
    let b = txn.get_database_backend();
    let released = txn
        .query_one_raw(stmt(
            b,
            "DELETE FROM quota_free_slots WHERE round_id = ? AND slot_no = \
             (SELECT MIN(slot_no) FROM quota_free_slots WHERE round_id = ?) RETURNING slot_no",
            vec![round_id.into(), round_id.into()],
        ))
        .await?;
    if let Some(row) = released {
        txn.execute_raw(stmt(
            b,
            "UPDATE rounds SET slots_held = slots_held + 1 WHERE id = ?",
            vec![round_id.into()],
        ))
        .await?;
        return Ok(row.try_get("", "slot_no")?);
    }
    let row = txn
        .query_one_raw(stmt(
            b,
            "UPDATE rounds SET slots_held = slots_held + 1, next_slot_no = next_slot_no + 1 \
             WHERE id = ? RETURNING next_slot_no",
            vec![round_id.into()],
        ))
        .await?
        .ok_or_else(|| db_err(format!("round {round_id} missing")))?;
    let next: i32 = row.try_get("", "next_slot_no")?;
    Ok(next - 1)
}

/// Give waiting filing `f` of round `r` the lowest free slot (R-FIL-6): the workflow's
/// `GrantSlot`, the `quota_slots` row, the filing's new state and the counters. `policy`: the
/// filing's policy version when the caller has it. Returns the slot number and the new state.
async fn grant(
    txn: &DatabaseTransaction,
    r: &round::Model,
    f: &filing::Model,
    policy: Option<&Policy>,
    now: DateTime<Utc>,
) -> Result<(i32, ClassState)> {
    let loaded;
    let policy = match policy {
        Some(p) => p,
        None => {
            loaded = crate::policies::by_version(txn, &f.policy_version).await?;
            &loaded
        }
    };
    let state = parse_class_state(&f.state);
    let new_state = wf_class::apply(
        &state,
        &ClassAction::GrantSlot,
        &peixun_domain::workflow::Actor::System,
        &system_ctx(f, r, now, policy),
    )
    .map_err(wf_err)?;
    let slot_no = take_slot(txn, r.id).await?;
    quota_slot::ActiveModel {
        round_id: Set(r.id),
        slot_no: Set(slot_no),
        filing_id: Set(f.id),
        granted_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| crate::map_unique(e, "SLOT_TAKEN", "名额已被占用", "slot_no"))?;
    filing::ActiveModel {
        id: Set(f.id),
        state: Set(state_json(&new_state)),
        status: Set(new_state.code().to_string()),
        slot_state: Set(SlotState::Holding.code().to_string()),
        granted_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(txn)
    .await?;
    txn.execute_raw(stmt(
        txn.get_database_backend(),
        "UPDATE agreements SET slots_held = slots_held + 1 WHERE id = ?",
        vec![f.agreement_id.into()],
    ))
    .await?;
    Ok((slot_no, new_state))
}

/// Free the slot filing `f` holds (it left the queue: withdrawn, rejected, cancelled): its
/// `quota_slots` row goes, the number becomes free again, the counters go down. The caller
/// then gives the slot away ([`grant_from_head`]) or, for a closed round, to the rollover.
/// Returns the slot number, `None` when the filing held none.
pub(crate) async fn release_slot(
    txn: &DatabaseTransaction,
    f: &filing::Model,
) -> Result<Option<i32>> {
    let b = txn.get_database_backend();
    let Some(row) = txn
        .query_one_raw(stmt(
            b,
            "DELETE FROM quota_slots WHERE filing_id = ? RETURNING round_id, slot_no",
            vec![f.id.into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    let round_id: i64 = row.try_get("", "round_id")?;
    let slot_no: i32 = row.try_get("", "slot_no")?;
    txn.execute_raw(stmt(
        b,
        "INSERT INTO quota_free_slots (round_id, slot_no) VALUES (?, ?)",
        vec![round_id.into(), slot_no.into()],
    ))
    .await?;
    txn.execute_raw(stmt(
        b,
        "UPDATE rounds SET slots_held = slots_held - 1 WHERE id = ?",
        vec![round_id.into()],
    ))
    .await?;
    txn.execute_raw(stmt(
        b,
        "UPDATE agreements SET slots_held = slots_held - 1 WHERE id = ?",
        vec![f.agreement_id.into()],
    ))
    .await?;
    Ok(Some(slot_no))
}

/// What is left of agreement `a`'s cap; `None` when it is not in force (R-AGR-1: a terminated
/// agreement's filings are never granted).
fn cap_left(a: &agreement::Model) -> Option<u32> {
    (crate::filings::agreement_state(a) == AgreementState::Signed)
        .then(|| (a.cap.max(0) as u32).saturating_sub(a.slots_held.max(0) as u32))
}

/// The submission's decision (R-FIL-6), bounded: `r` (read under the round lock, after the
/// sequence number was taken) and `a` (the filing's agreement, read under the lock) carry the
/// counters; `f` is the filing just appended as waiting. Grants it iff [`allocate`] does.
pub(crate) async fn grant_on_submit(
    txn: &DatabaseTransaction,
    r: &round::Model,
    a: &agreement::Model,
    f: &filing::Model,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Option<(i32, ClassState)>> {
    if parse_state(&r.status) != RoundState::Published {
        return Ok(None);
    }
    let mut capacity = Capacity {
        round_left: planned_total(r).saturating_sub(r.slots_held.max(0) as u32),
        cap_left: cap_left(a).map(|n| (a.id, n)).into_iter().collect(),
    };
    let me = [Waiting {
        filing: f.id,
        institution: a.id,
    }];
    if allocate(&mut capacity, &me).is_empty() {
        return Ok(None);
    }
    Ok(Some(grant(txn, r, f, Some(policy), now).await?))
}

/// R-FIL-6 after a release or a capacity change: grant what [`allocate`] says to the round's
/// waiting filings, reading only the head of the waiting list (module doc). The caller holds
/// the round lock. Only a published round grants. Returns each grant: filing, slot, new state.
pub(crate) async fn grant_from_head(
    txn: &DatabaseTransaction,
    round_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, i32, ClassState)>> {
    // Fresh: the caller may have released slots in this transaction.
    let r = round::Entity::find_by_id(round_id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "round" })?;
    let mut out = Vec::new();
    if parse_state(&r.status) != RoundState::Published {
        return Ok(out);
    }
    let mut round_left = planned_total(&r).saturating_sub(r.slots_held.max(0) as u32);
    let b = txn.get_database_backend();
    let mut after_seq = 0i64;
    while round_left > 0 {
        let head = filing::Entity::find()
            .from_raw_sql(stmt(
                b,
                "SELECT f.* FROM filings f JOIN agreements a ON a.id = f.agreement_id \
                 WHERE f.round_id = ? AND f.slot_state = ? AND f.queue_seq > ? \
                 AND a.status <> 'terminated' AND a.slots_held < a.cap \
                 ORDER BY f.queue_seq LIMIT ?",
                vec![
                    r.id.into(),
                    SlotState::Waiting.code().into(),
                    after_seq.into(),
                    i64::from(round_left.min(HEAD_BATCH)).into(),
                ],
            ))
            .all(txn)
            .await?;
        let Some(last) = head.last() else { break };
        after_seq = last.queue_seq;
        let ids: BTreeSet<i64> = head.iter().map(|f| f.agreement_id).collect();
        let cap_left: HashMap<i64, u32> = agreement::Entity::find()
            .filter(agreement::Column::Id.is_in(ids))
            .all(txn)
            .await?
            .iter()
            .filter_map(|a| cap_left(a).map(|n| (a.id, n)))
            .collect();
        let mut capacity = Capacity {
            round_left,
            cap_left,
        };
        let waiting: Vec<Waiting<usize, i64>> = head
            .iter()
            .enumerate()
            .map(|(i, f)| Waiting {
                filing: i,
                institution: f.agreement_id,
            })
            .collect();
        for i in allocate(&mut capacity, &waiting) {
            let f = &head[i];
            let (slot_no, state) = grant(txn, &r, f, None, now).await?;
            out.push((f.id, slot_no, state));
        }
        round_left = capacity.round_left;
    }
    Ok(out)
}

/// A round's queue bookkeeping: from the counters ([`counters`]) or recomputed from the rows
/// ([`recount`]); the two are equal after every queue action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueCounters {
    /// Slots held in the round.
    pub slots_held: u32,
    /// The slot numbers in use.
    pub slot_nos: BTreeSet<u32>,
    /// Slots held per agreement of the round (every agreement, zeros included).
    pub held_by_agreement: BTreeMap<i64, u32>,
}

/// The counters as stored (`rounds.slots_held`, `next_slot_no` less `quota_free_slots`,
/// `agreements.slots_held`).
pub async fn counters<C: ConnectionTrait>(db: &C, round_id: i64) -> Result<QueueCounters> {
    let r = round::Entity::find_by_id(round_id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "round" })?;
    let free: BTreeSet<i32> = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT slot_no FROM quota_free_slots WHERE round_id = ?",
            vec![round_id.into()],
        ))
        .await?
        .iter()
        .map(|row| row.try_get::<i32>("", "slot_no"))
        .collect::<std::result::Result<_, _>>()?;
    let slot_nos = (1..r.next_slot_no)
        .filter(|n| !free.contains(n))
        .map(|n| n.max(0) as u32)
        .collect();
    let held_by_agreement = agreement::Entity::find()
        .filter(agreement::Column::RoundId.eq(round_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.slots_held.max(0) as u32))
        .collect();
    Ok(QueueCounters {
        slots_held: r.slots_held.max(0) as u32,
        slot_nos,
        held_by_agreement,
    })
}

/// The same figures recomputed from the rows: filings holding a slot, `quota_slots`.
pub async fn recount<C: ConnectionTrait>(db: &C, round_id: i64) -> Result<QueueCounters> {
    let holding: Vec<filing::Model> = filing::Entity::find()
        .filter(filing::Column::RoundId.eq(round_id))
        .filter(filing::Column::SlotState.eq(SlotState::Holding.code()))
        .all(db)
        .await?;
    let mut held_by_agreement: BTreeMap<i64, u32> = agreement::Entity::find()
        .filter(agreement::Column::RoundId.eq(round_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, 0))
        .collect();
    for f in &holding {
        *held_by_agreement.entry(f.agreement_id).or_default() += 1;
    }
    let slot_nos = quota_slot::Entity::find()
        .filter(quota_slot::Column::RoundId.eq(round_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.slot_no.max(0) as u32)
        .collect();
    Ok(QueueCounters {
        slots_held: holding.len() as u32,
        slot_nos,
        held_by_agreement,
    })
}
