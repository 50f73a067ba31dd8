//! Running a class, monthly reports, inspections, overdue and sanctions (R-RUN-1..4, R-OVD-1/2):
//!
//! * `class_progress` — one row per filing once it starts, completes or becomes overdue: the
//!   dates, and the year its overdue counts in (R-OVD-2 counts by the year of the last day).
//! * `teacher_changes` — accepted teacher-change reports (R-RUN-1); refused ones change nothing.
//! * `attendance_records` — per session: per-trainee marks (JSON) and/or a sign-in sheet file.
//! * `monthly_reports` — UNIQUE(institution_id, year, month): the first submission counts.
//! * `inspections` — findings, photos (file ids, JSON), rectification and closure.
//! * `overdue_sanctions` — UNIQUE(institution_id, year): raised once at the 4th overdue class.
//! * `class_flags` — running classes a confirmed sanction flagged for the centre to decide.

use sea_orm_migration::prelude::*;

use super::columns::{big, big_null, date, date_null, int, pk as id, text, text_null, ts, ts_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Institutions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Filings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ClassProgress {
    Table,
    FilingId,
    InstitutionId,
    StartedOn,
    TrainingCompletedOn,
    ExamCompletedOn,
    OverdueOn,
    OverdueYear,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TeacherChanges {
    Table,
    Id,
    FilingId,
    InstitutionId,
    OldTeacherId,
    NewTeacherId,
    NewTeacherName,
    EffectiveOn,
    ReportedOn,
    Note,
    ReportedBy,
    ReportedByUserId,
    ReportedAt,
    AcknowledgedBy,
    AcknowledgedAt,
}

#[derive(DeriveIden)]
enum AttendanceRecords {
    Table,
    Id,
    FilingId,
    InstitutionId,
    SessionDate,
    SessionLabel,
    Marks,
    PresentCount,
    AbsentCount,
    SignInFileId,
    RecordedBy,
    RecordedByUserId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum MonthlyReports {
    Table,
    Id,
    InstitutionId,
    Year,
    Month,
    ClassesRun,
    Trainees,
    Exams,
    Problems,
    Late,
    SubmittedBy,
    SubmittedByUserId,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum Inspections {
    Table,
    Id,
    FilingId,
    InstitutionId,
    InspectedOn,
    Kind,
    Findings,
    Photos,
    RectificationRequired,
    RectificationDue,
    RectificationNote,
    RectifiedAt,
    Status,
    ClosureNote,
    ClosedBy,
    ClosedAt,
    RecordedBy,
    RecordedByUserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OverdueSanctions {
    Table,
    Id,
    InstitutionId,
    Year,
    Count,
    TriggerFilingId,
    State,
    RaisedAt,
    DecidedBy,
    DecidedByUserId,
    DecidedAt,
    Reason,
    Effects,
}

#[derive(DeriveIden)]
enum ClassFlags {
    Table,
    Id,
    FilingId,
    InstitutionId,
    SanctionId,
    FlaggedAt,
    Decision,
    DecisionReason,
    DecidedBy,
    DecidedAt,
}

fn fk_filing(name: &str, from: impl IntoTableRef, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from, col)
        .to(Filings::Table, Filings::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}
fn fk_inst(name: &str, from: impl IntoTableRef, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from, col)
        .to(Institutions::Table, Institutions::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoTableRef,
    cols: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(table).if_not_exists();
    for c in cols {
        i.col(c);
    }
    if unique {
        i.unique();
    }
    manager.create_index(i.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClassProgress::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ClassProgress::FilingId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(big(ClassProgress::InstitutionId))
                    .col(date_null(ClassProgress::StartedOn))
                    .col(date_null(ClassProgress::TrainingCompletedOn))
                    .col(date_null(ClassProgress::ExamCompletedOn))
                    .col(date_null(ClassProgress::OverdueOn))
                    .col(ColumnDef::new(ClassProgress::OverdueYear).integer().null())
                    .col(ts(ClassProgress::UpdatedAt))
                    .foreign_key(&mut fk_filing(
                        "fk_class_progress_filing",
                        ClassProgress::Table,
                        ClassProgress::FilingId,
                    ))
                    .foreign_key(&mut fk_inst(
                        "fk_class_progress_institution",
                        ClassProgress::Table,
                        ClassProgress::InstitutionId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_class_progress_overdue",
            ClassProgress::Table,
            vec![
                ClassProgress::InstitutionId.into_iden(),
                ClassProgress::OverdueYear.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TeacherChanges::Table)
                    .if_not_exists()
                    .col(id(TeacherChanges::Id))
                    .col(big(TeacherChanges::FilingId))
                    .col(big(TeacherChanges::InstitutionId))
                    .col(big_null(TeacherChanges::OldTeacherId))
                    .col(big(TeacherChanges::NewTeacherId))
                    .col(text(TeacherChanges::NewTeacherName))
                    .col(date(TeacherChanges::EffectiveOn))
                    .col(date(TeacherChanges::ReportedOn))
                    .col(text(TeacherChanges::Note))
                    .col(text(TeacherChanges::ReportedBy))
                    .col(big_null(TeacherChanges::ReportedByUserId))
                    .col(ts(TeacherChanges::ReportedAt))
                    .col(text_null(TeacherChanges::AcknowledgedBy))
                    .col(ts_null(TeacherChanges::AcknowledgedAt))
                    .foreign_key(&mut fk_filing(
                        "fk_teacher_changes_filing",
                        TeacherChanges::Table,
                        TeacherChanges::FilingId,
                    ))
                    .foreign_key(&mut fk_inst(
                        "fk_teacher_changes_institution",
                        TeacherChanges::Table,
                        TeacherChanges::InstitutionId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_teacher_changes_filing",
            TeacherChanges::Table,
            vec![TeacherChanges::FilingId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AttendanceRecords::Table)
                    .if_not_exists()
                    .col(id(AttendanceRecords::Id))
                    .col(big(AttendanceRecords::FilingId))
                    .col(big(AttendanceRecords::InstitutionId))
                    .col(date(AttendanceRecords::SessionDate))
                    .col(text(AttendanceRecords::SessionLabel))
                    // JSON array of {trainee, present}.
                    .col(text(AttendanceRecords::Marks))
                    .col(int(AttendanceRecords::PresentCount))
                    .col(int(AttendanceRecords::AbsentCount))
                    .col(
                        ColumnDef::new(AttendanceRecords::SignInFileId)
                            .string_len(32)
                            .null(),
                    )
                    .col(text(AttendanceRecords::RecordedBy))
                    .col(big_null(AttendanceRecords::RecordedByUserId))
                    .col(ts(AttendanceRecords::RecordedAt))
                    .foreign_key(&mut fk_filing(
                        "fk_attendance_filing",
                        AttendanceRecords::Table,
                        AttendanceRecords::FilingId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_attendance_session",
            AttendanceRecords::Table,
            vec![
                AttendanceRecords::FilingId.into_iden(),
                AttendanceRecords::SessionDate.into_iden(),
                AttendanceRecords::SessionLabel.into_iden(),
            ],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(MonthlyReports::Table)
                    .if_not_exists()
                    .col(id(MonthlyReports::Id))
                    .col(big(MonthlyReports::InstitutionId))
                    .col(int(MonthlyReports::Year))
                    .col(int(MonthlyReports::Month))
                    .col(int(MonthlyReports::ClassesRun))
                    .col(int(MonthlyReports::Trainees))
                    .col(int(MonthlyReports::Exams))
                    .col(text(MonthlyReports::Problems))
                    .col(ColumnDef::new(MonthlyReports::Late).boolean().not_null())
                    .col(text(MonthlyReports::SubmittedBy))
                    .col(big_null(MonthlyReports::SubmittedByUserId))
                    .col(ts(MonthlyReports::SubmittedAt))
                    .foreign_key(&mut fk_inst(
                        "fk_monthly_reports_institution",
                        MonthlyReports::Table,
                        MonthlyReports::InstitutionId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_monthly_reports_month",
            MonthlyReports::Table,
            vec![
                MonthlyReports::InstitutionId.into_iden(),
                MonthlyReports::Year.into_iden(),
                MonthlyReports::Month.into_iden(),
            ],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Inspections::Table)
                    .if_not_exists()
                    .col(id(Inspections::Id))
                    .col(big(Inspections::FilingId))
                    .col(big(Inspections::InstitutionId))
                    .col(date(Inspections::InspectedOn))
                    .col(text(Inspections::Kind))
                    .col(text(Inspections::Findings))
                    // JSON array of file ids.
                    .col(text(Inspections::Photos))
                    .col(
                        ColumnDef::new(Inspections::RectificationRequired)
                            .boolean()
                            .not_null(),
                    )
                    .col(date_null(Inspections::RectificationDue))
                    .col(text_null(Inspections::RectificationNote))
                    .col(ts_null(Inspections::RectifiedAt))
                    .col(text(Inspections::Status))
                    .col(text_null(Inspections::ClosureNote))
                    .col(text_null(Inspections::ClosedBy))
                    .col(ts_null(Inspections::ClosedAt))
                    .col(text(Inspections::RecordedBy))
                    .col(big_null(Inspections::RecordedByUserId))
                    .col(ts(Inspections::CreatedAt))
                    .foreign_key(&mut fk_filing(
                        "fk_inspections_filing",
                        Inspections::Table,
                        Inspections::FilingId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_inspections_institution",
            Inspections::Table,
            vec![
                Inspections::InstitutionId.into_iden(),
                Inspections::Status.into_iden(),
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(OverdueSanctions::Table)
                    .if_not_exists()
                    .col(id(OverdueSanctions::Id))
                    .col(big(OverdueSanctions::InstitutionId))
                    .col(int(OverdueSanctions::Year))
                    .col(int(OverdueSanctions::Count))
                    .col(big(OverdueSanctions::TriggerFilingId))
                    .col(text(OverdueSanctions::State))
                    .col(ts(OverdueSanctions::RaisedAt))
                    .col(text_null(OverdueSanctions::DecidedBy))
                    .col(big_null(OverdueSanctions::DecidedByUserId))
                    .col(ts_null(OverdueSanctions::DecidedAt))
                    .col(text_null(OverdueSanctions::Reason))
                    .col(text_null(OverdueSanctions::Effects))
                    .foreign_key(&mut fk_inst(
                        "fk_overdue_sanctions_institution",
                        OverdueSanctions::Table,
                        OverdueSanctions::InstitutionId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_overdue_sanctions_year",
            OverdueSanctions::Table,
            vec![
                OverdueSanctions::InstitutionId.into_iden(),
                OverdueSanctions::Year.into_iden(),
            ],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClassFlags::Table)
                    .if_not_exists()
                    .col(id(ClassFlags::Id))
                    .col(big(ClassFlags::FilingId))
                    .col(big(ClassFlags::InstitutionId))
                    .col(big(ClassFlags::SanctionId))
                    .col(ts(ClassFlags::FlaggedAt))
                    .col(text_null(ClassFlags::Decision))
                    .col(text_null(ClassFlags::DecisionReason))
                    .col(text_null(ClassFlags::DecidedBy))
                    .col(ts_null(ClassFlags::DecidedAt))
                    .foreign_key(&mut fk_filing(
                        "fk_class_flags_filing",
                        ClassFlags::Table,
                        ClassFlags::FilingId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_class_flags_filing_sanction",
            ClassFlags::Table,
            vec![
                ClassFlags::FilingId.into_iden(),
                ClassFlags::SanctionId.into_iden(),
            ],
            true,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ClassFlags::Table.into_iden(),
            OverdueSanctions::Table.into_iden(),
            Inspections::Table.into_iden(),
            MonthlyReports::Table.into_iden(),
            AttendanceRecords::Table.into_iden(),
            TeacherChanges::Table.into_iden(),
            ClassProgress::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
