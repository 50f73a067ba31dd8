use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agreements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub round_id: i64,
    pub institution_id: i64,
    pub application_id: Option<i64>,
    pub cap: i32,
    /// `cap::CapDecision` as JSON (with its trail, R-CAP-7).
    pub cap_decision: String,
    pub policy_version: String,
    pub status: String,
    pub termination_cause: Option<String>,
    pub termination_reason: Option<String>,
    pub signed_by: String,
    pub signed_at: DateTimeUtc,
    pub terminated_by: Option<String>,
    pub terminated_at: Option<DateTimeUtc>,
    /// Slots held by this agreement's filings, kept by `crate::queue` (R-FIL-6); ≤ `cap`.
    pub slots_held: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
