//! Stored archive completeness per class (R-ARC-2; issue 12 item 3): `archive_progress` holds
//! the present and required document counts of each class after training, so that the work
//! lists read one indexed row per incomplete class instead of every roster row of every class
//! after training.
//!
//! * `archive_progress(filing_id PK → filings, institution_id, present, required, complete)`;
//! * index `ix_archive_progress_open(complete, institution_id)` — the incomplete classes, all
//!   or one institution's.
//!
//! The store keeps the rows in the write transactions that move them
//! (`peixun_store::archive`'s progress module); [`backfill`] computes them from the rosters and
//! documents of the existing classes.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

use super::columns::{big, boolean, int};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ArchiveProgress {
    Table,
    FilingId,
    InstitutionId,
    Present,
    Required,
    Complete,
}

#[derive(DeriveIden)]
enum Filings {
    Table,
    Id,
}

const INDEX: &str = "ix_archive_progress_open";

/// Set `archive_progress` from the rosters and documents of every class after training (the
/// migration runs it, and `seed --scale` after its bulk writes; idempotent).
pub async fn backfill<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    crate::archive::recount_progress(db)
        .await
        .map(|_| ())
        .map_err(|e| DbErr::Custom(format!("archive_progress backfill: {e}")))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ArchiveProgress::Table)
                    .if_not_exists()
                    .col(big(ArchiveProgress::FilingId).primary_key())
                    .col(big(ArchiveProgress::InstitutionId))
                    .col(int(ArchiveProgress::Present))
                    .col(int(ArchiveProgress::Required))
                    .col(boolean(ArchiveProgress::Complete))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_archive_progress_filing")
                            .from(ArchiveProgress::Table, ArchiveProgress::FilingId)
                            .to(Filings::Table, Filings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(ArchiveProgress::Table)
                    .col(ArchiveProgress::Complete)
                    .col(ArchiveProgress::InstitutionId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        backfill(manager.get_connection()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ArchiveProgress::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
