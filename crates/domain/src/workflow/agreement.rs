//! Agreement (委托培训协议, R-AGR-1): Signed → Terminated.
//!
//! Termination follows a confirmed violation (R-VIO-2, 即时中止履行培训协议), a confirmed overdue
//! sanction (R-OVD-2) or the centre's decision by hand (手动中止). A terminated agreement accepts no filings ([`accepts_filings`]); the
//! filing machine checks it at submission ([`super::class::ClassContext::agreement`]).
//! Signing itself creates the record (with its cap, R-CAP-*), so it is not a transition here.

use super::{Actor, TransitionError, Who, check_actor, require_reason};
use crate::role::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminationCause {
    /// R-VIO-2: a confirmed violation.
    Violation,
    /// R-OVD-2: more than 3 overdue classes in the year, sanction confirmed.
    OverdueSanction,
    /// R-AGR-1: terminated by the centre by hand (手动中止), with a reason.
    ByCentre,
}

impl TerminationCause {
    pub fn label_zh(self) -> &'static str {
        match self {
            TerminationCause::Violation => "违法违规，即时中止履行培训协议",
            TerminationCause::OverdueSanction => "同年超期班次超过规定次数，取消当年培训资格",
            TerminationCause::ByCentre => "区培训中心手动中止",
        }
    }
    /// The stored code (`agreements.termination_cause`).
    pub fn code(self) -> &'static str {
        match self {
            TerminationCause::Violation => "violation",
            TerminationCause::OverdueSanction => "overdue_sanction",
            TerminationCause::ByCentre => "by_centre",
        }
    }
    pub fn from_code(code: &str) -> Option<TerminationCause> {
        [
            TerminationCause::Violation,
            TerminationCause::OverdueSanction,
            TerminationCause::ByCentre,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }
    /// The cause its pending filings are cancelled with (R-VIO-2, R-OVD-2, R-AGR-1).
    pub fn cancel_cause(self) -> super::class::CancelCause {
        match self {
            TerminationCause::Violation => super::class::CancelCause::Violation,
            TerminationCause::OverdueSanction => super::class::CancelCause::OverdueSanction,
            TerminationCause::ByCentre => super::class::CancelCause::AgreementTerminated,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AgreementState {
    /// 已签订: in force; the institution may file classes.
    Signed,
    /// 已中止.
    Terminated { cause: TerminationCause },
}

impl AgreementState {
    pub fn code(self) -> &'static str {
        match self {
            AgreementState::Signed => "signed",
            AgreementState::Terminated { .. } => "terminated",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            AgreementState::Signed => "已签订",
            AgreementState::Terminated { .. } => "已中止",
        }
    }
}

/// R-AGR-1: only a signed, not terminated agreement accepts filings.
pub fn accepts_filings(state: AgreementState) -> bool {
    state == AgreementState::Signed
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AgreementAction {
    /// 中止协议: by centre_admin (with a reason) or by the system applying a confirmed sanction.
    Terminate {
        cause: TerminationCause,
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementActionKind {
    Terminate,
}

impl AgreementActionKind {
    pub fn code(self) -> &'static str {
        "terminate"
    }
    pub fn label_zh(self) -> &'static str {
        "中止协议"
    }
}

impl AgreementAction {
    pub fn kind(&self) -> AgreementActionKind {
        AgreementActionKind::Terminate
    }
}

fn who(state: AgreementState, _kind: AgreementActionKind) -> Option<Who> {
    match state {
        AgreementState::Signed => Some(Who::CentreAdminOrSystem),
        AgreementState::Terminated { .. } => None,
    }
}

pub fn allowed_actions(state: AgreementState, role: Role) -> Vec<AgreementActionKind> {
    [AgreementActionKind::Terminate]
        .into_iter()
        .filter(|k| who(state, *k).is_some_and(|w| w.admits_role(role)))
        .collect()
}

/// The agreement transition (R-AGR-1, R-VIO-2, R-OVD-2).
pub fn apply(
    state: AgreementState,
    action: &AgreementAction,
    actor: &Actor,
) -> Result<AgreementState, TransitionError> {
    let kind = action.kind();
    check_actor(
        state.label_zh(),
        kind.label_zh(),
        who(state, kind),
        actor,
        None,
    )?;
    match action {
        AgreementAction::Terminate { cause, reason } => {
            require_reason(reason)?;
            Ok(AgreementState::Terminated { cause: *cause })
        }
    }
}
