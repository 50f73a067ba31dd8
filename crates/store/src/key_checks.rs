//! Every server on one database holds the same keys (S14; issue 12 item 5).
//!
//! Two servers with different lookup keys (`PEIXUN_ROSTER_KEY` / `roster.key`) would each hash
//! ID numbers their own way: overlapping enrolments filed through different servers would never
//! match, and teacher uniqueness would fail silently. Two servers with different data keys
//! (`PEIXUN_DATA_KEY` / `data.key`) would each write ciphertext the other cannot open. So the
//! database remembers a check value per key (table `key_checks`), and [`verify_deployment_keys`]
//! — run by `peixun serve` before it serves anything — compares:
//!
//! * `roster`: [`crate::pii::RosterKey::check_value`] (an HMAC of a fixed text under the key). When nothing
//!   is recorded yet and the database already holds trainees or teachers, one of them is checked
//!   first: its stored keyed hash must be the configured key's hash of its (decrypted) number —
//!   so a database restored without its `roster.key` is caught too, not only a second server.
//! * `data`: the current data key's id (already written in every ciphertext; not secret). During
//!   a rotation the old key's id is accepted too; `peixun keys rotate` records the new one when
//!   it finishes ([`record_data_key`]).
//!
//! The first server to start records the values (`INSERT … ON CONFLICT DO NOTHING`, so two
//! starting at once agree on one); a mismatch is `ROSTER_KEY_MISMATCH` / `DATA_KEY_MISMATCH`
//! with both check values in the message, and the server does not start.

use crate::pii::{DataKeys, Field, Keys};
use crate::{Result, Store, StoreError, db_time};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// The `key_checks` table.
pub mod key_check {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "key_checks")]
    pub struct Model {
        /// `roster` or `data`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub check_value: String,
        /// The server (`host:pid`) or command that recorded it.
        pub recorded_by: String,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The row of the lookup key.
pub const ROSTER: &str = "roster";
/// The row of the data key.
pub const DATA: &str = "data";

/// What [`verify_deployment_keys`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCheckReport {
    /// This call recorded the lookup key's check value (a new database, or one from before
    /// the check).
    pub recorded_roster: bool,
    /// This call recorded the data key's id.
    pub recorded_data: bool,
}

async fn recorded<C: ConnectionTrait>(db: &C, name: &str) -> Result<Option<String>> {
    Ok(key_check::Entity::find_by_id(name.to_string())
        .one(db)
        .await?
        .map(|r| r.check_value))
}

/// Insert `(name, value)` unless a row exists; returns whether this call inserted it.
async fn record_if_absent(
    store: &Store,
    name: &str,
    value: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let stmt = Query::insert()
        .into_table(key_check::Entity)
        .columns([
            key_check::Column::Name,
            key_check::Column::CheckValue,
            key_check::Column::RecordedBy,
            key_check::Column::RecordedAt,
        ])
        .values_panic([name.into(), value.into(), by.into(), db_time(now).into()])
        .on_conflict(
            OnConflict::column(key_check::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(store.write_db().execute(&stmt).await?.rows_affected() == 1)
}

fn roster_mismatch(configured: &str, expected: &str) -> StoreError {
    StoreError::Conflict {
        code: "ROSTER_KEY_MISMATCH",
        message: format!(
            "本服务器的证件号码查询密钥（PEIXUN_ROSTER_KEY 或数据目录中的 roster.key，校验值 {configured}）与数据库中数据所用的密钥（校验值 {expected}）不一致：共用一个数据库的每台服务器必须配置相同的 PEIXUN_ROSTER_KEY，否则跨服务器的学员重复参训检查和教师唯一性检查会失效。请配置原来的密钥后再启动（见 README“多台服务器”）"
        ),
        field: None,
    }
}

fn data_mismatch(configured: &str, expected: &str) -> StoreError {
    StoreError::Conflict {
        code: "DATA_KEY_MISMATCH",
        message: format!(
            "本服务器的数据密钥（PEIXUN_DATA_KEY 或数据目录中的 data.key，密钥编号 {configured}）与数据库登记的数据密钥（{expected}）不一致：共用一个数据库的每台服务器必须配置相同的 PEIXUN_DATA_KEY，否则彼此写入的证件号码和文件无法解密。请配置原来的密钥后再启动（见 README“多台服务器”与 docs/OPERATIONS.md）"
        ),
        field: None,
    }
}

/// When nothing is recorded: the stored keyed hash of one trainee (or teacher) must be the
/// configured key's hash of its number. `Ok(())` when there is nothing to compare.
async fn check_roster_key_against_data(store: &Store, keys: &Keys) -> Result<()> {
    use crate::entity::teacher;
    use crate::roster::entry;
    let sample: Option<(String, String, Field)> = match entry::Entity::find()
        .select_only()
        .column(entry::Column::IdNumber)
        .column(entry::Column::PersonKey)
        .order_by_asc(entry::Column::Id)
        .limit(1)
        .into_tuple::<(String, String)>()
        .one(store.db())
        .await?
    {
        Some((n, k)) => Some((n, k, Field::TraineeIdNumber)),
        None => teacher::Entity::find()
            .select_only()
            .column(teacher::Column::IdNumber)
            .column(teacher::Column::PersonKey)
            .filter(teacher::Column::PersonKey.is_not_null())
            .order_by_asc(teacher::Column::Id)
            .limit(1)
            .into_tuple::<(String, Option<String>)>()
            .one(store.db())
            .await?
            .and_then(|(n, k)| Some((n, k?, Field::TeacherIdNumber))),
    };
    let Some((stored_number, stored_key, field)) = sample else {
        return Ok(());
    };
    let number = if stored_number.starts_with(crate::pii::FIELD_PREFIX) {
        // Under a data key this server does not hold: the data key check says so.
        match keys.data.decrypt_field(field, &stored_number) {
            Ok(n) => n,
            Err(_) => return Ok(()),
        }
    } else {
        stored_number
    };
    if keys.lookup.person_key(&number) != stored_key {
        return Err(roster_mismatch(
            &keys.lookup.check_value(),
            "与库中数据不符",
        ));
    }
    Ok(())
}

/// Compare the configured keys with the ones the database records (recording them on the first
/// start); see the module documentation. `holder` names this server in a new row.
pub async fn verify_deployment_keys(
    store: &Store,
    keys: &Keys,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<KeyCheckReport> {
    let roster_value = keys.lookup.check_value();
    let mut recorded_roster = false;
    if recorded(store.db(), ROSTER).await?.is_none() {
        check_roster_key_against_data(store, keys).await?;
        recorded_roster = record_if_absent(store, ROSTER, &roster_value, holder, now).await?;
    }
    match recorded(store.db(), ROSTER).await? {
        Some(v) if v == roster_value => {}
        Some(v) => return Err(roster_mismatch(&roster_value, &v)),
        None => return Err(roster_mismatch(&roster_value, "无")),
    }
    let data = &keys.data;
    let recorded_data = record_if_absent(store, DATA, data.current_id(), holder, now).await?;
    match recorded(store.db(), DATA).await? {
        Some(v) if v == data.current_id() || data.old_id() == Some(v.as_str()) => {}
        Some(v) => return Err(data_mismatch(data.current_id(), &v)),
        None => return Err(data_mismatch(data.current_id(), "无")),
    }
    Ok(KeyCheckReport {
        recorded_roster,
        recorded_data,
    })
}

/// After a finished rotation: the database's data key is `keys`' current one.
pub async fn record_data_key(
    store: &Store,
    keys: &DataKeys,
    by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if !record_if_absent(store, DATA, keys.current_id(), by, now).await? {
        key_check::Entity::update_many()
            .col_expr(
                key_check::Column::CheckValue,
                Expr::value(keys.current_id().to_string()),
            )
            .col_expr(key_check::Column::RecordedBy, Expr::value(by.to_string()))
            .col_expr(key_check::Column::RecordedAt, Expr::value(db_time(now)))
            .filter(key_check::Column::Name.eq(DATA))
            .exec(store.write_db())
            .await?;
    }
    Ok(())
}
