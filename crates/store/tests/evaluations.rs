//! Evaluations from the records (R-EVA-1) and the next cap from them (R-CAP-3), on SQLite and
//! PostgreSQL: the evaluation of seeded records equals a hand-worked example; opening is refused
//! while a class is unfinished; a flagged component blocks confirmation until adjusted or
//! accepted; only centre_admin confirms; adjustments are audited; the next cap preview cites the
//! previous agreement and its confirmed evaluation and equals the domain's cap computation;
//! institution B cannot read A's evaluation (S6).

mod support;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use peixun_domain::cap::{CapBasis, CapInput, compute_cap};
use peixun_domain::evaluation::ComponentKey;
use peixun_domain::policy::Policy;
use peixun_domain::workflow::round::Half;
use peixun_store::agreements::{self, ApplicationInput, CapSource};
use peixun_store::evaluations::{self, AdjustmentInput, EvaluationFilter, EvaluationState};
use peixun_store::inspections::{self, FindingSeverity, InspectionInput, InspectionKind};
use peixun_store::ready_package::{self, ReadyPackage};
use peixun_store::{PageRequest, Store, StoreError, filings, overdue, running, surveys};
use rust_decimal_macros::dec;
use sea_orm::{ConnectionTrait, Statement};
use std::collections::BTreeMap;
use support::*;

support::on_both_backends!(
    r_eva_1_evaluation_from_records_equals_hand_worked_example_and_r_cap_3_next_cap,
    r_eva_1_opening_refused_while_a_class_is_in_training,
    s6_institution_b_cannot_read_a_s_evaluation,
);

/// `y-m-d 09:00` Asia/Shanghai.
fn at(day: NaiveDate) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(day.year(), day.month(), day.day(), 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

struct Class {
    id: i64,
    inst: i64,
    people: Vec<(String, String)>,
}

async fn approved_class(
    store: &Store,
    inst: i64,
    agreement: i64,
    trainees: usize,
    seed: u64,
) -> Class {
    let mut spec = ReadyPackage::new(agreement, OCC, LEVEL, start());
    spec.trainees = trainees;
    spec.roster_seed = seed;
    let people = peixun_store::roster::synthetic_rows(trainees, seed)
        .into_iter()
        .map(|r| (r[0].clone(), r[2].clone()))
        .collect();
    let f = ready_package::file(
        store,
        &package_files(),
        &roster_key(),
        &inst_user(inst, 1),
        &spec,
        t0(),
    )
    .await
    .unwrap();
    filings::approve_filing(store, &centre_staff(), f.id, later(5))
        .await
        .unwrap();
    running::start_training(store, &inst_user(inst, 1), f.id, at(start()))
        .await
        .unwrap();
    Class {
        id: f.id,
        inst,
        people,
    }
}

fn start() -> NaiveDate {
    d(2026, 4, 1)
}

async fn completed(store: &Store, c: &Class, done: NaiveDate) {
    let u = inst_user(c.inst, 1);
    running::complete_training(store, &u, c.id, done, at(done))
        .await
        .unwrap();
    running::complete_exam(store, &u, c.id, done, at(done))
        .await
        .unwrap();
}

async fn answer(store: &Store, c: &Class, overall: &[u8]) {
    let token = surveys::class_survey(store, &centre_staff(), c.id, at(start()))
        .await
        .unwrap()
        .token;
    surveys::set_closing_date(
        store,
        &centre_staff(),
        c.id,
        Some(d(2026, 6, 30)),
        at(start()),
    )
    .await
    .unwrap();
    for (i, o) in overall.iter().enumerate() {
        let (name, id) = c.people[i].clone();
        let mut a: BTreeMap<String, String> = ["teaching", "teacher", "organisation", "venue"]
            .iter()
            .map(|k| (k.to_string(), "4".to_string()))
            .collect();
        a.insert("overall".into(), o.to_string());
        surveys::respond(
            store,
            &token,
            &name,
            &id[id.len() - 4..],
            &a,
            at(d(2026, 4, 20)),
        )
        .await
        .unwrap();
    }
}

async fn inspect(
    store: &Store,
    class: i64,
    on: NaiveDate,
    severity: Option<FindingSeverity>,
    due: Option<NaiveDate>,
) -> i64 {
    inspections::record_inspection(
        store,
        &centre_staff(),
        &InspectionInput {
            severity,
            filing_id: class,
            inspected_on: on,
            kind: InspectionKind::OnSite,
            findings: if severity.is_some() {
                "签到表缺页"
            } else {
                "未发现问题"
            }
            .into(),
            photos: Vec::new(),
            rectification_required: due.is_some(),
            rectification_due: due,
        },
        at(on),
    )
    .await
    .unwrap()
    .id
}

async fn audit_count(store: &Store, action: &str) -> i64 {
    let backend = store.db().get_database_backend();
    let row = store
        .db()
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

/// The seeded agreement: cap 4; three approved classes of 20, 21 and 20 trainees started on
/// 2026-04-01 (c1 and c3 are completed on time, c2 becomes overdue, by each test). Returns (institution, agreement, c1, c2, c3).
async fn seeded(store: &Store, n: u32) -> (i64, i64, Class, Class, Class) {
    let r = published_round(store, 2026, Half::H1, "2026年上半年", 40).await;
    let inst = institution(store, n, false).await;
    let a = signed(store, r.id, inst, 4).await;
    let c1 = approved_class(store, inst, a, 20, 8101).await;
    let c2 = approved_class(store, inst, a, 21, 8102).await;
    let c3 = approved_class(store, inst, a, 20, 8103).await;
    (inst, a, c1, c2, c3)
}

async fn r_eva_1_evaluation_from_records_equals_hand_worked_example_and_r_cap_3_next_cap(
    store: Store,
) {
    let (inst, a, c1, c2, c3) = seeded(&store, 1).await;
    // Supervision: c1 inspected on 04-08 with a general finding, rectification due 04-10,
    // closed on 04-15 (late); c3 inspected, nothing found.
    let i1 = inspect(
        &store,
        c1.id,
        d(2026, 4, 8),
        Some(FindingSeverity::General),
        Some(d(2026, 4, 10)),
    )
    .await;
    inspections::report_rectification(
        &store,
        &inst_user(inst, 1),
        i1,
        "已补齐签到表",
        at(d(2026, 4, 14)),
    )
    .await
    .unwrap();
    inspections::close_inspection(&store, &centre_staff(), i1, "复核通过", at(d(2026, 4, 15)))
        .await
        .unwrap();
    inspect(&store, c3.id, d(2026, 4, 9), None, None).await;
    // Satisfaction: c1 overall 5, 4, 5; c2 overall 3.
    answer(&store, &c1, &[5, 4, 5]).await;
    answer(&store, &c2, &[3]).await;
    completed(&store, &c1, d(2026, 4, 26)).await;
    completed(&store, &c3, d(2026, 4, 27)).await;
    // c2 passes its last day without completing: overdue.
    overdue::sweep(&store, d(2026, 5, 5), at(d(2026, 5, 5)))
        .await
        .unwrap();

    let v = evaluations::open_evaluation(&store, &centre_staff(), a, at(d(2026, 5, 6)))
        .await
        .unwrap();
    // Hand-worked, in SPEC.md R-EVA-1's terms:
    // - approved = 3 (c1, c2, c3), on-time completed = 2 (c1, c3; c2 overdue), cap = 4:
    //   task = 100 × (0.7 × 2/3 + 0.3 × min(1, 3/4)) = 100 × (7/15 + 0.225) = 415/6 ≈ 69.166667;
    // - one general finding (−5), one rectification closed after its due date (−10):
    //   supervision = 100 − 5 − 10 = 85;
    // - archives of the completed classes c1, c3: no document uploaded → 0 % each: mean 0;
    // - satisfaction: 4 answers, overall 5 + 4 + 5 + 3 = 17, mean 4.25:
    //   (4.25 − 1) / 4 × 100 = 81.25; response rate 4 / 61 < 30 % → flagged;
    // - score = (40 × 415/6 + 20 × 85 + 20 × 0 + 20 × 81.25) / 100 = 731/12 ≈ 60.916667 → 60.9
    //   (below 61: as computed it would suspend the next agreement, R-CAP-3).
    assert_eq!((v.input.approved, v.input.on_time, v.input.cap), (3, 2, 4));
    assert_eq!(
        (
            v.input.general_findings,
            v.input.serious_findings,
            v.input.late_rectifications
        ),
        (1, 0, 1)
    );
    let c = |k: ComponentKey| v.components.iter().find(|c| c.key == k).unwrap().clone();
    assert_eq!(
        c(ComponentKey::TaskCompletion).computed_text,
        "415/6 ≈ 69.166667"
    );
    assert_eq!(c(ComponentKey::Supervision).computed, dec!(85));
    assert_eq!(c(ComponentKey::Archives).computed, dec!(0));
    assert_eq!(c(ComponentKey::Satisfaction).computed, dec!(81.25));
    assert!(c(ComponentKey::Satisfaction).needs_decision);
    assert_eq!(v.score, dec!(60.9));
    assert_eq!(v.unrounded, "731/12 ≈ 60.916667");
    assert!(v.suspended);
    assert_eq!(v.state, EvaluationState::Open);

    // Confirm refused while satisfaction is flagged, and for centre_staff.
    let e = evaluations::confirm_evaluation(&store, &centre_admin(), v.id, at(d(2026, 5, 7)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Validation {
                code: "EVA_FLAGGED",
                ..
            }
        ),
        "{e:?}"
    );
    // Adjust archives (documents were kept on paper) and accept satisfaction: both audited.
    let before = audit_count(&store, "evaluation.adjust").await;
    let e = evaluations::adjust_component(
        &store,
        &centre_staff(),
        v.id,
        &AdjustmentInput {
            key: ComponentKey::Archives,
            value: Some(dec!(90)),
            reason: "  ".into(),
        },
        at(d(2026, 5, 7)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, StoreError::Validation { field: Some(ref f), .. } if f == "reason"),
        "{e:?}"
    );
    let v = evaluations::adjust_component(
        &store,
        &centre_staff(),
        v.id,
        &AdjustmentInput {
            key: ComponentKey::Archives,
            value: Some(dec!(90)),
            reason: "纸质档案经现场核查齐全".into(),
        },
        at(d(2026, 5, 7)),
    )
    .await
    .unwrap();
    assert_eq!(audit_count(&store, "evaluation.adjust").await, before + 1);
    let ar = c(ComponentKey::Archives);
    let ar_now = v
        .components
        .iter()
        .find(|c| c.key == ComponentKey::Archives)
        .unwrap();
    assert_eq!(
        (ar.computed, ar_now.adjusted, ar_now.effective),
        (dec!(0), Some(dec!(90)), dec!(90))
    );
    // 731/12 + 20 × 90 / 100 = 947/12 ≈ 78.916667 → 78.9
    assert_eq!(v.score, dec!(78.9));
    let v = evaluations::adjust_component(
        &store,
        &centre_staff(),
        v.id,
        &AdjustmentInput {
            key: ComponentKey::Satisfaction,
            value: None,
            reason: "回收率低，但结果与现场访谈一致".into(),
        },
        at(d(2026, 5, 7)),
    )
    .await
    .unwrap();
    assert_eq!(audit_count(&store, "evaluation.accept").await, 1);
    let e = evaluations::confirm_evaluation(&store, &centre_staff(), v.id, at(d(2026, 5, 8)))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e:?}");

    // R-CAP-3 before confirmation: the next round's preview is blocked and says why.
    let r2 = published_round(&store, 2026, Half::H2, "2026年下半年", 40).await;
    let app = agreements::apply_to_round(
        &store,
        &inst_user(inst, 0),
        &ApplicationInput {
            round_id: r2.id,
            occupations: vec![OCC.into()],
            classes_requested: 3,
            note: String::new(),
        },
        t0(),
    )
    .await
    .unwrap();
    let e = agreements::cap_preview_on(&store, &centre_admin(), app.id, None, d(2026, 5, 8))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Validation { code: "CAP_PENDING_EVALUATION", message, .. } if message.contains("待评估")),
        "{e:?}"
    );

    let v = evaluations::confirm_evaluation(&store, &centre_admin(), v.id, at(d(2026, 5, 8)))
        .await
        .unwrap();
    assert_eq!(v.state, EvaluationState::Confirmed);
    assert_eq!(v.score, dec!(78.9));
    assert_eq!(v.next_cap_factor, Some(dec!(1.0)));
    assert_eq!(v.on_time_completed, 2);
    assert!(v.confirmed_at.is_some());
    // No change after confirmation.
    assert!(
        evaluations::recompute(&store, &centre_admin(), v.id, at(d(2026, 5, 9)))
            .await
            .is_err()
    );

    // R-CAP-3: C = 2, S = 78.9 → 2 × 1.0 = 2 (P = P_prev = 40), as the domain computes it.
    let p = agreements::cap_preview_on(&store, &centre_admin(), app.id, None, d(2026, 5, 9))
        .await
        .unwrap();
    match &p.source {
        CapSource::Evaluation {
            agreement_id,
            evaluation_id,
            completed_on_time,
            score,
            ..
        } => {
            assert_eq!(
                (*agreement_id, *evaluation_id, *completed_on_time),
                (a, v.id, 2)
            );
            assert_eq!(score.to_string(), "78.9");
        }
        other => panic!("{other:?}"),
    }
    let d1 = p.decision.unwrap();
    let expected = compute_cap(
        &CapInput {
            planned: 40,
            prev_planned: Some(40),
            basis: CapBasis::Later {
                prev_completed: 2,
                score: "78.9".parse().unwrap(),
            },
            major: false,
        },
        &Policy::haizhu_default(),
    )
    .unwrap();
    assert_eq!(d1.cap, expected.cap);
    assert_eq!(d1.cap, 2);
    let src = &d1.trail[0];
    assert!(
        src.note.contains(&format!("/agreements/{a}"))
            && src.note.contains(&format!("/evaluations/{}", v.id)),
        "{src:?}"
    );
    assert_eq!(&d1.trail[1..], &expected.trail[..]);

    // The report's list.
    let list = evaluations::round_evaluations(&store, &bureau(), v.round_id)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].round_label, "2026年上半年");
}

async fn r_eva_1_opening_refused_while_a_class_is_in_training(store: Store) {
    let (_inst, a, c1, _c2, c3) = seeded(&store, 2).await;
    completed(&store, &c1, d(2026, 4, 26)).await;
    completed(&store, &c3, d(2026, 4, 26)).await;
    let e = evaluations::open_evaluation(&store, &centre_staff(), a, at(d(2026, 4, 27)))
        .await
        .unwrap_err();
    match e {
        StoreError::Validation { code, message, .. } => {
            assert_eq!(code, "EVA_CLASSES_UNFINISHED");
            assert!(message.contains("培训中"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Institutions and the bureau cannot open one.
    let e = evaluations::open_evaluation(&store, &bureau(), a, at(d(2026, 4, 27)))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }));
    assert!(
        evaluations::list_evaluations(
            &store,
            &centre_admin(),
            &EvaluationFilter::default(),
            &PageRequest::default()
        )
        .await
        .unwrap()
        .items
        .is_empty()
    );
}

async fn s6_institution_b_cannot_read_a_s_evaluation(store: Store) {
    let (inst, a, c1, c2, c3) = seeded(&store, 3).await;
    for c in [&c1, &c2, &c3] {
        completed(&store, c, d(2026, 4, 26)).await;
    }
    let v = evaluations::open_evaluation(&store, &centre_admin(), a, at(d(2026, 4, 27)))
        .await
        .unwrap();
    let b = institution(&store, 4, false).await;
    let e = evaluations::get_evaluation(&store, &inst_user(b, 1), v.id)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    let page = evaluations::list_evaluations(
        &store,
        &inst_user(b, 1),
        &EvaluationFilter::default(),
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert!(page.items.is_empty());
    assert!(
        evaluations::round_evaluations(&store, &inst_user(b, 1), v.round_id)
            .await
            .unwrap()
            .is_empty()
    );
    // A sees its own; the bureau reads all.
    assert_eq!(
        evaluations::get_evaluation(&store, &inst_user(inst, 1), v.id)
            .await
            .unwrap()
            .id,
        v.id
    );
    assert_eq!(
        evaluations::get_evaluation(&store, &bureau(), v.id)
            .await
            .unwrap()
            .id,
        v.id
    );
}
