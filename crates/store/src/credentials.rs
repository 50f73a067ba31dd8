//! 账号凭据下发 — giving an account a password takes two people (SECURITY.md S7 separation of
//! duties, S4).
//!
//! A sysadmin manages accounts but must not be able to become one of them. So a sysadmin never
//! sets or sees a whole password: creating an account or resetting a password only *requests* a
//! credential. The request hands the sysadmin the first half of a one-time password; a second
//! person confirms it and receives the second half:
//!
//! * a centre_admin confirms any request, except one for their own account or one they made;
//! * an institution's admin may confirm for the staff of their own institution.
//!
//! The account's password becomes the two halves together (`Ak4m-Bp5r` + `Cd6e-Ef7g`), which the
//! owner must replace at the next login (the `must_change_password` gate), so neither person
//! alone can sign in — and a pair who collude leave two named, audited steps. Until the
//! confirmation a reset changes nothing (the old password still works; a new account has no usable
//! password). A request expires after [`REQUEST_VALID`]; a new request for the same account
//! replaces a pending one. Only argon2 hashes of the halves are stored.
//!
//! Break-glass: the host's operator can still run `peixun user add` (outside the application's
//! roles), e.g. to create the first centre_admin of a new installation.

use crate::accounts::{self, NewUser, UserView};
use crate::entity::user;
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Duration, Utc};
use peixun_domain::role::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use serde::{Deserialize, Serialize};

/// How long a request may wait for its confirmation.
pub const REQUEST_VALID: Duration = Duration::hours(72);
/// `users.password_hash` of an account whose first password has not been issued yet: no
/// password verifies against it.
pub const NO_PASSWORD: &str = "!credential-pending";
/// `users.password_hash` prefix of a two-person password: `<prefix><phc of half 1> <phc of half 2>`.
pub const SPLIT_PREFIX: &str = "peixun-split2 ";
/// Letters and digits in one half (shown as two groups of four).
pub const HALF_CHARS: usize = 8;
/// The most characters of a request's reason.
pub const REASON_MAX_CHARS: usize = 500;

/// The `credential_requests` table.
pub mod request_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "credential_requests")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        /// `create` / `reset`.
        pub kind: String,
        pub reason: String,
        /// argon2 PHC of the first half; cleared once the request is decided.
        pub first_half_hash: Option<String>,
        pub requested_by: i64,
        pub requested_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        /// `pending` / `confirmed` / `cancelled`.
        pub state: String,
        pub decided_by: Option<i64>,
        pub decided_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What a request issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// 新建账号 — the account's first password.
    Create,
    /// 重置密码 — a new password for an existing account.
    Reset,
    /// 重置密码并清除动态验证码 — a new password, and the account's authenticator (S4) cleared:
    /// a lost phone with no recovery code left. The owner enrols again at the next login.
    ResetAuthenticator,
}

impl RequestKind {
    pub fn code(self) -> &'static str {
        match self {
            RequestKind::Create => "create",
            RequestKind::Reset => "reset",
            RequestKind::ResetAuthenticator => "reset_totp",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            RequestKind::Create => "新建账号",
            RequestKind::Reset => "重置密码",
            RequestKind::ResetAuthenticator => "重置密码并清除动态验证码",
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Pending,
    /// Pending past its expiry: can no longer be confirmed.
    Expired,
    Confirmed,
    Cancelled,
}

impl RequestState {
    pub fn label(self) -> &'static str {
        match self {
            RequestState::Pending => "待确认",
            RequestState::Expired => "已过期",
            RequestState::Confirmed => "已确认",
            RequestState::Cancelled => "已撤销",
        }
    }
}

/// A request as its viewers see it (never a hash or a half).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRequest {
    pub id: i64,
    pub kind: RequestKind,
    pub state: RequestState,
    pub reason: String,
    pub user: UserView,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A request with the half of the one-time password given to the caller — shown once.
#[derive(Clone)]
pub struct Issued {
    pub request: CredentialRequest,
    pub half: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("request", &self.request)
            .field("half", &"<redacted>")
            .finish()
    }
}

/// A new account without a password (the password is issued through a request).
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub institution_id: Option<i64>,
}

/// A random half: two groups of upper, lower, digit, lower (`Ak4m-Bp5r`), unambiguous letters.
pub fn new_half() -> String {
    use rand::Rng;
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    let mut rng = rand::rng();
    let groups: Vec<String> = (0..2)
        .map(|_| {
            [UPPER, LOWER, DIGIT, LOWER]
                .iter()
                .map(|set| set[rng.random_range(0..set.len())] as char)
                .collect()
        })
        .collect();
    groups.join("-")
}

/// The letters and digits of a typed password or half (separators and spaces dropped).
fn letters_and_digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Check a typed password against a two-person hash (`halves` = the text after
/// [`SPLIT_PREFIX`]). Both halves are always verified, so a wrong first half takes as long as a
/// wrong second one.
pub(crate) fn verify_halves(password: &str, halves: &str, verify: fn(&str, &str) -> bool) -> bool {
    let Some((first, second)) = halves.split_once(' ') else {
        return false;
    };
    let typed = letters_and_digits(password);
    let (a, b) = if typed.len() == 2 * HALF_CHARS {
        typed.split_at(HALF_CHARS)
    } else {
        ("", "")
    };
    let ok_first = verify(a, first);
    let ok_second = verify(b, second);
    typed.len() == 2 * HALF_CHARS && ok_first && ok_second
}

fn require_sysadmin(actor: &Actor) -> Result<i64> {
    match (actor.role, actor.user_id) {
        (Some(Role::Sysadmin), Some(id)) => Ok(id),
        _ => Err(StoreError::forbidden(
            "只有系统管理员可以发起新建账号或重置密码",
        )),
    }
}

fn check_reason(reason: &str, required: bool) -> Result<String> {
    let r = reason.trim();
    if required && r.chars().count() < 2 {
        return Err(StoreError::validation(
            "REASON_REQUIRED",
            "请填写重置原因（至少2个字，如“用户忘记密码，已电话核实身份”）（S7）",
            "reason",
        ));
    }
    peixun_domain::text::check_text("reason", r, REASON_MAX_CHARS)?;
    Ok(r.to_string())
}

async fn hash_half(half: &str) -> Result<String> {
    accounts::hash_password_off_thread(&letters_and_digits(half)).await
}

/// May `actor` confirm a request for `target` made by `requested_by`?
fn may_confirm(actor: &Actor, target: &user::Model, requested_by: i64) -> bool {
    let Some(me) = actor.user_id else {
        return false;
    };
    if me == target.id || me == requested_by {
        return false;
    }
    match actor.role {
        Some(Role::CentreAdmin) => true,
        Some(Role::InstitutionAdmin) => {
            target.role == Role::InstitutionStaff.code()
                && target.institution_id.is_some()
                && target.institution_id == actor.institution_id
        }
        _ => false,
    }
}

/// May `actor` see a request for `target`? The sysadmins, and whoever may confirm it (or could,
/// had they not made it themselves).
fn may_see(actor: &Actor, target: &user::Model) -> bool {
    match actor.role {
        Some(Role::Sysadmin) | Some(Role::CentreAdmin) => true,
        Some(Role::InstitutionAdmin) => {
            target.role == Role::InstitutionStaff.code()
                && target.institution_id.is_some()
                && target.institution_id == actor.institution_id
        }
        _ => false,
    }
}

fn state_of(m: &request_row::Model, now: DateTime<Utc>) -> RequestState {
    match m.state.as_str() {
        "confirmed" => RequestState::Confirmed,
        "cancelled" => RequestState::Cancelled,
        _ if m.expires_at <= now => RequestState::Expired,
        _ => RequestState::Pending,
    }
}

async fn username_of<C: ConnectionTrait>(db: &C, id: i64) -> Result<String> {
    Ok(user::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|u| u.username)
        .unwrap_or_else(|| format!("#{id}")))
}

async fn to_view<C: ConnectionTrait>(
    db: &C,
    m: request_row::Model,
    target: user::Model,
    now: DateTime<Utc>,
) -> Result<CredentialRequest> {
    let decided_by = match m.decided_by {
        Some(id) => Some(username_of(db, id).await?),
        None => None,
    };
    Ok(CredentialRequest {
        id: m.id,
        kind: match m.kind.as_str() {
            "create" => RequestKind::Create,
            "reset_totp" => RequestKind::ResetAuthenticator,
            _ => RequestKind::Reset,
        },
        state: state_of(&m, now),
        reason: m.reason.clone(),
        requested_by: username_of(db, m.requested_by).await?,
        requested_at: m.requested_at,
        expires_at: m.expires_at,
        decided_by,
        decided_at: m.decided_at,
        user: accounts::view(db, target).await?,
    })
}

/// Cancel `user_id`'s pending request, if any, inside `txn` (a new request replaces it).
async fn replace_pending(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let old = request_row::Entity::find()
        .filter(request_row::Column::UserId.eq(user_id))
        .filter(request_row::Column::State.eq("pending"))
        .one(txn)
        .await?;
    if let Some(old) = old {
        let id = old.id;
        let mut am: request_row::ActiveModel = old.into();
        am.state = Set("cancelled".into());
        am.first_half_hash = Set(None);
        am.decided_by = Set(actor.user_id);
        am.decided_at = Set(Some(now));
        am.update(txn).await?;
        audit::append(
            txn,
            actor,
            "user.credential_cancelled",
            "credential_request",
            Some(id.to_string()),
            None,
            Some(serde_json::json!({ "user_id": user_id, "why": "replaced" })),
            now,
        )
        .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_request(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    requested_by: i64,
    target: &user::Model,
    kind: RequestKind,
    reason: String,
    first_half_hash: String,
    now: DateTime<Utc>,
) -> Result<request_row::Model> {
    let m = request_row::ActiveModel {
        user_id: Set(target.id),
        kind: Set(kind.code().into()),
        reason: Set(reason.clone()),
        first_half_hash: Set(Some(first_half_hash)),
        requested_by: Set(requested_by),
        requested_at: Set(now),
        expires_at: Set(now + REQUEST_VALID),
        state: Set("pending".into()),
        decided_by: Set(None),
        decided_at: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::append(
        txn,
        actor,
        "user.credential_requested",
        "credential_request",
        Some(m.id.to_string()),
        None,
        Some(serde_json::json!({
            "user_id": target.id,
            "username": target.username,
            "kind": kind.code(),
            "reason": reason,
            "expires_at": audit::canonical_time(m.expires_at),
        })),
        now,
    )
    .await?;
    Ok(m)
}

/// Create an account without a usable password and request its first one (sysadmin). Returns the
/// request with the first half (shown once to the sysadmin).
pub async fn request_new_account(
    store: &Store,
    actor: &Actor,
    new: NewAccount,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Issued> {
    let requested_by = require_sysadmin(actor)?;
    let mut problems = accounts::account_problems(
        &new.username,
        &new.display_name,
        Some(new.role),
        new.institution_id,
    );
    let reason = match check_reason(reason, false) {
        Ok(r) if r.is_empty() => "新建账号".to_string(),
        Ok(r) => r,
        Err(e) => {
            problems.extend(e.problems());
            String::new()
        }
    };
    StoreError::check(problems)?;
    let now = db_time(now);
    let half = new_half();
    let half_hash = hash_half(&half).await?;
    let username = new.username.trim().to_string();
    let display_name = match new.display_name.trim() {
        "" => username.clone(),
        d => d.to_string(),
    };
    let as_new_user = NewUser {
        username: username.clone(),
        display_name: display_name.clone(),
        role: new.role,
        institution_id: new.institution_id,
        password: String::new(),
        must_change_password: true,
    };
    let txn = store.begin_write().await?;
    let target = accounts::insert_user(
        &txn,
        actor,
        &as_new_user,
        username,
        display_name,
        NO_PASSWORD.to_string(),
        now,
    )
    .await?;
    let m = insert_request(
        &txn,
        actor,
        requested_by,
        &target,
        RequestKind::Create,
        reason,
        half_hash,
        now,
    )
    .await?;
    let request = to_view(&txn, m, target, now).await?;
    txn.commit().await?;
    Ok(Issued { request, half })
}

/// Request a new password for `user_id` (sysadmin; not their own account). Nothing about the
/// account changes until a second person confirms. Returns the first half (shown once).
pub async fn request_reset(
    store: &Store,
    actor: &Actor,
    user_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Issued> {
    request_reset_with(store, actor, user_id, reason, false, now).await
}

/// [`request_reset`]; with `clear_authenticator` the confirmation also clears the account's
/// authenticator (TOTP, S4) — for a lost phone with no recovery code left.
pub async fn request_reset_with(
    store: &Store,
    actor: &Actor,
    user_id: i64,
    reason: &str,
    clear_authenticator: bool,
    now: DateTime<Utc>,
) -> Result<Issued> {
    let requested_by = require_sysadmin(actor)?;
    if requested_by == user_id {
        return Err(StoreError::validation(
            "CREDENTIAL_OWN_ACCOUNT",
            "不能为自己的账号发起重置：请在“修改密码”中修改自己的密码（S7）",
            "user_id",
        ));
    }
    let target = user::Entity::find_by_id(user_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    let reason = check_reason(reason, true)?;
    let now = db_time(now);
    let half = new_half();
    let half_hash = hash_half(&half).await?;
    let kind = if target.password_hash == NO_PASSWORD {
        RequestKind::Create
    } else if clear_authenticator {
        RequestKind::ResetAuthenticator
    } else {
        RequestKind::Reset
    };
    let txn = store.begin_write().await?;
    replace_pending(&txn, actor, user_id, now).await?;
    let m = insert_request(
        &txn,
        actor,
        requested_by,
        &target,
        kind,
        reason,
        half_hash,
        now,
    )
    .await?;
    let request = to_view(&txn, m, target, now).await?;
    txn.commit().await?;
    Ok(Issued { request, half })
}

async fn load_visible<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<(request_row::Model, user::Model)> {
    let not_found = StoreError::NotFound {
        entity: "credential_request",
    };
    let m = request_row::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(not_found)?;
    let target = user::Entity::find_by_id(m.user_id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    if !may_see(actor, &target) {
        return Err(StoreError::NotFound {
            entity: "credential_request",
        });
    }
    Ok((m, target))
}

fn require_pending(m: &request_row::Model, now: DateTime<Utc>) -> Result<()> {
    match state_of(m, now) {
        RequestState::Pending => Ok(()),
        RequestState::Expired => Err(StoreError::conflict(
            "CREDENTIAL_REQUEST_EXPIRED",
            "该申请已过期（72小时内未确认），请系统管理员重新发起",
            "id",
        )),
        s => Err(StoreError::conflict(
            "CREDENTIAL_REQUEST_DECIDED",
            format!(
                "该申请已{}，不能再次处理",
                s.label().trim_start_matches('已')
            ),
            "id",
        )),
    }
}

/// One request, if `actor` may see it.
pub async fn get_request(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<CredentialRequest> {
    let (m, target) = load_visible(store.db(), actor, id).await?;
    to_view(store.db(), m, target, db_time(now)).await
}

/// Confirm a pending request (the second person). The account's password becomes the two halves
/// together, must be changed at the next login, its lockout is cleared and its sessions end.
/// Returns the second half (shown once to the confirmer).
pub async fn confirm(store: &Store, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<Issued> {
    let now = db_time(now);
    let (m, target) = load_visible(store.db(), actor, id).await?;
    require_pending(&m, now)?;
    if !may_confirm(actor, &target, m.requested_by) {
        let why = if actor.user_id == Some(m.requested_by) {
            "发起人不能确认自己发起的申请（S7 双人确认）"
        } else if actor.user_id == Some(target.id) {
            "不能确认为自己账号发起的申请（S7 双人确认）"
        } else {
            "只有中心管理员（或本机构管理员确认本机构工作人员账号）可以确认"
        };
        return Err(StoreError::forbidden(why));
    }
    let half = new_half();
    let second_hash = hash_half(&half).await?;
    let txn = store.begin_write().await?;
    let m = request_row::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "credential_request",
        })?;
    require_pending(&m, now)?;
    let first_hash = m.first_half_hash.clone().ok_or(StoreError::NotFound {
        entity: "credential_request",
    })?;
    let target = user::Entity::find_by_id(m.user_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "user" })?;
    let old = accounts::snapshot(&target);
    let mut am: user::ActiveModel = target.into();
    am.password_hash = Set(format!("{SPLIT_PREFIX}{first_hash} {second_hash}"));
    am.must_change_password = Set(true);
    am.failed_logins = Set(0);
    am.locked_until = Set(None);
    am.password_changed_at = Set(now);
    am.updated_at = Set(now);
    let target = am.update(&txn).await?;
    accounts::end_sessions(&txn, target.id, None).await?;
    if m.kind == RequestKind::ResetAuthenticator.code() {
        crate::totp::clear_in_txn(&txn, actor, target.id, now).await?;
    }
    let mut rm: request_row::ActiveModel = m.into();
    rm.state = Set("confirmed".into());
    rm.first_half_hash = Set(None);
    rm.decided_by = Set(actor.user_id);
    rm.decided_at = Set(Some(now));
    let m = rm.update(&txn).await?;
    audit::append(
        &txn,
        actor,
        "user.credential_confirmed",
        "credential_request",
        Some(id.to_string()),
        None,
        Some(serde_json::json!({ "user_id": target.id, "username": target.username })),
        now,
    )
    .await?;
    audit::append(
        &txn,
        actor,
        "user.password_reset",
        "user",
        Some(target.id.to_string()),
        Some(old),
        Some(accounts::snapshot(&target)),
        now,
    )
    .await?;
    let request = to_view(&txn, m, target, now).await?;
    txn.commit().await?;
    Ok(Issued { request, half })
}

/// Withdraw a pending (or expired) request: a sysadmin, or whoever could confirm it. The
/// account keeps what it had.
pub async fn cancel(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<CredentialRequest> {
    let now = db_time(now);
    let (m, target) = load_visible(store.db(), actor, id).await?;
    if !matches!(
        state_of(&m, now),
        RequestState::Pending | RequestState::Expired
    ) {
        require_pending(&m, now)?;
    }
    let may = actor.role == Some(Role::Sysadmin) || may_confirm(actor, &target, m.requested_by);
    if !may {
        return Err(StoreError::forbidden("无权撤销该申请"));
    }
    let txn = store.begin_write().await?;
    let done = request_row::Entity::update_many()
        .col_expr(request_row::Column::State, Expr::value("cancelled"))
        .col_expr(
            request_row::Column::FirstHalfHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(request_row::Column::DecidedBy, Expr::value(actor.user_id))
        .col_expr(request_row::Column::DecidedAt, Expr::value(now))
        .filter(request_row::Column::Id.eq(id))
        .filter(request_row::Column::State.eq("pending"))
        .exec(&txn)
        .await?
        .rows_affected;
    if done != 1 {
        return Err(StoreError::conflict(
            "CREDENTIAL_REQUEST_DECIDED",
            "该申请已被处理，不能撤销",
            "id",
        ));
    }
    audit::append(
        &txn,
        actor,
        "user.credential_cancelled",
        "credential_request",
        Some(id.to_string()),
        None,
        Some(serde_json::json!({ "user_id": target.id, "why": "withdrawn" })),
        now,
    )
    .await?;
    let m = request_row::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "credential_request",
        })?;
    let request = to_view(&txn, m, target, now).await?;
    txn.commit().await?;
    Ok(request)
}

/// The requests `actor` may see, newest first (at most 200): `open_only` keeps pending ones.
/// Sysadmins, centre_admins and institution admins (their staff's); others are refused.
pub async fn list_requests(
    store: &Store,
    actor: &Actor,
    open_only: bool,
    now: DateTime<Utc>,
) -> Result<Vec<CredentialRequest>> {
    if !matches!(
        actor.role,
        Some(Role::Sysadmin | Role::CentreAdmin | Role::InstitutionAdmin)
    ) {
        return Err(StoreError::forbidden(
            "只有系统管理员、中心管理员和机构管理员可以查看账号凭据申请",
        ));
    }
    let now = db_time(now);
    let mut q = request_row::Entity::find()
        .order_by_desc(request_row::Column::Id)
        .limit(200);
    if open_only {
        q = q
            .filter(request_row::Column::State.eq("pending"))
            .filter(request_row::Column::ExpiresAt.gt(now));
    }
    let rows = q.all(store.db()).await?;
    let mut out = Vec::new();
    for m in rows {
        let Some(target) = user::Entity::find_by_id(m.user_id).one(store.db()).await? else {
            continue;
        };
        if may_see(actor, &target) {
            out.push(to_view(store.db(), m, target, now).await?);
        }
    }
    Ok(out)
}

/// How many pending requests `actor` could confirm now (for the home page's work list).
pub async fn count_to_confirm(store: &Store, actor: &Actor, now: DateTime<Utc>) -> Result<usize> {
    if !matches!(actor.role, Some(Role::CentreAdmin | Role::InstitutionAdmin)) {
        return Ok(0);
    }
    let now = db_time(now);
    let rows = request_row::Entity::find()
        .filter(request_row::Column::State.eq("pending"))
        .filter(request_row::Column::ExpiresAt.gt(now))
        .all(store.db())
        .await?;
    let mut n = 0;
    for m in rows {
        if let Some(target) = user::Entity::find_by_id(m.user_id).one(store.db()).await?
            && may_confirm(actor, &target, m.requested_by)
        {
            n += 1;
        }
    }
    Ok(n)
}

/// Ids of accounts with a pending request, and of accounts that have no password yet (for the
/// sysadmin's account list).
pub async fn account_states(store: &Store, now: DateTime<Utc>) -> Result<AccountStates> {
    let now = db_time(now);
    let pending = request_row::Entity::find()
        .select_only()
        .column(request_row::Column::UserId)
        .filter(request_row::Column::State.eq("pending"))
        .filter(request_row::Column::ExpiresAt.gt(now))
        .into_tuple::<i64>()
        .all(store.db())
        .await?;
    let no_password = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::PasswordHash.eq(NO_PASSWORD))
        .into_tuple::<i64>()
        .all(store.db())
        .await?;
    Ok(AccountStates {
        pending: pending.into_iter().collect(),
        no_password: no_password.into_iter().collect(),
    })
}

/// See [`account_states`].
#[derive(Debug, Clone, Default)]
pub struct AccountStates {
    pub pending: std::collections::HashSet<i64>,
    pub no_password: std::collections::HashSet<i64>,
}

/// Demo: the sysadmin has asked for a new password for `inst_a_staff`; `inst_a_admin` and
/// `centre_admin` find it waiting at `/credential-requests`. (Its first half is not shown
/// anywhere; the demo password keeps working until someone confirms.)
pub async fn seed_demo_request(store: &Store, now: DateTime<Utc>) -> Result<()> {
    let (Some(sys), Some(target)) = (
        accounts::find_user_by_username(store, "sysadmin").await?,
        accounts::find_user_by_username(store, "inst_a_staff").await?,
    ) else {
        return Ok(());
    };
    let actor = Actor::from_user(&sys, None, None);
    request_reset(
        store,
        &actor,
        target.id,
        "经办人更换手机后忘记密码，已由机构负责人电话核实身份",
        now,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(a: &str, b: &str) -> bool {
        a == b
    }

    #[test]
    fn s7_halves_are_two_groups_of_four_with_three_classes() {
        for _ in 0..200 {
            let h = new_half();
            assert_eq!(h.len(), 9, "{h}");
            assert_eq!(&h[4..5], "-");
            assert_eq!(letters_and_digits(&h).len(), HALF_CHARS);
            assert!(h.chars().any(|c| c.is_ascii_uppercase()));
            assert!(h.chars().any(|c| c.is_ascii_lowercase()));
            assert!(h.chars().any(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn s7_both_halves_needed_in_order_separators_free() {
        let stored = "Ak4mBp5r Cd6eEf7g";
        assert!(verify_halves("Ak4m-Bp5r-Cd6e-Ef7g", stored, plain));
        assert!(verify_halves("Ak4m-Bp5r Cd6e-Ef7g", stored, plain));
        assert!(verify_halves("Ak4mBp5rCd6eEf7g", stored, plain));
        assert!(
            !verify_halves("Ak4m-Bp5r", stored, plain),
            "first half alone"
        );
        assert!(
            !verify_halves("Cd6e-Ef7g", stored, plain),
            "second half alone"
        );
        assert!(
            !verify_halves("Cd6e-Ef7g-Ak4m-Bp5r", stored, plain),
            "swapped"
        );
        assert!(!verify_halves("Ak4m-Bp5r-Cd6e-Ef7g-x", stored, plain));
        assert!(
            !verify_halves("ak4m-Bp5r-Cd6e-Ef7g", stored, plain),
            "case matters"
        );
        assert!(!verify_halves("Ak4m-Bp5r-Cd6e-Ef7g", "no-space", plain));
    }
}
