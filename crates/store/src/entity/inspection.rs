use sea_orm::entity::prelude::*;

/// An inspection or spot check (R-RUN-4).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inspections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub filing_id: i64,
    pub institution_id: i64,
    pub inspected_on: Date,
    pub kind: String,
    pub findings: String,
    /// JSON array of file ids.
    pub photos: String,
    pub rectification_required: bool,
    pub rectification_due: Option<Date>,
    pub rectification_note: Option<String>,
    pub rectified_at: Option<DateTimeUtc>,
    pub status: String,
    pub closure_note: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
    pub recorded_by: String,
    pub recorded_by_user_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// R-EVA-1: `general` / `serious`; `None` when nothing was found.
    pub finding_severity: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
