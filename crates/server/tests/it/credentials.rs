//! S7 two-person credential issue through the pages and the API: the sysadmin's reset form asks
//! for a reason and gives the first half only; the account list shows the request waiting; the
//! centre_admin's page lists it and confirming shows the second half; institution B's admin
//! cannot reach A's staff request; the API answers the same.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use axum::http::Method;
use serde_json::json;

both_backends!(
    s7_reset_through_the_pages_takes_two_people,
    s7_api_institution_admin_confirms_its_own_staff_only
);

async fn s7_reset_through_the_pages_takes_two_people(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let target = app.user_id(Who::CentreStaff);
    let form = app
        .get(&format!("/users/{target}/reset-password"), Who::Sysadmin)
        .await;
    assert_eq!(form.status, 200);
    assert!(form.text().contains("重置原因"));
    // No reason: refused naming the field, nothing requested.
    let r = app
        .post_form(
            &format!("/users/{target}/reset-password"),
            Who::Sysadmin,
            &[("reason", "")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text().contains("重置原因") && r.text().contains("S7"),
        "{}",
        r.text()
    );
    let list = app.get("/credential-requests", Who::CentreAdmin).await;
    assert!(list.text().contains("暂无待确认的申请"));

    let r = app
        .post_form(
            &format!("/users/{target}/reset-password"),
            Who::Sysadmin,
            &[("reason", "经办人忘记密码，已电话核实")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("前半段"));
    let users = app.get("/users?q=centre_staff", Who::Sysadmin).await;
    assert!(users.text().contains("凭据待确认"), "{}", users.text());
    // The sysadmin sees the request but has no confirm button; the centre_admin has one.
    let sys_list = app.get("/credential-requests", Who::Sysadmin).await;
    assert!(sys_list.text().contains("经办人忘记密码"));
    assert!(!sys_list.text().contains("确认并获取后半段"));
    let list = app.get("/credential-requests", Who::CentreAdmin).await;
    assert!(list.text().contains("经办人忘记密码"));
    assert!(list.text().contains("确认并获取后半段"));
    let id = app
        .api(
            Method::GET,
            "/api/v1/credential-requests?open=true",
            Who::CentreAdmin,
            None,
        )
        .await
        .json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    // Confirming through the sysadmin's own session is refused.
    let r = app
        .post_form(
            &format!("/credential-requests/{id}/confirm"),
            Who::Sysadmin,
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post_form(
            &format!("/credential-requests/{id}/confirm"),
            Who::CentreAdmin,
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("后半段"));
    let list = app
        .get("/credential-requests?show=all", Who::CentreAdmin)
        .await;
    assert!(list.text().contains("已确认"));
    // Done once: a second confirmation is refused.
    let r = app
        .post_form(
            &format!("/credential-requests/{id}/confirm"),
            Who::CentreAdmin,
            &[],
        )
        .await;
    assert_eq!(r.status, 409);
}

async fn s7_api_institution_admin_confirms_its_own_staff_only(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let staff = app.user_id(Who::InstAStaff);
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/users/{staff}/reset-password"),
            Who::Sysadmin,
            Some(json!({ "reason": "经办人忘记密码" })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["half_no"], 1);
    let id = body["request"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/credential-requests/{id}/confirm");
    // B's admin: not found (S6); A's staff, the owner: refused by role.
    assert_eq!(
        app.api(Method::POST, &path, Who::InstBAdmin, None)
            .await
            .status,
        404
    );
    assert_eq!(
        app.api(Method::POST, &path, Who::InstAStaff, None)
            .await
            .status,
        403
    );
    let r = app.api(Method::POST, &path, Who::InstAAdmin, None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["half_no"], 2);
    let first = body["half"].as_str().unwrap();
    let second = r.json()["half"].as_str().unwrap().to_string();
    let login = app
        .api(
            Method::POST,
            "/api/v1/auth/login",
            Who::Anonymous,
            Some(json!({ "username": "inst_a_staff", "password": format!("{first}-{second}") })),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text());
    let u = peixun_store::accounts::get_user(&app.store, staff)
        .await
        .unwrap();
    assert!(u.must_change_password);
}
