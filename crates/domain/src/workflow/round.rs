//! Round (批次, R-PLAN-2/3): Draft → Published → Closed.
//!
//! Closing an H1 round rolls its unconsumed quota into the next round of the same year
//! (R-PLAN-3, [`crate::rules::rollover`]); filings still waiting end as 未获名额
//! ([`super::class::ClassState::NotGranted`]). [`close_outcome`] computes both from the filings'
//! states, using [`super::class::holds_slot`] as "consumed".

use super::class::{ClassState, Slot, holds_slot};
use super::{Actor, TransitionError, Who, check_actor};
use crate::role::Role;
use crate::rules::{RolledPlan, RulesError, rollover};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundState {
    /// 草稿: being prepared, not on the bulletin.
    Draft,
    /// 已发布: on the bulletin; applications and filings accepted.
    Published,
    /// 已结束: no more filings; H1 rolled over (R-PLAN-3).
    Closed,
}

impl RoundState {
    pub fn code(self) -> &'static str {
        match self {
            RoundState::Draft => "draft",
            RoundState::Published => "published",
            RoundState::Closed => "closed",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            RoundState::Draft => "草稿",
            RoundState::Published => "已发布",
            RoundState::Closed => "已结束",
        }
    }
    /// R-PLAN-2: published rounds are on the public bulletin.
    pub fn is_public(self) -> bool {
        !matches!(self, RoundState::Draft)
    }
    /// Filings may be submitted (R-FIL-6).
    pub fn accepts_filings(self) -> bool {
        self == RoundState::Published
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundAction {
    /// 发布 (centre_admin).
    Publish,
    /// 结束批次 (centre_admin).
    Close,
}

impl RoundAction {
    pub const ALL: [RoundAction; 2] = [RoundAction::Publish, RoundAction::Close];
    pub fn code(self) -> &'static str {
        match self {
            RoundAction::Publish => "publish",
            RoundAction::Close => "close",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            RoundAction::Publish => "发布",
            RoundAction::Close => "结束批次",
        }
    }
}

fn who(state: RoundState, action: RoundAction) -> Option<Who> {
    match (state, action) {
        (RoundState::Draft, RoundAction::Publish) => Some(Who::CentreAdmin),
        (RoundState::Published, RoundAction::Close) => Some(Who::CentreAdmin),
        _ => None,
    }
}

/// What `role` may do to a round in `state`.
pub fn allowed_actions(state: RoundState, role: Role) -> Vec<RoundAction> {
    RoundAction::ALL
        .into_iter()
        .filter(|a| who(state, *a).is_some_and(|w| w.admits_role(role)))
        .collect()
}

/// The round transition (R-PLAN-2). Closing is only the state change: run [`close_outcome`] in
/// the same transaction for the rollover and the not-granted filings.
pub fn apply(
    state: RoundState,
    action: RoundAction,
    actor: &Actor,
) -> Result<RoundState, TransitionError> {
    check_actor(
        state.label_zh(),
        action.label_zh(),
        who(state, action),
        actor,
        None,
    )?;
    Ok(match action {
        RoundAction::Publish => RoundState::Published,
        RoundAction::Close => RoundState::Closed,
    })
}

/// Which half of the year a round covers (R-PLAN-2). Only H1 rolls over (R-PLAN-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Half {
    H1,
    H2,
    /// A free label (a special round): no rollover.
    Other,
}

/// What closing a round means (R-PLAN-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseOutcome<F> {
    /// Slots held at the close (filings under review or approved, in training, completed,
    /// overdue, archived): [`holds_slot`].
    pub consumed: u32,
    /// Filings waiting at the close: each ends as [`ClassState::NotGranted`] (apply
    /// [`super::class::ClassAction::NotGranted`] as the system) and its institution is told.
    pub not_granted: Vec<F>,
    /// For an H1 round with a next round of the same year: the next round's base and the
    /// rolled-over part. `None` for H2 / other rounds or when there is no next round.
    pub rollover: Option<RolledPlan>,
}

/// R-PLAN-3: closing a round of `year` and `half` whose planned count (rollover included) is
/// `planned`, given every filing of the round and its state; `next` is the next round of the
/// same year (`(year, base)`), if any. A next round in another year is refused
/// ([`RulesError::CrossYearRollover`]).
pub fn close_outcome<F: Copy>(
    year: i32,
    half: Half,
    planned: u32,
    filings: &[(F, ClassState)],
    next: Option<(i32, u32)>,
) -> Result<CloseOutcome<F>, RulesError> {
    let consumed = filings.iter().filter(|(_, s)| holds_slot(s)).count() as u32;
    let not_granted = filings
        .iter()
        .filter(|(_, s)| is_waiting(s))
        .map(|(f, _)| *f)
        .collect();
    let rollover = match (half, next) {
        (Half::H1, Some((to_year, to_base))) => {
            Some(rollover(year, planned, consumed, to_year, to_base)?)
        }
        _ => None,
    };
    Ok(CloseOutcome {
        consumed,
        not_granted,
        rollover,
    })
}

/// A filing in the waiting list (候补): submitted or returned without a slot.
pub fn is_waiting(state: &ClassState) -> bool {
    matches!(
        state,
        ClassState::Submitted {
            slot: Slot::Waiting,
            ..
        } | ClassState::Returned {
            slot: Slot::Waiting,
            ..
        }
    )
}
