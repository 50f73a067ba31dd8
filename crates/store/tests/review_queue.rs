//! The centre's review queue checks a page of packages with what they share loaded once
//! (issue 12 item 3): each listed package's problems, counts and approvability are those of
//! the package checked alone (R-FIL-5, R-FIL-2 overlaps, R-POL-1), on SQLite and PostgreSQL.

mod support;

use peixun_domain::workflow::round::Half;
use peixun_store::filing_package::{self, PackageInput};
use peixun_store::roster::ImportOutcome;
use peixun_store::{PageRequest, Store, review};
use support::packages::*;
use support::*;

support::on_both_backends!(r_fil_5_review_page_equals_each_package_checked_alone);

/// [`good_input`] with its sessions on other days (no teacher booked twice).
fn input_on(teacher: i64, first: u32) -> PackageInput {
    let mut i = good_input(teacher);
    i.sessions = vec![
        session(d(2026, 4, first), teacher, 3),
        session(d(2026, 4, first + 1), teacher, 3),
    ];
    i
}

async fn r_fil_5_review_page_equals_each_package_checked_alone(store: Store) {
    let (fs, _d) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 8).await;
    let a = fixture(&store, 1, r.id, 3).await;
    let b = fixture(&store, 2, r.id, 3).await;
    // Two classes of A (same institution on one page), one of B sharing two trainees with A's
    // first (overlap warnings on both sides).
    let pa1 = full_package(&store, &fs, &a, 40).await;
    let fa1 = submitted(submit(&store, &a, pa1, t0()).await);
    let pa2 = package_without_roster(&store, &fs, &a, input_on(a.teacher, 6)).await;
    assert!(matches!(
        import(&store, &inst_user(a.inst, 1), pa2, &people(20, 41)).await,
        ImportOutcome::Imported(_)
    ));
    submitted(submit(&store, &a, pa2, later(1)).await);
    let pb = package_without_roster(&store, &fs, &b, good_input(b.teacher)).await;
    let mut rows = people(20, 42);
    let shared = people(20, 40);
    rows[0] = shared[0].clone();
    rows[5] = shared[7].clone();
    assert!(matches!(
        import(&store, &inst_user(b.inst, 1), pb, &rows).await,
        ImportOutcome::Imported(_)
    ));
    submitted(submit(&store, &b, pb, later(2)).await);
    let q = review::review_queue(&store, &centre_staff(), &PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(q.total, 3);
    assert_eq!(q.items[0].filing.id, fa1.id);
    let mut overlaps = 0;
    for item in &q.items {
        let pkg = item.package_id.expect("package");
        let owner = inst_user(item.filing.institution_id, 1);
        let alone = filing_package::check_package(&store, &owner, pkg, item.filing.submitted_at)
            .await
            .unwrap();
        assert_eq!(item.problems, alone, "filing {}", item.filing.id);
        assert_eq!(item.blocking, 0);
        assert!(item.approvable);
        assert_eq!((item.trainees, item.pending_trainees), (20, 0));
        overlaps += alone.iter().filter(|p| p.code == "ROSTER_OVERLAP").count();
    }
    assert_eq!(overlaps, 4, "two shared trainees, flagged on both classes");
    // A page of one gives the same item as the first of the whole list.
    let one = review::review_queue(&store, &centre_staff(), &PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(one.items, q.items[..1].to_vec());
}
