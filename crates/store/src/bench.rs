//! `peixun bench queue`: how many filings per second the quota queue (R-FIL-6, S9) takes with
//! many concurrent clients, on the store it is given. It sets up a scratch round (its own
//! institutions, applications and agreements, all through the services and audited) and prepares
//! `submissions` complete filing packages ([`crate::ready_package`]: documents, a roster of 20+
//! valid people, schedule); then `clients` tasks submit them as fast as they can through
//! [`crate::filing_package::submit_package`] — every check (R-FIL-1…8) and the queue (R-FIL-6),
//! the one way into the queue. Only the submissions are timed; each one's answer time is kept
//! (p50, p99, max).
//!
//! `prefill` filings are put in the round first, untimed, through the queue's own path
//! ([`crate::filings::submit_in_txn`], many per transaction, without a package: they only
//! occupy the queue), so that the timed submissions meet a round of that size — quota 20,000
//! without preparing 40,000 packages.

use crate::agreements::{self, ApplicationInput, SignInput};
use crate::files::FileStore;
use crate::filings::{self, SlotState};
use crate::institutions::{self, InstitutionInput, InstitutionStatus, Qualification};
use crate::ready_package::{self, ReadyPackage};
use crate::roster::RosterKey;
use crate::rounds::{self, RoundInput};
use crate::{Actor, Result, Store, StoreError};
use chrono::{Datelike, Duration, Utc};
use peixun_domain::role::Role;
use peixun_domain::workflow::round::Half;
use serde::Serialize;
use std::time::Instant;

/// What the bench measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub clients: usize,
    pub quota: u32,
    pub submissions: usize,
    /// Filings put in the round before the clock started.
    pub prefilled: usize,
    /// Slots held and filings waiting in the round at the end (prefill included).
    pub granted: u32,
    pub waiting: u32,
    /// Wall time of the submissions only (not the setup).
    pub elapsed: std::time::Duration,
    pub submissions_per_sec: f64,
    /// Answer time of one submission (call to return), over the timed submissions.
    pub p50: std::time::Duration,
    pub p99: std::time::Duration,
    pub max: std::time::Duration,
    /// Submissions the store refused (should be 0).
    pub errors: usize,
}

impl BenchReport {
    /// Exactly the quota granted (or every filing, when fewer were filed) and every other
    /// filing waiting, with no errors.
    pub fn exact(&self) -> bool {
        let filed = (self.submissions + self.prefilled) as u32;
        self.errors == 0
            && self.granted == self.quota.min(filed)
            && self.granted + self.waiting == filed
    }
}

/// The `q`-quantile of sorted `v` (nearest rank).
fn quantile(v: &[std::time::Duration], q: f64) -> std::time::Duration {
    if v.is_empty() {
        return std::time::Duration::ZERO;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// The occupation every bench institution is approved for.
const OCCUPATION: &str = "家政服务员";
const LEVEL: &str = "初级";

/// A GB 32100 credit code with a valid check character for `n`.
pub(crate) fn bench_credit_code(prefix: &str, n: u64) -> String {
    const A: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let first17 = format!("{prefix}{:09}", n % 1_000_000_000);
    let sum: usize = first17
        .chars()
        .zip(W)
        .map(|(c, w)| A.find(c).unwrap_or(0) * w)
        .sum();
    let check = (31 - sum % 31) % 31;
    format!("{first17}{}", A.chars().nth(check).unwrap_or('0'))
}

fn actor(role: Role, institution_id: Option<i64>, name: &str) -> Actor {
    Actor {
        user_id: None,
        username: name.to_string(),
        role: Some(role),
        institution_id,
        ip: None,
        request_id: None,
    }
}

/// Set up a scratch round with `clients` institutions (each with an agreement whose cap is the
/// most R-CAP-1 allows), put `prefill` filings in it, then submit `submissions` filings from
/// `clients` concurrent tasks against a quota of `quota`.
pub async fn bench_queue(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    clients: usize,
    quota: u32,
    submissions: usize,
    prefill: usize,
) -> Result<BenchReport> {
    let clients = clients.clamp(1, 1000);
    let now = Utc::now();
    let tag = now.timestamp_micros() as u64;
    let system = Actor::system("bench");
    let admin = actor(Role::CentreAdmin, None, "bench-centre-admin");
    let today = crate::workflow_glue::today(now);
    let round = rounds::create_round(
        store,
        &admin,
        &RoundInput {
            year: today.year(),
            half: Half::Other,
            label: format!("压测批次-{tag}"),
            base_planned: quota.max(1),
            window_start: today - Duration::days(1),
            window_end: today + Duration::days(30),
            target_groups: Vec::new(),
            call_text: "队列压测（peixun bench queue）".into(),
        },
        now,
    )
    .await?;
    rounds::publish_round(store, &admin, round.id, now).await?;
    let mut inst_actors = Vec::with_capacity(clients);
    let mut agreement_ids = Vec::with_capacity(clients);
    for i in 0..clients {
        let n = (tag % 1_000_000) * 1000 + i as u64;
        let inst = institutions::create_institution(
            store,
            &system,
            &InstitutionInput {
                name: format!("压测培训机构{tag}-{i}"),
                credit_code: bench_credit_code("52440105", n),
                confirm_checksum_warning: false,
                registered_address: format!("广州市海珠区压测路{i}号"),
                district: None,
                contact_person: "压测".into(),
                contact_phone: "13800138000".into(),
                qualifications: vec![Qualification {
                    occupation: OCCUPATION.into(),
                    level: LEVEL.into(),
                }],
                major_project_capable: false,
                major_projects: Vec::new(),
                status: InstitutionStatus::Active,
            },
            now,
        )
        .await?;
        let a = actor(
            Role::InstitutionStaff,
            Some(inst.id),
            &format!("bench-inst-{i}"),
        );
        let app = agreements::apply_to_round(
            store,
            &a,
            &ApplicationInput {
                round_id: round.id,
                occupations: vec![OCCUPATION.into()],
                classes_requested: 1000,
                note: String::new(),
            },
            now,
        )
        .await?;
        let signed = agreements::sign_agreement(
            store,
            &admin,
            &SignInput {
                application_id: app.id,
                first_cap: Some(10_000),
                override_cap: None,
            },
            now,
        )
        .await?;
        agreement_ids.push(signed.id);
        inst_actors.push(a);
    }
    // The earliest start R-FIL-3 allows for a submission today, inside the loaded calendar.
    let policy = peixun_domain::policy::Policy::haizhu_default();
    let start_date = ready_package::first_possible_start(
        &crate::calendar::load(store.db()).await?,
        &policy,
        today,
        today,
        9,
    )
    .ok_or_else(|| {
        StoreError::validation(
            "CAL_YEAR_NOT_LOADED",
            format!("{today}起120天内没有满足提前10个工作日且已载入节假日表的开班日期，请先导入下一年度节假日表"),
            "start_date",
        )
    })?;
    // Packages prepared before the clock starts; one teacher per package (same dates).
    let mut packages: Vec<Vec<i64>> = vec![Vec::new(); clients];
    for k in 0..submissions {
        let c = k % clients;
        let mut spec = ReadyPackage::new(agreement_ids[c], OCCUPATION, LEVEL, start_date);
        spec.roster_seed = tag.wrapping_add(k as u64);
        spec.trainees = 20;
        packages[c]
            .push(ready_package::prepare(store, files, key, &inst_actors[c], &spec, now).await?);
    }
    prefill_round(
        store,
        &inst_actors,
        &agreement_ids,
        start_date,
        prefill,
        now,
    )
    .await?;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for (c, ids) in packages.into_iter().enumerate() {
        let store = store.clone();
        let a = inst_actors[c].clone();
        tasks.push(tokio::spawn(async move {
            let mut errors = 0usize;
            let mut times = Vec::with_capacity(ids.len());
            for id in ids {
                let t = Instant::now();
                let r = ready_package::submit(&store, &a, id, Utc::now()).await;
                times.push(t.elapsed());
                if let Err(e) = r {
                    tracing::warn!(error = %e, "bench submission failed");
                    errors += 1;
                }
            }
            (errors, times)
        }));
    }
    let mut errors = 0;
    let mut times = Vec::with_capacity(submissions);
    for t in tasks {
        let (e, ts) = t
            .await
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("bench task: {e}"))))?;
        errors += e;
        times.extend(ts);
    }
    let elapsed = started.elapsed();
    times.sort();
    let all = filings::list_round_filings(store, &system, round.id).await?;
    let granted = all
        .iter()
        .filter(|f| f.slot_state == SlotState::Holding)
        .count() as u32;
    let waiting = all
        .iter()
        .filter(|f| f.slot_state == SlotState::Waiting)
        .count() as u32;
    Ok(BenchReport {
        clients,
        quota,
        submissions,
        prefilled: prefill,
        granted,
        waiting,
        elapsed,
        submissions_per_sec: submissions as f64 / elapsed.as_secs_f64().max(1e-9),
        p50: quantile(&times, 0.50),
        p99: quantile(&times, 0.99),
        max: times.last().copied().unwrap_or_default(),
        errors,
    })
}

/// Put `n` filings in the round, untimed, round-robin over the bench institutions, through the
/// queue's one path ([`filings::submit_in_txn`]), up to 500 per transaction. They carry no
/// package: they only occupy the queue (holding, then waiting, in order).
async fn prefill_round(
    store: &Store,
    actors: &[Actor],
    agreement_ids: &[i64],
    start_date: chrono::NaiveDate,
    n: usize,
    now: chrono::DateTime<Utc>,
) -> Result<()> {
    let now = crate::db_time(now);
    let mut done = 0;
    while done < n {
        let txn = store.begin_write().await?;
        let batch = (n - done).min(500);
        for k in done..done + batch {
            let c = k % actors.len();
            let input = filings::FilingSubmission {
                agreement_id: agreement_ids[c],
                occupation: OCCUPATION.into(),
                level: LEVEL.into(),
                start_date,
            };
            filings::submit_in_txn(
                store,
                &txn,
                &actors[c],
                actors[c].institution_id.unwrap_or_default(),
                OCCUPATION,
                LEVEL,
                &input,
                true,
                now,
            )
            .await?;
        }
        txn.commit().await?;
        done += batch;
    }
    Ok(())
}

/// Does the database hold anything (institutions or rounds)? The CLI refuses to bench a
/// database with data unless told to.
pub async fn has_data(store: &Store) -> Result<bool> {
    use sea_orm::{EntityTrait, PaginatorTrait};
    Ok(crate::entity::institution::Entity::find()
        .count(store.db())
        .await?
        > 0
        || crate::entity::round::Entity::find()
            .count(store.db())
            .await?
            > 0)
}
