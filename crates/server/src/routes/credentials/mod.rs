//! 账号凭据下发 — two-person password issue (S7, S4): a sysadmin's new account or password reset
//! is only a request with the first half of a one-time password; a centre_admin (or the
//! institution's admin, for its staff) confirms it and receives the second half. Pages at
//! `/credential-requests`, JSON under `/api/v1/credential-requests`; both call
//! `peixun_store::credentials`.

pub mod api;
pub mod pages;

use super::Registrar;

pub fn register(r: Registrar) -> Registrar {
    pages::register(api::register(r))
}
