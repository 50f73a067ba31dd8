//! Violations (违法违规, R-VIO-1/2): the centre records a violation against an institution —
//! kind, facts, evidence files, the classes involved — and **another** centre officer
//! (centre_admin, never the recorder, S7) confirms or dismisses it.
//!
//! * [`record_violation`] (centre_admin / centre_staff): the classes must be the institution's
//!   own; at least one, or `no_classes` stated explicitly (application-stage fraud). Evidence
//!   files are sniffed uploads (PDF/JPEG/PNG/DOCX/XLSX, S16), stored with the violation in one
//!   transaction; they belong to the centre (`institution_id` NULL): the institution never
//!   reads them.
//! * [`crate::violations_confirm::confirm_violation`] applies R-VIO-2 in one transaction (see
//!   there); [`crate::violations_confirm::dismiss_violation`] needs a reason and changes nothing
//!   else; [`crate::violations_confirm::violation_effects_preview`] lists what confirming would
//!   do.
//! * S6: the centre, the bureau and the city read all violations; an institution reads only
//!   its **own confirmed** ones (a recorded one is an allegation under review, a dismissed one
//!   was not upheld: neither is shown to it); any other is `NotFound` to it. The sysadmin and
//!   the auditor read none.
//!
//! A class under a **confirmed** violation gets no certificate codes
//! ([`class_under_confirmed_violation`], R-CRT-1).

use crate::files::{FileOwner, FileRecord, FileStore, StoredFile};
use crate::institutions::Scope;
use crate::running::class_scope;
use crate::workflow_glue::{is_centre, with_retry};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::text::check_text;
use peixun_domain::workflow::violation::{ViolationKind, ViolationState, may_record};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::violations_confirm::{
    CodesRevoked, ViolationEffects, confirm_violation, dismiss_violation, violation_effects_preview,
};

/// `violations.state` values.
pub const STATE_RECORDED: &str = "recorded";
pub const STATE_CONFIRMED: &str = "confirmed";
pub const STATE_DISMISSED: &str = "dismissed";

/// The most facts text (characters).
pub const MAX_FACTS: usize = 2000;
/// At most this many evidence files per violation.
pub const MAX_EVIDENCE: usize = 10;
/// The largest evidence file.
pub const MAX_EVIDENCE_BYTES: usize = 20 * 1024 * 1024;
/// The types accepted as evidence (sniffed by content, S16).
pub const EVIDENCE_TYPES: [peixun_import::FileType; 5] = [
    peixun_import::FileType::Pdf,
    peixun_import::FileType::Jpeg,
    peixun_import::FileType::Png,
    peixun_import::FileType::Docx,
    peixun_import::FileType::Xlsx,
];
/// The `files.purpose` of evidence.
pub const EVIDENCE_PURPOSE: &str = "violation_evidence";
/// At most this many classes per violation.
pub const MAX_CLASSES: usize = 200;

/// The `violations` table (migrations 000080 and 000130).
pub mod violation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "violations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub institution_id: i64,
        /// recorded / confirmed / dismissed
        pub state: String,
        /// The facts (事实).
        pub description: String,
        pub recorded_by: String,
        pub recorded_at: DateTimeUtc,
        pub confirmed_by: Option<String>,
        pub confirmed_at: Option<DateTimeUtc>,
        /// `ViolationKind` code.
        pub kind: String,
        /// JSON array of file ids.
        pub evidence: String,
        pub no_classes: bool,
        pub recorded_by_user_id: Option<i64>,
        pub decided_by: Option<String>,
        pub decided_by_user_id: Option<i64>,
        pub decided_at: Option<DateTimeUtc>,
        pub decision_reason: Option<String>,
        /// JSON `ViolationEffects`, once confirmed.
        pub effects: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `violation_classes` table: (violation, class), UNIQUE together.
pub mod violation_class {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "violation_classes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub violation_id: i64,
        pub filing_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// R-VIO-2: a confirmed violation covers class `filing_id`. Works inside a transaction (pass
/// the transaction) or on the reading connection.
pub async fn class_under_confirmed_violation<C: ConnectionTrait>(
    conn: &C,
    filing_id: i64,
) -> Result<bool> {
    let ids: Vec<i64> = violation_class::Entity::find()
        .filter(violation_class::Column::FilingId.eq(filing_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|v| v.violation_id)
        .collect();
    if ids.is_empty() {
        return Ok(false);
    }
    let n = violation::Entity::find()
        .filter(violation::Column::Id.is_in(ids))
        .filter(violation::Column::State.eq(STATE_CONFIRMED))
        .count(conn)
        .await?;
    Ok(n > 0)
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

/// A class involved, as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvolvedClass {
    pub filing_id: i64,
    pub occupation: String,
    pub level: String,
    pub start_date: NaiveDate,
    pub status: String,
}

/// An evidence file (metadata only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceView {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub mime: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationView {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub kind: ViolationKind,
    pub kind_label: String,
    pub state: ViolationState,
    pub state_label: String,
    pub facts: String,
    pub classes: Vec<InvolvedClass>,
    /// Stated explicitly: no class is involved (application-stage fraud).
    pub no_classes: bool,
    /// Empty for an institution's users (evidence is the centre's).
    pub evidence: Vec<EvidenceView>,
    pub recorded_by: String,
    pub recorded_by_user_id: Option<i64>,
    pub recorded_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    /// What confirming did (R-VIO-2), once confirmed.
    pub effects: Option<ViolationEffects>,
}

pub(crate) fn parse_kind(s: &str) -> ViolationKind {
    ViolationKind::from_code(s).unwrap_or(ViolationKind::Other)
}

pub(crate) fn parse_state(s: &str) -> ViolationState {
    ViolationState::from_code(s).unwrap_or(ViolationState::Recorded)
}

fn evidence_ids(m: &violation::Model) -> Vec<String> {
    serde_json::from_str(&m.evidence).unwrap_or_default()
}

/// The class ids of violation `id`, in id order.
pub(crate) async fn class_ids<C: ConnectionTrait>(db: &C, id: i64) -> Result<Vec<i64>> {
    Ok(violation_class::Entity::find()
        .select_only()
        .column(violation_class::Column::FilingId)
        .filter(violation_class::Column::ViolationId.eq(id))
        .order_by_asc(violation_class::Column::FilingId)
        .into_tuple()
        .all(db)
        .await?)
}

pub(crate) async fn to_views<C: ConnectionTrait>(
    db: &C,
    viewer: &Actor,
    rows: Vec<violation::Model>,
) -> Result<Vec<ViolationView>> {
    use crate::entity::filing;
    let names = crate::rounds::institution_names(db, rows.iter().map(|r| r.institution_id)).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let links = violation_class::Entity::find()
        .filter(violation_class::Column::ViolationId.is_in(ids))
        .order_by_asc(violation_class::Column::FilingId)
        .all(db)
        .await?;
    let filings: BTreeMap<i64, filing::Model> = filing::Entity::find()
        .filter(filing::Column::Id.is_in(links.iter().map(|l| l.filing_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let show_evidence = viewer.is_system() || viewer.role.is_some_and(|r| !r.is_institution());
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let classes = links
            .iter()
            .filter(|l| l.violation_id == m.id)
            .filter_map(|l| filings.get(&l.filing_id))
            .map(|f| InvolvedClass {
                filing_id: f.id,
                occupation: f.occupation.clone(),
                level: f.level.clone(),
                start_date: f.start_date,
                status: f.status.clone(),
            })
            .collect();
        let mut evidence = Vec::new();
        if show_evidence {
            for id in evidence_ids(&m) {
                if let Ok(r) = crate::files::get_file(db, &id).await {
                    evidence.push(EvidenceView {
                        id: r.id,
                        name: r.original_name,
                        size: r.size,
                        mime: r.mime,
                    });
                }
            }
        }
        let kind = parse_kind(&m.kind);
        let state = parse_state(&m.state);
        out.push(ViolationView {
            id: m.id,
            institution_id: m.institution_id,
            institution_name: names.get(&m.institution_id).cloned().unwrap_or_default(),
            kind,
            kind_label: kind.label_zh().to_string(),
            state,
            state_label: state.label_zh().to_string(),
            facts: m.description,
            classes,
            no_classes: m.no_classes,
            evidence,
            recorded_by: m.recorded_by,
            recorded_by_user_id: m.recorded_by_user_id,
            recorded_at: m.recorded_at,
            decided_by: m.decided_by.or(m.confirmed_by),
            decided_at: m.decided_at.or(m.confirmed_at),
            decision_reason: m.decision_reason,
            effects: m.effects.and_then(|e| serde_json::from_str(&e).ok()),
        });
    }
    Ok(out)
}

/// S6 (see the module doc): may `viewer` see violation `m`?
pub(crate) fn may_see(viewer: &Actor, m: &violation::Model) -> bool {
    match class_scope(viewer) {
        Scope::All => true,
        Scope::Only(i) => i == m.institution_id && m.state == STATE_CONFIRMED,
        Scope::Nothing => false,
    }
}

/// One violation (S6: `NotFound` when the viewer may not see it, so another institution's
/// violation is not revealed).
pub async fn get_violation(store: &Store, viewer: &Actor, id: i64) -> Result<ViolationView> {
    let m = violation::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .filter(|m| may_see(viewer, m))
        .ok_or(StoreError::NotFound {
            entity: "violation",
        })?;
    Ok(to_views(store.db(), viewer, vec![m])
        .await?
        .pop()
        .expect("one row"))
}

/// List filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationFilter {
    pub state: Option<ViolationState>,
    pub institution_id: Option<i64>,
}

/// The violations the viewer may see (S6), newest first.
pub async fn list_violations(
    store: &Store,
    viewer: &Actor,
    filter: &ViolationFilter,
    page: &PageRequest,
) -> Result<Page<ViolationView>> {
    let mut q = violation::Entity::find();
    match class_scope(viewer) {
        Scope::All => {}
        Scope::Only(i) => {
            q = q
                .filter(violation::Column::InstitutionId.eq(i))
                .filter(violation::Column::State.eq(STATE_CONFIRMED));
        }
        Scope::Nothing => return Err(StoreError::forbidden("无权查看违规记录")),
    }
    if let Some(s) = filter.state {
        q = q.filter(violation::Column::State.eq(s.code()));
    }
    if let Some(i) = filter.institution_id {
        q = q.filter(violation::Column::InstitutionId.eq(i));
    }
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(violation::Column::Id.lt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_desc(violation::Column::Id)
        .offset(page.offset())
        .limit(limit + 1)
        .all(store.db())
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_after_id = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(Page {
        items: to_views(store.db(), viewer, rows).await?,
        total,
        next_after_id,
        per_page: limit,
    })
}

/// An evidence file of violation `id`, if `viewer` may see the violation and read the file
/// (S6, S16); else `NotFound`.
pub async fn evidence_file(
    store: &Store,
    viewer: &Actor,
    id: i64,
    file_id: &str,
) -> Result<FileRecord> {
    let m = violation::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .filter(|m| may_see(viewer, m))
        .ok_or(StoreError::NotFound { entity: "file" })?;
    if !evidence_ids(&m).iter().any(|f| f == file_id) {
        return Err(StoreError::NotFound { entity: "file" });
    }
    let rec = crate::files::get_file(store.db(), file_id).await?;
    if !crate::files::may_read(viewer, &rec) {
        return Err(StoreError::NotFound { entity: "file" });
    }
    Ok(rec)
}

// ---------------------------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------------------------

/// What the recorder enters (R-VIO-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordInput {
    pub institution_id: i64,
    pub kind: ViolationKind,
    pub facts: String,
    /// The institution's classes involved (filing ids).
    #[serde(default)]
    pub class_ids: Vec<i64>,
    /// Stated explicitly: no class is involved (application-stage fraud).
    #[serde(default)]
    pub no_classes: bool,
}

/// One evidence upload: its bytes and declared name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceUpload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// R-VIO-1: the centre (centre_admin or centre_staff) records a violation with its evidence and
/// the classes involved; nothing else changes until another officer confirms it. Bad input
/// changes nothing (an evidence file refused stores nothing).
pub async fn record_violation(
    store: &Store,
    files: &FileStore,
    actor: &Actor,
    input: &RecordInput,
    evidence: &[EvidenceUpload],
    now: DateTime<Utc>,
) -> Result<ViolationView> {
    if !actor.role.is_some_and(may_record) {
        return Err(StoreError::forbidden("只有区培训中心可以登记违法违规行为"));
    }
    let facts = input.facts.trim();
    if facts.is_empty() {
        return Err(StoreError::validation(
            "REQUIRED",
            "请填写违法违规事实",
            "facts",
        ));
    }
    check_text("facts", facts, MAX_FACTS).map_err(|mut p| {
        p.message = p.message.replacen("facts", "违法违规事实", 1);
        p
    })?;
    let mut class_ids = input.class_ids.clone();
    class_ids.sort_unstable();
    class_ids.dedup();
    match (class_ids.is_empty(), input.no_classes) {
        (true, false) => {
            return Err(StoreError::validation(
                "VIO_CLASSES_REQUIRED",
                "请选择所涉培训班次；申报阶段的违规不涉及班次时，请勾选“不涉及培训班次”（R-VIO-1）",
                "class_ids",
            ));
        }
        (false, true) => {
            return Err(StoreError::validation(
                "VIO_CLASSES_CONFLICT",
                "已勾选“不涉及培训班次”，不能同时选择班次",
                "class_ids",
            ));
        }
        _ => {}
    }
    if class_ids.len() > MAX_CLASSES {
        return Err(StoreError::validation(
            "VIO_CLASSES_COUNT",
            format!("所涉班次最多{MAX_CLASSES}个"),
            "class_ids",
        ));
    }
    if evidence.len() > MAX_EVIDENCE {
        return Err(StoreError::validation(
            "VIO_EVIDENCE_COUNT",
            format!("证据材料最多{MAX_EVIDENCE}个文件"),
            "evidence",
        ));
    }
    // The institution and its classes, checked before any file is stored.
    crate::entity::institution::Entity::find_by_id(input.institution_id)
        .one(store.db())
        .await?
        .ok_or_else(|| {
            StoreError::validation("VIO_INSTITUTION", "请选择培训机构", "institution_id")
        })?;
    check_classes(store.db(), input.institution_id, &class_ids).await?;
    // Evidence: sniffed by content (S16), encrypted at rest; rows written with the violation.
    let mut stored: Vec<StoredFile> = Vec::new();
    for (i, e) in evidence.iter().enumerate() {
        match files
            .put_bytes(&e.bytes, &e.name, &EVIDENCE_TYPES, MAX_EVIDENCE_BYTES)
            .await
        {
            Ok(s) => stored.push(s),
            Err(err) => {
                for s in &stored {
                    let _ = files.delete(&s.id).await;
                }
                return Err(match err {
                    StoreError::Validation { code, message, .. } => StoreError::Validation {
                        code,
                        message: format!("证据材料“{}”：{message}", e.name),
                        field: Some(format!("evidence[{i}]")),
                    },
                    other => other,
                });
            }
        }
    }
    let now = db_time(now);
    let res: Result<ViolationView> = with_retry!({
        let txn = store.begin_write().await?;
        let mut ids = Vec::new();
        for s in &stored {
            let rec = crate::files::record_file(
                &txn,
                s,
                &FileOwner {
                    purpose: EVIDENCE_PURPOSE,
                    institution_id: None,
                },
                actor,
                now,
            )
            .await?;
            ids.push(rec.id);
        }
        let m = violation::ActiveModel {
            institution_id: Set(input.institution_id),
            state: Set(STATE_RECORDED.to_string()),
            description: Set(facts.to_string()),
            recorded_by: Set(actor.username.clone()),
            recorded_at: Set(now),
            confirmed_by: Set(None),
            confirmed_at: Set(None),
            kind: Set(input.kind.code().to_string()),
            evidence: Set(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())),
            no_classes: Set(input.no_classes),
            recorded_by_user_id: Set(actor.user_id),
            decided_by: Set(None),
            decided_by_user_id: Set(None),
            decided_at: Set(None),
            decision_reason: Set(None),
            effects: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for fid in &class_ids {
            violation_class::ActiveModel {
                violation_id: Set(m.id),
                filing_id: Set(*fid),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        let v = to_views(&txn, actor, vec![m])
            .await?
            .pop()
            .expect("one row");
        audit::append(
            &txn,
            actor,
            "violation.record",
            "violation",
            Some(v.id.to_string()),
            None,
            Some(serde_json::json!({
                "institution_id": v.institution_id,
                "kind": v.kind.code(),
                "facts": v.facts,
                "class_ids": class_ids,
                "no_classes": v.no_classes,
                "evidence": ids,
            })),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    });
    if res.is_err() {
        for s in &stored {
            let _ = files.delete(&s.id).await;
        }
    }
    res
}

/// Every class id is a filing of institution `institution_id` (R-VIO-1).
async fn check_classes<C: ConnectionTrait>(
    db: &C,
    institution_id: i64,
    class_ids: &[i64],
) -> Result<()> {
    use crate::entity::filing;
    if class_ids.is_empty() {
        return Ok(());
    }
    let found: BTreeMap<i64, i64> = filing::Entity::find()
        .select_only()
        .column(filing::Column::Id)
        .column(filing::Column::InstitutionId)
        .filter(filing::Column::Id.is_in(class_ids.to_vec()))
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    for id in class_ids {
        if found.get(id) != Some(&institution_id) {
            return Err(StoreError::validation(
                "VIO_CLASS_OTHER",
                format!("班次#{id}不是该机构的培训班次，不能列为所涉班次"),
                "class_ids",
            ));
        }
    }
    Ok(())
}

/// The classes the recorder may pick for institution `institution_id` (the form's checkboxes):
/// its filings other than drafts, by id. Centre only.
pub async fn classes_of(
    store: &Store,
    viewer: &Actor,
    institution_id: i64,
) -> Result<Vec<InvolvedClass>> {
    use crate::entity::filing;
    if !is_centre(viewer) {
        return Err(StoreError::forbidden("只有区培训中心可以登记违法违规行为"));
    }
    Ok(filing::Entity::find()
        .filter(filing::Column::InstitutionId.eq(institution_id))
        .filter(filing::Column::Status.ne("draft"))
        .order_by_asc(filing::Column::Id)
        .limit(500)
        .all(store.db())
        .await?
        .into_iter()
        .map(|f| InvolvedClass {
            filing_id: f.id,
            occupation: f.occupation,
            level: f.level,
            start_date: f.start_date,
            status: f.status,
        })
        .collect())
}

/// Confirmed violations per institution the viewer may see (for the institution pages).
pub async fn confirmed_count<C: ConnectionTrait>(db: &C, institution_id: i64) -> Result<u64> {
    Ok(violation::Entity::find()
        .filter(violation::Column::InstitutionId.eq(institution_id))
        .filter(violation::Column::State.eq(STATE_CONFIRMED))
        .count(db)
        .await?)
}
