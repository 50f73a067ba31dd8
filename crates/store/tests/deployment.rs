//! Deployment-shaped tests: several servers on one database, SQLite settings, online backup.
//! Run on both backends like the conformance story (PostgreSQL must be reachable).

use chrono::{DateTime, TimeZone, Utc};
use peixun_domain::role::Role;
use peixun_store::accounts::{self, NewUser};
use peixun_store::institutions::{self, InstitutionInput, InstitutionStatus, Qualification};
use peixun_store::testing::TestDbGuard;
use peixun_store::{Actor, Backend, PageRequest, Store, audit, sessions};
use sea_orm::{ConnectionTrait, Statement};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, guard) = peixun_store::testing::sqlite_temp().await;
                    super::$name(store, &guard).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, guard) = peixun_store::testing::postgres_fresh().await;
                    super::$name(store, &guard).await;
                }
            )*
        }
    };
}

on_both_backends!(two_servers_share_one_database, online_backup_is_consistent,);

/// S20 on SQLite: its settings are checked on SQLite only (a PostgreSQL run of this test would
/// check nothing, so there is none; [`postgres_commits_are_durable`] is PostgreSQL's).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s20_sqlite_settings_on_every_connection() {
    let (store, _guard) = peixun_store::testing::sqlite_temp().await;
    assert_eq!(store.backend(), Backend::Sqlite);
    sqlite_settings_on_every_connection(store).await;
}

/// S20 on PostgreSQL: an acknowledged commit is on disk (fsync on, synchronous_commit on).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s20_postgres_commits_are_durable() {
    let (store, _guard) = peixun_store::testing::postgres_fresh().await;
    assert_eq!(store.backend(), Backend::Postgres);
    postgres_commits_are_durable(store).await;
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

fn credit_code(n: u32) -> String {
    let first17 = format!("52440105{n:09}");
    let check = peixun_domain::credit_code::check_char(&first17).unwrap();
    format!("{first17}{check}")
}

fn inst_input(n: u32) -> InstitutionInput {
    InstitutionInput {
        name: format!("广州市海珠区部署测试{n}号职业培训学校"),
        credit_code: credit_code(n),
        confirm_checksum_warning: false,
        registered_address: format!("广州市海珠区昌岗路{n}号"),
        district: None,
        contact_person: "林晓燕".into(),
        contact_phone: "020-84001234".into(),
        qualifications: vec![Qualification {
            occupation: "中式烹调师".into(),
            level: "中级".into(),
        }],
        major_project_capable: true,
        major_projects: vec!["粤菜师傅".into()],
        status: InstitutionStatus::Active,
    }
}

/// Two `peixun serve` processes on one database: both migrate at start, both write at once,
/// a session made by one is seen (and ended) by the other, the audit chain stays whole.
async fn two_servers_share_one_database(a: Store, guard: &TestDbGuard) {
    let b = Store::connect(guard.url()).await.unwrap();
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    let sys = Actor::system("test");
    let mut tasks = Vec::new();
    for i in 0..24u32 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let sys = sys.clone();
        tasks.push(tokio::spawn(async move {
            institutions::create_institution(&store, &sys, &inst_input(i), t0()).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let u = accounts::create_user(
        &b,
        &sys,
        NewUser {
            username: "shared".into(),
            display_name: "shared".into(),
            role: Role::CentreStaff,
            institution_id: None,
            password: "Haizhu#Train2026".into(),
            must_change_password: false,
        },
        t0(),
    )
    .await
    .unwrap();
    let token = sessions::create_session(&a, u.id, t0()).await.unwrap();
    assert!(
        sessions::lookup_session(&b, &token, t0())
            .await
            .unwrap()
            .is_some()
    );
    sessions::delete_session(&b, &token).await.unwrap();
    assert!(
        sessions::lookup_session(&a, &token, t0())
            .await
            .unwrap()
            .is_none()
    );
    let report = audit::verify(&a).await.unwrap().unwrap();
    assert_eq!(report.rows_checked, 25);
    let list =
        institutions::list_institutions(&b, &sys, &Default::default(), &PageRequest::first(100))
            .await
            .unwrap();
    assert_eq!(list.total, 24);
    b.close().await.unwrap();
}

async fn pragma(db: &sea_orm::DatabaseConnection, name: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            format!("PRAGMA {name}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0)
        .map(|v| v.to_string())
        .or_else(|_| row.try_get_by_index::<String>(0))
        .unwrap()
}

async fn pg_setting(db: &sea_orm::DatabaseConnection, name: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SHOW {name}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<String>(0).unwrap()
}

async fn postgres_commits_are_durable(store: Store) {
    for db in [store.db(), store.write_db()] {
        assert_eq!(pg_setting(db, "fsync").await, "on");
        assert_eq!(pg_setting(db, "synchronous_commit").await, "on");
    }
    // Foreign keys are constraints on PostgreSQL: always enforced.
    let e = store
        .write_db()
        .execute_unprepared(
            "INSERT INTO institution_qualifications (institution_id, occupation, level) \
             VALUES (999, 'x', '初级')",
        )
        .await;
    assert!(e.is_err(), "foreign key not enforced");
}

/// S20: WAL, synchronous=FULL, foreign keys, busy timeout — on the readers and on the writer.
async fn sqlite_settings_on_every_connection(store: Store) {
    for db in [store.db(), store.write_db()] {
        assert_eq!(pragma(db, "journal_mode").await.to_lowercase(), "wal");
        assert_eq!(pragma(db, "synchronous").await, "2", "synchronous=FULL");
        assert_eq!(pragma(db, "foreign_keys").await, "1");
        assert_eq!(pragma(db, "busy_timeout").await, "30000");
    }
    // Foreign keys really are enforced.
    let e = store
        .write_db()
        .execute_unprepared(
            "INSERT INTO institution_qualifications (institution_id, occupation, level) \
             VALUES (999, 'x', '初级')",
        )
        .await;
    assert!(e.is_err(), "foreign key not enforced");
}

/// S21: a backup taken while writers write opens as a complete database whose chain verifies.
async fn online_backup_is_consistent(store: Store, guard: &TestDbGuard) {
    let sys = Actor::system("test");
    if store.backend() == Backend::Postgres {
        let e = store
            .backup_to(&std::env::temp_dir().join("never.db"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "BACKUP_PG");
        return;
    }
    for i in 0..5 {
        institutions::create_institution(&store, &sys, &inst_input(i), t0())
            .await
            .unwrap();
    }
    let dir = guard.sqlite_path().unwrap().parent().unwrap().to_path_buf();
    let dest = dir.join("backup").join("copy.db");
    let writer = {
        let store = store.clone();
        let sys = sys.clone();
        tokio::spawn(async move {
            for i in 5..25 {
                institutions::create_institution(&store, &sys, &inst_input(i), t0())
                    .await
                    .unwrap();
            }
        })
    };
    store.backup_to(&dest).await.unwrap();
    writer.await.unwrap();
    assert_eq!(
        store.backup_to(&dest).await.unwrap_err().code(),
        "BACKUP_EXISTS"
    );
    let copy = Store::open_sqlite_file(&dest).await.unwrap();
    let report = audit::verify(&copy).await.unwrap().unwrap();
    let n =
        institutions::list_institutions(&copy, &sys, &Default::default(), &PageRequest::first(100))
            .await
            .unwrap()
            .total;
    assert!(n >= 5, "backup holds {n} institutions");
    assert_eq!(
        report.rows_checked, n,
        "one audit row per institution, no partial write"
    );
    copy.close().await.unwrap();
}
