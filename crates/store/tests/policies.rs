//! Policy versions (R-POL-1) on SQLite and PostgreSQL: the built-in version is in force; the
//! sysadmin proposes and a centre_admin confirms (neither can do the other's part); bad values
//! are refused naming the field and change nothing; each decision stores the version in force
//! on its date, and a later version changes later decisions but never earlier ones (filing lead
//! 10 → 12 working days, cap share, class window and overdue limit, monthly report day).

mod support;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use peixun_domain::filing::{Location, Mode};
use peixun_domain::policy::Policy;
use peixun_domain::role::Role;
use peixun_domain::schedule::Session;
use peixun_domain::workflow::round::Half;
use peixun_store::agreements::{self, ApplicationInput, SignInput};
use peixun_store::audit::{self, AuditFilter};
use peixun_store::files::FileStore;
use peixun_store::filing_package::{self, PackageInput, SubmitOutcome};
use peixun_store::filings;
use peixun_store::policies::{self, PolicyProposal, PolicyStatus, StoredPolicy};
use peixun_store::reports::{self, MonthlyReportInput};
use peixun_store::roster::{self, ImportOutcome, RosterKey};
use peixun_store::teachers::{self, TeacherInput, TeacherQualification};
use peixun_store::{Actor, PageRequest, Store, StoreError, overdue, running};
use rust_decimal::Decimal;
use support::*;

support::on_both_backends!(
    r_pol_1_builtin_version_is_confirmed_and_in_force,
    r_pol_1_sysadmin_proposes_centre_admin_confirms_both_audited,
    r_pol_1_neither_role_can_do_the_others_part,
    r_pol_1_bad_values_refused_naming_the_field_nothing_stored,
    r_pol_1_effective_date_in_the_past_is_refused_at_proposal_and_confirmation,
    r_pol_1_filing_lead_10_to_12_changes_later_filings_not_earlier,
    r_pol_1_cap_uses_the_version_in_force_on_the_signing_date,
    r_pol_1_overdue_mark_follows_the_filing_sanction_the_day_it_is_raised,
    r_pol_1_monthly_report_due_day_follows_the_months_version,
    r_pol_1_compare_marks_the_differing_values,
);

const SEED: &str = "haizhu-guideline-trial-v1";

/// A change to the built-in values.
type Edit = Box<dyn FnOnce(&mut Policy)>;

fn sysadmin() -> Actor {
    Actor {
        user_id: Some(9),
        username: "sysadmin-9".into(),
        role: Some(Role::Sysadmin),
        institution_id: None,
        ip: Some("10.0.0.9".into()),
        request_id: None,
    }
}

/// `h:00` Asia/Shanghai on the given day.
fn at(y: i32, m: u32, day: u32, h: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, day, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn proposal(
    version: &str,
    from: chrono::NaiveDate,
    edit: impl FnOnce(&mut Policy),
) -> PolicyProposal {
    let mut p = Policy::haizhu_default();
    p.version = version.into();
    p.effective_from = from;
    edit(&mut p);
    PolicyProposal {
        policy: p,
        document_title: "海珠区职业技能培训合格证书培训工作指引（修订）".into(),
        document_number: "海人社规〔2026〕1号".into(),
        note: Some("测试".into()),
    }
}

/// Proposed by the sysadmin and confirmed by the centre admin at t0 (2026-03-02).
async fn confirmed(
    store: &Store,
    version: &str,
    from: chrono::NaiveDate,
    edit: impl FnOnce(&mut Policy),
) -> StoredPolicy {
    let p = policies::propose(store, &sysadmin(), &proposal(version, from, edit), t0())
        .await
        .unwrap();
    policies::confirm(store, &centre_admin(), p.id, t0())
        .await
        .unwrap()
}

fn field_of(e: &StoreError) -> Option<String> {
    match e {
        StoreError::Conflict { field, .. } => field.clone(),
        _ => e.problems().first().and_then(|p| p.field.clone()),
    }
}

async fn r_pol_1_builtin_version_is_confirmed_and_in_force(store: Store) {
    let all = policies::list(&store, &centre_admin()).await.unwrap();
    assert_eq!(all.len(), 1);
    let seed = &all[0];
    assert_eq!(seed.version, SEED);
    assert_eq!(seed.status, PolicyStatus::Confirmed);
    assert_eq!(seed.effective_from, d(2025, 1, 1));
    assert_eq!(
        seed.document_title,
        "海珠区职业技能培训合格证书培训工作指引（试行）"
    );
    let mut expected = Policy::haizhu_default();
    expected.version = SEED.into();
    assert_eq!(seed.policy, expected);
    assert_eq!(
        policies::in_force(store.db(), d(2026, 3, 2)).await.unwrap(),
        expected
    );
    // Before the first version nothing is in force: an error that says so, not a guess.
    let e = policies::in_force(store.db(), d(2024, 12, 31))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "POLICY_NONE_IN_FORCE");
    // Institutions do not read policy versions.
    assert!(matches!(
        policies::list(&store, &inst_user(1, 0)).await,
        Err(StoreError::Forbidden { .. })
    ));
}

async fn r_pol_1_sysadmin_proposes_centre_admin_confirms_both_audited(store: Store) {
    let p = policies::propose(
        &store,
        &sysadmin(),
        &proposal("haizhu-2026-v2", d(2026, 3, 10), |p| {
            p.filing_lead_working_days = 12
        }),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(p.status, PolicyStatus::Proposed);
    // A proposal changes nothing until confirmed.
    let on = d(2026, 3, 20);
    assert_eq!(
        policies::in_force(store.db(), on)
            .await
            .unwrap()
            .filing_lead_working_days,
        10
    );
    let c = policies::confirm(&store, &centre_admin(), p.id, t0())
        .await
        .unwrap();
    assert_eq!(c.status, PolicyStatus::Confirmed);
    assert_eq!(c.decided_by.as_deref(), Some("centre_admin-1"));
    let now_in_force = policies::in_force(store.db(), on).await.unwrap();
    assert_eq!(now_in_force.version, "haizhu-2026-v2");
    assert_eq!(now_in_force.filing_lead_working_days, 12);
    // The day before it takes effect the old version still applies.
    assert_eq!(
        policies::in_force(store.db(), d(2026, 3, 9))
            .await
            .unwrap()
            .version,
        SEED
    );
    // A confirmed version never changes.
    let e = policies::confirm(&store, &centre_admin(), p.id, t0())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "POLICY_NOT_PROPOSED");
    let e = policies::withdraw(&store, &sysadmin(), p.id, t0())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "POLICY_NOT_PROPOSED");
    // Both steps are in the audit log, and the chain holds.
    for (action, who) in [
        ("policy.propose", "sysadmin-9"),
        ("policy.confirm", "centre_admin-1"),
    ] {
        let page = audit::search(
            &store,
            &Actor::system("test"),
            &AuditFilter {
                action: Some(action.into()),
                ..Default::default()
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap();
        assert_eq!(page.items.len(), 1, "{action}");
        assert_eq!(page.items[0].username, who);
        assert_eq!(
            page.items[0].target_id.as_deref(),
            Some(p.id.to_string().as_str())
        );
    }
    assert!(audit::verify(&store).await.unwrap().is_ok());
    // Rejected and withdrawn versions never take effect.
    let r = policies::propose(
        &store,
        &sysadmin(),
        &proposal("haizhu-2026-v3", d(2026, 4, 1), |p| p.min_class_size = 25),
        t0(),
    )
    .await
    .unwrap();
    let e = policies::reject(&store, &centre_admin(), r.id, " ", t0())
        .await
        .unwrap_err();
    assert_eq!(field_of(&e).as_deref(), Some("reason"));
    let r = policies::reject(&store, &centre_admin(), r.id, "文件尚未印发", t0())
        .await
        .unwrap();
    assert_eq!(r.status, PolicyStatus::Rejected);
    let w = policies::propose(
        &store,
        &sysadmin(),
        &proposal("haizhu-2026-v4", d(2026, 4, 1), |p| p.min_class_size = 25),
        t0(),
    )
    .await
    .unwrap();
    let w = policies::withdraw(&store, &sysadmin(), w.id, t0())
        .await
        .unwrap();
    assert_eq!(w.status, PolicyStatus::Withdrawn);
    assert_eq!(
        policies::in_force(store.db(), d(2026, 5, 1))
            .await
            .unwrap()
            .min_class_size,
        20
    );
}

async fn r_pol_1_neither_role_can_do_the_others_part(store: Store) {
    let input = proposal("haizhu-2026-v2", d(2026, 3, 10), |p| {
        p.filing_lead_working_days = 12
    });
    // The centre (any role but the sysadmin) cannot propose.
    for actor in [centre_admin(), centre_staff(), bureau(), inst_user(1, 0)] {
        assert!(
            matches!(
                policies::propose(&store, &actor, &input, t0()).await,
                Err(StoreError::Forbidden { .. })
            ),
            "{:?}",
            actor.role
        );
    }
    let p = policies::propose(&store, &sysadmin(), &input, t0())
        .await
        .unwrap();
    // The sysadmin cannot confirm (or reject) a business rule alone, nor can centre staff.
    for actor in [sysadmin(), centre_staff(), bureau()] {
        assert!(
            matches!(
                policies::confirm(&store, &actor, p.id, t0()).await,
                Err(StoreError::Forbidden { .. })
            ),
            "{:?}",
            actor.role
        );
    }
    assert!(matches!(
        policies::reject(&store, &sysadmin(), p.id, "自行退回", t0()).await,
        Err(StoreError::Forbidden { .. })
    ));
    // Only the sysadmin withdraws.
    assert!(matches!(
        policies::withdraw(&store, &centre_admin(), p.id, t0()).await,
        Err(StoreError::Forbidden { .. })
    ));
    let still = policies::get(&store, &centre_admin(), p.id).await.unwrap();
    assert_eq!(still.status, PolicyStatus::Proposed);
    assert_eq!(
        policies::in_force(store.db(), d(2026, 3, 20))
            .await
            .unwrap()
            .version,
        SEED
    );
}

async fn r_pol_1_bad_values_refused_naming_the_field_nothing_stored(store: Store) {
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|p: &mut Policy| p.evaluation_weights.satisfaction = 30),
            "evaluation_weights",
            "权重之和须为100",
        ),
        (
            Box::new(|p: &mut Policy| p.monthly_report_day = 31),
            "monthly_report_day",
            "月度反馈截止日",
        ),
        (
            Box::new(|p: &mut Policy| p.global_cap_share = Decimal::new(15, 1)),
            "global_cap_share",
            "全区单机构上限比例",
        ),
        (
            Box::new(|p: &mut Policy| p.min_trainee_age = 0),
            "min_trainee_age",
            "学员最低年龄",
        ),
    ];
    for (edit, field, words) in cases {
        let e = policies::propose(
            &store,
            &sysadmin(),
            &proposal("haizhu-bad", d(2026, 3, 10), edit),
            t0(),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "POLICY_INVALID");
        assert_eq!(field_of(&e).as_deref(), Some(field));
        let msg = &e.problems()[0].message;
        assert!(msg.contains(words), "{msg}");
    }
    // Several problems at once: every one reported.
    let mut input = proposal(" ", d(2026, 3, 10), |_| {});
    input.document_title = String::new();
    let e = policies::propose(&store, &sysadmin(), &input, t0())
        .await
        .unwrap_err();
    let fields: Vec<String> = e.problems().into_iter().filter_map(|p| p.field).collect();
    assert_eq!(fields, vec!["version", "document_title"]);
    // A version name already used is refused on its field.
    let e = policies::propose(
        &store,
        &sysadmin(),
        &proposal(SEED, d(2026, 3, 10), |_| {}),
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "POLICY_VERSION_EXISTS");
    assert_eq!(field_of(&e).as_deref(), Some("version"));
    assert_eq!(policies::list(&store, &sysadmin()).await.unwrap().len(), 1);
}

async fn r_pol_1_effective_date_in_the_past_is_refused_at_proposal_and_confirmation(store: Store) {
    // Proposed on 2026-03-02 for 2026-03-01: refused.
    let e = policies::propose(
        &store,
        &sysadmin(),
        &proposal("haizhu-2026-v2", d(2026, 3, 1), |p| {
            p.filing_lead_working_days = 12
        }),
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "POLICY_EFFECTIVE_PAST");
    assert_eq!(field_of(&e).as_deref(), Some("effective_from"));
    // Proposed in time for 2026-03-05, but confirmed only on 2026-03-06: refused, still waiting.
    let p = policies::propose(
        &store,
        &sysadmin(),
        &proposal("haizhu-2026-v2", d(2026, 3, 5), |p| {
            p.filing_lead_working_days = 12
        }),
        t0(),
    )
    .await
    .unwrap();
    let e = policies::confirm(&store, &centre_admin(), p.id, at(2026, 3, 6, 9))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "POLICY_EFFECTIVE_PAST");
    assert_eq!(
        policies::get(&store, &centre_admin(), p.id)
            .await
            .unwrap()
            .status,
        PolicyStatus::Proposed
    );
    // Confirmed on its effective date itself: fine.
    let c = policies::confirm(&store, &centre_admin(), p.id, at(2026, 3, 5, 9))
        .await
        .unwrap();
    assert_eq!(c.status, PolicyStatus::Confirmed);
}

// ---- filings ---------------------------------------------------------------------------------

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

fn scratch() -> (FileStore, std::path::PathBuf) {
    let p = std::env::temp_dir().join(format!(
        "peixun-policy-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&p).unwrap();
    (FileStore::local(&p), p)
}

fn session(date: chrono::NaiveDate, teacher: i64) -> Session {
    Session {
        date,
        start_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        end_time: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        topic: "家政服务基础".into(),
        teacher_id: teacher,
        hours: Decimal::from(3),
    }
}

fn package_input(
    teacher: i64,
    start: chrono::NaiveDate,
    second: chrono::NaiveDate,
) -> PackageInput {
    PackageInput {
        occupation: OCC.into(),
        level: LEVEL.into(),
        hours: Decimal::from(6),
        start_date: Some(start),
        planned_end: Some(d(2026, 4, 20)),
        location: Some(Location::RegisteredAddress),
        mode: Mode::Offline,
        teachers: vec![teacher],
        sessions: vec![session(start, teacher), session(second, teacher)],
        exam_content: "理论考试与实操考核".into(),
    }
}

/// An institution with an agreement, a teacher and a complete package starting 2026-04-01.
async fn ready_package(store: &Store, fs: &FileStore, round_id: i64, n: u32) -> (i64, i64) {
    let inst = institution(store, n, false).await;
    let agreement = signed(store, round_id, inst, 3).await;
    let teacher = teachers::create_teacher(
        store,
        &inst_user(inst, 0),
        inst,
        &TeacherInput {
            name: "王老师".into(),
            id_number: peixun_import::synthetic_rows(1, 900 + u64::from(n))[0][2].clone(),
            phone: "13900139000".into(),
            qualifications: vec![TeacherQualification {
                occupation: OCC.into(),
                level: LEVEL.into(),
                certificate_no: format!("T{n:05}"),
            }],
            active: true,
        },
        t0(),
    )
    .await
    .unwrap()
    .id;
    let a = inst_user(inst, 1);
    let p = filing_package::create_package(store, &a, agreement, t0())
        .await
        .unwrap();
    filing_package::update_package(
        store,
        &a,
        p.id,
        &package_input(teacher, d(2026, 4, 1), d(2026, 4, 2)),
        t0(),
    )
    .await
    .unwrap();
    for slot in [
        "brochure",
        "training_plan",
        "syllabus",
        "textbook",
        "roster_document",
        "subsidy_standard",
        "question_bank",
    ] {
        filing_package::attach_file(store, fs, &a, p.id, slot, PDF, &format!("{slot}.pdf"), t0())
            .await
            .unwrap();
    }
    let rows = peixun_import::synthetic_rows(20, u64::from(n));
    let mut csv = peixun_domain::roster::ROSTER_HEADERS.join(",");
    csv.push('\n');
    for r in &rows {
        csv.push_str(&r.join(","));
        csv.push('\n');
    }
    match roster::import_roster(
        store,
        &a,
        &RosterKey::new([7; 32]),
        p.id,
        csv.as_bytes(),
        None,
        t0(),
    )
    .await
    .unwrap()
    {
        ImportOutcome::Imported(r) => assert_eq!(r.imported, 20),
        ImportOutcome::Refused { problems } => panic!("{problems:?}"),
    }
    (inst, p.id)
}

async fn r_pol_1_filing_lead_10_to_12_changes_later_filings_not_earlier(store: Store) {
    let (fs, dir) = scratch();
    let r = published_round(&store, 2026, Half::H1, "2026上", 10).await;
    let (a_inst, a_pkg) = ready_package(&store, &fs, r.id, 1).await;
    let (b_inst, b_pkg) = ready_package(&store, &fs, r.id, 2).await;
    // From 2026-03-10 a filing is due 12 working days before the start (was 10).
    confirmed(&store, "haizhu-2026-v2", d(2026, 3, 10), |p| {
        p.filing_lead_working_days = 12
    })
    .await;
    // A: submitted 2026-03-05 under the old version, start 2026-04-01 (deadline 03-18).
    let a = match filing_package::submit_package(
        &store,
        &inst_user(a_inst, 1),
        a_pkg,
        at(2026, 3, 5, 9),
    )
    .await
    .unwrap()
    {
        SubmitOutcome::Submitted { package, .. } => package.filing.unwrap(),
        SubmitOutcome::Refused { problems } => panic!("{problems:#?}"),
    };
    assert_eq!(a.policy_version, SEED);
    // B: the same start submitted on 2026-03-17 — in time under 10 days (03-18), late under the
    // 12 in force now (03-16).
    let SubmitOutcome::Refused { problems } =
        filing_package::submit_package(&store, &inst_user(b_inst, 1), b_pkg, at(2026, 3, 17, 9))
            .await
            .unwrap()
    else {
        panic!("late under the new version");
    };
    let lead = problems
        .iter()
        .find(|p| p.code == "FIL_LEAD_TIME")
        .expect("lead time");
    assert!(lead.message.contains("2026-03-16"), "{}", lead.message);
    assert!(lead.message.contains("12"), "{}", lead.message);
    // Starting 2026-04-03 it is in time under 12 days (deadline 03-18), and keeps the new version.
    filing_package::update_package(
        &store,
        &inst_user(b_inst, 1),
        b_pkg,
        &package_input(
            filing_package::get_package(&store, &inst_user(b_inst, 1), b_pkg)
                .await
                .unwrap()
                .teachers[0],
            d(2026, 4, 3),
            d(2026, 4, 7),
        ),
        at(2026, 3, 17, 9),
    )
    .await
    .unwrap();
    let b = match filing_package::submit_package(
        &store,
        &inst_user(b_inst, 1),
        b_pkg,
        at(2026, 3, 17, 10),
    )
    .await
    .unwrap()
    {
        SubmitOutcome::Submitted { package, .. } => package.filing.unwrap(),
        SubmitOutcome::Refused { problems } => panic!("{problems:#?}"),
    };
    assert_eq!(b.policy_version, "haizhu-2026-v2");
    // The earlier filing still says which version decided it.
    let a_now = filings::get_filing(&store, &centre_staff(), a.id)
        .await
        .unwrap();
    assert_eq!(a_now.policy_version, SEED);
    let _ = std::fs::remove_dir_all(dir);
}

async fn r_pol_1_cap_uses_the_version_in_force_on_the_signing_date(store: Store) {
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let early = institution(&store, 1, false).await;
    let late = institution(&store, 2, false).await;
    // From 2026-03-10 no institution may hold more than 40% of a round (was 50%).
    confirmed(&store, "haizhu-2026-v2", d(2026, 3, 10), |p| {
        p.global_cap_share = Decimal::new(4, 1)
    })
    .await;
    let mut caps = Vec::new();
    for (inst, when) in [(early, at(2026, 3, 3, 9)), (late, at(2026, 3, 11, 9))] {
        let app = agreements::apply_to_round(
            &store,
            &inst_user(inst, 0),
            &ApplicationInput {
                round_id: r.id,
                occupations: vec![OCC.into()],
                classes_requested: 5,
                note: String::new(),
            },
            when,
        )
        .await
        .unwrap();
        let a = agreements::sign_agreement(
            &store,
            &centre_admin(),
            &SignInput {
                application_id: app.id,
                first_cap: Some(5),
                override_cap: None,
            },
            when,
        )
        .await
        .unwrap();
        caps.push(a);
    }
    // P = 5: 0.5 × 5 = 2.5 → 3 before; 0.4 × 5 = 2 after.
    assert_eq!(caps[0].cap, 3);
    assert_eq!(caps[0].policy_version, SEED);
    assert_eq!(caps[0].decision.policy_version, SEED);
    assert_eq!(caps[1].cap, 2);
    assert_eq!(caps[1].policy_version, "haizhu-2026-v2");
    assert_eq!(caps[1].decision.policy_version, "haizhu-2026-v2");
    // The earlier agreement is unchanged when read again.
    let again = agreements::get_agreement(&store, &centre_staff(), caps[0].id)
        .await
        .unwrap();
    assert_eq!((again.cap, again.policy_version.as_str()), (3, SEED));
}

async fn r_pol_1_overdue_mark_follows_the_filing_sanction_the_day_it_is_raised(store: Store) {
    let r = published_round(&store, 2026, Half::H1, "2026上", 10).await;
    let inst = institution(&store, 1, false).await;
    let agreement = signed(&store, r.id, inst, 10).await;
    // From 2026-03-10: classes have 40 days, and any overdue class disqualifies.
    confirmed(&store, "haizhu-2026-v2", d(2026, 3, 10), |p| {
        p.class_window_days = 40;
        p.overdue_limit_per_year = 0;
    })
    .await;
    let mut ids = Vec::new();
    for when in [at(2026, 3, 3, 9), at(2026, 3, 11, 9)] {
        let f = file_package(&store, &inst_user(inst, 1), agreement, d(2026, 4, 1), when)
            .await
            .unwrap();
        filings::approve_filing(&store, &centre_staff(), f.id, when)
            .await
            .unwrap();
        ids.push(f.id);
    }
    let (old, new) = (ids[0], ids[1]);
    let view = |id| {
        let store = store.clone();
        async move {
            running::get_class(&store, &centre_staff(), id, at(2026, 5, 2, 10))
                .await
                .unwrap()
                .class
        }
    };
    let (o, n) = (view(old).await, view(new).await);
    assert_eq!(
        (o.last_day, o.policy_version.as_str()),
        (d(2026, 5, 1), SEED)
    );
    assert_eq!(
        (n.last_day, n.policy_version.as_str()),
        (d(2026, 5, 11), "haizhu-2026-v2")
    );
    // On 2026-05-02 only the class filed under 30 days is overdue.
    let out = overdue::sweep(&store, d(2026, 5, 2), at(2026, 5, 2, 1))
        .await
        .unwrap();
    assert_eq!(out.marked, vec![old]);
    // The limit in force that day (0) raises the sanction, and it says which version.
    assert_eq!(out.sanctions_raised.len(), 1);
    let s = overdue::get_sanction(&store, &centre_admin(), out.sanctions_raised[0])
        .await
        .unwrap();
    assert_eq!(s.policy_version, "haizhu-2026-v2");
    assert_eq!(s.count, 1);
    let confirmed_s = overdue::confirm_sanction(&store, &centre_admin(), s.id, at(2026, 5, 2, 10))
        .await
        .unwrap();
    let reason = confirmed_s.reason.unwrap();
    assert!(
        reason.contains("超过0个") && reason.contains("haizhu-2026-v2"),
        "{reason}"
    );
}

async fn r_pol_1_monthly_report_due_day_follows_the_months_version(store: Store) {
    let r = published_round(&store, 2026, Half::H1, "2026上", 10).await;
    let inst = institution(&store, 1, false).await;
    signed(&store, r.id, inst, 3).await;
    // From April the report is due on the 20th.
    confirmed(&store, "haizhu-2026-v2", d(2026, 4, 1), |p| {
        p.monthly_report_day = 20
    })
    .await;
    let input = |month| MonthlyReportInput {
        year: 2026,
        month,
        classes_run: 1,
        trainees: 20,
        exams: 0,
        problems: "无".into(),
    };
    // March's report on 03-24 is on time (the 25th, the old version)…
    let march = reports::submit_report(&store, &inst_user(inst, 1), &input(3), at(2026, 3, 24, 9))
        .await
        .unwrap();
    assert!(!march.late);
    assert_eq!(march.due, d(2026, 3, 25));
    assert_eq!(march.policy_version, SEED);
    // …April's on 04-22 is late (the 20th).
    let april = reports::submit_report(&store, &inst_user(inst, 1), &input(4), at(2026, 4, 22, 9))
        .await
        .unwrap();
    assert!(april.late);
    assert_eq!(april.due, d(2026, 4, 20));
    assert_eq!(april.policy_version, "haizhu-2026-v2");
    // Read back later, March keeps its due day.
    let again = reports::get_report(&store, &centre_staff(), march.id)
        .await
        .unwrap();
    assert_eq!((again.due, again.late), (d(2026, 3, 25), false));
}

async fn r_pol_1_compare_marks_the_differing_values(store: Store) {
    let v2 = confirmed(&store, "haizhu-2026-v2", d(2026, 3, 10), |p| {
        p.filing_lead_working_days = 12;
        p.major_projects.push("乡村工匠".into());
    })
    .await;
    let seed = policies::in_force_stored(&store, d(2026, 3, 2))
        .await
        .unwrap();
    let rows = policies::compare(&seed, &v2);
    let differing: Vec<&str> = rows
        .iter()
        .filter(|r| r.differs)
        .map(|r| r.key.as_str())
        .collect();
    assert_eq!(
        differing,
        vec![
            "version",
            "effective_from",
            "document_title",
            "document_number",
            "major_projects",
            "filing_lead_working_days"
        ]
    );
    let lead = rows
        .iter()
        .find(|r| r.key == "filing_lead_working_days")
        .unwrap();
    assert_eq!((lead.a.as_str(), lead.b.as_str()), ("10", "12"));
}
