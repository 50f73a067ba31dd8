//! The bulk path: rows built in memory are written with multi-row `INSERT`s of the store's own
//! entities (so every value is encoded exactly as the services encode it), as many rows per
//! statement as the backend's bound-parameter limit allows, one write transaction per batch.
//!
//! * SQLite: the writer connection runs with `synchronous=OFF` and a large page cache while
//!   seeding (a fresh database: a crash means seeding again), restored to `FULL` at the end.
//! * PostgreSQL: each batch's transaction runs with `synchronous_commit = off`; explicit ids
//!   are written, so each table's id sequence is moved past them after every batch (the
//!   services that run between batches take the next id from it).

use super::Progress;
use crate::{Backend, Result, Store};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Iterable, Statement};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Rows written to one table, and the time spent writing them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableStat {
    pub table: String,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
}

/// Tables whose primary key is not an `id` sequence.
const NO_SEQUENCE: &[&str] = &[
    "class_progress",
    "result_confirmations",
    "certificate_classes",
    "certificate_counters",
    "files",
];

pub(super) struct Bulk<'a> {
    store: &'a Store,
    progress: &'a dyn Progress,
    stats: BTreeMap<&'static str, (u64, Duration)>,
}

impl<'a> Bulk<'a> {
    pub async fn begin(store: &'a Store, progress: &'a dyn Progress) -> Result<Bulk<'a>> {
        if store.backend() == Backend::Sqlite {
            // The writer pool has exactly one connection: these stay set on it.
            for p in ["PRAGMA synchronous = OFF", "PRAGMA cache_size = -262144"] {
                store.write_db().execute_unprepared(p).await?;
            }
        }
        Ok(Bulk {
            store,
            progress,
            stats: BTreeMap::new(),
        })
    }

    /// Back to the settings every connection has (`Store::connect`).
    pub async fn finish(self) -> Result<Vec<TableStat>> {
        if self.store.backend() == Backend::Sqlite {
            for p in ["PRAGMA synchronous = FULL", "PRAGMA cache_size = -2000"] {
                self.store.write_db().execute_unprepared(p).await?;
            }
            self.store
                .write_db()
                .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
        }
        Ok(self
            .stats
            .into_iter()
            .map(|(t, (rows, d))| {
                let s = d.as_secs_f64();
                TableStat {
                    table: t.to_string(),
                    rows,
                    seconds: s,
                    rows_per_second: if s > 0.0 { rows as f64 / s } else { 0.0 },
                }
            })
            .collect())
    }

    /// The largest id in `table` (0 when empty): explicit ids continue from it.
    pub async fn max_id(&self, table: &str) -> Result<i64> {
        let backend = self.store.write_db().get_database_backend();
        let row = self
            .store
            .write_db()
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}"),
            ))
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<i64>("", "m")?,
            None => 0,
        })
    }

    /// Write `rows` into `table` (the entity's table) in batches.
    pub async fn insert<A>(&mut self, table: &'static str, rows: Vec<A>) -> Result<()>
    where
        A: ActiveModelTrait + Send,
    {
        if rows.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let n = rows.len() as u64;
        let cols = <<A::Entity as EntityTrait>::Column as Iterable>::iter()
            .count()
            .max(1);
        let limit = match self.store.backend() {
            Backend::Sqlite => 32_000,
            Backend::Postgres => 60_000,
        };
        let per_statement = (limit / cols).max(1);
        let per_txn = 50_000usize;
        let mut it = rows.into_iter().peekable();
        while it.peek().is_some() {
            let txn = self.store.begin_write().await?;
            if self.store.backend() == Backend::Postgres {
                txn.execute_unprepared("SET LOCAL synchronous_commit = off")
                    .await?;
            }
            let mut in_txn = 0;
            while in_txn < per_txn {
                let chunk: Vec<A> = it.by_ref().take(per_statement).collect();
                if chunk.is_empty() {
                    break;
                }
                let k = chunk.len();
                A::Entity::insert_many(chunk)
                    .exec_without_returning(&txn)
                    .await?;
                in_txn += k;
                self.progress.inc(k as u64);
            }
            txn.commit().await?;
        }
        if self.store.backend() == Backend::Postgres && !NO_SEQUENCE.contains(&table) {
            self.store
                .write_db()
                .execute_unprepared(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                ))
                .await?;
        }
        let e = self.stats.entry(table).or_default();
        e.0 += n;
        e.1 += started.elapsed();
        Ok(())
    }

    /// Count rows written by other means (a service, raw SQL) in the statistics.
    pub fn note(&mut self, table: &'static str, rows: u64, took: Duration) {
        let e = self.stats.entry(table).or_default();
        e.0 += rows;
        e.1 += took;
    }
}
