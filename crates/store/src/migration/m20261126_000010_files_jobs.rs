//! Uploaded files' metadata (SECURITY.md S16) and background-job bookkeeping (ARCHITECTURE.md
//! "jobs"): `files`, `job_runs` with UNIQUE(job, period) — the constraint decides which server
//! runs a period — and `job_leases` (one row per job: who holds it until when).

use sea_orm_migration::prelude::*;

use super::columns::{text, ts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Institutions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    Sha256,
    Size,
    Mime,
    OriginalName,
    Purpose,
    InstitutionId,
    UploadedBy,
    UploadedByUserId,
    UploadedAt,
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Id,
    Job,
    Period,
    Holder,
    ClaimedAt,
    FinishedAt,
    Outcome,
}

#[derive(DeriveIden)]
enum JobLeases {
    Table,
    Job,
    Holder,
    AcquiredAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .if_not_exists()
                    // The generated name on disk (32 hex characters): never the uploaded name.
                    .col(
                        ColumnDef::new(Files::Id)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(Files::Sha256))
                    .col(ColumnDef::new(Files::Size).big_integer().not_null())
                    .col(text(Files::Mime))
                    .col(text(Files::OriginalName))
                    .col(text(Files::Purpose))
                    .col(ColumnDef::new(Files::InstitutionId).big_integer().null())
                    .col(text(Files::UploadedBy))
                    .col(ColumnDef::new(Files::UploadedByUserId).big_integer().null())
                    .col(ts(Files::UploadedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_files_institution")
                            .from(Files::Table, Files::InstitutionId)
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_files_institution")
                    .table(Files::Table)
                    .col(Files::InstitutionId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobRuns::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(JobRuns::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(text(JobRuns::Job))
                    .col(text(JobRuns::Period))
                    .col(text(JobRuns::Holder))
                    .col(ts(JobRuns::ClaimedAt))
                    .col(
                        ColumnDef::new(JobRuns::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    // JSON text: the same on both backends.
                    .col(ColumnDef::new(JobRuns::Outcome).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_job_runs_job_period")
                    .table(JobRuns::Table)
                    .col(JobRuns::Job)
                    .col(JobRuns::Period)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JobLeases::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(JobLeases::Job)
                            .string_len(100)
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(JobLeases::Holder))
                    .col(ts(JobLeases::AcquiredAt))
                    .col(ts(JobLeases::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            JobLeases::Table.into_iden(),
            JobRuns::Table.into_iden(),
            Files::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
