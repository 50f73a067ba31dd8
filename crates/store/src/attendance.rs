//! Attendance per session (签到, R-RUN-2): each session's sign-in is recorded per trainee of the
//! class's roster (花名册), and/or as an uploaded sign-in sheet (签到表).
//!
//! * A mark names a **roster entry** (`roster_entries.id`) of the class's package, current (not a
//!   pending change). A record with marks covers every trainee on that roster exactly once;
//!   a record without marks is a sign-in sheet only. Anything else is refused with the field
//!   `marks`, naming the row or the trainees, and nothing is written.
//! * Marks are rows of `attendance_marks` (migration 000070); the counts are computed from them.
//!   Records from before 000070 may still hold free-name marks that matched no roster entry in
//!   `attendance_records.marks`: views show them as [`AttendanceView::unlinked_marks`], counted.
//! * Recording the same session (date and label) again replaces its marks; the audit row has the
//!   old and new record with every mark.
//! * A roster change approved by the centre ([`crate::roster::settle_pending`]) carries the marks
//!   of a trainee who stays over to their new entry (same person key) and keeps the marks of one
//!   who leaves as free names ([`carry_over_marks`]): nothing is lost.
//!
//! Names and masked ID numbers come from the roster's own view ([`crate::roster::TraineeView`]);
//! the ID number is never read here.

use crate::entity::{attendance_mark, attendance_record, filing};
use crate::filing_package::package;
use crate::filings::parse_class_state;
use crate::roster::{self, entry};
use crate::running::{class_scope, load_for_action};
use crate::workflow_glue::{today, with_retry};
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::role::Role;
use peixun_domain::workflow::class::ClassState;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One trainee's sign-in mark for a session, as recorded: a roster entry of the class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceMark {
    /// `roster_entries.id` of a trainee on the class's current roster.
    pub roster_entry_id: i64,
    /// 出勤 (true) or 缺勤 (false).
    pub present: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceInput {
    pub filing_id: i64,
    pub session_date: NaiveDate,
    /// E.g. "上午 09:00-12:00 理论"; one record per (date, label).
    pub session_label: String,
    /// Every trainee on the roster once, or none (sign-in sheet only).
    #[serde(default)]
    pub marks: Vec<AttendanceMark>,
    /// An uploaded sign-in sheet (签到表), already stored with purpose `signin_sheet`.
    pub sign_in_file_id: Option<String>,
}

/// A mark as shown: the trainee as on the roster (row, name, masked ID number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkView {
    pub roster_entry_id: i64,
    pub row_number: u32,
    pub name: String,
    pub id_number_masked: String,
    pub present: bool,
}

/// A free-name mark from before migration 000070 that matched no roster entry, or of a trainee
/// a later roster change removed: kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlinkedMark {
    pub trainee: String,
    pub present: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceView {
    pub id: i64,
    pub filing_id: i64,
    pub institution_id: i64,
    pub session_date: NaiveDate,
    pub session_label: String,
    /// In roster order.
    pub marks: Vec<MarkView>,
    pub unlinked_marks: Vec<UnlinkedMark>,
    /// Computed from the marks (linked and unlinked).
    pub present_count: i32,
    pub absent_count: i32,
    pub sign_in_file_id: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

impl AttendanceView {
    /// Who was absent (缺勤): names in roster order, then unlinked names.
    pub fn absent_names(&self) -> Vec<String> {
        self.marks
            .iter()
            .filter(|m| !m.present)
            .map(|m| m.name.clone())
            .chain(
                self.unlinked_marks
                    .iter()
                    .filter(|m| !m.present)
                    .map(|m| m.trainee.clone()),
            )
            .collect()
    }
}

fn unlinked_of(json: &str) -> Vec<UnlinkedMark> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Views of attendance records, with their marks (two queries more).
pub(crate) async fn views<C: ConnectionTrait>(
    db: &C,
    records: Vec<attendance_record::Model>,
) -> Result<Vec<AttendanceView>> {
    let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
    let marks = if ids.is_empty() {
        Vec::new()
    } else {
        attendance_mark::Entity::find()
            .filter(attendance_mark::Column::AttendanceId.is_in(ids))
            .all(db)
            .await?
    };
    let entry_ids: HashSet<i64> = marks.iter().map(|m| m.roster_entry_id).collect();
    let trainees: HashMap<i64, roster::TraineeView> = if entry_ids.is_empty() {
        HashMap::new()
    } else {
        entry::Entity::find()
            .filter(entry::Column::Id.is_in(entry_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.id, roster::to_view(e)))
            .collect()
    };
    let mut by_record: HashMap<i64, Vec<MarkView>> = HashMap::new();
    for m in marks {
        let Some(t) = trainees.get(&m.roster_entry_id) else {
            continue;
        };
        by_record
            .entry(m.attendance_id)
            .or_default()
            .push(MarkView {
                roster_entry_id: m.roster_entry_id,
                row_number: t.row_number,
                name: t.name.clone(),
                id_number_masked: t.id_number_masked.clone(),
                present: m.present,
            });
    }
    Ok(records
        .into_iter()
        .map(|r| {
            let mut marks = by_record.remove(&r.id).unwrap_or_default();
            marks.sort_by_key(|m| (m.row_number, m.roster_entry_id));
            let unlinked_marks = unlinked_of(&r.marks);
            let present = marks.iter().filter(|m| m.present).count()
                + unlinked_marks.iter().filter(|m| m.present).count();
            let total = marks.len() + unlinked_marks.len();
            AttendanceView {
                id: r.id,
                filing_id: r.filing_id,
                institution_id: r.institution_id,
                session_date: r.session_date,
                session_label: r.session_label,
                marks,
                unlinked_marks,
                present_count: present as i32,
                absent_count: (total - present) as i32,
                sign_in_file_id: r.sign_in_file_id,
                recorded_by: r.recorded_by,
                recorded_at: r.recorded_at,
            }
        })
        .collect())
}

/// The attendance of class `filing_id`, by session date (no access check: the caller's).
pub(crate) async fn of_class<C: ConnectionTrait>(
    db: &C,
    filing_id: i64,
) -> Result<Vec<AttendanceView>> {
    let rows = attendance_record::Entity::find()
        .filter(attendance_record::Column::FilingId.eq(filing_id))
        .order_by_asc(attendance_record::Column::SessionDate)
        .order_by_asc(attendance_record::Column::Id)
        .all(db)
        .await?;
    views(db, rows).await
}

/// R-RUN-2: the attendance of one class, every mark with the trainee's row, name and masked ID
/// (S6: whoever may see the class).
pub async fn list_attendance(
    store: &Store,
    viewer: &Actor,
    filing_id: i64,
) -> Result<Vec<AttendanceView>> {
    let f = filing::Entity::find_by_id(filing_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "class" })?;
    if !class_scope(viewer).allows(f.institution_id) {
        return Err(StoreError::forbidden("无权查看该班次"));
    }
    of_class(store.db(), f.id).await
}

/// The class's current roster (not a pending change), in row order; empty without a package.
pub(crate) async fn current_roster<C: ConnectionTrait>(
    db: &C,
    filing_id: i64,
) -> Result<Vec<entry::Model>> {
    let Some(p) = package::Entity::find()
        .filter(package::Column::FilingId.eq(filing_id))
        .one(db)
        .await?
    else {
        return Ok(Vec::new());
    };
    Ok(entry::Entity::find()
        .filter(entry::Column::PackageId.eq(p.id))
        .filter(entry::Column::Pending.eq(false))
        .order_by_asc(entry::Column::RowNumber)
        .order_by_asc(entry::Column::Id)
        .all(db)
        .await?)
}

/// The marks cover the roster: each mark a current entry, none twice, every trainee once.
fn check_marks(marks: &[AttendanceMark], roster: &[entry::Model]) -> Result<()> {
    let by_id: HashMap<i64, &entry::Model> = roster.iter().map(|e| (e.id, e)).collect();
    let mut seen = HashSet::new();
    for (i, m) in marks.iter().enumerate() {
        let Some(e) = by_id.get(&m.roster_entry_id) else {
            return Err(StoreError::validation(
                "RUN_MARK_NOT_ON_ROSTER",
                format!(
                    "第{}条签到记录：学员（花名册记录编号{}）不在本班次当前花名册上",
                    i + 1,
                    m.roster_entry_id
                ),
                "marks",
            ));
        };
        if !seen.insert(e.id) {
            return Err(StoreError::validation(
                "RUN_MARK_DUPLICATE",
                format!(
                    "花名册第{}行“{}”重复登记（第{}条签到记录）",
                    e.row_number,
                    e.name,
                    i + 1
                ),
                "marks",
            ));
        }
    }
    let missing: Vec<String> = roster
        .iter()
        .filter(|e| !seen.contains(&e.id))
        .map(|e| format!("第{}行{}", e.row_number, e.name))
        .collect();
    if !missing.is_empty() {
        return Err(StoreError::validation(
            "RUN_MARKS_INCOMPLETE",
            format!(
                "请为花名册上的每位学员登记出勤或缺勤，以下{}人未登记：{}",
                missing.len(),
                missing.join("、")
            ),
            "marks",
        ));
    }
    Ok(())
}

/// The types accepted as a sign-in sheet (R-RUN-2, S16: sniffed by content).
pub const SIGNIN_TYPES: [peixun_import::FileType; 3] = [
    peixun_import::FileType::Pdf,
    peixun_import::FileType::Jpeg,
    peixun_import::FileType::Png,
];
/// The largest sign-in sheet accepted.
pub const MAX_SIGNIN_BYTES: usize = 20 * 1024 * 1024;

/// R-RUN-2: store an uploaded sign-in sheet (签到表) of class `filing_id` for
/// [`AttendanceInput::sign_in_file_id`]. Only the class's own institution (S6), checked before
/// the content is looked at; the content is checked by type (S16).
#[allow(clippy::too_many_arguments)]
pub async fn put_signin_sheet(
    store: &Store,
    files: &crate::files::FileStore,
    actor: &Actor,
    filing_id: i64,
    bytes: &[u8],
    declared_name: &str,
    now: DateTime<Utc>,
) -> Result<crate::files::FileRecord> {
    if !actor.role.is_some_and(Role::is_institution) {
        return Err(StoreError::forbidden("只有培训机构可以上传签到表"));
    }
    let f = filing::Entity::find_by_id(filing_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "class" })?;
    if actor.institution_id != Some(f.institution_id) {
        return Err(StoreError::forbidden("不能操作其他培训机构的班次"));
    }
    files
        .put(
            store,
            bytes,
            declared_name,
            &SIGNIN_TYPES,
            MAX_SIGNIN_BYTES,
            &crate::files::FileOwner {
                purpose: "signin_sheet",
                institution_id: Some(f.institution_id),
            },
            actor,
            now,
        )
        .await
}

fn audit_json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// R-RUN-2: the institution records one session's sign-in: a mark for every trainee on the
/// class's current roster and/or a sign-in sheet. Recording the same session again replaces it
/// and its marks (old and new in the audit row). Only for a class in training (or overdue and
/// still running), on a date from its start to today.
pub async fn record_attendance(
    store: &Store,
    actor: &Actor,
    input: &AttendanceInput,
    now: DateTime<Utc>,
) -> Result<AttendanceView> {
    if !actor.role.is_some_and(Role::is_institution) {
        return Err(StoreError::forbidden("只有培训机构可以登记签到"));
    }
    let now = db_time(now);
    let day = today(now);
    let label = input.session_label.trim().to_string();
    with_retry!({
        let txn = store.begin_write().await?;
        let f = load_for_action(store, &txn, actor, input.filing_id).await?;
        let state = parse_class_state(&f.state);
        if !matches!(
            state,
            ClassState::InTraining
                | ClassState::RosterReview { started: true }
                | ClassState::Overdue { started: true }
        ) {
            return Err(StoreError::validation(
                "RUN_CLASS_STATE",
                format!(
                    "班次当前状态为“{}”，培训开始后方可登记签到",
                    state.label_zh()
                ),
                "filing_id",
            ));
        }
        if label.is_empty() || label.chars().count() > 100 {
            return Err(StoreError::validation(
                "REQUIRED",
                "请填写课次（如“上午 理论”），不超过100字",
                "session_label",
            ));
        }
        if label.chars().any(|c| {
            c.is_control()
                || ('\u{202A}'..='\u{202E}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        }) {
            return Err(StoreError::validation(
                "TEXT_CONTROL_CHARS",
                "课次不能含控制字符或文字方向控制符",
                "session_label",
            ));
        }
        if input.marks.is_empty() && input.sign_in_file_id.is_none() {
            return Err(StoreError::validation(
                "RUN_ATTENDANCE_EMPTY",
                "请按花名册逐个学员登记出勤或缺勤，或上传签到表",
                "marks",
            ));
        }
        if input.session_date < f.start_date || input.session_date > day {
            return Err(StoreError::validation(
                "RUN_SESSION_DATE",
                format!("上课日期须在开班日期{}至今天{}之间", f.start_date, day),
                "session_date",
            ));
        }
        if !input.marks.is_empty() {
            let roster = current_roster(&txn, f.id).await?;
            check_marks(&input.marks, &roster)?;
        }
        if let Some(fid) = &input.sign_in_file_id {
            let rec = crate::files::get_file(&txn, fid).await?;
            if rec.institution_id != Some(f.institution_id) {
                return Err(StoreError::validation(
                    "RUN_SIGNIN_FILE",
                    "签到表文件无效",
                    "sign_in_file",
                ));
            }
        }
        let present = input.marks.iter().filter(|m| m.present).count() as i32;
        let absent = input.marks.len() as i32 - present;
        let existing = attendance_record::Entity::find()
            .filter(attendance_record::Column::FilingId.eq(f.id))
            .filter(attendance_record::Column::SessionDate.eq(input.session_date))
            .filter(attendance_record::Column::SessionLabel.eq(&label))
            .one(&txn)
            .await?;
        let old = match existing.clone() {
            Some(e) => views(&txn, vec![e]).await?.pop(),
            None => None,
        };
        let am = attendance_record::ActiveModel {
            filing_id: Set(f.id),
            institution_id: Set(f.institution_id),
            session_date: Set(input.session_date),
            session_label: Set(label.clone()),
            // New records keep no free names (migration 000070).
            marks: Set("[]".to_string()),
            present_count: Set(present),
            absent_count: Set(absent),
            sign_in_file_id: Set(input.sign_in_file_id.clone()),
            recorded_by: Set(actor.username.clone()),
            recorded_by_user_id: Set(actor.user_id),
            recorded_at: Set(now),
            ..Default::default()
        };
        let m = match existing {
            Some(e) => {
                attendance_mark::Entity::delete_many()
                    .filter(attendance_mark::Column::AttendanceId.eq(e.id))
                    .exec(&txn)
                    .await?;
                let mut am = am;
                am.id = Set(e.id);
                am.update(&txn).await?
            }
            None => am.insert(&txn).await?,
        };
        let rows: Vec<attendance_mark::ActiveModel> = input
            .marks
            .iter()
            .map(|mk| attendance_mark::ActiveModel {
                attendance_id: Set(m.id),
                roster_entry_id: Set(mk.roster_entry_id),
                present: Set(mk.present),
                ..Default::default()
            })
            .collect();
        for chunk in rows.chunks(200) {
            attendance_mark::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        let v = views(&txn, vec![m])
            .await?
            .pop()
            .ok_or(StoreError::NotFound {
                entity: "attendance",
            })?;
        audit::append(
            &txn,
            actor,
            "class.attendance",
            "attendance",
            Some(v.id.to_string()),
            old.map(|o| audit_json(&o)),
            Some(audit_json(&v)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// Before an approved roster change replaces the roster of `package_id` (inside the caller's
/// transaction): the marks of a trainee on the new roster too (same person key) move to the
/// new entry; the marks of a trainee who leaves are kept as free names on their record
/// ([`UnlinkedMark`]) and their rows removed, so that the old entries can go.
pub(crate) async fn carry_over_marks<C: ConnectionTrait>(db: &C, package_id: i64) -> Result<()> {
    let all = entry::Entity::find()
        .filter(entry::Column::PackageId.eq(package_id))
        .all(db)
        .await?;
    let old: HashMap<i64, &entry::Model> = all
        .iter()
        .filter(|e| !e.pending)
        .map(|e| (e.id, e))
        .collect();
    if old.is_empty() {
        return Ok(());
    }
    let marks = attendance_mark::Entity::find()
        .filter(attendance_mark::Column::RosterEntryId.is_in(old.keys().copied()))
        .all(db)
        .await?;
    if marks.is_empty() {
        return Ok(());
    }
    let new_by_person: HashMap<&str, i64> = all
        .iter()
        .filter(|e| e.pending)
        .map(|e| (e.person_key.as_str(), e.id))
        .collect();
    let mut leaving: BTreeMap<i64, Vec<UnlinkedMark>> = BTreeMap::new();
    for m in marks {
        let Some(o) = old.get(&m.roster_entry_id) else {
            continue;
        };
        match new_by_person.get(o.person_key.as_str()) {
            Some(&new_id) => {
                attendance_mark::ActiveModel {
                    id: Set(m.id),
                    roster_entry_id: Set(new_id),
                    ..Default::default()
                }
                .update(db)
                .await?;
            }
            None => {
                leaving
                    .entry(m.attendance_id)
                    .or_default()
                    .push(UnlinkedMark {
                        trainee: o.name.clone(),
                        present: m.present,
                    });
                attendance_mark::Entity::delete_by_id(m.id).exec(db).await?;
            }
        }
    }
    for (att_id, gone) in leaving {
        let Some(r) = attendance_record::Entity::find_by_id(att_id)
            .one(db)
            .await?
        else {
            continue;
        };
        // Kept as stored (whatever their shape), the leaving trainees' marks added.
        let mut kept: Vec<serde_json::Value> = serde_json::from_str(&r.marks).unwrap_or_default();
        kept.extend(gone.iter().map(audit_json));
        attendance_record::ActiveModel {
            id: Set(r.id),
            marks: Set(serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into())),
            ..Default::default()
        }
        .update(db)
        .await?;
    }
    Ok(())
}
