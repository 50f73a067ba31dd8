//! Evaluations over HTTP (R-EVA-1): open, adjust (audited reason beside the computed value),
//! accept a flagged value, confirm (centre_admin only, refused while a flag is undecided); the
//! list's items carry `score` as a string with one decimal; institution B gets 404 for A's
//! evaluation in the page and the API (S6).

use crate::both_backends;
use crate::harness::{TestApp, Who};
use crate::rounds::{round, signed_only};
use axum::http::Method;
use peixun_domain::workflow::round::Half;
use serde_json::{Value as J, json};

/// An agreement of A without classes: nothing unfinished, so the centre may open it; no approved
/// class → task 0, no inspection → supervision 100, no completed class → archives 0 (flagged),
/// no answer → satisfaction 0 (flagged): score 20 × 100 / 100 = 20.0.
async fn r_eva_1_open_adjust_accept_confirm_over_http(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "评估测试批次", 20, false).await;
    let (_, ag) = signed_only(&app, r, Who::InstAAdmin, 5).await;
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/agreements/{ag}/evaluation"),
            Who::CentreStaff,
            None,
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let v = res.json();
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["score"], "20.0");
    assert_eq!(v["state"], "open");
    // A second one is refused.
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/agreements/{ag}/evaluation"),
            Who::CentreStaff,
            None,
        )
        .await;
    assert_eq!(res.status, 409);

    // The list: A sees its own with `score`; B sees none and gets 404 for the record.
    let list = app
        .get_api(
            &format!("/api/v1/evaluations?round_id={r}"),
            Who::InstAAdmin,
        )
        .await
        .json();
    assert_eq!(list["items"][0]["score"], "20.0");
    assert_eq!(list["total"], 1);
    let list = app
        .get_api("/api/v1/evaluations", Who::InstBAdmin)
        .await
        .json();
    assert_eq!(list["total"], 0);
    assert_eq!(
        app.get_api(&format!("/api/v1/evaluations/{id}"), Who::InstBAdmin)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&format!("/evaluations/{id}"), Who::InstBAdmin)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get_api(&format!("/api/v1/evaluations/{id}"), Who::Bureau)
            .await
            .status,
        200
    );

    // Confirm refused while archives and satisfaction are flagged and undecided.
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/evaluations/{id}/confirm"),
            Who::CentreAdmin,
            None,
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.json()["code"], "EVA_FLAGGED");

    // Adjust archives with a reason (a blank reason is refused, naming the field).
    let adj = |value: J, reason: &str| json!({ "component": "archives", "value": value, "reason": reason });
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/evaluations/{id}/adjustments"),
            Who::CentreStaff,
            Some(adj(json!("90"), " ")),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.json()["field"], "reason");
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/evaluations/{id}/adjustments"),
            Who::CentreStaff,
            Some(adj(json!("101"), "x")),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.json()["field"], "value");
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/evaluations/{id}/adjustments"),
            Who::CentreStaff,
            Some(adj(json!("90"), "纸质档案经现场核查齐全")),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let v = res.json();
    let archives = &v["components"][2];
    assert_eq!(
        (archives["computed"].as_str(), archives["adjusted"].as_str()),
        (Some("0"), Some("90"))
    );
    assert_eq!(v["score"], "38.0");
    // Accept satisfaction as computed, on the page form.
    let res = app
        .post_form(
            &format!("/evaluations/{id}/adjust"),
            Who::CentreStaff,
            &[("component", "satisfaction"), ("value", ""), ("reason", "")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("请填写调整理由"), "{}", res.text());
    let res = app
        .post_form(
            &format!("/evaluations/{id}/adjust"),
            Who::CentreStaff,
            &[
                ("component", "satisfaction"),
                ("value", ""),
                ("reason", "尚未开展问卷，按0分"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);

    // The institution's page shows the computed value, the adjusted one and the reason.
    let page = app
        .get(&format!("/evaluations/{id}"), Who::InstAAdmin)
        .await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("纸质档案经现场核查齐全") && html.contains("38.0"),
        "{html}"
    );
    assert!(
        !html.contains(
            "/evaluations/{id}/confirm"
                .replace("{id}", &id.to_string())
                .as_str()
        )
    );

    // Confirm: centre_staff may not; centre_admin does.
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/evaluations/{id}/confirm"),
            Who::CentreStaff,
            None,
        )
        .await;
    assert_eq!(res.status, 403);
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/evaluations/{id}/confirm"),
            Who::CentreAdmin,
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let v = res.json();
    assert_eq!(
        (v["state"].as_str(), v["score"].as_str()),
        (Some("confirmed"), Some("38.0"))
    );
    assert_eq!(v["next_cap_factor"], J::Null);
    assert_eq!(v["suspended"], true);
    // Confirmed: no more changes.
    let res = app
        .api(
            Method::POST,
            &format!("/api/v1/evaluations/{id}/adjustments"),
            Who::CentreStaff,
            Some(adj(json!("95"), "再调整")),
        )
        .await;
    assert_eq!(res.status, 409);
    // The agreement page links to it.
    let page = app
        .get(&format!("/agreements/{ag}"), Who::InstAAdmin)
        .await
        .text();
    assert!(page.contains(&format!("/evaluations/{id}")));
}

both_backends!(r_eva_1_open_adjust_accept_confirm_over_http);

/// The sample context of each template of this part (for the template test).
pub fn template_sample(name: &str, x: &str, errs: &J, field_errs: &J) -> Option<J> {
    let pager =
        json!({ "page": 1, "pages": 2, "total": 30, "prev_href": null, "next_href": "/x?page=2" });
    Some(match name {
        "evaluations_list.html" => json!({
            "items": [{ "id": 1, "agreement_id": 2, "round_label": x, "institution_name": x, "state": "open",
                "state_label": "评估中", "score": "86.2", "c": 4, "band": x, "flags": 1, "adjusted": 1 }],
            "rounds": [{ "id": 1, "label": x }], "round_id": 1, "state_filter": "open", "pager": pager }),
        "evaluation_refused.html" => json!({ "agreement_id": 2, "errors": errs }),
        "evaluation_detail.html" => json!({
            "e": { "id": 1, "agreement_id": 2, "round_label": x, "institution_name": x, "state": "open",
                "state_label": "评估中", "score": "86.2", "unrounded": "86.175", "c": 4, "cap": 6, "band": x,
                "suspended": true, "policy_version": x, "opened": x, "computed_at": x, "confirmed": x },
            "components": [{ "key": "archives", "label": x, "weight": 20, "computed": "93.875", "adjusted": "95",
                "accepted": false, "reason": x, "by": x, "at": x, "flag": x, "needs_decision": true, "effective": "95" }],
            "groups": [{ "label": x, "steps": [{ "component": "archives", "kind": "value", "label": x, "value": x, "note": x }] }],
            "undecided": true, "may_edit": true, "may_confirm": true,
            "form": { "component": "archives", "value": x, "reason": x },
            "errors": errs, "field_errors": field_errs }),
        _ => return None,
    })
}
