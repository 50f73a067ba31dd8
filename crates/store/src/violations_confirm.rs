//! R-VIO-2: confirming or dismissing a recorded violation (centre_admin, never the recorder,
//! S7), and the preview of what confirming does.
//!
//! Confirming applies, in **one transaction**:
//! * the classes involved get no certificate codes; codes already issued to them are revoked
//!   with the violation as the reason (`certificates::revoke_class_codes`);
//! * every agreement of the institution is terminated at once through the one termination path
//!   ([`crate::termination::terminate_in_txn`], cause `violation`): pending filings cancelled,
//!   their slots released and given to the next waiting filings (or a closed round's rollover),
//!   classes in training flagged for the centre; a terminated agreement accepts no filing;
//! * a message in the institution's inbox, and audit rows for each change.
//!
//! Dismissing (不予认定) needs a reason and changes nothing else.

use crate::entity::agreement;
use crate::termination::{
    Termination, TerminationEffects, TerminationSource, lock_rounds_of, terminate_in_txn,
};
use crate::violations::{
    STATE_CONFIRMED, class_ids, get_violation, parse_kind, parse_state, to_views, violation,
};
use crate::workflow_glue::{is_centre, wf_actor, wf_err, with_retry};
use crate::{Actor, Backend, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Utc};
use peixun_domain::workflow::agreement::TerminationCause;
use peixun_domain::workflow::violation::{self as wf_violation, ViolationAction, ViolationState};
use peixun_domain::workflow::{self, TransitionError};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

/// Codes revoked for one class involved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodesRevoked {
    pub filing_id: i64,
    pub count: usize,
}

/// What confirming a violation does (or did).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationEffects {
    /// Agreements terminated, filings cancelled, classes flagged, waiting filings promoted.
    pub termination: TerminationEffects,
    /// The classes involved: no codes from now on.
    pub classes_without_codes: Vec<i64>,
    /// Codes already issued to them, revoked.
    pub codes_revoked: Vec<CodesRevoked>,
}

fn reason_of(m: &violation::Model) -> String {
    format!(
        "违法违规（{}，违规记录#{}）：即时中止履行培训协议，所涉班次不予发放合格证书编码（R-VIO-2）",
        parse_kind(&m.kind).label_zh(),
        m.id
    )
}

fn decision_err(e: TransitionError) -> StoreError {
    match e {
        TransitionError::SelfApproval => StoreError::validation(
            "VIO_SELF_DECISION",
            "登记人不能确认或不予认定本人登记的违法违规行为，须由另一名区培训中心负责人办理（R-VIO-2）",
            "id",
        ),
        TransitionError::ReasonRequired => {
            StoreError::validation("WF_REASON_REQUIRED", "不予认定须填写理由", "reason")
        }
        other => wf_err(other),
    }
}

async fn lock_violation(
    store: &Store,
    txn: &DatabaseTransaction,
    id: i64,
) -> Result<violation::Model> {
    let mut q = violation::Entity::find_by_id(id);
    if store.backend() == Backend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(txn).await?.ok_or(StoreError::NotFound {
        entity: "violation",
    })
}

/// R-VIO-2's consequences inside the caller's transaction (the violation already confirmed
/// in it, or a preview that is rolled back).
async fn apply_effects(
    store: &Store,
    txn: &DatabaseTransaction,
    actor: &Actor,
    m: &violation::Model,
    now: DateTime<Utc>,
) -> Result<ViolationEffects> {
    let reason = reason_of(m);
    let agreements = agreement::Entity::find()
        .filter(agreement::Column::InstitutionId.eq(m.institution_id))
        .order_by_asc(agreement::Column::Id)
        .all(txn)
        .await?;
    lock_rounds_of(store, txn, &agreements).await?;
    let t = Termination {
        cause: TerminationCause::Violation,
        reason: &reason,
        source: TerminationSource::Violation(m.id),
        wf: workflow::Actor::System,
    };
    let mut effects = ViolationEffects::default();
    for a in &agreements {
        effects
            .termination
            .extend(terminate_in_txn(store, txn, actor, a, &t, now).await?);
    }
    for fid in class_ids(txn, m.id).await? {
        effects.classes_without_codes.push(fid);
        let n = crate::certificates::revoke_class_codes(txn, fid, &reason, actor, now).await?;
        if n > 0 {
            effects.codes_revoked.push(CodesRevoked {
                filing_id: fid,
                count: n,
            });
        }
    }
    Ok(effects)
}

/// R-VIO-2: what confirming violation `id` would do now — computed by the same code as the
/// confirmation in a transaction that is rolled back, so it is exactly what confirming does
/// (as long as nothing changes in between). Centre only; the violation must be recorded.
pub async fn violation_effects_preview(
    store: &Store,
    viewer: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<ViolationEffects> {
    if !is_centre(viewer) {
        return Err(StoreError::forbidden(
            "只有区培训中心可以查看确认违规的后果",
        ));
    }
    let now = db_time(now);
    let txn = store.begin_write().await?;
    let m = lock_violation(store, &txn, id).await?;
    if parse_state(&m.state) != ViolationState::Recorded {
        txn.rollback().await?;
        return Err(StoreError::validation(
            "VIO_DECIDED",
            "该违规记录已处理",
            "id",
        ));
    }
    let mut am: violation::ActiveModel = m.clone().into();
    am.state = Set(STATE_CONFIRMED.to_string());
    am.update(&txn).await?;
    let effects = apply_effects(store, &txn, viewer, &m, now).await;
    txn.rollback().await?;
    effects
}

/// R-VIO-2: centre_admin (not the recorder, S7) confirms a recorded violation; its
/// consequences apply in the same transaction (see the module doc).
pub async fn confirm_violation(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<crate::violations::ViolationView> {
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let m = lock_violation(store, &txn, id).await?;
        let state = parse_state(&m.state);
        let new = wf_violation::apply(
            state,
            &ViolationAction::Confirm,
            &wf_actor(actor),
            m.recorded_by_user_id.unwrap_or(-1),
        )
        .map_err(decision_err)?;
        let mut am: violation::ActiveModel = m.clone().into();
        am.state = Set(new.code().to_string());
        am.confirmed_by = Set(Some(actor.username.clone()));
        am.confirmed_at = Set(Some(now));
        am.decided_by = Set(Some(actor.username.clone()));
        am.decided_by_user_id = Set(actor.user_id);
        am.decided_at = Set(Some(now));
        let m2 = am.update(&txn).await?;
        let effects = apply_effects(store, &txn, actor, &m2, now).await?;
        let mut am: violation::ActiveModel = m2.into();
        am.effects = Set(Some(serde_json::to_string(&effects).unwrap_or_default()));
        let m3 = am.update(&txn).await?;
        let te = &effects.termination;
        crate::overdue::inbox(
            &txn,
            m3.institution_id,
            "违法违规行为已确认，委托培训协议即时中止",
            &format!(
                "经区培训中心确认，本机构存在违法违规行为（{}，违规记录#{}）。依据R-VIO-2：即时中止履行培训协议{}份，不再受理开班备案；取消未开班的备案及班次{}个，名额已释放；培训中的班次{}个由区培训中心逐一决定；所涉班次{}个不予发放合格证书编码，已发放的编码{}个予以撤销。",
                parse_kind(&m3.kind).label_zh(),
                m3.id,
                te.agreements_terminated.len(),
                te.filings_cancelled.len(),
                te.classes_flagged.len(),
                effects.classes_without_codes.len(),
                effects.codes_revoked.iter().map(|c| c.count).sum::<usize>(),
            ),
            now,
        )
        .await?;
        audit::append(
            &txn,
            actor,
            "violation.confirm",
            "violation",
            Some(m3.id.to_string()),
            Some(serde_json::json!({"state": state.code()})),
            Some(serde_json::json!({"state": new.code(), "effects": effects})),
            now,
        )
        .await?;
        let v = to_views(&txn, actor, vec![m3])
            .await?
            .pop()
            .expect("one row");
        txn.commit().await?;
        Ok(v)
    })
}

/// R-VIO-2: centre_admin (not the recorder) dismisses a recorded violation (不予认定) with a
/// reason; nothing else changes.
pub async fn dismiss_violation(
    store: &Store,
    actor: &Actor,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<crate::violations::ViolationView> {
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let m = lock_violation(store, &txn, id).await?;
        let state = parse_state(&m.state);
        let new = wf_violation::apply(
            state,
            &ViolationAction::Dismiss {
                reason: reason.to_string(),
            },
            &wf_actor(actor),
            m.recorded_by_user_id.unwrap_or(-1),
        )
        .map_err(decision_err)?;
        let mut am: violation::ActiveModel = m.clone().into();
        am.state = Set(new.code().to_string());
        am.decided_by = Set(Some(actor.username.clone()));
        am.decided_by_user_id = Set(actor.user_id);
        am.decided_at = Set(Some(now));
        am.decision_reason = Set(Some(reason.trim().to_string()));
        let m2 = am.update(&txn).await?;
        audit::append(
            &txn,
            actor,
            "violation.dismiss",
            "violation",
            Some(m2.id.to_string()),
            Some(serde_json::json!({"state": state.code()})),
            Some(serde_json::json!({"state": new.code(), "reason": reason.trim()})),
            now,
        )
        .await?;
        let v = to_views(&txn, actor, vec![m2])
            .await?
            .pop()
            .expect("one row");
        txn.commit().await?;
        Ok(v)
    })
}

/// Whether `viewer` may confirm or dismiss violation `v` now (the page's buttons): centre_admin,
/// not the recorder, the violation recorded.
pub fn may_decide(viewer: &Actor, v: &crate::violations::ViolationView) -> bool {
    v.state == ViolationState::Recorded
        && viewer.role == Some(peixun_domain::role::Role::CentreAdmin)
        && !(viewer.user_id.is_some() && viewer.user_id == v.recorded_by_user_id)
}

/// Re-read a violation after an action, as `viewer` sees it.
pub async fn reload(
    store: &Store,
    viewer: &Actor,
    id: i64,
) -> Result<crate::violations::ViolationView> {
    get_violation(store, viewer, id).await
}
