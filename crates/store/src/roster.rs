//! The roster (花名册) of a filing package: import, list, overlap check (R-FIL-2, R-VAL-1,
//! SECURITY.md S13, S14, S22; SPEC.md §4).
//!
//! * **All or nothing.** [`import_roster`] reads the file ([`peixun_import::read_roster_detailed`]),
//!   checks every row ([`validate_roster`]) and, only when every row is good and the class is
//!   large enough, replaces the package's roster in **one** write transaction (delete + insert +
//!   audit). A refused import changes nothing and lists every bad row; a killed import rolls
//!   back with its transaction, leaving the previous roster whole.
//! * **After approval** the import is a roster *change*: the new rows are stored `pending`, the
//!   class goes to [`ClassState::RosterReview`] in the same transaction, and the centre approves
//!   (pending rows replace the roster) or rejects (they are dropped) — [`crate::review`].
//! * **Overlaps.** Each ID number's keyed hash ([`RosterKey::person_key`], HMAC-SHA256 with a
//!   server key, S14) finds the same person on another active class (any institution) whose dates
//!   overlap; these are flagged, not refused (SPEC.md §4).
//! * **At rest** (S14). The ID number is stored encrypted (AES-256-GCM, [`crate::pii`]) with
//!   its masked form beside it (`id_masked`, for lists); the full number leaves the store only
//!   through [`reveal_id_number`], audited with a reason (R-PII-1, S13).

use crate::filing_package::{self, package};
use crate::filings::{self, parse_class_state};
use crate::pii::Field;
use crate::rounds::TargetGroup;
use crate::workflow_glue::with_retry;
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::ids::{AgeCheck, PersonId, check_age, mask_id};
use peixun_domain::roster::{
    EnrollmentElsewhere, RosterContext, RowProblem, ValidTrainee, overlapping_enrollments,
    validate_roster,
};
use peixun_domain::workflow::class::{ClassAction, ClassState};
use peixun_import::FileType;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The `roster_entries` table.
pub mod entry {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "roster_entries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub package_id: i64,
        /// A roster change awaiting the centre (R-RUN-2).
        pub pending: bool,
        pub row_number: i32,
        pub name: String,
        pub id_kind: String,
        /// The ID number's ciphertext (`v1:<key id>:…`, [`crate::pii`], S14): never read it
        /// directly; lists use `id_masked`, the full number [`super::reveal_id_number`].
        pub id_number: String,
        /// The masked number, written at import (R-PII-1, S13): lists need no key.
        pub id_masked: String,
        /// HMAC-SHA256 (hex) of the ID number (S14).
        pub person_key: String,
        pub phone: String,
        pub residence: String,
        /// JSON list of key-target groups.
        pub groups: String,
        pub age: Option<i32>,
        pub over_retirement: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod reveal;
pub use crate::pii::RosterKey;
pub use reveal::{TraineeRef, can_reveal_id_number, get_trainee, reveal_id_number};

/// Largest roster file accepted.
pub const MAX_ROSTER_BYTES: usize = 8 * 1024 * 1024;

/// One trainee as lists show it: ID number masked (R-PII-1, S13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraineeView {
    pub id: i64,
    pub row_number: u32,
    pub name: String,
    pub id_kind: String,
    pub id_number_masked: String,
    pub phone_masked: String,
    pub residence: String,
    pub groups: Vec<String>,
    pub age: Option<u32>,
    /// At or over the retirement age: subsidy not payable (warning).
    pub over_retirement_age: bool,
}

fn mask_phone(p: &str) -> String {
    let c: Vec<char> = p.chars().collect();
    if c.len() == 11 {
        format!(
            "{}****{}",
            c[..3].iter().collect::<String>(),
            c[7..].iter().collect::<String>()
        )
    } else {
        mask_id(p)
    }
}

/// The stored masked number; a row from before encryption (not yet converted by
/// [`crate::at_rest::encrypt_legacy_rows`]) is masked from its plaintext.
fn masked_of(m: &entry::Model) -> String {
    if !m.id_masked.is_empty() {
        m.id_masked.clone()
    } else if m.id_number.starts_with(crate::pii::FIELD_PREFIX) {
        "******".into()
    } else {
        mask_id(&m.id_number)
    }
}

pub(crate) fn to_view(m: entry::Model) -> TraineeView {
    let masked = masked_of(&m);
    TraineeView {
        id: m.id,
        row_number: m.row_number.max(0) as u32,
        name: m.name,
        id_kind: m.id_kind,
        id_number_masked: masked,
        phone_masked: mask_phone(&m.phone),
        residence: m.residence,
        groups: serde_json::from_str(&m.groups).unwrap_or_default(),
        age: m.age.map(|a| a.max(0) as u32),
        over_retirement_age: m.over_retirement,
    }
}

/// The same person on another class whose dates overlap (SPEC.md §4): flagged, not refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlapView {
    /// Row in the imported file.
    pub row_number: u32,
    pub name: String,
    pub id_number_masked: String,
    /// The other class (its filing id when it was submitted, else the package id).
    pub other_package_id: i64,
    pub other_filing_id: Option<i64>,
    pub other_start: NaiveDate,
    pub other_end: NaiveDate,
    /// Another institution's class (its name is not shown to the importing institution).
    pub other_institution: bool,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub imported: usize,
    /// Warnings (over retirement age, notes about cells).
    pub warnings: Vec<RowProblem>,
    pub overlaps: Vec<OverlapView>,
    /// The roster was a change after approval: it waits for the centre (R-RUN-2).
    pub pending_review: bool,
}

/// An import's outcome: done, or refused with every problem (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ImportOutcome {
    Imported(ImportReport),
    Refused { problems: Vec<RowProblem> },
}

/// Overlapping enrolments of `keys` (person key → (row, name, masked id)) on other active
/// classes whose dates meet `start..=end`.
pub(crate) async fn find_overlaps<C: sea_orm::ConnectionTrait>(
    db: &C,
    package_id: i64,
    institution_id: i64,
    start: NaiveDate,
    end: NaiveDate,
    keys: &HashMap<String, (u32, String, String)>,
) -> Result<Vec<OverlapView>> {
    let all: Vec<String> = keys.keys().cloned().collect();
    let mut others: Vec<entry::Model> = Vec::new();
    for chunk in all.chunks(500) {
        others.extend(
            entry::Entity::find()
                .filter(entry::Column::PersonKey.is_in(chunk.to_vec()))
                .filter(entry::Column::PackageId.ne(package_id))
                .filter(entry::Column::Pending.eq(false))
                .all(db)
                .await?,
        );
    }
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let pkg_ids: HashSet<i64> = others.iter().map(|e| e.package_id).collect();
    let pkgs: HashMap<i64, package::Model> = package::Entity::find()
        .filter(package::Column::Id.is_in(pkg_ids.into_iter().collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    // Only classes that are in the queue or running count (a draft or a closed filing does not).
    let filing_ids: Vec<i64> = pkgs.values().filter_map(|p| p.filing_id).collect();
    let live: HashSet<i64> = crate::entity::filing::Entity::find()
        .filter(crate::entity::filing::Column::Id.is_in(filing_ids))
        .all(db)
        .await?
        .into_iter()
        .filter(|f| !parse_class_state(&f.state).is_final())
        .map(|f| f.id)
        .collect();
    let mut elsewhere = Vec::new();
    for e in &others {
        let Some(p) = pkgs.get(&e.package_id) else {
            continue;
        };
        let (Some(s), Some(t), Some(fid)) = (p.start_date, p.planned_end, p.filing_id) else {
            continue;
        };
        if !live.contains(&fid) {
            continue;
        }
        elsewhere.push((e.person_key.clone(), p.id, s, t, fid, p.institution_id));
    }
    let refs: Vec<EnrollmentElsewhere<'_>> = elsewhere
        .iter()
        .map(|(k, pid, s, t, _, _)| EnrollmentElsewhere {
            person_key: k,
            class_id: *pid,
            start: *s,
            end: *t,
        })
        .collect();
    let persons: Vec<&str> = keys.keys().map(String::as_str).collect();
    let mut out: Vec<OverlapView> = overlapping_enrollments(start, end, &persons, &refs)
        .into_iter()
        .filter_map(|o| {
            let (row, name, masked) = keys.get(&o.person_key)?;
            let (_, pid, _, _, fid, inst) = elsewhere
                .iter()
                .find(|x| x.1 == o.other_class_id && x.0 == o.person_key)?;
            Some(OverlapView {
                row_number: *row,
                name: name.clone(),
                id_number_masked: masked.clone(),
                other_package_id: *pid,
                other_filing_id: Some(*fid),
                other_start: o.other_start,
                other_end: o.other_end,
                other_institution: *inst != institution_id,
                message: format!(
                    "第{row}行 {name}（{masked}）已在另一培训班（{}至{}{}）参训，培训时间重叠",
                    o.other_start,
                    o.other_end,
                    if *inst != institution_id {
                        "，其他机构"
                    } else {
                        ""
                    }
                ),
            })
        })
        .collect();
    out.sort_by_key(|o| (o.row_number, o.other_package_id));
    out.dedup_by_key(|o| (o.row_number, o.other_package_id));
    Ok(out)
}

fn import_error_problems(e: peixun_import::ImportError) -> Vec<RowProblem> {
    if e.problems.is_empty() {
        vec![RowProblem {
            row_number: None,
            column: None,
            code: e.code,
            message: e.message,
        }]
    } else {
        let mut v = vec![RowProblem {
            row_number: None,
            column: None,
            code: e.code,
            message: e.message,
        }];
        v.extend(e.problems);
        v
    }
}

/// R-FIL-2, R-VAL-1, S22: import a roster file into package `package_id` — every row checked,
/// nothing imported unless all are good, the roster replaced atomically; after approval the
/// import is a roster change for the centre to review (R-RUN-2).
#[allow(clippy::too_many_arguments)]
pub async fn import_roster(
    store: &Store,
    actor: &Actor,
    key: &RosterKey,
    package_id: i64,
    bytes: &[u8],
    declared: Option<FileType>,
    now: DateTime<Utc>,
) -> Result<ImportOutcome> {
    let now = db_time(now);
    let p = filing_package::load_own(store.db(), actor, package_id).await?;
    let Some(start) = p.start_date else {
        return Err(StoreError::validation(
            "ROSTER_START_MISSING",
            "请先在备案材料中填写开班日期（年龄按开班日期计算），再导入花名册",
            "start_date",
        ));
    };
    let end = p.planned_end.unwrap_or(start);
    if bytes.len() > MAX_ROSTER_BYTES {
        return Ok(ImportOutcome::Refused {
            problems: vec![RowProblem {
                row_number: None,
                column: None,
                code: "IMPORT_TOO_LARGE",
                message: format!("花名册文件不能超过{} MB", MAX_ROSTER_BYTES / 1024 / 1024),
            }],
        });
    }
    // Parsing up to 64 MiB unpacked is blocking work: off the async workers.
    let owned = bytes.to_vec();
    let parsed =
        tokio::task::spawn_blocking(move || peixun_import::read_roster_detailed(&owned, declared))
            .await
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("roster parse: {e}"))))?;
    let read = match parsed {
        Ok(r) => r,
        Err(e) => {
            return Ok(ImportOutcome::Refused {
                problems: import_error_problems(e),
            });
        }
    };
    let groups: Vec<String> = round_groups(store, p.agreement_id).await?;
    // R-POL-1: the version in force today (the class's package is not yet decided); the
    // minimum age is a policy value, the retirement ages are national law (code constants).
    let policy = crate::policies::in_force(store.db(), crate::workflow_glue::today(now)).await?;
    let ctx = RosterContext {
        start_date: start,
        policy: &policy,
        known_groups: &groups,
        min_age: policy.min_trainee_age,
    };
    let valid = match validate_roster(&read.rows, &ctx) {
        Ok(v) => v,
        Err(mut problems) => {
            // Notes (an ID stored as a number) explain some problems: show them too.
            problems.extend(read.notes);
            return Ok(ImportOutcome::Refused { problems });
        }
    };
    let data_keys = store.keys()?.data;
    let mut warnings = read.notes;
    warnings.extend(valid.warnings.iter().cloned());
    let keyed: Vec<(String, &ValidTrainee)> = valid
        .trainees
        .iter()
        .map(|t| (key.person_key(t.id.as_str()), t))
        .collect();
    let key_map: HashMap<String, (u32, String, String)> = keyed
        .iter()
        .map(|(k, t)| {
            (
                k.clone(),
                (t.row_number, t.name.clone(), mask_id(t.id.as_str())),
            )
        })
        .collect();
    let overlaps = find_overlaps(store.db(), p.id, p.institution_id, start, end, &key_map).await?;
    let count = keyed.len();
    let pending_review = with_retry!({
        let txn = store.begin_write().await?;
        let p = filing_package::load_own(&txn, actor, package_id).await?;
        let state = match p.filing_id {
            Some(fid) => Some(filings::load_state(&txn, fid).await?),
            None => None,
        };
        let pending = match &state {
            None | Some(ClassState::Returned { .. }) => false,
            Some(ClassState::Approved) | Some(ClassState::InTraining) => true,
            Some(s) => {
                return Err(StoreError::conflict(
                    "ROSTER_LOCKED",
                    format!("开班备案当前状态为“{}”，不能导入花名册", s.label_zh()),
                    "roster",
                ));
            }
        };
        let old_count = entry::Entity::find()
            .filter(entry::Column::PackageId.eq(p.id))
            .filter(entry::Column::Pending.eq(false))
            .all(&txn)
            .await?
            .len();
        // Replace: a pending change replaces an earlier pending one; otherwise the roster.
        entry::Entity::delete_many()
            .filter(entry::Column::PackageId.eq(p.id))
            .filter(entry::Column::Pending.eq(pending))
            .exec(&txn)
            .await?;
        let rows: Vec<entry::ActiveModel> = keyed
            .iter()
            .map(|(k, t)| entry::ActiveModel {
                package_id: Set(p.id),
                pending: Set(pending),
                row_number: Set(t.row_number as i32),
                name: Set(t.name.clone()),
                id_kind: Set(t.id.kind().label_zh().to_string()),
                id_number: Set(data_keys.encrypt_field(Field::TraineeIdNumber, t.id.as_str())),
                id_masked: Set(mask_id(t.id.as_str())),
                person_key: Set(k.clone()),
                phone: Set(t.phone.clone()),
                residence: Set(t.residence.label_zh().to_string()),
                groups: Set(serde_json::to_string(&t.groups).unwrap_or("[]".into())),
                age: Set(t.age.map(|a| a as i32)),
                over_retirement: Set(t.over_retirement_age),
                ..Default::default()
            })
            .collect();
        for chunk in rows.chunks(200) {
            entry::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        if pending && let Some(fid) = p.filing_id {
            filings::act_in_txn(
                store,
                &txn,
                actor,
                fid,
                &ClassAction::ChangeRoster,
                "filing.change_roster",
                None,
                None,
                now,
            )
            .await?;
        }
        package::ActiveModel {
            id: Set(p.id),
            updated_at: Set(now),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        audit::append(
            &txn,
            actor,
            if pending {
                "roster.change"
            } else {
                "roster.import"
            },
            "filing_package",
            Some(p.id.to_string()),
            Some(serde_json::json!({ "trainees": old_count })),
            Some(serde_json::json!({
                "trainees": count,
                "pending": pending,
                "overlaps": overlaps.len(),
            })),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(pending)
    })?;
    Ok(ImportOutcome::Imported(ImportReport {
        imported: count,
        warnings,
        overlaps,
        pending_review,
    }))
}

async fn round_groups(store: &Store, agreement_id: i64) -> Result<Vec<String>> {
    let Some(a) = crate::entity::agreement::Entity::find_by_id(agreement_id)
        .one(store.db())
        .await?
    else {
        return Ok(Vec::new());
    };
    let Some(r) = crate::entity::round::Entity::find_by_id(a.round_id)
        .one(store.db())
        .await?
    else {
        return Ok(Vec::new());
    };
    let groups: Vec<TargetGroup> = serde_json::from_str(&r.target_groups).unwrap_or_default();
    Ok(groups.into_iter().map(|g| g.name).collect())
}

/// The package's roster (`pending`: the change awaiting review), masked. Who may read the
/// package may read its roster (S6).
pub async fn list_roster(
    store: &Store,
    viewer: &Actor,
    package_id: i64,
    pending: bool,
) -> Result<Vec<TraineeView>> {
    let p = filing_package::load_visible(store.db(), viewer, package_id).await?;
    Ok(entry::Entity::find()
        .filter(entry::Column::PackageId.eq(p.id))
        .filter(entry::Column::Pending.eq(pending))
        .order_by_asc(entry::Column::RowNumber)
        .order_by_asc(entry::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(to_view)
        .collect())
}

/// Trainees on the current roster and on a pending change.
pub(crate) async fn counts<C: sea_orm::ConnectionTrait>(
    db: &C,
    package_id: i64,
) -> Result<(usize, usize)> {
    let all = entry::Entity::find()
        .filter(entry::Column::PackageId.eq(package_id))
        .all(db)
        .await?;
    Ok(counts_of(&all))
}

/// [`counts`] of rows already read (all of one package's).
pub(crate) fn counts_of(all: &[entry::Model]) -> (usize, usize) {
    let pending = all.iter().filter(|e| e.pending).count();
    (all.len() - pending, pending)
}

/// Overlaps of the package's current roster with other classes (for the package check), from
/// the package's roster rows already read (pending rows are skipped).
pub(crate) async fn overlaps_from<C: sea_orm::ConnectionTrait>(
    db: &C,
    p: &package::Model,
    rows: &[entry::Model],
) -> Result<Vec<OverlapView>> {
    let (Some(s), Some(e)) = (p.start_date, p.planned_end) else {
        return Ok(Vec::new());
    };
    let keys: HashMap<String, (u32, String, String)> = rows
        .iter()
        .filter(|r| !r.pending)
        .map(|r| {
            let masked = masked_of(r);
            (
                r.person_key.clone(),
                (r.row_number.max(0) as u32, r.name.clone(), masked),
            )
        })
        .collect();
    find_overlaps(db, p.id, p.institution_id, s, e, &keys).await
}

/// A trainee under the minimum age on a (new) start date (SPEC.md §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooYoung {
    pub row_number: u32,
    pub name: String,
    pub age: u32,
    pub pending: bool,
}

impl TooYoung {
    /// "第3行 张三（15周岁）".
    pub fn describe(&self) -> String {
        format!(
            "{}第{}行 {}（{}周岁）",
            if self.pending { "待审核变更" } else { "" },
            self.row_number,
            self.name,
            self.age
        )
    }
}

/// The package's trainees (roster and pending change) checked again against `start`: who is
/// under the minimum age (`min_age`, the policy's, R-POL-1) then, and the stored age and retirement warning brought up to date
/// for everyone else (SPEC.md §4: ages are taken on the class start date). Returns the
/// too-young trainees (nothing is written for them: the caller refuses the change) and how many
/// rows changed. Inside the caller's transaction; the ID numbers are decrypted with `keys`.
pub(crate) async fn recheck_ages<C: sea_orm::ConnectionTrait>(
    txn: &C,
    keys: &crate::pii::DataKeys,
    package_id: i64,
    start: NaiveDate,
    min_age: u32,
    write: bool,
) -> Result<(Vec<TooYoung>, usize)> {
    let rows = entry::Entity::find()
        .filter(entry::Column::PackageId.eq(package_id))
        .order_by_asc(entry::Column::Pending)
        .order_by_asc(entry::Column::RowNumber)
        .all(txn)
        .await?;
    let (too_young, updates) = ages_of(keys, &rows, start, min_age)?;
    let changed = updates.len();
    if write && too_young.is_empty() {
        for (id, age, over) in updates {
            entry::ActiveModel {
                id: Set(id),
                age: Set(age),
                over_retirement: Set(over),
                ..Default::default()
            }
            .update(txn)
            .await?;
        }
    }
    Ok((too_young, changed))
}

/// A stored row's new (age, over retirement), by entry id.
type AgeUpdate = (i64, Option<i32>, bool);

/// The age check of [`recheck_ages`] over rows already read (current roster first, then by row
/// number): the too-young trainees and the rows whose stored age is out of date.
pub(crate) fn ages_of(
    keys: &crate::pii::DataKeys,
    rows: &[entry::Model],
    start: NaiveDate,
    min_age: u32,
) -> Result<(Vec<TooYoung>, Vec<AgeUpdate>)> {
    let mut too_young = Vec::new();
    let mut updates = Vec::new();
    for r in rows {
        // Stored rows passed the import's checks; a number that no longer parses is left as is.
        let plain = if r.id_number.starts_with(crate::pii::FIELD_PREFIX) {
            keys.decrypt_field(Field::TraineeIdNumber, &r.id_number)?
        } else {
            r.id_number.clone()
        };
        let Ok(id) = PersonId::parse(&plain) else {
            continue;
        };
        let (age, over) = match check_age(&id, start, min_age) {
            AgeCheck::TooYoung { age } => {
                too_young.push(TooYoung {
                    row_number: r.row_number.max(0) as u32,
                    name: r.name.clone(),
                    age,
                    pending: r.pending,
                });
                continue;
            }
            AgeCheck::OverRetirement { age, .. } => (Some(age as i32), true),
            AgeCheck::Ok(age) => (Some(age as i32), false),
            AgeCheck::Unknown => (None, false),
        };
        if (age, over) != (r.age, r.over_retirement) {
            updates.push((r.id, age, over));
        }
    }
    Ok((too_young, updates))
}

/// The centre decided a roster change: approved → pending rows become the roster; rejected →
/// they are dropped. Inside the caller's transaction.
pub(crate) async fn settle_pending<C: sea_orm::ConnectionTrait>(
    txn: &C,
    package_id: i64,
    approved: bool,
) -> Result<()> {
    if approved {
        // Attendance marks of the old rows move to the same trainees' new rows (R-RUN-2).
        crate::attendance::carry_over_marks(txn, package_id).await?;
        entry::Entity::delete_many()
            .filter(entry::Column::PackageId.eq(package_id))
            .filter(entry::Column::Pending.eq(false))
            .exec(txn)
            .await?;
        entry::Entity::update_many()
            .col_expr(
                entry::Column::Pending,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(entry::Column::PackageId.eq(package_id))
            .exec(txn)
            .await?;
    } else {
        entry::Entity::delete_many()
            .filter(entry::Column::PackageId.eq(package_id))
            .filter(entry::Column::Pending.eq(true))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The roster template (.xlsx, Chinese headers, drop-downs) for the round's key-target groups.
pub fn template_xlsx(
    groups: &[String],
) -> std::result::Result<Vec<u8>, peixun_import::ImportError> {
    peixun_import::roster_template_xlsx_for(groups)
}

/// The roster template as CSV (UTF-8 with BOM).
pub fn template_csv() -> Vec<u8> {
    peixun_import::roster_template_csv()
}

/// Deterministic valid roster rows (for the demo seed and tests): cells in
/// [`peixun_domain::roster::ROSTER_HEADERS`] order.
pub fn synthetic_rows(rows: usize, seed: u64) -> Vec<[String; 6]> {
    peixun_import::synthetic_rows(rows, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_masked() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
    }
}
