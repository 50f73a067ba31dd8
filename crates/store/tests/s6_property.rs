//! S6 as a property over every record kind, on the demo dataset (which holds every kind, for
//! several institutions, in every state), on SQLite and PostgreSQL.
//!
//! For each demo account and each record kind: the set of records the account's list shows
//! equals the set it may open one by one (one rule guards both), and that set is the expected
//! visibility — the centre and the bureau/city see all, an institution exactly its own (for
//! violations: its own confirmed ones), the sysadmin and the auditor none. Records that hang off
//! another (a package's roster, a class's certificates and archive) never open where their
//! parent does not, and open for the centre and the owning institution wherever the parent does.
//! The demo raises no overdue sanction and files no address request, so the test adds one of
//! each through the same paths the sweep and an institution use.

mod support;

use peixun_domain::role::Role;
use peixun_store::evaluations::EvaluationFilter;
use peixun_store::inspections::InspectionFilter;
use peixun_store::requests::RequestFilter;
use peixun_store::running::ClassFilter;
use peixun_store::violations::ViolationFilter;
use peixun_store::{
    Actor, PageRequest, Result, Store, accounts, agreements, archive, certificates, demo,
    evaluations, filing_package, filings, inspections, overdue, reports, requests, roster, rounds,
    running, violations,
};
use std::collections::BTreeSet;
use support::*;

support::on_both_backends!(
    s6_list_and_single_record_agree_with_the_expected_visibility_for_every_kind
);

/// The demo as `serve --demo` builds it on this session's date (sanctions, evaluations and
/// violations exist by then).
fn today() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap()
}

fn page() -> PageRequest {
    PageRequest::first(PageRequest::MAX_PER_PAGE)
}

/// Ids from a list answer: a refusal is an empty list.
fn ids<T>(r: Result<Vec<T>>, id: impl Fn(&T) -> i64) -> BTreeSet<i64> {
    match r {
        Ok(items) => items.iter().map(id).collect(),
        Err(_) => BTreeSet::new(),
    }
}

/// One record kind: every record (id, institution, visible to its institution?).
struct Kind {
    name: &'static str,
    records: Vec<(i64, i64, bool)>,
}

fn expected(viewer: &Actor, kind: &Kind) -> BTreeSet<i64> {
    kind.records
        .iter()
        .filter(|(_, inst, inst_may)| match viewer.role {
            Some(Role::Sysadmin | Role::Auditor) => false,
            Some(r) if r.is_institution() => viewer.institution_id == Some(*inst) && *inst_may,
            _ => true,
        })
        .map(|(id, _, _)| *id)
        .collect()
}

async fn listed(store: &Store, v: &Actor, kind: &str, round_ids: &[i64]) -> BTreeSet<i64> {
    match kind {
        "agreement" => {
            let mut all = BTreeSet::new();
            for &r in round_ids {
                all.extend(ids(agreements::list_agreements(store, v, r).await, |a| {
                    a.id
                }));
            }
            all
        }
        "filing" => {
            let mut all = BTreeSet::new();
            for &r in round_ids {
                all.extend(ids(filings::list_round_filings(store, v, r).await, |f| {
                    f.id
                }));
            }
            all
        }
        "class" => ids(
            running::list_classes(store, v, &ClassFilter::default(), &page(), today())
                .await
                .map(|p| p.items),
            |c| c.id,
        ),
        "report" => ids(
            reports::list_reports(store, v, &page())
                .await
                .map(|p| p.items),
            |r| r.id,
        ),
        "inspection" => ids(
            inspections::list_inspections(store, v, &InspectionFilter::default(), &page())
                .await
                .map(|p| p.items),
            |i| i.id,
        ),
        "sanction" => ids(
            overdue::list_sanctions(store, v, false, &page())
                .await
                .map(|p| p.items),
            |s| s.id,
        ),
        "evaluation" => ids(
            evaluations::list_evaluations(store, v, &EvaluationFilter::default(), &page())
                .await
                .map(|p| p.items),
            |e| e.id,
        ),
        "violation" => ids(
            violations::list_violations(store, v, &ViolationFilter::default(), &page())
                .await
                .map(|p| p.items),
            |x| x.id,
        ),
        "request" => ids(
            requests::list_requests(store, v, &RequestFilter::default(), &page())
                .await
                .map(|p| p.items),
            |x| x.id,
        ),
        "package" => ids(filing_package::list_packages(store, v).await, |p| p.id),
        other => panic!("unknown kind {other}"),
    }
}

async fn opens(store: &Store, v: &Actor, kind: &str, id: i64) -> bool {
    match kind {
        "agreement" => agreements::get_agreement(store, v, id).await.is_ok(),
        "filing" => filings::get_filing(store, v, id).await.is_ok(),
        "class" => running::get_class(store, v, id, today()).await.is_ok(),
        "report" => reports::get_report(store, v, id).await.is_ok(),
        "inspection" => inspections::get_inspection(store, v, id).await.is_ok(),
        "sanction" => overdue::get_sanction(store, v, id).await.is_ok(),
        "evaluation" => evaluations::get_evaluation(store, v, id).await.is_ok(),
        "violation" => violations::get_violation(store, v, id).await.is_ok(),
        "request" => requests::get_request(store, v, id).await.is_ok(),
        "package" => filing_package::get_package(store, v, id).await.is_ok(),
        other => panic!("unknown kind {other}"),
    }
}

async fn raise_sanction(store: &Store) {
    use peixun_store::entity::{filing, overdue_sanction};
    use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
    let f = filing::Entity::find()
        .order_by_asc(filing::Column::Id)
        .one(store.db())
        .await
        .unwrap()
        .expect("a demo filing");
    let policy = peixun_store::policies::in_force(store.db(), today().date_naive())
        .await
        .unwrap();
    overdue_sanction::ActiveModel {
        institution_id: Set(f.institution_id),
        year: Set(2026),
        count: Set(4),
        trigger_filing_id: Set(f.id),
        state: Set("raised".into()),
        raised_at: Set(today()),
        decided_by: Set(None),
        decided_by_user_id: Set(None),
        decided_at: Set(None),
        reason: Set(None),
        effects: Set(None),
        policy_version: Set(policy.version.clone()),
        ..Default::default()
    }
    .insert(store.db())
    .await
    .unwrap();
}

async fn s6_list_and_single_record_agree_with_the_expected_visibility_for_every_kind(store: Store) {
    demo::seed_demo(&store, &package_files(), &roster_key(), today())
        .await
        .unwrap();
    // The nightly overdue sweep, as the server's job runs it: marks and sanctions (R-OVD-1/2).
    overdue::sweep(&store, today().date_naive(), today())
        .await
        .unwrap();
    // The demo raises no sanction (its classes are not overdue four times): raise one as the
    // sweep would, for the institution of the first filing.
    let sys = Actor::system("s6-property");
    raise_sanction(&store).await;
    // Nor an address request: institution A files one.
    let a_admin = accounts::find_user_by_username(&store, "inst_a_admin")
        .await
        .unwrap()
        .unwrap();
    requests::submit_request(
        &store,
        &package_files(),
        &Actor::from_user(&a_admin, None, None),
        &requests::RequestInput::Address {
            address: "广州市海珠区工业大道1号".into(),
            reason: "场地扩容".into(),
        },
        &[requests::EvidenceUpload {
            slot: requests::ADDRESS_EVIDENCE.into(),
            bytes: b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec(),
            name: "租赁合同.pdf".into(),
        }],
        today(),
    )
    .await
    .unwrap();
    let centre = {
        let u = accounts::find_user_by_username(&store, "centre_admin")
            .await
            .unwrap()
            .unwrap();
        Actor::from_user(&u, None, None)
    };
    let round_ids: Vec<i64> = rounds::list_rounds(&store, &centre)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();

    // Every record of every kind, as the centre sees it (the centre sees all).
    let mut kinds = Vec::new();
    let mut agreements_all = Vec::new();
    let mut filings_all = Vec::new();
    for &r in &round_ids {
        for a in agreements::list_agreements(&store, &centre, r)
            .await
            .unwrap()
        {
            agreements_all.push((a.id, a.institution_id, true));
        }
        for f in filings::list_round_filings(&store, &centre, r)
            .await
            .unwrap()
        {
            filings_all.push((f.id, f.institution_id, true));
        }
    }
    kinds.push(Kind {
        name: "agreement",
        records: agreements_all,
    });
    kinds.push(Kind {
        name: "filing",
        records: filings_all,
    });
    let classes = running::list_classes(&store, &centre, &ClassFilter::default(), &page(), today())
        .await
        .unwrap();
    assert!(classes.total <= PageRequest::MAX_PER_PAGE);
    kinds.push(Kind {
        name: "class",
        records: classes
            .items
            .iter()
            .map(|c| (c.id, c.institution_id, true))
            .collect(),
    });
    let reports = reports::list_reports(&store, &centre, &page())
        .await
        .unwrap();
    kinds.push(Kind {
        name: "report",
        records: reports
            .items
            .iter()
            .map(|r| (r.id, r.institution_id, true))
            .collect(),
    });
    let insp =
        inspections::list_inspections(&store, &centre, &InspectionFilter::default(), &page())
            .await
            .unwrap();
    kinds.push(Kind {
        name: "inspection",
        records: insp
            .items
            .iter()
            .map(|i| (i.id, i.institution_id, true))
            .collect(),
    });
    let sanctions = overdue::list_sanctions(&store, &centre, false, &page())
        .await
        .unwrap();
    kinds.push(Kind {
        name: "sanction",
        records: sanctions
            .items
            .iter()
            .map(|s| (s.id, s.institution_id, true))
            .collect(),
    });
    let evals =
        evaluations::list_evaluations(&store, &centre, &EvaluationFilter::default(), &page())
            .await
            .unwrap();
    kinds.push(Kind {
        name: "evaluation",
        records: evals
            .items
            .iter()
            .map(|e| (e.id, e.institution_id, true))
            .collect(),
    });
    let viols = violations::list_violations(&store, &centre, &ViolationFilter::default(), &page())
        .await
        .unwrap();
    kinds.push(Kind {
        name: "violation",
        records: viols
            .items
            .iter()
            .map(|v| {
                (
                    v.id,
                    v.institution_id,
                    v.state == peixun_domain::workflow::violation::ViolationState::Confirmed,
                )
            })
            .collect(),
    });
    let reqs = requests::list_requests(&store, &centre, &RequestFilter::default(), &page())
        .await
        .unwrap();
    kinds.push(Kind {
        name: "request",
        records: reqs
            .items
            .iter()
            .map(|r| (r.id, r.institution_id, true))
            .collect(),
    });
    let packages = filing_package::list_packages(&store, &sys).await.unwrap();
    kinds.push(Kind {
        name: "package",
        records: packages
            .iter()
            .map(|p| (p.id, p.institution_id, true))
            .collect(),
    });
    for k in &kinds {
        assert!(
            !k.records.is_empty(),
            "the demo has no {} records: the property would be empty",
            k.name
        );
    }

    let mut viewers = vec![centre.clone()];
    for (username, _) in demo::seed_demo(&store, &package_files(), &roster_key(), today())
        .await
        .unwrap()
        .accounts
    {
        let u = accounts::find_user_by_username(&store, &username)
            .await
            .unwrap()
            .unwrap();
        viewers.push(Actor::from_user(&u, None, None));
    }
    assert!(viewers.len() >= 10, "every role of the demo");
    let mut checked = 0usize;
    for v in &viewers {
        for k in &kinds {
            let want = expected(v, k);
            let list = listed(&store, v, k.name, &round_ids).await;
            let mut open = BTreeSet::new();
            for &(id, _, _) in &k.records {
                if opens(&store, v, k.name, id).await {
                    open.insert(id);
                }
                checked += 1;
            }
            assert_eq!(
                list, open,
                "{} ({:?}): the list and the single-record rule disagree on {}",
                v.username, v.role, k.name
            );
            assert_eq!(
                open, want,
                "{} ({:?}): {} visibility is not the expected one",
                v.username, v.role, k.name
            );
        }
        // Children never open where their parent does not (no way round S6 through a package's
        // roster or a class's certificates and archive); the centre and the record's own
        // institution open them wherever they open the parent. (The bureau and the city read
        // classes but not trainees' results: the role rule, RESULTS_READ, not a record rule.)
        let full = matches!(
            v.role,
            Some(
                Role::CentreAdmin
                    | Role::CentreStaff
                    | Role::InstitutionAdmin
                    | Role::InstitutionStaff
            )
        );
        for &(pid, _, _) in &kinds.iter().find(|k| k.name == "package").unwrap().records {
            let parent = filing_package::get_package(&store, v, pid).await.is_ok();
            let child = roster::list_roster(&store, v, pid, false).await.is_ok();
            assert!(!child || parent, "{} roster of package {pid}", v.username);
            assert!(
                !full || child == parent,
                "{} roster of package {pid}",
                v.username
            );
        }
        for &(cid, _, _) in &kinds.iter().find(|k| k.name == "class").unwrap().records {
            let parent = running::get_class(&store, v, cid, today()).await.is_ok();
            let certs = certificates::list_certificates(&store, v, cid)
                .await
                .is_ok();
            let arch = archive::get_archive(&store, v, cid).await.is_ok();
            for (what, child) in [("certificates", certs), ("archive", arch)] {
                assert!(!child || parent, "{} {what} of class {cid}", v.username);
                assert!(
                    !full || child == parent,
                    "{} {what} of class {cid}",
                    v.username
                );
            }
        }
    }
    assert!(checked > 1000, "only {checked} checks");
}
