use sea_orm::entity::prelude::*;

/// An overdue sanction (R-OVD-2), one per institution and year.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "overdue_sanctions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub institution_id: i64,
    pub year: i32,
    pub count: i32,
    pub trigger_filing_id: i64,
    /// `workflow::sanction::SanctionState::code`.
    pub state: String,
    pub raised_at: DateTimeUtc,
    pub decided_by: Option<String>,
    pub decided_by_user_id: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub reason: Option<String>,
    /// JSON: what applying it did.
    pub effects: Option<String>,
    /// The policy version whose overdue limit raised it (R-POL-1).
    pub policy_version: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
