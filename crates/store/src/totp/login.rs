//! The second step of a login (S4) and the check of a code for the account's own changes.
//!
//! After a correct password for an account with TOTP enabled,
//! [`crate::accounts::authenticate_password`] answers "second factor" and the server calls
//! [`start_challenge`]: a random token (only its SHA-256 is stored) valid for
//! [`CHALLENGE_TTL`]. [`verify_login`] takes the token and a 6-digit code or a recovery code;
//! only then is the login complete (`auth.login`, the caller starts a session). A wrong code is
//! a login failure: it counts toward the S2 lockout (5 failures → 15 minutes) exactly like a
//! wrong password, and the answer is the same `AUTH_FAILED`.

use super::{CodeCheck, check_code, claim_step, decrypt, recovery_hash, recovery_row, totp_row};
use crate::accounts::{self, LOCKOUT, MAX_FAILED_LOGINS, UserView};
use crate::entity::user;
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

/// How long the second step of a login may take.
pub const CHALLENGE_TTL: Duration = Duration::minutes(5);

/// `login_challenges`: a login waiting for its second factor.
pub mod challenge_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "login_challenges")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Hex SHA-256 of the challenge token; the token itself is never stored.
        #[sea_orm(unique)]
        pub token_hash: String,
        pub user_id: i64,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Which second factor was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Totp,
    RecoveryCode,
}

impl Factor {
    fn code(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::RecoveryCode => "recovery_code",
        }
    }
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn auth_failed() -> StoreError {
    StoreError::Validation {
        code: "AUTH_FAILED",
        message: "用户名或密码错误".into(),
        field: None,
    }
}

fn actor_for(u: &user::Model, ip: Option<&str>) -> Actor {
    Actor {
        user_id: Some(u.id),
        username: u.username.clone(),
        role: u.role.parse().ok(),
        institution_id: u.institution_id,
        ip: ip.map(str::to_string),
        request_id: None,
    }
}

/// Start the second step for `user_id` (after a correct password): returns the challenge token
/// to hand to the browser (a cookie) or the API client. Expired challenges of anyone are
/// removed on the way.
pub async fn start_challenge(store: &Store, user_id: i64, now: DateTime<Utc>) -> Result<String> {
    let now = db_time(now);
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    let token = hex::encode(b);
    let txn = store.begin_write().await?;
    challenge_row::Entity::delete_many()
        .filter(challenge_row::Column::ExpiresAt.lte(now))
        .exec(&txn)
        .await?;
    challenge_row::ActiveModel {
        token_hash: Set(token_hash(&token)),
        user_id: Set(user_id),
        created_at: Set(now),
        expires_at: Set(now + CHALLENGE_TTL),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(token)
}

/// What checking a second factor found.
enum Checked {
    Passed(Factor),
    /// Wrong (or replayed); `Some(until)` when this failure locked the account.
    Failed(Option<DateTime<Utc>>),
    Locked(DateTime<Utc>),
}

/// One failure of the second factor: the S2 counter of the account goes up (a lock that has
/// expired starts a fresh count), `totp.failed` is audited, and the fifth failure locks the
/// account for 15 minutes (`auth.lockout`) and drops its open challenges.
async fn record_failure(
    txn: &DatabaseTransaction,
    actor: &Actor,
    u: &user::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    let prior = if u.locked_until.is_some() {
        0
    } else {
        u.failed_logins
    };
    let failures = prior + 1;
    let lock = (failures >= MAX_FAILED_LOGINS).then(|| now + LOCKOUT);
    let mut am: user::ActiveModel = u.clone().into();
    am.failed_logins = Set(if lock.is_some() { 0 } else { failures });
    am.locked_until = Set(lock);
    am.update(txn).await?;
    audit::append(
        txn,
        actor,
        "totp.failed",
        "user",
        Some(u.id.to_string()),
        None,
        Some(serde_json::json!({ "reason": reason, "failures": failures })),
        now,
    )
    .await?;
    if let Some(until) = lock {
        audit::append(
            txn,
            actor,
            "auth.lockout",
            "user",
            Some(u.id.to_string()),
            None,
            Some(serde_json::json!({ "locked_until": audit::canonical_time(until) })),
            now,
        )
        .await?;
        challenge_row::Entity::delete_many()
            .filter(challenge_row::Column::UserId.eq(u.id))
            .exec(txn)
            .await?;
    }
    Ok(lock)
}

/// Check `code` (6 digits, or a recovery code) for `user_id` inside `txn`: an accepted code's
/// step is claimed, an accepted recovery code marked used; a failure is counted.
async fn check_in(
    store: &Store,
    txn: &DatabaseTransaction,
    actor: &Actor,
    user_id: i64,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Checked> {
    let u = user::Entity::find_by_id(user_id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    if let Some(until) = u.locked_until
        && until > now
    {
        audit::append(
            txn,
            actor,
            "auth.login_refused_locked",
            "user",
            Some(u.id.to_string()),
            None,
            Some(
                serde_json::json!({ "locked_until": audit::canonical_time(until), "step": "totp" }),
            ),
            now,
        )
        .await?;
        return Ok(Checked::Locked(until));
    }
    let Some(t) = totp_row::Entity::find_by_id(user_id).one(txn).await? else {
        return Ok(Checked::Failed(
            record_failure(txn, actor, &u, "not_enrolled", now).await?,
        ));
    };
    let Some(secret) = t.secret.as_deref() else {
        return Ok(Checked::Failed(
            record_failure(txn, actor, &u, "not_enrolled", now).await?,
        ));
    };
    if super::looks_like_recovery_code(code) {
        let hash = recovery_hash(user_id, code);
        let r = recovery_row::Entity::update_many()
            .col_expr(recovery_row::Column::UsedAt, Expr::value(Some(now)))
            .filter(recovery_row::Column::UserId.eq(user_id))
            .filter(recovery_row::Column::CodeHash.eq(hash))
            .filter(recovery_row::Column::UsedAt.is_null())
            .exec(txn)
            .await?;
        if r.rows_affected == 1 {
            let left = super::recovery_left(txn, user_id).await?;
            audit::append(
                txn,
                actor,
                "totp.recovery_used",
                "user",
                Some(user_id.to_string()),
                None,
                Some(serde_json::json!({ "left": left })),
                now,
            )
            .await?;
            return Ok(Checked::Passed(Factor::RecoveryCode));
        }
        return Ok(Checked::Failed(
            record_failure(txn, actor, &u, "wrong_recovery_code", now).await?,
        ));
    }
    let secret = decrypt(store, secret)?;
    let reason = match check_code(&secret, code, now, t.last_step)? {
        CodeCheck::Accepted(step) => {
            if claim_step(txn, user_id, step).await? {
                return Ok(Checked::Passed(Factor::Totp));
            }
            "replayed_code"
        }
        CodeCheck::Replayed => "replayed_code",
        CodeCheck::Wrong => "wrong_code",
    };
    Ok(Checked::Failed(
        record_failure(txn, actor, &u, reason, now).await?,
    ))
}

/// The second step of a login: `challenge` from [`start_challenge`] and a code. Success ends
/// the challenge, resets the failure count, notes the login time and audits `auth.login`; the
/// caller then starts a session. An unknown or expired challenge, a wrong or replayed code and
/// a locked account all fail like a wrong password (S2: `AUTH_FAILED`, or `Locked` which the
/// server answers the same).
pub async fn verify_login(
    store: &Store,
    challenge: &str,
    code: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<UserView> {
    let now = db_time(now);
    if challenge.len() != 64 || code.len() > 64 {
        return Err(auth_failed());
    }
    let hash = token_hash(challenge);
    let txn = store.begin_write().await?;
    let Some(c) = challenge_row::Entity::find()
        .filter(challenge_row::Column::TokenHash.eq(hash))
        .one(&txn)
        .await?
    else {
        return Err(auth_failed());
    };
    if c.expires_at <= now {
        challenge_row::Entity::delete_by_id(c.id).exec(&txn).await?;
        txn.commit().await?;
        return Err(auth_failed());
    }
    let u = user::Entity::find_by_id(c.user_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    let actor = actor_for(&u, ip);
    match check_in(store, &txn, &actor, u.id, code, now).await? {
        Checked::Locked(until) => {
            txn.commit().await?;
            Err(StoreError::Locked { until })
        }
        Checked::Failed(Some(until)) => {
            txn.commit().await?;
            Err(StoreError::Locked { until })
        }
        Checked::Failed(None) => {
            txn.commit().await?;
            Err(auth_failed())
        }
        Checked::Passed(factor) => {
            if !u.active {
                txn.commit().await?;
                return Err(auth_failed());
            }
            challenge_row::Entity::delete_by_id(c.id).exec(&txn).await?;
            let u = user::Entity::find_by_id(u.id)
                .one(&txn)
                .await?
                .ok_or(StoreError::NotFound { entity: "user" })?;
            let mut am: user::ActiveModel = u.into();
            am.failed_logins = Set(0);
            am.locked_until = Set(None);
            am.last_login_at = Set(Some(now));
            am.update(&txn).await?;
            audit::append(
                &txn,
                &actor,
                "auth.login",
                "user",
                Some(c.user_id.to_string()),
                None,
                Some(serde_json::json!({ "second_factor": factor.code() })),
                now,
            )
            .await?;
            txn.commit().await?;
            accounts::get_user(store, c.user_id).await
        }
    }
}

/// For the account's own changes (replacing or turning off the authenticator): `code` must be
/// a current code or an unused recovery code. A wrong one counts toward the S2 lockout and is a
/// field error on `field`; a locked account gets [`StoreError::Locked`].
pub(crate) async fn second_factor_or_fail(
    store: &Store,
    actor: &Actor,
    u: &user::Model,
    code: &str,
    field: &str,
    now: DateTime<Utc>,
) -> Result<Factor> {
    let txn = store.begin_write().await?;
    let out = check_in(store, &txn, actor, u.id, code, now).await?;
    txn.commit().await?;
    match out {
        Checked::Passed(f) => Ok(f),
        Checked::Locked(until) | Checked::Failed(Some(until)) => Err(StoreError::Locked { until }),
        Checked::Failed(None) => Err(super::code_wrong(field)),
    }
}
