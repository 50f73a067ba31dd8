//! Violation (违法违规, R-VIO-1/2): Recorded → Confirmed / Dismissed.
//!
//! The centre records a violation (centre_staff or centre_admin) with evidence and the classes
//! involved; centre_admin confirms or dismisses it, and never the person who recorded it (S7).
//! Once confirmed: the classes involved get no certificate codes (set
//! [`super::class::ClassContext::under_violation`]), the agreement is terminated
//! ([`super::agreement::AgreementAction::Terminate`] with
//! [`super::agreement::TerminationCause::Violation`]) and pending filings are cancelled
//! ([`super::class::sanction_effect`]).

use super::{
    Actor, TransitionError, UserId, Who, check_actor, check_not_submitter, require_reason,
};
use crate::role::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationState {
    /// 已登记
    Recorded,
    /// 已确认
    Confirmed,
    /// 不予认定
    Dismissed,
}

impl ViolationState {
    pub fn code(self) -> &'static str {
        match self {
            ViolationState::Recorded => "recorded",
            ViolationState::Confirmed => "confirmed",
            ViolationState::Dismissed => "dismissed",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ViolationState::Recorded => "已登记",
            ViolationState::Confirmed => "已确认",
            ViolationState::Dismissed => "不予认定",
        }
    }
    /// R-VIO-2: the consequences apply.
    pub fn is_confirmed(self) -> bool {
        self == ViolationState::Confirmed
    }
}

/// Who may record a violation (R-VIO-1): the centre.
pub fn may_record(role: Role) -> bool {
    role.is_centre()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ViolationAction {
    Confirm,
    Dismiss { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationActionKind {
    /// 确认
    Confirm,
    /// 不予认定
    Dismiss,
}

impl ViolationActionKind {
    pub const ALL: [ViolationActionKind; 2] =
        [ViolationActionKind::Confirm, ViolationActionKind::Dismiss];
    pub fn code(self) -> &'static str {
        match self {
            ViolationActionKind::Confirm => "confirm",
            ViolationActionKind::Dismiss => "dismiss",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ViolationActionKind::Confirm => "确认违法违规",
            ViolationActionKind::Dismiss => "不予认定",
        }
    }
}

impl ViolationAction {
    pub fn kind(&self) -> ViolationActionKind {
        match self {
            ViolationAction::Confirm => ViolationActionKind::Confirm,
            ViolationAction::Dismiss { .. } => ViolationActionKind::Dismiss,
        }
    }
}

fn who(state: ViolationState, _kind: ViolationActionKind) -> Option<Who> {
    (state == ViolationState::Recorded).then_some(Who::CentreAdmin)
}

pub fn allowed_actions(state: ViolationState, role: Role) -> Vec<ViolationActionKind> {
    ViolationActionKind::ALL
        .into_iter()
        .filter(|k| who(state, *k).is_some_and(|w| w.admits_role(role)))
        .collect()
}

/// The violation transition; `recorded_by` is the user who recorded it (S7).
pub fn apply(
    state: ViolationState,
    action: &ViolationAction,
    actor: &Actor,
    recorded_by: UserId,
) -> Result<ViolationState, TransitionError> {
    let kind = action.kind();
    check_actor(
        state.label_zh(),
        kind.label_zh(),
        who(state, kind),
        actor,
        None,
    )?;
    check_not_submitter(actor, Some(recorded_by))?;
    Ok(match action {
        ViolationAction::Confirm => ViolationState::Confirmed,
        ViolationAction::Dismiss { reason } => {
            require_reason(reason)?;
            ViolationState::Dismissed
        }
    })
}
