use sea_orm::entity::prelude::*;

/// One trainee's sign-in mark for a session: a roster entry of the class, present or absent
/// (R-RUN-2, migration 000070).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attendance_marks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub attendance_id: i64,
    pub roster_entry_id: i64,
    pub present: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
