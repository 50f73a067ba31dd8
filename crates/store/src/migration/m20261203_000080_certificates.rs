//! R-CRT-1 / R-CRT-2: exam results, their confirmation, certificate codes; the violations tables
//! (R-VIO-*) that withhold codes.
//!
//! * `exam_results` — one row per (class, roster entry): 合格/不合格/缺考, score (exact decimal
//!   text), exam date; UNIQUE(filing_id, roster_entry_id).
//! * `result_confirmations` — the centre confirmed a class's results (one row per class).
//! * `certificate_counters` — one row per year: the last class sequence allocated. Updated
//!   inside the confirming transaction (PostgreSQL: `UPDATE … RETURNING` row lock; SQLite: the
//!   write lock), so two servers never allocate the same number.
//! * `certificate_classes` — the class sequence of a class, allocated once; UNIQUE(year, class_seq).
//! * `certificates` — one row per code, UNIQUE(code) and UNIQUE(filing_id, roster_entry_id);
//!   rows are never deleted (a revoked code stays, with its reason).
//! * `violations`, `violation_classes` — a violation of an institution and the classes it
//!   covers; a *confirmed* one withholds certificate codes (R-VIO-2). The violation workflow
//!   itself is a later issue.

use sea_orm_migration::prelude::*;

use super::columns::{big, boolean, date, int, pk, text, text_null, ts, ts_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Filings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Institutions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ExamResults {
    Table,
    Id,
    FilingId,
    RosterEntryId,
    Result,
    Score,
    ExamDate,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ResultConfirmations {
    Table,
    FilingId,
    ConfirmedBy,
    ConfirmedAt,
    CodesWithheld,
}

#[derive(DeriveIden)]
enum CertificateCounters {
    Table,
    Year,
    LastSeq,
}

#[derive(DeriveIden)]
enum CertificateClasses {
    Table,
    FilingId,
    Year,
    ClassSeq,
    IssuedAt,
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    Id,
    Code,
    FilingId,
    RosterEntryId,
    TraineeSeq,
    HolderName,
    Occupation,
    Level,
    InstitutionId,
    InstitutionName,
    IssuedOn,
    IssuedAt,
    Status,
    RevokedReason,
    RevokedBy,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Violations {
    Table,
    Id,
    InstitutionId,
    State,
    Description,
    RecordedBy,
    RecordedAt,
    ConfirmedBy,
    ConfirmedAt,
}

#[derive(DeriveIden)]
enum ViolationClasses {
    Table,
    Id,
    ViolationId,
    FilingId,
}

fn fk(name: &str, from: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from_tbl(from)
        .from_col(col)
        .to(Filings::Table, Filings::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

fn filing_pk(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .primary_key()
        .take()
}

async fn unique(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[&str],
) -> Result<(), DbErr> {
    let mut idx = Index::create();
    idx.name(name)
        .table(table.into_iden())
        .unique()
        .if_not_exists();
    for c in cols {
        idx.col(Alias::new(*c));
    }
    manager.create_index(idx.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExamResults::Table)
                    .if_not_exists()
                    .col(pk(ExamResults::Id))
                    .col(big(ExamResults::FilingId))
                    .col(big(ExamResults::RosterEntryId))
                    .col(text(ExamResults::Result))
                    .col(text_null(ExamResults::Score))
                    .col(date(ExamResults::ExamDate))
                    .col(text(ExamResults::UpdatedBy))
                    .col(ts(ExamResults::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_exam_results_filing",
                        ExamResults::Table,
                        ExamResults::FilingId,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_exam_results_entry",
            ExamResults::Table,
            &["filing_id", "roster_entry_id"],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ResultConfirmations::Table)
                    .if_not_exists()
                    .col(filing_pk(ResultConfirmations::FilingId))
                    .col(text(ResultConfirmations::ConfirmedBy))
                    .col(ts(ResultConfirmations::ConfirmedAt))
                    .col(boolean(ResultConfirmations::CodesWithheld))
                    .foreign_key(&mut fk(
                        "fk_result_confirmations_filing",
                        ResultConfirmations::Table,
                        ResultConfirmations::FilingId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CertificateCounters::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(CertificateCounters::Year)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(int(CertificateCounters::LastSeq))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CertificateClasses::Table)
                    .if_not_exists()
                    .col(filing_pk(CertificateClasses::FilingId))
                    .col(int(CertificateClasses::Year))
                    .col(int(CertificateClasses::ClassSeq))
                    .col(ts(CertificateClasses::IssuedAt))
                    .foreign_key(&mut fk(
                        "fk_certificate_classes_filing",
                        CertificateClasses::Table,
                        CertificateClasses::FilingId,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_certificate_classes_seq",
            CertificateClasses::Table,
            &["year", "class_seq"],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Certificates::Table)
                    .if_not_exists()
                    .col(pk(Certificates::Id))
                    .col(text(Certificates::Code))
                    .col(big(Certificates::FilingId))
                    .col(big(Certificates::RosterEntryId))
                    .col(int(Certificates::TraineeSeq))
                    .col(text(Certificates::HolderName))
                    .col(text(Certificates::Occupation))
                    .col(text(Certificates::Level))
                    .col(big(Certificates::InstitutionId))
                    .col(text(Certificates::InstitutionName))
                    .col(date(Certificates::IssuedOn))
                    .col(ts(Certificates::IssuedAt))
                    .col(text(Certificates::Status))
                    .col(text_null(Certificates::RevokedReason))
                    .col(text_null(Certificates::RevokedBy))
                    .col(ts_null(Certificates::RevokedAt))
                    .foreign_key(&mut fk(
                        "fk_certificates_filing",
                        Certificates::Table,
                        Certificates::FilingId,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_certificates_code",
            Certificates::Table,
            &["code"],
        )
        .await?;
        unique(
            manager,
            "ux_certificates_entry",
            Certificates::Table,
            &["filing_id", "roster_entry_id"],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Violations::Table)
                    .if_not_exists()
                    .col(pk(Violations::Id))
                    .col(big(Violations::InstitutionId))
                    .col(text(Violations::State))
                    .col(text(Violations::Description))
                    .col(text(Violations::RecordedBy))
                    .col(ts(Violations::RecordedAt))
                    .col(text_null(Violations::ConfirmedBy))
                    .col(ts_null(Violations::ConfirmedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_violations_institution")
                            .from(Violations::Table, Violations::InstitutionId)
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ViolationClasses::Table)
                    .if_not_exists()
                    .col(pk(ViolationClasses::Id))
                    .col(big(ViolationClasses::ViolationId))
                    .col(big(ViolationClasses::FilingId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_violation_classes_violation")
                            .from(ViolationClasses::Table, ViolationClasses::ViolationId)
                            .to(Violations::Table, Violations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(&mut fk(
                        "fk_violation_classes_filing",
                        ViolationClasses::Table,
                        ViolationClasses::FilingId,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_violation_classes",
            ViolationClasses::Table,
            &["violation_id", "filing_id"],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_violation_classes_filing")
                    .table(ViolationClasses::Table)
                    .col(ViolationClasses::FilingId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "violation_classes",
            "violations",
            "certificates",
            "certificate_classes",
            "certificate_counters",
            "result_confirmations",
            "exam_results",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(t)).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
