//! Evaluations (R-EVA-1, 绩效评估) of an institution under an agreement, computed from the
//! records by [`peixun_domain::evaluation::evaluate`].
//!
//! * **Open** ([`open_evaluation`], centre_admin / centre_staff): once every class of the
//!   agreement is finished — completed (or archived), overdue, or cancelled; drafts, rejected,
//!   withdrawn and not-granted filings never were classes. Refused with the unfinished classes
//!   named. One evaluation per agreement (UNIQUE).
//! * **Inputs, from the records** ([`read_input`]): approved = classes that reached approval,
//!   counting those later cancelled unless for a reason outside the institution (every
//!   [`CancelCause`] today — overdue sanction, violation — is the institution's own);
//!   on time = completed / archived and not overdue (C of R-CAP-3); findings = the severity of the
//!   inspections of its classes (一般/严重); late rectification = a rectification closed after its
//!   due date, or still open past it; archives = [`crate::archive::class_completeness`] of each
//!   completed class; satisfaction = the survey's overall ratings.
//! * **Recompute** while open reads the records again (policy in force today); **adjust** replaces
//!   a component with a reason, or accepts a flagged computed value with a reason (audited);
//!   **confirm** (centre_admin) fixes the score with the policy version used, refused while a
//!   flagged component is neither adjusted nor accepted.
//! * **Who reads** (S6, [`class_scope`]): the institution its own; centre, bureau and city all.
//!   Another institution's evaluation is "not found".

use crate::entity::{agreement, filing, inspection, round};
use crate::filings::parse_class_state;
use crate::running::class_scope;
use crate::workflow_glue::{today, with_retry};
use crate::{Actor, Page, PageRequest, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::cap::Score;
use peixun_domain::evaluation::{
    Adjustment, ComponentKey, EvalStep, EvaluationError, EvaluationInput, EvaluationResult,
    SatisfactionInput, evaluate,
};
use peixun_domain::policy::Policy;
use peixun_domain::role::Role;
use peixun_domain::workflow::class::{CancelCause, ClassState};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The `evaluations` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "evaluations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub agreement_id: i64,
        pub round_id: i64,
        pub institution_id: i64,
        /// `open` / `confirmed`.
        pub state: String,
        /// JSON of `EvaluationInput`.
        pub input: String,
        /// JSON list of [`super::StoredAdjustment`].
        pub adjustments: String,
        /// JSON of the last `EvaluationResult`.
        pub result: String,
        /// The confirmed score ("86.2").
        pub score: Option<String>,
        pub policy_version: String,
        pub opened_by: String,
        pub opened_at: DateTimeUtc,
        pub computed_at: DateTimeUtc,
        pub confirmed_by: Option<String>,
        pub confirmed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity as ev;

/// 评估中 → 已确认.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationState {
    Open,
    Confirmed,
}

impl EvaluationState {
    pub fn code(self) -> &'static str {
        match self {
            EvaluationState::Open => "open",
            EvaluationState::Confirmed => "confirmed",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            EvaluationState::Open => "评估中",
            EvaluationState::Confirmed => "已确认",
        }
    }
    pub fn parse(s: &str) -> Option<EvaluationState> {
        match s {
            "open" => Some(EvaluationState::Open),
            "confirmed" => Some(EvaluationState::Confirmed),
            _ => None,
        }
    }
}

/// One adjustment as stored: the domain's [`Adjustment`] with who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAdjustment {
    pub key: ComponentKey,
    /// The replacement; `None` accepts the flagged computed value.
    pub value: Option<Decimal>,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// One component as pages, the API and the report show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentView {
    /// `task_completion` / `supervision` / `archives` / `satisfaction`.
    pub key: ComponentKey,
    pub label: String,
    /// Weight in percent.
    pub weight: u32,
    pub computed: Decimal,
    /// Exact text ("93.875", "1400/3 ≈ 466.666667").
    pub computed_text: String,
    pub adjusted: Option<Decimal>,
    pub adjustment_reason: Option<String>,
    pub adjusted_by: Option<String>,
    pub adjusted_at: Option<DateTime<Utc>>,
    /// A flagged value the centre accepted as computed.
    pub accepted: bool,
    pub flagged: bool,
    /// Why it is flagged.
    pub flag: Option<String>,
    /// Flagged and neither adjusted nor accepted (blocks confirmation).
    pub needs_decision: bool,
    /// The value the score uses.
    pub effective: Decimal,
}

/// An evaluation as pages, the API and the report show it (S6-filtered by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationView {
    pub id: i64,
    pub agreement_id: i64,
    pub round_id: i64,
    pub round_label: String,
    pub institution_id: i64,
    pub institution_name: String,
    pub state: EvaluationState,
    pub state_label: String,
    pub components: Vec<ComponentView>,
    /// Rounded half-up to one decimal, once (with the adjustments), always written with one
    /// decimal ("79.0"). While open: provisional.
    #[serde(with = "one_decimal")]
    pub score: Decimal,
    /// The unrounded score, exact text.
    pub unrounded: String,
    /// R-CAP-3's C: classes completed on time under the agreement.
    pub on_time_completed: u32,
    /// The agreement's cap.
    pub cap: u32,
    /// R-CAP-3: the score band's factor for the next cap; `None` when suspended.
    pub next_cap_factor: Option<Decimal>,
    pub suspended: bool,
    /// E.g. "81 ≤ 86.2 < 91 → × 1.1".
    pub band_note: String,
    pub policy_version: String,
    pub input: EvaluationInput,
    pub adjustments: Vec<StoredAdjustment>,
    pub trail: Vec<EvalStep>,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub computed_at: DateTime<Utc>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// A score as a string with exactly one decimal ("86.2", "79.0"); read from a string or number.
mod one_decimal {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{d:.1}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        <Decimal as Deserialize>::deserialize(d)
    }
}

fn bad_json(e: serde_json::Error) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Json(e.to_string()))
}

fn view(m: ev::Model, round_label: String, institution_name: String) -> Result<EvaluationView> {
    let result: EvaluationResult = serde_json::from_str(&m.result).map_err(bad_json)?;
    let adjustments: Vec<StoredAdjustment> =
        serde_json::from_str(&m.adjustments).map_err(bad_json)?;
    let state = EvaluationState::parse(&m.state).unwrap_or(EvaluationState::Open);
    let components = result
        .components
        .iter()
        .map(|c| {
            let last = adjustments.iter().rev().find(|a| a.key == c.key);
            ComponentView {
                key: c.key,
                label: c.label.clone(),
                weight: c.weight,
                computed: c.computed,
                computed_text: c.computed_text.clone(),
                adjusted: c.adjusted,
                adjustment_reason: c.adjustment_reason.clone(),
                adjusted_by: last.map(|a| a.by.clone()),
                adjusted_at: last.map(|a| a.at),
                accepted: c.accepted,
                flagged: c.flag.is_some(),
                flag: c.flag.clone(),
                needs_decision: c.needs_decision(),
                effective: c.effective,
            }
        })
        .collect();
    let score = match &m.score {
        Some(s) => Score::from_str(s)
            .map(Decimal::from)
            .unwrap_or(result.score.value()),
        None => result.score.value(),
    };
    Ok(EvaluationView {
        id: m.id,
        agreement_id: m.agreement_id,
        round_id: m.round_id,
        round_label,
        institution_id: m.institution_id,
        institution_name,
        state,
        state_label: state.label_zh().to_string(),
        components,
        score,
        unrounded: result.unrounded.clone(),
        on_time_completed: result.input.on_time,
        cap: result.input.cap,
        next_cap_factor: result.band.factor,
        suspended: result.band.suspended,
        band_note: result.band.note.clone(),
        policy_version: m.policy_version,
        input: result.input.clone(),
        adjustments,
        trail: result.trail,
        opened_by: m.opened_by,
        opened_at: m.opened_at,
        computed_at: m.computed_at,
        confirmed_by: m.confirmed_by,
        confirmed_at: m.confirmed_at,
    })
}

async fn views<C: ConnectionTrait>(db: &C, rows: Vec<ev::Model>) -> Result<Vec<EvaluationView>> {
    let names = crate::rounds::institution_names(db, rows.iter().map(|r| r.institution_id)).await?;
    let round_ids: Vec<i64> = rows.iter().map(|r| r.round_id).collect();
    let labels: std::collections::HashMap<i64, String> = if round_ids.is_empty() {
        Default::default()
    } else {
        round::Entity::find()
            .filter(round::Column::Id.is_in(round_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.id, r.label))
            .collect()
    };
    rows.into_iter()
        .map(|m| {
            let label = labels.get(&m.round_id).cloned().unwrap_or_default();
            let name = names.get(&m.institution_id).cloned().unwrap_or_default();
            view(m, label, name)
        })
        .collect()
}

async fn one_view<C: ConnectionTrait>(db: &C, m: ev::Model) -> Result<EvaluationView> {
    views(db, vec![m]).await?.pop().ok_or(StoreError::NotFound {
        entity: "evaluation",
    })
}

fn eva_err(e: EvaluationError) -> StoreError {
    let (code, field) = match &e {
        EvaluationError::AdjustmentOutOfRange(_) => ("EVA_VALUE", "value"),
        EvaluationError::EmptyReason => ("REQUIRED", "reason"),
        _ => ("EVA_INPUT", "agreement_id"),
    };
    StoreError::validation(code, crate::checks::zh(&e.to_string()), field)
}

// ---------------------------------------------------------------------------------------------
// Reading the records
// ---------------------------------------------------------------------------------------------

/// Whether a cancellation was for a reason outside the institution (such classes do not count
/// as approved). A sanction or a violation is the institution's own doing; a termination of the
/// agreement by the centre by hand (R-AGR-1) is the centre's decision, not a fault the records
/// show, so its cancelled classes leave the count. A new cause must decide here.
fn cancelled_outside_institution(cause: CancelCause) -> bool {
    match cause {
        CancelCause::OverdueSanction | CancelCause::Violation => false,
        CancelCause::AgreementTerminated => true,
    }
}

/// A class that is not finished yet (blocks opening).
fn unfinished(state: &ClassState) -> bool {
    matches!(
        state,
        ClassState::Submitted { .. }
            | ClassState::Returned { .. }
            | ClassState::Approved
            | ClassState::RosterReview { .. }
            | ClassState::InTraining
            | ClassState::TrainingComplete { .. }
    )
}

/// The survey's figures for an agreement (R-EVA-3): answers, the sum of their overall ratings,
/// trainees of its finished classes.
async fn satisfaction_of<C: ConnectionTrait>(
    db: &C,
    agreement_id: i64,
) -> Result<SatisfactionInput> {
    let s = crate::surveys::agreement_satisfaction(db, agreement_id).await?;
    Ok(SatisfactionInput::Answers {
        responses: s.responses,
        overall_sum: s.overall_sum,
        trainees: s.trainees,
    })
}

/// The unfinished classes of an agreement, as "#12 电工（培训中）".
async fn unfinished_classes<C: ConnectionTrait>(db: &C, agreement_id: i64) -> Result<Vec<String>> {
    Ok(filing::Entity::find()
        .filter(filing::Column::AgreementId.eq(agreement_id))
        .order_by_asc(filing::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|f| {
            let s = parse_class_state(&f.state);
            unfinished(&s).then(|| format!("#{} {}（{}）", f.id, f.occupation, s.label_zh()))
        })
        .collect())
}

/// R-EVA-1: the evaluation's inputs read from the records of `agreement` on `day`.
pub(crate) async fn read_input<C: ConnectionTrait>(
    db: &C,
    a: &agreement::Model,
    day: NaiveDate,
) -> Result<EvaluationInput> {
    let filings = filing::Entity::find()
        .filter(filing::Column::AgreementId.eq(a.id))
        .all(db)
        .await?;
    let (mut approved, mut on_time) = (0u32, 0u32);
    let mut archives = Vec::new();
    let mut class_ids = Vec::new();
    for f in &filings {
        let state = parse_class_state(&f.state);
        let counts = match &state {
            ClassState::Cancelled { cause } => {
                f.decided_at.is_some() && !cancelled_outside_institution(*cause)
            }
            s => s.is_approved(),
        };
        if counts {
            approved += 1;
            class_ids.push(f.id);
        }
        if matches!(
            state,
            ClassState::Completed { overdue: false, .. }
                | ClassState::Archived { overdue: false, .. }
        ) {
            on_time += 1;
        }
        if matches!(
            state,
            ClassState::Completed { .. } | ClassState::Archived { .. }
        ) {
            archives.push(crate::archive::class_completeness(db, f).await?);
        }
    }
    let inspections = if class_ids.is_empty() {
        Vec::new()
    } else {
        inspection::Entity::find()
            .filter(inspection::Column::FilingId.is_in(class_ids))
            .all(db)
            .await?
    };
    let (mut general, mut serious, mut late) = (0u32, 0u32, 0u32);
    for i in &inspections {
        match i.finding_severity.as_deref() {
            Some("general") => general += 1,
            Some("serious") => serious += 1,
            _ => {}
        }
        if let Some(due) = i.rectification_due.filter(|_| i.rectification_required) {
            let is_late = match i.closed_at {
                Some(at) => today(at) > due,
                None => day > due,
            };
            if is_late {
                late += 1;
            }
        }
    }
    Ok(EvaluationInput {
        cap: a.cap.max(0) as u32,
        approved,
        on_time,
        inspections: Some(inspections.len() as u32),
        general_findings: general,
        serious_findings: serious,
        late_rectifications: late,
        archives,
        satisfaction: satisfaction_of(db, a.id).await?,
    })
}

fn domain_adjustments(list: &[StoredAdjustment]) -> Vec<Adjustment> {
    list.iter()
        .map(|a| Adjustment {
            key: a.key,
            value: a.value,
            reason: a.reason.clone(),
        })
        .collect()
}

fn centre(a: &Actor) -> bool {
    a.is_system() || a.role.is_some_and(Role::is_centre)
}

fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------

/// R-EVA-1: the centre opens the evaluation of an agreement whose classes are all finished.
pub async fn open_evaluation(
    store: &Store,
    actor: &Actor,
    agreement_id: i64,
    now: DateTime<Utc>,
) -> Result<EvaluationView> {
    if !centre(actor) {
        return Err(StoreError::forbidden("只有区培训中心可以开展绩效评估"));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let a = agreement::Entity::find_by_id(agreement_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "agreement",
            })?;
        if ev::Entity::find()
            .filter(ev::Column::AgreementId.eq(a.id))
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(StoreError::conflict(
                "EVA_EXISTS",
                "该协议已开展绩效评估",
                "agreement_id",
            ));
        }
        let open = unfinished_classes(&txn, a.id).await?;
        if !open.is_empty() {
            return Err(StoreError::validation(
                "EVA_CLASSES_UNFINISHED",
                format!(
                    "协议下的班次须全部结束（已完成、超期或已取消）后才能评估；尚未结束：{}",
                    open.join("、")
                ),
                "agreement_id",
            ));
        }
        let policy = crate::policies::in_force(&txn, today(now)).await?;
        let input = read_input(&txn, &a, today(now)).await?;
        let result = evaluate(&input, &[], &policy).map_err(eva_err)?;
        let m = ev::ActiveModel {
            agreement_id: Set(a.id),
            round_id: Set(a.round_id),
            institution_id: Set(a.institution_id),
            state: Set(EvaluationState::Open.code().to_string()),
            input: Set(serde_json::to_string(&input).unwrap_or_default()),
            adjustments: Set("[]".to_string()),
            result: Set(serde_json::to_string(&result).unwrap_or_default()),
            score: Set(None),
            policy_version: Set(policy.version.clone()),
            opened_by: Set(actor.username.clone()),
            opened_at: Set(now),
            computed_at: Set(now),
            confirmed_by: Set(None),
            confirmed_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| crate::map_unique(e, "EVA_EXISTS", "该协议已开展绩效评估", "agreement_id"))?;
        let v = one_view(&txn, m).await?;
        audit::append(
            &txn,
            actor,
            "evaluation.open",
            "evaluation",
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

/// Loads an open evaluation for a change by the centre.
async fn load_open<C: ConnectionTrait>(db: &C, id: i64) -> Result<ev::Model> {
    let m = ev::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "evaluation",
        })?;
    if m.state != EvaluationState::Open.code() {
        return Err(StoreError::conflict(
            "EVA_CONFIRMED",
            "该评估已确认，不能再修改",
            "id",
        ));
    }
    Ok(m)
}

async fn save(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    m: ev::Model,
    edit: impl FnOnce(&mut ev::ActiveModel),
    action: &str,
    now: DateTime<Utc>,
) -> Result<EvaluationView> {
    let old = one_view(txn, m.clone()).await?;
    let mut am: ev::ActiveModel = m.into();
    edit(&mut am);
    let m = am.update(txn).await?;
    let v = one_view(txn, m).await?;
    audit::append(
        txn,
        actor,
        action,
        "evaluation",
        Some(v.id.to_string()),
        Some(json(&old)),
        Some(json(&v)),
        now,
    )
    .await?;
    Ok(v)
}

/// R-EVA-1: reads the records again (policy in force today) and recomputes, keeping the
/// adjustments. Only while open.
pub async fn recompute(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<EvaluationView> {
    if !centre(actor) {
        return Err(StoreError::forbidden("只有区培训中心可以重新计算绩效评估"));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let m = load_open(&txn, id).await?;
        let a = agreement::Entity::find_by_id(m.agreement_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "agreement",
            })?;
        let policy = crate::policies::in_force(&txn, today(now)).await?;
        let input = read_input(&txn, &a, today(now)).await?;
        let adjustments: Vec<StoredAdjustment> =
            serde_json::from_str(&m.adjustments).map_err(bad_json)?;
        let result =
            evaluate(&input, &domain_adjustments(&adjustments), &policy).map_err(eva_err)?;
        let v = save(
            &txn,
            actor,
            m,
            |am| {
                am.input = Set(serde_json::to_string(&input).unwrap_or_default());
                am.result = Set(serde_json::to_string(&result).unwrap_or_default());
                am.policy_version = Set(policy.version.clone());
                am.computed_at = Set(now);
            },
            "evaluation.recompute",
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// The centre's adjustment of one component (R-EVA-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentInput {
    pub key: ComponentKey,
    /// The replacement value (0–100, at most three decimals); `None` accepts the flagged
    /// computed value as it is.
    pub value: Option<Decimal>,
    /// Required, at most 2000 characters.
    pub reason: String,
}

/// R-EVA-1: the centre replaces a component (or accepts a flagged one) with a reason; audited;
/// the computed value stays beside it. Only while open.
pub async fn adjust_component(
    store: &Store,
    actor: &Actor,
    id: i64,
    input: &AdjustmentInput,
    now: DateTime<Utc>,
) -> Result<EvaluationView> {
    if !centre(actor) {
        return Err(StoreError::forbidden("只有区培训中心可以调整绩效评估"));
    }
    let reason = input.reason.trim().to_string();
    if reason.is_empty() {
        return Err(StoreError::validation(
            "REQUIRED",
            "请填写调整理由（不超过2000字）",
            "reason",
        ));
    }
    peixun_domain::text::check_text("reason", &reason, peixun_domain::text::MAX_REASON_CHARS)?;
    if let Some(v) = input.value {
        peixun_domain::evaluation::check_adjusted_value(v).map_err(eva_err)?;
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let m = load_open(&txn, id).await?;
        let evaluation_input: EvaluationInput = serde_json::from_str(&m.input).map_err(bad_json)?;
        let mut adjustments: Vec<StoredAdjustment> =
            serde_json::from_str(&m.adjustments).map_err(bad_json)?;
        adjustments.push(StoredAdjustment {
            key: input.key,
            value: input.value.map(|v| v.normalize()),
            reason: reason.clone(),
            by: actor.username.clone(),
            at: now,
        });
        let policy = crate::policies::by_version(&txn, &m.policy_version).await?;
        let result = evaluate(
            &evaluation_input,
            &domain_adjustments(&adjustments),
            &policy,
        )
        .map_err(eva_err)?;
        let v = save(
            &txn,
            actor,
            m,
            |am| {
                am.adjustments = Set(serde_json::to_string(&adjustments).unwrap_or_default());
                am.result = Set(serde_json::to_string(&result).unwrap_or_default());
            },
            if input.value.is_some() {
                "evaluation.adjust"
            } else {
                "evaluation.accept"
            },
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

/// R-EVA-1: centre_admin confirms: the score is fixed with the policy version used. Refused while
/// a flagged component is neither adjusted nor accepted. The institution is told.
pub async fn confirm_evaluation(
    store: &Store,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<EvaluationView> {
    if !(actor.is_system() || actor.role == Some(Role::CentreAdmin)) {
        return Err(StoreError::forbidden(
            "只有区培训中心负责人可以确认绩效评估",
        ));
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let m = load_open(&txn, id).await?;
        let result: EvaluationResult = serde_json::from_str(&m.result).map_err(bad_json)?;
        let undecided: Vec<String> = result
            .components
            .iter()
            .filter(|c| c.needs_decision())
            .map(|c| format!("{}（{}）", c.label, c.flag.clone().unwrap_or_default()))
            .collect();
        if !undecided.is_empty() {
            return Err(StoreError::validation(
                "EVA_FLAGGED",
                format!("以下分项须先调整或确认计算值：{}", undecided.join("、")),
                "components",
            ));
        }
        let institution_id = m.institution_id;
        let score = result.score;
        let v = save(
            &txn,
            actor,
            m,
            |am| {
                am.state = Set(EvaluationState::Confirmed.code().to_string());
                am.score = Set(Some(score.to_string()));
                am.confirmed_by = Set(Some(actor.username.clone()));
                am.confirmed_at = Set(Some(now));
            },
            "evaluation.confirm",
            now,
        )
        .await?;
        crate::overdue::inbox(
            &txn,
            institution_id,
            "绩效评估结果已确认",
            &format!(
                "区培训中心已确认{}协议的绩效评估：综合得分 {}（{}）。",
                v.round_label, v.score, v.band_note
            ),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(v)
    })
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// One evaluation (S6: another institution's is "not found").
pub async fn get_evaluation(store: &Store, viewer: &Actor, id: i64) -> Result<EvaluationView> {
    let m = ev::Entity::find_by_id(id)
        .one(store.db())
        .await?
        .filter(|m| class_scope(viewer).allows(m.institution_id))
        .ok_or(StoreError::NotFound {
            entity: "evaluation",
        })?;
    one_view(store.db(), m).await
}

/// The evaluation of an agreement, if opened (S6 as [`get_evaluation`]).
pub async fn evaluation_for_agreement(
    store: &Store,
    viewer: &Actor,
    agreement_id: i64,
) -> Result<Option<EvaluationView>> {
    let m = ev::Entity::find()
        .filter(ev::Column::AgreementId.eq(agreement_id))
        .one(store.db())
        .await?
        .filter(|m| class_scope(viewer).allows(m.institution_id));
    match m {
        Some(m) => Ok(Some(one_view(store.db(), m).await?)),
        None => Ok(None),
    }
}

/// List filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationFilter {
    pub round_id: Option<i64>,
    pub state: Option<EvaluationState>,
}

/// Evaluations the viewer may see (S6), newest first.
pub async fn list_evaluations(
    store: &Store,
    viewer: &Actor,
    filter: &EvaluationFilter,
    page: &PageRequest,
) -> Result<Page<EvaluationView>> {
    let cond = class_scope(viewer)
        .condition(ev::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看绩效评估"))?;
    let mut q = ev::Entity::find().filter(cond);
    if let Some(r) = filter.round_id {
        q = q.filter(ev::Column::RoundId.eq(r));
    }
    if let Some(s) = filter.state {
        q = q.filter(ev::Column::State.eq(s.code()));
    }
    let total = q.clone().count(store.db()).await?;
    if let Some(after) = page.after_id {
        q = q.filter(ev::Column::Id.lt(after));
    }
    let limit = page.limit();
    let mut rows = q
        .order_by_desc(ev::Column::Id)
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
        items: views(store.db(), rows).await?,
        total,
        next_after_id,
        per_page: limit,
    })
}

/// R-EVA-2: every evaluation of a round the viewer may see, by institution name (for the report).
pub async fn round_evaluations(
    store: &Store,
    viewer: &Actor,
    round_id: i64,
) -> Result<Vec<EvaluationView>> {
    let cond = class_scope(viewer)
        .condition(ev::Column::InstitutionId)
        .ok_or_else(|| StoreError::forbidden("无权查看绩效评估"))?;
    let rows = ev::Entity::find()
        .filter(cond)
        .filter(ev::Column::RoundId.eq(round_id))
        .order_by_asc(ev::Column::Id)
        .all(store.db())
        .await?;
    let mut out = views(store.db(), rows).await?;
    out.sort_by(|a, b| {
        a.institution_name
            .cmp(&b.institution_name)
            .then(a.id.cmp(&b.id))
    });
    Ok(out)
}

/// R-CAP-3: the confirmed evaluation of an agreement: (evaluation id, C, S).
pub(crate) async fn confirmed_for_agreement<C: ConnectionTrait>(
    db: &C,
    agreement_id: i64,
) -> Result<Option<(i64, u32, Score)>> {
    let Some(m) = ev::Entity::find()
        .filter(ev::Column::AgreementId.eq(agreement_id))
        .filter(ev::Column::State.eq(EvaluationState::Confirmed.code()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let result: EvaluationResult = serde_json::from_str(&m.result).map_err(bad_json)?;
    let score = m
        .score
        .as_deref()
        .and_then(|s| Score::from_str(s).ok())
        .unwrap_or(result.score);
    Ok(Some((m.id, result.input.on_time, score)))
}

/// The policy an evaluation used (for pages showing the formula).
pub async fn policy_of(store: &Store, v: &EvaluationView) -> Result<Policy> {
    crate::policies::by_version(store.db(), &v.policy_version).await
}

/// Demo seeding and tests: stores a confirmed evaluation of `agreement_id` with C =
/// `on_time` and score `score` as a result entered from an earlier (paper) evaluation: each
/// component set to the score by an adjustment, the records not read.
#[doc(hidden)]
pub async fn record_confirmed_summary(
    store: &Store,
    agreement_id: i64,
    on_time: u32,
    score: Score,
    now: DateTime<Utc>,
) -> Result<i64> {
    let now = db_time(now);
    let txn = store.begin_write().await?;
    let a = agreement::Entity::find_by_id(agreement_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound {
            entity: "agreement",
        })?;
    let policy = crate::policies::in_force(&txn, today(now)).await?;
    let input = EvaluationInput {
        cap: (a.cap.max(0) as u32).max(on_time).max(1),
        approved: on_time,
        on_time,
        inspections: Some(0),
        general_findings: 0,
        serious_findings: 0,
        late_rectifications: 0,
        archives: Vec::new(),
        satisfaction: SatisfactionInput::Answers {
            responses: 0,
            overall_sum: 0,
            trainees: 0,
        },
    };
    let adjustments: Vec<StoredAdjustment> = ComponentKey::ALL
        .iter()
        .map(|k| StoredAdjustment {
            key: *k,
            value: Some(score.value()),
            reason: "系统启用前的评估结果，按纸质评估报告录入".into(),
            by: "system".into(),
            at: now,
        })
        .collect();
    let result = evaluate(&input, &domain_adjustments(&adjustments), &policy).map_err(eva_err)?;
    let m = ev::ActiveModel {
        agreement_id: Set(a.id),
        round_id: Set(a.round_id),
        institution_id: Set(a.institution_id),
        state: Set(EvaluationState::Confirmed.code().to_string()),
        input: Set(serde_json::to_string(&input).unwrap_or_default()),
        adjustments: Set(serde_json::to_string(&adjustments).unwrap_or_default()),
        result: Set(serde_json::to_string(&result).unwrap_or_default()),
        score: Set(Some(result.score.to_string())),
        policy_version: Set(policy.version.clone()),
        opened_by: Set("test".into()),
        opened_at: Set(now),
        computed_at: Set(now),
        confirmed_by: Set(Some("test".into())),
        confirmed_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(m.id)
}
