//! Trainees (学员) of a class roster: the full ID number on purpose, with a reason, audited
//! (R-PII-1, SECURITY.md S13) — the same rule and the same form as a teacher's. Pages and the
//! JSON API call the same store service (`peixun_store::roster::reveal_id_number`).

pub mod api;
pub mod pages;

use super::Registrar;

pub fn register(r: Registrar) -> Registrar {
    pages::register(api::register(r))
}
