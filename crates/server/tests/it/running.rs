//! Running a class, monthly reports, inspections, overdue and sanctions, the work list — through
//! HTTP (issue 5 items 5–7; R-RUN-1..4, R-OVD-1/2, S6): the S5 fixture, template samples, and
//! the page and API flows on both backends.

use crate::both_backends;
use crate::harness::{TestApp, Who};
use crate::rounds::{LEVEL, OCC, actor_of, d, file_on, performance, round, signed};
use axum::http::{Method, StatusCode};
use chrono::{TimeZone, Utc};
use peixun_domain::workflow::round::Half;
use peixun_store::filings;
use peixun_store::inspections::{self, InspectionInput, InspectionKind};
use peixun_store::reports::{self, MonthlyReportInput};
use peixun_store::running::{self, TeacherChangeInput};
use peixun_store::teachers::{self, TeacherInput, TeacherQualification};
use peixun_store::{Backend, audit, overdue};
use serde_json::{Value as J, json};

/// A valid 18-digit ID (GB 11643) with sequence `seq`.
fn citizen_id(seq: u32) -> String {
    let body = format!("44010519880202{:03}", seq % 1000);
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

pub async fn qualified_teacher(app: &TestApp, inst: i64, who: Who, seq: u32, occ: &str) -> i64 {
    teachers::create_teacher(
        &app.store,
        &actor_of(app, who),
        inst,
        &TeacherInput {
            name: format!("教师{seq}"),
            id_number: citizen_id(seq),
            phone: "13900139000".into(),
            qualifications: vec![TeacherQualification {
                occupation: occ.into(),
                level: LEVEL.into(),
                certificate_no: format!("Z-{seq}"),
            }],
            active: true,
        },
        app.clock_now(),
    )
    .await
    .unwrap()
    .id
}

/// A filing of `who`'s institution starting on `start`, approved by centre staff.
/// The class's current roster as institution A sees it (R-RUN-2).
async fn roster_of(app: &TestApp, class: i64) -> Vec<peixun_store::roster::TraineeView> {
    let a = actor_of(app, Who::InstAStaff);
    let p = peixun_store::filing_package::package_of_filing(&app.store, &a, class)
        .await
        .unwrap()
        .unwrap();
    peixun_store::roster::list_roster(&app.store, &a, p.id, false)
        .await
        .unwrap()
}

pub async fn approved_class(
    app: &TestApp,
    agreement: i64,
    who: Who,
    start: chrono::NaiveDate,
) -> i64 {
    let f = file_on(app, agreement, who, start).await;
    filings::approve_filing(
        &app.store,
        &actor_of(app, Who::CentreStaff),
        f,
        app.clock_now(),
    )
    .await
    .unwrap();
    f
}

/// Institution A's records for the S5 table: an approved class (starting 2026-04-01), a
/// teacher change, a monthly report, an inspection requiring rectification, and a sanction
/// (raised by four overdue classes, then dismissed, so that the table's confirm/dismiss calls
/// fail validation instead of changing anything).
pub struct RunFixture {
    pub class: i64,
    pub teacher_change: i64,
    pub report: i64,
    pub inspection: i64,
    pub sanction: i64,
}

impl RunFixture {
    pub async fn new(app: &TestApp) -> RunFixture {
        let r = round(app, Half::Other, "S5班次批次", 20, false).await;
        performance(app, app.inst_a, 100, "95").await;
        let (_, agreement) = signed(app, r, Who::InstAAdmin, 10).await;
        let class = approved_class(app, agreement, Who::InstAStaff, d(2026, 4, 1)).await;
        let t = qualified_teacher(app, app.inst_a, Who::InstAAdmin, 901, OCC).await;
        let teacher_change = running::report_teacher_change(
            &app.store,
            &actor_of(app, Who::InstAStaff),
            &TeacherChangeInput {
                filing_id: class,
                old_teacher_id: None,
                new_teacher_id: t,
                effective_on: d(2026, 3, 10),
                note: String::new(),
            },
            &peixun_domain::calendar::Calendar::builtin(),
            app.clock_now(),
        )
        .await
        .unwrap()
        .id;
        let report = reports::submit_report(
            &app.store,
            &actor_of(app, Who::InstAStaff),
            &MonthlyReportInput {
                year: 2026,
                month: 3,
                classes_run: 1,
                trainees: 25,
                exams: 0,
                problems: String::new(),
            },
            app.clock_now(),
        )
        .await
        .unwrap()
        .id;
        let inspection = inspections::record_inspection(
            &app.store,
            &actor_of(app, Who::CentreStaff),
            &InspectionInput {
                severity: None,
                filing_id: class,
                inspected_on: d(2026, 3, 2),
                kind: InspectionKind::Spot,
                findings: "开班筹备资料不全".into(),
                photos: vec![],
                rectification_required: true,
                rectification_due: Some(d(2026, 3, 20)),
            },
            app.clock_now(),
        )
        .await
        .unwrap()
        .id;
        // Four classes that ended before today (start 2026-01-05, last day 2026-02-04).
        for _ in 0..4 {
            approved_class(app, agreement, Who::InstAStaff, d(2026, 1, 5)).await;
        }
        let out = overdue::sweep(&app.store, d(2026, 3, 2), app.clock_now())
            .await
            .unwrap();
        assert!(out.marked.len() >= 4);
        let sanction = out.sanctions_raised[0];
        overdue::dismiss_sanction(
            &app.store,
            &actor_of(app, Who::CentreAdmin),
            sanction,
            "S5测试：不予处理",
            app.clock_now(),
        )
        .await
        .unwrap();
        RunFixture {
            class,
            teacher_change,
            report,
            inspection,
            sanction,
        }
    }

    pub fn id_for(&self, path: &str) -> Option<i64> {
        let p = path.strip_prefix("/api/v1").unwrap_or(path);
        Some(match p {
            p if p.starts_with("/classes/") => self.class,
            p if p.starts_with("/teacher-changes/") => self.teacher_change,
            p if p.starts_with("/reports/") => self.report,
            p if p.starts_with("/inspections/") => self.inspection,
            p if p.starts_with("/sanctions/") => self.sanction,
            p if p.starts_with("/class-flags/") => 999_999,
            _ => return None,
        })
    }
}

/// The sample context of each template of this part (for the template test).
pub fn template_sample(name: &str, x: &str, errs: &J, field_errs: &J) -> Option<J> {
    let class = json!({ "id": 5, "institution_id": 1, "institution_name": x, "occupation": x, "level": "初级",
        "start_date": "2026-04-01", "last_day": "2026-05-01", "status_label": "培训中", "status": "in_training",
        "overdue": false, "subsidy": "—", "days_left": 3, "started_on": "2026-04-01",
        "training_completed_on": "", "exam_completed_on": "", "reason": x, "policy_version": x });
    let pager =
        json!({ "page": 1, "pages": 2, "total": 30, "prev_href": null, "next_href": "/x?page=2" });
    let insp = json!({ "id": 3, "filing_id": 5, "institution_name": x, "inspected_on": "2026-04-08",
        "kind_label": "现场检查", "findings": x, "rectification_required": true, "due": "2026-04-15",
        "rectification_note": x, "status": "rectifying", "status_label": "待整改", "closure_note": x,
        "closed_by": "centre_staff", "closed_at": "2026-04-16 10:00", "recorded_by": "centre_staff",
        "finding_severity_label": "一般问题" });
    Some(match name {
        "classes_list.html" => json!({ "items": [class], "status": "", "pager": pager,
            "options": [{ "value": "", "label": "全部" }] }),
        "class_detail.html" => {
            json!({ "class": class, "can_start": true, "can_complete_training": true,
            "can_complete_exam": false, "can_change_teacher": true, "can_attendance": true, "can_inspect": true,
            "teacher_options": [{ "id": 1, "label": x }],
            "teacher_changes": [{ "new_teacher_name": x, "effective_on": "2026-04-10", "reported_at": "2026-04-08 10:00", "note": x, "acknowledged": false }],
            "attendance": [{ "session_date": "2026-04-01", "session_label": x, "present": 20, "absent": 1, "marked": true, "absentees": x, "by": "a", "at": "2026-04-01 12:00", "sheet": true },
                           { "session_date": "2026-04-02", "session_label": x, "present": 0, "absent": 0, "marked": false, "absentees": "", "by": "a", "at": "2026-04-02 12:00", "sheet": true }],
            "roster": [{ "id": 1, "row_number": 1, "name": x, "id_number_masked": "4401**********1234", "present": true },
                       { "id": 2, "row_number": 2, "name": x, "id_number_masked": "4401**********5678", "present": false }],
            "sheet_only": false,
            "inspections": [{ "id": 3, "inspected_on": "2026-04-08", "kind_label": "现场检查", "status_label": "待整改", "due": "2026-04-15" }],
            "survey": { "class_id": 5, "show_link": true, "url": x, "closes_on": "2026-04-17", "closes_on_is_default": true,
                        "open": true, "can_edit_closing": true, "round_id": 1, "comments": [],
                        "stats": { "responses": 1, "trainees": 20, "rate": "5.0%", "overall": "4", "questions": [{ "key": "overall", "text": x, "answers": 1, "mean": "4" }] } },
            "form": { "on": "", "new_teacher_id": "1", "effective_on": x, "note": "", "session_date": "", "session_label": "",
                      "inspected_on": "", "kind": "spot", "findings": "", "rectification_due": "", "finding_severity": "" },
            "rectification_required": true, "today": "2026-04-09", "errors": errs, "field_errors": field_errs })
        }
        "teacher_changes.html" => {
            json!({ "items": [{ "id": 1, "filing_id": 5, "new_teacher_name": x,
            "effective_on": "2026-04-10", "reported_on": "2026-04-08", "reported_by": x, "note": x,
            "acknowledged": false, "acknowledged_by": "" }], "all": false, "can_ack": true, "pager": pager })
        }
        "reports.html" => {
            json!({ "year": 2026, "month": 4, "due": "2026-04-25", "policy_version": x,
            "rows": [{ "institution_name": x, "status": "Missing", "status_label": "逾期未提交", "submitted_at": "" }],
            "counts": { "on_time": 1, "late": 0, "missing": 1, "not_yet_due": 0 },
            "prev_href": "/reports?year=2026&month=3", "next_href": "/reports?year=2026&month=5",
            "export_href": "/reports/export.xlsx?year=2026&month=4", "is_institution": true,
            "mine": [{ "month": "2026年3月", "classes_run": 1, "trainees": 20, "exams": 1, "problems": x, "late": true, "submitted_at": "2026-03-26 00:00" }],
            "form": { "classes_run": "", "trainees": "", "exams": "", "problems": x },
            "errors": errs, "field_errors": field_errs })
        }
        "inspections_list.html" => json!({ "items": [insp], "all": true, "pager": pager }),
        "inspection_detail.html" => json!({ "i": insp, "can_rectify": true, "can_close": false,
            "photos": [{ "id": "f", "name": x, "size": 10 }], "can_add_photo": true,
            "form": { "note": x }, "errors": errs, "field_errors": field_errs }),
        "progress.html" => json!({ "items": [class], "today": "2026-04-28" }),
        "sanctions.html" => {
            json!({ "items": [{ "id": 1, "institution_name": x, "year": 2026, "count": 4,
            "trigger_filing_id": 9, "state_label": "待确认", "raised_at": "2026-05-02 00:05", "decided_by": "",
            "decided_at": "", "reason": "", "can_decide": true, "effects": x, "policy_version": x }],
            "flags": [{ "id": 1, "filing_id": 8, "decided": false, "decision": "待决定", "reason": x }],
            "is_admin": true, "errors": errs, "field_errors": field_errs })
        }
        "overdue.html" => {
            json!({ "year": 2026, "items": [class], "can_sweep": true, "pager": pager })
        }
        _ => return None,
    })
}

/// A sample work list for `home.html`.
pub fn sample_work(x: &str) -> J {
    json!({ "today": "2026-04-28", "items": [{ "kind": "monthly_report_due", "title": x, "count": 1, "detail": x,
        "deadline": "2026-04-25", "urgent": true, "href": "/reports" }],
        "summary": [{ "label": x, "value": 3 }] })
}

// ---- tests ------------------------------------------------------------------------------------

fn shanghai(y: i32, m: u32, day: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, day, h, mi, s)
        .unwrap()
        .with_timezone(&Utc)
}

/// R-RUN-1 through the page: the refusal shows both reasons (lead time with the deadline date,
/// qualification) beside the form, values kept; a good change is accepted and the centre sees
/// it on its list and home page.
async fn r_run_1_teacher_change_page_shows_each_reason(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "师资批次", 20, false).await;
    let (_, ag) = signed(&app, r, Who::InstAAdmin, 10).await;
    let class = approved_class(&app, ag, Who::InstAStaff, d(2026, 10, 12)).await;
    let wrong = qualified_teacher(&app, app.inst_a, Who::InstAAdmin, 11, "中式烹调师").await;
    let good = qualified_teacher(&app, app.inst_a, Who::InstAAdmin, 12, OCC).await;
    // Reported on 2026-10-06 for 2026-10-08: the deadline was 2026-09-30.
    app.set_clock(shanghai(2026, 10, 6, 10, 0, 0));
    let path = format!("/classes/{class}/teacher-change");
    let resp = app
        .post_form(
            &path,
            Who::InstAStaff,
            &[
                ("new_teacher_id", &wrong.to_string()),
                ("effective_on", "2026-10-08"),
                ("note", "原教师请假"),
            ],
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text();
    assert!(html.contains("提交内容有误"), "error summary");
    assert!(
        html.contains("2026-09-30"),
        "lead-time reason with the deadline"
    );
    assert!(
        html.contains("资质须与机构评审时一致"),
        "qualification reason"
    );
    assert!(html.contains("原教师请假"), "values kept");
    // The API gives the same with a stable code.
    let resp = app
        .api(
            Method::POST,
            &format!("/api/v1/classes/{class}/teacher-changes"),
            Who::InstAStaff,
            Some(json!({ "new_teacher_id": wrong, "effective_on": "2026-10-08" })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(resp.json()["code"], "RUN_TEACHER_CHANGE_LATE");
    // In time and qualified: accepted.
    app.set_clock(shanghai(2026, 9, 30, 16, 0, 0));
    let resp = app
        .post_form(
            &path,
            Who::InstAStaff,
            &[
                ("new_teacher_id", &good.to_string()),
                ("effective_on", "2026-10-08"),
            ],
        )
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    let list = app.get("/teacher-changes", Who::CentreStaff).await;
    assert!(list.text().contains("教师12"));
    let home = app.get("/", Who::CentreStaff).await;
    assert!(home.text().contains("待查阅的授课师资调整报备"));
    assert!(home.text().contains("teacher-changes"));
}

/// R-RUN-2 and R-OVD-1 through the pages: start (not before the start date), attendance,
/// completion; the class shows as complete with its subsidy.
async fn r_run_2_start_attendance_complete_via_pages(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "签到批次", 20, false).await;
    let (_, ag) = signed(&app, r, Who::InstAAdmin, 10).await;
    let class = approved_class(&app, ag, Who::InstAStaff, d(2026, 4, 1)).await;
    let resp = app
        .post_form(&format!("/classes/{class}/start"), Who::InstAStaff, &[])
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().contains("不能提前开始培训"));
    app.set_clock(shanghai(2026, 4, 1, 9, 0, 0));
    let resp = app
        .post_form(&format!("/classes/{class}/start"), Who::InstAStaff, &[])
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    // R-RUN-2: one choice per trainee on the roster, the fourth absent.
    let roster = roster_of(&app, class).await;
    let names: Vec<String> = roster.iter().map(|t| format!("mark_{}", t.id)).collect();
    let mut fields: Vec<(&str, &str)> = vec![
        ("session_date", "2026-04-01"),
        ("session_label", "上午 理论"),
    ];
    for (i, n) in names.iter().enumerate() {
        fields.push((n, if i == 3 { "absent" } else { "present" }));
    }
    let resp = app
        .post_form(
            &format!("/classes/{class}/attendance"),
            Who::InstAStaff,
            &fields,
        )
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    let page = app
        .get(&format!("/classes/{class}"), Who::CentreStaff)
        .await
        .text();
    let absent = format!("第{}行 {}", roster[3].row_number, roster[3].name);
    assert!(
        page.contains("上午 理论") && page.contains(&absent),
        "{page}"
    );
    // One trainee left out: the form again, the missing trainee named beside the marks.
    let resp = app
        .post_form(
            &format!("/classes/{class}/attendance"),
            Who::InstAStaff,
            &fields[..fields.len() - 1],
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    let last = roster.last().unwrap();
    assert!(
        resp.text()
            .contains(&format!("第{}行{}", last.row_number, last.name)),
        "{}",
        resp.text()
    );
    app.set_clock(shanghai(2026, 4, 25, 18, 0, 0));
    for (action, on) in [
        ("complete-training", "2026-04-20"),
        ("complete-exam", "2026-04-25"),
    ] {
        let resp = app
            .post_form(
                &format!("/classes/{class}/{action}"),
                Who::InstAStaff,
                &[("on", on)],
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::SEE_OTHER,
            "{action}: {}",
            resp.text()
        );
    }
    let v = app
        .get_api(&format!("/api/v1/classes/{class}"), Who::InstAAdmin)
        .await
        .json();
    assert_eq!(v["class"]["status"], "completed");
    assert_eq!(v["class"]["subsidy_eligible"], true);
    assert!(audit::verify(&app.store).await.unwrap().is_ok());
}

/// R-RUN-3 through HTTP: on time, late (00:00:00 on the 26th), missing on the centre's month
/// page and export; the institution's home page shows the next 25th.
async fn r_run_3_monthly_reports_on_time_late_missing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "月报批次", 20, false).await;
    signed(&app, r, Who::InstAAdmin, 5).await;
    signed(&app, r, Who::InstBAdmin, 5).await;
    // A's home page (2026-03-02) shows the 25th.
    let home = app.get("/", Who::InstAStaff).await.text();
    assert!(
        home.contains("提交2026年3月开展情况") && home.contains("2026-03-25"),
        "{home}"
    );
    app.set_clock(shanghai(2026, 3, 25, 23, 59, 59));
    let form = [
        ("year", "2026"),
        ("month", "3"),
        ("classes_run", "2"),
        ("trainees", "48"),
        ("exams", "1"),
        ("problems", "无"),
    ];
    let resp = app.post_form("/reports", Who::InstAStaff, &form).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    // Bad numbers: the form again with the message beside the field.
    let resp = app
        .post_form(
            "/reports",
            Who::InstBAdmin,
            &[("year", "2026"), ("month", "3"), ("classes_run", "x")],
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().contains("本月开展班次须为0或正整数"));
    let status = app
        .get_api("/api/v1/reports/status?year=2026&month=3", Who::CentreStaff)
        .await
        .json();
    assert_eq!(status["on_time"], 1, "{status}");
    assert_eq!(status["not_yet_due"], 1);
    app.set_clock(shanghai(2026, 3, 26, 0, 0, 0));
    let status = app
        .get_api("/api/v1/reports/status?year=2026&month=3", Who::CentreStaff)
        .await
        .json();
    assert_eq!(status["missing"], 1);
    let resp = app
        .api(
            Method::POST,
            "/api/v1/reports",
            Who::InstBAdmin,
            Some(json!({ "year": 2026, "month": 3, "classes_run": 0, "trainees": 0, "exams": 0 })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED);
    assert_eq!(resp.json()["late"], true);
    let page = app
        .get("/reports?year=2026&month=3", Who::CentreStaff)
        .await
        .text();
    assert!(page.contains("已按时提交") && page.contains("逾期提交"));
    let x = app
        .get("/reports/export.xlsx?year=2026&month=3", Who::CentreStaff)
        .await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.header("content-type").contains("spreadsheetml"));
}

/// R-OVD-2 through the API: the sweep (run by centre_admin, audited) raises the sanction at the
/// 4th overdue class; confirming it applies everything; pages and the work list follow.
async fn r_ovd_2_sweep_and_sanction_via_api(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "超期批次", 20, false).await;
    let (_, ag) = signed(&app, r, Who::InstAAdmin, 10).await;
    let mut overdue_ids = Vec::new();
    for _ in 0..4 {
        overdue_ids.push(approved_class(&app, ag, Who::InstAStaff, d(2026, 4, 1)).await);
    }
    let unstarted = approved_class(&app, ag, Who::InstAStaff, d(2026, 6, 1)).await;
    app.set_clock(shanghai(2026, 5, 2, 9, 0, 0));
    let resp = app
        .api(
            Method::POST,
            "/api/v1/overdue/sweep",
            Who::CentreStaff,
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let out = app
        .api(
            Method::POST,
            "/api/v1/overdue/sweep",
            Who::CentreAdmin,
            None,
        )
        .await
        .json();
    assert_eq!(out["marked"].as_array().unwrap().len(), 4);
    let sid = out["sanctions_raised"][0].as_i64().unwrap();
    let home = app.get("/", Who::CentreAdmin).await.text();
    assert!(home.contains("待确认的超期处理"), "{home}");
    let page = app.get("/overdue?year=2026", Who::InstAStaff).await.text();
    assert!(page.contains(&format!("#{}", overdue_ids[0])));
    let resp = app
        .api(
            Method::POST,
            &format!("/api/v1/sanctions/{sid}/dismiss"),
            Who::CentreAdmin,
            Some(json!({ "reason": "" })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    let resp = app
        .post_form(&format!("/sanctions/{sid}/confirm"), Who::CentreAdmin, &[])
        .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    let s = app
        .get_api(&format!("/api/v1/sanctions/{sid}"), Who::InstAAdmin)
        .await
        .json();
    assert_eq!(s["state"], "applied");
    // The overdue classes never started: cancelled too (sanction_effect), slots released.
    let mut cancelled = overdue_ids.clone();
    cancelled.push(unstarted);
    assert_eq!(s["effects"]["filings_cancelled"], json!(cancelled));
    // B sees nothing of it (S6).
    let resp = app
        .get_api(&format!("/api/v1/sanctions/{sid}"), Who::InstBAdmin)
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let inbox = app.get_api("/api/v1/inbox", Who::InstAStaff).await.text();
    assert!(inbox.contains("取消2026年培训资格"));
    assert!(audit::verify(&app.store).await.unwrap().is_ok());
}

/// Item 7: each role's home page lists its own work, each item linking to the page.
async fn work_list_per_role(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "待办批次", 20, false).await;
    let (_, ag) = signed(&app, r, Who::InstAAdmin, 10).await;
    // A filing under review, a class near its last day, an open inspection.
    file_on(&app, ag, Who::InstAStaff, d(2026, 5, 6)).await;
    let near = approved_class(&app, ag, Who::InstAStaff, d(2026, 4, 1)).await;
    app.set_clock(shanghai(2026, 4, 1, 9, 0, 0));
    running::start_training(
        &app.store,
        &actor_of(&app, Who::InstAStaff),
        near,
        app.clock_now(),
    )
    .await
    .unwrap();
    inspections::record_inspection(
        &app.store,
        &actor_of(&app, Who::CentreStaff),
        &InspectionInput {
            severity: None,
            filing_id: near,
            inspected_on: d(2026, 4, 1),
            kind: InspectionKind::OnSite,
            findings: "签到表不全".into(),
            photos: vec![],
            rectification_required: true,
            rectification_due: Some(d(2026, 4, 10)),
        },
        app.clock_now(),
    )
    .await
    .unwrap();
    app.set_clock(shanghai(2026, 4, 28, 9, 0, 0));
    let staff = app.get("/", Who::CentreStaff).await.text();
    for want in [
        "待审核的开班备案",
        "临近最迟完成日期",
        "2026-05-01",
        "整改未闭环的检查抽查",
        &format!("classes&#x2f;{near}"),
    ] {
        assert!(staff.contains(want), "centre_staff home lacks {want}");
    }
    let inst = app.get("/", Who::InstAStaff).await.text();
    for want in [
        "检查抽查要求整改",
        "2026-04-10",
        "临近最迟完成日期",
        "提交2026年4月开展情况",
        "未读消息",
    ] {
        assert!(inst.contains(want), "institution home lacks {want}");
    }
    // B has none of A's work.
    let b = app.get("/", Who::InstBAdmin).await.text();
    assert!(!b.contains("检查抽查要求整改"));
    let bureau = app.get("/", Who::Bureau).await.text();
    assert!(bureau.contains("全区概况") && bureau.contains("培训中的班次"));
    let api = app
        .get_api("/api/v1/worklist", Who::CentreStaff)
        .await
        .json();
    assert!(
        api["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "filings_to_review")
    );
    // sysadmin and auditor keep their pages.
    assert_eq!(app.get("/", Who::Sysadmin).await.status, StatusCode::OK);
    assert_eq!(app.get("/", Who::Auditor).await.status, StatusCode::OK);
}

both_backends!(r_run_1_teacher_change_page_shows_each_reason);
both_backends!(r_run_2_start_attendance_complete_via_pages);
both_backends!(r_run_4_inspection_photos_via_pages);
both_backends!(r_run_2_roster_checklist_and_sign_in_sheet);
both_backends!(r_run_3_monthly_reports_on_time_late_missing);
both_backends!(r_ovd_2_sweep_and_sanction_via_api);
both_backends!(work_list_per_role);

/// The job runner's tick: two servers' runners (two stores on one database) tick at once; each
/// reminder goes out once.
async fn jobs_tick_two_runners_send_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = round(&app, Half::Other, "提醒批次", 20, false).await;
    signed(&app, r, Who::InstAAdmin, 5).await;
    app.set_clock(shanghai(2026, 3, 24, 8, 0, 0));
    let clock: std::sync::Arc<dyn peixun_server::clock::Clock> = app.clock.clone();
    let (s1, s2) = (app.store.clone(), app.store.clone());
    let (c1, c2) = (clock.clone(), clock.clone());
    let a =
        tokio::spawn(
            async move { peixun_server::jobs::tick(&s1, None, c1.as_ref(), "srv-1").await },
        );
    let b =
        tokio::spawn(
            async move { peixun_server::jobs::tick(&s2, None, c2.as_ref(), "srv-2").await },
        );
    a.await.unwrap();
    b.await.unwrap();
    let msgs = app.get_api("/api/v1/inbox", Who::InstAStaff).await.text();
    assert_eq!(
        msgs.matches("请于3月25日前提交2026年3月开展情况").count(),
        2,
        "d-3 and d-1, once each"
    );
}

both_backends!(jobs_tick_two_runners_send_once);

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";
const DISGUISED_HTML: &[u8] = b"<!DOCTYPE html><html><script>alert(1)</script></html>";

/// R-RUN-4, S16, S6: the centre uploads inspection photos from the inspection page (checked by
/// content: HTML named .jpg is refused with the Chinese message); they download as attachments
/// to the centre and institution A, never to institution B.
async fn r_run_4_inspection_photos_via_pages(backend: Backend) {
    use crate::filing_package::post_multipart;
    let app = TestApp::new(backend).await;
    let f = RunFixture::new(&app).await;
    let id = f.inspection;
    let path = format!("/inspections/{id}/photos");
    let resp = post_multipart(
        &app,
        &path,
        Who::CentreStaff,
        &[],
        Some(("file", "现场.png", PNG)),
    )
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    let resp = post_multipart(
        &app,
        &path,
        Who::CentreStaff,
        &[],
        Some(("file", "photo.jpg", DISGUISED_HTML)),
    )
    .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        resp.text()
            .contains("文件内容是网页、脚本或可执行程序，出于安全原因已拒收"),
        "{}",
        resp.text()
    );
    // The institution may not upload (role table), nor see another's inspection.
    let resp = post_multipart(
        &app,
        &path,
        Who::InstAStaff,
        &[],
        Some(("file", "a.png", PNG)),
    )
    .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let v = inspections::get_inspection(&app.store, &actor_of(&app, Who::CentreStaff), id)
        .await
        .unwrap();
    assert_eq!(v.photos.len(), 1, "only the PNG was kept");
    let photo = &v.photos[0];
    let page = app
        .get(&format!("/inspections/{id}"), Who::InstAStaff)
        .await
        .text();
    assert!(
        page.contains(&format!("/inspections/{id}/photos/{photo}")) && page.contains("现场.png"),
        "{page}"
    );
    let dl = format!("/inspections/{id}/photos/{photo}");
    for who in [Who::CentreStaff, Who::InstAStaff] {
        let resp = app.get(&dl, who).await;
        assert_eq!(resp.status, StatusCode::OK);
        assert!(resp.header("content-disposition").starts_with("attachment"));
        assert_eq!(resp.header("content-type"), "image/png");
        assert_eq!(resp.header("x-content-type-options"), "nosniff");
        assert!(resp.header("content-security-policy").contains("sandbox"));
    }
    let resp = app.get(&dl, Who::InstBAdmin).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert!(!resp.text().contains("PNG"));
    assert!(audit::verify(&app.store).await.unwrap().is_ok());
}

/// R-RUN-2, S16: with an imported roster the attendance form offers the trainees (masked IDs)
/// as a checklist; an optional sign-in sheet is uploaded with it, checked by content.
async fn r_run_2_roster_checklist_and_sign_in_sheet(backend: Backend) {
    use crate::filing_package::{api_package, csv, post_multipart, upload};
    let app = TestApp::new(backend).await;
    let pkg = api_package(&app, "2026-04-01", "2026-04-10").await;
    let rows = peixun_store::roster::synthetic_rows(20, 11);
    let resp = upload(
        &app,
        &format!("/api/v1/packages/{pkg}/roster"),
        Who::InstAStaff,
        &csv(&rows),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let resp = app
        .api(
            Method::POST,
            &format!("/api/v1/packages/{pkg}/submit"),
            Who::InstAStaff,
            None,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let class = resp.json()["filing"]["id"].as_i64().unwrap();
    filings::approve_filing(
        &app.store,
        &actor_of(&app, Who::CentreStaff),
        class,
        app.clock_now(),
    )
    .await
    .unwrap();
    app.set_clock(shanghai(2026, 4, 1, 9, 0, 0));
    running::start_training(
        &app.store,
        &actor_of(&app, Who::InstAStaff),
        class,
        app.clock_now(),
    )
    .await
    .unwrap();
    let page = app
        .get(&format!("/classes/{class}"), Who::InstAStaff)
        .await
        .text();
    let roster =
        peixun_store::roster::list_roster(&app.store, &actor_of(&app, Who::InstAStaff), pkg, false)
            .await
            .unwrap();
    // Each trainee: row, name, masked ID, 出勤 chosen by default.
    assert!(
        page.contains(&format!(
            "name=\"mark_{}\" value=\"present\" aria-label=\"{} 出勤\" checked",
            roster[0].id, roster[0].name
        )) && page.contains(&rows[0][0])
            && page.contains(&roster[0].id_number_masked),
        "{page}"
    );
    assert!(!page.contains(&rows[0][2]), "full ID number shown");
    assert!(page.contains("enctype=\"multipart/form-data\""));
    let names: Vec<String> = roster.iter().map(|t| format!("mark_{}", t.id)).collect();
    let mut fields: Vec<(&str, &str)> = vec![
        ("session_date", "2026-04-01"),
        ("session_label", "上午 理论"),
    ];
    for (i, n) in names.iter().enumerate() {
        fields.push((n, if i == 0 { "absent" } else { "present" }));
    }
    let path = format!("/classes/{class}/attendance");
    // A disguised page as the sign-in sheet: refused beside the field, nothing recorded.
    let resp = post_multipart(
        &app,
        &path,
        Who::InstAStaff,
        &fields,
        Some(("sign_in_file", "签到表.pdf", DISGUISED_HTML)),
    )
    .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        resp.text()
            .contains("文件内容是网页、脚本或可执行程序，出于安全原因已拒收"),
        "{}",
        resp.text()
    );
    // Institution B: refused before the upload is looked at.
    let resp = post_multipart(
        &app,
        &path,
        Who::InstBAdmin,
        &fields,
        Some(("sign_in_file", "签到表.pdf", PDF)),
    )
    .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let resp = post_multipart(
        &app,
        &path,
        Who::InstAStaff,
        &fields,
        Some(("sign_in_file", "签到表.pdf", PDF)),
    )
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    let d = running::get_class(
        &app.store,
        &actor_of(&app, Who::InstAStaff),
        class,
        app.clock_now(),
    )
    .await
    .unwrap();
    let a = &d.attendance[0];
    assert_eq!((a.present_count, a.absent_count), (19, 1));
    let absent = a.marks.iter().find(|m| !m.present).unwrap();
    assert_eq!(absent.roster_entry_id, roster[0].id);
    assert_eq!(absent.name, roster[0].name);
    assert_eq!(absent.id_number_masked, roster[0].id_number_masked);
    let sheet = a.sign_in_file_id.clone().expect("sign-in sheet");
    let rec = peixun_store::files::get_file(app.store.db(), &sheet)
        .await
        .unwrap();
    assert_eq!(
        (rec.purpose.as_str(), rec.institution_id),
        ("signin_sheet", Some(app.inst_a))
    );
    // Without the sheet (plain part missing) the checklist alone is enough.
    let resp = post_multipart(
        &app,
        &path,
        Who::InstAStaff,
        &[
            ("session_date", "2026-04-01"),
            ("session_label", "下午 实操"),
            ("sheet_only", "1"),
        ],
        None,
    )
    .await;
    // "Sheet only" without a sheet: nothing to record.
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut afternoon = fields.clone();
    afternoon[1] = ("session_label", "下午 实操");
    let resp = post_multipart(&app, &path, Who::InstAStaff, &afternoon, None).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
    // The API: marks are roster entries; a stranger's entry is refused naming `marks`.
    let api = format!("/api/v1/classes/{class}/attendance");
    let mut marks: Vec<J> = roster
        .iter()
        .map(|t| json!({ "roster_entry_id": t.id, "present": true }))
        .collect();
    marks[2] = json!({ "roster_entry_id": roster[2].id + 100_000, "present": true });
    let resp = app
        .api(
            Method::POST,
            &api,
            Who::InstAStaff,
            Some(json!({ "session_date": "2026-04-01", "session_label": "晚上 复习", "marks": marks })),
        )
        .await;
    assert_eq!(
        resp.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        resp.text()
    );
    assert_eq!(resp.json()["field"], "marks", "{}", resp.text());
    marks[2] = json!({ "roster_entry_id": roster[2].id, "present": false });
    let resp = app
        .api(
            Method::POST,
            &api,
            Who::InstAStaff,
            Some(json!({ "session_date": "2026-04-01", "session_label": "晚上 复习", "marks": marks })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json()["absent_count"], 1);
    let list = app.get_api(&api, Who::CentreStaff).await.json();
    let evening = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["session_label"] == "晚上 复习")
        .unwrap();
    let m = &evening["marks"][2];
    assert_eq!(m["roster_entry_id"], roster[2].id);
    assert_eq!(m["name"], roster[2].name.as_str());
    assert_eq!(m["id_number_masked"], roster[2].id_number_masked.as_str());
    assert_eq!(m["present"], false);
    // S6: institution B can neither read nor record A's attendance.
    assert_eq!(
        app.get_api(&api, Who::InstBAdmin).await.status,
        StatusCode::FORBIDDEN
    );
    let resp = app
        .api(
            Method::POST,
            &api,
            Who::InstBAdmin,
            Some(json!({ "session_date": "2026-04-01", "session_label": "晚上 复习", "marks": marks })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert!(audit::verify(&app.store).await.unwrap().is_ok());
}
