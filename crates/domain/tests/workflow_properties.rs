//! SECURITY.md S8: 10,000 random action sequences by random actors (every role, the system,
//! users of another institution, a centre user sharing the submitter's id) never reach an
//! illegal state. A seeded generator keeps failures reproducible (the failing seed is printed).

use chrono::{Days, NaiveDate};
use peixun_domain::policy::Policy;
use peixun_domain::role::Role;
use peixun_domain::workflow::Actor;
use peixun_domain::workflow::agreement::{self, AgreementAction, AgreementState, TerminationCause};
use peixun_domain::workflow::class::{
    self, CancelCause, ClassAction, ClassActionKind, ClassContext, ClassState, CorrectionItem,
    holds_slot,
};
use peixun_domain::workflow::round::RoundState;
use peixun_domain::workflow::sanction::{self, SanctionAction, SanctionState};
use peixun_domain::workflow::violation::{self, ViolationAction, ViolationState};

/// xorshift64*: small, deterministic, good enough to pick actions.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
}

const INST: i64 = 1;

fn random_actor(rng: &mut Rng) -> Actor {
    if rng.chance(12) {
        return Actor::System;
    }
    let role = Role::ALL[rng.below(Role::ALL.len())];
    // Few user ids, so that a centre user sometimes shares the submitter's id (S7).
    let user_id = 1 + rng.below(4) as i64;
    if role.is_institution() {
        let inst = if rng.chance(85) { INST } else { 2 };
        Actor::institution_user(role, user_id, inst)
    } else {
        Actor::user(role, user_id)
    }
}

fn random_action(rng: &mut Rng, start: NaiveDate) -> ClassAction {
    let day = |rng: &mut Rng| {
        start
            .checked_add_days(Days::new(rng.below(40) as u64))
            .unwrap()
    };
    let text = |rng: &mut Rng| {
        if rng.chance(80) {
            "理由".to_string()
        } else {
            " ".to_string()
        }
    };
    // Ending actions are drawn less often, so that sequences also get deep.
    let mut kind = ClassActionKind::ALL[rng.below(ClassActionKind::ALL.len())];
    while matches!(
        kind,
        ClassActionKind::Withdraw | ClassActionKind::Cancel | ClassActionKind::Reject
    ) && rng.chance(85)
    {
        kind = ClassActionKind::ALL[rng.below(ClassActionKind::ALL.len())];
    }
    match kind {
        ClassActionKind::Submit => ClassAction::Submit,
        ClassActionKind::Resubmit => ClassAction::Resubmit,
        ClassActionKind::Withdraw => ClassAction::Withdraw,
        ClassActionKind::GrantSlot => ClassAction::GrantSlot,
        ClassActionKind::NotGranted => ClassAction::NotGranted,
        ClassActionKind::Approve => ClassAction::Approve,
        ClassActionKind::ReturnForCorrection => ClassAction::ReturnForCorrection {
            items: if rng.chance(80) {
                vec![CorrectionItem {
                    field: "roster".into(),
                    message: "补充身份证明".into(),
                }]
            } else {
                vec![]
            },
        },
        ClassActionKind::Reject => ClassAction::Reject { reason: text(rng) },
        ClassActionKind::ChangeRoster => ClassAction::ChangeRoster,
        ClassActionKind::ApproveRosterChange => ClassAction::ApproveRosterChange,
        ClassActionKind::RejectRosterChange => {
            ClassAction::RejectRosterChange { reason: text(rng) }
        }
        ClassActionKind::StartTraining => ClassAction::StartTraining,
        ClassActionKind::CompleteTraining => ClassAction::CompleteTraining { on: day(rng) },
        ClassActionKind::CompleteExam => ClassAction::CompleteExam { on: day(rng) },
        ClassActionKind::MarkOverdue => ClassAction::MarkOverdue,
        ClassActionKind::IssueCertificates => ClassAction::IssueCertificates,
        ClassActionKind::Archive => ClassAction::Archive,
        ClassActionKind::Cancel => ClassAction::Cancel {
            cause: if rng.chance(50) {
                CancelCause::Violation
            } else {
                CancelCause::OverdueSanction
            },
            reason: text(rng),
        },
    }
}

/// What the sequence has done so far, to judge each new state against.
#[derive(Default)]
struct Shadow {
    approved: bool,
    started: bool,
    training_done: bool,
    exam_done: bool,
    submitted_by: Option<i64>,
}

/// Returns whether the sequence reached a completed class.
fn run_sequence(seed: u64) -> bool {
    let mut completed = false;
    let policy = Policy::haizhu_default();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let start: NaiveDate = "2026-03-02".parse().unwrap();
    let mut today: NaiveDate = "2026-02-01".parse().unwrap();
    let mut agreement_state = AgreementState::Signed;
    let mut under_violation = false;
    let mut state = ClassState::Draft;
    let mut sh = Shadow::default();
    let round = if rng.chance(90) {
        RoundState::Published
    } else {
        RoundState::Closed
    };
    let len = 5 + rng.below(60);

    for _ in 0..len {
        // The world moves: days pass, the agreement may be terminated, a violation confirmed.
        if rng.chance(20) {
            today = today
                .checked_add_days(Days::new(rng.below(12) as u64))
                .unwrap();
        }
        if rng.chance(3) {
            let a = random_actor(&mut rng);
            let act = AgreementAction::Terminate {
                cause: TerminationCause::Violation,
                reason: "r".into(),
            };
            if let Ok(s) = agreement::apply(agreement_state, &act, &a) {
                assert!(
                    a == Actor::System || a.role() == Some(Role::CentreAdmin),
                    "seed {seed}"
                );
                agreement_state = s;
            }
        }
        if rng.chance(2) {
            under_violation = true;
        }

        let actor = random_actor(&mut rng);
        // Half the steps are guided (an action the table lists for this actor, so sequences
        // get deep: approved, running, completed), half are anything at all.
        let listed = match actor.role() {
            Some(role) => class::allowed_actions(&state, role),
            None => vec![
                ClassActionKind::GrantSlot,
                ClassActionKind::MarkOverdue,
                ClassActionKind::Cancel,
            ],
        };
        let calm: Vec<ClassActionKind> = listed
            .iter()
            .copied()
            .filter(|k| {
                !matches!(
                    k,
                    ClassActionKind::Withdraw | ClassActionKind::Cancel | ClassActionKind::Reject
                )
            })
            .collect();
        let guided = rng.chance(50);
        let pick = if guided && !calm.is_empty() {
            Some(calm[rng.below(calm.len())])
        } else if guided && !listed.is_empty() && rng.chance(5) {
            Some(listed[rng.below(listed.len())])
        } else {
            None
        };
        let action = match pick {
            Some(k) => loop {
                let a = random_action(&mut rng, start);
                if a.kind() == k {
                    break a;
                }
            },
            None => random_action(&mut rng, start),
        };
        let kind = action.kind();
        let ctx = ClassContext {
            institution_id: INST,
            submitted_by: sh.submitted_by,
            agreement: agreement_state,
            round,
            package_ok: rng.chance(85),
            start,
            today,
            under_violation,
            policy: &policy,
        };
        let before = state.clone();
        let result = class::apply(&before, &action, &actor, &ctx);

        // allowed_actions and apply agree: a refused-by-table action never succeeds.
        if let Some(role) = actor.role()
            && !class::allowed_actions(&before, role).contains(&kind)
        {
            assert!(
                result.is_err(),
                "seed {seed}: {kind:?} by {role:?} from {before:?} not listed but applied"
            );
        }
        let Ok(after) = result else { continue };
        let msg = format!("seed {seed}: {before:?} --{action:?} by {actor:?}--> {after:?}");

        // Final states are final.
        assert!(!before.is_final(), "{msg}");
        // Only institution users of the filing's own institution act for it (S6).
        if let Actor::User {
            role,
            institution_id,
            ..
        } = actor
            && role.is_institution()
        {
            assert_eq!(institution_id, Some(INST), "{msg}");
        }
        // Sysadmin, auditor, bureau, city never change a filing (S7).
        if let Some(r) = actor.role() {
            assert!(r.is_institution() || r.is_centre(), "{msg}");
        }
        match kind {
            ClassActionKind::Approve
            | ClassActionKind::GrantSlot
            | ClassActionKind::StartTraining
                if !agreement::accepts_filings(agreement_state) =>
            {
                panic!("R-AGR-1: {msg} under a terminated agreement");
            }
            ClassActionKind::Submit | ClassActionKind::Resubmit => {
                // R-AGR-1: a terminated agreement accepts no filing.
                assert!(agreement::accepts_filings(agreement_state), "{msg}");
                sh.submitted_by = actor.user_id();
            }
            ClassActionKind::ChangeRoster => sh.submitted_by = actor.user_id(),
            ClassActionKind::Approve => {
                // S7: never by the submitter; R-FIL-6: only with a slot.
                assert!(actor.role().is_some_and(Role::is_centre), "{msg}");
                assert_ne!(actor.user_id(), sh.submitted_by, "{msg}");
                assert!(holds_slot(&before), "{msg}");
                sh.approved = true;
            }
            ClassActionKind::ReturnForCorrection
            | ClassActionKind::Reject
            | ClassActionKind::ApproveRosterChange
            | ClassActionKind::RejectRosterChange => {
                assert_ne!(actor.user_id(), sh.submitted_by, "{msg}");
            }
            ClassActionKind::StartTraining => {
                // R-FIL-5: approved, and on or after the start date.
                assert!(sh.approved && today >= start, "{msg}");
                sh.started = true;
            }
            ClassActionKind::CompleteTraining => {
                assert!(sh.started, "{msg}");
                sh.training_done = true;
            }
            ClassActionKind::CompleteExam => {
                assert!(sh.training_done, "{msg}");
                sh.exam_done = true;
            }
            ClassActionKind::IssueCertificates => {
                // S8 / R-CRT-1 / R-VIO-2: only after completion, never under a violation.
                assert!(sh.approved && sh.exam_done && !under_violation, "{msg}");
            }
            _ => {}
        }
        // Training, completion, certificates never without approval (R-FIL-5).
        if matches!(
            after,
            ClassState::InTraining
                | ClassState::TrainingComplete { .. }
                | ClassState::Completed { .. }
                | ClassState::Archived { .. }
        ) {
            assert!(sh.approved, "{msg}");
        }
        if matches!(
            after,
            ClassState::Completed {
                certificates_issued: true,
                ..
            }
        ) {
            assert!(sh.exam_done, "{msg}");
        }
        // Slots: only the queue grants one; only withdrawal, rejection, cancellation and
        // not-granted end a filing without one; none is held after them (R-FIL-6, R-PLAN-3).
        if !holds_slot(&before) && holds_slot(&after) {
            assert!(
                kind == ClassActionKind::GrantSlot && actor == Actor::System,
                "{msg}"
            );
        }
        if holds_slot(&before) && !holds_slot(&after) {
            assert!(
                matches!(
                    kind,
                    ClassActionKind::Withdraw | ClassActionKind::Reject | ClassActionKind::Cancel
                ),
                "{msg}"
            );
        }
        if matches!(
            after,
            ClassState::Withdrawn
                | ClassState::Rejected
                | ClassState::Cancelled { .. }
                | ClassState::NotGranted
        ) {
            assert!(!holds_slot(&after), "{msg}");
        }
        // Overdue is never undone except by cancellation (R-OVD-1).
        if before.is_overdue() && !matches!(after, ClassState::Cancelled { .. }) {
            assert!(after.is_overdue(), "{msg}");
        }
        completed |= matches!(after, ClassState::Completed { .. });
        state = after;
    }
    completed
}

#[test]
fn s8_random_sequences_never_reach_illegal_state() {
    let mut certified = 0;
    for seed in 0..10_000u64 {
        if run_sequence(seed) {
            certified += 1;
        }
    }
    // Not vacuous: some sequences go all the way to completion.
    assert!(certified > 20, "completed {certified}");
}

#[test]
fn s8_random_sequences_reach_the_interesting_states() {
    // Guard against a vacuous property: the generator does reach approval and completion.
    let policy = Policy::haizhu_default();
    let mut reached_completed = 0;
    let mut reached_cancelled = 0;
    for seed in 0..10_000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        // Drive a sequence with only legal-looking actors to check reachability.
        let start: NaiveDate = "2026-03-02".parse().unwrap();
        let mut state = ClassState::Draft;
        let mut today: NaiveDate = "2026-02-01".parse().unwrap();
        for _ in 0..60 {
            if rng.chance(25) {
                today = today
                    .checked_add_days(Days::new(rng.below(6) as u64))
                    .unwrap();
            }
            let ctx = ClassContext {
                institution_id: INST,
                submitted_by: Some(1),
                agreement: AgreementState::Signed,
                round: RoundState::Published,
                package_ok: true,
                start,
                today,
                under_violation: false,
                policy: &policy,
            };
            let actor = match rng.below(3) {
                0 => Actor::System,
                1 => Actor::institution_user(Role::InstitutionStaff, 1, INST),
                _ => Actor::user(Role::CentreAdmin, 2),
            };
            // A guided walk: pick among the actions the table lists for this actor.
            let kinds: Vec<ClassActionKind> = match actor.role() {
                Some(role) => class::allowed_actions(&state, role),
                None => vec![ClassActionKind::GrantSlot, ClassActionKind::MarkOverdue],
            };
            if kinds.is_empty() {
                continue;
            }
            let action = match kinds[rng.below(kinds.len())] {
                ClassActionKind::CompleteTraining => ClassAction::CompleteTraining { on: today },
                ClassActionKind::CompleteExam => ClassAction::CompleteExam { on: today },
                ClassActionKind::Withdraw if rng.chance(80) => continue,
                ClassActionKind::Cancel if rng.chance(90) => continue,
                ClassActionKind::Reject if rng.chance(80) => continue,
                k => loop {
                    let a = random_action(&mut rng, start);
                    if a.kind() == k {
                        break a;
                    }
                },
            };
            if let Ok(s) = class::apply(&state, &action, &actor, &ctx) {
                state = s;
            }
        }
        match state {
            ClassState::Completed { .. } | ClassState::Archived { .. } => reached_completed += 1,
            ClassState::Cancelled { .. } => reached_cancelled += 1,
            _ => {}
        }
    }
    assert!(reached_completed > 50, "completed {reached_completed}");
    assert!(reached_cancelled > 50, "cancelled {reached_cancelled}");
}

#[test]
fn s8_random_violation_and_sanction_decisions_respect_roles_and_s7() {
    let mut rng = Rng(42);
    for _ in 0..10_000 {
        let recorded_by = 1 + rng.below(4) as i64;
        let actor = random_actor(&mut rng);
        let action = if rng.chance(50) {
            ViolationAction::Confirm
        } else {
            ViolationAction::Dismiss {
                reason: if rng.chance(80) {
                    "r".into()
                } else {
                    String::new()
                },
            }
        };
        let state = [
            ViolationState::Recorded,
            ViolationState::Confirmed,
            ViolationState::Dismissed,
        ][rng.below(3)];
        if violation::apply(state, &action, &actor, recorded_by).is_ok() {
            assert_eq!(state, ViolationState::Recorded);
            assert_eq!(actor.role(), Some(Role::CentreAdmin));
            assert_ne!(actor.user_id(), Some(recorded_by));
        }
        let sstate = [
            SanctionState::Raised,
            SanctionState::Confirmed,
            SanctionState::Applied,
            SanctionState::Dismissed,
        ][rng.below(4)];
        let saction = [
            SanctionAction::Confirm,
            SanctionAction::Dismiss { reason: "r".into() },
            SanctionAction::MarkApplied,
        ][rng.below(3)]
        .clone();
        if let Ok(next) = sanction::apply(sstate, &saction, &actor) {
            match next {
                SanctionState::Applied => {
                    assert_eq!(sstate, SanctionState::Confirmed);
                    assert_eq!(actor, Actor::System);
                }
                SanctionState::Confirmed | SanctionState::Dismissed => {
                    assert_eq!(sstate, SanctionState::Raised);
                    assert_eq!(actor.role(), Some(Role::CentreAdmin));
                }
                SanctionState::Raised => panic!("nothing leads back to raised"),
            }
        }
    }
}
