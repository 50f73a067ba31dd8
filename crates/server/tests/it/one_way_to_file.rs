//! One way to file (issue 8, R-FIL-1…8, R-FIL-5) over HTTP: the minimal filing route and form
//! are gone (exact status, nothing written, not in the OpenAPI document); the agreement page
//! leads to a filing package; a filing without a package (left by the old path) is flagged on
//! the review page and the filing page, and approving it is refused with `FIL_NO_PACKAGE`;
//! once returned, its institution supplements a package.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use crate::rounds::{LEVEL, OCC, actor_of, d, round, signed};
use axum::http::{Method, StatusCode};
use peixun_domain::workflow::round::Half;
use peixun_store::Backend;
use peixun_store::filings::{self, FilingSubmission};
use serde_json::json;

async fn r_fil_1_minimal_filing_route_and_form_are_gone(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "简易备案已取消", 20, false).await;
    let (_, ag) = signed(&app, r, Who::InstAAdmin, 5).await;
    let body =
        json!({"agreement_id": ag, "occupation": OCC, "level": LEVEL, "start_date": "2026-04-01"});
    for who in [Who::InstAStaff, Who::InstAAdmin, Who::CentreAdmin] {
        let resp = app
            .api(Method::POST, "/api/v1/filings", who, Some(body.clone()))
            .await;
        assert_eq!(
            resp.status,
            StatusCode::NOT_FOUND.as_u16(),
            "{who:?}: {}",
            resp.text()
        );
    }
    let form = app
        .post_form(
            &format!("/agreements/{ag}/filings"),
            Who::InstAStaff,
            &[("occupation", "育婴员|初级"), ("start_date", "2026-04-01")],
        )
        .await;
    assert_eq!(
        form.status,
        StatusCode::NOT_FOUND.as_u16(),
        "{}",
        form.text()
    );
    // Nothing entered the queue.
    let list = app
        .get_api(&format!("/api/v1/rounds/{r}/filings"), Who::CentreStaff)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
    // The agreement page offers a filing package instead.
    let page = app
        .get(&format!("/agreements/{ag}"), Who::InstAStaff)
        .await
        .text();
    assert!(page.contains(&format!("action=\"/agreements/{ag}/packages\"")));
    assert!(!page.contains("name=\"start_date\""), "no minimal form");
    // The OpenAPI document no longer lists it.
    let doc = app
        .get_api("/api/openapi.json", Who::Anonymous)
        .await
        .json();
    let paths = doc["paths"].as_object().unwrap();
    assert!(!paths.contains_key("/api/v1/filings"));
    assert!(paths.contains_key("/api/v1/packages/{id}/submit"));
    assert!(doc["components"]["schemas"]["FilingSubmissionDto"].is_null());
}

async fn r_fil_5_filing_without_package_flagged_and_not_approvable(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "旧备案", 20, false).await;
    let (_, ag) = signed(&app, r, Who::InstAAdmin, 5).await;
    // As an old database holds it (the test-only path of peixun-store's `testing` feature).
    let f = filings::submit_without_package(
        &app.store,
        &actor_of(&app, Who::InstAStaff),
        FilingSubmission {
            agreement_id: ag,
            occupation: OCC.into(),
            level: LEVEL.into(),
            start_date: d(2026, 4, 1),
        },
        app.clock_now(),
    )
    .await
    .unwrap()
    .id;
    let review = app.get("/review", Who::CentreStaff).await;
    assert_eq!(review.status, 200);
    assert!(review.text().contains("未附备案材料，须补交备案材料"));
    let api_review = app.get_api("/api/v1/review", Who::CentreStaff).await.json();
    let item = &api_review["items"][0];
    assert_eq!(item["filing"]["id"], f, "{api_review}");
    assert_eq!(item["approvable"], false);
    assert_eq!(item["problems"][0]["code"], "FIL_NO_PACKAGE");
    let page = app
        .get(&format!("/filings/{f}"), Who::CentreStaff)
        .await
        .text();
    assert!(page.contains("未附备案材料，须补交备案材料"));
    assert!(
        !page.contains(&format!("action=\"/filings/{f}/approve\"")),
        "no approve button"
    );
    // Approving anyway is refused with the code, on the API and the page.
    let api = app
        .api(
            Method::POST,
            &format!("/api/v1/filings/{f}/approve"),
            Who::CentreStaff,
            None,
        )
        .await;
    assert_eq!(api.status, 422, "{}", api.text());
    assert_eq!(api.json()["code"], "FIL_NO_PACKAGE");
    assert!(
        api.json()["message"]
            .as_str()
            .unwrap()
            .contains("未附备案材料")
    );
    let form = app
        .post_form(&format!("/filings/{f}/approve"), Who::CentreStaff, &[])
        .await;
    assert_eq!(form.status, 422);
    assert!(form.text().contains("未附备案材料，须补交备案材料"));
    let after = app
        .get_api(&format!("/api/v1/filings/{f}"), Who::CentreStaff)
        .await
        .json();
    assert_eq!(after["status"], "submitted");
    // Returned: the institution may supplement a package (and only then).
    let ret = app
        .api(
            Method::POST,
            &format!("/api/v1/filings/{f}/return"),
            Who::CentreStaff,
            Some(
                json!({"items": [{"field": "package", "message": "未附备案材料，须补交备案材料"}]}),
            ),
        )
        .await;
    assert_eq!(ret.status, 200, "{}", ret.text());
    let own = app
        .get(&format!("/filings/{f}"), Who::InstAStaff)
        .await
        .text();
    assert!(own.contains(&format!("action=\"/filings/{f}/supplement\"")));
    assert!(
        !own.contains(&format!("action=\"/filings/{f}/resubmit\"")),
        "no resubmission without a package"
    );
    let b = app
        .post_form(&format!("/filings/{f}/supplement"), Who::InstBAdmin, &[])
        .await;
    assert_eq!(b.status, 403);
    let sup = app
        .post_form(&format!("/filings/{f}/supplement"), Who::InstAStaff, &[])
        .await;
    assert_eq!(sup.status, 303, "{}", sup.text());
    assert!(sup.header("location").starts_with("/packages/"));
    let pkg = app
        .get_api(&format!("/api/v1/filings/{f}"), Who::InstAStaff)
        .await
        .json();
    assert_eq!(pkg["status"], "returned");
}

both_backends!(
    r_fil_1_minimal_filing_route_and_form_are_gone,
    r_fil_5_filing_without_package_flagged_and_not_approvable,
);
