//! The crash-safety harness's parts (SECURITY.md S20), used by `tests/crash_safety.rs`; the
//! server and HTTP parts also by `tests/two_servers.rs`, so each test binary uses only some of
//! them.
#![allow(dead_code)]

pub mod http;
pub mod server;
pub mod workload;
