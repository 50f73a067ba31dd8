//! Applications (申报), prior performance, caps and agreements (委托培训协议): R-CAP-1…8, R-AGR-1.
//!
//! The cap is computed by `peixun_domain::cap::compute_cap` from:
//! * `P` = the round's base + rollover, `P_prev` = the previous round's `P` (the latest earlier
//!   round that is not a draft);
//! * the basis: a **first agreement** (no earlier agreement and no recorded prior performance) →
//!   the centre enters the cap (R-CAP-2); otherwise `C` and `S` from the institution's latest
//!   [`PriorPerformanceView`] (until the evaluation module exists the centre records them with
//!   evidence);
//! * the major-project factor from the institution's `major_project_capable` flag (R-CAP-4).
//!
//! The whole `CapDecision` (trail included, R-CAP-7) is stored with the agreement as JSON and
//! reloads identical; overrides (R-CAP-8) need a reason and the trail keeps both values.

use crate::entity::{
    agreement, application, institution, institution_qualification as iq, prior_performance, round,
};
use crate::filings::{self, agreement_state};
use crate::institutions::{can_view, institution_scope};
use crate::rounds::{self, planned_total};
use crate::workflow_glue::{is_role, lock_round, today, wf_actor, wf_err, with_retry};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, audit, db_time, map_unique};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::cap::{
    CapBasis, CapDecision, CapError, CapInput, Score, TrailKind, TrailStep, apply_override,
    compute_cap,
};
use peixun_domain::role::Role;
use peixun_domain::workflow::agreement::{
    self as wf_agreement, AgreementAction, AgreementState, TerminationCause,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

// ---------------------------------------------------------------------------------------------
// Applications
// ---------------------------------------------------------------------------------------------

/// An institution's application to a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationInput {
    pub round_id: i64,
    /// Occupations it intends to train, each within its approved scope.
    pub occupations: Vec<String>,
    pub classes_requested: u32,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationView {
    pub id: i64,
    pub round_id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub occupations: Vec<String>,
    pub classes_requested: u32,
    pub note: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The agreement signed on this application, if any.
    pub agreement_id: Option<i64>,
}

fn app_view(m: application::Model, name: String, agreement_id: Option<i64>) -> ApplicationView {
    ApplicationView {
        id: m.id,
        round_id: m.round_id,
        institution_id: m.institution_id,
        institution_name: name,
        occupations: serde_json::from_str(&m.occupations).unwrap_or_default(),
        classes_requested: m.classes_requested.max(0) as u32,
        note: m.note,
        created_by: m.created_by,
        created_at: m.created_at,
        agreement_id,
    }
}

/// An institution (its own admin or staff) applies to a published round within its window.
pub async fn apply_to_round(
    store: &Store,
    actor: &Actor,
    input: &ApplicationInput,
    now: DateTime<Utc>,
) -> Result<ApplicationView> {
    let Some(own) = actor
        .role
        .filter(|r| r.is_institution())
        .and(actor.institution_id)
    else {
        return Err(StoreError::forbidden("只有培训机构可以申报"));
    };
    let mut occupations: Vec<String> = Vec::new();
    for o in &input.occupations {
        let o = o.trim();
        if !o.is_empty() && !occupations.iter().any(|x| x == o) {
            occupations.push(o.to_string());
        }
    }
    if occupations.is_empty() {
        return Err(StoreError::validation(
            "REQUIRED",
            "请选择拟开展培训的职业（工种）",
            "occupations",
        ));
    }
    if input.classes_requested == 0 || input.classes_requested > 1000 {
        return Err(StoreError::validation(
            "APP_CLASSES",
            "申报班次数须为1至1000之间的整数",
            "classes_requested",
        ));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let r = round::Entity::find_by_id(input.round_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound { entity: "round" })?;
        if !rounds::window_open(&r, now) {
            return Err(StoreError::validation(
                "APP_WINDOW",
                format!(
                    "不在申报期内：{}申报时间为{}至{}",
                    r.label, r.window_start, r.window_end
                ),
                "round_id",
            ));
        }
        crate::overdue::refuse_if_sanctioned(&txn, own, r.year, "round_id").await?;
        let scope: Vec<String> = iq::Entity::find()
            .filter(iq::Column::InstitutionId.eq(own))
            .all(&txn)
            .await?
            .into_iter()
            .map(|q| q.occupation)
            .collect();
        for (i, o) in occupations.iter().enumerate() {
            if !scope.contains(o) {
                return Err(StoreError::validation(
                    "APP_SCOPE",
                    format!("“{o}”不在本机构核准的培训资质范围内"),
                    &format!("occupations[{i}]"),
                ));
            }
        }
        let m = application::ActiveModel {
            round_id: Set(r.id),
            institution_id: Set(own),
            occupations: Set(serde_json::to_string(&occupations).unwrap_or("[]".into())),
            classes_requested: Set(input.classes_requested as i32),
            note: Set(input.note.trim().to_string()),
            created_by: Set(actor.username.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| map_unique(e, "APP_DUPLICATE", "本机构已申报该批次", "round_id"))?;
        let name = rounds::institution_names(&txn, [own])
            .await?
            .remove(&own)
            .unwrap_or_default();
        let v = app_view(m, name, None);
        audit::append(
            &txn,
            actor,
            "application.create",
            "application",
            Some(v.id.to_string()),
            None,
            Some(serde_json::to_value(&v).unwrap_or_default()),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// A round's applications the viewer may see (institutions: their own).
pub async fn list_applications(
    store: &Store,
    viewer: &Actor,
    round_id: i64,
) -> Result<Vec<ApplicationView>> {
    if viewer.role == Some(Role::Sysadmin) {
        return Err(StoreError::forbidden("无权查看申报"));
    }
    let scope = institution_scope(viewer)
        .condition(application::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看申报"))?;
    let rows = application::Entity::find()
        .filter(application::Column::RoundId.eq(round_id))
        .filter(scope)
        .order_by_asc(application::Column::Id)
        .all(store.db())
        .await?;
    application_views(store, round_id, rows, false).await
}

/// One page of [`list_applications`] (same scope, ordered by id), for the round's applications
/// page.
pub async fn list_applications_page(
    store: &Store,
    viewer: &Actor,
    round_id: i64,
    page: &PageRequest,
) -> Result<Page<ApplicationView>> {
    if viewer.role == Some(Role::Sysadmin) {
        return Err(StoreError::forbidden("无权查看申报"));
    }
    let scope = institution_scope(viewer)
        .condition(application::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看申报"))?;
    let mut q = application::Entity::find()
        .filter(application::Column::RoundId.eq(round_id))
        .filter(scope);
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(application::Column::Id.gt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_asc(application::Column::Id)
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
        items: application_views(store, round_id, rows, true).await?,
        total,
        next_after_id,
        per_page: limit,
    })
}

/// The views of `rows` (institution names, agreement ids); `page_only`: look up only these
/// rows' institutions' agreements, else all the round's.
async fn application_views(
    store: &Store,
    round_id: i64,
    rows: Vec<application::Model>,
    page_only: bool,
) -> Result<Vec<ApplicationView>> {
    let names =
        rounds::institution_names(store.db(), rows.iter().map(|r| r.institution_id)).await?;
    let mut aq = agreement::Entity::find().filter(agreement::Column::RoundId.eq(round_id));
    if page_only {
        aq = aq
            .filter(agreement::Column::InstitutionId.is_in(rows.iter().map(|r| r.institution_id)));
    }
    let agreements: std::collections::HashMap<i64, i64> = aq
        .all(store.db())
        .await?
        .into_iter()
        .map(|a| (a.institution_id, a.id))
        .collect();
    Ok(rows
        .into_iter()
        .map(|m| {
            let n = names.get(&m.institution_id).cloned().unwrap_or_default();
            let a = agreements.get(&m.institution_id).copied();
            app_view(m, n, a)
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Prior performance (until the evaluation module exists)
// ---------------------------------------------------------------------------------------------

/// The centre records an institution's result under a previous agreement: classes completed on
/// time (`C`) and the evaluation score (`S`), with evidence (R-CAP-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorPerformanceInput {
    pub institution_id: i64,
    /// The previous round, e.g. "2025年下半年".
    pub round_label: String,
    pub completed_on_time: u32,
    pub score: Score,
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorPerformanceView {
    pub id: i64,
    pub institution_id: i64,
    pub round_label: String,
    pub completed_on_time: u32,
    pub score: Score,
    pub evidence: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

fn perf_view(m: prior_performance::Model) -> PriorPerformanceView {
    PriorPerformanceView {
        id: m.id,
        institution_id: m.institution_id,
        round_label: m.round_label,
        completed_on_time: m.completed_on_time.max(0) as u32,
        score: Score::from_str(&m.score).unwrap_or(Score::ZERO),
        evidence: m.evidence,
        recorded_by: m.recorded_by,
        recorded_at: m.recorded_at,
    }
}

pub async fn record_prior_performance(
    store: &Store,
    actor: &Actor,
    input: &PriorPerformanceInput,
    now: DateTime<Utc>,
) -> Result<PriorPerformanceView> {
    if !(actor.is_system() || is_role(actor, &[Role::CentreAdmin])) {
        return Err(StoreError::forbidden(
            "只有区培训中心负责人可以登记前次签约完成情况",
        ));
    }
    let label = input.round_label.trim();
    let evidence = input.evidence.trim();
    if label.is_empty() {
        return Err(StoreError::validation(
            "REQUIRED",
            "请填写前次签约批次",
            "round_label",
        ));
    }
    if evidence.is_empty() {
        return Err(StoreError::validation(
            "REQUIRED",
            "请填写依据（如评估报告文号、完成班次清单）",
            "evidence",
        ));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        if !crate::institutions::exists(&txn, input.institution_id).await? {
            return Err(StoreError::NotFound {
                entity: "institution",
            });
        }
        let m = prior_performance::ActiveModel {
            institution_id: Set(input.institution_id),
            round_label: Set(label.to_string()),
            completed_on_time: Set(input.completed_on_time as i32),
            score: Set(input.score.to_string()),
            evidence: Set(evidence.to_string()),
            recorded_by: Set(actor.username.clone()),
            recorded_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let v = perf_view(m);
        audit::append(
            &txn,
            actor,
            "prior_performance.record",
            "institution",
            Some(v.institution_id.to_string()),
            None,
            Some(serde_json::to_value(&v).unwrap_or_default()),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// An institution's recorded prior performance, newest first.
pub async fn list_prior_performance(
    store: &Store,
    viewer: &Actor,
    institution_id: i64,
) -> Result<Vec<PriorPerformanceView>> {
    if !can_view(viewer, institution_id) || viewer.role == Some(Role::Sysadmin) {
        return Err(StoreError::forbidden("无权查看该机构"));
    }
    Ok(prior_performance::Entity::find()
        .filter(prior_performance::Column::InstitutionId.eq(institution_id))
        .order_by_desc(prior_performance::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(perf_view)
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Caps
// ---------------------------------------------------------------------------------------------

/// Where the cap's basis came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CapSource {
    /// R-CAP-2: first agreement; the centre enters the cap.
    First,
    /// R-CAP-3 from the records: C = on-time completed classes of the previous agreement,
    /// S = that agreement's confirmed evaluation.
    Evaluation {
        agreement_id: i64,
        evaluation_id: i64,
        round_label: String,
        completed_on_time: u32,
        score: Score,
    },
    /// R-CAP-3 from a hand-entered prior performance: only for an institution with no previous
    /// agreement in the system.
    PriorPerformance { record: PriorPerformanceView },
}

impl CapSource {
    /// The trail line naming where C and S came from (R-CAP-7), `None` for a first agreement.
    pub fn trail_step(&self) -> Option<TrailStep> {
        match self {
            CapSource::First => None,
            CapSource::Evaluation {
                agreement_id,
                evaluation_id,
                round_label,
                completed_on_time,
                score,
            } => Some(TrailStep {
                kind: TrailKind::Source,
                label: "C、S 来源（R-CAP-3，系统记录）".to_string(),
                value: format!("协议 #{agreement_id} / 评估 #{evaluation_id}"),
                note: format!(
                    "上次协议（{round_label}，/agreements/{agreement_id}）按时完成 {completed_on_time} 个班次；\
                     该协议绩效评估（/evaluations/{evaluation_id}）已确认得分 {score}"
                ),
            }),
            CapSource::PriorPerformance { record } => Some(TrailStep {
                kind: TrailKind::Source,
                label: "C、S 来源（R-CAP-3，手工登记）".to_string(),
                value: format!("前次完成情况登记 #{}", record.id),
                note: format!(
                    "系统中无该机构的前次协议，使用区培训中心登记的{}完成情况：按时完成 {} 个班次、得分 {}；依据：{}",
                    record.round_label, record.completed_on_time, record.score, record.evidence
                ),
            }),
        }
    }
}

/// The cap the centre sees for an applicant before signing (R-CAP-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapPreview {
    pub application_id: i64,
    pub institution_id: i64,
    pub source: CapSource,
    /// `None` for a first agreement until the centre enters its figure.
    pub decision: Option<CapDecision>,
}

fn cap_err(e: CapError) -> StoreError {
    let (code, field) = match &e {
        CapError::EmptyReason => ("CAP_OVERRIDE_REASON", "override_reason"),
        CapError::OverrideAboveGlobalCap { .. } => ("CAP_OVERRIDE_ABOVE_GLOBAL", "override_cap"),
        CapError::OverrideCannotLiftSuspension { .. } => ("CAP_SUSPENDED", "override_cap"),
        CapError::PlannedZero => ("CAP_PLANNED_ZERO", "round_id"),
        _ => ("CAP_INVALID", "cap"),
    };
    StoreError::validation(code, crate::checks::zh(&e.to_string()), field)
}

/// The decision with the line naming the source of C and S first in its trail (R-CAP-7).
fn with_source(mut d: CapDecision, source: &CapSource) -> CapDecision {
    if let Some(step) = source.trail_step() {
        d.trail.insert(0, step);
    }
    d
}

/// R-CAP-3: the institution's previous agreement — the latest agreement of an earlier round
/// (rounds ordered by year, window start, id) — with its round, and how many agreements it has
/// in other rounds.
pub(crate) async fn previous_agreement<C: ConnectionTrait>(
    db: &C,
    r: &round::Model,
    institution_id: i64,
) -> Result<(Option<(agreement::Model, round::Model)>, usize)> {
    let others = agreement::Entity::find()
        .filter(agreement::Column::InstitutionId.eq(institution_id))
        .filter(agreement::Column::RoundId.ne(r.id))
        .all(db)
        .await?;
    let key = |m: &round::Model| (m.year, m.window_start, m.id);
    let mut previous: Option<(agreement::Model, round::Model)> = None;
    for a in &others {
        if let Some(ar) = round::Entity::find_by_id(a.round_id).one(db).await?
            && key(&ar) < key(r)
            && previous
                .as_ref()
                .is_none_or(|(pa, pr)| (key(pr), pa.id) < (key(&ar), a.id))
        {
            previous = Some((a.clone(), ar));
        }
    }
    Ok((previous, others.len()))
}

/// The inputs of an institution's cap in a round (see the module doc).
async fn cap_basis<C: ConnectionTrait>(
    db: &C,
    r: &round::Model,
    institution_id: i64,
    first_cap: Option<u32>,
) -> Result<(CapSource, Option<CapInput>)> {
    let inst = institution::Entity::find_by_id(institution_id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "institution",
        })?;
    let prev = rounds::previous_round(db, r).await?;
    let planned = planned_total(r);
    let prev_planned = prev.as_ref().map(planned_total);
    // R-CAP-3: the previous agreement (the latest of an earlier round) and its confirmed
    // evaluation, from the records.
    let (previous, _) = previous_agreement(db, r, institution_id).await?;
    if let Some((pa, pr)) = previous {
        let Some((evaluation_id, c, score)) =
            crate::evaluations::confirmed_for_agreement(db, pa.id).await?
        else {
            return Err(StoreError::validation(
                "CAP_PENDING_EVALUATION",
                format!(
                    "待评估：上次协议的绩效评估尚未确认（{}，协议 #{}），确认后才能核定签约班次上限（R-CAP-3）",
                    pr.label, pa.id
                ),
                "institution_id",
            ));
        };
        let input = CapInput {
            planned,
            prev_planned,
            basis: CapBasis::Later {
                prev_completed: c,
                score,
            },
            major: inst.major_project_capable,
        };
        return Ok((
            CapSource::Evaluation {
                agreement_id: pa.id,
                evaluation_id,
                round_label: pr.label,
                completed_on_time: c,
                score,
            },
            Some(input),
        ));
    }
    // No previous agreement in the system: the hand-entered prior performance, if any.
    let perf = prior_performance::Entity::find()
        .filter(prior_performance::Column::InstitutionId.eq(institution_id))
        .order_by_desc(prior_performance::Column::Id)
        .one(db)
        .await?;
    if let Some(p) = perf {
        let v = perf_view(p);
        let input = CapInput {
            planned,
            prev_planned,
            basis: CapBasis::Later {
                prev_completed: v.completed_on_time,
                score: v.score,
            },
            major: inst.major_project_capable,
        };
        return Ok((CapSource::PriorPerformance { record: v }, Some(input)));
    }
    // No agreement in an earlier round: a first agreement (R-CAP-2), even when the institution
    // holds agreements in later rounds (e.g. a special round seeded back in time).
    Ok((
        CapSource::First,
        first_cap.map(|requested| CapInput {
            planned,
            prev_planned,
            basis: CapBasis::First { requested },
            major: inst.major_project_capable,
        }),
    ))
}

/// The computed cap with its trail for an application (centre, bureau, city), under the policy
/// in force today (wall clock; see [`cap_preview_on`]).
pub async fn cap_preview(
    store: &Store,
    viewer: &Actor,
    application_id: i64,
    first_cap: Option<u32>,
) -> Result<CapPreview> {
    cap_preview_on(store, viewer, application_id, first_cap, today(Utc::now())).await
}

/// [`cap_preview`] under the policy in force on `on` (R-POL-1: what signing on that day would
/// use).
pub async fn cap_preview_on(
    store: &Store,
    viewer: &Actor,
    application_id: i64,
    first_cap: Option<u32>,
    on: NaiveDate,
) -> Result<CapPreview> {
    if !(viewer.is_system()
        || viewer
            .role
            .is_some_and(|r| r.is_centre() || matches!(r, Role::Bureau | Role::City)))
    {
        return Err(StoreError::forbidden("无权查看签约班次核定"));
    }
    let app = application::Entity::find_by_id(application_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound {
            entity: "application",
        })?;
    let r = round::Entity::find_by_id(app.round_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "round" })?;
    let (source, input) = cap_basis(store.db(), &r, app.institution_id, first_cap).await?;
    let decision = match input {
        Some(i) => {
            let policy = crate::policies::in_force(store.db(), on).await?;
            Some(with_source(
                compute_cap(&i, &policy).map_err(cap_err)?,
                &source,
            ))
        }
        None => None,
    };
    Ok(CapPreview {
        application_id,
        institution_id: app.institution_id,
        source,
        decision,
    })
}

// ---------------------------------------------------------------------------------------------
// Agreements
// ---------------------------------------------------------------------------------------------

/// The centre's override of a cap (R-CAP-8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapOverrideInput {
    pub cap: u32,
    pub reason: String,
}

/// Signing an agreement on an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInput {
    pub application_id: i64,
    /// R-CAP-2: the centre's figure for a first agreement (ignored otherwise).
    pub first_cap: Option<u32>,
    /// R-CAP-8: replace the computed cap, with a reason.
    pub override_cap: Option<CapOverrideInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementView {
    pub id: i64,
    pub round_id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub application_id: Option<i64>,
    pub cap: u32,
    /// The decision with its trail (R-CAP-7), as stored.
    pub decision: CapDecision,
    pub policy_version: String,
    pub state: AgreementState,
    pub status_label: String,
    pub termination_reason: Option<String>,
    pub signed_by: String,
    pub signed_at: DateTime<Utc>,
    pub terminated_by: Option<String>,
    pub terminated_at: Option<DateTime<Utc>>,
}

fn agreement_view(m: agreement::Model, name: String) -> Result<AgreementView> {
    let decision: CapDecision = serde_json::from_str(&m.cap_decision)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Json(e.to_string())))?;
    let state = agreement_state(&m);
    Ok(AgreementView {
        id: m.id,
        round_id: m.round_id,
        institution_id: m.institution_id,
        institution_name: name,
        application_id: m.application_id,
        cap: m.cap.max(0) as u32,
        decision,
        policy_version: m.policy_version,
        status_label: state.label_zh().to_string(),
        state,
        termination_reason: m.termination_reason,
        signed_by: m.signed_by,
        signed_at: m.signed_at,
        terminated_by: m.terminated_by,
        terminated_at: m.terminated_at,
    })
}

async fn load_agreement_view<C: ConnectionTrait>(db: &C, id: i64) -> Result<AgreementView> {
    let m = agreement::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "agreement",
        })?;
    let name = rounds::institution_names(db, [m.institution_id])
        .await?
        .remove(&m.institution_id)
        .unwrap_or_default();
    agreement_view(m, name)
}

fn audit_value(v: &AgreementView) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn centre_admin(a: &Actor) -> bool {
    a.is_system() || is_role(a, &[Role::CentreAdmin])
}

/// R-AGR-1: the centre (centre_admin) signs the agreement on an application, with the cap
/// computed now (R-CAP-*), optionally overridden with a reason (R-CAP-8). Refused for a
/// suspended institution (score below the lowest band, R-CAP-3), with or without an override:
/// no override lifts a suspension.
/// One agreement per (round, institution).
pub async fn sign_agreement(
    store: &Store,
    actor: &Actor,
    input: &SignInput,
    now: DateTime<Utc>,
) -> Result<AgreementView> {
    if !centre_admin(actor) {
        return Err(StoreError::forbidden(
            "只有区培训中心负责人可以签订委托培训协议",
        ));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let app = application::Entity::find_by_id(input.application_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "application",
            })?;
        let r = lock_round(store, &txn, app.round_id).await?;
        if rounds::parse_state(&r.status) != peixun_domain::workflow::round::RoundState::Published {
            return Err(StoreError::validation(
                "ROUND_NOT_OPEN",
                "该批次未发布或已结束，不能签约",
                "round_id",
            ));
        }
        crate::overdue::refuse_if_sanctioned(&txn, app.institution_id, r.year, "application_id")
            .await?;
        let (source, cap_input) = cap_basis(&txn, &r, app.institution_id, input.first_cap).await?;
        let Some(cap_input) = cap_input else {
            return Err(StoreError::validation(
                "CAP_FIRST_REQUIRED",
                "首次签约：请填写区培训中心确定的签约班次上限（R-CAP-2）",
                "first_cap",
            ));
        };
        if matches!(source, CapSource::First) && input.first_cap == Some(0) {
            return Err(StoreError::validation(
                "CAP_FIRST_REQUIRED",
                "首次签约的班次上限须至少为1",
                "first_cap",
            ));
        }
        // R-POL-1: the version in force on the signing date; the decision stores its name.
        let policy = crate::policies::in_force(&txn, today(now)).await?;
        let mut decision = with_source(compute_cap(&cap_input, &policy).map_err(cap_err)?, &source);
        if decision.computed_suspended() {
            return Err(StoreError::validation(
                "CAP_SUSPENDED",
                format!(
                    "前次综合评估得分低于{}分，暂停签约分配指标（R-CAP-3），本批次不能签约；调整上限不能解除暂停（R-CAP-8）",
                    policy.suspension_threshold()
                ),
                if input.override_cap.is_some() {
                    "override_cap"
                } else {
                    "application_id"
                },
            ));
        }
        if let Some(o) = &input.override_cap {
            decision = apply_override(&decision, o.cap, &o.reason).map_err(cap_err)?;
        }
        if decision.cap == 0 {
            return Err(StoreError::validation(
                "CAP_ZERO",
                "签约班次上限为0，不能签约",
                "application_id",
            ));
        }
        let m = agreement::ActiveModel {
            round_id: Set(r.id),
            institution_id: Set(app.institution_id),
            application_id: Set(Some(app.id)),
            cap: Set(decision.cap as i32),
            cap_decision: Set(serde_json::to_string(&decision).unwrap_or_default()),
            policy_version: Set(decision.policy_version.clone()),
            status: Set(AgreementState::Signed.code().to_string()),
            termination_cause: Set(None),
            termination_reason: Set(None),
            signed_by: Set(actor.username.clone()),
            signed_at: Set(now),
            terminated_by: Set(None),
            terminated_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            map_unique(
                e,
                "AGREEMENT_EXISTS",
                "该机构在本批次已签订委托培训协议",
                "application_id",
            )
        })?;
        // A new cap may let this institution's waiting filings in (none yet in practice).
        filings::allocate_round(&txn, &r, now).await?;
        let v = load_agreement_view(&txn, m.id).await?;
        audit::append(
            &txn,
            actor,
            "agreement.sign",
            "agreement",
            Some(v.id.to_string()),
            None,
            Some(audit_value(&v)),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// R-CAP-8: the centre changes a signed agreement's cap, with a reason; the trail keeps both.
/// A higher cap grants this institution's waiting filings at once (R-FIL-6). A cap below the
/// slots it already holds is refused.
pub async fn override_cap(
    store: &Store,
    actor: &Actor,
    agreement_id: i64,
    new_cap: u32,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<AgreementView> {
    if !centre_admin(actor) {
        return Err(StoreError::forbidden(
            "只有区培训中心负责人可以调整签约班次上限",
        ));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let a0 = agreement::Entity::find_by_id(agreement_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "agreement",
            })?;
        let r = lock_round(store, &txn, a0.round_id).await?;
        let old = load_agreement_view(&txn, agreement_id).await?;
        if old.state != AgreementState::Signed {
            return Err(StoreError::validation(
                "AGREEMENT_TERMINATED",
                "协议已中止，不能调整上限",
                "agreement_id",
            ));
        }
        let decision = apply_override(&old.decision, new_cap, reason).map_err(cap_err)?;
        // The agreement's counter (crate::queue), read under the round lock.
        let held = agreement::Entity::find_by_id(agreement_id)
            .one(&txn)
            .await?
            .map_or(0, |a| a.slots_held.max(0) as u32);
        if new_cap < held {
            return Err(StoreError::validation(
                "CAP_BELOW_HELD",
                format!("该机构已占用名额{held}个，上限不能低于已占用名额"),
                "override_cap",
            ));
        }
        agreement::ActiveModel {
            id: Set(agreement_id),
            cap: Set(decision.cap as i32),
            cap_decision: Set(serde_json::to_string(&decision).unwrap_or_default()),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        let granted = filings::allocate_round(&txn, &r, now).await?;
        let v = load_agreement_view(&txn, agreement_id).await?;
        let mut new = audit_value(&v);
        new["granted"] = serde_json::json!(granted);
        audit::append(
            &txn,
            actor,
            "agreement.override_cap",
            "agreement",
            Some(agreement_id.to_string()),
            Some(audit_value(&old)),
            Some(new),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// R-AGR-1 / R-VIO-2 / R-OVD-2: terminate an agreement by hand (centre_admin, with a reason;
/// the manual cause is [`TerminationCause::ByCentre`]). The one termination path
/// ([`crate::termination::terminate_in_txn`]) runs in the same transaction: pending filings
/// cancelled, their slots released and given to the next waiting filings, classes in training
/// flagged for the centre. It accepts no further filings.
pub async fn terminate_agreement(
    store: &Store,
    actor: &Actor,
    agreement_id: i64,
    cause: TerminationCause,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<AgreementView> {
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let a0 = agreement::Entity::find_by_id(agreement_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "agreement",
            })?;
        lock_round(store, &txn, a0.round_id).await?;
        let a0 = agreement::Entity::find_by_id(agreement_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "agreement",
            })?;
        let old = load_agreement_view(&txn, agreement_id).await?;
        // The workflow check first (who, state, reason), so a refused termination changes
        // nothing and says why.
        wf_agreement::apply(
            old.state,
            &AgreementAction::Terminate {
                cause,
                reason: reason.to_string(),
            },
            &wf_actor(actor),
        )
        .map_err(wf_err)?;
        let effects = crate::termination::terminate_in_txn(
            store,
            &txn,
            actor,
            &a0,
            &crate::termination::Termination {
                cause,
                reason,
                source: crate::termination::TerminationSource::ByCentre,
                wf: wf_actor(actor),
            },
            now,
        )
        .await?;
        let v = load_agreement_view(&txn, agreement_id).await?;
        let mut new = audit_value(&v);
        new["effects"] = serde_json::to_value(&effects).unwrap_or_default();
        audit::append(
            &txn,
            actor,
            "agreement.terminate_by_hand",
            "agreement",
            Some(agreement_id.to_string()),
            Some(audit_value(&old)),
            Some(new),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// One agreement (its institution's users, the centre, bureau and city).
pub async fn get_agreement(store: &Store, viewer: &Actor, id: i64) -> Result<AgreementView> {
    let v = load_agreement_view(store.db(), id).await?;
    if !can_view(viewer, v.institution_id) || viewer.role == Some(Role::Sysadmin) {
        return Err(StoreError::forbidden("无权查看该协议"));
    }
    Ok(v)
}

/// A round's agreements the viewer may see (institutions: their own).
pub async fn list_agreements(
    store: &Store,
    viewer: &Actor,
    round_id: i64,
) -> Result<Vec<AgreementView>> {
    if viewer.role == Some(Role::Sysadmin) {
        return Err(StoreError::forbidden("无权查看协议"));
    }
    let scope = institution_scope(viewer)
        .condition(agreement::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看协议"))?;
    let rows = agreement::Entity::find()
        .filter(agreement::Column::RoundId.eq(round_id))
        .filter(scope)
        .order_by_asc(agreement::Column::Id)
        .all(store.db())
        .await?;
    let names =
        rounds::institution_names(store.db(), rows.iter().map(|r| r.institution_id)).await?;
    rows.into_iter()
        .map(|m| {
            let n = names.get(&m.institution_id).cloned().unwrap_or_default();
            agreement_view(m, n)
        })
        .collect()
}

/// One application (its institution's users, the centre, bureau and city): the same scope rule
/// as [`list_applications`] (S6). Added for the application page of the server.
pub async fn get_application(store: &Store, viewer: &Actor, id: i64) -> Result<ApplicationView> {
    let m = application::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound {
            entity: "application",
        })?;
    if !can_view(viewer, m.institution_id) || viewer.role == Some(Role::Sysadmin) {
        return Err(StoreError::forbidden("无权查看该申报"));
    }
    let name = rounds::institution_names(store.db(), [m.institution_id])
        .await?
        .remove(&m.institution_id)
        .unwrap_or_default();
    let agreement_id = agreement::Entity::find()
        .filter(agreement::Column::RoundId.eq(m.round_id))
        .filter(agreement::Column::InstitutionId.eq(m.institution_id))
        .one(store.db())
        .await?
        .map(|a| a.id);
    Ok(app_view(m, name, agreement_id))
}
