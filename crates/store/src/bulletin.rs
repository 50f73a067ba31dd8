//! The public bulletin (公示, guideline 二(三), R-FIL-6 made visible): no login. Per published
//! round: the planned quota (base + rollover), granted, remaining, and every filing in queue
//! order with its institution, submission time (to the second, Asia/Shanghai) and status; and
//! the approvals per institution. Nothing personal: no people's names, no user names.

use crate::entity::{filing, round};
use crate::filings::{SlotState, parse_class_state};
use crate::rounds::{self, RoundView, parse_state};
use crate::workflow_glue::local_second;
use crate::{Result, Store, StoreError};
use peixun_domain::workflow::class::{ClassState, Slot};
use peixun_domain::workflow::round::RoundState;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One filing on the bulletin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulletinEntry {
    pub queue_seq: i64,
    pub institution_name: String,
    pub occupation: String,
    pub level: String,
    /// Asia/Shanghai, to the second: `2026-03-02 09:00:00`.
    pub submitted_at: String,
    pub status_label: String,
    pub holds_slot: bool,
}

/// Per institution: its filings' standing in the round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulletinInstitution {
    pub institution_name: String,
    /// 已批复 (approved, and anything after approval).
    pub approved: u32,
    pub holding: u32,
    pub waiting: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bulletin {
    pub round_id: i64,
    pub year: i32,
    pub label: String,
    pub status_label: String,
    pub window_start: chrono::NaiveDate,
    pub window_end: chrono::NaiveDate,
    pub base_planned: u32,
    pub rolled_over: u32,
    pub planned_total: u32,
    /// Slots held now (under review with a slot, returned with a slot, approved and after).
    pub granted: u32,
    pub remaining: u32,
    pub waiting: u32,
    pub entries: Vec<BulletinEntry>,
    pub institutions: Vec<BulletinInstitution>,
}

/// The status as the bulletin shows it.
pub fn bulletin_label(state: &ClassState) -> &'static str {
    match state {
        ClassState::Submitted {
            slot: Slot::Holding,
            ..
        } => "占用名额",
        ClassState::Submitted {
            slot: Slot::Waiting,
            ..
        } => "候补",
        ClassState::Returned {
            slot: Slot::Holding,
            ..
        } => "退回修改（占用名额）",
        ClassState::Returned {
            slot: Slot::Waiting,
            ..
        } => "退回修改（候补）",
        ClassState::Rejected => "已退回（不予备案）",
        ClassState::Withdrawn => "已撤回",
        ClassState::Cancelled { .. } => "已取消",
        ClassState::NotGranted => "未获名额",
        ClassState::Draft => "草稿",
        s if s.is_approved() => "已批复",
        _ => "其他",
    }
}

/// The bulletin of a published or closed round (drafts do not exist for the public).
pub async fn bulletin(store: &Store, round_id: i64) -> Result<Bulletin> {
    let r = round::Entity::find_by_id(round_id)
        .one(store.db())
        .await?
        .filter(|r| parse_state(&r.status).is_public())
        .ok_or(StoreError::NotFound { entity: "round" })?;
    let rows = filing::Entity::find()
        .filter(filing::Column::RoundId.eq(round_id))
        .order_by_asc(filing::Column::QueueSeq)
        .all(store.db())
        .await?;
    let names =
        rounds::institution_names(store.db(), rows.iter().map(|f| f.institution_id)).await?;
    let mut per: BTreeMap<i64, BulletinInstitution> = BTreeMap::new();
    let mut entries = Vec::with_capacity(rows.len());
    let (mut granted, mut waiting) = (0u32, 0u32);
    for f in rows {
        let state = parse_class_state(&f.state);
        let name = names.get(&f.institution_id).cloned().unwrap_or_default();
        let slot = SlotState::parse(&f.slot_state);
        let e = per
            .entry(f.institution_id)
            .or_insert_with(|| BulletinInstitution {
                institution_name: name.clone(),
                approved: 0,
                holding: 0,
                waiting: 0,
            });
        if state.is_approved() {
            e.approved += 1;
        }
        match slot {
            SlotState::Holding => {
                e.holding += 1;
                granted += 1;
            }
            SlotState::Waiting => {
                e.waiting += 1;
                waiting += 1;
            }
            _ => {}
        }
        entries.push(BulletinEntry {
            queue_seq: f.queue_seq,
            institution_name: name,
            occupation: f.occupation,
            level: f.level,
            submitted_at: local_second(f.submitted_at),
            status_label: bulletin_label(&state).to_string(),
            holds_slot: slot == SlotState::Holding,
        });
    }
    let v = rounds::to_view(r);
    let mut institutions: Vec<BulletinInstitution> = per.into_values().collect();
    institutions.sort_by(|a, b| a.institution_name.cmp(&b.institution_name));
    Ok(Bulletin {
        round_id: v.id,
        year: v.year,
        label: v.label,
        status_label: v.status_label,
        window_start: v.window_start,
        window_end: v.window_end,
        base_planned: v.base_planned,
        rolled_over: v.rolled_over,
        planned_total: v.planned_total,
        granted,
        remaining: v.planned_total.saturating_sub(granted),
        waiting,
        entries,
        institutions,
    })
}

/// Published and closed rounds (the bulletin's index), newest first. No login needed.
pub async fn published_rounds(store: &Store) -> Result<Vec<RoundView>> {
    Ok(round::Entity::find()
        .filter(round::Column::Status.ne(RoundState::Draft.code()))
        .order_by_desc(round::Column::Year)
        .order_by_desc(round::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(rounds::to_view)
        .collect())
}
