//! R-EVA-1: evaluations and the severity of inspection findings.
//!
//! * `inspections.finding_severity` — `general` (一般) / `serious` (严重) / NULL (nothing found).
//!   Existing rows: rectification required → `general`, else NULL.
//! * `evaluations` — one per agreement (UNIQUE): state `open` → `confirmed`; `input` is the
//!   JSON of `peixun_domain::evaluation::EvaluationInput` read from the records, `adjustments`
//!   the JSON list of the centre's adjustments (component, value or acceptance, reason, who,
//!   when), `result` the JSON of the last `EvaluationResult`; `score` is set on confirmation
//!   with the `policy_version` used.

use sea_orm_migration::prelude::*;

use super::columns::{big, pk as id, text, text_null, ts, ts_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Inspections {
    Table,
    FindingSeverity,
}

#[derive(DeriveIden)]
enum Agreements {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Evaluations {
    Table,
    Id,
    AgreementId,
    RoundId,
    InstitutionId,
    State,
    Input,
    Adjustments,
    Result,
    Score,
    PolicyVersion,
    OpenedBy,
    OpenedAt,
    ComputedAt,
    ConfirmedBy,
    ConfirmedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Inspections::Table)
                    .add_column(text_null(Inspections::FindingSeverity))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE inspections SET finding_severity = 'general' WHERE rectification_required",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Evaluations::Table)
                    .if_not_exists()
                    .col(id(Evaluations::Id))
                    .col(big(Evaluations::AgreementId).unique_key())
                    .col(big(Evaluations::RoundId))
                    .col(big(Evaluations::InstitutionId))
                    .col(text(Evaluations::State))
                    .col(text(Evaluations::Input))
                    .col(text(Evaluations::Adjustments))
                    .col(text(Evaluations::Result))
                    .col(text_null(Evaluations::Score))
                    .col(text(Evaluations::PolicyVersion))
                    .col(text(Evaluations::OpenedBy))
                    .col(ts(Evaluations::OpenedAt))
                    .col(ts(Evaluations::ComputedAt))
                    .col(text_null(Evaluations::ConfirmedBy))
                    .col(ts_null(Evaluations::ConfirmedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_evaluations_agreement")
                            .from(Evaluations::Table, Evaluations::AgreementId)
                            .to(Agreements::Table, Agreements::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_evaluations_round")
                    .table(Evaluations::Table)
                    .col(Evaluations::RoundId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Evaluations::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Inspections::Table)
                    .drop_column(Inspections::FindingSeverity)
                    .to_owned(),
            )
            .await
    }
}
