//! A trainee's full ID number on purpose (R-PII-1, SECURITY.md S13): the same rule as a
//! teacher's ([`crate::teachers::reveal_id_number`]). Only those who may write the trainee's
//! class may (the centre's admin and staff, the class's own institution's admin and staff);
//! a reason is required (≤ 2,000 characters) and audited; the audit row never holds the number.

use super::entry;
use crate::filing_package::package;
use crate::pii::Field;
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;

/// Longest reason accepted.
pub const MAX_REASON_CHARS: usize = 2000;

/// May `actor` see the full ID numbers of the trainees of a class of `institution_id`?
/// The centre (admin, staff) and the class's own institution (admin, staff); bureau, city,
/// sysadmin and auditor read masked numbers only (R-PII-1, S7, S13).
pub fn can_reveal_id_number(actor: &Actor, institution_id: i64) -> bool {
    match actor.role {
        None => actor.is_system(),
        Some(r) if r.is_centre() => true,
        Some(r) if r.is_institution() => actor.institution_id == Some(institution_id),
        Some(_) => false,
    }
}

/// The reason, trimmed and checked: required, at most [`MAX_REASON_CHARS`] characters.
pub(crate) fn clean_reason(reason: &str) -> Result<&str> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(StoreError::validation(
            "REASON_REQUIRED",
            "查看完整身份证号码须填写理由",
            "reason",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(StoreError::validation(
            "REASON_TOO_LONG",
            format!("理由不能超过{MAX_REASON_CHARS}个字"),
            "reason",
        ));
    }
    Ok(reason)
}

/// Show roster entry `entry_id`'s full ID number, with a reason; audited as
/// `trainee.reveal_id_number` (R-PII-1, S13). Permission is checked before the reason: a viewer
/// who may not reveal gets `Forbidden` whatever the reason.
pub async fn reveal_id_number(
    store: &Store,
    actor: &Actor,
    entry_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let forbidden = || StoreError::forbidden("无权查看完整身份证号码");
    let role_may_reveal = match actor.role {
        None => actor.is_system(),
        Some(r) => r.is_centre() || r.is_institution(),
    };
    if !role_may_reveal {
        return Err(forbidden());
    }
    let keys = store.keys()?;
    let now = db_time(now);
    let txn = store.begin_write().await?;
    let e = entry::Entity::find_by_id(entry_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "trainee" })?;
    let p = package::Entity::find_by_id(e.package_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "trainee" })?;
    if !can_reveal_id_number(actor, p.institution_id) {
        return Err(forbidden());
    }
    let reason = clean_reason(reason)?;
    let number = if e.id_number.starts_with(crate::pii::FIELD_PREFIX) {
        keys.data
            .decrypt_field(Field::TraineeIdNumber, &e.id_number)?
    } else {
        e.id_number.clone()
    };
    audit::append(
        &txn,
        actor,
        "trainee.reveal_id_number",
        "roster_entry",
        Some(entry_id.to_string()),
        None,
        Some(serde_json::json!({
            "reason": reason,
            "package_id": p.id,
            "id_number_masked": super::masked_of(&e),
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(number)
}

/// One trainee for the reveal page: the masked view and the class it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TraineeRef {
    pub trainee: super::TraineeView,
    pub package_id: i64,
    pub institution_id: i64,
    /// On a roster change awaiting the centre.
    pub pending: bool,
}

/// Roster entry `entry_id`, masked, for someone who may reveal it ([`can_reveal_id_number`]);
/// `Forbidden` otherwise (S6), `NotFound` for an unknown id.
pub async fn get_trainee(store: &Store, viewer: &Actor, entry_id: i64) -> Result<TraineeRef> {
    let e = entry::Entity::find_by_id(entry_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "trainee" })?;
    let p = package::Entity::find_by_id(e.package_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "trainee" })?;
    if !can_reveal_id_number(viewer, p.institution_id) {
        return Err(StoreError::forbidden("无权查看完整身份证号码"));
    }
    let pending = e.pending;
    Ok(TraineeRef {
        trainee: super::to_view(e),
        package_id: p.id,
        institution_id: p.institution_id,
        pending,
    })
}
