//! R-PII-1, SECURITY.md S13/S14: personal data encrypted at rest.
//!
//! * `roster_entries.id_masked`, `teachers.id_masked` — the masked number, for lists (no key).
//! * `teachers.person_key` — the ID number's keyed hash (HMAC, as on roster entries); the
//!   uniqueness of a teacher per institution moves from the plaintext number
//!   (`ux_teachers_institution_id_number`) to it (`ux_teachers_institution_person_key`). NULL
//!   on old rows until they are converted (NULLs never collide).
//! * `files.key_id` — the data key a file's content is encrypted under; NULL = plaintext.
//!
//! The migration cannot see the keys (they live outside the database), so it converts nothing:
//! the start-up step [`crate::at_rest::encrypt_legacy_rows`] (run by `peixun serve` right after
//! migrating, idempotent) encrypts the plaintext rows and files and fills these columns.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RosterEntries {
    Table,
    IdMasked,
}

#[derive(DeriveIden)]
enum Teachers {
    Table,
    InstitutionId,
    IdNumber,
    IdMasked,
    PersonKey,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    KeyId,
}

const OLD_UNIQUE: &str = "ux_teachers_institution_id_number";
const NEW_UNIQUE: &str = "ux_teachers_institution_person_key";

fn masked(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().default("").take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RosterEntries::Table)
                    .add_column(masked(RosterEntries::IdMasked))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Teachers::Table)
                    .add_column(masked(Teachers::IdMasked))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Teachers::Table)
                    .add_column(ColumnDef::new(Teachers::PersonKey).text().null().take())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Files::Table)
                    .add_column(ColumnDef::new(Files::KeyId).text().null().take())
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(OLD_UNIQUE)
                    .table(Teachers::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(NEW_UNIQUE)
                    .table(Teachers::Table)
                    .col(Teachers::InstitutionId)
                    .col(Teachers::PersonKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NEW_UNIQUE)
                    .table(Teachers::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(OLD_UNIQUE)
                    .table(Teachers::Table)
                    .col(Teachers::InstitutionId)
                    .col(Teachers::IdNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (table, col) in [
            (Files::Table.into_iden(), Files::KeyId.into_iden()),
            (Teachers::Table.into_iden(), Teachers::PersonKey.into_iden()),
            (Teachers::Table.into_iden(), Teachers::IdMasked.into_iden()),
            (
                RosterEntries::Table.into_iden(),
                RosterEntries::IdMasked.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
