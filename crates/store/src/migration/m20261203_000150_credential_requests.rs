//! S7/S4: issuing a password takes two people (账号凭据下发需双人确认).
//!
//! `credential_requests` — one row per request by a sysadmin to give an account a password
//! (`kind` = `create` for a new account, `reset` for an existing one). The sysadmin receives the
//! first half of the one-time password; only its argon2 hash is kept (`first_half_hash`). A
//! second person (a centre_admin, or the institution's admin for its staff) confirms and
//! receives the second half; the account's password becomes the two halves together and must be
//! changed at the next login. `state`: `pending`, `confirmed`, `cancelled` (a pending request
//! past `expires_at` counts as expired and can no longer be confirmed).

use super::columns::{big, big_null, pk, text, text_null, ts, ts_null};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CredentialRequests {
    Table,
    Id,
    UserId,
    Kind,
    Reason,
    FirstHalfHash,
    RequestedBy,
    RequestedAt,
    ExpiresAt,
    State,
    DecidedBy,
    DecidedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CredentialRequests::Table)
                    .if_not_exists()
                    .col(pk(CredentialRequests::Id))
                    .col(big(CredentialRequests::UserId))
                    .col(text(CredentialRequests::Kind))
                    .col(text(CredentialRequests::Reason))
                    .col(text_null(CredentialRequests::FirstHalfHash))
                    .col(big(CredentialRequests::RequestedBy))
                    .col(ts(CredentialRequests::RequestedAt))
                    .col(ts(CredentialRequests::ExpiresAt))
                    .col(text(CredentialRequests::State))
                    .col(big_null(CredentialRequests::DecidedBy))
                    .col(ts_null(CredentialRequests::DecidedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_credential_requests_user")
                            .from(CredentialRequests::Table, CredentialRequests::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_credential_requests_requested_by")
                            .from(CredentialRequests::Table, CredentialRequests::RequestedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_credential_requests_state")
                    .table(CredentialRequests::Table)
                    .col(CredentialRequests::State)
                    .col(CredentialRequests::UserId)
                    .to_owned(),
            )
            .await?;
        // At most one pending request per account (both backends support partial indexes).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS ux_credential_requests_pending \
                 ON credential_requests (user_id) WHERE state = 'pending'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CredentialRequests::Table).to_owned())
            .await
    }
}
