//! Archive completeness for the work lists (R-ARC-2): how many of a class's required
//! documents are on file.
//!
//! The work lists of the centre and of each institution list the classes after training whose
//! archive is not complete. Counting that from the rosters reads every roster row of every
//! class after training (1.5 M rows at province scale, issue 12), so the figures are stored per
//! class in `archive_progress` (`present`, `required`, `complete`) and kept in the write
//! transaction of every change that moves them:
//!
//! * a class comes after training (its state saved as 培训完成 or 已完成,
//!   [`crate::running::save_state`]): its roster is fixed from then on (R-RUN-2 changes end
//!   with training), so its figures are computed once from the roster and documents;
//! * an archive document is uploaded or replaced ([`super::upload_document`],
//!   [`super::import_zip`]): the class's figures are recomputed (one class's roster).
//!
//! [`incomplete_archives`] then reads one indexed row per incomplete class. The computation
//! from scratch stays ([`incomplete_archives_from_scratch`], [`recount_figures`]): the tests
//! compare the two, and [`recount_progress`] rebuilds the table from it (the migration's
//! backfill, `seed --scale`). One class's figures ([`class_completeness`], the evaluation) use
//! the same tally.

use super::{count, doc, id_kind_of, residence_of};
use crate::entity::filing;
use crate::filing_package::package;
use crate::{Result, Store};
use peixun_domain::archive::{CLASS_ITEMS, DocKind, completeness_percent, required_documents};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
    Statement,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// One class's archive figures for the work lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveSummary {
    pub class_id: i64,
    pub institution_id: i64,
    pub occupation: String,
    pub level: String,
    pub present: u32,
    pub required: u32,
    pub completeness_percent: Decimal,
}

/// A roster row as the archive counts it: entry id, ID kind label, residence, groups (JSON).
type RosterRow = (i64, String, String, String);

/// Present and required of one class from its roster rows and the kinds on file per trainee
/// (`None`: the class's own items).
fn tally(rows: &[RosterRow], on_file: &HashMap<Option<i64>, BTreeSet<String>>) -> (u32, u32) {
    let empty = BTreeSet::new();
    let (mut present, mut required) = (0u32, 0u32);
    for (id, kind, res, groups) in rows {
        let have = on_file.get(&Some(*id)).unwrap_or(&empty);
        let groups: Vec<String> = serde_json::from_str(groups).unwrap_or_default();
        let need = required_documents(
            id_kind_of(kind),
            residence_of(res),
            &groups,
            have.contains(&DocKind::SkillCertificate.code()),
        );
        let (p, r) = count(&need, have);
        present += p;
        required += r;
    }
    let class_have = on_file.get(&None).unwrap_or(&empty);
    present += CLASS_ITEMS
        .iter()
        .filter(|k| class_have.contains(&k.code()))
        .count() as u32;
    required += CLASS_ITEMS.len() as u32;
    (present, required)
}

/// The `archive_progress` table: one class's archive figures, kept in the write transactions
/// that change them (module notes).
pub mod row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "archive_progress")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub filing_id: i64,
        pub institution_id: i64,
        pub present: i32,
        pub required: i32,
        /// `present >= required`: the work lists read the rows where it is false.
        pub complete: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The filing states whose classes are after training and not yet archived.
const AFTER_TRAINING: [&str; 2] = ["training_complete", "completed"];

/// Whether a class in `status` is listed by the work lists' archive item.
pub(crate) fn after_training(status: &str) -> bool {
    AFTER_TRAINING.contains(&status)
}

/// Lowest completeness first, then the class id.
fn sort_summaries(out: &mut [ArchiveSummary]) {
    out.sort_by(|a, b| {
        a.completeness_percent
            .cmp(&b.completeness_percent)
            .then(a.class_id.cmp(&b.class_id))
    });
}

/// Classes after training (complete, not yet archived) of `institution` (all when `None`) whose
/// archive is not complete, lowest completeness first. Reads the stored figures
/// (`archive_progress`): one indexed row per incomplete class, whatever the size of the rosters.
pub async fn incomplete_archives(
    store: &Store,
    institution: Option<i64>,
) -> Result<Vec<ArchiveSummary>> {
    let db = store.db();
    let backend = db.get_database_backend();
    // Only integer literals are spliced into the text.
    let sql = format!(
        "SELECT a.filing_id, f.institution_id, f.occupation, f.level, a.present, a.required \
         FROM archive_progress a JOIN filings f ON f.id = a.filing_id \
         WHERE a.complete = FALSE AND f.status IN ('training_complete', 'completed'){}",
        institution
            .map(|i| format!(" AND a.institution_id = {i}"))
            .unwrap_or_default()
    );
    let mut out = Vec::new();
    for r in db
        .query_all_raw(Statement::from_string(backend, sql))
        .await?
    {
        let present = r.try_get_by_index::<i32>(4)?.max(0) as u32;
        let required = r.try_get_by_index::<i32>(5)?.max(0) as u32;
        out.push(ArchiveSummary {
            class_id: r.try_get_by_index(0)?,
            institution_id: r.try_get_by_index(1)?,
            occupation: r.try_get_by_index(2)?,
            level: r.try_get_by_index(3)?,
            present,
            required,
            completeness_percent: completeness_percent(present, required),
        });
    }
    sort_summaries(&mut out);
    Ok(out)
}

/// How many classes [`incomplete_archives`] lists and its first one, counted and found by the
/// database (the work lists show no more): the order is the same — completeness rounded half-up
/// to one decimal, `(2000·present + required) div (2·required)` = 10 × the percentage, then the
/// class id.
pub async fn incomplete_archives_head(
    store: &Store,
    institution: Option<i64>,
) -> Result<(u64, Option<ArchiveSummary>)> {
    let db = store.db();
    let backend = db.get_database_backend();
    // Only integer literals are spliced into the text.
    let from = format!(
        "FROM archive_progress a JOIN filings f ON f.id = a.filing_id \
         WHERE a.complete = FALSE AND f.status IN ('training_complete', 'completed'){}",
        institution
            .map(|i| format!(" AND a.institution_id = {i}"))
            .unwrap_or_default()
    );
    let n: i64 = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) {from}"),
        ))
        .await?
        .map(|r| r.try_get_by_index(0))
        .transpose()?
        .unwrap_or(0);
    if n == 0 {
        return Ok((0, None));
    }
    let first = db
        .query_one_raw(Statement::from_string(
            backend,
            format!(
                "SELECT a.filing_id, f.institution_id, f.occupation, f.level, a.present, \
                 a.required {from} \
                 ORDER BY (2000 * a.present + a.required) / (2 * a.required), a.filing_id LIMIT 1"
            ),
        ))
        .await?;
    let first = match first {
        Some(r) => {
            let present = r.try_get_by_index::<i32>(4)?.max(0) as u32;
            let required = r.try_get_by_index::<i32>(5)?.max(0) as u32;
            Some(ArchiveSummary {
                class_id: r.try_get_by_index(0)?,
                institution_id: r.try_get_by_index(1)?,
                occupation: r.try_get_by_index(2)?,
                level: r.try_get_by_index(3)?,
                present,
                required,
                completeness_percent: completeness_percent(present, required),
            })
        }
        None => None,
    };
    Ok((n.max(0) as u64, first))
}

/// [`incomplete_archives`] computed from scratch (the rosters and documents themselves): what
/// the stored figures must always equal (tests, [`recount_progress`]).
pub async fn incomplete_archives_from_scratch<C: ConnectionTrait>(
    db: &C,
    institution: Option<i64>,
) -> Result<Vec<ArchiveSummary>> {
    let mut out: Vec<ArchiveSummary> = figures_from_scratch(db, institution)
        .await?
        .into_iter()
        .filter(|s| s.present < s.required)
        .collect();
    sort_summaries(&mut out);
    Ok(out)
}

/// The figures of every class after training with a filing package (complete or not), from
/// the roster's kind, residence and groups and the documents, in three queries for the whole
/// set.
async fn figures_from_scratch<C: ConnectionTrait>(
    db: &C,
    institution: Option<i64>,
) -> Result<Vec<ArchiveSummary>> {
    let backend = db.get_database_backend();
    let mut q = filing::Entity::find().filter(filing::Column::Status.is_in(AFTER_TRAINING));
    if let Some(i) = institution {
        q = q.filter(filing::Column::InstitutionId.eq(i));
    }
    let classes: Vec<(i64, i64, String, String)> = q
        .select_only()
        .column(filing::Column::Id)
        .column(filing::Column::InstitutionId)
        .column(filing::Column::Occupation)
        .column(filing::Column::Level)
        .into_tuple()
        .all(db)
        .await?;
    if classes.is_empty() {
        return Ok(Vec::new());
    }
    // The same set of classes, joined (only integer literals are spliced into the text).
    let scope = format!(
        "f.status IN ('training_complete', 'completed'){}",
        institution
            .map(|i| format!(" AND f.institution_id = {i}"))
            .unwrap_or_default()
    );
    let with_package: BTreeSet<i64> = db
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT p.filing_id FROM filing_packages p JOIN filings f ON f.id = p.filing_id \
                 WHERE {scope}"
            ),
        ))
        .await?
        .into_iter()
        .map(|r| r.try_get_by_index::<i64>(0))
        .collect::<std::result::Result<_, _>>()?;
    let mut rosters: HashMap<i64, Vec<RosterRow>> = HashMap::new();
    for r in db
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT p.filing_id, e.id, e.id_kind, e.residence, e.\"groups\" \
                 FROM roster_entries e JOIN filing_packages p ON p.id = e.package_id \
                 JOIN filings f ON f.id = p.filing_id WHERE {scope} AND e.pending = FALSE"
            ),
        ))
        .await?
    {
        rosters.entry(r.try_get_by_index(0)?).or_default().push((
            r.try_get_by_index(1)?,
            r.try_get_by_index(2)?,
            r.try_get_by_index(3)?,
            r.try_get_by_index(4)?,
        ));
    }
    let mut docs: HashMap<i64, HashMap<Option<i64>, BTreeSet<String>>> = HashMap::new();
    for r in db
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT d.filing_id, d.roster_entry_id, d.kind FROM archive_documents d \
                 JOIN filings f ON f.id = d.filing_id WHERE {scope}"
            ),
        ))
        .await?
    {
        docs.entry(r.try_get_by_index(0)?)
            .or_default()
            .entry(r.try_get_by_index(1)?)
            .or_default()
            .insert(r.try_get_by_index(2)?);
    }
    let (no_rows, no_docs) = (Vec::new(), HashMap::new());
    let mut out = Vec::new();
    for (id, institution_id, occupation, level) in classes {
        if !with_package.contains(&id) {
            continue;
        }
        let (present, required) = tally(
            rosters.get(&id).unwrap_or(&no_rows),
            docs.get(&id).unwrap_or(&no_docs),
        );
        out.push(ArchiveSummary {
            class_id: id,
            institution_id,
            occupation,
            level,
            present,
            required,
            completeness_percent: completeness_percent(present, required),
        });
    }
    Ok(out)
}

/// The stored figures of every class after training, as `(class, institution, present,
/// required)` in class order (tests compare them with [`recount_figures`]).
pub async fn stored_figures<C: ConnectionTrait>(db: &C) -> Result<Vec<(i64, i64, u32, u32)>> {
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    for r in db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT a.filing_id, a.institution_id, a.present, a.required, a.complete \
             FROM archive_progress a JOIN filings f ON f.id = a.filing_id \
             WHERE f.status IN ('training_complete', 'completed') ORDER BY a.filing_id",
        ))
        .await?
    {
        let (present, required): (i32, i32) = (r.try_get_by_index(2)?, r.try_get_by_index(3)?);
        let complete: bool = r.try_get_by_index(4)?;
        debug_assert_eq!(complete, present >= required);
        out.push((
            r.try_get_by_index(0)?,
            r.try_get_by_index(1)?,
            present.max(0) as u32,
            required.max(0) as u32,
        ));
    }
    Ok(out)
}

/// The figures of every class after training computed from scratch, in the form of
/// [`stored_figures`].
pub async fn recount_figures<C: ConnectionTrait>(db: &C) -> Result<Vec<(i64, i64, u32, u32)>> {
    let mut v: Vec<_> = figures_from_scratch(db, None)
        .await?
        .into_iter()
        .map(|s| (s.class_id, s.institution_id, s.present, s.required))
        .collect();
    v.sort();
    Ok(v)
}

fn progress_row(
    filing_id: i64,
    institution_id: i64,
    present: u32,
    required: u32,
) -> row::ActiveModel {
    row::ActiveModel {
        filing_id: Set(filing_id),
        institution_id: Set(institution_id),
        present: Set(present as i32),
        required: Set(required as i32),
        complete: Set(present >= required),
    }
}

/// Rebuild `archive_progress` from scratch for every class after training (the migration's
/// backfill, `seed --scale`, and a repair). Returns the number of rows written.
pub async fn recount_progress<C: ConnectionTrait>(db: &C) -> Result<u64> {
    let rows = recount_figures(db).await?;
    row::Entity::delete_many().exec(db).await?;
    for chunk in rows.chunks(500) {
        row::Entity::insert_many(
            chunk
                .iter()
                .map(|(f, i, p, r)| progress_row(*f, *i, *p, *r)),
        )
        .exec(db)
        .await?;
    }
    Ok(rows.len() as u64)
}

/// Recompute the stored figures of class `f` inside the write transaction that changed its
/// documents or brought it after training (its roster is fixed from then on, R-RUN-2). A class
/// without a filing package has no row (the work lists never show it).
pub(crate) async fn refresh_progress<C: ConnectionTrait>(db: &C, f: &filing::Model) -> Result<()> {
    row::Entity::delete_by_id(f.id).exec(db).await?;
    if let Some((present, required)) = class_counts(db, f).await? {
        progress_row(f.id, f.institution_id, present, required)
            .insert(db)
            .await?;
    }
    Ok(())
}

/// R-ARC-2: documents present and required of one class (trainees' and class items), from the
/// roster's kind, residence and groups; `None` when the class has no filing package.
async fn class_counts<C: ConnectionTrait>(db: &C, f: &filing::Model) -> Result<Option<(u32, u32)>> {
    use crate::roster::entry;
    let Some(p) = package::Entity::find()
        .filter(package::Column::FilingId.eq(f.id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let rows: Vec<RosterRow> = entry::Entity::find()
        .select_only()
        .column(entry::Column::Id)
        .column(entry::Column::IdKind)
        .column(entry::Column::Residence)
        .column(entry::Column::Groups)
        .filter(entry::Column::PackageId.eq(p.id))
        .filter(entry::Column::Pending.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    let mut on_file: HashMap<Option<i64>, BTreeSet<String>> = HashMap::new();
    for d in doc::Entity::find()
        .filter(doc::Column::FilingId.eq(f.id))
        .all(db)
        .await?
    {
        on_file.entry(d.roster_entry_id).or_default().insert(d.kind);
    }
    Ok(Some(tally(&rows, &on_file)))
}

/// R-ARC-2: a class's archive completeness (%), as its archive page shows it (one decimal); 0
/// for a class without a filing package.
pub(crate) async fn class_completeness<C: ConnectionTrait>(
    db: &C,
    f: &filing::Model,
) -> Result<Decimal> {
    Ok(match class_counts(db, f).await? {
        Some((present, required)) => completeness_percent(present, required),
        None => Decimal::ZERO,
    })
}
