//! The class archive over HTTP (R-ARC-1, R-ARC-2, S6, S16, S17): the API returns the matrix and
//! `completeness_percent`; the institution uploads one item (API) and a .zip (page, with the
//! report of every unplaced file); a hostile zip is refused with its reason; institution B gets
//! 403 on read and write; the centre's 归档 is refused below 100 %; the download is a zip.

use crate::both_backends;
use crate::filing_package::post_multipart;
use crate::harness::{TestApp, Who};
use crate::rounds::{actor_of, d, round, signed};
use crate::running::approved_class;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use peixun_domain::workflow::round::Half;
use peixun_store::running;
use serde_json::{Value as J, json};
use std::io::Write;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

pub(crate) fn template_sample(name: &str, x: &str, errs: &J, field_errs: &J) -> Option<J> {
    let cell = |status: &str, sym: &str| json!({ "code": "id_card", "status": status, "symbol": sym, "doc": if status == "present" { json!(3) } else { J::Null }, "file": x });
    Some(match name {
        "archive.html" => json!({
            "archive": {
                "class_id": 5, "institution_name": x, "occupation": x, "level": "初级", "start_date": "2026-04-01",
                "status_label": "已完成", "present": 3, "required": 7, "missing": 4, "percent": "42.9",
                "complete": false, "archived": false, "open": true,
                "columns": [{ "code": "id_card", "label": x, "optional": false }, { "code": "skill_certificate", "label": "职业技能证书", "optional": true }],
                "trainees": [{ "entry": 11, "row": 2, "name": x, "id_masked": "4401**********1234", "residence": "广东省内",
                    "groups": x, "percent": "50", "present": 1, "required": 2, "complete": false,
                    "cells": [cell("present", "✓"), cell("optional", "可选")] }],
                "class_items": [{ "code": "sign_in_sheets", "label": x, "status": "missing", "symbol": "缺", "doc": null, "file": "" }],
            },
            "kinds": [{ "code": "id_card", "label": x }],
            "can_upload": true, "can_archive": true, "is_centre": true,
            "report": { "files": 3, "percent": "42.9",
                "placed": [{ "name": x, "trainee": x, "kind": x, "replaced": true }],
                "unplaced": [{ "name": x, "reason": x }] },
            "pick_entry": 11, "pick_kind": "id_card", "max_zip_mb": 100,
            "errors": errs, "field_errors": field_errs,
        }),
        _ => return None,
    })
}

fn shanghai(y: i32, m: u32, day: u32, h: u32) -> chrono::DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, day, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Institution A's class, trained and examined (completed).
async fn completed_class(app: &TestApp) -> i64 {
    let r = round(app, Half::Other, "档案批次", 20, false).await;
    let (_, ag) = signed(app, r, Who::InstAAdmin, 10).await;
    let class = approved_class(app, ag, Who::InstAStaff, d(2026, 4, 1)).await;
    let a = actor_of(app, Who::InstAStaff);
    running::start_training(&app.store, &a, class, shanghai(2026, 4, 1, 9))
        .await
        .unwrap();
    running::complete_training(
        &app.store,
        &a,
        class,
        d(2026, 4, 20),
        shanghai(2026, 4, 21, 9),
    )
    .await
    .unwrap();
    running::complete_exam(
        &app.store,
        &a,
        class,
        d(2026, 4, 25),
        shanghai(2026, 4, 25, 18),
    )
    .await
    .unwrap();
    app.set_clock(shanghai(2026, 5, 6, 9));
    class
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    who: Who,
    body: Vec<u8>,
) -> crate::harness::TestResponse {
    let s = app.session(who).await.expect("session");
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", s.token))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (n, b) in entries {
        w.start_file(*n, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b).unwrap();
    }
    w.finish().unwrap().into_inner()
}

async fn r_arc_2_archive_over_http(backend: peixun_store::Backend) {
    let app = TestApp::new(backend).await;
    let class = completed_class(&app).await;
    let api = format!("/api/v1/classes/{class}/archive");
    let v = app.get_api(&api, Who::InstAStaff).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    let v = v.json();
    let pct: f64 = v["completeness_percent"].as_str().unwrap().parse().unwrap();
    assert_eq!(pct, 0.0);
    let required = v["required"].as_u64().unwrap();
    assert!(required > 3);
    let first = &v["trainees"][0];
    let entry = first["roster_entry_id"].as_i64().unwrap();
    let name = first["name"].as_str().unwrap().to_string();
    let row = first["row_number"].as_u64().unwrap();
    // S6: B reads nothing and writes nothing.
    assert_eq!(
        app.get_api(&api, Who::InstBAdmin).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_raw(
            &app,
            &format!("{api}/documents?kind=roster&name=a.pdf"),
            Who::InstBAdmin,
            PDF.to_vec()
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&format!("/classes/{class}/archive"), Who::InstBAdmin)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // One item through the API.
    let r = post_raw(
        &app,
        &format!("{api}/documents?kind=id_card&entry={entry}&name=sfz.pdf"),
        Who::InstAStaff,
        PDF.to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let doc = r.json()["id"].as_i64().unwrap();
    let v = app.get_api(&api, Who::CentreStaff).await.json();
    assert_eq!(v["present"], 1);
    assert_eq!(
        app.get_api(&format!("/api/v1/archive-documents/{doc}"), Who::InstBAdmin)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let f = app
        .get_api(&format!("/api/v1/archive-documents/{doc}"), Who::Bureau)
        .await;
    assert_eq!(f.status, StatusCode::OK);
    assert_eq!(f.header("x-content-type-options"), "nosniff");
    // A .zip through the page: placed and unplaced files reported.
    let z = zip_of(&[
        (&format!("{row:02}_{name}/学历证书.pdf"), PDF),
        ("签到表.pdf", PDF),
        ("无名氏_身份证.pdf", PDF),
    ]);
    let page = post_multipart(
        &app,
        &format!("/classes/{class}/archive/zip"),
        Who::InstAStaff,
        &[],
        Some(("file", "档案.zip", &z)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains("未能归入的文件（1个）"), "{html}");
    assert!(html.contains("无名氏_身份证.pdf"));
    // A hostile zip is refused as a whole, with the reason on the page.
    let bad = zip_of(&[("../签到表.pdf", PDF)]);
    let page = post_multipart(
        &app,
        &format!("/classes/{class}/archive/zip"),
        Who::InstAStaff,
        &[],
        Some(("file", "bad.zip", &bad)),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().contains("路径穿越"));
    let v = app.get_api(&api, Who::InstAStaff).await.json();
    assert_eq!(v["present"], 3);
    // 归档 below 100 %: refused with the figure.
    let r = app
        .api(
            Method::POST,
            &format!("{api}/mark-archived"),
            Who::CentreAdmin,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["code"], "ARC_INCOMPLETE");
    // The page shows the matrix; the download is a zip.
    let html = app
        .get(&format!("/classes/{class}/archive"), Who::CentreStaff)
        .await
        .text();
    assert!(html.contains("档案完整度") && html.contains("缺") && html.contains("不需要"));
    let dl = app
        .get(
            &format!("/classes/{class}/archive/download"),
            Who::CentreStaff,
        )
        .await;
    assert_eq!(dl.status, StatusCode::OK);
    assert_eq!(dl.header("content-type"), "application/zip");
    assert!(dl.header("content-disposition").starts_with("attachment"));
    // The home work list links the incomplete archive.
    let home = app.get("/", Who::InstAStaff).await.text();
    assert!(home.contains("培训档案（一期一档）未齐全"), "{home}");
    // minijinja escapes "/" in attributes.
    assert!(home.contains(&format!("&#x2f;classes&#x2f;{class}&#x2f;archive")));
}

both_backends!(r_arc_2_archive_over_http);
