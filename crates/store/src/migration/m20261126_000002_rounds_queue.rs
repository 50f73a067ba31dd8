//! Plans, rounds, applications, prior performance, agreements, the quota queue (filings and
//! quota slots), the plan-change history and the institution inbox (SPEC §3.1–3.3).
//!
//! The queue is backed by constraints so that a double grant is impossible even if code were
//! wrong (SECURITY.md S9): `quota_slots` has UNIQUE(round_id, slot_no) and UNIQUE(filing_id),
//! `filings` has UNIQUE(round_id, queue_seq), `agreements` UNIQUE(round_id, institution_id).

use sea_orm_migration::prelude::*;

use super::columns::{big, big_null, date, int, pk, text, text_null, ts, ts_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Institutions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    Year,
    TotalClasses,
    Budget,
    Note,
    Status,
    BureauComment,
    SubmittedAt,
    DecidedAt,
    DecidedBy,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Rounds {
    Table,
    Id,
    Year,
    Half,
    Label,
    BasePlanned,
    RolledOver,
    RolloverPending,
    ConsumedAtClose,
    WindowStart,
    WindowEnd,
    TargetGroups,
    CallText,
    Status,
    NextQueueSeq,
    PublishedAt,
    ClosedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlanChanges {
    Table,
    Id,
    PlanId,
    RoundId,
    Field,
    OldValue,
    NewValue,
    Reason,
    ChangedBy,
    ChangedByUserId,
    ChangedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    RoundId,
    InstitutionId,
    Occupations,
    ClassesRequested,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PriorPerformance {
    Table,
    Id,
    InstitutionId,
    RoundLabel,
    CompletedOnTime,
    Score,
    Evidence,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Agreements {
    Table,
    Id,
    RoundId,
    InstitutionId,
    ApplicationId,
    Cap,
    CapDecision,
    PolicyVersion,
    Status,
    TerminationCause,
    TerminationReason,
    SignedBy,
    SignedAt,
    TerminatedBy,
    TerminatedAt,
}

#[derive(DeriveIden)]
enum Filings {
    Table,
    Id,
    RoundId,
    AgreementId,
    InstitutionId,
    Occupation,
    Level,
    StartDate,
    State,
    Status,
    SlotState,
    QueueSeq,
    SubmittedAt,
    GrantedAt,
    DecidedAt,
    DecidedBy,
    DecisionReason,
    CreatedBy,
    CreatedByName,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum QuotaSlots {
    Table,
    Id,
    RoundId,
    SlotNo,
    FilingId,
    GrantedAt,
}

#[derive(DeriveIden)]
enum InboxMessages {
    Table,
    Id,
    InstitutionId,
    Title,
    Body,
    CreatedAt,
    ReadAt,
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(table).if_not_exists();
    for c in cols {
        i.col(Alias::new(*c));
    }
    if unique {
        i.unique();
    }
    m.create_index(i.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .if_not_exists()
                    .col(pk(Plans::Id))
                    .col(int(Plans::Year).unique_key())
                    .col(int(Plans::TotalClasses))
                    // Decimal yuan as exact text ("1250000.00"): same on both backends.
                    .col(text(Plans::Budget))
                    .col(text(Plans::Note).default(""))
                    .col(text(Plans::Status))
                    .col(text_null(Plans::BureauComment))
                    .col(ts_null(Plans::SubmittedAt))
                    .col(ts_null(Plans::DecidedAt))
                    .col(text_null(Plans::DecidedBy))
                    .col(text(Plans::CreatedBy))
                    .col(ts(Plans::CreatedAt))
                    .col(ts(Plans::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Rounds::Table)
                    .if_not_exists()
                    .col(pk(Rounds::Id))
                    .col(int(Rounds::Year))
                    .col(text(Rounds::Half))
                    .col(text(Rounds::Label))
                    .col(int(Rounds::BasePlanned))
                    .col(int(Rounds::RolledOver).default(0))
                    .col(int(Rounds::RolloverPending).default(0))
                    .col(ColumnDef::new(Rounds::ConsumedAtClose).integer().null())
                    .col(date(Rounds::WindowStart))
                    .col(date(Rounds::WindowEnd))
                    .col(text(Rounds::TargetGroups).default("[]"))
                    .col(text(Rounds::CallText).default(""))
                    .col(text(Rounds::Status))
                    .col(big(Rounds::NextQueueSeq).default(1))
                    .col(ts_null(Rounds::PublishedAt))
                    .col(ts_null(Rounds::ClosedAt))
                    .col(text(Rounds::CreatedBy))
                    .col(ts(Rounds::CreatedAt))
                    .col(ts(Rounds::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_rounds_year_label",
            Rounds::Table,
            &["year", "label"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlanChanges::Table)
                    .if_not_exists()
                    .col(pk(PlanChanges::Id))
                    .col(big_null(PlanChanges::PlanId))
                    .col(big_null(PlanChanges::RoundId))
                    .col(text(PlanChanges::Field))
                    .col(text_null(PlanChanges::OldValue))
                    .col(text_null(PlanChanges::NewValue))
                    .col(text_null(PlanChanges::Reason))
                    .col(text(PlanChanges::ChangedBy))
                    .col(big_null(PlanChanges::ChangedByUserId))
                    .col(ts(PlanChanges::ChangedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plan_changes_plan")
                            .from(PlanChanges::Table, PlanChanges::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plan_changes_round")
                            .from(PlanChanges::Table, PlanChanges::RoundId)
                            .to(Rounds::Table, Rounds::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_plan_changes_plan",
            PlanChanges::Table,
            &["plan_id"],
            false,
        )
        .await?;
        index(
            manager,
            "ix_plan_changes_round",
            PlanChanges::Table,
            &["round_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Applications::Table)
                    .if_not_exists()
                    .col(pk(Applications::Id))
                    .col(big(Applications::RoundId))
                    .col(big(Applications::InstitutionId))
                    .col(text(Applications::Occupations))
                    .col(int(Applications::ClassesRequested))
                    .col(text(Applications::Note).default(""))
                    .col(text(Applications::CreatedBy))
                    .col(ts(Applications::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_applications_round")
                            .from(Applications::Table, Applications::RoundId)
                            .to(Rounds::Table, Rounds::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_applications_institution")
                            .from(Applications::Table, Applications::InstitutionId)
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_applications_round_institution",
            Applications::Table,
            &["round_id", "institution_id"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PriorPerformance::Table)
                    .if_not_exists()
                    .col(pk(PriorPerformance::Id))
                    .col(big(PriorPerformance::InstitutionId))
                    .col(text(PriorPerformance::RoundLabel))
                    .col(int(PriorPerformance::CompletedOnTime))
                    // A `cap::Score` as exact text ("90.5").
                    .col(text(PriorPerformance::Score))
                    .col(text(PriorPerformance::Evidence))
                    .col(text(PriorPerformance::RecordedBy))
                    .col(ts(PriorPerformance::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_prior_performance_institution")
                            .from(PriorPerformance::Table, PriorPerformance::InstitutionId)
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_prior_performance_institution",
            PriorPerformance::Table,
            &["institution_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Agreements::Table)
                    .if_not_exists()
                    .col(pk(Agreements::Id))
                    .col(big(Agreements::RoundId))
                    .col(big(Agreements::InstitutionId))
                    .col(big_null(Agreements::ApplicationId))
                    .col(int(Agreements::Cap))
                    .col(text(Agreements::CapDecision))
                    .col(text(Agreements::PolicyVersion))
                    .col(text(Agreements::Status))
                    .col(text_null(Agreements::TerminationCause))
                    .col(text_null(Agreements::TerminationReason))
                    .col(text(Agreements::SignedBy))
                    .col(ts(Agreements::SignedAt))
                    .col(text_null(Agreements::TerminatedBy))
                    .col(ts_null(Agreements::TerminatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agreements_round")
                            .from(Agreements::Table, Agreements::RoundId)
                            .to(Rounds::Table, Rounds::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agreements_institution")
                            .from(Agreements::Table, Agreements::InstitutionId)
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_agreements_round_institution",
            Agreements::Table,
            &["round_id", "institution_id"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Filings::Table)
                    .if_not_exists()
                    .col(pk(Filings::Id))
                    .col(big(Filings::RoundId))
                    .col(big(Filings::AgreementId))
                    .col(big(Filings::InstitutionId))
                    .col(text(Filings::Occupation))
                    .col(text(Filings::Level))
                    .col(date(Filings::StartDate))
                    // The workflow state (`peixun_domain::workflow::class::ClassState`) as JSON.
                    .col(text(Filings::State))
                    .col(text(Filings::Status))
                    .col(text(Filings::SlotState))
                    .col(big(Filings::QueueSeq))
                    .col(ts(Filings::SubmittedAt))
                    .col(ts_null(Filings::GrantedAt))
                    .col(ts_null(Filings::DecidedAt))
                    .col(text_null(Filings::DecidedBy))
                    .col(text_null(Filings::DecisionReason))
                    .col(big_null(Filings::CreatedBy))
                    .col(text(Filings::CreatedByName))
                    .col(ts(Filings::CreatedAt))
                    .col(ts(Filings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_filings_round")
                            .from(Filings::Table, Filings::RoundId)
                            .to(Rounds::Table, Rounds::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_filings_agreement")
                            .from(Filings::Table, Filings::AgreementId)
                            .to(Agreements::Table, Agreements::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_filings_institution")
                            .from(Filings::Table, Filings::InstitutionId)
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_filings_round_queue_seq",
            Filings::Table,
            &["round_id", "queue_seq"],
            true,
        )
        .await?;
        index(
            manager,
            "ix_filings_round_slot_state",
            Filings::Table,
            &["round_id", "slot_state"],
            false,
        )
        .await?;
        index(
            manager,
            "ix_filings_institution",
            Filings::Table,
            &["institution_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(QuotaSlots::Table)
                    .if_not_exists()
                    .col(pk(QuotaSlots::Id))
                    .col(big(QuotaSlots::RoundId))
                    .col(int(QuotaSlots::SlotNo))
                    .col(big(QuotaSlots::FilingId))
                    .col(ts(QuotaSlots::GrantedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quota_slots_round")
                            .from(QuotaSlots::Table, QuotaSlots::RoundId)
                            .to(Rounds::Table, Rounds::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quota_slots_filing")
                            .from(QuotaSlots::Table, QuotaSlots::FilingId)
                            .to(Filings::Table, Filings::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_quota_slots_round_slot",
            QuotaSlots::Table,
            &["round_id", "slot_no"],
            true,
        )
        .await?;
        index(
            manager,
            "ux_quota_slots_filing",
            QuotaSlots::Table,
            &["filing_id"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboxMessages::Table)
                    .if_not_exists()
                    .col(pk(InboxMessages::Id))
                    .col(big(InboxMessages::InstitutionId))
                    .col(text(InboxMessages::Title))
                    .col(text(InboxMessages::Body))
                    .col(ts(InboxMessages::CreatedAt))
                    .col(ts_null(InboxMessages::ReadAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_inbox_institution")
                            .from(InboxMessages::Table, InboxMessages::InstitutionId)
                            .to(Institutions::Table, Institutions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_inbox_institution",
            InboxMessages::Table,
            &["institution_id"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the quota queue's history is never rolled back".into(),
        ))
    }
}
