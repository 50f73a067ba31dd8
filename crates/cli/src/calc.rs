//! TODO(owner: helper) — calculator subcommands.
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CalcCommand {}

pub fn run(cmd: CalcCommand) -> ExitCode {
    match cmd {}
}
