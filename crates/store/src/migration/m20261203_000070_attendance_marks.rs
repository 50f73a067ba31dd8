//! R-RUN-2: attendance marks tied to roster rows (签到按花名册逐人登记).
//!
//! * `attendance_marks` — (attendance record, roster entry, present), UNIQUE per record and
//!   entry; deleted with its record (`ON DELETE CASCADE`); a roster entry with marks cannot be
//!   deleted (`RESTRICT`): a roster change carries the marks over first
//!   (`crate::attendance::carry_over_marks`).
//!
//! Records that exist at migration time kept their marks as free names in the JSON column
//! `attendance_records.marks` (`[{"trainee": "张三", "present": true}, …]`). [`move_json_marks`]
//! moves each mark whose name matches **exactly one** current (non-pending) roster entry of the
//! class's package into a row, and leaves the others — no package, no or several matching
//! names, the same entry twice — in the JSON column, where the views still show them. Nothing is
//! lost. A name is matched as written or, for the marks the old roster checklist wrote
//! (`姓名（440105********1234）`), by the part before `（`. The ID number is not read.

use sea_orm::{ConnectionTrait, DbErr, Statement};
use sea_orm_migration::prelude::*;
use std::collections::{HashMap, HashSet};

use super::columns::{big, boolean, pk as id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AttendanceRecords {
    Table,
    Id,
    Marks,
}

#[derive(DeriveIden)]
enum RosterEntries {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AttendanceMarks {
    Table,
    Id,
    AttendanceId,
    RosterEntryId,
    Present,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AttendanceMarks::Table)
                    .if_not_exists()
                    .col(id(AttendanceMarks::Id))
                    .col(big(AttendanceMarks::AttendanceId))
                    .col(big(AttendanceMarks::RosterEntryId))
                    .col(boolean(AttendanceMarks::Present))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attendance_marks_record")
                            .from(AttendanceMarks::Table, AttendanceMarks::AttendanceId)
                            .to(AttendanceRecords::Table, AttendanceRecords::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attendance_marks_entry")
                            .from(AttendanceMarks::Table, AttendanceMarks::RosterEntryId)
                            .to(RosterEntries::Table, RosterEntries::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_attendance_marks")
                    .table(AttendanceMarks::Table)
                    .col(AttendanceMarks::AttendanceId)
                    .col(AttendanceMarks::RosterEntryId)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_attendance_marks_entry")
                    .table(AttendanceMarks::Table)
                    .col(AttendanceMarks::RosterEntryId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        move_json_marks(manager.get_connection()).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(AttendanceMarks::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

/// The name a legacy mark names: as written, or the part before `（` of `姓名（masked ID）`.
fn names_of(trainee: &str) -> Vec<String> {
    let t = trainee.trim();
    let mut out = vec![t.to_string()];
    if t.ends_with('）')
        && let Some((name, _)) = t.split_once('（')
    {
        out.push(name.trim().to_string());
    }
    out
}

/// Move the free-name marks of every attendance record into `attendance_marks` rows where the
/// name matches exactly one current roster entry of the class's package (module doc). The marks
/// that stay are written back to the JSON column; a record whose JSON is not a list of marks is
/// left untouched. Idempotent: a second run finds nothing more to move.
pub async fn move_json_marks<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let records = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT a.id AS id, a.marks AS marks, p.id AS package_id \
             FROM attendance_records a JOIN filing_packages p ON p.filing_id = a.filing_id \
             WHERE a.marks <> '[]' ORDER BY a.id",
        ))
        .await?;
    let mut rosters: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    let mut moved = 0u64;
    for r in records {
        let att_id: i64 = r.try_get("", "id")?;
        let text: String = r.try_get("", "marks")?;
        let package_id: i64 = r.try_get("", "package_id")?;
        let Ok(serde_json::Value::Array(marks)) = serde_json::from_str(&text) else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = rosters.entry(package_id) {
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    match backend {
                        sea_orm::DbBackend::Postgres => {
                            "SELECT id, name FROM roster_entries \
                             WHERE package_id = $1 AND pending = $2 ORDER BY id"
                        }
                        _ => {
                            "SELECT id, name FROM roster_entries \
                             WHERE package_id = ? AND pending = ? ORDER BY id"
                        }
                    },
                    [package_id.into(), false.into()],
                ))
                .await?;
            let mut entries = Vec::new();
            for e in rows {
                entries.push((
                    e.try_get::<i64>("", "id")?,
                    e.try_get::<String>("", "name")?,
                ));
            }
            slot.insert(entries);
        }
        let entries = &rosters[&package_id];
        let existing: HashSet<i64> = {
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    match backend {
                        sea_orm::DbBackend::Postgres => {
                            "SELECT roster_entry_id FROM attendance_marks WHERE attendance_id = $1"
                        }
                        _ => "SELECT roster_entry_id FROM attendance_marks WHERE attendance_id = ?",
                    },
                    [att_id.into()],
                ))
                .await?;
            let mut s = HashSet::new();
            for e in rows {
                s.insert(e.try_get::<i64>("", "roster_entry_id")?);
            }
            s
        };
        let mut used = existing;
        let mut kept = Vec::new();
        let mut rows = Vec::new();
        for m in marks {
            let trainee = m.get("trainee").and_then(|v| v.as_str());
            let present = m.get("present").and_then(|v| v.as_bool());
            let (Some(trainee), Some(present)) = (trainee, present) else {
                kept.push(m);
                continue;
            };
            let entry = names_of(trainee).into_iter().find_map(|name| {
                let hits: Vec<i64> = entries
                    .iter()
                    .filter(|(_, n)| n.trim() == name)
                    .map(|(id, _)| *id)
                    .collect();
                (hits.len() == 1).then(|| hits[0])
            });
            match entry {
                Some(e) if used.insert(e) => rows.push((e, present)),
                _ => kept.push(m),
            }
        }
        if rows.is_empty() {
            continue;
        }
        let mut insert = Query::insert();
        insert.into_table(AttendanceMarks::Table).columns([
            AttendanceMarks::AttendanceId,
            AttendanceMarks::RosterEntryId,
            AttendanceMarks::Present,
        ]);
        for (e, present) in &rows {
            insert.values_panic([att_id.into(), (*e).into(), (*present).into()]);
        }
        db.execute(&insert).await?;
        let rest = serde_json::to_string(&kept)
            .map_err(|e| DbErr::Migration(format!("attendance marks as JSON: {e}")))?;
        db.execute(
            &Query::update()
                .table(AttendanceRecords::Table)
                .value(AttendanceRecords::Marks, rest)
                .and_where(Expr::col(AttendanceRecords::Id).eq(att_id))
                .to_owned(),
        )
        .await?;
        moved += rows.len() as u64;
    }
    Ok(moved)
}
