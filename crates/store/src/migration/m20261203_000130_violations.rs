//! R-VIO-1/2: what the violation workflow needs beyond migration 000080's `violations` /
//! `violation_classes`, and the source of a class flag other than an overdue sanction.
//!
//! `violations` (existing columns keep their meaning: `description` holds the facts (事实),
//! `recorded_by` the recorder's username, `confirmed_by`/`confirmed_at` the confirmation) gains:
//! * `kind` — `falsified_application` / `fake_training` / `impersonation` / `subsidy_fraud` /
//!   `other` (rows written before default to `other`);
//! * `evidence` — a JSON array of file ids (purpose `violation_evidence`);
//! * `no_classes` — the recorder stated explicitly that no class is involved (application-stage
//!   fraud);
//! * `recorded_by_user_id`, and the decision: `decided_by`, `decided_by_user_id`, `decided_at`,
//!   `decision_reason` (required to dismiss), `effects` (JSON of what confirming did).
//!
//! `class_flags` gains `cause` (`overdue_sanction` when NULL, `violation`, `by_centre`) and
//! `violation_id`; a flag not raised by a sanction stores `sanction_id = 0`.
//!
//! One column per statement (SQLite's ALTER TABLE adds one at a time).

use super::columns::{big_null, text_null, ts_null};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Violations {
    Table,
    Kind,
    Evidence,
    NoClasses,
    RecordedByUserId,
    DecidedBy,
    DecidedByUserId,
    DecidedAt,
    DecisionReason,
    Effects,
    InstitutionId,
}

#[derive(DeriveIden)]
enum ClassFlags {
    Table,
    Cause,
    ViolationId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let cols = [
            ColumnDef::new(Violations::Kind)
                .text()
                .not_null()
                .default("other")
                .take(),
            ColumnDef::new(Violations::Evidence)
                .text()
                .not_null()
                .default("[]")
                .take(),
            ColumnDef::new(Violations::NoClasses)
                .boolean()
                .not_null()
                .default(false)
                .take(),
            big_null(Violations::RecordedByUserId),
            text_null(Violations::DecidedBy),
            big_null(Violations::DecidedByUserId),
            ts_null(Violations::DecidedAt),
            text_null(Violations::DecisionReason),
            text_null(Violations::Effects),
        ];
        for mut c in cols {
            manager
                .alter_table(
                    Table::alter()
                        .table(Violations::Table)
                        .add_column(&mut c)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_violations_institution")
                    .table(Violations::Table)
                    .col(Violations::InstitutionId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        for mut c in [
            text_null(ClassFlags::Cause),
            big_null(ClassFlags::ViolationId),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ClassFlags::Table)
                        .add_column(&mut c)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_violations_institution")
                    .table(Violations::Table)
                    .to_owned(),
            )
            .await?;
        for c in ["cause", "violation_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ClassFlags::Table)
                        .drop_column(Alias::new(c))
                        .to_owned(),
                )
                .await?;
        }
        for c in [
            "kind",
            "evidence",
            "no_classes",
            "recorded_by_user_id",
            "decided_by",
            "decided_by_user_id",
            "decided_at",
            "decision_reason",
            "effects",
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Violations::Table)
                        .drop_column(Alias::new(c))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
