//! The background job runner (ARCHITECTURE.md "jobs"): a tokio task started by `serve` (never
//! by the tests unless they ask) that every few minutes runs each job's tick. Every tick claims
//! its `(job, period)` row first ([`peixun_store::jobs::try_claim_run`], UNIQUE(job, period)),
//! so however many servers share the database, each period runs exactly once; a period missed
//! while every server was down is claimed by the first tick after (catch-up).
//!
//! Jobs:
//! * `monthly_report_reminder` — periods `YYYY-MM:d-3`, `YYYY-MM:d-1`: a message in the inbox
//!   of each institution that owes the month's report (R-RUN-3) and has not sent it.
//! * `overdue_sweep` — period = the Asia/Shanghai date: mark classes past their last day
//!   overdue, raise the sanction at the 4th (R-OVD-1/2).
//! * `file_sweep` — period = the Asia/Shanghai date: remove uploads no record points to any more
//!   (replaced documents, removed photos), after a day's grace (S15).

use crate::clock::Clock;
use peixun_store::files::FileStore;
use peixun_store::{Store, file_sweep, overdue, reports};
use std::sync::Arc;
use std::time::Duration;

/// How often the runner ticks.
pub const TICK: Duration = Duration::from_secs(300);

/// This process's name in the job-run rows: host and pid.
pub fn holder_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "peixun".into());
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .take(60)
        .collect();
    format!("{host}:{}", std::process::id())
}

/// One pass over every job (what the runner does each [`TICK`]). Errors are logged, never
/// fatal: the next tick tries again (a claimed period is not re-run; see `jobs::stale_runs`).
pub async fn tick(store: &Store, files: Option<&FileStore>, clock: &dyn Clock, holder: &str) {
    let now = clock.now();
    match reports::reminder_tick(store, holder, now).await {
        Ok(sent) => {
            for (period, insts) in sent {
                tracing::info!(job = reports::REMINDER_JOB, %period, institutions = insts.len(), "reminders sent");
            }
        }
        Err(e) => tracing::warn!(job = reports::REMINDER_JOB, error = %e, "job failed"),
    }
    match overdue::sweep_tick(store, holder, now).await {
        Ok(Some(out)) => tracing::info!(
            job = overdue::SWEEP_JOB,
            marked = out.marked.len(),
            sanctions = out.sanctions_raised.len(),
            "overdue sweep done"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(job = overdue::SWEEP_JOB, error = %e, "job failed"),
    }
    if let Some(files) = files {
        match file_sweep::sweep_tick(store, files, holder, now).await {
            Ok(Some(r)) => tracing::info!(
                job = file_sweep::FILE_SWEEP_JOB,
                removed = r.removed.len(),
                kept = r.kept,
                "file sweep done"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!(job = file_sweep::FILE_SWEEP_JOB, error = %e, "job failed"),
        }
    }
}

/// Start the runner: a tokio task ticking now and then every [`TICK`] until the process ends.
pub fn spawn(
    store: Store,
    files: FileStore,
    clock: Arc<dyn Clock>,
    anchor: Option<AuditAnchor>,
) -> tokio::task::JoinHandle<()> {
    let holder = holder_name();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            tick(&store, Some(&files), clock.as_ref(), &holder).await;
            if let Some(a) = &anchor {
                a.write(&store, clock.now()).await;
            }
        }
    })
}

/// Where and with which key the audit chain's head is anchored (S11): after every tick of the
/// runner and at shutdown.
#[derive(Debug, Clone)]
pub struct AuditAnchor {
    pub data_dir: std::path::PathBuf,
    pub key: peixun_store::audit_anchor::AnchorKey,
}

impl AuditAnchor {
    /// Writes the anchor; a failure is logged (the next tick tries again).
    pub async fn write(&self, store: &Store, now: chrono::DateTime<chrono::Utc>) {
        match peixun_store::audit_anchor::write_anchor(store, &self.data_dir, &self.key, now).await
        {
            Ok(a) => tracing::debug!(last_id = a.last_id, rows = a.rows, "audit anchor written"),
            Err(e) => tracing::warn!(error = %e, "audit anchor not written"),
        }
    }
}
