//! Rows of one batch of simulated filings, written exactly as the services write them: the
//! filing row (`filings::submit_in_txn` / `act_in_txn`), its package (`filing_package`), its
//! roster (`roster::import_roster`: every row through `validate_roster`, the ID number sealed
//! with the data key, its masked form and its keyed hash beside it), the class's progress
//! (`running`), attendance (`attendance::record_attendance`), exam results
//! (`results::save_results`), the confirmation and certificate codes
//! (`certificates::confirm_results`), inspections (`inspections::record_inspection`, closed
//! through `report_rectification` / `close_inspection`) and the inbox messages those send.

use super::classes::{ACTOR, Fil};
use super::names::{self, Rng};
use super::{CLASS_DAYS, Ids, Inst, RoundCtx, SESSIONS, at};
use crate::certificates::{STATUS_VALID, cert, cert_class};
use crate::entity::{
    attendance_mark, attendance_record, class_progress, filing, inbox_message, inspection,
};
use crate::filing_package::package;
use crate::pii::{DataKeys, Field, RosterKey};
use crate::results::{confirmation, exam_result};
use crate::roster::entry;
use chrono::{Duration, NaiveDate, NaiveTime};
use peixun_domain::certificate::{CertificateCode, ExamOutcome, trainee_sequence};
use peixun_domain::filing::Location;
use peixun_domain::ids::mask_id;
use peixun_domain::policy::Policy;
use peixun_domain::roster::{RawRow, RosterContext, validate_roster};
use peixun_domain::schedule::Session;
use rust_decimal::Decimal;
use sea_orm::Set;

/// The exam content every seeded package states (as `ready_package`).
const EXAM_CONTENT: &str = "理论知识考试（闭卷，60分钟）与操作技能考核（现场实操，按评分细则评分）";

const TOPICS: [&str; SESSIONS] = [
    "职业道德与基础知识",
    "专业理论知识",
    "操作技能训练与考核辅导",
];

const FINDINGS_OK: &[&str] = &[
    "学员签到记录完整，授课教师与备案一致，教学秩序良好",
    "现场教学设备齐全，课程按课程表开展",
    "抽查学员5名，均在花名册内，出勤正常",
];
const FINDINGS_FIX: &[&str] = &[
    "签到表部分学员签名不清晰，需补充核实",
    "现场未张贴培训简章及补贴标准",
    "实训耗材登记不完整",
];

/// Everything one batch of filings writes.
#[derive(Default)]
pub(super) struct Batch {
    pub filings: Vec<filing::ActiveModel>,
    pub packages: Vec<package::ActiveModel>,
    pub entries: Vec<entry::ActiveModel>,
    pub progress: Vec<class_progress::ActiveModel>,
    pub attendance: Vec<attendance_record::ActiveModel>,
    pub marks: Vec<attendance_mark::ActiveModel>,
    pub results: Vec<exam_result::ActiveModel>,
    pub confirmations: Vec<confirmation::ActiveModel>,
    pub cert_classes: Vec<cert_class::ActiveModel>,
    pub certificates: Vec<cert::ActiveModel>,
    pub inspections: Vec<inspection::ActiveModel>,
    pub inbox: Vec<inbox_message::ActiveModel>,
}

/// The keys and rules the rows are made with.
pub(super) struct Env<'a> {
    pub data: &'a DataKeys,
    pub lookup: &'a RosterKey,
    pub policy: &'a Policy,
    pub groups: &'a [String],
    pub district_code: &'a str,
    pub today: NaiveDate,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// The package's two-to-three sessions: one a day from the start, 3 hours each.
pub(super) fn sessions(f: &Fil) -> Vec<Session> {
    let t = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
    TOPICS
        .iter()
        .enumerate()
        .map(|(d, topic)| Session {
            date: f.start + Duration::days(d as i64),
            start_time: t(f.session_hour),
            end_time: t(f.session_hour + 3),
            topic: (*topic).into(),
            teacher_id: f.teacher_id,
            hours: Decimal::from(3),
        })
        .collect()
}

fn session_label(s: &Session) -> String {
    let period = match s.start_time.format("%H").to_string().as_str() {
        "09" => "上午",
        "14" => "下午",
        _ => "晚上",
    };
    format!(
        "{period} {}-{} {}",
        s.start_time.format("%H:%M"),
        s.end_time.format("%H:%M"),
        s.topic
    )
}

/// A roster of `n` good rows for a class starting `start`, through the import's own checks.
fn roster(
    rng: &mut Rng,
    n: usize,
    start: NaiveDate,
    region: &str,
    env: &Env<'_>,
) -> crate::Result<Vec<peixun_domain::roster::ValidTrainee>> {
    let mut rows = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::with_capacity(n);
    while rows.len() < n {
        let birth = names::birth_for_age(rng, start, 18, 55);
        // Most trainees are local; some come from elsewhere in the country.
        let own_region = if rng.chance(850) {
            region
        } else {
            *rng.pick(&[
                "440105", "440305", "450102", "430102", "360102", "510104", "420102",
            ])
        };
        let id = names::citizen_id(rng, own_region, birth);
        if !seen.insert(id.clone()) {
            continue;
        }
        let residence = if own_region.starts_with("44") {
            "广东省内"
        } else {
            "广东省外"
        };
        let groups = if !env.groups.is_empty() && rng.chance(150) {
            env.groups[rng.below(env.groups.len())].clone()
        } else {
            String::new()
        };
        rows.push(RawRow {
            row_number: rows.len() as u32 + 2,
            cells: vec![
                names::person_name(rng),
                peixun_domain::ids::IdKind::CitizenId.label_zh().to_string(),
                id,
                names::mobile(rng),
                residence.to_string(),
                groups,
            ],
        });
    }
    let ctx = RosterContext {
        start_date: start,
        policy: env.policy,
        known_groups: env.groups,
        min_age: env.policy.min_trainee_age,
    };
    validate_roster(&rows, &ctx)
        .map(|v| v.trainees)
        .map_err(|p| {
            crate::StoreError::validation(
                "ROSTER_INVALID",
                format!("seed: generated roster refused: {:?}", p.first()),
                "roster",
            )
        })
}

/// The rows of `fils` (one round's batch). Ids come from `ids`.
#[allow(clippy::too_many_arguments)]
pub(super) fn build(
    round: &RoundCtx,
    fils: &[Fil],
    insts: &[Inst],
    env: &Env<'_>,
    ids: &mut Ids,
    cert_seq: &std::collections::HashMap<i64, (i32, u32)>,
    inspect: &std::collections::HashMap<i64, InspectionPlan>,
    rng: &mut Rng,
) -> crate::Result<Batch> {
    let mut b = Batch::default();
    for f in fils {
        let inst = &insts[f.inst];
        let state_json = serde_json::to_string(&f.state).unwrap_or_default();
        let decided = f.decided_at.is_some();
        b.filings.push(filing::ActiveModel {
            id: Set(f.id),
            round_id: Set(round.id),
            agreement_id: Set(f.agreement_id),
            institution_id: Set(inst.id),
            occupation: Set(inst.quals[f.qual].0.clone()),
            level: Set(inst.quals[f.qual].1.clone()),
            start_date: Set(f.start),
            state: Set(state_json),
            status: Set(f.state.code().to_string()),
            slot_state: Set(f.slot_state().code().to_string()),
            queue_seq: Set(f.queue_seq),
            submitted_at: Set(f.submit_at),
            granted_at: Set(f.granted_at),
            decided_at: Set(f.decided_at),
            decided_by: Set(decided.then(|| ACTOR.to_string())),
            decision_reason: Set(f.decision_reason.clone()),
            created_by: Set(None),
            created_by_name: Set(ACTOR.to_string()),
            created_at: Set(f.submit_at),
            updated_at: Set(f.updated_at),
            policy_version: Set(env.policy.version.clone()),
        });
        let drafted = f.submit_at - Duration::days(2);
        b.packages.push(package::ActiveModel {
            id: Set(f.package_id),
            institution_id: Set(inst.id),
            agreement_id: Set(f.agreement_id),
            filing_id: Set(Some(f.id)),
            occupation: Set(inst.quals[f.qual].0.clone()),
            level: Set(inst.quals[f.qual].1.clone()),
            hours: Set(Decimal::from(3 * SESSIONS as i64).to_string()),
            start_date: Set(Some(f.start)),
            planned_end: Set(Some(f.start + Duration::days(CLASS_DAYS))),
            location: Set(serde_json::to_string(&Location::RegisteredAddress).unwrap_or_default()),
            mode: Set("offline".into()),
            teachers: Set(serde_json::to_string(&vec![f.teacher_id]).unwrap_or_default()),
            sessions: Set(serde_json::to_string(&sessions(f)).unwrap_or_default()),
            exam_content: Set(EXAM_CONTENT.into()),
            question_bank_file_id: Set(Some(inst.question_bank.clone())),
            documents: Set(serde_json::to_string(&inst.documents).unwrap_or_default()),
            created_by: Set(None),
            created_at: Set(drafted),
            updated_at: Set(f.submit_at),
        });
        // The roster, as imported the day before submission.
        let mut rr = rng.fork(f.id as u64);
        let trainees = roster(&mut rr, f.trainees, f.start, inst.district.code, env)?;
        let mut entry_ids = Vec::with_capacity(trainees.len());
        let mut names_of = Vec::with_capacity(trainees.len());
        for t in &trainees {
            ids.entry += 1;
            entry_ids.push(ids.entry);
            names_of.push(t.name.clone());
            b.entries.push(entry::ActiveModel {
                id: Set(ids.entry),
                package_id: Set(f.package_id),
                pending: Set(false),
                row_number: Set(t.row_number as i32),
                name: Set(t.name.clone()),
                id_kind: Set(t.id.kind().label_zh().to_string()),
                id_number: Set(env
                    .data
                    .encrypt_field(Field::TraineeIdNumber, t.id.as_str())),
                id_masked: Set(mask_id(t.id.as_str())),
                person_key: Set(env.lookup.person_key(t.id.as_str())),
                phone: Set(t.phone.clone()),
                residence: Set(t.residence.label_zh().to_string()),
                groups: Set(serde_json::to_string(&t.groups).unwrap_or("[]".into())),
                age: Set(t.age.map(|a| a as i32)),
                over_retirement: Set(t.over_retirement_age),
            });
        }
        let Some(started_on) = f.started_on else {
            continue;
        };
        b.progress.push(class_progress::ActiveModel {
            filing_id: Set(f.id),
            institution_id: Set(inst.id),
            started_on: Set(Some(started_on)),
            training_completed_on: Set(f.training_completed_on),
            exam_completed_on: Set(f.exam_completed_on),
            overdue_on: Set(f.overdue_on),
            overdue_year: Set(f.overdue_on.map(|_| {
                use chrono::Datelike;
                (f.start + Duration::days(i64::from(env.policy.class_window_days))).year()
            })),
            updated_at: Set(f.progress_at.unwrap_or(f.updated_at)),
            policy_version: Set(f.overdue_on.map(|_| env.policy.version.clone())),
        });
        if let Some(day) = f.overdue_on {
            let last_day = f.start + Duration::days(i64::from(env.policy.class_window_days));
            ids.inbox += 1;
            b.inbox.push(inbox_message::ActiveModel {
                id: Set(ids.inbox),
                institution_id: Set(inst.id),
                title: Set("班次超期未完成".into()),
                body: Set(format!(
                    "班次#{}（{}{}，开班{}）未在最迟完成日期{}前完成培训及考试，已超期，不享受该班次相关补贴（R-OVD-1）。本机构{}年超期班次累计{}个；同年超过{}个将取消当年的所有培训资格。",
                    f.id,
                    inst.quals[f.qual].0,
                    inst.quals[f.qual].1,
                    f.start,
                    last_day,
                    {
                        use chrono::Datelike;
                        last_day.year()
                    },
                    1,
                    env.policy.overdue_limit_per_year
                )),
                created_at: Set(at(day, 1, 0)),
                read_at: Set(None),
            });
        }
        // Attendance of every session held so far (R-RUN-2): every trainee marked.
        for s in sessions(f) {
            let recorded = at(
                s.date,
                s.end_time.format("%H").to_string().parse().unwrap_or(12),
                15,
            );
            if s.date > env.today || recorded > env.now {
                continue;
            }
            if f.training_completed_on.is_some_and(|d| s.date > d) {
                continue;
            }
            ids.attendance += 1;
            let mut present = 0;
            for &e in &entry_ids {
                let p = rr.chance(965);
                present += i32::from(p);
                ids.mark += 1;
                b.marks.push(attendance_mark::ActiveModel {
                    id: Set(ids.mark),
                    attendance_id: Set(ids.attendance),
                    roster_entry_id: Set(e),
                    present: Set(p),
                });
            }
            b.attendance.push(attendance_record::ActiveModel {
                id: Set(ids.attendance),
                filing_id: Set(f.id),
                institution_id: Set(inst.id),
                session_date: Set(s.date),
                session_label: Set(session_label(&s)),
                marks: Set("[]".into()),
                present_count: Set(present),
                absent_count: Set(entry_ids.len() as i32 - present),
                sign_in_file_id: Set(None),
                recorded_by: Set(ACTOR.into()),
                recorded_by_user_id: Set(None),
                recorded_at: Set(recorded),
            });
        }
        // An inspection during training (R-RUN-4).
        if let Some(plan) = inspect.get(&f.id) {
            inspection_rows(f, inst, plan, env, ids, &mut rr, &mut b);
        }
        // Exam results (R-CRT-1), then the confirmation and the codes.
        let (Some(results_at), Some(exam_day)) = (f.results_at, f.exam_completed_on) else {
            continue;
        };
        let mut outcomes = Vec::with_capacity(entry_ids.len());
        for &e in &entry_ids {
            let roll = rr.below(1000);
            let (outcome, score) = if roll < 930 {
                (ExamOutcome::Pass, Some(60 + rr.below(41)))
            } else if roll < 980 {
                (ExamOutcome::Fail, Some(25 + rr.below(35)))
            } else {
                (ExamOutcome::Absent, None)
            };
            outcomes.push(Some(outcome));
            ids.result += 1;
            b.results.push(exam_result::ActiveModel {
                id: Set(ids.result),
                filing_id: Set(f.id),
                roster_entry_id: Set(e),
                result: Set(outcome.code().to_string()),
                score: Set(score.map(|s| s.to_string())),
                exam_date: Set(exam_day),
                updated_by: Set(ACTOR.into()),
                updated_at: Set(results_at),
            });
        }
        let (Some(confirmed), Some(&(year, class_seq))) = (f.confirm_at, cert_seq.get(&f.id))
        else {
            continue;
        };
        b.confirmations.push(confirmation::ActiveModel {
            filing_id: Set(f.id),
            confirmed_by: Set(ACTOR.into()),
            confirmed_at: Set(confirmed),
            codes_withheld: Set(false),
        });
        let seqs = trainee_sequence(&outcomes);
        if seqs.iter().flatten().count() == 0 {
            continue;
        }
        b.cert_classes.push(cert_class::ActiveModel {
            filing_id: Set(f.id),
            year: Set(year),
            class_seq: Set(class_seq as i32),
            issued_at: Set(confirmed),
        });
        let issued_on = super::day_of(confirmed);
        for ((e, name), s) in entry_ids.iter().zip(&names_of).zip(&seqs) {
            let Some(s) = s else { continue };
            let code =
                CertificateCode::new(env.district_code, year, class_seq, *s).map_err(|e| {
                    crate::StoreError::validation(
                        "CERT_CODE",
                        format!("证书编码无法生成：{e}"),
                        "class",
                    )
                })?;
            ids.cert += 1;
            b.certificates.push(cert::ActiveModel {
                id: Set(ids.cert),
                code: Set(code.to_string()),
                filing_id: Set(f.id),
                roster_entry_id: Set(*e),
                trainee_seq: Set(*s as i32),
                holder_name: Set(name.clone()),
                occupation: Set(inst.quals[f.qual].0.clone()),
                level: Set(inst.quals[f.qual].1.clone()),
                institution_id: Set(inst.id),
                institution_name: Set(inst.name.clone()),
                issued_on: Set(issued_on),
                issued_at: Set(confirmed),
                status: Set(STATUS_VALID.to_string()),
                revoked_reason: Set(None),
                revoked_by: Set(None),
                revoked_at: Set(None),
            });
        }
    }
    Ok(b)
}

/// An inspection decided in advance (the evaluation counts its findings, R-EVA-1).
#[derive(Debug, Clone, Copy)]
pub(super) struct InspectionPlan {
    pub kind: crate::inspections::InspectionKind,
    pub fix: bool,
    pub serious: bool,
    /// The rectification is still open (institution A's work list).
    pub keep_open: bool,
}

impl InspectionPlan {
    pub fn severity(&self) -> Option<&'static str> {
        use crate::inspections::FindingSeverity;
        self.fix.then(|| {
            if self.serious {
                FindingSeverity::Serious.code()
            } else {
                FindingSeverity::General.code()
            }
        })
    }
}

/// One inspection on the class's second day (R-RUN-4); a rectification is closed once its due
/// date has passed (reported two days before, closed on the day), unless kept open.
fn inspection_rows(
    f: &Fil,
    inst: &Inst,
    plan: &InspectionPlan,
    env: &Env<'_>,
    ids: &mut Ids,
    rng: &mut Rng,
    b: &mut Batch,
) {
    let on = f.start + Duration::days(1);
    if on > env.today || !f.state.is_approved() {
        return;
    }
    let kind = plan.kind;
    let fix = plan.fix;
    let findings = if fix {
        rng.pick(FINDINGS_FIX)
    } else {
        rng.pick(FINDINGS_OK)
    }
    .to_string();
    let created = at(on, 16, rng.below(50) as u32);
    let due = fix.then(|| on + Duration::days(10));
    let closed = due.filter(|d| *d + Duration::days(1) < env.today && !plan.keep_open);
    let severity = plan.severity();
    ids.inspection += 1;
    b.inspections.push(inspection::ActiveModel {
        id: Set(ids.inspection),
        filing_id: Set(f.id),
        institution_id: Set(inst.id),
        inspected_on: Set(on),
        kind: Set(kind.code().to_string()),
        findings: Set(findings.clone()),
        photos: Set("[]".into()),
        rectification_required: Set(fix),
        rectification_due: Set(due),
        rectification_note: Set(closed.map(|_| "已按要求完成整改，补充材料已上传".to_string())),
        rectified_at: Set(closed.map(|d| at(d - Duration::days(2), 11, 0))),
        status: Set(match (fix, closed) {
            (false, _) => "no_action",
            (true, Some(_)) => "closed",
            (true, None) => "rectifying",
        }
        .to_string()),
        closure_note: Set(closed.map(|_| "复核通过，整改到位".to_string())),
        closed_by: Set(closed.map(|_| ACTOR.to_string())),
        closed_at: Set(closed.map(|d| at(d, 15, 0))),
        recorded_by: Set(ACTOR.into()),
        recorded_by_user_id: Set(None),
        created_at: Set(created),
        finding_severity: Set(severity.map(str::to_string)),
    });
    if let Some(due) = due {
        ids.inbox += 1;
        b.inbox.push(inbox_message::ActiveModel {
            id: Set(ids.inbox),
            institution_id: Set(inst.id),
            title: Set("检查抽查要求整改".into()),
            body: Set(format!(
                "区培训中心于{}对班次#{}进行了{}，发现：{}。请于{}前完成整改并在系统中报告整改情况。",
                on,
                f.id,
                kind.label_zh(),
                findings,
                due
            )),
            created_at: Set(created),
            read_at: Set(None),
        });
    }
}
