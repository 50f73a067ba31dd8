use sea_orm::entity::prelude::*;

/// A running class flagged by a confirmed sanction for the centre to decide (R-OVD-2).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "class_flags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub filing_id: i64,
    pub institution_id: i64,
    pub sanction_id: i64,
    pub flagged_at: DateTimeUtc,
    /// `continue` / `cancel`, when decided.
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
