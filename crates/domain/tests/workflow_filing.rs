//! The filing package, schedule, teacher change and online request checks (R-FIL-1…5,
//! R-FIL-7, R-FIL-8, R-RUN-1, SPEC.md §4).

use chrono::{NaiveDate, NaiveTime};
use peixun_domain::calendar::Calendar;
use peixun_domain::filing::{
    DocumentKind, FilingContext, FilingDraft, FilingProblem, Location, Mode, OnlineReason,
    OnlineRequest, Qualification, Severity, TeacherChange, check_filing, check_online_request,
    check_teacher_change, missing_teacher_qualifications, package_ok,
};
use peixun_domain::policy::Policy;
use peixun_domain::schedule::{
    OtherSession, ScheduleContext, Session, check_schedule, teacher_conflicts_with_others,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::BTreeMap;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}
fn t(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap()
}

fn session(date: &str, from: &str, to: &str, teacher: i64, hours: Decimal) -> Session {
    Session {
        date: d(date),
        start_time: t(from),
        end_time: t(to),
        topic: "中式面点制作".into(),
        teacher_id: teacher,
        hours,
    }
}

const OCC: &str = "中式面点师";
const LEVEL: &str = "五级/初级工";

/// A complete, valid filing for a class starting 2026-03-02 (Monday).
fn good_draft() -> FilingDraft {
    FilingDraft {
        occupation: OCC.into(),
        level: LEVEL.into(),
        hours: dec!(16),
        start: d("2026-03-02"),
        planned_end: d("2026-03-20"),
        location: Location::RegisteredAddress,
        mode: Mode::Offline,
        teachers: vec![7, 8],
        sessions: vec![
            session("2026-03-02", "09:00", "12:00", 7, dec!(4)),
            session("2026-03-02", "14:00", "17:00", 8, dec!(4)),
            session("2026-03-03", "09:00", "12:00", 7, dec!(4)),
            session("2026-03-04", "09:00", "12:00", 8, dec!(4)),
        ],
        exam_content: true,
        question_bank: true,
        documents: DocumentKind::ALL.into_iter().collect(),
        trainees: 25,
    }
}

struct World {
    scope: Vec<Qualification>,
    teachers: BTreeMap<i64, Vec<Qualification>>,
    calendar: Calendar,
    policy: Policy,
}

fn world() -> World {
    let mut teachers = BTreeMap::new();
    teachers.insert(7, vec![Qualification::new(OCC, LEVEL)]);
    teachers.insert(
        8,
        vec![
            Qualification::new(OCC, "四级/中级工"),
            Qualification::new(OCC, LEVEL),
        ],
    );
    teachers.insert(9, vec![Qualification::new("育婴员", LEVEL)]);
    // The right occupation at another level only.
    teachers.insert(10, vec![Qualification::new(OCC, "四级/中级工")]);
    World {
        scope: vec![
            Qualification::new(OCC, LEVEL),
            Qualification::new("育婴员", LEVEL),
        ],
        teachers,
        calendar: Calendar::builtin(),
        policy: Policy::haizhu_default(),
    }
}

fn ctx<'a>(w: &'a World, submitted: &str) -> FilingContext<'a> {
    FilingContext {
        scope: &w.scope,
        registered_address: "广州市海珠区新港中路1号",
        approved_address_ids: &[3],
        online_request_approved: false,
        teacher_qualifications: &w.teachers,
        calendar: &w.calendar,
        policy: &w.policy,
        submitted_on: d(submitted),
    }
}

fn codes(p: &[FilingProblem]) -> Vec<&'static str> {
    p.iter().map(|x| x.code).collect()
}

#[test]
fn r_fil_1_complete_package_has_no_problem() {
    let w = world();
    let problems = check_filing(&good_draft(), &ctx(&w, "2026-02-10"));
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(package_ok(&problems));
}

#[test]
fn r_fil_3_deadline_day_is_on_time_next_working_day_is_late_and_names_the_date() {
    let w = world();
    let p = check_filing(&good_draft(), &ctx(&w, "2026-02-11"));
    assert_eq!(codes(&p), ["FIL_LEAD_TIME"]);
    assert_eq!(p[0].field, "start_date");
    assert_eq!(
        p[0].message,
        "开班日期为2026-03-02，须于2026-02-10（含）前提交备案（开班前10个工作日），现已逾期1个工作日"
    );
}

#[test]
fn r_fil_3_one_working_day_late_across_the_2026_spring_festival() {
    // Deadline Saturday 2026-02-14 (a working Saturday, 调休上班) just before the festival
    // (02-15…02-23 off); the next working day is 2026-02-24.
    let w = world();
    let start = d("2026-03-06");
    assert_eq!(
        w.calendar.filing_deadline(start, &w.policy).unwrap(),
        d("2026-02-14")
    );
    let mut draft = good_draft();
    draft.start = start;
    draft.planned_end = d("2026-03-20");
    draft.sessions = vec![
        session("2026-03-06", "09:00", "17:00", 7, dec!(8)),
        session("2026-03-09", "09:00", "17:00", 8, dec!(8)),
    ];
    assert!(check_filing(&draft, &ctx(&w, "2026-02-14")).is_empty());
    let p = check_filing(&draft, &ctx(&w, "2026-02-24"));
    assert_eq!(codes(&p), ["FIL_LEAD_TIME"]);
    assert_eq!(
        p[0].message,
        "开班日期为2026-03-06，须于2026-02-14（含）前提交备案（开班前10个工作日），现已逾期1个工作日"
    );
    // Submitted during the festival: late, but no working day has passed yet.
    let p = check_filing(&draft, &ctx(&w, "2026-02-18"));
    assert!(
        p[0].message.ends_with("现已逾期（提交日为2026-02-18）"),
        "{}",
        p[0].message
    );
}

#[test]
fn r_fil_4_planned_end_after_last_day_names_the_date() {
    let w = world();
    let mut draft = good_draft();
    draft.planned_end = d("2026-04-03");
    let p = check_filing(&draft, &ctx(&w, "2026-02-10"));
    assert_eq!(codes(&p), ["FIL_WINDOW"]);
    assert_eq!(
        p[0].message,
        "开班日期为2026-03-02，培训（含考试）须于30天内完成，计划结束日期最迟为2026-04-01，现为2026-04-03，超出2天"
    );
    draft.planned_end = d("2026-04-01");
    assert!(check_filing(&draft, &ctx(&w, "2026-02-10")).is_empty());
    draft.planned_end = d("2026-03-01");
    let p = check_filing(&draft, &ctx(&w, "2026-02-10"));
    assert!(codes(&p).contains(&"FIL_END_BEFORE_START"), "{p:#?}");
}

#[test]
fn r_fil_1_empty_draft_reports_every_problem_at_once() {
    let w = world();
    let draft = FilingDraft {
        occupation: String::new(),
        level: String::new(),
        hours: Decimal::ZERO,
        start: d("2026-03-02"),
        planned_end: d("2026-03-02"),
        location: Location::RegisteredAddress,
        mode: Mode::Offline,
        teachers: vec![],
        sessions: vec![],
        exam_content: false,
        question_bank: false,
        documents: Default::default(),
        trainees: 0,
    };
    let p = check_filing(&draft, &ctx(&w, "2026-02-20"));
    let c = codes(&p);
    for code in [
        "FIL_OCCUPATION_MISSING",
        "FIL_LEVEL_MISSING",
        "FIL_HOURS",
        "FIL_CLASS_SIZE",
        "FIL_LEAD_TIME",
        "FIL_TEACHERS_MISSING",
        "FIL_SCHEDULE_MISSING",
        "FIL_EXAM_CONTENT_MISSING",
        "FIL_QUESTION_BANK_MISSING",
    ] {
        assert!(c.contains(&code), "{code} missing from {c:?}");
    }
    let docs: Vec<&str> = p
        .iter()
        .filter(|x| x.code == "FIL_DOCUMENT_MISSING")
        .map(|x| x.message.as_str())
        .collect();
    assert_eq!(
        docs,
        [
            "请上传培训简章",
            "请上传培训计划",
            "请上传培训大纲",
            "请上传培训教材",
            "请上传参训人员花名册",
            "请上传培训补贴标准"
        ]
    );
    assert!(p.iter().all(|x| x.severity == Severity::Error));
    assert!(!package_ok(&p));
}

#[test]
fn r_fil_1_occupation_outside_scope_and_teacher_not_qualified() {
    let w = world();
    let mut draft = good_draft();
    draft.level = "三级/高级工".into();
    let p = check_filing(&draft, &ctx(&w, "2026-02-10"));
    // Neither teacher holds that level either (R-RUN-1: occupation and level).
    assert_eq!(
        codes(&p),
        [
            "FIL_OUT_OF_SCOPE",
            "FIL_TEACHER_NOT_QUALIFIED",
            "FIL_TEACHER_NOT_QUALIFIED"
        ]
    );
    assert!(p[0].message.contains("中式面点师（三级/高级工）"));

    let mut draft = good_draft();
    draft.teachers = vec![7, 9, 42];
    let p = check_filing(&draft, &ctx(&w, "2026-02-10"));
    assert_eq!(
        codes(&p),
        [
            "FIL_TEACHER_NOT_QUALIFIED",
            "FIL_TEACHER_UNKNOWN",
            "SCH_TEACHER_NOT_IN_FILING",
            "SCH_TEACHER_NOT_IN_FILING"
        ]
    );
    assert_eq!(p[0].field, "teachers[1]");
}

#[test]
fn r_fil_7_offline_location_must_be_registered_or_approved() {
    let w = world();
    let mut draft = good_draft();
    draft.location = Location::ApprovedAddress { address_id: 3 };
    assert!(check_filing(&draft, &ctx(&w, "2026-02-10")).is_empty());
    draft.location = Location::ApprovedAddress { address_id: 4 };
    let p = check_filing(&draft, &ctx(&w, "2026-02-10"));
    assert_eq!(codes(&p), ["FIL_LOCATION_NOT_APPROVED"]);
    assert!(p[0].message.contains("广州市海珠区新港中路1号"));
    draft.location = Location::Online;
    assert_eq!(
        codes(&check_filing(&draft, &ctx(&w, "2026-02-10"))),
        ["FIL_MODE_LOCATION_MISMATCH"]
    );
}

#[test]
fn r_fil_8_online_mode_needs_an_approved_online_request() {
    let w = world();
    let mut draft = good_draft();
    draft.mode = Mode::Online;
    draft.location = Location::Online;
    assert_eq!(
        codes(&check_filing(&draft, &ctx(&w, "2026-02-10"))),
        ["FIL_ONLINE_NOT_APPROVED"]
    );
    let c = FilingContext {
        online_request_approved: true,
        ..ctx(&w, "2026-02-10")
    };
    assert!(check_filing(&draft, &c).is_empty());
    draft.location = Location::RegisteredAddress;
    assert_eq!(
        codes(&check_filing(&draft, &c)),
        ["FIL_MODE_LOCATION_MISMATCH"]
    );
}

#[test]
fn r_fil_8_online_request_evidence_checklist() {
    let full = OnlineRequest {
        reason: OnlineReason::SpecialTrainees {
            description: "监狱服刑人员".into(),
        },
        commission_letter: true,
        platform_name: "某某在线学习平台".into(),
        real_name_login: true,
        learning_records: true,
        exams: true,
        city_supervision_link: true,
    };
    assert!(check_online_request(&full).is_empty());
    let bare = OnlineRequest {
        reason: OnlineReason::Other {
            description: " ".into(),
        },
        commission_letter: false,
        platform_name: String::new(),
        real_name_login: false,
        learning_records: false,
        exams: false,
        city_supervision_link: false,
    };
    let p = check_online_request(&bare);
    assert_eq!(p.len(), 7);
    assert_eq!(p[0].code, "ONL_REASON_MISSING");
    assert!(
        p.iter()
            .any(|x| x.message.contains("广州市职业技能培训在线学习监管服务平台"))
    );
}

// ---------------------------------------------------------------------------------------------
// Schedule
// ---------------------------------------------------------------------------------------------

fn sctx(cal: &Calendar, hours: Decimal) -> ScheduleContext<'_> {
    ScheduleContext {
        declared_hours: hours,
        start: d("2026-03-02"),
        planned_end: d("2026-03-20"),
        calendar: cal,
    }
}

#[test]
fn r_fil_1_schedule_hours_add_up_exactly_in_decimal() {
    let cal = Calendar::builtin();
    // 0.1 + 0.2 = 0.3 exactly (in f64 it is 0.30000000000000004).
    let s = vec![
        session("2026-03-02", "09:00", "09:10", 7, dec!(0.1)),
        session("2026-03-03", "09:00", "09:15", 7, dec!(0.2)),
    ];
    assert!(check_schedule(&s, &sctx(&cal, dec!(0.3))).is_empty());
    let p = check_schedule(&s, &sctx(&cal, dec!(0.4)));
    assert_eq!(codes(&p), ["SCH_HOURS_TOTAL"]);
    assert_eq!(p[0].message, "课程表课时合计0.3，与申报的培训课时0.4不一致");
}

#[test]
fn r_fil_1_sessions_outside_the_class_dates_and_bad_times_refused() {
    let cal = Calendar::builtin();
    let mut bad = session("2026-03-05", "12:00", "12:00", 7, dec!(2));
    bad.topic = " ".into();
    let s = vec![
        session("2026-02-27", "09:00", "12:00", 7, dec!(2)),
        session("2026-03-23", "09:00", "12:00", 7, dec!(2)),
        bad,
    ];
    let p = check_schedule(&s, &sctx(&cal, dec!(6)));
    assert_eq!(
        codes(&p),
        [
            "SCH_BEFORE_START",
            "SCH_AFTER_END",
            "SCH_END_NOT_AFTER_START",
            "SCH_TOPIC_MISSING"
        ]
    );
    assert_eq!(p[0].field, "sessions[0].date");
    assert!(p[2].message.contains("结束时间12:00须晚于开始时间12:00"));
}

#[test]
fn r_fil_1_session_on_non_working_day_is_a_warning_not_a_refusal() {
    let cal = Calendar::builtin();
    let s = vec![
        session("2026-03-07", "09:00", "12:00", 7, dec!(3)), // Saturday
        session("2026-04-05", "09:00", "12:00", 7, dec!(3)), // 清明节
    ];
    let c = ScheduleContext {
        planned_end: d("2026-04-01"),
        ..sctx(&cal, dec!(6))
    };
    let p = check_schedule(&s, &c);
    assert_eq!(
        codes(&p),
        [
            "SCH_NON_WORKING_DAY",
            "SCH_AFTER_END",
            "SCH_NON_WORKING_DAY"
        ]
    );
    assert_eq!(p[0].severity, Severity::Warning);
    assert!(p[0].message.contains("休息日"), "{}", p[0].message);
    assert!(p[2].message.contains("法定节假日"), "{}", p[2].message);
    // A working Saturday (调休上班) is not flagged.
    let s = vec![session("2026-02-28", "09:00", "12:00", 7, dec!(3))];
    let c = ScheduleContext {
        start: d("2026-02-27"),
        ..sctx(&cal, dec!(3))
    };
    assert!(check_schedule(&s, &c).is_empty());
    // In a filing the warning does not block.
    let w = world();
    let mut draft = good_draft();
    draft.sessions[3].date = d("2026-03-07");
    let p = check_filing(&draft, &ctx(&w, "2026-02-10"));
    assert_eq!(codes(&p), ["SCH_NON_WORKING_DAY"]);
    assert!(package_ok(&p));
}

#[test]
fn spec_4_one_teacher_in_two_overlapping_sessions_is_flagged() {
    let cal = Calendar::builtin();
    let s = vec![
        session("2026-03-02", "09:00", "12:00", 7, dec!(3)),
        session("2026-03-02", "11:00", "13:00", 7, dec!(2)),
        session("2026-03-02", "12:00", "14:00", 8, dec!(2)),
        session("2026-03-02", "13:00", "14:00", 7, dec!(1)), // touches, does not overlap
    ];
    let p = check_schedule(&s, &sctx(&cal, dec!(8)));
    assert_eq!(codes(&p), ["SCH_TEACHER_DOUBLE_BOOKED"]);
    assert_eq!(p[0].field, "sessions[1].teacher");

    let other = session("2026-03-02", "08:00", "09:30", 7, dec!(1.5));
    let elsewhere = [OtherSession {
        class_id: 55,
        session: &other,
    }];
    let p = teacher_conflicts_with_others(&s, &elsewhere);
    assert_eq!(codes(&p), ["SCH_TEACHER_BOOKED_ELSEWHERE"]);
    assert!(p[0].message.contains("班次编号55"));
}

// ---------------------------------------------------------------------------------------------
// Teacher change (R-RUN-1)
// ---------------------------------------------------------------------------------------------

#[test]
fn r_run_1_teacher_change_in_time_and_qualified_is_accepted() {
    let w = world();
    let reviewed = [Qualification::new(OCC, LEVEL)];
    let new = [
        Qualification::new(OCC, LEVEL),
        Qualification::new("育婴员", LEVEL),
    ];
    let change = TeacherChange {
        reported_on: d("2026-09-30"),
        effective_on: d("2026-10-08"),
        reviewed_with: &reviewed,
        new_teacher: &new,
    };
    assert!(check_teacher_change(&change, &w.calendar, &w.policy).is_ok());
}

#[test]
fn r_run_1_teacher_change_refused_for_qualification() {
    let w = world();
    let reviewed = [Qualification::new(OCC, LEVEL)];
    let new = [Qualification::new(OCC, "四级/中级工")];
    let change = TeacherChange {
        reported_on: d("2026-09-30"),
        effective_on: d("2026-10-08"),
        reviewed_with: &reviewed,
        new_teacher: &new,
    };
    let p = check_teacher_change(&change, &w.calendar, &w.policy).unwrap_err();
    assert_eq!(codes(&p), ["RUN_TEACHER_NOT_QUALIFIED"]);
    assert_eq!(
        p[0].message,
        "新授课教师的资质须与机构评审时一致，缺少：中式面点师（五级/初级工）"
    );
}

/// R-RUN-1, R-FIL-1: one test of a teacher's qualification (occupation AND level) at filing and
/// at a teacher change: the same teachers pass and fail both.
#[test]
fn r_run_1_teacher_qualification_checked_the_same_at_filing_and_at_a_change() {
    let w = world();
    let reviewed = [Qualification::new(OCC, LEVEL)];
    for (teacher, qualified) in [(7, true), (8, true), (9, false), (10, false)] {
        let quals = &w.teachers[&teacher];
        let mut draft = good_draft();
        draft.teachers = vec![teacher];
        for s in &mut draft.sessions {
            s.teacher_id = teacher;
        }
        let at_filing = check_filing(&draft, &ctx(&w, "2026-02-10"));
        let filing_ok = !codes(&at_filing).contains(&"FIL_TEACHER_NOT_QUALIFIED");
        let change = TeacherChange {
            reported_on: d("2026-09-30"),
            effective_on: d("2026-10-08"),
            reviewed_with: &reviewed,
            new_teacher: quals,
        };
        let change_ok = check_teacher_change(&change, &w.calendar, &w.policy).is_ok();
        assert_eq!(
            (filing_ok, change_ok),
            (qualified, qualified),
            "teacher {teacher}: {at_filing:#?}"
        );
        assert_eq!(
            missing_teacher_qualifications(quals, &reviewed).is_empty(),
            qualified
        );
    }
    // The filing names the occupation and the level the teacher lacks.
    let mut draft = good_draft();
    draft.teachers = vec![7, 10];
    let p = check_filing(&draft, &ctx(&w, "2026-02-10"));
    let q = p
        .iter()
        .find(|x| x.code == "FIL_TEACHER_NOT_QUALIFIED")
        .unwrap();
    assert_eq!(q.field, "teachers[1]");
    assert_eq!(
        q.message,
        "该教师不具备“中式面点师（五级/初级工）”的授课资质（职业和等级须一致）"
    );
}

#[test]
fn r_run_1_teacher_change_refused_for_lead_time() {
    let w = world();
    let reviewed = [Qualification::new(OCC, LEVEL)];
    // Effective 2026-10-08, the first working day after the National Day holiday: due 09-30.
    let change = TeacherChange {
        reported_on: d("2026-10-01"),
        effective_on: d("2026-10-08"),
        reviewed_with: &reviewed,
        new_teacher: &reviewed,
    };
    let p = check_teacher_change(&change, &w.calendar, &w.policy).unwrap_err();
    assert_eq!(codes(&p), ["RUN_TEACHER_CHANGE_LATE"]);
    assert_eq!(
        p[0].message,
        "授课师资调整于2026-10-08生效，须至少提前1个工作日报备，即于2026-09-30（含）前报备，报备日为2026-10-01"
    );
    // Both reasons at once.
    let change = TeacherChange {
        new_teacher: &[],
        ..change
    };
    let p = check_teacher_change(&change, &w.calendar, &w.policy).unwrap_err();
    assert_eq!(
        codes(&p),
        ["RUN_TEACHER_CHANGE_LATE", "RUN_TEACHER_NOT_QUALIFIED"]
    );
}

#[test]
fn r_cal_1_unloaded_year_is_a_named_problem_not_a_guess() {
    let w = world();
    let mut draft = good_draft();
    draft.start = d("2027-03-01");
    draft.planned_end = d("2027-03-20");
    draft.sessions = vec![session("2027-03-01", "09:00", "17:00", 7, dec!(16))];
    draft.sessions = vec![
        session("2027-03-01", "09:00", "17:00", 7, dec!(8)),
        session("2027-03-02", "09:00", "17:00", 7, dec!(8)),
    ];
    let p = check_filing(&draft, &ctx(&w, "2027-01-10"));
    // Said once, not once per date (the deadline, the end date, each session), naming the year
    // and who loads it.
    let missing: Vec<_> = p
        .iter()
        .filter(|p| p.code.contains("CALENDAR_YEAR_NOT_LOADED"))
        .collect();
    assert_eq!(missing.len(), 1, "{p:#?}");
    assert_eq!(missing[0].code, "FIL_CALENDAR_YEAR_NOT_LOADED");
    assert_eq!(missing[0].field, "start_date");
    assert!(missing[0].message.starts_with("2027年的节假日安排尚未载入"));
    assert!(missing[0].message.contains("系统管理员"));
    assert!(missing[0].is_blocking());
}

#[test]
fn r_cal_1_a_loaded_2027_fixture_gives_the_january_deadline() {
    // A test fixture, not the State Council's 2027 notice: 元旦 2027-01-01 only.
    let mut w = world();
    w.calendar
        .merge(
            Calendar::from_toml(
                "[[year]]\nyear = 2027\nsource = \"测试用表\"\n[[year.off]]\nname = \"元旦\"\nfrom = 2027-01-01\nto = 2027-01-03\n",
            )
            .unwrap(),
        )
        .unwrap();
    let mut draft = good_draft();
    draft.start = d("2027-01-18");
    draft.planned_end = d("2027-02-10");
    draft.sessions = vec![session("2027-01-18", "09:00", "17:00", 7, dec!(16))];
    // Ten working days before Monday 2027-01-18 (01-01…01-03 off): 2027-01-04.
    assert_eq!(
        w.calendar.filing_deadline(draft.start, &w.policy).unwrap(),
        d("2027-01-04")
    );
    let p = check_filing(&draft, &ctx(&w, "2026-12-20"));
    assert!(
        !p.iter()
            .any(|p| p.code.contains("CALENDAR") || p.code == "FIL_LEAD_TIME"),
        "{p:#?}"
    );
    let late = check_filing(&draft, &ctx(&w, "2027-01-05"));
    assert!(codes(&late).contains(&"FIL_LEAD_TIME"), "{late:#?}");
}
