//! Policy versions (R-POL-1):
//!
//! * `policy_versions` — every proposed version: its name (UNIQUE), effective date, the document
//!   it comes from (title, number), every value (`peixun_domain::policy::Policy` as JSON), and its
//!   four-eyes life (proposed by the sysadmin; confirmed or rejected by a centre_admin; withdrawn
//!   by the proposer). Seeded with the built-in Haizhu guideline, confirmed, effective 2025-01-01.
//! * `policy_version` on the records that store a decision: `filings` (R-FIL-3 deadline and
//!   R-FIL-4 window of the submission), `class_progress` (the R-OVD-1 overdue mark),
//!   `overdue_sanctions` (the R-OVD-2 threshold), `monthly_reports` (R-RUN-3 lateness).
//!   `agreements.policy_version` exists since the rounds migration. Rows written before this
//!   migration were decided under the built-in version and say so.

use sea_orm_migration::prelude::*;

use super::columns::{big_null, date, pk as id, text, text_null, ts, ts_null};
use peixun_domain::policy::Policy;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PolicyVersions {
    Table,
    Id,
    Version,
    EffectiveFrom,
    DocumentTitle,
    DocumentNumber,
    PolicyValues,
    Status,
    Note,
    ProposedBy,
    ProposedByUserId,
    ProposedAt,
    DecidedBy,
    DecidedByUserId,
    DecidedAt,
    DecisionReason,
}

#[derive(DeriveIden)]
enum Filings {
    Table,
    PolicyVersion,
}

#[derive(DeriveIden)]
enum ClassProgress {
    Table,
    PolicyVersion,
}

#[derive(DeriveIden)]
enum OverdueSanctions {
    Table,
    PolicyVersion,
}

#[derive(DeriveIden)]
enum MonthlyReports {
    Table,
    PolicyVersion,
}

/// The document of the built-in version.
pub(crate) const BUILTIN_DOCUMENT: &str = "海珠区职业技能培训合格证书培训工作指引（试行）";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PolicyVersions::Table)
                    .if_not_exists()
                    .col(id(PolicyVersions::Id))
                    .col(text(PolicyVersions::Version))
                    .col(date(PolicyVersions::EffectiveFrom))
                    .col(text(PolicyVersions::DocumentTitle))
                    .col(text(PolicyVersions::DocumentNumber))
                    .col(text(PolicyVersions::PolicyValues))
                    .col(text(PolicyVersions::Status))
                    .col(text_null(PolicyVersions::Note))
                    .col(text(PolicyVersions::ProposedBy))
                    .col(big_null(PolicyVersions::ProposedByUserId))
                    .col(ts(PolicyVersions::ProposedAt))
                    .col(text_null(PolicyVersions::DecidedBy))
                    .col(big_null(PolicyVersions::DecidedByUserId))
                    .col(ts_null(PolicyVersions::DecidedAt))
                    .col(text_null(PolicyVersions::DecisionReason))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_policy_versions_version")
                    .table(PolicyVersions::Table)
                    .col(PolicyVersions::Version)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_policy_versions_status_effective")
                    .table(PolicyVersions::Table)
                    .col(PolicyVersions::Status)
                    .col(PolicyVersions::EffectiveFrom)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        let builtin = Policy::haizhu_default();
        let values = serde_json::to_string(&builtin)
            .map_err(|e| DbErr::Migration(format!("built-in policy as JSON: {e}")))?;
        let at = builtin
            .effective_from
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| DbErr::Migration("built-in policy date".into()))?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(PolicyVersions::Table)
                    .columns([
                        PolicyVersions::Version,
                        PolicyVersions::EffectiveFrom,
                        PolicyVersions::DocumentTitle,
                        PolicyVersions::DocumentNumber,
                        PolicyVersions::PolicyValues,
                        PolicyVersions::Status,
                        PolicyVersions::Note,
                        PolicyVersions::ProposedBy,
                        PolicyVersions::ProposedAt,
                        PolicyVersions::DecidedBy,
                        PolicyVersions::DecidedAt,
                    ])
                    .values_panic([
                        builtin.version.clone().into(),
                        builtin.effective_from.into(),
                        BUILTIN_DOCUMENT.into(),
                        "".into(),
                        values.into(),
                        "confirmed".into(),
                        "系统内置版本（按SPEC.md对指引的解读）".into(),
                        "system".into(),
                        at.into(),
                        "system".into(),
                        at.into(),
                    ])
                    .to_owned(),
            )
            .await?;

        let seed = builtin.version;
        // One ALTER per statement: SQLite adds one column at a time.
        for (table, col, not_null) in [
            (
                Filings::Table.into_iden(),
                Filings::PolicyVersion.into_iden(),
                true,
            ),
            (
                ClassProgress::Table.into_iden(),
                ClassProgress::PolicyVersion.into_iden(),
                false,
            ),
            (
                OverdueSanctions::Table.into_iden(),
                OverdueSanctions::PolicyVersion.into_iden(),
                true,
            ),
            (
                MonthlyReports::Table.into_iden(),
                MonthlyReports::PolicyVersion.into_iden(),
                true,
            ),
        ] {
            let mut c = ColumnDef::new(col);
            c.text();
            if not_null {
                c.not_null().default(seed.clone());
            } else {
                c.null();
            }
            manager
                .alter_table(Table::alter().table(table).add_column(c).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, col) in [
            (
                MonthlyReports::Table.into_iden(),
                MonthlyReports::PolicyVersion.into_iden(),
            ),
            (
                OverdueSanctions::Table.into_iden(),
                OverdueSanctions::PolicyVersion.into_iden(),
            ),
            (
                ClassProgress::Table.into_iden(),
                ClassProgress::PolicyVersion.into_iden(),
            ),
            (
                Filings::Table.into_iden(),
                Filings::PolicyVersion.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(col).to_owned())
                .await?;
        }
        manager
            .drop_table(
                Table::drop()
                    .table(PolicyVersions::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
