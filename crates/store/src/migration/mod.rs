//! One migration set for SQLite and PostgreSQL (sea-orm-migration). Add a new file per change;
//! never edit an applied migration.

use sea_orm_migration::prelude::*;

mod columns;
mod m20261126_000001_initial;
mod m20261126_000002_rounds_queue;
mod m20261126_000010_files_jobs;
mod m20261126_000020_filing_package;
mod m20261126_000030_running;
mod m20261203_000040_holiday_years;
mod m20261203_000045_filing_package_link;
pub(crate) mod m20261203_000050_policy_versions;
mod m20261203_000060_online_request_packages;
pub mod m20261203_000070_attendance_marks;
mod m20261203_000080_certificates;
mod m20261203_000090_archive_documents;
mod m20261203_000100_pii_at_rest;
mod m20261203_000110_surveys;
mod m20261203_000120_evaluations;
mod m20261203_000130_violations;
mod m20261203_000140_totp;
mod m20261203_000150_credential_requests;
pub mod m20261203_000160_queue_counters;
mod m20261203_000180_key_checks;
mod m20261203_000190_read_indexes;
pub mod m20261204_000200_archive_progress;
mod m20261204_000210_certificate_register;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_initial::Migration),
            Box::new(m20261126_000002_rounds_queue::Migration),
            Box::new(m20261126_000010_files_jobs::Migration),
            Box::new(m20261126_000020_filing_package::Migration),
            Box::new(m20261126_000030_running::Migration),
            Box::new(m20261203_000040_holiday_years::Migration),
            Box::new(m20261203_000045_filing_package_link::Migration),
            Box::new(m20261203_000050_policy_versions::Migration),
            Box::new(m20261203_000060_online_request_packages::Migration),
            Box::new(m20261203_000070_attendance_marks::Migration),
            Box::new(m20261203_000080_certificates::Migration),
            Box::new(m20261203_000090_archive_documents::Migration),
            Box::new(m20261203_000100_pii_at_rest::Migration),
            Box::new(m20261203_000110_surveys::Migration),
            Box::new(m20261203_000120_evaluations::Migration),
            Box::new(m20261203_000130_violations::Migration),
            Box::new(m20261203_000140_totp::Migration),
            Box::new(m20261203_000150_credential_requests::Migration),
            Box::new(m20261203_000160_queue_counters::Migration),
            Box::new(m20261203_000180_key_checks::Migration),
            Box::new(m20261203_000190_read_indexes::Migration),
            Box::new(m20261204_000200_archive_progress::Migration),
            Box::new(m20261204_000210_certificate_register::Migration),
        ]
    }
}
