//! Demo data for running classes (issue 5 items 5–7), so that the work lists are not empty: a
//! special round in which institution A's class started 27 days ago (its last day is in 3
//! days), with attendance, a pending teacher-change report and an open inspection requiring
//! rectification; and this month's reports from some institutions (the rest are missing, or not
//! yet due before the 25th). Every write goes through the services (audited as `demo-seed`).

use crate::agreements::{self, ApplicationInput, SignInput};
use crate::files::FileStore;
use crate::filings;
use crate::inspections::{self, InspectionInput, InspectionKind};
use crate::ready_package::{self, ReadyPackage};
use crate::reports::{self, MonthlyReportInput};
use crate::roster::RosterKey;
use crate::rounds::{self, RoundInput, TargetGroup};
use crate::running::{self, AttendanceInput, AttendanceMark, TeacherChangeInput};
use crate::teachers::{self, TeacherInput, TeacherQualification};
use crate::{Actor, Result, Store};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use peixun_domain::role::Role;
use peixun_domain::rules::shanghai;
use peixun_domain::workflow::round::Half;

/// The running class's roster (synthetic, valid ID numbers).
const ROSTER_SEED: u64 = 3001;

fn actor(role: Role, institution_id: Option<i64>) -> Actor {
    Actor {
        user_id: None,
        username: "demo-seed".into(),
        role: Some(role),
        institution_id,
        ip: None,
        request_id: None,
    }
}

/// A valid citizen ID (GB 11643) with sequence `seq` (region 440105).
fn citizen_id(seq: u32) -> String {
    let body = format!("44010519850315{:03}", seq % 1000);
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// Seed the running-class demo for `ids` (the demo institutions, A first). `now` is the
/// demo's start time.
pub async fn seed_running(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(&a) = ids.first() else {
        return Ok(());
    };
    let admin = actor(Role::CentreAdmin, None);
    let staff = actor(Role::CentreStaff, None);
    let a_admin = actor(Role::InstitutionAdmin, Some(a));
    let a_staff = actor(Role::InstitutionStaff, Some(a));
    let today = crate::workflow_glue::today(now);
    let start = today - Duration::days(27);
    let at = |d: chrono::NaiveDate, h: u32| {
        shanghai()
            .with_ymd_and_hms(d.year(), d.month(), d.day(), h, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    let inst = crate::institutions::get_institution(store, &Actor::system("demo-seed"), a).await?;
    let Some(q) = inst.qualifications.first().cloned() else {
        return Ok(());
    };
    // The package is submitted on its R-FIL-3 deadline (10 working days before the start);
    // the round and the agreement come just before it.
    let policy = peixun_domain::policy::Policy::haizhu_default();
    let submit_on = crate::calendar::load(store.db())
        .await?
        .filing_deadline(start, &policy)
        .unwrap_or(start - Duration::days(16))
        .min(today - Duration::days(36));
    let submit_at = at(submit_on, 10);
    // A special round (专项) opened a few days before.
    let r = rounds::create_round(
        store,
        &admin,
        &RoundInput {
            year: start.year(),
            half: Half::Other,
            label: format!("{}年南粤家政专项培训", start.year()),
            base_planned: 4,
            window_start: submit_on - Duration::days(3),
            window_end: today - Duration::days(20),
            target_groups: vec![TargetGroup {
                name: "就业困难人员".into(),
                required_share_percent: 20,
            }],
            call_text: "面向家政服务从业人员的专项培训，限定班次，先到先得。".into(),
        },
        submit_at - Duration::days(4),
    )
    .await?;
    rounds::publish_round(store, &admin, r.id, submit_at - Duration::days(3)).await?;
    let app = agreements::apply_to_round(
        store,
        &a_admin,
        &ApplicationInput {
            round_id: r.id,
            occupations: vec![q.occupation.clone()],
            classes_requested: 2,
            note: String::new(),
        },
        submit_at - Duration::days(2),
    )
    .await?;
    let ag = agreements::sign_agreement(
        store,
        &admin,
        &SignInput {
            application_id: app.id,
            first_cap: Some(2),
            override_cap: None,
        },
        submit_at - Duration::days(1),
    )
    .await?;
    // A complete package through every check (R-FIL-1…8), like every demo filing.
    let teacher_id =
        ready_package::qualified_teacher(store.db(), a, &q.occupation, &q.level).await?;
    let mut spec = ReadyPackage::new(ag.id, &q.occupation, &q.level, start);
    spec.teacher_id = teacher_id;
    spec.session_hour = 9;
    spec.roster_seed = ROSTER_SEED;
    let f = ready_package::file(store, files, key, &a_staff, &spec, submit_at).await?;
    filings::approve_filing(store, &staff, f.id, submit_at + Duration::days(7)).await?;
    running::start_training(store, &a_staff, f.id, at(start, 9)).await?;
    // R-RUN-2: every trainee on the class's roster marked, a few absent.
    let roster = crate::attendance::current_roster(store.db(), f.id).await?;
    for (k, d) in [start, start + Duration::days(1), start + Duration::days(7)]
        .into_iter()
        .enumerate()
    {
        let absent: &[usize] = match k {
            0 => &[],
            1 => &[11],
            _ => &[4, 9],
        };
        running::record_attendance(
            store,
            &a_staff,
            &AttendanceInput {
                filing_id: f.id,
                session_date: d,
                session_label: if k == 1 {
                    "下午 实操"
                } else {
                    "上午 理论"
                }
                .into(),
                marks: roster
                    .iter()
                    .enumerate()
                    .map(|(i, e)| AttendanceMark {
                        roster_entry_id: e.id,
                        present: !absent.contains(&i),
                    })
                    .collect(),
                sign_in_file_id: None,
            },
            at(d, 12),
        )
        .await?;
    }
    // A teacher change reported yesterday, effective in 3 days (R-RUN-1), not yet seen.
    let t = teachers::create_teacher(
        store,
        &a_admin,
        a,
        &TeacherInput {
            name: "何淑贞".into(),
            id_number: citizen_id(517),
            phone: "13926001234".into(),
            qualifications: vec![TeacherQualification {
                occupation: q.occupation.clone(),
                level: q.level.clone(),
                certificate_no: "S440105202300517".into(),
            }],
            active: true,
        },
        now - Duration::days(2),
    )
    .await?;
    let cal = crate::calendar::load(store.db()).await?;
    let mut effective = today + Duration::days(3);
    // Reported yesterday: the change must be at least one working day later.
    for _ in 0..10 {
        if running::report_teacher_change(
            store,
            &a_staff,
            &TeacherChangeInput {
                filing_id: f.id,
                old_teacher_id: None,
                new_teacher_id: t.id,
                effective_on: effective,
                note: "原授课教师因病请假，由何淑贞老师接替实操课".into(),
            },
            &cal,
            now - Duration::days(1),
        )
        .await
        .is_ok()
        {
            break;
        }
        effective += Duration::days(1);
    }
    // An on-site inspection three days ago requiring rectification within a week (R-RUN-4).
    inspections::record_inspection(
        store,
        &staff,
        &InspectionInput {
            severity: None,
            filing_id: f.id,
            inspected_on: today - Duration::days(3),
            kind: InspectionKind::OnSite,
            findings: "实操课签到表有1名学员未签名；实训场地消防通道堆放杂物。".into(),
            photos: vec![],
            rectification_required: true,
            rectification_due: Some(today + Duration::days(4)),
        },
        now - Duration::days(3),
    )
    .await?;
    // This month's reports from three institutions (R-RUN-3); the others have not reported.
    let due = peixun_domain::rules::monthly_report_due(
        today.year(),
        today.month(),
        &crate::policies::for_month(store.db(), today.year(), today.month()).await?,
    )
    .unwrap_or(today);
    let report_time = at(due, 18);
    for (k, &id) in ids.iter().enumerate().skip(2).take(3) {
        let _ = reports::submit_report(
            store,
            &actor(Role::InstitutionAdmin, Some(id)),
            &MonthlyReportInput {
                year: today.year(),
                month: today.month(),
                classes_run: 1 + k as u32 % 2,
                trainees: 24 + 3 * k as u32,
                exams: k as u32 % 2,
                problems: if k == 3 {
                    "部分学员因工作原因请假，已安排补课。".into()
                } else {
                    "无".into()
                },
            },
            // Before the 25th when today is past it: on time.
            report_time.min(now) - Duration::hours(2 + k as i64),
        )
        .await;
    }
    Ok(())
}
