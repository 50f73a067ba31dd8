//! Personal data at rest (R-PII-1, SECURITY.md S13, S14) on SQLite and PostgreSQL: ID numbers
//! and uploaded documents are stored encrypted, a copy without the key shows neither, a wrong
//! key fails cleanly, the legacy step and the key rotation leave nothing behind, and a trainee's
//! full number is revealed only on purpose, audited.

#[allow(unused_macros, unused_imports)]
mod support;

use peixun_domain::role::Role;
use peixun_domain::workflow::round::Half;
use peixun_import::FileType;
use peixun_store::audit::{self, AuditFilter};
use peixun_store::files::{FileOwner, FileStore, FilesLocation};
use peixun_store::pii::{DataKeys, Keys, RosterKey};
use peixun_store::testing::TestDbGuard;
use peixun_store::{Actor, PageRequest, Store, StoreError, at_rest, roster, teachers};
use sea_orm::{ConnectionTrait, Statement};
use support::packages::*;
use support::*;

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, guard) = peixun_store::testing::sqlite_temp().await;
                    super::$name(store, guard).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, guard) = peixun_store::testing::postgres_fresh().await;
                    super::$name(store, guard).await;
                }
            )*
        }
    };
}

both!(
    s14_database_rows_hold_no_plain_id_number,
    s14_uploaded_file_on_disk_is_not_plaintext,
    s14_wrong_key_fails_cleanly_without_plaintext,
    s14_legacy_rows_and_files_encrypted_at_start_idempotently,
    s14_rotation_reencrypts_everything_and_old_data_still_reads,
    r_pii_1_trainee_reveal_audited_and_refused_for_roles_that_may_not,
);

fn sys() -> Actor {
    Actor::system("test")
}

fn role_actor(role: Role, institution_id: Option<i64>) -> Actor {
    Actor {
        user_id: Some(77),
        username: role.code().to_string(),
        role: Some(role),
        institution_id,
        ip: None,
        request_id: None,
    }
}

async fn column(store: &Store, sql: &str, col: &str) -> Vec<Option<String>> {
    store
        .db()
        .query_all_raw(Statement::from_string(
            store.db().get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get::<Option<String>>("", col).unwrap())
        .collect()
}

/// The SQLite database file and its WAL, after a checkpoint (`None` on PostgreSQL).
async fn sqlite_bytes(store: &Store, guard: &TestDbGuard) -> Option<Vec<u8>> {
    let path = peixun_store::restore::sqlite_file_of(guard.url())?;
    store
        .write_db()
        .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let mut wal = path.clone().into_os_string();
    wal.push("-wal");
    if let Ok(w) = std::fs::read(&wal) {
        bytes.extend(w);
    }
    Some(bytes)
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A data folder whose key files are the test keys the store already has.
fn data_dir_with_test_keys() -> tempfile_dir::Dir {
    let dir = tempfile_dir::Dir::new();
    std::fs::write(dir.0.join("data.key"), [0x5a; 32]).unwrap();
    std::fs::write(dir.0.join("roster.key"), [9; 32]).unwrap();
    dir
}

/// A package with documents in `fs` and a 20-person roster (seed `seed`); returns (package id,
/// the roster's ID numbers, the institution, the teacher's ID number).
async fn class(store: &Store, fs: &FileStore, seed: u64) -> (i64, Vec<String>, i64, String) {
    let r = published_round(store, 2026, Half::H1, "2026上", 5).await;
    let fx = fixture(store, 1, r.id, 3).await;
    let pkg = full_package(store, fs, &fx, seed).await;
    let ids = people(20, seed).into_iter().map(|p| p[2].clone()).collect();
    let teacher_id = people(1, 901)[0][2].clone();
    (pkg, ids, fx.inst, teacher_id)
}

async fn s14_database_rows_hold_no_plain_id_number(store: Store, guard: TestDbGuard) {
    let (fs, _d) = files();
    let (pkg, ids, inst, teacher_id) = class(&store, &fs, 11).await;
    let stored = column(&store, "SELECT id_number FROM roster_entries", "id_number").await;
    assert_eq!(stored.len(), 20);
    for s in stored.iter().flatten() {
        assert!(s.starts_with("v1:"), "{s}");
        assert!(ids.iter().all(|id| !s.contains(id.as_str())));
    }
    let masked = column(&store, "SELECT id_masked FROM roster_entries", "id_masked").await;
    assert!(masked.iter().flatten().all(|m| m.contains("**********")));
    let t = column(&store, "SELECT id_number FROM teachers", "id_number").await;
    assert!(!t.is_empty());
    for s in t.iter().flatten() {
        assert!(s.starts_with("v1:") && !s.contains(&teacher_id), "{s}");
    }
    // Lists still show the masked number, without decrypting.
    let list = roster::list_roster(&store, &inst_user(inst, 1), pkg, false)
        .await
        .unwrap();
    assert_eq!(
        list[0]
            .id_number_masked
            .chars()
            .filter(|c| *c == '*')
            .count(),
        10
    );
    // The SQLite file and its WAL hold no canary at all.
    if let Some(bytes) = sqlite_bytes(&store, &guard).await {
        for id in ids.iter().chain([&teacher_id]) {
            assert!(!contains(&bytes, id), "plain ID {id} in the SQLite file");
        }
    }
}

async fn s14_uploaded_file_on_disk_is_not_plaintext(store: Store, _guard: TestDbGuard) {
    let (fs, dir) = files();
    let canary = "CANARY-440105199001011234-身份证";
    let pdf = format!("%PDF-1.4\n{canary}\n%%EOF\n");
    let rec = fs
        .put(
            &store,
            pdf.as_bytes(),
            "身份证.pdf",
            &[FileType::Pdf],
            1 << 20,
            &FileOwner {
                purpose: "identity_document",
                institution_id: None,
            },
            &sys(),
            t0(),
        )
        .await
        .unwrap();
    let on_disk = std::fs::read(
        dir.0
            .join("files")
            .join(&rec.id[0..2])
            .join(&rec.id[2..4])
            .join(&rec.id),
    )
    .unwrap();
    assert!(on_disk.starts_with(b"PXE1"));
    assert!(!contains(&on_disk, "CANARY") && !contains(&on_disk, "%PDF"));
    assert_eq!(fs.open(&rec.id).await.unwrap(), pdf.as_bytes());
    // The recorded hash and size are of the plaintext.
    assert_eq!(rec.size, pdf.len() as u64);
    assert_eq!(
        rec.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(pdf.as_bytes()))
    );
    let kid = column(&store, "SELECT key_id FROM files", "key_id").await;
    assert_eq!(
        kid,
        vec![Some(fs.data_keys().unwrap().current_id().to_string())]
    );
    // The same folder opened again (a restart) reads it with the key file it created.
    let again = FileStore::local(&dir.0);
    assert_eq!(again.open(&rec.id).await.unwrap(), pdf.as_bytes());
}

async fn s14_wrong_key_fails_cleanly_without_plaintext(store: Store, _guard: TestDbGuard) {
    let (fs, dir) = files();
    let (pkg, ids, inst, teacher_id) = class(&store, &fs, 12).await;
    let trainee = roster::list_roster(&store, &inst_user(inst, 1), pkg, false)
        .await
        .unwrap()[0]
        .id;
    let teacher = teachers::list_teachers(&store, &centre_admin(), inst, &PageRequest::first(5))
        .await
        .unwrap()
        .items[0]
        .id;
    let wrong = Keys::new(RosterKey::new([9; 32]), DataKeys::new([0x33; 32]));
    store.set_keys(wrong.clone());
    let e = roster::reveal_id_number(&store, &centre_admin(), trainee, "核对", t0())
        .await
        .unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(matches!(e, StoreError::Db(_)), "{text}");
    assert!(ids.iter().all(|id| !text.contains(id.as_str())), "{text}");
    let e = teachers::reveal_id_number(&store, &centre_admin(), teacher, "核对", t0())
        .await
        .unwrap_err();
    assert!(!format!("{e:?}").contains(&teacher_id));
    // A refused reveal is not audited as a reveal.
    let audited = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            action: Some("trainee.reveal_id_number".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(audited.total, 0);
    // Files: the package's documents do not open under another key.
    let doc = column(&store, "SELECT id FROM files", "id").await[0]
        .clone()
        .unwrap();
    let other = FileStore::local_with_keys(&dir.0, wrong.data.clone());
    let e = other.open(&doc).await.unwrap_err();
    assert!(!format!("{e:?}").contains("%PDF"));
    // The right key reads everything again.
    store.set_keys(Keys::for_tests());
    assert!(
        ids.contains(
            &roster::reveal_id_number(&store, &centre_admin(), trainee, "核对", t0())
                .await
                .unwrap()
        )
    );
    assert!(fs.open(&doc).await.unwrap().starts_with(b"%PDF"));
}

async fn s14_legacy_rows_and_files_encrypted_at_start_idempotently(
    store: Store,
    guard: TestDbGuard,
) {
    let dir = data_dir_with_test_keys();
    let fs = FileStore::local_with_keys(&dir.0, store.keys().unwrap().data);
    let (pkg, ids, inst, teacher_id) = class(&store, &fs, 13).await;
    // Make it look like a database from before encryption: plaintext numbers, no masks, no
    // teacher hash, plaintext files without a key id.
    let backend = store.db().get_database_backend();
    let rows = store
        .db()
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id FROM roster_entries ORDER BY row_number".to_string(),
        ))
        .await
        .unwrap();
    for (r, id) in rows.iter().zip(&ids) {
        let rid: i64 = r.try_get("", "id").unwrap();
        store
            .write_db()
            .execute_unprepared(&format!(
                "UPDATE roster_entries SET id_number = '{id}', id_masked = '' WHERE id = {rid}"
            ))
            .await
            .unwrap();
    }
    store
        .write_db()
        .execute_unprepared(&format!(
            "UPDATE teachers SET id_number = '{teacher_id}', id_masked = '', person_key = NULL"
        ))
        .await
        .unwrap();
    let file_ids: Vec<String> = column(&store, "SELECT id FROM files", "id")
        .await
        .into_iter()
        .flatten()
        .collect();
    for f in &file_ids {
        let path = dir.0.join("files").join(&f[0..2]).join(&f[2..4]).join(f);
        std::fs::write(&path, PDF).unwrap();
    }
    store
        .write_db()
        .execute_unprepared("UPDATE files SET key_id = NULL")
        .await
        .unwrap();
    // Lists work on a legacy row too (masked from the plaintext).
    let list = roster::list_roster(&store, &inst_user(inst, 1), pkg, false)
        .await
        .unwrap();
    assert!(
        list.iter()
            .all(|t| t.id_number_masked.contains("**********"))
    );

    let report = at_rest::encrypt_legacy_rows(&store, &fs, t0())
        .await
        .unwrap();
    assert_eq!(
        (report.trainees, report.teachers, report.files),
        (20, 1, file_ids.len() as u64)
    );
    for s in column(&store, "SELECT id_number FROM roster_entries", "id_number")
        .await
        .into_iter()
        .flatten()
        .chain(
            column(&store, "SELECT id_number FROM teachers", "id_number")
                .await
                .into_iter()
                .flatten(),
        )
    {
        assert!(s.starts_with("v1:"), "{s}");
    }
    assert_eq!(
        column(&store, "SELECT person_key FROM teachers", "person_key").await,
        vec![Some(store.keys().unwrap().lookup.person_key(&teacher_id))]
    );
    for f in &file_ids {
        let path = dir.0.join("files").join(&f[0..2]).join(&f[2..4]).join(f);
        assert!(std::fs::read(&path).unwrap().starts_with(b"PXE1"));
        assert_eq!(fs.open(f).await.unwrap(), PDF);
    }
    // Idempotent: nothing left to do.
    assert_eq!(
        at_rest::encrypt_legacy_rows(&store, &fs, t0())
            .await
            .unwrap()
            .changed(),
        0
    );
    // The numbers read back; a duplicate teacher is still refused (on the hash now).
    let trainee = roster::list_roster(&store, &inst_user(inst, 1), pkg, false)
        .await
        .unwrap()[0]
        .clone();
    let full = roster::reveal_id_number(&store, &centre_admin(), trainee.id, "核对", t0())
        .await
        .unwrap();
    assert!(ids.contains(&full));
    let dup = teachers::create_teacher(
        &store,
        &inst_user(inst, 0),
        inst,
        &teachers::TeacherInput {
            name: "重复".into(),
            id_number: teacher_id.clone(),
            phone: "13900139000".into(),
            qualifications: vec![],
            active: true,
        },
        t0(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            dup,
            StoreError::Conflict {
                code: "TEACHER_DUPLICATE",
                ..
            }
        ),
        "{dup:?}"
    );
    // The replaced plaintext is gone from the SQLite file (VACUUM, secure_delete).
    if let Some(bytes) = sqlite_bytes(&store, &guard).await {
        for id in ids.iter().chain([&teacher_id]) {
            assert!(
                !contains(&bytes, id),
                "plain ID {id} left in the SQLite file"
            );
        }
    }
}

async fn s14_rotation_reencrypts_everything_and_old_data_still_reads(
    store: Store,
    _guard: TestDbGuard,
) {
    let dir = data_dir_with_test_keys();
    let fs = FileStore::local_with_keys(&dir.0, store.keys().unwrap().data);
    let (pkg, ids, inst, teacher_id) = class(&store, &fs, 14).await;
    let old_id = store.keys().unwrap().data.current_id().to_string();
    let files_n = column(&store, "SELECT id FROM files", "id").await.len() as u64;
    // S4: a TOTP secret (here a pending one) is under the data key too.
    let admin = peixun_store::accounts::create_user(
        &store,
        &sys(),
        peixun_store::accounts::NewUser {
            username: "rot_admin".into(),
            display_name: "rot_admin".into(),
            role: Role::Sysadmin,
            institution_id: None,
            password: "Haizhu#Rotate2026".into(),
            must_change_password: false,
        },
        t0(),
    )
    .await
    .unwrap();
    let admin_actor = Actor::from_user(&admin, None, None);
    let totp_secret = peixun_store::totp::begin_enrolment(
        &store,
        &admin_actor,
        admin.id,
        "Haizhu#Rotate2026",
        None,
        t0(),
    )
    .await
    .unwrap()
    .secret_base32;

    let r = at_rest::rotate_data_key(
        &store,
        &dir.0,
        &FilesLocation::default_for(&dir.0),
        &sys(),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(r.counts.totp_secrets, 1);
    let stored = column(
        &store,
        "SELECT pending_secret FROM user_totp",
        "pending_secret",
    )
    .await;
    assert!(
        stored[0]
            .as_deref()
            .is_some_and(|s| s.starts_with(&format!("v1:{}:", r.new_key_id))),
        "{stored:?}"
    );
    let after = peixun_store::totp::pending_enrolment(&store, &admin_actor, admin.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.secret_base32, totp_secret);
    assert_eq!(r.old_key_id, old_id);
    assert_ne!(r.new_key_id, old_id);
    assert!(!r.resumed);
    assert_eq!(
        (r.counts.trainees, r.counts.teachers, r.counts.files),
        (20, 1, files_n)
    );
    assert!(!dir.0.join("data.key.old").exists(), "old key retired");
    let ring = DataKeys::load_or_create(&dir.0).unwrap();
    assert_eq!(ring.current_id(), r.new_key_id);
    assert_eq!(
        at_rest::count_not_current(&store, &ring).await.unwrap(),
        (0, 0, 0)
    );
    for s in column(&store, "SELECT id_number FROM roster_entries", "id_number")
        .await
        .into_iter()
        .flatten()
    {
        assert!(s.starts_with(&format!("v1:{}:", r.new_key_id)), "{s}");
    }
    // Everything reads under the new key: numbers, teachers and files (a restart's file store).
    let trainee = roster::list_roster(&store, &inst_user(inst, 1), pkg, false)
        .await
        .unwrap()[0]
        .id;
    assert!(
        ids.contains(
            &roster::reveal_id_number(&store, &centre_admin(), trainee, "核对", t0())
                .await
                .unwrap()
        )
    );
    let teacher = teachers::list_teachers(&store, &centre_admin(), inst, &PageRequest::first(5))
        .await
        .unwrap()
        .items[0]
        .id;
    assert_eq!(
        teachers::reveal_id_number(&store, &centre_admin(), teacher, "核对", t0())
            .await
            .unwrap(),
        teacher_id
    );
    let restarted = FileStore::local(&dir.0);
    for f in column(&store, "SELECT id FROM files", "id")
        .await
        .into_iter()
        .flatten()
    {
        assert_eq!(restarted.open(&f).await.unwrap(), PDF);
    }
    // A server started with a fresh key (a restore without its data.key) refuses to start.
    let fresh = Keys::new(RosterKey::new([9; 32]), DataKeys::new([0x11; 32]));
    let e = at_rest::check_keys(&store, &fresh.data).await.unwrap_err();
    assert!(
        matches!(
            &e,
            StoreError::Conflict {
                code: "DATA_KEY_MISMATCH",
                ..
            }
        ),
        "{e:?}"
    );
    // The old key no longer opens anything.
    let old_only =
        FileStore::local_with_keys(&dir.0, std::sync::Arc::new(DataKeys::new([0x5a; 32])));
    let any = column(&store, "SELECT id FROM files", "id").await[0]
        .clone()
        .unwrap();
    assert!(old_only.open(&any).await.is_err());

    // Interrupted after the key swap, before re-encrypting (simulated): running again resumes
    // with the same two keys and finishes.
    let k2 = std::fs::read(dir.0.join("data.key")).unwrap();
    std::fs::write(dir.0.join("data.key.old"), &k2).unwrap();
    std::fs::write(dir.0.join("data.key"), [0x77; 32]).unwrap();
    let r2 = at_rest::rotate_data_key(
        &store,
        &dir.0,
        &FilesLocation::default_for(&dir.0),
        &sys(),
        t0(),
    )
    .await
    .unwrap();
    assert!(r2.resumed);
    assert_eq!(r2.new_key_id, DataKeys::new([0x77; 32]).current_id());
    assert_eq!((r2.counts.trainees, r2.counts.teachers), (20, 1));
    // And once more: harmless (another new key, everything still reads).
    let r3 = at_rest::rotate_data_key(
        &store,
        &dir.0,
        &FilesLocation::default_for(&dir.0),
        &sys(),
        t0(),
    )
    .await
    .unwrap();
    assert!(!r3.resumed);
    assert!(
        ids.contains(
            &roster::reveal_id_number(&store, &centre_admin(), trainee, "核对", t0())
                .await
                .unwrap()
        )
    );
    let audited = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            action: Some("keys.rotate".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(audited.total, 3);
    let last = audited.items[0].new_value.clone().unwrap();
    assert_eq!(last["trainees"], 20);
    assert_eq!(last["files"], files_n);
}

async fn r_pii_1_trainee_reveal_audited_and_refused_for_roles_that_may_not(
    store: Store,
    _guard: TestDbGuard,
) {
    let (fs, _d) = files();
    let (pkg, ids, inst, _) = class(&store, &fs, 15).await;
    let other = institution(&store, 2, false).await;
    let trainee = roster::list_roster(&store, &inst_user(inst, 1), pkg, false)
        .await
        .unwrap()[0]
        .clone();
    for who in [
        bureau(),
        role_actor(Role::City, None),
        role_actor(Role::Auditor, None),
        role_actor(Role::Sysadmin, None),
        inst_user(other, 0),
        inst_user(other, 1),
    ] {
        for reason in ["核对", ""] {
            let e = roster::reveal_id_number(&store, &who, trainee.id, reason, t0())
                .await
                .unwrap_err();
            assert!(matches!(e, StoreError::Forbidden { .. }), "{who:?}: {e:?}");
        }
        assert!(!roster::can_reveal_id_number(&who, inst));
    }
    let e = roster::reveal_id_number(&store, &centre_admin(), 987_654, "核对", t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }));
    let mut revealed = String::new();
    for who in [
        centre_admin(),
        centre_staff(),
        inst_user(inst, 0),
        inst_user(inst, 1),
    ] {
        assert!(roster::can_reveal_id_number(&who, inst));
        let e = roster::reveal_id_number(&store, &who, trainee.id, "  ", t0())
            .await
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::Validation { code: "REASON_REQUIRED", field: Some(f), .. } if f == "reason"),
            "{e:?}"
        );
        let long = "理".repeat(2001);
        let e = roster::reveal_id_number(&store, &who, trainee.id, &long, t0())
            .await
            .unwrap_err();
        assert!(
            matches!(
                &e,
                StoreError::Validation {
                    code: "REASON_TOO_LONG",
                    ..
                }
            ),
            "{e:?}"
        );
        let full = roster::reveal_id_number(&store, &who, trainee.id, " 补贴申领核对 ", t0())
            .await
            .unwrap();
        assert!(ids.contains(&full));
        assert_eq!(peixun_domain::ids::mask_id(&full), trainee.id_number_masked);
        revealed = full;
    }
    let audited = audit::search(
        &store,
        &sys(),
        &AuditFilter {
            action: Some("trainee.reveal_id_number".into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap();
    assert_eq!(audited.total, 4, "one entry per reveal, none for refusals");
    let full = &revealed;
    for a in &audited.items {
        assert_eq!(a.target_type, "roster_entry");
        assert_eq!(
            a.target_id.as_deref(),
            Some(trainee.id.to_string().as_str())
        );
        let v = a.new_value.clone().unwrap();
        assert_eq!(v["reason"], "补贴申领核对");
        assert!(!v.to_string().contains(full.as_str()), "{v}");
    }
    // Teachers follow the same reason limit.
    let teacher = teachers::list_teachers(&store, &centre_admin(), inst, &PageRequest::first(5))
        .await
        .unwrap()
        .items[0]
        .id;
    let e = teachers::reveal_id_number(&store, &centre_admin(), teacher, &"理".repeat(2001), t0())
        .await
        .unwrap_err();
    assert!(matches!(
        &e,
        StoreError::Validation {
            code: "REASON_TOO_LONG",
            ..
        }
    ));
}
