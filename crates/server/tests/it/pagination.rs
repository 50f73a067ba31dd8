//! Issue 3, "every list: pagination": a round's filings and applications pages are paginated
//! like the institution list (20 a page, the pager macro, `?page=`), and their exports stay
//! complete.

use crate::harness::{TestApp, Who, institution_input};
use crate::rounds::{OCC, apply, file, round, signed};
use peixun_domain::role::Role;
use peixun_domain::workflow::round::Half;
use peixun_store::agreements::{self, ApplicationInput};
use peixun_store::{Actor, Backend, institutions};

#[tokio::test]
async fn round_filings_page_two() {
    let app = TestApp::new(Backend::Sqlite).await;
    let r = round(&app, Half::Other, "分页测试批次", 30, false).await;
    let (_, ag) = signed(&app, r, Who::InstAAdmin, 30).await;
    for _ in 0..25 {
        file(&app, ag, Who::InstAAdmin).await;
    }
    let p1 = app
        .get(&format!("/rounds/{r}/filings"), Who::CentreStaff)
        .await;
    assert_eq!(p1.status, 200);
    let html = p1.text();
    assert!(html.contains("第 1 / 2 页，共 25 条"), "{html}");
    assert!(html.contains("page=2\" rel=\"next\""), "{html}");
    assert!(html.contains("第1号</a>") && html.contains("第20号</a>"));
    assert!(!html.contains("第21号</a>"));

    let p2 = app
        .get(&format!("/rounds/{r}/filings?page=2"), Who::CentreStaff)
        .await;
    assert_eq!(p2.status, 200);
    let html = p2.text();
    assert!(html.contains("第 2 / 2 页，共 25 条"), "{html}");
    assert!(html.contains("page=1\" rel=\"prev\""));
    assert!(html.contains("第21号</a>") && html.contains("第25号</a>"));
    assert!(!html.contains("第20号</a>") && !html.contains("第1号</a>"));

    // The institution sees only its own filings, paginated the same way.
    let own = app
        .get(&format!("/rounds/{r}/filings?page=2"), Who::InstAAdmin)
        .await;
    assert!(own.text().contains("第 2 / 2 页，共 25 条"));
    let other = app
        .get(&format!("/rounds/{r}/filings?page=2"), Who::InstBAdmin)
        .await;
    assert!(other.text().contains("共 0 条"));

    // The export stays complete.
    let x = app
        .get(
            &format!("/rounds/{r}/filings/export.xlsx"),
            Who::CentreStaff,
        )
        .await;
    assert_eq!(x.status, 200);
    // The export is the whole list, not the page: 25 filings under the header.
    assert_eq!(x.xlsx_rows().len(), 26);
    let n: Vec<_> = peixun_store::filings::list_round_filings(
        &app.store,
        &crate::rounds::actor_of(&app, Who::CentreStaff),
        r,
    )
    .await
    .unwrap();
    assert_eq!(n.len(), 25);
}

#[tokio::test]
async fn round_applications_page_two() {
    let app = TestApp::new(Backend::Sqlite).await;
    let r = round(&app, Half::Other, "申报分页批次", 30, false).await;
    apply(&app, r, Who::InstAAdmin).await;
    apply(&app, r, Who::InstBAdmin).await;
    let system = Actor::system("test");
    for i in 0..21u32 {
        let inst = institutions::create_institution(
            &app.store,
            &system,
            &institution_input(
                &format!("海珠区分页测试培训学校{i:02}"),
                &format!("91440105MA59P00{i:02}"),
            ),
            app.clock_now(),
        )
        .await
        .unwrap();
        agreements::apply_to_round(
            &app.store,
            &Actor {
                user_id: None,
                username: format!("page_test_{i}"),
                role: Some(Role::InstitutionAdmin),
                institution_id: Some(inst.id),
                ip: None,
                request_id: None,
            },
            &ApplicationInput {
                round_id: r,
                occupations: vec![OCC.into()],
                classes_requested: 2,
                note: String::new(),
            },
            app.clock_now(),
        )
        .await
        .unwrap();
    }
    let p1 = app
        .get(&format!("/rounds/{r}/applications"), Who::CentreStaff)
        .await;
    assert_eq!(p1.status, 200);
    let html = p1.text();
    assert!(html.contains("第 1 / 2 页，共 23 条"), "{html}");
    assert!(html.contains("海珠区甲职业培训学校"));
    assert!(!html.contains("分页测试培训学校20"));

    let p2 = app
        .get(
            &format!("/rounds/{r}/applications?page=2"),
            Who::CentreStaff,
        )
        .await;
    assert_eq!(p2.status, 200);
    let html = p2.text();
    assert!(html.contains("第 2 / 2 页，共 23 条"), "{html}");
    assert!(html.contains("分页测试培训学校19") && html.contains("分页测试培训学校20"));
    assert!(!html.contains("海珠区甲职业培训学校") && !html.contains("分页测试培训学校17"));
    assert!(html.contains("page=1\" rel=\"prev\""));

    // An institution sees its own application only.
    let own = app
        .get(&format!("/rounds/{r}/applications"), Who::InstBAdmin)
        .await;
    assert!(own.text().contains("共 1 条"));

    let x = app
        .get(
            &format!("/rounds/{r}/applications/export.xlsx"),
            Who::CentreStaff,
        )
        .await;
    assert_eq!(x.status, 200);
    let rows = x.xlsx_rows();
    assert_eq!(rows.len(), 24, "23 applications under the header");
    assert!(
        rows.iter()
            .flatten()
            .any(|c| c == "分页测试培训学校20" || c.contains("分页测试培训学校20"))
    );
}
