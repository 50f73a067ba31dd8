//! `peixun bench queue`: how many filings per second the quota queue (R-FIL-6, S9) takes with
//! many concurrent clients, on the store it is given. It sets up a scratch round (its own
//! institutions, applications and agreements, all through the services and audited) and prepares
//! `submissions` complete filing packages ([`crate::ready_package`]: documents, a roster of 20+
//! valid people, schedule); then `clients` tasks submit them as fast as they can through
//! [`crate::filing_package::submit_package`] — every check (R-FIL-1…8) and the queue (R-FIL-6),
//! the one way into the queue. Only the submissions are timed.

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
    pub granted: u32,
    pub waiting: u32,
    /// Wall time of the submissions only (not the setup).
    pub elapsed: std::time::Duration,
    pub submissions_per_sec: f64,
    /// Submissions the store refused (should be 0).
    pub errors: usize,
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
/// most R-CAP-1 allows), then submit `submissions` filings from `clients` concurrent tasks
/// against a quota of `quota`.
pub async fn bench_queue(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    clients: usize,
    quota: u32,
    submissions: usize,
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
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for (c, ids) in packages.into_iter().enumerate() {
        let store = store.clone();
        let a = inst_actors[c].clone();
        tasks.push(tokio::spawn(async move {
            let mut errors = 0usize;
            for id in ids {
                let r = ready_package::submit(&store, &a, id, Utc::now()).await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "bench submission failed");
                    errors += 1;
                }
            }
            errors
        }));
    }
    let mut errors = 0;
    for t in tasks {
        errors += t
            .await
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("bench task: {e}"))))?;
    }
    let elapsed = started.elapsed();
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
        granted,
        waiting,
        elapsed,
        submissions_per_sec: submissions as f64 / elapsed.as_secs_f64().max(1e-9),
        errors,
    })
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
