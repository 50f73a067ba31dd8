//! Running a class, monthly reports, inspections, overdue and the sanction (R-RUN-1..4,
//! R-OVD-1/2) on SQLite and PostgreSQL: teacher changes refused for qualification and for lead
//! time (each reason given) and accepted; attendance; monthly reports on time / late / missing;
//! the reminder job run by two servers at once sends each reminder once and catches up; the
//! overdue sweep with an injected date; the 4th overdue class raising the sanction, and
//! confirming it applied in one transaction (audit chain verifies); S6 on every new record.

mod support;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use peixun_domain::calendar::Calendar;
use peixun_domain::workflow::report::ReportStatus;
use peixun_domain::workflow::round::Half;
use peixun_domain::workflow::sanction::SanctionState;
use peixun_store::filings::{self, SlotState};
use peixun_store::inspections::{self, InspectionInput, InspectionKind};
use peixun_store::overdue::{self, FlagDecision};
use peixun_store::reports::{self, MonthlyReportInput};
use peixun_store::running::{self, AttendanceInput, AttendanceMark, TeacherChangeInput};
use peixun_store::teachers::{self, TeacherInput, TeacherQualification};
use peixun_store::{Actor, PageRequest, Store, StoreError, agreements, audit, inbox, worklist};
use support::*;

support::on_both_backends!(
    r_run_1_teacher_change_refused_for_qualification_and_lead_time_accepted_when_both_fine,
    r_run_2_attendance_marks_and_replace,
    r_run_3_monthly_report_on_time_late_missing,
    r_run_3_reminders_two_runners_send_each_once_and_catch_up,
    r_run_4_inspection_rectified_and_closed,
    r_ovd_1_sweep_marks_the_right_classes_on_an_injected_date,
    r_ovd_2_fourth_overdue_raises_sanction_and_confirming_applies_it_in_one_transaction,
    s6_institution_b_cannot_see_or_act_on_a_s_classes_reports_inspections,
);

/// `y-m-d hh:mm:ss` Asia/Shanghai.
fn at(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, mi, s)
        .unwrap()
        .with_timezone(&Utc)
}

/// A filing of `inst` under `agreement` starting on `start`, submitted at t0 as a complete
/// package (only a package filing is approved and started, issue 8).
async fn file(store: &Store, inst: i64, agreement: i64, start: NaiveDate) -> i64 {
    file_package(store, &inst_user(inst, 1), agreement, start, t0())
        .await
        .unwrap()
        .id
}

/// Filed and approved.
async fn approved(store: &Store, inst: i64, agreement: i64, start: NaiveDate) -> i64 {
    let id = file(store, inst, agreement, start).await;
    filings::approve_filing(store, &centre_staff(), id, later(5))
        .await
        .unwrap();
    id
}

/// Approved and started on its start date.
async fn started(store: &Store, inst: i64, agreement: i64, start: NaiveDate) -> i64 {
    let id = approved(store, inst, agreement, start).await;
    running::start_training(
        store,
        &inst_user(inst, 1),
        id,
        at(start.year(), start.month(), start.day(), 9, 0, 0),
    )
    .await
    .unwrap();
    id
}

/// One institution with a signed agreement in a published 2026 round of `base` classes.
async fn setup(store: &Store, n: u32, base: u32) -> (i64, i64, i64) {
    let r = published_round(store, 2026, Half::H1, &format!("2026上半年{n}"), base).await;
    let inst = institution(store, n, false).await;
    let a = signed(store, r.id, inst, base).await;
    (r.id, inst, a)
}

/// A valid 18-digit ID (GB 11643) derived from the name.
fn citizen_id(name: &str) -> String {
    let seq = 100 + name.chars().map(|c| c as u32).sum::<u32>() % 800;
    let body = format!("44010519900101{seq:03}");
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// R-RUN-2: a mark for every trainee on the class's roster, absent at the indexes `absent`.
async fn roster_marks(
    store: &Store,
    viewer: &Actor,
    class: i64,
    absent: &[usize],
) -> Vec<AttendanceMark> {
    let p = peixun_store::filing_package::package_of_filing(store, viewer, class)
        .await
        .unwrap()
        .unwrap();
    peixun_store::roster::list_roster(store, viewer, p.id, false)
        .await
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, t)| AttendanceMark {
            roster_entry_id: t.id,
            present: !absent.contains(&i),
        })
        .collect()
}

async fn teacher(store: &Store, inst: i64, name: &str, occ: &str, level: &str) -> i64 {
    teachers::create_teacher(
        store,
        &inst_user(inst, 0),
        inst,
        &TeacherInput {
            name: name.into(),
            id_number: citizen_id(name),
            phone: "13800138000".into(),
            qualifications: vec![TeacherQualification {
                occupation: occ.into(),
                level: level.into(),
                certificate_no: "Z-001".into(),
            }],
            active: true,
        },
        t0(),
    )
    .await
    .unwrap()
    .id
}

async fn r_run_1_teacher_change_refused_for_qualification_and_lead_time_accepted_when_both_fine(
    store: Store,
) {
    let (_, inst, a) = setup(&store, 1, 10).await;
    let class = approved(&store, inst, a, d(2026, 4, 1)).await;
    let good = teacher(&store, inst, "李秀英", OCC, LEVEL).await;
    let wrong = teacher(&store, inst, "王建华", "中式烹调师", LEVEL).await;
    let cal = Calendar::builtin();
    let user = inst_user(inst, 1);
    // Spec example: a change on 2026-10-08 must be reported by 2026-09-30 (National Day).
    // Reported on 2026-10-06 (a holiday, after the deadline) for 2026-10-08: too late, and the
    // teacher is not qualified: both reasons.
    let err = running::report_teacher_change(
        &store,
        &user,
        &TeacherChangeInput {
            filing_id: class,
            old_teacher_id: None,
            new_teacher_id: wrong,
            effective_on: d(2026, 10, 8),
            note: String::new(),
        },
        &cal,
        at(2026, 10, 6, 10, 0, 0),
    )
    .await
    .unwrap_err();
    let StoreError::Validation { code, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*code, "RUN_TEACHER_CHANGE_LATE");
    assert!(message.contains("2026-09-30"), "{message}");
    assert!(message.contains("资质须与机构评审时一致"), "{message}");
    assert!(message.contains(OCC), "{message}");
    // Only the qualification: reported in time.
    let err = running::report_teacher_change(
        &store,
        &user,
        &TeacherChangeInput {
            filing_id: class,
            old_teacher_id: None,
            new_teacher_id: wrong,
            effective_on: d(2026, 10, 8),
            note: String::new(),
        },
        &cal,
        at(2026, 9, 30, 18, 0, 0),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "RUN_TEACHER_NOT_QUALIFIED");
    // Only the lead time: 2026-03-02 must be reported by 2026-02-28 (a working Saturday).
    let err = running::report_teacher_change(
        &store,
        &user,
        &TeacherChangeInput {
            filing_id: class,
            old_teacher_id: None,
            new_teacher_id: good,
            effective_on: d(2026, 3, 2),
            note: String::new(),
        },
        &cal,
        at(2026, 3, 1, 9, 0, 0),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "RUN_TEACHER_CHANGE_LATE");
    assert!(err.to_string().contains("2026-02-28"), "{err}");
    // Nothing was stored, nothing audited for the refusals.
    let none =
        running::list_teacher_changes(&store, &centre_staff(), false, &PageRequest::default())
            .await
            .unwrap();
    assert_eq!(none.total, 0);
    // Both fine: accepted, and the centre sees it as pending until acknowledged.
    let ok = running::report_teacher_change(
        &store,
        &user,
        &TeacherChangeInput {
            filing_id: class,
            old_teacher_id: Some(wrong),
            new_teacher_id: good,
            effective_on: d(2026, 3, 2),
            note: "原教师病假".into(),
        },
        &cal,
        at(2026, 2, 28, 17, 0, 0),
    )
    .await
    .unwrap();
    assert_eq!(ok.new_teacher_name, "李秀英");
    let pending =
        running::list_teacher_changes(&store, &centre_staff(), true, &PageRequest::default())
            .await
            .unwrap();
    assert_eq!(pending.total, 1);
    let wl = worklist::work_list(&store, &centre_staff(), at(2026, 2, 28, 18, 0, 0))
        .await
        .unwrap();
    assert!(
        wl.items
            .iter()
            .any(|i| i.kind == "teacher_changes" && i.count == 1)
    );
    running::acknowledge_teacher_change(&store, &centre_staff(), ok.id, at(2026, 3, 1, 9, 0, 0))
        .await
        .unwrap();
    let pending =
        running::list_teacher_changes(&store, &centre_staff(), true, &PageRequest::default())
            .await
            .unwrap();
    assert_eq!(pending.total, 0);
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_run_2_attendance_marks_and_replace(store: Store) {
    let (_, inst, a) = setup(&store, 2, 10).await;
    let class = approved(&store, inst, a, d(2026, 4, 1)).await;
    let user = inst_user(inst, 1);
    let input = AttendanceInput {
        filing_id: class,
        session_date: d(2026, 4, 1),
        session_label: "上午 理论".into(),
        marks: roster_marks(&store, &user, class, &[1]).await,
        sign_in_file_id: None,
    };
    // Before training starts: refused (R-FIL-5), and before the start date it cannot start.
    let err = running::record_attendance(&store, &user, &input, at(2026, 4, 1, 12, 0, 0))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "RUN_CLASS_STATE");
    let err = running::start_training(&store, &user, class, at(2026, 3, 31, 9, 0, 0))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "WF_BEFORE_START");
    running::start_training(&store, &user, class, at(2026, 4, 1, 8, 0, 0))
        .await
        .unwrap();
    let v = running::record_attendance(&store, &user, &input, at(2026, 4, 1, 12, 0, 0))
        .await
        .unwrap();
    assert_eq!((v.present_count, v.absent_count), (23, 1));
    // The same session again replaces it.
    let mut again = input.clone();
    again.marks[1].present = true;
    let v2 = running::record_attendance(&store, &user, &again, at(2026, 4, 1, 13, 0, 0))
        .await
        .unwrap();
    assert_eq!(v2.id, v.id);
    assert_eq!((v2.present_count, v2.absent_count), (24, 0));
    // A future session date is refused.
    let mut future = input.clone();
    future.session_date = d(2026, 4, 3);
    let err = running::record_attendance(&store, &user, &future, at(2026, 4, 2, 9, 0, 0))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "RUN_SESSION_DATE");
    let detail = running::get_class(&store, &centre_staff(), class, at(2026, 4, 2, 9, 0, 0))
        .await
        .unwrap();
    assert_eq!(detail.attendance.len(), 1);
    assert_eq!(detail.class.started_on, Some(d(2026, 4, 1)));
    // Complete training and exam on time: subsidy eligible.
    running::complete_training(
        &store,
        &user,
        class,
        d(2026, 4, 20),
        at(2026, 4, 21, 9, 0, 0),
    )
    .await
    .unwrap();
    let c = running::complete_exam(
        &store,
        &user,
        class,
        d(2026, 4, 25),
        at(2026, 4, 25, 18, 0, 0),
    )
    .await
    .unwrap();
    assert_eq!(c.status, "completed");
    assert!(c.subsidy_eligible);
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_run_3_monthly_report_on_time_late_missing(store: Store) {
    // Three institutions with agreements signed at t0 (2026-03-02): all owe March's report.
    let r = published_round(&store, 2026, Half::H1, "2026上半年", 30).await;
    let on_time = institution(&store, 31, false).await;
    let late = institution(&store, 32, false).await;
    let missing = institution(&store, 33, false).await;
    for i in [on_time, late, missing] {
        signed(&store, r.id, i, 5).await;
    }
    let input = |_i: i64| MonthlyReportInput {
        year: 2026,
        month: 3,
        classes_run: 2,
        trainees: 45,
        exams: 1,
        problems: "无".into(),
    };
    // 23:59:59 on the 25th (+08:00) is on time; 00:00:00 on the 26th is late.
    let v = reports::submit_report(
        &store,
        &inst_user(on_time, 1),
        &input(on_time),
        at(2026, 3, 25, 23, 59, 59),
    )
    .await
    .unwrap();
    assert!(!v.late);
    let v = reports::submit_report(
        &store,
        &inst_user(late, 1),
        &input(late),
        at(2026, 3, 26, 0, 0, 0),
    )
    .await
    .unwrap();
    assert!(v.late);
    // Once per month.
    let err = reports::submit_report(
        &store,
        &inst_user(late, 1),
        &input(late),
        at(2026, 3, 27, 0, 0, 0),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "RPT_ALREADY_SUBMITTED");
    // A month not begun is refused.
    let mut future = input(on_time);
    future.month = 5;
    let err = reports::submit_report(
        &store,
        &inst_user(on_time, 1),
        &future,
        at(2026, 4, 1, 9, 0, 0),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "RPT_FUTURE_MONTH");
    // Before the day: the missing one is not yet due.
    let list = reports::report_statuses(&store, &centre_staff(), 2026, 3, d(2026, 3, 25))
        .await
        .unwrap();
    let status = |l: &reports::ReportStatusList, i: i64| {
        l.rows
            .iter()
            .find(|r| r.institution_id == i)
            .unwrap()
            .status
    };
    assert_eq!(status(&list, missing), ReportStatus::NotYetDue);
    let list = reports::report_statuses(&store, &centre_staff(), 2026, 3, d(2026, 3, 26))
        .await
        .unwrap();
    assert_eq!(status(&list, on_time), ReportStatus::OnTime);
    assert_eq!(status(&list, late), ReportStatus::Late);
    assert_eq!(status(&list, missing), ReportStatus::Missing);
    assert_eq!((list.on_time, list.late, list.missing), (1, 1, 1));
    // An institution sees only its own line (S6).
    let own = reports::report_statuses(&store, &inst_user(missing, 1), 2026, 3, d(2026, 3, 26))
        .await
        .unwrap();
    assert_eq!(own.rows.len(), 1);
    assert_eq!(own.rows[0].institution_id, missing);
    // The centre's work list counts missing and late.
    let wl = worklist::work_list(&store, &centre_staff(), at(2026, 3, 27, 9, 0, 0))
        .await
        .unwrap();
    let it = wl
        .items
        .iter()
        .find(|i| i.kind == "monthly_reports")
        .unwrap();
    assert_eq!(it.count, 2);
    assert_eq!(it.deadline, Some(d(2026, 3, 25)));
}

async fn r_run_3_reminders_two_runners_send_each_once_and_catch_up(store: Store) {
    let guard_url = store_url(&store).await;
    let r = published_round(&store, 2026, Half::H1, "2026上半年", 30).await;
    let a = institution(&store, 41, false).await;
    let b = institution(&store, 42, false).await;
    for i in [a, b] {
        signed(&store, r.id, i, 5).await;
    }
    // b reports April early; a does not.
    reports::submit_report(
        &store,
        &inst_user(b, 1),
        &MonthlyReportInput {
            year: 2026,
            month: 4,
            classes_run: 1,
            trainees: 20,
            exams: 0,
            problems: String::new(),
        },
        at(2026, 4, 10, 9, 0, 0),
    )
    .await
    .unwrap();
    // A second server on the same database.
    let other = match guard_url {
        Some(url) => Store::connect(&url).await.unwrap(),
        None => store.clone(),
    };
    // Servers were down from the 21st; both come back on the 24th at 08:00 and tick at once,
    // ten times each: the d-3 (22nd, missed) and d-1 (24th) reminders are each sent once.
    let now = at(2026, 4, 24, 8, 0, 0);
    let mut tasks = Vec::new();
    for k in 0..20 {
        let s = if k % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            reports::reminder_tick(&s, &format!("server-{}", k % 2), now)
                .await
                .unwrap()
        }));
    }
    let mut sent = Vec::new();
    for t in tasks {
        sent.extend(t.await.unwrap());
    }
    sent.sort();
    assert_eq!(
        sent.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        vec!["2026-04:d-1", "2026-04:d-3"]
    );
    assert!(sent.iter().all(|(_, insts)| insts == &vec![a]));
    let msgs = inbox::list_inbox(&store, &Actor::system("t"), a)
        .await
        .unwrap();
    assert_eq!(
        msgs.iter()
            .filter(|m| m.title.contains("4月开展情况"))
            .count(),
        2
    );
    let msgs = inbox::list_inbox(&store, &Actor::system("t"), b)
        .await
        .unwrap();
    assert!(msgs.iter().all(|m| !m.title.contains("4月开展情况")));
    // Later ticks that day and after the due date send nothing more.
    assert!(
        reports::reminder_tick(&store, "server-0", now + Duration::hours(3))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        reports::reminder_tick(&store, "server-1", at(2026, 4, 26, 8, 0, 0))
            .await
            .unwrap()
            .is_empty()
    );
    // May's d-3 on the 22nd.
    let may = reports::reminder_tick(&other, "server-1", at(2026, 5, 22, 0, 5, 0))
        .await
        .unwrap();
    assert_eq!(may.len(), 1);
    assert_eq!(may[0].0, "2026-05:d-3");
    assert_eq!(may[0].1, vec![a, b]);
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

/// The URL of a second connection to the same database (None: reuse the store).
async fn store_url(store: &Store) -> Option<String> {
    match store.backend() {
        peixun_store::Backend::Postgres => {
            use sea_orm::ConnectionTrait;
            let row = store
                .db()
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT current_database()",
                ))
                .await
                .ok()??;
            let name: String = row.try_get_by_index(0).ok()?;
            let base = std::env::var("PEIXUN_TEST_PG_URL")
                .unwrap_or_else(|_| peixun_store::testing::DEFAULT_PG_URL.into());
            let (b, _) = base.rsplit_once('/')?;
            Some(format!("{b}/{name}"))
        }
        peixun_store::Backend::Sqlite => None,
    }
}

async fn r_run_4_inspection_rectified_and_closed(store: Store) {
    let (_, inst, a) = setup(&store, 5, 10).await;
    let class = started(&store, inst, a, d(2026, 4, 1)).await;
    let input = InspectionInput {
        severity: None,
        filing_id: class,
        inspected_on: d(2026, 4, 8),
        kind: InspectionKind::OnSite,
        findings: "签到表缺少3名学员签名".into(),
        photos: vec![],
        rectification_required: true,
        rectification_due: None,
    };
    let err =
        inspections::record_inspection(&store, &centre_staff(), &input, at(2026, 4, 8, 15, 0, 0))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "INS_DUE_REQUIRED");
    let mut input = input;
    input.rectification_due = Some(d(2026, 4, 15));
    let err = inspections::record_inspection(
        &store,
        &inst_user(inst, 1),
        &input,
        at(2026, 4, 8, 15, 0, 0),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    let v =
        inspections::record_inspection(&store, &centre_staff(), &input, at(2026, 4, 8, 15, 0, 0))
            .await
            .unwrap();
    assert_eq!(v.status, "rectifying");
    let wl = worklist::work_list(&store, &inst_user(inst, 0), at(2026, 4, 9, 9, 0, 0))
        .await
        .unwrap();
    let it = wl
        .items
        .iter()
        .find(|i| i.kind == "inspections_rectify")
        .unwrap();
    assert_eq!(it.deadline, Some(d(2026, 4, 15)));
    // Closing before the rectification report is allowed for the centre; here the institution
    // reports first.
    let v = inspections::report_rectification(
        &store,
        &inst_user(inst, 1),
        v.id,
        "已补签并加强管理",
        at(2026, 4, 10, 9, 0, 0),
    )
    .await
    .unwrap();
    assert_eq!(v.status, "rectified");
    let v = inspections::close_inspection(
        &store,
        &centre_staff(),
        v.id,
        "复核通过",
        at(2026, 4, 11, 9, 0, 0),
    )
    .await
    .unwrap();
    assert_eq!(v.status, "closed");
    let err = inspections::close_inspection(
        &store,
        &centre_staff(),
        v.id,
        "again",
        at(2026, 4, 11, 9, 0, 0),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "INS_STATE");
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_ovd_1_sweep_marks_the_right_classes_on_an_injected_date(store: Store) {
    let (_, inst, a) = setup(&store, 6, 10).await;
    let unstarted = approved(&store, inst, a, d(2026, 4, 1)).await; // last day 05-01
    let running_ = started(&store, inst, a, d(2026, 4, 1)).await; // last day 05-01
    let done = started(&store, inst, a, d(2026, 4, 1)).await;
    let later_one = started(&store, inst, a, d(2026, 4, 10)).await; // last day 05-10
    let user = inst_user(inst, 1);
    running::complete_training(
        &store,
        &user,
        done,
        d(2026, 4, 28),
        at(2026, 4, 28, 12, 0, 0),
    )
    .await
    .unwrap();
    running::complete_exam(&store, &user, done, d(2026, 5, 1), at(2026, 5, 1, 12, 0, 0))
        .await
        .unwrap();
    // On the last day itself nothing is overdue.
    let out = overdue::sweep(&store, d(2026, 5, 1), at(2026, 5, 1, 1, 0, 0))
        .await
        .unwrap();
    assert!(out.marked.is_empty());
    let out = overdue::sweep(&store, d(2026, 5, 2), at(2026, 5, 2, 1, 0, 0))
        .await
        .unwrap();
    assert_eq!(out.marked, vec![unstarted, running_]);
    assert!(out.sanctions_raised.is_empty());
    // Idempotent.
    let out = overdue::sweep(&store, d(2026, 5, 2), at(2026, 5, 2, 2, 0, 0))
        .await
        .unwrap();
    assert!(out.marked.is_empty());
    let c = running::get_class(&store, &centre_staff(), running_, at(2026, 5, 2, 2, 0, 0))
        .await
        .unwrap()
        .class;
    assert!(c.overdue && !c.subsidy_eligible);
    // Completing an overdue class keeps it overdue (no subsidy); it still counts once.
    running::complete_training(
        &store,
        &user,
        running_,
        d(2026, 5, 3),
        at(2026, 5, 3, 12, 0, 0),
    )
    .await
    .unwrap();
    let c = running::complete_exam(
        &store,
        &user,
        running_,
        d(2026, 5, 4),
        at(2026, 5, 4, 12, 0, 0),
    )
    .await
    .unwrap();
    assert_eq!(c.status, "completed");
    assert!(c.overdue && !c.subsidy_eligible);
    // Completing late without the sweep having run also makes a class overdue.
    running::complete_training(
        &store,
        &user,
        later_one,
        d(2026, 5, 11),
        at(2026, 5, 11, 12, 0, 0),
    )
    .await
    .unwrap();
    let list = overdue::list_overdue(
        &store,
        &centre_staff(),
        Some(2026),
        &PageRequest::default(),
        at(2026, 5, 12, 0, 0, 0),
    )
    .await
    .unwrap();
    let ids: Vec<i64> = list.items.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![unstarted, running_, later_one]);
    // The job claims the day once.
    let first = overdue::sweep_tick(&store, "server-a", at(2026, 5, 12, 0, 5, 0))
        .await
        .unwrap();
    assert!(first.is_some());
    let second = overdue::sweep_tick(&store, "server-b", at(2026, 5, 12, 0, 6, 0))
        .await
        .unwrap();
    assert!(second.is_none());
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_ovd_2_fourth_overdue_raises_sanction_and_confirming_applies_it_in_one_transaction(
    store: Store,
) {
    // Round of 14: A (cap 7) fills 7 slots, B (cap 7) fills 7, C waits for a released slot.
    let r = published_round(&store, 2026, Half::H1, "2026上半年", 14).await;
    let ia = institution(&store, 71, false).await;
    let ib = institution(&store, 72, false).await;
    let ic = institution(&store, 73, false).await;
    let aa = signed(&store, r.id, ia, 7).await;
    let ab = signed(&store, r.id, ib, 7).await;
    let ac = signed(&store, r.id, ic, 7).await;
    let mut overdue_classes = Vec::new();
    for _ in 0..4 {
        overdue_classes.push(started(&store, ia, aa, d(2026, 4, 1)).await);
    }
    let running_ = started(&store, ia, aa, d(2026, 4, 20)).await; // last day 05-20
    let unstarted = approved(&store, ia, aa, d(2026, 6, 1)).await;
    let pending = file(&store, ia, aa, d(2026, 6, 10)).await;
    for _ in 0..7 {
        file(&store, ib, ab, d(2026, 6, 1)).await;
    }
    let waiting_c = file(&store, ic, ac, d(2026, 6, 1)).await;
    let fc = filings::get_filing(&store, &centre_staff(), waiting_c)
        .await
        .unwrap();
    assert_eq!(fc.slot_state, SlotState::Waiting);
    // Three overdue: no sanction. The 4th raises it.
    let out = overdue::sweep(&store, d(2026, 5, 2), at(2026, 5, 2, 1, 0, 0))
        .await
        .unwrap();
    assert_eq!(out.marked, overdue_classes);
    assert_eq!(out.sanctions_raised.len(), 1);
    let s = overdue::get_sanction(&store, &centre_admin(), out.sanctions_raised[0])
        .await
        .unwrap();
    assert_eq!((s.year, s.count, s.state), (2026, 4, SanctionState::Raised));
    assert_eq!(s.trigger_filing_id, overdue_classes[3]);
    assert_eq!(
        s.actions,
        vec!["confirm".to_string(), "dismiss".to_string()]
    );
    // The centre_admin's work list shows it.
    let wl = worklist::work_list(&store, &centre_admin(), at(2026, 5, 2, 9, 0, 0))
        .await
        .unwrap();
    assert!(
        wl.items
            .iter()
            .any(|i| i.kind == "sanctions_to_confirm" && i.count == 1)
    );
    // Staff cannot confirm; dismissing needs a reason.
    let err = overdue::confirm_sanction(&store, &centre_staff(), s.id, at(2026, 5, 2, 9, 0, 0))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    let err =
        overdue::dismiss_sanction(&store, &centre_admin(), s.id, " ", at(2026, 5, 2, 9, 0, 0))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "WF_REASON_REQUIRED");
    let audit_before = audit::count(&store).await.unwrap();
    let s = overdue::confirm_sanction(&store, &centre_admin(), s.id, at(2026, 5, 2, 10, 0, 0))
        .await
        .unwrap();
    assert_eq!(s.state, SanctionState::Applied);
    let e = s.effects.clone().unwrap();
    assert_eq!(e.agreements_terminated, vec![aa]);
    let mut cancelled = e.filings_cancelled.clone();
    cancelled.sort();
    assert_eq!(cancelled, vec![unstarted, pending]);
    // Started classes, overdue ones included, are flagged, not cancelled (sanction_effect).
    let mut flagged = overdue_classes.clone();
    flagged.push(running_);
    assert_eq!(e.classes_flagged, flagged);
    assert_eq!(e.promoted, vec![waiting_c]);
    // One transaction: the confirmation, the termination and the two cancellations (+ what the
    // promotion writes nothing of its own) — all there, and the chain verifies.
    let audit_after = audit::count(&store).await.unwrap();
    assert_eq!(audit_after - audit_before, 4);
    assert!(audit::verify(&store).await.unwrap().is_ok());
    let ag = agreements::get_agreement(&store, &centre_admin(), aa)
        .await
        .unwrap();
    assert_eq!(ag.state.code(), "terminated");
    for id in [unstarted, pending] {
        let f = filings::get_filing(&store, &centre_staff(), id)
            .await
            .unwrap();
        assert_eq!(f.status, "cancelled");
        assert_eq!(f.slot_state, SlotState::Released);
    }
    let fc = filings::get_filing(&store, &centre_staff(), waiting_c)
        .await
        .unwrap();
    assert_eq!(fc.slot_state, SlotState::Holding);
    // The running class stays running, flagged; the centre decides it.
    let flags = overdue::list_flags(&store, &centre_admin(), true)
        .await
        .unwrap();
    assert_eq!(flags.len(), 5);
    assert_eq!(flags[4].filing_id, running_);
    let f = overdue::decide_flag(
        &store,
        &centre_admin(),
        flags[4].id,
        FlagDecision::Continue,
        "已开课过半，允许完成",
        at(2026, 5, 3, 9, 0, 0),
    )
    .await
    .unwrap();
    assert_eq!(f.decision.as_deref(), Some("continue"));
    // Cancelling a flagged overdue class releases its slot to nobody waiting (C already holds).
    let f = overdue::decide_flag(
        &store,
        &centre_admin(),
        flags[0].id,
        FlagDecision::Cancel,
        "超期且未完成，取消",
        at(2026, 5, 3, 9, 30, 0),
    )
    .await
    .unwrap();
    assert_eq!(f.decision.as_deref(), Some("cancel"));
    let c = filings::get_filing(&store, &centre_staff(), overdue_classes[0])
        .await
        .unwrap();
    assert_eq!(c.status, "cancelled");
    assert_eq!(
        overdue::list_flags(&store, &centre_admin(), true)
            .await
            .unwrap()
            .len(),
        3
    );
    // The institution was told.
    let msgs = inbox::list_inbox(&store, &inst_user(ia, 0), ia)
        .await
        .unwrap();
    assert!(msgs.iter().any(|m| m.title.contains("取消2026年培训资格")));
    // No new filing under the terminated agreement (R-AGR-1).
    let err = file_package(&store, &inst_user(ia, 1), aa, d(2026, 7, 1), t0())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "AGREEMENT_TERMINATED");
    // A second confirmation is refused.
    let err = overdue::confirm_sanction(&store, &centre_admin(), s.id, at(2026, 5, 3, 10, 0, 0))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "WF_INVALID_TRANSITION");
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn s6_institution_b_cannot_see_or_act_on_a_s_classes_reports_inspections(store: Store) {
    let (r, ia, aa) = setup(&store, 81, 10).await;
    let ib = institution(&store, 82, false).await;
    signed(&store, r, ib, 5).await;
    let class = started(&store, ia, aa, d(2026, 4, 1)).await;
    let tb = teacher(&store, ib, "赵敏", OCC, LEVEL).await;
    let ta = teacher(&store, ia, "钱伟", OCC, LEVEL).await;
    let b = inst_user(ib, 1);
    let now = at(2026, 4, 2, 9, 0, 0);
    assert_eq!(
        running::get_class(&store, &b, class, now)
            .await
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    assert_eq!(
        running::start_training(&store, &b, class, now)
            .await
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    assert_eq!(
        running::complete_training(&store, &b, class, d(2026, 4, 2), now)
            .await
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    let tc = |t: i64| TeacherChangeInput {
        filing_id: class,
        old_teacher_id: None,
        new_teacher_id: t,
        effective_on: d(2026, 4, 10),
        note: String::new(),
    };
    let cal = Calendar::builtin();
    assert_eq!(
        running::report_teacher_change(&store, &b, &tc(tb), &cal, now)
            .await
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    // A's class with B's teacher, by A: refused (not A's teacher).
    assert_eq!(
        running::report_teacher_change(&store, &inst_user(ia, 1), &tc(tb), &cal, now)
            .await
            .unwrap_err()
            .code(),
        "RUN_TEACHER_UNKNOWN"
    );
    let ok = running::report_teacher_change(&store, &inst_user(ia, 1), &tc(ta), &cal, now)
        .await
        .unwrap();
    assert_eq!(
        running::acknowledge_teacher_change(&store, &b, ok.id, now)
            .await
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    let att = AttendanceInput {
        filing_id: class,
        session_date: d(2026, 4, 1),
        session_label: "上午".into(),
        marks: roster_marks(&store, &inst_user(ia, 1), class, &[]).await,
        sign_in_file_id: None,
    };
    assert_eq!(
        running::record_attendance(&store, &b, &att, now)
            .await
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    let rep = reports::submit_report(
        &store,
        &inst_user(ia, 1),
        &MonthlyReportInput {
            year: 2026,
            month: 4,
            classes_run: 1,
            trainees: 20,
            exams: 0,
            problems: String::new(),
        },
        now,
    )
    .await
    .unwrap();
    assert_eq!(
        reports::get_report(&store, &b, rep.id)
            .await
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    let ins = inspections::record_inspection(
        &store,
        &centre_staff(),
        &InspectionInput {
            severity: None,
            filing_id: class,
            inspected_on: d(2026, 4, 2),
            kind: InspectionKind::Spot,
            findings: "课时不足".into(),
            photos: vec![],
            rectification_required: true,
            rectification_due: Some(d(2026, 4, 9)),
        },
        now,
    )
    .await
    .unwrap();
    assert_eq!(
        inspections::get_inspection(&store, &b, ins.id)
            .await
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    assert_eq!(
        inspections::report_rectification(&store, &b, ins.id, "x", now)
            .await
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    // B's lists hold nothing of A's.
    let p = PageRequest::default();
    assert_eq!(
        running::list_classes(&store, &b, &Default::default(), &p, now)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        running::list_teacher_changes(&store, &b, false, &p)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        reports::list_reports(&store, &b, &p).await.unwrap().total,
        0
    );
    assert_eq!(
        inspections::list_inspections(&store, &b, &Default::default(), &p)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        overdue::list_sanctions(&store, &b, false, &p)
            .await
            .unwrap()
            .total,
        0
    );
    // A sees its own.
    let a = inst_user(ia, 1);
    assert_eq!(
        running::list_classes(&store, &a, &Default::default(), &p, now)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        inspections::list_inspections(&store, &a, &Default::default(), &p)
            .await
            .unwrap()
            .total,
        1
    );
}
