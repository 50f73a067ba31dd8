//! Exam results (考试结果, R-CRT-1): per trainee 合格 / 不合格 / 缺考, a score where given and the
//! exam date. Entered by the class's institution on a page (one row a trainee) or imported from
//! .xlsx/.csv, once the class's training is complete (TrainingComplete / Completed), and corrected
//! until the centre confirms them ([`crate::certificates::confirm_results`]). Every change is one
//! write transaction with an audit row.
//!
//! * **Imports are all or nothing (S22)** like the roster's ([`crate::roster::import_roster`]):
//!   every row is checked — an unknown or malformed ID number, a trainee not on this class's
//!   roster, a name that is not the roster's, a duplicate row, a result outside the list, a bad
//!   score or date — and a file with any bad row changes nothing and lists every bad row.
//! * **Matching by keyed hash.** Import rows find their trainee through
//!   [`RosterKey::person_key`] compared with `roster_entries.person_key`; the ID number column is
//!   never read here. Pages show the masked ID from [`crate::roster::list_roster`].
//! * **Access (S6).** The centre and the class's own institution read results; only the
//!   institution writes them. Anyone else is refused like on other class routes.

use crate::filing_package::package;
use crate::filings::parse_class_state;
use crate::roster::{RosterKey, entry};
use crate::workflow_glue::{is_centre, today, with_retry};
use crate::{Actor, FieldProblem, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::certificate::{ExamOutcome, ExamScore, check_result};
use peixun_domain::ids::PersonId;
use peixun_domain::role::Role;
use peixun_domain::roster::RowProblem;
use peixun_domain::workflow::class::ClassState;
use peixun_import::FileType;
use peixun_import::results::{COL_DATE, COL_ID, COL_NAME, COL_RESULT, COL_SCORE};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

mod worklist;
pub(crate) use worklist::work_items;

/// The `exam_results` table.
pub mod exam_result {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "exam_results")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub filing_id: i64,
        pub roster_entry_id: i64,
        /// pass / fail / absent ([`peixun_domain::certificate::ExamOutcome::code`]).
        pub result: String,
        /// Exact decimal text, e.g. "88.5".
        pub score: Option<String>,
        pub exam_date: Date,
        pub updated_by: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `result_confirmations` table: the centre confirmed a class's results.
pub mod confirmation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "result_confirmations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub filing_id: i64,
        pub confirmed_by: String,
        pub confirmed_at: DateTimeUtc,
        /// A confirmed violation covered the class at confirmation: no codes (R-VIO-2).
        pub codes_withheld: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Largest results file accepted.
pub const MAX_RESULTS_BYTES: usize = 4 * 1024 * 1024;

/// May `viewer` read this class's results and certificates? The centre and the class's own
/// institution (and the system); nobody else (S6).
pub fn may_read(viewer: &Actor, institution_id: i64) -> bool {
    viewer.is_system()
        || is_centre(viewer)
        || (viewer.role.is_some_and(Role::is_institution)
            && viewer.institution_id == Some(institution_id))
}

pub(crate) fn is_own_institution(actor: &Actor, institution_id: i64) -> bool {
    actor.role.is_some_and(Role::is_institution) && actor.institution_id == Some(institution_id)
}

/// The class (filing row) if `viewer` may read its results, else NotFound / Forbidden.
pub(crate) async fn load_class<C: ConnectionTrait>(
    db: &C,
    viewer: &Actor,
    filing_id: i64,
) -> Result<crate::entity::filing::Model> {
    let f = crate::entity::filing::Entity::find_by_id(filing_id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound { entity: "class" })?;
    if !may_read(viewer, f.institution_id) {
        return Err(StoreError::forbidden("无权查看该班次的考试结果"));
    }
    Ok(f)
}

/// Results may be entered in this state: training complete (exam held) or completed, codes not
/// yet issued.
pub fn results_open(state: &ClassState) -> bool {
    matches!(
        state,
        ClassState::TrainingComplete { .. }
            | ClassState::Completed {
                certificates_issued: false,
                ..
            }
    )
}

/// One roster trainee as results need them (never the ID number).
#[derive(Debug, Clone)]
pub(crate) struct RosterRow {
    pub entry_id: i64,
    pub row_number: i32,
    pub name: String,
    pub person_key: String,
}

/// The package id of a class (its roster's).
pub(crate) async fn package_of<C: ConnectionTrait>(db: &C, filing_id: i64) -> Result<Option<i64>> {
    Ok(package::Entity::find()
        .filter(package::Column::FilingId.eq(filing_id))
        .select_only()
        .column(package::Column::Id)
        .into_tuple::<i64>()
        .one(db)
        .await?)
}

/// The class's current roster in roster order (row number, then id): id, row, name, person key.
pub(crate) async fn roster_rows<C: ConnectionTrait>(
    db: &C,
    filing_id: i64,
) -> Result<Vec<RosterRow>> {
    let Some(pid) = package_of(db, filing_id).await? else {
        return Ok(Vec::new());
    };
    let rows: Vec<(i64, i32, String, String)> = entry::Entity::find()
        .filter(entry::Column::PackageId.eq(pid))
        .filter(entry::Column::Pending.eq(false))
        .order_by_asc(entry::Column::RowNumber)
        .order_by_asc(entry::Column::Id)
        .select_only()
        .column(entry::Column::Id)
        .column(entry::Column::RowNumber)
        .column(entry::Column::Name)
        .column(entry::Column::PersonKey)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(entry_id, row_number, name, person_key)| RosterRow {
            entry_id,
            row_number,
            name,
            person_key,
        })
        .collect())
}

pub(crate) async fn results_of<C: ConnectionTrait>(
    db: &C,
    filing_id: i64,
) -> Result<HashMap<i64, exam_result::Model>> {
    Ok(exam_result::Entity::find()
        .filter(exam_result::Column::FilingId.eq(filing_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.roster_entry_id, r))
        .collect())
}

pub(crate) async fn confirmation_of<C: ConnectionTrait>(
    db: &C,
    filing_id: i64,
) -> Result<Option<confirmation::Model>> {
    Ok(confirmation::Entity::find_by_id(filing_id).one(db).await?)
}

/// One trainee's row on the results page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultRowView {
    pub entry_id: i64,
    pub row_number: u32,
    pub name: String,
    /// Masked (R-PII-1, S13), from the roster's view.
    pub id_number_masked: String,
    /// pass / fail / absent; `None` while not entered.
    pub result: Option<String>,
    pub result_label: String,
    pub score: Option<String>,
    pub exam_date: Option<NaiveDate>,
    /// The certificate code, once issued.
    pub certificate_code: Option<String>,
    pub certificate_status: Option<String>,
}

/// A class's results as the page and the API show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassResults {
    pub filing_id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub occupation: String,
    pub level: String,
    pub status: String,
    pub status_label: String,
    pub exam_completed_on: Option<NaiveDate>,
    pub rows: Vec<ResultRowView>,
    pub entered: usize,
    pub passed: usize,
    pub failed: usize,
    pub absent: usize,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Confirmed while a confirmed violation covered the class: no codes (R-VIO-2).
    pub codes_withheld: bool,
    pub certificates_issued: bool,
    /// The viewer may enter or correct results now.
    pub may_edit: bool,
    /// The viewer may confirm (or, after a withheld confirmation, issue) now.
    pub may_confirm: bool,
    /// Why the viewer may not edit / confirm, when that is the case (for the page).
    pub note: Option<String>,
}

/// R-CRT-1: a class's results (S6: the centre and the class's institution).
pub async fn get_results(
    store: &Store,
    viewer: &Actor,
    filing_id: i64,
    _now: DateTime<Utc>,
) -> Result<ClassResults> {
    let db = store.db();
    let f = load_class(db, viewer, filing_id).await?;
    let state = parse_class_state(&f.state);
    let roster = match package_of(db, f.id).await? {
        Some(pid) => crate::roster::list_roster(store, viewer, pid, false).await?,
        None => Vec::new(),
    };
    let results = results_of(db, f.id).await?;
    let certs: HashMap<i64, (String, String)> = crate::certificates::cert::Entity::find()
        .filter(crate::certificates::cert::Column::FilingId.eq(f.id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.roster_entry_id, (c.code, c.status)))
        .collect();
    let conf = confirmation_of(db, f.id).await?;
    let progress = crate::running::load_progress(db, f.id).await?;
    let name = crate::rounds::institution_names(db, [f.institution_id])
        .await?
        .remove(&f.institution_id)
        .unwrap_or_default();
    let mut rows = Vec::with_capacity(roster.len());
    let (mut passed, mut failed, mut absent) = (0, 0, 0);
    for t in roster {
        let r = results.get(&t.id);
        let outcome = r.and_then(|r| ExamOutcome::parse(&r.result));
        match outcome {
            Some(ExamOutcome::Pass) => passed += 1,
            Some(ExamOutcome::Fail) => failed += 1,
            Some(ExamOutcome::Absent) => absent += 1,
            None => {}
        }
        let cert = certs.get(&t.id);
        rows.push(ResultRowView {
            entry_id: t.id,
            row_number: t.row_number,
            name: t.name,
            id_number_masked: t.id_number_masked,
            result: outcome.map(|o| o.code().to_string()),
            result_label: outcome
                .map(|o| o.label_zh())
                .unwrap_or("未录入")
                .to_string(),
            score: r.and_then(|r| r.score.clone()),
            exam_date: r.map(|r| r.exam_date),
            certificate_code: cert.map(|c| c.0.clone()),
            certificate_status: cert.map(|c| c.1.clone()),
        });
    }
    let entered = passed + failed + absent;
    let issued = matches!(
        state,
        ClassState::Completed {
            certificates_issued: true,
            ..
        } | ClassState::Archived {
            certificates_issued: true,
            ..
        }
    );
    let open = results_open(&state) && conf.is_none();
    let may_edit = open && is_own_institution(viewer, f.institution_id);
    let completed_not_issued = matches!(
        state,
        ClassState::Completed {
            certificates_issued: false,
            ..
        }
    );
    let may_confirm = is_centre(viewer)
        && completed_not_issued
        && !rows.is_empty()
        && entered == rows.len()
        && conf.as_ref().is_none_or(|c| c.codes_withheld);
    let note = if conf.is_some() {
        Some("考试结果已由区培训中心确认，不能再修改".to_string())
    } else if !results_open(&state) && !issued {
        Some(format!(
            "班次状态为“{}”，培训完成（考试举行）后才能录入考试结果",
            state.label_zh()
        ))
    } else if is_centre(viewer) && !completed_not_issued {
        Some("培训机构完成考试（班次已完成）后才能确认考试结果".to_string())
    } else if is_centre(viewer) && entered < rows.len() {
        Some(format!(
            "还有{}名学员未录入考试结果，全部录入后才能确认",
            rows.len() - entered
        ))
    } else {
        None
    };
    Ok(ClassResults {
        filing_id: f.id,
        institution_id: f.institution_id,
        institution_name: name,
        occupation: f.occupation,
        level: f.level,
        status: state.code().to_string(),
        status_label: state.label_zh().to_string(),
        exam_completed_on: progress.and_then(|p| p.exam_completed_on),
        rows,
        entered,
        passed,
        failed,
        absent,
        confirmed_by: conf.as_ref().map(|c| c.confirmed_by.clone()),
        confirmed_at: conf.as_ref().map(|c| c.confirmed_at),
        codes_withheld: conf.as_ref().is_some_and(|c| c.codes_withheld),
        certificates_issued: issued,
        may_edit,
        may_confirm,
        note,
    })
}

/// One trainee's result as entered on the page or sent to the API. Cells are text so that
/// every problem is reported with its row (R-VAL-1); all three empty clears the result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultInput {
    pub entry_id: i64,
    /// pass / fail / absent, or 合格 / 不合格 / 缺考.
    #[serde(default)]
    pub result: String,
    #[serde(default)]
    pub score: String,
    /// YYYY-MM-DD; empty: the class's exam completion date.
    #[serde(default)]
    pub exam_date: String,
}

/// A checked result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checked {
    pub outcome: ExamOutcome,
    pub score: Option<ExamScore>,
    pub exam_date: NaiveDate,
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Some(d);
        }
    }
    None
}

/// Check one row's cells; problems are pushed as `(column, code, message)`.
fn check_cells(
    result: &str,
    score: &str,
    date: &str,
    default_date: Option<NaiveDate>,
    start: NaiveDate,
    today: NaiveDate,
    problems: &mut Vec<(&'static str, &'static str, String)>,
) -> Option<Checked> {
    let outcome = if result.trim().is_empty() {
        problems.push((
            "考试结果",
            "RESULT_REQUIRED",
            "请选择考试结果（合格/不合格/缺考）".into(),
        ));
        None
    } else {
        let o = ExamOutcome::parse(result);
        if o.is_none() {
            problems.push((
                "考试结果",
                "RESULT_INVALID",
                format!("考试结果“{}”无效，须为合格、不合格或缺考", result.trim()),
            ));
        }
        o
    };
    let score = if score.trim().is_empty() {
        Some(None)
    } else {
        match ExamScore::parse(score) {
            Ok(s) => Some(Some(s)),
            Err(e) => {
                problems.push(("成绩", "RESULT_SCORE", e.to_string()));
                None
            }
        }
    };
    let exam_date = if date.trim().is_empty() {
        match default_date {
            Some(d) => Some(d),
            None => {
                problems.push(("考试日期", "RESULT_DATE_REQUIRED", "请填写考试日期".into()));
                None
            }
        }
    } else {
        match parse_date(date) {
            None => {
                problems.push((
                    "考试日期",
                    "RESULT_DATE",
                    format!("考试日期“{}”格式不正确，须为YYYY-MM-DD", date.trim()),
                ));
                None
            }
            Some(d) if d > today => {
                problems.push((
                    "考试日期",
                    "RESULT_DATE_FUTURE",
                    format!("考试日期{d}晚于今天，考试举行后才能录入结果"),
                ));
                None
            }
            Some(d) if d < start => {
                problems.push((
                    "考试日期",
                    "RESULT_DATE_BEFORE_START",
                    format!("考试日期{d}早于开班日期{start}"),
                ));
                None
            }
            Some(d) => Some(d),
        }
    };
    let (outcome, score, exam_date) = (outcome?, score?, exam_date?);
    if let Err(m) = check_result(outcome, score) {
        problems.push(("成绩", "RESULT_SCORE_ABSENT", m.to_string()));
        return None;
    }
    Some(Checked {
        outcome,
        score,
        exam_date,
    })
}

/// Load the class for a results write by `actor` inside `txn` (locked on PostgreSQL): the
/// class's own institution, results open and not confirmed.
async fn load_for_write(
    store: &Store,
    txn: &DatabaseTransaction,
    actor: &Actor,
    filing_id: i64,
) -> Result<crate::entity::filing::Model> {
    let f = crate::running::load_for_action(store, txn, actor, filing_id).await?;
    if !is_own_institution(actor, f.institution_id) {
        return Err(StoreError::forbidden(
            "只有本班次的培训机构可以录入考试结果",
        ));
    }
    let state = parse_class_state(&f.state);
    if !results_open(&state) {
        return Err(StoreError::conflict(
            "RESULTS_NOT_OPEN",
            format!(
                "班次状态为“{}”，培训完成（考试举行）后、证书编码发放前才能录入考试结果",
                state.label_zh()
            ),
            "results",
        ));
    }
    if confirmation_of(txn, f.id).await?.is_some() {
        return Err(StoreError::conflict(
            "RESULTS_CONFIRMED",
            "考试结果已由区培训中心确认，不能再修改",
            "results",
        ));
    }
    Ok(f)
}

fn result_json(r: &exam_result::Model) -> serde_json::Value {
    serde_json::json!({
        "entry_id": r.roster_entry_id,
        "result": r.result,
        "score": r.score,
        "exam_date": r.exam_date,
    })
}

/// Write checked results (`None` clears) inside `txn` and append one audit row listing every
/// change. Returns how many rows changed.
async fn write_results(
    txn: &DatabaseTransaction,
    actor: &Actor,
    filing_id: i64,
    rows: &[(i64, Option<Checked>)],
    audit_action: &str,
    extra: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<usize> {
    let existing = results_of(txn, filing_id).await?;
    let mut old = Vec::new();
    let mut new = Vec::new();
    for (entry_id, checked) in rows {
        let cur = existing.get(entry_id);
        match (cur, checked) {
            (None, None) => {}
            (Some(c), None) => {
                exam_result::Entity::delete_by_id(c.id).exec(txn).await?;
                old.push(result_json(c));
                new.push(serde_json::json!({ "entry_id": entry_id, "result": null }));
            }
            (cur, Some(ch)) => {
                let score = ch.score.map(|s| s.to_string());
                if let Some(c) = cur
                    && c.result == ch.outcome.code()
                    && c.score == score
                    && c.exam_date == ch.exam_date
                {
                    continue;
                }
                let am = exam_result::ActiveModel {
                    filing_id: Set(filing_id),
                    roster_entry_id: Set(*entry_id),
                    result: Set(ch.outcome.code().to_string()),
                    score: Set(score),
                    exam_date: Set(ch.exam_date),
                    updated_by: Set(actor.username.clone()),
                    updated_at: Set(now),
                    ..Default::default()
                };
                let m = match cur {
                    Some(c) => {
                        old.push(result_json(c));
                        exam_result::ActiveModel {
                            id: Set(c.id),
                            ..am
                        }
                        .update(txn)
                        .await?
                    }
                    None => {
                        old.push(serde_json::json!({ "entry_id": entry_id, "result": null }));
                        am.insert(txn).await?
                    }
                };
                new.push(result_json(&m));
            }
        }
    }
    let changed = new.len();
    if changed > 0 {
        audit::append(
            txn,
            actor,
            audit_action,
            "class",
            Some(filing_id.to_string()),
            Some(serde_json::json!({ "results": old })),
            Some(serde_json::json!({ "results": new, "detail": extra })),
            now,
        )
        .await?;
    }
    Ok(changed)
}

/// R-CRT-1: the institution enters or corrects results on the page (or the API). Every row is
/// checked first; any problem refuses the whole save with every problem (field
/// `rows[i].result|score|exam_date`) and nothing changes. Returns how many rows changed.
pub async fn save_results(
    store: &Store,
    actor: &Actor,
    filing_id: i64,
    input: &[ResultInput],
    now: DateTime<Utc>,
) -> Result<usize> {
    let now = db_time(now);
    let day = today(now);
    with_retry!({
        let txn = store.begin_write().await?;
        let f = load_for_write(store, &txn, actor, filing_id).await?;
        let roster = roster_rows(&txn, f.id).await?;
        let by_id: HashMap<i64, &RosterRow> = roster.iter().map(|r| (r.entry_id, r)).collect();
        let exam_day = crate::running::load_progress(&txn, f.id)
            .await?
            .and_then(|p| p.exam_completed_on);
        let mut problems: Vec<FieldProblem> = Vec::new();
        let mut seen = HashSet::new();
        let mut rows = Vec::with_capacity(input.len());
        for (i, r) in input.iter().enumerate() {
            let Some(t) = by_id.get(&r.entry_id) else {
                problems.push(FieldProblem::new(
                    "RESULT_NOT_IN_CLASS",
                    format!("第{}项：学员不在本班花名册中", i + 1),
                    &format!("rows[{i}].entry_id"),
                ));
                continue;
            };
            if !seen.insert(r.entry_id) {
                problems.push(FieldProblem::new(
                    "RESULT_DUPLICATE",
                    format!("{}的考试结果重复提交", t.name),
                    &format!("rows[{i}].entry_id"),
                ));
                continue;
            }
            if r.result.trim().is_empty()
                && r.score.trim().is_empty()
                && r.exam_date.trim().is_empty()
            {
                rows.push((r.entry_id, None));
                continue;
            }
            let mut ps = Vec::new();
            let c = check_cells(
                &r.result,
                &r.score,
                &r.exam_date,
                exam_day,
                f.start_date,
                day,
                &mut ps,
            );
            for (col, code, msg) in ps {
                let field = match col {
                    "考试结果" => "result",
                    "成绩" => "score",
                    _ => "exam_date",
                };
                problems.push(FieldProblem::new(
                    code,
                    format!("第{}行 {}：{msg}", t.row_number, t.name),
                    &format!("rows[{i}].{field}"),
                ));
            }
            if let Some(c) = c {
                rows.push((r.entry_id, Some(c)));
            }
        }
        StoreError::check(problems)?;
        let n = write_results(
            &txn,
            actor,
            f.id,
            &rows,
            "results.save",
            serde_json::json!({ "rows": input.len() }),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(n)
    })
}

/// What a results import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ResultImportOutcome {
    Imported {
        rows: usize,
        changed: usize,
    },
    /// Nothing changed; every bad row is listed.
    Refused {
        problems: Vec<RowProblem>,
    },
}

fn refused(code: &'static str, message: impl Into<String>) -> ResultImportOutcome {
    ResultImportOutcome::Refused {
        problems: vec![RowProblem {
            row_number: None,
            column: None,
            code,
            message: message.into(),
        }],
    }
}

/// R-CRT-1, S22: import results from an .xlsx/.csv sheet (姓名, 证件号码, 考试结果, 成绩, 考试日期).
/// All or nothing: any bad row (malformed ID number, a trainee not on this class's roster, a
/// name that differs from the roster, a duplicate, a result outside the list, a bad score or
/// date) refuses the file with every bad row listed, and nothing changes. Trainees the file
/// does not mention keep their results.
#[allow(clippy::too_many_arguments)]
pub async fn import_results(
    store: &Store,
    actor: &Actor,
    key: &RosterKey,
    filing_id: i64,
    bytes: &[u8],
    declared: Option<FileType>,
    now: DateTime<Utc>,
) -> Result<ResultImportOutcome> {
    let now = db_time(now);
    let day = today(now);
    // Refuse early (S6, state) before parsing anything.
    {
        let f = load_class(store.db(), actor, filing_id).await?;
        if !is_own_institution(actor, f.institution_id) {
            return Err(StoreError::forbidden(
                "只有本班次的培训机构可以导入考试结果",
            ));
        }
    }
    if bytes.len() > MAX_RESULTS_BYTES {
        return Ok(refused(
            "IMPORT_TOO_LARGE",
            format!("成绩表文件不能超过{} MB", MAX_RESULTS_BYTES / 1024 / 1024),
        ));
    }
    // Parsing and the keyed hashes are CPU work: off the async workers, outside the transaction.
    let (body, k) = (bytes.to_vec(), key.clone());
    let parsed = tokio::task::spawn_blocking(move || {
        peixun_import::results::read_results(&body, declared).map(|raw| {
            let keyed: Vec<Option<String>> = raw
                .iter()
                .map(|r| {
                    let id = r.cells.get(COL_ID).map(String::as_str).unwrap_or("");
                    PersonId::parse(id).ok().map(|p| k.person_key(p.as_str()))
                })
                .collect();
            (raw, keyed)
        })
    })
    .await
    .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("import task: {e}"))))?;
    let (raw, keyed) = match parsed {
        Ok(r) => r,
        Err(e) => return Ok(refused(e.code, e.message)),
    };
    if raw.is_empty() {
        return Ok(refused("IMPORT_EMPTY", "成绩表中没有学员行"));
    }
    with_retry!({
        let txn = store.begin_write().await?;
        let f = load_for_write(store, &txn, actor, filing_id).await?;
        let roster = roster_rows(&txn, f.id).await?;
        let by_key: HashMap<&str, &RosterRow> =
            roster.iter().map(|r| (r.person_key.as_str(), r)).collect();
        let exam_day = crate::running::load_progress(&txn, f.id)
            .await?
            .and_then(|p| p.exam_completed_on);
        let mut problems: Vec<RowProblem> = Vec::new();
        let mut seen: BTreeMap<i64, u32> = BTreeMap::new();
        let mut rows = Vec::with_capacity(raw.len());
        for (r, k) in raw.iter().zip(&keyed) {
            let n = r.row_number;
            let cell = |c: usize| r.cells.get(c).map(String::as_str).unwrap_or("");
            let mut push = |column: &'static str, code: &'static str, message: String| {
                problems.push(RowProblem {
                    row_number: Some(n),
                    column: Some(column),
                    code,
                    message: format!("第{n}行：{message}"),
                })
            };
            let trainee = match k {
                None => {
                    push(
                        "证件号码",
                        "RESULT_ID_INVALID",
                        if cell(COL_ID).is_empty() {
                            "证件号码为空".into()
                        } else {
                            "证件号码无效（格式或校验位不正确）".into()
                        },
                    );
                    None
                }
                Some(k) => match by_key.get(k.as_str()) {
                    None => {
                        push(
                            "证件号码",
                            "RESULT_NOT_IN_CLASS",
                            format!("{}不在本班花名册中", cell(COL_NAME)),
                        );
                        None
                    }
                    Some(t) => {
                        if let Some(first) = seen.get(&t.entry_id) {
                            push(
                                "证件号码",
                                "RESULT_DUPLICATE",
                                format!("与第{first}行是同一学员，重复填写"),
                            );
                            None
                        } else {
                            seen.insert(t.entry_id, n);
                            if cell(COL_NAME) != t.name {
                                push(
                                    "姓名",
                                    "RESULT_NAME_MISMATCH",
                                    format!("姓名“{}”与花名册（{}）不一致", cell(COL_NAME), t.name),
                                );
                                None
                            } else {
                                Some(*t)
                            }
                        }
                    }
                },
            };
            let mut ps = Vec::new();
            let c = check_cells(
                cell(COL_RESULT),
                cell(COL_SCORE),
                cell(COL_DATE),
                exam_day,
                f.start_date,
                day,
                &mut ps,
            );
            for (col, code, msg) in ps {
                push(col, code, msg);
            }
            if let (Some(t), Some(c)) = (trainee, c) {
                rows.push((t.entry_id, Some(c)));
            }
        }
        if !problems.is_empty() {
            // Nothing written: the transaction is dropped (rolled back).
            return Ok(ResultImportOutcome::Refused { problems });
        }
        let changed = write_results(
            &txn,
            actor,
            f.id,
            &rows,
            "results.import",
            serde_json::json!({ "rows": rows.len() }),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(ResultImportOutcome::Imported {
            rows: rows.len(),
            changed,
        })
    })
}

/// The results template (.csv with the header row).
pub fn template_csv() -> Vec<u8> {
    peixun_import::results::results_template_csv()
}
