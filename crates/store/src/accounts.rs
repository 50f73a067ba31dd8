//! User accounts: creation with the password rules (S1), separation of duties (S7), login with
//! lockout (S2), password changes and resets.

use crate::entity::{institution, user};
use crate::{
    Actor, FieldProblem, Page, PageRequest, Problems, Result, Store, StoreError, audit, db_time,
    map_unique,
};
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use peixun_domain::role::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Consecutive failures that lock an account (S2).
pub const MAX_FAILED_LOGINS: i32 = 5;
/// How long a lockout lasts (S2).
pub const LOCKOUT: Duration = Duration::minutes(15);
/// Minimum password length (S1).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Common passwords (and their obvious variants) refused regardless of their classes (S1).
const BLOCKLIST: &[&str] = &[
    "password",
    "password1",
    "password123",
    "password@123",
    "p@ssw0rd",
    "p@ssword123",
    "passw0rd123",
    "qwerty123456",
    "qwertyuiop",
    "qwer1234",
    "1qaz2wsx3edc",
    "1qaz@wsx",
    "1qaz@wsx3edc",
    "zaq12wsx",
    "abc123456",
    "abcd1234",
    "abc@123456",
    "admin123",
    "admin@123",
    "admin123456",
    "administrator",
    "root123456",
    "welcome123",
    "welcome@123",
    "letmein123",
    "iloveyou123",
    "123456789abc",
    "a123456789",
    "aa123456789",
    "woaini1314",
    "woaini520",
    "huawei@123",
    "huawei123",
    "changeme123",
    "test123456",
    "peixun123456",
    "peixun@123",
    "haizhu123456",
    "guangzhou123",
    "gz123456789",
    "welcome1234",
];

/// The data for a new account.
#[derive(Clone, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub institution_id: Option<i64>,
    pub password: String,
    pub must_change_password: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("institution_id", &self.institution_id)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// An account as the rest of the system sees it (never the hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub institution_id: Option<i64>,
    pub institution_name: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// Filter for [`list_users`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFilter {
    /// Username or display name contains.
    pub q: Option<String>,
    pub role: Option<Role>,
    pub institution_id: Option<i64>,
    pub active: Option<bool>,
}

/// Every S1 rule `password` fails, each a problem on `field` (R-VAL-1: all listed at once).
pub fn password_problems(username: &str, password: &str, field: &str) -> Vec<FieldProblem> {
    let mut out = Vec::new();
    let mut weak = |message: String| out.push(FieldProblem::new("PASSWORD_WEAK", message, field));
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        weak(format!("密码至少{MIN_PASSWORD_CHARS}个字符（当前{n}个）"));
    }
    if n > 128 {
        weak("密码不能超过128个字符".into());
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if classes < 3 {
        weak("密码须包含小写字母、大写字母、数字、符号中的至少三类".into());
    }
    let lower = password.to_lowercase();
    let username = username.trim().to_lowercase();
    if !username.is_empty() && lower.contains(&username) {
        weak("密码不能包含用户名".into());
    }
    if BLOCKLIST
        .iter()
        .any(|b| lower == *b || lower.trim_end_matches(['!', '.', '#']) == *b)
    {
        weak("该密码过于常见，请换一个".into());
    }
    let first = password.chars().next().unwrap_or(' ');
    if n > 0 && password.chars().all(|c| c == first) {
        weak("密码不能由同一字符重复组成".into());
    }
    out
}

/// S1 password rules. Pure; the server may call it to validate a form before submitting. Every
/// failed rule is reported (one: `Validation`, several: `Invalid`), all on the field `password`.
pub fn check_password_rules(username: &str, password: &str) -> Result<()> {
    StoreError::check(password_problems(username, password, "password"))
}

fn argon2() -> Argon2<'static> {
    // argon2id, m = 19456 KiB, t = 2, p = 1 (S1; OWASP minimum).
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hash a password (argon2id PHC string).
pub fn hash_password(password: &str) -> Result<String> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("password hashing: {e}"))))
}

fn verify_password(password: &str, phc: &str) -> bool {
    if phc == crate::credentials::NO_PASSWORD {
        // No password issued yet: the same work as a wrong password (S2).
        let _ = verify_phc(password, dummy_hash());
        return false;
    }
    if let Some(halves) = phc.strip_prefix(crate::credentials::SPLIT_PREFIX) {
        return crate::credentials::verify_halves(password, halves, verify_phc);
    }
    verify_phc(password, phc)
}

fn verify_phc(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// [`hash_password`] on the blocking pool: argon2 is deliberately slow and must not hold an async
/// worker (S2; DEVELOPERS.md "Blocking work").
pub async fn hash_password_off_thread(password: &str) -> Result<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("password hashing: {e}"))))?
}

/// Verify on the blocking pool; `None` verifies against the dummy hash (an unknown user: the
/// same work, so the same time, S2) and is always `false`.
async fn verify_password_off_thread(password: &str, phc: Option<&str>) -> bool {
    let password = password.to_string();
    let phc = phc.map(str::to_string);
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_password(&password, &phc),
        None => {
            let _ = verify_password(&password, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that both answers take the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("dummy-Password#for-timing").unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0000000000000000000000000000000000000000000".into()
        })
    })
}

fn auth_failed() -> StoreError {
    StoreError::Validation {
        code: "AUTH_FAILED",
        message: "用户名或密码错误".into(),
        field: None,
    }
}

fn parse_role(s: &str) -> Result<Role> {
    s.parse::<Role>().map_err(|e| {
        StoreError::Db(sea_orm::DbErr::Custom(format!(
            "bad role in users table: {e}"
        )))
    })
}

pub(crate) async fn view<C: ConnectionTrait>(db: &C, m: user::Model) -> Result<UserView> {
    let institution_name = match m.institution_id {
        Some(id) => institution::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|i| i.name),
        None => None,
    };
    Ok(UserView {
        id: m.id,
        username: m.username,
        display_name: m.display_name,
        role: parse_role(&m.role)?,
        institution_id: m.institution_id,
        institution_name,
        active: m.active,
        must_change_password: m.must_change_password,
        locked_until: m.locked_until,
        last_login_at: m.last_login_at,
    })
}

/// The audit snapshot of an account (never the hash).
pub(crate) fn snapshot(m: &user::Model) -> serde_json::Value {
    serde_json::json!({
        "username": m.username,
        "display_name": m.display_name,
        "role": m.role,
        "institution_id": m.institution_id,
        "active": m.active,
        "must_change_password": m.must_change_password,
        "locked_until": m.locked_until.map(audit::canonical_time),
    })
}

fn require_user_admin(actor: &Actor) -> Result<()> {
    if actor.is_system() || actor.role == Some(Role::Sysadmin) {
        Ok(())
    } else {
        Err(StoreError::forbidden("只有系统管理员可以管理账号"))
    }
}

fn check_username(username: &str) -> std::result::Result<String, FieldProblem> {
    let u = username.trim();
    let ok = (3..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(u.to_string())
    } else {
        Err(FieldProblem::new(
            "USERNAME_INVALID",
            "用户名为3–32位字母、数字、下划线、连字符或点",
            "username",
        ))
    }
}

/// Every problem with a new account's fields, none looked up in the database (R-VAL-1, S1, S7):
/// username, display name, the role/institution binding and each failed password rule. `role`
/// is `None` when the caller could not read one (it reports that itself); the binding is then
/// not checked.
pub fn new_user_problems(
    username: &str,
    display_name: &str,
    role: Option<Role>,
    institution_id: Option<i64>,
    password: &str,
) -> Vec<FieldProblem> {
    let mut p = account_problems(username, display_name, role, institution_id);
    p.extend(password_problems(username, password, "password"));
    p
}

/// [`new_user_problems`] without the password: an account whose password is issued later by two
/// people (`credentials`).
pub fn account_problems(
    username: &str,
    display_name: &str,
    role: Option<Role>,
    institution_id: Option<i64>,
) -> Vec<FieldProblem> {
    let mut p = Problems::default();
    p.take(check_username(username));
    if display_name.trim().chars().count() > 64 {
        p.push(FieldProblem::new(
            "DISPLAY_NAME_INVALID",
            "姓名不能超过64个字符",
            "display_name",
        ));
    } else if let Err(e) = peixun_domain::text::check_name("display_name", display_name.trim()) {
        p.push(e.into());
    }
    match (role.map(Role::is_institution), institution_id) {
        (Some(true), None) => p.push(FieldProblem::new(
            "INSTITUTION_REQUIRED",
            "培训机构账号必须绑定所属机构",
            "institution_id",
        )),
        (Some(false), Some(_)) => p.push(FieldProblem::new(
            "INSTITUTION_NOT_ALLOWED",
            "只有培训机构账号可以绑定机构",
            "institution_id",
        )),
        _ => {}
    }
    p.into_vec()
}

/// Create an account (sysadmin or the system). One role per account (S7): institution roles need
/// an institution, other roles must not have one. Every field problem is reported at once; the
/// institution's existence and a taken username are checked after the fields are good.
pub async fn create_user(
    store: &Store,
    actor: &Actor,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<UserView> {
    require_user_admin(actor)?;
    StoreError::check(new_user_problems(
        &new.username,
        &new.display_name,
        Some(new.role),
        new.institution_id,
        &new.password,
    ))?;
    let username = new.username.trim().to_string();
    let display_name = new.display_name.trim().to_string();
    let display_name = if display_name.is_empty() {
        username.clone()
    } else {
        display_name
    };
    // Hash outside the write transaction: the SQLite write lock is not held while hashing.
    let hash = hash_password_off_thread(&new.password).await?;
    let txn = store.begin_write().await?;
    let m = insert_user(&txn, actor, &new, username, display_name, hash, now).await?;
    let v = view(&txn, m).await?;
    txn.commit().await?;
    Ok(v)
}

/// Insert a checked account with `password_hash` inside the caller's write transaction: the
/// institution must exist and the username be free; audited as `user.create`.
pub(crate) async fn insert_user(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    new: &NewUser,
    username: String,
    display_name: String,
    hash: String,
    now: DateTime<Utc>,
) -> Result<user::Model> {
    let now = db_time(now);
    if let Some(inst) = new.institution_id
        && institution::Entity::find_by_id(inst)
            .one(txn)
            .await?
            .is_none()
    {
        return Err(StoreError::validation(
            "INSTITUTION_NOT_FOUND",
            "所选机构不存在",
            "institution_id",
        ));
    }
    if user::Entity::find()
        .filter(user::Column::Username.eq(&username))
        .one(txn)
        .await?
        .is_some()
    {
        return Err(StoreError::conflict(
            "USERNAME_TAKEN",
            "该用户名已被使用",
            "username",
        ));
    }
    let m = user::ActiveModel {
        username: Set(username),
        display_name: Set(display_name),
        role: Set(new.role.code().to_string()),
        institution_id: Set(new.institution_id),
        password_hash: Set(hash),
        active: Set(true),
        must_change_password: Set(new.must_change_password),
        failed_logins: Set(0),
        locked_until: Set(None),
        last_login_at: Set(None),
        password_changed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| map_unique(e, "USERNAME_TAKEN", "该用户名已被使用", "username"))?;
    audit::append(
        txn,
        actor,
        "user.create",
        "user",
        Some(m.id.to_string()),
        None,
        Some(snapshot(&m)),
        now,
    )
    .await?;
    Ok(m)
}

/// Whether `password` is the account's (on the blocking pool). For re-authentication before a
/// sensitive change of one's own account (S4 enrolment).
pub(crate) async fn verify_password_of(u: &user::Model, password: &str) -> bool {
    verify_password_off_thread(password, Some(&u.password_hash)).await
}

/// What a correct password leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordOutcome {
    /// Logged in (`auth.login` audited).
    LoggedIn(UserView),
    /// The account has TOTP enabled: the login is complete only after the second step
    /// ([`crate::totp::login`]). `auth.password_ok` audited; the failure count is kept, so
    /// that a known password does not reset the count of wrong codes (S2, S4).
    SecondFactor(UserView),
}

/// Log in with a password alone. An account with TOTP enabled is refused here
/// (`SECOND_FACTOR_REQUIRED`): use [`authenticate_password`] and the second step.
pub async fn authenticate(
    store: &Store,
    username: &str,
    password: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<UserView> {
    match authenticate_password(store, username, password, ip, now).await? {
        PasswordOutcome::LoggedIn(u) => Ok(u),
        PasswordOutcome::SecondFactor(_) => Err(StoreError::Validation {
            code: "SECOND_FACTOR_REQUIRED",
            message: "该账号须输入动态验证码（S4）".into(),
            field: None,
        }),
    }
}

/// The password step of a login. Unknown user and wrong password give the same error and take
/// the same time. Five consecutive failures lock the account for 15 minutes (S2). Failures,
/// successes and lockouts are audited.
pub async fn authenticate_password(
    store: &Store,
    username: &str,
    password: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PasswordOutcome> {
    let now = db_time(now);
    let username = username.trim();
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(store.db())
        .await?;
    let ok = verify_password_off_thread(password, found.as_ref().map(|u| u.password_hash.as_str()))
        .await;
    let mut actor = Actor {
        user_id: None,
        username: username.chars().take(64).collect(),
        role: None,
        institution_id: None,
        ip: ip.map(str::to_string),
        request_id: None,
    };
    let Some(found) = found else {
        let txn = store.begin_write().await?;
        audit::append(
            &txn,
            &actor,
            "auth.login_failed",
            "user",
            None,
            None,
            Some(serde_json::json!({ "reason": "unknown_user" })),
            now,
        )
        .await?;
        txn.commit().await?;
        return Err(auth_failed());
    };
    actor.user_id = Some(found.id);
    actor.role = found.role.parse().ok();
    actor.institution_id = found.institution_id;

    let txn = store.begin_write().await?;
    // Re-read inside the write transaction: counters are updated under the write lock.
    let u = user::Entity::find_by_id(found.id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    if let Some(until) = u.locked_until
        && until > now
    {
        audit::append(
            &txn,
            &actor,
            "auth.login_refused_locked",
            "user",
            Some(u.id.to_string()),
            None,
            Some(serde_json::json!({ "locked_until": audit::canonical_time(until) })),
            now,
        )
        .await?;
        txn.commit().await?;
        return Err(StoreError::Locked { until });
    }
    // A lock that has expired starts a fresh count.
    let prior = if u.locked_until.is_some() {
        0
    } else {
        u.failed_logins
    };
    if !ok || !u.active {
        let failures = prior + 1;
        let lock = (failures >= MAX_FAILED_LOGINS).then(|| now + LOCKOUT);
        let mut am: user::ActiveModel = u.clone().into();
        am.failed_logins = Set(if lock.is_some() { 0 } else { failures });
        am.locked_until = Set(lock);
        am.update(&txn).await?;
        let reason = if ok { "inactive" } else { "wrong_password" };
        audit::append(
            &txn,
            &actor,
            "auth.login_failed",
            "user",
            Some(u.id.to_string()),
            None,
            Some(serde_json::json!({ "reason": reason, "failures": failures })),
            now,
        )
        .await?;
        if let Some(until) = lock {
            audit::append(
                &txn,
                &actor,
                "auth.lockout",
                "user",
                Some(u.id.to_string()),
                None,
                Some(serde_json::json!({ "locked_until": audit::canonical_time(until) })),
                now,
            )
            .await?;
            txn.commit().await?;
            return Err(StoreError::Locked { until });
        }
        txn.commit().await?;
        return Err(auth_failed());
    }
    if crate::totp::enabled_in(&txn, u.id).await? {
        // Step one of two: keep the failure count (wrong codes add to it), clear an expired lock.
        let mut am: user::ActiveModel = u.clone().into();
        am.failed_logins = Set(prior);
        am.locked_until = Set(None);
        let m = am.update(&txn).await?;
        audit::append(
            &txn,
            &actor,
            "auth.password_ok",
            "user",
            Some(m.id.to_string()),
            None,
            Some(serde_json::json!({ "second_factor": "totp" })),
            now,
        )
        .await?;
        let v = view(&txn, m).await?;
        txn.commit().await?;
        return Ok(PasswordOutcome::SecondFactor(v));
    }
    let mut am: user::ActiveModel = u.clone().into();
    am.failed_logins = Set(0);
    am.locked_until = Set(None);
    am.last_login_at = Set(Some(now));
    let m = am.update(&txn).await?;
    audit::append(
        &txn,
        &actor,
        "auth.login",
        "user",
        Some(m.id.to_string()),
        None,
        None,
        now,
    )
    .await?;
    let v = view(&txn, m).await?;
    txn.commit().await?;
    Ok(PasswordOutcome::LoggedIn(v))
}

/// A user changes their own password (the old one is required). Clears `must_change_password`.
/// Every other session of the user ends in the same transaction (S3; ASVS 3.3.3): all of them
/// except `keep_session_id` (the session the change was made from), or all when `None` (the
/// caller then starts a fresh session). Returns how many sessions ended.
pub async fn change_password(
    store: &Store,
    actor: &Actor,
    user_id: i64,
    old: &str,
    new: &str,
    keep_session_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<u64> {
    if actor.user_id != Some(user_id) {
        return Err(StoreError::forbidden("只能修改本人的密码"));
    }
    let now = db_time(now);
    let u = user::Entity::find_by_id(user_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    // Every problem at once (R-VAL-1): a wrong old password, each failed rule, an unchanged one.
    let mut p = Problems::default();
    if !verify_password_off_thread(old, Some(&u.password_hash)).await {
        p.push(FieldProblem::new(
            "OLD_PASSWORD_WRONG",
            "原密码不正确",
            "old_password",
        ));
    }
    p.extend(password_problems(&u.username, new, "new_password"));
    if old == new {
        p.push(FieldProblem::new(
            "PASSWORD_UNCHANGED",
            "新密码不能与原密码相同",
            "new_password",
        ));
    }
    p.finish()?;
    let hash = hash_password_off_thread(new).await?;
    let txn = store.begin_write().await?;
    let mut am: user::ActiveModel = u.into();
    am.password_hash = Set(hash);
    am.must_change_password = Set(false);
    am.password_changed_at = Set(now);
    am.updated_at = Set(now);
    am.update(&txn).await?;
    let ended = end_sessions(&txn, user_id, keep_session_id).await?;
    audit::append(
        &txn,
        actor,
        "user.password_change",
        "user",
        Some(user_id.to_string()),
        None,
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(ended)
}

/// Delete the sessions of `user_id` (but `keep`) inside the caller's write transaction.
pub(crate) async fn end_sessions(
    txn: &sea_orm::DatabaseTransaction,
    user_id: i64,
    keep: Option<i64>,
) -> Result<u64> {
    use crate::entity::session;
    let mut q = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
    if let Some(k) = keep {
        q = q.filter(session::Column::Id.ne(k));
    }
    Ok(q.exec(txn).await?.rows_affected)
}

/// Activate or deactivate an account (sysadmin). Deactivation ends its sessions in the same
/// transaction.
pub async fn set_user_active(
    store: &Store,
    actor: &Actor,
    user_id: i64,
    active: bool,
    now: DateTime<Utc>,
) -> Result<UserView> {
    require_user_admin(actor)?;
    if actor.user_id == Some(user_id) && !active {
        return Err(StoreError::validation(
            "CANNOT_DEACTIVATE_SELF",
            "不能停用自己的账号",
            "active",
        ));
    }
    let now = db_time(now);
    let txn = store.begin_write().await?;
    let u = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    let old = snapshot(&u);
    let mut am: user::ActiveModel = u.into();
    am.active = Set(active);
    am.updated_at = Set(now);
    let m = am.update(&txn).await?;
    if !active {
        end_sessions(&txn, user_id, None).await?;
    }
    audit::append(
        &txn,
        actor,
        if active {
            "user.activate"
        } else {
            "user.deactivate"
        },
        "user",
        Some(user_id.to_string()),
        Some(old),
        Some(snapshot(&m)),
        now,
    )
    .await?;
    let v = view(&txn, m).await?;
    txn.commit().await?;
    Ok(v)
}

/// One account.
pub async fn get_user(store: &Store, id: i64) -> Result<UserView> {
    let m = user::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    view(store.db(), m).await
}

/// Find an account by username.
pub async fn find_user_by_username(store: &Store, username: &str) -> Result<Option<UserView>> {
    match user::Entity::find()
        .filter(user::Column::Username.eq(username.trim()))
        .one(store.db())
        .await?
    {
        Some(m) => Ok(Some(view(store.db(), m).await?)),
        None => Ok(None),
    }
}

/// The number of accounts (first start: print a one-time admin password when 0).
pub async fn count_users(store: &Store) -> Result<u64> {
    Ok(user::Entity::find().count(store.db()).await?)
}

/// Accounts, ordered by id. Only the sysadmin (or the system) may list them (S7; defence in
/// depth behind the route table).
pub async fn list_users(
    store: &Store,
    viewer: &Actor,
    filter: &UserFilter,
    page: &PageRequest,
) -> Result<Page<UserView>> {
    if !(viewer.is_system() || viewer.role == Some(Role::Sysadmin)) {
        return Err(StoreError::forbidden("只有系统管理员可以查看账号"));
    }
    let mut q = user::Entity::find();
    if let Some(s) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            Condition::any()
                .add(user::Column::Username.contains(s))
                .add(user::Column::DisplayName.contains(s)),
        );
    }
    if let Some(r) = filter.role {
        q = q.filter(user::Column::Role.eq(r.code()));
    }
    if let Some(i) = filter.institution_id {
        q = q.filter(user::Column::InstitutionId.eq(i));
    }
    if let Some(a) = filter.active {
        q = q.filter(user::Column::Active.eq(a));
    }
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(user::Column::Id.gt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_asc(user::Column::Id)
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
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(view(store.db(), r).await?);
    }
    Ok(Page {
        items,
        total,
        next_after_id,
        per_page: limit,
    })
}
