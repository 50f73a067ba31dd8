use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teachers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub institution_id: i64,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::teacher_qualification::Entity")]
    Qualification,
}

impl Related<super::teacher_qualification::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Qualification.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
