//! Inspections and spot checks (R-RUN-4, 检查抽查): the centre records the date, the class, the
//! findings, photos (uploads) and whether rectification (整改) is required with a due date; the
//! institution reports its rectification; the centre closes it. Also the progress bulletin
//! (通报进度): classes behind plan.
//!
//! States: `no_action` (无需整改) · `rectifying` (待整改) → `rectified` (已整改，待复核) →
//! `closed` (已闭环); the centre may close a `rectifying` one too (e.g. checked on site).

use crate::entity::{filing, inspection};
use crate::filings::parse_class_state;
use crate::running::{ClassView, class_scope, views};
use crate::workflow_glue::{today, with_retry};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::role::Role;
use peixun_domain::workflow::class::ClassState;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionKind {
    /// 现场检查
    OnSite,
    /// 远程抽查
    Remote,
    /// 随机抽查
    Spot,
}

impl InspectionKind {
    pub fn code(self) -> &'static str {
        match self {
            InspectionKind::OnSite => "on_site",
            InspectionKind::Remote => "remote",
            InspectionKind::Spot => "spot",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            InspectionKind::OnSite => "现场检查",
            InspectionKind::Remote => "远程抽查",
            InspectionKind::Spot => "随机抽查",
        }
    }
    pub fn parse(s: &str) -> Option<InspectionKind> {
        match s {
            "on_site" => Some(InspectionKind::OnSite),
            "remote" => Some(InspectionKind::Remote),
            "spot" => Some(InspectionKind::Spot),
            _ => None,
        }
    }
}

/// R-EVA-1: how serious a finding is (一般 / 严重); none when nothing was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSeverity {
    /// 一般问题
    General,
    /// 严重问题
    Serious,
}

impl FindingSeverity {
    pub fn code(self) -> &'static str {
        match self {
            FindingSeverity::General => "general",
            FindingSeverity::Serious => "serious",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            FindingSeverity::General => "一般问题",
            FindingSeverity::Serious => "严重问题",
        }
    }
    pub fn parse(s: &str) -> Option<FindingSeverity> {
        match s {
            "general" => Some(FindingSeverity::General),
            "serious" => Some(FindingSeverity::Serious),
            _ => None,
        }
    }
}

pub fn status_label(code: &str) -> &'static str {
    match code {
        "no_action" => "无需整改",
        "rectifying" => "待整改",
        "rectified" => "已整改，待复核",
        "closed" => "已闭环",
        _ => "未知",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionInput {
    pub filing_id: i64,
    pub inspected_on: NaiveDate,
    pub kind: InspectionKind,
    pub findings: String,
    /// File ids of photos already uploaded (purpose `inspection_photo`).
    #[serde(default)]
    pub photos: Vec<String>,
    pub rectification_required: bool,
    pub rectification_due: Option<NaiveDate>,
    /// R-EVA-1: the finding's severity; `None` when nothing was found. When omitted and
    /// rectification is required, the finding counts as general (一般).
    #[serde(default)]
    pub severity: Option<FindingSeverity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionView {
    pub id: i64,
    pub filing_id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub inspected_on: NaiveDate,
    pub kind: InspectionKind,
    pub kind_label: String,
    pub findings: String,
    pub photos: Vec<String>,
    pub rectification_required: bool,
    pub rectification_due: Option<NaiveDate>,
    pub rectification_note: Option<String>,
    pub rectified_at: Option<DateTime<Utc>>,
    pub status: String,
    pub status_label: String,
    pub closure_note: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
    /// R-EVA-1: `general` / `serious`; `None` when nothing was found.
    pub finding_severity: Option<FindingSeverity>,
    /// "一般问题" / "严重问题" / "未发现问题".
    pub finding_severity_label: String,
}

fn view(m: inspection::Model, name: String) -> InspectionView {
    let kind = InspectionKind::parse(&m.kind).unwrap_or(InspectionKind::OnSite);
    InspectionView {
        id: m.id,
        filing_id: m.filing_id,
        institution_id: m.institution_id,
        institution_name: name,
        inspected_on: m.inspected_on,
        kind,
        kind_label: kind.label_zh().to_string(),
        findings: m.findings,
        photos: serde_json::from_str(&m.photos).unwrap_or_default(),
        rectification_required: m.rectification_required,
        rectification_due: m.rectification_due,
        rectification_note: m.rectification_note,
        rectified_at: m.rectified_at,
        status_label: status_label(&m.status).to_string(),
        status: m.status,
        closure_note: m.closure_note,
        closed_by: m.closed_by,
        closed_at: m.closed_at,
        recorded_by: m.recorded_by,
        created_at: m.created_at,
        finding_severity: m
            .finding_severity
            .as_deref()
            .and_then(FindingSeverity::parse),
        finding_severity_label: m
            .finding_severity
            .as_deref()
            .and_then(FindingSeverity::parse)
            .map_or("未发现问题", FindingSeverity::label_zh)
            .to_string(),
    }
}

async fn name_of<C: sea_orm::ConnectionTrait>(db: &C, id: i64) -> Result<String> {
    Ok(crate::rounds::institution_names(db, [id])
        .await?
        .remove(&id)
        .unwrap_or_default())
}

fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// R-RUN-4: the centre records an inspection of an approved class.
pub async fn record_inspection(
    store: &Store,
    actor: &Actor,
    input: &InspectionInput,
    now: DateTime<Utc>,
) -> Result<InspectionView> {
    if !actor.role.is_some_and(Role::is_centre) {
        return Err(StoreError::forbidden("只有区培训中心可以登记检查抽查"));
    }
    let now = db_time(now);
    let day = today(now);
    let findings = input.findings.trim().to_string();
    if findings.is_empty() {
        return Err(StoreError::validation(
            "REQUIRED",
            "请填写检查发现的情况（不超过2000字）",
            "findings",
        ));
    }
    peixun_domain::text::check_text("findings", &findings, peixun_domain::text::MAX_REASON_CHARS)?;
    if input.inspected_on > day {
        return Err(StoreError::validation(
            "INS_DATE_FUTURE",
            format!("检查日期不能晚于今天（{day}）"),
            "inspected_on",
        ));
    }
    let due = match (input.rectification_required, input.rectification_due) {
        (true, None) => {
            return Err(StoreError::validation(
                "INS_DUE_REQUIRED",
                "要求整改时须填写整改期限",
                "rectification_due",
            ));
        }
        (true, Some(d)) if d < input.inspected_on => {
            return Err(StoreError::validation(
                "INS_DUE_BEFORE",
                format!("整改期限须不早于检查日期{}", input.inspected_on),
                "rectification_due",
            ));
        }
        (true, d) => d,
        (false, _) => None,
    };
    with_retry!({
        let txn = store.begin_write().await?;
        let f = filing::Entity::find_by_id(input.filing_id)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                StoreError::validation("INS_CLASS", "请选择已批复的班次", "filing_id")
            })?;
        if !parse_class_state(&f.state).is_approved() {
            return Err(StoreError::validation(
                "INS_CLASS",
                "只能检查已批复的班次",
                "filing_id",
            ));
        }
        for p in &input.photos {
            let rec = crate::files::get_file(&txn, p).await?;
            if !rec.purpose.starts_with("inspection_photo") {
                return Err(StoreError::validation(
                    "INS_PHOTO",
                    "照片文件无效",
                    "photos",
                ));
            }
        }
        let m = inspection::ActiveModel {
            filing_id: Set(f.id),
            institution_id: Set(f.institution_id),
            inspected_on: Set(input.inspected_on),
            kind: Set(input.kind.code().to_string()),
            findings: Set(findings.clone()),
            photos: Set(serde_json::to_string(&input.photos).unwrap_or_else(|_| "[]".into())),
            rectification_required: Set(input.rectification_required),
            rectification_due: Set(due),
            rectification_note: Set(None),
            rectified_at: Set(None),
            status: Set(if input.rectification_required {
                "rectifying"
            } else {
                "no_action"
            }
            .to_string()),
            closure_note: Set(None),
            closed_by: Set(None),
            closed_at: Set(None),
            recorded_by: Set(actor.username.clone()),
            recorded_by_user_id: Set(actor.user_id),
            created_at: Set(now),
            finding_severity: Set(input
                .severity
                .or(input
                    .rectification_required
                    .then_some(FindingSeverity::General))
                .map(|s| s.code().to_string())),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let v = view(m, name_of(&txn, f.institution_id).await?);
        if input.rectification_required {
            crate::overdue::inbox(
                &txn,
                f.institution_id,
                "检查抽查要求整改",
                &format!(
                    "区培训中心于{}对班次#{}进行了{}，发现：{}。请于{}前完成整改并在系统中报告整改情况。",
                    v.inspected_on,
                    f.id,
                    v.kind_label,
                    v.findings,
                    due.map(|d| d.to_string()).unwrap_or_default()
                ),
                now,
            )
            .await?;
        }
        audit::append(
            &txn,
            actor,
            "inspection.record",
            "inspection",
            Some(v.id.to_string()),
            None,
            Some(json(&v)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

async fn change(
    store: &Store,
    actor: &Actor,
    id: i64,
    audit_action: &str,
    now: DateTime<Utc>,
    edit: impl Fn(&inspection::Model) -> Result<inspection::ActiveModel>,
) -> Result<InspectionView> {
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let m =
            inspection::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or(StoreError::NotFound {
                    entity: "inspection",
                })?;
        if !class_scope(actor).allows(m.institution_id) {
            return Err(StoreError::forbidden("不能操作其他培训机构的检查记录"));
        }
        let name = name_of(&txn, m.institution_id).await?;
        let old = view(m.clone(), name.clone());
        let m = edit(&m)?.update(&txn).await?;
        let v = view(m, name);
        audit::append(
            &txn,
            actor,
            audit_action,
            "inspection",
            Some(id.to_string()),
            Some(json(&old)),
            Some(json(&v)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// The institution reports its rectification (整改情况) of an inspection requiring one.
pub async fn report_rectification(
    store: &Store,
    actor: &Actor,
    id: i64,
    note: &str,
    now: DateTime<Utc>,
) -> Result<InspectionView> {
    if !actor.role.is_some_and(Role::is_institution) {
        return Err(StoreError::forbidden("只有培训机构可以报告整改情况"));
    }
    let note = note.trim().to_string();
    let at = db_time(now);
    change(store, actor, id, "inspection.rectify", now, |m| {
        // After the record-level check in `change` (S6): B learns nothing about A's record.
        if note.is_empty() {
            return Err(StoreError::validation(
                "REQUIRED",
                "请填写整改情况（不超过2000字）",
                "note",
            ));
        }
        if let Err(e) =
            peixun_domain::text::check_text("note", &note, peixun_domain::text::MAX_REASON_CHARS)
        {
            return Err(e.into());
        }
        if m.status != "rectifying" {
            return Err(StoreError::validation(
                "INS_STATE",
                format!("当前状态为“{}”，无需报告整改情况", status_label(&m.status)),
                "note",
            ));
        }
        Ok(inspection::ActiveModel {
            id: Set(m.id),
            rectification_note: Set(Some(note.clone())),
            rectified_at: Set(Some(at)),
            status: Set("rectified".into()),
            ..Default::default()
        })
    })
    .await
}

/// The centre closes an inspection's rectification (复核闭环) with a note.
pub async fn close_inspection(
    store: &Store,
    actor: &Actor,
    id: i64,
    note: &str,
    now: DateTime<Utc>,
) -> Result<InspectionView> {
    if !actor.role.is_some_and(Role::is_centre) {
        return Err(StoreError::forbidden("只有区培训中心可以复核闭环"));
    }
    let note = note.trim().to_string();
    if note.is_empty() {
        return Err(StoreError::validation("REQUIRED", "请填写复核意见", "note"));
    }
    let at = db_time(now);
    let who = actor.username.clone();
    change(store, actor, id, "inspection.close", now, |m| {
        if !matches!(m.status.as_str(), "rectifying" | "rectified") {
            return Err(StoreError::validation(
                "INS_STATE",
                format!("当前状态为“{}”，不能复核闭环", status_label(&m.status)),
                "note",
            ));
        }
        Ok(inspection::ActiveModel {
            id: Set(m.id),
            status: Set("closed".into()),
            closure_note: Set(Some(note.clone())),
            closed_by: Set(Some(who.clone())),
            closed_at: Set(Some(at)),
            ..Default::default()
        })
    })
    .await
}

/// List filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionFilter {
    /// Only `rectifying` and `rectified`.
    #[serde(default)]
    pub open_only: bool,
    pub filing_id: Option<i64>,
}

/// Inspections the viewer may see, newest first.
pub async fn list_inspections(
    store: &Store,
    viewer: &Actor,
    filter: &InspectionFilter,
    page: &PageRequest,
) -> Result<Page<InspectionView>> {
    let cond = class_scope(viewer)
        .condition(inspection::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看检查抽查"))?;
    let mut q = inspection::Entity::find().filter(cond);
    if filter.open_only {
        q = q.filter(inspection::Column::Status.is_in(["rectifying", "rectified"]));
    }
    if let Some(f) = filter.filing_id {
        q = q.filter(inspection::Column::FilingId.eq(f));
    }
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(inspection::Column::Id.lt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_desc(inspection::Column::Id)
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
    let names =
        crate::rounds::institution_names(store.db(), rows.iter().map(|r| r.institution_id)).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|m| {
                let n = names.get(&m.institution_id).cloned().unwrap_or_default();
                view(m, n)
            })
            .collect(),
        total,
        next_after_id,
        per_page: limit,
    })
}

/// One inspection (S6).
pub async fn get_inspection(store: &Store, viewer: &Actor, id: i64) -> Result<InspectionView> {
    let m = inspection::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound {
            entity: "inspection",
        })?;
    if !class_scope(viewer).allows(m.institution_id) {
        return Err(StoreError::forbidden("无权查看该检查记录"));
    }
    let name = name_of(store.db(), m.institution_id).await?;
    Ok(view(m, name))
}

/// The types accepted as an inspection photo (R-RUN-4, S16: sniffed by content).
pub const PHOTO_TYPES: [peixun_import::FileType; 3] = [
    peixun_import::FileType::Jpeg,
    peixun_import::FileType::Png,
    peixun_import::FileType::Pdf,
];
/// The largest photo accepted.
pub const MAX_PHOTO_BYTES: usize = 20 * 1024 * 1024;
/// At most this many photos per inspection.
pub const MAX_PHOTOS: usize = 20;

/// R-RUN-4: the centre adds a photo (JPEG/PNG/PDF, checked by content, S16) to an inspection.
/// The file belongs to the inspected institution (its users may read it, no other
/// institution's may, S6).
#[allow(clippy::too_many_arguments)]
pub async fn add_photo(
    store: &Store,
    files: &crate::files::FileStore,
    actor: &Actor,
    id: i64,
    bytes: &[u8],
    declared_name: &str,
    now: DateTime<Utc>,
) -> Result<InspectionView> {
    if !actor.role.is_some_and(Role::is_centre) {
        return Err(StoreError::forbidden("只有区培训中心可以上传检查照片"));
    }
    let current = get_inspection(store, actor, id).await?;
    if current.photos.len() >= MAX_PHOTOS {
        return Err(StoreError::validation(
            "INS_PHOTO_COUNT",
            format!("每条检查记录最多上传{MAX_PHOTOS}个照片文件"),
            "file",
        ));
    }
    let rec = files
        .put(
            store,
            bytes,
            declared_name,
            &PHOTO_TYPES,
            MAX_PHOTO_BYTES,
            &crate::files::FileOwner {
                purpose: "inspection_photo",
                institution_id: Some(current.institution_id),
            },
            actor,
            now,
        )
        .await?;
    let file_id = rec.id.clone();
    let res = change(store, actor, id, "inspection.photo", now, |m| {
        let mut photos: Vec<String> = serde_json::from_str(&m.photos).unwrap_or_default();
        photos.push(file_id.clone());
        let mut am: inspection::ActiveModel = m.clone().into();
        am.photos = Set(serde_json::to_string(&photos).unwrap_or_else(|_| "[]".into()));
        Ok(am)
    })
    .await;
    if res.is_err() {
        // Not referenced: remove the row and the content again.
        let _ = crate::files::delete_file_record(store.db(), &file_id).await;
        let _ = files.delete(&file_id).await;
    }
    res
}

/// A photo of inspection `id`, if `viewer` may see the inspection and read the file (S6, S16);
/// else `NotFound` (another institution's photo is not revealed).
pub async fn photo_file(
    store: &Store,
    viewer: &Actor,
    id: i64,
    file_id: &str,
) -> Result<crate::files::FileRecord> {
    let v = get_inspection(store, viewer, id)
        .await
        .map_err(|e| match e {
            StoreError::Forbidden { .. } => StoreError::NotFound { entity: "file" },
            other => other,
        })?;
    if !v.photos.iter().any(|p| p == file_id) {
        return Err(StoreError::NotFound { entity: "file" });
    }
    let rec = crate::files::get_file(store.db(), file_id).await?;
    if !crate::files::may_read(viewer, &rec) {
        return Err(StoreError::NotFound { entity: "file" });
    }
    Ok(rec)
}

/// A class behind plan, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BehindPlan {
    pub class: ClassView,
    pub reason: String,
}

/// Within this many days of the last day and not complete: behind plan.
pub const NEAR_LAST_DAY_DAYS: i64 = 5;

/// R-RUN-4 (通报进度): classes behind plan on `day`: approved but not started after the start
/// date; in training within [`NEAR_LAST_DAY_DAYS`] of the last day; overdue and not complete.
pub async fn progress_bulletin(
    store: &Store,
    viewer: &Actor,
    day: NaiveDate,
) -> Result<Vec<BehindPlan>> {
    let cond = class_scope(viewer)
        .condition(filing::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看"))?;
    let rows = filing::Entity::find()
        .filter(cond)
        .filter(filing::Column::Status.is_in([
            "approved",
            "roster_review",
            "in_training",
            "overdue",
            "training_complete",
        ]))
        .order_by_asc(filing::Column::StartDate)
        .order_by_asc(filing::Column::Id)
        .limit(2000)
        .all(store.db())
        .await?;
    let mut out = Vec::new();
    for c in views(store.db(), rows, day).await? {
        let reason = match &c.state {
            ClassState::Overdue { started } => Some(if *started {
                format!("已超过最迟完成日期{}，培训尚未完成", c.last_day)
            } else {
                format!("已超过最迟完成日期{}，培训未开始", c.last_day)
            }),
            ClassState::Approved | ClassState::RosterReview { started: false }
                if c.start_date < day =>
            {
                Some(format!("开班日期{}已过，尚未开始培训", c.start_date))
            }
            ClassState::InTraining
            | ClassState::RosterReview { started: true }
            | ClassState::TrainingComplete { overdue: false }
                if c.days_left.is_some_and(|d| d <= NEAR_LAST_DAY_DAYS) =>
            {
                Some(format!(
                    "距最迟完成日期{}仅剩{}天，尚未完成",
                    c.last_day,
                    c.days_left.unwrap_or(0)
                ))
            }
            _ => None,
        };
        if let Some(reason) = reason {
            out.push(BehindPlan { class: c, reason });
        }
    }
    Ok(out)
}
