//! Shared set-up for the queue and rounds tests: institutions, rounds, agreements, actors.
#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use peixun_domain::role::Role;
use peixun_domain::workflow::round::Half;
use peixun_store::agreements::{self, ApplicationInput, SignInput};
use peixun_store::institutions::{self, InstitutionInput, InstitutionStatus, Qualification};
use peixun_store::rounds::{self, RoundInput, RoundView};
use peixun_store::{Actor, Store};

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
pub(crate) use on_both_backends;

pub mod packages;

pub const OCC: &str = "家政服务员";
pub const LEVEL: &str = "初级";

/// 2026-03-02 09:00 Asia/Shanghai.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn actor(role: Role, user_id: i64, institution_id: Option<i64>) -> Actor {
    Actor {
        user_id: Some(user_id),
        username: format!("{}-{user_id}", role.code()),
        role: Some(role),
        institution_id,
        ip: Some("10.0.0.1".into()),
        request_id: None,
    }
}

pub fn centre_admin() -> Actor {
    actor(Role::CentreAdmin, 1, None)
}
pub fn centre_staff() -> Actor {
    actor(Role::CentreStaff, 2, None)
}
pub fn bureau() -> Actor {
    actor(Role::Bureau, 3, None)
}
/// An institution user; user ids 1000 + institution id * 10 + k.
pub fn inst_user(institution_id: i64, k: i64) -> Actor {
    actor(
        if k == 0 {
            Role::InstitutionAdmin
        } else {
            Role::InstitutionStaff
        },
        1000 + institution_id * 10 + k,
        Some(institution_id),
    )
}

pub fn credit_code(n: u32) -> String {
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
    format!("{first17}{}", A.chars().nth((31 - sum % 31) % 31).unwrap())
}

pub async fn institution(store: &Store, n: u32, major: bool) -> i64 {
    institutions::create_institution(
        store,
        &Actor::system("test"),
        &InstitutionInput {
            name: format!("广州市海珠区测试{n}号职业培训学校"),
            credit_code: credit_code(n),
            confirm_checksum_warning: false,
            registered_address: format!("广州市海珠区新港西路{n}号"),
            district: None,
            contact_person: "陈志强".into(),
            contact_phone: "13800138000".into(),
            qualifications: vec![Qualification {
                occupation: OCC.into(),
                level: LEVEL.into(),
            }],
            major_project_capable: major,
            major_projects: if major {
                vec!["南粤家政".into()]
            } else {
                vec![]
            },
            status: InstitutionStatus::Active,
        },
        t0(),
    )
    .await
    .unwrap()
    .id
}

pub fn round_input(year: i32, half: Half, label: &str, base: u32) -> RoundInput {
    RoundInput {
        year,
        half,
        label: label.into(),
        base_planned: base,
        window_start: d(2026, 3, 1),
        window_end: d(2026, 3, 31),
        target_groups: vec![rounds::TargetGroup {
            name: "就业困难人员".into(),
            required_share_percent: 20,
        }],
        call_text: "征集公告".into(),
    }
}

pub async fn published_round(
    store: &Store,
    year: i32,
    half: Half,
    label: &str,
    base: u32,
) -> RoundView {
    let r = rounds::create_round(
        store,
        &centre_admin(),
        &round_input(year, half, label, base),
        t0(),
    )
    .await
    .unwrap();
    rounds::publish_round(store, &centre_admin(), r.id, t0())
        .await
        .unwrap()
}

/// Apply and sign a first agreement with `cap` (clamped by R-CAP-1). Returns the agreement id.
pub async fn signed(store: &Store, round_id: i64, institution_id: i64, cap: u32) -> i64 {
    let app = agreements::apply_to_round(
        store,
        &inst_user(institution_id, 0),
        &ApplicationInput {
            round_id,
            occupations: vec![OCC.into()],
            classes_requested: cap.max(1),
            note: String::new(),
        },
        t0(),
    )
    .await
    .unwrap();
    agreements::sign_agreement(
        store,
        &centre_admin(),
        &SignInput {
            application_id: app.id,
            first_cap: Some(cap),
            override_cap: None,
        },
        t0(),
    )
    .await
    .unwrap()
    .id
}

pub fn submission(agreement_id: i64) -> peixun_store::filings::FilingSubmission {
    peixun_store::filings::FilingSubmission {
        agreement_id,
        occupation: OCC.into(),
        level: LEVEL.into(),
        start_date: d(2026, 4, 1),
    }
}

pub fn later(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

/// Where test packages keep their documents (one folder for all test processes; the files are
/// tiny placeholder PDFs).
pub fn package_files() -> peixun_store::files::FileStore {
    peixun_store::files::FileStore::local(&std::env::temp_dir().join("peixun-test-package-files"))
}

pub fn roster_key() -> peixun_store::roster::RosterKey {
    peixun_store::roster::RosterKey::new([9; 32])
}

/// A complete, valid filing package of `actor`'s institution under `agreement_id` for OCC/LEVEL
/// starting on `start`, submitted at `at` through every check (R-FIL-1…8) into the queue.
pub async fn file_package(
    store: &Store,
    actor: &Actor,
    agreement_id: i64,
    start: NaiveDate,
    at: DateTime<Utc>,
) -> peixun_store::Result<peixun_store::filings::FilingView> {
    let spec = peixun_store::ready_package::ReadyPackage::new(agreement_id, OCC, LEVEL, start);
    peixun_store::ready_package::file(store, &package_files(), &roster_key(), actor, &spec, at)
        .await
}
