//! One round's filings, simulated in memory as the services would have handled them: each
//! filing's dates keep R-FIL-3/R-FIL-4, the quota queue runs [`peixun_domain::queue::allocate`]
//! after every submission and release exactly like `filings::submit_in_txn` / `act_in_txn`
//! (lowest free slot number, R-FIL-6), and every state change is
//! [`peixun_domain::workflow::class::apply`] with the context the service would have built on
//! that day. Nothing here touches the database; [`super::rows`] turns the result into rows.

use super::names::Rng;
use super::{Agr, Inst, RoundCtx, at};
use crate::filings::SlotState;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use peixun_domain::calendar::last_allowed_day;
use peixun_domain::policy::Policy;
use peixun_domain::queue::{Capacity, Waiting, allocate};
use peixun_domain::workflow::Actor as WfActor;
use peixun_domain::workflow::agreement::AgreementState;
use peixun_domain::workflow::class::{
    ClassAction, ClassContext, ClassState, CorrectionItem, apply, holds_slot,
};
use peixun_domain::workflow::round::RoundState;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

/// The name every seeded action is recorded under (like `demo-seed` for the demo).
pub(super) const ACTOR: &str = "scale-seed";

/// What the centre (or the institution) does with a filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    Approve,
    /// Returned for correction, resubmitted, approved.
    ReturnThenApprove,
    Reject,
    Withdraw,
}

/// A filing as planned, then as simulated.
#[derive(Debug, Clone)]
pub(super) struct Fil {
    pub id: i64,
    pub package_id: i64,
    pub agreement_id: i64,
    pub inst: usize,
    pub qual: usize,
    pub teacher_id: i64,
    pub session_hour: u32,
    pub start: NaiveDate,
    pub submit_at: DateTime<Utc>,
    pub fate: Fate,
    pub trainees: usize,
    /// Completes after its last day (R-OVD-1).
    pub overdue: bool,
    /// The institution enters no exam results yet (a work item).
    pub no_results: bool,
    /// Days after the start the training is complete / the exam held.
    pub train_days: i64,
    pub exam_days: i64,
    pub review_delay_h: i64,
    pub resubmit_delay_h: i64,
    // --- simulated ---
    pub queue_seq: i64,
    pub state: ClassState,
    pub slot_no: Option<i32>,
    pub granted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub started_on: Option<NaiveDate>,
    pub training_completed_on: Option<NaiveDate>,
    pub exam_completed_on: Option<NaiveDate>,
    pub overdue_on: Option<NaiveDate>,
    pub progress_at: Option<DateTime<Utc>>,
    pub results_at: Option<DateTime<Utc>>,
    pub confirm_at: Option<DateTime<Utc>>,
}

impl Fil {
    pub fn planned_end(&self) -> NaiveDate {
        self.start + Duration::days(super::CLASS_DAYS)
    }
    pub fn slot_state(&self) -> SlotState {
        if holds_slot(&self.state) {
            SlotState::Holding
        } else if matches!(
            self.state,
            ClassState::Submitted {
                slot: peixun_domain::workflow::class::Slot::Waiting,
                ..
            } | ClassState::Returned {
                slot: peixun_domain::workflow::class::Slot::Waiting,
                ..
            }
        ) {
            SlotState::Waiting
        } else if self.state == ClassState::NotGranted {
            SlotState::NotGranted
        } else {
            SlotState::Released
        }
    }
}

/// A queued event: (when, order of scheduling, what, which filing); earliest first.
type Event = Reverse<(DateTime<Utc>, u64, Ev, usize)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Submit,
    Withdraw,
    Review,
    Resubmit,
}

pub(super) const RETURN_ITEMS: &[(&str, &str)] = &[
    ("roster", "花名册中部分学员联系电话缺失，请补充"),
    (
        "documents.training_plan",
        "培训计划与课程表课时不一致，请核对",
    ),
    ("sessions", "课程表授课内容过于简略，请细化到每节课"),
    (
        "documents.subsidy_standard",
        "培训补贴标准未注明依据文件，请补充",
    ),
];

pub(super) const REJECT_REASONS: &[&str] = &[
    "培训计划与课程表课时不一致，且逾期未按要求修改",
    "申报职业不在本机构核准的培训资质范围内",
    "授课师资资质证明材料不符合要求",
];

/// The service's audit/decision summary of correction items (`filings::return_filing`).
pub(super) fn items_summary(items: &[CorrectionItem]) -> String {
    items
        .iter()
        .map(|i| format!("{}：{}", i.field.trim(), i.message.trim()))
        .collect::<Vec<_>>()
        .join("；")
}

fn person(inst_id: i64) -> WfActor {
    WfActor::User {
        role: peixun_domain::role::Role::InstitutionStaff,
        user_id: 0,
        institution_id: Some(inst_id),
    }
}

fn centre() -> WfActor {
    WfActor::User {
        role: peixun_domain::role::Role::CentreStaff,
        user_id: 0,
        institution_id: None,
    }
}

/// The context `filings` builds for a filing on `day` (agreement in force, package checked).
fn ctx<'a>(
    inst_id: i64,
    start: NaiveDate,
    day: NaiveDate,
    round: RoundState,
    policy: &'a Policy,
) -> ClassContext<'a> {
    ClassContext {
        institution_id: inst_id,
        submitted_by: None,
        agreement: AgreementState::Signed,
        round,
        package_ok: true,
        start,
        today: day,
        under_violation: false,
        policy,
    }
}

fn step(
    f: &mut Fil,
    action: &ClassAction,
    actor: &WfActor,
    inst_id: i64,
    round: RoundState,
    t: DateTime<Utc>,
    policy: &Policy,
) -> crate::Result<()> {
    let day = super::day_of(t);
    let next = apply(
        &f.state,
        action,
        actor,
        &ctx(inst_id, f.start, day, round, policy),
    )
    .map_err(|e| {
        crate::StoreError::Db(sea_orm::DbErr::Custom(format!(
            "seed: filing #{} {:?} → {:?} refused on {day}: {e}",
            f.id, f.state, action
        )))
    })?;
    f.state = next;
    f.updated_at = t;
    Ok(())
}

/// The quota queue of one round (what `quota_slots` and `filings.slot_state` hold).
struct Queue {
    quota: u32,
    cap: HashMap<usize, u32>,
    held: HashMap<usize, u32>,
    used: BTreeSet<i32>,
    /// No slot number below this is free (the lowest free one is found from here).
    free_from: i32,
    waiting: Vec<usize>,
}

impl Queue {
    fn held_total(&self) -> u32 {
        self.held.values().sum()
    }

    /// `filings::allocate_round_slots`: grants in queue order, lowest free slot number.
    fn allocate(
        &mut self,
        fils: &mut [Fil],
        insts: &[Inst],
        t: DateTime<Utc>,
        policy: &Policy,
    ) -> crate::Result<Vec<usize>> {
        let held = self.held_total();
        if held >= self.quota || self.waiting.is_empty() {
            return Ok(Vec::new());
        }
        let waiting: Vec<Waiting<usize, usize>> = self
            .waiting
            .iter()
            .map(|&i| Waiting {
                filing: i,
                institution: fils[i].inst,
            })
            .collect();
        let mut capacity = Capacity {
            round_left: self.quota - held,
            cap_left: self
                .cap
                .iter()
                .map(|(k, c)| (*k, c.saturating_sub(self.held.get(k).copied().unwrap_or(0))))
                .collect(),
        };
        let granted = allocate(&mut capacity, &waiting);
        for &g in &granted {
            let slot = (self.free_from..=self.quota as i32)
                .find(|n| !self.used.contains(n))
                .ok_or_else(|| {
                    crate::StoreError::Db(sea_orm::DbErr::Custom("seed: no free slot".into()))
                })?;
            self.used.insert(slot);
            self.free_from = slot + 1;
            *self.held.entry(fils[g].inst).or_default() += 1;
            let inst_id = insts[fils[g].inst].id;
            step(
                &mut fils[g],
                &ClassAction::GrantSlot,
                &WfActor::System,
                inst_id,
                RoundState::Published,
                t,
                policy,
            )?;
            fils[g].slot_no = Some(slot);
            fils[g].granted_at = Some(t);
        }
        self.waiting.retain(|i| !granted.contains(i));
        Ok(granted)
    }

    fn release(&mut self, f: &mut Fil) {
        if let Some(n) = f.slot_no.take() {
            self.used.remove(&n);
            self.free_from = self.free_from.min(n);
            if let Some(h) = self.held.get_mut(&f.inst) {
                *h = h.saturating_sub(1);
            }
        }
    }
}

/// Run the round's queue and reviews up to `until` (now, or the round's close), then the
/// classes' progress up to now. `fils` must be sorted by submission time; their `queue_seq`
/// is set here.
#[allow(clippy::too_many_arguments)]
pub(super) fn simulate(
    round: &RoundCtx,
    agreements: &[Agr],
    fils: &mut [Fil],
    insts: &[Inst],
    policy: &Policy,
    now: DateTime<Utc>,
    rng: &mut Rng,
) -> crate::Result<()> {
    let until = round.close_at.map_or(now, |c| c.min(now));
    let mut q = Queue {
        quota: round.planned,
        cap: agreements.iter().map(|a| (a.inst, a.cap)).collect(),
        held: HashMap::new(),
        used: BTreeSet::new(),
        free_from: 1,
        waiting: Vec::new(),
    };
    // Events: (time, order, kind, filing).
    let mut heap: BinaryHeap<Event> = BinaryHeap::new();
    let mut order = 0u64;
    let mut push = |heap: &mut BinaryHeap<_>, t: DateTime<Utc>, ev: Ev, i: usize| {
        order += 1;
        heap.push(Reverse((t, order, ev, i)));
    };
    for (i, f) in fils.iter_mut().enumerate() {
        f.queue_seq = i as i64 + 1;
        f.state = ClassState::Draft;
        push(&mut heap, f.submit_at, Ev::Submit, i);
        if f.fate == Fate::Withdraw {
            push(
                &mut heap,
                f.submit_at + Duration::hours(3 + (f.review_delay_h % 5)),
                Ev::Withdraw,
                i,
            );
        }
    }
    let mut withdrawn_by_choice: Vec<bool> = vec![false; fils.len()];
    while let Some(Reverse((t, _, ev, i))) = heap.pop() {
        if t > until {
            break;
        }
        let inst_id = insts[fils[i].inst].id;
        match ev {
            Ev::Submit => {
                step(
                    &mut fils[i],
                    &ClassAction::Submit,
                    &person(inst_id),
                    inst_id,
                    RoundState::Published,
                    t,
                    policy,
                )?;
                q.waiting.push(i);
                for g in q.allocate(fils, insts, t, policy)? {
                    let rt = t + Duration::hours(fils[g].review_delay_h);
                    push(&mut heap, rt, Ev::Review, g);
                }
            }
            Ev::Withdraw => {
                if fils[i].state.is_final() || fils[i].state.is_approved() {
                    continue;
                }
                let was = holds_slot(&fils[i].state);
                step(
                    &mut fils[i],
                    &ClassAction::Withdraw,
                    &person(inst_id),
                    inst_id,
                    RoundState::Published,
                    t,
                    policy,
                )?;
                withdrawn_by_choice[i] = true;
                q.waiting.retain(|&w| w != i);
                if was {
                    q.release(&mut fils[i]);
                    for g in q.allocate(fils, insts, t, policy)? {
                        let rt = t + Duration::hours(fils[g].review_delay_h);
                        push(&mut heap, rt, Ev::Review, g);
                    }
                }
            }
            Ev::Review => {
                if !matches!(fils[i].state, ClassState::Submitted { .. })
                    || !holds_slot(&fils[i].state)
                {
                    continue;
                }
                let resubmitted = matches!(fils[i].state, ClassState::Submitted { resubmissions, .. } if resubmissions > 0);
                let fate = if resubmitted {
                    Fate::Approve
                } else {
                    fils[i].fate
                };
                // A slot granted too late to prepare the class: the institution withdraws.
                if matches!(fate, Fate::Approve | Fate::ReturnThenApprove)
                    && (fils[i].start - super::day_of(t)).num_days() < 2
                {
                    push(&mut heap, t + Duration::hours(2), Ev::Withdraw, i);
                    fils[i].fate = Fate::Withdraw;
                    continue;
                }
                match fate {
                    Fate::Approve => {
                        step(
                            &mut fils[i],
                            &ClassAction::Approve,
                            &centre(),
                            inst_id,
                            RoundState::Published,
                            t,
                            policy,
                        )?;
                        fils[i].decided_at = Some(t);
                    }
                    Fate::ReturnThenApprove => {
                        let (field, message) = *rng.pick(RETURN_ITEMS);
                        let items = vec![CorrectionItem {
                            field: field.into(),
                            message: message.into(),
                        }];
                        fils[i].decision_reason = Some(items_summary(&items));
                        step(
                            &mut fils[i],
                            &ClassAction::ReturnForCorrection { items },
                            &centre(),
                            inst_id,
                            RoundState::Published,
                            t,
                            policy,
                        )?;
                        fils[i].decided_at = Some(t);
                        let rt = t + Duration::hours(fils[i].resubmit_delay_h);
                        push(&mut heap, rt, Ev::Resubmit, i);
                    }
                    Fate::Reject => {
                        let reason = rng.pick(REJECT_REASONS).to_string();
                        step(
                            &mut fils[i],
                            &ClassAction::Reject {
                                reason: reason.clone(),
                            },
                            &centre(),
                            inst_id,
                            RoundState::Published,
                            t,
                            policy,
                        )?;
                        fils[i].decided_at = Some(t);
                        fils[i].decision_reason = Some(reason);
                        q.release(&mut fils[i]);
                        for g in q.allocate(fils, insts, t, policy)? {
                            let rt = t + Duration::hours(fils[g].review_delay_h);
                            push(&mut heap, rt, Ev::Review, g);
                        }
                    }
                    Fate::Withdraw => {}
                }
            }
            Ev::Resubmit => {
                if !matches!(fils[i].state, ClassState::Returned { .. }) {
                    continue;
                }
                step(
                    &mut fils[i],
                    &ClassAction::Resubmit,
                    &person(inst_id),
                    inst_id,
                    RoundState::Published,
                    t,
                    policy,
                )?;
                let rt = t + Duration::hours(fils[i].review_delay_h.max(20));
                push(&mut heap, rt, Ev::Review, i);
            }
        }
    }
    // The classes' lives after approval, up to now (the round's close does not stop them).
    let today = super::day_of(now);
    for f in fils.iter_mut() {
        if f.state != ClassState::Approved {
            continue;
        }
        progress(f, insts, round, policy, now, today, rng)?;
    }
    Ok(())
}

/// Start, (overdue,) complete training and exam, results, certificates: each step on its day
/// if that day has come, through the workflow.
#[allow(clippy::too_many_arguments)]
fn progress(
    f: &mut Fil,
    insts: &[Inst],
    round: &RoundCtx,
    policy: &Policy,
    now: DateTime<Utc>,
    today: NaiveDate,
    rng: &mut Rng,
) -> crate::Result<()> {
    let inst_id = insts[f.inst].id;
    let round_state = |t: DateTime<Utc>| match round.close_at {
        Some(c) if t >= c => RoundState::Closed,
        _ => RoundState::Published,
    };
    let started = at(f.start, 8, 30 + (f.queue_seq % 25) as u32);
    if started > now {
        return Ok(());
    }
    step(
        f,
        &ClassAction::StartTraining,
        &person(inst_id),
        inst_id,
        round_state(started),
        started,
        policy,
    )?;
    f.started_on = Some(f.start);
    f.progress_at = Some(started);
    let last_day = last_allowed_day(f.start, policy)
        .map_err(|e| crate::StoreError::validation("CALENDAR", e.to_string(), "start_date"))?;
    let (train_on, exam_on) = if f.overdue {
        (last_day + Duration::days(2), last_day + Duration::days(3))
    } else {
        (
            f.start + Duration::days(f.train_days),
            f.start + Duration::days(f.exam_days),
        )
    };
    if f.overdue {
        // The daily sweep marks it the day after its last day (R-OVD-1).
        let swept = at(last_day + Duration::days(1), 1, 0);
        if swept > now {
            return Ok(());
        }
        step(
            f,
            &ClassAction::MarkOverdue,
            &WfActor::System,
            inst_id,
            round_state(swept),
            swept,
            policy,
        )?;
        f.overdue_on = Some(last_day + Duration::days(1));
        f.progress_at = Some(swept);
    }
    let t = at(train_on, 17, 10);
    if t > now {
        return Ok(());
    }
    step(
        f,
        &ClassAction::CompleteTraining { on: train_on },
        &person(inst_id),
        inst_id,
        round_state(t),
        t,
        policy,
    )?;
    f.training_completed_on = Some(train_on);
    f.progress_at = Some(t);
    let t = at(exam_on, 17, 40);
    if t > now {
        return Ok(());
    }
    step(
        f,
        &ClassAction::CompleteExam { on: exam_on },
        &person(inst_id),
        inst_id,
        round_state(t),
        t,
        policy,
    )?;
    f.exam_completed_on = Some(exam_on);
    f.progress_at = Some(t);
    if f.no_results {
        return Ok(());
    }
    let t = at(exam_on + Duration::days(1), 10, rng.below(50) as u32);
    if t > now {
        return Ok(());
    }
    f.results_at = Some(t);
    let t = at(
        exam_on + Duration::days(3 + rng.below(4) as i64),
        15,
        rng.below(50) as u32,
    );
    if t <= now && super::day_of(t) <= today {
        f.confirm_at = Some(t);
    }
    Ok(())
}

/// The certificate step (R-CRT-1), once the class has its sequence number: the workflow's
/// `IssueCertificates` on the confirmation day.
pub(super) fn issue_certificates(
    f: &mut Fil,
    inst_id: i64,
    round: &RoundCtx,
    policy: &Policy,
) -> crate::Result<()> {
    let Some(t) = f.confirm_at else {
        return Ok(());
    };
    let rs = match round.close_at {
        Some(c) if t >= c => RoundState::Closed,
        _ => RoundState::Published,
    };
    step(
        f,
        &ClassAction::IssueCertificates,
        &centre(),
        inst_id,
        rs,
        t,
        policy,
    )
}
