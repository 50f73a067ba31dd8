//! The crash-safety harness's parts (SECURITY.md S20), used by `tests/crash_safety.rs`.

pub mod http;
pub mod server;
pub mod workload;
