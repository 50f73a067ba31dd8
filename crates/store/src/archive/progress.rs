//! Archive completeness for the work lists (R-ARC-2): how many of a class's required
//! documents are on file.
//!
//! The work lists of the centre and of each institution need the figures of every class after
//! training, so [`incomplete_archives`] reads them for the whole set in three queries (the
//! classes, their roster rows, their documents) instead of three per class; at province scale
//! that is the difference between one round trip and tens of thousands behind one home page.
//! One class's figures ([`class_completeness`], the evaluation) use the same tally.

use super::{count, doc, id_kind_of, residence_of};
use crate::entity::filing;
use crate::filing_package::package;
use crate::{Result, Store};
use peixun_domain::archive::{CLASS_ITEMS, DocKind, completeness_percent, required_documents};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Statement};
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

/// Classes after training (complete, not yet archived) of `institution` (all when `None`) whose archive is not
/// complete, lowest completeness first. Reads the roster's kind, residence and groups only.
pub async fn incomplete_archives(
    store: &Store,
    institution: Option<i64>,
) -> Result<Vec<ArchiveSummary>> {
    let db = store.db();
    let backend = db.get_database_backend();
    let mut q = filing::Entity::find()
        .filter(filing::Column::Status.is_in(["training_complete", "completed"]));
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
        if present < required {
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
    }
    out.sort_by(|a, b| {
        a.completeness_percent
            .cmp(&b.completeness_percent)
            .then(a.class_id.cmp(&b.class_id))
    });
    Ok(out)
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
