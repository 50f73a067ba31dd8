use sea_orm::entity::prelude::*;

/// A policy version (R-POL-1): proposed by the sysadmin, confirmed by a centre_admin.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policy_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub version: String,
    pub effective_from: Date,
    pub document_title: String,
    pub document_number: String,
    /// `peixun_domain::policy::Policy` as JSON.
    pub policy_values: String,
    /// proposed / confirmed / rejected / withdrawn
    pub status: String,
    pub note: Option<String>,
    pub proposed_by: String,
    pub proposed_by_user_id: Option<i64>,
    pub proposed_at: DateTimeUtc,
    pub decided_by: Option<String>,
    pub decided_by_user_id: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
