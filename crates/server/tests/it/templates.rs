//! Every template renders with sample data under strict undefined; values are HTML-escaped.

use crate::harness::{TestApp, Who, credit_code};
use axum::http::Method;
use minijinja::value::{Serde, Value};
use peixun_server::templates::{TEMPLATES, Templates};
use peixun_store::Backend;
use serde_json::{Value as J, json};

const XSS: &str = "<script>alert(1)</script>";

fn base(demo: bool) -> J {
    json!({
        "system_name": "海珠区职业技能培训合格证书培训管理系统",
        "demo": demo,
        "demo_today": null,
        "current": { "id": 1, "username": "u", "display_name": XSS, "role": "centre_staff", "role_label": "区培训中心经办人" },
        "nav": [{ "href": "/", "label": "首页", "active": true }],
        "csrf_token": "tok",
        "title": XSS,
        "flash": null,
    })
}

fn institution() -> J {
    json!({
        "id": 7, "name": XSS, "credit_code": "91440105MA59A00001", "credit_code_warning_confirmed": true,
        "registered_address": XSS, "district": "海珠区", "contact_person": "陈", "contact_phone": "020-1",
        "qualifications": [{ "occupation": XSS, "level": "初级" }], "major_project_capable": true,
        "major_projects": ["南粤家政"], "status": "active", "status_label": "正常",
    })
}

fn teacher() -> J {
    json!({ "id": 3, "institution_id": 7, "name": XSS, "id_number_masked": "440105********1235", "phone": "138",
            "qualifications": [{ "occupation": "育婴员", "level": "高级", "certificate_no": "Z1" }], "active": true })
}

fn pager() -> J {
    json!({ "page": 2, "pages": 3, "total": 45, "prev_href": "/x?page=1", "next_href": "/x?page=3" })
}

fn errors() -> (J, J) {
    (
        json!([{ "field": "name", "message": XSS }]),
        json!({ "name": XSS, "credit_code": "错误" }),
    )
}

fn sample(name: &str) -> J {
    let (errs, field_errs) = errors();
    let form_inst = json!({
        "name": XSS, "credit_code": "x", "confirm_credit_code": false, "registered_address": "", "district": "",
        "contact_person": "", "contact_phone": "", "status": "active", "major_projects": ["粤菜师傅"],
        "qualifications": [{ "occupation": XSS, "level": "初级" }, { "occupation": "", "level": "" }],
    });
    let statuses =
        json!([{ "code": "active", "label": "正常" }, { "code": "suspended", "label": "暂停" }]);
    match name {
        "base.html" | "macros.html" => json!({}),
        "error.html" => json!({ "message": XSS }),
        "login.html" => {
            json!({ "login_csrf": "t", "next": "/", "username": XSS, "errors": errs, "field_errors": field_errs })
        }
        "password.html" => json!({ "forced": true, "errors": errs, "field_errors": field_errs }),
        "login_totp.html" => {
            json!({ "login_csrf": "t", "next": XSS, "errors": errs, "field_errors": field_errs })
        }
        "account_totp.html" => json!({
            "state": "enabled", "required": false, "exempt": true, "role_requires": false,
            "enabled_at": "2026-03-02 10:00", "replacing": true, "recovery_codes_left": 2,
            "pending": { "secret": XSS, "qr": "data:image/svg+xml,%3Csvg%3E" }, "issuer": XSS,
            "flash": XSS, "errors": errs, "field_errors": field_errs,
        }),
        "account_totp_codes.html" => json!({ "codes": [XSS, "abcd-efgh-jkmn-pqrs"] }),
        "home.html" => {
            json!({ "kind": "institution", "stats": { "teachers": 2, "violations": [{ "id": 4, "kind_label": XSS, "decided_at": "2026-04-02 10:00" }] }, "institution": institution(),
                    "work": crate::running::sample_work(XSS), "calendar_missing": 2027, "can_load_calendar": true })
        }
        "institutions_list.html" => json!({
            "items": [institution()], "filter": { "q": XSS, "major_only": true, "status": "active", "occupation": "" },
            "statuses": statuses, "can_create": true, "export_href": "/institutions/export.xlsx", "pager": pager() }),
        "institution_detail.html" => {
            json!({ "institution": institution(), "teachers": [teacher()], "can_edit": true, "can_edit_teachers": true,
                    "violations": [{ "id": 4, "kind_label": XSS, "recorded_at": "2026-04-01 10:00", "state_label": "已确认", "decided_at": "2026-04-02 10:00" }],
                    "can_record_violation": true })
        }
        "institution_form.html" => {
            json!({ "action": "/institutions/new", "cancel_href": "/institutions", "form": form_inst,
            "show_confirm": true, "errors": errs, "field_errors": field_errs, "statuses": statuses,
            "major_options": ["南粤家政", "粤菜师傅", "广东技工"], "levels": ["初级", "中级"] })
        }
        "teachers_list.html" => {
            json!({ "institution": institution(), "items": [teacher()], "can_edit": true, "pager": pager() })
        }
        "teacher_form.html" => {
            json!({ "institution": institution(), "action": "/x", "is_new": false, "cancel_href": "/y",
            "form": { "name": XSS, "id_number": "", "id_number_masked": "440105********1235", "phone": "", "active": true,
                      "qualifications": [{ "occupation": "", "level": "", "certificate_no": "" }] },
            "levels": ["初级", "中级"],
            "errors": errs, "field_errors": field_errs })
        }
        "teacher_reveal.html" => {
            json!({ "teacher": teacher(), "id_number": XSS, "reason": XSS, "errors": [], "field_errors": {} })
        }
        "trainee_reveal.html" => json!({
            "t": { "trainee": { "id": 5, "row_number": 2, "name": XSS, "id_kind": XSS,
                "id_number_masked": XSS, "phone_masked": "138****8000", "residence": "广州",
                "groups": [], "age": 30, "over_retirement_age": false },
                "package_id": 3, "institution_id": 1, "pending": true },
            "id_number": XSS, "reason": XSS, "errors": [], "field_errors": {}
        }),
        "users_list.html" => {
            json!({ "items": [{ "id": 2, "username": XSS, "display_name": XSS, "role_label": "市职培中心",
            "institution_label": "—", "active": true, "must_change_password": true, "credential": "凭据待确认" }], "pager": pager(),
            "roles": [{ "code": "city", "label": "市职培中心" }], "filter": { "q": XSS, "role": "city" },
            "export_href": "/users/export.xlsx", "errors": [], "field_errors": {} })
        }
        "user_form.html" => {
            json!({ "roles": [{ "code": "city", "label": "市职培中心" }], "institutions": [{ "id": 7, "name": XSS }],
            "form": { "username": XSS, "display_name": "", "role": "city", "institution_id": "7", "reason": XSS },
            "errors": errs, "field_errors": field_errs })
        }
        "credential_half.html" => json!({ "half_no": 1, "half": "Abcd-Ef2h", "username": XSS,
            "display_name": XSS, "kind_label": "重置密码", "expires_at": "2026-03-05 10:00:00", "back": "/users" }),
        "credential_requests.html" => {
            json!({ "all": false, "is_sysadmin": false, "items": [{ "id": 3,
            "username": XSS, "display_name": XSS, "role_label": "培训机构经办人", "institution": XSS,
            "kind_label": "重置密码", "state": "pending", "state_label": "待确认", "reason": XSS,
            "requested_by": "sysadmin", "requested_at": "2026-03-02 10:00:00", "expires_at": "2026-03-05 10:00:00",
            "decided_by": "", "decided_at": "", "can_confirm": true, "can_cancel": true }] })
        }
        "credential_reset.html" => json!({ "id": 4, "username": XSS, "display_name": XSS,
            "role_label": "区培训中心经办人", "own": false, "form": { "reason": XSS, "clear_authenticator": true },
            "errors": errs, "field_errors": field_errs }),
        "audit_list.html" => {
            json!({ "items": [{ "id": 1, "at": "2026-03-02 10:00:00", "username": XSS, "role": "审计管理员",
            "ip": "127.0.0.1", "action": "auth.login", "target": "user #1", "change": XSS }],
            "filter": { "username": "", "action": "", "target_type": "", "target_id": "", "from": "", "to": "" },
            "export_href": "/audit/export.xlsx", "pager": pager(), "errors": [], "field_errors": {} })
        }
        other => crate::rounds::template_sample(other, XSS, &errs, &field_errs)
            .or_else(|| crate::running::template_sample(other, XSS, &errs, &field_errs))
            .or_else(|| crate::filing_package::template_sample(other, XSS, &errs, &field_errs))
            .or_else(|| crate::calendar::template_sample(other, XSS, &errs, &field_errs))
            .or_else(|| crate::certificates::template_sample(other, XSS, &errs, &field_errs))
            .or_else(|| crate::archive::template_sample(other, XSS, &errs, &field_errs))
            .or_else(|| crate::policies::template_sample(other, XSS, &errs, &field_errs))
            .or_else(|| crate::jobs_admin::template_sample(other, XSS, &errs, &field_errs))
            .or_else(|| crate::surveys::template_sample(other, XSS, &errs, &field_errs))
            .or_else(|| crate::violations::template_sample(other, XSS, &errs, &field_errs))
            .or_else(|| crate::evaluations::template_sample(other, XSS, &errs, &field_errs))
            .or_else(|| crate::evaluation_reports::template_sample(other, XSS, &errs, &field_errs))
            .unwrap_or_else(|| panic!("no sample context for template {other}: add one")),
    }
}

fn merged(name: &str, demo: bool) -> Value {
    let mut ctx = base(demo);
    for (k, v) in sample(name).as_object().unwrap() {
        ctx[k] = v.clone();
    }
    Value::from(Serde(ctx))
}

#[test]
fn every_template_renders_and_escapes_script() {
    let t = Templates::new().expect("templates parse");
    for (name, _) in TEMPLATES {
        let html = t
            .render(name, merged(name, true))
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        assert!(!html.contains("<script>alert"), "{name} did not escape");
        if !matches!(*name, "macros.html") {
            assert!(
                html.contains("&lt;script&gt;"),
                "{name}: sample value not shown escaped"
            );
            // A partial included by a page (survey_section.html in class_detail.html) has no
            // banner of its own.
            assert!(
                name.ends_with("_section.html") || html.contains("演示环境 — 数据均为虚构"),
                "{name}: demo banner missing"
            );
        }
    }
}

#[test]
fn every_template_file_is_embedded() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            TEMPLATES.iter().any(|(n, _)| *n == name),
            "templates/{name} is not in templates::TEMPLATES"
        );
        assert!(
            name.ends_with(".html"),
            "{name}: templates are *.html so that autoescape applies"
        );
    }
}

#[test]
fn no_demo_banner_without_demo() {
    let t = Templates::new().unwrap();
    let html = t.render("home.html", merged("home.html", false)).unwrap();
    assert!(!html.contains("演示环境"));
    assert!(html.contains("海珠区职业技能培训合格证书培训管理系统"));
    assert!(html.contains("退出"));
}

/// `serve --demo --today`: the banner names the date the demo runs at.
#[test]
fn demo_banner_names_the_demo_date() {
    let t = Templates::new().unwrap();
    let mut ctx = base(true);
    ctx["demo_today"] = json!("2027-01-18");
    for (k, v) in sample("home.html").as_object().unwrap() {
        ctx[k] = v.clone();
    }
    let html = t.render("home.html", Value::from(Serde(ctx))).unwrap();
    assert!(html.contains("演示日期 2027-01-18"), "{html}");
    let html = t.render("home.html", merged("home.html", true)).unwrap();
    assert!(!html.contains("演示日期"));
}

#[test]
fn strict_undefined_fails_loudly() {
    let t = Templates::new().unwrap();
    let mut ctx = base(false);
    ctx.as_object_mut().unwrap().remove("title");
    assert!(t.render("error.html", Value::from(Serde(ctx))).is_err());
}

#[tokio::test]
async fn script_in_stored_data_is_escaped_on_the_pages() {
    let app = TestApp::new(Backend::Sqlite).await;
    let r = app
        .api(
            Method::POST,
            "/api/v1/institutions",
            Who::CentreAdmin,
            Some(json!({
                "name": XSS,
                "credit_code": credit_code("91440105MA59E0000"),
                "registered_address": "\"><img src=x onerror=alert(1)>",
                "contact_person": "x",
                "contact_phone": "13800138000",
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    for path in [
        format!("/institutions/{id}"),
        "/institutions".into(),
        format!("/institutions/{id}/edit"),
    ] {
        let html = app.get(&path, Who::CentreAdmin).await.text();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;"), "{path}");
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
    }
}

#[tokio::test]
async fn demo_banner_on_every_page_when_running_with_demo() {
    let app = TestApp::with_demo(Backend::Sqlite, true).await;
    for (path, who) in [
        ("/login", Who::Anonymous),
        ("/", Who::Auditor),
        ("/institutions", Who::City),
        ("/nope", Who::City),
    ] {
        let html = app.get(path, who).await.text();
        assert!(html.contains("演示环境 — 数据均为虚构"), "{path}");
    }
}

#[tokio::test]
async fn home_page_per_role() {
    let app = TestApp::new(Backend::Sqlite).await;
    let cases = [
        (Who::CentreAdmin, "新增培训机构"),
        (Who::Bureau, "目录内培训机构"),
        (Who::InstAStaff, "海珠区甲职业培训学校"),
        (Who::Sysadmin, "用户管理"),
        (Who::Auditor, "审计日志"),
    ];
    for (who, text) in cases {
        let r = app.get("/", who).await;
        assert_eq!(r.status, 200, "{who:?}");
        let html = r.text();
        assert!(html.contains(text), "{who:?} home lacks {text}");
        assert!(html.contains("测试"), "{who:?}: user name in the header");
    }
    // The auditor's nav has no business links; sysadmin's none either (S7).
    let html = app.get("/", Who::Auditor).await.text();
    assert!(!html.contains("href=\"/institutions\""));
    let html = app.get("/", Who::Sysadmin).await.text();
    assert!(!html.contains("href=\"/institutions\""));
    assert!(!html.contains("href=\"/audit\""));
}
