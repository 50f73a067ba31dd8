use sea_orm::entity::prelude::*;

/// One loaded holiday table (R-CAL-1).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holiday_years")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    pub source: String,
    /// `peixun_domain::calendar::YearTable` as JSON.
    pub table_json: String,
    pub source_toml: String,
    pub builtin: bool,
    pub loaded_by: String,
    pub loaded_by_user_id: Option<i64>,
    pub loaded_at: DateTimeUtc,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
