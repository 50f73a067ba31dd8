//! The machine's check of filing packages (R-FIL-1…5, R-FIL-7, R-FIL-8, SPEC.md §4), with what
//! several packages share loaded once (issue 12 item 3).
//!
//! [`problems_with`] is the one check: `check_filing` (incl. `check_schedule`), missing dates,
//! the teachers' bookings in the institution's other live classes (errors), trainees under the
//! minimum age, and the trainees' overlapping enrolments (warnings). A [`CheckCache`] keeps
//! what does not depend on the package: the holiday calendar (parsed once), the policy
//! versions, each institution's scope, approved addresses, teachers and live classes'
//! sessions, and the roster rows of the packages a page lists (one query for the page). One
//! package alone ([`crate::filing_package::problems_of`]) runs the same code with an empty
//! cache, so a page's results are those of each package checked alone.

use crate::entity::{filing, institution, institution_qualification as iq};
use crate::entity::{teacher, teacher_qualification as tq};
use crate::filing_package::{
    doc_map, hours_of, location_of, mode_of, package, sessions_of, teachers_of,
};
use crate::filings::parse_class_state;
use crate::roster::{self, entry};
use crate::{Result, StoreError};
use chrono::NaiveDate;
use peixun_domain::calendar::Calendar;
use peixun_domain::filing::{
    DocumentKind, FilingContext, FilingDraft, FilingProblem, Location, Qualification, check_filing,
};
use peixun_domain::policy::Policy;
use peixun_domain::schedule::{OtherSession, Session, teacher_conflicts_with_others};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What one institution's packages share in the check.
struct InstitutionFacts {
    registered_address: String,
    scope: Vec<Qualification>,
    approved_addresses: Vec<i64>,
    teacher_quals: BTreeMap<i64, Vec<Qualification>>,
    /// The institution's packages linked to a live class: (package, class, sessions), in the
    /// order the table returns them.
    live_sessions: Vec<(i64, i64, Vec<Session>)>,
}

/// What the checks of several packages share (module notes). Filled as it is used; a page may
/// fill the filings and rosters it lists beforehand ([`CheckCache::with_filings`],
/// [`CheckCache::load_rosters`]).
#[derive(Default)]
pub(crate) struct CheckCache {
    calendar: Option<Calendar>,
    by_version: HashMap<String, Policy>,
    in_force: HashMap<NaiveDate, Policy>,
    filings: HashMap<i64, filing::Model>,
    institutions: HashMap<i64, InstitutionFacts>,
    /// Package id → all its roster rows (current roster first, then by row number).
    rosters: HashMap<i64, Vec<entry::Model>>,
}

fn sort_roster(rows: &mut [entry::Model]) {
    rows.sort_by_key(|r| (r.pending, r.row_number, r.id));
}

impl CheckCache {
    /// The filings already read (the page's rows).
    pub(crate) fn with_filings(mut self, rows: &[filing::Model]) -> Self {
        self.filings.extend(rows.iter().map(|f| (f.id, f.clone())));
        self
    }

    /// Read the roster rows of `packages` in one query.
    pub(crate) async fn load_rosters<C: ConnectionTrait>(
        &mut self,
        db: &C,
        packages: &[i64],
    ) -> Result<()> {
        for chunk in packages.chunks(500) {
            for id in chunk {
                self.rosters.entry(*id).or_default();
            }
            for r in entry::Entity::find()
                .filter(entry::Column::PackageId.is_in(chunk.to_vec()))
                .order_by_asc(entry::Column::PackageId)
                .all(db)
                .await?
            {
                self.rosters.entry(r.package_id).or_default().push(r);
            }
        }
        for rows in self.rosters.values_mut() {
            sort_roster(rows);
        }
        Ok(())
    }

    /// Trainees on the current roster and on a pending change ([`crate::roster::counts`]).
    pub(crate) async fn roster_counts<C: ConnectionTrait>(
        &mut self,
        db: &C,
        package_id: i64,
    ) -> Result<(usize, usize)> {
        Ok(roster::counts_of(self.roster(db, package_id).await?))
    }

    async fn roster<C: ConnectionTrait>(
        &mut self,
        db: &C,
        package_id: i64,
    ) -> Result<&[entry::Model]> {
        if let Entry::Vacant(slot) = self.rosters.entry(package_id) {
            let mut rows = entry::Entity::find()
                .filter(entry::Column::PackageId.eq(package_id))
                .all(db)
                .await?;
            sort_roster(&mut rows);
            slot.insert(rows);
        }
        Ok(self.rosters.get(&package_id).map_or(&[], |v| v.as_slice()))
    }

    async fn calendar<C: ConnectionTrait>(&mut self, db: &C) -> Result<&Calendar> {
        if self.calendar.is_none() {
            self.calendar = Some(crate::calendar::load(db).await?);
        }
        Ok(self.calendar.get_or_insert_with(Calendar::empty))
    }

    /// R-POL-1: a package already in the queue follows its filing's version (a resubmission
    /// keeps the rules it was filed under); a new submission the version in force on `on`.
    async fn policy<C: ConnectionTrait>(
        &mut self,
        db: &C,
        p: &package::Model,
        on: NaiveDate,
    ) -> Result<Policy> {
        let version = match p.filing_id {
            Some(fid) => {
                if let Entry::Vacant(slot) = self.filings.entry(fid)
                    && let Some(f) = filing::Entity::find_by_id(fid).one(db).await?
                {
                    slot.insert(f);
                }
                self.filings.get(&fid).map(|f| f.policy_version.clone())
            }
            None => None,
        };
        Ok(match version {
            Some(v) => {
                if !self.by_version.contains_key(&v) {
                    let policy = crate::policies::by_version(db, &v).await?;
                    self.by_version.insert(v.clone(), policy);
                }
                self.by_version[&v].clone()
            }
            None => {
                if let Entry::Vacant(slot) = self.in_force.entry(on) {
                    slot.insert(crate::policies::in_force(db, on).await?);
                }
                self.in_force[&on].clone()
            }
        })
    }

    async fn institution<C: ConnectionTrait>(
        &mut self,
        db: &C,
        institution_id: i64,
    ) -> Result<&InstitutionFacts> {
        if let Entry::Vacant(slot) = self.institutions.entry(institution_id) {
            slot.insert(load_institution(db, institution_id).await?);
        }
        self.institutions
            .get(&institution_id)
            .ok_or(StoreError::NotFound {
                entity: "institution",
            })
    }
}

async fn load_institution<C: ConnectionTrait>(db: &C, id: i64) -> Result<InstitutionFacts> {
    let inst = institution::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "institution",
        })?;
    let scope: Vec<Qualification> = iq::Entity::find()
        .filter(iq::Column::InstitutionId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|q| Qualification::new(&q.occupation, &q.level))
        .collect();
    let approved_addresses = crate::requests::approved_address_ids(db, id).await?;
    let teacher_rows = teacher::Entity::find()
        .filter(teacher::Column::InstitutionId.eq(id))
        .filter(teacher::Column::Active.eq(true))
        .all(db)
        .await?;
    let tids: Vec<i64> = teacher_rows.iter().map(|t| t.id).collect();
    let mut teacher_quals: BTreeMap<i64, Vec<Qualification>> =
        tids.iter().map(|t| (*t, Vec::new())).collect();
    for q in tq::Entity::find()
        .filter(tq::Column::TeacherId.is_in(tids))
        .all(db)
        .await?
    {
        teacher_quals
            .entry(q.teacher_id)
            .or_default()
            .push(Qualification::new(&q.occupation, &q.level));
    }
    // The institution's classes that are still live, and their packages' sessions.
    let others: Vec<package::Model> = package::Entity::find()
        .filter(package::Column::InstitutionId.eq(id))
        .filter(package::Column::FilingId.is_not_null())
        .all(db)
        .await?;
    let fids: Vec<i64> = others.iter().filter_map(|o| o.filing_id).collect();
    let mut live: BTreeSet<i64> = BTreeSet::new();
    for chunk in fids.chunks(500) {
        live.extend(
            filing::Entity::find()
                .select_only()
                .column(filing::Column::Id)
                .column(filing::Column::State)
                .filter(filing::Column::Id.is_in(chunk.to_vec()))
                .into_tuple::<(i64, String)>()
                .all(db)
                .await?
                .into_iter()
                .filter(|(_, state)| !parse_class_state(state).is_final())
                .map(|(id, _)| id),
        );
    }
    let live_sessions = others
        .iter()
        .filter(|o| o.filing_id.is_some_and(|f| live.contains(&f)))
        .map(|o| (o.id, o.filing_id.unwrap_or(o.id), sessions_of(o)))
        .collect();
    Ok(InstitutionFacts {
        registered_address: inst.registered_address,
        scope,
        approved_addresses,
        teacher_quals,
        live_sessions,
    })
}

/// Every problem of package `p` as it stands, checked as of `on` (the submission date), with
/// what it shares with other packages taken from `cache` (module notes).
pub(crate) async fn problems_with<C: ConnectionTrait>(
    db: &C,
    keys: &crate::pii::DataKeys,
    p: &package::Model,
    on: NaiveDate,
    cache: &mut CheckCache,
) -> Result<Vec<FilingProblem>> {
    let mut out = Vec::new();
    // The institution first: a package of an unknown institution is an error, as before.
    cache.institution(db, p.institution_id).await?;
    let online_ok = crate::requests::online_approved_for_package(db, p.id).await?;
    cache.calendar(db).await?;
    let policy = cache.policy(db, p, on).await?;
    let rows: Vec<entry::Model> = cache.roster(db, p.id).await?.to_vec();
    let (trainees, _) = roster::counts_of(&rows);
    let (Some(inst), Some(calendar)) = (
        cache.institutions.get(&p.institution_id),
        cache.calendar.as_ref(),
    ) else {
        return Err(StoreError::NotFound {
            entity: "institution",
        });
    };
    let docs = doc_map(p);
    let sessions = sessions_of(p);
    let dates_missing = p.start_date.is_none() || p.planned_end.is_none();
    if p.start_date.is_none() {
        out.push(FilingProblem::error(
            "FIL_START_MISSING",
            "start_date",
            "请填写开班日期",
        ));
    }
    if p.planned_end.is_none() {
        out.push(FilingProblem::error(
            "FIL_END_MISSING",
            "planned_end",
            "请填写计划结束日期（含考试）",
        ));
    }
    let start = p.start_date.unwrap_or(on);
    let draft = FilingDraft {
        occupation: p.occupation.clone(),
        level: p.level.clone(),
        hours: hours_of(p),
        start,
        planned_end: p.planned_end.unwrap_or(start),
        location: location_of(p).unwrap_or(Location::RegisteredAddress),
        mode: mode_of(p),
        teachers: teachers_of(p),
        sessions: sessions.clone(),
        exam_content: !p.exam_content.trim().is_empty(),
        question_bank: p.question_bank_file_id.is_some(),
        documents: DocumentKind::ALL
            .into_iter()
            .filter(|k| docs.contains_key(k.code()))
            .collect::<BTreeSet<_>>(),
        trainees,
    };
    let ctx = FilingContext {
        scope: &inst.scope,
        registered_address: &inst.registered_address,
        approved_address_ids: &inst.approved_addresses,
        online_request_approved: online_ok,
        teacher_qualifications: &inst.teacher_quals,
        calendar,
        policy: &policy,
        submitted_on: on,
    };
    let date_codes = [
        "FIL_LEAD_TIME",
        "FIL_WINDOW",
        "FIL_END_BEFORE_START",
        "SCH_BEFORE_START",
        "SCH_AFTER_END",
    ];
    out.extend(
        check_filing(&draft, &ctx)
            .into_iter()
            .filter(|pr| !(dates_missing && date_codes.contains(&pr.code))),
    );
    // A teacher booked at the same time in another live class of the institution.
    let refs: Vec<OtherSession<'_>> = inst
        .live_sessions
        .iter()
        .filter(|(pid, _, _)| *pid != p.id)
        .flat_map(|(_, cid, ss)| {
            ss.iter().map(move |s| OtherSession {
                class_id: *cid,
                session: s,
            })
        })
        .collect();
    out.extend(teacher_conflicts_with_others(&sessions, &refs));
    // SPEC.md §4: under 16 on the start date is refused, whenever the age was last computed.
    if let Some(start) = p.start_date {
        let (too_young, _) = roster::ages_of(keys, &rows, start, policy.min_trainee_age)?;
        for t in too_young {
            out.push(FilingProblem::error(
                "ROSTER_AGE_TOO_YOUNG",
                "roster",
                format!(
                    "花名册{}：开班日期{start}时未满{}周岁，不能参训",
                    t.describe(),
                    policy.min_trainee_age
                ),
            ));
        }
    }
    // Trainees enrolled in another class at the same time (any institution): flagged.
    for o in roster::overlaps_from(db, p, &rows).await? {
        out.push(FilingProblem::warning(
            "ROSTER_OVERLAP",
            "roster",
            o.message,
        ));
    }
    Ok(out)
}
