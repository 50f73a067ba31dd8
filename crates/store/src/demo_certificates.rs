//! Demo data for exam results and certificate codes (R-CRT-1, R-CRT-2): a finished special
//! round in which institution A ran two classes — the first with confirmed results and issued
//! codes (one revoked, with its reason), the second completed with every result entered and
//! waiting for the centre's confirmation (the centre's work list shows it). Every write goes
//! through the services (audited as `demo-seed`).

use crate::agreements::{self, ApplicationInput};
use crate::files::FileStore;
use crate::filings;
use crate::ready_package::{self, ReadyPackage};
use crate::results::{self, ResultInput};
use crate::roster::RosterKey;
use crate::rounds::{self, RoundInput, TargetGroup};
use crate::{Actor, Result, Store, certificates, running};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use peixun_domain::role::Role;
use peixun_domain::rules::shanghai;
use peixun_domain::workflow::round::Half;

/// Roster seeds of the two classes (synthetic, valid ID numbers; distinct from other demos).
const SEEDS: [u64; 2] = [4101, 4102];

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

/// Seed the results and certificates demo for institution `ids[0]` (A). `now` is the demo's
/// start time.
pub async fn seed_certificates(
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
    let at = |d: NaiveDate, h: u32| {
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
    // Two classes that started 75 and 68 days ago, filed on their R-FIL-3 deadlines.
    let starts = [today - Duration::days(75), today - Duration::days(68)];
    let policy = peixun_domain::policy::Policy::haizhu_default();
    let cal = crate::calendar::load(store.db()).await?;
    let submit_on: Vec<NaiveDate> = starts
        .iter()
        .map(|s| {
            cal.filing_deadline(*s, &policy)
                .unwrap_or(*s - Duration::days(16))
        })
        .collect();
    let first_submit = at(submit_on[0], 10);
    let r = rounds::create_round(
        store,
        &admin,
        &RoundInput {
            year: starts[0].year(),
            half: Half::Other,
            label: format!("{}年粤菜师傅专项培训", starts[0].year()),
            base_planned: 3,
            window_start: submit_on[0] - Duration::days(3),
            window_end: submit_on[1] + Duration::days(2),
            target_groups: vec![TargetGroup {
                name: "就业困难人员".into(),
                required_share_percent: 20,
            }],
            call_text: "专项培训，限定班次，先到先得。".into(),
        },
        first_submit - Duration::days(4),
    )
    .await?;
    rounds::publish_round(store, &admin, r.id, first_submit - Duration::days(3)).await?;
    let app = agreements::apply_to_round(
        store,
        &a_admin,
        &ApplicationInput {
            round_id: r.id,
            occupations: vec![q.occupation.clone()],
            classes_requested: 2,
            note: String::new(),
        },
        first_submit - Duration::days(2),
    )
    .await?;
    let ag = crate::demo_evaluations::sign_special(
        store,
        &admin,
        app.id,
        2,
        first_submit - Duration::days(1),
    )
    .await?;
    let mut classes = Vec::new();
    for (k, start) in starts.iter().enumerate() {
        let mut spec = ReadyPackage::new(ag.id, &q.occupation, &q.level, *start);
        spec.roster_seed = SEEDS[k];
        spec.trainees = 22;
        spec.session_hour = if k == 0 { 9 } else { 14 };
        let f =
            ready_package::file(store, files, key, &a_staff, &spec, at(submit_on[k], 10)).await?;
        filings::approve_filing(
            store,
            &staff,
            f.id,
            at(submit_on[k], 15) + Duration::days(2),
        )
        .await?;
        running::start_training(store, &a_staff, f.id, at(*start, 9)).await?;
        let done = *start + Duration::days(spec.days);
        running::complete_training(store, &a_staff, f.id, done, at(done, 17)).await?;
        running::complete_exam(store, &a_staff, f.id, done, at(done, 18)).await?;
        // Results the day after the exam: most pass, one fails, one is absent.
        let view = results::get_results(store, &a_staff, f.id, at(done, 19)).await?;
        let rows: Vec<ResultInput> = view
            .rows
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (result, score) = match (i + k) % 11 {
                    3 => ("fail", "52".to_string()),
                    7 => ("absent", String::new()),
                    n => ("pass", format!("{}.5", 70 + (n * 3 + i) % 25)),
                };
                ResultInput {
                    entry_id: t.entry_id,
                    result: result.into(),
                    score,
                    exam_date: done.to_string(),
                }
            })
            .collect();
        results::save_results(
            store,
            &a_staff,
            f.id,
            &rows,
            at(done + Duration::days(1), 10),
        )
        .await?;
        classes.push((f.id, done));
    }
    // The first class: confirmed by the centre, codes issued, one revoked.
    let (first, done) = classes[0];
    certificates::confirm_results(store, &staff, first, at(done + Duration::days(3), 10)).await?;
    let issued = certificates::list_certificates(store, &staff, first).await?;
    if let Some(c) = issued.get(4) {
        certificates::revoke(
            store,
            &admin,
            &c.code,
            "经核查，该学员由他人代考，考试成绩无效，撤销其合格证书编码。",
            at(done + Duration::days(10), 15),
        )
        .await?;
    }
    // The second class waits for the centre's confirmation.
    Ok(())
}
