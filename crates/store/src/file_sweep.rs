//! Uploaded files no record points to any more (SECURITY.md S15): a package document or question
//! bank replaced by a newer upload, a photo taken off an inspection, a sign-in sheet replaced when
//! a session is re-recorded. Files hold personal data (ID scans, photos of trainees), so keeping
//! every superseded upload forever is not acceptable.
//!
//! Every column that holds file ids is listed once, in [`REFERENCES`]. The daily `file_sweep` job
//! (period = the Asia/Shanghai date) deletes the `files` row of every upload that is older than
//! [`GRACE`] and that none of those columns mentions, commits, and then removes the content —
//! so a crash between the two leaves only content without a row, which
//! [`FileStore::sweep_orphans`] — run by the same job right after — removes. The grace period keeps an upload whose record is still
//! being written (or a form being corrected) safe. Each run is audited with the ids it removed.

use crate::files::{FileStore, file, is_file_id};
use crate::{Actor, Result, Store, audit, db_time};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use std::collections::HashSet;

/// The job's name in `job_runs`.
pub const FILE_SWEEP_JOB: &str = "file_sweep";
/// An upload younger than this is never swept.
pub const GRACE: Duration = Duration::hours(24);

/// (table, column) of every column that holds file ids: one id, or JSON text with ids in it.
pub const REFERENCES: &[(&str, &str)] = &[
    ("filing_packages", "question_bank_file_id"),
    ("filing_packages", "documents"),
    ("training_requests", "evidence"),
    ("attendance_records", "sign_in_file_id"),
    ("inspections", "photos"),
    ("archive_documents", "file_id"),
    ("violations", "evidence"),
];

/// Every 32-hex-digit file id in `text`.
fn ids_in(text: &str, out: &mut HashSet<String>) {
    let b = text.as_bytes();
    let hex = |c: u8| matches!(c, b'0'..=b'9' | b'a'..=b'f');
    let mut i = 0;
    while i < b.len() {
        if hex(b[i]) {
            let start = i;
            while i < b.len() && hex(b[i]) {
                i += 1;
            }
            let run = &text[start..i];
            if is_file_id(run) {
                out.insert(run.to_string());
            }
        } else {
            i += 1;
        }
    }
}

/// The ids some record points to.
pub async fn referenced_ids<C: ConnectionTrait>(db: &C) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for (table, column) in REFERENCES {
        let sql = format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL");
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?;
        for row in rows {
            if let Ok(Some(text)) = row.try_get_by_index::<Option<String>>(0) {
                ids_in(&text, &mut out);
            }
        }
    }
    Ok(out)
}

/// What a sweep removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    pub removed: Vec<String>,
    pub kept: usize,
}

/// Remove every upload older than [`GRACE`] that no record points to: rows first (one
/// transaction, audited), then the contents.
pub async fn sweep_unreferenced(
    store: &Store,
    files: &FileStore,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SweepReport> {
    let now = db_time(now);
    let txn = store.begin_write().await?;
    let referenced = referenced_ids(&txn).await?;
    let old = file::Entity::find()
        .filter(file::Column::UploadedAt.lt(now - GRACE))
        .all(&txn)
        .await?;
    let kept = old.len();
    let removed: Vec<String> = old
        .into_iter()
        .map(|f| f.id)
        .filter(|id| !referenced.contains(id))
        .collect();
    if removed.is_empty() {
        txn.rollback().await?;
        return Ok(SweepReport { removed, kept });
    }
    for chunk in removed.chunks(200) {
        file::Entity::delete_many()
            .filter(file::Column::Id.is_in(chunk.iter().cloned()))
            .exec(&txn)
            .await?;
    }
    audit::append(
        &txn,
        actor,
        "file.sweep",
        "file",
        None,
        None,
        Some(serde_json::json!({ "removed": removed })),
        now,
    )
    .await?;
    txn.commit().await?;
    for id in &removed {
        // Content without a row is an orphan the orphan sweep removes if this fails.
        let _ = files.delete(id).await;
    }
    Ok(SweepReport {
        kept: kept - removed.len(),
        removed,
    })
}

/// The job's tick: once per Asia/Shanghai day, whichever server claims it.
pub async fn sweep_tick(
    store: &Store,
    files: &FileStore,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Option<SweepReport>> {
    let period = crate::workflow_glue::today(now).to_string();
    if !crate::jobs::try_claim_run(store, FILE_SWEEP_JOB, &period, holder, now).await? {
        return Ok(None);
    }
    let out = sweep_unreferenced(store, files, &Actor::system(FILE_SWEEP_JOB), now).await;
    // Then content without a row, older than the grace period: an upload whose transaction
    // failed or whose server crashed before its row, or a swept row whose content removal
    // failed. Shared by every server on the database, so only the claiming server lists it.
    let orphans = match &out {
        Ok(_) => {
            files
                .sweep_orphans(store, GRACE.to_std().unwrap_or_default())
                .await
        }
        Err(_) => Ok(0),
    };
    let outcome = match (&out, &orphans) {
        (Ok(r), Ok(o)) => {
            serde_json::json!({ "removed": r.removed.len(), "kept": r.kept, "orphans": o })
        }
        (Err(e), _) | (_, Err(e)) => serde_json::json!({ "error": e.code() }),
    };
    crate::jobs::finish_run(store, FILE_SWEEP_JOB, &period, holder, &outcome, now).await?;
    orphans?;
    out.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s15_ids_are_found_in_single_columns_and_json() {
        let a = "0123456789abcdef0123456789abcdef";
        let b = "fedcba9876543210fedcba9876543210";
        let mut out = HashSet::new();
        ids_in(a, &mut out);
        ids_in(&format!(r#"{{"textbook":"{b}","plan":null}}"#), &mut out);
        ids_in(&format!(r#"["{a}"]"#), &mut out);
        // Not ids: too short, too long, upper case.
        ids_in("0123456789abcdef", &mut out);
        ids_in(&format!("{a}0"), &mut out);
        ids_in(&a.to_uppercase(), &mut out);
        assert_eq!(out, HashSet::from([a.to_string(), b.to_string()]));
    }
}
