//! 证书台账 — the certificate register over HTTP (R-CRT-1, S6, S10; issue 12 item 6): the
//! centre sees every institution's codes, an institution only its own whatever it asks for,
//! other roles nothing; filters; keyset pages that visit every code once in code order; the
//! streamed .xlsx export holding the whole filtered register, audited; bad filters named.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use crate::rounds::{d, file_on, performance, round, signed};
use chrono::{NaiveDate, TimeZone, Utc};
use peixun_domain::workflow::round::Half;
use peixun_store::audit::AuditFilter;
use peixun_store::certificates::{STATUS_REVOKED, STATUS_VALID, cert};
use peixun_store::{Actor, Backend, PageRequest, audit};
use sea_orm::{EntityTrait, Set};

/// Writes `n` codes for `filing_id` (institution `inst`): issued on `on`, occupation `occ`,
/// every `revoke_every`-th revoked; codes `{prefix}{seq:07}`.
#[allow(clippy::too_many_arguments)]
async fn codes(
    app: &TestApp,
    filing_id: i64,
    inst: i64,
    inst_name: &str,
    prefix: &str,
    n: u32,
    on: NaiveDate,
    occ: &str,
    revoke_every: u32,
) {
    let rows: Vec<cert::ActiveModel> = (1..=n)
        .map(|i| {
            let revoked = revoke_every > 0 && i % revoke_every == 0;
            cert::ActiveModel {
                code: Set(format!("{prefix}{i:07}")),
                filing_id: Set(filing_id),
                roster_entry_id: Set(format!("{prefix}{i:07}").parse().unwrap()),
                trainee_seq: Set(i as i32),
                holder_name: Set(format!("学员{prefix}{i}")),
                occupation: Set(occ.to_string()),
                level: Set("初级".into()),
                institution_id: Set(inst),
                institution_name: Set(inst_name.to_string()),
                issued_on: Set(on),
                issued_at: Set(Utc.from_utc_datetime(&on.and_hms_opt(2, 0, 0).unwrap())),
                status: Set(if revoked {
                    STATUS_REVOKED
                } else {
                    STATUS_VALID
                }
                .into()),
                revoked_reason: Set(revoked.then(|| "材料不实".to_string())),
                ..Default::default()
            }
        })
        .collect();
    for chunk in rows.chunks(500) {
        cert::Entity::insert_many(chunk.to_vec())
            .exec(app.store.db())
            .await
            .unwrap();
    }
}

/// Every code the API lists for `who`, following `next_after` page by page.
async fn all_codes(app: &TestApp, who: Who, filter: &str, limit: u32) -> (u64, Vec<String>) {
    let mut out = Vec::new();
    let mut after = String::new();
    let mut total = None;
    loop {
        let r = app
            .get_api(
                &format!("/api/v1/certificates?limit={limit}&after={after}&{filter}"),
                who,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let j = r.json();
        let t = j["total"].as_u64().unwrap();
        assert_eq!(*total.get_or_insert(t), t, "the total stays while paging");
        let items = j["items"].as_array().unwrap();
        let keys: Vec<(&str, &str)> = items
            .iter()
            .map(|i| {
                (
                    i["issued_on"].as_str().unwrap(),
                    i["code"].as_str().unwrap(),
                )
            })
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "issue order: {keys:?}"
        );
        out.extend(keys.iter().map(|(_, c)| c.to_string()));
        match j["next_after"].as_str() {
            Some(a) => after = a.to_string(),
            None => break,
        }
    }
    (total.unwrap_or(0), out)
}

async fn r_crt_1_the_register_pages_filters_scopes_and_streams(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "证书台账批次", 20, false).await;
    performance(&app, app.inst_a, 100, "95").await;
    performance(&app, app.inst_b, 100, "95").await;
    let (_, ag_a) = signed(&app, r, Who::InstAAdmin, 10).await;
    let (_, ag_b) = signed(&app, r, Who::InstBAdmin, 10).await;
    let fa = file_on(&app, ag_a, Who::InstAStaff, d(2026, 4, 1)).await;
    let fb = file_on(&app, ag_b, Who::InstBAdmin, d(2026, 4, 1)).await;
    // A: 2,100 codes of 2026 (more than one export page) and 30 of 2025; B: 40 of 2026.
    codes(
        &app,
        fa,
        app.inst_a,
        "甲校",
        "4401052026",
        2_100,
        d(2026, 5, 1),
        "育婴员",
        100,
    )
    .await;
    codes(
        &app,
        fa,
        app.inst_a,
        "甲校",
        "4401052025",
        30,
        d(2025, 11, 1),
        "保育员",
        0,
    )
    .await;
    codes(
        &app,
        fb,
        app.inst_b,
        "乙校",
        "4401052027",
        40,
        d(2026, 6, 1),
        "育婴员",
        0,
    )
    .await;
    let everyone = 2_100 + 30 + 40;

    // The centre: every code once, in code order, whatever the page size.
    let (total, seen) = all_codes(&app, Who::CentreStaff, "", 500).await;
    assert_eq!(total, everyone);
    assert_eq!(seen.len() as u64, everyone);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    // (Codes grow with the issue date in one district, so issue order is code order here.)
    assert_eq!(seen, sorted, "ascending, no code twice");
    let (_, small) = all_codes(&app, Who::CentreAdmin, "", 333).await;
    assert_eq!(small, seen);

    // An institution sees its own codes only, even when it asks for another's (S6).
    let (t, own) = all_codes(&app, Who::InstAStaff, "", 1_000).await;
    assert_eq!(t, 2_130);
    assert!(own.iter().all(|c| !c.starts_with("4401052027")));
    let (t, _) = all_codes(
        &app,
        Who::InstAAdmin,
        &format!("institution_id={}", app.inst_b),
        1_000,
    )
    .await;
    assert_eq!(t, 2_130, "the filter cannot widen an institution's view");
    let (t, b) = all_codes(&app, Who::InstBAdmin, "", 1_000).await;
    assert_eq!((t, b.len()), (40, 40));
    for who in [Who::Bureau, Who::City, Who::Auditor, Who::Sysadmin] {
        let r = app.get_api("/api/v1/certificates", who).await;
        assert_eq!(r.status, 403, "{who:?}");
        assert_eq!(app.get("/certificates", who).await.status, 403, "{who:?}");
        assert_eq!(
            app.get("/certificates/export.xlsx", who).await.status,
            403,
            "{who:?}"
        );
    }

    // Filters: year, institution, status, occupation, a code's first digits, a holder's name.
    let count = |f: &'static str| {
        let app = &app;
        async move { all_codes(app, Who::CentreStaff, f, 2_000).await.0 }
    };
    assert_eq!(count("year=2025").await, 30);
    assert_eq!(count("year=2026").await, 2_140);
    assert_eq!(count("status=revoked").await, 21);
    assert_eq!(count("occupation=%E4%BF%9D%E8%82%B2%E5%91%98").await, 30); // 保育员
    assert_eq!(count("q=4401052026000010").await, 10);
    // 学员4401052027: a name matches in full only.
    assert_eq!(count("q=%E5%AD%A6%E5%91%984401052027").await, 0);
    let name = app
        .get_api(
            "/api/v1/certificates?q=%E5%AD%A6%E5%91%98440105202712", // 学员440105202712
            Who::CentreStaff,
        )
        .await;
    assert_eq!(name.json()["total"], 1, "{}", name.text());
    assert_eq!(name.json()["items"][0]["code"], "44010520270000012");
    let inst_b = format!("institution_id={}&year=2026&status=valid", app.inst_b);
    let r = app
        .get_api(&format!("/api/v1/certificates?{inst_b}"), Who::CentreStaff)
        .await;
    assert_eq!(r.json()["total"], 40);

    // Bad filters: every field named at once, nothing listed.
    let r = app
        .get_api(
            "/api/v1/certificates?year=26&status=lost&institution_id=x",
            Who::CentreStaff,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let fields: Vec<String> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(fields, ["year", "institution_id", "status"]);
    let page = app.get("/certificates?year=26", Who::CentreStaff).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("发放年度应为四位年份"),
        "{}",
        page.text()
    );
    assert!(!page.text().contains("导出为 Excel"));

    // The page: 50 codes, then the next page from the last one.
    let first = app.get("/certificates", Who::CentreStaff).await;
    assert_eq!(first.status, 200);
    let html = first.text();
    assert!(html.contains(&seen[0]) && html.contains(&seen[49]));
    assert!(!html.contains(&seen[50]));
    assert!(html.contains(&format!("共 {everyone} 条")));
    let next = format!("/certificates?after={}", seen[49]);
    // minijinja escapes '/' in attributes.
    assert!(html.contains(&next.replace('/', "&#x2f;")), "next link");
    let second = app.get(&next, Who::CentreStaff).await.text();
    assert!(second.contains(&seen[50]) && !second.contains(&format!(">{}<", seen[49])));
    assert!(
        app.get("/", Who::InstAStaff)
            .await
            .text()
            .contains("href=\"&#x2f;certificates\""),
        "in the institution's navigation"
    );

    // The export: the whole filtered register, in code order, audited with its filter.
    let x = app.get("/certificates/export.xlsx", Who::CentreStaff).await;
    assert_eq!(x.status, 200);
    assert!(
        x.header("content-disposition").starts_with("attachment;"),
        "{:?}",
        x.headers
    );
    let rows = x.xlsx_rows();
    assert_eq!(rows[0][0], "证书编码");
    assert_eq!(rows.len() as u64, everyone + 1);
    let exported: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(exported, seen);
    let revoked = rows.iter().find(|r| r[0] == "44010520260000100").unwrap();
    assert_eq!(
        (revoked[7].as_str(), revoked[8].as_str()),
        ("已撤销", "材料不实")
    );
    let own = app
        .get("/certificates/export.xlsx?year=2025", Who::InstAStaff)
        .await
        .xlsx_rows();
    assert_eq!(own.len(), 31);
    let b_rows = app
        .get("/certificates/export.xlsx", Who::InstBAdmin)
        .await
        .xlsx_rows();
    assert_eq!(b_rows.len(), 41);
    assert!(b_rows[1..].iter().all(|r| r[4] == "乙校"));
    let audits = audit::search(
        &app.store,
        &Actor::system("test"),
        &AuditFilter {
            action: Some("export.certificates_register".into()),
            ..Default::default()
        },
        &PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(audits.total, 3);
    let details: Vec<String> = audits
        .items
        .iter()
        .map(|e| {
            e.new_value
                .as_ref()
                .map(|v| v.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert!(
        details.iter().any(|d| d.contains("\"rows\":2170")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("\"year\":2025")),
        "{details:?}"
    );
}

both_backends!(r_crt_1_the_register_pages_filters_scopes_and_streams);

/// Issue 12 item 6: a register of 100,000 codes leaves as one complete workbook, streamed.
/// About 25 s in a debug build, so not in the default run (the test above crosses the export's
/// page boundary): `cargo test -p peixun-server --test it -- --ignored issue_12_a_100k`.
/// Memory and speed are measured on the release build (docs/PERFORMANCE.md).
#[tokio::test]
#[ignore = "25 s in a debug build; run with --ignored"]
async fn issue_12_a_100k_code_register_streams_whole() {
    let app = TestApp::new(Backend::Sqlite).await;
    let r = round(&app, Half::Other, "十万证书", 20, false).await;
    performance(&app, app.inst_a, 100, "95").await;
    let (_, ag) = signed(&app, r, Who::InstAAdmin, 10).await;
    let f = file_on(&app, ag, Who::InstAStaff, d(2026, 4, 1)).await;
    codes(
        &app,
        f,
        app.inst_a,
        "甲校",
        "4401052026",
        100_000,
        d(2026, 5, 1),
        "育婴员",
        0,
    )
    .await;
    let x = app.get("/certificates/export.xlsx", Who::CentreStaff).await;
    assert_eq!(x.status, 200);
    let rows = x.xlsx_rows();
    assert_eq!(rows.len(), 100_001);
    assert_eq!(rows[1][0], "44010520260000001");
    assert_eq!(rows[100_000][0], "44010520260100000");
    assert_eq!(rows[100_000][1], "学员4401052026100000");
}
