//! The filing package (R-FIL-1…5), its roster (R-FIL-2, S22) and the address / online-training
//! requests (R-FIL-7, R-FIL-8).
//!
//! * `filing_packages`: the institution's draft of one class under its agreement; `filing_id`
//!   is set (UNIQUE) when the package enters the quota queue — the filing row is created by the
//!   queue's one submit path, the package belongs to it from then on.
//! * `roster_entries`: one row per trainee; `pending` rows are a roster change awaiting the
//!   centre (R-RUN-2). `person_key` is the HMAC-SHA256 of the ID number (S14) for the
//!   cross-institution overlap check.
//! * `training_requests`: address and online-training requests with their evidence.

use sea_orm_migration::prelude::*;

use super::columns::{pk as id, text, ts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Institutions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Agreements {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Filings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FilingPackages {
    Table,
    Id,
    InstitutionId,
    AgreementId,
    FilingId,
    Occupation,
    Level,
    Hours,
    StartDate,
    PlannedEnd,
    Location,
    Mode,
    Teachers,
    Sessions,
    ExamContent,
    QuestionBankFileId,
    Documents,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RosterEntries {
    Table,
    Id,
    PackageId,
    Pending,
    RowNumber,
    Name,
    IdKind,
    IdNumber,
    PersonKey,
    Phone,
    Residence,
    Groups,
    Age,
    OverRetirement,
}

#[derive(DeriveIden)]
enum TrainingRequests {
    Table,
    Id,
    InstitutionId,
    Kind,
    State,
    Address,
    Reason,
    Details,
    Evidence,
    SubmittedBy,
    SubmittedByName,
    SubmittedAt,
    DecidedBy,
    DecidedAt,
    DecisionReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FilingPackages::Table)
                    .if_not_exists()
                    .col(id(FilingPackages::Id))
                    .col(
                        ColumnDef::new(FilingPackages::InstitutionId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FilingPackages::AgreementId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FilingPackages::FilingId)
                            .big_integer()
                            .null()
                            .unique_key(),
                    )
                    .col(text(FilingPackages::Occupation))
                    .col(text(FilingPackages::Level))
                    .col(text(FilingPackages::Hours))
                    .col(ColumnDef::new(FilingPackages::StartDate).date().null())
                    .col(ColumnDef::new(FilingPackages::PlannedEnd).date().null())
                    .col(text(FilingPackages::Location))
                    .col(text(FilingPackages::Mode))
                    .col(text(FilingPackages::Teachers))
                    .col(text(FilingPackages::Sessions))
                    .col(text(FilingPackages::ExamContent))
                    .col(
                        ColumnDef::new(FilingPackages::QuestionBankFileId)
                            .text()
                            .null(),
                    )
                    .col(text(FilingPackages::Documents))
                    .col(
                        ColumnDef::new(FilingPackages::CreatedBy)
                            .big_integer()
                            .null(),
                    )
                    .col(ts(FilingPackages::CreatedAt))
                    .col(ts(FilingPackages::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_filing_packages_institution")
                            .from(FilingPackages::Table, FilingPackages::InstitutionId)
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_filing_packages_agreement")
                            .from(FilingPackages::Table, FilingPackages::AgreementId)
                            .to(Agreements::Table, Agreements::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_filing_packages_filing")
                            .from(FilingPackages::Table, FilingPackages::FilingId)
                            .to(Filings::Table, Filings::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_filing_packages_institution")
                    .table(FilingPackages::Table)
                    .col(FilingPackages::InstitutionId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RosterEntries::Table)
                    .if_not_exists()
                    .col(id(RosterEntries::Id))
                    .col(
                        ColumnDef::new(RosterEntries::PackageId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RosterEntries::Pending).boolean().not_null())
                    .col(
                        ColumnDef::new(RosterEntries::RowNumber)
                            .integer()
                            .not_null(),
                    )
                    .col(text(RosterEntries::Name))
                    .col(text(RosterEntries::IdKind))
                    .col(text(RosterEntries::IdNumber))
                    .col(text(RosterEntries::PersonKey))
                    .col(text(RosterEntries::Phone))
                    .col(text(RosterEntries::Residence))
                    .col(text(RosterEntries::Groups))
                    .col(ColumnDef::new(RosterEntries::Age).integer().null())
                    .col(
                        ColumnDef::new(RosterEntries::OverRetirement)
                            .boolean()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_roster_entries_package")
                            .from(RosterEntries::Table, RosterEntries::PackageId)
                            .to(FilingPackages::Table, FilingPackages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_roster_entries_package")
                    .table(RosterEntries::Table)
                    .col(RosterEntries::PackageId)
                    .col(RosterEntries::Pending)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_roster_entries_person_key")
                    .table(RosterEntries::Table)
                    .col(RosterEntries::PersonKey)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TrainingRequests::Table)
                    .if_not_exists()
                    .col(id(TrainingRequests::Id))
                    .col(
                        ColumnDef::new(TrainingRequests::InstitutionId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(TrainingRequests::Kind))
                    .col(text(TrainingRequests::State))
                    .col(text(TrainingRequests::Address))
                    .col(text(TrainingRequests::Reason))
                    .col(text(TrainingRequests::Details))
                    .col(text(TrainingRequests::Evidence))
                    .col(
                        ColumnDef::new(TrainingRequests::SubmittedBy)
                            .big_integer()
                            .null(),
                    )
                    .col(text(TrainingRequests::SubmittedByName))
                    .col(ts(TrainingRequests::SubmittedAt))
                    .col(ColumnDef::new(TrainingRequests::DecidedBy).text().null())
                    .col(
                        ColumnDef::new(TrainingRequests::DecidedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(TrainingRequests::DecisionReason)
                            .text()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_training_requests_institution")
                            .from(TrainingRequests::Table, TrainingRequests::InstitutionId)
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_training_requests_institution")
                    .table(TrainingRequests::Table)
                    .col(TrainingRequests::InstitutionId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            TrainingRequests::Table.into_iden(),
            RosterEntries::Table.into_iden(),
            FilingPackages::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
