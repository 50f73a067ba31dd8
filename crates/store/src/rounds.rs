//! Rounds (批次 / 征集公告, R-PLAN-2) and their close with the rollover into the next round of the
//! same year (R-PLAN-3). The state machine is `peixun_domain::workflow::round`; every change goes
//! into the history (R-PLAN-4, [`crate::plans::round_history`]).

use crate::entity::{filing, inbox_message, institution, round};
use crate::filings;
use crate::plans::{ChangeTarget, can_read_plans, record_change, record_changes};
use crate::workflow_glue::{is_role, lock_round, today, wf_actor, wf_err, with_retry};
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::role::Role;
use peixun_domain::workflow::class::ClassState;
use peixun_domain::workflow::round::{self as wf_round, Half, RoundAction, RoundState};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// R-PLAN-2: the key target groups (重点对象) named by the guideline; the centre may add others.
pub const KEY_TARGET_GROUPS: &[&str] = &[
    "贫困劳动力",
    "就业困难人员",
    "零就业家庭成员",
    "残疾人",
    "毕业2年内“两后生”中的农村学员",
    "城市低保家庭学员",
];

/// A key target group with the share of trainees required from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetGroup {
    pub name: String,
    /// Required share of trainees, in percent (0–100).
    pub required_share_percent: u32,
}

/// What the centre enters for a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundInput {
    pub year: i32,
    pub half: Half,
    /// Defaults to "2026年上半年" / "2026年下半年"; required for `Half::Other`.
    #[serde(default)]
    pub label: String,
    /// `P` without rollover.
    pub base_planned: u32,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    #[serde(default)]
    pub target_groups: Vec<TargetGroup>,
    #[serde(default)]
    pub call_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundView {
    pub id: i64,
    pub year: i32,
    pub half: Half,
    pub label: String,
    pub base_planned: u32,
    /// R-PLAN-3: rolled over from the H1 round of the same year, shown separately.
    pub rolled_over: u32,
    /// `P` = base + rolled over: the quota of the queue and the `P` of caps.
    pub planned_total: u32,
    /// H1 closed before its H2 existed: the rollover waiting for H2 to be created.
    pub rollover_pending: u32,
    pub consumed_at_close: Option<u32>,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub target_groups: Vec<TargetGroup>,
    pub call_text: String,
    pub status: RoundState,
    pub status_label: String,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What closing a round did (R-PLAN-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseReport {
    pub round: RoundView,
    /// Slots held at the close.
    pub consumed: u32,
    /// `P − consumed` for an H1 round; 0 otherwise.
    pub rolled_over: u32,
    /// The H2 round that received it; `None` when it is pending (no H2 yet) or not H1.
    pub into_round: Option<i64>,
    /// Filings that were still waiting: now 未获名额.
    pub not_granted: Vec<i64>,
}

pub(crate) fn half_code(h: Half) -> &'static str {
    match h {
        Half::H1 => "h1",
        Half::H2 => "h2",
        Half::Other => "other",
    }
}

pub(crate) fn parse_half(s: &str) -> Half {
    match s {
        "h1" => Half::H1,
        "h2" => Half::H2,
        _ => Half::Other,
    }
}

pub(crate) fn parse_state(s: &str) -> RoundState {
    match s {
        "published" => RoundState::Published,
        "closed" => RoundState::Closed,
        _ => RoundState::Draft,
    }
}

/// `P`: base + rolled over.
pub(crate) fn planned_total(m: &round::Model) -> u32 {
    (m.base_planned.max(0) as u32).saturating_add(m.rolled_over.max(0) as u32)
}

pub(crate) fn to_view(m: round::Model) -> RoundView {
    let status = parse_state(&m.status);
    RoundView {
        id: m.id,
        year: m.year,
        half: parse_half(&m.half),
        planned_total: planned_total(&m),
        base_planned: m.base_planned.max(0) as u32,
        rolled_over: m.rolled_over.max(0) as u32,
        rollover_pending: m.rollover_pending.max(0) as u32,
        consumed_at_close: m.consumed_at_close.map(|c| c.max(0) as u32),
        label: m.label,
        window_start: m.window_start,
        window_end: m.window_end,
        target_groups: serde_json::from_str(&m.target_groups).unwrap_or_default(),
        call_text: m.call_text,
        status,
        status_label: status.label_zh().to_string(),
        published_at: m.published_at,
        closed_at: m.closed_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn audit_value(v: &RoundView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn can_edit(a: &Actor) -> bool {
    a.is_system() || is_role(a, &[Role::CentreAdmin])
}

struct Clean {
    label: String,
    target_groups: Vec<TargetGroup>,
    call_text: String,
}

fn clean(input: &RoundInput) -> Result<Clean> {
    if !(2000..=2100).contains(&input.year) {
        return Err(StoreError::validation(
            "ROUND_YEAR",
            "年度须在2000至2100之间",
            "year",
        ));
    }
    if input.base_planned > 100_000 {
        return Err(StoreError::validation(
            "ROUND_PLANNED",
            "计划班次数过大",
            "base_planned",
        ));
    }
    if input.window_end < input.window_start {
        return Err(StoreError::validation(
            "ROUND_WINDOW",
            "申报截止日期不能早于开始日期",
            "window_end",
        ));
    }
    let label = match (input.half, input.label.trim()) {
        (_, l) if !l.is_empty() => l.to_string(),
        (Half::H1, _) => format!("{}年上半年", input.year),
        (Half::H2, _) => format!("{}年下半年", input.year),
        (Half::Other, _) => {
            return Err(StoreError::validation(
                "REQUIRED",
                "请填写批次名称",
                "label",
            ));
        }
    };
    if label.chars().count() > 100 {
        return Err(StoreError::validation(
            "TOO_LONG",
            "批次名称不能超过100个字符",
            "label",
        ));
    }
    let mut groups: Vec<TargetGroup> = Vec::new();
    for (i, g) in input.target_groups.iter().enumerate() {
        let field = format!("target_groups[{i}]");
        let name = g.name.trim();
        if name.is_empty() || name.chars().count() > 50 {
            return Err(StoreError::validation(
                "TARGET_GROUP_NAME",
                "重点对象名称须为1至50个字符",
                &field,
            ));
        }
        if g.required_share_percent > 100 {
            return Err(StoreError::validation(
                "TARGET_GROUP_SHARE",
                "完成比例须在0%至100%之间",
                &field,
            ));
        }
        if groups.iter().any(|x| x.name == name) {
            return Err(StoreError::validation(
                "TARGET_GROUP_DUPLICATE",
                format!("重点对象“{name}”重复"),
                &field,
            ));
        }
        groups.push(TargetGroup {
            name: name.to_string(),
            required_share_percent: g.required_share_percent,
        });
    }
    if input.call_text.chars().count() > 20_000 {
        return Err(StoreError::validation(
            "TOO_LONG",
            "征集公告正文不能超过20000个字符",
            "call_text",
        ));
    }
    Ok(Clean {
        label,
        target_groups: groups,
        call_text: input.call_text.trim().to_string(),
    })
}

/// The H1 or H2 round of a year, if any.
async fn find_half(
    txn: &DatabaseTransaction,
    year: i32,
    half: Half,
) -> Result<Option<round::Model>> {
    Ok(round::Entity::find()
        .filter(round::Column::Year.eq(year))
        .filter(round::Column::Half.eq(half_code(half)))
        .one(txn)
        .await?)
}

/// R-PLAN-2: the centre drafts a round. An H2 round created after its H1 closed receives the
/// pending rollover (R-PLAN-3).
pub async fn create_round(
    store: &Store,
    actor: &Actor,
    input: &RoundInput,
    now: DateTime<Utc>,
) -> Result<RoundView> {
    if !can_edit(actor) {
        return Err(StoreError::forbidden(
            "只有区培训中心负责人可以发布征集公告",
        ));
    }
    let c = clean(input)?;
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        if input.half != Half::Other && find_half(&txn, input.year, input.half).await?.is_some() {
            return Err(StoreError::conflict(
                "ROUND_HALF_TAKEN",
                format!("{}已有该半年度批次", input.year),
                "half",
            ));
        }
        if round::Entity::find()
            .filter(round::Column::Year.eq(input.year))
            .filter(round::Column::Label.eq(&c.label))
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(StoreError::conflict(
                "ROUND_LABEL_TAKEN",
                "同一年度已有同名批次",
                "label",
            ));
        }
        // R-PLAN-3: a rollover waiting on the closed H1 of the same year (never across years).
        let mut pending_from: Option<round::Model> = None;
        if input.half == Half::H2
            && let Some(h1) = find_half(&txn, input.year, Half::H1).await?
            && h1.rollover_pending > 0
        {
            pending_from = Some(lock_round(store, &txn, h1.id).await?);
        }
        let rolled = pending_from.as_ref().map_or(0, |h| h.rollover_pending);
        let m = round::ActiveModel {
            year: Set(input.year),
            half: Set(half_code(input.half).to_string()),
            label: Set(c.label.clone()),
            base_planned: Set(input.base_planned as i32),
            rolled_over: Set(rolled),
            rollover_pending: Set(0),
            consumed_at_close: Set(None),
            window_start: Set(input.window_start),
            window_end: Set(input.window_end),
            target_groups: Set(serde_json::to_string(&c.target_groups).unwrap_or("[]".into())),
            call_text: Set(c.call_text.clone()),
            status: Set(RoundState::Draft.code().to_string()),
            next_queue_seq: Set(1),
            published_at: Set(None),
            closed_at: Set(None),
            created_by: Set(actor.username.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| crate::map_unique(e, "ROUND_LABEL_TAKEN", "同一年度已有同名批次", "label"))?;
        if let Some(h1) = pending_from {
            let reason = format!(
                "{}结束时未完成指标{}个班次，自动纳入下半年计划班次数（R-PLAN-3）",
                h1.label, h1.rollover_pending
            );
            round::ActiveModel {
                id: Set(h1.id),
                rollover_pending: Set(0),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&txn)
            .await?;
            record_change(
                &txn,
                actor,
                ChangeTarget::Round(h1.id),
                "rollover_pending",
                Some(h1.rollover_pending.to_string()),
                Some("0".into()),
                Some(&reason),
                now,
            )
            .await?;
            record_change(
                &txn,
                actor,
                ChangeTarget::Round(m.id),
                "rolled_over",
                Some("0".into()),
                Some(rolled.to_string()),
                Some(&reason),
                now,
            )
            .await?;
        }
        let v = to_view(m);
        audit::append(
            &txn,
            actor,
            "round.create",
            "round",
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

/// R-PLAN-4: change a round (not a closed one). Each changed field goes into the history; once
/// published a reason is required, and `P` may not fall below the slots already granted. A
/// larger `P` grants waiting filings at once (R-FIL-6).
pub async fn update_round(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &RoundInput,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<RoundView> {
    if !can_edit(actor) {
        return Err(StoreError::forbidden("只有区培训中心负责人可以调整批次"));
    }
    let c = clean(input)?;
    let now = db_time(now);
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    with_retry!({
        let txn = store.begin_write().await?;
        let old = lock_round(store, &txn, id).await?;
        let state = parse_state(&old.status);
        if state == RoundState::Closed {
            return Err(StoreError::validation(
                "ROUND_CLOSED",
                "批次已结束，不能调整",
                "status",
            ));
        }
        if old.year != input.year || parse_half(&old.half) != input.half {
            return Err(StoreError::validation(
                "ROUND_YEAR_FIXED",
                "批次的年度和半年度不能修改",
                "year",
            ));
        }
        if state == RoundState::Published && reason.is_none() {
            return Err(StoreError::validation(
                "CHANGE_REASON_REQUIRED",
                "批次已发布，调整须填写理由",
                "reason",
            ));
        }
        // The round's counter (crate::queue), read under the lock.
        let holding = old.slots_held.max(0) as u32;
        let new_total = input
            .base_planned
            .saturating_add(old.rolled_over.max(0) as u32);
        if new_total < holding {
            return Err(StoreError::validation(
                "ROUND_BELOW_GRANTED",
                format!("已批出名额{holding}个，计划班次数（含结转）不能少于已批出名额"),
                "base_planned",
            ));
        }
        let old_view = to_view(old.clone());
        let groups_json = serde_json::to_string(&c.target_groups).unwrap_or("[]".into());
        let changes = [
            ("label", old.label.clone(), c.label.clone()),
            (
                "base_planned",
                old.base_planned.to_string(),
                input.base_planned.to_string(),
            ),
            (
                "window_start",
                old.window_start.to_string(),
                input.window_start.to_string(),
            ),
            (
                "window_end",
                old.window_end.to_string(),
                input.window_end.to_string(),
            ),
            (
                "target_groups",
                old.target_groups.clone(),
                groups_json.clone(),
            ),
            ("call_text", old.call_text.clone(), c.call_text.clone()),
        ];
        let changed =
            record_changes(&txn, actor, ChangeTarget::Round(id), changes, reason, now).await?;
        if !changed {
            return Ok(old_view);
        }
        let m = round::ActiveModel {
            id: Set(id),
            label: Set(c.label.clone()),
            base_planned: Set(input.base_planned as i32),
            window_start: Set(input.window_start),
            window_end: Set(input.window_end),
            target_groups: Set(groups_json),
            call_text: Set(c.call_text.clone()),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await
        .map_err(|e| crate::map_unique(e, "ROUND_LABEL_TAKEN", "同一年度已有同名批次", "label"))?;
        let granted = filings::allocate_round(&txn, &m, now).await?;
        let v = to_view(m);
        let mut new = audit_value(&v);
        new["reason"] = serde_json::json!(reason);
        new["granted"] = serde_json::json!(granted);
        audit::append(
            &txn,
            actor,
            "round.update",
            "round",
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

/// R-PLAN-2: publish a draft round: it appears on the public bulletin and accepts applications.
pub async fn publish_round(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<RoundView> {
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let old = lock_round(store, &txn, id).await?;
        let state = parse_state(&old.status);
        let new_state =
            wf_round::apply(state, RoundAction::Publish, &wf_actor(actor)).map_err(wf_err)?;
        let old_view = to_view(old);
        let m = round::ActiveModel {
            id: Set(id),
            status: Set(new_state.code().to_string()),
            published_at: Set(Some(now)),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        record_change(
            &txn,
            actor,
            ChangeTarget::Round(id),
            "status",
            Some(state.code().into()),
            Some(new_state.code().into()),
            None,
            now,
        )
        .await?;
        let v = to_view(m);
        audit::append(
            &txn,
            actor,
            "round.publish",
            "round",
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

/// R-PLAN-3: close a published round. Waiting filings end as 未获名额 and each of their
/// institutions gets an inbox message; an H1 round's `P − consumed` rolls into the H2 round of
/// the same year (or waits for it to be created).
pub async fn close_round(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<CloseReport> {
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let old = lock_round(store, &txn, id).await?;
        let state = parse_state(&old.status);
        let new_state =
            wf_round::apply(state, RoundAction::Close, &wf_actor(actor)).map_err(wf_err)?;
        let half = parse_half(&old.half);
        let next = if half == Half::H1 {
            match find_half(&txn, old.year, Half::H2).await? {
                Some(n) => Some(lock_round(store, &txn, n.id).await?),
                None => None,
            }
        } else {
            None
        };
        let rows = filing::Entity::find()
            .filter(filing::Column::RoundId.eq(id))
            .order_by_asc(filing::Column::QueueSeq)
            .all(&txn)
            .await?;
        let states: Vec<(i64, ClassState)> = rows
            .iter()
            .map(|f| (f.id, filings::parse_class_state(&f.state)))
            .collect();
        let total = planned_total(&old);
        let outcome = wf_round::close_outcome(
            old.year,
            half,
            total,
            &states,
            next.as_ref()
                .map(|n| (n.year, n.base_planned.max(0) as u32)),
        )
        .map_err(|e| StoreError::Validation {
            code: e.code(),
            message: crate::checks::zh(&e.to_string()),
            field: None,
        })?;
        // Waiting filings: 未获名额, and their institutions are told.
        let mut told: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for f in rows.iter().filter(|f| outcome.not_granted.contains(&f.id)) {
            filings::mark_not_granted(&txn, f, now).await?;
            told.entry(f.institution_id).or_default().push(f.queue_seq);
        }
        for (inst, seqs) in &told {
            let seqs: Vec<String> = seqs.iter().map(|s| format!("第{s}号")).collect();
            inbox_message::ActiveModel {
                institution_id: Set(*inst),
                title: Set(format!("{}已结束：{}份开班备案未获名额", old.label, seqs.len())),
                body: Set(format!(
                    "{}已结束。贵机构排队序号为{}的开班备案在批次结束时仍在候补，未获名额（R-PLAN-3）。如需开班，请在下一批次重新申报。",
                    old.label,
                    seqs.join("、")
                )),
                created_at: Set(now),
                read_at: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        // The rollover (H1 only, same year only).
        let unconsumed = if half == Half::H1 {
            total.saturating_sub(outcome.consumed)
        } else {
            0
        };
        let reason = format!(
            "{}结束：计划{}个班次，已占用{}个，未完成指标{}个自动纳入下半年计划班次数（R-PLAN-3）",
            old.label, total, outcome.consumed, unconsumed
        );
        let mut into_round = None;
        let mut pending = 0;
        match (&outcome.rollover, next) {
            (Some(rolled), Some(n)) if rolled.rolled_over > 0 => {
                let new_rolled = n.rolled_over + rolled.rolled_over as i32;
                let m = round::ActiveModel {
                    id: Set(n.id),
                    rolled_over: Set(new_rolled),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(&txn)
                .await?;
                record_change(
                    &txn,
                    actor,
                    ChangeTarget::Round(n.id),
                    "rolled_over",
                    Some(n.rolled_over.to_string()),
                    Some(new_rolled.to_string()),
                    Some(&reason),
                    now,
                )
                .await?;
                filings::allocate_round(&txn, &m, now).await?;
                into_round = Some(n.id);
            }
            (_, Some(n)) => into_round = Some(n.id),
            (_, None) if unconsumed > 0 => pending = unconsumed as i32,
            _ => {}
        }
        let m = round::ActiveModel {
            id: Set(id),
            status: Set(new_state.code().to_string()),
            closed_at: Set(Some(now)),
            consumed_at_close: Set(Some(outcome.consumed as i32)),
            rollover_pending: Set(old.rollover_pending + pending),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        record_change(
            &txn,
            actor,
            ChangeTarget::Round(id),
            "status",
            Some(state.code().into()),
            Some(new_state.code().into()),
            (half == Half::H1).then_some(reason.as_str()),
            now,
        )
        .await?;
        if pending > 0 {
            record_change(
                &txn,
                actor,
                ChangeTarget::Round(id),
                "rollover_pending",
                Some(old.rollover_pending.to_string()),
                Some((old.rollover_pending + pending).to_string()),
                Some(&format!("{reason}；下半年批次尚未创建，创建时自动计入")),
                now,
            )
            .await?;
        }
        let report = CloseReport {
            round: to_view(m),
            consumed: outcome.consumed,
            rolled_over: unconsumed,
            into_round,
            not_granted: outcome.not_granted.clone(),
        };
        audit::append(
            &txn,
            actor,
            "round.close",
            "round",
            Some(id.to_string()),
            Some(audit_value(&to_view(old.clone()))),
            Some(serde_json::to_value(&report).unwrap_or_default()),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(report)
    })
}

/// R-PLAN-3: a slot an H1 filing released after its round closed goes to the H2 round of the same
/// year (granting its waiting filings), or onto the pending rollover while there is no H2 yet.
/// Recorded like any plan change. Other closed rounds: the slot lapses.
pub(crate) async fn late_release(
    store: &Store,
    txn: &DatabaseTransaction,
    actor: &Actor,
    closed: &round::Model,
    filing_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    if parse_half(&closed.half) != Half::H1 {
        return Ok(None);
    }
    let reason = format!(
        "{}结束后备案#{filing_id}释放名额1个，纳入下半年计划班次数（R-PLAN-3）",
        closed.label
    );
    match find_half(txn, closed.year, Half::H2).await? {
        Some(n) => {
            let n = lock_round(store, txn, n.id).await?;
            let m = round::ActiveModel {
                id: Set(n.id),
                rolled_over: Set(n.rolled_over + 1),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(txn)
            .await?;
            record_change(
                txn,
                actor,
                ChangeTarget::Round(n.id),
                "rolled_over",
                Some(n.rolled_over.to_string()),
                Some((n.rolled_over + 1).to_string()),
                Some(&reason),
                now,
            )
            .await?;
            filings::allocate_round(txn, &m, now).await?;
            Ok(Some(n.id))
        }
        None => {
            round::ActiveModel {
                id: Set(closed.id),
                rollover_pending: Set(closed.rollover_pending + 1),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(txn)
            .await?;
            record_change(
                txn,
                actor,
                ChangeTarget::Round(closed.id),
                "rollover_pending",
                Some(closed.rollover_pending.to_string()),
                Some((closed.rollover_pending + 1).to_string()),
                Some(&reason),
                now,
            )
            .await?;
            Ok(None)
        }
    }
}

/// May `viewer` see a round in `state`? Published and closed rounds are public (R-PLAN-2);
/// drafts only for the centre, bureau and city.
fn can_see(viewer: &Actor, state: RoundState) -> bool {
    state.is_public()
        || viewer.is_system()
        || viewer
            .role
            .is_some_and(|r| r.is_centre() || matches!(r, Role::Bureau | Role::City))
}

/// One round (drafts only for the centre, bureau and city).
pub async fn get_round(store: &Store, viewer: &Actor, id: i64) -> Result<RoundView> {
    let m = round::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "round" })?;
    if !can_see(viewer, parse_state(&m.status)) {
        return Err(StoreError::NotFound { entity: "round" });
    }
    Ok(to_view(m))
}

/// Every round the viewer may see, newest first.
pub async fn list_rounds(store: &Store, viewer: &Actor) -> Result<Vec<RoundView>> {
    if !can_read_plans(viewer) {
        return Err(StoreError::forbidden("无权查看批次"));
    }
    Ok(round::Entity::find()
        .order_by_desc(round::Column::Year)
        .order_by_desc(round::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .filter(|m| can_see(viewer, parse_state(&m.status)))
        .map(to_view)
        .collect())
}

/// The round before `m` (the latest earlier round that is not a draft): its `P` is `P_prev`
/// (R-CAP-5).
pub(crate) async fn previous_round<C: sea_orm::ConnectionTrait>(
    db: &C,
    m: &round::Model,
) -> Result<Option<round::Model>> {
    let rows = round::Entity::find()
        .filter(round::Column::Id.ne(m.id))
        .filter(round::Column::Status.ne(RoundState::Draft.code()))
        .filter(round::Column::Year.lte(m.year))
        .all(db)
        .await?;
    let key = |r: &round::Model| (r.year, r.window_start, r.id);
    Ok(rows.into_iter().filter(|r| key(r) < key(m)).max_by_key(key))
}

/// Is the round open for applications today (published and within the window)?
pub(crate) fn window_open(m: &round::Model, now: DateTime<Utc>) -> bool {
    let d = today(now);
    parse_state(&m.status) == RoundState::Published && m.window_start <= d && d <= m.window_end
}

/// Names of institutions by id (for views).
pub(crate) async fn institution_names<C: sea_orm::ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, String>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    Ok(institution::Entity::find()
        .filter(institution::Column::Id.is_in(ids))
        .select_only()
        .column(institution::Column::Id)
        .column(institution::Column::Name)
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}
