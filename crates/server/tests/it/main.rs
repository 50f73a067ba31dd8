//! Integration tests of the web app: one test binary (link time), in-process requests through
//! `tower::ServiceExt::oneshot`, a fresh database per test. Key tests run on SQLite and PostgreSQL
//! (`both_backends!`).

mod harness;

mod api_fuzz_regressions;
mod archive;
mod auth;
mod bulletin;
mod calendar;
mod certificate_register;
mod certificates;
mod credentials;
mod evaluation_reports;
mod evaluations;
mod exports;
mod filing_package;
mod hardening;
mod institutions;
mod jobs_admin;
mod one_way_to_file;
mod openapi;
mod pagination;
mod policies;
mod queue_http;
mod rounds;
mod route_table;
mod running;
mod security;
mod startup;
mod surveys;
mod templates;
mod totp;
mod trainees;
mod violations;
