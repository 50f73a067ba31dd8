//! Policy versions through the pages and the API (R-POL-1): the sysadmin proposes with a form
//! prefilled from the version in force; a bad value comes back beside its field; the centre
//! admin (and only they) confirms; the compare page marks what differs; decisions show the
//! version they used.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use axum::http::Method;
use peixun_store::Backend;
use serde_json::{Value as J, json};

const SEED: &str = "haizhu-guideline-trial-v1";

/// A complete proposal form (the built-in values) with `changes` applied.
fn form(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut f = vec![
        ("version", "haizhu-2026-v2"),
        ("effective_from", "2026-03-10"),
        (
            "document_title",
            "海珠区职业技能培训合格证书培训工作指引（修订）",
        ),
        ("document_number", "海人社规〔2026〕1号"),
        ("note", "备案提前期调整为12个工作日"),
        ("global_cap_share", "0.5"),
        ("score_bands", "61:0.9, 71:1.0, 81:1.1, 91:1.2"),
        ("major_factor", "1.1"),
        ("major_projects", "南粤家政、粤菜师傅、广东技工"),
        ("growth_enabled", "1"),
        ("min_class_size", "20"),
        ("filing_lead_working_days", "10"),
        ("class_window_days", "30"),
        ("overdue_limit_per_year", "3"),
        ("teacher_change_lead_working_days", "1"),
        ("monthly_report_day", "25"),
        ("weight_task_completion", "40"),
        ("weight_supervision", "20"),
        ("weight_archives", "20"),
        ("weight_satisfaction", "20"),
        ("min_trainee_age", "16"),
        ("certificate_district_code", "440105"),
    ];
    for (k, v) in changes {
        let slot = f.iter_mut().find(|(n, _)| n == k).expect("known field");
        slot.1 = v;
    }
    f
}

fn id_from(location: &str) -> i64 {
    location
        .strip_prefix("/policies/")
        .and_then(|s| s.split('?').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{location}"))
}

async fn r_pol_1_propose_confirm_and_compare_through_the_pages(backend: Backend) {
    let app = TestApp::new(backend).await;
    // The form is prefilled from the version in force.
    let r = app.get("/policies/new", Who::Sysadmin).await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(
        html.contains(
            r#"id="filing_lead_working_days" name="filing_lead_working_days" value="10""#
        ),
        "{html}"
    );
    assert!(html.contains(SEED));
    // A bad value: the form comes back (422) with the message beside its field; nothing stored.
    let r = app
        .post_form(
            "/policies/new",
            Who::Sysadmin,
            &form(&[("weight_satisfaction", "30")]),
        )
        .await;
    assert_eq!(r.status, 422);
    let html = r.text();
    assert!(html.contains("权重之和须为100，当前为 110"), "{html}");
    assert!(
        html.contains(r##"href="#weight_task_completion""##),
        "{html}"
    );
    assert!(html.contains(r#"value="30""#), "the typed value is kept");
    let r = app
        .post_form(
            "/policies/new",
            Who::Sysadmin,
            &form(&[("min_class_size", "二十")]),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("每班最低人数（R-FIL-2）须为非负整数"));
    let list = app.get_api("/api/v1/policies", Who::City).await;
    assert_eq!(list.json().as_array().unwrap().len(), 1);
    // The centre admin cannot propose.
    let r = app
        .post_form("/policies/new", Who::CentreAdmin, &form(&[]))
        .await;
    assert_eq!(r.status, 403);
    // The sysadmin proposes: lead 10 → 12.
    let r = app
        .post_form(
            "/policies/new",
            Who::Sysadmin,
            &form(&[("filing_lead_working_days", "12")]),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let id = id_from(r.header("location"));
    // Only the centre admin sees the confirm button; the sysadmin's confirm is refused.
    let page = app
        .get(&format!("/policies/{id}"), Who::Sysadmin)
        .await
        .text();
    assert!(!page.contains("确认生效") && page.contains("撤回"));
    let page = app
        .get(&format!("/policies/{id}"), Who::CentreAdmin)
        .await
        .text();
    assert!(page.contains("确认生效") && page.contains("待确认"));
    let r = app
        .post_form(&format!("/policies/{id}/confirm"), Who::Sysadmin, &[])
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/policies/{id}/confirm"),
            Who::Sysadmin,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post_form(&format!("/policies/{id}/confirm"), Who::CentreAdmin, &[])
        .await;
    assert_eq!(r.status, 303);
    let page = app
        .get(&format!("/policies/{id}"), Who::Bureau)
        .await
        .text();
    assert!(page.contains("已确认") && !page.contains("确认生效"));
    // Compare: the changed value is marked, an unchanged one is not.
    let r = app
        .get(&format!("/policies/compare?a=1&b={id}"), Who::Bureau)
        .await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(
        html.contains(r#"<tr class="differs"><td>开班备案提前工作日数（R-FIL-3） <span class="visually-hidden">（不同）</span></td><td>10</td><td>12</td></tr>"#),
        "{html}"
    );
    assert!(
        html.contains("<tr><td>每班最低人数（R-FIL-2）</td><td>20</td><td>20</td></tr>"),
        "{html}"
    );
    let api = app
        .get_api(&format!("/api/v1/policies/compare?a=1&b={id}"), Who::City)
        .await
        .json();
    let differing: Vec<&str> = api["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["differs"] == J::Bool(true))
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert!(differing.contains(&"filing_lead_working_days"));
    assert!(!differing.contains(&"min_class_size"));
    // The list shows both; the built-in version is still the one in force today (03-02).
    let list = app.get("/policies", Who::CentreStaff).await.text();
    assert!(list.contains("haizhu-2026-v2") && list.contains("现行"));
}

async fn r_pol_1_api_propose_names_the_field_and_centre_admin_cannot_propose(backend: Backend) {
    let app = TestApp::new(backend).await;
    let current = app
        .get_api("/api/v1/policies/1", Who::Sysadmin)
        .await
        .json();
    let mut policy = current["policy"].clone();
    policy["version"] = json!("haizhu-2026-v2");
    policy["effective_from"] = json!("2026-03-10");
    policy["monthly_report_day"] = json!(31);
    let body = json!({ "policy": policy, "document_title": "新文件", "document_number": "" });
    let r = app
        .api(
            Method::POST,
            "/api/v1/policies",
            Who::Sysadmin,
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["code"], "POLICY_INVALID");
    assert_eq!(r.json()["field"], "monthly_report_day");
    let r = app
        .api(
            Method::POST,
            "/api/v1/policies",
            Who::CentreAdmin,
            Some(body),
        )
        .await;
    assert_eq!(r.status, 403);
    policy["monthly_report_day"] = json!(20);
    let body = json!({ "policy": policy, "document_title": "新文件", "document_number": "" });
    let r = app
        .api(Method::POST, "/api/v1/policies", Who::Sysadmin, Some(body))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["status"], "proposed");
    let id = r.json()["id"].as_i64().unwrap();
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/policies/{id}/confirm"),
            Who::CentreAdmin,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "confirmed");
}

/// The agreement page's cap trail names the version the cap was computed under.
async fn r_pol_1_agreement_page_shows_the_policy_version(backend: Backend) {
    let app = TestApp::new(backend).await;
    let round = crate::rounds::round(
        &app,
        peixun_domain::workflow::round::Half::H1,
        "2026上半年",
        20,
        false,
    )
    .await;
    let (_, agreement) = crate::rounds::signed(&app, round, Who::InstAAdmin, 5).await;
    for who in [Who::CentreAdmin, Who::InstAAdmin] {
        let html = app
            .get(&format!("/agreements/{agreement}"), who)
            .await
            .text();
        assert!(html.contains(&format!("政策版本：{SEED}")), "{html}");
    }
}

both_backends!(
    r_pol_1_propose_confirm_and_compare_through_the_pages,
    r_pol_1_api_propose_names_the_field_and_centre_admin_cannot_propose,
    r_pol_1_agreement_page_shows_the_policy_version,
);

/// The sample context of each policy template (for the template test).
pub fn template_sample(name: &str, x: &str, errs: &J, field_errs: &J) -> Option<J> {
    let p = json!({ "id": 2, "version": x, "effective_from": "2026-03-10", "document_title": x,
        "document_number": x, "status": "proposed", "status_label": "待确认", "in_force": true,
        "proposed_by": x, "proposed_at": "2026-03-02 10:00", "decided_by": x, "decided_at": "2026-03-02 11:00",
        "decision_reason": x, "note": x, "label": x });
    let mut form = serde_json::Map::new();
    for (k, _) in form_fields() {
        form.insert(k.into(), json!(x));
    }
    form.insert("growth_enabled".into(), json!(true));
    Some(match name {
        "policies_list.html" => {
            json!({ "items": [p.clone(), p], "may_propose": true, "in_force_id": 2 })
        }
        "policies_form.html" => json!({ "form": form, "base": x, "today": "2026-03-02",
            "errors": errs, "field_errors": field_errs }),
        "policies_detail.html" => {
            json!({ "p": p, "rows": [{ "key": "min_class_size", "label": x, "value": x }],
            "may_decide": true, "may_withdraw": true, "compare_with": 1, "reason": x,
            "errors": errs, "field_errors": field_errs })
        }
        "policies_compare.html" => json!({ "a": p, "b": p, "differing": 1,
            "rows": [{ "key": "k", "label": x, "a": x, "b": "1", "differs": true }] }),
        _ => return None,
    })
}

fn form_fields() -> Vec<(&'static str, &'static str)> {
    form(&[])
}
