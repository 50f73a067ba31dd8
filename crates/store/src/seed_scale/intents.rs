//! Which filings each institution submits in a round, when, for which class: starts that keep
//! R-FIL-3 against the submission day, classes inside the loaded holiday tables, a teacher free
//! at the sessions' hours. In the open round institution A files a fixed set of classes around
//! today, so that its home page, the review queue and the tests find every state.

use super::classes::{Fate, Fil};
use super::names::Rng;
use super::plan::{self, book_teacher, class_size, fate, office_time};
use super::{Agr, CLASS_DAYS, Ids, Inst, RoundCtx, at, day_of};
use crate::entity::{teacher, teacher_qualification};
use crate::pii::{DataKeys, RosterKey};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use peixun_domain::calendar::{Calendar, last_allowed_day};
use peixun_domain::policy::Policy;

/// What the planner needs besides the round.
pub(super) struct Env<'a> {
    pub calendar: &'a Calendar,
    pub policy: &'a Policy,
    pub data: &'a DataKeys,
    pub lookup: &'a RosterKey,
    pub now: DateTime<Utc>,
}

/// One of institution A's scripted classes in the open round, relative to today.
struct Scripted {
    start: i64,
    /// Submitted this many days before today (else the day before its deadline).
    submitted: Option<(i64, u32)>,
    fate: Fate,
    trainees: usize,
    review_h: i64,
    resubmit_h: i64,
    train_days: i64,
    no_results: bool,
}

const fn s(start: i64, fate: Fate) -> Scripted {
    Scripted {
        start,
        submitted: None,
        fate,
        trainees: 24,
        review_h: 24,
        resubmit_h: 48,
        train_days: 8,
        no_results: false,
    }
}

/// A's classes: completed with codes, completed awaiting results, training complete, the
/// 120-trainee class in training, approved, under review, returned, withdrawn, rejected, and
/// one more than its cap (waiting).
fn script() -> Vec<Scripted> {
    vec![
        s(-30, Fate::Approve),
        Scripted {
            no_results: true,
            ..s(-13, Fate::Approve)
        },
        Scripted {
            train_days: 7,
            ..s(-8, Fate::Approve)
        },
        Scripted {
            trainees: 120,
            ..s(-2, Fate::Approve)
        },
        s(6, Fate::Approve),
        Scripted {
            submitted: Some((1, 10)),
            review_h: 96,
            ..s(15, Fate::Approve)
        },
        Scripted {
            submitted: Some((6, 9)),
            review_h: 40,
            resubmit_h: 24 * 30,
            ..s(14, Fate::ReturnThenApprove)
        },
        Scripted {
            submitted: Some((5, 11)),
            ..s(20, Fate::Withdraw)
        },
        Scripted {
            submitted: Some((7, 14)),
            review_h: 30,
            ..s(18, Fate::Reject)
        },
        Scripted {
            submitted: Some((1, 16)),
            ..s(16, Fate::Approve)
        },
    ]
}

/// The cap the centre gives A in the open round: exactly the scripted classes that hold a slot.
pub(super) const A_OPEN_CAP: u32 = 7;

/// The round's filings, sorted by submission (ids in that order), teachers booked.
#[allow(clippy::too_many_arguments)]
pub(super) fn plan_round(
    round: &RoundCtx,
    agreements: &[Agr],
    insts: &mut [Inst],
    target: f64,
    extra_for_a: bool,
    ids: &mut Ids,
    env: &Env<'_>,
    rng: &mut Rng,
    teachers: &mut (
        Vec<teacher::ActiveModel>,
        Vec<teacher_qualification::ActiveModel>,
    ),
) -> Vec<Fil> {
    let today = day_of(env.now);
    let from = day_of(round.sign_at) + Duration::days(1);
    let to = if round.open {
        today
    } else {
        round.window_end.min(today)
    };
    let starts = plan::starts(env.calendar, env.policy, from, to);
    if starts.is_empty() {
        return Vec::new();
    }
    let total_cap: u32 = agreements.iter().map(|a| a.cap).sum();
    let f = (target / f64::from(total_cap.max(1))).min(1.0);
    let mut out = Vec::new();
    for a in agreements {
        if round.open && a.inst == 0 {
            scripted(a, insts, ids, env, rng, teachers, from, &mut out);
            continue;
        }
        let mut n = ((f64::from(a.cap) * f) + rng.below(100) as f64 / 100.0).floor() as u32;
        n = n.clamp(1, a.cap);
        // Some institutions file more than their cap: the last wait (and, at the close, are
        // not granted).
        if rng.chance(60) || (extra_for_a && a.inst == 0) {
            n += 1;
        }
        for _ in 0..n {
            let (start, deadline) = *rng.pick(&starts);
            let room = (deadline - from).num_days().clamp(0, 20);
            let submit_on = deadline - Duration::days(rng.range(0, room));
            let submit_at = office_time(rng, submit_on, env.now);
            let inst = &mut insts[a.inst];
            let qual = rng.below(inst.quals.len());
            let mut x = plan::fil(
                ids,
                a.id,
                a.inst,
                qual,
                start,
                submit_at,
                fate(rng),
                class_size(rng),
                rng,
            );
            let last = last_allowed_day(start, env.policy).unwrap_or(start);
            if matches!(x.fate, Fate::Approve | Fate::ReturnThenApprove)
                && rng.chance(12)
                && inst.overdue_years.insert(last.year())
            {
                x.overdue = true;
            }
            let (t, h) = book_teacher(
                inst,
                qual,
                start,
                rng,
                ids,
                env.data,
                env.lookup,
                submit_at - Duration::days(3),
                teachers,
            );
            x.teacher_id = t;
            x.session_hour = h;
            out.push(x);
        }
    }
    // Ids follow submission order, as they would (a filing row is written when submitted).
    out.sort_by_key(|x| (x.submit_at, x.id));
    let first_f = out.iter().map(|x| x.id).min().unwrap_or(0);
    let first_p = out.iter().map(|x| x.package_id).min().unwrap_or(0);
    for (k, x) in out.iter_mut().enumerate() {
        x.id = first_f + k as i64;
        x.package_id = first_p + k as i64;
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn scripted(
    a: &Agr,
    insts: &mut [Inst],
    ids: &mut Ids,
    env: &Env<'_>,
    rng: &mut Rng,
    teachers: &mut (
        Vec<teacher::ActiveModel>,
        Vec<teacher_qualification::ActiveModel>,
    ),
    from: NaiveDate,
    out: &mut Vec<Fil>,
) {
    let today = day_of(env.now);
    for sc in script() {
        let start = today + Duration::days(sc.start);
        if !env
            .calendar
            .is_year_loaded((start + Duration::days(CLASS_DAYS)).year())
        {
            continue;
        }
        let Ok(deadline) = env.calendar.filing_deadline(start, env.policy) else {
            continue;
        };
        let submit_at = match sc.submitted {
            Some((days, hour)) => at(today - Duration::days(days), hour, 5),
            None => at(deadline - Duration::days(1), 10, 30),
        };
        let submit_on = day_of(submit_at);
        if submit_on < from || submit_on > deadline || submit_at > env.now {
            continue;
        }
        let inst = &mut insts[a.inst];
        let qual = 0;
        let mut x = plan::fil(
            ids,
            a.id,
            a.inst,
            qual,
            start,
            submit_at,
            sc.fate,
            sc.trainees,
            rng,
        );
        x.review_delay_h = sc.review_h;
        x.resubmit_delay_h = sc.resubmit_h;
        x.train_days = sc.train_days;
        x.no_results = sc.no_results;
        let (t, h) = book_teacher(
            inst,
            qual,
            start,
            rng,
            ids,
            env.data,
            env.lookup,
            submit_at - Duration::days(3),
            teachers,
        );
        x.teacher_id = t;
        x.session_hour = h;
        out.push(x);
    }
}
