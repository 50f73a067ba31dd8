//! Filing packages for tests: a complete package (documents, schedule, a valid 20-person roster)
//! and its submission, shared by the package and calendar tests.

use super::*;
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use peixun_domain::filing::{Location, Mode};
use peixun_domain::roster::ROSTER_HEADERS;
use peixun_domain::schedule::Session;
use peixun_store::files::FileStore;
use peixun_store::filing_package::{self, PackageInput, SubmitOutcome};
use peixun_store::filings;
use peixun_store::roster::{self, ImportOutcome, RosterKey};
use peixun_store::teachers::{self, TeacherInput, TeacherQualification};
use peixun_store::{Actor, Store};
use rust_decimal::Decimal;

pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

pub fn key() -> RosterKey {
    RosterKey::new([7; 32])
}

pub fn files() -> (FileStore, tempfile_dir::Dir) {
    let dir = tempfile_dir::Dir::new();
    (FileStore::local(&dir.0), dir)
}

/// A scratch folder removed on drop (no extra dev-dependency).
pub mod tempfile_dir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!(
                "peixun-pkg-test-{}-{}",
                std::process::id(),
                rand_suffix()
            ));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }
    fn rand_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// 09:00 Asia/Shanghai on the given day.
pub fn at(y: i32, m: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, 1, 0, 0).unwrap()
}

pub fn csv(rows: &[[String; 6]]) -> Vec<u8> {
    let mut s = ROSTER_HEADERS.join(",");
    s.push('\n');
    for r in rows {
        s.push_str(&r.join(","));
        s.push('\n');
    }
    s.into_bytes()
}

pub fn people(n: usize, seed: u64) -> Vec<[String; 6]> {
    peixun_import::synthetic_rows(n, seed)
}

pub struct Fx {
    pub inst: i64,
    pub agreement: i64,
    pub teacher: i64,
}

pub async fn teacher(store: &Store, inst: i64, n: u32) -> i64 {
    // A valid citizen ID (from the synthetic generator) for the directory.
    let id = people(1, 900 + n as u64)[0][2].clone();
    teachers::create_teacher(
        store,
        &inst_user(inst, 0),
        inst,
        &TeacherInput {
            name: format!("王老师{}", ["甲", "乙", "丙"][n as usize % 3]),
            id_number: id,
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
    .id
}

/// An institution with a signed agreement (cap `cap`) in a published round of `quota`, and a
/// qualified teacher.
pub async fn fixture(store: &Store, n: u32, round_id: i64, cap: u32) -> Fx {
    let inst = institution(store, n, false).await;
    let agreement = signed(store, round_id, inst, cap).await;
    let teacher = teacher(store, inst, n).await;
    Fx {
        inst,
        agreement,
        teacher,
    }
}

pub fn session(date: chrono::NaiveDate, teacher: i64, h: u32) -> Session {
    Session {
        date,
        start_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        end_time: NaiveTime::from_hms_opt(9 + h, 0, 0).unwrap(),
        topic: "家政服务基础".into(),
        teacher_id: teacher,
        hours: Decimal::from(h),
    }
}

/// A complete package input: start 2026-04-01 (Wed), end 2026-04-10, two 3-hour sessions.
pub fn good_input(teacher: i64) -> PackageInput {
    PackageInput {
        occupation: OCC.into(),
        level: LEVEL.into(),
        hours: Decimal::from(6),
        start_date: Some(d(2026, 4, 1)),
        planned_end: Some(d(2026, 4, 10)),
        location: Some(Location::RegisteredAddress),
        mode: Mode::Offline,
        teachers: vec![teacher],
        sessions: vec![
            session(d(2026, 4, 1), teacher, 3),
            session(d(2026, 4, 2), teacher, 3),
        ],
        exam_content: "理论考试与实操考核".into(),
    }
}

/// A package with everything but the roster.
pub async fn package_without_roster(
    store: &Store,
    fs: &FileStore,
    fx: &Fx,
    input: PackageInput,
) -> i64 {
    let a = inst_user(fx.inst, 1);
    let p = filing_package::create_package(store, &a, fx.agreement, t0())
        .await
        .unwrap();
    filing_package::update_package(store, &a, p.id, &input, t0())
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
    p.id
}

pub async fn import(store: &Store, actor: &Actor, pkg: i64, rows: &[[String; 6]]) -> ImportOutcome {
    roster::import_roster(store, actor, &key(), pkg, &csv(rows), None, t0())
        .await
        .unwrap()
}

/// A complete package with a 20-person roster (seed `seed`).
pub async fn full_package(store: &Store, fs: &FileStore, fx: &Fx, seed: u64) -> i64 {
    let id = package_without_roster(store, fs, fx, good_input(fx.teacher)).await;
    match import(store, &inst_user(fx.inst, 1), id, &people(20, seed)).await {
        ImportOutcome::Imported(r) => assert_eq!(r.imported, 20),
        ImportOutcome::Refused { problems } => panic!("{problems:?}"),
    }
    id
}

pub async fn submit(store: &Store, fx: &Fx, pkg: i64, now: DateTime<Utc>) -> SubmitOutcome {
    filing_package::submit_package(store, &inst_user(fx.inst, 1), pkg, now)
        .await
        .unwrap()
}

pub fn submitted(o: SubmitOutcome) -> filings::FilingView {
    match o {
        SubmitOutcome::Submitted { package, .. } => package.filing.expect("filing"),
        SubmitOutcome::Refused { problems } => panic!("refused: {problems:#?}"),
    }
}
