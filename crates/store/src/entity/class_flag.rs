use sea_orm::entity::prelude::*;

/// A running class flagged for the centre to decide when its agreement was terminated: by a
/// confirmed sanction (R-OVD-2), a confirmed violation (R-VIO-2) or by hand (R-AGR-1).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "class_flags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub filing_id: i64,
    pub institution_id: i64,
    /// The sanction that raised it; 0 when raised by another termination (see `cause`).
    pub sanction_id: i64,
    pub flagged_at: DateTimeUtc,
    /// `continue` / `cancel`, when decided.
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    /// `overdue_sanction` (also when NULL), `violation` or `by_centre` (migration 000130).
    pub cause: Option<String>,
    pub violation_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
