//! The public side of the survey (R-EVA-3): the page behind `/s/{token}` and an answer.
//!
//! **Unlinkable.** An answer writes two rows in one transaction: `survey_respondents`
//! (class, roster entry) — UNIQUE, so a trainee answers once — and `survey_responses` (a
//! random id, the class, the submission *date*, the answers) with no roster column and no
//! timestamp, so neither a join nor the order of ids nor a time ties an answer to a trainee.
//! No audit row names the respondent; the typed name and ID digits are never logged or stored.

use super::{
    accepts_answers, class_survey_row, default_closing, problems_err, questionnaire_of, random_hex,
    respondent, response,
};
use crate::entity::filing;
use crate::filings::parse_class_state;
use crate::pii::Field;
use crate::roster::entry;
use crate::workflow_glue::{today, with_retry};
use crate::{FieldProblem, Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::certificate::normalise_name;
use peixun_domain::survey::{Questionnaire, check_answer, check_identification, last4_of};
use peixun_domain::workflow::class::ClassState;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use subtle::ConstantTimeEq;

/// Whether a survey takes answers now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyOpen {
    Open,
    /// The class has not started training yet.
    NotYet,
    /// The closing date has passed.
    Closed,
    /// The class was cancelled, withdrawn or not granted.
    Unavailable,
}

impl SurveyOpen {
    /// The Chinese notice for a survey that does not take answers.
    pub fn notice(self) -> Option<&'static str> {
        match self {
            SurveyOpen::Open => None,
            SurveyOpen::NotYet => Some("该班次尚未开班，问卷暂未开放"),
            SurveyOpen::Closed => Some("问卷已截止"),
            SurveyOpen::Unavailable => Some("该班次已取消或撤回，问卷不再开放"),
        }
    }

    fn code(self) -> &'static str {
        match self {
            SurveyOpen::Open => "SURVEY_OPEN",
            SurveyOpen::NotYet => "SURVEY_NOT_OPEN",
            SurveyOpen::Closed => "SURVEY_CLOSED",
            SurveyOpen::Unavailable => "SURVEY_UNAVAILABLE",
        }
    }
}

/// What the public page shows: the class, the institution, the questions. Nothing about the
/// roster or the answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicSurvey {
    pub token: String,
    pub occupation: String,
    pub level: String,
    pub institution_name: String,
    pub start_date: NaiveDate,
    pub closes_on: NaiveDate,
    pub open: SurveyOpen,
    pub questionnaire: Questionnaire,
}

fn open_state(state: &ClassState, day: NaiveDate, closes_on: NaiveDate) -> SurveyOpen {
    if accepts_answers(state) {
        if day > closes_on {
            SurveyOpen::Closed
        } else {
            SurveyOpen::Open
        }
    } else if matches!(
        state,
        ClassState::Draft
            | ClassState::Submitted { .. }
            | ClassState::Returned { .. }
            | ClassState::Approved
            | ClassState::RosterReview { .. }
    ) {
        SurveyOpen::NotYet
    } else {
        SurveyOpen::Unavailable
    }
}

/// Tokens are 32 hex characters; anything else is looked up as nothing.
fn token_shape_ok(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn load<C: ConnectionTrait>(
    db: &C,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(class_survey_row::Model, filing::Model, PublicSurvey)> {
    let nf = StoreError::NotFound { entity: "survey" };
    let token = token.trim().to_ascii_lowercase();
    if !token_shape_ok(&token) {
        return Err(nf);
    }
    let row = class_survey_row::Entity::find()
        .filter(class_survey_row::Column::Token.eq(token))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "survey" })?;
    let f = filing::Entity::find_by_id(row.filing_id)
        .one(db)
        .await?
        .ok_or(nf)?;
    let closes_on = match row.closes_on {
        Some(d) => d,
        None => default_closing(db, &f).await?,
    };
    let inst = crate::rounds::institution_names(db, [f.institution_id])
        .await?
        .remove(&f.institution_id)
        .unwrap_or_default();
    let view = PublicSurvey {
        token: row.token.clone(),
        occupation: f.occupation.clone(),
        level: f.level.clone(),
        institution_name: inst,
        start_date: f.start_date,
        closes_on,
        open: open_state(&parse_class_state(&f.state), today(now), closes_on),
        questionnaire: questionnaire_of(db, f.round_id).await?,
    };
    Ok((row, f, view))
}

/// R-EVA-3: the public survey behind a token (no login). NotFound for an unknown token.
pub async fn public_survey(store: &Store, token: &str, now: DateTime<Utc>) -> Result<PublicSurvey> {
    Ok(load(store.db(), token, now).await?.2)
}

fn ident_digest(name: &str, last4: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(normalise_name(name).as_bytes());
    h.update([0u8]);
    h.update(last4.to_ascii_uppercase().as_bytes());
    h.finalize().into()
}

/// The last 4 characters of a roster row's ID number: from its masked form when that keeps
/// them (18-digit citizen IDs and other numbers of 15+ characters), else decrypted in memory.
fn row_last4(store: &Store, e: &entry::Model) -> Result<String> {
    if let Some(l) = last4_of(&e.id_masked)
        && !l.contains('*')
    {
        return Ok(l);
    }
    let plain = if e.id_number.starts_with(crate::pii::FIELD_PREFIX) {
        store
            .keys()?
            .data
            .decrypt_field(Field::TraineeIdNumber, &e.id_number)?
    } else {
        e.id_number.clone()
    };
    Ok(last4_of(&plain).unwrap_or_default())
}

/// R-EVA-3: a trainee answers the survey behind `token`. `answers` are the form's fields
/// (question key → value). In order: unknown token → NotFound; class not in training /
/// complete / overdue / archived → `SURVEY_NOT_OPEN` / `SURVEY_UNAVAILABLE`; after the closing
/// date → `SURVEY_CLOSED` (问卷已截止); bad fields → every problem, by field; the name and last
/// 4 characters not matching one row of the class's current roster → `SURVEY_NOT_ON_ROSTER`
/// (姓名或身份证号后4位与花名册不符 — the same whether or not the name exists: every row is
/// compared, in constant time, over fixed-length digests); already answered →
/// `SURVEY_ALREADY_ANSWERED` (您已提交过问卷). Nothing is written unless all pass.
pub async fn respond(
    store: &Store,
    token: &str,
    name: &str,
    id_last4: &str,
    answers: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Result<()> {
    let day = today(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let (_row, f, view) = load(&txn, token, now).await?;
        if view.open != super::SurveyOpen::Open {
            let msg = view.open.notice().unwrap_or_default();
            return Err(StoreError::conflict(view.open.code(), msg, "survey"));
        }
        let mut problems: Vec<FieldProblem> = Vec::new();
        let ident = match check_identification(name, id_last4) {
            Ok(i) => Some(i),
            Err(p) => {
                problems.extend(problems_err(p).problems());
                None
            }
        };
        let answer = match check_answer(&view.questionnaire, answers) {
            Ok(a) => Some(a),
            Err(p) => {
                problems.extend(problems_err(p).problems());
                None
            }
        };
        StoreError::check(problems)?;
        let (Some(ident), Some(answer)) = (ident, answer) else {
            unreachable!("checked above")
        };
        let Some(overall) = answer.overall() else {
            return Err(StoreError::validation(
                "SURVEY_RATING_REQUIRED",
                "请选择总体满意度",
                peixun_domain::survey::OVERALL,
            ));
        };
        // Every current roster row is compared; the loop does not stop at a match.
        let given = ident_digest(&ident.name, &ident.id_last4);
        let rows: Vec<entry::Model> = match crate::results::package_of(&txn, f.id).await? {
            Some(pid) => {
                entry::Entity::find()
                    .filter(entry::Column::PackageId.eq(pid))
                    .filter(entry::Column::Pending.eq(false))
                    .all(&txn)
                    .await?
            }
            None => Vec::new(),
        };
        let mut matches = Vec::new();
        for e in &rows {
            let stored = ident_digest(&e.name, &row_last4(store, e)?);
            let same: bool = stored.ct_eq(&given).into();
            if same {
                matches.push(e.id);
            }
        }
        if matches.is_empty() {
            return Err(StoreError::validation(
                "SURVEY_NOT_ON_ROSTER",
                "姓名或身份证号后4位与花名册不符",
                "name",
            ));
        }
        // Two trainees with the same name and last 4 characters: the first who has not answered.
        let answered: HashSet<i64> = respondent::Entity::find()
            .filter(respondent::Column::FilingId.eq(f.id))
            .filter(respondent::Column::RosterEntryId.is_in(matches.clone()))
            .all(&txn)
            .await?
            .into_iter()
            .map(|r| r.roster_entry_id)
            .collect();
        let Some(entry_id) = matches.iter().copied().find(|id| !answered.contains(id)) else {
            return Err(StoreError::conflict(
                "SURVEY_ALREADY_ANSWERED",
                "您已提交过问卷",
                "name",
            ));
        };
        respondent::ActiveModel {
            filing_id: Set(f.id),
            roster_entry_id: Set(entry_id),
        }
        .insert(&txn)
        .await
        .map_err(|e| crate::map_unique(e, "SURVEY_ALREADY_ANSWERED", "您已提交过问卷", "name"))?;
        let json = serde_json::to_string(&answer)
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
        response::ActiveModel {
            id: Set(random_hex()),
            filing_id: Set(f.id),
            submitted_on: Set(day),
            answers: Set(json),
            overall: Set(i32::from(overall)),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    })
}
