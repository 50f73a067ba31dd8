//! `peixun seed --scale district|city|province`: a realistic synthetic district, city or
//! province in a fresh database, for benchmarks (issue 12).
//!
//! **What it builds.** Institutions with valid credit codes, qualifications and teachers (valid
//! ID numbers); the demo accounts of `serve --demo` (same password, TOTP-exempt like the demo's)
//! attached to institutions A and B; two years of half-yearly rounds (every one closed but the
//! current, which is published) with year plans, applications, agreements whose caps follow
//! R-CAP-* from the previous agreement's confirmed evaluation, filings in every queue state with
//! their complete packages and rosters, quota slots, classes' progress, attendance of every
//! session held, exam results, certificate codes, inspections, inbox messages and monthly
//! reports.
//!
//! **How.** Small things go through the services (directory entries, accounts, plans, rounds
//! and their closing, which marks waiting filings 未获名额 and rolls H1's quota over). Large
//! tables are simulated in memory with a seeded generator ([`names::Rng`]) — the queue with
//! `peixun_domain::queue::allocate`, every state change with the class workflow, caps with
//! `peixun_domain::cap`, evaluations with `peixun_domain::evaluation`, rosters through
//! `validate_roster` and the data/lookup keys — and written in bulk ([`bulk`]) with the store's
//! own entities. `crates/store/tests/seed_scale.rs` reads the result back through the
//! services on both backends.

mod bulk;
mod classes;
mod intents;
mod names;
mod plan;
mod rows;
mod slots;
pub mod verify;

pub use bulk::TableStat;

use crate::entity::{institution, round};
use crate::files::{FileOwner, FileStore};
use crate::filing_package::{DOCUMENT_TYPES, MAX_DOCUMENT_BYTES, QUESTION_BANK};
use crate::pii::RosterKey;
use crate::rounds::{KEY_TARGET_GROUPS, RoundInput, TargetGroup};
use crate::{Actor, Backend, Result, Store, StoreError, db_time};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use classes::{ACTOR, Fil};
use names::{District, Rng};
use peixun_domain::cap::Score;
use peixun_domain::filing::DocumentKind;
use peixun_domain::role::Role;
use peixun_domain::workflow::round::Half;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set, Statement};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

/// Days from a class's start to its planned end (exam included); R-FIL-4 allows 30.
pub(crate) const CLASS_DAYS: i64 = 9;
/// Sessions per class (one a day from the start, 3 hours each).
pub(crate) const SESSIONS: usize = 3;

/// How big.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// A handful of institutions: for tests (seconds).
    Tiny,
    /// About 100 institutions, 2,000 classes, 50,000 enrolments (Haizhu).
    District,
    /// A tenth of the province (Guangzhou's districts).
    City,
    /// 3,000 institutions, 60,000 classes, 1.5 million enrolments (Guangdong).
    Province,
}

impl Scale {
    pub fn parse(s: &str) -> Option<Scale> {
        match s {
            "tiny" => Some(Scale::Tiny),
            "district" => Some(Scale::District),
            "city" => Some(Scale::City),
            "province" => Some(Scale::Province),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Scale::Tiny => "tiny",
            Scale::District => "district",
            Scale::City => "city",
            Scale::Province => "province",
        }
    }

    pub fn sizes(self) -> Sizes {
        let (institutions, classes, enrolments) = match self {
            Scale::Tiny => (6, 80, 2_000),
            Scale::District => (100, 2_000, 50_000),
            Scale::City => (300, 6_000, 150_000),
            Scale::Province => (3_000, 60_000, 1_500_000),
        };
        Sizes {
            scale: self,
            institutions,
            classes,
            enrolments,
        }
    }

    fn districts(self) -> &'static [District] {
        match self {
            Scale::Tiny | Scale::District => names::HAIZHU,
            Scale::City => names::GUANGZHOU,
            Scale::Province => names::GUANGDONG,
        }
    }
}

/// The targets: institutions exactly; classes and enrolments approximately (the simulation
/// decides: caps, refusals, the queue). The report gives what was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sizes {
    pub scale: Scale,
    pub institutions: usize,
    pub classes: usize,
    pub enrolments: usize,
}

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub sizes: Sizes,
    /// The generator's seed: the same seed and `now` give the same data.
    pub seed: u64,
    /// "Now" for the data (the open round's classes lie around it).
    pub now: DateTime<Utc>,
}

/// Progress of a long seed (the CLI draws a bar).
pub trait Progress: Send + Sync {
    /// A new phase with `total` steps.
    fn phase(&self, name: &str, total: u64);
    fn inc(&self, n: u64);
}

/// No progress output (tests).
pub struct NoProgress;

impl Progress for NoProgress {
    fn phase(&self, _: &str, _: u64) {}
    fn inc(&self, _: u64) {}
}

#[derive(Debug, Clone, Serialize)]
pub struct RoundSummary {
    pub id: i64,
    pub label: String,
    pub status: String,
    pub filings: u64,
    pub planned: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct BigClass {
    pub filing_id: i64,
    pub package_id: i64,
    pub institution_id: i64,
    pub trainees: usize,
    pub status: String,
}

/// What was seeded, and the ids a benchmark needs.
#[derive(Debug, Clone, Serialize)]
pub struct SeedReport {
    pub scale: Scale,
    pub seed: u64,
    pub today: NaiveDate,
    pub backend: String,
    pub password: String,
    pub accounts: Vec<String>,
    /// Institution of `inst_a_admin` / `inst_a_staff`, and of `inst_b_*`.
    pub institution_a: i64,
    pub institution_b: i64,
    pub rounds: Vec<RoundSummary>,
    pub open_round_id: i64,
    /// The round with the most filings.
    pub busiest_round_id: i64,
    pub busiest_round_filings: u64,
    /// A class of institution A with a 120-trainee roster.
    pub big_class: Option<BigClass>,
    pub institutions: u64,
    pub classes: u64,
    pub enrolments: u64,
    /// Filings by status (`ClassState::code`).
    pub filing_states: BTreeMap<String, u64>,
    /// Rows per table and rows per second.
    pub tables: Vec<TableStat>,
    pub seconds: f64,
    /// Pages and API paths a benchmark can request.
    pub paths: BTreeMap<String, String>,
}

// ------------------------------------------------------------------------------------------
// Shared plan types
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Teacher {
    pub id: i64,
    pub qual: usize,
}

/// R-CAP-3's inputs from an institution's latest agreement.
#[derive(Debug, Clone)]
struct PrevAgreement {
    pub agreement_id: i64,
    pub evaluation_id: i64,
    pub round_label: String,
    pub on_time: u32,
    pub score: Score,
}

#[derive(Debug, Clone)]
struct Inst {
    pub id: i64,
    pub name: String,
    pub district: District,
    pub major: bool,
    /// Relative size (classes per round).
    pub weight: u32,
    /// (occupation, level) as in the directory.
    pub quals: Vec<(String, String)>,
    pub teachers: Vec<Teacher>,
    pub teacher_ids: HashSet<String>,
    pub bookings: HashSet<(i64, NaiveDate, u32)>,
    pub prev: Option<PrevAgreement>,
    pub overdue_years: HashSet<i32>,
    /// Document kind code → file id (the package's `documents`).
    pub documents: BTreeMap<String, String>,
    pub question_bank: String,
    pub first_signed: Option<NaiveDate>,
    /// (start, planned end, trainees) of its classes that ran.
    pub class_spans: Vec<(NaiveDate, NaiveDate, usize)>,
}

#[derive(Debug, Clone)]
struct RoundCtx {
    pub id: i64,
    pub label: String,
    pub planned: u32,
    pub prev_planned: Option<u32>,
    pub window_end: NaiveDate,
    pub apply_at: DateTime<Utc>,
    pub sign_at: DateTime<Utc>,
    pub close_at: Option<DateTime<Utc>>,
    pub open: bool,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone)]
struct Agr {
    pub id: i64,
    pub inst: usize,
    pub cap: u32,
    pub signed_at: DateTime<Utc>,
}

/// The last id written to each table (explicit ids continue from these).
#[derive(Debug, Clone, Default)]
struct Ids {
    pub teacher: i64,
    pub teacher_qual: i64,
    pub application: i64,
    pub agreement: i64,
    pub evaluation: i64,
    pub filing: i64,
    pub package: i64,
    pub entry: i64,
    pub attendance: i64,
    pub mark: i64,
    pub result: i64,
    pub cert: i64,
    pub inspection: i64,
    pub inbox: i64,
    pub report: i64,
    pub slot: i64,
}

/// `day` at `h:m` Asia/Shanghai, as a stored time.
fn at(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    let local = peixun_domain::rules::shanghai()
        .with_ymd_and_hms(day.year(), day.month(), day.day(), h.min(23), m.min(59), 0)
        .single();
    db_time(local.map_or_else(Utc::now, |t| t.with_timezone(&Utc)))
}

/// The Asia/Shanghai date of `t`.
fn day_of(t: DateTime<Utc>) -> NaiveDate {
    crate::workflow_glue::today(t)
}

fn actor(role: Role, institution_id: Option<i64>) -> Actor {
    Actor {
        user_id: None,
        username: ACTOR.into(),
        role: Some(role),
        institution_id,
        ip: None,
        request_id: None,
    }
}

fn seed_err(msg: String) -> StoreError {
    StoreError::Validation {
        code: "SEED",
        message: msg,
        field: None,
    }
}

// ------------------------------------------------------------------------------------------
// The seed
// ------------------------------------------------------------------------------------------

/// Seed a fresh database (no institutions yet, else refused) at `opts.sizes`. `files` and
/// `key` are the data folder's file store and lookup key (as `serve` uses them); the store
/// must have its personal-data keys installed.
pub async fn seed(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    opts: &SeedOptions,
    progress: &dyn Progress,
) -> Result<SeedReport> {
    let started = Instant::now();
    if institution::Entity::find().count(store.db()).await? > 0 {
        return Err(seed_err(
            "数据库中已有机构数据：peixun seed 只写入新建的空数据库（请换一个数据目录或新建 PostgreSQL 数据库）".into(),
        ));
    }
    let keys = store.keys()?;
    let now = db_time(opts.now);
    let today = day_of(now);
    let calendar = crate::calendar::load(store.db()).await?;
    let policy = crate::policies::in_force(store.db(), today).await?;
    let year = today.year();
    for y in [year - 1, year] {
        if !calendar.is_year_loaded(y) {
            return Err(seed_err(format!(
                "{y}年的节假日安排尚未载入：模拟的两年批次需要{}、{}年的安排（peixun calendar import）",
                year - 1,
                year
            )));
        }
    }
    let mut rng = Rng(opts.seed ^ 0x7365_6564_7363_616c);
    let mut bulk = bulk::Bulk::begin(store, progress).await?;
    let system = Actor::system(ACTOR);
    let n = opts.sizes.institutions.max(2);

    // 1. The directory, through the service (audited like any directory entry).
    progress.phase("机构目录 institutions", n as u64);
    let t0 = Instant::now();
    let directory_at = at(
        NaiveDate::from_ymd_opt(year - 1, 1, 2).unwrap_or(today),
        8,
        0,
    );
    let mut insts = Vec::with_capacity(n);
    for (input, district) in plan::institution_inputs(&mut rng, n, opts.sizes.scale.districts()) {
        let v =
            crate::institutions::create_institution(store, &system, &input, directory_at).await?;
        insts.push(Inst {
            id: v.id,
            name: v.name,
            district,
            major: v.major_project_capable,
            weight: 1 + rng.below(3) as u32,
            quals: v
                .qualifications
                .iter()
                .map(|q| (q.occupation.clone(), q.level.clone()))
                .collect(),
            teachers: Vec::new(),
            teacher_ids: HashSet::new(),
            bookings: HashSet::new(),
            prev: None,
            overdue_years: HashSet::new(),
            documents: BTreeMap::new(),
            question_bank: String::new(),
            first_signed: None,
            class_spans: Vec::new(),
        });
        progress.inc(1);
    }
    bulk.note("institutions", n as u64, t0.elapsed());

    // 2. Each institution's package documents (shared by its packages) and first teachers.
    documents(store, files, &mut insts, directory_at, progress, &mut bulk).await?;
    let mut ids = Ids {
        teacher: bulk.max_id("teachers").await?,
        teacher_qual: bulk.max_id("teacher_qualifications").await?,
        ..Ids::default()
    };
    let mut teachers = (Vec::new(), Vec::new());
    for inst in insts.iter_mut() {
        for q in 0..inst.quals.len() {
            plan::new_teacher(
                inst,
                q,
                &mut rng,
                &mut ids,
                &keys.data,
                key,
                directory_at,
                &mut teachers,
            );
        }
    }
    progress.phase(
        "师资 teachers",
        (teachers.0.len() + teachers.1.len()) as u64,
    );
    bulk.insert("teachers", std::mem::take(&mut teachers.0))
        .await?;
    bulk.insert("teacher_qualifications", std::mem::take(&mut teachers.1))
        .await?;

    // 3. The demo accounts (serve --demo's), A and B being the first two institutions.
    let accounts = demo_accounts(store, &insts, directory_at).await?;

    // 4. Rounds, half-year by half-year.
    let mut halves = vec![(year - 1, Half::H1), (year - 1, Half::H2), (year, Half::H1)];
    if today.month() >= 7 {
        halves.push((year, Half::H2));
    }
    let per_round = opts.sizes.classes as f64 / halves.len() as f64;
    let mut summaries = Vec::new();
    let mut cert_counters: HashMap<i32, u32> = HashMap::new();
    let mut big_class = None;
    let mut prev_finished: Option<DateTime<Utc>> = None;
    let (mut classes_total, mut enrolments_total) = (0u64, 0u64);
    let last = halves.len() - 1;
    for (ri, (y, half)) in halves.iter().copied().enumerate() {
        let open = ri == last;
        if ri == 0 || halves[ri - 1].0 != y {
            year_plan(store, y, per_round, now).await?;
        }
        let (ws, we) = match half {
            Half::H1 => (ymd(y, 1, 2), ymd(y, 5, 31)),
            _ => (ymd(y, 7, 1), ymd(y, 11, 30)),
        };
        let created = at(ws, 9, 0);
        let mut sign_at = at(ws + Duration::days(2), 10, 0);
        if let Some(p) = prev_finished {
            sign_at = sign_at.max(at(day_of(p) + Duration::days(4), 10, 0));
        }
        sign_at = sign_at.min(now - Duration::hours(30));
        let apply_at = (sign_at - Duration::days(1)).max(at(ws, 11, 0));
        let close_at = (!open).then(|| at(we + Duration::days(25), 17, 0));
        let ctx = open_round(
            store, y, half, ws, we, per_round, created, apply_at, sign_at, close_at, open,
        )
        .await?;
        let a_cap = open.then_some(intents::A_OPEN_CAP);
        let per_inst = per_round / n as f64;
        ids.application = bulk.max_id("applications").await?;
        ids.agreement = bulk.max_id("agreements").await?;
        let (apps, agr_rows, agrs) =
            plan::agreements(&ctx, &insts, per_inst, a_cap, &mut ids, &policy, &mut rng)?;
        progress.phase(
            &format!("{} 申报与协议", ctx.label),
            (apps.len() + agr_rows.len()) as u64,
        );
        bulk.insert("applications", apps).await?;
        bulk.insert("agreements", agr_rows).await?;
        for a in &agrs {
            let i = &mut insts[a.inst];
            i.first_signed = Some(i.first_signed.unwrap_or(day_of(a.signed_at)));
        }

        // The round's filings: planned, queued, reviewed, run.
        refresh_ids(&bulk, &mut ids).await?;
        let env = intents::Env {
            calendar: &calendar,
            policy: &policy,
            data: &keys.data,
            lookup: key,
            now,
        };
        let mut fils = intents::plan_round(
            &ctx,
            &agrs,
            &mut insts,
            per_round,
            ri == last.saturating_sub(1),
            &mut ids,
            &env,
            &mut rng,
            &mut teachers,
        );
        classes::simulate(&ctx, &agrs, &mut fils, &insts, &policy, now, &mut rng)?;
        // Certificate codes: class sequences per year in order of confirmation (R-CRT-1).
        let mut cert_seq = HashMap::new();
        let mut order: Vec<usize> = (0..fils.len())
            .filter(|&i| fils[i].confirm_at.is_some())
            .collect();
        order.sort_by_key(|&i| fils[i].confirm_at);
        for i in order {
            let y = fils[i].confirm_at.map(|t| day_of(t).year()).unwrap_or(year);
            let c = cert_counters.entry(y).or_default();
            if *c >= peixun_domain::certificate::MAX_CLASS_SEQUENCE {
                fils[i].confirm_at = None;
                continue;
            }
            *c += 1;
            cert_seq.insert(fils[i].id, (y, *c));
            let inst_id = insts[fils[i].inst].id;
            classes::issue_certificates(&mut fils[i], inst_id, &ctx, &policy)?;
        }
        // Inspections (R-RUN-4): about one class in twenty-five, and A's big class.
        let mut inspect = HashMap::new();
        for f in &fils {
            if f.started_on.is_none() {
                continue;
            }
            let big = open && f.inst == 0 && f.trainees >= 100;
            if big || rng.chance(40) {
                use crate::inspections::InspectionKind as K;
                inspect.insert(
                    f.id,
                    rows::InspectionPlan {
                        kind: *rng.pick(&[K::OnSite, K::OnSite, K::Remote, K::Spot]),
                        fix: big || rng.chance(330),
                        serious: !big && rng.chance(100),
                        keep_open: big,
                    },
                );
            }
        }
        for f in &fils {
            if f.started_on.is_some() {
                insts[f.inst]
                    .class_spans
                    .push((f.start, f.planned_end(), f.trainees));
            }
            if open && f.inst == 0 && f.trainees >= 100 && big_class.is_none() {
                big_class = Some(BigClass {
                    filing_id: f.id,
                    package_id: f.package_id,
                    institution_id: insts[0].id,
                    trainees: f.trainees,
                    status: f.state.code().to_string(),
                });
            }
        }
        classes_total += fils.len() as u64;
        enrolments_total += fils.iter().map(|f| f.trainees as u64).sum::<u64>();
        // Teachers booked for these classes first, then the classes.
        bulk.insert("teachers", std::mem::take(&mut teachers.0))
            .await?;
        bulk.insert("teacher_qualifications", std::mem::take(&mut teachers.1))
            .await?;
        write_round(
            &mut bulk, &ctx, &fils, &insts, &keys.data, key, &policy, &mut ids, &cert_seq,
            &inspect, now, &mut rng, progress,
        )
        .await?;
        // The queue counter the next submission would take.
        round::ActiveModel {
            id: Set(ctx.id),
            next_queue_seq: Set(fils.len() as i64 + 1),
            ..Default::default()
        }
        .update(store.write_db())
        .await?;
        if let Some(c) = close_at {
            // The service: waiting filings end 未获名额, H1's unused quota rolls over.
            crate::rounds::close_round(store, &actor(Role::CentreAdmin, None), ctx.id, c).await?;
            let finished = fils
                .iter()
                .filter_map(|f| f.exam_completed_on.map(|d| at(d, 18, 0)))
                .max()
                .unwrap_or(c)
                .max(c);
            let eval_at = at(day_of(finished) + Duration::days(2), 11, 0);
            ids.evaluation = bulk.max_id("evaluations").await?;
            let ins: HashMap<i64, (Option<String>, bool)> = inspect
                .iter()
                .map(|(k, p)| (*k, (p.severity().map(str::to_string), p.fix)))
                .collect();
            let evals = plan::evaluations(
                &ctx, &agrs, &fils, &ins, &mut insts, eval_at, &mut ids, &policy, &mut rng,
            )?;
            progress.phase(&format!("{} 绩效评估", ctx.label), evals.len() as u64);
            bulk.insert("evaluations", evals).await?;
            prev_finished = Some(eval_at);
        }
        let label = ctx.label.clone();
        summaries.push(RoundSummary {
            id: ctx.id,
            label,
            status: if open { "published" } else { "closed" }.into(),
            filings: fils.len() as u64,
            planned: ctx.planned,
        });
    }

    // 5. Monthly reports (R-RUN-3), certificate counters, the audit row.
    ids.report = bulk.max_id("monthly_reports").await?;
    let reports = plan::monthly_reports(&insts, &mut ids, &policy, now, &mut rng);
    progress.phase("月度开展情况 monthly_reports", reports.len() as u64);
    bulk.insert("monthly_reports", reports).await?;
    counters(store, &cert_counters).await?;
    let tables = bulk.finish().await?;
    // The quota queue's counters and free slot numbers (R-FIL-6) from the rows just written, as
    // the migration that introduced them sets them for an existing database.
    crate::migration::m20261203_000160_queue_counters::backfill(store.write_db()).await?;
    // The classes' archive figures (R-ARC-2), likewise.
    crate::migration::m20261204_000200_archive_progress::backfill(store.write_db()).await?;
    let states = filing_states(store).await?;
    let open_round_id = summaries.last().map_or(0, |r| r.id);
    let busiest = summaries.iter().max_by_key(|r| r.filings).cloned();
    let txn = store.begin_write().await?;
    crate::audit::append(
        &txn,
        &system,
        "seed.scale",
        "database",
        None,
        None,
        Some(serde_json::json!({
            "scale": opts.sizes.scale.code(),
            "seed": opts.seed,
            "today": today,
            "institutions": n,
            "classes": classes_total,
            "enrolments": enrolments_total,
            "tables": tables.iter().map(|t| (t.table.clone(), t.rows)).collect::<BTreeMap<_, _>>(),
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    if store.backend() == Backend::Postgres {
        store.write_db().execute_unprepared("ANALYZE").await?;
    }
    let mut paths = BTreeMap::new();
    paths.insert("home".into(), "/".into());
    paths.insert(
        "bulletin_page".into(),
        format!("/bulletin/rounds/{open_round_id}"),
    );
    paths.insert(
        "bulletin_api".into(),
        format!("/api/v1/rounds/{open_round_id}/bulletin"),
    );
    if let Some(b) = &busiest {
        paths.insert(
            "busiest_bulletin_page".into(),
            format!("/bulletin/rounds/{}", b.id),
        );
        paths.insert(
            "busiest_round_filings_api".into(),
            format!("/api/v1/rounds/{}/filings", b.id),
        );
    }
    paths.insert(
        "round_filings_api".into(),
        format!("/api/v1/rounds/{open_round_id}/filings"),
    );
    paths.insert("institutions_page".into(), "/institutions".into());
    paths.insert(
        "institution_page".into(),
        format!("/institutions/{}", insts[0].id),
    );
    paths.insert("review_api".into(), "/api/v1/review".into());
    paths.insert("review_page".into(), "/review".into());
    paths.insert("classes_page".into(), "/classes".into());
    paths.insert(
        "round_filings_page".into(),
        format!("/rounds/{open_round_id}/filings"),
    );
    paths.insert("worklist_api".into(), "/api/v1/worklist".into());
    if let Some(b) = &big_class {
        paths.insert("class_page".into(), format!("/classes/{}", b.filing_id));
        paths.insert("filing_page".into(), format!("/filings/{}", b.filing_id));
        paths.insert(
            "class_api".into(),
            format!("/api/v1/classes/{}", b.filing_id),
        );
        paths.insert("package_page".into(), format!("/packages/{}", b.package_id));
        paths.insert(
            "roster_api".into(),
            format!("/api/v1/packages/{}/roster", b.package_id),
        );
    }
    Ok(SeedReport {
        scale: opts.sizes.scale,
        seed: opts.seed,
        today,
        backend: format!("{:?}", store.backend()).to_lowercase(),
        password: crate::demo::DEMO_PASSWORD.to_string(),
        accounts,
        institution_a: insts[0].id,
        institution_b: insts[1].id,
        open_round_id,
        busiest_round_id: busiest.as_ref().map_or(0, |b| b.id),
        busiest_round_filings: busiest.as_ref().map_or(0, |b| b.filings),
        rounds: summaries,
        big_class,
        institutions: n as u64,
        classes: classes_total,
        enrolments: enrolments_total,
        filing_states: states,
        tables,
        seconds: started.elapsed().as_secs_f64(),
        paths,
    })
}

/// Filings by status and by slot state (`slot:holding` …), as stored.
async fn filing_states(store: &Store) -> Result<BTreeMap<String, u64>> {
    use crate::entity::filing;
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{Expr, Func};
    let mut out = BTreeMap::new();
    for (col, prefix) in [
        (filing::Column::Status, ""),
        (filing::Column::SlotState, "slot:"),
    ] {
        let rows: Vec<(String, i64)> = filing::Entity::find()
            .select_only()
            .column(col)
            .column_as(Expr::expr(Func::count(Expr::col(filing::Column::Id))), "n")
            .group_by(col)
            .into_tuple()
            .all(store.db())
            .await?;
        for (k, n) in rows {
            out.insert(format!("{prefix}{k}"), n.max(0) as u64);
        }
    }
    Ok(out)
}

/// The size of the current PostgreSQL database (`pg_database_size`), for the seed's report.
pub async fn postgres_database_bytes(store: &Store) -> Option<u64> {
    let db = store.db();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT pg_database_size(current_database()) AS n",
        ))
        .await
        .ok()??;
    row.try_get::<i64>("", "n").ok().map(|n| n.max(0) as u64)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// Ids of tables other writers (services) also append to.
async fn refresh_ids(bulk: &bulk::Bulk<'_>, ids: &mut Ids) -> Result<()> {
    ids.inbox = bulk.max_id("inbox_messages").await?;
    ids.filing = bulk.max_id("filings").await?;
    ids.package = bulk.max_id("filing_packages").await?;
    ids.entry = bulk.max_id("roster_entries").await?;
    ids.attendance = bulk.max_id("attendance_records").await?;
    ids.mark = bulk.max_id("attendance_marks").await?;
    ids.result = bulk.max_id("exam_results").await?;
    ids.cert = bulk.max_id("certificates").await?;
    ids.inspection = bulk.max_id("inspections").await?;
    ids.slot = bulk.max_id("quota_slots").await?;
    Ok(())
}

/// Write one round's filings and everything they carry, a batch of classes at a time.
#[allow(clippy::too_many_arguments)]
async fn write_round(
    bulk: &mut bulk::Bulk<'_>,
    ctx: &RoundCtx,
    fils: &[Fil],
    insts: &[Inst],
    data: &crate::pii::DataKeys,
    key: &RosterKey,
    policy: &peixun_domain::policy::Policy,
    ids: &mut Ids,
    cert_seq: &HashMap<i64, (i32, u32)>,
    inspect: &HashMap<i64, rows::InspectionPlan>,
    now: DateTime<Utc>,
    rng: &mut Rng,
    progress: &dyn Progress,
) -> Result<()> {
    let env = rows::Env {
        data,
        lookup: key,
        policy,
        groups: &ctx.groups,
        district_code: &policy.certificate_district_code,
        today: day_of(now),
        now,
    };
    // Rough row count for the bar: a filing brings about 2.5 rows per trainee.
    let trainees: usize = fils.iter().map(|f| f.trainees).sum();
    progress.phase(
        &format!("{} 开班备案与班次", ctx.label),
        (trainees * 5 / 2 + fils.len() * 4) as u64,
    );
    for chunk in fils.chunks(1500) {
        let b = rows::build(ctx, chunk, insts, &env, ids, cert_seq, inspect, rng)?;
        bulk.insert("filings", b.filings).await?;
        bulk.insert("filing_packages", b.packages).await?;
        bulk.insert("roster_entries", b.entries).await?;
        bulk.insert("class_progress", b.progress).await?;
        bulk.insert("attendance_records", b.attendance).await?;
        bulk.insert("attendance_marks", b.marks).await?;
        bulk.insert("exam_results", b.results).await?;
        bulk.insert("result_confirmations", b.confirmations).await?;
        bulk.insert("certificate_classes", b.cert_classes).await?;
        bulk.insert("certificates", b.certificates).await?;
        bulk.insert("inspections", b.inspections).await?;
        bulk.insert("inbox_messages", b.inbox).await?;
    }
    bulk.insert("quota_slots", slots::slot_rows(ctx.id, fils, ids))
        .await?;
    Ok(())
}

/// Placeholder documents for each institution's packages (the six documents and the question
/// bank, R-FIL-1), written and recorded like an upload; every package of the institution refers
/// to them.
async fn documents(
    store: &Store,
    files: &FileStore,
    insts: &mut [Inst],
    now: DateTime<Utc>,
    progress: &dyn Progress,
    bulk: &mut bulk::Bulk<'_>,
) -> Result<()> {
    let slots: Vec<&'static str> = DocumentKind::ALL
        .iter()
        .map(|k| k.code())
        .chain([QUESTION_BANK])
        .collect();
    progress.phase("备案材料文件 files", (insts.len() * slots.len()) as u64);
    let t0 = Instant::now();
    let mut stored = Vec::with_capacity(insts.len() * slots.len());
    for group in (0..insts.len()).collect::<Vec<_>>().chunks(16) {
        let mut set = tokio::task::JoinSet::new();
        for &k in group {
            for (j, slot) in slots.iter().enumerate() {
                let files = files.clone();
                let name = format!("{slot}.pdf");
                set.spawn(async move {
                    let s = files
                        .put_bytes(
                            crate::ready_package::PLACEHOLDER_PDF,
                            &name,
                            &DOCUMENT_TYPES,
                            MAX_DOCUMENT_BYTES,
                        )
                        .await;
                    (k, j, s)
                });
            }
        }
        while let Some(r) = set.join_next().await {
            let (k, j, s) = r.map_err(|e| seed_err(format!("文件写入任务失败：{e}")))?;
            stored.push((k, j, s?));
            progress.inc(1);
        }
    }
    stored.sort_by_key(|(k, j, _)| (*k, *j));
    let txn = store.begin_write().await?;
    let actor = Actor::system(ACTOR);
    for (k, j, s) in &stored {
        let slot = slots[*j];
        let purpose = format!("filing_document:{slot}");
        let rec = crate::files::record_file(
            &txn,
            s,
            &FileOwner {
                purpose: &purpose,
                institution_id: Some(insts[*k].id),
            },
            &actor,
            now,
        )
        .await?;
        if slot == QUESTION_BANK {
            insts[*k].question_bank = rec.id;
        } else {
            insts[*k].documents.insert(slot.to_string(), rec.id);
        }
    }
    txn.commit().await?;
    bulk.note("files", stored.len() as u64, t0.elapsed());
    Ok(())
}

/// The demo accounts (`demo::ACCOUNTS`, password [`crate::demo::DEMO_PASSWORD`]), TOTP-exempt
/// as the demo seeder marks them.
async fn demo_accounts(store: &Store, insts: &[Inst], now: DateTime<Utc>) -> Result<Vec<String>> {
    let system = Actor::system("demo-seed");
    let mut out = Vec::new();
    for (username, display, role, inst) in crate::demo::ACCOUNTS {
        let u = crate::accounts::create_user(
            store,
            &system,
            crate::accounts::NewUser {
                username: username.to_string(),
                display_name: display.to_string(),
                role: *role,
                institution_id: inst.map(|k| insts[k].id),
                password: crate::demo::DEMO_PASSWORD.to_string(),
                must_change_password: false,
            },
            now,
        )
        .await?;
        crate::totp::set_exempt(store, &system, u.id, true, now).await?;
        out.push(username.to_string());
    }
    Ok(out)
}

/// The year's plan (R-PLAN-1), approved by the bureau.
async fn year_plan(store: &Store, y: i32, per_round: f64, now: DateTime<Utc>) -> Result<()> {
    use crate::plans::{self, PlanDecision, PlanInput};
    let at_ = at(ymd(y, 1, 2), 8, 30).min(now);
    let admin = actor(Role::CentreAdmin, None);
    let total = (per_round * 2.0).round().max(1.0) as u32;
    let p = plans::create_plan(
        store,
        &admin,
        &PlanInput {
            year: y,
            total_classes: total,
            budget: rust_decimal::Decimal::from(u64::from(total) * 30_000),
            note: "按年度职业技能培训工作重点及各机构申报情况确定".into(),
        },
        at_,
    )
    .await?;
    plans::submit_plan(store, &admin, p.id, at_).await?;
    plans::decide_plan(
        store,
        &actor(Role::Bureau, None),
        p.id,
        PlanDecision::Approve,
        "同意",
        at_,
    )
    .await?;
    Ok(())
}

/// Create and publish a round through the service; read back its `P` (rollover included) and
/// the previous round's.
#[allow(clippy::too_many_arguments)]
async fn open_round(
    store: &Store,
    y: i32,
    half: Half,
    ws: NaiveDate,
    we: NaiveDate,
    per_round: f64,
    created: DateTime<Utc>,
    apply_at: DateTime<Utc>,
    sign_at: DateTime<Utc>,
    close_at: Option<DateTime<Utc>>,
    open: bool,
) -> Result<RoundCtx> {
    let admin = actor(Role::CentreAdmin, None);
    let shares = [10u32, 20, 5, 5, 10, 5];
    let target_groups: Vec<TargetGroup> = KEY_TARGET_GROUPS
        .iter()
        .zip(shares)
        .map(|(n, s)| TargetGroup {
            name: n.to_string(),
            required_share_percent: s,
        })
        .collect();
    let half_zh = if half == Half::H1 {
        "上半年"
    } else {
        "下半年"
    };
    let v = crate::rounds::create_round(
        store,
        &admin,
        &RoundInput {
            year: y,
            half,
            label: String::new(),
            base_planned: (per_round * 1.04).ceil().max(1.0) as u32,
            window_start: ws,
            window_end: we,
            target_groups: target_groups.clone(),
            call_text: format!(
                "根据《职业技能培训合格证书培训工作指引（试行）》，现征集{y}年{half_zh}职业技能培训合格证书培训任务承接机构。\
                 区培训中心按签约培训机构申请先后次序批复培训班，当次计划班次数额满为止。"
            ),
        },
        created,
    )
    .await?;
    crate::rounds::publish_round(store, &admin, v.id, created + Duration::hours(1)).await?;
    let m = round::Entity::find_by_id(v.id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "round" })?;
    let prev = crate::rounds::previous_round(store.db(), &m).await?;
    Ok(RoundCtx {
        id: v.id,
        label: v.label,
        planned: crate::rounds::planned_total(&m),
        prev_planned: prev.as_ref().map(crate::rounds::planned_total),
        window_end: we,
        apply_at,
        sign_at,
        close_at,
        open,
        groups: target_groups.into_iter().map(|g| g.name).collect(),
    })
}

/// `certificate_counters`: each year's last class sequence (what `next_class_seq` bumps).
async fn counters(store: &Store, c: &HashMap<i32, u32>) -> Result<()> {
    let backend = store.write_db().get_database_backend();
    let sql = match store.backend() {
        Backend::Postgres => "INSERT INTO certificate_counters (year, last_seq) VALUES ($1, $2)",
        Backend::Sqlite => "INSERT INTO certificate_counters (year, last_seq) VALUES (?, ?)",
    };
    for (y, n) in c {
        store
            .write_db()
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [(*y).into(), (*n as i32).into()],
            ))
            .await?;
    }
    Ok(())
}
