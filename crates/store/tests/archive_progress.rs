//! The stored archive figures (`archive_progress`, R-ARC-2, issue 12) agree with the
//! computation from scratch, on SQLite and PostgreSQL.
//!
//! Classes are brought after training (training complete, exam complete) and get documents
//! one by one, replaced, by .zip, an optional skill certificate that adds to what is required,
//! until one is complete and archived. After every step the stored figures of every class after
//! training must equal a recount from the rosters and documents, and the work lists' list of
//! incomplete archives (all, and per institution) must equal the one computed from scratch, the
//! computation the work lists made before the figures were stored. Also: a database whose
//! classes have documents migrates (backfill) to the same figures.

mod support;

use chrono::{DateTime, Utc};
use peixun_domain::roster::ROSTER_HEADERS;
use peixun_store::archive::{self, ArchiveView};
use peixun_store::files::FileStore;
use peixun_store::migration::m20261204_000200_archive_progress::backfill;
use peixun_store::ready_package::{self, ReadyPackage};
use peixun_store::roster::{self, ImportOutcome};
use peixun_store::{Actor, Store, filings, running, worklist};
use sea_orm::ConnectionTrait;
use std::io::{Cursor, Write};
use support::packages::{PDF, files, key};
use support::*;

support::on_both_backends!(
    r_arc_2_stored_figures_equal_the_recount_after_every_change,
    r_arc_2_existing_archives_migrate_to_the_same_figures,
);

/// 09:00 Asia/Shanghai.
fn at(y: i32, m: u32, day: u32) -> DateTime<Utc> {
    support::packages::at(y, m, day)
}

fn now() -> DateTime<Utc> {
    at(2026, 5, 6)
}

/// 20 synthetic citizens; row 2 is 广东省外 and 就业困难人员, row 3 (广东省内) 就业困难人员 too.
fn csv(seed: u64) -> Vec<u8> {
    let mut rows = roster::synthetic_rows(20, seed);
    for (i, r) in rows.iter_mut().enumerate() {
        r[4] = if i == 1 {
            "广东省外"
        } else {
            "广东省内"
        }
        .into();
        r[5] = match i {
            1 => "就业困难人员",
            2 => "就业困难人员",
            _ => "",
        }
        .into();
    }
    let mut s = ROSTER_HEADERS.join(",");
    s.push('\n');
    for r in &rows {
        s.push_str(&r.join(","));
        s.push('\n');
    }
    s.into_bytes()
}

/// Institution `n` with a class filed, approved and started on 2026-04-01.
async fn started_class(store: &Store, n: u32) -> (i64, i64) {
    let r = published_round(
        store,
        2026,
        peixun_domain::workflow::round::Half::Other,
        &format!("档案进度{n}"),
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
    let out = roster::import_roster(
        store,
        &user,
        &key(),
        pkg,
        &csv(4000 + u64::from(n)),
        None,
        t0(),
    )
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

async fn complete_training(store: &Store, inst: i64, id: i64) {
    running::complete_training(
        store,
        &inst_user(inst, 1),
        id,
        d(2026, 4, 20),
        at(2026, 4, 21),
    )
    .await
    .unwrap();
}

async fn complete_exam(store: &Store, inst: i64, id: i64) {
    running::complete_exam(
        store,
        &inst_user(inst, 1),
        id,
        d(2026, 4, 25),
        at(2026, 4, 25),
    )
    .await
    .unwrap();
}

async fn view(store: &Store, who: &Actor, id: i64) -> ArchiveView {
    archive::get_archive(store, who, id).await.unwrap()
}

async fn upload(
    store: &Store,
    fs: &FileStore,
    who: &Actor,
    id: i64,
    entry: Option<i64>,
    kind: &str,
) {
    archive::upload_document(store, fs, who, id, entry, kind, PDF, "scan.pdf", now())
        .await
        .unwrap();
}

/// The stored figures equal the recount, and the work lists' list equals the one from scratch
/// (all, and for each of `institutions`).
async fn assert_agree(store: &Store, institutions: &[i64], what: &str) {
    let stored = archive::stored_figures(store.db()).await.unwrap();
    let recount = archive::recount_figures(store.db()).await.unwrap();
    assert_eq!(stored, recount, "stored = recount after {what}");
    let mut scopes: Vec<Option<i64>> = vec![None];
    scopes.extend(institutions.iter().copied().map(Some));
    for scope in scopes {
        let scratch = archive::incomplete_archives_from_scratch(store.db(), scope)
            .await
            .unwrap();
        assert_eq!(
            archive::incomplete_archives(store, scope).await.unwrap(),
            scratch,
            "incomplete archives of {scope:?} after {what}"
        );
        assert_eq!(
            archive::incomplete_archives_head(store, scope)
                .await
                .unwrap(),
            (scratch.len() as u64, scratch.first().cloned()),
            "work-list head of {scope:?} after {what}"
        );
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

async fn r_arc_2_stored_figures_equal_the_recount_after_every_change(store: Store) {
    let (fs, _dir) = files();
    let (a, ca) = started_class(&store, 1).await;
    let (b, cb) = started_class(&store, 2).await;
    let (c, cc) = started_class(&store, 3).await;
    let insts = [a, b, c];
    // In training: nothing is listed.
    assert_agree(&store, &insts, "start").await;
    assert!(
        archive::incomplete_archives(&store, None)
            .await
            .unwrap()
            .is_empty()
    );
    complete_training(&store, a, ca).await;
    assert_agree(&store, &insts, "training complete (A)").await;
    complete_exam(&store, a, ca).await;
    complete_training(&store, b, cb).await;
    assert_agree(&store, &insts, "exam complete (A), training complete (B)").await;
    assert_eq!(
        archive::incomplete_archives(&store, None)
            .await
            .unwrap()
            .len(),
        2
    );
    // Documents one by one, on both classes, each step compared.
    let ua = inst_user(a, 1);
    let va = view(&store, &ua, ca).await;
    let mut step = 0;
    for t in va.trainees.iter().take(4) {
        for cell in &t.cells {
            if cell.status == "missing" {
                upload(&store, &fs, &ua, ca, Some(t.roster_entry_id), &cell.code).await;
                step += 1;
                assert_agree(&store, &insts, &format!("upload {step} (A)")).await;
            }
        }
    }
    // A replacement changes nothing in the figures.
    let first = va.trainees[0].roster_entry_id;
    upload(&store, &fs, &ua, ca, Some(first), "id_card").await;
    assert_agree(&store, &insts, "replacement (A)").await;
    // The optional skill certificate: required and present once uploaded.
    upload(&store, &fs, &ua, ca, Some(first), "skill_certificate").await;
    assert_agree(&store, &insts, "skill certificate (A)").await;
    // A class item.
    upload(&store, &fs, &ua, ca, None, "sign_in_sheets").await;
    assert_agree(&store, &insts, "class item (A)").await;
    // A .zip on class B: a trainee's document and a class item.
    let ub = inst_user(b, 1);
    let vb = view(&store, &ub, cb).await;
    let t = &vb.trainees[0];
    let name = format!("{:02}_{}/身份证.pdf", t.row_number, t.name);
    let z = zip_of(&[(&name, PDF), ("00_班级材料/签到表.pdf", PDF)]);
    let r = archive::import_zip(&store, &fs, &ub, cb, z, now())
        .await
        .unwrap();
    assert_eq!(r.placed.len(), 2, "{r:?}");
    assert_agree(&store, &insts, "zip (B)").await;
    // Class C finishes after documents were given to A and B.
    complete_training(&store, c, cc).await;
    complete_exam(&store, c, cc).await;
    assert_agree(&store, &insts, "training and exam complete (C)").await;
    // A complete: off the list; then archived.
    let va = view(&store, &ua, ca).await;
    for t in &va.trainees {
        for cell in &t.cells {
            if cell.status == "missing" {
                upload(&store, &fs, &ua, ca, Some(t.roster_entry_id), &cell.code).await;
            }
        }
    }
    for cell in &va.class_items {
        if cell.status == "missing" {
            upload(&store, &fs, &ua, ca, None, &cell.code).await;
        }
    }
    assert!(view(&store, &ua, ca).await.complete);
    assert_agree(&store, &insts, "A complete").await;
    let list = archive::incomplete_archives(&store, None).await.unwrap();
    assert!(list.iter().all(|s| s.class_id != ca), "{list:?}");
    assert_eq!(list.len(), 2);
    archive::mark_archived(&store, &centre_staff(), ca, now())
        .await
        .unwrap();
    assert_agree(&store, &insts, "A archived").await;
    // The work lists show the stored figures: the centre's names the lowest class (C: nothing
    // on file), the institution's its own.
    let wl = worklist::work_list(&store, &centre_staff(), now())
        .await
        .unwrap();
    let item = wl
        .items
        .iter()
        .find(|i| i.kind == "archives_incomplete")
        .unwrap_or_else(|| panic!("{wl:?}"));
    assert_eq!((item.count, item.target_id), (2, Some(cc)));
    let wl = worklist::work_list(&store, &ub, now()).await.unwrap();
    let item = wl
        .items
        .iter()
        .find(|i| i.kind == "archives_incomplete")
        .unwrap_or_else(|| panic!("{wl:?}"));
    assert_eq!((item.count, item.target_id), (1, Some(cb)));
    // The centre admin's list (its own items read by the database too) names the same class.
    let wl = worklist::work_list(&store, &centre_admin(), now())
        .await
        .unwrap();
    let item = wl
        .items
        .iter()
        .find(|i| i.kind == "archives_incomplete")
        .unwrap_or_else(|| panic!("{wl:?}"));
    assert_eq!((item.count, item.target_id), (2, Some(cc)));
    // Every application here has its agreement: nothing to sign.
    assert!(
        wl.items.iter().all(|i| i.kind != "agreements_to_sign"),
        "{wl:?}"
    );
    // A recount rebuilds the same rows.
    let before = archive::stored_figures(store.db()).await.unwrap();
    archive::recount_progress(store.db()).await.unwrap();
    assert_eq!(archive::stored_figures(store.db()).await.unwrap(), before);
}

async fn r_arc_2_existing_archives_migrate_to_the_same_figures(store: Store) {
    let (fs, _dir) = files();
    let (a, ca) = started_class(&store, 11).await;
    let (b, cb) = started_class(&store, 12).await;
    complete_training(&store, a, ca).await;
    complete_exam(&store, a, ca).await;
    complete_training(&store, b, cb).await;
    let ua = inst_user(a, 1);
    let va = view(&store, &ua, ca).await;
    upload(
        &store,
        &fs,
        &ua,
        ca,
        Some(va.trainees[1].roster_entry_id),
        "id_card",
    )
    .await;
    upload(&store, &fs, &ua, ca, None, "roster").await;
    let expected = archive::recount_figures(store.db()).await.unwrap();
    assert_eq!(expected.len(), 2);
    // As before the migration: no stored figures.
    store
        .db()
        .execute_unprepared("DELETE FROM archive_progress")
        .await
        .unwrap();
    assert!(
        archive::stored_figures(store.db())
            .await
            .unwrap()
            .is_empty()
    );
    backfill(store.db()).await.unwrap();
    assert_eq!(archive::stored_figures(store.db()).await.unwrap(), expected);
    assert_agree(&store, &[a, b], "backfill").await;
    // And the figures go on from there.
    upload(
        &store,
        &fs,
        &ua,
        ca,
        Some(va.trainees[0].roster_entry_id),
        "id_card",
    )
    .await;
    assert_agree(&store, &[a, b], "upload after backfill").await;
}
