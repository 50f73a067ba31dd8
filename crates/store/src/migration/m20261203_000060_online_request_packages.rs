//! R-FIL-8: an online-training request names the filing packages (classes) it covers, and its
//! approval applies to those only (it used to apply to every package of the institution).
//!
//! * `online_request_packages` — (request, package), UNIQUE together.
//!
//! Requests that exist at migration time: an online request (approved or awaiting the centre) is
//! linked to its institution's packages that were **set to online training at that moment** —
//! the classes that relied on it. Offline packages, and packages created later, are not covered:
//! an approval never reaches further than before, and a later online class needs a request of its
//! own. Refused requests are linked to nothing.

use sea_orm_migration::prelude::*;

use super::columns::{big, pk as id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TrainingRequests {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FilingPackages {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OnlineRequestPackages {
    Table,
    Id,
    RequestId,
    PackageId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OnlineRequestPackages::Table)
                    .if_not_exists()
                    .col(id(OnlineRequestPackages::Id))
                    .col(big(OnlineRequestPackages::RequestId))
                    .col(big(OnlineRequestPackages::PackageId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_online_request_packages_request")
                            .from(
                                OnlineRequestPackages::Table,
                                OnlineRequestPackages::RequestId,
                            )
                            .to(TrainingRequests::Table, TrainingRequests::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_online_request_packages_package")
                            .from(
                                OnlineRequestPackages::Table,
                                OnlineRequestPackages::PackageId,
                            )
                            .to(FilingPackages::Table, FilingPackages::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_online_request_packages")
                    .table(OnlineRequestPackages::Table)
                    .col(OnlineRequestPackages::RequestId)
                    .col(OnlineRequestPackages::PackageId)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_online_request_packages_package")
                    .table(OnlineRequestPackages::Table)
                    .col(OnlineRequestPackages::PackageId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // Existing requests: the online packages of their institution, as of now (module doc).
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO online_request_packages (request_id, package_id) \
                 SELECT r.id, p.id FROM training_requests r \
                 JOIN filing_packages p ON p.institution_id = r.institution_id \
                 WHERE r.kind = 'online_training' AND r.state IN ('approved', 'submitted') \
                 AND p.mode = 'online'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(OnlineRequestPackages::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
