//! Filing and class (开班备案 → 班次): one machine from the draft to the archive.
//!
//! ```text
//! Draft ──Submit──▶ Submitted{Waiting} ──GrantSlot(system)──▶ Submitted{Holding}
//!   │                  │  └─NotGranted(system, round closed)──▶ NotGranted
//!   │                  ├─ReturnForCorrection{items}──▶ Returned{same slot} ──Resubmit──▶ Submitted{same slot}
//!   │                  ├─Reject──▶ Rejected            (slot released)
//!   └─Withdraw─▶ Withdrawn ◀─Withdraw── Submitted / Returned   (slot released)
//! Submitted{Holding} ──Approve──▶ Approved ──StartTraining (on/after start)──▶ InTraining
//! Approved / InTraining ──ChangeRoster──▶ RosterReview ──Approve/RejectRosterChange──▶ back
//! Approved / InTraining / RosterReview ──MarkOverdue(system, after the last day)──▶ Overdue
//! InTraining / Overdue{started} ──CompleteTraining──▶ TrainingComplete{overdue}
//! TrainingComplete ──CompleteExam──▶ Completed{overdue} ──IssueCertificates──▶ Completed{certificates}
//! Completed ──Archive──▶ Archived
//! any pending state ──Cancel (sanction R-OVD-2 / violation R-VIO-2)──▶ Cancelled (slot released)
//! ```
//!
//! Decisions taken here:
//! * **Submitting waits first.** `Submit` always gives `Submitted{Waiting}`; storage then runs
//!   [`crate::queue::allocate`] in the same transaction and applies `GrantSlot` (as
//!   [`Actor::System`]) to each granted filing (R-FIL-6, S9). A release (reject, withdraw,
//!   cancel) is followed by the same allocation.
//! * **A return keeps the slot and the place** (R-FIL-6): `Returned` carries the slot it had,
//!   and a waiting returned filing may still be granted a slot.
//! * **Overdue combines with completion** (R-OVD-1): `Overdue` is the state of a class past its
//!   last day and not complete; completing afterwards gives `TrainingComplete{overdue: true}` /
//!   `Completed{overdue: true}`, and a completion date after the last day sets `overdue` even if
//!   the daily sweep had not yet run. Overdue never goes away: [`subsidy_eligible`] is false and
//!   the class counts toward R-OVD-2. Certificates are still issued for an overdue class (the
//!   guideline withholds the subsidy, not the certificate); never under a violation (R-VIO-2).
//! * **Roster change after approval** (R-RUN-2) sends the class to `RosterReview{started}`,
//!   which keeps the slot; the centre approves (new roster) or rejects (old roster stays), and
//!   the class returns to `Approved` or `InTraining`.
//! * A class not yet started that passes its last day becomes `Overdue{started: false}`; it can
//!   then only be cancelled by the centre.

use super::agreement::{AgreementState, accepts_filings};
use super::round::RoundState;
use super::{
    Actor, InstitutionId, TransitionError, UserId, Who, check_actor, check_not_submitter,
    require_reason,
};
use crate::calendar::last_allowed_day;
use crate::policy::Policy;
use crate::role::Role;
use crate::rules::overdue_status;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Whether a submitted filing holds a quota slot (R-FIL-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// 占用名额
    Holding,
    /// 候补
    Waiting,
}

/// One thing to correct in a returned filing (R-FIL-5: reasons per item).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CorrectionItem {
    /// The field or document concerned, e.g. "roster", "documents.training_plan", "sessions[3]".
    pub field: String,
    /// What to correct, in Chinese.
    pub message: String,
}

/// Why a class was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelCause {
    /// R-OVD-2: the institution's overdue sanction was confirmed.
    OverdueSanction,
    /// R-VIO-2: a violation was confirmed.
    Violation,
    /// R-AGR-1: its agreement was terminated by the centre by hand.
    AgreementTerminated,
}

impl CancelCause {
    pub fn label_zh(self) -> &'static str {
        match self {
            CancelCause::OverdueSanction => "同年超期班次超过规定次数，取消当年培训资格",
            CancelCause::Violation => "违法违规，中止履行培训协议",
            CancelCause::AgreementTerminated => "委托培训协议已由区培训中心中止",
        }
    }
}

/// The state of a filing / class.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ClassState {
    /// 草稿
    Draft,
    /// 审核中 (submitted or resubmitted); `resubmissions` counts resubmissions after returns.
    Submitted { slot: Slot, resubmissions: u32 },
    /// 已退回修改: keeps its slot and its place (R-FIL-6).
    Returned {
        slot: Slot,
        items: Vec<CorrectionItem>,
        resubmissions: u32,
    },
    /// 已批复 (备案通过), not started.
    Approved,
    /// 名册变更审核中 (R-RUN-2); `started` says where it returns to.
    RosterReview { started: bool },
    /// 培训中
    InTraining,
    /// 超期未完成 (R-OVD-1): past the last day, training not complete.
    Overdue { started: bool },
    /// 培训完成, exam pending.
    TrainingComplete { overdue: bool },
    /// 已完成 (培训及考试完成).
    Completed {
        overdue: bool,
        certificates_issued: bool,
    },
    /// 已归档
    Archived {
        overdue: bool,
        certificates_issued: bool,
    },
    /// 未通过 (驳回): slot released.
    Rejected,
    /// 已撤回: slot released.
    Withdrawn,
    /// 已取消 (sanction / violation): slot released.
    Cancelled { cause: CancelCause },
    /// 未获名额: still waiting when the round closed (R-PLAN-3).
    NotGranted,
}

impl ClassState {
    pub fn code(&self) -> &'static str {
        match self {
            ClassState::Draft => "draft",
            ClassState::Submitted { .. } => "submitted",
            ClassState::Returned { .. } => "returned",
            ClassState::Approved => "approved",
            ClassState::RosterReview { .. } => "roster_review",
            ClassState::InTraining => "in_training",
            ClassState::Overdue { .. } => "overdue",
            ClassState::TrainingComplete { .. } => "training_complete",
            ClassState::Completed { .. } => "completed",
            ClassState::Archived { .. } => "archived",
            ClassState::Rejected => "rejected",
            ClassState::Withdrawn => "withdrawn",
            ClassState::Cancelled { .. } => "cancelled",
            ClassState::NotGranted => "not_granted",
        }
    }

    /// The status as pages and the public bulletin show it.
    pub fn label_zh(&self) -> &'static str {
        match self {
            ClassState::Draft => "草稿",
            ClassState::Submitted {
                slot: Slot::Holding,
                ..
            } => "审核中（占用名额）",
            ClassState::Submitted {
                slot: Slot::Waiting,
                ..
            } => "审核中（候补）",
            ClassState::Returned {
                slot: Slot::Holding,
                ..
            } => "已退回修改（占用名额）",
            ClassState::Returned {
                slot: Slot::Waiting,
                ..
            } => "已退回修改（候补）",
            ClassState::Approved => "已批复",
            ClassState::RosterReview { .. } => "名册变更审核中",
            ClassState::InTraining => "培训中",
            ClassState::Overdue { .. } => "超期未完成",
            ClassState::TrainingComplete { overdue: false } => "培训完成（待考试）",
            ClassState::TrainingComplete { overdue: true } => "培训完成（待考试，已超期）",
            ClassState::Completed { overdue: false, .. } => "已完成",
            ClassState::Completed { overdue: true, .. } => "超期完成（不享受该班次补贴）",
            ClassState::Archived { .. } => "已归档",
            ClassState::Rejected => "未通过",
            ClassState::Withdrawn => "已撤回",
            ClassState::Cancelled { .. } => "已取消",
            ClassState::NotGranted => "未获名额",
        }
    }

    /// No action leads out of this state.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            ClassState::Archived { .. }
                | ClassState::Rejected
                | ClassState::Withdrawn
                | ClassState::Cancelled { .. }
                | ClassState::NotGranted
        )
    }

    /// The class is overdue (R-OVD-1): it counts toward R-OVD-2.
    pub fn is_overdue(&self) -> bool {
        matches!(
            self,
            ClassState::Overdue { .. }
                | ClassState::TrainingComplete { overdue: true }
                | ClassState::Completed { overdue: true, .. }
                | ClassState::Archived { overdue: true, .. }
        )
    }

    /// Approved by the centre at some point and not cancelled (R-FIL-5).
    pub fn is_approved(&self) -> bool {
        matches!(
            self,
            ClassState::Approved
                | ClassState::RosterReview { .. }
                | ClassState::InTraining
                | ClassState::Overdue { .. }
                | ClassState::TrainingComplete { .. }
                | ClassState::Completed { .. }
                | ClassState::Archived { .. }
        )
    }
}

/// R-FIL-6 / R-PLAN-3: the filing holds a quota slot ("consumed"): under review with a slot,
/// returned with a slot, approved, in training, overdue, completed, archived. Withdrawn,
/// rejected, cancelled, not-granted and waiting filings hold none.
pub fn holds_slot(state: &ClassState) -> bool {
    match state {
        ClassState::Submitted { slot, .. } | ClassState::Returned { slot, .. } => {
            *slot == Slot::Holding
        }
        other => other.is_approved(),
    }
}

/// R-OVD-1 / R-OVD-2: this transition made the class overdue. The service then counts it for
/// the year of its last day ([`crate::rules::overdue_year`]) and calls
/// [`super::sanction::raise_on_overdue`].
pub fn became_overdue(before: &ClassState, after: &ClassState) -> bool {
    !before.is_overdue() && after.is_overdue()
}

/// R-OVD-1: completed on time, so the class's subsidy is payable (and it counts as "completed
/// on time" for R-CAP-3).
pub fn subsidy_eligible(state: &ClassState) -> bool {
    matches!(
        state,
        ClassState::Completed { overdue: false, .. } | ClassState::Archived { overdue: false, .. }
    )
}

/// R-CRT-1 / R-VIO-2 / S8: certificate codes may be issued now.
pub fn may_issue_certificates(state: &ClassState, under_violation: bool) -> bool {
    !under_violation
        && matches!(
            state,
            ClassState::Completed {
                certificates_issued: false,
                ..
            }
        )
}

/// What a confirmed sanction (R-OVD-2) or violation (R-VIO-2) does to one of the institution's
/// classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SanctionEffect {
    /// Pending filings and classes not yet started: cancel ([`ClassAction::Cancel`] as the
    /// system); slots are released.
    Cancel,
    /// Classes already in training: flagged for the centre to decide one by one.
    FlagForCentre,
    /// Finished or already closed: nothing to do (a violation still blocks certificates).
    Unaffected,
}

pub fn sanction_effect(state: &ClassState) -> SanctionEffect {
    match state {
        ClassState::Draft
        | ClassState::Submitted { .. }
        | ClassState::Returned { .. }
        | ClassState::Approved
        | ClassState::RosterReview { started: false }
        | ClassState::Overdue { started: false } => SanctionEffect::Cancel,
        ClassState::InTraining
        | ClassState::RosterReview { started: true }
        | ClassState::Overdue { started: true } => SanctionEffect::FlagForCentre,
        _ => SanctionEffect::Unaffected,
    }
}

/// An action on a filing / class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ClassAction {
    Submit,
    Resubmit,
    Withdraw,
    GrantSlot,
    NotGranted,
    Approve,
    ReturnForCorrection { items: Vec<CorrectionItem> },
    Reject { reason: String },
    ChangeRoster,
    ApproveRosterChange,
    RejectRosterChange { reason: String },
    StartTraining,
    CompleteTraining { on: NaiveDate },
    CompleteExam { on: NaiveDate },
    MarkOverdue,
    IssueCertificates,
    Archive,
    Cancel { cause: CancelCause, reason: String },
}

/// An action without its data: what `allowed_actions` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassActionKind {
    /// 提交备案 (institution)
    Submit,
    /// 重新提交 (institution)
    Resubmit,
    /// 撤回 (institution, before approval)
    Withdraw,
    /// 获得名额 (system, quota queue)
    GrantSlot,
    /// 未获名额 (system, round closed)
    NotGranted,
    /// 批复通过 (centre)
    Approve,
    /// 退回修改 (centre)
    ReturnForCorrection,
    /// 不予通过 (centre)
    Reject,
    /// 变更花名册 (institution, after approval)
    ChangeRoster,
    /// 同意名册变更 (centre)
    ApproveRosterChange,
    /// 不同意名册变更 (centre)
    RejectRosterChange,
    /// 开始培训 (institution)
    StartTraining,
    /// 培训完成 (institution)
    CompleteTraining,
    /// 考试完成 (institution)
    CompleteExam,
    /// 标记超期 (system, daily sweep)
    MarkOverdue,
    /// 发放合格证书编码 (centre)
    IssueCertificates,
    /// 归档 (centre)
    Archive,
    /// 取消班次 (centre_admin or system applying a sanction)
    Cancel,
}

impl ClassActionKind {
    pub const ALL: [ClassActionKind; 18] = [
        ClassActionKind::Submit,
        ClassActionKind::Resubmit,
        ClassActionKind::Withdraw,
        ClassActionKind::GrantSlot,
        ClassActionKind::NotGranted,
        ClassActionKind::Approve,
        ClassActionKind::ReturnForCorrection,
        ClassActionKind::Reject,
        ClassActionKind::ChangeRoster,
        ClassActionKind::ApproveRosterChange,
        ClassActionKind::RejectRosterChange,
        ClassActionKind::StartTraining,
        ClassActionKind::CompleteTraining,
        ClassActionKind::CompleteExam,
        ClassActionKind::MarkOverdue,
        ClassActionKind::IssueCertificates,
        ClassActionKind::Archive,
        ClassActionKind::Cancel,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ClassActionKind::Submit => "submit",
            ClassActionKind::Resubmit => "resubmit",
            ClassActionKind::Withdraw => "withdraw",
            ClassActionKind::GrantSlot => "grant_slot",
            ClassActionKind::NotGranted => "not_granted",
            ClassActionKind::Approve => "approve",
            ClassActionKind::ReturnForCorrection => "return_for_correction",
            ClassActionKind::Reject => "reject",
            ClassActionKind::ChangeRoster => "change_roster",
            ClassActionKind::ApproveRosterChange => "approve_roster_change",
            ClassActionKind::RejectRosterChange => "reject_roster_change",
            ClassActionKind::StartTraining => "start_training",
            ClassActionKind::CompleteTraining => "complete_training",
            ClassActionKind::CompleteExam => "complete_exam",
            ClassActionKind::MarkOverdue => "mark_overdue",
            ClassActionKind::IssueCertificates => "issue_certificates",
            ClassActionKind::Archive => "archive",
            ClassActionKind::Cancel => "cancel",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ClassActionKind::Submit => "提交备案",
            ClassActionKind::Resubmit => "重新提交",
            ClassActionKind::Withdraw => "撤回",
            ClassActionKind::GrantSlot => "获得名额",
            ClassActionKind::NotGranted => "未获名额",
            ClassActionKind::Approve => "批复通过",
            ClassActionKind::ReturnForCorrection => "退回修改",
            ClassActionKind::Reject => "不予通过",
            ClassActionKind::ChangeRoster => "变更花名册",
            ClassActionKind::ApproveRosterChange => "同意名册变更",
            ClassActionKind::RejectRosterChange => "不同意名册变更",
            ClassActionKind::StartTraining => "开始培训",
            ClassActionKind::CompleteTraining => "培训完成",
            ClassActionKind::CompleteExam => "考试完成",
            ClassActionKind::MarkOverdue => "标记超期",
            ClassActionKind::IssueCertificates => "发放合格证书编码",
            ClassActionKind::Archive => "归档",
            ClassActionKind::Cancel => "取消班次",
        }
    }
}

impl ClassAction {
    pub fn kind(&self) -> ClassActionKind {
        match self {
            ClassAction::Submit => ClassActionKind::Submit,
            ClassAction::Resubmit => ClassActionKind::Resubmit,
            ClassAction::Withdraw => ClassActionKind::Withdraw,
            ClassAction::GrantSlot => ClassActionKind::GrantSlot,
            ClassAction::NotGranted => ClassActionKind::NotGranted,
            ClassAction::Approve => ClassActionKind::Approve,
            ClassAction::ReturnForCorrection { .. } => ClassActionKind::ReturnForCorrection,
            ClassAction::Reject { .. } => ClassActionKind::Reject,
            ClassAction::ChangeRoster => ClassActionKind::ChangeRoster,
            ClassAction::ApproveRosterChange => ClassActionKind::ApproveRosterChange,
            ClassAction::RejectRosterChange { .. } => ClassActionKind::RejectRosterChange,
            ClassAction::StartTraining => ClassActionKind::StartTraining,
            ClassAction::CompleteTraining { .. } => ClassActionKind::CompleteTraining,
            ClassAction::CompleteExam { .. } => ClassActionKind::CompleteExam,
            ClassAction::MarkOverdue => ClassActionKind::MarkOverdue,
            ClassAction::IssueCertificates => ClassActionKind::IssueCertificates,
            ClassAction::Archive => ClassActionKind::Archive,
            ClassAction::Cancel { .. } => ClassActionKind::Cancel,
        }
    }
}

/// The facts `apply` needs besides the state, loaded by storage in the same transaction.
#[derive(Debug, Clone)]
pub struct ClassContext<'a> {
    /// The filing's institution (S6: institution users act only on their own).
    pub institution_id: InstitutionId,
    /// The user who last submitted, resubmitted or changed the roster (S7).
    pub submitted_by: Option<UserId>,
    /// The agreement the filing is under (R-AGR-1).
    pub agreement: AgreementState,
    /// The filing's round (R-FIL-6: submissions only while published).
    pub round: RoundState,
    /// `check_filing` found no blocking problem ([`crate::filing::FilingProblem::is_blocking`]).
    pub package_ok: bool,
    /// The class's start date (R-FIL-5, R-OVD-1).
    pub start: NaiveDate,
    /// Today, Asia/Shanghai.
    pub today: NaiveDate,
    /// A confirmed violation covers this class (R-VIO-2).
    pub under_violation: bool,
    pub policy: &'a Policy,
}

fn who(state: &ClassState, kind: ClassActionKind) -> Option<Who> {
    use ClassActionKind as K;
    use ClassState as S;
    let cancel = Some(Who::CentreAdminOrSystem);
    match (state, kind) {
        (S::Draft, K::Submit | K::Withdraw) => Some(Who::Institution),
        (S::Draft, K::Cancel) => cancel,

        (S::Submitted { .. }, K::Withdraw) => Some(Who::Institution),
        (S::Submitted { slot, .. }, K::GrantSlot | K::NotGranted) if *slot == Slot::Waiting => {
            Some(Who::System)
        }
        (
            S::Submitted {
                slot: Slot::Holding,
                ..
            },
            K::Approve,
        ) => Some(Who::Centre),
        (S::Submitted { .. }, K::ReturnForCorrection | K::Reject) => Some(Who::Centre),
        (S::Submitted { .. }, K::Cancel) => cancel,

        (S::Returned { .. }, K::Resubmit | K::Withdraw) => Some(Who::Institution),
        (S::Returned { slot, .. }, K::GrantSlot | K::NotGranted) if *slot == Slot::Waiting => {
            Some(Who::System)
        }
        (S::Returned { .. }, K::Cancel) => cancel,

        (S::Approved, K::ChangeRoster | K::StartTraining) => Some(Who::Institution),
        (S::Approved, K::MarkOverdue) => Some(Who::System),
        (S::Approved, K::Cancel) => cancel,

        (S::RosterReview { .. }, K::ApproveRosterChange | K::RejectRosterChange) => {
            Some(Who::Centre)
        }
        (S::RosterReview { .. }, K::MarkOverdue) => Some(Who::System),
        (S::RosterReview { .. }, K::Cancel) => cancel,

        (S::InTraining, K::ChangeRoster | K::CompleteTraining) => Some(Who::Institution),
        (S::InTraining, K::MarkOverdue) => Some(Who::System),
        (S::InTraining, K::Cancel) => cancel,

        (S::Overdue { started: true }, K::CompleteTraining) => Some(Who::Institution),
        (S::Overdue { .. }, K::Cancel) => cancel,

        (S::TrainingComplete { .. }, K::CompleteExam) => Some(Who::Institution),
        (S::TrainingComplete { overdue: false }, K::MarkOverdue) => Some(Who::System),

        (
            S::Completed {
                certificates_issued: false,
                ..
            },
            K::IssueCertificates,
        ) => Some(Who::Centre),
        (S::Completed { .. }, K::Archive) => Some(Who::Centre),
        _ => None,
    }
}

/// What `role` may do to a filing / class in `state` (pages show these as buttons). System
/// actions are never listed. Facts outside the state (dates, the submitter, a violation) may
/// still make [`apply`] refuse a listed action, with a reason.
pub fn allowed_actions(state: &ClassState, role: Role) -> Vec<ClassActionKind> {
    ClassActionKind::ALL
        .into_iter()
        .filter(|k| who(state, *k).is_some_and(|w| w.admits_role(role)))
        .collect()
}

fn not_before_start(ctx: &ClassContext<'_>) -> Result<(), TransitionError> {
    if ctx.today < ctx.start {
        return Err(TransitionError::BeforeStart { start: ctx.start });
    }
    Ok(())
}

fn completion_date(on: NaiveDate, ctx: &ClassContext<'_>) -> Result<(), TransitionError> {
    if on < ctx.start || on > ctx.today {
        return Err(TransitionError::BadCompletionDate {
            date: on,
            start: ctx.start,
            today: ctx.today,
        });
    }
    Ok(())
}

/// The filing / class transition (S8; R-FIL-5, R-FIL-6, R-AGR-1, R-RUN-2, R-OVD-1, R-CRT-1,
/// R-VIO-2, R-OVD-2).
pub fn apply(
    state: &ClassState,
    action: &ClassAction,
    actor: &Actor,
    ctx: &ClassContext<'_>,
) -> Result<ClassState, TransitionError> {
    use ClassAction as A;
    use ClassState as S;
    let kind = action.kind();
    if kind == ClassActionKind::Approve
        && matches!(
            state,
            S::Submitted {
                slot: Slot::Waiting,
                ..
            }
        )
    {
        return Err(TransitionError::NoSlot);
    }
    check_actor(
        state.label_zh(),
        kind.label_zh(),
        who(state, kind),
        actor,
        Some(ctx.institution_id),
    )?;
    // R-AGR-1 / R-OVD-2 / R-VIO-2: under a terminated agreement nothing is granted and no
    // class starts (the service cancels them; this is the last line of defence).
    if matches!(
        kind,
        ClassActionKind::GrantSlot | ClassActionKind::StartTraining
    ) && !accepts_filings(ctx.agreement)
    {
        return Err(TransitionError::AgreementTerminated);
    }
    Ok(match (state, action) {
        (S::Draft, A::Submit) => {
            if !accepts_filings(ctx.agreement) {
                return Err(TransitionError::AgreementTerminated);
            }
            if !ctx.round.accepts_filings() {
                return Err(TransitionError::RoundNotOpen);
            }
            if !ctx.package_ok {
                return Err(TransitionError::PackageIncomplete);
            }
            S::Submitted {
                slot: Slot::Waiting,
                resubmissions: 0,
            }
        }
        (
            S::Returned {
                slot,
                resubmissions,
                ..
            },
            A::Resubmit,
        ) => {
            if !accepts_filings(ctx.agreement) {
                return Err(TransitionError::AgreementTerminated);
            }
            if !ctx.package_ok {
                return Err(TransitionError::PackageIncomplete);
            }
            S::Submitted {
                slot: *slot,
                resubmissions: resubmissions + 1,
            }
        }
        (_, A::Withdraw) => S::Withdrawn,
        (S::Submitted { resubmissions, .. }, A::GrantSlot) => S::Submitted {
            slot: Slot::Holding,
            resubmissions: *resubmissions,
        },
        (
            S::Returned {
                items,
                resubmissions,
                ..
            },
            A::GrantSlot,
        ) => S::Returned {
            slot: Slot::Holding,
            items: items.clone(),
            resubmissions: *resubmissions,
        },
        (_, A::NotGranted) => S::NotGranted,
        (S::Submitted { .. }, A::Approve) => {
            check_not_submitter(actor, ctx.submitted_by)?;
            if !accepts_filings(ctx.agreement) {
                return Err(TransitionError::AgreementTerminated);
            }
            S::Approved
        }
        (
            S::Submitted {
                slot,
                resubmissions,
            },
            A::ReturnForCorrection { items },
        ) => {
            check_not_submitter(actor, ctx.submitted_by)?;
            if items.is_empty()
                || items
                    .iter()
                    .any(|i| i.message.trim().is_empty() || i.field.trim().is_empty())
            {
                return Err(TransitionError::CorrectionItemsRequired);
            }
            S::Returned {
                slot: *slot,
                items: items.clone(),
                resubmissions: *resubmissions,
            }
        }
        (S::Submitted { .. }, A::Reject { reason }) => {
            check_not_submitter(actor, ctx.submitted_by)?;
            require_reason(reason)?;
            S::Rejected
        }
        (S::Approved, A::ChangeRoster) => S::RosterReview { started: false },
        (S::InTraining, A::ChangeRoster) => S::RosterReview { started: true },
        (S::RosterReview { started }, A::ApproveRosterChange | A::RejectRosterChange { .. }) => {
            check_not_submitter(actor, ctx.submitted_by)?;
            if let A::RejectRosterChange { reason } = action {
                require_reason(reason)?;
            }
            if *started { S::InTraining } else { S::Approved }
        }
        (S::Approved, A::StartTraining) => {
            not_before_start(ctx)?;
            S::InTraining
        }
        (S::InTraining | S::Overdue { .. }, A::CompleteTraining { on }) => {
            completion_date(*on, ctx)?;
            let last_day = last_allowed_day(ctx.start, ctx.policy)?;
            S::TrainingComplete {
                overdue: matches!(state, S::Overdue { .. }) || *on > last_day,
            }
        }
        (S::TrainingComplete { overdue }, A::CompleteExam { on }) => {
            completion_date(*on, ctx)?;
            let status = overdue_status(ctx.start, Some(*on), ctx.today, ctx.policy)?;
            S::Completed {
                overdue: *overdue || status.is_overdue(),
                certificates_issued: false,
            }
        }
        (_, A::MarkOverdue) => {
            let last_day = last_allowed_day(ctx.start, ctx.policy)?;
            if ctx.today <= last_day {
                return Err(TransitionError::NotOverdue { last_day });
            }
            match state {
                S::Approved => S::Overdue { started: false },
                S::InTraining => S::Overdue { started: true },
                S::RosterReview { started } => S::Overdue { started: *started },
                _ => S::TrainingComplete { overdue: true },
            }
        }
        (S::Completed { overdue, .. }, A::IssueCertificates) => {
            if ctx.under_violation {
                return Err(TransitionError::UnderViolation);
            }
            S::Completed {
                overdue: *overdue,
                certificates_issued: true,
            }
        }
        (
            S::Completed {
                overdue,
                certificates_issued,
            },
            A::Archive,
        ) => S::Archived {
            overdue: *overdue,
            certificates_issued: *certificates_issued,
        },
        (_, A::Cancel { cause, reason }) => {
            require_reason(reason)?;
            S::Cancelled { cause: *cause }
        }
        // `who` admitted only the pairs above.
        _ => {
            return Err(TransitionError::InvalidTransition {
                state: state.label_zh(),
                action: kind.label_zh(),
            });
        }
    })
}
