//! `peixun seed` (issue 12): a tiny seeded province read back through the store's own services,
//! on SQLite and PostgreSQL. What the bulk path writes must be what the services would have
//! written: valid codes and ID numbers, every queue state, a consistent queue (R-FIL-6, S9),
//! packages that pass the submission checks (R-FIL-1…8), caps and evaluations that the services
//! recompute identically (R-CAP-*, R-EVA-1), working reads, and demo accounts that log in.

mod support;

use chrono::{TimeZone, Utc};
use peixun_domain::credit_code::CreditCode;
use peixun_domain::ids::PersonId;
use peixun_domain::role::Role;
use peixun_domain::workflow::class::{ClassState, Slot};
use peixun_store::entity::{agreement, filing, institution, quota_slot, teacher};
use peixun_store::filing_package::package;
use peixun_store::pii::Field;
use peixun_store::roster::entry;
use peixun_store::seed_scale::{self, NoProgress, Scale, SeedOptions, SeedReport, verify};
use peixun_store::{Actor, Store};
use sea_orm::{EntityTrait, PaginatorTrait};
use std::collections::{BTreeSet, HashMap};
use support::on_both_backends;

async fn seeded(store: &Store) -> SeedReport {
    let dir = std::env::temp_dir().join(format!("peixun-seed-files-{}", std::process::id()));
    let keys = store.keys().expect("test keys");
    let files = peixun_store::files::FileStore::local_with_keys(&dir, keys.data.clone());
    let opts = SeedOptions {
        sizes: Scale::Tiny.sizes(),
        seed: 7,
        // 2026-11-20 12:00 Asia/Shanghai: the H2 round is open, H1 and 2025's rounds closed.
        now: Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).unwrap(),
    };
    seed_scale::seed(store, &files, &keys.lookup, &opts, &NoProgress)
        .await
        .expect("seed")
}

fn viewer(role: Role, institution_id: Option<i64>) -> Actor {
    Actor {
        user_id: Some(1),
        username: "tester".into(),
        role: Some(role),
        institution_id,
        ip: None,
        request_id: None,
    }
}

async fn counts_codes_and_ids(store: &Store, r: &SeedReport) {
    let store = store.clone();
    let db = store.db();
    assert_eq!(institution::Entity::find().count(db).await.unwrap(), 6);
    assert_eq!(r.institutions, 6);
    assert_eq!(filing::Entity::find().count(db).await.unwrap(), r.classes);
    assert_eq!(package::Entity::find().count(db).await.unwrap(), r.classes);
    assert_eq!(entry::Entity::find().count(db).await.unwrap(), r.enrolments);
    assert!(r.classes >= 40, "{} classes", r.classes);
    // Every bulk table's row count is what the report says it wrote.
    for t in &r.tables {
        if matches!(
            t.table.as_str(),
            "inbox_messages" | "institutions" | "files"
        ) {
            continue;
        }
        let sql = format!("SELECT COUNT(*) AS n FROM {}", t.table);
        use sea_orm::ConnectionTrait;
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.try_get::<i64>("", "n").unwrap() as u64,
            t.rows,
            "{}",
            t.table
        );
    }
    // GB 32100 and GB 11643 everywhere.
    for i in institution::Entity::find().all(db).await.unwrap() {
        assert!(
            CreditCode::parse(&i.credit_code).is_ok(),
            "{}",
            i.credit_code
        );
    }
    let keys = store.keys().unwrap();
    for t in teacher::Entity::find().all(db).await.unwrap() {
        let id = keys
            .data
            .decrypt_field(Field::TeacherIdNumber, &t.id_number)
            .unwrap();
        assert!(PersonId::parse(&id).is_ok(), "{id}");
        assert_eq!(
            t.person_key.as_deref(),
            Some(keys.lookup.person_key(&id).as_str())
        );
    }
    let mut sizes: HashMap<i64, usize> = HashMap::new();
    for e in entry::Entity::find().all(db).await.unwrap() {
        let id = keys
            .data
            .decrypt_field(Field::TraineeIdNumber, &e.id_number)
            .unwrap();
        assert!(PersonId::parse(&id).is_ok(), "{id}");
        assert_eq!(e.person_key, keys.lookup.person_key(&id));
        assert_eq!(e.id_masked, peixun_domain::ids::mask_id(&id));
        *sizes.entry(e.package_id).or_default() += 1;
    }
    // R-FIL-2: every roster has at least 20 trainees; one has 120.
    assert!(sizes.values().all(|n| *n >= 20));
    let big = r.big_class.clone().expect("a 120-trainee class");
    assert_eq!(sizes[&big.package_id], 120);
}

async fn every_queue_state_and_a_consistent_queue(store: &Store, r: &SeedReport) {
    let store = store.clone();
    let db = store.db();
    let fils = filing::Entity::find().all(db).await.unwrap();
    let states: Vec<ClassState> = fils
        .iter()
        .map(|f| serde_json::from_str(&f.state).unwrap())
        .collect();
    let has = |p: &dyn Fn(&ClassState) -> bool| states.iter().any(p);
    assert!(
        has(&|s| matches!(
            s,
            ClassState::Submitted {
                slot: Slot::Holding,
                ..
            }
        )),
        "submitted holding"
    );
    assert!(
        has(&|s| matches!(
            s,
            ClassState::Submitted {
                slot: Slot::Waiting,
                ..
            }
        )),
        "waiting"
    );
    assert!(
        has(&|s| matches!(s, ClassState::Returned { .. })),
        "returned"
    );
    assert!(has(&|s| *s == ClassState::Approved), "approved");
    assert!(has(&|s| *s == ClassState::InTraining), "in training");
    assert!(
        has(&|s| matches!(s, ClassState::TrainingComplete { .. })),
        "training complete"
    );
    assert!(
        has(&|s| matches!(
            s,
            ClassState::Completed {
                certificates_issued: true,
                ..
            }
        )),
        "certificates"
    );
    assert!(
        has(&|s| matches!(
            s,
            ClassState::Completed {
                certificates_issued: false,
                ..
            }
        )),
        "results pending"
    );
    assert!(has(&|s| *s == ClassState::Withdrawn), "withdrawn");
    assert!(has(&|s| *s == ClassState::Rejected), "rejected");
    assert!(has(&|s| *s == ClassState::NotGranted), "not granted");
    // The stored status and slot state are the state's (filings::to_view reads them).
    for (f, s) in fils.iter().zip(&states) {
        assert_eq!(f.status, s.code());
        let holding = peixun_domain::workflow::class::holds_slot(s);
        assert_eq!(f.slot_state == "holding", holding, "filing {}", f.id);
    }
    // R-FIL-6 / S9: per round, slots held ≤ P, one slot row per holding filing, numbers in
    // 1..=P and unique; per agreement held ≤ cap; no waiting filing could be granted.
    let slots = quota_slot::Entity::find().all(db).await.unwrap();
    let agreements = agreement::Entity::find().all(db).await.unwrap();
    for round in &r.rounds {
        let rf: Vec<&filing::Model> = fils.iter().filter(|f| f.round_id == round.id).collect();
        let holding: Vec<&&filing::Model> =
            rf.iter().filter(|f| f.slot_state == "holding").collect();
        let rs: Vec<&quota_slot::Model> = slots.iter().filter(|s| s.round_id == round.id).collect();
        assert!(holding.len() as u32 <= round.planned, "round {}", round.id);
        assert_eq!(rs.len(), holding.len(), "round {}", round.id);
        let nos: BTreeSet<i32> = rs.iter().map(|s| s.slot_no).collect();
        assert_eq!(nos.len(), rs.len());
        assert!(nos.iter().all(|n| *n >= 1 && *n as u32 <= round.planned));
        let seqs: BTreeSet<i64> = rf.iter().map(|f| f.queue_seq).collect();
        assert_eq!(seqs, (1..=rf.len() as i64).collect());
        let mut held: HashMap<i64, u32> = HashMap::new();
        for f in &holding {
            *held.entry(f.institution_id).or_default() += 1;
        }
        let caps: HashMap<i64, u32> = agreements
            .iter()
            .filter(|a| a.round_id == round.id)
            .map(|a| (a.institution_id, a.cap as u32))
            .collect();
        for (inst, n) in &held {
            assert!(*n <= caps[inst], "institution {inst} holds {n} > cap");
        }
        let full = holding.len() as u32 >= round.planned;
        for f in rf.iter().filter(|f| f.slot_state == "waiting") {
            assert!(
                full || held.get(&f.institution_id).copied().unwrap_or(0)
                    >= caps[&f.institution_id],
                "waiting filing {} could be granted",
                f.id
            );
        }
    }
    // The queue's counters and free slot numbers (issue 12) agree with the rows, so the next
    // submission or release in a seeded round decides as on a database grown by the services.
    for round in &r.rounds {
        assert_eq!(
            peixun_store::queue::counters(db, round.id).await.unwrap(),
            peixun_store::queue::recount(db, round.id).await.unwrap(),
            "round {}",
            round.id
        );
    }
    // The bulletin and the round's filing list read it.
    let b = peixun_store::bulletin::bulletin(&store, r.open_round_id)
        .await
        .unwrap();
    let open = r.rounds.iter().find(|x| x.id == r.open_round_id).unwrap();
    assert_eq!(b.entries.len() as u64, open.filings);
    let list = peixun_store::filings::list_round_filings(
        &store,
        &viewer(Role::CentreStaff, None),
        r.busiest_round_id,
    )
    .await
    .unwrap();
    assert_eq!(list.len() as u64, r.busiest_round_filings);
}

async fn reads_back_through_the_services(store: &Store, r: &SeedReport) {
    let store = store.clone();
    // R-FIL-1…8: every package passes the submission checks as of its submission day.
    let problems = verify::package_problems(&store, 10_000).await.unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    // R-CAP-*: the services compute the stored caps; R-EVA-1: the stored inputs are the records'.
    let caps = verify::cap_mismatches(&store, 10_000).await.unwrap();
    assert!(caps.is_empty(), "{caps:#?}");
    let evals = verify::evaluation_mismatches(&store, 10_000).await.unwrap();
    assert!(evals.is_empty(), "{evals:#?}");
    // The 120-trainee roster of A's class, read as institution A.
    let big = r.big_class.clone().unwrap();
    let a = viewer(Role::InstitutionAdmin, Some(r.institution_a));
    let roster = peixun_store::roster::list_roster(&store, &a, big.package_id, false)
        .await
        .unwrap();
    assert_eq!(roster.len(), 120);
    let class = peixun_store::running::get_class(&store, &a, big.filing_id, Utc::now()).await;
    assert!(class.is_ok(), "{class:?}");
    // The home pages' work lists are not empty.
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).unwrap();
    for (role, inst) in [
        (Role::CentreAdmin, None),
        (Role::InstitutionAdmin, Some(r.institution_a)),
    ] {
        let w = peixun_store::worklist::work_list(&store, &viewer(role, inst), now)
            .await
            .unwrap();
        assert!(!w.items.is_empty(), "{role:?} has an empty work list");
    }
    // The demo accounts log in with the demo password (TOTP-exempt like the demo's).
    for name in ["centre_admin", "inst_a_admin", "inst_b_staff", "bureau"] {
        let u = peixun_store::accounts::authenticate(&store, name, &r.password, None, now)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.starts_with("inst_a") {
            assert_eq!(u.institution_id, Some(r.institution_a));
        }
    }
    assert_eq!(r.password, peixun_store::demo::DEMO_PASSWORD);
    // The audit chain is intact after the seed.
    assert!(peixun_store::audit::verify(&store).await.unwrap().is_ok());
}

/// One tiny province per backend (seeding is the slow part), every check on it.
async fn issue_12_r_fil_6_seeded_province_reads_back(store: Store) {
    let r = seeded(&store).await;
    counts_codes_and_ids(&store, &r).await;
    every_queue_state_and_a_consistent_queue(&store, &r).await;
    reads_back_through_the_services(&store, &r).await;
}

on_both_backends!(issue_12_r_fil_6_seeded_province_reads_back);
