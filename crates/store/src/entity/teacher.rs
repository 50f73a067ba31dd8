use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teachers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub institution_id: i64,
    pub name: String,
    /// The ID number's ciphertext (`v1:<key id>:…`, S14); the full number only through
    /// [`crate::teachers::reveal_id_number`].
    pub id_number: String,
    /// The masked number (R-PII-1, S13), for lists.
    pub id_masked: String,
    /// HMAC-SHA256 (hex) of the ID number: uniqueness per institution (S14). `None` only on a
    /// row from before encryption, until [`crate::at_rest::encrypt_legacy_rows`] runs.
    pub person_key: Option<String>,
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
