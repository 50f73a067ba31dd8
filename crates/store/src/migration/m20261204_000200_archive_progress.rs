//! Stored archive completeness per class (R-ARC-2; issue 12 item 3): `archive_progress` holds
//! the present and required document counts of each class after training, so that the work
//! lists read one indexed row per incomplete class instead of every roster row of every class
//! after training.
//!
//! * `archive_progress(filing_id PK → filings, institution_id, present, required, complete)`;
//! * index `ix_archive_progress_open(complete, institution_id)` — the incomplete classes, all
//!   or one institution's.
//!
//! Also indexes for the other home-page items that counted over whole tables (issue 12 item 3):
//! unread inbox messages per institution, open inspections, unacknowledged teacher changes,
//! undecided class flags, raised sanctions, one institution's agreements (R-RUN-3), the month's
//! reports (R-RUN-3).
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

/// The home page's other reads (module notes).
const READ_INDEXES: &[(&str, &str)] = &[
    (
        "ix_inbox_institution_unread",
        "CREATE INDEX IF NOT EXISTS ix_inbox_institution_unread \
         ON inbox_messages (institution_id, read_at)",
    ),
    (
        "ix_inspections_status_due",
        "CREATE INDEX IF NOT EXISTS ix_inspections_status_due \
         ON inspections (status, rectification_due)",
    ),
    (
        "ix_teacher_changes_open",
        "CREATE INDEX IF NOT EXISTS ix_teacher_changes_open \
         ON teacher_changes (acknowledged_at, effective_on)",
    ),
    (
        "ix_class_flags_open",
        "CREATE INDEX IF NOT EXISTS ix_class_flags_open ON class_flags (decided_at)",
    ),
    (
        "ix_overdue_sanctions_state",
        "CREATE INDEX IF NOT EXISTS ix_overdue_sanctions_state ON overdue_sanctions (state, id)",
    ),
    (
        "ix_agreements_institution",
        "CREATE INDEX IF NOT EXISTS ix_agreements_institution ON agreements (institution_id)",
    ),
    (
        "ix_monthly_reports_year_month",
        "CREATE INDEX IF NOT EXISTS ix_monthly_reports_year_month \
         ON monthly_reports (year, month, late)",
    ),
];

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
        let db = manager.get_connection();
        for (_, sql) in READ_INDEXES {
            db.execute_unprepared(sql).await?;
        }
        backfill(db).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in READ_INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
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
