//! A complete, valid filing package built **through the real services** (R-FIL-1…8): for the
//! demo seed, `peixun bench queue` and tests that need filings in the quota queue.
//!
//! There is no other way into the queue: [`crate::filing_package::submit_package`] runs every
//! check (`check_filing`, the roster size, teacher bookings) and only then calls the queue's
//! submit path. This module only saves callers the dozen steps of assembling a package: create
//! it, fill in the content (two 3-hour sessions by a qualified teacher), attach the six
//! documents and the question bank (small placeholder PDFs), import a synthetic roster of valid
//! ID numbers, submit. Every step is the service a user's request would call, audited under the
//! given actor; a package the checks refuse is an error naming the first blocking problem.

use crate::files::FileStore;
use crate::filing_package::{self, PackageInput, SubmitOutcome};
use crate::filings::FilingView;
use crate::roster::{self, ImportOutcome, RosterKey};
use crate::teachers::{self, TeacherInput, TeacherQualification};
use crate::{Actor, Result, Store, StoreError};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use peixun_domain::calendar::Calendar;
use peixun_domain::filing::{DocumentKind, FilingProblem, Location, Mode};
use peixun_domain::policy::Policy;
use peixun_domain::roster::ROSTER_HEADERS;
use peixun_domain::schedule::Session;
use rust_decimal::Decimal;

/// A placeholder PDF (passes the upload's content sniffing).
pub const PLACEHOLDER_PDF: &[u8] =
    b"%PDF-1.4\n% peixun placeholder document\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

/// Class size used unless told otherwise (R-FIL-2 asks for at least 20).
pub const DEFAULT_TRAINEES: usize = 24;

/// What the package holds. The caller picks dates that satisfy R-FIL-3 and R-FIL-4 relative to
/// the submission time; the checks refuse anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyPackage {
    pub agreement_id: i64,
    pub occupation: String,
    pub level: String,
    pub start: NaiveDate,
    /// Planned end (exam included) = start + `days` (R-FIL-4: at most 30).
    pub days: i64,
    /// A teacher of the institution qualified for the occupation; `None`: a new qualified
    /// teacher is added for this package (so that several packages of one institution on the
    /// same dates never book one teacher twice).
    pub teacher_id: Option<i64>,
    /// Hour (Asia/Shanghai) the two 3-hour sessions begin.
    pub session_hour: u32,
    /// Seed of the synthetic roster (distinct seeds give distinct people).
    pub roster_seed: u64,
    /// Trainees on the roster.
    pub trainees: usize,
}

impl ReadyPackage {
    /// A package for `agreement_id` starting on `start`, ten days long, 24 trainees.
    pub fn new(agreement_id: i64, occupation: &str, level: &str, start: NaiveDate) -> Self {
        ReadyPackage {
            agreement_id,
            occupation: occupation.to_string(),
            level: level.to_string(),
            start,
            days: 9,
            teacher_id: None,
            session_hour: 9,
            roster_seed: agreement_id as u64 * 7919 + start.num_days_from_ce().max(0) as u64,
            trainees: DEFAULT_TRAINEES,
        }
    }
}

/// A teacher of `institution_id` qualified for (occupation, level), added by `actor` (the
/// institution's own user or the centre). `n` makes the ID number and certificate distinct.
pub async fn add_qualified_teacher(
    store: &Store,
    actor: &Actor,
    institution_id: i64,
    occupation: &str,
    level: &str,
    n: u64,
    now: DateTime<Utc>,
) -> Result<i64> {
    let row = roster::synthetic_rows(1, 0x7EAC_0000 + n);
    let id_number = row[0][2].clone();
    let name = format!("{}老师", row[0][0].chars().next().unwrap_or('王'));
    Ok(teachers::create_teacher(
        store,
        actor,
        institution_id,
        &TeacherInput {
            name,
            id_number,
            phone: "13926000000".into(),
            qualifications: vec![TeacherQualification {
                occupation: occupation.to_string(),
                level: level.to_string(),
                certificate_no: format!("S4401052024{n:05}"),
            }],
            active: true,
        },
        now,
    )
    .await?
    .id)
}

/// Assemble the package as a draft (not submitted). Returns the package id.
pub async fn prepare(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    actor: &Actor,
    spec: &ReadyPackage,
    now: DateTime<Utc>,
) -> Result<i64> {
    let p = filing_package::create_package(store, actor, spec.agreement_id, now).await?;
    fill(store, files, key, actor, p.id, spec, now).await?;
    Ok(p.id)
}

/// Fill an existing editable package (a draft, or one being supplemented to a returned filing,
/// [`crate::package_gate::supplement_package`]) with `spec`'s complete content.
pub async fn fill(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    actor: &Actor,
    package_id: i64,
    spec: &ReadyPackage,
    now: DateTime<Utc>,
) -> Result<()> {
    let institution_id = actor.institution_id.ok_or_else(|| StoreError::Forbidden {
        message: "只有培训机构可以填报开班备案".into(),
    })?;
    let p = filing_package::get_package(store, actor, package_id).await?;
    let teacher = match spec.teacher_id {
        Some(t) => t,
        None => {
            add_qualified_teacher(
                store,
                actor,
                institution_id,
                &spec.occupation,
                &spec.level,
                p.id as u64,
                now,
            )
            .await?
        }
    };
    let hour = spec.session_hour.min(20);
    let t = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
    let sessions: Vec<Session> = [("职业道德与基础知识", 0), ("操作技能训练与考核辅导", 1)]
        .into_iter()
        .map(|(topic, d)| Session {
            date: spec.start + Duration::days(d.min(spec.days)),
            start_time: t(hour),
            end_time: t(hour + 3),
            topic: topic.into(),
            teacher_id: teacher,
            hours: Decimal::from(3),
        })
        .collect();
    filing_package::update_package(
        store,
        actor,
        p.id,
        &PackageInput {
            occupation: spec.occupation.clone(),
            level: spec.level.clone(),
            hours: Decimal::from(6),
            start_date: Some(spec.start),
            planned_end: Some(spec.start + Duration::days(spec.days)),
            location: Some(Location::RegisteredAddress),
            mode: Mode::Offline,
            teachers: vec![teacher],
            sessions,
            exam_content: "理论知识考试（闭卷，60分钟）与操作技能考核（现场实操，按评分细则评分）"
                .into(),
        },
        now,
    )
    .await?;
    let slots = DocumentKind::ALL
        .iter()
        .map(|k| k.code())
        .chain([filing_package::QUESTION_BANK]);
    for slot in slots {
        filing_package::attach_file(
            store,
            files,
            actor,
            p.id,
            slot,
            PLACEHOLDER_PDF,
            &format!("{slot}.pdf"),
            now,
        )
        .await?;
    }
    let mut csv = ROSTER_HEADERS.join(",");
    csv.push('\n');
    for r in roster::synthetic_rows(spec.trainees, spec.roster_seed) {
        csv.push_str(&r.join(","));
        csv.push('\n');
    }
    if let ImportOutcome::Refused { problems } =
        roster::import_roster(store, actor, key, p.id, csv.as_bytes(), None, now).await?
    {
        let msg = problems
            .first()
            .map(|p| p.message.clone())
            .unwrap_or_default();
        return Err(StoreError::Validation {
            code: "ROSTER_INVALID",
            message: format!("花名册未导入：{msg}"),
            field: Some("roster".into()),
        });
    }
    Ok(())
}

/// Submit a prepared package ([`filing_package::submit_package`]); a refusal is an error with
/// the first blocking problem's code, every blocking message joined.
pub async fn submit(
    store: &Store,
    actor: &Actor,
    package_id: i64,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    match filing_package::submit_package(store, actor, package_id, now).await? {
        SubmitOutcome::Submitted { package, .. } => package
            .filing
            .ok_or(StoreError::NotFound { entity: "filing" }),
        SubmitOutcome::Refused { problems } => Err(refusal(&problems)),
    }
}

/// Build and submit: the filing in the quota queue (holding a slot or waiting, R-FIL-6).
pub async fn file(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    actor: &Actor,
    spec: &ReadyPackage,
    now: DateTime<Utc>,
) -> Result<FilingView> {
    let id = prepare(store, files, key, actor, spec, now).await?;
    submit(store, actor, id, now).await
}

fn refusal(problems: &[FilingProblem]) -> StoreError {
    let blocking: Vec<&FilingProblem> = problems.iter().filter(|p| p.is_blocking()).collect();
    StoreError::Validation {
        code: blocking.first().map_or("FIL_REFUSED", |p| p.code),
        message: blocking
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join("；"),
        field: blocking.first().map(|p| p.field.clone()),
    }
}

/// The first start date on or after `not_before` that a package submitted on `submit_on` may
/// have: its R-FIL-3 deadline is on or after `submit_on`, and the class (`start ..= start +
/// days`) lies in years the calendar has loaded (a date in a year without a table is an error,
/// never a guess, R-CAL). Looks 120 days ahead.
pub fn first_possible_start(
    calendar: &Calendar,
    policy: &Policy,
    submit_on: NaiveDate,
    not_before: NaiveDate,
    days: i64,
) -> Option<NaiveDate> {
    let from = not_before.max(submit_on + Duration::days(1));
    (0..120).map(|k| from + Duration::days(k)).find(|s| {
        calendar.is_year_loaded((*s + Duration::days(days)).year())
            && calendar
                .filing_deadline(*s, policy)
                .is_ok_and(|d| d >= submit_on)
    })
}

/// A start date near `preferred + offset_days` for a package submitted on `submit_on`
/// ([`first_possible_start`]); when that is past the loaded calendar, the earliest possible
/// start plus `offset_days` instead (so that classes spread by `offset_days` stay apart).
pub fn fit_start(
    calendar: &Calendar,
    policy: &Policy,
    submit_on: NaiveDate,
    preferred: NaiveDate,
    offset_days: i64,
    days: i64,
) -> Option<NaiveDate> {
    first_possible_start(
        calendar,
        policy,
        submit_on,
        preferred + Duration::days(offset_days),
        days,
    )
    .or_else(|| {
        let earliest = first_possible_start(calendar, policy, submit_on, submit_on, days)?;
        first_possible_start(
            calendar,
            policy,
            submit_on,
            earliest + Duration::days(offset_days),
            days,
        )
    })
}

/// An active teacher of the institution qualified for (occupation, level), if any.
pub async fn qualified_teacher<C: sea_orm::ConnectionTrait>(
    db: &C,
    institution_id: i64,
    occupation: &str,
    level: &str,
) -> Result<Option<i64>> {
    use crate::entity::{teacher, teacher_qualification as tq};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let ids: Vec<i64> = teacher::Entity::find()
        .filter(teacher::Column::InstitutionId.eq(institution_id))
        .filter(teacher::Column::Active.eq(true))
        .order_by_asc(teacher::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    Ok(tq::Entity::find()
        .filter(tq::Column::TeacherId.is_in(ids))
        .filter(tq::Column::Occupation.eq(occupation))
        .filter(tq::Column::Level.eq(level))
        .order_by_asc(tq::Column::TeacherId)
        .one(db)
        .await?
        .map(|q| q.teacher_id))
}
