//! Plans, rounds, applications, caps and agreements over HTTP: rollover (R-PLAN-3), history
//! (R-PLAN-4), overrides need a reason (R-CAP-8), suspended institutions cannot sign (R-CAP-3),
//! the cap trail rendered in Chinese (R-CAP-7), S6 (institution B cannot see or act on A's
//! application, agreement or filing) and CSRF on the new forms (S19). Also the fixture the S5
//! route table uses for these routes, and the templates' sample contexts.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use axum::http::Method;
use chrono::NaiveDate;
use peixun_domain::workflow::round::Half;
use peixun_store::agreements::{self, ApplicationInput, PriorPerformanceInput, SignInput};
use peixun_store::plans::{self, PlanInput};
use peixun_store::rounds::{self, RoundInput, TargetGroup};
use peixun_store::{Actor, Backend};
use serde_json::{Value as J, json};

pub const OCC: &str = "育婴员";
pub const LEVEL: &str = "初级";

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub fn actor_of(app: &TestApp, who: Who) -> Actor {
    Actor {
        user_id: Some(app.user_id(who)),
        username: who.username().into(),
        role: who.role(),
        institution_id: match who {
            Who::InstAAdmin | Who::InstAStaff => Some(app.inst_a),
            Who::InstBAdmin => Some(app.inst_b),
            _ => None,
        },
        ip: None,
        request_id: None,
    }
}

pub fn round_input(year: i32, half: Half, label: &str, base: u32) -> RoundInput {
    RoundInput {
        year,
        half,
        label: label.into(),
        base_planned: base,
        window_start: d(2026, 3, 1),
        window_end: d(2026, 3, 31),
        target_groups: vec![TargetGroup {
            name: "就业困难人员".into(),
            required_share_percent: 20,
        }],
        call_text: "征集公告".into(),
    }
}

/// A round, published unless `draft`.
pub async fn round(app: &TestApp, half: Half, label: &str, base: u32, draft: bool) -> i64 {
    let ca = actor_of(app, Who::CentreAdmin);
    let now = app.clock_now();
    let r = rounds::create_round(&app.store, &ca, &round_input(2026, half, label, base), now)
        .await
        .unwrap();
    if !draft {
        rounds::publish_round(&app.store, &ca, r.id, now)
            .await
            .unwrap();
    }
    r.id
}

/// `who`'s institution applies to the round; returns the application id.
pub async fn apply(app: &TestApp, round_id: i64, who: Who) -> i64 {
    agreements::apply_to_round(
        &app.store,
        &actor_of(app, who),
        &ApplicationInput {
            round_id,
            occupations: vec![OCC.into()],
            classes_requested: 5,
            note: String::new(),
        },
        app.clock_now(),
    )
    .await
    .unwrap()
    .id
}

/// Applies and signs (first agreement: `first_cap`); returns (application, agreement).
/// The agreement then gets a confirmed evaluation (C = 100, S = 95) so that the institution's
/// next agreement in these tests is derived as before (R-CAP-3 reads the previous agreement's
/// confirmed evaluation; tests of R-CAP-3 itself are in `evaluations`).
pub async fn signed(app: &TestApp, round_id: i64, who: Who, first_cap: u32) -> (i64, i64) {
    let (a, ag) = signed_only(app, round_id, who, first_cap).await;
    peixun_store::evaluations::record_confirmed_summary(
        &app.store,
        ag,
        100,
        "95".parse().unwrap(),
        app.clock_now(),
    )
    .await
    .unwrap();
    (a, ag)
}

/// Applies and signs, nothing more.
pub async fn signed_only(app: &TestApp, round_id: i64, who: Who, first_cap: u32) -> (i64, i64) {
    let a = apply(app, round_id, who).await;
    let ag = agreements::sign_agreement(
        &app.store,
        &actor_of(app, Who::CentreAdmin),
        &SignInput {
            application_id: a,
            first_cap: Some(first_cap),
            override_cap: None,
        },
        app.clock_now(),
    )
    .await
    .unwrap();
    (a, ag.id)
}

pub async fn performance(app: &TestApp, institution_id: i64, c: u32, score: &str) {
    agreements::record_prior_performance(
        &app.store,
        &actor_of(app, Who::CentreAdmin),
        &PriorPerformanceInput {
            institution_id,
            round_label: "2025年下半年".into(),
            completed_on_time: c,
            score: score.parse().unwrap(),
            evidence: "2025年度绩效评估报告（穗海人社评〔2025〕8号）".into(),
        },
        app.clock_now(),
    )
    .await
    .unwrap();
}

pub async fn file(app: &TestApp, agreement_id: i64, who: Who) -> i64 {
    file_on(app, agreement_id, who, d(2026, 4, 1)).await
}

/// A complete filing package of `who`'s institution starting on `start`, submitted now through
/// every check (R-FIL-1…8): the only way into the queue (issue 8).
pub async fn file_on(app: &TestApp, agreement_id: i64, who: Who, start: chrono::NaiveDate) -> i64 {
    let spec = peixun_store::ready_package::ReadyPackage::new(agreement_id, OCC, LEVEL, start);
    // A class starting before today's lead time (fixtures of past classes) was filed on its
    // R-FIL-3 deadline, 09:00 Asia/Shanghai.
    let deadline = peixun_domain::calendar::Calendar::builtin()
        .filing_deadline(start, &peixun_domain::policy::Policy::haizhu_default())
        .unwrap();
    let on_time = chrono::TimeZone::from_local_datetime(
        &chrono::FixedOffset::east_opt(8 * 3600).unwrap(),
        &deadline.and_hms_opt(9, 0, 0).unwrap(),
    )
    .unwrap()
    .with_timezone(&chrono::Utc);
    peixun_store::ready_package::file(
        &app.store,
        &app.state.files,
        &app.state.roster_key,
        &actor_of(app, who),
        &spec,
        app.clock_now().min(on_time),
    )
    .await
    .unwrap()
    .id
}

async fn plan(app: &TestApp, year: i32) -> i64 {
    plans::create_plan(
        &app.store,
        &actor_of(app, Who::CentreAdmin),
        &PlanInput {
            year,
            total_classes: 60,
            budget: "1250000.00".parse().unwrap(),
            note: String::new(),
        },
        app.clock_now(),
    )
    .await
    .unwrap()
    .id
}

// ---- the S5 fixture -----------------------------------------------------------------------------

/// Records for the role × route table (S5): every `{id}` of the new routes points at one of these.
pub struct Fixture {
    plan: i64,
    plan_submit_page: i64,
    plan_submit_api: i64,
    round: i64,
    draft_page: i64,
    draft_api: i64,
    close_page: i64,
    close_api: i64,
    application: i64,
    agreement: i64,
    filing: i64,
    withdraw_page: i64,
    withdraw_api: i64,
    approve_page: i64,
    approve_api: i64,
    message: i64,
    /// The confirmed evaluation of `agreement` (R-EVA-1).
    evaluation: i64,
}

impl Fixture {
    pub async fn new(app: &TestApp) -> Fixture {
        let round_id = round(app, Half::Other, "S5测试批次", 20, false).await;
        let (application, agreement) = signed(app, round_id, Who::InstAAdmin, 10).await;
        let mut f = Vec::new();
        for _ in 0..5 {
            f.push(file(app, agreement, Who::InstAStaff).await);
        }
        // An inbox message for A: a round closed with A's filing still waiting (R-PLAN-3).
        performance(app, app.inst_a, 100, "95").await;
        let w = round(app, Half::Other, "S5消息批次", 2, false).await;
        let (_, wa) = signed(app, w, Who::InstAAdmin, 1).await;
        file(app, wa, Who::InstAStaff).await;
        file(app, wa, Who::InstAStaff).await;
        rounds::close_round(
            &app.store,
            &actor_of(app, Who::CentreAdmin),
            w,
            app.clock_now(),
        )
        .await
        .unwrap();
        let message = peixun_store::inbox::list_inbox(
            &app.store,
            &actor_of(app, Who::InstAAdmin),
            app.inst_a,
        )
        .await
        .unwrap()[0]
            .id;
        let evaluation = peixun_store::evaluations::evaluation_for_agreement(
            &app.store,
            &actor_of(app, Who::CentreAdmin),
            agreement,
        )
        .await
        .unwrap()
        .expect("signed() records an evaluation")
        .id;
        Fixture {
            evaluation,
            plan: plan(app, 2026).await,
            plan_submit_page: plan(app, 2027).await,
            plan_submit_api: plan(app, 2028).await,
            round: round_id,
            draft_page: round(app, Half::Other, "S5待发布1", 5, true).await,
            draft_api: round(app, Half::Other, "S5待发布2", 5, true).await,
            close_page: round(app, Half::Other, "S5待结束1", 5, false).await,
            close_api: round(app, Half::Other, "S5待结束2", 5, false).await,
            application,
            agreement,
            filing: f[0],
            withdraw_page: f[1],
            withdraw_api: f[2],
            approve_page: f[3],
            approve_api: f[4],
            message,
        }
    }

    /// The record a path's `{id}` stands for, if the path is one of this issue's.
    pub fn id_for(&self, path: &str) -> Option<i64> {
        let p = path.strip_prefix("/api/v1").unwrap_or(path);
        let api = path.starts_with("/api/v1");
        let pick = |page: i64, api_id: i64| if api { api_id } else { page };
        Some(match p {
            "/plans/{id}/submit" => pick(self.plan_submit_page, self.plan_submit_api),
            p if p.starts_with("/plans/") => self.plan,
            "/rounds/{id}/publish" => pick(self.draft_page, self.draft_api),
            "/rounds/{id}/close" => pick(self.close_page, self.close_api),
            p if p.starts_with("/rounds/") || p.starts_with("/bulletin/rounds/") => self.round,
            p if p.starts_with("/applications/") => self.application,
            p if p.starts_with("/agreements/") => self.agreement,
            p if p.starts_with("/evaluations/") => self.evaluation,
            "/filings/{id}/withdraw" => pick(self.withdraw_page, self.withdraw_api),
            "/filings/{id}/approve" => pick(self.approve_page, self.approve_api),
            p if p.starts_with("/filings/") => self.filing,
            p if p.starts_with("/inbox/") => self.message,
            _ => return None,
        })
    }
}

// ---- tests --------------------------------------------------------------------------------------

fn form_round(year: &str, half: &str, base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("year", year.into()),
        ("half", half.into()),
        ("label", String::new()),
        ("base_planned", base.into()),
        ("window_start", "2026-03-01".into()),
        ("window_end", "2026-03-31".into()),
        ("tg_name_0", "就业困难人员".into()),
        ("tg_share_0", "20".into()),
        ("tg_name_1", "残疾人".into()),
        ("tg_share_1", "5".into()),
        ("tg_name_2", String::new()),
        ("tg_share_2", String::new()),
        (
            "call_text",
            "现征集2026年职业技能培训合格证书培训任务。".into(),
        ),
    ]
}

async fn post(
    app: &TestApp,
    path: &str,
    who: Who,
    fields: &[(&str, String)],
) -> crate::harness::TestResponse {
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form(path, who, &f).await
}

fn location(r: &crate::harness::TestResponse) -> String {
    r.header("location").to_string()
}

fn id_in(loc: &str, prefix: &str) -> i64 {
    loc.strip_prefix(prefix)
        .and_then(|s| s.split('?').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{loc} does not start with {prefix}"))
}

/// R-PLAN-2/3/4 through the pages: create H1 and H2, publish, file, close H1 → H2 shows base +
/// rolled over; the waiting filing ends 未获名额 and A's inbox says so; the history keeps every
/// change with who and why.
async fn r_plan_3_rollover_via_http(backend: Backend) {
    let app = TestApp::new(backend).await;
    let ca = Who::CentreAdmin;
    let r = post(&app, "/rounds/new", ca, &form_round("2026", "h1", "4")).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let h1 = id_in(&location(&r), "/rounds/");
    let r = post(&app, "/rounds/new", ca, &form_round("2026", "h2", "10")).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let h2 = id_in(&location(&r), "/rounds/");
    for id in [h1, h2] {
        let r = app
            .post_form(&format!("/rounds/{id}/publish"), ca, &[])
            .await;
        assert_eq!(r.status, 303, "{}", r.text());
    }
    // A published round changes only with a reason (R-PLAN-4): the field error, values kept.
    let mut f = form_round("2026", "h1", "5");
    f.push(("reason", String::new()));
    let r = post(&app, &format!("/rounds/{h1}/edit"), ca, &f).await;
    assert_eq!(r.status, 422);
    let html = r.text();
    assert!(html.contains("批次已发布，调整须填写理由"), "{html}");
    assert!(html.contains("id=\"reason-error\""));
    assert!(html.contains("value=\"5\""), "values kept");
    f.pop();
    f.push(("reason", "区人社局追加指标".into()));
    let r = post(&app, &format!("/rounds/{h1}/edit"), ca, &f).await;
    assert_eq!(r.status, 303, "{}", r.text());
    // H1: P = 5, A (cap 3 = round(2.5)) files 4: 3 hold, 1 waits; consumed 3 → rolls 2.
    let (_, ag) = signed(&app, h1, Who::InstAAdmin, 3).await;
    for _ in 0..4 {
        file(&app, ag, Who::InstAStaff).await;
    }
    // Closing asks for a confirmation (no JavaScript: a checkbox the server checks).
    let r = app.post_form(&format!("/rounds/{h1}/close"), ca, &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("id=\"confirm-error\""));
    let r = app
        .post_form(&format!("/rounds/{h1}/close"), ca, &[("confirm", "1")])
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let html = app.get(&format!("/rounds/{h1}"), ca).await.text();
    assert!(html.contains("批次结束结果"), "{html}");
    assert!(html.contains("2 个班次，已纳入"), "{html}");
    assert!(html.contains("1 份（已通知相关机构）"), "{html}");
    // H2 shows base + rolled over, separately.
    let h2v = app
        .get_api(&format!("/api/v1/rounds/{h2}"), Who::Bureau)
        .await
        .json();
    assert_eq!(h2v["base_planned"], 10);
    assert_eq!(h2v["rolled_over"], 2);
    assert_eq!(h2v["planned_total"], 12);
    let html = app.get(&format!("/rounds/{h2}"), Who::City).await.text();
    assert!(html.contains("基数 10 + 上半年结转 2"), "{html}");
    // History: old → new, who, why.
    let hist = app
        .get_api(&format!("/api/v1/rounds/{h1}/history"), Who::CentreStaff)
        .await
        .json();
    let base = hist
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "base_planned")
        .expect("base_planned change");
    assert_eq!(base["old_value"], "4");
    assert_eq!(base["new_value"], "5");
    assert_eq!(base["reason"], "区人社局追加指标");
    assert_eq!(base["changed_by"], "centre_admin");
    let html = app.get(&format!("/rounds/{h1}"), ca).await.text();
    assert!(html.contains("区人社局追加指标") && html.contains("计划班次数（基数）"));
    // The waiting filing's institution is told (inbox).
    let inbox = app.get("/inbox", Who::InstAAdmin).await.text();
    assert!(inbox.contains("未获名额"), "{inbox}");
    let api = app.get_api("/api/v1/inbox", Who::InstAStaff).await.json();
    assert_eq!(api.as_array().unwrap().len(), 1);
    assert!(
        app.get_api("/api/v1/inbox", Who::InstBAdmin)
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// R-PLAN-1: the bureau co-approves the plan in the app; a return needs a comment.
async fn r_plan_1_bureau_approves_the_plan(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = app
        .post_form(
            "/plans/new",
            Who::CentreAdmin,
            &[
                ("year", "2026"),
                ("total_classes", "60"),
                ("budget", "1,250,000.00"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let id = id_in(&location(&r), "/plans/");
    assert_eq!(
        app.post_form(&format!("/plans/{id}/submit"), Who::CentreAdmin, &[])
            .await
            .status,
        303
    );
    let r = app
        .post_form(
            &format!("/plans/{id}/decide"),
            Who::Bureau,
            &[("decision", "return"), ("comment", "")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("退回须填写意见"));
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/plans/{id}/decision"),
            Who::Bureau,
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "approved");
    // Now a change needs a reason.
    let r = app
        .api(
            Method::PUT,
            &format!("/api/v1/plans/{id}"),
            Who::CentreAdmin,
            Some(json!({"year": 2026, "total_classes": 70, "budget": "1250000"})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["field"], "reason");
    let html = app.get(&format!("/plans/{id}"), Who::City).await.text();
    assert!(html.contains("已审核通过") && html.contains("调整记录"));
}

/// R-CAP-8: an override without a reason is refused with the field; with one, the trail keeps
/// both values.
async fn r_cap_8_override_needs_a_reason(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "调整测试", 20, false).await;
    let (_, ag) = signed(&app, r, Who::InstAAdmin, 6).await;
    let path = format!("/api/v1/agreements/{ag}/override");
    let resp = app
        .api(
            Method::POST,
            &path,
            Who::CentreAdmin,
            Some(json!({"cap": 8, "reason": "  "})),
        )
        .await;
    assert_eq!(resp.status, 422);
    assert_eq!(resp.json()["code"], "CAP_OVERRIDE_REASON");
    assert_eq!(resp.json()["field"], "override_reason");
    // The page: error beside the field, values kept.
    let page = app
        .post_form(
            &format!("/agreements/{ag}/override"),
            Who::CentreAdmin,
            &[("cap", "8"), ("reason", "")],
        )
        .await;
    assert_eq!(page.status, 422);
    let html = page.text();
    assert!(html.contains("调整签约班次上限须填写理由"), "{html}");
    assert!(html.contains("id=\"reason-error\""), "{html}");
    assert!(html.contains("value=\"8\""));
    // With a reason: both values in the trail.
    let ok = app
        .api(
            Method::POST,
            &path,
            Who::CentreAdmin,
            Some(json!({"cap": 8, "reason": "承接重点对象培训任务"})),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let v = ok.json();
    assert_eq!(v["cap"], 8);
    assert_eq!(v["decision"]["computed_cap"], 6);
    assert_eq!(v["decision"]["overrides"][0]["from"], 6);
    assert_eq!(
        v["decision"]["overrides"][0]["reason"],
        "承接重点对象培训任务"
    );
    let html = app
        .get(&format!("/agreements/{ag}"), Who::InstAStaff)
        .await
        .text();
    assert!(html.contains("计算值 6 → 调整为 8"), "{html}");
    assert!(html.contains("计算值 6，现行上限 8"));
    // A signing override without a reason: the page's field error too.
    let r2 = round(&app, Half::Other, "调整测试2", 20, false).await;
    let a2 = apply(&app, r2, Who::InstBAdmin).await;
    let page = app
        .post_form(
            &format!("/applications/{a2}/sign"),
            Who::CentreAdmin,
            &[
                ("first_cap", "5"),
                ("override_cap", "7"),
                ("override_reason", ""),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.text().contains("id=\"override_reason-error\""));
}

/// R-CAP-3: a score below 61 suspends: the centre cannot sign, even with an override (R-CAP-8),
/// and the page says why in Chinese.
async fn r_cap_3_suspended_institution_cannot_sign(backend: Backend) {
    let app = TestApp::new(backend).await;
    performance(&app, app.inst_b, 10, "60").await;
    let r = round(&app, Half::Other, "暂停测试", 20, false).await;
    let a = apply(&app, r, Who::InstBAdmin).await;
    let page = app
        .get(&format!("/applications/{a}"), Who::CentreAdmin)
        .await
        .text();
    assert!(page.contains("暂停签约分配指标"), "{page}");
    let resp = app
        .post_form(&format!("/applications/{a}/sign"), Who::CentreAdmin, &[])
        .await;
    assert_eq!(resp.status, 422);
    let html = resp.text();
    assert!(html.contains("提交内容有误"), "error summary");
    assert!(
        html.contains("前次综合评估得分低于61分，暂停签约分配指标"),
        "{html}"
    );
    let api = app
        .api(
            Method::POST,
            "/api/v1/agreements",
            Who::CentreAdmin,
            Some(json!({"application_id": a})),
        )
        .await;
    assert_eq!(api.status, 422);
    assert_eq!(api.json()["code"], "CAP_SUSPENDED");
    // R-CAP-8: an override with a reason does not lift it either, on the page or in the API.
    let resp = app
        .post_form(
            &format!("/applications/{a}/sign"),
            Who::CentreAdmin,
            &[("override_cap", "3"), ("override_reason", "复核后上调")],
        )
        .await;
    assert_eq!(resp.status, 422);
    let html = resp.text();
    assert!(html.contains("id=\"override_cap-error\""), "{html}");
    assert!(html.contains("调整上限不能解除暂停"), "{html}");
    let api = app
        .api(
            Method::POST,
            "/api/v1/agreements",
            Who::CentreAdmin,
            Some(json!({"application_id": a, "override_cap": {"cap": 3, "reason": "复核后上调"}})),
        )
        .await;
    assert_eq!(api.status, 422);
    assert_eq!(api.json()["code"], "CAP_SUSPENDED");
    assert_eq!(api.json()["field"], "override_cap");
    assert!(
        agreements::list_agreements(&app.store, &actor_of(&app, Who::CentreAdmin), r)
            .await
            .unwrap()
            .is_empty()
    );
}

/// R-CAP-7: the trail as the centre sees it before signing (API snapshot) and the table on the
/// page (项目 / 数值 / 说明). C = 6, S = 95, P = 35, P_prev = 24 → 10.5 → 11 (SPEC §5 exactness).
async fn r_cap_7_trail_rendering(backend: Backend) {
    let app = TestApp::new(backend).await;
    let prev = round(&app, Half::Other, "前次批次", 24, false).await;
    let _ = prev;
    performance(&app, app.inst_a, 6, "95").await;
    let r = round(&app, Half::Other, "本次批次", 35, false).await;
    // Not a major-project institution for the figure (A is created major-capable: turn it off).
    let mut input = crate::harness::institution_input("海珠区甲职业培训学校", "91440105MA59A0000");
    input.major_project_capable = false;
    input.major_projects = vec![];
    peixun_store::institutions::update_institution(
        &app.store,
        &Actor::system("t"),
        app.inst_a,
        &input,
        app.clock_now(),
    )
    .await
    .unwrap();
    let a = apply(&app, r, Who::InstAAdmin).await;
    let v = app
        .get_api(&format!("/api/v1/applications/{a}/cap"), Who::CentreStaff)
        .await;
    assert_eq!(v.status, 200, "{}", v.text());
    let mut j = v.json();
    assert_eq!(j["decision"]["cap"], 11);
    // Ids and times vary per run.
    j["application_id"] = J::Null;
    j["institution_id"] = J::Null;
    j["source"]["record"]["id"] = J::Null;
    j["source"]["record"]["institution_id"] = J::Null;
    j["source"]["record"]["recorded_at"] = J::Null;
    insta::assert_json_snapshot!("cap_trail_preview", j);
    let html = app
        .get(&format!("/applications/{a}"), Who::CentreAdmin)
        .await
        .text();
    let start = html.find("<table class=\"trail\">").expect("trail table");
    let end = start + html[start..].find("</table>").unwrap() + "</table>".len();
    let table = html[start..end].to_string();
    assert!(table.contains(
        "<th scope=\"col\">项目</th><th scope=\"col\">数值</th><th scope=\"col\">说明</th>"
    ));
    insta::assert_snapshot!("cap_trail_table", table);
    // The institution sees the same trail on its agreement (R-CAP-7).
    let resp = app
        .post_form(&format!("/applications/{a}/sign"), Who::CentreAdmin, &[])
        .await;
    assert_eq!(resp.status, 303, "{}", resp.text());
    let ag = id_in(&location(&resp), "/agreements/");
    let mine = app
        .get(&format!("/agreements/{ag}"), Who::InstAStaff)
        .await
        .text();
    assert!(
        mine.contains("签约班次上限计算过程") && mine.contains("10.5"),
        "{mine}"
    );
}

/// S6: institution B can neither see nor act on A's application, agreement or filing, by API or
/// page, with any method; the lists B gets hold none of A's records.
async fn s6_institution_b_cannot_touch_a_s_round_records(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "越权测试", 20, false).await;
    let (a_app, a_ag) = signed(&app, r, Who::InstAAdmin, 5).await;
    let a_f = file(&app, a_ag, Who::InstAStaff).await;
    let b = Who::InstBAdmin;
    for path in [
        format!("/api/v1/applications/{a_app}"),
        format!("/api/v1/agreements/{a_ag}"),
        format!("/api/v1/filings/{a_f}"),
        format!("/api/v1/institutions/{}/performance", app.inst_a),
    ] {
        assert_eq!(app.get_api(&path, b).await.status, 403, "{path}");
    }
    for path in [
        format!("/applications/{a_app}"),
        format!("/agreements/{a_ag}"),
        format!("/filings/{a_f}"),
    ] {
        assert_eq!(app.get(&path, b).await.status, 403, "{path}");
    }
    for (path, body) in [
        (format!("/api/v1/filings/{a_f}/withdraw"), json!({})),
        (format!("/api/v1/filings/{a_f}/resubmit"), json!({})),
        (
            "/api/v1/packages".to_string(),
            json!({"agreement_id": a_ag}),
        ),
    ] {
        let resp = app.api(Method::POST, &path, b, Some(body)).await;
        assert_eq!(resp.status, 403, "{path}: {}", resp.text());
    }
    for path in [
        format!("/filings/{a_f}/withdraw"),
        format!("/filings/{a_f}/resubmit"),
    ] {
        assert_eq!(app.post_form(&path, b, &[]).await.status, 403, "{path}");
    }
    let resp = app
        .post_form(&format!("/agreements/{a_ag}/packages"), b, &[])
        .await;
    assert_eq!(resp.status, 403);
    // Lists: none of A's.
    for path in [
        format!("/api/v1/rounds/{r}/applications"),
        format!("/api/v1/rounds/{r}/agreements"),
        format!("/api/v1/rounds/{r}/filings"),
    ] {
        let v = app.get_api(&path, b).await.json();
        assert!(v.as_array().unwrap().is_empty(), "{path}: {v}");
    }
    let html = app.get(&format!("/rounds/{r}/filings"), b).await.text();
    assert!(!html.contains(&format!("/filings/{a_f}\"")));
    // A's filing is untouched.
    let f = app
        .get_api(&format!("/api/v1/filings/{a_f}"), Who::InstAAdmin)
        .await
        .json();
    assert_eq!(f["slot_state"], "holding");
}

/// S19: the new forms refuse a missing or wrong CSRF token and a cross-site origin.
async fn s19_csrf_on_the_new_forms(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "CSRF测试", 20, false).await;
    let (a_app, a_ag) = signed(&app, r, Who::InstAAdmin, 5).await;
    let a_f = file(&app, a_ag, Who::InstAStaff).await;
    let ca = app.session(Who::CentreAdmin).await.unwrap();
    let ia = app.session(Who::InstAAdmin).await.unwrap();
    let cases: Vec<(String, &crate::harness::Session)> = vec![
        ("/rounds/new".into(), &ca),
        (format!("/rounds/{r}/close"), &ca),
        (format!("/applications/{a_app}/performance"), &ca),
        (format!("/agreements/{a_ag}/override"), &ca),
        (format!("/agreements/{a_ag}/packages"), &ia),
        (format!("/filings/{a_f}/withdraw"), &ia),
        (format!("/filings/{a_f}/approve"), &ca),
        ("/plans/new".into(), &ca),
    ];
    for (path, s) in &cases {
        let no = app
            .post_form_raw(path, Some(&s.token), &[("cap", "1")], &[])
            .await;
        assert_eq!(no.status, 403, "{path} without token");
        let wrong = app
            .post_form_raw(path, Some(&s.token), &[("csrf_token", "forged")], &[])
            .await;
        assert_eq!(wrong.status, 403, "{path} wrong token");
        let cross = app
            .post_form_raw(
                path,
                Some(&s.token),
                &[("csrf_token", &s.csrf)],
                &[("sec-fetch-site", "cross-site")],
            )
            .await;
        assert_eq!(cross.status, 403, "{path} cross-site");
    }
    // Nothing happened.
    let rv = app
        .get_api(&format!("/api/v1/rounds/{r}"), Who::CentreAdmin)
        .await
        .json();
    assert_eq!(rv["status"], "published");
    let f = app
        .get_api(&format!("/api/v1/filings/{a_f}"), Who::InstAAdmin)
        .await
        .json();
    assert_eq!(f["slot_state"], "holding");
}

/// The what-if calculator (page and API) gives the CLI's figures (SPEC §5).
async fn r_cap_calculator_page_and_api(backend: Backend) {
    let app = TestApp::new(backend).await;
    let html = app
        .get(
            "/tools/cap?planned=35&prev_planned=24&basis=later&prev_completed=6&score=95",
            Who::CentreStaff,
        )
        .await;
    assert_eq!(html.status, 200);
    let t = html.text();
    assert!(t.contains("签约班次上限：11"), "{t}");
    assert!(t.contains("<table class=\"trail\">"));
    let api = app
        .api(
            Method::POST,
            "/api/v1/tools/cap",
            Who::CentreAdmin,
            Some(json!({"planned": 25, "basis": "first", "requested": 15})),
        )
        .await;
    assert_eq!(api.status, 200, "{}", api.text());
    assert_eq!(api.json()["cap"], 13);
    let bad = app
        .get(
            "/tools/cap?planned=40&basis=later&prev_completed=10&score=90.55",
            Who::CentreAdmin,
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text().contains("id=\"score-error\""));
    assert!(bad.text().contains("value=\"90.55\""), "value kept");
}

/// An institution applies and files through the pages: 占用名额, then 候补 with its position.
async fn r_fil_6_pages_show_slot_or_waiting_position(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "页面排队", 2, false).await;
    let apply_page = app
        .get(&format!("/rounds/{r}/apply"), Who::InstAAdmin)
        .await;
    assert_eq!(apply_page.status, 200);
    assert!(apply_page.text().contains("育婴员"));
    let resp = app
        .post_form(
            &format!("/rounds/{r}/apply"),
            Who::InstAAdmin,
            &[("classes_requested", "")],
        )
        .await;
    assert_eq!(resp.status, 422);
    let resp = app
        .post_form(
            &format!("/rounds/{r}/apply"),
            Who::InstAAdmin,
            &[("occupations", OCC), ("classes_requested", "3")],
        )
        .await;
    assert_eq!(resp.status, 303, "{}", resp.text());
    let a = id_in(&location(&resp), "/applications/");
    let resp = app
        .post_form(
            &format!("/applications/{a}/sign"),
            Who::CentreAdmin,
            &[("first_cap", "3")],
        )
        .await;
    assert_eq!(resp.status, 303, "{}", resp.text());
    let ag = id_in(&location(&resp), "/agreements/");
    // The agreement page leads to a filing package (R-FIL-1…8), never a minimal filing form.
    let page = app
        .get(&format!("/agreements/{ag}"), Who::InstAStaff)
        .await
        .text();
    assert!(
        page.contains(&format!("action=\"/agreements/{ag}/packages\"")),
        "{page}"
    );
    assert!(
        !page.contains(&format!("/agreements/{ag}/filings")),
        "{page}"
    );
    let resp = app
        .post_form(&format!("/agreements/{ag}/packages"), Who::InstAStaff, &[])
        .await;
    assert_eq!(resp.status, 303, "{}", resp.text());
    assert!(location(&resp).starts_with("/packages/"));
    let mut standing = Vec::new();
    for _ in 0..3 {
        let f = file(&app, ag, Who::InstAStaff).await;
        let html = app
            .get(&format!("/filings/{f}"), Who::InstAStaff)
            .await
            .text();
        standing.push(html);
    }
    // P = 2 → cap 1: the first holds, the others wait in order.
    assert!(
        standing[0].contains("占用名额（第1号名额）"),
        "{}",
        standing[0]
    );
    assert!(standing[1].contains("候补（候补第1位）"), "{}", standing[1]);
    assert!(standing[2].contains("候补（候补第2位）"));
}

both_backends!(
    r_plan_3_rollover_via_http,
    r_plan_1_bureau_approves_the_plan,
    r_cap_8_override_needs_a_reason,
    r_cap_3_suspended_institution_cannot_sign,
    r_cap_7_trail_rendering,
    s6_institution_b_cannot_touch_a_s_round_records,
    s19_csrf_on_the_new_forms,
    r_cap_calculator_page_and_api,
    r_fil_6_pages_show_slot_or_waiting_position,
);

// ---- sample contexts for the template test ---------------------------------------------------

fn sample_round(x: &str) -> J {
    json!({ "id": 3, "year": 2026, "half": "h1", "half_label": "上半年", "half_code": "h1", "label": x,
        "base_planned": 20, "rolled_over": 2, "planned_total": 22, "rollover_pending": 0, "consumed_at_close": 18,
        "window_start": "2026-03-01", "window_end": "2026-03-31",
        "target_groups": [{ "name": x, "required_share_percent": 20 }], "call_text": x,
        "status": "closed", "status_label": "已结束", "published_at_local": "2026-03-01 09:00:00",
        "closed_at_local": "2026-06-30 17:00:00" })
}

fn sample_decision(x: &str) -> J {
    json!({ "cap": 8, "suspended": false, "computed_cap": 6, "global_cap": 10, "policy_version": "haizhu-2026",
        "overrides": [{ "from": 6, "to": 8, "reason": x }],
        "trail": [{ "kind": "score_factor", "label": "评分系数", "value": "1.2", "note": x },
                  { "kind": "override", "label": "区培训中心调整（R-CAP-8）", "value": "8", "note": x }] })
}

fn sample_filing(x: &str) -> J {
    json!({ "id": 9, "queue_seq": 4, "agreement_id": 2, "institution_name": x, "occupation": x, "level": "初级",
        "start_date": "2026-04-01", "submitted_at_local": "2026-03-02 10:00:01", "granted_at_local": "",
        "decided_at_local": "2026-03-03 10:00:00", "decided_by": "centre_staff", "decision_reason": x,
        "standing": "候补（候补第1位）", "status_label": "审核中（候补）", "slot_state": "waiting",
        "policy_version": x })
}

fn history(x: &str) -> J {
    json!([{ "field": "计划班次数（基数）", "old": "4", "new": "5", "reason": x, "by": "centre_admin", "at": "2026-03-02 10:00:00" }])
}

/// The sample context of each template of this issue (for `templates::every_template_renders…`).
pub fn template_sample(name: &str, x: &str, errs: &J, field_errs: &J) -> Option<J> {
    Some(match name {
        "plans_list.html" => {
            json!({ "can_create": true, "items": [{ "id": 1, "year": 2026, "total_classes": 60,
            "budget": "1250000.00", "status_label": "草稿", "bureau_comment": x }] })
        }
        "plan_form.html" => {
            json!({ "action": "/plans/new", "cancel_href": "/plans", "need_reason": true, "year_fixed": false,
            "form": { "year": x, "total_classes": "", "budget": "", "note": "", "reason": "" },
            "errors": errs, "field_errors": field_errs })
        }
        "plan_detail.html" => {
            json!({ "plan": { "id": 1, "year": 2026, "total_classes": 60, "budget": "1", "note": x,
            "status_label": "待区人社局审核", "submitted_at_local": "", "decided_at_local": "", "decided_by": null,
            "bureau_comment": null }, "history": history(x), "can_edit": true, "can_submit": true, "can_decide": true,
            "form": { "comment": "", "decision": "" }, "errors": errs, "field_errors": field_errs })
        }
        "rounds_list.html" => json!({ "can_create": true, "items": [sample_round(x)] }),
        "round_form.html" => {
            json!({ "action": "/rounds/new", "cancel_href": "/rounds", "is_edit": false, "need_reason": true,
            "form": { "year": "2026", "half": "h1", "label": x, "base_planned": "", "window_start": "", "window_end": "",
                      "call_text": "", "reason": "" },
            "target_rows": [{ "name": x, "share": "20" }, { "name": "", "share": "" }],
            "halves": [{ "code": "h1", "label": "上半年" }], "errors": errs, "field_errors": field_errs })
        }
        "round_detail.html" => {
            json!({ "round": sample_round(x), "history": history(x), "can_edit": true,
            "can_publish": true, "can_close": true, "quota": { "granted": 3, "remaining": 1, "waiting": 2 },
            "outcome": { "not_granted": 1, "unconsumed": 2, "pending": 0, "next": { "id": 4, "label": x } },
            "prev": { "id": 2, "label": x }, "mine": { "application_id": 1, "agreement_id": 2 }, "can_apply": true,
            "is_institution": false, "errors": errs, "field_errors": field_errs })
        }
        "round_apply.html" => {
            json!({ "round": sample_round(x), "occupations": [{ "name": x, "id": "occupation_0", "checked": true }],
            "form": { "classes_requested": "", "note": "" }, "errors": errs, "field_errors": field_errs })
        }
        "applications_list.html" => json!({ "round": sample_round(x), "export_href": "/x.xlsx",
            "items": [{ "id": 1, "institution_name": x, "occupations": "育婴员", "classes_requested": 3,
                        "created_at": "2026-03-02 10:00:00", "agreement_id": 2, "cap": 3, "agreement_status": "已签订" }],
            "pager": { "page": 1, "pages": 2, "total": 25, "prev_href": null, "next_href": "/rounds/1/applications?page=2" },
            "export_capped": true, "max_export_rows": 50000 }),
        "application_detail.html" => {
            json!({ "app": { "id": 1, "institution_name": x, "occupations_text": x,
                "classes_requested": 3, "created_at_local": "", "note": x, "agreement_id": null },
            "round": sample_round(x), "reads_caps": true,
            "cap": { "first": true, "source": x, "links": [{ "href": "/evaluations/1", "text": x }], "decision": sample_decision(x), "problem": "" },
            "performance": [{ "round_label": x, "completed_on_time": 6, "score": "95", "evidence": x,
                              "recorded_by": "centre_admin", "recorded_at_local": "" }],
            "can_sign": true, "can_record": true,
            "form": { "first_cap": "", "override_cap": "", "override_reason": "", "round_label": "",
                      "completed_on_time": "", "score": "", "evidence": "" },
            "errors": errs, "field_errors": field_errs })
        }
        "agreement_detail.html" => {
            json!({ "agreement": { "id": 2, "cap": 8, "institution_name": x, "status_label": "已中止",
                "termination_reason": x, "terminated_at_local": "", "terminated_by": "centre_admin",
                "signed_by": "centre_admin", "signed_at_local": "", "application_id": 1, "decision": sample_decision(x) },
            "round": sample_round(x), "filings": [sample_filing(x)], "held": 1, "can_override": true,
            "can_terminate": true, "can_file": true, "scope": [{ "value": "育婴员|初级", "label": x }],
            "evaluation": { "id": 1, "score": "86.2", "state_label": x }, "can_evaluate": true,
            "causes": [{ "code": "violation", "label": "违法违规" }],
            "form": { "cap": "", "reason": "", "cause": "", "termination_reason": "", "occupation": "", "start_date": "" },
            "errors": errs, "field_errors": field_errs })
        }
        "filing_detail.html" => json!({ "filing": sample_filing(x), "round": sample_round(x),
            "corrections": [{ "field": "花名册", "message": x }], "has_package": false, "can_supplement": true,
            "can_withdraw": true, "can_resubmit": true,
            "can_approve": true, "can_return": true, "can_reject": true, "form": { "reason": "", "items": "" },
            "errors": errs, "field_errors": field_errs }),
        "round_filings.html" => {
            json!({ "round": sample_round(x), "items": [sample_filing(x)], "export_href": "/x.xlsx",
            "pager": { "page": 1, "pages": 2, "total": 25, "prev_href": null, "next_href": "/rounds/1/filings?page=2" },
            "export_capped": true, "max_export_rows": 50000 })
        }
        "bulletin_index.html" => {
            json!({ "rounds": [{ "id": 1, "label": x, "planned_total": 22, "base_planned": 20,
            "rolled_over": 2, "window": "2026-03-01 至 2026-03-31", "status_label": "已发布" }] })
        }
        "bulletin_round.html" => {
            json!({ "export_href": "/x.xlsx", "b": { "label": x, "window_start": "2026-03-01",
            "window_end": "2026-03-31", "status_label": "已发布", "planned_total": 22, "base_planned": 20, "rolled_over": 2,
            "granted": 3, "remaining": 19, "waiting": 1,
            "entries": [{ "queue_seq": 1, "institution_name": x, "occupation": "育婴员", "level": "初级",
                          "submitted_at": "2026-03-02 10:00:01", "status_label": "候补", "holds_slot": false }],
            "institutions": [{ "institution_name": x, "approved": 1, "holding": 2, "waiting": 1 }] } })
        }
        "calculator.html" => {
            json!({ "form": { "planned": x, "prev_planned": "", "basis": "later", "requested": "",
            "prev_completed": "", "score": "", "major": true }, "decision": sample_decision(x),
            "errors": errs, "field_errors": field_errs })
        }
        "inbox.html" => {
            json!({ "items": [{ "id": 1, "title": x, "body": x, "at": "2026-07-01 09:00:00", "read": false }] })
        }
        _ => return None,
    })
}
