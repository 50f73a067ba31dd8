use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "filings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub round_id: i64,
    pub agreement_id: i64,
    pub institution_id: i64,
    pub occupation: String,
    pub level: String,
    pub start_date: Date,
    /// `workflow::class::ClassState` as JSON.
    pub state: String,
    pub status: String,
    /// holding / waiting / released / not_granted
    pub slot_state: String,
    pub queue_seq: i64,
    pub submitted_at: DateTimeUtc,
    pub granted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The policy version in force on the submission date (R-POL-1): its R-FIL-3 lead and
    /// R-FIL-4 window apply to this class.
    pub policy_version: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
