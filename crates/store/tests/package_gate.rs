//! One way to file (issue 8, R-FIL-1…8, R-FIL-5) on SQLite and PostgreSQL: a filing without a
//! checked package — as the removed minimal filing left them in old databases — is flagged in
//! the centre's review queue ("未附备案材料，须补交备案材料"), never approved or started
//! (`FIL_NO_PACKAGE`), never resubmitted without a package; once returned, its institution
//! supplements a package whose submission keeps the filing's slot and place (R-FIL-6). The demo
//! seeds package filings only.

mod support;

use peixun_domain::workflow::class::{ClassState, CorrectionItem};
use peixun_domain::workflow::round::Half;
use peixun_store::entity::filing;
use peixun_store::filing_package::{self, SubmitOutcome, package};
use peixun_store::filings::{self, SlotState};
use peixun_store::ready_package::{self, ReadyPackage};
use peixun_store::{PageRequest, Store, StoreError, audit, demo, package_gate, review, running};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use support::*;

support::on_both_backends!(
    r_fil_5_review_queue_flags_a_filing_without_package_as_not_approvable,
    r_fil_5_approve_refuses_a_filing_without_package_and_changes_nothing,
    r_fil_5_start_refuses_an_approved_filing_without_package,
    r_fil_5_returned_filing_without_package_supplemented_keeps_slot_and_place,
    r_fil_1_demo_seeds_package_filings_only,
);

/// A filing as the removed minimal path wrote it (an old database): no package.
async fn legacy_filing(store: &Store, inst: i64, ag: i64, minutes: i64) -> filings::FilingView {
    filings::submit_without_package(store, &inst_user(inst, 1), submission(ag), later(minutes))
        .await
        .unwrap()
}

async fn r_fil_5_review_queue_flags_a_filing_without_package_as_not_approvable(store: Store) {
    let a = institution(&store, 1, false).await;
    let r = published_round(&store, 2026, Half::Other, "旧备案标记", 4).await;
    let ag = signed(&store, r.id, a, 2).await;
    let old = legacy_filing(&store, a, ag, 0).await;
    let good = file_package(&store, &inst_user(a, 1), ag, d(2026, 4, 1), later(1))
        .await
        .unwrap();
    let q = review::review_queue(&store, &centre_staff(), &PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(q.total, 2);
    let item = q.items.iter().find(|i| i.filing.id == old.id).unwrap();
    assert_eq!(item.package_id, None);
    assert!(
        !item.approvable,
        "a filing without package is never approvable"
    );
    assert_eq!(item.blocking, 1);
    assert_eq!(item.problems[0].code, package_gate::NO_PACKAGE);
    assert!(item.problems[0].is_blocking());
    assert!(
        item.problems[0]
            .message
            .contains("未附备案材料，须补交备案材料"),
        "{}",
        item.problems[0].message
    );
    let ok = q.items.iter().find(|i| i.filing.id == good.id).unwrap();
    assert!(ok.package_id.is_some());
    assert!(ok.approvable, "{:?}", ok.problems);
    assert_eq!(ok.blocking, 0);
    assert!(!package_gate::has_package(store.db(), old.id).await.unwrap());
    assert!(
        package_gate::has_package(store.db(), good.id)
            .await
            .unwrap()
    );
}

async fn r_fil_5_approve_refuses_a_filing_without_package_and_changes_nothing(store: Store) {
    let a = institution(&store, 1, false).await;
    let r = published_round(&store, 2026, Half::Other, "旧备案批复", 4).await;
    let ag = signed(&store, r.id, a, 2).await;
    let old = legacy_filing(&store, a, ag, 0).await;
    assert_eq!(old.slot_state, SlotState::Holding);
    let rows = audit::count(&store).await.unwrap();
    let err = filings::approve_filing(&store, &centre_staff(), old.id, later(5))
        .await
        .unwrap_err();
    match &err {
        StoreError::Validation {
            code,
            message,
            field,
        } => {
            assert_eq!(*code, "FIL_NO_PACKAGE");
            assert!(
                message.contains("未附备案材料，须补交备案材料"),
                "{message}"
            );
            assert_eq!(field.as_deref(), Some("package"));
        }
        other => panic!("expected FIL_NO_PACKAGE, got {other:?}"),
    }
    // The review module's approve is the same service.
    let err = review::approve(&store, &centre_staff(), old.id, later(6))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FIL_NO_PACKAGE");
    let now = filings::get_filing(&store, &centre_staff(), old.id)
        .await
        .unwrap();
    assert_eq!(now.status, "submitted");
    assert_eq!(now.decided_at, None);
    assert_eq!(audit::count(&store).await.unwrap(), rows, "nothing written");
    // Resubmitting without a package is refused too (after a return).
    filings::return_filing(
        &store,
        &centre_staff(),
        old.id,
        vec![CorrectionItem {
            field: "package".into(),
            message: "未附备案材料，须补交备案材料".into(),
        }],
        later(7),
    )
    .await
    .unwrap();
    let err = filings::resubmit_filing(&store, &inst_user(a, 1), old.id, later(8))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "WF_PACKAGE_INCOMPLETE");
}

async fn r_fil_5_start_refuses_an_approved_filing_without_package(store: Store) {
    let a = institution(&store, 1, false).await;
    let r = published_round(&store, 2026, Half::Other, "旧备案开班", 4).await;
    let ag = signed(&store, r.id, a, 2).await;
    let old = legacy_filing(&store, a, ag, 0).await;
    // An old database may hold one the centre approved before issue 8.
    filing::ActiveModel {
        id: Set(old.id),
        state: Set(serde_json::to_string(&ClassState::Approved).unwrap()),
        status: Set(ClassState::Approved.code().to_string()),
        ..Default::default()
    }
    .update(store.db())
    .await
    .unwrap();
    // On its start date (2026-04-01), which would otherwise be allowed.
    let start_day = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 4, 1, 2, 0, 0).unwrap();
    let err = running::start_training(&store, &inst_user(a, 1), old.id, start_day)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FIL_NO_PACKAGE");
    assert!(err.to_string().contains("未附备案材料"), "{err}");
    let still = filings::get_filing(&store, &centre_staff(), old.id)
        .await
        .unwrap();
    assert_eq!(still.status, "approved");
    // A package filing approved the same way starts.
    let good = file_package(&store, &inst_user(a, 1), ag, d(2026, 4, 1), later(1))
        .await
        .unwrap();
    filings::approve_filing(&store, &centre_staff(), good.id, later(2))
        .await
        .unwrap();
    running::start_training(&store, &inst_user(a, 1), good.id, start_day)
        .await
        .unwrap();
}

async fn r_fil_5_returned_filing_without_package_supplemented_keeps_slot_and_place(store: Store) {
    let a = institution(&store, 1, false).await;
    let b = institution(&store, 2, false).await;
    let r = published_round(&store, 2026, Half::Other, "补交材料", 4).await;
    let ag = signed(&store, r.id, a, 1).await;
    let ag_b = signed(&store, r.id, b, 2).await;
    let old = legacy_filing(&store, a, ag, 0).await;
    let waiting = file_package(&store, &inst_user(a, 1), ag, d(2026, 4, 1), later(1))
        .await
        .unwrap();
    assert_eq!(waiting.slot_state, SlotState::Waiting, "A's cap 1 is held");
    // Not yet returned: nothing to supplement; B never may.
    let early = package_gate::supplement_package(&store, &inst_user(a, 1), old.id, later(2))
        .await
        .unwrap_err();
    assert_eq!(early.code(), "SUPPLEMENT_NOT_RETURNED");
    filings::return_filing(
        &store,
        &centre_staff(),
        old.id,
        vec![CorrectionItem {
            field: "package".into(),
            message: "未附备案材料，须补交备案材料".into(),
        }],
        later(3),
    )
    .await
    .unwrap();
    let other = package_gate::supplement_package(&store, &inst_user(b, 1), old.id, later(4))
        .await
        .unwrap_err();
    assert!(matches!(other, StoreError::Forbidden { .. }), "{other:?}");
    let _ = ag_b;
    let p = package_gate::supplement_package(&store, &inst_user(a, 1), old.id, later(4))
        .await
        .unwrap();
    assert_eq!(p.filing_id, Some(old.id));
    assert!(p.editable);
    // Still incomplete: the submission is refused with the problems, nothing changes.
    let refused = filing_package::submit_package(&store, &inst_user(a, 1), p.id, later(5))
        .await
        .unwrap();
    assert!(matches!(refused, SubmitOutcome::Refused { .. }));
    let err = filings::approve_filing(&store, &centre_staff(), old.id, later(5))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "WF_INVALID_TRANSITION",
        "returned, not approvable"
    );
    // A second package for the same filing: refused by the service and by the unique index.
    let twice = package_gate::supplement_package(&store, &inst_user(a, 1), old.id, later(5))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), "PACKAGE_EXISTS");
    let dup = package::ActiveModel {
        institution_id: Set(a),
        agreement_id: Set(ag),
        filing_id: Set(Some(old.id)),
        occupation: Set(OCC.into()),
        level: Set(LEVEL.into()),
        hours: Set("0".into()),
        start_date: Set(None),
        planned_end: Set(None),
        location: Set("\"registered_address\"".into()),
        mode: Set("offline".into()),
        teachers: Set("[]".into()),
        sessions: Set("[]".into()),
        exam_content: Set(String::new()),
        question_bank_file_id: Set(None),
        documents: Set("{}".into()),
        created_by: Set(None),
        created_at: Set(later(5)),
        updated_at: Set(later(5)),
        ..Default::default()
    }
    .insert(store.db())
    .await;
    assert!(dup.is_err(), "UNIQUE(filing_packages.filing_id)");
    // Completed and submitted: the filing's resubmission, same slot, same place.
    let spec = ReadyPackage::new(ag, OCC, LEVEL, d(2026, 4, 1));
    ready_package::fill(
        &store,
        &package_files(),
        &roster_key(),
        &inst_user(a, 1),
        p.id,
        &spec,
        later(6),
    )
    .await
    .unwrap();
    let re = ready_package::submit(&store, &inst_user(a, 1), p.id, later(7))
        .await
        .unwrap();
    assert_eq!(re.id, old.id);
    assert_eq!(re.status, "submitted");
    assert_eq!(
        (re.slot_state, re.slot_no, re.queue_seq),
        (SlotState::Holding, old.slot_no, old.queue_seq)
    );
    let q = review::review_queue(&store, &centre_staff(), &PageRequest::first(50))
        .await
        .unwrap();
    let item = q.items.iter().find(|i| i.filing.id == old.id).unwrap();
    assert_eq!(item.package_id, Some(p.id));
    assert!(item.approvable, "{:?}", item.problems);
    let ok = filings::approve_filing(&store, &centre_staff(), old.id, later(8))
        .await
        .unwrap();
    assert_eq!(ok.status, "approved");
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_fil_1_demo_seeds_package_filings_only(store: Store) {
    let files = package_files();
    demo::seed_demo(&store, &files, &roster_key(), t0())
        .await
        .unwrap();
    let filings_n = filing::Entity::find().count(store.db()).await.unwrap();
    let linked: Vec<i64> = package::Entity::find()
        .all(store.db())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|p| p.filing_id)
        .collect();
    assert!(filings_n >= 30, "{filings_n} demo filings");
    assert_eq!(
        linked.len() as u64,
        filings_n,
        "every demo filing is a package filing"
    );
    for f in filing::Entity::find().all(store.db()).await.unwrap() {
        assert!(linked.contains(&f.id), "filing {} has no package", f.id);
    }
    // The review queue: something to review, nothing flagged as missing its package.
    let q = review::review_queue(&store, &centre_staff(), &PageRequest::first(100))
        .await
        .unwrap();
    assert!(q.total >= 10, "{} in the review queue", q.total);
    for i in &q.items {
        assert!(
            i.package_id.is_some(),
            "filing {} without package",
            i.filing.id
        );
        assert!(
            i.problems
                .iter()
                .all(|p| p.code != package_gate::NO_PACKAGE)
        );
        assert!(i.trainees >= 20, "R-FIL-2: {} trainees", i.trainees);
        assert_eq!(i.blocking, 0, "{:?}", i.problems);
    }
}
