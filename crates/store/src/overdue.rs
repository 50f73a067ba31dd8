//! Overdue classes and the overdue sanction (R-OVD-1, R-OVD-2).
//!
//! * [`sweep`] is the daily job's work, a function of (store, today): every class not complete
//!   by its last day (start + 30) becomes overdue (`MarkOverdue`, as the system), one
//!   transaction per class, so a re-run finds nothing left to do. The class loses its subsidy
//!   and counts in the year of its last day ([`note_overdue`], also called when a completion
//!   after the last day makes a class overdue before the sweep saw it).
//! * At the 4th overdue class of an institution in a year the system raises the sanction
//!   ([`raise_on_overdue`]), once per (institution, year) — UNIQUE in the table.
//! * centre_admin confirms ([`confirm_sanction`]) or dismisses it with a reason. Confirming
//!   applies it in **one transaction**: the institution's agreements of that year terminated,
//!   its pending filings and unstarted classes cancelled with their slots released (and given
//!   to the next waiting filings, R-FIL-6, or to the rollover of a closed H1 round, R-PLAN-3),
//!   its running classes flagged for the centre to decide one by one ([`decide_flag`]), a
//!   message in its inbox, and an audit row for each change.

use crate::entity::{
    agreement, class_flag, class_progress, filing, inbox_message, overdue_sanction, round,
};
use crate::filings::parse_class_state;
use crate::institutions::Scope;
use crate::running::{
    ClassView, class_ctx, class_scope, load_for_action, load_progress, save_progress, save_state,
    views,
};
use crate::termination::{
    Termination, TerminationEffects, TerminationSource, cancel_in_txn, give_away, lock_rounds_of,
    terminate_in_txn,
};
use crate::workflow_glue::{lock_round, today, wf_actor, wf_err, with_retry};
use crate::{Actor, Backend, Page, PageRequest, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use peixun_domain::calendar::last_allowed_day;
use peixun_domain::role::Role;
use peixun_domain::workflow::agreement::TerminationCause;
use peixun_domain::workflow::class::{self as wf_class, CancelCause, ClassAction};
use peixun_domain::workflow::sanction::{
    self as wf_sanction, SanctionAction, SanctionState, raise_on_overdue,
};
use peixun_domain::workflow::{self, TransitionError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The actor the sweep and the sanction's effects are recorded under.
pub fn sweep_actor() -> Actor {
    Actor::system("overdue-sweep")
}

pub(crate) async fn inbox(
    txn: &DatabaseTransaction,
    institution_id: i64,
    title: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    inbox_message::ActiveModel {
        institution_id: Set(institution_id),
        title: Set(title.to_string()),
        body: Set(body.to_string()),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// R-OVD-1/2: class `f` just became overdue (on `day`). Count it in the year of its last day;
/// raise the sanction at the (limit + 1)-th. Idempotent per class. Returns the sanction raised.
pub(crate) async fn note_overdue(
    txn: &DatabaseTransaction,
    f: &filing::Model,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    // R-POL-1: the class's window is its filing's version; the overdue limit is the version in
    // force on the day the class became overdue (the day the sanction would be raised).
    let class_policy = crate::policies::by_version(txn, &f.policy_version).await?;
    let policy = crate::policies::in_force(txn, day).await?;
    let last_day = last_allowed_day(f.start_date, &class_policy)
        .map_err(|e| StoreError::validation("CALENDAR", e.to_string(), "start_date"))?;
    let year = last_day.year();
    if load_progress(txn, f.id)
        .await?
        .is_some_and(|p| p.overdue_year.is_some())
    {
        return Ok(None);
    }
    let prior = class_progress::Entity::find()
        .filter(class_progress::Column::InstitutionId.eq(f.institution_id))
        .filter(class_progress::Column::OverdueYear.eq(year))
        .filter(class_progress::Column::FilingId.ne(f.id))
        .count(txn)
        .await? as u32;
    save_progress(
        txn,
        f,
        |p| {
            p.overdue_on = Some(day);
            p.overdue_year = Some(year);
            p.policy_version = Some(class_policy.version.clone());
        },
        now,
    )
    .await?;
    let (tally, raised) = raise_on_overdue(prior, year, &policy);
    inbox(
        txn,
        f.institution_id,
        "班次超期未完成",
        &format!(
            "班次#{}（{}{}，开班{}）未在最迟完成日期{}前完成培训及考试，已超期，不享受该班次相关补贴（R-OVD-1）。本机构{}年超期班次累计{}个；同年超过{}个将取消当年的所有培训资格。",
            f.id,
            f.occupation,
            f.level,
            f.start_date,
            last_day,
            year,
            tally.count,
            policy.overdue_limit_per_year
        ),
        now,
    )
    .await?;
    let Some(r) = raised else {
        return Ok(None);
    };
    let exists = overdue_sanction::Entity::find()
        .filter(overdue_sanction::Column::InstitutionId.eq(f.institution_id))
        .filter(overdue_sanction::Column::Year.eq(year))
        .one(txn)
        .await?;
    if exists.is_some() {
        return Ok(None);
    }
    let m = overdue_sanction::ActiveModel {
        institution_id: Set(f.institution_id),
        year: Set(year),
        count: Set(r.count as i32),
        trigger_filing_id: Set(f.id),
        state: Set(r.state.code().to_string()),
        raised_at: Set(now),
        decided_by: Set(None),
        decided_by_user_id: Set(None),
        decided_at: Set(None),
        reason: Set(None),
        effects: Set(None),
        policy_version: Set(policy.version.clone()),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| crate::map_unique(e, "OVD_SANCTION_EXISTS", "该机构当年已有超期处理", "year"))?;
    audit::append(
        txn,
        &sweep_actor(),
        "sanction.raise",
        "sanction",
        Some(m.id.to_string()),
        None,
        Some(serde_json::json!({
            "institution_id": f.institution_id,
            "year": year,
            "count": r.count,
            "trigger_filing_id": f.id,
            "state": r.state.code(),
            "policy_version": policy.version,
        })),
        now,
    )
    .await?;
    Ok(Some(m.id))
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepOutcome {
    pub today: Option<NaiveDate>,
    /// Classes marked overdue now.
    pub marked: Vec<i64>,
    /// Sanctions raised now.
    pub sanctions_raised: Vec<i64>,
}

/// R-OVD-1: mark every class not complete by its last day overdue, as of `today` (Asia/Shanghai;
/// injected by tests and the job). Idempotent: a class already overdue is not a candidate.
pub async fn sweep(store: &Store, day: NaiveDate, now: DateTime<Utc>) -> Result<SweepOutcome> {
    let now = db_time(now);
    // last_day = start + window < day  ⇔  start < day − window. Classes follow their filing's
    // version (R-POL-1): the smallest window of any version finds every candidate; the
    // workflow then checks each class against its own window.
    let book = crate::policies::PolicyHistory::load(store.db()).await?;
    let window = book.min_of(|p| p.class_window_days).unwrap_or(0);
    let cutoff = day - Duration::days(i64::from(window));
    let candidates: Vec<i64> = filing::Entity::find()
        .select_only()
        .column(filing::Column::Id)
        .filter(filing::Column::Status.is_in([
            "approved",
            "roster_review",
            "in_training",
            "training_complete",
        ]))
        .filter(filing::Column::StartDate.lt(cutoff))
        .order_by_asc(filing::Column::Id)
        .into_tuple()
        .all(store.db())
        .await?;
    let mut out = SweepOutcome {
        today: Some(day),
        ..Default::default()
    };
    let actor = sweep_actor();
    for id in candidates {
        let r: Result<Option<Option<i64>>> = with_retry!({
            let txn = store.begin_write().await?;
            let f = load_for_action(store, &txn, &actor, id).await?;
            let state = parse_class_state(&f.state);
            let policy = crate::policies::by_version(&txn, &f.policy_version).await?;
            let ctx = class_ctx(&txn, &f, day, &policy).await?;
            let new_state = match wf_class::apply(
                &state,
                &ClassAction::MarkOverdue,
                &workflow::Actor::System,
                &ctx,
            ) {
                Ok(s) => s,
                // Moved on meanwhile (completed, cancelled) or not yet overdue: nothing to do.
                Err(
                    TransitionError::InvalidTransition { .. } | TransitionError::NotOverdue { .. },
                ) => {
                    return Ok(None);
                }
                Err(e) => return Err(wf_err(e)),
            };
            let f2 = save_state(&txn, &f, &new_state, now).await?;
            audit::append(
                &txn,
                &actor,
                "class.mark_overdue",
                "class",
                Some(f.id.to_string()),
                Some(serde_json::json!({"status": state.code()})),
                Some(serde_json::json!({"status": new_state.code(), "as_of": day})),
                now,
            )
            .await?;
            let raised = note_overdue(&txn, &f2, day, now).await?;
            txn.commit().await?;
            Ok(Some(raised))
        });
        if let Some(raised) = r? {
            out.marked.push(id);
            out.sanctions_raised.extend(raised);
        }
    }
    Ok(out)
}

/// The job name of the daily sweep; its period is the Asia/Shanghai date.
pub const SWEEP_JOB: &str = "overdue_sweep";

/// One tick of the daily job on `now`: claim `(overdue_sweep, today)` for `holder` and, when
/// this server won it, sweep. A missed day needs no catch-up of its own: the sweep of today marks
/// every class whose last day is before today. `None` when another run had the day.
pub async fn sweep_tick(
    store: &Store,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Option<SweepOutcome>> {
    let day = today(now);
    let period = day.to_string();
    if !crate::jobs::try_claim_run(store, SWEEP_JOB, &period, holder, now).await? {
        return Ok(None);
    }
    let out = sweep(store, day, now).await;
    let outcome = match &out {
        Ok(o) => serde_json::to_value(o).unwrap_or_default(),
        Err(e) => serde_json::json!({"error": e.code()}),
    };
    crate::jobs::finish_run(store, SWEEP_JOB, &period, holder, &outcome, now).await?;
    out.map(Some)
}

/// centre_admin runs the sweep now (for demos and tests), audited; `day` is today.
pub async fn run_sweep_now(
    store: &Store,
    actor: &Actor,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<SweepOutcome> {
    if actor.role != Some(Role::CentreAdmin) {
        return Err(StoreError::forbidden(
            "只有区培训中心负责人可以手动执行超期检查",
        ));
    }
    let out = sweep(store, day, now).await?;
    audit::record(
        store,
        actor,
        "overdue.sweep_manual",
        "job",
        Some(format!("overdue_sweep:{day}")),
        serde_json::to_value(&out).unwrap_or_default(),
        now,
    )
    .await?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Sanctions
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanctionView {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub year: i32,
    pub count: i32,
    pub trigger_filing_id: i64,
    pub state: SanctionState,
    pub state_label: String,
    pub raised_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub effects: Option<SanctionEffects>,
    /// The policy version whose overdue limit raised it (R-POL-1).
    pub policy_version: String,
    /// `SanctionActionKind::code` of what the viewer's role may do now.
    pub actions: Vec<String>,
}

/// What applying a sanction did (the termination path's effects, [`crate::termination`]).
pub type SanctionEffects = TerminationEffects;

fn parse_sanction_state(s: &str) -> SanctionState {
    match s {
        "confirmed" => SanctionState::Confirmed,
        "applied" => SanctionState::Applied,
        "dismissed" => SanctionState::Dismissed,
        _ => SanctionState::Raised,
    }
}

fn sanction_view(m: overdue_sanction::Model, name: String, viewer: &Actor) -> SanctionView {
    let state = parse_sanction_state(&m.state);
    SanctionView {
        id: m.id,
        institution_id: m.institution_id,
        institution_name: name,
        year: m.year,
        count: m.count,
        trigger_filing_id: m.trigger_filing_id,
        state,
        state_label: state.label_zh().to_string(),
        raised_at: m.raised_at,
        decided_by: m.decided_by,
        decided_at: m.decided_at,
        reason: m.reason,
        effects: m.effects.and_then(|e| serde_json::from_str(&e).ok()),
        policy_version: m.policy_version,
        actions: viewer
            .role
            .map(|r| {
                wf_sanction::allowed_actions(state, r)
                    .into_iter()
                    .map(|k| k.code().to_string())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Sanctions the viewer may see, newest first (`open_only`: still to confirm).
pub async fn list_sanctions(
    store: &Store,
    viewer: &Actor,
    open_only: bool,
    page: &PageRequest,
) -> Result<Page<SanctionView>> {
    let scope = class_scope(viewer)
        .condition(overdue_sanction::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看超期处理"))?;
    let mut q = overdue_sanction::Entity::find().filter(scope);
    if open_only {
        q = q.filter(overdue_sanction::Column::State.eq(SanctionState::Raised.code()));
    }
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(overdue_sanction::Column::Id.lt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_desc(overdue_sanction::Column::Id)
        .offset(page.offset())
        .limit(limit + 1)
        .all(store.db())
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_after_id = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let names =
        crate::rounds::institution_names(store.db(), rows.iter().map(|r| r.institution_id)).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|m| {
                let n = names.get(&m.institution_id).cloned().unwrap_or_default();
                sanction_view(m, n, viewer)
            })
            .collect(),
        total,
        next_after_id,
        per_page: limit,
    })
}

/// One sanction (S6).
pub async fn get_sanction(store: &Store, viewer: &Actor, id: i64) -> Result<SanctionView> {
    let m = overdue_sanction::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "sanction" })?;
    if !class_scope(viewer).allows(m.institution_id) {
        return Err(StoreError::forbidden("无权查看该超期处理"));
    }
    let name = crate::rounds::institution_names(store.db(), [m.institution_id])
        .await?
        .remove(&m.institution_id)
        .unwrap_or_default();
    Ok(sanction_view(m, name, viewer))
}

async fn lock_sanction(
    store: &Store,
    txn: &DatabaseTransaction,
    id: i64,
) -> Result<overdue_sanction::Model> {
    let mut q = overdue_sanction::Entity::find_by_id(id);
    if store.backend() == Backend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "sanction" })
}

/// R-OVD-2: centre_admin confirms a raised sanction; it is applied in the same transaction
/// (see the module doc). The audit log gets the confirmation with its effects, and a row for
/// each agreement terminated and each filing cancelled.
pub async fn confirm_sanction(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<SanctionView> {
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let s = lock_sanction(store, &txn, id).await?;
        let state = parse_sanction_state(&s.state);
        let confirmed = wf_sanction::apply(state, &SanctionAction::Confirm, &wf_actor(actor))
            .map_err(wf_err)?;
        // The limit of the version that raised it (R-POL-1).
        let limit = crate::policies::by_version(&txn, &s.policy_version)
            .await?
            .overdue_limit_per_year;
        let reason = format!(
            "{}年超期班次{}个，超过{}个，取消当年的所有培训资格（R-OVD-2，政策版本{}）",
            s.year, s.count, limit, s.policy_version
        );
        // The institution's agreements under rounds of that year; lock their rounds in id order.
        let year_rounds: Vec<i64> = round::Entity::find()
            .select_only()
            .column(round::Column::Id)
            .filter(round::Column::Year.eq(s.year))
            .order_by_asc(round::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        let agreements = agreement::Entity::find()
            .filter(agreement::Column::InstitutionId.eq(s.institution_id))
            .filter(agreement::Column::RoundId.is_in(year_rounds.clone()))
            .order_by_asc(agreement::Column::Id)
            .all(&txn)
            .await?;
        lock_rounds_of(store, &txn, &agreements).await?;
        // One termination path (R-AGR-1): each agreement of that year terminated and wound
        // down; an agreement already terminated is only wound down.
        let mut effects = SanctionEffects::default();
        let t = Termination {
            cause: TerminationCause::OverdueSanction,
            reason: &reason,
            source: TerminationSource::Sanction(s.id),
            wf: workflow::Actor::System,
        };
        for a in &agreements {
            effects.extend(terminate_in_txn(store, &txn, actor, a, &t, now).await?);
        }
        let system = workflow::Actor::System;
        let applied =
            wf_sanction::apply(confirmed, &SanctionAction::MarkApplied, &system).map_err(wf_err)?;
        let m = overdue_sanction::ActiveModel {
            id: Set(s.id),
            state: Set(applied.code().to_string()),
            decided_by: Set(Some(actor.username.clone())),
            decided_by_user_id: Set(actor.user_id),
            decided_at: Set(Some(now)),
            reason: Set(Some(reason.clone())),
            effects: Set(Some(serde_json::to_string(&effects).unwrap_or_default())),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        inbox(
            &txn,
            s.institution_id,
            &format!("取消{}年培训资格", s.year),
            &format!(
                "{reason}。已中止协议{}份，取消开班备案及未开班班次{}个；培训中的班次{}个由区培训中心逐一决定。",
                effects.agreements_terminated.len(),
                effects.filings_cancelled.len(),
                effects.classes_flagged.len()
            ),
            now,
        )
        .await?;
        audit::append(
            &txn,
            actor,
            "sanction.confirm",
            "sanction",
            Some(s.id.to_string()),
            Some(serde_json::json!({"state": state.code()})),
            Some(serde_json::json!({"state": applied.code(), "effects": effects})),
            now,
        )
        .await?;
        let name = crate::rounds::institution_names(&txn, [m.institution_id])
            .await?
            .remove(&m.institution_id)
            .unwrap_or_default();
        txn.commit().await?;
        Ok(sanction_view(m, name, actor))
    })
}

/// centre_admin dismisses a raised sanction (不予处理) with a reason.
pub async fn dismiss_sanction(
    store: &Store,
    actor: &Actor,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<SanctionView> {
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let s = lock_sanction(store, &txn, id).await?;
        let state = parse_sanction_state(&s.state);
        let new = wf_sanction::apply(
            state,
            &SanctionAction::Dismiss {
                reason: reason.to_string(),
            },
            &wf_actor(actor),
        )
        .map_err(|e| match e {
            TransitionError::ReasonRequired => {
                StoreError::validation("WF_REASON_REQUIRED", "请填写不予处理的理由", "reason")
            }
            other => wf_err(other),
        })?;
        let m = overdue_sanction::ActiveModel {
            id: Set(s.id),
            state: Set(new.code().to_string()),
            decided_by: Set(Some(actor.username.clone())),
            decided_by_user_id: Set(actor.user_id),
            decided_at: Set(Some(now)),
            reason: Set(Some(reason.trim().to_string())),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        audit::append(
            &txn,
            actor,
            "sanction.dismiss",
            "sanction",
            Some(s.id.to_string()),
            Some(serde_json::json!({"state": state.code()})),
            Some(serde_json::json!({"state": new.code(), "reason": reason.trim()})),
            now,
        )
        .await?;
        let name = crate::rounds::institution_names(&txn, [m.institution_id])
            .await?
            .remove(&m.institution_id)
            .unwrap_or_default();
        txn.commit().await?;
        Ok(sanction_view(m, name, actor))
    })
}

// ---------------------------------------------------------------------------------------------
// Flagged running classes
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagView {
    pub id: i64,
    pub filing_id: i64,
    pub institution_id: i64,
    pub sanction_id: i64,
    pub flagged_at: DateTime<Utc>,
    /// `continue` / `cancel`.
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

fn flag_view(m: class_flag::Model) -> FlagView {
    FlagView {
        id: m.id,
        filing_id: m.filing_id,
        institution_id: m.institution_id,
        sanction_id: m.sanction_id,
        flagged_at: m.flagged_at,
        decision: m.decision,
        decision_reason: m.decision_reason,
        decided_by: m.decided_by,
        decided_at: m.decided_at,
    }
}

/// The flagged classes the viewer may see (`open_only`: undecided).
pub async fn list_flags(store: &Store, viewer: &Actor, open_only: bool) -> Result<Vec<FlagView>> {
    let scope = class_scope(viewer)
        .condition(class_flag::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看"))?;
    let mut q = class_flag::Entity::find().filter(scope);
    if open_only {
        q = q.filter(class_flag::Column::DecidedAt.is_null());
    }
    Ok(q.order_by_asc(class_flag::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(flag_view)
        .collect())
}

/// The centre's decision on one flagged class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagDecision {
    /// 允许继续完成培训
    Continue,
    /// 取消该班次
    Cancel,
}

impl FlagDecision {
    pub fn code(self) -> &'static str {
        match self {
            FlagDecision::Continue => "continue",
            FlagDecision::Cancel => "cancel",
        }
    }
}

/// R-OVD-2: centre_admin decides one running class flagged by a sanction, with a reason:
/// let it finish, or cancel it (its slot released and given away).
pub async fn decide_flag(
    store: &Store,
    actor: &Actor,
    flag_id: i64,
    decision: FlagDecision,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<FlagView> {
    if actor.role != Some(Role::CentreAdmin) {
        return Err(StoreError::forbidden("只有区培训中心负责人可以决定"));
    }
    if reason.trim().is_empty() {
        return Err(StoreError::validation(
            "WF_REASON_REQUIRED",
            "请填写理由",
            "reason",
        ));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let fl = class_flag::Entity::find_by_id(flag_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "flag" })?;
        if fl.decided_at.is_some() {
            return Err(StoreError::conflict(
                "OVD_FLAG_DECIDED",
                "该班次已作出决定",
                "id",
            ));
        }
        let f0 = load_for_action(store, &txn, actor, fl.filing_id).await?;
        if decision == FlagDecision::Cancel {
            lock_round(store, &txn, f0.round_id).await?;
            let f = load_for_action(store, &txn, actor, fl.filing_id).await?;
            if cancel_in_txn(
                &txn,
                actor,
                &wf_actor(actor),
                &f,
                CancelCause::OverdueSanction,
                reason,
                now,
            )
            .await?
            {
                give_away(store, &txn, actor, f.round_id, &[f.id], now).await?;
            }
        }
        let m = class_flag::ActiveModel {
            id: Set(fl.id),
            decision: Set(Some(decision.code().to_string())),
            decision_reason: Set(Some(reason.trim().to_string())),
            decided_by: Set(Some(actor.username.clone())),
            decided_at: Set(Some(now)),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        audit::append(
            &txn,
            actor,
            "sanction.decide_class",
            "class",
            Some(fl.filing_id.to_string()),
            None,
            Some(serde_json::json!({
                "flag_id": fl.id,
                "decision": decision.code(),
                "reason": reason.trim(),
            })),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(flag_view(m))
    })
}

// ---------------------------------------------------------------------------------------------
// Overdue list
// ---------------------------------------------------------------------------------------------

/// The overdue classes the viewer may see, counted in `year` (all years when `None`), by id.
pub async fn list_overdue(
    store: &Store,
    viewer: &Actor,
    year: Option<i32>,
    page: &PageRequest,
    now: DateTime<Utc>,
) -> Result<Page<ClassView>> {
    let scope = class_scope(viewer);
    let cond = scope
        .condition(class_progress::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看超期班次"))?;
    let mut q = class_progress::Entity::find()
        .filter(cond)
        .filter(class_progress::Column::OverdueYear.is_not_null());
    if let Some(y) = year {
        q = q.filter(class_progress::Column::OverdueYear.eq(y));
    }
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(class_progress::Column::FilingId.gt(after));
    }
    let limit = page.limit();
    let mut ids: Vec<i64> = q
        .select_only()
        .column(class_progress::Column::FilingId)
        .order_by_asc(class_progress::Column::FilingId)
        .offset(page.offset())
        .limit(limit + 1)
        .into_tuple()
        .all(store.db())
        .await?;
    let more = ids.len() as u64 > limit;
    ids.truncate(limit as usize);
    let rows = filing::Entity::find()
        .filter(filing::Column::Id.is_in(ids.clone()))
        .order_by_asc(filing::Column::Id)
        .all(store.db())
        .await?;
    let next_after_id = if more { ids.last().copied() } else { None };
    Ok(Page {
        items: views(store.db(), rows, today(now)).await?,
        total,
        next_after_id,
        per_page: limit,
    })
}

/// Overdue classes per (institution, year) the viewer may see: for the home page and reports.
pub async fn overdue_counts<C: ConnectionTrait>(
    db: &C,
    scope: Scope,
    year: i32,
) -> Result<BTreeMap<i64, u32>> {
    let Some(cond) = scope.condition(class_progress::Column::InstitutionId) else {
        return Ok(BTreeMap::new());
    };
    let rows: Vec<i64> = class_progress::Entity::find()
        .select_only()
        .column(class_progress::Column::InstitutionId)
        .filter(cond)
        .filter(class_progress::Column::OverdueYear.eq(year))
        .into_tuple()
        .all(db)
        .await?;
    let mut out = BTreeMap::new();
    for i in rows {
        *out.entry(i).or_insert(0) += 1;
    }
    Ok(out)
}

/// R-OVD-2: institution `institution_id` lost its training qualification for `year` (a sanction
/// of that year confirmed or applied): it can neither apply nor sign for a round of that year.
pub async fn sanctioned_in_year<C: ConnectionTrait>(
    db: &C,
    institution_id: i64,
    year: i32,
) -> Result<bool> {
    Ok(overdue_sanction::Entity::find()
        .filter(overdue_sanction::Column::InstitutionId.eq(institution_id))
        .filter(overdue_sanction::Column::Year.eq(year))
        .filter(overdue_sanction::Column::State.is_in([
            SanctionState::Confirmed.code(),
            SanctionState::Applied.code(),
        ]))
        .count(db)
        .await?
        > 0)
}

/// The error [`sanctioned_in_year`] refuses with (R-OVD-2).
pub(crate) async fn refuse_if_sanctioned<C: ConnectionTrait>(
    db: &C,
    institution_id: i64,
    year: i32,
    field: &str,
) -> Result<()> {
    if sanctioned_in_year(db, institution_id, year).await? {
        return Err(StoreError::validation(
            "OVD_SANCTIONED",
            format!(
                "该机构{year}年超期班次超过规定次数，已被取消当年的所有培训资格（R-OVD-2），不能申报或签订{year}年的委托培训协议"
            ),
            field,
        ));
    }
    Ok(())
}
