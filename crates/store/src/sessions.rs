//! Server-side sessions and API tokens (SECURITY.md S3).
//!
//! A token is 32 random bytes (hex); only its SHA-256 is stored. A session expires after 30
//! minutes without use or 12 hours after login. `last_seen_at` is written at most once a minute.

use crate::accounts::{self, UserView};
use crate::entity::{session, user};
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const IDLE_TIMEOUT: Duration = Duration::minutes(30);
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);
/// `last_seen_at` is not rewritten more often than this.
pub const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    pub user: UserView,
    pub session_id: i64,
    /// The form token for this session (CSRF, S19).
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    /// When the session was last used, as stored (written at most every [`TOUCH_INTERVAL`]).
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

fn random_hex32() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Start a session (call after a successful `authenticate`; a new id at every login). Returns the
/// opaque token to put in the cookie or give to an API client.
pub async fn create_session(store: &Store, user_id: i64, now: DateTime<Utc>) -> Result<String> {
    let now = db_time(now);
    let token = random_hex32();
    let txn = store.begin_write().await?;
    user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    session::ActiveModel {
        token_hash: Set(token_hash(&token)),
        user_id: Set(user_id),
        csrf_token: Set(random_hex32()),
        created_at: Set(now),
        last_seen_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(token)
}

/// Find the session for a token. `None` when unknown, expired (and then deleted), or when the
/// account is inactive.
pub async fn lookup_session(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionInfo>> {
    let now = db_time(now);
    if token.len() != 64 {
        return Ok(None);
    }
    let Some(s) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash(token)))
        .one(store.db())
        .await?
    else {
        return Ok(None);
    };
    let expires_at = (s.last_seen_at + IDLE_TIMEOUT).min(s.created_at + ABSOLUTE_TIMEOUT);
    if now >= expires_at {
        session::Entity::delete_by_id(s.id)
            .exec(store.write_db())
            .await?;
        return Ok(None);
    }
    let user = match accounts::get_user(store, s.user_id).await {
        Ok(u) => u,
        Err(StoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    if !user.active {
        return Ok(None);
    }
    let mut last_seen = s.last_seen_at;
    if now - s.last_seen_at > TOUCH_INTERVAL {
        let mut am: session::ActiveModel = s.clone().into();
        am.last_seen_at = Set(now);
        am.update(store.write_db()).await?;
        last_seen = now;
    }
    Ok(Some(SessionInfo {
        user,
        session_id: s.id,
        csrf_token: s.csrf_token,
        created_at: s.created_at,
        last_seen_at: last_seen,
        expires_at: (last_seen + IDLE_TIMEOUT).min(s.created_at + ABSOLUTE_TIMEOUT),
    }))
}

/// Log out: delete the session server-side, so a replayed token is refused.
pub async fn delete_session(store: &Store, token: &str) -> Result<()> {
    session::Entity::delete_many()
        .filter(session::Column::TokenHash.eq(token_hash(token)))
        .exec(store.write_db())
        .await?;
    Ok(())
}

/// Log out, audited (S3, S10): delete the session of `token` and write one `auth.logout` row in
/// the same write transaction. Returns whether a session was ended; an unknown or already ended
/// token deletes nothing and writes no row.
pub async fn delete_session_audited(
    store: &Store,
    token: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool> {
    let now = db_time(now);
    let txn = store.begin_write().await?;
    let Some(s) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash(token)))
        .one(&txn)
        .await?
    else {
        return Ok(false);
    };
    session::Entity::delete_by_id(s.id).exec(&txn).await?;
    audit::append(
        &txn,
        actor,
        "auth.logout",
        "user",
        Some(s.user_id.to_string()),
        None,
        Some(serde_json::json!({ "session_id": s.id })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// End every session of a user. Password changes, resets and deactivation end sessions inside
/// their own transaction ([`accounts`]); this is for the CLI and tests. Returns how many.
pub async fn delete_sessions_for_user(store: &Store, user_id: i64) -> Result<u64> {
    let r = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(store.write_db())
        .await?;
    Ok(r.rows_affected)
}

/// Delete expired sessions (a periodic job). Returns how many.
pub async fn purge_expired_sessions(store: &Store, now: DateTime<Utc>) -> Result<u64> {
    let now = db_time(now);
    let r = session::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(session::Column::LastSeenAt.lte(now - IDLE_TIMEOUT))
                .add(session::Column::CreatedAt.lte(now - ABSOLUTE_TIMEOUT)),
        )
        .exec(store.write_db())
        .await?;
    Ok(r.rows_affected)
}
