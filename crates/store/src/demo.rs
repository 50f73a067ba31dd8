//! Deterministic demo data (`peixun serve --demo`).

use crate::{Result, Store};
use chrono::{DateTime, Utc};
use peixun_domain::role::Role;
use serde::Serialize;

/// What the demo seed created: one account per role, all with the same password.
#[derive(Debug, Clone, Serialize)]
pub struct DemoInfo {
    pub accounts: Vec<(String, Role)>,
    pub password: String,
    /// False when the database already had institutions and nothing was written.
    pub seeded: bool,
}

/// The shared demo password (passes S1).
pub const DEMO_PASSWORD: &str = "Peixun#Demo2026";

/// Seed the demo data if the database has no institutions.
pub async fn seed_demo(_store: &Store, _now: DateTime<Utc>) -> Result<DemoInfo> {
    unimplemented!("demo seed: being written")
}
