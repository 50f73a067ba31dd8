//! The trainee satisfaction survey (满意度调查, R-EVA-3) and its input to R-EVA-1.
//!
//! * **Questionnaire per round.** [`save_questionnaire`] (the centre; audited) stores a checked
//!   [`Questionnaire`]; a round without one uses [`default_questionnaire`].
//! * **A survey per class.** [`class_survey`] gives the class's survey — creating it on first
//!   use with an unguessable token (128 random bits, hex) — to the centre and the class's own
//!   institution (S6). The closing date defaults to the class's planned end + 7 days
//!   ([`DEFAULT_CLOSE_AFTER_DAYS`]); [`set_closing_date`] (the centre; audited) changes it.
//! * **Answers** ([`respond`]): name + last 4 characters of the ID number must match a row of the
//!   class's current roster; one answer per trainee; not after the closing date; only classes
//!   in training, complete, overdue or archived. See [`respond`] for unlinkability.
//! * **Counts only.** [`class_survey`] and [`round_survey`] show response counts, the rate and
//!   mean ratings ([`Tally`]); never who answered.
//! * **R-EVA-1.** [`agreement_satisfaction`] sums the `overall` ratings of an agreement's classes
//!   that ran (completed, archived after completion, or overdue).

mod respond;

pub use respond::{PublicSurvey, SurveyOpen, public_survey, respond};

use crate::entity::filing;
use crate::filing_package::package;
use crate::filings::parse_class_state;
use crate::results::{is_own_institution, roster_rows};
use crate::workflow_glue::{is_centre, with_retry};
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use peixun_domain::role::Role;
use peixun_domain::survey::{
    Questionnaire, SurveyStats, Tally, check_questionnaire, default_questionnaire,
};
use peixun_domain::workflow::class::ClassState;
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Days after the planned end a survey stays open by default.
pub const DEFAULT_CLOSE_AFTER_DAYS: i64 = 7;

/// The `survey_questionnaires` table: a round's questionnaire.
pub mod questionnaire_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "survey_questionnaires")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub round_id: i64,
        /// `survey::Questionnaire` as JSON.
        pub questions: String,
        pub updated_by: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `class_surveys` table: a class's token and closing date.
pub mod class_survey_row {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "class_surveys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub filing_id: i64,
        /// 32 hex characters (128 random bits). UNIQUE.
        pub token: String,
        /// Set by the centre; `None` = planned end + 7 days.
        pub closes_on: Option<Date>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `survey_respondents` table: who answered (for "once"), never what.
pub mod respondent {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "survey_respondents")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub filing_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub roster_entry_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `survey_responses` table: the answers, with no roster column and only a date.
pub mod response {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "survey_responses")]
    pub struct Model {
        /// 32 random hex characters (not a sequence: ids do not give the order of answers).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub filing_id: i64,
        pub submitted_on: Date,
        /// `survey::Answer` as JSON.
        pub answers: String,
        /// The `overall` rating, 1..=5.
        pub overall: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// 128 random bits as 32 lowercase hex characters.
pub(crate) fn random_hex() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The questionnaire round `round_id` uses: the saved one, else the default.
pub async fn questionnaire_of<C: ConnectionTrait>(db: &C, round_id: i64) -> Result<Questionnaire> {
    Ok(questionnaire_row::Entity::find_by_id(round_id)
        .one(db)
        .await?
        .and_then(|r| serde_json::from_str(&r.questions).ok())
        .unwrap_or_else(default_questionnaire))
}

/// A round's questionnaire as the edit page and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionnaireView {
    pub round_id: i64,
    pub questionnaire: Questionnaire,
    /// No questionnaire saved for the round: the default applies.
    pub is_default: bool,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

fn may_read_round_surveys(viewer: &Actor) -> bool {
    viewer.is_system()
        || viewer
            .role
            .is_some_and(|r| r.is_centre() || matches!(r, Role::Bureau | Role::City))
}

async fn round_exists<C: ConnectionTrait>(db: &C, round_id: i64) -> Result<()> {
    crate::entity::round::Entity::find_by_id(round_id)
        .one(db)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound { entity: "round" })
}

/// R-EVA-3: a round's questionnaire (the centre, bureau and city).
pub async fn get_questionnaire(
    store: &Store,
    viewer: &Actor,
    round_id: i64,
) -> Result<QuestionnaireView> {
    if !may_read_round_surveys(viewer) {
        return Err(StoreError::forbidden("无权查看满意度调查问卷"));
    }
    round_exists(store.db(), round_id).await?;
    let row = questionnaire_row::Entity::find_by_id(round_id)
        .one(store.db())
        .await?;
    Ok(QuestionnaireView {
        round_id,
        questionnaire: row
            .as_ref()
            .and_then(|r| serde_json::from_str(&r.questions).ok())
            .unwrap_or_else(default_questionnaire),
        is_default: row.is_none(),
        updated_by: row.as_ref().map(|r| r.updated_by.clone()),
        updated_at: row.map(|r| r.updated_at),
    })
}

/// R-EVA-3: the centre saves a round's questionnaire (checked by [`check_questionnaire`]: every
/// problem listed, nothing saved). Audited with the old and new questions.
pub async fn save_questionnaire(
    store: &Store,
    actor: &Actor,
    round_id: i64,
    q: &Questionnaire,
    now: DateTime<Utc>,
) -> Result<QuestionnaireView> {
    if !(actor.is_system() || is_centre(actor)) {
        return Err(StoreError::forbidden(
            "只有区培训中心可以修改满意度调查问卷",
        ));
    }
    let q = check_questionnaire(q).map_err(problems_err)?;
    let now = db_time(now);
    let json = serde_json::to_string(&q)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
    with_retry!({
        let txn = store.begin_write().await?;
        round_exists(&txn, round_id).await?;
        let old = questionnaire_row::Entity::find_by_id(round_id)
            .one(&txn)
            .await?;
        let m = questionnaire_row::ActiveModel {
            round_id: Set(round_id),
            questions: Set(json.clone()),
            updated_by: Set(actor.username.clone()),
            updated_at: Set(now),
        };
        if old.is_some() {
            m.update(&txn).await?;
        } else {
            m.insert(&txn).await?;
        }
        audit::append(
            &txn,
            actor,
            "survey.questionnaire",
            "round",
            Some(round_id.to_string()),
            old.as_ref()
                .and_then(|o| serde_json::from_str::<serde_json::Value>(&o.questions).ok()),
            serde_json::to_value(&q).ok(),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    })?;
    get_questionnaire(store, &Actor::system("survey"), round_id).await
}

pub(crate) fn problems_err(p: Vec<peixun_domain::survey::SurveyProblem>) -> StoreError {
    StoreError::from_problems(
        p.into_iter()
            .map(|p| crate::FieldProblem {
                code: p.code,
                message: p.message,
                field: Some(p.field),
            })
            .collect(),
    )
}

/// The class states in which a survey accepts answers: in training, training complete,
/// overdue, completed, archived (not before training, not cancelled or withdrawn).
pub fn accepts_answers(state: &ClassState) -> bool {
    matches!(
        state,
        ClassState::InTraining
            | ClassState::TrainingComplete { .. }
            | ClassState::Overdue { .. }
            | ClassState::Completed { .. }
            | ClassState::Archived { .. }
    )
}

/// Classes that "ran" for R-EVA-1: completed (archived included) or overdue.
pub fn counts_for_evaluation(state: &ClassState) -> bool {
    matches!(
        state,
        ClassState::Completed { .. } | ClassState::Archived { .. } | ClassState::Overdue { .. }
    )
}

/// The default closing date: the package's planned end (else the start date) + 7 days.
pub(crate) async fn default_closing<C: ConnectionTrait>(
    db: &C,
    f: &filing::Model,
) -> Result<NaiveDate> {
    let planned_end: Option<NaiveDate> = package::Entity::find()
        .filter(package::Column::FilingId.eq(f.id))
        .select_only()
        .column(package::Column::PlannedEnd)
        .into_tuple::<Option<NaiveDate>>()
        .one(db)
        .await?
        .flatten();
    Ok(planned_end.unwrap_or(f.start_date) + Duration::days(DEFAULT_CLOSE_AFTER_DAYS))
}

/// The survey of a class as its page shows it: link token, closing date, counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassSurveyView {
    pub filing_id: i64,
    pub round_id: i64,
    /// The public link is `/s/{token}`.
    pub token: String,
    pub closes_on: NaiveDate,
    /// The closing date is the default (planned end + 7 days), not set by the centre.
    pub closes_on_is_default: bool,
    /// The class's state lets trainees answer (and the closing date has not passed).
    pub open: bool,
    pub stats: SurveyStats,
}

/// May `viewer` see a class's survey? The centre and the class's own institution; bureau and
/// city through the round page (counts only). Anyone else gets NotFound (S6).
fn may_see_class(viewer: &Actor, institution_id: i64) -> bool {
    may_read_round_surveys(viewer) || is_own_institution(viewer, institution_id)
}

async fn load_visible_class<C: ConnectionTrait>(
    db: &C,
    viewer: &Actor,
    filing_id: i64,
) -> Result<filing::Model> {
    let f = filing::Entity::find_by_id(filing_id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "class" })?;
    if !may_see_class(viewer, f.institution_id) {
        // Same answer as a missing class: B learns nothing about A's classes (S6).
        return Err(StoreError::NotFound { entity: "class" });
    }
    Ok(f)
}

/// The class's tally: trainees on the current roster, every answer's ratings.
pub(crate) async fn class_tally<C: ConnectionTrait>(db: &C, filing_id: i64) -> Result<Tally> {
    let trainees = roster_rows(db, filing_id).await?.len() as u32;
    let mut t = Tally::new(trainees);
    let answers: Vec<String> = response::Entity::find()
        .filter(response::Column::FilingId.eq(filing_id))
        .select_only()
        .column(response::Column::Answers)
        .into_tuple()
        .all(db)
        .await?;
    for a in answers {
        let a: peixun_domain::survey::Answer = serde_json::from_str(&a).unwrap_or_default();
        t.add_answer(&a.ratings);
    }
    Ok(t)
}

async fn ensure_row(
    store: &Store,
    f: &filing::Model,
    now: DateTime<Utc>,
) -> Result<class_survey_row::Model> {
    if let Some(r) = class_survey_row::Entity::find_by_id(f.id)
        .one(store.db())
        .await?
    {
        return Ok(r);
    }
    let now = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let row = match class_survey_row::Entity::find_by_id(f.id).one(&txn).await? {
            Some(r) => r,
            None => {
                class_survey_row::ActiveModel {
                    filing_id: Set(f.id),
                    token: Set(random_hex()),
                    closes_on: Set(None),
                    created_at: Set(now),
                }
                .insert(&txn)
                .await?
            }
        };
        txn.commit().await?;
        Ok(row)
    })
}

/// R-EVA-3: a class's survey for its page (the centre, bureau, city and the class's own
/// institution; others NotFound, S6). The survey (its token) is created on first use.
pub async fn class_survey(
    store: &Store,
    viewer: &Actor,
    filing_id: i64,
    now: DateTime<Utc>,
) -> Result<ClassSurveyView> {
    let f = load_visible_class(store.db(), viewer, filing_id).await?;
    let row = ensure_row(store, &f, now).await?;
    let q = questionnaire_of(store.db(), f.round_id).await?;
    let tally = class_tally(store.db(), f.id).await?;
    let default = default_closing(store.db(), &f).await?;
    let closes_on = row.closes_on.unwrap_or(default);
    let day = crate::workflow_glue::today(now);
    Ok(ClassSurveyView {
        filing_id: f.id,
        round_id: f.round_id,
        token: row.token,
        closes_on,
        closes_on_is_default: row.closes_on.is_none(),
        open: accepts_answers(&parse_class_state(&f.state)) && day <= closes_on,
        stats: tally.stats(&q),
    })
}

/// R-EVA-3: the centre sets a class's closing date (`None` = back to the default). A date
/// before the class's start is refused. Audited.
pub async fn set_closing_date(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    closes_on: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<ClassSurveyView> {
    if !(actor.is_system() || is_centre(actor)) {
        return Err(StoreError::forbidden("只有区培训中心可以修改问卷截止日期"));
    }
    let f = load_visible_class(store.db(), actor, filing_id).await?;
    if let Some(d) = closes_on
        && d < f.start_date
    {
        return Err(StoreError::validation(
            "SURVEY_CLOSES_BEFORE_START",
            format!("截止日期{d}早于开班日期{}，请重新选择", f.start_date),
            "closes_on",
        ));
    }
    let row = ensure_row(store, &f, now).await?;
    let at = db_time(now);
    with_retry!({
        let txn = store.begin_write().await?;
        class_survey_row::ActiveModel {
            filing_id: Set(f.id),
            closes_on: Set(closes_on),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        audit::append(
            &txn,
            actor,
            "survey.closing_date",
            "class",
            Some(f.id.to_string()),
            Some(serde_json::json!({ "closes_on": row.closes_on })),
            Some(serde_json::json!({ "closes_on": closes_on })),
            at,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    })?;
    class_survey(store, actor, filing_id, now).await
}

/// One class on the round's survey page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundClassSurvey {
    pub filing_id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub occupation: String,
    pub level: String,
    pub status_label: String,
    pub stats: SurveyStats,
}

/// The round's survey summary: per class and in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundSurveyView {
    pub round_id: i64,
    pub questionnaire: Questionnaire,
    pub classes: Vec<RoundClassSurvey>,
    pub total: SurveyStats,
}

/// R-EVA-3: response rate and mean ratings per class of a round that accepts answers, and the
/// round's total (the centre, bureau and city).
pub async fn round_survey(store: &Store, viewer: &Actor, round_id: i64) -> Result<RoundSurveyView> {
    if !may_read_round_surveys(viewer) {
        return Err(StoreError::forbidden("无权查看本轮满意度调查"));
    }
    round_exists(store.db(), round_id).await?;
    let q = questionnaire_of(store.db(), round_id).await?;
    let classes: Vec<filing::Model> = filing::Entity::find()
        .filter(filing::Column::RoundId.eq(round_id))
        .all(store.db())
        .await?
        .into_iter()
        .filter(|f| accepts_answers(&parse_class_state(&f.state)))
        .collect();
    let names =
        crate::rounds::institution_names(store.db(), classes.iter().map(|f| f.institution_id))
            .await?;
    let mut total = Tally::default();
    let mut out = Vec::with_capacity(classes.len());
    for f in classes {
        let t = class_tally(store.db(), f.id).await?;
        total.merge(&t);
        out.push(RoundClassSurvey {
            filing_id: f.id,
            institution_id: f.institution_id,
            institution_name: names.get(&f.institution_id).cloned().unwrap_or_default(),
            occupation: f.occupation.clone(),
            level: f.level.clone(),
            status_label: parse_class_state(&f.state).label_zh().to_string(),
            stats: t.stats(&q),
        });
    }
    out.sort_by(|a, b| {
        (a.institution_name.as_str(), a.filing_id).cmp(&(b.institution_name.as_str(), b.filing_id))
    });
    Ok(RoundSurveyView {
        round_id,
        total: total.stats(&q),
        questionnaire: q,
        classes: out,
    })
}

/// Survey input to R-EVA-1's satisfaction component for one agreement: over the agreement's
/// classes that ran (state completed or overdue), the `overall` ratings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SatisfactionStats {
    pub responses: u32,
    pub overall_sum: u32,
    pub trainees: u32,
}

/// R-EVA-1 / R-EVA-3: the survey input for one agreement. Over the agreement's classes in state
/// completed (archived included) or overdue: `responses` = answers, `overall_sum` = the sum of
/// their `overall` ratings (1..=5), `trainees` = the rows of those classes' current rosters.
/// No access check: the evaluation service calls it inside its own (checked) transaction.
pub async fn agreement_satisfaction<C: sea_orm::ConnectionTrait>(
    conn: &C,
    agreement_id: i64,
) -> crate::Result<SatisfactionStats> {
    let classes: Vec<(i64, String)> = filing::Entity::find()
        .filter(filing::Column::AgreementId.eq(agreement_id))
        .select_only()
        .column(filing::Column::Id)
        .column(filing::Column::State)
        .into_tuple()
        .all(conn)
        .await?;
    let ran: Vec<i64> = classes
        .into_iter()
        .filter(|(_, s)| counts_for_evaluation(&parse_class_state(s)))
        .map(|(id, _)| id)
        .collect();
    let mut out = SatisfactionStats {
        responses: 0,
        overall_sum: 0,
        trainees: 0,
    };
    if ran.is_empty() {
        return Ok(out);
    }
    let overall: Vec<i32> = response::Entity::find()
        .filter(response::Column::FilingId.is_in(ran.clone()))
        .select_only()
        .column(response::Column::Overall)
        .into_tuple()
        .all(conn)
        .await?;
    out.responses = overall.len() as u32;
    out.overall_sum = overall.iter().map(|r| (*r).clamp(1, 5) as u32).sum();
    for id in ran {
        out.trainees += roster_rows(conn, id).await?.len() as u32;
    }
    Ok(out)
}

/// Response counts per class (for lists): class id → answers.
pub async fn response_counts<C: ConnectionTrait>(
    db: &C,
    filing_ids: &[i64],
) -> Result<HashMap<i64, u32>> {
    let mut out: HashMap<i64, u32> = HashMap::new();
    if filing_ids.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = response::Entity::find()
        .filter(response::Column::FilingId.is_in(filing_ids.to_vec()))
        .select_only()
        .column(response::Column::FilingId)
        .into_tuple()
        .all(db)
        .await?;
    for id in ids {
        *out.entry(id).or_default() += 1;
    }
    Ok(out)
}

/// The comments of a class's answers (the centre only), in no particular order and without
/// dates: counts and texts, never who wrote them.
pub async fn class_comments(store: &Store, viewer: &Actor, filing_id: i64) -> Result<Vec<String>> {
    if !(viewer.is_system() || is_centre(viewer)) {
        return Err(StoreError::forbidden("只有区培训中心可以查看学员意见"));
    }
    let f = load_visible_class(store.db(), viewer, filing_id).await?;
    let rows: Vec<String> = response::Entity::find()
        .filter(response::Column::FilingId.eq(f.id))
        .select_only()
        .column(response::Column::Answers)
        .into_tuple()
        .all(store.db())
        .await?;
    let mut out: Vec<String> = rows
        .into_iter()
        .filter_map(|a| serde_json::from_str::<peixun_domain::survey::Answer>(&a).ok())
        .flat_map(|a| a.comments.into_values())
        .collect();
    out.sort();
    Ok(out)
}
