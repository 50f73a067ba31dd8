//! The trainee satisfaction survey (R-EVA-3) and its input to R-EVA-1, on SQLite and
//! PostgreSQL: a name/ID pair not on the roster is refused (the same answer whether or not the
//! name exists), a second answer is refused, nothing is taken after the closing date or from a
//! class that has not started; stats are exact counts; `agreement_satisfaction` sums only the
//! completed and overdue classes of that agreement; answers cannot be joined to respondents;
//! institution B cannot see A's survey (S6).

mod support;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use peixun_domain::survey::{Question, QuestionKind, default_questionnaire};
use peixun_store::ready_package::{self, ReadyPackage};
use peixun_store::surveys::{self, SatisfactionStats, SurveyOpen};
use peixun_store::{Store, StoreError, filings, overdue, rounds, running};
use rust_decimal_macros::dec;
use sea_orm::{ConnectionTrait, Statement};
use std::collections::BTreeMap;
use support::*;

support::on_both_backends!(
    r_eva_3_refuses_a_pair_not_on_the_roster_and_a_second_answer,
    r_eva_3_closing_date_and_class_state_gate_answers,
    r_eva_3_stats_are_exact_and_questionnaire_is_per_round,
    r_eva_1_agreement_satisfaction_sums_only_ran_classes_of_that_agreement,
    r_eva_3_responses_cannot_be_linked_to_respondents,
    s6_institution_b_cannot_see_a_s_survey,
);

/// `y-m-d 09:00` Asia/Shanghai.
fn on(y: i32, m: u32, dd: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, dd, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn at(day: NaiveDate) -> DateTime<Utc> {
    on(day.year(), day.month(), day.day())
}

struct Class {
    id: i64,
    inst: i64,
    agreement: i64,
    /// (name, ID number) in roster order.
    people: Vec<(String, String)>,
}

async fn round_id(store: &Store) -> i64 {
    match rounds::list_rounds(store, &centre_admin())
        .await
        .unwrap()
        .first()
    {
        Some(r) => r.id,
        None => {
            published_round(
                store,
                2026,
                peixun_domain::workflow::round::Half::H1,
                "2026上半年",
                40,
            )
            .await
            .id
        }
    }
}

/// A class of `agreement` (institution `inst`) starting on `start`, filed and approved.
async fn approved_class(
    store: &Store,
    inst: i64,
    agreement: i64,
    start: NaiveDate,
    trainees: usize,
    seed: u64,
) -> Class {
    let mut spec = ReadyPackage::new(agreement, OCC, LEVEL, start);
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
    Class {
        id: f.id,
        inst,
        agreement,
        people,
    }
}

const START: (i32, u32, u32) = (2026, 4, 1);

fn start() -> NaiveDate {
    d(START.0, START.1, START.2)
}

async fn started(store: &Store, c: &Class, day: NaiveDate) {
    running::start_training(store, &inst_user(c.inst, 1), c.id, at(day))
        .await
        .unwrap();
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

/// Institution `n` with a signed agreement and one class, started on its start date.
async fn running_class(store: &Store, n: u32, trainees: usize) -> Class {
    let rid = round_id(store).await;
    let inst = institution(store, n, false).await;
    let a = signed(store, rid, inst, 10).await;
    let c = approved_class(store, inst, a, start(), trainees, 7000 + n as u64).await;
    started(store, &c, start()).await;
    c
}

fn answers(v: [u8; 5], comment: &str) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> =
        ["teaching", "teacher", "organisation", "venue", "overall"]
            .iter()
            .zip(v)
            .map(|(k, r)| (k.to_string(), r.to_string()))
            .collect();
    if !comment.is_empty() {
        m.insert("comment".into(), comment.into());
    }
    m
}

fn last4(id: &str) -> &str {
    &id[id.len() - 4..]
}

async fn token_of(store: &Store, c: &Class) -> String {
    surveys::class_survey(store, &centre_staff(), c.id, at(start()))
        .await
        .unwrap()
        .token
}

async fn count(store: &Store, table: &str) -> i64 {
    let backend = store.db().get_database_backend();
    let row = store
        .db()
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

async fn r_eva_3_refuses_a_pair_not_on_the_roster_and_a_second_answer(store: Store) {
    let c = running_class(&store, 1, 20).await;
    let token = token_of(&store, &c).await;
    assert_eq!(token.len(), 32);
    let day = d(2026, 4, 9);
    let (name, id) = c.people[3].clone();
    let audit_before = count(&store, "audit_log").await;

    // A real name with wrong digits and an unknown name answer alike.
    let wrong_digits = if last4(&id) == "0000" { "1111" } else { "0000" };
    let e1 = surveys::respond(
        &store,
        &token,
        &name,
        wrong_digits,
        &answers([5; 5], ""),
        at(day),
    )
    .await
    .unwrap_err();
    let e2 = surveys::respond(
        &store,
        &token,
        "查无此人",
        last4(&id),
        &answers([5; 5], ""),
        at(day),
    )
    .await
    .unwrap_err();
    assert_eq!(e1.code(), "SURVEY_NOT_ON_ROSTER");
    assert_eq!(e1.to_string(), e2.to_string());
    assert!(e1.to_string().contains("姓名或身份证号后4位与花名册不符"));
    // Missing ratings and identification: every field listed, nothing written.
    let mut partial = answers([4; 5], "");
    partial.remove("venue");
    let e = surveys::respond(&store, &token, "", "12", &partial, at(day))
        .await
        .unwrap_err();
    let fields: Vec<String> = e.problems().into_iter().filter_map(|p| p.field).collect();
    assert_eq!(fields, ["name", "id_last4", "venue"]);
    assert_eq!(count(&store, "survey_responses").await, 0);
    assert_eq!(count(&store, "survey_respondents").await, 0);

    // The right pair (lower-case x and spaces in the name tolerated) answers once.
    let spaced: String = name.chars().flat_map(|ch| [ch, ' ']).collect();
    surveys::respond(
        &store,
        &token,
        &spaced,
        &last4(&id).to_lowercase(),
        &answers([5, 4, 4, 5, 5], "老师讲得很好"),
        at(day),
    )
    .await
    .unwrap();
    let e = surveys::respond(
        &store,
        &token,
        &name,
        last4(&id),
        &answers([1; 5], ""),
        at(day),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "SURVEY_ALREADY_ANSWERED");
    assert!(e.to_string().contains("您已提交过问卷"));
    assert_eq!(count(&store, "survey_responses").await, 1);
    // No audit row names the respondent (none is written by an answer).
    assert_eq!(count(&store, "audit_log").await, audit_before);
    // An unknown or malformed token: NotFound.
    for t in ["0".repeat(32), "not-a-token".to_string()] {
        let e = surveys::respond(&store, &t, &name, last4(&id), &answers([5; 5], ""), at(day))
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    }
}

async fn r_eva_3_closing_date_and_class_state_gate_answers(store: Store) {
    let rid = round_id(&store).await;
    let inst = institution(&store, 2, false).await;
    let a = signed(&store, rid, inst, 10).await;
    let c = approved_class(&store, inst, a, start(), 20, 7100).await;
    let token = token_of(&store, &c).await;
    let (name, id) = c.people[0].clone();
    // Before training: not open.
    let p = surveys::public_survey(&store, &token, at(d(2026, 3, 30)))
        .await
        .unwrap();
    assert_eq!(p.open, SurveyOpen::NotYet);
    let e = surveys::respond(
        &store,
        &token,
        &name,
        last4(&id),
        &answers([5; 5], ""),
        at(d(2026, 3, 30)),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "SURVEY_NOT_OPEN");
    started(&store, &c, start()).await;
    // Default closing: planned end (start + 9) + 7 days.
    let v = surveys::class_survey(&store, &centre_staff(), c.id, at(start()))
        .await
        .unwrap();
    assert_eq!(v.closes_on, d(2026, 4, 17));
    assert!(v.closes_on_is_default);
    assert!(v.open);
    // The institution cannot move the date; the centre can, audited; not before the start.
    let e = surveys::set_closing_date(
        &store,
        &inst_user(inst, 1),
        c.id,
        Some(d(2026, 5, 1)),
        at(start()),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    let e = surveys::set_closing_date(
        &store,
        &centre_staff(),
        c.id,
        Some(d(2026, 3, 1)),
        at(start()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "SURVEY_CLOSES_BEFORE_START");
    let v = surveys::set_closing_date(
        &store,
        &centre_staff(),
        c.id,
        Some(d(2026, 4, 12)),
        at(start()),
    )
    .await
    .unwrap();
    assert_eq!(v.closes_on, d(2026, 4, 12));
    assert!(!v.closes_on_is_default);
    // On the closing date: still open. The day after: 问卷已截止.
    surveys::respond(
        &store,
        &token,
        &name,
        last4(&id),
        &answers([4; 5], ""),
        at(d(2026, 4, 12)),
    )
    .await
    .unwrap();
    let (n2, id2) = c.people[1].clone();
    let e = surveys::respond(
        &store,
        &token,
        &n2,
        last4(&id2),
        &answers([4; 5], ""),
        at(d(2026, 4, 13)),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "SURVEY_CLOSED");
    assert!(e.to_string().contains("问卷已截止"));
    let p = surveys::public_survey(&store, &token, at(d(2026, 4, 13)))
        .await
        .unwrap();
    assert_eq!(p.open, SurveyOpen::Closed);
}

async fn r_eva_3_stats_are_exact_and_questionnaire_is_per_round(store: Store) {
    let c = running_class(&store, 3, 20).await;
    let token = token_of(&store, &c).await;
    let day = d(2026, 4, 8);
    let given = [[5, 5, 4, 4, 5], [4, 4, 4, 3, 4], [5, 3, 5, 5, 4]];
    for (i, v) in given.iter().enumerate() {
        let (n, id) = c.people[i].clone();
        surveys::respond(&store, &token, &n, last4(&id), &answers(*v, ""), at(day))
            .await
            .unwrap();
    }
    let v = surveys::class_survey(&store, &inst_user(c.inst, 1), c.id, at(day))
        .await
        .unwrap();
    assert_eq!(v.stats.responses, 3);
    assert_eq!(v.stats.trainees, 20);
    assert_eq!(v.stats.rate_percent, Some(dec!(15.0)));
    let means: Vec<_> = v
        .stats
        .questions
        .iter()
        .map(|q| (q.key.as_str(), q.sum, q.mean))
        .collect();
    assert_eq!(
        means,
        [
            ("teaching", 14, Some(dec!(4.67))),
            ("teacher", 12, Some(dec!(4))),
            ("organisation", 13, Some(dec!(4.33))),
            ("venue", 12, Some(dec!(4))),
            ("overall", 13, Some(dec!(4.33))),
        ]
    );
    let r = surveys::round_survey(&store, &bureau(), v.round_id)
        .await
        .unwrap();
    assert_eq!(r.classes.len(), 1);
    assert_eq!(r.total.responses, 3);
    assert_eq!(r.total.overall().unwrap().sum, 13);

    // The centre edits the round's questionnaire; bad input lists every problem, saves nothing.
    let mut q = default_questionnaire();
    q.questions[0].key = "teacher".into();
    q.questions.retain(|x| x.key != "overall");
    let e = surveys::save_questionnaire(&store, &centre_staff(), v.round_id, &q, at(day))
        .await
        .unwrap_err();
    let codes: Vec<&str> = e.problems().iter().map(|p| p.code).collect();
    assert_eq!(codes, ["SURVEY_KEY_DUPLICATE", "SURVEY_OVERALL_MISSING"]);
    assert!(
        surveys::get_questionnaire(&store, &centre_staff(), v.round_id)
            .await
            .unwrap()
            .is_default
    );
    let e = surveys::save_questionnaire(
        &store,
        &inst_user(c.inst, 1),
        v.round_id,
        &default_questionnaire(),
        at(day),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    let mut q = default_questionnaire();
    q.questions.insert(
        4,
        Question {
            key: "practice".into(),
            text: "实操训练".into(),
            kind: QuestionKind::Rating,
        },
    );
    let saved = surveys::save_questionnaire(&store, &centre_staff(), v.round_id, &q, at(day))
        .await
        .unwrap();
    assert!(!saved.is_default);
    assert_eq!(saved.questionnaire.questions.len(), 7);
    // A new answer must rate the new question.
    let (n, id) = c.people[5].clone();
    let e = surveys::respond(
        &store,
        &token,
        &n,
        last4(&id),
        &answers([5; 5], ""),
        at(day),
    )
    .await
    .unwrap_err();
    assert_eq!(e.problems()[0].field.as_deref(), Some("practice"));
    let mut a = answers([5; 5], "");
    a.insert("practice".into(), "3".into());
    surveys::respond(&store, &token, &n, last4(&id), &a, at(day))
        .await
        .unwrap();
    let v = surveys::class_survey(&store, &centre_staff(), c.id, at(day))
        .await
        .unwrap();
    let practice = v
        .stats
        .questions
        .iter()
        .find(|q| q.key == "practice")
        .unwrap();
    assert_eq!((practice.answers, practice.sum), (1, 3));
    assert_eq!(v.stats.overall().unwrap().sum, 18);
}

async fn r_eva_1_agreement_satisfaction_sums_only_ran_classes_of_that_agreement(store: Store) {
    let rid = round_id(&store).await;
    let inst = institution(&store, 4, false).await;
    let a = signed(&store, rid, inst, 10).await;
    // Class 1: completed, 20 trainees. Class 2: runs late and becomes overdue, 21 trainees.
    // Class 3: still in training (starts later), 22 trainees: not counted.
    let c1 = approved_class(&store, inst, a, start(), 20, 7401).await;
    let c2 = approved_class(&store, inst, a, start(), 21, 7402).await;
    let c3 = approved_class(&store, inst, a, d(2026, 4, 20), 22, 7403).await;
    for c in [&c1, &c2] {
        started(&store, c, start()).await;
    }
    started(&store, &c3, d(2026, 4, 20)).await;
    let day = d(2026, 4, 25);
    let mut expect = SatisfactionStats {
        responses: 0,
        overall_sum: 0,
        trainees: 41,
    };
    for (c, overall) in [
        (&c1, vec![5, 4, 5]),
        (&c2, vec![3, 2]),
        (&c3, vec![1, 1, 1]),
    ] {
        let token = token_of(&store, c).await;
        surveys::set_closing_date(&store, &centre_staff(), c.id, Some(d(2026, 6, 30)), at(day))
            .await
            .unwrap();
        for (i, o) in overall.iter().enumerate() {
            let (n, id) = c.people[i].clone();
            surveys::respond(
                &store,
                &token,
                &n,
                last4(&id),
                &answers([4, 4, 4, 4, *o], ""),
                at(day),
            )
            .await
            .unwrap();
            if c.id != c3.id {
                expect.responses += 1;
                expect.overall_sum += *o as u32;
            }
        }
    }
    completed(&store, &c1, d(2026, 4, 26)).await;
    // c2 passes its last day (start + 30) without completing: the sweep marks it overdue.
    overdue::sweep(&store, d(2026, 5, 5), at(d(2026, 5, 5)))
        .await
        .unwrap();
    let s2 = filings::get_filing(&store, &centre_staff(), c2.id)
        .await
        .unwrap();
    assert!(s2.state.is_overdue(), "{:?}", s2.state);
    // Another agreement's answers are not counted.
    let other = running_class(&store, 5, 20).await;
    let token = token_of(&store, &other).await;
    let (n, id) = other.people[0].clone();
    surveys::respond(
        &store,
        &token,
        &n,
        last4(&id),
        &answers([5; 5], ""),
        at(d(2026, 4, 15)),
    )
    .await
    .unwrap();
    completed(&store, &other, d(2026, 4, 26)).await;

    let got = surveys::agreement_satisfaction(store.db(), a)
        .await
        .unwrap();
    assert_eq!(
        got,
        SatisfactionStats {
            responses: 5,
            overall_sum: 19,
            trainees: 41
        }
    );
    assert_eq!(got, expect);
    assert_eq!(
        surveys::agreement_satisfaction(store.db(), other.agreement)
            .await
            .unwrap(),
        SatisfactionStats {
            responses: 1,
            overall_sum: 5,
            trainees: 20
        }
    );
    // Inside a transaction too (the evaluation calls it in its own).
    let txn = store.begin_write().await.unwrap();
    assert_eq!(
        surveys::agreement_satisfaction(&txn, a).await.unwrap(),
        expect
    );
    txn.rollback().await.unwrap();
    // An agreement without classes.
    assert_eq!(
        surveys::agreement_satisfaction(store.db(), 999_999)
            .await
            .unwrap(),
        SatisfactionStats {
            responses: 0,
            overall_sum: 0,
            trainees: 0
        }
    );
}

async fn r_eva_3_responses_cannot_be_linked_to_respondents(store: Store) {
    let c = running_class(&store, 6, 20).await;
    let token = token_of(&store, &c).await;
    for i in 0..4 {
        let (n, id) = c.people[i].clone();
        surveys::respond(
            &store,
            &token,
            &n,
            last4(&id),
            &answers([5, 4, 3, 2, (i % 5 + 1) as u8], ""),
            at(d(2026, 4, 8)),
        )
        .await
        .unwrap();
    }
    // The responses table has no roster column and no timestamp; its ids are random.
    let backend = store.db().get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'survey_responses' ORDER BY column_name".to_string(),
        _ => "SELECT name FROM pragma_table_info('survey_responses') ORDER BY name".to_string(),
    };
    let cols: Vec<String> = store
        .db()
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect();
    assert_eq!(
        cols,
        ["answers", "filing_id", "id", "overall", "submitted_on"]
    );
    let rows = store
        .db()
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, answers FROM survey_responses".to_string(),
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    for r in rows {
        let id: String = r.try_get("", "id").unwrap();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        let answers: String = r.try_get("", "answers").unwrap();
        for (n, idn) in &c.people {
            assert!(!answers.contains(n.as_str()) && !answers.contains(last4(idn)));
        }
    }
    // The respondents table holds only (class, roster entry).
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'survey_respondents' ORDER BY column_name".to_string(),
        _ => "SELECT name FROM pragma_table_info('survey_respondents') ORDER BY name".to_string(),
    };
    let cols: Vec<String> = store
        .db()
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect();
    assert_eq!(cols, ["filing_id", "roster_entry_id"]);
}

async fn s6_institution_b_cannot_see_a_s_survey(store: Store) {
    let a = running_class(&store, 7, 20).await;
    let b_inst = institution(&store, 8, false).await;
    let b = inst_user(b_inst, 1);
    let e = surveys::class_survey(&store, &b, a.id, at(start()))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    let e = surveys::class_survey(&store, &b, 987_654, at(start()))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    assert!(
        surveys::class_survey(&store, &inst_user(a.inst, 1), a.id, at(start()))
            .await
            .is_ok()
    );
    let rid = surveys::class_survey(&store, &centre_staff(), a.id, at(start()))
        .await
        .unwrap()
        .round_id;
    assert!(surveys::round_survey(&store, &b, rid).await.is_err());
    assert!(surveys::get_questionnaire(&store, &b, rid).await.is_err());
    assert!(
        surveys::class_comments(&store, &inst_user(a.inst, 1), a.id)
            .await
            .is_err()
    );
    let e = surveys::set_closing_date(&store, &b, a.id, None, at(start()))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
}
