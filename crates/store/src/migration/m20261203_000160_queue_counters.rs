//! The quota queue's counters (R-FIL-6, SECURITY.md S9; issue 12): a submission decides its
//! filing with a bounded number of index lookups instead of reading the whole round.
//!
//! * `rounds.slots_held` — slots held in the round (= its `quota_slots` rows = its filings with
//!   `slot_state = 'holding'`);
//! * `rounds.next_slot_no` — one past the highest slot number ever handed out in the round;
//! * `quota_free_slots(round_id, slot_no)` — the numbers below `next_slot_no` that are free again
//!   (released by a withdrawal, rejection or cancellation). The lowest free number is the
//!   smallest of these, else `next_slot_no`;
//! * `agreements.slots_held` — slots held by the agreement's filings (its institution in its
//!   round), compared with `agreements.cap`;
//! * index `ix_filings_round_slot_queue(round_id, slot_state, queue_seq)` — the head of the
//!   waiting list in queue order without a sort; it replaces `ix_filings_round_slot_state`
//!   (its prefix).
//!
//! Every path that changes a filing's `slot_state` or a `quota_slots` row maintains them in the
//! same transaction (`peixun_store::queue`). [`backfill`] sets them from the existing rows;
//! `UNIQUE(round_id, slot_no)` and `UNIQUE(filing_id)` on `quota_slots` stay.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;

use super::columns::{big, int};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Rounds {
    Table,
    Id,
    SlotsHeld,
    NextSlotNo,
}

#[derive(DeriveIden)]
enum Agreements {
    Table,
    SlotsHeld,
}

#[derive(DeriveIden)]
enum QuotaFreeSlots {
    Table,
    RoundId,
    SlotNo,
}

#[derive(DeriveIden)]
enum Filings {
    Table,
    RoundId,
    SlotState,
    QueueSeq,
}

const OLD_INDEX: &str = "ix_filings_round_slot_state";
const NEW_INDEX: &str = "ix_filings_round_slot_queue";

/// Set the counters and the free slot numbers from the existing `filings`, `agreements` and
/// `quota_slots` rows (the migration runs it; idempotent).
pub async fn backfill<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    db.execute_unprepared(
        "UPDATE rounds SET \
           slots_held = (SELECT COUNT(*) FROM filings f \
                         WHERE f.round_id = rounds.id AND f.slot_state = 'holding'), \
           next_slot_no = 1 + COALESCE((SELECT MAX(q.slot_no) FROM quota_slots q \
                                        WHERE q.round_id = rounds.id), 0)",
    )
    .await?;
    db.execute_unprepared(
        "UPDATE agreements SET slots_held = (SELECT COUNT(*) FROM filings f \
           WHERE f.agreement_id = agreements.id AND f.slot_state = 'holding')",
    )
    .await?;
    db.execute_unprepared("DELETE FROM quota_free_slots")
        .await?;
    // The gaps below each round's highest slot number.
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT round_id, slot_no FROM quota_slots ORDER BY round_id, slot_no",
        ))
        .await?;
    let mut used: Vec<(i64, i32)> = Vec::with_capacity(rows.len());
    for r in rows {
        used.push((r.try_get("", "round_id")?, r.try_get("", "slot_no")?));
    }
    let insert = match backend {
        DbBackend::Postgres => "INSERT INTO quota_free_slots (round_id, slot_no) VALUES ($1, $2)",
        _ => "INSERT INTO quota_free_slots (round_id, slot_no) VALUES (?, ?)",
    };
    let mut i = 0;
    while i < used.len() {
        let round = used[i].0;
        let mut expect = 1;
        while i < used.len() && used[i].0 == round {
            for gap in expect..used[i].1 {
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    insert,
                    [round.into(), gap.into()],
                ))
                .await?;
            }
            expect = used[i].1 + 1;
            i += 1;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite: one column per ALTER TABLE.
        for col in [
            ColumnDef::new(Rounds::SlotsHeld)
                .integer()
                .not_null()
                .default(0)
                .take(),
            ColumnDef::new(Rounds::NextSlotNo)
                .integer()
                .not_null()
                .default(1)
                .take(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Rounds::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Agreements::Table)
                    .add_column(
                        ColumnDef::new(Agreements::SlotsHeld)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QuotaFreeSlots::Table)
                    .if_not_exists()
                    .col(big(QuotaFreeSlots::RoundId))
                    .col(int(QuotaFreeSlots::SlotNo))
                    .primary_key(
                        Index::create()
                            .col(QuotaFreeSlots::RoundId)
                            .col(QuotaFreeSlots::SlotNo),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quota_free_slots_round")
                            .from(QuotaFreeSlots::Table, QuotaFreeSlots::RoundId)
                            .to(Rounds::Table, Rounds::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(NEW_INDEX)
                    .table(Filings::Table)
                    .col(Filings::RoundId)
                    .col(Filings::SlotState)
                    .col(Filings::QueueSeq)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(OLD_INDEX)
                    .table(Filings::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        backfill(manager.get_connection()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(OLD_INDEX)
                    .table(Filings::Table)
                    .col(Filings::RoundId)
                    .col(Filings::SlotState)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(NEW_INDEX)
                    .table(Filings::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(QuotaFreeSlots::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Agreements::Table)
                    .drop_column(Agreements::SlotsHeld)
                    .to_owned(),
            )
            .await?;
        for col in [Rounds::SlotsHeld, Rounds::NextSlotNo] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Rounds::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
