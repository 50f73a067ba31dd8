//! The TOTP second factor (SECURITY.md S4; RFC 6238 through the `totp-rs` crate: HMAC-SHA1,
//! 6 digits, 30-second steps, one step of clock skew either way).
//!
//! * **Who.** [`Role::requires_second_factor`] is the one list of roles that must use it; an
//!   account of such a role without an enabled authenticator may only reach the enrolment pages
//!   (the server's gate asks [`enrolment_required`]). Institution roles may enrol voluntarily.
//!   Demo accounts are exempt (`users.totp_exempt`, set by the demo seeder only, [`set_exempt`]).
//! * **Secrets at rest.** The shared secret is encrypted with the data key
//!   ([`crate::pii::Field::TotpSecret`]) and never stored in clear; a key rotation re-encrypts
//!   it ([`rotate_secrets`]).
//! * **Enrolment.** [`begin_enrolment`] (password again; replacing an enabled authenticator also
//!   takes a current code) makes a pending secret; [`confirm`] enables it with a first code and
//!   returns ten recovery codes, shown once and stored as SHA-256 only.
//! * **Login.** See [`login`]: the password step leaves a five-minute challenge, the code (or a
//!   recovery code) turns it into a user; failed codes count toward the S2 lockout.
//! * **Replay.** The time step of an accepted code is kept (`last_step`); a code of that step or
//!   an earlier one is refused, with a conditional update so that two requests racing with the
//!   same code cannot both pass.

pub mod login;

use crate::accounts;
use crate::entity::user;
use crate::pii::Field;
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Utc};
use peixun_domain::role::Role;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The issuer an authenticator app shows beside the account.
pub const ISSUER: &str = "peixun 海珠区培训中心";
/// Seconds per time step (RFC 6238 §5.2).
pub const STEP_SECS: u64 = 30;
/// Digits of a code.
pub const DIGITS: u8 = 6;
/// Steps of clock skew accepted either way (RFC 6238 §5.2 recommends one).
pub const SKEW: u16 = 1;
/// Recovery codes made at each enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Bytes of a new shared secret (160 bits, RFC 4226 §4).
const SECRET_BYTES: usize = 20;
/// The alphabet of recovery codes (Crockford's base32: no i, l, o, u).
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters of a recovery code (80 bits), shown in groups of four.
const RECOVERY_CHARS: usize = 16;

/// `user_totp`: one row per user that has begun enrolling.
pub mod totp_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_totp")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        /// `pending` or `enabled`.
        pub state: String,
        /// The confirmed secret (encrypted, `v1:…`); `None` until the first confirmation.
        pub secret: Option<String>,
        /// A secret awaiting its first code (encrypted): a first enrolment or a replacement.
        pub pending_secret: Option<String>,
        pub enabled_at: Option<DateTimeUtc>,
        /// The time step of the last accepted code (replay protection).
        pub last_step: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `totp_recovery_codes`: the SHA-256 of each recovery code.
pub mod recovery_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "totp_recovery_codes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub code_hash: String,
        pub created_at: DateTimeUtc,
        pub used_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

const STATE_PENDING: &str = "pending";
const STATE_ENABLED: &str = "enabled";

/// Where a user stands with the second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TotpState {
    NotEnrolled,
    Pending,
    Enabled,
}

/// What the account page and `GET /api/v1/auth/totp/status` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TotpStatus {
    pub state: TotpState,
    /// The role requires TOTP and the account is not exempt.
    pub required: bool,
    /// A demo account that may sign in without TOTP.
    pub exempt: bool,
    pub enabled_at: Option<DateTime<Utc>>,
    /// A new authenticator is being set up while the old one still works.
    pub replacing: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u64,
}

/// A secret to put in an authenticator app: the `otpauth://` URL (for the QR code) and the
/// base32 secret (for typing in). Never logged.
#[derive(Clone, Serialize)]
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_url: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(<redacted>)")
    }
}

/// The outcome of checking one code against a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeCheck {
    /// Valid, at this time step, and newer than the last accepted one.
    Accepted(i64),
    /// Valid, but its step was already used.
    Replayed,
    Wrong,
}

pub(crate) fn code_wrong(field: &str) -> StoreError {
    StoreError::validation(
        "TOTP_CODE_WRONG",
        "验证码不正确、已过期或已使用过：请输入验证器当前显示的6位数字（S4）",
        field,
    )
}

fn internal(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(format!("totp: {what}: {e}")))
}

fn builder(secret: Vec<u8>, account: &str) -> totp_rs::Builder {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW)
        .with_step_duration(STEP_SECS)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account.replace(':', "_"))
}

fn totp_for(secret_b32: &str, account: &str) -> Result<totp_rs::Totp> {
    let bytes = totp_rs::Secret::try_from_base32(secret_b32)
        .map_err(|e| internal("secret", e))?
        .as_bytes()
        .to_vec();
    builder(bytes, account)
        .build()
        .map_err(|e| internal("build", e))
}

/// Seconds since the epoch (a time before 1970 is 0).
fn unix(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0)
}

/// Only ASCII digits, spaces removed: a code as typed ("123 456").
fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Check `code` at `now` (±[`SKEW`] steps) against a base32 secret, refusing steps up to
/// `last_step`.
pub(crate) fn check_code(
    secret_b32: &str,
    code: &str,
    now: DateTime<Utc>,
    last_step: Option<i64>,
) -> Result<CodeCheck> {
    let code = normalise_code(code);
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(CodeCheck::Wrong);
    }
    let totp = totp_for(secret_b32, "check")?;
    Ok(match totp.check(&code, unix(now)) {
        None => CodeCheck::Wrong,
        Some(step) => {
            let step = i64::try_from(step).unwrap_or(i64::MAX);
            if last_step.is_some_and(|last| step <= last) {
                CodeCheck::Replayed
            } else {
                CodeCheck::Accepted(step)
            }
        }
    })
}

/// Record `step` as the last accepted one, unless another request got there first (then
/// `false`: the code was replayed).
pub(crate) async fn claim_step<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    step: i64,
) -> Result<bool> {
    let r = totp_row::Entity::update_many()
        .col_expr(totp_row::Column::LastStep, Expr::value(step))
        .filter(totp_row::Column::UserId.eq(user_id))
        .filter(
            sea_orm::Condition::any()
                .add(totp_row::Column::LastStep.is_null())
                .add(totp_row::Column::LastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

fn new_secret_b32() -> String {
    let mut b = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut b);
    totp_rs::Secret::from(b).to_base32()
}

fn encrypt(store: &Store, secret_b32: &str) -> Result<String> {
    Ok(store
        .keys()?
        .data
        .encrypt_field(Field::TotpSecret, secret_b32))
}

pub(crate) fn decrypt(store: &Store, stored: &str) -> Result<String> {
    Ok(store
        .keys()?
        .data
        .decrypt_field(Field::TotpSecret, stored)?)
}

/// A recovery code as typed: lower case, without spaces and hyphens.
fn normalise_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `code` has the shape of a recovery code rather than a 6-digit code.
pub fn looks_like_recovery_code(code: &str) -> bool {
    let n = normalise_recovery(code);
    n.len() == RECOVERY_CHARS && n.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))
}

pub(crate) fn recovery_hash(user_id: i64, code: &str) -> String {
    hex::encode(
        Sha256::new()
            .chain_update(b"peixun/totp-recovery/v1\0")
            .chain_update(user_id.to_be_bytes())
            .chain_update(normalise_recovery(code).as_bytes())
            .finalize(),
    )
}

fn new_recovery_code() -> String {
    let mut b = [0u8; RECOVERY_CHARS];
    rand::rng().fill_bytes(&mut b);
    let chars: Vec<char> = b
        .iter()
        .map(|x| RECOVERY_ALPHABET[usize::from(x & 31)] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

async fn user_row<C: ConnectionTrait>(db: &C, user_id: i64) -> Result<user::Model> {
    user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })
}

fn role_of(u: &user::Model) -> Option<Role> {
    u.role.parse().ok()
}

/// The role requires TOTP and the account is not a demo account.
fn required_for(u: &user::Model) -> bool {
    role_of(u).is_some_and(Role::requires_second_factor) && !u.totp_exempt
}

/// Whether the user has an enabled authenticator (read inside the caller's transaction).
pub async fn enabled_in<C: ConnectionTrait>(db: &C, user_id: i64) -> Result<bool> {
    Ok(totp_row::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_some_and(|t| t.secret.is_some()))
}

/// For the server's gate: the account must enrol before it may use anything but the enrolment
/// pages (its role requires TOTP, it is not exempt, and no authenticator is enabled).
pub async fn enrolment_required(store: &Store, user_id: i64) -> Result<bool> {
    let u = user_row(store.db(), user_id).await?;
    Ok(required_for(&u) && !enabled_in(store.db(), user_id).await?)
}

pub(crate) async fn recovery_left<C: ConnectionTrait>(db: &C, user_id: i64) -> Result<u64> {
    Ok(recovery_row::Entity::find()
        .filter(recovery_row::Column::UserId.eq(user_id))
        .filter(recovery_row::Column::UsedAt.is_null())
        .count(db)
        .await?)
}

/// The second-factor status of a user.
pub async fn status(store: &Store, user_id: i64) -> Result<TotpStatus> {
    let u = user_row(store.db(), user_id).await?;
    let row = totp_row::Entity::find_by_id(user_id)
        .one(store.db())
        .await?;
    let state = match &row {
        Some(t) if t.secret.is_some() => TotpState::Enabled,
        Some(_) => TotpState::Pending,
        None => TotpState::NotEnrolled,
    };
    Ok(TotpStatus {
        state,
        required: required_for(&u),
        exempt: u.totp_exempt,
        enabled_at: row.as_ref().and_then(|t| t.enabled_at),
        replacing: row
            .as_ref()
            .is_some_and(|t| t.secret.is_some() && t.pending_secret.is_some()),
        recovery_codes_left: if state == TotpState::Enabled {
            recovery_left(store.db(), user_id).await?
        } else {
            0
        },
    })
}

fn own_account(actor: &Actor, user_id: i64) -> Result<()> {
    if actor.user_id == Some(user_id) {
        Ok(())
    } else {
        Err(StoreError::forbidden("只能为本人账号设置动态验证码"))
    }
}

fn enrolment_of(secret_b32: &str, username: &str) -> Result<Enrolment> {
    let totp = totp_for(secret_b32, username)?;
    Ok(Enrolment {
        secret_base32: secret_b32.to_string(),
        otpauth_url: totp.to_url().map_err(|e| internal("url", e))?,
    })
}

/// The authenticator being set up (a pending secret), to show its QR code again.
pub async fn pending_enrolment(
    store: &Store,
    actor: &Actor,
    user_id: i64,
) -> Result<Option<Enrolment>> {
    own_account(actor, user_id)?;
    let u = user_row(store.db(), user_id).await?;
    match totp_row::Entity::find_by_id(user_id)
        .one(store.db())
        .await?
        .and_then(|t| t.pending_secret)
    {
        Some(p) => Ok(Some(enrolment_of(&decrypt(store, &p)?, &u.username)?)),
        None => Ok(None),
    }
}

/// Start setting up an authenticator (own account only). The password is asked again; when an
/// authenticator is already enabled (replacing it: a new phone), a current code or a recovery
/// code as well — a wrong one counts toward the S2 lockout. The old authenticator keeps working
/// until the new one is confirmed. Audited `totp.enrol`.
pub async fn begin_enrolment(
    store: &Store,
    actor: &Actor,
    user_id: i64,
    password: &str,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Enrolment> {
    own_account(actor, user_id)?;
    let now = db_time(now);
    let u = user_row(store.db(), user_id).await?;
    if !accounts::verify_password_of(&u, password).await {
        return Err(StoreError::validation(
            "PASSWORD_WRONG",
            "当前密码不正确",
            "password",
        ));
    }
    let existing = totp_row::Entity::find_by_id(user_id)
        .one(store.db())
        .await?;
    let replacing = existing.as_ref().is_some_and(|t| t.secret.is_some());
    if replacing {
        login::second_factor_or_fail(store, actor, &u, code.unwrap_or(""), "code", now).await?;
    }
    let secret = new_secret_b32();
    let enc = encrypt(store, &secret)?;
    let txn = store.begin_write().await?;
    match existing {
        Some(t) => {
            let mut am: totp_row::ActiveModel = t.into();
            am.pending_secret = Set(Some(enc));
            am.updated_at = Set(now);
            am.update(&txn).await?;
        }
        None => {
            totp_row::ActiveModel {
                user_id: Set(user_id),
                state: Set(STATE_PENDING.into()),
                secret: Set(None),
                pending_secret: Set(Some(enc)),
                enabled_at: Set(None),
                last_step: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
    }
    audit::append(
        &txn,
        actor,
        "totp.enrol",
        "user",
        Some(user_id.to_string()),
        None,
        Some(serde_json::json!({ "replacing": replacing })),
        now,
    )
    .await?;
    txn.commit().await?;
    enrolment_of(&secret, &u.username)
}

/// Confirm the pending authenticator with its first code: it becomes the enabled one, and ten
/// new recovery codes replace any earlier ones. Returns the recovery codes — the only time they
/// are shown. A wrong code changes nothing (and is not counted: the secret is new). Audited
/// `totp.enable`.
pub async fn confirm(
    store: &Store,
    actor: &Actor,
    user_id: i64,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    own_account(actor, user_id)?;
    let now = db_time(now);
    let Some(t) = totp_row::Entity::find_by_id(user_id)
        .one(store.db())
        .await?
        .filter(|t| t.pending_secret.is_some())
    else {
        return Err(StoreError::validation(
            "TOTP_NOT_PENDING",
            "请先开始设置动态验证码（扫描二维码），再输入验证码（S4）",
            "code",
        ));
    };
    let pending = t.pending_secret.clone().unwrap_or_default();
    let secret = decrypt(store, &pending)?;
    // A new secret: no step of it was used yet.
    let step = match check_code(&secret, code, now, None)? {
        CodeCheck::Accepted(step) => step,
        CodeCheck::Replayed | CodeCheck::Wrong => return Err(code_wrong("code")),
    };
    let replaced = t.secret.is_some();
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let txn = store.begin_write().await?;
    // Confirm only the secret that was read (a second confirmation racing this one fails).
    let r = totp_row::Entity::update_many()
        .col_expr(totp_row::Column::Secret, Expr::value(Some(pending.clone())))
        .col_expr(totp_row::Column::PendingSecret, Expr::value(None::<String>))
        .col_expr(totp_row::Column::State, Expr::value(STATE_ENABLED))
        .col_expr(totp_row::Column::EnabledAt, Expr::value(Some(now)))
        .col_expr(totp_row::Column::LastStep, Expr::value(Some(step)))
        .col_expr(totp_row::Column::UpdatedAt, Expr::value(now))
        .filter(totp_row::Column::UserId.eq(user_id))
        .filter(totp_row::Column::PendingSecret.eq(pending))
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(code_wrong("code"));
    }
    recovery_row::Entity::delete_many()
        .filter(recovery_row::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    for c in &codes {
        recovery_row::ActiveModel {
            user_id: Set(user_id),
            code_hash: Set(recovery_hash(user_id, c)),
            created_at: Set(now),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    audit::append(
        &txn,
        actor,
        "totp.enable",
        "user",
        Some(user_id.to_string()),
        None,
        Some(serde_json::json!({ "replaced": replaced, "recovery_codes": RECOVERY_CODES })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(codes)
}

/// Delete a user's authenticator, recovery codes and open login challenges (inside `txn`).
async fn remove_all<C: ConnectionTrait>(db: &C, user_id: i64) -> Result<()> {
    recovery_row::Entity::delete_many()
        .filter(recovery_row::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    login::challenge_row::Entity::delete_many()
        .filter(login::challenge_row::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    totp_row::Entity::delete_by_id(user_id).exec(db).await?;
    Ok(())
}

/// Turn the second factor off (own account): the password and a current code (or a recovery
/// code) are required, and failures count toward the S2 lockout. Refused for a role that
/// requires TOTP (to change phones, enrol a new authenticator instead). Audited `totp.disable`.
pub async fn disable(
    store: &Store,
    actor: &Actor,
    user_id: i64,
    password: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    own_account(actor, user_id)?;
    let now = db_time(now);
    let u = user_row(store.db(), user_id).await?;
    if required_for(&u) {
        return Err(StoreError::validation(
            "TOTP_REQUIRED",
            "您的角色必须使用动态验证码，不能关闭（S4）；更换手机请重新设置验证器",
            "code",
        ));
    }
    if !enabled_in(store.db(), user_id).await? {
        return Err(StoreError::validation(
            "TOTP_NOT_ENABLED",
            "动态验证码尚未启用",
            "code",
        ));
    }
    if !accounts::verify_password_of(&u, password).await {
        return Err(StoreError::validation(
            "PASSWORD_WRONG",
            "当前密码不正确",
            "password",
        ));
    }
    login::second_factor_or_fail(store, actor, &u, code, "code", now).await?;
    let txn = store.begin_write().await?;
    remove_all(&txn, user_id).await?;
    audit::append(
        &txn,
        actor,
        "totp.disable",
        "user",
        Some(user_id.to_string()),
        None,
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A sysadmin clears another account's authenticator (a lost phone and no recovery code left):
/// the authenticator, its recovery codes and open login challenges go, and an account whose
/// role requires TOTP must enrol again at its next login. Audited `totp.clear`. For the
/// administrator reset path only (the two-person reset flow calls it); nothing else does.
pub async fn clear_totp(
    store: &Store,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    if !(actor.is_system() || actor.role == Some(Role::Sysadmin)) {
        return Err(StoreError::forbidden("只有系统管理员可以清除动态验证码"));
    }
    let now = db_time(now);
    let txn = store.begin_write().await?;
    clear_in_txn(&txn, actor, user_id, now).await?;
    txn.commit().await?;
    Ok(())
}

/// [`clear_totp`]'s work inside the caller's write transaction (the two-person reset confirms
/// with it; the caller has checked who may).
pub(crate) async fn clear_in_txn(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    user_row(txn, user_id).await?;
    let old = totp_row::Entity::find_by_id(user_id).one(txn).await?;
    remove_all(txn, user_id).await?;
    audit::append(
        txn,
        actor,
        "totp.clear",
        "user",
        Some(user_id.to_string()),
        Some(serde_json::json!({
            "state": old.as_ref().map(|t| t.state.clone()),
        })),
        None,
        now,
    )
    .await?;
    Ok(())
}

/// Mark a demo account exempt (or not) from the TOTP requirement. Only the system actor (the
/// demo seeder) may; audited `totp.exempt`.
pub async fn set_exempt(
    store: &Store,
    actor: &Actor,
    user_id: i64,
    exempt: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    if !actor.is_system() {
        return Err(StoreError::forbidden(
            "只有演示数据初始化可以免除动态验证码",
        ));
    }
    let now = db_time(now);
    let txn = store.begin_write().await?;
    let u = user_row(&txn, user_id).await?;
    let mut am: user::ActiveModel = u.into();
    am.totp_exempt = Set(exempt);
    am.update(&txn).await?;
    audit::append(
        &txn,
        actor,
        "totp.exempt",
        "user",
        Some(user_id.to_string()),
        None,
        Some(serde_json::json!({ "exempt": exempt })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Re-encrypt every TOTP secret not under the current data key (the key rotation, S14).
/// Returns how many rows changed.
pub(crate) async fn rotate_secrets(store: &Store, keys: &crate::pii::DataKeys) -> Result<u64> {
    let txn = store.begin_write().await?;
    let rows = totp_row::Entity::find().all(&txn).await?;
    let mut done = 0;
    for t in rows {
        let refresh = |v: &Option<String>| -> Result<Option<String>> {
            match v {
                Some(s) => Ok(keys.refresh_field(Field::TotpSecret, s)?),
                None => Ok(None),
            }
        };
        let (s, p) = (refresh(&t.secret)?, refresh(&t.pending_secret)?);
        if s.is_none() && p.is_none() {
            continue;
        }
        let mut am = totp_row::ActiveModel {
            user_id: Set(t.user_id),
            ..Default::default()
        };
        if let Some(s) = s {
            am.secret = Set(Some(s));
        }
        if let Some(p) = p {
            am.pending_secret = Set(Some(p));
        }
        am.update(&txn).await?;
        done += 1;
    }
    txn.commit().await?;
    Ok(done)
}
