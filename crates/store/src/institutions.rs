//! The institution directory (机构目录): SPEC §2 Institution, §4 credit code; SECURITY.md S6.
//!
//! Visibility is decided by one function, [`institution_scope`]: lists turn it into a query
//! filter ([`Scope::condition`]) and single records check it with [`can_view`], so the two can
//! never disagree.

use crate::checks::{self, CreditCodeCheck};
use crate::entity::{institution, institution_qualification as iq};
use crate::{
    Actor, FieldProblem, Page, PageRequest, Problems, Result, Store, StoreError, audit, db_time,
};
use chrono::{DateTime, Utc};
use peixun_domain::role::Role;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The default district.
pub const DEFAULT_DISTRICT: &str = "海珠区";
/// Skill levels an institution may be approved for (培训资质).
pub const LEVELS: &[&str] = &["初级", "中级", "高级", "技师", "高级技师", "专项职业能力"];

/// An institution's status in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InstitutionStatus {
    #[default]
    Active,
    Suspended,
}

impl InstitutionStatus {
    pub fn code(self) -> &'static str {
        match self {
            InstitutionStatus::Active => "active",
            InstitutionStatus::Suspended => "suspended",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            InstitutionStatus::Active => "正常",
            InstitutionStatus::Suspended => "暂停",
        }
    }
}

impl std::str::FromStr for InstitutionStatus {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "active" => Ok(InstitutionStatus::Active),
            "suspended" => Ok(InstitutionStatus::Suspended),
            other => Err(format!("unknown institution status {other}")),
        }
    }
}

/// One approved (occupation, level) pair.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Qualification {
    pub occupation: String,
    pub level: String,
}

/// What the centre enters in the directory form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstitutionInput {
    pub name: String,
    pub credit_code: String,
    /// A wrong check character is accepted only when this is set (SPEC §4).
    #[serde(default)]
    pub confirm_checksum_warning: bool,
    pub registered_address: String,
    /// Defaults to 海珠区 when empty.
    #[serde(default)]
    pub district: Option<String>,
    pub contact_person: String,
    pub contact_phone: String,
    pub qualifications: Vec<Qualification>,
    pub major_project_capable: bool,
    #[serde(default)]
    pub major_projects: Vec<String>,
    #[serde(default)]
    pub status: InstitutionStatus,
}

/// An institution as shown in lists and on its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstitutionView {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    /// The code fails the checksum and the centre confirmed it.
    pub credit_code_warning_confirmed: bool,
    pub registered_address: String,
    pub district: String,
    pub contact_person: String,
    pub contact_phone: String,
    pub qualifications: Vec<Qualification>,
    pub major_project_capable: bool,
    pub major_projects: Vec<String>,
    pub status: InstitutionStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// List filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstitutionFilter {
    /// Name or credit code contains.
    pub q: Option<String>,
    #[serde(default)]
    pub major_only: bool,
    pub status: Option<InstitutionStatus>,
    /// Approved for this occupation (any level).
    pub occupation: Option<String>,
}

/// Which institutions a viewer may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Only(i64),
    Nothing,
}

impl Scope {
    pub fn allows(self, institution_id: i64) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(id) => id == institution_id,
            Scope::Nothing => false,
        }
    }

    /// The same rule as a query condition on an `institution_id`-like column.
    pub fn condition<C: ColumnTrait>(self, col: C) -> Option<Condition> {
        match self {
            Scope::All => Some(Condition::all()),
            Scope::Only(id) => Some(Condition::all().add(col.eq(id))),
            Scope::Nothing => None,
        }
    }
}

/// The one rule for institution records (S6, S7): institution roles see their own institution;
/// centre, bureau, city and sysadmin (to bind accounts) see the directory; the auditor sees only
/// the audit log.
pub fn institution_scope(viewer: &Actor) -> Scope {
    match viewer.role {
        None if viewer.is_system() => Scope::All,
        None => Scope::Nothing,
        Some(r) if r.is_institution() => viewer.institution_id.map_or(Scope::Nothing, Scope::Only),
        Some(Role::Auditor) => Scope::Nothing,
        Some(_) => Scope::All,
    }
}

/// May `viewer` see institution `institution_id`? (Same rule as the list filter.)
pub fn can_view(viewer: &Actor, institution_id: i64) -> bool {
    institution_scope(viewer).allows(institution_id)
}

/// Only the centre (or the system) creates and edits directory entries.
pub fn can_edit_directory(actor: &Actor) -> bool {
    actor.is_system() || actor.role.is_some_and(Role::is_centre)
}

fn to_view(m: institution::Model, mut quals: Vec<Qualification>) -> InstitutionView {
    quals.sort();
    InstitutionView {
        id: m.id,
        name: m.name,
        credit_code: m.credit_code,
        credit_code_warning_confirmed: m.credit_code_warning_confirmed,
        registered_address: m.registered_address,
        district: m.district,
        contact_person: m.contact_person,
        contact_phone: m.contact_phone,
        qualifications: quals,
        major_project_capable: m.major_project_capable,
        major_projects: serde_json::from_str(&m.major_projects).unwrap_or_default(),
        status: m.status.parse().unwrap_or(InstitutionStatus::Suspended),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

async fn load_quals<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<BTreeMap<i64, Vec<Qualification>>> {
    let mut out: BTreeMap<i64, Vec<Qualification>> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for q in iq::Entity::find()
        .filter(iq::Column::InstitutionId.is_in(ids.iter().copied()))
        .order_by_asc(iq::Column::Id)
        .all(db)
        .await?
    {
        out.entry(q.institution_id)
            .or_default()
            .push(Qualification {
                occupation: q.occupation,
                level: q.level,
            });
    }
    Ok(out)
}

async fn load_view<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<InstitutionView>> {
    let Some(m) = institution::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let quals = load_quals(db, &[id]).await?.remove(&id).unwrap_or_default();
    Ok(Some(to_view(m, quals)))
}

/// The directory, filtered by the viewer's scope and the filter, ordered by id.
pub async fn list_institutions(
    store: &Store,
    viewer: &Actor,
    filter: &InstitutionFilter,
    page: &PageRequest,
) -> Result<Page<InstitutionView>> {
    let scope = institution_scope(viewer)
        .condition(institution::Column::Id)
        .ok_or_else(|| StoreError::forbidden("无权查看机构目录"))?;
    let mut q = institution::Entity::find().filter(scope);
    if let Some(s) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            Condition::any()
                .add(institution::Column::Name.contains(s))
                .add(institution::Column::CreditCode.contains(s.to_uppercase())),
        );
    }
    if filter.major_only {
        q = q.filter(institution::Column::MajorProjectCapable.eq(true));
    }
    if let Some(st) = filter.status {
        q = q.filter(institution::Column::Status.eq(st.code()));
    }
    if let Some(o) = filter
        .occupation
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        q = q.filter(
            institution::Column::Id.in_subquery(
                Query::select()
                    .column(iq::Column::InstitutionId)
                    .from(iq::Entity)
                    .and_where(iq::Column::Occupation.eq(o))
                    .to_owned(),
            ),
        );
    }
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(institution::Column::Id.gt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_asc(institution::Column::Id)
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
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut quals = load_quals(store.db(), &ids).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|m| {
                let qs = quals.remove(&m.id).unwrap_or_default();
                to_view(m, qs)
            })
            .collect(),
        total,
        next_after_id,
        per_page: limit,
    })
}

/// One institution, if the viewer may see it (else `Forbidden`, decided before looking it up).
pub async fn get_institution(store: &Store, viewer: &Actor, id: i64) -> Result<InstitutionView> {
    if !can_view(viewer, id) {
        return Err(StoreError::forbidden("无权查看该机构"));
    }
    load_view(store.db(), id)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "institution",
        })
}

/// (id, name) of every institution the viewer may see, for select boxes.
pub async fn institution_names(store: &Store, viewer: &Actor) -> Result<Vec<(i64, String)>> {
    let scope = institution_scope(viewer)
        .condition(institution::Column::Id)
        .ok_or_else(|| StoreError::forbidden("无权查看机构目录"))?;
    Ok(institution::Entity::find()
        .filter(scope)
        .order_by_asc(institution::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect())
}

/// A validated input, ready to store.
struct Clean {
    name: String,
    credit_code: String,
    checksum_warning: bool,
    registered_address: String,
    district: String,
    contact_person: String,
    contact_phone: String,
    qualifications: Vec<Qualification>,
    major_project_capable: bool,
    major_projects: Vec<String>,
    status: InstitutionStatus,
}

fn required(
    value: &str,
    field: &str,
    label: &str,
    max: usize,
) -> std::result::Result<String, FieldProblem> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldProblem::new(
            "REQUIRED",
            format!("请填写{label}"),
            field,
        ));
    }
    if v.chars().count() > max {
        return Err(FieldProblem::new(
            "TOO_LONG",
            format!("{label}不能超过{max}个字符"),
            field,
        ));
    }
    // Names and other one-line fields: no control characters, no bidi overrides.
    if v.chars()
        .any(|c| c.is_control() || peixun_domain::text::is_bidi_control(c))
    {
        return Err(FieldProblem::new(
            "TEXT_FORBIDDEN_CHAR",
            format!("{label}不能含控制字符或文字方向控制符"),
            field,
        ));
    }
    Ok(v.to_string())
}

/// Validate the input, reporting every problem at once (R-VAL-1). `previously_confirmed_code`
/// is the stored code when the centre already confirmed its checksum warning (an unchanged code
/// need not be confirmed again).
fn clean(input: &InstitutionInput, previously_confirmed_code: Option<&str>) -> Result<Clean> {
    let mut p = Problems::default();
    let name = p
        .take(required(&input.name, "name", "机构名称", 100))
        .unwrap_or_default();
    let credit = match checks::credit_code_parse_lenient(&input.credit_code) {
        Err((code, msg)) => Err(FieldProblem::new(code, msg, "credit_code")),
        Ok(CreditCodeCheck::Valid(code)) => Ok((code, false)),
        Ok(CreditCodeCheck::ChecksumWarning { code, message }) => {
            if !input.confirm_checksum_warning && previously_confirmed_code != Some(code.as_str()) {
                Err(FieldProblem::new(
                    "CREDIT_CODE_CHECKSUM",
                    format!("{message}；如已核对无误，请勾选确认后再提交"),
                    "credit_code",
                ))
            } else {
                Ok((code, true))
            }
        }
    };
    let (credit_code, checksum_warning) = p.take(credit).unwrap_or_default();
    let registered_address = p
        .take(required(
            &input.registered_address,
            "registered_address",
            "注册地址",
            200,
        ))
        .unwrap_or_default();
    let district = input
        .district
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or(DEFAULT_DISTRICT)
        .to_string();
    let contact_person = p
        .take(required(
            &input.contact_person,
            "contact_person",
            "联系人",
            50,
        ))
        .unwrap_or_default();
    let contact_phone = p
        .take(
            checks::phone_parse(&input.contact_phone)
                .map_err(|m| FieldProblem::new("PHONE_INVALID", m, "contact_phone")),
        )
        .unwrap_or_default();
    let mut qualifications = Vec::new();
    for (i, q) in input.qualifications.iter().enumerate() {
        let field = format!("qualifications[{i}]");
        let n = i + 1;
        let label = format!("第{n}项资质的职业（工种）");
        let occupation = p.take(required(&q.occupation, &field, &label, 50));
        let level = q.level.trim().to_string();
        if !LEVELS.contains(&level.as_str()) {
            p.push(FieldProblem::new(
                "LEVEL_INVALID",
                format!("第{n}项资质的等级须为{}之一", LEVELS.join("、")),
                &field,
            ));
            continue;
        }
        let Some(occupation) = occupation else {
            continue;
        };
        let qual = Qualification { occupation, level };
        if !qualifications.contains(&qual) {
            qualifications.push(qual);
        }
    }
    qualifications.sort();
    let mut major_projects: Vec<String> = Vec::new();
    if input.major_project_capable {
        for m in &input.major_projects {
            let m = m.trim();
            if !m.is_empty() && !major_projects.iter().any(|x| x == m) {
                major_projects.push(m.to_string());
            }
        }
        if major_projects.is_empty() {
            p.push(FieldProblem::new(
                "MAJOR_PROJECTS_REQUIRED",
                "可承接重大工程项目的机构须注明项目（如南粤家政、粤菜师傅、广东技工）",
                "major_projects",
            ));
        }
    }
    p.finish()?;
    Ok(Clean {
        name,
        credit_code,
        checksum_warning,
        registered_address,
        district,
        contact_person,
        contact_phone,
        qualifications,
        major_project_capable: input.major_project_capable,
        major_projects,
        status: input.status,
    })
}

async fn check_unique(txn: &DatabaseTransaction, c: &Clean, except: Option<i64>) -> Result<()> {
    let mut q = institution::Entity::find().filter(
        Condition::any()
            .add(institution::Column::Name.eq(&c.name))
            .add(institution::Column::CreditCode.eq(&c.credit_code)),
    );
    if let Some(id) = except {
        q = q.filter(institution::Column::Id.ne(id));
    }
    if let Some(other) = q.one(txn).await? {
        return Err(if other.credit_code == c.credit_code {
            StoreError::conflict(
                "CREDIT_CODE_TAKEN",
                format!("统一社会信用代码已被“{}”使用", other.name),
                "credit_code",
            )
        } else {
            StoreError::conflict("INSTITUTION_NAME_TAKEN", "已有同名机构", "name")
        });
    }
    Ok(())
}

fn map_insert_err(e: sea_orm::DbErr) -> StoreError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(msg)) => {
            if msg.contains("credit_code") {
                StoreError::conflict(
                    "CREDIT_CODE_TAKEN",
                    "统一社会信用代码已被使用",
                    "credit_code",
                )
            } else {
                StoreError::conflict("INSTITUTION_NAME_TAKEN", "已有同名机构", "name")
            }
        }
        _ => StoreError::Db(e),
    }
}

async fn write_quals(txn: &DatabaseTransaction, id: i64, quals: &[Qualification]) -> Result<()> {
    iq::Entity::delete_many()
        .filter(iq::Column::InstitutionId.eq(id))
        .exec(txn)
        .await?;
    if quals.is_empty() {
        return Ok(());
    }
    iq::Entity::insert_many(quals.iter().map(|q| iq::ActiveModel {
        institution_id: Set(id),
        occupation: Set(q.occupation.clone()),
        level: Set(q.level.clone()),
        ..Default::default()
    }))
    .exec(txn)
    .await?;
    Ok(())
}

fn audit_value(v: &InstitutionView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Add an institution to the directory (centre only).
pub async fn create_institution(
    store: &Store,
    actor: &Actor,
    input: &InstitutionInput,
    now: DateTime<Utc>,
) -> Result<InstitutionView> {
    if !can_edit_directory(actor) {
        return Err(StoreError::forbidden("只有区培训中心可以维护机构目录"));
    }
    let c = clean(input, None)?;
    let now = db_time(now);
    let txn = store.begin_write().await?;
    check_unique(&txn, &c, None).await?;
    let m = institution::ActiveModel {
        name: Set(c.name.clone()),
        credit_code: Set(c.credit_code.clone()),
        credit_code_warning_confirmed: Set(c.checksum_warning),
        registered_address: Set(c.registered_address.clone()),
        district: Set(c.district.clone()),
        contact_person: Set(c.contact_person.clone()),
        contact_phone: Set(c.contact_phone.clone()),
        major_project_capable: Set(c.major_project_capable),
        major_projects: Set(
            serde_json::to_string(&c.major_projects).unwrap_or_else(|_| "[]".into())
        ),
        status: Set(c.status.code().to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(map_insert_err)?;
    write_quals(&txn, m.id, &c.qualifications).await?;
    let v = to_view(m, c.qualifications.clone());
    let mut new = audit_value(&v);
    if c.checksum_warning {
        new["credit_code_checksum_warning_confirmed_by"] = serde_json::json!(actor.username);
    }
    audit::append(
        &txn,
        actor,
        "institution.create",
        "institution",
        Some(v.id.to_string()),
        None,
        Some(new),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(v)
}

/// Change a directory entry (centre only). The audit row holds the old and new values.
pub async fn update_institution(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &InstitutionInput,
    now: DateTime<Utc>,
) -> Result<InstitutionView> {
    if !can_edit_directory(actor) {
        return Err(StoreError::forbidden("只有区培训中心可以维护机构目录"));
    }
    let now = db_time(now);
    let txn = store.begin_write().await?;
    let old = load_view(&txn, id).await?.ok_or(StoreError::NotFound {
        entity: "institution",
    })?;
    let confirmed = old
        .credit_code_warning_confirmed
        .then_some(old.credit_code.as_str());
    let c = clean(input, confirmed)?;
    check_unique(&txn, &c, Some(id)).await?;
    let m = institution::ActiveModel {
        id: Set(id),
        name: Set(c.name.clone()),
        credit_code: Set(c.credit_code.clone()),
        credit_code_warning_confirmed: Set(c.checksum_warning),
        registered_address: Set(c.registered_address.clone()),
        district: Set(c.district.clone()),
        contact_person: Set(c.contact_person.clone()),
        contact_phone: Set(c.contact_phone.clone()),
        major_project_capable: Set(c.major_project_capable),
        major_projects: Set(
            serde_json::to_string(&c.major_projects).unwrap_or_else(|_| "[]".into())
        ),
        status: Set(c.status.code().to_string()),
        created_at: Set(old.created_at),
        updated_at: Set(now),
    }
    .update(&txn)
    .await
    .map_err(map_insert_err)?;
    write_quals(&txn, id, &c.qualifications).await?;
    let v = to_view(m, c.qualifications.clone());
    let mut new = audit_value(&v);
    if c.checksum_warning && input.confirm_checksum_warning {
        new["credit_code_checksum_warning_confirmed_by"] = serde_json::json!(actor.username);
    }
    audit::append(
        &txn,
        actor,
        "institution.update",
        "institution",
        Some(id.to_string()),
        Some(audit_value(&old)),
        Some(new),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(v)
}

/// Does an institution exist? (For services that attach things to one.)
pub(crate) async fn exists<C: ConnectionTrait>(db: &C, id: i64) -> Result<bool> {
    Ok(institution::Entity::find_by_id(id).one(db).await?.is_some())
}
