//! R-EVA-3: the trainee satisfaction survey (满意度调查).
//!
//! * `survey_questionnaires` — the centre's questionnaire of a round (one row per round, JSON
//!   list of questions); a round without a row uses the default questionnaire.
//! * `class_surveys` — one row per class: an unguessable random token (the public link) and the
//!   closing date the centre set (NULL = the default, planned end + 7 days).
//! * `survey_respondents` — who has answered, for "answers once": UNIQUE(filing_id,
//!   roster_entry_id). No time, no link to an answer.
//! * `survey_responses` — the answers: a random text id (not a sequence), the class, the
//!   submission *date* (never a timestamp), the ratings and comment as JSON and the `overall`
//!   rating. No roster column: an answer cannot be joined to the person who gave it.

use sea_orm_migration::prelude::*;

use super::columns::{big, date, date_null, int, text, ts};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Filings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Rounds {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SurveyQuestionnaires {
    Table,
    RoundId,
    Questions,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ClassSurveys {
    Table,
    FilingId,
    Token,
    ClosesOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SurveyRespondents {
    Table,
    FilingId,
    RosterEntryId,
}

#[derive(DeriveIden)]
enum SurveyResponses {
    Table,
    Id,
    FilingId,
    SubmittedOn,
    Answers,
    Overall,
}

fn to_filing(name: &str, from: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from_tbl(from)
        .from_col(col)
        .to(Filings::Table, Filings::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SurveyQuestionnaires::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(SurveyQuestionnaires::RoundId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(SurveyQuestionnaires::Questions))
                    .col(text(SurveyQuestionnaires::UpdatedBy))
                    .col(ts(SurveyQuestionnaires::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_survey_questionnaires_round")
                            .from(SurveyQuestionnaires::Table, SurveyQuestionnaires::RoundId)
                            .to(Rounds::Table, Rounds::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ClassSurveys::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ClassSurveys::FilingId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(ClassSurveys::Token))
                    .col(date_null(ClassSurveys::ClosesOn))
                    .col(ts(ClassSurveys::CreatedAt))
                    .foreign_key(&mut to_filing(
                        "fk_class_surveys_filing",
                        ClassSurveys::Table,
                        ClassSurveys::FilingId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_class_surveys_token")
                    .table(ClassSurveys::Table)
                    .col(ClassSurveys::Token)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SurveyRespondents::Table)
                    .if_not_exists()
                    .col(big(SurveyRespondents::FilingId))
                    .col(big(SurveyRespondents::RosterEntryId))
                    .primary_key(
                        Index::create()
                            .name("pk_survey_respondents")
                            .col(SurveyRespondents::FilingId)
                            .col(SurveyRespondents::RosterEntryId),
                    )
                    .foreign_key(&mut to_filing(
                        "fk_survey_respondents_filing",
                        SurveyRespondents::Table,
                        SurveyRespondents::FilingId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SurveyResponses::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(SurveyResponses::Id)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    .col(big(SurveyResponses::FilingId))
                    .col(date(SurveyResponses::SubmittedOn))
                    .col(text(SurveyResponses::Answers))
                    .col(int(SurveyResponses::Overall))
                    .foreign_key(&mut to_filing(
                        "fk_survey_responses_filing",
                        SurveyResponses::Table,
                        SurveyResponses::FilingId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_survey_responses_filing")
                    .table(SurveyResponses::Table)
                    .col(SurveyResponses::FilingId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "survey_responses",
            "survey_respondents",
            "class_surveys",
            "survey_questionnaires",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(t)).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
