//! The storage conformance story (STYLE.md): every test is written once as `async fn(Store)` and
//! run on SQLite (`sqlite::…`) and PostgreSQL (`postgres::…`). PostgreSQL must be reachable
//! (`PEIXUN_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/test`): these tests panic
//! rather than skip.

use chrono::{DateTime, Duration, TimeZone, Utc};
use peixun_domain::role::Role;
use peixun_store::accounts::{self, NewUser, UserView};
use peixun_store::audit::{self, AuditFilter};
use peixun_store::institutions::{
    self, InstitutionFilter, InstitutionInput, InstitutionStatus, Qualification,
};
use peixun_store::teachers::{self, TeacherInput, TeacherQualification};
use peixun_store::{Actor, Backend, PageRequest, Store, StoreError, credentials, demo, sessions};
use sea_orm::ConnectionTrait;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, _guard) = peixun_store::testing::sqlite_temp().await;
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, _guard) = peixun_store::testing::postgres_fresh().await;
                    super::$name(store).await;
                }
            )*
        }
    };
}

on_both_backends!(
    migrate_twice_is_idempotent,
    s1_create_and_authenticate_user,
    s1_password_rules_refuse_weak_passwords,
    s1_username_is_unique,
    s7_one_role_and_institution_binding,
    s7_only_sysadmin_manages_accounts,
    s2_lockout_after_five_failures_and_unlock_after_15_minutes,
    s2_unknown_user_and_wrong_password_get_the_same_answer,
    s3_session_idle_timeout,
    s3_session_absolute_timeout_and_touch,
    s3_logout_kills_the_session,
    institution_create_update_list_search,
    credit_code_checksum_warning_must_be_confirmed,
    credit_code_invalid_is_refused,
    duplicate_credit_code_and_name_conflict,
    only_centre_edits_directory,
    s6_institution_b_cannot_reach_institution_a,
    s6_list_filter_and_record_check_agree_for_every_role,
    teachers_masked_and_reveal_audited,
    s7_sysadmin_and_auditor_see_no_teachers,
    s10_every_write_adds_exactly_one_audit_row,
    s11_verify_detects_an_altered_row,
    s11_verify_detects_a_deleted_middle_row,
    s11_trigger_refuses_update_and_delete,
    s11_concurrent_writes_keep_the_chain,
    demo_seed_valid_and_not_duplicated,
    teacher_update_with_empty_id_number_keeps_the_stored_one,
    s13_reveal_checks_permission_before_reason_and_only_writers_reveal,
    s3_password_change_reset_and_deactivation_end_sessions_in_their_transaction,
    s3_s10_logout_is_audited_once,
    s10_record_writes_one_audit_row_for_an_event,
    s7_only_sysadmin_lists_users_and_only_auditor_reads_the_log,
    r_val_1_institution_reports_every_bad_field_and_writes_nothing,
    r_val_1_teacher_reports_every_bad_field_and_writes_nothing,
    r_val_1_user_reports_every_problem_and_every_failed_password_rule,
);

// ---------------------------------------------------------------------------------------------
// helpers

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

const PW: &str = "Haizhu#Train2026";

/// An independent GB 32100 implementation (cross-checks the store's own).
fn credit_code(n: u32, valid: bool) -> String {
    const A: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let first17 = format!("52440105{n:09}");
    let sum: usize = first17
        .chars()
        .zip(W)
        .map(|(c, w)| A.find(c).unwrap() * w)
        .sum();
    let check = (31 - sum % 31) % 31;
    let idx = if valid { check } else { (check + 1) % 31 };
    format!("{first17}{}", A.chars().nth(idx).unwrap())
}

fn id_number(n: u32) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let first17 = format!("44010519850612{:03}", n % 1000);
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{first17}{}", C[(sum % 11) as usize])
}

fn inst_input(n: u32) -> InstitutionInput {
    InstitutionInput {
        name: format!("广州市海珠区测试{n}号职业培训学校"),
        credit_code: credit_code(n, true),
        confirm_checksum_warning: false,
        registered_address: format!("广州市海珠区新港西路{n}号"),
        district: None,
        contact_person: "陈志强".into(),
        contact_phone: "13800138000".into(),
        qualifications: vec![
            Qualification {
                occupation: "家政服务员".into(),
                level: "初级".into(),
            },
            Qualification {
                occupation: "养老护理员".into(),
                level: "中级".into(),
            },
        ],
        major_project_capable: false,
        major_projects: vec![],
        status: InstitutionStatus::Active,
    }
}

fn teacher_input(n: u32) -> TeacherInput {
    TeacherInput {
        name: format!("教师{n}"),
        id_number: id_number(n),
        phone: "13912345678".into(),
        qualifications: vec![TeacherQualification {
            occupation: "家政服务员".into(),
            level: "高级".into(),
            certificate_no: format!("2020{n:08}"),
        }],
        active: true,
    }
}

fn sys() -> Actor {
    Actor::system("test")
}

async fn user(store: &Store, username: &str, role: Role, inst: Option<i64>) -> UserView {
    accounts::create_user(
        store,
        &sys(),
        NewUser {
            username: username.into(),
            display_name: username.into(),
            role,
            institution_id: inst,
            password: PW.into(),
            must_change_password: false,
        },
        t0(),
    )
    .await
    .unwrap()
}

async fn actor(store: &Store, username: &str, role: Role, inst: Option<i64>) -> Actor {
    Actor::from_user(
        &user(store, username, role, inst).await,
        Some("10.0.0.1".into()),
        None,
    )
}

/// S7: a sysadmin's reset confirmed by a centre_admin (made here once per test database);
/// returns the two-part one-time password.
async fn two_person_reset(store: &Store, admin: &Actor, user_id: i64) -> String {
    let confirmer = match accounts::find_user_by_username(store, "confirmer")
        .await
        .unwrap()
    {
        Some(u) => Actor::from_user(&u, None, None),
        None => actor(store, "confirmer", Role::CentreAdmin, None).await,
    };
    let first = credentials::request_reset(store, admin, user_id, "忘记密码，已核实身份", t0())
        .await
        .unwrap();
    let second = credentials::confirm(store, &confirmer, first.request.id, t0())
        .await
        .unwrap();
    format!("{}-{}", first.half, second.half)
}

async fn audit_rows(store: &Store) -> u64 {
    audit::count(store).await.unwrap()
}

async fn assert_chain_ok(store: &Store) -> u64 {
    match audit::verify(store).await.unwrap() {
        Ok(r) => r.rows_checked,
        Err(b) => panic!("audit chain broken: {b}"),
    }
}

async fn raw(store: &Store, sql: &str) -> Result<(), sea_orm::DbErr> {
    store.write_db().execute_unprepared(sql).await.map(|_| ())
}

fn code_of(e: &StoreError) -> &'static str {
    e.code()
}

// ---------------------------------------------------------------------------------------------
// tests

async fn migrate_twice_is_idempotent(store: Store) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    let inst = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let got = institutions::get_institution(&store, &sys(), inst.id)
        .await
        .unwrap();
    assert_eq!(got, inst);
    // Several servers starting at once: concurrent migrations all succeed.
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.migrate().await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
}

async fn s1_create_and_authenticate_user(store: Store) {
    let u = user(&store, "centre1", Role::CentreStaff, None).await;
    assert_eq!(u.role, Role::CentreStaff);
    assert!(u.active);
    let logged = accounts::authenticate(&store, "centre1", PW, Some("10.1.1.1"), t0())
        .await
        .unwrap();
    assert_eq!(logged.id, u.id);
    assert_eq!(logged.last_login_at, Some(t0()));
    // The stored hash is argon2id with m=19456, t=2 (S1: scan stored hashes).
    let row = store
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            store.db().get_database_backend(),
            "SELECT password_hash FROM users",
        ))
        .await
        .unwrap()
        .unwrap();
    let hash: String = row.try_get("", "password_hash").unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PW));
    // change password: old required, rules apply, must_change cleared.
    let me = Actor::from_user(&logged, None, None);
    let e = accounts::change_password(
        &store,
        &me,
        u.id,
        "wrong-Old#123",
        "New#Password2026",
        None,
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(code_of(&e), "OLD_PASSWORD_WRONG");
    let e = accounts::change_password(&store, &me, u.id, PW, "short", None, t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "PASSWORD_WEAK");
    accounts::change_password(&store, &me, u.id, PW, "New#Password2026", None, t0())
        .await
        .unwrap();
    assert!(
        accounts::authenticate(&store, "centre1", PW, None, t0())
            .await
            .is_err()
    );
    accounts::authenticate(&store, "centre1", "New#Password2026", None, t0())
        .await
        .unwrap();
    // Someone else cannot change my password.
    let other = actor(&store, "centre2", Role::CentreStaff, None).await;
    let e = accounts::change_password(
        &store,
        &other,
        u.id,
        "New#Password2026",
        "Another#Pass2026",
        None,
        t0(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }));
}

async fn s1_password_rules_refuse_weak_passwords(store: Store) {
    let cases: &[(&str, bool)] = &[
        ("Haizhu#Train2026", true),
        ("correct-horse-battery-9", true), // lower + symbol + digit
        ("ABCDEFGH1234", false),           // 2 classes
        ("abcdefgh!@#$", false),           // 2 classes
        ("Short#1a", false),               // < 12
        ("Password@123", false),           // blocklist
        ("P@ssw0rd", false),               // short and common
        ("qwertyuiop", false),
        ("Zhangsan#2026", false), // contains the username
        ("Aaaaaaaaaaaa", false),
        ("长城长城长城长城长城长城A1", true), // CJK counts as a symbol class
    ];
    for (pw, ok) in cases {
        let r = accounts::check_password_rules("zhangsan", pw);
        assert_eq!(r.is_ok(), *ok, "password {pw:?}: {r:?}");
    }
    // The service applies the same rules.
    let e = accounts::create_user(
        &store,
        &sys(),
        NewUser {
            username: "weak".into(),
            display_name: "weak".into(),
            role: Role::Bureau,
            institution_id: None,
            password: "Password@123".into(),
            must_change_password: false,
        },
        t0(),
    )
    .await
    .unwrap_err();
    match e {
        StoreError::Validation { code, field, .. } => {
            assert_eq!(code, "PASSWORD_WEAK");
            assert_eq!(field.as_deref(), Some("password"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(accounts::count_users(&store).await.unwrap(), 0);
}

async fn s1_username_is_unique(store: Store) {
    user(&store, "dup", Role::Bureau, None).await;
    let e = accounts::create_user(
        &store,
        &sys(),
        NewUser {
            username: "dup".into(),
            display_name: "x".into(),
            role: Role::City,
            institution_id: None,
            password: PW.into(),
            must_change_password: false,
        },
        t0(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Conflict {
                code: "USERNAME_TAKEN",
                ..
            }
        ),
        "{e:?}"
    );
}

async fn s7_one_role_and_institution_binding(store: Store) {
    let inst = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    let mk = |role, inst: Option<i64>| NewUser {
        username: format!("user{}", role as u8),
        display_name: "x".into(),
        role,
        institution_id: inst,
        password: PW.into(),
        must_change_password: true,
    };
    let e = accounts::create_user(&store, &sys(), mk(Role::InstitutionAdmin, None), t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "INSTITUTION_REQUIRED");
    for role in [
        Role::Sysadmin,
        Role::Auditor,
        Role::CentreAdmin,
        Role::Bureau,
    ] {
        let e = accounts::create_user(&store, &sys(), mk(role, Some(inst.id)), t0())
            .await
            .unwrap_err();
        assert_eq!(code_of(&e), "INSTITUTION_NOT_ALLOWED", "{role:?}");
    }
    let e = accounts::create_user(&store, &sys(), mk(Role::InstitutionStaff, Some(9999)), t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "INSTITUTION_NOT_FOUND");
    let u = accounts::create_user(
        &store,
        &sys(),
        mk(Role::InstitutionStaff, Some(inst.id)),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(u.institution_name.as_deref(), Some(inst.name.as_str()));
    assert!(u.must_change_password);
}

async fn s7_only_sysadmin_manages_accounts(store: Store) {
    let admin = actor(&store, "sys1", Role::Sysadmin, None).await;
    let centre = actor(&store, "centre1", Role::CentreAdmin, None).await;
    let new = |name: &str| NewUser {
        username: name.into(),
        display_name: name.into(),
        role: Role::City,
        institution_id: None,
        password: PW.into(),
        must_change_password: true,
    };
    let e = accounts::create_user(&store, &centre, new("cc2"), t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }));
    let u = accounts::create_user(&store, &admin, new("cc3"), t0())
        .await
        .unwrap();
    // Deactivate: login refused, sessions gone.
    let token = sessions::create_session(&store, u.id, t0()).await.unwrap();
    let u2 = accounts::set_user_active(&store, &admin, u.id, false, t0())
        .await
        .unwrap();
    assert!(!u2.active);
    assert!(
        sessions::lookup_session(&store, &token, t0())
            .await
            .unwrap()
            .is_none()
    );
    let e = accounts::authenticate(&store, "cc3", PW, None, t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "AUTH_FAILED");
    accounts::set_user_active(&store, &admin, u.id, true, t0())
        .await
        .unwrap();
    // Reset: one-time password, must change.
    let otp = two_person_reset(&store, &admin, u.id).await;
    let r = accounts::get_user(&store, u.id).await.unwrap();
    assert!(r.must_change_password);
    let e = credentials::request_reset(&store, &centre, u.id, "忘记密码", t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }));
    accounts::authenticate(&store, "cc3", &otp, None, t0())
        .await
        .unwrap();
    let page = accounts::list_users(
        &store,
        &admin,
        &accounts::UserFilter {
            role: Some(Role::City),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].username, "cc3");
}

async fn s2_lockout_after_five_failures_and_unlock_after_15_minutes(store: Store) {
    user(&store, "inst1", Role::Bureau, None).await;
    let mut now = t0();
    for i in 1..=4 {
        let e = accounts::authenticate(&store, "inst1", "Wrong#Password1", None, now)
            .await
            .unwrap_err();
        assert_eq!(code_of(&e), "AUTH_FAILED", "attempt {i}");
        now += Duration::seconds(10);
    }
    let e = accounts::authenticate(&store, "inst1", "Wrong#Password1", None, now)
        .await
        .unwrap_err();
    let until = match e {
        StoreError::Locked { until } => until,
        other => panic!("5th failure should lock: {other:?}"),
    };
    assert_eq!(until, now + Duration::minutes(15));
    // Even the right password is refused while locked.
    let e = accounts::authenticate(&store, "inst1", PW, None, now + Duration::minutes(14))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Locked { .. }));
    // After 15 minutes the right password works, and the count starts afresh.
    let u = accounts::authenticate(&store, "inst1", PW, None, until + Duration::seconds(1))
        .await
        .unwrap();
    assert!(u.locked_until.is_none());
    // Audited: 5 failures, one lockout, one refusal while locked, one login.
    let f = |a: &str| AuditFilter {
        action: Some(a.into()),
        ..Default::default()
    };
    let p = PageRequest::default();
    assert_eq!(
        audit::search(&store, &sys(), &f("auth.login_failed"), &p)
            .await
            .unwrap()
            .total,
        5
    );
    assert_eq!(
        audit::search(&store, &sys(), &f("auth.lockout"), &p)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        audit::search(&store, &sys(), &f("auth.login_refused_locked"), &p)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        audit::search(&store, &sys(), &f("auth.login"), &p)
            .await
            .unwrap()
            .total,
        1
    );
    // A success resets the count: 4 more failures do not lock.
    for _ in 0..4 {
        let e = accounts::authenticate(
            &store,
            "inst1",
            "Wrong#Password1",
            None,
            until + Duration::minutes(1),
        )
        .await
        .unwrap_err();
        assert_eq!(code_of(&e), "AUTH_FAILED");
    }
    assert_chain_ok(&store).await;
}

async fn s2_unknown_user_and_wrong_password_get_the_same_answer(store: Store) {
    user(&store, "known", Role::City, None).await;
    // Warm up (the dummy hash is computed once).
    let _ = accounts::authenticate(&store, "nobody", "X#wrongpass123", None, t0()).await;
    // Minimum of three alternating runs each: robust to a busy shared machine. (Three failures
    // stay below the lockout.)
    let mut wrong_pw = std::time::Duration::MAX;
    let mut unknown = std::time::Duration::MAX;
    let mut a = None;
    let mut b = None;
    for _ in 0..3 {
        let start = std::time::Instant::now();
        a = Some(
            accounts::authenticate(&store, "known", "X#wrongpass123", None, t0())
                .await
                .unwrap_err(),
        );
        wrong_pw = wrong_pw.min(start.elapsed());
        let start = std::time::Instant::now();
        b = Some(
            accounts::authenticate(&store, "nobody", "X#wrongpass123", None, t0())
                .await
                .unwrap_err(),
        );
        unknown = unknown.min(start.elapsed());
    }
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    match a {
        StoreError::Validation {
            code,
            message,
            field,
        } => {
            assert_eq!(code, "AUTH_FAILED");
            assert_eq!(message, "用户名或密码错误");
            assert_eq!(field, None);
        }
        other => panic!("{other:?}"),
    }
    // Both verify one argon2id hash: same order of magnitude (generous bound for shared CI).
    assert!(
        unknown * 4 > wrong_pw && wrong_pw * 4 > unknown,
        "timing differs: wrong password {wrong_pw:?}, unknown user {unknown:?}"
    );
}

async fn s3_session_idle_timeout(store: Store) {
    let u = user(&store, "ses1", Role::CentreStaff, None).await;
    let token = sessions::create_session(&store, u.id, t0()).await.unwrap();
    assert_eq!(token.len(), 64);
    let s = sessions::lookup_session(&store, &token, t0() + Duration::minutes(29))
        .await
        .unwrap()
        .expect("alive after 29 minutes");
    assert_eq!(s.user.id, u.id);
    assert_eq!(s.csrf_token.len(), 64);
    // Used at 29 min: idle clock restarts; 58 min is fine, 30 min after that is not.
    assert!(
        sessions::lookup_session(&store, &token, t0() + Duration::minutes(58))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        sessions::lookup_session(
            &store,
            &token,
            t0() + Duration::minutes(88) + Duration::seconds(1)
        )
        .await
        .unwrap()
        .is_none()
    );
    // Unused for 30 minutes: gone.
    let t2 = sessions::create_session(&store, u.id, t0()).await.unwrap();
    assert!(
        sessions::lookup_session(&store, &t2, t0() + Duration::minutes(30))
            .await
            .unwrap()
            .is_none()
    );
    // Only the hash is stored.
    let n = store
        .db()
        .query_all_raw(sea_orm::Statement::from_string(
            store.db().get_database_backend(),
            format!("SELECT id FROM sessions WHERE token_hash = '{token}'"),
        ))
        .await
        .unwrap();
    assert!(n.is_empty());
    assert!(
        sessions::lookup_session(&store, "not-a-token", t0())
            .await
            .unwrap()
            .is_none()
    );
}

async fn s3_session_absolute_timeout_and_touch(store: Store) {
    let u = user(&store, "ses2", Role::CentreStaff, None).await;
    let token = sessions::create_session(&store, u.id, t0()).await.unwrap();
    let mut now = t0();
    while now < t0() + Duration::hours(12) - Duration::minutes(20) {
        now += Duration::minutes(20);
        assert!(
            sessions::lookup_session(&store, &token, now)
                .await
                .unwrap()
                .is_some(),
            "alive at {now}"
        );
    }
    assert!(
        sessions::lookup_session(&store, &token, t0() + Duration::hours(12))
            .await
            .unwrap()
            .is_none()
    );
}

async fn s3_logout_kills_the_session(store: Store) {
    let u = user(&store, "ses3", Role::CentreStaff, None).await;
    let a = sessions::create_session(&store, u.id, t0()).await.unwrap();
    let b = sessions::create_session(&store, u.id, t0()).await.unwrap();
    assert_ne!(a, b, "a new token at every login");
    sessions::delete_session(&store, &a).await.unwrap();
    assert!(
        sessions::lookup_session(&store, &a, t0())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        sessions::lookup_session(&store, &b, t0())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        sessions::delete_sessions_for_user(&store, u.id)
            .await
            .unwrap(),
        1
    );
    assert!(
        sessions::lookup_session(&store, &b, t0())
            .await
            .unwrap()
            .is_none()
    );
}

async fn institution_create_update_list_search(store: Store) {
    let centre = actor(&store, "centre", Role::CentreStaff, None).await;
    let mut ids = vec![];
    for n in 1..=5 {
        let mut input = inst_input(n);
        if n == 3 {
            input.major_project_capable = true;
            input.major_projects = vec!["南粤家政".into()];
        }
        if n == 4 {
            input.qualifications = vec![Qualification {
                occupation: "电工".into(),
                level: "高级".into(),
            }];
        }
        let v = institutions::create_institution(&store, &centre, &input, t0())
            .await
            .unwrap();
        assert_eq!(v.district, "海珠区");
        assert_eq!(v.created_at, t0());
        ids.push(v.id);
    }
    let p = PageRequest::first(2);
    let all = InstitutionFilter::default();
    let page1 = institutions::list_institutions(&store, &centre, &all, &p)
        .await
        .unwrap();
    assert_eq!(page1.total, 5);
    assert_eq!(page1.items.len(), 2);
    let page2 = institutions::list_institutions(
        &store,
        &centre,
        &all,
        &PageRequest {
            after_id: page1.next_after_id,
            ..p.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(page2.items[0].id, ids[2]);
    let page3 = institutions::list_institutions(
        &store,
        &centre,
        &all,
        &PageRequest {
            page: Some(3),
            ..p.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(page3.items.len(), 1);
    assert_eq!(page3.next_after_id, None);

    let search = |f: InstitutionFilter| {
        let store = store.clone();
        let centre = centre.clone();
        async move {
            institutions::list_institutions(&store, &centre, &f, &PageRequest::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|i| i.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search(InstitutionFilter {
            q: Some("测试2号".into()),
            ..Default::default()
        })
        .await,
        vec![ids[1]]
    );
    let code4 = credit_code(4, true);
    assert_eq!(
        search(InstitutionFilter {
            q: Some(code4[8..].to_lowercase()),
            ..Default::default()
        })
        .await,
        vec![ids[3]]
    );
    assert_eq!(
        search(InstitutionFilter {
            major_only: true,
            ..Default::default()
        })
        .await,
        vec![ids[2]]
    );
    assert_eq!(
        search(InstitutionFilter {
            occupation: Some("电工".into()),
            ..Default::default()
        })
        .await,
        vec![ids[3]]
    );

    // update: audit holds old → new.
    let mut input = inst_input(2);
    input.contact_phone = "020-87654321".into();
    input.status = InstitutionStatus::Suspended;
    input.qualifications.push(Qualification {
        occupation: "中式烹调师".into(),
        level: "专项职业能力".into(),
    });
    let later = t0() + Duration::days(1);
    let v = institutions::update_institution(&store, &centre, ids[1], &input, later)
        .await
        .unwrap();
    assert_eq!(v.contact_phone, "020-87654321");
    assert_eq!(v.qualifications.len(), 3);
    assert_eq!(v.updated_at, later);
    assert_eq!(v.created_at, t0());
    assert_eq!(
        search(InstitutionFilter {
            status: Some(InstitutionStatus::Suspended),
            ..Default::default()
        })
        .await,
        vec![ids[1]]
    );
    let entry = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            action: Some("institution.update".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap()
    .items
    .remove(0);
    assert_eq!(
        entry.target_id.as_deref(),
        Some(ids[1].to_string().as_str())
    );
    assert_eq!(
        entry.old_value.as_ref().unwrap()["contact_phone"],
        "13800138000"
    );
    assert_eq!(
        entry.new_value.as_ref().unwrap()["contact_phone"],
        "020-87654321"
    );
    assert_eq!(entry.username, "centre");
    assert_eq!(entry.role.as_deref(), Some("centre_staff"));
    assert_eq!(entry.ip.as_deref(), Some("10.0.0.1"));

    // Validation names the field.
    let mut bad = inst_input(9);
    bad.contact_phone = "12345".into();
    let e = institutions::create_institution(&store, &centre, &bad, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Validation { field: Some(f), .. } if f == "contact_phone"),
        "{e:?}"
    );
    let mut bad = inst_input(9);
    bad.qualifications[0].level = "特级".into();
    let e = institutions::create_institution(&store, &centre, &bad, t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "LEVEL_INVALID");
    let mut bad = inst_input(9);
    bad.major_project_capable = true;
    let e = institutions::create_institution(&store, &centre, &bad, t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "MAJOR_PROJECTS_REQUIRED");
    let e = institutions::update_institution(&store, &centre, 9999, &inst_input(9), t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }));
}

async fn credit_code_checksum_warning_must_be_confirmed(store: Store) {
    let centre = actor(&store, "centre", Role::CentreAdmin, None).await;
    let mut input = inst_input(7);
    input.credit_code = credit_code(7, false);
    let before = audit_rows(&store).await;
    let e = institutions::create_institution(&store, &centre, &input, t0())
        .await
        .unwrap_err();
    match &e {
        StoreError::Validation {
            code,
            field,
            message,
        } => {
            assert_eq!(*code, "CREDIT_CODE_CHECKSUM");
            assert_eq!(field.as_deref(), Some("credit_code"));
            assert!(message.contains("校验位"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        audit_rows(&store).await,
        before,
        "a refused write changes nothing"
    );
    input.confirm_checksum_warning = true;
    let v = institutions::create_institution(&store, &centre, &input, t0())
        .await
        .unwrap();
    assert!(v.credit_code_warning_confirmed);
    let entry = audit::search(
        &store,
        &sys(),
        &AuditFilter::default(),
        &PageRequest::default(),
    )
    .await
    .unwrap()
    .items
    .remove(0);
    assert_eq!(entry.action, "institution.create");
    let new = entry.new_value.unwrap();
    assert_eq!(new["credit_code_warning_confirmed"], true);
    assert_eq!(new["credit_code_checksum_warning_confirmed_by"], "centre");
    // Editing other fields later does not ask again for the same code.
    input.confirm_checksum_warning = false;
    input.contact_person = "李丽娟".into();
    let v = institutions::update_institution(&store, &centre, v.id, &input, t0())
        .await
        .unwrap();
    assert!(v.credit_code_warning_confirmed);
    // A valid code clears the flag.
    input.credit_code = credit_code(7, true);
    let v = institutions::update_institution(&store, &centre, v.id, &input, t0())
        .await
        .unwrap();
    assert!(!v.credit_code_warning_confirmed);
}

async fn credit_code_invalid_is_refused(store: Store) {
    for bad in ["123", "52440105000000007I", "5244010500000000700", ""] {
        let mut input = inst_input(8);
        input.credit_code = bad.into();
        input.confirm_checksum_warning = true;
        let e = institutions::create_institution(&store, &sys(), &input, t0())
            .await
            .unwrap_err();
        match e {
            StoreError::Validation { code, field, .. } => {
                assert!(
                    code.starts_with("CREDIT_CODE_") && code != "CREDIT_CODE_CHECKSUM",
                    "{bad}: {code}"
                );
                assert_eq!(field.as_deref(), Some("credit_code"));
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    // Lower case and spaces are normalised.
    let mut input = inst_input(8);
    input.credit_code = format!("  {}  ", credit_code(8, true).to_lowercase());
    let v = institutions::create_institution(&store, &sys(), &input, t0())
        .await
        .unwrap();
    assert_eq!(v.credit_code, credit_code(8, true));
}

async fn duplicate_credit_code_and_name_conflict(store: Store) {
    let a = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    let mut dup_code = inst_input(2);
    dup_code.credit_code = a.credit_code.clone();
    let e = institutions::create_institution(&store, &sys(), &dup_code, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Conflict { code: "CREDIT_CODE_TAKEN", field: Some(f), .. } if f == "credit_code"),
        "{e:?}"
    );
    let mut dup_name = inst_input(3);
    dup_name.name = a.name.clone();
    let e = institutions::create_institution(&store, &sys(), &dup_name, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &e,
            StoreError::Conflict {
                code: "INSTITUTION_NAME_TAKEN",
                ..
            }
        ),
        "{e:?}"
    );
    // Updating another institution to A's code conflicts too; keeping one's own code does not.
    let b = institutions::create_institution(&store, &sys(), &inst_input(4), t0())
        .await
        .unwrap();
    let e = institutions::update_institution(&store, &sys(), b.id, &dup_code, t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "CREDIT_CODE_TAKEN");
    institutions::update_institution(&store, &sys(), b.id, &inst_input(4), t0())
        .await
        .unwrap();
}

async fn only_centre_edits_directory(store: Store) {
    let inst = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    let roles = [
        ("bureau", Role::Bureau, None),
        ("city", Role::City, None),
        ("sysadmin", Role::Sysadmin, None),
        ("auditor", Role::Auditor, None),
        ("inst_admin", Role::InstitutionAdmin, Some(inst.id)),
    ];
    for (name, role, i) in roles {
        let a = actor(&store, name, role, i).await;
        let e = institutions::create_institution(&store, &a, &inst_input(2), t0())
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Forbidden { .. }), "{role:?} create");
        let e = institutions::update_institution(&store, &a, inst.id, &inst_input(1), t0())
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Forbidden { .. }), "{role:?} update");
    }
    let admin = actor(&store, "cadmin", Role::CentreAdmin, None).await;
    institutions::create_institution(&store, &admin, &inst_input(2), t0())
        .await
        .unwrap();
    // Auditor sees no directory; bureau, city and sysadmin do.
    let auditor = Actor {
        role: Some(Role::Auditor),
        user_id: Some(99),
        ..sys()
    };
    assert!(
        institutions::list_institutions(&store, &auditor, &Default::default(), &Default::default())
            .await
            .is_err()
    );
    let bureau = Actor {
        role: Some(Role::Bureau),
        user_id: Some(98),
        ..sys()
    };
    let all =
        institutions::list_institutions(&store, &bureau, &Default::default(), &Default::default())
            .await
            .unwrap();
    assert_eq!(all.total, 2);
}

async fn s6_institution_b_cannot_reach_institution_a(store: Store) {
    let a = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    let b = institutions::create_institution(&store, &sys(), &inst_input(2), t0())
        .await
        .unwrap();
    let ta = teachers::create_teacher(&store, &sys(), a.id, &teacher_input(1), t0())
        .await
        .unwrap();
    let b_admin = actor(&store, "b_admin", Role::InstitutionAdmin, Some(b.id)).await;
    let b_staff = actor(&store, "b_staff", Role::InstitutionStaff, Some(b.id)).await;
    let before = audit_rows(&store).await;
    for who in [&b_admin, &b_staff] {
        // lists: only B
        let list =
            institutions::list_institutions(&store, who, &Default::default(), &Default::default())
                .await
                .unwrap();
        assert_eq!(
            list.items.iter().map(|i| i.id).collect::<Vec<_>>(),
            vec![b.id]
        );
        assert_eq!(list.total, 1);
        // single record: refused, and the same rule says so
        assert!(!institutions::can_view(who, a.id));
        assert!(institutions::can_view(who, b.id));
        assert!(matches!(
            institutions::get_institution(&store, who, a.id).await,
            Err(StoreError::Forbidden { .. })
        ));
        institutions::get_institution(&store, who, b.id)
            .await
            .unwrap();
        // the list filter and the record check agree for every id
        for id in [a.id, b.id, 12345] {
            let in_list = institutions::list_institutions(
                &store,
                who,
                &Default::default(),
                &Default::default(),
            )
            .await
            .unwrap()
            .items
            .iter()
            .any(|i| i.id == id);
            let single = institutions::get_institution(&store, who, id).await.is_ok();
            assert_eq!(in_list, single, "id {id}");
        }
        // writes refused
        assert!(matches!(
            institutions::update_institution(&store, who, a.id, &inst_input(1), t0()).await,
            Err(StoreError::Forbidden { .. })
        ));
        // A's teachers: list, get, create, update, reveal all refused
        assert!(matches!(
            teachers::list_teachers(&store, who, a.id, &Default::default()).await,
            Err(StoreError::Forbidden { .. })
        ));
        assert!(matches!(
            teachers::get_teacher(&store, who, ta.id).await,
            Err(StoreError::Forbidden { .. })
        ));
        assert!(matches!(
            teachers::create_teacher(&store, who, a.id, &teacher_input(2), t0()).await,
            Err(StoreError::Forbidden { .. })
        ));
        assert!(matches!(
            teachers::update_teacher(&store, who, ta.id, &teacher_input(3), t0()).await,
            Err(StoreError::Forbidden { .. })
        ));
        assert!(matches!(
            teachers::reveal_id_number(&store, who, ta.id, "核查", t0()).await,
            Err(StoreError::Forbidden { .. })
        ));
    }
    assert_eq!(audit_rows(&store).await, before, "refusals write nothing");
    // B manages its own teachers.
    let tb = teachers::create_teacher(&store, &b_staff, b.id, &teacher_input(4), t0())
        .await
        .unwrap();
    teachers::update_teacher(&store, &b_admin, tb.id, &teacher_input(5), t0())
        .await
        .unwrap();
    let list = teachers::list_teachers(&store, &b_admin, b.id, &Default::default())
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    // A's teacher is unchanged.
    let centre = Actor {
        role: Some(Role::CentreStaff),
        user_id: Some(77),
        ..sys()
    };
    assert_eq!(
        teachers::get_teacher(&store, &centre, ta.id).await.unwrap(),
        ta
    );
}

async fn teachers_masked_and_reveal_audited(store: Store) {
    let a = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    let centre = actor(&store, "centre", Role::CentreStaff, None).await;
    let t = teachers::create_teacher(&store, &centre, a.id, &teacher_input(42), t0())
        .await
        .unwrap();
    let full = id_number(42);
    assert_eq!(
        t.id_number_masked,
        format!("{}**********{}", &full[..4], &full[14..])
    );
    let list = teachers::list_teachers(&store, &centre, a.id, &Default::default())
        .await
        .unwrap();
    assert_eq!(list.items[0].id_number_masked, t.id_number_masked);
    // No full ID number in the audit log.
    let entries = audit::search(
        &store,
        &sys(),
        &AuditFilter::default(),
        &PageRequest::default(),
    )
    .await
    .unwrap();
    for e in &entries.items {
        let text = format!("{:?}{:?}", e.old_value, e.new_value);
        assert!(
            !text.contains(&full),
            "audit row {} holds a full ID number",
            e.id
        );
    }
    let e = teachers::reveal_id_number(&store, &centre, t.id, "  ", t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "REASON_REQUIRED");
    let bureau = actor(&store, "bureau", Role::Bureau, None).await;
    // Bureau reads masked numbers only (it may not write the teacher).
    let e = teachers::reveal_id_number(&store, &bureau, t.id, "核查资质", t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e:?}");
    assert_eq!(
        teachers::reveal_id_number(&store, &centre, t.id, "核查资质", t0())
            .await
            .unwrap(),
        full
    );
    let r = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            action: Some("teacher.reveal_id_number".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(r.total, 1);
    assert_eq!(r.items[0].username, "centre");
    // Bureau and city read but do not write.
    let e = teachers::update_teacher(&store, &bureau, t.id, &teacher_input(42), t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }));
    // Bad ID number names the field; duplicates in one institution conflict.
    let mut bad = teacher_input(43);
    bad.id_number = "440105198506120430".into();
    if bad.id_number == id_number(43) {
        bad.id_number = "440105198506120431".into();
    }
    let e = teachers::create_teacher(&store, &centre, a.id, &bad, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Validation { field: Some(f), .. } if f == "id_number"),
        "{e:?}"
    );
    let e = teachers::create_teacher(&store, &centre, a.id, &teacher_input(42), t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "TEACHER_DUPLICATE");
}

async fn s7_sysadmin_and_auditor_see_no_teachers(store: Store) {
    let a = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    let t = teachers::create_teacher(&store, &sys(), a.id, &teacher_input(1), t0())
        .await
        .unwrap();
    for role in [Role::Sysadmin, Role::Auditor] {
        let who = actor(&store, role.code(), role, None).await;
        assert!(matches!(
            teachers::list_teachers(&store, &who, a.id, &Default::default()).await,
            Err(StoreError::Forbidden { .. })
        ));
        assert!(matches!(
            teachers::get_teacher(&store, &who, t.id).await,
            Err(StoreError::Forbidden { .. })
        ));
        assert!(matches!(
            teachers::reveal_id_number(&store, &who, t.id, "x", t0()).await,
            Err(StoreError::Forbidden { .. })
        ));
        assert!(matches!(
            teachers::create_teacher(&store, &who, a.id, &teacher_input(2), t0()).await,
            Err(StoreError::Forbidden { .. })
        ));
    }
    for role in [Role::Bureau, Role::City, Role::CentreAdmin] {
        let who = actor(&store, role.code(), role, None).await;
        teachers::get_teacher(&store, &who, t.id).await.unwrap();
    }
}

async fn s10_every_write_adds_exactly_one_audit_row(store: Store) {
    let mut n = audit_rows(&store).await;
    assert_eq!(n, 0);
    let mut step = |label: &str, expected: u64, now: u64| {
        assert_eq!(now, n + expected, "{label}");
        n = now;
    };
    let admin = user(&store, "sys1", Role::Sysadmin, None).await;
    step("create user", 1, audit_rows(&store).await);
    let admin = Actor::from_user(&admin, None, Some("req-1".into()));
    let inst = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    step("create institution", 1, audit_rows(&store).await);
    institutions::update_institution(&store, &sys(), inst.id, &inst_input(1), t0())
        .await
        .unwrap();
    step("update institution", 1, audit_rows(&store).await);
    let t = teachers::create_teacher(&store, &sys(), inst.id, &teacher_input(1), t0())
        .await
        .unwrap();
    step("create teacher", 1, audit_rows(&store).await);
    teachers::update_teacher(&store, &sys(), t.id, &teacher_input(2), t0())
        .await
        .unwrap();
    step("update teacher", 1, audit_rows(&store).await);
    let u = accounts::create_user(
        &store,
        &admin,
        NewUser {
            username: "xx1".into(),
            display_name: "x".into(),
            role: Role::City,
            institution_id: None,
            password: PW.into(),
            must_change_password: true,
        },
        t0(),
    )
    .await
    .unwrap();
    step("create user by sysadmin", 1, audit_rows(&store).await);
    accounts::authenticate(&store, "xx1", PW, Some("1.2.3.4"), t0())
        .await
        .unwrap();
    step("login", 1, audit_rows(&store).await);
    let _ = accounts::authenticate(&store, "xx1", "bad", None, t0()).await;
    step("failed login", 1, audit_rows(&store).await);
    let _ = accounts::authenticate(&store, "nobody", "bad", None, t0()).await;
    step("unknown user", 1, audit_rows(&store).await);
    let me = Actor::from_user(&u, None, None);
    accounts::change_password(&store, &me, u.id, PW, "Changed#Pass2026", None, t0())
        .await
        .unwrap();
    step("change password", 1, audit_rows(&store).await);
    accounts::set_user_active(&store, &admin, u.id, false, t0())
        .await
        .unwrap();
    step("deactivate", 1, audit_rows(&store).await);
    let confirmer = actor(&store, "confirmer", Role::CentreAdmin, None).await;
    step("confirmer created", 1, audit_rows(&store).await);
    let first = credentials::request_reset(&store, &admin, u.id, "忘记密码", t0())
        .await
        .unwrap();
    step("reset requested", 1, audit_rows(&store).await);
    credentials::confirm(&store, &confirmer, first.request.id, t0())
        .await
        .unwrap();
    step(
        "reset confirmed, password reset",
        2,
        audit_rows(&store).await,
    );
    // A refused write adds nothing.
    let _ = institutions::create_institution(&store, &me, &inst_input(5), t0()).await;
    step("refused", 0, audit_rows(&store).await);
    let entry = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            username: Some("sys1".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(entry.items[0].request_id.as_deref(), Some("req-1"));
    assert_eq!(assert_chain_ok(&store).await, n);
    // time-range search
    let none = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            from: Some(t0() + Duration::seconds(1)),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(none.total, 0);
    let all = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            from: Some(t0()),
            to: Some(t0() + Duration::seconds(1)),
            ..Default::default()
        },
        &PageRequest::first(3),
    )
    .await
    .unwrap();
    assert_eq!(all.total, n);
    assert_eq!(all.items.len(), 3);
    assert!(all.items[0].id > all.items[1].id, "newest first");
}

async fn tamper_sql(store: &Store, sql: &str) {
    match store.backend() {
        Backend::Sqlite => {
            raw(store, "DROP TRIGGER audit_log_no_update")
                .await
                .unwrap();
            raw(store, "DROP TRIGGER audit_log_no_delete")
                .await
                .unwrap();
            raw(store, sql).await.unwrap();
        }
        Backend::Postgres => {
            raw(
                store,
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
            )
            .await
            .unwrap();
            raw(store, sql).await.unwrap();
        }
    }
}

async fn write_some(store: &Store, n: u32) {
    for i in 1..=n {
        institutions::create_institution(
            store,
            &sys(),
            &inst_input(i),
            t0() + Duration::microseconds(i as i64 * 1234567),
        )
        .await
        .unwrap();
    }
}

async fn s11_verify_detects_an_altered_row(store: Store) {
    write_some(&store, 5).await;
    assert_eq!(assert_chain_ok(&store).await, 5);
    // Change one byte of row 3.
    tamper_sql(
        &store,
        "UPDATE audit_log SET action = 'institution.creatf' WHERE id = 3",
    )
    .await;
    let b = audit::verify(&store).await.unwrap().unwrap_err();
    assert_eq!(b.id, 3);
    assert!(b.reason.contains("altered"), "{}", b.reason);
}

async fn s11_verify_detects_a_deleted_middle_row(store: Store) {
    write_some(&store, 5).await;
    tamper_sql(&store, "DELETE FROM audit_log WHERE id = 2").await;
    let b = audit::verify(&store).await.unwrap().unwrap_err();
    assert_eq!(b.id, 3);
}

async fn s11_trigger_refuses_update_and_delete(store: Store) {
    write_some(&store, 2).await;
    let e = raw(&store, "UPDATE audit_log SET username = 'x' WHERE id = 1")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = raw(&store, "DELETE FROM audit_log WHERE id = 1")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    if store.backend() == Backend::Postgres {
        let e = raw(&store, "TRUNCATE audit_log").await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
    }
    assert_eq!(assert_chain_ok(&store).await, 2);
}

async fn s11_concurrent_writes_keep_the_chain(store: Store) {
    let centre = actor(&store, "centre", Role::CentreStaff, None).await;
    let tasks: Vec<_> = (0..32u32)
        .map(|i| {
            let store = store.clone();
            let centre = centre.clone();
            tokio::spawn(async move {
                institutions::create_institution(&store, &centre, &inst_input(100 + i), t0()).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // Plus racing logins (writes on the account row and the log).
    let logins: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(
                async move { accounts::authenticate(&store, "centre", PW, None, t0()).await },
            )
        })
        .collect();
    for t in logins {
        t.await.unwrap().unwrap();
    }
    assert_eq!(assert_chain_ok(&store).await, 1 + 32 + 8);
    let list = institutions::list_institutions(
        &store,
        &centre,
        &Default::default(),
        &PageRequest::first(100),
    )
    .await
    .unwrap();
    assert_eq!(list.total, 32);
}

async fn demo_seed_valid_and_not_duplicated(store: Store) {
    let info = demo::seed_demo(
        &store,
        &demo_files(),
        &peixun_store::roster::RosterKey::new([9; 32]),
        t0(),
    )
    .await
    .unwrap();
    assert!(info.seeded);
    assert_eq!(info.password, demo::DEMO_PASSWORD);
    let roles: Vec<Role> = info.accounts.iter().map(|(_, r)| *r).collect();
    for r in Role::ALL {
        assert!(roles.contains(&r), "demo account for {r:?}");
    }
    let centre = Actor::system("check");
    let list = institutions::list_institutions(
        &store,
        &centre,
        &Default::default(),
        &PageRequest::first(100),
    )
    .await
    .unwrap();
    assert!(
        (25..=40).contains(&list.total),
        "{} institutions",
        list.total
    );
    for i in &list.items {
        assert!(
            !i.credit_code_warning_confirmed,
            "{} needs no confirmation",
            i.name
        );
        assert_eq!(i.district, "海珠区");
        assert!(i.registered_address.starts_with("广州市海珠区"));
        assert!(!i.qualifications.is_empty());
        // Re-validate every code with the test's own GB 32100 check.
        let first17 = &i.credit_code[..17];
        let n: u32 = 0; // unused
        let _ = n;
        let expect = {
            const A: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
            const W: [usize; 17] = [
                1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
            ];
            let sum: usize = first17
                .chars()
                .zip(W)
                .map(|(c, w)| A.find(c).unwrap() * w)
                .sum();
            A.chars().nth((31 - sum % 31) % 31).unwrap()
        };
        assert!(i.credit_code.ends_with(expect), "{}", i.credit_code);
        let t = teachers::list_teachers(&store, &centre, i.id, &Default::default())
            .await
            .unwrap();
        assert!(t.total >= 2);
    }
    // Every demo account logs in with the shared password.
    for (username, role) in &info.accounts {
        let u = accounts::authenticate(&store, username, &info.password, None, t0())
            .await
            .unwrap();
        assert_eq!(u.role, *role);
        if role.is_institution() {
            assert!(u.institution_id.is_some());
        }
    }
    let a = accounts::find_user_by_username(&store, "inst_a_admin")
        .await
        .unwrap()
        .unwrap();
    let b = accounts::find_user_by_username(&store, "inst_b_admin")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(a.institution_id, b.institution_id);
    // All audited under demo-seed, chain intact.
    let seeded = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            username: Some("demo-seed".into()),
            ..Default::default()
        },
        &PageRequest::first(1),
    )
    .await
    .unwrap();
    assert!(seeded.total > 30);
    let rows = audit_rows(&store).await;
    assert_chain_ok(&store).await;
    // Twice: nothing new.
    let again = demo::seed_demo(
        &store,
        &demo_files(),
        &peixun_store::roster::RosterKey::new([9; 32]),
        t0(),
    )
    .await
    .unwrap();
    assert!(!again.seeded);
    assert_eq!(again.accounts, info.accounts);
    let list2 = institutions::list_institutions(
        &store,
        &centre,
        &Default::default(),
        &PageRequest::first(100),
    )
    .await
    .unwrap();
    assert_eq!(list2.total, list.total);
    assert_eq!(audit_rows(&store).await, rows);
    // Deterministic: same names and codes as a fresh run would give.
    assert_eq!(list.items[0].name, "广州市海珠区南粤家政职业培训学校");
}

/// S6: for every role and every institution (and a missing id), "appears in my list" equals
/// "I may open it", for institutions and for teachers.
async fn s6_list_filter_and_record_check_agree_for_every_role(store: Store) {
    let mut insts = vec![];
    let mut teachers_of = vec![];
    for n in 1..=3 {
        let i = institutions::create_institution(&store, &sys(), &inst_input(n), t0())
            .await
            .unwrap();
        let t = teachers::create_teacher(&store, &sys(), i.id, &teacher_input(n), t0())
            .await
            .unwrap();
        insts.push(i.id);
        teachers_of.push(t.id);
    }
    let mut viewers = vec![sys()];
    for role in Role::ALL {
        let inst = role.is_institution().then_some(insts[1]);
        viewers.push(actor(&store, &format!("v_{}", role.code()), role, inst).await);
    }
    for v in &viewers {
        let listed: Vec<i64> = match institutions::list_institutions(
            &store,
            v,
            &Default::default(),
            &PageRequest::first(100),
        )
        .await
        {
            Ok(p) => p.items.into_iter().map(|i| i.id).collect(),
            Err(StoreError::Forbidden { .. }) => vec![],
            Err(e) => panic!("{e:?}"),
        };
        for (k, id) in insts.iter().copied().chain([987_654]).enumerate() {
            let single = institutions::get_institution(&store, v, id).await;
            assert_eq!(
                listed.contains(&id),
                single.is_ok(),
                "{:?} institution {id}: {single:?}",
                v.role
            );
            assert_eq!(
                institutions::can_view(v, id),
                listed.contains(&id) || (id == 987_654 && institutions::can_view(v, id))
            );
            if let Some(&tid) = teachers_of.get(k) {
                let list_ok = teachers::list_teachers(&store, v, id, &Default::default())
                    .await
                    .is_ok();
                let get_ok = teachers::get_teacher(&store, v, tid).await.is_ok();
                assert_eq!(list_ok, get_ok, "{:?} teachers of {id}", v.role);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// teachers: edit without retyping the ID number (R-PII-1); reveal (S13)

async fn teacher_update_with_empty_id_number_keeps_the_stored_one(store: Store) {
    let a = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    let centre = actor(&store, "centre", Role::CentreStaff, None).await;
    let t = teachers::create_teacher(&store, &centre, a.id, &teacher_input(7), t0())
        .await
        .unwrap();
    teachers::create_teacher(&store, &centre, a.id, &teacher_input(8), t0())
        .await
        .unwrap();
    let reveal = |store: Store, id: i64| {
        let centre = centre.clone();
        async move {
            teachers::reveal_id_number(&store, &centre, id, "核对", t0())
                .await
                .unwrap()
        }
    };
    // Empty and blank both mean "keep"; the other fields change.
    for (k, blank) in ["", "   "].into_iter().enumerate() {
        let mut input = teacher_input(7);
        input.id_number = blank.into();
        input.name = format!("改名{k}");
        input.phone = "13800000000".into();
        let v = teachers::update_teacher(&store, &centre, t.id, &input, t0())
            .await
            .unwrap();
        assert_eq!(v.name, format!("改名{k}"));
        assert_eq!(v.phone, "13800000000");
        assert_eq!(v.id_number_masked, t.id_number_masked);
        assert_eq!(reveal(store.clone(), t.id).await, id_number(7));
    }
    // The update's audit row holds the masked number only.
    let upd = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            action: Some("teacher.update".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(upd.total, 2);
    for e in &upd.items {
        let text = format!("{:?}{:?}", e.old_value, e.new_value);
        assert!(!text.contains(&id_number(7)), "{text}");
        assert!(text.contains(&t.id_number_masked), "{text}");
    }
    // A filled-in number still replaces it, and is still checked.
    let mut input = teacher_input(7);
    input.id_number = id_number(9);
    teachers::update_teacher(&store, &centre, t.id, &input, t0())
        .await
        .unwrap();
    assert_eq!(reveal(store.clone(), t.id).await, id_number(9));
    input.id_number = "44010519850612".into();
    let e = teachers::update_teacher(&store, &centre, t.id, &input, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Validation { field: Some(f), .. } if f == "id_number"),
        "{e:?}"
    );
    input.id_number = id_number(8);
    let e = teachers::update_teacher(&store, &centre, t.id, &input, t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "TEACHER_DUPLICATE");
    // Creating still requires the number.
    let mut new = teacher_input(10);
    new.id_number = String::new();
    let e = teachers::create_teacher(&store, &centre, a.id, &new, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Validation { field: Some(f), .. } if f == "id_number"),
        "{e:?}"
    );
    // Keeping the number does not let another institution in.
    let b = institutions::create_institution(&store, &sys(), &inst_input(2), t0())
        .await
        .unwrap();
    let inst_b = actor(&store, "inst_b", Role::InstitutionAdmin, Some(b.id)).await;
    let mut input = teacher_input(7);
    input.id_number = String::new();
    let e = teachers::update_teacher(&store, &inst_b, t.id, &input, t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e:?}");
    assert_eq!(reveal(store.clone(), t.id).await, id_number(9));
    assert_chain_ok(&store).await;
}

async fn s13_reveal_checks_permission_before_reason_and_only_writers_reveal(store: Store) {
    let a = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    let b = institutions::create_institution(&store, &sys(), &inst_input(2), t0())
        .await
        .unwrap();
    let t = teachers::create_teacher(&store, &sys(), a.id, &teacher_input(5), t0())
        .await
        .unwrap();
    let full = id_number(5);
    let mut refused = vec![];
    for role in [Role::Bureau, Role::City, Role::Sysadmin, Role::Auditor] {
        refused.push(actor(&store, role.code(), role, None).await);
    }
    refused.push(actor(&store, "inst_b_admin", Role::InstitutionAdmin, Some(b.id)).await);
    refused.push(actor(&store, "inst_b_staff", Role::InstitutionStaff, Some(b.id)).await);
    let allowed = vec![
        actor(&store, "centre_admin", Role::CentreAdmin, None).await,
        actor(&store, "centre_staff", Role::CentreStaff, None).await,
        actor(&store, "inst_a_admin", Role::InstitutionAdmin, Some(a.id)).await,
        actor(&store, "inst_a_staff", Role::InstitutionStaff, Some(a.id)).await,
    ];
    let before = audit_rows(&store).await;
    for who in &refused {
        // Permission first: an empty reason still gets Forbidden, never a validation error.
        for reason in ["", "  ", "核对资质"] {
            let e = teachers::reveal_id_number(&store, who, t.id, reason, t0())
                .await
                .unwrap_err();
            assert!(
                matches!(e, StoreError::Forbidden { .. }),
                "{:?} reason {reason:?}: {e:?}",
                who.role
            );
            assert!(!format!("{e:?}{e}").contains(&full));
        }
        assert!(!teachers::can_reveal_id_number(who, a.id));
    }
    assert_eq!(audit_rows(&store).await, before, "refusals write nothing");
    for who in &allowed {
        assert!(teachers::can_reveal_id_number(who, a.id));
        let e = teachers::reveal_id_number(&store, who, t.id, " ", t0())
            .await
            .unwrap_err();
        assert_eq!(code_of(&e), "REASON_REQUIRED", "{:?}", who.role);
        assert_eq!(
            teachers::reveal_id_number(&store, who, t.id, " 核对资质 ", t0())
                .await
                .unwrap(),
            full,
            "{:?}",
            who.role
        );
    }
    // A missing teacher: NotFound for those who may reveal.
    let e = teachers::reveal_id_number(&store, &allowed[0], 987_654, "核对", t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    // Exactly one audit row per reveal, with the trimmed reason and the revealer.
    let log = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            action: Some("teacher.reveal_id_number".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(log.total, allowed.len() as u64);
    assert_eq!(audit_rows(&store).await, before + allowed.len() as u64);
    for (e, who) in log.items.iter().rev().zip(&allowed) {
        assert_eq!(e.username, who.username);
        assert_eq!(e.target_id.as_deref(), Some(t.id.to_string().as_str()));
        assert_eq!(e.new_value.as_ref().unwrap()["reason"], "核对资质");
    }
    assert_chain_ok(&store).await;
}

// ---------------------------------------------------------------------------------------------
// sessions end in the transaction that changes the credential (S3)

async fn live(store: &Store, token: &str) -> bool {
    sessions::lookup_session(store, token, t0())
        .await
        .unwrap()
        .is_some()
}

async fn session_count(store: &Store, user_id: i64) -> i64 {
    let row = store
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            store.db().get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM sessions WHERE user_id = {user_id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn s3_password_change_reset_and_deactivation_end_sessions_in_their_transaction(store: Store) {
    let admin = actor(&store, "sys1", Role::Sysadmin, None).await;
    let u = user(&store, "ses_pw", Role::CentreStaff, None).await;
    let other = user(&store, "ses_other", Role::CentreStaff, None).await;
    let other_token = sessions::create_session(&store, other.id, t0())
        .await
        .unwrap();
    let me = Actor::from_user(&u, None, None);
    let mut tokens = vec![];
    for _ in 0..3 {
        tokens.push(sessions::create_session(&store, u.id, t0()).await.unwrap());
    }
    let current = sessions::lookup_session(&store, &tokens[0], t0())
        .await
        .unwrap()
        .unwrap();
    // A refused change ends nothing.
    let e = accounts::change_password(
        &store,
        &me,
        u.id,
        "Wrong#Password1",
        "New#Password2026",
        Some(current.session_id),
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(code_of(&e), "OLD_PASSWORD_WRONG");
    assert_eq!(session_count(&store, u.id).await, 3);
    // Change keeping the current session: the two others end, the current one lives.
    let ended = accounts::change_password(
        &store,
        &me,
        u.id,
        PW,
        "New#Password2026",
        Some(current.session_id),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(ended, 2);
    assert!(live(&store, &tokens[0]).await);
    assert!(!live(&store, &tokens[1]).await);
    assert!(!live(&store, &tokens[2]).await);
    // A session id of someone else does not protect anything of mine, nor end theirs.
    let others = sessions::lookup_session(&store, &other_token, t0())
        .await
        .unwrap()
        .unwrap();
    let ended = accounts::change_password(
        &store,
        &me,
        u.id,
        "New#Password2026",
        "Newer#Password2026",
        Some(others.session_id),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(ended, 1);
    assert_eq!(session_count(&store, u.id).await, 0);
    assert!(live(&store, &other_token).await);
    // Without a session to keep: all end.
    for _ in 0..2 {
        sessions::create_session(&store, u.id, t0()).await.unwrap();
    }
    let ended = accounts::change_password(
        &store,
        &me,
        u.id,
        "Newer#Password2026",
        "Newest#Password2026",
        None,
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(ended, 2);
    assert_eq!(session_count(&store, u.id).await, 0);
    // Reset by the sysadmin ends every session of the user (and no one else's).
    let t = sessions::create_session(&store, u.id, t0()).await.unwrap();
    let e = credentials::request_reset(&store, &admin, u.id, "", t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "REASON_REQUIRED");
    assert!(live(&store, &t).await, "a refused reset ends nothing");
    two_person_reset(&store, &admin, u.id).await;
    assert!(!live(&store, &t).await);
    assert_eq!(session_count(&store, u.id).await, 0);
    // Deactivation likewise; activation ends nothing.
    let t = sessions::create_session(&store, u.id, t0()).await.unwrap();
    accounts::set_user_active(&store, &admin, u.id, true, t0())
        .await
        .unwrap();
    assert!(live(&store, &t).await);
    accounts::set_user_active(&store, &admin, u.id, false, t0())
        .await
        .unwrap();
    assert_eq!(session_count(&store, u.id).await, 0);
    assert!(live(&store, &other_token).await);
    assert_chain_ok(&store).await;
}

async fn s3_s10_logout_is_audited_once(store: Store) {
    let u = user(&store, "ses_out", Role::CentreStaff, None).await;
    let me = Actor::from_user(&u, Some("10.9.9.9".into()), Some("req-out".into()));
    let a = sessions::create_session(&store, u.id, t0()).await.unwrap();
    let b = sessions::create_session(&store, u.id, t0()).await.unwrap();
    let sa = sessions::lookup_session(&store, &a, t0())
        .await
        .unwrap()
        .unwrap();
    let before = audit_rows(&store).await;
    assert!(
        sessions::delete_session_audited(&store, &a, &me, t0())
            .await
            .unwrap()
    );
    assert!(!live(&store, &a).await, "a replayed token is refused");
    assert!(live(&store, &b).await, "other sessions live on");
    assert_eq!(audit_rows(&store).await, before + 1);
    let log = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            action: Some("auth.logout".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(log.total, 1);
    let e = &log.items[0];
    assert_eq!(e.username, "ses_out");
    assert_eq!(e.user_id, Some(u.id));
    assert_eq!(e.ip.as_deref(), Some("10.9.9.9"));
    assert_eq!(e.request_id.as_deref(), Some("req-out"));
    assert_eq!(e.target_type, "user");
    assert_eq!(e.target_id.as_deref(), Some(u.id.to_string().as_str()));
    assert_eq!(e.new_value.as_ref().unwrap()["session_id"], sa.session_id);
    assert!(!format!("{e:?}").contains(&a), "no token in the audit log");
    // Logging out twice (or with a made-up token) ends nothing and writes nothing.
    assert!(
        !sessions::delete_session_audited(&store, &a, &me, t0())
            .await
            .unwrap()
    );
    assert!(
        !sessions::delete_session_audited(&store, "not-a-token", &me, t0())
            .await
            .unwrap()
    );
    assert_eq!(audit_rows(&store).await, before + 1);
    assert_chain_ok(&store).await;
}

// ---------------------------------------------------------------------------------------------
// audit::record (events that change no record) and who may read users and the log (S7)

async fn s10_record_writes_one_audit_row_for_an_event(store: Store) {
    let centre = actor(&store, "centre", Role::CentreStaff, None).await;
    let centre = Actor {
        request_id: Some("req-x".into()),
        ..centre
    };
    let before = audit_rows(&store).await;
    let id = audit::record(
        &store,
        &centre,
        "export.institutions",
        "institution",
        None,
        serde_json::json!({ "rows": 3, "filter": { "q": "海珠" } }),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(id as u64, before + 1);
    let id2 = audit::record(
        &store,
        &centre,
        "file.download",
        "file",
        Some("17".into()),
        serde_json::json!({}),
        t0() + Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(id2, id + 1);
    assert_eq!(audit_rows(&store).await, before + 2);
    let log = audit::search(
        &store,
        &sys(),
        &AuditFilter::default(),
        &PageRequest::first(2),
    )
    .await
    .unwrap();
    let (second, first) = (&log.items[0], &log.items[1]);
    assert_eq!(first.id, id);
    assert_eq!(first.action, "export.institutions");
    assert_eq!(first.target_type, "institution");
    assert_eq!(first.target_id, None);
    assert_eq!(first.old_value, None);
    assert_eq!(first.new_value.as_ref().unwrap()["filter"]["q"], "海珠");
    assert_eq!(first.username, "centre");
    assert_eq!(first.role.as_deref(), Some("centre_staff"));
    assert_eq!(first.request_id.as_deref(), Some("req-x"));
    assert_eq!(first.at, t0());
    assert_eq!(second.target_id.as_deref(), Some("17"));
    // Concurrent records keep the chain.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (s, a) = (store.clone(), centre.clone());
            tokio::spawn(async move {
                audit::record(
                    &s,
                    &a,
                    "export.teachers",
                    "teacher",
                    None,
                    serde_json::json!({ "i": i }),
                    t0(),
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(assert_chain_ok(&store).await, before + 10);
}

async fn s7_only_sysadmin_lists_users_and_only_auditor_reads_the_log(store: Store) {
    let inst = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    let mut viewers = vec![];
    for role in Role::ALL {
        let i = role.is_institution().then_some(inst.id);
        viewers.push((
            role,
            actor(&store, &format!("v_{}", role.code()), role, i).await,
        ));
    }
    let total_users = accounts::count_users(&store).await.unwrap();
    for (role, who) in &viewers {
        let users =
            accounts::list_users(&store, who, &Default::default(), &PageRequest::default()).await;
        if *role == Role::Sysadmin {
            assert_eq!(users.unwrap().total, total_users);
        } else {
            assert!(
                matches!(users, Err(StoreError::Forbidden { .. })),
                "{role:?} listed users: {users:?}"
            );
        }
        let log = audit::search(
            &store,
            who,
            &AuditFilter::default(),
            &PageRequest::default(),
        )
        .await;
        if *role == Role::Auditor {
            assert_eq!(log.unwrap().total, audit_rows(&store).await);
        } else {
            assert!(
                matches!(log, Err(StoreError::Forbidden { .. })),
                "{role:?} read the audit log: {log:?}"
            );
        }
    }
    // The system (CLI, jobs) may do both.
    accounts::list_users(&store, &sys(), &Default::default(), &PageRequest::default())
        .await
        .unwrap();
    audit::search(
        &store,
        &sys(),
        &AuditFilter::default(),
        &PageRequest::default(),
    )
    .await
    .unwrap();
    // A user id without a role is not the system.
    let roleless = Actor {
        user_id: Some(viewers[0].1.user_id.unwrap()),
        role: None,
        ..sys()
    };
    assert!(matches!(
        accounts::list_users(
            &store,
            &roleless,
            &Default::default(),
            &PageRequest::default()
        )
        .await,
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        audit::search(
            &store,
            &roleless,
            &AuditFilter::default(),
            &PageRequest::default()
        )
        .await,
        Err(StoreError::Forbidden { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// R-VAL-1: every problem with an input at once

/// The fields of an `Invalid` error, in order (panics on anything else).
fn invalid_fields(e: &StoreError) -> Vec<(&'static str, String)> {
    match e {
        StoreError::Invalid { problems } => problems
            .iter()
            .map(|p| (p.code, p.field.clone().unwrap_or_default()))
            .collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

async fn institution_count(store: &Store) -> u64 {
    institutions::list_institutions(
        store,
        &sys(),
        &InstitutionFilter::default(),
        &PageRequest::first(1),
    )
    .await
    .unwrap()
    .total
}

async fn r_val_1_institution_reports_every_bad_field_and_writes_nothing(store: Store) {
    let a = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    let (before, rows_before) = (institution_count(&store).await, audit_rows(&store).await);
    // Four bad fields, and a name that is taken: the field problems come first, all of them.
    let mut input = inst_input(2);
    input.name = a.name.clone();
    input.credit_code = "91440105MA59OOOOO0".into(); // O is not a credit-code character
    input.registered_address = "  ".into();
    input.contact_person = String::new();
    input.contact_phone = "12345".into();
    let e = institutions::create_institution(&store, &sys(), &input, t0())
        .await
        .unwrap_err();
    let fields: Vec<String> = invalid_fields(&e).into_iter().map(|(_, f)| f).collect();
    assert_eq!(
        fields,
        [
            "credit_code",
            "registered_address",
            "contact_person",
            "contact_phone"
        ]
    );
    assert_eq!(
        code_of(&e),
        e.problems()[0].code,
        "code() is the first problem's"
    );
    for p in e.problems() {
        assert!(
            !p.message.is_empty() && !p.message.is_ascii(),
            "Chinese: {p:?}"
        );
    }
    assert_eq!(institution_count(&store).await, before, "nothing written");
    assert_eq!(audit_rows(&store).await, rows_before, "no audit row");

    // Every kind of field at once: name, an unconfirmed checksum warning, each bad
    // qualification row, the major projects.
    let mut input = inst_input(3);
    input.name = String::new();
    input.credit_code = credit_code(3, false);
    input.qualifications = vec![
        Qualification {
            occupation: String::new(),
            level: "初级".into(),
        },
        Qualification {
            occupation: "育婴员".into(),
            level: "特级".into(),
        },
        Qualification {
            occupation: "家政服务员".into(),
            level: "初级".into(),
        },
    ];
    input.major_project_capable = true;
    let e = institutions::create_institution(&store, &sys(), &input, t0())
        .await
        .unwrap_err();
    assert_eq!(
        invalid_fields(&e),
        [
            ("REQUIRED", "name".to_string()),
            ("CREDIT_CODE_CHECKSUM", "credit_code".into()),
            ("REQUIRED", "qualifications[0]".into()),
            ("LEVEL_INVALID", "qualifications[1]".into()),
            ("MAJOR_PROJECTS_REQUIRED", "major_projects".into()),
        ]
    );
    // The same on an update: nothing changes.
    let e = institutions::update_institution(&store, &sys(), a.id, &input, t0())
        .await
        .unwrap_err();
    assert_eq!(invalid_fields(&e).len(), 5);
    let after = institutions::get_institution(&store, &sys(), a.id)
        .await
        .unwrap();
    assert_eq!(after, a);
    assert_eq!(institution_count(&store).await, before);
    assert_eq!(audit_rows(&store).await, rows_before);

    // One problem stays a single `Validation`; good fields with a taken name are a `Conflict`.
    let mut one = inst_input(4);
    one.contact_phone = "x".into();
    let e = institutions::create_institution(&store, &sys(), &one, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Validation { field: Some(f), .. } if f == "contact_phone"),
        "{e:?}"
    );
    let mut dup = inst_input(5);
    dup.name = a.name.clone();
    let e = institutions::create_institution(&store, &sys(), &dup, t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "INSTITUTION_NAME_TAKEN");
}

async fn r_val_1_teacher_reports_every_bad_field_and_writes_nothing(store: Store) {
    let inst = institutions::create_institution(&store, &sys(), &inst_input(1), t0())
        .await
        .unwrap();
    let t = teachers::create_teacher(&store, &sys(), inst.id, &teacher_input(1), t0())
        .await
        .unwrap();
    let rows_before = audit_rows(&store).await;
    let mut input = teacher_input(2);
    input.name = " ".into();
    input.id_number = "440105198506120000".into(); // wrong check character
    input.phone = "abc".into();
    input.qualifications = vec![
        TeacherQualification {
            occupation: "家政服务员".into(),
            level: "高级".into(),
            certificate_no: "C-1".into(),
        },
        TeacherQualification {
            occupation: "育婴员".into(),
            level: "无".into(),
            certificate_no: String::new(),
        },
    ];
    let e = teachers::create_teacher(&store, &sys(), inst.id, &input, t0())
        .await
        .unwrap_err();
    let fields: Vec<String> = invalid_fields(&e).into_iter().map(|(_, f)| f).collect();
    assert_eq!(
        fields,
        [
            "name",
            "id_number",
            "phone",
            "qualifications[1]",
            "qualifications[1]"
        ],
        "both problems of the second row"
    );
    let e = teachers::update_teacher(&store, &sys(), t.id, &input, t0())
        .await
        .unwrap_err();
    assert_eq!(invalid_fields(&e).len(), 5);
    let list = teachers::list_teachers(&store, &sys(), inst.id, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(list.total, 1);
    assert_eq!(list.items[0], t);
    assert_eq!(audit_rows(&store).await, rows_before);
}

async fn r_val_1_user_reports_every_problem_and_every_failed_password_rule(store: Store) {
    // Every failed password rule, each its own problem on the field.
    let e = accounts::check_password_rules("zhangsan", "zhangsan").unwrap_err();
    let codes: Vec<(&str, String)> = invalid_fields(&e);
    assert_eq!(
        codes.len(),
        3,
        "short, one class, contains the username: {e:?}"
    );
    assert!(
        codes
            .iter()
            .all(|(c, f)| *c == "PASSWORD_WEAK" && f == "password")
    );

    let e = accounts::create_user(
        &store,
        &sys(),
        NewUser {
            username: "a!".into(),
            display_name: "名".repeat(65),
            role: Role::InstitutionAdmin,
            institution_id: None,
            password: "abc".into(),
            must_change_password: true,
        },
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        invalid_fields(&e),
        [
            ("USERNAME_INVALID", "username".to_string()),
            ("DISPLAY_NAME_INVALID", "display_name".into()),
            ("INSTITUTION_REQUIRED", "institution_id".into()),
            ("PASSWORD_WEAK", "password".into()),
            ("PASSWORD_WEAK", "password".into()),
        ]
    );
    assert_eq!(accounts::count_users(&store).await.unwrap(), 0);
    assert_eq!(audit_rows(&store).await, 0);

    // Changing one's password: a wrong old one and every failed rule of the new one.
    let u = user(&store, "lisi", Role::Bureau, None).await;
    let me = Actor::from_user(&u, None, None);
    let e = accounts::change_password(&store, &me, u.id, "wrong", "lisi", None, t0())
        .await
        .unwrap_err();
    let fields = invalid_fields(&e);
    assert_eq!(
        fields[0],
        ("OLD_PASSWORD_WRONG", "old_password".to_string())
    );
    assert!(fields.len() >= 3, "{fields:?}");
    assert!(
        fields[1..]
            .iter()
            .all(|(c, f)| *c == "PASSWORD_WEAK" && f == "new_password")
    );
    accounts::authenticate(&store, "lisi", PW, None, t0())
        .await
        .expect("the password is unchanged");
}

/// Where the demo's package documents go in these tests (tiny placeholder PDFs).
fn demo_files() -> peixun_store::files::FileStore {
    peixun_store::files::FileStore::local(&std::env::temp_dir().join("peixun-test-package-files"))
}
