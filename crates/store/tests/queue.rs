//! The quota queue under concurrency (R-FIL-6, SECURITY.md S9) on SQLite and PostgreSQL:
//! 64 concurrent submissions race for the last k slots, 100 rounds per backend; exactly k are
//! granted, the rest wait in submission order, no duplicate slot or sequence number, no errors;
//! releasing slots promotes exactly the filings `queue::allocate` names. Also S6 on agreements
//! and filings, terminated agreements, return keeps the slot, approval by someone else (S7),
//! and the audit chain after all of it (S10, S11).

mod support;

use peixun_domain::queue::{Capacity, Waiting, allocate, is_settled};
use peixun_domain::workflow::agreement::TerminationCause;
use peixun_domain::workflow::class::{CancelCause, CorrectionItem};
use peixun_domain::workflow::round::Half;
use peixun_store::filings::{self, FilingView, SlotState};
use peixun_store::{Actor, Store, StoreError, agreements, audit, bulletin};
use std::collections::{BTreeSet, HashMap};
use support::*;

support::on_both_backends!(
    s9_64_clients_race_for_the_last_k_slots_100_rounds,
    r_fil_6_release_promotes_first_waiting_that_its_cap_allows,
    r_fil_6_return_keeps_slot_and_place,
    r_agr_1_terminated_agreement_refuses_filings,
    s6_institution_b_cannot_use_or_touch_a_s_agreement_and_filings,
    s7_approver_is_not_the_submitter_and_waiting_cannot_be_approved,
    bulletin_shows_quota_queue_and_labels_nothing_personal,
);

/// The rounds of the race: k free slots each, 20 rounds per k.
const KS: [u32; 5] = [0, 1, 3, 7, 16];
const ROUNDS_PER_K: usize = 20;
const CLIENTS: usize = 64;
/// Institutions sharing the 64 clients (16 clients each).
const INSTITUTIONS: usize = 4;
/// Slots already taken before the race.
const PREFILL: u32 = 2;

/// What the queue should look like: replay the round's submissions in queue order through the
/// pure allocation (a slot per filing in order, within caps), and compare.
fn check_round(all: &[FilingView], quota: u32, caps: &HashMap<i64, u32>, k: u32) {
    // queue_seq: 1..=n, strictly increasing, no gaps, no duplicates.
    let seqs: Vec<i64> = all.iter().map(|f| f.queue_seq).collect();
    let expected: Vec<i64> = (1..=all.len() as i64).collect();
    assert_eq!(seqs, expected, "queue_seq must be 1..=n in order");
    // Submission order is queue order.
    assert!(
        all.windows(2)
            .all(|w| w[0].submitted_at <= w[1].submitted_at)
    );
    let holding: Vec<&FilingView> = all
        .iter()
        .filter(|f| f.slot_state == SlotState::Holding)
        .collect();
    let waiting = all
        .iter()
        .filter(|f| f.slot_state == SlotState::Waiting)
        .count();
    assert_eq!(
        holding.len() as u32,
        PREFILL + k,
        "exactly k granted in the race"
    );
    assert_eq!(holding.len() + waiting, all.len());
    let slots: BTreeSet<u32> = holding.iter().map(|f| f.slot_no.unwrap()).collect();
    assert_eq!(slots.len(), holding.len(), "no duplicate slot");
    assert!(slots.iter().all(|s| (1..=quota).contains(s)));
    // The granted ones are exactly what allocate gives over the queue.
    let mut cap = Capacity {
        round_left: quota,
        cap_left: caps.clone(),
    };
    let w: Vec<Waiting<i64, i64>> = all
        .iter()
        .map(|f| Waiting {
            filing: f.id,
            institution: f.institution_id,
        })
        .collect();
    let want: BTreeSet<i64> = allocate(&mut cap, &w).into_iter().collect();
    let got: BTreeSet<i64> = holding.iter().map(|f| f.id).collect();
    assert_eq!(got, want, "grants follow submission order within caps");
}

async fn s9_64_clients_race_for_the_last_k_slots_100_rounds(store: Store) {
    let started = std::time::Instant::now();
    let mut insts = Vec::new();
    for i in 0..INSTITUTIONS {
        let inst = institution(&store, 100 + i as u32, false).await;
        // Each institution signs in every round: from the second on, R-CAP-3 takes C and S from
        // the previous agreement's confirmed evaluation (recorded below); the first uses this.
        agreements::record_prior_performance(
            &store,
            &centre_admin(),
            &agreements::PriorPerformanceInput {
                institution_id: inst,
                round_label: "2025年下半年".into(),
                completed_on_time: 100,
                score: "95".parse().unwrap(),
                evidence: "2025年度绩效评估报告".into(),
            },
            t0(),
        )
        .await
        .unwrap();
        insts.push(inst);
    }
    let mut round_no = 0;
    let mut race_time = std::time::Duration::ZERO;
    for k in KS {
        for _ in 0..ROUNDS_PER_K {
            round_no += 1;
            let quota = PREFILL + k;
            let r = published_round(
                &store,
                2026,
                Half::Other,
                &format!("并发测试第{round_no}批"),
                quota,
            )
            .await;
            let mut agreement_of = HashMap::new();
            let mut caps = HashMap::new();
            for &inst in &insts {
                // First agreement: the most R-CAP-1 allows (round_half_up(0.5 × P)).
                let a = signed(&store, r.id, inst, 1000).await;
                // R-CAP-3: the next round's cap comes from this agreement's confirmed
                // evaluation (C = 100, S = 95, as the hand-entered record said before).
                peixun_store::evaluations::record_confirmed_for_test(
                    &store,
                    a,
                    100,
                    "95".parse().unwrap(),
                    t0(),
                )
                .await
                .unwrap();
                let cap = agreements::get_agreement(&store, &centre_admin(), a)
                    .await
                    .unwrap()
                    .cap;
                agreement_of.insert(inst, a);
                caps.insert(inst, cap);
            }
            // The first PREFILL slots go before the race.
            for p in 0..PREFILL as usize {
                let inst = insts[p % INSTITUTIONS];
                filings::submit_without_package(
                    &store,
                    &inst_user(inst, 1),
                    submission(agreement_of[&inst]),
                    t0(),
                )
                .await
                .unwrap();
            }
            let race_started = std::time::Instant::now();
            let mut tasks = Vec::new();
            for c in 0..CLIENTS {
                let inst = insts[c % INSTITUTIONS];
                let store = store.clone();
                let actor = inst_user(inst, 1 + (c / INSTITUTIONS) as i64);
                let sub = submission(agreement_of[&inst]);
                tasks.push(tokio::spawn(async move {
                    filings::submit_without_package(&store, &actor, sub, chrono::Utc::now()).await
                }));
            }
            for t in tasks {
                let res = t.await.expect("task");
                assert!(res.is_ok(), "no submission fails: {res:?}");
            }
            race_time += race_started.elapsed();
            let all = filings::list_round_filings(&store, &centre_admin(), r.id)
                .await
                .unwrap();
            assert_eq!(all.len(), CLIENTS + PREFILL as usize);
            check_round(&all, quota, &caps, k);
        }
    }
    let report = audit::verify(&store).await.unwrap();
    assert!(report.is_ok(), "audit chain intact: {report:?}");
    eprintln!(
        "{:?}: 100 rounds × 64 concurrent submissions in {:.1} s ({:.1} s in the races)",
        store.backend(),
        started.elapsed().as_secs_f64(),
        race_time.as_secs_f64()
    );
}

/// After each release the queue is what allocate says: the freed slot goes to the first waiting
/// filing whose institution still has cap, in queue order.
async fn r_fil_6_release_promotes_first_waiting_that_its_cap_allows(store: Store) {
    let a = institution(&store, 1, false).await;
    let b = institution(&store, 2, false).await;
    let c = institution(&store, 3, false).await;
    // P = 4, global cap 2.
    let r = published_round(&store, 2026, Half::Other, "释放测试", 4).await;
    let ag_a = signed(&store, r.id, a, 2).await;
    let ag_b = signed(&store, r.id, b, 1).await;
    let ag_c = signed(&store, r.id, c, 2).await;
    // Queue: A1 A2 B1 A3 B2 C1 C2  → A1 A2 B1 C1 hold (A at cap 2, B at cap 1), A3 B2 C2 wait.
    let order = [
        (a, ag_a),
        (a, ag_a),
        (b, ag_b),
        (a, ag_a),
        (b, ag_b),
        (c, ag_c),
        (c, ag_c),
    ];
    let mut ids = Vec::new();
    for (i, (inst, ag)) in order.iter().enumerate() {
        let f = filings::submit_without_package(
            &store,
            &inst_user(*inst, 1),
            submission(*ag),
            later(i as i64),
        )
        .await
        .unwrap();
        ids.push(f.id);
    }
    let state = |store: Store| async move {
        filings::list_round_filings(&store, &centre_admin(), r.id)
            .await
            .unwrap()
    };
    let holding = |v: &[FilingView]| -> Vec<i64> {
        v.iter()
            .filter(|f| f.slot_state == SlotState::Holding)
            .map(|f| f.id)
            .collect()
    };
    let v = state(store.clone()).await;
    assert_eq!(holding(&v), vec![ids[0], ids[1], ids[2], ids[5]]);
    // B's filing is rejected: its slot passes A3 (A at cap) and goes to B2 (B has cap again).
    let before = audit::count(&store).await.unwrap();
    let rej = filings::reject_filing(&store, &centre_staff(), ids[2], "材料不符合要求", later(10))
        .await
        .unwrap();
    assert_eq!(rej.slot_state, SlotState::Released);
    assert_eq!(rej.slot_no, None);
    assert_eq!(
        audit::count(&store).await.unwrap(),
        before + 1,
        "one audit row"
    );
    let v = state(store.clone()).await;
    assert_eq!(holding(&v), vec![ids[0], ids[1], ids[4], ids[5]]);
    let promoted = v.iter().find(|f| f.id == ids[4]).unwrap();
    assert_eq!(promoted.slot_no, Some(3), "the lowest free slot number");
    assert!(promoted.granted_at.is_some());
    // A withdraws A1: A3 (first waiting, A now has cap) is promoted.
    let w = filings::withdraw_filing(&store, &inst_user(a, 0), ids[0], later(11))
        .await
        .unwrap();
    assert_eq!(w.status, "withdrawn");
    let v = state(store.clone()).await;
    assert_eq!(holding(&v), vec![ids[1], ids[3], ids[4], ids[5]]);
    // Cancelled (sanction) by centre_admin: C1's slot goes to C2.
    filings::cancel_filing(
        &store,
        &centre_admin(),
        ids[5],
        CancelCause::Violation,
        "申报资料作假",
        later(12),
    )
    .await
    .unwrap();
    let v = state(store.clone()).await;
    assert_eq!(holding(&v), vec![ids[1], ids[3], ids[4], ids[6]]);
    // The queue is settled after every step.
    let caps: HashMap<i64, u32> = [(a, 2), (b, 1), (c, 2)].into_iter().collect();
    let mut left = caps.clone();
    for f in v.iter().filter(|f| f.slot_state == SlotState::Holding) {
        *left.get_mut(&f.institution_id).unwrap() -= 1;
    }
    let waiting: Vec<Waiting<i64, i64>> = v
        .iter()
        .filter(|f| f.slot_state == SlotState::Waiting)
        .map(|f| Waiting {
            filing: f.id,
            institution: f.institution_id,
        })
        .collect();
    assert!(is_settled(
        &Capacity {
            round_left: 0,
            cap_left: left
        },
        &waiting
    ));
    // A withdrawn filing cannot be withdrawn again.
    let again = filings::withdraw_filing(&store, &inst_user(a, 0), ids[0], later(13)).await;
    assert!(
        matches!(
            again,
            Err(StoreError::Validation {
                code: "WF_INVALID_TRANSITION",
                ..
            })
        ),
        "{again:?}"
    );
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_fil_6_return_keeps_slot_and_place(store: Store) {
    let a = institution(&store, 1, false).await;
    let r = published_round(&store, 2026, Half::Other, "退回测试", 2).await;
    let ag = signed(&store, r.id, a, 1).await;
    // Real packages: a resubmission is checked again and only a package filing is approved.
    let f1 = file_package(&store, &inst_user(a, 1), ag, d(2026, 4, 1), later(0))
        .await
        .unwrap();
    let f2 = file_package(&store, &inst_user(a, 1), ag, d(2026, 4, 1), later(1))
        .await
        .unwrap();
    assert_eq!(f1.slot_state, SlotState::Holding);
    assert_eq!(f2.slot_state, SlotState::Waiting, "cap 1 reached");
    // Items are required.
    let bad = filings::return_filing(&store, &centre_staff(), f1.id, vec![], later(2)).await;
    assert!(matches!(
        bad,
        Err(StoreError::Validation {
            code: "WF_CORRECTION_ITEMS_REQUIRED",
            ..
        })
    ));
    let ret = filings::return_filing(
        &store,
        &centre_staff(),
        f1.id,
        vec![CorrectionItem {
            field: "roster".into(),
            message: "花名册缺少身份证号".into(),
        }],
        later(3),
    )
    .await
    .unwrap();
    assert_eq!(ret.status, "returned");
    assert_eq!(ret.slot_state, SlotState::Holding);
    assert_eq!(ret.slot_no, f1.slot_no);
    assert_eq!(ret.queue_seq, f1.queue_seq);
    let f2_now = filings::get_filing(&store, &centre_staff(), f2.id)
        .await
        .unwrap();
    assert_eq!(
        f2_now.slot_state,
        SlotState::Waiting,
        "a return releases nothing"
    );
    let re = filings::resubmit_filing(&store, &inst_user(a, 1), f1.id, later(4))
        .await
        .unwrap();
    assert_eq!(
        (re.status.as_str(), re.slot_state),
        ("submitted", SlotState::Holding)
    );
    let ap = filings::approve_filing(&store, &centre_staff(), f1.id, later(5))
        .await
        .unwrap();
    assert_eq!(
        (ap.status.as_str(), ap.slot_state),
        ("approved", SlotState::Holding)
    );
}

async fn r_agr_1_terminated_agreement_refuses_filings(store: Store) {
    let a = institution(&store, 1, false).await;
    let b = institution(&store, 2, false).await;
    let r = published_round(&store, 2026, Half::Other, "中止测试", 4).await;
    let ag_a = signed(&store, r.id, a, 2).await;
    let ag_b = signed(&store, r.id, b, 2).await;
    let a1 = filings::submit_without_package(&store, &inst_user(a, 1), submission(ag_a), later(0))
        .await
        .unwrap();
    // Without a reason: refused.
    let no_reason = agreements::terminate_agreement(
        &store,
        &centre_admin(),
        ag_a,
        TerminationCause::Violation,
        "  ",
        later(1),
    )
    .await;
    assert!(matches!(
        no_reason,
        Err(StoreError::Validation {
            code: "WF_REASON_REQUIRED",
            ..
        })
    ));
    // Staff may not terminate.
    let staff = agreements::terminate_agreement(
        &store,
        &centre_staff(),
        ag_a,
        TerminationCause::Violation,
        "违规",
        later(1),
    )
    .await;
    assert!(
        matches!(staff, Err(StoreError::Forbidden { .. })),
        "{staff:?}"
    );
    let t = agreements::terminate_agreement(
        &store,
        &centre_admin(),
        ag_a,
        TerminationCause::Violation,
        "申报资料作假，即时中止履行培训协议",
        later(2),
    )
    .await
    .unwrap();
    assert_eq!(t.status_label, "已中止");
    let refused =
        filings::submit_without_package(&store, &inst_user(a, 1), submission(ag_a), later(3)).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Validation {
                code: "WF_AGREEMENT_TERMINATED",
                ..
            })
        ),
        "{refused:?}"
    );
    // The slot A already held is released by cancelling; B's filings still go through.
    filings::cancel_filing(
        &store,
        &centre_admin(),
        a1.id,
        CancelCause::Violation,
        "违规",
        later(4),
    )
    .await
    .unwrap();
    let b1 = filings::submit_without_package(&store, &inst_user(b, 1), submission(ag_b), later(5))
        .await
        .unwrap();
    assert_eq!(b1.slot_state, SlotState::Holding);
}

async fn s6_institution_b_cannot_use_or_touch_a_s_agreement_and_filings(store: Store) {
    let a = institution(&store, 1, false).await;
    let b = institution(&store, 2, false).await;
    let r = published_round(&store, 2026, Half::Other, "隔离测试", 4).await;
    let ag_a = signed(&store, r.id, a, 2).await;
    signed(&store, r.id, b, 2).await;
    let fa = filings::submit_without_package(&store, &inst_user(a, 1), submission(ag_a), later(0))
        .await
        .unwrap();
    let before = audit::count(&store).await.unwrap();
    let sub =
        filings::submit_without_package(&store, &inst_user(b, 1), submission(ag_a), later(1)).await;
    assert!(matches!(sub, Err(StoreError::Forbidden { .. })), "{sub:?}");
    let wd = filings::withdraw_filing(&store, &inst_user(b, 0), fa.id, later(1)).await;
    assert!(matches!(wd, Err(StoreError::Forbidden { .. })), "{wd:?}");
    let rs = filings::resubmit_filing(&store, &inst_user(b, 0), fa.id, later(1)).await;
    assert!(matches!(rs, Err(StoreError::Forbidden { .. })));
    assert!(matches!(
        filings::get_filing(&store, &inst_user(b, 0), fa.id).await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        agreements::get_agreement(&store, &inst_user(b, 0), ag_a).await,
        Err(StoreError::Forbidden { .. })
    ));
    // Lists show B only its own.
    let fl = filings::list_round_filings(&store, &inst_user(b, 0), r.id)
        .await
        .unwrap();
    assert!(fl.is_empty());
    let al = agreements::list_agreements(&store, &inst_user(b, 0), r.id)
        .await
        .unwrap();
    assert!(al.iter().all(|x| x.institution_id == b) && al.len() == 1);
    let apps = agreements::list_applications(&store, &inst_user(b, 0), r.id)
        .await
        .unwrap();
    assert!(apps.iter().all(|x| x.institution_id == b));
    // The centre cannot file or apply on an institution's behalf; an institution cannot decide.
    let centre =
        filings::submit_without_package(&store, &centre_admin(), submission(ag_a), later(1)).await;
    assert!(matches!(centre, Err(StoreError::Forbidden { .. })));
    let own_reject = filings::reject_filing(&store, &inst_user(a, 0), fa.id, "x", later(1)).await;
    assert!(
        matches!(own_reject, Err(StoreError::Forbidden { .. })),
        "{own_reject:?}"
    );
    // Refusals write nothing.
    assert_eq!(audit::count(&store).await.unwrap(), before);
    // Out of scope occupation refused.
    let mut s = submission(ag_a);
    s.occupation = "中式烹调师".into();
    let scope = filings::submit_without_package(&store, &inst_user(a, 1), s, later(2)).await;
    assert!(matches!(
        scope,
        Err(StoreError::Validation {
            code: "FIL_SCOPE",
            ..
        })
    ));
}

async fn s7_approver_is_not_the_submitter_and_waiting_cannot_be_approved(store: Store) {
    let a = institution(&store, 1, false).await;
    let r = published_round(&store, 2026, Half::Other, "批复测试", 2).await;
    let ag = signed(&store, r.id, a, 1).await;
    let submitter = inst_user(a, 1);
    let f1 = file_package(&store, &submitter, ag, d(2026, 4, 1), later(0))
        .await
        .unwrap();
    let f2 = file_package(&store, &submitter, ag, d(2026, 4, 1), later(1))
        .await
        .unwrap();
    // A centre account carrying the submitter's user id (as if one person held both).
    let same_person = Actor {
        user_id: submitter.user_id,
        ..centre_staff()
    };
    let selfie = filings::approve_filing(&store, &same_person, f1.id, later(2)).await;
    assert!(
        matches!(
            selfie,
            Err(StoreError::Validation {
                code: "WF_SELF_APPROVAL",
                ..
            })
        ),
        "{selfie:?}"
    );
    let waiting = filings::approve_filing(&store, &centre_staff(), f2.id, later(2)).await;
    assert!(
        matches!(
            waiting,
            Err(StoreError::Validation {
                code: "WF_NO_SLOT",
                ..
            })
        ),
        "{waiting:?}"
    );
    let ok = filings::approve_filing(&store, &centre_staff(), f1.id, later(3))
        .await
        .unwrap();
    assert_eq!(
        ok.decided_by.as_deref(),
        Some(centre_staff().username.as_str())
    );
}

async fn bulletin_shows_quota_queue_and_labels_nothing_personal(store: Store) {
    let a = institution(&store, 1, false).await;
    let b = institution(&store, 2, false).await;
    let r = published_round(&store, 2026, Half::Other, "公示测试", 3).await;
    let ag_a = signed(&store, r.id, a, 2).await;
    let ag_b = signed(&store, r.id, b, 2).await;
    let mut ids = Vec::new();
    for (i, (inst, ag)) in [(a, ag_a), (b, ag_b), (a, ag_a), (b, ag_b), (b, ag_b)]
        .iter()
        .enumerate()
    {
        ids.push(
            file_package(
                &store,
                &inst_user(*inst, 1),
                *ag,
                d(2026, 4, 1),
                later(i as i64),
            )
            .await
            .unwrap()
            .id,
        );
    }
    filings::approve_filing(&store, &centre_staff(), ids[0], later(10))
        .await
        .unwrap();
    filings::return_filing(
        &store,
        &centre_staff(),
        ids[1],
        vec![CorrectionItem {
            field: "documents.training_plan".into(),
            message: "培训计划缺页".into(),
        }],
        later(11),
    )
    .await
    .unwrap();
    filings::withdraw_filing(&store, &inst_user(b, 0), ids[3], later(12))
        .await
        .unwrap();
    let bl = bulletin::bulletin(&store, r.id).await.unwrap();
    assert_eq!(
        (bl.base_planned, bl.rolled_over, bl.planned_total),
        (3, 0, 3)
    );
    assert_eq!((bl.granted, bl.remaining), (3, 0));
    let labels: Vec<&str> = bl.entries.iter().map(|e| e.status_label.as_str()).collect();
    assert_eq!(
        labels,
        vec![
            "已批复",
            "退回修改（占用名额）",
            "占用名额",
            "已撤回",
            "候补"
        ]
    );
    assert_eq!(bl.entries[0].submitted_at, "2026-03-02 09:00:00");
    assert_eq!(bl.entries[4].submitted_at, "2026-03-02 09:04:00");
    let a_row = bl
        .institutions
        .iter()
        .find(|x| x.institution_name.contains("测试1号"))
        .unwrap();
    assert_eq!((a_row.approved, a_row.holding), (1, 2));
    let json = serde_json::to_string(&bl).unwrap();
    for personal in [
        "institution_staff-",
        "institution_admin-",
        "centre_staff-",
        "陈志强",
        "13800138000",
    ] {
        assert!(!json.contains(personal), "bulletin leaks {personal}");
    }
    let listed = bulletin::published_rounds(&store).await.unwrap();
    assert!(listed.iter().any(|x| x.id == r.id));
    // Drafts are not on the bulletin.
    let draft = peixun_store::rounds::create_round(
        &store,
        &centre_admin(),
        &round_input(2026, Half::Other, "草稿批次", 5),
        t0(),
    )
    .await
    .unwrap();
    assert!(matches!(
        bulletin::bulletin(&store, draft.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(
        !bulletin::published_rounds(&store)
            .await
            .unwrap()
            .iter()
            .any(|x| x.id == draft.id)
    );
}
