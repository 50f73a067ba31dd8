//! Roster import benchmark (issue 5): time and peak memory of reading and validating a synthetic
//! roster, in a process that does nothing else.
//!
//! ```text
//! cargo run --release -p peixun-import --example bench_import -- gen 10000 /tmp/r10k.xlsx
//! cargo run --release -p peixun-import --example bench_import -- read /tmp/r10k.xlsx
//! ```
//! `read` prints the read and validate times and the process's peak resident memory (VmHWM).

use peixun_domain::policy::Policy;
use peixun_domain::roster::{RosterContext, validate_roster};
use std::time::Instant;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("gen") => {
            let rows: usize = args.get(2).ok_or("rows")?.parse()?;
            let path = args.get(3).ok_or("path")?;
            let bytes = peixun_import::synthetic_roster_xlsx(rows, 2026)?;
            std::fs::write(path, &bytes)?;
            println!("wrote {rows} rows, {} bytes, to {path}", bytes.len());
        }
        Some("read") => {
            let path = args.get(2).ok_or("path")?;
            let bytes = std::fs::read(path)?;
            let baseline = peak_rss_kib().unwrap_or(0);
            let t = Instant::now();
            let rows = peixun_import::read_roster(&bytes, None)?;
            let read = t.elapsed();
            let policy = Policy::haizhu_default();
            let groups: Vec<String> = Vec::new();
            let ctx = RosterContext {
                start_date: peixun_import::synthetic::SYNTHETIC_START,
                policy: &policy,
                known_groups: &groups,
                min_age: 16,
            };
            let t = Instant::now();
            let valid =
                validate_roster(&rows, &ctx).map_err(|p| format!("{} problems", p.len()))?;
            let validate = t.elapsed();
            println!(
                "{} rows ({} bytes): read {:.1} ms, validate {:.1} ms; peak RSS {} KiB (before reading {} KiB)",
                valid.trainees.len(),
                bytes.len(),
                read.as_secs_f64() * 1e3,
                validate.as_secs_f64() * 1e3,
                peak_rss_kib().unwrap_or(0),
                baseline
            );
        }
        _ => eprintln!("usage: bench_import gen <rows> <path> | read <path>"),
    }
    Ok(())
}
