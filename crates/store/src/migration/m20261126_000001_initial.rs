//! Accounts, sessions, the institution directory, teachers and the audit log.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

use super::columns::{boolean, pk, text, text_null, ts, ts_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Institutions {
    Table,
    Id,
    Name,
    CreditCode,
    CreditCodeWarningConfirmed,
    RegisteredAddress,
    District,
    ContactPerson,
    ContactPhone,
    MajorProjectCapable,
    MajorProjects,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InstitutionQualifications {
    Table,
    Id,
    InstitutionId,
    Occupation,
    Level,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    Role,
    InstitutionId,
    PasswordHash,
    Active,
    MustChangePassword,
    FailedLogins,
    LockedUntil,
    LastLoginAt,
    PasswordChangedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    UserId,
    CsrfToken,
    CreatedAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum Teachers {
    Table,
    Id,
    InstitutionId,
    Name,
    IdNumber,
    Phone,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TeacherQualifications {
    Table,
    Id,
    TeacherId,
    Occupation,
    Level,
    CertificateNo,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    UserId,
    Username,
    Role,
    Ip,
    RequestId,
    Action,
    TargetType,
    TargetId,
    OldValue,
    NewValue,
    PrevHash,
    Hash,
}

const SQLITE_AUDIT_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
];

const PG_AUDIT_TRIGGERS: &[&str] = &[
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ \
     BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql;",
    "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log \
     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log \
     FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Institutions::Table)
                    .if_not_exists()
                    .col(pk(Institutions::Id))
                    .col(text(Institutions::Name).unique_key())
                    .col(text(Institutions::CreditCode).unique_key())
                    .col(boolean(Institutions::CreditCodeWarningConfirmed).default(false))
                    .col(text(Institutions::RegisteredAddress))
                    .col(text(Institutions::District))
                    .col(text(Institutions::ContactPerson))
                    .col(text(Institutions::ContactPhone))
                    .col(boolean(Institutions::MajorProjectCapable).default(false))
                    .col(text(Institutions::MajorProjects).default("[]"))
                    .col(text(Institutions::Status).default("active"))
                    .col(ts(Institutions::CreatedAt))
                    .col(ts(Institutions::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InstitutionQualifications::Table)
                    .if_not_exists()
                    .col(pk(InstitutionQualifications::Id))
                    .col(
                        ColumnDef::new(InstitutionQualifications::InstitutionId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(InstitutionQualifications::Occupation))
                    .col(text(InstitutionQualifications::Level))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inst_qual_institution")
                            .from(
                                InstitutionQualifications::Table,
                                InstitutionQualifications::InstitutionId,
                            )
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_inst_qual")
                    .table(InstitutionQualifications::Table)
                    .col(InstitutionQualifications::InstitutionId)
                    .col(InstitutionQualifications::Occupation)
                    .col(InstitutionQualifications::Level)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_inst_qual_occupation")
                    .table(InstitutionQualifications::Table)
                    .col(InstitutionQualifications::Occupation)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(pk(Users::Id))
                    .col(text(Users::Username).unique_key())
                    .col(text(Users::DisplayName))
                    .col(text(Users::Role))
                    .col(ColumnDef::new(Users::InstitutionId).big_integer().null())
                    .col(text(Users::PasswordHash))
                    .col(boolean(Users::Active).default(true))
                    .col(boolean(Users::MustChangePassword).default(false))
                    .col(
                        ColumnDef::new(Users::FailedLogins)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ts_null(Users::LockedUntil))
                    .col(ts_null(Users::LastLoginAt))
                    .col(ts(Users::PasswordChangedAt))
                    .col(ts(Users::CreatedAt))
                    .col(ts(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_institution")
                            .from(Users::Table, Users::InstitutionId)
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .if_not_exists()
                    .col(pk(Sessions::Id))
                    .col(text(Sessions::TokenHash).unique_key())
                    .col(ColumnDef::new(Sessions::UserId).big_integer().not_null())
                    .col(text(Sessions::CsrfToken))
                    .col(ts(Sessions::CreatedAt))
                    .col(ts(Sessions::LastSeenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Teachers::Table)
                    .if_not_exists()
                    .col(pk(Teachers::Id))
                    .col(
                        ColumnDef::new(Teachers::InstitutionId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(Teachers::Name))
                    .col(text(Teachers::IdNumber))
                    .col(text(Teachers::Phone))
                    .col(boolean(Teachers::Active).default(true))
                    .col(ts(Teachers::CreatedAt))
                    .col(ts(Teachers::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_teachers_institution")
                            .from(Teachers::Table, Teachers::InstitutionId)
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_teachers_institution_id_number")
                    .table(Teachers::Table)
                    .col(Teachers::InstitutionId)
                    .col(Teachers::IdNumber)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TeacherQualifications::Table)
                    .if_not_exists()
                    .col(pk(TeacherQualifications::Id))
                    .col(
                        ColumnDef::new(TeacherQualifications::TeacherId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(TeacherQualifications::Occupation))
                    .col(text(TeacherQualifications::Level))
                    .col(text(TeacherQualifications::CertificateNo))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_teacher_qual_teacher")
                            .from(
                                TeacherQualifications::Table,
                                TeacherQualifications::TeacherId,
                            )
                            .to(Teachers::Table, Teachers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_teacher_qual_teacher")
                    .table(TeacherQualifications::Table)
                    .col(TeacherQualifications::TeacherId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AuditLog::Id)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ts(AuditLog::At))
                    .col(ColumnDef::new(AuditLog::UserId).big_integer().null())
                    .col(text(AuditLog::Username))
                    .col(text_null(AuditLog::Role))
                    .col(text_null(AuditLog::Ip))
                    .col(text_null(AuditLog::RequestId))
                    .col(text(AuditLog::Action))
                    .col(text(AuditLog::TargetType))
                    .col(text_null(AuditLog::TargetId))
                    .col(text_null(AuditLog::OldValue))
                    .col(text_null(AuditLog::NewValue))
                    .col(text(AuditLog::PrevHash))
                    .col(text(AuditLog::Hash))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_audit_at", AuditLog::At),
            ("ix_audit_username", AuditLog::Username),
            ("ix_audit_action", AuditLog::Action),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditLog::Table)
                        .col(col)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }

        let db = manager.get_connection();
        let triggers = match manager.get_database_backend() {
            DbBackend::Sqlite => SQLITE_AUDIT_TRIGGERS,
            DbBackend::Postgres => PG_AUDIT_TRIGGERS,
            other => {
                return Err(DbErr::Migration(format!(
                    "unsupported database backend {other:?}"
                )));
            }
        };
        for sql in triggers {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the initial schema (and its audit log) is never rolled back".into(),
        ))
    }
}
