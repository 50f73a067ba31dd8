use sea_orm::entity::prelude::*;

/// Dates of a class's progress (R-RUN-*, R-OVD-1/2); the state itself is `filings.state`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "class_progress")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub filing_id: i64,
    pub institution_id: i64,
    pub started_on: Option<Date>,
    pub training_completed_on: Option<Date>,
    pub exam_completed_on: Option<Date>,
    /// The day the class became overdue (sweep or late completion).
    pub overdue_on: Option<Date>,
    /// The year of the class's last day: where its overdue counts (R-OVD-2).
    pub overdue_year: Option<i32>,
    pub updated_at: DateTimeUtc,
    /// The policy version of the overdue mark (R-POL-1); `None` until marked.
    pub policy_version: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
