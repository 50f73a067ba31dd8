//! Holiday tables at run time (R-CAL-1).
//!
//! The tables live in `holiday_years`, one row per year. The tables the binary ships
//! (`BUILTIN_HOLIDAYS_TOML`, 2025 and 2026) are written there after the migrations, but never
//! over a year already in the database. A sysadmin loads later years (page, API or
//! `peixun calendar import FILE`) in the same TOML format: every line is checked
//! ([`peixun_domain::calendar::check_toml`]), then each year against the other loaded years.
//!
//! Every service that counts working days asks [`load`] for the calendar (a few rows: cheap, and
//! nothing is cached, so several servers sharing one PostgreSQL always agree).
//!
//! Replacing a year that decisions already used (a filing's R-FIL-3 deadline, a teacher change's
//! R-RUN-1 report-by date reached into it) needs a reason; the old table, the new one, the reason
//! and every deadline that moves go into the audit row.

use crate::entity::{filing, holiday_year, institution, teacher_change};
use crate::{Actor, Result, Store, StoreError, audit, db_time};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use peixun_domain::calendar::{
    BUILTIN_HOLIDAYS_TOML, Calendar, CalendarError, TomlProblem, YearTable, check_toml,
};
use peixun_domain::policy::Policy;
use peixun_domain::role::Role;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryOrder, Set,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// The most a pasted or uploaded holiday file may hold (a year is ~1 KiB).
pub const MAX_TOML_BYTES: usize = 64 * 1024;

/// The longest reason for replacing a used year.
const MAX_REASON_CHARS: usize = 500;

fn table_of(row: &holiday_year::Model) -> Result<YearTable> {
    serde_json::from_str(&row.table_json).map_err(|e| {
        StoreError::Db(DbErr::Custom(format!(
            "holiday table {} is unreadable: {e}",
            row.year
        )))
    })
}

/// The calendar of every loaded year.
pub async fn load<C: ConnectionTrait>(db: &C) -> Result<Calendar> {
    let mut cal = Calendar::empty();
    for row in holiday_year::Entity::find()
        .order_by_asc(holiday_year::Column::Year)
        .all(db)
        .await?
    {
        let t = table_of(&row)?;
        cal.add_year(t).map_err(|e| {
            StoreError::Db(DbErr::Custom(format!(
                "stored holiday table {} does not load: {e}",
                row.year
            )))
        })?;
    }
    Ok(cal)
}

/// Writes the shipped tables for the years not yet in the database (after the migrations, in
/// their transaction). A year a sysadmin loaded or replaced is left as it is.
pub(crate) async fn seed_builtin(txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<()> {
    let shipped = Calendar::from_toml(BUILTIN_HOLIDAYS_TOML)
        .map_err(|e| StoreError::Db(DbErr::Custom(format!("built-in holidays: {e}"))))?;
    let present: Vec<i32> = holiday_year::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|r| r.year)
        .collect();
    for t in shipped.years().filter(|t| !present.contains(&t.year)) {
        row(t, String::new(), true, &Actor::system("peixun"), None, now)
            .insert(txn)
            .await?;
    }
    Ok(())
}

fn row(
    t: &YearTable,
    source_toml: String,
    builtin: bool,
    actor: &Actor,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> holiday_year::ActiveModel {
    holiday_year::ActiveModel {
        year: Set(t.year),
        source: Set(t.source.clone()),
        table_json: Set(serde_json::to_string(t).unwrap_or_default()),
        source_toml: Set(source_toml),
        builtin: Set(builtin),
        loaded_by: Set(actor.username.clone()),
        loaded_by_user_id: Set(actor.user_id),
        loaded_at: Set(db_time(now)),
        reason: Set(reason),
    }
}

/// A loaded year, as the calendar page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearView {
    pub year: i32,
    pub source: String,
    /// Shipped with the system (not loaded by a person).
    pub builtin: bool,
    pub loaded_by: String,
    pub loaded_at: DateTime<Utc>,
    pub reason: Option<String>,
    /// Days off in the year's holiday periods (weekends inside them included).
    pub holiday_days: u32,
    /// Adjusted working weekend days (调休上班).
    pub adjusted_working_days: u32,
    /// Working days in the calendar year (needs only this year's table).
    pub working_days_in_year: u32,
    pub table: YearTable,
}

fn view(row: holiday_year::Model) -> Result<YearView> {
    let table = table_of(&row)?;
    let mut cal = Calendar::empty();
    cal.add_year(table.clone())
        .map_err(|e| StoreError::Db(DbErr::Custom(e.to_string())))?;
    let holiday_days = table
        .off
        .iter()
        .map(|r| (r.to - r.from).num_days() as u32 + 1)
        .sum();
    let mut working = 0;
    let mut d = NaiveDate::from_ymd_opt(row.year, 1, 1);
    while let Some(day) = d.filter(|d| d.year() == row.year) {
        if cal.is_working_day(day).unwrap_or(false) {
            working += 1;
        }
        d = day.succ_opt();
    }
    Ok(YearView {
        year: row.year,
        source: row.source,
        builtin: row.builtin,
        loaded_by: row.loaded_by,
        loaded_at: row.loaded_at,
        reason: row.reason,
        holiday_days,
        adjusted_working_days: table.working_days.len() as u32,
        working_days_in_year: working,
        table,
    })
}

/// Every loaded year, oldest first. Anyone signed in may read the calendar.
pub async fn years(store: &Store) -> Result<Vec<YearView>> {
    holiday_year::Entity::find()
        .order_by_asc(holiday_year::Column::Year)
        .all(store.db())
        .await?
        .into_iter()
        .map(view)
        .collect()
}

/// One loaded year.
pub async fn year(store: &Store, year: i32) -> Result<YearView> {
    let row = holiday_year::Entity::find_by_id(year)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound {
            entity: "holiday year",
        })?;
    view(row)
}

/// From 1 November (policy: the State Council publishes the next year's notice in the autumn),
/// the next year whose table is still missing; `None` before November or once it is loaded.
pub async fn next_year_missing(store: &Store, today: NaiveDate) -> Result<Option<i32>> {
    if today.month() < 11 {
        return Ok(None);
    }
    let next = today.year() + 1;
    let loaded = holiday_year::Entity::find_by_id(next)
        .one(store.db())
        .await?
        .is_some();
    Ok((!loaded).then_some(next))
}

/// What loading a year would do to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum YearChange {
    /// Not loaded yet.
    New,
    /// Loaded with exactly this table: nothing to do.
    Unchanged,
    /// Loaded with another table: it is replaced.
    Replace,
}

/// A deadline that a replacement moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MovedDeadline {
    /// `filing` (R-FIL-3 submission deadline) or `teacher_change` (R-RUN-1 report-by date).
    pub kind: &'static str,
    pub id: i64,
    /// The filing the deadline belongs to.
    pub filing_id: i64,
    /// Institution, occupation and level, for people.
    pub label: String,
    /// The start date (filing) or the date the change takes effect (teacher change).
    pub date: NaiveDate,
    pub old_deadline: Option<NaiveDate>,
    pub new_deadline: Option<NaiveDate>,
}

/// One year of an import, before it is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearPreview {
    pub table: YearTable,
    pub change: YearChange,
    /// Decisions already made reached into this year (a reason is needed to replace it).
    pub used: bool,
    /// Deadlines that the replacement moves.
    pub moved: Vec<MovedDeadline>,
}

/// What an import would do: every problem (nothing is saved while there is one), else each year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportPreview {
    pub problems: Vec<TomlProblem>,
    pub years: Vec<YearPreview>,
    /// A year that decisions used is replaced: the import needs a reason.
    pub reason_required: bool,
}

impl ImportPreview {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The days a deadline computation from `date` back to `deadline` looked at.
fn reached_year(deadline: Option<NaiveDate>, date: NaiveDate, year: i32) -> bool {
    let from = deadline.unwrap_or(date);
    (from.year()..=date.year()).contains(&year)
}

/// Deadlines computed under `old` and `new`; those that differ, and whether any decision under
/// `old` reached into one of `years`.
async fn deadlines_moved<C: ConnectionTrait>(
    db: &C,
    old: &Calendar,
    new: &Calendar,
    year: i32,
) -> Result<(bool, Vec<MovedDeadline>)> {
    // Each deadline under the policy version its decision used (R-POL-1): a filing's stored
    // version, a teacher change's version in force on the day it was reported.
    let history = crate::policies::PolicyHistory::load(db).await?;
    let fallback = Policy::haizhu_default();
    let names: BTreeMap<i64, String> = institution::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.name))
        .collect();
    let mut used = false;
    let mut moved = Vec::new();
    let filings = filing::Entity::find()
        .order_by_asc(filing::Column::Id)
        .all(db)
        .await?;
    let label = |f: &filing::Model| {
        format!(
            "{} {}（{}）",
            names.get(&f.institution_id).map_or("", String::as_str),
            f.occupation,
            f.level
        )
    };
    for f in &filings {
        let policy = history.by_version(&f.policy_version).unwrap_or(&fallback);
        let before = old.filing_deadline(f.start_date, policy).ok();
        let after = new.filing_deadline(f.start_date, policy).ok();
        if before.is_some() && reached_year(before, f.start_date, year) {
            used = true;
        }
        if before != after && (before.is_some() || after.is_some()) {
            moved.push(MovedDeadline {
                kind: "filing",
                id: f.id,
                filing_id: f.id,
                label: label(f),
                date: f.start_date,
                old_deadline: before,
                new_deadline: after,
            });
        }
    }
    let by_id: BTreeMap<i64, &filing::Model> = filings.iter().map(|f| (f.id, f)).collect();
    for c in teacher_change::Entity::find()
        .order_by_asc(teacher_change::Column::Id)
        .all(db)
        .await?
    {
        let policy = history.on(c.reported_on).unwrap_or(&fallback);
        let before = old.teacher_change_deadline(c.effective_on, policy).ok();
        let after = new.teacher_change_deadline(c.effective_on, policy).ok();
        if before.is_some() && reached_year(before, c.effective_on, year) {
            used = true;
        }
        if before != after && (before.is_some() || after.is_some()) {
            moved.push(MovedDeadline {
                kind: "teacher_change",
                id: c.id,
                filing_id: c.filing_id,
                label: by_id
                    .get(&c.filing_id)
                    .map(|f| label(f))
                    .unwrap_or_default(),
                date: c.effective_on,
                old_deadline: before,
                new_deadline: after,
            });
        }
    }
    Ok((used, moved))
}

async fn preview_on<C: ConnectionTrait>(db: &C, text: &str) -> Result<ImportPreview> {
    if text.len() > MAX_TOML_BYTES {
        return Err(StoreError::validation(
            "CAL_TOO_LARGE",
            format!(
                "节假日表不能超过 {} KiB（R-CAL-1），现为 {} KiB",
                MAX_TOML_BYTES / 1024,
                text.len().div_ceil(1024)
            ),
            "toml",
        ));
    }
    let check = check_toml(text);
    let mut problems = check.problems;
    let current = load(db).await?;
    // The other loaded years, then every year of the file on top: a day off in one table and a
    // working day in another is refused here.
    let mut base = current.clone();
    for t in &check.tables {
        base = base.without_year(t.year);
    }
    let mut next = base.clone();
    for t in &check.tables {
        if let Err(error) = next.add_year(t.clone()) {
            problems.push(TomlProblem {
                line: None,
                year: Some(t.year),
                error,
            });
        }
    }
    let mut years = Vec::new();
    if problems.is_empty() {
        for t in check.tables {
            let change = match current.year(t.year) {
                None => YearChange::New,
                Some(old) if *old == t => YearChange::Unchanged,
                Some(_) => YearChange::Replace,
            };
            let (used, moved) = if change == YearChange::Replace {
                deadlines_moved(db, &current, &replaced(&current, &t), t.year).await?
            } else {
                (false, Vec::new())
            };
            years.push(YearPreview {
                table: t,
                change,
                used,
                moved,
            });
        }
    }
    let reason_required = years
        .iter()
        .any(|y| y.change == YearChange::Replace && y.used);
    Ok(ImportPreview {
        problems,
        years,
        reason_required,
    })
}

/// `cal` without its table for `t.year`, then with `t` (checked against the other years by the
/// preview just before, so it loads; were it not to, the year reads as not loaded — never a guess).
fn replaced(cal: &Calendar, t: &YearTable) -> Calendar {
    let mut out = cal.without_year(t.year);
    let _ = out.add_year(t.clone());
    out
}

/// R-CAL-1: what loading `text` would do, without saving: every problem on its line, and for each
/// year whether it is new or replaces a loaded one, whether decisions used it, and which
/// deadlines move.
pub async fn preview(store: &Store, actor: &Actor, text: &str) -> Result<ImportPreview> {
    may_load(actor)?;
    preview_on(store.db(), text).await
}

fn may_load(actor: &Actor) -> Result<()> {
    if actor.is_system() || actor.role == Some(Role::Sysadmin) {
        Ok(())
    } else {
        Err(StoreError::forbidden("只有系统管理员可以载入节假日安排"))
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    /// Years written (new or replaced).
    pub loaded: Vec<i32>,
    /// Years already loaded with the same table.
    pub unchanged: Vec<i32>,
    pub moved: Vec<MovedDeadline>,
}

/// R-CAL-1: loads every year of `text` in one write transaction, or nothing. A problem with any
/// line refuses the whole file (`CAL_INVALID`, every problem listed); replacing a year that
/// decisions used needs `reason` (`CAL_REASON_REQUIRED`). Each written year is one audit row
/// with the old table, the new one, the reason and the deadlines that moved.
pub async fn import(
    store: &Store,
    actor: &Actor,
    text: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ImportOutcome> {
    may_load(actor)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(r) = reason
        && r.chars().count() > MAX_REASON_CHARS
    {
        return Err(StoreError::validation(
            "CAL_REASON_TOO_LONG",
            format!("替换原因不能超过{MAX_REASON_CHARS}字"),
            "reason",
        ));
    }
    let txn = store.begin_write().await?;
    let p = preview_on(&txn, text).await?;
    if !p.is_ok() {
        return Err(StoreError::from_problems(
            p.problems
                .iter()
                .map(|pr| crate::FieldProblem {
                    code: match pr.error {
                        CalendarError::Syntax(_) => "CAL_SYNTAX",
                        CalendarError::YearAlreadyLoaded(_) => "CAL_YEAR_TWICE",
                        _ => "CAL_INVALID",
                    },
                    message: match pr.line {
                        Some(l) => format!("第{l}行：{}", pr.error.message_zh()),
                        None => pr.error.message_zh(),
                    },
                    field: Some("toml".into()),
                })
                .collect(),
        ));
    }
    if p.reason_required && reason.is_none() {
        let years: Vec<String> = p
            .years
            .iter()
            .filter(|y| y.change == YearChange::Replace && y.used)
            .map(|y| y.table.year.to_string())
            .collect();
        return Err(StoreError::validation(
            "CAL_REASON_REQUIRED",
            format!(
                "{}年的节假日安排已被开班备案或师资变更的期限计算使用，替换须填写原因（R-CAL-1）",
                years.join("、")
            ),
            "reason",
        ));
    }
    let mut out = ImportOutcome {
        loaded: Vec::new(),
        unchanged: Vec::new(),
        moved: Vec::new(),
    };
    for y in p.years {
        if y.change == YearChange::Unchanged {
            out.unchanged.push(y.table.year);
            continue;
        }
        let old = holiday_year::Entity::find_by_id(y.table.year)
            .one(&txn)
            .await?;
        let old_json = match &old {
            Some(o) => Some(serde_json::to_value(table_of(o)?).unwrap_or_default()),
            None => None,
        };
        let am = row(
            &y.table,
            text.to_string(),
            false,
            actor,
            reason.map(str::to_string),
            now,
        );
        if old.is_some() {
            am.update(&txn).await?;
        } else {
            am.insert(&txn).await?;
        }
        audit::append(
            &txn,
            actor,
            if old.is_some() {
                "calendar.replace"
            } else {
                "calendar.load"
            },
            "holiday_year",
            Some(y.table.year.to_string()),
            old_json,
            Some(serde_json::json!({
                "table": y.table,
                "reason": reason,
                "used": y.used,
                "moved": y.moved,
            })),
            now,
        )
        .await?;
        out.loaded.push(y.table.year);
        out.moved.extend(y.moved);
    }
    txn.commit().await?;
    Ok(out)
}
