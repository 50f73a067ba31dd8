//! Operating the background jobs (sysadmin; docs/OPERATIONS.md): the recent runs of every job
//! with stale claims highlighted, releasing a stale claim, re-running one period on purpose.
//! The rules (what is stale, what may be taken over, the audit rows) live in
//! `peixun_store::jobs_admin`; these handlers parse, call it and render.

pub mod api;
pub mod pages;

use super::Registrar;

pub fn register(r: Registrar) -> Registrar {
    pages::register(api::register(r))
}
