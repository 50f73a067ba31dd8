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
    pub fn from_code(code: &str) -> Option<ViolationState> {
        [
            ViolationState::Recorded,
            ViolationState::Confirmed,
            ViolationState::Dismissed,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
    /// R-VIO-2: the consequences apply.
    pub fn is_confirmed(self) -> bool {
        self == ViolationState::Confirmed
    }
}

/// The kind of a violation (R-VIO-1), stored as its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// 申报资料作假
    FalsifiedApplication,
    /// 虚假培训
    FakeTraining,
    /// 冒名顶替
    Impersonation,
    /// 骗取补贴
    SubsidyFraud,
    /// 其他违法违规行为
    Other,
}

impl ViolationKind {
    pub const ALL: [ViolationKind; 5] = [
        ViolationKind::FalsifiedApplication,
        ViolationKind::FakeTraining,
        ViolationKind::Impersonation,
        ViolationKind::SubsidyFraud,
        ViolationKind::Other,
    ];
    pub fn code(self) -> &'static str {
        match self {
            ViolationKind::FalsifiedApplication => "falsified_application",
            ViolationKind::FakeTraining => "fake_training",
            ViolationKind::Impersonation => "impersonation",
            ViolationKind::SubsidyFraud => "subsidy_fraud",
            ViolationKind::Other => "other",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ViolationKind::FalsifiedApplication => "申报资料作假",
            ViolationKind::FakeTraining => "虚假培训",
            ViolationKind::Impersonation => "冒名顶替",
            ViolationKind::SubsidyFraud => "骗取补贴",
            ViolationKind::Other => "其他违法违规行为",
        }
    }
    pub fn from_code(code: &str) -> Option<ViolationKind> {
        ViolationKind::ALL.into_iter().find(|k| k.code() == code)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_vio_1_kind_codes_round_trip() {
        for k in ViolationKind::ALL {
            assert_eq!(ViolationKind::from_code(k.code()), Some(k));
        }
        assert_eq!(ViolationKind::from_code("nope"), None);
        assert_eq!(
            ViolationKind::FalsifiedApplication.label_zh(),
            "申报资料作假"
        );
    }
}
