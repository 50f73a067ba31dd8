use sea_orm::entity::prelude::*;

/// An institution's monthly report (R-RUN-3).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "monthly_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub institution_id: i64,
    pub year: i32,
    pub month: i32,
    pub classes_run: i32,
    pub trainees: i32,
    pub exams: i32,
    pub problems: String,
    pub late: bool,
    pub submitted_by: String,
    pub submitted_by_user_id: Option<i64>,
    pub submitted_at: DateTimeUtc,
    /// The policy version that set the due day (R-POL-1).
    pub policy_version: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
