//! R-RUN-2 attendance marks tied to roster rows, on SQLite and PostgreSQL: a mark names a
//! trainee on the class's current roster; a stranger's entry (another class), a duplicate, a
//! missing trainee and a label with a bidi override are refused and nothing is written;
//! recording a session again replaces its marks (old and new in the audit row); an approved
//! roster change carries the marks over; the migration 000070 data step moves old free-name
//! marks that match one trainee and keeps the rest; institution B can neither record nor read
//! A's attendance (S6).

mod support;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use peixun_domain::workflow::round::Half;
use peixun_store::attendance::{self, AttendanceInput, AttendanceMark};
use peixun_store::entity::attendance_record;
use peixun_store::migration::m20261203_000070_attendance_marks::move_json_marks;
use peixun_store::ready_package::{self, ReadyPackage};
use peixun_store::roster::{self, ImportOutcome, TraineeView};
use peixun_store::{
    Actor, PageRequest, Store, StoreError, audit, filing_package, filings, review, running,
};
use sea_orm::{ActiveModelTrait, Set};
use support::*;

support::on_both_backends!(
    r_run_2_marks_name_roster_rows_with_row_name_and_masked_id,
    r_run_2_stranger_duplicate_and_missing_refused_nothing_written,
    r_run_2_recording_again_replaces_the_marks,
    r_run_2_roster_change_carries_marks_over,
    r_run_2_migration_moves_matching_json_marks_and_keeps_the_rest,
    s6_institution_b_cannot_record_or_read_a_s_attendance,
);

/// `y-m-d hh:00` Asia/Shanghai.
fn at(day: NaiveDate, h: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(day.year(), day.month(), day.day(), h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

const START: (i32, u32, u32) = (2026, 4, 1);

fn start() -> NaiveDate {
    d(START.0, START.1, START.2)
}

/// One institution with a signed agreement in a published round.
async fn setup(store: &Store, n: u32) -> (i64, i64) {
    let r = published_round(store, 2026, Half::H1, &format!("2026上半年{n}"), 10).await;
    let inst = institution(store, n, false).await;
    let a = signed(store, r.id, inst, 10).await;
    (inst, a)
}

/// A class of `inst` with a 24-trainee roster (seed `seed`), approved and started on START.
async fn started_class(store: &Store, inst: i64, agreement: i64, seed: u64) -> i64 {
    let user = inst_user(inst, 1);
    let mut spec = ReadyPackage::new(agreement, OCC, LEVEL, start());
    spec.roster_seed = seed;
    let f = ready_package::file(store, &package_files(), &roster_key(), &user, &spec, t0())
        .await
        .unwrap();
    filings::approve_filing(store, &centre_staff(), f.id, later(5))
        .await
        .unwrap();
    running::start_training(store, &user, f.id, at(start(), 8))
        .await
        .unwrap();
    f.id
}

async fn roster_of(store: &Store, viewer: &Actor, class: i64) -> Vec<TraineeView> {
    let p = filing_package::package_of_filing(store, viewer, class)
        .await
        .unwrap()
        .unwrap();
    roster::list_roster(store, viewer, p.id, false)
        .await
        .unwrap()
}

fn input(class: i64, marks: Vec<AttendanceMark>) -> AttendanceInput {
    AttendanceInput {
        filing_id: class,
        session_date: start(),
        session_label: "上午 理论".into(),
        marks,
        sign_in_file_id: None,
    }
}

/// Everyone present but the rows at `absent` (indexes into the roster).
fn marks(roster: &[TraineeView], absent: &[usize]) -> Vec<AttendanceMark> {
    roster
        .iter()
        .enumerate()
        .map(|(i, t)| AttendanceMark {
            roster_entry_id: t.id,
            present: !absent.contains(&i),
        })
        .collect()
}

fn validation(e: StoreError) -> (&'static str, String, Option<String>) {
    match e {
        StoreError::Validation {
            code,
            message,
            field,
        } => (code, message, field),
        other => panic!("not a validation error: {other:?}"),
    }
}

async fn r_run_2_marks_name_roster_rows_with_row_name_and_masked_id(store: Store) {
    let (inst, a) = setup(&store, 1).await;
    let class = started_class(&store, inst, a, 4101).await;
    let user = inst_user(inst, 1);
    let roster = roster_of(&store, &user, class).await;
    assert_eq!(roster.len(), 24);
    let v = attendance::record_attendance(
        &store,
        &user,
        &input(class, marks(&roster, &[2, 5])),
        at(start(), 12),
    )
    .await
    .unwrap();
    assert_eq!((v.present_count, v.absent_count), (22, 2));
    assert_eq!(v.marks.len(), 24);
    assert!(v.unlinked_marks.is_empty());
    let third = &v.marks[2];
    assert_eq!(third.roster_entry_id, roster[2].id);
    assert_eq!(third.row_number, roster[2].row_number);
    assert_eq!(third.name, roster[2].name);
    assert_eq!(third.id_number_masked, roster[2].id_number_masked);
    assert!(third.id_number_masked.contains('*'));
    assert!(!third.present);
    assert_eq!(
        v.absent_names(),
        vec![roster[2].name.clone(), roster[5].name.clone()]
    );
    // The centre reads the same through the class and the attendance list.
    let list = attendance::list_attendance(&store, &centre_staff(), class)
        .await
        .unwrap();
    assert_eq!(list, vec![v.clone()]);
    let detail = running::get_class(&store, &centre_staff(), class, at(start(), 13))
        .await
        .unwrap();
    assert_eq!(detail.attendance, vec![v]);
    // A sheet-only record: no marks at all is allowed with a sign-in sheet.
    let sheet = running::put_signin_sheet(
        &store,
        &package_files(),
        &user,
        class,
        support::packages::PDF,
        "签到表.pdf",
        at(start(), 14),
    )
    .await
    .unwrap();
    let mut only_sheet = input(class, vec![]);
    only_sheet.session_label = "下午 实操".into();
    only_sheet.sign_in_file_id = Some(sheet.id);
    let v = attendance::record_attendance(&store, &user, &only_sheet, at(start(), 17))
        .await
        .unwrap();
    assert!(v.marks.is_empty());
    assert_eq!((v.present_count, v.absent_count), (0, 0));
}

async fn r_run_2_stranger_duplicate_and_missing_refused_nothing_written(store: Store) {
    let (inst, a) = setup(&store, 2).await;
    let class = started_class(&store, inst, a, 4201).await;
    let other = started_class(&store, inst, a, 4202).await;
    let user = inst_user(inst, 1);
    let roster = roster_of(&store, &user, class).await;
    let stranger = roster_of(&store, &user, other).await;
    let audits = audit::count(&store).await.unwrap();
    let now = at(start(), 12);

    // A trainee of another class (same institution) instead of row 4.
    let mut m = marks(&roster, &[]);
    m[3].roster_entry_id = stranger[0].id;
    let err = attendance::record_attendance(&store, &user, &input(class, m), now)
        .await
        .unwrap_err();
    let (code, message, field) = validation(err);
    assert_eq!(code, "RUN_MARK_NOT_ON_ROSTER");
    assert_eq!(field.as_deref(), Some("marks"));
    assert!(message.contains("第4条"), "{message}");

    // The same trainee twice.
    let mut m = marks(&roster, &[]);
    m[3].roster_entry_id = roster[0].id;
    let (code, message, field) = validation(
        attendance::record_attendance(&store, &user, &input(class, m), now)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "RUN_MARK_DUPLICATE");
    assert_eq!(field.as_deref(), Some("marks"));
    assert!(message.contains(&roster[0].name), "{message}");

    // Two trainees left out: both named.
    let m: Vec<_> = marks(&roster, &[]).into_iter().skip(2).collect();
    let (code, message, field) = validation(
        attendance::record_attendance(&store, &user, &input(class, m), now)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "RUN_MARKS_INCOMPLETE");
    assert_eq!(field.as_deref(), Some("marks"));
    assert!(message.contains(&roster[0].name), "{message}");
    assert!(message.contains(&roster[1].name), "{message}");

    // Neither marks nor a sheet.
    let (code, _, field) = validation(
        attendance::record_attendance(&store, &user, &input(class, vec![]), now)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "RUN_ATTENDANCE_EMPTY");
    assert_eq!(field.as_deref(), Some("marks"));

    // A session label with a bidi override.
    let mut spoofed = input(class, marks(&roster, &[]));
    spoofed.session_label = "上午\u{202E}论理".into();
    let (code, _, field) = validation(
        attendance::record_attendance(&store, &user, &spoofed, now)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "TEXT_CONTROL_CHARS");
    assert_eq!(field.as_deref(), Some("session_label"));

    // Nothing written, nothing audited.
    assert!(
        attendance::list_attendance(&store, &user, class)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(audit::count(&store).await.unwrap(), audits);
}

async fn r_run_2_recording_again_replaces_the_marks(store: Store) {
    let (inst, a) = setup(&store, 3).await;
    let class = started_class(&store, inst, a, 4301).await;
    let user = inst_user(inst, 1);
    let roster = roster_of(&store, &user, class).await;
    let first = attendance::record_attendance(
        &store,
        &user,
        &input(class, marks(&roster, &[0])),
        at(start(), 12),
    )
    .await
    .unwrap();
    let second = attendance::record_attendance(
        &store,
        &user,
        &input(class, marks(&roster, &[7, 8, 9])),
        at(start(), 13),
    )
    .await
    .unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!((second.present_count, second.absent_count), (21, 3));
    assert_eq!(second.marks.len(), 24);
    assert!(second.marks[0].present);
    assert!(!second.marks[8].present);
    let list = attendance::list_attendance(&store, &user, class)
        .await
        .unwrap();
    assert_eq!(list, vec![second.clone()]);
    // The audit row shows the old and the new marks.
    let entries = audit::search(
        &store,
        &Actor::system("test"),
        &audit::AuditFilter {
            action: Some("class.attendance".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(entries.total, 2);
    let last = &entries.items[0];
    let old = last.old_value.as_ref().expect("old value");
    let new = last.new_value.as_ref().expect("new value");
    assert_eq!(old["absent_count"], 1);
    assert_eq!(old["marks"][0]["present"], false);
    assert_eq!(old["marks"][0]["name"], roster[0].name.as_str());
    assert_eq!(new["absent_count"], 3);
    assert_eq!(new["marks"][8]["present"], false);
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_run_2_roster_change_carries_marks_over(store: Store) {
    let (inst, a) = setup(&store, 4).await;
    let seed = 4401;
    let class = started_class(&store, inst, a, seed).await;
    let user = inst_user(inst, 1);
    let roster = roster_of(&store, &user, class).await;
    attendance::record_attendance(
        &store,
        &user,
        &input(class, marks(&roster, &[1, 22])),
        at(start(), 12),
    )
    .await
    .unwrap();
    // The roster change: the first 22 trainees stay, the last two leave, two others join.
    let mut rows = roster::synthetic_rows(24, seed);
    rows.truncate(22);
    rows.extend(roster::synthetic_rows(2, 99_4401));
    let pkg = filing_package::package_of_filing(&store, &user, class)
        .await
        .unwrap()
        .unwrap()
        .id;
    let out = roster::import_roster(
        &store,
        &user,
        &roster_key(),
        pkg,
        &support::packages::csv(&rows),
        None,
        at(start() + Duration::days(1), 9),
    )
    .await
    .unwrap();
    assert!(
        matches!(out, ImportOutcome::Imported(ref r) if r.pending_review),
        "{out:?}"
    );
    review::decide_roster_change(
        &store,
        &centre_staff(),
        class,
        true,
        "",
        at(start() + Duration::days(1), 15),
    )
    .await
    .unwrap();
    let new_roster = roster_of(&store, &user, class).await;
    assert_eq!(new_roster.len(), 24);
    let list = attendance::list_attendance(&store, &user, class)
        .await
        .unwrap();
    let v = &list[0];
    // Counts unchanged: 22 linked to the new rows, the two leavers kept by name.
    assert_eq!((v.present_count, v.absent_count), (22, 2));
    assert_eq!(v.marks.len(), 22);
    assert!(
        v.marks
            .iter()
            .all(|m| new_roster.iter().any(|t| t.id == m.roster_entry_id))
    );
    let second = v.marks.iter().find(|m| m.name == roster[1].name).unwrap();
    assert!(!second.present);
    let gone: Vec<_> = v.unlinked_marks.iter().map(|m| m.trainee.clone()).collect();
    assert_eq!(gone, vec![roster[22].name.clone(), roster[23].name.clone()]);
    assert!(!v.unlinked_marks[0].present);
    assert!(v.unlinked_marks[1].present);
    // The next session covers the new roster.
    let mut next = input(class, marks(&new_roster, &[]));
    next.session_date = start() + Duration::days(2);
    attendance::record_attendance(&store, &user, &next, at(start() + Duration::days(2), 12))
        .await
        .unwrap();
}

async fn r_run_2_migration_moves_matching_json_marks_and_keeps_the_rest(store: Store) {
    let (inst, a) = setup(&store, 5).await;
    let class = started_class(&store, inst, a, 4501).await;
    let user = inst_user(inst, 1);
    let roster = roster_of(&store, &user, class).await;
    let unique = |t: &&TraineeView| roster.iter().filter(|o| o.name == t.name).count() == 1;
    let mut names = roster.iter().filter(unique);
    let (p, q) = (names.next().unwrap(), names.next().unwrap());
    // A record as written before migration 000070: free names in the JSON column.
    let legacy = serde_json::json!([
        { "trainee": p.name, "present": true },
        { "trainee": format!("{}（{}）", q.name, q.id_number_masked), "present": false },
        { "trainee": "陌生人", "present": true },
        { "trainee": p.name, "present": false },
    ]);
    let rec = attendance_record::ActiveModel {
        filing_id: Set(class),
        institution_id: Set(inst),
        session_date: Set(start()),
        session_label: Set("上午 理论".into()),
        marks: Set(legacy.to_string()),
        present_count: Set(2),
        absent_count: Set(2),
        sign_in_file_id: Set(None),
        recorded_by: Set("inst".into()),
        recorded_by_user_id: Set(None),
        recorded_at: Set(at(start(), 12)),
        ..Default::default()
    }
    .insert(store.write_db())
    .await
    .unwrap();
    assert_eq!(move_json_marks(store.write_db()).await.unwrap(), 2);
    // Idempotent.
    assert_eq!(move_json_marks(store.write_db()).await.unwrap(), 0);
    let v = attendance::list_attendance(&store, &centre_staff(), class)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(v.id, rec.id);
    let linked: Vec<_> = v
        .marks
        .iter()
        .map(|m| (m.roster_entry_id, m.present))
        .collect();
    let mut want = vec![(p.id, true), (q.id, false)];
    want.sort_by_key(|(id, _)| roster.iter().position(|t| t.id == *id));
    assert_eq!(linked, want);
    // The stranger and the second mark for the same trainee stay as written.
    let kept: Vec<_> = v
        .unlinked_marks
        .iter()
        .map(|m| (m.trainee.as_str(), m.present))
        .collect();
    assert_eq!(kept, vec![("陌生人", true), (p.name.as_str(), false)]);
    assert_eq!((v.present_count, v.absent_count), (2, 2));
}

async fn s6_institution_b_cannot_record_or_read_a_s_attendance(store: Store) {
    let r = published_round(&store, 2026, Half::H1, "2026上半年", 10).await;
    let ia = institution(&store, 6, false).await;
    let a = signed(&store, r.id, ia, 10).await;
    let ib = institution(&store, 7, false).await;
    signed(&store, r.id, ib, 10).await;
    let class = started_class(&store, ia, a, 4601).await;
    let roster = roster_of(&store, &inst_user(ia, 1), class).await;
    let b = inst_user(ib, 1);
    let err = attendance::record_attendance(
        &store,
        &b,
        &input(class, marks(&roster, &[])),
        at(start(), 12),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    assert_eq!(
        attendance::list_attendance(&store, &b, class)
            .await
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    assert!(
        attendance::list_attendance(&store, &inst_user(ia, 1), class)
            .await
            .unwrap()
            .is_empty()
    );
}
