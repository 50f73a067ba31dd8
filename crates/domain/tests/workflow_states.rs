//! The state machines (SECURITY.md S8, S7; R-FIL-5, R-FIL-6, R-AGR-1, R-PLAN-3, R-RUN-2,
//! R-OVD-1, R-OVD-2, R-VIO-1/2, R-CRT-1, R-FIL-7/8).

use chrono::NaiveDate;
use peixun_domain::policy::Policy;
use peixun_domain::role::Role;
use peixun_domain::workflow::agreement::{self, AgreementAction, AgreementState, TerminationCause};
use peixun_domain::workflow::class::{
    self, CancelCause, ClassAction, ClassActionKind, ClassContext, ClassState, CorrectionItem,
    SanctionEffect, Slot, holds_slot, sanction_effect, subsidy_eligible,
};
use peixun_domain::workflow::request::{
    self, RequestAction, RequestContext, RequestKind, RequestState,
};
use peixun_domain::workflow::round::{self, Half, RoundAction, RoundState, close_outcome};
use peixun_domain::workflow::sanction::{self, SanctionAction, SanctionState, raise_on_overdue};
use peixun_domain::workflow::violation::{self, ViolationAction, ViolationState};
use peixun_domain::workflow::{Actor, TransitionError};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

const INST: i64 = 1;
const SUBMITTER: i64 = 10;

fn inst() -> Actor {
    Actor::institution_user(Role::InstitutionStaff, SUBMITTER, INST)
}
fn staff() -> Actor {
    Actor::user(Role::CentreStaff, 20)
}
fn admin() -> Actor {
    Actor::user(Role::CentreAdmin, 30)
}

fn ctx<'a>(p: &'a Policy, today: &str) -> ClassContext<'a> {
    ClassContext {
        institution_id: INST,
        submitted_by: Some(SUBMITTER),
        agreement: AgreementState::Signed,
        round: RoundState::Published,
        package_ok: true,
        start: d("2026-03-02"),
        today: d(today),
        under_violation: false,
        policy: p,
    }
}

fn step(s: &ClassState, a: ClassAction, who: &Actor, c: &ClassContext<'_>) -> ClassState {
    class::apply(s, &a, who, c).unwrap_or_else(|e| panic!("{a:?} from {s:?}: {e}"))
}

/// Draft → Submitted{Holding} → Approved, as the service does it (submit, then the queue grants).
fn approved(p: &Policy) -> ClassState {
    let c = ctx(p, "2026-02-01");
    let s = step(&ClassState::Draft, ClassAction::Submit, &inst(), &c);
    assert_eq!(
        s,
        ClassState::Submitted {
            slot: Slot::Waiting,
            resubmissions: 0
        }
    );
    let s = step(&s, ClassAction::GrantSlot, &Actor::System, &c);
    step(&s, ClassAction::Approve, &staff(), &c)
}

#[test]
fn r_fil_5_happy_path_to_archive_with_certificates() {
    let p = Policy::haizhu_default();
    let s = approved(&p);
    let c = ctx(&p, "2026-03-02");
    let s = step(&s, ClassAction::StartTraining, &inst(), &c);
    let c = ctx(&p, "2026-03-25");
    let s = step(
        &s,
        ClassAction::CompleteTraining {
            on: d("2026-03-24"),
        },
        &inst(),
        &c,
    );
    let s = step(
        &s,
        ClassAction::CompleteExam {
            on: d("2026-03-25"),
        },
        &inst(),
        &c,
    );
    assert_eq!(
        s,
        ClassState::Completed {
            overdue: false,
            certificates_issued: false
        }
    );
    assert!(subsidy_eligible(&s));
    let s = step(&s, ClassAction::IssueCertificates, &staff(), &c);
    let s = step(&s, ClassAction::Archive, &staff(), &c);
    assert!(s.is_final() && holds_slot(&s));
}

#[test]
fn r_fil_5_training_starts_only_on_or_after_start_date_and_only_if_approved() {
    let p = Policy::haizhu_default();
    let s = approved(&p);
    let e = class::apply(
        &s,
        &ClassAction::StartTraining,
        &inst(),
        &ctx(&p, "2026-03-01"),
    )
    .unwrap_err();
    assert_eq!(e.code(), "WF_BEFORE_START");
    assert!(e.to_string().contains("2026-03-02"), "{e}");
    let submitted = ClassState::Submitted {
        slot: Slot::Holding,
        resubmissions: 0,
    };
    let e = class::apply(
        &submitted,
        &ClassAction::StartTraining,
        &inst(),
        &ctx(&p, "2026-03-05"),
    )
    .unwrap_err();
    assert_eq!(e.code(), "WF_INVALID_TRANSITION");
}

#[test]
fn s7_submitter_never_approves_own_filing() {
    let p = Policy::haizhu_default();
    let c = ClassContext {
        submitted_by: Some(20),
        ..ctx(&p, "2026-02-01")
    };
    let s = ClassState::Submitted {
        slot: Slot::Holding,
        resubmissions: 0,
    };
    let e = class::apply(&s, &ClassAction::Approve, &staff(), &c).unwrap_err();
    assert_eq!(e, TransitionError::SelfApproval);
    assert_eq!(e.code(), "WF_SELF_APPROVAL");
    // An institution user cannot approve at all.
    let e = class::apply(&s, &ClassAction::Approve, &inst(), &ctx(&p, "2026-02-01")).unwrap_err();
    assert_eq!(e.code(), "WF_ROLE_NOT_ALLOWED");
}

#[test]
fn r_fil_6_waiting_filing_cannot_be_approved() {
    let p = Policy::haizhu_default();
    let s = ClassState::Submitted {
        slot: Slot::Waiting,
        resubmissions: 0,
    };
    let e = class::apply(&s, &ClassAction::Approve, &staff(), &ctx(&p, "2026-02-01")).unwrap_err();
    assert_eq!(e.code(), "WF_NO_SLOT");
    assert!(!class::allowed_actions(&s, Role::CentreStaff).contains(&ClassActionKind::Approve));
}

#[test]
fn r_fil_6_return_for_correction_keeps_slot_and_resubmits_with_it() {
    let p = Policy::haizhu_default();
    let c = ctx(&p, "2026-02-01");
    let s = ClassState::Submitted {
        slot: Slot::Holding,
        resubmissions: 0,
    };
    let e = class::apply(
        &s,
        &ClassAction::ReturnForCorrection { items: vec![] },
        &staff(),
        &c,
    )
    .unwrap_err();
    assert_eq!(e.code(), "WF_CORRECTION_ITEMS_REQUIRED");
    let items = vec![CorrectionItem {
        field: "documents.training_plan".into(),
        message: "培训计划缺少考核安排".into(),
    }];
    let r = step(
        &s,
        ClassAction::ReturnForCorrection {
            items: items.clone(),
        },
        &staff(),
        &c,
    );
    assert!(holds_slot(&r));
    assert_eq!(
        r,
        ClassState::Returned {
            slot: Slot::Holding,
            items,
            resubmissions: 0
        }
    );
    let s2 = step(&r, ClassAction::Resubmit, &inst(), &c);
    assert_eq!(
        s2,
        ClassState::Submitted {
            slot: Slot::Holding,
            resubmissions: 1
        }
    );
}

#[test]
fn r_fil_6_withdraw_reject_cancel_release_the_slot() {
    let p = Policy::haizhu_default();
    let c = ctx(&p, "2026-02-01");
    let s = ClassState::Submitted {
        slot: Slot::Holding,
        resubmissions: 0,
    };
    assert!(holds_slot(&s));
    assert!(!holds_slot(&step(&s, ClassAction::Withdraw, &inst(), &c)));
    let e = class::apply(
        &s,
        &ClassAction::Reject { reason: " ".into() },
        &staff(),
        &c,
    )
    .unwrap_err();
    assert_eq!(e.code(), "WF_REASON_REQUIRED");
    assert!(!holds_slot(&step(
        &s,
        ClassAction::Reject {
            reason: "不符合要求".into()
        },
        &staff(),
        &c
    )));
    let cancel = ClassAction::Cancel {
        cause: CancelCause::Violation,
        reason: "申报资料作假".into(),
    };
    assert!(!holds_slot(&step(&s, cancel.clone(), &Actor::System, &c)));
    // Only centre_admin (or the system) cancels.
    assert_eq!(
        class::apply(&s, &cancel, &staff(), &c).unwrap_err().code(),
        "WF_ROLE_NOT_ALLOWED"
    );
    // Withdraw is not possible after approval.
    let a = approved(&p);
    assert_eq!(
        class::apply(&a, &ClassAction::Withdraw, &inst(), &c)
            .unwrap_err()
            .code(),
        "WF_INVALID_TRANSITION"
    );
}

#[test]
fn r_agr_1_terminated_agreement_accepts_no_filing() {
    let p = Policy::haizhu_default();
    let ag = agreement::apply(
        AgreementState::Signed,
        &AgreementAction::Terminate {
            cause: TerminationCause::Violation,
            reason: "申报资料作假".into(),
        },
        &admin(),
    )
    .unwrap();
    assert!(!agreement::accepts_filings(ag));
    let c = ClassContext {
        agreement: ag,
        ..ctx(&p, "2026-02-01")
    };
    let e = class::apply(&ClassState::Draft, &ClassAction::Submit, &inst(), &c).unwrap_err();
    assert_eq!(e.code(), "WF_AGREEMENT_TERMINATED");
    // Nor is a pending filing granted or approved, nor an approved class started.
    let w = ClassState::Submitted {
        slot: Slot::Waiting,
        resubmissions: 0,
    };
    let h = ClassState::Submitted {
        slot: Slot::Holding,
        resubmissions: 0,
    };
    let late = ClassContext {
        today: d("2026-03-03"),
        ..c.clone()
    };
    for (s, a, who) in [
        (w, ClassAction::GrantSlot, Actor::System),
        (h, ClassAction::Approve, staff()),
        (ClassState::Approved, ClassAction::StartTraining, inst()),
    ] {
        assert_eq!(
            class::apply(&s, &a, &who, &late).unwrap_err().code(),
            "WF_AGREEMENT_TERMINATED",
            "{a:?}"
        );
    }
    // Staff cannot terminate; a terminated agreement cannot be terminated again.
    assert!(agreement::allowed_actions(AgreementState::Signed, Role::CentreStaff).is_empty());
    assert!(agreement::allowed_actions(ag, Role::CentreAdmin).is_empty());
}

#[test]
fn s6_institution_user_cannot_act_on_another_institutions_filing() {
    let p = Policy::haizhu_default();
    let other = Actor::institution_user(Role::InstitutionAdmin, 99, 2);
    let e = class::apply(
        &ClassState::Draft,
        &ClassAction::Submit,
        &other,
        &ctx(&p, "2026-02-01"),
    )
    .unwrap_err();
    assert_eq!(e.code(), "WF_OTHER_INSTITUTION");
}

#[test]
fn r_run_2_roster_change_after_approval_goes_back_to_review() {
    let p = Policy::haizhu_default();
    let c = ctx(&p, "2026-03-03");
    let s = step(&approved(&p), ClassAction::StartTraining, &inst(), &c);
    let s = step(&s, ClassAction::ChangeRoster, &inst(), &c);
    assert_eq!(s, ClassState::RosterReview { started: true });
    assert!(holds_slot(&s));
    assert!(class::allowed_actions(&s, Role::InstitutionStaff).is_empty());
    let back = step(&s, ClassAction::ApproveRosterChange, &staff(), &c);
    assert_eq!(back, ClassState::InTraining);
}

#[test]
fn r_ovd_1_completed_late_is_still_overdue_and_loses_subsidy() {
    let p = Policy::haizhu_default();
    let c = ctx(&p, "2026-03-02");
    let s = step(&approved(&p), ClassAction::StartTraining, &inst(), &c);
    // The sweep may not mark overdue before the day after the last day (2026-04-01).
    let e = class::apply(
        &s,
        &ClassAction::MarkOverdue,
        &Actor::System,
        &ctx(&p, "2026-04-01"),
    )
    .unwrap_err();
    assert_eq!(e.code(), "WF_NOT_OVERDUE");
    let c = ctx(&p, "2026-04-02");
    let s = step(&s, ClassAction::MarkOverdue, &Actor::System, &c);
    assert_eq!(s, ClassState::Overdue { started: true });
    let c = ctx(&p, "2026-04-05");
    let s = step(
        &s,
        ClassAction::CompleteTraining {
            on: d("2026-04-03"),
        },
        &inst(),
        &c,
    );
    let s = step(
        &s,
        ClassAction::CompleteExam {
            on: d("2026-04-05"),
        },
        &inst(),
        &c,
    );
    assert_eq!(
        s,
        ClassState::Completed {
            overdue: true,
            certificates_issued: false
        }
    );
    assert!(s.is_overdue() && !subsidy_eligible(&s));
    assert!(!class::became_overdue(
        &ClassState::TrainingComplete { overdue: true },
        &s
    ));
    assert!(class::became_overdue(
        &ClassState::InTraining,
        &ClassState::Overdue { started: true }
    ));
    // Certificates are still issued (the subsidy, not the certificate, is withheld).
    let s = step(&s, ClassAction::IssueCertificates, &staff(), &c);
    assert!(s.is_overdue());
}

#[test]
fn r_ovd_1_exam_after_last_day_is_overdue_even_without_the_sweep() {
    let p = Policy::haizhu_default();
    let c = ctx(&p, "2026-04-03");
    let s = ClassState::TrainingComplete { overdue: false };
    let s = step(
        &s,
        ClassAction::CompleteExam {
            on: d("2026-04-02"),
        },
        &inst(),
        &c,
    );
    assert!(s.is_overdue());
}

#[test]
fn s8_no_certificates_under_violation() {
    let p = Policy::haizhu_default();
    let s = ClassState::Completed {
        overdue: false,
        certificates_issued: false,
    };
    let c = ClassContext {
        under_violation: true,
        ..ctx(&p, "2026-04-01")
    };
    let e = class::apply(&s, &ClassAction::IssueCertificates, &staff(), &c).unwrap_err();
    assert_eq!(e.code(), "WF_UNDER_VIOLATION");
    assert!(!class::may_issue_certificates(&s, true));
    // And never before completion.
    let e = class::apply(
        &ClassState::InTraining,
        &ClassAction::IssueCertificates,
        &staff(),
        &ctx(&p, "2026-04-01"),
    )
    .unwrap_err();
    assert_eq!(e.code(), "WF_INVALID_TRANSITION");
}

#[test]
fn system_actions_are_not_for_users_and_person_actions_not_for_the_system() {
    let p = Policy::haizhu_default();
    let c = ctx(&p, "2026-02-01");
    let w = ClassState::Submitted {
        slot: Slot::Waiting,
        resubmissions: 0,
    };
    assert_eq!(
        class::apply(&w, &ClassAction::GrantSlot, &admin(), &c)
            .unwrap_err()
            .code(),
        "WF_SYSTEM_ONLY"
    );
    let h = ClassState::Submitted {
        slot: Slot::Holding,
        resubmissions: 0,
    };
    assert_eq!(
        class::apply(&h, &ClassAction::Approve, &Actor::System, &c)
            .unwrap_err()
            .code(),
        "WF_PERSON_ONLY"
    );
    for role in Role::ALL {
        assert!(!class::allowed_actions(&w, role).contains(&ClassActionKind::GrantSlot));
    }
    // Sysadmin, auditor, bureau and city act on nothing (S7).
    for role in [Role::Sysadmin, Role::Auditor, Role::Bureau, Role::City] {
        for s in [ClassState::Draft, h.clone(), ClassState::InTraining] {
            assert!(
                class::allowed_actions(&s, role).is_empty(),
                "{role:?} {s:?}"
            );
        }
    }
}

#[test]
fn r_plan_3_closing_h1_rolls_over_unconsumed_and_waiting_filings_are_not_granted() {
    let s = round::apply(RoundState::Draft, RoundAction::Publish, &admin()).unwrap();
    assert_eq!(
        round::apply(s, RoundAction::Close, &staff())
            .unwrap_err()
            .code(),
        "WF_ROLE_NOT_ALLOWED"
    );
    let s = round::apply(s, RoundAction::Close, &admin()).unwrap();
    assert_eq!(s, RoundState::Closed);
    assert!(round::allowed_actions(s, Role::CentreAdmin).is_empty());

    let filings = vec![
        (1, ClassState::Approved),
        (
            2,
            ClassState::Submitted {
                slot: Slot::Holding,
                resubmissions: 0,
            },
        ),
        (3, ClassState::Withdrawn),
        (
            4,
            ClassState::Submitted {
                slot: Slot::Waiting,
                resubmissions: 0,
            },
        ),
        (
            5,
            ClassState::Returned {
                slot: Slot::Waiting,
                items: vec![],
                resubmissions: 0,
            },
        ),
        (
            6,
            ClassState::Completed {
                overdue: true,
                certificates_issued: true,
            },
        ),
        (7, ClassState::Rejected),
        (
            8,
            ClassState::Cancelled {
                cause: CancelCause::Violation,
            },
        ),
    ];
    let out = close_outcome(2026, Half::H1, 10, &filings, Some((2026, 12))).unwrap();
    assert_eq!(out.consumed, 3);
    assert_eq!(out.not_granted, vec![4, 5]);
    let r = out.rollover.unwrap();
    assert_eq!((r.base, r.rolled_over, r.total()), (12, 7, 19));
    // H2 does not roll over; never across years.
    assert!(
        close_outcome(2026, Half::H2, 10, &filings, Some((2026, 12)))
            .unwrap()
            .rollover
            .is_none()
    );
    assert_eq!(
        close_outcome(2026, Half::H1, 10, &filings, Some((2027, 12)))
            .unwrap_err()
            .code(),
        "cross_year_rollover"
    );
    // The system ends each waiting filing as 未获名额.
    let p = Policy::haizhu_default();
    let c = ClassContext {
        round: RoundState::Closed,
        ..ctx(&p, "2026-07-01")
    };
    let ng = step(&filings[3].1, ClassAction::NotGranted, &Actor::System, &c);
    assert_eq!(ng, ClassState::NotGranted);
    assert_eq!(ng.label_zh(), "未获名额");
    // A draft cannot be submitted into a closed round.
    assert_eq!(
        class::apply(&ClassState::Draft, &ClassAction::Submit, &inst(), &c)
            .unwrap_err()
            .code(),
        "WF_ROUND_NOT_OPEN"
    );
}

#[test]
fn r_vio_1_recorder_never_confirms_own_violation() {
    assert!(violation::may_record(Role::CentreStaff));
    assert!(!violation::may_record(Role::InstitutionAdmin));
    let e = violation::apply(
        ViolationState::Recorded,
        &ViolationAction::Confirm,
        &admin(),
        30,
    )
    .unwrap_err();
    assert_eq!(e.code(), "WF_SELF_APPROVAL");
    let s = violation::apply(
        ViolationState::Recorded,
        &ViolationAction::Confirm,
        &admin(),
        20,
    )
    .unwrap();
    assert!(s.is_confirmed());
    assert_eq!(
        violation::apply(
            ViolationState::Recorded,
            &ViolationAction::Confirm,
            &staff(),
            30
        )
        .unwrap_err()
        .code(),
        "WF_ROLE_NOT_ALLOWED"
    );
    assert!(violation::allowed_actions(s, Role::CentreAdmin).is_empty());
    let e = violation::apply(
        ViolationState::Recorded,
        &ViolationAction::Dismiss {
            reason: String::new(),
        },
        &admin(),
        20,
    )
    .unwrap_err();
    assert_eq!(e.code(), "WF_REASON_REQUIRED");
}

#[test]
fn r_ovd_2_fourth_overdue_class_raises_the_sanction_then_confirm_and_apply() {
    let p = Policy::haizhu_default();
    let raised: Vec<bool> = (0..6)
        .map(|prior| raise_on_overdue(prior, 2026, &p).1.is_some())
        .collect();
    assert_eq!(raised, [false, false, false, true, false, false]);
    let (tally, s) = raise_on_overdue(3, 2026, &p);
    assert_eq!(tally.count, 4);
    let s = s.unwrap();
    assert_eq!((s.year, s.count, s.state), (2026, 4, SanctionState::Raised));

    assert_eq!(
        sanction::allowed_actions(SanctionState::Raised, Role::CentreAdmin),
        vec![
            sanction::SanctionActionKind::Confirm,
            sanction::SanctionActionKind::Dismiss
        ]
    );
    assert!(sanction::allowed_actions(SanctionState::Raised, Role::CentreStaff).is_empty());
    assert_eq!(
        sanction::apply(
            SanctionState::Raised,
            &SanctionAction::MarkApplied,
            &Actor::System
        )
        .unwrap_err()
        .code(),
        "WF_INVALID_TRANSITION"
    );
    let c = sanction::apply(SanctionState::Raised, &SanctionAction::Confirm, &admin()).unwrap();
    assert_eq!(c, SanctionState::Confirmed);

    // Applying it: agreement terminated, pending and unstarted cancelled, running flagged.
    let ag = agreement::apply(
        AgreementState::Signed,
        &AgreementAction::Terminate {
            cause: TerminationCause::OverdueSanction,
            reason: "2026年超期班次达4个".into(),
        },
        &Actor::System,
    )
    .unwrap();
    assert!(!agreement::accepts_filings(ag));
    let cases = [
        (ClassState::Draft, SanctionEffect::Cancel),
        (
            ClassState::Submitted {
                slot: Slot::Waiting,
                resubmissions: 0,
            },
            SanctionEffect::Cancel,
        ),
        (ClassState::Approved, SanctionEffect::Cancel),
        (ClassState::InTraining, SanctionEffect::FlagForCentre),
        (
            ClassState::Overdue { started: true },
            SanctionEffect::FlagForCentre,
        ),
        (
            ClassState::Completed {
                overdue: false,
                certificates_issued: false,
            },
            SanctionEffect::Unaffected,
        ),
        (ClassState::Withdrawn, SanctionEffect::Unaffected),
    ];
    let cctx = ctx(&p, "2026-06-01");
    for (s, effect) in cases {
        assert_eq!(sanction_effect(&s), effect, "{s:?}");
        if effect == SanctionEffect::Cancel {
            let out = step(
                &s,
                ClassAction::Cancel {
                    cause: CancelCause::OverdueSanction,
                    reason: "取消当年培训资格".into(),
                },
                &Actor::System,
                &cctx,
            );
            assert!(!holds_slot(&out));
        }
    }
    let a = sanction::apply(c, &SanctionAction::MarkApplied, &Actor::System).unwrap();
    assert_eq!(a, SanctionState::Applied);
    assert_eq!(a.label_zh(), "已执行");
}

#[test]
fn r_fil_8_request_decided_by_the_centre_not_the_submitter_and_only_with_evidence() {
    let c = RequestContext {
        kind: RequestKind::OnlineTraining,
        institution_id: INST,
        submitted_by: SUBMITTER,
        evidence_complete: false,
    };
    assert!(request::may_submit(Role::InstitutionStaff));
    assert_eq!(
        request::apply(
            RequestState::Submitted,
            &RequestAction::Approve,
            &staff(),
            &c
        )
        .unwrap_err()
        .code(),
        "WF_PACKAGE_INCOMPLETE"
    );
    let ok = RequestContext {
        evidence_complete: true,
        ..c
    };
    assert_eq!(
        request::apply(
            RequestState::Submitted,
            &RequestAction::Approve,
            &staff(),
            &ok
        )
        .unwrap(),
        RequestState::Approved
    );
    let own = RequestContext {
        submitted_by: 20,
        ..ok
    };
    assert_eq!(
        request::apply(
            RequestState::Submitted,
            &RequestAction::Approve,
            &staff(),
            &own
        )
        .unwrap_err()
        .code(),
        "WF_SELF_APPROVAL"
    );
    assert_eq!(
        request::apply(
            RequestState::Submitted,
            &RequestAction::Approve,
            &inst(),
            &ok
        )
        .unwrap_err()
        .code(),
        "WF_ROLE_NOT_ALLOWED"
    );
    let refused = request::apply(
        RequestState::Submitted,
        &RequestAction::Refuse {
            reason: "平台未接入市监管平台".into(),
        },
        &admin(),
        &RequestContext {
            kind: RequestKind::Address,
            ..ok
        },
    )
    .unwrap();
    assert_eq!(refused, RequestState::Refused);
    assert!(request::allowed_actions(refused, Role::CentreAdmin).is_empty());
}

#[test]
fn transition_errors_have_stable_codes_and_chinese_messages() {
    let e = TransitionError::AgreementTerminated;
    assert_eq!(e.code(), "WF_AGREEMENT_TERMINATED");
    assert!(e.to_string().contains("委托培训协议已中止"));
    let e = TransitionError::RoleNotAllowed {
        role: Role::City,
        action: "批复通过",
    };
    assert_eq!(e.to_string(), "“市职培中心”无权执行“批复通过”");
}
