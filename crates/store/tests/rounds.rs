//! Plans, rounds, rollover, caps and agreements on SQLite and PostgreSQL: R-PLAN-1…4,
//! R-CAP-1…8, R-AGR-1, S10.

mod support;

use chrono::Duration;
use peixun_domain::cap::TrailKind;
use peixun_domain::workflow::round::{Half, RoundState};
use peixun_store::agreements::{
    self, ApplicationInput, CapOverrideInput, CapSource, PriorPerformanceInput, SignInput,
};
use peixun_store::filings::{self, SlotState};
use peixun_store::plans::{self, PlanDecision, PlanInput, PlanStatus};
use peixun_store::{Store, StoreError, audit, bulletin, inbox, rounds};
use rust_decimal::Decimal;
use std::str::FromStr;
use support::*;

support::on_both_backends!(
    r_plan_1_plan_co_approved_by_bureau_and_r_plan_4_history,
    r_plan_2_round_lifecycle_and_history,
    r_plan_3_h1_close_rolls_into_h2_waiting_not_granted_late_release,
    r_plan_3_pending_rollover_applied_when_h2_created_never_across_years,
    r_cap_2_first_agreement_centre_enters_cap_clamped,
    r_cap_7_trail_stored_and_reloaded_identical_c6_s95_p35_prev24_is_11,
    r_cap_8_override_needs_reason_and_trail_keeps_both,
    r_cap_3_suspended_institution_cannot_sign,
    r_cap_8_override_never_lifts_suspension,
    r_agr_1_one_agreement_per_round_and_institution,
    applications_window_and_scope,
    demo_seed_fills_the_bulletin,
);

fn plan_input(total: u32, budget: &str) -> PlanInput {
    PlanInput {
        year: 2026,
        total_classes: total,
        budget: Decimal::from_str(budget).unwrap(),
        note: String::new(),
    }
}

async fn r_plan_1_plan_co_approved_by_bureau_and_r_plan_4_history(store: Store) {
    // Only centre_admin drafts.
    let nope = plans::create_plan(&store, &bureau(), &plan_input(100, "1000000"), t0()).await;
    assert!(matches!(nope, Err(StoreError::Forbidden { .. })));
    let before = audit::count(&store).await.unwrap();
    let p = plans::create_plan(
        &store,
        &centre_admin(),
        &plan_input(100, "1250000.50"),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(audit::count(&store).await.unwrap(), before + 1);
    assert_eq!(p.status, PlanStatus::Draft);
    assert_eq!(p.budget, Decimal::from_str("1250000.5").unwrap());
    let dup = plans::create_plan(&store, &centre_admin(), &plan_input(10, "1"), t0()).await;
    assert!(matches!(
        dup,
        Err(StoreError::Conflict {
            code: "PLAN_YEAR_TAKEN",
            ..
        })
    ));
    let bad = plans::create_plan(
        &store,
        &centre_admin(),
        &PlanInput {
            year: 2027,
            ..plan_input(10, "1.005")
        },
        t0(),
    )
    .await;
    assert!(matches!(
        bad,
        Err(StoreError::Validation {
            code: "PLAN_BUDGET",
            ..
        })
    ));
    // A draft changes without a reason.
    plans::update_plan(
        &store,
        &centre_admin(),
        p.id,
        &plan_input(110, "1250000.50"),
        None,
        later(1),
    )
    .await
    .unwrap();
    plans::submit_plan(&store, &centre_admin(), p.id, later(2))
        .await
        .unwrap();
    // The centre cannot approve its own plan; the bureau returns with a comment.
    let self_ok = plans::decide_plan(
        &store,
        &centre_admin(),
        p.id,
        PlanDecision::Approve,
        "",
        later(3),
    )
    .await;
    assert!(matches!(self_ok, Err(StoreError::Forbidden { .. })));
    let no_comment =
        plans::decide_plan(&store, &bureau(), p.id, PlanDecision::Return, " ", later(3)).await;
    assert!(matches!(
        no_comment,
        Err(StoreError::Validation {
            code: "COMMENT_REQUIRED",
            ..
        })
    ));
    let ret = plans::decide_plan(
        &store,
        &bureau(),
        p.id,
        PlanDecision::Return,
        "预算偏高，请核减",
        later(3),
    )
    .await
    .unwrap();
    assert_eq!(ret.status, PlanStatus::Draft);
    assert_eq!(ret.bureau_comment.as_deref(), Some("预算偏高，请核减"));
    plans::update_plan(
        &store,
        &centre_admin(),
        p.id,
        &plan_input(110, "1200000"),
        None,
        later(4),
    )
    .await
    .unwrap();
    plans::submit_plan(&store, &centre_admin(), p.id, later(5))
        .await
        .unwrap();
    let ok = plans::decide_plan(
        &store,
        &bureau(),
        p.id,
        PlanDecision::Approve,
        "同意",
        later(6),
    )
    .await
    .unwrap();
    assert_eq!(ok.status, PlanStatus::Approved);
    // After approval a change needs a reason (R-PLAN-4).
    let no_reason = plans::update_plan(
        &store,
        &centre_admin(),
        p.id,
        &plan_input(120, "1200000"),
        None,
        later(7),
    )
    .await;
    assert!(matches!(
        no_reason,
        Err(StoreError::Validation {
            code: "CHANGE_REASON_REQUIRED",
            ..
        })
    ));
    plans::update_plan(
        &store,
        &centre_admin(),
        p.id,
        &plan_input(120, "1200000"),
        Some("区人社局追加培训任务"),
        later(8),
    )
    .await
    .unwrap();
    let h = plans::plan_history(&store, &bureau(), p.id).await.unwrap();
    let last = h.last().unwrap();
    assert_eq!(last.field, "total_classes");
    assert_eq!(last.old_value.as_deref(), Some("110"));
    assert_eq!(last.new_value.as_deref(), Some("120"));
    assert_eq!(last.reason.as_deref(), Some("区人社局追加培训任务"));
    assert_eq!(last.changed_by, centre_admin().username);
    assert_eq!(last.changed_at, later(8));
    assert!(
        h.iter()
            .any(|c| c.field == "status" && c.new_value.as_deref() == Some("approved"))
    );
    assert!(
        h.iter()
            .any(|c| c.field == "budget" && c.old_value.as_deref() == Some("1250000.5"))
    );
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_plan_2_round_lifecycle_and_history(store: Store) {
    let mut input = round_input(2026, Half::H1, "", 20);
    input.target_groups.push(rounds::TargetGroup {
        name: "残疾人".into(),
        required_share_percent: 5,
    });
    let r = rounds::create_round(&store, &centre_admin(), &input, t0())
        .await
        .unwrap();
    assert_eq!(r.label, "2026年上半年");
    assert_eq!(r.status, RoundState::Draft);
    assert_eq!(rounds::KEY_TARGET_GROUPS.len(), 6);
    // A draft is not public.
    assert!(matches!(
        rounds::get_round(&store, &inst_user(1, 0), r.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let again = rounds::create_round(&store, &centre_admin(), &input, t0()).await;
    assert!(matches!(
        again,
        Err(StoreError::Conflict {
            code: "ROUND_HALF_TAKEN",
            ..
        })
    ));
    let staff = rounds::publish_round(&store, &centre_staff(), r.id, t0()).await;
    assert!(
        matches!(staff, Err(StoreError::Forbidden { .. })),
        "{staff:?}"
    );
    let p = rounds::publish_round(&store, &centre_admin(), r.id, t0())
        .await
        .unwrap();
    assert_eq!(p.status, RoundState::Published);
    // Published: changes need a reason and are kept.
    input.base_planned = 24;
    let no_reason =
        rounds::update_round(&store, &centre_admin(), r.id, &input, None, later(1)).await;
    assert!(matches!(
        no_reason,
        Err(StoreError::Validation {
            code: "CHANGE_REASON_REQUIRED",
            ..
        })
    ));
    let u = rounds::update_round(
        &store,
        &centre_admin(),
        r.id,
        &input,
        Some("追加指标"),
        later(1),
    )
    .await
    .unwrap();
    assert_eq!(u.planned_total, 24);
    let h = plans::round_history(&store, &centre_staff(), r.id)
        .await
        .unwrap();
    let c = h.iter().find(|c| c.field == "base_planned").unwrap();
    assert_eq!(
        (
            c.old_value.as_deref(),
            c.new_value.as_deref(),
            c.reason.as_deref()
        ),
        (Some("20"), Some("24"), Some("追加指标"))
    );
    assert!(
        h.iter()
            .any(|c| c.field == "status" && c.new_value.as_deref() == Some("published"))
    );
    // Publishing twice is not a transition.
    let twice = rounds::publish_round(&store, &centre_admin(), r.id, t0()).await;
    assert!(matches!(
        twice,
        Err(StoreError::Validation {
            code: "WF_INVALID_TRANSITION",
            ..
        })
    ));
    // The window must be ordered.
    let mut bad = round_input(2026, Half::H2, "", 5);
    bad.window_end = bad.window_start - Duration::days(1);
    assert!(matches!(
        rounds::create_round(&store, &centre_admin(), &bad, t0()).await,
        Err(StoreError::Validation {
            code: "ROUND_WINDOW",
            ..
        })
    ));
}

async fn r_plan_3_h1_close_rolls_into_h2_waiting_not_granted_late_release(store: Store) {
    let a = institution(&store, 1, false).await;
    let b = institution(&store, 2, false).await;
    let c = institution(&store, 3, false).await;
    let h1 = published_round(&store, 2026, Half::H1, "", 10).await;
    let h2 = published_round(&store, 2026, Half::H2, "", 8).await;
    let ag_a = signed(&store, h1.id, a, 2).await;
    let ag_b = signed(&store, h1.id, b, 2).await;
    let ag_c = signed(&store, h1.id, c, 1).await;
    // A: 3 filings (2 hold, 1 waits); B: 2 hold, one withdrawn before the close; C: 1 holds.
    let mut f = Vec::new();
    for (i, (inst, ag)) in [
        (a, ag_a),
        (a, ag_a),
        (a, ag_a),
        (b, ag_b),
        (b, ag_b),
        (c, ag_c),
    ]
    .iter()
    .enumerate()
    {
        f.push(
            file_package(
                &store,
                &inst_user(*inst, 1),
                *ag,
                d(2026, 4, 1),
                later(i as i64),
            )
            .await
            .unwrap(),
        );
    }
    assert_eq!(f[2].slot_state, SlotState::Waiting);
    filings::withdraw_filing(&store, &inst_user(b, 0), f[4].id, later(10))
        .await
        .unwrap();
    filings::approve_filing(&store, &centre_staff(), f[0].id, later(11))
        .await
        .unwrap();
    // Held at the close: A 2 (one approved), B 1, C 1 → consumed 4, rollover 10 − 4 = 6.
    let rep = rounds::close_round(&store, &centre_admin(), h1.id, later(20))
        .await
        .unwrap();
    assert_eq!(rep.consumed, 4);
    assert_eq!(rep.rolled_over, 6);
    assert_eq!(rep.into_round, Some(h2.id));
    assert_eq!(rep.not_granted, vec![f[2].id]);
    assert_eq!(rep.round.consumed_at_close, Some(4));
    let nf = filings::get_filing(&store, &centre_staff(), f[2].id)
        .await
        .unwrap();
    assert_eq!(
        (nf.status.as_str(), nf.slot_state),
        ("not_granted", SlotState::NotGranted)
    );
    // A was told; B and C were not.
    let msgs = inbox::list_inbox(&store, &inst_user(a, 0), a)
        .await
        .unwrap();
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].body.contains("未获名额"), "{}", msgs[0].body);
    assert!(
        inbox::list_inbox(&store, &inst_user(b, 0), b)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        inbox::list_inbox(&store, &inst_user(b, 0), a).await,
        Err(StoreError::Forbidden { .. })
    ));
    // H2 shows base + rolled over, separately.
    let h2v = rounds::get_round(&store, &inst_user(a, 0), h2.id)
        .await
        .unwrap();
    assert_eq!(
        (h2v.base_planned, h2v.rolled_over, h2v.planned_total),
        (8, 6, 14)
    );
    let bl = bulletin::bulletin(&store, h2.id).await.unwrap();
    assert_eq!(
        (bl.base_planned, bl.rolled_over, bl.planned_total),
        (8, 6, 14)
    );
    let h1_bl = bulletin::bulletin(&store, h1.id).await.unwrap();
    assert!(h1_bl.entries.iter().any(|e| e.status_label == "未获名额"));
    // A closed round takes no filings.
    let closed = file_package(&store, &inst_user(c, 1), ag_c, d(2026, 4, 1), later(21)).await;
    assert!(
        matches!(
            closed,
            Err(StoreError::Validation {
                code: "WF_ROUND_NOT_OPEN",
                ..
            })
        ),
        "{closed:?}"
    );
    // A slot released after the close goes to H2's rollover, recorded as a plan change.
    filings::withdraw_filing(&store, &inst_user(c, 0), f[5].id, later(30))
        .await
        .unwrap();
    let h2v = rounds::get_round(&store, &centre_admin(), h2.id)
        .await
        .unwrap();
    assert_eq!(
        (h2v.base_planned, h2v.rolled_over, h2v.planned_total),
        (8, 7, 15)
    );
    let h = plans::round_history(&store, &centre_admin(), h2.id)
        .await
        .unwrap();
    let rolled: Vec<_> = h.iter().filter(|c| c.field == "rolled_over").collect();
    assert_eq!(rolled.len(), 2);
    assert_eq!(
        (
            rolled[1].old_value.as_deref(),
            rolled[1].new_value.as_deref()
        ),
        (Some("6"), Some("7"))
    );
    assert!(rolled[1].reason.as_deref().unwrap().contains("释放名额"));
    // An approved H1 class rejected late? Not possible; but a late cancel also rolls over.
    filings::cancel_filing(
        &store,
        &centre_admin(),
        f[0].id,
        peixun_domain::workflow::class::CancelCause::Violation,
        "违规",
        later(31),
    )
    .await
    .unwrap();
    let h2v = rounds::get_round(&store, &centre_admin(), h2.id)
        .await
        .unwrap();
    assert_eq!(h2v.rolled_over, 8);
    // The queue counters followed the close, the late releases and the rollover (issue 12).
    for r in [h1.id, h2.id] {
        assert_eq!(
            peixun_store::queue::counters(store.db(), r).await.unwrap(),
            peixun_store::queue::recount(store.db(), r).await.unwrap(),
            "round {r}"
        );
    }
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_plan_3_pending_rollover_applied_when_h2_created_never_across_years(store: Store) {
    let a = institution(&store, 1, false).await;
    // An H2 of 2026 exists; H1 of 2027 closes: nothing goes back to 2026.
    let h2_2026 = published_round(&store, 2026, Half::H2, "", 8).await;
    let mut h1_input = round_input(2027, Half::H1, "", 6);
    h1_input.window_start = d(2026, 3, 1);
    let h1 = rounds::create_round(&store, &centre_admin(), &h1_input, t0())
        .await
        .unwrap();
    rounds::publish_round(&store, &centre_admin(), h1.id, t0())
        .await
        .unwrap();
    let ag = signed(&store, h1.id, a, 3).await;
    filings::submit_without_package(&store, &inst_user(a, 1), submission(ag), later(1))
        .await
        .unwrap();
    let rep = rounds::close_round(&store, &centre_admin(), h1.id, later(5))
        .await
        .unwrap();
    assert_eq!(
        (rep.consumed, rep.rolled_over, rep.into_round),
        (1, 5, None)
    );
    assert_eq!(rep.round.rollover_pending, 5);
    let other_year = rounds::get_round(&store, &centre_admin(), h2_2026.id)
        .await
        .unwrap();
    assert_eq!(other_year.rolled_over, 0, "never across years");
    // Creating H2 of 2027 picks up the pending rollover.
    let h2 = rounds::create_round(
        &store,
        &centre_admin(),
        &round_input(2027, Half::H2, "", 4),
        later(6),
    )
    .await
    .unwrap();
    assert_eq!(
        (h2.base_planned, h2.rolled_over, h2.planned_total),
        (4, 5, 9)
    );
    let h1v = rounds::get_round(&store, &centre_admin(), h1.id)
        .await
        .unwrap();
    assert_eq!(h1v.rollover_pending, 0);
    let hist = plans::round_history(&store, &centre_admin(), h2.id)
        .await
        .unwrap();
    assert!(
        hist.iter()
            .any(|c| c.field == "rolled_over" && c.new_value.as_deref() == Some("5"))
    );
}

async fn r_cap_2_first_agreement_centre_enters_cap_clamped(store: Store) {
    let a = institution(&store, 1, false).await;
    let r = published_round(&store, 2026, Half::Other, "首次签约", 25).await;
    let app = agreements::apply_to_round(
        &store,
        &inst_user(a, 0),
        &ApplicationInput {
            round_id: r.id,
            occupations: vec![OCC.into()],
            classes_requested: 15,
            note: String::new(),
        },
        t0(),
    )
    .await
    .unwrap();
    let pv = agreements::cap_preview(&store, &centre_staff(), app.id, None)
        .await
        .unwrap();
    assert_eq!(pv.source, CapSource::First);
    assert!(pv.decision.is_none());
    let missing = agreements::sign_agreement(
        &store,
        &centre_admin(),
        &SignInput {
            application_id: app.id,
            first_cap: None,
            override_cap: None,
        },
        t0(),
    )
    .await;
    assert!(matches!(
        missing,
        Err(StoreError::Validation {
            code: "CAP_FIRST_REQUIRED",
            ..
        })
    ));
    let s = agreements::sign_agreement(
        &store,
        &centre_admin(),
        &SignInput {
            application_id: app.id,
            first_cap: Some(15),
            override_cap: None,
        },
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(s.cap, 13, "R-CAP-1: P = 25 → 13");
    assert!(s.decision.clamped);
    assert_eq!(s.policy_version, s.decision.policy_version);
    // Institutions see their own agreement and its trail.
    let own = agreements::get_agreement(&store, &inst_user(a, 1), s.id)
        .await
        .unwrap();
    assert_eq!(own.decision, s.decision);
}

async fn prev_and_current(store: &Store) -> (i64, i64) {
    // P_prev = 24 (an earlier round), P = 35.
    let prev = published_round(store, 2025, Half::H2, "", 24).await;
    let mut input = round_input(2026, Half::H1, "", 35);
    input.window_start = d(2026, 3, 1);
    let cur = rounds::create_round(store, &centre_admin(), &input, t0())
        .await
        .unwrap();
    rounds::publish_round(store, &centre_admin(), cur.id, t0())
        .await
        .unwrap();
    (prev.id, cur.id)
}

async fn perf(store: &Store, inst: i64, c: u32, s: &str) {
    agreements::record_prior_performance(
        store,
        &centre_admin(),
        &PriorPerformanceInput {
            institution_id: inst,
            round_label: "2025年下半年".into(),
            completed_on_time: c,
            score: s.parse().unwrap(),
            evidence: "海珠区2025年下半年绩效评估报告".into(),
        },
        t0(),
    )
    .await
    .unwrap();
}

async fn apply(store: &Store, round_id: i64, inst: i64) -> i64 {
    agreements::apply_to_round(
        store,
        &inst_user(inst, 0),
        &ApplicationInput {
            round_id,
            occupations: vec![OCC.into()],
            classes_requested: 20,
            note: String::new(),
        },
        t0(),
    )
    .await
    .unwrap()
    .id
}

async fn r_cap_7_trail_stored_and_reloaded_identical_c6_s95_p35_prev24_is_11(store: Store) {
    let a = institution(&store, 1, false).await;
    let (_, cur) = prev_and_current(&store).await;
    // Staff cannot record performance; a record is audited.
    let staff = agreements::record_prior_performance(
        &store,
        &centre_staff(),
        &PriorPerformanceInput {
            institution_id: a,
            round_label: "x".into(),
            completed_on_time: 1,
            score: "80".parse().unwrap(),
            evidence: "x".into(),
        },
        t0(),
    )
    .await;
    assert!(matches!(staff, Err(StoreError::Forbidden { .. })));
    let before = audit::count(&store).await.unwrap();
    perf(&store, a, 6, "95").await;
    assert_eq!(audit::count(&store).await.unwrap(), before + 1);
    let app = apply(&store, cur, a).await;
    let pv = agreements::cap_preview(&store, &centre_admin(), app, None)
        .await
        .unwrap();
    assert!(matches!(pv.source, CapSource::PriorPerformance { .. }));
    let d = pv.decision.clone().unwrap();
    assert_eq!(d.cap, 11, "R-CAP-6: exactly 10.5 → 11");
    assert_eq!(d.unrounded, Decimal::from_str("10.5").unwrap());
    let s = agreements::sign_agreement(
        &store,
        &centre_admin(),
        &SignInput {
            application_id: app,
            first_cap: None,
            override_cap: None,
        },
        t0(),
    )
    .await
    .unwrap();
    let reloaded = agreements::get_agreement(&store, &bureau(), s.id)
        .await
        .unwrap();
    assert_eq!(reloaded.decision, d, "trail stored and reloaded identical");
    assert_eq!(reloaded.cap, 11);
    let growth = reloaded
        .decision
        .trail
        .iter()
        .find(|t| t.kind == TrailKind::GrowthFactor)
        .unwrap();
    assert_eq!(growth.value, "35/24");
    assert!(reloaded.decision.trail.iter().all(|t| !t.label.is_empty()));
}

async fn r_cap_8_override_needs_reason_and_trail_keeps_both(store: Store) {
    let a = institution(&store, 1, true).await;
    let (_, cur) = prev_and_current(&store).await;
    perf(&store, a, 10, "85").await;
    let app = apply(&store, cur, a).await;
    let sign = |o: Option<CapOverrideInput>| {
        let store = store.clone();
        async move {
            agreements::sign_agreement(
                &store,
                &centre_admin(),
                &SignInput {
                    application_id: app,
                    first_cap: None,
                    override_cap: o,
                },
                t0(),
            )
            .await
        }
    };
    let no_reason = sign(Some(CapOverrideInput {
        cap: 9,
        reason: "  ".into(),
    }))
    .await;
    assert!(
        matches!(
            no_reason,
            Err(StoreError::Validation {
                code: "CAP_OVERRIDE_REASON",
                ..
            })
        ),
        "{no_reason:?}"
    );
    // Global cap for P = 35 is 18: an override above it is refused.
    let above = sign(Some(CapOverrideInput {
        cap: 19,
        reason: "需求大".into(),
    }))
    .await;
    assert!(matches!(
        above,
        Err(StoreError::Validation {
            code: "CAP_OVERRIDE_ABOVE_GLOBAL",
            ..
        })
    ));
    let s = sign(Some(CapOverrideInput {
        cap: 9,
        reason: "场地受限，机构申请减少".into(),
    }))
    .await
    .unwrap();
    // 10 × 1.1 × 1.1 × 35/24 = 17.6458… → 18, overridden to 9.
    assert_eq!((s.decision.computed_cap, s.cap), (18, 9));
    assert_eq!(s.decision.overrides.len(), 1);
    assert_eq!(s.decision.overrides[0].reason, "场地受限，机构申请减少");
    // A later override also needs a reason, keeps the history, and lets waiting filings in.
    let f1 = filings::submit_without_package(&store, &inst_user(a, 1), submission(s.id), later(1))
        .await
        .unwrap();
    assert_eq!(f1.slot_state, SlotState::Holding);
    let empty = agreements::override_cap(&store, &centre_admin(), s.id, 12, "", later(2)).await;
    assert!(matches!(
        empty,
        Err(StoreError::Validation {
            code: "CAP_OVERRIDE_REASON",
            ..
        })
    ));
    let staff = agreements::override_cap(&store, &centre_staff(), s.id, 12, "x", later(2)).await;
    assert!(matches!(staff, Err(StoreError::Forbidden { .. })));
    let o = agreements::override_cap(&store, &centre_admin(), s.id, 12, "追加任务", later(2))
        .await
        .unwrap();
    assert_eq!(o.cap, 12);
    assert_eq!(o.decision.overrides.len(), 2);
    assert_eq!(
        (o.decision.overrides[1].from, o.decision.overrides[1].to),
        (9, 12)
    );
    assert_eq!(
        o.decision
            .trail
            .iter()
            .filter(|t| t.kind == TrailKind::Override)
            .count(),
        2
    );
}

async fn r_cap_3_suspended_institution_cannot_sign(store: Store) {
    let a = institution(&store, 1, false).await;
    let b = institution(&store, 2, false).await;
    let (_, cur) = prev_and_current(&store).await;
    perf(&store, a, 10, "60").await;
    perf(&store, b, 10, "60.5").await;
    for inst in [a, b] {
        let app = apply(&store, cur, inst).await;
        let pv = agreements::cap_preview(&store, &centre_staff(), app, None)
            .await
            .unwrap();
        assert!(pv.decision.as_ref().unwrap().suspended);
        let before = audit::count(&store).await.unwrap();
        let r = agreements::sign_agreement(
            &store,
            &centre_admin(),
            &SignInput {
                application_id: app,
                first_cap: None,
                override_cap: None,
            },
            t0(),
        )
        .await;
        assert!(
            matches!(
                r,
                Err(StoreError::Validation {
                    code: "CAP_SUSPENDED",
                    ..
                })
            ),
            "{r:?}"
        );
        assert_eq!(
            audit::count(&store).await.unwrap(),
            before,
            "a refusal writes nothing"
        );
    }
}

/// R-CAP-3/R-CAP-8: "评分60分以下的，暂停签约分配指标" is not "原则上": a signing override, whatever
/// its figure and reason, is refused with the stable code, and nothing is written.
async fn r_cap_8_override_never_lifts_suspension(store: Store) {
    let a = institution(&store, 1, false).await;
    let (_, cur) = prev_and_current(&store).await;
    perf(&store, a, 10, "60").await;
    let app = apply(&store, cur, a).await;
    let before = audit::count(&store).await.unwrap();
    for cap in [0, 2, 5] {
        let r = agreements::sign_agreement(
            &store,
            &centre_admin(),
            &SignInput {
                application_id: app,
                first_cap: None,
                override_cap: Some(CapOverrideInput {
                    cap,
                    reason: "评估得分复核后上调，经中心会议研究".into(),
                }),
            },
            t0(),
        )
        .await;
        match r {
            Err(StoreError::Validation {
                code: "CAP_SUSPENDED",
                field,
                message,
            }) => {
                assert_eq!(field.as_deref(), Some("override_cap"));
                assert!(message.contains("调整上限不能解除暂停"), "{message}");
            }
            other => panic!("override {cap}: {other:?}"),
        }
    }
    assert_eq!(audit::count(&store).await.unwrap(), before);
    assert!(
        agreements::list_agreements(&store, &centre_admin(), cur)
            .await
            .unwrap()
            .is_empty()
    );
    // 61 is not suspended (10 × 0.9 × 35/24 = 13.125 → 13): the same override is accepted and
    // the trail keeps both values.
    perf(&store, a, 10, "61").await;
    let s = agreements::sign_agreement(
        &store,
        &centre_admin(),
        &SignInput {
            application_id: app,
            first_cap: None,
            override_cap: Some(CapOverrideInput {
                cap: 2,
                reason: "场地受限".into(),
            }),
        },
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(
        (s.cap, s.decision.computed_cap, s.decision.suspended),
        (2, 13, false)
    );
}

async fn r_agr_1_one_agreement_per_round_and_institution(store: Store) {
    let a = institution(&store, 1, false).await;
    let r = published_round(&store, 2026, Half::Other, "唯一", 10).await;
    let app = apply(&store, r.id, a).await;
    let input = SignInput {
        application_id: app,
        first_cap: Some(3),
        override_cap: None,
    };
    agreements::sign_agreement(&store, &centre_admin(), &input, t0())
        .await
        .unwrap();
    let again = agreements::sign_agreement(&store, &centre_admin(), &input, t0()).await;
    assert!(
        matches!(
            again,
            Err(StoreError::Conflict {
                code: "AGREEMENT_EXISTS",
                ..
            })
        ),
        "{again:?}"
    );
    let staff = agreements::sign_agreement(&store, &centre_staff(), &input, t0()).await;
    assert!(matches!(staff, Err(StoreError::Forbidden { .. })));
    let dup = agreements::apply_to_round(
        &store,
        &inst_user(a, 1),
        &ApplicationInput {
            round_id: r.id,
            occupations: vec![OCC.into()],
            classes_requested: 2,
            note: String::new(),
        },
        t0(),
    )
    .await;
    assert!(matches!(
        dup,
        Err(StoreError::Conflict {
            code: "APP_DUPLICATE",
            ..
        })
    ));
}

async fn applications_window_and_scope(store: Store) {
    let a = institution(&store, 1, false).await;
    let r = published_round(&store, 2026, Half::Other, "窗口", 10).await;
    let input = |occ: &str| ApplicationInput {
        round_id: r.id,
        occupations: vec![occ.into()],
        classes_requested: 2,
        note: String::new(),
    };
    let scope =
        agreements::apply_to_round(&store, &inst_user(a, 0), &input("中式烹调师"), t0()).await;
    assert!(matches!(
        scope,
        Err(StoreError::Validation {
            code: "APP_SCOPE",
            ..
        })
    ));
    // 2026-04-01 is after the window (2026-03-01 … 2026-03-31, Asia/Shanghai).
    let late = agreements::apply_to_round(
        &store,
        &inst_user(a, 0),
        &input(OCC),
        t0() + Duration::days(30),
    )
    .await;
    assert!(
        matches!(
            late,
            Err(StoreError::Validation {
                code: "APP_WINDOW",
                ..
            })
        ),
        "{late:?}"
    );
    let centre = agreements::apply_to_round(&store, &centre_admin(), &input(OCC), t0()).await;
    assert!(matches!(centre, Err(StoreError::Forbidden { .. })));
    let ok = agreements::apply_to_round(&store, &inst_user(a, 0), &input(OCC), t0())
        .await
        .unwrap();
    assert_eq!(ok.institution_id, a);
}

async fn demo_seed_fills_the_bulletin(store: Store) {
    peixun_store::demo::seed_demo(&store, &package_files(), &roster_key(), t0())
        .await
        .unwrap();
    let published = bulletin::published_rounds(&store).await.unwrap();
    // H1 and H2 (the demo also has a special round for the running-class pages).
    assert_eq!(
        published.iter().filter(|r| r.half != Half::Other).count(),
        2
    );
    let h2 = published.iter().find(|r| r.half == Half::H2).unwrap();
    let h1 = published.iter().find(|r| r.half == Half::H1).unwrap();
    assert_eq!(h1.status, RoundState::Closed);
    assert!(h2.rolled_over > 0, "H1's unconsumed quota rolled into H2");
    assert_eq!(h2.planned_total, h2.base_planned + h2.rolled_over);
    let b = bulletin::bulletin(&store, h2.id).await.unwrap();
    // The rounds seed's 20 filings and institution B's package from the package seed (A's
    // packages are under its special-round agreement).
    assert_eq!(b.entries.len(), 21);
    let labels: std::collections::BTreeSet<&str> =
        b.entries.iter().map(|e| e.status_label.as_str()).collect();
    for l in ["已批复", "占用名额", "退回修改（占用名额）"] {
        assert!(labels.contains(l), "{l} in {labels:?}");
    }
    let b1 = bulletin::bulletin(&store, h1.id).await.unwrap();
    let labels1: std::collections::BTreeSet<&str> =
        b1.entries.iter().map(|e| e.status_label.as_str()).collect();
    for l in ["已批复", "已退回（不予备案）", "已撤回"] {
        assert!(labels1.contains(l), "{l} in {labels1:?}");
    }
    eprintln!("{}", serde_json::to_string_pretty(&b).unwrap());
    eprintln!("H1 labels {labels1:?}");
    assert!(audit::verify(&store).await.unwrap().is_ok());
}
