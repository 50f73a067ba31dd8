//! The workflows as explicit state machines (SECURITY.md S8): rounds (R-PLAN-2/3), agreements
//! (R-AGR-1), filings and classes (R-FIL-5/6, R-RUN-2, R-OVD-1/2, R-CRT-1), violations
//! (R-VIO-1/2), overdue sanctions (R-OVD-2), online-training and address requests (R-FIL-7/8),
//! and the monthly-report helpers (R-RUN-3).
//!
//! Each machine is a module with the same shape:
//!
//! * a state enum and an action enum (each with `label_zh` and a stable `code`);
//! * `allowed_actions(state, role) -> Vec<…ActionKind>`: what a role may do now (pages show
//!   buttons from it);
//! * `apply(state, action, actor, ctx) -> Result<State, TransitionError>`: the one transition
//!   function. It first checks the same table as `allowed_actions` (so a button shown is an
//!   action allowed, and nothing else is), then the facts in `ctx` (dates, the submitter, the
//!   agreement, a violation).
//!
//! The functions are pure: storage loads the record and its context inside its transaction, calls
//! `apply`, stores the new state and writes the audit row (S10).
//!
//! Separation of duties (S7, "whoever submits a record never approves it"): every decision on a
//! record (approve, return, reject, confirm, dismiss, refuse) takes the acting user's id and the
//! id of whoever submitted or recorded it, and refuses when they are the same
//! ([`TransitionError::SelfApproval`]).

pub mod agreement;
pub mod class;
pub mod report;
pub mod request;
pub mod round;
pub mod sanction;
pub mod violation;

use crate::calendar::CalendarError;
use crate::role::Role;
use crate::rules::RulesError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A user account's id as storage knows it.
pub type UserId = i64;
/// An institution's id as storage knows it.
pub type InstitutionId = i64;

/// Who acts: a signed-in user, or the system itself (the quota queue, the daily deadline sweep,
/// closing a round, applying a confirmed sanction). System actions never appear in
/// `allowed_actions` and no user can perform them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    System,
    User {
        role: Role,
        user_id: UserId,
        /// Set for institution roles: the one institution the user belongs to (S6).
        institution_id: Option<InstitutionId>,
    },
}

impl Actor {
    /// A user acting in `role` (no institution).
    pub fn user(role: Role, user_id: UserId) -> Actor {
        Actor::User {
            role,
            user_id,
            institution_id: None,
        }
    }

    /// An institution user (`institution_admin` or `institution_staff`) of `institution_id`.
    pub fn institution_user(role: Role, user_id: UserId, institution_id: InstitutionId) -> Actor {
        Actor::User {
            role,
            user_id,
            institution_id: Some(institution_id),
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::System => None,
            Actor::User { role, .. } => Some(*role),
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::System => None,
            Actor::User { user_id, .. } => Some(*user_id),
        }
    }
}

/// Why a transition was refused. [`TransitionError::code`] is stable for the API; `Display` is
/// the Chinese message for pages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action does not exist in this state for anyone.
    #[error("当前状态“{state}”下不能执行“{action}”")]
    InvalidTransition {
        state: &'static str,
        action: &'static str,
    },
    /// The action exists in this state, but not for this role.
    #[error("“{role}”无权执行“{action}”", role = .role.label_zh())]
    RoleNotAllowed { role: Role, action: &'static str },
    /// A user tried an action only the system performs.
    #[error("“{action}”由系统自动执行，不能手工操作")]
    SystemOnly { action: &'static str },
    /// The system tried an action only a person may take.
    #[error("“{action}”须由有权限的人员办理，系统不能代为执行")]
    PersonOnly { action: &'static str },
    /// An institution user acting on another institution's record (S6).
    #[error("不能操作其他培训机构的记录")]
    OtherInstitution,
    /// S7: the decision-maker submitted or recorded this record.
    #[error("提交（登记）人不能审批自己提交（登记）的记录（三权分立）")]
    SelfApproval,
    #[error("须填写理由")]
    ReasonRequired,
    /// A reason longer than 2,000 characters or holding control characters ([`crate::text`]).
    #[error("{0}")]
    BadText(crate::text::TextProblem),
    /// R-FIL-5: a return for correction lists what to correct, item by item.
    #[error("退回修改须逐项列明需修改的内容")]
    CorrectionItemsRequired,
    /// R-AGR-1: no agreement in force (terminated, R-VIO-2 / R-OVD-2).
    #[error("委托培训协议已中止，不能提交、批复或开展培训")]
    AgreementTerminated,
    /// R-FIL-6 / R-PLAN-2: filings are submitted only while the round is published.
    #[error("该批次未发布或已结束，不能提交开班备案")]
    RoundNotOpen,
    /// R-FIL-1…4: the package still has blocking problems.
    #[error("开班备案材料不完整或不符合要求，请先修改全部问题再提交")]
    PackageIncomplete,
    /// R-FIL-6: only a filing that holds a quota slot can be approved.
    #[error("该备案尚在候补，未获得名额，不能批复")]
    NoSlot,
    /// R-FIL-5: training starts on or after the start date, and only once approved.
    #[error("开班日期为{start}，不能提前开始培训")]
    BeforeStart { start: NaiveDate },
    /// A completion date before the start date or in the future.
    #[error("完成日期{date}无效：须在开班日期{start}之后且不晚于今天{today}")]
    BadCompletionDate {
        date: NaiveDate,
        start: NaiveDate,
        today: NaiveDate,
    },
    /// R-OVD-1: a class is marked overdue only after its last day.
    #[error("该班次最迟完成日期为{last_day}，尚未超期")]
    NotOverdue { last_day: NaiveDate },
    /// R-VIO-2 / S8: no certificate codes for a class under a confirmed violation.
    #[error("该班次涉及已确认的违法违规行为，不予发放合格证书编码")]
    UnderViolation,
    /// A rule from [`crate::rules`] refused the dates.
    #[error("{0}")]
    Rules(#[from] RulesError),
}

impl From<CalendarError> for TransitionError {
    fn from(e: CalendarError) -> Self {
        TransitionError::Rules(RulesError::Calendar(e))
    }
}

impl TransitionError {
    /// The stable code for the API (R-VAL-1).
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::InvalidTransition { .. } => "WF_INVALID_TRANSITION",
            TransitionError::RoleNotAllowed { .. } => "WF_ROLE_NOT_ALLOWED",
            TransitionError::SystemOnly { .. } => "WF_SYSTEM_ONLY",
            TransitionError::PersonOnly { .. } => "WF_PERSON_ONLY",
            TransitionError::OtherInstitution => "WF_OTHER_INSTITUTION",
            TransitionError::SelfApproval => "WF_SELF_APPROVAL",
            TransitionError::ReasonRequired => "WF_REASON_REQUIRED",
            TransitionError::BadText(p) => p.code,
            TransitionError::CorrectionItemsRequired => "WF_CORRECTION_ITEMS_REQUIRED",
            TransitionError::AgreementTerminated => "WF_AGREEMENT_TERMINATED",
            TransitionError::RoundNotOpen => "WF_ROUND_NOT_OPEN",
            TransitionError::PackageIncomplete => "WF_PACKAGE_INCOMPLETE",
            TransitionError::NoSlot => "WF_NO_SLOT",
            TransitionError::BeforeStart { .. } => "WF_BEFORE_START",
            TransitionError::BadCompletionDate { .. } => "WF_BAD_COMPLETION_DATE",
            TransitionError::NotOverdue { .. } => "WF_NOT_OVERDUE",
            TransitionError::UnderViolation => "WF_UNDER_VIOLATION",
            TransitionError::Rules(e) => e.code(),
        }
    }
}

/// Who may take an action: the table behind `allowed_actions` and the first check of `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// `institution_admin`, `institution_staff` of the record's institution.
    Institution,
    /// `centre_staff`, `centre_admin`.
    Centre,
    /// `centre_admin` only.
    CentreAdmin,
    /// Only the system.
    System,
    /// `centre_admin` or the system (sanction effects).
    CentreAdminOrSystem,
}

impl Who {
    pub(crate) fn admits_role(self, role: Role) -> bool {
        match self {
            Who::Institution => role.is_institution(),
            Who::Centre => role.is_centre(),
            Who::CentreAdmin | Who::CentreAdminOrSystem => role == Role::CentreAdmin,
            Who::System => false,
        }
    }

    pub(crate) fn admits_system(self) -> bool {
        matches!(self, Who::System | Who::CentreAdminOrSystem)
    }
}

/// The common first check of every `apply`: is `kind` possible in this state (`who` is `None`
/// when not), and may this actor take it? `owner` is the record's institution, when it has one.
pub(crate) fn check_actor(
    state_label: &'static str,
    action_label: &'static str,
    who: Option<Who>,
    actor: &Actor,
    owner: Option<InstitutionId>,
) -> Result<(), TransitionError> {
    let Some(who) = who else {
        return Err(TransitionError::InvalidTransition {
            state: state_label,
            action: action_label,
        });
    };
    match actor {
        Actor::System if who.admits_system() => Ok(()),
        Actor::System => Err(TransitionError::PersonOnly {
            action: action_label,
        }),
        Actor::User { .. } if who == Who::System => Err(TransitionError::SystemOnly {
            action: action_label,
        }),
        Actor::User {
            role,
            institution_id,
            ..
        } => {
            if !who.admits_role(*role) {
                return Err(TransitionError::RoleNotAllowed {
                    role: *role,
                    action: action_label,
                });
            }
            if role.is_institution() && (institution_id.is_none() || *institution_id != owner) {
                return Err(TransitionError::OtherInstitution);
            }
            Ok(())
        }
    }
}

/// S7: the decision-maker is not the submitter/recorder.
pub(crate) fn check_not_submitter(
    actor: &Actor,
    submitted_by: Option<UserId>,
) -> Result<(), TransitionError> {
    match (actor.user_id(), submitted_by) {
        (Some(me), Some(them)) if me == them => Err(TransitionError::SelfApproval),
        _ => Ok(()),
    }
}

/// A reason is given, and within the free-text limits (≤ 2,000 characters, no control
/// characters other than line breaks).
pub(crate) fn require_reason(reason: &str) -> Result<(), TransitionError> {
    if reason.trim().is_empty() {
        return Err(TransitionError::ReasonRequired);
    }
    crate::text::check_text("reason", reason, crate::text::MAX_REASON_CHARS)
        .map_err(TransitionError::BadText)
}
