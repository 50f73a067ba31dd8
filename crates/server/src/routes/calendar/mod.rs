//! The holiday calendar (R-CAL-1): every signed-in user reads the loaded years; the sysadmin
//! loads or replaces a year (paste or upload the TOML, see the month calendar and every problem
//! beside its line, then save). Pages and the JSON API call the same store services
//! (`peixun_store::calendar`).

pub mod api;
pub mod pages;

use super::Registrar;

pub fn register(r: Registrar) -> Registrar {
    pages::register(api::register(r))
}
