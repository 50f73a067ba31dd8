//! Issue 12 item 5: several servers on one database must hold the same keys (S14). `key_checks`
//! records, per key, a check value that proves which key the database's data was written under
//! without revealing it: for the lookup key (`roster`) an HMAC of a fixed text under the key,
//! for the data key (`data`) the key id already stored in every ciphertext. The first server to
//! start records them; a server whose configured key gives another value refuses to start
//! (`peixun_store::key_checks`).

use sea_orm_migration::prelude::*;

use super::columns::{text, ts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KeyChecks {
    Table,
    Name,
    CheckValue,
    RecordedBy,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KeyChecks::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(KeyChecks::Name)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(KeyChecks::CheckValue))
                    .col(text(KeyChecks::RecordedBy))
                    .col(ts(KeyChecks::RecordedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(KeyChecks::Table).to_owned())
            .await
    }
}
