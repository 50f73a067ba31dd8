//! The class archive 一期一档 (R-ARC-1, R-ARC-2; SECURITY.md S6, S16, S17) on SQLite and
//! PostgreSQL: the matrix and completeness from the roster; one upload and its replacement; the
//! bulk .zip placing files and reporting every one it could not place; hostile zips refused as
//! a whole with nothing changed; institution B can neither read nor write A's archive; 归档
//! refused below 100 % and by anyone but the centre; the download holds every file and an index
//! that parses; the work list shows incomplete archives.

mod support;

use chrono::{DateTime, Utc};
use peixun_domain::roster::ROSTER_HEADERS;
use peixun_store::archive::{self, ArchiveView};
use peixun_store::files::FileStore;
use peixun_store::ready_package::{self, ReadyPackage};
use peixun_store::roster::{self, ImportOutcome};
use peixun_store::{Actor, Store, StoreError, audit, filings, running, worklist};
use rust_decimal_macros::dec;
use std::io::{Cursor, Read, Write};
use support::packages::{PDF, files, key};
use support::*;

support::on_both_backends!(
    r_arc_2_matrix_follows_the_roster_and_completeness_is_exact,
    r_arc_1_upload_after_training_only_and_replace_deletes_the_old_file,
    r_arc_2_zip_places_files_and_reports_every_unplaced_one,
    s17_hostile_zips_are_refused_whole_and_change_nothing,
    s6_institution_b_cannot_read_or_write_a_s_archive,
    r_arc_2_archiving_refused_below_100_percent_then_done_by_the_centre,
    r_arc_2_download_holds_every_file_and_an_index_that_parses,
);

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// 09:00 Asia/Shanghai.
fn at(y: i32, m: u32, day: u32) -> DateTime<Utc> {
    support::packages::at(y, m, day)
}

/// The test roster: 24 synthetic citizens, all 广东省内 and no group, except row 3 (second
/// trainee): 广东省外 and 就业困难人员.
fn roster_rows() -> Vec<[String; 6]> {
    let mut rows = roster::synthetic_rows(24, 4242);
    for (i, r) in rows.iter_mut().enumerate() {
        r[4] = if i == 1 {
            "广东省外"
        } else {
            "广东省内"
        }
        .into();
        r[5] = if i == 1 { "就业困难人员" } else { "" }.into();
    }
    rows
}

fn csv(rows: &[[String; 6]]) -> Vec<u8> {
    let mut s = ROSTER_HEADERS.join(",");
    s.push('\n');
    for r in rows {
        s.push_str(&r.join(","));
        s.push('\n');
    }
    s.into_bytes()
}

/// Institution `n` with a class filed with the test roster, approved and started on 2026-04-01.
async fn started_class(store: &Store, n: u32) -> (i64, i64) {
    started_class_with(store, n, &roster_rows()).await
}

/// [`started_class`] with the roster `rows`.
async fn started_class_with(store: &Store, n: u32, rows: &[[String; 6]]) -> (i64, i64) {
    let r = published_round(
        store,
        2026,
        peixun_domain::workflow::round::Half::Other,
        &format!("档案{n}"),
        4,
    )
    .await;
    let inst = institution(store, n, false).await;
    let a = signed(store, r.id, inst, 4).await;
    let user = inst_user(inst, 1);
    let spec = ReadyPackage::new(a, OCC, LEVEL, d(2026, 4, 1));
    let pkg = ready_package::prepare(store, &support::package_files(), &key(), &user, &spec, t0())
        .await
        .unwrap();
    let out = roster::import_roster(store, &user, &key(), pkg, &csv(rows), None, t0())
        .await
        .unwrap();
    assert!(matches!(out, ImportOutcome::Imported(_)), "{out:?}");
    let f = ready_package::submit(store, &user, pkg, t0())
        .await
        .unwrap();
    filings::approve_filing(store, &centre_staff(), f.id, later(5))
        .await
        .unwrap();
    running::start_training(store, &user, f.id, at(2026, 4, 1))
        .await
        .unwrap();
    (inst, f.id)
}

/// ... and completed (training 04-20, exam 04-25).
async fn completed_class(store: &Store, n: u32) -> (i64, i64) {
    let (inst, id) = started_class(store, n).await;
    let user = inst_user(inst, 1);
    running::complete_training(store, &user, id, d(2026, 4, 20), at(2026, 4, 21))
        .await
        .unwrap();
    running::complete_exam(store, &user, id, d(2026, 4, 25), at(2026, 4, 25))
        .await
        .unwrap();
    (inst, id)
}

fn now() -> DateTime<Utc> {
    at(2026, 5, 6)
}

async fn view(store: &Store, who: &Actor, id: i64) -> ArchiveView {
    archive::get_archive(store, who, id).await.unwrap()
}

#[allow(clippy::too_many_arguments)]
async fn upload(
    store: &Store,
    fs: &FileStore,
    who: &Actor,
    id: i64,
    entry: Option<i64>,
    kind: &str,
    bytes: &[u8],
) -> peixun_store::Result<archive::DocumentView> {
    archive::upload_document(store, fs, who, id, entry, kind, bytes, "scan.pdf", now()).await
}

/// Every required item of the class uploaded.
async fn fill_all(store: &Store, fs: &FileStore, who: &Actor, id: i64) {
    let v = view(store, who, id).await;
    for t in &v.trainees {
        for c in &t.cells {
            if c.status == "missing" {
                upload(store, fs, who, id, Some(t.roster_entry_id), &c.code, PDF)
                    .await
                    .unwrap();
            }
        }
    }
    for c in &v.class_items {
        if c.status == "missing" {
            upload(store, fs, who, id, None, &c.code, PDF)
                .await
                .unwrap();
        }
    }
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (n, b) in entries {
        w.start_file(*n, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b).unwrap();
    }
    w.finish().unwrap().into_inner()
}

async fn r_arc_2_matrix_follows_the_roster_and_completeness_is_exact(store: Store) {
    let (inst, id) = completed_class(&store, 1).await;
    let (fs, _dir) = files();
    let user = inst_user(inst, 1);
    let v = view(&store, &user, id).await;
    assert_eq!(v.trainees.len(), 24);
    let codes: Vec<&str> = v.columns.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(
        codes,
        vec![
            "id_card",
            "gd_residence_permit",
            "education_certificate",
            "skill_certificate",
            "group:就业困难人员"
        ]
    );
    // 23 × (身份证, 学历证书) + (身份证, 居住证, 学历证书, 就业困难人员证明) + 3 class items.
    assert_eq!(v.required, 23 * 2 + 4 + 3);
    assert_eq!(v.present, 0);
    assert_eq!(v.completeness_percent, dec!(0));
    let second = &v.trainees[1];
    assert_eq!(second.required, 4);
    let status: Vec<&str> = second.cells.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(
        status,
        vec!["missing", "missing", "missing", "optional", "missing"]
    );
    let first = &v.trainees[0];
    let status: Vec<&str> = first.cells.iter().map(|c| c.status.as_str()).collect();
    assert_eq!(
        status,
        vec![
            "missing",
            "not_required",
            "missing",
            "optional",
            "not_required"
        ]
    );
    assert!(first.id_number_masked.contains('*'));
    // Two of the second trainee's, one class item: 3 / 53 = 5.66… → 5.7.
    upload(
        &store,
        &fs,
        &user,
        id,
        Some(second.roster_entry_id),
        "id_card",
        PDF,
    )
    .await
    .unwrap();
    upload(
        &store,
        &fs,
        &user,
        id,
        Some(second.roster_entry_id),
        "group:就业困难人员",
        PNG,
    )
    .await
    .unwrap();
    upload(&store, &fs, &user, id, None, "sign_in_sheets", PDF)
        .await
        .unwrap();
    let v = view(&store, &centre_staff(), id).await;
    assert_eq!((v.present, v.required), (3, 53));
    assert_eq!(v.completeness_percent, dec!(5.7));
    assert_eq!(v.trainees[1].completeness_percent, dec!(50));
    assert_eq!(v.trainees[1].missing, vec!["广东省居住证", "学历证书"]);
    // A skill certificate is optional: uploading it counts it as required and present.
    upload(
        &store,
        &fs,
        &user,
        id,
        Some(v.trainees[0].roster_entry_id),
        "skill_certificate",
        PDF,
    )
    .await
    .unwrap();
    let v = view(&store, &user, id).await;
    assert_eq!((v.present, v.required), (4, 54));
    assert_eq!(v.trainees[0].cells[3].status, "present");
    // The work lists show the class with its figure.
    let list = archive::incomplete_archives(&store, Some(inst))
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].completeness_percent, dec!(7.4));
    let wl = worklist::work_list(&store, &user, now()).await.unwrap();
    assert!(
        wl.items.iter().any(|i| i.kind == "archives_incomplete"),
        "{wl:?}"
    );
    let wl = worklist::work_list(&store, &centre_staff(), now())
        .await
        .unwrap();
    assert!(wl.items.iter().any(|i| i.kind == "archives_incomplete"));
}

async fn r_arc_1_upload_after_training_only_and_replace_deletes_the_old_file(store: Store) {
    let (inst, id) = started_class(&store, 2).await;
    let (fs, _dir) = files();
    let user = inst_user(inst, 1);
    let err = upload(&store, &fs, &user, id, None, "sign_in_sheets", PDF)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ARC_CLASS_STATE");
    running::complete_training(&store, &user, id, d(2026, 4, 20), at(2026, 4, 21))
        .await
        .unwrap();
    let entry = view(&store, &user, id).await.trainees[0].roster_entry_id;
    // Wrong kinds and targets name the rule.
    let e = upload(
        &store,
        &fs,
        &user,
        id,
        Some(entry),
        "gd_residence_permit",
        PDF,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "ARC_NOT_REQUIRED");
    let e = upload(&store, &fs, &user, id, Some(entry), "passport", PDF)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ARC_KIND");
    let e = upload(&store, &fs, &user, id, None, "id_card", PDF)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ARC_TRAINEE_REQUIRED");
    let e = upload(&store, &fs, &user, id, Some(999_999), "id_card", PDF)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ARC_TRAINEE");
    // S16: HTML named .pdf is refused by content.
    let e = upload(
        &store,
        &fs,
        &user,
        id,
        Some(entry),
        "id_card",
        b"<html><script>x</script>",
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "FILE_DANGEROUS");
    let first = upload(&store, &fs, &user, id, Some(entry), "id_card", PDF)
        .await
        .unwrap();
    assert!(fs.exists(&first.file_id).await);
    let second = upload(&store, &fs, &user, id, Some(entry), "id_card", PNG)
        .await
        .unwrap();
    assert_eq!(second.id, first.id, "the row is replaced");
    assert_ne!(second.file_id, first.file_id);
    assert!(
        !fs.exists(&first.file_id).await,
        "the old content is removed"
    );
    assert!(matches!(
        peixun_store::files::get_file(store.db(), &first.file_id).await,
        Err(StoreError::NotFound { .. })
    ));
    let v = view(&store, &user, id).await;
    assert_eq!(v.present, 1);
    assert_eq!(
        v.trainees[0].cells[0].document.as_ref().unwrap().mime,
        "image/png"
    );
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_arc_2_zip_places_files_and_reports_every_unplaced_one(store: Store) {
    let (inst, id) = completed_class(&store, 3).await;
    let (fs, _dir) = files();
    let user = inst_user(inst, 1);
    let v = view(&store, &user, id).await;
    let t0_ = &v.trainees[0];
    let t1 = &v.trainees[1];
    let tail = |m: &str| {
        m.chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<String>()
    };
    let n_first = format!("{:02}_{}/身份证.pdf", t0_.row_number, t0_.name);
    let n_tail = format!("{}_学历证书.png", tail(&t0_.id_number_masked));
    let n_group = format!("第{}行_{}_就业困难人员.pdf", t1.row_number, t1.name);
    let n_resid = format!("{}-居住证.pdf", t1.name);
    let n_dup = format!("{}_身份证_2.pdf", t0_.name);
    let n_not_req = format!("{:02}_{}/广东省居住证.pdf", t0_.row_number, t0_.name);
    let n_html = format!("{}_学历证书.pdf", t1.name);
    let z = zip_of(&[
        (&n_first, PDF),
        (&n_tail, PNG),
        (&n_group, PDF),
        (&n_resid, PDF),
        ("00_班级材料/签到表.pdf", PDF),
        ("考试资料.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF\0"),
        (&n_dup, PDF),
        ("不认识的人_身份证.pdf", PDF),
        (&n_not_req, PDF),
        ("说明.docx", b"PK\x03\x04docx"),
        (&n_html, b"<html><body>not a pdf</body></html>"),
        ("__MACOSX/._签到表.pdf", b"junk"),
    ]);
    let r = archive::import_zip(&store, &fs, &user, id, z, now())
        .await
        .unwrap();
    assert_eq!(r.files, 11);
    let placed: Vec<&str> = r.placed.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(placed.len(), 6, "{r:?}");
    for n in [&n_first, &n_tail, &n_group, &n_resid] {
        assert!(placed.contains(&n.as_str()), "{n} in {placed:?}");
    }
    let why: std::collections::BTreeMap<&str, &str> = r
        .unplaced
        .iter()
        .map(|u| (u.name.as_str(), u.reason_code.as_str()))
        .collect();
    // Row 2's name may be shared: the duplicate is "duplicate" (same item) or ambiguous.
    assert!(
        matches!(why[n_dup.as_str()], "duplicate" | "ambiguous_trainee"),
        "{why:?}"
    );
    assert_eq!(why["不认识的人_身份证.pdf"], "unknown_trainee");
    assert_eq!(why[n_not_req.as_str()], "not_required");
    assert_eq!(why["说明.docx"], "not_allowed_type");
    assert_eq!(why[n_html.as_str()], "FILE_DANGEROUS");
    assert_eq!(r.unplaced.len(), 5);
    assert!(r.unplaced.iter().all(|u| !u.reason.is_empty()));
    assert_eq!((r.present, r.required), (6, 53));
    let v = view(&store, &user, id).await;
    assert_eq!(v.present, 6);
    assert_eq!(v.trainees[1].present, 2);
    // Uploading the same zip again replaces, never duplicates.
    let z = zip_of(&[(&n_first, PNG)]);
    let r = archive::import_zip(&store, &fs, &user, id, z, now())
        .await
        .unwrap();
    assert!(r.placed[0].replaced);
    assert_eq!(view(&store, &user, id).await.present, 6);
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn s17_hostile_zips_are_refused_whole_and_change_nothing(store: Store) {
    let (inst, id) = completed_class(&store, 4).await;
    let (fs, _dir) = files();
    let user = inst_user(inst, 1);
    let good = "00_班级材料/签到表.pdf";
    let inner = zip_of(&[("a.pdf", PDF)]);
    let many: Vec<(String, &[u8])> = (0..2001).map(|i| (format!("{i}.pdf"), PDF)).collect();
    let many_refs: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    for (zip, code) in [
        (
            zip_of(&[(good, PDF), ("../../etc/签到表.pdf", PDF)]),
            "ZIP_BAD_NAME",
        ),
        (
            zip_of(&[(good, PDF), ("/abs/考试资料.pdf", PDF)]),
            "ZIP_BAD_NAME",
        ),
        (zip_of(&[(good, PDF), ("inner.zip", &inner)]), "ZIP_NESTED"),
        (zip_of(&[(good, PDF), ("花名册.pdf", &inner)]), "ZIP_NESTED"),
        (zip_of(&many_refs), "ZIP_TOO_MANY_ENTRIES"),
        (b"PK\x03\x04 broken".to_vec(), "ZIP_CORRUPT"),
    ] {
        let e = archive::import_zip(&store, &fs, &user, id, zip, now())
            .await
            .unwrap_err();
        assert_eq!(e.code(), code);
        assert!(matches!(e, StoreError::Validation { .. }));
    }
    // A zip bomb: 30 MB of zeros in one entry (over the per-entry limit, tiny packed).
    let zeros = vec![0u8; 30 * 1024 * 1024];
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file(
        "签到表.pdf",
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated),
    )
    .unwrap();
    w.write_all(&zeros).unwrap();
    let bomb = w.finish().unwrap().into_inner();
    assert!(bomb.len() < 1024 * 1024);
    let e = archive::import_zip(&store, &fs, &user, id, bomb, now())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ZIP_ENTRY_TOO_LARGE");
    assert_eq!(view(&store, &user, id).await.present, 0, "nothing changed");
}

async fn s6_institution_b_cannot_read_or_write_a_s_archive(store: Store) {
    let (inst, id) = completed_class(&store, 5).await;
    let b = institution(&store, 6, false).await;
    let (fs, _dir) = files();
    let a_user = inst_user(inst, 1);
    let doc = upload(&store, &fs, &a_user, id, None, "roster", PDF)
        .await
        .unwrap();
    for b_user in [inst_user(b, 0), inst_user(b, 1)] {
        let forbidden = |r: Result<(), StoreError>| {
            assert!(matches!(r, Err(StoreError::Forbidden { .. })), "{r:?}");
        };
        forbidden(archive::get_archive(&store, &b_user, id).await.map(|_| ()));
        forbidden(
            archive::build_archive_zip(&store, &fs, &b_user, id, now())
                .await
                .map(|_| ()),
        );
        forbidden(
            archive::open_document(&store, &fs, &b_user, doc.id, now())
                .await
                .map(|_| ()),
        );
        forbidden(
            upload(&store, &fs, &b_user, id, None, "exam_materials", PDF)
                .await
                .map(|_| ()),
        );
        forbidden(
            archive::import_zip(
                &store,
                &fs,
                &b_user,
                id,
                zip_of(&[("考试资料.pdf", PDF)]),
                now(),
            )
            .await
            .map(|_| ()),
        );
        forbidden(
            archive::mark_archived(&store, &b_user, id, now())
                .await
                .map(|_| ()),
        );
        // B's lists never show A's class.
        assert!(
            archive::incomplete_archives(&store, Some(b))
                .await
                .unwrap()
                .is_empty()
        );
    }
    // The centre and the bureau read it; only the institution writes; sysadmin and auditor nothing.
    view(&store, &centre_staff(), id).await;
    view(&store, &bureau(), id).await;
    let e = upload(
        &store,
        &fs,
        &centre_staff(),
        id,
        None,
        "exam_materials",
        PDF,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }));
    for role in [
        peixun_domain::role::Role::Sysadmin,
        peixun_domain::role::Role::Auditor,
    ] {
        let who = Actor {
            user_id: Some(9),
            username: "x".into(),
            role: Some(role),
            institution_id: None,
            ip: None,
            request_id: None,
        };
        assert!(matches!(
            archive::get_archive(&store, &who, id).await,
            Err(StoreError::Forbidden { .. })
        ));
    }
    assert_eq!(view(&store, &a_user, id).await.present, 1);
}

async fn r_arc_2_archiving_refused_below_100_percent_then_done_by_the_centre(store: Store) {
    let (inst, id) = completed_class(&store, 7).await;
    let (fs, _dir) = files();
    let user = inst_user(inst, 1);
    // Everything but the roster copy (a class item): 52 / 53 = 98.1 %.
    let v = view(&store, &user, id).await;
    for t in &v.trainees {
        for c in &t.cells {
            if c.status == "missing" {
                upload(
                    &store,
                    &fs,
                    &user,
                    id,
                    Some(t.roster_entry_id),
                    &c.code,
                    PDF,
                )
                .await
                .unwrap();
            }
        }
    }
    upload(&store, &fs, &user, id, None, "sign_in_sheets", PDF)
        .await
        .unwrap();
    upload(&store, &fs, &user, id, None, "exam_materials", PDF)
        .await
        .unwrap();
    let e = archive::mark_archived(&store, &centre_staff(), id, now())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ARC_INCOMPLETE");
    assert!(e.to_string().contains("98.1"), "{e}");
    assert_eq!(view(&store, &user, id).await.status, "completed");
    upload(&store, &fs, &user, id, None, "roster", PDF)
        .await
        .unwrap();
    let v = view(&store, &user, id).await;
    assert!(v.complete);
    assert_eq!(v.completeness_percent, dec!(100));
    // Only the centre archives.
    let e = archive::mark_archived(&store, &user, id, now())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e:?}");
    let done = archive::mark_archived(&store, &centre_admin(), id, now())
        .await
        .unwrap();
    assert!(done.archived);
    assert_eq!(done.status, "archived");
    // Archived: frozen, and off the work lists.
    let e = upload(&store, &fs, &user, id, None, "roster", PNG)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ARC_CLASS_STATE");
    assert!(
        archive::incomplete_archives(&store, None)
            .await
            .unwrap()
            .iter()
            .all(|s| s.class_id != id)
    );
    // Archiving needs a Completed class: training done, exam not, archive full — refused.
    let (inst2, id2) = started_class(&store, 8).await;
    let user2 = inst_user(inst2, 1);
    running::complete_training(&store, &user2, id2, d(2026, 4, 20), at(2026, 4, 21))
        .await
        .unwrap();
    fill_all(&store, &fs, &user2, id2).await;
    assert!(view(&store, &user2, id2).await.complete);
    assert!(
        archive::mark_archived(&store, &centre_staff(), id2, now())
            .await
            .is_err()
    );
    assert_eq!(view(&store, &user2, id2).await.status, "training_complete");
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_arc_2_download_holds_every_file_and_an_index_that_parses(store: Store) {
    let (inst, id) = completed_class(&store, 11).await;
    let (fs, _dir) = files();
    let user = inst_user(inst, 1);
    let v = view(&store, &user, id).await;
    let t1 = &v.trainees[1];
    upload(
        &store,
        &fs,
        &user,
        id,
        Some(t1.roster_entry_id),
        "id_card",
        PDF,
    )
    .await
    .unwrap();
    upload(
        &store,
        &fs,
        &user,
        id,
        Some(t1.roster_entry_id),
        "group:就业困难人员",
        PNG,
    )
    .await
    .unwrap();
    upload(
        &store,
        &fs,
        &user,
        id,
        Some(v.trainees[0].roster_entry_id),
        "education_certificate",
        PDF,
    )
    .await
    .unwrap();
    upload(&store, &fs, &user, id, None, "exam_materials", PDF)
        .await
        .unwrap();
    let dl = archive::build_archive_zip(&store, &fs, &centre_staff(), id, now())
        .await
        .unwrap();
    assert_eq!(dl.documents, 4);
    assert!(dl.file_name.ends_with(".zip"));
    let mut z = zip::ZipArchive::new(Cursor::new(dl.bytes.clone())).unwrap();
    let names: Vec<String> = (0..z.len())
        .map(|i| z.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    let folder = format!("{:02}_{}", t1.row_number, t1.name);
    for want in [
        format!("{folder}/身份证.pdf"),
        format!("{folder}/身份认定材料（就业困难人员）.png"),
        format!(
            "{:02}_{}/学历证书.pdf",
            v.trainees[0].row_number, v.trainees[0].name
        ),
        "00_班级材料/考试资料.pdf".to_string(),
        "档案目录.xlsx".to_string(),
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    assert_eq!(names.len(), 5);
    let mut content = Vec::new();
    z.by_name(&format!("{folder}/身份证.pdf"))
        .unwrap()
        .read_to_end(&mut content)
        .unwrap();
    assert_eq!(content, PDF);
    // The index parses: one row per trainee after the header, masked ID numbers only.
    let mut xlsx = Vec::new();
    z.by_name("档案目录.xlsx")
        .unwrap()
        .read_to_end(&mut xlsx)
        .unwrap();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx)).unwrap();
    let range = book.worksheet_range("档案目录").unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let header = rows
        .iter()
        .position(|r| r.first().is_some_and(|c| c == "行号"))
        .unwrap();
    let body = &rows[header + 1..];
    assert_eq!(body.len(), 24);
    let t1_row = body
        .iter()
        .find(|r| r[1] == t1.name && r[0] == t1.row_number.to_string())
        .unwrap();
    assert!(t1_row[3].contains('*'));
    assert_eq!(t1_row[3], t1.id_number_masked);
    assert!(t1_row.contains(&format!("{folder}/身份证.pdf")));
    assert!(t1_row.contains(&"缺".to_string()));
    assert!(body[0].contains(&"不需要".to_string()));
    let listing = book.worksheet_range("文件清单").unwrap();
    assert_eq!(listing.rows().count(), 1 + 4);
    // The download re-uploads: every file placed back (the index is reported, not placed).
    let r = archive::import_zip(&store, &fs, &user, id, dl.bytes, now())
        .await
        .unwrap();
    assert_eq!(r.placed.len(), 4, "{r:?}");
    assert_eq!(r.unplaced.len(), 1);
    assert_eq!(r.unplaced[0].name, "档案目录.xlsx");
}

/// Peak resident memory since the last reset (kB), and a reset (Linux: `clear_refs` 5).
fn peak_rss_kb(reset: bool) -> u64 {
    let v = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0);
    if reset {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    v
}

/// Measurement (run with `--release -- --ignored`): a class of 120 trainees × 5 documents of
/// 150 KB each (身份证, 广东省居住证, 学历证书, 就业困难人员证明, 职业技能证书) uploaded as
/// one .zip, then the whole archive built as one .zip with its index. Prints the times and the
/// peak memory of each step. SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --release -- --ignored"]
async fn bench_archive_120_trainees_5_documents() {
    let (store, _guard) = peixun_store::testing::sqlite_temp().await;
    let mut rows = roster::synthetic_rows(120, 777);
    for r in rows.iter_mut() {
        r[4] = "广东省外".into();
        r[5] = "就业困难人员".into();
    }
    let (inst, id) = started_class_with(&store, 21, &rows).await;
    let user = inst_user(inst, 1);
    running::complete_training(&store, &user, id, d(2026, 4, 20), at(2026, 4, 21))
        .await
        .unwrap();
    running::complete_exam(&store, &user, id, d(2026, 4, 25), at(2026, 4, 25))
        .await
        .unwrap();
    let (fs, _dir) = files();
    let v = view(&store, &user, id).await;
    // 150 KB "scans": a PDF header and pseudo-random bytes (incompressible, like a JPEG).
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut doc = |tag: &str| {
        let mut b = format!("%PDF-1.4\n%{tag}\n").into_bytes();
        while b.len() < 150 * 1024 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            b.extend_from_slice(&seed.to_le_bytes());
        }
        b
    };
    let mut owned: Vec<(String, Vec<u8>)> = Vec::new();
    for t in &v.trainees {
        for kind in [
            "身份证",
            "广东省居住证",
            "学历证书",
            "就业困难人员",
            "职业技能证书",
        ] {
            owned.push((
                format!("{:03}_{}/{kind}.pdf", t.row_number, t.name),
                doc(&format!("{}{kind}", t.row_number)),
            ));
        }
    }
    let entries: Vec<(&str, &[u8])> = owned
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let zip = zip_of(&entries);
    drop(entries);
    drop(owned);
    let zip_mb = zip.len() as f64 / 1024.0 / 1024.0;
    peak_rss_kb(true);
    let t = std::time::Instant::now();
    let r = archive::import_zip(&store, &fs, &user, id, zip, now())
        .await
        .unwrap();
    let import = t.elapsed();
    let import_peak = peak_rss_kb(true);
    assert_eq!(r.placed.len(), 600, "{:?}", r.unplaced.first());
    assert!(r.unplaced.is_empty());
    let t = std::time::Instant::now();
    let dl = archive::build_archive_zip(&store, &fs, &centre_staff(), id, now())
        .await
        .unwrap();
    let build = t.elapsed();
    let build_peak = peak_rss_kb(false);
    assert_eq!(dl.documents, 600);
    println!(
        "BENCH archive: 120 trainees x 5 documents x 150 KB; upload zip {zip_mb:.1} MB placed 600 in {:.2?} (peak RSS {} MB); \
         download zip {:.1} MB built in {:.2?} (peak RSS {} MB)",
        import,
        import_peak / 1024,
        dl.bytes.len() as f64 / 1024.0 / 1024.0,
        build,
        build_peak / 1024
    );
}
