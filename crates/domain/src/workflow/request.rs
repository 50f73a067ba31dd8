//! Online-training request (R-FIL-8) and address request (R-FIL-7): Submitted → Approved /
//! Refused. Submitted by the institution; decided by the centre (centre_staff or
//! centre_admin), never by the submitter (S7). An online request is approved only when its
//! evidence is complete ([`crate::filing::check_online_request`] finds nothing).

use super::{
    Actor, InstitutionId, TransitionError, UserId, Who, check_actor, check_not_submitter,
    require_reason,
};
use crate::role::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// 线上培训申请 (R-FIL-8)
    OnlineTraining,
    /// 培训地址申请 (R-FIL-7)
    Address,
}

impl RequestKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            RequestKind::OnlineTraining => "线上培训申请",
            RequestKind::Address => "培训地址申请",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// 待审核
    Submitted,
    /// 已同意
    Approved,
    /// 不同意
    Refused,
}

impl RequestState {
    pub fn code(self) -> &'static str {
        match self {
            RequestState::Submitted => "submitted",
            RequestState::Approved => "approved",
            RequestState::Refused => "refused",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            RequestState::Submitted => "待审核",
            RequestState::Approved => "已同意",
            RequestState::Refused => "不同意",
        }
    }
}

/// Who may submit a request: the institution's own users.
pub fn may_submit(role: Role) -> bool {
    role.is_institution()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RequestAction {
    Approve,
    Refuse { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestActionKind {
    Approve,
    Refuse,
}

impl RequestActionKind {
    pub const ALL: [RequestActionKind; 2] = [RequestActionKind::Approve, RequestActionKind::Refuse];
    pub fn code(self) -> &'static str {
        match self {
            RequestActionKind::Approve => "approve",
            RequestActionKind::Refuse => "refuse",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            RequestActionKind::Approve => "同意",
            RequestActionKind::Refuse => "不同意",
        }
    }
}

impl RequestAction {
    pub fn kind(&self) -> RequestActionKind {
        match self {
            RequestAction::Approve => RequestActionKind::Approve,
            RequestAction::Refuse { .. } => RequestActionKind::Refuse,
        }
    }
}

/// The facts of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestContext {
    pub kind: RequestKind,
    pub institution_id: InstitutionId,
    pub submitted_by: UserId,
    /// For an online request: [`crate::filing::check_online_request`] found nothing. Address
    /// requests: always true.
    pub evidence_complete: bool,
}

fn who(state: RequestState, _kind: RequestActionKind) -> Option<Who> {
    (state == RequestState::Submitted).then_some(Who::Centre)
}

pub fn allowed_actions(state: RequestState, role: Role) -> Vec<RequestActionKind> {
    RequestActionKind::ALL
        .into_iter()
        .filter(|k| who(state, *k).is_some_and(|w| w.admits_role(role)))
        .collect()
}

/// The request transition (R-FIL-7, R-FIL-8).
pub fn apply(
    state: RequestState,
    action: &RequestAction,
    actor: &Actor,
    ctx: &RequestContext,
) -> Result<RequestState, TransitionError> {
    let kind = action.kind();
    check_actor(
        state.label_zh(),
        kind.label_zh(),
        who(state, kind),
        actor,
        Some(ctx.institution_id),
    )?;
    check_not_submitter(actor, Some(ctx.submitted_by))?;
    Ok(match action {
        RequestAction::Approve => {
            if !ctx.evidence_complete {
                return Err(TransitionError::PackageIncomplete);
            }
            RequestState::Approved
        }
        RequestAction::Refuse { reason } => {
            require_reason(reason)?;
            RequestState::Refused
        }
    })
}
