//! The filing package, roster import, review and requests (R-FIL-1…5, R-FIL-7, R-FIL-8,
//! R-VAL-1, R-RUN-2; SECURITY.md S6, S7, S16, S22) on SQLite and PostgreSQL.

mod support;

use peixun_domain::filing::{Location, Mode, OnlineReason};
use peixun_domain::workflow::class::{ClassState, CorrectionItem};
use peixun_domain::workflow::request::RequestAction;
use peixun_domain::workflow::round::Half;
use peixun_store::filing_package::{self, PackageInput, SubmitOutcome};
use peixun_store::filings::{self, SlotState};
use peixun_store::requests::{self, EvidenceUpload, OnlineDetails, RequestInput};
use peixun_store::roster::{self, ImportOutcome};
use peixun_store::{Actor, PageRequest, Store, StoreError, review};
use support::*;

support::on_both_backends!(
    r_fil_2_five_bad_rows_all_reported_none_imported,
    r_fil_2_nineteen_rows_is_a_class_size_problem,
    r_fil_2_overlap_flagged_across_institutions,
    r_fil_3_one_working_day_late_across_spring_festival_and_r_fil_4_window,
    r_fil_5_return_resubmit_keeps_slot_and_place,
    r_fil_5_reject_releases_slot_and_promotes,
    s7_approver_is_not_the_submitter,
    s16_disguised_html_upload_refused,
    s6_institution_b_cannot_read_or_change_a_s_package_roster_files_requests,
    r_fil_8_online_request_refused_while_evidence_incomplete,
    r_fil_7_approved_address_becomes_selectable,
    r_run_2_roster_change_after_approval_goes_back_to_review,
    spec_4_changing_the_start_date_rechecks_every_trainee_age,
    r_fil_8_online_approval_applies_to_the_named_packages_only,
);

use support::packages::*;

async fn r_fil_2_five_bad_rows_all_reported_none_imported(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let fx = fixture(&store, 1, r.id, 3).await;
    let pkg = full_package(&store, &fs, &fx, 1).await;
    let before = roster::list_roster(&store, &inst_user(fx.inst, 1), pkg, false)
        .await
        .unwrap();
    assert_eq!(before.len(), 20);
    // Lists never show an ID number unmasked (R-PII-1).
    assert!(
        before
            .iter()
            .all(|t| t.id_number_masked.contains("**********"))
    );

    let mut rows = people(25, 2);
    rows[1][0] = String::new(); // row 3: 姓名
    let id = &rows[4][2];
    let last = if id.ends_with('1') { '2' } else { '1' };
    rows[4][2] = format!("{}{last}", &id[..17]); // row 6: 证件号码 (check character)
    rows[9][3] = "12345".into(); // row 11: 手机号码
    rows[14][4] = "火星".into(); // row 16: 户籍/居住地
    rows[19][2] = "440105201501010011".into(); // row 21: under 16 (and maybe check char)
    let out = import(&store, &inst_user(fx.inst, 1), pkg, &rows).await;
    let ImportOutcome::Refused { problems } = out else {
        panic!("must be refused");
    };
    let bad_rows: std::collections::BTreeSet<u32> =
        problems.iter().filter_map(|p| p.row_number).collect();
    assert_eq!(
        bad_rows,
        [3, 6, 11, 16, 21].into_iter().collect(),
        "{problems:#?}"
    );
    for p in &problems {
        assert!(p.column.is_some(), "each names its column: {p:?}");
        assert!(!p.message.is_empty());
    }
    let cols: Vec<_> = problems.iter().map(|p| (p.row_number, p.column)).collect();
    assert!(cols.contains(&(Some(3), Some("姓名"))));
    assert!(cols.contains(&(Some(11), Some("手机号码"))));
    assert!(cols.contains(&(Some(16), Some("户籍/居住地"))));
    // Nothing imported: the previous roster is unchanged.
    let after = roster::list_roster(&store, &inst_user(fx.inst, 1), pkg, false)
        .await
        .unwrap();
    assert_eq!(after, before);
}

async fn r_fil_2_nineteen_rows_is_a_class_size_problem(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let fx = fixture(&store, 1, r.id, 3).await;
    let pkg = package_without_roster(&store, &fs, &fx, good_input(fx.teacher)).await;
    let out = import(&store, &inst_user(fx.inst, 1), pkg, &people(19, 3)).await;
    let ImportOutcome::Refused { problems } = out else {
        panic!("19 rows must be refused");
    };
    assert!(
        problems
            .iter()
            .any(|p| p.row_number.is_none() && p.message.contains("20")),
        "{problems:#?}"
    );
    // And the package check says the same at submission.
    let SubmitOutcome::Refused { problems } = submit(&store, &fx, pkg, t0()).await else {
        panic!("no roster: refused");
    };
    assert!(problems.iter().any(|p| p.code == "FIL_CLASS_SIZE"));
}

async fn r_fil_2_overlap_flagged_across_institutions(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let a = fixture(&store, 1, r.id, 3).await;
    let b = fixture(&store, 2, r.id, 3).await;
    let pa = full_package(&store, &fs, &a, 10).await;
    submitted(submit(&store, &a, pa, t0()).await);
    // B's class overlaps A's dates and shares 2 trainees.
    let pb = package_without_roster(&store, &fs, &b, good_input(b.teacher)).await;
    let mut rows = people(20, 11);
    let shared = people(20, 10);
    rows[0] = shared[0].clone();
    rows[5] = shared[7].clone();
    let ImportOutcome::Imported(rep) = import(&store, &inst_user(b.inst, 1), pb, &rows).await
    else {
        panic!("overlap is a flag, not a refusal");
    };
    assert_eq!(rep.imported, 20);
    let flagged: Vec<u32> = rep.overlaps.iter().map(|o| o.row_number).collect();
    assert_eq!(flagged, vec![2, 7], "{:#?}", rep.overlaps);
    assert!(rep.overlaps.iter().all(|o| o.other_institution));
    assert!(
        rep.overlaps
            .iter()
            .all(|o| o.id_number_masked.contains('*'))
    );
    // The package check shows them as warnings.
    let probs = filing_package::check_package(&store, &inst_user(b.inst, 1), pb, t0())
        .await
        .unwrap();
    assert_eq!(
        probs.iter().filter(|p| p.code == "ROSTER_OVERLAP").count(),
        2
    );
    assert!(
        probs
            .iter()
            .filter(|p| p.code == "ROSTER_OVERLAP")
            .all(|p| !p.is_blocking())
    );
}

async fn r_fil_3_one_working_day_late_across_spring_festival_and_r_fil_4_window(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let fx = fixture(&store, 1, r.id, 3).await;
    let mut input = good_input(fx.teacher);
    input.start_date = Some(d(2026, 3, 2));
    input.planned_end = Some(d(2026, 4, 5));
    input.sessions = vec![
        session(d(2026, 3, 2), fx.teacher, 3),
        session(d(2026, 3, 3), fx.teacher, 3),
    ];
    let pkg = package_without_roster(&store, &fs, &fx, input).await;
    match import(&store, &inst_user(fx.inst, 1), pkg, &people(20, 4)).await {
        ImportOutcome::Imported(_) => {}
        ImportOutcome::Refused { problems } => panic!("{problems:?}"),
    }
    // Submitted 2026-02-11: one working day after the deadline 2026-02-10.
    let SubmitOutcome::Refused { problems } = submit(&store, &fx, pkg, at(2026, 2, 11)).await
    else {
        panic!("late: refused");
    };
    let lead = problems
        .iter()
        .find(|p| p.code == "FIL_LEAD_TIME")
        .expect("lead time");
    assert_eq!(lead.field, "start_date");
    assert!(lead.message.contains("2026-02-10"), "{}", lead.message);
    let window = problems
        .iter()
        .find(|p| p.code == "FIL_WINDOW")
        .expect("window");
    assert_eq!(window.field, "planned_end");
    assert!(window.message.contains("2026-04-01"), "{}", window.message);
    // Nothing entered the queue.
    let all = filings::list_round_filings(&store, &centre_staff(), r.id)
        .await
        .unwrap();
    assert!(all.is_empty());
    // On the deadline itself, with the end fixed, it goes in.
    let mut fixed = good_input(fx.teacher);
    fixed.start_date = Some(d(2026, 3, 2));
    fixed.planned_end = Some(d(2026, 4, 1));
    fixed.sessions = vec![
        session(d(2026, 3, 2), fx.teacher, 3),
        session(d(2026, 3, 3), fx.teacher, 3),
    ];
    filing_package::update_package(&store, &inst_user(fx.inst, 1), pkg, &fixed, t0())
        .await
        .unwrap();
    let f = submitted(submit(&store, &fx, pkg, at(2026, 2, 10)).await);
    assert_eq!(f.slot_state, SlotState::Holding);
}

async fn r_fil_5_return_resubmit_keeps_slot_and_place(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let a = fixture(&store, 1, r.id, 3).await;
    let b = fixture(&store, 2, r.id, 3).await;
    let pa = full_package(&store, &fs, &a, 20).await;
    let f = submitted(submit(&store, &a, pa, t0()).await);
    let pb = full_package(&store, &fs, &b, 21).await;
    submitted(submit(&store, &b, pb, later(5)).await);
    // The review queue: oldest first, with the package's completeness.
    let q = review::review_queue(&store, &centre_staff(), &PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(q.total, 2);
    assert_eq!(q.items[0].filing.id, f.id);
    assert_eq!(q.items[0].blocking, 0);
    assert_eq!(q.items[0].trainees, 20);

    let items = vec![
        CorrectionItem {
            field: "documents.textbook".into(),
            message: "培训教材版本过旧，请更新".into(),
        },
        CorrectionItem {
            field: "sessions".into(),
            message: "第2节课时安排过长".into(),
        },
    ];
    // Empty items are refused.
    assert!(matches!(
        review::return_for_correction(&store, &centre_staff(), f.id, vec![], later(10)).await,
        Err(StoreError::Validation { .. })
    ));
    let returned =
        review::return_for_correction(&store, &centre_staff(), f.id, items.clone(), later(10))
            .await
            .unwrap();
    assert_eq!(returned.slot_state, SlotState::Holding);
    // The institution sees exactly what to fix.
    let view = filing_package::get_package(&store, &inst_user(a.inst, 1), pa)
        .await
        .unwrap();
    assert!(view.editable);
    assert_eq!(view.correction_items, items);
    assert_eq!(
        review::correction_items(&store, &inst_user(a.inst, 0), f.id)
            .await
            .unwrap(),
        items
    );
    // The queue's own resubmit runs the package check too (one path): a broken package is refused.
    let mut broken = good_input(a.teacher);
    broken.planned_end = Some(d(2026, 5, 30));
    filing_package::update_package(&store, &inst_user(a.inst, 1), pa, &broken, later(15))
        .await
        .unwrap();
    assert!(matches!(
        filings::resubmit_filing(&store, &inst_user(a.inst, 1), f.id, later(16)).await,
        Err(StoreError::Validation { .. })
    ));
    let SubmitOutcome::Refused { problems } = submit(&store, &a, pa, later(16)).await else {
        panic!("broken package refused");
    };
    assert!(problems.iter().any(|p| p.code == "FIL_WINDOW"));
    filing_package::update_package(
        &store,
        &inst_user(a.inst, 1),
        pa,
        &good_input(a.teacher),
        later(17),
    )
    .await
    .unwrap();
    // It edits and resubmits: same slot, same place.
    filing_package::attach_file(
        &store,
        &fs,
        &inst_user(a.inst, 1),
        pa,
        "textbook",
        PDF,
        "新教材.pdf",
        later(20),
    )
    .await
    .unwrap();
    let again = submitted(submit(&store, &a, pa, later(30)).await);
    assert_eq!(again.id, f.id);
    assert_eq!(again.queue_seq, f.queue_seq);
    assert_eq!(again.slot_no, f.slot_no);
    assert!(matches!(
        again.state,
        ClassState::Submitted {
            resubmissions: 1,
            ..
        }
    ));
    let approved = review::approve(&store, &centre_staff(), f.id, later(40))
        .await
        .unwrap();
    assert_eq!(approved.state, ClassState::Approved);
    // Approved: the package is locked.
    assert!(matches!(
        filing_package::update_package(
            &store,
            &inst_user(a.inst, 1),
            pa,
            &good_input(a.teacher),
            later(50)
        )
        .await,
        Err(StoreError::Conflict { .. })
    ));
}

async fn r_fil_5_reject_releases_slot_and_promotes(store: Store) {
    let (fs, _d) = files();
    // Quota 1: A holds the slot, B waits.
    let r = published_round(&store, 2026, Half::H1, "2026上", 1).await;
    let a = fixture(&store, 1, r.id, 3).await;
    let b = fixture(&store, 2, r.id, 3).await;
    let pa = full_package(&store, &fs, &a, 30).await;
    let fa = submitted(submit(&store, &a, pa, t0()).await);
    let pb = full_package(&store, &fs, &b, 31).await;
    let fb = submitted(submit(&store, &b, pb, later(1)).await);
    assert_eq!(fa.slot_state, SlotState::Holding);
    assert_eq!(fb.slot_state, SlotState::Waiting);
    assert!(matches!(
        review::reject(&store, &centre_admin(), fa.id, "  ", later(2)).await,
        Err(StoreError::Validation { .. })
    ));
    let rej = review::reject(
        &store,
        &centre_admin(),
        fa.id,
        "培训场地不符合要求",
        later(2),
    )
    .await
    .unwrap();
    assert_eq!(rej.state, ClassState::Rejected);
    assert_eq!(rej.slot_state, SlotState::Released);
    let fb2 = filings::get_filing(&store, &centre_admin(), fb.id)
        .await
        .unwrap();
    assert_eq!(fb2.slot_state, SlotState::Holding, "B promoted");
}

async fn s7_approver_is_not_the_submitter(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let a = fixture(&store, 1, r.id, 3).await;
    let pa = full_package(&store, &fs, &a, 40).await;
    let f = submitted(submit(&store, &a, pa, t0()).await);
    // A centre account with the submitter's user id (S7: whoever submits never approves).
    let submitter = inst_user(a.inst, 1);
    let same = Actor {
        role: Some(peixun_domain::role::Role::CentreAdmin),
        institution_id: None,
        ..submitter
    };
    let e = review::approve(&store, &same, f.id, later(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Validation { .. } | StoreError::Forbidden { .. }
        ),
        "{e:?}"
    );
    // The institution itself cannot approve.
    assert!(matches!(
        review::approve(&store, &inst_user(a.inst, 0), f.id, later(1)).await,
        Err(StoreError::Forbidden { .. })
    ));
    // Nor see the review queue.
    assert!(
        review::review_queue(&store, &inst_user(a.inst, 0), &PageRequest::first(10))
            .await
            .is_err()
    );
    review::approve(&store, &centre_staff(), f.id, later(2))
        .await
        .unwrap();
}

async fn s16_disguised_html_upload_refused(store: Store) {
    let (fs, dir) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let a = fixture(&store, 1, r.id, 3).await;
    let p = filing_package::create_package(&store, &inst_user(a.inst, 1), a.agreement, t0())
        .await
        .unwrap();
    for (bytes, name) in [
        (
            &b"<!DOCTYPE html><html><script>alert(1)</script></html>"[..],
            "简章.pdf",
        ),
        (
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"[..],
            "photo.jpg",
        ),
    ] {
        let e = filing_package::attach_file(
            &store,
            &fs,
            &inst_user(a.inst, 1),
            p.id,
            "brochure",
            bytes,
            name,
            t0(),
        )
        .await
        .unwrap_err();
        match e {
            StoreError::Validation { code, field, .. } => {
                assert_eq!(code, "FILE_DANGEROUS");
                assert_eq!(field.as_deref(), Some("brochure"));
            }
            other => panic!("{other:?}"),
        }
    }
    let v = filing_package::get_package(&store, &inst_user(a.inst, 1), p.id)
        .await
        .unwrap();
    assert!(v.documents.iter().all(|d| d.file.is_none()));
    // Nothing written to the file store.
    let count = walk(&dir.0);
    assert_eq!(count, 0);
}

fn walk(p: &std::path::Path) -> usize {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() { walk(&p) } else { 1 }
                })
                .sum()
        })
        .unwrap_or(0)
}

async fn s6_institution_b_cannot_read_or_change_a_s_package_roster_files_requests(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let a = fixture(&store, 1, r.id, 3).await;
    let b = fixture(&store, 2, r.id, 3).await;
    let pa = full_package(&store, &fs, &a, 50).await;
    let va = filing_package::get_package(&store, &inst_user(a.inst, 1), pa)
        .await
        .unwrap();
    let file_id = va.documents[0].file.as_ref().unwrap().id.clone();
    let ub = inst_user(b.inst, 0);
    let forbidden_or_missing = |e: StoreError| {
        matches!(
            e,
            StoreError::Forbidden { .. } | StoreError::NotFound { .. }
        )
    };
    assert!(forbidden_or_missing(
        filing_package::get_package(&store, &ub, pa)
            .await
            .unwrap_err()
    ));
    assert!(forbidden_or_missing(
        roster::list_roster(&store, &ub, pa, false)
            .await
            .unwrap_err()
    ));
    assert!(forbidden_or_missing(
        filing_package::package_file(&store, &ub, pa, &file_id)
            .await
            .unwrap_err()
    ));
    assert!(forbidden_or_missing(
        filing_package::update_package(&store, &ub, pa, &good_input(b.teacher), t0())
            .await
            .unwrap_err()
    ));
    assert!(forbidden_or_missing(
        filing_package::attach_file(&store, &fs, &ub, pa, "brochure", PDF, "x.pdf", t0())
            .await
            .unwrap_err()
    ));
    assert!(forbidden_or_missing(
        roster::import_roster(&store, &ub, &key(), pa, &csv(&people(20, 1)), None, t0())
            .await
            .unwrap_err()
    ));
    assert!(forbidden_or_missing(
        filing_package::submit_package(&store, &ub, pa, t0())
            .await
            .unwrap_err()
    ));
    assert!(forbidden_or_missing(
        filing_package::check_package(&store, &ub, pa, t0())
            .await
            .unwrap_err()
    ));
    // B's own list does not show A's package; its file through its own package is not found.
    let lb = filing_package::list_packages(&store, &ub).await.unwrap();
    assert!(lb.iter().all(|p| p.institution_id == b.inst));
    let pb = filing_package::create_package(&store, &ub, b.agreement, t0())
        .await
        .unwrap();
    assert!(forbidden_or_missing(
        filing_package::package_file(&store, &ub, pb.id, &file_id)
            .await
            .unwrap_err()
    ));
    // B cannot start a package under A's agreement.
    assert!(forbidden_or_missing(
        filing_package::create_package(&store, &ub, a.agreement, t0())
            .await
            .unwrap_err()
    ));
    // Requests: B neither sees nor completes A's.
    let req = requests::submit_request(
        &store,
        &fs,
        &inst_user(a.inst, 1),
        &RequestInput::Address {
            address: "广州市海珠区工业大道1号".into(),
            reason: "场地扩容".into(),
        },
        &[EvidenceUpload {
            slot: requests::ADDRESS_EVIDENCE.into(),
            bytes: PDF.to_vec(),
            name: "租赁合同.pdf".into(),
        }],
        t0(),
    )
    .await
    .unwrap();
    let ev_file = req.evidence[0].file_id.clone().unwrap();
    assert!(forbidden_or_missing(
        requests::get_request(&store, &ub, req.id)
            .await
            .unwrap_err()
    ));
    assert!(forbidden_or_missing(
        requests::request_file(&store, &ub, req.id, &ev_file)
            .await
            .unwrap_err()
    ));
    assert!(forbidden_or_missing(
        requests::add_evidence(
            &store,
            &fs,
            &ub,
            req.id,
            &Default::default(),
            None,
            &[],
            t0()
        )
        .await
        .unwrap_err()
    ));
    assert!(forbidden_or_missing(
        requests::decide_request(&store, &ub, req.id, &RequestAction::Approve, t0())
            .await
            .unwrap_err()
    ));
    let lr = requests::list_requests(&store, &ub, &Default::default(), &PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(lr.total, 0);
    // A and the centre can.
    filing_package::package_file(&store, &inst_user(a.inst, 0), pa, &file_id)
        .await
        .unwrap();
    filing_package::package_file(&store, &centre_staff(), pa, &file_id)
        .await
        .unwrap();
    requests::request_file(&store, &centre_staff(), req.id, &ev_file)
        .await
        .unwrap();
}

async fn r_fil_8_online_request_refused_while_evidence_incomplete(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let a = fixture(&store, 1, r.id, 3).await;
    let ua = inst_user(a.inst, 1);
    let pkg = filing_package::create_package(&store, &ua, a.agreement, t0())
        .await
        .unwrap()
        .id;
    let req = requests::submit_request(
        &store,
        &fs,
        &ua,
        &RequestInput::OnlineTraining {
            reason: OnlineReason::SpecialTrainees {
                description: "广州市某监狱服刑人员技能培训".into(),
            },
            details: OnlineDetails {
                platform_name: "粤学通在线".into(),
                platform_url: "https://example.org".into(),
                notes: [(
                    "real_name_login".to_string(),
                    "人脸识别实名登录".to_string(),
                )]
                .into_iter()
                .collect(),
            },
            packages: vec![pkg],
        },
        &[EvidenceUpload {
            slot: requests::COMMISSION_LETTER.into(),
            bytes: PDF.to_vec(),
            name: "委托函.pdf".into(),
        }],
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(req.state, "submitted");
    assert_eq!(req.missing.len(), 3, "{:#?}", req.missing);
    let e = requests::decide_request(
        &store,
        &centre_staff(),
        req.id,
        &RequestAction::Approve,
        later(1),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Validation {
                code: "ONL_EVIDENCE_INCOMPLETE",
                ..
            }
        ),
        "{e:?}"
    );
    // Complete it: two files and one note.
    requests::add_evidence(
        &store,
        &fs,
        &ua,
        req.id,
        &[("exams".to_string(), "平台含在线考试模块".to_string())]
            .into_iter()
            .collect(),
        None,
        &[
            EvidenceUpload {
                slot: "learning_records".into(),
                bytes: PDF.to_vec(),
                name: "学习记录截图.pdf".into(),
            },
            EvidenceUpload {
                slot: "city_supervision_link".into(),
                bytes: PDF.to_vec(),
                name: "对接证明.pdf".into(),
            },
        ],
        later(2),
    )
    .await
    .unwrap();
    // The submitter never decides (S7); a refusal needs a reason.
    assert!(
        requests::decide_request(&store, &ua, req.id, &RequestAction::Approve, later(3))
            .await
            .is_err()
    );
    assert!(
        requests::decide_request(
            &store,
            &centre_staff(),
            req.id,
            &RequestAction::Refuse { reason: " ".into() },
            later(3)
        )
        .await
        .is_err()
    );
    let ok = requests::decide_request(
        &store,
        &centre_staff(),
        req.id,
        &RequestAction::Approve,
        later(3),
    )
    .await
    .unwrap();
    assert_eq!(ok.state, "approved");
    assert!(ok.missing.is_empty());
    // Decided: no more changes.
    assert!(
        requests::decide_request(
            &store,
            &centre_admin(),
            req.id,
            &RequestAction::Approve,
            later(4)
        )
        .await
        .is_err()
    );
    let all = requests::list_requests(
        &store,
        &centre_staff(),
        &Default::default(),
        &PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(all.total, 1);
}

async fn r_fil_7_approved_address_becomes_selectable(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let a = fixture(&store, 1, r.id, 3).await;
    let ua = inst_user(a.inst, 1);
    let pkg = full_package(&store, &fs, &a, 60).await;
    let req = requests::submit_request(
        &store,
        &fs,
        &ua,
        &RequestInput::Address {
            address: "广州市海珠区工业大道1号".into(),
            reason: "场地扩容".into(),
        },
        &[],
        t0(),
    )
    .await
    .unwrap();
    let mut input = good_input(a.teacher);
    input.location = Some(Location::ApprovedAddress { address_id: req.id });
    filing_package::update_package(&store, &ua, pkg, &input, t0())
        .await
        .unwrap();
    let probs = filing_package::check_package(&store, &ua, pkg, t0())
        .await
        .unwrap();
    assert!(probs.iter().any(|p| p.code == "FIL_LOCATION_NOT_APPROVED"));
    requests::decide_request(
        &store,
        &centre_staff(),
        req.id,
        &RequestAction::Approve,
        later(1),
    )
    .await
    .unwrap();
    let addrs = requests::approved_addresses(&store, &ua, a.inst)
        .await
        .unwrap();
    assert_eq!(addrs, vec![(req.id, "广州市海珠区工业大道1号".to_string())]);
    let probs = filing_package::check_package(&store, &ua, pkg, t0())
        .await
        .unwrap();
    assert!(!probs.iter().any(|p| p.is_blocking()), "{probs:#?}");
}

async fn r_run_2_roster_change_after_approval_goes_back_to_review(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let a = fixture(&store, 1, r.id, 3).await;
    let ua = inst_user(a.inst, 1);
    let pkg = full_package(&store, &fs, &a, 70).await;
    let f = submitted(submit(&store, &a, pkg, t0()).await);
    review::approve(&store, &centre_staff(), f.id, later(1))
        .await
        .unwrap();
    let before = roster::list_roster(&store, &ua, pkg, false).await.unwrap();
    let ImportOutcome::Imported(rep) = import(&store, &ua, pkg, &people(22, 71)).await else {
        panic!("change accepted for review");
    };
    assert!(rep.pending_review);
    let fv = filings::get_filing(&store, &ua, f.id).await.unwrap();
    assert_eq!(fv.state, ClassState::RosterReview { started: false });
    // The roster in force is unchanged until the centre decides.
    assert_eq!(
        roster::list_roster(&store, &ua, pkg, false).await.unwrap(),
        before
    );
    assert_eq!(
        roster::list_roster(&store, &ua, pkg, true)
            .await
            .unwrap()
            .len(),
        22
    );
    let q = review::review_queue(&store, &centre_staff(), &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(q.items[0].kind, "roster_change");
    assert_eq!(q.items[0].pending_trainees, 22);
    let v = review::decide_roster_change(&store, &centre_staff(), f.id, true, "", later(2))
        .await
        .unwrap();
    assert_eq!(v.state, ClassState::Approved);
    assert_eq!(
        roster::list_roster(&store, &ua, pkg, false)
            .await
            .unwrap()
            .len(),
        22
    );
    assert!(
        roster::list_roster(&store, &ua, pkg, true)
            .await
            .unwrap()
            .is_empty()
    );
    // A second change, rejected: the roster stays.
    import(&store, &ua, pkg, &people(25, 72)).await;
    assert!(
        review::decide_roster_change(&store, &centre_staff(), f.id, false, "", later(3))
            .await
            .is_err()
    );
    review::decide_roster_change(
        &store,
        &centre_staff(),
        f.id,
        false,
        "新增人员不符合条件",
        later(3),
    )
    .await
    .unwrap();
    assert_eq!(
        roster::list_roster(&store, &ua, pkg, false)
            .await
            .unwrap()
            .len(),
        22
    );
    assert!(
        roster::list_roster(&store, &ua, pkg, true)
            .await
            .unwrap()
            .is_empty()
    );
}

/// `cargo test -p peixun-store --test filing_package --release -- --ignored --nocapture bench`:
/// a validated import of 1,000 and 10,000 rows into a package (read, check every row, keyed
/// hashes, overlap lookup, one replacing transaction), on each backend.
async fn bench_roster_import_1k_10k(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let fx = fixture(&store, 1, r.id, 3).await;
    let pkg = package_without_roster(&store, &fs, &fx, good_input(fx.teacher)).await;
    for n in [1_000usize, 10_000] {
        let bytes = csv(&people(n, 77));
        let t = std::time::Instant::now();
        let out = roster::import_roster(
            &store,
            &inst_user(fx.inst, 1),
            &key(),
            pkg,
            &bytes,
            None,
            t0(),
        )
        .await
        .unwrap();
        let el = t.elapsed();
        match out {
            ImportOutcome::Imported(rep) => assert_eq!(rep.imported, n),
            ImportOutcome::Refused { problems } => {
                panic!("{:?}", &problems[..3.min(problems.len())])
            }
        }
        println!("{:?} roster import {n} rows: {:.2?}", store.backend(), el);
    }
}

mod bench {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore]
    async fn sqlite() {
        let (store, _g) = peixun_store::testing::sqlite_temp().await;
        super::bench_roster_import_1k_10k(store).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore]
    async fn postgres() {
        let (store, _g) = peixun_store::testing::postgres_fresh().await;
        super::bench_roster_import_1k_10k(store).await;
    }
}

fn citizen(birth: &str, seq: &str) -> String {
    let first17 = format!("440105{birth}{seq}");
    format!(
        "{first17}{}",
        peixun_domain::ids::check_char(&first17).unwrap()
    )
}

/// SPEC.md §4: ages are taken on the class start date, so moving the start date checks every
/// trainee again. A date on which one of them is under 16 is refused (nothing changes); a date
/// past a man's statutory retirement day (2025 reform) turns his warning on, and the filing
/// check blocks a roster with someone too young whatever date the ages were stored for.
async fn spec_4_changing_the_start_date_rechecks_every_trainee_age(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let fx = fixture(&store, 1, r.id, 3).await;
    let a = inst_user(fx.inst, 1);
    let pkg = package_without_roster(&store, &fs, &fx, good_input(fx.teacher)).await;
    let mut rows = people(20, 41);
    rows[0][1] = "居民身份证".into();
    rows[0][2] = citizen("20100315", "123"); // 16 on 2026-03-15
    rows[1][1] = "居民身份证".into();
    rows[1][2] = citizen("19660110", "131"); // man: 60y4m → retires 2026-05-10
    match import(&store, &a, pkg, &rows).await {
        ImportOutcome::Imported(r) => assert_eq!(r.imported, 20),
        ImportOutcome::Refused { problems } => panic!("{problems:#?}"),
    }
    let listed = roster::list_roster(&store, &a, pkg, false).await.unwrap();
    let young = listed.iter().find(|t| t.row_number == 2).unwrap().clone();
    let old = listed.iter().find(|t| t.row_number == 3).unwrap().clone();
    assert_eq!((young.age, young.over_retirement_age), (Some(16), false));
    assert_eq!((old.age, old.over_retirement_age), (Some(60), false));

    // Start 2026-03-02: row 2 is 15 then. Refused, naming the field and the trainee.
    let before = peixun_store::audit::count(&store).await.unwrap();
    let mut earlier = good_input(fx.teacher);
    earlier.start_date = Some(d(2026, 3, 2));
    earlier.planned_end = Some(d(2026, 3, 20));
    let e = filing_package::update_package(&store, &a, pkg, &earlier, t0())
        .await
        .unwrap_err();
    match e {
        StoreError::Validation {
            code: "ROSTER_AGE_TOO_YOUNG",
            field,
            message,
        } => {
            assert_eq!(field.as_deref(), Some("start_date"));
            assert!(
                message.contains("第2行") && message.contains("15周岁"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(peixun_store::audit::count(&store).await.unwrap(), before);
    let p = filing_package::get_package(&store, &a, pkg).await.unwrap();
    assert_eq!(p.start_date, Some(d(2026, 4, 1)), "nothing changed");

    // Start 2026-05-11: past row 3's retirement day: the warning turns on; ages follow.
    let mut later = good_input(fx.teacher);
    later.start_date = Some(d(2026, 5, 11));
    later.planned_end = Some(d(2026, 5, 29));
    filing_package::update_package(&store, &a, pkg, &later, t0())
        .await
        .unwrap();
    let listed = roster::list_roster(&store, &a, pkg, false).await.unwrap();
    let old = listed.iter().find(|t| t.row_number == 3).unwrap();
    assert_eq!((old.age, old.over_retirement_age), (Some(60), true));
    // And back to 2026-04-01: off again.
    filing_package::update_package(&store, &a, pkg, &good_input(fx.teacher), t0())
        .await
        .unwrap();
    let listed = roster::list_roster(&store, &a, pkg, false).await.unwrap();
    let old = listed.iter().find(|t| t.row_number == 3).unwrap();
    assert_eq!((old.age, old.over_retirement_age), (Some(60), false));
    // The check before submitting has no age problem on a good date.
    let problems = filing_package::check_package(&store, &a, pkg, t0())
        .await
        .unwrap();
    assert!(
        problems.iter().all(|p| p.code != "ROSTER_AGE_TOO_YOUNG"),
        "{problems:#?}"
    );
}

fn online_input(packages: Vec<i64>) -> RequestInput {
    RequestInput::OnlineTraining {
        reason: OnlineReason::EpidemicControl,
        details: OnlineDetails {
            platform_name: "粤学通在线".into(),
            platform_url: "https://example.org".into(),
            notes: requests::EVIDENCE_ITEMS
                .iter()
                .map(|(c, _)| (c.to_string(), "已具备".to_string()))
                .collect(),
        },
        packages,
    }
}

fn online(mut input: PackageInput) -> PackageInput {
    input.mode = Mode::Online;
    input.location = Some(Location::Online);
    input
}

/// R-FIL-8: an approved online request covers the packages it names, not the institution's
/// other packages nor those created later. A request naming no package, or another
/// institution's, is refused and writes nothing.
async fn r_fil_8_online_approval_applies_to_the_named_packages_only(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let a = fixture(&store, 1, r.id, 3).await;
    let b = fixture(&store, 2, r.id, 3).await;
    let ua = inst_user(a.inst, 1);
    let p1 = package_without_roster(&store, &fs, &a, online(good_input(a.teacher))).await;
    let p2 = package_without_roster(&store, &fs, &a, online(good_input(a.teacher))).await;
    let pb = package_without_roster(&store, &fs, &b, good_input(b.teacher)).await;
    let letter = || {
        vec![EvidenceUpload {
            slot: requests::COMMISSION_LETTER.into(),
            bytes: PDF.to_vec(),
            name: "委托函.pdf".into(),
        }]
    };

    let before = peixun_store::audit::count(&store).await.unwrap();
    for (packages, code) in [
        (vec![], "ONL_PACKAGES_REQUIRED"),
        (vec![p1, pb], "ONL_PACKAGE_UNKNOWN"),
        (vec![999_999], "ONL_PACKAGE_UNKNOWN"),
    ] {
        let e =
            requests::submit_request(&store, &fs, &ua, &online_input(packages), &letter(), t0())
                .await
                .unwrap_err();
        match e {
            StoreError::Validation { code: c, field, .. } => {
                assert_eq!(c, code);
                assert_eq!(field.as_deref(), Some("packages"));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(peixun_store::audit::count(&store).await.unwrap(), before);

    let req = requests::submit_request(
        &store,
        &fs,
        &ua,
        &online_input(vec![p1, p1]),
        &letter(),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(
        req.packages.iter().map(|p| p.id).collect::<Vec<_>>(),
        [p1],
        "named once"
    );
    assert!(req.packages[0].label.contains("开班 2026-04-01"));
    let not_approved = |problems: &[peixun_domain::filing::FilingProblem]| {
        problems.iter().any(|p| p.code == "FIL_ONLINE_NOT_APPROVED")
    };
    // Before the decision neither package may train online.
    let c1 = filing_package::check_package(&store, &ua, p1, t0())
        .await
        .unwrap();
    assert!(not_approved(&c1));
    requests::decide_request(
        &store,
        &centre_staff(),
        req.id,
        &RequestAction::Approve,
        later(1),
    )
    .await
    .unwrap();
    let c1 = filing_package::check_package(&store, &ua, p1, later(1))
        .await
        .unwrap();
    assert!(!not_approved(&c1), "{c1:#?}");
    let c2 = filing_package::check_package(&store, &ua, p2, later(1))
        .await
        .unwrap();
    assert!(not_approved(&c2), "p2 is not named: {c2:#?}");
    // A package created after the approval is not covered either.
    let p3 = package_without_roster(&store, &fs, &a, online(good_input(a.teacher))).await;
    let c3 = filing_package::check_package(&store, &ua, p3, later(1))
        .await
        .unwrap();
    assert!(not_approved(&c3));
}
