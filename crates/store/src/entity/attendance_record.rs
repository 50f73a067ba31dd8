use sea_orm::entity::prelude::*;

/// One session's sign-in (R-RUN-2).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attendance_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub filing_id: i64,
    pub institution_id: i64,
    pub session_date: Date,
    pub session_label: String,
    /// JSON array of free-name marks `{trainee, present}` from before migration 000070 that
    /// matched no roster entry (kept, shown as written); new records write `[]` here and their
    /// marks to `attendance_marks` (R-RUN-2).
    pub marks: String,
    /// Counts of the record's marks (rows and kept free names), written with them.
    pub present_count: i32,
    pub absent_count: i32,
    pub sign_in_file_id: Option<String>,
    pub recorded_by: String,
    pub recorded_by_user_id: Option<i64>,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
