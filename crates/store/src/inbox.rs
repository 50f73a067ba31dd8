//! The institution inbox: messages the system leaves for an institution (e.g. filings not
//! granted when a round closed, R-PLAN-3). Read by the institution's own users.

use crate::entity::inbox_message;
use crate::{Actor, Result, Store, StoreError, db_time};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxMessage {
    pub id: i64,
    pub institution_id: i64,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

fn to_view(m: inbox_message::Model) -> InboxMessage {
    InboxMessage {
        id: m.id,
        institution_id: m.institution_id,
        title: m.title,
        body: m.body,
        created_at: m.created_at,
        read_at: m.read_at,
    }
}

/// An institution's messages, newest first: its own users, the centre and the system.
pub async fn list_inbox(
    store: &Store,
    viewer: &Actor,
    institution_id: i64,
) -> Result<Vec<InboxMessage>> {
    let allowed = viewer.is_system()
        || viewer.role.is_some_and(|r| r.is_centre())
        || (viewer.role.is_some_and(|r| r.is_institution())
            && viewer.institution_id == Some(institution_id));
    if !allowed {
        return Err(StoreError::forbidden("无权查看该机构的消息"));
    }
    Ok(inbox_message::Entity::find()
        .filter(inbox_message::Column::InstitutionId.eq(institution_id))
        .order_by_desc(inbox_message::Column::Id)
        .all(store.db())
        .await?
        .into_iter()
        .map(to_view)
        .collect())
}

/// The institution's user marks a message read (not audited: no business record changes).
pub async fn mark_read(
    store: &Store,
    viewer: &Actor,
    message_id: i64,
    now: DateTime<Utc>,
) -> Result<InboxMessage> {
    let txn = store.begin_write().await?;
    let m = inbox_message::Entity::find_by_id(message_id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "message" })?;
    if !(viewer.role.is_some_and(|r| r.is_institution())
        && viewer.institution_id == Some(m.institution_id))
    {
        return Err(StoreError::forbidden("无权操作该消息"));
    }
    if m.read_at.is_some() {
        return Ok(to_view(m));
    }
    let m = inbox_message::ActiveModel {
        id: Set(m.id),
        read_at: Set(Some(db_time(now))),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok(to_view(m))
}
