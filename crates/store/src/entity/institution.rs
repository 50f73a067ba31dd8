use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "institutions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    #[sea_orm(unique)]
    pub credit_code: String,
    /// The check character is wrong and the centre confirmed the code anyway (SPEC §4).
    pub credit_code_warning_confirmed: bool,
    pub registered_address: String,
    pub district: String,
    pub contact_person: String,
    pub contact_phone: String,
    pub major_project_capable: bool,
    /// JSON array of project names.
    pub major_projects: String,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::institution_qualification::Entity")]
    Qualification,
}

impl Related<super::institution_qualification::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Qualification.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
