//! The round's evaluation report (R-EVA-2) over HTTP: the .docx opens as a Word package whose
//! document holds the institutions and scores, the .xlsx reads back with the numbers, the chart
//! page carries well-formed inline SVG with names escaped; the centre, the bureau and the city
//! get them, an institution gets 404 (S5/S6), downloads are audited (S10).

use crate::both_backends;
use crate::harness::{TestApp, TestResponse, Who};
use crate::rounds::{round, signed_only};
use axum::http::Method;
use peixun_domain::workflow::round::Half;
use peixun_store::{Backend, evaluations};
use serde_json::{Value as J, json};
use std::io::Read;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A part of a .docx (a zip) as text.
pub fn docx_part(body: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(body.to_vec()))
        .unwrap_or_else(|e| panic!("not a zip: {e}"));
    let mut xml = String::new();
    zip.by_name(name)
        .unwrap_or_else(|e| panic!("no {name}: {e}"))
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

/// The SVG elements of a page, each parsed as XML to its end (well-formed).
pub fn svgs_well_formed(html: &str) -> usize {
    let mut n = 0;
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("closed svg") + start + "</svg>".len();
        let svg = &rest[start..end];
        let mut r = quick_xml::Reader::from_str(svg);
        let mut depth = 0i32;
        loop {
            match r
                .read_event()
                .unwrap_or_else(|e| panic!("bad SVG: {e}\n{svg}"))
            {
                quick_xml::events::Event::Start(_) => depth += 1,
                quick_xml::events::Event::End(_) => depth -= 1,
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(depth, 0, "unbalanced SVG");
        n += 1;
        rest = &rest[end..];
    }
    n
}

fn assert_attachment(r: &TestResponse, content_type: &str, ext: &str) {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), content_type);
    let cd = r.header("content-disposition");
    assert!(cd.starts_with("attachment;") && cd.contains(ext), "{cd}");
}

async fn r_eva_2_report_of_a_round_without_evaluations(backend: Backend) {
    let app = TestApp::new(backend).await;
    let id = round(&app, Half::H2, "2026年下半年", 20, false).await;

    let r = app
        .get(
            &format!("/rounds/{id}/evaluations/report.docx"),
            Who::Bureau,
        )
        .await;
    assert_attachment(&r, DOCX, ".docx");
    let doc = docx_part(&r.body, "word/document.xml");
    assert!(doc.contains("海珠区职业技能培训合格证书培训绩效评估报告"));
    assert!(doc.contains("2026年下半年"));
    assert!(doc.contains("本轮尚无已确认的评分"));
    assert!(doc.contains("区培训中心（盖章）"));

    let r = app
        .api(
            Method::GET,
            &format!("/api/v1/rounds/{id}/evaluations/report.xlsx"),
            Who::City,
            None,
        )
        .await;
    assert_attachment(&r, XLSX, ".xlsx");
    let rows = r.xlsx_rows();
    assert_eq!(rows[0][1], "培训机构");
    assert_eq!(rows[0][2], "任务完成情况（40%）");

    let r = app
        .get(&format!("/rounds/{id}/evaluations/chart"), Who::CentreStaff)
        .await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert_eq!(svgs_well_formed(&html), 2);
    assert!(html.contains("本批次尚无开启的绩效评估"));
    assert!(html.contains(&format!("/rounds/{id}/evaluations/report.docx")));

    // The round page links to the chart for the centre; not for an institution.
    let page = app.get(&format!("/rounds/{id}"), Who::Bureau).await.text();
    assert!(page.contains(&format!("/rounds/{id}/evaluations/chart")));
    let page = app
        .get(&format!("/rounds/{id}"), Who::InstAAdmin)
        .await
        .text();
    assert!(!page.contains("/evaluations/chart"));

    // Downloads are audited (S10).
    let audit = app
        .api(
            Method::GET,
            "/api/v1/audit?action=export.evaluation_report_docx",
            Who::Auditor,
            None,
        )
        .await;
    assert_eq!(audit.status, 200, "{}", audit.text());
    assert!(
        audit.text().contains("export.evaluation_report_docx"),
        "{}",
        audit.text()
    );
}

async fn s6_institutions_get_404_for_the_round_report(backend: Backend) {
    let app = TestApp::new(backend).await;
    let id = round(&app, Half::H2, "2026年下半年", 20, false).await;
    for who in [Who::InstAAdmin, Who::InstAStaff, Who::InstBAdmin] {
        for path in [
            format!("/rounds/{id}/evaluations/chart"),
            format!("/rounds/{id}/evaluations/report.docx"),
            format!("/rounds/{id}/evaluations/report.xlsx"),
        ] {
            assert_eq!(app.get(&path, who).await.status, 404, "{who:?} {path}");
        }
        for path in [
            format!("/api/v1/rounds/{id}/evaluations/report.docx"),
            format!("/api/v1/rounds/{id}/evaluations/report.xlsx"),
        ] {
            let r = app.api(Method::GET, &path, who, None).await;
            assert_eq!(r.status, 404, "{who:?} {path}");
            assert_eq!(r.json()["code"], "NOT_FOUND", "{}", r.text());
        }
    }
    // An unknown round is 404 for the readers too.
    let r = app
        .api(
            Method::GET,
            "/api/v1/rounds/999999/evaluations/report.docx",
            Who::CentreAdmin,
            None,
        )
        .await;
    assert_eq!(r.status, 404);
}

/// A and B signed in a round; their evaluations confirmed at 90.5 (C = 5) and 60.5 (C = 2).
async fn evaluated_round(app: &TestApp) -> (i64, String, String) {
    let id = round(app, Half::H1, "2026年上半年", 20, false).await;
    let (_, ag_a) = signed_only(app, id, Who::InstAAdmin, 6).await;
    let (_, ag_b) = signed_only(app, id, Who::InstBAdmin, 4).await;
    for (ag, c, s) in [(ag_a, 5, "90.5"), (ag_b, 2, "60.5")] {
        evaluations::record_confirmed_summary(
            &app.store,
            ag,
            c,
            s.parse().unwrap(),
            app.clock_now(),
        )
        .await
        .unwrap();
    }
    let name = |inst: i64| async move {
        app.api(
            Method::GET,
            &format!("/api/v1/institutions/{inst}"),
            Who::CentreAdmin,
            None,
        )
        .await
        .json()["name"]
            .as_str()
            .unwrap()
            .to_string()
    };
    (id, name(app.inst_a).await, name(app.inst_b).await)
}

async fn r_eva_2_docx_and_xlsx_carry_the_confirmed_evaluations(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (id, a, b) = evaluated_round(&app).await;

    let r = app
        .api(
            Method::GET,
            &format!("/api/v1/rounds/{id}/evaluations/report.docx"),
            Who::Bureau,
            None,
        )
        .await;
    assert_attachment(&r, DOCX, ".docx");
    let doc = docx_part(&r.body, "word/document.xml");
    for needle in [
        a.as_str(),
        b.as_str(),
        "2026年上半年",
        "共对 2 家培训机构",
        "平均分为 75.5 分",
        ">90.5<",
        ">60.5<",
        ">1.1<",
        ">暂停签约<",
        "其中 1 家评分低于 61 分",
        "计算值",
    ] {
        assert!(doc.contains(needle), "document.xml lacks {needle}");
    }

    let r = app
        .get(
            &format!("/rounds/{id}/evaluations/report.xlsx"),
            Who::CentreAdmin,
        )
        .await;
    assert_attachment(&r, XLSX, ".xlsx");
    let rows = r.xlsx_rows();
    let row_of = |name: &str| {
        rows.iter()
            .find(|r| r[1] == name)
            .unwrap_or_else(|| panic!("{name}: {rows:?}"))
            .clone()
    };
    let (ra, rb) = (row_of(&a), row_of(&b));
    // every component is the score here (set by adjustment); score, C, factor
    assert_eq!(
        &ra[2..9],
        ["90.5", "90.5", "90.5", "90.5", "90.5", "5", "1.1"]
    );
    assert_eq!(&rb[6..9], ["60.5", "2", "暂停签约"]);
    assert_eq!(ra[9], "已确认");

    let r = app
        .get(&format!("/rounds/{id}/evaluations/chart"), Who::City)
        .await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert_eq!(svgs_well_formed(&html), 2);
    // two institutions × four components
    assert_eq!(html.matches("<circle").count(), 8);
    assert!(html.contains("81–90.9分：1 家") && html.contains("&lt;61分：1 家"));
    assert!(html.contains("/agreements/"));

    // An institution gets 404 even for the round it took part in.
    assert_eq!(
        app.get(&format!("/rounds/{id}/evaluations/chart"), Who::InstAAdmin)
            .await
            .status,
        404
    );
}

both_backends!(
    r_eva_2_docx_and_xlsx_carry_the_confirmed_evaluations,
    r_eva_2_report_of_a_round_without_evaluations,
    s6_institutions_get_404_for_the_round_report,
);

/// The chart page's sample context for the template test.
pub fn template_sample(name: &str, x: &str, _errs: &J, _field_errs: &J) -> Option<J> {
    Some(match name {
        "evaluation_chart.html" => json!({
            "round": { "id": 3, "label": x },
            "report": { "district": "海珠区", "generated_on": "2026-12-03", "policy_version": x },
            "summary": { "confirmed": 1, "open": 1, "mean": "86.2", "suspended": 0 },
            "summary_text": x,
            "suspend_below": "61",
            "svg_hist": "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            "svg_comp": "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>",
            "bands": [{ "label": "≥91", "count": 1, "effect": "C × 1.2" }],
            "stats": [{ "name": "任务完成情况", "min": "81", "mean": "81", "max": "81" }],
            "headers": ["任务完成情况（40%）", "教学督导（20%）", "教学档案整理（20%）", "学员满意度（20%）"],
            "rows": [
                { "institution": x, "agreement_id": 4,
                  "components": [{ "value": "80", "computed": "60", "adjusted": true },
                                 { "value": "85", "computed": "85", "adjusted": false },
                                 { "value": "93.875", "computed": "93.875", "adjusted": false },
                                 { "value": "90", "computed": "90", "adjusted": false }],
                  "score": "86.2", "c": "4", "effect": "1.1" },
                { "institution": "乙", "agreement_id": 0,
                  "components": [{ "value": "—", "computed": "", "adjusted": false }],
                  "score": "评估中", "c": "—", "effect": "—" },
            ],
            "adjustments": [{ "institution": x, "component": "学员满意度", "computed": "60", "adjusted": "80",
                "reason": x, "confirmed": false }],
        }),
        _ => return None,
    })
}
