//! Violations and the one termination path (R-VIO-1, R-VIO-2, R-AGR-1, R-OVD-2, S6, S7) on
//! SQLite and PostgreSQL: a confirmed violation cancels the institution's pending filings and
//! the next waiting filing of another institution gets the slot; the recorder cannot confirm;
//! a dismissed violation changes nothing; a terminated agreement never holds a slot, whatever
//! terminated it (by hand, violation, overdue sanction); a sanctioned institution can neither
//! apply nor sign in that year; institution B never sees A's violation.

mod support;

use peixun_domain::role::Role;
use peixun_domain::workflow::agreement::TerminationCause;
use peixun_domain::workflow::round::Half;
use peixun_domain::workflow::violation::{ViolationKind, ViolationState};
use peixun_store::agreements::{self, ApplicationInput, SignInput};
use peixun_store::entity::{overdue_sanction, quota_slot};
use peixun_store::filings::{self, FilingView, SlotState};
use peixun_store::violations::{
    self, EvidenceUpload, RecordInput, ViolationFilter, confirm_violation, dismiss_violation,
    violation_effects_preview,
};
use peixun_store::{Actor, PageRequest, Store, StoreError, inbox, overdue, violations_confirm};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use support::*;

support::on_both_backends!(
    r_agr_1_manual_termination_releases_slots_and_next_waiting_is_granted,
    r_vio_2_confirmed_violation_cancels_pending_and_promotes_next_waiting,
    r_vio_2_recorder_cannot_confirm_and_staff_cannot_decide,
    r_vio_2_dismissed_violation_changes_nothing,
    r_vio_1_bad_input_is_refused_and_changes_nothing,
    r_agr_1_terminated_agreement_never_holds_a_slot_for_every_cause,
    r_ovd_2_sanctioned_institution_cannot_apply_or_sign_that_year,
    s6_institution_b_never_sees_a_s_violation,
    r_vio_2_demo_shows_a_confirmed_violation_and_its_consequences,
);

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

/// Another centre_admin (user 9): confirms what user 1 or 2 recorded.
fn other_admin() -> Actor {
    Actor {
        user_id: Some(9),
        username: "centre_admin-9".into(),
        role: Some(Role::CentreAdmin),
        institution_id: None,
        ip: None,
        request_id: None,
    }
}

struct Setup {
    round_id: i64,
    a: i64,
    ag_a: i64,
    /// A's two filings: both holding.
    a_filings: Vec<i64>,
    c: i64,
    /// C's filing: waiting (the round is full).
    c_waiting: i64,
}

/// P = 4: A (cap 2) holds 2, B (cap 2) holds 2, C's filing waits. Institutions numbered
/// `n`, `n + 1`, `n + 2`.
async fn full_round(store: &Store, n: u32, label: &str) -> Setup {
    let a = institution(store, n, false).await;
    let b = institution(store, n + 1, false).await;
    let c = institution(store, n + 2, false).await;
    let r = published_round(store, 2026, Half::Other, label, 4).await;
    let ag_a = signed(store, r.id, a, 2).await;
    let ag_b = signed(store, r.id, b, 2).await;
    let ag_c = signed(store, r.id, c, 2).await;
    let mut a_filings = Vec::new();
    for (i, (inst, ag)) in [(a, ag_a), (a, ag_a), (b, ag_b), (b, ag_b)]
        .into_iter()
        .enumerate()
    {
        let f = filings::submit_without_package(
            store,
            &inst_user(inst, 1),
            submission(ag),
            later(i as i64),
        )
        .await
        .unwrap();
        assert_eq!(f.slot_state, SlotState::Holding);
        if inst == a {
            a_filings.push(f.id);
        }
    }
    let w = filings::submit_without_package(store, &inst_user(c, 1), submission(ag_c), later(5))
        .await
        .unwrap();
    assert_eq!(w.slot_state, SlotState::Waiting);
    Setup {
        round_id: r.id,
        a,
        ag_a,
        a_filings,
        c,
        c_waiting: w.id,
    }
}

async fn filing(store: &Store, id: i64) -> FilingView {
    filings::get_filing(store, &centre_staff(), id)
        .await
        .unwrap()
}

/// R-AGR-1: no filing of a terminated agreement holds a slot, and no slot row names one.
async fn assert_holds_nothing(store: &Store, agreement_id: i64, round_id: i64) {
    let all = filings::list_round_filings(store, &centre_admin(), round_id)
        .await
        .unwrap();
    let mine: Vec<&FilingView> = all
        .iter()
        .filter(|f| f.agreement_id == agreement_id)
        .collect();
    for f in &mine {
        assert_ne!(
            f.slot_state,
            SlotState::Holding,
            "filing {} holds a slot",
            f.id
        );
        let rows = quota_slot::Entity::find()
            .filter(quota_slot::Column::FilingId.eq(f.id))
            .count(store.db())
            .await
            .unwrap();
        assert_eq!(rows, 0, "slot row left for filing {}", f.id);
    }
    let ag = agreements::get_agreement(store, &centre_admin(), agreement_id)
        .await
        .unwrap();
    assert_eq!(ag.status_label, "已中止");
}

fn record_input(inst: i64, classes: Vec<i64>) -> RecordInput {
    RecordInput {
        institution_id: inst,
        kind: ViolationKind::FalsifiedApplication,
        facts: "经核查，该机构申报时提交的3名教师职业资格证书系伪造。".into(),
        class_ids: classes,
        no_classes: false,
    }
}

async fn r_agr_1_manual_termination_releases_slots_and_next_waiting_is_granted(store: Store) {
    let s = full_round(&store, 1, "手动中止").await;
    agreements::terminate_agreement(
        &store,
        &centre_admin(),
        s.ag_a,
        TerminationCause::ByCentre,
        "机构主动申请退出本批次",
        later(10),
    )
    .await
    .unwrap();
    for id in &s.a_filings {
        let f = filing(&store, *id).await;
        assert_eq!(
            (f.status.as_str(), f.slot_state),
            ("cancelled", SlotState::Released)
        );
    }
    assert_holds_nothing(&store, s.ag_a, s.round_id).await;
    // The next waiting filing (another institution) is granted in the same transaction.
    assert_eq!(
        filing(&store, s.c_waiting).await.slot_state,
        SlotState::Holding
    );
    // And A files nothing more (R-AGR-1).
    let e =
        filings::submit_without_package(&store, &inst_user(s.a, 1), submission(s.ag_a), later(11))
            .await
            .unwrap_err();
    assert_eq!(e.code(), "WF_AGREEMENT_TERMINATED");
}

async fn r_vio_2_confirmed_violation_cancels_pending_and_promotes_next_waiting(store: Store) {
    let s = full_round(&store, 1, "违规确认").await;
    let files = package_files();
    let v = violations::record_violation(
        &store,
        &files,
        &centre_staff(),
        &record_input(s.a, vec![s.a_filings[0]]),
        &[EvidenceUpload {
            name: "核查笔录.pdf".into(),
            bytes: PDF.to_vec(),
        }],
        later(10),
    )
    .await
    .unwrap();
    assert_eq!(v.state, ViolationState::Recorded);
    assert_eq!(v.evidence.len(), 1);
    assert_eq!(v.classes.len(), 1);
    // Nothing changed yet.
    assert_eq!(
        filing(&store, s.c_waiting).await.slot_state,
        SlotState::Waiting
    );
    // The preview says exactly what confirming does.
    let preview = violation_effects_preview(&store, &centre_admin(), v.id, later(11))
        .await
        .unwrap();
    assert_eq!(preview.termination.agreements_terminated, vec![s.ag_a]);
    assert_eq!(preview.termination.filings_cancelled, s.a_filings);
    assert_eq!(preview.termination.promoted, vec![s.c_waiting]);
    assert_eq!(preview.classes_without_codes, vec![s.a_filings[0]]);
    // …and changed nothing.
    assert_eq!(
        filing(&store, s.c_waiting).await.slot_state,
        SlotState::Waiting
    );
    assert_eq!(
        filing(&store, s.a_filings[0]).await.slot_state,
        SlotState::Holding
    );
    let done = confirm_violation(&store, &centre_admin(), v.id, later(12))
        .await
        .unwrap();
    assert_eq!(done.state, ViolationState::Confirmed);
    let effects = done.effects.clone().unwrap();
    assert_eq!(effects, preview);
    for id in &s.a_filings {
        let f = filing(&store, *id).await;
        assert_eq!(
            (f.status.as_str(), f.slot_state),
            ("cancelled", SlotState::Released)
        );
    }
    assert_holds_nothing(&store, s.ag_a, s.round_id).await;
    assert_eq!(
        filing(&store, s.c_waiting).await.slot_state,
        SlotState::Holding
    );
    // The class involved is under a confirmed violation (no codes, R-CRT-1).
    assert!(
        violations::class_under_confirmed_violation(store.db(), s.a_filings[0])
            .await
            .unwrap()
    );
    // No new filing accepted.
    let e =
        filings::submit_without_package(&store, &inst_user(s.a, 1), submission(s.ag_a), later(13))
            .await
            .unwrap_err();
    assert_eq!(e.code(), "WF_AGREEMENT_TERMINATED");
    // The institution is told, and sees its own confirmed violation (without the evidence).
    let msgs = inbox::list_inbox(&store, &inst_user(s.a, 0), s.a)
        .await
        .unwrap();
    assert!(
        msgs.iter()
            .any(|m| m.title.contains("违法违规") && m.body.contains("R-VIO-2"))
    );
    let own = violations::get_violation(&store, &inst_user(s.a, 0), v.id)
        .await
        .unwrap();
    assert!(own.evidence.is_empty());
    assert_eq!(
        violations::evidence_file(&store, &inst_user(s.a, 0), v.id, &v.evidence[0].id)
            .await
            .unwrap_err()
            .code(),
        StoreError::NotFound { entity: "file" }.code()
    );
    assert!(
        violations::evidence_file(&store, &centre_admin(), v.id, &v.evidence[0].id)
            .await
            .is_ok()
    );
    // C (promoted) got nothing in its inbox about A.
    let c_msgs = inbox::list_inbox(&store, &inst_user(s.c, 0), s.c)
        .await
        .unwrap();
    assert!(!c_msgs.iter().any(|m| m.title.contains("违法违规")));
    // Confirming twice is refused.
    assert!(
        confirm_violation(&store, &other_admin(), v.id, later(14))
            .await
            .is_err()
    );
}

async fn r_vio_2_recorder_cannot_confirm_and_staff_cannot_decide(store: Store) {
    let s = full_round(&store, 1, "登记人").await;
    let v = violations::record_violation(
        &store,
        &package_files(),
        &centre_admin(),
        &record_input(s.a, vec![]).with_no_classes(),
        &[],
        later(10),
    )
    .await
    .unwrap();
    let e = confirm_violation(&store, &centre_admin(), v.id, later(11))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "VIO_SELF_DECISION", "{e:?}");
    let e = dismiss_violation(&store, &centre_admin(), v.id, "证据不足", later(11))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "VIO_SELF_DECISION");
    let e = confirm_violation(&store, &centre_staff(), v.id, later(11))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e:?}");
    assert!(!violations_confirm::may_decide(&centre_admin(), &v));
    assert!(violations_confirm::may_decide(&other_admin(), &v));
    // Nothing changed.
    assert_eq!(
        filing(&store, s.a_filings[0]).await.slot_state,
        SlotState::Holding
    );
    // Another officer confirms.
    let done = confirm_violation(&store, &other_admin(), v.id, later(12))
        .await
        .unwrap();
    assert_eq!(done.state, ViolationState::Confirmed);
    assert!(done.no_classes);
    assert_eq!(
        filing(&store, s.c_waiting).await.slot_state,
        SlotState::Holding
    );
}

trait NoClasses {
    fn with_no_classes(self) -> Self;
}
impl NoClasses for RecordInput {
    fn with_no_classes(mut self) -> Self {
        self.class_ids.clear();
        self.no_classes = true;
        self
    }
}

async fn r_vio_2_dismissed_violation_changes_nothing(store: Store) {
    let s = full_round(&store, 1, "不予认定").await;
    let v = violations::record_violation(
        &store,
        &package_files(),
        &centre_staff(),
        &record_input(s.a, s.a_filings.clone()),
        &[],
        later(10),
    )
    .await
    .unwrap();
    let e = dismiss_violation(&store, &centre_admin(), v.id, "  ", later(11))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "WF_REASON_REQUIRED");
    let d = dismiss_violation(
        &store,
        &centre_admin(),
        v.id,
        "经复核，证书真实有效",
        later(12),
    )
    .await
    .unwrap();
    assert_eq!(d.state, ViolationState::Dismissed);
    assert_eq!(d.decision_reason.as_deref(), Some("经复核，证书真实有效"));
    for id in &s.a_filings {
        assert_eq!(filing(&store, *id).await.slot_state, SlotState::Holding);
    }
    assert_eq!(
        filing(&store, s.c_waiting).await.slot_state,
        SlotState::Waiting
    );
    let ag = agreements::get_agreement(&store, &centre_admin(), s.ag_a)
        .await
        .unwrap();
    assert_eq!(ag.status_label, "已签订");
    assert!(
        !violations::class_under_confirmed_violation(store.db(), s.a_filings[0])
            .await
            .unwrap()
    );
    // A dismissed violation is not shown to the institution.
    assert!(matches!(
        violations::get_violation(&store, &inst_user(s.a, 0), v.id).await,
        Err(StoreError::NotFound { .. })
    ));
    // Decided: no second decision.
    assert!(
        confirm_violation(&store, &other_admin(), v.id, later(13))
            .await
            .is_err()
    );
}

async fn count_violations(store: &Store) -> u64 {
    violations::list_violations(
        store,
        &centre_admin(),
        &ViolationFilter::default(),
        &PageRequest::default(),
    )
    .await
    .unwrap()
    .total
}

async fn r_vio_1_bad_input_is_refused_and_changes_nothing(store: Store) {
    let s = full_round(&store, 1, "登记校验").await;
    let files = package_files();
    let other = institution(&store, 9, false).await;
    let cases: Vec<(RecordInput, Vec<EvidenceUpload>, &str)> = vec![
        // A class of another institution.
        (
            record_input(other, vec![s.a_filings[0]]),
            vec![],
            "VIO_CLASS_OTHER",
        ),
        // Neither classes nor "none".
        (record_input(s.a, vec![]), vec![], "VIO_CLASSES_REQUIRED"),
        // Both.
        (
            RecordInput {
                no_classes: true,
                ..record_input(s.a, vec![s.a_filings[0]])
            },
            vec![],
            "VIO_CLASSES_CONFLICT",
        ),
        // Facts too long / empty.
        (
            RecordInput {
                facts: "事".repeat(2001),
                ..record_input(s.a, vec![s.a_filings[0]])
            },
            vec![],
            "TEXT_TOO_LONG",
        ),
        (
            RecordInput {
                facts: "  ".into(),
                ..record_input(s.a, vec![s.a_filings[0]])
            },
            vec![],
            "REQUIRED",
        ),
        // An HTML file posing as a PDF (S16).
        (
            record_input(s.a, vec![s.a_filings[0]]),
            vec![
                EvidenceUpload {
                    name: "ok.pdf".into(),
                    bytes: PDF.to_vec(),
                },
                EvidenceUpload {
                    name: "x.pdf".into(),
                    bytes: b"<html><script>alert(1)</script></html>".to_vec(),
                },
            ],
            "",
        ),
    ];
    for (input, ev, code) in cases {
        let e =
            violations::record_violation(&store, &files, &centre_staff(), &input, &ev, later(10))
                .await
                .unwrap_err();
        if !code.is_empty() {
            assert_eq!(e.code(), code, "{e:?}");
        } else {
            assert!(matches!(e, StoreError::Validation { .. }), "{e:?}");
        }
    }
    assert_eq!(count_violations(&store).await, 0);
    // Only the centre records.
    let e = violations::record_violation(
        &store,
        &files,
        &inst_user(other, 0),
        &record_input(s.a, vec![s.a_filings[0]]),
        &[],
        later(10),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }));
    assert_eq!(count_violations(&store).await, 0);
}

/// A sanction raised for institution `inst` in `year` (as the sweep would at the 4th overdue
/// class), confirmed by centre_admin.
async fn sanction(store: &Store, inst: i64, trigger: i64, year: i32) -> overdue::SanctionView {
    let policy = peixun_store::policies::in_force(store.db(), d(year, 6, 1))
        .await
        .unwrap();
    let m = overdue_sanction::ActiveModel {
        institution_id: Set(inst),
        year: Set(year),
        count: Set(4),
        trigger_filing_id: Set(trigger),
        state: Set("raised".into()),
        raised_at: Set(later(20)),
        decided_by: Set(None),
        decided_by_user_id: Set(None),
        decided_at: Set(None),
        reason: Set(None),
        effects: Set(None),
        policy_version: Set(policy.version.clone()),
        ..Default::default()
    }
    .insert(store.db())
    .await
    .unwrap();
    overdue::confirm_sanction(store, &centre_admin(), m.id, later(21))
        .await
        .unwrap()
}

async fn r_agr_1_terminated_agreement_never_holds_a_slot_for_every_cause(store: Store) {
    // One scenario per cause, each in its own round; the invariant after each: the terminated
    // agreement holds no slot and the waiting filing of another institution was granted.
    for (k, cause) in ["by_centre", "violation", "overdue_sanction"]
        .into_iter()
        .enumerate()
    {
        let s = full_round(&store, 10 * (k as u32 + 1), &format!("中止{cause}")).await;
        match cause {
            "by_centre" => {
                agreements::terminate_agreement(
                    &store,
                    &centre_admin(),
                    s.ag_a,
                    TerminationCause::ByCentre,
                    "手动中止",
                    later(10),
                )
                .await
                .unwrap();
            }
            "violation" => {
                let v = violations::record_violation(
                    &store,
                    &package_files(),
                    &centre_staff(),
                    &record_input(s.a, vec![s.a_filings[1]]),
                    &[],
                    later(10),
                )
                .await
                .unwrap();
                confirm_violation(&store, &centre_admin(), v.id, later(11))
                    .await
                    .unwrap();
            }
            _ => {
                let sv = sanction(&store, s.a, s.a_filings[0], 2026).await;
                assert_eq!(sv.state.code(), "applied");
            }
        }
        assert_holds_nothing(&store, s.ag_a, s.round_id).await;
        assert_eq!(
            filing(&store, s.c_waiting).await.slot_state,
            SlotState::Holding,
            "cause {cause}: the next waiting filing is granted"
        );
        // The round's slots: exactly its quota, none by A.
        let holding = filings::list_round_filings(&store, &centre_admin(), s.round_id)
            .await
            .unwrap()
            .into_iter()
            .filter(|f| f.slot_state == SlotState::Holding)
            .count();
        assert_eq!(holding, 3, "cause {cause}: B's two and C's one");
    }
}

async fn r_ovd_2_sanctioned_institution_cannot_apply_or_sign_that_year(store: Store) {
    let s = full_round(&store, 1, "超期处理").await;
    // A applied to another 2026 round before the sanction; not yet signed.
    let r2 = published_round(&store, 2026, Half::H2, "2026下半年", 4).await;
    let app = agreements::apply_to_round(
        &store,
        &inst_user(s.a, 0),
        &ApplicationInput {
            round_id: r2.id,
            occupations: vec![OCC.into()],
            classes_requested: 2,
            note: String::new(),
        },
        t0(),
    )
    .await
    .unwrap();
    sanction(&store, s.a, s.a_filings[0], 2026).await;
    assert!(
        overdue::sanctioned_in_year(store.db(), s.a, 2026)
            .await
            .unwrap()
    );
    assert!(
        !overdue::sanctioned_in_year(store.db(), s.a, 2027)
            .await
            .unwrap()
    );
    let e = agreements::sign_agreement(
        &store,
        &centre_admin(),
        &SignInput {
            application_id: app.id,
            first_cap: Some(2),
            override_cap: None,
        },
        later(30),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "OVD_SANCTIONED", "{e:?}");
    assert!(e.to_string().contains("R-OVD-2") || format!("{e:?}").contains("R-OVD-2"));
    let r3 = published_round(&store, 2026, Half::Other, "2026专项", 4).await;
    let e = agreements::apply_to_round(
        &store,
        &inst_user(s.a, 0),
        &ApplicationInput {
            round_id: r3.id,
            occupations: vec![OCC.into()],
            classes_requested: 2,
            note: String::new(),
        },
        later(30),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "OVD_SANCTIONED");
    // Another year is open to it.
    let r4 = published_round(&store, 2027, Half::H1, "2027上半年", 4).await;
    agreements::apply_to_round(
        &store,
        &inst_user(s.a, 0),
        &ApplicationInput {
            round_id: r4.id,
            occupations: vec![OCC.into()],
            classes_requested: 2,
            note: String::new(),
        },
        t0(),
    )
    .await
    .unwrap();
}

async fn s6_institution_b_never_sees_a_s_violation(store: Store) {
    let s = full_round(&store, 1, "隔离").await;
    let b = s.a + 1;
    let v = violations::record_violation(
        &store,
        &package_files(),
        &centre_staff(),
        &record_input(s.a, vec![s.a_filings[0]]),
        &[EvidenceUpload {
            name: "证据.pdf".into(),
            bytes: PDF.to_vec(),
        }],
        later(10),
    )
    .await
    .unwrap();
    // Recorded (not yet confirmed): A does not see it either.
    assert!(matches!(
        violations::get_violation(&store, &inst_user(s.a, 0), v.id).await,
        Err(StoreError::NotFound { .. })
    ));
    confirm_violation(&store, &centre_admin(), v.id, later(11))
        .await
        .unwrap();
    let page = PageRequest::default();
    let all = ViolationFilter::default();
    assert!(matches!(
        violations::get_violation(&store, &inst_user(b, 0), v.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        violations::evidence_file(&store, &inst_user(b, 0), v.id, &v.evidence[0].id).await,
        Err(StoreError::NotFound { .. })
    ));
    let lb = violations::list_violations(&store, &inst_user(b, 0), &all, &page)
        .await
        .unwrap();
    assert_eq!(lb.total, 0);
    // B filtering by A's id gets nothing either.
    let lb = violations::list_violations(
        &store,
        &inst_user(b, 0),
        &ViolationFilter {
            institution_id: Some(s.a),
            state: None,
        },
        &page,
    )
    .await
    .unwrap();
    assert_eq!(lb.total, 0);
    let la = violations::list_violations(&store, &inst_user(s.a, 0), &all, &page)
        .await
        .unwrap();
    assert_eq!(la.total, 1);
    // Bureau reads all; the auditor none.
    assert_eq!(
        violations::list_violations(&store, &bureau(), &all, &page)
            .await
            .unwrap()
            .total,
        1
    );
    let auditor = Actor {
        role: Some(Role::Auditor),
        ..other_admin()
    };
    assert!(
        violations::list_violations(&store, &auditor, &all, &page)
            .await
            .is_err()
    );
}

async fn r_vio_2_demo_shows_a_confirmed_violation_and_its_consequences(store: Store) {
    peixun_store::demo::seed_demo(&store, &package_files(), &roster_key(), t0())
        .await
        .unwrap();
    let all = violations::list_violations(
        &store,
        &centre_admin(),
        &ViolationFilter::default(),
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(all.total, 2);
    let confirmed: Vec<_> = all
        .items
        .iter()
        .filter(|v| v.state == ViolationState::Confirmed)
        .collect();
    assert_eq!(confirmed.len(), 1);
    let v = confirmed[0];
    assert_eq!(v.kind, ViolationKind::FalsifiedApplication);
    assert_eq!(v.recorded_by, "centre_staff");
    assert_eq!(v.decided_by.as_deref(), Some("centre_admin"));
    assert_eq!(v.evidence.len(), 2);
    let e = v.effects.clone().unwrap();
    assert_eq!(e.termination.agreements_terminated.len(), 1);
    assert_eq!(e.termination.filings_cancelled.len(), 2);
    assert_eq!(
        e.termination.promoted.len(),
        2,
        "the other institution's waiting filings"
    );
    for id in &e.termination.promoted {
        let f = filing(&store, *id).await;
        assert_eq!(f.slot_state, SlotState::Holding);
        assert_ne!(f.institution_id, v.institution_id);
    }
    // The recorded one awaits centre_admin (not its recorder); its preview promotes a filing.
    let pending: Vec<_> = all
        .items
        .iter()
        .filter(|v| v.state == ViolationState::Recorded)
        .collect();
    assert_eq!(pending.len(), 1);
    let p = violation_effects_preview(&store, &centre_admin(), pending[0].id, t0())
        .await
        .unwrap();
    assert_eq!(p.termination.filings_cancelled.len(), 2);
    assert_eq!(p.termination.promoted.len(), 1);
}
