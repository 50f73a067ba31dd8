//! TODO(owner: helper) — serve, migrate, user, audit.
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AdminCommand {}

pub fn run(cmd: AdminCommand) -> ExitCode {
    match cmd {}
}
