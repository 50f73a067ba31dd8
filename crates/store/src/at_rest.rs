//! Bringing stored personal data under the current data key (SECURITY.md S14, R-PII-1).
//!
//! * [`encrypt_legacy_rows`] — the start-up step `peixun serve` runs right after migrating
//!   (migration 000100 cannot see the keys): every trainee and teacher ID number still in
//!   plaintext is encrypted (with its masked form and, for teachers, its keyed hash filled in),
//!   and every uploaded file still in plaintext is sealed. Idempotent: a second run finds
//!   nothing. On SQLite a run that changed anything ends with `VACUUM` and a WAL truncation so
//!   that the replaced plaintext is not left in free pages.
//! * [`rotate_data_key`] — `peixun keys rotate`: a new `data.key`, the old one kept as
//!   `data.key.old` while every value and file is re-encrypted in batches (resumable: run it
//!   again after a crash and it goes on with the same two keys), then the old key retired.
//!
//! Each batch is one write transaction (rows) or one atomic file replacement (files).

use crate::entity::teacher;
use crate::files::{FileStore, file};
use crate::pii::{self, DataKeys, Field, Keys, field_key_id};
use crate::roster::entry;
use crate::{Actor, Backend, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Utc};
use peixun_domain::ids::mask_id;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use std::path::Path;

/// Rows converted per transaction.
pub const BATCH: u64 = 500;

/// What a conversion did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AtRestReport {
    /// Roster entries re-written (trainee ID numbers).
    pub trainees: u64,
    /// Teachers re-written.
    pub teachers: u64,
    /// Files sealed or re-sealed.
    pub files: u64,
    /// Files recorded in the database whose content is missing (nothing to encrypt).
    pub files_missing: u64,
    /// TOTP secrets re-encrypted (S4; a rotation only: they are never written in clear).
    pub totp_secrets: u64,
}

impl AtRestReport {
    pub fn changed(&self) -> u64 {
        self.trainees + self.teachers + self.files + self.totp_secrets
    }
}

/// Which rows a pass takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Plaintext rows only (start-up).
    Legacy,
    /// Everything not under the current key (rotation).
    NotCurrent,
}

fn plain(keys: &DataKeys, field: Field, stored: &str) -> Result<String> {
    if stored.starts_with(pii::FIELD_PREFIX) {
        Ok(keys.decrypt_field(field, stored)?)
    } else {
        Ok(stored.to_string())
    }
}

fn current_prefix(keys: &DataKeys) -> String {
    format!("{}{}:%", pii::FIELD_PREFIX, keys.current_id())
}

async fn trainees(store: &Store, keys: &Keys, pass: Pass) -> Result<u64> {
    let data = &keys.data;
    let mut done = 0;
    let mut after = 0i64;
    loop {
        let cond = match pass {
            Pass::Legacy => Condition::any()
                .add(entry::Column::IdNumber.not_like(format!("{}%", pii::FIELD_PREFIX)))
                .add(entry::Column::IdMasked.eq("")),
            Pass::NotCurrent => Condition::any()
                .add(entry::Column::IdNumber.not_like(current_prefix(data)))
                .add(entry::Column::IdMasked.eq("")),
        };
        let txn = store.begin_write().await?;
        let rows = entry::Entity::find()
            .filter(entry::Column::Id.gt(after))
            .filter(cond)
            .order_by_asc(entry::Column::Id)
            .limit(BATCH)
            .all(&txn)
            .await?;
        let Some(last) = rows.last().map(|r| r.id) else {
            return Ok(done);
        };
        for r in rows {
            let number = plain(data, Field::TraineeIdNumber, &r.id_number)?;
            let mut am = entry::ActiveModel {
                id: Set(r.id),
                ..Default::default()
            };
            if let Some(c) = data.refresh_field(Field::TraineeIdNumber, &r.id_number)? {
                am.id_number = Set(c);
            }
            if r.id_masked.is_empty() {
                am.id_masked = Set(mask_id(&number));
            }
            am.update(&txn).await?;
            done += 1;
        }
        txn.commit().await?;
        after = last;
    }
}

async fn teachers(store: &Store, keys: &Keys, pass: Pass) -> Result<u64> {
    let data = &keys.data;
    let mut done = 0;
    let mut after = 0i64;
    loop {
        let cond = match pass {
            Pass::Legacy => Condition::any()
                .add(teacher::Column::IdNumber.not_like(format!("{}%", pii::FIELD_PREFIX)))
                .add(teacher::Column::IdMasked.eq(""))
                .add(teacher::Column::PersonKey.is_null()),
            Pass::NotCurrent => Condition::any()
                .add(teacher::Column::IdNumber.not_like(current_prefix(data)))
                .add(teacher::Column::IdMasked.eq(""))
                .add(teacher::Column::PersonKey.is_null()),
        };
        let txn = store.begin_write().await?;
        let rows = teacher::Entity::find()
            .filter(teacher::Column::Id.gt(after))
            .filter(cond)
            .order_by_asc(teacher::Column::Id)
            .limit(BATCH)
            .all(&txn)
            .await?;
        let Some(last) = rows.last().map(|r| r.id) else {
            return Ok(done);
        };
        for r in rows {
            let number = plain(data, Field::TeacherIdNumber, &r.id_number)?;
            let mut am = teacher::ActiveModel {
                id: Set(r.id),
                ..Default::default()
            };
            if let Some(c) = data.refresh_field(Field::TeacherIdNumber, &r.id_number)? {
                am.id_number = Set(c);
            }
            if r.id_masked.is_empty() {
                am.id_masked = Set(mask_id(&number));
            }
            if r.person_key.is_none() {
                am.person_key = Set(Some(keys.lookup.person_key(&number)));
            }
            am.update(&txn).await?;
            done += 1;
        }
        txn.commit().await?;
        after = last;
    }
}

async fn files(store: &Store, fs: &FileStore, pass: Pass) -> Result<(u64, u64)> {
    let current = fs.data_keys()?.current_id().to_string();
    let (mut done, mut missing) = (0, 0);
    let mut after = String::new();
    loop {
        let cond = match pass {
            Pass::Legacy => Condition::all().add(file::Column::KeyId.is_null()),
            Pass::NotCurrent => Condition::any()
                .add(file::Column::KeyId.is_null())
                .add(file::Column::KeyId.ne(current.clone())),
        };
        let ids: Vec<String> = file::Entity::find()
            .select_only()
            .column(file::Column::Id)
            .filter(file::Column::Id.gt(after.clone()))
            .filter(cond)
            .order_by_asc(file::Column::Id)
            .limit(BATCH)
            .into_tuple()
            .all(store.db())
            .await?;
        let Some(last) = ids.last().cloned() else {
            return Ok((done, missing));
        };
        for id in ids {
            match fs.reseal(&id).await? {
                Some((kid, rewritten)) => {
                    // The content is the truth (a crash between the rename and this update is
                    // repaired by the next run, which finds the content already current).
                    file::Entity::update_many()
                        .col_expr(file::Column::KeyId, Expr::value(kid))
                        .filter(file::Column::Id.eq(id.clone()))
                        .exec(store.write_db())
                        .await?;
                    if rewritten {
                        done += 1;
                    }
                }
                None => missing += 1,
            }
        }
        after = last;
    }
}

async fn convert(store: &Store, keys: &Keys, fs: &FileStore, pass: Pass) -> Result<AtRestReport> {
    let trainees = trainees(store, keys, pass).await?;
    let teachers = teachers(store, keys, pass).await?;
    let (files, files_missing) = files(store, fs, pass).await?;
    let totp_secrets = match pass {
        Pass::Legacy => 0,
        Pass::NotCurrent => crate::totp::rotate_secrets(store, &keys.data).await?,
    };
    Ok(AtRestReport {
        trainees,
        teachers,
        files,
        files_missing,
        totp_secrets,
    })
}

/// On SQLite, rewrite the file and empty the WAL so that replaced plaintext is gone from disk.
async fn scrub_sqlite(store: &Store) -> Result<()> {
    if store.backend() == Backend::Sqlite {
        store.write_db().execute_unprepared("VACUUM").await?;
        store
            .write_db()
            .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    Ok(())
}

async fn audit_system(
    store: &Store,
    actor: &Actor,
    action: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = store.begin_write().await?;
    audit::append(
        &txn,
        actor,
        action,
        "system",
        None,
        None,
        Some(detail),
        db_time(now),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Every key id the database's ciphertexts name must be in the ring: a server started with a
/// fresh or wrong `data.key` (a restore without its key, a mistyped `PEIXUN_DATA_KEY`) refuses to
/// start instead of writing new data under a key nothing else is under.
pub async fn check_keys(store: &Store, keys: &DataKeys) -> Result<()> {
    let backend = store.db().get_database_backend();
    let mut found: Vec<String> = Vec::new();
    for sql in [
        "SELECT DISTINCT substr(id_number, 4, 8) AS k FROM roster_entries WHERE id_number LIKE 'v1:%'",
        "SELECT DISTINCT substr(id_number, 4, 8) AS k FROM teachers WHERE id_number LIKE 'v1:%'",
        "SELECT DISTINCT key_id AS k FROM files WHERE key_id IS NOT NULL",
        "SELECT DISTINCT substr(secret, 4, 8) AS k FROM user_totp WHERE secret LIKE 'v1:%'",
        "SELECT DISTINCT substr(pending_secret, 4, 8) AS k FROM user_totp WHERE pending_secret LIKE 'v1:%'",
    ] {
        for row in store
            .db()
            .query_all_raw(sea_orm::Statement::from_string(backend, sql.to_string()))
            .await?
        {
            if let Ok(k) = row.try_get::<String>("", "k") {
                found.push(k);
            }
        }
    }
    let known = |k: &str| k == keys.current_id() || keys.old_id() == Some(k);
    if let Some(k) = found.iter().find(|k| !known(k)) {
        return Err(StoreError::Conflict {
            code: "DATA_KEY_MISMATCH",
            message: format!(
                "数据库中的证件号码或文件由密钥 {k} 加密，而当前数据密钥为 {}：请放回原来的 data.key（或 PEIXUN_DATA_KEY），见 docs/OPERATIONS.md",
                keys.current_id()
            ),
            field: None,
        });
    }
    Ok(())
}

/// The start-up step after `migrate` (S14): encrypt every ID number and file still in plaintext
/// with the store's keys ([`Store::keys`]) and `fs`'s data key ring. Idempotent. When it changed
/// anything it appends one audit entry, `data.encrypt_legacy`, with the counts.
pub async fn encrypt_legacy_rows(
    store: &Store,
    fs: &FileStore,
    now: DateTime<Utc>,
) -> Result<AtRestReport> {
    let keys = store.keys()?;
    check_keys(store, &keys.data).await?;
    check_keys(store, fs.data_keys()?.as_ref()).await?;
    let report = convert(store, &keys, fs, Pass::Legacy).await?;
    if report.changed() > 0 {
        audit_system(
            store,
            &Actor::system("startup"),
            "data.encrypt_legacy",
            serde_json::json!({
                "trainees": report.trainees,
                "teachers": report.teachers,
                "files": report.files,
                "key_id": keys.data.current_id(),
            }),
            now,
        )
        .await?;
        scrub_sqlite(store).await?;
    }
    Ok(report)
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotateReport {
    pub old_key_id: String,
    pub new_key_id: String,
    /// The rotation went on from an earlier, interrupted one.
    pub resumed: bool,
    #[serde(flatten)]
    pub counts: AtRestReport,
}

fn key_err(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(format!("data key: {what}: {e}")))
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The key ring for a rotation of `data_dir`'s `data.key`: a new current key and the old one.
/// Makes the new key on a first run; on a run after an interruption, goes on with the same two
/// keys (`data.key.old` present). Crash-safe at every step: the new key is written to
/// `data.key.new` first, the current one copied to `data.key.old`, then `data.key.new` renamed
/// over `data.key`.
fn rotation_ring(data_dir: &Path) -> Result<(DataKeys, bool)> {
    let (cur_path, old_path, new_path) = pii::key_paths(data_dir);
    let resumed = old_path.exists();
    if !resumed && !new_path.exists() {
        let (k, _) = pii::DataKey::generate();
        pii::write_key_file_new(&new_path, &k).map_err(|e| key_err("write data.key.new", e))?;
    }
    if new_path.exists() {
        let cur = pii::read_key_file(&cur_path)
            .map_err(|e| key_err("read data.key", e))?
            .ok_or_else(|| key_err("read data.key", "missing"))?;
        if !old_path.exists() {
            pii::write_key_file_new(&old_path, &cur)
                .map_err(|e| key_err("write data.key.old", e))?;
        }
        std::fs::rename(&new_path, &cur_path).map_err(|e| key_err("install data.key", e))?;
        sync_dir(data_dir);
    }
    let cur = pii::read_key_file(&cur_path)
        .map_err(|e| key_err("read data.key", e))?
        .ok_or_else(|| key_err("read data.key", "missing"))?;
    let old = pii::read_key_file(&old_path)
        .map_err(|e| key_err("read data.key.old", e))?
        .ok_or_else(|| key_err("read data.key.old", "missing"))?;
    Ok((DataKeys::new(cur).with_old(old), resumed))
}

/// `peixun keys rotate` (S14): re-encrypt every ID number and file under a new data key, then
/// retire the old key. With the key in files (`<data_dir>/data.key`), the new key is made here;
/// with `PEIXUN_DATA_KEY` set, the operator puts the new key there and the old one in
/// `PEIXUN_DATA_KEY_OLD`, and this re-encrypts (then `PEIXUN_DATA_KEY_OLD` can go). Run with the
/// server stopped. Resumable; audited as `keys.rotate` with the counts.
pub async fn rotate_data_key(
    store: &Store,
    data_dir: &Path,
    files: &crate::files::FilesLocation,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<RotateReport> {
    let lookup =
        crate::pii::RosterKey::load_or_create(data_dir).map_err(|e| key_err("roster.key", e))?;
    let from_env = std::env::var(pii::DATA_KEY_ENV).is_ok();
    let (ring, resumed) = if from_env {
        let ring = DataKeys::load_or_create(data_dir).map_err(|e| key_err("environment", e))?;
        if ring.old_id().is_none() {
            return Err(StoreError::validation(
                "KEY_OLD_MISSING",
                "使用环境变量 PEIXUN_DATA_KEY 时，轮换前须把新密钥放入 PEIXUN_DATA_KEY、旧密钥放入 PEIXUN_DATA_KEY_OLD",
                "PEIXUN_DATA_KEY_OLD",
            ));
        }
        (ring, false)
    } else {
        rotation_ring(data_dir)?
    };
    let old_key_id = ring.old_id().unwrap_or_default().to_string();
    let new_key_id = ring.current_id().to_string();
    let keys = Keys::new(lookup, ring);
    store.set_keys(keys.clone());
    let fs = FileStore::at(files, keys.data.clone())?;
    let counts = convert(store, &keys, &fs, Pass::NotCurrent).await?;
    // Nothing may be left under the old key before it goes.
    let left = convert(store, &keys, &fs, Pass::NotCurrent).await?;
    if left.changed() > 0 {
        return Err(key_err(
            "rotation",
            "rows changed while rotating: stop the server and run again",
        ));
    }
    let report = RotateReport {
        old_key_id,
        new_key_id,
        resumed,
        counts,
    };
    audit_system(
        store,
        actor,
        "keys.rotate",
        serde_json::to_value(&report).unwrap_or_default(),
        now,
    )
    .await?;
    // Servers started from now on must hold the new key (issue 12 item 5).
    crate::key_checks::record_data_key(store, &keys.data, &actor.username, now).await?;
    if !from_env {
        let (_, old_path, _) = pii::key_paths(data_dir);
        std::fs::remove_file(&old_path).map_err(|e| key_err("remove data.key.old", e))?;
        sync_dir(data_dir);
    }
    store.set_keys(Keys::new(
        keys.lookup.clone(),
        DataKeys::load_or_create(data_dir).map_err(|e| key_err("reload", e))?,
    ));
    Ok(report)
}

/// Every value under `keys`' current key? (For tests and checks: counts rows and files that are
/// not.)
pub async fn count_not_current(store: &Store, keys: &DataKeys) -> Result<(u64, u64, u64)> {
    use sea_orm::PaginatorTrait;
    let p = current_prefix(keys);
    let t = entry::Entity::find()
        .filter(entry::Column::IdNumber.not_like(p.clone()))
        .count(store.db())
        .await?;
    let te = teacher::Entity::find()
        .filter(teacher::Column::IdNumber.not_like(p))
        .count(store.db())
        .await?;
    let f = file::Entity::find()
        .filter(
            Condition::any()
                .add(file::Column::KeyId.is_null())
                .add(file::Column::KeyId.ne(keys.current_id())),
        )
        .count(store.db())
        .await?;
    Ok((t, te, f))
}

/// The key id a stored column value is under (`None`: plaintext).
pub fn key_id_of(stored: &str) -> Option<&str> {
    field_key_id(stored)
}
