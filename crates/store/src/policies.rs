//! Policy versions (R-POL-1): "如有新的相关文件出台，则按最新文件规定执行".
//!
//! Every number of SPEC.md §3 lives in a stored [`Policy`] version with an effective date and the
//! document it comes from. Four eyes: the sysadmin proposes a version, a centre_admin confirms
//! (or rejects) it; the proposer may withdraw it while it waits. A confirmed version never
//! changes. Each of these is one audited transaction.
//!
//! The version **in force on a date** is the confirmed version with the latest effective date on
//! or before it ([`in_force`]). Decisions take the version in force on their own date (an
//! agreement's signing, a filing's submission, a sanction's raising, a report's submission) and
//! store its name; a class keeps the version its filing was submitted under ([`by_version`]), so
//! a new version changes later decisions, never earlier ones.
//!
//! Effective dates: a version may not take effect before the day it is proposed, nor before the
//! day it is confirmed (confirming a version whose date has passed is refused: it would silently
//! change the rules for days already decided under the old one). A new version then needs a new
//! proposal with a current date.

use crate::entity::policy_version as pv;
use crate::workflow_glue::{today, with_retry};
use crate::{Actor, FieldProblem, Result, Store, StoreError, audit, db_time, map_unique};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::policy::{Policy, PolicyRow};
use peixun_domain::role::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

/// Where a version is in its four-eyes life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyStatus {
    /// 待确认
    Proposed,
    /// 已确认
    Confirmed,
    /// 已退回
    Rejected,
    /// 已撤回
    Withdrawn,
}

impl PolicyStatus {
    pub fn code(self) -> &'static str {
        match self {
            PolicyStatus::Proposed => "proposed",
            PolicyStatus::Confirmed => "confirmed",
            PolicyStatus::Rejected => "rejected",
            PolicyStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            PolicyStatus::Proposed => "待确认",
            PolicyStatus::Confirmed => "已确认",
            PolicyStatus::Rejected => "已退回",
            PolicyStatus::Withdrawn => "已撤回",
        }
    }
    fn parse(s: &str) -> PolicyStatus {
        match s {
            "confirmed" => PolicyStatus::Confirmed,
            "rejected" => PolicyStatus::Rejected,
            "withdrawn" => PolicyStatus::Withdrawn,
            _ => PolicyStatus::Proposed,
        }
    }
}

/// A stored version, as services and pages see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPolicy {
    pub id: i64,
    /// The version's name (`policy.version`), stored with each decision.
    pub version: String,
    pub effective_from: NaiveDate,
    /// 文件名称
    pub document_title: String,
    /// 文号 (may be empty: the trial guideline has none)
    pub document_number: String,
    pub status: PolicyStatus,
    pub status_label: String,
    /// The proposer's note (why, and what changed).
    pub note: Option<String>,
    pub proposed_by: String,
    pub proposed_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    /// Every value (its `version` and `effective_from` equal the fields above).
    pub policy: Policy,
}

impl StoredPolicy {
    /// "haizhu-guideline-trial-v1（《海珠区…》，2025-01-01起）": how pages name a version.
    pub fn label(&self) -> String {
        let doc = if self.document_number.is_empty() {
            format!("《{}》", self.document_title)
        } else {
            format!("《{}》{}", self.document_title, self.document_number)
        };
        format!("{}（{}，{}起施行）", self.version, doc, self.effective_from)
    }
}

/// What the sysadmin proposes: every value (with `version` and `effective_from`) and the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyProposal {
    pub policy: Policy,
    pub document_title: String,
    #[serde(default)]
    pub document_number: String,
    #[serde(default)]
    pub note: Option<String>,
}

fn parse_policy(m: &pv::Model) -> Result<Policy> {
    let mut p: Policy = serde_json::from_str(&m.policy_values).map_err(|e| {
        StoreError::Db(sea_orm::DbErr::Custom(format!(
            "policy version {} is not readable: {e}",
            m.id
        )))
    })?;
    // The row's columns are the record; the JSON copy follows them.
    p.version = m.version.clone();
    p.effective_from = m.effective_from;
    Ok(p)
}

fn to_view(m: pv::Model) -> Result<StoredPolicy> {
    let policy = parse_policy(&m)?;
    let status = PolicyStatus::parse(&m.status);
    Ok(StoredPolicy {
        id: m.id,
        version: m.version,
        effective_from: m.effective_from,
        document_title: m.document_title,
        document_number: m.document_number,
        status,
        status_label: status.label_zh().to_string(),
        note: m.note,
        proposed_by: m.proposed_by,
        proposed_at: m.proposed_at,
        decided_by: m.decided_by,
        decided_at: m.decided_at,
        decision_reason: m.decision_reason,
        policy,
    })
}

async fn in_force_row<C: ConnectionTrait>(db: &C, on: NaiveDate) -> Result<pv::Model> {
    pv::Entity::find()
        .filter(pv::Column::Status.eq(PolicyStatus::Confirmed.code()))
        .filter(pv::Column::EffectiveFrom.lte(on))
        .order_by_desc(pv::Column::EffectiveFrom)
        .order_by_desc(pv::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| {
            StoreError::validation(
                "POLICY_NONE_IN_FORCE",
                format!("{on}没有已确认生效的政策版本（R-POL-1）"),
                "date",
            )
        })
}

/// R-POL-1: the policy in force on `on` (Asia/Shanghai date): the confirmed version with the
/// latest effective date on or before it. Usable inside the caller's transaction.
pub async fn in_force<C: ConnectionTrait>(db: &C, on: NaiveDate) -> Result<Policy> {
    parse_policy(&in_force_row(db, on).await?)
}

/// [`in_force`] with its document and history (for pages).
pub async fn in_force_stored(store: &Store, on: NaiveDate) -> Result<StoredPolicy> {
    to_view(in_force_row(store.db(), on).await?)
}

/// The version a month's rules come from (R-RUN-3 due day): the one in force on the month's
/// first day, so that every report of a month has one due date.
pub async fn for_month<C: ConnectionTrait>(db: &C, year: i32, month: u32) -> Result<Policy> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)
        .ok_or_else(|| StoreError::validation("RPT_MONTH", "月份无效", "month"))?;
    in_force(db, first).await
}

/// The confirmed version named `version` (what a stored decision used).
pub async fn by_version<C: ConnectionTrait>(db: &C, version: &str) -> Result<Policy> {
    let m = pv::Entity::find()
        .filter(pv::Column::Version.eq(version))
        .filter(pv::Column::Status.eq(PolicyStatus::Confirmed.code()))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "policy_version",
        })?;
    parse_policy(&m)
}

/// Every confirmed version, for code that needs the version in force on several dates at once
/// (a list over months, the reminder job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyHistory {
    /// Ascending by effective date.
    versions: Vec<Policy>,
}

impl PolicyHistory {
    /// Load every confirmed version.
    pub async fn load<C: ConnectionTrait>(db: &C) -> Result<PolicyHistory> {
        let rows = pv::Entity::find()
            .filter(pv::Column::Status.eq(PolicyStatus::Confirmed.code()))
            .order_by_asc(pv::Column::EffectiveFrom)
            .order_by_asc(pv::Column::Id)
            .all(db)
            .await?;
        let versions = rows.iter().map(parse_policy).collect::<Result<Vec<_>>>()?;
        Ok(PolicyHistory { versions })
    }

    /// A history of one version (the CLI calculator, tests).
    pub fn single(p: Policy) -> PolicyHistory {
        PolicyHistory { versions: vec![p] }
    }

    /// The version in force on `on`, as [`in_force`].
    pub fn on(&self, on: NaiveDate) -> Option<&Policy> {
        self.versions.iter().rev().find(|p| p.effective_from <= on)
    }

    /// The version named `version` (what a stored decision used), if confirmed.
    pub fn by_version(&self, version: &str) -> Option<&Policy> {
        self.versions.iter().find(|p| p.version == version)
    }

    /// The version a month's rules come from (R-RUN-3): the one in force on its first day.
    pub fn for_month(&self, year: i32, month: u32) -> Option<&Policy> {
        NaiveDate::from_ymd_opt(year, month, 1).and_then(|d| self.on(d))
    }

    /// The smallest value of `f` over every version (a safe pre-filter for queries over classes
    /// filed under different versions).
    pub fn min_of(&self, f: impl Fn(&Policy) -> u32) -> Option<u32> {
        self.versions.iter().map(f).min()
    }
}

fn may_read(viewer: &Actor) -> bool {
    viewer.is_system()
        || viewer.role.is_some_and(|r| {
            matches!(
                r,
                Role::Sysadmin | Role::CentreAdmin | Role::CentreStaff | Role::Bureau | Role::City
            )
        })
}

/// Every version, newest effective date first (sysadmin, centre, bureau, city).
pub async fn list(store: &Store, viewer: &Actor) -> Result<Vec<StoredPolicy>> {
    if !may_read(viewer) {
        return Err(StoreError::forbidden("无权查看政策参数版本"));
    }
    pv::Entity::find()
        .order_by_desc(pv::Column::EffectiveFrom)
        .order_by_desc(pv::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(to_view)
        .collect()
}

/// One version.
pub async fn get(store: &Store, viewer: &Actor, id: i64) -> Result<StoredPolicy> {
    if !may_read(viewer) {
        return Err(StoreError::forbidden("无权查看政策参数版本"));
    }
    let m = pv::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound {
            entity: "policy_version",
        })?;
    to_view(m)
}

/// The Chinese label of a policy field (for messages naming the field).
pub fn field_label(field: &str) -> &'static str {
    match field {
        "version" => "版本号",
        "effective_from" => "生效日期",
        "document_title" => "文件名称",
        "document_number" => "文号",
        other => Policy::haizhu_default()
            .rows()
            .into_iter()
            .find(|r| r.key == other)
            .map_or("政策参数", |r| r.label),
    }
}

/// Every problem with a proposal (R-VAL-1), before anything is written.
fn proposal_problems(input: &PolicyProposal, on: NaiveDate) -> Vec<FieldProblem> {
    let mut out = Vec::new();
    let v = input.policy.version.trim();
    if v.is_empty() {
        out.push(FieldProblem::new(
            "REQUIRED",
            "请填写版本号（R-POL-1）",
            "version",
        ));
    } else if v.chars().count() > 60 {
        out.push(FieldProblem::new(
            "TOO_LONG",
            "版本号不能超过60个字符",
            "version",
        ));
    }
    if input.document_title.trim().is_empty() {
        out.push(FieldProblem::new(
            "REQUIRED",
            "请填写政策依据的文件名称（R-POL-1）",
            "document_title",
        ));
    }
    if input.policy.effective_from < on {
        out.push(FieldProblem::new(
            "POLICY_EFFECTIVE_PAST",
            format!(
                "生效日期{}早于今天（{on}）：新版本只能对今后的事项生效，不能追溯（R-POL-1）",
                input.policy.effective_from
            ),
            "effective_from",
        ));
    }
    if !v.is_empty()
        && let Err(e) = input.policy.validate()
    {
        out.push(FieldProblem::new(
            "POLICY_INVALID",
            format!("{}：{}", field_label(e.field), e.zh),
            e.field,
        ));
    }
    out
}

/// R-POL-1: the sysadmin proposes a version. Checked (every problem at once, naming the field),
/// stored as 待确认, audited. Changes nothing else until a centre_admin confirms it.
pub async fn propose(
    store: &Store,
    actor: &Actor,
    input: &PolicyProposal,
    now: DateTime<Utc>,
) -> Result<StoredPolicy> {
    if actor.role != Some(Role::Sysadmin) {
        return Err(StoreError::forbidden(
            "只有系统管理员可以提出政策参数版本（R-POL-1）",
        ));
    }
    let now = db_time(now);
    StoreError::check(proposal_problems(input, today(now)))?;
    let mut policy = input.policy.clone();
    policy.version = policy.version.trim().to_string();
    let values = serde_json::to_string(&policy)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    with_retry!({
        let txn = store.begin_write().await?;
        let m = pv::ActiveModel {
            version: Set(policy.version.clone()),
            effective_from: Set(policy.effective_from),
            document_title: Set(input.document_title.trim().to_string()),
            document_number: Set(input.document_number.trim().to_string()),
            policy_values: Set(values.clone()),
            status: Set(PolicyStatus::Proposed.code().to_string()),
            note: Set(note.clone()),
            proposed_by: Set(actor.username.clone()),
            proposed_by_user_id: Set(actor.user_id),
            proposed_at: Set(now),
            decided_by: Set(None),
            decided_by_user_id: Set(None),
            decided_at: Set(None),
            decision_reason: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            map_unique(
                e,
                "POLICY_VERSION_EXISTS",
                "该版本号已存在，请换一个版本号",
                "version",
            )
        })?;
        let v = to_view(m)?;
        audit::append(
            &txn,
            actor,
            "policy.propose",
            "policy_version",
            Some(v.id.to_string()),
            None,
            Some(audit_value(&v)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

fn audit_value(v: &StoredPolicy) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

async fn load_proposed(txn: &DatabaseTransaction, id: i64) -> Result<pv::Model> {
    let m = pv::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "policy_version",
        })?;
    if PolicyStatus::parse(&m.status) != PolicyStatus::Proposed {
        return Err(StoreError::validation(
            "POLICY_NOT_PROPOSED",
            format!(
                "该版本{}，不能再确认、退回或撤回；已确认的版本永不修改（R-POL-1）",
                PolicyStatus::parse(&m.status).label_zh()
            ),
            "status",
        ));
    }
    Ok(m)
}

/// How a waiting version ends.
enum Decision<'a> {
    Confirm,
    Reject(&'a str),
    Withdraw,
}

async fn decide(
    store: &Store,
    actor: &Actor,
    id: i64,
    decision: Decision<'_>,
    now: DateTime<Utc>,
) -> Result<StoredPolicy> {
    let now = db_time(now);
    let (status, action) = match decision {
        Decision::Confirm => (PolicyStatus::Confirmed, "policy.confirm"),
        Decision::Reject(_) => (PolicyStatus::Rejected, "policy.reject"),
        Decision::Withdraw => (PolicyStatus::Withdrawn, "policy.withdraw"),
    };
    match decision {
        Decision::Confirm | Decision::Reject(_) if actor.role != Some(Role::CentreAdmin) => {
            return Err(StoreError::forbidden(
                "只有区培训中心负责人可以确认或退回政策参数版本（R-POL-1）",
            ));
        }
        Decision::Withdraw if actor.role != Some(Role::Sysadmin) => {
            return Err(StoreError::forbidden(
                "只有系统管理员可以撤回其提出的政策参数版本",
            ));
        }
        _ => {}
    }
    let reason = match decision {
        Decision::Reject(r) => {
            let r = r.trim();
            if r.is_empty() {
                return Err(StoreError::validation(
                    "REQUIRED",
                    "退回政策参数版本须填写理由",
                    "reason",
                ));
            }
            Some(r.to_string())
        }
        _ => None,
    };
    with_retry!({
        let txn = store.begin_write().await?;
        let m = load_proposed(&txn, id).await?;
        if matches!(decision, Decision::Confirm) {
            // Four eyes: never the proposer (roles already differ; this guards user ids too).
            if actor.user_id.is_some() && actor.user_id == m.proposed_by_user_id {
                return Err(StoreError::forbidden(
                    "提出人不能确认自己提出的政策参数版本",
                ));
            }
            let day = today(now);
            if m.effective_from < day {
                return Err(StoreError::validation(
                    "POLICY_EFFECTIVE_PAST",
                    format!(
                        "生效日期{}已过（今天{day}），确认将追溯改变已办事项的规则；请退回，由系统管理员以新的生效日期重新提出（R-POL-1）",
                        m.effective_from
                    ),
                    "effective_from",
                ));
            }
            let policy = parse_policy(&m)?;
            if let Err(e) = policy.validate() {
                return Err(StoreError::validation(
                    "POLICY_INVALID",
                    format!("{}：{}", field_label(e.field), e.zh),
                    e.field,
                ));
            }
            let same_day = pv::Entity::find()
                .filter(pv::Column::Status.eq(PolicyStatus::Confirmed.code()))
                .filter(pv::Column::EffectiveFrom.eq(m.effective_from))
                .one(&txn)
                .await?;
            if let Some(o) = same_day {
                return Err(StoreError::conflict(
                    "POLICY_SAME_EFFECTIVE_DATE",
                    format!(
                        "已有确认的版本{}自{}起施行，同一天只能有一个版本生效",
                        o.version, o.effective_from
                    ),
                    "effective_from",
                ));
            }
        }
        let old = to_view(m.clone())?;
        let updated = pv::ActiveModel {
            id: Set(m.id),
            status: Set(status.code().to_string()),
            decided_by: Set(Some(actor.username.clone())),
            decided_by_user_id: Set(actor.user_id),
            decided_at: Set(Some(now)),
            decision_reason: Set(reason.clone()),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        let v = to_view(updated)?;
        audit::append(
            &txn,
            actor,
            action,
            "policy_version",
            Some(v.id.to_string()),
            Some(serde_json::json!({"status": old.status.code()})),
            Some(serde_json::json!({
                "status": v.status.code(),
                "version": v.version,
                "effective_from": v.effective_from,
                "reason": v.decision_reason,
            })),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// R-POL-1: a centre_admin confirms a proposed version (four eyes). From its effective date it
/// governs new decisions. Refused when the effective date has passed.
pub async fn confirm(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<StoredPolicy> {
    decide(store, actor, id, Decision::Confirm, now).await
}

/// A centre_admin sends a proposed version back, with a reason. It never takes effect.
pub async fn reject(
    store: &Store,
    actor: &Actor,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<StoredPolicy> {
    decide(store, actor, id, Decision::Reject(reason), now).await
}

/// The sysadmin withdraws a version still waiting for confirmation.
pub async fn withdraw(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<StoredPolicy> {
    decide(store, actor, id, Decision::Withdraw, now).await
}

/// One row of a comparison of two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareRow {
    pub key: String,
    pub label: String,
    pub a: String,
    pub b: String,
    pub differs: bool,
}

/// Two versions side by side: the document, the effective date and every value.
pub fn compare(a: &StoredPolicy, b: &StoredPolicy) -> Vec<CompareRow> {
    let head = |key: &str, label: &str, x: String, y: String| CompareRow {
        key: key.to_string(),
        label: label.to_string(),
        differs: x != y,
        a: x,
        b: y,
    };
    let mut out = vec![
        head("version", "版本号", a.version.clone(), b.version.clone()),
        head(
            "effective_from",
            "生效日期",
            a.effective_from.to_string(),
            b.effective_from.to_string(),
        ),
        head(
            "document_title",
            "文件名称",
            a.document_title.clone(),
            b.document_title.clone(),
        ),
        head(
            "document_number",
            "文号",
            a.document_number.clone(),
            b.document_number.clone(),
        ),
    ];
    let rb = b.policy.rows();
    for PolicyRow { key, label, value } in a.policy.rows() {
        let other = rb
            .iter()
            .find(|r| r.key == key)
            .map(|r| r.value.clone())
            .unwrap_or_default();
        out.push(head(key, label, value, other));
    }
    out
}
