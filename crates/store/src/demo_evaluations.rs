//! Demo data for evaluations (R-EVA-1) and the next caps from them (R-CAP-3): an institution
//! without other agreements runs a special round of two classes, both completed on time, with an
//! inspection whose rectification was closed late and survey answers; the centre opens the
//! evaluation from the records, adjusts the archives component with a reason and confirms it.
//! The same institution then applies to the round's second period: its cap preview cites the
//! agreement and the evaluation. Every write goes through the services (audited as `demo-seed`).
//!
//! Also [`sign_special`], used by the other special-round demos: R-CAP-3 derives a later
//! agreement's cap from the previous agreement's confirmed evaluation, so the demo first records
//! that evaluation (as a result entered from the earlier report) when it is missing.

use crate::agreements::{
    self, AgreementView, ApplicationInput, CapOverrideInput, CapSource, SignInput,
};
use crate::entity::{application, filing, round};
use crate::evaluations::{self, AdjustmentInput};
use crate::files::FileStore;
use crate::filings::parse_class_state;
use crate::inspections::{self, FindingSeverity, InspectionInput, InspectionKind};
use crate::ready_package::{self, ReadyPackage};
use crate::roster::RosterKey;
use crate::rounds::{self, RoundInput, TargetGroup};
use crate::{Actor, Result, Store, StoreError, filings, running, surveys};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use peixun_domain::evaluation::ComponentKey;
use peixun_domain::role::Role;
use peixun_domain::rules::shanghai;
use peixun_domain::workflow::class::ClassState;
use peixun_domain::workflow::round::Half;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::BTreeMap;

/// Roster seeds of the two classes (synthetic, valid ID numbers; distinct from other demos).
const SEEDS: [u64; 2] = [4301, 4302];
/// Which demo institution (index into the seeded list): one without other agreements.
const INSTITUTION: usize = 8;

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

/// Signs a special round's agreement with `cap`. When the institution has a previous agreement
/// without a confirmed evaluation, that evaluation is first recorded (C = its on-time completed
/// classes, S = 85, as entered from the earlier report); the derived cap is then set to `cap`
/// with a reason when it differs (R-CAP-8).
pub(crate) async fn sign_special(
    store: &Store,
    admin: &Actor,
    application_id: i64,
    cap: u32,
    at: DateTime<Utc>,
) -> Result<AgreementView> {
    let app = application::Entity::find_by_id(application_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound {
            entity: "application",
        })?;
    let r = round::Entity::find_by_id(app.round_id)
        .one(store.db())
        .await?
        .ok_or(StoreError::NotFound { entity: "round" })?;
    let (previous, _) = agreements::previous_agreement(store.db(), &r, app.institution_id).await?;
    if let Some((pa, _)) = previous
        && evaluations::confirmed_for_agreement(store.db(), pa.id)
            .await?
            .is_none()
    {
        let on_time = filing::Entity::find()
            .filter(filing::Column::AgreementId.eq(pa.id))
            .all(store.db())
            .await?
            .iter()
            .filter(|f| {
                matches!(
                    parse_class_state(&f.state),
                    ClassState::Completed { overdue: false, .. }
                        | ClassState::Archived { overdue: false, .. }
                )
            })
            .count() as u32;
        evaluations::record_confirmed_summary(
            store,
            pa.id,
            on_time,
            "85".parse().unwrap_or(peixun_domain::cap::Score::ZERO),
            at - Duration::hours(1),
        )
        .await?;
    }
    let preview = agreements::cap_preview_on(
        store,
        admin,
        application_id,
        Some(cap),
        crate::workflow_glue::today(at),
    )
    .await?;
    let override_cap = match (&preview.source, &preview.decision) {
        (CapSource::First, _) | (_, None) => None,
        (_, Some(d)) if d.cap == cap => None,
        _ => Some(CapOverrideInput {
            cap,
            reason: "专项培训：按项目需求确定班次（演示数据）".into(),
        }),
    };
    agreements::sign_agreement(
        store,
        admin,
        &SignInput {
            application_id,
            first_cap: Some(cap),
            override_cap,
        },
        at,
    )
    .await
}

/// Seed the evaluation demo (see the module doc). `now` is the demo's start time.
pub async fn seed_evaluations(
    store: &Store,
    files: &FileStore,
    key: &RosterKey,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(&inst_id) = ids.get(INSTITUTION) else {
        return Ok(());
    };
    let admin = actor(Role::CentreAdmin, None);
    let staff = actor(Role::CentreStaff, None);
    let i_admin = actor(Role::InstitutionAdmin, Some(inst_id));
    let i_staff = actor(Role::InstitutionStaff, Some(inst_id));
    let today = crate::workflow_glue::today(now);
    let at = |d: NaiveDate, h: u32| {
        shanghai()
            .with_ymd_and_hms(d.year(), d.month(), d.day(), h, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    let inst =
        crate::institutions::get_institution(store, &Actor::system("demo-seed"), inst_id).await?;
    let Some(q) = inst.qualifications.first().cloned() else {
        return Ok(());
    };
    let starts = [today - Duration::days(62), today - Duration::days(55)];
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
    let year = starts[0].year();
    let groups = vec![TargetGroup {
        name: "就业困难人员".into(),
        required_share_percent: 20,
    }];
    let r = rounds::create_round(
        store,
        &admin,
        &RoundInput {
            year,
            half: Half::Other,
            label: format!("{year}年广东技工专项培训（第一期）"),
            base_planned: 4,
            window_start: submit_on[0] - Duration::days(3),
            window_end: submit_on[1] + Duration::days(2),
            target_groups: groups.clone(),
            call_text: "广东技工专项培训第一期，限定班次，先到先得。".into(),
        },
        first_submit - Duration::days(4),
    )
    .await?;
    rounds::publish_round(store, &admin, r.id, first_submit - Duration::days(3)).await?;
    let app = agreements::apply_to_round(
        store,
        &i_admin,
        &ApplicationInput {
            round_id: r.id,
            occupations: vec![q.occupation.clone()],
            classes_requested: 2,
            note: String::new(),
        },
        first_submit - Duration::days(2),
    )
    .await?;
    let ag = sign_special(store, &admin, app.id, 2, first_submit - Duration::days(1)).await?;

    let mut last_done = today;
    for (k, start) in starts.iter().enumerate() {
        let mut spec = ReadyPackage::new(ag.id, &q.occupation, &q.level, *start);
        spec.roster_seed = SEEDS[k];
        spec.trainees = 20;
        spec.session_hour = if k == 0 { 9 } else { 14 };
        let people = crate::roster::synthetic_rows(spec.trainees, spec.roster_seed);
        let f =
            ready_package::file(store, files, key, &i_staff, &spec, at(submit_on[k], 10)).await?;
        filings::approve_filing(
            store,
            &staff,
            f.id,
            at(submit_on[k], 15) + Duration::days(2),
        )
        .await?;
        running::start_training(store, &i_staff, f.id, at(*start, 9)).await?;
        if k == 0 {
            // R-RUN-4: a general finding; the rectification is closed two days after its due date.
            let ins = inspections::record_inspection(
                store,
                &staff,
                &InspectionInput {
                    filing_id: f.id,
                    inspected_on: *start + Duration::days(2),
                    kind: InspectionKind::OnSite,
                    findings: "签到表有3名学员漏签，教学日志未按日填写。".into(),
                    photos: Vec::new(),
                    rectification_required: true,
                    rectification_due: Some(*start + Duration::days(5)),
                    severity: Some(FindingSeverity::General),
                },
                at(*start + Duration::days(2), 16),
            )
            .await?;
            inspections::report_rectification(
                store,
                &i_staff,
                ins.id,
                "已补签并补记教学日志，指定专人每日核对。",
                at(*start + Duration::days(6), 10),
            )
            .await?;
            inspections::close_inspection(
                store,
                &staff,
                ins.id,
                "复核属实，整改完成（逾期2天）。",
                at(*start + Duration::days(7), 11),
            )
            .await?;
        }
        // R-EVA-3: 9 and 8 of the 20 trainees answer (overall ratings 5, 4, 5, 4, 5, 3, 5, 4, 5).
        let survey = surveys::class_survey(store, &staff, f.id, at(*start, 10)).await?;
        let done = *start + Duration::days(spec.days);
        surveys::set_closing_date(
            store,
            &staff,
            f.id,
            Some(done + Duration::days(7)),
            at(*start, 10),
        )
        .await?;
        for (i, p) in people.iter().take(if k == 0 { 9 } else { 8 }).enumerate() {
            let overall = [5, 4, 5, 4, 5, 3, 5, 4, 5][i];
            let answers: BTreeMap<String, String> = [
                ("teaching", 5),
                ("teacher", 5),
                ("organisation", 4),
                ("venue", 4),
                ("overall", overall),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let id = &p[2];
            surveys::respond(
                store,
                &survey.token,
                &p[0],
                &id[id.len().saturating_sub(4)..],
                &answers,
                at(*start + Duration::days(3), 12 + (i as u32 % 6)),
            )
            .await?;
        }
        running::complete_training(store, &i_staff, f.id, done, at(done, 17)).await?;
        running::complete_exam(store, &i_staff, f.id, done, at(done, 18)).await?;
        last_done = done;
    }

    // R-EVA-1: opened from the records, the archives adjusted with a reason, confirmed.
    let opened = at(last_done + Duration::days(5), 10);
    let v = evaluations::open_evaluation(store, &staff, ag.id, opened).await?;
    evaluations::adjust_component(
        store,
        &staff,
        v.id,
        &AdjustmentInput {
            key: ComponentKey::Archives,
            value: Some(Decimal::from(92)),
            reason: "纸质档案已于现场逐项核查，齐全规范；电子档案尚在补录，按核查结果评分。".into(),
        },
        opened + Duration::hours(2),
    )
    .await?;
    let v = evaluations::get_evaluation(store, &staff, v.id).await?;
    for c in v.components.iter().filter(|c| c.needs_decision) {
        evaluations::adjust_component(
            store,
            &staff,
            v.id,
            &AdjustmentInput {
                key: c.key,
                value: None,
                reason: "经核实，按计算值评分。".into(),
            },
            opened + Duration::hours(3),
        )
        .await?;
    }
    evaluations::confirm_evaluation(store, &admin, v.id, opened + Duration::days(1)).await?;

    // R-CAP-3: the second period; the institution's application cites the evaluation.
    let r2 = rounds::create_round(
        store,
        &admin,
        &RoundInput {
            year: today.year(),
            half: Half::Other,
            label: format!("{}年广东技工专项培训（第二期）", today.year()),
            base_planned: 10,
            window_start: today - Duration::days(2),
            window_end: today + Duration::days(20),
            target_groups: groups,
            call_text: "广东技工专项培训第二期：签约班次上限依据第一期的绩效评估核定。".into(),
        },
        now - Duration::days(3),
    )
    .await?;
    rounds::publish_round(store, &admin, r2.id, now - Duration::days(2)).await?;
    agreements::apply_to_round(
        store,
        &i_admin,
        &ApplicationInput {
            round_id: r2.id,
            occupations: vec![q.occupation.clone()],
            classes_requested: 3,
            note: "第一期两个班次均按期完成。".into(),
        },
        now - Duration::days(1),
    )
    .await?;
    Ok(())
}
