//! Column definitions shared by every migration, so that one kind of column is spelled one way
//! on both backends. Changing one changes only migrations written after the change: applied
//! migrations keep the schema they created.

use sea_orm_migration::prelude::*;

/// A `BIGINT` auto-increment primary key.
pub(super) fn pk(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

pub(super) fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().take()
}

pub(super) fn text_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().null().take()
}

pub(super) fn int(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().take()
}

pub(super) fn big(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().take()
}

pub(super) fn big_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().null().take()
}

/// A UTC timestamp (stored with time zone on PostgreSQL).
pub(super) fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

pub(super) fn ts_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().null().take()
}

pub(super) fn date(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).date().not_null().take()
}

pub(super) fn date_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).date().null().take()
}

pub(super) fn boolean(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).boolean().not_null().take()
}
