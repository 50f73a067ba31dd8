//! The sysadmin's jobs page and API: a stale claim (holder died) is highlighted, released and
//! picked up by the runner's next tick; a period is re-run on purpose (reason required) through
//! the job's own code; both audited; refusals change nothing.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use crate::rounds::{round, signed};
use axum::http::Method;
use chrono::{Duration, TimeZone, Utc};
use peixun_domain::workflow::round::Half;
use peixun_store::audit::{self, AuditFilter};
use peixun_store::jobs::{self, RUN_LEASE_MINUTES};
use peixun_store::{Actor, Backend, PageRequest, overdue, reports};
use serde_json::json;

fn shanghai(y: i32, m: u32, day: u32, h: u32) -> chrono::DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, day, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn audit_actions(app: &TestApp, action: &str) -> Vec<audit::AuditEntry> {
    let f = AuditFilter {
        action: Some(action.into()),
        ..Default::default()
    };
    audit::search(&app.store, &Actor::system("t"), &f, &PageRequest::first(50))
        .await
        .unwrap()
        .items
}

async fn stale_claim_page_release_and_runner_picks_it_up(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = shanghai(2026, 11, 26, 9);
    // A server claimed today's sweep at 09:00 and died.
    assert!(
        jobs::try_claim_run(
            &app.store,
            overdue::SWEEP_JOB,
            "2026-11-26",
            "dead-host:4242",
            t
        )
        .await
        .unwrap()
    );
    app.set_clock(t + Duration::minutes(5));
    let page = app.get("/admin/jobs", Who::Sysadmin).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("dead-host:4242"));
    assert!(html.contains("执行中"));
    assert!(!html.contains("run-stale"));

    app.set_clock(t + Duration::minutes(RUN_LEASE_MINUTES + 1));
    let html = app.get("/admin/jobs", Who::Sysadmin).await.text();
    assert!(
        html.contains(r#"<tr class="run-stale">"#),
        "stale row highlighted"
    );
    assert!(html.contains("有 1 条失效的认领"));
    let api = app.get_api("/api/v1/admin/jobs", Who::Sysadmin).await;
    assert_eq!(api.status, 200);
    let body = api.json();
    let sweep = body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "overdue_sweep")
        .unwrap();
    assert_eq!(sweep["stale"], 1);
    assert_eq!(sweep["runs"][0]["state"], "stale");
    assert_eq!(sweep["runs"][0]["holder"], "dead-host:4242");
    let run_id = sweep["runs"][0]["id"].as_i64().unwrap();

    // The runner does not take a stale claim over by itself.
    let clock: std::sync::Arc<dyn peixun_server::clock::Clock> = app.clock.clone();
    peixun_server::jobs::tick(&app.store, None, clock.as_ref(), "srv-2").await;
    let run = jobs::run(&app.store, overdue::SWEEP_JOB, "2026-11-26")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.holder, "dead-host:4242");

    // Released from the page (audited), then the next tick runs the period.
    let r = app
        .post_form(
            &format!("/admin/jobs/runs/{run_id}/release"),
            Who::Sysadmin,
            &[("reason", "服务器宕机后恢复")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), "/admin/jobs?saved=released");
    let rows = audit_actions(&app, "job.release").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].username, "sysadmin");
    assert_eq!(rows[0].role.as_deref(), Some("sysadmin"));
    peixun_server::jobs::tick(&app.store, None, clock.as_ref(), "srv-2").await;
    let run = jobs::run(&app.store, overdue::SWEEP_JOB, "2026-11-26")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.holder, "srv-2");
    assert!(run.finished_at.is_some());

    // Releasing it again: it is no longer stale (409), nothing changes.
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/jobs/runs/{}/release", run.id),
            Who::Sysadmin,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["code"], "JOB_RUN_NOT_STALE");
    assert_eq!(audit_actions(&app, "job.release").await.len(), 1);
}

/// R-RUN-3 reminders re-sent on purpose: the re-run goes through the reminder job's own code
/// (a second inbox message), the reason is required and audited.
async fn rerun_period_sends_through_the_job_code(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "提醒批次", 20, false).await;
    signed(&app, r, Who::InstAAdmin, 5).await;
    app.set_clock(shanghai(2026, 3, 24, 8));
    let clock: std::sync::Arc<dyn peixun_server::clock::Clock> = app.clock.clone();
    peixun_server::jobs::tick(&app.store, None, clock.as_ref(), "srv-1").await;
    let inbox = || async {
        app.get_api("/api/v1/inbox", Who::InstAStaff)
            .await
            .text()
            .matches("请于3月25日前提交2026年3月开展情况")
            .count()
    };
    assert_eq!(inbox().await, 2, "d-3 and d-1 sent by the runner");
    let book = peixun_store::policies::PolicyHistory::load(app.store.db())
        .await
        .unwrap();
    let key =
        reports::due_reminder_periods(chrono::NaiveDate::from_ymd_opt(2026, 3, 24).unwrap(), &book)
            .last()
            .unwrap()
            .key();

    // No reason: refused with the field named, nothing sent, nothing audited.
    let bad = app
        .api(
            Method::POST,
            "/api/v1/admin/jobs/monthly_report_reminder/rerun",
            Who::Sysadmin,
            Some(json!({ "period": key, "reason": "" })),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["code"], "JOB_REASON_REQUIRED");
    assert_eq!(bad.json()["field"], "reason");
    // The page shows the form again with the message beside the field and the period kept.
    let page = app
        .post_form(
            "/admin/jobs/monthly_report_reminder/rerun",
            Who::Sysadmin,
            &[("period", &key), ("reason", "")],
        )
        .await;
    assert_eq!(page.status, 422);
    let html = page.text();
    assert!(html.contains("原因：必填"));
    assert!(html.contains(r#"id="reason-monthly_report_reminder-error""#));
    assert!(html.contains(&format!(r#"value="{key}""#)));
    assert_eq!(inbox().await, 2);
    assert!(audit_actions(&app, "job.rerun").await.is_empty());

    // A business role may not.
    let denied = app
        .api(
            Method::POST,
            "/api/v1/admin/jobs/monthly_report_reminder/rerun",
            Who::CentreAdmin,
            Some(json!({ "period": key, "reason": "补发" })),
        )
        .await;
    assert_eq!(denied.status, 403);

    let ok = app
        .api(
            Method::POST,
            "/api/v1/admin/jobs/monthly_report_reminder/rerun",
            Who::Sysadmin,
            Some(json!({ "period": key, "reason": "机构反映未收到提醒，补发" })),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let body = ok.json();
    assert_eq!(body["run"]["state"], "finished");
    assert_eq!(body["run"]["holder"], peixun_server::jobs::holder_name());
    assert_eq!(body["replaced"]["holder"], "srv-1");
    assert_eq!(
        inbox().await,
        3,
        "one more reminder, sent by the job's code"
    );
    let rows = audit_actions(&app, "job.rerun").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].new_value.as_ref().unwrap()["reason"],
        "机构反映未收到提醒，补发"
    );
    assert_eq!(
        rows[0].target_id.as_deref(),
        Some(format!("monthly_report_reminder:{key}").as_str())
    );

    // From the page: redirect with a confirmation.
    let r = app
        .post_form(
            "/admin/jobs/monthly_report_reminder/rerun",
            Who::Sysadmin,
            &[("period", &key), ("reason", "再次补发")],
        )
        .await;
    assert_eq!(r.status, 303);
    let html = app
        .get("/admin/jobs?saved=rerun", Who::Sysadmin)
        .await
        .text();
    assert!(html.contains("已重新执行该期"));
    assert_eq!(inbox().await, 4);
    assert!(audit::verify(&app.store).await.unwrap().is_ok());
}

both_backends!(
    stale_claim_page_release_and_runner_picks_it_up,
    rerun_period_sends_through_the_job_code,
);

/// The sample context of `jobs_admin.html` for the template test (every value escaped).
pub fn template_sample(
    name: &str,
    x: &str,
    errs: &serde_json::Value,
    field_errs: &serde_json::Value,
) -> Option<serde_json::Value> {
    (name == "jobs_admin.html").then(|| {
        let run = |state: &str| {
            json!({ "id": 4, "period": x, "holder": x, "claimed_at": "2026-11-26 09:00:00",
                "finished_at": "", "lease_expires_at": "2026-11-26 09:30:00", "state": state,
                "state_label": "已失效（执行者中断）", "outcome": x })
        };
        json!({ "lease_minutes": 30, "errors": errs, "jobs": [
            { "name": "overdue_sweep", "label": x, "period_hint": x, "stale": 1,
              "runs": [run("stale"), run("finished")],
              "form": { "period": x, "reason": x }, "errors": errs,
              "field_errors": { "period-overdue_sweep": x } },
            { "name": "monthly_report_reminder", "label": "月度反馈提醒", "period_hint": "", "stale": 0,
              "runs": [], "form": { "period": "", "reason": "" }, "errors": [], "field_errors": field_errs }
        ] })
    })
}
