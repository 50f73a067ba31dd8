//! The year plan (年度培训任务计划, R-PLAN-1) with the bureau's co-approval, and the change history
//! of plans and rounds (R-PLAN-4): every change keeps the old value, the new value, who, when and
//! why. A reason is required once a plan is approved (or a round published).

use crate::entity::{plan, plan_change};
use crate::workflow_glue::{is_role, with_retry};
use crate::{Actor, Result, Store, StoreError, audit, db_time, map_unique};
use chrono::{DateTime, Utc};
use peixun_domain::role::Role;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A plan's status: the centre drafts, the bureau co-approves (R-PLAN-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Draft,
    AwaitingBureau,
    Approved,
}

impl PlanStatus {
    pub fn code(self) -> &'static str {
        match self {
            PlanStatus::Draft => "draft",
            PlanStatus::AwaitingBureau => "awaiting_bureau",
            PlanStatus::Approved => "approved",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            PlanStatus::Draft => "草稿",
            PlanStatus::AwaitingBureau => "待区人社局审核",
            PlanStatus::Approved => "已审核通过",
        }
    }
    fn parse(s: &str) -> PlanStatus {
        match s {
            "awaiting_bureau" => PlanStatus::AwaitingBureau,
            "approved" => PlanStatus::Approved,
            _ => PlanStatus::Draft,
        }
    }
}

/// What the centre enters for a year's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInput {
    pub year: i32,
    pub total_classes: u32,
    /// Budget in yuan (元), at most two decimals.
    pub budget: Decimal,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub id: i64,
    pub year: i32,
    pub total_classes: u32,
    pub budget: Decimal,
    pub note: String,
    pub status: PlanStatus,
    pub status_label: String,
    pub bureau_comment: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The bureau's decision on a plan awaiting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanDecision {
    Approve,
    /// Back to the centre as a draft, with the comment.
    Return,
}

/// One entry of a plan's or round's history (R-PLAN-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChangeView {
    pub id: i64,
    pub plan_id: Option<i64>,
    pub round_id: Option<i64>,
    /// The field changed, e.g. `total_classes`, `base_planned`, `rolled_over`, `status`.
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reason: Option<String>,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// What a history entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeTarget {
    Plan(i64),
    Round(i64),
}

/// Records one history row per field whose value changed (R-PLAN-4) and says whether any did.
pub(crate) async fn record_changes(
    txn: &DatabaseTransaction,
    actor: &Actor,
    target: ChangeTarget,
    changes: impl IntoIterator<Item = (&str, String, String)>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut changed = false;
    for (field, old, new) in changes {
        if old != new {
            changed = true;
            record_change(txn, actor, target, field, Some(old), Some(new), reason, now).await?;
        }
    }
    Ok(changed)
}

/// Append one history entry in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_change(
    txn: &DatabaseTransaction,
    actor: &Actor,
    target: ChangeTarget,
    field: &str,
    old: Option<String>,
    new: Option<String>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let (plan_id, round_id) = match target {
        ChangeTarget::Plan(id) => (Some(id), None),
        ChangeTarget::Round(id) => (None, Some(id)),
    };
    plan_change::ActiveModel {
        plan_id: Set(plan_id),
        round_id: Set(round_id),
        field: Set(field.to_string()),
        old_value: Set(old),
        new_value: Set(new),
        reason: Set(reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(String::from)),
        changed_by: Set(actor.username.clone()),
        changed_by_user_id: Set(actor.user_id),
        changed_at: Set(db_time(now)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

pub(crate) fn to_change_view(m: plan_change::Model) -> PlanChangeView {
    PlanChangeView {
        id: m.id,
        plan_id: m.plan_id,
        round_id: m.round_id,
        field: m.field,
        old_value: m.old_value,
        new_value: m.new_value,
        reason: m.reason,
        changed_by: m.changed_by,
        changed_at: m.changed_at,
    }
}

/// Who may read plans and rounds' history: the system and every business role (not the auditor
/// or sysadmin, who have no business with plans).
pub(crate) fn can_read_plans(a: &Actor) -> bool {
    a.is_system() || a.role.is_some_and(Role::is_business)
}

fn can_edit(a: &Actor) -> bool {
    a.is_system() || is_role(a, &[Role::CentreAdmin])
}

fn to_view(m: plan::Model) -> PlanView {
    let status = PlanStatus::parse(&m.status);
    PlanView {
        id: m.id,
        year: m.year,
        total_classes: m.total_classes.max(0) as u32,
        budget: Decimal::from_str(&m.budget).unwrap_or_default(),
        note: m.note,
        status,
        status_label: status.label_zh().to_string(),
        bureau_comment: m.bureau_comment,
        submitted_at: m.submitted_at,
        decided_at: m.decided_at,
        decided_by: m.decided_by,
        created_by: m.created_by,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn check_input(input: &PlanInput) -> Result<Decimal> {
    if !(2000..=2100).contains(&input.year) {
        return Err(StoreError::validation(
            "PLAN_YEAR",
            "年度须在2000至2100之间",
            "year",
        ));
    }
    if input.total_classes == 0 || input.total_classes > 100_000 {
        return Err(StoreError::validation(
            "PLAN_TOTAL",
            "年度培训开班总数须为1至100000之间的整数",
            "total_classes",
        ));
    }
    let budget = input.budget.normalize();
    if budget < Decimal::ZERO || budget.scale() > 2 {
        return Err(StoreError::validation(
            "PLAN_BUDGET",
            "预算金额（元）须为非负数，最多两位小数",
            "budget",
        ));
    }
    if input.note.chars().count() > 2000 {
        return Err(StoreError::validation(
            "TOO_LONG",
            "说明不能超过2000个字符",
            "note",
        ));
    }
    Ok(budget)
}

fn audit_value(v: &PlanView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

async fn load(txn: &DatabaseTransaction, id: i64) -> Result<plan::Model> {
    plan::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "plan" })
}

/// R-PLAN-1: the centre (centre_admin) records a year's plan as a draft.
pub async fn create_plan(
    store: &Store,
    actor: &Actor,
    input: &PlanInput,
    now: DateTime<Utc>,
) -> Result<PlanView> {
    if !can_edit(actor) {
        return Err(StoreError::forbidden(
            "只有区培训中心负责人可以制定年度计划",
        ));
    }
    let budget = check_input(input)?;
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let m = plan::ActiveModel {
            year: Set(input.year),
            total_classes: Set(input.total_classes as i32),
            budget: Set(budget.to_string()),
            note: Set(input.note.trim().to_string()),
            status: Set(PlanStatus::Draft.code().to_string()),
            bureau_comment: Set(None),
            submitted_at: Set(None),
            decided_at: Set(None),
            decided_by: Set(None),
            created_by: Set(actor.username.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| map_unique(e, "PLAN_YEAR_TAKEN", "该年度已有培训计划", "year"))?;
        let v = to_view(m);
        audit::append(
            &txn,
            actor,
            "plan.create",
            "plan",
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

/// R-PLAN-4: change a plan. Every changed field goes into the history; once the plan is no
/// longer a draft a reason is required (调整年度培训计划).
pub async fn update_plan(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &PlanInput,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PlanView> {
    if !can_edit(actor) {
        return Err(StoreError::forbidden(
            "只有区培训中心负责人可以调整年度计划",
        ));
    }
    let budget = check_input(input)?;
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let old = load(&txn, id).await?;
        let old_view = to_view(old.clone());
        if old.year != input.year {
            return Err(StoreError::validation(
                "PLAN_YEAR_FIXED",
                "年度计划的年度不能修改",
                "year",
            ));
        }
        let status = PlanStatus::parse(&old.status);
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if status != PlanStatus::Draft && reason.is_none() {
            return Err(StoreError::validation(
                "CHANGE_REASON_REQUIRED",
                "计划已报审或审核通过，调整须填写理由",
                "reason",
            ));
        }
        let changes = [
            (
                "total_classes",
                old_view.total_classes.to_string(),
                input.total_classes.to_string(),
            ),
            ("budget", old_view.budget.to_string(), budget.to_string()),
            ("note", old_view.note.clone(), input.note.trim().to_string()),
        ];
        let changed =
            record_changes(&txn, actor, ChangeTarget::Plan(id), changes, reason, now).await?;
        if !changed {
            return Ok(old_view);
        }
        let m = plan::ActiveModel {
            id: Set(id),
            total_classes: Set(input.total_classes as i32),
            budget: Set(budget.to_string()),
            note: Set(input.note.trim().to_string()),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        let v = to_view(m);
        let mut new = audit_value(&v);
        new["reason"] = serde_json::json!(reason);
        audit::append(
            &txn,
            actor,
            "plan.update",
            "plan",
            Some(id.to_string()),
            Some(audit_value(&old_view)),
            Some(new),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// The centre sends a draft plan to the bureau for co-approval (R-PLAN-1).
pub async fn submit_plan(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<PlanView> {
    if !can_edit(actor) {
        return Err(StoreError::forbidden(
            "只有区培训中心负责人可以报送年度计划",
        ));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let old = load(&txn, id).await?;
        if PlanStatus::parse(&old.status) != PlanStatus::Draft {
            return Err(StoreError::validation(
                "PLAN_NOT_DRAFT",
                "只有草稿状态的计划可以报送区人社局",
                "status",
            ));
        }
        let old_view = to_view(old);
        let m = plan::ActiveModel {
            id: Set(id),
            status: Set(PlanStatus::AwaitingBureau.code().to_string()),
            submitted_at: Set(Some(now)),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        record_change(
            &txn,
            actor,
            ChangeTarget::Plan(id),
            "status",
            Some(PlanStatus::Draft.code().into()),
            Some(PlanStatus::AwaitingBureau.code().into()),
            None,
            now,
        )
        .await?;
        let v = to_view(m);
        audit::append(
            &txn,
            actor,
            "plan.submit",
            "plan",
            Some(id.to_string()),
            Some(audit_value(&old_view)),
            Some(audit_value(&v)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// The bureau approves or returns (with a comment) a plan awaiting it (R-PLAN-1).
pub async fn decide_plan(
    store: &Store,
    actor: &Actor,
    id: i64,
    decision: PlanDecision,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<PlanView> {
    if !is_role(actor, &[Role::Bureau]) {
        return Err(StoreError::forbidden("只有区人社局可以审核年度计划"));
    }
    let comment = comment.trim();
    if decision == PlanDecision::Return && comment.is_empty() {
        return Err(StoreError::validation(
            "COMMENT_REQUIRED",
            "退回须填写意见",
            "comment",
        ));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let old = load(&txn, id).await?;
        if PlanStatus::parse(&old.status) != PlanStatus::AwaitingBureau {
            return Err(StoreError::validation(
                "PLAN_NOT_AWAITING",
                "该计划不在待审核状态",
                "status",
            ));
        }
        let old_view = to_view(old);
        let new_status = match decision {
            PlanDecision::Approve => PlanStatus::Approved,
            PlanDecision::Return => PlanStatus::Draft,
        };
        let m = plan::ActiveModel {
            id: Set(id),
            status: Set(new_status.code().to_string()),
            bureau_comment: Set((!comment.is_empty()).then(|| comment.to_string())),
            decided_at: Set(Some(now)),
            decided_by: Set(Some(actor.username.clone())),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        record_change(
            &txn,
            actor,
            ChangeTarget::Plan(id),
            "status",
            Some(PlanStatus::AwaitingBureau.code().into()),
            Some(new_status.code().into()),
            Some(comment),
            now,
        )
        .await?;
        let v = to_view(m);
        let action = match decision {
            PlanDecision::Approve => "plan.approve",
            PlanDecision::Return => "plan.return",
        };
        audit::append(
            &txn,
            actor,
            action,
            "plan",
            Some(id.to_string()),
            Some(audit_value(&old_view)),
            Some(audit_value(&v)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

pub async fn get_plan(store: &Store, viewer: &Actor, id: i64) -> Result<PlanView> {
    if !can_read_plans(viewer) {
        return Err(StoreError::forbidden("无权查看年度计划"));
    }
    plan::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .map(to_view)
        .ok_or(StoreError::NotFound { entity: "plan" })
}

/// Every plan, newest year first.
pub async fn list_plans(store: &Store, viewer: &Actor) -> Result<Vec<PlanView>> {
    if !can_read_plans(viewer) {
        return Err(StoreError::forbidden("无权查看年度计划"));
    }
    Ok(plan::Entity::find()
        .order_by_desc(plan::Column::Year)
        .all(store.db())
        .await?
        .into_iter()
        .map(to_view)
        .collect())
}

/// A plan's history (R-PLAN-4), oldest first.
pub async fn plan_history(
    store: &Store,
    viewer: &Actor,
    plan_id: i64,
) -> Result<Vec<PlanChangeView>> {
    if !can_read_plans(viewer) {
        return Err(StoreError::forbidden("无权查看年度计划"));
    }
    Ok(plan_change::Entity::find()
        .filter(plan_change::Column::PlanId.eq(plan_id))
        .order_by_asc(plan_change::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(to_change_view)
        .collect())
}

/// A round's history (R-PLAN-4), oldest first.
pub async fn round_history(
    store: &Store,
    viewer: &Actor,
    round_id: i64,
) -> Result<Vec<PlanChangeView>> {
    if !can_read_plans(viewer) {
        return Err(StoreError::forbidden("无权查看批次调整记录"));
    }
    Ok(plan_change::Entity::find()
        .filter(plan_change::Column::RoundId.eq(round_id))
        .order_by_asc(plan_change::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(to_change_view)
        .collect())
}
