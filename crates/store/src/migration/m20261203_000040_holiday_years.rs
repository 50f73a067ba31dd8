//! Holiday tables at run time (R-CAL-1): one row per loaded year. The shipped 2025/2026 tables
//! are written by [`crate::calendar::seed_builtin`] after the migrations run (and any later year
//! the binary ships, without overwriting a year a sysadmin loaded). A replaced year's old table
//! lives on in the audit log.

use sea_orm_migration::prelude::*;

use super::columns::{big_null, boolean, text, text_null, ts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HolidayYears {
    Table,
    Year,
    Source,
    /// The checked `YearTable` as JSON.
    TableJson,
    /// The TOML text the year was loaded from (its own `[[year]]` block, or the whole paste).
    SourceToml,
    Builtin,
    LoadedBy,
    LoadedByUserId,
    LoadedAt,
    /// Why a year that decisions had used was replaced.
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HolidayYears::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(HolidayYears::Year)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(HolidayYears::Source))
                    .col(text(HolidayYears::TableJson))
                    .col(text(HolidayYears::SourceToml))
                    .col(boolean(HolidayYears::Builtin))
                    .col(text(HolidayYears::LoadedBy))
                    .col(big_null(HolidayYears::LoadedByUserId))
                    .col(ts(HolidayYears::LoadedAt))
                    .col(text_null(HolidayYears::Reason))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(HolidayYears::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
