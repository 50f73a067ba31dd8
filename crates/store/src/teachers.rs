//! Teachers (授课师资) of an institution. ID numbers are stored encrypted (S14, [`crate::pii`])
//! and shown masked (R-PII-1); uniqueness per institution is on their keyed hash; the full
//! number only through [`reveal_id_number`], which is audited and open only to those who may
//! write the teacher ([`can_reveal_id_number`]).
//!
//! Access (S6, S7): institution roles read and manage their own institution's teachers; the
//! centre reads and manages all; bureau and city read all; sysadmin and auditor see no personal
//! data. [`teacher_scope`] is the one rule for lists and single records.

use crate::checks;
use crate::entity::{teacher, teacher_qualification as tq};
use crate::institutions::{self, Scope};
use crate::pii::Field;
use crate::{
    Actor, FieldProblem, Page, PageRequest, Problems, Result, Store, StoreError, audit, db_time,
};
use chrono::{DateTime, Utc};
use peixun_domain::role::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One qualification of a teacher.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TeacherQualification {
    pub occupation: String,
    pub level: String,
    pub certificate_no: String,
}

/// The teacher form.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeacherInput {
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub qualifications: Vec<TeacherQualification>,
    pub active: bool,
}

impl std::fmt::Debug for TeacherInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeacherInput")
            .field("name", &self.name)
            .field("id_number", &checks::mask_id(&self.id_number))
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// A teacher as lists and pages show them: the ID number masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeacherView {
    pub id: i64,
    pub institution_id: i64,
    pub name: String,
    pub id_number_masked: String,
    pub phone: String,
    pub qualifications: Vec<TeacherQualification>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Whose teachers `viewer` may read.
pub fn teacher_scope(viewer: &Actor) -> Scope {
    match viewer.role {
        Some(Role::Sysadmin) | Some(Role::Auditor) => Scope::Nothing,
        _ => institutions::institution_scope(viewer),
    }
}

/// May `viewer` read the teachers of `institution_id`?
pub fn can_view_teachers(viewer: &Actor, institution_id: i64) -> bool {
    teacher_scope(viewer).allows(institution_id)
}

/// May `actor` add or change teachers of `institution_id`?
pub fn can_manage_teachers(actor: &Actor, institution_id: i64) -> bool {
    match actor.role {
        None => actor.is_system(),
        Some(r) if r.is_centre() => true,
        Some(r) if r.is_institution() => actor.institution_id == Some(institution_id),
        Some(_) => false,
    }
}

/// The stored masked number (a row from before encryption: masked from its plaintext).
fn masked_of(m: &teacher::Model) -> String {
    if !m.id_masked.is_empty() {
        m.id_masked.clone()
    } else if m.id_number.starts_with(crate::pii::FIELD_PREFIX) {
        "******".into()
    } else {
        checks::mask_id(&m.id_number)
    }
}

fn to_view(m: teacher::Model, mut quals: Vec<TeacherQualification>) -> TeacherView {
    quals.sort();
    let masked = masked_of(&m);
    TeacherView {
        id: m.id,
        institution_id: m.institution_id,
        name: m.name,
        id_number_masked: masked,
        phone: m.phone,
        qualifications: quals,
        active: m.active,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

async fn load_quals<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<BTreeMap<i64, Vec<TeacherQualification>>> {
    let mut out: BTreeMap<i64, Vec<TeacherQualification>> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for q in tq::Entity::find()
        .filter(tq::Column::TeacherId.is_in(ids.iter().copied()))
        .order_by_asc(tq::Column::Id)
        .all(db)
        .await?
    {
        out.entry(q.teacher_id)
            .or_default()
            .push(TeacherQualification {
                occupation: q.occupation,
                level: q.level,
                certificate_no: q.certificate_no,
            });
    }
    Ok(out)
}

/// The teachers of one institution, ordered by id.
pub async fn list_teachers(
    store: &Store,
    viewer: &Actor,
    institution_id: i64,
    page: &PageRequest,
) -> Result<Page<TeacherView>> {
    if !can_view_teachers(viewer, institution_id) {
        return Err(StoreError::forbidden("无权查看该机构的师资"));
    }
    let mut q = teacher::Entity::find().filter(teacher::Column::InstitutionId.eq(institution_id));
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(teacher::Column::Id.gt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_asc(teacher::Column::Id)
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

async fn load<C: ConnectionTrait>(db: &C, id: i64) -> Result<teacher::Model> {
    teacher::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "teacher" })
}

/// One teacher, if the viewer may see the teacher's institution. A teacher of another
/// institution answers `Forbidden`, the same as a list of that institution.
pub async fn get_teacher(store: &Store, viewer: &Actor, id: i64) -> Result<TeacherView> {
    if teacher_scope(viewer) == Scope::Nothing {
        return Err(StoreError::forbidden("无权查看师资信息"));
    }
    let m = load(store.db(), id).await?;
    if !can_view_teachers(viewer, m.institution_id) {
        return Err(StoreError::forbidden("无权查看该机构的师资"));
    }
    let quals = load_quals(store.db(), &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(to_view(m, quals))
}

struct Clean {
    name: String,
    /// `None` when the form left the number empty (on update: keep the stored one).
    id_number: Option<String>,
    phone: String,
    qualifications: Vec<TeacherQualification>,
    active: bool,
}

/// Validate the form, reporting every problem at once (R-VAL-1). With `keep_empty_id` (update),
/// an empty ID number is allowed and means "keep the stored one": the pages never show the full
/// number (R-PII-1).
fn clean(input: &TeacherInput, keep_empty_id: bool) -> Result<Clean> {
    let mut p = Problems::default();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 50 {
        p.push(FieldProblem::new(
            "REQUIRED",
            "请填写姓名（不超过50个字）",
            "name",
        ));
    } else if let Err(e) = peixun_domain::text::check_name("name", &name) {
        p.push(e.into());
    }
    let id_number = if keep_empty_id && input.id_number.trim().is_empty() {
        None
    } else {
        p.take(
            checks::id_parse(&input.id_number)
                .map_err(|(code, m)| FieldProblem::new(code, m, "id_number")),
        )
    };
    let phone = p
        .take(
            checks::phone_parse(&input.phone)
                .map_err(|m| FieldProblem::new("PHONE_INVALID", m, "phone")),
        )
        .unwrap_or_default();
    let mut qualifications = Vec::new();
    for (i, q) in input.qualifications.iter().enumerate() {
        let field = format!("qualifications[{i}]");
        let n = i + 1;
        let occupation = q.occupation.trim().to_string();
        let certificate_no = q.certificate_no.trim().to_string();
        let mut row_ok = true;
        if occupation.is_empty() || certificate_no.is_empty() {
            p.push(FieldProblem::new(
                "REQUIRED",
                format!("第{n}项资质须填写职业（工种）和证书编号"),
                &field,
            ));
            row_ok = false;
        }
        let level = q.level.trim().to_string();
        if !institutions::LEVELS.contains(&level.as_str()) {
            p.push(FieldProblem::new(
                "LEVEL_INVALID",
                format!(
                    "第{n}项资质的等级须为{}之一",
                    institutions::LEVELS.join("、")
                ),
                &field,
            ));
            row_ok = false;
        }
        let q = TeacherQualification {
            occupation,
            level,
            certificate_no,
        };
        if row_ok && !qualifications.contains(&q) {
            qualifications.push(q);
        }
    }
    qualifications.sort();
    p.finish()?;
    Ok(Clean {
        name,
        id_number,
        phone,
        qualifications,
        active: input.active,
    })
}

async fn write_quals(
    txn: &DatabaseTransaction,
    id: i64,
    quals: &[TeacherQualification],
) -> Result<()> {
    tq::Entity::delete_many()
        .filter(tq::Column::TeacherId.eq(id))
        .exec(txn)
        .await?;
    if quals.is_empty() {
        return Ok(());
    }
    tq::Entity::insert_many(quals.iter().map(|q| tq::ActiveModel {
        teacher_id: Set(id),
        occupation: Set(q.occupation.clone()),
        level: Set(q.level.clone()),
        certificate_no: Set(q.certificate_no.clone()),
        ..Default::default()
    }))
    .exec(txn)
    .await?;
    Ok(())
}

async fn check_unique(
    txn: &DatabaseTransaction,
    institution_id: i64,
    person_key: &str,
    except: Option<i64>,
) -> Result<()> {
    let mut q = teacher::Entity::find()
        .filter(teacher::Column::InstitutionId.eq(institution_id))
        .filter(teacher::Column::PersonKey.eq(person_key));
    if let Some(id) = except {
        q = q.filter(teacher::Column::Id.ne(id));
    }
    if q.one(txn).await?.is_some() {
        return Err(StoreError::conflict(
            "TEACHER_DUPLICATE",
            "本机构已登记该身份证号码的教师",
            "id_number",
        ));
    }
    Ok(())
}

fn audit_value(v: &TeacherView) -> serde_json::Value {
    // Masked ID only: the audit log holds no full ID numbers.
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Add a teacher to an institution.
pub async fn create_teacher(
    store: &Store,
    actor: &Actor,
    institution_id: i64,
    input: &TeacherInput,
    now: DateTime<Utc>,
) -> Result<TeacherView> {
    if !can_manage_teachers(actor, institution_id) {
        return Err(StoreError::forbidden("无权维护该机构的师资"));
    }
    let c = clean(input, false)?;
    let keys = store.keys()?;
    let id_number = c.id_number.clone().unwrap_or_default();
    let person_key = keys.lookup.person_key(&id_number);
    let now = db_time(now);
    let txn = store.begin_write().await?;
    if !institutions::exists(&txn, institution_id).await? {
        return Err(StoreError::NotFound {
            entity: "institution",
        });
    }
    check_unique(&txn, institution_id, &person_key, None).await?;
    let m = teacher::ActiveModel {
        institution_id: Set(institution_id),
        name: Set(c.name.clone()),
        id_number: Set(keys.data.encrypt_field(Field::TeacherIdNumber, &id_number)),
        id_masked: Set(checks::mask_id(&id_number)),
        person_key: Set(Some(person_key)),
        phone: Set(c.phone.clone()),
        active: Set(c.active),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        crate::map_unique(
            e,
            "TEACHER_DUPLICATE",
            "本机构已登记该身份证号码的教师",
            "id_number",
        )
    })?;
    write_quals(&txn, m.id, &c.qualifications).await?;
    let v = to_view(m, c.qualifications);
    audit::append(
        &txn,
        actor,
        "teacher.create",
        "teacher",
        Some(v.id.to_string()),
        None,
        Some(audit_value(&v)),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(v)
}

/// Change a teacher (the institution is fixed). An empty `input.id_number` keeps the stored
/// number (the edit form shows it masked only, R-PII-1); a filled one replaces it.
pub async fn update_teacher(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &TeacherInput,
    now: DateTime<Utc>,
) -> Result<TeacherView> {
    let now = db_time(now);
    let txn = store.begin_write().await?;
    let old_m = load(&txn, id).await?;
    if !can_manage_teachers(actor, old_m.institution_id) {
        return Err(StoreError::forbidden("无权维护该机构的师资"));
    }
    let c = clean(input, true)?;
    let keys = store.keys()?;
    if let Some(n) = &c.id_number {
        check_unique(
            &txn,
            old_m.institution_id,
            &keys.lookup.person_key(n),
            Some(id),
        )
        .await?;
    }
    let old_quals = load_quals(&txn, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let old = to_view(old_m.clone(), old_quals);
    let mut am: teacher::ActiveModel = old_m.into();
    am.name = Set(c.name.clone());
    if let Some(n) = c.id_number.clone() {
        am.id_number = Set(keys.data.encrypt_field(Field::TeacherIdNumber, &n));
        am.id_masked = Set(checks::mask_id(&n));
        am.person_key = Set(Some(keys.lookup.person_key(&n)));
    }
    am.phone = Set(c.phone.clone());
    am.active = Set(c.active);
    am.updated_at = Set(now);
    let m = am.update(&txn).await?;
    write_quals(&txn, id, &c.qualifications).await?;
    let v = to_view(m, c.qualifications);
    audit::append(
        &txn,
        actor,
        "teacher.update",
        "teacher",
        Some(id.to_string()),
        Some(audit_value(&old)),
        Some(audit_value(&v)),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(v)
}

/// May `actor` see a teacher's full ID number (with a reason)? Only those who may write the
/// teacher: the centre (admin, staff) and the teacher's own institution (admin, staff). Bureau,
/// city, sysadmin and auditor read masked numbers only (R-PII-1, S7, S13).
pub fn can_reveal_id_number(actor: &Actor, institution_id: i64) -> bool {
    can_manage_teachers(actor, institution_id)
}

/// Show a teacher's full ID number on purpose, with a reason; audited (R-PII-1, S13).
/// Permission is checked before the reason: a viewer who may not reveal gets `Forbidden` whatever
/// the reason, so the answer never says more than "no".
pub async fn reveal_id_number(
    store: &Store,
    actor: &Actor,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let forbidden = || StoreError::forbidden("无权查看完整身份证号码");
    // Roles that may reveal nothing at all are refused before the record is looked up.
    let role_may_reveal = match actor.role {
        None => actor.is_system(),
        Some(r) => r.is_centre() || r.is_institution(),
    };
    if !role_may_reveal {
        return Err(forbidden());
    }
    let keys = store.keys()?;
    let now = db_time(now);
    let txn = store.begin_write().await?;
    let m = load(&txn, id).await?;
    if !can_reveal_id_number(actor, m.institution_id) {
        return Err(forbidden());
    }
    let reason = crate::roster::reveal::clean_reason(reason)?;
    let number = if m.id_number.starts_with(crate::pii::FIELD_PREFIX) {
        keys.data
            .decrypt_field(Field::TeacherIdNumber, &m.id_number)?
    } else {
        m.id_number.clone()
    };
    audit::append(
        &txn,
        actor,
        "teacher.reveal_id_number",
        "teacher",
        Some(id.to_string()),
        None,
        Some(serde_json::json!({ "reason": reason })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(number)
}
