//! The filing package, roster import, review and requests over HTTP (R-FIL-1…5, R-FIL-7,
//! R-FIL-8, R-VAL-1; SECURITY.md S6, S16, S22): the JSON API end to end, and the fixture the S5
//! table uses for these routes.

use crate::both_backends;
use crate::harness::{TestApp, TestResponse, Who};
use crate::rounds::{LEVEL, OCC, actor_of, round, signed};
use axum::body::Body;
use axum::http::{Method, Request, header};
use peixun_domain::workflow::round::Half;
use peixun_store::filing_package::{self, PackageInput};
use peixun_store::requests::{self, EvidenceUpload, RequestInput};
use serde_json::json;

pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
pub const SLOTS: [&str; 7] = [
    "brochure",
    "training_plan",
    "syllabus",
    "textbook",
    "roster_document",
    "subsidy_standard",
    "question_bank",
];

/// Institution A's draft package (with a brochure) and address request (with evidence), for the
/// S5 table.
pub struct Fixture {
    pub package: i64,
    pub request: i64,
    /// A trainee (roster entry) of institution A's second package (R-PII-1 reveal routes).
    pub trainee: i64,
    /// That package.
    pub trainee_package: i64,
}

impl Fixture {
    pub async fn new(app: &TestApp) -> Fixture {
        let r = round(app, Half::Other, "S5备案材料批次", 5, false).await;
        let (_, agreement) = signed(app, r, Who::InstAAdmin, 3).await;
        let ia = actor_of(app, Who::InstAStaff);
        let now = app.clock_now();
        let p = filing_package::create_package(&app.store, &ia, agreement, now)
            .await
            .unwrap();
        filing_package::update_package(
            &app.store,
            &ia,
            p.id,
            &PackageInput {
                occupation: OCC.into(),
                level: LEVEL.into(),
                start_date: Some(crate::rounds::d(2026, 4, 1)),
                planned_end: Some(crate::rounds::d(2026, 4, 10)),
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        filing_package::attach_file(
            &app.store,
            &app.state.files,
            &ia,
            p.id,
            "brochure",
            PDF,
            "简章.pdf",
            now,
        )
        .await
        .unwrap();
        let req = requests::submit_request(
            &app.store,
            &app.state.files,
            &ia,
            &RequestInput::Address {
                address: "广州市海珠区工业大道1号".into(),
                reason: "场地扩容".into(),
            },
            &[EvidenceUpload {
                slot: requests::ADDRESS_EVIDENCE.into(),
                bytes: PDF.to_vec(),
                name: "租赁合同.pdf".into(),
            }],
            now,
        )
        .await
        .unwrap();
        // A second package with a 20-person roster, for the trainee routes.
        let p2 = filing_package::create_package(&app.store, &ia, agreement, now)
            .await
            .unwrap();
        filing_package::update_package(
            &app.store,
            &ia,
            p2.id,
            &PackageInput {
                occupation: OCC.into(),
                level: LEVEL.into(),
                start_date: Some(crate::rounds::d(2026, 4, 1)),
                planned_end: Some(crate::rounds::d(2026, 4, 10)),
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        let out = peixun_store::roster::import_roster(
            &app.store,
            &ia,
            &app.state.roster_key,
            p2.id,
            &csv(&peixun_store::roster::synthetic_rows(20, 4242)),
            None,
            now,
        )
        .await
        .unwrap();
        assert!(
            matches!(out, peixun_store::roster::ImportOutcome::Imported(_)),
            "{out:?}"
        );
        let trainee = peixun_store::roster::list_roster(&app.store, &ia, p2.id, false)
            .await
            .unwrap()[0]
            .id;
        Fixture {
            package: p.id,
            request: req.id,
            trainee,
            trainee_package: p2.id,
        }
    }

    /// The concrete path for a route of this issue, or `None`.
    pub fn path_for(&self, path: &str) -> Option<String> {
        let p = path.strip_prefix("/api/v1").unwrap_or(path);
        let (id, kind) = if p.starts_with("/packages/{id}") {
            (self.package, "brochure")
        } else if p.starts_with("/requests/{id}") {
            (self.request, requests::ADDRESS_EVIDENCE)
        } else if p.starts_with("/trainees/{id}") {
            (self.trainee, "")
        } else {
            return None;
        };
        Some(
            path.replace("{id}", &id.to_string())
                .replace("{kind}", kind),
        )
    }
}

pub(crate) async fn upload(app: &TestApp, path: &str, who: Who, bytes: &[u8]) -> TestResponse {
    let s = app.session(who).await.expect("session");
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", s.token))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(bytes.to_vec()))
        .expect("request");
    app.send(req).await
}

pub(crate) fn csv(rows: &[[String; 6]]) -> Vec<u8> {
    let mut s = peixun_domain::roster::ROSTER_HEADERS.join(",");
    s.push('\n');
    for r in rows {
        s.push_str(&r.join(","));
        s.push('\n');
    }
    s.into_bytes()
}

fn package_body(teacher: i64, start: &str, end: &str) -> serde_json::Value {
    json!({
        "occupation": OCC,
        "level": LEVEL,
        "hours": "6",
        "start_date": start,
        "planned_end": end,
        "location": {"kind": "registered_address"},
        "mode": "offline",
        "teachers": [teacher],
        "sessions": [
            {"date": start, "start_time": "09:00:00", "end_time": "12:00:00", "topic": "婴幼儿生活照料", "teacher_id": teacher, "hours": "3"},
            {"date": start, "start_time": "14:00:00", "end_time": "17:00:00", "topic": "婴幼儿保健", "teacher_id": teacher, "hours": "3"},
        ],
        "exam_content": "理论考试与实操考核",
    })
}

/// Institution A's package via the API, complete but for the roster; returns its id.
pub(crate) async fn api_package(app: &TestApp, start: &str, end: &str) -> i64 {
    let r = round(app, Half::Other, "API备案批次", 5, false).await;
    let (_, agreement) = signed(app, r, Who::InstAAdmin, 3).await;
    let resp = app
        .api(
            Method::POST,
            "/api/v1/packages",
            Who::InstAStaff,
            Some(json!({ "agreement_id": agreement })),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text());
    let id = resp.json()["id"].as_i64().unwrap();
    let resp = app
        .api(
            Method::PUT,
            &format!("/api/v1/packages/{id}"),
            Who::InstAStaff,
            Some(package_body(app.teacher_a, start, end)),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    for slot in SLOTS {
        let resp = upload(
            app,
            &format!("/api/v1/packages/{id}/files/{slot}?name={slot}.pdf"),
            Who::InstAStaff,
            PDF,
        )
        .await;
        assert_eq!(resp.status, 200, "{slot}: {}", resp.text());
    }
    id
}

async fn r_fil_api_package_roster_submit_return_resubmit(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let id = api_package(&app, "2026-03-10", "2026-03-12").await;
    // Roster with 5 bad rows: 422, every row named, nothing imported (R-VAL-1, S22).
    let mut rows = peixun_store::roster::synthetic_rows(25, 5);
    rows[0][0] = String::new();
    rows[3][3] = "123".into();
    rows[6][4] = "火星".into();
    let last = if rows[9][2].ends_with('1') { '2' } else { '1' };
    rows[9][2] = format!("{}{last}", &rows[9][2][..17]);
    rows[12][1] = "军官证".into();
    let resp = upload(
        &app,
        &format!("/api/v1/packages/{id}/roster"),
        Who::InstAStaff,
        &csv(&rows),
    )
    .await;
    assert_eq!(resp.status, 422, "{}", resp.text());
    let body = resp.json();
    assert_eq!(body["code"], "ROSTER_INVALID");
    let bad: std::collections::BTreeSet<i64> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["row_number"].as_i64())
        .collect();
    assert_eq!(bad, [2, 5, 8, 11, 14].into_iter().collect());
    let roster = app
        .get_api(&format!("/api/v1/packages/{id}/roster"), Who::InstAStaff)
        .await;
    assert_eq!(
        roster.json().as_array().unwrap().len(),
        0,
        "nothing imported"
    );
    // 20 good rows.
    let good = peixun_store::roster::synthetic_rows(20, 6);
    let resp = upload(
        &app,
        &format!("/api/v1/packages/{id}/roster"),
        Who::InstAStaff,
        &csv(&good),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["imported"], 20);
    let roster = app
        .get_api(&format!("/api/v1/packages/{id}/roster"), Who::CentreStaff)
        .await;
    let list = roster.json();
    assert_eq!(list.as_array().unwrap().len(), 20);
    // Masked in the list (R-PII-1, S13): the full number never appears.
    assert!(!roster.text().contains(&good[0][2]));
    // Start 2026-03-10 submitted on 2026-03-02: too late (deadline 2026-02-25), refused with
    // every problem and the date it should have been.
    let resp = app
        .api(
            Method::POST,
            &format!("/api/v1/packages/{id}/submit"),
            Who::InstAStaff,
            None,
        )
        .await;
    assert_eq!(resp.status, 422, "{}", resp.text());
    let problems = resp.json()["problems"].clone();
    let lead = problems
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "FIL_LEAD_TIME")
        .expect("lead time")
        .clone();
    assert_eq!(lead["field"], "start_date");
    assert!(
        lead["message"].as_str().unwrap().contains("2026-02-25"),
        "{lead}"
    );
    // Fixed: start 2026-04-01.
    let resp = app
        .api(
            Method::PUT,
            &format!("/api/v1/packages/{id}"),
            Who::InstAStaff,
            Some(package_body(app.teacher_a, "2026-04-01", "2026-04-10")),
        )
        .await;
    assert_eq!(resp.status, 200);
    let resp = app
        .api(
            Method::POST,
            &format!("/api/v1/packages/{id}/submit"),
            Who::InstAStaff,
            None,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let filing = resp.json()["filing"].clone();
    let fid = filing["id"].as_i64().unwrap();
    let seq = filing["queue_seq"].as_i64().unwrap();
    // The centre's review queue shows it with the package check.
    let q = app.get_api("/api/v1/review", Who::CentreStaff).await;
    assert_eq!(q.status, 200);
    let item = q.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["filing"]["id"] == fid)
        .cloned()
        .expect("in the review queue");
    assert_eq!(item["blocking"], 0);
    assert_eq!(item["trainees"], 20);
    // Return for correction (the issue-4 route): the institution sees the items.
    let resp = app
        .api(
            Method::POST,
            &format!("/api/v1/filings/{fid}/return"),
            Who::CentreStaff,
            Some(json!({"items": [{"field": "documents.textbook", "message": "教材版本过旧"}]})),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v = app
        .get_api(&format!("/api/v1/packages/{id}"), Who::InstAStaff)
        .await
        .json();
    assert_eq!(v["editable"], true);
    assert_eq!(v["correction_items"][0]["field"], "documents.textbook");
    let resp = upload(
        &app,
        &format!("/api/v1/packages/{id}/files/textbook?name=new.pdf"),
        Who::InstAStaff,
        PDF,
    )
    .await;
    assert_eq!(resp.status, 200);
    let resp = app
        .api(
            Method::POST,
            &format!("/api/v1/packages/{id}/submit"),
            Who::InstAStaff,
            None,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let again = resp.json()["filing"].clone();
    assert_eq!(again["id"], fid);
    assert_eq!(again["queue_seq"], seq, "keeps its place");
    assert_eq!(again["slot_state"], "holding", "keeps its slot");
}

async fn s6_s16_downloads_and_other_institution(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let fx = Fixture::new(&app).await;
    let path = format!("/api/v1/packages/{}/files/brochure", fx.package);
    let own = app.get_api(&path, Who::InstAStaff).await;
    assert_eq!(own.status, 200);
    assert_eq!(own.body, PDF);
    assert!(own.header("content-disposition").starts_with("attachment"));
    assert_eq!(own.header("x-content-type-options"), "nosniff");
    assert!(own.header("content-security-policy").contains("sandbox"));
    assert_eq!(own.header("content-type"), "application/pdf");
    // B: not found (it never learns the file exists), nor the roster, package, request.
    assert_eq!(app.get_api(&path, Who::InstBAdmin).await.status, 404);
    for p in [
        format!("/api/v1/packages/{}", fx.package),
        format!("/api/v1/packages/{}/roster", fx.package),
        format!("/api/v1/packages/{}/problems", fx.package),
        format!("/api/v1/requests/{}", fx.request),
    ] {
        assert_eq!(app.get_api(&p, Who::InstBAdmin).await.status, 403, "{p}");
    }
    let ev = format!(
        "/api/v1/requests/{}/evidence/{}",
        fx.request,
        requests::ADDRESS_EVIDENCE
    );
    assert_eq!(app.get_api(&ev, Who::InstBAdmin).await.status, 404);
    assert_eq!(app.get_api(&ev, Who::CentreStaff).await.status, 200);
    // Writes by B: refused.
    let resp = upload(
        &app,
        &format!("/api/v1/packages/{}/files/brochure", fx.package),
        Who::InstBAdmin,
        PDF,
    )
    .await;
    assert_eq!(resp.status, 403);
    // A disguised HTML "PDF" is refused (S16).
    let resp = upload(
        &app,
        &format!(
            "/api/v1/packages/{}/files/syllabus?name=syllabus.pdf",
            fx.package
        ),
        Who::InstAStaff,
        b"<html><body><script>alert(1)</script></body></html>",
    )
    .await;
    assert_eq!(resp.status, 422);
    assert_eq!(resp.json()["code"], "FILE_DANGEROUS");
    // B's package list never shows A's.
    let list = app
        .get_api("/api/v1/packages", Who::InstBAdmin)
        .await
        .json();
    assert!(list.as_array().unwrap().is_empty());
}

async fn r_fil_8_online_request_over_http(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let fx = Fixture::new(&app).await;
    let body = |packages: serde_json::Value| {
        json!({
            "kind": "online_training",
            "reason": {"kind": "epidemic_control"},
            "platform_name": "粤学通",
            "platform_url": "https://example.org",
            "packages": packages,
        })
    };
    // R-FIL-8: the request names the classes it covers.
    let resp = app
        .api(
            Method::POST,
            "/api/v1/requests",
            Who::InstAStaff,
            Some(body(json!([]))),
        )
        .await;
    assert_eq!(resp.status, 422, "{}", resp.text());
    assert_eq!(resp.json()["code"], "ONL_PACKAGES_REQUIRED");
    assert_eq!(resp.json()["field"], "packages");
    // The page lists the institution's packages as a checklist, the linked one ticked.
    let page = app
        .get(
            &format!("/requests/new?kind=online_training&package={}", fx.package),
            Who::InstAStaff,
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains(&format!(
            "name=\"packages\" value=\"{}\" checked",
            fx.package
        )),
        "{}",
        page.text()
    );
    let resp = app
        .api(
            Method::POST,
            "/api/v1/requests",
            Who::InstAStaff,
            Some(body(json!([fx.package]))),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(resp.json()["packages"][0]["id"], fx.package);
    let id = resp.json()["id"].as_i64().unwrap();
    assert_eq!(resp.json()["missing"].as_array().unwrap().len(), 5);
    let resp = app
        .api(
            Method::POST,
            &format!("/api/v1/requests/{id}/approve"),
            Who::CentreStaff,
            None,
        )
        .await;
    assert_eq!(resp.status, 422);
    assert_eq!(resp.json()["code"], "ONL_EVIDENCE_INCOMPLETE");
    let resp = upload(
        &app,
        &format!("/api/v1/requests/{id}/evidence/commission_letter?name=letter.pdf"),
        Who::InstAStaff,
        PDF,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let resp = app
        .api(
            Method::POST,
            &format!("/api/v1/requests/{id}/notes"),
            Who::InstAStaff,
            Some(json!({"notes": {
                "real_name_login": "人脸识别",
                "learning_records": "全程记录",
                "exams": "在线考试",
                "city_supervision_link": "已对接市平台",
            }})),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(resp.json()["missing"].as_array().unwrap().is_empty());
    let resp = app
        .api(
            Method::POST,
            &format!("/api/v1/requests/{id}/approve"),
            Who::CentreStaff,
            None,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["state"], "approved");
}

both_backends!(r_fil_api_package_roster_submit_return_resubmit);
both_backends!(s6_s16_downloads_and_other_institution);
both_backends!(r_fil_8_online_request_over_http);

/// Sample contexts for this issue's templates (the strict-undefined template test).
pub fn template_sample(
    name: &str,
    x: &str,
    errs: &serde_json::Value,
    field_errs: &serde_json::Value,
) -> Option<serde_json::Value> {
    let filing = json!({"id": 5, "queue_seq": 3, "status": "returned", "status_label": x});
    let doc = json!({"kind": "brochure", "label": "培训简章", "file": {"id": "ab", "original_name": x, "size": 10, "mime": "application/pdf", "uploaded_at": "2026-03-02T02:00:00Z"}});
    let trainee = json!({"id": 1, "row_number": 2, "name": x, "id_kind": "居民身份证", "id_number_masked": "4401**********123X",
        "phone_masked": "138****8000", "residence": "广东省内", "groups": [x], "age": 30, "over_retirement_age": true});
    Some(match name {
        "package_detail.html" => json!({
            "pkg": {"id": 1, "institution_id": 7, "agreement_id": 2, "filing": filing, "trainees": 20, "pending_trainees": 21,
                    "documents": [doc, {"kind": "syllabus", "label": "培训大纲", "file": null}]},
            "institution": {"name": x, "registered_address": x},
            "scope": [{"value": "育婴员|初级", "label": x}],
            "teachers": [{"id": "3", "name": x, "quals": x}],
            "addresses": [{"value": "addr:1", "label": x}],
            "f": {"occupation": "育婴员|初级", "hours": x, "start_date": "2026-04-01", "planned_end": "", "location": "addr:1", "exam_content": x},
            "selected_teachers": ["3"],
            "sessions": [{"i": 0, "date": "2026-04-01", "start": "09:00", "end": "12:00", "topic": x, "teacher": "3", "hours": "3"}],
            "editable": true, "own": true, "may_roster": true, "may_reveal": true, "may_review": true, "roster_review": true, "submitted": true,
            "blocking": [{"field": "start_date", "message": x, "code": "FIL_LEAD_TIME"}],
            "warnings": [{"field": "roster", "message": x, "code": "ROSTER_OVERLAP"}],
            "corrections": [{"field": "documents-textbook", "label": "培训教材", "message": x}],
            "trainees": [trainee.clone()], "pending": [trainee],
            "import_problems": [{"row": 3, "column": "姓名", "message": x}, {"row": null, "column": "", "message": x}],
            "import_report": {"imported": 20, "warnings": [{"row_number": 4, "column": "证件号码", "code": "W", "message": x}],
                              "overlaps": [{"message": x}], "pending_review": false},
            "return_fields": [{"value": "roster", "label": "花名册"}],
            "return_rows": [{"i": 0, "field": "roster", "message": x}],
            "reject_reason": x,
            "errors": errs, "field_errors": field_errs,
        }),
        "packages_list.html" => json!({
            "items": [{"id": 1, "occupation": x, "level": x, "start_date": "2026-04-01", "status_label": x, "updated_at": "2026-03-02T02:00:00Z"},
                      {"id": 2, "occupation": "", "level": "", "start_date": null, "status_label": x, "updated_at": "2026-03-02T02:00:00Z"}],
            "agreements": [{"id": 2, "label": x}], "is_institution": true,
        }),
        "review_queue.html" => json!({
            "items": [{"filing_id": 5, "package_id": 1, "institution": x, "kind": "开班备案", "occupation": x, "start_date": "2026-04-01",
                       "submitted_at": "2026-03-02 10:00", "queue_seq": 3, "slot": x, "trainees": 20, "pending_trainees": 0,
                       "blocking": 1, "warnings": 1, "problems": [x], "more": 2},
                      {"filing_id": 6, "package_id": null, "institution": x, "kind": "名册变更", "occupation": x, "start_date": "2026-04-01",
                       "submitted_at": "2026-03-02 10:00", "queue_seq": 4, "slot": x, "trainees": 20, "pending_trainees": 22,
                       "blocking": 0, "warnings": 0, "problems": [], "more": 0}],
            "pager": {"page": 1, "pages": 2, "total": 25, "prev_href": null, "next_href": "/review?page=2"},
        }),
        "requests_list.html" => json!({
            "items": [{"id": 1, "institution": x, "kind": x, "state": x, "summary": x, "submitted_at": "2026-03-02 10:00", "missing": 2}],
            "q": {"kind": "address", "state": ""}, "export_href": "/requests/export.xlsx", "is_institution": true,
            "pager": {"page": 1, "pages": 1, "total": 1, "prev_href": null, "next_href": null},
        }),
        "request_new.html" => json!({
            "kind": "online_training",
            "slots": [{"slot": "commission_letter", "label": x}, {"slot": "exams", "label": x}],
            "f": {"address": x, "reason": x, "reason_kind": "other", "reason_text": x, "platform_name": x, "platform_url": x,
                  "notes": {"exams": x, "real_name_login": "", "learning_records": "", "city_supervision_link": ""}},
            "packages": [{"id": 3, "label": x, "checked": true}],
            "errors": errs, "field_errors": field_errs,
        }),
        "request_detail.html" => json!({
            "r": {"id": 1, "institution_name": x, "kind": "online_training", "state_label": x, "decision_reason": x, "address": x,
                  "platform_name": x, "platform_url": x, "reason": x, "submitted_by_name": x, "decided_by": x,
                  "evidence": [{"slot": "exams", "label": x, "file_id": "ab", "file_name": x, "note": x, "complete": false}],
                  "packages": [{"id": 3, "label": x}]},
            "submitted_at": "2026-03-02 10:00", "decided_at": "2026-03-03 10:00",
            "missing": [{"field": "exams", "message": x}], "may_add": true, "may_decide": true, "reason": x,
            "errors": errs, "field_errors": field_errs,
        }),
        _ => return None,
    })
}

/// A multipart page form with the session cookie and CSRF token.
pub(crate) async fn post_multipart(
    app: &TestApp,
    path: &str,
    who: Who,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> TestResponse {
    let s = app.session(who).await.expect("session");
    let boundary = "----peixunBoundary7MA4YWxkTrZu0gW";
    let mut body: Vec<u8> = Vec::new();
    let mut part = |name: &str, filename: Option<&str>, data: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    };
    part("csrf_token", None, s.csrf.as_bytes());
    for (k, v) in fields {
        part(k, None, v.as_bytes());
    }
    if let Some((name, filename, data)) = file {
        part(name, Some(filename), data);
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::COOKIE, format!("peixun_session={}", s.token))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .expect("request");
    app.send(req).await
}

async fn r_val_1_pages_show_every_problem_and_keep_values(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "页面备案批次", 5, false).await;
    let (_, agreement) = signed(&app, r, Who::InstAAdmin, 3).await;
    let resp = app
        .post_form(
            &format!("/agreements/{agreement}/packages"),
            Who::InstAStaff,
            &[],
        )
        .await;
    assert_eq!(resp.status, 303, "{}", resp.text());
    let loc = resp.header("location").to_string();
    let id: i64 = loc
        .trim_start_matches("/packages/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let page = app.get(&format!("/packages/{id}"), Who::InstAStaff).await;
    assert_eq!(page.status, 200);
    // A bad value: refused beside its field, the other values kept.
    let resp = app
        .post_form(
            &format!("/packages/{id}"),
            Who::InstAStaff,
            &[
                ("hours", "十二"),
                ("start_date", "2026-04-01"),
                ("exam_content", "实操考核"),
            ],
        )
        .await;
    assert_eq!(resp.status, 422);
    let html = resp.text();
    assert!(html.contains("提交内容有误"));
    assert!(html.contains("href=\"#hours\""));
    assert!(html.contains("培训课时“十二”不是数字"));
    assert!(html.contains("value=\"2026-04-01\""), "value kept");
    assert!(html.contains("实操考核"));
    // "再加5行" adds rows without saving.
    let resp = app
        .post_form(
            &format!("/packages/{id}"),
            Who::InstAStaff,
            &[("action", "add_rows")],
        )
        .await;
    assert_eq!(resp.status, 200);
    assert!(resp.text().matches("name=\"s_date\"").count() >= 8);
    // Submitting the empty draft: every problem listed, each linked to its field.
    let resp = app
        .post_form(&format!("/packages/{id}/submit"), Who::InstAStaff, &[])
        .await;
    assert_eq!(resp.status, 422);
    let html = resp.text();
    for anchor in [
        "#occupation",
        "#start_date",
        "#teachers",
        "#sessions",
        "#documents-brochure",
        "#roster",
    ] {
        assert!(html.contains(&format!("href=\"{anchor}\"")), "{anchor}");
    }
    // A roster with bad rows: a table of every row, nothing imported.
    filing_package::update_package(
        &app.store,
        &actor_of(&app, Who::InstAStaff),
        id,
        &PackageInput {
            occupation: OCC.into(),
            level: LEVEL.into(),
            start_date: Some(crate::rounds::d(2026, 4, 1)),
            planned_end: Some(crate::rounds::d(2026, 4, 10)),
            ..Default::default()
        },
        app.clock_now(),
    )
    .await
    .unwrap();
    let mut rows = peixun_store::roster::synthetic_rows(22, 9);
    rows[2][3] = "12".into();
    rows[7][4] = "月球".into();
    let resp = post_multipart(
        &app,
        &format!("/packages/{id}/roster"),
        Who::InstAStaff,
        &[],
        Some(("file", "花名册.csv", &csv(&rows))),
    )
    .await;
    assert_eq!(resp.status, 422, "{}", resp.text());
    let html = resp.text();
    assert!(
        html.contains("第4行") && html.contains("第9行"),
        "rows named"
    );
    assert!(html.contains("未导入任何数据"));
    // A disguised HTML upload through the page: refused beside the document.
    let resp = post_multipart(
        &app,
        &format!("/packages/{id}/files"),
        Who::InstAStaff,
        &[("kind", "brochure")],
        Some((
            "file",
            "简章.pdf",
            b"<html><script>alert(1)</script></html>",
        )),
    )
    .await;
    assert_eq!(resp.status, 422);
    assert!(resp.text().contains("href=\"#documents-brochure\""));
    // B sees none of it.
    assert_eq!(
        app.get(&format!("/packages/{id}"), Who::InstBAdmin)
            .await
            .status,
        403
    );
    // The review queue page for the centre.
    assert_eq!(app.get("/review", Who::CentreStaff).await.status, 200);
}

both_backends!(r_val_1_pages_show_every_problem_and_keep_values);
