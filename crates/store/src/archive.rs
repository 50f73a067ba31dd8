//! The class archive 一期一档 (R-ARC-1, R-ARC-2; SECURITY.md S6, S16, S17).
//!
//! * **What is needed** comes from [`peixun_domain::archive::required_documents`] per trainee
//!   (ID kind, residence, key-target groups on the roster) plus the class items. The roster is
//!   read through [`crate::roster::list_roster`] only (masked ID numbers, S13).
//! * **When.** The archive is filled after training ("培训开展完后", R-ARC-1): a class whose
//!   training is complete ([`ClassState::TrainingComplete`], [`ClassState::Completed`]) or an
//!   overdue class that started. The roster can no longer change then (R-RUN-2 changes end with
//!   training), so the roster rows the documents point at stay. An archived class is frozen.
//! * **Who.** Uploads: the class's own institution only (S6), checked before the content is
//!   looked at; types PDF/JPEG/PNG sniffed by content (S16) through
//!   [`crate::files::FileStore::put_bytes`] + [`crate::files::record_file`]. Reads: whoever may
//!   see the class ([`crate::running::class_scope`], the one rule for lists and records).
//!   归档: the centre, only at 100 % (counts, not the rounded figure), through the class
//!   workflow's `Archive` action (the class must be Completed).
//! * **Replace.** One file per (class, trainee, kind): a new upload replaces the row in the same
//!   transaction, deletes the old `files` row there, and removes the old content after the
//!   commit; both file ids are in the audit row.
//! * **Bulk .zip** ([`import_zip`]) and **download** ([`build_archive_zip`]) are in
//!   [`transfer`].

mod progress;
mod transfer;

/// The largest bulk .zip accepted.
pub use peixun_import::archive_zip::MAX_ZIP_BYTES;
pub use progress::{
    ArchiveSummary, incomplete_archives, incomplete_archives_from_scratch,
    incomplete_archives_head, recount_figures, recount_progress, row as progress_row,
    stored_figures,
};
pub(crate) use progress::{after_training, class_completeness, refresh_progress};
pub use transfer::{
    ArchiveDownload, PlacedFile, UnplacedFile, ZipReport, build_archive_zip, import_zip,
};

use crate::entity::filing;
use crate::files::{FileOwner, FileRecord, FileStore};
use crate::filing_package::package;
use crate::filings::parse_class_state;
use crate::roster::TraineeView;
use crate::running::{class_ctx, class_scope, load_for_action, save_state};
use crate::workflow_glue::{today, wf_actor, wf_err, with_retry};
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Utc};
use peixun_domain::archive::{
    CLASS_ITEMS, DocKind, TRAINEE_KINDS, TraineeKey, accepts, completeness_percent,
    id_kind_from_label, required_documents,
};
use peixun_domain::ids::IdKind;
use peixun_domain::role::Role;
use peixun_domain::roster::Residence;
use peixun_domain::workflow::class::{self as wf_class, ClassAction, ClassState};
use peixun_import::FileType;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The `archive_documents` table.
pub mod doc {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "archive_documents")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub filing_id: i64,
        /// `None` for a class item.
        pub roster_entry_id: Option<i64>,
        /// [`peixun_domain::archive::DocKind::code`].
        pub kind: String,
        pub file_id: String,
        pub uploaded_by: String,
        pub uploaded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The types an archive document may have (S16: by content).
pub const ARCHIVE_TYPES: [FileType; 3] = [FileType::Pdf, FileType::Jpeg, FileType::Png];
/// The largest single document.
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;
/// The `files.purpose` of archive documents.
pub const PURPOSE: &str = "archive_document";

/// Whether documents may be added in `state` (module notes).
pub fn accepts_uploads(state: &ClassState) -> bool {
    matches!(
        state,
        ClassState::TrainingComplete { .. }
            | ClassState::Completed { .. }
            | ClassState::Overdue { started: true }
    )
}

/// One column of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnView {
    pub code: String,
    pub label: String,
    /// 职业技能证书: counted only when uploaded.
    pub optional: bool,
}

/// A stored document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentView {
    pub id: i64,
    pub roster_entry_id: Option<i64>,
    pub kind: String,
    pub kind_label: String,
    pub file_id: String,
    pub original_name: String,
    pub mime: String,
    pub size: u64,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

/// One cell: `present` ✓, `missing` 缺, `not_required` 不需要, `optional` 可选 (not held or not
/// yet uploaded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellView {
    pub code: String,
    pub status: String,
    pub document: Option<DocumentView>,
}

/// One trainee's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraineeArchive {
    pub roster_entry_id: i64,
    pub row_number: u32,
    pub name: String,
    pub id_kind: String,
    pub id_number_masked: String,
    pub residence: String,
    pub groups: Vec<String>,
    /// One per [`ArchiveView::columns`], same order.
    pub cells: Vec<CellView>,
    pub present: u32,
    pub required: u32,
    pub completeness_percent: Decimal,
    /// Labels of what is missing.
    pub missing: Vec<String>,
}

/// The class's archive: the trainee × document matrix, class items and completeness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveView {
    pub class_id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub occupation: String,
    pub level: String,
    pub start_date: chrono::NaiveDate,
    pub status: String,
    pub status_label: String,
    pub columns: Vec<ColumnView>,
    pub trainees: Vec<TraineeArchive>,
    /// The class items (签到表, 考试资料, 花名册).
    pub class_items: Vec<CellView>,
    pub class_item_labels: Vec<String>,
    pub present: u32,
    pub required: u32,
    /// present / required × 100, half-up to one decimal (R-ARC-2).
    pub completeness_percent: Decimal,
    pub complete: bool,
    pub archived: bool,
    /// The class accepts uploads now (by state; the viewer's right is separate).
    pub open_for_uploads: bool,
}

pub(super) fn residence_of(s: &str) -> Residence {
    Residence::parse(s).unwrap_or(Residence::InProvince)
}

pub(super) fn id_kind_of(s: &str) -> IdKind {
    id_kind_from_label(s).unwrap_or(IdKind::CitizenId)
}

/// What trainee `t` needs, given whether a 职业技能证书 is on file.
pub(crate) fn required_for(t: &TraineeView, holds_skill: bool) -> Vec<DocKind> {
    required_documents(
        id_kind_of(&t.id_kind),
        residence_of(&t.residence),
        &t.groups,
        holds_skill,
    )
}

/// The class's filing, if `viewer` may see it (S6: the class rule, else Forbidden).
pub(crate) async fn load_visible_class<C: ConnectionTrait>(
    db: &C,
    viewer: &Actor,
    class_id: i64,
) -> Result<filing::Model> {
    let f = filing::Entity::find_by_id(class_id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "class" })?;
    if !class_scope(viewer).allows(f.institution_id) {
        return Err(StoreError::forbidden("无权查看该班次的档案"));
    }
    Ok(f)
}

/// The class for an upload by `actor`: its own institution's users only (S6), before any
/// content is read; and a class open for uploads.
pub(crate) async fn load_for_upload<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    class_id: i64,
) -> Result<filing::Model> {
    if !actor.role.is_some_and(Role::is_institution) {
        return Err(StoreError::forbidden("只有培训机构可以上传档案材料"));
    }
    let f = filing::Entity::find_by_id(class_id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "class" })?;
    if actor.institution_id != Some(f.institution_id) {
        return Err(StoreError::forbidden("不能操作其他培训机构的班次"));
    }
    check_open(&f)?;
    Ok(f)
}

fn check_open(f: &filing::Model) -> Result<()> {
    let state = parse_class_state(&f.state);
    if !accepts_uploads(&state) {
        return Err(StoreError::conflict(
            "ARC_CLASS_STATE",
            format!(
                "班次当前状态为“{}”，培训完成后至归档前可上传档案材料",
                state.label_zh()
            ),
            "class",
        ));
    }
    Ok(())
}

/// The class's current roster (masked), through the roster service (S13).
pub(crate) async fn roster_of(
    store: &Store,
    viewer: &Actor,
    f: &filing::Model,
) -> Result<Vec<TraineeView>> {
    let Some(p) = package::Entity::find()
        .filter(package::Column::FilingId.eq(f.id))
        .one(store.db())
        .await?
    else {
        return Ok(Vec::new());
    };
    // The class rule already passed; the roster service applies the package rule (the same
    // institution scope). The system reads as itself.
    crate::roster::list_roster(store, viewer, p.id, false).await
}

async fn documents_of<C: ConnectionTrait>(
    db: &C,
    filing_id: i64,
) -> Result<Vec<(doc::Model, Option<FileRecord>)>> {
    let docs = doc::Entity::find()
        .filter(doc::Column::FilingId.eq(filing_id))
        .all(db)
        .await?;
    let ids: Vec<String> = docs.iter().map(|d| d.file_id.clone()).collect();
    let mut files: HashMap<String, FileRecord> = HashMap::new();
    for chunk in ids.chunks(500) {
        for m in crate::files::file::Entity::find()
            .filter(crate::files::file::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            files.insert(m.id.clone(), m.into());
        }
    }
    Ok(docs
        .into_iter()
        .map(|d| {
            let f = files.remove(&d.file_id);
            (d, f)
        })
        .collect())
}

fn doc_view(d: &doc::Model, f: Option<&FileRecord>) -> DocumentView {
    DocumentView {
        id: d.id,
        roster_entry_id: d.roster_entry_id,
        kind_label: DocKind::from_code(&d.kind)
            .map(|k| k.label_zh())
            .unwrap_or_else(|| d.kind.clone()),
        kind: d.kind.clone(),
        file_id: d.file_id.clone(),
        original_name: f.map(|f| f.original_name.clone()).unwrap_or_default(),
        mime: f.map(|f| f.mime.clone()).unwrap_or_default(),
        size: f.map(|f| f.size).unwrap_or(0),
        uploaded_by: d.uploaded_by.clone(),
        uploaded_at: d.uploaded_at,
    }
}

/// Present/required of one trainee given the kinds on file.
pub(super) fn count(required: &[DocKind], on_file: &BTreeSet<String>) -> (u32, u32) {
    let present = required
        .iter()
        .filter(|k| on_file.contains(&k.code()))
        .count() as u32;
    (present, required.len() as u32)
}

/// The matrix from the roster and the stored documents (pure).
fn build_view(
    f: &filing::Model,
    institution_name: String,
    roster: &[TraineeView],
    docs: &[(doc::Model, Option<FileRecord>)],
) -> ArchiveView {
    let state = parse_class_state(&f.state);
    let mut by_entry: HashMap<Option<i64>, BTreeMap<String, DocumentView>> = HashMap::new();
    for (d, file) in docs {
        by_entry
            .entry(d.roster_entry_id)
            .or_default()
            .insert(d.kind.clone(), doc_view(d, file.as_ref()));
    }
    let empty = BTreeMap::new();
    // Columns: the fixed kinds some trainee needs (the skill certificate always), then the
    // groups in order of first appearance.
    let needs: Vec<Vec<DocKind>> = roster
        .iter()
        .map(|t| {
            let on_file = by_entry.get(&Some(t.id)).unwrap_or(&empty);
            required_for(t, on_file.contains_key(&DocKind::SkillCertificate.code()))
        })
        .collect();
    let mut columns: Vec<DocKind> = TRAINEE_KINDS
        .iter()
        .filter(|k| **k == DocKind::SkillCertificate || needs.iter().any(|n| n.contains(k)))
        .cloned()
        .collect();
    for n in &needs {
        for k in n {
            if matches!(k, DocKind::GroupProof(_)) && !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let mut present_all = 0u32;
    let mut required_all = 0u32;
    let trainees: Vec<TraineeArchive> = roster
        .iter()
        .zip(&needs)
        .map(|(t, need)| {
            let on_file = by_entry.get(&Some(t.id)).unwrap_or(&empty);
            let keys: BTreeSet<String> = on_file.keys().cloned().collect();
            let (present, required) = count(need, &keys);
            present_all += present;
            required_all += required;
            let cells = columns
                .iter()
                .map(|k| {
                    let code = k.code();
                    let document = on_file.get(&code).cloned();
                    let status = if document.is_some() && accepts(need, k) {
                        "present"
                    } else if need.contains(k) {
                        "missing"
                    } else if *k == DocKind::SkillCertificate {
                        "optional"
                    } else {
                        "not_required"
                    };
                    CellView {
                        code,
                        status: status.into(),
                        document,
                    }
                })
                .collect();
            TraineeArchive {
                roster_entry_id: t.id,
                row_number: t.row_number,
                name: t.name.clone(),
                id_kind: t.id_kind.clone(),
                id_number_masked: t.id_number_masked.clone(),
                residence: t.residence.clone(),
                groups: t.groups.clone(),
                cells,
                present,
                required,
                completeness_percent: completeness_percent(present, required),
                missing: need
                    .iter()
                    .filter(|k| !keys.contains(&k.code()))
                    .map(|k| k.label_zh())
                    .collect(),
            }
        })
        .collect();
    let class_docs = by_entry.get(&None).unwrap_or(&empty);
    let class_items: Vec<CellView> = CLASS_ITEMS
        .iter()
        .map(|k| {
            let document = class_docs.get(&k.code()).cloned();
            CellView {
                code: k.code(),
                status: if document.is_some() {
                    "present"
                } else {
                    "missing"
                }
                .into(),
                document,
            }
        })
        .collect();
    present_all += class_items.iter().filter(|c| c.document.is_some()).count() as u32;
    required_all += CLASS_ITEMS.len() as u32;
    ArchiveView {
        class_id: f.id,
        institution_id: f.institution_id,
        institution_name,
        occupation: f.occupation.clone(),
        level: f.level.clone(),
        start_date: f.start_date,
        status: state.code().to_string(),
        status_label: state.label_zh().to_string(),
        columns: columns
            .iter()
            .map(|k| ColumnView {
                code: k.code(),
                label: k.label_zh(),
                optional: *k == DocKind::SkillCertificate,
            })
            .collect(),
        trainees,
        class_items,
        class_item_labels: CLASS_ITEMS.iter().map(|k| k.label_zh()).collect(),
        present: present_all,
        required: required_all,
        completeness_percent: completeness_percent(present_all, required_all),
        complete: present_all == required_all,
        archived: matches!(state, ClassState::Archived { .. }),
        open_for_uploads: accepts_uploads(&state),
    }
}

async fn institution_name<C: ConnectionTrait>(db: &C, id: i64) -> Result<String> {
    Ok(crate::rounds::institution_names(db, [id])
        .await?
        .remove(&id)
        .unwrap_or_default())
}

/// R-ARC-2: the class's archive matrix and completeness, for whoever may see the class (S6).
pub async fn get_archive(store: &Store, viewer: &Actor, class_id: i64) -> Result<ArchiveView> {
    let f = load_visible_class(store.db(), viewer, class_id).await?;
    let roster = roster_of(store, viewer, &f).await?;
    let docs = documents_of(store.db(), f.id).await?;
    let name = institution_name(store.db(), f.institution_id).await?;
    Ok(build_view(&f, name, &roster, &docs))
}

/// The matcher's view of the roster.
pub(crate) fn trainee_keys(
    roster: &[TraineeView],
    docs: &[(doc::Model, Option<FileRecord>)],
) -> Vec<TraineeKey> {
    roster
        .iter()
        .map(|t| {
            let holds = docs.iter().any(|(d, _)| {
                d.roster_entry_id == Some(t.id) && d.kind == DocKind::SkillCertificate.code()
            });
            TraineeKey {
                entry_id: t.id,
                row_number: t.row_number,
                name: t.name.clone(),
                id_number_masked: t.id_number_masked.clone(),
                required: required_for(t, holds),
            }
        })
        .collect()
}

/// The kind `code` for `entry` of the class: checked against the roster and what the trainee
/// needs (class items have no entry).
fn check_target(roster: &[TraineeView], entry: Option<i64>, code: &str) -> Result<DocKind> {
    let Some(kind) = DocKind::from_code(code) else {
        return Err(StoreError::validation(
            "ARC_KIND",
            format!(
                "未知的档案材料类型“{}”",
                code.chars().take(60).collect::<String>()
            ),
            "kind",
        ));
    };
    match entry {
        None if kind.is_class_item() => Ok(kind),
        None => Err(StoreError::validation(
            "ARC_TRAINEE_REQUIRED",
            format!("“{}”是学员材料，请选择学员", kind.label_zh()),
            "roster_entry_id",
        )),
        Some(_) if kind.is_class_item() => Err(StoreError::validation(
            "ARC_CLASS_ITEM",
            format!("“{}”是班级材料，不属于某个学员", kind.label_zh()),
            "roster_entry_id",
        )),
        Some(id) => {
            let Some(t) = roster.iter().find(|t| t.id == id) else {
                return Err(StoreError::validation(
                    "ARC_TRAINEE",
                    "该学员不在本班花名册中",
                    "roster_entry_id",
                ));
            };
            if !accepts(&required_for(t, false), &kind) {
                return Err(StoreError::validation(
                    "ARC_NOT_REQUIRED",
                    format!("学员{}不需要“{}”", t.name, kind.label_zh()),
                    "kind",
                ));
            }
            Ok(kind)
        }
    }
}

/// Insert or replace the row for (class, entry, kind) inside `txn`: returns the row and the
/// replaced file id (its `files` row deleted here; its content is for the caller to remove
/// after the commit).
pub(crate) async fn upsert_doc<C: ConnectionTrait>(
    txn: &C,
    filing_id: i64,
    entry: Option<i64>,
    kind: &DocKind,
    file_id: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(doc::Model, Option<String>)> {
    let mut q = doc::Entity::find()
        .filter(doc::Column::FilingId.eq(filing_id))
        .filter(doc::Column::Kind.eq(kind.code()));
    q = match entry {
        Some(e) => q.filter(doc::Column::RosterEntryId.eq(e)),
        None => q.filter(doc::Column::RosterEntryId.is_null()),
    };
    let existing = q.one(txn).await?;
    let am = doc::ActiveModel {
        filing_id: Set(filing_id),
        roster_entry_id: Set(entry),
        kind: Set(kind.code()),
        file_id: Set(file_id.to_string()),
        uploaded_by: Set(actor.username.clone()),
        uploaded_at: Set(now),
        ..Default::default()
    };
    Ok(match existing {
        Some(old) => {
            let mut am = am;
            am.id = Set(old.id);
            let m = am.update(txn).await?;
            crate::files::delete_file_record(txn, &old.file_id).await?;
            (m, Some(old.file_id))
        }
        None => (am.insert(txn).await?, None),
    })
}

/// R-ARC-1: the institution uploads one archive document of class `class_id`: a trainee's
/// (`roster_entry_id`) or a class item (`None`). Replaces the earlier file of the same item.
#[allow(clippy::too_many_arguments)]
pub async fn upload_document(
    store: &Store,
    files: &FileStore,
    actor: &Actor,
    class_id: i64,
    roster_entry_id: Option<i64>,
    kind_code: &str,
    bytes: &[u8],
    declared_name: &str,
    now: DateTime<Utc>,
) -> Result<DocumentView> {
    let now = db_time(now);
    let f = load_for_upload(store.db(), actor, class_id).await?;
    let roster = roster_of(store, actor, &f).await?;
    let kind = check_target(&roster, roster_entry_id, kind_code)?;
    let stored = files
        .put_bytes(bytes, declared_name, &ARCHIVE_TYPES, MAX_DOCUMENT_BYTES)
        .await?;
    let owner = FileOwner {
        purpose: PURPOSE,
        institution_id: Some(f.institution_id),
    };
    let result = with_retry!({
        let txn = store.begin_write().await?;
        let f = load_for_action(store, &txn, actor, class_id).await?;
        check_open(&f)?;
        let rec = crate::files::record_file(&txn, &stored, &owner, actor, now).await?;
        let (m, replaced) =
            upsert_doc(&txn, f.id, roster_entry_id, &kind, &stored.id, actor, now).await?;
        refresh_progress(&txn, &f).await?;
        audit::append(
            &txn,
            actor,
            "archive.upload",
            "class",
            Some(f.id.to_string()),
            replaced
                .as_ref()
                .map(|r| serde_json::json!({ "kind": kind.code(), "roster_entry_id": roster_entry_id, "file_id": r })),
            Some(serde_json::json!({
                "kind": kind.code(),
                "roster_entry_id": roster_entry_id,
                "file_id": stored.id,
                "sha256": stored.sha256,
                "size": stored.size,
            })),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok((doc_view(&m, Some(&rec)), replaced))
    });
    match result {
        Ok((v, replaced)) => {
            if let Some(old) = replaced {
                let _ = files.delete(&old).await;
            }
            Ok(v)
        }
        Err(e) => {
            let _ = files.delete(&stored.id).await;
            Err(e)
        }
    }
}

/// One archive document's record and content, for whoever may see its class (S6); the
/// download is audited (S10: identity documents are personal data).
pub async fn open_document(
    store: &Store,
    files: &FileStore,
    viewer: &Actor,
    document_id: i64,
    now: DateTime<Utc>,
) -> Result<(FileRecord, Vec<u8>)> {
    let d = doc::Entity::find_by_id(document_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "document" })?;
    load_visible_class(store.db(), viewer, d.filing_id).await?;
    let rec = crate::files::get_file(store.db(), &d.file_id).await?;
    if !crate::files::may_read(viewer, &rec) {
        return Err(StoreError::forbidden("无权查看该文件"));
    }
    let bytes = files.open(&rec.id).await?;
    audit::record(
        store,
        viewer,
        "archive.document_download",
        "class",
        Some(d.filing_id.to_string()),
        serde_json::json!({ "document_id": d.id, "kind": d.kind, "file_id": rec.id }),
        db_time(now),
    )
    .await?;
    Ok((rec, bytes))
}

/// R-ARC-2: the centre marks the archive checked (归档) — only when every required item is on
/// file, through the class workflow's `Archive` (the class must be Completed).
pub async fn mark_archived(
    store: &Store,
    actor: &Actor,
    class_id: i64,
    now: DateTime<Utc>,
) -> Result<ArchiveView> {
    let now = db_time(now);
    if !crate::workflow_glue::is_centre(actor) {
        return Err(StoreError::forbidden("只有区培训中心可以归档"));
    }
    let f0 = load_visible_class(store.db(), actor, class_id).await?;
    let roster = roster_of(store, actor, &f0).await?;
    with_retry!({
        let txn = store.begin_write().await?;
        let f = load_for_action(store, &txn, actor, class_id).await?;
        let docs = documents_of(&txn, f.id).await?;
        let name = institution_name(&txn, f.institution_id).await?;
        let before = build_view(&f, name.clone(), &roster, &docs);
        if !before.complete {
            return Err(StoreError::conflict(
                "ARC_INCOMPLETE",
                format!(
                    "档案完整度为{}%，尚缺{}项材料，补齐后方可归档",
                    before.completeness_percent,
                    before.required - before.present
                ),
                "archive",
            ));
        }
        let policy = crate::policies::by_version(&txn, &f.policy_version).await?;
        let ctx = class_ctx(&txn, &f, today(now), &policy).await?;
        let state = parse_class_state(&f.state);
        let new_state = wf_class::apply(&state, &ClassAction::Archive, &wf_actor(actor), &ctx)
            .map_err(wf_err)?;
        let f2 = save_state(&txn, &f, &new_state, now).await?;
        audit::append(
            &txn,
            actor,
            "class.archive",
            "class",
            Some(f.id.to_string()),
            Some(serde_json::json!({ "state": state.code() })),
            Some(serde_json::json!({
                "state": new_state.code(),
                "present": before.present,
                "required": before.required,
            })),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(build_view(&f2, name, &roster, &docs))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_only_after_training_and_before_archiving() {
        assert!(!accepts_uploads(&ClassState::InTraining));
        assert!(!accepts_uploads(&ClassState::Approved));
        assert!(accepts_uploads(&ClassState::TrainingComplete {
            overdue: false
        }));
        assert!(accepts_uploads(&ClassState::Completed {
            overdue: false,
            certificates_issued: false
        }));
        assert!(!accepts_uploads(&ClassState::Archived {
            overdue: false,
            certificates_issued: false
        }));
        assert!(!accepts_uploads(&ClassState::Overdue { started: false }));
    }
}
