//! Exam results and certificate codes (R-CRT-1, R-CRT-2, SECURITY.md S6, S9, S22) on SQLite and
//! PostgreSQL: codes only for the passed trainees of completed classes (overdue included) not
//! under a confirmed violation; concurrent confirmations by two servers never share a class
//! sequence or a code; a revoked code verifies as revoked; a wrong name answers exactly as an
//! unknown code; a results import with bad rows changes nothing and lists every bad row;
//! institution B cannot read or write A's results or certificates.

mod support;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use peixun_domain::roster::ROSTER_HEADERS;
use peixun_domain::workflow::round::Half;
use peixun_store::certificates::{self, STATUS_REVOKED, STATUS_VALID};
use peixun_store::filings;
use peixun_store::ready_package::{self, ReadyPackage};
use peixun_store::results::{self, ResultImportOutcome, ResultInput};
use peixun_store::{Actor, Store, StoreError, audit, worklist};
use peixun_store::{rounds, running};
use sea_orm::{ConnectionTrait, Statement};
use support::*;

support::on_both_backends!(
    r_crt_1_codes_only_for_passed_trainees_of_completed_classes,
    r_crt_1_overdue_class_gets_codes_and_violation_withholds_them,
    r_crt_1_results_import_with_bad_rows_changes_nothing_and_lists_every_row,
    r_crt_1_results_corrected_until_confirmed_and_every_change_audited,
    r_crt_2_revoked_verifies_as_revoked_and_wrong_name_equals_unknown_code,
    s6_institution_b_cannot_read_or_write_a_s_results_or_certificates,
    r_crt_1_demo_shows_issued_revoked_and_awaiting_classes,
    r_vio_2_confirmed_violation_revokes_issued_codes_and_verify_shows_revoked,
);

/// `y-m-d 09:00` Asia/Shanghai.
fn on(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

const START: (i32, u32, u32) = (2026, 4, 1);

fn start() -> NaiveDate {
    d(START.0, START.1, START.2)
}

struct Class {
    id: i64,
    inst: i64,
    /// Roster rows (name, ID number) in roster order.
    people: Vec<(String, String)>,
}

/// One institution (number `n`) with a signed agreement; a class of `trainees` filed,
/// approved, started on its start date, training and exam complete on `done`.
async fn completed_class(store: &Store, n: u32, trainees: usize, done: NaiveDate) -> Class {
    let round_id = match rounds::list_rounds(store, &centre_admin())
        .await
        .unwrap()
        .first()
    {
        Some(r) => r.id,
        None => {
            published_round(store, 2026, Half::H1, "2026上半年", 40)
                .await
                .id
        }
    };
    let inst = institution(store, n, false).await;
    let a = signed(store, round_id, inst, 10).await;
    let mut spec = ReadyPackage::new(a, OCC, LEVEL, start());
    spec.trainees = trainees;
    spec.roster_seed = 5000 + n as u64;
    let people: Vec<(String, String)> =
        peixun_store::roster::synthetic_rows(trainees, spec.roster_seed)
            .into_iter()
            .map(|r| (r[0].clone(), r[2].clone()))
            .collect();
    assert_eq!(ROSTER_HEADERS[0], "姓名");
    assert_eq!(ROSTER_HEADERS[2], "证件号码");
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
    let u = inst_user(inst, 1);
    running::start_training(store, &u, f.id, on(START.0, START.1, START.2))
        .await
        .unwrap();
    let now = on(done.year(), done.month(), done.day());
    running::complete_training(store, &u, f.id, done, now)
        .await
        .unwrap();
    running::complete_exam(store, &u, f.id, done, now)
        .await
        .unwrap();
    Class {
        id: f.id,
        inst,
        people,
    }
}

fn done_day() -> NaiveDate {
    d(2026, 4, 10)
}

/// Enter results: `outcomes[i]` for roster row i ("pass" / "fail" / "absent").
async fn enter(store: &Store, c: &Class, outcomes: &[&str]) {
    let view = results::get_results(store, &inst_user(c.inst, 1), c.id, on(2026, 4, 11))
        .await
        .unwrap();
    let input: Vec<ResultInput> = view
        .rows
        .iter()
        .zip(outcomes)
        .map(|(r, o)| ResultInput {
            entry_id: r.entry_id,
            result: o.to_string(),
            score: if *o == "absent" {
                String::new()
            } else if *o == "pass" {
                "86.5".into()
            } else {
                "41".into()
            },
            exam_date: "2026-04-10".into(),
        })
        .collect();
    results::save_results(store, &inst_user(c.inst, 1), c.id, &input, on(2026, 4, 11))
        .await
        .unwrap();
}

async fn state_of(store: &Store, id: i64) -> String {
    filings::get_filing(store, &centre_staff(), id)
        .await
        .unwrap()
        .status
}

async fn r_crt_1_codes_only_for_passed_trainees_of_completed_classes(store: Store) {
    let c = completed_class(&store, 1, 20, done_day()).await;
    // Results cannot be confirmed before they are all entered.
    let mut outcomes = vec!["pass"; 20];
    outcomes[1] = "fail";
    outcomes[4] = "absent";
    outcomes[7] = "fail";
    enter(&store, &c, &outcomes[..10]).await;
    let e = certificates::confirm_results(&store, &centre_staff(), c.id, on(2026, 4, 12))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "RESULTS_INCOMPLETE", "{e}");
    enter(&store, &c, &outcomes).await;
    // The institution cannot confirm its own results.
    let e = certificates::confirm_results(&store, &inst_user(c.inst, 0), c.id, on(2026, 4, 12))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    let out = certificates::confirm_results(&store, &centre_staff(), c.id, on(2026, 4, 12))
        .await
        .unwrap();
    assert_eq!(out.issued, 17);
    assert!(!out.withheld);
    assert_eq!(out.year, Some(2026));
    let list = certificates::list_certificates(&store, &centre_staff(), c.id)
        .await
        .unwrap();
    assert_eq!(list.len(), 17);
    // Passed trainees numbered 001… in roster order, the failed and absent skipped.
    let seq = out.class_seq.unwrap();
    let passed_names: Vec<&str> = c
        .people
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == "pass")
        .map(|(p, _)| p.0.as_str())
        .collect();
    for (i, (cert, name)) in list.iter().zip(&passed_names).enumerate() {
        assert_eq!(cert.code, format!("4401052026{seq:04}{:03}", i + 1));
        assert_eq!(cert.name, *name);
        assert_eq!(cert.status, STATUS_VALID);
        assert_eq!(cert.issued_on, d(2026, 4, 12));
    }
    let failed = &c.people[1].0;
    assert!(list.iter().all(|x| &x.name != failed));
    // The class moved by IssueCertificates; confirming again is refused; results are locked.
    let f = filings::get_filing(&store, &centre_staff(), c.id)
        .await
        .unwrap();
    assert!(matches!(
        f.state,
        peixun_domain::workflow::class::ClassState::Completed {
            certificates_issued: true,
            ..
        }
    ));
    let e = certificates::confirm_results(&store, &centre_admin(), c.id, on(2026, 4, 13))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "RESULTS_ALREADY_CONFIRMED");
    let view = results::get_results(&store, &inst_user(c.inst, 1), c.id, on(2026, 4, 13))
        .await
        .unwrap();
    assert!(!view.may_edit);
    let e = results::save_results(
        &store,
        &inst_user(c.inst, 1),
        c.id,
        &[ResultInput {
            entry_id: view.rows[1].entry_id,
            result: "pass".into(),
            ..Default::default()
        }],
        on(2026, 4, 13),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e.code(), "RESULTS_NOT_OPEN" | "RESULTS_CONFIRMED"),
        "{e}"
    );

    // A class still in training: no results, no confirmation.
    let a = filings::get_filing(&store, &centre_staff(), c.id)
        .await
        .unwrap()
        .agreement_id;
    let mut spec = ReadyPackage::new(a, OCC, LEVEL, start());
    spec.roster_seed = 7777;
    let f2 = ready_package::file(
        &store,
        &package_files(),
        &roster_key(),
        &inst_user(c.inst, 1),
        &spec,
        t0(),
    )
    .await
    .unwrap();
    filings::approve_filing(&store, &centre_staff(), f2.id, later(5))
        .await
        .unwrap();
    let e = results::save_results(&store, &inst_user(c.inst, 1), f2.id, &[], on(2026, 4, 2))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "RESULTS_NOT_OPEN");
    let e = certificates::confirm_results(&store, &centre_staff(), f2.id, on(2026, 4, 2))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "RESULTS_CLASS_NOT_COMPLETED");
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_crt_1_overdue_class_gets_codes_and_violation_withholds_them(store: Store) {
    // Completed after its last day (start + 30): overdue, still gets codes (R-OVD-1).
    let late = d(2026, 5, 8);
    let c = completed_class(&store, 2, 20, late).await;
    let f = filings::get_filing(&store, &centre_staff(), c.id)
        .await
        .unwrap();
    assert!(f.state.is_overdue(), "{:?}", f.state);
    let view = results::get_results(&store, &inst_user(c.inst, 1), c.id, on(2026, 5, 9))
        .await
        .unwrap();
    let input: Vec<ResultInput> = view
        .rows
        .iter()
        .map(|r| ResultInput {
            entry_id: r.entry_id,
            result: "合格".into(),
            score: String::new(),
            exam_date: String::new(), // the class's exam date
        })
        .collect();
    results::save_results(&store, &inst_user(c.inst, 1), c.id, &input, on(2026, 5, 9))
        .await
        .unwrap();
    // A second class of another institution, under a confirmed violation.
    let v = completed_class(&store, 3, 20, done_day()).await;
    enter(&store, &v, &["pass"; 20]).await;
    let backend = store.db().get_database_backend();
    store
        .write_db()
        .execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO violations (institution_id, state, description, recorded_by, recorded_at, confirmed_by, confirmed_at) \
                 VALUES ({}, 'confirmed', '申报资料作假', 'centre_admin', '2026-04-11 01:00:00+00:00', 'centre_admin', '2026-04-11 02:00:00+00:00')",
                v.inst
            ),
        ))
        .await
        .unwrap();
    let vid: i64 = store
        .db()
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT MAX(id) AS id FROM violations".to_string(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    store
        .write_db()
        .execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO violation_classes (violation_id, filing_id) VALUES ({vid}, {})",
                v.id
            ),
        ))
        .await
        .unwrap();
    assert!(
        peixun_store::violations::class_under_confirmed_violation(store.db(), v.id)
            .await
            .unwrap()
    );
    assert!(
        !peixun_store::violations::class_under_confirmed_violation(store.db(), c.id)
            .await
            .unwrap()
    );
    let out = certificates::confirm_results(&store, &centre_staff(), v.id, on(2026, 5, 9))
        .await
        .unwrap();
    assert!(out.withheld);
    assert_eq!(out.issued, 0);
    assert!(
        certificates::list_certificates(&store, &centre_staff(), v.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(state_of(&store, v.id).await, "completed");
    let f = filings::get_filing(&store, &centre_staff(), v.id)
        .await
        .unwrap();
    assert!(matches!(
        f.state,
        peixun_domain::workflow::class::ClassState::Completed {
            certificates_issued: false,
            ..
        }
    ));
    // Confirming again while the violation stands: still refused, still no code.
    let e = certificates::confirm_results(&store, &centre_staff(), v.id, on(2026, 5, 9))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "CERT_UNDER_VIOLATION");

    // The overdue class: confirmed, codes issued, its class sequence the next one.
    let out = certificates::confirm_results(&store, &centre_staff(), c.id, on(2026, 5, 10))
        .await
        .unwrap();
    assert!(!out.withheld);
    assert_eq!(out.issued, 20);
    assert_eq!(out.class_seq, Some(1));
    let list = certificates::list_certificates(&store, &centre_staff(), c.id)
        .await
        .unwrap();
    assert_eq!(list[0].code, "44010520260001001");
    assert_eq!(list[19].code, "44010520260001020");

    // The violation dismissed: confirming again issues the withheld codes, the next sequence.
    store
        .write_db()
        .execute_raw(Statement::from_string(
            backend,
            format!("UPDATE violations SET state = 'dismissed' WHERE id = {vid}"),
        ))
        .await
        .unwrap();
    let out = certificates::confirm_results(&store, &centre_staff(), v.id, on(2026, 5, 11))
        .await
        .unwrap();
    assert_eq!(out.issued, 20);
    assert_eq!(out.class_seq, Some(2));
}

/// A results CSV from rows of cells (姓名, 证件号码, 考试结果, 成绩, 考试日期).
fn results_csv(rows: &[[&str; 5]]) -> Vec<u8> {
    let mut s = String::from("姓名,证件号码,考试结果,成绩,考试日期\n");
    for r in rows {
        s.push_str(&r.join(","));
        s.push('\n');
    }
    s.into_bytes()
}

async fn r_crt_1_results_import_with_bad_rows_changes_nothing_and_lists_every_row(store: Store) {
    let c = completed_class(&store, 4, 20, done_day()).await;
    let other = completed_class(&store, 5, 20, done_day()).await;
    let u = inst_user(c.inst, 1);
    let p = &c.people;
    let date = "2026-04-10";
    let stranger = &other.people[0];
    let bad = results_csv(&[
        [&p[0].0, &p[0].1, "合格", "90", date], // row 2: good
        [&p[1].0, "440105199001011234", "合格", "90", date], // row 3: malformed ID
        [&stranger.0, &stranger.1, "合格", "90", date], // row 4: not in this class
        [&p[0].0, &p[0].1, "合格", "90", date], // row 5: duplicate of row 2
        [&p[2].0, &p[2].1, "良好", "90", date], // row 6: result outside the list
        [&p[3].0, &p[3].1, "合格", "101", date], // row 7: score out of range
        [&p[4].0, &p[4].1, "缺考", "60", date], // row 8: absent with a score
        [&p[5].0, &p[5].1, "合格", "", "2026-13-01"], // row 9: bad date
        ["王五", &p[6].1, "合格", "", date],    // row 10: name differs
    ]);
    let out = results::import_results(&store, &u, &roster_key(), c.id, &bad, None, on(2026, 4, 11))
        .await
        .unwrap();
    let ResultImportOutcome::Refused { problems } = out else {
        panic!("a file with bad rows must be refused: {out:?}");
    };
    let rows: std::collections::BTreeSet<u32> =
        problems.iter().filter_map(|p| p.row_number).collect();
    assert_eq!(
        rows.into_iter().collect::<Vec<_>>(),
        vec![3, 4, 5, 6, 7, 8, 9, 10],
        "{problems:#?}"
    );
    let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
    for code in [
        "RESULT_ID_INVALID",
        "RESULT_NOT_IN_CLASS",
        "RESULT_DUPLICATE",
        "RESULT_INVALID",
        "RESULT_SCORE",
        "RESULT_SCORE_ABSENT",
        "RESULT_DATE",
        "RESULT_NAME_MISMATCH",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    // Nothing changed (row 2 was good but the file was refused).
    let view = results::get_results(&store, &u, c.id, on(2026, 4, 11))
        .await
        .unwrap();
    assert_eq!(view.entered, 0);

    // The same file with good rows: imported; unmentioned trainees untouched.
    let rows: Vec<[&str; 5]> = p
        .iter()
        .enumerate()
        .map(|(i, (n, id))| {
            [
                n.as_str(),
                id.as_str(),
                if i % 5 == 0 { "不合格" } else { "合格" },
                "75.5",
                date,
            ]
        })
        .collect();
    let out = results::import_results(
        &store,
        &u,
        &roster_key(),
        c.id,
        &results_csv(&rows[..18]),
        None,
        on(2026, 4, 11),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        ResultImportOutcome::Imported {
            rows: 18,
            changed: 18
        }
    );
    let view = results::get_results(&store, &u, c.id, on(2026, 4, 11))
        .await
        .unwrap();
    assert_eq!(view.entered, 18);
    assert_eq!(view.failed, 4);
    assert_eq!(view.rows[1].score.as_deref(), Some("75.5"));
    assert!(view.rows[0].id_number_masked.contains('*'));
    assert_ne!(view.rows[0].id_number_masked, p[0].1);
    // Work lists: the institution still has results to enter; not yet for the centre.
    let w = worklist::work_list(&store, &u, on(2026, 4, 11))
        .await
        .unwrap();
    assert!(w.items.iter().any(|i| i.kind == "results_to_enter"));
    let w = worklist::work_list(&store, &centre_staff(), on(2026, 4, 11))
        .await
        .unwrap();
    assert!(!w.items.iter().any(|i| i.kind == "results_to_confirm"));
    let out = results::import_results(
        &store,
        &u,
        &roster_key(),
        c.id,
        &results_csv(&rows[18..]),
        None,
        on(2026, 4, 11),
    )
    .await
    .unwrap();
    assert!(matches!(out, ResultImportOutcome::Imported { rows: 2, .. }));
    let w = worklist::work_list(&store, &centre_staff(), on(2026, 4, 11))
        .await
        .unwrap();
    let it = w
        .items
        .iter()
        .find(|i| i.kind == "results_to_confirm")
        .expect("results to confirm");
    assert_eq!(it.target_id, Some(c.id));
}

async fn r_crt_1_results_corrected_until_confirmed_and_every_change_audited(store: Store) {
    let c = completed_class(&store, 6, 20, done_day()).await;
    let u = inst_user(c.inst, 1);
    let before = audit_count(&store, "results.save").await;
    enter(&store, &c, &["fail"; 20]).await;
    enter(&store, &c, &["pass"; 20]).await;
    // Saving the same again changes nothing and writes no audit row.
    enter(&store, &c, &["pass"; 20]).await;
    assert_eq!(audit_count(&store, "results.save").await, before + 2);
    // Bad input on the page: every problem with its row, nothing changed.
    let view = results::get_results(&store, &u, c.id, on(2026, 4, 11))
        .await
        .unwrap();
    let e = results::save_results(
        &store,
        &u,
        c.id,
        &[
            ResultInput {
                entry_id: view.rows[0].entry_id,
                result: "fail".into(),
                score: "abc".into(),
                exam_date: "2026-04-10".into(),
            },
            ResultInput {
                entry_id: view.rows[1].entry_id,
                result: "fail".into(),
                score: String::new(),
                exam_date: "2026-05-30".into(),
            },
        ],
        on(2026, 4, 11),
    )
    .await
    .unwrap_err();
    let fields: Vec<String> = e.problems().into_iter().filter_map(|p| p.field).collect();
    assert_eq!(fields, vec!["rows[0].score", "rows[1].exam_date"]);
    let again = results::get_results(&store, &u, c.id, on(2026, 4, 11))
        .await
        .unwrap();
    assert_eq!(again.passed, 20);
    // The centre cannot enter results.
    let e = results::save_results(&store, &centre_staff(), c.id, &[], on(2026, 4, 11))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }));
    certificates::confirm_results(&store, &centre_staff(), c.id, on(2026, 4, 12))
        .await
        .unwrap();
    assert_eq!(audit_count(&store, "results.confirm").await, 1);
    assert_eq!(audit_count(&store, "class.issue_certificates").await, 1);
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn audit_count(store: &Store, action: &str) -> i64 {
    let backend = store.db().get_database_backend();
    store
        .db()
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM audit_log WHERE action = '{action}'"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap()
}

async fn r_crt_2_revoked_verifies_as_revoked_and_wrong_name_equals_unknown_code(store: Store) {
    let c = completed_class(&store, 7, 20, done_day()).await;
    enter(&store, &c, &["pass"; 20]).await;
    certificates::confirm_results(&store, &centre_staff(), c.id, on(2026, 4, 12))
        .await
        .unwrap();
    let list = certificates::list_certificates(&store, &inst_user(c.inst, 1), c.id)
        .await
        .unwrap();
    let first = &list[0];
    let v = certificates::verify(&store, &first.code, &first.name)
        .await
        .unwrap()
        .expect("valid code verifies");
    assert_eq!(v.status, STATUS_VALID);
    assert_eq!(v.occupation, OCC);
    assert_eq!(v.level, LEVEL);
    assert!(v.institution.contains("测试7号"));
    assert_eq!(
        v.masked_name,
        peixun_domain::certificate::mask_name(&first.name)
    );
    assert_ne!(v.masked_name, first.name);
    let json = serde_json::to_string(&v).unwrap();
    assert!(!json.contains(&c.people[0].1), "never an ID number");
    // Wrong name and unknown code: the same answer.
    let wrong = certificates::verify(&store, &first.code, "张冒名")
        .await
        .unwrap();
    let unknown = certificates::verify(&store, "44010520269999001", &first.name)
        .await
        .unwrap();
    let malformed = certificates::verify(&store, "abc", &first.name)
        .await
        .unwrap();
    assert_eq!(wrong, None);
    assert_eq!(unknown, None);
    assert_eq!(malformed, None);
    assert_eq!(
        certificates::verify(&store, &first.code, "").await.unwrap(),
        None
    );
    // Revoke: centre_admin only, reason required; the code stays and verifies as revoked.
    let e = certificates::revoke(
        &store,
        &centre_staff(),
        &first.code,
        "造假",
        on(2026, 4, 13),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }));
    let e = certificates::revoke(&store, &centre_admin(), &first.code, " ", on(2026, 4, 13))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "CERT_REVOKE_REASON");
    let r = certificates::revoke(
        &store,
        &centre_admin(),
        &first.code,
        "学员冒名顶替参加考试",
        on(2026, 4, 13),
    )
    .await
    .unwrap();
    assert_eq!(r.status, STATUS_REVOKED);
    let e = certificates::revoke(
        &store,
        &centre_admin(),
        &first.code,
        "再次",
        on(2026, 4, 13),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "CERT_ALREADY_REVOKED");
    let v = certificates::verify(&store, &first.code, &format!(" {} ", first.name))
        .await
        .unwrap()
        .expect("a revoked code still verifies");
    assert_eq!(v.status, STATUS_REVOKED);
    assert_eq!(v.status_label, "已撤销");
    let list = certificates::list_certificates(&store, &centre_staff(), c.id)
        .await
        .unwrap();
    assert_eq!(list.len(), 20, "a revoked code is never removed");
    assert_eq!(
        list[0].revoked_reason.as_deref(),
        Some("学员冒名顶替参加考试")
    );
    // The violation workflow's revocation of a whole class: the valid codes only, reason kept.
    let n = certificates::revoke_class_codes_for_test(
        &store,
        c.id,
        "违法违规：申报资料作假",
        &centre_admin(),
        on(2026, 4, 14),
    )
    .await
    .unwrap();
    assert_eq!(n, 19);
    let list = certificates::list_certificates(&store, &centre_staff(), c.id)
        .await
        .unwrap();
    assert!(list.iter().all(|c| c.status == STATUS_REVOKED));
    assert_eq!(
        list[0].revoked_reason.as_deref(),
        Some("学员冒名顶替参加考试")
    );
    let v = certificates::verify(&store, &list[5].code, &list[5].name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.status, STATUS_REVOKED);
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn s6_institution_b_cannot_read_or_write_a_s_results_or_certificates(store: Store) {
    let a = completed_class(&store, 8, 20, done_day()).await;
    let b = completed_class(&store, 9, 20, done_day()).await;
    enter(&store, &a, &["pass"; 20]).await;
    let now = on(2026, 4, 11);
    let ub = inst_user(b.inst, 0);
    for e in [
        results::get_results(&store, &ub, a.id, now)
            .await
            .unwrap_err(),
        results::save_results(&store, &ub, a.id, &[], now)
            .await
            .unwrap_err(),
        certificates::list_certificates(&store, &ub, a.id)
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    }
    let e = results::import_results(
        &store,
        &ub,
        &roster_key(),
        a.id,
        &results_csv(&[]),
        None,
        now,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e}");
    // B's own entry ids cannot be written into A's class and vice versa.
    let vb = results::get_results(&store, &ub, b.id, now).await.unwrap();
    let e = results::save_results(
        &store,
        &inst_user(a.inst, 1),
        a.id,
        &[ResultInput {
            entry_id: vb.rows[0].entry_id,
            result: "pass".into(),
            score: String::new(),
            exam_date: "2026-04-10".into(),
        }],
        now,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "RESULT_NOT_IN_CLASS");
    // Bureau and sysadmin: not results readers.
    assert!(
        results::get_results(&store, &bureau(), a.id, now)
            .await
            .is_err()
    );
    let sys = Actor {
        role: Some(peixun_domain::role::Role::Sysadmin),
        user_id: Some(99),
        ..Actor::system("sysadmin")
    };
    assert!(results::get_results(&store, &sys, a.id, now).await.is_err());
    // The centre and A read them.
    assert!(
        results::get_results(&store, &centre_staff(), a.id, now)
            .await
            .is_ok()
    );
    assert!(
        results::get_results(&store, &inst_user(a.inst, 1), a.id, now)
            .await
            .is_ok()
    );
}

// ---- S9: concurrent confirmations on two servers ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s9_r_crt_1_concurrent_confirmations_allocate_each_class_sequence_once_sqlite() {
    let (store, guard) = peixun_store::testing::sqlite_temp().await;
    concurrent_confirmations(store, guard.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s9_r_crt_1_concurrent_confirmations_allocate_each_class_sequence_once_postgres() {
    let (store, guard) = peixun_store::testing::postgres_fresh().await;
    concurrent_confirmations(store, guard.url()).await;
}

/// Six completed classes, every trainee passed; each class confirmed at the same moment by two
/// servers (two `Store` handles on one database, one tokio task each): every class is
/// confirmed once (the other attempt is refused), the class sequences are 1…6 with no gap or
/// repeat, and the 120 codes are distinct.
async fn concurrent_confirmations(store: Store, url: &str) {
    const K: usize = 6;
    let other = Store::connect(url).await.unwrap();
    let mut classes = Vec::new();
    for n in 0..K {
        let c = completed_class(&store, 20 + n as u32, 20, done_day()).await;
        enter(&store, &c, &["pass"; 20]).await;
        classes.push(c.id);
    }
    let mut tasks = Vec::new();
    for (i, id) in classes.iter().copied().enumerate() {
        for (k, s) in [store.clone(), other.clone()].into_iter().enumerate() {
            let actor = if (i + k) % 2 == 0 {
                centre_staff()
            } else {
                centre_admin()
            };
            tasks.push(tokio::spawn(async move {
                certificates::confirm_results(&s, &actor, id, on(2026, 4, 12)).await
            }));
        }
    }
    let mut ok = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(o) => ok.push(o),
            Err(e) => assert_eq!(e.code(), "RESULTS_ALREADY_CONFIRMED", "{e}"),
        }
    }
    assert_eq!(ok.len(), K, "each class confirmed exactly once");
    let mut seqs: Vec<u32> = ok.iter().map(|o| o.class_seq.unwrap()).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=K as u32).collect::<Vec<_>>());
    let mut codes = std::collections::BTreeSet::new();
    for id in &classes {
        for c in certificates::list_certificates(&store, &centre_staff(), *id)
            .await
            .unwrap()
        {
            assert!(codes.insert(c.code.clone()), "duplicate code {}", c.code);
        }
    }
    assert_eq!(codes.len(), K * 20);
    assert!(audit::verify(&store).await.unwrap().is_ok());
    other.close().await.unwrap();
}

/// The demo (serve --demo): a class with issued codes, one of them revoked with its reason, and
/// a class whose results wait for the centre's confirmation (on the centre's work list).
async fn r_crt_1_demo_shows_issued_revoked_and_awaiting_classes(store: Store) {
    peixun_store::demo::seed_demo(&store, &package_files(), &roster_key(), t0())
        .await
        .unwrap();
    let backend = store.db().get_database_backend();
    let count = |sql: &'static str| {
        let store = store.clone();
        async move {
            let n: i64 = store
                .db()
                .query_one_raw(Statement::from_string(backend, sql.to_string()))
                .await
                .unwrap()
                .unwrap()
                .try_get("", "n")
                .unwrap();
            n
        }
    };
    assert!(count("SELECT COUNT(*) AS n FROM certificates WHERE status = 'valid'").await >= 10);
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM certificates WHERE status = 'revoked' AND revoked_reason IS NOT NULL").await,
        1
    );
    let w = worklist::work_list(&store, &centre_staff(), t0())
        .await
        .unwrap();
    assert!(
        w.items.iter().any(|i| i.kind == "results_to_confirm"),
        "{:?}",
        w.items
    );
    // Seeding twice adds nothing.
    peixun_store::demo::seed_demo(&store, &package_files(), &roster_key(), t0())
        .await
        .unwrap();
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM certificates WHERE status = 'revoked'").await,
        1
    );
}

// ---- measurement: issuing the codes of a 120-trainee class ----------------------------------

fn proc_status(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `cargo test --release -p peixun-store --test certificates -- --ignored --nocapture bench_`:
/// the time of the confirmation that issues 120 codes (one transaction), and the process's peak
/// resident memory during it (VmHWM reset just before, Linux).
async fn bench_issue(store: Store, label: &str) {
    let c = completed_class(&store, 60, 120, done_day()).await;
    enter(&store, &c, &["pass"; 120]).await;
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = proc_status("VmRSS:");
    let t = std::time::Instant::now();
    let out = certificates::confirm_results(&store, &centre_staff(), c.id, on(2026, 4, 12))
        .await
        .unwrap();
    let elapsed = t.elapsed();
    let hwm = proc_status("VmHWM:");
    assert_eq!(out.issued, 120);
    println!(
        "BENCH {label}: confirm + issue 120 codes in {:.1} ms; RSS before {} KiB, peak during {} KiB",
        elapsed.as_secs_f64() * 1000.0,
        rss_before.unwrap_or(0),
        hwm.unwrap_or(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run in release"]
async fn bench_issue_120_codes_sqlite() {
    let (store, _g) = peixun_store::testing::sqlite_temp().await;
    bench_issue(store, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run in release"]
async fn bench_issue_120_codes_postgres() {
    let (store, _g) = peixun_store::testing::postgres_fresh().await;
    bench_issue(store, "postgres").await;
}

async fn r_vio_2_confirmed_violation_revokes_issued_codes_and_verify_shows_revoked(store: Store) {
    use peixun_domain::workflow::violation::ViolationKind;
    use peixun_store::violations::{self, RecordInput};
    let c = completed_class(&store, 8, 20, done_day()).await;
    enter(&store, &c, &["pass"; 20]).await;
    certificates::confirm_results(&store, &centre_staff(), c.id, on(2026, 4, 12))
        .await
        .unwrap();
    let list = certificates::list_certificates(&store, &inst_user(c.inst, 1), c.id)
        .await
        .unwrap();
    assert_eq!(list.len(), 20);
    let v = violations::record_violation(
        &store,
        &package_files(),
        &centre_staff(),
        &RecordInput {
            institution_id: c.inst,
            kind: ViolationKind::FakeTraining,
            facts: "抽查发现该班次学员未实际参训，签到表系事后补签。".into(),
            class_ids: vec![c.id],
            no_classes: false,
        },
        &[],
        on(2026, 4, 20),
    )
    .await
    .unwrap();
    let preview =
        violations::violation_effects_preview(&store, &centre_admin(), v.id, on(2026, 4, 20))
            .await
            .unwrap();
    assert_eq!(preview.codes_revoked.len(), 1);
    assert_eq!(preview.codes_revoked[0].count, 20);
    // The preview revoked nothing.
    let still = certificates::verify(&store, &list[0].code, &list[0].name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, STATUS_VALID);
    let done = violations::confirm_violation(&store, &centre_admin(), v.id, on(2026, 4, 21))
        .await
        .unwrap();
    assert_eq!(done.effects.unwrap().codes_revoked[0].count, 20);
    for cert in &list {
        let seen = certificates::verify(&store, &cert.code, &cert.name)
            .await
            .unwrap()
            .expect("a revoked code still verifies, as revoked");
        assert_eq!(seen.status, STATUS_REVOKED);
    }
}
