//! R-ARC-1/R-ARC-2: the class archive (一期一档).
//!
//! * `archive_documents` — one file per (class, trainee, document kind); `roster_entry_id` is
//!   NULL for the class's own items (签到表, 考试资料, 花名册); `kind` is
//!   `peixun_domain::archive::DocKind::code` (`group:<name>` for a key-target group's proof).
//!   Uniqueness is two partial unique indexes (a NULL never equals a NULL in a plain UNIQUE
//!   index, on either backend): (filing, entry, kind) for trainees' documents and (filing, kind)
//!   for class items. A new upload replaces the row (the store deletes the old file after
//!   commit).

use sea_orm_migration::prelude::*;

use super::columns::{big, big_null, pk as id, text, ts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Filings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ArchiveDocuments {
    Table,
    Id,
    FilingId,
    RosterEntryId,
    Kind,
    FileId,
    UploadedBy,
    UploadedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ArchiveDocuments::Table)
                    .if_not_exists()
                    .col(id(ArchiveDocuments::Id))
                    .col(big(ArchiveDocuments::FilingId))
                    .col(big_null(ArchiveDocuments::RosterEntryId))
                    .col(text(ArchiveDocuments::Kind))
                    .col(text(ArchiveDocuments::FileId))
                    .col(text(ArchiveDocuments::UploadedBy))
                    .col(ts(ArchiveDocuments::UploadedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_archive_documents_filing")
                            .from(ArchiveDocuments::Table, ArchiveDocuments::FilingId)
                            .to(Filings::Table, Filings::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_archive_documents_file")
                            .from(ArchiveDocuments::Table, ArchiveDocuments::FileId)
                            .to(Files::Table, Files::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_archive_documents_trainee \
             ON archive_documents (filing_id, roster_entry_id, kind) \
             WHERE roster_entry_id IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_archive_documents_class \
             ON archive_documents (filing_id, kind) WHERE roster_entry_id IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ArchiveDocuments::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
