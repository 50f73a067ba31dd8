//! Operating the background jobs (sysadmin): stale claims are seen, released and picked up by the
//! runner again; a period is re-run on purpose through the job's own code; both audited; nothing
//! changes on refusal. Run on SQLite and PostgreSQL.

use chrono::{DateTime, Duration, TimeZone, Utc};
use peixun_domain::role::Role;
use peixun_store::audit::{self, AuditFilter};
use peixun_store::jobs::{self, RUN_LEASE_MINUTES};
use peixun_store::jobs_admin::{self, RunState};
use peixun_store::{Actor, PageRequest, Store, StoreError, overdue};

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, _guard) = peixun_store::testing::sqlite_temp().await;
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, _guard) = peixun_store::testing::postgres_fresh().await;
                    super::$name(store).await;
                }
            )*
        }
    };
}

on_both_backends!(
    jobs_stale_claim_is_shown_released_and_claimed_again,
    jobs_release_refuses_running_and_finished_runs,
    jobs_rerun_takes_over_and_runs_the_job_code,
    jobs_rerun_refusals_change_nothing,
    jobs_only_sysadmin_operates,
);

/// 2026-11-26 09:00 Asia/Shanghai.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 1, 0, 0).unwrap()
}

fn sysadmin() -> Actor {
    Actor {
        user_id: Some(9),
        username: "ops".into(),
        role: Some(Role::Sysadmin),
        institution_id: None,
        ip: Some("10.0.0.9".into()),
        request_id: None,
    }
}

fn as_role(role: Role) -> Actor {
    Actor {
        role: Some(role),
        username: role.code().into(),
        ..sysadmin()
    }
}

async fn audit_rows(store: &Store, action: &str) -> Vec<audit::AuditEntry> {
    let f = AuditFilter {
        action: Some(action.into()),
        ..Default::default()
    };
    audit::search(store, &Actor::system("t"), &f, &PageRequest::first(100))
        .await
        .unwrap()
        .items
}

fn sweep_overview(o: &[jobs_admin::JobOverview]) -> &jobs_admin::JobOverview {
    o.iter().find(|j| j.name == overdue::SWEEP_JOB).unwrap()
}

async fn jobs_stale_claim_is_shown_released_and_claimed_again(store: Store) {
    // A server claims today's sweep and dies before finishing.
    assert!(
        jobs::try_claim_run(&store, overdue::SWEEP_JOB, "2026-11-26", "dead:1", t0())
            .await
            .unwrap()
    );
    let lease = Duration::minutes(RUN_LEASE_MINUTES);
    let before = jobs_admin::overview(&store, &sysadmin(), t0() + lease - Duration::seconds(1), 20)
        .await
        .unwrap();
    let s = sweep_overview(&before);
    assert_eq!(s.runs.len(), 1);
    assert_eq!(s.runs[0].state, RunState::Running);
    assert_eq!(s.stale, 0);
    assert_eq!(s.runs[0].lease_expires_at, t0() + lease);

    // The runner does not take it over: the period stays claimed.
    assert!(
        overdue::sweep_tick(&store, "srv-2", t0() + lease)
            .await
            .unwrap()
            .is_none()
    );
    let after = jobs_admin::overview(&store, &sysadmin(), t0() + lease, 20)
        .await
        .unwrap();
    let s = sweep_overview(&after);
    assert_eq!(s.runs[0].state, RunState::Stale);
    assert_eq!(s.stale, 1);
    let run_id = s.runs[0].run.id;

    let released =
        jobs_admin::release_stale(&store, &sysadmin(), run_id, "服务器断电", t0() + lease)
            .await
            .unwrap();
    assert_eq!(released.holder, "dead:1");
    let rows = audit_rows(&store, "job.release").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].target_id.as_deref(),
        Some("overdue_sweep:2026-11-26")
    );
    assert_eq!(rows[0].username, "ops");
    assert_eq!(rows[0].old_value.as_ref().unwrap()["holder"], "dead:1");
    assert_eq!(rows[0].new_value.as_ref().unwrap()["reason"], "服务器断电");

    // The next tick of a runner claims the period again and runs it.
    let out = overdue::sweep_tick(&store, "srv-2", t0() + lease + Duration::minutes(5))
        .await
        .unwrap();
    assert!(out.is_some(), "the released period runs again");
    let run = jobs::run(&store, overdue::SWEEP_JOB, "2026-11-26")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.holder, "srv-2");
    assert!(run.finished_at.is_some());
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn jobs_release_refuses_running_and_finished_runs(store: Store) {
    jobs::try_claim_run(&store, overdue::SWEEP_JOB, "2026-11-25", "alive:1", t0())
        .await
        .unwrap();
    overdue::sweep_tick(&store, "srv-1", t0()).await.unwrap();
    let o = jobs_admin::overview(&store, &sysadmin(), t0() + Duration::minutes(1), 20)
        .await
        .unwrap();
    let s = sweep_overview(&o);
    let running = s
        .runs
        .iter()
        .find(|r| r.run.period == "2026-11-25")
        .unwrap();
    let finished = s
        .runs
        .iter()
        .find(|r| r.run.period == "2026-11-26")
        .unwrap();
    assert_eq!(running.state, RunState::Running);
    assert_eq!(finished.state, RunState::Finished);
    for id in [running.run.id, finished.run.id] {
        let e = jobs_admin::release_stale(&store, &sysadmin(), id, "", t0() + Duration::minutes(1))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "JOB_RUN_NOT_STALE", "{e}");
    }
    assert!(matches!(
        jobs_admin::release_stale(&store, &sysadmin(), 999_999, "", t0()).await,
        Err(StoreError::NotFound { .. })
    ));
    // Nothing changed, nothing audited.
    assert_eq!(
        jobs::runs(&store, overdue::SWEEP_JOB, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(audit_rows(&store, "job.release").await.is_empty());
}

async fn jobs_rerun_takes_over_and_runs_the_job_code(store: Store) {
    // A stale claim of yesterday's sweep, a finished run of today's.
    jobs::try_claim_run(
        &store,
        overdue::SWEEP_JOB,
        "2026-11-25",
        "dead:1",
        t0() - Duration::days(1),
    )
    .await
    .unwrap();
    overdue::sweep_tick(&store, "srv-1", t0()).await.unwrap();
    for period in ["2026-11-25", "2026-11-26"] {
        let out = jobs_admin::rerun_period(
            &store,
            &sysadmin(),
            overdue::SWEEP_JOB,
            period,
            "核对超期名单",
            "ops-host:77",
            t0() + Duration::hours(1),
        )
        .await
        .unwrap();
        assert_eq!(out.run.holder, "ops-host:77");
        assert_eq!(out.run.claimed_at, t0() + Duration::hours(1));
        assert!(out.run.finished_at.is_some());
        // The sweep's own outcome (SweepOutcome), as the runner records it.
        let outcome = out.run.outcome.clone().unwrap();
        assert!(outcome.get("marked").is_some(), "{outcome}");
        assert!(out.replaced.is_some());
    }
    // A period never claimed (a missed reminder) can be run too.
    let out = jobs_admin::rerun_period(
        &store,
        &sysadmin(),
        "monthly_report_reminder",
        "2026-11:d-3",
        "补发提醒",
        "ops-host:77",
        t0(),
    )
    .await
    .unwrap();
    assert!(out.replaced.is_none());
    assert_eq!(
        out.run.outcome.unwrap()["institutions"],
        serde_json::json!([])
    );
    let rows = audit_rows(&store, "job.rerun").await;
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].target_id.as_deref(),
        Some("monthly_report_reminder:2026-11:d-3")
    );
    assert_eq!(rows[0].new_value.as_ref().unwrap()["reason"], "补发提醒");
    let older = rows
        .iter()
        .find(|r| r.target_id.as_deref() == Some("overdue_sweep:2026-11-25"))
        .unwrap();
    assert_eq!(older.old_value.as_ref().unwrap()["holder"], "dead:1");
    assert!(audit::verify(&store).await.unwrap().is_ok());
}

async fn jobs_rerun_refusals_change_nothing(store: Store) {
    // Today's sweep in progress (lease not expired).
    jobs::try_claim_run(&store, overdue::SWEEP_JOB, "2026-11-26", "alive:1", t0())
        .await
        .unwrap();
    let rerun = |period: &'static str, reason: &'static str| {
        let store = store.clone();
        async move {
            jobs_admin::rerun_period(
                &store,
                &sysadmin(),
                overdue::SWEEP_JOB,
                period,
                reason,
                "ops:1",
                t0() + Duration::minutes(10),
            )
            .await
            .unwrap_err()
        }
    };
    assert_eq!(
        rerun("2026-11-26", "重跑").await.code(),
        "JOB_RUN_IN_PROGRESS"
    );
    assert_eq!(rerun("2026-11-25", " ").await.code(), "JOB_REASON_REQUIRED");
    assert_eq!(
        rerun("2026-11-27", "重跑").await.code(),
        "JOB_PERIOD_FUTURE"
    );
    // Every problem at once, each naming its field (R-VAL-1).
    let e = rerun("26/11/2026", "").await;
    let fields: Vec<_> = e.problems().into_iter().map(|p| p.field.unwrap()).collect();
    assert_eq!(fields, ["period", "reason"]);
    let e = jobs_admin::rerun_period(
        &store,
        &sysadmin(),
        "nope",
        "2026-11-26",
        "x",
        "ops:1",
        t0(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "JOB_UNKNOWN");
    let run = jobs::run(&store, overdue::SWEEP_JOB, "2026-11-26")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.holder, "alive:1");
    assert!(run.finished_at.is_none());
    assert_eq!(
        jobs::runs(&store, overdue::SWEEP_JOB, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(audit_rows(&store, "job.rerun").await.is_empty());
}

async fn jobs_only_sysadmin_operates(store: Store) {
    jobs::try_claim_run(
        &store,
        overdue::SWEEP_JOB,
        "2026-11-20",
        "dead:1",
        t0() - Duration::days(6),
    )
    .await
    .unwrap();
    let run = jobs::run(&store, overdue::SWEEP_JOB, "2026-11-20")
        .await
        .unwrap()
        .unwrap();
    for role in [
        Role::CentreAdmin,
        Role::CentreStaff,
        Role::Auditor,
        Role::InstitutionAdmin,
    ] {
        let a = as_role(role);
        assert!(matches!(
            jobs_admin::overview(&store, &a, t0(), 20).await,
            Err(StoreError::Forbidden { .. })
        ));
        assert!(matches!(
            jobs_admin::release_stale(&store, &a, run.id, "", t0()).await,
            Err(StoreError::Forbidden { .. })
        ));
        assert!(matches!(
            jobs_admin::rerun_period(&store, &a, overdue::SWEEP_JOB, "2026-11-20", "x", "h", t0())
                .await,
            Err(StoreError::Forbidden { .. })
        ));
    }
    assert_eq!(audit::count(&store).await.unwrap(), 0);
    assert!(
        jobs::run(&store, overdue::SWEEP_JOB, "2026-11-20")
            .await
            .unwrap()
            .is_some()
    );
}
