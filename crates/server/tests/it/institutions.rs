//! The institution directory and teachers: S6 (no cross-institution access), R-VAL-1 (form
//! errors in Chinese, nothing changed), R-PII-1 (masked ID numbers).

use crate::both_backends;
use crate::harness::{TestApp, Who, citizen_id, credit_code};
use axum::http::Method;
use peixun_store::{Actor, Backend, PageRequest, institutions, teachers};
use serde_json::json;

fn teacher_body(name: &str) -> serde_json::Value {
    json!({
        "name": name,
        "id_number": citizen_id("44010519900202456"),
        "phone": "13900139000",
        "qualifications": [{ "occupation": "中式烹调师", "level": "中级", "certificate_no": "C-1" }],
        "active": true
    })
}

async fn teacher_names(app: &TestApp, institution_id: i64) -> Vec<String> {
    teachers::list_teachers(
        &app.store,
        &Actor::system("t"),
        institution_id,
        &PageRequest::first(100),
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .map(|t| t.name)
    .collect()
}

async fn s6_institution_b_cannot_touch_institution_a(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (a, t) = (app.inst_a, app.teacher_a);
    let b = Who::InstBAdmin;
    let before_a = institutions::get_institution(&app.store, &Actor::system("t"), a)
        .await
        .unwrap();
    let before_teachers = teacher_names(&app, a).await;

    // API: reads and writes of A's records.
    assert_eq!(
        app.get_api(&format!("/api/v1/institutions/{a}"), b)
            .await
            .status,
        403
    );
    assert_eq!(
        app.get_api(&format!("/api/v1/institutions/{a}/teachers"), b)
            .await
            .status,
        403
    );
    let put = app
        .api(
            Method::PUT,
            &format!("/api/v1/institutions/{a}"),
            b,
            Some(json!({
                "name": "被篡改", "credit_code": before_a.credit_code, "registered_address": "x",
                "contact_person": "x", "contact_phone": "13800000000"
            })),
        )
        .await;
    assert_eq!(put.status, 403);
    let post = app
        .api(
            Method::POST,
            &format!("/api/v1/institutions/{a}/teachers"),
            b,
            Some(teacher_body("冒名教师")),
        )
        .await;
    assert_eq!(post.status, 403, "{}", post.text());
    let put_t = app
        .api(
            Method::PUT,
            &format!("/api/v1/teachers/{t}"),
            b,
            Some(teacher_body("被改名")),
        )
        .await;
    assert_eq!(put_t.status, 403, "{}", put_t.text());
    // The list shows B only.
    let list = app.get_api("/api/v1/institutions", b).await.json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], app.inst_b);

    // Pages.
    for path in [
        format!("/institutions/{a}"),
        format!("/institutions/{a}/teachers"),
        format!("/institutions/{a}/teachers/export.xlsx"),
        format!("/institutions/{a}/teachers/new"),
        format!("/teachers/{t}/edit"),
    ] {
        let r = app.get(&path, b).await;
        assert_eq!(r.status, 403, "GET {path}");
        assert!(!r.text().contains("李老师"), "GET {path} leaked a name");
    }
    let r = app
        .post_form(
            &format!("/teachers/{t}/edit"),
            b,
            &[("name", "被改名"), ("phone", "13900139000")],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post_form(
            &format!("/institutions/{a}/teachers/new"),
            b,
            &[("name", "冒名教师")],
        )
        .await;
    assert_eq!(r.status, 403);
    let page = app.get("/institutions", b).await.text();
    assert!(page.contains("海珠区乙职业培训学校"));
    assert!(!page.contains("海珠区甲职业培训学校"));

    // Nothing changed.
    let after_a = institutions::get_institution(&app.store, &Actor::system("t"), a)
        .await
        .unwrap();
    assert_eq!(before_a, after_a);
    assert_eq!(before_teachers, teacher_names(&app, a).await);

    // A itself can manage its teachers.
    let ok = app
        .api(
            Method::POST,
            &format!("/api/v1/institutions/{a}/teachers"),
            Who::InstAStaff,
            Some(teacher_body("王老师")),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text());
}

async fn r_val_1_bad_credit_code_shows_the_error_and_creates_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let count = || async {
        institutions::list_institutions(
            &app.store,
            &Actor::system("t"),
            &Default::default(),
            &PageRequest::first(1),
        )
        .await
        .unwrap()
        .total
    };
    let before = count().await;
    let fields = |code: &'static str, confirm: bool| {
        let mut f = vec![
            ("name", "海珠区丙职业培训学校"),
            ("credit_code", code),
            ("registered_address", "广州市海珠区江南大道1号"),
            ("district", "海珠区"),
            ("contact_person", "张三"),
            ("contact_phone", "13800138000"),
            ("status", "active"),
            ("major_projects", "粤菜师傅"),
            ("q_occupation_0", "中式烹调师"),
            ("q_level_0", "中级"),
        ];
        if confirm {
            f.push(("confirm_credit_code", "1"));
        }
        f
    };
    // Malformed (contains O): a hard error.
    let r = app
        .post_form(
            "/institutions/new",
            Who::CentreStaff,
            &fields("91440105MA59OOOOO0", false),
        )
        .await;
    assert_eq!(r.status, 422);
    let html = r.text();
    assert!(html.contains("提交内容有误"), "{html}");
    assert!(
        html.contains("统一社会信用代码的字符") || html.contains("统一社会信用代码含有"),
        "{html}"
    );
    assert!(html.contains("href=\"#credit_code\""));
    assert!(
        html.contains("value=\"海珠区丙职业培训学校\""),
        "values are kept"
    );
    assert_eq!(count().await, before);

    // Well formed, wrong check character: a warning with the confirm checkbox.
    let good = credit_code("91440105MA59C0000");
    let last = good.chars().last().unwrap();
    let wrong_last = if last == '1' { '2' } else { '1' };
    let wrong: &'static str = Box::leak(format!("{}{wrong_last}", &good[..17]).into_boxed_str());
    let r = app
        .post_form("/institutions/new", Who::CentreStaff, &fields(wrong, false))
        .await;
    assert_eq!(r.status, 422);
    let html = r.text();
    assert!(html.contains("校验位"), "{html}");
    assert!(html.contains("我已核实该统一社会信用代码真实有效"));
    assert_eq!(count().await, before);

    // Confirmed: created, and the detail page says so.
    let r = app
        .post_form("/institutions/new", Who::CentreStaff, &fields(wrong, true))
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(count().await, before + 1);
    let detail = app.get(r.header("location"), Who::CentreStaff).await;
    assert_eq!(detail.status, 200);
    assert!(detail.text().contains("校验位不符，已核实"));
}

/// R-VAL-1: a form with several bad fields lists every problem in the summary (each linking to its
/// field) and shows each message beside its field, keeping what was typed; the API answers 422
/// with all of them in `errors`, the first also as `code`/`message`/`field`. Nothing is created.
async fn r_val_1_every_problem_at_once_in_the_summary_beside_each_field_and_in_the_api(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let count = || async {
        institutions::list_institutions(
            &app.store,
            &Actor::system("t"),
            &Default::default(),
            &PageRequest::first(1),
        )
        .await
        .unwrap()
        .total
    };
    let before = count().await;
    let audit_before = peixun_store::audit::count(&app.store).await.unwrap();
    let r = app
        .post_form(
            "/institutions/new",
            Who::CentreStaff,
            &[
                ("name", "海珠区戊职业培训学校"),
                ("credit_code", "91440105MA59OOOOO0"),
                ("registered_address", ""),
                ("district", "海珠区"),
                ("contact_person", ""),
                ("contact_phone", "12345"),
                ("status", "active"),
                // A blank first row is dropped: the bad row is shown again as row 0.
                ("q_occupation_0", ""),
                ("q_occupation_1", "育婴员"),
                ("q_level_1", "特级"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let html = r.text();
    let summary = &html[html.find("error-summary").expect("a summary")..];
    let summary = &summary[..summary.find("</div>").unwrap()];
    let anchors = [
        "credit_code",
        "registered_address",
        "contact_person",
        "contact_phone",
        "q_occupation_0",
    ];
    assert_eq!(summary.matches("<li>").count(), anchors.len(), "{summary}");
    for a in anchors {
        assert!(
            summary.contains(&format!("href=\"#{a}\"")),
            "summary links {a}: {summary}"
        );
        assert!(
            html.contains(&format!("id=\"{a}-error\"")),
            "error beside {a}"
        );
        assert!(
            html.contains(&format!("aria-describedby=\"{a}-error\"")),
            "{a}"
        );
    }
    for m in ["请填写注册地址", "请填写联系人", "第1项资质的等级须为"] {
        assert_eq!(
            html.matches(m).count(),
            2,
            "{m}: in the summary and beside the field"
        );
    }
    assert!(
        html.contains("value=\"海珠区戊职业培训学校\""),
        "values are kept"
    );
    assert!(html.contains("value=\"91440105MA59OOOOO0\""));
    assert!(html.contains("value=\"12345\""));
    assert!(html.contains("value=\"育婴员\""));
    assert!(
        !html.contains("id=\"name-error\""),
        "a good field shows no error"
    );

    let api = app
        .api(
            Method::POST,
            "/api/v1/institutions",
            Who::CentreAdmin,
            Some(json!({
                "name": "海珠区戊职业培训学校",
                "credit_code": "91440105MA59OOOOO0",
                "registered_address": "",
                "contact_person": "",
                "contact_phone": "12345",
                "qualifications": [{ "occupation": "育婴员", "level": "特级" }],
            })),
        )
        .await;
    assert_eq!(api.status, 422, "{}", api.text());
    let body = api.json();
    let errors = body["errors"].as_array().expect("errors");
    let fields: Vec<&str> = errors
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "credit_code",
            "registered_address",
            "contact_person",
            "contact_phone",
            "qualifications[0]"
        ]
    );
    assert_eq!(body["code"], errors[0]["code"]);
    assert_eq!(body["message"], errors[0]["message"]);
    assert_eq!(body["field"], "credit_code");
    assert_eq!(errors[1]["code"], "REQUIRED");
    assert_eq!(errors[4]["code"], "LEVEL_INVALID");

    assert_eq!(count().await, before, "nothing created");
    assert_eq!(
        peixun_store::audit::count(&app.store).await.unwrap(),
        audit_before,
        "no audit row"
    );
}

both_backends!(
    s6_institution_b_cannot_touch_institution_a,
    r_val_1_bad_credit_code_shows_the_error_and_creates_nothing,
    r_val_1_every_problem_at_once_in_the_summary_beside_each_field_and_in_the_api,
);

#[tokio::test]
async fn r_val_1_teacher_and_user_forms_list_every_problem() {
    let app = TestApp::new(Backend::Sqlite).await;
    let a = app.inst_a;
    // Teacher: name, ID number, phone and a row missing its certificate number, all at once.
    let r = app
        .post_form(
            &format!("/institutions/{a}/teachers/new"),
            Who::InstAAdmin,
            &[
                ("name", ""),
                ("id_number", "440105198505053210"),
                ("phone", "x"),
                ("q_occupation_0", "育婴员"),
                ("q_level_0", "中级"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let html = r.text();
    for a in ["name", "id_number", "phone", "q_occupation_0"] {
        assert!(html.contains(&format!("href=\"#{a}\"")), "{a}");
        assert!(html.contains(&format!("id=\"{a}-error\"")), "{a}");
    }
    assert!(html.contains("第1项资质须填写职业（工种）和证书编号"));
    assert!(
        html.contains("value=\"440105198505053210\""),
        "values are kept"
    );
    assert_eq!(teacher_names(&app, a).await.len(), 1);

    // User page: a bad username and no role, both reported.
    let r = app
        .post_form(
            "/users/new",
            Who::Sysadmin,
            &[("username", "a!"), ("display_name", ""), ("role", "")],
        )
        .await;
    assert_eq!(r.status, 422);
    let html = r.text();
    assert!(html.contains("href=\"#role\"") && html.contains("id=\"role-error\""));
    assert!(html.contains("href=\"#username\"") && html.contains("id=\"username-error\""));
    assert!(html.contains("value=\"a!\""));
    // API: a bad username and an institution role without an institution.
    let api = app
        .api(
            Method::POST,
            "/api/v1/users",
            Who::Sysadmin,
            Some(json!({ "username": "a!", "display_name": "", "role": "institution_admin" })),
        )
        .await;
    assert_eq!(api.status, 422, "{}", api.text());
    let body = api.json();
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["USERNAME_INVALID", "INSTITUTION_REQUIRED"]);
    assert_eq!(body["code"], "USERNAME_INVALID");
    assert_eq!(body["field"], "username");
    // A single problem keeps the same shape: `errors` holds it.
    let one = app
        .api(
            Method::POST,
            "/api/v1/users",
            Who::Sysadmin,
            Some(json!({ "username": "ok_name", "display_name": "", "role": "nope" })),
        )
        .await;
    assert_eq!(one.status, 422);
    let body = one.json();
    assert_eq!(body["code"], "ROLE_INVALID");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1);
    assert_eq!(body["errors"][0]["field"], "role");
}

#[tokio::test]
async fn api_directory_round_trip_with_filters_and_masked_ids() {
    let app = TestApp::new(Backend::Sqlite).await;
    let body = json!({
        "name": "海珠区丁职业培训学校",
        "credit_code": credit_code("91440105MA59D0000"),
        "registered_address": "广州市海珠区滨江东路2号",
        "contact_person": "李四",
        "contact_phone": "020-84005678",
        "qualifications": [{ "occupation": "中式烹调师", "level": "中级" }],
        "major_projects": ["粤菜师傅"]
    });
    let r = app
        .api(
            Method::POST,
            "/api/v1/institutions",
            Who::CentreAdmin,
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    // Duplicate credit code: 409 with a stable code and the field.
    let dup = app
        .api(
            Method::POST,
            "/api/v1/institutions",
            Who::CentreAdmin,
            Some(body),
        )
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.json()["field"], "credit_code");
    // Filters.
    let q = app
        .get_api(
            "/api/v1/institutions?occupation=%E4%B8%AD%E5%BC%8F%E7%83%B9%E8%B0%83%E5%B8%88",
            Who::City,
        )
        .await
        .json();
    assert_eq!(q["total"], 1);
    assert_eq!(q["items"][0]["id"], id);
    let major = app
        .get_api(
            "/api/v1/institutions?major_only=true&per_page=1",
            Who::Bureau,
        )
        .await
        .json();
    assert_eq!(major["total"], 3);
    assert_eq!(major["items"].as_array().unwrap().len(), 1);
    let bad = app
        .get_api("/api/v1/institutions?status=closed", Who::Bureau)
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["field"], "status");
    // Teachers: the full ID number never appears (R-PII-1).
    let full = citizen_id("44010519800101123");
    let list = app
        .get_api(
            &format!("/api/v1/institutions/{}/teachers", app.inst_a),
            Who::City,
        )
        .await;
    assert_eq!(list.status, 200);
    assert!(!list.text().contains(&full));
    assert!(
        list.json()["items"][0]["id_number_masked"]
            .as_str()
            .unwrap()
            .contains('*')
    );
    let page = app
        .get(
            &format!("/institutions/{}/teachers", app.inst_a),
            Who::CentreStaff,
        )
        .await;
    assert!(!page.text().contains(&full));
    // Directory page: search box, filters, pagination text.
    let page = app
        .get("/institutions?q=%E4%B8%81&major_only=1", Who::CentreStaff)
        .await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("海珠区丁职业培训学校"));
    assert!(!html.contains("海珠区甲职业培训学校"));
    assert!(html.contains("共 1 条"));
    assert!(html.contains("export.xlsx?q=%E4%B8%81"), "{html}");
}

#[tokio::test]
async fn teacher_pages_add_and_edit() {
    let app = TestApp::new(Backend::Sqlite).await;
    let a = app.inst_a;
    let id = citizen_id("44010519850505321");
    let r = app
        .post_form(
            &format!("/institutions/{a}/teachers/new"),
            Who::InstAAdmin,
            &[
                ("name", "赵老师"),
                ("id_number", &id),
                ("phone", "13700137000"),
                ("active", "1"),
                ("q_occupation_0", "育婴员"),
                ("q_level_0", "中级"),
                ("q_certificate_no_0", "Y-2025-01"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let list = app
        .get(&format!("/institutions/{a}/teachers"), Who::InstAAdmin)
        .await
        .text();
    assert!(list.contains("赵老师"));
    assert!(!list.contains(&id));
    // A bad ID number: the error beside the field, nothing added.
    let r = app
        .post_form(
            &format!("/institutions/{a}/teachers/new"),
            Who::InstAAdmin,
            &[
                ("name", "钱老师"),
                ("id_number", "440105198505053210"),
                ("phone", "13700137000"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("href=\"#id_number\""));
    assert_eq!(teacher_names(&app, a).await.len(), 2);
    // Edit form shows the masked number only.
    let edit = app
        .get(
            &format!("/teachers/{}/edit", app.teacher_a),
            Who::CentreStaff,
        )
        .await;
    assert_eq!(edit.status, 200);
    assert!(!edit.text().contains(&citizen_id("44010519800101123")));
}

#[tokio::test]
async fn r_pii_1_full_id_number_only_on_purpose_with_a_reason_and_audited() {
    let app = TestApp::new(Backend::Sqlite).await;
    let t = app.teacher_a;
    let full = citizen_id("44010519800101123");
    // No reason: refused, nothing shown.
    let r = app
        .post_form(
            &format!("/teachers/{t}/reveal"),
            Who::InstAStaff,
            &[("reason", " ")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.text().contains(&full));
    // Bureau reads the list but may not reveal; institution B may not either.
    let r = app
        .post_form(
            &format!("/teachers/{t}/reveal"),
            Who::Bureau,
            &[("reason", "核对")],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/teachers/{t}/reveal"),
            Who::InstBAdmin,
            Some(json!({ "reason": "核对" })),
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(!r.text().contains(&full));
    // With a reason: shown once, audited with the reason.
    let r = app
        .post_form(
            &format!("/teachers/{t}/reveal"),
            Who::InstAStaff,
            &[("reason", "核对资质证书")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains(&full));
    assert_eq!(r.header("cache-control"), "no-store");
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/teachers/{t}/reveal"),
            Who::CentreStaff,
            Some(json!({ "reason": "核对" })),
        )
        .await;
    assert_eq!(r.json()["id_number"], full.as_str());
    let log = peixun_store::audit::search(
        &app.store,
        &Actor::system("test"),
        &peixun_store::audit::AuditFilter {
            action: Some("teacher.reveal_id_number".into()),
            ..Default::default()
        },
        &PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(log.total, 2);
    assert!(log.items.iter().any(|e| e.username == "inst_a_staff"
        && e.new_value.as_ref().unwrap()["reason"] == "核对资质证书"));
}

#[tokio::test]
async fn saving_shows_a_confirmation_and_pages_keep_working() {
    let app = TestApp::new(Backend::Sqlite).await;
    let a = app.inst_a;
    let r = app
        .get(
            &format!("/institutions/{a}/teachers?page=1&saved=created"),
            Who::InstAAdmin,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("已创建。"));
    let r = app.get("/users?page=1&saved=user", Who::Sysadmin).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("账号状态已更新。"));
    let r = app
        .get(&format!("/institutions/{a}?saved=1"), Who::CentreStaff)
        .await;
    assert!(r.text().contains("已保存。"));
    let r = app.get("/institutions?page=2", Who::CentreStaff).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn users_list_filters_by_name_and_role() {
    let app = TestApp::new(Backend::Sqlite).await;
    let r = app
        .get("/users?role=institution_admin", Who::Sysadmin)
        .await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(html.contains("inst_a_admin") && html.contains("inst_b_admin"));
    assert!(!html.contains(">centre_staff<"));
    assert!(html.contains("共 2 条"));
    let api = app
        .get_api("/api/v1/users?q=spare", Who::Sysadmin)
        .await
        .json();
    assert_eq!(api["total"], 1);
    let bad = app.get_api("/api/v1/users?role=root", Who::Sysadmin).await;
    assert_eq!(bad.status, 422);
    let x = app
        .get("/users/export.xlsx?role=auditor", Who::Sysadmin)
        .await;
    // The export follows the filter: the auditor only, under the header.
    let rows = x.xlsx_rows();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[1].iter().any(|c| c == "auditor"), "{rows:?}");
}

/// R-PII-1: the edit page and the API save a teacher without the full ID number (empty = keep).
async fn teacher_edit_without_retyping_the_id_number(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (a, t) = (app.inst_a, app.teacher_a);
    let full = citizen_id("44010519800101123");
    let stored = |app: &TestApp| {
        let (store, now) = (app.store.clone(), app.clock_now());
        async move {
            teachers::reveal_id_number(&store, &Actor::system("t"), t, "测试核对", now)
                .await
                .unwrap()
        }
    };
    let edit = app
        .get(&format!("/teachers/{t}/edit"), Who::InstAAdmin)
        .await;
    assert_eq!(edit.status, 200);
    assert!(edit.text().contains("留空则不修改"));
    assert!(!edit.text().contains(&full));
    let r = app
        .post_form(
            &format!("/teachers/{t}/edit"),
            Who::InstAAdmin,
            &[
                ("name", "李老师（改）"),
                ("id_number", ""),
                ("phone", "13700137001"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(
        teacher_names(&app, a)
            .await
            .contains(&"李老师（改）".to_string())
    );
    assert_eq!(stored(&app).await, full);
    // The API: an absent id_number keeps it too.
    let r = app
        .api(
            Method::PUT,
            &format!("/api/v1/teachers/{t}"),
            Who::CentreStaff,
            Some(json!({ "name": "李老师", "phone": "13700137002" })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["phone"], "13700137002");
    assert_eq!(stored(&app).await, full);
}

both_backends!(teacher_edit_without_retyping_the_id_number);
