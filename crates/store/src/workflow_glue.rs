//! Glue between the store and `peixun_domain::workflow`: the domain actor, transition errors as
//! store errors, today's Asia/Shanghai date, the round row lock and the retry of write
//! transactions that PostgreSQL aborted (serialization failure, deadlock).

use crate::entity::round;
use crate::{Actor, Backend, Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use peixun_domain::role::Role;
use peixun_domain::rules::shanghai;
use peixun_domain::workflow::{self, TransitionError};
use sea_orm::{DatabaseTransaction, EntityTrait, QuerySelect};

/// The actor as the workflow machines see it. A user without an id (seed, tests) acts as user 0.
pub(crate) fn wf_actor(a: &Actor) -> workflow::Actor {
    match a.role {
        None => workflow::Actor::System,
        Some(role) => workflow::Actor::User {
            role,
            user_id: a.user_id.unwrap_or(0),
            institution_id: a.institution_id,
        },
    }
}

/// A refused transition: who-may-act refusals are `Forbidden`, the rest `Validation` with the
/// workflow's stable code.
pub(crate) fn wf_err(e: TransitionError) -> StoreError {
    match e {
        TransitionError::RoleNotAllowed { .. }
        | TransitionError::OtherInstitution
        | TransitionError::SystemOnly { .. }
        | TransitionError::PersonOnly { .. } => StoreError::forbidden(e.to_string()),
        TransitionError::BadText(p) => p.into(),
        other => StoreError::Validation {
            code: other.code(),
            message: other.to_string(),
            field: None,
        },
    }
}

/// The Asia/Shanghai date of `now`.
pub(crate) fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&shanghai()).date_naive()
}

/// `2026-03-02 09:00:00` in Asia/Shanghai (the bulletin shows submission times to the second).
pub(crate) fn local_second(t: DateTime<Utc>) -> String {
    t.with_timezone(&shanghai())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

pub(crate) fn is_role(a: &Actor, roles: &[Role]) -> bool {
    a.role.is_some_and(|r| roles.contains(&r))
}

pub(crate) fn is_centre(a: &Actor) -> bool {
    a.role.is_some_and(Role::is_centre)
}

/// Load a round inside a write transaction, locking its row on PostgreSQL (`SELECT … FOR
/// UPDATE`, ARCHITECTURE.md "Concurrency"). On SQLite the transaction already holds the one
/// write lock (`BEGIN IMMEDIATE`).
pub(crate) async fn lock_round(
    store: &Store,
    txn: &DatabaseTransaction,
    id: i64,
) -> Result<round::Model> {
    let mut q = round::Entity::find_by_id(id);
    if store.backend() == Backend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(txn)
        .await?
        .ok_or(StoreError::NotFound { entity: "round" })
}

pub(crate) fn retriable(e: &StoreError) -> bool {
    match e {
        StoreError::Db(db) => {
            let s = db.to_string();
            s.contains("40001")
                || s.contains("40P01")
                || s.contains("could not serialize")
                || s.contains("deadlock detected")
        }
        _ => false,
    }
}

/// Pins an async block's output to the store's `Result` (so `?` converts errors).
pub(crate) async fn typed<T>(f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    f.await
}

/// Run a write transaction (an `async` block) again, at most 3 attempts in all, when PostgreSQL
/// aborted it with a serialization failure or a deadlock; every other outcome is returned as
/// is. A macro rather than a function taking an async closure, so that the services' futures
/// stay `Send` (axum handlers, `tokio::spawn`).
macro_rules! with_retry {
    ($body:block) => {{
        let mut attempt = 0u64;
        loop {
            attempt += 1;
            match $crate::workflow_glue::typed(async $body).await {
                Err(e) if attempt < 3 && $crate::workflow_glue::retriable(&e) => {
                    tracing::warn!(attempt, "write transaction aborted by the database, retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(5 * attempt)).await;
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use with_retry;
