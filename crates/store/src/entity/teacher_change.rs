use sea_orm::entity::prelude::*;

/// An accepted teacher-change report (R-RUN-1).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teacher_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub filing_id: i64,
    pub institution_id: i64,
    pub old_teacher_id: Option<i64>,
    pub new_teacher_id: i64,
    pub new_teacher_name: String,
    pub effective_on: Date,
    pub reported_on: Date,
    pub note: String,
    pub reported_by: String,
    pub reported_by_user_id: Option<i64>,
    pub reported_at: DateTimeUtc,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
