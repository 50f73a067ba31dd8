//! S15: an upload no record points to any more is removed — row and content — by the daily
//! `file_sweep` job after a day's grace; everything a record points to stays. On the demo
//! dataset (every kind of upload) nothing is removed, which guards the list of referencing
//! columns. SQLite and PostgreSQL.

mod support;

use chrono::Duration;
use peixun_domain::filing::DocumentKind;
use peixun_domain::workflow::round::Half;
use peixun_store::file_sweep::{self, GRACE};
use peixun_store::files::file;
use peixun_store::{Actor, Store, demo, filing_package};
use sea_orm::EntityTrait;
use support::*;

support::on_both_backends!(
    s15_a_replaced_package_document_is_removed_after_the_grace_period,
    s15_nothing_the_demo_points_to_is_removed,
);

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

async fn s15_a_replaced_package_document_is_removed_after_the_grace_period(store: Store) {
    let files = package_files();
    let inst = institution(&store, 1, false).await;
    let round = published_round(&store, 2026, Half::H1, "2026上半年", 10).await;
    let agreement = signed(&store, round.id, inst, 3).await;
    let clerk = inst_user(inst, 1);
    let p = filing_package::create_package(&store, &clerk, agreement, t0())
        .await
        .unwrap();
    let slot = DocumentKind::ALL[0].code();
    let doc_id = |v: &filing_package::PackageView| {
        v.documents
            .iter()
            .find(|d| d.kind == slot)
            .and_then(|d| d.file.as_ref().map(|f| f.id.clone()))
            .expect("uploaded")
    };
    let v1 =
        filing_package::attach_file(&store, &files, &clerk, p.id, slot, PDF, "教材一.pdf", t0())
            .await
            .unwrap();
    let first = doc_id(&v1);
    let second_pdf = [PDF, b"% second version\n"].concat();
    let v2 = filing_package::attach_file(
        &store,
        &files,
        &clerk,
        p.id,
        slot,
        &second_pdf,
        "教材二.pdf",
        later(5),
    )
    .await
    .unwrap();
    let second = doc_id(&v2);
    assert_ne!(first, second);
    assert!(files.exists(&first).await && files.exists(&second).await);

    // Within the grace period nothing goes.
    let sys = Actor::system("file_sweep");
    let r = file_sweep::sweep_unreferenced(&store, &files, &sys, later(10))
        .await
        .unwrap();
    assert!(r.removed.is_empty());
    // After it, the replaced version goes, row and content; the current one stays.
    let r = file_sweep::sweep_unreferenced(&store, &files, &sys, t0() + GRACE + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(r.removed, vec![first.clone()]);
    assert!(!files.exists(&first).await);
    assert!(
        file::Entity::find_by_id(first.clone())
            .one(store.db())
            .await
            .unwrap()
            .is_none()
    );
    assert!(files.exists(&second).await);
    let v = filing_package::get_package(&store, &clerk, p.id)
        .await
        .unwrap();
    assert_eq!(doc_id(&v), second);
    // Once a day, whichever server claims it.
    let at = t0() + GRACE * 2;
    assert!(
        file_sweep::sweep_tick(&store, &files, "srv-1", at)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        file_sweep::sweep_tick(&store, &files, "srv-2", at)
            .await
            .unwrap()
            .is_none()
    );
}

async fn s15_nothing_the_demo_points_to_is_removed(store: Store) {
    let files = package_files();
    demo::seed_demo(&store, &files, &roster_key(), t0())
        .await
        .unwrap();
    let before = file::Entity::find().all(store.db()).await.unwrap();
    assert!(before.len() > 5, "the demo uploads files");
    let r = file_sweep::sweep_unreferenced(
        &store,
        &files,
        &Actor::system("file_sweep"),
        t0() + Duration::days(400),
    )
    .await
    .unwrap();
    let purposes: Vec<_> = before
        .iter()
        .filter(|f| r.removed.contains(&f.id))
        .map(|f| f.purpose.clone())
        .collect();
    assert!(
        r.removed.is_empty(),
        "demo uploads no column points to: {purposes:?}"
    );
    assert_eq!(r.kept, before.len());
}
