//! The `peixun` binary: a thin shell over the library crates.

mod admin;
mod bench_http;
mod calc;
mod seed;

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
        Command::Calc(cmd) => {
            restore_default_sigpipe();
            calc::run(cmd)
        }
        Command::Admin(cmd) => admin::run(cmd),
    }
}

/// The calculator is a filter-style tool (`peixun rules cap … | head`): like other Unix tools it
/// should end quietly when its reader goes away, not panic on a broken pipe. Only for the
/// calculator: the server relies on Rust's default (SIGPIPE ignored, EPIPE returned on sockets).
fn restore_default_sigpipe() {
    // SAFETY: called once at start-up on the main thread before any other thread exists;
    // `signal` with SIG_DFL has no other preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
