//! Running a class (SPEC.md §3.4–3.5): start training (R-FIL-5), teacher changes (R-RUN-1),
//! attendance per session (R-RUN-2: [`crate::attendance`], re-exported here), completion of
//! training and exam (R-OVD-1).
//!
//! A class is a filing the centre approved; its state is the filing's
//! [`ClassState`] (`filings.state`), moved only by [`peixun_domain::workflow::class::apply`].
//! The dates of its progress live in `class_progress`. Each action is one write transaction:
//! load (and on PostgreSQL lock) the filing, check the viewer's institution (S6), apply the
//! workflow, write, append the audit row (S10).
//!
//! Access (S6, S7): institution users act on and see their own institution's classes only; the
//! centre, bureau and city see all; sysadmin and auditor none. [`class_scope`] is the one rule
//! for lists and single records.

pub use crate::attendance::{
    AttendanceInput, AttendanceMark, AttendanceView, MAX_SIGNIN_BYTES, MarkView, SIGNIN_TYPES,
    UnlinkedMark, put_signin_sheet, record_attendance,
};
use crate::entity::{
    agreement, class_progress, filing, teacher, teacher_change, teacher_qualification as tq,
};
use crate::filings::{agreement_state, parse_class_state};
use crate::institutions::{Scope, institution_scope};
use crate::overdue;
use crate::policies::PolicyHistory;
use crate::workflow_glue::{today, wf_actor, wf_err, with_retry};
use crate::{Actor, Backend, Page, PageRequest, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::calendar::{Calendar, last_allowed_day};
use peixun_domain::filing::{FilingProblem, Qualification, TeacherChange, check_teacher_change};
use peixun_domain::policy::Policy;
use peixun_domain::role::Role;
use peixun_domain::workflow::class::{
    self as wf_class, ClassAction, ClassActionKind, ClassContext, ClassState,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// States of a class (approved onward): what the running pages list.
pub const CLASS_STATUSES: &[&str] = &[
    "approved",
    "roster_review",
    "in_training",
    "overdue",
    "training_complete",
    "completed",
    "archived",
];

/// Whose classes `viewer` may see (the same rule for lists and single records, S6).
pub fn class_scope(viewer: &Actor) -> Scope {
    match viewer.role {
        Some(Role::Sysadmin) | Some(Role::Auditor) => Scope::Nothing,
        _ => institution_scope(viewer),
    }
}

/// A class as the running pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassView {
    pub id: i64,
    pub round_id: i64,
    pub agreement_id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub occupation: String,
    pub level: String,
    pub start_date: NaiveDate,
    /// Start + 30 calendar days (R-FIL-4 / R-OVD-1).
    pub last_day: NaiveDate,
    pub state: ClassState,
    pub status: String,
    pub status_label: String,
    pub started_on: Option<NaiveDate>,
    pub training_completed_on: Option<NaiveDate>,
    pub exam_completed_on: Option<NaiveDate>,
    pub overdue: bool,
    /// Days from today to the last day while not complete (negative when past).
    pub days_left: Option<i64>,
    /// R-OVD-1: completed on time, the subsidy is payable.
    pub subsidy_eligible: bool,
    /// The policy version the class follows: its filing's (R-POL-1).
    pub policy_version: String,
}

pub(crate) fn class_view(
    m: &filing::Model,
    p: Option<&class_progress::Model>,
    name: String,
    today: NaiveDate,
    book: &PolicyHistory,
) -> ClassView {
    let state = parse_class_state(&m.state);
    let last_day = book
        .by_version(&m.policy_version)
        .and_then(|p| last_allowed_day(m.start_date, p).ok())
        .unwrap_or(m.start_date);
    let complete = matches!(
        state,
        ClassState::Completed { .. } | ClassState::Archived { .. }
    ) || state.is_final();
    ClassView {
        id: m.id,
        round_id: m.round_id,
        agreement_id: m.agreement_id,
        institution_id: m.institution_id,
        institution_name: name,
        occupation: m.occupation.clone(),
        level: m.level.clone(),
        start_date: m.start_date,
        last_day,
        status: state.code().to_string(),
        status_label: state.label_zh().to_string(),
        overdue: state.is_overdue(),
        subsidy_eligible: wf_class::subsidy_eligible(&state),
        policy_version: m.policy_version.clone(),
        days_left: (!complete).then(|| (last_day - today).num_days()),
        state,
        started_on: p.and_then(|p| p.started_on),
        training_completed_on: p.and_then(|p| p.training_completed_on),
        exam_completed_on: p.and_then(|p| p.exam_completed_on),
    }
}

/// Load a filing for an action by `actor`: NotFound when missing, Forbidden when it belongs to
/// another institution (S6). On PostgreSQL the row is locked (`FOR UPDATE`).
pub(crate) async fn load_for_action(
    store: &Store,
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: i64,
) -> Result<filing::Model> {
    let mut q = filing::Entity::find_by_id(id);
    if store.backend() == Backend::Postgres {
        q = q.lock_exclusive();
    }
    let f = q
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "class" })?;
    if !actor.is_system() && !class_scope(actor).allows(f.institution_id) {
        return Err(StoreError::forbidden("不能操作其他培训机构的班次"));
    }
    Ok(f)
}

pub(crate) async fn load_progress<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<class_progress::Model>> {
    Ok(class_progress::Entity::find_by_id(id).one(db).await?)
}

/// Insert or update the class's progress row.
pub(crate) async fn save_progress(
    txn: &DatabaseTransaction,
    f: &filing::Model,
    edit: impl FnOnce(&mut class_progress::Model),
    now: DateTime<Utc>,
) -> Result<class_progress::Model> {
    let existing = load_progress(txn, f.id).await?;
    let mut m = existing.clone().unwrap_or(class_progress::Model {
        filing_id: f.id,
        institution_id: f.institution_id,
        started_on: None,
        training_completed_on: None,
        exam_completed_on: None,
        overdue_on: None,
        overdue_year: None,
        updated_at: now,
        policy_version: None,
    });
    edit(&mut m);
    m.updated_at = now;
    let am = class_progress::ActiveModel {
        filing_id: Set(m.filing_id),
        institution_id: Set(m.institution_id),
        started_on: Set(m.started_on),
        training_completed_on: Set(m.training_completed_on),
        exam_completed_on: Set(m.exam_completed_on),
        overdue_on: Set(m.overdue_on),
        overdue_year: Set(m.overdue_year),
        updated_at: Set(m.updated_at),
        policy_version: Set(m.policy_version),
    };
    Ok(if existing.is_some() {
        am.update(txn).await?
    } else {
        am.insert(txn).await?
    })
}

/// The workflow context of an action on `f` (agreement and round as stored).
pub(crate) async fn class_ctx<'a>(
    txn: &DatabaseTransaction,
    f: &filing::Model,
    today: NaiveDate,
    policy: &'a Policy,
) -> Result<ClassContext<'a>> {
    let a = agreement::Entity::find_by_id(f.agreement_id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "agreement",
        })?;
    let r = crate::entity::round::Entity::find_by_id(f.round_id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "round" })?;
    Ok(ClassContext {
        institution_id: f.institution_id,
        submitted_by: f.created_by,
        agreement: agreement_state(&a),
        round: crate::rounds::parse_state(&r.status),
        package_ok: true,
        start: f.start_date,
        today,
        under_violation: false,
        policy,
    })
}

/// Write the new state of `f`. A class that comes after training (培训完成, 已完成) gets its
/// archive figures computed in the same transaction (R-ARC-2, [`crate::archive`]'s progress).
pub(crate) async fn save_state(
    txn: &DatabaseTransaction,
    f: &filing::Model,
    state: &ClassState,
    now: DateTime<Utc>,
) -> Result<filing::Model> {
    let f2 = filing::ActiveModel {
        id: Set(f.id),
        state: Set(serde_json::to_string(state).unwrap_or_default()),
        status: Set(state.code().to_string()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(txn)
    .await?;
    if crate::archive::after_training(&f2.status) && !crate::archive::after_training(&f.status) {
        crate::archive::refresh_progress(txn, &f2).await?;
    }
    Ok(f2)
}

async fn name_of<C: ConnectionTrait>(db: &C, institution_id: i64) -> Result<String> {
    Ok(crate::rounds::institution_names(db, [institution_id])
        .await?
        .remove(&institution_id)
        .unwrap_or_default())
}

fn audit_json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// A progress action on a class (start, complete training, complete exam), one transaction.
async fn progress_action(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    action: ClassAction,
    audit_action: &str,
    now: DateTime<Utc>,
) -> Result<ClassView> {
    let now = db_time(now);
    let day = today(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let f = load_for_action(store, &txn, actor, filing_id).await?;
        if matches!(action, ClassAction::StartTraining) {
            // R-FIL-5: a class starts only on a checked package (issue 8).
            crate::package_gate::require_package(&txn, f.id, "开班").await?;
        }
        let policy = crate::policies::by_version(&txn, &f.policy_version).await?;
        let ctx = class_ctx(&txn, &f, day, &policy).await?;
        let before_state = parse_class_state(&f.state);
        let old_p = load_progress(&txn, f.id).await?;
        let name = name_of(&txn, f.institution_id).await?;
        let book = PolicyHistory::single(policy.clone());
        let old = class_view(&f, old_p.as_ref(), name.clone(), day, &book);
        let new_state =
            wf_class::apply(&before_state, &action, &wf_actor(actor), &ctx).map_err(wf_err)?;
        let f2 = save_state(&txn, &f, &new_state, now).await?;
        let p = save_progress(
            &txn,
            &f,
            |p| match &action {
                ClassAction::StartTraining => p.started_on = Some(day),
                ClassAction::CompleteTraining { on } => p.training_completed_on = Some(*on),
                ClassAction::CompleteExam { on } => p.exam_completed_on = Some(*on),
                _ => {}
            },
            now,
        )
        .await?;
        let v = class_view(&f2, Some(&p), name, day, &book);
        audit::append(
            &txn,
            actor,
            audit_action,
            "class",
            Some(f.id.to_string()),
            Some(audit_json(&old)),
            Some(audit_json(&v)),
            now,
        )
        .await?;
        // A completion after the last day makes the class overdue (R-OVD-1) even when the
        // sweep has not run: it counts toward R-OVD-2 the same way.
        if wf_class::became_overdue(&before_state, &new_state) {
            overdue::note_overdue(&txn, &f2, day, now).await?;
        }
        txn.commit().await?;
        Ok(v)
    })
}

/// R-FIL-5: the institution starts training of an approved class, on or after its start date;
/// never a class without a filing package (`FIL_NO_PACKAGE`).
pub async fn start_training(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    now: DateTime<Utc>,
) -> Result<ClassView> {
    progress_action(
        store,
        actor,
        filing_id,
        ClassAction::StartTraining,
        "class.start_training",
        now,
    )
    .await
}

/// R-OVD-1: training complete on `on` (not before the start, not in the future).
pub async fn complete_training(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ClassView> {
    progress_action(
        store,
        actor,
        filing_id,
        ClassAction::CompleteTraining { on },
        "class.complete_training",
        now,
    )
    .await
}

/// R-OVD-1: exam complete on `on`: the class is complete (on time or overdue).
pub async fn complete_exam(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ClassView> {
    progress_action(
        store,
        actor,
        filing_id,
        ClassAction::CompleteExam { on },
        "class.complete_exam",
        now,
    )
    .await
}

/// List filter for classes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassFilter {
    /// One of [`CLASS_STATUSES`]; all of them when `None`.
    pub status: Option<String>,
    pub institution_id: Option<i64>,
}

/// Classes (approved onward) the viewer may see, by id.
pub async fn list_classes(
    store: &Store,
    viewer: &Actor,
    filter: &ClassFilter,
    page: &PageRequest,
    now: DateTime<Utc>,
) -> Result<Page<ClassView>> {
    let scope = class_scope(viewer)
        .condition(filing::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看班次"))?;
    let statuses: Vec<String> = match &filter.status {
        Some(s) if CLASS_STATUSES.contains(&s.as_str()) => vec![s.clone()],
        Some(_) => {
            return Err(StoreError::validation(
                "CLASS_STATUS",
                "班次状态无效",
                "status",
            ));
        }
        None => CLASS_STATUSES.iter().map(|s| s.to_string()).collect(),
    };
    let mut q = filing::Entity::find()
        .filter(scope)
        .filter(filing::Column::Status.is_in(statuses));
    if let Some(i) = filter.institution_id {
        q = q.filter(filing::Column::InstitutionId.eq(i));
    }
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(filing::Column::Id.gt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_asc(filing::Column::Id)
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
    let items = views(store.db(), rows, today(now)).await?;
    Ok(Page {
        items,
        total,
        next_after_id,
        per_page: limit,
    })
}

/// Class views for filing rows (progress and names in two queries).
pub(crate) async fn views<C: ConnectionTrait>(
    db: &C,
    rows: Vec<filing::Model>,
    day: NaiveDate,
) -> Result<Vec<ClassView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let progress: BTreeMap<i64, class_progress::Model> = if ids.is_empty() {
        BTreeMap::new()
    } else {
        class_progress::Entity::find()
            .filter(class_progress::Column::FilingId.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.filing_id, p))
            .collect()
    };
    let names = crate::rounds::institution_names(db, rows.iter().map(|r| r.institution_id)).await?;
    let book = PolicyHistory::load(db).await?;
    Ok(rows
        .iter()
        .map(|m| {
            class_view(
                m,
                progress.get(&m.id),
                names.get(&m.institution_id).cloned().unwrap_or_default(),
                day,
                &book,
            )
        })
        .collect())
}

/// One class with what the running page shows: the actions the viewer may take, teacher
/// changes and attendance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassDetail {
    pub class: ClassView,
    /// `ClassActionKind::code` of the actions the viewer's role may take now.
    pub actions: Vec<String>,
    pub teacher_changes: Vec<TeacherChangeView>,
    pub attendance: Vec<AttendanceView>,
}

/// One class (S6: the same rule as the list).
pub async fn get_class(
    store: &Store,
    viewer: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<ClassDetail> {
    let f = filing::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "class" })?;
    if !class_scope(viewer).allows(f.institution_id) {
        return Err(StoreError::forbidden("无权查看该班次"));
    }
    let class = views(store.db(), vec![f], today(now)).await?.remove(0);
    let actions = viewer
        .role
        .map(|r| {
            wf_class::allowed_actions(&class.state, r)
                .into_iter()
                .filter(|k| {
                    matches!(
                        k,
                        ClassActionKind::StartTraining
                            | ClassActionKind::CompleteTraining
                            | ClassActionKind::CompleteExam
                    )
                })
                .map(|k| k.code().to_string())
                .collect()
        })
        .unwrap_or_default();
    let teacher_changes = teacher_change::Entity::find()
        .filter(teacher_change::Column::FilingId.eq(id))
        .order_by_asc(teacher_change::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(tc_view)
        .collect();
    let attendance = crate::attendance::of_class(store.db(), id).await?;
    Ok(ClassDetail {
        class,
        actions,
        teacher_changes,
        attendance,
    })
}

// ---------------------------------------------------------------------------------------------
// Teacher changes (R-RUN-1)
// ---------------------------------------------------------------------------------------------

/// A teacher change as reported by the institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeacherChangeInput {
    pub filing_id: i64,
    /// The teacher leaving the class, if known.
    pub old_teacher_id: Option<i64>,
    pub new_teacher_id: i64,
    /// The day the new teacher starts teaching.
    pub effective_on: NaiveDate,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeacherChangeView {
    pub id: i64,
    pub filing_id: i64,
    pub institution_id: i64,
    pub old_teacher_id: Option<i64>,
    pub new_teacher_id: i64,
    pub new_teacher_name: String,
    pub effective_on: NaiveDate,
    pub reported_on: NaiveDate,
    pub note: String,
    pub reported_by: String,
    pub reported_at: DateTime<Utc>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

fn tc_view(m: teacher_change::Model) -> TeacherChangeView {
    TeacherChangeView {
        id: m.id,
        filing_id: m.filing_id,
        institution_id: m.institution_id,
        old_teacher_id: m.old_teacher_id,
        new_teacher_id: m.new_teacher_id,
        new_teacher_name: m.new_teacher_name,
        effective_on: m.effective_on,
        reported_on: m.reported_on,
        note: m.note,
        reported_by: m.reported_by,
        reported_at: m.reported_at,
        acknowledged_by: m.acknowledged_by,
        acknowledged_at: m.acknowledged_at,
    }
}

/// A refused teacher change: every reason ([`check_teacher_change`]) in one Chinese message
/// (joined by "；"), the code and field of the first.
fn refused(problems: Vec<FilingProblem>) -> StoreError {
    let code = problems.first().map_or("RUN_TEACHER_CHANGE", |p| p.code);
    let field = problems
        .first()
        .map_or_else(|| "new_teacher_id".to_string(), |p| p.field.clone());
    let message = problems
        .iter()
        .map(|p| p.message.clone())
        .collect::<Vec<_>>()
        .join("；");
    StoreError::Validation {
        code,
        message,
        field: Some(field),
    }
}

/// R-RUN-1: the institution reports a teacher change for its class (approved or in training).
/// It must be reported at least 1 working day before it takes effect, and the new teacher
/// (the institution's own, active) must hold the qualification the class was reviewed with —
/// its occupation and level. Otherwise it is refused with every reason and nothing is stored.
pub async fn report_teacher_change(
    store: &Store,
    actor: &Actor,
    input: &TeacherChangeInput,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> Result<TeacherChangeView> {
    if !actor.role.is_some_and(Role::is_institution) {
        return Err(StoreError::forbidden("只有培训机构可以报备授课师资调整"));
    }
    let now = db_time(now);
    let day = today(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let f = load_for_action(store, &txn, actor, input.filing_id).await?;
        let state = parse_class_state(&f.state);
        if !matches!(
            state,
            ClassState::Approved | ClassState::InTraining | ClassState::RosterReview { .. }
        ) {
            return Err(StoreError::validation(
                "RUN_CLASS_STATE",
                format!(
                    "班次当前状态为“{}”，只有已批复或培训中的班次可以调整授课师资",
                    state.label_zh()
                ),
                "filing_id",
            ));
        }
        let t = teacher::Entity::find_by_id(input.new_teacher_id)
            .one(&txn)
            .await?;
        let Some(t) = t.filter(|t| t.institution_id == f.institution_id) else {
            return Err(StoreError::validation(
                "RUN_TEACHER_UNKNOWN",
                "请从本机构师资库中选择新授课教师",
                "new_teacher_id",
            ));
        };
        if !t.active {
            return Err(StoreError::validation(
                "RUN_TEACHER_INACTIVE",
                format!("教师“{}”已停用，不能授课", t.name),
                "new_teacher_id",
            ));
        }
        if let Some(old) = input.old_teacher_id {
            let ok = teacher::Entity::find_by_id(old)
                .one(&txn)
                .await?
                .is_some_and(|o| o.institution_id == f.institution_id);
            if !ok {
                return Err(StoreError::validation(
                    "RUN_TEACHER_UNKNOWN",
                    "原授课教师须为本机构师资",
                    "old_teacher_id",
                ));
            }
        }
        let quals: Vec<Qualification> = tq::Entity::find()
            .filter(tq::Column::TeacherId.eq(t.id))
            .all(&txn)
            .await?
            .iter()
            .map(|q| Qualification::new(&q.occupation, &q.level))
            .collect();
        let reviewed = [Qualification::new(&f.occupation, &f.level)];
        // R-POL-1: the lead in force on the day the change is reported.
        let policy = crate::policies::in_force(&txn, day).await?;
        check_teacher_change(
            &TeacherChange {
                reported_on: day,
                effective_on: input.effective_on,
                reviewed_with: &reviewed,
                new_teacher: &quals,
            },
            calendar,
            &policy,
        )
        .map_err(refused)?;
        let m = teacher_change::ActiveModel {
            filing_id: Set(f.id),
            institution_id: Set(f.institution_id),
            old_teacher_id: Set(input.old_teacher_id),
            new_teacher_id: Set(t.id),
            new_teacher_name: Set(t.name.clone()),
            effective_on: Set(input.effective_on),
            reported_on: Set(day),
            note: Set(input.note.trim().to_string()),
            reported_by: Set(actor.username.clone()),
            reported_by_user_id: Set(actor.user_id),
            reported_at: Set(now),
            acknowledged_by: Set(None),
            acknowledged_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let v = tc_view(m);
        audit::append(
            &txn,
            actor,
            "class.teacher_change",
            "teacher_change",
            Some(v.id.to_string()),
            None,
            Some(audit_json(&v)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// The centre marks a teacher-change report as seen (查阅).
pub async fn acknowledge_teacher_change(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<TeacherChangeView> {
    if !actor.role.is_some_and(Role::is_centre) {
        return Err(StoreError::forbidden(
            "只有区培训中心可以查阅确认师资调整报备",
        ));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let m = teacher_change::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "teacher_change",
            })?;
        if m.acknowledged_at.is_some() {
            return Err(StoreError::conflict(
                "RUN_ALREADY_ACKNOWLEDGED",
                "该报备已查阅",
                "id",
            ));
        }
        let old = tc_view(m.clone());
        let m = teacher_change::ActiveModel {
            id: Set(id),
            acknowledged_by: Set(Some(actor.username.clone())),
            acknowledged_at: Set(Some(now)),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        let v = tc_view(m);
        audit::append(
            &txn,
            actor,
            "class.teacher_change_acknowledge",
            "teacher_change",
            Some(id.to_string()),
            Some(audit_json(&old)),
            Some(audit_json(&v)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// Teacher-change reports the viewer may see, newest first (`pending_only`: not yet seen by
/// the centre).
pub async fn list_teacher_changes(
    store: &Store,
    viewer: &Actor,
    pending_only: bool,
    page: &PageRequest,
) -> Result<Page<TeacherChangeView>> {
    let scope = class_scope(viewer)
        .condition(teacher_change::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看师资调整报备"))?;
    let mut q = teacher_change::Entity::find().filter(scope);
    if pending_only {
        q = q.filter(teacher_change::Column::AcknowledgedAt.is_null());
    }
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(teacher_change::Column::Id.lt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_desc(teacher_change::Column::Id)
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
        items: rows.into_iter().map(tc_view).collect(),
        total,
        next_after_id,
        per_page: limit,
    })
}
