//! The audit chain's anchored head (SECURITY.md S11). The hash chain ([`crate::audit`]) shows any
//! edit, reordering or deletion *inside* the log, but not rows cut off its end. So the head — the
//! last id, its hash and the row count — is written to `<data_dir>/audit.anchor`, signed with
//! HMAC-SHA256 under a key kept outside the database (`PEIXUN_AUDIT_ANCHOR_KEY`, 64 hex
//! characters, or `<data_dir>/audit_anchor.key`, created 0600 on first use). The server writes it
//! on every job tick and at shutdown, `peixun backup` before the copy; `peixun audit verify`
//! checks it: the anchored row must still be there with the same hash, and no fewer rows.

use crate::entity::audit_log;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::path::{Path, PathBuf};

type HmacSha256 = Hmac<Sha256>;

/// The anchor file's name in the data folder.
pub const ANCHOR_FILE: &str = "audit.anchor";
const KEY_FILE: &str = "audit_anchor.key";
const KEY_ENV: &str = "PEIXUN_AUDIT_ANCHOR_KEY";

/// The key that signs anchors. Never stored in the database.
#[derive(Clone)]
pub struct AnchorKey([u8; 32]);

impl std::fmt::Debug for AnchorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnchorKey(…)")
    }
}

fn io_err(what: &str, path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(format!(
        "{what} {}: {e}",
        path.display()
    )))
}

impl AnchorKey {
    pub fn new(k: [u8; 32]) -> Self {
        AnchorKey(k)
    }

    /// From `PEIXUN_AUDIT_ANCHOR_KEY`, else `<data_dir>/audit_anchor.key` (created 0600 with 32
    /// random bytes when missing and `create` is set; `peixun audit verify` never creates it).
    pub fn load(data_dir: &Path, create: bool) -> Result<Option<AnchorKey>> {
        if let Ok(h) = std::env::var(KEY_ENV) {
            let b = hex::decode(h.trim()).map_err(|_| {
                StoreError::validation("ANCHOR_KEY", format!("{KEY_ENV} 须为 64 位十六进制"), "key")
            })?;
            let k: [u8; 32] = b.try_into().map_err(|_| {
                StoreError::validation("ANCHOR_KEY", format!("{KEY_ENV} 须为 64 位十六进制"), "key")
            })?;
            return Ok(Some(AnchorKey(k)));
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(b) => {
                let k: [u8; 32] = b
                    .try_into()
                    .map_err(|_| io_err("anchor key must hold 32 bytes:", &path, "bad length"))?;
                Ok(Some(AnchorKey(k)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                use rand::RngCore;
                let mut k = [0u8; 32];
                rand::rng().fill_bytes(&mut k);
                write_private(&path, &k)?;
                Ok(Some(AnchorKey(k)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("read", &path, e)),
        }
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length")
    }
}

/// The signed head of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The last row's id (0 for an empty log).
    pub last_id: i64,
    /// The last row's hash (the genesis hash for an empty log).
    pub last_hash: String,
    /// Rows in the log when anchored.
    pub rows: u64,
    /// When anchored (RFC 3339).
    pub at: String,
    /// HMAC-SHA256 (hex) of the fields above.
    pub mac: String,
}

fn signed_text(last_id: i64, last_hash: &str, rows: u64, at: &str) -> String {
    format!("peixun-audit-anchor-v1\n{last_id}\n{last_hash}\n{rows}\n{at}")
}

/// The anchor file of a data folder.
pub fn anchor_path(data_dir: &Path) -> PathBuf {
    data_dir.join(ANCHOR_FILE)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        crate::private_fs::create_private_dir(parent)?;
    }
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    crate::private_fs::create_private_file(&tmp)?;
    std::fs::write(&tmp, bytes).map_err(|e| io_err("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err("rename", path, e))
}

/// Reads the head of the log now and writes it, signed, to `<data_dir>/audit.anchor`.
pub async fn write_anchor(
    store: &Store,
    data_dir: &Path,
    key: &AnchorKey,
    now: DateTime<Utc>,
) -> Result<Anchor> {
    let rows = audit_log::Entity::find().count(store.db()).await?;
    let last = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .one(store.db())
        .await?;
    let (last_id, last_hash) = match last {
        Some(m) => (m.id, m.hash),
        None => (0, crate::audit::GENESIS_HASH.to_string()),
    };
    let at = crate::audit::canonical_time(now);
    let mut mac = key.mac();
    mac.update(signed_text(last_id, &last_hash, rows, &at).as_bytes());
    let anchor = Anchor {
        last_id,
        last_hash,
        rows,
        at,
        mac: hex::encode(mac.finalize().into_bytes()),
    };
    let json = serde_json::to_vec_pretty(&anchor)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
    write_private(&anchor_path(data_dir), &json)?;
    Ok(anchor)
}

/// What [`check_anchor`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorCheck {
    /// No anchor file yet (a server that never ticked): nothing to compare.
    Missing,
    /// The anchored row is there with its hash, and the log has at least as many rows.
    Holds(Anchor),
    /// The anchor does not match the log (rows cut off its end, or the log replaced), or the
    /// anchor itself was altered (its signature does not verify).
    Broken { reason: String },
}

/// Checks the anchor in `data_dir` against the log.
pub async fn check_anchor(store: &Store, data_dir: &Path, key: &AnchorKey) -> Result<AnchorCheck> {
    let path = anchor_path(data_dir);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(AnchorCheck::Missing),
        Err(e) => return Err(io_err("read", &path, e)),
    };
    let Ok(a) = serde_json::from_slice::<Anchor>(&bytes) else {
        return Ok(AnchorCheck::Broken {
            reason: "锚点文件无法解析".into(),
        });
    };
    let mut mac = key.mac();
    mac.update(signed_text(a.last_id, &a.last_hash, a.rows, &a.at).as_bytes());
    let sig_ok = hex::decode(&a.mac)
        .ok()
        .is_some_and(|m| mac.verify_slice(&m).is_ok());
    if !sig_ok {
        return Ok(AnchorCheck::Broken {
            reason: "锚点签名校验失败（锚点文件被改动，或密钥不符）".into(),
        });
    }
    let rows = audit_log::Entity::find().count(store.db()).await?;
    if a.last_id > 0 {
        match audit_log::Entity::find_by_id(a.last_id)
            .one(store.db())
            .await?
        {
            None => {
                return Ok(AnchorCheck::Broken {
                    reason: format!(
                        "锚点记录 id {} 已不存在：日志末尾的记录被删除（锚点时共 {} 条，现 {rows} 条）",
                        a.last_id, a.rows
                    ),
                });
            }
            Some(m) if m.hash != a.last_hash => {
                return Ok(AnchorCheck::Broken {
                    reason: format!("锚点记录 id {} 的哈希与锚点不符", a.last_id),
                });
            }
            Some(_) => {}
        }
    }
    if rows < a.rows {
        return Ok(AnchorCheck::Broken {
            reason: format!("日志现有 {rows} 条，少于锚点时的 {} 条", a.rows),
        });
    }
    Ok(AnchorCheck::Holds(a))
}
