//! The directory, agreements, evaluations, filing intents and monthly reports of the synthetic
//! province, built in memory from the seeded generator. Rows are shaped like the services'
//! (`institutions`, `teachers::create_teacher`, `agreements::apply_to_round` /
//! `sign_agreement` with the cap computed by `peixun_domain::cap` and its source line first in
//! the trail, `evaluations` with inputs read the way `read_input` reads them,
//! `reports::submit_report`).

use super::classes::{ACTOR, Fate, Fil};
use super::names::{self, District, Rng};
use super::{Agr, CLASS_DAYS, Ids, Inst, PrevAgreement, RoundCtx, SESSIONS, Teacher, at, day_of};
use crate::agreements::CapSource;
use crate::entity::{agreement, application, monthly_report, teacher, teacher_qualification};
use crate::evaluations::{StoredAdjustment, entity as ev};
use crate::institutions::{InstitutionInput, InstitutionStatus, Qualification};
use crate::pii::{DataKeys, Field, RosterKey};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use peixun_domain::calendar::Calendar;
use peixun_domain::cap::{CapBasis, CapInput, apply_override, compute_cap};
use peixun_domain::evaluation::{
    Adjustment, ComponentKey, EvaluationInput, SatisfactionInput, evaluate,
};
use peixun_domain::policy::Policy;
use peixun_domain::workflow::agreement::AgreementState;
use peixun_domain::workflow::class::ClassState;
use rust_decimal::Decimal;
use sea_orm::Set;
use std::collections::{HashMap, HashSet};

/// The directory entries (for `institutions::create_institution`) with their districts.
pub(super) fn institution_inputs(
    rng: &mut Rng,
    n: usize,
    districts: &'static [District],
) -> Vec<(InstitutionInput, District)> {
    let mut names_taken: HashSet<String> = HashSet::new();
    let mut codes: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        // Haizhu first: institutions A and B of the demo accounts are there.
        let district = if i < 2 {
            districts[0]
        } else {
            *rng.pick(districts)
        };
        let mut name = names::institution_name(rng, &district, 0);
        let mut k = 1;
        while names_taken.contains(&name) {
            name = names::institution_name(rng, &district, k);
            k += 1;
        }
        names_taken.insert(name.clone());
        let mut code = names::credit_code(rng, district.code, i % 4 == 3);
        while !codes.insert(code.clone()) {
            code = names::credit_code(rng, district.code, i % 4 == 3);
        }
        let nq = 2 + rng.below(3);
        let mut occ: Vec<usize> = Vec::new();
        while occ.len() < nq {
            let k = rng.below(names::OCCUPATIONS.len());
            if !occ.contains(&k) {
                occ.push(k);
            }
        }
        let quals: Vec<Qualification> = occ
            .iter()
            .map(|&k| Qualification {
                occupation: names::OCCUPATIONS[k].0.to_string(),
                level: rng.pick(names::LEVELS).to_string(),
            })
            .collect();
        let mut major_projects: Vec<String> = Vec::new();
        if i < 2 || rng.chance(400) {
            for &k in &occ {
                if let Some(p) = names::OCCUPATIONS[k].1
                    && !major_projects.iter().any(|x| x == p)
                {
                    major_projects.push(p.to_string());
                }
            }
        }
        out.push((
            InstitutionInput {
                name,
                credit_code: code,
                confirm_checksum_warning: false,
                registered_address: names::address(rng, &district),
                district: Some(district.name.to_string()),
                contact_person: names::person_name(rng),
                contact_phone: names::mobile(rng),
                qualifications: quals,
                major_project_capable: !major_projects.is_empty(),
                major_projects,
                status: InstitutionStatus::Active,
            },
            district,
        ));
    }
    out
}

/// A new teacher of `inst` qualified for its qualification `qual` (as `create_teacher` stores
/// one: the ID number sealed, masked and keyed).
#[allow(clippy::too_many_arguments)]
pub(super) fn new_teacher(
    inst: &mut Inst,
    qual: usize,
    rng: &mut Rng,
    ids: &mut Ids,
    data: &DataKeys,
    lookup: &RosterKey,
    now: DateTime<Utc>,
    out: &mut (
        Vec<teacher::ActiveModel>,
        Vec<teacher_qualification::ActiveModel>,
    ),
) -> i64 {
    let id_number = loop {
        let birth = names::birth_for_age(rng, day_of(now), 28, 55);
        let n = names::citizen_id(rng, inst.district.code, birth);
        if inst.teacher_ids.insert(n.clone()) {
            break n;
        }
    };
    ids.teacher += 1;
    ids.teacher_qual += 1;
    let now = crate::db_time(now);
    out.0.push(teacher::ActiveModel {
        id: Set(ids.teacher),
        institution_id: Set(inst.id),
        name: Set(names::person_name(rng)),
        id_number: Set(data.encrypt_field(Field::TeacherIdNumber, &id_number)),
        id_masked: Set(crate::checks::mask_id(&id_number)),
        person_key: Set(Some(lookup.person_key(&id_number))),
        phone: Set(names::mobile(rng)),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    });
    let (occupation, level) = inst.quals[qual].clone();
    out.1.push(teacher_qualification::ActiveModel {
        id: Set(ids.teacher_qual),
        teacher_id: Set(ids.teacher),
        occupation: Set(occupation),
        level: Set(level),
        certificate_no: Set(format!(
            "S{}{}{:06}",
            inst.district.code,
            2012 + rng.below(13),
            rng.below(1_000_000)
        )),
    });
    inst.teachers.push(Teacher {
        id: ids.teacher,
        qual,
    });
    ids.teacher
}

/// Applications and agreements of one round (R-CAP-*): the cap each institution gets is what
/// `sign_agreement` would compute on `round.sign_at` from its previous agreement's confirmed
/// evaluation (or, for a first agreement, the figure requested). Suspended institutions apply
/// and get no agreement. `a_cap`: the cap the centre sets for institution A by override.
#[allow(clippy::too_many_arguments)]
pub(super) fn agreements(
    round: &RoundCtx,
    insts: &[Inst],
    per_inst: f64,
    a_cap: Option<u32>,
    ids: &mut Ids,
    policy: &Policy,
    rng: &mut Rng,
) -> crate::Result<(
    Vec<application::ActiveModel>,
    Vec<agreement::ActiveModel>,
    Vec<Agr>,
)> {
    let (mut apps, mut rows, mut out) = (Vec::new(), Vec::new(), Vec::new());
    let mean_w = insts.iter().map(|i| i.weight as f64).sum::<f64>() / insts.len().max(1) as f64;
    for (k, inst) in insts.iter().enumerate() {
        let requested = ((per_inst * inst.weight as f64 / mean_w).round() as i64 + rng.range(-1, 1))
            .max(1) as u32;
        let applied_at = round.apply_at + Duration::minutes((k % 480) as i64);
        ids.application += 1;
        let mut occupations: Vec<String> = Vec::new();
        for (o, _) in &inst.quals {
            if !occupations.contains(o) {
                occupations.push(o.clone());
            }
        }
        apps.push(application::ActiveModel {
            id: Set(ids.application),
            round_id: Set(round.id),
            institution_id: Set(inst.id),
            occupations: Set(serde_json::to_string(&occupations).unwrap_or("[]".into())),
            classes_requested: Set(requested as i32),
            note: Set(String::new()),
            created_by: Set(ACTOR.into()),
            created_at: Set(applied_at),
        });
        let (source, basis) = match &inst.prev {
            Some(p) => (
                CapSource::Evaluation {
                    agreement_id: p.agreement_id,
                    evaluation_id: p.evaluation_id,
                    round_label: p.round_label.clone(),
                    completed_on_time: p.on_time,
                    score: p.score,
                },
                CapBasis::Later {
                    prev_completed: p.on_time,
                    score: p.score,
                },
            ),
            None => (CapSource::First, CapBasis::First { requested }),
        };
        let input = CapInput {
            planned: round.planned,
            prev_planned: round.prev_planned,
            basis,
            major: inst.major,
        };
        let mut decision = compute_cap(&input, policy)
            .map_err(|e| crate::StoreError::validation("CAP_INVALID", e.to_string(), "cap"))?;
        if let Some(step) = source.trail_step() {
            decision.trail.insert(0, step);
        }
        if decision.computed_suspended() {
            continue;
        }
        if k == 0
            && let Some(c) = a_cap
            && c != decision.cap
            && c <= decision.global_cap
        {
            decision = apply_override(
                &decision,
                c,
                "承接全区示范培训班次，经中心集体研究调整签约班次上限",
            )
            .map_err(|e| crate::StoreError::validation("CAP_INVALID", e.to_string(), "cap"))?;
        }
        if decision.cap == 0 {
            continue;
        }
        ids.agreement += 1;
        let signed_at = round.sign_at + Duration::minutes((k % 480) as i64);
        rows.push(agreement::ActiveModel {
            id: Set(ids.agreement),
            round_id: Set(round.id),
            institution_id: Set(inst.id),
            application_id: Set(Some(ids.application)),
            cap: Set(decision.cap as i32),
            cap_decision: Set(serde_json::to_string(&decision).unwrap_or_default()),
            policy_version: Set(decision.policy_version.clone()),
            status: Set(AgreementState::Signed.code().to_string()),
            termination_cause: Set(None),
            termination_reason: Set(None),
            signed_by: Set(ACTOR.into()),
            signed_at: Set(signed_at),
            terminated_by: Set(None),
            terminated_at: Set(None),
            // Set from the seeded rows once they are written (queue counters' backfill).
            slots_held: Set(0),
        });
        out.push(Agr {
            id: ids.agreement,
            inst: k,
            cap: decision.cap,
            signed_at,
        });
    }
    Ok((apps, rows, out))
}

/// The confirmed evaluation (R-EVA-1) of each agreement of a finished round, its inputs read
/// from the simulated records the way `evaluations::read_input` reads them; the archives and
/// satisfaction components (no archive documents or survey answers are seeded) are set by
/// the centre's adjustment with a reason, as the evaluation pages allow. Updates each
/// institution's previous agreement (R-CAP-3).
#[allow(clippy::too_many_arguments)]
pub(super) fn evaluations(
    round: &RoundCtx,
    agreements: &[Agr],
    fils: &[Fil],
    inspections: &HashMap<i64, (Option<String>, bool)>,
    insts: &mut [Inst],
    at_time: DateTime<Utc>,
    ids: &mut Ids,
    policy: &Policy,
    rng: &mut Rng,
) -> crate::Result<Vec<ev::ActiveModel>> {
    let mut by_agreement: HashMap<i64, Vec<&Fil>> = HashMap::new();
    for f in fils {
        by_agreement.entry(f.agreement_id).or_default().push(f);
    }
    let mut out = Vec::new();
    for a in agreements {
        let list = by_agreement.remove(&a.id).unwrap_or_default();
        let (mut approved, mut on_time, mut trainees) = (0u32, 0u32, 0u32);
        let (mut n_ins, mut general, mut serious) = (0u32, 0u32, 0u32);
        let mut archives = Vec::new();
        for f in &list {
            if f.state.is_approved() {
                approved += 1;
                if let Some((sev, _)) = inspections.get(&f.id) {
                    n_ins += 1;
                    match sev.as_deref() {
                        Some("general") => general += 1,
                        Some("serious") => serious += 1,
                        _ => {}
                    }
                }
            }
            if matches!(
                f.state,
                ClassState::Completed { overdue: false, .. }
                    | ClassState::Archived { overdue: false, .. }
            ) {
                on_time += 1;
            }
            if matches!(
                f.state,
                ClassState::Completed { .. } | ClassState::Archived { .. }
            ) {
                archives.push(peixun_domain::archive::completeness_percent(0, 1));
            }
            if crate::surveys::counts_for_evaluation(&f.state) {
                trainees += f.trainees as u32;
            }
        }
        let input = EvaluationInput {
            cap: a.cap,
            approved,
            on_time,
            inspections: Some(n_ins),
            general_findings: general,
            serious_findings: serious,
            late_rectifications: 0,
            archives,
            satisfaction: SatisfactionInput::Answers {
                responses: 0,
                overall_sum: 0,
                trainees,
            },
        };
        // Most institutions keep good archives and satisfied trainees; a few do not.
        let weak = a.inst > 1 && rng.chance(25);
        let (arch, sat) = if weak {
            (
                Decimal::from(20 + rng.below(30) as i64),
                Decimal::from(40 + rng.below(20) as i64),
            )
        } else {
            (
                Decimal::from(82 + rng.below(19) as i64),
                Decimal::from(80 + rng.below(19) as i64),
            )
        };
        let stored = vec![
            StoredAdjustment {
                key: ComponentKey::Archives,
                value: Some(arch),
                reason: "按纸质教学档案抽查结果评定".into(),
                by: ACTOR.into(),
                at: at_time,
            },
            StoredAdjustment {
                key: ComponentKey::Satisfaction,
                value: Some(sat),
                reason: "按电话回访学员满意度结果评定".into(),
                by: ACTOR.into(),
                at: at_time,
            },
        ];
        let adjustments: Vec<Adjustment> = stored
            .iter()
            .map(|s| Adjustment {
                key: s.key,
                value: s.value,
                reason: s.reason.clone(),
            })
            .collect();
        let result = evaluate(&input, &adjustments, policy).map_err(|e| {
            crate::StoreError::validation("EVA_INVALID", e.to_string(), "evaluation")
        })?;
        ids.evaluation += 1;
        out.push(ev::ActiveModel {
            id: Set(ids.evaluation),
            agreement_id: Set(a.id),
            round_id: Set(round.id),
            institution_id: Set(insts[a.inst].id),
            state: Set("confirmed".into()),
            input: Set(serde_json::to_string(&input).unwrap_or_default()),
            adjustments: Set(serde_json::to_string(&stored).unwrap_or_default()),
            result: Set(serde_json::to_string(&result).unwrap_or_default()),
            score: Set(Some(result.score.to_string())),
            policy_version: Set(policy.version.clone()),
            opened_by: Set(ACTOR.into()),
            opened_at: Set(at_time - Duration::hours(2)),
            computed_at: Set(at_time - Duration::hours(1)),
            confirmed_by: Set(Some(ACTOR.into())),
            confirmed_at: Set(Some(at_time)),
        });
        insts[a.inst].prev = Some(PrevAgreement {
            agreement_id: a.id,
            evaluation_id: ids.evaluation,
            round_label: round.label.clone(),
            on_time,
            score: result.score,
        });
    }
    Ok(out)
}

/// The first day a class can start and still be filed in time by `from`, and the last it can
/// start when filed by `to` (R-FIL-3), the class inside the loaded holiday tables: every
/// possible start with its deadline.
pub(super) fn starts(
    calendar: &Calendar,
    policy: &Policy,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut s = from + Duration::days(10);
    while s <= to + Duration::days(40) {
        if calendar.is_year_loaded((s + Duration::days(CLASS_DAYS)).year())
            && let Ok(d) = calendar.filing_deadline(s, policy)
            && d >= from
            && d <= to
        {
            out.push((s, d));
        }
        s += Duration::days(1);
    }
    out
}

/// Book a teacher of `inst` qualified for `qual` for the class's sessions (no teacher in two
/// sessions at once, SPEC.md §4): an existing one at a free hour, or a new one.
#[allow(clippy::too_many_arguments)]
pub(super) fn book_teacher(
    inst: &mut Inst,
    qual: usize,
    start: NaiveDate,
    rng: &mut Rng,
    ids: &mut Ids,
    data: &DataKeys,
    lookup: &RosterKey,
    created: DateTime<Utc>,
    out: &mut (
        Vec<teacher::ActiveModel>,
        Vec<teacher_qualification::ActiveModel>,
    ),
) -> (i64, u32) {
    let days: Vec<NaiveDate> = (0..SESSIONS as i64)
        .map(|d| start + Duration::days(d))
        .collect();
    let mut hours = [9u32, 14, 19];
    if rng.below(2) == 1 {
        hours.swap(0, 1);
    }
    let candidates: Vec<i64> = inst
        .teachers
        .iter()
        .filter(|t| t.qual == qual)
        .map(|t| t.id)
        .collect();
    for t in candidates {
        for h in hours {
            if days.iter().all(|d| !inst.bookings.contains(&(t, *d, h))) {
                for d in &days {
                    inst.bookings.insert((t, *d, h));
                }
                return (t, h);
            }
        }
    }
    let t = new_teacher(inst, qual, rng, ids, data, lookup, created, out);
    for d in &days {
        inst.bookings.insert((t, *d, hours[0]));
    }
    (t, hours[0])
}

/// Class size: at least 20 (R-FIL-2), about 25 on average, now and then a 120-place class.
pub(super) fn class_size(rng: &mut Rng) -> usize {
    let r = rng.below(1000);
    if r < 4 {
        120
    } else if r < 750 {
        20 + rng.below(5)
    } else if r < 955 {
        25 + rng.below(12)
    } else {
        37 + rng.below(24)
    }
}

/// An empty filing (dates, fate and class facts set; the simulation fills in the rest).
#[allow(clippy::too_many_arguments)]
pub(super) fn fil(
    ids: &mut Ids,
    agreement_id: i64,
    inst: usize,
    qual: usize,
    start: NaiveDate,
    submit_at: DateTime<Utc>,
    fate: Fate,
    trainees: usize,
    rng: &mut Rng,
) -> Fil {
    ids.filing += 1;
    ids.package += 1;
    Fil {
        id: ids.filing,
        package_id: ids.package,
        agreement_id,
        inst,
        qual,
        teacher_id: 0,
        session_hour: 9,
        start,
        submit_at: crate::db_time(submit_at),
        fate,
        trainees,
        overdue: false,
        no_results: false,
        train_days: 8,
        exam_days: CLASS_DAYS,
        review_delay_h: 20 + rng.range(0, 52),
        resubmit_delay_h: 24 + rng.range(0, 48),
        queue_seq: 0,
        state: ClassState::Draft,
        slot_no: None,
        granted_at: None,
        decided_at: None,
        decision_reason: None,
        updated_at: submit_at,
        started_on: None,
        training_completed_on: None,
        exam_completed_on: None,
        overdue_on: None,
        progress_at: None,
        results_at: None,
        confirm_at: None,
    }
}

/// A random fate: most approved, some returned first, a few rejected or withdrawn.
pub(super) fn fate(rng: &mut Rng) -> Fate {
    match rng.below(1000) {
        0..20 => Fate::Withdraw,
        20..45 => Fate::Reject,
        45..115 => Fate::ReturnThenApprove,
        _ => Fate::Approve,
    }
}

/// A submission time on `day` in office hours (never after `now`).
pub(super) fn office_time(rng: &mut Rng, day: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    let t = at(day, 9 + rng.below(8) as u32, rng.below(60) as u32)
        + Duration::seconds(rng.below(60) as i64);
    if t > now {
        now - Duration::minutes(1 + rng.below(90) as i64)
    } else {
        t
    }
}

/// Monthly reports (R-RUN-3) from the month of each institution's first agreement up to this
/// month: most on time, some late, some missing (A's this month, for its work list).
pub(super) fn monthly_reports(
    insts: &[Inst],
    ids: &mut Ids,
    policy: &Policy,
    now: DateTime<Utc>,
    rng: &mut Rng,
) -> Vec<monthly_report::ActiveModel> {
    let today = day_of(now);
    let mut out = Vec::new();
    for (k, inst) in insts.iter().enumerate() {
        let Some(first) = inst.first_signed else {
            continue;
        };
        let (mut y, mut m) = (first.year(), first.month());
        while (y, m) <= (today.year(), today.month()) {
            let this_month = (y, m) == (today.year(), today.month());
            let skip = rng.chance(60) || (k == 0 && this_month);
            let late = rng.chance(70);
            let day = if late {
                26 + rng.below(3) as u32
            } else {
                10 + rng.below(15) as u32
            };
            let on = NaiveDate::from_ymd_opt(y, m, day);
            if let (false, Some(on)) = (skip, on) {
                let submitted = at(on, 9 + rng.below(9) as u32, rng.below(60) as u32);
                if submitted <= now {
                    let first_of = NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(on);
                    let last_of = (first_of + Duration::days(32)).with_day(1).unwrap_or(on)
                        - Duration::days(1);
                    let running: Vec<&(NaiveDate, NaiveDate, usize)> = inst
                        .class_spans
                        .iter()
                        .filter(|(s, e, _)| *s <= last_of && *e >= first_of)
                        .collect();
                    ids.report += 1;
                    out.push(monthly_report::ActiveModel {
                        id: Set(ids.report),
                        institution_id: Set(inst.id),
                        year: Set(y),
                        month: Set(m as i32),
                        classes_run: Set(running.len() as i32),
                        trainees: Set(running.iter().map(|r| r.2 as i32).sum()),
                        exams: Set(running
                            .iter()
                            .filter(|(_, e, _)| *e >= first_of && *e <= last_of)
                            .count() as i32),
                        problems: Set(if rng.chance(120) {
                            "部分学员因工作原因缺课，已安排补课".into()
                        } else {
                            String::new()
                        }),
                        late: Set(peixun_domain::rules::monthly_report_is_late(
                            y, m, &submitted, policy,
                        )
                        .unwrap_or(false)),
                        submitted_by: Set(ACTOR.into()),
                        submitted_by_user_id: Set(None),
                        submitted_at: Set(submitted),
                        policy_version: Set(policy.version.clone()),
                    });
                }
            }
            (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        }
    }
    out
}
