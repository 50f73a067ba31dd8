//! The quota queue under concurrency over HTTP (R-FIL-6, SECURITY.md S9), on each backend:
//! 64 concurrent `POST /api/v1/packages/{id}/submit` — complete filing packages, every check run
//! (R-FIL-1…8), the only way into the queue — race for the last k slots, k ∈ {0, 1, 3, 7},
//! `ROUNDS_PER_K` rounds each: every answer is 200 (never 5xx), exactly k are granted, the rest
//! wait in submission order, no slot or place is given twice; then a withdrawal over HTTP
//! promotes the first waiting filing whose institution's cap allows. The packages are prepared
//! before each race (not timed); the store-level race (`crates/store/tests/queue.rs`) runs 100
//! rounds.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use crate::rounds::{actor_of, performance, round, signed};
use axum::body::Body;
use axum::http::{Method, Request, header};
use peixun_domain::queue::{Capacity, Waiting, allocate, is_settled};
use peixun_domain::workflow::round::Half;
use peixun_store::Backend;
use peixun_store::ready_package::{self, ReadyPackage};
use serde_json::Value as J;
use std::collections::{BTreeSet, HashMap};
use tower::ServiceExt;

const KS: [u32; 4] = [0, 1, 3, 7];
/// Rounds per k. Each round prepares 66 complete packages (documents, a 24-person roster, a
/// teacher) through the services before its race, so fewer rounds than the store-level race.
const ROUNDS_PER_K: usize = 5;
const CLIENTS: usize = 64;
/// Slots already taken before each race.
const PREFILL: u32 = 2;

fn global_cap(p: u32) -> u32 {
    p.div_ceil(2)
}

async fn call(app: &TestApp, method: Method, path: &str, token: &str, body: Option<J>) -> (u16, J) {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(v) => {
            b = b.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let resp = app
        .router
        .clone()
        .oneshot(b.body(body).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(J::Null))
}

fn holding(all: &[J]) -> Vec<i64> {
    all.iter()
        .filter(|f| f["slot_state"] == "holding")
        .map(|f| f["id"].as_i64().unwrap())
        .collect()
}

async fn s9_64_http_clients_race_for_the_last_k_slots(backend: Backend) {
    let app = TestApp::new(backend).await;
    let started = std::time::Instant::now();
    // From the second round on both institutions sign with R-CAP-3: record C and S once.
    performance(&app, app.inst_a, 100, "95").await;
    performance(&app, app.inst_b, 100, "95").await;
    let tok = |who: Who| {
        let app = &app;
        async move { app.session(who).await.unwrap().token.clone() }
    };
    let clients = [
        (Who::InstAAdmin, tok(Who::InstAAdmin).await),
        (Who::InstBAdmin, tok(Who::InstBAdmin).await),
        (Who::InstAStaff, tok(Who::InstAStaff).await),
        (Who::InstBAdmin, tok(Who::InstBAdmin).await),
    ];
    let staff = tok(Who::CentreStaff).await;
    let (a_token, b_token) = (tok(Who::InstAAdmin).await, tok(Who::InstBAdmin).await);
    let mut race_time = std::time::Duration::ZERO;
    let (mut total_granted, mut total_waiting, mut total_promoted) = (0u32, 0usize, 0usize);
    let mut n = 0;
    for k in KS {
        for _ in 0..ROUNDS_PER_K {
            n += 1;
            let quota = PREFILL + k;
            let r = round(&app, Half::Other, &format!("HTTP并发第{n}批"), quota, false).await;
            let (_, ag_a) = signed(&app, r, Who::InstAAdmin, 1).await;
            let (_, ag_b) = signed(&app, r, Who::InstBAdmin, 1).await;
            let agreement = |who: Who| match who {
                Who::InstBAdmin => ag_b,
                _ => ag_a,
            };
            let caps: HashMap<i64, u32> = [
                (app.inst_a, global_cap(quota)),
                (app.inst_b, global_cap(quota)),
            ]
            .into_iter()
            .collect();
            // Complete packages, prepared before the race (not timed).
            let prepare = |who: Who| {
                let app = &app;
                let ag = agreement(who);
                async move {
                    let start = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
                    let spec = ReadyPackage::new(ag, "育婴员", "初级", start);
                    ready_package::prepare(
                        &app.store,
                        &app.state.files,
                        &app.state.roster_key,
                        &actor_of(app, who),
                        &spec,
                        app.clock_now(),
                    )
                    .await
                    .unwrap()
                }
            };
            let submit_path = |id: i64| format!("/api/v1/packages/{id}/submit");
            // The first PREFILL slots go before the race (A, then B).
            for (who, token) in clients.iter().take(PREFILL as usize) {
                let id = prepare(*who).await;
                let (s, v) = call(&app, Method::POST, &submit_path(id), token, None).await;
                assert_eq!(s, 200, "{v}");
            }
            let mut prepared = Vec::with_capacity(CLIENTS);
            for c in 0..CLIENTS {
                let (who, token) = clients[c % clients.len()].clone();
                prepared.push((prepare(who).await, token));
            }
            let race = std::time::Instant::now();
            let mut tasks = Vec::with_capacity(CLIENTS);
            for (id, token) in prepared {
                let router = app.router.clone();
                let req = Request::builder()
                    .method(Method::POST)
                    .uri(submit_path(id))
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap();
                tasks.push(tokio::spawn(async move {
                    let resp = router.oneshot(req).await.unwrap();
                    let status = resp.status().as_u16();
                    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
                        .await
                        .unwrap();
                    (
                        status,
                        serde_json::from_slice::<J>(&bytes).unwrap_or(J::Null),
                    )
                }));
            }
            let mut answers = Vec::with_capacity(CLIENTS);
            for t in tasks {
                answers.push(t.await.expect("task"));
            }
            race_time += race.elapsed();
            for (s, v) in &answers {
                assert_eq!(*s, 200, "every submission is accepted (no 5xx): {v}");
            }
            let granted_now = answers
                .iter()
                .filter(|(_, v)| v["filing"]["slot_state"] == "holding")
                .count() as u32;
            assert_eq!(granted_now, k, "exactly k granted in the race (round {n})");
            // The queue as the centre sees it.
            let (s, list) = call(
                &app,
                Method::GET,
                &format!("/api/v1/rounds/{r}/filings"),
                &staff,
                None,
            )
            .await;
            assert_eq!(s, 200);
            let all = list.as_array().unwrap().clone();
            assert_eq!(all.len(), CLIENTS + PREFILL as usize);
            let seqs: Vec<i64> = all
                .iter()
                .map(|f| f["queue_seq"].as_i64().unwrap())
                .collect();
            assert_eq!(
                seqs,
                (1..=all.len() as i64).collect::<Vec<_>>(),
                "places 1..=n, none twice"
            );
            let ids: BTreeSet<i64> = all.iter().map(|f| f["id"].as_i64().unwrap()).collect();
            assert_eq!(ids.len(), all.len());
            let held = holding(&all);
            assert_eq!(
                held.len() as u32,
                quota,
                "the quota is full, never exceeded"
            );
            let slots: BTreeSet<i64> = all.iter().filter_map(|f| f["slot_no"].as_i64()).collect();
            assert_eq!(slots.len(), held.len(), "no slot twice");
            assert!(slots.iter().all(|s| (1..=quota as i64).contains(s)));
            // Grants follow submission order within caps: what the pure allocation gives.
            let w: Vec<Waiting<i64, i64>> = all
                .iter()
                .map(|f| Waiting {
                    filing: f["id"].as_i64().unwrap(),
                    institution: f["institution_id"].as_i64().unwrap(),
                })
                .collect();
            let mut cap = Capacity {
                round_left: quota,
                cap_left: caps.clone(),
            };
            let want: BTreeSet<i64> = allocate(&mut cap, &w).into_iter().collect();
            assert_eq!(held.iter().copied().collect::<BTreeSet<_>>(), want);
            assert!(
                all.windows(2)
                    .all(|p| p[0]["submitted_at"].as_str() <= p[1]["submitted_at"].as_str())
            );
            total_granted += k;
            total_waiting += all.len() - held.len();
            // Release: the last holding filing is withdrawn by its institution; the slot goes to
            // the first waiting filing whose institution has cap left.
            let x = all
                .iter()
                .rev()
                .find(|f| f["slot_state"] == "holding")
                .unwrap()
                .clone();
            let x_inst = x["institution_id"].as_i64().unwrap();
            let mut cap_left = caps.clone();
            for f in all.iter().filter(|f| f["slot_state"] == "holding") {
                *cap_left
                    .get_mut(&f["institution_id"].as_i64().unwrap())
                    .unwrap() -= 1;
            }
            *cap_left.get_mut(&x_inst).unwrap() += 1;
            let expected = all
                .iter()
                .filter(|f| f["slot_state"] == "waiting")
                .find(|f| cap_left[&f["institution_id"].as_i64().unwrap()] > 0)
                .map(|f| f["id"].as_i64().unwrap());
            let token = if x_inst == app.inst_a {
                &a_token
            } else {
                &b_token
            };
            let (s, v) = call(
                &app,
                Method::POST,
                &format!("/api/v1/filings/{}/withdraw", x["id"]),
                token,
                None,
            )
            .await;
            assert_eq!(s, 200, "{v}");
            assert_eq!(v["status"], "withdrawn");
            let (_, after) = call(
                &app,
                Method::GET,
                &format!("/api/v1/rounds/{r}/filings"),
                &staff,
                None,
            )
            .await;
            let after = after.as_array().unwrap().clone();
            let mut want_held: BTreeSet<i64> = held.iter().copied().collect();
            want_held.remove(&x["id"].as_i64().unwrap());
            if let Some(e) = expected {
                want_held.insert(e);
                total_promoted += 1;
            }
            assert_eq!(
                holding(&after).into_iter().collect::<BTreeSet<_>>(),
                want_held,
                "round {n}: the right filing promoted"
            );
            // Settled: nothing waiting could still be granted.
            let mut left = caps.clone();
            for f in after.iter().filter(|f| f["slot_state"] == "holding") {
                *left
                    .get_mut(&f["institution_id"].as_i64().unwrap())
                    .unwrap() -= 1;
            }
            let waiting: Vec<Waiting<i64, i64>> = after
                .iter()
                .filter(|f| f["slot_state"] == "waiting")
                .map(|f| Waiting {
                    filing: f["id"].as_i64().unwrap(),
                    institution: f["institution_id"].as_i64().unwrap(),
                })
                .collect();
            let round_left = quota - holding(&after).len() as u32;
            assert!(is_settled(
                &Capacity {
                    round_left,
                    cap_left: left
                },
                &waiting
            ));
        }
    }
    let report = peixun_store::audit::verify(&app.store).await.unwrap();
    assert!(report.is_ok(), "audit chain intact: {report:?}");
    eprintln!(
        "{backend:?}: {} rounds × 64 concurrent HTTP package submissions: {total_granted} granted in the races, \
         {total_waiting} waiting, {total_promoted} promoted on release; {:.1} s in all, {:.1} s in the races",
        KS.len() * ROUNDS_PER_K,
        started.elapsed().as_secs_f64(),
        race_time.as_secs_f64()
    );
}

both_backends!(s9_64_http_clients_race_for_the_last_k_slots);
