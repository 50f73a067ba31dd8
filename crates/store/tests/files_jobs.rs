//! Uploaded files (SECURITY.md S16) and background-job runs and leases (ARCHITECTURE.md "jobs"),
//! each test written once and run on SQLite and PostgreSQL (PostgreSQL must be reachable:
//! `PEIXUN_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/test`).

use chrono::{DateTime, Duration, TimeZone, Utc};
use peixun_domain::role::Role;
use peixun_import::FileType;
use peixun_store::files::{self, FileOwner, FileStore};
use peixun_store::institutions::{self, InstitutionInput, InstitutionStatus, Qualification};
use peixun_store::jobs;
use peixun_store::testing::TestDbGuard;
use peixun_store::{Actor, Store, StoreError};
use std::path::{Path, PathBuf};

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

on_both_backends!(
    s16_put_record_open_round_trip,
    s16_refusals_write_nothing,
    s16_rolled_back_upload_leaves_no_row_and_sweep_removes_it,
    s16_delete_removes_row_and_content,
    s6_file_read_rule_by_role,
    jobs_16_concurrent_claimers_one_winner_across_two_stores,
    jobs_finish_runs_and_catch_up,
    jobs_lease_expiry_lets_another_holder_take_over,
    jobs_16_concurrent_lease_acquirers_one_winner,
);

// ---------------------------------------------------------------------------------------------
// helpers

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 1, 0, 0).unwrap()
}

fn sys() -> Actor {
    Actor::system("test")
}

/// A temporary data folder, removed on drop.
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> DataDir {
        let mut b = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
        let p = std::env::temp_dir().join(format!("peixun-files-{}", hex::encode(b)));
        std::fs::create_dir_all(&p).unwrap();
        DataDir(p)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n";

fn credit_code(n: u32) -> String {
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

async fn institution(store: &Store, n: u32) -> i64 {
    institutions::create_institution(
        store,
        &sys(),
        &InstitutionInput {
            name: format!("广州市海珠区文件测试{n}号职业培训学校"),
            credit_code: credit_code(n),
            confirm_checksum_warning: false,
            registered_address: format!("广州市海珠区新港西路{n}号"),
            district: None,
            contact_person: "陈志强".into(),
            contact_phone: "13800138000".into(),
            qualifications: vec![Qualification {
                occupation: "家政服务员".into(),
                level: "初级".into(),
            }],
            major_project_capable: false,
            major_projects: vec![],
            status: InstitutionStatus::Active,
        },
        t0(),
    )
    .await
    .unwrap()
    .id
}

fn role_actor(role: Role, inst: Option<i64>) -> Actor {
    Actor {
        user_id: Some(1),
        username: format!("{role:?}"),
        role: Some(role),
        institution_id: inst,
        ip: None,
        request_id: None,
    }
}

fn validation_code(e: StoreError) -> (&'static str, Option<String>, String) {
    match e {
        StoreError::Validation {
            code,
            field,
            message,
        } => (code, field, message),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// files (S16)

/// S15: the data folder contract (0700 folders, 0600 files) holds inside the file store: the
/// root and shard folders an upload creates are 0700, and the file 0600, even under a
/// permissive umask (0022) — the object store's own writes do not set modes.
#[cfg(unix)]
#[tokio::test]
async fn s15_upload_folders_are_0700_and_files_0600() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = DataDir::new();
    let fs = FileStore::local(&dir.0);
    let stored = fs
        .put_bytes(PDF, "计划.pdf", &[FileType::Pdf], 1 << 20)
        .await
        .unwrap();
    let root = dir.0.join("files");
    let (a, b) = (&stored.id[0..2], &stored.id[2..4]);
    for folder in [root.clone(), root.join(a), root.join(a).join(b)] {
        assert_eq!(mode(&folder), 0o700, "{}", folder.display());
    }
    assert_eq!(mode(&root.join(a).join(b).join(&stored.id)), 0o600);
    // A second upload into folders that exist already changes nothing.
    fs.put_bytes(PDF, "再一份.pdf", &[FileType::Pdf], 1 << 20)
        .await
        .unwrap();
    for f in files_under(&root) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
        let mut d = f.parent().unwrap().to_path_buf();
        while d != dir.0 {
            assert_eq!(mode(&d), 0o700, "{}", d.display());
            d = d.parent().unwrap().to_path_buf();
        }
    }
}

async fn s16_put_record_open_round_trip(store: Store, _g: &TestDbGuard) {
    let dir = DataDir::new();
    let fs = FileStore::local(&dir.0);
    let inst = institution(&store, 1).await;
    let stored = fs
        .put_bytes(
            PDF,
            "../../培训计划（第2版）.pdf",
            &[FileType::Pdf],
            1024 * 1024,
        )
        .await
        .unwrap();
    assert!(files::is_file_id(&stored.id));
    assert_eq!(stored.size, PDF.len() as u64);
    assert_eq!(stored.file_type, FileType::Pdf);
    assert_eq!(stored.original_name, "培训计划（第2版）.pdf");
    use sha2::Digest;
    assert_eq!(stored.sha256, hex::encode(sha2::Sha256::digest(PDF)));

    // Stored under the generated name, sharded, outside anything served.
    let expected = dir
        .0
        .join("files")
        .join(&stored.id[0..2])
        .join(&stored.id[2..4])
        .join(&stored.id);
    assert_eq!(files_under(&dir.0.join("files")), vec![expected.clone()]);
    // S14: sealed on disk (the data key beside the folder, created on first use).
    let on_disk = std::fs::read(&expected).unwrap();
    assert!(on_disk.starts_with(b"PXE1") && !on_disk.starts_with(PDF));
    assert!(dir.0.join("data.key").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&expected).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "not readable by others");
    }

    let actor = role_actor(Role::InstitutionStaff, Some(inst));
    let txn = store.begin_write().await.unwrap();
    let rec = files::record_file(
        &txn,
        &stored,
        &FileOwner {
            purpose: "filing_document:training_plan",
            institution_id: Some(inst),
        },
        &actor,
        t0(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();

    let got = files::get_file(store.db(), &stored.id).await.unwrap();
    assert_eq!(got, rec);
    assert_eq!(got.mime, "application/pdf");
    assert_eq!(got.file_type, Some(FileType::Pdf));
    assert_eq!(got.institution_id, Some(inst));
    assert_eq!(got.uploaded_by, "InstitutionStaff");
    assert_eq!(got.uploaded_at, t0());
    assert_eq!(fs.open(&stored.id).await.unwrap(), PDF);
    assert!(fs.exists(&stored.id).await);

    // Malformed or unknown ids never touch the disk.
    for bad in ["../../etc/passwd", "", "0123456789abcdef0123456789abcdeX"] {
        assert!(matches!(
            files::get_file(store.db(), bad).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            fs.open(bad).await,
            Err(StoreError::NotFound { .. })
        ));
    }
    assert!(matches!(
        fs.open("0123456789abcdef0123456789abcdef").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(files::content_disposition(&got.original_name).starts_with("attachment; "));

    // put: content and row in one call; a failing row (unknown institution) leaves no content.
    let owner = FileOwner {
        purpose: "roster",
        institution_id: Some(inst),
    };
    let rec = fs
        .put(
            &store,
            PDF,
            "花名册.pdf",
            &[FileType::Pdf],
            1 << 20,
            &owner,
            &actor,
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(fs.open(&rec.id).await.unwrap(), PDF);
    assert_eq!(files::get_file(store.db(), &rec.id).await.unwrap(), rec);
    let before = files_under(&dir.0).len();
    let bad_owner = FileOwner {
        purpose: "roster",
        institution_id: Some(999_999),
    };
    assert!(
        fs.put(
            &store,
            PDF,
            "x.pdf",
            &[FileType::Pdf],
            1 << 20,
            &bad_owner,
            &actor,
            t0()
        )
        .await
        .is_err()
    );
    assert_eq!(files_under(&dir.0).len(), before);
}

async fn s16_refusals_write_nothing(_store: Store, _g: &TestDbGuard) {
    let dir = DataDir::new();
    let fs = FileStore::local(&dir.0);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.pdf", vec![], "FILE_EMPTY"),
        ("big.pdf", [PDF, &[b' '; 2048]].concat(), "FILE_TOO_LARGE"),
        (
            "photo.jpg",
            b"<html><body><script>alert(document.cookie)</script>".to_vec(),
            "FILE_DANGEROUS",
        ),
        (
            "photo.jpg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
            "FILE_DANGEROUS",
        ),
        ("scan.pdf", png, "FILE_TYPE_NOT_ALLOWED"),
        ("scan.pdf", b"\0\x01\x02\x03".to_vec(), "FILE_TYPE_UNKNOWN"),
    ];
    for (name, bytes, code) in cases {
        let e = fs
            .put_bytes(&bytes, name, &[FileType::Pdf, FileType::Jpeg], 1024)
            .await
            .unwrap_err();
        let (got, field, message) = validation_code(e);
        assert_eq!(got, code, "{name}");
        assert_eq!(field.as_deref(), Some("file"));
        assert!(!message.is_ascii(), "Chinese message: {message}");
    }
    // Dangerous is refused even when a caller lists it.
    let e = fs
        .put_bytes(b"<html>", "x.html", &[FileType::Dangerous], 1024)
        .await
        .unwrap_err();
    assert_eq!(validation_code(e).0, "FILE_DANGEROUS");
    assert!(files_under(&dir.0).is_empty());
}

async fn s16_rolled_back_upload_leaves_no_row_and_sweep_removes_it(store: Store, _g: &TestDbGuard) {
    let dir = DataDir::new();
    let fs = FileStore::local(&dir.0);
    let kept = fs
        .put_bytes(PDF, "kept.pdf", &[FileType::Pdf], 1 << 20)
        .await
        .unwrap();
    let lost = fs
        .put_bytes(PDF, "lost.pdf", &[FileType::Pdf], 1 << 20)
        .await
        .unwrap();
    let owner = FileOwner {
        purpose: "roster",
        institution_id: None,
    };
    let txn = store.begin_write().await.unwrap();
    files::record_file(&txn, &kept, &owner, &sys(), t0())
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let txn = store.begin_write().await.unwrap();
    files::record_file(&txn, &lost, &owner, &sys(), t0())
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    assert!(matches!(
        files::get_file(store.db(), &lost.id).await,
        Err(StoreError::NotFound { .. })
    ));
    // Leftovers of interrupted writes: a staging file beside its destination (`<id>#1`, the
    // object store's) and a temporary file of an earlier version (`tmp/*.part`).
    let root = dir.0.join("files");
    let staged = root
        .join(&kept.id[0..2])
        .join(&kept.id[2..4])
        .join(format!("{}#1", kept.id));
    std::fs::write(&staged, b"half").unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    let part = root.join("tmp").join(format!("{}.part", lost.id));
    std::fs::write(&part, b"half").unwrap();
    // Too young to sweep: nothing removed.
    assert_eq!(
        fs.sweep_orphans(&store, std::time::Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );
    assert!(staged.exists() && part.exists());
    assert_eq!(
        fs.sweep_orphans(&store, std::time::Duration::ZERO)
            .await
            .unwrap(),
        3
    );
    assert!(!fs.exists(&lost.id).await);
    assert!(!staged.exists() && !part.exists());
    assert_eq!(fs.open(&kept.id).await.unwrap(), PDF);
    // A bad purpose is refused.
    let txn = store.begin_write().await.unwrap();
    let e = files::record_file(
        &txn,
        &kept,
        &FileOwner {
            purpose: "有 空格",
            institution_id: None,
        },
        &sys(),
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(validation_code(e).0, "FILE_PURPOSE");
}

async fn s16_delete_removes_row_and_content(store: Store, _g: &TestDbGuard) {
    let dir = DataDir::new();
    let fs = FileStore::local(&dir.0);
    let f = fs
        .put_bytes(
            b"\xFF\xD8\xFF\xE0\0\x10JFIF\0",
            "现场照片.jpg",
            &[FileType::Jpeg],
            1 << 20,
        )
        .await
        .unwrap();
    let txn = store.begin_write().await.unwrap();
    files::record_file(
        &txn,
        &f,
        &FileOwner {
            purpose: "inspection_photo",
            institution_id: None,
        },
        &sys(),
        t0(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let txn = store.begin_write().await.unwrap();
    assert!(files::delete_file_record(&txn, &f.id).await.unwrap());
    assert!(!files::delete_file_record(&txn, &f.id).await.unwrap());
    txn.commit().await.unwrap();
    fs.delete(&f.id).await.unwrap();
    fs.delete(&f.id).await.unwrap();
    assert!(matches!(
        fs.open(&f.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        files::get_file(store.db(), &f.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(
        files_under(&dir.0.join("files"))
            .iter()
            .all(|p| !p.ends_with(&f.id))
    );
}

async fn s6_file_read_rule_by_role(store: Store, _g: &TestDbGuard) {
    let dir = DataDir::new();
    let fs = FileStore::local(&dir.0);
    let a = institution(&store, 11).await;
    let b = institution(&store, 12).await;
    let f = fs
        .put_bytes(PDF, "a.pdf", &[FileType::Pdf], 1 << 20)
        .await
        .unwrap();
    let txn = store.begin_write().await.unwrap();
    let rec = files::record_file(
        &txn,
        &f,
        &FileOwner {
            purpose: "filing_document:brochure",
            institution_id: Some(a),
        },
        &role_actor(Role::InstitutionAdmin, Some(a)),
        t0(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let cases = [
        (role_actor(Role::InstitutionAdmin, Some(a)), true),
        (role_actor(Role::InstitutionStaff, Some(a)), true),
        (role_actor(Role::InstitutionAdmin, Some(b)), false),
        (role_actor(Role::InstitutionStaff, Some(b)), false),
        (role_actor(Role::InstitutionStaff, None), false),
        (role_actor(Role::CentreStaff, None), true),
        (role_actor(Role::CentreAdmin, None), true),
        (role_actor(Role::Bureau, None), true),
        (role_actor(Role::City, None), true),
        (role_actor(Role::Sysadmin, None), false),
        (role_actor(Role::Auditor, None), false),
        (sys(), true),
    ];
    for (actor, expected) in cases {
        assert_eq!(files::may_read(&actor, &rec), expected, "{:?}", actor.role);
    }
    // The centre's own files (no institution) are not readable by any institution.
    let centre_file = files::FileRecord {
        institution_id: None,
        ..rec
    };
    assert!(!files::may_read(
        &role_actor(Role::InstitutionAdmin, Some(a)),
        &centre_file
    ));
}

// ---------------------------------------------------------------------------------------------
// jobs

async fn jobs_16_concurrent_claimers_one_winner_across_two_stores(store: Store, g: &TestDbGuard) {
    let other = Store::connect(g.url()).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = if i % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let holder = format!("server-{i}");
            let won = jobs::try_claim_run(&s, "overdue_sweep", "2026-11-26", &holder, t0())
                .await
                .unwrap();
            (holder, won)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (holder, won) = t.await.unwrap();
        if won {
            winners.push(holder);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one winner: {winners:?}");
    let run = jobs::run(&store, "overdue_sweep", "2026-11-26")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.holder, winners[0]);
    assert_eq!(run.claimed_at, t0());
    assert_eq!(run.finished_at, None);
    // Later attempts, from either store, lose too; another period or job is free.
    assert!(
        !jobs::try_claim_run(&other, "overdue_sweep", "2026-11-26", "late", t0())
            .await
            .unwrap()
    );
    assert!(
        jobs::try_claim_run(&other, "overdue_sweep", "2026-11-27", "late", t0())
            .await
            .unwrap()
    );
    assert!(
        jobs::try_claim_run(
            &other,
            "monthly_report_reminder",
            "2026-11-26",
            "late",
            t0()
        )
        .await
        .unwrap()
    );
    // Names are checked.
    assert!(matches!(
        jobs::try_claim_run(&store, "", "p", "h", t0()).await,
        Err(StoreError::Validation { .. })
    ));
    other.close().await.unwrap();
}

async fn jobs_finish_runs_and_catch_up(store: Store, _g: &TestDbGuard) {
    let job = "monthly_report_reminder";
    for (i, p) in ["2026-09:d-3", "2026-10:d-3", "2026-11:d-3"]
        .iter()
        .enumerate()
    {
        assert!(
            jobs::try_claim_run(&store, job, p, "a", t0() + Duration::days(i as i64))
                .await
                .unwrap()
        );
    }
    let outcome = serde_json::json!({"reminded": 42, "institutions": [1, 2]});
    jobs::finish_run(
        &store,
        job,
        "2026-10:d-3",
        "a",
        &outcome,
        t0() + Duration::hours(1),
    )
    .await
    .unwrap();
    assert!(matches!(
        jobs::finish_run(&store, job, "2026-10:d-3", "b", &outcome, t0()).await,
        Err(StoreError::NotFound { .. })
    ));
    let runs = jobs::runs(&store, job, 2).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| r.period.as_str()).collect::<Vec<_>>(),
        vec!["2026-11:d-3", "2026-10:d-3"]
    );
    assert_eq!(runs[1].outcome.as_ref(), Some(&outcome));
    assert_eq!(runs[1].finished_at, Some(t0() + Duration::hours(1)));

    // Downtime: the scheduler expected every month from August; two are missing.
    let expected: Vec<String> = [
        "2026-08:d-3",
        "2026-09:d-3",
        "2026-10:d-3",
        "2026-11:d-3",
        "2026-12:d-3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(
        jobs::missing_periods(&store, job, &expected).await.unwrap(),
        vec!["2026-08:d-3".to_string(), "2026-12:d-3".to_string()]
    );
    assert_eq!(
        jobs::missing_periods(&store, "other_job", &expected[..2])
            .await
            .unwrap(),
        expected[..2].to_vec()
    );
    // A long catch-up list (daily sweep after a long outage) works past the bind limits.
    let days: Vec<String> = (0..1200).map(|d| format!("day-{d}")).collect();
    assert!(
        jobs::try_claim_run(&store, "overdue_sweep", "day-700", "a", t0())
            .await
            .unwrap()
    );
    assert_eq!(
        jobs::missing_periods(&store, "overdue_sweep", &days)
            .await
            .unwrap()
            .len(),
        1199
    );

    // Unfinished runs older than a cut-off are reported, not re-run.
    let stale = jobs::stale_runs(&store, job, t0() + Duration::days(30))
        .await
        .unwrap();
    assert_eq!(
        stale.iter().map(|r| r.period.as_str()).collect::<Vec<_>>(),
        vec!["2026-09:d-3", "2026-11:d-3"]
    );
    // The operator resets a failed run; it can be claimed again.
    assert!(jobs::reset_run(&store, job, "2026-09:d-3").await.unwrap());
    assert!(
        jobs::try_claim_run(&store, job, "2026-09:d-3", "b", t0())
            .await
            .unwrap()
    );
}

async fn jobs_lease_expiry_lets_another_holder_take_over(store: Store, g: &TestDbGuard) {
    let other = Store::connect(g.url()).await.unwrap();
    let job = "import_worker";
    let ttl = Duration::seconds(60);
    assert!(
        jobs::acquire_lease(&store, job, "a", ttl, t0())
            .await
            .unwrap()
    );
    assert!(
        !jobs::acquire_lease(&other, job, "b", ttl, t0() + Duration::seconds(30))
            .await
            .unwrap()
    );
    // The holder re-acquiring extends its own lease.
    assert!(
        jobs::acquire_lease(&store, job, "a", ttl, t0() + Duration::seconds(10))
            .await
            .unwrap()
    );
    assert!(
        jobs::renew_lease(&store, job, "a", ttl, t0() + Duration::seconds(40))
            .await
            .unwrap()
    );
    let l = jobs::lease(&store, job).await.unwrap().unwrap();
    assert_eq!(
        (l.holder.as_str(), l.expires_at),
        ("a", t0() + Duration::seconds(100))
    );
    assert!(
        !jobs::renew_lease(&other, job, "b", ttl, t0() + Duration::seconds(50))
            .await
            .unwrap()
    );
    assert!(
        !jobs::acquire_lease(&other, job, "b", ttl, t0() + Duration::seconds(99))
            .await
            .unwrap()
    );
    // a stops renewing (crashed): once expired, b takes over from the other store.
    assert!(
        jobs::acquire_lease(&other, job, "b", ttl, t0() + Duration::seconds(100))
            .await
            .unwrap()
    );
    let l = jobs::lease(&store, job).await.unwrap().unwrap();
    assert_eq!(
        (l.holder.as_str(), l.acquired_at),
        ("b", t0() + Duration::seconds(100))
    );
    // a comes back: it can neither renew nor release b's lease.
    assert!(
        !jobs::renew_lease(&store, job, "a", ttl, t0() + Duration::seconds(101))
            .await
            .unwrap()
    );
    assert!(!jobs::release_lease(&store, job, "a").await.unwrap());
    // An expired lease cannot be renewed, only re-acquired.
    assert!(
        !jobs::renew_lease(&other, job, "b", ttl, t0() + Duration::seconds(500))
            .await
            .unwrap()
    );
    assert!(jobs::release_lease(&other, job, "b").await.unwrap());
    assert!(jobs::lease(&store, job).await.unwrap().is_none());
    assert!(
        jobs::acquire_lease(&store, job, "a", ttl, t0() + Duration::seconds(501))
            .await
            .unwrap()
    );
    // A nonsense ttl is refused.
    assert!(matches!(
        jobs::acquire_lease(&store, job, "a", Duration::zero(), t0()).await,
        Err(StoreError::Validation { .. })
    ));
    other.close().await.unwrap();
}

async fn jobs_16_concurrent_lease_acquirers_one_winner(store: Store, g: &TestDbGuard) {
    let other = Store::connect(g.url()).await.unwrap();
    for round in 0..3i64 {
        // Each round starts after the previous lease expired.
        let now = t0() + Duration::minutes(10 * round);
        let mut tasks = Vec::new();
        for i in 0..16 {
            let s = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            tasks.push(tokio::spawn(async move {
                let holder = format!("r{round}-server-{i}");
                jobs::acquire_lease(
                    &s,
                    "monthly_report_reminder",
                    &holder,
                    Duration::minutes(5),
                    now,
                )
                .await
                .unwrap()
            }));
        }
        let mut wins = 0;
        for t in tasks {
            wins += usize::from(t.await.unwrap());
        }
        assert_eq!(wins, 1, "round {round}");
    }
    other.close().await.unwrap();
}
