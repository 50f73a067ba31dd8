//! Violations (违法违规, R-VIO-*): an institution's violation and the classes it covers. Only the
//! read the certificate codes need exists for now: a class under a **confirmed** violation gets
//! no certificate codes (R-CRT-1, R-VIO-2; the guideline: 所涉培训班次不予发放合格证书编码). The
//! violation workflow (record, confirm, dismiss) is a later issue built on these tables
//! (migration 000080: `violations`, `violation_classes`).

use crate::Result;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

/// `violations.state` values.
pub const STATE_RECORDED: &str = "recorded";
pub const STATE_CONFIRMED: &str = "confirmed";
pub const STATE_DISMISSED: &str = "dismissed";

/// The `violations` table.
pub mod violation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "violations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub institution_id: i64,
        /// recorded / confirmed / dismissed
        pub state: String,
        pub description: String,
        pub recorded_by: String,
        pub recorded_at: DateTimeUtc,
        pub confirmed_by: Option<String>,
        pub confirmed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `violation_classes` table: (violation, class), UNIQUE together.
pub mod violation_class {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "violation_classes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub violation_id: i64,
        pub filing_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// R-VIO-2: a confirmed violation covers class `filing_id`. Works inside a transaction (pass
/// the transaction) or on the reading connection.
pub async fn class_under_confirmed_violation<C: ConnectionTrait>(
    conn: &C,
    filing_id: i64,
) -> Result<bool> {
    let ids: Vec<i64> = violation_class::Entity::find()
        .filter(violation_class::Column::FilingId.eq(filing_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|v| v.violation_id)
        .collect();
    if ids.is_empty() {
        return Ok(false);
    }
    let n = violation::Entity::find()
        .filter(violation::Column::Id.is_in(ids))
        .filter(violation::Column::State.eq(STATE_CONFIRMED))
        .count(conn)
        .await?;
    Ok(n > 0)
}
