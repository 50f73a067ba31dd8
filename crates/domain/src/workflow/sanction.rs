//! Overdue sanction (R-OVD-2): Raised → Confirmed → Applied, or Dismissed.
//!
//! "同年超过3次上述情况的取消当年的所有培训资格": the system raises the sanction when an
//! institution's overdue class is the 4th (policy: `overdue_limit_per_year + 1`) in the year of
//! its last day ([`raise_on_overdue`], built on [`crate::rules::record_overdue`]); centre_admin
//! confirms or dismisses it (with a reason); the system then applies it — agreements of that
//! year terminated, pending filings and unstarted classes cancelled, running classes flagged
//! ([`super::class::sanction_effect`]) — and marks it applied.

use super::{Actor, TransitionError, Who, check_actor, require_reason};
use crate::policy::Policy;
use crate::role::Role;
use crate::rules::{OverdueTally, record_overdue};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SanctionState {
    /// 待确认: raised by the system.
    Raised,
    /// 已确认: the effects are being applied.
    Confirmed,
    /// 已执行
    Applied,
    /// 不予处理
    Dismissed,
}

impl SanctionState {
    pub fn code(self) -> &'static str {
        match self {
            SanctionState::Raised => "raised",
            SanctionState::Confirmed => "confirmed",
            SanctionState::Applied => "applied",
            SanctionState::Dismissed => "dismissed",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            SanctionState::Raised => "待确认",
            SanctionState::Confirmed => "已确认",
            SanctionState::Applied => "已执行",
            SanctionState::Dismissed => "不予处理",
        }
    }
}

/// A sanction the system raises (R-OVD-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaisedSanction {
    /// The calendar year whose training qualification is at stake.
    pub year: i32,
    /// The overdue count that raised it (the 4th by default).
    pub count: u32,
    pub state: SanctionState,
}

/// R-OVD-2: a class of the institution became overdue, its last day in `year`, with
/// `prior_in_year` overdue classes already counted in that year. Returns the sanction to raise
/// exactly at the (limit + 1)-th overdue class, otherwise `None` (a later class in an
/// over-limit year does not raise a second one), along with the tally.
pub fn raise_on_overdue(
    prior_in_year: u32,
    year: i32,
    policy: &Policy,
) -> (OverdueTally, Option<RaisedSanction>) {
    let tally = record_overdue(prior_in_year, year, policy);
    let raised = tally.raise_sanction.then_some(RaisedSanction {
        year,
        count: tally.count,
        state: SanctionState::Raised,
    });
    (tally, raised)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SanctionAction {
    Confirm,
    Dismiss { reason: String },
    MarkApplied,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SanctionActionKind {
    /// 确认取消当年培训资格 (centre_admin)
    Confirm,
    /// 不予处理 (centre_admin)
    Dismiss,
    /// 已执行 (system, after the effects)
    MarkApplied,
}

impl SanctionActionKind {
    pub const ALL: [SanctionActionKind; 3] = [
        SanctionActionKind::Confirm,
        SanctionActionKind::Dismiss,
        SanctionActionKind::MarkApplied,
    ];
    pub fn code(self) -> &'static str {
        match self {
            SanctionActionKind::Confirm => "confirm",
            SanctionActionKind::Dismiss => "dismiss",
            SanctionActionKind::MarkApplied => "mark_applied",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            SanctionActionKind::Confirm => "确认取消当年培训资格",
            SanctionActionKind::Dismiss => "不予处理",
            SanctionActionKind::MarkApplied => "执行完毕",
        }
    }
}

impl SanctionAction {
    pub fn kind(&self) -> SanctionActionKind {
        match self {
            SanctionAction::Confirm => SanctionActionKind::Confirm,
            SanctionAction::Dismiss { .. } => SanctionActionKind::Dismiss,
            SanctionAction::MarkApplied => SanctionActionKind::MarkApplied,
        }
    }
}

fn who(state: SanctionState, kind: SanctionActionKind) -> Option<Who> {
    use SanctionActionKind as K;
    match (state, kind) {
        (SanctionState::Raised, K::Confirm | K::Dismiss) => Some(Who::CentreAdmin),
        (SanctionState::Confirmed, K::MarkApplied) => Some(Who::System),
        _ => None,
    }
}

pub fn allowed_actions(state: SanctionState, role: Role) -> Vec<SanctionActionKind> {
    SanctionActionKind::ALL
        .into_iter()
        .filter(|k| who(state, *k).is_some_and(|w| w.admits_role(role)))
        .collect()
}

/// The sanction transition. The sanction is raised by the system, so no user is its submitter;
/// S7 is met by the confirmation being a person's decision on a machine's proposal.
pub fn apply(
    state: SanctionState,
    action: &SanctionAction,
    actor: &Actor,
) -> Result<SanctionState, TransitionError> {
    let kind = action.kind();
    check_actor(
        state.label_zh(),
        kind.label_zh(),
        who(state, kind),
        actor,
        None,
    )?;
    Ok(match action {
        SanctionAction::Confirm => SanctionState::Confirmed,
        SanctionAction::Dismiss { reason } => {
            require_reason(reason)?;
            SanctionState::Dismissed
        }
        SanctionAction::MarkApplied => SanctionState::Applied,
    })
}
