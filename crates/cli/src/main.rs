//! The `peixun` binary: a thin shell over the library crates.

mod admin;
mod calc;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "peixun",
    version,
    about = "海珠区职业技能培训合格证书培训管理系统 peixun"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The rules calculator (same code as the pages): `rules`, `calendar`, `check`.
    #[command(flatten)]
    Calc(calc::CalcCommand),
    /// Server and administration: `serve`, `migrate`, `user`, `audit` …
    #[command(flatten)]
    Admin(admin::AdminCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Calc(cmd) => calc::run(cmd),
        Command::Admin(cmd) => admin::run(cmd),
    }
}
