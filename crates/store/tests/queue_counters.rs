//! The quota queue's bounded paths agree with the rule recomputed from scratch (R-FIL-6,
//! SECURITY.md S9, issue 12), on SQLite and PostgreSQL.
//!
//! Random sequences of submissions, withdrawals, rejections, cap and quota changes and
//! terminations run against the store, whose submissions look at the new filing only and whose
//! releases look at the head of the waiting list, with counters. Beside it a model keeps the
//! same queue and after every step recomputes it from scratch: the whole waiting list through
//! `peixun_domain::queue::allocate`, each grant taking the lowest free slot number in 1..=P —
//! what the store did before the counters. After every step the grants, the slot numbers, the
//! waiting list and the counters must agree, and the counters must equal a recount from the rows.
//! Also: a database with filings in every queue state migrates to consistent counters.

mod support;

use chrono::Duration;
use peixun_domain::queue::{Capacity, Waiting, allocate};
use peixun_domain::workflow::agreement::TerminationCause;
use peixun_domain::workflow::round::Half;
use peixun_store::filings::{self, SlotState};
use peixun_store::migration::m20261203_000160_queue_counters::backfill;
use peixun_store::queue::{QueueCounters, counters, recount};
use peixun_store::{Store, StoreError, agreements, audit, rounds};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::ConnectionTrait;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use support::*;

support::on_both_backends!(
    r_fil_6_counters_agree_with_allocation_from_scratch_random_sequences,
    r_fil_6_existing_queue_migrates_to_consistent_counters,
);

const SEQUENCES: u64 = 6;
const STEPS: i64 = 25;
const INSTITUTIONS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Holding(u32),
    Waiting,
    Gone,
}

/// The queue recomputed from scratch after every step.
#[derive(Debug)]
struct Model {
    quota: u32,
    /// Agreement → cap while in force, `None` once terminated.
    caps: BTreeMap<i64, Option<u32>>,
    /// (filing, agreement, slot), in queue order.
    filings: Vec<(i64, i64, Slot)>,
}

impl Model {
    fn held_by(&self) -> BTreeMap<i64, u32> {
        let mut m: BTreeMap<i64, u32> = self.caps.keys().map(|&a| (a, 0)).collect();
        for (_, a, s) in &self.filings {
            if matches!(s, Slot::Holding(_)) {
                *m.entry(*a).or_default() += 1;
            }
        }
        m
    }

    /// The whole waiting list through `allocate`, lowest free slot number first.
    fn settle(&mut self) {
        let held_by = self.held_by();
        let held: u32 = held_by.values().sum();
        let mut capacity = Capacity {
            round_left: self.quota.saturating_sub(held),
            cap_left: self
                .caps
                .iter()
                .filter_map(|(a, c)| c.map(|c| (*a, c.saturating_sub(held_by[a]))))
                .collect::<HashMap<_, _>>(),
        };
        let waiting: Vec<Waiting<usize, i64>> = self
            .filings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.2 == Slot::Waiting)
            .map(|(i, f)| Waiting {
                filing: i,
                institution: f.1,
            })
            .collect();
        let mut used: BTreeSet<u32> = self
            .filings
            .iter()
            .filter_map(|f| match f.2 {
                Slot::Holding(n) => Some(n),
                _ => None,
            })
            .collect();
        for i in allocate(&mut capacity, &waiting) {
            let n = (1..=self.quota)
                .find(|n| !used.contains(n))
                .expect("a free slot number within the quota");
            used.insert(n);
            self.filings[i].2 = Slot::Holding(n);
        }
    }

    fn expected_counters(&self) -> QueueCounters {
        let slot_nos: BTreeSet<u32> = self
            .filings
            .iter()
            .filter_map(|f| match f.2 {
                Slot::Holding(n) => Some(n),
                _ => None,
            })
            .collect();
        QueueCounters {
            slots_held: slot_nos.len() as u32,
            slot_nos,
            held_by_agreement: self.held_by(),
        }
    }

    /// A filing still in the queue (holding or waiting), if any.
    fn pick_live(&self, rng: &mut StdRng) -> Option<(i64, i64)> {
        let live: Vec<(i64, i64)> = self
            .filings
            .iter()
            .filter(|f| f.2 != Slot::Gone)
            .map(|f| (f.0, f.1))
            .collect();
        (!live.is_empty()).then(|| live[rng.random_range(0..live.len())])
    }

    fn pick_signed(&self, rng: &mut StdRng) -> Option<i64> {
        let signed: Vec<i64> = self
            .caps
            .iter()
            .filter(|(_, c)| c.is_some())
            .map(|(a, _)| *a)
            .collect();
        (!signed.is_empty()).then(|| signed[rng.random_range(0..signed.len())])
    }
}

/// What the store shows: (filing, agreement, slot) in queue order.
async fn store_queue(store: &Store, round_id: i64) -> Vec<(i64, i64, Slot)> {
    filings::list_round_filings(store, &centre_admin(), round_id)
        .await
        .unwrap()
        .into_iter()
        .map(|f| {
            let slot = match f.slot_state {
                SlotState::Holding => Slot::Holding(f.slot_no.expect("a holding filing's slot")),
                SlotState::Waiting => Slot::Waiting,
                _ => Slot::Gone,
            };
            (f.id, f.agreement_id, slot)
        })
        .collect()
}

async fn check(store: &Store, round_id: i64, model: &Model, what: &str) {
    assert_eq!(
        store_queue(store, round_id).await,
        model.filings,
        "grants after {what}"
    );
    let stored = counters(store.db(), round_id).await.unwrap();
    assert_eq!(
        stored,
        recount(store.db(), round_id).await.unwrap(),
        "counters = recount after {what}"
    );
    assert_eq!(stored, model.expected_counters(), "counters after {what}");
}

async fn r_fil_6_counters_agree_with_allocation_from_scratch_random_sequences(store: Store) {
    for seq in 0..SEQUENCES {
        let seed = 0x5eed_0000 + seq;
        let mut rng = StdRng::seed_from_u64(seed);
        let quota = rng.random_range(1..=6u32);
        let label = format!("计数器核对第{seq}批");
        let r = published_round(&store, 2026, Half::Other, &label, quota).await;
        let mut model = Model {
            quota,
            caps: BTreeMap::new(),
            filings: Vec::new(),
        };
        let mut inst_of = HashMap::new();
        for i in 0..INSTITUTIONS {
            let inst = institution(&store, 600 + (seq as u32) * 10 + i as u32, false).await;
            let a = signed(&store, r.id, inst, 6).await;
            let cap = agreements::get_agreement(&store, &centre_admin(), a)
                .await
                .unwrap()
                .cap;
            model.caps.insert(a, Some(cap));
            inst_of.insert(a, inst);
        }
        let mut log = Vec::new();
        for step in 0..STEPS {
            let now = t0() + Duration::seconds(step);
            let roll = rng.random_range(0..100u32);
            let what;
            if roll < 50 {
                let ags: Vec<i64> = model.caps.keys().copied().collect();
                let a = ags[rng.random_range(0..ags.len())];
                what = format!("submit under agreement {a}");
                let res = filings::submit_without_package(
                    &store,
                    &inst_user(inst_of[&a], 1),
                    submission(a),
                    now,
                )
                .await;
                if model.caps[&a].is_some() {
                    let f = res.unwrap_or_else(|e| panic!("seed {seed:#x}, {what}: {e:?}"));
                    model.filings.push((f.id, a, Slot::Waiting));
                } else {
                    assert!(res.is_err(), "R-AGR-1: a terminated agreement takes none");
                }
            } else if roll < 80 {
                let Some((f, a)) = model.pick_live(&mut rng) else {
                    continue;
                };
                let res = if roll < 65 {
                    what = format!("withdraw filing {f}");
                    filings::withdraw_filing(&store, &inst_user(inst_of[&a], 0), f, now).await
                } else {
                    what = format!("reject filing {f}");
                    filings::reject_filing(&store, &centre_staff(), f, "材料不全", now).await
                };
                res.unwrap_or_else(|e| panic!("seed {seed:#x}, {what}: {e:?}"));
                model.filings.iter_mut().find(|x| x.0 == f).unwrap().2 = Slot::Gone;
            } else if roll < 88 {
                let Some(a) = model.pick_signed(&mut rng) else {
                    continue;
                };
                let cap = rng.random_range(0..=4u32);
                what = format!("cap of agreement {a} to {cap}");
                match agreements::override_cap(&store, &centre_admin(), a, cap, "核对", now).await
                {
                    Ok(v) => {
                        model.caps.insert(a, Some(v.cap));
                    }
                    Err(e) => assert!(
                        matches!(e, StoreError::Validation { .. }),
                        "seed {seed:#x}, {what}: {e:?}"
                    ),
                }
            } else if roll < 96 {
                let base = rng.random_range(1..=8u32);
                what = format!("quota to {base}");
                let input = round_input(2026, Half::Other, &label, base);
                match rounds::update_round(&store, &centre_admin(), r.id, &input, Some("核对"), now)
                    .await
                {
                    Ok(v) => model.quota = v.planned_total,
                    Err(e) => assert!(
                        matches!(e, StoreError::Validation { .. }),
                        "seed {seed:#x}, {what}: {e:?}"
                    ),
                }
            } else {
                let Some(a) = model.pick_signed(&mut rng) else {
                    continue;
                };
                what = format!("terminate agreement {a}");
                agreements::terminate_agreement(
                    &store,
                    &centre_admin(),
                    a,
                    TerminationCause::ByCentre,
                    "核对中止",
                    now,
                )
                .await
                .unwrap_or_else(|e| panic!("seed {seed:#x}, {what}: {e:?}"));
                model.caps.insert(a, None);
                for f in model.filings.iter_mut().filter(|f| f.1 == a) {
                    f.2 = Slot::Gone;
                }
            }
            model.settle();
            log.push(what);
            check(
                &store,
                r.id,
                &model,
                &format!("seed {seed:#x}, steps {log:?}"),
            )
            .await;
        }
    }
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn r_fil_6_existing_queue_migrates_to_consistent_counters(store: Store) {
    // Filings in every queue state: holding (with a gap in the slot numbers), waiting,
    // released, in two rounds.
    let mut rounds_ = Vec::new();
    for (n, label) in ["迁移核对一", "迁移核对二"].iter().enumerate() {
        // First agreements (R-CAP-2): new institutions for each round.
        let a = institution(&store, 1 + 2 * n as u32, false).await;
        let b = institution(&store, 2 + 2 * n as u32, false).await;
        let r = published_round(&store, 2026, Half::Other, label, 4 + n as u32).await;
        let ag_a = signed(&store, r.id, a, 6).await;
        let ag_b = signed(&store, r.id, b, 6).await;
        let mut ids = Vec::new();
        for i in 0..7 {
            let (inst, ag) = if i % 2 == 0 { (a, ag_a) } else { (b, ag_b) };
            let f = filings::submit_without_package(
                &store,
                &inst_user(inst, 1),
                submission(ag),
                later(i),
            )
            .await
            .unwrap();
            ids.push((f.id, inst));
        }
        // Slot 1 released and given to the first waiting filing, then the last holder leaves.
        filings::withdraw_filing(&store, &inst_user(ids[0].1, 0), ids[0].0, later(10))
            .await
            .unwrap();
        filings::reject_filing(&store, &centre_staff(), ids[3].0, "材料不全", later(11))
            .await
            .unwrap();
        filings::withdraw_filing(&store, &inst_user(ids[6].1, 0), ids[6].0, later(12))
            .await
            .unwrap();
        rounds_.push(r.id);
    }
    let before: Vec<QueueCounters> = {
        let mut v = Vec::new();
        for &r in &rounds_ {
            v.push(recount(store.db(), r).await.unwrap());
        }
        v
    };
    // As if the counters had never been kept: the state before the migration.
    let db = store.write_db();
    db.execute_unprepared("UPDATE rounds SET slots_held = 0, next_slot_no = 1")
        .await
        .unwrap();
    db.execute_unprepared("UPDATE agreements SET slots_held = 0")
        .await
        .unwrap();
    db.execute_unprepared("DELETE FROM quota_free_slots")
        .await
        .unwrap();
    backfill(db).await.unwrap();
    for (i, &r) in rounds_.iter().enumerate() {
        assert_eq!(counters(store.db(), r).await.unwrap(), before[i]);
    }
    // And the queue goes on from them: a release and a submission agree with a recount.
    let r = rounds_[0];
    let all = filings::list_round_filings(&store, &centre_admin(), r)
        .await
        .unwrap();
    let holder = all
        .iter()
        .find(|f| f.slot_state == SlotState::Holding)
        .unwrap();
    filings::withdraw_filing(
        &store,
        &inst_user(holder.institution_id, 0),
        holder.id,
        later(20),
    )
    .await
    .unwrap();
    let ag = agreements::list_agreements(&store, &centre_admin(), r)
        .await
        .unwrap()[0]
        .clone();
    filings::submit_without_package(
        &store,
        &inst_user(ag.institution_id, 1),
        submission(ag.id),
        later(21),
    )
    .await
    .unwrap();
    assert_eq!(
        counters(store.db(), r).await.unwrap(),
        recount(store.db(), r).await.unwrap()
    );
}
