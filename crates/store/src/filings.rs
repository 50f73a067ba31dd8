//! The first-come-first-served quota queue (R-FIL-6, SECURITY.md S9).
//!
//! A filing takes one slot from the round's quota (`P` = base + rollover) and one from its
//! institution's cap at submission, in submission order; otherwise it waits in that order. A
//! released slot (withdrawal, rejection, cancellation) goes to the first waiting filing whose
//! institution's cap allows. All of it happens in **one write transaction** per action:
//!
//! 1. lock the round (PostgreSQL `SELECT … FOR UPDATE`; SQLite: the one writer connection with
//!    `BEGIN IMMEDIATE` already serialises);
//! 2. submission: take `queue_seq` from the round's counter — this *is* the submission order —
//!    and append the filing as waiting; release: free its slot;
//! 3. run [`peixun_domain::queue::allocate`] with the current capacity and grant what it says,
//!    each grant taking the lowest free `slot_no`. The capacity comes from counters kept in the
//!    same transactions and only the filings that can be granted are read — the new filing at a
//!    submission, the head of the waiting list after a release — so the work does not grow with
//!    the round ([`crate::queue`]);
//! 4. append the audit row; commit.
//!
//! Constraints back the code: `quota_slots` UNIQUE(round_id, slot_no) and UNIQUE(filing_id),
//! `filings` UNIQUE(round_id, queue_seq). The filing's state is the workflow's
//! [`ClassState`] (stored as JSON), `slot_state` mirrors [`holds_slot`] for queries.

use crate::entity::{agreement, filing, institution_qualification as iq, quota_slot, round};
use crate::rounds::{self, parse_state};
use crate::workflow_glue::{is_centre, lock_round, today, wf_actor, wf_err, with_retry};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::policy::Policy;
use peixun_domain::workflow::agreement::AgreementState;
use peixun_domain::workflow::class::{
    self as wf_class, CancelCause, ClassAction, ClassContext, ClassState, CorrectionItem,
    holds_slot,
};
use peixun_domain::workflow::round::RoundState;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A filing's place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    /// 占用名额
    Holding,
    /// 候补
    Waiting,
    /// Withdrawn, rejected or cancelled: left the queue.
    Released,
    /// 未获名额: still waiting when the round closed (R-PLAN-3).
    NotGranted,
}

impl SlotState {
    pub fn code(self) -> &'static str {
        match self {
            SlotState::Holding => "holding",
            SlotState::Waiting => "waiting",
            SlotState::Released => "released",
            SlotState::NotGranted => "not_granted",
        }
    }
    pub fn parse(s: &str) -> SlotState {
        match s {
            "holding" => SlotState::Holding,
            "waiting" => SlotState::Waiting,
            "not_granted" => SlotState::NotGranted,
            _ => SlotState::Released,
        }
    }
}

/// What the filing package puts in the queue (its checked content's queue fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingSubmission {
    pub agreement_id: i64,
    pub occupation: String,
    pub level: String,
    pub start_date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingView {
    pub id: i64,
    pub round_id: i64,
    pub agreement_id: i64,
    pub institution_id: i64,
    pub occupation: String,
    pub level: String,
    pub start_date: NaiveDate,
    pub state: ClassState,
    /// `ClassState::code`.
    pub status: String,
    /// `ClassState::label_zh`.
    pub status_label: String,
    pub slot_state: SlotState,
    /// The slot held, if any.
    pub slot_no: Option<u32>,
    /// Position in the round's submission order (1, 2, 3 …).
    pub queue_seq: i64,
    pub submitted_at: DateTime<Utc>,
    pub granted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    /// The policy version in force on the submission date, which this filing follows (R-POL-1).
    pub policy_version: String,
}

pub(crate) fn parse_class_state(s: &str) -> ClassState {
    serde_json::from_str(s).unwrap_or(ClassState::Draft)
}

pub(crate) fn state_json(s: &ClassState) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn slot_state_of(s: &ClassState) -> SlotState {
    if holds_slot(s) {
        SlotState::Holding
    } else if is_waiting(s) {
        SlotState::Waiting
    } else if *s == ClassState::NotGranted {
        SlotState::NotGranted
    } else {
        SlotState::Released
    }
}

fn to_view(m: filing::Model, slot_no: Option<i32>) -> FilingView {
    let state = parse_class_state(&m.state);
    FilingView {
        id: m.id,
        round_id: m.round_id,
        agreement_id: m.agreement_id,
        institution_id: m.institution_id,
        occupation: m.occupation,
        level: m.level,
        start_date: m.start_date,
        status: state.code().to_string(),
        status_label: state.label_zh().to_string(),
        state,
        slot_state: SlotState::parse(&m.slot_state),
        slot_no: slot_no.map(|n| n.max(0) as u32),
        queue_seq: m.queue_seq,
        submitted_at: m.submitted_at,
        granted_at: m.granted_at,
        decided_at: m.decided_at,
        decided_by: m.decided_by,
        decision_reason: m.decision_reason,
        created_by: m.created_by,
        created_by_name: m.created_by_name,
        policy_version: m.policy_version,
    }
}

async fn load_view<C: sea_orm::ConnectionTrait>(db: &C, id: i64) -> Result<FilingView> {
    let m = filing::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "filing" })?;
    let slot = quota_slot::Entity::find()
        .filter(quota_slot::Column::FilingId.eq(id))
        .one(db)
        .await?
        .map(|s| s.slot_no);
    Ok(to_view(m, slot))
}

fn audit_value(v: &FilingView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

pub(crate) fn agreement_state(m: &agreement::Model) -> AgreementState {
    use peixun_domain::workflow::agreement::TerminationCause;
    match m.status.as_str() {
        "terminated" => AgreementState::Terminated {
            cause: m
                .termination_cause
                .as_deref()
                .and_then(TerminationCause::from_code)
                .unwrap_or(TerminationCause::ByCentre),
        },
        _ => AgreementState::Signed,
    }
}

/// R-FIL-6: grant what [`peixun_domain::queue::allocate`] says to the round's waiting filings,
/// in queue order, with the round's free quota and each institution's free cap — read from the
/// counters, looking at the head of the waiting list only ([`crate::queue::grant_from_head`]).
/// The caller holds the round lock. Returns the granted filing ids. Only a published round
/// grants.
pub(crate) async fn allocate_round(
    txn: &DatabaseTransaction,
    r: &round::Model,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    Ok(crate::queue::grant_from_head(txn, r.id, now)
        .await?
        .into_iter()
        .map(|(id, _, _)| id)
        .collect())
}

/// The context of a system action (grant, not granted) on filing `f`.
pub(crate) fn system_ctx<'a>(
    f: &filing::Model,
    r: &round::Model,
    now: DateTime<Utc>,
    policy: &'a Policy,
) -> ClassContext<'a> {
    ClassContext {
        institution_id: f.institution_id,
        submitted_by: f.created_by,
        agreement: AgreementState::Signed,
        round: parse_state(&r.status),
        package_ok: true,
        start: f.start_date,
        today: today(now),
        under_violation: false,
        policy,
    }
}

/// R-PLAN-3: a waiting filing at the close ends as 未获名额.
pub(crate) async fn mark_not_granted(
    txn: &DatabaseTransaction,
    f: &filing::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    let state = parse_class_state(&f.state);
    let policy = crate::policies::by_version(txn, &f.policy_version).await?;
    let ctx = ClassContext {
        institution_id: f.institution_id,
        submitted_by: f.created_by,
        agreement: AgreementState::Signed,
        round: RoundState::Closed,
        package_ok: true,
        start: f.start_date,
        today: today(now),
        under_violation: false,
        policy: &policy,
    };
    let new_state = wf_class::apply(
        &state,
        &ClassAction::NotGranted,
        &peixun_domain::workflow::Actor::System,
        &ctx,
    )
    .map_err(wf_err)?;
    filing::ActiveModel {
        id: Set(f.id),
        state: Set(state_json(&new_state)),
        status: Set(new_state.code().to_string()),
        slot_state: Set(SlotState::NotGranted.code().to_string()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(txn)
    .await?;
    Ok(())
}

/// **Tests only** (cargo feature `testing`, which only dev-dependencies enable: the `peixun`
/// binary never has it). Puts a filing in the queue with only occupation, level and start date,
/// as the removed minimal filing did (issue 8), for tests of the queue's order and concurrency
/// (R-FIL-6, S9) where the package is beside the point. Such a filing has no package, exactly
/// like one left over in an old database: it can never be approved, resubmitted or started
/// (`FIL_NO_PACKAGE`, [`crate::package_gate`]). Real filings: [`crate::filing_package`];
/// complete ones for tests: [`crate::ready_package`].
#[cfg(feature = "testing")]
pub async fn submit_without_package(
    store: &Store,
    actor: &Actor,
    input: FilingSubmission,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    let Some(own) = actor
        .role
        .filter(|r| r.is_institution())
        .and(actor.institution_id)
    else {
        return Err(StoreError::forbidden("只有培训机构可以提交开班备案"));
    };
    let occupation = input.occupation.trim().to_string();
    let level = input.level.trim().to_string();
    if occupation.is_empty() {
        return Err(StoreError::validation(
            "REQUIRED",
            "请填写职业（工种）",
            "occupation",
        ));
    }
    let now = db_time(now);
    // Like every submission, in a shared write transaction (crate::group_commit).
    let actor = actor.clone();
    store
        .group_commit(move |store, txn| {
            let (actor, occupation, level, input) = (
                actor.clone(),
                occupation.clone(),
                level.clone(),
                input.clone(),
            );
            Box::pin(async move {
                submit_in_txn(
                    store,
                    txn,
                    &actor,
                    own,
                    &occupation,
                    &level,
                    &input,
                    true,
                    now,
                )
                .await
            })
        })
        .await
}

/// The one path into the queue (R-FIL-6), inside the caller's write transaction: lock the
/// round, take the next `queue_seq`, append the filing as waiting, then grant it if
/// [`peixun_domain::queue::allocate`] says so (the queue was settled and a submission frees
/// nothing, so no earlier filing can be granted now: [`crate::queue::grant_on_submit`]). Only
/// [`crate::filing_package::submit_package`] calls it, after its checks: `package_ok` is their
/// result (R-FIL-1…5: `check_filing` found no blocking problem) and the workflow refuses a
/// submission without it. Writes the audit row.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn submit_in_txn(
    store: &Store,
    txn: &DatabaseTransaction,
    actor: &Actor,
    own: i64,
    occupation: &str,
    level: &str,
    input: &FilingSubmission,
    package_ok: bool,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    let a = agreement::Entity::find_by_id(input.agreement_id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "agreement",
        })?;
    if a.institution_id != own {
        // S6: another institution's agreement does not exist for this user.
        return Err(StoreError::forbidden("不能使用其他培训机构的委托培训协议"));
    }
    if iq::Entity::find()
        .filter(iq::Column::InstitutionId.eq(own))
        .filter(iq::Column::Occupation.eq(occupation))
        .filter(iq::Column::Level.eq(level))
        .one(txn)
        .await?
        .is_none()
    {
        return Err(StoreError::validation(
            "FIL_SCOPE",
            format!("“{occupation}（{level}）”不在本机构核准的培训资质范围内"),
            "occupation",
        ));
    }
    let r = lock_round(store, txn, a.round_id).await?;
    // Re-read under the lock: a termination committed meanwhile counts (R-AGR-1).
    let a = agreement::Entity::find_by_id(a.id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "agreement",
        })?;
    // R-POL-1: the version in force on the submission date decides the R-FIL-3 deadline and the
    // R-FIL-4 window; the filing keeps it.
    let policy = crate::policies::in_force(txn, today(now)).await?;
    let ctx = ClassContext {
        institution_id: own,
        submitted_by: actor.user_id,
        agreement: agreement_state(&a),
        round: parse_state(&r.status),
        package_ok,
        start: input.start_date,
        today: today(now),
        under_violation: false,
        policy: &policy,
    };
    let state = wf_class::apply(
        &ClassState::Draft,
        &ClassAction::Submit,
        &wf_actor(actor),
        &ctx,
    )
    .map_err(wf_err)?;
    let seq = r.next_queue_seq;
    // The submission time is the caller's clock, but never earlier than the filing before
    // it: queue order and the times on the bulletin agree even when concurrent callers'
    // clocks were read in another order than the writes ran.
    let prev_at = filing::Entity::find()
        .filter(filing::Column::RoundId.eq(r.id))
        .filter(filing::Column::QueueSeq.eq(seq - 1))
        .one(txn)
        .await?
        .map(|p| p.submitted_at);
    let submitted_at = prev_at.map_or(now, |p| p.max(now));
    let r = round::ActiveModel {
        id: Set(r.id),
        next_queue_seq: Set(seq + 1),
        ..Default::default()
    }
    .update(txn)
    .await?;
    let f = filing::ActiveModel {
        round_id: Set(r.id),
        agreement_id: Set(a.id),
        institution_id: Set(own),
        occupation: Set(occupation.to_string()),
        level: Set(level.to_string()),
        start_date: Set(input.start_date),
        state: Set(state_json(&state)),
        status: Set(state.code().to_string()),
        slot_state: Set(SlotState::Waiting.code().to_string()),
        queue_seq: Set(seq),
        submitted_at: Set(submitted_at),
        granted_at: Set(None),
        decided_at: Set(None),
        decided_by: Set(None),
        decision_reason: Set(None),
        created_by: Set(actor.user_id),
        created_by_name: Set(actor.username.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        policy_version: Set(policy.version.clone()),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| crate::map_unique(e, "QUEUE_SEQ_TAKEN", "排队序号冲突，请重试", "queue_seq"))?;
    // The queue was settled before this submission and a submission frees nothing: only this
    // filing can be granted (crate::queue).
    let granted = crate::queue::grant_on_submit(txn, &r, &a, &f, &policy, now).await?;
    // The view from what this transaction wrote (no second read).
    let mut f = f;
    let mut slot_no = None;
    if let Some((n, state)) = &granted {
        f.state = state_json(state);
        f.status = state.code().to_string();
        f.slot_state = SlotState::Holding.code().to_string();
        f.granted_at = Some(now);
        slot_no = Some(*n);
    }
    let v = to_view(f, slot_no);
    let mut new = audit_value(&v);
    new["granted"] = serde_json::json!(granted.iter().map(|_| v.id).collect::<Vec<_>>());
    audit::append(
        txn,
        actor,
        "filing.submit",
        "filing",
        Some(v.id.to_string()),
        None,
        Some(new),
        now,
    )
    .await?;
    Ok(v)
}

/// The context of a person's action on an existing filing.
async fn person_ctx<'a>(
    txn: &DatabaseTransaction,
    f: &filing::Model,
    r: &round::Model,
    now: DateTime<Utc>,
    policy: &'a Policy,
) -> Result<ClassContext<'a>> {
    let a = agreement::Entity::find_by_id(f.agreement_id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "agreement",
        })?;
    Ok(ClassContext {
        institution_id: f.institution_id,
        submitted_by: f.created_by,
        agreement: agreement_state(&a),
        round: parse_state(&r.status),
        package_ok: true,
        start: f.start_date,
        today: today(now),
        under_violation: false,
        policy,
    })
}

/// One action on one filing, in one transaction: load, lock the round, apply the workflow,
/// release the slot if the new state holds none (then promote, or for a closed H1 round add it
/// to the rollover), audit.
async fn act(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    action: &ClassAction,
    audit_action: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let v = act_in_txn(
            store,
            &txn,
            actor,
            filing_id,
            action,
            audit_action,
            reason,
            None,
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// [`act`]'s work inside the caller's write transaction (the filing package's resubmission and
/// roster changes run it next to their own writes). `package_ok` overrides the context's
/// package check (R-FIL-1…5) when the caller ran it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn act_in_txn(
    store: &Store,
    txn: &DatabaseTransaction,
    actor: &Actor,
    filing_id: i64,
    action: &ClassAction,
    audit_action: &str,
    reason: Option<&str>,
    package_ok: Option<bool>,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    let f0 = filing::Entity::find_by_id(filing_id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "filing" })?;
    // S6: an institution user never learns about another institution's filing.
    if actor.role.is_some_and(|r| r.is_institution())
        && actor.institution_id != Some(f0.institution_id)
    {
        return Err(StoreError::forbidden("不能操作其他培训机构的开班备案"));
    }
    let r = lock_round(store, txn, f0.round_id).await?;
    // Re-read under the lock (PostgreSQL: another writer may have granted it meanwhile).
    let f = filing::Entity::find_by_id(filing_id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "filing" })?;
    let old = load_view(txn, f.id).await?;
    let policy = crate::policies::by_version(txn, &f.policy_version).await?;
    let mut ctx = person_ctx(txn, &f, &r, now, &policy).await?;
    if let Some(ok) = package_ok {
        ctx.package_ok = ok;
    } else if matches!(action, ClassAction::Resubmit) {
        // One path for resubmissions (R-FIL-5): a filing with a package is checked again.
        ctx.package_ok =
            crate::filing_package::resubmission_ok(txn, &store.keys()?.data, f.id, today(now))
                .await?;
    }
    if matches!(action, ClassAction::Approve) {
        // R-FIL-5: only a filing whose package passed the checks is approved (issue 8).
        crate::package_gate::require_package(txn, f.id, "备案通过").await?;
    }
    let state = parse_class_state(&f.state);
    let new_state = wf_class::apply(&state, action, &wf_actor(actor), &ctx).map_err(wf_err)?;
    let was_holding = holds_slot(&state);
    let new_slot = slot_state_of(&new_state);
    let decided = matches!(
        action,
        ClassAction::Approve
            | ClassAction::Reject { .. }
            | ClassAction::ReturnForCorrection { .. }
            | ClassAction::Cancel { .. }
    );
    filing::ActiveModel {
        id: Set(f.id),
        state: Set(state_json(&new_state)),
        status: Set(new_state.code().to_string()),
        slot_state: Set(new_slot.code().to_string()),
        decided_at: Set(if decided { Some(now) } else { f.decided_at }),
        decided_by: Set(if decided {
            Some(actor.username.clone())
        } else {
            f.decided_by.clone()
        }),
        decision_reason: Set(match reason {
            Some(r) => Some(r.trim().to_string()),
            None => f.decision_reason.clone(),
        }),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(txn)
    .await?;
    // R-ARC-2: a class that comes after training here too gets its archive figures.
    if crate::archive::after_training(new_state.code())
        && !crate::archive::after_training(&f.status)
    {
        crate::archive::refresh_progress(txn, &f).await?;
    }
    let mut promoted = Vec::new();
    let mut rolled_into = None;
    if was_holding && new_slot != SlotState::Holding {
        crate::queue::release_slot(txn, &f).await?;
        if parse_state(&r.status) == RoundState::Closed {
            rolled_into = rounds::late_release(store, txn, actor, &r, f.id, now).await?;
        } else {
            promoted = allocate_round(txn, &r, now).await?;
        }
    }
    let v = load_view(txn, f.id).await?;
    let mut new = audit_value(&v);
    new["promoted"] = serde_json::json!(promoted);
    if let Some(rid) = rolled_into {
        new["rolled_into_round"] = serde_json::json!(rid);
    }
    audit::append(
        txn,
        actor,
        audit_action,
        "filing",
        Some(f.id.to_string()),
        Some(audit_value(&old)),
        Some(new),
        now,
    )
    .await?;
    Ok(v)
}

/// The institution withdraws its filing (submitted or returned); its slot goes to the next
/// waiting filing its institution's cap allows (R-FIL-6).
pub async fn withdraw_filing(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    act(
        store,
        actor,
        filing_id,
        &ClassAction::Withdraw,
        "filing.withdraw",
        None,
        now,
    )
    .await
}

/// The centre rejects a submitted filing (不予备案) with a reason; the slot is released and
/// promoted (R-FIL-5, R-FIL-6). The submitter never decides (S7).
pub async fn reject_filing(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    let action = ClassAction::Reject {
        reason: reason.to_string(),
    };
    act(
        store,
        actor,
        filing_id,
        &action,
        "filing.reject",
        Some(reason),
        now,
    )
    .await
}

/// Cancel a filing or class (sanction R-OVD-2 / violation R-VIO-2: centre_admin or the system),
/// with a reason; the slot is released and promoted.
pub async fn cancel_filing(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    cause: CancelCause,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    let action = ClassAction::Cancel {
        cause,
        reason: reason.to_string(),
    };
    act(
        store,
        actor,
        filing_id,
        &action,
        "filing.cancel",
        Some(reason),
        now,
    )
    .await
}

/// The centre returns a filing for correction, item by item (R-FIL-5); it keeps its slot and
/// its place (R-FIL-6).
pub async fn return_filing(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    items: Vec<CorrectionItem>,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    let summary = items
        .iter()
        .map(|i| format!("{}：{}", i.field.trim(), i.message.trim()))
        .collect::<Vec<_>>()
        .join("；");
    let action = ClassAction::ReturnForCorrection { items };
    act(
        store,
        actor,
        filing_id,
        &action,
        "filing.return",
        Some(&summary),
        now,
    )
    .await
}

/// The institution resubmits a returned filing; same slot, same place.
pub async fn resubmit_filing(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    act(
        store,
        actor,
        filing_id,
        &ClassAction::Resubmit,
        "filing.resubmit",
        None,
        now,
    )
    .await
}

/// The centre approves a filing that holds a slot (备案通过, R-FIL-5); the approver is never the
/// submitter (S7). A filing without a package is refused (`FIL_NO_PACKAGE`, issue 8).
pub async fn approve_filing(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    act(
        store,
        actor,
        filing_id,
        &ClassAction::Approve,
        "filing.approve",
        None,
        now,
    )
    .await
}

/// One filing: its institution's users and the centre, bureau and city.
pub async fn get_filing(store: &Store, viewer: &Actor, id: i64) -> Result<FilingView> {
    let v = load_view(store.db(), id).await?;
    if !crate::institutions::can_view(viewer, v.institution_id)
        || viewer.role == Some(peixun_domain::role::Role::Sysadmin)
    {
        return Err(StoreError::forbidden("无权查看该开班备案"));
    }
    Ok(v)
}

/// A round's filings the viewer may see, in queue order (institutions: their own).
pub async fn list_round_filings(
    store: &Store,
    viewer: &Actor,
    round_id: i64,
) -> Result<Vec<FilingView>> {
    if viewer.role == Some(peixun_domain::role::Role::Sysadmin) {
        return Err(StoreError::forbidden("无权查看开班备案"));
    }
    let scope = crate::institutions::institution_scope(viewer)
        .condition(filing::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看开班备案"))?;
    let rows = filing::Entity::find()
        .filter(filing::Column::RoundId.eq(round_id))
        .filter(scope)
        .order_by_asc(filing::Column::QueueSeq)
        .all(store.db())
        .await?;
    with_slots(store, round_id, rows, false).await
}

/// One page of [`list_round_filings`] (same scope, queue order), for the round's filings page.
/// The list is ordered by queue number, not id: only `page` is used (with `after_id` set the
/// first page is returned) and `next_after_id` is always `None`.
pub async fn list_round_filings_page(
    store: &Store,
    viewer: &Actor,
    round_id: i64,
    page: &PageRequest,
) -> Result<Page<FilingView>> {
    if viewer.role == Some(peixun_domain::role::Role::Sysadmin) {
        return Err(StoreError::forbidden("无权查看开班备案"));
    }
    let scope = crate::institutions::institution_scope(viewer)
        .condition(filing::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看开班备案"))?;
    let q = filing::Entity::find()
        .filter(filing::Column::RoundId.eq(round_id))
        .filter(scope);
    let total = q.clone().count(store.db()).await?;
    let limit = page.limit();
    let rows = q
        .order_by_asc(filing::Column::QueueSeq)
        .offset(page.offset())
        .limit(limit)
        .all(store.db())
        .await?;
    Ok(Page {
        items: with_slots(store, round_id, rows, true).await?,
        total,
        next_after_id: None,
        per_page: limit,
    })
}

/// The views of `rows` with their slot numbers; `page_only`: look up only these rows' slots
/// (a page: a short `IN` list), else all the round's slots (the whole list).
async fn with_slots(
    store: &Store,
    round_id: i64,
    rows: Vec<filing::Model>,
    page_only: bool,
) -> Result<Vec<FilingView>> {
    let mut q = quota_slot::Entity::find().filter(quota_slot::Column::RoundId.eq(round_id));
    if page_only {
        q = q.filter(quota_slot::Column::FilingId.is_in(rows.iter().map(|m| m.id)));
    }
    let slots: HashMap<i64, i32> = q
        .all(store.db())
        .await?
        .into_iter()
        .map(|s| (s.filing_id, s.slot_no))
        .collect();
    Ok(rows
        .into_iter()
        .map(|m| {
            let s = slots.get(&m.id).copied();
            to_view(m, s)
        })
        .collect())
}

/// The centre may act on filings (for pages deciding which buttons to show).
pub fn centre_may_decide(actor: &Actor) -> bool {
    is_centre(actor)
}

/// Whether a state is on the waiting list (候补).
pub fn is_waiting(state: &ClassState) -> bool {
    peixun_domain::workflow::round::is_waiting(state)
}

/// A filing's workflow state, inside the caller's transaction.
pub(crate) async fn load_state<C: sea_orm::ConnectionTrait>(db: &C, id: i64) -> Result<ClassState> {
    let m = filing::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "filing" })?;
    Ok(parse_class_state(&m.state))
}

/// One filing's view inside the caller's transaction (no access check: the caller made it).
pub(crate) async fn view_in<C: sea_orm::ConnectionTrait>(db: &C, id: i64) -> Result<FilingView> {
    load_view(db, id).await
}

/// The views of filings already read, their slot numbers in one query (a page of rows).
pub(crate) async fn views_of<C: sea_orm::ConnectionTrait>(
    db: &C,
    rows: &[filing::Model],
) -> Result<Vec<FilingView>> {
    let mut slots: HashMap<i64, i32> = HashMap::new();
    let ids: Vec<i64> = rows.iter().map(|f| f.id).collect();
    for chunk in ids.chunks(500) {
        for s in quota_slot::Entity::find()
            .filter(quota_slot::Column::FilingId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            slots.insert(s.filing_id, s.slot_no);
        }
    }
    Ok(rows
        .iter()
        .map(|m| to_view(m.clone(), slots.get(&m.id).copied()))
        .collect())
}
