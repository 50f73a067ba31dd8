//! Violations through HTTP (R-VIO-1, R-VIO-2, R-AGR-1, S6): the centre records one on the page
//! (institution, then its classes, evidence upload), the recorder sees no decision buttons,
//! another centre officer sees the confirmation page listing exactly what will happen and must
//! tick the confirmation box; confirming terminates A's agreement and the waiting filing of B
//! is granted; institution B gets 404 on A's violation (page and API); the API records, lists,
//! previews, confirms and dismisses; the export lists them.

use crate::both_backends;
use crate::filing_package::post_multipart;
use crate::harness::{TestApp, Who};
use crate::rounds::{actor_of, round, signed};
use axum::http::{Method, StatusCode};
use peixun_domain::workflow::round::Half;
use peixun_domain::workflow::violation::ViolationKind;
use peixun_store::filings::{self, SlotState};
use peixun_store::violations::{self, RecordInput};
use serde_json::{Value as J, json};

both_backends!(
    r_vio_2_confirmation_page_lists_consequences_and_needs_the_checkbox,
    s6_institution_b_gets_404_on_a_s_violation_page_and_api,
    r_vio_1_api_records_lists_and_dismisses,
);

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

/// A round of 4 slots: A holds 2, C (a third institution) holds 2, B's filing waits.
/// Returns (A's filings, B's filing).
async fn full_round(app: &TestApp) -> (Vec<i64>, i64) {
    use peixun_store::agreements::{self, ApplicationInput, SignInput};
    let r = round(app, Half::Other, "违规批次", 4, false).await;
    let (_, ag_a) = signed(app, r, Who::InstAAdmin, 2).await;
    let (_, ag_b) = signed(app, r, Who::InstBAdmin, 2).await;
    let now = app.clock_now();
    let c = peixun_store::institutions::create_institution(
        &app.store,
        &peixun_store::Actor::system("test"),
        &crate::harness::institution_input("海珠区丙职业培训学校", "91440105MA59C0000"),
        now,
    )
    .await
    .unwrap()
    .id;
    let c_user = peixun_store::Actor {
        user_id: Some(90_000),
        username: "inst_c_admin".into(),
        role: Some(peixun_domain::role::Role::InstitutionAdmin),
        institution_id: Some(c),
        ip: None,
        request_id: None,
    };
    let app_c = agreements::apply_to_round(
        &app.store,
        &c_user,
        &ApplicationInput {
            round_id: r,
            occupations: vec![crate::rounds::OCC.into()],
            classes_requested: 2,
            note: String::new(),
        },
        now,
    )
    .await
    .unwrap();
    let ag_c = agreements::sign_agreement(
        &app.store,
        &actor_of(app, Who::CentreAdmin),
        &SignInput {
            application_id: app_c.id,
            first_cap: Some(2),
            override_cap: None,
        },
        now,
    )
    .await
    .unwrap()
    .id;
    let sub = |ag| filings::FilingSubmission {
        agreement_id: ag,
        occupation: crate::rounds::OCC.into(),
        level: crate::rounds::LEVEL.into(),
        start_date: chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
    };
    let mut a = Vec::new();
    for (actor, ag) in [
        (actor_of(app, Who::InstAStaff), ag_a),
        (actor_of(app, Who::InstAStaff), ag_a),
        (c_user.clone(), ag_c),
        (c_user.clone(), ag_c),
    ] {
        let f = filings::submit_without_package(&app.store, &actor, sub(ag), now)
            .await
            .unwrap();
        assert_eq!(f.slot_state, SlotState::Holding);
        if ag == ag_a {
            a.push(f.id);
        }
    }
    let b = filings::submit_without_package(
        &app.store,
        &actor_of(app, Who::InstBAdmin),
        sub(ag_b),
        now,
    )
    .await
    .unwrap();
    assert_eq!(b.slot_state, SlotState::Waiting);
    (a, b.id)
}

/// A violation against A recorded by centre_staff (for the route table too).
pub async fn recorded(app: &TestApp, classes: Vec<i64>) -> i64 {
    let no_classes = classes.is_empty();
    violations::record_violation(
        &app.store,
        &app.state.files,
        &actor_of(app, Who::CentreStaff),
        &RecordInput {
            institution_id: app.inst_a,
            kind: ViolationKind::FalsifiedApplication,
            facts: "申报材料中3名授课教师的职业资格证书经核验系伪造。".into(),
            class_ids: classes,
            no_classes,
        },
        &[violations::EvidenceUpload {
            name: "核验记录.pdf".into(),
            bytes: PDF.to_vec(),
        }],
        app.clock_now(),
    )
    .await
    .unwrap()
    .id
}

async fn r_vio_2_confirmation_page_lists_consequences_and_needs_the_checkbox(
    backend: peixun_store::Backend,
) {
    let app = TestApp::new(backend).await;
    let (a, b) = full_round(&app).await;
    // Recorded through the page: institution first, then its classes as checkboxes.
    let form = app
        .get(
            &format!("/violations/new?institution_id={}", app.inst_a),
            Who::CentreStaff,
        )
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.text()
            .contains(&format!("name=\"class_ids\" value=\"{}\"", a[0]))
    );
    let bad = post_multipart(
        &app,
        "/violations",
        Who::CentreStaff,
        &[
            ("institution_id", &app.inst_a.to_string()),
            ("kind", "falsified_application"),
            ("facts", "材料作假"),
        ],
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("不涉及培训班次"), "{}", bad.text());
    let ok = post_multipart(
        &app,
        "/violations",
        Who::CentreStaff,
        &[
            ("institution_id", &app.inst_a.to_string()),
            ("kind", "falsified_application"),
            ("facts", "申报材料中的教师证书系伪造"),
            ("class_ids", &a[0].to_string()),
        ],
        Some(("evidence", "核验记录.pdf", PDF)),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let loc = ok.header("location").to_string();
    let id: i64 = loc
        .trim_start_matches("/violations/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // The recorder sees the consequences but no decision buttons.
    let own = app
        .get(&format!("/violations/{id}"), Who::CentreStaff)
        .await;
    assert_eq!(own.status, StatusCode::OK);
    let html = own.text();
    assert!(html.contains("确认后将立即发生"));
    assert!(
        !html.contains(
            "action=\"/violations/{id}/confirm\""
                .replace("{id}", &id.to_string())
                .as_str()
        )
    );
    assert!(html.contains("核验记录.pdf"));
    // Another centre officer: the confirmation page lists exactly what will happen.
    let page = app
        .get(&format!("/violations/{id}"), Who::CentreAdmin)
        .await;
    let html = page.text();
    assert!(html.contains(&format!("action=\"/violations/{id}/confirm\"")));
    assert!(html.contains("中止委托培训协议 1 份"), "{html}");
    assert!(html.contains("取消未开班的备案及班次 2 个"), "{html}");
    assert!(html.contains(&format!("备案#{b}")), "{html}");
    assert!(html.contains("确认违规") && html.contains("不予认定"));
    // Without the checkbox: refused, nothing changes.
    let r = app
        .post_form(&format!("/violations/{id}/confirm"), Who::CentreAdmin, &[])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("不可撤销"));
    let fb = filings::get_filing(&app.store, &actor_of(&app, Who::CentreAdmin), b)
        .await
        .unwrap();
    assert_eq!(fb.slot_state, SlotState::Waiting);
    // With it: confirmed, A's filings cancelled, B's granted.
    let r = app
        .post_form(
            &format!("/violations/{id}/confirm"),
            Who::CentreAdmin,
            &[("acknowledge", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let fb = filings::get_filing(&app.store, &actor_of(&app, Who::CentreAdmin), b)
        .await
        .unwrap();
    assert_eq!(fb.slot_state, SlotState::Holding);
    for f in &a {
        let fa = filings::get_filing(&app.store, &actor_of(&app, Who::CentreAdmin), *f)
            .await
            .unwrap();
        assert_eq!(fa.slot_state, SlotState::Released);
    }
    // A sees it on its home page, its institution page and the list; no evidence for it.
    let home = app.get("/", Who::InstAAdmin).await.text();
    assert!(home.contains(&format!("违规记录#{id}")), "{home}");
    let inst = app
        .get(&format!("/institutions/{}", app.inst_a), Who::InstAStaff)
        .await
        .text();
    assert!(inst.contains(&format!("/violations/{id}")));
    let mine = app.get(&format!("/violations/{id}"), Who::InstAAdmin).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(!mine.text().contains("核验记录.pdf"));
    // The export lists it.
    let x = app.get("/violations/export.xlsx", Who::Bureau).await;
    assert_eq!(x.status, StatusCode::OK);
    let rows = x.xlsx_rows();
    assert_eq!(rows[0][0], "编号");
    assert!(
        rows.iter()
            .any(|r| r[0] == id.to_string() && r[2] == "申报资料作假")
    );
}

async fn s6_institution_b_gets_404_on_a_s_violation_page_and_api(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let id = recorded(&app, vec![]).await;
    violations::confirm_violation(
        &app.store,
        &actor_of(&app, Who::CentreAdmin),
        id,
        app.clock_now(),
    )
    .await
    .unwrap();
    let v = violations::get_violation(&app.store, &actor_of(&app, Who::CentreAdmin), id)
        .await
        .unwrap();
    let file = &v.evidence[0].id;
    assert_eq!(
        app.get(&format!("/violations/{id}"), Who::InstAAdmin)
            .await
            .status,
        StatusCode::OK
    );
    for path in [
        format!("/violations/{id}"),
        format!("/violations/{id}/evidence/{file}"),
    ] {
        assert_eq!(
            app.get(&path, Who::InstBAdmin).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // A may read its violation but never the evidence.
    assert_eq!(
        app.get(
            &format!("/violations/{id}/evidence/{file}"),
            Who::InstAAdmin
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let e = app
        .get(
            &format!("/violations/{id}/evidence/{file}"),
            Who::CentreStaff,
        )
        .await;
    assert_eq!(e.status, StatusCode::OK);
    assert_eq!(e.header("x-content-type-options"), "nosniff");
    let api = app
        .api(
            Method::GET,
            &format!("/api/v1/violations/{id}"),
            Who::InstBAdmin,
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    let list = app
        .api(Method::GET, "/api/v1/violations", Who::InstBAdmin, None)
        .await
        .json();
    assert_eq!(list["total"], 0);
    let list = app
        .api(Method::GET, "/api/v1/violations", Who::InstAStaff, None)
        .await
        .json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["evidence"], json!([]));
    let page = app.get("/violations", Who::InstBAdmin).await.text();
    assert!(!page.contains(&format!("/violations/{id}\"")));
}

async fn r_vio_1_api_records_lists_and_dismisses(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let (a, b) = full_round(&app).await;
    let bad = app
        .api(
            Method::POST,
            "/api/v1/violations",
            Who::CentreStaff,
            Some(json!({"institution_id": app.inst_a, "kind": "nope", "facts": "x", "no_classes": true})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["code"], "VIO_KIND");
    let other = app
        .api(
            Method::POST,
            "/api/v1/violations",
            Who::CentreStaff,
            Some(json!({"institution_id": app.inst_b, "kind": "fake_training", "facts": "x", "class_ids": [a[0]]})),
        )
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.json()["code"], "VIO_CLASS_OTHER");
    let made = app
        .api(
            Method::POST,
            "/api/v1/violations",
            Who::CentreAdmin,
            Some(json!({"institution_id": app.inst_a, "kind": "impersonation", "facts": "冒名顶替参训", "class_ids": [a[1]]})),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text());
    let v: J = made.json();
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["kind"], "impersonation");
    assert_eq!(v["state"], "recorded");
    // The recorder (centre_admin) cannot decide it.
    let selfc = app
        .api(
            Method::POST,
            &format!("/api/v1/violations/{id}/confirm"),
            Who::CentreAdmin,
            Some(json!({"acknowledge": true})),
        )
        .await;
    assert_eq!(selfc.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(selfc.json()["code"], "VIO_SELF_DECISION");
    let preview = app
        .api(
            Method::GET,
            &format!("/api/v1/violations/{id}/preview"),
            Who::CentreStaff,
            None,
        )
        .await
        .json();
    assert_eq!(preview["termination"]["promoted"], json!([b]));
    let listed = app
        .api(
            Method::GET,
            "/api/v1/violations?state=recorded",
            Who::City,
            None,
        )
        .await
        .json();
    assert_eq!(listed["total"], 1);
    // A second admin dismisses it; nothing changes.
    let second = peixun_store::accounts::create_user(
        &app.store,
        &peixun_store::Actor::system("test"),
        peixun_store::accounts::NewUser {
            username: "centre_admin2".into(),
            display_name: "第二负责人".into(),
            role: peixun_domain::role::Role::CentreAdmin,
            institution_id: None,
            password: crate::harness::PASSWORD.into(),
            must_change_password: false,
        },
        app.clock_now(),
    )
    .await
    .unwrap();
    let second_actor = peixun_store::Actor {
        user_id: Some(second.id),
        username: "centre_admin2".into(),
        role: Some(peixun_domain::role::Role::CentreAdmin),
        institution_id: None,
        ip: None,
        request_id: None,
    };
    let e = violations::dismiss_violation(&app.store, &second_actor, id, "", app.clock_now())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "WF_REASON_REQUIRED");
    violations::dismiss_violation(
        &app.store,
        &second_actor,
        id,
        "经复核系同名人员，非冒名",
        app.clock_now(),
    )
    .await
    .unwrap();
    let fb = filings::get_filing(&app.store, &actor_of(&app, Who::CentreAdmin), b)
        .await
        .unwrap();
    assert_eq!(fb.slot_state, SlotState::Waiting);
    let got = app
        .api(
            Method::GET,
            &format!("/api/v1/violations/{id}"),
            Who::Bureau,
            None,
        )
        .await
        .json();
    assert_eq!(got["state"], "dismissed");
    assert_eq!(got["decision_reason"], "经复核系同名人员，非冒名");
}

/// The sample context of each template of this part (for the template test).
pub fn template_sample(name: &str, x: &str, errs: &J, field_errs: &J) -> Option<J> {
    let v = json!({ "id": 3, "institution_id": 1, "institution_name": x, "kind": "falsified_application",
        "kind_label": "申报资料作假", "state": "recorded", "state_label": "已登记", "facts": x,
        "classes": [{ "filing_id": 5, "occupation": x, "level": "初级", "start_date": "2026-04-01", "status": "approved" }],
        "no_classes": false, "evidence": [{ "id": "ab", "name": x, "size": 10 }], "recorded_by": x,
        "recorded_at": "2026-04-01 10:00", "decided_by": x, "decided_at": "2026-04-02 10:00",
        "decision_reason": x, "effects": null });
    let pager =
        json!({ "page": 1, "pages": 2, "total": 30, "prev_href": null, "next_href": "/x?page=2" });
    Some(match name {
        "violations_list.html" => {
            json!({ "items": [v], "states": [{ "code": "recorded", "label": x }],
            "institutions": [{ "id": 1, "name": x }], "filter": { "state": "recorded", "institution_id": 1 },
            "can_record": true, "show_filters": true, "flash": x, "pager": pager })
        }
        "violation_new.html" => {
            json!({ "institutions": [{ "id": 1, "name": x }], "institution_id": 1,
            "classes": [{ "filing_id": 5, "label": x, "checked": true }],
            "kinds": [{ "code": "other", "label": x }],
            "form": { "institution_id": "1", "kind": "other", "facts": x, "no_classes": "1" },
            "errors": errs, "field_errors": field_errs })
        }
        "violation_detail.html" => json!({ "v": v,
            "effects": { "agreements": [7], "cancelled": [{ "id": 5, "label": x }], "flagged": [{ "id": 6, "label": x }],
                "promoted": [{ "id": 8, "label": x }], "no_codes": [5], "codes": [{ "filing_id": 5, "count": 20 }], "codes_total": 20 },
            "preview": true, "may_decide": true, "self_recorded": true, "is_centre": true,
            "form": { "reason": x, "acknowledge": "" }, "errors": errs, "field_errors": field_errs, "flash": x }),
        _ => return None,
    })
}
