//! The audit log (SPEC R-AUD-1, SECURITY.md S10–S11).
//!
//! Append-only: this module has no update or delete path, and a trigger on both backends refuses
//! `UPDATE` and `DELETE` (PostgreSQL also `TRUNCATE`). Each row carries
//! `hash = sha256(prev_hash || "\n" || canonical(row))`, the first row's `prev_hash` being 64 zeros,
//! and ids are consecutive (previous id + 1), so an edit, a deletion or a reordering breaks
//! [`verify`].
//!
//! Appends are serialised: on SQLite every write transaction already holds the single write lock
//! (`BEGIN IMMEDIATE` on the one writer connection); on PostgreSQL [`append`] takes
//! `pg_advisory_xact_lock` before reading the chain head. Call `append` as the **last** statement
//! of a write transaction, so the lock is held only briefly.

use crate::entity::audit_log;
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, db_time};
use chrono::{DateTime, SecondsFormat, Utc};
use peixun_domain::role::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The advisory-lock key that serialises audit appends on PostgreSQL.
const PG_AUDIT_LOCK: i64 = 0x7065_6978_756e_0002;

/// One audit entry as shown to the auditor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: String,
    pub role: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub old_value: Option<serde_json::Value>,
    pub new_value: Option<serde_json::Value>,
    pub hash: String,
}

/// Search filter; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub username: Option<String>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The result of a successful [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub rows_checked: u64,
    pub last_hash: String,
}

/// The first entry at which the chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("audit entry {id}: {reason}")]
pub struct AuditBreak {
    pub id: i64,
    pub reason: String,
}

/// The canonical timestamp format used in the hash: RFC 3339, UTC, microseconds, `Z`.
pub fn canonical_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The hash of a row given its predecessor's hash. The row's fields are serialised as a JSON
/// array in a fixed order (strings escaped by serde_json; `old_value`/`new_value` hashed as the
/// stored JSON text).
pub fn row_hash(prev_hash: &str, m: &audit_log::Model) -> String {
    let canonical = serde_json::json!([
        m.id,
        canonical_time(m.at),
        m.user_id,
        m.username,
        m.role,
        m.ip,
        m.request_id,
        m.action,
        m.target_type,
        m.target_id,
        m.old_value,
        m.new_value,
    ]);
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// Append one entry inside the caller's write transaction (see the module doc). Returns its id.
#[allow(clippy::too_many_arguments)]
pub async fn append(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &str,
    target_type: &str,
    target_id: Option<String>,
    old: Option<serde_json::Value>,
    new: Option<serde_json::Value>,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PG_AUDIT_LOCK})"))
            .await?;
    }
    let head = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .limit(1)
        .one(txn)
        .await?;
    let (id, prev_hash) = match head {
        Some(h) => (h.id + 1, h.hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let mut model = audit_log::Model {
        id,
        at: db_time(now),
        user_id: actor.user_id,
        username: actor.username.clone(),
        role: actor.role.map(|r| r.code().to_string()),
        ip: actor.ip.clone(),
        request_id: actor.request_id.clone(),
        action: action.to_string(),
        target_type: target_type.to_string(),
        target_id,
        old_value: old.map(|v| v.to_string()),
        new_value: new.map(|v| v.to_string()),
        prev_hash,
        hash: String::new(),
    };
    model.hash = row_hash(&model.prev_hash, &model);
    let am: audit_log::ActiveModel = model.into();
    let am = sea_orm::ActiveModelTrait::reset_all(am);
    am.insert(txn).await?;
    Ok(id)
}

/// Record an event that changes no record (an export, a download, a logout): one write
/// transaction holding just its audit row, committed before the caller goes on (S10). `detail`
/// becomes the row's `new_value`. Returns the row's id.
pub async fn record(
    store: &Store,
    actor: &Actor,
    action: &str,
    target_type: &str,
    target_id: Option<String>,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64> {
    let txn = store.begin_write().await?;
    let id = append(
        &txn,
        actor,
        action,
        target_type,
        target_id,
        None,
        Some(detail),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

fn to_entry(m: audit_log::Model) -> AuditEntry {
    let parse = |s: Option<String>| {
        s.map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)))
    };
    AuditEntry {
        id: m.id,
        at: m.at,
        user_id: m.user_id,
        username: m.username,
        role: m.role,
        ip: m.ip,
        request_id: m.request_id,
        action: m.action,
        target_type: m.target_type,
        target_id: m.target_id,
        old_value: parse(m.old_value),
        new_value: parse(m.new_value),
        hash: m.hash,
    }
}

fn may_read(viewer: &Actor) -> Result<()> {
    if viewer.is_system() || viewer.role == Some(Role::Auditor) {
        Ok(())
    } else {
        Err(StoreError::forbidden("只有审计管理员可以查看审计日志"))
    }
}

fn filtered(filter: &AuditFilter) -> sea_orm::Select<audit_log::Entity> {
    let mut q = audit_log::Entity::find();
    if let Some(u) = filter.username.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_log::Column::Username.eq(u));
    }
    if let Some(a) = filter.action.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_log::Column::Action.eq(a));
    }
    if let Some(t) = filter.target_type.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_log::Column::TargetType.eq(t));
    }
    if let Some(t) = filter.target_id.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_log::Column::TargetId.eq(t));
    }
    if let Some(from) = filter.from {
        q = q.filter(audit_log::Column::At.gte(db_time(from)));
    }
    if let Some(to) = filter.to {
        q = q.filter(audit_log::Column::At.lt(db_time(to)));
    }
    q
}

/// Up to `limit` entries older than `before_id` (all when `None`), newest first, without a
/// count: what a streamed export reads page by page (keyset on the id).
pub async fn older_than(
    store: &Store,
    viewer: &Actor,
    filter: &AuditFilter,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<AuditEntry>> {
    may_read(viewer)?;
    let mut q = filtered(filter);
    if let Some(b) = before_id {
        q = q.filter(audit_log::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(audit_log::Column::Id)
        .limit(limit.clamp(1, 5_000))
        .all(store.db())
        .await?
        .into_iter()
        .map(to_entry)
        .collect())
}

/// How many entries match the filter.
pub async fn count_matching(store: &Store, viewer: &Actor, filter: &AuditFilter) -> Result<u64> {
    may_read(viewer)?;
    Ok(filtered(filter).count(store.db()).await?)
}

/// Search the log, newest first. `page.after_id` here means "older than this id". Only the
/// auditor (or the system) may read the log (S7; defence in depth behind the route table).
pub async fn search(
    store: &Store,
    viewer: &Actor,
    filter: &AuditFilter,
    page: &PageRequest,
) -> Result<Page<AuditEntry>> {
    may_read(viewer)?;
    let mut q = filtered(filter);
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(audit_log::Column::Id.lt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_desc(audit_log::Column::Id)
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
    Ok(Page {
        items: rows.into_iter().map(to_entry).collect(),
        total,
        next_after_id,
        per_page: limit,
    })
}

/// The number of entries (for tests and the status page).
pub async fn count(store: &Store) -> Result<u64> {
    Ok(audit_log::Entity::find().count(store.db()).await?)
}

/// Walk the whole chain in id order. `Err` names the first entry that does not verify.
pub async fn verify(store: &Store) -> Result<std::result::Result<VerifyReport, AuditBreak>> {
    const BATCH: u64 = 1000;
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut expected_id = 1i64;
    let mut checked = 0u64;
    loop {
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Id.gte(expected_id))
            .order_by_asc(audit_log::Column::Id)
            .limit(BATCH)
            .all(store.db())
            .await?;
        if rows.is_empty() {
            break;
        }
        for m in rows {
            let m = audit_log::Model {
                at: m.at.with_timezone(&Utc),
                ..m
            };
            if m.id != expected_id {
                return Ok(Err(AuditBreak {
                    id: m.id,
                    reason: format!("entries missing before this one (expected id {expected_id})"),
                }));
            }
            if m.prev_hash != prev_hash {
                return Ok(Err(AuditBreak {
                    id: m.id,
                    reason: "prev_hash does not match the previous entry's hash".into(),
                }));
            }
            let h = row_hash(&prev_hash, &m);
            if h != m.hash {
                return Ok(Err(AuditBreak {
                    id: m.id,
                    reason: "content does not match its hash (entry altered)".into(),
                }));
            }
            prev_hash = m.hash;
            expected_id += 1;
            checked += 1;
        }
    }
    Ok(Ok(VerifyReport {
        rows_checked: checked,
        last_hash: prev_hash,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row() -> audit_log::Model {
        audit_log::Model {
            id: 1,
            at: Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
                + chrono::Duration::microseconds(123_456),
            user_id: Some(7),
            username: "centre_staff".into(),
            role: Some("centre_staff".into()),
            ip: Some("10.0.0.1".into()),
            request_id: None,
            action: "institution.update".into(),
            target_type: "institution".into(),
            target_id: Some("3".into()),
            old_value: Some(r#"{"name":"甲"}"#.into()),
            new_value: Some(r#"{"name":"乙"}"#.into()),
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn canonical_time_is_utc_microseconds() {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
        assert_eq!(canonical_time(t), "2026-03-02T01:00:00.000000Z");
        // The same instant read back with another offset hashes the same.
        let shanghai = t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
        assert_eq!(
            canonical_time(shanghai.with_timezone(&Utc)),
            canonical_time(t)
        );
    }

    /// The hash format is part of the stored data: changing it breaks every existing chain.
    #[test]
    fn row_hash_is_stable() {
        let h = row_hash(GENESIS_HASH, &row());
        assert_eq!(h.len(), 64);
        assert_eq!(h, row_hash(GENESIS_HASH, &row()));
        let canonical = r#"[1,"2026-03-02T01:00:00.123456Z",7,"centre_staff","centre_staff","10.0.0.1",null,"institution.update","institution","3","{\"name\":\"甲\"}","{\"name\":\"乙\"}"]"#;
        let mut sha = Sha256::new();
        sha.update(format!("{GENESIS_HASH}\n{canonical}").as_bytes());
        assert_eq!(h, hex::encode(sha.finalize()));
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = row_hash(GENESIS_HASH, &row());
        type Edit = Box<dyn Fn(&mut audit_log::Model)>;
        let variants: Vec<Edit> = vec![
            Box::new(|m| m.id = 2),
            Box::new(|m| m.at += chrono::Duration::microseconds(1)),
            Box::new(|m| m.user_id = None),
            Box::new(|m| m.username.push('x')),
            Box::new(|m| m.role = None),
            Box::new(|m| m.ip = Some("10.0.0.2".into())),
            Box::new(|m| m.request_id = Some("r".into())),
            Box::new(|m| m.action.push('x')),
            Box::new(|m| m.target_type.push('x')),
            Box::new(|m| m.target_id = None),
            Box::new(|m| m.old_value = None),
            Box::new(|m| m.new_value = Some("{}".into())),
        ];
        for (i, f) in variants.iter().enumerate() {
            let mut m = row();
            f(&mut m);
            assert_ne!(row_hash(GENESIS_HASH, &m), base, "field {i}");
        }
        assert_ne!(row_hash(&"1".repeat(64), &row()), base, "prev_hash");
    }
}
