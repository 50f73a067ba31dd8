//! One filing, at most one package (issue 8): `UNIQUE(filing_packages.filing_id)`.
//!
//! The minimal filing (occupation, level and start date only) is removed; filings it created
//! may remain in a database. Such a filing is recognised by having no `filing_packages` row
//! linked to it (`peixun_store::package_gate`): the centre sees it as
//! "未附备案材料，须补交备案材料", and it cannot be approved or started until a package is
//! attached and checked. The index makes that lookup cheap and keeps a filing from ever being
//! linked to two packages (NULLs — drafts not yet submitted — are not compared, on SQLite and
//! PostgreSQL alike).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FilingPackages {
    Table,
    FilingId,
}

const INDEX: &str = "ux_filing_packages_filing";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(FilingPackages::Table)
                    .col(FilingPackages::FilingId)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(FilingPackages::Table)
                    .to_owned(),
            )
            .await
    }
}
