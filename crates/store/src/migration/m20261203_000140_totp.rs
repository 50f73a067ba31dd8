//! SECURITY.md S4: the TOTP second factor (RFC 6238).
//!
//! * `users.totp_exempt` — set only by the demo seeder (`serve --demo`), so that the demo stays
//!   usable with a password alone; every other account of a role that requires TOTP must enrol.
//! * `user_totp` — one row per enrolled (or enrolling) user: `state` (`pending` until the first
//!   code confirms the authenticator, then `enabled`), the confirmed `secret` and, while a new
//!   authenticator is being set up, `pending_secret` — both encrypted with the data key
//!   (`v1:<key id>:…`, never in clear) — `enabled_at` and `last_step`, the RFC 6238 time step of
//!   the last accepted code (a step is accepted once: replay protection).
//! * `totp_recovery_codes` — ten per enrolment, shown once; only a SHA-256 of each is kept;
//!   `used_at` marks one used.
//! * `login_challenges` — the second step of a login (five minutes): the SHA-256 of a random
//!   challenge token, the user, and when it expires. No session exists until it is answered.

use sea_orm_migration::prelude::*;

use super::columns::{big, big_null, pk, text, text_null, ts, ts_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TotpExempt,
}

#[derive(DeriveIden)]
enum UserTotp {
    Table,
    UserId,
    State,
    Secret,
    PendingSecret,
    EnabledAt,
    LastStep,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TotpRecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum LoginChallenges {
    Table,
    Id,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
}

fn to_user(name: &str, from: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from_tbl(from)
        .from_col(col)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::TotpExempt)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserTotp::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(UserTotp::UserId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(UserTotp::State))
                    .col(text_null(UserTotp::Secret))
                    .col(text_null(UserTotp::PendingSecret))
                    .col(ts_null(UserTotp::EnabledAt))
                    .col(big_null(UserTotp::LastStep))
                    .col(ts(UserTotp::CreatedAt))
                    .col(ts(UserTotp::UpdatedAt))
                    .foreign_key(&mut to_user(
                        "fk_user_totp_user",
                        UserTotp::Table,
                        UserTotp::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TotpRecoveryCodes::Table)
                    .if_not_exists()
                    .col(pk(TotpRecoveryCodes::Id))
                    .col(big(TotpRecoveryCodes::UserId))
                    .col(text(TotpRecoveryCodes::CodeHash))
                    .col(ts(TotpRecoveryCodes::CreatedAt))
                    .col(ts_null(TotpRecoveryCodes::UsedAt))
                    .foreign_key(&mut to_user(
                        "fk_totp_recovery_codes_user",
                        TotpRecoveryCodes::Table,
                        TotpRecoveryCodes::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_totp_recovery_codes_user")
                    .table(TotpRecoveryCodes::Table)
                    .col(TotpRecoveryCodes::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginChallenges::Table)
                    .if_not_exists()
                    .col(pk(LoginChallenges::Id))
                    .col(text(LoginChallenges::TokenHash))
                    .col(big(LoginChallenges::UserId))
                    .col(ts(LoginChallenges::CreatedAt))
                    .col(ts(LoginChallenges::ExpiresAt))
                    .foreign_key(&mut to_user(
                        "fk_login_challenges_user",
                        LoginChallenges::Table,
                        LoginChallenges::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_login_challenges_token")
                    .table(LoginChallenges::Table)
                    .col(LoginChallenges::TokenHash)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["login_challenges", "totp_recovery_codes", "user_totp"] {
            manager
                .drop_table(Table::drop().table(Alias::new(t)).if_exists().to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::TotpExempt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
