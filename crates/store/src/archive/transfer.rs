//! Bulk upload of a class archive as one .zip, and its download as one .zip with an index
//! workbook (R-ARC-2; SECURITY.md S16, S17).
//!
//! * **Upload.** The zip is checked as a whole off the async workers
//!   ([`peixun_import::archive_zip::ArchiveZip::open`]: entry count, unpacked sizes, no path
//!   traversal, no nested archives) — any of these refuses it and nothing changes. Each file is
//!   then placed by its name ([`peixun_domain::archive::match_entry`]) and its content sniffed
//!   (S16). **Partial placement is allowed**: every placed file is stored, in one transaction,
//!   and the report lists every file that was not placed with the reason; the user fixes and
//!   re-sends those only, instead of re-sending hundreds of good files because one name was
//!   wrong. A second file for the same item in one zip is not placed (reported).
//! * **Download.** Every stored document, one folder per trainee (`03_张三/身份证.pdf`), class
//!   items in `00_班级材料/`, and `档案目录.xlsx` (ID numbers masked). Files are read one at a
//!   time and handed to a blocking thread that writes the zip (stored, not recompressed).

use super::{
    ARCHIVE_TYPES, MAX_DOCUMENT_BYTES, PURPOSE, documents_of, get_archive, load_for_upload,
    roster_of, trainee_keys, upsert_doc,
};
use crate::files::{FileOwner, FileStore, StoredFile};
use crate::running::load_for_action;
use crate::workflow_glue::with_retry;
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Utc};
use peixun_domain::archive::{
    CLASS_FOLDER, DocKind, EntryMatch, archive_path, match_entry, safe_path_part, trainee_folder,
};
use peixun_import::archive_zip::{ArchiveZip, ArchiveZipWriter, IndexSheet, ZipLimits};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// A file of the zip that was filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedFile {
    /// The name in the zip.
    pub name: String,
    pub roster_entry_id: Option<i64>,
    pub row_number: Option<u32>,
    pub trainee_name: Option<String>,
    pub kind: String,
    pub kind_label: String,
    /// An earlier file of the same item was replaced.
    pub replaced: bool,
}

/// A file of the zip that was not filed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnplacedFile {
    pub name: String,
    /// `unknown_trainee`, `ambiguous_trainee`, `unknown_kind`, `not_allowed_type`,
    /// `not_required`, `duplicate`, or the content check's code (`FILE_TYPE_NOT_ALLOWED` …).
    pub reason_code: String,
    pub reason: String,
}

/// What a bulk upload did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZipReport {
    /// Files in the zip (folders and macOS metadata not counted).
    pub files: usize,
    pub placed: Vec<PlacedFile>,
    pub unplaced: Vec<UnplacedFile>,
    pub present: u32,
    pub required: u32,
    pub completeness_percent: Decimal,
}

fn outcome_code(m: &EntryMatch) -> &'static str {
    match m {
        EntryMatch::Placed { .. } => "placed",
        EntryMatch::UnknownTrainee => "unknown_trainee",
        EntryMatch::AmbiguousTrainee { .. } => "ambiguous_trainee",
        EntryMatch::UnknownKind => "unknown_kind",
        EntryMatch::NotAllowedType => "not_allowed_type",
        EntryMatch::NotRequired { .. } => "not_required",
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("archive: {e}"))))
}

fn zip_refused(e: peixun_import::ImportError) -> StoreError {
    StoreError::validation(e.code, e.message, "file")
}

/// R-ARC-2: the institution uploads many archive documents of class `class_id` as one .zip
/// whose file names name the trainee and the kind (module notes).
pub async fn import_zip(
    store: &Store,
    files: &FileStore,
    actor: &Actor,
    class_id: i64,
    bytes: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<ZipReport> {
    let now = db_time(now);
    // S6: the class's own institution, before the content is looked at.
    let f = load_for_upload(store.db(), actor, class_id).await?;
    let roster = roster_of(store, actor, &f).await?;
    let docs = documents_of(store.db(), f.id).await?;
    let keys = trainee_keys(&roster, &docs);
    let mut groups: BTreeSet<String> = crate::rounds::KEY_TARGET_GROUPS
        .iter()
        .map(|s| s.to_string())
        .collect();
    groups.extend(roster.iter().flat_map(|t| t.groups.iter().cloned()));
    let groups: Vec<String> = groups.into_iter().collect();
    // Check the whole archive and match every name, off the async workers (S17).
    let (mut zip, matches) = blocking(move || {
        let zip = ArchiveZip::open(bytes, ZipLimits::default())?;
        let matches: Vec<(usize, String, EntryMatch)> = zip
            .entries()
            .iter()
            .map(|e| {
                (
                    e.index,
                    e.name.clone(),
                    match_entry(&e.name, &keys, &groups),
                )
            })
            .collect();
        Ok::<_, peixun_import::ImportError>((zip, matches))
    })
    .await?
    .map_err(zip_refused)?;
    let total = matches.len();
    let mut unplaced = Vec::new();
    let mut seen: HashMap<(Option<i64>, String), String> = HashMap::new();
    let mut to_store: Vec<(usize, String, Option<i64>, DocKind)> = Vec::new();
    for (index, name, m) in matches {
        match m {
            EntryMatch::Placed { entry_id, kind } => {
                if let Some(first) = seen.get(&(entry_id, kind.code())) {
                    unplaced.push(UnplacedFile {
                        name,
                        reason_code: "duplicate".into(),
                        reason: format!("与压缩包内“{first}”是同一项材料，未采用"),
                    });
                    continue;
                }
                seen.insert((entry_id, kind.code()), name.clone());
                to_store.push((index, name, entry_id, kind));
            }
            other => unplaced.push(UnplacedFile {
                name,
                reason_code: outcome_code(&other).into(),
                reason: other.reason_zh(),
            }),
        }
    }
    // Write each placed file (content sniffed, S16), one at a time.
    let mut stored: Vec<(StoredFile, String, Option<i64>, DocKind)> = Vec::new();
    let cleanup = |stored: Vec<(StoredFile, String, Option<i64>, DocKind)>| async move {
        for (s, ..) in stored {
            let _ = files.delete(&s.id).await;
        }
    };
    for (index, name, entry_id, kind) in to_store {
        let (z, read) = blocking(move || {
            let r = zip.read(index);
            (zip, r)
        })
        .await?;
        zip = z;
        let content = match read {
            Ok(b) => b,
            Err(e) => {
                cleanup(stored).await;
                return Err(zip_refused(e));
            }
        };
        match files
            .put_bytes(&content, &name, &ARCHIVE_TYPES, MAX_DOCUMENT_BYTES)
            .await
        {
            Ok(s) => stored.push((s, name, entry_id, kind)),
            Err(StoreError::Validation { code, message, .. }) => unplaced.push(UnplacedFile {
                name,
                reason_code: code.into(),
                reason: message,
            }),
            Err(e) => {
                cleanup(stored).await;
                return Err(e);
            }
        }
    }
    drop(zip);
    let owner = FileOwner {
        purpose: PURPOSE,
        institution_id: Some(f.institution_id),
    };
    let by_id: HashMap<i64, (u32, String)> = roster
        .iter()
        .map(|t| (t.id, (t.row_number, t.name.clone())))
        .collect();
    let result = if stored.is_empty() {
        Ok((Vec::new(), Vec::new()))
    } else {
        with_retry!({
            let txn = store.begin_write().await?;
            let f = load_for_action(store, &txn, actor, class_id).await?;
            super::check_open(&f)?;
            let mut placed = Vec::new();
            let mut replaced_ids = Vec::new();
            for (s, name, entry_id, kind) in &stored {
                crate::files::record_file(&txn, s, &owner, actor, now).await?;
                let (_, replaced) =
                    upsert_doc(&txn, f.id, *entry_id, kind, &s.id, actor, now).await?;
                let t = entry_id.and_then(|e| by_id.get(&e));
                placed.push(PlacedFile {
                    name: name.clone(),
                    roster_entry_id: *entry_id,
                    row_number: t.map(|t| t.0),
                    trainee_name: t.map(|t| t.1.clone()),
                    kind: kind.code(),
                    kind_label: kind.label_zh(),
                    replaced: replaced.is_some(),
                });
                replaced_ids.extend(replaced);
            }
            super::refresh_progress(&txn, &f).await?;
            audit::append(
                &txn,
                actor,
                "archive.import_zip",
                "class",
                Some(f.id.to_string()),
                (!replaced_ids.is_empty())
                    .then(|| serde_json::json!({ "replaced_file_ids": replaced_ids })),
                Some(serde_json::json!({
                    "files": total,
                    "placed": placed.iter().zip(&stored).map(|(p, (s, ..))| serde_json::json!({
                        "roster_entry_id": p.roster_entry_id,
                        "kind": p.kind,
                        "file_id": s.id,
                        "sha256": s.sha256,
                    })).collect::<Vec<_>>(),
                    "unplaced": unplaced.len(),
                })),
                now,
            )
            .await?;
            txn.commit().await?;
            Ok((placed, replaced_ids))
        })
    };
    let (placed, replaced_ids) = match result {
        Ok(r) => r,
        Err(e) => {
            cleanup(stored).await;
            return Err(e);
        }
    };
    for id in replaced_ids {
        let _ = files.delete(&id).await;
    }
    let view = get_archive(store, actor, class_id).await?;
    Ok(ZipReport {
        files: total,
        placed,
        unplaced,
        present: view.present,
        required: view.required,
        completeness_percent: view.completeness_percent,
    })
}

/// The downloaded archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveDownload {
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// Documents in it (the index not counted).
    pub documents: usize,
}

/// The index workbook's name inside the zip.
pub const INDEX_NAME: &str = "档案目录.xlsx";

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&peixun_domain::rules::shanghai())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// R-ARC-1/R-ARC-2: the class's whole archive as one .zip with the index workbook, for whoever
/// may see the class (S6). The ID numbers appear only masked, in the index.
pub async fn build_archive_zip(
    store: &Store,
    files: &FileStore,
    viewer: &Actor,
    class_id: i64,
    now: DateTime<Utc>,
) -> Result<ArchiveDownload> {
    let view = get_archive(store, viewer, class_id).await?;
    let docs = documents_of(store.db(), class_id).await?;
    let by_id: HashMap<i64, (u32, String)> = view
        .trainees
        .iter()
        .map(|t| (t.roster_entry_id, (t.row_number, t.name.clone())))
        .collect();
    // Every stored document with its path in the zip.
    let mut items: Vec<(String, String)> = Vec::new();
    let mut listing: Vec<Vec<String>> = Vec::new();
    let mut path_of: HashMap<(Option<i64>, String), String> = HashMap::new();
    for (d, rec) in &docs {
        let Some(rec) = rec else {
            return Err(StoreError::NotFound { entity: "file" });
        };
        if !crate::files::may_read(viewer, rec) {
            return Err(StoreError::forbidden("无权查看该班次的档案文件"));
        }
        let ext = rec.file_type.map(|t| t.extension()).unwrap_or("bin");
        let kind = DocKind::from_code(&d.kind);
        let t = d.roster_entry_id.map(|e| {
            by_id
                .get(&e)
                .cloned()
                .unwrap_or((0, format!("花名册外学员{e}")))
        });
        let path = match &kind {
            Some(k) => archive_path(t.as_ref().map(|(r, n)| (*r, n.as_str())), k, ext),
            None => format!(
                "{}/{}.{ext}",
                t.as_ref()
                    .map(|(r, n)| trainee_folder(*r, n))
                    .unwrap_or_else(|| CLASS_FOLDER.to_string()),
                safe_path_part(&d.kind)
            ),
        };
        listing.push(vec![
            path.clone(),
            t.as_ref().map(|t| t.0.to_string()).unwrap_or_default(),
            t.as_ref()
                .map(|t| t.1.clone())
                .unwrap_or_else(|| "班级材料".into()),
            kind.as_ref()
                .map(|k| k.label_zh())
                .unwrap_or_else(|| d.kind.clone()),
            rec.original_name.clone(),
            rec.size.to_string(),
            rec.sha256.clone(),
            d.uploaded_by.clone(),
            local(d.uploaded_at),
        ]);
        path_of.insert((d.roster_entry_id, d.kind.clone()), path.clone());
        items.push((path, rec.id.clone()));
    }
    items.sort();
    listing.sort();
    let cell_text = |entry: Option<i64>, c: &super::CellView| match c.status.as_str() {
        "present" => path_of
            .get(&(entry, c.code.clone()))
            .cloned()
            .unwrap_or_else(|| "✓".into()),
        "missing" => "缺".into(),
        "optional" => "未提供（可选）".into(),
        _ => "不需要".into(),
    };
    let mut headers: Vec<String> = [
        "行号",
        "姓名",
        "证件类型",
        "证件号码（已脱敏）",
        "户籍/居住地",
        "重点对象类别",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    headers.extend(view.columns.iter().map(|c| c.label.clone()));
    headers.push("完整度（%）".into());
    let rows: Vec<Vec<String>> = view
        .trainees
        .iter()
        .map(|t| {
            let mut r = vec![
                t.row_number.to_string(),
                t.name.clone(),
                t.id_kind.clone(),
                t.id_number_masked.clone(),
                t.residence.clone(),
                t.groups.join("、"),
            ];
            r.extend(
                t.cells
                    .iter()
                    .map(|c| cell_text(Some(t.roster_entry_id), c)),
            );
            r.push(t.completeness_percent.to_string());
            r
        })
        .collect();
    let sheets = vec![
        IndexSheet {
            name: "档案目录".into(),
            info: vec![
                ("班次编号".into(), view.class_id.to_string()),
                ("培训机构".into(), view.institution_name.clone()),
                ("培训项目".into(), view.occupation.clone()),
                ("技能等级".into(), view.level.clone()),
                ("开班日期".into(), view.start_date.to_string()),
                ("班次状态".into(), view.status_label.clone()),
                (
                    "档案完整度".into(),
                    format!(
                        "{}%（{}/{}）",
                        view.completeness_percent, view.present, view.required
                    ),
                ),
                ("生成时间".into(), local(now)),
            ],
            headers,
            rows,
        },
        IndexSheet {
            name: "班级材料".into(),
            info: Vec::new(),
            headers: vec!["材料".into(), "文件".into()],
            rows: view
                .class_items
                .iter()
                .zip(&view.class_item_labels)
                .map(|(c, l)| vec![l.clone(), cell_text(None, c)])
                .collect(),
        },
        IndexSheet {
            name: "文件清单".into(),
            info: Vec::new(),
            headers: [
                "文件路径",
                "行号",
                "学员",
                "材料",
                "原文件名",
                "大小（字节）",
                "SHA-256",
                "上传人",
                "上传时间",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            rows: listing,
        },
    ];
    // The zip is written on a blocking thread; contents come one at a time over a small
    // channel, so memory holds the zip and at most a few documents.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(String, Vec<u8>)>(2);
    let writer = tokio::task::spawn_blocking(move || {
        let mut w = ArchiveZipWriter::new(std::io::Cursor::new(Vec::new()));
        while let Some((path, bytes)) = rx.blocking_recv() {
            w.add(&path, &bytes)?;
        }
        let index = peixun_import::archive_zip::index_xlsx(&sheets)?;
        w.add(INDEX_NAME, &index)?;
        w.finish().map(|c| c.into_inner())
    });
    let documents = items.len();
    let mut send_err = None;
    for (path, id) in items {
        match files.open(&id).await {
            Ok(bytes) => {
                if tx.send((path, bytes)).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                send_err = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("archive: {e}"))))?;
    if let Some(e) = send_err {
        return Err(e);
    }
    let bytes = written.map_err(|e| StoreError::validation(e.code, e.message, "archive"))?;
    // S10: the whole archive holds personal data.
    audit::record(
        store,
        viewer,
        "archive.download",
        "class",
        Some(class_id.to_string()),
        serde_json::json!({ "documents": documents, "bytes": bytes.len() }),
        db_time(now),
    )
    .await?;
    Ok(ArchiveDownload {
        file_name: format!(
            "班次{}_{}{}_培训档案.zip",
            view.class_id,
            safe_path_part(&view.occupation),
            safe_path_part(&view.level)
        ),
        bytes,
        documents,
    })
}
