//! Holiday tables at run time (R-CAL-1) on SQLite and PostgreSQL: the shipped years seed the
//! database and are never written over; a sysadmin loads a year (every line checked, nothing saved
//! on a problem); a filing for January 2027 is refused naming the missing year, then filed with
//! the right deadline once a (test fixture) 2027 table is loaded; replacing a year that decisions
//! used needs a reason, lists the deadlines that move, and is audited.
//!
//! The 2027 tables here are test fixtures, not the State Council's 2027 notice.

mod support;

use chrono::NaiveDate;
use peixun_domain::calendar::CalendarError;
use peixun_domain::role::Role;
use peixun_domain::workflow::round::Half;
use peixun_store::calendar::{self, YearChange};
use peixun_store::filing_package::SubmitOutcome;
use peixun_store::roster::ImportOutcome;
use peixun_store::{Actor, PageRequest, Store, StoreError, audit};
use support::packages::*;
use support::*;

support::on_both_backends!(
    r_cal_1_shipped_years_seed_the_database_and_are_never_written_over,
    r_cal_1_a_file_with_problems_is_refused_line_by_line_and_saves_nothing,
    r_cal_1_only_the_sysadmin_loads_a_year,
    r_cal_1_january_2027_refused_naming_the_year_then_filed_with_the_right_deadline,
    r_cal_1_replacing_a_used_year_needs_a_reason_lists_moved_deadlines_and_is_audited,
    r_cal_1_next_year_missing_from_1_november,
);

/// 2027 test fixture: 元旦 2027-01-01…01-03 and nothing else.
const FIXTURE_2027: &str = "[[year]]
year = 2027
source = \"测试用表（非国务院办公厅通知）\"

[[year.off]]
name = \"元旦\"
from = 2027-01-01
to = 2027-01-03
";

/// The same year with a made-up extra holiday on 2027-01-04…01-05 (a "supplementary notice").
const FIXTURE_2027_REPLACED: &str = "[[year]]
year = 2027
source = \"测试用表（补充通知）\"

[[year.off]]
name = \"元旦\"
from = 2027-01-01
to = 2027-01-05
";

fn sysadmin() -> Actor {
    Actor {
        user_id: Some(900),
        username: "sysadmin".into(),
        role: Some(Role::Sysadmin),
        institution_id: None,
        ip: None,
        request_id: None,
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn r_cal_1_shipped_years_seed_the_database_and_are_never_written_over(store: Store) {
    let years = calendar::years(&store).await.unwrap();
    assert_eq!(
        years
            .iter()
            .map(|y| (y.year, y.builtin))
            .collect::<Vec<_>>(),
        vec![(2025, true), (2026, true)]
    );
    assert_eq!(years[1].working_days_in_year, 248);
    let cal = calendar::load(store.db()).await.unwrap();
    assert!(cal.is_working_day(day("2026-02-28")).unwrap());
    // A sysadmin's replacement of 2026 survives the next start (migrate seeds again).
    let text = peixun_domain::calendar::BUILTIN_HOLIDAYS_TOML.replace(
        "source = \"国务院办公厅关于2026年部分节假日安排的通知\"",
        "source = \"另一份通知\"",
    );
    let out = calendar::import(&store, &sysadmin(), &text, None, t0())
        .await
        .unwrap();
    assert_eq!(out.loaded, vec![2026]);
    assert_eq!(out.unchanged, vec![2025]);
    store.migrate().await.unwrap();
    let y = calendar::year(&store, 2026).await.unwrap();
    assert_eq!(y.source, "另一份通知");
    assert!(!y.builtin);
}

async fn r_cal_1_a_file_with_problems_is_refused_line_by_line_and_saves_nothing(store: Store) {
    let bad = "[[year]]
year = 2027
source = \"x\"
working_days = [\"2027-03-03\"]

[[year]]
year = 2028
source = \"y\"
";
    let before = audit::count(&store).await.unwrap();
    let p = calendar::preview(&store, &sysadmin(), bad).await.unwrap();
    assert!(!p.is_ok());
    assert_eq!(p.problems.len(), 1);
    assert_eq!(p.problems[0].line, Some(4));
    let e = calendar::import(&store, &sysadmin(), bad, None, t0())
        .await
        .unwrap_err();
    match &e {
        StoreError::Validation {
            code,
            message,
            field,
        } => {
            assert_eq!(*code, "CAL_INVALID");
            assert_eq!(field.as_deref(), Some("toml"));
            assert!(message.starts_with("第4行："), "{message}");
            assert!(message.contains("2027-03-03"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // All or nothing: 2028 was fine, but nothing was saved.
    let years: Vec<i32> = calendar::years(&store)
        .await
        .unwrap()
        .iter()
        .map(|y| y.year)
        .collect();
    assert_eq!(years, vec![2025, 2026]);
    assert_eq!(audit::count(&store).await.unwrap(), before);
    // 元旦 may start in the December before (2026-12-31 is an ordinary Thursday in 2026's
    // table); an off range reaching further back is refused.
    let clash = "[[year]]
year = 2027
source = \"x\"
[[year.off]]
name = \"元旦\"
from = 2026-12-31
to = 2027-01-01
";
    let p = calendar::preview(&store, &sysadmin(), clash).await.unwrap();
    assert!(
        p.is_ok(),
        "2026-12-31 is an ordinary Thursday: {:?}",
        p.problems
    );
    let clash = clash.replace("2026-12-31", "2026-10-10");
    let p = calendar::preview(&store, &sysadmin(), &clash)
        .await
        .unwrap();
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
}

async fn r_cal_1_only_the_sysadmin_loads_a_year(store: Store) {
    for who in [centre_admin(), centre_staff(), inst_user(1, 1)] {
        let e = calendar::import(&store, &who, FIXTURE_2027, None, t0())
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Forbidden { .. }), "{e:?}");
        let e = calendar::preview(&store, &who, FIXTURE_2027)
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Forbidden { .. }), "{e:?}");
    }
    assert!(
        calendar::load(store.db())
            .await
            .unwrap()
            .year(2027)
            .is_none()
    );
}

/// A package for a class starting Monday 2027-01-18 (end 2027-02-10), roster of 20.
async fn january_package(store: &Store, fs: &peixun_store::files::FileStore, fx: &Fx) -> i64 {
    let mut input = good_input(fx.teacher);
    input.start_date = Some(day("2027-01-18"));
    input.planned_end = Some(day("2027-02-10"));
    input.sessions = vec![
        session(day("2027-01-18"), fx.teacher, 3),
        session(day("2027-01-19"), fx.teacher, 3),
    ];
    let pkg = package_without_roster(store, fs, fx, input).await;
    match import(store, &inst_user(fx.inst, 1), pkg, &people(20, 27)).await {
        ImportOutcome::Imported(_) => {}
        ImportOutcome::Refused { problems } => panic!("{problems:?}"),
    }
    pkg
}

async fn r_cal_1_january_2027_refused_naming_the_year_then_filed_with_the_right_deadline(
    store: Store,
) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H2, "2026下", 5).await;
    let fx = fixture(&store, 1, r.id, 3).await;
    let pkg = january_package(&store, &fs, &fx).await;

    // Before 2027 is loaded: refused once, naming 2027 and who loads it.
    let SubmitOutcome::Refused { problems } = submit(&store, &fx, pkg, at(2026, 12, 3)).await
    else {
        panic!("refused while 2027 is missing");
    };
    let missing: Vec<_> = problems
        .iter()
        .filter(|p| p.code.contains("CALENDAR"))
        .collect();
    assert_eq!(missing.len(), 1, "{problems:#?}");
    assert_eq!(missing[0].code, "FIL_CALENDAR_YEAR_NOT_LOADED");
    assert!(missing[0].message.starts_with("2027年的节假日安排尚未载入"));
    assert!(missing[0].message.contains("系统管理员"));

    let out = calendar::import(&store, &sysadmin(), FIXTURE_2027, None, t0())
        .await
        .unwrap();
    assert_eq!(out.loaded, vec![2027]);

    // Ten working days before 2027-01-18 (01-01…01-03 off) is 2027-01-04: a day later is late.
    let SubmitOutcome::Refused { problems } = submit(&store, &fx, pkg, at(2027, 1, 5)).await else {
        panic!("late");
    };
    let lead = problems
        .iter()
        .find(|p| p.code == "FIL_LEAD_TIME")
        .expect("lead time");
    assert!(lead.message.contains("2027-01-04"), "{}", lead.message);
    assert!(!problems.iter().any(|p| p.code.contains("CALENDAR")));
    // On the deadline itself it enters the queue.
    let SubmitOutcome::Submitted { package, .. } = submit(&store, &fx, pkg, at(2027, 1, 4)).await
    else {
        panic!("on time");
    };
    assert!(package.filing.is_some());
}

async fn r_cal_1_replacing_a_used_year_needs_a_reason_lists_moved_deadlines_and_is_audited(
    store: Store,
) {
    let (fs, _d) = files();
    calendar::import(&store, &sysadmin(), FIXTURE_2027, None, t0())
        .await
        .unwrap();
    let r = published_round(&store, 2026, Half::H2, "2026下", 5).await;
    let fx = fixture(&store, 1, r.id, 3).await;
    let pkg = january_package(&store, &fs, &fx).await;
    let SubmitOutcome::Submitted { package, .. } = submit(&store, &fx, pkg, at(2026, 12, 3)).await
    else {
        panic!("filed");
    };
    let filing_id = package.filing.expect("filing").id;

    // Same table again: nothing to do, no reason needed.
    let p = calendar::preview(&store, &sysadmin(), FIXTURE_2027)
        .await
        .unwrap();
    assert_eq!(p.years[0].change, YearChange::Unchanged);
    assert!(!p.reason_required);

    // Two more days off in January move the filing's deadline from 01-04 back to 2026-12-30.
    let p = calendar::preview(&store, &sysadmin(), FIXTURE_2027_REPLACED)
        .await
        .unwrap();
    assert!(p.is_ok(), "{:?}", p.problems);
    assert_eq!(p.years[0].change, YearChange::Replace);
    assert!(p.years[0].used);
    assert!(p.reason_required);
    let moved = &p.years[0].moved;
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(moved[0].filing_id, filing_id);
    assert_eq!(moved[0].old_deadline, Some(day("2027-01-04")));
    assert_eq!(moved[0].new_deadline, Some(day("2026-12-30")));

    let before = audit::count(&store).await.unwrap();
    let e = calendar::import(&store, &sysadmin(), FIXTURE_2027_REPLACED, Some("  "), t0())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "CAL_REASON_REQUIRED");
    assert_eq!(audit::count(&store).await.unwrap(), before);
    assert_eq!(
        calendar::year(&store, 2027).await.unwrap().table.off[0].to,
        day("2027-01-03")
    );

    let out = calendar::import(
        &store,
        &sysadmin(),
        FIXTURE_2027_REPLACED,
        Some("国务院办公厅补充通知"),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(out.loaded, vec![2027]);
    assert_eq!(out.moved.len(), 1);
    let cal = calendar::load(store.db()).await.unwrap();
    assert!(!cal.is_working_day(day("2027-01-05")).unwrap());
    assert_eq!(
        calendar::year(&store, 2027)
            .await
            .unwrap()
            .reason
            .as_deref(),
        Some("国务院办公厅补充通知")
    );

    let rows = audit::search(
        &store,
        &Actor::system("test"),
        &audit::AuditFilter {
            action: Some("calendar.replace".into()),
            ..Default::default()
        },
        &PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(rows.items.len(), 1);
    let row = &rows.items[0];
    assert_eq!(row.username, "sysadmin");
    assert_eq!(row.target_id.as_deref(), Some("2027"));
    let new = row.new_value.as_ref().unwrap();
    assert_eq!(new["reason"], "国务院办公厅补充通知");
    assert_eq!(new["moved"][0]["filing_id"], filing_id);
    assert_eq!(
        row.old_value.as_ref().unwrap()["off"][0]["to"],
        "2027-01-03"
    );
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_cal_1_next_year_missing_from_1_november(store: Store) {
    assert_eq!(
        calendar::next_year_missing(&store, day("2026-10-31"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        calendar::next_year_missing(&store, day("2026-11-01"))
            .await
            .unwrap(),
        Some(2027)
    );
    calendar::import(&store, &sysadmin(), FIXTURE_2027, None, t0())
        .await
        .unwrap();
    assert_eq!(
        calendar::next_year_missing(&store, day("2026-12-03"))
            .await
            .unwrap(),
        None
    );
    // The error a service gets for a year still missing names it.
    let cal = calendar::load(store.db()).await.unwrap();
    assert_eq!(
        cal.is_working_day(day("2028-01-03")).unwrap_err(),
        CalendarError::YearNotLoaded(2028)
    );
}
