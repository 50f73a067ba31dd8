//! The filing package (开班备案材料, R-FIL-1…5, R-FIL-7, R-FIL-8): what an institution assembles
//! for one class under its own agreement, checked by the machine before the centre sees it.
//!
//! A package is a draft until it is submitted: it may be saved incomplete
//! ([`create_package`], [`update_package`], [`attach_file`], [`crate::roster::import_roster`]).
//! [`submit_package`] runs [`check_package`] — `check_filing` (content, scope, R-FIL-3 lead
//! time, R-FIL-4 window, location, mode, teachers, schedule via `check_schedule`, exam, the six
//! documents), the roster size, and the teachers' bookings in the institution's other classes —
//! and refuses with **every** problem; when nothing blocks, the package enters the quota queue
//! through the queue's one submit path ([`crate::filings::submit_in_txn`], R-FIL-6) in the same
//! transaction, and `filing_id` links the package to its filing row from then on. A returned
//! filing's package is editable again and its submission is the resubmission (same slot, same
//! place). Overlapping enrolments of a trainee are flagged (warnings), not refused (SPEC.md §4).

use crate::entity::{agreement, filing, institution};
use crate::files::{self, FileOwner, FileRecord, FileStore};
use crate::filings::{self, FilingSubmission, FilingView, parse_class_state};
use crate::roster;
use crate::workflow_glue::{is_centre, today, with_retry};
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::filing::{DocumentKind, FilingProblem, Location, Mode};
use peixun_domain::role::Role;
use peixun_domain::schedule::Session;
use peixun_domain::workflow::class::{ClassAction, ClassState, CorrectionItem};
use peixun_import::FileType;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `filing_packages` table.
pub mod package {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "filing_packages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub institution_id: i64,
        pub agreement_id: i64,
        /// Set when the package entered the quota queue.
        pub filing_id: Option<i64>,
        pub occupation: String,
        pub level: String,
        /// Decimal as text.
        pub hours: String,
        pub start_date: Option<Date>,
        pub planned_end: Option<Date>,
        /// `filing::Location` as JSON.
        pub location: String,
        /// `offline` / `online`.
        pub mode: String,
        /// JSON list of teacher ids.
        pub teachers: String,
        /// JSON list of `schedule::Session`.
        pub sessions: String,
        pub exam_content: String,
        pub question_bank_file_id: Option<String>,
        /// JSON map document kind code → file id.
        pub documents: String,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Largest document upload (培训教材 may be a scanned book).
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;
/// Types accepted for the documents and the question bank.
pub const DOCUMENT_TYPES: [FileType; 5] = [
    FileType::Pdf,
    FileType::Docx,
    FileType::Xlsx,
    FileType::Jpeg,
    FileType::Png,
];
/// The upload slot of the question bank (besides the six [`DocumentKind`]s).
pub const QUESTION_BANK: &str = "question_bank";

/// What the institution fills in (all optional until submission).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PackageInput {
    pub occupation: String,
    pub level: String,
    pub hours: Decimal,
    pub start_date: Option<NaiveDate>,
    pub planned_end: Option<NaiveDate>,
    pub location: Option<Location>,
    pub mode: Mode,
    pub teachers: Vec<i64>,
    pub sessions: Vec<Session>,
    pub exam_content: String,
}

/// One upload slot and what is in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSlot {
    /// `brochure` … `subsidy_standard`, or `question_bank`.
    pub kind: String,
    pub label: String,
    pub file: Option<FileBrief>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileBrief {
    pub id: String,
    pub original_name: String,
    pub size: u64,
    pub mime: String,
    pub uploaded_at: DateTime<Utc>,
}

impl From<FileRecord> for FileBrief {
    fn from(r: FileRecord) -> Self {
        FileBrief {
            id: r.id,
            original_name: r.original_name,
            size: r.size,
            mime: r.mime,
            uploaded_at: r.uploaded_at,
        }
    }
}

/// A package as pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageView {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub agreement_id: i64,
    pub round_id: i64,
    pub filing_id: Option<i64>,
    /// The filing, once submitted.
    pub filing: Option<FilingView>,
    pub occupation: String,
    pub level: String,
    pub hours: Decimal,
    pub start_date: Option<NaiveDate>,
    pub planned_end: Option<NaiveDate>,
    pub location: Option<Location>,
    pub mode: Mode,
    pub teachers: Vec<i64>,
    pub sessions: Vec<Session>,
    pub exam_content: String,
    /// The six documents, then the question bank.
    pub documents: Vec<DocumentSlot>,
    pub trainees: usize,
    /// Trainees of a roster change awaiting the centre.
    pub pending_trainees: usize,
    /// The institution may edit it now (a draft, or returned for correction).
    pub editable: bool,
    /// What the centre asked to correct (a returned filing).
    pub correction_items: Vec<CorrectionItem>,
    pub updated_at: DateTime<Utc>,
}

fn is_institution(a: &Actor) -> bool {
    a.role.is_some_and(Role::is_institution)
}

/// The package if `viewer` may read it: its institution's users, the centre, bureau and city
/// (S6; sysadmin and auditor never, S7). The same rule as the lists.
pub(crate) async fn load_visible<C: ConnectionTrait>(
    db: &C,
    viewer: &Actor,
    id: i64,
) -> Result<package::Model> {
    let p = package::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "filing_package",
        })?;
    if !may_view(viewer, p.institution_id) {
        return Err(StoreError::forbidden("无权查看该开班备案材料"));
    }
    Ok(p)
}

/// The read rule for packages, rosters and their files (S6, S7).
pub fn may_view(viewer: &Actor, institution_id: i64) -> bool {
    !matches!(viewer.role, Some(Role::Sysadmin) | Some(Role::Auditor))
        && crate::institutions::can_view(viewer, institution_id)
}

/// The package if `actor` is one of its institution's users (writes).
pub(crate) async fn load_own<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<package::Model> {
    let p = package::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "filing_package",
        })?;
    if !is_institution(actor) || actor.institution_id != Some(p.institution_id) {
        return Err(StoreError::forbidden("只能修改本机构的开班备案材料"));
    }
    Ok(p)
}

pub(crate) fn doc_map(p: &package::Model) -> BTreeMap<String, String> {
    serde_json::from_str(&p.documents).unwrap_or_default()
}

pub(crate) fn location_of(p: &package::Model) -> Option<Location> {
    serde_json::from_str(&p.location).ok()
}

pub(crate) fn mode_of(p: &package::Model) -> Mode {
    if p.mode == "online" {
        Mode::Online
    } else {
        Mode::Offline
    }
}

pub(crate) fn sessions_of(p: &package::Model) -> Vec<Session> {
    serde_json::from_str(&p.sessions).unwrap_or_default()
}

pub(crate) fn teachers_of(p: &package::Model) -> Vec<i64> {
    serde_json::from_str(&p.teachers).unwrap_or_default()
}

pub(crate) fn hours_of(p: &package::Model) -> Decimal {
    p.hours.parse().unwrap_or(Decimal::ZERO)
}

/// May the institution edit the package in this filing state?
fn editable_state(state: Option<&ClassState>) -> bool {
    matches!(state, None | Some(ClassState::Returned { .. }))
}

async fn to_view<C: ConnectionTrait>(db: &C, p: package::Model) -> Result<PackageView> {
    let filing = match p.filing_id {
        Some(fid) => Some(filings::view_in(db, fid).await?),
        None => None,
    };
    let docs = doc_map(&p);
    let mut documents = Vec::new();
    let mut slots: Vec<(String, String, Option<String>)> = DocumentKind::ALL
        .iter()
        .map(|k| {
            (
                k.code().to_string(),
                k.label_zh().to_string(),
                docs.get(k.code()).cloned(),
            )
        })
        .collect();
    slots.push((
        QUESTION_BANK.into(),
        "考试题库".into(),
        p.question_bank_file_id.clone(),
    ));
    for (kind, label, fid) in slots {
        let file = match fid {
            Some(id) => files::get_file(db, &id).await.ok().map(FileBrief::from),
            None => None,
        };
        documents.push(DocumentSlot { kind, label, file });
    }
    let (trainees, pending_trainees) = roster::counts(db, p.id).await?;
    let inst = institution::Entity::find_by_id(p.institution_id)
        .one(db)
        .await?;
    let round_id = agreement::Entity::find_by_id(p.agreement_id)
        .one(db)
        .await?
        .map_or(0, |a| a.round_id);
    let correction_items = match filing.as_ref().map(|f| &f.state) {
        Some(ClassState::Returned { items, .. }) => items.clone(),
        _ => Vec::new(),
    };
    Ok(PackageView {
        editable: editable_state(filing.as_ref().map(|f| &f.state)),
        id: p.id,
        institution_id: p.institution_id,
        institution_name: inst.map(|i| i.name).unwrap_or_default(),
        agreement_id: p.agreement_id,
        round_id,
        filing_id: p.filing_id,
        filing,
        occupation: p.occupation.clone(),
        level: p.level.clone(),
        hours: hours_of(&p),
        start_date: p.start_date,
        planned_end: p.planned_end,
        location: location_of(&p),
        mode: mode_of(&p),
        teachers: teachers_of(&p),
        sessions: sessions_of(&p),
        exam_content: p.exam_content.clone(),
        documents,
        trainees,
        pending_trainees,
        correction_items,
        updated_at: p.updated_at,
    })
}

fn audit_summary(p: &package::Model) -> serde_json::Value {
    serde_json::json!({
        "occupation": p.occupation,
        "level": p.level,
        "hours": p.hours,
        "start_date": p.start_date,
        "planned_end": p.planned_end,
        "location": p.location,
        "mode": p.mode,
        "teachers": p.teachers,
        "sessions": sessions_of(p).len(),
        "documents": p.documents,
        "question_bank": p.question_bank_file_id,
    })
}

/// Start a package under the institution's own agreement (a draft).
pub async fn create_package(
    store: &Store,
    actor: &Actor,
    agreement_id: i64,
    now: DateTime<Utc>,
) -> Result<PackageView> {
    let Some(own) = actor.institution_id.filter(|_| is_institution(actor)) else {
        return Err(StoreError::forbidden("只有培训机构可以填报开班备案"));
    };
    let now = db_time(now);
    let id = with_retry!({
        let txn = store.begin_write().await?;
        let a = agreement::Entity::find_by_id(agreement_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "agreement",
            })?;
        if a.institution_id != own {
            return Err(StoreError::forbidden("不能使用其他培训机构的委托培训协议"));
        }
        if a.status == "terminated" {
            return Err(StoreError::validation(
                "AGREEMENT_TERMINATED",
                "该委托培训协议已终止，不能再开班备案",
                "agreement_id",
            ));
        }
        let m = package::ActiveModel {
            institution_id: Set(own),
            agreement_id: Set(a.id),
            filing_id: Set(None),
            occupation: Set(String::new()),
            level: Set(String::new()),
            hours: Set("0".into()),
            start_date: Set(None),
            planned_end: Set(None),
            location: Set(serde_json::to_string(&Location::RegisteredAddress).unwrap_or_default()),
            mode: Set("offline".into()),
            teachers: Set("[]".into()),
            sessions: Set("[]".into()),
            exam_content: Set(String::new()),
            question_bank_file_id: Set(None),
            documents: Set("{}".into()),
            created_by: Set(actor.user_id),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::append(
            &txn,
            actor,
            "filing_package.create",
            "filing_package",
            Some(m.id.to_string()),
            None,
            Some(audit_summary(&m)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(m.id)
    })?;
    get_package(store, actor, id).await
}

const MAX_TEXT: usize = 2000;
const MAX_SESSIONS: usize = 500;

/// Save the package's fields (a draft may be incomplete; only malformed values are refused).
pub async fn update_package(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &PackageInput,
    now: DateTime<Utc>,
) -> Result<PackageView> {
    // S6 first: another institution's package is refused before its input is looked at.
    load_own(store.db(), actor, id).await?;
    if input.occupation.chars().count() > 100 || input.level.chars().count() > 50 {
        return Err(StoreError::validation(
            "TOO_LONG",
            "职业（工种）不超过100字，技能等级不超过50字",
            "occupation",
        ));
    }
    if input.exam_content.chars().count() > MAX_TEXT * 5 {
        return Err(StoreError::validation(
            "TOO_LONG",
            format!("考试内容不超过{}字", MAX_TEXT * 5),
            "exam_content",
        ));
    }
    if input.sessions.len() > MAX_SESSIONS {
        return Err(StoreError::validation(
            "TOO_MANY_SESSIONS",
            format!("课程表不超过{MAX_SESSIONS}节"),
            "sessions",
        ));
    }
    if input.sessions.iter().any(|s| s.topic.chars().count() > 200) {
        return Err(StoreError::validation(
            "TOO_LONG",
            "课程内容不超过200字",
            "sessions",
        ));
    }
    if input.hours < Decimal::ZERO || input.hours > Decimal::from(10_000) {
        return Err(StoreError::validation(
            "FIL_HOURS",
            "培训课时须在0至10000之间",
            "hours",
        ));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let p = load_own(&txn, actor, id).await?;
        ensure_editable(&txn, &p).await?;
        let old = audit_summary(&p);
        // SPEC.md §4: ages are taken on the start date, so a new date checks every trainee
        // again: one under 16 then refuses the change; the others' ages and retirement
        // warnings follow the new date.
        let mut ages_updated = 0;
        if let Some(start) = input.start_date
            && p.start_date != Some(start)
        {
            let min_age = crate::policies::in_force(&txn, crate::workflow_glue::today(now))
                .await?
                .min_trainee_age;
            let (too_young, changed) =
                roster::recheck_ages(&txn, &store.keys()?.data, p.id, start, min_age, true).await?;
            if !too_young.is_empty() {
                let who: Vec<String> = too_young.iter().map(roster::TooYoung::describe).collect();
                return Err(StoreError::validation(
                    "ROSTER_AGE_TOO_YOUNG",
                    format!(
                        "开班日期改为{start}后，花名册中{}人未满{}周岁不能参训：{}。请先调整花名册或另选开班日期",
                        too_young.len(),
                        min_age,
                        who.join("、")
                    ),
                    "start_date",
                ));
            }
            ages_updated = changed;
        }
        let m = package::ActiveModel {
            id: Set(p.id),
            occupation: Set(input.occupation.trim().to_string()),
            level: Set(input.level.trim().to_string()),
            hours: Set(input.hours.normalize().to_string()),
            start_date: Set(input.start_date),
            planned_end: Set(input.planned_end),
            location: Set(serde_json::to_string(
                &input
                    .location
                    .clone()
                    .unwrap_or(Location::RegisteredAddress),
            )
            .unwrap_or_default()),
            mode: Set(match input.mode {
                Mode::Online => "online".into(),
                Mode::Offline => "offline".into(),
            }),
            teachers: Set(serde_json::to_string(&input.teachers).unwrap_or("[]".into())),
            sessions: Set(serde_json::to_string(&input.sessions).unwrap_or("[]".into())),
            exam_content: Set(input.exam_content.trim().to_string()),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        audit::append(
            &txn,
            actor,
            "filing_package.update",
            "filing_package",
            Some(p.id.to_string()),
            Some(old),
            Some({
                let mut new = audit_summary(&m);
                if ages_updated > 0 {
                    new["roster_ages_updated"] = serde_json::json!(ages_updated);
                }
                new
            }),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    })?;
    get_package(store, actor, id).await
}

async fn ensure_editable<C: ConnectionTrait>(db: &C, p: &package::Model) -> Result<()> {
    if let Some(fid) = p.filing_id {
        let s = filings::load_state(db, fid).await?;
        if !editable_state(Some(&s)) {
            return Err(StoreError::conflict(
                "PACKAGE_LOCKED",
                format!(
                    "开班备案当前状态为“{}”，材料不能修改（退回修改后方可修改）",
                    s.label_zh()
                ),
                "package",
            ));
        }
    }
    Ok(())
}

/// Upload one of the six documents or the question bank (S16: type sniffed from the content,
/// size limit, generated name outside any served folder). The file row, the package and the
/// audit row commit together; the content is removed again when they cannot.
#[allow(clippy::too_many_arguments)]
pub async fn attach_file(
    store: &Store,
    file_store: &FileStore,
    actor: &Actor,
    id: i64,
    slot: &str,
    bytes: &[u8],
    declared_name: &str,
    now: DateTime<Utc>,
) -> Result<PackageView> {
    let kind = DocumentKind::ALL.into_iter().find(|k| k.code() == slot);
    if kind.is_none() && slot != QUESTION_BANK {
        return Err(StoreError::validation(
            "DOCUMENT_KIND",
            "未知的材料类型",
            "kind",
        ));
    }
    // Refuse early (before writing anything) when the actor may not edit.
    let p = load_own(store.db(), actor, id).await?;
    ensure_editable(store.db(), &p).await?;
    let stored = file_store
        .put_bytes(bytes, declared_name, &DOCUMENT_TYPES, MAX_DOCUMENT_BYTES)
        .await
        .map_err(|e| match e {
            StoreError::Validation { code, message, .. } => StoreError::Validation {
                code,
                message,
                field: Some(slot.to_string()),
            },
            other => other,
        })?;
    let now = db_time(now);
    let purpose = format!("filing_document:{slot}");
    let result = with_retry!({
        let txn = store.begin_write().await?;
        let p = load_own(&txn, actor, id).await?;
        ensure_editable(&txn, &p).await?;
        let rec = files::record_file(
            &txn,
            &stored,
            &FileOwner {
                purpose: &purpose,
                institution_id: Some(p.institution_id),
            },
            actor,
            now,
        )
        .await?;
        let mut am = package::ActiveModel {
            id: Set(p.id),
            updated_at: Set(now),
            ..Default::default()
        };
        let old;
        if slot == QUESTION_BANK {
            old = p.question_bank_file_id.clone();
            am.question_bank_file_id = Set(Some(rec.id.clone()));
        } else {
            let mut docs = doc_map(&p);
            old = docs.insert(slot.to_string(), rec.id.clone());
            am.documents = Set(serde_json::to_string(&docs).unwrap_or("{}".into()));
        }
        am.update(&txn).await?;
        audit::append(
            &txn,
            actor,
            "filing_package.upload",
            "filing_package",
            Some(p.id.to_string()),
            Some(serde_json::json!({ "slot": slot, "file": old })),
            Some(serde_json::json!({
                "slot": slot,
                "file": rec.id,
                "mime": rec.mime,
                "size": rec.size,
            })),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    });
    if let Err(e) = result {
        let _ = file_store.delete(&stored.id).await;
        return Err(e);
    }
    get_package(store, actor, id).await
}

/// One package (S6: its institution, the centre, bureau, city).
pub async fn get_package(store: &Store, viewer: &Actor, id: i64) -> Result<PackageView> {
    let p = load_visible(store.db(), viewer, id).await?;
    to_view(store.db(), p).await
}

/// The package of a filing, if it has one.
pub async fn package_of_filing(
    store: &Store,
    viewer: &Actor,
    filing_id: i64,
) -> Result<Option<PackageView>> {
    let Some(p) = package::Entity::find()
        .filter(package::Column::FilingId.eq(filing_id))
        .one(store.db())
        .await?
    else {
        return Ok(None);
    };
    if !may_view(viewer, p.institution_id) {
        return Err(StoreError::forbidden("无权查看该开班备案材料"));
    }
    Ok(Some(to_view(store.db(), p).await?))
}

/// A package's row in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageSummary {
    pub id: i64,
    pub institution_id: i64,
    pub agreement_id: i64,
    pub filing_id: Option<i64>,
    pub occupation: String,
    pub level: String,
    pub start_date: Option<NaiveDate>,
    /// `draft` until submitted, then the filing's status code.
    pub status: String,
    pub status_label: String,
    pub updated_at: DateTime<Utc>,
}

/// The packages the viewer may see (institutions: their own), newest first.
pub async fn list_packages(store: &Store, viewer: &Actor) -> Result<Vec<PackageSummary>> {
    if matches!(viewer.role, Some(Role::Sysadmin) | Some(Role::Auditor)) {
        return Err(StoreError::forbidden("无权查看开班备案材料"));
    }
    let scope = crate::institutions::institution_scope(viewer)
        .condition(package::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看开班备案材料"))?;
    let rows = package::Entity::find()
        .filter(scope)
        .order_by_desc(package::Column::UpdatedAt)
        .order_by_desc(package::Column::Id)
        .all(store.db())
        .await?;
    let fids: Vec<i64> = rows.iter().filter_map(|p| p.filing_id).collect();
    let states: BTreeMap<i64, ClassState> = filing::Entity::find()
        .filter(filing::Column::Id.is_in(fids))
        .all(store.db())
        .await?
        .into_iter()
        .map(|f| (f.id, parse_class_state(&f.state)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|p| {
            let st = p.filing_id.and_then(|f| states.get(&f));
            PackageSummary {
                id: p.id,
                institution_id: p.institution_id,
                agreement_id: p.agreement_id,
                filing_id: p.filing_id,
                occupation: p.occupation,
                level: p.level,
                start_date: p.start_date,
                status: st.map_or("draft", |s| s.code()).to_string(),
                status_label: st.map_or("草稿（未提交）", |s| s.label_zh()).to_string(),
                updated_at: p.updated_at,
            }
        })
        .collect())
}

/// Every problem of the package as it stands, checked as of `on` (the submission date):
/// `check_filing` (incl. `check_schedule`), missing dates, the teachers' bookings in the
/// institution's other live classes (errors), the trainees' overlapping enrolments (warnings).
/// One package alone; a page of packages shares what they have in common through
/// [`crate::package_checks::problems_with`].
pub(crate) async fn problems_of<C: ConnectionTrait>(
    db: &C,
    keys: &crate::pii::DataKeys,
    p: &package::Model,
    on: NaiveDate,
) -> Result<Vec<FilingProblem>> {
    crate::package_checks::problems_with(
        db,
        keys,
        p,
        on,
        &mut crate::package_checks::CheckCache::default(),
    )
    .await
}

/// For a resubmission through the queue's service ([`crate::filings::resubmit_filing`]): the
/// filing's package has no blocking problem (R-FIL-5). A filing without a package (the removed
/// minimal filing) never passes: it needs a package first ([`crate::package_gate`]).
pub(crate) async fn resubmission_ok<C: ConnectionTrait>(
    db: &C,
    keys: &crate::pii::DataKeys,
    filing_id: i64,
    on: NaiveDate,
) -> Result<bool> {
    let Some(p) = package::Entity::find()
        .filter(package::Column::FilingId.eq(filing_id))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    Ok(!problems_of(db, keys, &p, on)
        .await?
        .iter()
        .any(FilingProblem::is_blocking))
}

/// The package's problems if it were submitted at `now` (pages show these before submitting).
pub async fn check_package(
    store: &Store,
    viewer: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<FilingProblem>> {
    let p = load_visible(store.db(), viewer, id).await?;
    problems_of(store.db(), &store.keys()?.data, &p, today(now)).await
}

/// A submission's outcome: in the queue (or resubmitted), or refused with every problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SubmitOutcome {
    Submitted {
        package: Box<PackageView>,
        /// Warnings shown with the confirmation (non-working-day sessions, overlaps).
        warnings: Vec<FilingProblem>,
    },
    Refused {
        problems: Vec<FilingProblem>,
    },
}

/// Submit (or, for a returned filing, resubmit) the package: every check at once; nothing
/// changes unless nothing blocks (R-VAL-1). A first submission enters the quota queue by the
/// queue's one path (R-FIL-6); a resubmission keeps the slot and the place.
pub async fn submit_package(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<SubmitOutcome> {
    let now = db_time(now);
    let on = today(now);
    let owned = actor.clone();
    // Group commit: submissions arriving together share one write transaction, each in its own
    // savepoint, and are answered once it committed (crate::group_commit).
    let outcome = store
        .group_commit(move |store, txn| {
            let actor = owned.clone();
            Box::pin(async move { submit_in_txn(store, txn, &actor, id, now, on).await })
        })
        .await?;
    // The committed view (the placeholder in the transaction only carries the warnings out).
    Ok(match outcome {
        SubmitOutcome::Submitted { warnings, .. } => SubmitOutcome::Submitted {
            package: Box::new(get_package(store, actor, id).await?),
            warnings,
        },
        refused => refused,
    })
}

/// [`submit_package`]'s work inside the (shared) write transaction: load, check, enter the
/// queue or resubmit, audit.
async fn submit_in_txn(
    store: &Store,
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
    on: NaiveDate,
) -> Result<SubmitOutcome> {
    let p = load_own(txn, actor, id).await?;
    ensure_editable(txn, &p).await?;
    let problems = problems_of(txn, &store.keys()?.data, &p, on).await?;
    if problems.iter().any(FilingProblem::is_blocking) {
        return Ok(SubmitOutcome::Refused { problems });
    }
    let warnings = problems;
    let Some(start) = p.start_date else {
        return Err(StoreError::validation(
            "FIL_START_MISSING",
            "请填写开班日期",
            "start_date",
        ));
    };
    let own = p.institution_id;
    match p.filing_id {
        None => {
            let input = FilingSubmission {
                agreement_id: p.agreement_id,
                occupation: p.occupation.clone(),
                level: p.level.clone(),
                start_date: start,
            };
            let v = filings::submit_in_txn(
                store,
                txn,
                actor,
                own,
                &input.occupation,
                &input.level,
                &input,
                true,
                now,
            )
            .await?;
            package::ActiveModel {
                id: Set(p.id),
                filing_id: Set(Some(v.id)),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(txn)
            .await?;
        }
        Some(fid) => {
            // The corrected content travels with the resubmission.
            filing::ActiveModel {
                id: Set(fid),
                occupation: Set(p.occupation.clone()),
                level: Set(p.level.clone()),
                start_date: Set(start),
                ..Default::default()
            }
            .update(txn)
            .await?;
            filings::act_in_txn(
                store,
                txn,
                actor,
                fid,
                &ClassAction::Resubmit,
                "filing.resubmit",
                None,
                Some(true),
                now,
            )
            .await?;
        }
    }
    audit::append(
        txn,
        actor,
        "filing_package.submit",
        "filing_package",
        Some(p.id.to_string()),
        None,
        Some(serde_json::json!({
            "warnings": warnings.iter().map(|w| w.code).collect::<Vec<_>>(),
        })),
        now,
    )
    .await?;
    Ok(SubmitOutcome::Submitted {
        package: Box::new(PackageView {
            id: p.id,
            institution_id: own,
            institution_name: String::new(),
            agreement_id: p.agreement_id,
            round_id: 0,
            filing_id: None,
            filing: None,
            occupation: String::new(),
            level: String::new(),
            hours: Decimal::ZERO,
            start_date: None,
            planned_end: None,
            location: None,
            mode: Mode::Offline,
            teachers: Vec::new(),
            sessions: Vec::new(),
            exam_content: String::new(),
            documents: Vec::new(),
            trainees: 0,
            pending_trainees: 0,
            editable: false,
            correction_items: Vec::new(),
            updated_at: now,
        }),
        warnings,
    })
}

/// A package file for download: the file's record if `viewer` may read the package it belongs
/// to (S6, S16). Anything else is `NotFound` (an institution never learns another's file ids).
pub async fn package_file(
    store: &Store,
    viewer: &Actor,
    package_id: i64,
    file_id: &str,
) -> Result<FileRecord> {
    let p = load_visible(store.db(), viewer, package_id)
        .await
        .map_err(|e| match e {
            StoreError::Forbidden { .. } => StoreError::NotFound { entity: "file" },
            other => other,
        })?;
    let docs = doc_map(&p);
    let belongs =
        docs.values().any(|f| f == file_id) || p.question_bank_file_id.as_deref() == Some(file_id);
    if !belongs {
        return Err(StoreError::NotFound { entity: "file" });
    }
    let rec = files::get_file(store.db(), file_id).await?;
    if !files::may_read(viewer, &rec) {
        return Err(StoreError::NotFound { entity: "file" });
    }
    Ok(rec)
}

/// Log a download of a package file (S10: personal data may be in it).
pub async fn record_download(
    store: &Store,
    viewer: &Actor,
    rec: &FileRecord,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::audit::record(
        store,
        viewer,
        "file.download",
        "file",
        Some(rec.id.clone()),
        serde_json::json!({ "purpose": rec.purpose }),
        now,
    )
    .await
    .map(|_| ())
}

/// Whether `actor` is a centre user (review buttons).
pub fn is_centre_user(actor: &Actor) -> bool {
    is_centre(actor)
}
