//! Address requests (R-FIL-7) and online-training requests (R-FIL-8): the institution submits,
//! the centre approves or refuses with a reason, never the submitter (S7); the domain's request
//! state machine ([`peixun_domain::workflow::request`]) decides. An online request is approved
//! only when [`check_online_request`] finds nothing (commission letter, platform, and evidence —
//! a file or a note — for real-name login, learning records, exams and the city supervision
//! link). Approved addresses become selectable in the filing package; an approved online
//! request lets the filing packages it names (R-FIL-8: "需开展线上培训的" classes, one request per
//! need) choose online training — never the institution's other or later packages.

use crate::files::{self, FileOwner, FileStore, StoredFile};
use crate::workflow_glue::{is_centre, wf_actor, wf_err, with_retry};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Utc};
use peixun_domain::filing::{FilingProblem, OnlineReason, OnlineRequest, check_online_request};
use peixun_domain::role::Role;
use peixun_domain::workflow::request::{
    self as wf_req, RequestAction, RequestContext, RequestKind, RequestState,
};
use peixun_import::FileType;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `training_requests` table.
pub mod request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "training_requests")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub institution_id: i64,
        /// `address` / `online_training`
        pub kind: String,
        /// `submitted` / `approved` / `refused`
        pub state: String,
        pub address: String,
        /// Address: the reason; online: `OnlineReason` as JSON.
        pub reason: String,
        /// Online: `{platform_name, platform_url, notes: {item: note}}` as JSON.
        pub details: String,
        /// Evidence slot → file id, as JSON.
        pub evidence: String,
        pub submitted_by: Option<i64>,
        pub submitted_by_name: String,
        pub submitted_at: DateTimeUtc,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTimeUtc>,
        pub decision_reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `online_request_packages` table: the packages (classes) an online request covers.
pub mod request_package {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "online_request_packages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub request_id: i64,
        pub package_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Most packages one online request may name.
pub const MAX_REQUEST_PACKAGES: usize = 50;

/// The online platform's evidence checklist (R-FIL-8): slot code and label.
pub const EVIDENCE_ITEMS: [(&str, &str); 4] = [
    ("real_name_login", "实名制登录"),
    ("learning_records", "学习过程记录"),
    ("exams", "考试功能"),
    ("city_supervision_link", "接入广州市在线学习监管服务平台"),
];
/// The commission letter's slot (第三方委托函).
pub const COMMISSION_LETTER: &str = "commission_letter";
/// The address request's evidence slot (场地证明: lease, property certificate …).
pub const ADDRESS_EVIDENCE: &str = "address_evidence";
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;
pub const EVIDENCE_TYPES: [FileType; 5] = [
    FileType::Pdf,
    FileType::Jpeg,
    FileType::Png,
    FileType::Docx,
    FileType::Xlsx,
];

fn kind_code(k: RequestKind) -> &'static str {
    match k {
        RequestKind::Address => "address",
        RequestKind::OnlineTraining => "online_training",
    }
}

fn parse_kind(s: &str) -> RequestKind {
    if s == "address" {
        RequestKind::Address
    } else {
        RequestKind::OnlineTraining
    }
}

fn parse_state(s: &str) -> RequestState {
    match s {
        "approved" => RequestState::Approved,
        "refused" => RequestState::Refused,
        _ => RequestState::Submitted,
    }
}

/// Online request details besides the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct OnlineDetails {
    pub platform_name: String,
    pub platform_url: String,
    /// Evidence item → note (an alternative to an upload).
    pub notes: BTreeMap<String, String>,
}

/// What the institution submits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RequestInput {
    Address {
        address: String,
        reason: String,
    },
    OnlineTraining {
        reason: OnlineReason,
        #[serde(flatten)]
        details: OnlineDetails,
        /// The filing packages (classes) to be trained online: at least one, the institution's
        /// own (R-FIL-8). The approval covers these only.
        #[serde(default)]
        packages: Vec<i64>,
    },
}

/// One uploaded piece of evidence, before it is stored.
#[derive(Debug, Clone)]
pub struct EvidenceUpload {
    /// `commission_letter`, `address_evidence`, or an [`EVIDENCE_ITEMS`] code.
    pub slot: String,
    pub bytes: Vec<u8>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItemView {
    pub slot: String,
    pub label: String,
    pub file_id: Option<String>,
    pub file_name: Option<String>,
    pub note: String,
    pub complete: bool,
}

/// A package an online request covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestPackageView {
    pub id: i64,
    /// "育婴员（初级），开班 2026-04-01".
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestView {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    /// `address` / `online_training`
    pub kind: String,
    pub kind_label: String,
    pub state: String,
    pub state_label: String,
    pub address: String,
    /// Address: the reason text; online: the reason's label and text.
    pub reason: String,
    pub online_reason: Option<OnlineReason>,
    pub platform_name: String,
    pub platform_url: String,
    pub evidence: Vec<EvidenceItemView>,
    /// Online: the packages (classes) the request covers (R-FIL-8).
    pub packages: Vec<RequestPackageView>,
    /// What an online request still lacks (empty: may be approved).
    pub missing: Vec<FilingProblem>,
    pub submitted_by_name: String,
    pub submitted_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

fn evidence_map(m: &request::Model) -> BTreeMap<String, String> {
    serde_json::from_str(&m.evidence).unwrap_or_default()
}

fn details_of(m: &request::Model) -> OnlineDetails {
    serde_json::from_str(&m.details).unwrap_or_default()
}

fn online_reason(m: &request::Model) -> Option<OnlineReason> {
    serde_json::from_str(&m.reason).ok()
}

/// The domain's view of an online request's content.
fn online_content(m: &request::Model) -> OnlineRequest {
    let ev = evidence_map(m);
    let d = details_of(m);
    let has = |k: &str| ev.contains_key(k) || d.notes.get(k).is_some_and(|n| !n.trim().is_empty());
    OnlineRequest {
        reason: online_reason(m).unwrap_or(OnlineReason::Other {
            description: String::new(),
        }),
        commission_letter: ev.contains_key(COMMISSION_LETTER),
        platform_name: d.platform_name.clone(),
        real_name_login: has("real_name_login"),
        learning_records: has("learning_records"),
        exams: has("exams"),
        city_supervision_link: has("city_supervision_link"),
    }
}

fn missing_of(m: &request::Model) -> Vec<FilingProblem> {
    match parse_kind(&m.kind) {
        RequestKind::OnlineTraining => check_online_request(&online_content(m)),
        RequestKind::Address => Vec::new(),
    }
}

fn reason_label(r: &OnlineReason) -> String {
    match r {
        OnlineReason::EpidemicControl => "疫情防控".into(),
        OnlineReason::SpecialTrainees { description } => {
            format!("学员生源特殊（如监狱）：{description}")
        }
        OnlineReason::Other { description } => format!("其他：{description}"),
    }
}

async fn to_view<C: ConnectionTrait>(db: &C, m: request::Model) -> Result<RequestView> {
    let kind = parse_kind(&m.kind);
    let state = parse_state(&m.state);
    let ev = evidence_map(&m);
    let d = details_of(&m);
    let mut slots: Vec<(&str, &str)> = Vec::new();
    match kind {
        RequestKind::Address => slots.push((ADDRESS_EVIDENCE, "场地证明材料")),
        RequestKind::OnlineTraining => {
            slots.push((COMMISSION_LETTER, "第三方委托函"));
            slots.extend(EVIDENCE_ITEMS);
        }
    }
    let mut evidence = Vec::new();
    for (slot, label) in slots {
        let file_id = ev.get(slot).cloned();
        let file_name = match &file_id {
            Some(id) => files::get_file(db, id).await.ok().map(|r| r.original_name),
            None => None,
        };
        let note = d.notes.get(slot).cloned().unwrap_or_default();
        evidence.push(EvidenceItemView {
            slot: slot.into(),
            label: label.into(),
            complete: file_id.is_some() || !note.trim().is_empty(),
            file_id,
            file_name,
            note,
        });
    }
    let inst = crate::entity::institution::Entity::find_by_id(m.institution_id)
        .one(db)
        .await?;
    let online = online_reason(&m).filter(|_| kind == RequestKind::OnlineTraining);
    let packages = packages_of(db, m.id).await?;
    Ok(RequestView {
        id: m.id,
        institution_id: m.institution_id,
        institution_name: inst.map(|i| i.name).unwrap_or_default(),
        kind: kind_code(kind).into(),
        kind_label: kind.label_zh().into(),
        state: state.code().into(),
        state_label: state.label_zh().into(),
        address: m.address.clone(),
        reason: match &online {
            Some(r) => reason_label(r),
            None => m.reason.clone(),
        },
        online_reason: online,
        platform_name: d.platform_name.clone(),
        platform_url: d.platform_url.clone(),
        missing: missing_of(&m),
        evidence,
        packages,
        submitted_by_name: m.submitted_by_name,
        submitted_at: m.submitted_at,
        decided_by: m.decided_by,
        decided_at: m.decided_at,
        decision_reason: m.decision_reason,
    })
}

/// The label of a package in a request: occupation, level and start date.
pub fn package_label(p: &crate::filing_package::package::Model) -> String {
    let what = if p.occupation.trim().is_empty() {
        "（未填写职业）".to_string()
    } else {
        format!("{}（{}）", p.occupation.trim(), p.level.trim())
    };
    match p.start_date {
        Some(d) => format!("{what}，开班 {d}"),
        None => format!("{what}，开班日期未填写"),
    }
}

async fn packages_of<C: ConnectionTrait>(
    db: &C,
    request_id: i64,
) -> Result<Vec<RequestPackageView>> {
    use crate::filing_package::package;
    let ids: Vec<i64> = request_package::Entity::find()
        .filter(request_package::Column::RequestId.eq(request_id))
        .order_by_asc(request_package::Column::PackageId)
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.package_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(package::Entity::find()
        .filter(package::Column::Id.is_in(ids))
        .order_by_asc(package::Column::Id)
        .all(db)
        .await?
        .iter()
        .map(|p| RequestPackageView {
            id: p.id,
            label: package_label(p),
        })
        .collect())
}

/// R-FIL-8: the packages an online request names: at least one, each once, each the
/// institution's own. Checked inside the writing transaction.
async fn check_packages<C: ConnectionTrait>(
    db: &C,
    institution_id: i64,
    packages: &[i64],
) -> Result<Vec<i64>> {
    use crate::filing_package::package;
    let mut ids: Vec<i64> = packages.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(StoreError::validation(
            "ONL_PACKAGES_REQUIRED",
            "请选择需开展线上培训的班次（备案材料），审核通过后仅对所选班次有效（R-FIL-8）",
            "packages",
        ));
    }
    if ids.len() > MAX_REQUEST_PACKAGES {
        return Err(StoreError::validation(
            "ONL_PACKAGES_TOO_MANY",
            format!("一次申请最多选择{MAX_REQUEST_PACKAGES}个班次"),
            "packages",
        ));
    }
    let own = package::Entity::find()
        .filter(package::Column::Id.is_in(ids.clone()))
        .filter(package::Column::InstitutionId.eq(institution_id))
        .count(db)
        .await?;
    if own != ids.len() as u64 {
        return Err(StoreError::validation(
            "ONL_PACKAGE_UNKNOWN",
            "所选班次不存在或不属于本机构",
            "packages",
        ));
    }
    Ok(ids)
}

fn audit_value(m: &request::Model) -> serde_json::Value {
    serde_json::json!({
        "kind": m.kind,
        "state": m.state,
        "address": m.address,
        "reason": m.reason,
        "details": m.details,
        "evidence": m.evidence,
        "decision_reason": m.decision_reason,
    })
}

fn slot_allowed(kind: RequestKind, slot: &str) -> bool {
    match kind {
        RequestKind::Address => slot == ADDRESS_EVIDENCE,
        RequestKind::OnlineTraining => {
            slot == COMMISSION_LETTER || EVIDENCE_ITEMS.iter().any(|(c, _)| *c == slot)
        }
    }
}

fn validate(input: &RequestInput) -> Result<()> {
    let long = |s: &str, n: usize| s.chars().count() > n;
    match input {
        RequestInput::Address { address, reason } => {
            if address.trim().is_empty() {
                return Err(StoreError::validation(
                    "ADDRESS_REQUIRED",
                    "请填写申请的培训地址",
                    "address",
                ));
            }
            if long(address, 200) {
                return Err(StoreError::validation(
                    "TOO_LONG",
                    "培训地址不超过200字",
                    "address",
                ));
            }
            if reason.trim().is_empty() {
                return Err(StoreError::validation(
                    "REASON_REQUIRED",
                    "请说明在该地址培训的原因",
                    "reason",
                ));
            }
            if long(reason, 2000) {
                return Err(StoreError::validation(
                    "TOO_LONG",
                    "原因不超过2000字",
                    "reason",
                ));
            }
        }
        RequestInput::OnlineTraining {
            details, reason, ..
        } => {
            if let OnlineReason::SpecialTrainees { description }
            | OnlineReason::Other { description } = reason
                && long(description, 2000)
            {
                return Err(StoreError::validation(
                    "TOO_LONG",
                    "原因不超过2000字",
                    "reason",
                ));
            }
            if long(&details.platform_name, 200) || long(&details.platform_url, 500) {
                return Err(StoreError::validation(
                    "TOO_LONG",
                    "平台名称不超过200字，网址不超过500字",
                    "platform_name",
                ));
            }
            let url = details.platform_url.trim();
            if !url.is_empty() && !url.starts_with("https://") && !url.starts_with("http://") {
                return Err(StoreError::validation(
                    "URL_INVALID",
                    "平台网址须以 https:// 或 http:// 开头",
                    "platform_url",
                ));
            }
            if details.notes.values().any(|n| long(n, 2000)) {
                return Err(StoreError::validation(
                    "TOO_LONG",
                    "说明不超过2000字",
                    "notes",
                ));
            }
        }
    }
    Ok(())
}

async fn put_all(
    file_store: &FileStore,
    kind: RequestKind,
    uploads: &[EvidenceUpload],
) -> Result<Vec<(String, StoredFile)>> {
    let mut out: Vec<(String, StoredFile)> = Vec::new();
    for u in uploads.iter().filter(|u| !u.bytes.is_empty()) {
        if !slot_allowed(kind, &u.slot) {
            cleanup(file_store, &out).await;
            return Err(StoreError::validation(
                "EVIDENCE_SLOT",
                "未知的证明材料类型",
                &u.slot,
            ));
        }
        match file_store
            .put_bytes(&u.bytes, &u.name, &EVIDENCE_TYPES, MAX_EVIDENCE_BYTES)
            .await
        {
            Ok(s) => out.push((u.slot.clone(), s)),
            Err(e) => {
                cleanup(file_store, &out).await;
                return Err(match e {
                    StoreError::Validation { code, message, .. } => StoreError::Validation {
                        code,
                        message,
                        field: Some(u.slot.clone()),
                    },
                    other => other,
                });
            }
        }
    }
    Ok(out)
}

async fn cleanup(file_store: &FileStore, stored: &[(String, StoredFile)]) {
    for (_, s) in stored {
        let _ = file_store.delete(&s.id).await;
    }
}

/// The institution submits a request with its evidence (files and notes), in one transaction.
pub async fn submit_request(
    store: &Store,
    file_store: &FileStore,
    actor: &Actor,
    input: &RequestInput,
    uploads: &[EvidenceUpload],
    now: DateTime<Utc>,
) -> Result<RequestView> {
    let Some(own) = actor
        .institution_id
        .filter(|_| actor.role.is_some_and(wf_req::may_submit))
    else {
        return Err(StoreError::forbidden("只有培训机构可以提交申请"));
    };
    validate(input)?;
    let kind = match input {
        RequestInput::Address { .. } => RequestKind::Address,
        RequestInput::OnlineTraining { .. } => RequestKind::OnlineTraining,
    };
    let stored = put_all(file_store, kind, uploads).await?;
    let now = db_time(now);
    let result = with_retry!({
        let txn = store.begin_write().await?;
        let mut evidence = BTreeMap::new();
        for (slot, s) in &stored {
            let rec = files::record_file(
                &txn,
                s,
                &FileOwner {
                    purpose: &format!("request_evidence:{slot}"),
                    institution_id: Some(own),
                },
                actor,
                now,
            )
            .await?;
            evidence.insert(slot.clone(), rec.id);
        }
        let (address, reason, details) = match input {
            RequestInput::Address { address, reason } => (
                address.trim().to_string(),
                reason.trim().to_string(),
                "{}".to_string(),
            ),
            RequestInput::OnlineTraining {
                reason, details, ..
            } => (
                String::new(),
                serde_json::to_string(reason).unwrap_or_default(),
                serde_json::to_string(details).unwrap_or_default(),
            ),
        };
        let packages = match input {
            RequestInput::OnlineTraining { packages, .. } => {
                check_packages(&txn, own, packages).await?
            }
            RequestInput::Address { .. } => Vec::new(),
        };
        let m = request::ActiveModel {
            institution_id: Set(own),
            kind: Set(kind_code(kind).into()),
            state: Set(RequestState::Submitted.code().into()),
            address: Set(address),
            reason: Set(reason),
            details: Set(details),
            evidence: Set(serde_json::to_string(&evidence).unwrap_or("{}".into())),
            submitted_by: Set(actor.user_id),
            submitted_by_name: Set(actor.username.clone()),
            submitted_at: Set(now),
            decided_by: Set(None),
            decided_at: Set(None),
            decision_reason: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for package_id in &packages {
            request_package::ActiveModel {
                request_id: Set(m.id),
                package_id: Set(*package_id),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        let mut new = audit_value(&m);
        if kind == RequestKind::OnlineTraining {
            new["packages"] = serde_json::json!(packages);
        }
        audit::append(
            &txn,
            actor,
            "request.submit",
            "request",
            Some(m.id.to_string()),
            None,
            Some(new),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(m.id)
    });
    match result {
        Ok(id) => get_request(store, actor, id).await,
        Err(e) => {
            cleanup(file_store, &stored).await;
            Err(e)
        }
    }
}

/// The institution completes a request under review: more evidence files, notes, platform
/// details. Only while it waits for the centre.
#[allow(clippy::too_many_arguments)]
pub async fn add_evidence(
    store: &Store,
    file_store: &FileStore,
    actor: &Actor,
    id: i64,
    notes: &BTreeMap<String, String>,
    platform: Option<(&str, &str)>,
    uploads: &[EvidenceUpload],
    now: DateTime<Utc>,
) -> Result<RequestView> {
    let m0 = load_own(store.db(), actor, id).await?;
    let kind = parse_kind(&m0.kind);
    if notes.keys().any(|k| !slot_allowed(kind, k))
        || notes.values().any(|n| n.chars().count() > 2000)
    {
        return Err(StoreError::validation(
            "EVIDENCE_SLOT",
            "说明无效或过长（不超过2000字）",
            "notes",
        ));
    }
    let stored = put_all(file_store, kind, uploads).await?;
    let now = db_time(now);
    let result = with_retry!({
        let txn = store.begin_write().await?;
        let m = load_own(&txn, actor, id).await?;
        if parse_state(&m.state) != RequestState::Submitted {
            return Err(StoreError::conflict(
                "REQUEST_DECIDED",
                "该申请已审核，不能再补充材料",
                "request",
            ));
        }
        let mut ev = evidence_map(&m);
        for (slot, s) in &stored {
            let rec = files::record_file(
                &txn,
                s,
                &FileOwner {
                    purpose: &format!("request_evidence:{slot}"),
                    institution_id: Some(m.institution_id),
                },
                actor,
                now,
            )
            .await?;
            ev.insert(slot.clone(), rec.id);
        }
        let mut d = details_of(&m);
        for (k, v) in notes {
            if v.trim().is_empty() {
                d.notes.remove(k);
            } else {
                d.notes.insert(k.clone(), v.trim().to_string());
            }
        }
        if let Some((name, url)) = platform {
            d.platform_name = name.trim().to_string();
            d.platform_url = url.trim().to_string();
        }
        let old = audit_value(&m);
        let m = request::ActiveModel {
            id: Set(m.id),
            evidence: Set(serde_json::to_string(&ev).unwrap_or("{}".into())),
            details: Set(if kind == RequestKind::OnlineTraining {
                serde_json::to_string(&d).unwrap_or_default()
            } else {
                m.details.clone()
            }),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        audit::append(
            &txn,
            actor,
            "request.add_evidence",
            "request",
            Some(m.id.to_string()),
            Some(old),
            Some(audit_value(&m)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    });
    if let Err(e) = result {
        cleanup(file_store, &stored).await;
        return Err(e);
    }
    get_request(store, actor, id).await
}

async fn load_own<C: ConnectionTrait>(db: &C, actor: &Actor, id: i64) -> Result<request::Model> {
    let m = request::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "request" })?;
    if !actor.role.is_some_and(Role::is_institution)
        || actor.institution_id != Some(m.institution_id)
    {
        return Err(StoreError::forbidden("只能修改本机构的申请"));
    }
    Ok(m)
}

/// The centre approves or refuses (with a reason) — never the submitter (S7); an online request
/// only when its evidence is complete (R-FIL-8).
pub async fn decide_request(
    store: &Store,
    actor: &Actor,
    id: i64,
    action: &RequestAction,
    now: DateTime<Utc>,
) -> Result<RequestView> {
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let m = request::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "request" })?;
        if actor.role.is_some_and(Role::is_institution)
            && actor.institution_id != Some(m.institution_id)
        {
            return Err(StoreError::forbidden("无权处理其他培训机构的申请"));
        }
        let missing = missing_of(&m);
        let ctx = RequestContext {
            kind: parse_kind(&m.kind),
            institution_id: m.institution_id,
            submitted_by: m.submitted_by.unwrap_or(0),
            evidence_complete: missing.is_empty(),
        };
        let new_state = wf_req::apply(parse_state(&m.state), action, &wf_actor(actor), &ctx)
            .map_err(|e| match e {
                peixun_domain::workflow::TransitionError::PackageIncomplete => {
                    StoreError::Validation {
                        code: "ONL_EVIDENCE_INCOMPLETE",
                        message: format!(
                            "材料不齐全，不能同意：{}",
                            missing
                                .iter()
                                .map(|p| p.message.as_str())
                                .collect::<Vec<_>>()
                                .join("；")
                        ),
                        field: missing.first().map(|p| p.field.clone()),
                    }
                }
                other => wf_err(other),
            })?;
        let old = audit_value(&m);
        let reason = match action {
            RequestAction::Refuse { reason } => Some(reason.trim().to_string()),
            RequestAction::Approve => None,
        };
        let m = request::ActiveModel {
            id: Set(m.id),
            state: Set(new_state.code().into()),
            decided_by: Set(Some(actor.username.clone())),
            decided_at: Set(Some(now)),
            decision_reason: Set(reason),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        audit::append(
            &txn,
            actor,
            match action {
                RequestAction::Approve => "request.approve",
                RequestAction::Refuse { .. } => "request.refuse",
            },
            "request",
            Some(m.id.to_string()),
            Some(old),
            Some(audit_value(&m)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(m.id)
    })?;
    get_request(store, actor, id).await
}

fn may_view(viewer: &Actor, institution_id: i64) -> bool {
    crate::filing_package::may_view(viewer, institution_id)
}

/// One request (S6: its institution, the centre, bureau, city).
pub async fn get_request(store: &Store, viewer: &Actor, id: i64) -> Result<RequestView> {
    let m = request::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "request" })?;
    if !may_view(viewer, m.institution_id) {
        return Err(StoreError::forbidden("无权查看该申请"));
    }
    to_view(store.db(), m).await
}

/// List filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFilter {
    /// `address` / `online_training`
    pub kind: Option<String>,
    /// `submitted` / `approved` / `refused`
    pub state: Option<String>,
}

/// Requests the viewer may see (institutions: their own), pending first then newest.
pub async fn list_requests(
    store: &Store,
    viewer: &Actor,
    filter: &RequestFilter,
    page: &PageRequest,
) -> Result<Page<RequestView>> {
    if matches!(viewer.role, Some(Role::Sysadmin) | Some(Role::Auditor)) {
        return Err(StoreError::forbidden("无权查看申请"));
    }
    let scope = crate::institutions::institution_scope(viewer)
        .condition(request::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看申请"))?;
    let mut q = request::Entity::find().filter(scope);
    if let Some(k) = filter.kind.as_deref().filter(|k| !k.is_empty()) {
        q = q.filter(request::Column::Kind.eq(k));
    }
    if let Some(s) = filter.state.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(request::Column::State.eq(s));
    }
    let total = q.clone().count(store.db()).await?;
    let rows = q
        .order_by_desc(request::Column::SubmittedAt)
        .order_by_desc(request::Column::Id)
        .offset(page.offset())
        .limit(page.limit())
        .all(store.db())
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for m in rows {
        items.push(to_view(store.db(), m).await?);
    }
    Ok(Page {
        items,
        total,
        next_after_id: None,
        per_page: page.limit(),
    })
}

/// A request's evidence file, if `viewer` may read the request (S6, S16); else `NotFound`.
pub async fn request_file(
    store: &Store,
    viewer: &Actor,
    request_id: i64,
    file_id: &str,
) -> Result<files::FileRecord> {
    let m = request::Entity::find_by_id(request_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "file" })?;
    if !may_view(viewer, m.institution_id) || !evidence_map(&m).values().any(|f| f == file_id) {
        return Err(StoreError::NotFound { entity: "file" });
    }
    let rec = files::get_file(store.db(), file_id).await?;
    if !files::may_read(viewer, &rec) {
        return Err(StoreError::NotFound { entity: "file" });
    }
    Ok(rec)
}

/// The addresses the centre approved for an institution (R-FIL-7): (request id, address).
pub async fn approved_addresses(
    store: &Store,
    viewer: &Actor,
    institution_id: i64,
) -> Result<Vec<(i64, String)>> {
    if !may_view(viewer, institution_id) {
        return Err(StoreError::forbidden("无权查看"));
    }
    Ok(request::Entity::find()
        .filter(request::Column::InstitutionId.eq(institution_id))
        .filter(request::Column::Kind.eq("address"))
        .filter(request::Column::State.eq("approved"))
        .order_by_asc(request::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(|m| (m.id, m.address))
        .collect())
}

pub(crate) async fn approved_address_ids<C: ConnectionTrait>(
    db: &C,
    institution_id: i64,
) -> Result<Vec<i64>> {
    Ok(request::Entity::find()
        .filter(request::Column::InstitutionId.eq(institution_id))
        .filter(request::Column::Kind.eq("address"))
        .filter(request::Column::State.eq("approved"))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect())
}

/// R-FIL-8: an approved online-training request names this package. Requests for the
/// institution's other packages do not count.
pub(crate) async fn online_approved_for_package<C: ConnectionTrait>(
    db: &C,
    package_id: i64,
) -> Result<bool> {
    let request_ids: Vec<i64> = request_package::Entity::find()
        .filter(request_package::Column::PackageId.eq(package_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.request_id)
        .collect();
    if request_ids.is_empty() {
        return Ok(false);
    }
    Ok(request::Entity::find()
        .filter(request::Column::Id.is_in(request_ids))
        .filter(request::Column::Kind.eq("online_training"))
        .filter(request::Column::State.eq("approved"))
        .count(db)
        .await?
        > 0)
}

/// The packages of an institution an online request may name (pages: the checklist).
pub async fn packages_for_request(store: &Store, actor: &Actor) -> Result<Vec<RequestPackageView>> {
    use crate::filing_package::package;
    let Some(own) = actor
        .institution_id
        .filter(|_| actor.role.is_some_and(wf_req::may_submit))
    else {
        return Err(StoreError::forbidden("只有培训机构可以提交申请"));
    };
    Ok(package::Entity::find()
        .filter(package::Column::InstitutionId.eq(own))
        .order_by_desc(package::Column::Id)
        .all(store.db())
        .await?
        .iter()
        .map(|p| RequestPackageView {
            id: p.id,
            label: package_label(p),
        })
        .collect())
}

/// The centre may decide requests (pages decide which buttons to show).
pub fn may_decide(actor: &Actor) -> bool {
    is_centre(actor)
}
