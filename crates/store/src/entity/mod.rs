//! SeaORM entities (compact format). Views, not these models, leave the crate's services.

pub mod audit_log;
pub mod institution;
pub mod institution_qualification;
pub mod session;
pub mod teacher;
pub mod teacher_qualification;
pub mod user;
